package geom

import (
	"fmt"
	"math"
)

// Len returns the number of points.
func (c *PointCloud) Len() int { return len(c.Points) }

// Validate reports whether Normals and Colors are each empty or as long as
// Points, and whether every point and normal coordinate is finite.
func (c *PointCloud) Validate() error {
	if n := len(c.Normals); n != 0 && n != len(c.Points) {
		return fmt.Errorf("geom: point cloud has %d normals for %d points", n, len(c.Points))
	}
	if n := len(c.Colors); n != 0 && n != len(c.Points) {
		return fmt.Errorf("geom: point cloud has %d colours for %d points", n, len(c.Points))
	}
	for i, p := range c.Points {
		if !finite(p) {
			return fmt.Errorf("geom: point %d: non-finite coordinate %v", i, p)
		}
	}
	for i, n := range c.Normals {
		if !finite(n) {
			return fmt.Errorf("geom: normal %d: non-finite coordinate %v", i, n)
		}
	}
	return nil
}

// Bounds returns the smallest box that holds every point; EmptyBox for an
// empty cloud.
func (c *PointCloud) Bounds() Box {
	return bounds(c.Points)
}

func bounds(ps []Vec) Box {
	b := EmptyBox()
	for _, p := range ps {
		b = b.Extend(p)
	}
	return b
}

// finite reports whether no coordinate of p is NaN or infinite.
func finite(p Vec) bool {
	// x-x is NaN exactly when x is NaN or ±Inf.
	return !math.IsNaN(p.X-p.X) && !math.IsNaN(p.Y-p.Y) && !math.IsNaN(p.Z-p.Z)
}
