package geom

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// WeldVertices merges vertices closer than tol (Euclidean distance ≤ tol)
// into one, rewrites the faces to match and returns how many vertices it
// removed. With tol ≤ 0 only vertices with identical coordinates merge
// (-0 and +0 are identical; NaN never is).
//
// Vertices are visited in order and each either joins the first kept vertex
// within tol or is kept itself, so the result depends on the order and a
// chain of close vertices does not collapse into one. Kept vertices keep
// their coordinates and relative order; unreferenced vertices are welded and
// kept too. Faces are not removed even when welding collapses them: see
// Topology.CollapsedFaces. Candidates are found in a uniform grid of cell
// size tol, so only the 27 cells around a vertex are searched (the "spatial
// hashing" of Teschner et al., "Optimized Spatial Hashing for Collision
// Detection of Deformable Objects", VMV 2003).
//
// The faces must index Vertices (see Validate).
func (m *Mesh) WeldVertices(tol float64) int {
	remap := make([]int32, len(m.Vertices))
	kept := m.Vertices[:0:0]
	if !(tol > 0) {
		index := make(map[Vec]int32, len(m.Vertices))
		for i, p := range m.Vertices {
			j, ok := index[p]
			if !ok {
				j = int32(len(kept))
				kept = append(kept, p)
				index[p] = j
			}
			remap[i] = j
		}
	} else {
		type cell [3]int64
		cellOf := func(p Vec) cell {
			return cell{int64(math.Floor(p.X / tol)), int64(math.Floor(p.Y / tol)), int64(math.Floor(p.Z / tol))}
		}
		grid := make(map[cell][]int32)
		tol2 := tol * tol
	vertices:
		for i, p := range m.Vertices {
			c := cellOf(p)
			for dx := int64(-1); dx <= 1; dx++ {
				for dy := int64(-1); dy <= 1; dy++ {
					for dz := int64(-1); dz <= 1; dz++ {
						for _, j := range grid[cell{c[0] + dx, c[1] + dy, c[2] + dz}] {
							if r3.Norm2(r3.Sub(kept[j], p)) <= tol2 {
								remap[i] = j
								continue vertices
							}
						}
					}
				}
			}
			j := int32(len(kept))
			kept = append(kept, p)
			grid[c] = append(grid[c], j)
			remap[i] = j
		}
	}
	removed := len(m.Vertices) - len(kept)
	m.Vertices = kept
	for i, f := range m.Faces {
		m.Faces[i] = [3]int32{remap[f[0]], remap[f[1]], remap[f[2]]}
	}
	return removed
}
