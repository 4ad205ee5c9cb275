package app

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"

	"github.com/replica3d/replica/capture"
)

// ringSize is the coverage ring's side in the capture screen's panel.
const ringSize = 160

// coverHalf is how far around a photo's direction it counts as covering,
// in degrees (capture's estimate uses the same 20°).
const coverHalf = 20.0

// Ring colours: photos' directions, covered, missing and unknown.
var (
	ringCovered = color.NRGBA{0x43, 0xa0, 0x47, 0xff}
	ringMissing = color.NRGBA{0xe5, 0x39, 0x35, 0xff}
	ringUnknown = color.NRGBA{0x80, 0x80, 0x80, 0x80}
	ringPhoto   = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// newCoverageRing returns a ring seen from above the part: green where
// photos cover the directions around it, red for the missing arcs, grey
// when the coverage is not known, a white tick for each placed photo.
func newCoverageRing(rep *capture.Report) *canvas.Raster {
	r := canvas.NewRaster(func(w, h int) image.Image { return drawRing(rep, w, h) })
	r.SetMinSize(fyne.NewSquareSize(ringSize))
	return r
}

// drawRing draws the ring into a w×h image. Azimuth 0 (the first photo)
// is at the top, angles grow clockwise.
func drawRing(rep *capture.Report, w, h int) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	if w <= 0 || h <= 0 || rep == nil {
		return img
	}
	var photos []float64
	for _, p := range rep.Photos {
		if p.Azimuth != nil && !math.IsNaN(*p.Azimuth) {
			photos = append(photos, *p.Azimuth)
		}
	}
	cx, cy := float64(w)/2, float64(h)/2
	outer := math.Min(cx, cy) - 1
	inner := outer * 0.72
	for y := range h {
		for x := range w {
			dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
			d := math.Hypot(dx, dy)
			if d < inner || d > outer {
				continue
			}
			az := math.Mod(math.Atan2(dx, -dy)*180/math.Pi+360, 360)
			img.SetNRGBA(x, y, ringColour(rep, photos, az, d > outer-(outer-inner)*0.3))
		}
	}
	return img
}

// ringColour is the ring's colour at azimuth az; tick is the outer band
// where photos are marked.
func ringColour(rep *capture.Report, photos []float64, az float64, tick bool) color.NRGBA {
	if tick {
		for _, p := range photos {
			if angleDiff(az, p) < 1.5 {
				return ringPhoto
			}
		}
	}
	if !rep.Coverage.Known {
		return ringUnknown
	}
	for _, a := range rep.Coverage.Missing {
		if inArc(az, a) {
			return ringMissing
		}
	}
	for _, p := range photos {
		if angleDiff(az, p) <= coverHalf {
			return ringCovered
		}
	}
	return ringMissing
}

// angleDiff is the angle between two directions in degrees, 0 to 180.
func angleDiff(a, b float64) float64 {
	d := math.Mod(math.Abs(a-b), 360)
	return math.Min(d, 360-d)
}

// inArc reports whether az lies in a, which runs clockwise From → To and
// may wrap through 0.
func inArc(az float64, a capture.Arc) bool {
	from, to := math.Mod(a.From+360, 360), math.Mod(a.To+360, 360)
	if from <= to {
		return az >= from && az <= to
	}
	return az >= from || az <= to
}
