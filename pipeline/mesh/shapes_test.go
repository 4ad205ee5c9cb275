package mesh

import (
	"math"

	"github.com/replica3d/replica/pipeline/geom"
)

// cube returns the axis-aligned cube [0,s]³: 8 vertices, 12 triangles,
// counter-clockwise seen from outside.
func cube(s float64) *geom.Mesh {
	m := &geom.Mesh{}
	for i := range 8 {
		m.Vertices = append(m.Vertices, geom.Vec{X: s * float64(i&1), Y: s * float64(i>>1&1), Z: s * float64(i>>2&1)})
	}
	// Vertex i has x = bit 0, y = bit 1, z = bit 2.
	quads := [6][4]int32{{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}}
	for _, q := range quads {
		m.Faces = append(m.Faces, [3]int32{q[0], q[1], q[2]}, [3]int32{q[0], q[2], q[3]})
	}
	return m
}

// torus returns a closed torus (major radius R, minor radius r, in
// millimetres) of 2·n·k triangles, every coordinate rounded to float32 so
// that it survives STL and PLY exactly.
func torus(R, r float64, n, k int) *geom.Mesh {
	m := &geom.Mesh{}
	for i := range n {
		u := 2 * math.Pi * float64(i) / float64(n)
		for j := range k {
			v := 2 * math.Pi * float64(j) / float64(k)
			p := geom.Vec{X: (R + r*math.Cos(v)) * math.Cos(u), Y: (R + r*math.Cos(v)) * math.Sin(u), Z: r * math.Sin(v)}
			m.Vertices = append(m.Vertices, f32(p))
		}
	}
	at := func(i, j int) int32 { return int32(i%n*k + j%k) }
	for i := range n {
		for j := range k {
			a, b, c, d := at(i, j), at(i+1, j), at(i+1, j+1), at(i, j+1)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}

// f32 rounds p to float32 precision.
func f32(p geom.Vec) geom.Vec {
	return geom.Vec{X: float64(float32(p.X)), Y: float64(float32(p.Y)), Z: float64(float32(p.Z))}
}
