package mvs

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// checkOnPlane checks that at least frac of the cloud's points lie within
// tol of the plane and have normals within angTol degrees of its normal,
// and logs the distances' median and 90th percentile.
func checkOnPlane(t *testing.T, c *geom.PointCloud, pl plane, tol, angTol, frac float64) {
	t.Helper()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(c.Normals) != c.Len() || len(c.Colors) != c.Len() {
		t.Fatalf("%d points, %d normals, %d colours", c.Len(), len(c.Normals), len(c.Colors))
	}
	dists := make([]float64, c.Len())
	var near, aligned int
	for i, p := range c.Points {
		dists[i] = math.Abs(r3.Dot(r3.Sub(p, pl.p0), pl.n))
		if dists[i] < tol {
			near++
		}
		if math.Abs(r3.Cos(c.Normals[i], pl.n)) > math.Cos(angTol*math.Pi/180) {
			aligned++
		}
	}
	slices.Sort(dists)
	n := float64(c.Len())
	t.Logf("%d points: distance to the plane median %.2g, 90th percentile %.2g (of a %g distance); %.1f%% within %g, %.1f%% of normals within %g°",
		c.Len(), dists[len(dists)/2], dists[len(dists)*9/10], float64(testDist), 100*float64(near)/n, tol, 100*float64(aligned)/n, angTol)
	if float64(near) < frac*n {
		t.Errorf("%.1f%% of points within %g of the plane, want ≥ %.0f%%", 100*float64(near)/n, tol, 100*frac)
	}
	if float64(aligned) < frac*n {
		t.Errorf("%.1f%% of normals within %g° of the plane's, want ≥ %.0f%%", 100*float64(aligned)/n, angTol, 100*frac)
	}
}

// TestFuseTruth fuses the true depth maps: every point must lie on the
// plane, and each surface point must come once, not once per view.
func TestFuseTruth(t *testing.T) {
	s := newScene(t, tilted(30), 6)
	maps := make([]*DepthMap, len(s.views))
	valid := 0
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
		valid += maps[i].Valid()
	}
	c, err := Fuse(context.Background(), s.views, maps, nil, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	checkOnPlane(t, c, s.pl, 1e-4, 0.01, 1)
	if c.Len() > valid/2 {
		t.Errorf("%d points from %d pixels of 5 views that overlap most of the time: points fused more than once?", c.Len(), valid)
	}
	for i, col := range c.Colors {
		if col.B != 100 || col.A != 255 {
			t.Fatalf("colour %d = %v, want the rendered blue of 100", i, col)
		}
	}
}

// TestFuse fuses estimated depth maps of a slanted plane.
func TestFuse(t *testing.T) {
	s := newScene(t, tilted(30), 6)
	o := testOptions()
	// Depth maps for three of the five views keep the test fast under the
	// race detector; two of them must confirm each depth of the third.
	maps := make([]*DepthMap, len(s.views))
	for i := range 3 {
		var src []int
		for j := range s.views {
			if j != i {
				src = append(src, j)
			}
		}
		dm, err := EstimateDepth(context.Background(), i, s.views, src, 7, 14, o)
		if err != nil {
			t.Fatal(err)
		}
		maps[i] = dm
	}
	c, err := Fuse(context.Background(), s.views, maps, nil, o)
	if err != nil {
		t.Fatal(err)
	}
	// 0.1% of the distance: the accuracy target, 0.3% of the part's size,
	// is 0.075% of the distance at 320 mm for an 80 mm part; these views'
	// pixels are 0.08% of the distance (1/120), the standard preset's 0.14%.
	checkOnPlane(t, c, s.pl, 1e-3*testDist, 5, 0.9)
	if c.Len() < testW*testH/3 {
		t.Errorf("%d points, want ≥ %d", c.Len(), testW*testH/3)
	}
}

func TestFuseNothingConsistent(t *testing.T) {
	s := newScene(t, tilted(30), 6)
	maps := make([]*DepthMap, len(s.views))
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
		for p := range maps[i].Depth {
			maps[i].Depth[p] *= 1 + 0.05*float32(i) // every view disagrees
		}
	}
	_, err := Fuse(context.Background(), s.views, maps, nil, testOptions())
	if !errors.Is(err, ErrNoSurface) {
		t.Fatalf("Fuse of inconsistent depth maps: error %v, want ErrNoSurface", err)
	}
}

func TestFuseCancel(t *testing.T) {
	s := newScene(t, tilted(30), 6)
	maps := make([]*DepthMap, len(s.views))
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fuse(ctx, s.views, maps, nil, testOptions()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fuse with a cancelled context: error %v, want context.Canceled", err)
	}
}
