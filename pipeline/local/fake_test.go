package local

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
)

const fakeEnv = "REPLICA_LOCAL_FAKE_COLMAP"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeColmap(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeColmap plays a COLMAP 3.8 whose commands exit 0 and write what mode
// says: "no-model" (the mapper writes no model), "empty-mesh" (the mesher
// writes a mesh with no vertex) or "no-mesh" (the mesher writes nothing).
func fakeColmap(mode string, args []string) int {
	if len(args) == 0 || args[0] == "help" {
		fmt.Println("COLMAP 3.8 -- Structure-from-Motion and Multi-View Stereo\n              (Commit Unknown on Unknown without CUDA)")
		return 0
	}
	if len(args) > 1 && args[1] == "-h" {
		for _, o := range []string{"SiftExtraction.use_gpu", "SiftExtraction.max_num_features", "SiftExtraction.max_image_size", "SiftExtraction.first_octave", "SiftMatching.use_gpu"} {
			fmt.Printf("  --%s arg\n", o)
		}
		return 0
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	db := fs.String("database_path", "", "")
	output := fs.String("output_path", "", "")
	// Every other option takes a value.
	var rest []string
	for i := 1; i+1 < len(args); i += 2 {
		switch args[i] {
		case "--database_path", "--output_path":
			rest = append(rest, args[i], args[i+1])
		}
	}
	fs.Parse(rest)
	switch args[0] {
	case "feature_extractor":
		os.WriteFile(*db, []byte("not really a database"), 0o644)
	case "mapper":
		fmt.Println("Loading database")
	case "poisson_mesher":
		if mode == "empty-mesh" {
			os.WriteFile(*output, []byte("ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nproperty float y\nproperty float z\nelement face 0\nproperty list uchar int vertex_indices\nend_header\n"), 0o644)
		}
	}
	return 0
}

// fakeBinary returns this test binary as colmap in mode.
func fakeBinary(t *testing.T, mode string) *colmap.Binary {
	t.Helper()
	t.Setenv(fakeEnv, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := colmap.Probe(context.Background(), exe)
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestMapperWritesNoModel: a mapper that exits 0 without a model fails
// the mapping stage with a hint, after trying the broader matching (of
// the one pair a window of 1 leaves).
func TestMapperWritesNoModel(t *testing.T) {
	photos := synthPhotos(t, 3)
	bin := fakeBinary(t, "no-model")
	out := t.TempDir()
	_, err := (&pipeline.Runner{Dir: out}).Run(context.Background(), Stages(bin, photos, Options{Preset: Presets["draft"], Window: 1}))
	se, ok := errors.AsType[*pipeline.StageError](err)
	if !ok || se.Stage != "mapping" || !strings.Contains(err.Error(), "registered 0 of 3 photos") || !strings.Contains(se.Hint, "do not overlap enough") {
		t.Fatalf("run = %v (%+v), want the mapping to fail with a hint", err, se)
	}
	log, _ := os.ReadFile(filepath.Join(out, "stages", "mapping.log"))
	if !strings.Contains(string(log), "3 of 3 photos left out: matching") {
		t.Errorf("no broader matching; log:\n%s", log)
	}
}

// TestMesherOutput: a mesher that exits 0 with an empty mesh, or none,
// fails the mesh stage.
func TestMesherOutput(t *testing.T) {
	// Dense points: a sphere with outward normals.
	var c geom.PointCloud
	for i := range 2000 {
		z := 1 - 2*(float64(i)+0.5)/2000
		r, a := math.Sqrt(1-z*z), float64(i)*math.Pi*(3-math.Sqrt(5))
		p := geom.Vec{X: r * math.Cos(a), Y: r * math.Sin(a), Z: z}
		c.Points, c.Normals = append(c.Points, p), append(c.Normals, p)
	}
	dense := t.TempDir()
	if err := writeCloud(filepath.Join(dense, "dense.ply"), &c, "test"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ mode, want, hint string }{
		{"empty-mesh", "empty mesh from 2000 points", "Too little of the part"},
		{"no-mesh", "poisson_mesher's output", ""},
	} {
		env := &pipeline.Env{Dir: t.TempDir(), Prev: map[string]string{"dense": dense}, Log: io.Discard, Progress: func(float64) {}}
		err := meshStage(context.Background(), env, fakeBinary(t, tc.mode), true)
		h, _ := errors.AsType[pipeline.Hinted](err)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.hint != "" && (h == nil || !strings.Contains(h.ActionHint(), tc.hint))) {
			t.Errorf("%s: %v, want %q with hint %q", tc.mode, err, tc.want, tc.hint)
		}
	}
}
