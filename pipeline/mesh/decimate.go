package mesh

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Decimation follows Garland and Heckbert, "Surface Simplification Using
// Quadric Error Metrics", SIGGRAPH 1997: each vertex carries a quadric, the
// sum of the squared distances to the planes of the faces around it;
// contracting an edge adds its ends' quadrics and puts the new vertex where
// their sum is least; the cheapest contraction is always made next, taken
// from a heap. Only edges are contracted, never the paper's unconnected
// pairs (its distance threshold t = 0), so that the topology can be kept:
// an edge is contracted only when it meets the link condition (Hoppe,
// DeRose, Duchamp, McDonald and Stuetzle, "Mesh optimization", SIGGRAPH
// 1993, whose three conditions for a legal edge collapse are the ones
// used here; Dey, Edelsbrunner, Guha and Nekhayev, "Topology preserving
// edge contraction", Publ. Inst. Math. (Beograd) 66(80), 1999, who prove
// that it keeps the surface's topology) and turns no face around it.

// DecimateOptions tune Decimate; nil and the zero value give the defaults.
type DecimateOptions struct {
	// MaxError is the largest error a contraction may have: the quadric
	// error of the new vertex, the sum of its squared distances to the
	// planes of the input faces merged into it, each weighted by its area
	// over the mean face area (squared model units; a vertex of a mesh of
	// equal faces that lies d off its six planes has error 6d²).
	// Decimation stops, above the target, when the cheapest contraction
	// left costs more. 0 means no limit.
	MaxError float64
	// BoundaryWeight is the weight of the plane through each boundary edge
	// perpendicular to its face, per unit of the edge's squared length over
	// the mean face area: Garland and Heckbert's penalty planes, which keep
	// the rim of an open surface in place. 0 means 100: on equilateral
	// faces a rim vertex's two planes then weigh about 460 against an
	// interior vertex's six of weight 1, so moving it d off the rim costs
	// as much as moving an interior vertex 9d off the surface. Negative
	// adds no planes, letting the rim shrink.
	BoundaryWeight float64
}

// DecimateReport says what Decimate did.
type DecimateReport struct {
	FacesBefore int     `json:"faces_before"`
	FacesAfter  int     `json:"faces_after"`
	Collapses   int     `json:"collapses"` // edges contracted
	MaxError    float64 `json:"max_error"` // the largest error of a contraction made, see DecimateOptions.MaxError
}

const (
	// maxDecimateFaces keeps the face lists (3 corners a face, twice over
	// between compactions) within int32.
	maxDecimateFaces = math.MaxInt32 / 8
	// defaultBoundaryWeight is DecimateOptions.BoundaryWeight's default.
	defaultBoundaryWeight = 100
	// decimateMinCos is the least cosine allowed between a face's normal
	// before and after a contraction (78°). Within a plane it forbids only
	// folds; on a curved surface the quadrics keep the turn far smaller.
	decimateMinCos = 0.2
	// decimateMinSin2 is the least squared sine of a moved face's angle at
	// the moved vertex: a smaller one is a face flattened to a segment.
	decimateMinSin2 = 1e-12
	// decimateCond is the least determinant, relative to the cube of the
	// trace, of a quadric's 3×3 part for its minimum to be used: below it
	// the planes are (nearly) parallel or meet in a line, the minimum is a
	// line or plane of points and the solve would pick one by rounding
	// (Garland and Heckbert fall back to the edge when the matrix is not
	// invertible). A curved surface whose normals spread by θ gives about
	// θ⁴/27: 1e-10 keeps spreads from 0.01 rad up, while a crease of two
	// planes gives rounding noise of about 1e-16.
	decimateCond = 1e-10
	// decimatePurge is the heap entries per live face above which the
	// stale entries are dropped all at once (see purge): a closed mesh has
	// 1.5 edges per face, so at least a quarter of the heap is stale then.
	// Without purges 90% of the entries taken from the heap on a
	// million-face torus were stale, and taking them was half the time.
	decimatePurge = 2
	// decimateCheckEvery is how many heap entries are taken between checks
	// of the context.
	decimateCheckEvery = 4096
)

// Decimate returns a copy of m reduced to target faces or fewer by edge
// contraction in order of least quadric error (see the comment at the top
// of this file), and a report. m is not modified; the result holds only the
// vertices its faces use, in their input order. A vertex that is not moved,
// or that moves onto another input vertex, keeps its exact coordinates.
//
// The new vertex goes to the minimum of the summed quadric when its 3×3
// part is well-conditioned and the minimum lies within an edge length of
// the edge's midpoint, else to the cheapest of the two ends and the
// midpoint: so flat regions and straight creases are decimated exactly,
// on the input's planes and lines. Faces are weighted by their area
// (Garland, "Quadric-Based Polygonal Surface Simplification", PhD thesis,
// CMU-CS-99-105, 1999), so that the error does not depend on how finely a
// region was tessellated.
//
// A contraction of edge uv is refused when
//   - uv is shared by more than two faces, or two faces on it share their
//     third vertex too (a non-manifold edge);
//   - it breaks the link condition: the common neighbours of u and v are
//     not exactly the third vertices of uv's faces; or u and v are both on
//     a boundary but uv is not (Dey et al.'s condition with a dummy vertex
//     joined to every boundary vertex); or the component is a lone
//     triangle or a tetrahedron, which would lose its last face or volume;
//   - it turns a face around u or v by more than arccos 0.2 (78°) or
//     flattens it.
//
// So a closed 2-manifold stays closed and 2-manifold with the same Euler
// characteristic (genus), a boundary loop stays one, and the boundary
// planes keep it near its place. A refused edge is tried again when a
// contraction next to it changes its surroundings. Decimation stops at
// the target (or one face under it), when the cheapest edge left exceeds
// MaxError, or when every edge left is refused; the report says where it
// ended. On a mesh of bounded valence it takes O(n log n) time for n faces.
//
// Faces with a repeated vertex are dropped. An empty mesh (ErrEmptyMesh),
// target ≤ 0, an index out of range and a non-finite coordinate are errors;
// a target of len(m.Faces) or more returns an unchanged copy. ctx is
// checked every 4096 entries taken from the heap (so at most every 4096
// contractions); when it is done Decimate returns its error.
func Decimate(ctx context.Context, m *geom.Mesh, target int, o *DecimateOptions) (*geom.Mesh, *DecimateReport, error) {
	if m == nil || len(m.Faces) == 0 {
		return nil, nil, fmt.Errorf("decimate: %w", ErrEmptyMesh)
	}
	if target <= 0 {
		return nil, nil, fmt.Errorf("decimate: target %d faces, want at least 1", target)
	}
	if len(m.Faces) > maxDecimateFaces {
		return nil, nil, fmt.Errorf("decimate: %d faces, more than the %d supported", len(m.Faces), maxDecimateFaces)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("decimate: %w", err)
	}
	var opt DecimateOptions
	if o != nil {
		opt = *o
	}
	if math.IsNaN(opt.MaxError) || opt.MaxError < 0 || math.IsNaN(opt.BoundaryWeight) || math.IsInf(opt.BoundaryWeight, 0) {
		return nil, nil, fmt.Errorf("decimate: invalid options %+v", opt)
	}
	box := m.Bounds()
	scale := box.MaxExtent()
	if math.IsInf(scale, 0) {
		return nil, nil, fmt.Errorf("decimate: coordinates span more than %g", math.MaxFloat64)
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if target >= len(m.Faces) {
		out := &geom.Mesh{Vertices: append([]geom.Vec(nil), m.Vertices...), Faces: append([][3]int32(nil), m.Faces...)}
		return out, &DecimateReport{FacesBefore: len(m.Faces), FacesAfter: len(m.Faces)}, nil
	}
	if !(scale > 0) {
		scale = 1 // every vertex at one point
	}
	bw := opt.BoundaryWeight
	switch {
	case bw == 0:
		bw = defaultBoundaryWeight
	case bw < 0:
		bw = 0
	}
	// Errors are computed in coordinates scaled to the unit box, so that
	// neither tiny nor huge models underflow or overflow; MaxError is in
	// model units.
	maxErr := math.Inf(1)
	if opt.MaxError > 0 {
		maxErr = opt.MaxError / (scale * scale)
	}

	d := newDecimator(m, box.Center(), scale)
	if d.live == 0 {
		return nil, nil, fmt.Errorf("decimate: all %d faces have a repeated vertex: %w", len(m.Faces), ErrEmptyMesh)
	}
	d.init(bw)
	rep := &DecimateReport{FacesBefore: len(m.Faces)}
	for n := 0; d.live > target && len(d.heap) > 0; n++ {
		if n%decimateCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if len(d.heap) > decimatePurge*d.live && d.pushed > len(d.heap)/4 {
			d.purge()
		}
		e := d.pop()
		if !d.alive[e.u] || !d.alive[e.v] || d.version[e.u]+d.version[e.v] != e.s {
			continue // stale: an end has moved or gone since
		}
		p, orig, cost := d.place(e.u, e.v)
		if cost > maxErr {
			break
		}
		if !d.collapse(e.u, e.v, p, orig) {
			d.blocked[e.u], d.blocked[e.v] = true, true
			continue
		}
		rep.Collapses++
		rep.MaxError = max(rep.MaxError, cost*scale*scale)
	}
	out := d.output(m)
	rep.FacesAfter = len(out.Faces)
	return out, rep, nil
}

// quadric is Garland and Heckbert's Q = Σ w·(n, δ)(n, δ)ᵀ over planes
// n·x + δ = 0 with |n| = 1, as its 3×3 part A = Σ w n nᵀ (upper
// triangle), b = Σ w δ n and c = Σ w δ²: the weighted sum of squared
// distances of x to the planes is xᵀAx + 2b·x + c.
type quadric struct {
	a11, a12, a13, a22, a23, a33 float64
	b1, b2, b3                   float64
	c                            float64
}

// planeQuadric returns the quadric of the plane through p with unit
// normal n, weighted by w.
func planeQuadric(n, p geom.Vec, w float64) quadric {
	dl := -r3.Dot(n, p)
	return quadric{
		w * n.X * n.X, w * n.X * n.Y, w * n.X * n.Z, w * n.Y * n.Y, w * n.Y * n.Z, w * n.Z * n.Z,
		w * dl * n.X, w * dl * n.Y, w * dl * n.Z,
		w * dl * dl,
	}
}

func (q quadric) add(r quadric) quadric {
	return quadric{
		q.a11 + r.a11, q.a12 + r.a12, q.a13 + r.a13, q.a22 + r.a22, q.a23 + r.a23, q.a33 + r.a33,
		q.b1 + r.b1, q.b2 + r.b2, q.b3 + r.b3,
		q.c + r.c,
	}
}

// eval returns the error at x, clamped at 0 against rounding.
func (q quadric) eval(x geom.Vec) float64 {
	e := x.X*(q.a11*x.X+2*(q.a12*x.Y+q.a13*x.Z+q.b1)) +
		x.Y*(q.a22*x.Y+2*(q.a23*x.Z+q.b2)) +
		x.Z*(q.a33*x.Z+2*q.b3) + q.c
	return max(e, 0)
}

// minimum returns the point of least error, −A⁻¹b by Cramer's rule, and
// whether A is well-conditioned enough for it to be one point (see
// decimateCond).
func (q quadric) minimum() (geom.Vec, bool) {
	c11 := q.a22*q.a33 - q.a23*q.a23
	c12 := q.a13*q.a23 - q.a12*q.a33
	c13 := q.a12*q.a23 - q.a13*q.a22
	det := q.a11*c11 + q.a12*c12 + q.a13*c13
	tr := q.a11 + q.a22 + q.a33
	if !(det > decimateCond*tr*tr*tr) {
		return geom.Vec{}, false
	}
	c22 := q.a11*q.a33 - q.a13*q.a13
	c23 := q.a12*q.a13 - q.a11*q.a23
	c33 := q.a11*q.a22 - q.a12*q.a12
	s := -1 / det
	return geom.Vec{
		X: s * (c11*q.b1 + c12*q.b2 + c13*q.b3),
		Y: s * (c12*q.b1 + c22*q.b2 + c23*q.b3),
		Z: s * (c13*q.b1 + c23*q.b2 + c33*q.b3),
	}, true
}

// decEdge is a heap entry: the contraction of uv at the given cost, valid
// while the sum s of its ends' versions is unchanged (versions only grow,
// so the sum changes with either, until one has grown by 2³²). Entries are never updated: a vertex's
// change makes new ones and leaves the old ones stale (lazy deletion).
// float32 costs keep entries at 16 bytes; the cost is computed again in
// float64 when an entry is used.
type decEdge struct {
	cost float32
	u, v int32
	s    uint32
}

// decimator holds the mesh during Decimate. Positions are scaled to the
// unit box about the input's centre; orig keeps, for a vertex at an input
// vertex's exact place, that vertex, so that output() can copy it exactly.
type decimator struct {
	pos     []geom.Vec
	orig    []int32 // vertex → the input vertex at its place, or −1
	q       []quadric
	faces   [][3]int32
	dead    []bool   // face → contracted away (or had a repeated vertex)
	alive   []bool   // vertex → not merged into another
	version []uint32 // vertex → bumped when its place, quadric or faces change
	bnd     []bool   // vertex → on a boundary edge
	blocked []bool   // vertex → an edge of it was refused since it last changed
	live    int      // faces not dead

	// Vertex v's faces are refs[refStart[v]:][:refLen[v]], dead ones
	// dropped lazily; a contraction appends the merged list, and refs is
	// compacted when it is full.
	refStart, refLen []int32
	refs             []int32

	mark  []uint32 // vertex → stamp, for sets of neighbours
	stamp uint32

	heap   []decEdge
	pushed int // entries pushed since the last purge

	centre geom.Vec
	scale  float64
	// slivers: collapseSlivers is at work, and faces already without
	// area may stay so.
	slivers bool
	buf     []int32 // scratch for collapse: the merged face list
	nbr     []int32 // and the merged vertex's neighbours
}

// newDecimator copies m's vertices and faces, drops faces with a repeated
// vertex and builds the vertices' face lists.
func newDecimator(m *geom.Mesh, centre geom.Vec, scale float64) *decimator {
	nv, nf := len(m.Vertices), len(m.Faces)
	d := &decimator{
		pos:      make([]geom.Vec, nv),
		orig:     make([]int32, nv),
		q:        make([]quadric, nv),
		faces:    append([][3]int32(nil), m.Faces...),
		dead:     make([]bool, nf),
		alive:    make([]bool, nv),
		version:  make([]uint32, nv),
		bnd:      make([]bool, nv),
		blocked:  make([]bool, nv),
		refStart: make([]int32, nv+1),
		refLen:   make([]int32, nv),
		mark:     make([]uint32, nv),
		centre:   centre,
		scale:    scale,
	}
	for i, p := range m.Vertices {
		d.pos[i] = d.toUnit(p)
		d.orig[i] = int32(i)
		d.alive[i] = true
	}
	for f, t := range d.faces {
		if t[0] == t[1] || t[1] == t[2] || t[2] == t[0] {
			d.dead[f] = true
			continue
		}
		d.live++
		d.refStart[t[0]+1]++
		d.refStart[t[1]+1]++
		d.refStart[t[2]+1]++
	}
	for v := range nv {
		d.refLen[v] = d.refStart[v+1]
		d.refStart[v+1] += d.refStart[v]
	}
	d.refs = make([]int32, d.refStart[nv], 2*int(d.refStart[nv]))
	pos := append([]int32(nil), d.refStart[:nv]...)
	for f, t := range d.faces {
		if d.dead[f] {
			continue
		}
		for _, v := range t {
			d.refs[pos[v]] = int32(f)
			pos[v]++
		}
	}
	return d
}

func (d *decimator) toUnit(p geom.Vec) geom.Vec {
	return r3.Scale(1/d.scale, r3.Sub(p, d.centre))
}

// init sums the face and boundary quadrics and fills the heap with every
// edge of one or two faces.
func (d *decimator) init(boundaryWeight float64) {
	var total float64
	normals := make([]geom.Vec, len(d.faces))
	areas := make([]float64, len(d.faces))
	for f, t := range d.faces {
		if d.dead[f] {
			continue
		}
		a, b, c := d.pos[t[0]], d.pos[t[1]], d.pos[t[2]]
		n := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
		l := r3.Norm(n)
		if l > 0 {
			normals[f] = r3.Scale(1/l, n)
			areas[f] = l / 2
			total += l / 2
		}
	}
	mean := total / float64(d.live)
	if !(mean > 0) {
		mean = 1 // every face flat: no plane has a weight
	}
	for f, t := range d.faces {
		if areas[f] == 0 {
			continue
		}
		q := planeQuadric(normals[f], d.pos[t[0]], areas[f]/mean)
		for _, v := range t {
			d.q[v] = d.q[v].add(q)
		}
	}

	// Edges, found around each vertex u as the neighbours w > u with the
	// number of u's faces that hold them; 1 is a boundary edge.
	count := make([]int32, len(d.pos))
	// A closed mesh has 3F/2 edges; the rest leaves room for the entries
	// pushed later before the stale ones are popped.
	d.heap = make([]decEdge, 0, 3*d.live)
	for u := range int32(len(d.pos)) {
		fs := d.faceList(u)
		for _, f := range fs {
			for _, w := range d.faces[f] {
				if w != u {
					count[w]++
				}
			}
		}
		for _, f := range fs {
			for _, w := range d.faces[f] {
				if w == u || count[w] == 0 {
					continue
				}
				if w > u && count[w] <= 2 {
					d.heap = append(d.heap, decEdge{u: u, v: w})
				}
				if count[w] == 1 {
					d.bnd[u], d.bnd[w] = true, true
					e := r3.Sub(d.pos[w], d.pos[u])
					n := r3.Cross(e, normals[f]) // in the face's plane, normal to e
					if l := r3.Norm(n); w > u && boundaryWeight > 0 && l > 0 {
						q := planeQuadric(r3.Scale(1/l, n), d.pos[u], boundaryWeight*r3.Norm2(e)/mean)
						d.q[u], d.q[w] = d.q[u].add(q), d.q[w].add(q)
					}
				}
				count[w] = 0
			}
		}
	}
	for i := range d.heap {
		d.heap[i].cost = float32(d.cost(d.heap[i].u, d.heap[i].v))
	}
	d.heapify()
}

// faceList returns v's face list without dropping dead faces.
func (d *decimator) faceList(v int32) []int32 {
	s := d.refStart[v]
	return d.refs[s : s+d.refLen[v]]
}

// liveFaces returns v's live faces, dropping the dead ones from its list.
func (d *decimator) liveFaces(v int32) []int32 {
	list := d.faceList(v)
	k := 0
	for _, f := range list {
		if !d.dead[f] {
			list[k] = f
			k++
		}
	}
	d.refLen[v] = int32(k)
	return list[:k]
}

// setFaces makes list v's face list, compacting refs first when it is
// full.
func (d *decimator) setFaces(v int32, list []int32) {
	if len(d.refs)+len(list) > cap(d.refs) {
		refs := make([]int32, 0, cap(d.refs))
		for w := range int32(len(d.pos)) {
			if d.alive[w] && w != v {
				s := len(refs)
				refs = append(refs, d.liveFaces(w)...)
				d.refStart[w] = int32(s)
			}
		}
		d.refs = refs
	}
	d.refStart[v] = int32(len(d.refs))
	d.refLen[v] = int32(len(list))
	d.refs = append(d.refs, list...)
}

// nextStamp returns a stamp s such that no vertex is marked s or s+1.
func (d *decimator) nextStamp() uint32 {
	if d.stamp >= math.MaxUint32-2 {
		clear(d.mark)
		d.stamp = 0
	}
	d.stamp += 2
	return d.stamp
}

// place returns where contracting uv puts the merged vertex, the input
// vertex at that place (or −1) and the error there; see Decimate.
func (d *decimator) place(u, v int32) (geom.Vec, int32, float64) {
	q := d.q[u].add(d.q[v])
	pu, pv := d.pos[u], d.pos[v]
	mid := r3.Scale(0.5, r3.Add(pu, pv))
	if x, ok := q.minimum(); ok && r3.Norm2(r3.Sub(x, mid)) <= r3.Norm2(r3.Sub(pv, pu)) {
		return x, -1, q.eval(x)
	}
	p, orig, cost := pu, d.orig[u], q.eval(pu)
	if e := q.eval(pv); e < cost {
		p, orig, cost = pv, d.orig[v], e
	}
	if e := q.eval(mid); e < cost {
		p, orig, cost = mid, -1, e
	}
	return p, orig, cost
}

func (d *decimator) cost(u, v int32) float64 {
	_, _, c := d.place(u, v)
	return c
}

// collapse contracts uv, v into u at p, and reports whether it did: it
// refuses as Decimate says.
func (d *decimator) collapse(u, v int32, p geom.Vec, orig int32) bool {
	fu, fv := d.liveFaces(u), d.liveFaces(v)
	s := d.nextStamp()
	var edge, opp [2]int32
	k := 0
	for _, f := range fu {
		t := d.faces[f]
		if t[0] == v || t[1] == v || t[2] == v {
			if k == 2 {
				return false // a third face on uv
			}
			edge[k], opp[k] = f, decThird(t, u, v)
			k++
		}
		for _, w := range t {
			if w != u {
				d.mark[w] = s
			}
		}
	}
	if k == 0 || k == 2 && opp[0] == opp[1] {
		return false
	}
	common := 0
	for _, f := range fv {
		for _, w := range d.faces[f] {
			if w != u && w != v && d.mark[w] == s {
				d.mark[w] = s + 1
				common++
			}
		}
	}
	if common != k {
		return false // the link condition: common neighbours = opposite vertices
	}
	if k == 2 {
		if d.bnd[u] && d.bnd[v] || len(fu) == 3 && len(fv) == 3 {
			return false // an inner edge between two boundary points; a tetrahedron
		}
	} else if c := opp[0]; decFacesWith(d.faces, fu, c) == 1 && decFacesWith(d.faces, fv, c) == 1 {
		return false // the face's three edges are on the boundary: a lone triangle
	}
	if d.turns(fu, u, v, p) || d.turns(fv, v, u, p) {
		return false
	}

	for _, f := range edge[:k] {
		d.dead[f] = true
	}
	d.live -= k
	list := d.buf[:0]
	for _, f := range fu {
		if !d.dead[f] {
			list = append(list, f)
		}
	}
	for _, f := range fv {
		if d.dead[f] {
			continue
		}
		t := &d.faces[f]
		for i := range t {
			if t[i] == v {
				t[i] = u
			}
		}
		list = append(list, f)
	}
	d.buf = list
	d.refLen[u], d.refLen[v] = 0, 0
	d.setFaces(u, list)
	d.pos[u], d.orig[u] = p, orig
	d.q[u] = d.q[u].add(d.q[v])
	d.bnd[u] = d.bnd[u] || d.bnd[v]
	d.alive[v] = false
	d.version[u]++
	d.blocked[u] = false

	// u's edges have new costs. A neighbour's refused edges may now pass,
	// since u moved and its faces changed: those are pushed again too.
	s = d.nextStamp()
	d.mark[u] = s
	nbr := d.nbr[:0]
	for _, f := range list {
		for _, w := range d.faces[f] {
			if d.mark[w] != s {
				d.mark[w] = s
				nbr = append(nbr, w)
			}
		}
	}
	d.nbr = nbr
	for _, w := range nbr {
		if d.blocked[w] {
			d.blocked[w] = false
			d.version[w]++
			d.pushEdges(w, u)
		}
	}
	for _, w := range nbr {
		d.push(u, w)
	}
	return true
}

// decThird returns the vertex of t that is neither u nor v.
func decThird(t [3]int32, u, v int32) int32 {
	for _, w := range t {
		if w != u && w != v {
			return w
		}
	}
	return -1
}

// decFacesWith counts the faces of fs that hold vertex c.
func decFacesWith(faces [][3]int32, fs []int32, c int32) int {
	n := 0
	for _, f := range fs {
		if t := faces[f]; t[0] == c || t[1] == c || t[2] == c {
			n++
		}
	}
	return n
}

// turns reports whether moving vertex a to p turns one of its faces fs
// that does not hold b by more than arccos decimateMinCos, or flattens it.
func (d *decimator) turns(fs []int32, a, b int32, p geom.Vec) bool {
	pa := d.pos[a]
	for _, f := range fs {
		t := d.faces[f]
		i := 0
		if t[1] == a {
			i = 1
		} else if t[2] == a {
			i = 2
		}
		x, y := t[(i+1)%3], t[(i+2)%3]
		if x == b || y == b {
			continue
		}
		px, py := d.pos[x], d.pos[y]
		n0 := r3.Cross(r3.Sub(px, pa), r3.Sub(py, pa))
		if d.slivers && r3.Norm2(n0) <= sliverSin*sliverSin*r3.Norm2(r3.Sub(px, pa))*r3.Norm2(r3.Sub(py, pa)) {
			continue // already without area: nothing to turn over
		}
		ex, ey := r3.Sub(px, p), r3.Sub(py, p)
		n1 := r3.Cross(ex, ey)
		l1 := r3.Norm2(n1)
		if l1 <= decimateMinSin2*r3.Norm2(ex)*r3.Norm2(ey) {
			return true
		}
		if r3.Dot(n0, n1) < decimateMinCos*math.Sqrt(r3.Norm2(n0)*l1) {
			return true
		}
	}
	return false
}

// push adds the contraction of uw at its current cost.
func (d *decimator) push(u, w int32) {
	d.pushed++
	d.heap = append(d.heap, decEdge{cost: float32(d.cost(u, w)), u: u, v: w, s: d.version[u] + d.version[w]})
	d.up(len(d.heap) - 1)
}

// pushEdges pushes every edge of w but the one to skip.
func (d *decimator) pushEdges(w, skip int32) {
	s := d.nextStamp()
	d.mark[w], d.mark[skip] = s, s
	for _, f := range d.liveFaces(w) {
		for _, x := range d.faces[f] {
			if d.mark[x] != s {
				d.mark[x] = s
				d.push(w, x)
			}
		}
	}
}

// The heap is 4-ary: the children of entry i are 4i+1 … 4i+4. Half as deep
// as a binary heap, with the four children of 16 bytes in one or two cache
// lines, it misses the cache about half as often once it outgrows it, as
// it does with the millions of entries of a large mesh.

// purge drops the stale entries and restores the heap order: one pass over
// the heap, in memory order, where taking the stale entries one by one
// would cost a walk from the root to a leaf each.
func (d *decimator) purge() {
	h := d.heap[:0]
	for _, e := range d.heap {
		if d.alive[e.u] && d.alive[e.v] && d.version[e.u]+d.version[e.v] == e.s {
			h = append(h, e)
		}
	}
	d.heap = h
	d.heapify()
	d.pushed = 0
}

// heapify puts the entries in heap order, sifting down each parent from
// the last (Floyd, "Algorithm 245: Treesort 3", CACM 7(12), 1964): O(n).
func (d *decimator) heapify() {
	for i := (len(d.heap) - 2) / 4; i >= 0 && len(d.heap) > 1; i-- {
		d.down(i)
	}
}

// pop removes and returns the cheapest entry. It moves the hole at the root
// down to a leaf along the cheapest children, then the last entry up into
// it (Wegener, "Bottom-up-heapsort", TCS 118, 1993): the last entry is
// among the dearest, so it rarely climbs, and each level takes one
// comparison less than sifting it down.
func (d *decimator) pop() decEdge {
	h := d.heap
	top := h[0]
	n := len(h) - 1
	last := h[n]
	h = h[:n]
	d.heap = h
	if n == 0 {
		return top
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < min(c+4, n); j++ {
			if h[j].cost < h[m].cost {
				m = j
			}
		}
		h[i] = h[m]
		i = m
	}
	h[i] = last
	d.up(i)
	return top
}

func (d *decimator) up(i int) {
	h := d.heap
	e := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if h[p].cost <= e.cost {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

func (d *decimator) down(i int) {
	h := d.heap
	n := len(h)
	e := h[i]
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		for j := c + 1; j < min(c+4, n); j++ {
			if h[j].cost < h[m].cost {
				m = j
			}
		}
		if e.cost <= h[m].cost {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
}

// output returns the live faces, in input order, over the vertices they
// use, in input order of the vertices they were merged into.
func (d *decimator) output(m *geom.Mesh) *geom.Mesh {
	remap := make([]int32, len(d.pos))
	n := 0
	for f, t := range d.faces {
		if !d.dead[f] {
			n++
			remap[t[0]], remap[t[1]], remap[t[2]] = 1, 1, 1
		}
	}
	out := &geom.Mesh{Faces: make([][3]int32, 0, n)}
	for v, used := range remap {
		if used == 0 {
			continue
		}
		remap[v] = int32(len(out.Vertices))
		p := r3.Add(r3.Scale(d.scale, d.pos[v]), d.centre)
		if o := d.orig[v]; o >= 0 {
			p = m.Vertices[o]
		}
		out.Vertices = append(out.Vertices, p)
	}
	for f, t := range d.faces {
		if !d.dead[f] {
			out.Faces = append(out.Faces, [3]int32{remap[t[0]], remap[t[1]], remap[t[2]]})
		}
	}
	return out
}

// collapseSlivers contracts an edge of each face whose area is (nearly)
// nothing — its doubled area under sliverSin times its longest edge
// squared — under Decimate's rules: the link condition holds and no face
// around turns over or is squashed. The shortest edge is tried first, its
// ends kept where they are (one goes onto the other), then the others. It
// returns the mesh, vertices renumbered, and how many contractions it made.
func collapseSlivers(m *geom.Mesh) (*geom.Mesh, int) {
	box := m.Bounds()
	scale := box.MaxExtent()
	if !(scale > 0) || math.IsInf(scale, 0) || len(m.Faces) == 0 {
		return m, 0
	}
	d := newDecimator(m, box.Center(), scale)
	if d.live == 0 {
		return m, 0
	}
	d.init(0)
	d.slivers = true
	n := 0
	for range 3 {
		before := n
		for f := range d.faces {
			if d.dead[f] {
				continue
			}
			t := d.faces[f]
			p := [3]geom.Vec{d.pos[t[0]], d.pos[t[1]], d.pos[t[2]]}
			var l [3]float64 // l[k]: edge t[k]–t[k+1], squared
			for k := range 3 {
				l[k] = r3.Norm2(r3.Sub(p[(k+1)%3], p[k]))
			}
			cr := r3.Norm(r3.Cross(r3.Sub(p[1], p[0]), r3.Sub(p[2], p[0])))
			if cr > sliverSin*max(l[0], l[1], l[2]) {
				continue
			}
			order := []int{0, 1, 2}
			slices.SortFunc(order, func(a, b int) int { return cmp.Compare(l[a], l[b]) })
			for _, k := range order {
				u, v := t[k], t[(k+1)%3]
				if d.collapse(u, v, d.pos[u], d.orig[u]) || d.collapse(v, u, d.pos[v], d.orig[v]) {
					n++
					break
				}
			}
		}
		if n == before {
			break
		}
	}
	return d.output(m), n
}

// sliverSin: a face whose doubled area is under this times its longest
// edge squared (about the sine of its largest angle) has no area worth
// keeping.
const sliverSin = 1e-4
