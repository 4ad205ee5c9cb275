package cad

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// freecadVerdict is what FreeCAD's STEP import makes of a STEP file.
type freecadVerdict struct {
	solids, faces int
	valid         bool           // isValid holds for every imported shape and every solid in it
	closed        bool           // there is a solid, and isClosed holds for every solid and each of its shells
	volume        float64        // the solids' Volume, added up, in mm³
	tolerance     float64        // the largest tolerance of a face, edge or vertex, in mm
	surfaces      map[string]int // faces by surface type: see freecadSurface
	output        string
}

// freecadSkip is why a test that needs FreeCAD does not run.
const freecadSkip = "freecadcmd not in PATH: install FreeCAD's command-line program (Debian package freecad-python3, or make deps) to check STEP files with FreeCAD"

// freecadCheck imports path with FreeCAD's own STEP importer, run headless
// by freecadcmd on testdata/freecad_check.py, and reports what FreeCAD
// made of it. It skips the test when freecadcmd is not installed and fails
// it when FreeCAD cannot read the file.
func freecadCheck(t *testing.T, path string) freecadVerdict {
	t.Helper()
	freecad, err := exec.LookPath("freecadcmd")
	if err != nil {
		t.Skip(freecadSkip)
	}
	v, err := runFreeCAD(freecad, t.TempDir(), path)
	if err != nil {
		t.Fatalf("FreeCAD: %v", err)
	}
	return v
}

// runFreeCAD runs freecad (freecadcmd) on testdata/freecad_check.py to
// import path, with home as its home folder, and parses what the script
// prints. freecadcmd exits 0 when the script raises, so an error is
// anything short of the script's closing "REPLICA done"; it carries
// FreeCAD's output.
//
// The path goes in the environment (REPLICA_STEP): freecadcmd takes every
// argument after the script for a file to open itself, and keeps it out
// of sys.argv. FreeCAD writes its settings and caches under HOME and the
// XDG folders, so those point into home, which keeps runs independent of
// each other and of whoever runs the tests.
func runFreeCAD(freecad, home, path string) (freecadVerdict, error) {
	script, err := filepath.Abs(filepath.Join("testdata", "freecad_check.py"))
	if err != nil {
		return freecadVerdict{}, err
	}
	if path, err = filepath.Abs(path); err != nil {
		return freecadVerdict{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, freecad, script)
	cmd.Dir = home
	cmd.Env = append(os.Environ(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"REPLICA_STEP="+path,
	)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	v := freecadVerdict{output: string(out), surfaces: map[string]int{}}
	if err != nil {
		return v, fmt.Errorf("freecadcmd: %v\n%s", err, out)
	}
	if err := v.parse(); err != nil {
		return v, fmt.Errorf("%v\n%s", err, out)
	}
	return v, nil
}

// parse fills v from the "REPLICA" records in v.output (see
// testdata/freecad_check.py). The importer's progress meter shares stdout
// and ends its lines with carriage returns, so records are split on both.
func (v *freecadVerdict) parse() error {
	lines := strings.FieldsFunc(v.output, func(r rune) bool { return r == '\n' || r == '\r' })
	fields := map[string]int{"object": 5, "solid": 5, "face": 1, "tolerance": 1, "done": 0}
	var bad error // the first field that does not parse in a record
	boolean := func(s string) bool {
		b, err := strconv.ParseBool(s) // Python's True and False too
		bad = cmp.Or(bad, err)
		return b
	}
	integer := func(s string) int {
		i, err := strconv.Atoi(s)
		bad = cmp.Or(bad, err)
		return i
	}
	real := func(s string) float64 {
		x, err := strconv.ParseFloat(s, 64)
		bad = cmp.Or(bad, err)
		return x
	}
	done, objects, solidsClosed := false, 0, true
	v.valid = true
	if v.surfaces == nil {
		v.surfaces = map[string]int{}
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "REPLICA" {
			continue
		}
		if done {
			return fmt.Errorf("FreeCAD check printed %q after done", line)
		}
		rec, args := f[1], f[2:]
		if n, ok := fields[rec]; !ok || len(args) != n {
			return fmt.Errorf("FreeCAD check printed %q: unknown record or wrong number of fields", line)
		}
		switch rec {
		case "object": // name, ShapeType, isValid, solids, faces
			objects++
			v.valid = boolean(args[2]) && v.valid
			v.solids += integer(args[3])
			v.faces += integer(args[4])
		case "solid": // isValid, isClosed, shells closed, Volume, faces
			v.valid = boolean(args[0]) && v.valid
			closed, shells := boolean(args[1]), boolean(args[2])
			solidsClosed = closed && shells && solidsClosed
			v.volume += real(args[3])
		case "face": // Surface TypeId
			v.surfaces[freecadSurface(args[0])]++
		case "tolerance":
			v.tolerance = real(args[0])
		case "done":
			done = true
		}
		if bad != nil {
			return fmt.Errorf("FreeCAD check printed %q: %v", line, bad)
		}
	}
	if !done {
		return errors.New("FreeCAD check did not finish")
	}
	if objects == 0 {
		return errors.New("FreeCAD check reported no shape")
	}
	v.closed = v.solids > 0 && solidsClosed
	return nil
}

// freecadSurface names a FreeCAD surface type (Surface.TypeId, such as
// "Part::GeomCylinder") as surfaceKinds does ours: "plane", "cylinder",
// "cone" and "sphere", and any other by FreeCAD's name without the
// "Part::Geom" ("BSplineSurface", "SurfaceOfRevolution").
func freecadSurface(typeID string) string {
	name := strings.TrimPrefix(typeID, "Part::Geom")
	switch name {
	case "Plane", "Cylinder", "Cone", "Sphere":
		return strings.ToLower(name)
	}
	return name
}

// surfaceKinds counts the faces of s by surface type.
func surfaceKinds(s *Solid) map[string]int {
	kinds := map[string]int{}
	for _, f := range s.Faces {
		switch f.Surface.(type) {
		case *Plane:
			kinds["plane"]++
		case *Cylinder:
			kinds["cylinder"]++
		case *Cone:
			kinds["cone"]++
		case *Sphere:
			kinds["sphere"]++
		default:
			kinds[fmt.Sprintf("%T", f.Surface)]++
		}
	}
	return kinds
}

// freecadProblems lists how v falls short of FreeCAD importing s, of the
// given volume, as it is: one valid closed solid with the faces and
// surfaces of s, tolerances within the file's uncertainty (FreeCAD's
// reader, OpenCascade's underneath, heals a vertex off its face by
// widening tolerances and then calls the solid valid), and the volume to
// the same 1e-6 that TestOpenCascade asks.
func freecadProblems(v freecadVerdict, s *Solid, volume float64) []string {
	var p []string
	if v.solids != 1 || v.faces != len(s.Faces) {
		p = append(p, fmt.Sprintf("FreeCAD found %d solids and %d faces, want 1 and %d", v.solids, v.faces, len(s.Faces)))
	}
	if !v.valid {
		p = append(p, "FreeCAD's isValid found problems")
	}
	if !v.closed {
		p = append(p, "FreeCAD found no closed solid")
	}
	if want := surfaceKinds(s); !maps.Equal(v.surfaces, want) {
		p = append(p, fmt.Sprintf("faces by surface %v, want %v", v.surfaces, want))
	}
	if v.tolerance > DefaultUncertainty {
		p = append(p, fmt.Sprintf("FreeCAD widened a tolerance to %g mm, more than the file's %g: it had to heal the solid", v.tolerance, DefaultUncertainty))
	}
	if math.Abs(v.volume-volume) > 1e-6*volume {
		p = append(p, fmt.Sprintf("volume %.17g, want %.17g (relative error %.2g)", v.volume, volume, math.Abs(v.volume-volume)/volume))
	}
	return p
}

// TestFreeCAD has FreeCAD, the CAD program most of our users would open
// the STEP in, import what WriteSTEP writes through its own importer: it
// must find exactly one valid closed solid with the faces and surface
// types of ours and the volume of the part, without healing. FreeCAD reads
// STEP with OpenCascade, as TestOpenCascade's Draw does, but through the
// XDE document reader and FreeCAD's own document layer, which is what a
// user's File > Import runs.
func TestFreeCAD(t *testing.T) {
	if _, err := exec.LookPath("freecadcmd"); errors.Is(err, exec.ErrNotFound) {
		t.Skip(freecadSkip)
	}
	plate := plateMesh()
	for _, tc := range []struct {
		name   string
		solid  *Solid
		volume float64
	}{
		{"plate", mustFromMesh(t, "plate"), plate.SignedVolume()},
		{"cylinder", cylinderSolid(5, 20), math.Pi * 25 * 20},
		{"frustum", frustumSolid(5, 3, 10), math.Pi * 10 / 3 * (25 + 15 + 9)},
		{"dome", domeSolid(7), 2 * math.Pi / 3 * 7 * 7 * 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), tc.name+".step")
			if err := os.WriteFile(path, mustWriteSTEP(t, tc.solid), 0o644); err != nil {
				t.Fatal(err)
			}
			v := freecadCheck(t, path)
			t.Logf("FreeCAD: %d solid, %d faces %v, valid %v, closed %v, largest tolerance %g mm, volume %.17g (want %.17g)",
				v.solids, v.faces, v.surfaces, v.valid, v.closed, v.tolerance, v.volume, tc.volume)
			if p := freecadProblems(v, tc.solid, tc.volume); len(p) > 0 {
				t.Errorf("%s\nFreeCAD's output:\n%s", strings.Join(p, "\n"), v.output)
			}
		})
	}
}

// TestFreeCADNotices checks that the checks of TestFreeCAD can fail, on
// two broken files that our own Validate cannot see.
func TestFreeCADNotices(t *testing.T) {
	if _, err := exec.LookPath("freecadcmd"); errors.Is(err, exec.ErrNotFound) {
		t.Skip(freecadSkip)
	}

	// A cube whose CLOSED_SHELL lists five of its six faces. FreeCAD does
	// not make a solid of it: it imports a lone shell, valid as a shell
	// (isValid does not ask a shell to be closed) but open.
	t.Run("open shell", func(t *testing.T) {
		t.Parallel()
		s := mustFromMesh(t, "cube")
		step := mustWriteSTEP(t, s)
		drop := regexp.MustCompile(`CLOSED_SHELL\('',\(#\d+,`)
		if !drop.Match(step) {
			t.Fatalf("no CLOSED_SHELL with several faces in\n%s", step)
		}
		path := filepath.Join(t.TempDir(), "open.step")
		if err := os.WriteFile(path, drop.ReplaceAll(step, []byte("CLOSED_SHELL('',(")), 0o644); err != nil {
			t.Fatal(err)
		}
		v := freecadCheck(t, path)
		t.Logf("FreeCAD: %d solids, %d faces %v, valid %v, closed %v, volume %g", v.solids, v.faces, v.surfaces, v.valid, v.closed, v.volume)
		if v.solids != 0 || v.faces != 5 || v.closed {
			t.Errorf("FreeCAD found %d solids and %d faces, closed %v; want 0, 5 and open\n%s", v.solids, v.faces, v.closed, v.output)
		}
		if p := freecadProblems(v, s, 1); len(p) == 0 {
			t.Errorf("TestFreeCAD's checks pass a cube without its bottom:\n%s", v.output)
		}
	})

	// A cylinder whose top disc lies 0.1 mm above its circle, as in
	// TestOpenCascadeNotices. FreeCAD calls the solid valid and closed:
	// only the widened tolerance and the volume give it away.
	t.Run("gap", func(t *testing.T) {
		t.Parallel()
		s := cylinderSolid(5, 20)
		s.Faces[1].Surface.(*Plane).Origin.Z += 0.1
		path := filepath.Join(t.TempDir(), "gap.step")
		if err := os.WriteFile(path, mustWriteSTEP(t, s), 0o644); err != nil {
			t.Fatal(err)
		}
		v := freecadCheck(t, path)
		t.Logf("FreeCAD: %d solid, valid %v, closed %v, largest tolerance %g mm, volume %.17g", v.solids, v.valid, v.closed, v.tolerance, v.volume)
		if v.tolerance < 0.1 {
			t.Errorf("largest tolerance %g mm, want at least the 0.1 mm gap", v.tolerance)
		}
		if p := freecadProblems(v, s, math.Pi*25*20); len(p) == 0 {
			t.Errorf("TestFreeCAD's checks pass a cylinder with a 0.1 mm gap under its top:\n%s", v.output)
		}
	})
}

// TestFreeCADFails checks that a file FreeCAD cannot read makes
// freecadCheck fail rather than pass on an empty verdict: freecadcmd
// exits 0 when its script raises.
func TestFreeCADFails(t *testing.T) {
	freecad, err := exec.LookPath("freecadcmd")
	if err != nil {
		t.Skip(freecadSkip)
	}
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.step")
	if err := os.WriteFile(garbage, []byte("not a STEP file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.step"), garbage} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			v, err := runFreeCAD(freecad, t.TempDir(), path)
			if err == nil {
				t.Fatalf("FreeCAD read %s: %+v", path, v)
			}
			msg := strings.TrimSpace(err.Error())
			t.Logf("as it should: %s", msg[strings.LastIndexByte(msg, '\n')+1:])
		})
	}
}

// TestFreeCADParse checks freecadVerdict.parse on canned output, without
// FreeCAD: records after the progress meter's carriage returns count, and
// output that stops short of "done" or garbles a record is an error, not
// an empty verdict.
func TestFreeCADParse(t *testing.T) {
	const ok = "FreeCAD 0.20.2\nImporting......\n\t\t(100 %)\t\r\t\t\r\n" +
		"REPLICA object Solid Solid True 1 3\n" +
		"REPLICA solid True True True 1570.7963267948965 3\n" +
		"REPLICA face Part::GeomPlane\nREPLICA face Part::GeomPlane\nREPLICA face Part::GeomCylinder\n" +
		"REPLICA tolerance 1e-07\nREPLICA done\n"
	v := freecadVerdict{output: ok, surfaces: map[string]int{}}
	if err := v.parse(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"plane": 2, "cylinder": 1}
	if v.solids != 1 || v.faces != 3 || !v.valid || !v.closed || v.volume != 1570.7963267948965 || v.tolerance != 1e-7 || !maps.Equal(v.surfaces, want) {
		t.Errorf("parse gave %+v", v)
	}
	for name, out := range map[string]string{
		"no done":        strings.TrimSuffix(ok, "REPLICA done\n"),
		"nothing":        "Exception while processing file: freecad_check.py [boom]\n",
		"bad bool":       strings.Replace(ok, "Solid True 1", "Solid yes 1", 1),
		"short record":   strings.Replace(ok, "1570.7963267948965 3", "1570.7963267948965", 1),
		"after done":     ok + "REPLICA face Part::GeomPlane\n",
		"unknown record": strings.Replace(ok, "REPLICA done", "REPLICA edge 1\nREPLICA done", 1),
	} {
		v := freecadVerdict{output: out, surfaces: map[string]int{}}
		if err := v.parse(); err == nil {
			t.Errorf("%s: parse gave %+v, want an error", name, v)
		}
	}
}
