package cad

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
	"gonum.org/v1/gonum/spatial/r3"
)

// The general tessellator for cylindrical, conical and spherical faces
// works in the surface's parameters: the angle about the axis and the
// height along it (the latitude on a sphere). A face's loops, mapped there
// and unwrapped continuously, are closed polygons, or go once around the
// axis: two that go around are joined by a cut into one polygon, and one
// that goes around alone bounds a cap about the pole (a sphere's, a cone's
// apex) on the face's side, drawn about that pole instead (uvPlane). The
// polygon, holes and all, is ear-clipped by mesh.TriangulatePlanar, made
// Delaunay by edge flips and refined by splitting edges at their middles,
// new vertices on the surface, until each triangle lies within tol of it.
// Edges on the face's boundary are never split, so that the faces on
// either side of an edge keep sharing its samples. A plane that draws a
// boundary edge far from where it lies on the surface (faithful) is given
// up for the next axis; a cap on a sphere that reaches so near the other
// pole that its plane does so, such as a sphere less a small hole, is
// split along a ring of latitude into two (splitCap). Refinement gives up
// after a few times the splits a face needs by estimate.

// maxSpan is the widest angle about the axis that an edge the tessellator
// makes may span: a third of a turn, as sampleEdge's arcs, so that no
// triangle reaches far enough round the axis to turn over or to meet
// another copy of itself.
const maxSpan = 2*math.Pi/3 + 1e-9

// poleSlack is how far, in radians of longitude, consecutive samples of a
// loop on a sphere may be apart for the loop to be unwrapped about an axis
// without doubt; beyond it another axis is tried first (see uvSurfaces).
const poleSlack = 0.75 * math.Pi

type uvKind uint8

const (
	uvCylinder uvKind = iota
	uvCone
	uvSphere
)

// uvSurface is a cylinder, cone or sphere in the coordinates its face is
// triangulated in: w, the angle about the unit axis a from x towards
// y = a × x, times s, and v, the height along a from o (cylinder, cone) or
// the latitude (sphere, about its centre o). s is −1 when the face's
// outward normal is against the surface's: (u, v) turns like the
// surface's normal, so (w, v) turns like the face's, and the face's loops
// run counter-clockwise in it as they do seen from outside.
type uvSurface struct {
	kind       uvKind
	o, a, x, y r3.Vec
	r          float64 // radius; a cone's at o
	tan, cos   float64 // a cone's semi-angle's tangent and cosine
	s          float64
}

// at returns the surface's point at (w, v).
func (g *uvSurface) at(w, v float64) r3.Vec {
	u := g.s * w
	radial := r3.Add(r3.Scale(math.Cos(u), g.x), r3.Scale(math.Sin(u), g.y))
	switch g.kind {
	case uvCone:
		return r3.Add(g.o, r3.Add(r3.Scale(v, g.a), r3.Scale(g.r+v*g.tan, radial)))
	case uvSphere:
		return r3.Add(g.o, r3.Scale(g.r, r3.Add(r3.Scale(math.Cos(v), radial), r3.Scale(math.Sin(v), g.a))))
	}
	return r3.Add(g.o, r3.Add(r3.Scale(v, g.a), r3.Scale(g.r, radial)))
}

// coords returns p's (w, v) and whether p is on the axis (a sphere's pole,
// a cone's apex), where w means nothing.
func (g *uvSurface) coords(p r3.Vec) (w, v float64, singular bool) {
	d := r3.Sub(p, g.o)
	h, px, py := r3.Dot(d, g.a), r3.Dot(d, g.x), r3.Dot(d, g.y)
	rho := math.Hypot(px, py)
	w = g.s * math.Atan2(py, px)
	v = h
	if g.kind == uvSphere {
		v = math.Atan2(h, rho)
	}
	return w, v, rho <= 1e-9*(g.r+r3.Norm(d))
}

// dist returns how far p is from the surface.
func (g *uvSurface) dist(p r3.Vec) float64 {
	d := r3.Sub(p, g.o)
	h := r3.Dot(d, g.a)
	rho := r3.Norm(r3.Sub(d, r3.Scale(h, g.a)))
	switch g.kind {
	case uvCone:
		// From the cone's line in the half-plane through the axis and p.
		return math.Abs((rho - g.r - h*g.tan) * g.cos)
	case uvSphere:
		return math.Abs(r3.Norm(d) - g.r)
	}
	return math.Abs(rho - g.r)
}

// normal returns a vector along the face's outward normal at (w, v), not
// of unit length.
func (g *uvSurface) normal(w, v float64) r3.Vec {
	u := g.s * w
	radial := r3.Add(r3.Scale(math.Cos(u), g.x), r3.Scale(math.Sin(u), g.y))
	switch g.kind {
	case uvCone:
		radial = r3.Sub(radial, r3.Scale(g.tan, g.a))
	case uvSphere:
		radial = r3.Add(r3.Scale(math.Cos(v), radial), r3.Scale(math.Sin(v), g.a))
	}
	return r3.Scale(g.s, radial)
}

// pole returns the v of the surface's pole at the top (largest v) or the
// bottom: a sphere has both, a cone only its apex at the bottom (its
// radius grows along the axis), a cylinder none.
func (g *uvSurface) pole(top bool) (float64, bool) {
	switch {
	case g.kind == uvSphere && top:
		return math.Pi / 2, true
	case g.kind == uvSphere:
		return -math.Pi / 2, true
	case g.kind == uvCone && !top:
		return -g.r / g.tan, true
	}
	return 0, false
}

// size returns the surface's radius near parameter height v, to weigh w
// against v where shapes matter and to judge how far off it a boundary
// may lie.
func (g *uvSurface) size(v float64) float64 {
	switch g.kind {
	case uvCone:
		return math.Max(0, g.r+v*g.tan)
	case uvSphere:
		return g.r * math.Cos(v)
	}
	return g.r
}

// wrapPi returns the angle d brought into [−π, π].
func wrapPi(d float64) float64 {
	return d - 2*math.Pi*math.Round(d/(2*math.Pi))
}

// uvPoint is a point of the domain: its (w, v), where it lies in the plane
// the domain is triangulated in (x, y, see uvPlane), and the mesh vertex
// it stands for. Several points may stand for one vertex: copies of it a
// turn apart on either side of a seam or a cut. At a pole w means nothing.
type uvPoint struct {
	w, v float64
	x, y float64
	id   int32
	pole bool
}

// uvLoop is a boundary loop in (w, v), unwrapped along its samples: turns
// is how many times it goes round the axis (its last point is followed by
// its first moved by turns full turns), area its signed area when it does
// not.
type uvLoop struct {
	pts        []uvPoint
	turns      int
	area       float64
	wmin, wmax float64
}

// segment returns the loop's edge from point i to the next, the last
// joined to the first moved by turns turns.
func (l *uvLoop) segment(i int) (uvPoint, uvPoint) {
	j := i + 1
	if j < len(l.pts) {
		return l.pts[i], l.pts[j]
	}
	q := l.pts[0]
	q.w += 2 * math.Pi * float64(l.turns)
	return l.pts[i], q
}

// patch triangulates a cylindrical, conical or spherical face of any
// boundary by the parameter-space method above.
func (t *tessellator) patch(f Face) error {
	loops := t.loops(f)
	gs := t.uvSurfaces(f, loops)
	if len(gs) == 0 {
		return fmt.Errorf("%w: surface %T", ErrUnsupportedFace, f.Surface)
	}
	// A boundary far off the surface is a solid that does not hold
	// together, not a modelling tolerance: its samples cannot be placed
	// in the surface's parameters.
	g := gs[0]
	for _, loop := range loops {
		for _, id := range loop {
			p := t.m.Vertices[id]
			_, v, _ := g.coords(p)
			if d, allow := g.dist(p), 10*t.tol+0.02*max(g.size(v), g.r); d > allow {
				return fmt.Errorf("%w: boundary point %v is %.3g mm off the face's %T, more than %.3g", ErrUnsupportedFace, p, d, f.Surface, allow)
			}
		}
	}
	var err error
	for _, g := range gs {
		var ds []*uvDomain
		if ds, err = t.uvDomains(g, loops); err == nil {
			for _, d := range ds {
				if err := t.refine(d); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return err
}

// loops returns the face's loops as the mesh vertices of their samples.
func (t *tessellator) loops(f Face) [][]int32 {
	var loops [][]int32
	for _, bound := range f.Bounds {
		var loop []int32
		for _, oe := range bound {
			loop = append(loop, t.use(oe)...)
		}
		loops = append(loops, loop)
	}
	return loops
}

// uvSurfaces returns the face's surface in the coordinates patch uses. A
// cylinder and a cone have one choice of axis; a sphere's axis is free, and
// the candidates come in the order to try them: the sphere's own, the axes
// of circles on the face's boundary, the directions of its loops' middles
// (a loop about a pole winds about the axis and is handled), then the
// sphere's other two directions; those about which consecutive samples lie
// more than poleSlack apart in longitude, so that unwrapping them is a
// guess, come last.
func (t *tessellator) uvSurfaces(f Face, loops [][]int32) []*uvSurface {
	s := 1.0
	if !f.SameSense {
		s = -1
	}
	switch g := f.Surface.(type) {
	case *Cylinder:
		return []*uvSurface{{kind: uvCylinder, o: g.Origin, a: g.Axis, x: g.XDir, y: r3.Cross(g.Axis, g.XDir), r: g.Radius, s: s}}
	case *Cone:
		return []*uvSurface{{kind: uvCone, o: g.Origin, a: g.Axis, x: g.XDir, y: r3.Cross(g.Axis, g.XDir), r: g.Radius,
			tan: math.Tan(g.SemiAngle), cos: math.Cos(g.SemiAngle), s: s}}
	case *Sphere:
		axes := []r3.Vec{g.Axis}
		add := func(a r3.Vec) {
			n := r3.Norm(a)
			if !(n > 1e-9*g.Radius) {
				return
			}
			a = r3.Scale(1/n, a)
			for _, b := range axes {
				if math.Abs(r3.Dot(a, b)) > 1-1e-9 {
					return
				}
			}
			axes = append(axes, a)
		}
		for _, bound := range f.Bounds {
			for _, oe := range bound {
				if c, ok := t.s.Edges[oe.Edge].Curve.(*Circle); ok {
					add(c.Axis)
				}
			}
		}
		for _, loop := range loops {
			var sum r3.Vec
			for _, id := range loop {
				sum = r3.Add(sum, r3.Unit(r3.Sub(t.m.Vertices[id], g.Centre)))
			}
			add(sum)
		}
		add(g.XDir)
		add(r3.Cross(g.Axis, g.XDir))
		type cand struct {
			g    *uvSurface
			step float64
		}
		var cs []cand
		for _, a := range axes {
			x := r3.Sub(g.XDir, r3.Scale(r3.Dot(g.XDir, a), a))
			if r3.Norm(x) < 0.1 {
				x = r3.Sub(g.Axis, r3.Scale(r3.Dot(g.Axis, a), a))
			}
			x = r3.Unit(x)
			u := &uvSurface{kind: uvSphere, o: g.Centre, a: a, x: x, y: r3.Cross(a, x), r: g.Radius, s: s}
			cs = append(cs, cand{u, t.widestStep(u, loops)})
		}
		slices.SortStableFunc(cs, func(p, q cand) int {
			if p.step <= poleSlack && q.step <= poleSlack {
				return 0
			}
			return cmp.Compare(p.step, q.step)
		})
		var out []*uvSurface
		for _, c := range cs {
			out = append(out, c.g)
		}
		return out
	}
	return nil
}

// widestStep returns the largest angle about g's axis between consecutive
// samples of a loop, a sample on the axis skipped.
func (t *tessellator) widestStep(g *uvSurface, loops [][]int32) float64 {
	var widest float64
	for _, loop := range loops {
		prev, first := 0.0, true
		for k := 0; k <= len(loop); k++ {
			w, _, singular := g.coords(t.m.Vertices[loop[k%len(loop)]])
			if singular {
				continue
			}
			if !first {
				widest = math.Max(widest, math.Abs(wrapPi(w-prev)))
			}
			prev, first = w, false
		}
	}
	return widest
}

// unwrap maps a loop of mesh vertices to (w, v), each angle the previous
// one's plus the smaller turn between them. A sample at a pole stands for
// two points, where the loop arrives at the pole and where it leaves (one
// point of the plane, see uvPlane, but the turn between them counts in the
// loop's winding): the face lies to the left of the loop, so at the top
// pole the loop turns towards smaller w, and at the bottom one towards
// larger w, by up to a full turn (a full one when it leaves the pole the
// way it came, as along a seam).
func (t *tessellator) unwrap(g *uvSurface, ids []int32) (uvLoop, error) {
	type sample struct {
		w, v     float64
		singular bool
	}
	n := len(ids)
	sm := make([]sample, n)
	first := -1
	for i, id := range ids {
		w, v, singular := g.coords(t.m.Vertices[id])
		sm[i] = sample{w, v, singular}
		if first < 0 && !singular {
			first = i
		}
	}
	var l uvLoop
	if first < 0 {
		return l, fmt.Errorf("%w: a loop with every point on the axis", ErrUnsupportedFace)
	}
	w0 := sm[first].w
	w, prev := w0, w0
	l.pts = append(l.pts, uvPoint{w: w, v: sm[first].v, id: ids[first]})
	for k := 1; k <= n; k++ {
		j := (first + k) % n
		if !sm[j].singular {
			w += wrapPi(sm[j].w - prev)
		} else {
			// k < n here: the loop's first sample is off the axis.
			k++
			next := (first + k) % n
			if sm[next].singular {
				return l, fmt.Errorf("%w: a loop with two consecutive points on the axis", ErrUnsupportedFace)
			}
			top := g.kind == uvSphere && sm[j].v > 0
			pv, ok := g.pole(top)
			if !ok {
				return l, fmt.Errorf("%w: a loop through the cone's apex from the wrong side", ErrUnsupportedFace)
			}
			jump := wrapPi(sm[next].w - prev)
			switch {
			case top && jump > -1e-9:
				jump -= 2 * math.Pi
			case !top && jump < 1e-9:
				jump += 2 * math.Pi
			}
			l.pts = append(l.pts, uvPoint{w: w, v: pv, id: ids[j], pole: true}, uvPoint{w: w + jump, v: pv, id: ids[j], pole: true})
			w += jump
			j = next
		}
		prev = sm[j].w
		if k < n {
			l.pts = append(l.pts, uvPoint{w: w, v: sm[j].v, id: ids[j]})
		}
	}
	turns := math.Round((w - w0) / (2 * math.Pi))
	if math.Abs(w-w0-2*math.Pi*turns) > 1e-6 || math.Abs(turns) > 1 {
		return l, fmt.Errorf("%w: a loop that goes %.3g times round the axis", ErrUnsupportedFace, (w-w0)/(2*math.Pi))
	}
	l.turns = int(turns)
	l.wmin, l.wmax = math.Inf(1), math.Inf(-1)
	for i := range l.pts {
		p, q := l.segment(i)
		l.area += (p.w*q.v - q.w*p.v) / 2
		l.wmin, l.wmax = min(l.wmin, p.w, q.w), max(l.wmax, p.w, q.w)
	}
	return l, nil
}

// uvDomain is the region of (w, v) that a face covers once: one polygon,
// its outer loop first and then its holes, as indices into pts. twins are
// pairs of its edges, each from p to q, that stand for the same mesh edge
// run the other way: the two sides of a cut.
type uvDomain struct {
	uvPlane
	pts   []uvPoint
	loops [][]int32
	twins [][2][2]int32
	// hollow: polar, about a pole that a hole of the domain surrounds
	// rather than one it covers (see splitCap).
	hollow bool
}

// uvPlane maps (w, v) to the plane a domain is triangulated in, where a
// pole is one point rather than a line. Either a strip, x = (w − wc)·s and
// y = t(v), with t the length along a meridian, shrunk by rulingWeight on
// a cylinder or a cone, and s a radius of the surface: constant, its
// radius at the domain's middle height, so that the strip is not sheared
// and the two sides of a band's cut, a turn apart in w, stay as far apart
// in x all along (a split at the middle of both relies on it); or, where
// the domain reaches a pole on its boundary, the radius at v, which is 0
// there. Or polar, about the pole that a cap covers: x + iy = f(ρ)·e^(±iw),
// with ρ the length along a meridian from the pole and f(ρ) = ρ, but on a
// cone ref·(ρ/ref)^rulingWeight, which shrinks lengths along the rulings
// against those round the axis as the strip does. Both keep the
// orientation of (w, v).
type uvPlane struct {
	g      *uvSurface
	polar  bool
	sign   float64 // polar: +1 about the top pole, −1 about the bottom one
	wc     float64 // strip: the angle at x = 0
	radius float64 // strip: s, or 0 for the radius at v
	ref    float64 // polar on a cone: ref
}

// rulingWeight shrinks heights on a cylinder or cone against lengths
// round it before the Delaunay flips: a flat triangle strays from such a
// surface only by how far it reaches round the axis, so triangles long
// along the rulings are as good as any and far fewer. (0.1 gives a window
// in a cylinder's wall a twentieth of the triangles that equal weights do,
// and less makes little difference.)
const rulingWeight = 0.1

func (pl *uvPlane) s(v float64) float64 {
	if pl.radius > 0 {
		return pl.radius
	}
	return pl.g.size(v)
}

func (pl *uvPlane) t(v float64) float64 {
	switch pl.g.kind {
	case uvCone:
		return rulingWeight * v / pl.g.cos
	case uvSphere:
		return pl.g.r * v
	}
	return rulingWeight * v
}

func (pl *uvPlane) tInverse(y float64) float64 {
	switch pl.g.kind {
	case uvCone:
		return y * pl.g.cos / rulingWeight
	case uvSphere:
		return y / pl.g.r
	}
	return y / rulingWeight
}

// rho returns the length along a meridian from the pole a polar plane is
// drawn about, and rhoInverse the height at a length.
func (pl *uvPlane) rho(v float64) float64 {
	g := pl.g
	if g.kind == uvCone {
		apex, _ := g.pole(false)
		return (v - apex) / g.cos
	}
	return g.r * (math.Pi/2 - pl.sign*v)
}

func (pl *uvPlane) rhoInverse(rho float64) float64 {
	g := pl.g
	if g.kind == uvCone {
		apex, _ := g.pole(false)
		return apex + rho*g.cos
	}
	return pl.sign * (math.Pi/2 - rho/g.r)
}

// plane returns (w, v) in the plane.
func (pl *uvPlane) plane(w, v float64) (x, y float64) {
	if pl.polar {
		r := pl.rho(v)
		if pl.ref > 0 {
			r = pl.ref * math.Pow(r/pl.ref, rulingWeight)
		}
		return r * math.Cos(w), pl.sign * r * math.Sin(w)
	}
	return (w - pl.wc) * pl.s(v), pl.t(v)
}

// param returns the (w, v) of a point of the plane.
func (pl *uvPlane) param(x, y float64) (w, v float64) {
	if pl.polar {
		r := math.Hypot(x, y)
		if pl.ref > 0 {
			r = pl.ref * math.Pow(r/pl.ref, 1/rulingWeight)
		}
		return math.Atan2(pl.sign*y, x), pl.rhoInverse(r)
	}
	v = pl.tInverse(y)
	if s := pl.s(v); s > 1e-12*pl.g.r {
		return pl.wc + x/s, v
	}
	return pl.wc, v
}

// span returns the angle about the axis between two points: along the
// strip, where the copies of a vertex a turn apart are different points,
// the difference of their w; about a pole, the smaller turn between them.
func (pl *uvPlane) span(a, b uvPoint) float64 {
	if a.pole || b.pole {
		return 0
	}
	if pl.polar {
		return math.Abs(wrapPi(a.w - b.w))
	}
	return math.Abs(a.w - b.w)
}

func (d *uvDomain) addLoop(pts []uvPoint) []int32 {
	loop := make([]int32, len(pts))
	for i, p := range pts {
		loop[i] = int32(len(d.pts))
		d.pts = append(d.pts, p)
	}
	d.loops = append(d.loops, loop)
	return loop
}

// uvDomain settles the face's region in g's coordinates and the plane to
// triangulate it in. Loops that do not go round the axis are an outer loop
// (counter-clockwise) and holes, moved by whole turns into it; of those
// that do, two going opposite ways bound a band, cut open along a segment
// between them, and one alone bounds a cap about the pole the face lies
// towards, drawn about that pole. Anything else, such as a face about both
// poles of a sphere with no loop round either, is an error that wraps
// ErrUnsupportedFace (patch then tries another axis).
func (t *tessellator) uvDomain(g *uvSurface, loops [][]int32) (*uvDomain, error) {
	outer := -1
	var winding, holes []int
	ls := make([]uvLoop, len(loops))
	for i, ids := range loops {
		l, err := t.unwrap(g, ids)
		if err != nil {
			return nil, err
		}
		ls[i] = l
		switch {
		case l.turns != 0:
			winding = append(winding, i)
		case l.area > 0 && outer < 0:
			outer = i
		case l.area > 0:
			return nil, fmt.Errorf("%w: two outer loops", ErrUnsupportedFace)
		default:
			holes = append(holes, i)
		}
	}
	var obstacles []*uvLoop
	for _, i := range holes {
		obstacles = append(obstacles, &ls[i])
	}
	d := &uvDomain{uvPlane: uvPlane{g: g}}
	var err error
	switch {
	case len(winding) == 0 && outer >= 0:
		d.addLoop(ls[outer].pts)
	case len(winding) == 2 && outer < 0 && ls[winding[0]].turns != ls[winding[1]].turns:
		lo, hi := &ls[winding[0]], &ls[winding[1]]
		if lo.turns < 0 {
			lo, hi = hi, lo
		}
		err = d.band(lo, hi, obstacles)
	case len(winding) == 1 && outer < 0:
		// A cap: drawn about its pole, its loop is a polygon round it
		// and its holes lie where they are.
		l := &ls[winding[0]]
		if _, ok := g.pole(l.turns > 0); !ok {
			return nil, fmt.Errorf("%w: a loop round the axis with the face on the side that has no pole", ErrUnsupportedFace)
		}
		d.polar, d.sign = true, float64(l.turns)
		if g.kind == uvCone {
			for _, p := range l.pts {
				d.ref = math.Max(d.ref, d.rho(p.v))
			}
		}
		d.addLoop(l.pts)
		for _, h := range obstacles {
			d.addLoop(h.pts)
		}
		obstacles = nil
	default:
		err = fmt.Errorf("%w: %d loops round the axis and %d outer loops", ErrUnsupportedFace, len(winding), max(outer+1, 0))
	}
	if err != nil {
		return nil, err
	}
	for _, h := range obstacles {
		if err := d.placeHole(h); err != nil {
			return nil, err
		}
	}
	if !d.polar {
		wmin, wmax, vsum, n, poles := math.Inf(1), math.Inf(-1), 0.0, 0.0, false
		for _, p := range d.pts {
			if p.pole {
				poles = true
				continue
			}
			wmin, wmax, vsum, n = min(wmin, p.w), max(wmax, p.w), vsum+p.v, n+1
		}
		d.wc = (wmin + wmax) / 2
		if !poles {
			vm := vsum / n
			d.radius = g.size(vm)
			if g.kind == uvSphere {
				d.radius = g.r * math.Max(math.Cos(vm), 0.05)
			}
		}
		if poles && len(d.twins) > 0 && g.kind == uvSphere {
			// The two sides of the cut would not stay a turn apart.
			return nil, fmt.Errorf("%w: a band through a pole", ErrUnsupportedFace)
		}
	}
	d.place()
	return d, nil
}

// place puts the domain's points in the plane.
func (d *uvDomain) place() {
	for i := range d.pts {
		p := &d.pts[i]
		p.x, p.y = d.plane(p.w, p.v)
	}
	// Where a loop passes through a pole it arrives and leaves at two
	// angles, one point of the plane.
	for li, loop := range d.loops {
		var out []int32
		for k, i := range loop {
			if j := loop[(k+1)%len(loop)]; d.pts[i].pole && d.pts[j].pole && d.pts[i].id == d.pts[j].id {
				continue
			}
			out = append(out, i)
		}
		d.loops[li] = out
	}
}

// uvDomains returns the domains that together cover the face in g's
// coordinates: the one uvDomain settles where it draws every boundary edge
// faithfully; else, for a cap on a sphere, the cap split in two along a
// ring of latitude (splitCap).
func (t *tessellator) uvDomains(g *uvSurface, loops [][]int32) ([]*uvDomain, error) {
	d, err := t.uvDomain(g, loops)
	if err != nil {
		return nil, err
	}
	if err = t.faithful(d); err == nil {
		return []*uvDomain{d}, nil
	}
	if d.polar && g.kind == uvSphere {
		ds, serr := t.splitCap(g, loops, d)
		if serr == nil {
			return ds, nil
		}
		err = fmt.Errorf("%w; split along a ring of latitude: %v", err, serr)
	}
	return nil, err
}

// faithful returns an error that wraps ErrUnsupportedFace when the plane
// draws a boundary edge of d far from where the edge lies on the surface,
// so far that refinement cannot settle. A boundary edge is never split:
// the triangle on it keeps its two ends, and as the triangles near it are
// refined its third corner comes to lie at points of the plane ever nearer
// the straight edge there, that is at points of the surface near the curve
// the edge is drawn as, which the point at the edge's middle in the plane
// stands for. The edge is drawn unfaithfully when that point lies further
// off the edge than the edge is long, and tol (beyond the chord's own
// distance from the surface), when the triangle through it strays more than twice what
// is allowed there, or when it lies across the edge by more than tol where
// nothing beyond tol is allowed, so that the triangle folds over the edge:
// then the triangle on the edge stays too long or faces inwards however
// small the triangles next to it become, and the triangles along the edge
// are slivers that turn over. So it is with a cap about a pole that
// reaches almost to the other one: a chord near there, short on the
// surface but spanning a wide angle about the axis, is drawn as a straight
// line that cuts deep into the disc the cap becomes (one spanning a fifth
// of a turn passes a fifth of the disc's radius inside its ends), where
// its triangle reaches: a chord 1.4 mm long on a sphere of radius 20 as
// far as 12 mm.
func (t *tessellator) faithful(d *uvDomain) error {
	g := d.g
	var cut map[[2]int32]bool
	if len(d.twins) > 0 {
		cut = map[[2]int32]bool{}
		for _, tw := range d.twins {
			cut[tw[0]], cut[tw[1]] = true, true
		}
	}
	for _, loop := range d.loops {
		for k, i := range loop {
			j := loop[(k+1)%len(loop)]
			p, q := d.pts[i], d.pts[j]
			if p.id == q.id || cut[[2]int32{i, j}] {
				continue
			}
			a, b := t.m.Vertices[p.id], t.m.Vertices[q.id]
			w, v := d.param((p.x+q.x)/2, (p.y+q.y)/2)
			c := g.at(w, v)
			chord := g.chordDeviation(a, b)
			allow := t.tol
			if chord > t.tol {
				allow = coarseAllowance * chord
			}
			// Each point of the triangle lies within δ of the edge, δ
			// how far c is from its middle: the three are met when δ is
			// small, as it mostly is.
			l := r3.Norm(r3.Sub(b, a))
			delta := r3.Norm(r3.Sub(c, r3.Scale(0.5, r3.Add(a, b))))
			if delta <= l+t.tol+chord && chord+delta <= 2*allow && (chord > t.tol || delta <= t.tol) {
				continue
			}
			if off := segmentDistance(c, a, b) - chord; off > l+t.tol {
				return fmt.Errorf("%w: the edge from %v to %v is drawn in the surface's parameters %.3g mm from where it lies", ErrUnsupportedFace, a, b, off)
			}
			var dev [3]float64
			if g.kind != uvSphere {
				dev = [3]float64{chord, g.chordDeviation(b, c), g.chordDeviation(c, a)}
			}
			if e := g.deviation([3]r3.Vec{a, b, c}, dev); e > 2*allow {
				return fmt.Errorf("%w: the triangle on the edge from %v to %v, drawn in the surface's parameters, is %.3g mm from the surface, %.3g allowed", ErrUnsupportedFace, a, b, e, allow)
			}
			if chord > t.tol {
				continue
			}
			// Towards the face, across the edge seen from outside.
			in := r3.Cross(g.normal(w, v), r3.Sub(b, a))
			if n := r3.Norm(in); n > 0 {
				if fold := -r3.Dot(r3.Sub(c, a), in) / n; fold > t.tol {
					return fmt.Errorf("%w: the edge from %v to %v is drawn in the surface's parameters %.3g mm across itself", ErrUnsupportedFace, a, b, fold)
				}
			}
		}
	}
	return nil
}

// splitCap splits the cap d on a sphere, which uvDomain draws about the
// pole F its loop goes round but which faithful finds the plane does not
// follow, along a ring of latitude about F into two domains that share the
// ring's samples: the cap inside the ring, drawn about F, and the rest,
// from the ring to the loop, drawn about the other pole N, which the loop
// goes round as a hole (hollow). The ring lies on the equator, or halfway
// from F to the loop where the loop comes nearer F than that, so that
// each part reaches no further than a hemisphere from its pole where it
// can; each of the face's holes goes with the part it lies in.
func (t *tessellator) splitCap(g *uvSurface, loops [][]int32, d *uvDomain) ([]*uvDomain, error) {
	sign := d.sign
	f := r3.Scale(sign, g.a)
	// colat returns the least angle from F of the chords of a loop, and
	// the greatest.
	colat := func(ids []int32) (lo, hi float64) {
		lo, hi = math.Inf(1), math.Inf(-1)
		for k, id := range ids {
			a, b := t.m.Vertices[id], t.m.Vertices[ids[(k+1)%len(ids)]]
			const n = 8
			for s := range n {
				p := r3.Sub(r3.Add(a, r3.Scale(float64(s)/n, r3.Sub(b, a))), g.o)
				c := math.Atan2(r3.Norm(r3.Cross(p, f)), r3.Dot(p, f))
				lo, hi = min(lo, c), max(hi, c)
			}
		}
		return lo, hi
	}
	var capIDs []int32
	var holes [][]int32
	for _, ids := range loops {
		l, err := t.unwrap(g, ids)
		switch {
		case err != nil:
			return nil, err
		case l.turns == 0:
			holes = append(holes, ids)
		case capIDs != nil:
			return nil, fmt.Errorf("%w: two loops round the axis", ErrUnsupportedFace)
		default:
			capIDs = ids
		}
	}
	if capIDs == nil {
		return nil, fmt.Errorf("%w: no loop round the axis", ErrUnsupportedFace)
	}
	near, _ := colat(capIDs)
	ring := min(math.Pi/2, near/2)
	if !(ring > 1e-3) {
		return nil, fmt.Errorf("%w: a loop through the pole", ErrUnsupportedFace)
	}
	var holesF, holesN [][]int32
	for _, h := range holes {
		switch lo, hi := colat(h); {
		case hi < ring:
			holesF = append(holesF, h)
		case lo > ring:
			holesN = append(holesN, h)
		default:
			return nil, fmt.Errorf("%w: a hole across the ring of latitude %.3g rad from the pole", ErrUnsupportedFace, ring)
		}
	}
	// The ring's chords are within tol of the sphere, and short enough
	// that both planes draw them faithfully: about N, at π − ring from
	// it, a chord spanning 2α is drawn (π − ring)·r·(1 − cos α) inwards
	// of its ends, less than the half chord r·sin(ring)·sin α.
	n := max(t.segments(g.r*math.Sin(ring), 2*math.Pi), int(math.Ceil(math.Pi*(math.Pi-ring)/math.Sin(ring))))
	nv := len(t.m.Vertices)
	fail := func(err error) ([]*uvDomain, error) {
		t.m.Vertices = t.m.Vertices[:nv]
		return nil, err
	}
	v := sign * (math.Pi/2 - ring)
	around := make([]int32, n) // the ring, round F the way the cap's loop goes
	for k := range around {
		around[k] = t.add(g.at(sign*2*math.Pi*float64(k)/float64(n), v))
	}
	inner, err := t.uvDomain(g, append([][]int32{around}, holesF...))
	if err != nil {
		return fail(err)
	}
	if !inner.polar || inner.sign != sign || inner.hollow {
		return fail(fmt.Errorf("%w: the ring does not bound a cap about the pole", ErrUnsupportedFace))
	}
	back := slices.Clone(around)
	slices.Reverse(back)
	outer := &uvDomain{uvPlane: uvPlane{g: g, polar: true, sign: -sign}, hollow: true}
	for _, ids := range append([][]int32{back, capIDs}, holesN...) {
		l, err := t.unwrap(g, ids)
		if err != nil {
			return fail(err)
		}
		outer.addLoop(l.pts)
	}
	outer.place()
	for _, part := range []*uvDomain{inner, outer} {
		if err := t.faithful(part); err != nil {
			return fail(err)
		}
	}
	return []*uvDomain{inner, outer}, nil
}

// band makes the polygon between lo, which goes round the axis towards
// larger w with the face above it, and hi, which goes back above it: lo
// from a point b round to b a turn on, a cut up to a point c of hi, hi
// round to c a turn back and the cut down again. The cut is the shortest
// of those from each point of lo to the nearest point of hi that crosses
// no loop.
func (d *uvDomain) band(lo, hi *uvLoop, holes []*uvLoop) error {
	type cut struct {
		b, c int
		dw   float64 // c's angle less b's
		len  float64
	}
	var vm float64
	for _, p := range lo.pts {
		vm += p.v
	}
	for _, p := range hi.pts {
		vm += p.v
	}
	vm /= float64(len(lo.pts) + len(hi.pts))
	// Lengths on the surface near the loops' middle height.
	kw, kv := d.g.size(vm), 1.0
	if d.g.kind == uvSphere {
		kv = d.g.r
	}
	var cuts []cut
	for b, p := range lo.pts {
		if p.pole {
			continue
		}
		best := cut{b: b, c: -1, len: math.Inf(1)}
		for c, q := range hi.pts {
			if q.pole {
				continue
			}
			dw := wrapPi(q.w - p.w)
			if l := math.Hypot(kw*dw, kv*(q.v-p.v)); l < best.len {
				best.c, best.dw, best.len = c, dw, l
			}
		}
		if best.c >= 0 {
			cuts = append(cuts, best)
		}
	}
	slices.SortStableFunc(cuts, func(x, y cut) int { return cmp.Compare(x.len, y.len) })
	obstacles := append([]*uvLoop{lo, hi}, holes...)
	for _, ct := range cuts {
		b := lo.pts[ct.b]
		c := hi.pts[ct.c]
		c.w = b.w + ct.dw
		if blocked(b, c, obstacles) {
			continue
		}
		// hi's points move by the turns that bring its point c to the
		// cut's upper end a turn on, from where hi runs back.
		shift := 2*math.Pi*math.Round((c.w-hi.pts[ct.c].w)/(2*math.Pi)) + 2*math.Pi
		var pts []uvPoint
		n := len(lo.pts)
		for k := 0; k <= n; k++ {
			p := lo.pts[(ct.b+k)%n]
			if ct.b+k >= n {
				p.w += 2 * math.Pi
			}
			pts = append(pts, p)
		}
		m := len(hi.pts)
		for k := 0; k <= m; k++ {
			p := hi.pts[(ct.c+k)%m]
			p.w += shift
			if ct.c+k >= m {
				p.w -= 2 * math.Pi
			}
			pts = append(pts, p)
		}
		loop := d.addLoop(pts)
		last := len(loop) - 1
		d.twins = append(d.twins, [2][2]int32{{loop[n], loop[n+1]}, {loop[last], loop[0]}})
		if areaWV(d.pts, loop) <= 0 {
			return fmt.Errorf("%w: loops round the axis the wrong way up", ErrUnsupportedFace)
		}
		return nil
	}
	return fmt.Errorf("%w: no cut between the loops round the axis that crosses no boundary", ErrUnsupportedFace)
}

// placeHole adds a hole, moved by the whole turns that bring it inside the
// outer polygon.
func (d *uvDomain) placeHole(h *uvLoop) error {
	outer := d.loops[0]
	wmin, wmax := math.Inf(1), math.Inf(-1)
	for _, i := range outer {
		wmin, wmax = min(wmin, d.pts[i].w), max(wmax, d.pts[i].w)
	}
	ref := -1
	for i, p := range h.pts {
		if !p.pole {
			ref = i
			break
		}
	}
	if ref < 0 {
		return fmt.Errorf("%w: a hole on the axis", ErrUnsupportedFace)
	}
	p := h.pts[ref]
	for k := math.Ceil((wmin - p.w) / (2 * math.Pi)); p.w+2*math.Pi*k <= wmax; k++ {
		if !insideUV(d.pts, outer, p.w+2*math.Pi*k, p.v) {
			continue
		}
		pts := slices.Clone(h.pts)
		for i := range pts {
			pts[i].w += 2 * math.Pi * k
		}
		d.addLoop(pts)
		return nil
	}
	return fmt.Errorf("%w: a hole outside the face", ErrUnsupportedFace)
}

// blocked reports whether the segment from p to q meets an edge of one of
// the loops, at any whole number of turns, other than at p or q.
func blocked(p, q uvPoint, loops []*uvLoop) bool {
	same := func(a, b uvPoint) bool {
		return a.id == b.id && math.Abs(a.w-b.w) < 1e-9 && math.Abs(a.v-b.v) < 1e-9
	}
	lo, hi := min(p.w, q.w), max(p.w, q.w)
	for _, l := range loops {
		for k := math.Ceil((lo - l.wmax) / (2 * math.Pi)); l.wmin+2*math.Pi*k <= hi; k++ {
			shift := 2 * math.Pi * k
			for i := range l.pts {
				a, b := l.segment(i)
				a.w += shift
				b.w += shift
				if same(a, p) || same(a, q) || same(b, p) || same(b, q) {
					continue
				}
				if segmentsMeet(p, q, a, b) {
					return true
				}
			}
		}
	}
	return false
}

// segmentsMeet reports whether the closed segments pq and ab meet.
func segmentsMeet(p, q, a, b uvPoint) bool {
	orient := func(o, s, t uvPoint) float64 {
		return (s.w-o.w)*(t.v-o.v) - (s.v-o.v)*(t.w-o.w)
	}
	on := func(o, s, t uvPoint) bool { // t on the segment os, given collinear
		return min(o.w, s.w) <= t.w && t.w <= max(o.w, s.w) && min(o.v, s.v) <= t.v && t.v <= max(o.v, s.v)
	}
	d1, d2 := orient(p, q, a), orient(p, q, b)
	d3, d4 := orient(a, b, p), orient(a, b, q)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && on(p, q, a)) || (d2 == 0 && on(p, q, b)) || (d3 == 0 && on(a, b, p)) || (d4 == 0 && on(a, b, q))
}

// areaWV and areaXY return the signed area of a loop of points in (w, v)
// and in the plane.
func areaWV(pts []uvPoint, loop []int32) float64 {
	var a float64
	for k, i := range loop {
		p, q := pts[i], pts[loop[(k+1)%len(loop)]]
		a += p.w*q.v - q.w*p.v
	}
	return a / 2
}

func areaXY(pts []uvPoint, loop []int32) float64 {
	var a float64
	for k, i := range loop {
		p, q := pts[i], pts[loop[(k+1)%len(loop)]]
		a += p.x*q.y - q.x*p.y
	}
	return a / 2
}

// insideUV reports whether (w, v) is inside the loop (even–odd rule).
func insideUV(pts []uvPoint, loop []int32, w, v float64) bool {
	in := false
	for k, i := range loop {
		a, b := pts[i], pts[loop[(k+1)%len(loop)]]
		if (a.v > v) != (b.v > v) && a.w+(v-a.v)*(b.w-a.w)/(b.v-a.v) > w {
			in = !in
		}
	}
	return in
}

// uvMesh is a triangulation of a domain being refined: tri holds each
// triangle's corners, counter-clockwise in the plane, as indices into pts,
// and opp[3i+k] the half-edge across triangle i's edge k (from corner k to
// corner k+1) as 3j+l, or −1 on the face's boundary. Across a cut the
// half-edge is the twin's, whose points are other copies of the same
// vertices.
type uvMesh struct {
	uvPlane
	t      *tessellator
	pts    []uvPoint
	tri    [][3]int32
	opp    []int32
	coarse []coarseChord
	cells  map[[3]int32][]int32 // coarse chords near each cell of side cell
	cell   float64
	todo   []int32 // triangles to check
	flip   []int32 // half-edges to check for a flip
}

// refineFactor is how many times the splits that a domain needs by
// estimate (splitEstimate) refine may make before it gives up: a domain
// that does not settle costs no more than a few times what one that does.
// (The tests' faces use up to a quarter of the estimate.)
const refineFactor = 4

// splitEstimate returns about how many splits refine needs for d, by
// excess. Within tol of a surface whose radius of curvature is R, a
// triangle's corners may be about √(R·tol) apart, so that a piece of area
// A takes about A/(R·tol) triangles; the radius round the axis being at
// most R on a cylinder, a cone or a sphere, the triangles round the axis
// along a length ℓ of meridian are at most 2π·ℓ/tol. So over the domain's
// range of heights, to its pole where it covers one, with 64 to each
// boundary point for the grading towards short boundary edges, and some
// to spare.
func (t *tessellator) splitEstimate(d *uvDomain) int {
	g := d.g
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range d.pts {
		lo, hi = min(lo, p.v), max(hi, p.v)
	}
	if d.polar && !d.hollow {
		pv, _ := g.pole(d.sign > 0)
		lo, hi = min(lo, pv), max(hi, pv)
	}
	l := hi - lo
	switch g.kind {
	case uvCone:
		l /= g.cos
	case uvSphere:
		l *= g.r
	}
	n := 2*math.Pi*l/t.tol + 64*float64(len(d.pts)) + 1000
	return int(min(n, 1e9))
}

// refine triangulates the domain, refines it and adds the triangles to the
// mesh. After the ear clipper, and after each split, edges are flipped to
// make the triangulation Delaunay (constrained by the boundary and the
// cuts) in surface lengths: the ear clipper's slivers along a straight run
// of the boundary, as a row of samples on a circle about the axis is in
// (w, v), would otherwise stay, flat in the plane of the circle, and meet
// the face beyond it.
func (t *tessellator) refine(d *uvDomain) error {
	xy := make([]geom.Vec, len(d.pts))
	for i, p := range d.pts {
		xy[i] = geom.Vec{X: p.x, Y: p.y}
	}
	tris, err := mesh.TriangulatePlanar(xy, d.loops)
	if err != nil {
		return fmt.Errorf("curved face: %w", err)
	}
	// The ear clipper makes triangles of any polygon; only those of a
	// simple one cover exactly its area, which a boundary that crosses
	// itself in the surface's parameters does not.
	var want, got float64
	for _, loop := range d.loops {
		want += areaXY(d.pts, loop)
	}
	for _, tr := range tris {
		a := triArea(d.pts[tr[0]], d.pts[tr[1]], d.pts[tr[2]])
		if a < -1e-12*math.Abs(want) {
			got = math.Inf(1)
			break
		}
		got += math.Abs(a)
	}
	if !(math.Abs(got-want) <= 1e-9*math.Abs(want)) {
		return fmt.Errorf("%w: a boundary that crosses itself in the surface's parameters (area %.6g, triangulated %.6g)", ErrUnsupportedFace, want, got)
	}
	m := &uvMesh{uvPlane: d.uvPlane, t: t, pts: d.pts, tri: tris, opp: make([]int32, 3*len(tris))}
	half := make(map[[2]int32]int32, 3*len(tris))
	for i, tr := range tris {
		for k := range 3 {
			key := [2]int32{tr[k], tr[(k+1)%3]}
			if _, dup := half[key]; dup {
				return fmt.Errorf("%w: a triangulation that uses an edge twice the same way", ErrUnsupportedFace)
			}
			half[key] = int32(3*i + k)
		}
	}
	for i, tr := range tris {
		for k := range 3 {
			o, ok := half[[2]int32{tr[(k+1)%3], tr[k]}]
			if !ok {
				o = -1
			}
			m.opp[3*i+k] = o
		}
	}
	for _, tw := range d.twins {
		h1, ok1 := half[tw[0]]
		h2, ok2 := half[tw[1]]
		if !ok1 || !ok2 {
			return fmt.Errorf("%w: a cut the triangulation does not follow", ErrUnsupportedFace)
		}
		m.link(h1, h2)
	}
	cut := map[[2]int32]bool{}
	for _, tw := range d.twins {
		cut[tw[0]], cut[tw[1]] = true, true
	}
	for _, loop := range d.loops {
		for k, i := range loop {
			j := loop[(k+1)%len(loop)]
			if cut[[2]int32{i, j}] {
				continue
			}
			a, b := m.vertex(i), m.vertex(j)
			if dev := m.g.chordDeviation(a, b); dev > t.tol {
				m.coarse = append(m.coarse, coarseChord{a, b, dev})
			}
		}
	}
	m.indexCoarse()
	if d.polar && !d.hollow {
		if err := m.addPole(); err != nil {
			return err
		}
	}
	for h := range m.opp {
		m.flip = append(m.flip, int32(h))
	}
	m.legalize()
	for i := range m.tri {
		m.todo = append(m.todo, int32(i))
	}
	limit := refineFactor * t.splitEstimate(d)
	for splits := 0; len(m.todo) > 0; {
		i := m.todo[len(m.todo)-1]
		m.todo = m.todo[:len(m.todo)-1]
		k, centre := m.check(i)
		switch {
		case centre:
			m.insert(i)
		case k >= 0:
			m.split(i, k)
		default:
			continue
		}
		m.legalize()
		if splits++; splits > limit {
			return fmt.Errorf("%w: refinement does not settle in %d splits", ErrUnsupportedFace, limit)
		}
	}
	for _, tr := range m.tri {
		a, b, c := m.pts[tr[0]].id, m.pts[tr[1]].id, m.pts[tr[2]].id
		if a == b || b == c || c == a {
			// Two copies of a vertex a turn apart: the triangle's other
			// two edges are one mesh edge run both ways, so without it
			// the mesh stays closed.
			continue
		}
		t.m.Faces = append(t.m.Faces, [3]int32{a, b, c})
	}
	return nil
}

func triArea(a, b, c uvPoint) float64 {
	return ((b.x-a.x)*(c.y-a.y) - (c.x-a.x)*(b.y-a.y)) / 2
}

func (m *uvMesh) link(h1, h2 int32) {
	if h1 >= 0 {
		m.opp[h1] = h2
	}
	if h2 >= 0 {
		m.opp[h2] = h1
	}
}

func (m *uvMesh) vertex(i int32) r3.Vec { return m.t.m.Vertices[m.pts[i].id] }

// legalize flips the edges queued in m.flip, and those each flip
// exposes, until every one is locally Delaunay in the plane (Lawson's
// algorithm). Only an edge inside the domain is flipped: not the boundary
// or a cut, whose sides are different copies of its vertices.
func (m *uvMesh) legalize() {
	for len(m.flip) > 0 {
		h := m.flip[len(m.flip)-1]
		m.flip = m.flip[:len(m.flip)-1]
		m.flipEdge(h)
	}
}

// flipEdge replaces the edge of half-edge h, between triangles (a, b, c)
// and (b, a, d), by the edge c–d when d is inside the circle through a,
// b and c and the two triangles form a convex quadrilateral.
func (m *uvMesh) flipEdge(h int32) {
	o := m.opp[h]
	if o < 0 {
		return
	}
	t, k := h/3, int(h%3)
	n, kn := o/3, int(o%3)
	if t == n {
		return
	}
	a, b, c := m.tri[t][k], m.tri[t][(k+1)%3], m.tri[t][(k+2)%3]
	if m.tri[n][kn] != b || m.tri[n][(kn+1)%3] != a {
		return // a cut
	}
	d := m.tri[n][(kn+2)%3]
	xy := func(i int32) (float64, float64) { return m.pts[i].x, m.pts[i].y }
	ax, ay := xy(a)
	bx, by := xy(b)
	cx, cy := xy(c)
	dx, dy := xy(d)
	adx, ady, bdx, bdy, cdx, cdy := ax-dx, ay-dy, bx-dx, by-dy, cx-dx, cy-dy
	la, lb, lc := adx*adx+ady*ady, bdx*bdx+bdy*bdy, cdx*cdx+cdy*cdy
	l := max(la, lb, lc)
	// Both new triangles must turn the right way by more than rounding,
	// or a flip along a straight run of points (a cut, say, whose points
	// lie on a line only to within rounding) makes a sliver of three of
	// them.
	orient := func(px, py, qx, qy, rx, ry float64) float64 { return (qx-px)*(ry-py) - (qy-py)*(rx-px) }
	if orient(cx, cy, ax, ay, dx, dy) <= 1e-9*l || orient(dx, dy, bx, by, cx, cy) <= 1e-9*l {
		return
	}
	det := adx*(bdy*lc-lb*cdy) - ady*(bdx*lc-lb*cdx) + la*(bdx*cdy-bdy*cdx)
	if !(det > 1e-12*l*l) {
		return
	}
	x1, x2 := m.opp[3*t+int32((k+1)%3)], m.opp[3*t+int32((k+2)%3)]   // b→c, c→a
	y1, y2 := m.opp[3*n+int32((kn+1)%3)], m.opp[3*n+int32((kn+2)%3)] // a→d, d→b
	for _, x := range []int32{x1, x2, y1, y2} {
		if x >= 0 && (x/3 == t || x/3 == n) {
			return
		}
	}
	m.tri[t] = [3]int32{c, a, d}
	m.tri[n] = [3]int32{d, b, c}
	m.link(3*t, x2)
	m.link(3*t+1, y1)
	m.link(3*n, y2)
	m.link(3*n+1, x1)
	m.link(3*t+2, 3*n+2)
	m.flip = append(m.flip, 3*t, 3*t+1, 3*n, 3*n+1)
	m.todo = append(m.todo, t, n)
}

// check returns the edge of triangle i to split, or centre when its
// middle should be added instead, or −1 when it is good.
//
// It is good when it is too small to matter (its edges shorter than
// tol/1000). It is bad when an edge it may split (one inside the face, not
// too short) spans more than maxSpan about the axis, or strays from the
// surface more than allowed there; when the triangle strays more than
// allowed inside (see deviation); or when it faces inwards where nothing
// is allowed beyond tol (near a coarse chord the triangles climb from the
// chord to the surface and may stand on edge, which no split mends) and
// it is no sliver, whose normal means nothing.
//
// The edge split is the one that spans most, or strays most beyond what is
// allowed, or, when the triangle faces inwards or is furthest inside, the
// longest. A triangle with no edge to split, all three on the boundary,
// gets its centroid instead.
func (m *uvMesh) check(i int32) (edge int, centre bool) {
	tr := m.tri[i]
	p := [3]uvPoint{m.pts[tr[0]], m.pts[tr[1]], m.pts[tr[2]]}
	if p[0].id == p[1].id || p[1].id == p[2].id || p[2].id == p[0].id || triArea(p[0], p[1], p[2]) <= 0 {
		return -1, false
	}
	tol := m.t.tol
	q := [3]r3.Vec{m.vertex(tr[0]), m.vertex(tr[1]), m.vertex(tr[2])}
	var length [3]float64
	for k := range 3 {
		length[k] = r3.Norm(r3.Sub(q[k], q[(k+1)%3]))
	}
	longest := max(length[0], length[1], length[2])
	if longest < 1e-3*tol {
		return -1, false
	}
	var can [3]bool
	best, widest := -1, maxSpan
	for k := range 3 {
		can[k] = m.opp[3*i+int32(k)] >= 0 && length[k] > 1e-6*tol
		if d := m.span(p[k], p[(k+1)%3]); can[k] && d > widest {
			best, widest = k, d
		}
	}
	if best >= 0 {
		return best, false
	}
	var dev, excess [3]float64
	for k := range 3 {
		a, b := q[k], q[(k+1)%3]
		dev[k] = m.g.chordDeviation(a, b)
		if !can[k] || dev[k] <= tol {
			continue
		}
		if e := dev[k] - m.allowed(r3.Scale(0.5, r3.Add(a, b))); e > 0 && (best < 0 || e > excess[best]) {
			best, excess[k] = k, e
		}
	}
	if best >= 0 {
		return best, false
	}
	centroid := r3.Scale(1.0/3, r3.Add(q[0], r3.Add(q[1], q[2])))
	allow := tol
	if len(m.coarse) > 0 {
		allow = m.allowed(centroid)
	}
	n := r3.Cross(r3.Sub(q[1], q[0]), r3.Sub(q[2], q[0]))
	inward := allow <= tol && r3.Norm(n) > 1e-3*longest*longest &&
		r3.Dot(n, m.g.normal(m.param((p[0].x+p[1].x+p[2].x)/3, (p[0].y+p[1].y+p[2].y)/3))) <= 0
	if !inward && m.deviation(q, dev) <= allow {
		return -1, false
	}
	for k := range 3 {
		if can[k] && (best < 0 || length[k] > length[best]) {
			best = k
		}
	}
	if best < 0 {
		return -1, true
	}
	return best, false
}

// coarseChord is a boundary edge further than tol from the surface.
type coarseChord struct {
	a, b r3.Vec
	dev  float64
}

// coarseAllowance is how much further than a coarse chord's own distance
// from the surface the triangles near it may stray: the mesh must climb
// from the chord to the surface, and refining it there to tol only brings
// new vertices ever closer to the chord, where the triangles stand on
// edge.
const coarseAllowance = 1.5

// indexCoarse files each coarse chord under the cells of a grid that the
// box within its length of it meets, the cells three times the longest
// chord wide, so that allowed looks at a handful of chords, not all the
// hundreds that bound a face fitted to a fine mesh.
func (m *uvMesh) indexCoarse() {
	if len(m.coarse) == 0 {
		return
	}
	m.cell = m.t.tol
	for _, c := range m.coarse {
		m.cell = math.Max(m.cell, 3*r3.Norm(r3.Sub(c.b, c.a)))
	}
	m.cells = map[[3]int32][]int32{}
	for i, c := range m.coarse {
		l := r3.Norm(r3.Sub(c.b, c.a))
		lo := m.cellOf(r3.Sub(r3.Vec{X: min(c.a.X, c.b.X), Y: min(c.a.Y, c.b.Y), Z: min(c.a.Z, c.b.Z)}, r3.Vec{X: l, Y: l, Z: l}))
		hi := m.cellOf(r3.Add(r3.Vec{X: max(c.a.X, c.b.X), Y: max(c.a.Y, c.b.Y), Z: max(c.a.Z, c.b.Z)}, r3.Vec{X: l, Y: l, Z: l}))
		for x := lo[0]; x <= hi[0]; x++ {
			for y := lo[1]; y <= hi[1]; y++ {
				for z := lo[2]; z <= hi[2]; z++ {
					k := [3]int32{x, y, z}
					m.cells[k] = append(m.cells[k], int32(i))
				}
			}
		}
	}
}

func (m *uvMesh) cellOf(p r3.Vec) [3]int32 {
	return [3]int32{int32(math.Floor(p.X / m.cell)), int32(math.Floor(p.Y / m.cell)), int32(math.Floor(p.Z / m.cell))}
}

// allowed returns how far the mesh may stray from the surface at p: tol,
// or within a chord's length of a coarse chord, coarseAllowance times its
// distance from the surface.
func (m *uvMesh) allowed(p r3.Vec) float64 {
	allow := m.t.tol
	if m.cells == nil {
		return allow
	}
	for _, i := range m.cells[m.cellOf(p)] {
		c := m.coarse[i]
		ab := r3.Sub(c.b, c.a)
		l2 := r3.Dot(ab, ab)
		t := math.Max(0, math.Min(1, r3.Dot(r3.Sub(p, c.a), ab)/l2))
		if d := r3.Sub(p, r3.Add(c.a, r3.Scale(t, ab))); r3.Dot(d, d) <= l2 {
			allow = max(allow, coarseAllowance*c.dev)
		}
	}
	return allow
}

// deviation returns how far the triangle q, whose corners lie on the
// surface and whose edges lie up to dev from it, is from the surface at its
// furthest point. On a sphere that is the triangle's point nearest the
// centre. On a cylinder or a cone it is on an edge: the distance inside the
// surface is cos(semi-angle)·(r(h) − ρ), with ρ the distance from the axis
// and r(h) the radius at p's height; over the triangle's plane, seen along
// the axis, that is an affine function less the distance from a point,
// which has no maximum inside the triangle but where it is the same along
// a whole ray to the triangle's boundary.
func (m *uvMesh) deviation(q [3]r3.Vec, dev [3]float64) float64 {
	return m.g.deviation(q, dev)
}

func (g *uvSurface) deviation(q [3]r3.Vec, dev [3]float64) float64 {
	if g.kind == uvSphere {
		return g.r - r3.Norm(r3.Sub(closestOnTriangle(g.o, q[0], q[1], q[2]), g.o))
	}
	return max(dev[0], dev[1], dev[2])
}

// chordDeviation returns how far the segment pq, whose ends lie on the
// surface, is from it at its furthest point: at its middle on a cylinder
// and a sphere, where both ends are as far from the axis or the centre; on
// a cone where the derivative of cos(semi-angle)·(r(h) − ρ) vanishes, ρ
// along the segment seen along the axis being the distance from a point to
// a line.
func (g *uvSurface) chordDeviation(p, q r3.Vec) float64 {
	mid := g.dist(r3.Scale(0.5, r3.Add(p, q)))
	if g.kind != uvCone {
		return mid
	}
	dp, dq := r3.Sub(p, g.o), r3.Sub(q, g.o)
	hp, hq := r3.Dot(dp, g.a), r3.Dot(dq, g.a)
	a := r3.Sub(dp, r3.Scale(hp, g.a))            // ρ(s) = |a + s·b|
	b := r3.Sub(r3.Sub(dq, r3.Scale(hq, g.a)), a) // in the plane across the axis
	nb := r3.Norm(b)
	if nb == 0 {
		return mid
	}
	bh := r3.Scale(1/nb, b)
	along := r3.Dot(a, bh)
	across := r3.Norm(r3.Sub(a, r3.Scale(along, bh)))
	// d/ds (tan·h(s) − ρ(s)) = tan·(hq − hp) − nb·x/√(x² + across²),
	// x = along + s·nb: zero where x/√(x² + across²) = κ.
	kappa := g.tan * (hq - hp) / nb
	if math.Abs(kappa) >= 1 {
		return mid
	}
	x := kappa * across / math.Sqrt(1-kappa*kappa)
	s := (x - along) / nb
	if !(s > 0 && s < 1) {
		return mid
	}
	return math.Max(mid, g.dist(r3.Add(p, r3.Scale(s, r3.Sub(q, p)))))
}

// closestOnTriangle returns the point of triangle abc nearest p (Ericson,
// "Real-Time Collision Detection", Morgan Kaufmann 2005, 5.1.5).
func closestOnTriangle(p, a, b, c r3.Vec) r3.Vec {
	ab, ac, ap := r3.Sub(b, a), r3.Sub(c, a), r3.Sub(p, a)
	d1, d2 := r3.Dot(ab, ap), r3.Dot(ac, ap)
	if d1 <= 0 && d2 <= 0 {
		return a
	}
	bp := r3.Sub(p, b)
	d3, d4 := r3.Dot(ab, bp), r3.Dot(ac, bp)
	if d3 >= 0 && d4 <= d3 {
		return b
	}
	vc := d1*d4 - d3*d2
	if vc <= 0 && d1 >= 0 && d3 <= 0 {
		return r3.Add(a, r3.Scale(d1/(d1-d3), ab))
	}
	cp := r3.Sub(p, c)
	d5, d6 := r3.Dot(ab, cp), r3.Dot(ac, cp)
	if d6 >= 0 && d5 <= d6 {
		return c
	}
	vb := d5*d2 - d1*d6
	if vb <= 0 && d2 >= 0 && d6 <= 0 {
		return r3.Add(a, r3.Scale(d2/(d2-d6), ac))
	}
	va := d3*d6 - d5*d4
	if va <= 0 && d4-d3 >= 0 && d5-d6 >= 0 {
		return r3.Add(b, r3.Scale((d4-d3)/((d4-d3)+(d5-d6)), r3.Sub(c, b)))
	}
	denom := 1 / (va + vb + vc)
	return r3.Add(a, r3.Add(r3.Scale(vb*denom, ab), r3.Scale(vc*denom, ac)))
}

// addPole makes the pole a cap is drawn about, the plane's origin, a
// vertex: otherwise the triangle over it would span more than maxSpan
// about the axis however small it were split.
func (m *uvMesh) addPole() error {
	g := m.g
	pv, _ := g.pole(m.sign > 0)
	o := uvPoint{pole: true, id: -1}
	o.w, o.v = 0, pv
	for i, tr := range m.tri {
		p := [3]uvPoint{m.pts[tr[0]], m.pts[tr[1]], m.pts[tr[2]]}
		var side [3]float64
		for k := range 3 {
			side[k] = triArea(p[k], p[(k+1)%3], o)
		}
		if side[0] < 0 || side[1] < 0 || side[2] < 0 {
			continue
		}
		on := -1
		for k := range 3 {
			if side[k] == 0 {
				on = k
			}
		}
		if on >= 0 && m.opp[3*i+on] < 0 {
			return fmt.Errorf("%w: a cap whose boundary passes over its pole between two vertices", ErrUnsupportedFace)
		}
		o.id = m.t.add(g.at(0, pv))
		if c := m.addPoint(o); on >= 0 {
			m.splitAt(int32(i), on, c)
		} else {
			m.insertAt(int32(i), c)
		}
		return nil
	}
	return fmt.Errorf("%w: a cap whose pole is outside it", ErrUnsupportedFace)
}

// at returns the point of the plane (x, y), standing for vertex id, or
// for a new vertex on the surface when id is −1.
func (m *uvMesh) at(x, y float64, id int32) uvPoint {
	w, v := m.param(x, y)
	if id < 0 {
		id = m.t.add(m.g.at(w, v))
	}
	return uvPoint{w: w, v: v, x: x, y: y, id: id}
}

func (m *uvMesh) addPoint(p uvPoint) int32 {
	m.pts = append(m.pts, p)
	return int32(len(m.pts) - 1)
}

func (m *uvMesh) addTri(tr [3]int32) int32 {
	m.tri = append(m.tri, tr)
	m.opp = append(m.opp, -1, -1, -1)
	return int32(len(m.tri) - 1)
}

// split splits edge k of triangle i at its middle, and the triangle across
// it (across a cut, the twin edge's triangle, whose copy of the middle is a
// turn away but is the same vertex), and queues the edges facing the new
// point for flips.
func (m *uvMesh) split(i int32, k int) {
	pa, pb := m.pts[m.tri[i][k]], m.pts[m.tri[i][(k+1)%3]]
	m.splitAt(i, k, m.addPoint(m.at((pa.x+pb.x)/2, (pa.y+pb.y)/2, -1)))
}

// splitAt splits edge k of triangle i at point c, which lies on it.
func (m *uvMesh) splitAt(i int32, k int, c int32) {
	he := 3*i + int32(k)
	o := m.opp[he]
	if o >= 0 && o/3 == i {
		return // cannot happen in a domain: an edge that is its own twin
	}
	a, b, r := m.tri[i][k], m.tri[i][(k+1)%3], m.tri[i][(k+2)%3]
	oBR, oRA := m.opp[3*i+int32((k+1)%3)], m.opp[3*i+int32((k+2)%3)]
	mid := m.pts[c]
	m.tri[i] = [3]int32{a, c, r}
	i2 := m.addTri([3]int32{c, b, r})
	m.link(3*i+2, oRA)
	m.link(3*i2+1, oBR)
	m.link(3*i+1, 3*i2+2)
	m.todo = append(m.todo, i, i2)
	m.flip = append(m.flip, 3*i+2, 3*i2+1)
	if o < 0 {
		m.opp[3*i], m.opp[3*i2] = -1, -1
		return
	}
	n, kn := o/3, int(o%3)
	a2, b2, r2 := m.tri[n][kn], m.tri[n][(kn+1)%3], m.tri[n][(kn+2)%3]
	oBR2, oRA2 := m.opp[3*n+int32((kn+1)%3)], m.opp[3*n+int32((kn+2)%3)]
	c2 := c
	if a2 != b || b2 != a {
		// The twin's middle is the same vertex: x is affine in w along
		// a band, where cuts are.
		pa, pb := m.pts[a2], m.pts[b2]
		c2 = m.addPoint(m.at((pa.x+pb.x)/2, (pa.y+pb.y)/2, mid.id))
	}
	m.tri[n] = [3]int32{a2, c2, r2}
	n2 := m.addTri([3]int32{c2, b2, r2})
	m.link(3*n+2, oRA2)
	m.link(3*n2+1, oBR2)
	m.link(3*n+1, 3*n2+2)
	// a→c meets c2→b2 (b2 is a), c→b meets a2→c2 (a2 is b).
	m.link(3*i, 3*n2)
	m.link(3*i2, 3*n)
	m.todo = append(m.todo, n, n2)
	m.flip = append(m.flip, 3*n+2, 3*n2+1)
}

// insert splits triangle i into three at its centroid in the plane, for a
// triangle bounded by three boundary edges that is too far from the
// surface.
func (m *uvMesh) insert(i int32) {
	tr := m.tri[i]
	p0, p1, p2 := m.pts[tr[0]], m.pts[tr[1]], m.pts[tr[2]]
	m.insertAt(i, m.addPoint(m.at((p0.x+p1.x+p2.x)/3, (p0.y+p1.y+p2.y)/3, -1)))
}

// insertAt splits triangle i into three at point c, inside it.
func (m *uvMesh) insertAt(i int32, c int32) {
	tr := m.tri[i]
	o1, o2 := m.opp[3*i+1], m.opp[3*i+2]
	m.tri[i] = [3]int32{tr[0], tr[1], c}
	i2 := m.addTri([3]int32{tr[1], tr[2], c})
	i3 := m.addTri([3]int32{tr[2], tr[0], c})
	m.link(3*i2, o1)
	m.link(3*i3, o2)
	m.link(3*i+1, 3*i2+2)
	m.link(3*i2+1, 3*i3+2)
	m.link(3*i3+1, 3*i+2)
	m.todo = append(m.todo, i, i2, i3)
	m.flip = append(m.flip, 3*i, 3*i2, 3*i3)
}

// segmentDistance returns how far p is from the segment ab.
func segmentDistance(p, a, b r3.Vec) float64 {
	ab := r3.Sub(b, a)
	l2 := r3.Dot(ab, ab)
	if l2 == 0 {
		return r3.Norm(r3.Sub(p, a))
	}
	t := math.Max(0, math.Min(1, r3.Dot(r3.Sub(p, a), ab)/l2))
	return r3.Norm(r3.Sub(p, r3.Add(a, r3.Scale(t, ab))))
}
