package geom

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// Generated shapes for the invariant tests. Each is closed and its faces are
// ordered counter-clockwise seen from outside.

// cube returns the axis-aligned cube [0,s]³ as 8 vertices and 12 triangles.
func cube(s float64) *Mesh {
	m := &Mesh{}
	for i := range 8 {
		m.Vertices = append(m.Vertices, Vec{X: s * float64(i&1), Y: s * float64(i>>1&1), Z: s * float64(i>>2&1)})
	}
	// Vertex i has x = bit 0, y = bit 1, z = bit 2. Each quad is listed
	// counter-clockwise seen from outside and split along its first diagonal.
	quads := [6][4]int32{
		{0, 2, 3, 1}, // z = 0, normal −z
		{4, 5, 7, 6}, // z = s, normal +z
		{0, 1, 5, 4}, // y = 0, normal −y
		{2, 6, 7, 3}, // y = s, normal +y
		{0, 4, 6, 2}, // x = 0, normal −x
		{1, 3, 7, 5}, // x = s, normal +x
	}
	for _, q := range quads {
		m.Faces = append(m.Faces, [3]int32{q[0], q[1], q[2]}, [3]int32{q[0], q[2], q[3]})
	}
	return m
}

// icosphere returns the regular icosahedron with circumradius r, each face
// split into four level times with the new vertices pushed onto the sphere.
func icosphere(r float64, level int) *Mesh {
	t := (1 + math.Sqrt(5)) / 2 // golden ratio: the icosahedron's vertices are the cyclic permutations of (0, ±1, ±t)
	m := &Mesh{Vertices: []Vec{
		{X: -1, Y: t}, {X: 1, Y: t}, {X: -1, Y: -t}, {X: 1, Y: -t},
		{Y: -1, Z: t}, {Y: 1, Z: t}, {Y: -1, Z: -t}, {Y: 1, Z: -t},
		{X: t, Z: -1}, {X: t, Z: 1}, {X: -t, Z: -1}, {X: -t, Z: 1},
	}}
	m.Faces = [][3]int32{
		{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11},
		{1, 5, 9}, {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
		{3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8}, {3, 8, 9},
		{4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1},
	}
	for i, p := range m.Vertices {
		m.Vertices[i] = r3.Scale(r, r3.Unit(p))
	}
	for range level {
		mid := make(map[[2]int32]int32)
		midpoint := func(a, b int32) int32 {
			k := [2]int32{min(a, b), max(a, b)}
			if i, ok := mid[k]; ok {
				return i
			}
			p := r3.Scale(r, r3.Unit(r3.Add(m.Vertices[a], m.Vertices[b])))
			m.Vertices = append(m.Vertices, p)
			mid[k] = int32(len(m.Vertices) - 1)
			return mid[k]
		}
		faces := make([][3]int32, 0, 4*len(m.Faces))
		for _, f := range m.Faces {
			ab, bc, ca := midpoint(f[0], f[1]), midpoint(f[1], f[2]), midpoint(f[2], f[0])
			faces = append(faces, [3]int32{f[0], ab, ca}, [3]int32{f[1], bc, ab}, [3]int32{f[2], ca, bc}, [3]int32{ab, bc, ca})
		}
		m.Faces = faces
	}
	return m
}

// cylinder returns the prism over the regular n-gon inscribed in the circle
// of radius r, from z = 0 to z = h, with a centre vertex on each cap.
func cylinder(r, h float64, n int) *Mesh {
	m := &Mesh{}
	for i := range n {
		a := 2 * math.Pi * float64(i) / float64(n)
		x, y := r*math.Cos(a), r*math.Sin(a)
		m.Vertices = append(m.Vertices, Vec{X: x, Y: y}, Vec{X: x, Y: y, Z: h})
	}
	bottom, top := int32(2*n), int32(2*n+1)
	m.Vertices = append(m.Vertices, Vec{}, Vec{Z: h})
	for i := range int32(n) {
		j := (i + 1) % int32(n)
		b0, t0, b1, t1 := 2*i, 2*i+1, 2*j, 2*j+1
		m.Faces = append(m.Faces,
			[3]int32{b0, b1, t1}, [3]int32{b0, t1, t0}, // side
			[3]int32{bottom, b1, b0}, // bottom cap, seen from below
			[3]int32{top, t0, t1},    // top cap, seen from above
		)
	}
	return m
}

// flipped returns a copy of m with every face's orientation reversed.
func flipped(m *Mesh) *Mesh {
	f := &Mesh{Vertices: m.Vertices, Faces: make([][3]int32, len(m.Faces))}
	for i, t := range m.Faces {
		f.Faces[i] = [3]int32{t[0], t[2], t[1]}
	}
	return f
}

// merge returns a mesh holding both a and b.
func merge(a, b *Mesh) *Mesh {
	m := &Mesh{Vertices: append(append([]Vec(nil), a.Vertices...), b.Vertices...)}
	m.Faces = append(m.Faces, a.Faces...)
	off := int32(len(a.Vertices))
	for _, f := range b.Faces {
		m.Faces = append(m.Faces, [3]int32{f[0] + off, f[1] + off, f[2] + off})
	}
	return m
}
