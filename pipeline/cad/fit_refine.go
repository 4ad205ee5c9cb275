package cad

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// refineMax is the most points a least-squares refinement uses: a fixed
// stride through the inliers. With σ = 0.1 mm noise 20 000 points pin a
// radius or an offset to about 0.1/√20000 ≈ 0.001 mm, far inside what is
// asked, and keep the refinement of a million-point primitive cheap.
const refineMax = 20000

// strided returns at most refineMax of the points idx names, evenly spread.
func strided(points []r3.Vec, idx []int32) []r3.Vec {
	step := max(1, len(idx)/refineMax)
	out := make([]r3.Vec, 0, len(idx)/step+1)
	for i := 0; i < len(idx); i += step {
		out = append(out, points[idx[i]])
	}
	return out
}

// refine fits s to the points by least squares, starting from s: planes by
// principal component analysis (geom.FitPlane), the others by
// Levenberg–Marquardt on the geometric distances (Schnabel et al. 2007 §5
// refine their shapes the same way; the parametrisations are those of
// Lukács, Martin and Marshall, "Faithful least-squares fitting of spheres,
// cylinders, cones and tori", Eurographics 1998, reduced to the minimal
// number of parameters by updating the axis in its tangent plane).
func refine(s shape, pts []r3.Vec) shape {
	if len(pts) < 8 {
		return s
	}
	switch s.kind {
	case kindPlane:
		c, n, ok := geom.FitPlane(pts, nil, s.a)
		if ok {
			s.c, s.a = c, n
		}
		return s
	case kindSphere:
		x := []float64{s.c.X, s.c.Y, s.c.Z, s.r}
		x = levMar(x, pts, func(x []float64, p r3.Vec) float64 {
			return r3.Norm(r3.Sub(p, r3.Vec{X: x[0], Y: x[1], Z: x[2]})) - x[3]
		})
		t := shape{kind: kindSphere, c: r3.Vec{X: x[0], Y: x[1], Z: x[2]}, a: s.a, r: math.Abs(x[3])}
		return accept(s, t)
	case kindCylinder:
		return accept(s, refineCylinder(s, pts, false))
	default:
		e1 := orthoUnit(s.a)
		e2 := r3.Cross(s.a, e1)
		x := []float64{s.c.X, s.c.Y, s.c.Z, 0, 0, s.ang}
		build := func(x []float64) shape {
			a := r3.Unit(r3.Add(s.a, r3.Add(r3.Scale(x[3], e1), r3.Scale(x[4], e2))))
			return shape{kind: kindCone, c: r3.Vec{X: x[0], Y: x[1], Z: x[2]}, a: a, ang: x[5]}
		}
		x = levMar(x, pts, func(x []float64, p r3.Vec) float64 {
			t := build(x)
			d, _ := t.distNormal(p)
			return d
		})
		t := build(x)
		if !(t.ang > 0 && t.ang < math.Pi/2) {
			return s
		}
		return accept(s, t)
	}
}

// refineCylinder fits a cylinder starting from s; with fixedAxis only the
// axis position and the radius move.
func refineCylinder(s shape, pts []r3.Vec, fixedAxis bool) shape {
	e1 := orthoUnit(s.a)
	e2 := r3.Cross(s.a, e1)
	build := func(x []float64) shape {
		a := s.a
		if !fixedAxis {
			a = r3.Unit(r3.Add(s.a, r3.Add(r3.Scale(x[3], e1), r3.Scale(x[4], e2))))
		}
		c := r3.Add(s.c, r3.Add(r3.Scale(x[0], e1), r3.Scale(x[1], e2)))
		return shape{kind: kindCylinder, c: c, a: a, r: math.Abs(x[2])}
	}
	x := []float64{0, 0, s.r}
	if !fixedAxis {
		x = append(x, 0, 0)
	}
	x = levMar(x, pts, func(x []float64, p r3.Vec) float64 {
		t := build(x)
		d, _ := t.distNormal(p)
		return d
	})
	t := build(x)
	// Keep the axis point near the points rather than anywhere on the line.
	var m r3.Vec
	for _, p := range pts {
		m = r3.Add(m, p)
	}
	m = r3.Scale(1/float64(len(pts)), m)
	t.c = r3.Add(t.c, r3.Scale(r3.Dot(r3.Sub(m, t.c), t.a), t.a))
	return t
}

// accept returns t unless it went wrong (non-finite), then s.
func accept(s, t shape) shape {
	if !finite(t.c) || !finite(t.a) || math.IsNaN(t.r) || math.IsInf(t.r, 0) || math.IsNaN(t.ang) {
		return s
	}
	return t
}

// levMar minimises Σ f(x, p)² over x by Levenberg–Marquardt (Nocedal and
// Wright, "Numerical Optimization", 2nd ed., §10.3) with a central-difference
// Jacobian; a handful of parameters and a good start from RANSAC make
// 20 iterations ample.
func levMar(x []float64, pts []r3.Vec, f func(x []float64, p r3.Vec) float64) []float64 {
	k := len(x)
	cost := func(x []float64) float64 {
		var c float64
		for _, p := range pts {
			r := f(x, p)
			c += r * r
		}
		return c
	}
	c0 := cost(x)
	lambda := 1e-4
	jtj := make([]float64, k*k)
	jtr := make([]float64, k)
	g := make([]float64, k)
	xp := make([]float64, k)
	for range 20 {
		clear(jtj)
		clear(jtr)
		for _, p := range pts {
			r := f(x, p)
			for i := range k {
				h := 1e-6 * math.Max(1, math.Abs(x[i]))
				copy(xp, x)
				xp[i] = x[i] + h
				rp := f(xp, p)
				xp[i] = x[i] - h
				rm := f(xp, p)
				g[i] = (rp - rm) / (2 * h)
			}
			for i := range k {
				jtr[i] += g[i] * r
				for j := range k {
					jtj[i*k+j] += g[i] * g[j]
				}
			}
		}
		improved := false
		for range 8 {
			a := make([]float64, k*k)
			copy(a, jtj)
			b := make([]float64, k)
			for i := range k {
				a[i*k+i] += lambda * (jtj[i*k+i] + 1e-12)
				b[i] = -jtr[i]
			}
			dx, ok := solveDense(a, b, k)
			if !ok {
				lambda *= 10
				continue
			}
			xn := make([]float64, k)
			var step float64
			for i := range k {
				xn[i] = x[i] + dx[i]
				step = math.Max(step, math.Abs(dx[i]))
			}
			if c := cost(xn); c < c0 {
				x, c0 = xn, c
				lambda = math.Max(lambda/10, 1e-9)
				improved = true
				if step < 1e-9 {
					return x
				}
				break
			}
			lambda *= 10
		}
		if !improved {
			break
		}
	}
	return x
}

// solveDense solves the k×k system a·x = b by Gaussian elimination with
// partial pivoting; ok is false when a is singular.
func solveDense(a, b []float64, k int) ([]float64, bool) {
	for c := range k {
		piv := c
		for r := c + 1; r < k; r++ {
			if math.Abs(a[r*k+c]) > math.Abs(a[piv*k+c]) {
				piv = r
			}
		}
		if !(math.Abs(a[piv*k+c]) > 1e-300) {
			return nil, false
		}
		if piv != c {
			for j := range k {
				a[c*k+j], a[piv*k+j] = a[piv*k+j], a[c*k+j]
			}
			b[c], b[piv] = b[piv], b[c]
		}
		for r := c + 1; r < k; r++ {
			m := a[r*k+c] / a[c*k+c]
			for j := c; j < k; j++ {
				a[r*k+j] -= m * a[c*k+j]
			}
			b[r] -= m * b[c]
		}
	}
	x := make([]float64, k)
	for r := k - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < k; j++ {
			s -= a[r*k+j] * x[j]
		}
		x[r] = s / a[r*k+r]
	}
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
	}
	return x, true
}

// rmsOf is the root mean square distance of pts from s.
func rmsOf(s shape, pts []r3.Vec) float64 {
	var ss float64
	for _, p := range pts {
		d, _ := s.distNormal(p)
		ss += d * d
	}
	return math.Sqrt(ss / float64(max(1, len(pts))))
}

// simplify replaces a refined shape by a simpler one that fits its points
// as well, as Schnabel et al. 2007 §4 prefer: a cone by a cylinder when its
// semi-angle fell under 2°, or is under 10° and the cylinder's RMS is
// within 5 % of the cone's, a cone flatter than 80° and a sphere or cylinder whose radius
// exceeds the cloud's diagonal by a plane.
func simplify(s shape, pts []r3.Vec, diag float64) shape {
	if len(pts) < 8 {
		return s
	}
	toPlane := func() shape {
		p := shape{kind: kindPlane, a: s.a}
		if c, n, ok := geom.FitPlane(pts, nil, s.a); ok {
			p.c, p.a = c, n
			return p
		}
		return s
	}
	switch s.kind {
	case kindCone:
		if s.ang > 80*math.Pi/180 {
			return toPlane()
		}
		// Over 10° no cylinder comes near a cone on any patch worth a
		// primitive; the refit is not worth its time.
		if s.ang > 10*math.Pi/180 {
			return s
		}
		var r float64
		for _, p := range pts {
			v := r3.Sub(p, s.c)
			r += r3.Norm(r3.Sub(v, r3.Scale(r3.Dot(v, s.a), s.a)))
		}
		c := refineCylinder(shape{kind: kindCylinder, c: s.c, a: s.a, r: r / float64(len(pts))}, pts, false)
		if finite(c.c) && finite(c.a) && (s.ang < 2*math.Pi/180 || rmsOf(c, pts) <= 1.05*rmsOf(s, pts)) {
			return c
		}
	case kindCylinder, kindSphere:
		if s.r > diag {
			return toPlane()
		}
	}
	return s
}
