package mesh

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Part isolation turns the reconstruction of a scene (a part standing on a
// mat, the mat, the scale sheet, whatever else the photos saw) into the part
// alone, standing on a flat base on z = 0. It works in the frame the scale
// stage gives the model: the mat is the plane z = 0 and z points up.
//
// The mesh is cut by the plane z = Cut a little above the mat: below it the
// mat, the sheet and the mesher's fillet where the part meets the mat blur
// into each other; above it the part's walls are clean. Of the pieces above
// the cut, the largest by area that reaches down to the cut is the part
// (the rest is clutter, floating noise, or other things the photos saw).
// Its cut outline is then carried straight down to z = 0, which makes the
// walls between the mat and the cut vertical, and closed by a flat base: a
// planar triangulation of the outline with its inner loops as holes, so a
// through-hole stays open.

// IsolateOptions tune Isolate; nil and the zero value give the defaults.
type IsolateOptions struct {
	// Cut is the height of the cut above the mat, in the mesh's units. 0
	// means three times the median edge length: above the mesher's
	// smoothing of the corner where the part meets the mat.
	Cut float64
	// Flatten, when set, flattens the part's flat faces (see Flatten)
	// after the outline is carried down and before the base is made, so
	// that the base follows the flattened walls.
	Flatten *FlattenOptions
	// StraightJoins joins the outline across every gap in the walls by a
	// straight edge, leaving the gap above it to Repair's hole filling,
	// instead of carrying the wall's edge down (see Printable).
	StraightJoins bool
}

// IsolateReport says what Isolate kept and made.
type IsolateReport struct {
	Cut            float64 `json:"cut"`                // the height of the cut
	FacesBelow     int     `json:"faces_below_cut"`    // faces wholly under the cut (mat, sheet): removed
	Components     int     `json:"components"`         // pieces above the cut
	ComponentsLeft int     `json:"components_removed"` // pieces other than the part: removed
	BaseLoops      int     `json:"base_loops"`         // outline loops of the base, inner ones included
	BaseTriangles  int     `json:"base_triangles"`     // triangles of the flat base
	// OpenOutline counts the gaps in the walls that reach down to the
	// cut: the outline is joined across each by a straight edge, and the
	// gap above it closed by Repair's hole filling. Not 0 means the
	// reconstruction missed part of the walls.
	OpenOutline int `json:"open_outline"`
	// Carried counts the gaps of OpenOutline closed by carrying the
	// walls' lower edge straight down to the mat, as the cut outline is
	// (the rest are joined by a straight edge and filled above it).
	Carried int `json:"carried,omitempty"`
	// CarryUndone, set by Printable, says why the gaps were joined
	// straight after all.
	CarryUndone string `json:"carry_undone,omitempty"`
	// Flatten is what flattening did, when asked for.
	Flatten   *FlattenReport `json:"flatten,omitempty"`
	FacesKept int            `json:"faces"` // faces of the part, base included
}

// ErrNoPart is returned, wrapped, by Isolate when nothing stands on the
// mat: no piece of the mesh above the cut reaches down to it.
var ErrNoPart = fmt.Errorf("no part stands on the mat")

// Isolate returns the part that stands on the plane z = 0 in m, with a flat
// base on that plane. m is not modified. The result is not yet watertight
// where the mesher left holes in the part itself; Repair closes those.
func Isolate(ctx context.Context, m *geom.Mesh, o *IsolateOptions) (*geom.Mesh, *IsolateReport, error) {
	if m == nil || len(m.Faces) == 0 {
		return nil, nil, fmt.Errorf("isolate: %w", ErrEmptyMesh)
	}
	if err := m.Validate(); err != nil {
		return nil, nil, fmt.Errorf("isolate: %w", err)
	}
	var opt IsolateOptions
	if o != nil {
		opt = *o
	}
	rep := &IsolateReport{Cut: opt.Cut}
	medianEdge := MedianEdge(m)
	if !(rep.Cut > 0) {
		rep.Cut = 3 * medianEdge
	}
	if !(rep.Cut > 0) || math.IsInf(rep.Cut, 0) {
		return nil, nil, fmt.Errorf("isolate: cut height %g: %w", rep.Cut, ErrEmptyMesh)
	}

	// Cut: keep what lies above z = cut, splitting the faces across it.
	// New vertices on an edge are shared by the two faces of the edge.
	cut := rep.Cut
	verts := slices.Clone(m.Vertices)
	// A vertex a hair from the cut is moved onto it: splitting its edges
	// there would make slivers whose normals float32 (STL) cannot hold.
	snap := 1e-3 * medianEdge
	for i, v := range verts {
		if math.Abs(v.Z-cut) < snap {
			verts[i].Z = cut
		}
	}
	onCut := map[int32]bool{}
	split := map[uint64]int32{}
	at := func(a, b int32) int32 {
		k := edgeKey(min(a, b), max(a, b))
		if v, ok := split[k]; ok {
			return v
		}
		p, q := verts[a], verts[b]
		t := (cut - p.Z) / (q.Z - p.Z)
		v := int32(len(verts))
		verts = append(verts, geom.Vec{X: p.X + t*(q.X-p.X), Y: p.Y + t*(q.Y-p.Y), Z: cut})
		onCut[v] = true
		split[k] = v
		return v
	}
	var faces [][3]int32
	for i, f := range m.Faces {
		if i%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
		}
		var above [3]bool
		n := 0
		for k, v := range f {
			above[k] = verts[v].Z >= cut
			if above[k] {
				n++
			}
		}
		switch n {
		case 0:
			rep.FacesBelow++
		case 3:
			faces = append(faces, f)
		case 1, 2:
			// Rotate so that f[0] is the odd one out.
			for !(above[0] != above[1] && above[0] != above[2]) {
				f = [3]int32{f[1], f[2], f[0]}
				above = [3]bool{above[1], above[2], above[0]}
			}
			a, b := at(f[0], f[1]), at(f[0], f[2])
			if above[0] {
				faces = append(faces, [3]int32{f[0], a, b})
			} else {
				faces = append(faces, [3]int32{a, f[1], f[2]}, [3]int32{a, f[2], b})
			}
		}
	}
	// Vertices exactly at the cut are on it too.
	for _, f := range faces {
		for _, v := range f {
			if verts[v].Z == cut {
				onCut[v] = true
			}
		}
	}

	// Components by shared vertices; the part is the largest by area of
	// those with a boundary on the cut.
	comp, n := components(len(verts), faces)
	rep.Components = n
	area := make([]float64, n)
	touches := make([]bool, n)
	for i, f := range faces {
		a, b, c := verts[f[0]], verts[f[1]], verts[f[2]]
		area[comp[i]] += r3.Norm(r3.Cross(r3.Sub(b, a), r3.Sub(c, a))) / 2
		if onCut[f[0]] || onCut[f[1]] || onCut[f[2]] {
			touches[comp[i]] = true
		}
	}
	part := -1
	for c := range n {
		if touches[c] && (part < 0 || area[c] > area[part]) {
			part = c
		}
	}
	if part < 0 {
		return nil, nil, fmt.Errorf("isolate: %w (nothing above %.3g reaches down to it)", ErrNoPart, cut)
	}
	rep.ComponentsLeft = n - 1
	kept := faces[:0]
	for i, f := range faces {
		if int(comp[i]) == part {
			kept = append(kept, f)
		}
	}
	faces = kept

	// Carry the cut outline down to the mat, clean the mesh up and close
	// the outline with a base. The clean-up is Repair's steps without hole
	// filling (the cut may pass through a vertex where two bits of outline
	// touch, and the loops must be simple to be closed right) and without
	// its search for crossings, which the caller's Repair of the result
	// does once.
	for v := range onCut {
		verts[v].Z = 0
	}
	clean, _, err := repairOnce(compact(verts, faces), &RepairOptions{MaxHoleEdges: -1, MinFragment: -1})
	if err != nil {
		return nil, nil, fmt.Errorf("isolate: %w", err)
	}
	verts, faces = clean.Vertices, clean.Faces
	onBase := map[int32]bool{}
	for _, f := range faces {
		for _, v := range f {
			if verts[v].Z < cut/2 {
				onBase[v] = true
			}
		}
	}
	if opt.Flatten != nil {
		// The part stands on z = 0: walls and tops square to it are made
		// exactly so.
		fo := *opt.Flatten
		if fo.Up == (geom.Vec{}) {
			fo.Up = geom.Vec{Z: 1}
		}
		flat, frep, err := Flatten(ctx, &geom.Mesh{Vertices: verts, Faces: faces}, &fo)
		if err != nil {
			return nil, nil, fmt.Errorf("isolate: %w", err)
		}
		for v, p := range flat.Vertices {
			switch {
			case onBase[int32(v)]:
				p.Z = 0 // a wall's plane leans a little: the base stays on z = 0
			case p.Z < cut/2:
				p = verts[v] // a plane's edge is no reason to go under the cut
			}
			flat.Vertices[v] = p
		}
		verts, rep.Flatten = flat.Vertices, frep
	}
	ol := cutLoops(verts, faces, onBase, !opt.StraightJoins, medianEdge/2)
	base, err := triangulateBase(ol.verts, ol.loops)
	if err != nil {
		return nil, nil, fmt.Errorf("isolate: base: %w", err)
	}
	rep.BaseLoops, rep.OpenOutline, rep.Carried = len(ol.loops), ol.gaps, ol.carried
	rep.BaseTriangles = len(base)
	verts = ol.verts
	faces = append(append(faces, ol.walls...), base...)

	out := compact(verts, faces)
	if rep.Flatten != nil {
		// Vertices brought onto one line leave faces with no area; Repair
		// would drop them and zip the T-junctions left, which along a
		// line of many can pinch the surface. Contracting them first keeps
		// it whole.
		out, rep.Flatten.Slivers = collapseSlivers(out)
	}
	rep.FacesKept = len(out.Faces)
	return out, rep, nil
}

// MedianEdge returns the median length of the faces' first edges, a cheap
// and robust measure of the mesh's resolution.
func MedianEdge(m *geom.Mesh) float64 {
	step := max(1, len(m.Faces)/100_000)
	var l []float64
	for i := 0; i < len(m.Faces); i += step {
		f := m.Faces[i]
		d := r3.Norm(r3.Sub(m.Vertices[f[1]], m.Vertices[f[0]]))
		if d > 0 && !math.IsInf(d, 0) {
			l = append(l, d)
		}
	}
	if len(l) == 0 {
		return 0
	}
	slices.Sort(l)
	return l[len(l)/2]
}

// components labels the faces by connected component (faces sharing a
// vertex are connected) and returns the labels and their count.
func components(nv int, faces [][3]int32) ([]int32, int) {
	parent := make([]int32, nv)
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
	for _, f := range faces {
		a, b, c := find(f[0]), find(f[1]), find(f[2])
		parent[b] = a
		parent[find(c)] = a
	}
	label := map[int32]int32{}
	comp := make([]int32, len(faces))
	for i, f := range faces {
		r := find(f[0])
		l, ok := label[r]
		if !ok {
			l = int32(len(label))
			label[r] = l
		}
		comp[i] = l
	}
	return comp, len(label)
}

// outline is the base's outline that cutLoops finds, and what it makes to
// close the walls' gaps.
type outline struct {
	loops [][]int32 // each as vertex indices, in the direction a face closing it uses them
	// gaps counts the gaps in the walls reaching down to the cut: each is
	// joined, or its stretch of outline left open.
	gaps int
	// carried counts the gaps closed by carrying the walls' lower edge
	// down to the cut.
	carried int
	verts   []geom.Vec // the vertices, with the copies on the cut of carried edges
	walls   [][3]int32 // the faces between carried edges and their copies
	segs    [][2]int32 // the outline's edges and the joins made, for the crossing test
	carry   bool       // whether to carry gaps' edges down
	merge   float64    // carried points closer than this (in the cut's plane) are one
}

// cutLoops returns the base's outline: the boundary loops made of edges
// between two vertices on the cut, each as vertex indices in the direction
// opposite to the edges' faces, the direction a face closing it uses them
// in. verts is not modified.
//
// Where a wall has a gap reaching down to the cut, the outline is an open
// stretch: it leaves the cut up one side of the gap and comes back down
// the other. Each stretch's end is joined to the start of the stretch the
// mesh's boundary leads back down to (its own, for one gap): with carry
// set, by the boundary itself — up the gap, along its top, down the other
// side — carried straight down onto the cut, and walls made between the
// boundary and its copy, the way the cut outline is carried down to the
// mat; so a wall the reconstruction missed near the mat, even along a
// whole side, stands straight on the base. Where the copy would cross the
// outline (an overhang, a fold), or without carry, the join is a straight
// edge across the gap, which keeps the base flat and leaves the gap above
// it a hole for Repair's filling. A straight join that would cross the
// outline is not made, and that stretch is left open (counted in gaps
// too): Repair closes the base around it.
func cutLoops(verts []geom.Vec, faces [][3]int32, onCut map[int32]bool, carry bool, merge float64) *outline {
	o := &outline{verts: slices.Clone(verts), carry: carry, merge: merge}
	var loops [][]int32
	gaps := 0
	// Count directed edges; a boundary edge's reverse is absent.
	dir := map[uint64]int{}
	for _, f := range faces {
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			dir[uint64(uint32(a))<<32|uint64(uint32(b))]++
		}
	}
	next := map[int32][]int32{}
	surplus := map[int32]int{} // out-degree − in-degree
	for _, f := range faces {
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			if !onCut[a] || !onCut[b] {
				continue
			}
			if dir[uint64(uint32(b))<<32|uint64(uint32(a))] > 0 {
				continue // shared: not a boundary
			}
			next[b] = append(next[b], a) // reversed
			surplus[b]++
			surplus[a]--
			o.segs = append(o.segs, [2]int32{b, a})
		}
	}
	starts := make([]int32, 0, len(next))
	for v := range next {
		starts = append(starts, v)
	}
	slices.Sort(starts)
	walk := func(s int32, stop func(int32) bool) (path []int32, closed bool) {
		path = []int32{s}
		v := s
		for {
			nx := next[v]
			if len(nx) == 0 {
				return path, false
			}
			w := nx[len(nx)-1]
			next[v] = nx[:len(nx)-1]
			if stop(w) {
				return path, true
			}
			path = append(path, w)
			v = w
		}
	}
	// Open stretches first, from the vertices with more edges out than
	// in: walked from anywhere else, one stretch would come out in pieces.
	var open [][]int32
	for _, s := range starts {
		for surplus[s] > 0 && len(next[s]) > 0 {
			path, _ := walk(s, func(int32) bool { return false })
			surplus[s]--
			surplus[path[len(path)-1]]++
			open = append(open, path)
		}
	}
	// What is left is balanced: every walk comes back to its start.
	for _, s := range starts {
		for len(next[s]) > 0 {
			if loop, closed := walk(s, func(w int32) bool { return w == s }); closed && len(loop) >= 3 {
				loops = append(loops, loop)
			}
		}
	}
	// Join the stretches across their gaps. A stretch's end and the start
	// it is joined to are found by following the mesh's boundary on from
	// the end — up one side of the gap, round its top and down the other
	// side — to the cut again, so that only the two sides of one gap are
	// ever joined.
	if len(open) == 0 {
		o.loops = loops
		return o
	}
	startOf := map[int32]int{}
	for i, o := range open {
		startOf[o[0]] = i
	}
	bnext := map[int32][]int32{} // every boundary edge, reversed as next is
	nb := 0
	for _, f := range faces {
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			if dir[uint64(uint32(b))<<32|uint64(uint32(a))] == 0 {
				bnext[b] = append(bnext[b], a)
				nb++
			}
		}
	}
	// partner returns the stretch whose start the boundary leads back
	// down to from tail, and the boundary's vertices on the way.
	partner := func(tail int32) (int, []int32) {
		v := tail
		var path []int32
		for range nb {
			var w int32 = -1
			for _, u := range bnext[v] {
				if !(onCut[v] && onCut[u]) { // off the outline: along the gap
					w = u
					break
				}
			}
			if w < 0 {
				return -1, nil
			}
			if j, ok := startOf[w]; ok && onCut[w] {
				return j, path
			}
			path = append(path, w)
			v = w
		}
		return -1, nil
	}
	used := make([]bool, len(open))
	for i := range open {
		if used[i] {
			continue
		}
		used[i] = true
		loop := slices.Clone(open[i])
		chain := 1
		for {
			tail := loop[len(loop)-1]
			j, path := partner(tail)
			if j < 0 || (used[j] && j != i) {
				gaps += chain
				loop = nil
				break
			}
			if carried, ok := o.carryDown(tail, path, open[j][0]); ok {
				o.carried++
				loop = append(loop, carried...)
			} else if crossesOutline(o.verts, o.segs, tail, open[j][0]) {
				gaps += chain
				loop = nil
				break
			} else {
				o.segs = append(o.segs, [2]int32{tail, open[j][0]})
			}
			gaps++
			if j == i {
				break
			}
			used[j] = true
			chain++
			loop = append(loop, open[j]...)
		}
		if len(loop) >= 3 {
			loops = append(loops, loop)
		}
	}
	o.loops, o.gaps = loops, gaps
	return o
}

// carryDown copies the boundary from tail along path to start onto the
// cut, straight down, and returns the copies in the outline's direction;
// it adds the walls between the boundary and its copies. Copies within
// o.merge of the last one are that one, and so are those past the middle
// of the path that come within o.merge of start, so a gap's sides, which
// come down almost straight, add no copies (their walls have no area:
// Repair drops them); where the copy crosses itself (a
// ragged edge folds back on itself seen from above) the loop it closes is
// cut off, and its part of the boundary goes down to the copy before it;
// a point whose copy would cross the outline (the edge overhangs it) goes
// down to the last copy too, and so do the last ones where the join to
// start would cross it. It makes nothing and returns false when no copy
// can be joined to start.
func (o *outline) carryDown(tail int32, path []int32, start int32) ([]int32, bool) {
	if !o.carry || len(path) == 0 {
		return nil, false
	}
	nv, ns := len(o.verts), len(o.segs)
	near := func(a, b int32) bool {
		p, q := o.verts[a], o.verts[b]
		return math.Hypot(p.X-q.X, p.Y-q.Y) < o.merge
	}
	// chain is tail and the copies so far; its edge i, chain[i] →
	// chain[i+1], is o.segs[ns+i].
	chain := []int32{tail}
	copyOf := make([]int32, len(path)) // path[i]'s copy on the cut
	// add joins the chain to c, or reports false where that crosses the
	// outline.
	add := func(c int32) bool {
		for {
			last := chain[len(chain)-1]
			if crossesOutline(o.verts, o.segs[:ns], last, c) {
				return false
			}
			k := slices.IndexFunc(o.segs[ns:], func(e [2]int32) bool {
				return crossesOutline(o.verts, [][2]int32{e}, last, c)
			})
			if k < 0 {
				break
			}
			// Cut the loop off after edge k's start.
			for i, q := range copyOf {
				if slices.Contains(chain[k+1:], q) {
					copyOf[i] = chain[k]
				}
			}
			chain, o.segs = chain[:k+1], o.segs[:ns+k]
		}
		o.segs = append(o.segs, [2]int32{chain[len(chain)-1], c})
		chain = append(chain, c)
		return true
	}
	down := false // the rest of the boundary comes down at start
	for i, p := range path {
		c := int32(len(o.verts))
		o.verts = append(o.verts, geom.Vec{X: o.verts[p].X, Y: o.verts[p].Y, Z: o.verts[tail].Z})
		down = down || i > len(path)/2 && near(c, start)
		if last := chain[len(chain)-1]; down || near(c, last) {
			o.verts = o.verts[:c]
			copyOf[i] = last
			if down {
				copyOf[i] = start
			}
			continue
		}
		if !add(c) {
			// Where the edge overhangs the outline, it comes down at
			// the last copy, and the chain goes on from there.
			o.verts = o.verts[:c]
			copyOf[i] = chain[len(chain)-1]
			continue
		}
		copyOf[i] = c
	}
	for !add(start) {
		// The last copies overhang start's end of the outline: they go
		// down at the copy before them.
		if len(chain) == 1 {
			o.verts, o.segs = o.verts[:nv], o.segs[:ns]
			return nil, false
		}
		drop := chain[len(chain)-1]
		chain, o.segs = chain[:len(chain)-1], o.segs[:len(o.segs)-1]
		for i, q := range copyOf {
			if q == drop {
				copyOf[i] = chain[len(chain)-1]
			}
		}
	}
	// The walls: a quad between each boundary edge a→b (the direction a
	// face closing the boundary uses it in) and its copy, less the
	// triangles that merged copies flatten.
	at := func(i int) (int32, int32) {
		switch {
		case i < 0:
			return tail, tail
		case i == len(path):
			return start, start
		}
		return path[i], copyOf[i]
	}
	for i := -1; i < len(path); i++ {
		a, qa := at(i)
		b, qb := at(i + 1)
		for _, f := range [][3]int32{{a, b, qb}, {a, qb, qa}} {
			if f[0] != f[1] && f[1] != f[2] && f[2] != f[0] {
				o.walls = append(o.walls, f)
			}
		}
	}
	return slices.Clone(chain[1 : len(chain)-1]), true
}

// crossesOutline reports whether the segment from vertex a to vertex b
// (in the plane of the cut) properly crosses an outline edge that does not
// end at a or b.
func crossesOutline(verts []geom.Vec, segs [][2]int32, a, b int32) bool {
	p, q := verts[a], verts[b]
	orient := func(o, s, t geom.Vec) float64 {
		return (s.X-o.X)*(t.Y-o.Y) - (s.Y-o.Y)*(t.X-o.X)
	}
	for _, e := range segs {
		if e[0] == a || e[0] == b || e[1] == a || e[1] == b {
			continue
		}
		r, s := verts[e[0]], verts[e[1]]
		if orient(p, q, r)*orient(p, q, s) < 0 && orient(r, s, p)*orient(r, s, q) < 0 {
			return true
		}
	}
	return false
}

// triangulateBase closes the loops, which lie on the plane z = 0, with
// triangles: loops inside another become holes of the smallest loop around
// them, joined to it by a bridge (Eberly, "Triangulation by Ear Clipping",
// Geometric Tools, 2002), and each polygon is ear-clipped. The triangles
// take the loops' direction, so they agree with the faces around them.
func triangulateBase(verts []geom.Vec, loops [][]int32) ([][3]int32, error) {
	if len(loops) == 0 {
		return nil, nil
	}
	pt := func(v int32) [2]float64 { return [2]float64{verts[v].X, verts[v].Y} }
	area := make([]float64, len(loops))
	for i, l := range loops {
		for k := range l {
			a, b := pt(l[k]), pt(l[(k+1)%len(l)])
			area[i] += a[0]*b[1] - b[0]*a[1]
		}
		area[i] /= 2
	}
	// parent[i]: the smallest loop containing loop i, or −1.
	parent := make([]int, len(loops))
	for i, l := range loops {
		parent[i] = -1
		p := pt(l[0])
		for j, m := range loops {
			if i == j || math.Abs(area[j]) <= math.Abs(area[i]) {
				continue
			}
			if inside(verts, m, p) && (parent[i] < 0 || math.Abs(area[j]) < math.Abs(area[parent[i]])) {
				parent[i] = j
			}
		}
	}
	// Depth parity: loops at even depth are outlines, odd ones holes.
	depth := func(i int) int {
		d := 0
		for parent[i] >= 0 {
			i = parent[i]
			d++
		}
		return d
	}
	var out [][3]int32
	for i := range loops {
		if depth(i)%2 != 0 {
			continue
		}
		poly := slices.Clone(loops[i])
		var holes [][]int32
		for j := range loops {
			if parent[j] == i {
				holes = append(holes, loops[j])
			}
		}
		poly = bridgeHoles(verts, poly, area[i] > 0, holes)
		out = append(out, earClip2D(verts, poly, area[i] > 0)...)
	}
	return out, nil
}

// inside reports whether p is inside the loop (even–odd rule).
func inside(verts []geom.Vec, loop []int32, p [2]float64) bool {
	in := false
	for k := range loop {
		a, b := verts[loop[k]], verts[loop[(k+1)%len(loop)]]
		if (a.Y > p[1]) != (b.Y > p[1]) {
			x := a.X + (p[1]-a.Y)*(b.X-a.X)/(b.Y-a.Y)
			if x > p[0] {
				in = !in
			}
		}
	}
	return in
}

// bridgeHoles joins each hole to the outline by a pair of coincident
// edges from the hole's rightmost vertex to a visible vertex of the
// outline, rightmost holes first, as Eberly describes. Holes are traversed
// opposite to the outline (ccw says whether the outline is
// counter-clockwise).
func bridgeHoles(verts []geom.Vec, poly []int32, ccw bool, holes [][]int32) []int32 {
	type hole struct {
		loop []int32
		m    int // index of the rightmost vertex
	}
	hs := make([]hole, 0, len(holes))
	for _, h := range holes {
		// Orient the hole opposite to the outline.
		var a float64
		for k := range h {
			p, q := verts[h[k]], verts[h[(k+1)%len(h)]]
			a += p.X*q.Y - q.X*p.Y
		}
		if (a > 0) == ccw {
			h = slices.Clone(h)
			slices.Reverse(h)
		}
		m := 0
		for k := range h {
			if verts[h[k]].X > verts[h[m]].X {
				m = k
			}
		}
		hs = append(hs, hole{h, m})
	}
	slices.SortFunc(hs, func(a, b hole) int { return -cmpFloat(verts[a.loop[a.m]].X, verts[b.loop[b.m]].X) })
	for _, h := range hs {
		mv := verts[h.loop[h.m]]
		// The outline vertex to bridge to: the nearest to M among those
		// to its right whose segment to M crosses no outline edge; the
		// nearest of all when none qualifies (a degenerate outline).
		best, bestD := -1, math.Inf(1)
		for k, v := range poly {
			p := verts[v]
			d := (p.X-mv.X)*(p.X-mv.X) + (p.Y-mv.Y)*(p.Y-mv.Y)
			if d >= bestD || p.X < mv.X {
				continue
			}
			if crossesAny(verts, poly, k, mv) {
				continue
			}
			best, bestD = k, d
		}
		if best < 0 {
			for k, v := range poly {
				p := verts[v]
				if d := (p.X-mv.X)*(p.X-mv.X) + (p.Y-mv.Y)*(p.Y-mv.Y); d < bestD {
					best, bestD = k, d
				}
			}
		}
		// poly[..best], M, hole from M around to M, poly[best..].
		ins := make([]int32, 0, len(h.loop)+2)
		for k := range len(h.loop) + 1 {
			ins = append(ins, h.loop[(h.m+k)%len(h.loop)])
		}
		ins = append(ins, poly[best])
		poly = slices.Insert(poly, best+1, ins...)
	}
	return poly
}

// crossesAny reports whether the segment from poly[k] to m properly
// crosses an edge of poly not incident to poly[k].
func crossesAny(verts []geom.Vec, poly []int32, k int, m geom.Vec) bool {
	a := [2]float64{verts[poly[k]].X, verts[poly[k]].Y}
	b := [2]float64{m.X, m.Y}
	for i := range poly {
		j := (i + 1) % len(poly)
		if poly[i] == poly[k] || poly[j] == poly[k] {
			continue
		}
		c := [2]float64{verts[poly[i]].X, verts[poly[i]].Y}
		d := [2]float64{verts[poly[j]].X, verts[poly[j]].Y}
		if cross2(a, b, c)*cross2(a, b, d) < 0 && cross2(c, d, a)*cross2(c, d, b) < 0 {
			return true
		}
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// earClip2D triangulates the polygon (vertex indices, their x and y used)
// by ear clipping, best-shaped ear first: each candidate ear is ranked by
// its smallest angle's sine, in a heap, and only the two neighbours of a
// clipped ear are looked at again, so the whole is O(n²) for the tests of
// which vertices lie in an ear. Clipping the first ear found instead makes
// slivers without area along a nearly straight run of the outline (a
// flattened wall's foot), which come apart in STL. ccw says which way the
// polygon turns; triangles keep it. When no ear is left (a self-touching
// outline from noise), the most convex corner is clipped anyway so that
// the polygon still closes.
func earClip2D(verts []geom.Vec, poly []int32, ccw bool) [][3]int32 {
	sign := 1.0
	if !ccw {
		sign = -1
	}
	n := len(poly)
	if n < 3 {
		return nil
	}
	p := func(k int) [2]float64 { v := verts[poly[k]]; return [2]float64{v.X, v.Y} }
	prev, next := make([]int, n), make([]int, n)
	for k := range n {
		prev[k], next[k] = (k+n-1)%n, (k+1)%n
	}
	alive := n
	version := make([]int, n)
	// quality returns the ear at k's smallest-angle sine, or −1 if k is
	// not an ear.
	quality := func(k int) float64 {
		a, b, c := p(prev[k]), p(k), p(next[k])
		cr := sign * cross2(a, b, c)
		if cr <= 0 {
			return -1
		}
		va, vb, vc := poly[prev[k]], poly[k], poly[next[k]]
		for j := next[next[k]]; j != prev[k]; j = next[j] {
			v := poly[j]
			if v == va || v == vb || v == vc {
				continue
			}
			q := p(j)
			if sign*cross2(a, b, q) >= 0 && sign*cross2(b, c, q) >= 0 && sign*cross2(c, a, q) >= 0 {
				return -1
			}
		}
		lab := math.Hypot(b[0]-a[0], b[1]-a[1])
		lbc := math.Hypot(c[0]-b[0], c[1]-b[1])
		lca := math.Hypot(a[0]-c[0], a[1]-c[1])
		// sin of the angle at each corner = cr / (product of its sides).
		return cr / (max(lab*lbc, lbc*lca, lca*lab) + 1e-300)
	}
	h := &earHeap{}
	for k := range n {
		if q := quality(k); q > 0 {
			h.push(earItem{q, k, 0})
		}
	}
	var out [][3]int32
	clip := func(k int) {
		out = append(out, [3]int32{poly[prev[k]], poly[k], poly[next[k]]})
		a, c := prev[k], next[k]
		next[a], prev[c] = c, a
		version[k] = -1
		alive--
		for _, j := range []int{a, c} {
			version[j]++
			if q := quality(j); q > 0 {
				h.push(earItem{q, j, version[j]})
			}
		}
	}
	start := 0
	for alive > 3 {
		clipped := false
		for h.len() > 0 {
			e := h.pop()
			if version[e.k] != e.v {
				continue // stale: the ear changed since
			}
			start = e.k
			clip(e.k)
			clipped = true
			break
		}
		if clipped {
			continue
		}
		// No ear: clip the most convex corner.
		for version[start] < 0 {
			start = (start + 1) % n
		}
		best, bestC := start, math.Inf(-1)
		for j, m := start, 0; m < alive; j, m = next[j], m+1 {
			if cr := sign * cross2(p(prev[j]), p(j), p(next[j])); cr > bestC {
				best, bestC = j, cr
			}
		}
		start = next[best]
		clip(best)
	}
	for j := range n {
		if version[j] >= 0 {
			out = append(out, [3]int32{poly[prev[j]], poly[j], poly[next[j]]})
			break
		}
	}
	return out
}

type earItem struct {
	q    float64
	k, v int
}

// earHeap is a max-heap of ears by quality, ties by index.
type earHeap struct{ items []earItem }

func (h *earHeap) len() int { return len(h.items) }

func (h *earHeap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.q != b.q {
		return a.q > b.q
	}
	return a.k < b.k
}

func (h *earHeap) push(e earItem) {
	h.items = append(h.items, e)
	i := len(h.items) - 1
	for i > 0 {
		up := (i - 1) / 2
		if !h.less(i, up) {
			break
		}
		h.items[i], h.items[up] = h.items[up], h.items[i]
		i = up
	}
}

func (h *earHeap) pop() earItem {
	top := h.items[0]
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(h.items) && h.less(l, m) {
			m = l
		}
		if r < len(h.items) && h.less(r, m) {
			m = r
		}
		if m == i {
			return top
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// Compact returns m without the vertices no face uses, faces renumbered.
func Compact(m *geom.Mesh) *geom.Mesh { return compact(m.Vertices, m.Faces) }

// compact returns the mesh of faces over the vertices they use.
func compact(verts []geom.Vec, faces [][3]int32) *geom.Mesh {
	remap := make([]int32, len(verts))
	for i := range remap {
		remap[i] = -1
	}
	out := &geom.Mesh{Faces: make([][3]int32, len(faces))}
	for i, f := range faces {
		for k, v := range f {
			if remap[v] < 0 {
				remap[v] = int32(len(out.Vertices))
				out.Vertices = append(out.Vertices, verts[v])
			}
			out.Faces[i][k] = remap[v]
		}
	}
	return out
}

// TriangulatePlanar closes loops of vertices that lie on one plane, as
// given by their X and Y (Z is ignored; pass the vertices in the plane's
// own frame), with triangles. Loops inside another are holes in it; the
// triangles take the outer loops' direction, so that they agree with the
// faces beyond the loops.
func TriangulatePlanar(verts []geom.Vec, loops [][]int32) ([][3]int32, error) {
	return triangulateBase(verts, loops)
}

// Printable isolates the part (Isolate with o) and repairs it (Repair with
// defaults). Carrying the walls' edge down over a gap is right for the
// gaps photos leave near the mat, but a ragged or overhanging edge can
// fold its copy onto the wall beside it; so when Isolate carried any gap
// down, the part is also made with straight joins, and the carried one is
// kept unless it came out less sound: not watertight where the other is,
// or with more faces turned over by Repair (the marks of a fold). Then the
// report's Carried is 0 and CarryUndone says why. A few more faces left
// crossing others do not count against it: straight joins over long gaps
// leave hole filling's fans, which are far further from the part.
func Printable(ctx context.Context, m *geom.Mesh, o *IsolateOptions) (*geom.Mesh, *IsolateReport, *RepairReport, error) {
	var opt IsolateOptions
	if o != nil {
		opt = *o
	}
	build := func(straight bool) (*geom.Mesh, *IsolateReport, *RepairReport, error) {
		opt.StraightJoins = straight
		iso, irep, err := Isolate(ctx, m, &opt)
		if err != nil {
			return nil, nil, nil, err
		}
		part, rrep, err := Repair(iso, nil)
		if err != nil {
			return nil, nil, nil, err
		}
		return part, irep, rrep, nil
	}
	part, irep, rrep, err := build(opt.StraightJoins)
	if err != nil || irep.Carried == 0 {
		return part, irep, rrep, err
	}
	part2, irep2, rrep2, err := build(true)
	if err != nil {
		return part, irep, rrep, nil
	}
	var why string
	switch {
	case !rrep.Watertight && rrep2.Watertight:
		why = "not watertight"
	case rrep.FacesFlipped > rrep2.FacesFlipped:
		why = fmt.Sprintf("%d faces turned over, against %d", rrep.FacesFlipped, rrep2.FacesFlipped)
	default:
		return part, irep, rrep, nil
	}
	gaps := "1 gap"
	if irep.Carried != 1 {
		gaps = fmt.Sprintf("%d gaps", irep.Carried)
	}
	irep2.CarryUndone = fmt.Sprintf("the walls carried down over %s came out %s: joined straight across instead", gaps, why)
	return part2, irep2, rrep2, nil
}
