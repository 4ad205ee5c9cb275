package holes

import (
	"context"
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mvs"
)

// camera is a view with what the checks need of it: its centre and a depth
// buffer of the part as seen from it.
type camera struct {
	v      *mvs.View
	centre r3.Vec
	// depth is the part's nearest depth per pixel of a grid zoom times
	// coarser than the photo (+Inf where the part is not seen).
	depth      []float32
	dw, dh     int
	zoom       float64
	pixelAngle float64 // radians a photo pixel spans, about
}

// project returns the pixel position and depth of world point x.
func (c *camera) project(x r3.Vec) (u, w, z float64) {
	r, t := &c.v.R, &c.v.T
	cx := r[0]*x.X + r[1]*x.Y + r[2]*x.Z + t[0]
	cy := r[3]*x.X + r[4]*x.Y + r[5]*x.Z + t[1]
	cz := r[6]*x.X + r[7]*x.Y + r[8]*x.Z + t[2]
	return c.v.K[0]*cx/cz + c.v.K[2], c.v.K[1]*cy/cz + c.v.K[3], cz
}

// sample returns the photo's grey value at pixel position (u, w), by
// bilinear interpolation, and false outside the photo.
func (c *camera) sample(u, w float64) (float64, bool) {
	x, y := u-0.5, w-0.5
	x0, y0 := math.Floor(x), math.Floor(y)
	if !(x0 >= 0 && y0 >= 0 && x0 < float64(c.v.W-1) && y0 < float64(c.v.H-1)) {
		return 0, false
	}
	a, b := float32(x-x0), float32(y-y0)
	i := int(y0)*c.v.W + int(x0)
	g := c.v.Gray
	top := g[i] + a*(g[i+1]-g[i])
	bot := g[i+c.v.W] + a*(g[i+c.v.W+1]-g[i+c.v.W])
	return float64(top + b*(bot-top)), true
}

// visible reports whether world point x, on or in front of the part's
// surface, is seen by the camera: in the photo, in front of it and not
// behind the part. slack is the depth margin in world units.
func (c *camera) visible(x r3.Vec, slack float64) bool {
	u, w, z := c.project(x)
	if !(z > 0) || u < 1 || w < 1 || u > float64(c.v.W-1) || w > float64(c.v.H-1) {
		return false
	}
	i, j := int(u/c.zoom), int(w/c.zoom)
	if i >= c.dw || j >= c.dh {
		return false
	}
	return z <= float64(c.depth[j*c.dw+i])+slack
}

// newCamera makes the camera of view v with the depth buffer of mesh m at
// 1/zoom of the photo's resolution.
func newCamera(ctx context.Context, v *mvs.View, m *geom.Mesh, zoom int) (*camera, error) {
	c := &camera{v: v, centre: v.Center(), zoom: float64(zoom)}
	c.dw, c.dh = (v.W+zoom-1)/zoom, (v.H+zoom-1)/zoom
	c.pixelAngle = 1 / math.Max(v.K[0], v.K[1])
	c.depth = make([]float32, c.dw*c.dh)
	for i := range c.depth {
		c.depth[i] = float32(math.Inf(1))
	}
	type pv struct{ u, w, z float64 }
	ps := make([]pv, len(m.Vertices))
	for i, x := range m.Vertices {
		u, w, z := c.project(x)
		ps[i] = pv{u / c.zoom, w / c.zoom, z}
	}
	for f, t := range m.Faces {
		if f%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		a, b, d := ps[t[0]], ps[t[1]], ps[t[2]]
		if !(a.z > 0 && b.z > 0 && d.z > 0) {
			continue
		}
		c.raster(a.u, a.w, 1/a.z, b.u, b.w, 1/b.z, d.u, d.w, 1/d.z)
	}
	return c, nil
}

// raster draws one triangle into the depth buffer, interpolating inverse
// depth (linear on the image), with pixel centres at +0.5. A triangle
// narrower than a pixel still marks the pixel its centre falls in, so that
// thin walls occlude.
func (c *camera) raster(x0, y0, q0, x1, y1, q1, x2, y2, q2 float64) {
	minX := max(0, int(math.Floor(min(x0, x1, x2))))
	maxX := min(c.dw-1, int(math.Floor(max(x0, x1, x2))))
	minY := max(0, int(math.Floor(min(y0, y1, y2))))
	maxY := min(c.dh-1, int(math.Floor(max(y0, y1, y2))))
	if minX > maxX || minY > maxY {
		return
	}
	area := (x1-x0)*(y2-y0) - (x2-x0)*(y1-y0)
	if area == 0 || math.IsNaN(area) {
		return
	}
	drawn := false
	for j := minY; j <= maxY; j++ {
		py := float64(j) + 0.5
		for i := minX; i <= maxX; i++ {
			px := float64(i) + 0.5
			w0 := ((x1-px)*(y2-py) - (x2-px)*(y1-py)) / area
			w1 := ((x2-px)*(y0-py) - (x0-px)*(y2-py)) / area
			w2 := 1 - w0 - w1
			if w0 < -1e-9 || w1 < -1e-9 || w2 < -1e-9 {
				continue
			}
			drawn = true
			c.put(i, j, w0*q0+w1*q1+w2*q2)
		}
	}
	if !drawn {
		cx, cy := (x0+x1+x2)/3, (y0+y1+y2)/3
		i, j := int(cx), int(cy)
		if cx >= 0 && cy >= 0 && i < c.dw && j < c.dh {
			c.put(i, j, (q0+q1+q2)/3)
		}
	}
}

func (c *camera) put(i, j int, q float64) {
	if q <= 0 {
		return
	}
	z := float32(1 / q)
	if k := j*c.dw + i; z < c.depth[k] {
		c.depth[k] = z
	}
}

// patch is a square of n×n points on a surface, centred on o and spanned
// by a and b (the spacing of neighbouring points).
type patch struct {
	o, a, b r3.Vec
	half    int
}

// read samples the patch in camera c into dst (len (2·half+1)²); false if
// any point falls outside the photo.
func (p *patch) read(c *camera, dst []float64) bool {
	k := 0
	for j := -p.half; j <= p.half; j++ {
		for i := -p.half; i <= p.half; i++ {
			x := r3.Add(p.o, r3.Add(r3.Scale(float64(i), p.a), r3.Scale(float64(j), p.b)))
			u, w, z := c.project(x)
			if !(z > 0) {
				return false
			}
			g, ok := c.sample(u, w)
			if !ok {
				return false
			}
			dst[k] = g
			k++
		}
	}
	return true
}

// stats returns a sample's mean and standard deviation.
func stats(a []float64) (mean, sd float64) {
	for _, x := range a {
		mean += x
	}
	mean /= float64(len(a))
	for _, x := range a {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(a)))
}

// ncc returns the normalised cross-correlation of two samples, 0 when
// either is flat.
func ncc(a, b []float64) float64 {
	ma, sa := stats(a)
	mb, sb := stats(b)
	if sa < 1e-6 || sb < 1e-6 {
		return 0
	}
	var s float64
	for i := range a {
		s += (a[i] - ma) * (b[i] - mb)
	}
	return s / (float64(len(a)) * sa * sb)
}
