package mesh

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// noisyBox returns the 80 × 40 × 12 mm box as reconstruction leaves it:
// every vertex off by up to noise in each axis, the walls' top 0.5 mm
// flared out into a lip of up to lip, and a bump of height bump on the
// x = 80 wall.
func noisyBox(noise, lip, bump float64) *geom.Mesh {
	m := cellBox(geom.Vec{X: 80, Y: 40, Z: 12}, 0.5)
	rng := rand.New(rand.NewPCG(7, 1))
	for i, p := range m.Vertices {
		q := p
		if p.Z > 11.5 {
			out := lip * (p.Z - 11.5) / 0.5
			switch {
			case p.X == 0:
				q.X -= out
			case p.X == 80:
				q.X += out
			}
			switch {
			case p.Y == 0:
				q.Y -= out
			case p.Y == 40:
				q.Y += out
			}
		}
		if p.X == 80 {
			if d := math.Hypot(p.Y-20, p.Z-6); d < 2 {
				q.X += bump * (1 - d/2)
			}
		}
		q.X += noise * (2*rng.Float64() - 1)
		q.Y += noise * (2*rng.Float64() - 1)
		q.Z += noise * (2*rng.Float64() - 1)
		m.Vertices[i] = q
	}
	return m
}

func TestFlattenNoisyBox(t *testing.T) {
	m := noisyBox(0.1, 0.5, 0.6)
	before := m.Bounds().Size()
	out, rep, err := Flatten(context.Background(), m, &FlattenOptions{Tolerance: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d planes, %d on a plane, %d on an edge, %d on a corner, %d kept, %d clipped, %d curved, largest move %.3f",
		len(rep.Planes), rep.OnPlane, rep.OnEdge, rep.OnCorner, rep.Kept, rep.Clipped, rep.Curved, rep.MaxMove)
	if len(rep.Planes) != 6 || rep.Curved != 0 {
		t.Fatalf("%d planes (%d curved), want the box's 6", len(rep.Planes), rep.Curved)
	}
	for _, p := range rep.Planes {
		// Each plane is x, y or z = 0 or the box's size along it.
		var axis int
		for k := range 3 {
			if math.Abs(p.Normal[k]) > math.Abs(p.Normal[axis]) {
				axis = k
			}
		}
		size := [3]float64{80, 40, 12}[axis]
		off := p.Offset * math.Copysign(1, p.Normal[axis])
		if math.Abs(math.Abs(p.Normal[axis])-1) > 1e-3 || (math.Abs(off) > 0.03 && math.Abs(off-size) > 0.03) {
			t.Errorf("plane %+v: not a face of the box to 0.03 mm", p)
		}
	}
	b := out.Bounds()
	got := b.Size()
	t.Logf("size %.3f × %.3f × %.3f, was %.3f × %.3f × %.3f", got.X, got.Y, got.Z, before.X, before.Y, before.Z)
	if math.Abs(got.X-80) > 0.06 || math.Abs(got.Y-40) > 0.06 || math.Abs(got.Z-12) > 0.06 {
		t.Errorf("flattened box %.3f × %.3f × %.3f, want 80 × 40 × 12 to 0.06 mm", got.X, got.Y, got.Z)
	}
	fixed, rrep := mustRepair(t, out, nil)
	if !rrep.Watertight || rrep.SelfIntersectionsLeft > 0 {
		t.Errorf("repaired flattened box: %+v", rrep)
	}
	if v := fixed.SignedVolume(); math.Abs(v-38400) > 0.005*38400 {
		t.Errorf("volume %.1f, want 38400 ± 0.5 %%", v)
	}
	if len(m.Vertices) != len(out.Vertices) || m.Vertices[0] == out.Vertices[0] && rep.OnCorner == 0 {
		t.Errorf("the input must be left alone and the output moved")
	}
}

// TestFlattenLeavesCurves: a sphere and the side of a cylinder are not
// flattened; the cylinder's flat ends are found, and moving onto them does
// not change the side.
func TestFlattenLeavesCurves(t *testing.T) {
	sphere := sphereMesh(20, 4)
	out, rep, err := Flatten(context.Background(), sphere, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Planes) != 0 {
		t.Errorf("sphere: %d planes (%+v)", len(rep.Planes), rep.Planes)
	}
	for i := range out.Vertices {
		if out.Vertices[i] != sphere.Vertices[i] {
			t.Fatalf("sphere: vertex %d moved", i)
		}
	}
	if rep.Curved == 0 {
		t.Errorf("sphere: no region found curved: the test does not exercise the check")
	}

	cyl := cylinderMesh(10, 30, 64, 30)
	out, rep, err = Flatten(context.Background(), cyl, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Planes) != 2 {
		t.Errorf("cylinder: %d planes, want its 2 ends", len(rep.Planes))
	}
	for i, p := range out.Vertices {
		if r := math.Hypot(p.X, p.Y); p.Z > 0 && p.Z < 30 && math.Abs(r-10) > 1e-9 {
			t.Fatalf("cylinder: side vertex %d moved to radius %g", i, r)
		}
		if p != cyl.Vertices[i] && math.Abs(p.Z-cyl.Vertices[i].Z) > 1e-9 {
			t.Fatalf("cylinder: vertex %d moved off its end: %v → %v", i, cyl.Vertices[i], p)
		}
	}
}

// cylinderMesh returns a closed cylinder of radius r and height h standing
// on z = 0: n segments around, k rings up the side, fans at the ends.
func cylinderMesh(r, h float64, n, k int) *geom.Mesh {
	m := &geom.Mesh{Vertices: []geom.Vec{{}, {Z: h}}}
	for i := range k + 1 {
		for j := range n {
			a := 2 * math.Pi * float64(j) / float64(n)
			m.Vertices = append(m.Vertices, geom.Vec{X: r * math.Cos(a), Y: r * math.Sin(a), Z: h * float64(i) / float64(k)})
		}
	}
	at := func(i, j int) int32 { return int32(2 + i*n + j%n) }
	for j := range n {
		m.Faces = append(m.Faces, [3]int32{0, at(0, j+1), at(0, j)}, [3]int32{1, at(k, j), at(k, j+1)})
		for i := range k {
			m.Faces = append(m.Faces, [3]int32{at(i, j), at(i, j+1), at(i+1, j+1)}, [3]int32{at(i, j), at(i+1, j+1), at(i+1, j)})
		}
	}
	return m
}

func TestFlattenErrors(t *testing.T) {
	if _, _, err := Flatten(context.Background(), &geom.Mesh{}, nil); !errors.Is(err, ErrEmptyMesh) {
		t.Errorf("empty mesh: %v", err)
	}
	bad := &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}}, Faces: [][3]int32{{0, 1, 2}}}
	if _, _, err := Flatten(context.Background(), bad, nil); err == nil {
		t.Error("face index out of range: no error")
	}
	flat := &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}, {X: 2}}, Faces: [][3]int32{{0, 1, 2}}}
	if _, _, err := Flatten(context.Background(), flat, nil); err == nil {
		t.Error("a mesh without area: no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Flatten(ctx, noisyBox(0.1, 0, 0), nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// cellBox returns the box [0,s.X]×[0,s.Y]×[0,s.Z] with each side a grid of
// squares of about cell (see gridBoxN).
func cellBox(s geom.Vec, cell float64) *geom.Mesh {
	return gridBoxN(s, [3]int{
		max(1, int(math.Round(s.X/cell))),
		max(1, int(math.Round(s.Y/cell))),
		max(1, int(math.Round(s.Z/cell))),
	})
}

func FuzzFlatten(f *testing.F) {
	f.Add(fuzzBytes(cellBox(geom.Vec{X: 8, Y: 4, Z: 2}, 0.5)), byte(8))
	f.Add(fuzzBytes(cylinderMesh(3, 5, 12, 4)), byte(3))
	f.Add(fuzzBytes(tetra()), byte(1))
	f.Fuzz(func(t *testing.T, data []byte, tol byte) {
		m := fuzzMesh(data)
		out, rep, err := Flatten(context.Background(), m, &FlattenOptions{Tolerance: float64(tol) / 16})
		if err != nil {
			return
		}
		if len(out.Vertices) != len(m.Vertices) || len(out.Faces) != len(m.Faces) {
			t.Fatalf("%d vertices and %d faces in, %d and %d out", len(m.Vertices), len(m.Faces), len(out.Vertices), len(out.Faces))
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("Flatten returned an invalid mesh: %v", err)
		}
		for i, v := range out.Vertices {
			if d := r3.Norm(r3.Sub(v, m.Vertices[i])); d > rep.Tolerance*(1+1e-9) {
				t.Fatalf("vertex %d moved %g, more than the tolerance %g", i, d, rep.Tolerance)
			}
		}
	})
}

// BenchmarkFlatten1M flattens a noisy 80 × 40 × 12 box of about a million
// faces with a lip along its top edges.
func BenchmarkFlatten1M(b *testing.B) {
	m := cellBox(geom.Vec{X: 80, Y: 40, Z: 12}, 0.14)
	rng := rand.New(rand.NewPCG(3, 1))
	for i, p := range m.Vertices {
		m.Vertices[i] = r3.Add(p, geom.Vec{X: 0.03 * rng.NormFloat64(), Y: 0.03 * rng.NormFloat64(), Z: 0.03 * rng.NormFloat64()})
	}
	b.Logf("%d faces", len(m.Faces))
	for b.Loop() {
		if _, _, err := Flatten(context.Background(), m, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestFlattenSquares: a wall reconstructed leaning 1° is made upright
// when Flatten knows which way is up, and left leaning when it does not.
func TestFlattenSquares(t *testing.T) {
	m := cellBox(geom.Vec{X: 80, Y: 40, Z: 12}, 0.5)
	lean := math.Tan(math.Pi / 180)
	for i, p := range m.Vertices {
		if p.X == 80 {
			m.Vertices[i].X += lean * (6 - p.Z) // x = 80.1 at the foot, 79.9 at the top
		}
	}
	wall := func(rep *FlattenReport) FlatPlane {
		for _, p := range rep.Planes {
			if p.Normal[0] > 0.9 {
				return p
			}
		}
		t.Fatalf("no x wall among %+v", rep.Planes)
		return FlatPlane{}
	}
	_, rep, err := Flatten(context.Background(), m, &FlattenOptions{Tolerance: 1})
	if err != nil {
		t.Fatal(err)
	}
	if w := wall(rep); math.Abs(w.Normal[2]) < 0.5*math.Sin(math.Pi/180) {
		t.Errorf("without Up the wall's normal %v should lean as the wall does", w.Normal)
	}
	out, rep, err := Flatten(context.Background(), m, &FlattenOptions{Tolerance: 1, Up: geom.Vec{Z: 1}})
	if err != nil {
		t.Fatal(err)
	}
	w := wall(rep)
	if w.Normal[2] != 0 || math.Abs(w.Offset-80) > 1e-9 {
		t.Errorf("with Up the wall is %+v, want upright at x = 80", w)
	}
	for _, p := range rep.Planes {
		if n := p.Normal; n[2] != 0 && math.Abs(n[2]) != 1 {
			t.Errorf("plane %+v neither upright nor level", p)
		}
	}
	if b := out.Bounds(); math.Abs(b.Max.X-80) > 1e-9 {
		t.Errorf("the wall's vertices reach x = %.4f, want 80", b.Max.X)
	}
}
