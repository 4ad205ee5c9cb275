package mesh

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Print repair follows the order of Attene's MeshFix ("A lightweight
// approach to repairing digitized polygon meshes", The Visual Computer 26,
// 2010, section 3): first make the faces a valid combinatorial surface
// (weld, drop degenerate and duplicate faces, zip T-junctions, cut
// non-manifold edges and vertices apart), then keep the large components,
// orient them and fill their holes. Every step counts what it changed in a
// RepairReport.

// ErrEmptyMesh is returned, wrapped, by Repair for a mesh without faces and
// for one whose every face is degenerate.
var ErrEmptyMesh = errors.New("empty mesh")

// RepairOptions tune Repair; nil and the zero value give the defaults.
type RepairOptions struct {
	// WeldTolerance is the distance within which vertices merge, a vertex
	// lies on an edge (a T-junction) and a face counts as flat. 0 means
	// 1e-6 × the bounding box diagonal: 0.17 µm on a 100 mm cube, far
	// below any printer's resolution yet above the float32 rounding of
	// coordinates that STL files carry. Negative merges only vertices with
	// identical coordinates.
	WeldTolerance float64
	// MinFragment is the share of the total area under which a connected
	// component is dropped; the largest component is always kept. 0 means
	// 0.01; negative keeps every component.
	MinFragment float64
	// MaxHoleEdges is the most edges a boundary loop may have to be filled;
	// longer loops are left open and counted in RepairReport.HolesLeftOpen.
	// 0 means no limit; negative fills no hole.
	MaxHoleEdges int
}

// RepairReport says what Repair changed, step by step, and what it left.
type RepairReport struct {
	TrianglesBefore          int `json:"triangles_before"`
	TrianglesAfter           int `json:"triangles_after"`
	VerticesWelded           int `json:"vertices_welded"`             // vertices merged into another within the tolerance
	DegenerateRemoved        int `json:"degenerate_removed"`          // faces with a repeated vertex, or flat within the tolerance
	DuplicateFacesRemoved    int `json:"duplicate_faces_removed"`     // faces over the same three vertices as another
	TJunctionsSplit          int `json:"t_junctions_split"`           // vertices inserted into another face's boundary edge
	NonManifoldEdgesSplit    int `json:"non_manifold_edges_split"`    // edges of more than two faces, cut into pairs
	NonManifoldVerticesSplit int `json:"non_manifold_vertices_split"` // vertex copies made so that each vertex has one fan of faces
	// CopiesSeparated counts the vertices moved a hair (1e-5 of the
	// bounding box's diagonal) off another with the same coordinates, so
	// that an STL, which has only coordinates, keeps them apart.
	CopiesSeparated              int     `json:"copies_separated,omitempty"`
	FragmentsRemoved             int     `json:"fragments_removed"`               // components under MinFragment of the total area
	FacesFlipped                 int     `json:"faces_flipped"`                   // faces whose orientation was reversed
	HolesFilled                  int     `json:"holes_filled"`                    // boundary loops closed with new triangles
	HolesLeftOpen                int     `json:"holes_left_open"`                 // loops over MaxHoleEdges, or boundary chains that do not close
	SelfIntersections            int     `json:"self_intersections"`              // pairs of faces that crossed after the first repair
	FacesRemovedForIntersections int     `json:"faces_removed_for_intersections"` // faces dropped (and their holes filled again) to undo crossings
	SelfIntersectionsLeft        int     `json:"self_intersections_left"`         // pairs still crossing at the end
	Watertight                   bool    `json:"watertight"`                      // every edge is shared by exactly two faces, in opposite directions
	Volume                       float64 `json:"volume"`                          // signed volume of the result; positive when normals point out
}

const (
	// maxRepairFaces keeps corner indices (3 per face), the faces that
	// T-junctions and holes add (at most 3 per input face) and the vertex
	// copies within int32.
	maxRepairFaces = math.MaxInt32 / 12
	// maxRepairExtent bounds the coordinates so that areas and volumes
	// (extent³, summed over faces) stay far from overflow.
	maxRepairExtent = 1e50
	// earClipRescans bounds how often ear clipping looks at every corner
	// again when its running list of ears is empty (each look is O(n²)).
	earClipRescans = 8
	// earClipMax is the longest loop triangulated by ear clipping, which
	// takes O(n²) time; longer ones get a fan from their centroid.
	earClipMax = 10000
)

// Repair returns a copy of m made fit for printing and a report of what
// changed. In order, it
//
//  1. welds each vertex into the first earlier vertex within the
//     tolerance, with a spatial hash grid;
//  2. drops degenerate faces (a repeated vertex, or a height over the
//     longest edge within the tolerance) and duplicate faces (the same three
//     vertices: one is kept from copies of one orientation, none from pairs
//     of opposite orientation, which are the wall between two touching
//     solids);
//  3. zips T-junctions: a vertex within the tolerance of the interior of a
//     boundary edge is inserted into that edge, its face split into a fan;
//  4. cuts non-manifold edges apart (the faces around an edge of more than
//     two are paired by angle, each pair bounding one solid) and gives each
//     fan of faces around a vertex its own copy of the vertex (Guéziec et
//     al., "Cutting and stitching: converting sets of polygons to manifold
//     surfaces", IEEE TVCG 7(2), 2001);
//  5. drops the connected components (through shared edges) under
//     MinFragment of the total area;
//  6. orients each component consistently, breadth first over its edges;
//  7. fills each boundary loop of at most MaxHoleEdges edges: ear clipping
//     of the loop projected on its Newell plane, or a fan from its centroid
//     (a new vertex) when that fails;
//  8. turns each component outward: a closed one so that its signed volume
//     is positive, one left open so that most of its area keeps the input's
//     orientation;
//  9. removes self-intersections where it can, as MeshFix does: the faces
//     that cross another and those sharing a vertex with them are dropped
//     and steps 1–8 run again on the rest, filling the holes anew, at most
//     maxIntersectRounds times; what still crosses is counted.
//
// It takes O(n) time for n faces, besides ear clipping (O(h²) for a hole of
// h edges). m is not modified. An empty mesh, an index out of range and a
// non-finite coordinate are errors, as is a mesh whose every face is
// degenerate; a result that is not watertight is not (see the report).
func Repair(m *geom.Mesh, o *RepairOptions) (*geom.Mesh, *RepairReport, error) {
	out, rep, err := repairOnce(m, o)
	if err != nil {
		return nil, nil, err
	}
	pairs := SelfIntersections(out)
	rep.SelfIntersections = len(pairs)
	for round := 0; round < maxIntersectRounds && len(pairs) > 0; round++ {
		drop := map[int32]bool{}
		for _, p := range pairs {
			drop[p[0]], drop[p[1]] = true, true
		}
		bad := map[int32]bool{}
		for f := range drop {
			for _, v := range out.Faces[f] {
				bad[v] = true
			}
		}
		rest := &geom.Mesh{Vertices: out.Vertices}
		for _, f := range out.Faces {
			if !bad[f[0]] && !bad[f[1]] && !bad[f[2]] {
				rest.Faces = append(rest.Faces, f)
			}
		}
		next, nrep, err := repairOnce(rest, o)
		if err != nil {
			break // keep what the last round made
		}
		rep.FacesRemovedForIntersections += len(out.Faces) - len(rest.Faces)
		rep.HolesFilled += nrep.HolesFilled
		rep.FragmentsRemoved += nrep.FragmentsRemoved
		rep.NonManifoldEdgesSplit += nrep.NonManifoldEdgesSplit
		rep.NonManifoldVerticesSplit += nrep.NonManifoldVerticesSplit
		rep.HolesLeftOpen = nrep.HolesLeftOpen
		rep.TrianglesAfter, rep.Watertight, rep.Volume = nrep.TrianglesAfter, nrep.Watertight, nrep.Volume
		out = next
		pairs = SelfIntersections(out)
	}
	rep.SelfIntersectionsLeft = len(pairs)
	if undo := separateCopies(out, 1e-5*r3.Norm(out.Bounds().Size())); len(undo) > 0 {
		// A solid of (almost) no volume, two sheets on each other, could
		// come out inside out by the move: then the copies stay together.
		if v := out.SignedVolume(); v < 0 && v < rep.Volume {
			for _, u := range undo {
				out.Vertices[u.v] = u.p
			}
		} else {
			rep.CopiesSeparated, rep.Volume = len(undo), v
		}
	}
	return out, rep, nil
}

// separateCopies moves each vertex that has the coordinates of an earlier
// one — a copy made to split a non-manifold vertex, where two fans of faces
// touch — by d towards the centre of its own faces, and returns those it
// moved and where they were. Formats that carry coordinates but no vertex
// indices (STL) or that readers weld by position would otherwise join the
// copies again. The comparison is in float32, as STL stores coordinates.
func separateCopies(m *geom.Mesh, d float64) []movedVertex {
	type key [3]float32
	seen := make(map[key]bool, len(m.Vertices))
	var dup []int32
	for v, p := range m.Vertices {
		k := key{float32(p.X), float32(p.Y), float32(p.Z)}
		if seen[k] {
			dup = append(dup, int32(v))
		}
		seen[k] = true
	}
	if len(dup) == 0 || !(d > 0) {
		return nil
	}
	centre := make(map[int32]geom.Vec, len(dup))
	count := make(map[int32]int, len(dup))
	for _, v := range dup {
		centre[v] = geom.Vec{}
	}
	for _, f := range m.Faces {
		c := r3.Scale(1.0/3, r3.Add(m.Vertices[f[0]], r3.Add(m.Vertices[f[1]], m.Vertices[f[2]])))
		for _, v := range f {
			if s, ok := centre[v]; ok {
				centre[v] = r3.Add(s, c)
				count[v]++
			}
		}
	}
	var moved []movedVertex
	for _, v := range dup {
		if count[v] == 0 {
			continue
		}
		dir := r3.Sub(r3.Scale(1/float64(count[v]), centre[v]), m.Vertices[v])
		if l := r3.Norm(dir); l > 0 {
			moved = append(moved, movedVertex{v, m.Vertices[v]})
			m.Vertices[v] = r3.Add(m.Vertices[v], r3.Scale(min(d, l/2)/l, dir))
		}
	}
	return moved
}

// movedVertex is a vertex and where it was.
type movedVertex struct {
	v int32
	p geom.Vec
}

// maxIntersectRounds bounds the rounds of self-intersection removal.
const maxIntersectRounds = 3

// repairOnce runs steps 1 to 8 of Repair.
func repairOnce(m *geom.Mesh, o *RepairOptions) (*geom.Mesh, *RepairReport, error) {
	if m == nil || len(m.Faces) == 0 {
		return nil, nil, fmt.Errorf("repair: %w", ErrEmptyMesh)
	}
	if len(m.Faces) > maxRepairFaces {
		return nil, nil, fmt.Errorf("repair: %d faces, more than the %d supported", len(m.Faces), maxRepairFaces)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("repair: %w", err)
	}
	var opt RepairOptions
	if o != nil {
		opt = *o
	}
	if math.IsNaN(opt.WeldTolerance) || math.IsInf(opt.WeldTolerance, 0) || math.IsNaN(opt.MinFragment) {
		return nil, nil, fmt.Errorf("repair: invalid options %+v", opt)
	}
	box := m.Bounds()
	if e := box.MaxExtent(); e > maxRepairExtent {
		return nil, nil, fmt.Errorf("repair: coordinates span %g, more than %g", e, maxRepairExtent)
	}
	tol := opt.WeldTolerance
	switch {
	case tol == 0:
		tol = 1e-6 * r3.Norm(box.Size())
	case tol < 0:
		tol = 0
	}
	minFragment := opt.MinFragment
	if minFragment == 0 {
		minFragment = 0.01
	}

	rp := &repairer{tol: tol, rep: &RepairReport{TrianglesBefore: len(m.Faces)}}
	// WeldVertices leaves m.Vertices as it is: it builds the kept ones anew.
	welded := geom.Mesh{Vertices: m.Vertices, Faces: slices.Clone(m.Faces)}
	rp.rep.VerticesWelded = welded.WeldVertices(tol)
	rp.verts, rp.faces = welded.Vertices, welded.Faces

	rp.removeDegenerate()
	if len(rp.faces) == 0 {
		return nil, nil, fmt.Errorf("repair: all %d faces are degenerate: %w", len(m.Faces), ErrEmptyMesh)
	}
	rp.he = sortHalfEdges(rp.faces, len(rp.verts), rp.he)
	rp.removeDuplicates()
	if len(rp.faces) == 0 {
		// Only pairs of opposite faces were left: a surface of no volume.
		return nil, nil, fmt.Errorf("repair: all %d faces are degenerate or cancelling duplicates: %w", len(m.Faces), ErrEmptyMesh)
	}
	if rp.splitTJunctions() {
		rp.he = sortHalfEdges(rp.faces, len(rp.verts), rp.he)
	}
	rp.glue()
	rp.splitVertices()
	rp.orient()
	rp.dropFragments(minFragment)
	rp.nOrig = len(rp.faces)
	rp.fillHoles(opt.MaxHoleEdges)
	rp.orientOutward(box.Center())

	out := rp.output()
	rp.rep.TrianglesAfter = len(out.Faces)
	b, nm, inc := edgeStats(out.Faces, len(out.Vertices))
	rp.rep.Watertight = b == 0 && nm == 0 && inc == 0
	rp.rep.Volume = out.SignedVolume()
	return out, rp.rep, nil
}

// repairer holds the mesh between Repair's steps. Faces are numbered as in
// faces; corner 3f+k is face f's edge from faces[f][k] to faces[f][(k+1)%3],
// and also (in splitVertices) the face's use of vertex faces[f][k].
type repairer struct {
	verts []geom.Vec
	faces [][3]int32
	tol   float64
	rep   *RepairReport

	he    []halfEdge // the faces' half-edges, see sortHalfEdges
	adj   []int32    // corner → the corner of the face glued across that edge, or −1
	comp  []int32    // face → component
	flip  []bool     // face → its orientation is to be reversed
	alive []bool     // face → kept (false in dropped fragments)
	nOrig int        // faces before hole filling

	compArea    []float64 // component → area
	flippedArea []float64 // component → area of its faces with flip set
	twisted     []bool    // component → not orientable: an edge stayed inconsistent
	open        []bool    // component → a boundary loop was left open

	incStart, inc []int32             // vertex v → faces inc[incStart[v]:incStart[v+1]], for hasEdge
	fillEdges     map[uint64]struct{} // diagonals added by ear clipping
	pts           [][2]float64        // ear clipping buffers
	prev, next    []int32
	ear           []bool
	tris          [][3]int32
}

// halfEdge is one face's use of an undirected edge.
type halfEdge struct {
	lo, hi int32 // the edge's vertices, lo < hi
	opp    int32 // the face's third vertex
	corner int32
}

// sortHalfEdges returns the faces' half-edges sorted by (lo, hi, opp,
// corner), so that the uses of each edge are adjacent and, among them,
// copies of one face. It reuses dst's memory. A counting sort on lo puts
// each half-edge in its vertex's bucket, which is then sorted on its own:
// O(n) for the few edges per vertex of a mesh.
func sortHalfEdges(faces [][3]int32, nv int, dst []halfEdge) []halfEdge {
	start := make([]int32, nv+1)
	for _, f := range faces {
		start[min(f[0], f[1])+1]++
		start[min(f[1], f[2])+1]++
		start[min(f[2], f[0])+1]++
	}
	for v := range nv {
		start[v+1] += start[v]
	}
	pos := slices.Clone(start[:nv])
	he := slices.Grow(dst[:0], 3*len(faces))[:3*len(faces)]
	for i, f := range faces {
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			lo, hi := min(a, b), max(a, b)
			he[pos[lo]] = halfEdge{lo: lo, hi: hi, opp: f[(k+2)%3], corner: int32(3*i + k)}
			pos[lo]++
		}
	}
	less := func(a, b halfEdge) bool {
		return a.hi < b.hi || a.hi == b.hi && (a.opp < b.opp || a.opp == b.opp && a.corner < b.corner)
	}
	for v := range nv {
		bucket := he[start[v]:start[v+1]]
		if len(bucket) > 16 {
			slices.SortFunc(bucket, func(a, b halfEdge) int {
				return cmp.Or(cmp.Compare(a.hi, b.hi), cmp.Compare(a.opp, b.opp), cmp.Compare(a.corner, b.corner))
			})
			continue
		}
		for i := 1; i < len(bucket); i++ { // insertion sort
			for j := i; j > 0 && less(bucket[j], bucket[j-1]); j-- {
				bucket[j], bucket[j-1] = bucket[j-1], bucket[j]
			}
		}
	}
	return he
}

// edgeEnd returns the end of the run of half-edges from i that share its
// edge.
func edgeEnd(he []halfEdge, i int) int {
	j := i + 1
	for j < len(he) && he[j].lo == he[i].lo && he[j].hi == he[i].hi {
		j++
	}
	return j
}

// forward reports whether h's face runs along its edge from lo to hi.
func forward(faces [][3]int32, h halfEdge) bool {
	return faces[h.corner/3][h.corner%3] == h.lo
}

// edgeStats counts the edges of the faces used by one face, by more than
// two, and by two in the same direction: geom.Mesh.Topology's edge counts,
// on the counting sort Repair already uses (Topology's comparison sort and
// component count would double Repair's time on a million faces).
func edgeStats(faces [][3]int32, nv int) (boundary, nonManifold, inconsistent int) {
	he := sortHalfEdges(faces, nv, nil)
	for i := 0; i < len(he); {
		j := edgeEnd(he, i)
		switch {
		case j-i == 1:
			boundary++
		case j-i > 2:
			nonManifold++
		case forward(faces, he[i]) == forward(faces, he[i+1]):
			inconsistent++
		}
		i = j
	}
	return boundary, nonManifold, inconsistent
}

// removeDegenerate drops faces with a repeated vertex and faces whose
// height over their longest edge is within the tolerance (zero area at
// tolerance 0). Dropping a flat face (a, m, b), m near ab, leaves a
// T-junction at m, which splitTJunctions zips.
func (rp *repairer) removeDegenerate() {
	kept := rp.faces[:0]
	for _, f := range rp.faces {
		if f[0] == f[1] || f[1] == f[2] || f[2] == f[0] {
			continue
		}
		a, b, c := rp.verts[f[0]], rp.verts[f[1]], rp.verts[f[2]]
		ab, ac, bc := r3.Sub(b, a), r3.Sub(c, a), r3.Sub(c, b)
		longest := math.Sqrt(max(r3.Norm2(ab), r3.Norm2(ac), r3.Norm2(bc)))
		if math.Sqrt(r3.Norm2(r3.Cross(ab, ac))) <= rp.tol*longest { // twice the area ≤ tol × base
			continue
		}
		kept = append(kept, f)
	}
	rp.rep.DegenerateRemoved = len(rp.faces) - len(kept)
	rp.faces = kept
}

// removeDuplicates drops faces over the same three vertices as another. Of
// copies in one orientation one is kept; a face and its reverse cancel,
// since they are the shared wall of two solids put side by side.
func (rp *repairer) removeDuplicates() {
	var dead []bool
	for i := 0; i < len(rp.he); {
		j := edgeEnd(rp.he, i)
		for a := i; a < j; {
			b := a + 1
			for b < j && rp.he[b].opp == rp.he[a].opp {
				b++
			}
			// Each set of copies is seen once, at the edge of its two
			// lowest vertices.
			if b-a > 1 && rp.he[a].opp > rp.he[a].hi {
				if dead == nil {
					dead = make([]bool, len(rp.faces))
				}
				fwd := 0
				for _, h := range rp.he[a:b] {
					if forward(rp.faces, h) {
						fwd++
					}
				}
				keepFwd, kept := 2*fwd > b-a, 2*fwd == b-a
				for _, h := range rp.he[a:b] {
					if !kept && forward(rp.faces, h) == keepFwd {
						kept = true
						continue
					}
					dead[h.corner/3] = true
				}
			}
			a = b
		}
		i = j
	}
	if dead == nil {
		return
	}
	newIndex := make([]int32, len(rp.faces))
	n := 0
	for f := range rp.faces {
		newIndex[f] = -1
		if !dead[f] {
			newIndex[f] = int32(n)
			rp.faces[n] = rp.faces[f]
			n++
		}
	}
	rp.rep.DuplicateFacesRemoved = len(rp.faces) - n
	rp.faces = rp.faces[:n]
	he := rp.he[:0]
	for _, h := range rp.he {
		if f := newIndex[h.corner/3]; f >= 0 {
			h.corner = 3*f + h.corner%3
			he = append(he, h)
		}
	}
	rp.he = he
}

// splitTJunctions inserts each vertex of a boundary edge into the boundary
// edges whose interior passes within the tolerance of it, splitting their
// faces, and reports whether it changed the faces. Candidates come from a
// hash grid of the boundary vertices with cells of the mean boundary edge
// length, visited along each edge at half-cell steps: O(b) cells for b
// boundary edges.
func (rp *repairer) splitTJunctions() bool {
	var bnd []halfEdge
	for i := 0; i < len(rp.he); {
		j := edgeEnd(rp.he, i)
		if j-i == 1 {
			bnd = append(bnd, rp.he[i])
		}
		i = j
	}
	if len(bnd) < 3 { // a T-junction leaves one long and two short boundary edges
		return false
	}
	mark := make([]int32, len(rp.verts))
	var bv []int32
	var sum float64
	for _, h := range bnd {
		for _, v := range [2]int32{h.lo, h.hi} {
			if mark[v] == 0 {
				mark[v] = 1
				bv = append(bv, v)
			}
		}
		sum += math.Sqrt(r3.Norm2(r3.Sub(rp.verts[h.hi], rp.verts[h.lo])))
	}
	// Cells of at least 4 tol keep a vertex within tol of the edge inside
	// the 27 cells around a sample at most a quarter cell from its foot.
	cell := max(sum/float64(len(bnd)), 4*rp.tol)
	if !(cell > 0) || math.IsInf(cell, 0) {
		return false
	}
	type key [3]int64
	keyOf := func(p geom.Vec) key {
		return key{int64(math.Floor(p.X / cell)), int64(math.Floor(p.Y / cell)), int64(math.Floor(p.Z / cell))}
	}
	head := make(map[key]int32, len(bv))
	next := make([]int32, len(bv)) // linked lists of bv indices per cell
	for i, v := range bv {
		k := keyOf(rp.verts[v])
		n, ok := head[k]
		if !ok {
			n = -1
		}
		next[i], head[k] = n, int32(i)
	}
	for i := range mark {
		mark[i] = -1 // the last edge that looked at the vertex
	}

	type split struct {
		corner int32
		t      float64 // position along the edge from lo to hi, in (0, 1)
		v      int32
	}
	var splits []split
	tol2 := rp.tol * rp.tol
	for e, h := range bnd {
		u := rp.verts[h.lo]
		d := r3.Sub(rp.verts[h.hi], u)
		l2 := r3.Norm2(d)
		steps := max(1, int(math.Ceil(2*math.Sqrt(l2)/cell)))
		for s := 0; s <= steps; s++ {
			c := keyOf(r3.Add(u, r3.Scale(float64(s)/float64(steps), d)))
			for dx := int64(-1); dx <= 1; dx++ {
				for dy := int64(-1); dy <= 1; dy++ {
					for dz := int64(-1); dz <= 1; dz++ {
						i, ok := head[key{c[0] + dx, c[1] + dy, c[2] + dz}]
						if !ok {
							continue
						}
						for ; i >= 0; i = next[i] {
							v := bv[i]
							if mark[v] == int32(e) || v == h.lo || v == h.hi || v == h.opp {
								continue
							}
							mark[v] = int32(e)
							p := r3.Sub(rp.verts[v], u)
							t := r3.Dot(p, d) / l2
							if t > 0 && t < 1 && r3.Norm2(r3.Sub(p, r3.Scale(t, d))) <= tol2 {
								splits = append(splits, split{h.corner, t, v})
							}
						}
					}
				}
			}
		}
	}
	if len(splits) == 0 || len(rp.faces)+len(splits) > maxRepairFaces {
		return false
	}
	slices.SortFunc(splits, func(a, b split) int {
		return cmp.Or(cmp.Compare(a.corner, b.corner), cmp.Compare(a.t, b.t), cmp.Compare(a.v, b.v))
	})

	var tris [][3]int32
	for i := 0; i < len(splits); {
		f := splits[i].corner / 3
		var on [3][]int32
		for ; i < len(splits) && splits[i].corner/3 == f; i++ {
			s := splits[i]
			k := s.corner % 3
			// A vertex near two edges of the face (so near their corner)
			// goes into the first only.
			if slices.ContainsFunc(on[:], func(vs []int32) bool { return slices.Contains(vs, s.v) }) {
				continue
			}
			on[k] = append(on[k], s.v)
			rp.rep.TJunctionsSplit++
		}
		for k := range 3 {
			if rp.faces[f][k] > rp.faces[f][(k+1)%3] { // the face runs from hi to lo
				slices.Reverse(on[k])
			}
		}
		tris = splitTriangle(tris[:0], rp.faces[f], on)
		rp.faces[f] = tris[0]
		rp.faces = append(rp.faces, tris[1:]...)
	}
	return true
}

// splitTriangle appends the triangles of t = (a, b, c) with the vertices
// on[0] inserted in edge a→b, on[1] in b→c and on[2] in c→a, each list in
// order along its edge, in t's orientation. The vertices on the first edge
// that has some make a fan from the opposite corner; the fan's first and
// last triangles take the other two edges and are split in turn.
func splitTriangle(dst [][3]int32, t [3]int32, on [3][]int32) [][3]int32 {
	for r := range 3 {
		ab := on[r]
		if len(ab) == 0 {
			continue
		}
		a, b, c := t[r], t[(r+1)%3], t[(r+2)%3]
		bc, ca := on[(r+1)%3], on[(r+2)%3]
		dst = splitTriangle(dst, [3]int32{c, a, ab[0]}, [3][]int32{ca})
		for i := 0; i+1 < len(ab); i++ {
			dst = append(dst, [3]int32{ab[i], ab[i+1], c})
		}
		return splitTriangle(dst, [3]int32{b, c, ab[len(ab)-1]}, [3][]int32{bc})
	}
	return append(dst, t)
}

// glue pairs the faces across each edge into adj: the two faces of a
// manifold edge, and the faces around a non-manifold one in pairs.
func (rp *repairer) glue() {
	rp.adj = make([]int32, 3*len(rp.faces))
	for i := range rp.adj {
		rp.adj[i] = -1
	}
	var ring []ringFace
	for i := 0; i < len(rp.he); {
		j := edgeEnd(rp.he, i)
		switch j - i {
		case 1:
		case 2:
			a, b := rp.he[i].corner, rp.he[i+1].corner
			rp.adj[a], rp.adj[b] = b, a
		default:
			rp.rep.NonManifoldEdgesSplit++
			ring = rp.pairAround(rp.he[i:j], ring)
		}
		i = j
	}
}

// ringFace is a face around a non-manifold edge.
type ringFace struct {
	angle  float64 // of its half-plane about the edge
	corner int32
	fwd    bool
}

// pairAround glues the faces around a non-manifold edge from lo to hi in
// pairs of faces adjacent in angle, each pair bounding one solid: with the
// angle turning right-handed about d = hi − lo, the wedge from a face that
// runs from hi to lo to the next face is on its inner side (its normal is
// d × r for a face running from lo to hi whose third vertex is r away from
// lo, which points out of that wedge). With an odd count the last face is
// left unglued.
func (rp *repairer) pairAround(run []halfEdge, ring []ringFace) []ringFace {
	lo := rp.verts[run[0].lo]
	d := r3.Sub(rp.verts[run[0].hi], lo)
	e1 := perpendicular(d)
	e2 := r3.Cross(r3.Unit(d), e1)
	ring = ring[:0]
	for _, h := range run {
		r := r3.Sub(rp.verts[h.opp], lo)
		ring = append(ring, ringFace{math.Atan2(r3.Dot(r, e2), r3.Dot(r, e1)), h.corner, forward(rp.faces, h)})
	}
	slices.SortFunc(ring, func(a, b ringFace) int {
		return cmp.Or(cmp.Compare(a.angle, b.angle), cmp.Compare(a.corner, b.corner))
	})
	o := max(0, slices.IndexFunc(ring, func(f ringFace) bool { return !f.fwd }))
	n := len(ring)
	for i := 0; i+1 < n; i += 2 {
		a, b := ring[(o+i)%n].corner, ring[(o+i+1)%n].corner
		rp.adj[a], rp.adj[b] = b, a
	}
	return ring
}

// perpendicular returns a unit vector perpendicular to d (d ≠ 0).
func perpendicular(d geom.Vec) geom.Vec {
	ax := geom.Vec{X: 1}
	switch x, y, z := math.Abs(d.X), math.Abs(d.Y), math.Abs(d.Z); {
	case y <= x && y <= z:
		ax = geom.Vec{Y: 1}
	case z <= x && z <= y:
		ax = geom.Vec{Z: 1}
	}
	return r3.Unit(r3.Cross(d, ax))
}

// splitVertices gives each fan of faces around a vertex (faces joined
// through glued edges at it) its own vertex: the first fan keeps the vertex,
// the others get copies. This cuts the non-manifold edges that glue left in
// pairs, and vertices where two surfaces touch at a point. Fans are the
// classes of face corners joined across glued edges, found with a
// disjoint-set forest (Tarjan, "Efficiency of a good but not linear set
// union algorithm", JACM 1975; path halving from Tarjan and van Leeuwen,
// JACM 1984).
func (rp *repairer) splitVertices() {
	n := len(rp.adj)
	parent := make([]int32, n)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	union := func(a, b int32) {
		a, b = find(a), find(b)
		if a > b {
			a, b = b, a
		}
		parent[b] = a
	}
	for c, nb := range rp.adj {
		if int(nb) <= c {
			continue // unglued, or seen from the other side
		}
		f, k := c/3, c%3
		g, kg := int(nb)/3, int(nb)%3
		c1, nb1 := int32(3*f+(k+1)%3), int32(3*g+(kg+1)%3)
		if rp.faces[f][k] == rp.faces[g][kg] {
			union(int32(c), nb)
			union(c1, nb1)
		} else {
			union(int32(c), nb1)
			union(c1, nb)
		}
	}
	id := make([]int32, n)
	for i := range id {
		id[i] = -1
	}
	taken := make([]bool, len(rp.verts))
	for c := range n {
		r := find(int32(c))
		if id[r] < 0 {
			v := rp.faces[c/3][c%3]
			if !taken[v] {
				taken[v] = true
				id[r] = v
			} else {
				id[r] = int32(len(rp.verts))
				rp.verts = append(rp.verts, rp.verts[v])
				rp.rep.NonManifoldVerticesSplit++
			}
		}
		rp.faces[c/3][c%3] = id[r]
	}
}

// orient labels the components (faces joined through glued edges),
// breadth first from each's lowest face, and sets flip so that the faces
// of a component agree with that face: across each glued edge the two
// faces run in opposite directions. A component where some edge cannot
// agree (a Möbius strip) is marked twisted.
func (rp *repairer) orient() {
	nf := len(rp.faces)
	rp.comp = make([]int32, nf)
	for i := range rp.comp {
		rp.comp[i] = -1
	}
	rp.flip = make([]bool, nf)
	queue := make([]int32, 0, nf)
	for s := range nf {
		if rp.comp[s] >= 0 {
			continue
		}
		id := int32(len(rp.compArea))
		var area, flipped float64
		twisted := false
		rp.comp[s] = id
		queue = append(queue[:0], int32(s))
		for qi := 0; qi < len(queue); qi++ {
			f := queue[qi]
			t := rp.faces[f]
			a := math.Sqrt(r3.Norm2(r3.Cross(r3.Sub(rp.verts[t[1]], rp.verts[t[0]]), r3.Sub(rp.verts[t[2]], rp.verts[t[0]])))) / 2
			area += a
			if rp.flip[f] {
				flipped += a
			}
			for k := range 3 {
				nb := rp.adj[3*f+int32(k)]
				if nb < 0 {
					continue
				}
				g := nb / 3
				same := rp.faces[g][nb%3] == t[k] // both run the edge the same way
				want := rp.flip[f] != same
				if rp.comp[g] < 0 {
					rp.comp[g], rp.flip[g] = id, want
					queue = append(queue, g)
				} else if rp.flip[g] != want {
					twisted = true
				}
			}
		}
		rp.compArea = append(rp.compArea, area)
		rp.flippedArea = append(rp.flippedArea, flipped)
		rp.twisted = append(rp.twisted, twisted)
	}
	rp.open = make([]bool, len(rp.compArea))
	rp.alive = make([]bool, nf)
	for i := range rp.alive {
		rp.alive[i] = true
	}
}

// dropFragments marks the faces of the components under share of the total
// area dead, all but the largest component.
func (rp *repairer) dropFragments(share float64) {
	var total float64
	largest := 0
	for c, a := range rp.compArea {
		total += a
		if a > rp.compArea[largest] {
			largest = c
		}
	}
	dead := make([]bool, len(rp.compArea))
	for c, a := range rp.compArea {
		if c != largest && a < share*total {
			dead[c] = true
			rp.rep.FragmentsRemoved++
		}
	}
	if rp.rep.FragmentsRemoved == 0 {
		return
	}
	for f, c := range rp.comp {
		if dead[c] {
			rp.alive[f] = false
		}
	}
}

// boundaryEdge is an unglued edge of a live face, in the face's current
// orientation.
type boundaryEdge struct{ from, to, face int32 }

// fillHoles chains the boundary edges into loops and fills each loop of at
// most maxEdges edges (any with maxEdges 0, none with maxEdges < 0). A
// loop runs the way its faces do; the fill runs the other way, so that it
// agrees with them.
func (rp *repairer) fillHoles(maxEdges int) {
	var bes []boundaryEdge
	for c, nb := range rp.adj {
		f := c / 3
		if nb >= 0 || !rp.alive[f] {
			continue
		}
		a, b := rp.faces[f][c%3], rp.faces[f][(c+1)%3]
		if rp.flip[f] {
			a, b = b, a
		}
		bes = append(bes, boundaryEdge{a, b, int32(f)})
	}
	if len(bes) == 0 {
		return
	}
	rp.buildIncidence()
	out := make([]int32, len(rp.verts)) // vertex → first unused boundary edge from it
	for i := range out {
		out[i] = -1
	}
	nextOut := make([]int32, len(bes))
	for i := len(bes) - 1; i >= 0; i-- {
		nextOut[i], out[bes[i].from] = out[bes[i].from], int32(i)
	}
	used := make([]bool, len(bes))
	var loop, around []int32
	for s := range bes {
		if used[s] {
			continue
		}
		used[s] = true
		loop = append(loop[:0], bes[s].from)
		around = append(around[:0], bes[s].face)
		closed := true
		for v := bes[s].to; v != bes[s].from; {
			for out[v] >= 0 && used[out[v]] {
				out[v] = nextOut[out[v]]
			}
			e := out[v]
			if e < 0 {
				closed = false
				break
			}
			used[e] = true
			loop = append(loop, v)
			around = append(around, bes[e].face)
			v = bes[e].to
		}
		c := rp.comp[bes[s].face]
		if !closed || len(loop) < 3 || maxEdges < 0 || maxEdges > 0 && len(loop) > maxEdges {
			rp.rep.HolesLeftOpen++
			rp.open[c] = true
			continue
		}
		slices.Reverse(loop)
		if !rp.fillCorner(loop, around, c) {
			rp.fill(loop, c)
		}
		rp.rep.HolesFilled++
	}
}

// Corner filling: a hole where three planes meet (the corner of a box, a
// common hole in scans: corners are hard to see) is closed by a fan from
// the point where the planes around it meet, which restores the sharp
// corner that a fill from the loop's own vertices would cut off. The
// planes are found by clustering the normals of the faces along the loop
// (Attene et al., "Polygon mesh repairing: an application perspective",
// ACM Computing Surveys 45(2), 2013, section 5.2, survey such
// feature-aware hole filling).
const (
	cornerPlaneCos   = 0.985 // normals within about 10° belong to one plane
	cornerApartCos   = 0.866 // the three planes differ by at least 30°
	cornerFanMinCos  = 0.94  // each fan triangle lies within 20° of a plane
	cornerMinLoopLen = 6
)

// fillCorner fills loop q (as fill does) with a fan from the corner of
// three planes when the faces around it, faces (one per loop edge), lie on
// three planes that meet at a point near the loop. It reports false,
// adding nothing, otherwise.
func (rp *repairer) fillCorner(q, faces []int32, c int32) bool {
	if len(q) < cornerMinLoopLen {
		return false
	}
	type plane struct {
		n    geom.Vec // sum of area-weighted normals, sign-aligned
		d, w float64  // sum of n·centroid weights, total weight
	}
	var planes []plane
	for _, f := range faces {
		t := rp.faces[f]
		a, b, cc := rp.verts[t[0]], rp.verts[t[1]], rp.verts[t[2]]
		n := r3.Cross(r3.Sub(b, a), r3.Sub(cc, a))
		w := r3.Norm(n)
		if !(w > 0) {
			continue
		}
		n = r3.Scale(1/w, n)
		ctr := r3.Scale(1.0/3, r3.Add(a, r3.Add(b, cc)))
		k := -1
		for i := range planes {
			m := r3.Unit(planes[i].n)
			if d := r3.Dot(m, n); math.Abs(d) >= cornerPlaneCos {
				k = i
				if d < 0 {
					n = r3.Scale(-1, n)
				}
				break
			}
		}
		if k < 0 {
			if len(planes) == 3 {
				return false
			}
			planes = append(planes, plane{})
			k = len(planes) - 1
		}
		planes[k].n = r3.Add(planes[k].n, r3.Scale(w, n))
		planes[k].d += w * r3.Dot(n, ctr)
		planes[k].w += w
	}
	if len(planes) != 3 {
		return false
	}
	var a [9]float64
	var rhs [3]float64
	var ns [3]geom.Vec
	for i, p := range planes {
		l := r3.Norm(p.n)
		ns[i] = r3.Scale(1/l, p.n)
		a[3*i], a[3*i+1], a[3*i+2] = ns[i].X, ns[i].Y, ns[i].Z
		rhs[i] = p.d / l
	}
	for i := range 3 {
		for j := i + 1; j < 3; j++ {
			if math.Abs(r3.Dot(ns[i], ns[j])) > cornerApartCos {
				return false
			}
		}
	}
	x, ok := geom.Solve3(a, rhs, 1e-9)
	if !ok {
		return false
	}
	corner := geom.Vec{X: x[0], Y: x[1], Z: x[2]}
	// Near the loop: within its diameter of its centroid.
	var ctr geom.Vec
	for _, v := range q {
		ctr = r3.Add(ctr, rp.verts[v])
	}
	ctr = r3.Scale(1/float64(len(q)), ctr)
	var diam float64
	for _, v := range q {
		diam = math.Max(diam, 2*r3.Norm(r3.Sub(rp.verts[v], ctr)))
	}
	if !(r3.Norm(r3.Sub(corner, ctr)) <= diam) {
		return false
	}
	// Every fan triangle has area and lies on one of the planes.
	for i, v := range q {
		p, r := rp.verts[v], rp.verts[q[(i+1)%len(q)]]
		n := r3.Cross(r3.Sub(r, p), r3.Sub(corner, p))
		l := r3.Norm(n)
		if !(l > rp.tol*r3.Norm(r3.Sub(r, p))) {
			return false
		}
		n = r3.Scale(1/l, n)
		if max(math.Abs(r3.Dot(n, ns[0])), math.Abs(r3.Dot(n, ns[1])), math.Abs(r3.Dot(n, ns[2]))) < cornerFanMinCos {
			return false
		}
	}
	m := int32(len(rp.verts))
	rp.verts = append(rp.verts, corner)
	for i, v := range q {
		rp.addFace([3]int32{v, q[(i+1)%len(q)], m}, c)
	}
	return true
}

// buildIncidence lists each vertex's live faces, for hasEdge.
func (rp *repairer) buildIncidence() {
	rp.incStart = make([]int32, len(rp.verts)+1)
	for f, t := range rp.faces {
		if rp.alive[f] {
			rp.incStart[t[0]+1]++
			rp.incStart[t[1]+1]++
			rp.incStart[t[2]+1]++
		}
	}
	for v := range len(rp.verts) {
		rp.incStart[v+1] += rp.incStart[v]
	}
	pos := slices.Clone(rp.incStart[:len(rp.verts)])
	rp.inc = make([]int32, rp.incStart[len(rp.verts)])
	for f, t := range rp.faces {
		if rp.alive[f] {
			for _, v := range t {
				rp.inc[pos[v]] = int32(f)
				pos[v]++
			}
		}
	}
}

// hasEdge reports whether a live face or an earlier fill has the edge ab;
// a and b are vertices of buildIncidence's time.
func (rp *repairer) hasEdge(a, b int32) bool {
	for _, f := range rp.inc[rp.incStart[a]:rp.incStart[a+1]] {
		if t := rp.faces[f]; t[0] == b || t[1] == b || t[2] == b {
			return true
		}
	}
	_, ok := rp.fillEdges[edgeKey(a, b)]
	return ok
}

func edgeKey(a, b int32) uint64 {
	return uint64(min(a, b))<<32 | uint64(max(a, b))
}

// addFace appends a face of component c, oriented as given.
func (rp *repairer) addFace(t [3]int32, c int32) {
	rp.faces = append(rp.faces, t)
	rp.comp = append(rp.comp, c)
	rp.flip = append(rp.flip, false)
	rp.alive = append(rp.alive, true)
}

// fill triangulates the loop q, which runs the way the new faces must, as
// part of component c: by ear clipping, or else as a fan from its centroid,
// which is added as a vertex.
func (rp *repairer) fill(q []int32, c int32) {
	if len(q) == 3 {
		rp.addFace([3]int32{q[0], q[1], q[2]}, c)
		return
	}
	if len(q) <= earClipMax && rp.earClip(q, c) {
		return
	}
	var sum geom.Vec
	for _, v := range q {
		sum = r3.Add(sum, rp.verts[v])
	}
	m := int32(len(rp.verts))
	rp.verts = append(rp.verts, r3.Scale(1/float64(len(q)), sum))
	for i, v := range q {
		rp.addFace([3]int32{v, q[(i+1)%len(q)], m}, c)
	}
}

// earClip triangulates the loop q by ear clipping (Meisters, "Polygons
// have ears", Amer. Math. Monthly 82, 1975; Eberly, "Triangulation by ear
// clipping", Geometric Tools, 2002) in the plane through its first vertex
// normal to its Newell normal (Tampieri, "Newell's method for computing
// the plane equation of a polygon", Graphics Gems III, 1992), in which q
// runs counter-clockwise. An ear is a convex corner whose triangle holds no
// other loop vertex and whose new edge is not an edge of the mesh yet (it
// would be shared by three faces). It reports false, adding nothing, when
// the normal vanishes or no ear is left, as happens when the projection
// crosses itself.
func (rp *repairer) earClip(q []int32, c int32) bool {
	n := len(q)
	o := rp.verts[q[0]]
	var nrm geom.Vec
	for i := range q {
		a, b := r3.Sub(rp.verts[q[i]], o), r3.Sub(rp.verts[q[(i+1)%n]], o)
		nrm.X += (a.Y - b.Y) * (a.Z + b.Z)
		nrm.Y += (a.Z - b.Z) * (a.X + b.X)
		nrm.Z += (a.X - b.X) * (a.Y + b.Y)
	}
	if l := r3.Norm(nrm); !(l > 0) || math.IsInf(l, 0) {
		return false
	}
	e1 := perpendicular(nrm)
	e2 := r3.Cross(r3.Unit(nrm), e1) // (e1, e2, normal) is right-handed
	pts := rp.pts[:0]
	var scale float64
	for _, v := range q {
		p := r3.Sub(rp.verts[v], o)
		x, y := r3.Dot(p, e1), r3.Dot(p, e2)
		pts = append(pts, [2]float64{x, y})
		scale = max(scale, math.Abs(x), math.Abs(y))
	}
	rp.pts = pts
	// Cross products below this (1e-12 of the loop's extent squared) count
	// as zero: collinear corners are not ears, points on an ear's edge are
	// inside it.
	eps := 1e-12 * scale * scale
	prev, next := rp.prev[:0], rp.next[:0]
	for i := range n {
		prev = append(prev, int32((i+n-1)%n))
		next = append(next, int32((i+1)%n))
	}
	rp.prev, rp.next = prev, next
	tris := rp.tris[:0]
	if rp.fillEdges == nil {
		rp.fillEdges = make(map[uint64]struct{})
	}
	rollback := func() bool {
		for _, t := range tris { // each made the diagonal t[0]t[2]
			delete(rp.fillEdges, edgeKey(t[0], t[2]))
		}
		rp.tris = tris
		return false
	}
	ear := rp.ear[:0]
	for j := range int32(n) {
		ear = append(ear, isEar(pts, q, prev, next, prev[j], j, next[j], eps))
	}
	rp.ear = ear
	i := int32(0) // a vertex still in the polygon
	stale, rescans := false, 0
	for left := n; left > 3; {
		// Clip the ear with the shortest new edge, a greedy approach to
		// the least-weight triangulation that keeps the fill close to the
		// loop (Liepa, "Filling holes in meshes", SGP 2003, weighs
		// triangulations by area).
		best, bestLen := int32(-1), math.Inf(1)
		for j, k := i, 0; k < left; j, k = next[j], k+1 {
			if ear[j] {
				if l := r3.Norm2(r3.Sub(rp.verts[q[next[j]]], rp.verts[q[prev[j]]])); l < bestLen {
					best, bestLen = j, l
				}
			}
		}
		if best < 0 {
			// Clipping an ear changes its neighbours' flags, updated
			// below, and can only unblock others: look at all once more.
			if stale || rescans == earClipRescans {
				return rollback()
			}
			for j, k := i, 0; k < left; j, k = next[j], k+1 {
				ear[j] = isEar(pts, q, prev, next, prev[j], j, next[j], eps)
			}
			stale = true
			rescans++
			continue
		}
		p, nx := prev[best], next[best]
		if rp.hasEdge(q[p], q[nx]) {
			ear[best] = false
			continue
		}
		tris = append(tris, [3]int32{q[p], q[best], q[nx]})
		rp.fillEdges[edgeKey(q[p], q[nx])] = struct{}{}
		next[p], prev[nx] = nx, p
		left--
		stale = false
		i = nx
		ear[p] = isEar(pts, q, prev, next, prev[p], p, nx, eps)
		ear[nx] = isEar(pts, q, prev, next, p, nx, next[nx], eps)
	}
	last := [3]int32{q[prev[i]], q[i], q[next[i]]}
	if last[0] == last[1] || last[1] == last[2] || last[2] == last[0] {
		return rollback()
	}
	tris = append(tris, last)
	for _, t := range tris {
		rp.addFace(t, c)
	}
	rp.tris = tris
	return true
}

// isEar reports whether corner i of the polygon, between p and nx, is an
// ear: convex, of three distinct vertices, with no other vertex inside or
// on its triangle.
func isEar(pts [][2]float64, q, prev, next []int32, p, i, nx int32, eps float64) bool {
	if q[p] == q[i] || q[i] == q[nx] || q[nx] == q[p] {
		return false
	}
	a, b, c := pts[p], pts[i], pts[nx]
	if cross2(a, b, c) <= eps {
		return false
	}
	for j := next[nx]; j != p; j = next[j] {
		if v := q[j]; v == q[p] || v == q[i] || v == q[nx] {
			continue
		}
		x := pts[j]
		if cross2(a, b, x) >= -eps && cross2(b, c, x) >= -eps && cross2(c, a, x) >= -eps {
			return false
		}
	}
	return true
}

// cross2 returns (b − a) × (c − a), twice the signed area of abc.
func cross2(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// orientOutward reverses the components whose orientation is inward: a
// closed one (no loop left open, not twisted) when its signed volume,
// taken about o, is negative; another when more of its area was flipped
// than kept.
func (rp *repairer) orientOutward(o geom.Vec) {
	vol := make([]float64, len(rp.compArea))
	for f, t := range rp.faces {
		if !rp.alive[f] {
			continue
		}
		a, b, c := r3.Sub(rp.verts[t[0]], o), r3.Sub(rp.verts[t[1]], o), r3.Sub(rp.verts[t[2]], o)
		v := r3.Dot(a, r3.Cross(b, c))
		if rp.flip[f] {
			v = -v
		}
		vol[rp.comp[f]] += v
	}
	reverse := make([]bool, len(vol))
	anyReversed := false
	for c := range vol {
		if rp.open[c] || rp.twisted[c] {
			reverse[c] = rp.flippedArea[c] > rp.compArea[c]/2
		} else {
			reverse[c] = vol[c] < 0
		}
		anyReversed = anyReversed || reverse[c]
	}
	if !anyReversed {
		return
	}
	for f, c := range rp.comp {
		if reverse[c] {
			rp.flip[f] = !rp.flip[f]
		}
	}
}

// output returns the live faces in their final orientation over the
// vertices they use, in their order, and counts the input's faces flipped.
func (rp *repairer) output() *geom.Mesh {
	remap := make([]int32, len(rp.verts))
	for f, t := range rp.faces {
		if rp.alive[f] {
			remap[t[0]], remap[t[1]], remap[t[2]] = 1, 1, 1
		}
	}
	out := &geom.Mesh{}
	for v, used := range remap {
		if used == 0 {
			remap[v] = -1
			continue
		}
		remap[v] = int32(len(out.Vertices))
		out.Vertices = append(out.Vertices, rp.verts[v])
	}
	out.Faces = make([][3]int32, 0, len(rp.faces))
	for f, t := range rp.faces {
		if !rp.alive[f] {
			continue
		}
		t = [3]int32{remap[t[0]], remap[t[1]], remap[t[2]]}
		if rp.flip[f] {
			t[1], t[2] = t[2], t[1]
			if f < rp.nOrig {
				rp.rep.FacesFlipped++
			}
		}
		out.Faces = append(out.Faces, t)
	}
	return out
}
