package synth

import (
	"image"
	"math"
	"math/rand/v2"

	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// scene is what the photos show: the part on a textured cutting mat, the
// optional scale sheet under it, a table around the mat and a wall behind.
type scene struct {
	part       *solid
	sheet      *markers.Sheet // nil: no sheet
	light      vec            // unit vector towards the key light
	key        float64        // key light strength
	ambient    float64
	seed       uint32
	matHalf    float64 // the mat is a square of side 2·matHalf centred on the origin
	pixelAngle float64 // radians per pixel at the image centre (1/fx)
}

// Surface ids of the scene besides the part's (which are ≥ 0): they only
// need to differ where the image has an edge.
const (
	idPaper int32 = -1 - iota
	idInk
	idMat
	idTable
	idWall
	idShadow int32 = 1 << 29 // or-ed in where the key light is blocked
)

// Reflectances (linear RGB). The part looks like a light grey print sprayed
// with a scanning speckle; the mat like a grey-green cutting mat.
var (
	partAlbedo  = [3]float64{0.72, 0.71, 0.68}
	matAlbedo   = [3]float64{0.30, 0.40, 0.34}
	tableAlbedo = [3]float64{0.45, 0.32, 0.20}
	paperAlbedo = 0.86
	inkAlbedo   = 0.045
	wallColour  = [3]float64{0.55, 0.56, 0.58}
	partOctaves = []octave{{6, 0.45}, {3, 0.6}, {1.5, 0.7}, {0.75, 0.6}}
	matOctaves  = []octave{{20, 0.35}, {8, 0.5}, {4, 0.6}, {2, 0.65}, {1, 0.55}}
	tableOct    = []octave{{40, 0.5}, {12, 0.4}, {3, 0.3}}
)

// sample returns the linear radiance seen along the unit ray o + t·d and the
// id of the surface hit.
func (sc *scene) sample(o, d vec, tr *tracer) ([3]float64, int32) {
	tPart, tPlane := math.Inf(1), math.Inf(1)
	var h hit
	if ph, ok := sc.part.firstHit(o, d, 1e-6, tr); ok {
		h, tPart = ph, ph.t
	}
	if d.Z < 0 {
		tPlane = -o.Z / d.Z
	}
	switch {
	case !math.IsInf(tPart, 1) && tPart <= tPlane+1e-6:
		p := r3.Add(o, r3.Scale(tPart, d))
		n := h.n
		if r3.Dot(n, d) > 0 {
			n = r3.Scale(-1, n)
		}
		cos := math.Max(math.Abs(r3.Dot(n, d)), 0.25)
		fp := tPart * sc.pixelAngle / cos
		t := clamp01(0.52 + 1.5*fbm3(p, partOctaves, fp, sc.seed))
		alb := [3]float64{partAlbedo[0] * t, partAlbedo[1] * t, partAlbedo[2] * t}
		return sc.lit(alb, p, n, h.id, tr)
	case !math.IsInf(tPlane, 1):
		p := r3.Add(o, r3.Scale(tPlane, d))
		fp := tPlane * sc.pixelAngle / math.Max(-d.Z, 0.05)
		var alb [3]float64
		var id int32
		ink, on := false, false
		if sc.sheet != nil {
			ink, on = sc.sheet.Ink(p.X, p.Y)
		}
		switch {
		case on && ink:
			alb, id = [3]float64{inkAlbedo, inkAlbedo, inkAlbedo}, idInk
		case on:
			alb, id = [3]float64{paperAlbedo, paperAlbedo, paperAlbedo * 0.98}, idPaper
		case math.Abs(p.X) <= sc.matHalf && math.Abs(p.Y) <= sc.matHalf:
			t := clamp01(0.5 + 1.6*fbm2(p.X, p.Y, matOctaves, fp, sc.seed+101))
			alb = [3]float64{matAlbedo[0] * (0.35 + t), matAlbedo[1] * (0.35 + t), matAlbedo[2] * (0.35 + t)}
			id = idMat
		default: // wood grain: stretched along x
			t := clamp01(0.5 + fbm2(p.X*0.25, p.Y*2, tableOct, fp, sc.seed+202))
			alb = [3]float64{tableAlbedo[0] * (0.6 + t), tableAlbedo[1] * (0.6 + t), tableAlbedo[2] * (0.6 + t)}
			id = idTable
		}
		return sc.lit(alb, p, vec{Z: 1}, id, tr)
	}
	g := 0.85 + 0.15*d.Z
	return [3]float64{wallColour[0] * g, wallColour[1] * g, wallColour[2] * g}, idWall
}

// lit applies Lambertian shading with ambient light and a key light that
// the part can shadow.
func (sc *scene) lit(alb [3]float64, p, n vec, id int32, tr *tracer) ([3]float64, int32) {
	e := sc.ambient
	if c := r3.Dot(n, sc.light); c > 0 {
		o := r3.Add(p, r3.Scale(1e-3, n))
		if _, blocked := sc.part.firstHit(o, sc.light, 1e-6, tr); blocked {
			id |= idShadow
		} else {
			e += sc.key * c
		}
	}
	return [3]float64{alb[0] * e, alb[1] * e, alb[2] * e}, id
}

func clamp01(x float64) float64 { return math.Min(1, math.Max(0, x)) }

// frame is one rendered photo in linear light.
type frame struct {
	w, h int
	rgb  []float32 // 3 per pixel
}

// aaGrid is the side of the stratified sample grid used on edge pixels.
const aaGrid = 4

// render draws the view: one ray through each pixel centre, then, where a
// pixel's surface id differs from a neighbour's (an edge of the part, the
// sheet's ink, a shadow), aaGrid×aaGrid stratified rays averaged — adaptive
// supersampling in the manner of Whitted (CACM 23(6), 1980). Texture is
// band-limited instead (see noise.go), so flat areas need one ray.
func (sc *scene) render(in Intrinsics, p pose, tr *tracer) *frame {
	w, h := in.Width, in.Height
	f := &frame{w: w, h: h, rgb: make([]float32, 3*w*h)}
	ids := make([]int32, w*h)
	Rt := p.R.transpose()
	ray := func(u, v float64) vec {
		return unit(Rt.mul(vec{X: (u - in.Cx) / in.Fx, Y: (v - in.Cy) / in.Fy, Z: 1}))
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c, id := sc.sample(p.C, ray(float64(x)+0.5, float64(y)+0.5), tr)
			i := y*w + x
			f.rgb[3*i], f.rgb[3*i+1], f.rgb[3*i+2] = float32(c[0]), float32(c[1]), float32(c[2])
			ids[i] = id
		}
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			id := ids[i]
			if !(x > 0 && ids[i-1] != id || x+1 < w && ids[i+1] != id || y > 0 && ids[i-w] != id || y+1 < h && ids[i+w] != id) {
				continue
			}
			var acc [3]float64
			for sy := 0; sy < aaGrid; sy++ {
				for sx := 0; sx < aaGrid; sx++ {
					u := float64(x) + (float64(sx)+0.5)/aaGrid
					v := float64(y) + (float64(sy)+0.5)/aaGrid
					c, _ := sc.sample(p.C, ray(u, v), tr)
					acc[0] += c[0]
					acc[1] += c[1]
					acc[2] += c[2]
				}
			}
			const inv = 1.0 / (aaGrid * aaGrid)
			f.rgb[3*i], f.rgb[3*i+1], f.rgb[3*i+2] = float32(acc[0]*inv), float32(acc[1]*inv), float32(acc[2]*inv)
		}
	}
	return f
}

// blur applies a separable Gaussian blur of the given sigma in pixels
// (simulating a missed focus or camera shake), clamping at the borders.
func (f *frame) blur(sigma float64) {
	if sigma <= 0 {
		return
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float32, 2*r+1)
	var sum float32
	for i := range k {
		x := float64(i - r)
		k[i] = float32(math.Exp(-x * x / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(f.rgb))
	pass := func(src, dst []float32, n, m, stride, step int) {
		// n lines of m samples; sample j of line i is at i*stride + j*step.
		for i := 0; i < n; i++ {
			for j := 0; j < m; j++ {
				var a [3]float32
				for t := -r; t <= r; t++ {
					jj := min(max(j+t, 0), m-1)
					o := 3 * (i*stride + jj*step)
					kw := k[t+r]
					a[0] += kw * src[o]
					a[1] += kw * src[o+1]
					a[2] += kw * src[o+2]
				}
				o := 3 * (i*stride + j*step)
				dst[o], dst[o+1], dst[o+2] = a[0], a[1], a[2]
			}
		}
	}
	pass(f.rgb, tmp, f.h, f.w, f.w, 1)
	pass(tmp, f.rgb, f.w, f.h, 1, f.w)
}

// srgbLUT maps linear [0, 1] in 4096 steps to 8-bit sRGB (IEC 61966-2-1).
var srgbLUT = func() [4097]float32 {
	var t [4097]float32
	for i := range t {
		c := float64(i) / 4096
		if c <= 0.0031308 {
			c *= 12.92
		} else {
			c = 1.055*math.Pow(c, 1/2.4) - 0.055
		}
		t[i] = float32(255 * c)
	}
	return t
}()

// image converts to 8-bit sRGB with the given exposure factor and sensor
// noise of noiseSigma grey levels (seeded, so outputs are reproducible).
func (f *frame) image(exposure, noiseSigma float64, rng *rand.Rand) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, f.w, f.h))
	for i := 0; i < f.w*f.h; i++ {
		for c := 0; c < 3; c++ {
			l := float64(f.rgb[3*i+c]) * exposure
			idx := int(math.Min(math.Max(l, 0), 1) * 4096)
			v := float64(srgbLUT[idx]) + rng.NormFloat64()*noiseSigma
			img.Pix[4*i+c] = uint8(math.Min(math.Max(math.Round(v), 0), 255))
		}
		img.Pix[4*i+3] = 255
	}
	return img
}

// partBounds returns the part's world bounding box.
func (c *solid) bounds() geom.Box { return c.root.bounds }
