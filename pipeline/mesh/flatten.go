package mesh

import (
	"cmp"
	"context"
	"errors"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// FlattenOptions tune Flatten. Zero fields take the defaults.
type FlattenOptions struct {
	// MaxAngle (degrees) is how far a face's normal may lean from its
	// plane's to belong to it (default 20).
	MaxAngle float64
	// Tolerance is how far, in the mesh's units, a face's centre may lie
	// from its plane to belong to it, and the farthest a vertex is moved
	// (default 2 median edge lengths: the scatter of a reconstructed
	// surface is about an edge).
	Tolerance float64
	// MinShare is the least share of the mesh's area a plane must cover
	// to be kept (default 0.02: 2 %).
	MinShare float64
	// Up, when set, is the direction the part stands up along (the mat's
	// normal): planes within SquareDeg (default 2°) of level or of upright
	// are made exactly so, the walls and top of a part standing on a mat
	// being almost always square to it, and a reconstructed wall leaning
	// a degree or two.
	Up        r3.Vec
	SquareDeg float64
}

func (o *FlattenOptions) resolved(m *geom.Mesh) FlattenOptions {
	r := FlattenOptions{MaxAngle: 20, MinShare: 0.02, SquareDeg: 2}
	if o != nil {
		r.Up = o.Up
		if o.SquareDeg > 0 {
			r.SquareDeg = o.SquareDeg
		}
		if o.MaxAngle > 0 {
			r.MaxAngle = o.MaxAngle
		}
		if o.Tolerance > 0 {
			r.Tolerance = o.Tolerance
		}
		if o.MinShare > 0 {
			r.MinShare = o.MinShare
		}
	}
	if r.Tolerance == 0 {
		r.Tolerance = 2 * MedianEdge(m)
	}
	return r
}

// FlatPlane is one plane Flatten found: the points x with Normal·x = Offset.
type FlatPlane struct {
	Normal [3]float64 `json:"normal"`
	Offset float64    `json:"offset"`
	// Share is the share of the mesh's area its faces cover; RMS the root
	// mean square distance of their vertices from it before flattening.
	Share float64 `json:"share"`
	RMS   float64 `json:"rms"`
}

// FlattenReport says what Flatten did.
type FlattenReport struct {
	Planes []FlatPlane `json:"planes"`
	// Moved counts the vertices moved onto a plane (OnPlane), onto the
	// line where two meet (OnEdge) or the point where three meet
	// (OnCorner); Kept the vertices near planes left where they were,
	// since moving them would have turned a face over.
	OnPlane  int `json:"on_plane"`
	OnEdge   int `json:"on_edge"`
	OnCorner int `json:"on_corner"`
	Kept     int `json:"kept"`
	// Clipped counts the planes vertices just outside them, beside their
	// faces, were brought onto (see Flatten). ClippedBack counts the
	// vertices whose whole move would have turned a face over that were
	// only brought back inside the planes they stood out of (counted in
	// OnPlane too).
	Clipped     int `json:"clipped"`
	ClippedBack int `json:"clipped_back,omitempty"`
	// Slivers counts the faces left without area that Isolate contracted
	// afterwards (see collapseSlivers).
	Slivers int `json:"slivers,omitempty"`
	// Curved counts the large regions of nearly agreeing normals left
	// alone because they bend: part of a cylinder or a sphere, not a plane.
	Curved    int     `json:"curved"`
	MaxMove   float64 `json:"max_move"`
	Tolerance float64 `json:"tolerance"`
}

// Flatten finds the large flat faces of a reconstructed part and puts
// their vertices exactly on them: the planes are grown over neighbouring
// faces whose normals agree (region growing, as in Rabbani et al.,
// "Segmentation of point clouds using smoothness constraint", 2006), each
// refitted by least squares; a vertex of one plane is projected onto it,
// one where two planes meet onto their line and one where three meet onto
// their corner. Reconstruction noise — tenths of a millimetre on faces
// that were flat — goes, and the edges between flat faces come out sharp,
// so a box prints at its size. Curved and freeform surfaces, and planes
// smaller than MinShare of the whole, are left as they are.
//
// m is not changed. A vertex whose move would turn one of its faces over
// (or is over Tolerance) stays. An empty mesh gives ErrEmptyMesh.
func Flatten(ctx context.Context, m *geom.Mesh, opts *FlattenOptions) (*geom.Mesh, *FlattenReport, error) {
	if len(m.Faces) == 0 {
		return nil, nil, ErrEmptyMesh
	}
	if err := m.Validate(); err != nil {
		return nil, nil, err
	}
	o := opts.resolved(m)
	rep := &FlattenReport{Tolerance: o.Tolerance}
	regions, planes, err := growPlanes(ctx, m, &o, rep)
	if err != nil {
		return nil, nil, err
	}
	out := &geom.Mesh{Vertices: slices.Clone(m.Vertices), Faces: slices.Clone(m.Faces)}
	if len(planes) == 0 {
		return out, rep, nil
	}
	// The planes around each vertex.
	around := make([][]int32, len(m.Vertices))
	for f, r := range regions {
		if r < 0 {
			continue
		}
		for _, v := range m.Faces[f] {
			if !slices.Contains(around[v], r) {
				around[v] = append(around[v], r)
			}
		}
	}
	// A vertex just outside a plane, beside its faces — the rounded or
	// fattened edge where reconstruction blurs two flat faces into each
	// other — is treated as on it: it is brought in, never pushed out. (At
	// a concave edge the vertex so moved stays on its own plane: only the
	// triangles change.)
	near := newPlaneGrid(m, regions, 2*o.Tolerance)
	for v, rs := range around {
		p := m.Vertices[v]
		for r, pl := range planes {
			if slices.Contains(rs, int32(r)) {
				continue
			}
			if d := pl.dist(p); d > 0 && d <= o.Tolerance && near.has(int32(r), r3.Sub(p, r3.Scale(d, pl.n))) {
				around[v] = append(around[v], int32(r))
				rep.Clipped++
			}
		}
	}
	moved := make([]int8, len(m.Vertices)) // 0 not moved, else the number of planes
	for v, rs := range around {
		if len(rs) == 0 {
			continue
		}
		p := m.Vertices[v]
		q, k, ok := snap(p, rs, planes)
		if !ok || r3.Norm(r3.Sub(q, p)) > o.Tolerance {
			continue
		}
		out.Vertices[v] = q
		moved[v] = int8(k)
	}
	// Undo the moves that turn a face over (see turnsOver), until none
	// does.
	for range 4 {
		undone := 0
		for f, t := range m.Faces {
			if moved[t[0]] == 0 && moved[t[1]] == 0 && moved[t[2]] == 0 {
				continue // as it was: nothing to turn over
			}
			if !turnsOver(m, out, f) {
				continue
			}
			for _, v := range m.Faces[f] {
				if moved[v] != 0 {
					out.Vertices[v] = m.Vertices[v]
					moved[v] = 0
					undone++
				}
			}
		}
		if undone == 0 {
			break
		}
	}
	// A vertex whose whole move turned a face over may still stand out of
	// a plane (a lip along the top of a wall): it is brought back just
	// inside the planes it stands out of, a shorter move along their
	// normals, where that turns nothing over.
	// All at once, then undone where they turn a face over, as above: a
	// bump is several vertices, and one brought in alone may fold the
	// faces it shares with the others.
	var back []int
	for v, k := range moved {
		if k != 0 || len(around[v]) == 0 {
			continue
		}
		p := m.Vertices[v]
		q, outside := p, false
		for _, r := range around[v] {
			if d := planes[r].dist(q); d > 0 {
				q, outside = r3.Sub(q, r3.Scale(d, planes[r].n)), true
			}
		}
		if !outside || r3.Norm(r3.Sub(q, p)) > o.Tolerance {
			continue
		}
		out.Vertices[v] = q
		back = append(back, v)
	}
	if len(back) > 0 {
		faces := vertexFaces(m)
		for range 4 {
			undone := 0
			for _, v := range back {
				if out.Vertices[v] == m.Vertices[v] {
					continue
				}
				for _, f := range faces[v] {
					if turnsOver(m, out, int(f)) {
						out.Vertices[v] = m.Vertices[v]
						undone++
						break
					}
				}
			}
			if undone == 0 {
				break
			}
		}
		for _, v := range back {
			if out.Vertices[v] != m.Vertices[v] {
				moved[v] = 1
				rep.ClippedBack++
			}
		}
	}
	for v, k := range moved {
		switch k {
		case 0:
			if len(around[v]) > 0 {
				rep.Kept++
			}
			continue
		case 1:
			rep.OnPlane++
		case 2:
			rep.OnEdge++
		default:
			rep.OnCorner++
		}
		rep.MaxMove = math.Max(rep.MaxMove, r3.Norm(r3.Sub(out.Vertices[v], m.Vertices[v])))
	}
	return out, rep, nil
}

// square returns plane pl made exactly level or upright with respect to
// up when it is within deg of that, through its faces' area-weighted
// centroid; pl itself otherwise.
func square(m *geom.Mesh, faces []int32, area []float64, pl plane, up r3.Vec, deg float64) plane {
	c := r3.Dot(pl.n, up)
	var n r3.Vec
	switch {
	case math.Abs(c) >= math.Cos(deg*math.Pi/180):
		n = r3.Scale(math.Copysign(1, c), up)
	case math.Abs(c) <= math.Sin(deg*math.Pi/180):
		n = r3.Unit(r3.Sub(pl.n, r3.Scale(c, up)))
	default:
		return pl
	}
	var sw, sd float64
	for _, f := range faces {
		a, b, cc := corners(m, int(f))
		sw += area[f]
		sd += area[f] * r3.Dot(n, r3.Scale(1.0/3, r3.Add(a, r3.Add(b, cc))))
	}
	if !(sw > 0) {
		return pl
	}
	return plane{n: n, d: sd / sw}
}

// turnsOver reports whether face f of m faces the other way in out (the
// same faces over moved vertices). A face squashed to (nearly) nothing is
// not turned over: that is a rounded edge collapsing onto the line where
// its planes meet, and Repair drops such slivers.
func turnsOver(m, out *geom.Mesh, f int) bool {
	a, b, c := corners(m, f)
	before := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
	a2, b2, c2 := corners(out, f)
	after := r3.Cross(r3.Sub(b2, a2), r3.Sub(c2, a2))
	return !(r3.Dot(before, after) > 0 || r3.Norm(before) == 0 || r3.Norm(after) < 0.1*r3.Norm(before))
}

// vertexFaces returns the faces around each vertex.
func vertexFaces(m *geom.Mesh) [][]int32 {
	out := make([][]int32, len(m.Vertices))
	for f, t := range m.Faces {
		for _, v := range t {
			out[v] = append(out[v], int32(f))
		}
	}
	return out
}

// plane is n·x = d with |n| = 1.
type plane struct {
	n r3.Vec
	d float64
}

func (p plane) dist(x r3.Vec) float64 { return r3.Dot(p.n, x) - p.d }

// snap returns where p goes: onto the one plane, the line of two, or the
// corner of three of the planes rs; k is how many planes it was put on.
// Planes within 25° of parallel to one already taken are passed over (a
// vertex between two near-parallel planes goes onto the first).
func snap(p r3.Vec, rs []int32, planes []plane) (q r3.Vec, k int, ok bool) {
	var use []plane
	for _, r := range rs {
		pl := planes[r]
		distinct := true
		for _, u := range use {
			if math.Abs(r3.Dot(u.n, pl.n)) > math.Cos(25*math.Pi/180) {
				distinct = false
				break
			}
		}
		if distinct {
			use = append(use, pl)
		}
		if len(use) == 3 {
			break
		}
	}
	switch len(use) {
	case 1:
		pl := use[0]
		return r3.Sub(p, r3.Scale(pl.dist(p), pl.n)), 1, true
	case 2:
		// The nearest point of the line n1·x = d1, n2·x = d2: p − Σ λi ni
		// with the 2×2 Gram system for λ.
		n1, n2 := use[0].n, use[1].n
		g12 := r3.Dot(n1, n2)
		det := 1 - g12*g12
		if det < 1e-6 {
			return p, 0, false
		}
		r1, r2 := use[0].dist(p), use[1].dist(p)
		l1 := (r1 - g12*r2) / det
		l2 := (r2 - g12*r1) / det
		return r3.Sub(p, r3.Add(r3.Scale(l1, n1), r3.Scale(l2, n2))), 2, true
	default:
		a := [9]float64{
			use[0].n.X, use[0].n.Y, use[0].n.Z,
			use[1].n.X, use[1].n.Y, use[1].n.Z,
			use[2].n.X, use[2].n.Y, use[2].n.Z,
		}
		x, ok := geom.Solve3(a, [3]float64{use[0].d, use[1].d, use[2].d}, 0.05)
		if !ok {
			return p, 0, false
		}
		return r3.Vec{X: x[0], Y: x[1], Z: x[2]}, 3, true
	}
}

// growPlanes assigns faces to planes: region[f] is the plane of face f or
// −1. Seeds are taken smoothest first (faces whose neighbours' normals agree
// with their own best); each region grows over edge neighbours within
// MaxAngle of the plane's normal and Tolerance of it, refitted whenever it
// has doubled, and is kept if it covers MinShare of the area.
func growPlanes(ctx context.Context, m *geom.Mesh, o *FlattenOptions, rep *FlattenReport) ([]int32, []plane, error) {
	nf := len(m.Faces)
	normal := make([]r3.Vec, nf)
	centre := make([]r3.Vec, nf)
	area := make([]float64, nf)
	var total float64
	for f := range m.Faces {
		a, b, c := corners(m, f)
		cr := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
		area[f] = r3.Norm(cr) / 2
		total += area[f]
		if area[f] > 0 {
			normal[f] = r3.Scale(1/(2*area[f]), cr)
		}
		centre[f] = r3.Scale(1.0/3, r3.Add(a, r3.Add(b, c)))
	}
	if !(total > 0) {
		return nil, nil, errors.New("flatten: the mesh has no area")
	}
	nbrs := faceNeighbours(m)
	rough := make([]float64, nf)
	for f := range nf {
		var s float64
		for _, g := range nbrs[f] {
			s += 1 - r3.Dot(normal[f], normal[g])
		}
		rough[f] = s
		if area[f] == 0 {
			rough[f] = math.Inf(1)
		}
	}
	order := make([]int32, nf)
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case rough[a] < rough[b]:
			return -1
		case rough[a] > rough[b]:
			return 1
		}
		return 0
	})
	region := make([]int32, nf)
	for i := range region {
		region[i] = -1
	}
	tried := make([]bool, nf) // faces of regions grown and dropped: not seeds again
	cosMax := math.Cos(o.MaxAngle * math.Pi / 180)
	var planes []plane
	var queue, members []int32
	for i, seed := range order {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		if region[seed] >= 0 || tried[seed] || math.IsInf(rough[seed], 1) {
			continue
		}
		id := int32(len(planes))
		pl := plane{n: normal[seed], d: r3.Dot(normal[seed], centre[seed])}
		members = append(members[:0], seed)
		queue = append(queue[:0], seed)
		region[seed] = id
		refit := 8
		var acc float64
		for len(queue) > 0 {
			f := queue[0]
			queue = queue[1:]
			for _, g := range nbrs[f] {
				if region[g] >= 0 || area[g] == 0 {
					continue
				}
				if r3.Dot(normal[g], pl.n) < cosMax || math.Abs(pl.dist(centre[g])) > o.Tolerance {
					continue
				}
				region[g] = id
				members = append(members, g)
				queue = append(queue, g)
				if len(members) >= refit {
					if np, ok := fitPlane(m, members, area, pl.n); ok {
						pl = np
					}
					refit *= 2
				}
			}
		}
		for _, f := range members {
			acc += area[f]
		}
		if acc < o.MinShare*total {
			for _, f := range members {
				region[f] = -1
				tried[f] = true
			}
			continue
		}
		if np, ok := fitPlane(m, members, area, pl.n); ok {
			pl = np
		}
		if curved(m, members, pl, 1e-3*o.Tolerance) {
			for _, f := range members {
				region[f] = -1
				tried[f] = true
			}
			rep.Curved++
			continue
		}
		if o.Up != (r3.Vec{}) {
			pl = square(m, members, area, pl, r3.Unit(o.Up), o.SquareDeg)
		}
		planes = append(planes, pl)
		var ss float64
		var nv int
		for _, f := range members {
			for _, v := range m.Faces[f] {
				d := pl.dist(m.Vertices[v])
				ss += d * d
				nv++
			}
		}
		rep.Planes = append(rep.Planes, FlatPlane{Normal: [3]float64{pl.n.X, pl.n.Y, pl.n.Z}, Offset: pl.d, Share: acc / total, RMS: math.Sqrt(ss / float64(nv))})
	}
	return region, planes, nil
}

// curved reports whether the region's vertices follow a curved surface
// rather than scatter about the plane: whether a quadric height field over
// the plane, h = a + bx + cy + dx² + exy + fy², fits them with under half
// the plane's RMS residual. Noise on a flat face is not explained by the
// three quadratic terms; the bulge of a cylinder or sphere is. A region
// within floor of its plane (RMS) is flat whatever the fit: its residuals
// are rounding.
func curved(m *geom.Mesh, faces []int32, pl plane, floor float64) bool {
	u := r3.Unit(r3.Cross(pl.n, r3.Vec{X: 1}))
	if r3.Norm(r3.Cross(pl.n, r3.Vec{X: 1})) < 0.5 {
		u = r3.Unit(r3.Cross(pl.n, r3.Vec{Y: 1}))
	}
	w := r3.Cross(pl.n, u)
	seen := map[int32]bool{}
	var rows [][6]float64
	var hs []float64
	var o r3.Vec
	first := true
	step := max(1, len(faces)/4000)
	for i := 0; i < len(faces); i += step {
		for _, v := range m.Faces[faces[i]] {
			if seen[v] {
				continue
			}
			seen[v] = true
			p := m.Vertices[v]
			if first {
				o, first = p, false
			}
			d := r3.Sub(p, o)
			x, y := r3.Dot(d, u), r3.Dot(d, w)
			rows = append(rows, [6]float64{1, x, y, x * x, x * y, y * y})
			hs = append(hs, pl.dist(p))
		}
	}
	if len(rows) < 12 {
		return false
	}
	rmsPlane := rmsOf(hs)
	if rmsPlane <= floor {
		return false
	}
	// Least squares by QR (gonum): the residual of the quadric fit.
	a := mat.NewDense(len(rows), 6, nil)
	for i, r := range rows {
		a.SetRow(i, r[:])
	}
	var coef mat.VecDense
	if err := coef.SolveVec(a, mat.NewVecDense(len(hs), hs)); err != nil {
		return false
	}
	res := make([]float64, len(hs))
	for i, r := range rows {
		var h float64
		for k := range 6 {
			h += r[k] * coef.AtVec(k)
		}
		res[i] = hs[i] - h
	}
	return rmsOf(res) < 0.5*rmsPlane
}

func rmsOf(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v * v
	}
	return math.Sqrt(s / float64(len(x)))
}

// fitPlane fits a plane to the faces' corners, each weighted by its face's
// area (geom.FitPlane), turned to agree with near.
func fitPlane(m *geom.Mesh, faces []int32, area []float64, near r3.Vec) (plane, bool) {
	pts := make([]r3.Vec, 0, 3*len(faces))
	for _, f := range faces {
		for _, v := range m.Faces[f] {
			pts = append(pts, m.Vertices[v])
		}
	}
	c, n, ok := geom.FitPlane(pts, func(i int) float64 { return area[faces[i/3]] }, near)
	if !ok {
		return plane{}, false
	}
	return plane{n: n, d: r3.Dot(n, c)}, true
}

// faceNeighbours returns, for each face, the faces sharing an edge with it,
// in a order that depends only on the mesh (so that Flatten does too).
func faceNeighbours(m *geom.Mesh) [][]int32 {
	type half struct {
		key  uint64
		face int32
	}
	hs := make([]half, 0, 3*len(m.Faces))
	for f, fc := range m.Faces {
		for k := range 3 {
			a, b := fc[k], fc[(k+1)%3]
			if a > b {
				a, b = b, a
			}
			hs = append(hs, half{uint64(uint32(a))<<32 | uint64(uint32(b)), int32(f)})
		}
	}
	slices.SortFunc(hs, func(x, y half) int {
		switch {
		case x.key != y.key:
			return cmp.Compare(x.key, y.key)
		default:
			return cmp.Compare(x.face, y.face)
		}
	})
	out := make([][]int32, len(m.Faces))
	for i := 0; i < len(hs); {
		j := i
		for j < len(hs) && hs[j].key == hs[i].key {
			j++
		}
		for _, p := range hs[i:j] {
			for _, q := range hs[i:j] {
				if p.face != q.face {
					out[p.face] = append(out[p.face], q.face)
				}
			}
		}
		i = j
	}
	return out
}

// corners returns the corners of face f.
func corners(m *geom.Mesh, f int) (a, b, c r3.Vec) {
	fc := m.Faces[f]
	return m.Vertices[fc[0]], m.Vertices[fc[1]], m.Vertices[fc[2]]
}

// planeGrid answers whether a plane has a vertex of its faces near a point:
// a hash grid of cell c over each plane's vertices.
type planeGrid struct {
	c     float64
	cells map[[4]int32]struct{}
}

func newPlaneGrid(m *geom.Mesh, regions []int32, c float64) *planeGrid {
	g := &planeGrid{c: c, cells: map[[4]int32]struct{}{}}
	for f, r := range regions {
		if r < 0 {
			continue
		}
		for _, v := range m.Faces[f] {
			g.cells[g.key(r, m.Vertices[v])] = struct{}{}
		}
	}
	return g
}

func (g *planeGrid) key(r int32, p r3.Vec) [4]int32 {
	return [4]int32{r, int32(math.Floor(p.X / g.c)), int32(math.Floor(p.Y / g.c)), int32(math.Floor(p.Z / g.c))}
}

// has reports whether plane r has a vertex within about one cell of p (in
// p's cell or one next to it).
func (g *planeGrid) has(r int32, p r3.Vec) bool {
	k := g.key(r, p)
	for dx := int32(-1); dx <= 1; dx++ {
		for dy := int32(-1); dy <= 1; dy++ {
			for dz := int32(-1); dz <= 1; dz++ {
				if _, ok := g.cells[[4]int32{r, k[1] + dx, k[2] + dy, k[3] + dz}]; ok {
					return true
				}
			}
		}
	}
	return false
}
