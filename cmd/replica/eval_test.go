package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/synth"
)

// fakeReconstruction writes into out what `replica eval` reads of a
// reconstruction of the capture in dir: the prepared photos and a binary
// sparse model (https://colmap.github.io/format.html) that registered
// every photo exactly where the truth put it, with no points.
func fakeReconstruction(t *testing.T, dir, out string) {
	t.Helper()
	truth, err := synth.LoadTruth(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Fatal(err)
	}
	sparse := filepath.Join(out, "stages", "mapping", "sparse")
	prep := filepath.Join(out, "stages", "prepare")
	for _, d := range []string{sparse, prep} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var cams, ims, pts bytes.Buffer
	put := func(b *bytes.Buffer, vs ...any) {
		for _, v := range vs {
			if err := binary.Write(b, binary.LittleEndian, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := truth.Camera
	put(&cams, uint64(1), uint32(1), int32(1), uint64(c.Width), uint64(c.Height), [4]float64{c.Fx, c.Fy, c.Cx, c.Cy}) // model 1: PINHOLE
	put(&ims, uint64(len(truth.Views)))
	var prepared []map[string]string
	for i, v := range truth.Views {
		put(&ims, uint32(i+1), v.QVec, v.TVec, uint32(1))
		ims.WriteString(v.Image + "\x00")
		put(&ims, uint64(0)) // no keypoints
		prepared = append(prepared, map[string]string{"source": filepath.Join(dir, v.Image), "name": v.Image})
	}
	put(&pts, uint64(0))
	for name, b := range map[string]*bytes.Buffer{"cameras.bin": &cams, "images.bin": &ims, "points3D.bin": &pts} {
		if err := os.WriteFile(filepath.Join(sparse, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, _ := json.Marshal(prepared)
	if err := os.WriteFile(filepath.Join(prep, "prepared.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEvalCAD checks the cad section of `replica eval`: there for a
// STEP, saying so for a STEP that cannot be read while the rest of the
// report stands, absent without one.
func TestEvalCAD(t *testing.T) {
	dir, out := filepath.Join(t.TempDir(), "cap"), t.TempDir()
	spec := filepath.Join(t.TempDir(), "block.json")
	if err := os.WriteFile(spec, []byte(`{"name":"block","units":"mm","solid":{"box":{"center":[0,0,5],"size":[30,20,10]}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"synth", "--part", spec, "--views", "3", "--width", "64", "--height", "48",
		"--mesh-cell", "0.5", "--quiet", "--out", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("synth: %v\n%s", err, stderr.String())
	}
	fakeReconstruction(t, dir, out)

	// The block as it is: six flat faces.
	box := cadBox(30, 20, 10)
	for i, v := range box.Vertices {
		box.Vertices[i] = geom.Vec{X: v.X - 15, Y: v.Y - 10, Z: v.Z}
	}
	s, err := cad.FromMesh(box, "block")
	if err != nil {
		t.Fatal(err)
	}
	var step bytes.Buffer
	if err := cad.WriteSTEP(&step, s); err != nil {
		t.Fatal(err)
	}
	stepPath := filepath.Join(out, "model.step")
	if err := os.WriteFile(stepPath, step.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	evalJSON := func() map[string]json.RawMessage {
		t.Helper()
		stdout.Reset()
		if err := run(context.Background(), []string{"eval", out, "--truth", filepath.Join(dir, "groundtruth.json"), "--tol", "0", "--json"}, &stdout, &stderr); err != nil {
			t.Fatalf("eval --json: %v\n%s", err, stderr.String())
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(stdout.Bytes(), &keys); err != nil {
			t.Fatalf("eval --json: %v\n%s", err, stdout.String())
		}
		if !bytes.Contains(keys["format"], []byte("replica-eval/1")) || keys["camera_centres"] == nil {
			t.Errorf("eval --json = %s, want the report's keys", stdout.String())
		}
		return keys
	}
	var res struct {
		Model    string `json:"model"`
		Error    string `json:"error"`
		Faces    int    `json:"faces"`
		Surfaces []struct {
			Type      string `json:"type"`
			Recovered bool   `json:"recovered"`
		} `json:"true_surfaces"`
		TypesOK   bool `json:"types_ok"`
		OffsetsOK bool `json:"offsets_ok"`
	}
	if err := json.Unmarshal(evalJSON()["cad"], &res); err != nil {
		t.Fatalf("cad section: %v\n%s", err, stdout.String())
	}
	if res.Model != stepPath || res.Error != "" || res.Faces != 6 || len(res.Surfaces) != 6 || !res.TypesOK || !res.OffsetsOK {
		t.Errorf("cad section %+v, want 6 planes recovered within budget", res)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"eval", out, "--truth", filepath.Join(dir, "groundtruth.json"), "--tol", "0"}, &stdout, &stderr); err != nil {
		t.Fatalf("eval: %v", err)
	}
	t.Logf("%s", stdout.String())
	for _, want := range []string{"Camera centres", "CAD solid model.step: 6 faces (6 planes, 0 freeform facets)", "(6 of 6): ok"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("eval = %q, want it to hold %q", stdout.String(), want)
		}
	}

	// A STEP that is not one: the section says so, eval succeeds.
	if err := os.WriteFile(stepPath, []byte("not a STEP file"), 0o644); err != nil {
		t.Fatal(err)
	}
	res.Error = ""
	if err := json.Unmarshal(evalJSON()["cad"], &res); err != nil || !strings.Contains(res.Error, "STEP model.step") {
		t.Errorf("cad section of a bad STEP = %+v, %v; want an error", res, err)
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"eval", out, "--truth", filepath.Join(dir, "groundtruth.json"), "--tol", "0"}, &stdout, &stderr); err != nil ||
		!strings.Contains(stdout.String(), "Camera centres") || !strings.Contains(stdout.String(), "CAD solid model.step: cannot be measured: STEP model.step: ") {
		t.Errorf("eval with a bad STEP = %v\n%s", err, stdout.String())
	}

	// No STEP, no section.
	if err := os.Remove(stepPath); err != nil {
		t.Fatal(err)
	}
	if keys := evalJSON(); keys["cad"] != nil {
		t.Errorf("eval --json without a STEP has a cad section: %s", keys["cad"])
	}
}
