package geom

import (
	"fmt"
	"math"
	"sync"
)

// KDTree is a static 3-D k-d tree over a slice of points, for nearest
// neighbour and radius queries (Friedman, Bentley and Finkel, "An Algorithm
// for Finding Best Matches in Logarithmic Expected Time", ACM TOMS 3(3),
// 1977). Its methods are safe for concurrent use.
//
// Points with a NaN or infinite coordinate are left out of the tree: no
// query returns them.
type KDTree struct {
	points []Vec     // the caller's slice, neither copied nor reordered
	idx    []int32   // indices of the finite points, leaf after leaf
	split  []float64 // split[n]: the coordinate that splits internal node n
	axis   []uint8   // axis[n]: the axis (0, 1, 2 for x, y, z) node n splits
	depth  int       // every leaf is at this depth; 0 when the root is a leaf
}

// kdLeafSize is the most points a leaf holds. Nodes split at the median so
// the tree is complete and implicit: node n has children 2n+1 and 2n+2, node
// n at depth d holds idx[lo:hi] and its children hold the halves either side
// of lo+(hi-lo)/2, and all leaves hold between kdLeafSize/2 and kdLeafSize
// points. Buckets of 8–16 points amortise the descent against the distance
// computations, which are cheap in 3-D.
const kdLeafSize = 16

// kdParallelSize is the smallest node whose two halves NewKDTree builds in
// parallel: below it a goroutine costs more than it saves.
const kdParallelSize = 1 << 15

// kdSlack widens the pruning bounds by a relative 1e-9. The squared distance
// from q to a cell is accumulated along the descent, at most a few dozen
// roundings (~1e-14 relative); without the slack a point exactly at the
// bound — on a split plane, or a tie with the k-th candidate — could be
// pruned by an ulp.
const kdSlack = 1 + 1e-9

// NewKDTree builds a k-d tree over points in O(n log n). Each node splits
// its points at the median along the axis where they spread most, found by
// selection (Hoare's FIND, as written by Wirth, "Algorithms + Data Structures
// = Programs", 1976, §2.3.4) on an index slice.
//
// The tree keeps points without copying or reordering it: the caller must
// not change the points while the tree is in use. Query results are indices
// into points. The tree itself takes about 5 bytes a point; building it
// takes 32 more a point for a while (a scratch copy of the points, so that
// the build reads memory in order). NewKDTree panics if points has more
// than math.MaxInt32 elements.
func NewKDTree(points []Vec) *KDTree {
	t, _ := newKDTree(points)
	return t
}

// newKDTree builds the tree as NewKDTree does and also returns its finite
// points in leaf order: leaf[j] is points[t.idx[j]]. Building permutes this
// copy alongside the indices so that every pass over a node reads
// consecutive memory rather than points scattered across the input.
func newKDTree(points []Vec) (t *KDTree, leaf []Vec) {
	if len(points) > math.MaxInt32 {
		panic(fmt.Sprintf("geom: NewKDTree: %d points, at most %d", len(points), math.MaxInt32))
	}
	t = &KDTree{points: points, idx: make([]int32, 0, len(points))}
	leaf = make([]Vec, 0, len(points))
	for i, p := range points {
		if finite(p) {
			t.idx = append(t.idx, int32(i))
			leaf = append(leaf, p)
		}
	}
	m := len(t.idx)
	for m > kdLeafSize<<t.depth {
		t.depth++
	}
	inner := 1<<t.depth - 1
	t.split = make([]float64, inner)
	t.axis = make([]uint8, inner)
	b := kdBuilder{t: t, keys: make([]float64, m), leaf: leaf}
	b.build(0, 0, m, 0)
	b.wg.Wait()
	return t, leaf
}

// kdBuilder holds the scratch of NewKDTree: keys for the selection and the
// points permuted with t.idx. A node uses only its range [lo, hi) of each,
// so halves built in parallel do not share memory.
type kdBuilder struct {
	t    *KDTree
	keys []float64
	leaf []Vec
	wg   sync.WaitGroup
}

// build splits node n, which holds idx[lo:hi] at the given depth, and its
// descendants.
func (b *kdBuilder) build(n, lo, hi, depth int) {
	t := b.t
	for ; depth < t.depth; depth++ {
		box := EmptyBox()
		for _, p := range b.leaf[lo:hi] {
			box = box.Extend(p)
		}
		s := box.Size()
		a := 0
		if s.Y > s.X {
			a = 1
		}
		if s.Z > max(s.X, s.Y) {
			a = 2
		}
		for j, p := range b.leaf[lo:hi] {
			b.keys[lo+j] = component(p, a)
		}
		mid := lo + (hi-lo)/2
		selectKth(b.keys[lo:hi], t.idx[lo:hi], b.leaf[lo:hi], mid-lo)
		t.axis[n] = uint8(a)
		t.split[n] = b.keys[mid]
		if hi-lo >= kdParallelSize {
			left, lo, depth := 2*n+1, lo, depth+1 // the loop moves on to the right half
			b.wg.Go(func() { b.build(left, lo, mid, depth) })
		} else {
			b.build(2*n+1, lo, mid, depth+1)
		}
		n, lo = 2*n+2, mid
	}
}

// selectKth reorders keys, and idx and ps alongside, so that keys[k] is the
// value that would be there if keys were sorted, no key before k is greater
// and no key after k is smaller. The pivot is the median of three, so sorted
// input is linear; Hoare's partition stops on keys equal to the pivot, so
// many equal keys split evenly instead of degrading to quadratic time.
func selectKth(keys []float64, idx []int32, ps []Vec, k int) {
	swap := func(i, j int) {
		keys[i], keys[j] = keys[j], keys[i]
		idx[i], idx[j] = idx[j], idx[i]
		ps[i], ps[j] = ps[j], ps[i]
	}
	lo, hi := 0, len(keys)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if keys[mid] < keys[lo] {
			swap(mid, lo)
		}
		if keys[hi] < keys[lo] {
			swap(hi, lo)
		}
		if keys[hi] < keys[mid] {
			swap(hi, mid)
		}
		x := keys[mid]
		i, j := lo, hi
		for i <= j {
			for keys[i] < x {
				i++
			}
			for x < keys[j] {
				j--
			}
			if i <= j {
				swap(i, j)
				i++
				j--
			}
		}
		// Now keys[lo:j+1] ≤ x ≤ keys[i:hi+1] and keys[j+1:i] == x.
		if j < k {
			lo = i
		}
		if k < i {
			hi = j
		}
	}
}

// component returns p's coordinate along axis a: 0, 1 or 2 for x, y or z.
func component(p Vec, a int) float64 {
	switch a {
	case 0:
		return p.X
	case 1:
		return p.Y
	}
	return p.Z
}

// reordered returns a tree with t's splits over leaf, t's points in leaf
// order as newKDTree returns them: index j in it is t.idx[j] in t. Queries
// on it read memory that is close in the slice when it is close in space.
func (t *KDTree) reordered(leaf []Vec) *KDTree {
	r := *t
	r.points = leaf
	r.idx = make([]int32, len(leaf))
	for j := range r.idx {
		r.idx[j] = int32(j)
	}
	return &r
}

// Len returns the number of points in the tree: those given to NewKDTree
// less those with a NaN or infinite coordinate.
func (t *KDTree) Len() int { return len(t.idx) }

// KNearest appends to dst[:0] the indices of the k points nearest to q,
// nearest first, and returns the extended slice; fewer than k if the tree
// holds fewer. Points at equal distances come in increasing index order, so
// the result does not depend on how the tree was built. A q with a NaN or
// infinite coordinate, or k ≤ 0, finds nothing.
//
// Apart from growing dst, KNearest does not allocate in steady state: its
// bounded heap comes from a pool.
func (t *KDTree) KNearest(q Vec, k int, dst []int) []int {
	dst = dst[:0]
	if k <= 0 || len(t.idx) == 0 || !finite(q) {
		return dst
	}
	s := searchPool.Get().(*kdSearch)
	s.t = t
	s.knearest(q, k)
	s.sort()
	for _, it := range s.h {
		dst = append(dst, int(it.i))
	}
	s.t = nil // do not keep the tree alive from the pool
	searchPool.Put(s)
	return dst
}

// Nearest returns the index of the point nearest to q and its distance
// from q; ties go to the smaller index. On an empty tree, or for a q with a
// NaN or infinite coordinate, it returns -1 and +Inf.
func (t *KDTree) Nearest(q Vec) (i int, dist float64) {
	if len(t.idx) == 0 || !finite(q) {
		return -1, math.Inf(1)
	}
	var buf [1]kdItem
	s := kdSearch{t: t, h: buf[:0]}
	s.knearest(q, 1)
	return int(s.h[0].i), math.Sqrt(s.h[0].d2)
}

// Radius appends to dst[:0] the indices of all points within distance r of
// q (|p-q| ≤ r), in no particular order, and returns the extended slice. A
// q with a NaN or infinite coordinate, or a negative or NaN r, finds
// nothing.
func (t *KDTree) Radius(q Vec, r float64, dst []int) []int {
	dst = dst[:0]
	if len(t.idx) == 0 || !finite(q) || !(r >= 0) {
		return dst
	}
	s := kdRadius{t: t, q: [3]float64{q.X, q.Y, q.Z}, r2: r * r, dst: dst}
	s.visit(0, 0, len(t.idx), 0, 0, [3]float64{})
	return s.dst
}

// kdItem is a candidate neighbour: a point index and its squared distance.
type kdItem struct {
	d2 float64
	i  int32
}

// farther orders candidates by distance, then by index.
func (a kdItem) farther(b kdItem) bool {
	return a.d2 > b.d2 || a.d2 == b.d2 && a.i > b.i
}

// kdSearch is the state of a k-nearest search: h is a max-heap of the best
// k candidates so far, the farthest at h[0].
type kdSearch struct {
	t *KDTree
	q [3]float64
	k int
	h []kdItem
}

var searchPool = sync.Pool{New: func() any { return new(kdSearch) }}

// knearest leaves in s.h the min(k, t.Len()) points nearest to q, as a heap.
// k must be positive and q finite.
func (s *kdSearch) knearest(q Vec, k int) {
	s.q = [3]float64{q.X, q.Y, q.Z}
	s.k = min(k, len(s.t.idx))
	if cap(s.h) < s.k {
		s.h = make([]kdItem, 0, s.k)
	}
	s.h = s.h[:0]
	s.visit(0, 0, len(s.t.idx), 0, 0, [3]float64{})
}

// visit searches node n, which holds idx[lo:hi] at the given depth. off is
// the offset from q to the node's cell along each axis and rd the squared
// distance from q to the cell, updated incrementally from the parent's (Arya
// and Mount, "Algorithms for Fast Vector Quantization", DCC 1993, §3). The
// nearer child is searched first, the farther only if its cell is no farther
// than the current k-th candidate: equal distances are searched so ties
// break by index.
func (s *kdSearch) visit(n, lo, hi, depth int, rd float64, off [3]float64) {
	t := s.t
	if depth == t.depth {
		for _, i := range t.idx[lo:hi] {
			p := t.points[i]
			dx, dy, dz := p.X-s.q[0], p.Y-s.q[1], p.Z-s.q[2]
			it := kdItem{d2: dx*dx + dy*dy + dz*dz, i: i}
			if n := len(s.h); n < s.k {
				s.h = s.h[:n+1] // knearest made room for k
				s.h[n] = it
				s.up(n)
			} else if s.h[0].farther(it) {
				s.h[0] = it
				s.down(0, len(s.h))
			}
		}
		return
	}
	a := t.axis[n]
	diff := s.q[a] - t.split[n]
	mid := lo + (hi-lo)/2
	if diff <= 0 {
		s.visit(2*n+1, lo, mid, depth+1, rd, off)
	} else {
		s.visit(2*n+2, mid, hi, depth+1, rd, off)
	}
	rd += diff*diff - off[a]*off[a]
	if len(s.h) == s.k && rd > s.h[0].d2*kdSlack {
		return
	}
	off[a] = diff
	if diff <= 0 {
		s.visit(2*n+2, mid, hi, depth+1, rd, off)
	} else {
		s.visit(2*n+1, lo, mid, depth+1, rd, off)
	}
}

// up restores the heap after h[j] was added.
func (s *kdSearch) up(j int) {
	h := s.h
	for j > 0 {
		p := (j - 1) / 2
		if !h[j].farther(h[p]) {
			return
		}
		h[j], h[p] = h[p], h[j]
		j = p
	}
}

// down restores the heap h[:n] after h[j] was replaced.
func (s *kdSearch) down(j, n int) {
	h := s.h
	for {
		c := 2*j + 1
		if c >= n {
			return
		}
		if c+1 < n && h[c+1].farther(h[c]) {
			c++
		}
		if !h[c].farther(h[j]) {
			return
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
}

// sort turns the heap into a slice sorted nearest first (heapsort).
func (s *kdSearch) sort() {
	for n := len(s.h) - 1; n > 0; n-- {
		s.h[0], s.h[n] = s.h[n], s.h[0]
		s.down(0, n)
	}
}

// kdRadius is the state of a radius search.
type kdRadius struct {
	t   *KDTree
	q   [3]float64
	r2  float64
	dst []int
}

// visit is kdSearch.visit with a fixed bound r2.
func (s *kdRadius) visit(n, lo, hi, depth int, rd float64, off [3]float64) {
	t := s.t
	if depth == t.depth {
		for _, i := range t.idx[lo:hi] {
			p := t.points[i]
			dx, dy, dz := p.X-s.q[0], p.Y-s.q[1], p.Z-s.q[2]
			if dx*dx+dy*dy+dz*dz <= s.r2 {
				s.dst = append(s.dst, int(i))
			}
		}
		return
	}
	a := t.axis[n]
	diff := s.q[a] - t.split[n]
	mid := lo + (hi-lo)/2
	if diff <= 0 {
		s.visit(2*n+1, lo, mid, depth+1, rd, off)
	} else {
		s.visit(2*n+2, mid, hi, depth+1, rd, off)
	}
	rd += diff*diff - off[a]*off[a]
	if rd > s.r2*kdSlack {
		return
	}
	off[a] = diff
	if diff <= 0 {
		s.visit(2*n+2, mid, hi, depth+1, rd, off)
	} else {
		s.visit(2*n+1, lo, mid, depth+1, rd, off)
	}
}
