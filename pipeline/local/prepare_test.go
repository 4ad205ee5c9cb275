package local

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline/synth"
)

// synthPhotos renders n small views of the bracket.
func synthPhotos(t *testing.T, n int) []string {
	t.Helper()
	_, photos := synthCapture(t, n, 800, 600)
	return photos
}

// synthCapture renders n photos of the bracket in one ring into a folder.
func synthCapture(t *testing.T, n, width, height int) (dir string, photos []string) {
	t.Helper()
	b, _ := assets.Part("bracket")
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.Width, o.Height, o.MeshCell = n, 1, width, height, 4
	dir = t.TempDir()
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		photos = append(photos, filepath.Join(dir, fmt.Sprintf("view_%03d.jpg", i)))
	}
	return dir, photos
}

func digest(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func TestPreparePhotos(t *testing.T) {
	photos := synthPhotos(t, 2)
	exiftool, err := exec.LookPath("exiftool")
	if err == nil {
		// The second photo as a phone stores it: sideways, with GPS.
		out, err := exec.Command(exiftool, "-overwrite_original", "-Orientation#=6", "-GPSLatitude=37.72", "-GPSLatitudeRef=N",
			"-GPSLongitude=119.6", "-GPSLongitudeRef=W", photos[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("exiftool: %v: %s", err, out)
		}
	} else {
		t.Log("exiftool not installed (make deps installs it): the rotated, GPS-tagged case is not checked")
	}
	before := []([32]byte){digest(t, photos[0]), digest(t, photos[1])}
	dir := t.TempDir()
	var fractions []float64
	got, err := PreparePhotos(context.Background(), photos, dir, PrepareOptions{MaxSide: 400, Workers: 1}, func(f float64) { fractions = append(fractions, f) })
	if err != nil {
		t.Fatal(err)
	}
	if len(fractions) != 2 || fractions[1] != 1 {
		t.Errorf("progress %v", fractions)
	}
	for i, p := range got {
		if digest(t, photos[i]) != before[i] {
			t.Errorf("%s was modified", photos[i])
		}
		q, err := capture.LoadPhoto(filepath.Join(dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		wantW, wantH := 400, 300
		if i == 1 && exiftool != "" {
			wantW, wantH = 300, 400
		}
		if p.Width != wantW || p.Height != wantH || q.Width != wantW || q.Height != wantH || q.EXIF.Orientation != 1 {
			t.Errorf("%s: %d×%d (file %d×%d, orientation %d), want %d×%d upright", p.Name, p.Width, p.Height, q.Width, q.Height, q.EXIF.Orientation, wantW, wantH)
		}
		if q.EXIF.HasGPS {
			t.Errorf("%s keeps GPS", p.Name)
		}
		// The focal length the checks read from the source, scaled by the
		// downscale (800 → 400 px).
		src, err := capture.LoadPhoto(photos[i])
		if err != nil {
			t.Fatal(err)
		}
		if want := src.FocalPx / 2; !p.FocalFromEXIF || p.FocalPx < want-0.01 || p.FocalPx > want+0.01 {
			t.Errorf("%s: focal %.2f px (from EXIF %v), want %.2f", p.Name, p.FocalPx, p.FocalFromEXIF, want)
		}
		if f35 := q.EXIF.FocalLength35mm; f35 < 24 || f35 > 26 {
			t.Errorf("%s: written FocalLengthIn35mmFilm %v, want 25 (COLMAP reads 25/35 × 400 = 285.7 px)", p.Name, f35)
		}
		if q.EXIF.Make != "Replica" || q.EXIF.Taken.IsZero() {
			t.Errorf("%s: camera %q, taken %v not kept", p.Name, q.EXIF.Make, q.EXIF.Taken)
		}
	}
	if exiftool != "" {
		out, _ := exec.Command(exiftool, "-a", "-G", filepath.Join(dir, got[1].Name)).CombinedOutput()
		if strings.Contains(string(out), "GPS") {
			t.Errorf("exiftool finds GPS in the prepared photo:\n%s", out)
		}
	}
}

func TestPrepareBadPhoto(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "notes.jpg")
	os.WriteFile(bad, []byte("not a photo"), 0o644)
	_, err := PreparePhotos(context.Background(), []string{bad}, t.TempDir(), PrepareOptions{MaxSide: 400}, nil)
	if err == nil || !strings.Contains(err.Error(), "notes.jpg") {
		t.Errorf("PreparePhotos on a text file: %v, want an error naming it", err)
	}
	if _, err := PreparePhotos(context.Background(), nil, t.TempDir(), PrepareOptions{}, nil); err == nil {
		t.Errorf("MaxSide 0 accepted")
	}
}

func TestOutputNames(t *testing.T) {
	got, _ := outputNames([]string{"a/IMG_1.JPG", "b/IMG_1.png", "c/img_1.jpeg", "d/x.jpg"})
	want := "IMG_1.jpg IMG_1-2.jpg img_1-3.jpg x.jpg"
	if strings.Join(got, " ") != want {
		t.Errorf("outputNames = %q, want %q", got, want)
	}
}
