package geom

import (
	"cmp"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"
)

// Topology counts what makes a mesh printable or not. It is computed by
// Mesh.Topology on the mesh's combinatorics alone, except DegenerateFaces,
// which also looks at the coordinates.
//
// A face whose three indices are in range and distinct is "counted": only
// counted faces contribute to Vertices, Edges, the edge classes and
// Components. A face with a repeated index (CollapsedFaces) has no proper
// edges and a face with an index out of range (InvalidFaces) has no corners,
// so both are left out there.
type Topology struct {
	Vertices          int // distinct vertices referenced by counted faces
	Faces             int // all faces, len(Mesh.Faces)
	Edges             int // distinct undirected edges of counted faces
	BoundaryEdges     int // edges used by exactly one face
	NonManifoldEdges  int // edges used by more than two faces
	InconsistentEdges int // edges of two faces that both traverse them in the same direction
	DegenerateFaces   int // faces with a repeated index or exactly zero area
	CollapsedFaces    int // faces with a repeated index (a subset of DegenerateFaces)
	InvalidFaces      int // faces with an index out of range (see Mesh.Validate)
	Components        int // classes of counted faces connected through shared edges
}

// EulerCharacteristic returns V − E + F over the counted faces, their edges
// and the vertices they reference. It is 2 for each closed orientable
// component of genus 0 (a sphere), and 2 − 2g for genus g (Euler's
// polyhedron formula; e.g. Botsch et al., "Polygon Mesh Processing", AK
// Peters 2010, chapter 1).
func (t Topology) EulerCharacteristic() int {
	return t.Vertices - t.Edges + (t.Faces - t.CollapsedFaces - t.InvalidFaces)
}

// Watertight reports whether the counted faces form a closed, consistently
// oriented 2-manifold surface (as far as edges tell: a vertex shared by two
// otherwise separate sheets is not detected), there is at least one, and no
// face is invalid.
func (t Topology) Watertight() bool {
	return t.Faces-t.CollapsedFaces-t.InvalidFaces > 0 &&
		t.BoundaryEdges == 0 && t.NonManifoldEdges == 0 && t.InconsistentEdges == 0 &&
		t.InvalidFaces == 0
}

// halfEdge is one face's use of an undirected edge.
type halfEdge struct {
	key  uint64 // lower vertex index << 32 | higher vertex index
	face int32
	fwd  bool // the face goes from the lower to the higher index
}

// Topology classifies the mesh's faces and edges; see Topology. It accepts
// any mesh, valid or not, and takes O(F log F) time: it sorts the faces'
// half-edges so that the uses of each undirected edge are adjacent, then
// joins the faces around each edge with a disjoint-set forest (Tarjan,
// "Efficiency of a good but not linear set union algorithm", JACM 1975;
// path halving from Tarjan and van Leeuwen, "Worst-case analysis of set
// union algorithms", JACM 1984) to count components.
func (m *Mesh) Topology() Topology {
	t := Topology{Faces: len(m.Faces)}
	nv := int64(len(m.Vertices))
	used := make([]bool, len(m.Vertices))
	hes := make([]halfEdge, 0, 3*len(m.Faces))
	for i, f := range m.Faces {
		if int64(f[0]) < 0 || int64(f[0]) >= nv || int64(f[1]) < 0 || int64(f[1]) >= nv ||
			int64(f[2]) < 0 || int64(f[2]) >= nv {
			t.InvalidFaces++
			continue
		}
		if f[0] == f[1] || f[1] == f[2] || f[2] == f[0] {
			t.CollapsedFaces++
			t.DegenerateFaces++
			continue
		}
		a, b, c := m.corners(i)
		if r3.Cross(r3.Sub(b, a), r3.Sub(c, a)) == (Vec{}) {
			t.DegenerateFaces++
		}
		for k := range 3 {
			u, v := f[k], f[(k+1)%3]
			used[u] = true
			lo, hi := min(u, v), max(u, v)
			hes = append(hes, halfEdge{key: uint64(lo)<<32 | uint64(hi), face: int32(i), fwd: u < v})
		}
	}
	for _, u := range used {
		if u {
			t.Vertices++
		}
	}

	slices.SortFunc(hes, func(a, b halfEdge) int { return cmp.Compare(a.key, b.key) })
	parent := make([]int32, len(m.Faces))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(x int32) int32 {
		for parent[x] != x {
			parent[x] = parent[parent[x]] // path halving
			x = parent[x]
		}
		return x
	}
	for i := 0; i < len(hes); {
		j := i + 1
		for j < len(hes) && hes[j].key == hes[i].key {
			j++
		}
		t.Edges++
		switch n := j - i; {
		case n == 1:
			t.BoundaryEdges++
		case n > 2:
			t.NonManifoldEdges++
		case hes[i].fwd == hes[i+1].fwd:
			t.InconsistentEdges++
		}
		r := find(hes[i].face)
		for _, h := range hes[i+1 : j] {
			if s := find(h.face); s != r {
				parent[s] = r
			}
		}
		i = j
	}
	counted := make([]bool, len(m.Faces))
	for _, h := range hes {
		counted[h.face] = true
	}
	for i := range parent {
		if counted[i] && parent[i] == int32(i) {
			t.Components++
		}
	}
	return t
}
