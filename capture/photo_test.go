package capture_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/disintegration/imaging"
	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline/synth"
)

// datasetDir returns the folder of a shared test data set, next to the
// repository as ../shared/datasets/name from its root (or inside it as
// shared/datasets/name), or "" when there is none.
func datasetDir(tb testing.TB, name string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	for _, d := range []string{
		filepath.Join(dir, "..", "shared", "datasets", name),
		filepath.Join(dir, "shared", "datasets", name),
	} {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			return d
		}
	}
	return ""
}

// The monstree set: 23 iPhone 7 photos, 19 of them stored sideways.
func TestMonstree(t *testing.T) {
	dir := datasetDir(t, "monstree")
	if dir == "" {
		t.Skip("../shared/datasets/monstree (23 real iPhone 7 photos) not found next to the repository; skipping")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.JPG"))
	if err != nil || len(files) != 23 {
		t.Fatalf("%s: %d photos (%v), want 23", dir, len(files), err)
	}
	wantFocal := 28 * math.Hypot(4032, 3024) / math.Hypot(36, 24) // 3261.6 px
	var mu sync.Mutex
	orientations := map[int]int{}
	t.Run("photos", func(t *testing.T) {
		for _, f := range files {
			t.Run(filepath.Base(f), func(t *testing.T) {
				t.Parallel()
				p, err := capture.LoadPhoto(f)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				orientations[p.EXIF.Orientation]++
				mu.Unlock()
				x := p.EXIF
				if p.Path != f || p.Name != filepath.Base(f) {
					t.Errorf("Path, Name = %q, %q", p.Path, p.Name)
				}
				if !p.HasEXIF || x.Make != "Apple" || x.Model != "iPhone 7" || !x.HasGPS {
					t.Errorf("HasEXIF %v, Make %q, Model %q, HasGPS %v; want true, Apple, iPhone 7, true", p.HasEXIF, x.Make, x.Model, x.HasGPS)
				}
				if math.Abs(x.FocalLengthMM-4) > 0.02 || x.FocalLength35mm != 28 {
					t.Errorf("focal length %g mm, %g mm equivalent; want 4.0 (3.99), 28", x.FocalLengthMM, x.FocalLength35mm)
				}
				if p.FocalSource != capture.FocalEXIF35mm || math.Abs(p.FocalPx-wantFocal) > 1 {
					t.Errorf("FocalPx = %.1f from %s, want %.1f from %s", p.FocalPx, p.FocalSource, wantFocal, capture.FocalEXIF35mm)
				}
				if len(p.Warnings) > 0 {
					t.Errorf("warnings %q", p.Warnings)
				}
				if x.Taken.Year() != 2017 || !(x.ExposureTime > 0) || x.ISO == 0 || !x.FlashKnown || x.FlashFired {
					t.Errorf("Taken %v, ExposureTime %v, ISO %d, flash known %v fired %v", x.Taken, x.ExposureTime, x.ISO, x.FlashKnown, x.FlashFired)
				}
				wantW, wantH, workW, workH, thumbW, thumbH := 4032, 3024, 1024, 768, 64, 48
				switch x.Orientation {
				case 6:
					wantW, wantH, workW, workH, thumbW, thumbH = wantH, wantW, workH, workW, thumbH, thumbW
				case 1:
				default:
					t.Errorf("Orientation %d, want 1 or 6", x.Orientation)
				}
				if p.Width != wantW || p.Height != wantH {
					t.Errorf("size %d×%d, want %d×%d", p.Width, p.Height, wantW, wantH)
				}
				if got := p.Work.Rect.Size(); got != image.Pt(workW, workH) {
					t.Errorf("Work is %v, want %d×%d", got, workW, workH)
				}
				if got := p.Thumb.Rect.Size(); got != image.Pt(thumbW, thumbH) {
					t.Errorf("Thumb is %v, want %d×%d", got, thumbW, thumbH)
				}
				if p.WorkScale != 1024.0/4032 {
					t.Errorf("WorkScale = %v, want %v", p.WorkScale, 1024.0/4032)
				}
				// The fast path (Y plane averaged, then turned) agrees with
				// the slow one (full image turned, then resized). imaging's
				// box filter weighs a slightly wider window: on bark that is
				// 2 to 3 levels; a wrong turn is about 70.
				if name := filepath.Base(f); name == "IMG_1025.JPG" || name == "IMG_1047.JPG" {
					if d := slowWorkDiff(t, f, p); d > 4 {
						t.Errorf("Work differs from the full image turned and resized by %.2f levels on average", d)
					}
				}
				for _, c := range p.MeanRGB {
					if !(c > 0.05 && c < 0.95) {
						t.Errorf("MeanRGB = %.3f", p.MeanRGB)
					}
				}
			})
		}
	})
	if orientations[6] != 19 || orientations[1] != 4 {
		t.Errorf("orientations %v, want 19 × 6 and 4 × 1", orientations)
	}
}

// slowWorkDiff is the mean difference between p.Work and the photo at path
// decoded in full, turned upright with Orient and resized with a box filter.
func slowWorkDiff(t *testing.T, path string, p *capture.Photo) float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	full, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	up := capture.Orient(full, p.EXIF.Orientation)
	ref := imaging.Grayscale(imaging.Resize(up, p.Work.Rect.Dx(), p.Work.Rect.Dy(), imaging.Box))
	var s float64
	for y := range p.Work.Rect.Dy() {
		for x := range p.Work.Rect.Dx() {
			s += math.Abs(float64(p.Work.GrayAt(x, y).Y) - float64(ref.Pix[ref.PixOffset(x, y)]))
		}
	}
	return s / float64(len(p.Work.Pix))
}

// Photos from our own generator: their EXIF is what synth writes.
func TestSynth(t *testing.T) {
	b, ok := assets.Part("bracket")
	if !ok {
		t.Fatal("no built-in part bracket")
	}
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.Views, o.Width, o.Height = 2, 320, 240
	dir := filepath.Join(t.TempDir(), "capture")
	truth, err := synth.Generate(context.Background(), spec, o, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range truth.Views {
		p, err := capture.LoadPhoto(filepath.Join(dir, v.Image))
		if err != nil {
			t.Fatal(err)
		}
		x := p.EXIF
		if !p.HasEXIF || x.Make != "Replica" || x.Model != "Synthetic Camera" || x.Orientation != 1 || x.HasGPS {
			t.Errorf("%s: HasEXIF %v, Make %q, Model %q, Orientation %d, HasGPS %v", v.Image, p.HasEXIF, x.Make, x.Model, x.Orientation, x.HasGPS)
		}
		if x.FocalLengthMM != 4.5 || x.FocalLength35mm != 25 {
			t.Errorf("%s: focal length %g mm, %g mm equivalent; want 4.5, 25", v.Image, x.FocalLengthMM, x.FocalLength35mm)
		}
		if w, ok := x.SensorWidthMM(); !ok || math.Abs(w-o.SensorMM) > 0.01 {
			t.Errorf("%s: SensorWidthMM() = %v, %v, want %v", v.Image, w, ok, o.SensorMM)
		}
		if want := time.Date(2026, 11, 25, 10, 0, 4*i, 0, time.UTC); !x.Taken.Equal(want) {
			t.Errorf("%s: Taken %v, want %v", v.Image, x.Taken, want)
		}
		if math.Abs(x.ExposureTime-1.0/60) > 1e-9 || x.ISO != 100 || !x.FlashKnown || x.FlashFired {
			t.Errorf("%s: ExposureTime %v, ISO %d, flash known %v fired %v", v.Image, x.ExposureTime, x.ISO, x.FlashKnown, x.FlashFired)
		}
		if p.Width != 320 || p.Height != 240 || p.Work.Rect.Size() != image.Pt(320, 240) || p.WorkScale != 1 {
			t.Errorf("%s: %d×%d, Work %v at scale %v; want 320×240 unchanged", v.Image, p.Width, p.Height, p.Work.Rect.Size(), p.WorkScale)
		}
		// The 35 mm equivalent is rounded to whole mm: within 2 % of the truth.
		if p.FocalSource != capture.FocalEXIF35mm || math.Abs(p.FocalPx/truth.Camera.Fx-1) > 0.02 {
			t.Errorf("%s: FocalPx %.1f from %s, want about %.1f from %s", v.Image, p.FocalPx, p.FocalSource, truth.Camera.Fx, capture.FocalEXIF35mm)
		}
		if len(p.Warnings) > 0 {
			t.Errorf("%s: warnings %q", v.Image, p.Warnings)
		}
	}
}

// smallJPEG is a 64×48 colour JPEG without EXIF.
func smallJPEG(tb testing.TB) []byte {
	tb.Helper()
	m := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 7)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func smallPNG(tb testing.TB) []byte {
	tb.Helper()
	m := image.NewNRGBA(image.Rect(0, 0, 20, 10))
	for i := range m.Pix {
		m.Pix[i] = uint8(i * 13)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// withSOFSize returns a copy of JPEG j whose frame header says w×h.
func withSOFSize(tb testing.TB, j []byte, w, h int) []byte {
	tb.Helper()
	j = bytes.Clone(j)
	i := bytes.Index(j, []byte{0xFF, 0xC0}) // baseline SOF0: length, precision, height, width
	if i < 0 {
		tb.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(j[i+5:], uint16(h))
	binary.BigEndian.PutUint16(j[i+7:], uint16(w))
	return j
}

// withIHDRSize returns a copy of PNG b whose header says w×h, with a valid
// checksum.
func withIHDRSize(b []byte, w, h uint32) []byte {
	b = bytes.Clone(b)
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// Bad files give a *PhotoError naming the file, quickly and without large
// allocations.
func TestBadInput(t *testing.T) {
	j, p := smallJPEG(t), smallPNG(t)
	type tc struct {
		name   string
		data   []byte
		reason string // the reason starts with this
		is     error  // errors.Is target, if any
	}
	cases := []tc{
		{"text", []byte("hello, world\nnot a photo\n"), "not a JPEG or PNG photo", capture.ErrNotPhoto},
		{"empty", nil, "empty file (0 bytes)", capture.ErrNotPhoto},
		{"GIF", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "not a JPEG or PNG photo", capture.ErrNotPhoto},
		{"JPEG SOI only", j[:2], "not a JPEG or PNG photo", capture.ErrNotPhoto},
		{"JPEG claims 60000×60000", withSOFSize(t, j, 60000, 60000), "image is 60000×60000 pixels (3600 MP); at most 120 MP", capture.ErrTooLarge},
		{"JPEG claims 65535×1", withSOFSize(t, j, 65535, 1), "corrupt JPEG (missing 0xff00 sequence)", nil},
		{"JPEG claims zero width", withSOFSize(t, j, 0, 48), "JPEG header says the image is 0×48 pixels", capture.ErrNotPhoto},
		{"JPEG claims zero height", withSOFSize(t, j, 64, 0), "JPEG header says the image is 64×0 pixels", capture.ErrNotPhoto},
		{"PNG claims 100000×100000", withIHDRSize(p, 100000, 100000), "image is 100000×100000 pixels", capture.ErrTooLarge},
		{"PNG claims 2³¹×2³¹", withIHDRSize(p, 1<<31-1, 1<<31-1), "unsupported PNG (dimension overflow)", nil},
		{"PNG claims zero height", withIHDRSize(p, 20, 0), "corrupt PNG (non-positive dimension)", nil},
		{"PNG cut in the data", p[:len(p)-20], "truncated PNG (unexpected EOF)", io.ErrUnexpectedEOF},
		{"PNG cut in the header", p[:20], "truncated PNG (unexpected EOF)", io.ErrUnexpectedEOF},
		{"JPEG of 300 scans", slices.Concat([]byte{0xFF, 0xD8}, bytes.Repeat([]byte{0xFF, 0xDA, 0, 2}, 300), []byte{0xFF, 0xD9}),
			"JPEG has 300 scans; at most 256 are accepted", capture.ErrTooLarge},
	}
	for _, cut := range []int{3, 20, 100, len(j) / 3, len(j) / 2, len(j) - 200, len(j) - 2} {
		cases = append(cases, tc{fmt.Sprintf("JPEG cut at %d of %d", cut, len(j)), j[:cut], "truncated JPEG (unexpected EOF)", io.ErrUnexpectedEOF})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const name = "IMG_0012.JPG"
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			ph, err := capture.DecodePhoto(bytes.NewReader(c.data), name)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			checkPhotoError(t, ph, err, name, c.reason, c.is)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
				t.Errorf("allocated %d MiB", alloc>>20)
			}
			if elapsed > 2*time.Second {
				t.Errorf("took %v", elapsed)
			}
		})
	}
}

// checkPhotoError checks that err is a *PhotoError for name whose reason
// starts with reason and that unwraps to is.
func checkPhotoError(t *testing.T, p *capture.Photo, err error, name, reason string, is error) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; photo %d×%d", p.Width, p.Height)
	}
	if p != nil {
		t.Errorf("a photo with the error %v", err)
	}
	pe, ok := errors.AsType[*capture.PhotoError](err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *PhotoError", err, err)
	}
	if pe.Name != name || !strings.HasPrefix(err.Error(), name+": ") || pe.Reason == "" {
		t.Errorf("error %q: want it to name %s", err, name)
	}
	if !strings.HasPrefix(pe.Reason, reason) {
		t.Errorf("reason %q, want it to start with %q", pe.Reason, reason)
	}
	if is != nil && !errors.Is(err, is) {
		t.Errorf("error %v does not unwrap to %v", err, is)
	}
}

func TestPhotoErrorMessage(t *testing.T) {
	j := smallJPEG(t)
	_, err := capture.DecodePhoto(bytes.NewReader(j[:len(j)/2]), "IMG_0012.JPG")
	if got, want := fmt.Sprint(err), "IMG_0012.JPG: truncated JPEG (unexpected EOF)"; got != want {
		t.Errorf("DecodePhoto(truncated) error = %q, want %q", got, want)
	}
}

func TestLoadPhotoErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "huge.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0xFF, 0xD8, 0xFF})
	if err := f.Truncate(capture.MaxFileSize + 1); err != nil { // sparse: nothing is written
		t.Fatal(err)
	}
	f.Close()

	for _, tc := range []struct {
		path, name, reason string
		is                 error
	}{
		{filepath.Join(dir, "missing.jpg"), "missing.jpg", "cannot open: no such file", fs.ErrNotExist},
		{dir, filepath.Base(dir), "is a folder", capture.ErrNotPhoto},
		{big, "huge.jpg", "file is larger than 256 MiB", capture.ErrTooLarge},
	} {
		p, err := capture.LoadPhoto(tc.path)
		checkPhotoError(t, p, err, tc.name, tc.reason, tc.is)
	}

	// A reader that fails, and one of endless non-photo bytes.
	p, err := capture.DecodePhoto(iotest.ErrReader(errors.New("disk on fire")), "a.jpg")
	checkPhotoError(t, p, err, "a.jpg", "cannot read: disk on fire", nil)
	p, err = capture.DecodePhoto(zeros{}, "zeros.jpg")
	checkPhotoError(t, p, err, "zeros.jpg", "not a JPEG or PNG photo", capture.ErrNotPhoto)
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// Work, Thumb and MeanRGB for each kind of image the decoders return.
func TestDecodeKinds(t *testing.T) {
	const w, h = 2048, 1000 // Work: 1024 × 500, each pixel the mean of a 2×2 box
	c := color.NRGBA{200, 120, 40, 255}
	luma := func(r, g, b uint8) float64 { return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b) }
	ramp := func(x int) uint8 { return uint8(x * 255 / (w - 1)) }

	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	nrgba := image.NewNRGBA(image.Rect(0, 0, w, h))
	gray := image.NewGray(image.Rect(0, 0, w, h))
	gray16 := image.NewGray16(image.Rect(0, 0, w, h))
	var palette color.Palette // 128 greys for the left half's ramp, then c
	for v := range 128 {
		palette = append(palette, color.Gray{uint8(v)})
	}
	pal := image.NewPaletted(image.Rect(0, 0, w, h), append(palette, c))
	for y := range h {
		for x := range w {
			// The left half is a ramp, the right half solid colour.
			v := ramp(x)
			if x < w/2 {
				rgba.Set(x, y, color.RGBA{v, v, v, 255})
				nrgba.Set(x, y, color.NRGBA{v, v, v, 255})
				pal.SetColorIndex(x, y, v) // v < 128
			} else {
				rgba.Set(x, y, c)
				nrgba.Set(x, y, c)
				pal.SetColorIndex(x, y, 128)
			}
			gray.SetGray(x, y, color.Gray{v})
			gray16.SetGray16(x, y, color.Gray16{uint16(v) * 0x101})
		}
	}
	encPNG := func(m image.Image) []byte {
		var buf bytes.Buffer
		if err := png.Encode(&buf, m); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	encJPEG := func(m image.Image) []byte {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 100}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	var left, all float64 // mean of the ramp over the left half, and over all
	for x := range w {
		all += float64(ramp(x)) / w
		if x < w/2 {
			left += float64(ramp(x)) / (w / 2)
		}
	}
	halfColour := [3]float64{
		(float64(c.R) + left) / 2 / 255, (float64(c.G) + left) / 2 / 255, (float64(c.B) + left) / 2 / 255,
	}
	for _, tc := range []struct {
		name      string
		file      []byte
		colour    bool    // right half is c, not the ramp
		tolerance float64 // levels
	}{
		{"PNG RGBA", encPNG(rgba), true, 0.51},
		{"PNG NRGBA", encPNG(nrgba), true, 0.51},
		{"PNG paletted", encPNG(pal), true, 0.51},
		{"PNG gray", encPNG(gray), false, 0.51},
		{"PNG gray16", encPNG(gray16), false, 0.51},
		{"JPEG colour", encJPEG(rgba), true, 2},
		{"JPEG gray", encJPEG(gray), false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := capture.DecodePhoto(bytes.NewReader(tc.file), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			if p.Width != w || p.Height != h || p.Work.Rect.Size() != image.Pt(1024, 500) || p.WorkScale != 0.5 ||
				p.Thumb.Rect.Size() != image.Pt(64, 31) {
				t.Fatalf("%d×%d, Work %v at %v, Thumb %v", p.Width, p.Height, p.Work.Rect.Size(), p.WorkScale, p.Thumb.Rect.Size())
			}
			if p.HasEXIF || p.FocalSource != capture.FocalFallback || p.FocalPx != 1.2*w || len(p.Warnings) != 1 {
				t.Errorf("HasEXIF %v, FocalPx %v from %s, warnings %q; want fallback 1.2 × %d and a warning", p.HasEXIF, p.FocalPx, p.FocalSource, p.Warnings, w)
			}
			var worst float64
			for y := 0; y < 500; y += 7 {
				for x := range 1024 {
					want := (float64(ramp(2*x)) + float64(ramp(2*x+1))) / 2
					if x >= 512 && tc.colour {
						want = luma(c.R, c.G, c.B)
					}
					worst = max(worst, math.Abs(float64(p.Work.GrayAt(x, y).Y)-want))
				}
			}
			if worst > tc.tolerance {
				t.Errorf("Work is up to %.1f levels off", worst)
			}
			want := [3]float64{all / 255, all / 255, all / 255}
			if tc.colour {
				want = halfColour
			}
			for i := range want {
				if math.Abs(p.MeanRGB[i]-want[i]) > 0.01 {
					t.Errorf("MeanRGB = %.3f, want %.3f", p.MeanRGB, want)
					break
				}
			}
		})
	}
}

// Photos smaller than WorkSize keep their size; odd shapes give at least
// one pixel on each side.
func TestWorkSizes(t *testing.T) {
	for _, tc := range []struct {
		w, h        int
		work, thumb image.Point
		workScale   float64
	}{
		{10, 5, image.Pt(10, 5), image.Pt(10, 5), 1},
		{1024, 1024, image.Pt(1024, 1024), image.Pt(64, 64), 1},
		{1025, 3, image.Pt(1024, 3), image.Pt(64, 1), 1024.0 / 1025},
		{3000, 2, image.Pt(1024, 1), image.Pt(64, 1), 1024.0 / 3000},
		{2500, 1200, image.Pt(1024, 492), image.Pt(64, 31), 1024.0 / 2500},
		{1, 3000, image.Pt(1, 1024), image.Pt(1, 64), 1024.0 / 3000},
	} {
		var buf bytes.Buffer
		if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, tc.w, tc.h))); err != nil {
			t.Fatal(err)
		}
		p, err := capture.DecodePhoto(&buf, "x.png")
		if err != nil {
			t.Fatal(err)
		}
		if p.Work.Rect.Size() != tc.work || p.Thumb.Rect.Size() != tc.thumb || p.WorkScale != tc.workScale {
			t.Errorf("%d×%d: Work %v at %v, Thumb %v; want %v at %v, %v", tc.w, tc.h, p.Work.Rect.Size(), p.WorkScale, p.Thumb.Rect.Size(), tc.work, tc.workScale, tc.thumb)
		}
	}
}

// benchPhotos returns 12 MP JPEG files: a generated noise-textured one, and
// a monstree photo when that set is there.
func benchPhotos(b *testing.B) map[string]string {
	b.Helper()
	noiseOnce.Do(func() { noiseJPEG, noiseErr = makeNoiseJPEG(4032, 3024) })
	if noiseErr != nil {
		b.Fatal(noiseErr)
	}
	path := filepath.Join(b.TempDir(), "noise.jpg")
	if err := os.WriteFile(path, noiseJPEG, 0o644); err != nil {
		b.Fatal(err)
	}
	files := map[string]string{"noise-12MP": path}
	if dir := datasetDir(b, "monstree"); dir != "" {
		files["monstree-IMG_1025"] = filepath.Join(dir, "IMG_1025.JPG") // orientation 6
	}
	return files
}

var (
	noiseOnce  sync.Once
	noiseJPEG  []byte
	noiseErr   error
	benchNames = []string{"noise-12MP", "monstree-IMG_1025"}
)

// makeNoiseJPEG encodes a w×h picture, smooth shapes under sensor-like
// noise, at quality 90.
func makeNoiseJPEG(w, h int) ([]byte, error) {
	m := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(1, 1))
	for y := range h {
		for x := range w {
			v := 128 + 60*math.Sin(float64(x)/97)*math.Cos(float64(y)/131) + rng.NormFloat64()*12
			m.Y[y*m.YStride+x] = uint8(min(255, max(0, v)))
		}
	}
	for i := range m.Cb {
		m.Cb[i] = uint8(118 + rng.IntN(20))
		m.Cr[i] = uint8(118 + rng.IntN(20))
	}
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 90})
	return buf.Bytes(), err
}

// BenchmarkLoadPhoto is LoadPhoto of a 12 MP JPEG: read, EXIF, decode,
// reduce. Compare with BenchmarkDecodeJPEG, image/jpeg alone, on one core
// (-cpu 1); the budget is 300 ms per photo.
func BenchmarkLoadPhoto(b *testing.B) {
	files := benchPhotos(b)
	for _, name := range benchNames {
		path, ok := files[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := capture.LoadPhoto(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeJPEG is image/jpeg's Decode of the files of
// BenchmarkLoadPhoto, from memory.
func BenchmarkDecodeJPEG(b *testing.B) {
	files := benchPhotos(b)
	for _, name := range benchNames {
		path, ok := files[name]
		if !ok {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
