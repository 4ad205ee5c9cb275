package match

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"
)

// Test fixtures: textured images, warps and two-view geometry.

// renderTexture draws a w×h test image: a few hundred shapes (discs and
// rotated rectangles, anti-aliased, random grey levels and sizes) over and
// under two octaves of value noise, so that there are corners at every
// scale and every angle. The same seed gives the same image.
func renderTexture(w, h int, seed uint64) *image.Gray {
	rng := rand.New(rand.NewPCG(seed, 7))
	buf := make([]float64, w*h)
	for i := range buf {
		buf[i] = 128
	}
	shapes := w * h / 1200
	for range shapes {
		val := 20 + 215*rng.Float64()
		cx, cy := rng.Float64()*float64(w), rng.Float64()*float64(h)
		size := 4 + 36*math.Pow(rng.Float64(), 2)
		var dist func(x, y float64) float64
		if rng.IntN(2) == 0 {
			dist = func(x, y float64) float64 { return math.Hypot(x-cx, y-cy) - size }
		} else {
			hw, hh := size, size*(0.3+0.7*rng.Float64())
			s, c := math.Sincos(rng.Float64() * math.Pi)
			dist = func(x, y float64) float64 {
				u := (x-cx)*c + (y-cy)*s
				v := -(x-cx)*s + (y-cy)*c
				return max(math.Abs(u)-hw, math.Abs(v)-hh)
			}
		}
		r := int(size*1.5) + 2
		for y := max(0, int(cy)-r); y < min(h, int(cy)+r); y++ {
			for x := max(0, int(cx)-r); x < min(w, int(cx)+r); x++ {
				cov := min(max(0.5-dist(float64(x), float64(y)), 0), 1)
				buf[y*w+x] = buf[y*w+x]*(1-cov) + val*cov
			}
		}
	}
	for _, oct := range []struct{ cell, amp float64 }{{40, 30}, {10, 14}} {
		gw, gh := int(float64(w)/oct.cell)+2, int(float64(h)/oct.cell)+2
		lat := make([]float64, gw*gh)
		for i := range lat {
			lat[i] = 2*rng.Float64() - 1
		}
		for y := range h {
			fy := float64(y) / oct.cell
			j := int(fy)
			ty := smooth(fy - float64(j))
			for x := range w {
				fx := float64(x) / oct.cell
				i := int(fx)
				tx := smooth(fx - float64(i))
				a := lat[j*gw+i] + (lat[j*gw+i+1]-lat[j*gw+i])*tx
				b := lat[(j+1)*gw+i] + (lat[(j+1)*gw+i+1]-lat[(j+1)*gw+i])*tx
				buf[y*w+x] += oct.amp * (a + (b-a)*ty)
			}
		}
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range buf {
		img.Pix[i] = uint8(min(max(math.Round(v), 0), 255))
	}
	return img
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// warp returns the w×h image dst(x) = src(H⁻¹·x), sampled bilinearly, for
// the homography H (row-major) that maps src pixels onto dst pixels; dst
// pixels that fall outside src are mid-grey.
func warp(src *image.Gray, w, h int, H [9]float64) *image.Gray {
	inv := invert3(H)
	dst := image.NewGray(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := range h {
		for x := range w {
			p := mulVec3(&inv, [3]float64{float64(x), float64(y), 1})
			sx, sy := p[0]/p[2], p[1]/p[2]
			i, j := int(math.Floor(sx)), int(math.Floor(sy))
			if i < 0 || j < 0 || i >= sw-1 || j >= sh-1 {
				dst.Pix[y*dst.Stride+x] = 128
				continue
			}
			tx, ty := sx-float64(i), sy-float64(j)
			at := func(i, j int) float64 { return float64(src.Pix[j*src.Stride+i]) }
			a := at(i, j) + (at(i+1, j)-at(i, j))*tx
			b := at(i, j+1) + (at(i+1, j+1)-at(i, j+1))*tx
			dst.Pix[y*dst.Stride+x] = uint8(math.Round(a + (b-a)*ty))
		}
	}
	return dst
}

// similarity is the homography that rotates by deg degrees (from +x
// towards +y) and scales by s about the centre of a w×h image, then shifts
// by (dx, dy).
func similarity(w, h int, deg, s, dx, dy float64) [9]float64 {
	sin, cos := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(w-1)/2, float64(h-1)/2
	return [9]float64{
		s * cos, -s * sin, cx - s*cos*cx + s*sin*cy + dx,
		s * sin, s * cos, cy - s*sin*cx - s*cos*cy + dy,
		0, 0, 1,
	}
}

func applyH(H *[9]float64, x, y float64) (float64, float64) {
	p := mulVec3(H, [3]float64{x, y, 1})
	return p[0] / p[2], p[1] / p[2]
}

func invert3(m [9]float64) [9]float64 {
	d := det3(&m)
	return [9]float64{
		(m[4]*m[8] - m[5]*m[7]) / d, (m[2]*m[7] - m[1]*m[8]) / d, (m[1]*m[5] - m[2]*m[4]) / d,
		(m[5]*m[6] - m[3]*m[8]) / d, (m[0]*m[8] - m[2]*m[6]) / d, (m[2]*m[3] - m[0]*m[5]) / d,
		(m[3]*m[7] - m[4]*m[6]) / d, (m[1]*m[6] - m[0]*m[7]) / d, (m[0]*m[4] - m[1]*m[3]) / d,
	}
}

// rotation is the matrix of a rotation by deg degrees about axis.
func rotation(axis [3]float64, deg float64) [9]float64 {
	n := norm3(axis)
	x, y, z := axis[0]/n, axis[1]/n, axis[2]/n
	s, c := math.Sincos(deg * math.Pi / 180)
	C := 1 - c
	return [9]float64{
		c + x*x*C, x*y*C - z*s, x*z*C + y*s,
		y*x*C + z*s, c + y*y*C, y*z*C - x*s,
		z*x*C - y*s, z*y*C + x*s, c + z*z*C,
	}
}

// scene is a synthetic two-view setup: features of two images whose pair
// i is the projection of one 3D point, or an outlier.
type scene struct {
	a, b    *Features
	pairs   []Pair
	outlier []bool       // outlier[i]: pair i is not a projection of one point
	clean   [][4]float64 // noise-free xa, ya, xb, yb of pair i (inliers only)
	R       [9]float64
	t       [3]float64 // unit
	f       float64
}

// sceneConfig describes a synthetic two-view setup.
type sceneConfig struct {
	n        int        // pairs wanted
	outliers float64    // share of pairs replaced by random ones
	noise    float64    // pixel noise, standard deviation
	axis     [3]float64 // rotation axis
	deg      float64    // rotation angle
	centre   [3]float64 // centre of camera b in camera a's frame
	plane    bool       // points on the plane z = 5 + x/5 rather than 4 to 8 deep
	seed     uint64
}

// makeScene projects random points in front of camera a (depths 4 to 8,
// or on a plane) into two 1024×768 cameras of focal length 800 px.
func makeScene(tb testing.TB, c sceneConfig) scene {
	tb.Helper()
	const w, h, f = 1024, 768, 800.0
	rng := rand.New(rand.NewPCG(c.seed, 3))
	s := scene{R: rotation(c.axis, c.deg), f: f}
	// x_b = R·(x_a − C) = R·x_a − R·C.
	rc := mulVec3(&s.R, c.centre)
	t := [3]float64{-rc[0], -rc[1], -rc[2]}
	if n := norm3(t); n > 0 {
		s.t = [3]float64{t[0] / n, t[1] / n, t[2] / n}
	}
	K := intrinsics(f, w, h)
	project := func(p [3]float64) (float64, float64, bool) {
		if p[2] <= 0.1 {
			return 0, 0, false
		}
		x, y := f*p[0]/p[2]+K[2], f*p[1]/p[2]+K[5]
		return x, y, x >= 0 && y >= 0 && x <= w-1 && y <= h-1
	}
	s.a = &Features{Width: w, Height: h}
	s.b = &Features{Width: w, Height: h}
	for tries := 0; len(s.pairs) < c.n && tries < 100*c.n; tries++ {
		u, v := (rng.Float64()-0.5)*w/f, (rng.Float64()-0.5)*h/f
		z := 4 + 4*rng.Float64()
		if c.plane {
			z = 5 / (1 - u/5)
		}
		pa := [3]float64{u * z, v * z, z}
		xa, ya, okA := project(pa)
		pb := mulVec3(&s.R, pa)
		pb = [3]float64{pb[0] + t[0], pb[1] + t[1], pb[2] + t[2]}
		xb, yb, okB := project(pb)
		if !okA || !okB {
			continue
		}
		out := rng.Float64() < c.outliers
		nxa, nya := xa+c.noise*rng.NormFloat64(), ya+c.noise*rng.NormFloat64()
		nxb, nyb := xb+c.noise*rng.NormFloat64(), yb+c.noise*rng.NormFloat64()
		if out {
			nxb, nyb = rng.Float64()*(w-1), rng.Float64()*(h-1)
		}
		i := len(s.pairs)
		s.a.Keypoints = append(s.a.Keypoints, Keypoint{X: nxa, Y: nya})
		s.b.Keypoints = append(s.b.Keypoints, Keypoint{X: nxb, Y: nyb})
		s.pairs = append(s.pairs, Pair{A: i, B: i})
		s.outlier = append(s.outlier, out)
		s.clean = append(s.clean, [4]float64{xa, ya, xb, yb})
	}
	if len(s.pairs) < c.n {
		tb.Fatalf("makeScene: only %d of %d points visible in both views", len(s.pairs), c.n)
	}
	return s
}

// epipolarDistance is the symmetric distance, in pixels, of the pair
// (xa, ya) ↔ (xb, yb) to the epipolar lines of F: the mean of the distance
// of x_b to F·x_a and of x_a to Fᵀ·x_b.
func epipolarDistance(F *[9]float64, xa, ya, xb, yb float64) float64 {
	l := mulVec3(F, [3]float64{xa, ya, 1})
	ft := transpose3(F)
	m := mulVec3(&ft, [3]float64{xb, yb, 1})
	r := math.Abs(xb*l[0] + yb*l[1] + l[2])
	return (r/math.Hypot(l[0], l[1]) + r/math.Hypot(m[0], m[1])) / 2
}

// angleBetween is the angle in degrees between vectors a and b.
func angleBetween(a, b [3]float64) float64 {
	c := dot3(a, b) / (norm3(a) * norm3(b))
	return math.Acos(min(max(c, -1), 1)) * 180 / math.Pi
}

// rotationError is the angle in degrees of R₁·R₂ᵀ.
func rotationError(r1, r2 [9]float64) float64 {
	r2t := transpose3(&r2)
	d := mul3(&r1, &r2t)
	a, _ := RotationAngleAxis(d)
	return a * 180 / math.Pi
}

// warpError is the distance in pixels between keypoint p.B of b and the
// image by H of keypoint p.A of a.
func warpError(H *[9]float64, a, b *Features, p Pair) float64 {
	ka, kb := a.Keypoints[p.A], b.Keypoints[p.B]
	x, y := applyH(H, ka.X, ka.Y)
	return math.Hypot(x-kb.X, y-kb.Y)
}
