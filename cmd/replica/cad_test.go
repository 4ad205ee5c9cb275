package main

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// cadBox returns the box [0,sx]×[0,sy]×[0,sz] as 12 triangles facing out.
func cadBox(sx, sy, sz float64) *geom.Mesh {
	m := &geom.Mesh{}
	for i := range 8 {
		m.Vertices = append(m.Vertices, geom.Vec{X: sx * float64(i&1), Y: sy * float64(i>>1&1), Z: sz * float64(i>>2&1)})
	}
	for _, q := range [][4]int32{{0, 2, 3, 1}, {4, 5, 7, 6}, {0, 1, 5, 4}, {2, 6, 7, 3}, {0, 4, 6, 2}, {1, 3, 7, 5}} {
		m.Faces = append(m.Faces, [3]int32{q[0], q[1], q[2]}, [3]int32{q[0], q[2], q[3]})
	}
	return m
}

// writeTestMesh writes m as path, STL or PLY by its extension.
func writeTestMesh(t *testing.T, path string, m *geom.Mesh) {
	t.Helper()
	var buf bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".ply") {
		err = mesh.WritePLY(&buf, &mesh.PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}, mesh.BinaryLittleEndian)
	} else {
		err = mesh.WriteSTL(&buf, m, "test")
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCadCommand: a watertight box becomes a STEP solid of 6 faces that
// reads back with the box's volume, from STL and from PLY.
func TestCadCommand(t *testing.T) {
	box := cadBox(10, 20, 30)
	for _, in := range []string{"box.stl", "box.ply"} {
		t.Run(in, func(t *testing.T) {
			dir := t.TempDir()
			writeTestMesh(t, filepath.Join(dir, in), box)
			step := filepath.Join(dir, "model.step")
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{"cad", filepath.Join(dir, in), "--out", step, "--name", "bracket"}, &out, &errb); err != nil {
				t.Fatalf("cad: %v\n%s", err, errb.String())
			}
			want := "Solid: 6 faces: 6 planes; volume 6000 mm³, written to " + step + "\n"
			if out.String() != want {
				t.Errorf("summary %q, want %q", out.String(), want)
			}
			f, err := os.Open(step)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := cad.ReadSTEP(f)
			if err != nil {
				t.Fatalf("ReadSTEP: %v", err)
			}
			m, err := cad.Tessellate(s, 0.01)
			if err != nil {
				t.Fatal(err)
			}
			if v := m.SignedVolume(); math.Abs(v-6000) > 1e-9*6000 || len(s.Faces) != 6 || s.Name != "bracket" {
				t.Errorf("read back %q: %d faces, volume %.12g, want bracket, 6 faces, 6000", s.Name, len(s.Faces), v)
			}
		})
	}
}

// TestCadNotWatertight: a box with a face missing is refused with exit 1
// and says why, writing no STEP.
func TestCadNotWatertight(t *testing.T) {
	open := cadBox(10, 20, 30)
	open.Faces = open.Faces[2:]
	dir := t.TempDir()
	in, step := filepath.Join(dir, "open.stl"), filepath.Join(dir, "model.step")
	writeTestMesh(t, in, open)
	err := run(context.Background(), []string{"cad", in, "--out", step}, io.Discard, io.Discard)
	if code := exitCode(err); code != 1 || err == nil || !strings.Contains(err.Error(), "not watertight") {
		t.Errorf("open box: exit %d (%v), want 1 and not watertight", code, err)
	}
	if _, err := os.Stat(step); err == nil {
		t.Error("STEP written for an open mesh")
	}
}

// TestCadUsage: missing or wrong arguments exit 2.
func TestCadUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "box.stl")
	writeTestMesh(t, in, cadBox(1, 1, 1))
	for name, args := range map[string][]string{
		"no mesh":   {"cad", "--out", filepath.Join(dir, "a.step")},
		"no out":    {"cad", in},
		"two files": {"cad", in, in, "--out", filepath.Join(dir, "a.step")},
		"obj":       {"cad", filepath.Join(dir, "box.obj"), "--out", filepath.Join(dir, "a.step")},
		"bad flag":  {"cad", in, "--out", filepath.Join(dir, "a.step"), "--colour"},
	} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), args, io.Discard, io.Discard)
			if code := exitCode(err); code != 2 {
				t.Errorf("%q: exit %d (%v), want 2", args, code, err)
			}
		})
	}
	if err := run(context.Background(), []string{"cad", filepath.Join(dir, "missing.stl"), "--out", filepath.Join(dir, "a.step")}, io.Discard, io.Discard); exitCode(err) != 1 {
		t.Errorf("missing input: %v, want exit 1", err)
	}
}
