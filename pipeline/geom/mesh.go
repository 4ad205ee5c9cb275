package geom

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// The methods below that read face corners (Area, SignedVolume, FaceNormal)
// expect a mesh that passes Validate: like a slice, they panic on a vertex
// index out of range. Topology and Validate accept any mesh.

// Bounds returns the smallest box that holds every vertex, referenced by a
// face or not; EmptyBox for a mesh without vertices.
func (m *Mesh) Bounds() Box {
	return bounds(m.Vertices)
}

// corners returns the three corners of face i.
func (m *Mesh) corners(i int) (a, b, c Vec) {
	f := m.Faces[i]
	return m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
}

// Area returns the total area of the faces: the sum of |(b−a)×(c−a)|/2.
func (m *Mesh) Area() float64 {
	var sum float64
	for i := range m.Faces {
		a, b, c := m.corners(i)
		sum += r3.Norm(r3.Cross(r3.Sub(b, a), r3.Sub(c, a)))
	}
	return sum / 2
}

// SignedVolume returns the volume enclosed by the mesh by the divergence
// theorem, as the sum over faces of the signed volumes of the tetrahedra
// (o, a, b, c), each (a−o)·((b−o)×(c−o))/6 (Zhang and Chen, "Efficient
// feature extraction for 2D/3D objects in mesh representation", ICIP 2001).
// It is positive for a closed mesh whose faces are ordered
// counter-clockwise seen from outside and negative when every face is
// flipped. The reference point o is the centre of the bounding box, which
// keeps the terms small and the sum accurate far from the origin; for a
// closed mesh the result does not depend on o, for an open mesh it does and
// means little.
func (m *Mesh) SignedVolume() float64 {
	o := m.Bounds().Center()
	var sum float64
	for i := range m.Faces {
		a, b, c := m.corners(i)
		a, b, c = r3.Sub(a, o), r3.Sub(b, o), r3.Sub(c, o)
		sum += r3.Dot(a, r3.Cross(b, c))
	}
	return sum / 6
}

// FaceNormal returns the unit normal of face i by the right-hand rule,
// (b−a)×(c−a) normalised, or the zero vector when the face has zero area
// (or its cross product is not finite).
func (m *Mesh) FaceNormal(i int) Vec {
	a, b, c := m.corners(i)
	n := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
	l := r3.Norm(n)
	if l == 0 || math.IsInf(l, 0) || math.IsNaN(l) {
		return Vec{}
	}
	return r3.Scale(1/l, n)
}

// Validate reports the first face with a vertex index outside
// [0, len(Vertices)) and the first vertex with a NaN or infinite
// coordinate.
func (m *Mesh) Validate() error {
	if len(m.Vertices) > math.MaxInt32 {
		return fmt.Errorf("geom: %d vertices do not fit int32 indices", len(m.Vertices))
	}
	n := int32(len(m.Vertices))
	for i, f := range m.Faces {
		for _, v := range f {
			if v < 0 || v >= n {
				return fmt.Errorf("geom: face %d: vertex index %d out of range [0, %d)", i, v, n)
			}
		}
	}
	for i, p := range m.Vertices {
		if !finite(p) {
			return fmt.Errorf("geom: vertex %d: non-finite coordinate %v", i, p)
		}
	}
	return nil
}

// Join returns the meshes as one, each keeping its vertices and faces (no
// vertex is shared between them).
func Join(ms ...*Mesh) *Mesh {
	out := &Mesh{}
	for _, m := range ms {
		base := int32(len(out.Vertices))
		out.Vertices = append(out.Vertices, m.Vertices...)
		for _, f := range m.Faces {
			out.Faces = append(out.Faces, [3]int32{f[0] + base, f[1] + base, f[2] + base})
		}
	}
	return out
}
