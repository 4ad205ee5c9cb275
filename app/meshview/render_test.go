package meshview

import (
	"encoding/binary"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

var pngDir = flag.String("png", "", "write preview PNGs of the test shapes into this folder")

// frontCamera looks along +Y at the origin from distance d, +X to the
// right and +Z up, with a 40° field of view.
func frontCamera(d float64) Camera {
	return Camera{Yaw: -math.Pi / 2, Distance: d, FOV: 40 * math.Pi / 180}
}

// coverage returns which pixels the last Render drew, from the depth
// buffer, and the bounding rectangle of them.
func coverage(r *Renderer, w, h int) ([]bool, image.Rectangle) {
	mask := make([]bool, w*h)
	var bb image.Rectangle
	for i, z := range r.zbuf[:w*h] {
		if z > 0 {
			mask[i] = true
			bb = bb.Union(image.Rect(i%w, i/w, i%w+1, i/w+1))
		}
	}
	return mask, bb
}

func pixel(img *image.RGBA, x, y int) uint32 {
	return binary.LittleEndian.Uint32(img.Pix[img.PixOffset(x, y):])
}

func TestCubeHeadOn(t *testing.T) {
	r := NewRenderer()
	r.SetMesh(box(geom.Vec{X: -0.5, Y: -0.5, Z: -0.5}, geom.Vec{X: 0.5, Y: 0.5, Z: 0.5}))
	r.Camera = frontCamera(4)
	const w, h = 200, 160
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Render(img)

	// The front face, at depth 3.5, spans ±f·0.5/3.5 pixels about the
	// centre; the pixels drawn are those whose centres fall inside.
	f := float64(h) / 2 / math.Tan(20*math.Pi/180)
	half := f * 0.5 / 3.5
	want := image.Rect(
		int(math.Ceil(w/2-half-0.5)), int(math.Ceil(h/2-half-0.5)),
		int(math.Floor(w/2+half-0.5))+1, int(math.Floor(h/2+half-0.5))+1)
	mask, got := coverage(r, w, h)
	if d := 1; abs(got.Min.X-want.Min.X) > d || abs(got.Min.Y-want.Min.Y) > d ||
		abs(got.Max.X-want.Max.X) > d || abs(got.Max.Y-want.Max.Y) > d {
		t.Errorf("cube covers %v, want %v within 1 px", got, want)
	}
	n := 0
	for _, m := range mask {
		if m {
			n++
		}
	}
	if n != got.Dx()*got.Dy() {
		t.Errorf("cube covers %d pixels, want the full rectangle %v (%d)", n, got, got.Dx()*got.Dy())
	}
	// Depth at the centre is 1/3.5; the colour is the model's, not the
	// background's.
	if z := r.zbuf[h/2*w+w/2]; math.Abs(float64(z)-1/3.5) > 1e-5 {
		t.Errorf("depth at centre = %v, want %v", z, 1/3.5)
	}
	if c := pixel(img, w/2, h/2); c == r.bg[h/2] {
		t.Errorf("centre pixel is the background %#x", c)
	}
	if c := pixel(img, 2, 2); c != r.bg[2] {
		t.Errorf("corner pixel = %#x, want the background %#x", c, r.bg[2])
	}
}

// square returns a square of half-side s in the plane y = y0, facing −Y
// (towards frontCamera).
func square(s, y0 float64) *geom.Mesh {
	return &geom.Mesh{
		Vertices: []geom.Vec{{X: -s, Y: y0, Z: -s}, {X: s, Y: y0, Z: -s}, {X: s, Y: y0, Z: s}, {X: -s, Y: y0, Z: s}},
		Faces:    [][3]int32{{0, 1, 2}, {0, 2, 3}},
	}
}

func TestDepth(t *testing.T) {
	near, far := square(0.5, -1), square(1, 1)
	const w, h = 120, 100
	var imgs [2]*image.RGBA
	for i, m := range []*geom.Mesh{geom.Join(near, far), geom.Join(far, near)} {
		r := NewRenderer()
		r.SetMesh(m)
		r.Camera = frontCamera(4)
		imgs[i] = image.NewRGBA(image.Rect(0, 0, w, h))
		r.Render(imgs[i])
		if z := r.zbuf[h/2*w+w/2]; math.Abs(float64(z)-1.0/3) > 1e-5 {
			t.Errorf("order %d: depth at centre = %v, want the near square's %v", i, z, 1.0/3)
		}
		// The near square reaches f·0.5/3 ≈ 22.9 px from the centre, the far
		// one f·1/5 ≈ 27.5 px: 25 px off centre only the far square shows.
		if z := r.zbuf[h/2*w+w/2+25]; math.Abs(float64(z)-1.0/5) > 1e-5 {
			t.Errorf("order %d: depth beside the near square = %v, want the far square's %v", i, z, 1.0/5)
		}
	}
	if string(imgs[0].Pix) != string(imgs[1].Pix) {
		t.Error("drawing order changes the image")
	}
}

func TestBackFaceCulled(t *testing.T) {
	front := &geom.Mesh{
		Vertices: []geom.Vec{{X: -1, Z: -1}, {X: 1, Z: -1}, {Z: 1}},
		Faces:    [][3]int32{{0, 1, 2}},
	}
	back := &geom.Mesh{Vertices: front.Vertices, Faces: [][3]int32{{0, 2, 1}}}
	for _, tc := range []struct {
		name string
		m    *geom.Mesh
		want bool
	}{{"front", front, true}, {"back", back, false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRenderer()
			r.SetMesh(tc.m)
			r.Camera = frontCamera(4)
			img := image.NewRGBA(image.Rect(0, 0, 64, 48))
			r.Render(img)
			_, bb := coverage(r, 64, 48)
			if got := !bb.Empty(); got != tc.want {
				t.Errorf("drew %v, want drawn = %v", bb, tc.want)
			}
		})
	}
}

func TestPoints(t *testing.T) {
	red := color.NRGBA{R: 255, A: 255}
	green := color.NRGBA{G: 255, A: 255}
	pc := &geom.PointCloud{
		Points: []geom.Vec{{}, {X: 0.5, Y: 2}, {X: -0.5, Y: -2}},
		Colors: []color.NRGBA{red, green, green},
	}
	// A square at y = 1 hides the point behind it (x = 0.5, y = 2) but not
	// the one in front (x = −0.5, y = −2) nor the one at the origin.
	wall := &geom.Mesh{
		Vertices: []geom.Vec{{X: 0.2, Y: 1, Z: -1}, {X: 2, Y: 1, Z: -1}, {X: 2, Y: 1, Z: 1}, {X: 0.2, Y: 1, Z: 1}},
		Faces:    [][3]int32{{0, 1, 2}, {0, 2, 3}},
	}
	r := NewRenderer()
	r.SetCloud(pc)
	r.SetMesh(wall)
	r.Camera = frontCamera(4)
	r.PointSize = 3
	const w, h = 101, 81
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Render(img)
	count := func(c color.NRGBA) int {
		n := 0
		want := pack(c.R, c.G, c.B)
		for y := range h {
			for x := range w {
				if pixel(img, x, y) == want {
					n++
				}
			}
		}
		return n
	}
	if n := count(red); n != 9 {
		t.Errorf("%d red pixels, want a 3×3 square", n)
	}
	if c := pixel(img, w/2, h/2); c != pack(255, 0, 0) {
		t.Errorf("centre = %#x, want red", c)
	}
	if n := count(green); n != 9 {
		t.Errorf("%d green pixels, want one 3×3 square (the other point is hidden)", n)
	}
}

func TestEmpty(t *testing.T) {
	for _, dark := range []bool{false, true} {
		r := NewRenderer()
		r.Dark = dark
		r.SetMesh(nil)
		r.SetCloud(&geom.PointCloud{})
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		r.Render(img)
		for y := range 30 {
			for x := range 40 {
				if c := pixel(img, x, y); c != r.bg[y] {
					t.Fatalf("dark=%v: pixel (%d, %d) = %#x, want background %#x", dark, x, y, c, r.bg[y])
				}
			}
		}
		if b := r.Bounds(); !b.Empty() {
			t.Errorf("Bounds() = %v, want empty", b)
		}
	}
	var zero Renderer
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	zero.Render(img) // must not panic
	if c := pixel(img, 4, 4); c != zero.bg[4] {
		t.Errorf("zero Renderer drew %#x, want background", c)
	}
}

func TestResize(t *testing.T) {
	r := NewRenderer()
	r.SetMesh(box(geom.Vec{X: -0.5, Y: -0.5, Z: -0.5}, geom.Vec{X: 0.5, Y: 0.5, Z: 0.5}))
	r.Camera = frontCamera(4)
	for _, s := range []image.Point{{100, 80}, {300, 200}, {50, 40}, {1, 1}, {7, 300}} {
		img := image.NewRGBA(image.Rectangle{Max: s})
		r.Render(img)
		if len(r.zbuf) != s.X*s.Y {
			t.Errorf("%v: depth buffer of %d, want %d", s, len(r.zbuf), s.X*s.Y)
		}
		if r.zbuf[s.Y/2*s.X+s.X/2] == 0 {
			t.Errorf("%v: centre not drawn", s)
		}
	}
	// A sub-image draws into its own rectangle only.
	big := image.NewRGBA(image.Rect(0, 0, 60, 60))
	sub := big.SubImage(image.Rect(20, 20, 40, 40)).(*image.RGBA)
	r.Render(sub)
	if c := pixel(big, 5, 5); c != 0 {
		t.Errorf("pixel outside the sub-image = %#x, want untouched", c)
	}
	if c := pixel(big, 30, 30); c == 0 {
		t.Error("sub-image not drawn")
	}
}

func TestDegenerate(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	// Broken faces beside a good one, which must still be drawn.
	broken := &geom.Mesh{
		Vertices: []geom.Vec{
			{X: -1, Z: -1}, {X: 1, Z: -1}, {Z: 1}, // 0–2: a good triangle
			{X: nan}, {Y: inf}, {Z: -inf}, // 3–5: not finite
			{Y: -10}, {Y: -4}, {Y: -4.0001}, // 6–8: behind and at the eye
		},
		Faces: [][3]int32{
			{0, 1, 2},
			{0, 1, 3}, {3, 4, 5}, {0, 4, 2},
			{0, 0, 0}, {0, 1, 1}, {6, 6, 7}, // no area
			{6, 7, 8}, {0, 1, 6}, {6, 7, 2}, {8, 1, 2},
			{-1, 0, 1}, {0, 1, 9}, {math.MaxInt32, 0, 1}, // out of range
		},
	}
	// Coordinates that overflow single precision.
	huge := &geom.Mesh{
		Vertices: []geom.Vec{
			{X: -1, Z: -1}, {X: 1, Z: -1}, {Z: 1},
			{X: 1e30, Z: 1e30}, {X: -1e38, Y: 1e38}, {X: 3e38, Z: -3e38}, {Y: -1.7e308},
		},
		Faces: [][3]int32{{0, 1, 2}, {0, 1, 3}, {3, 4, 5}, {0, 4, 5}, {4, 5, 6}, {0, 6, 2}},
	}
	cams := []Camera{
		frontCamera(4),
		{Yaw: nan, Distance: 4},
		{Distance: 0},
		{Distance: inf},
		{Distance: 1e-300},
		{Distance: 1e300},
		{Target: geom.Vec{X: nan}, Distance: 1},
		{Yaw: -math.Pi / 2, Pitch: math.Pi / 2, Distance: 4},
		{Distance: 4, FOV: -1},
		{Distance: 4, FOV: math.Pi},
	}
	for _, m := range []*geom.Mesh{broken, huge} {
		for i, cam := range cams {
			for _, s := range []Shading{Smooth, Flat} {
				r := NewRenderer()
				r.SetMesh(m)
				r.SetCloud(&geom.PointCloud{Points: m.Vertices})
				r.Camera, r.Shading = cam, s
				r.Render(image.NewRGBA(image.Rect(0, 0, 64, 48)))
				if m == broken && i == 0 {
					_, bb := coverage(r, 64, 48)
					if bb.Empty() {
						t.Errorf("shading %d: the good triangle was not drawn", s)
					}
				}
			}
		}
	}
	// Bounds leave out the non-finite vertices.
	r := NewRenderer()
	r.SetMesh(&geom.Mesh{Vertices: []geom.Vec{{X: nan}, {X: 1}, {X: -1, Y: inf}, {Y: 2}}})
	if b, want := r.Bounds(), (geom.Box{Max: geom.Vec{X: 1, Y: 2}}); b != want {
		t.Errorf("Bounds() = %v, want %v", b, want)
	}
}

func TestNearClip(t *testing.T) {
	const w, h = 200, 200
	t.Run("floor", func(t *testing.T) {
		// A floor at z = −1 through the eye's position: its near corner is
		// behind the camera, so it is clipped, and it shows below the
		// horizon.
		r := NewRenderer()
		r.SetMesh(&geom.Mesh{
			Vertices: []geom.Vec{{X: -50, Y: -10, Z: -1}, {X: 50, Y: -10, Z: -1}, {Y: 60, Z: -1}},
			Faces:    [][3]int32{{0, 1, 2}},
		})
		r.Camera = frontCamera(4)
		r.Render(image.NewRGBA(image.Rect(0, 0, w, h)))
		// The far corner (depth 64) is at y = h/2 + f/64 ≈ 104.3.
		for y := range h {
			got := r.zbuf[y*w+w/2] > 0
			if want := y >= 105; got != want && y != 104 {
				t.Errorf("row %d drawn = %v, want %v", y, got, want)
			}
		}
	})
	t.Run("huge", func(t *testing.T) {
		// A wall far beyond the guard band on every side covers the image.
		r := NewRenderer()
		r.SetMesh(square(1e4, 0))
		r.Camera = frontCamera(4)
		r.Render(image.NewRGBA(image.Rect(0, 0, w, h)))
		for i, z := range r.zbuf {
			if math.Abs(float64(z)-0.25) > 1e-4 {
				t.Fatalf("pixel (%d, %d) depth %v, want 0.25", i%w, i/w, z)
			}
		}
	})
}

// TestFillRule checks, on the rasteriser itself, that triangles sharing
// edges cover every pixel centre inside them exactly once (Direct3D's
// top-left rule).
func TestFillRule(t *testing.T) {
	const w, h = 48, 40
	newFrame := func() *frame {
		var lut shadeTable
		for i := range lut {
			lut[i] = 0xff000001
		}
		return &frame{w: w, h: h, pix: make([]uint8, 4*w*h), stride: 4 * w, zbuf: make([]float32, w*h),
			shades: []*shadeTable{&lut}, fnrm: make([]vec3, 1)}
	}
	fx := func(x, y float64) pvert {
		return pvert{x: int32(math.Round(x * subOne)), y: int32(math.Round(y * subOne)), z: 1}
	}
	t.Run("square", func(t *testing.T) {
		// Corners on pixel centres: the top and left edges are in, the
		// right and bottom ones out, and the diagonal belongs to one side.
		a, b, c, d := fx(0.5, 0.5), fx(0.5, 6.5), fx(6.5, 6.5), fx(6.5, 0.5)
		count := make([]int, w*h)
		for _, tri := range [][3]pvert{{a, b, c}, {a, c, d}} {
			fr := newFrame()
			fr.drawTri(tri[0], tri[1], tri[2], 0, 0, h)
			for i, z := range fr.zbuf {
				if z > 0 {
					count[i]++
				}
			}
		}
		for y := range h {
			for x := range w {
				want := 0
				if x < 6 && y < 6 {
					want = 1
				}
				if got := count[y*w+x]; got != want {
					t.Errorf("pixel (%d, %d) drawn %d times, want %d", x, y, got, want)
				}
			}
		}
	})
	t.Run("fan", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 1))
		for range 50 {
			// A star-shaped polygon about a random centre, as a fan.
			cx, cy := 20+4*rng.Float64(), 16+4*rng.Float64()
			n := 4 + rng.IntN(12) // with 4 or more, no triangle spans π
			ring := make([]pvert, n)
			for k := range ring {
				// Counter-clockwise on the screen (y down) is decreasing
				// angle in the usual maths sense.
				a := -2 * math.Pi * (float64(k) + 0.4*rng.Float64()) / float64(n)
				rad := 3 + 14*rng.Float64()
				ring[k] = fx(cx+rad*math.Cos(a), cy+rad*math.Sin(a))
				if rng.IntN(3) == 0 { // snap some vertices onto pixel centres
					ring[k].x = ring[k].x&^(subOne-1) + subHalf
					ring[k].y = ring[k].y&^(subOne-1) + subHalf
				}
			}
			o := fx(cx, cy)
			count := make([]int, w*h)
			for k := range ring {
				fr := newFrame()
				fr.drawTri(o, ring[k], ring[(k+1)%n], 0, 0, h)
				for i, z := range fr.zbuf {
					if z > 0 {
						count[i]++
					}
				}
			}
			for y := range h {
				for x := range w {
					px, py := int64(x)<<subBits+subHalf, int64(y)<<subBits+subHalf
					// Strictly inside the polygon: inside some fan
					// triangle and strictly inside its outer edge.
					inside := false
					for k := range ring {
						p, q := ring[k], ring[(k+1)%n]
						if edge(o, p, px, py) >= 0 && edge(p, q, px, py) > 0 && edge(q, o, px, py) >= 0 {
							inside = true
						}
					}
					got := count[y*w+x]
					if got > 1 || (inside && got != 1) {
						t.Fatalf("pixel (%d, %d) drawn %d times, inside = %v", x, y, got, inside)
					}
				}
			}
		}
	})
}

func TestCreases(t *testing.T) {
	// Every corner of a box is three creases: 8 vertices become 24.
	md := newModel(box(geom.Vec{}, geom.Vec{X: 1, Y: 1, Z: 1}), nil)
	if got := len(md.pos); got != 24 {
		t.Errorf("box: %d vertices after splitting creases, want 24", got)
	}
	// A fine sphere has none.
	s := sphere(32)
	md = newModel(s, nil)
	if got, want := len(md.pos), len(s.Vertices); got != want {
		t.Errorf("sphere: %d vertices after splitting creases, want %d", got, want)
	}
	for i, n := range md.vnrm {
		p := s.Vertices[i]
		if d := float64(n[0])*p.X + float64(n[1])*p.Y + float64(n[2])*p.Z; d < 0.99 {
			t.Fatalf("sphere vertex %d: normal %v is %v from radial", i, n, math.Acos(d))
		}
	}
}

// TestDeterministic checks that the image does not depend on the number of
// goroutines: bins keep the faces' order, so ties in depth resolve alike.
func TestDeterministic(t *testing.T) {
	m := torus(100, 50)
	var imgs []*image.RGBA
	for _, procs := range []int{1, 3, 8} {
		old := runtime.GOMAXPROCS(procs)
		r := NewRenderer()
		r.SetMesh(m)
		r.SetCloud(&geom.PointCloud{Points: m.Vertices[:500]})
		r.Reset()
		img := image.NewRGBA(image.Rect(0, 0, 160, 120))
		r.Render(img)
		runtime.GOMAXPROCS(old)
		imgs = append(imgs, img)
	}
	for i := 1; i < len(imgs); i++ {
		if string(imgs[i].Pix) != string(imgs[0].Pix) {
			t.Errorf("image %d differs from image 0", i)
		}
	}
}

// TestConcurrentRenderers runs Renderers on one mesh at once, for the race
// detector.
func TestConcurrentRenderers(t *testing.T) {
	m := torus(60, 30)
	pc := &geom.PointCloud{Points: m.Vertices}
	var wg sync.WaitGroup
	for k := range 4 {
		wg.Go(func() {
			r := NewRenderer()
			r.SetMesh(m)
			r.SetCloud(pc)
			r.Reset()
			img := image.NewRGBA(image.Rect(0, 0, 64+k, 48))
			for i := range 5 {
				r.Camera.Orbit(0.3, 0.1)
				r.Shading = Shading(i % 2)
				r.Render(img)
			}
		})
	}
	wg.Wait()
}

// TestPreviewPNG writes the benchmark's torus and a plate with a hole, when
// asked with -png DIR, for a person to look at.
func TestPreviewPNG(t *testing.T) {
	if *pngDir == "" {
		t.Skip("run with -png DIR to write preview images")
	}
	save := func(name string, img image.Image) {
		f, err := os.Create(filepath.Join(*pngDir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
	r := benchRenderer(torus(1000, 500))
	img := image.NewRGBA(image.Rect(0, 0, 800, 600))
	r.Render(img)
	save("meshview-torus.png", img)
	r.Shading = Flat
	r.Dark = true
	r.Render(img)
	save("meshview-torus-flat-dark.png", img)

	r = NewRenderer()
	r.SetMesh(plateWithHole(40, 10, 8, 64))
	r.Reset()
	r.Render(img)
	save("meshview-plate.png", img)
	r.Dark = true
	r.Camera.Orbit(2.2, 0.4)
	// A ring of points around the plate, through its walls.
	ring := torus(60, 12).Vertices
	for i, p := range ring {
		ring[i] = geom.Vec{X: 22 * p.X, Y: 22 * p.Y, Z: 5 + 22*p.Z}
	}
	r.SetCloud(&geom.PointCloud{Points: ring})
	r.PointSize = 4
	r.Render(img)
	save("meshview-plate-dark.png", img)
}

func abs(x int) int { return max(x, -x) }
