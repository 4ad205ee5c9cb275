package local

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/holes"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/mvs"
	"github.com/replica3d/replica/pipeline/scale"
)

// grid returns an n×n grid of squares of side s centred on (0, 0) at
// height h(x, y), facing +z.
func grid(n int, s float64, h func(x, y float64) float64) *geom.Mesh {
	m := &geom.Mesh{}
	for j := range n + 1 {
		for i := range n + 1 {
			x, y := -float64(n)*s/2+float64(i)*s, -float64(n)*s/2+float64(j)*s
			m.Vertices = append(m.Vertices, geom.Vec{X: x, Y: y, Z: h(x, y)})
		}
	}
	at := func(i, j int) int32 { return int32(j*(n+1) + i) }
	for j := range n {
		for i := range n {
			m.Faces = append(m.Faces, [3]int32{at(i, j), at(i+1, j), at(i+1, j+1)}, [3]int32{at(i, j), at(i+1, j+1), at(i, j+1)})
		}
	}
	return m
}

// modelEnv writes a scene mesh (in mm, the sheet's frame) into a mesh
// stage folder in the reconstruction's frame, model = (sheet − t)/s, and a
// scale stage folder whose transform undoes it, and returns the model
// stage's environment.
func modelEnv(t *testing.T, scene *geom.Mesh, found bool) *pipeline.Env {
	t.Helper()
	const s = 40.0
	tr := r3.Vec{X: 5, Y: -3, Z: 1}
	msh, sc := t.TempDir(), t.TempDir()
	p := &mesh.PLY{Faces: scene.Faces}
	for _, v := range scene.Vertices {
		p.Cloud.Points = append(p.Cloud.Points, r3.Scale(1/s, r3.Sub(v, tr)))
	}
	if err := writeMesh(filepath.Join(msh, "mesh.ply"), p); err != nil {
		t.Fatal(err)
	}
	sum := ScaleSummary{Result: scale.Result{Found: found, Reason: "test"}}
	if found {
		sum.MMPerUnit = s
		sum.Transform = &scale.Similarity{Scale: s, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, T: [3]float64{tr.X, tr.Y, tr.Z}}
	}
	if err := writeJSON(filepath.Join(sc, "scale.json"), sum); err != nil {
		t.Fatal(err)
	}
	return &pipeline.Env{Dir: t.TempDir(), Prev: map[string]string{"mesh": msh, "scale": sc, "mapping": t.TempDir()}, Log: io.Discard, Progress: func(float64) {}}
}

// TestModelStage: a mat with a 60 × 30 × 10 mm block rising from it,
// as Poisson meshes a part on a mat (one sheet draped over it), becomes
// the block alone, watertight, on z = 0, written as STL, 3MF and PLY.
func TestModelStage(t *testing.T) {
	box := func(x, y float64) float64 {
		if math.Abs(x) <= 30 && math.Abs(y) <= 15 {
			return 10
		}
		return 0.1 * math.Sin(x/3) // the mat, a little uneven
	}
	scene := grid(200, 1, box)
	env := modelEnv(t, scene, true)
	// These scenes have no photos, so the check for capped holes is off;
	// pipeline/holes tests it on renders, and make demo end to end.
	if err := modelStage(context.Background(), env, nil, ModelOptions{NoHoles: true}, 0); err != nil {
		t.Fatal(err)
	}
	var s ModelSummary
	if err := readJSON(filepath.Join(env.Dir, "model.json"), &s); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v %+v", s, *s.Isolate)
	if s.Failed != "" || s.Units != UnitsMM || s.ScaleSource != "markers" || s.Ground != "sheet" || !s.Watertight || s.Isolate.BaseLoops != 1 {
		t.Fatalf("summary %+v", s)
	}
	// The grid's walls slope over one cell (1 mm), from 10 mm down to the
	// mat: the cut at 1 mm, about 0.9 mm out (the mat is uneven), is carried down, so the part is
	// 61.8 × 31.8 at its foot, 60 × 30 at the top.
	if math.Abs(s.Size[0]-61.8) > 0.05 || math.Abs(s.Size[1]-31.8) > 0.05 || math.Abs(s.Size[2]-10) > 1e-5 {
		t.Errorf("size %v, want 61.8 × 31.8 × 10", s.Size)
	}
	// Flattened by default: the top is found as the plane z = 10 and
	// nothing was set aside. (The walls kink where the cut was carried
	// down: some are taken for curved and left alone.)
	if f := s.Isolate.Flatten; f == nil || len(f.Planes) == 0 || s.FlattenUndone != "" {
		t.Errorf("flatten %+v, undone %q; want the top found", f, s.FlattenUndone)
	} else if top := f.Planes[0]; math.Abs(top.Normal[2]-1) > 1e-9 || math.Abs(top.Offset-10) > 1e-6 {
		t.Errorf("first plane %+v, want the top, z = 10", top)
	}
	for _, f := range []string{"model.stl", "model.3mf", "model.ply"} {
		if s.Files[f[len("model."):]] != f {
			t.Errorf("files %v: no %s", s.Files, f)
		}
	}
	stl, err := os.Open(filepath.Join(env.Dir, "model.stl"))
	if err != nil {
		t.Fatal(err)
	}
	defer stl.Close()
	m, err := mesh.ReadSTL(stl)
	if err != nil {
		t.Fatal(err)
	}
	m3, err := mesh.Read3MFFile(filepath.Join(env.Dir, "model.3mf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Faces) != s.Triangles || len(m3.Faces) != s.Triangles || math.Abs(m3.SignedVolume()-s.Volume) > 1e-6*s.Volume {
		t.Errorf("STL %d faces, 3MF %d faces and volume %g; summary %d, %g", len(m.Faces), len(m3.Faces), m3.SignedVolume(), s.Triangles, s.Volume)
	}
	if b := m.Bounds(); math.Abs(b.Min.Z) > 1e-6 {
		t.Errorf("the part stands at z = %g", b.Min.Z)
	}

	// Not flattened when asked not to.
	env = modelEnv(t, scene, true)
	if err := modelStage(context.Background(), env, nil, ModelOptions{NoFlatten: true, NoHoles: true}, 0); err != nil {
		t.Fatal(err)
	}
	var nf ModelSummary
	if err := readJSON(filepath.Join(env.Dir, "model.json"), &nf); err != nil {
		t.Fatal(err)
	}
	if nf.Isolate.Flatten != nil || !nf.Watertight {
		t.Errorf("NoFlatten: flatten %+v, watertight %v", nf.Isolate.Flatten, nf.Watertight)
	}

	// Decimated and scaled to a known length.
	env = modelEnv(t, scene, true)
	if err := modelStage(context.Background(), env, nil, ModelOptions{KnownLength: 122, MaxTriangles: 500, NoHoles: true}, 0); err != nil {
		t.Fatal(err)
	}
	if err := readJSON(filepath.Join(env.Dir, "model.json"), &s); err != nil {
		t.Fatal(err)
	}
	if s.ScaleSource != "known_length" || math.Abs(s.Size[0]-122) > 1e-6 || s.MarkersMMPerUnit != 40 || math.Abs(s.MMPerUnit-40*122/61.8) > 0.01 ||
		s.Decimate == nil || s.Triangles > 500 || !s.Watertight {
		t.Errorf("--known-length 122 --max-triangles 500: %+v", s)
	}
}

// TestModelStageNoPart: a mesh with nothing standing on the mat, or no
// faces above it, gives no model and says why, without failing the job.
func TestModelStageNoPart(t *testing.T) {
	for _, c := range []struct {
		name  string
		scene *geom.Mesh
	}{
		{"flat mat", grid(50, 2, func(x, y float64) float64 { return 0.1 * math.Sin(x) })},
		{"degenerate", &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}, {X: 2}}, Faces: [][3]int32{{0, 1, 2}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := modelEnv(t, c.scene, true)
			if err := modelStage(context.Background(), env, nil, ModelOptions{NoHoles: true}, 0); err != nil {
				t.Fatal(err)
			}
			var s ModelSummary
			if err := readJSON(filepath.Join(env.Dir, "model.json"), &s); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.Failed, "no part stands on the mat") || len(s.Files) != 0 || s.Skipped["stl"] == "" {
				t.Errorf("summary %+v", s)
			}
			if _, err := os.Stat(filepath.Join(env.Dir, "model.stl")); err == nil {
				t.Error("model.stl written")
			}
		})
	}
}

// TestInFrame: a camera moved into a similarity's frame sees each moved
// point at the pixel it saw the point at.
func TestInFrame(t *testing.T) {
	c, s := math.Cos(0.7), math.Sin(0.7)
	v := &mvs.View{K: [4]float64{800, 800, 400, 300}, R: [9]float64{c, 0, -s, 0, 1, 0, s, 0, c}, T: [3]float64{0.2, -0.1, 3}}
	f := &scale.Similarity{Scale: 40, R: [9]float64{0, -1, 0, 1, 0, 0, 0, 0, 1}, T: [3]float64{5, -3, 1}}
	pixel := func(v *mvs.View, x r3.Vec) (float64, float64) {
		r := &v.R
		cx := r[0]*x.X + r[1]*x.Y + r[2]*x.Z + v.T[0]
		cy := r[3]*x.X + r[4]*x.Y + r[5]*x.Z + v.T[1]
		cz := r[6]*x.X + r[7]*x.Y + r[8]*x.Z + v.T[2]
		return v.K[0]*cx/cz + v.K[2], v.K[1]*cy/cz + v.K[3]
	}
	moved := *v
	inFrame(&moved, f)
	for _, x := range []r3.Vec{{}, {X: 0.3, Y: -0.2, Z: 0.5}, {X: -1, Y: 0.4, Z: -0.3}} {
		u0, w0 := pixel(v, x)
		u1, w1 := pixel(&moved, f.Apply(x))
		if math.Abs(u0-u1) > 1e-9 || math.Abs(w0-w1) > 1e-9 {
			t.Errorf("point %v: pixel (%.6f, %.6f) before, (%.6f, %.6f) in the frame", x, u0, w0, u1, w1)
		}
	}
}

func TestHolesDescribe(t *testing.T) {
	found := &holes.Report{Holes: []holes.Hole{{Diameter: 7.84, Through: true}, {Diameter: 5.02, Depth: 6.21}}}
	for _, tc := range []struct {
		name string
		h    *HolesSummary
		want string
	}{
		{"not run", nil, ""},
		{"none found", &HolesSummary{Report: &holes.Report{}}, ""},
		{"both cut", &HolesSummary{Report: found, Cut: &holes.CutReport{Cut: 2}}, "2 holes (Ø7.8 through, Ø5.0 6.2 deep)"},
		{"one of two", &HolesSummary{Report: found, Cut: &holes.CutReport{Cut: 1}}, "1 of the 2 holes found"},
		{"set aside", &HolesSummary{Report: found, Cut: &holes.CutReport{Cut: 2}, Undone: "unsound"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.h.Describe(); got != tc.want {
				t.Errorf("Describe() = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestWallGaps: the warning says how the gaps near the mat were closed.
func TestWallGaps(t *testing.T) {
	for _, tc := range []struct {
		open, carried int
		want          string
	}{
		{0, 0, ""},
		{1, 1, "in 1 place: they were carried straight down"},
		{3, 0, "in 3 places: the gaps were closed by hole filling"},
		{3, 2, "in 3 places: in 2 places they were carried straight down to it, which is right for upright walls, and in 1 place closed by hole filling"},
	} {
		got := wallGaps(&mesh.IsolateReport{OpenOutline: tc.open, Carried: tc.carried})
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%d gaps, %d carried: %q, want %q in it", tc.open, tc.carried, got, tc.want)
		}
	}
}
