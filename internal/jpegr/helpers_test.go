package jpegr

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// sample is a named JPEG file to decode in tests.
type sample struct {
	name string
	data []byte
}

// fixtures returns the ImageMagick-made JPEGs under testdata (see
// testdata/README.md), sorted by name.
func fixtures(tb testing.TB) []sample {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	if err != nil {
		tb.Fatal(err)
	}
	if len(names) == 0 {
		tb.Fatal("no fixtures under testdata")
	}
	slices.Sort(names)
	var out []sample
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, sample{strings.TrimSuffix(filepath.Base(name), ".jpg"), data})
	}
	return out
}

// encodedSamples returns JPEGs written by image/jpeg's encoder (4:2:0 colour
// and greyscale) at sizes that are not multiples of the 16-pixel MCU,
// including the degenerate 1×1, and at a quality of 100 whose ringing
// overshoots [0, 255] and so exercises clamping.
func encodedSamples(tb testing.TB) []sample {
	tb.Helper()
	var out []sample
	for _, size := range []image.Point{{1, 1}, {7, 5}, {16, 16}, {33, 17}, {250, 131}} {
		for _, quality := range []int{50, 100} {
			rgba := texture(size.X, size.Y, uint64(size.X*1000+size.Y))
			grey := image.NewGray(rgba.Rect)
			for y := range size.Y {
				for x := range size.X {
					grey.Set(x, y, rgba.At(x, y))
				}
			}
			for _, m := range []struct {
				kind string
				img  image.Image
			}{{"colour", rgba}, {"grey", grey}} {
				var buf bytes.Buffer
				if err := jpeg.Encode(&buf, m.img, &jpeg.Options{Quality: quality}); err != nil {
					tb.Fatal(err)
				}
				name := fmt.Sprintf("%s-%dx%d-q%d", m.kind, size.X, size.Y, quality)
				out = append(out, sample{name, buf.Bytes()})
			}
		}
	}
	return out
}

// texture returns a deterministic photo-like test image: smooth gradients
// and waves of several frequencies, a few hard edges and some noise, with
// the three channels differing so that chroma is not flat.
func texture(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			fx, fy := float64(x), float64(y)
			base := 110 + 70*math.Sin(fx*0.013+fy*0.007) + 25*math.Sin(fx*0.21)*math.Cos(fy*0.13)
			if (x/37+y/23)%5 == 0 { // hard-edged patches
				base += 60
			}
			var c [3]uint8
			for i := range c {
				v := base + 30*math.Sin(fx*0.05*float64(i+1)+fy*0.02) + rng.NormFloat64()*6
				c[i] = uint8(math.Round(math.Max(0, math.Min(255, v))))
			}
			img.SetRGBA(x, y, color.RGBA{c[0], c[1], c[2], 255})
		}
	}
	return img
}

// reference holds what the reduced decoder should reproduce, computed from
// image/jpeg's full-size output.
type reference struct {
	half                  []float64 // 2×2 box-filtered luma, row-major
	halfW, halfH          int
	meanY, meanCb, meanCr float64
}

// stdReference decodes data with image/jpeg and box-filters its luma: each
// half-size sample is the mean of the full-size samples it covers, fewer at
// an odd width's last column or an odd height's last row. It reports false
// for images that are neither greyscale nor YCbCr.
func stdReference(tb testing.TB, data []byte) (reference, bool) {
	tb.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("image/jpeg: %v", err)
	}
	var lum func(x, y int) uint8
	switch m := img.(type) {
	case *image.Gray:
		lum = func(x, y int) uint8 { return m.Pix[m.PixOffset(x, y)] }
	case *image.YCbCr:
		lum = func(x, y int) uint8 { return m.Y[m.YOffset(x, y)] }
	default:
		return reference{}, false
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	ref := reference{halfW: (w + 1) / 2, halfH: (h + 1) / 2, meanCb: 128, meanCr: 128}
	ref.half = make([]float64, ref.halfW*ref.halfH)
	counts := make([]float64, len(ref.half))
	var sumY float64
	for y := range h {
		for x := range w {
			v := float64(lum(x, y))
			i := (y/2)*ref.halfW + x/2
			ref.half[i] += v
			counts[i]++
			sumY += v
		}
	}
	for i := range ref.half {
		ref.half[i] /= counts[i]
	}
	if w*h > 0 {
		ref.meanY = sumY / float64(w*h)
	}
	if ycc, ok := img.(*image.YCbCr); ok && w*h > 0 {
		// Average every chroma sample of the planes once, however many
		// pixels it covers.
		seen := make(map[int]bool)
		var sumCb, sumCr float64
		for y := range h {
			for x := range w {
				o := ycc.COffset(x, y)
				if !seen[o] {
					seen[o] = true
					sumCb += float64(ycc.Cb[o])
					sumCr += float64(ycc.Cr[o])
				}
			}
		}
		ref.meanCb, ref.meanCr = sumCb/float64(len(seen)), sumCr/float64(len(seen))
	}
	return ref, true
}
