package cad

import (
	"errors"
	"math"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// eulerPoincare returns V − E + F − (L − F), which is 2(S − G) for a
// solid of S shells and total genus G whose faces may have holes (Mäntylä,
// "An Introduction to Solid Modeling", Computer Science Press 1988, §3.2):
// 2 for a box, 0 for a plate with one through hole.
func eulerPoincare(s *Solid) int {
	loops := 0
	for _, f := range s.Faces {
		loops += len(f.Bounds)
	}
	return len(s.Vertices) - len(s.Edges) + len(s.Faces) - (loops - len(s.Faces))
}

// checkFaceted checks what every faceted solid must satisfy: it validates,
// every vertex lies on the plane of each face it bounds, and no edge lies
// between two faces on the same plane (those should have merged).
func checkFaceted(t *testing.T, s *Solid) {
	t.Helper()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate() = %v", err)
	}
	faceOf := make([][]int, len(s.Edges))
	for i, f := range s.Faces {
		pl, ok := f.Surface.(*Plane)
		if !ok {
			t.Fatalf("face %d: surface %T, want *Plane", i, f.Surface)
		}
		for _, loop := range f.Bounds {
			for _, oe := range loop {
				faceOf[oe.Edge] = append(faceOf[oe.Edge], i)
				p := s.Vertices[s.start(oe)]
				if d := r3.Dot(r3.Sub(p, pl.Origin), pl.Normal); math.Abs(d) > 1e-12 {
					t.Errorf("face %d: vertex %v is %g off its plane", i, p, d)
				}
			}
		}
	}
	for e, fs := range faceOf {
		a, b := s.Faces[fs[0]].Surface.(*Plane), s.Faces[fs[1]].Surface.(*Plane)
		if r3.Dot(a.Normal, b.Normal) > 1-1e-12 {
			t.Errorf("edge %d lies between faces %d and %d, which are coplanar", e, fs[0], fs[1])
		}
	}
}

func TestFromMeshCube(t *testing.T) {
	s, err := FromMesh(boxMesh(1, 1, 1), "cube")
	if err != nil {
		t.Fatal(err)
	}
	checkFaceted(t, s)
	if got, want := [3]int{len(s.Vertices), len(s.Edges), len(s.Faces)}, [3]int{8, 12, 6}; got != want {
		t.Errorf("vertices, edges, faces = %v, want %v", got, want)
	}
	for i, f := range s.Faces {
		if len(f.Bounds) != 1 || len(f.Bounds[0]) != 4 {
			t.Errorf("face %d has loops %v, want one of 4 edges", i, f.Bounds)
		}
	}
	if got := eulerPoincare(s); got != 2 {
		t.Errorf("V − E + 2F − L = %d, want 2", got)
	}
	if s.Name != "cube" {
		t.Errorf("Name = %q, want %q", s.Name, "cube")
	}
}

func TestFromMeshPlate(t *testing.T) {
	m := plateMesh()
	if topo := m.Topology(); !topo.Watertight() || topo.EulerCharacteristic() != 0 {
		t.Fatalf("plate mesh: %+v, want watertight with Euler characteristic 0", topo)
	}
	s, err := FromMesh(m, "plate")
	if err != nil {
		t.Fatal(err)
	}
	checkFaceted(t, s)
	// 4 sides, top, bottom and the 32 facets of the hole.
	if got, want := len(s.Faces), 38; got != want {
		t.Errorf("%d faces, want %d", got, want)
	}
	if got := eulerPoincare(s); got != 0 {
		t.Errorf("V − E + 2F − L = %d, want 0 (one through hole)", got)
	}
	holed := 0
	for i, f := range s.Faces {
		n := f.Surface.(*Plane).Normal
		horizontal := math.Abs(n.Z) == 1
		if horizontal {
			holed++
			if len(f.Bounds) != 2 || len(f.Bounds[1]) != 32 {
				t.Errorf("face %d (normal %v): %d loops, want 2 with an inner one of 32 edges", i, n, len(f.Bounds))
			}
			// The outer loop is the rectangle, with the 36 vertices where
			// the triangulation met it.
			if len(f.Bounds) > 0 && len(f.Bounds[0]) != 36 {
				t.Errorf("face %d: outer loop of %d edges, want 36", i, len(f.Bounds[0]))
			}
		} else if len(f.Bounds) != 1 {
			t.Errorf("face %d (normal %v): %d loops, want 1", i, n, len(f.Bounds))
		}
	}
	if holed != 2 {
		t.Errorf("%d faces with normal ±z, want 2", holed)
	}
}

func TestFromMeshErrors(t *testing.T) {
	open := boxMesh(1, 2, 3)
	open.Faces = open.Faces[1:]
	flipped := boxMesh(1, 2, 3)
	f := flipped.Faces[4]
	flipped.Faces[4] = [3]int32{f[0], f[2], f[1]}
	badIndex := boxMesh(1, 2, 3)
	badIndex.Faces[0][1] = 99
	for _, tc := range []struct {
		name string
		m    *geom.Mesh
		want error
	}{
		{"nil", nil, ErrEmptyMesh},
		{"empty", &geom.Mesh{}, ErrEmptyMesh},
		{"open", open, ErrNotWatertight},
		{"flipped face", flipped, ErrNotWatertight},
		{"two boxes sharing an edge", twoBoxesOnAnEdge(), ErrNotWatertight},
		{"index out of range", badIndex, nil},
		{"zero-area triangle", sliver(), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := FromMesh(tc.m, "x")
			if err == nil {
				t.Fatalf("FromMesh() = %d faces, want an error", len(s.Faces))
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("FromMesh() = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// twoBoxesOnAnEdge returns two unit cubes that share an edge, which is
// then used by four faces: closed, but not a manifold.
func twoBoxesOnAnEdge() *geom.Mesh {
	a, b := boxMesh(1, 1, 1), boxMesh(1, 1, 1)
	for i := range b.Vertices {
		b.Vertices[i] = r3.Add(b.Vertices[i], r3.Vec{X: 1, Y: 1})
	}
	m := geom.Join(a, b)
	// Weld b's vertices on the shared edge x = y = 1 onto a's.
	for i, f := range m.Faces {
		for k, v := range f {
			p := m.Vertices[v]
			for j := range 8 {
				if m.Vertices[j] == p {
					m.Faces[i][k] = int32(j)
				}
			}
		}
	}
	return m
}

// sliver returns a unit cube with a zero-area triangle in one face: an
// edge split at its midpoint on one side and kept whole on the other,
// closed by the triangle (a, m, b). The mesh is still watertight.
func sliver() *geom.Mesh {
	m := boxMesh(1, 1, 1)
	f := m.Faces[0]
	a, b := f[0], f[1]
	for i, g := range m.Faces {
		for k := range 3 {
			if g[k] == b && g[(k+1)%3] == a {
				d := g[(k+2)%3]
				mid := int32(len(m.Vertices))
				m.Vertices = append(m.Vertices, r3.Scale(0.5, r3.Add(m.Vertices[a], m.Vertices[b])))
				m.Faces[i] = [3]int32{b, mid, d}
				m.Faces = append(m.Faces, [3]int32{mid, a, d}, [3]int32{a, mid, b})
				return m
			}
		}
	}
	panic("no neighbour")
}
