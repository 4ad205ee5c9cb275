package meshview

import (
	"image"
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
// torus, 500,000 vertices) at 800×600.
func BenchmarkRender1M(b *testing.B) {
	m := torus(1000, 500)
	for _, bc := range []struct {
		name    string
		shading Shading
	}{{"smooth", Smooth}, {"flat", Flat}} {
		b.Run(bc.name, func(b *testing.B) {
			r := benchRenderer(m)
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
