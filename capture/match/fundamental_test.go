package match

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// motions are camera motions of the synthetic tests: a rotation and the
// centre of camera b in camera a's frame (the scene is 4 to 8 units away).
var motions = []struct {
	name   string
	axis   [3]float64
	deg    float64
	centre [3]float64
}{
	{"sideways", [3]float64{0, 1, 0}, -8, [3]float64{1, 0, 0}},
	{"forward", [3]float64{1, 0, 0}, 4, [3]float64{0.2, 0.1, 1}},
	{"oblique", [3]float64{0.3, 1, 0.2}, 15, [3]float64{-1.5, 0.3, 0.5}},
	{"upward and rolled", [3]float64{0, 0, 1}, 25, [3]float64{0, -0.8, 0.2}},
	{"short baseline", [3]float64{0, 1, 0}, 3, [3]float64{0.25, 0, 0}},
}

func TestVerifyFundamentalSynthetic(t *testing.T) {
	for i, mo := range motions {
		t.Run(mo.name, func(t *testing.T) {
			s := makeScene(t, sceneConfig{n: 300, outliers: 0.3, noise: 0.5, axis: mo.axis, deg: mo.deg, centre: mo.centre, seed: uint64(i)})
			F, in, ok := VerifyFundamental(s.a, s.b, s.pairs, nil)
			if !ok {
				t.Fatal("VerifyFundamental failed")
			}
			truth := 0
			for _, o := range s.outlier {
				if !o {
					truth++
				}
			}
			right := 0
			for _, p := range in {
				if !s.outlier[p.A] {
					right++
				}
			}
			precision, recall := float64(right)/float64(len(in)), float64(right)/float64(truth)
			// Epipolar distances of the noise-free true correspondences.
			var d []float64
			for k, c := range s.clean {
				if !s.outlier[k] {
					d = append(d, epipolarDistance(&F, c[0], c[1], c[2], c[3]))
				}
			}
			sort.Float64s(d)
			mean := 0.0
			for _, v := range d {
				mean += v / float64(len(d))
			}
			p95 := d[len(d)*95/100]
			t.Logf("%d inliers: precision %.3f, recall %.3f; epipolar distance mean %.3f px, 95%% %.3f px",
				len(in), precision, recall, mean, p95)
			if precision < 0.97 || recall < 0.9 {
				t.Errorf("precision %.3f, recall %.3f; want 0.97 and 0.9", precision, recall)
			}
			if mean > 0.6 || p95 > 1.5 {
				t.Errorf("epipolar distance of true correspondences: mean %.3f px, 95th percentile %.3f px; want 0.6 and 1.5", mean, p95)
			}
			if det := det3(&F); math.Abs(det) > 1e-9 {
				t.Errorf("det F = %g, want 0 (rank 2)", det)
			}
			if n := frobenius(F[:]); math.Abs(n-1) > 1e-9 {
				t.Errorf("|F| = %g, want 1", n)
			}
			if !slices.IsSortedFunc(in, func(p, q Pair) int { return p.A - q.A }) {
				t.Error("inliers not in the order of the pairs")
			}
			F2, in2, _ := VerifyFundamental(s.a, s.b, s.pairs, nil)
			if F2 != F || !reflect.DeepEqual(in2, in) {
				t.Error("VerifyFundamental is not deterministic")
			}
		})
	}
}

func TestVerifyFundamentalSeedsAgree(t *testing.T) {
	s := makeScene(t, sceneConfig{n: 300, outliers: 0.4, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 10, centre: [3]float64{1, 0, 0}, seed: 9})
	var counts []int
	for seed := range uint64(5) {
		_, in, ok := VerifyFundamental(s.a, s.b, s.pairs, &RansacOptions{Seed: seed})
		if !ok {
			t.Fatalf("seed %d: VerifyFundamental failed", seed)
		}
		counts = append(counts, len(in))
	}
	if lo, hi := slices.Min(counts), slices.Max(counts); hi-lo > hi/20 {
		t.Errorf("inlier counts over seeds %v vary by more than 5%%", counts)
	}
}

func TestVerifyFundamentalDegenerate(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	good := makeScene(t, sceneConfig{n: 100, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 5, centre: [3]float64{1, 0, 0}, seed: 5})
	seven := makeScene(t, sceneConfig{n: 7, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 5, centre: [3]float64{1, 0, 0}, seed: 6})

	// Points on a 3D line project onto a line in each image, related by a
	// 1D projective map.
	line := func(noise float64) (a, b *Features, m []Pair) {
		a, b = &Features{Width: 1024, Height: 768}, &Features{Width: 1024, Height: 768}
		for i := range 60 {
			s := rng.Float64()
			xa, ya := 100+800*s, 200+300*s
			xb := 80 + 700*s/(1+0.3*s)
			yb := 600 - 400*s/(1+0.3*s)
			a.Keypoints = append(a.Keypoints, Keypoint{X: xa + noise*rng.NormFloat64(), Y: ya + noise*rng.NormFloat64()})
			b.Keypoints = append(b.Keypoints, Keypoint{X: xb + noise*rng.NormFloat64(), Y: yb + noise*rng.NormFloat64()})
			m = append(m, Pair{A: i, B: i})
		}
		return a, b, m
	}
	same := func(spreadB bool) (a, b *Features, m []Pair) {
		a, b = &Features{Width: 1024, Height: 768}, &Features{Width: 1024, Height: 768}
		for i := range 50 {
			a.Keypoints = append(a.Keypoints, Keypoint{X: 300, Y: 200})
			kb := Keypoint{X: 500, Y: 400}
			if spreadB {
				kb = Keypoint{X: rng.Float64() * 1023, Y: rng.Float64() * 767}
			}
			b.Keypoints = append(b.Keypoints, kb)
			m = append(m, Pair{A: i, B: i})
		}
		return a, b, m
	}
	random := func() (a, b *Features, m []Pair) {
		a, b = &Features{Width: 1024, Height: 768}, &Features{Width: 1024, Height: 768}
		for i := range 200 {
			a.Keypoints = append(a.Keypoints, Keypoint{X: rng.Float64() * 1023, Y: rng.Float64() * 767})
			b.Keypoints = append(b.Keypoints, Keypoint{X: rng.Float64() * 1023, Y: rng.Float64() * 767})
			m = append(m, Pair{A: i, B: i})
		}
		return a, b, m
	}

	type input struct {
		a, b *Features
		m    []Pair
	}
	in := func(a, b *Features, m []Pair) input { return input{a, b, m} }
	tests := []struct {
		name string
		in   input
	}{
		{"no pairs", in(good.a, good.b, nil)},
		{"seven pairs", in(seven.a, seven.b, seven.pairs)},
		{"nil features", in(nil, nil, good.pairs)},
		{"nil second features", in(good.a, nil, good.pairs)},
		{"collinear", in(line(0))},
		{"collinear with noise", in(line(0.3))},
		{"one point", in(same(false))},
		{"one point in one image", in(same(true))},
		{"random pairs", in(random())},
		{"pairs out of range", in(good.a, good.b, []Pair{{A: -1, B: 0}, {A: 0, B: 1000}, {A: 1000, B: 1000}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			F, inl, ok := VerifyFundamental(tt.in.a, tt.in.b, tt.in.m, nil)
			if ok || inl != nil || F != ([9]float64{}) {
				t.Errorf("VerifyFundamental = %v, %d inliers, %v; want zero, none, false", F, len(inl), ok)
			}
		})
	}
}

func TestVerifyFundamentalIgnoresBadPairs(t *testing.T) {
	s := makeScene(t, sceneConfig{n: 100, noise: 0.5, axis: [3]float64{0, 1, 0}, deg: 5, centre: [3]float64{1, 0, 0}, seed: 7})
	// Pairs out of range and keypoints with NaN or infinite coordinates.
	s.a.Keypoints = append(s.a.Keypoints, Keypoint{X: math.NaN(), Y: 3}, Keypoint{X: 4, Y: math.Inf(1)})
	s.b.Keypoints = append(s.b.Keypoints, Keypoint{X: 1, Y: 2}, Keypoint{X: 1, Y: 2})
	m := append(slices.Clone(s.pairs), Pair{A: 100, B: 100}, Pair{A: 101, B: 101}, Pair{A: 5, B: -1}, Pair{A: 500, B: 1})
	_, in, ok := VerifyFundamental(s.a, s.b, m, nil)
	if !ok || len(in) < 90 {
		t.Fatalf("VerifyFundamental = %d inliers, %v; want about 100, true", len(in), ok)
	}
	for _, p := range in {
		if p.A >= 100 || p.B < 0 || p.B >= 100 {
			t.Errorf("bad pair %+v among the inliers", p)
		}
	}
}

func TestVerifyFundamentalOptions(t *testing.T) {
	s := makeScene(t, sceneConfig{n: 200, outliers: 0.2, noise: 1, axis: [3]float64{0, 1, 0}, deg: 5, centre: [3]float64{1, 0, 0}, seed: 8})
	_, tight, _ := VerifyFundamental(s.a, s.b, s.pairs, &RansacOptions{Threshold: 0.5})
	_, loose, _ := VerifyFundamental(s.a, s.b, s.pairs, &RansacOptions{Threshold: 3})
	if len(tight) >= len(loose) {
		t.Errorf("%d inliers at 0.5 px, %d at 3 px; want fewer at 0.5 px", len(tight), len(loose))
	}
	if _, _, ok := VerifyFundamental(s.a, s.b, s.pairs, &RansacOptions{MinInliers: 1000}); ok {
		t.Error("ok with MinInliers above the number of pairs")
	}
	// Nonsense options fall back to the defaults.
	_, def, _ := VerifyFundamental(s.a, s.b, s.pairs, nil)
	_, odd, ok := VerifyFundamental(s.a, s.b, s.pairs, &RansacOptions{Threshold: math.NaN(), Confidence: 2, MaxIterations: -1, MinInliers: -3})
	if !ok || len(odd) != len(def) {
		t.Errorf("odd options: %d inliers, %v; defaults: %d", len(odd), ok, len(def))
	}
}

// TestIterations checks the adaptive sample count against H&Z Table 4.3
// (p = 0.99, sample size 8).
func TestIterations(t *testing.T) {
	for _, c := range []struct{ outliers, want int }{{5, 5}, {10, 9}, {20, 26}, {25, 44}, {30, 78}, {40, 272}, {50, 1177}} {
		if got := iterations(100-c.outliers, 100, 8, 0.99); got != c.want {
			t.Errorf("iterations(%d%% outliers) = %d, want %d", c.outliers, got, c.want)
		}
	}
	if got := iterations(100, 100, 8, 0.99); got != 1 {
		t.Errorf("iterations(no outliers) = %d, want 1", got)
	}
	if got := iterations(0, 100, 8, 0.99); got < math.MaxInt32 {
		t.Errorf("iterations(no inliers) = %d, want no bound", got)
	}
}

func TestSymEigenAgainstGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{3, 9} {
		for range 20 {
			a := make([]float64, n*n)
			for i := range n {
				for j := i; j < n; j++ {
					a[i*n+j] = rng.NormFloat64()
					a[j*n+i] = a[i*n+j]
				}
			}
			var es mat.EigenSym
			if !es.Factorize(mat.NewSymDense(n, slices.Clone(a)), false) {
				t.Fatal("gonum EigenSym failed")
			}
			want := es.Values(nil)
			got, v := make([]float64, n), make([]float64, n*n)
			orig := slices.Clone(a)
			symEigen(a, n, got, v)
			for i := range n {
				if math.Abs(got[i]-want[i]) > 1e-10 {
					t.Errorf("n=%d: eigenvalues %v, gonum %v", n, got, want)
					break
				}
				// A·v = λ·v for column i.
				for r := range n {
					s := 0.0
					for c := range n {
						s += orig[r*n+c] * v[c*n+i]
					}
					if math.Abs(s-got[i]*v[r*n+i]) > 1e-10 {
						t.Errorf("n=%d: column %d is not an eigenvector", n, i)
					}
				}
			}
		}
	}
}

func TestNullVector8(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	for range 100 {
		var A, orig [8][9]float64
		for i := range A {
			for j := range A[i] {
				A[i][j] = rng.NormFloat64()
			}
		}
		orig = A
		var f [9]float64
		if !nullVector8(&A, &f) {
			t.Fatal("nullVector8 failed on a random matrix")
		}
		if n := frobenius(f[:]); math.Abs(n-1) > 1e-12 {
			t.Errorf("|f| = %g", n)
		}
		for i := range orig {
			s := 0.0
			for j := range orig[i] {
				s += orig[i][j] * f[j]
			}
			if math.Abs(s) > 1e-10 {
				t.Errorf("row %d of A·f = %g", i, s)
			}
		}
	}
	// Rank 7: two equal rows.
	var A [8][9]float64
	for i := range 7 {
		for j := range A[i] {
			A[i][j] = rng.NormFloat64()
		}
	}
	A[7] = A[0]
	var f [9]float64
	if nullVector8(&A, &f) {
		t.Error("nullVector8 succeeded on a matrix of rank 7")
	}
}
