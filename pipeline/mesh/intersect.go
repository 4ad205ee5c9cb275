package mesh

import (
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// maxIntersectCells caps the grid cells one face is entered in: a face far
// larger than the cell size (a big flat fill) is entered in at most this
// many, the rest of its box scanned through the others' entries.
const maxIntersectCells = 4096

// SelfIntersections returns the pairs of faces of m (i < j) that cross
// each other, leaving out pairs that share a vertex: a surface a printer
// cannot tell inside from outside at. Faces go into a uniform grid of
// cells about twice the median edge long (broad phase: the (cell, face)
// entries sorted by cell, and each pair tested only in the first cell
// their boxes share, so no pair is tested twice); each such pair is tested
// exactly by whether an edge of one crosses the other (Möller, "A fast
// triangle-triangle intersection test", Journal of Graphics Tools 2(2),
// 1997, reduced to its segment–triangle core). Coplanar pairs are not
// reported. m must pass Validate.
func SelfIntersections(m *geom.Mesh) [][2]int32 {
	if len(m.Faces) < 2 {
		return nil
	}
	box := m.Bounds()
	cell := max(2*MedianEdge(m), box.MaxExtent()/(1<<20))
	if !(cell > 0) || math.IsInf(cell, 0) {
		return nil
	}
	lo := box.Min
	cellOf := func(p geom.Vec) [3]int32 {
		return [3]int32{int32((p.X - lo.X) / cell), int32((p.Y - lo.Y) / cell), int32((p.Z - lo.Z) / cell)}
	}
	keyOf := func(x, y, z int32) uint64 { return uint64(x)<<42 | uint64(y)<<21 | uint64(z) }
	k0s := make([][3]int32, len(m.Faces))
	type entry struct {
		key uint64
		f   int32
	}
	entries := make([]entry, 0, 2*len(m.Faces))
	for i, f := range m.Faces {
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		k0 := cellOf(geom.Vec{X: min(a.X, b.X, c.X), Y: min(a.Y, b.Y, c.Y), Z: min(a.Z, b.Z, c.Z)})
		k1 := cellOf(geom.Vec{X: max(a.X, b.X, c.X), Y: max(a.Y, b.Y, c.Y), Z: max(a.Z, b.Z, c.Z)})
		k0s[i] = k0
		n := 0
		for x := k0[0]; x <= k1[0] && n < maxIntersectCells; x++ {
			for y := k0[1]; y <= k1[1] && n < maxIntersectCells; y++ {
				for z := k0[2]; z <= k1[2] && n < maxIntersectCells; z++ {
					entries = append(entries, entry{keyOf(x, y, z), int32(i)})
					n++
				}
			}
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return int(a.f - b.f)
	})
	// Runs of one cell, split among the workers.
	var runs [][2]int
	for s := 0; s < len(entries); {
		e := s + 1
		for e < len(entries) && entries[e].key == entries[s].key {
			e++
		}
		if e-s > 1 {
			runs = append(runs, [2]int{s, e})
		}
		s = e
	}
	workers := max(1, min(runtime.GOMAXPROCS(0), len(runs)))
	found := make([][][2]int32, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := w; r < len(runs); r += workers {
				run := entries[runs[r][0]:runs[r][1]]
				k := run[0].key
				for x := range run {
					for y := x + 1; y < len(run); y++ {
						i, j := run[x].f, run[y].f
						// Only in the first cell both boxes share.
						a, b := k0s[i], k0s[j]
						if keyOf(max(a[0], b[0]), max(a[1], b[1]), max(a[2], b[2])) != k {
							continue
						}
						if shareVertex(m.Faces[i], m.Faces[j]) || !trianglesCross(m, m.Faces[i], m.Faces[j]) {
							continue
						}
						found[w] = append(found[w], [2]int32{min(i, j), max(i, j)})
					}
				}
			}
		})
	}
	wg.Wait()
	var out [][2]int32
	for _, f := range found {
		out = append(out, f...)
	}
	slices.SortFunc(out, func(a, b [2]int32) int {
		if a[0] != b[0] {
			return int(a[0] - b[0])
		}
		return int(a[1] - b[1])
	})
	return slices.Compact(out)
}

func shareVertex(f, g [3]int32) bool {
	for _, a := range f {
		for _, b := range g {
			if a == b {
				return true
			}
		}
	}
	return false
}

// trianglesCross reports whether an edge of either triangle passes through
// the other's interior.
func trianglesCross(m *geom.Mesh, f, g [3]int32) bool {
	p := [3]geom.Vec{m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]}
	q := [3]geom.Vec{m.Vertices[g[0]], m.Vertices[g[1]], m.Vertices[g[2]]}
	// Quick rejection by boxes.
	for axis := range 3 {
		c := func(v geom.Vec) float64 { return [3]float64{v.X, v.Y, v.Z}[axis] }
		if max(c(p[0]), c(p[1]), c(p[2])) < min(c(q[0]), c(q[1]), c(q[2])) ||
			max(c(q[0]), c(q[1]), c(q[2])) < min(c(p[0]), c(p[1]), c(p[2])) {
			return false
		}
	}
	for k := range 3 {
		if segmentCrosses(q[k], q[(k+1)%3], p) || segmentCrosses(p[k], p[(k+1)%3], q) {
			return true
		}
	}
	return false
}

// segmentCrosses reports whether the segment ab passes through the
// interior of triangle t (Möller and Trumbore, "Fast, minimum storage
// ray-triangle intersection", JGT 2(1), 1997), with a margin so that
// touching at an edge or a vertex does not count.
func segmentCrosses(a, b geom.Vec, t [3]geom.Vec) bool {
	const eps = 1e-9
	d := r3.Sub(b, a)
	e1, e2 := r3.Sub(t[1], t[0]), r3.Sub(t[2], t[0])
	h := r3.Cross(d, e2)
	det := r3.Dot(e1, h)
	scale := r3.Norm(d) * r3.Norm(e1) * r3.Norm(e2)
	if !(math.Abs(det) > 1e-12*scale) {
		return false // parallel or coplanar
	}
	inv := 1 / det
	s := r3.Sub(a, t[0])
	u := inv * r3.Dot(s, h)
	if u <= eps || u >= 1-eps {
		return false
	}
	qv := r3.Cross(s, e1)
	v := inv * r3.Dot(d, qv)
	if v <= eps || u+v >= 1-eps {
		return false
	}
	w := inv * r3.Dot(e2, qv)
	return w > eps && w < 1-eps
}
