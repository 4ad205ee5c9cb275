package match

import (
	"cmp"
	"image"
	"math"
	"slices"
	"sync"
)

// Defaults for [Options].
const (
	// DefaultMaxFeatures is the number of keypoints Detect keeps, at most.
	DefaultMaxFeatures = 1000
	// DefaultLevels is the number of pyramid levels; with
	// DefaultScaleFactor the coarsest level is 1.2⁷ ≈ 3.6 times smaller
	// than the image, as in the ORB paper and OpenCV.
	DefaultLevels = 8
	// DefaultScaleFactor is the size ratio between consecutive levels.
	DefaultScaleFactor = 1.2
	// DefaultFASTThreshold is the grey-level difference of the FAST
	// segment test (OpenCV's and ORB-SLAM's default).
	DefaultFASTThreshold = 20
)

// Geometry of the descriptor patch, in pixels of a pyramid level.
const (
	// patchRadius is the radius of the disc used for the orientation and
	// for the BRIEF sampling pattern: ORB's 31×31 patch.
	patchRadius = 15
	// boxRadius is the half-size of the 5×5 box each BRIEF test averages.
	boxRadius = 2
	// edge is the closest a keypoint may be to the border of its level:
	// the rotated pattern stays within patchRadius (it lies in that disc
	// and is rounded to whole pixels), its boxes reach boxRadius further,
	// and one more pixel is spare. The orientation disc needs patchRadius,
	// FAST 3 and the Harris window 4.
	edge = patchRadius + boxRadius + 1
	// minLevelSize is the smallest level side that can hold a keypoint.
	minLevelSize = 2*edge + 1
	// harrisK is the Harris constant k used by ORB (OpenCV's HARRIS_K).
	harrisK = 0.04
	// preselect is how many times its quota of corners a level keeps by
	// FAST score before ranking them by Harris response.
	preselect = 4
	// maxFeatures bounds Options.MaxFeatures.
	maxFeatures = 1 << 20
)

// Options tunes [Detect]. A nil *Options means all defaults; a zero or
// negative field means that field's default.
type Options struct {
	// MaxFeatures is the most keypoints kept over all levels
	// (DefaultMaxFeatures; at most 2²⁰).
	MaxFeatures int
	// Levels is the number of pyramid levels (DefaultLevels). Levels whose
	// smaller side would fall under 37 pixels are dropped.
	Levels int
	// ScaleFactor is the ratio between the sides of consecutive levels;
	// it must be above 1 (DefaultScaleFactor).
	ScaleFactor float64
	// FASTThreshold is the grey-level difference (1 to 254) by which 9
	// contiguous pixels of the circle must all be brighter or all darker
	// than the centre (DefaultFASTThreshold).
	FASTThreshold int
	// Upright skips the orientation: every keypoint gets angle 0 and the
	// descriptors are not steered. Features match only features detected
	// with the same setting.
	Upright bool
	// AlsoUpright fills Features.UprightDesc too (ignored with Upright).
	// Steered descriptors match photos whose content turns in the frame,
	// as it does for a part on a table seen from above; upright ones find
	// about twice the verified matches between upright photos of a deep
	// object taken from different sides (monstree's hard pairs), since
	// the angle of a textured patch is itself noisy. Detecting once and
	// describing both ways costs a few milliseconds.
	AlsoUpright bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxFeatures <= 0 {
		r.MaxFeatures = DefaultMaxFeatures
	}
	r.MaxFeatures = min(r.MaxFeatures, maxFeatures)
	if r.Levels <= 0 {
		r.Levels = DefaultLevels
	}
	if !(r.ScaleFactor > 1) || math.IsInf(r.ScaleFactor, 0) {
		r.ScaleFactor = DefaultScaleFactor
	}
	if r.FASTThreshold <= 0 {
		r.FASTThreshold = DefaultFASTThreshold
	}
	r.FASTThreshold = min(r.FASTThreshold, 254)
	return r
}

// Keypoint is an oriented corner found by [Detect].
type Keypoint struct {
	// X, Y is the position in pixels of the level-0 image (the one given
	// to Detect), relative to its top-left corner; the centre of pixel
	// (i, j) is at (i, j).
	X, Y float64
	// Angle is the orientation in radians, in (−π, π], measured from +x
	// towards +y (clockwise as seen on screen, since y points down).
	Angle float64
	// Score is the Harris response at the keypoint, on the pixels of its
	// level; larger means a stronger corner.
	Score float32
	// Level is the pyramid level the keypoint was found on; 0 is the
	// image itself.
	Level int
	// Size is the diameter of the described patch in level-0 pixels:
	// 31 times the level's scale.
	Size float64
}

// Features are the keypoints of one image and their descriptors.
type Features struct {
	// Width and Height are the size of the image in pixels.
	Width, Height int
	// Keypoints are ordered by level, then by decreasing Score.
	Keypoints []Keypoint
	// Desc[i] is the 256-bit steered BRIEF descriptor of Keypoints[i];
	// bit k of the descriptor is bit k%64 of Desc[i][k/64].
	Desc [][4]uint64
	// UprightDesc[i], when Options.AlsoUpright asked for it, is the BRIEF
	// descriptor of Keypoints[i] with the pattern not steered.
	UprightDesc [][4]uint64
}

// AsUpright returns f with its upright descriptors in Desc, for matching
// against the same of another image, or nil when f has none.
func (f *Features) AsUpright() *Features {
	if f == nil || f.UprightDesc == nil {
		return nil
	}
	u := *f
	u.Desc, u.UprightDesc = f.UprightDesc, nil
	return &u
}

// corner is a candidate keypoint on one level.
type corner struct {
	x, y   int32
	harris float32
	fast   uint8 // FAST score
}

// Detect finds up to o.MaxFeatures ORB keypoints in img and describes them.
// It never fails: an image that is nil, too small to hold a 37×37 patch,
// whose Pix is too short for its Rect, or without corners yields Features
// with no keypoints. Detect is safe for concurrent use.
func Detect(img *image.Gray, o *Options) *Features {
	opt := o.withDefaults()
	f := &Features{}
	if img == nil {
		return f
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	f.Width, f.Height = w, h
	if w < minLevelSize || h < minLevelSize || img.Stride < w || len(img.Pix) < (h-1)*img.Stride+w {
		return f
	}

	// Level sizes: each level is ScaleFactor times smaller than the one
	// before, until a side gets too small.
	type level struct {
		w, h   int
		sx, sy float64 // level-0 pixels per level pixel
		pix    []uint8
	}
	levels := []level{{w: w, h: h, sx: 1, sy: 1}}
	total := w * h
	for l := 1; l < opt.Levels; l++ {
		s := math.Pow(opt.ScaleFactor, float64(l))
		lw, lh := int(math.Round(float64(w)/s)), int(math.Round(float64(h)/s))
		if lw < minLevelSize || lh < minLevelSize {
			break
		}
		levels = append(levels, level{w: lw, h: lh, sx: float64(w) / float64(lw), sy: float64(h) / float64(lh)})
		total += lw * lh
	}

	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.reset(total, w*h, opt.FASTThreshold)

	// Level 0 is a tight copy of img; each level after it is resampled
	// from the one before.
	off := 0
	for i := range levels {
		n := levels[i].w * levels[i].h
		levels[i].pix = s.slab[off : off+n : off+n]
		off += n
	}
	for y := range h {
		copy(levels[0].pix[y*w:y*w+w], img.Pix[y*img.Stride:y*img.Stride+w])
	}
	for i := 1; i < len(levels); i++ {
		p, c := &levels[i-1], &levels[i]
		s.resize(p.pix, p.w, p.h, c.pix, c.w, c.h)
	}

	// Per-level quotas fall geometrically with the level's scale, as in
	// OpenCV's ORB: n_l ∝ (1/ScaleFactor)^l, summing to MaxFeatures. A
	// level that cannot fill its quota passes the rest to the next.
	quotas := make([]int, len(levels))
	inv := 1 / opt.ScaleFactor
	per := float64(opt.MaxFeatures) * (1 - inv) / (1 - math.Pow(inv, float64(len(levels))))
	sum := 0
	for l := range quotas {
		quotas[l] = int(math.Round(per * math.Pow(inv, float64(l))))
		sum += quotas[l]
	}
	quotas[0] = max(0, quotas[0]+opt.MaxFeatures-sum)

	n := min(opt.MaxFeatures, 1<<14) // room for the usual counts only
	f.Keypoints = make([]Keypoint, 0, n)
	f.Desc = make([][4]uint64, 0, n)
	if opt.AlsoUpright && !opt.Upright {
		f.UprightDesc = make([][4]uint64, 0, n)
	}
	carry := 0
	for l := range levels {
		lv := &levels[l]
		quota := quotas[l] + carry
		cands := s.detectFAST(lv.pix, lv.w, lv.h)
		// Harris responses are costly and textured photos have tens of
		// thousands of corners per level: first keep the best few times
		// the quota by FAST score, spread the same way (OpenCV keeps the
		// best 2× by FAST score before ranking by Harris).
		if len(cands) > preselect*quota {
			cands = s.spread(s.sortByFAST(cands), lv.w, lv.h, preselect*quota)
		}
		for i := range cands {
			cands[i].harris = harris(lv.pix, lv.w, int(cands[i].x), int(cands[i].y))
		}
		slices.SortFunc(cands, func(a, b corner) int {
			if c := cmp.Compare(b.harris, a.harris); c != 0 {
				return c
			}
			if c := cmp.Compare(a.y, b.y); c != 0 {
				return c
			}
			return cmp.Compare(a.x, b.x)
		})
		kept := s.spread(cands, lv.w, lv.h, quota)
		carry = quota - len(kept)
		scale := math.Sqrt(lv.sx * lv.sy)
		for _, c := range kept {
			x, y := int(c.x), int(c.y)
			angle := 0.0
			if !opt.Upright {
				angle = icAngle(lv.pix, lv.w, x, y)
			}
			var d [4]uint64
			describe(lv.pix, lv.w, x, y, angle, &d)
			f.Keypoints = append(f.Keypoints, Keypoint{
				X:     (float64(x)+0.5)*lv.sx - 0.5,
				Y:     (float64(y)+0.5)*lv.sy - 0.5,
				Angle: angle,
				Score: c.harris,
				Level: l,
				Size:  (2*patchRadius + 1) * scale,
			})
			f.Desc = append(f.Desc, d)
			if opt.AlsoUpright && !opt.Upright {
				describe(lv.pix, lv.w, x, y, 0, &d)
				f.UprightDesc = append(f.UprightDesc, d)
			}
		}
	}
	return f
}

// scratch holds the buffers of one Detect call, reused across levels and,
// through scratchPool, across calls.
type scratch struct {
	fast   [512]uint8 // fast[255+d] classifies a difference d: 1 darker, 2 brighter
	thr    int
	slab   []uint8 // the pixels of all levels
	score  []uint8 // FAST score map of the current level, 0 = no corner
	cands  []corner
	sorted []corner
	cells  []int32
	taken  []bool
	// resize: source column and weight of each output column, and two
	// source rows interpolated along x.
	x0, wx     []int32
	row0, row1 []int32
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// reset sizes the buffers for levels of total pixels, the largest of
// level0 pixels, and FAST threshold thr.
func (s *scratch) reset(total, level0, thr int) {
	s.slab = slices.Grow(s.slab[:0], total)[:total]
	s.score = slices.Grow(s.score[:0], level0)[:level0]
	if s.thr != thr {
		s.thr = thr
		for i := range s.fast {
			switch d := i - 255; {
			case d < -thr:
				s.fast[i] = 1
			case d > thr:
				s.fast[i] = 2
			default:
				s.fast[i] = 0
			}
		}
	}
}

// spread keeps up to quota of the corners of a w×h level, which come
// sorted strongest first, and spreads them over a grid: the level is cut
// into about quota square cells; a first pass, strongest first, takes up
// to max(1, ⌊quota/occupied cells⌋) corners from each cell, which cannot
// overrun the quota, so every cell with a corner gets its share; a second
// pass fills the rest of the quota with the strongest corners not yet
// taken. Texture-rich areas still get more corners, but cannot take them
// all. The corners kept stay in order.
func (s *scratch) spread(cands []corner, w, h, quota int) []corner {
	if quota <= 0 {
		return cands[:0]
	}
	if len(cands) <= quota {
		return cands
	}
	side := max(8, int(math.Sqrt(float64(w*h)/float64(quota))))
	gw, gh := (w+side-1)/side, (h+side-1)/side
	s.cells = slices.Grow(s.cells[:0], gw*gh)[:gw*gh]
	clear(s.cells)
	occupied := 0
	for _, c := range cands {
		k := int(c.y)/side*gw + int(c.x)/side
		if s.cells[k] == 0 {
			occupied++
		}
		s.cells[k] = 1
	}
	capacity := int32(max(1, quota/occupied))
	clear(s.cells)
	s.taken = slices.Grow(s.taken[:0], len(cands))[:len(cands)]
	clear(s.taken)
	n := 0
	for i, c := range cands {
		if n == quota {
			break
		}
		k := int(c.y)/side*gw + int(c.x)/side
		if s.cells[k] < capacity {
			s.cells[k]++
			s.taken[i] = true
			n++
		}
	}
	for i := range cands {
		if n == quota {
			break
		}
		if !s.taken[i] {
			s.taken[i] = true
			n++
		}
	}
	// Compact in place, keeping the Harris order.
	kept := cands[:0]
	for i, c := range cands {
		if s.taken[i] {
			kept = append(kept, c)
		}
	}
	return kept
}

// sortByFAST returns cands sorted by decreasing FAST score, in raster
// order within a score, by a counting sort into s.sorted.
func (s *scratch) sortByFAST(cands []corner) []corner {
	var start [257]int
	for _, c := range cands {
		start[255-int(c.fast)+1]++
	}
	for k := 1; k < len(start); k++ {
		start[k] += start[k-1]
	}
	s.sorted = slices.Grow(s.sorted[:0], len(cands))[:len(cands)]
	for _, c := range cands {
		k := 255 - int(c.fast)
		s.sorted[start[k]] = c
		start[k]++
	}
	return s.sorted
}

// resize resamples src (sw×sh) into dst (dw×dh) bilinearly, mapping
// pixel centres onto pixel centres, with 8-bit fixed-point weights. Each
// source row is interpolated along x once and kept while the output rows
// need it.
func (s *scratch) resize(src []uint8, sw, sh int, dst []uint8, dw, dh int) {
	rx, ry := float64(sw)/float64(dw), float64(sh)/float64(dh)
	s.x0 = slices.Grow(s.x0[:0], dw)[:dw]
	s.wx = slices.Grow(s.wx[:0], dw)[:dw]
	s.row0 = slices.Grow(s.row0[:0], dw)[:dw]
	s.row1 = slices.Grow(s.row1[:0], dw)[:dw]
	for x := range dw {
		i, t := sourceIndex(x, rx, sw)
		s.x0[x] = int32(i)
		s.wx[x] = int32(math.Round(t * 256))
	}
	x0, wx := s.x0, s.wx[:dw]
	along := func(j int, out []int32) {
		r := src[j*sw : j*sw+sw]
		out = out[:len(x0)]
		for x, i := range x0 {
			a, b := int32(r[i]), int32(r[i+1])
			out[x] = a*256 + (b-a)*wx[x]
		}
	}
	loaded := -2 // source row held in row0; row1 holds the next one
	for y := range dh {
		j, t := sourceIndex(y, ry, sh)
		switch j {
		case loaded:
		case loaded + 1:
			s.row0, s.row1 = s.row1, s.row0
			along(j+1, s.row1)
		default:
			along(j, s.row0)
			along(j+1, s.row1)
		}
		loaded = j
		wy := int32(math.Round(t * 256))
		out := dst[y*dw : y*dw+dw]
		r0, r1 := s.row0[:len(out)], s.row1[:len(out)]
		for x := range out {
			a := r0[x]
			out[x] = uint8((a*256 + (r1[x]-a)*wy + 1<<15) >> 16)
		}
	}
}

// sourceIndex maps output index x of a resampling by ratio r onto the
// source: the pixel i at or left of its centre, with i+1 also in the
// source of size n, and the weight t of pixel i+1.
func sourceIndex(x int, r float64, n int) (int, float64) {
	f := (float64(x)+0.5)*r - 0.5
	i := int(math.Floor(f))
	t := f - float64(i)
	if i < 0 {
		i, t = 0, 0
	}
	if i >= n-1 {
		i, t = n-2, 1
	}
	return i, t
}

// harris is the Harris response at (x, y) over a 7×7 window of 3×3 Sobel
// gradients, normalised so that it does not depend on the window size.
func harris(pix []uint8, w, x, y int) float32 {
	var a, b, c int
	// Rows y−4 … y+4, columns x−4 … x+4: the window and the Sobel border.
	var rows [9]*[9]uint8
	for r := range rows {
		i := (y-4+r)*w + x - 4
		rows[r] = (*[9]uint8)(pix[i : i+9])
	}
	for r := 1; r < 8; r++ {
		up, mid, dn := rows[r-1], rows[r], rows[r+1]
		for k := 1; k < 8; k++ {
			ix := int(up[k+1]) + 2*int(mid[k+1]) + int(dn[k+1]) - int(up[k-1]) - 2*int(mid[k-1]) - int(dn[k-1])
			iy := int(dn[k-1]) + 2*int(dn[k]) + int(dn[k+1]) - int(up[k-1]) - 2*int(up[k]) - int(up[k+1])
			a += ix * ix
			b += iy * iy
			c += ix * iy
		}
	}
	// Sobel gradients reach 4·255; scale them to [−1, 1] and average over
	// the 49 pixels.
	const norm = 1.0 / (4 * 255 * 4 * 255 * 49)
	fa, fb, fc := float64(a)*norm, float64(b)*norm, float64(c)*norm
	return float32(fa*fb - fc*fc - harrisK*(fa+fb)*(fa+fb))
}
