package geom

import (
	"image/color"
	"math"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// TestVoxelDownsample thins a dense grid on a plane: one mean point per
// cell, normals and colours averaged, non-finite points dropped.
func TestVoxelDownsample(t *testing.T) {
	c := &PointCloud{}
	for i := range 100 {
		for j := range 100 {
			c.Points = append(c.Points, Vec{X: float64(i) * 0.1, Y: float64(j) * 0.1, Z: 1})
			c.Normals = append(c.Normals, Vec{Z: 1})
			c.Colors = append(c.Colors, color.NRGBA{uint8(i), 100, 200, 255})
		}
	}
	c.Points = append(c.Points, Vec{X: math.NaN()})
	c.Normals = append(c.Normals, Vec{Z: 1})
	c.Colors = append(c.Colors, color.NRGBA{})
	d := VoxelDownsample(c, 1)
	if d.Len() != 100 || len(d.Normals) != 100 || len(d.Colors) != 100 {
		t.Fatalf("%d points, %d normals, %d colours; want 100 each", d.Len(), len(d.Normals), len(d.Colors))
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	// The first cell holds x, y in 0 … 0.9: its mean is (0.45, 0.45, 1).
	if p := d.Points[0]; r3.Norm(r3.Sub(p, Vec{X: 0.45, Y: 0.45, Z: 1})) > 1e-9 {
		t.Errorf("first cell's point %v", p)
	}
	if n := d.Normals[0]; n != (Vec{Z: 1}) {
		t.Errorf("first cell's normal %v", n)
	}
	if col := d.Colors[0]; col.R != 5 || col.G != 100 || col.B != 200 {
		t.Errorf("first cell's colour %v, want the mean (4.5 rounds to 5)", col)
	}
	if got := VoxelDownsample(c, 0).Len(); got != 10000 {
		t.Errorf("cell 0 kept %d points, want the 10000 finite ones", got)
	}
}

// TestCellForCount: the cell found leaves about the asked number of
// points on a surface.
func TestCellForCount(t *testing.T) {
	c := &PointCloud{}
	// A sphere of radius 50 sampled on a fine grid of angles: 400,000
	// points, denser toward the poles.
	for i := range 400 {
		for j := range 1000 {
			th, ph := math.Pi*(float64(i)+0.5)/400, 2*math.Pi*float64(j)/1000
			c.Points = append(c.Points, Vec{X: 50 * math.Sin(th) * math.Cos(ph), Y: 50 * math.Sin(th) * math.Sin(ph), Z: 50 * math.Cos(th)})
		}
	}
	if cell := CellForCount(c, 500_000); cell != 0 {
		t.Errorf("cell %v for more points than the cloud has, want 0", cell)
	}
	for _, n := range []int{20_000, 100_000} {
		cell := CellForCount(c, n)
		got := VoxelDownsample(c, cell).Len()
		if float64(got) < 0.6*float64(n) || float64(got) > 1.5*float64(n) {
			t.Errorf("asked for %d points: cell %.3f leaves %d", n, cell, got)
		}
	}
}
