package mvs

import (
	"context"
	"fmt"
	"image/color"
	"math"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Fuse turns depth maps into one point cloud with normals and colours.
// maps[i] is the depth map of views[i] at its size, or nil for a view
// without one; neighbors[i] lists the views whose depth maps are checked
// against view i's (nil: all others).
//
// A depth survives when at least opts.MinConsistent other views agree with
// it: the point, projected into the other view, lands on a pixel whose own
// point is within MaxDepthDiff (relative) of it in depth and reprojects
// into the first view within MaxReprojError pixels of where it started
// (Galliani et al. 2015 §3.5; Xu & Tao 2019 §3.3). The fused point is the
// mean of the agreeing points, its normal their mean normal and its colour
// the first view's pixel. The pixels of the other views that agreed are not
// fused again, so that a surface seen by many views yields each point once.
//
// Views are fused in order, each one's rows in parallel. The error for no
// surviving point is an *InputError wrapping ErrNoSurface.
func Fuse(ctx context.Context, views []*View, maps []*DepthMap, neighbors [][]int, opts *Options) (*geom.PointCloud, error) {
	o := opts.resolved()
	if len(maps) != len(views) || (neighbors != nil && len(neighbors) != len(views)) {
		return nil, fmt.Errorf("mvs: %d views, %d depth maps and %d neighbour lists", len(views), len(maps), len(neighbors))
	}
	used := make([][]bool, len(views))
	for i, m := range maps {
		if m == nil {
			continue
		}
		v := views[i]
		if err := v.Check(); err != nil {
			return nil, err
		}
		if m.W != v.W || m.H != v.H || len(m.Depth) != v.W*v.H || len(m.Normal) != 3*v.W*v.H {
			return nil, fmt.Errorf("mvs: view %q is %d×%d, its depth map %d×%d", v.Name, v.W, v.H, m.W, m.H)
		}
		used[i] = make([]bool, v.W*v.H)
	}
	cloud := &geom.PointCloud{}
	for i, m := range maps {
		if m == nil {
			continue
		}
		var others []int
		if neighbors != nil {
			for _, j := range neighbors[i] {
				if j >= 0 && j < len(maps) && j != i && maps[j] != nil {
					others = append(others, j)
				}
			}
		} else {
			for j := range maps {
				if j != i && maps[j] != nil {
					others = append(others, j)
				}
			}
		}
		if len(others) < o.MinConsistent {
			continue
		}
		if err := fuseView(ctx, i, others, views, maps, used, &o, cloud); err != nil {
			return nil, err
		}
	}
	if cloud.Len() == 0 {
		return nil, &InputError{Kind: ErrNoSurface, Msg: "no surface found: no depth is confirmed by other photos",
			Hint: "Take more photos from closer together, each part of the surface seen by three or more"}
	}
	return cloud, nil
}

// fusedRow is what fusing one row yields: points, and the pixels of other
// views that agreed with them.
type fusedRow struct {
	points, normals []r3.Vec
	colors          []color.NRGBA
	marks           [][2]int // view, pixel
}

// fuseView fuses the depths of view i into cloud.
func fuseView(ctx context.Context, i int, others []int, views []*View, maps []*DepthMap, used [][]bool, o *Options, cloud *geom.PointCloud) error {
	v := views[i]
	rows := make([]fusedRow, v.H)
	if err := parallelFor(ctx, 0, v.H, o.Workers, func() func(int) {
		return func(y int) { fuseRow(y, i, others, views, maps, used[i], o, &rows[y]) }
	}); err != nil {
		return err
	}
	for _, r := range rows {
		cloud.Points = append(cloud.Points, r.points...)
		cloud.Normals = append(cloud.Normals, r.normals...)
		cloud.Colors = append(cloud.Colors, r.colors...)
		for _, mk := range r.marks {
			used[mk[0]][mk[1]] = true
		}
	}
	return nil
}

// fuseRow fuses row y of view i; it reads the other views' depth maps and
// writes only out.
func fuseRow(y, i int, others []int, views []*View, maps []*DepthMap, used []bool, o *Options, out *fusedRow) {
	v, m := views[i], maps[i]
	maxErr2 := o.MaxReprojError * o.MaxReprojError
	var marks [][2]int
	for x := range v.W {
		p := y*v.W + x
		d := float64(m.Depth[p])
		if d <= 0 || used[p] {
			continue
		}
		X := v.unproject(x, y, d)
		sum := X
		nsum := v.rotateToWorld(normalAt(m, p))
		marks = marks[:0]
		for _, j := range others {
			vj, mj := views[j], maps[j]
			u, w, z := vj.project(X)
			if !(z > 0 && u >= 0 && w >= 0 && u < float64(vj.W) && w < float64(vj.H)) {
				continue
			}
			qx, qy := int(u), int(w)
			q := qy*vj.W + qx
			dj := float64(mj.Depth[q])
			if dj <= 0 || math.Abs(dj-z) > o.MaxDepthDiff*z {
				continue
			}
			Xj := vj.unproject(qx, qy, dj)
			ub, wb, zb := v.project(Xj)
			du, dw := ub-(float64(x)+0.5), wb-(float64(y)+0.5)
			if !(zb > 0) || du*du+dw*dw > maxErr2 {
				continue
			}
			sum = r3.Add(sum, Xj)
			nsum = r3.Add(nsum, vj.rotateToWorld(normalAt(mj, q)))
			marks = append(marks, [2]int{j, q})
		}
		if len(marks) < o.MinConsistent {
			continue
		}
		n := r3.Norm(nsum)
		if n == 0 {
			continue
		}
		out.points = append(out.points, r3.Scale(1/float64(len(marks)+1), sum))
		out.normals = append(out.normals, r3.Scale(1/n, nsum))
		out.colors = append(out.colors, colorAt(v, p))
		out.marks = append(out.marks, marks...)
	}
}

func normalAt(m *DepthMap, p int) r3.Vec {
	return r3.Vec{X: float64(m.Normal[3*p]), Y: float64(m.Normal[3*p+1]), Z: float64(m.Normal[3*p+2])}
}

// colorAt returns pixel p of v, from its grey image when it has no colour.
func colorAt(v *View, p int) color.NRGBA {
	if v.RGB != nil {
		return color.NRGBA{R: v.RGB[3*p], G: v.RGB[3*p+1], B: v.RGB[3*p+2], A: 255}
	}
	g := uint8(min(255, max(0, math.Round(float64(v.Gray[p])*255))))
	return color.NRGBA{R: g, G: g, B: g, A: 255}
}
