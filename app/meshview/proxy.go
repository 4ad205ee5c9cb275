package meshview

import (
	"image/color"
	"math"
	"math/bits"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Proxy sizes. A Renderer with Proxy set draws a large mesh or cloud from
// a smaller copy made by SetMesh or SetCloud; the View sets it while the
// user moves the view and draws one full frame when the view is still.
//
// On 2 cores at 800×600 a million triangles draw in 25–30 ms
// (BenchmarkRender1M), so a mesh up to ProxyMinTriangles (about 40 ms)
// still draws within the 50 ms that keep a drag at 20 frames a second,
// and a proxy of ProxyTriangles draws in about 14 ms
// (BenchmarkRender3MMoving). Points cost more each than triangles: two
// million draw in about 70 ms and a proxy of ProxyPoints in about 20 ms
// (BenchmarkRenderCloud2MMoving).
const (
	// ProxyMinTriangles is the most faces a mesh may have and still be
	// drawn in full while the view moves.
	ProxyMinTriangles = 1_500_000
	// ProxyTriangles is about how many triangles the proxy of a larger
	// mesh has.
	ProxyTriangles = 300_000
	// ProxyMinPoints is the most points a cloud may have and still be
	// drawn in full while the view moves.
	ProxyMinPoints = 1_000_000
	// ProxyPoints is the most points the proxy of a larger cloud has:
	// every k-th point, for the smallest k that keeps to it.
	ProxyPoints = 500_000
)

// proxySizes are the thresholds and targets of the proxies; zero fields
// take the Proxy constants. Tests lower them to exercise proxies on small
// meshes.
type proxySizes struct {
	minTriangles, triangles, minPoints, points int
}

// orDefault returns s with each zero field replaced by its constant.
func (s proxySizes) orDefault() proxySizes {
	if s.minTriangles <= 0 {
		s.minTriangles = ProxyMinTriangles
	}
	if s.triangles <= 0 {
		s.triangles = ProxyTriangles
	}
	if s.minPoints <= 0 {
		s.minPoints = ProxyMinPoints
	}
	if s.points <= 0 {
		s.points = ProxyPoints
	}
	return s
}

// newProxy returns the model drawn in place of m while the view moves: m
// decimated to about target triangles and prepared like any mesh (normals
// and creases from the proxy's own faces, since merged vertices and faces
// no longer match the original's). With colors, each of its triangles
// takes the colour of the face of m it was made from (see decimate), or
// the default grey past the end of colors. It returns nil when the proxy
// would draw nothing, or no fewer triangles than m.
func newProxy(m *geom.Mesh, colors []color.NRGBA, target int) *model {
	d, src, _ := decimate(m, target)
	if len(d.Faces) == 0 || len(d.Faces) >= len(m.Faces) {
		return nil
	}
	var dc []color.NRGBA
	if colors != nil {
		dc = make([]color.NRGBA, len(src))
		for i, f := range src {
			dc[i] = modelColor
			if int(f) < len(colors) {
				dc[i] = colors[f]
			}
		}
	}
	return newModel(d, dc)
}

// decimate returns a mesh of about target triangles approximating m, the
// index in m.Faces of the face each of its triangles was made from, and
// the side of the grid's cubes it was made on (zero when m has no two
// distinct finite vertices), by vertex clustering (Rossignac and Borrel,
// "Multi-resolution 3D approximations for rendering complex scenes",
// Modeling in Computer Graphics, Springer 1993): space is cut into a
// uniform grid of cubes; the vertices of m's faces in each cube merge into
// one vertex, at their mean; a face with two corners in one cube collapses
// and is dropped; and of faces on the same three cubes in the same cyclic
// order only the first is kept. Faces keep their orientation. Two faces on
// the same cubes in opposite orders both stay: they are the two sides of a
// thin wall that has collapsed to one sheet, and back-face culling needs
// both to show it from either side. (The quadric-optimal point of
// Lindstrom, "Out-of-core simplification of large polygonal models",
// SIGGRAPH 2000, would keep sharp edges sharper than the mean, which
// rounds them by up to a cube; for a frame seen while moving, the mean
// is enough.)
//
// The mean of a cube's vertices lies in the cube and in the convex hull of
// the vertices, so the result's bounds lie within m's and within one cube
// of them. Faces that index out of range or use a non-finite vertex are
// left out, as in newModel; the result has no unused vertices.
//
// The cube's side is chosen from m's surface area so that about target/2
// cubes are occupied, which gives about target triangles on a closed
// surface (a triangle mesh of V vertices has about 2V faces); when the
// estimate misses by more than a quarter, the grid is rescaled once by
// the miss.
func decimate(m *geom.Mesh, target int) (*geom.Mesh, []int32, float64) {
	b := finiteBounds(m.Vertices)
	if b.Empty() || target <= 0 {
		return &geom.Mesh{}, nil, 0
	}
	h := cellSize(m, b, target)
	if !(h > 0) {
		return &geom.Mesh{}, nil, 0 // all vertices at one point: nothing to draw
	}
	c := newClusterer(m, b.Min, target)
	out, src := c.cluster(h)
	if n := len(out.Faces); n > 0 && (4*n < 3*target || 4*n > 5*target) {
		// Triangles go as 1/h² on a surface.
		h = max(h*math.Sqrt(float64(n)/float64(target)), minCellSize(b))
		out, src = c.cluster(h)
	}
	return out, src, h
}

// Grid limits: cell coordinates take cellBits bits each in a cell key.
const (
	cellBits = 21
	maxCell  = 1<<cellBits - 1
)

// cellSize returns the side of the grid's cubes for about target
// triangles out of m, whose finite vertices lie in b; zero when b is a
// point.
//
// A surface of area A cuts about (|nx|+|ny|+|nz|)·A/h² cubes of side h,
// where n is its unit normal; the mean of |nx|+|ny|+|nz| over all
// directions is 3/2. For target/2 cubes, h = √(3A/target). The area is
// summed over a sample of about 2^16 faces, every step-th: plenty to size
// a grid whose result decimate checks anyway.
func cellSize(m *geom.Mesh, b geom.Box, target int) float64 {
	ext := b.MaxExtent()
	if !(ext > 0) || !finite(ext) {
		return 0
	}
	n := len(m.Vertices)
	step := max(1, len(m.Faces)>>16)
	var area float64
	for i := 0; i < len(m.Faces); i += step {
		f := m.Faces[i]
		if f[0] < 0 || int(f[0]) >= n || f[1] < 0 || int(f[1]) >= n || f[2] < 0 || int(f[2]) >= n {
			continue
		}
		a := m.Vertices[f[0]]
		if l := norm(r3.Cross(r3.Sub(m.Vertices[f[1]], a), r3.Sub(m.Vertices[f[2]], a))); finite(l) {
			area += l / 2
		}
	}
	area *= float64(step)
	h := math.Sqrt(3 * area / float64(target))
	if !(h > 0) || !finite(h) {
		// No faces with area: a grid of about target/2 cubes in all.
		h = ext / math.Cbrt(float64(target)/2)
	}
	return max(h, minCellSize(b))
}

// minCellSize returns the smallest side of the grid's cubes over b that
// keeps cell coordinates within cellBits bits.
func minCellSize(b geom.Box) float64 { return b.MaxExtent() / (maxCell - 1) }

// Vertex states in clusterer.cid besides a cluster index.
const (
	unseen  = -1 // not yet met in a face
	invalid = -2 // not finite
)

// clusterer merges the vertices of one mesh on grids of any cell size,
// reusing its buffers between grids.
type clusterer struct {
	m      *geom.Mesh
	lo     geom.Vec // the grid's corner
	cid    []int32  // per vertex of m: its cluster, unseen or invalid
	cells  cellMap
	sums   []geom.Vec // per cluster: the sum of its vertices
	counts []int32    // per cluster: how many vertices it has
	tris   triSet
	remap  []int32 // per cluster: its vertex in the result, or −1
	target int     // triangles expected, to size the tables
}

func newClusterer(m *geom.Mesh, lo geom.Vec, target int) *clusterer {
	return &clusterer{m: m, lo: lo, cid: make([]int32, len(m.Vertices)), target: target}
}

// cluster returns m decimated on a grid of cubes of side h from c.lo, as
// described in decimate, and the index in m.Faces of the face each of its
// triangles was made from.
func (c *clusterer) cluster(h float64) (*geom.Mesh, []int32) {
	m := c.m
	for i := range c.cid {
		c.cid[i] = unseen
	}
	// About target/2 cells; the tables grow if there are more.
	c.cells.reset(max(1<<10, c.target/2))
	c.sums, c.counts = c.sums[:0], c.counts[:0]
	c.tris.reset(max(1<<10, c.target))
	inv := 1 / h
	n := len(m.Vertices)
	faces := make([][3]int32, 0, c.target) // in cluster indices
	src := make([]int32, 0, c.target)
faces:
	for i, f := range m.Faces {
		var t [3]int32
		for k, v := range f {
			if v < 0 || int(v) >= n {
				continue faces
			}
			id := c.cid[v]
			if id == unseen {
				id = c.add(v, inv)
			}
			if id == invalid {
				continue faces
			}
			t[k] = id
		}
		if t[0] == t[1] || t[1] == t[2] || t[2] == t[0] {
			continue // collapsed
		}
		// Rotate the smallest index first: one key per cyclic order.
		switch {
		case t[1] < t[0] && t[1] < t[2]:
			t = [3]int32{t[1], t[2], t[0]}
		case t[2] < t[0] && t[2] < t[1]:
			t = [3]int32{t[2], t[0], t[1]}
		}
		if c.tris.add(t, faces) {
			faces = append(faces, t)
			src = append(src, int32(i))
		}
	}

	// Keep the clusters that faces use, at the mean of their vertices.
	c.remap = grow(c.remap, len(c.sums))
	for i := range c.remap {
		c.remap[i] = -1
	}
	out := &geom.Mesh{Faces: faces}
	for i, t := range faces {
		for k, id := range t {
			if c.remap[id] < 0 {
				c.remap[id] = int32(len(out.Vertices))
				out.Vertices = append(out.Vertices, r3.Scale(1/float64(c.counts[id]), c.sums[id]))
			}
			faces[i][k] = c.remap[id]
		}
	}
	return out, src
}

// add puts vertex v into the cluster of its cell, making the cluster if
// it is the cell's first, and returns the cluster, or invalid.
func (c *clusterer) add(v int32, inv float64) int32 {
	p := c.m.Vertices[v]
	if !finite(p.X) || !finite(p.Y) || !finite(p.Z) {
		c.cid[v] = invalid
		return invalid
	}
	cell := func(x, lo float64) uint64 {
		return uint64(max(0, min(maxCell, int64((x-lo)*inv))))
	}
	key := cell(p.X, c.lo.X) | cell(p.Y, c.lo.Y)<<cellBits | cell(p.Z, c.lo.Z)<<(2*cellBits)
	id, added := c.cells.get(key, int32(len(c.sums)))
	if added {
		c.sums = append(c.sums, geom.Vec{})
		c.counts = append(c.counts, 0)
	}
	c.sums[id] = r3.Add(c.sums[id], p)
	c.counts[id]++
	c.cid[v] = id
	return id
}

// fib is 2^64 divided by the golden ratio, for Fibonacci hashing (Knuth,
// The Art of Computer Programming vol. 3, §6.4): the top bits of key·fib
// spread nearby keys over the table.
const fib = 0x9e3779b97f4a7c15

// tableSize is the size of an open-addressing table for about n keys, a
// power of two at least 2n, and the shift that takes a 64-bit hash to
// its top bits as a slot index.
func tableSize(n int) (size int, shift uint) {
	size = 1 << bits.Len(uint(2*n-1))
	return size, uint(64 - bits.Len(uint(size-1)))
}

// cellMap maps cell keys to cluster indices: open addressing with linear
// probing, at most half full. Go's map does the same job about three times
// slower here.
type cellMap struct {
	keys  []uint64 // key+1; 0 is empty
	ids   []int32
	n     int
	shift uint
}

// reset empties the map and sizes it for about n keys.
func (cm *cellMap) reset(n int) {
	size, shift := tableSize(n)
	cm.keys = grow(cm.keys, size)
	clear(cm.keys)
	cm.ids = grow(cm.ids, size)
	cm.n, cm.shift = 0, shift
}

// get returns the index of key, adding it with index id if it is new.
func (cm *cellMap) get(key uint64, id int32) (int32, bool) {
	if 2*(cm.n+1) > len(cm.keys) {
		cm.rehash()
	}
	mask := len(cm.keys) - 1
	for i := int((key * fib) >> cm.shift); ; i = (i + 1) & mask {
		switch cm.keys[i] {
		case key + 1:
			return cm.ids[i], false
		case 0:
			cm.keys[i], cm.ids[i] = key+1, id
			cm.n++
			return id, true
		}
	}
}

// rehash doubles the table.
func (cm *cellMap) rehash() {
	keys, ids := cm.keys, cm.ids
	cm.keys = make([]uint64, 2*len(keys))
	cm.ids = make([]int32, 2*len(keys))
	cm.shift--
	mask := len(cm.keys) - 1
	for j, k := range keys {
		if k == 0 {
			continue
		}
		i := int(((k - 1) * fib) >> cm.shift)
		for cm.keys[i] != 0 {
			i = (i + 1) & mask
		}
		cm.keys[i], cm.ids[i] = k, ids[j]
	}
}

// triSet is a set of triangles, stored as indices into the caller's slice
// of them: open addressing with linear probing, at most half full.
type triSet struct {
	slots []int32 // index+1; 0 is empty
	n     int
	shift uint
}

// reset empties the set and sizes it for about n triangles.
func (s *triSet) reset(n int) {
	size, shift := tableSize(n)
	s.slots = grow(s.slots, size)
	clear(s.slots)
	s.n, s.shift = 0, shift
}

// triHash mixes a triangle's indices into 64 bits whose top bits index
// the table: one multiply-and-xor round per index.
func triHash(t [3]int32) uint64 {
	h := uint64(uint32(t[0])) * fib
	h = (h ^ uint64(uint32(t[1]))) * fib
	return (h ^ uint64(uint32(t[2]))) * fib
}

// add reports whether t is new among all, the triangles added so far, and
// if so adds it as all[len(all)], where the caller must append it.
func (s *triSet) add(t [3]int32, all [][3]int32) bool {
	if 2*(s.n+1) > len(s.slots) {
		s.rehash(all)
	}
	mask := len(s.slots) - 1
	for i := int(triHash(t) >> s.shift); ; i = (i + 1) & mask {
		j := s.slots[i]
		if j == 0 {
			s.slots[i] = int32(len(all) + 1)
			s.n++
			return true
		}
		if all[j-1] == t {
			return false
		}
	}
}

// rehash doubles the table.
func (s *triSet) rehash(all [][3]int32) {
	old := s.slots
	s.slots = make([]int32, 2*len(old))
	s.shift--
	mask := len(s.slots) - 1
	for _, j := range old {
		if j == 0 {
			continue
		}
		i := int(triHash(all[j-1]) >> s.shift)
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = j
	}
}

// subsample returns every k-th point of cl, for the smallest k that keeps
// to at most limit points, with cl's origin and bounds.
func (cl *cloud) subsample(limit int) *cloud {
	k := (len(cl.pos) + limit - 1) / limit
	n := (len(cl.pos) + k - 1) / k
	p := &cloud{origin: cl.origin, bounds: cl.bounds, pos: make([]vec3, 0, n), col: make([]uint32, 0, n)}
	for i := 0; i < len(cl.pos); i += k {
		p.pos = append(p.pos, cl.pos[i])
		p.col = append(p.col, cl.col[i])
	}
	return p
}
