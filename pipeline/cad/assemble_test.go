package cad

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// TestAssembleTruth: from a mesh of a built-in part's true surface, about
// 1 mm across, with 0.1 mm of Gaussian noise on every vertex, Assemble
// makes one valid solid whose faces are the part's: every face of the
// part comes back on a surface of the right type, planes within 0.05 mm
// of their offsets, holes within 0.05 mm of their diameters, the volume
// within 1 % — and OpenCascade and FreeCAD import it as one valid solid of
// that many faces and that volume.
func TestAssembleTruth(t *testing.T) {
	for _, tc := range []struct {
		name  string
		solid func() (*Solid, float64)
	}{
		{"bracket", bracketSolid},
		{"flange", flangeSolid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			truth, vol := tc.solid()
			if err := truth.Validate(); err != nil {
				t.Fatal(err)
			}
			m := truthMesh(t, truth, 1.5)
			if tp := m.Topology(); !tp.Watertight() {
				t.Fatalf("truth mesh not watertight: %+v", tp)
			}
			if v := m.SignedVolume(); math.Abs(v-vol)/vol > 0.002 {
				t.Fatalf("truth mesh volume %.2f, want %.2f", v, vol)
			}
			addNoise(m, 0.1, 1)
			s, rep, err := Assemble(context.Background(), m, tc.name, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d triangles: %d faces (%d fitted %v, %d facets), features %q, %d demoted, tolerance %.2g mm, %.2f s; %s",
				len(m.Faces), rep.Faces, rep.Fitted, rep.Surfaces, rep.Freeform, rep.Features, rep.Demoted, rep.Tolerance, rep.Seconds, rep.Note)
			if rep.Faceted {
				t.Fatalf("faceted: %s", rep.Note)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			// Every face of the part comes back on a surface of its type.
			for i, want := range truth.Faces {
				best, how := -1, math.Inf(1)
				for j, got := range s.Faces {
					if d, ok := surfaceDiff(want.Surface, got.Surface); ok && d < how {
						best, how = j, d
					}
				}
				if best < 0 {
					t.Errorf("face %d (%s) not recovered", i, surfaceType(want.Surface))
					continue
				}
				t.Logf("face %d %s: off by %.4f mm", i, surfaceType(want.Surface), how)
				if how > 0.05 {
					t.Errorf("face %d (%s): off by %.3f mm, want ≤ 0.05", i, surfaceType(want.Surface), how)
				}
			}
			tm, err := Tessellate(s, 0.01)
			if err != nil {
				t.Fatal(err)
			}
			got := tm.SignedVolume()
			t.Logf("volume %.2f mm³, truth %.2f (%+.3f %%)", got, vol, 100*(got-vol)/vol)
			if math.Abs(got-vol)/vol > 0.01 {
				t.Errorf("volume %.2f, want %.2f ± 1 %%", got, vol)
			}

			// Round trip and the CAD kernels.
			var buf bytes.Buffer
			unc := max(DefaultUncertainty, rep.Tolerance)
			if err := WriteSTEPWith(&buf, s, &WriteOptions{Uncertainty: unc}); err != nil {
				t.Fatal(err)
			}
			back, err := ReadSTEP(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Faces) != len(s.Faces) || len(back.Edges) != len(s.Edges) || len(back.Vertices) != len(s.Vertices) {
				t.Errorf("read back %d faces, %d edges, %d vertices; wrote %d, %d, %d",
					len(back.Faces), len(back.Edges), len(back.Vertices), len(s.Faces), len(s.Edges), len(s.Vertices))
			}
			path := filepath.Join(t.TempDir(), tc.name+".step")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Run("opencascade", func(t *testing.T) {
				v := occtCheck(t, path)
				t.Logf("OpenCascade: %d solid, %d faces, valid %v, tolerance %g, volume %.2f", v.solids, v.faces, v.valid, v.tolerance, v.volume)
				if v.solids != 1 || v.faces != len(s.Faces) || !v.valid {
					t.Errorf("OpenCascade: %d solids, %d faces, valid %v; want 1, %d, true\n%s", v.solids, v.faces, v.valid, len(s.Faces), v.output)
				}
				if math.Abs(v.volume-got)/got > 1e-3 {
					t.Errorf("OpenCascade's volume %.3f, ours %.3f", v.volume, got)
				}
			})
			t.Run("freecad", func(t *testing.T) {
				v := freecadCheck(t, path)
				t.Logf("FreeCAD: %d solid, %d faces %v, valid %v, closed %v, volume %.2f", v.solids, v.faces, v.surfaces, v.valid, v.closed, v.volume)
				if v.solids != 1 || v.faces != len(s.Faces) || !v.valid || !v.closed {
					t.Errorf("FreeCAD: %d solids, %d faces, valid %v, closed %v; want 1, %d, true, true\n%s", v.solids, v.faces, v.valid, v.closed, len(s.Faces), v.output)
				}
				for k, n := range rep.Surfaces {
					if v.surfaces[k] < n {
						t.Errorf("FreeCAD finds %d %s faces, we wrote %d", v.surfaces[k], k, n)
					}
				}
				if math.Abs(v.volume-got)/got > 1e-3 {
					t.Errorf("FreeCAD's volume %.3f, ours %.3f", v.volume, got)
				}
			})
		})
	}
}

// surfaceDiff reports whether got is a surface of want's type close to it
// (normals or axes within 2°), and how far apart they are in mm: a plane's
// offset, a cylinder's or sphere's radius and axis, a cone's apex.
func surfaceDiff(want, got Surface) (float64, bool) {
	const cos2 = 0.99939 // cos 2°
	switch w := want.(type) {
	case *Plane:
		g, ok := got.(*Plane)
		if !ok || r3.Dot(w.Normal, g.Normal) < cos2 {
			return 0, false
		}
		return math.Abs(r3.Dot(r3.Sub(g.Origin, w.Origin), w.Normal)), true
	case *Cylinder:
		g, ok := got.(*Cylinder)
		if !ok || math.Abs(r3.Dot(w.Axis, g.Axis)) < cos2 {
			return 0, false
		}
		d := r3.Sub(g.Origin, w.Origin)
		off := r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, w.Axis), w.Axis)))
		if off > 1 {
			return 0, false
		}
		return max(2*math.Abs(g.Radius-w.Radius), off), true
	case *Sphere:
		g, ok := got.(*Sphere)
		if !ok {
			return 0, false
		}
		return max(math.Abs(g.Radius-w.Radius), r3.Norm(r3.Sub(g.Centre, w.Centre))), true
	case *Cone:
		g, ok := got.(*Cone)
		if !ok || math.Abs(r3.Dot(w.Axis, g.Axis)) < cos2 {
			return 0, false
		}
		sw, sg := shapeOf(w), shapeOf(g)
		return r3.Norm(r3.Sub(sw.c, sg.c)), true
	}
	return 0, false
}
