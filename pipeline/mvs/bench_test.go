package mvs

import (
	"context"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// BenchmarkScore measures the cost function alone: ten plane hypotheses at
// each of 30 000 pixels of a 500×375 view against 4 sources.
func BenchmarkScore(b *testing.B) {
	s := newSceneSized(b, r3.Vec{Z: -1}, 7, 500, 375, 1)
	o := DefaultOptions("standard")
	e, err := newEstimator(0, s.views, allSources, 7, 14, &o)
	if err != nil {
		b.Fatal(err)
	}
	var sc scratch
	n := [3]float32{0, 0, -1}
	cnt := 0
	for b.Loop() {
		for y := 100; y < 200; y++ {
			for x := 100; x < 400; x++ {
				rx, ry := e.ray(x, y)
				for k := range 10 {
					e.score(x, y, rx, ry, 10+0.01*float32(k), n, &sc)
					cnt++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(cnt*len(e.src)*e.side*e.side), "ns/sample")
}

// BenchmarkEstimateDepth estimates the depth map of a 1000×750 view of a
// slanted textured plane against 4 sources with the standard options:
// the work of one view of the standard preset, whose images are 1000 px
// wide. It reports ms per view; ns/op is the same.
func BenchmarkEstimateDepth(b *testing.B) {
	s := newSceneSized(b, tilted(30), 7, 1000, 750, 1)
	o := DefaultOptions("standard")
	b.ResetTimer()
	for b.Loop() {
		if _, err := EstimateDepth(context.Background(), 0, s.views, allSources, 7, 14, &o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/view")
}

// BenchmarkFuse fuses the true depth maps of five 1000×750 views of a
// slanted plane, each checked against the four others. It reports ms per
// view.
func BenchmarkFuse(b *testing.B) {
	s := newSceneSized(b, tilted(30), 7, 1000, 750, 1)
	maps := make([]*DepthMap, len(s.views))
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
	}
	o := DefaultOptions("standard")
	for b.Loop() {
		if _, err := Fuse(context.Background(), s.views, maps, nil, &o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*len(s.views)), "ms/view")
}
