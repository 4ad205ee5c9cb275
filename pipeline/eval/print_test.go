package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// gridBox returns the box [lo, hi] with each side cut into n[a] equal
// steps along axis a and each cell split into two triangles,
// counter-clockwise seen from outside, sharing the vertices along the
// edges: watertight, Euler characteristic 2. Faces for which skip (if not
// nil) reports true, given their quad's centre, are left out.
func gridBox(lo, hi r3.Vec, n [3]int, skip func(c r3.Vec) bool) *geom.Mesh {
	m := &geom.Mesh{}
	l, h := [3]float64{lo.X, lo.Y, lo.Z}, [3]float64{hi.X, hi.Y, hi.Z}
	at := func(c [3]int) r3.Vec {
		var p [3]float64
		for a := range 3 {
			p[a] = l[a] + (h[a]-l[a])*float64(c[a])/float64(n[a])
		}
		return r3.Vec{X: p[0], Y: p[1], Z: p[2]}
	}
	index := map[[3]int]int32{}
	vert := func(c [3]int) int32 {
		i, ok := index[c]
		if !ok {
			i = int32(len(m.Vertices))
			m.Vertices = append(m.Vertices, at(c))
			index[c] = i
		}
		return i
	}
	for a := range 3 {
		u, v := (a+1)%3, (a+2)%3 // u × v = +a
		for _, side := range [2]int{0, n[a]} {
			for i := range n[u] {
				for j := range n[v] {
					var q [4][3]int // (i, j), (i+1, j), (i+1, j+1), (i, j+1)
					for k, d := range [4][2]int{{0, 0}, {1, 0}, {1, 1}, {0, 1}} {
						q[k][a], q[k][u], q[k][v] = side, i+d[0], j+d[1]
					}
					if skip != nil && skip(r3.Scale(0.5, r3.Add(at(q[0]), at(q[2])))) {
						continue
					}
					c := [4]int32{vert(q[0]), vert(q[1]), vert(q[2]), vert(q[3])}
					if side == 0 { // seen from −a: reverse
						c[1], c[3] = c[3], c[1]
					}
					m.Faces = append(m.Faces, [3]int32{c[0], c[1], c[2]}, [3]int32{c[0], c[2], c[3]})
				}
			}
		}
	}
	return m
}

// partBox is the test part: 80 × 40 × 12 mm standing on the sheet (z = 0),
// centred on the origin, in 2 mm cells: 4640 faces.
func partBox(skip func(r3.Vec) bool) *geom.Mesh {
	return gridBox(r3.Vec{X: -40, Y: -20}, r3.Vec{X: 40, Y: 20, Z: 12}, [3]int{40, 20, 6}, skip)
}

// moved returns a copy of m with f applied to every vertex.
func moved(m *geom.Mesh, f func(r3.Vec) r3.Vec) *geom.Mesh {
	out := &geom.Mesh{Vertices: make([]r3.Vec, len(m.Vertices)), Faces: m.Faces}
	for i, v := range m.Vertices {
		out.Vertices[i] = f(v)
	}
	return out
}

// printTestSamples keeps the tests quick: a standard error of at most
// 0.0035 on a share.
const printTestSamples = 20000

func TestGridBox(t *testing.T) {
	m := partBox(nil)
	topo := m.Topology()
	if len(m.Faces) != 4640 || !topo.Watertight() || topo.EulerCharacteristic() != 2 {
		t.Errorf("partBox: %d faces, %+v, χ = %d; want 4640 watertight, χ = 2", len(m.Faces), topo, topo.EulerCharacteristic())
	}
	if v := m.SignedVolume(); math.Abs(v-80*40*12) > 1e-6 {
		t.Errorf("partBox volume = %g, want %d", v, 80*40*12)
	}
	if a := m.Area(); math.Abs(a-2*(80*40+80*12+40*12)) > 1e-6 {
		t.Errorf("partBox area = %g, want %d", a, 2*(80*40+80*12+40*12))
	}
}

func TestMeasurePrint(t *testing.T) {
	truth := partBox(nil)
	const tol = PrintTol
	near := func(got, want, eps float64) bool { return math.Abs(got-want) <= eps }
	for _, tc := range []struct {
		name  string
		model *geom.Mesh
		check func(t *testing.T, r *PrintResult)
	}{
		{"identical", truth, func(t *testing.T, r *PrintResult) {
			if !r.Pass || !r.SizeOK || !r.VolumeOK || !r.SurfaceOK || !r.Watertight {
				t.Errorf("not all pass: %+v", r)
			}
			for i := range 3 {
				if r.SizeErrorPct[i] != 0 || r.Offset[i] > 1e-9 || r.Offset[i] < -1e-9 {
					t.Errorf("size error %v, offset %v, want 0", r.SizeErrorPct, r.Offset)
				}
			}
			if r.VolumeErrorPct != 0 || r.SurfaceWithin != 1 || r.SurfaceP95 > 1e-9 || r.ModelToTruthP95 > 1e-9 || r.AlignedSurfaceWithin != 1 {
				t.Errorf("volume error %g%%, surface within %g, p95 %g, reverse p95 %g, aligned %g; want 0, 1, 0, 0, 1",
					r.VolumeErrorPct, r.SurfaceWithin, r.SurfaceP95, r.ModelToTruthP95, r.AlignedSurfaceWithin)
			}
			if r.OffsetBy != "centroid" || r.TrueSize != [3]float64{80, 40, 12} || r.Size != r.TrueSize || !near(r.TrueVolume, 38400, 1e-6) {
				t.Errorf("offset by %q, sizes %v %v, true volume %g", r.OffsetBy, r.TrueSize, r.Size, r.TrueVolume)
			}
		}},
		{"scaled 1.01", moved(truth, func(v r3.Vec) r3.Vec { return r3.Scale(1.01, v) }), func(t *testing.T, r *PrintResult) {
			for i := range 3 {
				if !near(r.SizeErrorPct[i], 1, 1e-9) {
					t.Errorf("size error %v, want +1%% each", r.SizeErrorPct)
				}
			}
			// 1.01³ = 1.030301.
			if !near(r.VolumeErrorPct, 3.0301, 1e-9) || r.SizeOK || r.VolumeOK || r.Pass {
				t.Errorf("volume error %g%%, size ok %v, volume ok %v, pass %v; want +3.0301%%, all false", r.VolumeErrorPct, r.SizeOK, r.VolumeOK, r.Pass)
			}
			// The centroid (0, 0, 6) moves up by 0.06.
			if !near(r.Offset[2], 0.06, 1e-9) || !near(r.Offset[0], 0, 1e-9) {
				t.Errorf("offset %v, want (0, 0, 0.06)", r.Offset)
			}
		}},
		{"shifted 0.3 mm in x", moved(truth, func(v r3.Vec) r3.Vec { return r3.Add(v, r3.Vec{X: 0.3}) }), func(t *testing.T, r *PrintResult) {
			if !near(r.Offset[0], 0.3, 1e-9) || !near(r.Offset[1], 0, 1e-9) || !near(r.Offset[2], 0, 1e-9) {
				t.Errorf("offset %v, want (0.3, 0, 0)", r.Offset)
			}
			// Every point lies within 0.3 mm, those on the ends x = ±40 (a
			// 1/9.7 of the area) at 0.3 mm exactly.
			if r.SurfaceWithin != 1 || !near(r.SurfaceP95, 0.3, 1e-9) || !near(r.SurfaceMedian, 0, 1e-9) || !r.Pass {
				t.Errorf("surface within %g, median %g, p95 %g, pass %v; want 1, 0, 0.3, true", r.SurfaceWithin, r.SurfaceMedian, r.SurfaceP95, r.Pass)
			}
			if r.AlignedSurfaceWithin != 1 || r.AlignedSurfaceP95 > 1e-9 {
				t.Errorf("aligned within %g, p95 %g, want 1, 0", r.AlignedSurfaceWithin, r.AlignedSurfaceP95)
			}
		}},
		{"hole 40 × 20 mm in the top", partBox(func(c r3.Vec) bool { return c.Z == 12 && math.Abs(c.X) < 20 && math.Abs(c.Y) < 10 }), func(t *testing.T, r *PrintResult) {
			// 39 × 19 mm of the hole lies farther than 0.5 mm from its
			// rim: 741 of 9280 mm², 8.0 %.
			if r.Watertight || r.SurfaceOK || r.Pass || !near(r.SurfaceWithin, 1-741.0/9280, 0.01) {
				t.Errorf("watertight %v, surface within %g (ok %v), pass %v; want false, %.3f, false, false",
					r.Watertight, r.SurfaceWithin, r.SurfaceOK, r.Pass, 1-741.0/9280)
			}
			if r.OffsetBy != "box" || r.Offset != [3]float64{} || !r.SizeOK || r.ModelToTruthP95 > 1e-9 {
				t.Errorf("offset %v by %q, size ok %v, model→truth p95 %g; want 0 by box, true, 0", r.Offset, r.OffsetBy, r.SizeOK, r.ModelToTruthP95)
			}
		}},
		{"extra blob", geom.Join(truth, gridBox(r3.Vec{X: 45, Y: -5}, r3.Vec{X: 55, Y: 5, Z: 10}, [3]int{5, 5, 5}, nil)), func(t *testing.T, r *PrintResult) {
			// 600 of 9880 mm² lie 5 mm and more from the part: 6.1 % of
			// the model, so its 95th percentile is out there.
			if r.SurfaceWithin != 1 || r.ModelToTruthP95 < 5 || r.SizeOK || !r.Watertight {
				t.Errorf("surface within %g, model→truth p95 %g, size ok %v, watertight %v; want 1, ≥ 5, false, true",
					r.SurfaceWithin, r.ModelToTruthP95, r.SizeOK, r.Watertight)
			}
			if !near(r.Volume, 38400+1000, 1e-6) || !r.VolumeOK {
				t.Errorf("volume %g (ok %v), want 39400 (+2.6%%, ok)", r.Volume, r.VolumeOK)
			}
		}},
		{"inside out", flipped(truth), func(t *testing.T, r *PrintResult) {
			if !near(r.Volume, -38400, 1e-6) || r.VolumeOK || r.Pass || r.OffsetBy != "box" || r.SurfaceWithin != 1 {
				t.Errorf("volume %g (ok %v), pass %v, offset by %q, surface within %g; want -38400, false, false, box, 1",
					r.Volume, r.VolumeOK, r.Pass, r.OffsetBy, r.SurfaceWithin)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := MeasurePrint(tc.model, truth, tol, printTestSamples)
			if err != nil {
				t.Fatalf("MeasurePrint() = %v", err)
			}
			if r.Faces != len(tc.model.Faces) || r.Tolerance != tol || r.Samples != printTestSamples {
				t.Errorf("faces %d, tolerance %g, samples %d; want %d, %g, %d", r.Faces, r.Tolerance, r.Samples, len(tc.model.Faces), tol, printTestSamples)
			}
			tc.check(t, r)
			if _, err := json.Marshal(r); err != nil {
				t.Errorf("json.Marshal() = %v", err)
			}
		})
	}
}

func TestMeasurePrintErrors(t *testing.T) {
	truth := partBox(nil)
	nan := partBox(nil)
	nan.Vertices[3].Y = math.NaN()
	flat := &geom.Mesh{Vertices: []r3.Vec{{}, {X: 1}, {X: 2}}, Faces: [][3]int32{{0, 1, 2}}}
	huge := moved(truth, func(v r3.Vec) r3.Vec { return r3.Scale(1e300, v) })
	for _, tc := range []struct {
		name         string
		model, truth *geom.Mesh
		tol          float64
		samples      int
	}{
		{"nil model", nil, truth, 0.5, 100},
		{"empty model", &geom.Mesh{}, truth, 0.5, 100},
		{"empty truth", truth, &geom.Mesh{}, 0.5, 100},
		{"NaN model", nan, truth, 0.5, 100},
		{"NaN truth", truth, nan, 0.5, 100},
		{"index out of range", &geom.Mesh{Vertices: []r3.Vec{{}}, Faces: [][3]int32{{0, 1, 2}}}, truth, 0.5, 100},
		{"model of no area", flat, truth, 0.5, 100},
		{"truth inside out", truth, flipped(truth), 0.5, 100},
		{"overflow", huge, truth, 0.5, 100},
		{"tol 0", truth, truth, 0, 100},
		{"tol NaN", truth, truth, math.NaN(), 100},
		{"tol Inf", truth, truth, math.Inf(1), 100},
		{"no samples", truth, truth, 0.5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r, err := MeasurePrint(tc.model, tc.truth, tc.tol, tc.samples); err == nil {
				t.Errorf("MeasurePrint() = %+v, want an error", r)
			}
		})
	}
}

// writeMesh writes m to dir/name in the format its extension names.
func writeMesh(tb testing.TB, dir, name string, m *geom.Mesh) string {
	tb.Helper()
	var buf bytes.Buffer
	var err error
	switch strings.ToLower(filepath.Ext(name)) {
	case ".stl":
		err = mesh.WriteSTL(&buf, m, "replica test")
	case ".3mf":
		err = mesh.Write3MF(&buf, m, "part")
	case ".ply":
		err = mesh.WritePLY(&buf, &mesh.PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}, mesh.BinaryLittleEndian)
	}
	if err != nil {
		tb.Fatalf("writing %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestEvaluatePrintFiles(t *testing.T) {
	dir := t.TempDir()
	truth := partBox(nil)
	truthSTL := writeMesh(t, dir, "groundtruth.stl", truth)
	shifted := moved(truth, func(v r3.Vec) r3.Vec { return r3.Add(v, r3.Vec{X: 0.25}) })
	for _, name := range []string{"model.stl", "model.3mf", "model.PLY"} {
		t.Run(name, func(t *testing.T) {
			path := writeMesh(t, dir, name, shifted) // the extension in any case
			r, err := EvaluatePrint(path, truthSTL, PrintTol, printTestSamples)
			if err != nil {
				t.Fatalf("EvaluatePrint() = %v", err)
			}
			if r.Model != path || !r.Pass || math.Abs(r.Offset[0]-0.25) > 1e-6 || r.Faces != 4640 {
				t.Errorf("EvaluatePrint() = %+v, want a pass of 4640 faces, offset 0.25 mm in x", r)
			}
		})
	}

	nanSTL := filepath.Join(dir, "nan.stl")
	if err := os.WriteFile(nanSTL, []byte("solid x\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\nvertex nan 1 0\nendloop\nendfacet\nendsolid x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	emptySTL := writeMesh(t, dir, "empty.stl", &geom.Mesh{})
	other := filepath.Join(dir, "model.obj")
	if err := os.WriteFile(other, []byte("v 0 0 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, model, truth, want string }{
		{"missing model", filepath.Join(dir, "none.stl"), truthSTL, "none.stl"},
		{"missing truth", filepath.Join(dir, "model.stl"), filepath.Join(dir, "none.stl"), "none.stl"},
		{"NaN model", nanSTL, truthSTL, "nan.stl"},
		{"NaN truth", filepath.Join(dir, "model.stl"), nanSTL, "nan.stl"},
		{"empty model", emptySTL, truthSTL, "no faces"},
		{"empty truth", filepath.Join(dir, "model.stl"), emptySTL, "no faces"},
		{"unknown format", other, truthSTL, "unknown format"},
		{"truth is not STL", filepath.Join(dir, "model.stl"), filepath.Join(dir, "model.3mf"), "true surface model.3mf"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := EvaluatePrint(tc.model, tc.truth, PrintTol, 100)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("EvaluatePrint() = %+v, %v; want an error saying %q", r, err, tc.want)
			}
		})
	}
}

// TestEvaluateModel checks what Evaluate adds for OUT/model.stl: nothing
// without one, the print section of Print and the "print" key of the JSON
// with one.
func TestEvaluateModel(t *testing.T) {
	out, truthDir := t.TempDir(), t.TempDir()
	truth := partBox(nil)
	truthSTL := writeMesh(t, truthDir, "groundtruth.stl", truth)

	r, err := evaluateModel(out, truthSTL)
	if r != nil || err != nil {
		t.Fatalf("evaluateModel(no model) = %+v, %v; want nil, nil", r, err)
	}
	res := &Result{Format: "replica-eval/1"}
	var js, text bytes.Buffer
	if err := json.NewEncoder(&js).Encode(res); err != nil || strings.Contains(js.String(), `"print"`) {
		t.Errorf("JSON without a model = %s, %v; want no print key", js.String(), err)
	}
	res.Print(&text)
	if strings.Contains(text.String(), "Printable") {
		t.Errorf("Print without a model = %q", text.String())
	}

	writeMesh(t, out, ModelFile, moved(truth, func(v r3.Vec) r3.Vec { return r3.Scale(1.01, v) }))
	if err := os.WriteFile(filepath.Join(out, "report.json"), []byte(`{"format":"replica-report/1","units":"model"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if res.Printable, err = evaluateModel(out, truthSTL); err != nil || res.Printable == nil {
		t.Fatalf("evaluateModel() = %+v, %v", res.Printable, err)
	}
	if res.Printable.Units != "model" || res.Printable.Pass {
		t.Errorf("units %q, pass %v; want model, false", res.Printable.Units, res.Printable.Pass)
	}
	js.Reset()
	if err := json.NewEncoder(&js).Encode(res); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Print *PrintResult `json:"print"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Print == nil || back.Print.SizeErrorPct != res.Printable.SizeErrorPct {
		t.Errorf("JSON print key = %+v, %v; want %+v", back.Print, err, res.Printable)
	}
	text.Reset()
	res.Print(&text)
	for _, want := range []string{
		"Printable model model.stl: 4640 faces, watertight",
		"size x +1.00%, y +1.00%, z +1.00% (each within ±0.5%): FAIL",
		"+3.03% of the true 38400 mm³ (within ±3%): FAIL",
		"100.0% of the true surface within 0.50 mm of the model (≥ 95%): ok",
		`report.json says units "model"`,
		"placement: centroid off by (",
		"+0.060) mm; moved back by that, 100.0% within 0.50 mm",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("Print() = %q, want it to hold %q", text.String(), want)
		}
	}
	t.Logf("%s", text.String())

	// A model that cannot be read is an error, not a missing section.
	if err := os.WriteFile(filepath.Join(out, ModelFile), []byte("not an STL"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := evaluateModel(out, truthSTL); err == nil {
		t.Errorf("evaluateModel(bad model) = %+v, want an error", r)
	}
}

// BenchmarkEvaluatePrint measures a 1.3-million-face model (a sphere of
// radius 50 mm, vertex radii jittered by ±0.2 %: 2·1140·570 faces), read
// from binary STL, against a 100 000-face truth (benchSurface's sphere)
// with PrintSamples samples a surface, as `replica eval` does.
func BenchmarkEvaluatePrint(b *testing.B) {
	dir := b.TempDir()
	model := uvSphere(50, 1140, 571, 0.002, rand.New(rand.NewPCG(30, 31)))
	truth := uvSphere(50, 250, 201, 0.02, rand.New(rand.NewPCG(16, 17)))
	modelSTL := writeMesh(b, dir, "model.stl", model)
	truthSTL := writeMesh(b, dir, "groundtruth.stl", truth)
	b.Run("files", func(b *testing.B) {
		var r *PrintResult
		for b.Loop() {
			var err error
			if r, err = EvaluatePrint(modelSTL, truthSTL, PrintTol, PrintSamples); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(r.Faces), "faces")
		b.ReportMetric(r.SurfaceWithin, "within")
	})
	b.Run("measure", func(b *testing.B) {
		for b.Loop() {
			if _, err := MeasurePrint(model, truth, PrintTol, PrintSamples); err != nil {
				b.Fatal(err)
			}
		}
	})
}
