package capture

import (
	"image"
	"math"
	"sort"
)

// Quality holds a photo's per-photo measures, all computed on the working
// resolution luminance (WorkSize on the long side), so they do not depend
// on the camera's megapixels.
type Quality struct {
	// Sharpness is the edge sharpness: the mean absolute Laplacian over the
	// mean gradient magnitude on the image's edges, in the sharpest quarter
	// of its tiles, × 100. It does not depend on contrast or brightness;
	// blurring a photo by a Gaussian of sigma pixels divides it by about
	// √(1 + sigma²). Sharp photos score roughly 120–250.
	Sharpness float64 `json:"sharpness"`
	// Brightness is the mean luminance in [0, 1] (sRGB coded).
	Brightness float64 `json:"brightness"`
	// Clipped and Crushed are the shares of pixels at the top (≥ 250) and
	// bottom (≤ 5) of the 8-bit range.
	Clipped float64 `json:"clipped"`
	Crushed float64 `json:"crushed"`
}

// tiles is the side of the grid of tiles sharpness is measured in.
const tiles = 8

// measureQuality computes the Quality of a luminance image.
func measureQuality(g *image.Gray) Quality {
	var q Quality
	b := g.Bounds()
	w, h := b.Dx(), b.Dy()
	if w < 8 || h < 8 {
		return q
	}
	var sum, clipped, crushed int
	for y := 0; y < h; y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for _, v := range row {
			sum += int(v)
			if v >= 250 {
				clipped++
			} else if v <= 5 {
				crushed++
			}
		}
	}
	n := float64(w * h)
	q.Brightness = float64(sum) / n / 255
	q.Clipped = float64(clipped) / n
	q.Crushed = float64(crushed) / n

	// Edge sharpness per tile: Σ|∇²I| / Σ|∇I| over pixels on edges, where
	// the gradient is at least edgeMin (8-bit levels per pixel, central
	// differences), so flat areas and sensor noise do not count. For a step
	// edge blurred by a Gaussian of width s, |∇²I| integrates to about
	// 0.48·C/s across the edge and |∇I| to C, so the ratio falls as 1/s
	// whatever the contrast C. (Laplacian-based focus measures: Pertuz et
	// al., "Analysis of focus measure operators for shape-from-focus",
	// Pattern Recognition 46(5), 2013, §2.)
	const edgeMin = 6.0
	var lap, grad [tiles * tiles]float64
	var cnt [tiles * tiles]int
	for y := 1; y < h-1; y++ {
		ty := y * tiles / h
		r0 := g.Pix[(y-1)*g.Stride:]
		r1 := g.Pix[y*g.Stride:]
		r2 := g.Pix[(y+1)*g.Stride:]
		for x := 1; x < w-1; x++ {
			gx := (float64(r1[x+1]) - float64(r1[x-1])) / 2
			gy := (float64(r2[x]) - float64(r0[x])) / 2
			gm := math.Sqrt(gx*gx + gy*gy)
			if gm < edgeMin {
				continue
			}
			l := float64(r0[x]) + float64(r2[x]) + float64(r1[x-1]) + float64(r1[x+1]) - 4*float64(r1[x])
			t := ty*tiles + x*tiles/w
			lap[t] += math.Abs(l)
			grad[t] += gm
			cnt[t]++
		}
	}
	// Tiles need enough edge pixels to say anything: 1 % of the tile.
	minCount := max(20, w*h/(tiles*tiles)/100)
	var ratios []float64
	for t := range lap {
		if cnt[t] >= minCount && grad[t] > 0 {
			ratios = append(ratios, lap[t]/grad[t])
		}
	}
	if len(ratios) == 0 {
		return q // a featureless image: no edges to judge
	}
	sort.Float64s(ratios)
	top := ratios[len(ratios)*3/4:]
	s := 0.0
	for _, r := range top {
		s += r
	}
	q.Sharpness = 100 * s / float64(len(top))
	return q
}

// luminanceRatio returns how much brighter a is than b in linear light,
// from their sRGB-coded mean luminances (approximate: the mean of a
// nonlinear signal, good enough to compare exposures).
func luminanceRatio(a, b float64) float64 {
	la, lb := srgbToLinear(a), srgbToLinear(b)
	if lb <= 1e-6 {
		lb = 1e-6
	}
	return la / lb
}

func srgbToLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }
