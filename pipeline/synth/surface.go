package synth

import (
	"context"
	"fmt"
	"math"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// maxGridVertices bounds the sampling grid of surface (about 64 MB of flags).
const maxGridVertices = 1 << 26

// kuhnTets splits a cube into six tetrahedra that share its main diagonal
// (corner 0 to corner 7; corner bits are x=1, y=2, z=4). Neighbouring cubes
// split their shared faces the same way, so the surface is conforming.
var kuhnTets = [6][4]int{
	{0, 1, 3, 7}, {0, 1, 5, 7}, {0, 2, 3, 7}, {0, 2, 6, 7}, {0, 4, 5, 7}, {0, 4, 6, 7},
}

// surface tessellates the solid's boundary by marching tetrahedra on a grid
// of the given cell size (mm) (Doi and Koide, IEICE Trans. E74(1), 1991).
// Where a grid edge crosses the boundary, the crossing is found exactly by
// casting the CSG along the edge, so every vertex lies on the true surface;
// the only error is that sharp edges and corners are bevelled within one
// cell. The grid is offset by an irrational fraction of a cell so that no
// grid point lies on the faces of a part built from round numbers, which
// makes the result a closed, consistently oriented 2-manifold.
func (c *solid) surface(ctx context.Context, cell float64) (*geom.Mesh, error) {
	if !(cell > 0) {
		return nil, fmt.Errorf("surface cell size %v must be positive", cell)
	}
	b := c.bounds()
	off := (math.Sqrt2 - 1) * cell // irrational offset
	origin := r3.Sub(b.Min, vec{X: cell + off, Y: cell + off, Z: cell + off})
	size := r3.Sub(b.Max, origin)
	nx := int(math.Ceil(size.X/cell)) + 2
	ny := int(math.Ceil(size.Y/cell)) + 2
	nz := int(math.Ceil(size.Z/cell)) + 2
	if float64(nx)*float64(ny)*float64(nz) > maxGridVertices {
		return nil, fmt.Errorf("surface grid %d×%d×%d is too fine; use a larger cell than %v mm", nx, ny, nz, cell)
	}
	at := func(i, j, k int) vec {
		return vec{X: origin.X + float64(i)*cell, Y: origin.Y + float64(j)*cell, Z: origin.Z + float64(k)*cell}
	}
	in := make([]bool, nx*ny*nz)
	for k := 0; k < nz; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				in[(k*ny+j)*nx+i] = c.root.inside(at(i, j, k))
			}
		}
	}
	m := &geom.Mesh{}
	edgeVert := map[[2]int32]int32{}
	tr := &tracer{}
	crossing := func(gi, go_ int32, pi, po vec) int32 {
		key := [2]int32{min(gi, go_), max(gi, go_)}
		if v, ok := edgeVert[key]; ok {
			return v
		}
		t := c.crossing(pi, po, tr)
		v := int32(len(m.Vertices))
		m.Vertices = append(m.Vertices, r3.Add(pi, r3.Scale(t, r3.Sub(po, pi))))
		edgeVert[key] = v
		return v
	}
	var corner [8]int32
	var pos [8]vec
	for k := 0; k+1 < nz; k++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for j := 0; j+1 < ny; j++ {
			for i := 0; i+1 < nx; i++ {
				any, all := false, true
				for q := 0; q < 8; q++ {
					ii, jj, kk := i+q&1, j+(q>>1)&1, k+(q>>2)&1
					corner[q] = int32((kk*ny+jj)*nx + ii)
					any = any || in[corner[q]]
					all = all && in[corner[q]]
				}
				if !any || all {
					continue
				}
				for q := 0; q < 8; q++ {
					pos[q] = at(i+q&1, j+(q>>1)&1, k+(q>>2)&1)
				}
				for _, tet := range kuhnTets {
					var ins, outs [4]int
					ni, no := 0, 0
					for _, q := range tet {
						if in[corner[q]] {
							ins[ni] = q
							ni++
						} else {
							outs[no] = q
							no++
						}
					}
					if ni == 0 || no == 0 {
						continue
					}
					e := func(a, b int) int32 { return crossing(corner[a], corner[b], pos[a], pos[b]) }
					// dir points from the inside corners to the outside ones.
					dir := r3.Sub(centroid(pos, outs[:no]), centroid(pos, ins[:ni]))
					switch ni {
					case 1:
						addTri(m, dir, e(ins[0], outs[0]), e(ins[0], outs[1]), e(ins[0], outs[2]))
					case 3:
						addTri(m, dir, e(ins[0], outs[0]), e(ins[1], outs[0]), e(ins[2], outs[0]))
					case 2:
						a, b := e(ins[0], outs[0]), e(ins[0], outs[1])
						cc, d := e(ins[1], outs[1]), e(ins[1], outs[0])
						addTri(m, dir, a, b, cc)
						addTri(m, dir, a, cc, d)
					}
				}
			}
		}
	}
	return m, nil
}

func centroid(pos [8]vec, idx []int) vec {
	var s vec
	for _, q := range idx {
		s = r3.Add(s, pos[q])
	}
	return r3.Scale(1/float64(len(idx)), s)
}

// addTri appends a triangle oriented so its normal points along dir.
func addTri(m *geom.Mesh, dir vec, a, b, c int32) {
	p, q, r := m.Vertices[a], m.Vertices[b], m.Vertices[c]
	if r3.Dot(r3.Cross(r3.Sub(q, p), r3.Sub(r, p)), dir) < 0 {
		b, c = c, b
	}
	m.Faces = append(m.Faces, [3]int32{a, b, c})
}

// crossing returns t in [0, 1] where the segment from inside point a to
// outside point b leaves the solid: exactly, from the spans of the ray along
// the segment, or by bisection if rounding hides the span.
func (c *solid) crossing(a, b vec, tr *tracer) float64 {
	d := r3.Sub(b, a)
	ss := c.root.spans(a, d, tr, tr.get())
	defer tr.put(ss)
	for _, s := range ss {
		if s.in.t <= 1e-9 && s.out.t >= -1e-9 {
			return math.Min(math.Max(s.out.t, 0), 1)
		}
	}
	lo, hi := 0.0, 1.0
	for it := 0; it < 60; it++ {
		mid := (lo + hi) / 2
		if c.root.inside(r3.Add(a, r3.Scale(mid, d))) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
