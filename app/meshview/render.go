package meshview

import (
	"encoding/binary"
	"image"
	"image/color"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Shading selects how triangles are lit.
type Shading uint8

// The shadings.
const (
	// Smooth interpolates the light computed at the vertices across each
	// triangle (Gouraud shading), from vertex normals split at creases.
	Smooth Shading = iota
	// Flat lights each triangle by its own normal, so facets show.
	Flat
)

// Fixed-point screen coordinates: subBits fractional bits, as in
// Direct3D's 8-bit sub-pixel precision. Pixel (x, y) covers [x, x+1) ×
// [y, y+1) and is sampled at its centre.
const (
	subBits = 8
	subOne  = 1 << subBits
	subHalf = subOne / 2
)

// guardPx is the guard band: vertices that project farther than this many
// pixels outside the image, or lie behind the near plane, send their
// triangle to the clipper. Inside it fixed-point coordinates stay below
// 2^24, so edge functions (products of two coordinate differences) fit an
// int64 with room to spare and float32 rounds them by less than 1/256 px.
const guardPx = 1 << 14

// clipX marks a projected vertex that is behind the near plane, outside the
// guard band or not finite.
const clipX = math.MinInt32

// nearFrac places the near plane at this fraction of the camera's distance
// to its target. Depth is stored as 1/z in float32, whose precision is
// relative, so a close near plane costs no depth resolution.
const nearFrac = 1e-3

// pointBias moves points this fraction of their depth towards the camera in
// the depth test, so that points on a surface (a cloud drawn with the mesh
// made from it) win over the triangles through them.
const pointBias = 1e-4

// bandsPerWorker is how many horizontal bands each goroutine draws on
// average. Workers take the next band from a shared counter, so more bands
// than workers balance a model that fills the middle of the image more
// than the top and bottom.
const bandsPerWorker = 4

// Lights, in camera coordinates (x right, y up, z into the screen), as unit
// directions towards the light: a key light from the upper left in front
// and a weaker fill from the lower right, so that faces turned different
// ways never shade alike. Intensity = ambient + Σ weight·max(0, n·l),
// capped at 1.
var (
	keyLight  = normalized(-0.35, 0.70, -0.60)
	fillLight = normalized(0.60, -0.25, -0.75)
)

const (
	ambient    = 0.20
	keyWeight  = 0.72
	fillWeight = 0.30
)

// Background colours, as sRGB: calm vertical gradients. (The model's grey
// is modelColor.)
var (
	lightTop    = [3]float64{245, 246, 248}
	lightBottom = [3]float64{212, 216, 223}
	darkTop     = [3]float64{62, 65, 71}
	darkBottom  = [3]float64{32, 34, 38}
)

// Renderer draws a triangle mesh and a point cloud into an *image.RGBA in
// software, with a perspective Camera, a depth buffer and two directional
// lights. Its zero value has nothing to draw and a camera that draws the
// background only; NewRenderer fits the camera to a unit cube.
//
// Triangles are drawn as in Pineda, "A Parallel Algorithm for Polygon
// Rasterization", SIGGRAPH 1988: three edge functions, linear in the pixel
// position and stepped by additions, are all non-negative inside. Vertices
// are snapped to 1/256 pixel and the edge functions evaluated exactly in
// integers, with the top-left fill rule of Direct3D, so that triangles
// sharing an edge cover each pixel centre along it exactly once (following
// Fabian Giesen, "Optimizing the basic rasterizer" and "The barycentric
// conspiracy", The ryg blog, 2013). Depth (1/z) and light are interpolated
// as planes over the screen; light is not perspective-corrected, which no
// one sees on triangles a few pixels wide.
//
// Triangles facing away from the camera are culled. Triangles with a vertex
// behind the near plane, or projected far outside the image, are clipped in
// camera space (Sutherland and Hodgman, "Reentrant polygon clipping", CACM
// 17(1), 1974) against the near plane and four guard-band planes, and
// drawn as a fan; nothing in front of the camera is dropped.
//
// Render uses runtime.GOMAXPROCS(0) goroutines in three steps: transform
// the vertices (and points) in slices; bin each visible triangle to the
// horizontal bands of the image it overlaps, each worker a slice of the
// faces; then draw band by band, each worker taking the next band, so that
// no two goroutines write the same pixel and none waits on a lock.
//
// A Renderer is not safe for concurrent use; distinct Renderers are.
type Renderer struct {
	// Camera is the view Render draws. Reset fits it to the bounds.
	Camera Camera
	// Shading selects smooth or flat shading of the mesh.
	Shading Shading
	// Dark selects the background for a dark theme.
	Dark bool
	// PointSize is the side of the square drawn for each point, in pixels;
	// zero or less means 2.
	PointSize int
	// Proxy draws a mesh of more than ProxyMinTriangles faces from its
	// proxy of about ProxyTriangles, made by vertex clustering, and a
	// cloud of more than ProxyMinPoints points from every k-th point, at
	// most ProxyPoints: a coarser frame in a fraction of the time, for
	// while the view moves. Smaller meshes and clouds are drawn in full
	// either way.
	Proxy bool

	model      *model
	proxy      *model // drawn with Proxy set; nil for none
	cloud      *cloud
	cloudProxy *cloud     // drawn with Proxy set; nil for none
	sizes      proxySizes // zero: the Proxy constants

	// Scratch reused between frames.
	zbuf   []float32 // 1/z per pixel; 0 is infinitely far
	verts  []pvert   // projected model vertices
	pts    []pvert   // projected points
	bins   [][]int32 // bins[w*nb+b]: faces worker w binned to band b
	pbins  [][]int32 // the same for points
	slow   [][]int32 // slow[w]: faces worker w sent to the clipper
	bg     []uint32  // background colour per row
	bgDark bool      // bg is the dark theme's
}

// pvert is a projected vertex.
type pvert struct {
	x, y int32   // screen position in fixed point; x == clipX: clip
	z    float32 // 1/depth
	i    float32 // light intensity in [0, 255] (smooth shading)
}

// NewRenderer returns a Renderer with nothing to draw and a camera fitted to
// a unit cube at the origin.
func NewRenderer() *Renderer {
	r := &Renderer{}
	r.Reset()
	return r
}

// Shared, never changed: what a Renderer without a mesh or cloud draws.
var (
	noModel = newModel(nil, nil)
	noCloud = newCloud(nil)
)

// parts returns the model and the cloud to draw, never nil.
func (r *Renderer) parts() (*model, *cloud) {
	md, cl := r.model, r.cloud
	if md == nil {
		md = noModel
	}
	if cl == nil {
		cl = noCloud
	}
	return md, cl
}

// SetMesh replaces the mesh drawn, nil for none, in the default grey. It
// prepares normals and single-precision positions, which takes about
// 100 ms for a million triangles, and for a mesh of more than
// ProxyMinTriangles faces also the proxy drawn with Proxy set, on a second
// goroutine at the same time (BenchmarkProxyBuild3M); it keeps no
// reference to m. Faces that index out of range or use a vertex with a NaN
// or infinite coordinate are not drawn. The camera is left as it is: call
// Reset to fit it.
func (r *Renderer) SetMesh(m *geom.Mesh) { r.SetMeshColors(m, nil) }

// SetMeshColors is SetMesh with a colour for each face: face i of m is
// drawn in colors[i], lit as the grey is (the light multiplies the colour)
// and opaque whatever its alpha. Faces past the end of colors, and all of
// them when colors is nil, are drawn in the default grey. A mesh of more
// than 1024 distinct colours is drawn with them rounded to fewer bits per
// channel until there are not. Each triangle of the proxy takes the colour
// of the first face of m that it stands for. It keeps no reference to
// colors; drawing a coloured mesh takes no longer than a grey one.
func (r *Renderer) SetMeshColors(m *geom.Mesh, colors []color.NRGBA) {
	sz := r.sizes.orDefault()
	var proxy *model
	var done chan struct{}
	if m != nil && len(m.Faces) > sz.minTriangles {
		done = make(chan struct{})
		go func() {
			defer close(done)
			proxy = newProxy(m, colors, sz.triangles)
		}()
	}
	r.model = newModel(m, colors)
	if done != nil {
		<-done
	}
	r.proxy = proxy
	r.verts = r.verts[:0]
}

// SetCloud replaces the point cloud drawn, nil for none, and for a cloud
// of more than ProxyMinPoints points makes the proxy drawn with Proxy set.
// It keeps no reference to pc; points with a NaN or infinite coordinate
// are not drawn.
func (r *Renderer) SetCloud(pc *geom.PointCloud) {
	sz := r.sizes.orDefault()
	r.cloud = newCloud(pc)
	r.cloudProxy = nil
	if len(r.cloud.pos) > sz.minPoints {
		r.cloudProxy = r.cloud.subsample(sz.points)
	}
	r.pts = r.pts[:0]
}

// hasProxy reports whether Render draws something else with Proxy set.
func (r *Renderer) hasProxy() bool { return r.proxy != nil || r.cloudProxy != nil }

// Bounds returns the box holding the finite vertices of the mesh and the
// finite points of the cloud; geom.EmptyBox when there are none.
func (r *Renderer) Bounds() geom.Box {
	md, cl := r.parts()
	return md.bounds.Union(cl.bounds)
}

// Reset fits the camera to Bounds from the default angles.
func (r *Renderer) Reset() {
	r.Camera.Fit(r.Bounds())
}

// frame holds what the workers of one Render share, read only.
type frame struct {
	w, h       int
	pix        []uint8 // the image's pixels from (Min.X, Min.Y)
	stride     int
	zbuf       []float32
	bandH      int
	smooth     bool
	pointSize  int
	shades     []*shadeTable // the model's, by face through fshade
	fshade     []uint16      // nil: every face in shades[0]
	bg         []uint32
	fnrm       []vec3
	verts      []pvert // projected model vertices
	lk, lf     vec3    // light directions in world coordinates
	focal      float64 // pixels per unit of x/z
	cx, cy     float64 // image centre in pixels
	near       float64
	eye        geom.Vec
	right, up  geom.Vec
	fwd        geom.Vec
	cloudColor []uint32
}

// xform maps positions relative to an origin into camera coordinates in
// single precision: c = M·p + o.
type xform struct {
	m [9]float32
	o [3]float32
}

func (fr *frame) xformFor(origin geom.Vec) xform {
	d := r3.Sub(origin, fr.eye)
	return xform{
		m: [9]float32{
			float32(fr.right.X), float32(fr.right.Y), float32(fr.right.Z),
			float32(fr.up.X), float32(fr.up.Y), float32(fr.up.Z),
			float32(fr.fwd.X), float32(fr.fwd.Y), float32(fr.fwd.Z),
		},
		o: [3]float32{float32(r3.Dot(fr.right, d)), float32(r3.Dot(fr.up, d)), float32(r3.Dot(fr.fwd, d))},
	}
}

// Render draws the mesh and the cloud into img, covering all of its
// bounds. The depth buffer and bins are kept between calls: drawing the
// same size again allocates only a few small objects (about 1 KB, the
// goroutines and their closures), and a new size reallocates the depth
// buffer when it grows. A camera with a non-finite or non-positive distance
// draws the background only.
func (r *Renderer) Render(img *image.RGBA) {
	w, h := img.Rect.Dx(), img.Rect.Dy()
	if w <= 0 || h <= 0 {
		return
	}
	md, cl := r.parts()
	if r.Proxy {
		if r.proxy != nil {
			md = r.proxy
		}
		if r.cloudProxy != nil {
			cl = r.cloudProxy
		}
	}
	if cap(r.zbuf) < w*h {
		r.zbuf = make([]float32, w*h)
	}
	r.zbuf = r.zbuf[:w*h]
	r.buildBackground(h)

	workers := runtime.GOMAXPROCS(0)
	nb := min(h, workers*bandsPerWorker)
	bandH := (h + nb - 1) / nb
	nb = (h + bandH - 1) / bandH

	fr := &frame{
		w: w, h: h,
		pix:       img.Pix[img.PixOffset(img.Rect.Min.X, img.Rect.Min.Y):],
		stride:    img.Stride,
		zbuf:      r.zbuf,
		bandH:     bandH,
		smooth:    r.Shading != Flat,
		pointSize: r.PointSize,
		shades:    md.shades,
		fshade:    md.fshade,
		bg:        r.bg,
		fnrm:      md.fnrm,
	}
	if fr.pointSize <= 0 {
		fr.pointSize = 2
	}
	cam := r.Camera
	draw := cam.valid() && (len(md.faces) > 0 || len(cl.pos) > 0)
	if draw {
		fr.eye, fr.right, fr.up, fr.fwd = cam.basis()
		fr.focal = float64(min(w, h)) / 2 / math.Tan(cam.fov()/2)
		fr.cx, fr.cy = float64(w)/2, float64(h)/2
		fr.near = cam.Distance * nearFrac
		fr.lk = toVec3(r3.Add(r3.Add(r3.Scale(keyLight[0], fr.right), r3.Scale(keyLight[1], fr.up)), r3.Scale(keyLight[2], fr.fwd)))
		fr.lf = toVec3(r3.Add(r3.Add(r3.Scale(fillLight[0], fr.right), r3.Scale(fillLight[1], fr.up)), r3.Scale(fillLight[2], fr.fwd)))
		fr.cloudColor = cl.col
	} else {
		md, cl = noModel, noCloud
	}

	r.verts = grow(r.verts, len(md.pos))
	fr.verts = r.verts
	r.pts = grow(r.pts, len(cl.pos))
	r.bins = growBins(r.bins, workers*nb)
	r.pbins = growBins(r.pbins, workers*nb)
	r.slow = growBins(r.slow, workers)

	// Step 1: project the vertices and points, and bin the points.
	mx, cx := fr.xformFor(md.origin), fr.xformFor(cl.origin)
	parallel(workers, func(k int) {
		lo, hi := split(len(md.pos), workers, k)
		fr.project(r.verts[lo:hi], md.pos[lo:hi], md.vnrm[lo:hi], &mx, fr.smooth)
		lo, hi = split(len(cl.pos), workers, k)
		fr.project(r.pts[lo:hi], cl.pos[lo:hi], nil, &cx, false)
		fr.binPoints(r.pts, lo, hi, r.pbins[k*nb:(k+1)*nb])
	})
	// Step 2: cull and bin the triangles.
	parallel(workers, func(k int) {
		lo, hi := split(len(md.faces), workers, k)
		r.slow[k] = fr.binFaces(r.verts, md.faces, lo, hi, r.bins[k*nb:(k+1)*nb], r.slow[k][:0])
	})
	// Step 3: draw band by band.
	var next atomic.Int32
	parallel(min(workers, nb), func(int) {
		for {
			b := int(next.Add(1) - 1)
			if b >= nb {
				return
			}
			y0, y1 := b*bandH, min((b+1)*bandH, h)
			fr.clear(y0, y1)
			for k := range workers {
				for _, f := range r.bins[k*nb+b] {
					face := md.faces[f]
					fr.drawTri(r.verts[face[0]], r.verts[face[1]], r.verts[face[2]], f, y0, y1)
				}
			}
			for k := range workers {
				for _, f := range r.slow[k] {
					fr.drawClipped(md, &mx, f, y0, y1)
				}
			}
			for k := range workers {
				for _, p := range r.pbins[k*nb+b] {
					fr.drawPoint(r.pts[p], p, y0, y1)
				}
			}
		}
	})
}

// project transforms pos (with normals nrm when smooth) into dst. A vertex
// to clip gets x = clipX and, in y, its outcode: the planes of the clipper
// it is outside of (Cohen and Sutherland's trick), so that binFaces drops
// at once a triangle whose vertices are all outside the same plane.
func (fr *frame) project(dst []pvert, pos, nrm []vec3, t *xform, smooth bool) {
	m, o := &t.m, &t.o
	f := float32(fr.focal * subOne)
	cx := float32(fr.cx*subOne + 0.5) // + 0.5 rounds the conversion below
	cy := float32(fr.cy*subOne + 0.5)
	near := float32(fr.near)
	gx0, gx1 := float32(-guardPx*subOne), float32((fr.w+guardPx)*subOne)
	gy0, gy1 := float32(-guardPx*subOne), float32((fr.h+guardPx)*subOne)
	lk, lf := fr.lk, fr.lf
	dst = dst[:len(pos)]
	for k, p := range pos {
		v := &dst[k]
		if smooth {
			v.i = intensity(nrm[k], lk, lf)
		}
		xc := m[0]*p[0] + m[1]*p[1] + m[2]*p[2] + o[0]
		yc := m[3]*p[0] + m[4]*p[1] + m[5]*p[2] + o[1]
		zc := m[6]*p[0] + m[7]*p[1] + m[8]*p[2] + o[2]
		if zc >= near {
			inv := 1 / zc
			sx := cx + f*xc*inv
			sy := cy - f*yc*inv
			if sx > gx0 && sx < gx1 && sy > gy0 && sy < gy1 { // false for NaN
				v.x, v.y, v.z = int32(sx), int32(sy), inv
				continue
			}
		}
		v.x, v.y = clipX, fr.outcode(xc, yc, zc)
	}
}

// Outcode bits: outside the near plane and the four guard-band planes of
// drawClipped; not finite.
const (
	outNear = 1 << iota
	outLeft
	outRight
	outTop
	outBottom
	outNaN
)

// outcode returns the clipping planes camera-space point (x, y, z) is
// outside of, as in drawClipped.
func (fr *frame) outcode(x, y, z float32) int32 {
	if !finite(float64(x)) || !finite(float64(y)) || !finite(float64(z)) {
		return outNaN
	}
	g, f := float32(guardPx), float32(fr.focal)
	cx, cy := float32(fr.cx), float32(fr.cy)
	w, h := float32(fr.w), float32(fr.h)
	var c int32
	if z < float32(fr.near) {
		c |= outNear
	}
	if f*x+(cx+g)*z < 0 {
		c |= outLeft
	}
	if (w+g-cx)*z-f*x < 0 {
		c |= outRight
	}
	if (cy+g)*z-f*y < 0 {
		c |= outTop
	}
	if f*y+(h+g-cy)*z < 0 {
		c |= outBottom
	}
	return c
}

// intensity returns the light on a surface with unit normal n, scaled to
// [0, 255]; a zero normal gets the ambient light only.
func intensity(n, lk, lf vec3) float32 {
	i := ambient + keyWeight*max(0, dot(n, lk)) + fillWeight*max(0, dot(n, lf))
	return min(i, 1) * 255
}

// sampleRange returns the pixels whose centres lie in [lo, hi] (fixed
// point): ceil((lo−½)/1) to floor((hi−½)/1), clamped to [0, n).
func sampleRange(lo, hi int32, n int) (int32, int32) {
	a := max((lo-subHalf+subOne-1)>>subBits, 0)
	b := min((hi-subHalf)>>subBits, int32(n-1))
	return a, b
}

// binFaces culls faces[lo:hi] and appends the index of each triangle that
// faces the camera and covers a pixel centre to the bins of the bands it
// overlaps; triangles to clip go to slow, which it returns.
func (fr *frame) binFaces(vs []pvert, faces [][3]int32, lo, hi int, bins [][]int32, slow []int32) []int32 {
	for b := range bins {
		bins[b] = bins[b][:0]
	}
	bandH := int32(fr.bandH)
	for i := lo; i < hi; i++ {
		f := faces[i]
		a, b, c := vs[f[0]], vs[f[1]], vs[f[2]]
		if a.x == clipX || b.x == clipX || c.x == clipX {
			// Unless all three are outside the same plane: a vertex
			// not to clip has a y that is no outcode, but it is inside
			// every plane, so the triangle could not be dropped anyway.
			if a.x != clipX || b.x != clipX || c.x != clipX || a.y&b.y&c.y == 0 {
				slow = append(slow, int32(i))
			}
			continue
		}
		if int64(b.y-a.y)*int64(c.x-a.x)-int64(b.x-a.x)*int64(c.y-a.y) <= 0 {
			continue // back-facing or without area
		}
		x0, x1 := sampleRange(min(a.x, b.x, c.x), max(a.x, b.x, c.x), fr.w)
		y0, y1 := sampleRange(min(a.y, b.y, c.y), max(a.y, b.y, c.y), fr.h)
		if x0 > x1 || y0 > y1 {
			continue // covers no pixel centre
		}
		for band := y0 / bandH; band <= y1/bandH; band++ {
			bins[band] = append(bins[band], int32(i))
		}
	}
	return slow
}

// binPoints appends the index of each point in pts[lo:hi] that is in view
// to the bins of the bands its square overlaps.
func (fr *frame) binPoints(pts []pvert, lo, hi int, bins [][]int32) {
	for b := range bins {
		bins[b] = bins[b][:0]
	}
	s := int32(fr.pointSize)
	for i := lo; i < hi; i++ {
		p := pts[i]
		if p.x == clipX {
			continue
		}
		x0, y0 := p.x>>subBits-(s-1)/2, p.y>>subBits-(s-1)/2
		x1, y1 := min(x0+s-1, int32(fr.w-1)), min(y0+s-1, int32(fr.h-1))
		x0, y0 = max(x0, 0), max(y0, 0)
		if x0 > x1 || y0 > y1 {
			continue
		}
		for band := y0 / int32(fr.bandH); band <= y1/int32(fr.bandH); band++ {
			bins[band] = append(bins[band], int32(i))
		}
	}
}

// clear fills rows [y0, y1) with the background and clears their depth.
func (fr *frame) clear(y0, y1 int) {
	clear(fr.zbuf[y0*fr.w : y1*fr.w])
	for y := y0; y < y1; y++ {
		row := fr.pix[y*fr.stride : y*fr.stride+4*fr.w]
		c := fr.bg[y]
		for x := 0; x+4 <= len(row); x += 4 {
			binary.LittleEndian.PutUint32(row[x:x+4], c)
		}
	}
}

// edge returns the edge function of the directed edge u→v at p, positive
// on the inside of a front-facing triangle (counter-clockwise as seen on
// the screen, whose y axis points down): (v.y−u.y)(p.x−u.x) −
// (v.x−u.x)(p.y−u.y).
func edge(u, v pvert, px, py int64) int64 {
	return int64(v.y-u.y)*(px-int64(u.x)) - int64(v.x-u.x)*(py-int64(u.y))
}

// topLeftBias is 0 for a top or left edge and −1 otherwise, so that a
// pixel centre exactly on an edge belongs to the triangle on its top or
// left side only. On a y-down screen with the inside on the left of u→v, a
// left edge runs downwards and a top edge runs leftwards.
func topLeftBias(u, v pvert) int64 {
	if dy := v.y - u.y; dy > 0 || (dy == 0 && v.x < u.x) {
		return 0
	}
	return -1
}

// drawTri draws triangle a, b, c (face f) into rows [y0, y1).
func (fr *frame) drawTri(a, b, c pvert, f int32, y0, y1 int) {
	area := int64(b.y-a.y)*int64(c.x-a.x) - int64(b.x-a.x)*int64(c.y-a.y)
	if area <= 0 {
		return
	}
	x0, x1 := sampleRange(min(a.x, b.x, c.x), max(a.x, b.x, c.x), fr.w)
	ty0, ty1 := sampleRange(min(a.y, b.y, c.y), max(a.y, b.y, c.y), fr.h)
	ty0, ty1 = max(ty0, int32(y0)), min(ty1, int32(y1-1))
	if x0 > x1 || ty0 > ty1 {
		return
	}
	// Edge functions at the first pixel centre: wa is opposite a (edge
	// b→c), and so on; each is area times a's barycentric coordinate.
	px, py := int64(x0)<<subBits+subHalf, int64(ty0)<<subBits+subHalf
	wa, wb, wc := edge(b, c, px, py), edge(c, a, px, py), edge(a, b, px, py)
	// Steps per pixel to the right and down.
	dxa, dxb, dxc := int64(c.y-b.y)<<subBits, int64(a.y-c.y)<<subBits, int64(b.y-a.y)<<subBits
	dya, dyb, dyc := -int64(c.x-b.x)<<subBits, -int64(a.x-c.x)<<subBits, -int64(b.x-a.x)<<subBits

	// Planes of 1/z and light over the screen, from the barycentric
	// coordinates (Giesen, "The barycentric conspiracy").
	inv := 1 / float32(area)
	fa, fb, fc := float32(wa)*inv, float32(wb)*inv, float32(wc)*inv
	z0 := fa*a.z + fb*b.z + fc*c.z
	zdx := (float32(dxa)*a.z + float32(dxb)*b.z + float32(dxc)*c.z) * inv
	zdy := (float32(dya)*a.z + float32(dyb)*b.z + float32(dyc)*c.z) * inv
	lut := fr.shades[0]
	if fr.fshade != nil {
		lut = fr.shades[fr.fshade[f]]
	}
	var i0, idx, idy float32
	col := uint32(0)
	if fr.smooth {
		i0 = fa*a.i + fb*b.i + fc*c.i
		idx = (float32(dxa)*a.i + float32(dxb)*b.i + float32(dxc)*c.i) * inv
		idy = (float32(dya)*a.i + float32(dyb)*b.i + float32(dyc)*c.i) * inv
	} else {
		col = lut[uint8(intensity(fr.fnrm[f], fr.lk, fr.lf))]
	}

	wa += topLeftBias(b, c)
	wb += topLeftBias(c, a)
	wc += topLeftBias(a, b)
	n := int(x1-x0) + 1
	smooth, zbuf, pix, w, stride := fr.smooth, fr.zbuf, fr.pix, fr.w, fr.stride
	for y := int(ty0); y <= int(ty1); y++ {
		ea, eb, ec := wa, wb, wc
		dy := float32(y - int(ty0))
		z := z0 + zdy*dy
		zrow := zbuf[y*w+int(x0) : y*w+int(x0)+n]
		prow := pix[y*stride+4*int(x0) : y*stride+4*(int(x0)+n)]
		if smooth {
			li := i0 + idy*dy
			for x := range zrow {
				if ea|eb|ec >= 0 && z > zrow[x] {
					zrow[x] = z
					binary.LittleEndian.PutUint32(prow[4*x:4*x+4], lut[uint8(max(0, min(li, 255)))])
				}
				ea += dxa
				eb += dxb
				ec += dxc
				z += zdx
				li += idx
			}
		} else {
			for x := range zrow {
				if ea|eb|ec >= 0 && z > zrow[x] {
					zrow[x] = z
					binary.LittleEndian.PutUint32(prow[4*x:4*x+4], col)
				}
				ea += dxa
				eb += dxb
				ec += dxc
				z += zdx
			}
		}
		wa += dya
		wb += dyb
		wc += dyc
	}
}

// drawPoint draws point p (index i) as a square into rows [y0, y1).
func (fr *frame) drawPoint(p pvert, i int32, y0, y1 int) {
	s := fr.pointSize
	px0, py0 := int(p.x>>subBits)-(s-1)/2, int(p.y>>subBits)-(s-1)/2
	px1, py1 := min(px0+s, fr.w), min(py0+s, y1)
	px0, py0 = max(px0, 0), max(py0, y0)
	z := p.z * (1 + pointBias)
	c := fr.cloudColor[i]
	for y := py0; y < py1; y++ {
		for x := px0; x < px1; x++ {
			if o := y*fr.w + x; z > fr.zbuf[o] {
				fr.zbuf[o] = z
				binary.LittleEndian.PutUint32(fr.pix[y*fr.stride+4*x:], c)
			}
		}
	}
}

// cvert is a vertex in camera coordinates, for the clipper: a vertex of
// the mesh (v ≥ 0) or a new one on a clipping plane (v = −1).
type cvert struct {
	x, y, z, i float64
	v          int32
}

// maxClipVerts is the most vertices a triangle clipped by five planes can
// have: each plane adds at most one.
const maxClipVerts = 3 + 5

// drawClipped clips face f of md against the near plane and the guard band
// in camera coordinates, and draws what is left into rows [y0, y1).
func (fr *frame) drawClipped(md *model, t *xform, f int32, y0, y1 int) {
	var buf [2][maxClipVerts]cvert
	poly := buf[0][:0]
	for _, v := range md.faces[f] {
		p := md.pos[v]
		c := cvert{
			v: v,
			x: float64(t.m[0]*p[0] + t.m[1]*p[1] + t.m[2]*p[2] + t.o[0]),
			y: float64(t.m[3]*p[0] + t.m[4]*p[1] + t.m[5]*p[2] + t.o[1]),
			z: float64(t.m[6]*p[0] + t.m[7]*p[1] + t.m[8]*p[2] + t.o[2]),
		}
		if !finite(c.x) || !finite(c.y) || !finite(c.z) {
			return
		}
		if fr.smooth {
			c.i = float64(intensity(md.vnrm[v], fr.lk, fr.lf))
		}
		poly = append(poly, c)
	}
	// Planes a·(x, y, z) + d ≥ 0 inside. With s = c + f·x/z and z > 0 (after
	// the near plane), sx ≥ −g is c·z + f·x + g·z ≥ 0, and so on.
	g := float64(guardPx)
	fo, w, h := fr.focal, float64(fr.w), float64(fr.h)
	planes := [5][4]float64{
		{0, 0, 1, -fr.near},        // z ≥ near
		{fo, 0, fr.cx + g, 0},      // sx ≥ −g
		{-fo, 0, w + g - fr.cx, 0}, // sx ≤ w + g
		{0, -fo, fr.cy + g, 0},     // sy ≥ −g
		{0, fo, h + g - fr.cy, 0},  // sy ≤ h + g
	}
	for k, pl := range planes {
		poly = clipPoly(buf[(k+1)%2][:0], poly, pl)
		if len(poly) < 3 {
			return
		}
	}
	var pv [maxClipVerts]pvert
	for k, c := range poly {
		// A vertex of the mesh inside every plane keeps its projection, so
		// that the edges it shares with unclipped triangles match exactly.
		if c.v >= 0 && fr.verts[c.v].x != clipX {
			pv[k] = fr.verts[c.v]
			continue
		}
		inv := 1 / c.z
		pv[k] = pvert{
			x: int32(fr.cx*subOne + 0.5 + fo*subOne*c.x*inv),
			y: int32(fr.cy*subOne + 0.5 - fo*subOne*c.y*inv),
			z: float32(inv),
			i: float32(c.i),
		}
	}
	for k := 2; k < len(poly); k++ {
		fr.drawTri(pv[0], pv[k-1], pv[k], f, y0, y1)
	}
}

// clipPoly appends to dst the part of convex polygon src where
// pl[0]·x + pl[1]·y + pl[2]·z + pl[3] ≥ 0, and returns it.
func clipPoly(dst, src []cvert, pl [4]float64) []cvert {
	dist := func(c cvert) float64 { return pl[0]*c.x + pl[1]*c.y + pl[2]*c.z + pl[3] }
	for k, cur := range src {
		prev := src[(k+len(src)-1)%len(src)]
		dp, dc := dist(prev), dist(cur)
		if (dp >= 0) != (dc >= 0) {
			t := dp / (dp - dc)
			dst = append(dst, cvert{
				x: prev.x + t*(cur.x-prev.x),
				y: prev.y + t*(cur.y-prev.y),
				z: prev.z + t*(cur.z-prev.z),
				i: prev.i + t*(cur.i-prev.i),
				v: -1,
			})
		}
		if dc >= 0 {
			dst = append(dst, cur)
		}
	}
	return dst
}

// buildBackground fills the background rows for an image h pixels high.
func (r *Renderer) buildBackground(h int) {
	if r.bgDark != r.Dark || len(r.bg) != h {
		top, bottom := lightTop, lightBottom
		if r.Dark {
			top, bottom = darkTop, darkBottom
		}
		r.bg = grow(r.bg, h)
		for y := range h {
			t := (float64(y) + 0.5) / float64(h)
			var c [3]uint8
			for j := range c {
				c[j] = uint8(math.Round(top[j] + t*(bottom[j]-top[j])))
			}
			r.bg[y] = pack(c[0], c[1], c[2])
		}
	}
	r.bgDark = r.Dark
}

// fromSRGB and toSRGB convert between sRGB and linear values in [0, 1]
// (IEC 61966-2-1).
func fromSRGB(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

func toSRGB(v float64) uint8 {
	if v <= 0.0031308 {
		v *= 12.92
	} else {
		v = 1.055*math.Pow(v, 1/2.4) - 0.055
	}
	return uint8(math.Round(255 * max(0, min(1, v))))
}

func normalized(x, y, z float64) [3]float64 {
	l := math.Sqrt(x*x + y*y + z*z)
	return [3]float64{x / l, y / l, z / l}
}

// parallel runs fn(0) … fn(n−1) on n goroutines and waits for them.
func parallel(n int, fn func(k int)) {
	if n <= 1 {
		fn(0)
		return
	}
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() { fn(k) })
	}
	wg.Wait()
}

// split returns the k-th of n nearly equal parts of [0, total).
func split(total, n, k int) (lo, hi int) {
	return total * k / n, total * (k + 1) / n
}

// grow returns s with length n, reallocated only when too small.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// growBins returns bins with length n, keeping the slices it has.
func growBins(bins [][]int32, n int) [][]int32 {
	if cap(bins) < n {
		nb := make([][]int32, n)
		copy(nb, bins)
		return nb
	}
	return bins[:n]
}
