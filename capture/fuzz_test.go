package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// fuzzPixelLimit is the pixel limit while fuzzing DecodePhoto, so that an
// input decodes in milliseconds.
const fuzzPixelLimit = 4 << 20

// photoSeeds are small real photo files and damaged ones.
func photoSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	j := encodeJPEG(tb, asymmetric(32, 24))
	gray := image.NewGray(image.Rect(0, 0, 16, 12))
	for i := range gray.Pix {
		gray.Pix[i] = uint8(i * 5)
	}
	var png, pngEXIF, pngPal bytes.Buffer
	if err := encodePNG(&png, asymmetric(12, 9)); err != nil {
		tb.Fatal(err)
	}
	if err := encodePNG(&pngEXIF, gray); err != nil {
		tb.Fatal(err)
	}
	pal := image.NewPaletted(image.Rect(0, 0, 10, 7), color.Palette{color.Black, color.White})
	pal.Pix[3] = 1
	if err := encodePNG(&pngPal, pal); err != nil {
		tb.Fatal(err)
	}
	tiff, _ := phoneEXIF(binary.BigEndian, 8).tiff()
	seeds := map[string][]byte{
		"jpeg":            j,
		"jpeg-exif-ii-6":  withAPP1(tb, j, phoneEXIF(binary.LittleEndian, 6).app1()),
		"jpeg-exif-mm-5":  withAPP1(tb, j, phoneEXIF(binary.BigEndian, 5).app1()),
		"jpeg-gray":       encodeJPEG(tb, gray),
		"jpeg-truncated":  j[:len(j)/2],
		"png":             png.Bytes(),
		"png-exif":        insertPNGChunk(pngEXIF.Bytes(), "eXIf", tiff),
		"png-paletted":    pngPal.Bytes(),
		"png-truncated":   png.Bytes()[:len(png.Bytes())-15],
		"text":            []byte("not a photo\n"),
		"jpeg-scans-only": []byte("\xff\xd8\xff\xda\x00\x02\xff\xda\x00\x02\xff\xd9"),
	}
	for _, name := range []string{"IFD1 next points back to IFD0", "rational count wrapping 32 bits", "Exif sub-IFD beyond the segment"} {
		seeds["jpeg-exif-"+seedName(name)] = withAPP1(tb, j, hostileAPP1(tb, name, binary.LittleEndian))
	}
	return seeds
}

// exifSeeds are APP1 payloads: good ones and each of hostileEXIF.
func exifSeeds(tb testing.TB) map[string][]byte {
	tb.Helper()
	seeds := map[string][]byte{
		"phone-ii": phoneEXIF(binary.LittleEndian, 6).app1(),
		"phone-mm": phoneEXIF(binary.BigEndian, 3).app1(),
		"empty":    []byte(exifHeader),
	}
	for _, tc := range hostileEXIF {
		seeds[seedName(tc.name)] = hostileAPP1(tb, tc.name, binary.BigEndian)
	}
	return seeds
}

// hostileAPP1 is phoneEXIF damaged as the hostileEXIF case named name.
func hostileAPP1(tb testing.TB, name string, bo byteOrder) []byte {
	tb.Helper()
	for _, tc := range hostileEXIF {
		if tc.name == name {
			t, l := phoneEXIF(bo, 6).tiff()
			return append([]byte(exifHeader), tc.mutate(tb, t, bo, l)...)
		}
	}
	tb.Fatalf("no hostile EXIF %q", name)
	return nil
}

// seedName turns a case name into a file name.
func seedName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

// TestWriteFuzzCorpus writes the seeds into testdata/fuzz, where `go test
// -fuzz` starts from them, with -update-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateCorpus {
		t.Skip("run with -update-corpus to rewrite the seed corpora in testdata/fuzz")
	}
	for fuzz, seeds := range map[string]map[string][]byte{
		"FuzzDecodePhoto": photoSeeds(t),
		"FuzzEXIF":        exifSeeds(t),
	} {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range seeds {
			entry := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
			if err := os.WriteFile(filepath.Join(dir, "seed-"+name), []byte(entry), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// FuzzDecodePhoto feeds whole files to DecodePhoto: it must return a photo
// that keeps its promises or a *PhotoError, and never panic or hang.
func FuzzDecodePhoto(f *testing.F) {
	for _, b := range photoSeeds(f) {
		f.Add(b)
	}
	pixelLimit = fuzzPixelLimit
	f.Cleanup(func() { pixelLimit = MaxPixels })
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodePhoto(bytes.NewReader(b), "fuzz.jpg")
		if err != nil {
			pe, ok := errors.AsType[*PhotoError](err)
			if !ok || pe.Name != "fuzz.jpg" || pe.Reason == "" || p != nil {
				t.Fatalf("error %v (%T), photo %v", err, err, p)
			}
			return
		}
		checkPhoto(t, p)
	})
}

// checkPhoto checks what every Photo promises.
func checkPhoto(t *testing.T, p *Photo) {
	t.Helper()
	o := p.EXIF.Orientation
	if o < 1 || o > 8 {
		t.Fatalf("Orientation %d", o)
	}
	if p.Width <= 0 || p.Height <= 0 || int64(p.Width)*int64(p.Height) > int64(pixelLimit) {
		t.Fatalf("size %d×%d", p.Width, p.Height)
	}
	ww, wh := p.Work.Rect.Dx(), p.Work.Rect.Dy()
	if ww < 1 || wh < 1 || max(ww, wh) != min(max(p.Width, p.Height), WorkSize) ||
		(p.Width > p.Height && ww < wh) || (p.Width < p.Height && ww > wh) {
		t.Fatalf("Work %d×%d for a %d×%d photo", ww, wh, p.Width, p.Height)
	}
	if p.WorkScale <= 0 || p.WorkScale > 1 {
		t.Fatalf("WorkScale %v", p.WorkScale)
	}
	if tw, th := p.Thumb.Rect.Dx(), p.Thumb.Rect.Dy(); max(tw, th) != min(max(ww, wh), ThumbSize) {
		t.Fatalf("Thumb %d×%d for Work %d×%d", tw, th, ww, wh)
	}
	if !(p.FocalPx > 0) || math.IsInf(p.FocalPx, 0) || p.FocalSource == "" {
		t.Fatalf("FocalPx %v from %q", p.FocalPx, p.FocalSource)
	}
	for _, c := range p.MeanRGB {
		if !(c >= 0 && c <= 1) {
			t.Fatalf("MeanRGB %v", p.MeanRGB)
		}
	}
	checkEXIF(t, p.EXIF)
}

// checkEXIF checks the ranges parseEXIF promises.
func checkEXIF(t *testing.T, x EXIF) {
	t.Helper()
	if x.Orientation < 1 || x.Orientation > 8 {
		t.Fatalf("Orientation %d", x.Orientation)
	}
	for _, v := range []float64{x.FocalLengthMM, x.FocalLength35mm, x.FocalPlaneXResolution, x.ExposureTime} {
		if !(v >= 0) || math.IsInf(v, 0) {
			t.Fatalf("EXIF %+v", x)
		}
	}
	if x.FlashFired && !x.FlashKnown {
		t.Fatalf("flash fired but unknown")
	}
}

// FuzzEXIF feeds APP1 payloads to parseEXIF, goexif behind its guards: it
// must not panic, loop or allocate without bound, and its repairs must be
// complete (a repaired structure needs no more repairs).
func FuzzEXIF(f *testing.F) {
	for _, b := range exifSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, _, err := parseEXIF(b)
		if err != nil && x != (EXIF{Orientation: 1}) {
			t.Fatalf("error %v with EXIF %+v", err, x)
		}
		checkEXIF(t, x)
		t1, _, err := sanitizeTIFF(bytes.TrimPrefix(b, []byte(exifHeader)))
		if err != nil {
			return
		}
		t2, warnings, err := sanitizeTIFF(t1)
		if err != nil || len(warnings) > 0 || !bytes.Equal(t1, t2) {
			t.Fatalf("second sanitizeTIFF: err %v, warnings %q, changed %v", err, warnings, !bytes.Equal(t1, t2))
		}
	})
}
