package mvs

import "context"

// smooth averages each depth with the depths its neighbours' planes give
// at its pixel, over a (2·radius+1)² window, leaving out neighbours whose
// plane is more than tol (relative) off: a local plane fit that keeps
// depth edges. PatchMatch's depths scatter pixel by pixel about the
// surface (each pixel keeps the best of a few random hypotheses), and
// neighbours on the same plane scatter independently, so the mean of n of
// them has 1/√n of the scatter. Rows run on workers goroutines; it returns
// ctx.Err() if ctx is cancelled, leaving dm as it was.
func smooth(ctx context.Context, dm *DepthMap, fx, fy, cx, cy float32, radius int, tol float32, workers int) error {
	w, h := dm.W, dm.H
	out := make([]float32, len(dm.Depth))
	// delta[p] = d·(n·ray): the plane nᵀX = delta through pixel p's point.
	delta := make([]float32, len(dm.Depth))
	ray := func(x, y int) (float32, float32) { return (float32(x) - cx) / fx, (float32(y) - cy) / fy }
	for y := range h {
		for x := range w {
			p := y*w + x
			if d := dm.Depth[p]; d > 0 {
				rx, ry := ray(x, y)
				delta[p] = d * (dm.Normal[3*p]*rx + dm.Normal[3*p+1]*ry + dm.Normal[3*p+2])
			}
		}
	}
	err := eachDepth(ctx, dm, workers, func(x, y, p int, d float32) {
		rx, ry := ray(x, y)
		sum, n := d, float32(1)
		for yy := max(0, y-radius); yy <= min(h-1, y+radius); yy++ {
			for xx := max(0, x-radius); xx <= min(w-1, x+radius); xx++ {
				q := yy*w + xx
				if q == p || dm.Depth[q] <= 0 {
					continue
				}
				den := dm.Normal[3*q]*rx + dm.Normal[3*q+1]*ry + dm.Normal[3*q+2]
				if den >= 0 {
					continue
				}
				dq := delta[q] / den
				if abs32(dq-d) <= tol*d {
					sum += dq
					n++
				}
			}
		}
		out[p] = sum / n
	})
	if err != nil {
		return err
	}
	copy(dm.Depth, out)
	return nil
}

// eachDepth calls fn for every pixel p = (x, y) of dm with a depth d > 0,
// rows shared among workers goroutines. It returns ctx.Err() if ctx is
// cancelled.
func eachDepth(ctx context.Context, dm *DepthMap, workers int, fn func(x, y, p int, d float32)) error {
	w := dm.W
	return parallelFor(ctx, 0, dm.H, workers, func() func(int) {
		return func(y int) {
			for x, d := range dm.Depth[y*w : (y+1)*w] {
				if d > 0 {
					fn(x, y, y*w+x, d)
				}
			}
		}
	})
}
