package synth

import (
	"math"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// This file casts rays exactly against a CSG solid: every primitive gives the
// interval of the ray inside it, and the boolean operations combine the sorted
// interval lists (Roth, "Ray casting for modeling solids", Computer Graphics
// and Image Processing 18(2), 1982). The renderer and the surface extractor
// both use it, so the photos and groundtruth.stl describe the same solid.

type vec = geom.Vec

// mat3 is a row-major 3×3 matrix.
type mat3 [9]float64

func (m mat3) mul(v vec) vec {
	return vec{X: m[0]*v.X + m[1]*v.Y + m[2]*v.Z, Y: m[3]*v.X + m[4]*v.Y + m[5]*v.Z, Z: m[6]*v.X + m[7]*v.Y + m[8]*v.Z}
}

func (m mat3) mulMat(n mat3) mat3 {
	var r mat3
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[3*i+j] = m[3*i]*n[j] + m[3*i+1]*n[3+j] + m[3*i+2]*n[6+j]
		}
	}
	return r
}

func (m mat3) transpose() mat3 {
	return mat3{m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}
}

var identity = mat3{1, 0, 0, 0, 1, 0, 0, 0, 1}

// axisAngle returns the rotation by deg degrees about axis (Rodrigues' formula).
func axisAngle(axis [3]float64, deg float64) mat3 {
	a := r3.Unit(vec{X: axis[0], Y: axis[1], Z: axis[2]})
	th := deg * math.Pi / 180
	c, s := math.Cos(th), math.Sin(th)
	t := 1 - c
	return mat3{
		t*a.X*a.X + c, t*a.X*a.Y - s*a.Z, t*a.X*a.Z + s*a.Y,
		t*a.X*a.Y + s*a.Z, t*a.Y*a.Y + c, t*a.Y*a.Z - s*a.X,
		t*a.X*a.Z - s*a.Y, t*a.Y*a.Z + s*a.X, t*a.Z*a.Z + c,
	}
}

// frameZ returns a rotation whose third column is the unit axis: it maps a
// primitive's local z onto axis.
func frameZ(axis [3]float64) mat3 {
	w := r3.Unit(vec{X: axis[0], Y: axis[1], Z: axis[2]})
	helper := vec{X: 1}
	if math.Abs(w.X) > 0.9 {
		helper = vec{Y: 1}
	}
	u := r3.Unit(r3.Cross(helper, w))
	v := r3.Cross(w, u)
	return mat3{u.X, v.X, w.X, u.Y, v.Y, w.Y, u.Z, v.Z, w.Z}
}

func v3(a [3]float64) vec { return vec{X: a[0], Y: a[1], Z: a[2]} }

type opKind uint8

const (
	opPrim opKind = iota
	opUnion
	opDifference
	opIntersection
)

type primKind uint8

const (
	primBox  primKind = iota
	primCone          // cylinders are cones with equal radii
	primSphere
)

// Surface ids: each primitive owns surfPerPrim consecutive ids, one per face
// (box: −x,+x,−y,+y,−z,+z; cone: side, −z cap, +z cap; sphere: 0). Ids only
// need to differ between faces; the renderer anti-aliases where they change.
const surfPerPrim = 8

// node is one node of the compiled CSG tree, in world coordinates.
type node struct {
	op      opKind
	prim    primKind
	toLocal mat3 // world → primitive frame rotation
	toWorld mat3 // primitive frame → world rotation
	origin  vec  // primitive frame origin in world
	half    vec  // box half sizes
	a, b    float64
	hh      float64 // cone: radius(z) = a + b·z for |z| ≤ hh; sphere: radius a
	surf    int32
	kids    []*node
	bounds  geom.Box
}

// hit is where a ray crosses the solid's boundary.
type hit struct {
	t  float64
	n  vec // outward unit normal, world
	id int32
}

// span is an interval of a ray inside the solid.
type span struct{ in, out hit }

// solid is a compiled part, ready for ray casting and point classification.
type solid struct {
	root  *node
	prims int
}

// compile turns a validated spec into a solid.
func compile(s *Spec) *solid {
	c := &solid{}
	c.root = c.build(&s.Solid, identity, vec{})
	return c
}

// build compiles n under the accumulated transform world = R·x + t.
func (c *solid) build(n *Solid, R mat3, t vec) *node {
	R, t = place(n, R, t)
	prim := func(kind primKind, local mat3, center [3]float64) *node {
		nd := &node{op: opPrim, prim: kind, surf: int32(c.prims * surfPerPrim)}
		c.prims++
		nd.toWorld = R.mulMat(local)
		nd.toLocal = nd.toWorld.transpose()
		nd.origin = r3.Add(R.mul(v3(center)), t)
		return nd
	}
	switch {
	case n.Box != nil:
		local := identity
		if n.Box.Rotate != nil {
			local = axisAngle(n.Box.Rotate.Axis, n.Box.Rotate.Degrees)
		}
		nd := prim(primBox, local, n.Box.Center)
		nd.half = r3.Scale(0.5, v3(n.Box.Size))
		nd.bounds = nd.localBounds(nd.half)
		return nd
	case n.Cylinder != nil:
		cy := n.Cylinder
		nd := prim(primCone, frameZ(cy.Axis), cy.Center)
		nd.a, nd.hh = cy.Radius, cy.Height/2
		nd.bounds = nd.localBounds(vec{X: cy.Radius, Y: cy.Radius, Z: nd.hh})
		return nd
	case n.Cone != nil:
		co := n.Cone
		nd := prim(primCone, frameZ(co.Axis), co.Center)
		nd.hh = co.Height / 2
		nd.a = (co.Radius1 + co.Radius2) / 2
		nd.b = (co.Radius2 - co.Radius1) / co.Height
		r := math.Max(co.Radius1, co.Radius2)
		nd.bounds = nd.localBounds(vec{X: r, Y: r, Z: nd.hh})
		return nd
	case n.Sphere != nil:
		nd := prim(primSphere, identity, n.Sphere.Center)
		nd.a = n.Sphere.Radius
		r := vec{X: nd.a, Y: nd.a, Z: nd.a}
		nd.bounds = geom.Box{Min: r3.Sub(nd.origin, r), Max: r3.Add(nd.origin, r)}
		return nd
	}
	nd := &node{}
	var kids []Solid
	switch {
	case n.Union != nil:
		nd.op, kids = opUnion, n.Union
	case n.Difference != nil:
		nd.op, kids = opDifference, n.Difference
	default:
		nd.op, kids = opIntersection, n.Intersection
	}
	for i := range kids {
		nd.kids = append(nd.kids, c.build(&kids[i], R, t))
	}
	nd.bounds = nd.kids[0].bounds
	for _, k := range nd.kids[1:] {
		switch nd.op {
		case opUnion:
			nd.bounds = boxUnion(nd.bounds, k.bounds)
		case opIntersection:
			nd.bounds = boxIntersect(nd.bounds, k.bounds)
		}
	}
	return nd
}

// localBounds is the world box around the primitive-frame box ±h.
func (nd *node) localBounds(h vec) geom.Box {
	b := geom.Box{Min: vec{X: math.Inf(1), Y: math.Inf(1), Z: math.Inf(1)}, Max: vec{X: math.Inf(-1), Y: math.Inf(-1), Z: math.Inf(-1)}}
	for i := 0; i < 8; i++ {
		p := vec{X: h.X * sign(i&1), Y: h.Y * sign(i&2), Z: h.Z * sign(i&4)}
		w := r3.Add(nd.toWorld.mul(p), nd.origin)
		b.Min = vec{X: math.Min(b.Min.X, w.X), Y: math.Min(b.Min.Y, w.Y), Z: math.Min(b.Min.Z, w.Z)}
		b.Max = vec{X: math.Max(b.Max.X, w.X), Y: math.Max(b.Max.Y, w.Y), Z: math.Max(b.Max.Z, w.Z)}
	}
	return b
}

func sign(bit int) float64 {
	if bit != 0 {
		return 1
	}
	return -1
}

func boxUnion(a, b geom.Box) geom.Box {
	return geom.Box{
		Min: vec{X: math.Min(a.Min.X, b.Min.X), Y: math.Min(a.Min.Y, b.Min.Y), Z: math.Min(a.Min.Z, b.Min.Z)},
		Max: vec{X: math.Max(a.Max.X, b.Max.X), Y: math.Max(a.Max.Y, b.Max.Y), Z: math.Max(a.Max.Z, b.Max.Z)},
	}
}

func boxIntersect(a, b geom.Box) geom.Box {
	return geom.Box{
		Min: vec{X: math.Max(a.Min.X, b.Min.X), Y: math.Max(a.Min.Y, b.Min.Y), Z: math.Max(a.Min.Z, b.Min.Z)},
		Max: vec{X: math.Min(a.Max.X, b.Max.X), Y: math.Min(a.Max.Y, b.Max.Y), Z: math.Min(a.Max.Z, b.Max.Z)},
	}
}

// rayBox returns the parameter range of the ray o + t·d inside box b
// (Kay and Kajiya's slabs). Written out per axis: it runs for every ray.
func rayBox(o, d vec, b geom.Box) (t0, t1 float64, ok bool) {
	t0, t1 = math.Inf(-1), math.Inf(1)
	if d.X != 0 {
		inv := 1 / d.X
		a, c := (b.Min.X-o.X)*inv, (b.Max.X-o.X)*inv
		if a > c {
			a, c = c, a
		}
		t0, t1 = a, c
	} else if o.X < b.Min.X || o.X > b.Max.X {
		return 0, 0, false
	}
	if d.Y != 0 {
		inv := 1 / d.Y
		a, c := (b.Min.Y-o.Y)*inv, (b.Max.Y-o.Y)*inv
		if a > c {
			a, c = c, a
		}
		if a > t0 {
			t0 = a
		}
		if c < t1 {
			t1 = c
		}
	} else if o.Y < b.Min.Y || o.Y > b.Max.Y {
		return 0, 0, false
	}
	if d.Z != 0 {
		inv := 1 / d.Z
		a, c := (b.Min.Z-o.Z)*inv, (b.Max.Z-o.Z)*inv
		if a > c {
			a, c = c, a
		}
		if a > t0 {
			t0 = a
		}
		if c < t1 {
			t1 = c
		}
	} else if o.Z < b.Min.Z || o.Z > b.Max.Z {
		return 0, 0, false
	}
	return t0, t1, t0 <= t1
}

// unit returns v scaled to length 1 (r3.Unit uses the slower, overflow-safe
// math.Hypot; our vectors are of modest size).
func unit(v vec) vec {
	l := 1 / math.Sqrt(v.X*v.X+v.Y*v.Y+v.Z*v.Z)
	return vec{X: v.X * l, Y: v.Y * l, Z: v.Z * l}
}

// tracer holds per-goroutine scratch buffers so casting allocates nothing in
// the steady state.
type tracer struct{ free [][]span }

func (tr *tracer) get() []span {
	if n := len(tr.free); n > 0 {
		s := tr.free[n-1]
		tr.free = tr.free[:n-1]
		return s[:0]
	}
	return make([]span, 0, 8)
}

func (tr *tracer) put(s []span) { tr.free = append(tr.free, s) }

// spans appends the intervals of the ray o + t·d inside nd, sorted and
// disjoint, to out.
func (nd *node) spans(o, d vec, tr *tracer, out []span) []span {
	if _, _, ok := rayBox(o, d, nd.bounds); !ok {
		return out
	}
	if nd.op == opPrim {
		if s, ok := nd.primSpan(o, d); ok {
			out = append(out, s)
		}
		return out
	}
	acc := nd.kids[0].spans(o, d, tr, tr.get())
	for _, k := range nd.kids[1:] {
		if len(acc) == 0 && nd.op != opUnion {
			break
		}
		b := k.spans(o, d, tr, tr.get())
		res := combine(nd.op, acc, b, tr.get())
		tr.put(acc)
		tr.put(b)
		acc = res
	}
	out = append(out, acc...)
	tr.put(acc)
	return out
}

// combine applies a boolean operation to two sorted, disjoint span lists by
// sweeping their boundaries in order and tracking whether the ray is inside
// each operand. Boundaries of a subtracted operand face the other way.
// Spans that touch (coincident faces of a union) are merged.
func combine(op opKind, a, b, out []span) []span {
	i, j := 0, 0
	inA, inB, inside := false, false, false
	for i < 2*len(a) || j < 2*len(b) {
		ta, tb := math.Inf(1), math.Inf(1)
		if i < 2*len(a) {
			ta = boundary(a, i).t
		}
		if j < 2*len(b) {
			tb = boundary(b, j).t
		}
		var h hit
		fromB := false
		if ta <= tb {
			h, inA = boundary(a, i), i%2 == 0
			i++
		} else {
			h, inB, fromB = boundary(b, j), j%2 == 0, true
			j++
		}
		var now bool
		switch op {
		case opUnion:
			now = inA || inB
		case opDifference:
			now = inA && !inB
		default:
			now = inA && inB
		}
		if now == inside {
			continue
		}
		inside = now
		if op == opDifference && fromB {
			h.n = r3.Scale(-1, h.n)
		}
		if now {
			if n := len(out); n > 0 && h.t-out[n-1].out.t < 1e-9 {
				continue // touching the previous span: reopen it; its exit is set again below
			}
			out = append(out, span{in: h})
		} else {
			out[len(out)-1].out = h
		}
	}
	return out
}

func boundary(s []span, k int) hit {
	if k%2 == 0 {
		return s[k/2].in
	}
	return s[k/2].out
}

// primSpan intersects the ray with a primitive in its own frame.
func (nd *node) primSpan(ow, dw vec) (span, bool) {
	o := nd.toLocal.mul(r3.Sub(ow, nd.origin))
	d := nd.toLocal.mul(dw)
	var s span
	switch nd.prim {
	case primBox:
		t0, t1 := math.Inf(-1), math.Inf(1)
		var n0, n1 vec
		var f0, f1 int32
		for ax := 0; ax < 3; ax++ {
			oc, dc, h := comp(o, ax), comp(d, ax), comp(nd.half, ax)
			if dc == 0 {
				if oc < -h || oc > h {
					return s, false
				}
				continue
			}
			a, b := (-h-oc)/dc, (h-oc)/dc
			na, fa := unitAxis(ax, -1), int32(2*ax)
			nb, fb := unitAxis(ax, 1), int32(2*ax+1)
			if a > b {
				a, b, na, nb, fa, fb = b, a, nb, na, fb, fa
			}
			if a > t0 {
				t0, n0, f0 = a, na, fa
			}
			if b < t1 {
				t1, n1, f1 = b, nb, fb
			}
		}
		if t0 > t1 {
			return s, false
		}
		s.in = hit{t0, nd.toWorld.mul(n0), nd.surf + f0}
		s.out = hit{t1, nd.toWorld.mul(n1), nd.surf + f1}
		return s, true
	case primSphere:
		bq := r3.Dot(o, d)
		dd := r3.Dot(d, d)
		disc := bq*bq - dd*(r3.Dot(o, o)-nd.a*nd.a)
		if disc < 0 {
			return s, false
		}
		sq := math.Sqrt(disc)
		t0, t1 := (-bq-sq)/dd, (-bq+sq)/dd
		s.in = hit{t0, nd.toWorld.mul(r3.Scale(1/nd.a, r3.Add(o, r3.Scale(t0, d)))), nd.surf}
		s.out = hit{t1, nd.toWorld.mul(r3.Scale(1/nd.a, r3.Add(o, r3.Scale(t1, d)))), nd.surf}
		return s, true
	}
	return nd.coneSpan(o, d)
}

// coneSpan intersects a capped frustum x² + y² ≤ (a + b·z)², a + b·z ≥ 0,
// |z| ≤ hh. The frustum is convex, so the ray is inside it on at most one
// interval, bounded by two of the candidate parameters: the quadric's roots
// and the two cap planes. Midpoints between sorted candidates classify them.
func (nd *node) coneSpan(o, d vec) (span, bool) {
	var s span
	type cand struct {
		t    float64
		face int32
	}
	var cs [4]cand
	n := 0
	a, b := nd.a, nd.b
	k := a + b*o.Z
	qa := d.X*d.X + d.Y*d.Y - b*b*d.Z*d.Z
	qb := 2 * (o.X*d.X + o.Y*d.Y - b*d.Z*k)
	qc := o.X*o.X + o.Y*o.Y - k*k
	if math.Abs(qa) > 1e-14 {
		disc := qb*qb - 4*qa*qc
		if disc >= 0 {
			sq := math.Sqrt(disc)
			// Numerically stable roots (Press et al., Numerical Recipes §5.6).
			q := -0.5 * (qb + math.Copysign(sq, qb))
			cs[n] = cand{q / qa, 0}
			n++
			if q != 0 {
				cs[n] = cand{qc / q, 0}
				n++
			}
		}
	} else if qb != 0 {
		cs[n] = cand{-qc / qb, 0}
		n++
	}
	if d.Z != 0 {
		cs[n] = cand{(-nd.hh - o.Z) / d.Z, 1}
		cs[n+1] = cand{(nd.hh - o.Z) / d.Z, 2}
		n += 2
	} else if math.Abs(o.Z) > nd.hh {
		return s, false
	}
	// Insertion sort: at most four candidates.
	for i := 1; i < n; i++ {
		for j := i; j > 0 && cs[j].t < cs[j-1].t; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	lo, hi := -1, -1
	for i := 0; i+1 < n; i++ {
		if cs[i+1].t <= cs[i].t {
			continue
		}
		m := (cs[i].t + cs[i+1].t) / 2
		if nd.insideLocal(r3.Add(o, r3.Scale(m, d))) {
			if lo < 0 {
				lo = i
			}
			hi = i + 1
		}
	}
	if lo < 0 {
		return s, false
	}
	s.in = hit{cs[lo].t, nd.coneNormal(r3.Add(o, r3.Scale(cs[lo].t, d)), cs[lo].face), nd.surf + cs[lo].face}
	s.out = hit{cs[hi].t, nd.coneNormal(r3.Add(o, r3.Scale(cs[hi].t, d)), cs[hi].face), nd.surf + cs[hi].face}
	return s, true
}

func (nd *node) coneNormal(p vec, face int32) vec {
	switch face {
	case 1:
		return nd.toWorld.mul(vec{Z: -1})
	case 2:
		return nd.toWorld.mul(vec{Z: 1})
	}
	// Gradient of x² + y² − (a + b·z)².
	g := vec{X: p.X, Y: p.Y, Z: -nd.b * (nd.a + nd.b*p.Z)}
	l := r3.Norm(g)
	if l == 0 {
		return nd.toWorld.mul(vec{Z: 1})
	}
	return nd.toWorld.mul(r3.Scale(1/l, g))
}

func (nd *node) insideLocal(p vec) bool {
	switch nd.prim {
	case primBox:
		return math.Abs(p.X) <= nd.half.X && math.Abs(p.Y) <= nd.half.Y && math.Abs(p.Z) <= nd.half.Z
	case primSphere:
		return r3.Dot(p, p) <= nd.a*nd.a
	}
	if math.Abs(p.Z) > nd.hh {
		return false
	}
	r := nd.a + nd.b*p.Z
	return r >= 0 && p.X*p.X+p.Y*p.Y <= r*r
}

// inside reports whether world point p is in the solid.
func (nd *node) inside(p vec) bool {
	bb := nd.bounds
	if p.X < bb.Min.X || p.Y < bb.Min.Y || p.Z < bb.Min.Z || p.X > bb.Max.X || p.Y > bb.Max.Y || p.Z > bb.Max.Z {
		return false
	}
	switch nd.op {
	case opPrim:
		return nd.insideLocal(nd.toLocal.mul(r3.Sub(p, nd.origin)))
	case opUnion:
		for _, k := range nd.kids {
			if k.inside(p) {
				return true
			}
		}
		return false
	case opDifference:
		if !nd.kids[0].inside(p) {
			return false
		}
		for _, k := range nd.kids[1:] {
			if k.inside(p) {
				return false
			}
		}
		return true
	}
	for _, k := range nd.kids {
		if !k.inside(p) {
			return false
		}
	}
	return true
}

// firstHit returns the first boundary crossing with t > tmin.
func (c *solid) firstHit(o, d vec, tmin float64, tr *tracer) (hit, bool) {
	ss := c.root.spans(o, d, tr, tr.get())
	defer tr.put(ss)
	for _, s := range ss {
		if s.in.t > tmin {
			return s.in, true
		}
		if s.out.t > tmin {
			return s.out, true
		}
	}
	return hit{}, false
}

func comp(v vec, ax int) float64 {
	switch ax {
	case 0:
		return v.X
	case 1:
		return v.Y
	}
	return v.Z
}

func unitAxis(ax int, s float64) vec {
	switch ax {
	case 0:
		return vec{X: s}
	case 1:
		return vec{Y: s}
	}
	return vec{Z: s}
}
