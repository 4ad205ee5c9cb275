package match

import (
	"math"
	"math/rand/v2"
)

// RelativePose recovers the motion from camera a to camera b, x_b = R·x_a
// + t in camera coordinates, from pairs already verified (the inliers of
// [VerifyFundamental]) and the focal lengths of both images in pixels, with
// the principal points at the image centres. t has unit length: two views
// do not fix the scale.
//
// The essential matrix comes from a small RANSAC on normalised image
// coordinates. Its hypotheses are E = K_bᵀ F K_a for F fitted to all pairs
// (H&Z eq. 9.12) and E fitted by the 8-point algorithm to random samples
// of 16 pairs, each replaced by the nearest essential matrix, with
// singular values (1, 1, 0) (H&Z §11.7.3); the best has the least MSAC
// cost, and its inliers are the pairs within DefaultThreshold pixels of
// Sampson distance. F has seven degrees of freedom and E five, so this
// drops the few mismatches that fit F but no camera motion; with short
// baselines they would otherwise tilt t by degrees. E is decomposed into
// its four candidates (R, ±t), R = U·W·Vᵀ or U·Wᵀ·Vᵀ and t = ±u₃ (H&Z
// §9.6.2, Result 9.19); the candidate that triangulates the most inliers
// in front of both cameras is kept and refined by Levenberg–Marquardt on
// their Sampson distances (see refinePose).
//
// ok is false when the focal lengths are not positive and finite, when
// fewer than 8 usable pairs remain, when E explains no more than half of
// them, when no candidate puts a majority of E's inliers in front of both
// cameras, or when one homography maps 90% of the pairs of a onto those of b within 3
// pixels: a scene that is a single plane, a pure rotation, or too little
// parallax does not determine F (H&Z §11.9), so a pose from it would be
// arbitrary. Such pairs still overlap: see [Overlap].
func RelativePose(a, b *Features, inliers []Pair, focalA, focalB float64) (R [9]float64, t [3]float64, ok bool) {
	if !(focalA > 0) || !(focalB > 0) || math.IsInf(focalA, 0) || math.IsInf(focalB, 0) {
		return R, t, false
	}
	_, px := gather(a, b, inliers)
	n := len(px) / 4
	if n < 8 || homographyShare(px) >= planarShare {
		return R, t, false
	}
	ka := intrinsics(focalA, a.Width, a.Height)
	kb := intrinsics(focalB, b.Width, b.Height)
	// Normalised image coordinates of the pairs.
	rays := make([][2][3]float64, n)
	for i := range n {
		p := px[4*i : 4*i+4]
		rays[i][0] = [3]float64{(p[0] - ka[2]) / focalA, (p[1] - ka[5]) / focalA, 1}
		rays[i][1] = [3]float64{(p[2] - kb[2]) / focalB, (p[3] - kb[5]) / focalB, 1}
	}
	var F [9]float64
	if !fitFundamental(px, nil, &F) {
		return R, t, false
	}
	kbt := transpose3(&kb)
	m := mul3(&kbt, &F)
	E := mul3(&m, &ka)
	// E must explain most of the verified pairs: when it does not, the
	// focal lengths are wrong or the pairs are not one rigid motion.
	E, rays, good := essentialRansac(E, rays, focalA, focalB)
	if !good || 2*len(rays) <= n {
		return R, t, false
	}
	n = len(rays)

	u, v, good := essentialSVD(&E)
	if !good {
		return R, t, false
	}
	// R₁ = U·W·Vᵀ and R₂ = U·Wᵀ·Vᵀ with W = [0 −1 0; 1 0 0; 0 0 1]:
	// U·W has columns (u₂, −u₁, u₃), U·Wᵀ has (−u₂, u₁, u₃).
	var r1, r2 [9]float64
	for i := range 3 {
		for j := range 3 {
			r1[3*i+j] = u[1][i]*v[0][j] - u[0][i]*v[1][j] + u[2][i]*v[2][j]
			r2[3*i+j] = -u[1][i]*v[0][j] + u[0][i]*v[1][j] + u[2][i]*v[2][j]
		}
	}
	cands := [4]struct {
		r *[9]float64
		t [3]float64
	}{
		{&r1, u[2]},
		{&r1, [3]float64{-u[2][0], -u[2][1], -u[2][2]}},
		{&r2, u[2]},
		{&r2, [3]float64{-u[2][0], -u[2][1], -u[2][2]}},
	}
	best, bestN := -1, 0
	for c := range cands {
		k := inFront(cands[c].r, cands[c].t, rays)
		if k > bestN {
			best, bestN = c, k
		}
	}
	if best < 0 || 2*bestN <= n {
		return R, t, false
	}
	R, t = *cands[best].r, cands[best].t
	// The linear estimate minimises an algebraic error: refine it on the
	// Sampson distances, and keep the refinement if the points stay in
	// front.
	if r2, t2 := refinePose(R, t, rays, focalA, focalB); 2*inFront(&r2, t2, rays) > n {
		R, t = r2, t2
	}
	return R, t, true
}

// essentialRansac draws poseSamples samples of poseSampleSize pairs. The
// pairs come verified, so few are wrong, and a sample larger than the
// minimal 8 gives a far less noisy E, which matters with short baselines,
// where 8-pair estimates scatter by degrees. With 10% of the pairs wrong,
// a sample is clean with probability 0.18, and 64 samples all miss with
// probability 2·10⁻⁶; with 2% wrong, 0.72 and 10⁻³⁶.
const (
	poseSamples    = 64
	poseSampleSize = 16
)

// essentialRansac chooses, among E0 and the essential matrices fitted to
// samples of the rays, the one of least MSAC cost, refitting each new best
// to its inliers, and returns it with its inliers, the rays within
// DefaultThreshold pixels of Sampson distance. It reports false when the
// best has fewer than 8 inliers.
func essentialRansac(E0 [9]float64, rays [][2][3]float64, fa, fb float64) ([9]float64, [][2][3]float64, bool) {
	n := len(rays)
	const thr2 = DefaultThreshold * DefaultThreshold
	// score is the MSAC cost of E (Torr and Zisserman, "MLESAC", CVIU
	// 2000): the sum over the rays of the squared Sampson distance,
	// capped at the squared threshold. Unlike a count of inliers it
	// prefers, among models that keep the same pairs, the one that fits
	// them best; with a short baseline a count cannot tell the true motion
	// from one tilted to take in a mismatch.
	score := func(E *[9]float64, dst []int) ([]int, float64) {
		dst = dst[:0]
		cost := 0.0
		for i := range rays {
			r := sampsonRays(E, &rays[i], fa, fb)
			if r*r <= thr2 {
				dst = append(dst, i)
				cost += r * r
			} else {
				cost += thr2
			}
		}
		return dst, cost
	}
	var best, in []int
	var bestE [9]float64
	bestCost := math.Inf(1)
	consider := func(E [9]float64) {
		if !projectEssential(&E) {
			return
		}
		var cost float64
		if in, cost = score(&E, in); cost >= bestCost {
			return
		}
		best, bestE, bestCost = append(best[:0], in...), E, cost
		// Local optimisation: refit to the inliers while that helps.
		for range 3 {
			if !fitEssential(rays, best, &E) {
				return
			}
			if in, cost = score(&E, in); cost >= bestCost {
				return
			}
			best, bestE, bestCost = append(best[:0], in...), E, cost
		}
	}
	consider(E0)
	if n > poseSampleSize {
		rng := rand.New(rand.NewPCG(uint64(n), 0x457373))
		perm := make([]int, n)
		for i := range perm {
			perm[i] = i
		}
		for range poseSamples {
			// A partial Fisher–Yates shuffle draws the sample.
			for k := range poseSampleSize {
				j := k + rng.IntN(n-k)
				perm[k], perm[j] = perm[j], perm[k]
			}
			var E [9]float64
			if fitEssential(rays, perm[:poseSampleSize], &E) {
				consider(E)
			}
		}
	}
	if len(best) < 8 {
		return bestE, nil, false
	}
	kept := make([][2][3]float64, len(best))
	for k, i := range best {
		kept[k] = rays[i]
	}
	return bestE, kept, true
}

// epipolarRow is the row of the 8-point system x_bᵀ·E·x_a = 0 for a pair
// of rays, E row-major.
func epipolarRow(ray *[2][3]float64) [9]float64 {
	xa, ya := ray[0][0]/ray[0][2], ray[0][1]/ray[0][2]
	xb, yb := ray[1][0]/ray[1][2], ray[1][1]/ray[1][2]
	return [9]float64{xb * xa, xb * ya, xb, yb * xa, yb * ya, yb, xa, ya, 1}
}

// fitEssential fits E to the rays idx by the 8-point algorithm in the
// least-squares sense, on normalised image coordinates (already of order
// 1, so without further conditioning), and projects it onto the essential
// matrices.
func fitEssential(rays [][2][3]float64, idx []int, E *[9]float64) bool {
	if len(idx) < 8 {
		return false
	}
	var ata [81]float64
	for _, i := range idx {
		r := epipolarRow(&rays[i])
		for u := range 9 {
			ru := r[u]
			row := ata[9*u : 9*u+9]
			for v := u; v < 9; v++ {
				row[v] += ru * r[v]
			}
		}
	}
	for u := range 9 {
		for v := range u {
			ata[9*u+v] = ata[9*v+u]
		}
	}
	var w [9]float64
	var vec [81]float64
	symEigen(ata[:], 9, w[:], vec[:])
	if !(w[1] > 1e-12*w[8]) {
		return false
	}
	for u := range 9 {
		E[u] = vec[9*u]
	}
	return projectEssential(E)
}

// projectEssential replaces E by the nearest matrix with singular values
// (1, 1, 0) (H&Z Result 9.18 and §11.7.3), up to scale.
func projectEssential(E *[9]float64) bool {
	u, v, ok := essentialSVD(E)
	if !ok {
		return false
	}
	for i := range 3 {
		for j := range 3 {
			E[3*i+j] = u[0][i]*v[0][j] + u[1][i]*v[1][j]
		}
	}
	return true
}

// sampsonRays is the signed Sampson distance, in pixels, of a pair of
// rays (normalised image coordinates) to the epipolar geometry E of
// cameras of focal lengths fa and fb: x_bᵀEx_a over the norm of the
// gradient of that form with respect to the four pixel coordinates (H&Z
// eq. 11.9, with F = K_b⁻ᵀ E K_a⁻¹). It is 0 where the gradient vanishes.
func sampsonRays(E *[9]float64, ray *[2][3]float64, fa, fb float64) float64 {
	xa, xb := ray[0], ray[1]
	l := mulVec3(E, xa)
	m0 := E[0]*xb[0] + E[3]*xb[1] + E[6]*xb[2]
	m1 := E[1]*xb[0] + E[4]*xb[1] + E[7]*xb[2]
	d := (l[0]*l[0]+l[1]*l[1])/(fb*fb) + (m0*m0+m1*m1)/(fa*fa)
	if !(d > 0) {
		return 0
	}
	return dot3(xb, l) / math.Sqrt(d)
}

// refineIterations bounds the Levenberg–Marquardt iterations of
// refinePose; it converges in a handful from the linear estimate.
const refineIterations = 30

// cauchyPixels is the scale of the Cauchy loss refinePose minimises,
// ρ(r) = c²·log(1 + r²/c²): quadratic for Sampson distances well under c
// pixels, logarithmic beyond, so that a few wrong inliers pull little.
const cauchyPixels = 1.0

// refinePose minimises over R and t (|t| = 1, five parameters) the Cauchy
// loss of the Sampson distances, in pixels, of the pairs of rays to the
// epipolar geometry E = [t]×R, by Levenberg–Marquardt (H&Z §A6.2) with a
// numerical Jacobian. R is updated as exp([ω]×)·R, t within the plane
// orthogonal to it and renormalised. This is the Sampson-error refinement
// of H&Z §11.4.3 restricted to calibrated cameras.
func refinePose(R [9]float64, t [3]float64, rays [][2][3]float64, fa, fb float64) ([9]float64, [3]float64) {
	n := len(rays)
	res := make([]float64, n)
	trial := make([]float64, n)
	jac := make([]float64, 5*n)
	residuals := func(R *[9]float64, t [3]float64, out []float64) float64 {
		tx := [9]float64{0, -t[2], t[1], t[2], 0, -t[0], -t[1], t[0], 0}
		E := mul3(&tx, R)
		cost := 0.0
		for i := range rays {
			r := sampsonRays(&E, &rays[i], fa, fb)
			// Cauchy loss as a transformed residual: ρ(r) = r̃².
			r = math.Copysign(cauchyPixels*math.Sqrt(math.Log1p(r*r/(cauchyPixels*cauchyPixels))), r)
			out[i] = r
			cost += r * r
		}
		return cost
	}
	// update applies the step p = (ω, α, β) to (R, t).
	update := func(R [9]float64, t [3]float64, p *[5]float64) ([9]float64, [3]float64) {
		dR := rodrigues([3]float64{p[0], p[1], p[2]})
		R = mul3(&dR, &R)
		b1, b2 := orthonormal(t)
		for i := range t {
			t[i] += p[3]*b1[i] + p[4]*b2[i]
		}
		nt := norm3(t)
		for i := range t {
			t[i] /= nt
		}
		return R, t
	}
	cost := residuals(&R, t, res)
	lambda := 1e-3
	for range refineIterations {
		// Forward differences: the parameters are angles of order 1e-2.
		const h = 1e-7
		for k := range 5 {
			var p [5]float64
			p[k] = h
			rk, tk := update(R, t, &p)
			residuals(&rk, tk, trial)
			for i := range n {
				jac[5*i+k] = (trial[i] - res[i]) / h
			}
		}
		var jtj [25]float64
		var jtr [5]float64
		for i := range n {
			row := jac[5*i : 5*i+5]
			for u := range 5 {
				jtr[u] += row[u] * res[i]
				for v := range 5 {
					jtj[5*u+v] += row[u] * row[v]
				}
			}
		}
		improved := false
		for range 10 {
			a := jtj
			for u := range 5 {
				a[6*u] += lambda * max(jtj[6*u], 1e-12)
			}
			p, ok := solve5(&a, &jtr)
			if !ok {
				lambda *= 10
				continue
			}
			r2, t2 := update(R, t, &p)
			if c := residuals(&r2, t2, trial); c < cost {
				converged := cost-c <= 1e-12*cost
				R, t, cost = r2, t2, c
				res, trial = trial, res
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
	return R, t
}

// rodrigues is the rotation matrix exp([w]×) of the rotation vector w.
func rodrigues(w [3]float64) [9]float64 {
	theta := norm3(w)
	if theta < 1e-300 {
		return [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
	}
	k := [3]float64{w[0] / theta, w[1] / theta, w[2] / theta}
	s, c := math.Sincos(theta)
	C := 1 - c
	return [9]float64{
		c + k[0]*k[0]*C, k[0]*k[1]*C - k[2]*s, k[0]*k[2]*C + k[1]*s,
		k[1]*k[0]*C + k[2]*s, c + k[1]*k[1]*C, k[1]*k[2]*C - k[0]*s,
		k[2]*k[0]*C - k[1]*s, k[2]*k[1]*C + k[0]*s, c + k[2]*k[2]*C,
	}
}

// orthonormal returns two unit vectors orthogonal to the unit vector t and
// to each other.
func orthonormal(t [3]float64) ([3]float64, [3]float64) {
	// Cross t with the axis it is least aligned with.
	axis := [3]float64{1, 0, 0}
	if math.Abs(t[1]) < math.Abs(t[0]) && math.Abs(t[1]) <= math.Abs(t[2]) {
		axis = [3]float64{0, 1, 0}
	} else if math.Abs(t[2]) < math.Abs(t[0]) {
		axis = [3]float64{0, 0, 1}
	}
	b1 := cross3(t, axis)
	n := norm3(b1)
	for i := range b1 {
		b1[i] /= n
	}
	return b1, cross3(t, b1)
}

// solve5 solves a·p = −g for the symmetric positive definite 5×5 matrix a
// (destroyed) by Cholesky decomposition; it reports false when a is not
// positive definite.
func solve5(a *[25]float64, g *[5]float64) ([5]float64, bool) {
	var p [5]float64
	for j := range 5 {
		d := a[6*j]
		for k := range j {
			d -= a[5*j+k] * a[5*j+k]
		}
		if !(d > 0) {
			return p, false
		}
		d = math.Sqrt(d)
		a[6*j] = d
		for i := j + 1; i < 5; i++ {
			s := a[5*i+j]
			for k := range j {
				s -= a[5*i+k] * a[5*j+k]
			}
			a[5*i+j] = s / d
		}
	}
	// L·y = −g, then Lᵀ·p = y.
	var y [5]float64
	for i := range 5 {
		s := -g[i]
		for k := range i {
			s -= a[5*i+k] * y[k]
		}
		y[i] = s / a[6*i]
	}
	for i := 4; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < 5; k++ {
			s -= a[5*k+i] * p[k]
		}
		p[i] = s / a[6*i]
	}
	return p, true
}

// intrinsics is the calibration matrix with focal length f pixels and the
// principal point at the centre of a w×h image.
func intrinsics(f float64, w, h int) [9]float64 {
	return [9]float64{f, 0, float64(w-1) / 2, 0, f, float64(h-1) / 2, 0, 0, 1}
}

// essentialSVD returns U and V of E = U·diag(σ₁, σ₂, 0)·Vᵀ as columns u[k],
// v[k], both proper rotations. V comes from the eigenvectors of EᵀE, U
// from u_k = E·v_k/σ_k; the third columns are cross products, which also
// projects E onto the essential matrices. It reports false when E has
// rank below 2.
func essentialSVD(E *[9]float64) (u, v [3][3]float64, ok bool) {
	ete := mul3Transposed(E)
	var w [3]float64
	var vec [9]float64
	symEigen(ete[:], 3, w[:], vec[:])
	// Increasing eigenvalues: the largest singular value is column 2.
	col := func(k int) [3]float64 { return [3]float64{vec[k], vec[3+k], vec[6+k]} }
	v[0], v[1] = col(2), col(1)
	if !(w[1] > 1e-12*w[2]) {
		return u, v, false
	}
	v[2] = cross3(v[0], v[1])
	u[0] = mulVec3(E, v[0])
	u[1] = mulVec3(E, v[1])
	n0 := norm3(u[0])
	if !(n0 > 0) {
		return u, v, false
	}
	for i := range 3 {
		u[0][i] /= n0
	}
	// Gram–Schmidt against rounding.
	d := dot3(u[0], u[1])
	for i := range 3 {
		u[1][i] -= d * u[0][i]
	}
	n1 := norm3(u[1])
	if !(n1 > 0) {
		return u, v, false
	}
	for i := range 3 {
		u[1][i] /= n1
	}
	u[2] = cross3(u[0], u[1])
	return u, v, true
}

// inFront counts the pairs of rays that triangulate in front of both
// cameras for the motion (R, t). Each pair gives depths z_a, z_b with
// z_b·x_b ≈ z_a·R·x_a + t in the least-squares sense (the midpoint of the
// common perpendicular); rays too close to parallel to tell are counted
// as neither.
func inFront(R *[9]float64, t [3]float64, rays [][2][3]float64) int {
	k := 0
	for i := range rays {
		a := mulVec3(R, rays[i][0])
		b := rays[i][1]
		aa, bb, ab := dot3(a, a), dot3(b, b), dot3(a, b)
		at, bt := dot3(a, t), dot3(b, t)
		den := aa*bb - ab*ab
		if den <= 1e-12*aa*bb {
			continue
		}
		// Normal equations of z_a·a − z_b·b = −t.
		za := (ab*bt - bb*at) / den
		zb := (aa*bt - ab*at) / den
		if za > 0 && zb > 0 {
			k++
		}
	}
	return k
}

// RotationAngleAxis returns the angle, in [0, π], and the unit axis of the
// rotation matrix R (row-major), following the right-hand rule. For a
// rotation by less than 1e-12 rad the axis is undefined and returned as
// zero. R is assumed orthonormal.
func RotationAngleAxis(R [9]float64) (angleRad float64, axis [3]float64) {
	// The skew-symmetric part of R is sin θ·[axis]×.
	w := [3]float64{R[7] - R[5], R[2] - R[6], R[3] - R[1]}
	s := norm3(w) / 2
	c := (R[0] + R[4] + R[8] - 1) / 2
	angleRad = math.Atan2(s, c)
	if angleRad < 1e-12 {
		return 0, [3]float64{}
	}
	if c > -0.9 {
		return angleRad, [3]float64{w[0] / (2 * s), w[1] / (2 * s), w[2] / (2 * s)}
	}
	// Near π the skew part vanishes; (R + Rᵀ)/2 − cos θ·I = (1 − cos θ)·axis·axisᵀ
	// has the axis as its columns, up to sign.
	var b [9]float64
	for i := range 3 {
		for j := range 3 {
			b[3*i+j] = (R[3*i+j] + R[3*j+i]) / 2
		}
		b[4*i] -= c
	}
	k := 0
	for i := 1; i < 3; i++ {
		if b[4*i] > b[4*k] {
			k = i
		}
	}
	axis = [3]float64{b[k], b[3+k], b[6+k]}
	n := norm3(axis)
	if !(n > 0) {
		return angleRad, [3]float64{}
	}
	if dot3(axis, w) < 0 {
		n = -n
	}
	for i := range axis {
		axis[i] /= n
	}
	return angleRad, axis
}

// planarShare is the share of the pairs a homography must explain for
// RelativePose to refuse them as lacking parallax.
const planarShare = 0.9

// planarTolerance is the transfer error, in pixels, within which a
// homography explains a pair: twice DefaultThreshold, since the error
// counts the noise of both keypoints along both axes.
const planarTolerance = 2 * DefaultThreshold

// homographyShare is the share of the pairs px (xa, ya, xb, yb each) that
// one homography maps from a to b within planarTolerance pixels. It draws
// homographySamples samples of 4 pairs, fits each exactly by the
// normalised DLT (H&Z Algorithm 4.2), refits the best by least squares to
// the pairs it explains, and returns the largest share found. If some
// homography explains a share s of the pairs, a sample misses it with
// probability (1 − s⁴)^homographySamples: under 10⁻⁹ for s = 0.9.
func homographyShare(px []float64) float64 {
	n := len(px) / 4
	if n < 4 {
		return 0
	}
	ta, ok1 := normalizer(px, nil, 0)
	tb, ok2 := normalizer(px, nil, 2)
	if !ok1 || !ok2 {
		return 0
	}
	count := func(H *[9]float64, dst []int) []int {
		dst = dst[:0]
		for i := range n {
			p := px[4*i : 4*i+4]
			q := mulVec3(H, [3]float64{p[0], p[1], 1})
			if q[2] != 0 && math.Hypot(q[0]/q[2]-p[2], q[1]/q[2]-p[3]) <= planarTolerance {
				dst = append(dst, i)
			}
		}
		return dst
	}
	rng := rand.New(rand.NewPCG(uint64(n), 0x486f6d6f))
	var best, in []int
	var H [9]float64
	for range homographySamples {
		var idx [4]int
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
		var A [8][9]float64
		for r, i := range idx {
			p := px[4*i : 4*i+4]
			xa, ya := ta[0]*p[0]+ta[2], ta[4]*p[1]+ta[5]
			xb, yb := tb[0]*p[2]+tb[2], tb[4]*p[3]+tb[5]
			A[2*r] = [9]float64{0, 0, 0, -xa, -ya, -1, yb * xa, yb * ya, yb}
			A[2*r+1] = [9]float64{xa, ya, 1, 0, 0, 0, -xb * xa, -xb * ya, -xb}
		}
		var h [9]float64
		if !nullVector8(&A, &h) {
			continue
		}
		H = denormalizeH(&h, &ta, &tb)
		if in = count(&H, in); len(in) > len(best) {
			best = append(best[:0], in...)
		}
	}
	if len(best) >= 4 && fitHomography(px, best, &H) {
		if in = count(&H, in); len(in) > len(best) {
			best = in
		}
	}
	return float64(len(best)) / float64(n)
}

// homographySamples is the number of 4-pair samples homographyShare draws.
const homographySamples = 50

// fitHomography fits H, x_b ~ H·x_a, to the pairs idx of px (all pairs
// when idx is nil) by the normalised DLT: each pair gives two rows of
// A·h = 0, h is the eigenvector of AᵀA with the smallest eigenvalue, and
// H = T_b⁻¹·Ĥ·T_a.
func fitHomography(px []float64, idx []int, H *[9]float64) bool {
	n := len(px) / 4
	if idx != nil {
		n = len(idx)
	}
	if n < 4 {
		return false
	}
	ta, ok1 := normalizer(px, idx, 0)
	tb, ok2 := normalizer(px, idx, 2)
	if !ok1 || !ok2 {
		return false
	}
	var ata [81]float64
	add := func(r *[9]float64) {
		for u := range 9 {
			ru := r[u]
			row := ata[9*u : 9*u+9]
			for v := u; v < 9; v++ {
				row[v] += ru * r[v]
			}
		}
	}
	for k := range n {
		i := k
		if idx != nil {
			i = idx[k]
		}
		p := px[4*i : 4*i+4]
		xa, ya := ta[0]*p[0]+ta[2], ta[4]*p[1]+ta[5]
		xb, yb := tb[0]*p[2]+tb[2], tb[4]*p[3]+tb[5]
		add(&[9]float64{0, 0, 0, -xa, -ya, -1, yb * xa, yb * ya, yb})
		add(&[9]float64{xa, ya, 1, 0, 0, 0, -xb * xa, -xb * ya, -xb})
	}
	for u := range 9 {
		for v := range u {
			ata[9*u+v] = ata[9*v+u]
		}
	}
	var w [9]float64
	var vec [81]float64
	symEigen(ata[:], 9, w[:], vec[:])
	if !(w[1] > 1e-12*w[8]) {
		return false
	}
	var h [9]float64
	for u := range 9 {
		h[u] = vec[9*u]
	}
	*H = denormalizeH(&h, &ta, &tb)
	return finite(H[:]...)
}

// denormalizeH returns T_b⁻¹·Ĥ·T_a, for the similarities T = [s 0 −s·cx;
// 0 s −s·cy; 0 0 1] of normalizer.
func denormalizeH(h, ta, tb *[9]float64) [9]float64 {
	s := tb[0]
	tbi := [9]float64{1 / s, 0, -tb[2] / s, 0, 1 / s, -tb[5] / s, 0, 0, 1}
	m := mul3(&tbi, h)
	return mul3(&m, ta)
}
