package local

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// cadEnv writes model.json (and model.ply when m is not nil) into a model
// stage folder and returns the cad stage's environment, its folder where
// the runner puts it: JOB/stages/.cad.tmp-1.
func cadEnv(t *testing.T, s ModelSummary, m *geom.Mesh) *pipeline.Env {
	t.Helper()
	model := t.TempDir()
	if m != nil {
		if err := writeMesh(filepath.Join(model, "model.ply"), &mesh.PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeJSON(filepath.Join(model, "model.json"), s); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "bracket", "stages", ".cad.tmp-1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return &pipeline.Env{Dir: dir, Prev: map[string]string{"model": model}, Log: io.Discard, Progress: func(float64) {}}
}

// TestCadStage: the printable model becomes a STEP solid named after the
// job folder, its six sides fitted planes, with the model's volume.
func TestCadStage(t *testing.T) {
	box := grid(4, 5, func(x, y float64) float64 { return 0 }) // a 20 × 20 sheet, closed below
	top := len(box.Vertices)
	for _, v := range box.Vertices[:top] {
		box.Vertices = append(box.Vertices, geom.Vec{X: v.X, Y: v.Y, Z: 7})
	}
	bottom := box.Faces
	box.Faces = nil
	for _, f := range bottom {
		box.Faces = append(box.Faces, [3]int32{f[0], f[2], f[1]}, [3]int32{f[0] + int32(top), f[1] + int32(top), f[2] + int32(top)})
	}
	// The sides, along the grid's border (5 × 5 vertices, counter-clockwise from above).
	var ring []int32
	for i := range 4 {
		ring = append(ring, int32(i))
	}
	for j := range 4 {
		ring = append(ring, int32(j*5+4))
	}
	for i := 4; i > 0; i-- {
		ring = append(ring, int32(20+i))
	}
	for j := 4; j > 0; j-- {
		ring = append(ring, int32(j*5))
	}
	for k, a := range ring {
		b := ring[(k+1)%len(ring)]
		box.Faces = append(box.Faces, [3]int32{a, b, b + int32(top)}, [3]int32{a, b + int32(top), a + int32(top)})
	}
	if !box.Topology().Watertight() || math.Abs(box.SignedVolume()-2800) > 1e-9 {
		t.Fatalf("test box: topology %+v, volume %g", box.Topology(), box.SignedVolume())
	}
	env := cadEnv(t, ModelSummary{Units: UnitsMM, Files: map[string]string{"ply": "model.ply"}}, box)
	if err := cadStage(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	var s CadSummary
	if err := readJSON(filepath.Join(env.Dir, "cad.json"), &s); err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s)
	if s.Skipped != "" || s.Faces != 6 || s.Surfaces["plane"] != 6 || s.Faceted || s.Freeform != 0 || math.Abs(s.Volume-2800) > 1e-6*2800 ||
		s.File != "model.step" || s.Units != UnitsMM || !slices.Equal(s.Features, []string{"6 planes"}) {
		t.Errorf("cad.json %+v, want 6 fitted planes, volume 2800", s)
	}
	f, err := os.Open(filepath.Join(env.Dir, "model.step"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	solid, err := cad.ReadSTEP(f)
	if err != nil {
		t.Fatal(err)
	}
	if solid.Name != "bracket" || len(solid.Faces) != 6 {
		t.Errorf("model.step: %q, %d faces; want bracket, 6", solid.Name, len(solid.Faces))
	}
}

// TestCadStageSkipped: without a printable model, or with one the solid
// cannot be made of, the stage writes cad.json saying why and no STEP.
func TestCadStageSkipped(t *testing.T) {
	open := grid(2, 1, func(x, y float64) float64 { return 0 })
	for _, c := range []struct {
		name  string
		model ModelSummary
		mesh  *geom.Mesh
		why   string
	}{
		{"model failed", ModelSummary{Units: UnitsModel, Failed: "no part stands on the mat"}, nil, "no printable model: no part stands on the mat"},
		{"no ply", ModelSummary{Units: UnitsMM, Files: map[string]string{"stl": "model.stl"}}, nil, "no printable model"},
		{"odd units", ModelSummary{Units: "inch", Files: map[string]string{"ply": "model.ply"}}, open, "unknown units"},
		{"not watertight", ModelSummary{Units: UnitsMM, Files: map[string]string{"ply": "model.ply"}}, open, "not watertight"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := cadEnv(t, c.model, c.mesh)
			if err := cadStage(context.Background(), env); err != nil {
				t.Fatal(err)
			}
			var s CadSummary
			if err := readJSON(filepath.Join(env.Dir, "cad.json"), &s); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(s.Skipped, c.why) || s.File != "" || s.Faces != 0 {
				t.Errorf("cad.json %+v, want skipped: %s", s, c.why)
			}
			if _, err := os.Stat(filepath.Join(env.Dir, "model.step")); err == nil {
				t.Error("model.step written")
			}
		})
	}
}

func TestCadStageJobName(t *testing.T) {
	for dir, want := range map[string]string{
		filepath.Join("out", "bracket", "stages", ".cad.tmp-3"): "bracket",
		filepath.Join("tmp", "x"):                               "part",
		filepath.Join("stages", ".cad.tmp-3"):                   "part",
	} {
		if got := jobName(dir); got != want {
			t.Errorf("jobName(%q) = %q, want %q", dir, got, want)
		}
	}
}
