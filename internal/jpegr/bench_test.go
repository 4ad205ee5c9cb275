package jpegr

import (
	"bytes"
	"errors"
	"image/jpeg"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// photoPath is a real 12 MP camera photo (4032×3024, baseline 4:2:0,
// quality 95) from the shared data sets, next to the repository.
var photoPath = filepath.Join("..", "..", "..", "shared", "datasets", "monstree", "IMG_1025.JPG")

// synthetic12MP encodes a 4000×3000 textured image once, at quality 90, for
// benchmarks that must run where the photo is missing.
var synthetic12MP = sync.OnceValues(func() ([]byte, error) {
	var buf bytes.Buffer
	err := jpeg.Encode(&buf, texture(4000, 3000, 12), &jpeg.Options{Quality: 90})
	return buf.Bytes(), err
})

// benchInputs names the benchmark JPEGs and how to load them: the photo,
// which may be missing (os.ErrNotExist), and the synthetic image.
var benchInputs = []struct {
	name string
	load func() ([]byte, error)
}{
	{"photo", func() ([]byte, error) { return os.ReadFile(photoPath) }},
	{"synthetic4000x3000", synthetic12MP},
}

// benchDecode runs decode on each input in its own sub-benchmark, skipping
// the photo where it is missing, so that names line up between
// BenchmarkDecodeReduced and BenchmarkStdDecode for benchstat.
func benchDecode(b *testing.B, decode func([]byte) error) {
	for _, in := range benchInputs {
		b.Run(in.name, func(b *testing.B) {
			data, err := in.load()
			if errors.Is(err, fs.ErrNotExist) {
				b.Skip(err)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeReduced measures DecodeReduced from memory, decode only.
func BenchmarkDecodeReduced(b *testing.B) {
	benchDecode(b, func(data []byte) error {
		_, err := DecodeReduced(bytes.NewReader(data))
		return err
	})
}

// BenchmarkStdDecode measures image/jpeg.Decode on the same inputs, the
// baseline that DecodeReduced must beat by at least 1.4 times on the photo.
func BenchmarkStdDecode(b *testing.B) {
	benchDecode(b, func(data []byte) error {
		_, err := jpeg.Decode(bytes.NewReader(data))
		return err
	})
}
