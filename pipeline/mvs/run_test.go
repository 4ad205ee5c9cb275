package mvs

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/colmap"
	"gonum.org/v1/gonum/spatial/r3"
)

// writeWorkspace writes views and sparse points as the undistorted
// workspace of colmap image_undistorter: PNG images under images/ and a
// binary model with PINHOLE cameras under sparse/
// (https://colmap.github.io/format.html).
func writeWorkspace(tb testing.TB, views []*View, points []r3.Vec) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, sub := range []string{"images", "sparse"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			tb.Fatal(err)
		}
	}
	le := binary.LittleEndian
	var cams, ims, pts bytes.Buffer
	put := func(b *bytes.Buffer, vs ...any) {
		for _, v := range vs {
			if err := binary.Write(b, le, v); err != nil {
				tb.Fatal(err)
			}
		}
	}
	put(&cams, uint64(len(views)))
	put(&ims, uint64(len(views)))
	for i, v := range views {
		id := uint32(i + 1)
		put(&cams, id, int32(1), uint64(v.W), uint64(v.H), v.K) // model 1: PINHOLE
		put(&ims, id, quaternion(v.R), v.T, id)
		ims.WriteString(v.Name + ".png\x00")
		put(&ims, uint64(0)) // no keypoints
		img := image.NewNRGBA(image.Rect(0, 0, v.W, v.H))
		for p, g := range v.Gray {
			b := uint8(math.Round(255 * float64(g)))
			img.Pix[4*p], img.Pix[4*p+1], img.Pix[4*p+2], img.Pix[4*p+3] = b, b, b, 255
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "images", v.Name+".png"), buf.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	put(&pts, uint64(len(points)))
	for i, x := range points {
		put(&pts, uint64(i+1), [3]float64{x.X, x.Y, x.Z}, [3]uint8{128, 128, 128}, 0.5, uint64(1), uint32(1), uint32(0))
	}
	for name, b := range map[string]*bytes.Buffer{"cameras.bin": &cams, "images.bin": &ims, "points3D.bin": &pts} {
		if err := os.WriteFile(filepath.Join(dir, "sparse", name), b.Bytes(), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// quaternion returns the unit quaternion (w, x, y, z) of rotation matrix r
// (Shepperd's method).
func quaternion(r [9]float64) [4]float64 {
	var q [4]float64
	switch tr := r[0] + r[4] + r[8]; {
	case tr > 0:
		s := 2 * math.Sqrt(tr+1)
		q = [4]float64{s / 4, (r[7] - r[5]) / s, (r[2] - r[6]) / s, (r[3] - r[1]) / s}
	case r[0] > r[4] && r[0] > r[8]:
		s := 2 * math.Sqrt(1+r[0]-r[4]-r[8])
		q = [4]float64{(r[7] - r[5]) / s, s / 4, (r[1] + r[3]) / s, (r[2] + r[6]) / s}
	case r[4] > r[8]:
		s := 2 * math.Sqrt(1+r[4]-r[0]-r[8])
		q = [4]float64{(r[2] - r[6]) / s, (r[1] + r[3]) / s, s / 4, (r[5] + r[7]) / s}
	default:
		s := 2 * math.Sqrt(1+r[8]-r[0]-r[4])
		q = [4]float64{(r[3] - r[1]) / s, (r[2] + r[6]) / s, (r[5] + r[7]) / s, s / 4}
	}
	return q
}

func TestRotationRoundTrip(t *testing.T) {
	v := lookAt("a", r3.Vec{X: 3, Y: -2, Z: 1}, r3.Vec{Z: 10}, 10, 10, 10)
	got := (&colmap.Image{Q: quaternion(v.R)}).Rotation()
	for i := range got {
		if math.Abs(got[i]-v.R[i]) > 1e-12 {
			t.Fatalf("Rotation(quaternion(R)) = %v, want %v", got, v.R)
		}
	}
}

// Run's tests use 64×48 views: they test the plumbing, and EstimateDepth's
// and Fuse's tests the accuracy.
const smallW, smallH = 64, 48

func TestRun(t *testing.T) {
	s := newSceneSized(t, tilted(30), 8, smallW, smallH, 3)
	dir := writeWorkspace(t, s.views, s.sparse())
	o := testOptions()
	var calls, last, total int
	o.Progress = func(done, n int) { calls, last, total = calls+1, done, n }
	c, st, err := Run(context.Background(), dir, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stats: %+v", *st)
	checkOnPlane(t, c, s.pl, 3e-3*testDist, 5, 0.9)
	if st.Views != 5 || len(st.Skipped) != 0 || st.Points != c.Len() || st.Width != smallW {
		t.Errorf("stats %+v, want 5 views, none skipped, %d points, width %d", *st, c.Len(), smallW)
	}
	// One call a depth map, one a geometric-pass map, one for fusion.
	want := 5 + 1
	if o.GeoIterations > 0 {
		want += 5
	}
	if calls != want || last != total || total != want {
		t.Errorf("progress: %d calls, the last %d/%d; want %d calls, the last %d/%d", calls, last, total, want, want, want)
	}
}

func TestRunBadInput(t *testing.T) {
	plain := newScene(t, tilted(30), 9)
	flat := newScene(t, tilted(30), 9)
	for _, v := range flat.views {
		for i := range v.Gray {
			v.Gray[i] = 0.5
		}
	}
	// Two cameras at the origin looking in opposite directions, each at a
	// textured plane of its own: no sparse point is seen by both.
	front := newScene(t, r3.Vec{Z: -1}, 10)
	back := lookAt("back", r3.Vec{}, r3.Vec{Z: -testDist}, testW, testH, testF)
	backPlane := newPlane(r3.Vec{Z: -testDist}, r3.Vec{Z: 1})
	render(back, backPlane, texture{seed: 11, cell: 0.25}, 1)
	apart := []*View{front.views[0], back}
	apartPoints := front.sparse()
	for _, x := range front.sparse() {
		apartPoints = append(apartPoints, r3.Vec{X: x.X, Y: x.Y, Z: -x.Z})
	}

	for _, tc := range []struct {
		name   string
		views  []*View
		points []r3.Vec
		kind   error
		msg    string
	}{
		{"one photo", plain.views[:1], plain.sparse(), ErrTooFewViews, "dense reconstruction needs at least 2 registered photos; the model has 1"},
		{"no overlap", apart, apartPoints, ErrNoOverlap, "none of the 2 photos overlaps another"},
		{"no texture", flat.views, flat.sparse(), ErrNoTexture, "no surface found: the photos have no texture"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeWorkspace(t, tc.views, tc.points)
			_, _, err := Run(context.Background(), dir, testOptions())
			if !errors.Is(err, tc.kind) {
				t.Fatalf("Run: error %v, want %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Run: error %q, want it to say %q", err, tc.msg)
			}
			var ie *InputError
			if !errors.As(err, &ie) || ie.Hint == "" {
				t.Errorf("Run: error %v is not an *InputError with a hint", err)
			}
		})
	}
}

func TestRunNotUndistorted(t *testing.T) {
	s := newSceneSized(t, tilted(30), 8, smallW, smallH, 1)
	dir := writeWorkspace(t, s.views, s.sparse())
	// Turn camera 1 into SIMPLE_RADIAL (model 2), keeping four parameters.
	path := filepath.Join(dir, "sparse", "cameras.bin")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(b[8+4:], 2)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = Run(context.Background(), dir, testOptions())
	if err == nil || !strings.Contains(err.Error(), "image_undistorter") {
		t.Fatalf("Run on a distorted model: error %v, want one naming image_undistorter", err)
	}
}

func TestRunCancel(t *testing.T) {
	s := newSceneSized(t, tilted(30), 8, smallW, smallH, 1)
	dir := writeWorkspace(t, s.views, s.sparse())
	ctx, cancel := context.WithCancel(context.Background())
	o := testOptions()
	o.Progress = func(done, total int) {
		if done == 2 {
			cancel()
		}
	}
	if _, _, err := Run(ctx, dir, o); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run cancelled after 2 views: error %v, want context.Canceled", err)
	}
}

// The model's reader and the test's writer must agree.
func TestWriteWorkspace(t *testing.T) {
	s := newScene(t, tilted(30), 8)
	dir := writeWorkspace(t, s.views, s.sparse())
	m, err := colmap.ReadModel(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Images) != 5 || len(m.Points) != len(s.sparse()) {
		t.Fatalf("read %d images and %d points, want 5 and %d", len(m.Images), len(m.Points), len(s.sparse()))
	}
	c := m.Images[1].Center()
	if want := s.views[1].Center(); r3.Norm(r3.Sub(c, want)) > 1e-9 {
		t.Errorf("centre of image 2 = %v, want %v", c, want)
	}
}
