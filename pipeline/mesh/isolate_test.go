package mesh

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

// bracketLoops returns the built-in sample's outline at height z: the 80 ×
// 40 mm rectangle counter-clockwise seen from above, its sides cut every
// 2 mm, and the two r = 4 holes at x = ±25 as clockwise n-gons.
func bracketLoops(m *geom.Mesh, z float64, n int) [][]int32 {
	add := func(x, y float64) int32 {
		m.Vertices = append(m.Vertices, geom.Vec{X: x, Y: y, Z: z})
		return int32(len(m.Vertices) - 1)
	}
	var outer []int32
	corners := [][2]float64{{-40, -20}, {40, -20}, {40, 20}, {-40, 20}}
	for k, a := range corners {
		b := corners[(k+1)%4]
		steps := int(math.Hypot(b[0]-a[0], b[1]-a[1]) / 2)
		for s := range steps {
			t := float64(s) / float64(steps)
			outer = append(outer, add(a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1])))
		}
	}
	loops := [][]int32{outer}
	for _, cx := range []float64{-25, 25} {
		var h []int32
		for k := range n {
			a := -2 * math.Pi * float64(k) / float64(n) // clockwise
			h = append(h, add(cx+4*math.Cos(a), 4*math.Sin(a)))
		}
		loops = append(loops, h)
	}
	return loops
}

// bracket returns the sample part, 80 × 40 × 12 mm with two r = 4 through
// holes (as n-gons), standing on z = 0, its walls cut into layers: a closed,
// outward mesh, and its exact volume.
func bracket(tb testing.TB, layers, n int) (*geom.Mesh, float64) {
	tb.Helper()
	m := &geom.Mesh{}
	var rings [][][]int32
	for i := range layers + 1 {
		rings = append(rings, bracketLoops(m, 12*float64(i)/float64(layers), n))
	}
	for i := range layers {
		for l, lo := range rings[i] {
			hi := rings[i+1][l]
			for k := range lo {
				a, b := lo[k], lo[(k+1)%len(lo)]
				c, d := hi[(k+1)%len(hi)], hi[k]
				m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
			}
		}
	}
	top, err := triangulateBase(m.Vertices, rings[layers])
	if err != nil {
		tb.Fatal(err)
	}
	bottom, err := triangulateBase(m.Vertices, rings[0])
	if err != nil {
		tb.Fatal(err)
	}
	for _, f := range bottom {
		f[1], f[2] = f[2], f[1]
		m.Faces = append(m.Faces, f)
	}
	m.Faces = append(m.Faces, top...)
	hole := float64(n) / 2 * 16 * math.Sin(2*math.Pi/float64(n))
	want := 12 * (80*40 - 2*hole)
	if tp := m.Topology(); !tp.Watertight() {
		tb.Fatalf("the test's bracket is not watertight: %+v", tp)
	}
	if v := m.SignedVolume(); math.Abs(v-want) > 1e-6*want {
		tb.Fatalf("the test's bracket has volume %g, want %g", v, want)
	}
	return m, want
}

// plate returns a flat square grid of side s at height z centred on
// (cx, cy), cells of size c, facing up.
func plate(s, c, cx, cy, z float64) *geom.Mesh {
	n := int(s / c)
	m := &geom.Mesh{}
	for j := range n + 1 {
		for i := range n + 1 {
			m.Vertices = append(m.Vertices, geom.Vec{X: cx - s/2 + float64(i)*c, Y: cy - s/2 + float64(j)*c, Z: z})
		}
	}
	at := func(i, j int) int32 { return int32(j*(n+1) + i) }
	for j := range n {
		for i := range n {
			m.Faces = append(m.Faces, [3]int32{at(i, j), at(i+1, j), at(i+1, j+1)}, [3]int32{at(i, j), at(i+1, j+1), at(i, j+1)})
		}
	}
	return m
}

func TestIsolateBracket(t *testing.T) {
	part, want := bracket(t, 6, 48)
	// The scene: the part, the mat (slightly wavy, under the cut), a
	// floating blob above and a small stub standing beside the part.
	mat := plate(200, 4, 0, 0, 0)
	for i := range mat.Vertices {
		mat.Vertices[i].Z = 0.2 * math.Sin(mat.Vertices[i].X/7)
	}
	blob := shifted(cube(5), geom.Vec{X: 0, Y: 0, Z: 30})
	stub := shifted(gridBox(geom.Vec{X: 3, Y: 3, Z: 5}, 3), geom.Vec{X: 60, Y: 60})
	scene := geom.Join(part, mat, blob, stub)

	iso, rep, err := Isolate(context.Background(), scene, &IsolateOptions{Cut: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if rep.Components != 3 || rep.ComponentsLeft != 2 {
		t.Errorf("%d components, %d removed; want 3 and 2 (part, blob, stub)", rep.Components, rep.ComponentsLeft)
	}
	if rep.BaseLoops != 3 {
		t.Errorf("%d base loops, want 3 (the outline and two holes)", rep.BaseLoops)
	}
	if tp := iso.Topology(); !tp.Watertight() {
		t.Errorf("isolated part not watertight: %+v", tp)
	}
	out, rrep := mustRepair(t, iso, nil)
	if !rrep.Watertight {
		t.Fatalf("repaired part not watertight: %+v", rrep)
	}
	if v := out.SignedVolume(); math.Abs(v-want) > 1e-6*want {
		t.Errorf("volume %g, want %g", v, want)
	}
	b := out.Bounds()
	if s := b.Size(); math.Abs(s.X-80) > 1e-9 || math.Abs(s.Y-40) > 1e-9 || math.Abs(s.Z-12) > 1e-9 || math.Abs(b.Min.Z) > 1e-12 {
		t.Errorf("bounds %v–%v, want 80 × 40 × 12 on z = 0", b.Min, b.Max)
	}
	// The holes go through: no face covers their centres.
	for _, f := range out.Faces {
		a, b, c := out.Vertices[f[0]], out.Vertices[f[1]], out.Vertices[f[2]]
		for _, x := range []float64{-25, 25} {
			p := [2]float64{x, 0}
			pa, pb, pc := [2]float64{a.X, a.Y}, [2]float64{b.X, b.Y}, [2]float64{c.X, c.Y}
			d1, d2, d3 := cross2(pa, pb, p), cross2(pb, pc, p), cross2(pc, pa, p)
			if (d1 > 0 && d2 > 0 && d3 > 0) || (d1 < 0 && d2 < 0 && d3 < 0) {
				t.Fatalf("face %v over the hole at x = %g", f, x)
			}
		}
	}
}

func TestIsolateDefaultCut(t *testing.T) {
	part, want := bracket(t, 24, 32)
	iso, rep, err := Isolate(context.Background(), geom.Join(part, plate(150, 0.5, 0, 0, 0)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !(rep.Cut > 0 && rep.Cut < 3) {
		t.Errorf("default cut %g, want a few edge lengths", rep.Cut)
	}
	out, rrep := mustRepair(t, iso, nil)
	if !rrep.Watertight || math.Abs(out.SignedVolume()-want) > 1e-6*want {
		t.Errorf("watertight %v, volume %g, want %g", rrep.Watertight, out.SignedVolume(), want)
	}
}

func TestIsolateErrors(t *testing.T) {
	ctx := context.Background()
	if _, _, err := Isolate(ctx, &geom.Mesh{}, nil); !errors.Is(err, ErrEmptyMesh) {
		t.Errorf("empty mesh: %v, want ErrEmptyMesh", err)
	}
	if _, _, err := Isolate(ctx, nil, nil); !errors.Is(err, ErrEmptyMesh) {
		t.Errorf("nil mesh: %v, want ErrEmptyMesh", err)
	}
	// Only the mat, or only something floating: no part.
	if _, _, err := Isolate(ctx, plate(100, 2, 0, 0, 0), &IsolateOptions{Cut: 1}); !errors.Is(err, ErrNoPart) {
		t.Errorf("mat alone: %v, want ErrNoPart", err)
	}
	if _, _, err := Isolate(ctx, shifted(cube(5), geom.Vec{Z: 20}), &IsolateOptions{Cut: 1}); !errors.Is(err, ErrNoPart) {
		t.Errorf("floating cube: %v, want ErrNoPart", err)
	}
	bad := &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}}, Faces: [][3]int32{{0, 1, 2}}}
	if _, _, err := Isolate(ctx, bad, nil); err == nil {
		t.Error("face over a missing vertex: no error")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := Isolate(cctx, plate(10, 1, 0, 0, 0), &IsolateOptions{Cut: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// FuzzIsolate: any mesh, the cut anywhere: an error or a valid mesh whose
// every vertex is at or above the mat, never a panic.
func FuzzIsolate(f *testing.F) {
	part := shifted(cube(4), geom.Vec{X: -2, Y: -2})
	f.Add(fuzzBytes(part), byte(4))
	f.Add(fuzzBytes(part), byte(128+4))
	f.Add(fuzzBytes(geom.Join(part, shifted(cube(1), geom.Vec{Z: 8}))), byte(2))
	f.Add(fuzzBytes(tetra()), byte(1))
	f.Add([]byte{}, byte(0))
	f.Fuzz(func(t *testing.T, data []byte, cut byte) {
		m := fuzzMesh(data)
		o := &IsolateOptions{Cut: float64(cut&127) / 8}
		if cut&128 != 0 {
			o.Flatten = &FlattenOptions{}
		}
		out, rep, err := Isolate(context.Background(), m, o)
		if err != nil {
			return
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("Isolate returned an invalid mesh: %v", err)
		}
		if rep.FacesKept != len(out.Faces) || len(out.Faces) == 0 {
			t.Fatalf("%d faces, report says %d", len(out.Faces), rep.FacesKept)
		}
		for i, v := range out.Vertices {
			if v.Z < 0 {
				t.Fatalf("vertex %d at z = %g, under the mat", i, v.Z)
			}
		}
	})
}

// TestIsolateWallGap: two walls and one hole's wall have a gap reaching
// down to the mat. The walls' edges over the gaps are carried down to the
// base, so the walls stand whole and the base is flat and whole; the hole
// still goes through. Joined straight across the gaps instead, the base is
// still flat and Repair closes the gaps above it.
func TestIsolateWallGap(t *testing.T) {
	part, want := bracket(t, 12, 32)
	dropFaces(part, func(x, y, z float64) bool {
		onHole := math.Abs(math.Hypot(x-25, y)-4) < 0.2 // the wall of the hole at x = 25
		return z < 3 && ((math.Abs(y+20) < 1e-9 && x > 10 && x < 16) || (math.Abs(x+40) < 1e-9 && y > -5 && y < 1) ||
			(onHole && y > 0 && x > 25))
	})
	scene := geom.Join(part, plate(150, 2, 0, 0, 0))
	// The join across the hole's gap is the chord of a quarter of its
	// 32-gon: joined straight, the base covers the segment between them.
	segment := 8*(0.5*16*math.Sin(2*math.Pi/32)) - 0.5*16
	for _, tc := range []struct {
		straight           bool
		carried, holes     int
		foot, volumeMargin float64
	}{
		{false, 3, 0, want / 12, 1e-5},
		{true, 0, 3, want/12 + segment, 0.01},
	} {
		iso, rep, err := Isolate(context.Background(), scene, &IsolateOptions{Cut: 1, StraightJoins: tc.straight})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("straight %v: %+v", tc.straight, *rep)
		if rep.OpenOutline != 3 || rep.BaseLoops != 3 || rep.Carried != tc.carried {
			t.Errorf("straight %v: %d gaps, %d carried down, %d base loops; want 3, %d, 3", tc.straight, rep.OpenOutline, rep.Carried, rep.BaseLoops, tc.carried)
		}
		out, rrep := mustRepair(t, iso, nil)
		if !rrep.Watertight || rrep.HolesFilled != tc.holes || rrep.SelfIntersectionsLeft != 0 {
			t.Errorf("straight %v: watertight %v, %d holes filled, %d crossings; want true, %d (the gaps above the base), 0",
				tc.straight, rrep.Watertight, rrep.HolesFilled, rrep.SelfIntersectionsLeft, tc.holes)
		}
		if v := out.SignedVolume(); math.Abs(v-want) > tc.volumeMargin*want {
			t.Errorf("straight %v: volume %g, want %g ± %g%%", tc.straight, v, want, 100*tc.volumeMargin)
		}
		// The base: every face on z = 0 faces down, and together they
		// cover the part's footprint.
		if base := baseArea(out); math.Abs(-base-tc.foot) > 1e-3*tc.foot {
			t.Errorf("straight %v: flat base of area %g (negative: facing down), want -%g", tc.straight, base, tc.foot)
		}
	}
}

// dropFaces removes m's faces whose centroid (x, y, z) gap reports.
func dropFaces(m *geom.Mesh, gap func(x, y, z float64) bool) {
	kept := m.Faces[:0]
	for _, f := range m.Faces {
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		if !gap((a.X+b.X+c.X)/3, (a.Y+b.Y+c.Y)/3, (a.Z+b.Z+c.Z)/3) {
			kept = append(kept, f)
		}
	}
	m.Faces = kept
}

// baseArea returns the signed area, in the xy plane, of m's faces on
// z = 0 (within a µm: Repair may nudge a vertex off it, see
// separateCopies): negative when they face down.
func baseArea(m *geom.Mesh) float64 {
	var base float64
	for _, f := range m.Faces {
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		if max(math.Abs(a.Z), math.Abs(b.Z), math.Abs(c.Z)) > 1e-3 {
			continue
		}
		base += ((b.X-a.X)*(c.Y-a.Y) - (b.Y-a.Y)*(c.X-a.X)) / 2
	}
	return base
}

// TestIsolateMissingWalls: as photos from one ring above a part often
// leave it, the reconstruction lost the lower three quarters of two whole
// walls, up to a ragged edge (the left and the back, and the corner
// between them). Their edge is carried straight down: the part keeps its
// footprint and volume, on one flat base.
func TestIsolateMissingWalls(t *testing.T) {
	part, want := bracket(t, 12, 32)
	dropFaces(part, func(x, y, z float64) bool {
		edge := 8 + 2.5*math.Sin(x/3+y/5) // the ragged edge, 5.5 to 10.5 mm up
		return z < edge && (math.Abs(x+40) < 1e-9 || math.Abs(y-20) < 1e-9)
	})
	iso, rep, err := Isolate(context.Background(), geom.Join(part, plate(150, 2, 0, 0, 0)), &IsolateOptions{Cut: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *rep)
	if rep.OpenOutline != 1 || rep.Carried != 1 || rep.BaseLoops != 3 {
		t.Errorf("%d gaps, %d carried down, %d base loops; want 1, 1, 3", rep.OpenOutline, rep.Carried, rep.BaseLoops)
	}
	out, rrep := mustRepair(t, iso, nil)
	if !rrep.Watertight || rrep.HolesFilled != 0 || rrep.SelfIntersectionsLeft != 0 {
		t.Errorf("watertight %v, %d holes filled, %d crossings; want true, 0, 0", rrep.Watertight, rrep.HolesFilled, rrep.SelfIntersectionsLeft)
	}
	if v := out.SignedVolume(); math.Abs(v-want) > 1e-5*want {
		t.Errorf("volume %g, want %g", v, want)
	}
	if base, foot := baseArea(out), want/12; math.Abs(-base-foot) > 1e-3*foot {
		t.Errorf("flat base of area %g (negative: facing down), want -%g", base, foot)
	}
	if b := out.Bounds(); b.Min.X != -40 || b.Max.X != 40 || b.Min.Y != -20 || b.Max.Y != 20 || b.Min.Z != 0 || b.Max.Z != 12 {
		t.Errorf("bounds %+v, want the part's", b)
	}
}

// TestPrintableSlopedGap: a 20 × 20 × 10 box whose front wall misses a
// gap up to 8 mm high, with upright or outward-leaning sides. Carried
// down, the leaning sides' copies fold onto the wall beside the gap and
// Repair cannot make that sound; Printable then joins straight instead.
// Either way the part comes out watertight with its volume.
func TestPrintableSlopedGap(t *testing.T) {
	for _, slope := range []float64{0, 0.5, 1} {
		box := gridBoxN(geom.Vec{X: 20, Y: 20, Z: 10}, [3]int{20, 20, 10})
		dropFaces(box, func(x, y, z float64) bool { return y == 0 && z < 8 && math.Abs(x-10) < 2.5+slope*z })
		part, irep, rrep, err := Printable(context.Background(), geom.Join(box, plate(150, 2, 0, 0, 0)), &IsolateOptions{Cut: 1})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("slope %g: %d gaps, %d carried, %q; %+v", slope, irep.OpenOutline, irep.Carried, irep.CarryUndone, *rrep)
		if irep.OpenOutline != 1 || !rrep.Watertight || rrep.SelfIntersectionsLeft != 0 {
			t.Errorf("slope %g: %d gaps, watertight %v, %d crossings left; want 1, true, 0", slope, irep.OpenOutline, rrep.Watertight, rrep.SelfIntersectionsLeft)
		}
		if v := part.SignedVolume(); math.Abs(v-4000) > 0.005*4000 {
			t.Errorf("slope %g: volume %g, want 4000 ± 0.5 %%", slope, v)
		}
	}
}
