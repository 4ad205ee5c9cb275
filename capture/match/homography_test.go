package match

import (
	"math"
	"math/rand/v2"
	"testing"
)

// planarConfig is a synthetic capture of a flat scene: random points on
// the world plane z = 0 (z up), seen by two cameras that aim at the
// origin from dist away, as makers orbit a part on a mat.
type planarConfig struct {
	elevA, elevB float64 // camera elevations above the plane, degrees
	azA, dAz     float64 // azimuth of camera a and the orbit to camera b, degrees
	rollA, rollB float64 // rolls about the viewing directions, degrees
	f            float64 // focal length, pixels, of both 1024×768 cameras
	n            int     // pairs wanted
	outliers     float64 // share of pairs replaced by random ones
	noise        float64 // pixel noise, standard deviation
	seed         uint64
}

// planarScene is the two views of a planarConfig with their truth.
type planarScene struct {
	scene
	up [3]float64 // the plane's normal in camera a's frame, toward camera a
}

// lookAtWorld is the world→camera pose (x_c = R·X + t; x right, y down, z
// forward) of a camera at c aiming at target with world z up, rolled by
// roll degrees about its viewing direction: pipeline/synth's lookAt.
func lookAtWorld(c, target [3]float64, roll float64) ([9]float64, [3]float64) {
	f := [3]float64{target[0] - c[0], target[1] - c[1], target[2] - c[2]}
	unit := func(v [3]float64) [3]float64 {
		n := norm3(v)
		return [3]float64{v[0] / n, v[1] / n, v[2] / n}
	}
	f = unit(f)
	right := unit(cross3(f, [3]float64{0, 0, 1}))
	down := cross3(f, right)
	s, co := math.Sincos(roll * math.Pi / 180)
	for i := range 3 {
		right[i], down[i] = co*right[i]+s*down[i], co*down[i]-s*right[i]
	}
	R := [9]float64{right[0], right[1], right[2], down[0], down[1], down[2], f[0], f[1], f[2]}
	rc := mulVec3(&R, c)
	return R, [3]float64{-rc[0], -rc[1], -rc[2]}
}

// orbitCamera places a camera dist from the origin at the azimuth and
// elevation given, in degrees.
func orbitCamera(az, elev, roll, dist float64) ([9]float64, [3]float64) {
	sa, ca := math.Sincos(az * math.Pi / 180)
	se, ce := math.Sincos(elev * math.Pi / 180)
	return lookAtWorld([3]float64{dist * ce * ca, dist * ce * sa, dist * se}, [3]float64{}, roll)
}

// makePlanarScene projects random points of the plane z = 0 into both
// cameras.
func makePlanarScene(tb testing.TB, c planarConfig) planarScene {
	tb.Helper()
	const w, h, dist = 1024, 768, 320.0
	rng := rand.New(rand.NewPCG(c.seed, 5))
	ra, ta := orbitCamera(c.azA, c.elevA, c.rollA, dist)
	rb, tb2 := orbitCamera(c.azA+c.dAz, c.elevB, c.rollB, dist)
	var s planarScene
	s.f = c.f
	rat := transpose3(&ra)
	s.R = mul3(&rb, &rat)
	rta := mulVec3(&s.R, ta)
	t := [3]float64{tb2[0] - rta[0], tb2[1] - rta[1], tb2[2] - rta[2]}
	nt := norm3(t)
	s.t = [3]float64{t[0] / nt, t[1] / nt, t[2] / nt}
	s.up = [3]float64{ra[2], ra[5], ra[8]}
	K := intrinsics(c.f, w, h)
	project := func(R *[9]float64, t [3]float64, X [3]float64) (float64, float64, bool) {
		p := mulVec3(R, X)
		p = [3]float64{p[0] + t[0], p[1] + t[1], p[2] + t[2]}
		if p[2] <= 1 {
			return 0, 0, false
		}
		x, y := c.f*p[0]/p[2]+K[2], c.f*p[1]/p[2]+K[5]
		return x, y, x >= 0 && y >= 0 && x <= w-1 && y <= h-1
	}
	s.a = &Features{Width: w, Height: h}
	s.b = &Features{Width: w, Height: h}
	for tries := 0; len(s.pairs) < c.n && tries < 1000*c.n; tries++ {
		X := [3]float64{(2*rng.Float64() - 1) * dist, (2*rng.Float64() - 1) * dist, 0}
		xa, ya, okA := project(&ra, ta, X)
		xb, yb, okB := project(&rb, tb2, X)
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
		tb.Fatalf("makePlanarScene: only %d of %d points visible in both views", len(s.pairs), c.n)
	}
	return s
}

// randomPlanarConfig draws a capture as the brief of PlanarPose has it:
// elevations of 25° to 60°, orbits of 5° to 40° either way, rolls within
// 5°, focal lengths near 1000 pixels, 0.5 pixels of noise and 20% of
// mismatches.
func randomPlanarConfig(rng *rand.Rand, seed uint64) planarConfig {
	u := func(lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
	dAz := u(5, 40)
	if rng.IntN(2) == 0 {
		dAz = -dAz
	}
	return planarConfig{
		elevA: u(25, 60), elevB: u(25, 60), azA: u(0, 360), dAz: dAz,
		rollA: u(-5, 5), rollB: u(-5, 5), f: u(900, 1100),
		n: 300, outliers: 0.2, noise: 0.5, seed: seed,
	}
}

func TestPlanarPoseSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 21))
	var worstR, worstN, worstT float64
	for i := range 60 {
		c := randomPlanarConfig(rng, uint64(100+i))
		s := makePlanarScene(t, c)
		R, tr, normal, ok := PlanarPose(s.a, s.b, s.pairs, c.f, c.f, [3]float64{0, -1, 0})
		if !ok {
			t.Errorf("case %d %+v: PlanarPose failed", i, c)
			continue
		}
		rErr, nErr, tErr := rotationError(R, s.R), angleBetween(normal, s.up), angleBetween(tr, s.t)
		worstR, worstN, worstT = max(worstR, rErr), max(worstN, nErr), max(worstT, tErr)
		if rErr > 1 || nErr > 5 || tErr > 5 {
			t.Errorf("case %d (elevations %.0f°, %.0f°, orbit %.1f°): rotation error %.3f°, normal %.2f°, translation %.2f°; want ≤ 1°, ≤ 5°, ≤ 5°",
				i, c.elevA, c.elevB, c.dAz, rErr, nErr, tErr)
		}
		if d := det3(&R); math.Abs(d-1) > 1e-9 {
			t.Errorf("case %d: det R = %g, want 1", i, d)
		}
		if n := norm3(tr); math.Abs(n-1) > 1e-9 {
			t.Errorf("case %d: |t| = %g, want 1", i, n)
		}
	}
	t.Logf("60 captures: worst rotation error %.3f°, normal %.2f°, translation direction %.2f°", worstR, worstN, worstT)
}

// TestPlanarPoseUpHint checks that the up hint chooses between the two
// visible solutions: the world's up picks the truth, and a hint along the
// baseline, where the other solution's normal lies, picks the other.
func TestPlanarPoseUpHint(t *testing.T) {
	c := planarConfig{elevA: 40, elevB: 35, azA: 10, dAz: 25, rollA: 2, rollB: -1, f: 1000, n: 300, outliers: 0.2, noise: 0.5, seed: 3}
	s := makePlanarScene(t, c)
	for _, tc := range []struct {
		name string
		up   [3]float64
	}{
		{"default", [3]float64{0, -1, 0}},
		{"tilted", [3]float64{0, -1, -1}},
		{"truth", s.up},
	} {
		t.Run(tc.name, func(t *testing.T) {
			R, _, normal, ok := PlanarPose(s.a, s.b, s.pairs, c.f, c.f, tc.up)
			if !ok {
				t.Fatal("PlanarPose failed")
			}
			if e := rotationError(R, s.R); e > 1 {
				t.Errorf("rotation error %.3f°, want at most 1°", e)
			}
			if e := angleBetween(normal, s.up); e > 5 {
				t.Errorf("normal off by %.2f°, want at most 5°", e)
			}
		})
	}
	// The other visible solution: a hint along its normal gives it, and
	// a hint from below the plane does not give the truth.
	H, in, ok := FitHomography(s.a, s.b, s.pairs, nil)
	if !ok {
		t.Fatal("FitHomography failed")
	}
	K := intrinsics(c.f, s.a.Width, s.a.Height)
	sols, n, ok := DecomposeHomography(calibrate(H, &K, &K))
	if !ok || n != 4 {
		t.Fatalf("DecomposeHomography: %d solutions, ok %v; want 4, true", n, ok)
	}
	other := -1
	for k := range n {
		if visible(&sols[k], s.a, s.b, in, c.f) && angleBetween(negate(sols[k].N), s.up) > 10 {
			other = k
		}
	}
	if other < 0 {
		t.Fatal("no other visible solution")
	}
	otherUp := negate(sols[other].N)
	t.Logf("true normal %.3f, other solution's %.3f, translation %.3f", s.up, otherUp, s.t)
	R, _, normal, ok := PlanarPose(s.a, s.b, s.pairs, c.f, c.f, otherUp)
	if !ok || matrixDistance(R, sols[other].R, 1) > 1e-12 || vectorDistance(normal, otherUp) > 1e-12 {
		t.Errorf("hint along the other normal: R %v, normal %v, ok %v; want %v, %v, true", R, normal, ok, sols[other].R, otherUp)
	}
	R, _, normal, ok = PlanarPose(s.a, s.b, s.pairs, c.f, c.f, negate(s.up))
	if ok && (rotationError(R, s.R) < 2 || angleBetween(normal, s.up) < 10) {
		t.Errorf("hint from below: rotation error %.3f°, normal off by %.2f°; want the other solution or none",
			rotationError(R, s.R), angleBetween(normal, s.up))
	}
}

func negate(v [3]float64) [3]float64 { return [3]float64{-v[0], -v[1], -v[2]} }

// visible reports whether most pairs m lie in front of both cameras of
// focal length f for the solution s.
func visible(s *PlaneMotion, a, b *Features, m []Pair, f float64) bool {
	rn := mulVec3(&s.R, s.N)
	front := 0
	for _, p := range m {
		ka, kb := a.Keypoints[p.A], b.Keypoints[p.B]
		ma := [3]float64{(ka.X - float64(a.Width-1)/2) / f, (ka.Y - float64(a.Height-1)/2) / f, 1}
		mb := [3]float64{(kb.X - float64(b.Width-1)/2) / f, (kb.Y - float64(b.Height-1)/2) / f, 1}
		if dot3(s.N, ma) > 0 && dot3(rn, mb) > 0 {
			front++
		}
	}
	return 1+dot3(rn, s.T) > 0 && 2*front > len(m)
}

func TestDecomposeHomography(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range 200 {
		R := rotation([3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}, 60*rng.Float64())
		N := [3]float64{rng.NormFloat64(), rng.NormFloat64(), 2 + rng.Float64()}
		nn := norm3(N)
		N = [3]float64{N[0] / nn, N[1] / nn, N[2] / nn}
		T := [3]float64{0.5 * rng.NormFloat64(), 0.5 * rng.NormFloat64(), 0.2 * rng.NormFloat64()}
		if 1+dot3(mulVec3(&R, N), T) <= 0.1 {
			continue // camera b behind or on the plane
		}
		var Hn [9]float64
		scale := 0.1 + 10*rng.Float64()
		for r := range 3 {
			for c := range 3 {
				Hn[3*r+c] = scale * (R[3*r+c] + T[r]*N[c])
			}
		}
		sols, n, ok := DecomposeHomography(Hn)
		if !ok || n != 4 {
			t.Fatalf("case %d: DecomposeHomography: n %d, ok %v; want 4, true", i, n, ok)
		}
		found := false
		for k := range n {
			s := sols[k]
			if d := det3(&s.R); math.Abs(d-1) > 1e-9 {
				t.Errorf("case %d solution %d: det R = %g", i, k, d)
			}
			// Every solution reproduces Hn up to scale.
			var g [9]float64
			for r := range 3 {
				for c := range 3 {
					g[3*r+c] = s.R[3*r+c] + s.T[r]*s.N[c]
				}
			}
			if e := matrixDistance(g, Hn, 1/scale); e > 1e-9 {
				t.Errorf("case %d solution %d: R + T·Nᵀ off Hn by %g", i, k, e)
			}
			if matrixDistance(s.R, R, 1) < 1e-9 && vectorDistance(s.N, N) < 1e-9 && vectorDistance(s.T, T) < 1e-9 {
				found = true
			}
		}
		if !found {
			t.Errorf("case %d: no solution is the truth R %v, T %v, N %v: %+v", i, R, T, N, sols[:n])
		}
	}
	t.Run("pure rotation", func(t *testing.T) {
		R := rotation([3]float64{1, 2, 3}, 20)
		sols, n, ok := DecomposeHomography([9]float64{2 * R[0], 2 * R[1], 2 * R[2], 2 * R[3], 2 * R[4], 2 * R[5], 2 * R[6], 2 * R[7], 2 * R[8]})
		if !ok || n != 1 || rotationError(sols[0].R, R) > 1e-6 || sols[0].T != ([3]float64{}) || sols[0].N != ([3]float64{}) {
			t.Errorf("DecomposeHomography(2R) = %+v, %d, %v; want R with zero T and N, 1, true", sols[0], n, ok)
		}
	})
	for _, tc := range []struct {
		name string
		H    [9]float64
	}{
		{"zero", [9]float64{}},
		{"rank 1", [9]float64{1, 2, 3, 2, 4, 6, 3, 6, 9}},
		{"NaN", [9]float64{1, 0, 0, 0, 1, 0, 0, 0, math.NaN()}},
		{"Inf", [9]float64{math.Inf(1), 0, 0, 0, 1, 0, 0, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, n, ok := DecomposeHomography(tc.H); ok || n != 0 {
				t.Errorf("DecomposeHomography(%v) = %d, %v; want 0, false", tc.H, n, ok)
			}
		})
	}
}

// vectorDistance is the largest entry of |a − b|.
func vectorDistance(a, b [3]float64) float64 {
	return max(math.Abs(a[0]-b[0]), math.Abs(a[1]-b[1]), math.Abs(a[2]-b[2]))
}

// matrixDistance is the largest entry of |a − s·b|.
func matrixDistance(a, b [9]float64, s float64) float64 {
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-s*b[i]))
	}
	return d
}

func TestFitHomography(t *testing.T) {
	c := planarConfig{elevA: 30, elevB: 45, azA: 200, dAz: -20, rollA: -3, rollB: 4, f: 1050, n: 400, outliers: 0.3, noise: 0.5, seed: 9}
	s := makePlanarScene(t, c)
	H, in, ok := FitHomography(s.a, s.b, s.pairs, &RansacOptions{Seed: 5})
	if !ok {
		t.Fatal("FitHomography failed")
	}
	right, wrong := 0, 0
	for _, p := range in {
		if s.outlier[p.A] {
			wrong++
		} else {
			right++
		}
	}
	good := 0
	for _, o := range s.outlier {
		if !o {
			good++
		}
	}
	t.Logf("%d inliers: %d of %d right, %d mismatches", len(in), right, good, wrong)
	if right < good*95/100 || wrong > good/100 {
		t.Errorf("%d of %d right inliers and %d mismatches; want 95%% and at most 1%%", right, good, wrong)
	}
	// H maps the clean points within a fraction of a pixel.
	worst := 0.0
	for i, q := range s.clean {
		if s.outlier[i] {
			continue
		}
		x, y := applyH(&H, q[0], q[1])
		worst = max(worst, math.Hypot(x-q[2], y-q[3]))
	}
	if worst > 0.5 {
		t.Errorf("largest transfer error of the clean points %.3f px, want at most 0.5", worst)
	}
	if f := frobenius(H[:]); math.Abs(f-1) > 1e-12 {
		t.Errorf("‖H‖ = %g, want 1", f)
	}
	if w := H[6]*512 + H[7]*384 + H[8]; w <= 0 {
		t.Errorf("H·centre has third coordinate %g, want > 0", w)
	}
	// Deterministic: the same seed, the same answer.
	if H2, in2, _ := FitHomography(s.a, s.b, s.pairs, &RansacOptions{Seed: 5}); H2 != H || len(in2) != len(in) {
		t.Errorf("FitHomography is not deterministic")
	}
}

func TestFitHomographyDegenerate(t *testing.T) {
	s := makePlanarScene(t, planarConfig{elevA: 40, elevB: 40, dAz: 10, f: 1000, n: 100, noise: 0.5, seed: 2})
	line := &Features{Width: 1024, Height: 768}
	for i := range 50 {
		line.Keypoints = append(line.Keypoints, Keypoint{X: float64(10 * i), Y: float64(5 * i)})
	}
	tests := []struct {
		name string
		a, b *Features
		m    []Pair
	}{
		{"three pairs", s.a, s.b, s.pairs[:3]},
		{"fewer than MinInliers", s.a, s.b, s.pairs[:14]},
		{"nil features", nil, s.b, s.pairs},
		{"pairs out of range", s.a, s.b, []Pair{{A: 200, B: 0}, {A: 0, B: -1}}},
		{"collinear", line, line, s.pairs[:50]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if H, in, ok := FitHomography(tt.a, tt.b, tt.m, nil); ok || H != ([9]float64{}) || in != nil {
				t.Errorf("FitHomography = %v, %v, %v; want zero, nil, false", H, in, ok)
			}
		})
	}
}

func TestPlanarPoseDegenerate(t *testing.T) {
	s := makePlanarScene(t, planarConfig{elevA: 40, elevB: 40, dAz: 10, f: 1000, n: 100, noise: 0.5, seed: 2})
	// A scene with depth and a wide baseline: no homography explains a
	// majority.
	deep := makeScene(t, sceneConfig{n: 200, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 15, centre: [3]float64{2, 0, 0.5}, seed: 3})
	up := [3]float64{0, -1, 0}
	tests := []struct {
		name   string
		a, b   *Features
		m      []Pair
		fa, fb float64
		up     [3]float64
	}{
		{"zero focal", s.a, s.b, s.pairs, 0, 1000, up},
		{"NaN focal", s.a, s.b, s.pairs, 1000, math.NaN(), up},
		{"infinite focal", s.a, s.b, s.pairs, math.Inf(1), 1000, up},
		{"zero up", s.a, s.b, s.pairs, 1000, 1000, [3]float64{}},
		{"NaN up", s.a, s.b, s.pairs, 1000, 1000, [3]float64{0, math.NaN(), 0}},
		{"three pairs", s.a, s.b, s.pairs[:3], 1000, 1000, up},
		{"nil features", s.a, nil, s.pairs, 1000, 1000, up},
		{"not planar", deep.a, deep.b, deep.pairs, deep.f, deep.f, up},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			R, tr, n, ok := PlanarPose(tt.a, tt.b, tt.m, tt.fa, tt.fb, tt.up)
			if ok || R != ([9]float64{}) || tr != ([3]float64{}) || n != ([3]float64{}) {
				t.Errorf("PlanarPose = %v, %v, %v, %v; want zeros and false", R, tr, n, ok)
			}
		})
	}
}

// TestComparePlanarFallback renders a textured plane seen by camera a and
// warps it into camera b by the homography of a known motion: Compare
// must fall back to the plane and recover the rotation.
func TestComparePlanarFallback(t *testing.T) {
	const w, h, f = 1024, 768, 900.0
	// A floor seen from above: its normal toward camera a is up in the
	// image and toward the camera, it lies 1 unit away along it.
	up := [3]float64{0, -math.Sqrt(0.5), -math.Sqrt(0.5)}
	N := [3]float64{-up[0], -up[1], -up[2]}
	R := rotation([3]float64{0.1, 1, 0.3}, 8)
	c := [3]float64{0.12, 0.01, 0.02} // centre of camera b in camera a's frame, units of d
	rc := mulVec3(&R, c)
	T := [3]float64{-rc[0], -rc[1], -rc[2]}
	var hn [9]float64
	for i := range 3 {
		for j := range 3 {
			hn[3*i+j] = R[3*i+j] + T[i]*N[j]
		}
	}
	K := intrinsics(f, w, h)
	ki := invert3(K)
	m := mul3(&K, &hn)
	H := mul3(&m, &ki)
	img := renderTexture(w, h, 11)
	fa, fb := Detect(img, nil), Detect(warp(img, w, h, H), nil)
	r := Compare(fa, fb, f, f)
	t.Logf("%s, from plane %v", describeResult(r), r.PoseFromPlane)
	if !r.Verified || !r.PoseOK || !r.PoseFromPlane {
		t.Fatalf("Compare: verified %v, pose %v, from plane %v; want all true", r.Verified, r.PoseOK, r.PoseFromPlane)
	}
	if e := rotationError(r.R, R); e > 1 {
		t.Errorf("rotation error %.3f°, want at most 1°", e)
	}
	if e := angleBetween(r.T, T); e > 5 {
		t.Errorf("translation direction error %.2f°, want at most 5°", e)
	}
}

// giveDescriptors gives keypoint i of both images of s the same random
// descriptor, far from all others, so that Match pairs them as s.pairs
// does.
func giveDescriptors(s *scene, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 17))
	s.a.Desc = make([][4]uint64, len(s.a.Keypoints))
	for i := range s.a.Desc {
		s.a.Desc[i] = [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
	}
	s.b.Desc = append([][4]uint64(nil), s.a.Desc...)
}

// TestCompareWithPose checks which pose CompareWith reports: the
// essential matrix's where RelativePose finds one, the plane's where it
// does not.
func TestCompareWithPose(t *testing.T) {
	t.Run("scene with depth", func(t *testing.T) {
		s := makeScene(t, sceneConfig{n: 300, outliers: 0.2, noise: 0.5, axis: [3]float64{0.1, 1, 0}, deg: 10, centre: [3]float64{1.5, 0, 0.3}, seed: 15})
		giveDescriptors(&s, 1)
		r := Compare(s.a, s.b, s.f, s.f)
		R, tr, ok := RelativePose(s.a, s.b, r.Inliers, s.f, s.f)
		if !ok || !r.PoseOK || r.PoseFromPlane || r.R != R || r.T != tr {
			t.Errorf("Compare: pose %v, from plane %v, R %v, T %v; want RelativePose's %v, %v, %v",
				r.PoseOK, r.PoseFromPlane, r.R, r.T, ok, R, tr)
		}
	})
	t.Run("plane", func(t *testing.T) {
		s := makePlanarScene(t, planarConfig{elevA: 30, elevB: 33, azA: 80, dAz: 15, rollA: 1, rollB: -2, f: 1000, n: 300, outliers: 0.2, noise: 0.5, seed: 4})
		giveDescriptors(&s.scene, 2)
		r := Compare(s.a, s.b, s.f, s.f)
		if _, _, ok := RelativePose(s.a, s.b, r.Inliers, s.f, s.f); ok {
			t.Fatal("RelativePose found a pose for a plane")
		}
		if !r.PoseOK || !r.PoseFromPlane {
			t.Fatalf("Compare: pose %v, from plane %v; want both", r.PoseOK, r.PoseFromPlane)
		}
		if e := rotationError(r.R, s.R); e > 1 {
			t.Errorf("rotation error %.3f°, want at most 1°", e)
		}
		if e := angleBetween(r.T, s.t); e > 5 {
			t.Errorf("translation direction error %.2f°, want at most 5°", e)
		}
	})
	t.Run("bad focal", func(t *testing.T) {
		s := makePlanarScene(t, planarConfig{elevA: 30, elevB: 33, azA: 80, dAz: 15, f: 1000, n: 300, outliers: 0.2, noise: 0.5, seed: 4})
		giveDescriptors(&s.scene, 2)
		if r := Compare(s.a, s.b, 0, s.f); !r.Verified || r.PoseOK || r.PoseFromPlane {
			t.Errorf("Compare with focal 0: verified %v, pose %v, from plane %v; want true, false, false", r.Verified, r.PoseOK, r.PoseFromPlane)
		}
	})
}
