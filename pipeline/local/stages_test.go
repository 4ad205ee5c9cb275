package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/eval"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/synth"
)

func TestPairList(t *testing.T) {
	names := []string{"a", "b", "c", "d", "e", "f"}
	pairs, err := pairList(names, names, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pairs {
		got = append(got, p[0]+p[1])
	}
	// Neighbours up to 2 apart, and the last one with the first one.
	want := "ab ac af bc bd cd ce de df ef"
	if strings.Join(got, " ") != want {
		t.Errorf("pairs %q, want %q", strings.Join(got, " "), want)
	}
}

// colmapCapture finds colmap (skipping the test without it) and renders
// views photos of the bracket in one ring at 640×480 into a folder.
func colmapCapture(t *testing.T, views int) (bin *colmap.Binary, dir string, photos []string) {
	t.Helper()
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	bin, err := colmap.Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir, photos = synthCapture(t, views, 640, 480)
	return bin, dir, photos
}

// cancelAt cancels a run at the first progress of stage name: the
// command is then running.
type cancelAt struct {
	name   string
	cancel context.CancelFunc
}

func (c *cancelAt) Stage(string, int, int) {}
func (c *cancelAt) Update(name string, _ float64, _ time.Duration) {
	if name == c.name {
		c.cancel()
	}
}
func (c *cancelAt) Done(string, bool, time.Duration) {}

// TestStagesWithColmap reconstructs a small synthetic capture with the
// real colmap: every photo registered, a sub-pixel reprojection error, a
// second run from the cache, and a run killed in the mapper that resumes.
// Twelve photos, 30° apart: with ten (36°) the mapper once (in about fifty
// runs) registered one photo of the symmetric bracket far from its place.
func TestStagesWithColmap(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COLMAP on 10 photos (about a minute); skipped in -short mode")
	}
	bin, in, photos := colmapCapture(t, 12)
	before := map[string]time.Time{}
	for _, p := range photos {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = fi.ModTime()
	}
	out := t.TempDir()
	opts := Options{Preset: Preset{MaxSide: 640, Features: 2048}, NoDense: raceEnabled}

	// First run, killed in the mapper.
	ctx, cancel := context.WithCancel(context.Background())
	_, err := (&pipeline.Runner{Dir: out, Progress: &cancelAt{name: "mapping", cancel: cancel}}).Run(ctx, Stages(bin, photos, opts))
	var se *pipeline.StageError
	if !errors.As(err, &se) || se.Stage != "mapping" || !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run = %v, want mapping cancelled", err)
	}
	// Resumed: the stages before mapping come from the cache.
	start := time.Now()
	res, err := (&pipeline.Runner{Dir: out}).Run(context.Background(), Stages(bin, photos, opts))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("resumed in %v: %+v", time.Since(start), res)
	for _, r := range res[:3] {
		if !r.Cached {
			t.Errorf("stage %s ran again after the kill", r.Name)
		}
	}
	var s Summary
	mb, err := os.ReadFile(filepath.Join(out, "stages", "mapping", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(mb, &s)
	if s.Registered != len(photos) || s.Total != len(photos) || s.MeanReprojError <= 0 || s.MeanReprojError > 1 || s.Points < 500 {
		t.Errorf("model %+v: want all %d photos registered, error under 1 px, hundreds of points", s, len(photos))
	}
	// The camera centres match the truth up to a similarity.
	m, err := colmap.ReadModel(filepath.Join(out, "stages", "mapping", "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	var truth synth.Truth
	tb, err := os.ReadFile(filepath.Join(in, "groundtruth.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(tb, &truth)
	want := map[string]r3.Vec{}
	for _, v := range truth.Views {
		want[v.Image] = r3.Vec{X: v.Center[0], Y: v.Center[1], Z: v.Center[2]}
	}
	var est, tru []r3.Vec
	for _, im := range m.Images {
		est = append(est, im.Center())
		tru = append(tru, want[im.Name])
	}
	sim, e, err := eval.Residuals(est, tru)
	if err != nil {
		t.Fatal(err)
	}
	dist := r3.Norm(r3.Sub(tru[0], r3.Vec{X: truth.Target[0], Y: truth.Target[1], Z: truth.Target[2]}))
	t.Logf("camera centres: RMS %.2f mm, worst %.2f mm (%.2f%% of the %.0f mm distance)", e.RMS, e.Max, 100*e.Max/dist, dist)
	if e.Max > 0.01*dist {
		t.Errorf("worst camera centre error %.2f mm, over 1%% of the %.0f mm distance", e.Max, dist)
		for i, im := range m.Images {
			t.Logf("%s: %d points seen, %.2f mm off", im.Name, im.Observed, r3.Norm(r3.Sub(sim.Apply(est[i]), tru[i])))
		}
	}
	// The CPU dense stage: pipeline/mvs's points, and the mesh made of them.
	if raceEnabled {
		t.Log("dense stage skipped under the race detector; make test runs this test again without it")
	} else {
		checkDense(t, out, len(photos), s.Points)
	}
	f, err := os.Open(filepath.Join(out, "stages", "mapping", "sparse.ply"))
	if err != nil {
		t.Fatal(err)
	}
	ply, err := mesh.ReadPLY(f)
	f.Close()
	if err != nil || len(ply.Cloud.Points) != s.Points {
		t.Errorf("sparse.ply: %v, %d points, want %d", err, len(ply.Cloud.Points), s.Points)
	}
	// Unchanged: all cached, and the same model.
	res, err = (&pipeline.Runner{Dir: out}).Run(context.Background(), Stages(bin, photos, opts))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if !r.Cached {
			t.Errorf("stage %s ran again with nothing changed", r.Name)
		}
	}
	// The photos were only read.
	for _, p := range photos {
		if fi, err := os.Stat(p); err != nil || !fi.ModTime().Equal(before[p]) {
			t.Errorf("%s touched: %v", p, err)
		}
	}
}

// TestLeftOutPhotoJoins: with a window of two, a photo out of capture
// order is paired only with photos of other scenes; the mapping matches
// the left-out photos with every photo, registers the one that belongs by
// continuing the model and reports the others as left out.
func TestLeftOutPhotoJoins(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COLMAP on 15 photos (about a minute); skipped in -short mode")
	}
	bin, _, photos := colmapCapture(t, 12)
	var strangers []string
	for _, seed := range []uint64{97, 98, 99} {
		b, _ := assets.Part("flanged-cylinder")
		spec, _ := synth.ParseSpec(bytes.NewReader(b))
		o := synth.DefaultOptions()
		o.Views, o.Rings, o.Width, o.Height, o.MeshCell, o.Seed, o.Markers = 3, 1, 640, 480, 4, seed, false
		dir := t.TempDir()
		if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
			t.Fatal(err)
		}
		strangers = append(strangers, filepath.Join(dir, "view_001.jpg"))
	}
	// 1…6, 8…12, two strangers, 7, a stranger.
	photos = append(slices.Delete(photos, 6, 7), strangers[0], strangers[1], photos[6], strangers[2])
	out := t.TempDir()
	opts := Options{Preset: Preset{MaxSide: 640, Features: 2048}, Window: 2, NoDense: true}
	if _, err := (&pipeline.Runner{Dir: out}).Run(context.Background(), Stages(bin, photos, opts)); err != nil {
		t.Fatal(err)
	}
	var s Summary
	mb, err := os.ReadFile(filepath.Join(out, "stages", "mapping", "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(mb, &s)
	log, _ := os.ReadFile(filepath.Join(out, "stages", "mapping.log"))
	if s.BroaderPairs == 0 || !strings.Contains(string(log), "4 of 15 photos left out: matching") || !strings.Contains(string(log), "--input_path") {
		t.Errorf("model %+v: want broader matching after 4 photos were left out, and the model continued; log:\n%s", s, log)
	}
	if s.Registered != 12 || s.Total != 15 || len(s.LeftOut) != 3 {
		t.Errorf("model %+v: want the 12 photos of the part registered and the 3 strangers left out", s)
	}
	t.Logf("model %+v", s)
}

func TestFirstOctave(t *testing.T) {
	big := []Prepared{{Width: 2400, Height: 1800}, {Width: 1800, Height: 2400}}
	small := append(big, Prepared{Width: 1200, Height: 900})
	for _, tc := range []struct {
		gpu  bool
		prep []Prepared
		want int
	}{
		{false, big, 0},
		{false, small, -1},
		{true, big, -1},
	} {
		if got := firstOctave(tc.gpu, tc.prep); got != tc.want {
			t.Errorf("firstOctave(gpu %v, %v) = %d, want %d", tc.gpu, tc.prep, got, tc.want)
		}
	}
}

// checkDense checks the CPU dense stage of a job in out: pipeline/mvs's
// points for every photo, many more than the sparse model's, and the mesh
// made of them.
func checkDense(t *testing.T, out string, photos, sparse int) {
	t.Helper()
	var d DenseSummary
	if err := readJSON(filepath.Join(out, "stages", "dense", "dense.json"), &d); err != nil {
		t.Fatal(err)
	}
	var ms MeshSummary
	if err := readJSON(filepath.Join(out, "stages", "mesh", "mesh.json"), &ms); err != nil {
		t.Fatal(err)
	}
	t.Logf("dense: %+v; mesh: %+v", d, ms)
	if d.Backend != DenseMVS || d.Views != photos || d.Points < 10*sparse || ms.Source != "dense" || ms.Faces == 0 {
		t.Errorf("dense %+v, mesh %+v: want replica-mvs depth for every photo, many more points than the sparse model's %d, and a mesh of them", d, ms, sparse)
	}
	if _, err := os.Stat(filepath.Join(out, "stages", "dense", "workspace")); err == nil {
		t.Error("the undistorted workspace was kept")
	}
}
