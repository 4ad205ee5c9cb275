package mvs

import (
	"context"
	"math"
)

// The geometric-consistency pass after ACMM (Xu & Tao, CVPR 2019, §3.3):
// once every view has a depth map, each view's map is refined again at the
// working size with a cost that adds, for each source, how far the
// hypothesis lands from where it started after a round trip through the
// source's depth map — the forward–backward reprojection error, capped —
// to the photometric cost. Surfaces that the sources see consistently win
// over ones that only match photometrically, which sharpens oblique walls
// and edges where the photometric cost alone is ambiguous.

// geoSource is what the geometric term needs of one source: its depth map
// at the working size and the rigid motion from the reference's camera
// frame to its own, with both cameras' intrinsics (pixel-index
// convention, as the estimator's).
type geoSource struct {
	depth              []float32 // nil: the source has no map
	w, h               int
	r                  [9]float32 // reference camera frame → source camera frame
	t                  [3]float32
	fx, fy, cx, cy     float32 // the source's
	rfx, rfy, rcx, rcy float32 // the reference's
}

// newGeoSource returns the geometric term's data for source sv (depth map
// dm, nil for none) of reference rv.
func newGeoSource(rv, sv *View, dm *DepthMap) geoSource {
	rr, t := relativeMotion(rv, sv)
	g := geoSource{
		fx: float32(sv.K[0]), fy: float32(sv.K[1]), cx: float32(sv.K[2] - 0.5), cy: float32(sv.K[3] - 0.5),
		rfx: float32(rv.K[0]), rfy: float32(rv.K[1]), rcx: float32(rv.K[2] - 0.5), rcy: float32(rv.K[3] - 0.5),
	}
	for i := range t {
		g.t[i] = float32(t[i])
	}
	for i := range rr {
		g.r[i] = float32(rr[i])
	}
	if dm != nil && dm.W == sv.W && dm.H == sv.H {
		g.depth, g.w, g.h = dm.Depth, dm.W, dm.H
	}
	return g
}

// roundTrip returns the reprojection error in reference pixels of the
// point at depth d on the ray (rx, ry, 1) of reference pixel (x, y): into
// the source, onto the source's depth there, and back; maxErr when the
// point leaves the source image or the source has no depth there.
func (g *geoSource) roundTrip(x, y int, rx, ry, d, maxErr float32) float32 {
	if g.depth == nil {
		return maxErr
	}
	X, Y, Z := rx*d, ry*d, d
	sx := g.r[0]*X + g.r[1]*Y + g.r[2]*Z + g.t[0]
	sy := g.r[3]*X + g.r[4]*Y + g.r[5]*Z + g.t[1]
	sz := g.r[6]*X + g.r[7]*Y + g.r[8]*Z + g.t[2]
	if !(sz > 0) {
		return maxErr
	}
	u, v := g.fx*sx/sz+g.cx+0.5, g.fy*sy/sz+g.cy+0.5 // +0.5: round to the nearest pixel index
	if !(u >= 0 && v >= 0 && u < float32(g.w) && v < float32(g.h)) {
		return maxErr
	}
	qi, qj := int(u), int(v)
	ds := g.depth[qj*g.w+qi]
	if ds <= 0 {
		return maxErr
	}
	// The source's point at that pixel, back in the reference frame: Rᵀ(s − t).
	px := (float32(qi)-g.cx)/g.fx*ds - g.t[0]
	py := (float32(qj)-g.cy)/g.fy*ds - g.t[1]
	pz := ds - g.t[2]
	bx := g.r[0]*px + g.r[3]*py + g.r[6]*pz
	by := g.r[1]*px + g.r[4]*py + g.r[7]*pz
	bz := g.r[2]*px + g.r[5]*py + g.r[8]*pz
	if !(bz > 0) {
		return maxErr
	}
	du := g.rfx*bx/bz + g.rcx - float32(x)
	dv := g.rfy*by/bz + g.rcy - float32(y)
	return min(maxErr, float32(math.Sqrt(float64(du*du+dv*dv))))
}

// geoRefine runs the geometric-consistency pass on view ref: PatchMatch at
// the working size from its own map, scoring against sources with their
// maps (maps[i] for views[i]; nil for none). Pixels without a depth in
// maps[ref] stay without one.
func geoRefine(ctx context.Context, ref int, views []*View, sources []int, maps []*DepthMap, near, far float64, it int, o *Options) (*DepthMap, error) {
	e, err := newEstimator(ref, views, sources, near, far, o)
	if err != nil {
		return nil, err
	}
	init := maps[ref]
	for p, d := range init.Depth {
		if d <= 0 {
			e.refVar[p] = 0
		}
	}
	for _, s := range sources[:len(e.src)] {
		e.geo = append(e.geo, newGeoSource(views[ref], views[s], maps[s]))
	}
	e.geoWeight, e.geoMax = float32(o.GeoWeight), float32(o.GeoMaxError)
	if o.GeoSettled > 0 {
		e.settled, e.geoSettled = make([]bool, len(init.Depth)), float32(o.GeoSettled)
	}
	e.iterations, e.firstIteration = o.GeoIterations, it
	e.nregions = 4
	if err := e.run(ctx, init); err != nil {
		return nil, err
	}
	if o.SmoothRadius > 0 {
		if err := smooth(ctx, e.dm, e.fx, e.fy, e.cx, e.cy, o.SmoothRadius, float32(o.SmoothTol), o.Workers); err != nil {
			return nil, err
		}
	}
	return e.dm, nil
}
