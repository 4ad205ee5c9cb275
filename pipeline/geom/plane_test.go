package geom

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

func TestFitPlane(t *testing.T) {
	// Points on z = 2x + 1, and one far off it with no weight.
	pts := []Vec{{X: 0, Y: 0, Z: 1}, {X: 1, Y: 0, Z: 3}, {X: 0, Y: 1, Z: 1}, {X: 1, Y: 1, Z: 3}, {X: 5, Y: 5, Z: 50}}
	w := func(i int) float64 { return float64(min(1, 4-i)) } // 1, 1, 1, 1, 0
	c, n, ok := FitPlane(pts, func(i int) float64 { return max(0, w(i)) }, Vec{Z: 1})
	want := r3.Unit(Vec{X: -2, Z: 1})
	if !ok || r3.Norm(r3.Sub(n, want)) > 1e-12 || r3.Norm(r3.Sub(c, Vec{X: 0.5, Y: 0.5, Z: 2})) > 1e-12 {
		t.Errorf("FitPlane = %v, %v, %v; want centre (0.5, 0.5, 2), normal %v", c, n, ok, want)
	}
	// Unweighted, turned towards the guess.
	_, n, ok = FitPlane(pts[:4], nil, Vec{Z: -1})
	if !ok || math.Abs(r3.Dot(n, want)+1) > 1e-12 {
		t.Errorf("normal %v, want %v", n, r3.Scale(-1, want))
	}
	if _, _, ok := FitPlane(nil, nil, Vec{Z: 1}); ok {
		t.Error("no points: ok")
	}
}
