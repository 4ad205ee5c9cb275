package capture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestCheckMonstree checks the 23 real iPhone photos of ../shared/datasets
// /monstree: orientation applied, GPS noted, no photo blurry or badly
// exposed, every photo read, and every gap reported where frames of the
// original sequence (IMG_1024 … IMG_1065) are missing from the set.
func TestCheckMonstree(t *testing.T) {
	if raceEnabled {
		t.Skip("renders or decodes dozens of full-size photos, too slow under the race detector; make test runs it again without -race")
	}
	if testing.Short() {
		t.Skip("checks 23 photos of 12 MP; skipped in -short mode")
	}
	dir := filepath.Join("..", "..", "shared", "datasets", "monstree") // from capture/ in the checkout
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Skip("../shared/datasets/monstree (23 real iPhone 7 photos) not found next to the repository; skipping")
	}
	r, err := CheckDir(context.Background(), dir, &Options{GraphFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, r)
	if len(r.Photos) != 23 {
		t.Fatalf("%d photos, want 23", len(r.Photos))
	}
	portrait := 0
	for _, p := range r.Photos {
		if p.Error != "" {
			t.Errorf("%s: %s", p.Name, p.Error)
			continue
		}
		if p.Height > p.Width {
			portrait++
		}
		if !p.GPS {
			t.Errorf("%s: GPS not noted", p.Name)
		}
		for _, c := range []Code{CodeBlurry, CodeUnderexposed, CodeOverexposed, CodeLowResolution, CodeUnreadable} {
			if slices.Contains(p.Codes, c) {
				t.Errorf("%s flagged %s", p.Name, c)
			}
		}
	}
	if portrait != 19 {
		t.Errorf("%d photos upright in portrait, want 19 (their EXIF says Rotate 90 CW)", portrait)
	}
	var gps bool
	for _, p := range r.Problems {
		if p.Code == CodeGPS && len(p.Photos) == 23 && p.Severity == OK {
			gps = true
		}
	}
	if !gps {
		t.Errorf("no %s note naming all 23 photos", CodeGPS)
	}
	for _, p := range r.Problems {
		if p.Code != CodeGap {
			continue
		}
		if len(p.Photos) != 2 {
			t.Errorf("gap names %v, want the two photos around it", p.Photos)
			continue
		}
		a, b := frame(t, p.Photos[0]), frame(t, p.Photos[1])
		if b-a < 2 {
			t.Errorf("gap reported between consecutive frames %s and %s: %s", p.Photos[0], p.Photos[1], p.Message)
		}
	}
}

// frame is the number in IMG_NNNN.JPG.
func frame(t *testing.T, name string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscanf(name, "IMG_%d.JPG", &n); err != nil {
		t.Fatalf("photo name %q: %v", name, err)
	}
	return n
}
