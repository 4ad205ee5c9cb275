package mvs

import (
	"context"
	"errors"
	"fmt"
	"math"
)

// A DepthMap is the surface one view sees, pixel by pixel at the view's
// resolution: the depth along the optical axis (z in the camera frame) and
// the unit normal in the camera frame, facing the camera. Depth is 0 where
// there is no estimate: too little texture, the window off the image, or a
// final cost above Options.MaxCost.
type DepthMap struct {
	W, H   int
	Depth  []float32 // W·H
	Normal []float32 // 3·W·H
	Cost   []float32 // W·H: 1 − NCC, the mean of the best TopK source costs, in [0, 2]
}

func newDepthMap(w, h int) *DepthMap {
	return &DepthMap{W: w, H: h, Depth: make([]float32, w*h), Normal: make([]float32, 3*w*h), Cost: make([]float32, w*h)}
}

// Valid returns the number of pixels with a depth.
func (m *DepthMap) Valid() int {
	n := 0
	for _, d := range m.Depth {
		if d > 0 {
			n++
		}
	}
	return n
}

// worstCost is the cost of a hypothesis that cannot be scored: the window
// falls off a source image, behind its camera, or on a flat patch.
const worstCost = 2

// minStd is the smallest standard deviation of grey values (on a 0–1 scale)
// a source window needs to be matched, and the least Options.MinTexture
// can be: about half a grey level of an 8-bit image. Below it NCC is noise.
const minStd = 0.002

// maxSources bounds the source views per reference, so that per-hypothesis
// scratch lives on the stack.
const maxSources = 16

// EstimateDepth computes the depth map of views[ref] by matching it against
// the views listed in sources, looking for the surface between depths near
// and far. All views must already be at the working resolution
// (View.Scaled). It returns ctx.Err() if ctx is cancelled, and an
// *InputError wrapping ErrNoTexture if the reference has no pixel with
// texture enough to match.
func EstimateDepth(ctx context.Context, ref int, views []*View, sources []int, near, far float64, opts *Options) (*DepthMap, error) {
	o := opts.resolved()
	if ref < 0 || ref >= len(views) {
		return nil, fmt.Errorf("mvs: reference view %d of %d", ref, len(views))
	}
	for _, i := range append([]int{ref}, sources...) {
		if i < 0 || i >= len(views) || views[i] == nil {
			return nil, fmt.Errorf("mvs: view %d of %d is missing", i, len(views))
		}
		if err := views[i].Check(); err != nil {
			return nil, err
		}
	}
	// Pyramid: level 0 is the views as given, each level above half the
	// size of the one below, as long as the reference keeps minLevelSide
	// pixels on its shorter side.
	const minLevelSide = 48
	pyr := [][]*View{views}
	for len(pyr) < o.Levels {
		below := pyr[len(pyr)-1]
		if min(below[ref].W, below[ref].H)/2 < minLevelSide {
			break
		}
		level := make([]*View, len(views))
		for _, i := range append([]int{ref}, sources...) {
			if i >= 0 && i < len(views) && level[i] == nil {
				level[i] = half(below[i])
			}
		}
		pyr = append(pyr, level)
	}
	var dm *DepthMap
	it := 0 // iterations so far, which set the refinement's range
	for l := len(pyr) - 1; l >= 0; l-- {
		e, err := newEstimator(ref, pyr[l], sources, near, far, &o)
		if err != nil {
			return nil, err
		}
		e.iterations, e.firstIteration = o.Iterations, it
		var init *DepthMap
		if dm != nil {
			e.iterations = o.FineIterations
			e.nregions = 4 // the coarse level found the planes; refine them locally
			init = e.upsample(dm, pyr[l+1][ref])
		}
		if err := e.run(ctx, init); err != nil {
			if l > 0 && errors.Is(err, ErrNoTexture) {
				continue // texture too fine for this level; the next has more
			}
			return nil, err
		}
		it += e.iterations
		dm = e.dm
		if l == 0 && o.SmoothRadius > 0 {
			if err := smooth(ctx, dm, e.fx, e.fy, e.cx, e.cy, o.SmoothRadius, float32(o.SmoothTol), o.Workers); err != nil {
				return nil, err
			}
		}
		if l == 0 && o.EdgeRadius > 0 {
			if err := trimEdges(ctx, dm, e.fx, e.fy, e.cx, e.cy, o.EdgeRadius, float32(o.EdgeJump), o.Workers); err != nil {
				return nil, err
			}
		}
	}
	return dm, nil
}

// half returns v at half its size, without colour.
func half(v *View) *View {
	g := *v
	g.RGB = nil
	return g.Scaled((max(v.W, v.H) + 1) / 2)
}

// upsample returns, for each pixel of e's reference, the plane of the pixel
// of coarse (the depth map of the reference at a coarser level, cv) that
// covers it; the camera frame is the same at every level, so a plane
// carries over as is.
func (e *estimator) upsample(coarse *DepthMap, cv *View) *DepthMap {
	dm := newDepthMap(e.w, e.h)
	sx, sy := float32(coarse.W)/float32(e.w), float32(coarse.H)/float32(e.h)
	cfx, cfy := float32(cv.K[0]), float32(cv.K[1])
	ccx, ccy := float32(cv.K[2]-0.5), float32(cv.K[3]-0.5)
	for y := range e.h {
		cy := min(coarse.H-1, int((float32(y)+0.5)*sy))
		for x := range e.w {
			cx := min(coarse.W-1, int((float32(x)+0.5)*sx))
			q := cy*coarse.W + cx
			d := coarse.Depth[q]
			if d <= 0 {
				continue
			}
			n := coarse.Normal[3*q : 3*q+3]
			delta := d * (n[0]*(float32(cx)-ccx)/cfx + n[1]*(float32(cy)-ccy)/cfy + n[2])
			rx, ry := e.ray(x, y)
			den := n[0]*rx + n[1]*ry + n[2]
			if den >= 0 {
				continue
			}
			p := y*e.w + x
			dm.Depth[p] = delta / den
			copy(dm.Normal[3*p:3*p+3], n)
		}
	}
	return dm
}

// estimator holds what PatchMatch needs of one reference view. Pixel
// coordinates here are pixel indices: pixel (i, j) is at (i, j), half a
// pixel off COLMAP's corner convention, which the intrinsics absorb.
type estimator struct {
	o              *Options
	name           string // the reference's, for messages
	w, h           int
	img            []float32
	fx, fy, cx, cy float32
	src            []source
	r, stride      int       // window radius and sampling stride
	side           int       // samples along a side of the window
	refVar         []float32 // Σw·r² − (Σw·r)²/Σw over each pixel's window; 0: not matched
	minVar         float32   // the smallest weighted variance of a reference window
	texWeight      []float32 // the same for the texture floor
	weight         []float32 // bilateral weight by grey difference (weightSteps per unit); nil: all 1
	near, far      float32
	lo, hi         float32 // depths a propagated plane may take
	topK           int
	regions        [8][]offset
	nregions       int // regions used: all 8, or the 4 near ones at fine levels
	seed           uint64
	refine         bool // false only in tests of propagation alone
	iterations     int  // of propagation and refinement
	firstIteration int  // iterations done at coarser levels
	dm             *DepthMap
	// The geometric-consistency pass's term (geo.go): per source, when
	// geo is not nil, geoWeight·(round-trip error in pixels, at most
	// geoMax) is added to the photometric cost.
	geo               []geoSource
	geoWeight, geoMax float32
	// settled, in the geometric pass, marks the pixels whose depth already
	// round-trips within geoSettled pixels through TopK sources: the pass
	// leaves them as they are and refines only the others.
	settled    []bool
	geoSettled float32
}

type offset struct{ dx, dy, di int } // di = dy·w + dx

// A source is a view matched against the reference. A plane nᵀX = δ in the
// reference camera frame maps reference pixel x to source pixel
// H·x, H = A + b·mᵀ, with A = K_s·R_rel·K_r⁻¹, b = K_s·t_rel and
// m = K_r⁻ᵀ·n/δ (Hartley & Zisserman, Multiple View Geometry, 2nd ed.,
// §13.1, Result 13.1).
type source struct {
	cells []cell // (w−1)·(h−1), row by row
	w, h  int
	a     [9]float32
	b     [3]float32
}

func newEstimator(ref int, views []*View, sources []int, near, far float64, o *Options) (*estimator, error) {
	if ref < 0 || ref >= len(views) {
		return nil, fmt.Errorf("mvs: reference view %d of %d", ref, len(views))
	}
	rv := views[ref]
	if err := rv.Check(); err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, &InputError{Kind: ErrNoOverlap, Msg: fmt.Sprintf("photo %s overlaps no other photo", rv.Name),
			Hint: "Take photos that overlap by at least half, moving around the part in small steps"}
	}
	if !(near > 0 && far > near) || !finite(near, far) {
		return nil, fmt.Errorf("mvs: view %q: invalid depth range [%g, %g]", rv.Name, near, far)
	}
	if o.WindowRadius < 1 || o.Stride < 1 || o.Stride > o.WindowRadius {
		return nil, fmt.Errorf("mvs: window radius %d with stride %d", o.WindowRadius, o.Stride)
	}
	if len(sources) > maxSources {
		sources = sources[:maxSources]
	}
	e := &estimator{
		o: o, name: rv.Name, w: rv.W, h: rv.H, img: rv.Gray,
		fx: float32(rv.K[0]), fy: float32(rv.K[1]), cx: float32(rv.K[2] - 0.5), cy: float32(rv.K[3] - 0.5),
		r: o.WindowRadius, stride: o.Stride,
		near: float32(near), far: float32(far),
		lo: float32(0.8 * near), hi: float32(1.25 * far),
		topK: max(1, min(o.TopK, len(sources))),
		seed: o.Seed*0x9e3779b97f4a7c15 + uint64(ref), refine: true, iterations: o.Iterations,
		dm: newDepthMap(rv.W, rv.H),
	}
	for (2*e.r)%e.stride != 0 { // samples from −r to r, symmetric about the pixel
		e.r--
	}
	e.side = 2*e.r/e.stride + 1
	for _, s := range sources {
		if s < 0 || s >= len(views) || s == ref {
			return nil, fmt.Errorf("mvs: view %q: bad source view %d", rv.Name, s)
		}
		sv := views[s]
		if err := sv.Check(); err != nil {
			return nil, err
		}
		e.src = append(e.src, newSource(rv, sv))
	}
	e.regions = regions(e.w)
	e.nregions = len(e.regions)
	e.minVar = float32(max(o.MinTexture, minStd) * max(o.MinTexture, minStd))
	e.weight = weightTable(o.ColorSigma)
	e.texWeight = weightTable(o.TextureSigma)
	e.prepareRef()
	return e, nil
}

// relativeMotion returns the rigid motion from rv's camera frame to sv's:
// R_rel = R_s·R_rᵀ, t_rel = T_s − R_rel·T_r.
func relativeMotion(rv, sv *View) (rr [9]float64, t [3]float64) {
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				rr[3*i+j] += sv.R[3*i+k] * rv.R[3*j+k]
			}
		}
	}
	for i := range 3 {
		t[i] = sv.T[i] - (rr[3*i]*rv.T[0] + rr[3*i+1]*rv.T[1] + rr[3*i+2]*rv.T[2])
	}
	return rr, t
}

func newSource(rv, sv *View) source {
	rr, t := relativeMotion(rv, sv)
	ks := [9]float64{sv.K[0], 0, sv.K[2] - 0.5, 0, sv.K[1], sv.K[3] - 0.5, 0, 0, 1}
	fx, fy, cx, cy := rv.K[0], rv.K[1], rv.K[2]-0.5, rv.K[3]-0.5
	kri := [9]float64{1 / fx, 0, -cx / fx, 0, 1 / fy, -cy / fy, 0, 0, 1}
	a := mul3(mul3(ks, rr), kri)
	s := source{cells: cells(sv), w: sv.W, h: sv.H}
	for i := range a {
		s.a[i] = float32(a[i])
	}
	for i := range 3 {
		s.b[i] = float32(ks[3*i]*t[0] + ks[3*i+1]*t[1] + ks[3*i+2]*t[2])
	}
	return s
}

// A cell holds the bilinear interpolant between four neighbouring pixels
// a b / c d: a + (b−a)·u + (c−a)·v + (a−b−c+d)·u·v for u, v in [0, 1]. One
// cell per sample is one load and one bounds check.
type cell [4]float32

// cells returns the bilinear cells of v's grey image.
func cells(v *View) []cell {
	w, h := v.W, v.H
	if w < 2 || h < 2 {
		return nil
	}
	out := make([]cell, (w-1)*(h-1))
	for y := range h - 1 {
		r0, r1 := v.Gray[y*w:(y+1)*w], v.Gray[(y+1)*w:(y+2)*w]
		o := out[y*(w-1) : (y+1)*(w-1)]
		for x := range o {
			a, b, c, d := r0[x], r0[x+1], r1[x], r1[x+1]
			o[x] = cell{a, b - a, c - a, a - b - c + d}
		}
	}
	return out
}

func mul3(a, b [9]float64) [9]float64 {
	var c [9]float64
	for i := range 3 {
		for j := range 3 {
			c[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return c
}

// regions returns the eight sets of pixels a pixel takes candidates from
// (Xu & Tao 2019 §3.1, Fig. 2): for each of up, down, left and right a
// V-shaped region of 7 pixels near it and a strip of 11 pixels at odd
// distances 3 to 23. Every offset has an odd |dx|+|dy|, so it falls on the
// other colour of the checkerboard.
func regions(w int) [8][]offset {
	var vshape, strip [][2]int // pointing up: dy < 0
	vshape = append(vshape, [2]int{0, -1})
	for i := 1; i <= 3; i++ {
		vshape = append(vshape, [2]int{-i, -1 - i}, [2]int{i, -1 - i})
	}
	for d := 3; d <= 23; d += 2 {
		strip = append(strip, [2]int{0, -d})
	}
	// up (a, b) → down (a, −b), left (b, a), right (−b, a).
	turns := [4]func(a, b int) (int, int){
		func(a, b int) (int, int) { return a, b },
		func(a, b int) (int, int) { return a, -b },
		func(a, b int) (int, int) { return b, a },
		func(a, b int) (int, int) { return -b, a },
	}
	var out [8][]offset
	for k, turn := range turns {
		for _, v := range vshape {
			dx, dy := turn(v[0], v[1])
			out[k] = append(out[k], offset{dx, dy, dy*w + dx})
		}
		for _, v := range strip {
			dx, dy := turn(v[0], v[1])
			out[4+k] = append(out[4+k], offset{dx, dy, dy*w + dx})
		}
	}
	return out
}

// weightSteps is the resolution of the bilateral weight table: steps per
// unit of grey difference, about a quarter of an 8-bit grey level.
const weightSteps = 1024

// weightTable returns the bilateral weights exp(−Δ²/2σ²) for grey
// differences Δ from 0 to 1 in weightSteps steps; nil for σ ≤ 0.
func weightTable(sigma float64) []float32 {
	if !(sigma > 0) {
		return nil
	}
	t := make([]float32, weightSteps+1)
	for i := range t {
		d := float64(i) / weightSteps / sigma
		t[i] = float32(math.Exp(-d * d / 2))
	}
	return t
}

// wt returns the weight in table of a window sample of grey value v
// around a centre of grey value c: 1 for no table.
func wt(table []float32, v, c float32) float32 {
	if table == nil {
		return 1
	}
	return table[min(int(abs32(v-c)*weightSteps+0.5), weightSteps)]
}

// prepareRef computes each pixel's weighted window variance; pixels whose
// window leaves the image or is flat (Options.MinTexture) get refVar 0 and
// are never matched.
func (e *estimator) prepareRef() {
	e.refVar = make([]float32, e.w*e.h)
	for y := e.r; y < e.h-e.r; y++ {
		for x := e.r; x < e.w-e.r; x++ {
			p := y*e.w + x
			c := e.img[p]
			var sw, s, ss float32
			for dy := -e.r; dy <= e.r; dy += e.stride {
				row := e.img[(y+dy)*e.w+x-e.r : (y+dy)*e.w+x+e.r+1]
				for dx := 0; dx < len(row); dx += e.stride {
					v := row[dx]
					w := wt(e.texWeight, v, c)
					sw += w
					s += w * v
					ss += w * v * v
				}
			}
			if v := ss - s*s/sw; v > sw*e.minVar {
				e.refVar[p] = v
			}
		}
	}
}

// run initialises every pixel with init's hypothesis where it has one and
// at random elsewhere, then runs the iterations of propagation and
// refinement, then drops the depths whose cost is above MaxCost.
func (e *estimator) run(ctx context.Context, init *DepthMap) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	textured := 0
	for _, v := range e.refVar {
		if v > 0 {
			textured++
		}
	}
	if textured == 0 {
		return &InputError{Kind: ErrNoTexture, Msg: fmt.Sprintf("photo %s has no texture to match", e.name),
			Hint: "Light the part evenly and give plain surfaces texture: a matte spray, powder or stickers"}
	}
	dm := e.dm
	for i := range dm.Cost {
		dm.Cost[i] = worstCost
	}
	err := e.parallelRows(ctx, func(y int, s *scratch) {
		rng := newRNG(e.seed^uint64(e.w)<<40, 0, y)
		for x := e.r; x < e.w-e.r; x++ {
			p := y*e.w + x
			if e.refVar[p] == 0 {
				continue
			}
			rx, ry := e.ray(x, y)
			var d float32
			var n [3]float32
			if init != nil && init.Depth[p] > 0 {
				d = init.Depth[p]
				n = [3]float32{init.Normal[3*p], init.Normal[3*p+1], init.Normal[3*p+2]}
			} else {
				d = e.near + rng.float()*(e.far-e.near)
				n = rng.normalFacing(rx, ry)
			}
			dm.Depth[p] = d
			copy(dm.Normal[3*p:3*p+3], n[:])
			dm.Cost[p] = e.score(x, y, rx, ry, d, n, s)
			if e.settled != nil {
				agree := 0
				for i := range e.geo {
					if e.geo[i].roundTrip(x, y, rx, ry, d, e.geoMax) < e.geoSettled {
						agree++
					}
				}
				e.settled[p] = agree >= e.topK
			}
		}
	})
	if err != nil {
		return err
	}
	for i := range e.iterations {
		it := e.firstIteration + i
		for colour := range 2 {
			err := e.parallelRows(ctx, func(y int, s *scratch) {
				rng := newRNG(e.seed^uint64(e.w)<<40, uint64(1+2*it+colour), y)
				for x := e.r + (y+colour+e.r)%2; x < e.w-e.r; x += 2 {
					e.update(x, y, it, rng, s)
				}
			})
			if err != nil {
				return err
			}
		}
	}
	maxCost := float32(e.o.MaxCost)
	if e.geo != nil {
		maxCost += e.geoWeight * e.geoMax // the photometric cost was checked before
	}
	for p, c := range dm.Cost {
		if c > maxCost {
			dm.Depth[p] = 0
		}
	}
	return nil
}

// ray returns the reference camera-frame ray through pixel (x, y) with z = 1.
func (e *estimator) ray(x, y int) (rx, ry float32) {
	return (float32(x) - e.cx) / e.fx, (float32(y) - e.cy) / e.fy
}

// scratch is one worker's per-hypothesis storage.
type scratch struct {
	costs [maxSources]float32
	pix   int       // the pixel whose window ref holds, plus one (0: none)
	ref   []float32 // its window, weighted and normalised: Σ ref = 0, Σ ref²/w = 1
	w     []float32 // its samples' bilateral weights
	sw    float32   // their sum
	samp  []float32 // a source's samples of the window
}

// gather loads the weighted, normalised reference window of pixel (x, y)
// into s: r̂ᵢ = wᵢ·(rᵢ − r̄)/σ with r̄ and σ² the weighted mean and the
// weighted sum of squared deviations, so that Σ r̂ᵢ·sᵢ is the weighted
// covariance with any source window s over σ.
func (e *estimator) gather(x, y int, s *scratch) {
	n := e.side * e.side
	if len(s.ref) != n {
		s.ref = make([]float32, n)
		s.w = make([]float32, n)
		s.samp = make([]float32, n)
	}
	c := e.img[y*e.w+x]
	var sw, sum float32
	k := 0
	for yy := y - e.r; yy <= y+e.r; yy += e.stride {
		row := e.img[yy*e.w+x-e.r : yy*e.w+x+e.r+1]
		for xx := 0; xx < len(row); xx += e.stride {
			v := row[xx]
			w := wt(e.weight, v, c)
			s.ref[k], s.w[k] = v, w
			sw += w
			sum += w * v
			k++
		}
	}
	mean := sum / sw
	var ss float32
	for i, v := range s.ref {
		v -= mean
		s.ref[i] = s.w[i] * v
		ss += s.w[i] * v * v
	}
	inv := 1 / float32(math.Sqrt(float64(ss)))
	for i := range s.ref {
		s.ref[i] *= inv
	}
	s.sw = sw
	s.pix = y*e.w + x + 1
}

// parallelRows calls fn for every row whose windows fit the image, rows
// handed out one at a time to o.Workers goroutines. It checks ctx before
// each row and returns ctx.Err() if it was cancelled.
func (e *estimator) parallelRows(ctx context.Context, fn func(y int, s *scratch)) error {
	return parallelFor(ctx, e.r, e.h-e.r, e.o.Workers, func() func(int) {
		var s scratch
		return func(y int) { fn(y, &s) }
	})
}

// update runs propagation and refinement at pixel (x, y) in iteration it.
func (e *estimator) update(x, y, it int, rng *rng, s *scratch) {
	dm := e.dm
	w := e.w
	p := y*w + x
	if e.refVar[p] == 0 || (e.settled != nil && e.settled[p]) {
		return
	}
	rx, ry := e.ray(x, y)
	best := dm.Cost[p]
	bd := dm.Depth[p]
	bn := [3]float32{dm.Normal[3*p], dm.Normal[3*p+1], dm.Normal[3*p+2]}

	// Propagation: from each region, the plane of its best pixel. Planes
	// already tried here (neighbours often share one, and after upsampling
	// from a coarser level every 2×2 block does) are not scored again.
	var tried [9]plane3
	tried[0] = plane3{bn, bd}
	ntried := 1
	for k := range e.nregions {
		q, qc := -1, float32(worstCost)
		for _, off := range e.regions[k] {
			qx, qy := x+off.dx, y+off.dy
			if qx < 0 || qy < 0 || qx >= w || qy >= e.h {
				continue
			}
			if c := dm.Cost[p+off.di]; c < qc {
				q, qc = p+off.di, c
			}
		}
		if q < 0 || dm.Depth[q] <= 0 {
			continue
		}
		n := [3]float32{dm.Normal[3*q], dm.Normal[3*q+1], dm.Normal[3*q+2]}
		qx, qy := q%w, q/w
		qrx, qry := e.ray(qx, qy)
		delta := dm.Depth[q] * (n[0]*qrx + n[1]*qry + n[2])
		den := n[0]*rx + n[1]*ry + n[2]
		if den >= 0 {
			continue
		}
		d := delta / den
		if !(d > e.lo && d < e.hi) {
			continue
		}
		cand := plane3{n, d}
		seen := false
		for _, t := range tried[:ntried] {
			if t.same(cand) {
				seen = true
				break
			}
		}
		if seen {
			continue
		}
		tried[ntried] = cand
		ntried++
		if c := e.score(x, y, rx, ry, d, n, s); c < best {
			best, bd, bn = c, d, n
		}
	}

	// Refinement: perturb depth and normal, at a coarse and a fine scale
	// that both shrink fourfold per iteration.
	if e.refine {
		scale := float32(math.Pow(0.25, float64(it+1)))
		rd := (e.far - e.near) * scale
		rn := 2 * scale
		try := func(d float32, n [3]float32) {
			if !(d > e.lo && d < e.hi) || n[0]*rx+n[1]*ry+n[2] >= 0 {
				return
			}
			if c := e.score(x, y, rx, ry, d, n, s); c < best {
				best, bd, bn = c, d, n
			}
		}
		try(bd+rd*rng.signed(), rng.perturb(bn, rn))
		try(bd+rd/8*rng.signed(), bn)
		try(bd, rng.perturb(bn, rn/8))
	}
	dm.Cost[p] = best
	dm.Depth[p] = bd
	copy(dm.Normal[3*p:3*p+3], bn[:])
}

// plane3 is a plane hypothesis at a pixel: normal and depth.
type plane3 struct {
	n [3]float32
	d float32
}

// same reports whether a and b are the same plane up to float32 rounding.
func (a plane3) same(b plane3) bool {
	return a.n == b.n && abs32(a.d-b.d) <= 1e-6*a.d
}

// score returns the multi-view cost of the plane through depth d with
// normal n at reference pixel (x, y), whose ray is (rx, ry, 1): the mean of
// the topK lowest 1 − NCC over the sources (Galliani et al. 2015, Eq. 5).
func (e *estimator) score(x, y int, rx, ry, d float32, n [3]float32, s *scratch) float32 {
	delta := d * (n[0]*rx + n[1]*ry + n[2])
	if delta >= 0 {
		return worstCost
	}
	inv := 1 / delta
	m0 := n[0] / e.fx * inv
	m1 := n[1] / e.fy * inv
	m2 := (n[2] - n[0]*e.cx/e.fx - n[1]*e.cy/e.fy) * inv
	if s.pix != y*e.w+x+1 {
		e.gather(x, y, s)
	}
	costs := s.costs[:len(e.src)]
	for i := range e.src {
		src := &e.src[i]
		var h [9]float32
		for r := range 3 {
			b := src.b[r]
			h[3*r] = src.a[3*r] + b*m0
			h[3*r+1] = src.a[3*r+1] + b*m1
			h[3*r+2] = src.a[3*r+2] + b*m2
		}
		costs[i] = e.ncc(src, &h, x, y, s)
		if e.geo != nil {
			costs[i] += e.geoWeight * e.geo[i].roundTrip(x, y, rx, ry, d, e.geoMax)
		}
	}
	// Mean of the topK smallest, by partial selection sort (few sources).
	var sum float32
	for k := range e.topK {
		m := k
		for j := k + 1; j < len(costs); j++ {
			if costs[j] < costs[m] {
				m = j
			}
		}
		costs[k], costs[m] = costs[m], costs[k]
		sum += costs[k]
	}
	return sum / float32(e.topK)
}

// ncc returns 1 − NCC between the reference window at (x, y) and its image
// under homography h in src, sampled bilinearly; worstCost when the window
// leaves the source image, goes behind its camera, or is flat there.
func (e *estimator) ncc(src *source, h *[9]float32, x, y int, sc *scratch) float32 {
	fr := float32(e.r)
	x0, y0 := float32(x)-fr, float32(y)-fr
	// Homogeneous source point of the window's first sample.
	p0 := h[0]*x0 + h[1]*y0 + h[2]
	p1 := h[3]*x0 + h[4]*y0 + h[5]
	p2 := h[6]*x0 + h[7]*y0 + h[8]
	// The window maps to a quadrilateral, convex while it stays in front of
	// the source camera: inside the image if its corners are, with a
	// margin for the rounding of the running sums below.
	const margin = 0.01
	umax, vmax := float32(src.w-1)-margin, float32(src.h-1)-margin
	for _, c := range [4][2]float32{{0, 0}, {2, 0}, {0, 2}, {2, 2}} {
		q0 := p0 + c[0]*fr*h[0] + c[1]*fr*h[1]
		q1 := p1 + c[0]*fr*h[3] + c[1]*fr*h[4]
		q2 := p2 + c[0]*fr*h[6] + c[1]*fr*h[7]
		if !(q2 > 0) {
			return worstCost
		}
		u, v := q0/q2, q1/q2
		if !(u >= margin && v >= margin && u < umax && v < vmax) {
			return worstCost
		}
	}
	fst := float32(e.stride)
	sx0, sx1, sx2 := h[0]*fst, h[3]*fst, h[6]*fst // steps along a row
	sy0, sy1, sy2 := h[1]*fst, h[4]*fst, h[7]*fst // steps down a column
	cw := src.w - 1
	cs := src.cells
	samp := sc.samp[:e.side*e.side]
	k := 0
	for range e.side {
		q0, q1, q2 := p0, p1, p2
		for range e.side {
			iz := 1 / q2
			u, v := q0*iz, q1*iz
			iu, iv := int(u), int(v)
			fu, fv := u-float32(iu), v-float32(iv)
			c := &cs[iv*cw+iu]
			samp[k] = c[0] + fu*c[1] + fv*(c[2]+fu*c[3])
			q0, q1, q2 = q0+sx0, q1+sx1, q2+sx2
			k++
		}
		p0, p1, p2 = p0+sy0, p1+sy1, p2+sy2
	}
	// With the reference window weighted and normalised (gather), the
	// weighted NCC is Σ r̂·s / √(Σw·s² − (Σw·s)²/Σw).
	ref := sc.ref[:len(samp)]
	wts := sc.w[:len(samp)]
	var ss, sss, srs float32
	for i, s := range samp {
		ws := wts[i] * s
		ss += ws
		sss += ws * s
		srs += ref[i] * s
	}
	vs := sss - ss*ss/sc.sw
	if vs <= sc.sw*minStd*minStd {
		return worstCost
	}
	return 1 - srs/float32(math.Sqrt(float64(vs)))
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// rng is splitmix64 (Steele et al., OOPSLA 2014): tiny, fast and good
// enough for sampling hypotheses. Each row of each pass seeds its own, so
// results do not depend on how rows are shared among workers.
type rng struct{ s uint64 }

func newRNG(seed, pass uint64, row int) *rng {
	r := &rng{seed ^ pass*0xbf58476d1ce4e5b9 ^ uint64(row)*0x94d049bb133111eb}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// float returns a uniform value in [0, 1).
func (r *rng) float() float32 { return float32(r.next()>>40) / (1 << 24) }

// signed returns a uniform value in [−1, 1).
func (r *rng) signed() float32 { return 2*r.float() - 1 }

// normalFacing returns a random unit normal facing the camera along the
// ray (rx, ry, 1), uniform over the hemisphere.
func (r *rng) normalFacing(rx, ry float32) [3]float32 {
	z := float64(r.signed())
	phi := 2 * math.Pi * float64(r.float())
	s := math.Sqrt(1 - z*z)
	n := [3]float32{float32(s * math.Cos(phi)), float32(s * math.Sin(phi)), float32(z)}
	if n[0]*rx+n[1]*ry+n[2] > 0 {
		n = [3]float32{-n[0], -n[1], -n[2]}
	}
	return n
}

// perturb returns n moved by a random vector of up to size s in each
// coordinate, normalised.
func (r *rng) perturb(n [3]float32, s float32) [3]float32 {
	m := [3]float32{n[0] + s*r.signed(), n[1] + s*r.signed(), n[2] + s*r.signed()}
	l := float32(math.Sqrt(float64(m[0]*m[0] + m[1]*m[1] + m[2]*m[2])))
	if l == 0 {
		return n
	}
	return [3]float32{m[0] / l, m[1] / l, m[2] / l}
}
