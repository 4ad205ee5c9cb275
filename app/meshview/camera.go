package meshview

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Camera is a perspective camera orbiting a target point. The world's +Z is
// up, as in the rest of Replica (a part rests on the plane z = 0): the
// camera sits at Target + Distance·(cos Pitch·cos Yaw, cos Pitch·sin Yaw,
// sin Pitch) and looks at Target with +Z up on the screen. Yaw −π/2 and
// Pitch 0 is the front view (looking along +Y, +X to the right).
type Camera struct {
	Target   geom.Vec // the point looked at and orbited around
	Yaw      float64  // radians about +Z, from +X towards +Y
	Pitch    float64  // radians above the XY plane, within ±MaxPitch
	Distance float64  // from Target to the eye, > 0
	FOV      float64  // field of view across the image's shorter side, radians; 0 means DefaultFOV
}

// Default camera angles: a three-quarter view from the front right, above,
// which shows three sides of a box at once.
const (
	DefaultFOV   = 35 * math.Pi / 180  // about a 55 mm lens on a 35 mm camera
	DefaultYaw   = -60 * math.Pi / 180 // between the front (−90°) and the right (0°)
	DefaultPitch = 25 * math.Pi / 180
	// MaxPitch keeps the camera off the poles, where "up" is undefined.
	MaxPitch = 89 * math.Pi / 180
)

// fitMargin is how much farther than the tightest fit Fit places the
// camera, so that the part does not touch the edges of the image.
const fitMargin = 1.1

// fov returns c.FOV, or DefaultFOV when it is unset or outside (0, 170°).
func (c *Camera) fov() float64 {
	if c.FOV > 0 && c.FOV < 170*math.Pi/180 {
		return c.FOV
	}
	return DefaultFOV
}

// Fit points the camera at the centre of b from the default angles, at the
// distance where b's bounding sphere fills the shorter side of the image.
// An empty box is treated as a unit cube at the origin.
func (c *Camera) Fit(b geom.Box) {
	r := r3.Norm(b.Size()) / 2
	if b.Empty() || !(r > 0) || math.IsInf(r, 0) {
		r = math.Sqrt(3) / 2
	}
	c.Target = b.Center()
	c.Yaw, c.Pitch = DefaultYaw, DefaultPitch
	c.Distance = fitMargin * r / math.Sin(c.fov()/2)
}

// Orbit turns the camera about the target by dyaw and dpitch radians,
// keeping the pitch within ±MaxPitch and the yaw within (−π, π].
func (c *Camera) Orbit(dyaw, dpitch float64) {
	if !finite(dyaw) || !finite(dpitch) {
		return
	}
	c.Yaw = math.Remainder(c.Yaw+dyaw, 2*math.Pi)
	c.Pitch = max(-MaxPitch, min(MaxPitch, c.Pitch+dpitch))
}

// Pan moves the target (and the eye with it) across the view so that a
// point at the target's depth follows the pointer: dx, dy is the pointer's
// movement (right and down positive) and side the length of the image's
// shorter side, in the same units.
func (c *Camera) Pan(dx, dy, side float64) {
	if !(side > 0) || !finite(dx) || !finite(dy) {
		return
	}
	_, right, up, _ := c.basis()
	s := 2 * c.Distance * math.Tan(c.fov()/2) / side
	c.Target = r3.Add(c.Target, r3.Add(r3.Scale(-dx*s, right), r3.Scale(dy*s, up)))
}

// Zoom multiplies the distance to the target by f; f < 1 moves closer.
// Non-positive or non-finite factors are ignored.
func (c *Camera) Zoom(f float64) {
	if f > 0 && finite(f) {
		c.Distance *= f
	}
}

// Eye returns the camera's position.
func (c *Camera) Eye() geom.Vec {
	eye, _, _, _ := c.basis()
	return eye
}

// basis returns the eye and the camera's right, up and forward unit
// vectors in world coordinates. The camera frame (right, up, forward) is
// left-handed, as screens are.
func (c *Camera) basis() (eye, right, up, fwd geom.Vec) {
	sy, cy := math.Sincos(c.Yaw)
	sp, cp := math.Sincos(c.Pitch)
	d := geom.Vec{X: cp * cy, Y: cp * sy, Z: sp} // from target to eye
	eye = r3.Add(c.Target, r3.Scale(c.Distance, d))
	fwd = r3.Scale(-1, d)
	right = geom.Vec{X: -sy, Y: cy} // normalize(fwd × Z)
	up = r3.Cross(right, fwd)
	return eye, right, up, fwd
}

// valid reports whether the camera can render: a finite target, a finite
// positive distance and finite angles.
func (c *Camera) valid() bool {
	return finite(c.Target.X) && finite(c.Target.Y) && finite(c.Target.Z) &&
		finite(c.Yaw) && finite(c.Pitch) && c.Distance > 0 && finite(c.Distance)
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool { return !math.IsNaN(x - x) }
