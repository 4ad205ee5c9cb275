package cad

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// AssembleOptions tunes Assemble. A nil *AssembleOptions, and every zero
// field, means the default.
type AssembleOptions struct {
	// Fit tunes the fitting of the surfaces; its Progress is replaced.
	Fit *FitOptions
	// Samples is how many points Fit gets, drawn from the mesh's surface
	// evenly by area, each with its triangle's normal. Zero means as many
	// as the mesh has triangles, at least 50,000 and at most 400,000:
	// enough that a feature of 0.5 % of the surface gets a few hundred.
	Samples int
	// Progress, if not nil, is called with the share of the work done,
	// from 0 to 1, from the goroutine that called Assemble.
	Progress func(float64)
}

// AssembleReport says what Assemble made.
type AssembleReport struct {
	Fit      *FitReport     // nil when nothing was fitted
	Faces    int            // faces of the solid
	Fitted   int            // faces on fitted surfaces
	Freeform int            // flat facets standing for the freeform remainder
	Surfaces map[string]int // fitted faces by surface: "plane", "cylinder", "cone", "sphere"
	// Features lists what was fitted, for people, one line each, the most
	// telling first: "2 holes Ø8.0 mm", "6 planes".
	Features []string
	// Holes are the diameters of the fitted holes (cylinders the part's
	// material surrounds), in mm, largest first.
	Holes []float64
	// Demoted counts triangles given up to facets because the solid could
	// not be closed with them on their surfaces (see Assemble).
	Demoted int
	// Tolerance is the largest distance, in mm, of a vertex of the solid
	// from a face it bounds or of an edge's mesh point from its curve: what
	// the STEP should declare as its uncertainty.
	Tolerance float64
	// Faceted is true when the solid is FromMesh's, made of the mesh's flat
	// facets alone; Note says why.
	Faceted bool
	Note    string
	// Volume is the solid's, from a tessellation within volumeTol of
	// its size (exact for a faceted solid).
	Volume  float64
	Seconds float64
}

// Assemble's check of its solid: tessellated within volumeTol of the
// mesh's largest extent, it must enclose the mesh's volume within
// volumeShare. Fitted surfaces smooth noise away and straighten edges,
// which moves the volume by a fraction of a per cent on the parts tested.
const (
	volumeTol   = 1e-4
	volumeShare = 0.02
)

// Assemble makes a solid with analytic faces from a closed triangle mesh
// (the scaled, repaired model):
//
//  1. Points are drawn evenly over the mesh's surface with their
//     triangles' normals, and Fit splits them into planes, cylinders, cones
//     and spheres (efficient RANSAC, least squares, snapping).
//  2. Each triangle takes the surface most of its points went to, if its
//     corners lie within 1.5 ε of it and its normal within 30°; otherwise
//     the best surface that passes that test, or none: freeform. Triangles
//     surrounded by one surface they fit join it, and edge-connected
//     triangles of one surface form a region; a region of fewer than three
//     triangles goes to freeform.
//  3. Every vertex is moved onto all the surfaces of the regions around it
//     (Gauss–Newton from the vertex to the nearest point of their
//     intersection): onto a plane, onto the line where two planes meet,
//     onto the circle where a hole meets a face, onto a corner point.
//  4. Each region becomes a face on its surface; each freeform triangle a
//     flat face of its own, marked Freeform. Faces are bounded by the
//     mesh's region boundaries, traced into loops and split into edges
//     where a third face joins: two planes meet in a straight edge, a plane
//     square to a cylinder's, cone's or sphere's axis (or two such surfaces
//     on one axis) in a circle or an arc, and other pairs, and every edge of
//     a facet, in straight pieces between the mesh's vertices, which lie on
//     both faces. The mesh's topology is the solid's, so the shell is
//     closed and manifold by construction.
//
// A region whose vertices cannot be brought onto its neighbours' surfaces
// within 4 ε (surfaces that do not meet where the mesh says they do), or
// whose move turns a facet over, is given up to facets and the rest
// assembled again, at most six times; the report counts them. The solid
// is then tessellated, and must enclose the mesh's volume within 2 %.
// With no surface fitted, or no valid solid after that, Assemble returns
// FromMesh's faceted solid and says so in the report: a valid solid
// always comes out of a watertight mesh.
//
// The mesh must be watertight, faces counter-clockwise seen from outside,
// no zero-area triangle (ErrNotWatertight, ErrEmptyMesh otherwise).
func Assemble(ctx context.Context, m *geom.Mesh, name string, o *AssembleOptions) (*Solid, *AssembleReport, error) {
	start := time.Now()
	if o == nil {
		o = &AssembleOptions{}
	}
	progress := func(float64) {}
	if o.Progress != nil {
		progress = o.Progress
	}
	if m == nil || len(m.Faces) == 0 {
		return nil, nil, ErrEmptyMesh
	}
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("cad: invalid mesh: %w", err)
	}
	if t := m.Topology(); !t.Watertight() || t.CollapsedFaces > 0 {
		return nil, nil, fmt.Errorf("%w: %d boundary edges, %d non-manifold edges, %d inconsistently oriented edges, %d collapsed faces",
			ErrNotWatertight, t.BoundaryEdges, t.NonManifoldEdges, t.InconsistentEdges, t.CollapsedFaces)
	}
	// Long thin triangles are split first (see bisectLong): the surface
	// stays as it was.
	med := mesh.MedianEdge(m)
	work, _ := bisectLong(m, 8*med, nil)
	a, err := newAssembler(work)
	if err != nil {
		return nil, nil, err
	}
	rep := &AssembleReport{Surfaces: map[string]int{}}
	faceted := func(why string) (*Solid, *AssembleReport, error) {
		s, err := FromMesh(m, name)
		if err != nil {
			return nil, nil, err
		}
		rep.Faceted, rep.Note = true, why
		rep.Volume = m.SignedVolume()
		rep.Faces, rep.Fitted, rep.Freeform = len(s.Faces), 0, len(s.Faces)
		rep.Surfaces, rep.Features, rep.Holes = map[string]int{}, nil, nil
		rep.Tolerance = 0
		rep.Seconds = time.Since(start).Seconds()
		progress(1)
		return s, rep, nil
	}

	n := o.Samples
	if n <= 0 {
		n = min(max(len(m.Faces), 50000), 400000)
	}
	pts, nrm, tri := a.sample(n, 1)
	fo := FitOptions{}
	if o.Fit != nil {
		fo = *o.Fit
	}
	fo.Progress = func(x float64) { progress(0.8 * x) }
	prims, _, frep, err := Fit(ctx, pts, nrm, &fo)
	if err != nil {
		return nil, nil, err
	}
	rep.Fit = frep
	if len(prims) == 0 {
		return faceted("no plane, cylinder, cone or sphere recognised: the solid is the mesh's facets")
	}
	a.prims = make([]shape, len(prims))
	a.surfaces = make([]Surface, len(prims))
	for k, p := range prims {
		a.prims[k] = shapeOf(p.Surface)
		a.surfaces[k] = p.Surface
	}
	a.eps = frep.Epsilon
	// A vertex may move 4ε onto its surfaces, or a bevel's width: about
	// one edge of the mesh.
	a.maxMove = max(4*a.eps, 1.5*med)
	a.labelTriangles(prims, tri)
	a.refitCylinders(!fo.NoSnap, rep.Fit)
	progress(0.85)
	for round := 0; round < maxRounds; round++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		a.regions()
		if len(a.regPrim) == 0 {
			return faceted("every fitted region had to be given up: the solid is the mesh's facets")
		}
		bad, relabelled := a.snap()
		if len(bad) == 0 && !relabelled {
			s, err := a.build(name)
			if err == nil {
				err = s.Validate()
			}
			if err == nil {
				// The solid must enclose what the mesh does: faces bounded
				// the wrong way round, or surfaces run far past the mesh,
				// would show here.
				tm, terr := Tessellate(s, volumeTol*a.size)
				var fe *FaceError
				if errors.As(terr, &fe) && fe.Face < len(a.regPrim) && round < maxRounds-1 {
					// A face the tessellator cannot follow is given up to
					// facets, and the rest assembled again.
					rep.Demoted += a.demoteRegion(int32(fe.Face))
					continue
				}
				if terr != nil {
					return faceted(fmt.Sprintf("the fitted faces could not be checked (%v): the solid is the mesh's facets", terr))
				}
				rep.Volume = tm.SignedVolume()
				if want := m.SignedVolume(); !(math.Abs(rep.Volume-want) <= volumeShare*math.Abs(want)) {
					return faceted(fmt.Sprintf("the fitted faces enclose %.4g, the mesh %.4g: the solid is the mesh's facets", rep.Volume, want))
				}
				a.report(s, rep)
				rep.Seconds = time.Since(start).Seconds()
				progress(1)
				return s, rep, nil
			}
			if errors.Is(err, errBadRegion) {
				bad = a.badVerts
			} else {
				return faceted(fmt.Sprintf("the fitted faces did not make a valid solid (%v): the solid is the mesh's facets", err))
			}
		}
		if round == maxRounds-1 {
			break
		}
		rep.Demoted += a.demoteAround(bad)
	}
	return faceted("the fitted faces did not close into a valid solid: the solid is the mesh's facets")
}

// errBadRegion says build found boundaries it cannot make edges of; their
// vertices are in assembler.badVerts.
var errBadRegion = errors.New("cad: regions that cannot be bounded")

// assembler holds a mesh on its way to a solid.
type assembler struct {
	m      *geom.Mesh
	pos    []r3.Vec // vertex positions, moved by snap
	normal []r3.Vec // unit triangle normals of the input
	// vnormal are smoothed unit vertex normals: the area-weighted normals
	// of the triangles around each vertex, averaged again over its
	// neighbours. A scanned mesh's triangles are about as small as its
	// noise allows, so their own normals scatter by several degrees; the
	// fitting and the labelling need them steadier than that.
	vnormal []r3.Vec
	area    []float64
	total   float64 // area of the mesh
	size    float64 // largest extent of the mesh
	twin    []int32 // half-edge 3·t+k runs from corner k to k+1 of triangle t
	out     []int32 // CSR of outgoing half-edges: outStart[v]..outStart[v+1]
	outAt   []int32

	prims    []shape
	surfaces []Surface
	eps      float64
	maxMove  float64   // how far snap may move a vertex
	tried    []bool    // per triangle: snap has tried to join it to a neighbour
	vtol     []float64 // per primitive: how far a triangle's corners may lie

	label    []int32 // per triangle: primitive or -1
	region   []int32 // per triangle: region, -1 for freeform
	regPrim  []int32 // per region: primitive
	regArea  []float64
	badVerts []int32
}

func newAssembler(m *geom.Mesh) (*assembler, error) {
	nf := len(m.Faces)
	a := &assembler{m: m, pos: slices.Clone(m.Vertices), normal: make([]r3.Vec, nf), area: make([]float64, nf)}
	for i := range m.Faces {
		p0, p1, p2 := m.Vertices[m.Faces[i][0]], m.Vertices[m.Faces[i][1]], m.Vertices[m.Faces[i][2]]
		c := r3.Cross(r3.Sub(p1, p0), r3.Sub(p2, p0))
		l := r3.Norm(c)
		if !(l > 0) {
			return nil, fmt.Errorf("cad: mesh face %d has zero area", i)
		}
		a.normal[i], a.area[i] = r3.Scale(1/l, c), l/2
		a.total += l / 2
	}
	a.size = m.Bounds().MaxExtent()
	a.twin, a.out, a.outAt = halfEdges(m)
	a.vnormal = a.vertexNormals()
	return a, nil
}

// halfEdges returns, for a watertight consistently oriented mesh, the twin
// of every half-edge h = 3·face + corner (running from the corner to the
// next), and the half-edges leaving each vertex v, out[outAt[v]:outAt[v+1]]
// (one per triangle around v). It works through the vertices' lists rather
// than a map: linear time and no hashing, which matters at millions of
// triangles.
func halfEdges(m *geom.Mesh) (twin, out, outAt []int32) {
	nv, nf := len(m.Vertices), len(m.Faces)
	outAt = make([]int32, nv+1)
	for _, f := range m.Faces {
		for k := range 3 {
			outAt[f[k]+1]++
		}
	}
	for v := range nv {
		outAt[v+1] += outAt[v]
	}
	out = make([]int32, 3*nf)
	fill := slices.Clone(outAt[:nv])
	for i, f := range m.Faces {
		for k := range 3 {
			out[fill[f[k]]] = int32(3*i + k)
			fill[f[k]]++
		}
	}
	twin = make([]int32, 3*nf)
	for i, f := range m.Faces {
		for k := range 3 {
			u, v := f[k], f[(k+1)%3]
			twin[3*i+k] = -1
			for _, h := range out[outAt[v]:outAt[v+1]] {
				if m.Faces[h/3][(h%3+1)%3] == u {
					twin[3*i+k] = h
					break
				}
			}
		}
	}
	return twin, out, outAt
}

// vertexNormals returns the smoothed vertex normals (see vnormal).
func (a *assembler) vertexNormals() []r3.Vec {
	n := make([]r3.Vec, len(a.pos))
	for t, f := range a.m.Faces {
		w := r3.Scale(a.area[t], a.normal[t])
		for _, v := range f {
			n[v] = r3.Add(n[v], w)
		}
	}
	// Once more over each vertex's neighbours (the far ends of the
	// half-edges leaving it), itself included.
	out := make([]r3.Vec, len(n))
	for v := range n {
		sum := n[v]
		for _, h := range a.out[a.outAt[v]:a.outAt[v+1]] {
			sum = r3.Add(sum, n[a.m.Faces[h/3][(h%3+1)%3]])
		}
		if l := r3.Norm(sum); l > 0 {
			out[v] = r3.Scale(1/l, sum)
		}
	}
	return out
}

// sampleCos is the cosine of the largest angle between a triangle's normal
// and the smoothed normal at a point of it that sample gives the point.
var sampleCos = math.Cos(25 * math.Pi / 180)

// sample draws about n points evenly over the surface (systematic sampling
// by area with a random start), each with its triangle's normal and index.
func (a *assembler) sample(n int, seed uint64) (pts, nrm []r3.Vec, tri []int32) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	step := a.total / float64(n)
	acc := rng.Float64() * step
	pts, nrm, tri = make([]r3.Vec, 0, n+1), make([]r3.Vec, 0, n+1), make([]int32, 0, n+1)
	for i, f := range a.m.Faces {
		acc += a.area[i]
		for acc >= step {
			acc -= step
			u, v := rng.Float64(), rng.Float64()
			if u+v > 1 {
				u, v = 1-u, 1-v
			}
			p0, p1, p2 := a.pos[f[0]], a.pos[f[1]], a.pos[f[2]]
			p := r3.Add(p0, r3.Add(r3.Scale(u, r3.Sub(p1, p0)), r3.Scale(v, r3.Sub(p2, p0))))
			n := r3.Add(r3.Scale(1-u-v, a.vnormal[f[0]]), r3.Add(r3.Scale(u, a.vnormal[f[1]]), r3.Scale(v, a.vnormal[f[2]])))
			// Near an edge the smoothed normals lean towards the next
			// face; there the triangle's own is the better guess.
			if l := r3.Norm(n); l > 0 && r3.Dot(n, a.normal[i]) >= sampleCos*l {
				n = r3.Scale(1/l, n)
			} else {
				n = a.normal[i]
			}
			pts, nrm, tri = append(pts, p), append(nrm, n), append(tri, int32(i))
		}
	}
	return pts, nrm, tri
}

// shapeOf is the fitting's form of a B-rep surface.
func shapeOf(s Surface) shape {
	switch g := s.(type) {
	case *Plane:
		return shape{kind: kindPlane, c: g.Origin, a: g.Normal}
	case *Cylinder:
		return shape{kind: kindCylinder, c: g.Origin, a: g.Axis, r: g.Radius}
	case *Sphere:
		return shape{kind: kindSphere, c: g.Centre, a: g.Axis, r: g.Radius}
	case *Cone:
		return shape{kind: kindCone, c: r3.Sub(g.Origin, r3.Scale(g.Radius/math.Tan(g.SemiAngle), g.Axis)), a: g.Axis, ang: g.SemiAngle}
	}
	panic(fmt.Sprintf("cad: surface %T", s))
}

// Labelling tolerances: a triangle's corners within triTol·ε of its
// surface, or within triSigma times the root mean square distance of the
// corners of the triangles its points voted for, if more (the points the
// fitting saw lie inside triangles, where the vertices' noise partly
// averages out, so ε can be tighter than the vertices' own scatter); its
// smoothed normal within triDeg of the surface's or its own within
// triDegOwn (either way round).
const (
	triTol    = 1.5
	triSigma  = 4
	triDeg    = 30
	triDegOwn = 45 // a small triangle's own normal scatters more
)

// fitsTri reports whether triangle t fits primitive k, and its corners'
// largest distance from it.
func (a *assembler) fitsTri(t int, k int32) (bool, float64) {
	s := &a.prims[k]
	f := a.m.Faces[t]
	var worst float64
	var sn r3.Vec
	for c := range 3 {
		d, n := s.distNormal(a.m.Vertices[f[c]])
		worst = max(worst, math.Abs(d))
		sn = r3.Add(sn, n)
	}
	if !(worst <= a.vtol[k]) {
		return false, worst
	}
	l := r3.Norm(sn)
	// A sliver's normal says nothing: noise of the size of its width turns
	// it any way. One narrower than twice the corner tolerance is judged
	// by its corners alone.
	var longest float64
	for c := range 3 {
		longest = max(longest, r3.Norm(r3.Sub(a.m.Vertices[f[c]], a.m.Vertices[f[(c+1)%3]])))
	}
	if 2*a.area[t]/longest < 2*a.vtol[k] {
		return l > 0, worst
	}
	tn := r3.Add(a.vnormal[f[0]], r3.Add(a.vnormal[f[1]], a.vnormal[f[2]]))
	lt := r3.Norm(tn)
	if !(l > 0) {
		return false, worst
	}
	// Either normal will do: the smoothed one is steadier inside a face,
	// the triangle's own does not lean towards the next face at an edge.
	return math.Abs(r3.Dot(a.normal[t], sn))/l >= math.Cos(triDegOwn*math.Pi/180) ||
		lt > 0 && math.Abs(r3.Dot(tn, sn))/(l*lt) >= math.Cos(triDeg*math.Pi/180), worst
}

// label gives each triangle the primitive most of its sample points went
// to, or the best that fits it, or -1; then absorbs specks.
func (a *assembler) labelTriangles(prims []Primitive, tri []int32) {
	nf := len(a.m.Faces)
	a.label = make([]int32, nf)
	cnt := make([]int32, nf)
	for i := range a.label {
		a.label[i] = -1
	}
	// Boyer–Moore majority vote per triangle over its points.
	for k, p := range prims {
		for _, i := range p.Points {
			t := tri[i]
			switch {
			case a.label[t] == int32(k):
				cnt[t]++
			case cnt[t] == 0:
				a.label[t], cnt[t] = int32(k), 1
			default:
				cnt[t]--
			}
		}
	}
	// Each primitive's corner tolerance, from the triangles voted to it.
	ss := make([]float64, len(a.prims))
	cn := make([]float64, len(a.prims))
	for t := range nf {
		if k := a.label[t]; k >= 0 {
			for _, v := range a.m.Faces[t] {
				d, _ := a.prims[k].distNormal(a.m.Vertices[v])
				ss[k] += d * d
				cn[k]++
			}
		}
	}
	a.vtol = make([]float64, len(a.prims))
	for k := range a.vtol {
		a.vtol[k] = triTol * a.eps
		if cn[k] > 0 {
			a.vtol[k] = max(a.vtol[k], triSigma*math.Sqrt(ss[k]/cn[k]))
		}
	}
	for t := range nf {
		if k := a.label[t]; k >= 0 {
			if ok, _ := a.fitsTri(t, k); ok {
				continue
			}
		}
		a.label[t] = -1
		best := math.Inf(1)
		for k := range int32(len(a.prims)) {
			if ok, d := a.fitsTri(t, k); ok && d < best {
				a.label[t], best = k, d
			}
		}
	}
	// A triangle whose three neighbours share one primitive it lies within
	// 3ε of joins it: noise, or a sliver the mesher left on an edge.
	for range 2 {
		for t := range nf {
			ks := a.neighbours(t)
			k := ks[0]
			if k < 0 || k == a.label[t] || ks[1] != k || ks[2] != k {
				continue
			}
			if a.cornersOn(t, k, 3*a.eps) == 3 {
				a.label[t] = k
			}
		}
	}
	a.absorb()
	// Specks — regions of one or two triangles, cut off from their
	// surface's region — go to a neighbour's surface if they fit it.
	a.regions()
	specks := false
	for t, r := range a.region {
		if r < 0 && a.label[t] >= 0 {
			a.label[t], specks = -1, true
		}
	}
	// So do pieces of a surface's region pinched off at a vertex, up to a
	// quarter of the piece they touch: a few triangles at the foot of a
	// wall, labelled the wall's but joined to it by a corner only, would
	// make a face of their own.
	var regs []int32
	pinched := map[int32]bool{}
	for v := range a.pos {
		regs = a.regionsAt(int32(v), regs[:0])
		for i, r := range regs {
			for _, q := range regs[i+1:] {
				if r < 0 || q < 0 || a.regPrim[r] != a.regPrim[q] {
					continue
				}
				small, big := r, q
				if a.regArea[small] > a.regArea[big] {
					small, big = big, small
				}
				if a.regArea[small] < 0.25*a.regArea[big] {
					pinched[small] = true
				}
			}
		}
	}
	if len(pinched) > 0 {
		for t, r := range a.region {
			if r >= 0 && pinched[r] {
				a.label[t], specks = -1, true
			}
		}
	}
	if specks {
		a.absorb()
	}
}

// refitCylinders fits each cylinder again, axis kept, to the vertices of
// its triangles, and snaps its diameter again (as Fit does) if snap. The
// points Fit saw lie inside triangles; on a wall made of flat strips
// between points of a traced outline (a hole pipeline/holes cut) those are
// chords inside the circle through the outline, and the fit came out a
// few hundredths of a millimetre small — enough to round Ø7.948 to Ø7.9.
// The vertices lie on the circle. On a noisy mesh they are as good as the
// points.
func (a *assembler) refitCylinders(snap bool, rep *FitReport) {
	for k := range int32(len(a.prims)) {
		s := a.prims[k]
		if s.kind != kindCylinder {
			continue
		}
		seen := map[int32]bool{}
		var pts []r3.Vec
		for t, l := range a.label {
			if l != k {
				continue
			}
			for _, v := range a.m.Faces[t] {
				if !seen[v] {
					seen[v] = true
					pts = append(pts, a.m.Vertices[v])
				}
			}
		}
		if len(pts) < 6 {
			continue
		}
		t := accept(s, refineCylinder(s, pts, true))
		if !(math.Abs(t.r-s.r) < 0.05*s.r) {
			continue // not the same cylinder: keep Fit's
		}
		was := 2 * t.r
		if snap {
			if q := math.Round(was/snapDiamStep) * snapDiamStep; q > 0 && math.Abs(was-q) <= snapDiamTol {
				t.r = q / 2
			}
		}
		if t.r != s.r || t.c != s.c {
			rep.Snaps = append(rep.Snaps, fmt.Sprintf("cylinder %d fitted again to its %d vertices: Ø%.3f, Ø%.1f", k, len(pts), was, 2*t.r))
		}
		a.prims[k] = t
		g := *a.surfaces[k].(*Cylinder)
		g.Origin, g.Radius = t.c, t.r
		a.surfaces[k] = &g
	}
}

// neighbours returns the labels of the three triangles across t's edges.
func (a *assembler) neighbours(t int) [3]int32 {
	return [3]int32{a.label[a.twin[3*t]/3], a.label[a.twin[3*t+1]/3], a.label[a.twin[3*t+2]/3]}
}

// cornersOn counts the corners of triangle t (as input) within tol of
// primitive k.
func (a *assembler) cornersOn(t int, k int32, tol float64) int {
	n := 0
	for _, v := range a.m.Faces[t] {
		if d, _ := a.prims[k].distNormal(a.m.Vertices[v]); math.Abs(d) <= tol {
			n++
		}
	}
	return n
}

// absorb gives a freeform triangle next to a fitted one whose surface its
// corners lie within twice that surface's tolerance of to it, the surface
// of most of its neighbours first: triangles whose normals noise turned
// too far, along edges and rims. Three passes reach three triangles in.
func (a *assembler) absorb() {
	nf := len(a.m.Faces)
	for range 3 {
		changed := false
		for t := range nf {
			if a.label[t] >= 0 {
				continue
			}
			ks := a.neighbours(t)
			if ks[1] == ks[2] {
				ks[0], ks[1] = ks[1], ks[0] // the shared one first
			}
			for _, k := range ks {
				if k >= 0 && a.cornersOn(t, k, 2*a.vtol[k]) == 3 {
					a.label[t], changed = k, true
					break
				}
			}
		}
		if !changed {
			break
		}
	}
	// A freeform triangle each of whose corners lies on one or other of
	// its neighbours' surfaces spans the edge where they meet: a bevel
	// the mesher cut across a sharp edge. It joins the neighbour with most
	// of its corners, and snap then moves the corner left over onto the
	// edge.
	for range 2 {
		changed := false
		for t := range nf {
			if a.label[t] >= 0 {
				continue
			}
			ks := a.neighbours(t)
			f := a.m.Faces[t]
			covered := 0
			for _, v := range f {
				for _, k := range ks {
					if k < 0 {
						continue
					}
					if d, _ := a.prims[k].distNormal(a.m.Vertices[v]); math.Abs(d) <= 2*a.vtol[k] {
						covered++
						break
					}
				}
			}
			if covered < 3 {
				continue
			}
			best, bestN := int32(-1), 0
			for _, k := range ks {
				if k < 0 {
					continue
				}
				if n := a.cornersOn(t, k, 2*a.vtol[k]); n > bestN {
					best, bestN = k, n
				}
			}
			if best >= 0 {
				a.label[t], changed = best, true
			}
		}
		if !changed {
			break
		}
	}
}

// regions splits the labelled triangles into edge-connected regions of one
// primitive; regions of fewer than three triangles go to freeform unless
// they are 0.5 % of the surface or more (a box of twelve triangles).
func (a *assembler) regions() {
	nf := len(a.m.Faces)
	a.region = make([]int32, nf)
	for i := range a.region {
		a.region[i] = -1
	}
	a.regPrim, a.regArea = a.regPrim[:0], a.regArea[:0]
	var stack, members []int32
	for seed := range int32(nf) {
		k := a.label[seed]
		if k < 0 || a.region[seed] >= 0 {
			continue
		}
		r := int32(len(a.regPrim))
		a.region[seed] = r
		stack = append(stack[:0], seed)
		members = append(members[:0], seed)
		var ar float64
		for len(stack) > 0 {
			t := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			ar += a.area[t]
			for c := range int32(3) {
				u := a.twin[3*t+c] / 3
				if a.label[u] == k && a.region[u] < 0 {
					a.region[u] = r
					stack = append(stack, u)
					members = append(members, u)
				}
			}
		}
		if len(members) < 3 && ar < 0.005*a.total {
			for _, t := range members {
				a.region[t] = -1
			}
			continue
		}
		a.regPrim = append(a.regPrim, k)
		a.regArea = append(a.regArea, ar)
	}
}

// maxRounds bounds Assemble's tries: each gives up what stopped the last.
const maxRounds = 30

// demoteRegion gives region r's triangles up to freeform and returns how
// many there were.
func (a *assembler) demoteRegion(r int32) int {
	n := 0
	for t, rr := range a.region {
		if rr == r {
			a.label[t] = -1
			n++
		}
	}
	return n
}

// demoteAround gives the fitted triangles around the vertices up to
// freeform and returns how many there were. A vertex that cannot go onto
// its surfaces, or a boundary that makes no edge, is local trouble — a
// sliver, a mislabelled triangle: the facets about it take it, and the
// surfaces keep the rest of their regions.
func (a *assembler) demoteAround(vs []int32) int {
	n := 0
	for _, v := range vs {
		for _, h := range a.out[a.outAt[v]:a.outAt[v+1]] {
			if a.label[h/3] >= 0 {
				a.label[h/3] = -1
				n++
			}
		}
	}
	return n
}

// snap moves every vertex onto the surfaces of the regions around it,
// starting again from the input's positions. It returns the vertices that
// cannot be brought within maxMove onto their surfaces, and the moved
// corners of facets the moves turn over or flatten that cannot join a
// neighbour instead (relabelled says some did).
func (a *assembler) snap() (bad []int32, relabelled bool) {
	copy(a.pos, a.m.Vertices)
	if a.tried == nil {
		a.tried = make([]bool, len(a.m.Faces))
	}
	var regs []int32
	var shapes []*shape
	moved := make([]bool, len(a.pos))
	for v := range a.pos {
		regs = a.regionsAt(int32(v), regs[:0])
		shapes = shapes[:0]
		var prims []int32
		for _, r := range regs {
			if r < 0 {
				continue
			}
			if k := a.regPrim[r]; !slices.Contains(prims, k) {
				prims = append(prims, k)
				shapes = append(shapes, &a.prims[k])
			}
		}
		if len(shapes) == 0 {
			continue
		}
		p, ok := project(a.m.Vertices[v], shapes)
		if !ok || r3.Norm(r3.Sub(p, a.m.Vertices[v])) > a.maxMove {
			bad = append(bad, int32(v))
			continue
		}
		a.pos[v], moved[v] = p, true
	}
	// Facets must keep their orientation and some area.
	for t, f := range a.m.Faces {
		if a.region[t] >= 0 || !(moved[f[0]] || moved[f[1]] || moved[f[2]]) {
			continue
		}
		p0, p1, p2 := a.pos[f[0]], a.pos[f[1]], a.pos[f[2]]
		c := r3.Cross(r3.Sub(p1, p0), r3.Sub(p2, p0))
		if r3.Dot(c, a.normal[t]) > 1e-3*a.area[t] {
			continue
		}
		// Rather than give the surfaces up about it, the facet joins a
		// neighbour whose surface all its corners can go onto: it is most
		// often a sliver between two fitted regions.
		if !a.tried[t] {
			a.tried[t] = true
			joined := false
			for c := range 3 {
				k := a.label[a.twin[3*t+c]/3]
				if k < 0 {
					continue
				}
				ok := true
				for _, v := range f {
					if d, _ := a.prims[k].distNormal(a.m.Vertices[v]); !(math.Abs(d) <= a.maxMove) {
						ok = false
					}
				}
				if ok {
					a.label[t], joined = k, true
					break
				}
			}
			if joined {
				relabelled = true
				continue
			}
		}
		for _, v := range f {
			if moved[v] {
				bad = append(bad, v)
			}
		}
	}
	return bad, relabelled
}

// regionsAt appends the distinct regions (-1 for freeform) of the
// triangles around vertex v to dst.
func (a *assembler) regionsAt(v int32, dst []int32) []int32 {
	for _, h := range a.out[a.outAt[v]:a.outAt[v+1]] {
		if r := a.region[h/3]; !slices.Contains(dst, r) {
			dst = append(dst, r)
		}
	}
	return dst
}

// project moves p to the nearest point on all the shapes by Gauss–Newton
// on their signed distances, each step the least-norm one (damped a
// little, which keeps it defined where two surfaces are tangent). It
// reports false if the distances do not vanish.
func project(p r3.Vec, shapes []*shape) (r3.Vec, bool) {
	x := p
	for range 30 {
		// Normal equations of the least-norm step: (J Jᵀ + λI) y = -f,
		// dx = Jᵀ y, with J's rows the surfaces' unit normals at x.
		k := len(shapes)
		var f [8]float64
		var n [8]r3.Vec
		if k > len(f) {
			k = len(f)
		}
		worst := 0.0
		for i := range k {
			f[i], n[i] = shapes[i].distNormal(x)
			worst = max(worst, math.Abs(f[i]))
		}
		if worst < 1e-12*(1+r3.Norm(x)) {
			return x, true
		}
		g := make([]float64, k*k)
		b := make([]float64, k)
		for i := range k {
			for j := range k {
				g[i*k+j] = r3.Dot(n[i], n[j])
			}
			g[i*k+i] += 1e-9
			b[i] = -f[i]
		}
		y, ok := solveDense(g, b, k)
		if !ok {
			return x, false
		}
		var dx r3.Vec
		for i := range k {
			dx = r3.Add(dx, r3.Scale(y[i], n[i]))
		}
		x = r3.Add(x, dx)
		if !finite(x) {
			return p, false
		}
	}
	worst := 0.0
	for _, s := range shapes {
		d, _ := s.distNormal(x)
		worst = max(worst, math.Abs(d))
	}
	return x, worst < 1e-7*(1+r3.Norm(x))
}

// A chain is a run of boundary half-edges of one face between two corners
// (vertices where three or more faces meet), along one neighbouring face;
// verts[0] is where it starts and verts[len-1] where it ends, equal for a
// loop with no corner.
type chain struct {
	hes   []int32
	verts []int32
}

// build makes the solid from the regions and the snapped positions.
func (a *assembler) build(name string) (*Solid, error) {
	nf := len(a.m.Faces)
	// Faces: one per region, then one per freeform triangle.
	face := make([]int32, nf)
	nfaces := int32(len(a.regPrim))
	for t := range nf {
		if r := a.region[t]; r >= 0 {
			face[t] = r
		} else {
			face[t] = nfaces
			nfaces++
		}
	}
	// A corner has three or more faces around it.
	corner := make([]bool, len(a.pos))
	var around []int32
	for v := range a.pos {
		around = around[:0]
		for _, h := range a.out[a.outAt[v]:a.outAt[v+1]] {
			if fc := face[h/3]; !slices.Contains(around, fc) {
				around = append(around, fc)
			}
		}
		corner[v] = len(around) >= 3
	}
	from := func(h int32) int32 { return a.m.Faces[h/3][h%3] }

	s := &Solid{Name: name}
	s.Faces = make([]Face, nfaces)
	vid := make(map[int32]int, 1024)
	vertex := func(v int32) int {
		if i, ok := vid[v]; ok {
			return i
		}
		vid[v] = len(s.Vertices)
		s.Vertices = append(s.Vertices, a.pos[v])
		return len(s.Vertices) - 1
	}
	byKey := make(map[int32][]int, 1024) // a chain's edges, by its least half-edge
	seen := make([]bool, 3*nf)
	a.badVerts = a.badVerts[:0]
	for h0 := range int32(3 * nf) {
		t := h0 / 3
		F := face[t]
		if seen[h0] || face[a.twin[h0]/3] == F {
			continue
		}
		// Trace the loop through h0.
		var loop []int32
		for h := h0; ; {
			if seen[h] {
				if h != h0 {
					return nil, fmt.Errorf("cad: face %d: boundary loop does not close", F)
				}
				break
			}
			seen[h] = true
			loop = append(loop, h)
			// Next boundary half-edge of F from h's end: turn about it
			// through F's triangles.
			n := h/3*3 + (h%3+1)%3
			for steps := 0; face[a.twin[n]/3] == F; steps++ {
				if steps > 1<<20 {
					return nil, fmt.Errorf("cad: face %d: boundary tracing runs away", F)
				}
				tw := a.twin[n]
				n = tw/3*3 + (tw%3+1)%3
			}
			h = n
		}
		// A loop through one vertex twice — a region pinched there, a
		// facet reaching a hole's rim from the outside — would bound a
		// face that touches itself: give up the triangles about it.
		if F < int32(len(a.regPrim)) {
			visits := make(map[int32]bool, len(loop))
			for _, h := range loop {
				if v := from(h); visits[v] {
					a.badVerts = append(a.badVerts, v)
				} else {
					visits[v] = true
				}
			}
		}
		// Split it into chains at corners.
		first := -1
		for i, h := range loop {
			if corner[from(h)] {
				first = i
				break
			}
		}
		if first < 0 {
			lo := 0
			for i, h := range loop {
				if from(h) < from(loop[lo]) {
					lo = i
				}
			}
			first = lo
		}
		loop = append(loop[first:], loop[:first]...)
		var chains []chain
		for i, h := range loop {
			if i == 0 || corner[from(h)] {
				chains = append(chains, chain{})
			}
			c := &chains[len(chains)-1]
			c.hes = append(c.hes, h)
			c.verts = append(c.verts, from(h))
		}
		for i := range chains {
			next := loop[0]
			if i+1 < len(chains) {
				next = chains[i+1].hes[0]
			}
			chains[i].verts = append(chains[i].verts, from(next))
		}
		var bound []OrientedEdge
		for _, c := range chains {
			key := c.hes[0]
			for _, h := range c.hes {
				key = min(key, h, a.twin[h])
			}
			if mk, ok := byKey[key]; ok {
				for i := len(mk) - 1; i >= 0; i-- {
					bound = append(bound, OrientedEdge{Edge: mk[i], Forward: false})
				}
				continue
			}
			G := face[a.twin[c.hes[0]]/3]
			edges, err := a.chainEdges(s, c, a.faceSurface(F), a.faceSurface(G), vertex)
			if err != nil {
				a.badVerts = append(a.badVerts, c.verts...)
				continue
			}
			byKey[key] = edges
			for _, e := range edges {
				bound = append(bound, OrientedEdge{Edge: e, Forward: true})
			}
		}
		// Two straight edges enclose nothing: a sliver of a region
		// between two others, met only at its ends.
		if curved := slices.ContainsFunc(bound, func(oe OrientedEdge) bool { return s.Edges[oe.Edge].Curve != nil }); len(bound) < 3 && !curved {
			for _, h := range loop {
				a.badVerts = append(a.badVerts, from(h))
			}
		}
		s.Faces[F].Bounds = append(s.Faces[F].Bounds, bound)
	}
	// A region that is a whole closed piece of the mesh (a ball fitted
	// as one sphere) has no boundary to bound a face by: a few of its
	// triangles become facets, which gives it one.
	for r := range int32(len(a.regPrim)) {
		if len(s.Faces[r].Bounds) == 0 {
			for t, fc := range face {
				if fc == r {
					a.badVerts = append(a.badVerts, a.m.Faces[t][0])
					break
				}
			}
		}
	}
	if len(a.badVerts) > 0 {
		return nil, errBadRegion
	}
	// Surfaces and senses.
	for r := range a.regPrim {
		a.regionFace(s, int32(r), face)
	}
	for t := range nf {
		if face[t] < int32(len(a.regPrim)) {
			continue
		}
		f := a.m.Faces[t]
		p0, p1, p2 := a.pos[f[0]], a.pos[f[1]], a.pos[f[2]]
		nrm := r3.Unit(r3.Cross(r3.Sub(p1, p0), r3.Sub(p2, p0)))
		s.Faces[face[t]].Surface = &Plane{Origin: p0, Normal: nrm, XDir: r3.Unit(r3.Sub(p1, p0))}
		s.Faces[face[t]].SameSense = true
		s.Faces[face[t]].Freeform = true
	}
	return s, nil
}

// faceSurface returns the surface of face F, nil for a facet.
func (a *assembler) faceSurface(F int32) *shape {
	if F < int32(len(a.regPrim)) {
		return &a.prims[a.regPrim[F]]
	}
	return nil
}

// chainEdges makes the edges of a chain between two faces on surfaces sf
// and sg (nil for a facet), in its direction.
func (a *assembler) chainEdges(s *Solid, c chain, sf, sg *shape, vertex func(int32) int) ([]int, error) {
	v0, v1 := c.verts[0], c.verts[len(c.verts)-1]
	add := func(e Edge) int {
		s.Edges = append(s.Edges, e)
		return len(s.Edges) - 1
	}
	if sf != nil && sg != nil {
		switch {
		case sf.kind == kindPlane && sg.kind == kindPlane && v0 != v1:
			p, q := a.pos[v0], a.pos[v1]
			if r3.Norm(r3.Sub(p, q)) < 1e-6*(1+r3.Norm(p)) {
				return nil, fmt.Errorf("cad: straight edge of no length")
			}
			return []int{add(Edge{V0: vertex(v0), V1: vertex(v1)})}, nil
		default:
			if axis, centreOn, ok := circleAxis(sf, sg); ok {
				if e, ok := a.circleEdge(c, axis, centreOn, vertex); ok {
					return []int{add(e)}, nil
				}
			} else if e, ok := a.ellipseEdge(c, sf, sg, vertex); ok {
				return []int{add(e)}, nil
			}
		}
	}
	// Straight pieces between the mesh's vertices.
	var out []int
	for i := 0; i+1 < len(c.verts); i++ {
		p, q := a.pos[c.verts[i]], a.pos[c.verts[i+1]]
		if r3.Norm(r3.Sub(p, q)) < 1e-9*(1+r3.Norm(p)) {
			return nil, fmt.Errorf("cad: straight edge of no length")
		}
		out = append(out, add(Edge{V0: vertex(c.verts[i]), V1: vertex(c.verts[i+1])}))
	}
	return out, nil
}

// circleAxis reports whether two surfaces meet in circles: a plane square
// to the axis of a cylinder, cone or sphere (any plane meets a sphere in a
// circle), or two of those on one axis. It returns the axis direction and
// a point on the axis.
func circleAxis(f, g *shape) (r3.Vec, r3.Vec, bool) {
	const par = 1e-9
	if f.kind == kindPlane {
		f, g = g, f
	}
	switch {
	case f.kind == kindPlane:
		return r3.Vec{}, r3.Vec{}, false
	case g.kind == kindPlane && f.kind == kindSphere:
		return g.a, f.c, true
	case g.kind == kindPlane:
		return f.a, f.c, 1-math.Abs(r3.Dot(f.a, g.a)) < par
	}
	// Two surfaces of revolution: a sphere's axis is any line through its
	// centre.
	if f.kind == kindSphere {
		f, g = g, f
	}
	if f.kind == kindSphere { // two spheres
		d := r3.Sub(g.c, f.c)
		l := r3.Norm(d)
		if l == 0 {
			return r3.Vec{}, r3.Vec{}, false
		}
		return r3.Scale(1/l, d), f.c, true
	}
	onAxis := func(p r3.Vec) bool {
		v := r3.Sub(p, f.c)
		w := r3.Sub(v, r3.Scale(r3.Dot(v, f.a), f.a))
		return r3.Norm(w) < 1e-9*(1+r3.Norm(v))
	}
	if g.kind == kindSphere {
		return f.a, f.c, onAxis(g.c)
	}
	return f.a, f.c, 1-math.Abs(r3.Dot(f.a, g.a)) < par && onAxis(g.c)
}

// circleEdge makes a chain into one circle edge about the axis through o
// along axis: centred where its points project on the axis, of their mean
// distance from it, running from its first to its last vertex (the whole
// circle if they are one) counter-clockwise about the circle's Axis. It
// reports false if the chain is not such an arc: a loop that does not go
// once round, a step of more than a quarter turn.
func (a *assembler) circleEdge(c chain, axis, o r3.Vec, vertex func(int32) int) (Edge, bool) {
	var h, rad float64
	n := len(c.verts)
	for _, v := range c.verts {
		d := r3.Sub(a.pos[v], o)
		ax := r3.Dot(d, axis)
		h += ax
		rad += r3.Norm(r3.Sub(d, r3.Scale(ax, axis)))
	}
	h, rad = h/float64(n), rad/float64(n)
	centre := r3.Add(o, r3.Scale(h, axis))
	x0 := r3.Sub(a.pos[c.verts[0]], centre)
	x0 = r3.Sub(x0, r3.Scale(r3.Dot(x0, axis), axis))
	if !(r3.Norm(x0) > 0) || !(rad > 0) {
		return Edge{}, false
	}
	x := r3.Unit(x0)
	cn := conic{Centre: centre, Axis: axis, X: x, Y: r3.Cross(axis, x), A: rad, B: rad}
	sweep, ok := a.sweep(c, &cn)
	if !ok {
		return Edge{}, false
	}
	if sweep < 0 {
		axis = r3.Scale(-1, axis)
	}
	return Edge{V0: vertex(c.verts[0]), V1: vertex(c.verts[len(c.verts)-1]), Curve: &Circle{Centre: centre, Axis: axis, XDir: x, Radius: rad}}, true
}

// sweep returns how far a chain turns along a circle or an ellipse, by the
// conic's parameter, and whether it is an arc of it: a loop must go once
// round, an open chain less, no step more than a quarter turn. The mesh's
// boundary may zigzag along the curve where the labels do; the arc
// replaces it, so only its net sweep counts.
func (a *assembler) sweep(c chain, cn *conic) (float64, bool) {
	var sweep float64
	prev := cn.param(a.pos[c.verts[0]])
	for _, v := range c.verts[1:] {
		t := cn.param(a.pos[v])
		d := math.Remainder(t-prev, 2*math.Pi)
		if math.Abs(d) > math.Pi/2 {
			return 0, false
		}
		sweep += d
		prev = t
	}
	if c.verts[0] == c.verts[len(c.verts)-1] {
		return sweep, math.Abs(math.Abs(sweep)-2*math.Pi) <= 1e-6
	}
	return sweep, math.Abs(sweep) > 1e-9 && math.Abs(sweep) < 2*math.Pi-1e-9
}

// ellipseEdge makes a chain between a plane and a cylinder it cuts
// slantwise — the plane's normal neither along the axis nor within 6° of
// square to it — into one edge on their intersection, an ellipse: centred
// where the axis meets the plane, its minor semi-axis the radius, square
// to the axis, its major the radius over the cosine of the slant.
func (a *assembler) ellipseEdge(c chain, f, g *shape, vertex func(int32) int) (Edge, bool) {
	if f.kind != kindPlane {
		f, g = g, f
	}
	if f.kind != kindPlane || g.kind != kindCylinder {
		return Edge{}, false
	}
	cos := r3.Dot(f.a, g.a)
	if math.Abs(cos) < 0.1 || math.Abs(cos) > 1-1e-9 {
		return Edge{}, false
	}
	centre := r3.Add(g.c, r3.Scale(r3.Dot(f.a, r3.Sub(f.c, g.c))/cos, g.a))
	u := r3.Unit(r3.Cross(f.a, g.a)) // in the plane, square to the axis
	x := r3.Cross(u, f.a)            // in the plane, along the slant
	axis := f.a
	cn := conic{Centre: centre, Axis: axis, X: x, Y: r3.Cross(axis, x), A: g.r / math.Abs(cos), B: g.r}
	sweep, ok := a.sweep(c, &cn)
	if !ok {
		return Edge{}, false
	}
	if sweep < 0 {
		axis = r3.Scale(-1, axis)
	}
	return Edge{V0: vertex(c.verts[0]), V1: vertex(c.verts[len(c.verts)-1]),
		Curve: &Ellipse{Centre: centre, Axis: axis, XDir: x, SemiMajor: cn.A, SemiMinor: cn.B}}, true
}

// regionFace sets the surface and sense of region r's face, and puts a
// plane's outer loop first.
func (a *assembler) regionFace(s *Solid, r int32, face []int32) {
	k := a.regPrim[r]
	sh := &a.prims[k]
	var agree float64
	for t, fc := range face {
		if fc != r {
			continue
		}
		f := a.m.Faces[t]
		c := r3.Scale(1.0/3, r3.Add(a.pos[f[0]], r3.Add(a.pos[f[1]], a.pos[f[2]])))
		_, n := sh.distNormal(c)
		agree += a.area[t] * r3.Dot(n, a.normal[t])
	}
	F := &s.Faces[r]
	F.SameSense = agree >= 0
	switch g := a.surfaces[k].(type) {
	case *Plane:
		p := *g
		if !F.SameSense {
			p.Normal, F.SameSense = r3.Scale(-1, p.Normal), true
		}
		F.Surface = &p
		// The outer loop encloses the most area counter-clockwise about
		// the outward normal.
		best, bestArea := 0, math.Inf(-1)
		for i, loop := range F.Bounds {
			var ar r3.Vec
			for _, oe := range loop {
				p0, p1 := s.Vertices[s.start(oe)], s.Vertices[s.end(oe)]
				ar = r3.Add(ar, r3.Cross(p0, p1))
			}
			if d := r3.Dot(ar, p.Normal); d > bestArea {
				best, bestArea = i, d
			}
		}
		F.Bounds[0], F.Bounds[best] = F.Bounds[best], F.Bounds[0]
	default:
		F.Surface = a.surfaces[k]
	}
}

// report fills rep from the solid.
func (a *assembler) report(s *Solid, rep *AssembleReport) {
	rep.Faces = len(s.Faces)
	rep.Fitted, rep.Freeform = 0, 0
	used := map[int32]bool{}
	concave := map[int32]float64{}
	for r, k := range a.regPrim {
		used[k] = true
		if s.Faces[r].SameSense {
			concave[k] -= a.regArea[r]
		} else {
			concave[k] += a.regArea[r]
		}
	}
	for _, f := range s.Faces {
		if f.Freeform {
			rep.Freeform++
			continue
		}
		rep.Fitted++
		rep.Surfaces[surfaceType(f.Surface)]++
	}
	// Tolerance: vertices against the surfaces of the faces they bound
	// and the circles they lie on.
	for _, f := range s.Faces {
		sh := shapeOf(f.Surface)
		for _, loop := range f.Bounds {
			for _, oe := range loop {
				d, _ := sh.distNormal(s.Vertices[s.start(oe)])
				rep.Tolerance = max(rep.Tolerance, math.Abs(d))
			}
		}
	}
	for _, e := range s.Edges {
		if c, ok := conicOf(e.Curve); ok {
			for _, v := range [2]int{e.V0, e.V1} {
				p := s.Vertices[v]
				rep.Tolerance = max(rep.Tolerance, r3.Norm(r3.Sub(p, c.at(c.param(p)))))
			}
		}
	}
	// Features, by primitive.
	var planes, cones, freeform int
	var holes, bosses, spheres []float64
	// Cylinders on one axis of about one diameter (sameAxis) are one
	// feature — a hole whose wall came out as two fits — of the diameter
	// of the larger.
	area := map[int32]float64{}
	for r, k := range a.regPrim {
		area[k] += a.regArea[r]
	}
	var axes []int32
	for k := range int32(len(a.prims)) {
		if !used[k] || a.prims[k].kind != kindCylinder {
			continue
		}
		same := -1
		for i, j := range axes {
			if sameAxis(&a.prims[k], &a.prims[j]) && (concave[k] > 0) == (concave[j] > 0) {
				same = i
				break
			}
		}
		switch {
		case same < 0:
			axes = append(axes, k)
		case area[k] > area[axes[same]]:
			axes[same] = k
		}
	}
	for k := range int32(len(a.prims)) {
		if !used[k] {
			continue
		}
		switch g := a.surfaces[k].(type) {
		case *Plane:
			planes++
		case *Cylinder:
			switch {
			case !slices.Contains(axes, k):
			case concave[k] > 0:
				holes = append(holes, 2*g.Radius)
			default:
				bosses = append(bosses, 2*g.Radius)
			}
		case *Cone:
			cones++
		case *Sphere:
			spheres = append(spheres, 2*g.Radius)
		}
	}
	freeform = rep.Freeform
	sort.Sort(sort.Reverse(sort.Float64Slice(holes)))
	rep.Holes = holes
	rep.Features = nil
	rep.Features = append(rep.Features, groupDiameters(holes, "hole", "holes")...)
	rep.Features = append(rep.Features, groupDiameters(bosses, "cylinder", "cylinders")...)
	if planes > 0 {
		rep.Features = append(rep.Features, plural(planes, "plane", "planes"))
	}
	if cones > 0 {
		rep.Features = append(rep.Features, plural(cones, "cone", "cones"))
	}
	rep.Features = append(rep.Features, groupDiameters(spheres, "sphere", "spheres")...)
	if freeform > 0 {
		rep.Features = append(rep.Features, plural(freeform, "freeform facet", "freeform facets"))
	}
}

// sameAxis reports whether two cylinders' axes are one line within 1 mm
// and 2° and their diameters within 0.5 mm: one hole fitted twice, not a
// shaft's two steps.
func sameAxis(s, t *shape) bool {
	d := r3.Sub(t.c, s.c)
	off := r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, s.a), s.a)))
	return math.Abs(r3.Dot(s.a, t.a)) >= math.Cos(2*math.Pi/180) && off <= 1 && 2*math.Abs(s.r-t.r) <= 0.5
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// groupDiameters counts diameters by their value to 0.1 mm, largest
// first: "2 holes Ø8.0 mm".
func groupDiameters(ds []float64, one, many string) []string {
	count := map[float64]int{}
	var keys []float64
	for _, d := range ds {
		k := math.Round(d*10) / 10
		if count[k] == 0 {
			keys = append(keys, k)
		}
		count[k]++
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(keys)))
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s Ø%.1f mm", plural(count[k], one, many), k))
	}
	return out
}
