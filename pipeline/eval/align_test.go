package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

func TestAlignRecoversSimilarity(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// A rotation of 50° about a tilted axis, scale 37, a shift.
	axis := r3.Unit(r3.Vec{X: 0.3, Y: -1, Z: 0.5})
	rot := r3.NewRotation(50*math.Pi/180, axis)
	var from, to []r3.Vec
	for range 20 {
		p := r3.Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()}
		from = append(from, p)
		to = append(to, r3.Add(r3.Scale(37, rot.Rotate(p)), r3.Vec{X: 100, Y: -20, Z: 5}))
	}
	sim, e, err := Residuals(from, to)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(sim.Scale-37) > 1e-9 || e.Max > 1e-9 {
		t.Errorf("scale %g, max residual %g; want 37 and 0", sim.Scale, e.Max)
	}
	// With noise on the targets the RMS error is about the noise.
	for i := range to {
		to[i] = r3.Add(to[i], r3.Vec{X: rng.NormFloat64() * 0.1, Y: rng.NormFloat64() * 0.1, Z: rng.NormFloat64() * 0.1})
	}
	_, e, _ = Residuals(from, to)
	if e.RMS < 0.08 || e.RMS > 0.2 {
		t.Errorf("RMS %g with 0.1 noise a coordinate", e.RMS)
	}
}

func TestAlignRejectsDegenerate(t *testing.T) {
	line := []r3.Vec{{X: 0}, {X: 1}, {X: 2}, {X: 3}}
	if _, err := Align(line, line); err == nil {
		t.Errorf("points on a line aligned")
	}
	same := []r3.Vec{{X: 1}, {X: 1}, {X: 1}}
	if _, err := Align(same, same); err == nil {
		t.Errorf("coincident points aligned")
	}
	if _, err := Align(line[:2], line[:2]); err == nil {
		t.Errorf("two points aligned")
	}
}

func TestAlignNoReflection(t *testing.T) {
	// Targets mirrored: the best proper rotation cannot match them; the
	// result must still be a rotation (determinant +1).
	from := []r3.Vec{{X: 1}, {Y: 1}, {Z: 1}, {X: 1, Y: 1, Z: 1}}
	to := []r3.Vec{{X: -1}, {Y: 1}, {Z: 1}, {X: -1, Y: 1, Z: 1}}
	sim, err := Align(from, to)
	if err != nil {
		t.Fatal(err)
	}
	var det float64
	r := sim.R
	det = r.At(0, 0)*(r.At(1, 1)*r.At(2, 2)-r.At(1, 2)*r.At(2, 1)) - r.At(0, 1)*(r.At(1, 0)*r.At(2, 2)-r.At(1, 2)*r.At(2, 0)) + r.At(0, 2)*(r.At(1, 0)*r.At(2, 1)-r.At(1, 1)*r.At(2, 0))
	if math.Abs(det-1) > 1e-9 {
		t.Errorf("determinant %g, want 1", det)
	}
}
