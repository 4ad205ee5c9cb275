package mvs

import (
	"context"
	"math"
	"testing"
)

// TestSmooth: a depth map of two planes, a slanted one and, on the right
// half, a fronto-parallel one in front of it, each depth scattered by up
// to ±0.2 %. Smoothing must cut the scatter at least twofold and leave the
// step between the planes as sharp as it was: no pixel beside it pulled
// toward the other plane.
func TestSmooth(t *testing.T) {
	const w, h = 80, 60
	const fx, fy, cx, cy = 100, 100, 40, 30
	n1 := unit3([3]float32{0.2, 0.1, -1})
	n2 := [3]float32{0, 0, -1}
	const d1, d2 = -10, -8 // plane offsets: nᵀX = δ
	truthAt := func(x, y int) (float32, [3]float32) {
		rx, ry := (float32(x)-cx)/fx, (float32(y)-cy)/fy
		n, delta := n1, float32(d1)
		if x >= w/2 {
			n, delta = n2, d2
		}
		return delta / (n[0]*rx + n[1]*ry + n[2]), n
	}
	dm := newDepthMap(w, h)
	r := newRNG(7, 0, 0)
	for y := range h {
		for x := range w {
			d, n := truthAt(x, y)
			p := y*w + x
			dm.Depth[p] = d * (1 + 0.002*r.signed())
			copy(dm.Normal[3*p:], n[:])
		}
	}
	rms := func() (all, edge float64) {
		for y := range h {
			for x := range w {
				d, _ := truthAt(x, y)
				e := float64((dm.Depth[y*w+x] - d) / d)
				all += e * e
				if x == w/2-1 || x == w/2 {
					edge = max(edge, math.Abs(e))
				}
			}
		}
		return math.Sqrt(all / (w * h)), edge
	}
	before, edgeBefore := rms()
	if err := smooth(context.Background(), dm, fx, fy, cx, cy, 3, 0.005, 2); err != nil {
		t.Fatal(err)
	}
	after, edgeAfter := rms()
	t.Logf("relative depth error: RMS %.5f before, %.5f after; worst beside the step %.5f before, %.5f after", before, after, edgeBefore, edgeAfter)
	if after > before/2 {
		t.Errorf("RMS relative error %.5f after smoothing, %.5f before: want at most half", after, before)
	}
	if edgeAfter > edgeBefore {
		t.Errorf("beside the step: worst relative error %.5f after smoothing, %.5f before", edgeAfter, edgeBefore)
	}

	// Cancelled: an error, and the map as it was.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	was := append([]float32(nil), dm.Depth...)
	if err := smooth(ctx, dm, fx, fy, cx, cy, 3, 0.005, 2); err == nil {
		t.Error("smooth with a cancelled context: no error")
	}
	for i := range was {
		if dm.Depth[i] != was[i] {
			t.Fatal("smooth with a cancelled context changed the map")
		}
	}
}

func unit3(v [3]float32) [3]float32 {
	l := float32(math.Sqrt(float64(v[0]*v[0] + v[1]*v[1] + v[2]*v[2])))
	return [3]float32{v[0] / l, v[1] / l, v[2] / l}
}
