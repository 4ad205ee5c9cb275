package eval

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Surface answers distance queries against a triangle mesh (the true surface
// of a synthetic part, groundtruth.stl, in mm). It is an axis-aligned
// bounding-box tree (BVH) over the triangles; once built it is read-only and
// safe for concurrent use.
type Surface struct {
	tris  []triangle // in leaf order: each leaf holds a contiguous run
	nodes []bvhNode  // the inner nodes, depth first
	root  bvhRef
	box   geom.Box  // the bounds of every face
	cum   []float64 // cum[i] is the area of tris[0..i]
	last  int       // the last triangle of positive area, -1 if none
}

// triangle is one face, by its corners; flat marks one too thin for
// Ericson's regions (see flatTol).
type triangle struct {
	a, b, c r3.Vec
	flat    bool
}

// flatTol is the cross product's length |ab×ac|, as a share of the longest
// edge squared, at or below which a triangle counts as flat and its
// distances are taken to its edges. That is off by at most its smallest
// height, |ab×ac|/longest ≤ flatTol·longest. Ericson's regions, on the
// other side, lose accuracy on slivers as the rounding in their weights
// grows like ε/height, ε = 2⁻⁵² (with two corners within about ε of each
// other, a == b in the extreme, the rounded tests put p in the tiny edge's
// region and return its end however far the third corner). √ε ≈ 1e-8
// balances the two: against exact rational arithmetic (TestDist2Exact) the
// error stays below 5e-9 of the longest edge at every thickness.
const flatTol = 1e-8

// newTriangle returns the triangle abc.
func newTriangle(a, b, c r3.Vec) triangle {
	ab, ac, bc := r3.Sub(b, a), r3.Sub(c, a), r3.Sub(c, b)
	long2 := max(r3.Norm2(ab), r3.Norm2(ac), r3.Norm2(bc))
	return triangle{a: a, b: b, c: c, flat: r3.Norm(r3.Cross(ab, ac)) <= flatTol*long2}
}

// dist2 returns the squared distance from p to t.
func (t *triangle) dist2(p r3.Vec) float64 {
	if t.flat {
		return min(segDist2(p, t.a, t.b), segDist2(p, t.b, t.c), segDist2(p, t.c, t.a))
	}
	return triDist2(p, t.a, t.b, t.c)
}

// bvhNode is an inner node of the tree: its two children and their boxes.
// Keeping the boxes in the parent lets a query order and prune both
// children from the one node it has already loaded.
type bvhNode struct {
	lo, hi [2]r3.Vec
	kid    [2]bvhRef
}

// bvhRef is an inner node, nodes[i], when n == 0, and the leaf
// tris[i : i+n] otherwise.
type bvhRef struct{ i, n int32 }

// leafSize is the most triangles a leaf holds. Four balances the cost of a
// box test against that of up to four exact triangle tests: in
// BenchmarkDistance 2 measured about 15% slower, 8 the same within noise.
const leafSize = 4

// NewSurface builds the tree over the faces of m. It returns an error for a
// mesh that fails m.Validate or has no face. Faces of zero area are kept for
// distances (they are segments or points) and never sampled.
func NewSurface(m *geom.Mesh) (*Surface, error) {
	if m == nil || len(m.Faces) == 0 {
		return nil, errors.New("eval: surface: the mesh has no faces")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("eval: surface: %w", err)
	}
	if len(m.Faces) > math.MaxInt32 {
		return nil, fmt.Errorf("eval: surface: %d faces do not fit int32 indices", len(m.Faces))
	}
	n := len(m.Faces)
	tris := make([]triangle, n)
	cent := make([]r3.Vec, n)
	idx := make([]int32, n)
	for i, f := range m.Faces {
		t := newTriangle(m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]])
		tris[i] = t
		cent[i] = r3.Scale(1.0/3, r3.Add(r3.Add(t.a, t.b), t.c))
		idx[i] = int32(i)
	}
	s := &Surface{nodes: make([]bvhNode, 0, 2*n/leafSize)}
	s.root, s.box = s.build(tris, cent, idx, 0, n)
	s.tris = make([]triangle, n)
	for i, j := range idx {
		s.tris[i] = tris[j]
	}
	s.cum = make([]float64, n)
	s.last = -1
	var sum float64
	for i, t := range s.tris {
		a := r3.Norm(r3.Cross(r3.Sub(t.b, t.a), r3.Sub(t.c, t.a))) / 2
		if a > 0 {
			s.last = i
		}
		sum += a
		s.cum[i] = sum
	}
	return s, nil
}

// build adds the subtree over idx[lo:hi] to s.nodes, splitting at the
// median centroid along the longest axis of the centroids' box, and
// returns it and its box. The median split keeps the tree balanced (depth
// ⌈log₂(n/leafSize)⌉), which bounds the query stack; see Wald, "On fast
// construction of SAH-based bounding volume hierarchies", IEEE RT 2007, for
// the surface-area heuristic that would prune a little better.
func (s *Surface) build(tris []triangle, cent []r3.Vec, idx []int32, lo, hi int) (bvhRef, geom.Box) {
	if hi-lo <= leafSize {
		box := geom.EmptyBox()
		for _, i := range idx[lo:hi] {
			t := tris[i]
			box = box.Extend(t.a).Extend(t.b).Extend(t.c)
		}
		return bvhRef{i: int32(lo), n: int32(hi - lo)}, box
	}
	cbox := geom.EmptyBox()
	for _, i := range idx[lo:hi] {
		cbox = cbox.Extend(cent[i])
	}
	size := cbox.Size()
	axis := func(v r3.Vec) float64 { return v.X }
	if size.Y > size.X && size.Y >= size.Z {
		axis = func(v r3.Vec) float64 { return v.Y }
	} else if size.Z > size.X && size.Z > size.Y {
		axis = func(v r3.Vec) float64 { return v.Z }
	}
	mid := (lo + hi) / 2
	nthElement(idx[lo:hi], mid-lo, func(i int32) float64 { return axis(cent[i]) })
	me := int32(len(s.nodes))
	s.nodes = append(s.nodes, bvhNode{})
	l, lbox := s.build(tris, cent, idx, lo, mid)
	r, rbox := s.build(tris, cent, idx, mid, hi)
	s.nodes[me] = bvhNode{
		lo:  [2]r3.Vec{lbox.Min, rbox.Min},
		hi:  [2]r3.Vec{lbox.Max, rbox.Max},
		kid: [2]bvhRef{l, r},
	}
	return bvhRef{i: me}, lbox.Union(rbox)
}

// nthElement reorders x so that x[k] has rank k by key, with no greater key
// before it and no smaller after (Hoare's FIND, CACM 4(7), 1961): expected
// linear time, so the tree builds in O(n log n).
func nthElement(x []int32, k int, key func(int32) float64) {
	lo, hi := 0, len(x)-1
	for lo < hi {
		// Median of three as the pivot guards the sorted input that a mesh's
		// face order often nearly is.
		m := lo + (hi-lo)/2
		if key(x[m]) < key(x[lo]) {
			x[m], x[lo] = x[lo], x[m]
		}
		if key(x[hi]) < key(x[lo]) {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if key(x[hi]) < key(x[m]) {
			x[hi], x[m] = x[m], x[hi]
		}
		pivot := key(x[m])
		i, j := lo, hi
		for i <= j {
			for key(x[i]) < pivot {
				i++
			}
			for key(x[j]) > pivot {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// Distance returns the unsigned distance from p to the nearest point of the
// surface: NaN when a coordinate of p is NaN, +Inf when one is infinite.
//
// The search is depth first, nearer child first, and skips every box
// farther than the best distance found so far.
func (s *Surface) Distance(p r3.Vec) float64 {
	if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsNaN(p.Z) {
		return math.NaN()
	}
	if math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) || math.IsInf(p.Z, 0) {
		return math.Inf(1)
	}
	// A pending subtree and its box's squared distance. The median split
	// makes the depth at most 30 for 2³¹ faces; the stack holds at most one
	// pending sibling per level.
	type pending struct {
		ref bvhRef
		d2  float64
	}
	var stack [64]pending
	stack[0] = pending{s.root, boxDist2(p, s.box.Min, s.box.Max)}
	sp := 1
	best := math.Inf(1)
	for sp > 0 {
		sp--
		e := stack[sp]
		if e.d2 >= best {
			continue
		}
		if e.ref.n > 0 {
			for j := e.ref.i; j < e.ref.i+e.ref.n; j++ {
				best = min(best, s.tris[j].dist2(p))
			}
			continue
		}
		nd := &s.nodes[e.ref.i]
		near := pending{nd.kid[0], boxDist2(p, nd.lo[0], nd.hi[0])}
		far := pending{nd.kid[1], boxDist2(p, nd.lo[1], nd.hi[1])}
		if near.d2 > far.d2 {
			near, far = far, near
		}
		// Push the farther first so that the nearer is searched first.
		if far.d2 < best {
			stack[sp] = far
			sp++
		}
		if near.d2 < best {
			stack[sp] = near
			sp++
		}
	}
	return math.Sqrt(best)
}

// boxDist2 returns the squared distance from p to the box [lo, hi]; zero
// inside.
func boxDist2(p, lo, hi r3.Vec) float64 {
	var d float64
	if v := lo.X - p.X; v > 0 {
		d += v * v
	} else if v := p.X - hi.X; v > 0 {
		d += v * v
	}
	if v := lo.Y - p.Y; v > 0 {
		d += v * v
	} else if v := p.Y - hi.Y; v > 0 {
		d += v * v
	}
	if v := lo.Z - p.Z; v > 0 {
		d += v * v
	} else if v := p.Z - hi.Z; v > 0 {
		d += v * v
	}
	return d
}

// triDist2 returns the squared distance from p to the triangle abc by its
// closest point, found from the Voronoi region of the triangle that holds p
// (Ericson, Real-Time Collision Detection, 2005, §5.1.5,
// ClosestPtPointTriangle).
//
// The triangle must not be flat (see flatTol). Two guards remain for
// rounding, neither seen taken in millions of random slivers: an edge
// whose |e|² comes out zero gives its first end rather than 0/0, and a face
// region whose weights are not all non-negative with a positive sum (so
// not a point of the triangle) gives the nearest edge instead.
func triDist2(p, a, b, c r3.Vec) float64 {
	ab, ac, ap := r3.Sub(b, a), r3.Sub(c, a), r3.Sub(p, a)
	d1, d2 := r3.Dot(ab, ap), r3.Dot(ac, ap)
	if d1 <= 0 && d2 <= 0 {
		return r3.Norm2(ap) // vertex region a
	}
	bp := r3.Sub(p, b)
	d3, d4 := r3.Dot(ab, bp), r3.Dot(ac, bp)
	if d3 >= 0 && d4 <= d3 {
		return r3.Norm2(bp) // vertex region b
	}
	vc := d1*d4 - d3*d2
	if vc <= 0 && d1 >= 0 && d3 <= 0 {
		// Edge region ab; d1−d3 = |ab|² ≥ d1.
		var v float64
		if den := d1 - d3; den > 0 {
			v = d1 / den
		}
		return r3.Norm2(r3.Sub(ap, r3.Scale(v, ab)))
	}
	cp := r3.Sub(p, c)
	d5, d6 := r3.Dot(ab, cp), r3.Dot(ac, cp)
	if d6 >= 0 && d5 <= d6 {
		return r3.Norm2(cp) // vertex region c
	}
	vb := d5*d2 - d1*d6
	if vb <= 0 && d2 >= 0 && d6 <= 0 {
		// Edge region ac; d2−d6 = |ac|² ≥ d2.
		var w float64
		if den := d2 - d6; den > 0 {
			w = d2 / den
		}
		return r3.Norm2(r3.Sub(ap, r3.Scale(w, ac)))
	}
	va := d3*d6 - d5*d4
	if va <= 0 && d4-d3 >= 0 && d5-d6 >= 0 {
		// Edge region bc; the denominator is |bc|².
		var w float64
		if den := (d4 - d3) + (d5 - d6); den > 0 {
			w = (d4 - d3) / den
		}
		return r3.Norm2(r3.Sub(bp, r3.Scale(w, r3.Sub(c, b))))
	}
	// Face region: p projects inside; va, vb, vc are its barycentric
	// coordinates times |ab×ac|².
	sum := va + vb + vc
	if !(sum > 0) || va < 0 || vb < 0 || vc < 0 {
		return min(segDist2(p, a, b), segDist2(p, b, c), segDist2(p, c, a))
	}
	v, w := vb/sum, vc/sum
	return r3.Norm2(r3.Sub(ap, r3.Add(r3.Scale(v, ab), r3.Scale(w, ac))))
}

// segDist2 returns the squared distance from p to the segment ab (Ericson,
// Real-Time Collision Detection, §5.1.2), or to a when a == b.
func segDist2(p, a, b r3.Vec) float64 {
	ab, ap := r3.Sub(b, a), r3.Sub(p, a)
	t := r3.Dot(ap, ab)
	if t <= 0 {
		return r3.Norm2(ap)
	}
	den := r3.Norm2(ab)
	if t >= den {
		return r3.Norm2(r3.Sub(p, b))
	}
	return r3.Norm2(r3.Sub(ap, r3.Scale(t/den, ab)))
}

// Sample returns n points drawn independently and uniformly by area from
// the surface, from a PCG generator seeded with (seed, seed): the same seed
// gives the same points. A triangle is picked with probability
// proportional to its area, then a point in it by
// (1−√r₁)a + √r₁(1−r₂)b + √r₁r₂c with r₁, r₂ uniform on [0, 1) (Osada et
// al., "Shape distributions", ACM TOG 21(4), 2002, §4.2). It returns nil
// for n ≤ 0 or a surface of zero area.
func (s *Surface) Sample(n int, seed uint64) []r3.Vec {
	out, _ := s.sample(n, seed)
	return out
}

// sample is Sample that also returns the index in s.tris of each point's
// triangle.
func (s *Surface) sample(n int, seed uint64) ([]r3.Vec, []int32) {
	if n <= 0 || s.last < 0 {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	total := s.cum[len(s.cum)-1]
	out := make([]r3.Vec, n)
	tri := make([]int32, n)
	for k := range out {
		u := rng.Float64() * total
		// The first triangle whose cumulative area exceeds u: never one of
		// zero area. u may round up to total; last is then the answer.
		i := min(sort.Search(len(s.cum), func(i int) bool { return s.cum[i] > u }), s.last)
		t := s.tris[i]
		r1, r2 := math.Sqrt(rng.Float64()), rng.Float64()
		out[k] = r3.Add(r3.Add(r3.Scale(1-r1, t.a), r3.Scale(r1*(1-r2), t.b)), r3.Scale(r1*r2, t.c))
		tri[k] = int32(i)
	}
	return out, tri
}

// Accuracy is how close reconstructed points lie to the true surface: the
// mean, median and 90th percentile distance (mm) over the N finite points.
// The percentiles interpolate linearly between order statistics (Hyndman
// and Fan, "Sample quantiles in statistical packages", Am. Stat. 50(4),
// 1996, definition 7, as numpy and R by default), so Median is the usual
// median.
type Accuracy struct {
	Mean, Median, P90 float64
	N                 int
}

// MeasureAccuracy measures the distance from each finite point to s,
// skipping points with a NaN or infinite coordinate. It returns the zero
// Accuracy when no point is finite. The queries run on GOMAXPROCS
// goroutines.
func MeasureAccuracy(points []r3.Vec, s *Surface) Accuracy {
	var fin []r3.Vec
	for _, p := range points {
		if finite(p) {
			fin = append(fin, p)
		}
	}
	if len(fin) == 0 {
		return Accuracy{}
	}
	d := make([]float64, len(fin))
	parallel(len(fin), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = s.Distance(fin[i])
		}
	})
	return accuracyOf(d)
}

// accuracyOf returns the Accuracy of the distances d, all finite, sorting
// d; the zero Accuracy when d is empty.
func accuracyOf(d []float64) Accuracy {
	if len(d) == 0 {
		return Accuracy{}
	}
	slices.Sort(d)
	var sum float64
	for _, v := range d { // ascending: the small terms add up first
		sum += v
	}
	return Accuracy{
		Mean:   sum / float64(len(d)),
		Median: quantile(d, 0.5),
		P90:    quantile(d, 0.9),
		N:      len(d),
	}
}

// quantile returns the p-quantile of the sorted, non-empty x by Hyndman and
// Fan's definition 7: x at rank h = (n−1)p, interpolated between
// neighbours.
func quantile(x []float64, p float64) float64 {
	h := float64(len(x)-1) * p
	i := int(h)
	if i+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[i] + (h-float64(i))*(x[i+1]-x[i])
}

// completenessSeed seeds the surface samples of MeasureCompleteness, so
// that the same inputs give the same share.
const completenessSeed = 1

// MeasureCompleteness returns the share of the true surface, by area, that
// has a finite reconstructed point within tol (mm): of samples points drawn
// by s.Sample with a fixed seed, the share that have one. Its standard
// error is at most 1/(2√samples), 0.005 for 10 000 samples. It returns 0
// for samples ≤ 0, a surface of zero area, or tol < 0 or NaN.
//
// The points go into a uniform grid of cells no smaller than tol, so the
// points within tol of a sample lie in the 27 cells around it.
func MeasureCompleteness(points []r3.Vec, s *Surface, tol float64, samples int) float64 {
	if !(tol >= 0) {
		return 0
	}
	return coverage(points, s.Sample(samples, completenessSeed), s.box, tol)
}

// coverage returns the share of the samples q, points of box, that have a
// finite point within tol (tol ≥ 0); 0 when q is empty.
func coverage(points, q []r3.Vec, box geom.Box, tol float64) float64 {
	if len(q) == 0 {
		return 0
	}
	g := newPointGrid(points, box, tol)
	var mu sync.Mutex
	var covered int
	parallel(len(q), func(lo, hi int) {
		var c int
		for _, p := range q[lo:hi] {
			if g.near(p) {
				c++
			}
		}
		mu.Lock()
		covered += c
		mu.Unlock()
	})
	return float64(covered) / float64(len(q))
}

// pointGrid buckets points by cubic cell for fixed-radius queries.
type pointGrid struct {
	origin r3.Vec
	cell   float64
	tol2   float64
	pts    []r3.Vec            // sorted by cell
	cells  map[uint64][2]int32 // cell key → pts[start:end]
}

// maxCells is the most cells along an axis of the box. With one cell more
// each way for the box grown by tol, a cell index fits 21 bits and a key
// the 63 bits of three (cellBits). Only a tol below a millionth of the
// box's size makes the cell larger than tol, which stays correct and only
// slows the query.
const (
	maxCells = 1 << 20
	cellBits = 21
)

// newPointGrid keeps the finite points within tol of box, in cells of side
// max(tol, box's largest size / maxCells) counted from one cell below
// box.Min.
func newPointGrid(points []r3.Vec, box geom.Box, tol float64) *pointGrid {
	cell := max(tol, box.MaxExtent()/maxCells)
	if cell == 0 { // a surface that is one point, tol 0
		cell = 1
	}
	g := &pointGrid{origin: r3.Sub(box.Min, r3.Vec{X: cell, Y: cell, Z: cell}), cell: cell, tol2: tol * tol}
	lo := r3.Sub(box.Min, r3.Vec{X: tol, Y: tol, Z: tol})
	hi := r3.Add(box.Max, r3.Vec{X: tol, Y: tol, Z: tol})
	type keyed struct {
		k uint64
		p r3.Vec
	}
	var kp []keyed
	for _, p := range points {
		if !finite(p) || p.X < lo.X || p.Y < lo.Y || p.Z < lo.Z || p.X > hi.X || p.Y > hi.Y || p.Z > hi.Z {
			continue
		}
		i, j, k := g.index(p)
		kp = append(kp, keyed{key(i, j, k), p})
	}
	slices.SortFunc(kp, func(a, b keyed) int { return cmp.Compare(a.k, b.k) })
	g.pts = make([]r3.Vec, len(kp))
	g.cells = make(map[uint64][2]int32)
	for i := 0; i < len(kp); {
		j := i
		for j < len(kp) && kp[j].k == kp[i].k {
			g.pts[j] = kp[j].p
			j++
		}
		g.cells[kp[i].k] = [2]int32{int32(i), int32(j)}
		i = j
	}
	return g
}

// index returns the cell of p, a point of the box grown by tol: each in
// [0, maxCells+2]. The clamp only acts on rounding and on overflow, for a
// tol or coordinates near the float64 range, where it keeps the index
// defined: +Inf/+Inf (tol = +Inf) is NaN, which goes to 0 like every other
// point's index, so that every point shares the one cell.
func (g *pointGrid) index(p r3.Vec) (i, j, k int64) {
	idx := func(v, o float64) int64 {
		x := (v - o) / g.cell
		switch {
		case !(x >= 0): // negative or NaN
			return 0
		case x > maxCells+2:
			return maxCells + 2
		}
		return int64(x)
	}
	return idx(p.X, g.origin.X), idx(p.Y, g.origin.Y), idx(p.Z, g.origin.Z)
}

func key(i, j, k int64) uint64 {
	return uint64(i) | uint64(j)<<cellBits | uint64(k)<<(2*cellBits)
}

// near reports whether a point lies within tol of p, a point of the box.
// It looks in p's cell, then in those of the 26 around it that come within
// tol of p.
func (g *pointGrid) near(p r3.Vec) bool {
	i, j, k := g.index(p)
	if g.inCell(key(i, j, k), p) {
		return true
	}
	// gap[a][d+1] is the squared distance along axis a from p to the
	// neighbouring cell d ∈ {−1, 0, +1} cells away.
	var gap [3][3]float64
	for a, v := range [3]float64{p.X - g.origin.X, p.Y - g.origin.Y, p.Z - g.origin.Z} {
		c := float64([3]int64{i, j, k}[a]) * g.cell
		gap[a][0] = (v - c) * (v - c)
		gap[a][2] = (c + g.cell - v) * (c + g.cell - v)
	}
	for dx := range 3 {
		for dy := range 3 {
			for dz := range 3 {
				if dx == 1 && dy == 1 && dz == 1 || gap[0][dx]+gap[1][dy]+gap[2][dz] > g.tol2 {
					continue
				}
				if g.inCell(key(i+int64(dx)-1, j+int64(dy)-1, k+int64(dz)-1), p) {
					return true
				}
			}
		}
	}
	return false
}

// inCell reports whether a point of the cell with key c lies within tol of
// p.
func (g *pointGrid) inCell(c uint64, p r3.Vec) bool {
	span, ok := g.cells[c]
	if !ok {
		return false
	}
	for _, q := range g.pts[span[0]:span[1]] {
		if r3.Norm2(r3.Sub(q, p)) <= g.tol2 {
			return true
		}
	}
	return false
}

// finite reports whether no coordinate of p is NaN or infinite.
func finite(p r3.Vec) bool {
	// x−x is NaN exactly when x is NaN or ±Inf.
	return !math.IsNaN(p.X-p.X) && !math.IsNaN(p.Y-p.Y) && !math.IsNaN(p.Z-p.Z)
}

// parallel calls f on consecutive chunks of [0, n) from up to GOMAXPROCS
// goroutines. Chunks of fewer than minChunk items are not worth a
// goroutine.
func parallel(n int, f func(lo, hi int)) {
	const minChunk = 1024
	workers := min(runtime.GOMAXPROCS(0), (n+minChunk-1)/minChunk)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Go(func() { f(lo, hi) })
	}
	wg.Wait()
}
