package colmap

import (
	"bytes"
	"cmp"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// addSeeds seeds a fuzzer of the named file with the file COLMAP wrote
// (colmapModelDir), the one the test builder writes for sampleSpec, and
// corrupt versions of it: truncated, with a trailing byte, and with an
// absurd first count.
func addSeeds(f *testing.F, name string) {
	colmap, err := os.ReadFile(filepath.Join(colmapModelDir, name))
	if err != nil {
		f.Fatal(err)
	}
	built := sampleSpec().files(f)[name]
	absurd := bytes.Clone(built)
	lendian.PutUint64(absurd, 1<<62)
	for _, seed := range [][]byte{
		colmap,
		built,
		built[:len(built)/2],
		append(bytes.Clone(built), 0),
		absurd,
		lendian.AppendUint64(nil, 0), // an empty model
	} {
		f.Add(seed)
	}
}

// checkDecodeError checks that a decoder's error over an in-memory file is
// a *FormatError for it: there is no I/O error to pass through.
func checkDecodeError(t *testing.T, err error, name string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != name {
		t.Fatalf("error %v (%T), want a *FormatError for %s", err, err, name)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) != (fe.Err == io.ErrUnexpectedEOF) {
		t.Fatalf("error %v: Err = %v", err, fe.Err)
	}
}

func FuzzReadCameras(f *testing.F) {
	addSeeds(f, camerasFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		cams, err := readCameras(newDecoder(camerasFile, bytes.NewReader(data), int64(len(data))))
		if err != nil {
			checkDecodeError(t, err, camerasFile)
			return
		}
		if min := 8 + len(cams)*minCamera; len(data) < min {
			t.Fatalf("%d cameras read from %d bytes, need at least %d", len(cams), len(data), min)
		}
		for id, c := range cams {
			if c.ID != id || c.Width <= 0 || c.Height <= 0 || !finite(c.Params...) {
				t.Fatalf("camera %d = %+v", id, *c)
			}
			known := false
			for _, m := range cameraModels {
				known = known || m.name == c.Model && m.params == len(c.Params)
			}
			if !known {
				t.Fatalf("camera %d: model %s with %d parameters", id, c.Model, len(c.Params))
			}
		}
	})
}

func FuzzReadImages(f *testing.F) {
	addSeeds(f, imagesFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		ims, err := readImages(newDecoder(imagesFile, bytes.NewReader(data), int64(len(data))))
		if err != nil {
			checkDecodeError(t, err, imagesFile)
			return
		}
		if !slices.IsSortedFunc(ims, func(a, b *Image) int { return cmp.Compare(a.ID, b.ID) }) {
			t.Fatal("images not sorted by ID")
		}
		names := map[string]bool{}
		keypoints := 0
		for i, im := range ims {
			if i > 0 && im.ID == ims[i-1].ID {
				t.Fatalf("duplicate image ID %d", im.ID)
			}
			if im.Name == "" || len(im.Name) > maxNameBytes || names[im.Name] {
				t.Fatalf("image %d: bad or duplicate name %q", im.ID, im.Name)
			}
			names[im.Name] = true
			if im.Observed < 0 || im.Observed > im.Points2D {
				t.Fatalf("image %d: %d of %d keypoints observed", im.ID, im.Observed, im.Points2D)
			}
			if !finite(im.Q[:]...) || !finite(im.T.X, im.T.Y, im.T.Z) || im.Q == [4]float64{} {
				t.Fatalf("image %d: pose %v %v", im.ID, im.Q, im.T)
			}
			// Center is finite for any finite non-zero Q, unless T is so
			// large that rotating it overflows.
			if c := im.Center(); !finite(c.X, c.Y, c.Z) && max(math.Abs(im.T.X), math.Abs(im.T.Y), math.Abs(im.T.Z)) < 1e300 {
				t.Fatalf("image %d: Center() = %v from Q %v, T %v", im.ID, c, im.Q, im.T)
			}
			keypoints += im.Points2D
		}
		if min := 8 + len(ims)*minImage + keypoints*keypointSize; len(data) < min {
			t.Fatalf("%d images, %d keypoints read from %d bytes, need at least %d", len(ims), keypoints, len(data), min)
		}
	})
}

func FuzzReadPoints3D(f *testing.F) {
	addSeeds(f, pointsFile)
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, err := readPoints(newDecoder(pointsFile, bytes.NewReader(data), int64(len(data))))
		if err != nil {
			checkDecodeError(t, err, pointsFile)
			return
		}
		track := 0
		for i, p := range pts {
			if i > 0 && p.ID <= pts[i-1].ID {
				t.Fatalf("points not sorted by ID or duplicate: %d after %d", p.ID, pts[i-1].ID)
			}
			if !finite(p.XYZ.X, p.XYZ.Y, p.XYZ.Z, p.Error) || p.Track < 0 {
				t.Fatalf("point %+v", p)
			}
			track += p.Track
		}
		if min := 8 + len(pts)*pointHead + track*trackElem; len(data) != min {
			t.Fatalf("%d points, %d track elements read from %d bytes, want %d bytes", len(pts), track, len(data), min)
		}
		m := Model{Points: pts}
		if e := m.MeanReprojectionError(); math.IsNaN(e) || e < 0 {
			t.Fatalf("MeanReprojectionError() = %v", e)
		}
	})
}
