package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	if err := run(context.Background(), []string{"process", dir, "--out", res, "--quality", "draft"}, &out, &errb); err != nil {
		t.Fatalf("process: %v\n%s", err, errb.String())
	}
	if !strings.Contains(out.String(), "Registered 10 of 10 photos") {
		t.Errorf("summary %q", out.String())
	}
	b, err := os.ReadFile(filepath.Join(res, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep processReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Format != "replica-process/1" || rep.Registered != 10 || rep.Photos != 10 || rep.MeanReprojError > 1 || rep.GPU || len(rep.Stages) != 4 || rep.Skipped["dense"] == "" {
		t.Errorf("report %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(res, "sparse.ply")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(errb.String(), "[4/4] mapping") {
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
	}
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil {
		t.Fatalf("eval --json: %v\n%s", err, out.String())
	}
	if ev.Registered != 10 || ev.PartSize < 80 || ev.PartSize > 120 || ev.Centres.Max > 0.01*ev.Centres.Distance ||
		ev.Sparse.NearPart < 30 || ev.Sparse.Median > 1 || ev.Sparse.Completeness <= 0 {
		t.Errorf("eval %+v", ev)
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
