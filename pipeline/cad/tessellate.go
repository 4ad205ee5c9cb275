package cad

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
	"gonum.org/v1/gonum/spatial/r3"
)

// ErrUnsupportedFace is returned, wrapped with the face and what it is
// bounded by, by Tessellate for a face whose shape of boundary it cannot
// triangulate: one it does not handle yet, or one whose boundary lies so
// far off its surface (or crosses itself there) that no triangulation of
// the surface between it means anything.
var ErrUnsupportedFace = errors.New("cad: face not supported by the tessellator")

// Tessellate triangulates every face of s, for previews and volume checks:
// the mesh is watertight and faces outwards, and no point of a face is
// further than about tol (mm) from the mesh.
//
// Every edge is sampled once, so that the two faces it bounds share its
// vertices: a straight edge by its two ends, a circle by enough points that
// no chord is further than tol from the arc. Then
//
//   - a planar face, holes included, is triangulated in its plane through
//     its loops' samples (so a faceted solid comes out exactly);
//   - a cylindrical or conical face bounded by two full circles about its
//     axis (with or without a seam between them), or by one such circle and
//     a seam to the cone's apex, is a band of triangles between the two
//     rings of samples, and a spherical face bounded by one full circle
//     (with or without a seam to the pole) is a cap of rings of latitude,
//     the seam's samples among them: the fewest triangles for the
//     commonest faces;
//   - any other cylindrical, conical or spherical face is triangulated in
//     the surface's parameters, angle about the axis and height or
//     latitude (see patch), and refined, new vertices on the surface, until
//     no triangle strays further than tol from it. Its loops may be made of
//     straight edges (rulings, and chords between points on the surface,
//     as where a fitted surface meets a freeform region), arcs and full
//     circles, several to a face: a patch to one side of the axis (a
//     fillet, the end of a slot); a band between two loops that go round
//     the axis, with no seam or with one used twice; a cap from one loop
//     round the axis to a sphere's pole or a cone's apex, which need not be
//     a vertex; any of them with holes, and with loops through a pole or
//     the apex. A sphere's axis is chosen so that the face is one of these;
//     a cap that reaches almost round to the other pole, as a sphere less a
//     small hole does, is split in two along a ring of latitude.
//
// No boundary edge is split, so a chord further than tol from the surface
// stays so, and near it, within its length, the mesh may stray half as far
// again (coarseAllowance). A face of no such shape (a cylinder beyond one
// loop round its axis, a loop that goes round twice), or whose boundary
// lies well off its surface, crosses itself in its parameters or is drawn
// there too far from where it lies for any refinement to settle, gives an
// error that wraps ErrUnsupportedFace, soon: refinement gives up after a
// few times the splits the face needs by estimate.
func Tessellate(s *Solid, tol float64) (*geom.Mesh, error) {
	m, _, err := TessellateFaces(s, tol)
	return m, err
}

// TessellateFaces is Tessellate that also says which face of s each
// triangle of the mesh comes from: faces[i] indexes s.Faces for the mesh's
// triangle i. The preview colours the faces by their surfaces with it.
func TessellateFaces(s *Solid, tol float64) (m *geom.Mesh, faces []int32, err error) {
	return tessellateFaces(s, tol, false)
}

// tessellateFaces is TessellateFaces; general says to triangulate every
// curved face in its parameters, as the tests do to check that method on
// the faces the special cases handle.
func tessellateFaces(s *Solid, tol float64, general bool) (m *geom.Mesh, faces []int32, err error) {
	if !(tol > 0) || math.IsInf(tol, 0) {
		return nil, nil, fmt.Errorf("cad: tessellation tolerance %v, want positive and finite", tol)
	}
	if s == nil {
		return nil, nil, errors.New("cad: no solid to tessellate")
	}
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	t := &tessellator{s: s, tol: tol, m: &geom.Mesh{Vertices: slices.Clone(s.Vertices)}, general: general}
	t.samples = make([][]int32, len(s.Edges))
	for i := range s.Edges {
		t.samples[i] = t.sampleEdge(i)
	}
	for i, f := range s.Faces {
		var err error
		before := len(t.m.Faces)
		switch g := f.Surface.(type) {
		case *Plane:
			err = t.plane(f, g)
		case *Cylinder, *Cone, *Sphere:
			err = t.curved(f)
		default:
			err = fmt.Errorf("%w: surface %T", ErrUnsupportedFace, f.Surface)
		}
		if err != nil {
			return nil, nil, &FaceError{Face: i, Err: err}
		}
		for range len(t.m.Faces) - before {
			faces = append(faces, int32(i))
		}
	}
	return t.m, faces, nil
}

type tessellator struct {
	s       *Solid
	tol     float64
	m       *geom.Mesh
	samples [][]int32 // per edge: mesh vertices from V0 to V1, both included
	general bool      // skip the special cases (see tessellateFaces)
}

// curved triangulates a cylindrical, conical or spherical face: by the
// special cases when they apply, which give the fewest and best-shaped
// triangles for the common bands and caps, and in the surface's
// parameters otherwise (patch). The special cases fail before they add
// anything to the mesh.
func (t *tessellator) curved(f Face) error {
	if !t.general {
		var err error
		switch g := f.Surface.(type) {
		case *Cylinder:
			err = t.revolved(f, g.Origin, g.Axis)
		case *Cone:
			err = t.revolved(f, g.Origin, g.Axis)
		case *Sphere:
			err = t.sphere(f, g)
		}
		if !errors.Is(err, ErrUnsupportedFace) {
			return err
		}
	}
	return t.patch(f)
}

// segments returns into how many pieces an arc of radius r sweeping angle
// is cut: no chord further than tol from the arc, none longer than a third
// of the full circle.
func (t *tessellator) segments(r, sweep float64) int {
	step := 2 * math.Pi / 3
	if t.tol < r {
		step = min(step, 2*math.Acos(1-t.tol/r))
	}
	return max(1, int(math.Ceil(sweep/step-1e-9)))
}

func (t *tessellator) add(p r3.Vec) int32 {
	t.m.Vertices = append(t.m.Vertices, p)
	return int32(len(t.m.Vertices) - 1)
}

// sampleEdge samples edge i from V0 to V1: a circle or an ellipse by its
// parameter, in as many pieces as its tightest bend (radius b²/a on an
// ellipse) needs.
func (t *tessellator) sampleEdge(i int) []int32 {
	e := t.s.Edges[i]
	c, ok := conicOf(e.Curve)
	if !ok {
		return []int32{int32(e.V0), int32(e.V1)}
	}
	t0 := c.param(t.s.Vertices[e.V0])
	sweep := 2 * math.Pi
	if e.V0 != e.V1 {
		sweep = math.Mod(c.param(t.s.Vertices[e.V1])-t0+4*math.Pi, 2*math.Pi)
	}
	n := t.segments(c.B*c.B/c.A, sweep)
	out := []int32{int32(e.V0)}
	for k := 1; k < n; k++ {
		out = append(out, t.add(c.at(t0+sweep*float64(k)/float64(n))))
	}
	return append(out, int32(e.V1))
}

// use returns the samples of an oriented edge in its direction, the last
// (the next edge's first) left out.
func (t *tessellator) use(oe OrientedEdge) []int32 {
	s := t.samples[oe.Edge]
	if oe.Forward {
		return s[:len(s)-1]
	}
	r := slices.Clone(s[1:])
	slices.Reverse(r)
	return r
}

// plane triangulates a planar face in its plane's frame, with the outward
// normal as z, so that the outer loop runs counter-clockwise.
func (t *tessellator) plane(f Face, g *Plane) error {
	n := g.Normal
	if !f.SameSense {
		n = r3.Scale(-1, n)
	}
	x := g.XDir
	y := r3.Cross(n, x)
	var pts []geom.Vec
	var ids []int32
	var loops [][]int32
	for _, bound := range f.Bounds {
		var loop []int32
		for _, oe := range bound {
			for _, v := range t.use(oe) {
				d := r3.Sub(t.m.Vertices[v], g.Origin)
				loop = append(loop, int32(len(pts)))
				pts = append(pts, geom.Vec{X: r3.Dot(d, x), Y: r3.Dot(d, y)})
				ids = append(ids, v)
			}
		}
		if len(loop) < 3 {
			return fmt.Errorf("%w: planar face with a loop of %d points", ErrUnsupportedFace, len(loop))
		}
		loops = append(loops, loop)
	}
	tris, err := mesh.TriangulatePlanar(pts, loops)
	if err != nil {
		return fmt.Errorf("planar face: %w", err)
	}
	for _, tr := range tris {
		t.m.Faces = append(t.m.Faces, [3]int32{ids[tr[0]], ids[tr[1]], ids[tr[2]]})
	}
	return nil
}

// circlesAndSeams sorts a face's edges into the full circles that bound it
// and the seams it uses twice (once each way); any other edge is an error.
func (t *tessellator) circlesAndSeams(f Face) (circles []OrientedEdge, seams []int, err error) {
	count := map[int]int{}
	for _, bound := range f.Bounds {
		for _, oe := range bound {
			count[oe.Edge]++
		}
	}
	for _, bound := range f.Bounds {
		for _, oe := range bound {
			e := t.s.Edges[oe.Edge]
			switch _, circle := e.Curve.(*Circle); {
			case count[oe.Edge] == 2:
				if !slices.Contains(seams, oe.Edge) {
					seams = append(seams, oe.Edge)
				}
			case circle && e.V0 == e.V1:
				circles = append(circles, oe)
			default:
				return nil, nil, fmt.Errorf("%w: curved face bounded by edge %d, neither a full circle nor a seam", ErrUnsupportedFace, oe.Edge)
			}
		}
	}
	return circles, seams, nil
}

// ring is a closed row of mesh vertices about an axis, with their angles
// about it, increasing from 0 (the first vertex) within [0, 2π).
type ring struct {
	ids    []int32
	angles []float64
}

// frame returns unit vectors x, y perpendicular to the unit axis, x
// towards p.
func frame(centre, axis, p r3.Vec) (x, y r3.Vec, ok bool) {
	d := r3.Sub(p, centre)
	d = r3.Sub(d, r3.Scale(r3.Dot(d, axis), axis))
	if r3.Norm(d) == 0 {
		return x, y, false
	}
	x = r3.Unit(d)
	return x, r3.Cross(axis, x), true
}

// makeRing measures the angles of ids about the axis through centre in the
// frame (x, y), turning the row to run counter-clockwise about the axis and
// to start at the vertex of least angle.
func (t *tessellator) makeRing(ids []int32, centre, x, y r3.Vec) ring {
	ids = slices.Clone(ids)
	angle := func(v int32) float64 {
		d := r3.Sub(t.m.Vertices[v], centre)
		a := math.Mod(math.Atan2(r3.Dot(d, y), r3.Dot(d, x))+2*math.Pi, 2*math.Pi)
		if a > 2*math.Pi-1e-9 {
			a = 0
		}
		return a
	}
	if len(ids) >= 3 {
		// Samples are at most a third of a turn apart: the second is less
		// than half a turn after the first when the row runs
		// counter-clockwise.
		if math.Mod(angle(ids[1])-angle(ids[0])+4*math.Pi, 2*math.Pi) > math.Pi {
			slices.Reverse(ids[1:])
		}
		first := 0
		for i, v := range ids {
			if angle(v) < angle(ids[first]) {
				first = i
			}
		}
		ids = append(ids[first:], ids[:first]...)
	}
	r := ring{ids: ids}
	for _, v := range ids {
		r.angles = append(r.angles, angle(v))
	}
	return r
}

// band joins two rings with triangles, merging them by angle, and turns
// the triangles to face along outward.
func (t *tessellator) band(a, b ring, outward func(p r3.Vec) r3.Vec) {
	na, nb := len(a.ids), len(b.ids)
	next := func(r ring, i int) float64 {
		if i+1 >= len(r.ids) {
			return 2 * math.Pi
		}
		return r.angles[i+1]
	}
	i, j := 0, 0
	if na == 1 {
		i = na
	}
	if nb == 1 {
		j = nb
	}
	var tris [][3]int32
	for i < na || j < nb {
		if i < na && (j == nb || next(a, i) <= next(b, j)) {
			tris = append(tris, [3]int32{a.ids[i], b.ids[j%nb], a.ids[(i+1)%na]})
			i++
		} else {
			tris = append(tris, [3]int32{a.ids[i%na], b.ids[j], b.ids[(j+1)%nb]})
			j++
		}
	}
	var sense float64
	for _, tr := range tris {
		p, q, r := t.m.Vertices[tr[0]], t.m.Vertices[tr[1]], t.m.Vertices[tr[2]]
		c := r3.Scale(1.0/3, r3.Add(p, r3.Add(q, r)))
		sense += r3.Dot(r3.Cross(r3.Sub(q, p), r3.Sub(r, p)), outward(c))
	}
	for _, tr := range tris {
		if sense < 0 {
			tr[1], tr[2] = tr[2], tr[1]
		}
		t.m.Faces = append(t.m.Faces, tr)
	}
}

// revolved triangulates a cylindrical or conical face about the line
// through origin along axis: a band between its two boundary circles, or
// between its one circle and the apex its seam runs to.
func (t *tessellator) revolved(f Face, origin, axis r3.Vec) error {
	circles, seams, err := t.circlesAndSeams(f)
	if err != nil {
		return err
	}
	var rows [][]int32
	for _, oe := range circles {
		c := t.s.Edges[oe.Edge].Curve.(*Circle)
		d := r3.Sub(c.Centre, origin)
		off := r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, axis), axis)))
		if r3.Norm(r3.Cross(c.Axis, axis)) > 1e-9 || off > 1e-9*(1+r3.Norm(d)) {
			return fmt.Errorf("%w: cylinder or cone bounded by circle edge %d, which is not about its axis", ErrUnsupportedFace, oe.Edge)
		}
		rows = append(rows, t.use(oe))
	}
	if len(rows) == 1 && len(seams) == 1 {
		// A cone to its apex: the seam's end off the circle.
		e := t.s.Edges[seams[0]]
		apex := e.V1
		if apex == t.s.Edges[circles[0].Edge].V0 {
			apex = e.V0
		}
		rows = append(rows, []int32{int32(apex)})
	}
	if len(rows) != 2 || len(seams) > 1 {
		return fmt.Errorf("%w: cylinder or cone bounded by %d full circles and %d seams, want two circles (or one and the apex)", ErrUnsupportedFace, len(circles), len(seams))
	}
	x, y, ok := frame(origin, axis, t.m.Vertices[rows[0][0]])
	if !ok {
		return fmt.Errorf("%w: boundary circle on the axis", ErrUnsupportedFace)
	}
	sign := 1.0
	if !f.SameSense {
		sign = -1
	}
	outward := func(p r3.Vec) r3.Vec {
		d := r3.Sub(p, origin)
		return r3.Scale(sign, r3.Sub(d, r3.Scale(r3.Dot(d, axis), axis)))
	}
	t.band(t.makeRing(rows[0], origin, x, y), t.makeRing(rows[1], origin, x, y), outward)
	return nil
}

// sphere triangulates a spherical cap bounded by one full circle: rings of
// latitude about the cap's pole, through the seam's samples when the face
// has a seam from the circle to the pole.
func (t *tessellator) sphere(f Face, g *Sphere) error {
	circles, seams, err := t.circlesAndSeams(f)
	if err != nil {
		return err
	}
	if len(circles) != 1 || len(seams) > 1 {
		return fmt.Errorf("%w: sphere bounded by %d full circles and %d seams, want one circle (and a seam to the pole)", ErrUnsupportedFace, len(circles), len(seams))
	}
	oe := circles[0]
	c := t.s.Edges[oe.Edge].Curve.(*Circle)
	// The face lies to the left of its loop seen from outside: about the
	// circle's axis when the loop runs counter-clockwise about it and the
	// outside is away from the centre.
	pole := c.Axis
	if oe.Forward != f.SameSense {
		pole = r3.Scale(-1, pole)
	}
	if r3.Norm(r3.Cross(r3.Sub(c.Centre, g.Centre), pole)) > 1e-9*(1+g.Radius) {
		return fmt.Errorf("%w: sphere bounded by circle edge %d, whose centre is off the line from the sphere's centre along its axis", ErrUnsupportedFace, oe.Edge)
	}
	start := t.s.Edges[oe.Edge].V0
	x, y, ok := frame(g.Centre, pole, t.s.Vertices[start])
	if !ok {
		return fmt.Errorf("%w: boundary circle through the pole", ErrUnsupportedFace)
	}
	polar := func(v int32) float64 {
		d := r3.Unit(r3.Sub(t.m.Vertices[v], g.Centre))
		return math.Acos(math.Max(-1, math.Min(1, r3.Dot(d, pole))))
	}
	// The first vertex of each ring of latitude, from the circle to the
	// pole, both left out.
	var firsts []int32
	var poleID int32
	if len(seams) == 1 {
		sm := t.samples[seams[0]]
		if sm[0] != int32(start) {
			sm = slices.Clone(sm)
			slices.Reverse(sm)
		}
		if sm[0] != int32(start) || polar(sm[len(sm)-1]) > 1e-6 {
			return fmt.Errorf("%w: sphere whose seam does not run from its boundary circle's vertex to the pole", ErrUnsupportedFace)
		}
		firsts, poleID = sm[1:len(sm)-1], sm[len(sm)-1]
	} else {
		theta := polar(int32(start))
		n := t.segments(g.Radius, theta)
		for k := 1; k < n; k++ {
			a := theta * (1 - float64(k)/float64(n))
			firsts = append(firsts, t.add(t.onSphere(g, pole, x, y, a, 0)))
		}
		poleID = t.add(r3.Add(g.Centre, r3.Scale(g.Radius, pole)))
	}
	outward := func(p r3.Vec) r3.Vec {
		d := r3.Sub(p, g.Centre)
		if !f.SameSense {
			return r3.Scale(-1, d)
		}
		return d
	}
	prev := t.makeRing(t.use(oe), g.Centre, x, y)
	for _, v := range firsts {
		a := polar(v)
		d := r3.Sub(t.m.Vertices[v], g.Centre)
		phi0 := math.Atan2(r3.Dot(d, y), r3.Dot(d, x))
		ids := []int32{v}
		n := max(3, t.segments(g.Radius*math.Sin(a), 2*math.Pi))
		for k := 1; k < n; k++ {
			ids = append(ids, t.add(t.onSphere(g, pole, x, y, a, phi0+2*math.Pi*float64(k)/float64(n))))
		}
		next := t.makeRing(ids, g.Centre, x, y)
		t.band(prev, next, outward)
		prev = next
	}
	t.band(prev, ring{ids: []int32{poleID}, angles: []float64{0}}, outward)
	return nil
}

// onSphere is the point of g at polar angle a from pole and azimuth phi
// from x towards y.
func (t *tessellator) onSphere(g *Sphere, pole, x, y r3.Vec, a, phi float64) r3.Vec {
	dir := r3.Add(r3.Scale(math.Cos(a), pole), r3.Scale(math.Sin(a), r3.Add(r3.Scale(math.Cos(phi), x), r3.Scale(math.Sin(phi), y))))
	return r3.Add(g.Centre, r3.Scale(g.Radius, dir))
}
