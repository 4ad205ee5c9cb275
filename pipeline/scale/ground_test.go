package scale

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// TestGround: the mat (a noisy tilted plane, most of the points) is found
// under a box-shaped cluster, and the frame puts it on z = 0 with the
// cameras above.
func TestGround(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	rot := rotZX(0.3, 2.5) // the mat's normal points down the world's z
	n := r3.Vec{X: rot[6], Y: rot[7], Z: rot[8]}
	u := r3.Vec{X: rot[0], Y: rot[1], Z: rot[2]}
	v := r3.Vec{X: rot[3], Y: rot[4], Z: rot[5]}
	o := r3.Vec{X: 3, Y: -1, Z: 2}
	at := func(a, b, h float64) r3.Vec {
		return r3.Add(o, r3.Add(r3.Scale(a, u), r3.Add(r3.Scale(b, v), r3.Scale(h, n))))
	}
	var pts []r3.Vec
	for range 20000 {
		pts = append(pts, at(rng.Float64()*10-5, rng.Float64()*10-5, 0.005*rng.NormFloat64()))
	}
	for range 8000 { // the part: a box 2 × 1 × 0.5 on the mat
		pts = append(pts, at(rng.Float64()*2-1, rng.Float64()-0.5, rng.Float64()*0.5))
	}
	cams := []r3.Vec{at(0, 3, 4), at(3, 0, 4), at(-3, -1, 3)}
	s, err := Ground(pts, cams, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	var worst float64
	for _, p := range pts[:20000] {
		worst = math.Max(worst, math.Abs(s.Apply(p).Z))
	}
	if worst > 0.03 {
		t.Errorf("mat points up to %.3f off z = 0", worst)
	}
	for _, c := range cams {
		if z := s.Apply(c).Z; !(z > 2.9) {
			t.Errorf("camera %v at z = %.3f, want above the mat", c, z)
		}
	}
	if z := s.Apply(at(0, 0, 0.5)).Z; math.Abs(z-0.5) > 0.02 {
		t.Errorf("top of the part at z = %.3f, want 0.5", z)
	}
	if _, err := Ground(pts[:2], cams, 0.02); err == nil {
		t.Error("two points: no error")
	}
	if _, err := Ground(pts, nil, 0.02); err == nil {
		t.Error("no cameras: no error")
	}
	// Inverse and Then undo each other.
	inv := s.Inverse()
	both := s.Then(inv)
	for _, p := range cams {
		if d := r3.Norm(r3.Sub(both.Apply(p), p)); d > 1e-9 {
			t.Errorf("Then(Inverse) moves %v by %g", p, d)
		}
	}
}
