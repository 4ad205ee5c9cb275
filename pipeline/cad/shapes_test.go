package cad

import (
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// prism extrudes a triangulated polygon with holes from z = 0 to z = h.
// xy are the polygon's points, loops its boundary (the outer loop
// counter-clockwise seen from +z, holes clockwise) and tris its
// triangulation, counter-clockwise, as indices into xy. The mesh has the
// bottom points first, then the top ones.
func prism(xy [][2]float64, loops [][]int32, tris [][3]int32, h float64) *geom.Mesh {
	n := int32(len(xy))
	m := &geom.Mesh{}
	for _, z := range []float64{0, h} {
		for _, p := range xy {
			m.Vertices = append(m.Vertices, r3.Vec{X: p[0], Y: p[1], Z: z})
		}
	}
	for _, t := range tris {
		m.Faces = append(m.Faces, [3]int32{t[0], t[2], t[1]}, [3]int32{n + t[0], n + t[1], n + t[2]})
	}
	for _, loop := range loops {
		for k, a := range loop {
			b := loop[(k+1)%len(loop)]
			m.Faces = append(m.Faces, [3]int32{a, b, n + b}, [3]int32{a, n + b, n + a})
		}
	}
	return m
}

// boxMesh returns the box [0,sx]×[0,sy]×[0,sz] as 12 triangles.
func boxMesh(sx, sy, sz float64) *geom.Mesh {
	return prism([][2]float64{{0, 0}, {sx, 0}, {sx, sy}, {0, sy}}, [][]int32{{0, 1, 2, 3}}, [][3]int32{{0, 1, 2}, {0, 2, 3}}, sz)
}

// plateMesh returns the plate [0,40]×[0,30]×[0,10] with a through hole of
// radius 4 about the vertical line through (20, 15), the hole a 32-gon.
// The top and bottom are triangulated as a strip between the 32-gon and
// the rectangle's corners and the 32 points where rays from the centre
// through the 32-gon's corners meet the rectangle: so the plate's sides
// have collinear vertices, and every triangle is well shaped.
func plateMesh() *geom.Mesh {
	const (
		w, d, h, r = 40.0, 30.0, 10.0, 4.0
		n          = 32
	)
	cx, cy := w/2, d/2
	// Angles are measured from the first corner of the 32-gon, which is
	// half a step off the x axis so that no ray hits a corner of the plate.
	start := math.Pi / n
	rel := func(a float64) float64 { return math.Mod(a-start+4*math.Pi, 2*math.Pi) }
	type ringPoint struct {
		angle float64
		p     [2]float64
	}
	var outer, inner []ringPoint
	for i := range n {
		a := start + 2*math.Pi*float64(i)/n
		inner = append(inner, ringPoint{rel(a), [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)}})
		// Where the ray at angle a leaves the rectangle.
		dx, dy := math.Cos(a), math.Sin(a)
		t := math.Min(math.Abs(w/2/dx), math.Abs(d/2/dy))
		outer = append(outer, ringPoint{rel(a), [2]float64{cx + t*dx, cy + t*dy}})
	}
	for _, c := range [][2]float64{{0, 0}, {w, 0}, {w, d}, {0, d}} {
		outer = append(outer, ringPoint{rel(math.Atan2(c[1]-cy, c[0]-cx)), c})
	}
	slices.SortFunc(outer, func(a, b ringPoint) int { return cmpFloat(a.angle, b.angle) })
	var xy [][2]float64
	var outerLoop, innerLoop []int32
	for _, q := range outer {
		outerLoop = append(outerLoop, int32(len(xy)))
		xy = append(xy, q.p)
	}
	for _, q := range inner {
		innerLoop = append(innerLoop, int32(len(xy)))
		xy = append(xy, q.p)
	}
	// Merge the two rings by angle (both start at angle 0).
	no, ni := len(outer), len(inner)
	angle := func(ring []ringPoint, i int) float64 {
		if i == len(ring) {
			return 2 * math.Pi
		}
		return ring[i].angle
	}
	var tris [][3]int32
	for i, j := 0, 0; i < ni || j < no; {
		in, out := innerLoop[i%ni], outerLoop[j%no]
		if i < ni && (j == no || angle(inner, i+1) <= angle(outer, j+1)) {
			tris = append(tris, [3]int32{in, out, innerLoop[(i+1)%ni]})
			i++
		} else {
			tris = append(tris, [3]int32{in, out, outerLoop[(j+1)%no]})
			j++
		}
	}
	slices.Reverse(innerLoop) // holes run clockwise
	return prism(xy, [][]int32{outerLoop, innerLoop}, tris, h)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// cylinderSolid returns the cylinder of radius r about the z axis from
// z = 0 to z = h as the B-rep a CAD program makes of it: two discs each
// bounded by a full-circle edge and a cylindrical face bounded by both
// circles and the seam line at +x, which it uses twice.
func cylinderSolid(r, h float64) *Solid {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	top := r3.Vec{Z: h}
	return &Solid{
		Name:     "cylinder",
		Vertices: []r3.Vec{{X: r}, {X: r, Z: h}},
		Edges: []Edge{
			{V0: 0, V1: 0, Curve: &Circle{Axis: z, XDir: x, Radius: r}},
			{V0: 1, V1: 1, Curve: &Circle{Centre: top, Axis: z, XDir: x, Radius: r}},
			{V0: 0, V1: 1}, // the seam
		},
		Faces: []Face{
			{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{0, false}}}, SameSense: false},
			{Surface: &Plane{Origin: top, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{1, true}}}, SameSense: true},
			{
				Surface:   &Cylinder{Axis: z, XDir: x, Radius: r},
				Bounds:    [][]OrientedEdge{{{0, true}, {2, true}, {1, false}, {2, false}}},
				SameSense: true,
			},
		},
	}
}

// frustumSolid returns the cone frustum about the z axis with radius r0 at
// z = 0 and r1 < r0 at z = h: the cone's axis points down from the top so
// that its radius grows along it, as STEP's positive semi-angle requires.
func frustumSolid(r0, r1, h float64) *Solid {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	top := r3.Vec{Z: h}
	return &Solid{
		Name:     "frustum",
		Vertices: []r3.Vec{{X: r0}, {X: r1, Z: h}},
		Edges: []Edge{
			{V0: 0, V1: 0, Curve: &Circle{Axis: z, XDir: x, Radius: r0}},
			{V0: 1, V1: 1, Curve: &Circle{Centre: top, Axis: z, XDir: x, Radius: r1}},
			{V0: 1, V1: 0}, // the seam, downwards
		},
		Faces: []Face{
			{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{0, false}}}, SameSense: false},
			{Surface: &Plane{Origin: top, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{1, true}}}, SameSense: true},
			{
				Surface:   &Cone{Origin: top, Axis: r3.Vec{Z: -1}, XDir: x, Radius: r1, SemiAngle: math.Atan((r0 - r1) / h)},
				Bounds:    [][]OrientedEdge{{{1, false}, {2, true}, {0, true}, {2, false}}},
				SameSense: true,
			},
		},
	}
}

// domeSolid returns the upper half of the ball of radius r about the
// origin as OpenCascade builds it: a disc bounded by the equator, and a
// spherical face bounded by the equator and a seam, a quarter circle from
// the equator up to the pole, used once each way. The loop passes through
// the pole, where the face's boundary shrinks to a point (STEP, unlike
// OpenCascade, has no degenerate edge there).
func domeSolid(r float64) *Solid {
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	return &Solid{
		Name:     "dome",
		Vertices: []r3.Vec{{X: r}, {Z: r}},
		Edges: []Edge{
			{V0: 0, V1: 0, Curve: &Circle{Axis: z, XDir: x, Radius: r}},
			// Counter-clockwise about −y runs from +x up to +z.
			{V0: 0, V1: 1, Curve: &Circle{Axis: r3.Vec{Y: -1}, XDir: x, Radius: r}},
		},
		Faces: []Face{
			{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{0, false}}}, SameSense: false},
			{Surface: &Sphere{Axis: z, XDir: x, Radius: r}, Bounds: [][]OrientedEdge{{{1, false}, {0, true}, {1, true}}}, SameSense: true},
		},
	}
}
