package jpegr

import (
	"bytes"
	"testing"
)

// FuzzDecodeReduced checks that DecodeReduced never panics and agrees with
// image/jpeg (see checkAgainstStd) on any input. Like image/jpeg's own fuzz
// test it skips images over a megapixel: both decoders allocate in
// proportion to the header's dimensions, and a fuzzer would otherwise spend
// its time and memory on gigabyte allocations.
func FuzzDecodeReduced(f *testing.F) {
	for _, s := range append(append(fixtures(f), encodedSamples(f)...), unsupportedFixtures(f)...) {
		f.Add(s.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// When DecodeConfig fails, the decoders fail before their first
		// scan and so before allocating anything in proportion to the
		// header.
		if cfg, err := DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > 1e6 {
			return
		}
		checkAgainstStd(t, data)
	})
}
