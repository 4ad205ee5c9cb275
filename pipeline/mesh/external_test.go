package mesh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica3d/replica/pipeline/geom"
)

// toolTimeout bounds every run of an outside checker; each takes well
// under a second on the meshes here.
const toolTimeout = 2 * time.Minute

// needTool skips the test when tool is not on the PATH.
func needTool(tb testing.TB, tool string) {
	tb.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		tb.Skipf("%s not installed: make deps (apt-get install %s)", tool, tool)
	}
}

// holedPlate returns a plate of k square cells of side s side by side along
// x, h high, each pierced by a vertical hole of radius r about its centre:
// [0, k·s]×[0, s]×[0, h]. Each hole is a regular n-gon (n a multiple of 8,
// so that the cells' corners are among the points) and each cell's top and
// bottom a ring of quads between the hole and the cell's square, the square
// point of angle θ being the ray at θ's meeting with the square. A closed
// surface of genus k, counter-clockwise seen from outside. Coordinates are
// multiples of 2⁻¹⁶ mm, exact in float32 up to 256 mm, so that the cells'
// shared points coincide and survive STL.
func holedPlate(k int, s, h, r float64, n int) *geom.Mesh {
	const q = 1 << 16
	m := &geom.Mesh{}
	index := make(map[geom.Vec]int32)
	vertex := func(x, y, z float64) int32 {
		p := geom.Vec{X: math.Round(x*q) / q, Y: math.Round(y*q) / q, Z: math.Round(z*q) / q}
		i, ok := index[p]
		if !ok {
			i = int32(len(m.Vertices))
			m.Vertices = append(m.Vertices, p)
			index[p] = i
		}
		return i
	}
	quad := func(a, b, c, d int32) { m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d}) }
	for c := range k {
		cx, cy := s*(float64(c)+0.5), s/2
		// in and out return point i of the hole and of the square at z.
		in := func(i int, z float64) int32 {
			t := 2 * math.Pi * float64(i%n) / float64(n)
			return vertex(cx+r*math.Cos(t), cy+r*math.Sin(t), z)
		}
		outXY := func(i int) (x, y float64) {
			t := 2 * math.Pi * float64(i%n) / float64(n)
			u, v := math.Cos(t), math.Sin(t)
			l := max(math.Abs(u), math.Abs(v))
			return cx + s/2*u/l, cy + s/2*v/l
		}
		out := func(i int, z float64) int32 {
			x, y := outXY(i)
			return vertex(x, y, z)
		}
		for i := range n {
			j := i + 1
			quad(in(i, h), out(i, h), out(j, h), in(j, h)) // top: radial × anticlockwise = +z
			quad(in(i, 0), in(j, 0), out(j, 0), out(i, 0)) // bottom
			quad(in(i, 0), in(i, h), in(j, h), in(j, 0))   // hole wall, facing its axis
			// The outer wall, but for the sides the cell shares with
			// its neighbours.
			xi, _ := outXY(i)
			xj, _ := outXY(j)
			shared := math.Abs(xi-xj) < 1e-9 && (c > 0 && math.Abs(xi-(cx-s/2)) < 1e-9 || c < k-1 && math.Abs(xi-(cx+s/2)) < 1e-9)
			if !shared {
				quad(out(i, 0), out(j, 0), out(j, h), out(i, h))
			}
		}
	}
	return m
}

// plateVolume returns the volume of holedPlate(k, s, h, r, n).
func plateVolume(k int, s, h, r float64, n int) float64 {
	return float64(k) * h * (s*s - float64(n)/2*r*r*math.Sin(2*math.Pi/float64(n)))
}

// testPlate is the part the slicer test prints: 80×40×12 mm with two
// through-holes of radius 4 mm.
func testPlate() *geom.Mesh { return holedPlate(2, 40, 12, 4, 32) }

func TestHoledPlate(t *testing.T) {
	m := testPlate()
	topo := m.Topology()
	if !topo.Watertight() || topo.DegenerateFaces != 0 || topo.Components != 1 {
		t.Errorf("holedPlate: %+v, want one watertight component without degenerate faces", topo)
	}
	if c := topo.EulerCharacteristic(); c != -2 {
		t.Errorf("Euler characteristic %d, want −2 (genus 2)", c)
	}
	if got, want := m.SignedVolume(), plateVolume(2, 40, 12, 4, 32); math.Abs(got-want) > 1e-3 {
		t.Errorf("volume %v, want %v", got, want)
	}
	if b := m.Bounds(); b.Min != (geom.Vec{}) || b.Max != (geom.Vec{X: 80, Y: 40, Z: 12}) {
		t.Errorf("bounds %v, want [0, (80, 40, 12)]", b)
	}
	if !float32Exact(m.Vertices) {
		t.Errorf("coordinates do not survive float32")
	}
}

// flipSome returns a copy of m with one face in 20 reversed, chosen with a
// fixed seed.
func flipSome(m *geom.Mesh) *geom.Mesh {
	out := &geom.Mesh{Vertices: m.Vertices, Faces: slices.Clone(m.Faces)}
	rng := rand.New(rand.NewPCG(1, 1))
	for _, i := range rng.Perm(len(out.Faces))[:max(1, len(out.Faces)/20)] {
		f := out.Faces[i]
		out.Faces[i] = [3]int32{f[0], f[2], f[1]}
	}
	return out
}

// jitteredSoup returns m's triangles each with its own vertices, each moved
// by up to d/2 along each axis (and rounded to float32), so that the copies
// of a vertex differ.
func jitteredSoup(m *geom.Mesh, d float64) *geom.Mesh {
	out := soup(m)
	rng := rand.New(rand.NewPCG(1, 2))
	for i, p := range out.Vertices {
		out.Vertices[i] = f32(geom.Vec{X: p.X + d*(rng.Float64()-0.5), Y: p.Y + d*(rng.Float64()-0.5), Z: p.Z + d*(rng.Float64()-0.5)})
	}
	return out
}

// brokenMeshes are defective inputs to Repair. broken says whether the
// defect shows in an STL file of the mesh as it is: a triangle soup with
// exactly equal copies of each vertex is what STL holds anyway.
func brokenMeshes() []struct {
	name   string
	m      *geom.Mesh
	broken bool
} {
	plate := testPlate()
	box := gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 10)
	sphere := sphereMesh(20, 3)
	topHole, _ := without(plate, func(_ int, x geom.Vec) bool { return x.Z == 12 && x.X < 12 })
	patch, _ := without(box, func(_ int, x geom.Vec) bool { return x.Z == 10 && x.X > 2 && x.X < 9 && x.Y > 2 && x.Y < 9 })
	sphereHoles, _ := without(sphere, func(i int, _ geom.Vec) bool { return i%97 == 0 })
	return []struct {
		name   string
		m      *geom.Mesh
		broken bool
	}{
		{"plate/intact", plate, false},
		{"plate/hole in the top", topHole, true},
		{"box/patch removed", patch, true},
		{"sphere/13 faces removed", sphereHoles, true},
		{"plate/flipped faces", flipSome(plate), true},
		{"plate/inside out", transformed(plate, func(p geom.Vec) geom.Vec { return p }, true), true},
		{"plate/soup", soup(plate), false},
		// Copies at most √3·2e-5 mm apart, under the weld tolerance
		// of 1e-6 × the 90 mm diagonal.
		{"plate/jittered soup", jitteredSoup(plate, 2e-5), true},
		{"cube/T-junction", tJunctionCube(), true},
		{"sphere/fragment", geom.Join(sphere, shifted(tetra(), geom.Vec{X: 100, Y: 100, Z: 100})), true},
	}
}

// admeshFaults is what the tests hold against a file: ADMesh's problems
// and more than one part.
func admeshFaults(r *AdmeshReport) []string {
	p := r.Problems()
	if r.Parts != 1 {
		p = append(p, fmt.Sprintf("admesh: %d parts, want 1", r.Parts))
	}
	return p
}

// writeTemp writes data to name in dir and returns its path.
func writeTemp(tb testing.TB, dir, name string, data []byte) string {
	tb.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// TestAdmeshAcceptsRepairedSTL holds Repair's output, written by WriteSTL,
// to ADMesh: it must find nothing to fix. The unrepaired defective meshes
// are the negative control: ADMesh must find their defects.
func TestAdmeshAcceptsRepairedSTL(t *testing.T) {
	needTool(t, "admesh")
	for _, tc := range brokenMeshes() {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), toolTimeout)
			defer cancel()
			dir := t.TempDir()

			in := writeTemp(t, dir, "in.stl", mustWriteSTL(t, tc.m, "replica admesh test, unrepaired"))
			rep, err := CheckAdmesh(ctx, in)
			if err != nil {
				t.Fatalf("CheckAdmesh(unrepaired): %v", err)
			}
			faults := admeshFaults(rep)
			if tc.broken && len(faults) == 0 {
				t.Errorf("admesh found nothing wrong with the unrepaired mesh:\n%s", rep.Output)
			} else if !tc.broken && len(faults) != 0 {
				t.Errorf("admesh found %q in the unrepaired mesh, which STL holds intact", faults)
			}
			t.Logf("unrepaired: %q", faults)

			out, _ := mustRepair(t, tc.m, nil)
			path := writeTemp(t, dir, "out.stl", mustWriteSTL(t, out, "replica admesh test, repaired"))
			rep, err = CheckAdmesh(ctx, path)
			if err != nil {
				t.Fatalf("CheckAdmesh(repaired): %v", err)
			}
			if faults := admeshFaults(rep); len(faults) != 0 {
				t.Errorf("admesh on the repaired mesh: %q\n%s", faults, rep.Output)
			}
			if rep.Facets != len(out.Faces) {
				t.Errorf("admesh facets = %d, want %d", rep.Facets, len(out.Faces))
			}
			// ADMesh sums in float32 and prints 6 decimals.
			if want := out.SignedVolume(); math.Abs(rep.Volume-want) > 1e-5*want {
				t.Errorf("admesh volume = %v, want %v", rep.Volume, want)
			}
		})
	}
}

// TestPrusaSlicerSlicesRepaired slices Repair's output, written as STL and
// as 3MF, with PrusaSlicer's default settings: it must load the mesh as
// manifold with nothing to repair, warn about nothing and write G-code of
// the expected layers. The defective plates, unrepaired, are the negative
// control: PrusaSlicer must report their defects. (It slices an open plate
// without a warning: only --info tells.)
func TestPrusaSlicerSlicesRepaired(t *testing.T) {
	needTool(t, "prusa-slicer")
	plate := testPlate()
	topHole, _ := without(plate, func(_ int, x geom.Vec) bool { return x.Z == 12 && x.X < 12 })
	for _, tc := range []struct {
		name   string
		m      *geom.Mesh
		broken bool
	}{
		{"plate", plate, false},
		{"plate with a hole in the top", topHole, true},
		{"plate with flipped faces", flipSome(plate), true},
	} {
		for _, format := range []string{"stl", "3mf"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				ctx, cancel := context.WithTimeout(t.Context(), toolTimeout)
				defer cancel()
				dir := t.TempDir()
				write := func(name string, m *geom.Mesh) string {
					if format == "stl" {
						return writeTemp(t, dir, name+".stl", mustWriteSTL(t, m, "replica slicer test"))
					}
					return writeTemp(t, dir, name+".3mf", mustWrite3MF(t, m, "replica slicer test"))
				}

				// Repair leaves the intact plate as it is: the check
				// of its output is the check of the plate.
				if tc.broken {
					rep, err := CheckPrusaSlicer(ctx, write("in", tc.m), dir)
					if err != nil {
						t.Fatalf("CheckPrusaSlicer(unrepaired): %v", err)
					}
					p := rep.Problems()
					if len(p) == 0 {
						t.Errorf("prusa-slicer found nothing wrong with the unrepaired mesh:\n%s\n%s", rep.Info, rep.Output)
					}
					t.Logf("unrepaired: %q", p)
				}

				out, _ := mustRepair(t, tc.m, nil)
				start := time.Now()
				rep, err := CheckPrusaSlicer(ctx, write("out", out), dir)
				if err != nil {
					t.Fatalf("CheckPrusaSlicer(repaired): %v", err)
				}
				t.Logf("prusa-slicer: %d layers in %v", rep.Layers, time.Since(start).Round(time.Millisecond))
				if p := rep.Problems(); len(p) != 0 {
					t.Errorf("prusa-slicer on the repaired mesh: %q\n%s\n%s", p, rep.Info, rep.Output)
				}
				if rep.Parts != 1 {
					t.Errorf("prusa-slicer parts = %d, want 1", rep.Parts)
				}
				// PrusaSlicer's defaults: a first layer of 0.35 mm, then
				// 0.3 mm.
				if want := 1 + int(math.Ceil((12-0.35)/0.3)); rep.Layers != want {
					t.Errorf("prusa-slicer layers = %d, want %d", rep.Layers, want)
				}
				if want := out.SignedVolume(); math.Abs(rep.Volume-want) > 1e-5*want {
					t.Errorf("prusa-slicer volume = %v, want %v", rep.Volume, want)
				}
			})
		}
	}
}

// fakeToolEnv, set, makes the test binary play the admesh or prusa-slicer
// it is linked as (see fakeTools), in the mode it holds.
const fakeToolEnv = "REPLICA_FAKE_MESH_TOOL"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeToolEnv); mode != "" {
		os.Exit(fakeTool(filepath.Base(os.Args[0]), mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// admeshGood and admeshOpen are ADMesh 0.98.4's output for an 80×40×12 mm
// box of 12 facets and for the same box without one facet.
const (
	admeshGood = `ADMesh version 0.98.4, Copyright (C) 1995, 1996 Anthony D. Martin
ADMesh comes with NO WARRANTY.  This is free software, and you are welcome to
redistribute it under certain conditions.  See the file COPYING for details.
Opening good.stl
Checking exact...
All facets connected.  No nearby check necessary.
No unconnected need to be removed.
No holes need to be filled.
Checking normal directions...
Checking normal values...
Calculating volume...
Verifying neighbors...

================= Results produced by ADMesh version 0.98.4 ================
Input file         : good.stl
File type          : Binary STL file
Header             : test
============== Size ==============
Min X =  0.000000, Max X =  80.000000
Min Y =  0.000000, Max Y =  40.000000
Min Z =  0.000000, Max Z =  12.000000
========= Facet Status ========== Original ============ Final ====
Number of facets                 :    12                  12
Facets with 1 disconnected edge  :     0                   0
Facets with 2 disconnected edges :     0                   0
Facets with 3 disconnected edges :     0                   0
Total disconnected facets        :     0                   0
=== Processing Statistics ===     ===== Other Statistics =====
Number of parts       :     1        Volume   :  38400.000000
Degenerate facets     :     0
Edges fixed           :     0
Facets removed        :     0
Facets added          :     0
Facets reversed       :     0
Backwards edges       :     0
Normals fixed         :     0
`
	admeshOpen = `ADMesh version 0.98.4, Copyright (C) 1995, 1996 Anthony D. Martin
Opening open.stl
Checking exact...
Checking nearby. Tolerance= 12.000000 Iteration=1 of 2...  Fixed 0 edges.
Checking nearby. Tolerance= 12.009025 Iteration=2 of 2...  Fixed 2 edges.
Removing unconnected facets...
No holes need to be filled.
Checking normal directions...
Checking normal values...
Calculating volume...
Verifying neighbors...

================= Results produced by ADMesh version 0.98.4 ================
Input file         : open.stl
File type          : Binary STL file
Header             : test
============== Size ==============
Min X =  0.000000, Max X =  80.000000
Min Y =  0.000000, Max Y =  40.000000
Min Z =  0.000000, Max Z =  12.000000
========= Facet Status ========== Original ============ Final ====
Number of facets                 :    11                  10
Facets with 1 disconnected edge  :     3                   0
Facets with 2 disconnected edges :     0                   0
Facets with 3 disconnected edges :     0                   0
Total disconnected facets        :     3                   0
=== Processing Statistics ===     ===== Other Statistics =====
Number of parts       :     1        Volume   :  32000.000000
Degenerate facets     :     0
Edges fixed           :     2
Facets removed        :     1
Facets added          :     0
Facets reversed       :     0
Backwards edges       :     0
Normals fixed         :     1
`
	// slicerInfoOpen is PrusaSlicer 2.5's --info for a box with one side
	// missing.
	slicerInfoOpen = `[2026-11-27 03:36:56.417730] [0x00007f3c5c68fd80] [trace]   Initializing StaticPrintConfigs
facet (1)/ first facet
  vertex 0/1  0.00000000E+00  0.00000000E+00  0.00000000E+00
[open2.stl]
size_x = 80.000000
size_y = 40.000000
size_z = 12.000000
number_of_facets = 9
manifold = no
open_edges = 1
edges_fixed = 2
facets_removed = 1
number_of_parts =  1
volume = 25600.000000
`
	slicerInfoGood = `[good.stl]
size_x = 80.000000
number_of_facets = 12
manifold = yes
number_of_parts =  1
volume = 38400.000000
`
	// slicerWarned is PrusaSlicer 2.5's --export-gcode output for that
	// box.
	slicerWarned = `[2026-11-27 03:37:13.092820] [0x00007fa5fbfe6d80] [trace]   Initializing StaticPrintConfigs
[2026-11-27 03:37:13.096955] [0x00007fa5fbfe6d80] [info]    edge 1 of facet 1 doesn't match edge 1 of facet 2
10 => Processing triangulated mesh
90 => Exporting G-code to /tmp/ext/x.gcode
print warning: Empty layer between 0.35 and 12.05.

Object name: open2.stl

Make sure the object is printable. This is usually caused by negligibly small extrusions or by a faulty model. Try to repair the model or change its orientation on the bed.
[2026-11-27 03:38:38.978178] [0x00007fc51da1ad80] [error]   stl_open_count_facets: The input is an empty file: junk.stl
Slicing result exported to /tmp/ext/x.gcode
`
)

// fakeTool plays tool ("admesh" or "prusa-slicer") in mode and returns
// the exit code.
func fakeTool(tool, mode string, args []string) int {
	switch mode {
	case "fail":
		fmt.Fprintf(os.Stderr, "stl_initialize: Couldn't open %s for reading: No such file or directory\n", args[len(args)-1])
		return 1
	case "garbage":
		fmt.Println("Opening x.stl\nThe input is an empty file: Success")
		return 0
	case "slow":
		fmt.Println("Opening x.stl")
		time.Sleep(time.Minute) // until the interrupt ends it
		return 0
	case "good", "open":
		if tool == "admesh" {
			fmt.Print(map[string]string{"good": admeshGood, "open": admeshOpen}[mode])
			return 0
		}
	}
	// prusa-slicer: --info, or --export-gcode -o OUT.
	if args[0] == "--info" {
		fmt.Print(map[bool]string{true: slicerInfoGood, false: slicerInfoOpen}[mode != "open"])
		return 0
	}
	out := args[slices.Index(args, "-o")+1]
	switch mode {
	case "abort":
		fmt.Fprint(os.Stderr, "terminate called after throwing an instance of 'Slic3r::RuntimeError'\n  what():  Objects could not fit on the bed\n")
		return 134
	case "no G-code":
		fmt.Println("Slicing result exported to " + out)
		return 0
	}
	gcode := ";LAYER_CHANGE\n;Z:0.35\nG1 Z.35\n;LAYER_CHANGE\n;Z:0.65\nG1 Z.65\n"
	if err := os.WriteFile(out, []byte(gcode), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if mode == "open" {
		fmt.Print(slicerWarned)
		fmt.Fprintln(os.Stderr, "Flow::spacing() produced negative spacing. Did you set some extrusion width too small?")
	}
	return 0
}

// fakeTools puts the test binary, playing mode, alone on the PATH under
// the names admesh and prusa-slicer; mode "" leaves the PATH empty.
func fakeTools(t *testing.T, mode string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if mode != "" {
		for _, name := range []string{"admesh", "prusa-slicer"} {
			if err := os.Symlink(exe, filepath.Join(dir, name)); err != nil {
				t.Skipf("cannot link the fake %s: %v", name, err)
			}
		}
	}
	t.Setenv("PATH", dir)
	t.Setenv(fakeToolEnv, mode)
	// Under -race a program waits a second at exit for late reports.
	t.Setenv("GORACE", "atexit_sleep_ms=0")
}

// checkToolError fails unless err is a *ToolError with the exit code whose
// output holds out.
func checkToolError(tb testing.TB, err error, code int, out string) {
	tb.Helper()
	var te *ToolError
	if !errors.As(err, &te) {
		tb.Fatalf("error %v (%T), want a *ToolError", err, err)
	}
	if te.ExitCode != code || !strings.Contains(te.Output, out) {
		tb.Errorf("ToolError exit code %d, output %q; want %d, containing %q", te.ExitCode, te.Output, code, out)
	}
}

func TestCheckAdmeshFake(t *testing.T) {
	stl := filepath.Join(t.TempDir(), "x.stl")
	t.Run("good", func(t *testing.T) {
		fakeTools(t, "good")
		r, err := CheckAdmesh(t.Context(), stl)
		if err != nil {
			t.Fatal(err)
		}
		r.Output = ""
		want := AdmeshReport{Facets: 12, Parts: 1, Volume: 38400}
		if *r != want {
			t.Errorf("report %+v, want %+v", *r, want)
		}
		if p := r.Problems(); len(p) != 0 {
			t.Errorf("Problems() = %q, want none", p)
		}
	})
	t.Run("open", func(t *testing.T) {
		fakeTools(t, "open")
		r, err := CheckAdmesh(t.Context(), stl)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"admesh: 3 facets with an unshared edge", "admesh: 2 edges fixed", "admesh: 1 facets removed", "admesh: 1 normals fixed"}
		if got := r.Problems(); !slices.Equal(got, want) {
			t.Errorf("Problems() = %q, want %q", got, want)
		}
		if r.Facets != 11 || r.Volume != 32000 {
			t.Errorf("Facets, Volume = %d, %v; want 11, 32000 (the file's count, the repair's volume)", r.Facets, r.Volume)
		}
	})
	t.Run("fail", func(t *testing.T) {
		fakeTools(t, "fail")
		_, err := CheckAdmesh(t.Context(), stl)
		checkToolError(t, err, 1, "Couldn't open "+stl)
	})
	t.Run("garbage", func(t *testing.T) {
		fakeTools(t, "garbage")
		_, err := CheckAdmesh(t.Context(), stl)
		checkToolError(t, err, 0, "empty file")
	})
	t.Run("slow", func(t *testing.T) {
		fakeTools(t, "slow")
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := CheckAdmesh(ctx, stl)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > toolWaitDelay {
			t.Errorf("returned after %v, want the interrupt to end it at once", d)
		}
	})
	t.Run("missing", func(t *testing.T) {
		fakeTools(t, "")
		if _, err := CheckAdmesh(t.Context(), stl); !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("error %v, want exec.ErrNotFound", err)
		}
	})
}

func TestCheckPrusaSlicerFake(t *testing.T) {
	model := filepath.Join(t.TempDir(), "-x.stl")
	t.Run("good", func(t *testing.T) {
		fakeTools(t, "good")
		dir := filepath.Join(t.TempDir(), "made")
		r, err := CheckPrusaSlicer(t.Context(), model, dir)
		if err != nil {
			t.Fatal(err)
		}
		if p := r.Problems(); len(p) != 0 {
			t.Errorf("Problems() = %q, want none", p)
		}
		if r.GCode != filepath.Join(dir, "-x.gcode") || r.Layers != 2 || !r.Manifold || r.Parts != 1 || r.Volume != 38400 {
			t.Errorf("report %+v, want %s, 2 layers, manifold, 1 part, volume 38400", *r, filepath.Join(dir, "-x.gcode"))
		}
	})
	t.Run("open", func(t *testing.T) {
		fakeTools(t, "open")
		r, err := CheckPrusaSlicer(t.Context(), model, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			"prusa-slicer: not manifold, 1 open edges",
			"prusa-slicer: 2 edges fixed",
			"prusa-slicer: 1 facets removed",
			"prusa-slicer: print warning: Empty layer between 0.35 and 12.05. Object name: open2.stl Make sure the object is printable. This is usually caused by negligibly small extrusions or by a faulty model. Try to repair the model or change its orientation on the bed.",
			"prusa-slicer: [error] stl_open_count_facets: The input is an empty file: junk.stl",
			"prusa-slicer: Flow::spacing() produced negative spacing. Did you set some extrusion width too small?",
		}
		if got := r.Problems(); !slices.Equal(got, want) {
			t.Errorf("Problems() =\n%q\nwant\n%q", got, want)
		}
	})
	t.Run("stale G-code", func(t *testing.T) {
		fakeTools(t, "no G-code")
		dir := t.TempDir()
		writeTemp(t, dir, "-x.gcode", []byte(";LAYER_CHANGE\n"))
		_, err := CheckPrusaSlicer(t.Context(), model, dir)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("abort", func(t *testing.T) {
		fakeTools(t, "abort")
		_, err := CheckPrusaSlicer(t.Context(), model, t.TempDir())
		checkToolError(t, err, 134, "Objects could not fit on the bed")
	})
	t.Run("fail", func(t *testing.T) {
		fakeTools(t, "fail")
		_, err := CheckPrusaSlicer(t.Context(), model, t.TempDir())
		checkToolError(t, err, 1, "Couldn't open")
	})
	t.Run("missing", func(t *testing.T) {
		fakeTools(t, "")
		if _, err := CheckPrusaSlicer(t.Context(), model, t.TempDir()); !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("error %v, want exec.ErrNotFound", err)
		}
	})
}

func TestParseAdmeshIncomplete(t *testing.T) {
	for _, tc := range []struct{ name, out, want string }{
		{"no table", strings.Split(admeshGood, "=========")[0], "no report"},
		{"no parts", strings.Replace(admeshGood, "Number of parts", "Number of bits", 1), `"Number of parts"`},
		{"bad volume", strings.Replace(admeshGood, "38400.000000", "x", 1), `volume "x"`},
		{"no normals", strings.Replace(admeshGood, "Normals fixed ", "", 1), `"Normals fixed"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseAdmesh([]byte(tc.out))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseAdmesh: error %v, want one naming %s", err, tc.want)
			}
		})
	}
	// A header that looks like figures is printed before the table.
	r, err := parseAdmesh([]byte(strings.Replace(admeshGood, "Header             : test", "Header             : \nNumber of facets : 0\nEdges fixed : 7", 1)))
	if err != nil || r.Facets != 12 || r.EdgesFixed != 0 {
		t.Errorf("parseAdmesh with a header of figures: %v, %+v; want 12 facets, no edge fixed", err, r)
	}
}

func FuzzParseAdmesh(f *testing.F) {
	f.Add(admeshGood)
	f.Add(admeshOpen)
	f.Fuzz(func(t *testing.T, out string) {
		r, err := parseAdmesh([]byte(out))
		if err == nil {
			r.Problems()
		}
	})
}

func FuzzPrusaSlicerOutput(f *testing.F) {
	f.Add(slicerInfoOpen)
	f.Add(slicerWarned)
	f.Fuzz(func(t *testing.T, out string) {
		var r SlicerReport
		if r.parseInfo([]byte(out)) == nil {
			r.Problems()
		}
		slicerWarnings(out)
	})
}
