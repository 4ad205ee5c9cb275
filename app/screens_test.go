package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/local"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/scale"
	"github.com/replica3d/replica/pipeline/synth"
)

// fakePipeline plays the reconstruction: it reports the stages and
// writes a cube as the mesh, or fails, or waits to be cancelled.
type fakePipeline struct {
	mu      sync.Mutex
	fail    error // returned after the matching stage
	block   bool  // wait in the matching stage until cancelled
	started chan struct{}
	jobs    []local.Job
	mm      bool // the result is in millimetres, with model.stl and model.step
}

func (f *fakePipeline) run(ctx context.Context, job local.Job) (*local.Report, error) {
	f.mu.Lock()
	f.jobs = append(f.jobs, job)
	fail, block, started, mm := f.fail, f.block, f.started, f.mm
	f.mu.Unlock()
	names := []string{"prepare", "features", "matching", "mapping", "mesh"}
	var res []pipeline.StageResult
	for i, n := range names {
		job.Progress.Stage(n, i, len(names))
		job.Progress.Update(n, 0.5, 3*time.Second)
		if n == "matching" {
			if started != nil {
				close(started)
			}
			if block {
				<-ctx.Done()
				return nil, &pipeline.StageError{Stage: n, Err: ctx.Err(), Hint: "Stopped; run again to resume"}
			}
			if fail != nil {
				return nil, &pipeline.StageError{Stage: n, Err: fail, Hint: "Take more photos"}
			}
		}
		job.Progress.Done(n, false, time.Second)
		res = append(res, pipeline.StageResult{Name: n, Seconds: 1})
	}
	if err := os.MkdirAll(job.Out, 0o755); err != nil {
		return nil, err
	}
	cube := &mesh.PLY{}
	for i := range 8 {
		cube.Cloud.Points = append(cube.Cloud.Points, geom.Vec{X: float64(i & 1), Y: float64(i >> 1 & 1), Z: float64(i >> 2)})
	}
	cube.Faces = [][3]int32{{0, 2, 1}, {1, 2, 3}, {4, 5, 6}, {5, 7, 6}, {0, 1, 4}, {1, 5, 4}, {2, 6, 3}, {3, 6, 7}, {0, 4, 2}, {2, 4, 6}, {1, 3, 5}, {3, 7, 5}}
	for _, name := range []string{"mesh.ply", "sparse.ply"} {
		f, err := os.Create(filepath.Join(job.Out, name))
		if err != nil {
			return nil, err
		}
		mesh.WritePLY(f, cube, mesh.BinaryLittleEndian)
		f.Close()
	}
	rep := &local.Report{Format: local.ReportFormat, Photos: len(job.Photos), Registered: len(job.Photos), Points: 8, Stages: res, Units: local.UnitsModel,
		Mesh: &local.MeshSummary{Source: "sparse", Faces: 12, Vertices: 8}, Outputs: map[string]string{"mesh": "mesh.ply", "sparse": "sparse.ply"}}
	if mm {
		// An 80 × 40 × 20 mm box.
		m := cube.Mesh()
		for i, v := range m.Vertices {
			m.Vertices[i] = geom.Vec{X: 80 * v.X, Y: 40 * v.Y, Z: 20 * v.Z}
		}
		var b strings.Builder
		if err := mesh.WriteSTL(&b, m, "test"); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(job.Out, "model.stl"), []byte(b.String()), 0o644); err != nil {
			return nil, err
		}
		solid, err := cad.FromMesh(m, "test")
		if err != nil {
			return nil, err
		}
		var step strings.Builder
		if err := cad.WriteSTEP(&step, solid); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(job.Out, "model.step"), []byte(step.String()), 0o644); err != nil {
			return nil, err
		}
		os.Remove(filepath.Join(job.Out, "mesh.ply"))
		f, err := os.Create(filepath.Join(job.Out, "mesh.ply"))
		if err != nil {
			return nil, err
		}
		mesh.WritePLY(f, &mesh.PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}, mesh.BinaryLittleEndian)
		f.Close()
		f, err = os.Create(filepath.Join(job.Out, "model.ply"))
		if err != nil {
			return nil, err
		}
		mesh.WritePLY(f, &mesh.PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}, mesh.BinaryLittleEndian)
		f.Close()
		rep.Units = local.UnitsMM
		rep.Outputs["stl"], rep.Outputs["step"], rep.Outputs["ply"] = "model.stl", "model.step", "model.ply"
		rep.Scale = &local.ScaleSummary{Result: scale.Result{Found: true, Paper: "A4", Markers: 11, UncertaintyPct: 0.004,
			Transform: &scale.Similarity{Scale: 1, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}}}}
		rep.Model = &local.ModelSummary{Units: local.UnitsMM, ScaleSource: "markers", Ground: "sheet", Triangles: 12, Watertight: true}
		rep.Cad = &local.CadSummary{Faces: len(solid.Faces), Surfaces: map[string]int{"plane": len(solid.Faces)}, Faceted: true, Units: local.UnitsMM, File: "model.step"}
	}
	b, _ := json.Marshal(rep)
	if err := os.WriteFile(filepath.Join(job.Out, "report.json"), b, 0o644); err != nil {
		return nil, err
	}
	return rep, nil
}

// testUI is the app on a headless window, its background changes to the
// widgets serialised with the test's own actions (Fyne's test driver runs
// fyne.Do at once on the calling goroutine).
type testUI struct {
	*ui
	mu sync.Mutex
}

// locked runs f while no background change runs.
func (u *testUI) locked(f func()) {
	u.mu.Lock()
	defer u.mu.Unlock()
	f()
}

// screen returns the screen on show.
func (u *testUI) screen() any {
	var s any
	u.locked(func() { s = u.current })
	return s
}

// newTestUI builds the app on a headless window with a fake pipeline.
func newTestUI(t *testing.T, f *fakePipeline) *testUI {
	t.Helper()
	a := test.NewTempApp(t)
	w := test.NewTempWindow(t, nil)
	w.Resize(defaultSize)
	tu := &testUI{}
	tu.ui = create(a, w, newTestStore(t), f.run, func(context.Context) Hardware { return Hardware{} })
	tu.do = tu.locked
	if _, ok := tu.current.(*home); !ok {
		t.Fatalf("first screen %T, want the home screen", tu.current)
	}
	return tu
}

// waitFor waits until cond holds, for background work (imports, checks,
// jobs) that reports through ui.do; cond runs serialised with it.
func waitFor(t *testing.T, u *testUI, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var ok bool
		u.locked(func() { ok = cond() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// samplePhotos renders a small synthetic capture.
func samplePhotos(t *testing.T, n int) string {
	t.Helper()
	b, _ := assets.Part("bracket")
	spec, err := synth.ParseSpec(strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.Width, o.Height, o.MeshCell = n, 1, 480, 360, 4
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newProject creates a project named name holding n sample photos.
func newProject(t *testing.T, u *testUI, name string, n int) *project.Project {
	t.Helper()
	p, err := u.store.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Import(context.Background(), []string{samplePhotos(t, n)}, nil); err != nil {
		t.Fatal(err)
	}
	return p
}

// runToResult processes p from its process screen and waits for the
// result screen.
func runToResult(t *testing.T, u *testUI, p *project.Project) {
	t.Helper()
	u.locked(func() { u.showProcess(p) })
	s := u.screen().(*processScreen)
	u.locked(func() { test.Tap(s.start) })
	waitFor(t, u, "the result", func() bool { _, ok := u.current.(*resultsScreen); return ok })
}

// TestProjectLifecycle walks a new maker's path: create a project, import
// photos, see them checked, process, watch progress, see the result, then
// rename and delete the project from the home screen.
func TestProjectLifecycle(t *testing.T) {
	f := &fakePipeline{}
	u := newTestUI(t, f)
	h := u.current.(*home)
	if !strings.Contains(h.newBtn.Text, "first project") {
		t.Errorf("empty home's button %q", h.newBtn.Text)
	}
	test.Tap(h.newBtn)
	h.nameEntry.SetText("  ")
	if h.nameEntry.Validate() == nil {
		t.Error("a blank name passes")
	}
	h.nameEntry.SetText("Shelf bracket")
	h.form.Submit()
	c, ok := u.current.(*captureScreen)
	if !ok {
		t.Fatalf("after creating: screen %T, want the capture screen", u.current)
	}
	if !c.processBtn.Disabled() {
		t.Error("Process is enabled with no photos")
	}

	// Import a folder: the photos are copied, thumbnailed and checked.
	dir := samplePhotos(t, 6)
	u.locked(func() { c.importPaths([]string{dir}) })
	waitFor(t, u, "the check", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.report != nil
	})
	c.mu.Lock()
	n, checked := len(c.photos), len(c.checks)
	c.mu.Unlock()
	if n != 6 || checked != 6 {
		t.Errorf("%d photos, %d checked; want 6 and 6", n, checked)
	}
	waitFor(t, u, "the check's end", func() bool { return !c.progress.Visible() })
	waitFor(t, u, "thumbnails", func() bool { return pipeline.FileExists(c.p.ThumbPath("view_006.jpg")) })
	u.locked(func() {
		if c.readiness.Text == "" || c.processBtn.Disabled() {
			t.Errorf("readiness %q, process disabled %v", c.readiness.Text, c.processBtn.Disabled())
		}
	})
	// A second visit shows the cached check at once.
	if rep := readCachedCheck(c.p.Dir, checkKey(photoPaths(t, c))); rep == nil {
		t.Error("the check was not cached")
	}

	// Process on the CPU with the fake pipeline: progress, then the result.
	u.locked(func() { test.Tap(c.processBtn) })
	s := u.screen().(*processScreen)
	if !strings.Contains(s.where.Selected, "CPU") {
		t.Errorf("without a GPU the choice is %q", s.where.Selected)
	}
	u.locked(func() { test.Tap(s.start) })
	waitFor(t, u, "the result", func() bool { _, ok := u.current.(*resultsScreen); return ok })
	r := u.screen().(*resultsScreen)
	if r.mesh == nil || len(r.mesh.Faces) != 12 || !slices.Contains(r.describe(), [2]string{"Photos placed", "6 of 6"}) {
		t.Errorf("result: mesh %v, facts %q", r.mesh, r.describe())
	}
	if len(f.jobs) != 1 || !f.jobs[0].CPU || len(f.jobs[0].Photos) != 6 {
		t.Errorf("jobs %+v", f.jobs)
	}
	sum, _ := c.p.Summary()
	if sum.State != "done" || !strings.Contains(sum.LastResult, "6 of 6") {
		t.Errorf("project after processing: %+v", sum)
	}

	// Home: rename, then delete with confirmation.
	u.showHome()
	h = u.current.(*home)
	if len(h.projects) != 1 {
		t.Fatalf("%d projects listed", len(h.projects))
	}
	h.onRename(h.projects[0])
	h.nameEntry.SetText("Wall bracket")
	h.form.Submit()
	h = u.current.(*home)
	if h.projects[0].Name != "Wall bracket" {
		t.Errorf("renamed to %q", h.projects[0].Name)
	}
	h.onDelete(h.projects[0])
	h.confirm.Confirm()
	if list, _ := u.store.List(); len(list) != 0 {
		t.Errorf("%d projects after delete", len(list))
	}
	if _, err := os.Stat(sum.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("project folder after delete: %v", err)
	}
}

func photoPaths(t *testing.T, c *captureScreen) []string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var p []string
	for _, n := range c.photos {
		p = append(p, c.p.PhotoPath(n))
	}
	return p
}

// TestProcessCancelResumeFail: cancelling stops the job and offers to
// resume; a failed stage shows its hint.
func TestProcessCancelResumeFail(t *testing.T) {
	f := &fakePipeline{block: true, started: make(chan struct{})}
	u := newTestUI(t, f)
	p := newProject(t, u, "Knob", 3)
	u.showProcess(p)
	s := u.current.(*processScreen)
	u.locked(func() { test.Tap(s.start) })
	<-f.started
	waitFor(t, u, "the matching stage", func() bool { return s.rows["matching"].state.Text == "about 3s left" })
	u.locked(func() {
		if s.rows["features"].state.Text != "done in 1s" {
			t.Errorf("features: %q", s.rows["features"].state.Text)
		}
		// The fake's third of five stages, half done.
		if f, _ := s.overall.Get(); math.Abs(f-0.5) > 1e-9 || s.rows["matching"].bar.Value != 0.5 {
			t.Errorf("overall progress %v, matching bar %v; want 0.5 and 0.5", f, s.rows["matching"].bar.Value)
		}
		test.Tap(s.cancel)
	})
	waitFor(t, u, "the cancel", func() bool { return s.failure.Visible() })
	u.locked(func() {
		if !strings.Contains(s.hint.Text, "Cancelled") || s.start.Text != "Resume" || s.start.Disabled() {
			t.Errorf("after cancel: hint %q, start %q disabled %v", s.hint.Text, s.start.Text, s.start.Disabled())
		}
	})
	if sum, _ := p.Summary(); sum.State != "failed" {
		t.Errorf("state after cancel %q", sum.State)
	}

	// Resume; this time the matching fails.
	f.mu.Lock()
	f.block, f.started, f.fail = false, nil, fmt.Errorf("2 of 3 photos share no view")
	f.mu.Unlock()
	u.locked(func() { test.Tap(s.start) })
	waitFor(t, u, "the failure", func() bool { return s.failure.Visible() && strings.Contains(s.hint.Text, "Take more photos") })
	u.locked(func() {
		if !strings.Contains(s.hint.Text, "share no view") {
			t.Errorf("hint %q", s.hint.Text)
		}
	})
}

func TestUpright(t *testing.T) {
	for _, up := range []geom.Vec{{Z: 1}, {Z: -2}, {X: 1}, {X: 1, Y: -2, Z: 0.5}, {}} {
		turn := upright(up)
		if up == (geom.Vec{}) {
			if got := turn(geom.Vec{X: 1, Y: 2, Z: 3}); got != (geom.Vec{X: 1, Y: 2, Z: 3}) {
				t.Errorf("zero up moved a point to %v", got)
			}
			continue
		}
		n := math.Sqrt(up.X*up.X + up.Y*up.Y + up.Z*up.Z)
		got := turn(geom.Vec{X: up.X / n, Y: up.Y / n, Z: up.Z / n})
		if math.Abs(got.X) > 1e-12 || math.Abs(got.Y) > 1e-12 || math.Abs(got.Z-1) > 1e-12 {
			t.Errorf("upright(%v) sends it to %v, want +z", up, got)
		}
		a, b := turn(geom.Vec{X: 1}), turn(geom.Vec{Y: 1})
		if d := a.X*b.X + a.Y*b.Y + a.Z*b.Z; math.Abs(d) > 1e-12 {
			t.Errorf("upright(%v) is not a rotation: x·y = %v after", up, d)
		}
	}
}

func TestScaleSheet(t *testing.T) {
	for _, paper := range []string{"A4", "Letter"} {
		var b strings.Builder
		if err := writeScaleSheet(&b, paper); err != nil || !strings.HasPrefix(b.String(), "%PDF-") || b.Len() < 1000 {
			t.Errorf("%s: %v, %d bytes", paper, err, b.Len())
		}
	}
	if err := writeScaleSheet(io.Discard, "A3"); err == nil {
		t.Error("A3 accepted")
	}
}

// TestReopenLastProject: the app starts in the project it was closed in,
// and on the home screen when it was closed there.
func TestReopenLastProject(t *testing.T) {
	store := newTestStore(t)
	p, err := store.Create("Knob")
	if err != nil {
		t.Fatal(err)
	}
	store.SetSetting(settingProject, p.ID)
	u := create(test.NewTempApp(t), test.NewTempWindow(t, nil), store, (&fakePipeline{}).run, func(context.Context) Hardware { return Hardware{} })
	c, ok := u.current.(*captureScreen)
	if !ok || c.p.ID != p.ID {
		t.Fatalf("first screen %T, want the capture screen of %s", u.current, p.ID)
	}
	c.onBack()
	u = create(test.NewTempApp(t), test.NewTempWindow(t, nil), store, (&fakePipeline{}).run, func(context.Context) Hardware { return Hardware{} })
	if _, ok := u.current.(*home); !ok {
		t.Errorf("after going home, the next start shows %T", u.current)
	}
}

// TestCoverageRing: green around the photos, red on a missing arc, grey
// when the coverage is unknown, white ticks at the photos.
func TestCoverageRing(t *testing.T) {
	az := func(v float64) *float64 { return &v }
	rep := &capture.Report{
		Photos:   []capture.PhotoResult{{Azimuth: az(0)}, {Azimuth: az(40)}, {Azimuth: az(80)}},
		Coverage: capture.Coverage{Known: true, Missing: []capture.Arc{{From: 100, To: 340}}},
	}
	img := drawRing(rep, 200, 200)
	// at returns the colour at azimuth a (degrees clockwise from the top)
	// and radius r (share of the half side).
	at := func(a, r float64) color.NRGBA {
		s, c := math.Sincos(a * math.Pi / 180)
		return img.(*image.NRGBA).NRGBAAt(int(100+r*99*s), int(100-r*99*c))
	}
	for _, tc := range []struct {
		az, r float64
		want  color.NRGBA
		what  string
	}{
		{20, 0.8, ringCovered, "between two photos"},
		{200, 0.8, ringMissing, "in the missing arc"},
		{40, 0.95, ringPhoto, "a photo's tick"},
		{20, 0.3, color.NRGBA{}, "inside the ring"},
	} {
		if got := at(tc.az, tc.r); got != tc.want {
			t.Errorf("%s (%v°): %v, want %v", tc.what, tc.az, got, tc.want)
		}
	}
	rep.Coverage.Known = false
	img = drawRing(rep, 200, 200)
	if got := at(200, 0.8); got != ringUnknown {
		t.Errorf("unknown coverage: %v", got)
	}
	if inArc(350, capture.Arc{From: 340, To: 20}) != true || inArc(30, capture.Arc{From: 340, To: 20}) {
		t.Error("inArc across 0°")
	}
}

// TestShortcuts: each screen has its own keyboard shortcuts, and the
// previous screen's go when it does.
func TestShortcuts(t *testing.T) {
	u := newTestUI(t, &fakePipeline{})
	names := func() []string {
		var n []string
		for _, s := range u.shortcuts {
			n = append(n, s.ShortcutName())
		}
		slices.Sort(n)
		return n
	}
	if got := names(); len(got) != 1 {
		t.Errorf("home shortcuts %v, want one (new project)", got)
	}
	p, _ := u.store.Create("Knob")
	u.showCapture(p)
	if got := names(); len(got) != 2 {
		t.Errorf("capture shortcuts %v, want two (add folder, process)", got)
	}
	u.showProcess(p)
	if got := names(); len(got) != 1 {
		t.Errorf("process shortcuts %v, want one (start)", got)
	}
	// Ctrl+N on the home screen opens the new project form.
	u.showHome()
	h := u.current.(*home)
	sc := u.shortcuts[0].(*desktop.CustomShortcut)
	u.win.Canvas().(interface{ TypedShortcut(fyne.Shortcut) }).TypedShortcut(sc)
	if h.form == nil {
		t.Error("Ctrl+N did not open the new project form")
	}
}

// TestBadges checks each photo's verdict as its tile shows it.
func TestBadges(t *testing.T) {
	texts := func(bs []badge) string {
		var s []string
		for _, b := range bs {
			s = append(s, b.Text)
		}
		return strings.Join(s, ", ")
	}
	q := &capture.Quality{Sharpness: 150, Brightness: 0.5}
	for _, c := range []struct {
		r    *capture.PhotoResult
		weak bool
		want string
	}{
		{nil, false, ""},
		{&capture.PhotoResult{Error: "not a JPEG"}, false, "Unreadable"},
		{&capture.PhotoResult{Quality: q, OverlapPrev: &capture.PairResult{Overlap: true}, Codes: []capture.Code{capture.CodeGPS}}, false, "Sharp, Exposure OK, Overlap OK"},
		{&capture.PhotoResult{Quality: q, OverlapPrev: &capture.PairResult{Overlap: true}}, true, "Sharp, Exposure OK, Weak overlap"},
		{&capture.PhotoResult{Quality: q, Verdict: capture.Fail, OverlapPrev: &capture.PairResult{}, Codes: []capture.Code{capture.CodeBlurry, capture.CodeUnderexposed, capture.CodeGap}}, false, "Blurry, Too dark, No overlap"},
		{&capture.PhotoResult{Quality: q, Verdict: capture.Warn, OverlapPrev: &capture.PairResult{Overlap: true}, Codes: []capture.Code{capture.CodeOverexposed, capture.CodeDuplicate}}, true, "Sharp, Too bright, Weak overlap, Duplicate"},
	} {
		if got := texts(badges(c.r, c.weak)); got != c.want {
			t.Errorf("badges(%+v) = %q, want %q", c.r, got, c.want)
		}
	}
	bs := badges(&capture.PhotoResult{Quality: q, Verdict: capture.Fail, Codes: []capture.Code{capture.CodeBlurry}}, false)
	if bs[0].Colour != failColour || bs[1].Colour != okColour {
		t.Errorf("colours %v, want red for the failure and green for the rest", bs)
	}
}

// TestReorderPhotos moves photos in the capture order from their tiles:
// the order is saved, the set is checked again, and the ends cannot move
// past the ends.
func TestReorderPhotos(t *testing.T) {
	u := newTestUI(t, &fakePipeline{})
	p := newProject(t, u, "Knob", 4)
	u.locked(func() { u.showCapture(p) })
	c := u.screen().(*captureScreen)
	waitFor(t, u, "the check", func() bool { return c.report != nil && !c.progress.Visible() })
	tile := func(i int) *photoTile {
		t.Helper()
		var pt *photoTile
		u.locked(func() {
			pt = newPhotoTile().(*photoTile)
			c.updateTile(i, pt)
		})
		return pt
	}
	first, last := tile(0), tile(3)
	if !first.earlier.Disabled() || first.later.Disabled() || last.earlier.Disabled() || !last.later.Disabled() {
		t.Error("the first photo can move earlier or the last later")
	}
	if len(first.badges.Objects) < 3 {
		t.Errorf("%d badges on a checked photo, want sharpness, exposure and overlap", len(first.badges.Objects))
	}
	second := tile(1)
	u.locked(func() { test.Tap(second.earlier) })
	waitFor(t, u, "the new check", func() bool { return c.report != nil && !c.progress.Visible() && len(c.report.Photos) == 4 })
	got, err := p.Photos()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"view_002.jpg", "view_001.jpg", "view_003.jpg", "view_004.jpg"}; !slices.Equal(got, want) {
		t.Errorf("order after moving the second photo earlier: %v, want %v", got, want)
	}
	waitFor(t, u, "the check of the new order", func() bool { return c.report != nil && c.report.Photos[0].Name == "view_002.jpg" })
	last = tile(3)
	u.locked(func() { test.Tap(last.later) }) // disabled: nothing moves
	if got2, _ := p.Photos(); !slices.Equal(got2, got) {
		t.Errorf("moving the last photo later changed the order to %v", got2)
	}
}

// TestResultPrintable checks the result screen of a model in millimetres:
// its size in mm, Open in the slicer and in the CAD program found on the
// computer, and the export menu offering every file.
func TestResultPrintable(t *testing.T) {
	f := &fakePipeline{mm: true}
	u := newTestUI(t, f)
	var started [][]string
	u.find = finder{goos: "linux", lookPath: func(name string) (string, error) {
		switch name {
		case "prusa-slicer", "freecad":
			return "/opt/bin/" + name, nil
		}
		return "", errors.New("not found")
	}}
	u.start = func(path string, args ...string) error {
		started = append(started, append([]string{path}, args...))
		return nil
	}
	p := newProject(t, u, "Bracket", 3)
	runToResult(t, u, p)
	r := u.screen().(*resultsScreen)
	u.locked(func() {
		if !slices.Contains(r.describe(), [2]string{"Size", "80.0 × 40.0 × 20.0 mm"}) || r.info.Text != "" {
			t.Errorf("size not in mm: %q, notes %q", r.describe(), r.info.Text)
		}
		buttons := map[string]*widget.Button{}
		collectButtons(u.win.Content(), buttons)
		for _, want := range []string{"Open in PrusaSlicer", "Open in FreeCAD", "Open mesh", "Export…"} {
			if buttons[want] == nil {
				t.Errorf("no %q button; have %v", want, slices.Collect(maps.Keys(buttons)))
			}
		}
		if b := buttons["Open in PrusaSlicer"]; b != nil {
			test.Tap(b)
		}
		if b := buttons["Open in FreeCAD"]; b != nil {
			test.Tap(b)
		}
		var kinds []string
		for _, i := range r.exports() {
			kinds = append(kinds, outputKinds[i].key)
		}
		if want := []string{"stl", "step", "mesh", "sparse"}; !slices.Equal(kinds, want) {
			t.Errorf("export offers %v, want %v", kinds, want)
		}
	})
	dir := jobDir(p)
	want := [][]string{{"/opt/bin/prusa-slicer", filepath.Join(dir, "model.stl")}, {"/opt/bin/freecad", filepath.Join(dir, "model.step")}}
	if !slices.EqualFunc(started, want, slices.Equal) {
		t.Errorf("started %v, want %v", started, want)
	}

	// Nothing installed: the system's program for the file opens it.
	u.find = finder{goos: "linux", lookPath: func(string) (string, error) { return "", errors.New("not found") }}
	u.locked(func() {
		u.showResults(p, nil)
		buttons := map[string]*widget.Button{}
		collectButtons(u.win.Content(), buttons)
		if buttons["Open STL"] == nil || buttons["Open STEP"] == nil {
			t.Errorf("without a slicer or CAD program: buttons %v", slices.Collect(maps.Keys(buttons)))
		}
	})
}

// TestFindPrograms checks the slicer and CAD lookup on the PATH and in
// Windows' program folders.
func TestFindPrograms(t *testing.T) {
	none := func(string) (string, error) { return "", errors.New("not found") }
	if p := (finder{goos: "linux", lookPath: none}).find(slicers); p != nil {
		t.Errorf("found %+v with nothing installed", p)
	}
	onPath := finder{goos: "linux", lookPath: func(n string) (string, error) {
		if n == "orca-slicer" || n == "cura" {
			return "/usr/bin/" + n, nil
		}
		return "", errors.New("not found")
	}}
	if p := onPath.find(slicers); p == nil || p.Name != "OrcaSlicer" || p.Path != "/usr/bin/orca-slicer" {
		t.Errorf("on the PATH: %+v, want OrcaSlicer first", p)
	}
	pf := t.TempDir()
	for _, f := range []string{"UltiMaker Cura 5.7.0/UltiMaker-Cura.exe", "UltiMaker Cura 5.8.1/UltiMaker-Cura.exe", "FreeCAD 1.0/bin/FreeCAD.exe"} {
		path := filepath.Join(pf, filepath.FromSlash(f))
		os.MkdirAll(filepath.Dir(path), 0o755)
		os.WriteFile(path, nil, 0o755)
	}
	win := finder{goos: "windows", lookPath: none, programFiles: []string{t.TempDir(), pf}}
	if p := win.find(slicers); p == nil || p.Name != "UltiMaker Cura" || !strings.HasSuffix(filepath.ToSlash(p.Path), "UltiMaker Cura 5.8.1/UltiMaker-Cura.exe") {
		t.Errorf("in Program Files: %+v, want the newest Cura", p)
	}
	if p := win.find(cadPrograms); p == nil || p.Name != "FreeCAD" {
		t.Errorf("in Program Files: %+v, want FreeCAD", p)
	}
}

// collectButtons records every button under o by its text.
func collectButtons(o fyne.CanvasObject, into map[string]*widget.Button) {
	walk(o, func(o fyne.CanvasObject) {
		if b, ok := o.(*widget.Button); ok {
			into[b.Text] = b
		}
	})
}

// TestSampleProject is the new maker's way in without a part: Try the
// sample part makes a project holding the sample's photos, checked.
func TestSampleProject(t *testing.T) {
	defer func(o func() synth.Options) { sampleOptions = o }(sampleOptions)
	sampleOptions = func() synth.Options {
		o := synth.DefaultOptions()
		o.Views, o.Rings, o.Width, o.Height, o.MeshCell = 5, 1, 480, 360, 4
		return o
	}
	u := newTestUI(t, &fakePipeline{})
	h := u.current.(*home)
	u.locked(func() { test.Tap(h.sampleBtn) })
	c, ok := u.screen().(*captureScreen)
	if !ok {
		t.Fatalf("after Try the sample part: screen %T", u.screen())
	}
	waitFor(t, u, "the sample's check", func() bool { return c.report != nil && len(c.report.Photos) == 5 && !c.progress.Visible() })
	got, err := c.p.Photos()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[0] != "view_001.jpg" {
		t.Errorf("sample project photos %v", got)
	}
	if s, _ := c.p.Summary(); s.Name != "Sample bracket" {
		t.Errorf("sample project named %q", s.Name)
	}
	if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "replica-sample-*")); len(m) > 0 {
		t.Errorf("temporary sample folders left behind: %v", m)
	}
}

// TestScreenMarkup compares the capture screen of a new project and the
// process screen before a run with their golden markup
// (testdata/capture-empty.xml, testdata/process-idle.xml). Refresh them with
// `go test ./app -run TestScreenMarkup -update` and review the diff.
func TestScreenMarkup(t *testing.T) {
	u := newTestUI(t, &fakePipeline{})
	p, err := u.store.Create("Knob")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		golden string
		show   func()
	}{
		{"capture-empty.xml", func() { u.showCapture(p) }},
		{"process-idle.xml", func() { u.showProcess(p) }},
	} {
		u.locked(c.show)
		u.locked(func() {
			if *update {
				if err := os.WriteFile(filepath.Join("testdata", c.golden), []byte(test.RenderToMarkup(u.win.Canvas())), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			test.AssertRendersToMarkup(t, c.golden, u.win.Canvas())
		})
	}
}

// TestResultDamaged opens a result whose mesh file is damaged: the maker
// is told, the points are shown instead, and nothing panics.
func TestResultDamaged(t *testing.T) {
	u := newTestUI(t, &fakePipeline{})
	p := newProject(t, u, "Clip", 3)
	runToResult(t, u, p)
	if err := os.WriteFile(filepath.Join(jobDir(p), "mesh.ply"), []byte("ply\nformat binary_little_endian 1.0\nelement vertex 99999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u.locked(func() {
		u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
		u.showResults(p, nil)
		r := u.current.(*resultsScreen)
		if r.mesh != nil || r.show.Selected != "Points" || r.cloud == nil {
			t.Errorf("damaged mesh: mesh %v, showing %q, cloud %v", r.mesh != nil, r.show.Selected, r.cloud != nil)
		}
		if u.win.Canvas().Overlays().Top() == nil {
			t.Error("no error shown for the damaged mesh")
		}
	})
	// A result folder without its report: an error, and the screen stays.
	os.Remove(filepath.Join(jobDir(p), "report.json"))
	u.locked(func() {
		before := u.current
		u.showResults(p, nil)
		if u.current != before {
			t.Errorf("without a report the screen changed to %T", u.current)
		}
	})
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1\u202f000", 28874: "28\u202f874", 1234567: "1\u202f234\u202f567", -4500: "-4\u202f500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProcessKnownLength: the part's longest side typed on the process
// screen reaches the job, is remembered for the project, and a bad value
// starts nothing.
func TestProcessKnownLength(t *testing.T) {
	f := &fakePipeline{}
	u := newTestUI(t, f)
	p := newProject(t, u, "No sheet", 3)
	u.locked(func() { u.showProcess(p) })
	s := u.screen().(*processScreen)
	u.locked(func() { test.Type(s.length, "abc") })
	if err := s.length.Validate(); err == nil {
		t.Error("\"abc\" validates as a length")
	}
	u.locked(func() { test.Tap(s.start) })
	f.mu.Lock()
	n := len(f.jobs)
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("a job started with the length %q", s.length.Text)
	}
	u.locked(func() {
		s.length.SetText("")
		test.Type(s.length, "80,5")
	})
	u.locked(func() { test.Tap(s.start) })
	waitFor(t, u, "the result", func() bool { _, ok := u.current.(*resultsScreen); return ok })
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.jobs) != 1 || f.jobs[0].KnownLength != 80.5 {
		t.Errorf("jobs %+v, want one with KnownLength 80.5", f.jobs)
	}
	if got := u.store.Setting(knownLengthSetting(p)); got != "80,5" {
		t.Errorf("remembered %q, want 80,5", got)
	}
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"", 0, true}, {" 12.5 ", 12.5, true}, {"0", 0, false}, {"-3", 0, false}, {"1e9", 0, false}, {"NaN", 0, false}} {
		got, err := parseKnownLength(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseKnownLength(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
