package meshview

import (
	"image"
	"image/color"
	"math"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Interaction rates.
const (
	// orbitPerSide is how far a drag across the view's shorter side turns
	// the camera: half a turn.
	orbitPerSide = math.Pi
	// zoomPerNotch is the change in distance per notch of a mouse wheel;
	// scrollNotch is the scroll delta Fyne reports for one notch (25 on
	// Linux and Windows, 10 on macOS).
	zoomPerNotch = 1.15
	scrollNotch  = 25
	// minZoom and maxZoom bound the camera's distance, in radii of the
	// bounding sphere.
	minZoom, maxZoom = 0.05, 50
)

// scrollSettle is how long after the last scroll event the view counts as
// still again: a turning mouse wheel sends a notch every 20–100 ms, so
// zooming on draws proxy frames throughout and one full frame follows soon
// after the wheel stops.
const scrollSettle = 150 * time.Millisecond

// View is an interactive 3D preview of a mesh and a point cloud. Drag to
// orbit; drag with Shift held, or with the middle button, to pan (Fyne's
// desktop driver does not deliver drags of the secondary button); scroll to
// zoom; double-tap to fit the view again.
//
// Frames are drawn by a Renderer on a goroutine of their own: requests
// made while one is drawn are coalesced into the next, and the UI goroutine
// only copies the finished frame into the raster's image. While the view
// moves — from the first drag event to its end, and until scrollSettle
// after the last scroll event — a large mesh or cloud is drawn from its
// proxy (Renderer.Proxy); when it comes to rest, one full frame follows.
type View struct {
	widget.BaseWidget

	raster *canvas.Raster

	mu       sync.Mutex
	idle     sync.Cond // broadcast when the render goroutine stops
	cam      Camera
	shading  Shading
	dark     bool
	meshBox  geom.Box
	cloudBox geom.Box
	mesh     *geom.Mesh // set by SetMesh, taken by the render goroutine
	colors   []color.NRGBA
	cloud    *geom.PointCloud
	newMesh  bool
	newCloud bool
	pan      bool        // the drag under way pans
	size     image.Point // the raster's size in pixels
	pending  bool        // a frame is wanted
	running  bool        // the render goroutine runs
	ready    *image.RGBA // the newest finished frame
	readySeq uint64      // frames finished
	out      *image.RGBA // the raster's one image
	outSeq   uint64      // the frame copied into out

	// Movement, for drawing from the proxy. A run of scrollTimer for an
	// older scroll event than scrollSeq does nothing.
	dragging    bool // between the first Dragged and DragEnd
	scrolling   bool // until scrollSettle after the last Scrolled
	scrollSeq   uint64
	scrollTimer *time.Timer
	readyProxy  bool   // ready was drawn from a proxy: a full frame is owed
	proxyFrames uint64 // frames drawn from a proxy, for tests

	// Owned by the render goroutine.
	r    *Renderer
	work *image.RGBA
}

var (
	_ fyne.Widget         = (*View)(nil)
	_ fyne.Draggable      = (*View)(nil)
	_ fyne.Scrollable     = (*View)(nil)
	_ fyne.DoubleTappable = (*View)(nil)
	_ desktop.Mouseable   = (*View)(nil)
)

// New returns an empty View.
func New() *View {
	v := &View{r: NewRenderer(), meshBox: geom.EmptyBox(), cloudBox: geom.EmptyBox()}
	v.idle.L = &v.mu
	v.cam = v.r.Camera
	v.raster = canvas.NewRaster(v.generate)
	v.ExtendBaseWidget(v)
	return v
}

// SetMesh shows m, nil for none, in the default grey, and fits the view to
// everything shown. The mesh is read on another goroutine after SetMesh
// returns: do not change it afterwards.
func (v *View) SetMesh(m *geom.Mesh) { v.SetMeshColors(m, nil) }

// SetMeshColors is SetMesh with face i of m drawn in colors[i], as
// Renderer.SetMeshColors draws it: lit, opaque, and faces past the end of
// colors in the default grey. Do not change colors afterwards either.
func (v *View) SetMeshColors(m *geom.Mesh, colors []color.NRGBA) {
	var b geom.Box
	if m != nil {
		b = finiteBounds(m.Vertices)
	} else {
		b = geom.EmptyBox()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.mesh, v.colors, v.newMesh, v.meshBox = m, colors, true, b
	v.cam.Fit(v.boundsLocked())
	v.requestLocked()
}

// SetCloud shows pc, nil for none, and fits the view to everything shown.
// The cloud is read on another goroutine after SetCloud returns: do not
// change it afterwards.
func (v *View) SetCloud(pc *geom.PointCloud) {
	var b geom.Box
	if pc != nil {
		b = finiteBounds(pc.Points)
	} else {
		b = geom.EmptyBox()
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cloud, v.newCloud, v.cloudBox = pc, true, b
	v.cam.Fit(v.boundsLocked())
	v.requestLocked()
}

// Bounds returns the box holding the finite vertices of the mesh and the
// finite points of the cloud shown, in their units; geom.EmptyBox when
// nothing is shown. Its Size is the part's size to show the user.
func (v *View) Bounds() geom.Box {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.boundsLocked()
}

func (v *View) boundsLocked() geom.Box { return v.meshBox.Union(v.cloudBox) }

// ResetView fits the view to what is shown, from the default angles.
func (v *View) ResetView() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cam.Fit(v.boundsLocked())
	v.requestLocked()
}

// Camera returns the current camera.
func (v *View) Camera() Camera {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.cam
}

// SetCamera sets the camera, for a view of the caller's choosing.
func (v *View) SetCamera(c Camera) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cam = c
	v.requestLocked()
}

// SetShading selects smooth (the default) or flat shading.
func (v *View) SetShading(s Shading) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.shading = s
	v.requestLocked()
}

// CreateRenderer is part of fyne.Widget.
func (v *View) CreateRenderer() fyne.WidgetRenderer {
	r := &viewRenderer{v: v}
	r.applyTheme()
	v.mu.Lock()
	defer v.mu.Unlock()
	v.settleLocked() // in case the last renderer went mid-movement
	return r
}

// MouseDown is part of desktop.Mouseable: it decides whether the drag that
// may follow orbits or pans.
func (v *View) MouseDown(e *desktop.MouseEvent) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pan = e.Button == desktop.MouseButtonTertiary || e.Modifier&fyne.KeyModifierShift != 0
}

// MouseUp is part of desktop.Mouseable.
func (v *View) MouseUp(*desktop.MouseEvent) {}

// Dragged is part of fyne.Draggable: it orbits or, after MouseDown with
// Shift or the middle button, pans.
func (v *View) Dragged(e *fyne.DragEvent) {
	side := v.side()
	dx, dy := float64(e.Dragged.DX), float64(e.Dragged.DY)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.dragging = true
	if v.pan {
		v.cam.Pan(dx, dy, side)
	} else {
		v.cam.Orbit(-dx*orbitPerSide/side, dy*orbitPerSide/side)
	}
	v.requestLocked()
}

// DragEnd is part of fyne.Draggable: the view is still again, unless a
// scroll is under way.
func (v *View) DragEnd() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.pan = false
	v.dragging = false
	v.settleLocked()
}

// Scrolled is part of fyne.Scrollable: scrolling up (away from the user)
// zooms in.
func (v *View) Scrolled(e *fyne.ScrollEvent) {
	f := math.Pow(zoomPerNotch, -float64(e.Scrolled.DY)/scrollNotch)
	v.mu.Lock()
	defer v.mu.Unlock()
	r := r3.Norm(v.boundsLocked().Size()) / 2
	if !(r > 0) || !finite(r) {
		r = 1
	}
	v.cam.Zoom(f)
	v.cam.Distance = max(minZoom*r, min(maxZoom*r, v.cam.Distance))
	v.scrolling = true
	v.scrollSeq++
	seq := v.scrollSeq
	if v.scrollTimer != nil {
		v.scrollTimer.Stop()
	}
	v.scrollTimer = time.AfterFunc(scrollSettle, func() { v.scrollSettled(seq) })
	v.requestLocked()
}

// scrollSettled runs scrollSettle after scroll event seq: unless another
// came since, the view is still again, unless a drag is under way.
func (v *View) scrollSettled(seq uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if seq != v.scrollSeq {
		return
	}
	v.scrolling = false
	v.settleLocked()
}

// movingLocked reports whether the user is moving the view, so that
// frames are drawn from the proxy. v.mu must be held.
func (v *View) movingLocked() bool { return v.dragging || v.scrolling }

// settleLocked asks for the full frame owed when the view has come to
// rest and the newest frame was drawn from a proxy. A frame being drawn
// now is checked by renderLoop when it is done. v.mu must be held.
func (v *View) settleLocked() {
	if !v.movingLocked() && v.readyProxy && !v.running {
		v.requestLocked()
	}
	v.idle.Broadcast() // for waiters on the view being still
}

// stopMoving ends any movement without asking for a frame, and stops the
// scroll timer, for when the widget's renderer is destroyed: the window
// closes, or the widget has been hidden for a while.
func (v *View) stopMoving() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.scrollTimer != nil {
		v.scrollTimer.Stop()
		v.scrollTimer = nil
	}
	v.scrollSeq++ // a timer run already under way does nothing
	v.dragging, v.scrolling = false, false
	v.idle.Broadcast()
}

// DoubleTapped is part of fyne.DoubleTappable: it resets the view.
func (v *View) DoubleTapped(*fyne.PointEvent) { v.ResetView() }

// side returns the length of the view's shorter side, at least 1.
func (v *View) side() float64 {
	s := v.Size()
	return max(1, float64(min(s.Width, s.Height)))
}

// requestLocked asks for a new frame, starting the render goroutine if it
// is not running. v.mu must be held.
func (v *View) requestLocked() {
	v.pending = true
	if !v.running {
		v.running = true
		go v.renderLoop()
	}
}

// renderLoop draws frames until none is wanted, then exits; it holds v.mu
// only to take the request and to hand over the frame. A frame drawn from
// a proxy after the view has come to rest is followed by a full one.
func (v *View) renderLoop() {
	v.mu.Lock()
	for v.pending {
		v.pending = false
		cam, size, dark, shading := v.cam, v.size, v.dark, v.shading
		proxy := v.movingLocked()
		mesh, colors, newMesh, cloud, newCloud := v.mesh, v.colors, v.newMesh, v.cloud, v.newCloud
		v.mesh, v.colors, v.newMesh, v.cloud, v.newCloud = nil, nil, false, nil, false
		v.mu.Unlock()

		if newMesh {
			v.r.SetMeshColors(mesh, colors)
		}
		if newCloud {
			v.r.SetCloud(cloud)
		}
		drawn := size.X > 0 && size.Y > 0
		if drawn {
			if v.work == nil || v.work.Rect.Size() != size {
				v.work = image.NewRGBA(image.Rectangle{Max: size})
			}
			v.r.Camera, v.r.Dark, v.r.Shading, v.r.Proxy = cam, dark, shading, proxy
			v.r.Render(v.work)
		}
		usedProxy := proxy && v.r.hasProxy()

		v.mu.Lock()
		if drawn {
			v.work, v.ready = v.ready, v.work
			v.readySeq++
			v.readyProxy = usedProxy
			if usedProxy {
				v.proxyFrames++
				if !v.movingLocked() {
					v.pending = true // the view came to rest while drawing
				}
			}
			v.mu.Unlock()
			fyne.Do(v.raster.Refresh)
			v.mu.Lock()
		}
	}
	v.running = false
	v.idle.Broadcast()
	v.mu.Unlock()
}

// wait blocks until the render goroutine has drawn every frame asked for.
func (v *View) wait() {
	v.mu.Lock()
	defer v.mu.Unlock()
	for v.running {
		v.idle.Wait()
	}
}

// generate is the raster's generator, called on the UI goroutine: it
// returns the one image of the asked size, holding the newest frame (scaled
// from a frame of another size while the new size is drawn), and asks for a
// frame of the new size.
func (v *View) generate(w, h int) image.Image {
	size := image.Pt(max(w, 1), max(h, 1))
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.out == nil || v.out.Rect.Size() != size {
		v.out = image.NewRGBA(image.Rectangle{Max: size})
		v.outSeq = 0
	}
	if v.size != size {
		v.size = size
		v.requestLocked()
	}
	switch {
	case v.ready == nil:
		if v.outSeq == 0 {
			fillBackground(v.out, v.dark)
		}
	case v.ready.Rect.Size() == size:
		if v.outSeq != v.readySeq {
			copy(v.out.Pix, v.ready.Pix)
			v.outSeq = v.readySeq
		}
	default:
		scaleNearest(v.out, v.ready)
		v.outSeq = 0
	}
	return v.out
}

// viewRenderer lays out the View's raster and follows theme changes.
type viewRenderer struct{ v *View }

func (r *viewRenderer) Layout(s fyne.Size) { r.v.raster.Resize(s) }

func (r *viewRenderer) MinSize() fyne.Size { return fyne.NewSize(64, 64) }

func (r *viewRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.v.raster} }

// Destroy stops the scroll timer, so that nothing of the View runs after
// its window has closed.
func (r *viewRenderer) Destroy() { r.v.stopMoving() }

// Refresh is called when the theme changes, among other times.
func (r *viewRenderer) Refresh() {
	r.applyTheme()
	r.v.raster.Refresh()
}

// applyTheme picks the dark background when the theme's background is
// dark, and redraws when that changed.
func (r *viewRenderer) applyTheme() {
	variant := theme.VariantLight
	if a := fyne.CurrentApp(); a != nil {
		variant = a.Settings().ThemeVariant()
	}
	cr, cg, cb, _ := r.v.Theme().Color(theme.ColorNameBackground, variant).RGBA()
	dark := 0.2126*float64(cr)+0.7152*float64(cg)+0.0722*float64(cb) < 0.5*0xffff
	v := r.v
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.dark != dark {
		v.dark = dark
		v.requestLocked()
	}
}

// fillBackground fills img with the background of a frame with nothing
// drawn.
func fillBackground(img *image.RGBA, dark bool) {
	(&Renderer{Dark: dark}).Render(img)
}

// scaleNearest scales src into dst by nearest neighbour.
func scaleNearest(dst, src *image.RGBA) {
	dw, dh := dst.Rect.Dx(), dst.Rect.Dy()
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := range dh {
		sy := (2*y + 1) * sh / (2 * dh)
		drow := dst.Pix[y*dst.Stride : y*dst.Stride+4*dw]
		srow := src.Pix[sy*src.Stride : sy*src.Stride+4*sw]
		for x := range dw {
			sx := (2*x + 1) * sw / (2 * dw)
			copy(drow[4*x:4*x+4], srow[4*sx:4*sx+4])
		}
	}
}

// finiteBounds returns the box holding the finite points of ps.
func finiteBounds(ps []geom.Vec) geom.Box {
	b := geom.EmptyBox()
	for _, p := range ps {
		if finite(p.X) && finite(p.Y) && finite(p.Z) {
			b = b.Extend(p)
		}
	}
	return b
}
