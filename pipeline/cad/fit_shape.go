package cad

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// shapeKind is the type of a primitive while it is being fitted.
type shapeKind uint8

const (
	kindPlane shapeKind = iota
	kindSphere
	kindCylinder
	kindCone
)

func (k shapeKind) String() string {
	return [...]string{"plane", "sphere", "cylinder", "cone"}[k]
}

// shape is a primitive in the form the fitting works with:
//
//   - plane: through c with unit normal a;
//   - sphere: centre c, radius r;
//   - cylinder: axis through c along unit a, radius r;
//   - cone: apex c, unit axis a pointing into the opening, semi-angle ang.
type shape struct {
	kind shapeKind
	c, a r3.Vec
	r    float64
	ang  float64
}

// distNormal returns the signed distance of p from s (exact for planes,
// spheres and cylinders; for a cone the distance from the nearest generator
// line, exact near the surface) and the surface's unit normal there.
func (s *shape) distNormal(p r3.Vec) (float64, r3.Vec) {
	v := r3.Sub(p, s.c)
	switch s.kind {
	case kindPlane:
		return r3.Dot(v, s.a), s.a
	case kindSphere:
		l := r3.Norm(v)
		if l == 0 {
			return -s.r, s.a
		}
		return l - s.r, r3.Scale(1/l, v)
	case kindCylinder:
		w := r3.Sub(v, r3.Scale(r3.Dot(v, s.a), s.a))
		l := r3.Norm(w)
		if l == 0 {
			return -s.r, orthoUnit(s.a)
		}
		return l - s.r, r3.Scale(1/l, w)
	default:
		h := r3.Dot(v, s.a)
		w := r3.Sub(v, r3.Scale(h, s.a))
		l := r3.Norm(w)
		sn, cs := math.Sincos(s.ang)
		if l == 0 {
			return -h * sn, r3.Scale(-1, s.a)
		}
		return l*cs - h*sn, r3.Sub(r3.Scale(cs/l, w), r3.Scale(sn, s.a))
	}
}

// fits reports whether the point p with normal n is an inlier of s: within
// eps of it, its normal within the angle whose cosine is cosA of the
// surface's, either way round (normals may be unoriented).
func (s *shape) fits(p, n r3.Vec, eps, cosA float64) (bool, float64) {
	d, sn := s.distNormal(p)
	if !(math.Abs(d) < eps) {
		return false, d
	}
	return math.Abs(r3.Dot(sn, n)) >= cosA, d
}

// perpendicular returns a unit vector perpendicular to the unit vector a.
func orthoUnit(a r3.Vec) r3.Vec {
	var e r3.Vec
	switch ax, ay, az := math.Abs(a.X), math.Abs(a.Y), math.Abs(a.Z); {
	case ax <= ay && ax <= az:
		e = r3.Vec{X: 1}
	case ay <= az:
		e = r3.Vec{Y: 1}
	default:
		e = r3.Vec{Z: 1}
	}
	return r3.Unit(r3.Cross(a, e))
}

// The minimal sets follow Schnabel, Wahl and Klein, "Efficient RANSAC for
// Point-Cloud Shape Detection", Computer Graphics Forum 26(2), 2007, §4.1:
// every candidate is built from three points with normals (fewer suffice
// for all but the cone) and kept only if all three fit it within ε and α.

// planeFrom3 makes a plane through the centroid of the three points whose
// normal is the mean of their normals (turned to agree), which with good
// normals is steadier than the plane through three close noisy points.
func planeFrom3(p, n *[3]r3.Vec) (shape, bool) {
	m := n[0]
	for i := 1; i < 3; i++ {
		if r3.Dot(n[i], n[0]) < 0 {
			m = r3.Sub(m, n[i])
		} else {
			m = r3.Add(m, n[i])
		}
	}
	l := r3.Norm(m)
	if !(l > 0) {
		return shape{}, false
	}
	c := r3.Scale(1.0/3, r3.Add(p[0], r3.Add(p[1], p[2])))
	return shape{kind: kindPlane, c: c, a: r3.Scale(1/l, m)}, true
}

// sphereFrom2 puts the centre midway between the closest points of the two
// normal lines and the radius at the mean distance of the two points.
func sphereFrom2(p0, n0, p1, n1 r3.Vec) (shape, bool) {
	w := r3.Sub(p0, p1)
	b := r3.Dot(n0, n1)
	den := 1 - b*b
	if den < 1e-6 { // normals (anti)parallel: no single centre
		return shape{}, false
	}
	d, e := r3.Dot(n0, w), r3.Dot(n1, w)
	t := (b*e - d) / den
	s := (e - b*d) / den
	c := r3.Scale(0.5, r3.Add(r3.Add(p0, r3.Scale(t, n0)), r3.Add(p1, r3.Scale(s, n1))))
	r := 0.5 * (r3.Norm(r3.Sub(p0, c)) + r3.Norm(r3.Sub(p1, c)))
	if !(r > 0) {
		return shape{}, false
	}
	return shape{kind: kindSphere, c: c, r: r, a: r3.Vec{Z: 1}}, true
}

// cylinderFrom2 takes the axis along n0×n1 and the centre where the two
// normal lines, projected onto the plane normal to the axis, meet.
func cylinderFrom2(p0, n0, p1, n1 r3.Vec) (shape, bool) {
	a := r3.Cross(n0, n1)
	l := r3.Norm(a)
	if l < 0.02 { // normals within ~1°: the axis is undetermined
		return shape{}, false
	}
	a = r3.Scale(1/l, a)
	// Project onto the plane ⟂ a and intersect p0 + t·m0 with p1 + s·m1.
	proj := func(v r3.Vec) r3.Vec { return r3.Sub(v, r3.Scale(r3.Dot(v, a), a)) }
	q0, q1 := proj(p0), proj(p1)
	m0, m1 := r3.Unit(proj(n0)), r3.Unit(proj(n1))
	w := r3.Sub(q0, q1)
	b := r3.Dot(m0, m1)
	den := 1 - b*b
	if den < 1e-6 {
		return shape{}, false
	}
	d, e := r3.Dot(m0, w), r3.Dot(m1, w)
	t := (b*e - d) / den
	c := r3.Add(q0, r3.Scale(t, m0))
	r := 0.5 * (r3.Norm(r3.Sub(q0, c)) + r3.Norm(r3.Sub(q1, c)))
	if !(r > 0) {
		return shape{}, false
	}
	return shape{kind: kindCylinder, c: c, a: a, r: r}, true
}

// coneFrom3 finds the apex where the three tangent planes meet; the unit
// vectors from the apex to the points end on a circle about the axis, so
// the axis is the normal of the plane through their tips.
func coneFrom3(p, n *[3]r3.Vec) (shape, bool) {
	var a [9]float64
	var b [3]float64
	for i := range 3 {
		a[3*i], a[3*i+1], a[3*i+2] = n[i].X, n[i].Y, n[i].Z
		b[i] = r3.Dot(n[i], p[i])
	}
	x, ok := geom.Solve3(a, b, 1e-6)
	if !ok {
		return shape{}, false
	}
	apex := r3.Vec{X: x[0], Y: x[1], Z: x[2]}
	var u [3]r3.Vec
	for i := range 3 {
		d := r3.Sub(p[i], apex)
		l := r3.Norm(d)
		if !(l > 0) {
			return shape{}, false
		}
		u[i] = r3.Scale(1/l, d)
	}
	ax := r3.Cross(r3.Sub(u[1], u[0]), r3.Sub(u[2], u[0]))
	l := r3.Norm(ax)
	if !(l > 0) {
		return shape{}, false
	}
	ax = r3.Scale(1/l, ax)
	if r3.Dot(ax, u[0]) < 0 {
		ax = r3.Scale(-1, ax)
	}
	var ang float64
	for i := range 3 {
		ang += math.Acos(math.Min(1, r3.Dot(ax, u[i]))) / 3
	}
	// Below 2° a cone is a cylinder and above 80° a plane, each simpler
	// and better conditioned (the brief's "prefer the simpler type").
	if ang < 2*math.Pi/180 || ang > 80*math.Pi/180 || math.IsNaN(ang) {
		return shape{}, false
	}
	return shape{kind: kindCone, c: apex, a: ax, ang: ang}, true
}
