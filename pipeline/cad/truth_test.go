package cad

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// solidBuilder puts a hand-made B-rep together: straight edges are found
// by their ends, so a loop names its corners and shares the edges the
// faces before it made.
type solidBuilder struct {
	s     *Solid
	lines map[[2]int]int
}

func newSolidBuilder(name string) *solidBuilder {
	return &solidBuilder{s: &Solid{Name: name}, lines: map[[2]int]int{}}
}

func (b *solidBuilder) vertex(p r3.Vec) int {
	b.s.Vertices = append(b.s.Vertices, p)
	return len(b.s.Vertices) - 1
}

// circle adds the full circle of radius r about the vertical line through
// c, counter-clockwise about +z, starting at +x; it returns the edge.
func (b *solidBuilder) circle(c r3.Vec, r float64) int {
	v := b.vertex(r3.Add(c, r3.Vec{X: r}))
	b.s.Edges = append(b.s.Edges, Edge{V0: v, V1: v, Curve: &Circle{Centre: c, Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: r}})
	return len(b.s.Edges) - 1
}

// polygon is the loop of straight edges through the vertices in order.
func (b *solidBuilder) polygon(vs ...int) []OrientedEdge {
	var loop []OrientedEdge
	for i, v := range vs {
		w := vs[(i+1)%len(vs)]
		if e, ok := b.lines[[2]int{w, v}]; ok {
			loop = append(loop, OrientedEdge{e, false})
			continue
		}
		b.s.Edges = append(b.s.Edges, Edge{V0: v, V1: w})
		b.lines[[2]int{v, w}] = len(b.s.Edges) - 1
		loop = append(loop, OrientedEdge{len(b.s.Edges) - 1, true})
	}
	return loop
}

func (b *solidBuilder) face(sf Surface, same bool, loops ...[]OrientedEdge) {
	b.s.Faces = append(b.s.Faces, Face{Surface: sf, Bounds: loops, SameSense: same})
}

// hole is a vertical through hole of diameter d at (x, y).
type hole struct{ x, y, d float64 }

// bracketSolid is the built-in bracket (the sample's part): an 80×40×12 mm
// block on z = 0, centred on the z axis, with two Ø8 through holes at
// x = ±25. It has 6 planes and 2 cylinders.
func bracketSolid() (*Solid, float64) {
	return blockSolid("bracket", r3.Vec{X: -40, Y: -20}, r3.Vec{X: 40, Y: 20, Z: 12}, []hole{{-25, 0, 8}, {25, 0, 8}})
}

// blockSolid is the box from lo to hi with vertical through holes, and its
// volume.
func blockSolid(name string, lo, hi r3.Vec, holes []hole) (*Solid, float64) {
	b := newSolidBuilder(name)
	var c [8]int
	for i := range 8 {
		p := lo
		if i&1 != 0 {
			p.X = hi.X
		}
		if i&2 != 0 {
			p.Y = hi.Y
		}
		if i&4 != 0 {
			p.Z = hi.Z
		}
		c[i] = b.vertex(p)
	}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	var top, bottom [][]OrientedEdge
	top = append(top, b.polygon(c[4], c[5], c[7], c[6]))
	bottom = append(bottom, b.polygon(c[0], c[2], c[3], c[1]))
	vol := (hi.X - lo.X) * (hi.Y - lo.Y) * (hi.Z - lo.Z)
	var walls []Face
	for _, h := range holes {
		r := h.d / 2
		et := b.circle(r3.Vec{X: h.x, Y: h.y, Z: hi.Z}, r)
		eb := b.circle(r3.Vec{X: h.x, Y: h.y, Z: lo.Z}, r)
		top = append(top, []OrientedEdge{{et, false}})
		bottom = append(bottom, []OrientedEdge{{eb, true}})
		walls = append(walls, Face{Surface: &Cylinder{Origin: r3.Vec{X: h.x, Y: h.y, Z: lo.Z}, Axis: z, XDir: x, Radius: r},
			Bounds: [][]OrientedEdge{{{et, true}}, {{eb, false}}}, SameSense: false})
		vol -= math.Pi * r * r * (hi.Z - lo.Z)
	}
	b.face(&Plane{Origin: r3.Vec{Z: hi.Z}, Normal: z, XDir: x}, true, top...)
	b.face(&Plane{Origin: r3.Vec{Z: lo.Z}, Normal: r3.Vec{Z: -1}, XDir: x}, true, bottom...)
	b.face(&Plane{Origin: r3.Vec{Y: lo.Y}, Normal: r3.Vec{Y: -1}, XDir: x}, true, b.polygon(c[0], c[1], c[5], c[4]))
	b.face(&Plane{Origin: r3.Vec{Y: hi.Y}, Normal: r3.Vec{Y: 1}, XDir: x}, true, b.polygon(c[2], c[6], c[7], c[3]))
	b.face(&Plane{Origin: r3.Vec{X: hi.X}, Normal: x, XDir: r3.Vec{Y: 1}}, true, b.polygon(c[1], c[3], c[7], c[5]))
	b.face(&Plane{Origin: r3.Vec{X: lo.X}, Normal: r3.Vec{X: -1}, XDir: r3.Vec{Y: 1}}, true, b.polygon(c[0], c[4], c[6], c[2]))
	b.s.Faces = append(b.s.Faces, walls...)
	return b.s, vol
}

// flangeSolid is the built-in flanged bush: a flange of radius 30 over
// z 0..8, a body of radius 16 over z 8..40, a Ø18 bore through and two
// Ø6 holes through the flange at x = ±22. It has 3 planes and 5
// cylinders.
func flangeSolid() (*Solid, float64) {
	b := newSolidBuilder("flange")
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	o0, o8, o40 := r3.Vec{}, r3.Vec{Z: 8}, r3.Vec{Z: 40}
	f0, f8 := b.circle(o0, 30), b.circle(o8, 30)
	b8, b40 := b.circle(o8, 16), b.circle(o40, 16)
	r0, r40 := b.circle(o0, 9), b.circle(o40, 9)
	cyl := func(o r3.Vec, r float64) *Cylinder { return &Cylinder{Origin: o, Axis: z, XDir: x, Radius: r} }
	bottom := [][]OrientedEdge{{{f0, false}}, {{r0, true}}}
	ftop := [][]OrientedEdge{{{f8, true}}, {{b8, false}}}
	for _, hx := range []float64{-22, 22} {
		h0, h8 := b.circle(r3.Vec{X: hx}, 3), b.circle(r3.Vec{X: hx, Z: 8}, 3)
		bottom = append(bottom, []OrientedEdge{{h0, true}})
		ftop = append(ftop, []OrientedEdge{{h8, false}})
		b.face(cyl(r3.Vec{X: hx}, 3), false, []OrientedEdge{{h8, true}}, []OrientedEdge{{h0, false}})
	}
	b.face(&Plane{Normal: r3.Vec{Z: -1}, XDir: x}, true, bottom...)
	b.face(cyl(o0, 30), true, []OrientedEdge{{f0, true}}, []OrientedEdge{{f8, false}})
	b.face(&Plane{Origin: o8, Normal: z, XDir: x}, true, ftop...)
	b.face(cyl(o8, 16), true, []OrientedEdge{{b8, true}}, []OrientedEdge{{b40, false}})
	b.face(&Plane{Origin: o40, Normal: z, XDir: x}, true, []OrientedEdge{{b40, true}}, []OrientedEdge{{r40, false}})
	b.face(cyl(o0, 9), false, []OrientedEdge{{r40, true}}, []OrientedEdge{{r0, false}})
	vol := math.Pi * (30*30*8 + 16*16*32 - 9*9*40 - 2*3*3*8)
	return b.s, vol
}

// slantedSolid is a Ø20 rod on z = 0 cut slantwise at the top by the
// plane z = 20 + 0.4x: the plane meets the cylinder in an ellipse. It has
// 2 planes and 1 cylinder.
func slantedSolid() (*Solid, float64) {
	b := newSolidBuilder("slanted")
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	n := r3.Unit(r3.Vec{X: -0.4, Z: 1})
	major := r3.Unit(r3.Vec{X: 1, Z: 0.4})
	eb := b.circle(r3.Vec{}, 10)
	v := b.vertex(r3.Vec{X: 10, Z: 24})
	b.s.Edges = append(b.s.Edges, Edge{V0: v, V1: v, Curve: &Ellipse{Centre: r3.Vec{Z: 20}, Axis: n, XDir: major, SemiMajor: 10 / r3.Dot(n, z), SemiMinor: 10}})
	et := len(b.s.Edges) - 1
	b.face(&Plane{Normal: r3.Vec{Z: -1}, XDir: x}, true, []OrientedEdge{{eb, false}})
	b.face(&Cylinder{Axis: z, XDir: x, Radius: 10}, true, []OrientedEdge{{eb, true}}, []OrientedEdge{{et, false}})
	b.face(&Plane{Origin: r3.Vec{Z: 20}, Normal: n, XDir: major}, true, []OrientedEdge{{et, true}})
	return b.s, math.Pi * 100 * 20
}

// truthMesh triangulates a solid and refines the triangles by longest-edge
// bisection until no edge is longer than h, every new vertex put on its
// faces' surfaces: the part's true surface as an even mesh, for noise to
// be added to.
func truthMesh(tb testing.TB, s *Solid, h float64) *geom.Mesh {
	tb.Helper()
	m, faces, err := TessellateFaces(s, 0.05)
	if err != nil {
		tb.Fatal(err)
	}
	shapes := make([]shape, len(s.Faces))
	for i, f := range s.Faces {
		shapes[i] = shapeOf(f.Surface)
	}
	var failed bool
	out, _ := bisectLong(m, h, func(_, _ int32, mid r3.Vec, o1, o2 int32) r3.Vec {
		on := []*shape{&shapes[faces[o1]]}
		if faces[o2] != faces[o1] {
			on = append(on, &shapes[faces[o2]])
		}
		p, ok := project(mid, on)
		if !ok {
			failed = true
		}
		return p
	})
	if failed {
		tb.Fatal("a midpoint does not go onto its faces")
	}
	return out
}

// addNoise moves every vertex along its normal (area-weighted) by Gaussian
// noise of deviation sigma.
func addNoise(m *geom.Mesh, sigma float64, seed uint64) {
	n := make([]r3.Vec, len(m.Vertices))
	for i, f := range m.Faces {
		c := r3.Cross(r3.Sub(m.Vertices[f[1]], m.Vertices[f[0]]), r3.Sub(m.Vertices[f[2]], m.Vertices[f[0]]))
		_ = i
		for _, v := range f {
			n[v] = r3.Add(n[v], c)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for v := range m.Vertices {
		if l := r3.Norm(n[v]); l > 0 {
			m.Vertices[v] = r3.Add(m.Vertices[v], r3.Scale(rng.NormFloat64()*sigma/l, n[v]))
		}
	}
}
