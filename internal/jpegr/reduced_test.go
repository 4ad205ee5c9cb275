package jpegr

import (
	"bytes"
	"image/jpeg"
	"math"
	"runtime"
	"slices"
	"testing"
)

// TestEquivalence checks the reduced decode of every sample against
// image/jpeg's full decode box-filtered to half size: same size, mean
// absolute difference at most 2 levels, 99th percentile at most 8, and the
// mean Y, Cb and Cr within 1.5 levels of image/jpeg's planes.
func TestEquivalence(t *testing.T) {
	for _, s := range append(fixtures(t), encodedSamples(t)...) {
		t.Run(s.name, func(t *testing.T) {
			ref, ok := stdReference(t, s.data)
			if !ok {
				t.Fatal("sample is neither greyscale nor YCbCr")
			}
			red, err := DecodeReduced(bytes.NewReader(s.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := red.Y.Rect.Size(); got.X != ref.halfW || got.Y != ref.halfH {
				t.Fatalf("Y is %v, want %dx%d", got, ref.halfW, ref.halfH)
			}
			diffs := make([]float64, 0, len(ref.half))
			for y := range ref.halfH {
				for x := range ref.halfW {
					got := float64(red.Y.GrayAt(x, y).Y)
					diffs = append(diffs, math.Abs(got-ref.half[y*ref.halfW+x]))
				}
			}
			slices.Sort(diffs)
			var sum float64
			for _, d := range diffs {
				sum += d
			}
			mad := sum / float64(len(diffs))
			p99 := diffs[int(math.Ceil(0.99*float64(len(diffs))))-1]
			t.Logf("%dx%d: |ΔY| mean %.3f p99 %.2f max %.2f; ΔmeanY %+.3f ΔmeanCb %+.3f ΔmeanCr %+.3f",
				red.Width, red.Height, mad, p99, diffs[len(diffs)-1],
				red.MeanY-ref.meanY, red.MeanCb-ref.meanCb, red.MeanCr-ref.meanCr)
			if mad > 2 || p99 > 8 {
				t.Errorf("|ΔY| mean %.3f (max 2), p99 %.2f (max 8)", mad, p99)
			}
			for _, m := range []struct {
				name      string
				got, want float64
			}{{"Y", red.MeanY, ref.meanY}, {"Cb", red.MeanCb, ref.meanCb}, {"Cr", red.MeanCr, ref.meanCr}} {
				if math.Abs(m.got-m.want) > 1.5 {
					t.Errorf("mean %s = %.3f, image/jpeg's %.3f", m.name, m.got, m.want)
				}
			}
		})
	}
}

// TestDecodeConfig checks that DecodeConfig agrees with image/jpeg's.
func TestDecodeConfig(t *testing.T) {
	for _, s := range append(fixtures(t), encodedSamples(t)...) {
		got, err := DecodeConfig(bytes.NewReader(s.data))
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		want, err := jpeg.DecodeConfig(bytes.NewReader(s.data))
		if err != nil {
			t.Fatalf("%s: image/jpeg: %v", s.name, err)
		}
		if got != want {
			t.Errorf("%s: config %+v, image/jpeg's %+v", s.name, got, want)
		}
	}
}

// TestMemory checks the point of decoding at half size without chroma
// planes: a 4:2:0 image needs at least 4 times less memory than with
// image/jpeg, which allocates full-size Y, Cb and Cr planes.
func TestMemory(t *testing.T) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, texture(1024, 768, 1), &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	allocated := func(decode func() error) uint64 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := decode(); err != nil {
			t.Fatal(err)
		}
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	std := allocated(func() error { _, err := jpeg.Decode(bytes.NewReader(data)); return err })
	red := allocated(func() error { _, err := DecodeReduced(bytes.NewReader(data)); return err })
	t.Logf("allocated: image/jpeg %d B, reduced %d B (%.1f× less)", std, red, float64(std)/float64(red))
	if red*4 > std {
		t.Errorf("reduced decode allocated %d B, more than a quarter of image/jpeg's %d B", red, std)
	}
}
