package mvs

import (
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// TestRoundTrip: with the true depth maps of a slanted plane, a reference
// pixel's true depth goes into each source and back within a pixel (the
// source's depth is read at the nearest pixel); a depth 10 % off lands far
// away, and a source without a depth map gives the cap.
func TestRoundTrip(t *testing.T) {
	s := newScene(t, r3.Vec{X: 0.3, Y: -0.2, Z: -1}, 3)
	ref := s.views[0]
	truthRef := truth(ref, s.pl)
	const maxErr = 3
	var good, bad, n float64
	for si := 1; si < len(s.views); si++ {
		g := newGeoSource(ref, s.views[si], truth(s.views[si], s.pl))
		for y := 20; y < ref.H-20; y += 7 {
			for x := 20; x < ref.W-20; x += 7 {
				d := truthRef.Depth[y*ref.W+x]
				if d <= 0 {
					continue
				}
				rx, ry := (float32(x)-float32(ref.K[2]-0.5))/float32(ref.K[0]), (float32(y)-float32(ref.K[3]-0.5))/float32(ref.K[1])
				e := g.roundTrip(x, y, rx, ry, d, maxErr)
				if e > 1 {
					t.Errorf("source %d, pixel (%d, %d): round trip of the true depth off by %.2f px", si, x, y, e)
				}
				good += float64(e)
				bad += float64(g.roundTrip(x, y, rx, ry, d*1.1, maxErr))
				n++
			}
		}
		none := newGeoSource(ref, s.views[si], nil)
		if e := none.roundTrip(ref.W/2, ref.H/2, 0, 0, 10, maxErr); e != maxErr {
			t.Errorf("source %d without a depth map: %.2f, want the cap %d", si, e, maxErr)
		}
	}
	t.Logf("mean round-trip error over %.0f samples: %.3f px at the true depth, %.3f px 10 %% off", n, good/n, bad/n)
	if bad/n < 4*good/n || bad/n < 2 {
		t.Errorf("a depth 10 %% off: mean round trip %.2f px, the true depth %.2f px; want it clearly larger", bad/n, good/n)
	}
}

// TestPartGeometricPass is TestPart with the geometric-consistency pass:
// the targets still hold.
func TestPartGeometricPass(t *testing.T) {
	if raceEnabled {
		t.Skip("accuracy test of 12 views, 20 times slower under the race detector; run without -race")
	}
	const pixel = sheetBoxPixel
	o := DefaultOptions("standard")
	o.GeoIterations = 1
	r := reconstructSheetBox(t, o)
	t.Logf("%d points, %d on and around the box, %d off its footprint; accuracy 90th percentile %.2f px, completeness %.2f px", r.points, r.nearBox, r.outside, r.acc90/pixel, r.comp90/pixel)
	if r.acc90 > 0.55*pixel || r.comp90 > 0.91*pixel {
		t.Errorf("accuracy %.2f px (want ≤ 0.55), completeness %.2f px (want ≤ 0.91)", r.acc90/pixel, r.comp90/pixel)
	}
}
