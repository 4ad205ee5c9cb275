package scale

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// A sighting is one view's pixel of a point.
type sighting struct {
	view *View
	u, w float64
}

// minRayAngle is the least angle, in radians, between two rays of a point
// for it to be triangulated: nearly parallel rays fix its depth poorly.
const minRayAngle = 2 * math.Pi / 180

// triangulate returns the point that best explains the sightings: the
// midpoint solution (the point nearest all rays in the least-squares sense;
// Hartley and Sturm, "Triangulation", CVIU 68(2), 1997, compare it with the
// optimal one) refined by Gauss–Newton on the reprojection error in pixels,
// which is the error the corners' sub-pixel detection bounds. It returns
// the reprojection error of each sighting, and false when the rays are too
// close to parallel or the point ends up behind a camera.
func triangulate(s []sighting) (r3.Vec, []float64, bool) {
	if len(s) < 2 {
		return r3.Vec{}, nil, false
	}
	var a [9]float64
	var b [3]float64
	dirs := make([]r3.Vec, len(s))
	for i, o := range s {
		d := o.view.ray(o.u, o.w)
		dirs[i] = d
		// (I − d·dᵀ) X = (I − d·dᵀ) C, summed over the rays.
		m := [9]float64{1 - d.X*d.X, -d.X * d.Y, -d.X * d.Z, -d.Y * d.X, 1 - d.Y*d.Y, -d.Y * d.Z, -d.Z * d.X, -d.Z * d.Y, 1 - d.Z*d.Z}
		c := o.view.Center
		for r := range 3 {
			for k := range 3 {
				a[3*r+k] += m[3*r+k]
			}
			b[r] += m[3*r]*c.X + m[3*r+1]*c.Y + m[3*r+2]*c.Z
		}
	}
	wide := false
	for i := range dirs {
		for j := i + 1; j < len(dirs) && !wide; j++ {
			wide = math.Acos(math.Max(-1, math.Min(1, r3.Dot(dirs[i], dirs[j])))) >= minRayAngle
		}
	}
	if !wide {
		return r3.Vec{}, nil, false
	}
	x, ok := geom.Solve3(a, b, 1e-15)
	if !ok {
		return r3.Vec{}, nil, false
	}
	p := r3.Vec{X: x[0], Y: x[1], Z: x[2]}
	p = refine(p, s)
	res := make([]float64, len(s))
	for i, o := range s {
		u, w, front := o.view.Project(p)
		if !front {
			return r3.Vec{}, nil, false
		}
		res[i] = math.Hypot(u-o.u, w-o.w)
	}
	return p, res, true
}

// refine runs Gauss–Newton on the sum of squared reprojection errors, with
// the Jacobian by central differences (three unknowns, a handful of
// sightings: the cost is negligible and no model's derivative is needed).
func refine(p r3.Vec, s []sighting) r3.Vec {
	residuals := func(q r3.Vec) ([]float64, bool) {
		r := make([]float64, 0, 2*len(s))
		for _, o := range s {
			u, w, ok := o.view.Project(q)
			if !ok {
				return nil, false
			}
			r = append(r, u-o.u, w-o.w)
		}
		return r, true
	}
	cost := func(r []float64) float64 {
		var c float64
		for _, v := range r {
			c += v * v
		}
		return c
	}
	r, ok := residuals(p)
	if !ok {
		return p
	}
	c := cost(r)
	scale := 1e-6 * math.Max(1, r3.Norm(p))
	for range 20 {
		var jt [3][]float64
		for k := range 3 {
			var dp r3.Vec
			switch k {
			case 0:
				dp.X = scale
			case 1:
				dp.Y = scale
			case 2:
				dp.Z = scale
			}
			rp, ok1 := residuals(r3.Add(p, dp))
			rm, ok2 := residuals(r3.Sub(p, dp))
			if !ok1 || !ok2 {
				return p
			}
			jt[k] = make([]float64, len(r))
			for i := range r {
				jt[k][i] = (rp[i] - rm[i]) / (2 * scale)
			}
		}
		var a [9]float64
		var g [3]float64
		for i := range 3 {
			for k := range 3 {
				for n := range r {
					a[3*i+k] += jt[i][n] * jt[k][n]
				}
			}
			for n := range r {
				g[i] -= jt[i][n] * r[n]
			}
		}
		d, ok := geom.Solve3(a, g, 1e-15)
		if !ok {
			return p
		}
		q := r3.Add(p, r3.Vec{X: d[0], Y: d[1], Z: d[2]})
		rq, ok := residuals(q)
		if !ok {
			return p
		}
		cq := cost(rq)
		if !(cq < c) {
			return p
		}
		step := r3.Norm(r3.Vec{X: d[0], Y: d[1], Z: d[2]})
		p, r, c = q, rq, cq
		if step < 1e-9*math.Max(1, r3.Norm(p)) {
			break
		}
	}
	return p
}
