package match

import (
	"math"
	"math/rand/v2"
)

// FitHomography fits a homography H, x_b ~ H·x_a in pixel coordinates, to
// the pairs m by RANSAC and returns it with the pairs it explains, in the
// order of m. It is meant for pairs already verified by
// [VerifyFundamental] whose scene is mostly one plane, such as a part on a
// mat.
//
// Each sample of 4 pairs gives a hypothesis by the normalised DLT (H&Z
// §4.4, Algorithm 4.2): the points of each image are normalised by the
// similarity that moves the centroid of all the pairs to the origin and
// their mean distance from it to √2 (H&Z §4.4.4), the 8×9 system A·h = 0
// is solved exactly, and H is denormalised. A sample whose four points do not all map with the
// same sign of the third homogeneous coordinate is dropped: a plane in
// front of both cameras maps every point it shows with a positive depth
// ratio (the oriented constraint; Chum, Werner and Matas, "Epipolar
// geometry estimation via RANSAC benefits from the oriented epipolar
// constraint", ICPR 2004, carried over to homographies). A pair is an
// inlier when its transfer error ‖x_b − H·x_a‖ is at most 2·o.Threshold
// pixels, twice the Sampson threshold since it counts the noise of both
// keypoints, and H·x_a has a positive third coordinate. The number of
// samples adapts to the best inlier ratio (H&Z Algorithm 4.5) as in
// VerifyFundamental, from o.Seed; every new best hypothesis is refitted
// by least squares to its inliers (LO-RANSAC), and the winner is refitted
// until its consensus stops growing. The least-squares DLT weighs every
// inlier alike, and the tolerance lets in points a few pixels off the
// plane, so the winner is last refined on a robust (Cauchy) loss of the
// transfer errors (see refineHomography), and its inliers taken again:
// on rendered pairs where 300 to 500 pairs agree, it takes the error of
// the rotation [PlanarPose] finds from 0.4–0.9° to under 0.1°.
//
// H is scaled to unit Frobenius norm, with the sign that gives H·x_a a
// positive third coordinate at the inliers. ok is false, H zero and
// inliers nil when there are fewer than 4 usable pairs, fewer than
// o.MinInliers agree, or the inliers of either image lie on a line.
func FitHomography(a, b *Features, m []Pair, o *RansacOptions) (H [9]float64, inliers []Pair, ok bool) {
	opt := o.withDefaults()
	pairs, px := gather(a, b, m)
	n := len(pairs)
	if n < 4 || n < opt.MinInliers {
		return H, nil, false
	}
	ta, ok1 := normalizer(px, nil, 0)
	tb, ok2 := normalizer(px, nil, 2)
	if !ok1 || !ok2 {
		return H, nil, false
	}
	nx := make([]float64, len(px))
	for i := 0; i < len(px); i += 4 {
		nx[i] = ta[0]*px[i] + ta[2]
		nx[i+1] = ta[4]*px[i+1] + ta[5]
		nx[i+2] = tb[0]*px[i+2] + tb[2]
		nx[i+3] = tb[4]*px[i+3] + tb[5]
	}
	thr := homographyTolerance(opt.Threshold)
	thr2 := thr * thr

	rng := rand.New(rand.NewPCG(opt.Seed, 0x486f6d6f67726170))
	var (
		idx   [4]int
		hyp   [9]float64
		bestH [9]float64
		best  int
		buf   []int
	)
	need := min(opt.MaxIterations, iterations(opt.MinInliers, n, 4, opt.Confidence))
	for it := 0; it < need; it++ {
		for k := 0; k < len(idx); {
			j := rng.IntN(n)
			dup := false
			for _, q := range idx[:k] {
				dup = dup || q == j
			}
			if !dup {
				idx[k] = j
				k++
			}
		}
		if !minimalHomography(nx, &idx, &ta, &tb, &hyp) {
			continue
		}
		c := countHomography(px, &hyp, thr2, best+1)
		if c <= best {
			continue
		}
		best, bestH = c, hyp
		// Local optimisation: refit to the inliers while that helps.
		for range 3 {
			buf = homographyInliers(px, &bestH, thr2, buf[:0])
			if !fitHomography(px, buf, &hyp) {
				break
			}
			orientHomography(px, buf, &hyp)
			c := countHomography(px, &hyp, thr2, best+1)
			if c <= best {
				break
			}
			best, bestH = c, hyp
		}
		need = min(opt.MaxIterations, iterations(max(best, opt.MinInliers), n, 4, opt.Confidence))
	}
	if best < opt.MinInliers {
		return H, nil, false
	}
	// Final least-squares fit to all inliers, repeated while the
	// consensus grows.
	in := homographyInliers(px, &bestH, thr2, nil)
	for range 5 {
		if !fitHomography(px, in, &hyp) {
			break
		}
		orientHomography(px, in, &hyp)
		next := homographyInliers(px, &hyp, thr2, nil)
		if len(next) < len(in) {
			break
		}
		grew := len(next) > len(in)
		bestH, in = hyp, next
		if !grew {
			break
		}
	}
	// Refine on a robust loss of the transfer error, then take the
	// inliers again.
	if refineHomography(px, in, &bestH) {
		in = homographyInliers(px, &bestH, thr2, nil)
	}
	if len(in) < opt.MinInliers || !spreadOK(px, in, 0, opt.Threshold) || !spreadOK(px, in, 2, opt.Threshold) {
		return H, nil, false
	}
	if f := frobenius(bestH[:]); f > 0 {
		for i := range bestH {
			bestH[i] /= f
		}
	}
	inliers = make([]Pair, len(in))
	for k, i := range in {
		inliers[k] = pairs[i]
	}
	return bestH, inliers, true
}

// refineHomography refines H, x_b ~ H·x_a, on the pairs idx of px by
// Levenberg–Marquardt (H&Z §A6.2) on the Cauchy loss, of scale
// cauchyPixels, of the transfer errors ‖x_b − H·x_a‖ in pixels, the
// one-image error of H&Z §4.2.2 made robust. The loss is minimised by
// reweighting: each iteration solves the weighted normal equations with
// the weights 1/(1 + r²/c²) of the current errors r (Triggs, McLauchlan,
// Hartley and Fitzgibbon, "Bundle adjustment — a modern synthesis", 1999,
// §3.3). See hFit for the parametrisation. It reports false, leaving H,
// when H cannot be so parametrised or nothing improves.
func refineHomography(px []float64, idx []int, H *[9]float64) bool {
	m, h, ok := newHFit(px, idx, H)
	if !ok {
		return false
	}
	cur := m.cost(&h)
	if math.IsInf(cur, 0) {
		return false
	}
	start := cur
	lambda := 1e-3
	for range refineIterations {
		jtj, jtr := m.normal(&h)
		improved := false
		for range 10 {
			A := jtj
			for a := range 8 {
				A[9*a] += lambda * max(jtj[9*a], 1e-12)
			}
			step, ok := solveSPD8(&A, &jtr)
			if !ok {
				lambda *= 10
				continue
			}
			next := h
			for a := range 8 {
				next[a] += step[a]
			}
			if c := m.cost(&next); c < cur {
				converged := cur-c <= 1e-9*cur
				h, cur = next, c
				lambda = max(lambda/10, 1e-12)
				improved = !converged
				break
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	if !(cur < start) {
		return false
	}
	r := m.pixels(&h)
	if !finite(r[:]...) {
		return false
	}
	*H = r
	return true
}

// hFit holds pairs for refining a homography, in the coordinates of
// normalizer: Ĥ = T_b·H·T_a⁻¹ is parametrised by its first eight entries
// with the ninth fixed at 1. That entry is the third coordinate of the
// image of the centroid of the points, which a homography oriented as
// FitHomography's maps in front, so it is positive.
type hFit struct {
	nx       []float64  // xa, ya, xb, yb of each pair, normalised
	ta, tb   [9]float64 // normalising similarities
	toPixels float64    // pixels per normalised unit of image b
}

// newHFit normalises the pairs idx of px and returns Ĥ for H.
func newHFit(px []float64, idx []int, H *[9]float64) (*hFit, [9]float64, bool) {
	var h [9]float64
	if len(idx) < 8 {
		return nil, h, false
	}
	ta, ok1 := normalizer(px, idx, 0)
	tb, ok2 := normalizer(px, idx, 2)
	if !ok1 || !ok2 {
		return nil, h, false
	}
	sa := ta[0]
	tai := [9]float64{1 / sa, 0, -ta[2] / sa, 0, 1 / sa, -ta[5] / sa, 0, 0, 1}
	m := mul3(&tb, H)
	h = mul3(&m, &tai)
	if !(h[8] > 1e-9*frobenius(h[:])) {
		return nil, h, false
	}
	for i := range h {
		h[i] /= h[8]
	}
	f := &hFit{nx: make([]float64, 4*len(idx)), ta: ta, tb: tb, toPixels: 1 / tb[0]}
	for k, i := range idx {
		p := px[4*i : 4*i+4]
		f.nx[4*k] = ta[0]*p[0] + ta[2]
		f.nx[4*k+1] = ta[4]*p[1] + ta[5]
		f.nx[4*k+2] = tb[0]*p[2] + tb[2]
		f.nx[4*k+3] = tb[4]*p[3] + tb[5]
	}
	return f, h, true
}

// pixels returns H = T_b⁻¹·Ĥ·T_a.
func (f *hFit) pixels(h *[9]float64) [9]float64 { return denormalizeH(h, &f.ta, &f.tb) }

// cost is the Cauchy loss of the transfer errors of Ĥ, in pixels², or
// +Inf when a point maps behind.
func (f *hFit) cost(h *[9]float64) float64 {
	const c2 = cauchyPixels * cauchyPixels
	s := 0.0
	for k := 0; k < len(f.nx); k += 4 {
		p := f.nx[k : k+4]
		w := h[6]*p[0] + h[7]*p[1] + 1
		if !(w > 0) {
			return math.Inf(1)
		}
		dx := ((h[0]*p[0]+h[1]*p[1]+h[2])/w - p[2]) * f.toPixels
		dy := ((h[3]*p[0]+h[4]*p[1]+h[5])/w - p[3]) * f.toPixels
		s += c2 * math.Log1p((dx*dx+dy*dy)/c2)
	}
	return s
}

// normal returns the weighted normal equations of the transfer errors at
// Ĥ, JᵀWJ and JᵀWr, in pixels, with the Cauchy weights w = 1/(1 + r²/c²)
// of the errors r.
func (f *hFit) normal(h *[9]float64) (jtj [64]float64, jtr [8]float64) {
	const c2 = cauchyPixels * cauchyPixels
	for k := 0; k < len(f.nx); k += 4 {
		p := f.nx[k : k+4]
		x, y := p[0], p[1]
		w := h[6]*x + h[7]*y + 1
		u := (h[0]*x + h[1]*y + h[2]) / w
		v := (h[3]*x + h[4]*y + h[5]) / w
		dx, dy := (u-p[2])*f.toPixels, (v-p[3])*f.toPixels
		r2 := dx*dx + dy*dy
		wt := 1 / (1 + r2/c2)
		s := f.toPixels / w
		ju := [8]float64{x * s, y * s, s, 0, 0, 0, -u * x * s, -u * y * s}
		jv := [8]float64{0, 0, 0, x * s, y * s, s, -v * x * s, -v * y * s}
		for a := range 8 {
			jtr[a] += wt * (ju[a]*dx + jv[a]*dy)
			for b := a; b < 8; b++ {
				jtj[8*a+b] += wt * (ju[a]*ju[b] + jv[a]*jv[b])
			}
		}
	}
	for a := range 8 {
		for b := range a {
			jtj[8*a+b] = jtj[8*b+a]
		}
	}
	return jtj, jtr
}

// solveSPD8 solves a·p = −g for the symmetric positive definite 8×8
// matrix a (destroyed) by Cholesky decomposition; it reports false when a
// is not positive definite.
func solveSPD8(a *[64]float64, g *[8]float64) ([8]float64, bool) {
	if !cholesky8(a) {
		return [8]float64{}, false
	}
	var b [8]float64
	for i := range b {
		b[i] = -g[i]
	}
	return choleskySolve8(a, &b), true
}

// cholesky8 replaces the lower triangle of the symmetric positive
// definite 8×8 matrix a by its Cholesky factor L, a = L·Lᵀ; it reports
// false when a is not positive definite.
func cholesky8(a *[64]float64) bool {
	const n = 8
	for j := range n {
		d := a[(n+1)*j]
		for k := range j {
			d -= a[n*j+k] * a[n*j+k]
		}
		if !(d > 0) {
			return false
		}
		d = math.Sqrt(d)
		a[(n+1)*j] = d
		for i := j + 1; i < n; i++ {
			s := a[n*i+j]
			for k := range j {
				s -= a[n*i+k] * a[n*j+k]
			}
			a[n*i+j] = s / d
		}
	}
	return true
}

// choleskySolve8 solves L·Lᵀ·p = b for the factor L of cholesky8.
func choleskySolve8(l *[64]float64, b *[8]float64) [8]float64 {
	const n = 8
	var y, p [n]float64
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[n*i+k] * y[k]
		}
		y[i] = s / l[(n+1)*i]
	}
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[n*k+i] * p[k]
		}
		p[i] = s / l[(n+1)*i]
	}
	return p
}

// homographyTolerance is the largest transfer error, in pixels, of a pair
// a homography explains for a Sampson threshold of thr pixels: the
// transfer error counts the noise of both keypoints along both axes, so
// twice thr, as planarTolerance is twice DefaultThreshold.
func homographyTolerance(thr float64) float64 { return 2 * thr }

// minimalHomography fits H exactly to the four pairs idx of the
// normalised coordinates nx (normalised by ta and tb) and returns it in
// pixels, oriented so that the sample maps with positive third
// coordinates. It reports false when the sample is degenerate (three
// points on a line) or its points map with mixed signs.
func minimalHomography(nx []float64, idx *[4]int, ta, tb *[9]float64, H *[9]float64) bool {
	var A [8][9]float64
	for r, i := range idx {
		p := nx[4*i : 4*i+4]
		xa, ya, xb, yb := p[0], p[1], p[2], p[3]
		A[2*r] = [9]float64{0, 0, 0, -xa, -ya, -1, yb * xa, yb * ya, yb}
		A[2*r+1] = [9]float64{xa, ya, 1, 0, 0, 0, -xb * xa, -xb * ya, -xb}
	}
	var h [9]float64
	if !nullVector8(&A, &h) {
		return false
	}
	// The sign of the third coordinate of ĥ·x̂_a is that of H·x_a: the
	// normalising similarities have positive scale.
	pos, neg := 0, 0
	for _, i := range idx {
		p := nx[4*i : 4*i+2]
		if w := h[6]*p[0] + h[7]*p[1] + h[8]; w > 0 {
			pos++
		} else if w < 0 {
			neg++
		}
	}
	switch {
	case neg == 4:
		for i := range h {
			h[i] = -h[i]
		}
	case pos != 4:
		return false
	}
	*H = denormalizeH(&h, ta, tb)
	return finite(H[:]...)
}

// orientHomography flips the sign of H when most of the pairs idx of px
// map with a negative third coordinate.
func orientHomography(px []float64, idx []int, H *[9]float64) {
	s := 0
	for _, i := range idx {
		p := px[4*i : 4*i+2]
		if w := H[6]*p[0] + H[7]*p[1] + H[8]; w > 0 {
			s++
		} else if w < 0 {
			s--
		}
	}
	if s < 0 {
		for i := range H {
			H[i] = -H[i]
		}
	}
}

// transfer2 is the squared transfer error ‖x_b − H·x_a‖² in pixels of the
// pair p (xa, ya, xb, yb), or +Inf when H·x_a has no positive third
// coordinate.
func transfer2(H *[9]float64, p []float64) float64 {
	w := H[6]*p[0] + H[7]*p[1] + H[8]
	if !(w > 0) {
		return math.Inf(1)
	}
	dx := (H[0]*p[0]+H[1]*p[1]+H[2])/w - p[2]
	dy := (H[3]*p[0]+H[4]*p[1]+H[5])/w - p[3]
	return dx*dx + dy*dy
}

// countHomography returns the number of pairs of px within the squared
// transfer error thr2 of H, or any number below atLeast once it is clear
// that H cannot reach atLeast.
func countHomography(px []float64, H *[9]float64, thr2 float64, atLeast int) int {
	n := len(px) / 4
	c := 0
	for i := range n {
		if c+n-i < atLeast {
			return c
		}
		if transfer2(H, px[4*i:4*i+4]) <= thr2 {
			c++
		}
	}
	return c
}

// homographyInliers appends to dst the indices of the pairs of px within
// the squared transfer error thr2 of H.
func homographyInliers(px []float64, H *[9]float64, thr2 float64, dst []int) []int {
	for i := range len(px) / 4 {
		if transfer2(H, px[4*i:4*i+4]) <= thr2 {
			dst = append(dst, i)
		}
	}
	return dst
}

// PlaneMotion is one reading of a calibrated homography H = R + T·Nᵀ: the
// camera motion x_b = R·x_a + t and the plane Nᵀ·x_a = d that together
// map the plane's image in camera a onto its image in camera b.
type PlaneMotion struct {
	// R rotates camera a's frame into camera b's, as in [RelativePose].
	R [9]float64
	// T is the translation t over the distance d of the plane from camera
	// a: its direction is that of t, its length the baseline in units of
	// d.
	T [3]float64
	// N is the plane's unit normal in camera a's frame, pointing away
	// from camera a when the plane lies in front of it (d > 0), so that
	// Nᵀ·m > 0 for the ray m of every point of the plane camera a sees.
	N [3]float64
}

// DecomposeHomography returns the four motions (R, T, N) with Hn ∝ R + T·Nᵀ
// for a calibrated homography Hn = K_b⁻¹·H·K_a (normalised image
// coordinates; H in pixels, K the calibration matrices). The sign of Hn
// must be the one that maps the rays of the plane's points with a
// positive third coordinate, as [FitHomography] returns H; a wrong sign
// gives rotations off by a half turn about the normal.
//
// It is the SVD-based method of Faugeras and Lustman ("Motion and
// structure from motion in a piecewise planar environment", IJPRAI 2(3),
// 1988), in the form of Ma, Soatto, Košecká and Sastry (An Invitation to
// 3-D Vision, Springer 2004, §5.3.3): Hn is scaled so that its middle
// singular value is 1 (that of R + T·Nᵀ is always 1); with HnᵀHn =
// V·diag(σ₁², 1, σ₃²)·Vᵀ, V = (v₁, v₂, v₃) a rotation, the vectors
// u± = (√(1−σ₃²)·v₁ ± √(σ₁²−1)·v₃)/√(σ₁²−σ₃²) and v₂ are the unit vectors
// orthogonal to N that Hn leaves as long as R does, so with U = (v₂, u,
// v₂×u) and W = (Hn·v₂, Hn·u, Hn·v₂×Hn·u), R = W·Uᵀ, N = v₂×u and T =
// (Hn − R)·N. Each of u± gives a solution and its mirror (R, −T, −N).
//
// The visibility constraint (Malis and Vargas, "Deeper understanding of
// the homography decomposition for vision-based control", INRIA RR-6303,
// 2007: every point of the plane seen in camera a has Nᵀ·m_a > 0)
// leaves two; telling those apart needs more knowledge, such as which way
// is up: see [PlanarPose].
//
// When σ₁ = σ₃ the motion is a pure rotation: Hn ∝ R, T = 0 and N is not
// determined; the one solution returned then has T and N zero, and n is
// 1. ok is false when Hn is not finite or has rank below 2.
func DecomposeHomography(Hn [9]float64) (sols [4]PlaneMotion, n int, ok bool) {
	if !finite(Hn[:]...) {
		return sols, 0, false
	}
	hth := mul3Transposed(&Hn)
	var w [3]float64
	var vec [9]float64
	symEigen(hth[:], 3, w[:], vec[:])
	// Increasing eigenvalues: σ₃², σ₂², σ₁².
	if !(w[1] > 1e-12*w[2]) {
		return sols, 0, false
	}
	s := 1 / math.Sqrt(w[1])
	for i := range Hn {
		Hn[i] *= s
	}
	s1, s3 := w[2]/w[1], w[0]/w[1] // σ₁², σ₃² after scaling
	col := func(k int) [3]float64 { return [3]float64{vec[k], vec[3+k], vec[6+k]} }
	v1, v2 := col(2), col(1)
	v3 := cross3(v1, v2)
	c2 := s1 - s3
	if c2 < 1e-12 {
		// Hn is a rotation, to rounding: |T| is about c2/2.
		sols[0].R = nearestRotation(Hn)
		return sols, 1, true
	}
	a, b, c := math.Sqrt(max(0, 1-s3)), math.Sqrt(max(0, s1-1)), math.Sqrt(c2)
	hv2 := mulVec3(&Hn, v2)
	for k, sign := range [2]float64{1, -1} {
		var u [3]float64
		for i := range u {
			u[i] = (a*v1[i] + sign*b*v3[i]) / c
		}
		hu := mulVec3(&Hn, u)
		U := [3][3]float64{v2, u, cross3(v2, u)}
		W := [3][3]float64{hv2, hu, cross3(hv2, hu)}
		var R [9]float64
		for i := range 3 {
			for j := range 3 {
				R[3*i+j] = W[0][i]*U[0][j] + W[1][i]*U[1][j] + W[2][i]*U[2][j]
			}
		}
		N := U[2]
		hn := mulVec3(&Hn, N)
		rn := mulVec3(&R, N)
		T := [3]float64{hn[0] - rn[0], hn[1] - rn[1], hn[2] - rn[2]}
		sols[2*k] = PlaneMotion{R: R, T: T, N: N}
		sols[2*k+1] = PlaneMotion{R: R, T: [3]float64{-T[0], -T[1], -T[2]}, N: [3]float64{-N[0], -N[1], -N[2]}}
	}
	return sols, 4, true
}

// nearestRotation returns U·Vᵀ for M = U·Σ·Vᵀ, the third columns of U and
// V the cross products of the first two so that both are rotations: for
// M of positive determinant, the orthogonal factor of its polar
// decomposition, the rotation nearest to M in the Frobenius norm.
func nearestRotation(M [9]float64) [9]float64 {
	mtm := mul3Transposed(&M)
	var w [3]float64
	var vec [9]float64
	symEigen(mtm[:], 3, w[:], vec[:])
	col := func(k int) [3]float64 { return [3]float64{vec[k], vec[3+k], vec[6+k]} }
	v := [3][3]float64{col(2), col(1), {}}
	v[2] = cross3(v[0], v[1])
	var u [3][3]float64
	for k := range 2 {
		u[k] = mulVec3(&M, v[k])
	}
	// Gram–Schmidt, then the third column by the cross product.
	n0 := norm3(u[0])
	for i := range 3 {
		u[0][i] /= n0
	}
	d := dot3(u[0], u[1])
	for i := range 3 {
		u[1][i] -= d * u[0][i]
	}
	n1 := norm3(u[1])
	for i := range 3 {
		u[1][i] /= n1
	}
	u[2] = cross3(u[0], u[1])
	var R [9]float64
	for i := range 3 {
		for j := range 3 {
			R[3*i+j] = u[0][i]*v[0][j] + u[1][i]*v[1][j] + u[2][i]*v[2][j]
		}
	}
	return R
}

// PlanarPose recovers the motion from camera a to camera b, x_b = R·x_a +
// t in camera coordinates, from pairs of points that lie mostly on one
// plane, where [RelativePose] refuses: the essential matrix is not
// determined by a plane, but the homography it induces is, and so is the
// rotation when the cameras see the plane from one side.
//
// The pairs (typically the inliers of [VerifyFundamental]) are fitted by
// [FitHomography] under default options; its inliers must be a majority.
// The homography is calibrated, Hn = K_b⁻¹·H·K_a, with the focal lengths
// focalA and focalB in pixels and the principal points at the image
// centres (as in RelativePose), and decomposed by [DecomposeHomography].
// Of its four solutions, those that do not put most of the inliers in
// front of both cameras (Nᵀ·m_a > 0 and (R·N)ᵀ·m_b > 0 with the plane at a
// positive distance from both) are dropped. Two usually remain, and the
// one whose plane normal, turned toward camera a, is closest to up is
// kept. up is a direction in camera a's frame that the plane's normal
// roughly follows: for upright photos of a part on a table, the world's
// up, (0, −1, 0) tilted toward −z by the camera's downward pitch e, so
// about (0, −cos e, −sin e). The other solution's normal lies near the
// baseline, which cameras walked around a part keep roughly horizontal,
// near camera a's ±x, so (0, −1, 0) tells the two apart for pitches up to
// about 70° (tested from 25° to 60°); for photos from straight above,
// pass a better hint.
//
// t has unit length and normal is the plane's unit normal in camera a's
// frame on the side camera a sees (−N of the [PlaneMotion]). The
// direction of t and the normal are uncertain when the baseline is short
// next to the distance of the plane; R is not. When the motion is a pure
// rotation, t and normal are zero.
//
// ok is false when the focal lengths are not positive and finite, up is
// zero or not finite, the homography does not fit a majority of the
// pairs, no solution puts the inliers in front of both cameras, or no
// remaining normal makes an angle under 90° with up.
func PlanarPose(a, b *Features, inliers []Pair, focalA, focalB float64, up [3]float64) (R [9]float64, t [3]float64, normal [3]float64, ok bool) {
	if !validFocal(focalA) || !validFocal(focalB) {
		return R, t, normal, false
	}
	pairs, _ := gather(a, b, inliers)
	H, hin, good := FitHomography(a, b, pairs, nil)
	if !good || 2*len(hin) <= len(pairs) {
		return R, t, normal, false
	}
	return planarPose(a, b, H, hin, focalA, focalB, up)
}

// validFocal reports whether f is a usable focal length in pixels.
func validFocal(f float64) bool { return f > 0 && !math.IsInf(f, 0) }

// planarPose decomposes the pixel homography H of the pairs hin, its
// inliers, and chooses a solution as PlanarPose describes.
func planarPose(a, b *Features, H [9]float64, hin []Pair, fa, fb float64, up [3]float64) (R [9]float64, t [3]float64, normal [3]float64, ok bool) {
	nu := norm3(up)
	if !(nu > 0) || !finite(up[:]...) || math.IsInf(nu, 0) {
		return R, t, normal, false
	}
	_, px := gather(a, b, hin)
	n := len(px) / 4
	if n < 4 {
		return R, t, normal, false
	}
	ka := intrinsics(fa, a.Width, a.Height)
	kb := intrinsics(fb, b.Width, b.Height)
	sols, ns, good := DecomposeHomography(calibrate(H, &ka, &kb))
	if !good {
		return R, t, normal, false
	}
	if ns == 1 {
		return sols[0].R, t, normal, true
	}
	rays := make([][2][3]float64, n)
	for i := range n {
		p := px[4*i : 4*i+4]
		rays[i][0] = [3]float64{(p[0] - ka[2]) / fa, (p[1] - ka[5]) / fa, 1}
		rays[i][1] = [3]float64{(p[2] - kb[2]) / fb, (p[3] - kb[5]) / fb, 1}
	}
	best, bestCos := -1, 0.0
	for k := range ns {
		s := &sols[k]
		// The plane's distance from camera b over that from camera a is
		// 1 + (R·N)ᵀ·T, the determinant of R + T·Nᵀ.
		rn := mulVec3(&s.R, s.N)
		if 1+dot3(rn, s.T) <= 0 {
			continue
		}
		front := 0
		for i := range rays {
			if dot3(s.N, rays[i][0]) > 0 && dot3(rn, rays[i][1]) > 0 {
				front++
			}
		}
		if 2*front <= n {
			continue
		}
		// The normal turned toward camera a is −N.
		if c := -dot3(s.N, up) / nu; c > bestCos {
			best, bestCos = k, c
		}
	}
	if best < 0 {
		return R, t, normal, false
	}
	s := &sols[best]
	R = s.R
	if nt := norm3(s.T); nt > 0 {
		t = [3]float64{s.T[0] / nt, s.T[1] / nt, s.T[2] / nt}
	}
	normal = [3]float64{-s.N[0], -s.N[1], -s.N[2]}
	return R, t, normal, true
}

// calibrate returns K_b⁻¹·H·K_a for the calibration matrices ka and kb of
// intrinsics.
func calibrate(H [9]float64, ka, kb *[9]float64) [9]float64 {
	f := kb[0]
	kbi := [9]float64{1 / f, 0, -kb[2] / f, 0, 1 / f, -kb[5] / f, 0, 0, 1}
	m := mul3(&kbi, &H)
	return mul3(&m, ka)
}
