package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cap")
	var stdout, stderr bytes.Buffer
	args := []string{"--part", "flanged-cylinder", "--views", "3", "--width", "160", "--height", "120",
		"--mesh-cell", "1.5", "--blur-views", "2", "--skip-arc", "90:150", "--json", "--out", dir}
	if err := run(context.Background(), append([]string{"synth"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("synth %q = %v\n%s", args, err, stderr.String())
	}
	var res synthResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("--json output %q: %v", stdout.String(), err)
	}
	if res.Views != 3 || res.Part != "flanged-cylinder" || res.Markers != 11 || res.FocalPx <= 0 {
		t.Errorf("result = %+v", res)
	}
	for _, f := range []string{"view_001.jpg", "view_003.jpg", "groundtruth.json", "groundtruth.stl"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stderr.String(), "3/3") {
		t.Errorf("no progress on stderr: %q", stderr.String())
	}
}

func TestSynthSpecFile(t *testing.T) {
	dir := t.TempDir()
	spec := filepath.Join(dir, "knob.json")
	os.WriteFile(spec, []byte(`{"name":"knob","units":"mm","solid":{"union":[
		{"cone":{"center":[0,0,5],"axis":[0,0,1],"radius1":15,"radius2":12,"height":10}},
		{"sphere":{"center":[0,0,10],"radius":8}}]}}`), 0o644)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"synth", "--part", spec, "--views", "1", "--width", "64", "--height", "48",
		"--mesh-cell", "2", "--quiet", "--out", filepath.Join(dir, "out")}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("synth with a spec file: %v", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("--quiet printed %q", stderr.String())
	}
}

func TestSynthBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"name":"x","units":"mm","solid":{"box":{"center":[0,0,0],"size":[0,1,1]}}}`), 0o644)
	for name, args := range map[string][]string{
		"no part":        {"--out", dir + "/a"},
		"no out":         {"--part", "bracket"},
		"unknown part":   {"--part", "sprocket", "--out", dir + "/b"},
		"missing file":   {"--part", dir + "/nope.json", "--out", dir + "/c"},
		"bad spec":       {"--part", bad, "--out", dir + "/d"},
		"bad views":      {"--part", "bracket", "--views", "0", "--out", dir + "/e"},
		"bad list":       {"--part", "bracket", "--blur-views", "3-x", "--out", dir + "/f"},
		"view too high":  {"--part", "bracket", "--views", "3", "--exposure-views", "9", "--out", dir + "/g"},
		"bad arc":        {"--part", "bracket", "--skip-arc", "90", "--out", dir + "/h"},
		"bad paper":      {"--part", "bracket", "--paper", "a3", "--out", dir + "/i"},
		"extra argument": {"--part", "bracket", "--out", dir + "/j", "extra"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if err := runSynth(context.Background(), args, &stdout, &stderr); err == nil {
				t.Errorf("synth %q succeeded, want an error", args)
			}
		})
	}
}

func TestSynthCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	err := runSynth(ctx, []string{"--part", "bracket", "--views", "4", "--width", "64", "--height", "48", "--out", t.TempDir() + "/x"}, &stdout, &stderr)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("synth with a cancelled context = %v, want context.Canceled", err)
	}
}
