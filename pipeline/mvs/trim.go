package mvs

import "context"

// trimEdges drops the depths on the near side of a depth edge: those with,
// within radius pixels, a depth more than jump (relative) deeper than
// their own plane (depth and normal) gives at that pixel. There the window
// straddles the occluding contour, partly on the background, and the
// foreground's texture dominates it: PatchMatch extends the foreground's
// plane a pixel or two past the contour, into the air (edge fattening;
// Bleyer et al., BMVC 2011 §1). Such a contour of one view is seen face-on
// by others, whose depths there are better. Measuring against the plane
// keeps slanted surfaces, whose depth changes fast from pixel to pixel,
// and the creases between faces.
//
// Only the pixels with some depth more than jump deeper within radius (a
// separable maximum: along rows, then down columns) are checked against
// their plane. Rows run on workers goroutines; it returns ctx.Err() if ctx
// is cancelled, leaving dm as it was. fx, fy, cx, cy are the view's
// intrinsics at the map's size.
func trimEdges(ctx context.Context, dm *DepthMap, fx, fy, cx, cy float32, radius int, jump float32, workers int) error {
	w, h := dm.W, dm.H
	rows := make([]float32, len(dm.Depth)) // the deepest along each row's window
	if err := parallelFor(ctx, 0, h, workers, func() func(int) {
		return func(y int) {
			in, out := dm.Depth[y*w:(y+1)*w], rows[y*w:(y+1)*w]
			for x := range w {
				m := in[x]
				for _, d := range in[max(0, x-radius):min(w, x+radius+1)] {
					m = max(m, d)
				}
				out[x] = m
			}
		}
	}); err != nil {
		return err
	}
	ray := func(x, y int) (float32, float32) { return (float32(x) - cx) / fx, (float32(y) - cy) / fy }
	drop := make([]bool, len(dm.Depth))
	if err := eachDepth(ctx, dm, workers, func(x, y, p int, d float32) {
		limit := d * (1 + jump)
		deeper := false
		for yy := max(0, y-radius); yy <= min(h-1, y+radius) && !deeper; yy++ {
			deeper = rows[yy*w+x] > limit
		}
		if !deeper {
			return
		}
		// The plane nᵀX = δ through the pixel's point gives depth δ/(n·ray)
		// at another pixel.
		n := dm.Normal[3*p : 3*p+3 : 3*p+3]
		rx, ry := ray(x, y)
		delta := d * (n[0]*rx + n[1]*ry + n[2])
		for yy := max(0, y-radius); yy <= min(h-1, y+radius) && !drop[p]; yy++ {
			for xx := max(0, x-radius); xx <= min(w-1, x+radius); xx++ {
				qrx, qry := ray(xx, yy)
				den := n[0]*qrx + n[1]*qry + n[2]
				if den < 0 && dm.Depth[yy*w+xx] > delta/den*(1+jump) {
					drop[p] = true
					break
				}
			}
		}
	}); err != nil {
		return err
	}
	for p, b := range drop {
		if b {
			dm.Depth[p] = 0
		}
	}
	return nil
}
