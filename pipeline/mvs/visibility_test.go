package mvs

import (
	"context"
	"image/color"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// TestCarveFreeSpace: of points on the plane every view saw, and points
// floating in front of it where the views saw the plane through them, only
// the floating ones go; a floating point that no depth map covers, or one
// behind the plane, stays (no view saw through it).
func TestCarveFreeSpace(t *testing.T) {
	s := newScene(t, tilted(20), 3)
	maps := make([]*DepthMap, len(s.views))
	for i, v := range s.views {
		maps[i] = truth(v, s.pl)
	}
	// Views 3 and 4 have holes in their depth maps where nothing was
	// matched; they must not count as seeing past.
	for _, i := range []int{3, 4} {
		for p := range maps[i].Depth {
			if p%3 == 0 {
				maps[i].Depth[p] = 0
			}
		}
	}
	c := &geom.PointCloud{}
	add := func(p r3.Vec) {
		c.Points = append(c.Points, p)
		c.Normals = append(c.Normals, s.pl.n)
		c.Colors = append(c.Colors, color.NRGBA{R: 1, G: 2, B: 3, A: 255})
	}
	on := func(a, b float64) r3.Vec { return r3.Add(s.pl.p0, r3.Add(r3.Scale(a, s.pl.e1), r3.Scale(b, s.pl.e2))) }
	var want []r3.Vec
	for _, ab := range [][2]float64{{0, 0}, {0.5, -0.3}, {-0.8, 0.6}, {1, 1}} {
		p := on(ab[0], ab[1])
		add(p)
		want = append(want, p)
		add(r3.Scale(0.9, p)) // 10 % nearer the camera, in the air
	}
	// Behind the plane (view 0 is at the origin): hidden from every view,
	// not seen through.
	behind := r3.Scale(1.1, on(0.2, 0.1))
	add(behind)
	want = append(want, behind)
	o := testOptions().resolved()
	got, dropped, err := carveFreeSpace(context.Background(), c, s.views, maps, &o)
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 4 || got.Len() != len(want) || len(got.Normals) != got.Len() || len(got.Colors) != got.Len() {
		t.Fatalf("dropped %d, kept %d points (%d normals, %d colours); want 4 dropped and %d kept", dropped, got.Len(), len(got.Normals), len(got.Colors), len(want))
	}
	for i, p := range want {
		if got.Points[i] != p {
			t.Errorf("kept point %d = %v, want %v", i, got.Points[i], p)
		}
	}

	o.FreeSpaceViews = -1
	if got, dropped, _ := carveFreeSpace(context.Background(), c, s.views, maps, &o); dropped != 0 || got.Len() != c.Len() {
		t.Errorf("with the test off: dropped %d of %d", dropped, c.Len())
	}
}
