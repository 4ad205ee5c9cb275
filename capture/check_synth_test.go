package capture

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/replica3d/replica/pipeline/synth"
)

func TestCheckCleanSyntheticSets(t *testing.T) {
	if raceEnabled {
		t.Skip("renders or decodes dozens of full-size photos, too slow under the race detector; make test runs it again without -race")
	}
	if testing.Short() {
		t.Skip("renders two synthetic captures; skipped in -short mode")
	}
	for _, part := range []string{"bracket", "flanged-cylinder"} {
		t.Run(part, func(t *testing.T) {
			dir := synthSet(t, part, nil)
			r, err := CheckDir(context.Background(), dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			logReport(t, r)
			// Two rings of 15 that no posed pair links place at least one ring.
			if !r.Ready || !r.Coverage.Full || r.Coverage.Placed < 15 {
				t.Errorf("clean set: ready %v, coverage %+v; want ready with full coverage and at least a ring placed", r.Ready, r.Coverage)
			}
			for _, p := range r.Photos {
				if len(p.Codes) > 0 || p.Verdict != OK {
					t.Errorf("clean photo %s flagged %v (%s)", p.Name, p.Codes, p.Verdict)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, GraphFileName)); err != nil {
				t.Errorf("overlap graph not written: %v", err)
			}
		})
	}
}

func TestCheckDegradedSyntheticSet(t *testing.T) {
	if raceEnabled {
		t.Skip("renders or decodes dozens of full-size photos, too slow under the race detector; make test runs it again without -race")
	}
	if testing.Short() {
		t.Skip("renders a synthetic capture; skipped in -short mode")
	}
	dir := synthSet(t, "bracket", func(o *synth.Options) {
		o.BlurViews, o.BlurSigma = []int{4, 17}, 2.5
		o.ExposureViews, o.Exposure = []int{9}, 0.3
		o.SkipArc = &[2]float64{100, 170}
	})
	// Over-exposure is a second render: synth takes one exposure factor.
	over := synthSet(t, "bracket", func(o *synth.Options) {
		o.ExposureViews, o.Exposure = []int{22}, 2.5
		o.SkipArc = &[2]float64{100, 170}
	})
	if err := os.Rename(filepath.Join(over, "view_022.jpg"), filepath.Join(dir, "view_022.jpg")); err != nil {
		t.Fatal(err)
	}
	r, err := CheckDir(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	logReport(t, r)
	want := map[string]Code{"view_004.jpg": CodeBlurry, "view_017.jpg": CodeBlurry, "view_009.jpg": CodeUnderexposed, "view_022.jpg": CodeOverexposed}
	for _, p := range r.Photos {
		c, degraded := want[p.Name]
		switch {
		case degraded && !slices.Contains(p.Codes, c):
			t.Errorf("%s: codes %v, want %s", p.Name, p.Codes, c)
		case !degraded && len(p.Codes) > 0:
			t.Errorf("clean photo %s flagged %v", p.Name, p.Codes)
		}
	}
	if r.Ready {
		t.Errorf("degraded set reported ready")
	}
	var gap bool
	for _, p := range r.Problems {
		if p.Code == CodeCoverageGap {
			gap = true
		}
	}
	if !gap {
		t.Errorf("the skipped arc is not reported as %s", CodeCoverageGap)
	}
	// The arcs named, turned back into the renderer's azimuths through the
	// reference photo's true azimuth, lie within the skipped arc.
	b, err := os.ReadFile(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tr synth.Truth
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	ref := tr.Views[r.Coverage.Reference].Azimuth
	for _, a := range r.Coverage.Missing {
		from, to := math.Mod(a.From+ref, 360), math.Mod(a.To+ref, 360)
		inside := func(x float64) bool { return math.Mod(x-100+360, 360) <= 70+5 }
		if !inside(from) || !inside(to) {
			t.Errorf("missing arc %.0f°–%.0f° from %s is %.0f°–%.0f° around the part, outside the skipped 100°–170°",
				a.From, a.To, r.Photos[r.Coverage.Reference].Name, from, to)
		}
	}
}
