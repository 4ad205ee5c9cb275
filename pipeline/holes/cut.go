package holes

import (
	"context"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// CutReport says what Cut did.
type CutReport struct {
	Cut     int      `json:"cut"`               // holes cut
	Skipped []string `json:"skipped,omitempty"` // holes not cut, and why
	// Removed and Added count faces.
	Removed int `json:"faces_removed"`
	Added   int `json:"faces_added"`
}

// Cut returns mesh m with holes (from Find on m) cut into it. Each face a
// hole opens in is triangulated afresh with the hole's outline as a hole in
// it, dropping the faces that closed it; so is the face a through hole
// runs out of. Straight walls along the axis join the two outlines, or
// the outline and a flat bottom at the hole's depth. A hole that cannot be
// cut cleanly is left as it is and said so. m is not changed.
func Cut(ctx context.Context, m *geom.Mesh, holes []Hole) (*geom.Mesh, *CutReport, error) {
	all := make([]*Hole, 0, len(holes))
	for k := range holes {
		all = append(all, &holes[k])
	}
	rep := &CutReport{}
	nb, edge := edgeMap(m), mesh.MedianEdge(m)
	out, failed, removed, added := cutAll(m, all, nb, edge)
	if len(failed) == 0 {
		rep.Cut, rep.Removed, rep.Added = len(all), removed, added
		return out, rep, nil
	}
	// One at a time, keeping those that can be cut with the others kept.
	var ok []*Hole
	for _, h := range all {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		o, f, r, a := cutAll(m, append(slices.Clone(ok), h), nb, edge)
		if len(f) > 0 {
			why := f[h]
			if why == "" {
				why = "it cannot be cut with the others"
			}
			rep.Skipped = append(rep.Skipped, fmt.Sprintf("hole Ø%.1f at (%.1f, %.1f, %.1f): %s", h.Diameter, h.Centre.X, h.Centre.Y, h.Centre.Z, why))
			continue
		}
		ok = append(ok, h)
		out, removed, added = o, r, a
	}
	if len(ok) == 0 {
		return m, rep, nil
	}
	rep.Cut, rep.Removed, rep.Added = len(ok), removed, added
	return out, rep, nil
}

// cutAll cuts every hole of todo into m (its face neighbours nb and median
// edge length edge), or says which cannot be cut.
//
// The faces a hole takes away are those of the prism its outline sweeps
// along its axis through the part, bar other flat faces: the surface
// that closed it, wherever the mesher laid it. Each flat face a hole
// opens in or runs out of is triangulated afresh, with the holes' outlines
// as holes in it; what is left of the faces taken away must be bounded by
// those flat faces' outlines alone, or the hole is not cut.
func cutAll(m *geom.Mesh, todo []*Hole, nb [][3]int32, edge float64) (out *geom.Mesh, failed map[*Hole]string, removed, added int) {
	failed = map[*Hole]string{}
	verts := append([]r3.Vec(nil), m.Vertices...)
	var faces [][3]int32
	// Rings of new vertices: each hole's outline on its face, and on the
	// face it runs out of or at its floor.
	type rings struct{ top, bottom []int32 }
	ring := map[*Hole]rings{}
	var planes []*region // the flat faces to triangulate afresh
	onPlane := map[*region][]*Hole{}
	use := func(r *region, h *Hole) {
		if _, ok := onPlane[r]; !ok {
			planes = append(planes, r)
		}
		onPlane[r] = append(onPlane[r], h)
	}
	flatFace := map[int32]*region{}
	for _, h := range todo {
		r := h.top
		if r == nil || len(h.outline) < 3 {
			failed[h] = "not found on this mesh"
			continue
		}
		var rg rings
		for _, p := range h.outline {
			rg.top = append(rg.top, int32(len(verts)))
			verts = append(verts, p)
		}
		if h.Through {
			e := h.exit
			den := r3.Dot(e.n, r.n)
			for _, p := range h.outline {
				q := r3.Add(p, r3.Scale((e.d-r3.Dot(e.n, p))/den, r.n))
				if !e.covers(m, q) {
					failed[h] = "its exit leaves the face it runs out of"
					break
				}
				rg.bottom = append(rg.bottom, int32(len(verts)))
				verts = append(verts, q)
			}
			use(e, h)
		} else {
			for _, p := range h.outline {
				rg.bottom = append(rg.bottom, int32(len(verts)))
				verts = append(verts, r3.Sub(p, r3.Scale(h.Depth, r.n)))
			}
		}
		ring[h] = rg
		use(r, h)
		for _, reg := range []*region{h.top, h.exit} {
			if reg != nil {
				for _, f := range reg.faces {
					flatFace[f] = reg
				}
			}
		}
	}
	if len(failed) > 0 {
		return nil, failed, 0, 0
	}
	// The faces taken away: every face of the flat faces triangulated
	// afresh, and those in each hole's prism.
	gone := make([]bool, len(m.Faces))
	for _, r := range planes {
		for _, f := range r.faces {
			gone[f] = true
		}
	}
	// The prism reaches a little past the outline: the mesher may have
	// laid a little of the walls, which the new walls replace.
	for _, h := range todo {
		r := h.top
		u, v := r.axes()
		ol := outlineOn(h, r, u, v)
		margin := math.Max(2*edge, 0.1*h.Diameter)
		up := math.Max(0.5*h.Diameter, 3*r.cell)
		low := h.thick - 2*r.cell
		for f, t := range m.Faces {
			if gone[f] || flatFace[int32(f)] != nil {
				continue
			}
			c := r3.Scale(1.0/3, r3.Add(m.Vertices[t[0]], r3.Add(m.Vertices[t[1]], m.Vertices[t[2]])))
			if s := r3.Dot(r.n, c) - r.d; s > up || s < -low {
				continue
			}
			d := r3.Sub(c, r.o)
			if ol.inside(r3.Dot(d, u), r3.Dot(d, v), -margin) {
				gone[f] = true
			}
		}
	}
	// What bounds them, loop by loop, each on one of those flat faces.
	next := map[int32]int32{}
	for f, t := range m.Faces {
		if !gone[f] {
			continue
		}
		for k := range 3 {
			if g := nb[f][k]; g < 0 || !gone[g] {
				a, b := t[k], t[(k+1)%3]
				if _, dup := next[a]; dup {
					return nil, blame(todo, "the mesh round it touches itself"), 0, 0
				}
				next[a] = b
			}
		}
	}
	loops, err := chains(next)
	if err != nil {
		return nil, blame(todo, err.Error()), 0, 0
	}
	planeLoops := map[*region][][]int32{}
	for _, l := range loops {
		var on *region
		for _, r := range planes {
			tol := 3 * r.cell
			if r.cell == 0 {
				tol = 1e-3 * math.Max(1, math.Abs(r.d))
			}
			all := true
			for _, i := range l {
				if math.Abs(r3.Dot(r.n, m.Vertices[i])-r.d) > tol {
					all = false
					break
				}
			}
			if all {
				on = r
				break
			}
		}
		if on == nil {
			return nil, blame(todo, "the surface that closed it joins the part's walls inside it"), 0, 0
		}
		planeLoops[on] = append(planeLoops[on], l)
	}
	for _, r := range planes {
		loops := planeLoops[r]
		for _, h := range onPlane[r] {
			if h.top == r {
				loops = append(loops, ring[h].top)
			} else {
				loops = append(loops, ring[h].bottom)
			}
		}
		// The face's vertices in its own frame, for the triangulation.
		u, v := r.axes()
		flat := make([]r3.Vec, len(verts))
		for _, l := range loops {
			for _, i := range l {
				d := r3.Sub(verts[i], r.o)
				flat[i] = r3.Vec{X: r3.Dot(d, u), Y: r3.Dot(d, v)}
			}
		}
		tris, err := mesh.TriangulatePlanar(flat, loops)
		if err != nil {
			return nil, blame(onPlane[r], err.Error()), 0, 0
		}
		faces = append(faces, tris...)
	}
	// The walls, and the floors of blind holes. The rings go
	// anticlockwise about the face's outward normal; these faces' normals
	// point into the hole.
	for _, h := range todo {
		rg := ring[h]
		n := len(rg.top)
		for k := range n {
			a, b := rg.top[k], rg.top[(k+1)%n]
			c, d := rg.bottom[k], rg.bottom[(k+1)%n]
			faces = append(faces, [3]int32{a, b, c}, [3]int32{b, d, c})
		}
		if !h.Through {
			centre := int32(len(verts))
			verts = append(verts, r3.Sub(h.Centre, r3.Scale(h.Depth, h.top.n)))
			for k := range n {
				faces = append(faces, [3]int32{centre, rg.bottom[k], rg.bottom[(k+1)%n]})
			}
		}
	}
	added = len(faces)
	for f, t := range m.Faces {
		if gone[f] {
			removed++
			continue
		}
		faces = append(faces, t)
	}
	return mesh.Compact(&geom.Mesh{Vertices: verts, Faces: faces}), nil, removed, added
}

// blame says every hole of hs failed for why.
func blame(hs []*Hole, why string) map[*Hole]string {
	out := make(map[*Hole]string, len(hs))
	for _, h := range hs {
		out[h] = why
	}
	return out
}

// covers reports whether point q, on the face's plane, lies on one of its
// faces.
func (r *region) covers(m *geom.Mesh, q r3.Vec) bool {
	u, v := r.axes()
	p := [2]float64{r3.Dot(q, u), r3.Dot(q, v)}
	for _, f := range r.faces {
		t := m.Faces[f]
		var c [3][2]float64
		for k := range 3 {
			c[k] = [2]float64{r3.Dot(m.Vertices[t[k]], u), r3.Dot(m.Vertices[t[k]], v)}
		}
		d0 := cross2(c[0], c[1], p)
		d1 := cross2(c[1], c[2], p)
		d2 := cross2(c[2], c[0], p)
		if (d0 >= 0 && d1 >= 0 && d2 >= 0) || (d0 <= 0 && d1 <= 0 && d2 <= 0) {
			return true
		}
	}
	return false
}

func cross2(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
}

// outlineOn returns hole h's outline in the frame (u, v) of face r, in
// world units, its centre where the hole's axis meets the face.
func outlineOn(h *Hole, r *region, u, v r3.Vec) *outline {
	den := r3.Dot(r.n, h.top.n)
	foot := func(p r3.Vec) (float64, float64) {
		q := r3.Add(p, r3.Scale((r.d-r3.Dot(r.n, p))/den, h.top.n))
		d := r3.Sub(q, r.o)
		return r3.Dot(d, u), r3.Dot(d, v)
	}
	ci, cj := foot(h.Centre)
	o := &outline{ci: ci, cj: cj, r: make([]float64, 0, len(h.outline))}
	// Corners in order of angle, as the outline type wants them: on the
	// far face the frame may turn the other way.
	pts := make([][2]float64, len(h.outline))
	for k, p := range h.outline {
		i, j := foot(p)
		pts[k] = [2]float64{i - ci, j - cj}
	}
	n := len(pts)
	rs := make([]float64, n)
	for k := range n {
		a := 2 * math.Pi * float64(k) / float64(n)
		// The corner nearest angle a.
		best, bd := 0, math.Inf(1)
		for i, p := range pts {
			if d := math.Abs(math.Remainder(math.Atan2(p[1], p[0])-a, 2*math.Pi)); d < bd {
				best, bd = i, d
			}
		}
		rs[k] = math.Hypot(pts[best][0], pts[best][1])
	}
	o.r = rs
	return o
}

// chains splits a successor map of closed loops into the loops, each
// starting at its smallest vertex, in order of those.
func chains(next map[int32]int32) ([][]int32, error) {
	seen := make(map[int32]bool, len(next))
	var starts []int32
	for a := range next {
		starts = append(starts, a)
	}
	slices.Sort(starts)
	var loops [][]int32
	for _, s := range starts {
		if seen[s] {
			continue
		}
		var l []int32
		for v := s; !seen[v]; {
			seen[v] = true
			l = append(l, v)
			n, ok := next[v]
			if !ok {
				return nil, fmt.Errorf("its rim is open")
			}
			v = n
		}
		if next[l[len(l)-1]] != s {
			return nil, fmt.Errorf("its rim crosses itself")
		}
		loops = append(loops, l)
	}
	return loops, nil
}
