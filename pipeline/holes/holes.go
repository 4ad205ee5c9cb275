// Package holes finds the holes and pockets of a part that surface
// reconstruction capped over, by checking the part's flat faces against the
// photos, and cuts them into the part's mesh.
//
// Multi-view stereo matches windows of several pixels. Across a hole a few
// dozen pixels wide, a window that straddles the rim matches best on the
// face around it, whose rim is the sharpest thing it sees, so the face is
// carried across the hole and the mesh closes over it. The photos still
// tell: a point of a real face looks the same from every photo that sees
// it, while a point of the cap shows each photo a different part of the
// hole's walls. Find therefore samples each flat face of the part
// (mesh.Flatten makes them exact) with small patches laid on the plane,
// compares every photo's view of each patch with the most frontal one
// (normalised cross-correlation, and the mean brightness where the face
// has no texture), and takes a region of disagreeing patches enclosed by
// agreeing ones as a capped hole. A hole is then only kept if its walls,
// laid as the region's outline carried straight into the part along the
// face's normal, do agree across the photos that see them through the
// opening; they tell how deep it goes. This is the photo-consistency test
// of voxel colouring and space carving (Seitz and Dyer 1999; Kutulakos
// and Seitz 2000) asked of one hypothesis per hole: drilled holes and
// pockets run square to the face they open in.
package holes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/mvs"
)

// Options tune Find. The zero value is ready to use.
type Options struct {
	// Workers is how many goroutines check patches (0: GOMAXPROCS).
	Workers int
	// Progress, when set, is called with the fraction done.
	Progress func(float64)
}

// Hole is a hole or pocket Find found.
type Hole struct {
	// Centre is where its axis meets the face it opens in; Axis points
	// into the part.
	Centre r3.Vec `json:"centre"`
	Axis   r3.Vec `json:"axis"`
	// Diameter is that of a circle of the same area as its opening, Area.
	Diameter float64 `json:"diameter"`
	Area     float64 `json:"area"`
	// Depth is how deep it is cut; Through that it runs out of the
	// opposite face. SeenDepth is how deep the photos saw its walls.
	Depth     float64 `json:"depth"`
	Through   bool    `json:"through"`
	SeenDepth float64 `json:"seen_depth"`
	// CapNCC is the median agreement (normalised cross-correlation,
	// −1…1) of the photos on the surface that closed the hole; WallNCC
	// that on its walls as cut.
	CapNCC  float64 `json:"cap_ncc"`
	WallNCC float64 `json:"wall_ncc"`

	outline []r3.Vec // the opening, counter-clockwise about −Axis, on the face
	top     *region
	exit    *region // the face it runs out of (Through)
	thick   float64 // the part's thickness along the axis
}

// Rejected is a region of a face the photos disagreed on that was not
// taken as a hole, and why.
type Rejected struct {
	Centre   r3.Vec  `json:"centre"`
	Diameter float64 `json:"diameter"`
	Reason   string  `json:"reason"`
}

// Report says what Find checked and found.
type Report struct {
	Faces    int        `json:"faces_checked"` // flat faces of the part
	Patches  int        `json:"patches"`       // patches compared across photos
	Views    int        `json:"views"`
	Holes    []Hole     `json:"holes"`
	Rejected []Rejected `json:"rejected,omitempty"`
	Seconds  float64    `json:"seconds"`
}

// Errors Find returns for input it cannot check.
var (
	ErrEmptyMesh = errors.New("holes: empty mesh")
	ErrFewViews  = errors.New("holes: fewer than 2 photos")
)

const (
	half      = 3               // a patch is (2·half+1)² points
	minSD     = 8.0 / 255       // a patch with less contrast has no texture to compare
	capNCC    = 0.3             // a textured patch the photos agree on less is a cap's
	capMean   = 20.0 / 255      // … if its brightness differs by this much too
	flatMean  = 30.0 / 255      // an untextured patch whose brightness differs more
	wallNCC   = 0.4             // walls the photos agree on at least this well are real
	floorNCC  = 0.75            // a hole's floor is where they agree this well at least
	floorDrop = 0.15            // … and this much better than a little deeper
	rimLevel  = 0.35            // the rim: where the spread of single points falls to this share of the step
	minCos    = 0.6             // a face seen more obliquely than 53° is not compared
	wallCos   = 0.3             // walls are seen obliquely: up to 72°
	minShare  = 0.01            // flat faces smaller than this share of the area are not checked
	minCells  = 4 * half * half // a cap covers at least this many differing patches
	maxCells  = 1 << 22         // the most patches of one face's grid (4096²)
)

// Find checks the flat faces of part m (watertight, outward-facing, its
// planes exact, as mesh.Flatten and mesh.Repair leave it) against views,
// photos whose cameras are in m's frame, and returns the holes the mesh
// closed over. The holes are for Cut, on the same mesh.
func Find(ctx context.Context, m *geom.Mesh, views []*mvs.View, opts *Options) (*Report, error) {
	start := time.Now()
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	progress := func(f float64) {
		if o.Progress != nil {
			o.Progress(f)
		}
	}
	if m == nil || len(m.Faces) == 0 {
		return nil, ErrEmptyMesh
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("holes: %w", err)
	}
	if len(views) < 2 {
		return nil, ErrFewViews
	}
	for _, v := range views {
		if v == nil {
			return nil, errors.New("holes: a nil photo")
		}
		if err := v.Check(); err != nil {
			return nil, fmt.Errorf("holes: %w", err)
		}
	}
	rep := &Report{Views: len(views)}
	cams := make([]*camera, len(views))
	errs := make([]error, len(views))
	parallel(len(views), o.Workers, func(i int) {
		cams[i], errs[i] = newCamera(ctx, views[i], m, 2)
	})
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	progress(0.2)
	nb := edgeMap(m)
	edge := mesh.MedianEdge(m)
	regions, err := flatRegions(ctx, m, nb, 0.05*edge, minShare*m.Area())
	if err != nil {
		return nil, err
	}
	rep.Faces = len(regions)
	for k, r := range regions {
		holes, rejected, n, err := checkFace(ctx, m, r, regions, cams, edge, &o)
		if err != nil {
			return nil, err
		}
		rep.Patches += n
		rep.Holes = append(rep.Holes, holes...)
		rep.Rejected = append(rep.Rejected, rejected...)
		progress(0.2 + 0.8*float64(k+1)/float64(len(regions)))
	}
	rep.Seconds = time.Since(start).Seconds()
	return rep, nil
}

// footprint returns the median size, in world units, of a photo pixel on
// the region as the cameras that face it see it.
func footprint(m *geom.Mesh, r *region, cams []*camera) float64 {
	var c r3.Vec
	for _, f := range r.faces {
		t := m.Faces[f]
		c = r3.Add(c, r3.Add(m.Vertices[t[0]], r3.Add(m.Vertices[t[1]], m.Vertices[t[2]])))
	}
	c = r3.Scale(1/float64(3*len(r.faces)), c)
	var fs []float64
	for _, cam := range cams {
		d := r3.Sub(cam.centre, c)
		if r3.Dot(d, r.n) > 0 {
			fs = append(fs, r3.Norm(d)*cam.pixelAngle)
		}
	}
	if len(fs) == 0 {
		return 0
	}
	slices.Sort(fs)
	return fs[len(fs)/2]
}

// Cell states of a face's check.
const (
	unchecked uint8 = iota
	agrees
	unknown // too few photos, or disagreeing a little
	differs
	plain // no texture, and the same brightness in every photo
)

// checkFace checks one flat face and returns its holes, the regions it
// rejected and how many patches it compared.
func checkFace(ctx context.Context, m *geom.Mesh, r *region, regions []*region, cams []*camera, edge float64, o *Options) ([]Hole, []Rejected, int, error) {
	fp := footprint(m, r, cams)
	if !(fp > 0) {
		return nil, nil, 0, nil
	}
	// Patches of 7×7 points, ¾ of a pixel apart: a patch spans about 5
	// pixels, fits in a hole a few times its size, and is checked at
	// every point of the grid. A face too large for that grid is
	// checked more coarsely.
	step := 0.75 * fp
	if su, sv := r.span(m); su*sv/(step*step) > maxCells {
		step = math.Sqrt(su * sv / maxCells)
	}
	r.rasterize(m, step)
	// What the face encloses is checked too: where the mesh closed over a
	// hole it is often not flat, and so not part of the face.
	r.mask = fillMask(r.mask, r.w, r.h)
	inner := erode(r.mask, r.w, r.h, half+1)
	state := make([]uint8, r.w*r.h)
	score := make([]float32, r.w*r.h)
	// A cap bulges off the face's plane by up to an edge or two.
	slack := max(2*step, 3*edge)
	var mu sync.Mutex
	count := 0
	parallelRows(ctx, r.h, o.Workers, func(j int) {
		n := 0
		s := newScratch(len(cams))
		for i := range r.w {
			if !inner[j*r.w+i] {
				continue
			}
			p := patch{o: r.at(float64(i), float64(j)), a: r3.Scale(step, r.u), b: r3.Scale(step, r.v), half: half}
			v := s.compare(&p, r.n, minCos, cams, nil, slack)
			state[j*r.w+i], score[j*r.w+i] = v.state, float32(v.ncc)
			n++
		}
		mu.Lock()
		count += n
		mu.Unlock()
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, 0, err
	}
	var holes []Hole
	var rejected []Rejected
	for _, b := range blobs(state, r.w, r.h) {
		h, why := r.hole(m, b, state, score, regions, cams, step, edge, slack)
		switch {
		case h == nil:
		case why == "":
			holes = append(holes, *h)
		default:
			rejected = append(rejected, Rejected{Centre: h.Centre, Diameter: h.Diameter, Reason: why})
		}
	}
	// Two openings that overlap are one hole seen in pieces: the larger
	// is kept.
	slices.SortStableFunc(holes, func(a, b Hole) int { return cmp.Compare(b.Area, a.Area) })
	var kept []Hole
	for _, h := range holes {
		if k := overlapping(h, kept); k >= 0 {
			rejected = append(rejected, Rejected{Centre: h.Centre, Diameter: h.Diameter, Reason: fmt.Sprintf("it overlaps the larger hole at (%.4g, %.4g, %.4g)", kept[k].Centre.X, kept[k].Centre.Y, kept[k].Centre.Z)})
			continue
		}
		kept = append(kept, h)
	}
	holes = kept
	return holes, rejected, count, nil
}

// overlapping returns the index of a hole of hs whose opening h's
// overlaps, or −1.
func overlapping(h Hole, hs []Hole) int {
	reach := func(h Hole) float64 {
		var r float64
		for _, p := range h.outline {
			r = math.Max(r, r3.Norm(r3.Sub(p, h.Centre)))
		}
		return r
	}
	for k, o := range hs {
		if r3.Norm(r3.Sub(h.Centre, o.Centre)) < reach(h)+reach(o) {
			return k
		}
	}
	return -1
}

// scratch is one worker's buffers for comparing patches.
type scratch struct {
	order []int
	cos   []float64
	ref   []float64
	buf   []float64
	nccs  []float64
	means []float64
}

func newScratch(n int) *scratch {
	k := (2*half + 1) * (2*half + 1)
	return &scratch{order: make([]int, 0, n), cos: make([]float64, n), ref: make([]float64, k), buf: make([]float64, k)}
}

// verdict is what the photos say of a patch.
type verdict struct {
	state uint8   // agrees, unknown or differs
	ncc   float64 // median NCC of the other photos with the most frontal
	sd    float64 // the most frontal photo's contrast on the patch
	views int     // photos compared with it
}

// compare reads patch p in the cameras that face it (normal n, cosine at
// least minCos) and see its centre (through, when set, decides instead of
// the depth buffer), and says whether they agree.
func (s *scratch) compare(p *patch, n r3.Vec, minCos float64, cams []*camera, through func(c *camera) bool, slack float64) verdict {
	s.order = s.order[:0]
	for k, c := range cams {
		d := r3.Sub(c.centre, p.o)
		l := r3.Norm(d)
		cs := r3.Dot(d, n) / l
		if !(cs >= minCos) {
			continue
		}
		if through != nil {
			if !through(c) {
				continue
			}
		} else if !c.visible(p.o, slack) {
			continue
		}
		s.cos[k] = cs
		s.order = append(s.order, k)
	}
	if len(s.order) < 2 {
		return verdict{state: unknown}
	}
	slices.SortFunc(s.order, func(a, b int) int {
		switch {
		case s.cos[a] > s.cos[b]:
			return -1
		case s.cos[a] < s.cos[b]:
			return 1
		}
		return a - b
	})
	refAt := -1
	for k, c := range s.order {
		if p.read(cams[c], s.ref) {
			refAt = k
			break
		}
	}
	if refAt < 0 {
		return verdict{state: unknown}
	}
	mr, sr := stats(s.ref)
	s.nccs, s.means = s.nccs[:0], s.means[:0]
	for _, c := range s.order[refAt+1:] {
		if !p.read(cams[c], s.buf) {
			continue
		}
		mb, _ := stats(s.buf)
		s.nccs = append(s.nccs, ncc(s.ref, s.buf))
		s.means = append(s.means, math.Abs(mb-mr))
	}
	if len(s.nccs) == 0 {
		return verdict{state: unknown, sd: sr}
	}
	v := verdict{state: unknown, ncc: median(s.nccs), sd: sr, views: len(s.nccs)}
	dm := median(s.means)
	switch {
	case sr >= minSD && v.ncc < capNCC && dm > capMean, sr < minSD && dm > flatMean:
		v.state = differs
	case sr >= minSD && v.ncc >= capNCC:
		v.state = agrees
	case sr < minSD && dm <= capMean:
		v.state = plain
	}
	return v
}

// median returns the median of xs, reordering them.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}

// parallel calls f(0…n−1) on up to workers goroutines.
func parallel(n, workers int, f func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// parallelRows calls f for each row, stopping early when ctx is done.
func parallelRows(ctx context.Context, h, workers int, f func(j int)) {
	parallel(h, workers, func(j int) {
		if ctx.Err() == nil {
			f(j)
		}
	})
}
