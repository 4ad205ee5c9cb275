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

// TestPartPhotometricOnly is TestPartOnPlainSheet without the geometric-
// consistency pass (the draft preset's way): the targets still hold.
func TestPartPhotometricOnly(t *testing.T) {
	if raceEnabled {
		t.Skip("accuracy test of 12 views, 20 times slower under the race detector; run without -race")
	}
	const pixel = sheetBoxPixel
	o := DefaultOptions("standard")
	o.GeoIterations = -1
	r := reconstructSheetBox(t, o)
	t.Logf("%d points, %d on and around the box, %d off its footprint; accuracy 90th percentile %.2f px, completeness %.2f px", r.points, r.nearBox, r.outside, r.acc90/pixel, r.comp90/pixel)
	if r.acc90 > 0.55*pixel || r.comp90 > 0.91*pixel {
		t.Errorf("accuracy %.2f px (want ≤ 0.55), completeness %.2f px (want ≤ 0.91)", r.acc90/pixel, r.comp90/pixel)
	}
}

// TestGeoSettled: the geometric pass with the true depth maps of the
// sources and a reference map true on its left half and 3 % too deep on its
// right half. The left half round-trips through the sources: settled, it
// comes back exactly as it was. The right half does not: refined, it comes
// closer to the truth.
func TestGeoSettled(t *testing.T) {
	s := newScene(t, r3.Vec{X: 0.3, Y: -0.2, Z: -1}, 3)
	maps := make([]*DepthMap, len(s.views))
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
	}
	ref := s.views[0]
	tr := maps[0]
	start := newDepthMap(ref.W, ref.H)
	copy(start.Normal, tr.Normal)
	for p, d := range tr.Depth {
		start.Depth[p] = d
		if p%ref.W >= ref.W/2 {
			start.Depth[p] = 1.03 * d
		}
	}
	maps[0] = start
	o := DefaultOptions("standard")
	o.Workers = 2
	o.SmoothRadius = -1
	sources := make([]int, 0, len(s.views)-1)
	for i := 1; i < len(s.views); i++ {
		sources = append(sources, i)
	}
	o.GeoIterations = 2
	dm, err := geoRefine(t.Context(), 0, s.views, sources, maps, 0.8*testDist, 1.25*testDist, 0, &o)
	if err != nil {
		t.Fatal(err)
	}
	var same, left, closer, right int
	for y := 20; y < ref.H-20; y++ {
		for x := 20; x < ref.W-20; x++ {
			p := y*ref.W + x
			if tr.Depth[p] <= 0 {
				continue
			}
			if x < ref.W/2-10 {
				left++
				if dm.Depth[p] == start.Depth[p] {
					same++
				}
			} else if x > ref.W/2+10 {
				right++
				if e := dm.Depth[p] - tr.Depth[p]; dm.Depth[p] > 0 && abs32(e) < 0.5*(start.Depth[p]-tr.Depth[p]) {
					closer++
				}
			}
		}
	}
	t.Logf("true half: %d of %d pixels unchanged; 3 %% off half: %d of %d pixels at least halfway to the truth", same, left, closer, right)
	if left == 0 || right == 0 || float64(same) < 0.95*float64(left) || float64(closer) < 0.5*float64(right) {
		t.Errorf("true half: %d of %d pixels unchanged (want ≥ 95 %%); 3 %% off half: %d of %d at least halfway to the truth (want ≥ 50 %%)", same, left, closer, right)
	}
}
