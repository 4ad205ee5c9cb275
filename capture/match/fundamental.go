package match

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Defaults for [RansacOptions].
const (
	// DefaultThreshold is the largest Sampson distance, in pixels, of an
	// inlier. At the working resolution (about 1024 pixels on the long
	// side) ORB keypoints of the finest levels are good to about half a
	// pixel; H&Z §4.7.1 take t² = 3.84σ² for a 95% inlier rate, which is
	// 1.5 px for σ ≈ 0.75 px, leaving room for the coarser levels.
	DefaultThreshold = 1.5
	// DefaultConfidence is the probability that RANSAC draws at least one
	// all-inlier sample before it stops (p in H&Z Algorithm 4.5).
	DefaultConfidence = 0.999
	// DefaultMaxIterations caps the samples drawn. At 0.999 confidence it
	// still finds a model when 44% of the pairs are inliers.
	DefaultMaxIterations = 5000
	// DefaultMinInliers is the fewest inliers of an accepted fundamental
	// matrix: 8 pairs always fit one exactly, so an acceptance needs
	// redundancy.
	DefaultMinInliers = 15
)

// RansacOptions tunes [VerifyFundamental] and [FitHomography]. A nil *RansacOptions means all
// defaults; a zero or negative field means that field's default, except
// Seed, where zero is a seed like any other.
type RansacOptions struct {
	// Threshold is the largest Sampson distance of an inlier, in pixels
	// (DefaultThreshold).
	Threshold float64
	// Confidence is the probability, below 1, of having drawn an
	// all-inlier sample when the adaptive loop stops (DefaultConfidence).
	Confidence float64
	// MaxIterations caps the number of samples (DefaultMaxIterations).
	MaxIterations int
	// MinInliers is the fewest inliers, at least 8, for ok
	// (DefaultMinInliers).
	MinInliers int
	// Seed seeds the sampling; the same inputs and Seed give the same
	// result.
	Seed uint64
}

func (o *RansacOptions) withDefaults() RansacOptions {
	var r RansacOptions
	if o != nil {
		r = *o
	}
	if !(r.Threshold > 0) || math.IsInf(r.Threshold, 0) {
		r.Threshold = DefaultThreshold
	}
	if !(r.Confidence > 0 && r.Confidence < 1) {
		r.Confidence = DefaultConfidence
	}
	if r.MaxIterations <= 0 {
		r.MaxIterations = DefaultMaxIterations
	}
	if r.MinInliers <= 0 {
		r.MinInliers = DefaultMinInliers
	}
	r.MinInliers = max(r.MinInliers, 8)
	return r
}

// VerifyFundamental fits a fundamental matrix F (x_bᵀ F x_a = 0, pixel
// coordinates) to the pairs m by RANSAC and returns it with the pairs it
// explains, in the order of m.
//
// Each sample of 8 pairs gives a hypothesis by the normalised 8-point
// algorithm with the rank-2 constraint (H&Z Algorithm 11.1); a pair is an
// inlier when its Sampson distance (H&Z §11.4.3) is at most o.Threshold
// pixels; the number of samples adapts to the best inlier ratio so far,
// counted as at least o.MinInliers (H&Z Algorithm 4.5), and stops at
// o.MaxIterations. Every new best hypothesis is refitted by least
// squares to its inliers (LO-RANSAC), and the winner is refitted to all
// its inliers until their number stops growing.
//
// ok is false, F zero and inliers nil when there are fewer than 8 usable
// pairs, when no sample gives a hypothesis, when fewer than o.MinInliers
// pairs agree, or when the inliers of either image lie on a line (their
// smaller principal standard deviation is under twice the threshold), a
// configuration that does not determine F. Pairs whose indices are out of
// range are ignored.
func VerifyFundamental(a, b *Features, m []Pair, o *RansacOptions) (F [9]float64, inliers []Pair, ok bool) {
	opt := o.withDefaults()
	pairs, px := gather(a, b, m)
	n := len(pairs)
	if n < 8 || n < opt.MinInliers {
		return F, nil, false
	}
	e, good := newFEstimator(px, opt.Threshold)
	if !good {
		return F, nil, false
	}

	rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
	var (
		idx   [8]int
		hyp   [9]float64
		bestF [9]float64
		best  int
		buf   []int
	)
	// The number of samples adapts to the best inlier ratio so far (H&Z
	// Algorithm 4.5). Until a hypothesis reaches MinInliers, the bound is
	// the one for a model with MinInliers inliers: had there been one,
	// RANSAC would have drawn an all-inlier sample of it by then with
	// probability Confidence. Pairs that share no geometry stop early.
	need := min(opt.MaxIterations, iterations(opt.MinInliers, n, 8, opt.Confidence))
	ps := newProsac(pairs, opt.MaxIterations)
	for it := 0; it < need; it++ {
		ps.sample(rng, &idx)
		if !e.minimal(&idx, &hyp) {
			continue
		}
		c := e.count(&hyp, best+1)
		if c <= best {
			continue
		}
		best, bestF = c, hyp
		// Local optimisation: refit to the inliers while that helps.
		for range 3 {
			buf = e.inliers(&bestF, buf[:0])
			if !e.fit(buf, &hyp) {
				break
			}
			c := e.count(&hyp, best+1)
			if c <= best {
				break
			}
			best, bestF = c, hyp
		}
		need = min(opt.MaxIterations, iterations(max(best, opt.MinInliers), n, 8, opt.Confidence))
	}
	if best < opt.MinInliers {
		return [9]float64{}, nil, false
	}

	// Final least-squares fit to all inliers (H&Z Algorithm 11.1 on the
	// consensus set), repeated while the consensus grows.
	in := e.inliers(&bestF, nil)
	for range 5 {
		if !e.fit(in, &hyp) {
			break
		}
		next := e.inliers(&hyp, nil)
		if len(next) < len(in) {
			break
		}
		grew := len(next) > len(in)
		bestF, in = hyp, next
		if !grew {
			break
		}
	}
	if len(in) < opt.MinInliers || !spreadOK(px, in, 0, opt.Threshold) || !spreadOK(px, in, 2, opt.Threshold) {
		return [9]float64{}, nil, false
	}
	normalizeSign(&bestF)
	inliers = make([]Pair, len(in))
	for k, i := range in {
		inliers[k] = pairs[i]
	}
	return bestF, inliers, true
}

// gather keeps the pairs of m whose indices are in range and whose
// keypoints have finite coordinates, and returns them with their
// coordinates, four per pair: xa, ya, xb, yb.
func gather(a, b *Features, m []Pair) ([]Pair, []float64) {
	if a == nil || b == nil {
		return nil, nil
	}
	pairs := make([]Pair, 0, len(m))
	px := make([]float64, 0, 4*len(m))
	for _, p := range m {
		if p.A < 0 || p.A >= len(a.Keypoints) || p.B < 0 || p.B >= len(b.Keypoints) {
			continue
		}
		ka, kb := &a.Keypoints[p.A], &b.Keypoints[p.B]
		if !finite(ka.X, ka.Y, kb.X, kb.Y) {
			continue
		}
		pairs = append(pairs, p)
		px = append(px, ka.X, ka.Y, kb.X, kb.Y)
	}
	return pairs, px
}

func finite(v ...float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// prosac draws the samples of VerifyFundamental progressively (PROSAC,
// Chum & Matas 2005): pairs are ranked by descriptor distance, and the
// first samples come from the few best-ranked pairs, the set growing
// until samples come from all of them. Correct matches tend to have the
// smaller distances, so a pair whose matches are mostly wrong (a weak
// overlap: 20 correct among 160) is found in hundreds of samples instead
// of the millions uniform sampling would need. The growth follows the
// paper: T_n = T_N·C(n, 8)/C(N, 8), the n-th best pair joins at sample
// T′_n, with T_N = prosacSpan × MaxIterations so that by the last
// sample nearly all pairs take part.
type prosac struct {
	order   []int   // pair indices, best first
	n       int     // size of the current top set
	tn      float64 // T_n
	tnPrime float64 // T′_n
	drawn   int
}

// prosacSpan sets T_N, the sample count after which PROSAC draws
// uniformly, as a multiple of MaxIterations.
const prosacSpan = 4

func newProsac(pairs []Pair, maxIter int) *prosac {
	p := &prosac{order: make([]int, len(pairs)), n: 8, tnPrime: 1}
	for i := range p.order {
		p.order[i] = i
	}
	slices.SortStableFunc(p.order, func(i, j int) int { return cmp.Compare(pairs[i].Distance, pairs[j].Distance) })
	N := len(pairs)
	p.tn = float64(prosacSpan) * float64(maxIter)
	for i := range 8 {
		p.tn *= float64(8-i) / float64(N-i)
	}
	return p
}

// sample fills idx with 8 distinct pair indices: the newest pair of the
// top set and 7 others from it, or 8 from all pairs once the set holds
// them all.
func (p *prosac) sample(rng *rand.Rand, idx *[8]int) {
	p.drawn++
	N := len(p.order)
	for float64(p.drawn) >= p.tnPrime && p.n < N {
		next := p.tn * float64(p.n+1) / float64(p.n+1-8)
		p.tnPrime += math.Ceil(next - p.tn)
		p.tn = next
		p.n++
	}
	k, pool := 0, p.n
	if p.n < N {
		idx[0] = p.order[p.n-1]
		k, pool = 1, p.n-1
	}
	for k < len(idx) {
		j := p.order[rng.IntN(pool)]
		dup := false
		for _, q := range idx[:k] {
			dup = dup || q == j
		}
		if !dup {
			idx[k] = j
			k++
		}
	}
}

// iterations is the number of samples of size s needed to draw one
// all-inlier sample with probability conf when inliers of n pairs are
// inliers (H&Z eq. 4.18: N = log(1−p) / log(1−wˢ)).
func iterations(inliers, n, s int, conf float64) int {
	w := float64(inliers) / float64(n)
	ws := math.Pow(w, float64(s))
	if ws >= 1 {
		return 1
	}
	if ws <= 0 {
		return math.MaxInt
	}
	k := math.Log(1-conf) / math.Log1p(-ws)
	if k >= math.MaxInt32 {
		return math.MaxInt32
	}
	return max(1, int(math.Ceil(k)))
}

// fEstimator holds the pairs of one VerifyFundamental call.
type fEstimator struct {
	px     []float64  // pixel coordinates, xa, ya, xb, yb per pair
	nx     []float64  // the same, normalised
	ta, tb [9]float64 // normalising similarities of image a and b
	thr2   float64    // squared threshold, pixels²
}

func newFEstimator(px []float64, thr float64) (*fEstimator, bool) {
	e := &fEstimator{px: px, thr2: thr * thr, nx: make([]float64, len(px))}
	var ok1, ok2 bool
	e.ta, ok1 = normalizer(px, nil, 0)
	e.tb, ok2 = normalizer(px, nil, 2)
	if !ok1 || !ok2 {
		return nil, false
	}
	for i := 0; i < len(px); i += 4 {
		e.nx[i] = e.ta[0]*px[i] + e.ta[2]
		e.nx[i+1] = e.ta[4]*px[i+1] + e.ta[5]
		e.nx[i+2] = e.tb[0]*px[i+2] + e.tb[2]
		e.nx[i+3] = e.tb[4]*px[i+3] + e.tb[5]
	}
	return e, true
}

// normalizer returns the similarity that moves the centroid of the points
// (px[4i+off], px[4i+off+1]), for i in idx or for all pairs when idx is
// nil, to the origin and scales their mean distance from it to √2
// (H&Z §4.4.4). It reports false when the points coincide.
func normalizer(px []float64, idx []int, off int) ([9]float64, bool) {
	n := len(px) / 4
	if idx != nil {
		n = len(idx)
	}
	at := func(k int) (float64, float64) {
		i := k
		if idx != nil {
			i = idx[k]
		}
		return px[4*i+off], px[4*i+off+1]
	}
	var cx, cy float64
	for k := range n {
		x, y := at(k)
		cx += x
		cy += y
	}
	cx /= float64(n)
	cy /= float64(n)
	d := 0.0
	for k := range n {
		x, y := at(k)
		d += math.Hypot(x-cx, y-cy)
	}
	d /= float64(n)
	if !(d > 1e-9) || math.IsInf(d, 0) {
		return [9]float64{}, false
	}
	s := math.Sqrt2 / d
	return [9]float64{s, 0, -s * cx, 0, s, -s * cy, 0, 0, 1}, true
}

// minimal fits F to the eight pairs idx by the normalised 8-point
// algorithm, with the rank-2 constraint enforced in normalised
// coordinates, and returns it in pixel coordinates.
func (e *fEstimator) minimal(idx *[8]int, F *[9]float64) bool {
	var A [8][9]float64
	for r, i := range idx {
		p := e.nx[4*i : 4*i+4]
		xa, ya, xb, yb := p[0], p[1], p[2], p[3]
		A[r] = [9]float64{xb * xa, xb * ya, xb, yb * xa, yb * ya, yb, xa, ya, 1}
	}
	var f [9]float64
	if !nullVector8(&A, &f) {
		return false
	}
	rank2(&f)
	*F = denormalize(&f, &e.ta, &e.tb)
	return true
}

// fit fits F to the pairs idx (at least 8) by the normalised 8-point
// algorithm in the least-squares sense: the normalisation is that of the
// pairs themselves, the solution the eigenvector of AᵀA with the smallest
// eigenvalue.
func (e *fEstimator) fit(idx []int, F *[9]float64) bool {
	return fitFundamental(e.px, idx, F)
}

// fitFundamental is the least-squares normalised 8-point algorithm on the
// pairs idx of px (all pairs when idx is nil).
func fitFundamental(px []float64, idx []int, F *[9]float64) bool {
	n := len(px) / 4
	if idx != nil {
		n = len(idx)
	}
	if n < 8 {
		return false
	}
	ta, ok1 := normalizer(px, idx, 0)
	tb, ok2 := normalizer(px, idx, 2)
	if !ok1 || !ok2 {
		return false
	}
	var ata [81]float64
	for k := range n {
		i := k
		if idx != nil {
			i = idx[k]
		}
		p := px[4*i : 4*i+4]
		xa, ya := ta[0]*p[0]+ta[2], ta[4]*p[1]+ta[5]
		xb, yb := tb[0]*p[2]+tb[2], tb[4]*p[3]+tb[5]
		r := [9]float64{xb * xa, xb * ya, xb, yb * xa, yb * ya, yb, xa, ya, 1}
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
	// A second zero eigenvalue means the pairs do not determine F.
	if !(w[1] > 1e-12*w[8]) {
		return false
	}
	var f [9]float64
	for u := range 9 {
		f[u] = vec[9*u]
	}
	rank2(&f)
	*F = denormalize(&f, &ta, &tb)
	return finite(F[:]...)
}

// denormalize returns T_bᵀ·F̂·T_a scaled to unit Frobenius norm.
func denormalize(f, ta, tb *[9]float64) [9]float64 {
	tbt := transpose3(tb)
	m := mul3(&tbt, f)
	F := mul3(&m, ta)
	if n := frobenius(F[:]); n > 0 {
		for i := range F {
			F[i] /= n
		}
	}
	return F
}

// normalizeSign makes the largest entry of F positive, so that equal
// solutions print the same.
func normalizeSign(F *[9]float64) {
	m := 0
	for i := range F {
		if math.Abs(F[i]) > math.Abs(F[m]) {
			m = i
		}
	}
	if F[m] < 0 {
		for i := range F {
			F[i] = -F[i]
		}
	}
}

// sampson2 is the squared Sampson distance of the pair (xa, ya) ↔ (xb, yb)
// to F (H&Z eq. 11.9): (x_bᵀFx_a)² / ((Fx_a)₁² + (Fx_a)₂² + (Fᵀx_b)₁² + (Fᵀx_b)₂²).
func sampson2(F *[9]float64, xa, ya, xb, yb float64) float64 {
	l0 := F[0]*xa + F[1]*ya + F[2]
	l1 := F[3]*xa + F[4]*ya + F[5]
	l2 := F[6]*xa + F[7]*ya + F[8]
	m0 := F[0]*xb + F[3]*yb + F[6]
	m1 := F[1]*xb + F[4]*yb + F[7]
	r := xb*l0 + yb*l1 + l2
	d := l0*l0 + l1*l1 + m0*m0 + m1*m1
	if d == 0 {
		return math.Inf(1)
	}
	return r * r / d
}

// count returns the number of inliers of F, or any number below atLeast
// once it is clear that F cannot reach atLeast.
func (e *fEstimator) count(F *[9]float64, atLeast int) int {
	px := e.px
	n := len(px) / 4
	c := 0
	thr2 := e.thr2
	for i := range n {
		if c+n-i < atLeast {
			return c
		}
		p := px[4*i : 4*i+4]
		l0 := F[0]*p[0] + F[1]*p[1] + F[2]
		l1 := F[3]*p[0] + F[4]*p[1] + F[5]
		l2 := F[6]*p[0] + F[7]*p[1] + F[8]
		m0 := F[0]*p[2] + F[3]*p[3] + F[6]
		m1 := F[1]*p[2] + F[4]*p[3] + F[7]
		r := p[2]*l0 + p[3]*l1 + l2
		if d := l0*l0 + l1*l1 + m0*m0 + m1*m1; d > 0 && r*r <= thr2*d {
			c++
		}
	}
	return c
}

// inliers appends to dst the indices of the inliers of F.
func (e *fEstimator) inliers(F *[9]float64, dst []int) []int {
	for i := range len(e.px) / 4 {
		p := e.px[4*i : 4*i+4]
		if sampson2(F, p[0], p[1], p[2], p[3]) <= e.thr2 {
			dst = append(dst, i)
		}
	}
	return dst
}

// spreadOK reports whether the points (px[4i+off], px[4i+off+1]), i in
// idx, spread across a line by more than twice the threshold: the smaller
// principal standard deviation of the points, the square root of the
// smaller eigenvalue of their covariance, is at least 2·thr.
func spreadOK(px []float64, idx []int, off int, thr float64) bool {
	if len(idx) == 0 {
		return false
	}
	var mx, my float64
	for _, i := range idx {
		mx += px[4*i+off]
		my += px[4*i+off+1]
	}
	n := float64(len(idx))
	mx /= n
	my /= n
	var sxx, syy, sxy float64
	for _, i := range idx {
		dx, dy := px[4*i+off]-mx, px[4*i+off+1]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	sxx /= n
	syy /= n
	sxy /= n
	lmin := (sxx+syy)/2 - math.Hypot((sxx-syy)/2, sxy)
	return lmin >= 4*thr*thr
}
