package mvs

import "runtime"

// Options tune dense reconstruction. The zero value of a field means the
// standard preset's value; a nil *Options means DefaultOptions("standard").
type Options struct {
	// MaxSize is the longer side of the working images in pixels; larger
	// photos are downsampled. Negative keeps the photos' size.
	MaxSize int
	// Levels is the number of levels of the image pyramid: each view's
	// depth is estimated at 1/2^(Levels−1) of the working size first, then
	// refined at each larger size (Xu & Tao 2019 §3.2). 1 means no pyramid.
	Levels int
	// Iterations of propagation and refinement at the coarsest level, and
	// FineIterations at each level below it.
	Iterations, FineIterations int
	// Neighbors is the number of source views matched against each view.
	Neighbors int
	// TopK: a hypothesis's cost is the mean of its TopK best source costs.
	TopK int
	// WindowRadius and Stride: the matching window spans
	// (2·WindowRadius+1)² pixels, of which every Stride-th in each
	// direction is sampled.
	WindowRadius, Stride int
	// ColorSigma weights the window's samples bilaterally (Galliani et al.
	// 2015 §3; Xu & Tao 2019): a sample whose grey value (0–1) differs from
	// the centre pixel's by Δ counts exp(−Δ²/2σ²), so a window straddling
	// an edge matches mostly the side its centre is on. Negative: every
	// sample counts the same.
	ColorSigma float64
	// MinTexture is the smallest standard deviation of grey values (0–1)
	// a reference window needs to be matched, over its samples weighted
	// as ColorSigma does with TextureSigma: windows flatter than it hold
	// no more than image noise, which PatchMatch would fit. The tighter
	// TextureSigma makes "flat" mean flat among the samples that look like
	// the centre, so a pixel of a plain sheet beside a textured part is
	// flat even though its window reaches onto the part, and does not take
	// the part's depth (edge fattening). Negative TextureSigma: every
	// sample counts the same.
	MinTexture, TextureSigma float64
	// SmoothRadius and SmoothTol: each final depth becomes the mean of the
	// depths its neighbours' planes give at its pixel, over a
	// (2·SmoothRadius+1)² window, leaving out the planes more than SmoothTol
	// (relative) off it: a local plane fit that keeps depth edges.
	// Negative SmoothRadius: no smoothing.
	SmoothRadius int
	SmoothTol    float64
	// EdgeRadius and EdgeJump: a final depth is dropped when within
	// EdgeRadius pixels there is a depth more than EdgeJump (relative)
	// deeper than its plane gives there: it is on the near side of an
	// occluding contour, where PatchMatch extends the foreground into the
	// air (edge fattening). Negative EdgeRadius: no trimming.
	EdgeRadius int
	EdgeJump   float64
	// GeoIterations of the geometric-consistency pass (ACMM, Xu & Tao
	// 2019 §3.3) refine every depth map at the working size once all
	// exist, adding GeoWeight × each source's forward–backward
	// reprojection error (pixels, at most GeoMaxError) to its photometric
	// cost. Negative: no such pass.
	GeoIterations          int
	GeoWeight, GeoMaxError float64
	// GeoSettled: the geometric pass leaves alone the pixels whose depth
	// already round-trips within GeoSettled pixels through TopK sources,
	// refining only the others. Negative: it refines every pixel.
	GeoSettled float64
	// MaxCost: a pixel whose final cost (1 − NCC, 0 best, 2 worst) is above
	// it gets no depth.
	MaxCost float64
	// MinConsistent is how many views other than the reference must agree
	// with a depth for fusion to keep it.
	MinConsistent int
	// MaxReprojError (pixels at the working resolution) and MaxDepthDiff
	// (relative) are the geometric consistency tolerances of fusion.
	MaxReprojError, MaxDepthDiff float64
	// FreeSpaceViews and FreeSpaceDepth: a fused point is dropped when at
	// least FreeSpaceViews depth maps see a surface more than FreeSpaceDepth
	// (relative) beyond it, and outnumber those that see it (see
	// carveFreeSpace). Negative FreeSpaceViews: no such test.
	FreeSpaceViews int
	FreeSpaceDepth float64
	// Workers is the number of goroutines; 0 means runtime.GOMAXPROCS(0).
	Workers int
	// Seed makes the random initialisation and refinement reproducible.
	Seed uint64
	// Progress, when set, is called after each view's depth map and after
	// fusion, from the caller's goroutine. total is the number of views
	// plus one.
	Progress func(done, total int)
}

// DefaultOptions returns the options of a quality preset: "draft",
// "standard" or "high". Any other name gives "standard".
//
// The presets differ mainly in working resolution, which sets both the time
// (proportional to the pixels) and the accuracy (depth error proportional
// to the pixel size). Standard's 1100 px long side gives 0.40 mm pixels on a
// part 320 mm from a camera with a 1167 px focal length at 1600 px width;
// slanted-plane matching locates the surface to a fraction of a pixel. On
// `make bench-dense` (30 such photos of an 80 mm bracket on a mat) 96% of
// the fused points are within 0.24 mm of the scene (90% of those near the
// part) and 91% of the visible part within 0.4 mm of a point, in 72 s on
// two cores (1000 px: 89% near the part, 90% covered, 61 s; 1200 px: 92%
// and 92%, 45% slower). Draft skips the geometric pass.
func DefaultOptions(preset string) Options {
	o := Options{
		MaxSize:        1100,
		Levels:         3,
		Iterations:     3,
		FineIterations: 1,
		Neighbors:      4,
		TopK:           2,
		WindowRadius:   4, // a 9×9 window…
		Stride:         2, // …sampled on every other row and column: 25 samples
		ColorSigma:     0.07,
		MinTexture:     0.008,
		TextureSigma:   0.02,
		SmoothRadius:   3,
		SmoothTol:      0.005,
		EdgeRadius:     2,
		EdgeJump:       0.01,
		GeoIterations:  1,
		GeoWeight:      0.2,
		GeoMaxError:    3,
		GeoSettled:     0.5,
		MaxCost:        0.5,
		MinConsistent:  2, // ACMM's rule: two views besides the reference
		MaxReprojError: 1,
		MaxDepthDiff:   0.003,
		FreeSpaceViews: 3,
		FreeSpaceDepth: 0.002,
		Seed:           1,
	}
	switch preset {
	case "draft":
		o.MaxSize = 700
		o.GeoIterations = -1 // a quarter of the time for 2 points near the part
	case "high":
		o.MaxSize = -1
		o.FineIterations = 2
		o.Neighbors = 6
		o.TopK = 3
		o.WindowRadius = 5 // Gipuma's 11×11 window, 36 samples
	}
	return o
}

// resolved returns o with zero fields set from the standard preset.
func (o *Options) resolved() Options {
	d := DefaultOptions("standard")
	if o == nil {
		d.Workers = runtime.GOMAXPROCS(0)
		return d
	}
	r := *o
	def := func(v *int, dv int) {
		if *v == 0 {
			*v = dv
		}
	}
	deff := func(v *float64, dv float64) {
		if *v == 0 {
			*v = dv
		}
	}
	def(&r.MaxSize, d.MaxSize)
	def(&r.Levels, d.Levels)
	def(&r.Iterations, d.Iterations)
	def(&r.FineIterations, d.FineIterations)
	def(&r.Neighbors, d.Neighbors)
	def(&r.TopK, d.TopK)
	def(&r.WindowRadius, d.WindowRadius)
	deff(&r.ColorSigma, d.ColorSigma)
	deff(&r.MinTexture, d.MinTexture)
	deff(&r.TextureSigma, d.TextureSigma)
	def(&r.Stride, d.Stride)
	def(&r.MinConsistent, d.MinConsistent)
	def(&r.Workers, runtime.GOMAXPROCS(0))
	def(&r.SmoothRadius, d.SmoothRadius)
	deff(&r.SmoothTol, d.SmoothTol)
	def(&r.EdgeRadius, d.EdgeRadius)
	deff(&r.EdgeJump, d.EdgeJump)
	def(&r.GeoIterations, d.GeoIterations)
	deff(&r.GeoWeight, d.GeoWeight)
	deff(&r.GeoMaxError, d.GeoMaxError)
	deff(&r.GeoSettled, d.GeoSettled)
	deff(&r.MaxCost, d.MaxCost)
	deff(&r.MaxReprojError, d.MaxReprojError)
	deff(&r.MaxDepthDiff, d.MaxDepthDiff)
	def(&r.FreeSpaceViews, d.FreeSpaceViews)
	deff(&r.FreeSpaceDepth, d.FreeSpaceDepth)
	return r
}
