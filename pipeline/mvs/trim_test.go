package mvs

import (
	"context"
	"testing"
)

// TestTrimEdges: a fronto-parallel square at depth 10 in front of a
// background at depth 20, and a plane slanted 60°, whose depth changes by
// over 1 % a pixel. The square's depths within the radius of its contour
// go; its inside, the background (the far side of the edge) and the
// slanted plane stay; pixels without a depth (a gap between the background
// and the slanted plane) stay without one.
func TestTrimEdges(t *testing.T) {
	const w, h, radius = 60, 40, 2
	const fx, fy, cx, cy = 50, 50, 30, 20
	dm := newDepthMap(w, h)
	inSquare := func(x, y int) bool { return x >= 10 && x < 30 && y >= 10 && y < 30 }
	slant := unit3([3]float32{0.866, 0, -0.5})
	for y := range h {
		for x := range w {
			p := y*w + x
			n := [3]float32{0, 0, -1}
			switch {
			case x >= 40:
				n = slant
				rx, ry := (float32(x)-cx)/fx, (float32(y)-cy)/fy
				dm.Depth[p] = -8 / (n[0]*rx + n[1]*ry + n[2]) // nᵀX = −8
			case inSquare(x, y):
				dm.Depth[p] = 10
			case x >= 35:
				dm.Depth[p] = 0
			default:
				dm.Depth[p] = 20
			}
			copy(dm.Normal[3*p:], n[:])
		}
	}
	if r := dm.Depth[41] / dm.Depth[40]; r < 1.01 {
		t.Fatalf("the slanted plane's depth changes by %.2f %% a pixel; the test wants over 1 %%", 100*(r-1))
	}
	was := append([]float32(nil), dm.Depth...)
	if err := trimEdges(context.Background(), dm, fx, fy, cx, cy, radius, 0.01, 2); err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			p := y*w + x
			nearContour := inSquare(x, y) && (x < 10+radius || x >= 30-radius || y < 10+radius || y >= 30-radius)
			want := was[p]
			if nearContour {
				want = 0
			}
			if dm.Depth[p] != want {
				t.Fatalf("pixel (%d, %d): depth %g, want %g (was %g)", x, y, dm.Depth[p], want, was[p])
			}
		}
	}

	// Cancelled: an error, and the map as it was.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	copy(dm.Depth, was)
	if err := trimEdges(ctx, dm, fx, fy, cx, cy, radius, 0.01, 2); err == nil {
		t.Error("trimEdges with a cancelled context: no error")
	}
	for i := range was {
		if dm.Depth[i] != was[i] {
			t.Fatal("trimEdges with a cancelled context changed the map")
		}
	}
}
