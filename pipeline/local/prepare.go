// Package local reconstructs on this machine: the stages of a job built on
// the COLMAP binary (pipeline/colmap), on an NVIDIA GPU when there is one
// and on the CPU when not.
package local

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image.Decode
	_ "image/png"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/disintegration/imaging"

	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/internal/jpegexif"
)

// PrepareOptions tune PreparePhotos.
type PrepareOptions struct {
	// MaxSide is the longest side of a prepared photo in pixels; larger
	// photos are scaled down, smaller ones kept at their size.
	MaxSide int
	// Quality is the JPEG quality (95 when 0).
	Quality int
	// Workers bounds parallelism (GOMAXPROCS when 0).
	Workers int
}

// Prepared is one photo as the reconstruction sees it.
type Prepared struct {
	Source        string  `json:"source"` // the maker's file, never modified
	Name          string  `json:"name"`   // the prepared file's name in the folder
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	FocalPx       float64 `json:"focal_px"` // focal length in pixels of the prepared photo
	FocalFromEXIF bool    `json:"focal_from_exif"`
}

// PreparePhotos writes upright, downscaled copies of photos into dir, with
// an EXIF block that keeps the camera, the time, the exposure and the focal
// length, and drops everything else (GPS above all): these copies are what
// COLMAP reads and what a cloud job uploads. The focal length is written as
// the 35 mm equivalent COLMAP turns into pixels (f35 / 35 × the long side),
// chosen so that it gives the focal length Replica measured. The maker's
// files are only read. progress gets the share done.
func PreparePhotos(ctx context.Context, photos []string, dir string, o PrepareOptions, progress func(float64)) ([]Prepared, error) {
	if o.MaxSide <= 0 {
		return nil, fmt.Errorf("prepare: MaxSide %d", o.MaxSide)
	}
	if o.Quality <= 0 {
		o.Quality = 95
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	names, err := outputNames(photos)
	if err != nil {
		return nil, err
	}
	out := make([]Prepared, len(photos))
	errs := make([]error, len(photos))
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, len(photos)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(photos) || ctx.Err() != nil {
					return
				}
				out[i], errs[i] = prepareOne(photos[i], filepath.Join(dir, names[i]), o)
				if progress != nil {
					progress(float64(done.Add(1)) / float64(len(photos)))
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// outputNames gives each photo a distinct JPEG name from its own name.
func outputNames(photos []string) ([]string, error) {
	names := make([]string, len(photos))
	used := map[string]bool{}
	for i, p := range photos {
		base := filepath.Base(p)
		stem := strings.TrimSuffix(base, filepath.Ext(base))
		name := stem + ".jpg"
		for k := 2; used[strings.ToLower(name)]; k++ {
			name = fmt.Sprintf("%s-%d.jpg", stem, k)
		}
		used[strings.ToLower(name)] = true
		names[i] = name
	}
	return names, nil
}

// prepareOne writes the prepared copy of the photo at src to dst.
func prepareOne(src, dst string, o PrepareOptions) (Prepared, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return Prepared{}, fmt.Errorf("prepare %s: %w", filepath.Base(src), err)
	}
	// The checks' reader validates the file (size limits, corrupt data)
	// and reads the EXIF and the focal length before the full decode.
	p, err := capture.DecodePhoto(bytes.NewReader(b), filepath.Base(src))
	if err != nil {
		return Prepared{}, err
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return Prepared{}, fmt.Errorf("prepare %s: %w", filepath.Base(src), err)
	}
	img = capture.Orient(img, p.EXIF.Orientation)
	w, h := img.Bounds().Dx(), img.Bounds().Dy()
	scale := 1.0
	if long := max(w, h); long > o.MaxSide {
		scale = float64(o.MaxSide) / float64(long)
		nw, nh := max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale)))
		img = imaging.Resize(img, nw, nh, imaging.Lanczos)
		w, h = nw, nh
	}
	focal := p.FocalPx * scale
	x := &jpegexif.Info{
		Make: p.EXIF.Make, Model: p.EXIF.Model, Software: "replica prepare",
		Taken: p.EXIF.Taken, Width: w, Height: h,
		FocalMM: p.EXIF.FocalLengthMM, ExposureSec: p.EXIF.ExposureTime, ISO: p.EXIF.ISO,
		FlashKnown: p.EXIF.FlashKnown, FlashFired: p.EXIF.FlashFired,
	}
	fromEXIF := p.FocalSource != capture.FocalFallback
	if fromEXIF {
		x.Focal35 = max(1, int(math.Round(focal/float64(max(w, h))*35)))
	}
	f, err := os.Create(dst)
	if err != nil {
		return Prepared{}, fmt.Errorf("prepare %s: %w", filepath.Base(src), err)
	}
	if err := jpegexif.Encode(f, img, o.Quality, x); err != nil {
		f.Close()
		return Prepared{}, fmt.Errorf("prepare %s: %w", filepath.Base(src), err)
	}
	if err := f.Close(); err != nil {
		return Prepared{}, fmt.Errorf("prepare %s: %w", filepath.Base(src), err)
	}
	return Prepared{Source: src, Name: filepath.Base(dst), Width: w, Height: h, FocalPx: focal, FocalFromEXIF: fromEXIF}, nil
}
