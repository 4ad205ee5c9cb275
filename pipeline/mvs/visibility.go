package mvs

import (
	"context"
	"math"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// carveFreeSpace drops the fused points that other photos saw through:
// a point is dropped when at least o.FreeSpaceViews depth maps hold, at
// its projection, a surface more than o.FreeSpaceDepth (relative) beyond
// it, and those views outnumber the ones whose depth agrees with it there.
// Such a point floats in space a camera saw empty — mostly foreground
// depth smeared past an occluding contour onto the background behind it
// (edge fattening), which geometric consistency alone keeps, since
// neighbouring views fatten the same edge alike. This is the free-space
// test of Merrell et al. (ICCV 2007, "Real-time visibility-based fusion of
// depth maps", §4), applied once to the fused points against every view.
// It returns the points kept and how many were dropped.
func carveFreeSpace(ctx context.Context, c *geom.PointCloud, views []*View, maps []*DepthMap, o *Options) (*geom.PointCloud, int, error) {
	if o.FreeSpaceViews <= 0 || c.Len() == 0 {
		return c, 0, nil
	}
	n := c.Len()
	keep := make([]bool, n)
	const chunk = 4096
	if err := parallelFor(ctx, 0, (n+chunk-1)/chunk, o.Workers, func() func(int) {
		return func(k int) {
			for i := k * chunk; i < min(n, (k+1)*chunk); i++ {
				keep[i] = !inFreeSpace(c.Points[i], views, maps, o)
			}
		}
	}); err != nil {
		return nil, 0, err
	}
	out := &geom.PointCloud{}
	dropped := 0
	for i := range n {
		if !keep[i] {
			dropped++
			continue
		}
		out.Points = append(out.Points, c.Points[i])
		if len(c.Normals) == n {
			out.Normals = append(out.Normals, c.Normals[i])
		}
		if len(c.Colors) == n {
			out.Colors = append(out.Colors, c.Colors[i])
		}
	}
	return out, dropped, nil
}

// inFreeSpace reports whether enough views saw past x (see carveFreeSpace).
func inFreeSpace(x geom.Vec, views []*View, maps []*DepthMap, o *Options) bool {
	past, seen := 0, 0
	for j, m := range maps {
		if m == nil {
			continue
		}
		v := views[j]
		u, w, z := v.project(x)
		if !(z > 0 && u >= 0 && w >= 0 && u < float64(v.W) && w < float64(v.H)) {
			continue
		}
		d := depthAt(v, m, u, w)
		switch {
		case d <= 0:
		case d > z*(1+o.FreeSpaceDepth):
			past++
		case d >= z*(1-o.FreeSpaceDepth):
			seen++
		}
	}
	return past >= o.FreeSpaceViews && past > seen
}

// depthAt returns the depth m gives at the sub-pixel position (u, w): where
// the ray through it meets the plane of the pixel it falls in (the pixel's
// depth and normal), so that a surface seen obliquely, whose depth changes
// by more than the tolerance from one pixel to the next, is compared at
// the right place. It is 0 where the pixel has no depth, and the pixel's
// own depth where the ray grazes its plane.
func depthAt(v *View, m *DepthMap, u, w float64) float64 {
	qx, qy := int(u), int(w)
	q := qy*v.W + qx
	d := float64(m.Depth[q])
	if d <= 0 {
		return 0
	}
	n := normalAt(m, q)
	// The pixel's point and the ray's direction, in camera coordinates.
	p := r3.Vec{X: (float64(qx) + 0.5 - v.K[2]) / v.K[0] * d, Y: (float64(qy) + 0.5 - v.K[3]) / v.K[1] * d, Z: d}
	r := r3.Vec{X: (u - v.K[2]) / v.K[0], Y: (w - v.K[3]) / v.K[1], Z: 1}
	nr := r3.Dot(n, r)
	if math.Abs(nr) < 0.1*r3.Norm(r) { // within 6° of grazing
		return d
	}
	z := r3.Dot(n, p) / nr
	if !(z > 0) || math.Abs(z-d) > 0.05*d { // a bad normal: keep the pixel's depth
		return d
	}
	return z
}
