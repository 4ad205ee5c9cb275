package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/pipeline/local"
)

// showCAD opens p's result afresh, chooses CAD and waits for the STEP
// solid to be read, or to fail.
func showCAD(t *testing.T, u *testUI, p *project.Project) *resultsScreen {
	t.Helper()
	var r *resultsScreen
	u.locked(func() {
		u.showResults(p, nil)
		r = u.current.(*resultsScreen)
		if !slices.Contains(r.show.Options, "CAD") {
			t.Fatalf("the result offers %q, want CAD among them", r.show.Options)
		}
		u.win.Canvas().Capture() // draw the first view's facts
		r.show.SetSelected("CAD")
	})
	waitFor(t, u, "the STEP solid", func() bool { return !r.cadLoading })
	return r
}

// legendRows returns the rows of the facts that show a colour, as "Name
// count".
func legendRows(r *resultsScreen) []string {
	var rows []string
	for _, it := range r.facts.Items {
		if c, ok := it.Widget.(*fyne.Container); ok && len(c.Objects) == 2 {
			rows = append(rows, it.Text+" "+c.Objects[1].(*widget.Label).Text)
		}
	}
	return rows
}

// fact returns the value of the fact shown as label, or "".
func fact(r *resultsScreen, label string) string {
	for _, it := range r.facts.Items {
		if l, ok := it.Widget.(*widget.Label); ok && it.Text == label {
			return l.Text
		}
	}
	return ""
}

// shownLabels returns the texts of the labels drawn under o, through the
// widgets' renderers: what the maker sees, not what the widgets were told.
func shownLabels(o fyne.CanvasObject) []string {
	var out []string
	var visit func(o fyne.CanvasObject)
	visit = func(o fyne.CanvasObject) {
		switch o := o.(type) {
		case *widget.Label:
			out = append(out, o.Text)
		case *fyne.Container:
			for _, c := range o.Objects {
				visit(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(o).Objects() {
				visit(c)
			}
		}
	}
	visit(o)
	return out
}

// editReport changes p's result's report.
func editReport(t *testing.T, p *project.Project, edit func(*local.Report)) {
	t.Helper()
	rep, err := local.ReadReport(jobDir(p))
	if err != nil {
		t.Fatal(err)
	}
	edit(rep)
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jobDir(p), "report.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestResultCAD checks the CAD view of a result with a STEP solid: it is
// offered beside the part, shows the solid's faces coloured by surface
// with a legend of the colours and counts, and lists the features fitted;
// a result without a STEP does not offer it, and a damaged STEP is
// reported without a crash.
func TestResultCAD(t *testing.T) {
	u := newTestUI(t, &fakePipeline{mm: true})
	p := newProject(t, u, "Plate", 3)
	runToResult(t, u, p)

	// The fake's faceted box.
	r := showCAD(t, u, p)
	u.locked(func() {
		if want := []string{"Part", "CAD", "Mesh", "Points"}; !slices.Equal(r.show.Options, want) {
			t.Errorf("choices %q, want %q", r.show.Options, want)
		}
		if r.cad == nil || r.cadErr != nil {
			t.Fatalf("STEP not read: %v", r.cadErr)
		}
		if got := fact(r, "Features"); got != "Faceted: no primitives fitted" {
			t.Errorf("features %q, want the faceted note", got)
		}
		if got := fact(r, "Size"); got != "80.0 × 40.0 × 20.0 mm" {
			t.Errorf("size %q, want the box's in mm", got)
		}
		// Drawn so too, in the place of the Part's facts drawn before.
		if shown, want := shownLabels(r.factsBox), []string{"6 faces", "Faceted: no primitives fitted", "6", "0"}; len(shown) < 4 || !slices.Equal(shown[:4], want) {
			t.Errorf("the facts drawn are %q, want the solid's %q first", shown, want)
		}
		if got, want := legendRows(r), []string{"Planes 6", "Cylinders 0", "Cones 0", "Spheres 0", "Freeform 0"}; !slices.Equal(got, want) {
			t.Errorf("legend %q, want %q", got, want)
		}
		for _, c := range r.cad.colors {
			if c != surfaceStyles[surfacePlane].color {
				t.Fatalf("a face of the box in %v, want the planes' colour", c)
			}
		}
	})
	// The view shows the planes' blue (and not the theme's, on a button).
	waitFor(t, u, "the planes' colour in the view", func() bool {
		img := u.win.Canvas().Capture()
		scale := float32(img.Bounds().Dx()) / u.win.Canvas().Size().Width
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.view)
		size := r.view.Size()
		x0, y0 := int(pos.X*scale), int(pos.Y*scale)
		x1, y1 := int((pos.X+size.Width)*scale), int((pos.Y+size.Height)*scale)
		for y := y0; y < y1; y += 2 {
			for x := x0; x < x1; x += 2 {
				cr, cg, cb, _ := img.At(x, y).RGBA()
				if cb>>8 > cr>>8+80 && cg>>8 > cr>>8+50 {
					return true
				}
			}
		}
		return false
	})
	// Back to the part: no legend, no features.
	u.locked(func() {
		r.show.SetSelected("Part")
		if legendRows(r) != nil || fact(r, "Features") != "" {
			t.Errorf("the part shows the legend %q or features %q", legendRows(r), fact(r, "Features"))
		}
	})

	// A plate with a hole, as fitted: the features listed, or without
	// them the surfaces counted.
	step, err := os.ReadFile(filepath.Join("..", "pipeline", "cad", "testdata", "occt-plate-hole.stp"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jobDir(p), "model.step"), step, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		sum  *local.CadSummary
		want string
	}{
		{"features", &local.CadSummary{Faces: 7, Surfaces: map[string]int{"plane": 6, "cylinder": 1}, Features: []string{"1 hole Ø8.0 mm", "6 planes"}}, "1 hole Ø8.0 mm, 6 planes"},
		{"no features", &local.CadSummary{Faces: 7, Surfaces: map[string]int{"plane": 6, "cylinder": 1}}, "6 planes, 1 cylinder"},
		{"no summary", nil, "6 planes, 1 cylinder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			editReport(t, p, func(rep *local.Report) { rep.Cad = tc.sum })
			r := showCAD(t, u, p)
			u.locked(func() {
				if r.cadErr != nil {
					t.Fatal(r.cadErr)
				}
				if got := fact(r, "Features"); got != tc.want {
					t.Errorf("features %q, want %q", got, tc.want)
				}
				if got := fact(r, "Solid"); got != "7 faces" {
					t.Errorf("solid %q, want 7 faces", got)
				}
				if got, want := legendRows(r), []string{"Planes 6", "Cylinders 1", "Cones 0", "Spheres 0", "Freeform 0"}; !slices.Equal(got, want) {
					t.Errorf("legend %q, want %q", got, want)
				}
				n := 0
				for _, c := range r.cad.colors {
					if c == surfaceStyles[surfaceCylinder].color {
						n++
					}
				}
				if n == 0 || n == len(r.cad.colors) {
					t.Errorf("%d of %d triangles in the cylinders' colour, want the hole's", n, len(r.cad.colors))
				}
			})
		})
	}

	// A damaged STEP: an error shown, a note, and the part still there.
	if err := os.WriteFile(filepath.Join(jobDir(p), "model.step"), step[:len(step)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	r = showCAD(t, u, p)
	u.locked(func() {
		if r.cadErr == nil || r.cad != nil {
			t.Fatalf("half a STEP read: err %v", r.cadErr)
		}
		if u.win.Canvas().Overlays().Top() == nil {
			t.Error("no error shown for the damaged STEP")
		}
		if !strings.Contains(r.info.Text, "cannot be shown") || legendRows(r) != nil {
			t.Errorf("note %q, legend %q", r.info.Text, legendRows(r))
		}
		u.win.Canvas().Overlays().Remove(u.win.Canvas().Overlays().Top())
	})

	// No STEP, no CAD view.
	os.Remove(filepath.Join(jobDir(p), "model.step"))
	u.locked(func() {
		u.showResults(p, nil)
		r := u.current.(*resultsScreen)
		if slices.Contains(r.show.Options, "CAD") {
			t.Errorf("without a STEP the result offers %q", r.show.Options)
		}
	})
}

func TestCadFeatures(t *testing.T) {
	c := &cadPreview{faces: 9}
	c.counts[surfacePlane], c.counts[surfaceSphere], c.counts[surfaceFreeform] = 1, 2, 6
	for _, tc := range []struct {
		name string
		sum  *local.CadSummary
		c    *cadPreview
		want string
	}{
		{"faceted", &local.CadSummary{Faceted: true, Surfaces: map[string]int{"plane": 40}}, c, "Faceted: no primitives fitted"},
		{"features", &local.CadSummary{Features: []string{"2 holes Ø8.0 mm", "6 planes"}}, nil, "2 holes Ø8.0 mm, 6 planes"},
		{"surfaces", &local.CadSummary{Surfaces: map[string]int{"plane": 1200, "cone": 1, "sphere": 2}}, c, "1\u202f200 planes, 1 cone, 2 spheres"},
		{"read", nil, c, "1 plane, 2 spheres, 6 freeform facets"},
		{"nothing", nil, nil, ""},
	} {
		if got := cadFeatures(tc.sum, tc.c); got != tc.want {
			t.Errorf("%s: cadFeatures = %q, want %q", tc.name, got, tc.want)
		}
	}
}
