package meshview

import (
	"math"

	"github.com/replica3d/replica/pipeline/geom"
)

// box returns the closed box [lo, hi] as 12 triangles on 8 shared
// vertices, counter-clockwise seen from outside.
func box(lo, hi geom.Vec) *geom.Mesh {
	v := make([]geom.Vec, 8)
	for i := range v {
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
		v[i] = p
	}
	// Each quad a, b, c, d is counter-clockwise seen from outside.
	quads := [6][4]int32{
		{0, 2, 3, 1}, // z = lo (bottom, seen from below)
		{4, 5, 7, 6}, // z = hi
		{0, 1, 5, 4}, // y = lo (front)
		{2, 6, 7, 3}, // y = hi
		{0, 4, 6, 2}, // x = lo
		{1, 3, 7, 5}, // x = hi
	}
	m := &geom.Mesh{Vertices: v}
	for _, q := range quads {
		m.Faces = append(m.Faces, [3]int32{q[0], q[1], q[2]}, [3]int32{q[0], q[2], q[3]})
	}
	return m
}

// plateWithHole returns a square plate side×side×thick resting on z = 0
// with a round hole of the given radius through its centre, as a closed
// genus-1 mesh of 8n triangles. The top and bottom faces are strips
// between the outer square and the hole, both sampled at the same n angles;
// n must be a multiple of 8 so that the square's corners are samples.
func plateWithHole(side, thick, radius float64, n int) *geom.Mesh {
	m := &geom.Mesh{}
	// Vertices 4k..4k+3: outer bottom, outer top, inner bottom, inner top.
	for k := range n {
		s, c := math.Sincos(2 * math.Pi * float64(k) / float64(n))
		o := side / 2 / max(math.Abs(c), math.Abs(s))
		m.Vertices = append(m.Vertices,
			geom.Vec{X: o * c, Y: o * s}, geom.Vec{X: o * c, Y: o * s, Z: thick},
			geom.Vec{X: radius * c, Y: radius * s}, geom.Vec{X: radius * c, Y: radius * s, Z: thick})
	}
	for k := range n {
		j := (k + 1) % n
		ob, ot, ib, it := int32(4*k), int32(4*k+1), int32(4*k+2), int32(4*k+3)
		ob1, ot1, ib1, it1 := int32(4*j), int32(4*j+1), int32(4*j+2), int32(4*j+3)
		m.Faces = append(m.Faces,
			[3]int32{it, ot, ot1}, [3]int32{it, ot1, it1}, // top
			[3]int32{ib, ob1, ob}, [3]int32{ib, ib1, ob1}, // bottom
			[3]int32{ob, ob1, ot1}, [3]int32{ob, ot1, ot}, // outer wall
			[3]int32{ib, it, it1}, [3]int32{ib, it1, ib1}, // hole
		)
	}
	return m
}

// torus returns a bumpy torus about the z axis: nu×nv quads, 2·nu·nv
// triangles on nu·nv vertices, major radius 1 and tube radius 0.4 modulated
// by smooth bumps of ±8 %.
func torus(nu, nv int) *geom.Mesh {
	m := &geom.Mesh{Vertices: make([]geom.Vec, 0, nu*nv), Faces: make([][3]int32, 0, 2*nu*nv)}
	for i := range nu {
		su, cu := math.Sincos(2 * math.Pi * float64(i) / float64(nu))
		u := 2 * math.Pi * float64(i) / float64(nu)
		for j := range nv {
			v := 2 * math.Pi * float64(j) / float64(nv)
			sv, cv := math.Sincos(v)
			r := 0.4 * (1 + 0.05*math.Sin(9*u)*math.Sin(4*v) + 0.03*math.Sin(23*u+3*v))
			m.Vertices = append(m.Vertices, geom.Vec{X: (1 + r*cv) * cu, Y: (1 + r*cv) * su, Z: r * sv})
		}
	}
	id := func(i, j int) int32 { return int32((i%nu)*nv + j%nv) }
	for i := range nu {
		for j := range nv {
			a, b, c, d := id(i, j), id(i+1, j), id(i+1, j+1), id(i, j+1)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}

// sphere returns a UV sphere of radius 1 at the origin with n bands of
// latitude and 2n of longitude; poles are fans.
func sphere(n int) *geom.Mesh {
	m := &geom.Mesh{}
	m.Vertices = append(m.Vertices, geom.Vec{Z: -1}, geom.Vec{Z: 1})
	for i := 1; i < n; i++ {
		st, ct := math.Sincos(math.Pi * float64(i) / float64(n))
		for j := range 2 * n {
			sp, cp := math.Sincos(math.Pi * float64(j) / float64(n))
			m.Vertices = append(m.Vertices, geom.Vec{X: st * cp, Y: st * sp, Z: -ct})
		}
	}
	id := func(i, j int) int32 { return int32(2 + (i-1)*2*n + j%(2*n)) }
	for j := range 2 * n {
		m.Faces = append(m.Faces, [3]int32{0, id(1, j+1), id(1, j)})
		m.Faces = append(m.Faces, [3]int32{1, id(n-1, j), id(n-1, j+1)})
		for i := 1; i < n-1; i++ {
			a, b, c, d := id(i, j), id(i, j+1), id(i+1, j+1), id(i+1, j)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}
