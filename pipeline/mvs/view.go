package mvs

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"
)

// A View is an undistorted photo with its pinhole camera and pose, in
// COLMAP's conventions: a world point X is at x_cam = R·X + T in the camera
// frame (x right, y down, z forward), and at pixel
// (fx·x/z + cx, fy·y/z + cy), where (0, 0) is the top-left corner of the
// top-left pixel, so pixel (i, j) covers [i, i+1)×[j, j+1).
type View struct {
	Name string
	K    [4]float64 // fx, fy, cx, cy in pixels
	R    [9]float64 // world→camera rotation, row-major
	T    [3]float64
	W, H int
	Gray []float32 // W·H intensities in [0, 1], row by row
	RGB  []uint8   // 3·W·H, row by row; nil for a grey image
}

// Check reports a view whose sizes or numbers are unusable.
func (v *View) Check() error {
	switch {
	case v.W < 1 || v.H < 1:
		return fmt.Errorf("mvs: view %q: size %d×%d", v.Name, v.W, v.H)
	case len(v.Gray) != v.W*v.H:
		return fmt.Errorf("mvs: view %q: %d grey values for %d×%d pixels", v.Name, len(v.Gray), v.W, v.H)
	case v.RGB != nil && len(v.RGB) != 3*v.W*v.H:
		return fmt.Errorf("mvs: view %q: %d colour bytes for %d×%d pixels", v.Name, len(v.RGB), v.W, v.H)
	case !(v.K[0] > 0 && v.K[1] > 0) || !finite(v.K[:]...) || !finite(v.R[:]...) || !finite(v.T[:]...):
		return fmt.Errorf("mvs: view %q: invalid camera", v.Name)
	}
	return nil
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// Center returns the camera's centre in world coordinates, −Rᵀ·T.
func (v *View) Center() r3.Vec {
	r, t := &v.R, &v.T
	return r3.Vec{
		X: -(r[0]*t[0] + r[3]*t[1] + r[6]*t[2]),
		Y: -(r[1]*t[0] + r[4]*t[1] + r[7]*t[2]),
		Z: -(r[2]*t[0] + r[5]*t[1] + r[8]*t[2]),
	}
}

// toCamera returns R·X + T.
func (v *View) toCamera(x r3.Vec) r3.Vec {
	r := &v.R
	return r3.Vec{
		X: r[0]*x.X + r[1]*x.Y + r[2]*x.Z + v.T[0],
		Y: r[3]*x.X + r[4]*x.Y + r[5]*x.Z + v.T[1],
		Z: r[6]*x.X + r[7]*x.Y + r[8]*x.Z + v.T[2],
	}
}

// toWorld returns Rᵀ·(c − T), the world point of camera-frame point c.
func (v *View) toWorld(c r3.Vec) r3.Vec {
	r := &v.R
	x, y, z := c.X-v.T[0], c.Y-v.T[1], c.Z-v.T[2]
	return r3.Vec{
		X: r[0]*x + r[3]*y + r[6]*z,
		Y: r[1]*x + r[4]*y + r[7]*z,
		Z: r[2]*x + r[5]*y + r[8]*z,
	}
}

// rotateToWorld returns Rᵀ·d, a camera-frame direction in the world frame.
func (v *View) rotateToWorld(d r3.Vec) r3.Vec {
	r := &v.R
	return r3.Vec{
		X: r[0]*d.X + r[3]*d.Y + r[6]*d.Z,
		Y: r[1]*d.X + r[4]*d.Y + r[7]*d.Z,
		Z: r[2]*d.X + r[5]*d.Y + r[8]*d.Z,
	}
}

// project returns the pixel coordinates and depth of world point x.
func (v *View) project(x r3.Vec) (u, w, z float64) {
	c := v.toCamera(x)
	return v.K[0]*c.X/c.Z + v.K[2], v.K[1]*c.Y/c.Z + v.K[3], c.Z
}

// sees reports whether world point x is in front of the camera and inside
// the image with a margin of m pixels.
func (v *View) sees(x r3.Vec, m float64) bool {
	u, w, z := v.project(x)
	return z > 0 && u >= m && w >= m && u <= float64(v.W)-m && w <= float64(v.H)-m
}

// unproject returns the world point at depth z (along the optical axis) on
// the ray through the centre of pixel (i, j).
func (v *View) unproject(i, j int, z float64) r3.Vec {
	x := (float64(i) + 0.5 - v.K[2]) / v.K[0] * z
	y := (float64(j) + 0.5 - v.K[3]) / v.K[1] * z
	return v.toWorld(r3.Vec{X: x, Y: y, Z: z})
}

// Scaled returns the view downsampled so that its longer side is at most
// maxSize pixels, or v itself when it already is (or maxSize ≤ 0). Pixels
// are area averages, and the intrinsics scale with the image so that they
// keep describing the same rays.
func (v *View) Scaled(maxSize int) *View {
	long := max(v.W, v.H)
	if maxSize <= 0 || long <= maxSize {
		return v
	}
	s := float64(maxSize) / float64(long)
	w := max(1, int(math.Round(float64(v.W)*s)))
	h := max(1, int(math.Round(float64(v.H)*s)))
	sx, sy := float64(w)/float64(v.W), float64(h)/float64(v.H)
	out := *v
	out.W, out.H = w, h
	out.K = [4]float64{v.K[0] * sx, v.K[1] * sy, v.K[2] * sx, v.K[3] * sy}
	out.Gray = resample(v.Gray, v.W, v.H, w, h, 1)
	if v.RGB != nil {
		f := make([]float32, len(v.RGB))
		for i, b := range v.RGB {
			f[i] = float32(b)
		}
		g := resample(f, v.W, v.H, w, h, 3)
		out.RGB = make([]uint8, len(g))
		for i, x := range g {
			out.RGB[i] = uint8(min(255, max(0, math.Round(float64(x)))))
		}
	}
	return &out
}

// resample scales an image of c interleaved channels from w×h to nw×nh
// (each no larger) by area averaging, one axis at a time.
func resample(src []float32, w, h, nw, nh, c int) []float32 {
	tx := areaTaps(w, nw)
	ty := areaTaps(h, nh)
	mid := make([]float32, nw*h*c) // scaled along x
	for y := range h {
		row := src[y*w*c : (y+1)*w*c]
		out := mid[y*nw*c : (y+1)*nw*c]
		for x, taps := range tx {
			for _, t := range taps {
				for k := range c {
					out[x*c+k] += t.w * row[t.i*c+k]
				}
			}
		}
	}
	dst := make([]float32, nw*nh*c)
	for y, taps := range ty {
		out := dst[y*nw*c : (y+1)*nw*c]
		for _, t := range taps {
			in := mid[t.i*nw*c : (t.i+1)*nw*c]
			for k, x := range in {
				out[k] += t.w * x
			}
		}
	}
	return dst
}

type tap struct {
	i int
	w float32
}

// areaTaps returns, for each of m output samples, the input samples of n
// (n ≥ m) that its interval covers and the fraction of it each covers.
func areaTaps(n, m int) [][]tap {
	s := float64(n) / float64(m) // input samples per output sample
	taps := make([][]tap, m)
	for o := range taps {
		a, b := float64(o)*s, float64(o+1)*s
		for i := int(a); i < n && float64(i) < b; i++ {
			cover := math.Min(b, float64(i+1)) - math.Max(a, float64(i))
			if cover > 1e-9 {
				taps[o] = append(taps[o], tap{i, float32(cover / s)})
			}
		}
	}
	return taps
}

// A Neighbor is a source view chosen for a reference view.
type Neighbor struct {
	View   int     // index into the views
	Shared int     // sparse points both views see
	Score  float64 // Shared weighted by triangulation angle
}

// Triangulation angles that make a good stereo pair: below minAngle depth
// is ill-conditioned, above maxAngle the views look too different for
// window matching (Schönberger et al. 2016 §4.1 and COLMAP's
// patch_match_stereo defaults use the same bounds).
const (
	minAngle = 5 * math.Pi / 180
	maxAngle = 45 * math.Pi / 180
)

// angleWeight weights a point seen by two views at triangulation angle a.
func angleWeight(a float64) float64 {
	switch {
	case a < minAngle:
		return (a / minAngle) * (a / minAngle)
	case a > maxAngle:
		return (maxAngle / a) * (maxAngle / a)
	}
	return 1
}

// minShared is the fewest sparse points two views must both see to be
// paired; fewer is chance, not overlap.
const minShared = 5

// SelectNeighbors picks up to n source views for each view, best first:
// those that see the most of the sparse points the view sees, each point
// weighted down when the two views triangulate it at an angle outside
// 5°–45°. COLMAP's binary model keeps only the first image of each track,
// so visibility is tested by projection: a point is seen by a view when it
// lies in front of the camera and inside the image. A view with no
// neighbour gets an empty list.
func SelectNeighbors(views []*View, points []r3.Vec, n int) [][]Neighbor {
	centers := make([]r3.Vec, len(views))
	seen := make([][]bool, len(views))
	lists := make([][]int, len(views)) // the points each view sees
	for i, v := range views {
		centers[i] = v.Center()
		seen[i] = make([]bool, len(points))
		for p, x := range points {
			if v.sees(x, 0) {
				seen[i][p] = true
				lists[i] = append(lists[i], p)
			}
		}
	}
	type pair struct {
		shared int
		score  float64
	}
	cosMin, cosMax := math.Cos(minAngle), math.Cos(maxAngle)
	pairs := make([]pair, len(views)*len(views))
	for i := range views {
		for j := i + 1; j < len(views); j++ {
			var pr pair
			for _, p := range lists[i] {
				if !seen[j][p] {
					continue
				}
				pr.shared++
				c := r3.Cos(r3.Sub(centers[i], points[p]), r3.Sub(centers[j], points[p]))
				if c <= cosMin && c >= cosMax {
					pr.score++ // the common case, without an arccosine
					continue
				}
				pr.score += angleWeight(math.Acos(max(-1, min(1, c))))
			}
			pairs[i*len(views)+j], pairs[j*len(views)+i] = pr, pr
		}
	}
	out := make([][]Neighbor, len(views))
	for i := range views {
		var cand []Neighbor
		for j := range views {
			pr := pairs[i*len(views)+j]
			if j != i && pr.shared >= minShared && pr.score > 0 {
				cand = append(cand, Neighbor{View: j, Shared: pr.shared, Score: pr.score})
			}
		}
		slices.SortStableFunc(cand, func(a, b Neighbor) int {
			switch {
			case a.Score > b.Score:
				return -1
			case a.Score < b.Score:
				return 1
			}
			return 0
		})
		out[i] = cand[:min(n, len(cand))]
	}
	return out
}

// DepthRange returns the range of depths in which to look for the surface
// seen by v: the 1st to 99th percentile of the depths of the sparse points
// it sees, widened by a tenth of that span and 5% of the far depth on each
// side. ok is false when v sees fewer than minShared points.
func DepthRange(v *View, points []r3.Vec) (near, far float64, ok bool) {
	var zs []float64
	for _, x := range points {
		if v.sees(x, 0) {
			zs = append(zs, v.toCamera(x).Z)
		}
	}
	if len(zs) < minShared {
		return 0, 0, false
	}
	slices.Sort(zs)
	lo := zs[len(zs)/100]
	hi := zs[len(zs)-1-len(zs)/100]
	pad := 0.1*(hi-lo) + 0.05*hi
	return max(lo-pad, 0.01*lo), hi + pad, true
}
