package eval

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/synth"
)

// bracketSpec is the sample part: an 80 × 40 × 12 mm plate on the sheet,
// centred on the origin, with two through holes of radius 4 at x = ±25.
func bracketSpec() *synth.Spec {
	hole := func(x float64) synth.Solid {
		return synth.Solid{Cylinder: &synth.Cylinder{Center: [3]float64{x, 0, 6}, Axis: [3]float64{0, 0, 1}, Radius: 4, Height: 20}}
	}
	return &synth.Spec{Name: "bracket", Units: "mm", Solid: synth.Solid{Difference: []synth.Solid{
		{Box: &synth.Box{Center: [3]float64{0, 0, 6}, Size: [3]float64{80, 40, 12}}},
		hole(-25), hole(25),
	}}}
}

// mustTruth renders a minimal capture of spec (one 16 × 16 photo, no
// sheet) into a temporary folder, for its groundtruth.json and
// groundtruth.stl in cells of cell mm, and returns the folder.
func mustTruth(tb testing.TB, spec *synth.Spec, cell float64) string {
	tb.Helper()
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.Width, o.Height, o.Markers, o.MeshCell = 1, 1, 16, 16, false, cell
	dir := tb.TempDir()
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		tb.Fatalf("synth.Generate(%s): %v", spec.Name, err)
	}
	return dir
}

// solidBuilder puts a cad.Solid together face by face: a straight edge is
// made on its first use and used backwards on its second.
type solidBuilder struct {
	s     cad.Solid
	lines map[[2]int]int // (V0, V1) → edge
}

func (b *solidBuilder) vertex(p r3.Vec) int {
	b.s.Vertices = append(b.s.Vertices, p)
	return len(b.s.Vertices) - 1
}

// line returns the use of the straight edge from vertex v to vertex w.
func (b *solidBuilder) line(v, w int) cad.OrientedEdge {
	if e, ok := b.lines[[2]int{w, v}]; ok {
		return cad.OrientedEdge{Edge: e, Forward: false}
	}
	b.s.Edges = append(b.s.Edges, cad.Edge{V0: v, V1: w})
	b.lines[[2]int{v, w}] = len(b.s.Edges) - 1
	return cad.OrientedEdge{Edge: len(b.s.Edges) - 1, Forward: true}
}

// circle returns a full circle of radius r about +z through vertex v.
func (b *solidBuilder) circle(v int, centre r3.Vec, r float64) int {
	b.s.Edges = append(b.s.Edges, cad.Edge{V0: v, V1: v, Curve: &cad.Circle{Centre: centre, Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: r}})
	return len(b.s.Edges) - 1
}

// loop returns the straight edges round the vertices vs.
func (b *solidBuilder) loop(vs ...int) []cad.OrientedEdge {
	var l []cad.OrientedEdge
	for i, v := range vs {
		l = append(l, b.line(v, vs[(i+1)%len(vs)]))
	}
	return l
}

// testHole is a vertical through hole of the test bracket.
type testHole struct{ x, r float64 }

// bracketSolid returns the bracket as an exact solid: the box
// [−40, 40] × [−20, 20] × [0, top] with vertical through holes.
func bracketSolid(top float64, holes ...testHole) *cad.Solid {
	b := &solidBuilder{s: cad.Solid{Name: "bracket"}, lines: map[[2]int]int{}}
	var v [8]int
	for i, p := range [8][3]float64{
		{-40, -20, 0}, {40, -20, 0}, {40, 20, 0}, {-40, 20, 0},
		{-40, -20, top}, {40, -20, top}, {40, 20, top}, {-40, 20, top},
	} {
		v[i] = b.vertex(v3(p))
	}
	plane := func(o, n, x r3.Vec) *cad.Plane { return &cad.Plane{Origin: o, Normal: n, XDir: x} }
	ex, ey, ez := r3.Vec{X: 1}, r3.Vec{Y: 1}, r3.Vec{Z: 1}
	bottom := [][]cad.OrientedEdge{b.loop(v[0], v[3], v[2], v[1])}
	topLoops := [][]cad.OrientedEdge{b.loop(v[4], v[5], v[6], v[7])}
	var walls []cad.Face
	for _, h := range holes {
		c0, c1 := r3.Vec{X: h.x}, r3.Vec{X: h.x, Z: top}
		lo, hi := b.vertex(r3.Vec{X: h.x + h.r}), b.vertex(r3.Vec{X: h.x + h.r, Z: top})
		cb, ct := b.circle(lo, c0, h.r), b.circle(hi, c1, h.r)
		seam := b.line(lo, hi)
		// Loops run counter-clockwise seen from outside the solid: the
		// holes clockwise in the top face, seen from above, and
		// counter-clockwise in the bottom one; the wall, seen from the
		// axis, goes backwards round the bottom circle and forwards round
		// the top one.
		bottom = append(bottom, []cad.OrientedEdge{{Edge: cb, Forward: true}})
		topLoops = append(topLoops, []cad.OrientedEdge{{Edge: ct, Forward: false}})
		walls = append(walls, cad.Face{
			Surface: &cad.Cylinder{Origin: c0, Axis: ez, XDir: ex, Radius: h.r},
			Bounds:  [][]cad.OrientedEdge{{{Edge: cb, Forward: false}, seam, {Edge: ct, Forward: true}, {Edge: seam.Edge, Forward: false}}},
		})
	}
	b.s.Faces = []cad.Face{
		{Surface: plane(r3.Vec{}, r3.Scale(-1, ez), ex), Bounds: bottom, SameSense: true},
		{Surface: plane(r3.Vec{Z: top}, ez, ex), Bounds: topLoops, SameSense: true},
		{Surface: plane(r3.Vec{Y: -20}, r3.Scale(-1, ey), ex), Bounds: [][]cad.OrientedEdge{b.loop(v[0], v[1], v[5], v[4])}, SameSense: true},
		{Surface: plane(r3.Vec{X: 40}, ex, ey), Bounds: [][]cad.OrientedEdge{b.loop(v[1], v[2], v[6], v[5])}, SameSense: true},
		{Surface: plane(r3.Vec{Y: 20}, ey, ex), Bounds: [][]cad.OrientedEdge{b.loop(v[2], v[3], v[7], v[6])}, SameSense: true},
		{Surface: plane(r3.Vec{X: -40}, r3.Scale(-1, ex), ey), Bounds: [][]cad.OrientedEdge{b.loop(v[3], v[0], v[4], v[7])}, SameSense: true},
	}
	b.s.Faces = append(b.s.Faces, walls...)
	return &b.s
}

// writeSTEP writes s to dir/name and returns the path.
func writeSTEP(tb testing.TB, dir, name string, s *cad.Solid) string {
	tb.Helper()
	if err := s.Validate(); err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	var buf bytes.Buffer
	if err := cad.WriteSTEP(&buf, s); err != nil {
		tb.Fatalf("writing %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// mustBracketTruth returns the folder of the bracket's truth, made as
// `replica synth` makes it (0.5 mm cells).
func mustBracketTruth(tb testing.TB) string {
	tb.Helper()
	return mustTruth(tb, bracketSpec(), 0.5)
}

func TestEvaluateCAD(t *testing.T) {
	truthDir := mustBracketTruth(t)
	stl := filepath.Join(truthDir, "groundtruth.stl")
	dir := t.TempDir()
	spec := bracketSpec()
	// The exact bracket encloses 80·40·12 − 2·π·4²·12 mm³; the true
	// surface bevels its edges within a 0.5 mm cell and falls short by
	// a few hundredths of a per cent.
	for _, tc := range []struct {
		name                            string
		solid                           *cad.Solid
		types, offsets, holesOK, volume bool
		topOffset, holeError            float64 // of the +z plane and the hole at x = 25
		recovered                       int     // of the 8 counted surfaces
	}{
		{"truth", bracketSolid(12, testHole{-25, 4}, testHole{25, 4}), true, true, true, true, 0, 0, 8},
		{"top 0.1 mm high", bracketSolid(12.1, testHole{-25, 4}, testHole{25, 4}), true, false, true, true, 0.1, 0, 8},
		{"hole 0.1 mm wide", bracketSolid(12, testHole{-25, 4}, testHole{25, 4.05}), true, true, false, true, 0, 0.1, 8},
		{"hole missing", bracketSolid(12, testHole{-25, 4}), false, true, false, false, 0, math.NaN(), 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeSTEP(t, dir, strings.ReplaceAll(tc.name, " ", "-")+".step", tc.solid)
			r, err := EvaluateCAD(path, spec, stl)
			if err != nil {
				t.Fatalf("EvaluateCAD() = %v", err)
			}
			if r.Model != path || r.Faces != len(tc.solid.Faces) || r.Freeform != 0 || r.Surfaces[kindPlane] != 6 {
				t.Errorf("model %q, %d faces (%v, %d freeform); want %q, %d faces, 6 planes", r.Model, r.Faces, r.Surfaces, r.Freeform, path, len(tc.solid.Faces))
			}
			if r.TypesOK != tc.types || r.OffsetsOK != tc.offsets || r.HolesOK != tc.holesOK || r.VolumeOK != tc.volume ||
				r.Pass != (tc.types && tc.offsets && tc.holesOK && tc.volume) {
				t.Errorf("types, offsets, holes, volume, pass = %v, %v, %v, %v, %v; want %v, %v, %v, %v",
					r.TypesOK, r.OffsetsOK, r.HolesOK, r.VolumeOK, r.Pass, tc.types, tc.offsets, tc.holesOK, tc.volume)
			}
			counted, recovered := 0, 0
			for _, ts := range r.TrueSurfaces {
				if !ts.Counted {
					t.Errorf("surface %+v: not counted, want every surface of the bracket counted", ts)
					continue
				}
				counted++
				if !ts.Recovered {
					continue
				}
				recovered++
				m := ts.Match
				top := ts.Type == kindPlane && ts.Axis == [3]float64{0, 0, 1}
				hole := ts.Type == kindCylinder && ts.Point[0] > 0
				switch {
				case ts.Type == kindPlane:
					want := 0.0
					if top {
						want = tc.topOffset
					}
					// Some triangles along the holes' rims, on the
					// plane within cadOnSurface, have a corner a few
					// µm off it.
					if math.Abs(m.OffsetError-want) > 1e-5 || m.AngleError > 1e-6 || m.MaxDeviation > want+0.005 {
						t.Errorf("%s: offset %g mm, tilt %g°, %g mm at worst; want %g mm, 0°", ts.describe(), m.OffsetError, m.AngleError, m.MaxDeviation, want)
					}
				case ts.Type == kindCylinder:
					want := 0.0
					if hole {
						want = tc.holeError
					}
					if !ts.Hole || math.Abs(m.DiameterError-want) > 1e-9 || m.AxisOffset > 1e-6 || m.AngleError > 1e-6 {
						t.Errorf("%s: hole %v, diameter %+g mm, axis %g mm off, %g°; want a hole %+g mm", ts.describe(), ts.Hole, m.DiameterError, m.AxisOffset, m.AngleError, want)
					}
				default:
					t.Errorf("surface %+v: want planes and cylinders only", ts)
				}
				// Every surface but the walls of the holes has 10 % of
				// the area or more; each wall, 2π·4·12 mm² of about
				// 9700: 3.1 %, less what the bevels take.
				if lo := map[string]float64{kindPlane: 0.045, kindCylinder: 0.029}[ts.Type]; ts.Share < lo {
					t.Errorf("%s: share %.4f, want ≥ %g", ts.describe(), ts.Share, lo)
				}
			}
			if counted != 8 || recovered != tc.recovered {
				t.Errorf("%d surfaces counted, %d recovered; want 8, %d", counted, recovered, tc.recovered)
			}
			if len(r.Holes) != 2 {
				t.Errorf("holes = %+v, want 2", r.Holes)
			}
			top := tc.solid.Vertices[4].Z
			exact := 80 * 40 * top
			for _, f := range tc.solid.Faces {
				if c, ok := f.Surface.(*cad.Cylinder); ok {
					exact -= math.Pi * c.Radius * c.Radius * top
				}
			}
			if math.Abs(r.Volume-exact) > 1e-3*exact {
				t.Errorf("volume %g mm³, want %g", r.Volume, exact)
			}
			if tc.name == "truth" && math.Abs(r.VolumeErrorPct) > 0.1 {
				t.Errorf("volume error %+.3f%% of the true %g mm³, want within ±0.1%%", r.VolumeErrorPct, r.TrueVolume)
			}
			var text bytes.Buffer
			r.Print(&text)
			t.Logf("%s", text.String())
		})
	}
}

// TestEvaluateCADPrint checks the person's summary of a solid with a hole
// too wide and one missing.
func TestEvaluateCADPrint(t *testing.T) {
	stl := filepath.Join(mustBracketTruth(t), "groundtruth.stl")
	path := writeSTEP(t, t.TempDir(), "model.step", bracketSolid(12, testHole{25, 4.05}))
	r, err := EvaluateCAD(path, bracketSpec(), stl)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	r.Print(&text)
	for _, want := range []string{
		"CAD solid model.step: 7 faces (6 planes, 1 cylinder, 0 freeform facets); pass: false\n",
		"  plane normal (0.000, 0.000, 1.000) through (",
		"offset +0.000 mm, tilt 0.000°, 0.000 mm at worst: ok\n",
		"  hole Ø8.000 mm axis (0.000, 0.000, 1.000) through (25.00, 0.00, ",
		"Ø8.100 mm (+0.100 mm), axis 0.000 mm off, tilt 0.000°, 0.050 mm at worst: FAIL\n",
		"  hole Ø8.000 mm axis (0.000, 0.000, 1.000) through (-25.00, 0.00, ",
		"of the surface: NOT recovered: FAIL\n",
		"recovered with its type (7 of 8): FAIL\n",
		"  budget: plane offsets within ±0.05 mm (6 of 6 recovered, worst ",
		"  budget: hole diameters within ±0.05 mm (1 of 2 recovered, worst +0.100 mm): FAIL\n",
		"of the true 3718", "(within ±1%): FAIL\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("Print() = %q, want it to hold %q", text.String(), want)
		}
	}
}

// TestEvaluateOutputCAD checks how the STEP is found in an output folder:
// report.json's outputs, else model.step, else none; and that a STEP that
// cannot be read gives a section that says so.
func TestEvaluateOutputCAD(t *testing.T) {
	truthDir := mustBracketTruth(t)
	truth := filepath.Join(truthDir, "groundtruth.json")
	good := bracketSolid(12, testHole{-25, 4}, testHole{25, 4})

	out := t.TempDir()
	if r := EvaluateOutputCAD(out, truth); r != nil {
		t.Errorf("EvaluateOutputCAD(no STEP) = %+v, want nil", r)
	}
	writeSTEP(t, out, STEPFile, good)
	if r := EvaluateOutputCAD(out, truth); r == nil || r.Error != "" || !r.Pass || r.Model != filepath.Join(out, STEPFile) {
		t.Errorf("EvaluateOutputCAD(model.step) = %+v, want a pass of model.step", r)
	}

	// report.json names the file; a name that is not there is an error.
	writeSTEP(t, out, "part.step", good)
	report := func(step string) {
		b, _ := json.Marshal(map[string]any{"format": "replica-process/1", "outputs": map[string]string{"step": step, "stl": "model.stl"}})
		if err := os.WriteFile(filepath.Join(out, "report.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	report("part.step")
	if r := EvaluateOutputCAD(out, truth); r == nil || r.Error != "" || r.Model != filepath.Join(out, "part.step") {
		t.Errorf("EvaluateOutputCAD(outputs.step = part.step) = %+v, want part.step measured", r)
	}
	report("gone.step")
	if r := EvaluateOutputCAD(out, truth); r == nil || !strings.Contains(r.Error, "gone.step") {
		t.Errorf("EvaluateOutputCAD(outputs.step = gone.step) = %+v, want an error naming gone.step", r)
	}

	// A STEP that is not one, and a truth that cannot be read.
	if err := os.WriteFile(filepath.Join(out, "bad.step"), []byte("ISO-10303-21;\nHEADER;\nnot a step file"), 0o644); err != nil {
		t.Fatal(err)
	}
	report("bad.step")
	r := EvaluateOutputCAD(out, truth)
	if r == nil || !strings.Contains(r.Error, "STEP bad.step: cad: STEP line") {
		t.Fatalf("EvaluateOutputCAD(bad.step) = %+v, want a STEP syntax error", r)
	}
	var text bytes.Buffer
	r.Print(&text)
	if !strings.HasPrefix(text.String(), "CAD solid bad.step: cannot be measured: STEP bad.step: cad: STEP line") {
		t.Errorf("Print() = %q", text.String())
	}
	if b, err := json.Marshal(r); err != nil || !strings.Contains(string(b), `"error":"STEP bad.step: cad: STEP line`) {
		t.Errorf("JSON = %s, %v; want the error", b, err)
	}
	report("part.step")
	if r := EvaluateOutputCAD(out, filepath.Join(out, "none.json")); r == nil || !strings.Contains(r.Error, "truth") {
		t.Errorf("EvaluateOutputCAD(no truth) = %+v, want an error about the truth", r)
	}
}

// TestCADTrueSurfaces checks the surfaces of a tree that rotates and
// translates its nodes against values worked out by hand.
func TestCADTrueSurfaces(t *testing.T) {
	// Turned 90° about z (x → y, y → −x), then moved by (10, 0, 0): the
	// box's centre (5, 0, 2) goes to (10, 5, 2), its +x face to the plane
	// y = 6 facing +y; the cylinder's axis x to y through (10, 0, 0).
	// The third box, moved to (10, 0, 20), is turned 90° about x about its
	// own centre first (y → z, z → −y), then with the rest: its x, y and z
	// faces face y, z and x, half its sizes (0.5, 1, 1.5) from the centre.
	spec := &synth.Spec{Name: "t", Units: "mm", Solid: synth.Solid{
		Rotate:    &synth.Rotation{Axis: [3]float64{0, 0, 1}, Degrees: 90},
		Translate: &[3]float64{10, 0, 0},
		Union: []synth.Solid{
			{Box: &synth.Box{Center: [3]float64{5, 0, 2}, Size: [3]float64{2, 4, 6}}},
			{Cylinder: &synth.Cylinder{Center: [3]float64{0, 0, 0}, Axis: [3]float64{2, 0, 0}, Radius: 1, Height: 4}},
			{Translate: &[3]float64{0, 0, 20}, Box: &synth.Box{Size: [3]float64{1, 2, 3}, Rotate: &synth.Rotation{Axis: [3]float64{1, 0, 0}, Degrees: 90}}},
			{Cone: &synth.Cone{Center: [3]float64{0, 0, 10}, Axis: [3]float64{0, 0, 1}, Radius1: 2, Radius2: 0, Height: 4}},
		},
	}}
	ss := trueSurfaces(spec)
	find := func(src string) *trueSurface {
		for i := range ss {
			if ss[i].src == src {
				return &ss[i]
			}
		}
		t.Fatalf("no surface %q in %+v", src, ss)
		return nil
	}
	near := func(a, b r3.Vec) bool { return r3.Norm(r3.Sub(a, b)) < 1e-9 }
	if len(ss) != 6+3+6+2 {
		t.Errorf("%d surfaces, want 17: 6 per box, 3 for the cylinder, 2 for the cone (no cap at its tip)", len(ss))
	}
	for _, tc := range []struct {
		src  string
		kind string
		on   r3.Vec // a point of the surface
		a    r3.Vec
		r    float64
	}{
		{"solid.union[0].box +x", kindPlane, r3.Vec{X: 10, Y: 6, Z: 2}, r3.Vec{Y: 1}, 0},
		{"solid.union[0].box −y", kindPlane, r3.Vec{X: 12, Y: 5, Z: 2}, r3.Vec{X: 1}, 0},
		{"solid.union[0].box +z", kindPlane, r3.Vec{X: 10, Y: 5, Z: 5}, r3.Vec{Z: 1}, 0},
		{"solid.union[1].cylinder side", kindCylinder, r3.Vec{X: 11, Y: 0.5}, r3.Vec{Y: 1}, 1},
		{"solid.union[1].cylinder +cap", kindPlane, r3.Vec{X: 10, Y: 2}, r3.Vec{Y: 1}, 0},
		{"solid.union[1].cylinder −cap", kindPlane, r3.Vec{X: 10, Y: -2}, r3.Vec{Y: -1}, 0},
		{"solid.union[2].box +x", kindPlane, r3.Vec{X: 10, Y: 0.5, Z: 20}, r3.Vec{Y: 1}, 0},
		{"solid.union[2].box +y", kindPlane, r3.Vec{X: 10, Z: 21}, r3.Vec{Z: 1}, 0},
		{"solid.union[2].box +z", kindPlane, r3.Vec{X: 11.5, Z: 20}, r3.Vec{X: 1}, 0},
		// The cone narrows from radius 2 at z = 8 to 0 at z = 12: its
		// apex is at (10, 0, 12) and it opens downwards at atan(1/2).
		{"solid.union[3].cone side", kindCone, r3.Vec{X: 10, Z: 12}, r3.Vec{Z: -1}, 0},
		{"solid.union[3].cone −cap", kindPlane, r3.Vec{X: 10, Z: 8}, r3.Vec{Z: -1}, 0},
	} {
		s := find(tc.src)
		if s.kind != tc.kind || !near(s.a, tc.a) || math.Abs(s.r-tc.r) > 1e-12 {
			t.Errorf("%s: %s axis %v radius %g, want %s axis %v radius %g", tc.src, s.kind, s.a, s.r, tc.kind, tc.a, tc.r)
		}
		if tc.kind == kindCone {
			if !near(s.p, tc.on) || math.Abs(s.semi-math.Atan(0.5)) > 1e-12 {
				t.Errorf("%s: apex %v, semi-angle %g; want %v, atan(1/2)", tc.src, s.p, s.semi, tc.on)
			}
		} else if d := s.dist(tc.on); d > 1e-9 {
			t.Errorf("%s: %v is %g mm off it, want on it", tc.src, tc.on, d)
		}
	}
	// The third box's bounds: 3 × 1 × 2 about (10, 0, 20).
	if b := find("solid.union[2].box −x").bounds; !near(b.Min, r3.Vec{X: 8.5, Y: -0.5, Z: 19}) || !near(b.Max, r3.Vec{X: 11.5, Y: 0.5, Z: 21}) {
		t.Errorf("turned box's bounds %+v, want (8.5, −0.5, 19)–(11.5, 0.5, 21)", b)
	}
	if g := mergeSurfaces(ss); len(g) != len(ss) {
		t.Errorf("%d surfaces merged into %d, want none merged", len(ss), len(g))
	}
}

// TestCADTrueSurfacesOnSynth checks trueSurfaces against pipeline/synth's
// own CSG, through the surface it extracts: on a tree that turns and moves
// its nodes, every true triangle but the bevels along the edges lies on one
// of the surfaces, each where its share by area says, and the surfaces two
// primitives share are merged.
func TestCADTrueSurfacesOnSynth(t *testing.T) {
	if testing.Short() {
		t.Skip("renders a capture")
	}
	// A 30 × 20 × 10 block turned 30° about z and moved, with a 25°
	// tilted boss on top (a box turned about its own centre), a cone
	// hollowed out of it and a ball at one corner.
	spec := &synth.Spec{Name: "turned", Units: "mm", Solid: synth.Solid{
		Translate: &[3]float64{3, -2, 0},
		Rotate:    &synth.Rotation{Axis: [3]float64{0, 0, 1}, Degrees: 30},
		Difference: []synth.Solid{
			{Union: []synth.Solid{
				{Box: &synth.Box{Center: [3]float64{0, 0, 5}, Size: [3]float64{30, 20, 10}}},
				{Translate: &[3]float64{-6, 0, 10}, Box: &synth.Box{Size: [3]float64{10, 10, 6}, Rotate: &synth.Rotation{Axis: [3]float64{0, 1, 0}, Degrees: 25}}},
				{Sphere: &synth.Sphere{Center: [3]float64{15, 10, 10}, Radius: 4}},
			}},
			{Rotate: &synth.Rotation{Axis: [3]float64{1, 0, 0}, Degrees: 180}, Translate: &[3]float64{8, 0, 7},
				Cone: &synth.Cone{Axis: [3]float64{0, 0, 1}, Radius1: 5, Radius2: 2, Height: 6}},
		},
	}}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := mustTruth(t, spec, 0.25)
	m, err := readSTL(filepath.Join(dir, "groundtruth.stl"))
	if err != nil {
		t.Fatal(err)
	}
	gs := mergeSurfaces(trueSurfaces(spec))
	on := classify(m, gs)
	var sum float64
	for k, g := range gs {
		sum += on.area[k]
		if on.area[k] > 0 {
			t.Logf("%-8s %5.2f%% sense %+.2f %v", g.kind, 100*on.area[k]/on.total, on.sense[k]/on.area[k], g.sources)
		}
		// Every surface is wholly on one side: the triangles' normals
		// agree on its sense.
		if math.Abs(on.sense[k]) < 0.99*on.area[k] {
			t.Errorf("%v: %g mm² agree with its normal of %g mm²; want all or none", g.sources, on.sense[k], on.area[k])
		}
	}
	// The bevels along the edges, within a 0.25 mm cell, take about 3 %.
	if share := sum / on.total; share < 0.96 {
		t.Errorf("%.1f%% of the true surface lies on the spec's surfaces, want ≥ 96%%", 100*share)
	}
	var cone, merged *surfaceGroup
	var coneArea float64
	for k := range gs {
		switch {
		case gs[k].kind == kindCone:
			cone, coneArea = &gs[k], on.area[k]
			cone.sense = math.Copysign(1, on.sense[k])
		case len(gs[k].sources) > 1:
			merged = &gs[k]
		}
	}
	// The cone, turned over with its centre at z = 7, is a conical hole
	// 6 mm deep: its wide end (radius 5) in the top face, z = 10, its apex
	// 6·5/3 = 10 mm below that, its side's area π(5 + 2)·√(3² + 6²).
	apex := r3.Vec{X: 3 + 8*math.Cos(math.Pi/6), Y: -2 + 8*math.Sin(math.Pi/6), Z: 0}
	if cone == nil || r3.Norm(r3.Sub(cone.p, apex)) > 1e-9 || cone.a.Z < 0.999999 || cone.sense != -1 {
		t.Errorf("cone %+v, want a hole with apex %v opening upwards", cone, apex)
	} else if want := math.Pi * 7 * math.Sqrt(45); coneArea < 0.94*want || coneArea > want {
		t.Errorf("cone's area %g mm², want a little under %g", coneArea, want)
	}
	// The block's top and the cone's wide cap are one plane, z = 10.
	if merged == nil || merged.kind != kindPlane || math.Abs(merged.p.Z-10) > 1e-9 {
		t.Errorf("merged %+v, want the plane z = 10", merged)
	}
}

// TestMeasureCADErrors checks the inputs MeasureCAD and EvaluateCAD refuse.
func TestMeasureCADErrors(t *testing.T) {
	inside := partBox(nil)
	for i, f := range inside.Faces {
		inside.Faces[i] = [3]int32{f[0], f[2], f[1]}
	}
	if _, err := MeasureCAD(bracketSolid(12), bracketSpec(), inside); err == nil || !strings.Contains(err.Error(), "encloses a volume") {
		t.Errorf("MeasureCAD(inside-out truth) = %v, want an error about its volume", err)
	}
	if _, err := MeasureCAD(nil, bracketSpec(), inside); err == nil {
		t.Error("MeasureCAD(nil solid) succeeded")
	}
	stl := filepath.Join(mustBracketTruth(t), "groundtruth.stl")
	if _, err := EvaluateCAD(filepath.Join(t.TempDir(), "none.step"), bracketSpec(), stl); err == nil || !strings.Contains(err.Error(), "none.step") {
		t.Errorf("EvaluateCAD(missing STEP) = %v, want an error naming it", err)
	}
	if _, err := EvaluateCAD("x.step", bracketSpec(), filepath.Join(t.TempDir(), "none.stl")); err == nil || !strings.Contains(err.Error(), "none.stl") {
		t.Errorf("EvaluateCAD(missing truth) = %v, want an error naming it", err)
	}
}
