package cad

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// The solids here are built by hand as the assembler will build them:
// curved faces bounded by rulings, chords between points on the surface,
// arcs and full circles, several loops to a face, no seams. Each is checked
// by checkTessellation.

func along(e int) OrientedEdge   { return OrientedEdge{Edge: e, Forward: true} }
func against(e int) OrientedEdge { return OrientedEdge{Edge: e, Forward: false} }

// surfaceDistance returns how far p is from sf, computed here apart from
// the tessellator's own.
func surfaceDistance(sf Surface, p r3.Vec) float64 {
	axial := func(o, a r3.Vec) (h, rho float64) {
		d := r3.Sub(p, o)
		h = r3.Dot(d, a)
		return h, r3.Norm(r3.Sub(d, r3.Scale(h, a)))
	}
	switch g := sf.(type) {
	case *Plane:
		return math.Abs(r3.Dot(r3.Sub(p, g.Origin), g.Normal))
	case *Cylinder:
		_, rho := axial(g.Origin, g.Axis)
		return math.Abs(rho - g.Radius)
	case *Cone:
		h, rho := axial(g.Origin, g.Axis)
		return math.Abs((rho - g.Radius - h*math.Tan(g.SemiAngle)) * math.Cos(g.SemiAngle))
	case *Sphere:
		return math.Abs(r3.Norm(r3.Sub(p, g.Centre)) - g.Radius)
	}
	panic(fmt.Sprintf("surface %T", sf))
}

// outwardAt returns the outward normal of face f near p.
func outwardAt(f Face, p r3.Vec) r3.Vec {
	radial := func(o, a r3.Vec) r3.Vec {
		d := r3.Sub(p, o)
		return r3.Unit(r3.Sub(d, r3.Scale(r3.Dot(d, a), a)))
	}
	var n r3.Vec
	switch g := f.Surface.(type) {
	case *Plane:
		n = g.Normal
	case *Cylinder:
		n = radial(g.Origin, g.Axis)
	case *Cone:
		n = r3.Sub(radial(g.Origin, g.Axis), r3.Scale(math.Tan(g.SemiAngle), g.Axis))
	case *Sphere:
		n = r3.Sub(p, g.Centre)
	}
	if !f.SameSense {
		n = r3.Scale(-1, n)
	}
	return n
}

// checkTessellation tessellates s (every curved face in its parameters
// when general) and checks what Tessellate promises: a valid, watertight,
// consistently oriented mesh in one piece without degenerate triangles,
// the face index of every triangle, every vertex on its face's surface,
// every curved triangle within tol of the surface at every point of a
// fine grid and facing outwards, and a volume within tol·area (plus
// slack, for solids that chords make inexact) of want.
func checkTessellation(t *testing.T, s *Solid, tol, want, slack float64, general bool) *geom.Mesh {
	t.Helper()
	return checkTessellationWith(t, s, tessCheck{tol: tol, want: want, slack: slack, general: general})
}

// tessCheck is what checkTessellationWith checks: off and dev allow
// vertices off their surfaces and triangles further than tol from them,
// for solids whose boundary is so.
type tessCheck struct {
	tol, want, slack float64
	general          bool
	off, dev         float64
}

func checkTessellationWith(t *testing.T, s *Solid, c tessCheck) *geom.Mesh {
	t.Helper()
	tol := c.tol
	if err := s.Validate(); err != nil {
		t.Fatalf("%s: invalid solid: %v", s.Name, err)
	}
	m, faces, err := tessellateFaces(s, tol, c.general)
	if err != nil {
		t.Fatalf("%s: tessellate (tol %g, general %v): %v", s.Name, tol, c.general, err)
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("%s: invalid mesh: %v", s.Name, err)
	}
	if len(faces) != len(m.Faces) {
		t.Fatalf("%s: %d face indices for %d triangles", s.Name, len(faces), len(m.Faces))
	}
	if tp := m.Topology(); !tp.Watertight() || tp.DegenerateFaces > 0 || tp.Components != 1 {
		t.Errorf("%s: topology %+v, want watertight, one piece, no degenerate face", s.Name, tp)
	}
	var off, dev float64
	inward := 0
	for i, tr := range m.Faces {
		f := s.Faces[faces[i]]
		a, b, c := m.Vertices[tr[0]], m.Vertices[tr[1]], m.Vertices[tr[2]]
		for _, p := range []r3.Vec{a, b, c} {
			off = math.Max(off, surfaceDistance(f.Surface, p))
		}
		if _, flat := f.Surface.(*Plane); flat {
			continue
		}
		const n = 10
		for j := 0; j <= n; j++ {
			for k := 0; j+k <= n; k++ {
				p := r3.Add(a, r3.Add(r3.Scale(float64(j)/n, r3.Sub(b, a)), r3.Scale(float64(k)/n, r3.Sub(c, a))))
				dev = math.Max(dev, surfaceDistance(f.Surface, p))
			}
		}
		centroid := r3.Scale(1.0/3, r3.Add(a, r3.Add(b, c)))
		if r3.Dot(r3.Cross(r3.Sub(b, a), r3.Sub(c, a)), outwardAt(f, centroid)) <= 0 {
			inward++
		}
	}
	if off > max(1e-9, c.off) {
		t.Errorf("%s: a vertex %.3g mm off its face's surface", s.Name, off)
	}
	if dev > max(tol, c.dev) {
		t.Errorf("%s: a curved triangle %.4g mm from its surface, tolerance %g", s.Name, dev, tol)
	}
	// Next to a chord further from the surface than tol, the mesh climbs
	// from the chord to the surface and may stand on edge.
	if inward > 0 && c.dev <= tol {
		t.Errorf("%s: %d curved triangles face inwards", s.Name, inward)
	}
	vol, area := m.SignedVolume(), m.Area()
	if d := vol - c.want; !(math.Abs(d) <= tol*area+c.slack) {
		t.Errorf("%s: volume %.8g, want %.8g within %.3g (off by %.3g)", s.Name, vol, c.want, tol*area+c.slack, d)
	}
	t.Logf("%s (tol %g, general %v): %d triangles, volume %.8g (exact %.8g, %+.2e), deviation %.3g, vertices off %.1e, %d facing inwards",
		s.Name, tol, c.general, len(m.Faces), vol, c.want, (vol-c.want)/c.want, dev, off, inward)
	return m
}

// moveSolid returns s turned by rot (a rotation) and moved by shift.
func moveSolid(s *Solid, rot func(r3.Vec) r3.Vec, shift r3.Vec) *Solid {
	pt := func(p r3.Vec) r3.Vec { return r3.Add(rot(p), shift) }
	out := &Solid{Name: s.Name}
	for _, p := range s.Vertices {
		out.Vertices = append(out.Vertices, pt(p))
	}
	for _, e := range s.Edges {
		if c, ok := e.Curve.(*Circle); ok {
			e.Curve = &Circle{Centre: pt(c.Centre), Axis: rot(c.Axis), XDir: rot(c.XDir), Radius: c.Radius}
		}
		out.Edges = append(out.Edges, e)
	}
	for _, f := range s.Faces {
		switch g := f.Surface.(type) {
		case *Plane:
			f.Surface = &Plane{Origin: pt(g.Origin), Normal: rot(g.Normal), XDir: rot(g.XDir)}
		case *Cylinder:
			f.Surface = &Cylinder{Origin: pt(g.Origin), Axis: rot(g.Axis), XDir: rot(g.XDir), Radius: g.Radius}
		case *Cone:
			f.Surface = &Cone{Origin: pt(g.Origin), Axis: rot(g.Axis), XDir: rot(g.XDir), Radius: g.Radius, SemiAngle: g.SemiAngle}
		case *Sphere:
			f.Surface = &Sphere{Centre: pt(g.Centre), Axis: rot(g.Axis), XDir: rot(g.XDir), Radius: g.Radius}
		}
		out.Faces = append(out.Faces, f)
	}
	return out
}

// tilt is a rotation about an oblique axis, so that no axis of a moved
// solid lines up with the coordinates.
func tilt(p r3.Vec) r3.Vec {
	k := r3.Unit(r3.Vec{X: 1, Y: 2, Z: 3})
	a := 0.7
	return r3.Add(r3.Add(r3.Scale(math.Cos(a), p), r3.Scale(math.Sin(a), r3.Cross(k, p))), r3.Scale(r3.Dot(k, p)*(1-math.Cos(a)), k))
}

// profileSeg is one side of a profile in the xy plane: from p to the next
// side's p, straight or, with an arc, round the circle about centre,
// counter-clockwise when ccw.
type profileSeg struct {
	p      [2]float64
	arc    bool
	centre [2]float64
	ccw    bool
}

// extrude returns the prism of a counter-clockwise profile from z = 0 to
// z = h, each arc side a cylindrical face bounded by two arcs and two
// rulings, and its exact volume.
func extrude(name string, prof []profileSeg, h float64) (*Solid, float64) {
	n := len(prof)
	s := &Solid{Name: name}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	for _, zz := range []float64{0, h} {
		for _, sg := range prof {
			s.Vertices = append(s.Vertices, r3.Vec{X: sg.p[0], Y: sg.p[1], Z: zz})
		}
	}
	var area float64
	forward := make([]bool, n)
	for i, sg := range prof {
		j := (i + 1) % n
		q := prof[j].p
		forward[i] = !sg.arc || sg.ccw
		for lvl, zz := range []float64{0, h} {
			e := Edge{V0: lvl*n + i, V1: lvl*n + j}
			if sg.arc {
				r := math.Hypot(sg.p[0]-sg.centre[0], sg.p[1]-sg.centre[1])
				e.Curve = &Circle{Centre: r3.Vec{X: sg.centre[0], Y: sg.centre[1], Z: zz}, Axis: z, XDir: x, Radius: r}
				if !sg.ccw {
					e.V0, e.V1 = e.V1, e.V0
				}
			}
			s.Edges = append(s.Edges, e)
		}
		if !sg.arc {
			area += (sg.p[0]*q[1] - q[0]*sg.p[1]) / 2
			continue
		}
		cx, cy := sg.centre[0], sg.centre[1]
		r := math.Hypot(sg.p[0]-cx, sg.p[1]-cy)
		t0, t1 := math.Atan2(sg.p[1]-cy, sg.p[0]-cx), math.Atan2(q[1]-cy, q[0]-cx)
		sweep := math.Mod(t1-t0+4*math.Pi, 2*math.Pi)
		if !sg.ccw {
			sweep = -math.Mod(t0-t1+4*math.Pi, 2*math.Pi)
		}
		area += (r*r*sweep + (cx*q[1] - cy*q[0]) - (cx*sg.p[1] - cy*sg.p[0])) / 2
	}
	for i := range n {
		s.Edges = append(s.Edges, Edge{V0: i, V1: n + i})
	}
	var bottom, top []OrientedEdge
	for i := range n {
		bottom = append(bottom, OrientedEdge{Edge: 2 * (n - 1 - i), Forward: !forward[n-1-i]})
		top = append(top, OrientedEdge{Edge: 2*i + 1, Forward: forward[i]})
	}
	s.Faces = append(s.Faces,
		Face{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{bottom}},
		Face{Surface: &Plane{Origin: r3.Vec{Z: h}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{top}, SameSense: true})
	for i, sg := range prof {
		j := (i + 1) % n
		loop := []OrientedEdge{{2 * i, forward[i]}, along(2*n + j), {2*i + 1, !forward[i]}, against(2*n + i)}
		var sf Surface
		sense := true
		if sg.arc {
			r := math.Hypot(sg.p[0]-sg.centre[0], sg.p[1]-sg.centre[1])
			sf = &Cylinder{Origin: r3.Vec{X: sg.centre[0], Y: sg.centre[1]}, Axis: z, XDir: x, Radius: r}
			sense = sg.ccw
		} else {
			d := r3.Unit(r3.Vec{X: prof[j].p[0] - sg.p[0], Y: prof[j].p[1] - sg.p[1]})
			sf = &Plane{Origin: r3.Vec{X: sg.p[0], Y: sg.p[1]}, Normal: r3.Vec{X: d.Y, Y: -d.X}, XDir: d}
		}
		s.Faces = append(s.Faces, Face{Surface: sf, Bounds: [][]OrientedEdge{loop}, SameSense: sense})
	}
	return s, area * h
}

func lineSeg(x, y float64) profileSeg { return profileSeg{p: [2]float64{x, y}} }
func arcSeg(x, y, cx, cy float64, ccw bool) profileSeg {
	return profileSeg{p: [2]float64{x, y}, arc: true, centre: [2]float64{cx, cy}, ccw: ccw}
}

// chordCylinder returns the cylinder of radius r about the z axis from 0
// to h whose ends are polygons, n corners at the bottom and m at the top a
// little turned, so that its wall, with no seam, is bounded by two loops of
// chords round the axis; arcs says to make every other bottom side an arc
// instead. It returns the volume of the prism on the smaller polygon,
// which the solid's is between that and the cylinder's.
func chordCylinder(r, h float64, n, m int, arcs bool) (*Solid, float64) {
	s := &Solid{Name: fmt.Sprintf("cylinder %d/%d chords", n, m)}
	if arcs {
		s.Name += " and arcs"
	}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		s.Vertices = append(s.Vertices, r3.Vec{X: r * math.Cos(a), Y: r * math.Sin(a)})
	}
	for j := range m {
		a := 2*math.Pi*float64(j)/float64(m) + 0.3
		s.Vertices = append(s.Vertices, r3.Vec{X: r * math.Cos(a), Y: r * math.Sin(a), Z: h})
	}
	var bottom, top, wallLo, wallHi []OrientedEdge
	for i := range n {
		e := Edge{V0: i, V1: (i + 1) % n}
		if arcs && i%2 == 0 {
			e.Curve = &Circle{Axis: z, XDir: x, Radius: r}
		}
		s.Edges = append(s.Edges, e)
		wallLo = append(wallLo, along(i))
		bottom = append(bottom, against(n-1-i))
	}
	for j := range m {
		s.Edges = append(s.Edges, Edge{V0: n + j, V1: n + (j+1)%m})
		top = append(top, along(n+j))
		wallHi = append(wallHi, against(n+m-1-j))
	}
	s.Faces = []Face{
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{bottom}},
		{Surface: &Plane{Origin: r3.Vec{Z: h}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{top}, SameSense: true},
		{Surface: &Cylinder{Axis: z, XDir: x, Radius: r}, Bounds: [][]OrientedEdge{wallLo, wallHi}, SameSense: true},
	}
	k := min(n, m)
	return s, float64(k) / 2 * r * r * math.Sin(2*math.Pi/float64(k)) * h
}

// windowSolid returns the cylinder of radius 10 about the z axis from 0
// to 30 with a pocket {x ≥ 5, |y| ≤ 4, 10 ≤ z ≤ 20} cut into its side, so
// that its wall has a window: two rulings and, above and below, k chords
// (an arc when k is 0). seam says to bound the wall with a seam between
// its circles, else with the two circles as loops of their own. It
// returns the solid's volume with arcs; chords differ from it by about
// their sagitta times the window's area.
func windowSolid(k int, seam bool) (*Solid, float64) {
	const (
		r, h, b, d, z0, z1 = 10.0, 30.0, 4.0, 5.0, 10.0, 20.0
	)
	name := fmt.Sprintf("window %d chords", k)
	if seam {
		name += " seam"
	}
	s := &Solid{Name: name}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	vtx := func(p r3.Vec) int { s.Vertices = append(s.Vertices, p); return len(s.Vertices) - 1 }
	edge := func(e Edge) int { s.Edges = append(s.Edges, e); return len(s.Edges) - 1 }
	vb, vt := vtx(r3.Vec{X: -r}), vtx(r3.Vec{X: -r, Z: h})
	beta := math.Asin(b / r)
	kk := max(k, 1)
	var w0, w1 []int
	for i := 0; i <= kk; i++ {
		a := -beta + 2*beta*float64(i)/float64(kk)
		if k == 0 && i > 0 && i < kk {
			continue
		}
		w0 = append(w0, vtx(r3.Vec{X: r * math.Cos(a), Y: r * math.Sin(a), Z: z0}))
		w1 = append(w1, vtx(r3.Vec{X: r * math.Cos(a), Y: r * math.Sin(a), Z: z1}))
	}
	f00, f10 := vtx(r3.Vec{X: d, Y: -b, Z: z0}), vtx(r3.Vec{X: d, Y: b, Z: z0})
	f01, f11 := vtx(r3.Vec{X: d, Y: -b, Z: z1}), vtx(r3.Vec{X: d, Y: b, Z: z1})
	eB := edge(Edge{V0: vb, V1: vb, Curve: &Circle{Axis: z, XDir: r3.Vec{X: -1}, Radius: r}})
	eT := edge(Edge{V0: vt, V1: vt, Curve: &Circle{Centre: r3.Vec{Z: h}, Axis: z, XDir: r3.Vec{X: -1}, Radius: r}})
	var lo, hi []int // window sides at z0 and z1, from y = −b to y = b
	for i := 0; i+1 < len(w0); i++ {
		var c0, c1 Curve
		if k == 0 {
			c0 = &Circle{Centre: r3.Vec{Z: z0}, Axis: z, XDir: x, Radius: r}
			c1 = &Circle{Centre: r3.Vec{Z: z1}, Axis: z, XDir: x, Radius: r}
		}
		lo = append(lo, edge(Edge{V0: w0[i], V1: w0[i+1], Curve: c0}))
		hi = append(hi, edge(Edge{V0: w1[i], V1: w1[i+1], Curve: c1}))
	}
	last := len(w0) - 1
	rm, rp := edge(Edge{V0: w0[0], V1: w1[0]}), edge(Edge{V0: w0[last], V1: w1[last]})
	a0, b0 := edge(Edge{V0: f00, V1: w0[0]}), edge(Edge{V0: f10, V1: w0[last]})
	a1, b1 := edge(Edge{V0: f01, V1: w1[0]}), edge(Edge{V0: f11, V1: w1[last]})
	fl0, fl1 := edge(Edge{V0: f00, V1: f10}), edge(Edge{V0: f01, V1: f11})
	fm, fp := edge(Edge{V0: f00, V1: f01}), edge(Edge{V0: f10, V1: f11})
	hole := []OrientedEdge{along(rm)}
	for _, e := range hi {
		hole = append(hole, along(e))
	}
	hole = append(hole, against(rp))
	for i := len(lo) - 1; i >= 0; i-- {
		hole = append(hole, against(lo[i]))
	}
	wall := [][]OrientedEdge{{along(eB)}, {against(eT)}, hole}
	if seam {
		sm := edge(Edge{V0: vb, V1: vt})
		wall = [][]OrientedEdge{{along(eB), along(sm), against(eT), against(sm)}, hole}
	}
	pocketLo := []OrientedEdge{along(a0)}
	for _, e := range lo {
		pocketLo = append(pocketLo, along(e))
	}
	pocketLo = append(pocketLo, against(b0), against(fl0))
	pocketHi := []OrientedEdge{along(fl1), along(b1)}
	for i := len(hi) - 1; i >= 0; i-- {
		pocketHi = append(pocketHi, against(hi[i]))
	}
	pocketHi = append(pocketHi, against(a1))
	y := r3.Vec{Y: 1}
	s.Faces = []Face{
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{against(eB)}}},
		{Surface: &Plane{Origin: r3.Vec{Z: h}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(eT)}}, SameSense: true},
		{Surface: &Cylinder{Axis: z, XDir: x, Radius: r}, Bounds: wall, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{X: d}, Normal: x, XDir: y}, Bounds: [][]OrientedEdge{{along(fl0), along(fp), against(fl1), against(fm)}}, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{Y: -b}, Normal: y, XDir: x}, Bounds: [][]OrientedEdge{{along(fm), along(a1), against(rm), against(a0)}}, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{Y: b}, Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{along(b0), along(rp), against(b1), against(fp)}}, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{Z: z0}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{pocketLo}, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{Z: z1}, Normal: r3.Vec{Z: -1}, XDir: x}, Bounds: [][]OrientedEdge{pocketHi}, SameSense: true},
	}
	pocket := b*math.Sqrt(r*r-b*b) + r*r*beta - 2*b*d
	return s, math.Pi*r*r*h - (z1-z0)*pocket
}

// fanSolids returns, for a cylinder of radius 5 about the z axis from 0 to
// 20, the solid with a pocket cut into its wall by a cone from the point
// of the axis at z = 10 to a loop of n chords on the wall about +x, and
// the solid that the cone is: the wall's patch inside the chords is a
// cylindrical face whose outer loop is the chords, the cone's sides are
// triangles (as a freeform region meets a fitted cylinder). It returns
// their volumes: the cone's is a third of the radius times the patch's
// area, from the point on the axis.
func fanSolids(n int) (pocketed, cone *Solid, vPocketed, vCone float64) {
	const r, h, zc, ua, va = 5.0, 20.0, 10.0, 0.9, 4.0
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	var pts []r3.Vec
	var area float64 // of the loop in (r·angle, z)
	for i := range n {
		t := 2 * math.Pi * float64(i) / float64(n)
		// A wobbly loop, not convex in the parameters.
		k := 1 + 0.25*math.Sin(3*t)
		u, v := k*ua*math.Cos(t), zc+k*va*math.Sin(t)
		pts = append(pts, r3.Vec{X: r * math.Cos(u), Y: r * math.Sin(u), Z: v})
	}
	for i := range n {
		p, q := pts[i], pts[(i+1)%n]
		pu, qu := r*math.Atan2(p.Y, p.X), r*math.Atan2(q.Y, q.X)
		area += (pu*q.Z - qu*p.Z) / 2
	}
	apex := r3.Vec{Z: zc}
	build := func(name string, pocket bool) *Solid {
		s := &Solid{Name: name, Vertices: append([]r3.Vec{apex}, pts...)}
		// Chord i from point i to i+1, spoke i from point i to the apex.
		for i := range n {
			s.Edges = append(s.Edges, Edge{V0: 1 + i, V1: 1 + (i+1)%n})
		}
		for i := range n {
			s.Edges = append(s.Edges, Edge{V0: 1 + i, V1: 0})
		}
		var patch []OrientedEdge
		for i := range n {
			if pocket {
				patch = append(patch, against(n-1-i))
			} else {
				patch = append(patch, along(i))
			}
		}
		for i := range n {
			p, q := pts[i], pts[(i+1)%n]
			loop := []OrientedEdge{along(i), along(n + (i+1)%n), against(n + i)}
			nrm := r3.Unit(r3.Cross(r3.Sub(q, p), r3.Sub(apex, q)))
			if !pocket {
				loop = []OrientedEdge{along(n + i), against(n + (i+1)%n), against(i)}
				nrm = r3.Scale(-1, nrm)
			}
			xd := r3.Unit(r3.Sub(p, apex))
			xd = r3.Unit(r3.Sub(xd, r3.Scale(r3.Dot(xd, nrm), nrm)))
			s.Faces = append(s.Faces, Face{Surface: &Plane{Origin: apex, Normal: nrm, XDir: xd}, Bounds: [][]OrientedEdge{loop}, SameSense: true})
		}
		cyl := &Cylinder{Axis: z, XDir: x, Radius: r}
		if !pocket {
			s.Faces = append(s.Faces, Face{Surface: cyl, Bounds: [][]OrientedEdge{patch}, SameSense: true})
			return s
		}
		s.Vertices = append(s.Vertices, r3.Vec{X: -r}, r3.Vec{X: -r, Z: h})
		vb, vt := len(s.Vertices)-2, len(s.Vertices)-1
		s.Edges = append(s.Edges,
			Edge{V0: vb, V1: vb, Curve: &Circle{Axis: z, XDir: r3.Vec{X: -1}, Radius: r}},
			Edge{V0: vt, V1: vt, Curve: &Circle{Centre: r3.Vec{Z: h}, Axis: z, XDir: r3.Vec{X: -1}, Radius: r}})
		eb, et := 2*n, 2*n+1
		s.Faces = append(s.Faces,
			Face{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{against(eb)}}},
			Face{Surface: &Plane{Origin: r3.Vec{Z: h}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(et)}}, SameSense: true},
			Face{Surface: cyl, Bounds: [][]OrientedEdge{{along(eb)}, {against(et)}, patch}, SameSense: true})
		return s
	}
	vCone = r * area / 3
	return build(fmt.Sprintf("fan pocket %d", n), true), build(fmt.Sprintf("fan cone %d", n), false), math.Pi*r*r*h - vCone, vCone
}

// sphereBand returns the slice of the ball of radius r about the origin
// between z = a and z = b: two discs and a spherical band between two full
// circles with no seam. axis is the sphere's axis, which need not be the
// band's.
func sphereBand(r, a, b float64, axis, xdir r3.Vec) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	ra, rb := math.Sqrt(r*r-a*a), math.Sqrt(r*r-b*b)
	s := &Solid{
		Name:     fmt.Sprintf("sphere band %g..%g about %v", a, b, axis),
		Vertices: []r3.Vec{{X: ra, Z: a}, {X: rb, Z: b}},
		Edges: []Edge{
			{V0: 0, V1: 0, Curve: &Circle{Centre: r3.Vec{Z: a}, Axis: z, XDir: x, Radius: ra}},
			{V0: 1, V1: 1, Curve: &Circle{Centre: r3.Vec{Z: b}, Axis: z, XDir: x, Radius: rb}},
		},
		Faces: []Face{
			{Surface: &Plane{Origin: r3.Vec{Z: a}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{against(0)}}},
			{Surface: &Plane{Origin: r3.Vec{Z: b}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(1)}}, SameSense: true},
			{Surface: &Sphere{Axis: axis, XDir: xdir, Radius: r}, Bounds: [][]OrientedEdge{{along(0)}, {against(1)}}, SameSense: true},
		},
	}
	return s, math.Pi * (r*r*(b-a) - (b*b*b-a*a*a)/3)
}

// sphereWedge returns the part of the ball of radius r about the origin
// between z = a and z = b and between the half-planes through the z axis
// at angles 0 and phi: a spherical patch bounded by two arcs of latitude
// and two of longitude, containing no pole.
func sphereWedge(r, a, b, phi float64) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	ra, rb := math.Sqrt(r*r-a*a), math.Sqrt(r*r-b*b)
	e0, e1 := x, r3.Vec{X: math.Cos(phi), Y: math.Sin(phi)}
	at := func(e r3.Vec, rr, zz float64) r3.Vec { return r3.Add(r3.Scale(rr, e), r3.Vec{Z: zz}) }
	s := &Solid{
		Name: fmt.Sprintf("sphere wedge %g..%g, %.3g rad", a, b, phi),
		Vertices: []r3.Vec{
			{Z: a}, {Z: b}, // 0, 1: on the axis
			at(e0, ra, a), at(e1, ra, a), at(e0, rb, b), at(e1, rb, b), // 2..5: S00, S10, S01, S11
		},
		Edges: []Edge{
			{V0: 2, V1: 3, Curve: &Circle{Centre: r3.Vec{Z: a}, Axis: z, XDir: x, Radius: ra}},
			{V0: 4, V1: 5, Curve: &Circle{Centre: r3.Vec{Z: b}, Axis: z, XDir: x, Radius: rb}},
			{V0: 2, V1: 4, Curve: &Circle{Axis: r3.Cross(e0, z), XDir: e0, Radius: r}},
			{V0: 3, V1: 5, Curve: &Circle{Axis: r3.Cross(e1, z), XDir: e1, Radius: r}},
			{V0: 0, V1: 2}, {V0: 0, V1: 3}, {V0: 1, V1: 4}, {V0: 1, V1: 5}, {V0: 0, V1: 1},
		},
	}
	s.Faces = []Face{
		{Surface: &Sphere{Axis: z, XDir: x, Radius: r}, Bounds: [][]OrientedEdge{{along(0), along(3), against(1), against(2)}}, SameSense: true},
		{Surface: &Plane{Origin: r3.Vec{Z: a}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(5), against(0), against(4)}}},
		{Surface: &Plane{Origin: r3.Vec{Z: b}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(6), along(1), against(7)}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{along(4), along(2), against(6), against(8)}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Cross(z, e1), XDir: e1}, Bounds: [][]OrientedEdge{{along(8), along(7), against(3), against(5)}}, SameSense: true},
	}
	return s, phi / 2 * (r*r*(b-a) - (b*b*b-a*a*a)/3)
}

// lune returns the part of the ball of radius r about the origin between
// the half-planes through the z axis at angles 0 and phi: a spherical face
// between two meridians that meet at the poles, which are vertices.
func lune(r, phi float64) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	e1 := r3.Vec{X: math.Cos(phi), Y: math.Sin(phi)}
	s := &Solid{
		Name:     fmt.Sprintf("lune %.3g rad", phi),
		Vertices: []r3.Vec{{Z: -r}, {Z: r}},
		Edges: []Edge{
			{V0: 0, V1: 1, Curve: &Circle{Axis: r3.Cross(x, z), XDir: x, Radius: r}},
			{V0: 0, V1: 1, Curve: &Circle{Axis: r3.Cross(e1, z), XDir: e1, Radius: r}},
			{V0: 0, V1: 1},
		},
		Faces: []Face{
			{Surface: &Sphere{Axis: z, XDir: x, Radius: r}, Bounds: [][]OrientedEdge{{along(1), against(0)}}, SameSense: true},
			{Surface: &Plane{Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{along(0), against(2)}}, SameSense: true},
			{Surface: &Plane{Normal: r3.Cross(z, e1), XDir: e1}, Bounds: [][]OrientedEdge{{along(2), against(1)}}, SameSense: true},
		},
	}
	return s, 2 * r * r * r * phi / 3
}

// coneSolid returns the cone of base radius r at z = 0 and apex at z = h,
// its curved face bounded by the base circle and a seam to the apex; or,
// without seam, by the circle alone, the apex no vertex.
func coneSolid(r, h float64, seam bool) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	s := &Solid{
		Name:     "cone",
		Vertices: []r3.Vec{{X: r}, {Z: h}},
		Edges:    []Edge{{V0: 0, V1: 0, Curve: &Circle{Axis: z, XDir: x, Radius: r}}, {V0: 0, V1: 1}},
	}
	cone := &Cone{Origin: r3.Vec{Z: h}, Axis: r3.Vec{Z: -1}, XDir: x, SemiAngle: math.Atan(r / h)}
	s.Faces = []Face{
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{against(0)}}},
		{Surface: cone, Bounds: [][]OrientedEdge{{along(0), along(1), against(1)}}, SameSense: true},
	}
	if !seam {
		s.Name = "cone without seam"
		s.Vertices, s.Edges = s.Vertices[:1], s.Edges[:1]
		s.Faces[1].Bounds = [][]OrientedEdge{{along(0)}}
	}
	return s, math.Pi * r * r * h / 3
}

// capsule returns a cylinder of radius r from z = 0 to h under a
// hemisphere, its curved surface tiled in k sectors round the axis, m
// bands of the cylinder and l of the hemisphere: patches bounded by arcs
// and rulings, by arcs of latitude and longitude, and triangles to the
// pole; 1 + k·(m+l) faces.
func capsule(r, h float64, k, m, l int) (*Solid, float64) {
	s := &Solid{Name: fmt.Sprintf("capsule %d×%d+%d", k, m, l)}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	rings := m + l // rings 0..m on the cylinder, m+1..m+l−1 on the sphere
	type ring struct{ z, rho float64 }
	var rs []ring
	for i := 0; i < rings; i++ {
		if i <= m {
			rs = append(rs, ring{h * float64(i) / float64(m), r})
			continue
		}
		lat := math.Pi / 2 * float64(i-m) / float64(l)
		rs = append(rs, ring{h + r*math.Sin(lat), r * math.Cos(lat)})
	}
	dir := func(i int) r3.Vec {
		a := 2 * math.Pi * float64(i) / float64(k)
		return r3.Vec{X: math.Cos(a), Y: math.Sin(a)}
	}
	for _, rg := range rs {
		for i := range k {
			s.Vertices = append(s.Vertices, r3.Add(r3.Scale(rg.rho, dir(i)), r3.Vec{Z: rg.z}))
		}
	}
	pole := len(s.Vertices)
	s.Vertices = append(s.Vertices, r3.Vec{Z: h + r})
	vid := func(ri, i int) int { return ri*k + (i+k)%k }
	centre := r3.Vec{Z: h}
	meridian := func(i int) *Circle {
		return &Circle{Centre: centre, Axis: r3.Cross(dir(i), z), XDir: dir(i), Radius: r}
	}
	// Edges: arcs of ring ri, then the risers from ring ri to ri+1, then
	// the meridians to the pole.
	arcE := func(ri, i int) int { return ri*k + (i+k)%k }
	riseE := func(ri, i int) int { return rings*k + ri*k + (i+k)%k }
	poleE := func(i int) int { return rings*k + (rings-1)*k + (i+k)%k }
	for ri, rg := range rs {
		for i := range k {
			s.Edges = append(s.Edges, Edge{V0: vid(ri, i), V1: vid(ri, i+1), Curve: &Circle{Centre: r3.Vec{Z: rg.z}, Axis: z, XDir: x, Radius: rg.rho}})
		}
	}
	for ri := 0; ri+1 < rings; ri++ {
		for i := range k {
			e := Edge{V0: vid(ri, i), V1: vid(ri+1, i)}
			if ri >= m {
				e.Curve = meridian(i)
			}
			s.Edges = append(s.Edges, e)
		}
	}
	for i := range k {
		s.Edges = append(s.Edges, Edge{V0: vid(rings-1, i), V1: pole, Curve: meridian(i)})
	}
	var bottom []OrientedEdge
	for i := k - 1; i >= 0; i-- {
		bottom = append(bottom, against(arcE(0, i)))
	}
	s.Faces = append(s.Faces, Face{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{bottom}})
	cyl := &Cylinder{Axis: z, XDir: x, Radius: r}
	sph := &Sphere{Centre: centre, Axis: z, XDir: x, Radius: r}
	for ri := 0; ri+1 < rings; ri++ {
		var sf Surface = cyl
		if ri >= m {
			sf = sph
		}
		for i := range k {
			loop := []OrientedEdge{along(arcE(ri, i)), along(riseE(ri, i+1)), against(arcE(ri+1, i)), against(riseE(ri, i))}
			s.Faces = append(s.Faces, Face{Surface: sf, Bounds: [][]OrientedEdge{loop}, SameSense: true})
		}
	}
	for i := range k {
		loop := []OrientedEdge{along(arcE(rings-1, i)), along(poleE(i + 1)), against(poleE(i))}
		s.Faces = append(s.Faces, Face{Surface: sph, Bounds: [][]OrientedEdge{loop}, SameSense: true})
	}
	return s, math.Pi*r*r*h + 2*math.Pi*r*r*r/3
}

// coneSector returns the part of the frustum about the z axis, radius r0
// at z = 0 and r1 < r0 at z = h, between the half-planes at angles 0 and
// phi: a conical patch bounded by two rulings and two arcs.
func coneSector(r0, r1, h, phi float64) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	e0, e1 := x, r3.Vec{X: math.Cos(phi), Y: math.Sin(phi)}
	at := func(e r3.Vec, rr, zz float64) r3.Vec { return r3.Add(r3.Scale(rr, e), r3.Vec{Z: zz}) }
	s := &Solid{
		Name:     fmt.Sprintf("cone sector %.3g rad", phi),
		Vertices: []r3.Vec{{}, {Z: h}, at(e0, r0, 0), at(e1, r0, 0), at(e0, r1, h), at(e1, r1, h)},
		Edges: []Edge{
			{V0: 2, V1: 3, Curve: &Circle{Axis: z, XDir: x, Radius: r0}},
			{V0: 4, V1: 5, Curve: &Circle{Centre: r3.Vec{Z: h}, Axis: z, XDir: x, Radius: r1}},
			{V0: 2, V1: 4}, {V0: 3, V1: 5},
			{V0: 0, V1: 2}, {V0: 0, V1: 3}, {V0: 1, V1: 4}, {V0: 1, V1: 5}, {V0: 0, V1: 1},
		},
	}
	cone := &Cone{Origin: r3.Vec{Z: h}, Axis: r3.Vec{Z: -1}, XDir: x, Radius: r1, SemiAngle: math.Atan((r0 - r1) / h)}
	s.Faces = []Face{
		{Surface: cone, Bounds: [][]OrientedEdge{{along(0), along(3), against(1), against(2)}}, SameSense: true},
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(5), against(0), against(4)}}},
		{Surface: &Plane{Origin: r3.Vec{Z: h}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(6), along(1), against(7)}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{along(4), along(2), against(6), against(8)}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Cross(z, e1), XDir: e1}, Bounds: [][]OrientedEdge{{along(8), along(7), against(3), against(5)}}, SameSense: true},
	}
	return s, phi * h * (r0*r0 + r0*r1 + r1*r1) / 6
}

// coneWedge returns the part of the cone of base radius r at z = 0 and
// apex at z = h between the half-planes at angles 0 and phi: a conical
// face bounded by an arc and two rulings that meet at the apex.
func coneWedge(r, h, phi float64) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	e0, e1 := x, r3.Vec{X: math.Cos(phi), Y: math.Sin(phi)}
	s := &Solid{
		Name:     fmt.Sprintf("cone wedge %.3g rad", phi),
		Vertices: []r3.Vec{{}, {Z: h}, r3.Scale(r, e0), r3.Scale(r, e1)}, // A0, T, B0, B1
		Edges: []Edge{
			{V0: 2, V1: 3, Curve: &Circle{Axis: z, XDir: x, Radius: r}},
			{V0: 2, V1: 1}, {V0: 3, V1: 1}, // rulings
			{V0: 0, V1: 2}, {V0: 0, V1: 3}, {V0: 0, V1: 1},
		},
	}
	cone := &Cone{Origin: r3.Vec{Z: h}, Axis: r3.Vec{Z: -1}, XDir: x, SemiAngle: math.Atan(r / h)}
	s.Faces = []Face{
		{Surface: cone, Bounds: [][]OrientedEdge{{along(0), along(2), against(1)}}, SameSense: true},
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{along(4), against(0), against(3)}}},
		{Surface: &Plane{Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{along(3), along(1), against(5)}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Cross(z, e1), XDir: e1}, Bounds: [][]OrientedEdge{{along(5), against(2), against(4)}}, SameSense: true},
	}
	return s, phi * r * r * h / 6
}

// chordCap returns the part of the ball of radius r about the origin
// above z = a, its rim a polygon of n chords: a spherical face bounded by
// one loop of chords round the pole, which it contains. It returns the
// volume of the cap the circle through the corners bounds, which the
// solid's is a little less than.
func chordCap(r, a float64, n int) (*Solid, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	ra := math.Sqrt(r*r - a*a)
	s := &Solid{Name: fmt.Sprintf("cap above %g, %d chords", a, n)}
	var rim, top []OrientedEdge
	for i := range n {
		t := 2 * math.Pi * float64(i) / float64(n)
		s.Vertices = append(s.Vertices, r3.Vec{X: ra * math.Cos(t), Y: ra * math.Sin(t), Z: a})
		s.Edges = append(s.Edges, Edge{V0: i, V1: (i + 1) % n})
		top = append(top, along(i))
		rim = append(rim, against(n-1-i))
	}
	s.Faces = []Face{
		{Surface: &Plane{Origin: r3.Vec{Z: a}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{rim}},
		{Surface: &Sphere{Axis: z, XDir: x, Radius: r}, Bounds: [][]OrientedEdge{top}, SameSense: true},
	}
	h := r - a
	return s, math.Pi * h * h * (3*r - h) / 3
}

// TestTessellateGeneral: solids whose curved faces the special cases do
// not cover come out within tolerance, watertight and facing outwards,
// also turned off the coordinate axes, at two tolerances.
func TestTessellateGeneral(t *testing.T) {
	type solid struct {
		s     *Solid
		want  float64
		slack float64 // beyond tol·area, for chords
		low   float64 // when > 0, the volume is in [low, want] instead
	}
	var cases []solid
	add := func(s *Solid, want float64) { cases = append(cases, solid{s: s, want: want}) }

	const R, L, H = 5.0, 12.0, 8.0
	add(extrude("D", []profileSeg{lineSeg(0, -R), arcSeg(L, -R, L, 0, true), lineSeg(L, R), lineSeg(0, R)}, H))
	add(extrude("U", []profileSeg{lineSeg(0, -R), arcSeg(L, -R, L, 0, false), lineSeg(L, R), lineSeg(0, R)}, H))
	add(extrude("half cylinder", []profileSeg{arcSeg(0, -R, 0, 0, true), lineSeg(0, R)}, H))
	add(extrude("rounded box", []profileSeg{
		lineSeg(2, 0), arcSeg(18, 0, 18, 2, true), lineSeg(20, 2), arcSeg(20, 13, 18, 13, true),
		lineSeg(18, 15), arcSeg(2, 15, 2, 13, true), lineSeg(0, 13), arcSeg(0, 2, 2, 2, true),
	}, H))
	c, sn := R*math.Cos(math.Pi/4), R*math.Sin(math.Pi/4)
	add(extrude("pac-man", []profileSeg{arcSeg(c, sn, 0, 0, true), lineSeg(c, -sn), lineSeg(0, 0)}, H))
	add(extrude("three arcs", []profileSeg{
		arcSeg(R, 0, 0, 0, true), arcSeg(R*math.Cos(2*math.Pi/3), R*math.Sin(2*math.Pi/3), 0, 0, true),
		arcSeg(R*math.Cos(4*math.Pi/3), R*math.Sin(4*math.Pi/3), 0, 0, true),
	}, H))
	for _, k := range []int{0, 16} {
		for _, seam := range []bool{false, true} {
			s, v := windowSolid(k, seam)
			// The pocket's ends are short of their arcs by k circular
			// segments, as the pocket is 10 deep at most.
			theta := 2 * math.Asin(0.4) / float64(max(k, 1))
			slack := 0.0
			if k > 0 {
				slack = 10 * float64(k) * 50 * (theta - math.Sin(theta))
			}
			cases = append(cases, solid{s: s, want: v, slack: slack})
		}
	}
	for _, arcs := range []bool{false, true} {
		s, v := chordCylinder(5, 20, 96, 80, arcs)
		cases = append(cases, solid{s: s, want: math.Pi * 25 * 20, low: v})
	}
	pocketed, cone, vp, vc := fanSolids(120)
	cases = append(cases, solid{s: pocketed, want: vp, slack: 1e-3 * vc}, solid{s: cone, want: vc, slack: 1e-3 * vc})
	add(sphereBand(10, -4, 7, r3.Vec{Z: 1}, r3.Vec{X: 1}))
	add(sphereBand(10, -4, 7, r3.Vec{X: 1}, r3.Vec{Y: 1}))
	add(sphereBand(10, 2, 9, r3.Unit(r3.Vec{X: 1, Z: 1}), r3.Unit(r3.Vec{X: 1, Z: -1})))
	add(sphereWedge(10, -3, 6, 1.2))
	add(sphereWedge(10, 2, 8, 4.5))
	add(lune(10, 2*math.Pi/3))
	add(lune(10, 4))
	add(coneSolid(6, 9, false))
	add(coneSector(8, 3, 12, 1.3))
	add(coneSector(8, 3, 12, 5))
	add(coneWedge(6, 9, 1))
	add(coneWedge(6, 9, 4.5))
	add(capsule(10, 20, 8, 3, 4))
	for _, a := range []float64{4, -6} {
		s, v := chordCap(10, a, 200)
		ra := math.Sqrt(100 - a*a)
		// The rim's polygon is short of its circle by about n·chord·sagitta/2·depth.
		sag := ra * (1 - math.Cos(math.Pi/200))
		cases = append(cases, solid{s: s, want: v, slack: 2 * math.Pi * ra * sag * 20})
	}

	for _, c := range cases {
		for _, tol := range []float64{0.01, 0.1} {
			for _, moved := range []bool{false, true} {
				s := c.s
				if moved {
					s = moveSolid(s, tilt, r3.Vec{X: 30, Y: -20, Z: 7})
					s.Name += " moved"
				}
				t.Run(fmt.Sprintf("%s/%g", s.Name, tol), func(t *testing.T) {
					if c.low > 0 {
						m := checkTessellation(t, s, tol, c.want, math.Inf(1), false)
						if v := m.SignedVolume(); v > c.want*(1+1e-9) || v < c.low*(1-1e-9) {
							t.Errorf("volume %.8g, want in [%.8g, %.8g]", v, c.low, c.want)
						}
						return
					}
					checkTessellation(t, s, tol, c.want, c.slack, false)
				})
			}
		}
	}
}

// TestTessellateGeneralOnSpecialCases: the general method also does what
// the special cases do, seams and poles included.
func TestTessellateGeneralOnSpecialCases(t *testing.T) {
	cone, vc := coneSolid(6, 9, true)
	for _, c := range []struct {
		s    *Solid
		want float64
	}{
		{cylinderSolid(5, 20), math.Pi * 25 * 20},
		{seamless(cylinderSolid(5, 20)), math.Pi * 25 * 20},
		{frustumSolid(8, 3, 12), math.Pi * 12 / 3 * (64 + 24 + 9)},
		{domeSolid(10), 2 * math.Pi * 1000 / 3},
		{seamless(domeSolid(10)), 2 * math.Pi * 1000 / 3},
		{cone, vc},
		{seamless(bigCap()), math.Pi * 16 * 16 * (30 - 16) / 3},
	} {
		for _, tol := range []float64{0.01, 0.1} {
			t.Run(fmt.Sprintf("%s/%g", c.s.Name, tol), func(t *testing.T) {
				checkTessellation(t, c.s, tol, c.want, 0, true)
				// The special cases, for comparison.
				m, err := Tessellate(c.s, tol)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("special case: %d triangles, volume %.8g", len(m.Faces), m.SignedVolume())
			})
		}
	}
}

// bigCap returns the part of the ball of radius 10 about the origin above
// z = −6, more than a hemisphere: a spherical face bounded by one circle,
// with a seam from it to the pole.
func bigCap() *Solid {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	s := domeSolid(10)
	s.Name = "big cap"
	s.Vertices[0] = r3.Vec{X: 8, Z: -6}
	s.Edges[0].Curve = &Circle{Centre: r3.Vec{Z: -6}, Axis: z, XDir: x, Radius: 8}
	s.Faces[0].Surface = &Plane{Origin: r3.Vec{Z: -6}, Normal: z, XDir: x}
	return s
}

// chordSagitta returns how far the middle of the straight edges on s's
// curved faces lies from their surfaces at most.
func chordSagitta(s *Solid) float64 {
	var sag float64
	for _, f := range s.Faces {
		if _, flat := f.Surface.(*Plane); flat {
			continue
		}
		for _, bound := range f.Bounds {
			for _, oe := range bound {
				if e := s.Edges[oe.Edge]; e.Curve == nil {
					mid := r3.Scale(0.5, r3.Add(s.Vertices[e.V0], s.Vertices[e.V1]))
					sag = math.Max(sag, surfaceDistance(f.Surface, mid))
				}
			}
		}
	}
	return sag
}

// TestTessellateCoarseChords: curved faces bounded by chords further from
// the surface than tol, down to a patch of three chords, which then is a
// triangle split at its centroid. No split can bring the mesh nearer the
// surface than the chords are, and near them (within a chord's length) it
// may stray coarseAllowance times as far; elsewhere it keeps to tol. And a
// boundary a little off the surface, as fitting leaves it.
func TestTessellateCoarseChords(t *testing.T) {
	type solid struct {
		s    *Solid
		want float64
	}
	var cases []solid
	for _, n := range []int{3, 4, 7, 12, 20, 40} {
		pocketed, cone, vp, vc := fanSolids(n)
		cases = append(cases, solid{pocketed, vp}, solid{cone, vc})
	}
	for _, n := range []int{16, 32} {
		s, _ := chordCylinder(5, 20, n, n+8, false)
		cases = append(cases, solid{s, math.Pi * 25 * 20})
	}
	for _, k := range []int{2, 4} {
		s, v := windowSolid(k, k == 4)
		cases = append(cases, solid{s, v})
	}
	for _, c := range cases {
		sag := chordSagitta(c.s)
		for _, tol := range []float64{0.01, 0.1} {
			// The volume is that of the exact solid's less about the
			// chords' sagitta over the area they bound.
			checkTessellationWith(t, c.s, tessCheck{tol: tol, want: c.want, slack: 0.3 * c.want, dev: coarseAllowance * sag})
			t.Logf("%s: chords up to %.3g mm from the surface", c.s.Name, sag)
		}
	}
	// Window chords' corners moved out and in by up to 3 µm.
	w, v := windowSolid(16, false)
	for i := 2; i < len(w.Vertices)-4; i++ {
		p := w.Vertices[i]
		if math.Abs(p.Y) < 3.99 {
			d := 0.003 * math.Sin(float64(7*i))
			w.Vertices[i] = r3.Add(p, r3.Scale(d/math.Hypot(p.X, p.Y), r3.Vec{X: p.X, Y: p.Y}))
		}
	}
	w.Name = "window off the surface"
	checkTessellationWith(t, w, tessCheck{tol: 0.01, want: v, slack: 1, off: 0.003, dev: 0.013})
}

// sphereTriangle returns the cone from the centre of the sphere of radius
// r over a small equilateral triangle on it whose sides are chords that
// stray sag from the sphere: its spherical face is bounded by three chords
// alone. Its volume is that of the cone over the spherical triangle the
// chords' great circles bound, r³/3 times its spherical excess, less the
// slivers between the chords and their arcs.
func sphereTriangle(r, sag float64) (*Solid, float64) {
	half := math.Sqrt(r*r - (r-sag)*(r-sag)) // half the chord
	theta := math.Asin(2 * half / (r * math.Sqrt(3)))
	s := &Solid{Name: fmt.Sprintf("sphere triangle, chords %.3g off", sag), Vertices: []r3.Vec{{}}}
	for i := range 3 {
		a := 2 * math.Pi * float64(i) / 3
		s.Vertices = append(s.Vertices, r3.Scale(r, r3.Vec{X: math.Sin(theta) * math.Cos(a), Y: math.Sin(theta) * math.Sin(a), Z: math.Cos(theta)}))
	}
	// Chords 0..2 from corner i+1 to the next, spokes 3..5 from the
	// centre to corner i+1.
	for i := range 3 {
		s.Edges = append(s.Edges, Edge{V0: 1 + i, V1: 1 + (i+1)%3})
	}
	for i := range 3 {
		s.Edges = append(s.Edges, Edge{V0: 0, V1: 1 + i})
	}
	s.Faces = append(s.Faces, Face{Surface: &Sphere{Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: r},
		Bounds: [][]OrientedEdge{{along(0), along(1), along(2)}}, SameSense: true})
	for i := range 3 {
		a, b := s.Vertices[1+i], s.Vertices[1+(i+1)%3]
		n := r3.Unit(r3.Cross(a, b))
		s.Faces = append(s.Faces, Face{Surface: &Plane{Normal: r3.Scale(-1, n), XDir: r3.Unit(a)},
			Bounds: [][]OrientedEdge{{against(i), against(3 + i), along(3 + (i+1)%3)}}, SameSense: true})
	}
	cosA := r3.Dot(s.Vertices[1], s.Vertices[2]) / (r * r)
	alpha := math.Acos(cosA / (1 + cosA))
	return s, r * r * r * (3*alpha - math.Pi) / 3
}

// sphereHole returns the ball of radius r about the origin less the cap
// above z = a, where its sphere meets the plane in a circle of radius ra,
// the rim a polygon of n chords: a spherical face covering all the sphere
// but a small hole bounded by chords, closed by a flat face. axis is the
// sphere's own axis, about which the tessellator first tries to draw it.
// It returns the volume of the ball below z = a, and how far off that the
// solid's is at most: the polygon is short of its circle, and the mesh
// climbs from the chords to the sphere, within a chord's length of them.
func sphereHole(r, ra float64, n int, axis r3.Vec) (*Solid, float64, float64) {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	a := math.Sqrt(r*r - ra*ra)
	s := &Solid{Name: fmt.Sprintf("sphere less a %d-chord hole of radius %g, axis %v", n, ra, axis)}
	var rim, lid []OrientedEdge
	for i := range n {
		t := 2 * math.Pi * float64(i) / float64(n)
		s.Vertices = append(s.Vertices, r3.Vec{X: ra * math.Cos(t), Y: ra * math.Sin(t), Z: a})
		s.Edges = append(s.Edges, Edge{V0: i, V1: (i + 1) % n})
		lid = append(lid, along(i))
		rim = append(rim, against(n-1-i))
	}
	xdir := r3.Unit(r3.Cross(axis, r3.Vec{X: 0.3, Y: 1, Z: 0.2}))
	s.Faces = []Face{
		{Surface: &Plane{Origin: r3.Vec{Z: a}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{lid}, SameSense: true},
		{Surface: &Sphere{Axis: axis, XDir: xdir, Radius: r}, Bounds: [][]OrientedEdge{rim}, SameSense: true},
	}
	h := r - a
	chord := 2 * ra * math.Sin(math.Pi/float64(n))
	short := ra * (1 - math.Cos(math.Pi/float64(n))) // the polygon's sides from the circle
	sag := chord * chord / (8 * r)                   // the chords' middles from the sphere, about
	return s, 4*math.Pi*r*r*r/3 - math.Pi*h*h*(3*r-h)/3, float64(n) * chord * (short*h + coarseAllowance*sag)
}

// TestTessellateSphereHole: a spherical face that covers all its sphere
// but a small hole bounded by chords, as Assemble makes of a ball meshed
// as one sphere with a fan of facets left about a vertex. Drawn about the
// pole opposite the hole the chords, spanning a sixth or a twelfth of a
// turn about the axis, would cut deep into the disc the face becomes, so
// that refinement never settled: the face is split along a ring of
// latitude, and the part with the hole drawn about the hole's pole.
func TestTessellateSphereHole(t *testing.T) {
	for _, c := range []struct {
		ra    float64
		n     int
		axis  r3.Vec
		moved bool
	}{
		{1, 12, r3.Vec{Z: 1}, false},
		{1, 12, r3.Vec{X: 1}, false},
		{1.5, 6, r3.Vec{Z: 1}, false},
		{1.5, 6, r3.Vec{Z: 1}, true},
		{0.8, 5, r3.Unit(r3.Vec{X: 1, Y: -2, Z: 0.5}), true},
	} {
		s, want, slack := sphereHole(10, c.ra, c.n, c.axis)
		if c.moved {
			s = moveSolid(s, tilt, r3.Vec{X: 30, Y: -20, Z: 7})
			s.Name += " moved"
		}
		sag := chordSagitta(s)
		for _, tol := range []float64{0.1, 0.01, 0.004} {
			t.Run(fmt.Sprintf("%s/%g", s.Name, tol), func(t *testing.T) {
				dev := 0.0
				if sag > tol {
					dev = coarseAllowance * sag
				}
				m := checkTessellationWith(t, s, tessCheck{tol: tol, want: want, slack: slack, dev: dev})
				// About 4π·r²/(2.6·r·tol) triangles are enough for the
				// whole sphere.
				if enough := 4 * math.Pi * 10 / (2.6 * tol); float64(len(m.Faces)) > 4*enough {
					t.Errorf("%d triangles, want about %.0f", len(m.Faces), enough)
				}
				// The general method alone, as the assembler's solids
				// reach it.
				checkTessellationWith(t, s, tessCheck{tol: tol, want: want, slack: slack, dev: dev, general: true})
			})
		}
	}
}

// TestTessellateUnsettledFailsFast: refinement that cannot settle, here
// of sphereHole's face drawn about the pole opposite its hole as one disc
// (which faithful rejects, and patch splits instead), gives up after a few
// times the splits the face would need, not after millions.
func TestTessellateUnsettledFailsFast(t *testing.T) {
	s, _, _ := sphereHole(10, 1.5, 6, r3.Vec{Z: 1})
	for _, tol := range []float64{0.1, 0.01, 0.004} {
		ts := &tessellator{s: s, tol: tol, m: &geom.Mesh{Vertices: slices.Clone(s.Vertices)}}
		ts.samples = make([][]int32, len(s.Edges))
		for i := range s.Edges {
			ts.samples[i] = ts.sampleEdge(i)
		}
		loops := ts.loops(s.Faces[1])
		g := ts.uvSurfaces(s.Faces[1], loops)[0]
		d, err := ts.uvDomain(g, loops)
		if err != nil || !d.polar {
			t.Fatalf("tol %g: domain %+v, %v; want the cap about the pole opposite the hole", tol, d, err)
		}
		if err := ts.faithful(d); !errors.Is(err, ErrUnsupportedFace) {
			t.Errorf("tol %g: faithful says %v, want ErrUnsupportedFace", tol, err)
		}
		err = ts.refine(d)
		if !errors.Is(err, ErrUnsupportedFace) {
			t.Fatalf("tol %g: refine says %v, want ErrUnsupportedFace", tol, err)
		}
		// The splits it tried, not the time (which a loaded machine or
		// the race detector stretches), must stay within the limit.
		m := regexp.MustCompile(`in (\d+) splits`).FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("tol %g: %v does not say how many splits", tol, err)
		}
		splits, _ := strconv.Atoi(m[1])
		if est := ts.splitEstimate(d); splits > 4*est+1 {
			t.Errorf("tol %g: gave up after %d splits, want at most 4 × the estimate %d", tol, splits, est)
		}
		t.Logf("tol %g: %v (estimate %d splits)", tol, err, ts.splitEstimate(d))
	}
}

// TestTessellateTriangleFace: a spherical face bounded by three chords
// close enough to the sphere that its ear clipping is one triangle with
// every edge on the boundary, yet that triangle strays too far inside: it
// is split at its centroid.
func TestTessellateTriangleFace(t *testing.T) {
	for _, tol := range []float64{0.01, 0.1} {
		s, v := sphereTriangle(10, 0.9*tol)
		m := checkTessellationWith(t, s, tessCheck{tol: tol, want: v, slack: 0.05 * v})
		if len(m.Faces) <= 4 {
			t.Errorf("%s: %d triangles, want the spherical one split", s.Name, len(m.Faces))
		}
	}
}

// TestTessellateFaceIndex: each triangle's face index names the face the
// triangle lies on.
func TestTessellateFaceIndex(t *testing.T) {
	s, _ := capsule(10, 20, 6, 2, 3)
	m, faces, err := TessellateFaces(s, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]int, len(s.Faces))
	for _, f := range faces {
		count[f]++
	}
	for i, n := range count {
		if n == 0 {
			t.Errorf("face %d has no triangles", i)
		}
	}
	if len(faces) != len(m.Faces) {
		t.Errorf("%d face indices for %d triangles", len(faces), len(m.Faces))
	}
}

// TestTessellateGeneralErrors: what the general method cannot do is an
// error that wraps ErrUnsupportedFace.
func TestTessellateGeneralErrors(t *testing.T) {
	// A cylinder's wall bounded by one circle alone reaches to infinity:
	// the seamless cylinder's wall split into one face per circle.
	c := seamless(cylinderSolid(5, 20))
	wall := c.Faces[2]
	c.Faces = append(c.Faces[:2], Face{Surface: wall.Surface, Bounds: wall.Bounds[:1], SameSense: true},
		Face{Surface: wall.Surface, Bounds: wall.Bounds[1:], SameSense: true})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := Tessellate(c, 0.1); !errors.Is(err, ErrUnsupportedFace) {
		t.Errorf("cylinder beyond one circle: %v, want ErrUnsupportedFace", err)
	}
	// A window whose chords are far off the wall.
	w, _ := windowSolid(16, false)
	w.Faces[2].Surface = &Cylinder{Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: 12}
	if _, err := Tessellate(w, 0.1); !errors.Is(err, ErrUnsupportedFace) {
		t.Errorf("boundary off the surface: %v, want ErrUnsupportedFace", err)
	}
}

// BenchmarkTessellate: a solid of 5,001 faces, all but one curved patches
// for the general method (cylinder, sphere, triangles to the pole).
func BenchmarkTessellate(b *testing.B) {
	s, _ := capsule(50, 100, 50, 50, 50)
	if err := s.Validate(); err != nil {
		b.Fatal(err)
	}
	var tris int
	for b.Loop() {
		m, err := Tessellate(s, 0.01)
		if err != nil {
			b.Fatal(err)
		}
		tris = len(m.Faces)
	}
	b.ReportMetric(float64(len(s.Faces)), "faces")
	b.ReportMetric(float64(tris), "triangles")
}
