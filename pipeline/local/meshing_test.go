package local

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/colmap"
)

// lookAt returns a registered image at eye looking at target, +z up.
func lookAt(eye, target r3.Vec) *colmap.Image {
	f := r3.Unit(r3.Sub(target, eye))
	right := r3.Unit(r3.Cross(f, r3.Vec{Z: 1}))
	down := r3.Cross(f, right)
	// Rows of R are the camera axes in world coordinates: x right, y down, z forward.
	r := [9]float64{right.X, right.Y, right.Z, down.X, down.Y, down.Z, f.X, f.Y, f.Z}
	q := quaternionOf(r)
	c := &colmap.Image{Q: q}
	// T = −R·eye
	c.T = r3.Vec{X: -r3.Dot(right, eye), Y: -r3.Dot(down, eye), Z: -r3.Dot(f, eye)}
	return c
}

// quaternionOf converts a rotation matrix to (w, x, y, z) (Shepperd's
// method, for matrices with a positive trace or not).
func quaternionOf(m [9]float64) [4]float64 {
	tr := m[0] + m[4] + m[8]
	switch {
	case tr > 0:
		s := math.Sqrt(tr+1) * 2
		return [4]float64{s / 4, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s}
	case m[0] > m[4] && m[0] > m[8]:
		s := math.Sqrt(1+m[0]-m[4]-m[8]) * 2
		return [4]float64{(m[7] - m[5]) / s, s / 4, (m[1] + m[3]) / s, (m[2] + m[6]) / s}
	case m[4] > m[8]:
		s := math.Sqrt(1+m[4]-m[0]-m[8]) * 2
		return [4]float64{(m[2] - m[6]) / s, (m[1] + m[3]) / s, s / 4, (m[5] + m[7]) / s}
	default:
		s := math.Sqrt(1+m[8]-m[0]-m[4]) * 2
		return [4]float64{(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, s / 4}
	}
}

// TestFocus: photos taken all around a point, looking at it, meet there;
// the region kept is 0.6 of their distance; photos all looking one way
// have no focus.
func TestFocus(t *testing.T) {
	target := r3.Vec{X: 10, Y: -5, Z: 3}
	m := &colmap.Model{}
	for i := range 12 {
		a := 2 * math.Pi * float64(i) / 12
		eye := r3.Add(target, r3.Vec{X: 300 * math.Cos(a), Y: 300 * math.Sin(a), Z: 150 + 20*float64(i%2)})
		im := lookAt(eye, target)
		if c := im.Center(); r3.Norm(r3.Sub(c, eye)) > 1e-9 {
			t.Fatalf("test camera centre %v, want %v", c, eye)
		}
		m.Images = append(m.Images, im)
	}
	c, r, ok := focus(m)
	if !ok || r3.Norm(r3.Sub(c, target)) > 1e-6 {
		t.Fatalf("focus = %v, %v, want %v", c, ok, target)
	}
	if want := focusShare * math.Hypot(300, 160); math.Abs(r-want) > 0.06*want {
		t.Errorf("radius %.1f, want about %.1f", r, want)
	}
	// All looking along +x from a line: no single point.
	par := &colmap.Model{}
	for i := range 5 {
		eye := r3.Vec{Y: float64(i) * 10}
		par.Images = append(par.Images, lookAt(eye, r3.Add(eye, r3.Vec{X: 1})))
	}
	if _, _, ok := focus(par); ok {
		t.Error("parallel photos have a focus")
	}
	if _, _, ok := focus(&colmap.Model{Images: m.Images[:1]}); ok {
		t.Error("one photo has a focus")
	}
}
