package mvs

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// A textured plane and pinhole views of it, rendered analytically, give
// test cases with known depth.

// plane is the plane through p0 with unit normal n; e1 and e2 span it and
// carry the texture coordinates.
type plane struct {
	p0, n, e1, e2 r3.Vec
}

// newPlane returns the plane through p0 with normal n (normalised).
func newPlane(p0, n r3.Vec) plane {
	n = r3.Unit(n)
	a := r3.Vec{X: 1}
	if math.Abs(n.X) > 0.9 {
		a = r3.Vec{Y: 1}
	}
	e1 := r3.Unit(r3.Cross(n, a))
	return plane{p0: p0, n: n, e1: e1, e2: r3.Cross(n, e1)}
}

// hit returns the ray parameter t where o + t·d meets the plane; ok is false
// for a ray parallel to it or meeting it behind o.
func (pl plane) hit(o, d r3.Vec) (t float64, ok bool) {
	den := r3.Dot(pl.n, d)
	if math.Abs(den) < 1e-12 {
		return 0, false
	}
	t = r3.Dot(pl.n, r3.Sub(pl.p0, o)) / den
	return t, t > 0
}

// texture is multi-octave value noise: smooth random values whose finest
// cell is cell units wide, in [0, 1].
type texture struct {
	seed uint64
	cell float64
}

func (tx texture) at(a, b float64) float64 {
	var sum, norm float64
	amp := 1.0
	for o := range 4 {
		s := tx.cell * float64(int(1)<<o)
		sum += amp * tx.noise(a/s, b/s, uint64(o))
		norm += amp
		amp *= 0.6 // the finest octave dominates: NCC ignores gradients coarser than the window
	}
	return sum / norm
}

// noise is value noise on the integer lattice with smoothstep blending.
func (tx texture) noise(a, b float64, octave uint64) float64 {
	ia, ib := math.Floor(a), math.Floor(b)
	fa, fb := a-ia, b-ib
	fa, fb = fa*fa*(3-2*fa), fb*fb*(3-2*fb)
	v := func(i, j float64) float64 {
		r := rng{tx.seed ^ octave<<56 ^ uint64(int64(i))*0x9e3779b97f4a7c15 ^ uint64(int64(j))*0xc2b2ae3d27d4eb4f}
		return float64(r.next()>>11) / (1 << 53)
	}
	top := v(ia, ib) + fa*(v(ia+1, ib)-v(ia, ib))
	bot := v(ia, ib+1) + fa*(v(ia+1, ib+1)-v(ia, ib+1))
	return top + fb*(bot-top)
}

// lookAt returns a w×h view at c looking at target, with focal length f
// pixels, the principal point at the centre and image y along world +y as
// far as the view direction allows.
func lookAt(name string, c, target r3.Vec, w, h int, f float64) *View {
	fwd := r3.Unit(r3.Sub(target, c))
	right := r3.Unit(r3.Cross(r3.Vec{Y: 1}, fwd))
	down := r3.Cross(fwd, right)
	v := &View{Name: name, K: [4]float64{f, f, float64(w) / 2, float64(h) / 2}, W: w, H: h}
	v.R = [9]float64{right.X, right.Y, right.Z, down.X, down.Y, down.Z, fwd.X, fwd.Y, fwd.Z}
	t := v.toCamera(r3.Scale(-1, c)) // R·(−c), since T is 0 yet
	v.T = [3]float64{t.X, t.Y, t.Z}
	return v
}

// render fills v.Gray and v.RGB with the textured plane, averaging ss×ss
// samples per pixel; rays that miss it see mid grey.
func render(v *View, pl plane, tx texture, ss int) {
	v.Gray = make([]float32, v.W*v.H)
	v.RGB = make([]uint8, 3*v.W*v.H)
	c := v.Center()
	for j := range v.H {
		for i := range v.W {
			var sum float64
			for b := range ss {
				for a := range ss {
					u := float64(i) + (float64(a)+0.5)/float64(ss)
					w := float64(j) + (float64(b)+0.5)/float64(ss)
					d := v.rotateToWorld(r3.Vec{X: (u - v.K[2]) / v.K[0], Y: (w - v.K[3]) / v.K[1], Z: 1})
					t, ok := pl.hit(c, d)
					if !ok {
						sum += 0.5
						continue
					}
					x := r3.Sub(r3.Add(c, r3.Scale(t, d)), pl.p0)
					sum += tx.at(r3.Dot(x, pl.e1), r3.Dot(x, pl.e2))
				}
			}
			g := sum / float64(ss*ss)
			p := j*v.W + i
			v.Gray[p] = float32(g)
			v.RGB[3*p], v.RGB[3*p+1], v.RGB[3*p+2] = uint8(255*g), uint8(200*g), 100
		}
	}
}

// truth returns the true depth map of v: depth and camera-frame normal of
// the plane at each pixel centre.
func truth(v *View, pl plane) *DepthMap {
	dm := newDepthMap(v.W, v.H)
	c := v.Center()
	nc := r3.Vec{}
	{
		r := &v.R
		n := pl.n
		nc = r3.Vec{X: r[0]*n.X + r[1]*n.Y + r[2]*n.Z, Y: r[3]*n.X + r[4]*n.Y + r[5]*n.Z, Z: r[6]*n.X + r[7]*n.Y + r[8]*n.Z}
	}
	for j := range v.H {
		for i := range v.W {
			ray := r3.Vec{X: (float64(i) + 0.5 - v.K[2]) / v.K[0], Y: (float64(j) + 0.5 - v.K[3]) / v.K[1], Z: 1}
			t, ok := pl.hit(c, v.rotateToWorld(ray))
			if !ok {
				continue
			}
			n := nc
			if r3.Dot(n, ray) > 0 {
				n = r3.Scale(-1, n)
			}
			p := j*v.W + i
			dm.Depth[p] = float32(t) // the ray has z = 1, so t is the depth
			dm.Normal[3*p], dm.Normal[3*p+1], dm.Normal[3*p+2] = float32(n.X), float32(n.Y), float32(n.Z)
			dm.Cost[p] = 0
		}
	}
	return dm
}

// scene is a plane seen by a reference view (index 0) at the origin looking
// down +z and four sources around it, all looking at the plane's centre.
type scene struct {
	views []*View
	pl    plane
}

// Test scene sizes: 128×96 pixels, 120 px focal length (56° wide), the
// plane 10 units away, sources 3 units off to each side (17° triangulation
// angle), texture cells 0.25 units (3 pixels) and up.
const (
	testW, testH = 128, 96
	testF        = 120
	testDist     = 10
	testBase     = 3
)

func newScene(tb testing.TB, normal r3.Vec, seed uint64) *scene {
	tb.Helper()
	return newSceneSized(tb, normal, seed, testW, testH, 3)
}

// newSceneSized renders the test scene at w×h pixels with ss×ss samples per
// pixel, the focal length and texture scaled with the width so that the
// views see the same things as at testW×testH.
func newSceneSized(tb testing.TB, normal r3.Vec, seed uint64, w, h, ss int) *scene {
	tb.Helper()
	k := float64(w) / testW
	target := r3.Vec{Z: testDist}
	pl := newPlane(target, normal)
	tx := texture{seed: seed, cell: 0.25 / k}
	centres := []r3.Vec{{}, {X: -testBase}, {X: testBase}, {Y: -testBase}, {Y: testBase}}
	s := &scene{pl: pl}
	for i, c := range centres {
		v := lookAt(string(rune('a'+i)), c, target, w, h, testF*k)
		render(v, pl, tx, ss)
		s.views = append(s.views, v)
	}
	return s
}

// sparse returns points on the plane inside the reference's view, standing in
// for a sparse model.
func (s *scene) sparse() []r3.Vec {
	var pts []r3.Vec
	v := s.views[0]
	for j := 4; j < v.H; j += 8 {
		for i := 4; i < v.W; i += 8 {
			ray := v.rotateToWorld(r3.Vec{X: (float64(i) + 0.5 - v.K[2]) / v.K[0], Y: (float64(j) + 0.5 - v.K[3]) / v.K[1], Z: 1})
			if t, ok := s.pl.hit(v.Center(), ray); ok {
				pts = append(pts, r3.Add(v.Center(), r3.Scale(t, ray)))
			}
		}
	}
	return pts
}

// depthStats compare a depth map with the truth.
type depthStats struct {
	n        int     // pixels compared
	depthOK  float64 // fraction within the relative tolerance
	normalOK float64 // fraction with the normal within the angle
	p50, p90 float64 // relative depth error percentiles (no depth: +Inf)
	normal90 float64 // 90th percentile of the normal error, degrees
	missing  float64 // fraction with no depth
}

func (d depthStats) String() string {
	return fmt.Sprintf("%d pixels: %.1f%% within the depth tolerance, %.1f%% normals within the angle; relative depth error median %.2g, 90th percentile %.2g; normal error 90th percentile %.2g°; %.1f%% without depth",
		d.n, 100*d.depthOK, 100*d.normalOK, d.p50, d.p90, d.normal90, 100*d.missing)
}

// depthErrors compares dm with the truth over the pixels of view ref whose
// true point at least k sources see with the window inside the image.
func (s *scene) depthErrors(ref int, sources []int, dm *DepthMap, k, margin int, relTol, angTol float64) depthStats {
	v := s.views[ref]
	want := truth(v, s.pl)
	var st depthStats
	var rel, ang []float64
	var good, goodN, missing int
	for j := margin; j < v.H-margin; j++ {
		for i := margin; i < v.W-margin; i++ {
			p := j*v.W + i
			if want.Depth[p] <= 0 {
				continue
			}
			x := v.unproject(i, j, float64(want.Depth[p]))
			seen := 0
			for _, sv := range sources {
				if s.views[sv].sees(x, float64(margin+1)) {
					seen++
				}
			}
			if seen < k {
				continue
			}
			if dm.Depth[p] <= 0 {
				missing++
				rel = append(rel, math.Inf(1))
				ang = append(ang, 180)
				continue
			}
			e := math.Abs(float64(dm.Depth[p]-want.Depth[p])) / float64(want.Depth[p])
			rel = append(rel, e)
			if e < relTol {
				good++
			}
			a := r3.Vec{X: float64(dm.Normal[3*p]), Y: float64(dm.Normal[3*p+1]), Z: float64(dm.Normal[3*p+2])}
			b := r3.Vec{X: float64(want.Normal[3*p]), Y: float64(want.Normal[3*p+1]), Z: float64(want.Normal[3*p+2])}
			deg := math.Acos(max(-1, min(1, r3.Cos(a, b)))) * 180 / math.Pi
			ang = append(ang, deg)
			if deg < angTol {
				goodN++
			}
		}
	}
	st.n = len(rel)
	if st.n == 0 {
		return st
	}
	slices.Sort(rel)
	slices.Sort(ang)
	n := float64(st.n)
	st.depthOK, st.normalOK, st.missing = float64(good)/n, float64(goodN)/n, float64(missing)/n
	st.p50, st.p90 = rel[st.n/2], rel[st.n*9/10]
	st.normal90 = ang[st.n*9/10]
	return st
}
