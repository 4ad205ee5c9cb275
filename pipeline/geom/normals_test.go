package geom

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// degrees returns the angle between unit vectors a and b in degrees.
func degrees(a, b Vec) float64 {
	return math.Acos(max(-1, min(1, r3.Dot(a, b)))) * 180 / math.Pi
}

// percentile returns the p-th percentile (0 ≤ p ≤ 100) of xs, sorting xs.
func percentile(xs []float64, p float64) float64 {
	slices.Sort(xs)
	return xs[min(len(xs)-1, int(p/100*float64(len(xs))))]
}

// mustNormals calls EstimateNormals and fails tb on error or on a result of
// the wrong length.
func mustNormals(tb testing.TB, ps []Vec, k int, towards func(int) Vec) []Vec {
	tb.Helper()
	ns, err := EstimateNormals(context.Background(), ps, k, towards)
	if err != nil {
		tb.Fatalf("EstimateNormals() = %v", err)
	}
	if len(ns) != len(ps) {
		tb.Fatalf("EstimateNormals() = %d normals for %d points", len(ns), len(ps))
	}
	return ns
}

// noisyPlane returns n points in the unit square of the plane through the
// origin with unit normal nrm (not perpendicular to z), displaced along nrm
// by uniform noise of the given amplitude.
func noisyPlane(rng *rand.Rand, n int, nrm Vec, noise float64) []Vec {
	ps := make([]Vec, n)
	for i := range ps {
		x, y := rng.Float64(), rng.Float64()
		p := Vec{X: x, Y: y, Z: -(nrm.X*x + nrm.Y*y) / nrm.Z}
		ps[i] = r3.Add(p, r3.Scale(noise*(2*rng.Float64()-1), nrm))
	}
	return ps
}

// noisySphere returns n points uniform on the sphere of radius r about c,
// displaced radially by uniform noise of the given amplitude.
func noisySphere(rng *rand.Rand, n int, c Vec, r, noise float64) []Vec {
	ps := make([]Vec, n)
	for i := range ps {
		d := r3.Unit(Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()})
		ps[i] = r3.Add(c, r3.Scale(r+noise*(2*rng.Float64()-1), d))
	}
	return ps
}

func TestEstimateNormalsPlane(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 10))
	nrm := r3.Unit(Vec{X: -0.3, Y: -0.2, Z: 1})
	// 20000 points: a 16-neighbourhood has radius ~0.016; noise ±0.0005
	// is 3% of it.
	ps := noisyPlane(rng, 20000, nrm, 5e-4)
	camera := Vec{X: 0.5, Y: 0.5, Z: 3}
	tests := []struct {
		name    string
		towards func(int) Vec
	}{
		{"towards camera", func(i int) Vec { return r3.Sub(camera, ps[i]) }},
		{"spanning tree", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := mustNormals(t, ps, 16, tt.towards)
			errs := make([]float64, len(ns))
			for i, n := range ns {
				if l := r3.Norm(n); math.Abs(l-1) > 1e-12 {
					t.Fatalf("normal %d = %v, length %g, want 1", i, n, l)
				}
				// The normal facing the camera is +nrm, and so is the
				// one facing up at the highest point.
				errs[i] = degrees(n, nrm)
			}
			if p99 := percentile(errs, 99); p99 >= 3 {
				t.Errorf("99th percentile angle error %.2f°, want < 3°", p99)
			} else {
				t.Logf("angle error: median %.2f°, 99th percentile %.2f°, max %.2f°", percentile(errs, 50), p99, errs[len(errs)-1])
			}
			if errs[len(errs)-1] >= 90 {
				t.Errorf("%d normals face away from +nrm", len(errs)-slices.IndexFunc(errs, func(e float64) bool { return e >= 90 }))
			}
		})
	}
}

func TestEstimateNormalsSphere(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	c := Vec{X: 100, Y: -50, Z: 20} // off the origin, to exercise the centring
	ps := noisySphere(rng, 20000, c, 1, 1e-3)
	tests := []struct {
		name    string
		towards func(int) Vec
	}{
		// A camera outside the sphere, in the direction of the point.
		{"towards camera", func(i int) Vec { return r3.Sub(ps[i], c) }},
		// Closed surface, started at the top pointing up: all outward.
		{"spanning tree", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := mustNormals(t, ps, 12, tt.towards)
			inward := 0
			errs := make([]float64, len(ns))
			for i, n := range ns {
				out := r3.Unit(r3.Sub(ps[i], c))
				if r3.Dot(n, out) <= 0 {
					inward++
				}
				errs[i] = degrees(n, out)
			}
			if inward > 0 {
				t.Errorf("%d of %d normals point inward, want all outward", inward, len(ns))
			}
			if p99 := percentile(errs, 99); p99 >= 5 {
				t.Errorf("99th percentile angle error %.2f°, want < 5°", p99)
			}
		})
	}
}

func TestEstimateNormalsComponents(t *testing.T) {
	// Two spheres far apart: no k-nearest edge joins them, so each is
	// oriented from its own top, outward.
	rng := rand.New(rand.NewPCG(12, 12))
	centres := []Vec{{}, {X: 10, Z: -5}}
	a := noisySphere(rng, 3000, centres[0], 1, 0)
	b := noisySphere(rng, 2000, centres[1], 0.5, 0)
	ps := slices.Concat(a, b)
	ns := mustNormals(t, ps, 12, nil)
	for i, n := range ns {
		c := centres[0]
		if i >= len(a) {
			c = centres[1]
		}
		if r3.Dot(n, r3.Sub(ps[i], c)) <= 0 {
			t.Errorf("normal %d = %v points into its sphere about %v", i, n, c)
		}
	}
}

func TestEstimateNormalsDegenerate(t *testing.T) {
	square := []Vec{{}, {X: 1}, {Y: 1}, {X: 1, Y: 1}}
	var line []Vec
	for i := range 50 {
		line = append(line, Vec{X: float64(i), Y: 2 * float64(i), Z: -float64(i)})
	}
	nan := Vec{X: math.NaN()}
	up := func(int) Vec { return Vec{Z: 1} }
	tests := []struct {
		name string
		ps   []Vec
		k    int
		want []Vec
	}{
		{"empty", nil, 16, []Vec{}},
		{"two points", []Vec{{}, {X: 1}}, 16, []Vec{{}, {}}},
		{"coincident", slices.Repeat([]Vec{{X: 1, Y: 2, Z: 3}}, 40), 16, make([]Vec, 40)},
		{"two positions", slices.Concat(slices.Repeat([]Vec{{}}, 20), slices.Repeat([]Vec{{Z: 1}}, 20)), 16, make([]Vec, 40)},
		{"collinear", line, 16, make([]Vec, len(line))},
		// k = 1 counts as 3: each corner and its two nearest.
		{"k below 3", square, 1, slices.Repeat([]Vec{{Z: 1}}, 4)},
		{"non-finite", append(slices.Clone(square), nan, Vec{Y: math.Inf(1)}), 16, append(slices.Repeat([]Vec{{Z: 1}}, 4), Vec{}, Vec{})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, towards := range []func(int) Vec{up, nil} {
				got := mustNormals(t, tt.ps, tt.k, towards)
				if !slices.Equal(got, tt.want) {
					t.Errorf("EstimateNormals(k=%d, towards nil %t) = %v, want %v", tt.k, towards == nil, got, tt.want)
				}
			}
		})
	}
}

func TestEstimateNormalsCancel(t *testing.T) {
	ps := noisyPlane(rand.New(rand.NewPCG(13, 13)), 50000, Vec{Z: 1}, 1e-3)
	t.Run("before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, towards := range []func(int) Vec{nil, func(int) Vec { return Vec{Z: 1} }} {
			if ns, err := EstimateNormals(ctx, ps, 16, towards); !errors.Is(err, context.Canceled) || ns != nil {
				t.Errorf("EstimateNormals(cancelled) = %d normals, %v; want nil, %v", len(ns), err, context.Canceled)
			}
		}
	})
	t.Run("during", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var calls atomic.Int64
		towards := func(int) Vec {
			if calls.Add(1) == 100 {
				cancel()
			}
			return Vec{Z: 1}
		}
		ns, err := EstimateNormals(ctx, ps, 16, towards)
		if !errors.Is(err, context.Canceled) || ns != nil {
			t.Errorf("EstimateNormals(cancelled) = %d normals, %v; want nil, %v", len(ns), err, context.Canceled)
		}
		// Each worker finishes the chunk it is in.
		if n := calls.Load(); n >= int64(len(ps))/2 {
			t.Errorf("towards called %d times for %d points after cancel at 100", n, len(ps))
		}
	})
}

func TestSymEigen3(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	tests := []struct {
		name string
		a    [3][3]float64
	}{
		{"zero", [3][3]float64{}},
		{"diagonal", [3][3]float64{{3, 0, 0}, {0, 1, 0}, {0, 0, 2}}},
		{"double", [3][3]float64{{2, 1, 0}, {1, 2, 0}, {0, 0, 1}}}, // eigenvalues 1, 1, 3
		{"rank one", [3][3]float64{{1, 2, 3}, {2, 4, 6}, {3, 6, 9}}},
		{"thin", [3][3]float64{{1, 0, 0}, {0, 1, 1e-9}, {0, 1e-9, 1e-12}}},
	}
	for i := range 200 {
		// Random covariances, some nearly flat.
		var a [3][3]float64
		for range 5 {
			v := Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64() * math.Pow(10, -float64(i%8))}
			a[0][0] += v.X * v.X
			a[0][1] += v.X * v.Y
			a[0][2] += v.X * v.Z
			a[1][1] += v.Y * v.Y
			a[1][2] += v.Y * v.Z
			a[2][2] += v.Z * v.Z
		}
		a[1][0], a[2][0], a[2][1] = a[0][1], a[0][2], a[1][2]
		tests = append(tests, struct {
			name string
			a    [3][3]float64
		}{"random", a})
	}
	for _, tt := range tests {
		w, v := SymEigen3(tt.a)
		if !(w[0] <= w[1] && w[1] <= w[2]) {
			t.Errorf("%s: SymEigen3(%v) eigenvalues %v, want increasing", tt.name, tt.a, w)
		}
		norm := math.Abs(tt.a[0][0]) + math.Abs(tt.a[1][1]) + math.Abs(tt.a[2][2]) + 1e-300
		for j := range 3 {
			for k := range 3 {
				want := 0.0
				if j == k {
					want = 1
				}
				if got := r3.Dot(v[j], v[k]); math.Abs(got-want) > 1e-14 {
					t.Errorf("%s: SymEigen3(%v): v%d·v%d = %g, want %g", tt.name, tt.a, j, k, got, want)
				}
			}
			// A v = λ v, to rounding relative to the matrix's norm.
			x := v[j]
			av := Vec{
				X: tt.a[0][0]*x.X + tt.a[0][1]*x.Y + tt.a[0][2]*x.Z,
				Y: tt.a[1][0]*x.X + tt.a[1][1]*x.Y + tt.a[1][2]*x.Z,
				Z: tt.a[2][0]*x.X + tt.a[2][1]*x.Y + tt.a[2][2]*x.Z,
			}
			if res := r3.Norm(r3.Sub(av, r3.Scale(w[j], x))); res > 1e-14*norm {
				t.Errorf("%s: SymEigen3(%v): |Av%d - λv%d| = %g, want ≤ %g", tt.name, tt.a, j, j, res, 1e-14*norm)
			}
		}
	}
}

// BenchmarkEstimateNormals1M estimates normals for a million points sampled
// in random order on a noisy height field (see surface), k = 16, oriented
// towards a camera above it or along the spanning tree.
func BenchmarkEstimateNormals1M(b *testing.B) {
	ps := surface(rand.New(rand.NewPCG(15, 15)), 1_000_000, 1e-3)
	camera := Vec{X: 0.5, Y: 0.5, Z: 2}
	tests := []struct {
		name    string
		towards func(int) Vec
	}{
		{"towards", func(i int) Vec { return r3.Sub(camera, ps[i]) }},
		{"mst", nil},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				mustNormals(b, ps, 16, tt.towards)
			}
		})
	}
}
