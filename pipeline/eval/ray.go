package eval

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// SegmentHits reports whether the closed segment from a to b meets a
// triangle of the surface. It is an any-hit query: the tree is walked depth
// first, skipping every box the segment misses, and it returns at the
// first triangle met. A segment lying in a triangle's plane does not meet
// it, and neither do triangles of zero area. A segment that starts on the
// surface meets it at its start (within rounding either way): offset such
// a start off the surface, as Visible does. It is false when a coordinate
// is NaN or infinite.
func (s *Surface) SegmentHits(a, b r3.Vec) bool {
	if !finite(a) || !finite(b) {
		return false
	}
	d := r3.Sub(b, a)
	o := [3]float64{a.X, a.Y, a.Z}
	var inv [3]float64
	for i, v := range [3]float64{d.X, d.Y, d.Z} {
		inv[i] = 1 / v // ±Inf for a segment parallel to the axis's slabs
	}
	if !segBox(o, inv, s.box.Min, s.box.Max) {
		return false
	}
	// The median split keeps the depth at most 30 for 2³¹ faces, and the
	// stack grows by at most one entry a level.
	var stack [64]bvhRef
	stack[0] = s.root
	sp := 1
	for sp > 0 {
		sp--
		ref := stack[sp]
		if ref.n > 0 {
			for j := ref.i; j < ref.i+ref.n; j++ {
				if s.tris[j].segHit(a, d) {
					return true
				}
			}
			continue
		}
		nd := &s.nodes[ref.i]
		for k := range 2 {
			if segBox(o, inv, nd.lo[k], nd.hi[k]) {
				stack[sp] = nd.kid[k]
				sp++
			}
		}
	}
	return false
}

// gamma3 bounds the relative rounding error of the slab distances
// (Pharr, Jakob and Humphreys, Physically Based Rendering, 3rd ed., 2016,
// §3.9.1–3.9.2: γ₃ = 3ε/(1−3ε) with ε = 2⁻⁵³). segBox widens each far
// distance by 1 + 2γ₃, as their robust ray–bounds test does (§3.9.2,
// after Ize, "Robust BVH ray traversal", JCGT 2(2), 2013), so that a
// segment through a triangle on a box's face is never pruned by rounding.
const gamma3 = 3 * 0x1p-53 / (1 - 3*0x1p-53)

// segBox reports whether the segment o + t·d, t ∈ [0, 1], meets the box
// [lo, hi], by the slab test (Kay and Kajiya, "Ray tracing complex scenes",
// SIGGRAPH 1986) with inv = 1/d by axis. An axis where d is zero (inv
// infinite) is tested by o alone, which keeps 0·∞ out of the sums.
func segBox(o, inv [3]float64, lo, hi r3.Vec) bool {
	t0, t1 := 0.0, 1.0
	l, h := [3]float64{lo.X, lo.Y, lo.Z}, [3]float64{hi.X, hi.Y, hi.Z}
	for i := range 3 {
		if math.IsInf(inv[i], 0) {
			if o[i] < l[i] || o[i] > h[i] {
				return false
			}
			continue
		}
		near, far := (l[i]-o[i])*inv[i], (h[i]-o[i])*inv[i]
		if near > far {
			near, far = far, near
		}
		far *= 1 + 2*gamma3
		t0, t1 = max(t0, near), min(t1, far)
		if t0 > t1 {
			return false
		}
	}
	return true
}

// segHit reports whether the segment o + t·d, t ∈ [0, 1], meets t's
// triangle, borders included, by Möller and Trumbore, "Fast, minimum
// storage ray-triangle intersection", J. Graphics Tools 2(1), 1997: the
// barycentric coordinates (u, v) and the segment's parameter from Cramer's
// rule on o + t·d = (1−u−v)a + u·b + v·c. A flat triangle (see flatTol)
// and a segment parallel to the triangle's plane (a zero determinant) do
// not meet.
func (tr *triangle) segHit(o, d r3.Vec) bool {
	if tr.flat {
		return false
	}
	e1, e2 := r3.Sub(tr.b, tr.a), r3.Sub(tr.c, tr.a)
	p := r3.Cross(d, e2)
	det := r3.Dot(e1, p)
	if det == 0 {
		return false
	}
	inv := 1 / det
	s := r3.Sub(o, tr.a)
	u := r3.Dot(s, p) * inv
	if u < 0 || u > 1 {
		return false
	}
	q := r3.Cross(s, e1)
	v := r3.Dot(d, q) * inv
	if v < 0 || u+v > 1 {
		return false
	}
	t := r3.Dot(e2, q) * inv
	return t >= 0 && t <= 1
}
