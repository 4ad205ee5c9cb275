package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cap")
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", "bracket", "--views", "4", "--rings", "1",
		"--width", "800", "--height", "600", "--mesh-cell", "4", "--quiet", "--out", dir}, &out, &errb); err != nil {
		t.Fatalf("synth: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "broken.jpg"), []byte("not a photo"), 0o644)

	// Four photos far apart are not ready: exit status 1, a table and a summary.
	out.Reset()
	err := run(context.Background(), []string{"check", dir, "--no-graph", "--quiet"}, &out, &errb)
	if code := exitCode(err); err == nil || code != 1 {
		t.Fatalf("check of a 4-photo set = %v (exit %d), want not ready (exit 1)", err, code)
	}
	table := out.String()
	for _, want := range []string{"PHOTO", "view_001.jpg", "broken.jpg", "unreadable", "Not ready"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}

	out.Reset()
	err = run(context.Background(), []string{"check", "--json", "--quiet", dir}, &out, &errb)
	if exitCode(err) != 1 {
		t.Errorf("check --json exit %d, want 1", exitCode(err))
	}
	var rep struct {
		Format string `json:"format"`
		Ready  bool   `json:"ready"`
		Photos []struct {
			Name string `json:"name"`
		} `json:"photos"`
		Graph string `json:"graph"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out.String())
	}
	if rep.Format != "replica-check/1" || rep.Ready || len(rep.Photos) != 5 || rep.Graph == "" {
		t.Errorf("report = %+v", rep)
	}
	if _, err := os.Stat(filepath.Join(dir, "overlap.json")); err != nil {
		t.Errorf("overlap graph not written beside the photos: %v", err)
	}
}

func TestCheckUsage(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f.txt")
	os.WriteFile(file, []byte("x"), 0o644)
	for name, args := range map[string][]string{
		"no folder":   {"check"},
		"two folders": {"check", t.TempDir(), t.TempDir()},
		"missing":     {"check", filepath.Join(t.TempDir(), "nope")},
		"a file":      {"check", file},
		"bad flag":    {"check", "--colour", t.TempDir()},
	} {
		t.Run(name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), args, &out, &errb)
			if code := exitCode(err); code != 2 {
				t.Errorf("%q: exit %d (%v), want 2", args, code, err)
			}
		})
	}
}
