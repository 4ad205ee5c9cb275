package geom

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

// randomPoints returns n points uniform in the cube [0,1)³.
func randomPoints(rng *rand.Rand, n int) []Vec {
	ps := make([]Vec, n)
	for i := range ps {
		ps[i] = Vec{X: rng.Float64(), Y: rng.Float64(), Z: rng.Float64()}
	}
	return ps
}

// bruteKNearest returns the indices of the k finite points nearest to q,
// ordered by distance then index as KNearest promises.
func bruteKNearest(ps []Vec, q Vec, k int) []int {
	type item struct {
		d2 float64
		i  int
	}
	var all []item
	for i, p := range ps {
		if finite(p) {
			all = append(all, item{r3.Norm2(r3.Sub(p, q)), i})
		}
	}
	slices.SortFunc(all, func(a, b item) int { return cmp.Or(cmp.Compare(a.d2, b.d2), cmp.Compare(a.i, b.i)) })
	idx := make([]int, min(k, len(all)))
	for j := range idx {
		idx[j] = all[j].i
	}
	return idx
}

// bruteRadius returns the indices of the finite points within r of q, sorted.
func bruteRadius(ps []Vec, q Vec, r float64) []int {
	var in []int
	for i, p := range ps {
		if finite(p) && r3.Norm2(r3.Sub(p, q)) <= r*r {
			in = append(in, i)
		}
	}
	return in
}

// kdClouds returns the point sets the k-d tree tests run on: random points,
// random points each repeated many times (ties everywhere), random points
// with non-finite ones mixed in, and points on a grid (ties on split
// planes).
func kdClouds() []struct {
	name string
	ps   []Vec
} {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 5000
	random := randomPoints(rng, n)
	distinct := randomPoints(rng, 200)
	dups := make([]Vec, n)
	for i := range dups {
		dups[i] = distinct[rng.IntN(len(distinct))]
	}
	nan := randomPoints(rng, n)
	bad := []float64{math.NaN(), math.Inf(1), math.Inf(-1)}
	for i := range nan {
		if rng.IntN(10) == 0 {
			switch rng.IntN(3) {
			case 0:
				nan[i].X = bad[rng.IntN(3)]
			case 1:
				nan[i].Y = bad[rng.IntN(3)]
			default:
				nan[i].Z = bad[rng.IntN(3)]
			}
		}
	}
	var grid []Vec
	for i := range 17 * 17 * 17 {
		grid = append(grid, Vec{X: float64(i % 17), Y: float64(i / 17 % 17), Z: float64(i / 289)})
	}
	rng.Shuffle(len(grid), func(i, j int) { grid[i], grid[j] = grid[j], grid[i] })
	return []struct {
		name string
		ps   []Vec
	}{
		{"random", random},
		{"duplicates", dups},
		{"non-finite", nan},
		{"grid", grid},
	}
}

// kdQueries returns query points for ps: random ones in and around its
// bounds, and some of its own points.
func kdQueries(rng *rand.Rand, ps []Vec, n int) []Vec {
	b := bounds(slices.DeleteFunc(slices.Clone(ps), func(p Vec) bool { return !finite(p) }))
	s := b.Size()
	qs := make([]Vec, n)
	for i := range qs {
		if i%4 == 0 {
			qs[i] = ps[rng.IntN(len(ps))]
			if finite(qs[i]) {
				continue
			}
		}
		qs[i] = Vec{
			X: b.Min.X + (1.4*rng.Float64()-0.2)*s.X,
			Y: b.Min.Y + (1.4*rng.Float64()-0.2)*s.Y,
			Z: b.Min.Z + (1.4*rng.Float64()-0.2)*s.Z,
		}
	}
	return qs
}

func TestKDTreeAgainstBruteForce(t *testing.T) {
	for _, c := range kdClouds() {
		t.Run(c.name, func(t *testing.T) {
			orig := slices.Clone(c.ps)
			tree := NewKDTree(c.ps)
			if !slices.EqualFunc(c.ps, orig, func(a, b Vec) bool { return a == b || !finite(a) && !finite(b) }) {
				t.Fatal("NewKDTree changed its input")
			}
			if got, want := tree.Len(), len(bruteKNearest(c.ps, Vec{}, len(c.ps))); got != want {
				t.Errorf("Len() = %d, want %d", got, want)
			}
			rng := rand.New(rand.NewPCG(2, 2))
			var got []int
			for _, q := range kdQueries(rng, c.ps, 150) {
				all := bruteKNearest(c.ps, q, len(c.ps))
				for _, k := range []int{1, 2, 8, 16, 100} {
					got = tree.KNearest(q, k, got)
					if want := all[:min(k, len(all))]; !slices.Equal(got, want) {
						t.Fatalf("KNearest(%v, %d) = %v, want %v", q, k, got, want)
					}
				}
				want := all[0]
				wantD := math.Sqrt(r3.Norm2(r3.Sub(c.ps[want], q)))
				if i, d := tree.Nearest(q); i != want || d != wantD {
					t.Fatalf("Nearest(%v) = %d, %g, want %d, %g", q, i, d, want, wantD)
				}
				// Radii around the distance to the 10th nearest point, and
				// exactly that distance: the point on the sphere is in.
				r10 := math.Sqrt(r3.Norm2(r3.Sub(c.ps[all[9]], q)))
				for _, r := range []float64{0, r10 / 2, r10, 2 * r10} {
					got = tree.Radius(q, r, got)
					slices.Sort(got)
					if want := bruteRadius(c.ps, q, r); !slices.Equal(got, want) {
						t.Fatalf("Radius(%v, %g) = %v, want %v", q, r, got, want)
					}
				}
			}
		})
	}
}

func TestKDTreeEdgeCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ps := randomPoints(rng, 40)
	tree := NewKDTree(ps)
	q := Vec{X: 0.5, Y: 0.5, Z: 0.5}

	t.Run("k larger than n", func(t *testing.T) {
		got := tree.KNearest(q, 1000, nil)
		if want := bruteKNearest(ps, q, 1000); len(want) != len(ps) || !slices.Equal(got, want) {
			t.Errorf("KNearest(q, 1000) = %v, want %v", got, want)
		}
	})
	t.Run("k not positive", func(t *testing.T) {
		for _, k := range []int{0, -1} {
			if got := tree.KNearest(q, k, []int{7}); len(got) != 0 {
				t.Errorf("KNearest(q, %d) = %v, want none", k, got)
			}
		}
	})
	t.Run("dst reused", func(t *testing.T) {
		dst := make([]int, 5, 64)
		got := tree.KNearest(q, 3, dst)
		if len(got) != 3 || &got[0] != &dst[0] {
			t.Errorf("KNearest(q, 3, dst) = %v, want 3 indices in dst's array", got)
		}
		got = tree.Radius(q, 0.3, dst)
		if len(got) == 0 || &got[0] != &dst[0] {
			t.Errorf("Radius(q, 0.3, dst) = %v, want indices in dst's array", got)
		}
	})
	t.Run("bad query", func(t *testing.T) {
		for _, q := range []Vec{{X: math.NaN()}, {Y: math.Inf(1)}} {
			if got := tree.KNearest(q, 3, nil); len(got) != 0 {
				t.Errorf("KNearest(%v, 3) = %v, want none", q, got)
			}
			if i, d := tree.Nearest(q); i != -1 || !math.IsInf(d, 1) {
				t.Errorf("Nearest(%v) = %d, %g, want -1, +Inf", q, i, d)
			}
			if got := tree.Radius(q, 1, nil); len(got) != 0 {
				t.Errorf("Radius(%v, 1) = %v, want none", q, got)
			}
		}
		for _, r := range []float64{-1, math.NaN()} {
			if got := tree.Radius(q, r, nil); len(got) != 0 {
				t.Errorf("Radius(q, %g) = %v, want none", r, got)
			}
		}
		if got := tree.Radius(q, math.Inf(1), nil); len(got) != len(ps) {
			t.Errorf("Radius(q, +Inf) = %d points, want %d", len(got), len(ps))
		}
	})
	for _, c := range []struct {
		name string
		ps   []Vec
	}{
		{"nil", nil},
		{"empty", []Vec{}},
		{"only non-finite", []Vec{{X: math.NaN()}, {Z: math.Inf(-1)}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tree := NewKDTree(c.ps)
			if got := tree.Len(); got != 0 {
				t.Errorf("Len() = %d, want 0", got)
			}
			if got := tree.KNearest(q, 3, nil); len(got) != 0 {
				t.Errorf("KNearest(q, 3) = %v, want none", got)
			}
			if i, d := tree.Nearest(q); i != -1 || !math.IsInf(d, 1) {
				t.Errorf("Nearest(q) = %d, %g, want -1, +Inf", i, d)
			}
			if got := tree.Radius(q, math.Inf(1), nil); len(got) != 0 {
				t.Errorf("Radius(q, +Inf) = %v, want none", got)
			}
		})
	}
	t.Run("one point", func(t *testing.T) {
		p := Vec{X: 1, Y: 2, Z: 3}
		tree := NewKDTree([]Vec{{X: math.NaN()}, p})
		if i, d := tree.Nearest(Vec{X: 1, Y: 2}); i != 1 || d != 3 {
			t.Errorf("Nearest = %d, %g, want 1, 3", i, d)
		}
		if got := tree.KNearest(Vec{}, 5, nil); !slices.Equal(got, []int{1}) {
			t.Errorf("KNearest(0, 5) = %v, want [1]", got)
		}
	})
	t.Run("all equal", func(t *testing.T) {
		ps := slices.Repeat([]Vec{{X: 1, Y: 1, Z: 1}}, 10000)
		tree := NewKDTree(ps)
		if got, want := tree.KNearest(Vec{}, 5, nil), []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
			t.Errorf("KNearest(0, 5) = %v, want %v", got, want)
		}
		if got := tree.Radius(Vec{X: 1, Y: 1, Z: 1}, 0, nil); len(got) != len(ps) {
			t.Errorf("Radius(p, 0) = %d points, want %d", len(got), len(ps))
		}
	})
}

func TestKDTreeAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	ps := randomPoints(rng, 5000)
	tree := NewKDTree(ps)
	q := Vec{X: 0.3, Y: 0.6, Z: 0.2}
	dst := make([]int, 0, 1000)
	tests := []struct {
		name string
		f    func()
	}{
		{"KNearest", func() { dst = tree.KNearest(q, 16, dst) }},
		{"Nearest", func() { tree.Nearest(q) }},
		{"Radius", func() { dst = tree.Radius(q, 0.1, dst) }},
	}
	for _, tt := range tests {
		// The race detector's sync.Pool drops a quarter of what is put
		// back, so KNearest may allocate then; AllocsPerRun rounds down.
		if got := testing.AllocsPerRun(100, tt.f); got != 0 {
			t.Errorf("%s: %g allocations per call, want 0", tt.name, got)
		}
	}
}

func TestKDTreeConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ps := randomPoints(rng, 5000)
	tree := NewKDTree(ps)
	qs := kdQueries(rng, ps, 200)
	want := make([][]int, len(qs))
	for i, q := range qs {
		want[i] = tree.KNearest(q, 12, nil)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			var got []int
			for n := range 5 * len(qs) {
				i := (n + g*31) % len(qs)
				got = tree.KNearest(qs[i], 12, got)
				if !slices.Equal(got, want[i]) {
					errs <- fmt.Errorf("goroutine %d: KNearest(%v, 12) = %v, want %v", g, qs[i], got, want[i])
					return
				}
				if j, _ := tree.Nearest(qs[i]); j != want[i][0] {
					errs <- fmt.Errorf("goroutine %d: Nearest(%v) = %d, want %d", g, qs[i], j, want[i][0])
					return
				}
				got = tree.Radius(qs[i], 0.05, got)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// surface returns n points sampled at random, in random order, on the
// height field z = 0.1·sin(3x)·cos(3y) over the unit square, displaced
// along z by uniform noise of the given amplitude.
func surface(rng *rand.Rand, n int, noise float64) []Vec {
	ps := make([]Vec, n)
	for i := range ps {
		x, y := rng.Float64(), rng.Float64()
		ps[i] = Vec{X: x, Y: y, Z: 0.1*math.Sin(3*x)*math.Cos(3*y) + noise*(2*rng.Float64()-1)}
	}
	return ps
}

func BenchmarkKDTreeBuild1M(b *testing.B) {
	ps := surface(rand.New(rand.NewPCG(6, 6)), 1_000_000, 1e-3)
	b.ResetTimer()
	for b.Loop() {
		NewKDTree(ps)
	}
}

func BenchmarkKDTreeKNearest(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 7))
	ps := surface(rng, 1_000_000, 1e-3)
	tree := NewKDTree(ps)
	qs := surface(rng, 1<<12, 1e-3)
	var dst []int
	b.ResetTimer()
	i := 0
	for b.Loop() {
		dst = tree.KNearest(qs[i&(len(qs)-1)], 16, dst)
		i++
	}
}
