package meshview

import (
	"image"
	"image/color"
	"math"
	"sync"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/theme"

	"github.com/replica3d/replica/pipeline/geom"
)

// newTestView returns a View showing a plate with a hole in a 320×240
// test window, with its first frame drawn and captured.
func newTestView(t *testing.T) (*View, fyne.Window) {
	t.Helper()
	test.NewTempApp(t)
	v := New()
	w := test.NewTempWindow(t, v)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(320, 240))
	v.SetMesh(plateWithHole(40, 10, 8, 64))
	w.Canvas().Capture() // the raster asks for its size
	v.wait()
	return v, w
}

// frames returns how many frames the View has finished.
func frames(v *View) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.readySeq
}

func TestViewRenders(t *testing.T) {
	v, w := newTestView(t)
	if n := frames(v); n == 0 {
		t.Fatal("no frame drawn")
	}
	if got, want := v.Bounds(), (geom.Box{Min: geom.Vec{X: -20, Y: -20}, Max: geom.Vec{X: 20, Y: 20, Z: 10}}); !near(got, want) {
		t.Errorf("Bounds() = %v, want %v", got, want)
	}
	img := w.Canvas().Capture()
	if got := img.Bounds().Size(); got != image.Pt(320, 240) {
		t.Fatalf("capture is %v, want 320×240", got)
	}
	// The frame is in the window: the plate covers a good part of it.
	bg := img.At(0, 0)
	n := 0
	for y := range 240 {
		for x := range 320 {
			if img.At(x, y) != bg && img.At(x, y) != img.At(0, y) {
				n++
			}
		}
	}
	if n < 320*240/10 {
		t.Errorf("only %d pixels differ from the background", n)
	}
	v.mu.Lock()
	size := v.ready.Rect.Size()
	v.mu.Unlock()
	if size != image.Pt(320, 240) {
		t.Errorf("frame is %v, want 320×240", size)
	}
}

func TestViewInteraction(t *testing.T) {
	v, w := newTestView(t)
	c := w.Canvas()
	mid := fyne.NewPos(160, 120)
	fit := v.Camera()

	t.Run("orbit", func(t *testing.T) {
		before, n := v.Camera(), frames(v)
		test.Drag(c, mid, 48, -24)
		v.wait()
		after := v.Camera()
		// 240 units (the shorter side) turn half a turn.
		if want := before.Yaw - 48*math.Pi/240; math.Abs(after.Yaw-want) > 1e-9 {
			t.Errorf("yaw = %v, want %v", after.Yaw, want)
		}
		if want := before.Pitch - 24*math.Pi/240; math.Abs(after.Pitch-want) > 1e-9 {
			t.Errorf("pitch = %v, want %v", after.Pitch, want)
		}
		if after.Target != before.Target {
			t.Errorf("orbit moved the target from %v to %v", before.Target, after.Target)
		}
		if frames(v) == n {
			t.Error("no frame drawn after the drag")
		}
	})
	t.Run("pan", func(t *testing.T) {
		before := v.Camera()
		v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary, Modifier: fyne.KeyModifierShift})
		test.Drag(c, mid, 30, 0)
		v.MouseUp(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
		v.wait()
		after := v.Camera()
		if after.Yaw != before.Yaw || after.Pitch != before.Pitch {
			t.Errorf("pan turned the camera: %+v to %+v", before, after)
		}
		// 30 of 240 units at the target's depth.
		want := 30.0 / 240 * 2 * before.Distance * math.Tan(before.fov()/2)
		if d := dist(after.Target, before.Target); math.Abs(d-want) > 1e-9*want {
			t.Errorf("pan moved the target %v, want %v", d, want)
		}
		// The next drag without Shift orbits again.
		v.MouseDown(&desktop.MouseEvent{Button: desktop.MouseButtonPrimary})
		test.Drag(c, mid, 10, 0)
		v.wait()
		if got := v.Camera(); got.Target != after.Target || got.Yaw == after.Yaw {
			t.Errorf("plain drag after a pan: %+v, want an orbit from %+v", got, after)
		}
	})
	t.Run("zoom", func(t *testing.T) {
		before := v.Camera()
		test.Scroll(c, mid, 0, 25) // one notch away from the user
		v.wait()
		if got, want := v.Camera().Distance, before.Distance/zoomPerNotch; math.Abs(got-want) > 1e-9*want {
			t.Errorf("distance after one notch = %v, want %v", got, want)
		}
		for range 100 { // the distance stays bounded
			test.Scroll(c, mid, 0, -250)
		}
		v.wait()
		r := dist(v.Bounds().Max, v.Bounds().Min) / 2
		if got := v.Camera().Distance; got > maxZoom*r*(1+1e-9) {
			t.Errorf("distance %v after zooming far out, want at most %v", got, maxZoom*r)
		}
	})
	t.Run("reset", func(t *testing.T) {
		test.DoubleTap(v)
		v.wait()
		if got := v.Camera(); got != fit {
			t.Errorf("camera after double tap = %+v, want %+v", got, fit)
		}
	})
}

func TestViewResize(t *testing.T) {
	v, w := newTestView(t)
	w.Resize(fyne.NewSize(200, 300))
	img := w.Canvas().Capture() // a scaled old frame, and a new one asked for
	if got := img.Bounds().Size(); got != image.Pt(200, 300) {
		t.Fatalf("capture is %v, want 200×300", got)
	}
	v.wait()
	w.Canvas().Capture()
	v.mu.Lock()
	defer v.mu.Unlock()
	if got := v.ready.Rect.Size(); got != image.Pt(200, 300) {
		t.Errorf("frame is %v after resizing, want 200×300", got)
	}
	if got := v.out.Rect.Size(); got != image.Pt(200, 300) {
		t.Errorf("raster image is %v after resizing, want 200×300", got)
	}
}

// bgTheme is the default theme with another background.
type bgTheme struct {
	fyne.Theme
	bg color.Color
}

func (b bgTheme) Color(n fyne.ThemeColorName, v fyne.ThemeVariant) color.Color {
	if n == theme.ColorNameBackground {
		return b.bg
	}
	return b.Theme.Color(n, v)
}

func TestViewTheme(t *testing.T) {
	v, w := newTestView(t)
	background := func(c color.Color) color.Color {
		fyne.CurrentApp().Settings().SetTheme(bgTheme{theme.DefaultTheme(), c})
		v.Refresh()
		v.wait()
		return w.Canvas().Capture().At(0, 0)
	}
	light, dark := background(color.White), background(color.Black)
	lum := func(c color.Color) uint32 { r, g, b, _ := c.RGBA(); return r + g + b }
	if lum(dark) >= lum(light) {
		t.Errorf("background %v with a dark theme, %v with a light one", dark, light)
	}
}

// TestViewConcurrent drives a View from several goroutines while frames
// are drawn, for the race detector.
func TestViewConcurrent(t *testing.T) {
	v, w := newTestView(t)
	m, pc := torus(80, 40), &geom.PointCloud{Points: sphere(10).Vertices}
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			if i%2 == 0 {
				v.SetMesh(m)
			} else {
				v.SetMesh(nil)
			}
			v.SetCloud(pc)
			_ = v.Bounds()
		}
	})
	wg.Go(func() {
		for i := range 20 {
			c := v.Camera()
			c.Orbit(0.1, 0)
			v.SetCamera(c)
			v.SetShading(Shading(i % 2))
			v.ResetView()
		}
	})
	for range 20 {
		v.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: 3, DY: 1}})
		v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: 5}})
		w.Canvas().Capture()
	}
	v.DragEnd()
	wg.Wait()
	v.wait()
	w.Canvas().Capture()
}

func dist(a, b geom.Vec) float64 {
	return math.Sqrt((a.X-b.X)*(a.X-b.X) + (a.Y-b.Y)*(a.Y-b.Y) + (a.Z-b.Z)*(a.Z-b.Z))
}

// near reports whether a and b agree within 1e-9.
func near(a, b geom.Box) bool {
	return dist(a.Min, b.Min) < 1e-9 && dist(a.Max, b.Max) < 1e-9
}
