package meshview

import (
	"image"
	"image/color"
	"math"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

// benchRenderer returns a Renderer showing m, the benchmark's torus, from
// above at 40° and close enough that it spans about 85 % of an 800×600
// image's width and 95 % of its height.
func benchRenderer(m *geom.Mesh) *Renderer {
	r := NewRenderer()
	r.SetMesh(m)
	r.Reset()
	r.Camera.Pitch = 40 * math.Pi / 180
	r.Camera.Distance = 4
	return r
}

// BenchmarkRender1M draws a closed mesh of 1,000,000 triangles (a bumpy
// torus, 500,000 vertices) at 800×600, grey and in five colours.
func BenchmarkRender1M(b *testing.B) {
	m := torus(1000, 500)
	colors := benchColors(m)
	for _, bc := range []struct {
		name    string
		shading Shading
		colors  []color.NRGBA
	}{{"smooth", Smooth, nil}, {"flat", Flat, nil}, {"smooth-colors", Smooth, colors}, {"flat-colors", Flat, colors}} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRenderer(m)
			r.SetMeshColors(m, bc.colors)
			r.Shading = bc.shading
			img := image.NewRGBA(image.Rect(0, 0, 800, 600))
			r.Render(img) // size the scratch buffers
			b.ReportAllocs()
			for b.Loop() {
				r.Render(img)
			}
		})
	}
}

// BenchmarkSetMesh1M prepares the same mesh: normals, creases, positions.
func BenchmarkSetMesh1M(b *testing.B) {
	m := torus(1000, 500)
	r := NewRenderer()
	for b.Loop() {
		r.SetMesh(m)
	}
}

// BenchmarkSetMeshColors1M prepares the same mesh in five colours.
func BenchmarkSetMeshColors1M(b *testing.B) {
	m := torus(1000, 500)
	colors := benchColors(m)
	r := NewRenderer()
	for b.Loop() {
		r.SetMeshColors(m, colors)
	}
}

// benchColors colours m's faces in bands of five colours, as the faces
// of a solid come: a run of triangles per face.
func benchColors(m *geom.Mesh) []color.NRGBA {
	five := []color.NRGBA{{R: 86, G: 180, B: 233, A: 255}, {R: 230, G: 159, A: 255}, {G: 158, B: 115, A: 255}, {R: 204, G: 121, B: 167, A: 255}, modelColor}
	colors := make([]color.NRGBA, len(m.Faces))
	for i := range colors {
		colors[i] = five[i/1000%len(five)]
	}
	return colors
}

// torus3M is the closed mesh of the 3M benchmarks: a bumpy torus of
// 3,000,000 triangles on 1,500,000 vertices, above ProxyMinTriangles.
func torus3M() *geom.Mesh { return torus(2000, 750) }

// BenchmarkRender3MMoving draws a mesh of 3,000,000 triangles at 800×600
// as the View does while the user moves the view, from the proxy, and as
// it does when the view is still, in full, for the ratio.
func BenchmarkRender3MMoving(b *testing.B) {
	r := benchRenderer(torus3M())
	if r.proxy == nil {
		b.Fatal("no proxy")
	}
	b.Logf("proxy of %d triangles", len(r.proxy.faces))
	benchProxyAndFull(b, r)
}

// BenchmarkProxyBuild3M makes the proxy of the same mesh: decimation to
// about ProxyTriangles and the proxy's normals and creases. SetMesh runs it
// on a second goroutine beside the preparation of the full mesh, which
// takes about as long (BenchmarkSetMesh3M).
func BenchmarkProxyBuild3M(b *testing.B) {
	m := torus3M()
	for b.Loop() {
		if newProxy(m, nil, ProxyTriangles) == nil {
			b.Fatal("no proxy")
		}
	}
}

// BenchmarkSetMesh3M prepares the same mesh and its proxy, as SetMesh does.
func BenchmarkSetMesh3M(b *testing.B) {
	m := torus3M()
	r := NewRenderer()
	for b.Loop() {
		r.SetMesh(m)
	}
}

// BenchmarkRenderCloud2MMoving draws a cloud of 2,000,000 points (the
// vertices of a bumpy torus) at 800×600, from its proxy and in full.
func BenchmarkRenderCloud2MMoving(b *testing.B) {
	r := benchRenderer(nil)
	r.SetCloud(&geom.PointCloud{Points: torus(2000, 1000).Vertices})
	if r.cloudProxy == nil {
		b.Fatal("no proxy")
	}
	b.Logf("proxy of %d points", len(r.cloudProxy.pos))
	benchProxyAndFull(b, r)
}

// benchProxyAndFull times r's frames at 800×600 from the proxy and in full.
func benchProxyAndFull(b *testing.B, r *Renderer) {
	for _, bc := range []struct {
		name  string
		proxy bool
	}{{"proxy", true}, {"full", false}} {
		b.Run(bc.name, func(b *testing.B) {
			r.Proxy = bc.proxy
			img := image.NewRGBA(image.Rect(0, 0, 800, 600))
			r.Render(img)
			b.ReportAllocs()
			for b.Loop() {
				r.Render(img)
			}
		})
	}
}
