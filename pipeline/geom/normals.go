package geom

import (
	"cmp"
	"context"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/spatial/r3"
)

// normalsChunk is how many points a worker of EstimateNormals takes at a
// time, and so how often it checks for cancellation: a few milliseconds of
// work at k = 16.
const normalsChunk = 1024

// flatTol is the relative eigenvalue gap below which a neighbourhood is
// degenerate. Rounding (ε ≈ 1e-16) turns the eigenvector of the smallest
// eigenvalue by about ε·λ₂/(λ₁-λ₀) radians, so below this gap the normal
// could be off by more than 1e-6 rad, and at a gap of zero it is arbitrary.
const flatTol = 1e-10

// EstimateNormals estimates a unit normal for each point from the principal
// components of its neighbourhood: the covariance of the point's k nearest
// points (itself included) and the eigenvector of its smallest eigenvalue,
// the direction in which the neighbourhood is thinnest (Hoppe, DeRose,
// Duchamp, McDonald and Stuetzle, "Surface Reconstruction from Unorganized
// Points", SIGGRAPH 1992, §3.2). k < 3 counts as 3; 12 to 20 suits most
// clouds.
//
// A normal is only defined up to sign. If towards is not nil, towards(i) is
// a direction from point i towards where it was seen from, such as the
// camera centre minus the point, and each normal n is flipped so that
// n·towards(i) ≥ 0; towards is called from several goroutines at once. If
// towards is nil the normals are oriented consistently with each other as in
// Hoppe et al. §3.3: over the graph joining each point to its k nearest,
// weighted 1-|nᵢ·nⱼ|, the orientation propagates along a minimum spanning
// tree (Prim's), so that it turns across flat regions before curved ones,
// from the highest point (largest z), whose normal is made to point up (+z).
// Hoppe et al. add the edges of the Euclidean minimum spanning tree to make
// the graph connected; here each connected part of the k-nearest graph
// starts again from its own highest point, pointed up.
//
// A point gets the zero vector as normal if it has a NaN or infinite
// coordinate, if its neighbourhood holds fewer than 3 distinct positions, or
// if the neighbourhood is degenerate: its points on one line, or spread
// equally in the two thinnest directions so that no normal stands out (the
// two smallest eigenvalues within 1e-10 times the largest of each other). Such
// points are left out of the orientation graph.
//
// Orienting without towards keeps the k-nearest graph, about 8k bytes a
// point. The work is split across runtime.GOMAXPROCS(0) goroutines; the
// orientation without towards runs on one. If ctx is cancelled
// EstimateNormals stops within a chunk of points and returns ctx.Err().
func EstimateNormals(ctx context.Context, points []Vec, k int, towards func(i int) Vec) ([]Vec, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k = max(k, 3)
	// Work on the finite points copied in the tree's leaf order, so that
	// points close in space are close in memory: leaf j is points[orig[j]].
	t, ps := newKDTree(points)
	orig := t.idx
	t = t.reordered(ps)
	leafNormals := make([]Vec, len(ps))
	// With towards nil, graph[j*k:(j+1)*k] keeps leaf j's neighbours (-1
	// pads when there are fewer than k points) for the orientation.
	var graph []int32
	if towards == nil {
		graph = make([]int32, len(ps)*k)
	}

	// Workers take chunks of consecutive leaves, so that consecutive
	// queries search the same part of the tree.
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), (len(ps)+normalsChunk-1)/normalsChunk) {
		wg.Go(func() {
			s := &kdSearch{t: t, h: make([]kdItem, 0, k)}
			for ctx.Err() == nil {
				lo := int(next.Add(1)-1) * normalsChunk
				if lo >= len(ps) {
					return
				}
				for j := lo; j < min(lo+normalsChunk, len(ps)); j++ {
					s.knearest(ps[j], k)
					n := pcaNormal(ps, ps[j], s.h)
					if towards != nil && r3.Dot(n, towards(int(orig[j]))) < 0 {
						n = r3.Scale(-1, n)
					}
					leafNormals[j] = n
					if graph != nil {
						row := graph[j*k : (j+1)*k]
						for l := range row {
							row[l] = -1
							if l < len(s.h) {
								row[l] = s.h[l].i
							}
						}
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if towards == nil {
		if err := orientMST(ctx, ps, leafNormals, graph, k); err != nil {
			return nil, err
		}
	}
	normals := make([]Vec, len(points))
	for j, i := range orig {
		normals[i] = leafNormals[j]
	}
	return normals, nil
}

// pcaNormal returns the unit normal at p of the neighbourhood nb, or the zero
// vector if there is none (see EstimateNormals).
func pcaNormal(points []Vec, p Vec, nb []kdItem) Vec {
	// Fewer than 3 distinct positions.
	a, b, distinct := points[nb[0].i], Vec{}, 1
	for _, it := range nb[1:] {
		q := points[it.i]
		if distinct == 1 && q != a {
			b, distinct = q, 2
		} else if distinct == 2 && q != a && q != b {
			distinct = 3
			break
		}
	}
	if distinct < 3 {
		return Vec{}
	}
	// Two passes, on offsets from p: the mean, then the scatter about it,
	// so that far from the origin nothing cancels.
	var m Vec
	for _, it := range nb {
		m = r3.Add(m, r3.Sub(points[it.i], p))
	}
	m = r3.Scale(1/float64(len(nb)), m)
	var c [3][3]float64
	for _, it := range nb {
		d := r3.Sub(r3.Sub(points[it.i], p), m)
		c[0][0] += d.X * d.X
		c[0][1] += d.X * d.Y
		c[0][2] += d.X * d.Z
		c[1][1] += d.Y * d.Y
		c[1][2] += d.Y * d.Z
		c[2][2] += d.Z * d.Z
	}
	c[1][0], c[2][0], c[2][1] = c[0][1], c[0][2], c[1][2]
	w, v := SymEigen3(c)
	if !(w[1]-w[0] > flatTol*w[2]) {
		return Vec{}
	}
	return r3.Unit(v[0])
}

// SymEigen3 returns the eigenvalues of the symmetric matrix a in increasing
// order and unit eigenvectors to match, by the cyclic Jacobi method (Golub
// and Van Loan, "Matrix Computations", 4th ed., §8.5.2–8.5.3, with the
// rotation of Rutishauser as in Numerical Recipes, 3rd ed., §11.1). Jacobi
// finds small eigenvalues of a positive semidefinite matrix to high relative
// accuracy, which the closed-form cubic does not, and converges
// quadratically: 3 to 5 sweeps of 3 rotations for a covariance.
func SymEigen3(a [3][3]float64) (w [3]float64, v [3]Vec) {
	u := [3][3]float64{{1, 0, 0}, {0, 1, 0}, {0, 0, 1}} // columns: eigenvectors
	pairs := [3][3]int{{0, 1, 2}, {0, 2, 1}, {1, 2, 0}} // p, q and the third index r
	// 50 sweeps is far beyond the 5 or so that quadratic convergence needs;
	// it only bounds the loop on NaN input.
	for range 50 {
		off := math.Abs(a[0][1]) + math.Abs(a[0][2]) + math.Abs(a[1][2])
		diag := math.Abs(a[0][0]) + math.Abs(a[1][1]) + math.Abs(a[2][2])
		if !(off > 1e-20*diag) { // also stops on off == 0 and on NaN
			break
		}
		for _, pqr := range pairs {
			p, q, r := pqr[0], pqr[1], pqr[2]
			apq := a[p][q]
			if apq == 0 {
				continue
			}
			// The rotation by θ that zeroes a[p][q]: t = tan θ is the
			// smaller root of t² + 2t·cot 2θ - 1 = 0.
			theta := (a[q][q] - a[p][p]) / (2 * apq)
			var t float64
			if math.Abs(theta) > 1e150 { // θ² would overflow; t ≈ 1/(2θ)
				t = 0.5 / theta
			} else {
				t = 1 / (math.Abs(theta) + math.Sqrt(theta*theta+1))
				if theta < 0 {
					t = -t
				}
			}
			c := 1 / math.Sqrt(t*t+1)
			s := t * c
			a[p][p] -= t * apq
			a[q][q] += t * apq
			a[p][q], a[q][p] = 0, 0
			arp, arq := a[r][p], a[r][q]
			a[r][p] = c*arp - s*arq
			a[r][q] = s*arp + c*arq
			a[p][r], a[q][r] = a[r][p], a[r][q]
			for i := range 3 {
				uip, uiq := u[i][p], u[i][q]
				u[i][p] = c*uip - s*uiq
				u[i][q] = s*uip + c*uiq
			}
		}
	}
	// Sort by eigenvalue: three compare-and-swaps.
	o := [3]int{0, 1, 2}
	if a[o[1]][o[1]] < a[o[0]][o[0]] {
		o[0], o[1] = o[1], o[0]
	}
	if a[o[2]][o[2]] < a[o[1]][o[1]] {
		o[1], o[2] = o[2], o[1]
	}
	if a[o[1]][o[1]] < a[o[0]][o[0]] {
		o[0], o[1] = o[1], o[0]
	}
	for k, j := range o {
		w[k] = a[j][j]
		v[k] = Vec{X: u[0][j], Y: u[1][j], Z: u[2][j]}
	}
	return w, v
}

// orientMST flips normals so that they agree along a minimum spanning tree of
// the k-nearest graph weighted 1-|nᵢ·nⱼ| (see EstimateNormals). graph holds k
// neighbours per point, -1 for none; points with a zero normal are not in the
// graph.
func orientMST(ctx context.Context, points, normals []Vec, graph []int32, k int) error {
	n := len(points)
	in := func(i int32) bool { return normals[i] != Vec{} }
	// graph lists each point's neighbours, but not the points that list it
	// as theirs; rev does (compressed rows: rev[revStart[j]:revStart[j+1]]).
	revStart := make([]int, n+1)
	for i := range int32(n) {
		if in(i) {
			for _, j := range graph[int(i)*k : int(i+1)*k] {
				if j >= 0 && j != i && in(j) {
					revStart[j+1]++
				}
			}
		}
	}
	for j := range n {
		revStart[j+1] += revStart[j]
	}
	rev := make([]int32, revStart[n])
	fill := slices.Clone(revStart[:n])
	for i := range int32(n) {
		if in(i) {
			for _, j := range graph[int(i)*k : int(i+1)*k] {
				if j >= 0 && j != i && in(j) {
					rev[fill[j]] = i
					fill[j]++
				}
			}
		}
	}
	fill = nil

	// Prim's algorithm with an indexed binary heap keyed by the weight of
	// the lightest edge into the tree; parent is that edge's other end.
	h := primHeap{
		key: make([]float64, n),
		pos: make([]int32, n),
	}
	for i := range n {
		h.key[i] = math.Inf(1)
		h.pos[i] = -1
	}
	parent := make([]int32, n)
	done := make([]bool, n)
	relax := func(u, v int32) {
		if v < 0 || v == u || done[v] || !in(v) {
			return
		}
		w := 1 - math.Abs(r3.Dot(normals[u], normals[v]))
		if w < h.key[v] {
			h.key[v] = w
			parent[v] = u
			h.push(v)
		}
	}
	var order []int32 // points by decreasing height, built if a second root is needed
	roots := 0
	for pops := 0; ; {
		var root int32 = -1
		if roots == 0 {
			for i := range int32(n) {
				if in(i) && (root < 0 || points[i].Z > points[root].Z) {
					root = i
				}
			}
		} else {
			if order == nil {
				for i := range int32(n) {
					if in(i) && !done[i] {
						order = append(order, i)
					}
				}
				slices.SortFunc(order, func(i, j int32) int {
					return cmp.Or(cmp.Compare(points[j].Z, points[i].Z), cmp.Compare(i, j))
				})
			}
			for len(order) > 0 && done[order[0]] {
				order = order[1:]
			}
			if len(order) > 0 {
				root = order[0]
			}
		}
		if root < 0 {
			return nil
		}
		roots++
		if normals[root].Z < 0 {
			normals[root] = r3.Scale(-1, normals[root])
		}
		u := root
		for {
			done[u] = true
			if u != root && r3.Dot(normals[parent[u]], normals[u]) < 0 {
				normals[u] = r3.Scale(-1, normals[u])
			}
			for _, v := range graph[int(u)*k : int(u+1)*k] {
				relax(u, v)
			}
			for _, v := range rev[revStart[u]:revStart[u+1]] {
				relax(u, v)
			}
			if len(h.heap) == 0 {
				break
			}
			u = h.pop()
			if pops++; pops%normalsChunk == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
		}
	}
}

// primHeap is a binary min-heap of point indices by key, with pos[i] the
// position of i in heap (-1 if not there) so that a key can decrease in
// place.
type primHeap struct {
	heap []int32
	key  []float64
	pos  []int32
}

// push adds i, or moves it up after its key decreased.
func (h *primHeap) push(i int32) {
	j := int(h.pos[i])
	if j < 0 {
		j = len(h.heap)
		h.heap = append(h.heap, i)
		h.pos[i] = int32(j)
	}
	for j > 0 {
		p := (j - 1) / 2
		if !(h.key[h.heap[j]] < h.key[h.heap[p]]) {
			break
		}
		h.swap(j, p)
		j = p
	}
}

// pop removes and returns the index with the smallest key.
func (h *primHeap) pop() int32 {
	top := h.heap[0]
	last := len(h.heap) - 1
	h.swap(0, last)
	h.heap = h.heap[:last]
	h.pos[top] = -1
	for j := 0; ; {
		c := 2*j + 1
		if c >= last {
			break
		}
		if c+1 < last && h.key[h.heap[c+1]] < h.key[h.heap[c]] {
			c++
		}
		if !(h.key[h.heap[c]] < h.key[h.heap[j]]) {
			break
		}
		h.swap(j, c)
		j = c
	}
	return top
}

func (h *primHeap) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.pos[h.heap[i]] = int32(i)
	h.pos[h.heap[j]] = int32(j)
}
