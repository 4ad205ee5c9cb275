package scale

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/colmap"
)

// A View is a registered photo as the triangulation needs it: its pose
// (x_cam = R·x_world + T, R row-major) and its intrinsics.
type View struct {
	R [9]float64
	T r3.Vec
	// Center is the camera's centre in world coordinates.
	Center r3.Vec
	cam    intrinsics
}

// intrinsics are the parameters of one of COLMAP's camera models reduced
// to the common form f, c, and up to two radial and two tangential
// coefficients (OpenCV's model, of which the others are special cases).
type intrinsics struct {
	fx, fy, cx, cy float64
	k1, k2, p1, p2 float64
}

// NewView returns the view of image im of model m. It supports COLMAP's
// SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL and OPENCV models, those
// Replica's pipeline and COLMAP's defaults produce.
func NewView(m *colmap.Model, im *colmap.Image) (View, error) {
	c, ok := m.Cameras[im.CameraID]
	if !ok {
		return View{}, fmt.Errorf("image %s: camera %d is not in the model", im.Name, im.CameraID)
	}
	in, err := newIntrinsics(c)
	if err != nil {
		return View{}, fmt.Errorf("image %s: %w", im.Name, err)
	}
	return View{R: im.Rotation(), T: im.T, Center: im.Center(), cam: in}, nil
}

func newIntrinsics(c *colmap.Camera) (intrinsics, error) {
	p := c.Params
	need := map[string]int{"SIMPLE_PINHOLE": 3, "PINHOLE": 4, "SIMPLE_RADIAL": 4, "RADIAL": 5, "OPENCV": 8}
	n, ok := need[c.Model]
	if !ok {
		return intrinsics{}, fmt.Errorf("camera model %s is not supported for marker scaling (want SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL or OPENCV)", c.Model)
	}
	if len(p) != n {
		return intrinsics{}, fmt.Errorf("camera model %s with %d parameters, want %d", c.Model, len(p), n)
	}
	var in intrinsics
	switch c.Model {
	case "SIMPLE_PINHOLE":
		in = intrinsics{fx: p[0], fy: p[0], cx: p[1], cy: p[2]}
	case "PINHOLE":
		in = intrinsics{fx: p[0], fy: p[1], cx: p[2], cy: p[3]}
	case "SIMPLE_RADIAL":
		in = intrinsics{fx: p[0], fy: p[0], cx: p[1], cy: p[2], k1: p[3]}
	case "RADIAL":
		in = intrinsics{fx: p[0], fy: p[0], cx: p[1], cy: p[2], k1: p[3], k2: p[4]}
	case "OPENCV":
		in = intrinsics{fx: p[0], fy: p[1], cx: p[2], cy: p[3], k1: p[4], k2: p[5], p1: p[6], p2: p[7]}
	}
	for _, v := range []float64{in.fx, in.fy, in.cx, in.cy, in.k1, in.k2, in.p1, in.p2} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return intrinsics{}, fmt.Errorf("camera %d has a non-finite parameter", c.ID)
		}
	}
	if !(in.fx > 0 && in.fy > 0) {
		return intrinsics{}, fmt.Errorf("camera %d has focal length %g × %g", c.ID, in.fx, in.fy)
	}
	return in, nil
}

// distort applies the lens distortion to normalised image coordinates.
func (in *intrinsics) distort(x, y float64) (float64, float64) {
	r2 := x * x
	r2 += y * y
	radial := 1 + r2*(in.k1+r2*in.k2)
	xy := x * y
	return x*radial + 2*in.p1*xy + in.p2*(r2+2*x*x), y*radial + in.p1*(r2+2*y*y) + 2*in.p2*xy
}

// undistort returns the normalised coordinates whose distorted image is
// (u, v) in pixels, by fixed-point iteration as COLMAP's
// IterativeUndistortion does (the distortion of a phone lens is small
// enough that it converges in a few steps).
func (in *intrinsics) undistort(u, v float64) (float64, float64) {
	xd, yd := (u-in.cx)/in.fx, (v-in.cy)/in.fy
	x, y := xd, yd
	for range 50 {
		dx, dy := in.distort(x, y)
		ex, ey := dx-xd, dy-yd
		x, y = x-ex, y-ey
		if ex*ex+ey*ey < 1e-24 {
			break
		}
	}
	return x, y
}

// Project returns the pixel where world point p appears in the view
// (COLMAP's convention: the top-left corner of the image is (0, 0)), and
// false when p is not in front of the camera.
func (v *View) Project(p r3.Vec) (u, w float64, ok bool) {
	c := v.toCamera(p)
	if !(c.Z > 0) {
		return 0, 0, false
	}
	x, y := v.cam.distort(c.X/c.Z, c.Y/c.Z)
	return v.cam.fx*x + v.cam.cx, v.cam.fy*y + v.cam.cy, true
}

func (v *View) toCamera(p r3.Vec) r3.Vec {
	r := &v.R
	return r3.Vec{
		X: r[0]*p.X + r[1]*p.Y + r[2]*p.Z + v.T.X,
		Y: r[3]*p.X + r[4]*p.Y + r[5]*p.Z + v.T.Y,
		Z: r[6]*p.X + r[7]*p.Y + r[8]*p.Z + v.T.Z,
	}
}

// ray returns the unit direction, in world coordinates, of the ray through
// pixel (u, w).
func (v *View) ray(u, w float64) r3.Vec {
	x, y := v.cam.undistort(u, w)
	r := &v.R
	// Rᵀ·(x, y, 1).
	d := r3.Vec{X: r[0]*x + r[3]*y + r[6], Y: r[1]*x + r[4]*y + r[7], Z: r[2]*x + r[5]*y + r[8]}
	return r3.Unit(d)
}
