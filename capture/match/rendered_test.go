package match

import (
	"bytes"
	"context"
	"fmt"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/pipeline/synth"
)

// quaternionMatrix is the rotation matrix of the unit quaternion q = (w,
// x, y, z), as COLMAP writes world→camera rotations.
func quaternionMatrix(q [4]float64) [9]float64 {
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	w, x, y, z := q[0]/n, q[1]/n, q[2]/n, q[3]/n
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
}

// The settings of capture.Check (capture/check.go), tuned for neighbours
// 20–30° apart, which the photos of TestPoseRenderedCapture, 45° apart,
// need: with Detect's and Compare's defaults only about 20 pairs of
// points verify there, too few to fit a homography, while photos 30°
// apart all get a pose with the defaults too.
const (
	renderedFeatures  = 2000
	renderedRatio     = 0.85
	renderedThreshold = 2.5
)

// renderedView is one photo of a rendered capture: its features at
// working resolution and the focal length there.
type renderedView struct {
	f     *Features
	focal float64
	R     [9]float64 // true world→camera rotation
}

// renderCapture renders the bracket with pipeline/synth under the options
// mod sets and detects the features of its photos, reduced to at most
// 1024 pixels on the long side as capture does.
func renderCapture(tb testing.TB, mod func(*synth.Options)) []renderedView {
	tb.Helper()
	b, ok := assets.Part("bracket")
	if !ok {
		tb.Fatal("assets: no bracket part")
	}
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	o := synth.DefaultOptions()
	mod(&o)
	dir := tb.TempDir()
	truth, err := synth.Generate(context.Background(), spec, o, dir)
	if err != nil {
		tb.Fatal(err)
	}
	views := make([]renderedView, len(truth.Views))
	errs := make([]error, len(views))
	var wg sync.WaitGroup
	for i, v := range truth.Views {
		wg.Go(func() {
			f, err := os.Open(filepath.Join(dir, v.Image))
			if err != nil {
				errs[i] = err
				return
			}
			defer f.Close()
			img, err := jpeg.Decode(f)
			if err != nil {
				errs[i] = fmt.Errorf("decode %s: %w", v.Image, err)
				return
			}
			gray := downscale(img)
			scale := float64(gray.Rect.Dx()) / float64(img.Bounds().Dx())
			views[i] = renderedView{f: Detect(gray, &Options{MaxFeatures: renderedFeatures}), focal: truth.Camera.Fx * scale, R: quaternionMatrix(v.QVec)}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return views
}

// TestPoseRenderedCapture compares consecutive photos of a rendered
// capture, 8 photos around the bracket on one ring at 40° elevation (the
// last with the first too), where most matched points lie on the mat and
// the printed sheet, and checks the relative rotations against the
// truth: R_b·R_aᵀ from the world→camera rotations.
func TestPoseRenderedCapture(t *testing.T) {
	if testing.Short() {
		t.Skip("renders and matches a capture with pipeline/synth (5 s); run without -short")
	}
	if raceEnabled {
		t.Skip("skipped under the race detector, where rendering, decoding and matching the capture takes 40 s; run go test without -race")
	}
	views := renderCapture(t, func(o *synth.Options) {
		o.Views, o.Rings, o.MeshCell = 8, 1, 4
	})
	n := len(views)
	posed, fromPlane := 0, 0
	worst := 0.0
	for i := range n {
		j := (i + 1) % n
		a, b := views[i], views[j]
		r := CompareWith(a.f, b.f, a.focal, b.focal, renderedRatio, &RansacOptions{Threshold: renderedThreshold})
		rat := transpose3(&a.R)
		want := mul3(&b.R, &rat)
		trueAngle, _ := RotationAngleAxis(want)
		msg := fmt.Sprintf("views %d→%d (rotation %.1f°): %s, from plane %v", i+1, j+1, trueAngle*180/math.Pi, describeResult(r), r.PoseFromPlane)
		if !r.PoseOK {
			t.Log(msg)
			continue
		}
		posed++
		if r.PoseFromPlane {
			fromPlane++
		}
		e := rotationError(r.R, want)
		worst = max(worst, e)
		t.Logf("%s; rotation error %.3f°", msg, e)
		if e > 2 {
			t.Errorf("views %d→%d: rotation error %.3f°, want at most 2°", i+1, j+1, e)
		}
	}
	t.Logf("%d of %d consecutive pairs posed, %d from the plane; worst rotation error %.3f°", posed, n, fromPlane, worst)
	if 5*posed < 4*n {
		t.Errorf("%d of %d consecutive pairs posed, want at least 80%%", posed, n)
	}
}
