package geom

import (
	"image/color"
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// VoxelDownsample thins c to one point per cubic cell of side cell: the
// mean of the points in the cell, with the mean of their normals
// (normalised; zero when they cancel) and of their colours. Cells are
// emitted in the order of their first point, so the result is
// deterministic. Points with a non-finite coordinate are dropped; cell ≤ 0
// or NaN returns a copy of c without them.
func VoxelDownsample(c *PointCloud, cell float64) *PointCloud {
	hasN, hasC := len(c.Normals) == len(c.Points), len(c.Colors) == len(c.Points)
	if !(cell > 0) || math.IsInf(cell, 0) {
		out := &PointCloud{}
		for i, p := range c.Points {
			if finite(p) {
				out.Points = append(out.Points, p)
				if hasN {
					out.Normals = append(out.Normals, c.Normals[i])
				}
				if hasC {
					out.Colors = append(out.Colors, c.Colors[i])
				}
			}
		}
		return out
	}
	type acc struct {
		p, n    Vec
		r, g, b float64
		count   float64
	}
	type key [3]int64
	index := make(map[key]int32, len(c.Points)/4+1)
	var cells []acc
	for i, p := range c.Points {
		if !finite(p) {
			continue
		}
		k := key{int64(math.Floor(p.X / cell)), int64(math.Floor(p.Y / cell)), int64(math.Floor(p.Z / cell))}
		j, ok := index[k]
		if !ok {
			j = int32(len(cells))
			index[k] = j
			cells = append(cells, acc{})
		}
		a := &cells[j]
		a.p = r3.Add(a.p, p)
		if hasN && finite(c.Normals[i]) {
			a.n = r3.Add(a.n, c.Normals[i])
		}
		if hasC {
			col := c.Colors[i]
			a.r, a.g, a.b = a.r+float64(col.R), a.g+float64(col.G), a.b+float64(col.B)
		}
		a.count++
	}
	out := &PointCloud{Points: make([]Vec, len(cells))}
	if hasN {
		out.Normals = make([]Vec, len(cells))
	}
	if hasC {
		out.Colors = make([]color.NRGBA, len(cells))
	}
	for j, a := range cells {
		out.Points[j] = r3.Scale(1/a.count, a.p)
		if hasN {
			if l := r3.Norm(a.n); l > 0 {
				out.Normals[j] = r3.Scale(1/l, a.n)
			}
		}
		if hasC {
			out.Colors[j] = color.NRGBA{uint8(a.r/a.count + 0.5), uint8(a.g/a.count + 0.5), uint8(a.b/a.count + 0.5), 255}
		}
	}
	return out
}

// CellForCount returns the side of the cubic cell that VoxelDownsample
// needs to leave about n of c's points, assuming they lie on surfaces, so
// that the count falls with the square of the cell; 0 when c has n points
// or fewer. It looks at up to 100,000 of the points: it finds the cell in
// which they average 8 to a cell, where their count of cells is the whole
// cloud's, and scales it by the square root of that count over n.
func CellForCount(c *PointCloud, n int) float64 {
	if n <= 0 || len(c.Points) <= n {
		return 0
	}
	ext := c.Bounds().MaxExtent()
	if !(ext > 0) || math.IsInf(ext, 0) {
		return 0
	}
	var sample []Vec
	step := max(1, len(c.Points)/100_000)
	for i := 0; i < len(c.Points); i += step {
		if finite(c.Points[i]) {
			sample = append(sample, c.Points[i])
		}
	}
	count := func(cell float64) int {
		seen := make(map[[3]int64]struct{}, len(sample)/8)
		for _, p := range sample {
			seen[[3]int64{int64(math.Floor(p.X / cell)), int64(math.Floor(p.Y / cell)), int64(math.Floor(p.Z / cell))}] = struct{}{}
		}
		return len(seen)
	}
	want := max(1, len(sample)/8)
	lo, hi := math.Log(ext*1e-6), math.Log(ext)
	for range 25 {
		mid := (lo + hi) / 2
		if count(math.Exp(mid)) > want {
			lo = mid
		} else {
			hi = mid
		}
	}
	c0 := math.Exp(hi)
	return c0 * math.Sqrt(float64(count(c0))/float64(n))
}
