package markers_test

// The tests here render photos with pipeline/synth, which imports markers:
// they live in the external test package to avoid the import cycle.

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/synth"
)

// renderCapture renders views photos of the built-in bracket standing on an
// A4 sheet, at the default 1600×1200, into a temporary directory.
func renderCapture(tb testing.TB, views int) (string, *synth.Truth) {
	tb.Helper()
	b, ok := assets.Part("bracket")
	if !ok {
		tb.Fatal(`no built-in part "bracket"`)
	}
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.Views = views
	o.MeshCell = 2 // groundtruth.stl only bounds the part here
	dir := tb.TempDir()
	truth, err := synth.Generate(context.Background(), spec, o, dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, truth
}

func decodeJPEG(tb testing.TB, path string) image.Image {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return img
}

// camera projects world points into one view of a truth.
type camera struct {
	in synth.Intrinsics
	R  [3][3]float64
	t  [3]float64
}

func newCamera(in synth.Intrinsics, v synth.TruthView) camera {
	w, x, y, z := v.QVec[0], v.QVec[1], v.QVec[2], v.QVec[3]
	return camera{in: in, t: v.TVec, R: [3][3]float64{
		{1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y)},
		{2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x)},
		{2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y)},
	}}
}

// project returns the pixel of world point p, COLMAP's PINHOLE model, and
// whether p lies in front of the camera.
func (c camera) project(p [3]float64) ([2]float64, bool) {
	var q [3]float64
	for i := range 3 {
		q[i] = c.R[i][0]*p[0] + c.R[i][1]*p[1] + c.R[i][2]*p[2] + c.t[i]
	}
	if q[2] <= 0 {
		return [2]float64{}, false
	}
	return [2]float64{c.in.Fx*q[0]/q[2] + c.in.Cx, c.in.Fy*q[1]/q[2] + c.in.Cy}, true
}

// box2 is an axis-aligned box in pixels.
type box2 struct{ min, max [2]float64 }

func (b *box2) add(p [2]float64) {
	for i := range 2 {
		b.min[i] = math.Min(b.min[i], p[i])
		b.max[i] = math.Max(b.max[i], p[i])
	}
}

func emptyBox() box2 {
	return box2{min: [2]float64{math.Inf(1), math.Inf(1)}, max: [2]float64{math.Inf(-1), math.Inf(-1)}}
}

func (b box2) overlaps(o box2) bool {
	return b.min[0] < o.max[0] && o.min[0] < b.max[0] && b.min[1] < o.max[1] && o.min[1] < b.max[1]
}

// partBox returns the world bounding box corners of the rendered part.
func partBox(tb testing.TB, dir string) [8][3]float64 {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, "groundtruth.stl"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	m, err := mesh.ReadSTL(f)
	if err != nil {
		tb.Fatal(err)
	}
	b := m.Bounds()
	var c [8][3]float64
	for i := range 8 {
		c[i] = [3]float64{b.Min.X, b.Min.Y, b.Min.Z}
		if i&1 != 0 {
			c[i][0] = b.Max.X
		}
		if i&2 != 0 {
			c[i][1] = b.Max.Y
		}
		if i&4 != 0 {
			c[i][2] = b.Max.Z
		}
	}
	return c
}

// viewMarker is one truth marker as one view sees it.
type viewMarker struct {
	corners [4][2]float64
	inside  bool    // all corners at least 3 px inside the image
	hidden  bool    // its box overlaps the part's projected box: maybe occluded
	side    float64 // its shortest side in pixels
}

func viewMarkers(tb testing.TB, truth *synth.Truth, v synth.TruthView, part [8][3]float64) map[int]viewMarker {
	cam := newCamera(truth.Camera, v)
	pb := emptyBox()
	for _, p := range part {
		q, ok := cam.project(p)
		if !ok {
			tb.Fatalf("%s: part behind the camera", v.Image)
		}
		pb.add(q)
	}
	w, h := float64(truth.Camera.Width), float64(truth.Camera.Height)
	out := map[int]viewMarker{}
	for _, m := range truth.Markers.Markers {
		vm := viewMarker{inside: true, side: math.Inf(1)}
		mb := emptyBox()
		for i, c := range m.Corners {
			p, ok := cam.project(c)
			vm.inside = vm.inside && ok && p[0] >= 3 && p[1] >= 3 && p[0] <= w-3 && p[1] <= h-3
			vm.corners[i] = p
			mb.add(p)
		}
		for i := range 4 {
			a, b := vm.corners[i], vm.corners[(i+1)%4]
			vm.side = math.Min(vm.side, math.Hypot(b[0]-a[0], b[1]-a[1]))
		}
		vm.hidden = mb.overlaps(pb)
		out[m.ID] = vm
	}
	return out
}

// TestDetectSynthetic detects the sheet's markers in rendered photos and
// measures them against the truth: every marker fully in view, not behind
// the part and at least 20 px a side must be found, no ID may be reported
// that is not in view, and the corners must be within a small fraction of
// a pixel.
func TestDetectSynthetic(t *testing.T) {
	views := 10
	if markers.RaceEnabled || testing.Short() {
		views = 2
	}
	dir, truth := renderCapture(t, views)
	part := partBox(t, dir)
	var (
		errs             []float64 // corner errors in pixels
		sumDx, sumDy     float64
		want, got, wrong int
	)
	for _, v := range truth.Views {
		img := decodeJPEG(t, filepath.Join(dir, v.Image))
		dets := markers.Detect(img)
		vms := viewMarkers(t, truth, v, part)
		seen := map[int]bool{}
		for _, d := range dets {
			seen[d.ID] = true
			vm, ok := vms[d.ID]
			if !ok {
				t.Errorf("%s: marker %d detected, not on the sheet", v.Image, d.ID)
				wrong++
				continue
			}
			var worst, dx, dy float64
			var e [4]float64
			for i := range 4 {
				x, y := d.Corners[i][0]-vm.corners[i][0], d.Corners[i][1]-vm.corners[i][1]
				e[i] = math.Hypot(x, y)
				worst = math.Max(worst, e[i])
				dx += x
				dy += y
			}
			if worst > 3 {
				t.Errorf("%s: marker %d detected %.1f px from its true place (corners %.1f, want %.1f)", v.Image, d.ID, worst, d.Corners, vm.corners)
				wrong++
				continue
			}
			errs = append(errs, e[:]...)
			sumDx += dx
			sumDy += dy
			if worst > 1 {
				t.Logf("%s: marker %d (side %.0f px) corner errors %.2f", v.Image, d.ID, vm.side, e)
			}
		}
		for id, vm := range vms {
			if !vm.inside || vm.hidden || vm.side < 20 {
				continue
			}
			want++
			if seen[id] {
				got++
			} else {
				t.Logf("%s: marker %d (shortest side %.0f px) in view, not detected", v.Image, id, vm.side)
			}
		}
	}
	slices.Sort(errs)
	if len(errs) == 0 {
		t.Fatal("no marker detected")
	}
	var ss float64
	for _, e := range errs {
		ss += e * e
	}
	n := float64(len(errs))
	rms := math.Sqrt(ss / n)
	rate := float64(got) / float64(max(1, want))
	t.Logf("%d photos: %d of %d visible markers ≥ 20 px detected (%.1f %%), %d detections in all, %d false",
		len(truth.Views), got, want, 100*rate, len(errs)/4, wrong)
	t.Logf("corner error: RMS %.3f px, median %.3f px, max %.3f px; mean offset (%+.3f, %+.3f) px",
		rms, errs[len(errs)/2], errs[len(errs)-1], sumDx/n, sumDy/n)
	if rate < 0.95 {
		t.Errorf("detected %d of %d visible markers, want at least 95 %%", got, want)
	}
	if rms > 0.3 {
		t.Errorf("corner RMS error %.3f px, want at most 0.3", rms)
	}
	if b := math.Hypot(sumDx/n, sumDy/n); b > 0.1 {
		t.Errorf("mean corner offset %.3f px, want under 0.1 px: a pixel-convention error shows as 0.5", b)
	}
}

// BenchmarkDetect detects the markers in one 1600×1200 rendered photo.
func BenchmarkDetect(b *testing.B) {
	dir, truth := renderCapture(b, 1)
	img := decodeJPEG(b, filepath.Join(dir, truth.Views[0].Image))
	for b.Loop() {
		markers.Detect(img)
	}
}
