package meshview

import (
	"image"
	"math"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

func TestDecimate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      *geom.Mesh
		target int
	}{
		{"torus", torus(300, 150), 10_000},
		{"coarse torus", torus(300, 150), 1_000},
		{"sphere", sphere(150), 8_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, src, h := decimate(tc.m, tc.target)
			n := len(d.Faces)
			t.Logf("%d faces to %d on %d vertices, cells of %.4g", len(tc.m.Faces), n, len(d.Vertices), h)
			if 4*n < 3*tc.target || 4*n > 5*tc.target {
				t.Errorf("%d faces, want %d ± 25 %%", n, tc.target)
			}
			checkMesh(t, d)

			// Each face comes from a face of the original, in its order:
			// each of its corners, the mean of a cell's vertices, is
			// within the cell's diagonal of a corner of that face.
			if len(src) != n {
				t.Fatalf("%d source faces for %d faces", len(src), n)
			}
			for i, f := range src {
				if f < 0 || int(f) >= len(tc.m.Faces) || i > 0 && f <= src[i-1] {
					t.Fatalf("face %d comes from face %d (the one before from %d)", i, f, src[max(i-1, 0)])
				}
				for k, v := range d.Faces[i] {
					dd := math.Inf(1)
					for _, u := range tc.m.Faces[f] {
						dd = min(dd, r3.Norm(r3.Sub(d.Vertices[v], tc.m.Vertices[u])))
					}
					if dd > math.Sqrt(3)*h {
						t.Fatalf("corner %d of face %d is %.4g from its source's, cells of %.4g", k, i, dd, h)
					}
				}
			}

			// Within the original's bounds and at most a cell inside them.
			got, want := d.Bounds(), tc.m.Bounds()
			for k, g := range [2]geom.Vec{got.Min, got.Max} {
				w := [2]geom.Vec{want.Min, want.Max}[k]
				inside := r3.Sub(g, w)
				if k == 1 {
					inside = r3.Scale(-1, inside)
				}
				for _, x := range []float64{inside.X, inside.Y, inside.Z} {
					if x < 0 || x > h {
						t.Errorf("bounds %v, want within %.4g inside %v", got, h, want)
					}
				}
			}
		})
	}
}

// checkMesh checks that every face of m has three distinct vertices in
// range and an area, that no two faces have the same vertices in the same
// cyclic order, and that every vertex is used.
func checkMesh(t *testing.T, m *geom.Mesh) {
	t.Helper()
	seen := make(map[[3]int32]bool, len(m.Faces))
	used := make([]bool, len(m.Vertices))
	for i, f := range m.Faces {
		for _, v := range f {
			if v < 0 || int(v) >= len(m.Vertices) {
				t.Fatalf("face %d = %v indexes out of [0, %d)", i, f, len(m.Vertices))
			}
			used[v] = true
		}
		if f[0] == f[1] || f[1] == f[2] || f[2] == f[0] {
			t.Errorf("face %d = %v is degenerate", i, f)
		}
		if a := r3.Norm(m.FaceNormal(i)); !(a > 0) {
			t.Errorf("face %d = %v has no area", i, f)
		}
		// The rotation with the smallest index first.
		for f[0] > f[1] || f[0] > f[2] {
			f = [3]int32{f[1], f[2], f[0]}
		}
		if seen[f] {
			t.Errorf("face %d = %v is a duplicate", i, m.Faces[i])
		}
		seen[f] = true
	}
	for v, u := range used {
		if !u {
			t.Errorf("vertex %d is not used", v)
		}
	}
}

func TestDecimateInvalid(t *testing.T) {
	m := torus(100, 50)
	m.Vertices[7] = geom.Vec{X: math.NaN()}
	m.Vertices[8] = geom.Vec{Y: math.Inf(1)}
	m.Faces = append(m.Faces, [3]int32{0, 1, int32(len(m.Vertices))}, [3]int32{-1, 2, 3})
	d, _, _ := decimate(m, 1000)
	if len(d.Faces) == 0 {
		t.Fatal("no faces")
	}
	checkMesh(t, d)
	for i, p := range d.Vertices {
		if !finite(p.X) || !finite(p.Y) || !finite(p.Z) {
			t.Errorf("vertex %d = %v", i, p)
		}
	}
}

func TestDecimateEmpty(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      *geom.Mesh
		target int
	}{
		{"no mesh", &geom.Mesh{}, 100},
		{"no faces", &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}}}, 100},
		{"one point", &geom.Mesh{Vertices: []geom.Vec{{X: 1}, {X: 1}, {X: 1}}, Faces: [][3]int32{{0, 1, 2}}}, 100},
		{"no target", torus(10, 5), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if d, _, _ := decimate(tc.m, tc.target); len(d.Faces) != 0 || len(d.Vertices) != 0 {
				t.Errorf("decimate = %d vertices, %d faces, want none", len(d.Vertices), len(d.Faces))
			}
		})
	}
}

func TestRendererProxy(t *testing.T) {
	m := torus(300, 150)
	t.Run("small mesh", func(t *testing.T) {
		r := NewRenderer()
		r.SetMesh(m)
		if r.proxy != nil || r.hasProxy() {
			t.Errorf("a mesh of %d faces has a proxy, want one above %d", len(m.Faces), ProxyMinTriangles)
		}
	})

	r := NewRenderer()
	r.sizes = proxySizes{minTriangles: 50_000, triangles: 10_000}
	r.SetMesh(m)
	if r.proxy == nil {
		t.Fatal("no proxy")
	}
	if n := len(r.proxy.faces); n > 15_000 {
		t.Errorf("proxy has %d faces, want about 10,000", n)
	}
	if r.Bounds() != r.model.bounds {
		t.Errorf("Bounds() = %v, want the full mesh's %v", r.Bounds(), r.model.bounds)
	}
	// The proxy covers nearly the same pixels as the mesh.
	r.Reset()
	const w, h = 320, 240
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Render(img)
	full, _ := coverage(r, w, h)
	r.Proxy = true
	r.Render(img)
	proxy, _ := coverage(r, w, h)
	in, differ := 0, 0
	for i := range full {
		if full[i] {
			in++
		}
		if full[i] != proxy[i] {
			differ++
		}
	}
	if differ > in/20 {
		t.Errorf("proxy covers %d pixels differently of the mesh's %d", differ, in)
	}

	r.SetMesh(plateWithHole(40, 10, 8, 64))
	if r.proxy != nil {
		t.Error("the proxy stays after SetMesh with a small mesh")
	}
}

func TestCloudProxy(t *testing.T) {
	pc := &geom.PointCloud{Points: torus(50, 50).Vertices} // 2,500 points
	r := NewRenderer()
	r.SetCloud(pc)
	if r.cloudProxy != nil {
		t.Errorf("a cloud of %d points has a proxy", len(pc.Points))
	}
	r.sizes = proxySizes{minPoints: 1000, points: 300}
	r.SetCloud(pc)
	if r.cloudProxy == nil {
		t.Fatal("no proxy")
	}
	// Every 9th point: 8 would give 313.
	if got, want := len(r.cloudProxy.pos), 278; got != want {
		t.Errorf("proxy has %d points, want %d", got, want)
	}
	if len(r.cloudProxy.col) != len(r.cloudProxy.pos) {
		t.Errorf("proxy has %d colours for %d points", len(r.cloudProxy.col), len(r.cloudProxy.pos))
	}
	for i, p := range r.cloudProxy.pos {
		if p != r.cloud.pos[9*i] {
			t.Fatalf("proxy point %d = %v, want point %d, %v", i, p, 9*i, r.cloud.pos[9*i])
		}
	}
}

// newProxyView returns a View in a 320×240 test window showing a torus
// that has a proxy, with its first frame drawn.
func newProxyView(t *testing.T) *View {
	t.Helper()
	test.NewTempApp(t)
	v := New()
	v.r.sizes = proxySizes{minTriangles: 50_000, triangles: 10_000} // before the render goroutine runs
	w := test.NewTempWindow(t, v)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(320, 240))
	v.SetMesh(torus(300, 150))
	w.Canvas().Capture()
	v.wait()
	return v
}

// frameState returns how many frames the View has finished and whether
// the newest was drawn from the proxy.
func frameState(v *View) (n uint64, proxy bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.readySeq, v.readyProxy
}

// proxyFrames returns how many frames the View has drawn from a proxy.
func proxyFrames(v *View) uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.proxyFrames
}

// waitStill blocks until the View has stopped moving and drawn every frame
// asked for.
func waitStill(v *View) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for v.running || v.movingLocked() {
		v.idle.Wait()
	}
}

func TestViewProxy(t *testing.T) {
	v := newProxyView(t)
	if n, proxy := frameState(v); n == 0 || proxy {
		t.Fatalf("after SetMesh: %d frames, proxy %v; want a full frame", n, proxy)
	}
	drag := &fyne.DragEvent{Dragged: fyne.Delta{DX: 10, DY: 4}}

	t.Run("drag", func(t *testing.T) {
		n0, _ := frameState(v)
		for range 3 {
			v.Dragged(drag)
			v.wait()
			if n, proxy := frameState(v); n == n0 || !proxy {
				t.Errorf("while dragging: %d frames after %d, proxy %v; want a new proxy frame", n, n0, proxy)
			}
		}
		n1, _ := frameState(v)
		v.DragEnd()
		v.wait()
		if n, proxy := frameState(v); n == n1 || proxy {
			t.Errorf("after DragEnd: %d frames after %d, proxy %v; want a new full frame", n, n1, proxy)
		}
	})
	t.Run("end while drawing", func(t *testing.T) {
		v.Dragged(drag)
		v.DragEnd() // most likely while the frame is drawn
		v.wait()
		if _, proxy := frameState(v); proxy {
			t.Error("the last frame is a proxy frame")
		}
	})
	// The scroll timer may fire before the test looks (on a slow
	// machine, or under the race detector), so these count proxy frames
	// rather than look at the newest frame while scrolling.
	t.Run("scroll", func(t *testing.T) {
		p0 := proxyFrames(v)
		v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: 25}})
		v.wait()
		if p := proxyFrames(v); p == p0 {
			t.Error("no proxy frame drawn while scrolling")
		}
		waitStill(v) // scrollSettle later
		if _, proxy := frameState(v); proxy {
			t.Error("after scrolling: the last frame is a proxy frame")
		}
	})
	t.Run("scroll while dragging", func(t *testing.T) {
		v.Dragged(drag)
		v.wait()
		p0 := proxyFrames(v)
		v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: -25}})
		v.DragEnd()
		v.wait()
		if p := proxyFrames(v); p == p0 {
			t.Error("no proxy frame drawn while scrolling")
		}
		waitStill(v)
		if _, proxy := frameState(v); proxy {
			t.Error("after scrolling: the last frame is a proxy frame")
		}
	})
	t.Run("destroy", func(t *testing.T) {
		v.Scrolled(&fyne.ScrollEvent{Scrolled: fyne.Delta{DY: 25}})
		v.wait()
		test.WidgetRenderer(v).Destroy()
		v.mu.Lock()
		timer, moving := v.scrollTimer, v.movingLocked()
		v.mu.Unlock()
		if timer != nil || moving {
			t.Errorf("after Destroy: timer %v, moving %v; want neither", timer, moving)
		}
	})
}

// TestViewNoProxy checks that a View showing a small mesh draws no extra
// frame when a drag ends.
func TestViewNoProxy(t *testing.T) {
	v, _ := newTestView(t)
	v.Dragged(&fyne.DragEvent{Dragged: fyne.Delta{DX: 10}})
	v.wait()
	n0, proxy := frameState(v)
	if proxy {
		t.Error("a small mesh drawn from a proxy")
	}
	v.DragEnd()
	v.wait()
	if n, _ := frameState(v); n != n0 {
		t.Errorf("%d frames after DragEnd, want still %d", n, n0)
	}
}
