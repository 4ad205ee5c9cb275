package cad

import (
	"container/heap"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// bisectLong splits the edges of a closed mesh longer than maxLen, the
// longest first, until none is left (longest-edge bisection, Rivara 1984:
// splitting the mesh's longest edge splits the longest edge of both its
// triangles, which keeps their angles away from zero). place gives the new
// vertex for the edge from a to b between triangles t1 and t2 (their
// indices in the returned origin); nil puts it at the midpoint, which
// leaves the surface as it was. It returns the new mesh and, per
// triangle, the input triangle it lies in.
//
// Assemble uses it on the long thin triangles a planar re-triangulation
// leaves (a face cut for a hole is ear-clipped from its outline alone), so
// that giving up the triangles about one vertex gives up a little of the
// face, not a wedge across it.
func bisectLong(m *geom.Mesh, maxLen float64, place func(a, b int32, mid r3.Vec, o1, o2 int32) r3.Vec) (*geom.Mesh, []int32) {
	out := &geom.Mesh{Vertices: append([]r3.Vec(nil), m.Vertices...), Faces: append([][3]int32(nil), m.Faces...)}
	origin := make([]int32, len(m.Faces))
	for i := range origin {
		origin[i] = int32(i)
	}
	at := map[[2]int32]int32{}
	q := &edgeHeap{}
	length := func(a, b int32) float64 { return r3.Norm(r3.Sub(out.Vertices[a], out.Vertices[b])) }
	// Only long edges are looked up, so only they are kept: a mesh with
	// none costs one pass.
	put := func(t int32) {
		f := out.Faces[t]
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			if l := length(a, b); l > maxLen {
				at[[2]int32{a, b}] = t
				if a < b {
					heap.Push(q, edgeLen{l, a, b})
				}
			}
		}
	}
	for t := range out.Faces {
		put(int32(t))
	}
	for q.Len() > 0 {
		e := heap.Pop(q).(edgeLen)
		t1, ok1 := at[[2]int32{e.a, e.b}]
		t2, ok2 := at[[2]int32{e.b, e.a}]
		if !ok1 || !ok2 || length(e.a, e.b) != e.l {
			continue
		}
		mid := r3.Scale(0.5, r3.Add(out.Vertices[e.a], out.Vertices[e.b]))
		if place != nil {
			mid = place(e.a, e.b, mid, origin[t1], origin[t2])
		}
		out.Vertices = append(out.Vertices, mid)
		mv := int32(len(out.Vertices) - 1)
		delete(at, [2]int32{e.a, e.b})
		delete(at, [2]int32{e.b, e.a})
		for _, t := range [2]int32{t1, t2} {
			f := out.Faces[t]
			k := 0
			for !(f[k] == e.a && f[(k+1)%3] == e.b || f[k] == e.b && f[(k+1)%3] == e.a) {
				k++
			}
			a, b, c := f[k], f[(k+1)%3], f[(k+2)%3]
			out.Faces[t] = [3]int32{a, mv, c}
			out.Faces = append(out.Faces, [3]int32{mv, b, c})
			origin = append(origin, origin[t])
			put(t)
			put(int32(len(out.Faces) - 1))
		}
	}
	return out, origin
}

type edgeLen struct {
	l    float64
	a, b int32
}

// edgeHeap is a max-heap of edges by length.
type edgeHeap []edgeLen

func (h edgeHeap) Len() int           { return len(h) }
func (h edgeHeap) Less(i, j int) bool { return h[i].l > h[j].l }
func (h edgeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *edgeHeap) Push(x any)        { *h = append(*h, x.(edgeLen)) }
func (h *edgeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
