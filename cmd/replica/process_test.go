package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replica3d/replica/pipeline/local"
	"github.com/replica3d/replica/pipeline/mesh"
)

func TestProcessUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"process"},
		{"process", dir},
		{"process", dir, "--out", t.TempDir(), "--quality", "ultra"},
		{"process", dir, "--out", t.TempDir(), "--backend", "moon"},
		{"process", dir, "--out", dir},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); exitCode(err) != 2 {
			t.Errorf("%q: %v (exit %d), want a usage error (exit 2)", args, err, exitCode(err))
		}
	}
	// Too few photos: a clear message, exit 1.
	os.WriteFile(filepath.Join(dir, "a.jpg"), []byte("x"), 0o644)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"process", dir, "--out", t.TempDir()}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "at least 3") {
		t.Errorf("one photo: %v (exit %d)", err, exitCode(err))
	}
}

// synthInto renders a small capture of part into dir, its photos renamed
// with prefix.
func synthInto(t *testing.T, dir, part, seed, prefix string, views int) {
	t.Helper()
	tmp := filepath.Join(t.TempDir(), "cap")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", part, "--views", strconv.Itoa(views), "--rings", "1", "--seed", seed, "--markers=false",
		"--width", "640", "--height", "480", "--mesh-cell", "4", "--quiet", "--out", tmp}, &out, &errb); err != nil {
		t.Fatalf("synth: %v", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= views; i++ {
		name := fmt.Sprintf("view_%03d.jpg", i)
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, prefix+name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProcessTwoObjects: photos of two unrelated objects in one folder
// are refused with the groups named, after the broader matching found no
// link between them.
func TestProcessTwoObjects(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COLMAP on 24 photos (about two minutes); skipped in -short mode")
	}
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	dir := filepath.Join(t.TempDir(), "photos")
	synthInto(t, dir, "bracket", "3", "a_", 12)
	synthInto(t, dir, "flanged-cylinder", "11", "b_", 12)
	res := filepath.Join(t.TempDir(), "out")
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"process", dir, "--out", res, "--quality", "draft", "--quiet"}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "groups that share no view") || !strings.Contains(err.Error(), "own folder") ||
		!strings.Contains(err.Error(), "a_view_001.jpg") || !strings.Contains(err.Error(), "b_view_001.jpg") {
		t.Fatalf("two objects: %v (exit %d), want the two groups named", err, exitCode(err))
	}
	t.Logf("message: %v", err)
	if _, err := os.Stat(filepath.Join(res, "report.json")); err == nil {
		t.Error("a report was written for a failed job")
	}
	log, _ := os.ReadFile(filepath.Join(res, "stages", "mapping.log"))
	if !strings.Contains(string(log), "more pairs and mapping again") {
		t.Errorf("no broader matching before giving up; mapping.log:\n%s", log)
	}
}

// TestProcessUnwritableOutput: an output folder that cannot be written
// gives a clear message, exit 1.
func TestProcessUnwritableOutput(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cap")
	synthInto(t, dir, "bracket", "1", "", 3)
	// A file in the way is unwritable for anyone, root included.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"process", dir, "--out", filepath.Join(file, "out"), "--quiet"}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "choose a folder you can write to") {
		t.Errorf("output under a file: %v (exit %d)", err, exitCode(err))
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		defer os.Chmod(ro, 0o755)
		err = run(context.Background(), []string{"process", dir, "--out", filepath.Join(ro, "out"), "--quiet"}, &out, &errb)
		if exitCode(err) != 1 || !strings.Contains(err.Error(), "choose a folder you can write to") {
			t.Errorf("read-only folder: %v (exit %d)", err, exitCode(err))
		}
	}
}

// TestProcessDiskFull runs a job into a 1 MiB file system: it stops with
// the disk named as the cause, the photos untouched.
func TestProcessDiskFull(t *testing.T) {
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs (mount); skipping")
	}
	small := t.TempDir()
	if b, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (mount: %v: %s); skipping", err, b)
	}
	t.Cleanup(func() { exec.Command("umount", small).Run() })
	dir := filepath.Join(t.TempDir(), "cap")
	synthInto(t, dir, "bracket", "1", "", 10)
	before := map[string][]byte{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		before[e.Name()] = b
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"process", dir, "--out", filepath.Join(small, "out"), "--quiet"}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "disk") || !strings.Contains(err.Error(), "is full: free some space") {
		t.Errorf("disk full: %v (exit %d), want the full disk named", err, exitCode(err))
	}
	t.Logf("message: %v", err)
	for name, b := range before {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, b) {
			t.Errorf("photo %s changed: %v", name, err)
		}
	}
}

func TestProcessWithoutColmap(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cap")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", "bracket", "--views", "3", "--rings", "1",
		"--width", "320", "--height", "240", "--mesh-cell", "4", "--quiet", "--out", dir}, &out, &errb); err != nil {
		t.Fatalf("synth: %v", err)
	}
	t.Setenv("REPLICA_COLMAP", "/nonexistent/colmap")
	err := run(context.Background(), []string{"process", dir, "--out", t.TempDir(), "--quiet"}, &out, &errb)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "install COLMAP") {
		t.Errorf("without colmap: %v (exit %d), want an install hint", err, exitCode(err))
	}
}

// TestProcessCommand reconstructs 10 synthetic photos with the real colmap
// and reads the report.
func TestProcessCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COLMAP on 10 photos (about 30 s); skipped in -short mode")
	}
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	dir := filepath.Join(t.TempDir(), "cap")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", "bracket", "--views", "10", "--rings", "1",
		"--width", "640", "--height", "480", "--mesh-cell", "4", "--quiet", "--out", dir}, &out, &errb); err != nil {
		t.Fatalf("synth: %v", err)
	}
	res := filepath.Join(t.TempDir(), "out")
	out.Reset()
	args := []string{"process", dir, "--out", res, "--quality", "draft"}
	if raceEnabled {
		t.Log("dense stage skipped under the race detector; make test runs this test again without it")
		args = append(args, "--dense=false")
	}
	if err := run(context.Background(), args, &out, &errb); err != nil {
		// The mesh of a thousand sparse points may not reach the mat:
		// then there is no printable model, and the rest is written.
		if !raceEnabled || !strings.Contains(err.Error(), "no printable model") {
			t.Fatalf("process: %v\n%s", err, errb.String())
		}
		t.Logf("process without dense points: %v", err)
	}
	if !strings.Contains(out.String(), "Registered 10 of 10 photos") {
		t.Errorf("summary %q", out.String())
	}
	b, err := os.ReadFile(filepath.Join(res, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep local.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Format != "replica-process/1" || rep.Registered != 10 || rep.Photos != 10 || rep.MeanReprojError > 1 || rep.GPU ||
		rep.Mesh == nil || rep.Mesh.Faces == 0 || rep.Outputs["mesh"] != "mesh.ply" || rep.Outputs["sparse"] != "sparse.ply" {
		t.Errorf("report %+v", rep)
	}
	// The scale sheet's markers give millimetres.
	if rep.Scale == nil || !rep.Scale.Found || rep.Scale.Markers < 3 || rep.Scale.UncertaintyPct > 0.2 || rep.Model == nil {
		t.Errorf("scale %+v, model %+v", rep.Scale, rep.Model)
	}
	files, stages := []string{"sparse.ply", "dense.ply", "mesh.ply", "model.stl", "model.3mf", "model.ply", "model.step"}, "[9/9] cad"
	if raceEnabled {
		if len(rep.Stages) != 8 || rep.Skipped["dense"] == "" || rep.Dense != nil || rep.Mesh.Source != "sparse" {
			t.Errorf("--dense=false: report %+v", rep)
		}
		files, stages = []string{"sparse.ply", "mesh.ply"}, "[8/8] cad"
	} else if len(rep.Stages) != 9 || rep.Units != "mm" || rep.Outputs["stl"] != "model.stl" || rep.Outputs["3mf"] != "model.3mf" ||
		rep.Model.Failed != "" || !rep.Model.Watertight || !strings.Contains(out.String(), " mm, volume ") ||
		rep.Skipped["dense"] != "" || rep.Dense == nil || rep.Dense.Backend != local.DenseMVS || rep.Dense.Points == 0 ||
		rep.Outputs["dense"] != "dense.ply" || rep.Mesh.Source != "dense" || !strings.Contains(out.String(), "Dense points: ") ||
		rep.Outputs["step"] != "model.step" || rep.Cad == nil || rep.Cad.Faces == 0 ||
		math.Abs(rep.Cad.Volume-rep.Model.Volume) > cadVolumeShare*math.Abs(rep.Model.Volume) || !strings.Contains(out.String(), "CAD: model.step, ") {
		t.Errorf("dense: report %+v, summary %q", rep, out.String())
	}
	for _, f := range files {
		if _, err := os.Stat(filepath.Join(res, f)); err != nil {
			t.Error(err)
		}
	}
	if !raceEnabled {
		checkPrintable(t, res)
	}
	if !strings.Contains(errb.String(), stages) {
		t.Errorf("progress %q", errb.String())
	}

	// eval: the camera centres against the truth.
	out.Reset()
	if err := run(context.Background(), []string{"eval", res, "--truth", filepath.Join(dir, "groundtruth.json"), "--json"}, &out, &errb); err != nil {
		t.Fatalf("eval: %v", err)
	}
	var ev struct {
		Registered int     `json:"registered"`
		PartSize   float64 `json:"part_size_mm"`
		Centres    struct {
			Max      float64 `json:"max_mm"`
			Distance float64 `json:"camera_distance_mm"`
		} `json:"camera_centres"`
		Sparse struct {
			NearPart     int     `json:"near_part"`
			Median       float64 `json:"accuracy_median_mm"`
			Completeness float64 `json:"completeness"`
		} `json:"sparse"`
		Mesh *struct {
			NearPart     int     `json:"near_part"`
			Completeness float64 `json:"completeness"`
		} `json:"mesh"`
	}
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out.String())
	}
	if ev.Registered != 10 || ev.PartSize < 80 || ev.PartSize > 120 || ev.Centres.Max > 0.01*ev.Centres.Distance ||
		ev.Sparse.NearPart < 30 || ev.Sparse.Median > 1 || ev.Sparse.Completeness <= 0 || ev.Mesh == nil {
		t.Errorf("eval %+v", ev)
	}
	// The mesh of the dense points covers the part. Without them (under
	// the race detector) it is made of a thousand sparse points, a few
	// dozen on the part, and Poisson's trim may leave nothing there.
	if !raceEnabled && ev.Mesh != nil && (ev.Mesh.NearPart == 0 || ev.Mesh.Completeness <= 0) {
		t.Errorf("mesh of the dense points: %d points near the part, completeness %.3f", ev.Mesh.NearPart, ev.Mesh.Completeness)
	}
	t.Logf("eval: %s", out.String())
	out.Reset()
	if err := run(context.Background(), []string{"eval", res, "--truth", filepath.Join(dir, "groundtruth.json")}, &out, &errb); err != nil || !strings.Contains(out.String(), "Camera centres") {
		t.Errorf("eval: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"eval", t.TempDir(), "--truth", filepath.Join(dir, "groundtruth.json")}, &out, &errb); exitCode(err) != 1 {
		t.Errorf("eval of an empty folder: %v", err)
	}
}

// cadVolumeShare is how far the STEP solid's volume may be from the
// printable model's: the fitted surfaces smooth the mesh's noise away
// (cad.Assemble falls back to the exact faceted solid beyond 2 %).
const cadVolumeShare = 0.02

// TestProcessWithoutMarkers: photos without the scale sheet give a model
// of unknown scale, marked so and without a 3MF (which must state a unit);
// --known-length then scales it, and only the model stage runs again.
func TestProcessWithoutMarkers(t *testing.T) {
	if testing.Short() {
		t.Skip("runs COLMAP and the dense stage on 10 photos (about a minute); skipped in -short mode")
	}
	if raceEnabled {
		t.Skip("the dense stage is tenfold slower under the race detector; make test runs this test without it")
	}
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	dir := filepath.Join(t.TempDir(), "cap")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", "bracket", "--views", "10", "--rings", "1", "--markers=false",
		"--width", "640", "--height", "480", "--mesh-cell", "4", "--quiet", "--out", dir}, &out, &errb); err != nil {
		t.Fatalf("synth: %v", err)
	}
	res := filepath.Join(t.TempDir(), "out")
	out.Reset()
	if err := run(context.Background(), []string{"process", dir, "--out", res, "--quality", "draft", "--quiet"}, &out, &errb); err != nil {
		t.Fatalf("process: %v\n%s", err, errb.String())
	}
	rep, err := local.ReadReport(res)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s", out.String())
	if rep.Units != "model" || rep.Scale == nil || rep.Scale.Found || !strings.Contains(rep.Scale.Reason, "no markers were found") ||
		rep.Skipped["3mf"] == "" || rep.Outputs["stl"] != "model.stl" || rep.Outputs["3mf"] != "" || rep.Model.Ground != "plane" ||
		!strings.Contains(out.String(), "Scale: unknown: no markers") || !strings.Contains(out.String(), "model units (scale unknown)") {
		t.Errorf("without markers: units %q, scale %+v, skipped %v, outputs %v, summary %q", rep.Units, rep.Scale, rep.Skipped, rep.Outputs, out.String())
	}
	if _, err := os.Stat(filepath.Join(res, "model.3mf")); err == nil {
		t.Error("a 3MF in unknown units")
	}
	// The part stands on its base: z from 0, the longer side along x.
	if s := rep.Model.Size; !(s[0] >= s[1] && s[1] > s[2] && s[2] > 0) {
		t.Errorf("size %v, want the longer side along x, the height least", s)
	}

	// The part is 80 mm long.
	out.Reset()
	if err := run(context.Background(), []string{"process", dir, "--out", res, "--quality", "draft", "--quiet", "--known-length", "80"}, &out, &errb); err != nil {
		t.Fatalf("process --known-length: %v\n%s", err, errb.String())
	}
	if rep, err = local.ReadReport(res); err != nil {
		t.Fatal(err)
	}
	for _, st := range rep.Stages {
		if st.Cached != (st.Name != "model" && st.Name != "cad") {
			t.Errorf("stage %s: cached %v after --known-length", st.Name, st.Cached)
		}
	}
	s := rep.Model.Size
	if rep.Units != "mm" || rep.Model.ScaleSource != "known_length" || math.Abs(max(s[0], s[1], s[2])-80) > 1e-6 || rep.Outputs["3mf"] != "model.3mf" ||
		!strings.Contains(out.String(), "Scale: from --known-length") {
		t.Errorf("--known-length 80: units %q, source %q, size %v, outputs %v, summary %q", rep.Units, rep.Model.ScaleSource, s, rep.Outputs, out.String())
	}
	// The others are 40 and 12 mm: the reconstruction's proportions, to a
	// few per cent at this size.
	if math.Abs(s[1]-40) > 4 || math.Abs(s[2]-12) > 1.5 {
		t.Errorf("size %v, want about 80 × 40 × 12", s)
	}
	checkPrintable(t, res)
	if err := run(context.Background(), []string{"process", dir, "--out", res, "--known-length", "-3"}, &out, &errb); exitCode(err) != 2 {
		t.Errorf("--known-length -3: %v, want exit 2", err)
	}
}

// checkPrintable runs the tools makers use on the printable model in out:
// ADMesh on model.stl, PrusaSlicer on model.stl and model.3mf. Each skips
// when its tool is missing.
func checkPrintable(t *testing.T, out string) {
	t.Helper()
	ctx := context.Background()
	stl := filepath.Join(out, "model.stl")
	if r, err := mesh.CheckAdmesh(ctx, stl); errors.Is(err, exec.ErrNotFound) {
		t.Log("admesh not installed (make deps installs it): ADMesh check skipped")
	} else if err != nil {
		t.Errorf("admesh: %v", err)
	} else if p := r.Problems(); len(p) > 0 || r.Parts != 1 {
		t.Errorf("admesh on model.stl: %d parts, problems %v", r.Parts, p)
	}
	for _, f := range []string{stl, filepath.Join(out, "model.3mf")} {
		r, err := mesh.CheckPrusaSlicer(ctx, f, t.TempDir())
		if errors.Is(err, exec.ErrNotFound) {
			t.Log("prusa-slicer not installed (make deps installs it): PrusaSlicer check skipped")
			return
		}
		if err != nil {
			t.Errorf("prusa-slicer %s: %v", filepath.Base(f), err)
		} else if p := r.Problems(); len(p) > 0 {
			t.Errorf("prusa-slicer %s: %v", filepath.Base(f), p)
		} else {
			t.Logf("prusa-slicer sliced %s into %d layers", filepath.Base(f), r.Layers)
		}
	}
}

// TestLineProgress: a bar redrawn in place on a terminal, plain lines
// otherwise.
func TestLineProgress(t *testing.T) {
	var b bytes.Buffer
	p := &lineProgress{w: &b, bar: true}
	p.Stage("mapping", 3, 5)
	p.Update("mapping", 0.5, 12*time.Second)
	p.Update("mapping", 1, 0)
	p.Done("mapping", false, 3*time.Second)
	want := "[4/5] mapping\n\r      mapping [###############...............]  50%, about 12s left\x1b[K" +
		"\r      mapping [##############################] 100%\x1b[K\r\x1b[K      mapping: done in 3.0 s\n"
	if b.String() != want {
		t.Errorf("bar:\n%q\nwant\n%q", b.String(), want)
	}
	b.Reset()
	p = newLineProgress(&b)
	p.Stage("mapping", 3, 5)
	p.Update("mapping", 0.5, 0)
	p.Update("mapping", 0.6, 0) // too soon for another line
	p.Done("mapping", true, 0)
	if want := "[4/5] mapping\n      mapping  50%\n      mapping: from the cache\n"; b.String() != want {
		t.Errorf("lines:\n%q\nwant\n%q", b.String(), want)
	}
}
