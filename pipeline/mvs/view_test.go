package mvs

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

func TestSelectNeighbors(t *testing.T) {
	s := newScene(t, r3.Vec{Z: -1}, 12)
	target := r3.Vec{Z: testDist}
	views := []*View{
		s.views[0],
		lookAt("tiny baseline", r3.Vec{X: 0.2}, target, testW, testH, testF), // 1.1°
		lookAt("good", r3.Vec{X: 3}, target, testW, testH, testF),            // 17°
		lookAt("too wide", r3.Vec{X: 14, Z: 6}, target, testW, testH, testF), // 75°
		lookAt("away", r3.Vec{}, r3.Vec{Z: -testDist}, testW, testH, testF),  // sees none of it
		lookAt("good too", r3.Vec{Y: -2.5}, target, testW, testH, testF),     // 14°
	}
	nbrs := SelectNeighbors(views, s.sparse(), 4)
	var got []string
	for _, n := range nbrs[0] {
		got = append(got, views[n.View].Name)
	}
	t.Logf("neighbours of the reference: %+v", nbrs[0])
	if len(got) != 4 || got[0] != "good" && got[0] != "good too" || got[1] != "good" && got[1] != "good too" {
		t.Errorf("neighbours of the reference = %q, want the two good ones first, then the others but away", got)
	}
	for _, n := range nbrs[0] {
		if views[n.View].Name == "away" {
			t.Errorf("%q is a neighbour; it sees none of the points", "away")
		}
	}
	if len(nbrs[4]) != 0 {
		t.Errorf("view looking away has neighbours %+v, want none", nbrs[4])
	}
}

func TestDepthRange(t *testing.T) {
	s := newScene(t, tilted(40), 12)
	v := s.views[0]
	want := truth(v, s.pl)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, d := range want.Depth {
		lo, hi = min(lo, float64(d)), max(hi, float64(d))
	}
	near, far, ok := DepthRange(v, s.sparse())
	if !ok {
		t.Fatal("DepthRange: not ok")
	}
	t.Logf("true depths %.2f to %.2f, range %.2f to %.2f", lo, hi, near, far)
	// The sparse points stop 4 pixels from the border; the margin must
	// cover the rest.
	if near > lo || far < hi || near < lo/2 || far > 2*hi {
		t.Errorf("DepthRange = %.2f, %.2f; want it to hold %.2f to %.2f, and not by far", near, far, lo, hi)
	}
	if _, _, ok := DepthRange(v, s.sparse()[:minShared-1]); ok {
		t.Errorf("DepthRange with %d points: ok, want not ok", minShared-1)
	}
}

func TestScaled(t *testing.T) {
	s := newScene(t, tilted(30), 12)
	v := s.views[1]
	h := v.Scaled(64)
	if h.W != 64 || h.H != 48 {
		t.Fatalf("Scaled(64) of %d×%d = %d×%d, want 64×48", v.W, v.H, h.W, h.H)
	}
	if err := h.Check(); err != nil {
		t.Fatal(err)
	}
	// A world point projects to the same place, in proportion.
	x := r3.Vec{X: 0.7, Y: -0.4, Z: testDist}
	u0, w0, _ := v.project(x)
	u1, w1, _ := h.project(x)
	if math.Abs(u1-u0/2) > 1e-9 || math.Abs(w1-w0/2) > 1e-9 {
		t.Errorf("projection (%.4f, %.4f) at full size, (%.4f, %.4f) at half, want half", u0, w0, u1, w1)
	}
	// Area averaging keeps the mean.
	mean := func(g []float32) float64 {
		var s float64
		for _, x := range g {
			s += float64(x)
		}
		return s / float64(len(g))
	}
	if a, b := mean(v.Gray), mean(h.Gray); math.Abs(a-b) > 1e-4 {
		t.Errorf("mean grey %.5f at full size, %.5f at half", a, b)
	}
	if v.Scaled(200) != v {
		t.Error("Scaled to more than the size made a copy")
	}
}
