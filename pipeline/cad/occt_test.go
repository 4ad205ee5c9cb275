package cad

import (
	"context"
	"errors"
	"fmt"
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

// occtVerdict is what OpenCascade's Draw says of a STEP file.
type occtVerdict struct {
	solids, faces int
	valid         bool    // checkshape found no problem
	tolerance     float64 // the largest tolerance of a face, edge or vertex, in mm
	volume        float64 // vprops' "Mass", in mm³
	output        string
}

// occtCheck reads path with OpenCascade's STEP reader in Draw's batch mode
// and reports checkshape, nbshapes and vprops of the result. It skips the
// test when occt-draw is not installed.
func occtCheck(t *testing.T, path string) occtVerdict {
	t.Helper()
	draw, err := exec.LookPath("occt-draw")
	if err != nil {
		t.Skip("occt-draw not in PATH: install OpenCascade's Draw (Debian packages occt-draw libocct-draw-dev libocct-data-exchange-dev, or make deps) to check STEP files with a CAD kernel")
	}
	script := filepath.Join(t.TempDir(), "check.tcl")
	// vprops -full prints 17 significant digits; braces keep Tcl off the path.
	tcl := fmt.Sprintf(`pload MODELING DATAEXCHANGE
stepread {%s} s *
puts "NBSHAPES [nbshapes s_1]"
puts "CHECKSHAPE [checkshape s_1]"
puts "TOLERANCE [tolerance s_1]"
puts "VPROPS [vprops s_1 1.e-10 -full]"
exit
`, path)
	if err := os.WriteFile(script, []byte(tcl), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, draw, "-b", "-f", script)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("occt-draw: %v\n%s", err, out)
	}
	v := occtVerdict{output: string(out)}
	count := func(kind string) int {
		m := regexp.MustCompile(`(?m)^\s*` + kind + `\s*:\s*(\d+)`).FindStringSubmatch(v.output)
		if m == nil {
			t.Fatalf("occt-draw printed no %s count:\n%s", kind, v.output)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	v.solids, v.faces = count("SOLID"), count("FACE")
	v.valid = strings.Contains(v.output, "CHECKSHAPE This shape seems to be valid")
	real := func(pattern string) float64 {
		m := regexp.MustCompile(pattern).FindStringSubmatch(v.output)
		if m == nil {
			t.Fatalf("occt-draw printed nothing like %s:\n%s", pattern, v.output)
		}
		x, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("occt-draw printed %q: %v", m[1], err)
		}
		return x
	}
	v.volume = real(`Mass\s*:\s*(\S+)`)
	v.tolerance = real(`TOLERANCE Tolerance MAX=(\S+)`)
	return v
}

// TestOpenCascade has OpenCascade, a CAD kernel, import what WriteSTEP
// writes: it must find exactly one valid solid with the right number of
// faces and the volume of the part, and keep every tolerance within the
// uncertainty the file declares. That last check matters: OpenCascade's
// STEP reader heals what it imports, widening the tolerance of a vertex
// that lies off its face until checkshape is content (see
// TestOpenCascadeNotices).
func TestOpenCascade(t *testing.T) {
	if _, err := exec.LookPath("occt-draw"); errors.Is(err, exec.ErrNotFound) {
		t.Skip("occt-draw not in PATH: install OpenCascade's Draw (Debian packages occt-draw libocct-draw-dev libocct-data-exchange-dev, or make deps) to check STEP files with a CAD kernel")
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
			v := occtCheck(t, path)
			t.Logf("OpenCascade: %d solid, %d faces, valid %v, largest tolerance %g mm, volume %.17g (want %.17g)", v.solids, v.faces, v.valid, v.tolerance, v.volume, tc.volume)
			if v.solids != 1 || v.faces != len(tc.solid.Faces) {
				t.Errorf("OpenCascade found %d solids and %d faces, want 1 and %d", v.solids, v.faces, len(tc.solid.Faces))
			}
			if !v.valid {
				t.Errorf("checkshape found problems:\n%s", v.output)
			}
			if v.tolerance > DefaultUncertainty {
				t.Errorf("OpenCascade widened a tolerance to %g mm, more than the file's %g: it had to heal the solid", v.tolerance, DefaultUncertainty)
			}
			if math.Abs(v.volume-tc.volume) > 1e-6*tc.volume {
				t.Errorf("volume %.17g, want %.17g (relative error %.2g)", v.volume, tc.volume, math.Abs(v.volume-tc.volume)/tc.volume)
			}
		})
	}
}

// TestOpenCascadeNotices checks that the checks of TestOpenCascade can
// fail: a cylinder whose top disc lies 0.1 mm above its circle passes
// Validate, which does not look at geometry, but OpenCascade must widen
// tolerances to take it.
func TestOpenCascadeNotices(t *testing.T) {
	s := cylinderSolid(5, 20)
	s.Faces[1].Surface.(*Plane).Origin.Z += 0.1
	path := filepath.Join(t.TempDir(), "bad.step")
	if err := os.WriteFile(path, mustWriteSTEP(t, s), 0o644); err != nil {
		t.Fatal(err)
	}
	v := occtCheck(t, path)
	t.Logf("OpenCascade: valid %v, largest tolerance %g mm", v.valid, v.tolerance)
	if v.tolerance < 0.1 {
		t.Errorf("largest tolerance %g mm, want at least the 0.1 mm gap", v.tolerance)
	}
}
