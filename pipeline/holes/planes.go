package holes

import (
	"context"
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// region is a flat face of the part: faces that lie on one plane
// n·x = d, with n pointing out of the part.
type region struct {
	faces []int32
	n     r3.Vec
	d     float64
	area  float64
	// The plane's frame: o on the plane, unit vectors u and v across it,
	// so that o + cell·(s·u + t·v) for integer (s, t) are the centres of
	// the mask's cells.
	o, u, v r3.Vec
	cell    float64
	w, h    int
	mask    []bool // cells the region's faces cover
}

func (r *region) at(i, j float64) r3.Vec {
	return r3.Add(r.o, r3.Add(r3.Scale(i*r.cell, r.u), r3.Scale(j*r.cell, r.v)))
}

// coords returns the cell coordinates (not rounded) of x's foot on the
// plane.
func (r *region) coords(x r3.Vec) (i, j float64) {
	d := r3.Sub(x, r.o)
	return r3.Dot(d, r.u) / r.cell, r3.Dot(d, r.v) / r.cell
}

func (r *region) in(i, j int) bool {
	return i >= 0 && j >= 0 && i < r.w && j < r.h && r.mask[j*r.w+i]
}

// edgeMap returns each face's three neighbours across its edges (−1 on a
// border or a non-manifold edge).
func edgeMap(m *geom.Mesh) [][3]int32 {
	type half struct {
		a, b int32
		f    int32
		k    int8
	}
	hs := make([]half, 0, 3*len(m.Faces))
	for f, t := range m.Faces {
		for k := range 3 {
			a, b := t[k], t[(k+1)%3]
			if a > b {
				a, b = b, a
			}
			hs = append(hs, half{a, b, int32(f), int8(k)})
		}
	}
	slices.SortFunc(hs, func(x, y half) int {
		if x.a != y.a {
			return int(x.a - y.a)
		}
		if x.b != y.b {
			return int(x.b - y.b)
		}
		return int(x.f - y.f)
	})
	nb := make([][3]int32, len(m.Faces))
	for i := range nb {
		nb[i] = [3]int32{-1, -1, -1}
	}
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j].a == hs[i].a && hs[j].b == hs[i].b {
			j++
		}
		if j-i == 2 {
			x, y := hs[i], hs[i+1]
			nb[x.f][x.k], nb[y.f][y.k] = y.f, x.f
		}
		i = j
	}
	return nb
}

// flatRegions returns the mesh's flat faces of at least minArea: faces
// grown from a seed across edges while their normals stay within 3° of
// the seed's and their corners within tol of its plane. A flattened mesh
// has its planes exact, so the test is tight.
func flatRegions(ctx context.Context, m *geom.Mesh, nb [][3]int32, tol, minArea float64) ([]*region, error) {
	normals := make([]r3.Vec, len(m.Faces))
	areas := make([]float64, len(m.Faces))
	for f, t := range m.Faces {
		a, b, c := m.Vertices[t[0]], m.Vertices[t[1]], m.Vertices[t[2]]
		x := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
		l := r3.Norm(x)
		areas[f] = l / 2
		if l > 0 {
			normals[f] = r3.Scale(1/l, x)
		}
	}
	// Seeds in order of area, largest first: a big face's normal is the
	// surest.
	order := make([]int32, len(m.Faces))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int {
		switch {
		case areas[a] > areas[b]:
			return -1
		case areas[a] < areas[b]:
			return 1
		}
		return 0
	})
	cosMax := math.Cos(3 * math.Pi / 180)
	label := make([]int32, len(m.Faces))
	for i := range label {
		label[i] = -1
	}
	var out []*region
	var stack []int32
	for k, s := range order {
		if k%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if label[s] >= 0 || areas[s] == 0 {
			continue
		}
		n := normals[s]
		d := r3.Dot(n, m.Vertices[m.Faces[s][0]])
		id := int32(len(out))
		r := &region{n: n, d: d}
		label[s] = id
		stack = append(stack[:0], s)
		for len(stack) > 0 {
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			r.faces = append(r.faces, f)
			r.area += areas[f]
			for _, g := range nb[f] {
				if g < 0 || label[g] >= 0 || areas[g] == 0 || r3.Dot(normals[g], n) < cosMax {
					continue
				}
				t := m.Faces[g]
				if math.Abs(r3.Dot(n, m.Vertices[t[0]])-d) > tol || math.Abs(r3.Dot(n, m.Vertices[t[1]])-d) > tol || math.Abs(r3.Dot(n, m.Vertices[t[2]])-d) > tol {
					continue
				}
				label[g] = id
				stack = append(stack, g)
			}
		}
		if r.area < minArea {
			// Free its faces for a later seed: a small patch seeded on an
			// edge must not keep faces from the plane beside it.
			for _, f := range r.faces {
				label[f] = -2
			}
			continue
		}
		out = append(out, r)
	}
	for _, r := range out {
		pts := make([]r3.Vec, 0, 3*len(r.faces))
		for _, f := range r.faces {
			t := m.Faces[f]
			pts = append(pts, m.Vertices[t[0]], m.Vertices[t[1]], m.Vertices[t[2]])
		}
		if c, n, ok := geom.FitPlane(pts, nil, r.n); ok {
			r.n, r.d = n, r3.Dot(n, c)
		}
	}
	return out, nil
}

// span returns the face's extent across its plane, along u and v as
// rasterize lays them.
func (r *region) span(m *geom.Mesh) (float64, float64) {
	minU, minV, maxU, maxV := r.bounds(m)
	return maxU - minU, maxV - minV
}

// bounds returns the face's bounding rectangle in its plane's axes.
func (r *region) bounds(m *geom.Mesh) (minU, minV, maxU, maxV float64) {
	u, v := r.axes()
	minU, minV = math.Inf(1), math.Inf(1)
	maxU, maxV = math.Inf(-1), math.Inf(-1)
	for _, f := range r.faces {
		for _, i := range m.Faces[f] {
			p := m.Vertices[i]
			a, b := r3.Dot(p, u), r3.Dot(p, v)
			minU, maxU = math.Min(minU, a), math.Max(maxU, a)
			minV, maxV = math.Min(minV, b), math.Max(maxV, b)
		}
	}
	return minU, minV, maxU, maxV
}

// axes returns unit vectors across the plane, right-handed with its
// normal: u along the axis the normal leans least on.
func (r *region) axes() (u, v r3.Vec) {
	ax := r3.Vec{X: 1}
	if math.Abs(r.n.X) > 0.6 {
		ax = r3.Vec{Y: 1}
	}
	u = r3.Unit(r3.Cross(ax, r.n))
	return u, r3.Cross(r.n, u)
}

// rasterize lays a grid of the given cell size over the region's plane and
// marks the cells whose centres its faces cover.
func (r *region) rasterize(m *geom.Mesh, cell float64) {
	u, v := r.axes()
	minU, minV, maxU, maxV := r.bounds(m)
	r.cell = cell
	r.w = int((maxU-minU)/cell) + 2
	r.h = int((maxV-minV)/cell) + 2
	r.o = r3.Add(r3.Scale(r.d, r.n), r3.Add(r3.Scale(minU, u), r3.Scale(minV, v)))
	r.u, r.v = u, v
	r.mask = make([]bool, r.w*r.h)
	for _, f := range r.faces {
		t := m.Faces[f]
		var xs, ys [3]float64
		for k := range 3 {
			xs[k], ys[k] = r.coords(m.Vertices[t[k]])
		}
		r.fill(xs, ys)
	}
}

// fill marks the cells whose centres triangle (xs, ys), in cell units,
// covers.
func (r *region) fill(xs, ys [3]float64) {
	i0 := max(0, int(math.Ceil(min(xs[0], xs[1], xs[2])-1e-9)))
	i1 := min(r.w-1, int(math.Floor(max(xs[0], xs[1], xs[2])+1e-9)))
	j0 := max(0, int(math.Ceil(min(ys[0], ys[1], ys[2])-1e-9)))
	j1 := min(r.h-1, int(math.Floor(max(ys[0], ys[1], ys[2])+1e-9)))
	area := (xs[1]-xs[0])*(ys[2]-ys[0]) - (xs[2]-xs[0])*(ys[1]-ys[0])
	if area == 0 {
		return
	}
	for j := j0; j <= j1; j++ {
		y := float64(j)
		for i := i0; i <= i1; i++ {
			x := float64(i)
			w0 := ((xs[1]-x)*(ys[2]-y) - (xs[2]-x)*(ys[1]-y)) / area
			w1 := ((xs[2]-x)*(ys[0]-y) - (xs[0]-x)*(ys[2]-y)) / area
			if w0 >= -1e-9 && w1 >= -1e-9 && 1-w0-w1 >= -1e-9 {
				r.mask[j*r.w+i] = true
			}
		}
	}
}

// erode returns the cells whose whole (2k+1)² neighbourhood is in mask.
func erode(mask []bool, w, h, k int) []bool {
	full := func(get func(int) bool, n int, set func(int)) {
		run := 0
		for i := range n {
			if get(i) {
				run++
			} else {
				run = 0
			}
			if run >= 2*k+1 {
				set(i - k)
			}
		}
	}
	tmp := make([]bool, len(mask))
	for j := range h {
		full(func(i int) bool { return mask[j*w+i] }, w, func(i int) { tmp[j*w+i] = true })
	}
	out := make([]bool, len(mask))
	for i := range w {
		full(func(j int) bool { return tmp[j*w+i] }, h, func(j int) { out[j*w+i] = true })
	}
	return out
}
