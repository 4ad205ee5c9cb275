package cad

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// FitOptions tunes Fit. A nil *FitOptions, and every zero field, means the
// default.
type FitOptions struct {
	// Epsilon is the largest distance in millimetres of an inlier from its
	// shape. Zero means three times the noise Fit estimates (the median
	// thickness of small neighbourhoods, see estimateScale), and at least
	// 0.001 times the cloud's diagonal so that a noiseless cloud still has
	// a band: 3σ keeps 99.7 % of Gaussian noise.
	Epsilon float64
	// NormalDeg is the largest angle in degrees between a point's normal
	// and its shape's; zero means 20°. Normals may point either way.
	NormalDeg float64
	// MinShare is the smallest shape as a share of all points; zero means
	// 0.005. MinPoints, if larger, is the smallest in points.
	MinShare  float64
	MinPoints int
	// NoSnap turns off snapping (see snap): by default plane normals and
	// cylinder axes within 1° are made exactly parallel or perpendicular,
	// cylinders whose axes are within 0.1 mm made coaxial, and diameters
	// within 0.06 mm of a multiple of 0.1 mm rounded to it.
	NoSnap bool
	// Seed makes the random sampling repeatable: the same input, options
	// and seed give the same result, whatever Workers is.
	Seed uint64
	// Workers is how many goroutines share the work; zero means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Progress, if not nil, is called with the share of the work done, from
	// 0 to 1, from the goroutine that called Fit.
	Progress func(float64)
}

// Primitive is one region of the cloud and the surface fitted to it.
type Primitive struct {
	// Surface is a *Plane, *Cylinder, *Cone or *Sphere. A plane's Origin
	// is the centroid of its points projected onto it; a cylinder's Origin
	// is the point of its axis level with its points' centroid; a cone's
	// Origin is on the axis level with its point nearest the apex, with
	// Radius the cone's radius there.
	Surface Surface
	Points  []int32 // indices of its points, increasing
	RMS     float64 // root mean square distance of its points from Surface
	Share   float64 // len(Points) over the number of points
}

// FitReport summarises a Fit.
type FitReport struct {
	Primitives int
	ByType     map[string]int // "plane", "cylinder", "cone", "sphere"
	Freeform   int            // points left to no primitive
	Epsilon    float64        // the inlier distance used, mm
	Snaps      []string       // what snapping changed, one line each
	Seconds    float64
}

// Fit splits a point cloud with normals into regions that are planes,
// cylinders, cones and spheres, and a freeform remainder. It follows
// Schnabel, Wahl and Klein, "Efficient RANSAC for Point-Cloud Shape
// Detection", Computer Graphics Forum 26(2), 2007:
//
//  1. Candidates come from minimal sets of three points with normals
//     (§4.1), drawn near each other (§4.3, localised sampling: the first
//     point at random, the other two within a radius of it, the radius
//     chosen from a few levels as their octree levels do), and are kept
//     only if all three points fit them.
//  2. Candidates are scored by their inliers — within Epsilon and
//     NormalDeg — on a random subset of the free points (§4.4–4.5 score on
//     a hierarchy of subsets; one subset of 4000 points is enough for the
//     ranking here), a simpler type winning a near tie.
//  3. Candidates are drawn until the best one would have been found with
//     probability 0.99 (§4.2: 1-(1-P(n))^T with P(n) the chance that one
//     draw lands on the shape). Its inliers among all free points are
//     taken, cut to their largest connected component (§4.4, here on a
//     voxel grid of about twice the point spacing rather than a bitmap in
//     the shape's parameter space), refined by least squares (§5), taken
//     again, and removed; this repeats until no shape has MinPoints.
//  4. Every point is then given to the primitive it fits best, each
//     primitive keeps its largest connected region (further regions of
//     MinPoints or more become primitives of their own), and the shapes
//     are refined again; twice (region growing, as in the brief).
//  5. Unless NoSnap, near relations and sizes are snapped (see snap).
//
// points and normals are in millimetres; normals need not be oriented but
// must be unit length or zero (a zero normal fits nothing). Fit returns the
// primitives, largest first, the indices of the freeform points, and a
// report. It returns ctx.Err() if ctx is cancelled.
func Fit(ctx context.Context, points, normals []r3.Vec, o *FitOptions) ([]Primitive, []int32, *FitReport, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if len(points) == 0 {
		return nil, nil, nil, errors.New("cad: fit: no points")
	}
	if len(normals) != len(points) {
		return nil, nil, nil, fmt.Errorf("cad: fit: %d normals for %d points", len(normals), len(points))
	}
	if len(points) > math.MaxInt32 {
		return nil, nil, nil, fmt.Errorf("cad: fit: %d points, more than %d", len(points), math.MaxInt32)
	}
	for i := range points {
		if !finite(points[i]) || !finite(normals[i]) {
			return nil, nil, nil, fmt.Errorf("cad: fit: point %d: non-finite point %v or normal %v", i, points[i], normals[i])
		}
	}
	var opt FitOptions
	if o != nil {
		opt = *o
	}
	if opt.Epsilon < 0 || opt.NormalDeg < 0 || opt.NormalDeg >= 90 || opt.MinShare < 0 || opt.MinShare >= 1 || math.IsNaN(opt.Epsilon+opt.NormalDeg+opt.MinShare) {
		return nil, nil, nil, fmt.Errorf("cad: fit: bad options: Epsilon %v, NormalDeg %v, MinShare %v", opt.Epsilon, opt.NormalDeg, opt.MinShare)
	}
	if opt.NormalDeg == 0 {
		opt.NormalDeg = 20
	}
	if opt.MinShare == 0 {
		opt.MinShare = 0.005
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	f := &fitter{
		ctx: ctx, pts: points, nrm: normals, opt: opt,
		cosA:    math.Cos(opt.NormalDeg * math.Pi / 180),
		minPts:  max(opt.MinPoints, int(math.Ceil(opt.MinShare*float64(len(points)))), 10),
		workers: opt.Workers,
		rng:     rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)),
	}
	prims, free, rep, err := f.run()
	if err != nil {
		return nil, nil, nil, err
	}
	rep.Seconds = time.Since(start).Seconds()
	return prims, free, rep, nil
}

// fitter holds the state of one Fit.
type fitter struct {
	ctx      context.Context
	pts, nrm []r3.Vec
	opt      FitOptions
	eps      float64
	cosA     float64
	minPts   int
	workers  int
	rng      *rand.Rand
	diag     float64
	cell     float64 // connectivity grid spacing
	origin   r3.Vec  // the cloud's lower corner, for grid keys

	sample []int32       // a random permutation prefix of the points
	sPts   []r3.Vec      // their positions
	stree  *geom.KDTree  // over sPts
	label  []int32       // the primitive each point belongs to, or -1
	shapes []shape       // the primitives found so far
	snaps  []string      // what snap changed
	prog   func(float64) // never nil
}

// sampleMax is the size of the sample candidates are drawn from: enough to
// hold a few hundred points of a 0.5 % shape.
const sampleMax = 60000

// scoreSubset is how many free sample points candidates are scored on.
const scoreSubset = 4000

func (f *fitter) run() ([]Primitive, []int32, *FitReport, error) {
	f.prog = func(float64) {}
	if f.opt.Progress != nil {
		f.prog = f.opt.Progress
	}
	n := len(f.pts)
	box := geom.EmptyBox()
	for _, p := range f.pts {
		box = box.Extend(p)
	}
	f.origin = box.Min
	f.diag = r3.Norm(box.Size())
	perm := f.rng.Perm(n)
	f.sample = make([]int32, min(n, sampleMax))
	f.sPts = make([]r3.Vec, len(f.sample))
	for i := range f.sample {
		f.sample[i] = int32(perm[i])
		f.sPts[i] = f.pts[perm[i]]
	}
	f.stree = geom.NewKDTree(f.sPts)
	noise, spacing := f.estimateScale()
	f.eps = f.opt.Epsilon
	if f.eps == 0 {
		f.eps = math.Max(3*noise, 1e-3*f.diag)
	}
	f.cell = math.Max(2*spacing, f.eps)
	if !(f.cell > 0) {
		f.cell = math.Max(f.diag*1e-3, 1e-9)
	}
	f.label = make([]int32, n)
	for i := range f.label {
		f.label[i] = -1
	}
	f.prog(0.02)

	if err := f.detect(); err != nil {
		return nil, nil, nil, err
	}
	f.prog(0.8)
	for range 2 {
		f.merge()
		if err := f.regrow(); err != nil {
			return nil, nil, nil, err
		}
	}
	// Region growing may have split a surface into parts refined apart.
	n0 := len(f.shapes)
	if f.merge(); len(f.shapes) < n0 {
		f.assign()
	}
	f.prog(0.95)
	if !f.opt.NoSnap {
		f.snap()
	}
	prims, free := f.result()
	rep := &FitReport{Primitives: len(prims), ByType: map[string]int{}, Freeform: len(free), Epsilon: f.eps, Snaps: f.snaps}
	for _, p := range prims {
		rep.ByType[surfaceType(p.Surface)]++
	}
	f.prog(1)
	return prims, free, rep, nil
}

func surfaceType(s Surface) string {
	switch s.(type) {
	case *Plane:
		return "plane"
	case *Cylinder:
		return "cylinder"
	case *Cone:
		return "cone"
	case *Sphere:
		return "sphere"
	}
	return "?"
}

// estimateScale estimates the noise (the median RMS thickness of the 16
// nearest sample points about their best plane) and the spacing of all the
// points (1/√density, from the same neighbourhoods scaled from the sample's
// density to the cloud's).
func (f *fitter) estimateScale() (noise, spacing float64) {
	const k = 16
	m := min(len(f.sPts), 1000)
	if m < k {
		return 0, f.diag * 1e-3
	}
	th := make([]float64, 0, m)
	sp := make([]float64, 0, m)
	var nb []int
	var loc []r3.Vec
	for i := range m {
		nb = f.stree.KNearest(f.sPts[i], k, nb)
		loc = loc[:0]
		for _, j := range nb {
			loc = append(loc, f.sPts[j])
		}
		c, nrm, ok := geom.FitPlane(loc, nil, r3.Vec{Z: 1})
		if !ok {
			continue
		}
		var ss float64
		for _, p := range loc {
			d := r3.Dot(r3.Sub(p, c), nrm)
			ss += d * d
		}
		th = append(th, math.Sqrt(ss/float64(len(loc)-3)))
		r := r3.Norm(r3.Sub(f.sPts[nb[len(nb)-1]], f.sPts[i]))
		sp = append(sp, r)
	}
	if len(th) == 0 {
		return 0, f.diag * 1e-3
	}
	slices.Sort(th)
	slices.Sort(sp)
	r := sp[len(sp)/2]
	rho := k / (math.Pi * r * r) * float64(len(f.pts)) / float64(len(f.sPts))
	return th[len(th)/2], 1 / math.Sqrt(rho)
}

// typeWeight breaks near ties towards the simpler type: a plane beats a
// cylinder of huge radius, a cylinder a cone of tiny angle, unless the
// more complex shape holds 3 % (6 % for a cone) more points.
var typeWeight = [...]float64{kindPlane: 1, kindSphere: 0.97, kindCylinder: 0.97, kindCone: 0.94}

// detect is the RANSAC loop (steps 1–3 of Fit).
func (f *fitter) detect() error {
	n := len(f.pts)
	radii := []float64{f.diag / 50, f.diag / 25, f.diag / 12}
	const pFound = 0.99
	failures := 0
	var nb []int
	freeN := n
	for freeN >= f.minPts && failures < 3 {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		// Free sample points, and the scoring subset among them.
		var sfree []int32 // positions in f.sample
		for j, i := range f.sample {
			if f.label[i] < 0 {
				sfree = append(sfree, int32(j))
			}
		}
		if len(sfree) < 3 {
			break
		}
		sub := sfree[:min(len(sfree), scoreSubset)]
		scale := float64(freeN) / float64(len(sub))

		var best shape
		bestScore, bestW := 0, 0.0
		draws := 0
		for draws < 3000 {
			if draws%64 == 0 {
				if err := f.ctx.Err(); err != nil {
					return err
				}
			}
			draws++
			j0 := sfree[f.rng.IntN(len(sfree))]
			r := radii[f.rng.IntN(len(radii))]
			nb = f.stree.Radius(f.sPts[j0], r, nb)
			// Two other free points from the neighbourhood.
			var picked [2]int32
			got := 0
			for try := 0; try < 20 && got < 2 && len(nb) > 1; try++ {
				j := int32(nb[f.rng.IntN(len(nb))])
				if j == j0 || f.label[f.sample[j]] >= 0 || (got == 1 && picked[0] == j) {
					continue
				}
				picked[got] = j
				got++
			}
			if got == 2 {
				ids := [3]int32{f.sample[j0], f.sample[picked[0]], f.sample[picked[1]]}
				var p, nn [3]r3.Vec
				for k, i := range ids {
					p[k], nn[k] = f.pts[i], f.nrm[i]
				}
				for _, c := range candidates(&p, &nn) {
					ok := true
					for k := range 3 {
						if fit, _ := c.fits(p[k], nn[k], f.eps, f.cosA); !fit {
							ok = false
							break
						}
					}
					if !ok {
						continue
					}
					s := 0
					for _, j := range sub {
						i := f.sample[j]
						if fit, _ := c.fits(f.pts[i], f.nrm[i], f.eps, f.cosA); fit {
							s++
						}
					}
					if w := float64(s) * typeWeight[c.kind]; w > bestW {
						best, bestScore, bestW = c, s, w
					}
				}
			}
			// Stop once the best would have been found with pFound. One
			// draw lands on it with about share/len(radii): its first
			// point on it and a radius small enough to stay on it.
			if draws >= 32 && bestScore > 0 {
				q := float64(bestScore) / float64(len(sub)) / float64(len(radii))
				if 1-math.Pow(1-q, float64(draws)) >= pFound {
					break
				}
			}
		}
		if float64(bestScore)*scale < float64(f.minPts) {
			break
		}
		comp := f.largestComponent(f.inliers(&best))
		if len(comp) >= f.minPts {
			best = refine(best, strided(f.pts, comp))
			comp = f.largestComponent(f.inliers(&best))
		}
		if len(comp) < f.minPts {
			failures++
			continue
		}
		rp := strided(f.pts, comp)
		best = simplify(refine(best, rp), rp, f.diag)
		k := int32(len(f.shapes))
		f.shapes = append(f.shapes, best)
		for _, i := range comp {
			f.label[i] = k
		}
		freeN -= len(comp)
		f.prog(0.02 + 0.78*(1-float64(freeN)/float64(n)))
	}
	return nil
}

// candidates builds every shape the minimal set p, n gives.
func candidates(p, n *[3]r3.Vec) []shape {
	out := make([]shape, 0, 4)
	if s, ok := planeFrom3(p, n); ok {
		out = append(out, s)
	}
	if s, ok := sphereFrom2(p[0], n[0], p[1], n[1]); ok {
		out = append(out, s)
	}
	if s, ok := cylinderFrom2(p[0], n[0], p[1], n[1]); ok {
		out = append(out, s)
	}
	if s, ok := coneFrom3(p, n); ok {
		out = append(out, s)
	}
	return out
}

// parallel runs fn over [0, n) in chunks on f.workers goroutines; chunk c
// covers [c·size, (c+1)·size). It returns the number of chunks.
func (f *fitter) parallel(n, size int, fn func(c, lo, hi int)) int {
	chunks := (n + size - 1) / size
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range min(f.workers, chunks) {
		wg.Go(func() {
			for {
				mu.Lock()
				c := next
				next++
				mu.Unlock()
				if c >= chunks || f.ctx.Err() != nil {
					return
				}
				fn(c, c*size, min(n, (c+1)*size))
			}
		})
	}
	wg.Wait()
	return chunks
}

const chunkSize = 1 << 14

// inliers returns the free points that fit s, in increasing order.
func (f *fitter) inliers(s *shape) []int32 {
	parts := make([][]int32, (len(f.pts)+chunkSize-1)/chunkSize)
	f.parallel(len(f.pts), chunkSize, func(c, lo, hi int) {
		var out []int32
		for i := lo; i < hi; i++ {
			if f.label[i] >= 0 {
				continue
			}
			if ok, _ := s.fits(f.pts[i], f.nrm[i], f.eps, f.cosA); ok {
				out = append(out, int32(i))
			}
		}
		parts[c] = out
	})
	return slices.Concat(parts...)
}

// components labels the points idx names by connected component on a
// voxel grid of spacing f.cell (two points connect when their voxels touch,
// faces, edges or corners). It returns each point's component and the
// components' sizes; components are numbered in order of first appearance.
func (f *fitter) components(idx []int32) (comp []int32, sizes []int) {
	key := func(p r3.Vec) uint64 {
		d := r3.Scale(1/f.cell, r3.Sub(p, f.origin))
		return uint64(int64(d.X)+1)<<42 | uint64(int64(d.Y)+1)<<21 | uint64(int64(d.Z)+1)
	}
	cellOf := make([]int32, len(idx))
	ids := make(map[uint64]int32, len(idx)/4)
	var keys []uint64
	for j, i := range idx {
		k := key(f.pts[i])
		c, ok := ids[k]
		if !ok {
			c = int32(len(keys))
			ids[k] = c
			keys = append(keys, k)
		}
		cellOf[j] = c
	}
	parent := make([]int32, len(keys))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	const m = 1<<21 - 1
	for c, k := range keys {
		x, y, z := int64(k>>42), int64(k>>21&m), int64(k&m)
		// Half of the 26 neighbours: the other half see this cell.
		for dx := int64(0); dx <= 1; dx++ {
			for dy := int64(-1); dy <= 1; dy++ {
				for dz := int64(-1); dz <= 1; dz++ {
					if dx == 0 && (dy < 0 || dy == 0 && dz <= 0) {
						continue
					}
					nk := uint64(x+dx)<<42 | uint64(y+dy)<<21 | uint64(z+dz)
					if o, ok := ids[nk]; ok {
						a, b := find(int32(c)), find(o)
						if a != b {
							parent[max(a, b)] = min(a, b)
						}
					}
				}
			}
		}
	}
	num := make(map[int32]int32)
	comp = make([]int32, len(idx))
	for j := range idx {
		r := find(cellOf[j])
		c, ok := num[r]
		if !ok {
			c = int32(len(sizes))
			num[r] = c
			sizes = append(sizes, 0)
		}
		comp[j] = c
		sizes[c]++
	}
	return comp, sizes
}

// largestComponent returns the points of idx in its largest connected
// component (the first such if several tie).
func (f *fitter) largestComponent(idx []int32) []int32 {
	if len(idx) == 0 {
		return nil
	}
	comp, sizes := f.components(idx)
	best := 0
	for c, s := range sizes {
		if s > sizes[best] {
			best = c
		}
	}
	out := make([]int32, 0, sizes[best])
	for j, i := range idx {
		if comp[j] == int32(best) {
			out = append(out, i)
		}
	}
	return out
}

// regrow gives every point to the primitive it fits best (smallest
// distance among those within ε and α), keeps each primitive's largest
// connected region, makes further regions of MinPoints or more primitives
// of their own, drops primitives left under MinPoints, and refines every
// shape on its new points.
// merge drops every shape that is a larger one's surface within 2ε
// (sameShape), or most of whose points (mergeShare of them) lie within 2ε
// of a larger one: one surface found twice. On a noisy mesh the first
// cylinder found takes the points within ε of it, and the noise's tails,
// left over, make a second one 0.05 mm wider on the same axis, and a third
// narrower; a short wide cylinder is found again as a sphere. Region
// growing would then deal the surface's points out among them by noise.
// The shapes are compared on up to 500 of each one's points.
func (f *fitter) merge() {
	members := make([][]int32, len(f.shapes))
	for i, k := range f.label {
		if k >= 0 {
			members[k] = append(members[k], int32(i))
		}
	}
	order := make([]int, len(f.shapes))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return len(members[order[a]]) > len(members[order[b]]) })
	var keep []shape
	for _, k := range order {
		idx := members[k]
		if len(idx) == 0 {
			continue
		}
		step := max(1, len(idx)/500)
		redundant := false
		for j := range keep {
			if sameShape(&keep[j], &f.shapes[k], 2*f.eps) {
				redundant = true
				break
			}
			n, in := 0, 0
			for s := 0; s < len(idx); s += step {
				n++
				if ok, _ := keep[j].fits(f.pts[idx[s]], f.nrm[idx[s]], 2*f.eps, f.cosA); ok {
					in++
				}
			}
			if float64(in) >= mergeShare*float64(n) {
				redundant = true
				break
			}
		}
		if !redundant {
			keep = append(keep, f.shapes[k])
		}
	}
	f.shapes = keep
}

// sameShape reports whether s and t are one surface up to tol: of one
// kind, axes or normals within 2°, and offsets, axis distances, centres
// and radii within tol.
func sameShape(s, t *shape, tol float64) bool {
	const cos2 = 0.99939 // cos 2°
	if s.kind != t.kind {
		return false
	}
	d := r3.Sub(t.c, s.c)
	switch s.kind {
	case kindPlane:
		return math.Abs(r3.Dot(s.a, t.a)) >= cos2 && math.Abs(r3.Dot(d, s.a)) <= tol
	case kindSphere:
		return r3.Norm(d) <= tol && math.Abs(s.r-t.r) <= tol
	case kindCylinder:
		off := r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, s.a), s.a)))
		return math.Abs(r3.Dot(s.a, t.a)) >= cos2 && off <= tol && math.Abs(s.r-t.r) <= tol
	default:
		return r3.Dot(s.a, t.a) >= cos2 && r3.Norm(d) <= tol && math.Abs(s.ang-t.ang) <= 2*math.Pi/180
	}
}

// mergeShare is the share of a shape's points that must fit a larger shape
// for merge to drop it.
const mergeShare = 0.8

// assign gives every point to the shape it fits best, or none.
func (f *fitter) assign() {
	f.parallel(len(f.pts), chunkSize, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			f.label[i] = -1
			bestD := math.Inf(1)
			for k := range f.shapes {
				if ok, d := f.shapes[k].fits(f.pts[i], f.nrm[i], f.eps, f.cosA); ok && math.Abs(d) < bestD {
					bestD, f.label[i] = math.Abs(d), int32(k)
				}
			}
		}
	})
}

func (f *fitter) regrow() error {
	f.assign()
	if err := f.ctx.Err(); err != nil {
		return err
	}
	members := make([][]int32, len(f.shapes))
	for i, k := range f.label {
		if k >= 0 {
			members[k] = append(members[k], int32(i))
		}
	}
	var shapes []shape
	var regions [][]int32
	for k, idx := range members {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		if len(idx) == 0 {
			continue
		}
		comp, sizes := f.components(idx)
		order := make([]int, len(sizes))
		for c := range order {
			order[c] = c
		}
		sort.SliceStable(order, func(a, b int) bool { return sizes[order[a]] > sizes[order[b]] })
		for _, c := range order {
			if sizes[c] < f.minPts {
				break
			}
			reg := make([]int32, 0, sizes[c])
			for j, i := range idx {
				if comp[j] == int32(c) {
					reg = append(reg, i)
				}
			}
			sub := strided(f.pts, reg)
			shapes = append(shapes, simplify(refine(f.shapes[k], sub), sub, f.diag))
			regions = append(regions, reg)
		}
	}
	// Number the shapes largest first, as Fit returns them.
	order := make([]int, len(shapes))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return len(regions[order[a]]) > len(regions[order[b]]) })
	f.shapes = make([]shape, len(shapes))
	for i := range f.label {
		f.label[i] = -1
	}
	for k, o := range order {
		f.shapes[k] = shapes[o]
		for _, i := range regions[o] {
			f.label[i] = int32(k)
		}
	}
	return nil
}

// result turns the shapes and labels into Primitives, largest first, and
// the freeform indices.
func (f *fitter) result() ([]Primitive, []int32) {
	members := make([][]int32, len(f.shapes))
	var free []int32
	for i, k := range f.label {
		if k >= 0 {
			members[k] = append(members[k], int32(i))
		} else {
			free = append(free, int32(i))
		}
	}
	prims := make([]Primitive, 0, len(f.shapes))
	for k, s := range f.shapes {
		idx := members[k]
		if len(idx) == 0 {
			continue
		}
		var ss float64
		for _, i := range idx {
			d, _ := s.distNormal(f.pts[i])
			ss += d * d
		}
		prims = append(prims, Primitive{
			Surface: f.surface(s, idx),
			Points:  idx,
			RMS:     math.Sqrt(ss / float64(len(idx))),
			Share:   float64(len(idx)) / float64(len(f.pts)),
		})
	}
	sort.SliceStable(prims, func(a, b int) bool { return len(prims[a].Points) > len(prims[b].Points) })
	return prims, free
}

// surface converts s to the B-rep's surface, placed as Primitive says.
func (f *fitter) surface(s shape, idx []int32) Surface {
	var m r3.Vec
	for _, i := range idx {
		m = r3.Add(m, f.pts[i])
	}
	m = r3.Scale(1/float64(len(idx)), m)
	x := orthoUnit(s.a)
	switch s.kind {
	case kindPlane:
		o := r3.Sub(m, r3.Scale(r3.Dot(r3.Sub(m, s.c), s.a), s.a))
		return &Plane{Origin: o, Normal: s.a, XDir: x}
	case kindCylinder:
		o := r3.Add(s.c, r3.Scale(r3.Dot(r3.Sub(m, s.c), s.a), s.a))
		return &Cylinder{Origin: o, Axis: s.a, XDir: x, Radius: s.r}
	case kindSphere:
		return &Sphere{Centre: s.c, Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: s.r}
	default:
		h := math.Inf(1)
		for _, i := range idx {
			h = math.Min(h, r3.Dot(r3.Sub(f.pts[i], s.c), s.a))
		}
		h = math.Max(h, 0)
		return &Cone{Origin: r3.Add(s.c, r3.Scale(h, s.a)), Axis: s.a, XDir: x, Radius: h * math.Tan(s.ang), SemiAngle: s.ang}
	}
}
