package match

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestRelativePoseSynthetic(t *testing.T) {
	for i, mo := range motions {
		t.Run(mo.name, func(t *testing.T) {
			s := makeScene(t, sceneConfig{n: 300, outliers: 0.3, noise: 0.5, axis: mo.axis, deg: mo.deg, centre: mo.centre, seed: uint64(10 + i)})
			_, in, ok := VerifyFundamental(s.a, s.b, s.pairs, nil)
			if !ok {
				t.Fatal("VerifyFundamental failed")
			}
			R, tr, ok := RelativePose(s.a, s.b, in, s.f, s.f)
			if !ok {
				t.Fatal("RelativePose failed")
			}
			rErr, tErr := rotationError(R, s.R), angleBetween(tr, s.t)
			t.Logf("rotation error %.3f°, translation direction error %.2f°", rErr, tErr)
			if rErr > 1 {
				t.Errorf("rotation error %.3f°, want at most 1°", rErr)
			}
			// The shorter the baseline, the less certain its direction.
			if tErr > 3 {
				t.Errorf("translation direction error %.2f°, want at most 3°", tErr)
			}
			if d := det3(&R); math.Abs(d-1) > 1e-9 {
				t.Errorf("det R = %g, want 1", d)
			}
			if n := norm3(tr); math.Abs(n-1) > 1e-9 {
				t.Errorf("|t| = %g, want 1", n)
			}
		})
	}
}

// TestRelativePoseFocalLengths gives the two cameras different focal
// lengths and image sizes.
func TestRelativePoseFocalLengths(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	R := rotation([3]float64{0.2, 1, 0}, 12)
	c := [3]float64{1.2, 0.1, 0.3}
	rc := mulVec3(&R, c)
	tt := [3]float64{-rc[0], -rc[1], -rc[2]}
	fa, fb := 700.0, 1100.0
	a := &Features{Width: 1024, Height: 768}
	b := &Features{Width: 800, Height: 1000}
	var m []Pair
	for len(m) < 200 {
		z := 4 + 4*rng.Float64()
		p := [3]float64{(rng.Float64() - 0.5) * z * 1.2, (rng.Float64() - 0.5) * z, z}
		q := mulVec3(&R, p)
		q = [3]float64{q[0] + tt[0], q[1] + tt[1], q[2] + tt[2]}
		xa, ya := fa*p[0]/p[2]+511.5, fa*p[1]/p[2]+383.5
		xb, yb := fb*q[0]/q[2]+399.5, fb*q[1]/q[2]+499.5
		if q[2] <= 0 || xa < 0 || xa > 1023 || ya < 0 || ya > 767 || xb < 0 || xb > 799 || yb < 0 || yb > 999 {
			continue
		}
		a.Keypoints = append(a.Keypoints, Keypoint{X: xa + 0.5*rng.NormFloat64(), Y: ya + 0.5*rng.NormFloat64()})
		b.Keypoints = append(b.Keypoints, Keypoint{X: xb + 0.5*rng.NormFloat64(), Y: yb + 0.5*rng.NormFloat64()})
		m = append(m, Pair{A: len(m), B: len(m)})
	}
	gotR, gotT, ok := RelativePose(a, b, m, fa, fb)
	if !ok {
		t.Fatal("RelativePose failed")
	}
	if e := rotationError(gotR, R); e > 1 {
		t.Errorf("rotation error %.3f°, want at most 1°", e)
	}
	if e := angleBetween(gotT, tt); e > 3 {
		t.Errorf("translation direction error %.2f°, want at most 3°", e)
	}
	// Swapping the focal lengths breaks the geometry: no pose, or a worse
	// one.
	if wrongR, _, ok := RelativePose(a, b, m, fb, fa); ok && rotationError(wrongR, R) < 2 {
		t.Errorf("swapped focal lengths still give the rotation within 2°")
	}
}

func TestRelativePoseDegenerate(t *testing.T) {
	s := makeScene(t, sceneConfig{n: 100, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 5, centre: [3]float64{1, 0, 0}, seed: 12})
	line := &Features{Width: 1024, Height: 768}
	for i := range 50 {
		line.Keypoints = append(line.Keypoints, Keypoint{X: float64(10 * i), Y: float64(5 * i)})
	}
	tests := []struct {
		name   string
		a, b   *Features
		m      []Pair
		fa, fb float64
	}{
		{"zero focal", s.a, s.b, s.pairs, 0, 800},
		{"negative focal", s.a, s.b, s.pairs, 800, -800},
		{"NaN focal", s.a, s.b, s.pairs, math.NaN(), 800},
		{"infinite focal", s.a, s.b, s.pairs, 800, math.Inf(1)},
		{"seven pairs", s.a, s.b, s.pairs[:7], 800, 800},
		{"nil features", nil, s.b, s.pairs, 800, 800},
		{"pairs out of range", s.a, s.b, []Pair{{A: 200, B: 0}, {A: 0, B: -1}}, 800, 800},
		{"collinear", line, line, s.pairs[:50], 800, 800},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			R, tr, ok := RelativePose(tt.a, tt.b, tt.m, tt.fa, tt.fb)
			if ok || R != ([9]float64{}) || tr != ([3]float64{}) {
				t.Errorf("RelativePose = %v, %v, %v; want zero, zero, false", R, tr, ok)
			}
		})
	}
}

// TestRelativePoseNoParallax checks the pairs that a homography explains:
// F is then not unique (H&Z §11.9), VerifyFundamental still finds the
// overlap, and RelativePose refuses to guess a pose.
func TestRelativePoseNoParallax(t *testing.T) {
	tests := []struct {
		name string
		c    sceneConfig
	}{
		{"plane", sceneConfig{n: 200, outliers: 0.2, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 10, centre: [3]float64{1, 0.2, 0.3}, plane: true, seed: 13}},
		{"pure rotation", sceneConfig{n: 200, outliers: 0.2, noise: 0.5, axis: [3]float64{0.2, 1, 0.1}, deg: 10, seed: 14}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := makeScene(t, tt.c)
			_, in, ok := VerifyFundamental(s.a, s.b, s.pairs, nil)
			right := 0
			for _, p := range in {
				if !s.outlier[p.A] {
					right++
				}
			}
			if !ok || right < 150 {
				t.Errorf("VerifyFundamental: ok %v, %d of %d inliers right; want ok and most of the 160 inliers", ok, right, len(in))
			}
			if R, tr, ok := RelativePose(s.a, s.b, in, s.f, s.f); ok {
				t.Errorf("RelativePose = %v, %v, true; want false for a scene without parallax", R, tr)
			}
		})
	}
}

func TestRotationAngleAxis(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	type tc struct {
		axis [3]float64
		deg  float64
	}
	cases := []tc{
		{[3]float64{0, 0, 1}, 90},
		{[3]float64{1, 0, 0}, 30},
		{[3]float64{0, 1, 0}, 1e-4},
		{[3]float64{1, 1, 1}, 150},
		{[3]float64{1, -2, 0.5}, 179.9},
		{[3]float64{0, 0, 1}, 180},
		{[3]float64{0.3, 0.1, -1}, 180},
	}
	for range 50 {
		cases = append(cases, tc{[3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}, 180 * rng.Float64()})
	}
	for _, c := range cases {
		R := rotation(c.axis, c.deg)
		angle, axis := RotationAngleAxis(R)
		if d := angle*180/math.Pi - c.deg; math.Abs(d) > 1e-8 {
			t.Errorf("RotationAngleAxis(rotation(%v, %g°)) angle = %.10g°", c.axis, c.deg, angle*180/math.Pi)
		}
		want := c.axis
		n := norm3(want)
		for i := range want {
			want[i] /= n
		}
		e := angleBetween(axis, want)
		if c.deg == 180 {
			e = min(e, 180-e) // both directions describe a half turn
		}
		if e > 1e-5 || math.Abs(norm3(axis)-1) > 1e-12 {
			t.Errorf("RotationAngleAxis(rotation(%v, %g°)) axis = %v, want %v", c.axis, c.deg, axis, want)
		}
	}
	if angle, axis := RotationAngleAxis([9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}); angle != 0 || axis != ([3]float64{}) {
		t.Errorf("RotationAngleAxis(I) = %v, %v; want 0, zero axis", angle, axis)
	}
}
