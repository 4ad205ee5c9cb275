package match

import (
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// monstreeDir holds the real photos of ../shared/datasets/monstree (see its
// README), reached from this package's directory.
var monstreeDir = filepath.Join("..", "..", "..", "shared", "datasets", "monstree")

// monstreeFocal is the focal length, in pixels of a 1008-pixel-wide image,
// of the iPhone 7 that took the photos: 28 mm in 35 mm terms, for a 36 mm
// wide frame.
const monstreeFocal = 28.0 / 36 * 1008

// loadPhoto decodes a monstree photo reduced to working resolution,
// skipping the test where the photos are absent.
func loadPhoto(tb testing.TB, name string) *image.Gray {
	tb.Helper()
	img, err := decodePhoto(name)
	if errors.Is(err, fs.ErrNotExist) {
		tb.Skipf("real photos not found: %s is absent (see ../shared/datasets/monstree/README.md)", monstreeDir)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return img
}

// decodePhoto decodes a monstree photo and reduces it to about 1024 pixels
// on the long side (4032×3024 → 1008×756) by averaging 4×4 blocks of the
// luma plane. EXIF orientation is ignored: the photos compared are stored
// the same way, and ORB does not mind a rotation.
func decodePhoto(name string) (*image.Gray, error) {
	path := filepath.Join(monstreeDir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", path, err)
	}
	return downscale(img), nil
}

// downscale averages blocks of k×k pixels, k chosen to bring the long side
// to at most 1024 pixels.
func downscale(img image.Image) *image.Gray {
	b := img.Bounds()
	k := int(math.Ceil(float64(max(b.Dx(), b.Dy())) / 1024))
	w, h := b.Dx()/k, b.Dy()/k
	out := image.NewGray(image.Rect(0, 0, w, h))
	luma := func(x, y int) int {
		switch m := img.(type) {
		case *image.YCbCr:
			return int(m.Y[m.YOffset(x, y)])
		case *image.Gray:
			return int(m.Pix[m.PixOffset(x, y)])
		default:
			r, g, bl, _ := img.At(x, y).RGBA()
			return int((19595*r + 38470*g + 7471*bl + 1<<15) >> 24)
		}
	}
	for y := range h {
		for x := range w {
			s := 0
			for j := range k {
				for i := range k {
					s += luma(b.Min.X+x*k+i, b.Min.Y+y*k+j)
				}
			}
			out.Pix[y*out.Stride+x] = uint8((s + k*k/2) / (k * k))
		}
	}
	return out
}

// photoFeatures caches the features of the photos, detected once per test
// binary.
var photoFeatures struct {
	sync.Mutex
	m map[string]*Features
}

// features returns the features of the named photos, decoding those not
// yet cached concurrently: decoding a 12-megapixel JPEG is the slowest
// part of these tests, the more so under the race detector.
func features(tb testing.TB, names ...string) []*Features {
	tb.Helper()
	if _, err := os.Stat(monstreeDir); err != nil {
		tb.Skipf("real photos not found: %s is absent (see ../shared/datasets/monstree/README.md)", monstreeDir)
	}
	photoFeatures.Lock()
	defer photoFeatures.Unlock()
	if photoFeatures.m == nil {
		photoFeatures.m = map[string]*Features{}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	got := make([]*Features, len(names))
	for i, n := range names {
		if f, ok := photoFeatures.m[n]; ok {
			got[i] = f
			continue
		}
		wg.Go(func() {
			img, err := decodePhoto(n)
			if err != nil {
				errs[i] = err
				return
			}
			got[i] = Detect(img, nil)
		})
	}
	wg.Wait()
	for i, n := range names {
		if errs[i] != nil {
			tb.Fatal(errs[i])
		}
		photoFeatures.m[n] = got[i]
	}
	return got
}

func describeResult(r Result) string {
	s := fmt.Sprintf("matches %d, verified %v, inliers %d, coverage %.2f/%.2f, score %.3f",
		r.Matches, r.Verified, len(r.Inliers), r.Overlap.CoverageA, r.Overlap.CoverageB, r.Overlap.Score)
	if r.PoseOK {
		a, axis := RotationAngleAxis(r.R)
		s += fmt.Sprintf(", rotation %.1f° about %.2f, t %.2f", a*180/math.Pi, axis, r.T)
	}
	return s
}

func TestComparePhotos(t *testing.T) {
	if raceEnabled {
		t.Skip("skipped under the race detector, where decoding three 12-megapixel JPEGs takes half a minute; run go test without -race")
	}
	f := features(t, "IMG_1025.JPG", "IMG_1027.JPG", "IMG_1050.JPG")
	next := Compare(f[0], f[1], monstreeFocal, monstreeFocal)
	t.Logf("IMG_1025 vs IMG_1027 (next photo): %s", describeResult(next))
	far := Compare(f[0], f[2], monstreeFocal, monstreeFocal)
	t.Logf("IMG_1025 vs IMG_1050 (other side): %s", describeResult(far))
	if !next.Verified || len(next.Inliers) < 30 || !next.PoseOK {
		t.Errorf("consecutive photos: %s; want verified with 30 inliers and a pose", describeResult(next))
	}
	if far.Overlap.Score > next.Overlap.Score/4 {
		t.Errorf("score %.3f for photos of opposite sides, %.3f for consecutive ones; want under a quarter",
			far.Overlap.Score, next.Overlap.Score)
	}
}
