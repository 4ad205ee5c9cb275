package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"

	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/capture/markers"
)

// Thumbnails fit in thumbW × thumbH pixels: twice a tile, for sharp
// thumbnails on high-density screens.
const thumbW, thumbH = 2 * tileSize, 2 * tileSize * 3 / 4

// makeThumb writes the thumbnail of photo src to dst, a JPEG, unless dst is
// already newer than src. The photo is turned upright by its EXIF
// orientation. dst is written to a temporary file first, so a crash never
// leaves half a thumbnail.
func makeThumb(src, dst string) error {
	si, err := os.Stat(src)
	if err != nil {
		return err
	}
	if di, err := os.Stat(dst); err == nil && !di.ModTime().Before(si.ModTime()) {
		return nil
	}
	img, err := imaging.Open(src, imaging.AutoOrientation(true))
	if err != nil {
		return fmt.Errorf("thumbnail of %s: %w", filepath.Base(src), err)
	}
	img = imaging.Fit(img, thumbW, thumbH, imaging.Box)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return err
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 85}); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), dst)
}

// writeScaleSheet writes the marker sheet for paper ("A4" or "Letter") as
// a PDF.
func writeScaleSheet(w io.Writer, paper string) error {
	p, err := markers.ParsePaper(paper)
	if err != nil {
		return err
	}
	return markers.Layout(p).WritePDF(w, markers.DefaultTitle)
}

// checkFile caches a project's last capture check: the report and the key
// of the photos it was made from.
const checkFile = "check.json"

type cachedCheck struct {
	Key    string          `json:"key"`
	Report *capture.Report `json:"report"`
}

// checkKey identifies a set of photos in order: their paths, sizes and
// modification times. Photos in a project never change in place, so this
// is enough to know a cached check still holds.
func checkKey(paths []string) string {
	h := sha256.New()
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			fmt.Fprintf(h, "%s\x00missing\x00", p)
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\x00", p, fi.Size(), fi.ModTime().UnixNano())
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readCachedCheck returns the cached report of the photos with key, or nil.
func readCachedCheck(dir, key string) *capture.Report {
	b, err := os.ReadFile(filepath.Join(dir, checkFile))
	if err != nil {
		return nil
	}
	var c cachedCheck
	if json.Unmarshal(b, &c) != nil || c.Key != key || c.Report == nil {
		return nil
	}
	return c.Report
}

// writeCachedCheck saves rep for the photos with key, atomically.
func writeCachedCheck(dir, key string, rep *capture.Report) error {
	b, err := json.Marshal(cachedCheck{Key: key, Report: rep})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+checkFile+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, checkFile))
}
