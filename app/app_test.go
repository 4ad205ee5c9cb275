package app

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/assets"
)

var update = flag.Bool("update", false, "rewrite the markup goldens in testdata/")

// iconApp and iconWindow remember the icon they are given; Fyne's test
// driver drops it.
type iconApp struct {
	fyne.App
	icon fyne.Resource
}

func (a *iconApp) SetIcon(r fyne.Resource) { a.icon = r }
func (a *iconApp) Icon() fyne.Resource     { return a.icon }

type iconWindow struct {
	fyne.Window
	icon fyne.Resource
}

func (w *iconWindow) SetIcon(r fyne.Resource) { w.icon = r }
func (w *iconWindow) Icon() fyne.Resource     { return w.icon }

// newTestWindow runs Create on a fresh headless app and window, with an
// empty project store.
func newTestWindow(t *testing.T) (*iconApp, *iconWindow) {
	t.Helper()
	a := &iconApp{App: test.NewTempApp(t)}
	w := &iconWindow{Window: test.NewTempWindow(t, nil)}
	Create(a, w, newTestStore(t))
	return a, w
}

// newTestStore opens a project store in a temporary folder.
func newTestStore(t *testing.T) *project.Store {
	t.Helper()
	s, err := project.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCreateWindow(t *testing.T) {
	a, w := newTestWindow(t)

	if got, want := w.Title(), "Replica "+assets.Version; got != want {
		t.Errorf("Title() = %q, want %q", got, want)
	}
	if got, want := w.Canvas().Size(), defaultSize; got != want {
		t.Errorf("canvas size = %v, want %v", got, want)
	}
	for name, res := range map[string]fyne.Resource{"window": w.Icon(), "app": a.Icon()} {
		if res == nil {
			t.Errorf("%s icon not set", name)
			continue
		}
		if !bytes.Equal(res.Content(), assets.Icon) {
			t.Errorf("%s icon is not assets.Icon", name)
		}
	}
}

func TestHomeLabels(t *testing.T) {
	_, w := newTestWindow(t)

	labels := map[string]bool{}
	collectLabels(w.Content(), labels)
	for _, want := range []string{"Replica", "Version " + assets.Version, Description} {
		if !labels[want] {
			t.Errorf("no label %q on the home screen; have %v", want, labels)
		}
	}
}

// TestHomeMarkup compares the rendered home screen with testdata/home.xml.
// Refresh it with `go test ./app -run TestHomeMarkup -update` and review the diff.
func TestHomeMarkup(t *testing.T) {
	_, w := newTestWindow(t)

	if *update {
		golden := filepath.Join("testdata", "home.xml")
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(test.RenderToMarkup(w.Canvas())), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test.AssertRendersToMarkup(t, "home.xml", w.Canvas())
}

// collectLabels records the text of every label under o.
func collectLabels(o fyne.CanvasObject, into map[string]bool) {
	walk(o, func(o fyne.CanvasObject) {
		if l, ok := o.(*widget.Label); ok {
			into[l.Text] = true
		}
	})
}

// walk calls fn for o and every object under it: in containers, splits
// and scrolls.
func walk(o fyne.CanvasObject, fn func(fyne.CanvasObject)) {
	fn(o)
	switch o := o.(type) {
	case *fyne.Container:
		for _, c := range o.Objects {
			walk(c, fn)
		}
	case *container.Split:
		walk(o.Leading, fn)
		walk(o.Trailing, fn)
	case *container.Scroll:
		walk(o.Content, fn)
	}
}
