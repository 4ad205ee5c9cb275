package cad

import (
	"errors"
	"math"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// mustTessellate tessellates s and checks that the mesh is valid,
// watertight and encloses a positive volume.
func mustTessellate(tb testing.TB, s *Solid, tol float64) *geom.Mesh {
	tb.Helper()
	m, err := Tessellate(s, tol)
	if err != nil {
		tb.Fatalf("Tessellate(%s, %g) = %v", s.Name, tol, err)
	}
	if err := m.Validate(); err != nil {
		tb.Fatalf("Tessellate(%s): invalid mesh: %v", s.Name, err)
	}
	if tp := m.Topology(); !tp.Watertight() || tp.DegenerateFaces > 0 || tp.Components != 1 {
		tb.Errorf("Tessellate(%s): topology %+v, want watertight, one piece, no degenerate face", s.Name, tp)
	}
	return m
}

// TestTessellateFaceted: a faceted solid comes out as exactly the mesh's
// volume, holes included.
func TestTessellateFaceted(t *testing.T) {
	for _, c := range []struct {
		name string
		m    *geom.Mesh
	}{
		{"box", boxMesh(3, 4, 5)},
		{"plate", plateMesh()},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := FromMesh(c.m, c.name)
			if err != nil {
				t.Fatal(err)
			}
			got := mustTessellate(t, s, 0.01).SignedVolume()
			want := c.m.SignedVolume()
			t.Logf("%s: %d faces, volume %.12g, mesh %.12g", c.name, len(s.Faces), got, want)
			if math.Abs(got-want) > 1e-9*want {
				t.Errorf("volume %.12g, want %.12g", got, want)
			}
		})
	}
}

// TestTessellateCurved: the exact solids of shapes_test.go come out within
// the chord error's share of their volume, watertight, facing outwards.
func TestTessellateCurved(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *Solid
		want float64
	}{
		{"cylinder", cylinderSolid(5, 20), math.Pi * 25 * 20},
		{"frustum", frustumSolid(8, 3, 12), math.Pi * 12 / 3 * (64 + 24 + 9)},
		{"dome", domeSolid(10), 2 * math.Pi * 1000 / 3},
		{"cylinder without seam", seamless(cylinderSolid(5, 20)), math.Pi * 25 * 20},
		{"dome without seam", seamless(domeSolid(10)), 2 * math.Pi * 1000 / 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, tol := range []float64{0.01, 0.1} {
				m := mustTessellate(t, c.s, tol)
				got := m.SignedVolume()
				rel := (got - c.want) / c.want
				t.Logf("%s tol %g: %d triangles, volume %.6g, exact %.6g, %+.4f %%", c.name, tol, len(m.Faces), got, c.want, 100*rel)
				// Inscribed: a little less, by about the chord error over
				// the size.
				if !(rel <= 1e-9 && rel > -0.005*tol/0.01) {
					t.Errorf("tol %g: volume %.6g, want %.6g within %.2g %%", tol, got, c.want, 0.5*tol/0.01)
				}
				// Every vertex lies on the solid's surface: no further
				// from the axis (centre) than the radius.
				for _, v := range m.Vertices {
					if c.name == "dome" && r3.Norm(v) > 10+1e-9 {
						t.Fatalf("vertex %v outside the dome", v)
					}
				}
			}
		})
	}
}

// seamless returns s with the seam (its last edge) taken out of its last
// face, each circle bounding that face a loop of its own: as some CAD
// programs write a cylinder, and a spherical cap.
func seamless(s *Solid) *Solid {
	seam := len(s.Edges) - 1
	out := &Solid{Name: s.Name + " without seam", Vertices: s.Vertices, Edges: s.Edges[:seam], Faces: s.Faces[:len(s.Faces)-1]}
	f := s.Faces[len(s.Faces)-1]
	var loops [][]OrientedEdge
	for _, oe := range f.Bounds[0] {
		if oe.Edge != seam {
			loops = append(loops, []OrientedEdge{oe})
		}
	}
	out.Faces = append(out.Faces, Face{Surface: f.Surface, Bounds: loops, SameSense: f.SameSense})
	if len(loops) == 1 { // the dome: its pole is no vertex now
		out.Vertices = s.Vertices[:1]
	}
	return out
}

// TestTessellateErrors: what the tessellator cannot do is an error, not a
// panic.
func TestTessellateErrors(t *testing.T) {
	if _, err := Tessellate(cylinderSolid(5, 20), 0); err == nil {
		t.Error("tolerance 0 accepted")
	}
	if _, err := Tessellate(&Solid{Name: "empty"}, 0.1); err == nil {
		t.Error("empty solid accepted")
	}
	// The frustum's cone face on a sphere instead: bounded by two
	// circles, which a spherical cap is not.
	f := frustumSolid(8, 3, 12)
	f.Faces[2].Surface = &Sphere{Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: 8}
	if _, err := Tessellate(f, 0.1); !errors.Is(err, ErrUnsupportedFace) {
		t.Errorf("sphere between two circles: %v, want ErrUnsupportedFace", err)
	}
	// A cylinder bounded by a circle tilted off its axis.
	c := cylinderSolid(5, 20)
	c.Edges[0].Curve = &Circle{Axis: r3.Unit(r3.Vec{X: 1, Z: 1}), XDir: r3.Unit(r3.Vec{X: 1, Z: -1}), Radius: 5}
	c.Vertices[0] = r3.Scale(5, r3.Unit(r3.Vec{X: 1, Z: -1}))
	if _, err := Tessellate(c, 0.1); !errors.Is(err, ErrUnsupportedFace) {
		t.Errorf("cylinder bounded by a tilted circle: %v, want ErrUnsupportedFace", err)
	}
	// A half cylinder, its curved face bounded by half circles and two
	// rulings, used to be one; the general method makes it now.
	h := cylinderSolid(5, 20)
	h.Vertices = append(h.Vertices, r3.Vec{X: -5}, r3.Vec{X: -5, Z: 20})
	h.Edges = []Edge{
		{V0: 0, V1: 2, Curve: h.Edges[0].Curve}, {V0: 1, V1: 3, Curve: h.Edges[1].Curve},
		{V0: 0, V1: 1}, {V0: 2, V1: 3}, {V0: 2, V1: 0}, {V0: 3, V1: 1},
	}
	z, x := r3.Vec{Z: 1}, r3.Vec{X: 1}
	h.Faces = []Face{
		{Surface: h.Faces[2].Surface, Bounds: [][]OrientedEdge{{{0, true}, {3, true}, {1, false}, {2, false}}}, SameSense: true},
		{Surface: &Plane{Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{0, false}, {4, false}}}},
		{Surface: &Plane{Origin: r3.Vec{Z: 20}, Normal: z, XDir: x}, Bounds: [][]OrientedEdge{{{1, true}, {5, true}}}, SameSense: true},
		{Surface: &Plane{Normal: r3.Vec{Y: -1}, XDir: x}, Bounds: [][]OrientedEdge{{{4, true}, {2, true}, {5, false}, {3, false}}}, SameSense: true},
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("half cylinder: %v", err)
	}
	checkTessellation(t, h, 0.1, math.Pi*25*20/2, 0, false)
}
