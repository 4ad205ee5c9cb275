package holes

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// hole decides whether blob b of the face's differing cells is a capped
// hole: it returns the hole and "" if so, else the reason it is not (and
// the hole as far as it got, nil for a blob too small to say anything of).
func (r *region) hole(m *geom.Mesh, b []int32, state []uint8, score []float32, regions []*region, cams []*camera, step, edge, slack float64) (*Hole, string) {
	if len(b) < minCells {
		return nil, ""
	}
	filled := fillBlob(b, r.w, r.h)
	nf, nd := 0, 0
	for _, in := range filled {
		if in {
			nf++
		}
	}
	for _, c := range b {
		if state[c] == differs {
			nd++
		}
	}
	ol := traceOutline(filled, r.w, r.h, 0, edge/step)
	for range 4 {
		r.refine(ol, cams, slack)
		ol.recentre()
	}
	h := &Hole{
		Centre: r.at(ol.ci, ol.cj),
		Axis:   r3.Scale(-1, r.n),
		Area:   ol.area() * step * step,
		top:    r,
	}
	h.Diameter = 2 * math.Sqrt(h.Area/math.Pi)
	if nd < minCells || float64(nd) < 0.3*float64(nf) {
		return h, "the photos disagree on scattered patches only"
	}
	for k := range ol.r {
		x, y := ol.point(k)
		for _, d := range [][2]float64{{0, 0}, {1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
			if !r.in(int(math.Round(x+d[0])), int(math.Round(y+d[1]))) {
				return h, "it reaches the edge of its face"
			}
		}
	}
	caps := make([]float64, 0, nd)
	for _, c := range b {
		if state[c] == differs {
			caps = append(caps, float64(score[c]))
		}
	}
	h.CapNCC = median(caps)
	for k := range ol.r {
		x, y := ol.point(k)
		h.outline = append(h.outline, r.at(x, y))
	}

	// How thick the part is under the opening, and what face it runs out
	// of: the nearest flat face facing the other way along the axis (the
	// surface that closed the hole may cross the axis before it), else
	// the part's far side.
	skip := make(map[int32]bool, len(r.faces))
	for _, f := range r.faces {
		skip[f] = true
	}
	hits := rayHits(m, h.Centre, h.Axis, skip)
	if len(hits) == 0 {
		return h, "nothing of the part lies under it"
	}
	var exit *region
	thick := hits[len(hits)-1].t
	for _, x := range hits {
		for _, e := range regions {
			if e != r && r3.Dot(e.n, r.n) < -math.Cos(3*math.Pi/180) && slices.Contains(e.faces, x.f) {
				exit = e
				break
			}
		}
		if exit != nil {
			thick = x.t
			break
		}
	}
	h.thick = thick

	// The walls, band by band from the top, each band two patch rows
	// high, checked in the photos that see them through the opening.
	depths, nccs, seen := r.walls(h, ol, thick, cams, step)
	if len(depths) == 0 || !seen[0] {
		return h, "the photos do not see its walls"
	}
	if nccs[0] < wallNCC {
		return h, fmt.Sprintf("its walls do not match the photos either (agreement %.2f)", nccs[0])
	}
	var good []float64
	for k := range depths {
		if seen[k] && nccs[k] >= wallNCC {
			good = append(good, nccs[k])
			h.SeenDepth = depths[k] + step
		}
	}
	h.WallNCC = median(good)
	// The bottom: a flat floor at the depth where the photos agree on it
	// best. Walls cannot tell how deep a hole is, since only the few
	// photos opposite a wall see it through the opening, from about the
	// same direction; a floor is seen through the opening from all
	// round.
	bd, bn, bs := r.bottoms(h, ol, thick, cams, step)
	// A floor is where the agreement peaks, high: deeper, fewer photos
	// see through the opening, from closer directions, and agree more on
	// anything, so the last depths seen do not count.
	best, deepest := -1, 0.0
	for k := range bd {
		if !bs[k] {
			continue
		}
		deepest = bd[k]
		if k == 0 || k+1 >= len(bd) || !bs[k+1] || bn[k] < floorNCC || bn[k] < bn[k-1] || bn[k] < bn[k+1] {
			continue
		}
		// … and falls again below it, where photos still see through:
		// agreement that only climbs until nobody sees that deep is the
		// narrowing view, not a floor.
		falls := false
		for j := k + 1; j < len(bd) && j <= k+8 && bs[j]; j++ {
			if bn[j] <= bn[k]-floorDrop {
				falls = true
				break
			}
		}
		if !falls {
			continue
		}
		if best < 0 || bn[k] > bn[best] {
			best = k
		}
	}
	seenDepth := math.Max(h.SeenDepth, deepest)
	switch {
	case best >= 0 && bd[best] < thick-2*step:
		h.Depth = bd[best]
	case exit != nil && (best >= 0 || seenDepth >= thick/2 || thick-seenDepth <= h.Diameter):
		h.Depth, h.Through, h.exit = thick, true, exit
	default:
		h.Depth = seenDepth
	}
	if !h.Through && exit != nil && h.Depth > thick-2*step {
		h.Depth, h.Through, h.exit = thick, true, exit
	}
	if !h.Through {
		h.Depth = math.Min(h.Depth, thick-2*step)
		if h.Depth < 2*step {
			return h, "it is too shallow to cut"
		}
	}
	return h, ""
}

// walls checks the walls of hole h (outline ol on face r) in bands down
// to depth thick, and returns each band's depth (its centre), the median
// agreement of its patches and whether enough photos saw it.
func (r *region) walls(h *Hole, ol *outline, thick float64, cams []*camera, step float64) (depths, nccs []float64, seen []bool) {
	k := len(h.outline)
	s := newScratch(len(cams))
	for d := float64(half+1) * step; d+float64(half)*step <= thick; d += 2 * step {
		var vals []float64
		for i := range k {
			p := h.outline[i]
			t := r3.Unit(r3.Sub(h.outline[(i+1)%k], h.outline[(i+k-1)%k]))
			w := r3.Cross(r.n, t)
			if r3.Dot(w, r3.Sub(h.Centre, p)) < 0 {
				w = r3.Scale(-1, w)
			}
			q := r3.Sub(p, r3.Scale(d, r.n))
			pt := patch{o: q, a: r3.Scale(step, t), b: r3.Scale(step, r.n), half: half}
			through := func(c *camera) bool { return r.seenThrough(ol, q, c, step) }
			v := s.compare(&pt, w, wallCos, cams, through, 0)
			if v.views >= 1 && v.sd >= minSD {
				vals = append(vals, v.ncc)
			}
		}
		n, ok := band(vals, max(6, k/8))
		depths, nccs, seen = append(depths, d), append(nccs, n), append(seen, ok)
	}
	return depths, nccs, seen
}

// bottoms checks a flat floor of hole h at each depth down to thick, in
// the photos that see it through the opening, and returns each depth, the
// median agreement of the floor's patches and whether enough photos saw
// it there.
func (r *region) bottoms(h *Hole, ol *outline, thick float64, cams []*camera, step float64) (depths, nccs []float64, seen []bool) {
	// The floor's sample points, every two patch steps inside the outline.
	reach := slices.Max(ol.r)
	var pts [][2]float64
	for j := -reach; j <= reach; j += 2 {
		for i := -reach; i <= reach; i += 2 {
			if ol.inside(ol.ci+i, ol.cj+j, float64(half+1)) {
				pts = append(pts, [2]float64{ol.ci + i, ol.cj + j})
			}
		}
	}
	if len(pts) == 0 {
		return nil, nil, nil
	}
	s := newScratch(len(cams))
	for d := 2 * step; d <= thick+step/2; d += step {
		var vals []float64
		for _, c := range pts {
			q := r3.Sub(r.at(c[0], c[1]), r3.Scale(d, r.n))
			pt := patch{o: q, a: r3.Scale(step, r.u), b: r3.Scale(step, r.v), half: half}
			through := func(c *camera) bool { return r.seenThrough(ol, q, c, step) }
			v := s.compare(&pt, r.n, wallCos, cams, through, 0)
			if v.views >= 2 && v.sd >= minSD {
				vals = append(vals, v.ncc)
			}
		}
		n, ok := band(vals, max(6, len(pts)/8))
		depths, nccs, seen = append(depths, d), append(nccs, n), append(seen, ok)
	}
	return depths, nccs, seen
}

// seenThrough reports whether camera c sees point q, inside the part
// under face r, through the opening ol: the line of sight crosses the
// face's plane inside the opening, a patch's width from its rim, where
// nothing else of the part hides it.
func (r *region) seenThrough(ol *outline, q r3.Vec, c *camera, step float64) bool {
	dir := r3.Sub(c.centre, q)
	nd := r3.Dot(r.n, dir)
	if nd <= 0 {
		return false
	}
	x := r3.Add(q, r3.Scale((r.d-r3.Dot(r.n, q))/nd, dir))
	xi, xj := r.coords(x)
	return ol.inside(xi, xj, float64(half+1)) && c.visible(x, 2*step)
}

// band returns the median agreement of a band's patches, and whether
// there were at least need of them to tell.
func band(vals []float64, need int) (float64, bool) {
	if len(vals) < need {
		return 0, false
	}
	return median(vals), true
}
