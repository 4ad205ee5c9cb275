package geom

import (
	"math"
	"testing"
)

func TestSolve3(t *testing.T) {
	a := [9]float64{4, 1, 0, 1, 3, 1, 0, 1, 2}
	want := [3]float64{1, -2, 3}
	var b [3]float64
	for r := range 3 {
		for c := range 3 {
			b[r] += a[3*r+c] * want[c]
		}
	}
	x, ok := Solve3(a, b, 1e-12)
	if !ok {
		t.Fatal("regular system refused")
	}
	for i := range x {
		if math.Abs(x[i]-want[i]) > 1e-12 {
			t.Errorf("x = %v, want %v", x, want)
		}
	}
	// Singular (two equal rows), nearly singular, and not finite.
	for _, m := range [][9]float64{
		{1, 2, 3, 1, 2, 3, 0, 1, 1},
		{1, 0, 0, 0, 1, 0, 0, 0, 1e-14},
		{math.NaN(), 0, 0, 0, 1, 0, 0, 0, 1},
		{math.Inf(1), 0, 0, 0, 1, 0, 0, 0, 1},
	} {
		if _, ok := Solve3(m, b, 1e-12); ok {
			t.Errorf("Solve3(%v) solved a singular system", m)
		}
	}
}
