package cad

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
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
		{"slanted", slantedSolid},
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
			if want := wantFeatures[tc.name]; !slices.Equal(rep.Features, want) {
				t.Errorf("features %q, want %q", rep.Features, want)
			}
			if err := s.Validate(); err != nil {
				t.Fatal(err)
			}
			// Where the part's faces meet in an ellipse, so do ours.
			for _, e := range truth.Edges {
				if _, ok := e.Curve.(*Ellipse); ok && !slices.ContainsFunc(s.Edges, func(e Edge) bool { _, ok := e.Curve.(*Ellipse); return ok }) {
					t.Error("the part's faces meet in an ellipse, the solid's do not")
				}
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
				t.Fatalf("read back %d faces, %d edges, %d vertices; wrote %d, %d, %d",
					len(back.Faces), len(back.Edges), len(back.Vertices), len(s.Faces), len(s.Edges), len(s.Vertices))
			}
			sameSolid(t, s, back)
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

// wantFeatures are the features the test parts must be listed with.
var wantFeatures = map[string][]string{
	"bracket": {"2 holes Ø8.0 mm", "6 planes"},
	"flange":  {"1 hole Ø18.0 mm", "2 holes Ø6.0 mm", "1 cylinder Ø60.0 mm", "1 cylinder Ø32.0 mm", "3 planes"},
	"slanted": {"1 cylinder Ø20.0 mm", "2 planes"},
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

// bumpyBall is a closed mesh of a crumpled ball, radius 20 to 23 at random
// from vertex to vertex (about 1.6 mm apart), which no plane, cylinder,
// cone or sphere follows: an icosahedron subdivided four times, pushed
// out along its directions.
func bumpyBall() *geom.Mesh {
	t := (1 + math.Sqrt(5)) / 2
	m := &geom.Mesh{Vertices: []r3.Vec{
		{X: -1, Y: t}, {X: 1, Y: t}, {X: -1, Y: -t}, {X: 1, Y: -t},
		{Y: -1, Z: t}, {Y: 1, Z: t}, {Y: -1, Z: -t}, {Y: 1, Z: -t},
		{X: t, Z: -1}, {X: t, Z: 1}, {X: -t, Z: -1}, {X: -t, Z: 1},
	}, Faces: [][3]int32{
		{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11},
		{1, 5, 9}, {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
		{3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8}, {3, 8, 9},
		{4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1},
	}}
	for range 4 {
		mid := map[[2]int32]int32{}
		at := func(a, b int32) int32 {
			k := [2]int32{min(a, b), max(a, b)}
			if i, ok := mid[k]; ok {
				return i
			}
			m.Vertices = append(m.Vertices, r3.Scale(0.5, r3.Add(m.Vertices[a], m.Vertices[b])))
			mid[k] = int32(len(m.Vertices) - 1)
			return mid[k]
		}
		var faces [][3]int32
		for _, f := range m.Faces {
			a, b, c := at(f[0], f[1]), at(f[1], f[2]), at(f[2], f[0])
			faces = append(faces, [3]int32{f[0], a, c}, [3]int32{a, f[1], b}, [3]int32{c, b, f[2]}, [3]int32{a, b, c})
		}
		m.Faces = faces
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i, v := range m.Vertices {
		u := r3.Unit(v)
		r := 20 + 3*rng.Float64()
		m.Vertices[i] = r3.Scale(r, u)
	}
	return m
}

// TestAssembleBadInput: a part with nothing to fit becomes the faceted
// solid, and the report says so; an open mesh, an empty one and a
// cancelled context are errors, not solids.
func TestAssembleBadInput(t *testing.T) {
	ball := bumpyBall()
	if tp := ball.Topology(); !tp.Watertight() {
		t.Fatalf("test ball: %+v", tp)
	}
	s, rep, err := Assemble(context.Background(), ball, "blob", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("blob: %d faces, faceted %v: %s; fit %+v", len(s.Faces), rep.Faceted, rep.Note, rep.Fit)
	if !rep.Faceted || !strings.Contains(rep.Note, "no plane, cylinder, cone or sphere recognised") || len(rep.Features) != 0 || s.Validate() != nil {
		t.Errorf("blob: faceted %v, note %q, features %q, validate %v; want the faceted solid, said so", rep.Faceted, rep.Note, rep.Features, s.Validate())
	}
	if v := ball.SignedVolume(); math.Abs(rep.Volume-v) > 1e-9*v {
		t.Errorf("blob: volume %g, mesh %g", rep.Volume, v)
	}

	open := &geom.Mesh{Vertices: ball.Vertices, Faces: ball.Faces[1:]}
	if _, _, err := Assemble(context.Background(), open, "open", nil); !errors.Is(err, ErrNotWatertight) {
		t.Errorf("open mesh: %v, want ErrNotWatertight", err)
	}
	if _, _, err := Assemble(context.Background(), &geom.Mesh{}, "empty", nil); !errors.Is(err, ErrEmptyMesh) {
		t.Errorf("empty mesh: %v, want ErrEmptyMesh", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	truth, _ := bracketSolid()
	if _, _, err := Assemble(ctx, truthMesh(t, truth, 3), "cancelled", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
}

// sameSolid checks that b is a, as WriteSTEP and ReadSTEP should keep it:
// the same faces, in order, on the same surfaces with the same senses and
// loops, the same edges on the same curves between the same vertices, to
// the digits the writer prints (17 significant).
func sameSolid(t *testing.T, a, b *Solid) {
	t.Helper()
	near := func(p, q r3.Vec) bool { return r3.Norm(r3.Sub(p, q)) <= 1e-12*(1+r3.Norm(p)) }
	for i := range a.Vertices {
		if !near(a.Vertices[i], b.Vertices[i]) {
			t.Errorf("vertex %d: %v read back as %v", i, a.Vertices[i], b.Vertices[i])
			return
		}
	}
	for i, e := range a.Edges {
		f := b.Edges[i]
		if e.V0 != f.V0 || e.V1 != f.V1 || (e.Curve == nil) != (f.Curve == nil) {
			t.Errorf("edge %d: %+v read back as %+v", i, e, f)
			return
		}
		if c, ok := conicOf(e.Curve); ok {
			d, ok := conicOf(f.Curve)
			if !ok || !near(c.Centre, d.Centre) || !near(c.Axis, d.Axis) || !near(c.X, d.X) || math.Abs(c.A-d.A) > 1e-12*c.A || math.Abs(c.B-d.B) > 1e-12*c.B {
				t.Errorf("edge %d: %T %+v read back as %T %+v", i, e.Curve, e.Curve, f.Curve, f.Curve)
				return
			}
		}
	}
	for i, f := range a.Faces {
		g := b.Faces[i]
		if f.SameSense != g.SameSense || f.Freeform != g.Freeform || surfaceType(f.Surface) != surfaceType(g.Surface) || len(f.Bounds) != len(g.Bounds) {
			t.Errorf("face %d: %s sense %v freeform %v, %d loops read back as %s %v %v %d", i, surfaceType(f.Surface), f.SameSense, f.Freeform, len(f.Bounds),
				surfaceType(g.Surface), g.SameSense, g.Freeform, len(g.Bounds))
			return
		}
		if d, ok := surfaceDiff(f.Surface, g.Surface); !ok || d > 1e-9 {
			t.Errorf("face %d: surface moved by %g reading back", i, d)
		}
		for j := range f.Bounds {
			if !slices.Equal(f.Bounds[j], g.Bounds[j]) {
				t.Errorf("face %d loop %d: %v read back as %v", i, j, f.Bounds[j], g.Bounds[j])
				return
			}
		}
	}
}

// TestAssembleWholeSphere: a ball fitted as one sphere has no boundary;
// Assemble opens one with a few facets, and the solid is valid with the
// ball's volume.
func TestAssembleWholeSphere(t *testing.T) {
	m := bumpyBall()
	for i, v := range m.Vertices {
		m.Vertices[i] = r3.Scale(20/r3.Norm(v), v)
	}
	s, rep, err := Assemble(context.Background(), m, "ball", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d faces (%v, %d facets), features %q, volume %.1f (mesh %.1f): %s", len(s.Faces), rep.Surfaces, rep.Freeform, rep.Features, rep.Volume, m.SignedVolume(), rep.Note)
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if rep.Faceted || rep.Surfaces["sphere"] != 1 {
		t.Errorf("surfaces %v, faceted %v (%s); want the sphere", rep.Surfaces, rep.Faceted, rep.Note)
	}
	if v := m.SignedVolume(); math.Abs(rep.Volume-v) > 0.02*v {
		t.Errorf("volume %.1f, mesh %.1f", rep.Volume, v)
	}
}
