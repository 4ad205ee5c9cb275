package markers

import (
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"
)

// raceEnabled reports whether the test binary was built with -race, which
// slows decoding and detection about tenfold. The build settings say so,
// which spares this package a race_on_test.go and race_off_test.go pair.
var raceEnabled = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}()

// RaceEnabled exports raceEnabled to the external tests of
// detect_synth_test.go.
var RaceEnabled = raceEnabled

// Levels of the drawn test images in linear light: paper under a desk lamp
// and printer ink, as pipeline/synth renders them.
const (
	paperLinear = 0.75
	inkLinear   = 0.04
)

// drawMarker draws marker id on white paper into a w×h grey image, its
// black square's corners (top-left, top-right, bottom-right, bottom-left as
// printed) at the pixel positions corners, with the same pixel convention
// as Detect. Each pixel averages 8×8 samples in linear light, the way a
// sensor integrates light over its area; sRGB encoding and Gaussian noise
// of noise grey levels follow.
func drawMarker(w, h, id int, corners [4][2]float64, noise float64, rng *rand.Rand) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	drawMarkerInto(img, id, corners, noise, rng)
	return img
}

func drawMarkerInto(img *image.Gray, id int, corners [4][2]float64, noise float64, rng *rand.Rand) {
	H, ok := quadHomography(corners)
	if !ok {
		panic("degenerate corners")
	}
	inv := invertHomography(H)
	bits := Code(id)
	ink := func(x, y float64) bool {
		u, v := inv.apply(x, y)
		if !(u >= 0 && v >= 0 && u < GridCells && v < GridCells) {
			return false
		}
		r, c := int(v), int(u)
		if r == 0 || c == 0 || r == GridCells-1 || c == GridCells-1 {
			return true
		}
		return bits[r-1][c-1]
	}
	const ss = 8
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			var l float64
			for sy := range ss {
				for sx := range ss {
					if ink(float64(x)+(float64(sx)+0.5)/ss, float64(y)+(float64(sy)+0.5)/ss) {
						l += inkLinear
					} else {
						l += paperLinear
					}
				}
			}
			v := encodeSRGB(l/(ss*ss)) + noise*rng.NormFloat64()
			img.SetGray(x, y, color.Gray{uint8(math.Round(min(255, max(0, v))))})
		}
	}
}

func encodeSRGB(l float64) float64 {
	if l <= 0.0031308 {
		return 255 * 12.92 * l
	}
	return 255 * (1.055*math.Pow(l, 1/2.4) - 0.055)
}

// invertHomography returns the map from image points back to cell
// coordinates, in the same form.
func invertHomography(h homography) homography {
	m := [9]float64{h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], 1}
	inv := [9]float64{
		m[4]*m[8] - m[5]*m[7], m[2]*m[7] - m[1]*m[8], m[1]*m[5] - m[2]*m[4],
		m[5]*m[6] - m[3]*m[8], m[0]*m[8] - m[2]*m[6], m[2]*m[3] - m[0]*m[5],
		m[3]*m[7] - m[4]*m[6], m[1]*m[6] - m[0]*m[7], m[0]*m[4] - m[1]*m[3],
	}
	var out homography
	for i := range out {
		out[i] = inv[i] / inv[8]
	}
	return out
}

// warpedCorners returns the image corners of a marker of about side
// pixels centred at (cx, cy), turned by angle radians clockwise as seen in
// the image and foreshortened: its far side (the printed top, before the
// turn) shrunk by the factor tilt, as a camera looking down at a slant
// sees it.
func warpedCorners(cx, cy, side, angle, tilt float64) [4][2]float64 {
	h := side / 2
	local := [4][2]float64{{-h * tilt, -h * (0.5 + 0.5*tilt)}, {h * tilt, -h * (0.5 + 0.5*tilt)}, {h, h}, {-h, h}}
	s, c := math.Sin(angle), math.Cos(angle)
	var out [4][2]float64
	for i, p := range local {
		out[i] = [2]float64{cx + c*p[0] - s*p[1], cy + s*p[0] + c*p[1]}
	}
	return out
}

func cornerError(a, b [4][2]float64) float64 {
	var e float64
	for i := range 4 {
		e = max(e, math.Hypot(a[i][0]-b[i][0], a[i][1]-b[i][1]))
	}
	return e
}

func TestQuadHomography(t *testing.T) {
	q := [4][2]float64{{10, 12}, {50, 8}, {61, 47}, {7, 40}}
	H, ok := quadHomography(q)
	if !ok {
		t.Fatal("quadHomography failed")
	}
	for i, c := range gridCorner {
		x, y := H.apply(c[0], c[1])
		if math.Hypot(x-q[i][0], y-q[i][1]) > 1e-9 {
			t.Errorf("H(%v) = (%v, %v), want %v", c, x, y, q[i])
		}
	}
	inv := invertHomography(H)
	u, v := inv.apply(H.apply(2.5, 4))
	if math.Hypot(u-2.5, v-4) > 1e-9 {
		t.Errorf("inverse round trip gives (%v, %v), want (2.5, 4)", u, v)
	}
}

// TestDetectRotated draws every sheet marker turned by each quarter turn
// and a little more, foreshortened, and checks the ID, the corner order
// (the printed top-left first, whatever the turn) and the corners'
// precision.
func TestDetectRotated(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	n := len(Layout(A4).Markers)
	for id := range n {
		for turn := range 4 {
			angle := float64(turn)*math.Pi/2 + (rng.Float64()*2-1)*0.4
			tilt := 0.6 + 0.4*rng.Float64()
			side := 30 + 60*rng.Float64()
			want := warpedCorners(100+rng.Float64(), 90+rng.Float64(), side, angle, tilt)
			img := drawMarker(200, 180, id, want, 1.5, rng)
			got := Detect(img)
			if len(got) != 1 || got[0].ID != id {
				t.Errorf("marker %d turned %.0f°, tilt %.2f, side %.0f px: Detect = %+v, want ID %d", id, angle*180/math.Pi, tilt, side, got, id)
				continue
			}
			if e := cornerError(got[0].Corners, want); e > 0.15 {
				t.Errorf("marker %d turned %.0f°: corners %.2f, want %.2f (error %.3f px)", id, angle*180/math.Pi, got[0].Corners, want, e)
			}
			if got[0].Corrected != 0 {
				t.Errorf("marker %d turned %.0f°: Corrected = %d, want 0", id, angle*180/math.Pi, got[0].Corrected)
			}
		}
	}
}

// TestDetectCorrects flips one data cell of a drawn marker: Detect still
// finds it and says it corrected one cell.
func TestDetectCorrects(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	corners := warpedCorners(60, 60, 60, 0.3, 0.9)
	img := drawMarker(120, 120, 3, corners, 1, rng)
	// Paint data cell [1][2] (grid cell row 2, column 3) the other colour.
	H, _ := quadHomography(corners)
	inv := invertHomography(H)
	was := Code(3)[1][2]
	for y := range 120 {
		for x := range 120 {
			u, v := inv.apply(float64(x)+0.5, float64(y)+0.5)
			if u >= 3.1 && u < 3.9 && v >= 2.1 && v < 2.9 {
				if was {
					img.SetGray(x, y, color.Gray{uint8(encodeSRGB(paperLinear))})
				} else {
					img.SetGray(x, y, color.Gray{uint8(encodeSRGB(inkLinear))})
				}
			}
		}
	}
	got := Detect(img)
	if len(got) != 1 || got[0].ID != 3 || got[0].Corrected != 1 {
		t.Fatalf("Detect = %+v, want ID 3 with Corrected 1", got)
	}
}

// TestDetectOnlySheetIDs draws a dictionary code that no sheet prints.
func TestDetectOnlySheetIDs(t *testing.T) {
	n := len(Layout(A4).Markers)
	if n >= DictionarySize {
		t.Skip("every code is on the sheet")
	}
	rng := rand.New(rand.NewPCG(3, 3))
	img := drawMarker(120, 120, n, warpedCorners(60, 60, 60, 0.2, 1), 1, rng)
	if got := Detect(img); len(got) != 0 {
		t.Errorf("Detect(marker %d, not on any sheet) = %+v, want none", n, got)
	}
}

// TestDetectImageTypes checks every pixel layout Detect reads, each as a
// sub-image whose bounds do not start at (0, 0): the corners come out in
// the image's own coordinates, so the same wherever the crop starts.
func TestDetectImageTypes(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	want := warpedCorners(170, 130, 70, 2.5, 0.8)
	g := drawMarker(300, 240, 5, want, 1, rng)
	crop := image.Rect(90, 60, 260, 220)
	convert := func(dst interface {
		image.Image
		Set(x, y int, c color.Color)
	}) image.Image {
		for y := range 240 {
			for x := range 300 {
				dst.Set(x, y, g.GrayAt(x, y))
			}
		}
		return dst
	}
	ycc := image.NewYCbCr(g.Bounds(), image.YCbCrSubsampleRatio420)
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = 128, 128
	}
	copy(ycc.Y, g.Pix)
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"Gray", g},
		{"YCbCr", ycc},
		{"RGBA", convert(image.NewRGBA(g.Bounds()))},
		{"NRGBA", convert(image.NewNRGBA(g.Bounds()))},
		{"Gray16", convert(image.NewGray16(g.Bounds()))},
		{"Paletted", convert(image.NewPaletted(g.Bounds(), palette256()))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := tc.img.(interface {
				SubImage(image.Rectangle) image.Image
			}).SubImage(crop)
			for _, img := range []image.Image{tc.img, sub} {
				got := Detect(img)
				if len(got) != 1 || got[0].ID != 5 {
					t.Fatalf("Detect(%T %v) = %+v, want ID 5", img, img.Bounds(), got)
				}
				if e := cornerError(got[0].Corners, want); e > 0.15 {
					t.Errorf("Detect(%T %v) corners %.2f, want %.2f (error %.3f px)", img, img.Bounds(), got[0].Corners, want, e)
				}
			}
		})
	}
}

func palette256() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{uint8(i)}
	}
	return p
}

// TestDetectHostile feeds Detect images with nothing to find.
func TestDetectHostile(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	uniform := func(w, h int, v uint8) *image.Gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = v
		}
		return g
	}
	noise := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	blocks := image.NewGray(image.Rect(0, 0, 640, 480)) // random 8×8 blocks: many squares
	for y := range 480 {
		for x := range 640 {
			if (x/8*7919+y/8*104729)%3 == 0 {
				blocks.Pix[y*640+x] = 255
			}
		}
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{
		{"0×0", image.NewGray(image.Rect(0, 0, 0, 0))},
		{"inverted bounds", &image.Gray{Rect: image.Rect(5, 5, 2, 2)}},
		{"1×1", uniform(1, 1, 128)},
		{"1×1000", uniform(1, 1000, 128)},
		{"black", uniform(300, 200, 0)},
		{"white", uniform(300, 200, 255)},
		{"noise", noise},
		{"blocks", blocks},
		{"uniform RGBA", image.NewRGBA(image.Rect(-50, -50, 50, 50))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Detect(tc.img); len(got) != 0 {
				t.Errorf("Detect = %+v, want none", got)
			}
		})
	}
}

// TestDetectHugeUniform checks that a 48-megapixel photo (8000×6000, a
// phone's full resolution) is quick and costs about a byte per pixel.
func TestDetectHugeUniform(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("allocates 100 MB; skipped in -short mode and under the race detector")
	}
	img := image.NewGray(image.Rect(0, 0, 8000, 6000))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	got := Detect(img)
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if len(got) != 0 {
		t.Errorf("Detect = %+v, want none", got)
	}
	pixels := float64(8000 * 6000)
	perPixel := float64(after.TotalAlloc-before.TotalAlloc) / pixels
	t.Logf("8000×6000 uniform: %v, %.2f bytes allocated per pixel", took, perPixel)
	if perPixel > 1.2 {
		t.Errorf("allocated %.2f bytes per pixel, want about 1", perPixel)
	}
}

// TestDetectMonstree runs Detect on real phone photos without markers
// (a tree sculpture outdoors: leaves, windows, paving, shadows): it must
// find nothing.
func TestDetectMonstree(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "datasets", "monstree") // from capture/markers in the checkout
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Skip("../shared/datasets/monstree (23 real iPhone 7 photos) not found next to the repository; skipping")
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var photos []string
	for _, e := range ents {
		if strings.EqualFold(filepath.Ext(e.Name()), ".jpg") {
			photos = append(photos, e.Name())
		}
	}
	slices.Sort(photos)
	if len(photos) == 0 {
		t.Fatalf("no JPEG in %s", dir)
	}
	if raceEnabled || testing.Short() {
		photos = photos[:min(2, len(photos))] // 12 MP each: seconds apiece under the race detector
	}
	for _, name := range photos {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := jpeg.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := Detect(img); len(got) != 0 {
				t.Errorf("Detect(%s) = %+v, want none: the photo has no markers", name, got)
			}
		})
	}
}

// FuzzDetect builds a small grey image from the input: the first two bytes
// give its size (up to 64×64), the rest its pixels, repeated.
func FuzzDetect(f *testing.F) {
	rng := rand.New(rand.NewPCG(6, 6))
	m := drawMarker(48, 48, 2, warpedCorners(24, 24, 24, 0.5, 0.9), 1, rng)
	f.Add(append([]byte{48, 48}, m.Pix...))
	f.Add([]byte{0, 0})
	f.Add([]byte{63, 1, 0, 255})
	f.Add([]byte{20, 20, 0, 0, 0, 255, 255, 255, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		w, h := int(data[0])%65, int(data[1])%65
		img := image.NewGray(image.Rect(3, -2, 3+w, -2+h))
		if px := data[2:]; len(px) > 0 {
			for i := range img.Pix {
				img.Pix[i] = px[i%len(px)]
			}
		}
		b := img.Bounds()
		for _, d := range Detect(img) {
			for _, c := range d.Corners {
				if !(c[0] >= float64(b.Min.X)-3 && c[0] <= float64(b.Max.X)+3 && c[1] >= float64(b.Min.Y)-3 && c[1] <= float64(b.Max.Y)+3) {
					t.Fatalf("%d×%d image: detection %+v has a corner outside the image", w, h, d)
				}
			}
			if !sheetIDs[d.ID] || d.Corrected < 0 || d.Corrected > MaxCorrected {
				t.Fatalf("detection %+v: ID not on a sheet or Corrected out of range", d)
			}
		}
	})
}
