package jpegr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// unsupportedFixtures returns the valid JPEGs that DecodeReduced leaves to
// image/jpeg: a CMYK one (ImageMagick) and an RGB one (cjpeg -rgb).
func unsupportedFixtures(tb testing.TB) []sample {
	tb.Helper()
	var out []sample
	for _, name := range []string{"cmyk", "rgb"} {
		data, err := os.ReadFile(filepath.Join("testdata", "unsupported", name+".jpg"))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, sample{name, data})
	}
	return out
}

// checkAgainstStd decodes data with DecodeReduced and image/jpeg and checks
// that they agree: where image/jpeg decodes a greyscale or YCbCr image, so
// does DecodeReduced, at half its size; where it decodes a CMYK or RGB one,
// DecodeReduced returns ErrUnsupported; and where it fails, DecodeReduced
// fails with the same error, since the fork keeps every check, or with
// ErrUnsupported, which it returns as soon as it sees four components.
func checkAgainstStd(t *testing.T, data []byte) {
	t.Helper()
	red, err := DecodeReduced(bytes.NewReader(data))
	img, stdErr := jpeg.Decode(bytes.NewReader(data))
	if errors.Is(err, ErrUnsupported) {
		switch img.(type) {
		case *image.Gray, *image.YCbCr:
			t.Fatalf("ErrUnsupported for a %T image", img)
		}
		return
	}
	if stdErr != nil {
		if err == nil || err.Error() != stdErr.Error() {
			t.Fatalf("error %v, image/jpeg's %v", err, stdErr)
		}
		return
	}
	switch img.(type) {
	case *image.Gray, *image.YCbCr:
	default:
		t.Fatalf("error %v for a %T image, want ErrUnsupported", err, img)
	}
	if err != nil {
		t.Fatalf("error %v, image/jpeg decodes it", err)
	}
	// image/jpeg's bounds collapse to the empty rectangle for a zero width
	// or height, so take the size from its DecodeConfig.
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("image/jpeg decodes but DecodeConfig fails: %v", err)
	}
	if red.Width != cfg.Width || red.Height != cfg.Height {
		t.Fatalf("size %dx%d, image/jpeg's %dx%d", red.Width, red.Height, cfg.Width, cfg.Height)
	}
	got, want := red.Y.Rect, image.Rect(0, 0, (cfg.Width+1)/2, (cfg.Height+1)/2)
	if got != want && !(got.Empty() && want.Empty()) {
		t.Fatalf("Y is %v for a %dx%d image", got, cfg.Width, cfg.Height)
	}
}

// TestUnsupported checks that CMYK and RGB files get ErrUnsupported, so that
// callers fall back to image/jpeg, and that DecodeConfig still describes
// them as image/jpeg does.
func TestUnsupported(t *testing.T) {
	for _, s := range unsupportedFixtures(t) {
		if _, err := DecodeReduced(bytes.NewReader(s.data)); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v, want ErrUnsupported", s.name, err)
		}
		checkAgainstStd(t, s.data)
		got, err := DecodeConfig(bytes.NewReader(s.data))
		want, stdErr := jpeg.DecodeConfig(bytes.NewReader(s.data))
		if err != nil || stdErr != nil || got != want {
			t.Errorf("%s: config %+v, %v; image/jpeg's %+v, %v", s.name, got, err, want, stdErr)
		}
	}
}

// TestTruncated decodes prefixes of every sample: each must fail (the EOI
// marker is missing at least), as image/jpeg fails. It tries every prefix
// of the samples up to 5 KB, which cover baseline, progressive, greyscale,
// odd sizes, 4:4:0, 4:1:1 and 4:1:0, and of the first kilobyte of the
// larger ones, where the headers and the first scan are; beyond that it
// tries every 31st length, as a decode costs up to a millisecond (ten under
// the race detector) and these files have tens of thousands of prefixes.
// Every 97th prefix is also checked against image/jpeg's error.
func TestTruncated(t *testing.T) {
	samples := append(fixtures(t), encodedSamples(t)...)
	samples = append(samples, unsupportedFixtures(t)...)
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			for n := 0; n < len(s.data); n++ {
				if n >= 1<<10 && len(s.data) > 5<<10 && n%31 != 0 {
					continue
				}
				if _, err := DecodeReduced(bytes.NewReader(s.data[:n])); err == nil {
					t.Fatalf("no error for the first %d of %d bytes", n, len(s.data))
				}
				if n%97 == 0 {
					checkAgainstStd(t, s.data[:n])
				}
			}
		})
	}
}

// TestEmptyAndRandom checks that empty input and random bytes, with or
// without a leading SOI marker, fail as they do with image/jpeg.
func TestEmptyAndRandom(t *testing.T) {
	if _, err := DecodeReduced(bytes.NewReader(nil)); err == nil {
		t.Error("no error for 0 bytes")
	}
	if _, err := DecodeConfig(bytes.NewReader(nil)); err == nil {
		t.Error("DecodeConfig: no error for 0 bytes")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		data := make([]byte, rng.IntN(4096))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		// Half start with an SOI marker, to get past the first check.
		if i%2 == 0 && len(data) >= 2 {
			data[0], data[1] = 0xff, soiMarker
		}
		if _, err := DecodeReduced(bytes.NewReader(data)); err == nil {
			t.Fatalf("no error for %d random bytes", len(data))
		}
		checkAgainstStd(t, data)
	}
}

// TestCorrupted changes a few random bytes of every sample many times over
// and checks DecodeReduced against image/jpeg on each result: corrupt data
// reaches the entropy decoder, restart markers and progressive refinement,
// where random bytes rarely get.
func TestCorrupted(t *testing.T) {
	samples := append(fixtures(t), encodedSamples(t)...)
	samples = append(samples, unsupportedFixtures(t)...)
	rounds := 100
	if testing.Short() {
		rounds = 10
	}
	for i, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(3, uint64(i)))
			for range rounds {
				data := bytes.Clone(s.data)
				for range 1 + rng.IntN(4) {
					data[rng.IntN(len(data))] = byte(rng.Uint32())
				}
				checkAgainstStd(t, data)
			}
		})
	}
}

// TestHugeHeader checks a frame header that claims 60000×60000 pixels
// (3.6 gigapixels). Like image/jpeg, the decoder allocates its planes only
// at the first scan, so the file, cut right after its frame header, fails
// without allocating anything big; DecodeConfig reports the size so that
// callers can refuse such files before decoding them.
func TestHugeHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, texture(16, 16, 5), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	sof := bytes.Index(data, []byte{0xff, sof0Marker})
	if sof < 0 {
		t.Fatal("no SOF0 marker")
	}
	// SOF0: marker, length (2), precision (1), height (2), width (2), ...
	binary.BigEndian.PutUint16(data[sof+5:], 60000)
	binary.BigEndian.PutUint16(data[sof+7:], 60000)
	sofEnd := sof + 2 + int(binary.BigEndian.Uint16(data[sof+2:]))

	cfg, err := DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 60000 || cfg.Height != 60000 {
		t.Fatalf("DecodeConfig: %+v, %v", cfg, err)
	}
	for _, n := range []int{sofEnd, sofEnd + 1, sofEnd + 20} {
		if _, err := DecodeReduced(bytes.NewReader(data[:n])); err == nil {
			t.Errorf("no error for a 60000×60000 header cut at %d bytes", n)
		}
	}
}
