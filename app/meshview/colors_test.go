package meshview

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/replica3d/replica/pipeline/geom"
)

var (
	red  = color.NRGBA{R: 220, G: 30, B: 30, A: 255}
	blue = color.NRGBA{R: 30, G: 60, B: 220, A: 255}
)

// rgb unpacks a pixel of img.
func rgb(img *image.RGBA, x, y int) (r, g, b int) {
	c := pixel(img, x, y)
	return int(c & 0xff), int(c >> 8 & 0xff), int(c >> 16 & 0xff)
}

// reddish and bluish report whether a pixel is clearly of that hue.
func reddish(r, g, b int) bool { return r > g+60 && r > b+60 }
func bluish(r, g, b int) bool  { return b > r+60 && b > g+60 }

// greyish reports whether a pixel is the default grey's hue.
func greyish(r, g, b int) bool { return max(r, g, b)-min(r, g, b) <= 12 && r > 40 }

// halves returns the square [−1, 1]² at y = 0 facing frontCamera, its left
// half (x < 0) faces 0 and 1, its right half faces 2 and 3.
func halves() *geom.Mesh {
	return &geom.Mesh{
		Vertices: []geom.Vec{{X: -1, Z: -1}, {Z: -1}, {X: 1, Z: -1}, {X: -1, Z: 1}, {Z: 1}, {X: 1, Z: 1}},
		Faces:    [][3]int32{{0, 1, 4}, {0, 4, 3}, {1, 2, 5}, {1, 5, 4}},
	}
}

// TestMeshColors draws a square whose left half is red and right half
// blue, in both shadings: each half shows its colour, and without colours
// (or past the end of them) the grey.
func TestMeshColors(t *testing.T) {
	const w, h = 120, 100
	for _, tc := range []struct {
		name        string
		colors      []color.NRGBA
		left, right func(r, g, b int) bool
	}{
		{"red and blue", []color.NRGBA{red, red, blue, blue}, reddish, bluish},
		{"nil", nil, greyish, greyish},
		{"short", []color.NRGBA{red, red}, reddish, greyish},
		{"translucent", []color.NRGBA{{R: 255, A: 10}, {R: 255, A: 10}, {B: 255}, {B: 255}}, reddish, bluish},
	} {
		for _, shading := range []Shading{Smooth, Flat} {
			r := NewRenderer()
			r.SetMeshColors(halves(), tc.colors)
			r.Camera = frontCamera(4)
			r.Shading = shading
			img := image.NewRGBA(image.Rect(0, 0, w, h))
			r.Render(img)
			if r, g, b := rgb(img, w/2-10, h/2); !tc.left(r, g, b) {
				t.Errorf("%s, shading %d: left half (%d, %d, %d)", tc.name, shading, r, g, b)
			}
			if r, g, b := rgb(img, w/2+10, h/2); !tc.right(r, g, b) {
				t.Errorf("%s, shading %d: right half (%d, %d, %d)", tc.name, shading, r, g, b)
			}
		}
	}
}

// TestMeshColorsLit checks that colours are lit as the grey is: the faces
// of a box turned different ways to the lights shade differently, in the
// same order as the grey box's, and a pure red stays pure red.
func TestMeshColorsLit(t *testing.T) {
	const w, h = 160, 120
	m := box(geom.Vec{X: -0.5, Y: -0.5, Z: -0.5}, geom.Vec{X: 0.5, Y: 0.5, Z: 0.5})
	pure := make([]color.NRGBA, len(m.Faces))
	for i := range pure {
		pure[i] = color.NRGBA{R: 255, A: 255}
	}
	render := func(colors []color.NRGBA) *image.RGBA {
		r := NewRenderer()
		r.SetMeshColors(m, colors)
		r.Reset() // from above at an angle: three faces show
		r.Shading = Flat
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		r.Render(img)
		return img
	}
	grey, colored := render(nil), render(pure)
	// The projected centres of the top, front (−Y) and right (+X) faces.
	r := NewRenderer()
	r.SetMesh(m)
	r.Reset()
	eye, right, up, fwd := r.Camera.basis()
	f := float64(min(w, h)) / 2 / math.Tan(r.Camera.fov()/2)
	project := func(p geom.Vec) (int, int) {
		d := geom.Vec{X: p.X - eye.X, Y: p.Y - eye.Y, Z: p.Z - eye.Z}
		dot := func(a geom.Vec) float64 { return a.X*d.X + a.Y*d.Y + a.Z*d.Z }
		z := dot(fwd)
		return int(float64(w)/2 + f*dot(right)/z), int(float64(h)/2 - f*dot(up)/z)
	}
	var greys, reds []int
	for _, p := range []geom.Vec{{Z: 0.5}, {Y: -0.5}, {X: 0.5}} {
		x, y := project(p)
		gr, _, _ := rgb(grey, x, y)
		cr, cg, cb := rgb(colored, x, y)
		if cg != 0 || cb != 0 || cr == 0 {
			t.Errorf("face centre %v: red box drew (%d, %d, %d), want pure red", p, cr, cg, cb)
		}
		greys, reds = append(greys, gr), append(reds, cr)
	}
	for i := range greys {
		for j := range greys {
			if (greys[i] < greys[j]) != (reds[i] < reds[j]) {
				t.Errorf("faces %d and %d: grey %d, %d but red %d, %d: not lit alike", i, j, greys[i], greys[j], reds[i], reds[j])
			}
		}
	}
	if reds[0] == reds[1] && reds[1] == reds[2] {
		t.Errorf("all three faces are red %d: no shading", reds[0])
	}
}

// TestMeshColorsSkippedFaces checks that colours follow their faces when
// invalid faces are left out.
func TestMeshColorsSkippedFaces(t *testing.T) {
	m := halves()
	m.Faces = append([][3]int32{{0, 1, 99}}, m.Faces...)
	r := NewRenderer()
	r.SetMeshColors(m, []color.NRGBA{blue, red, red, blue, blue})
	r.Camera = frontCamera(4)
	const w, h = 120, 100
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Render(img)
	if c0, c1, c2 := rgb(img, w/2-10, h/2); !reddish(c0, c1, c2) {
		t.Errorf("left half (%d, %d, %d), want red", c0, c1, c2)
	}
	if c0, c1, c2 := rgb(img, w/2+10, h/2); !bluish(c0, c1, c2) {
		t.Errorf("right half (%d, %d, %d), want blue", c0, c1, c2)
	}
}

// TestMeshColorsMany gives every face of a mesh its own random colour,
// more than maxColors of them: they are rounded to at most maxColors
// shade tables, each face's within the rounding of its colour.
func TestMeshColorsMany(t *testing.T) {
	m := torus(60, 50) // 6,000 faces
	rng := rand.New(rand.NewPCG(1, 1))
	colors := make([]color.NRGBA, len(m.Faces))
	for i := range colors {
		colors[i] = color.NRGBA{R: uint8(rng.IntN(256)), G: uint8(rng.IntN(256)), B: uint8(rng.IntN(256)), A: 255}
	}
	md := newModel(m, colors)
	if n := len(md.shades) - 1; n > maxColors || n < 256 {
		t.Errorf("%d colours kept of %d, want up to %d and not too few", n, len(colors), maxColors)
	}
	worst := 0
	for i, c := range colors {
		full := md.shades[md.fshade[i]][255] // fully lit: the colour itself
		got := [3]int{int(full & 0xff), int(full >> 8 & 0xff), int(full >> 16 & 0xff)}
		for k, v := range [3]uint8{c.R, c.G, c.B} {
			worst = max(worst, abs(got[k]-int(v)))
		}
	}
	if worst > 17 { // 3 bits left per channel: within half of 32, plus rounding
		t.Errorf("a face's colour is off by %d, want within 17", worst)
	}

	// A few colours are kept exactly.
	few := make([]color.NRGBA, len(m.Faces))
	for i := range few {
		few[i] = []color.NRGBA{red, blue, modelColor}[i%3]
	}
	md = newModel(m, few)
	if len(md.shades) != 4 {
		t.Fatalf("%d shade tables for 3 colours, want 4 with the default's", len(md.shades))
	}
	for i, c := range few {
		if got := md.shades[md.fshade[i]][255]; got != pack(c.R, c.G, c.B) {
			t.Fatalf("face %d fully lit is %#x, want %v", i, got, c)
		}
	}
}

// TestMeshColorsProxy checks that the proxy keeps the colours: a torus
// red on the left (x < 0) and blue on the right draws so from its proxy.
func TestMeshColorsProxy(t *testing.T) {
	m := torus(300, 150)
	colors := make([]color.NRGBA, len(m.Faces))
	for i, f := range m.Faces {
		colors[i] = blue
		if m.Vertices[f[0]].X+m.Vertices[f[1]].X+m.Vertices[f[2]].X < 0 {
			colors[i] = red
		}
	}
	r := NewRenderer()
	r.sizes = proxySizes{minTriangles: 50_000, triangles: 10_000}
	r.SetMeshColors(m, colors)
	if r.proxy == nil || r.proxy.fshade == nil {
		t.Fatal("no coloured proxy")
	}
	// Every proxy face is the colour of its side, but for those within a
	// few cells (of about 0.07) of x = 0.
	for i, f := range r.proxy.faces {
		x := float64(r.proxy.pos[f[0]][0]+r.proxy.pos[f[1]][0]+r.proxy.pos[f[2]][0])/3 + r.proxy.origin.X
		if math.Abs(x) < 0.2 {
			continue
		}
		want := blue
		if x < 0 {
			want = red
		}
		if got := r.proxy.shades[r.proxy.fshade[i]][255]; got != pack(want.R, want.G, want.B) {
			t.Fatalf("proxy face %d at x = %.3f is %#x, want %v", i, x, got, want)
		}
	}
	r.Reset()
	r.Camera.Yaw, r.Camera.Pitch = -math.Pi/2, MaxPitch // from above, +X to the right
	r.Proxy = true
	const w, h = 200, 150
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r.Render(img)
	left, right := 0, 0
	for y := range h {
		for x := range w {
			c0, c1, c2 := rgb(img, x, y)
			if x < w/2-5 && reddish(c0, c1, c2) {
				left++
			}
			if x > w/2+5 && bluish(c0, c1, c2) {
				right++
			}
		}
	}
	if left < w*h/20 || right < w*h/20 {
		t.Errorf("proxy frame: %d red pixels on the left, %d blue on the right; want many of each", left, right)
	}
}

// TestViewMeshColors shows a red plate in the View: its frame is red.
func TestViewMeshColors(t *testing.T) {
	test.NewTempApp(t)
	v := New()
	w := test.NewTempWindow(t, v)
	w.SetPadded(false)
	w.Resize(fyne.NewSize(320, 240))
	m := plateWithHole(40, 10, 8, 64)
	colors := make([]color.NRGBA, len(m.Faces))
	for i := range colors {
		colors[i] = red
	}
	v.SetMeshColors(m, colors)
	w.Canvas().Capture() // the raster asks for its size
	v.wait()
	img := w.Canvas().Capture()
	n := 0
	for y := range 240 {
		for x := range 320 {
			c0, c1, c2, _ := img.At(x, y).RGBA()
			if reddish(int(c0>>8), int(c1>>8), int(c2>>8)) {
				n++
			}
		}
	}
	if n < 320*240/10 {
		t.Errorf("only %d red pixels", n)
	}
	// Back to the grey.
	v.SetMesh(m)
	v.wait()
	img = w.Canvas().Capture()
	for y := range 240 {
		for x := range 320 {
			c0, c1, c2, _ := img.At(x, y).RGBA()
			if reddish(int(c0>>8), int(c1>>8), int(c2>>8)) {
				t.Fatalf("pixel (%d, %d) still red after SetMesh", x, y)
			}
		}
	}
}
