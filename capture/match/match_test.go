package match

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func randomDesc(rng *rand.Rand) [4]uint64 {
	return [4]uint64{rng.Uint64(), rng.Uint64(), rng.Uint64(), rng.Uint64()}
}

// flip returns d with n distinct random bits flipped.
func flip(rng *rand.Rand, d [4]uint64, n int) [4]uint64 {
	for _, b := range rng.Perm(256)[:n] {
		d[b/64] ^= 1 << (b % 64)
	}
	return d
}

// descFeatures wraps descriptors in Features with matching keypoints.
func descFeatures(desc [][4]uint64) *Features {
	return &Features{Width: 100, Height: 100, Keypoints: make([]Keypoint, len(desc)), Desc: desc}
}

func TestMatchRecoversPermutation(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	const n = 300
	a := make([][4]uint64, n)
	for i := range a {
		a[i] = randomDesc(rng)
	}
	// b holds every descriptor of a, with up to 30 bits flipped, in a
	// shuffled order, among 200 unrelated descriptors.
	perm := rng.Perm(n + 200)
	b := make([][4]uint64, n+200)
	flips := make([]int, n)
	for i, j := range perm {
		if i < n {
			flips[i] = rng.IntN(31)
			b[j] = flip(rng, a[i], flips[i])
		} else {
			b[j] = randomDesc(rng)
		}
	}
	got := Match(descFeatures(a), descFeatures(b), DefaultRatio)
	if len(got) != n {
		t.Fatalf("Match found %d pairs, want %d", len(got), n)
	}
	for k, p := range got {
		if p.A != k || p.B != perm[k] || p.Distance != flips[k] {
			t.Errorf("pair %d = %+v, want {A:%d B:%d Distance:%d}", k, p, k, perm[k], flips[k])
		}
	}
}

func TestMatchRatioAndCrossCheck(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	base := randomDesc(rng)
	other := randomDesc(rng)
	tests := []struct {
		name  string
		a, b  [][4]uint64
		ratio float64
		want  []Pair
	}{{
		name:  "unique",
		a:     [][4]uint64{base},
		b:     [][4]uint64{other, flip(rng, base, 10)},
		ratio: 0.8,
		want:  []Pair{{A: 0, B: 1, Distance: 10}},
	}, {
		// Two candidates at 10 and 11 bits: 10 < 0.8·11 fails.
		name:  "ambiguous",
		a:     [][4]uint64{base},
		b:     [][4]uint64{flip(rng, base, 10), flip(rng, base, 11)},
		ratio: 0.8,
		want:  nil,
	}, {
		name:  "ambiguous, ratio test off",
		a:     [][4]uint64{base},
		b:     [][4]uint64{flip(rng, base, 10), flip(rng, base, 11)},
		ratio: 1,
		want:  []Pair{{A: 0, B: 0, Distance: 10}},
	}, {
		// Both descriptors of a are nearest to b[0]; b[0] is nearest to a[1].
		name:  "cross check",
		a:     [][4]uint64{flip(rng, base, 20), flip(rng, base, 5)},
		b:     [][4]uint64{base, other},
		ratio: 0.8,
		want:  []Pair{{A: 1, B: 0, Distance: 5}},
	}, {
		name:  "default ratio",
		a:     [][4]uint64{base},
		b:     [][4]uint64{flip(rng, base, 10), flip(rng, base, 12)},
		ratio: 0,
		want:  nil, // 10 < 0.8·12 fails
	}, {
		name:  "one candidate",
		a:     [][4]uint64{base},
		b:     [][4]uint64{flip(rng, base, 100)},
		ratio: 0.8,
		want:  []Pair{{A: 0, B: 0, Distance: 100}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Match(descFeatures(tt.a), descFeatures(tt.b), tt.ratio)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Match = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMatchEmpty(t *testing.T) {
	one := descFeatures([][4]uint64{{1, 2, 3, 4}})
	for _, c := range [][2]*Features{{nil, one}, {one, nil}, {&Features{}, one}, {one, &Features{}}, {nil, nil}} {
		if got := Match(c[0], c[1], DefaultRatio); got != nil {
			t.Errorf("Match(%v, %v) = %v, want nil", c[0], c[1], got)
		}
	}
}

func TestMatchImages(t *testing.T) {
	img := renderTexture(640, 480, 21)
	H := similarity(640, 480, 20, 1.1, 5, -3)
	a, b := Detect(img, nil), Detect(warp(img, 640, 480, H), nil)
	m := Match(a, b, DefaultRatio)
	if !slices.IsSortedFunc(m, func(p, q Pair) int { return p.A - q.A }) {
		t.Error("pairs not sorted by A")
	}
	good := 0
	for _, p := range m {
		if warpError(&H, a, b, p) <= 3 {
			good++
		}
	}
	t.Logf("%d pairs, %d within 3 px of the warp", len(m), good)
	if len(m) < 150 || good < len(m)*8/10 {
		t.Errorf("%d pairs, %d within 3 px of the warp; want 150 pairs, 80%% of them right", len(m), good)
	}
}

// refMatch is Match written plainly: all distances, then both checks.
func refMatch(a, b [][4]uint64, ratio float64) []Pair {
	var out []Pair
	for i := range a {
		d1, d2, best := 1<<30, 1<<30, -1
		for j := range b {
			d := hamming(&a[i], &b[j])
			switch {
			case d < d1:
				d1, d2, best = d, d1, j
			case d < d2:
				d2 = d
			}
		}
		if best < 0 || (d2 != 1<<30 && !(float64(d1) < ratio*float64(d2))) {
			continue
		}
		back, e1 := -1, 1<<30
		for k := range a {
			if d := hamming(&a[k], &b[best]); d < e1 {
				back, e1 = k, d
			}
		}
		if back == i {
			out = append(out, Pair{A: i, B: best, Distance: d1})
		}
	}
	return out
}

// TestMatchEqualsReference compares Match with refMatch on descriptors
// with many near and equal distances, where ties and the order of the
// checks matter.
func TestMatchEqualsReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	for trial := range 20 {
		na, nb := 1+rng.IntN(120), 1+rng.IntN(120)
		seeds := make([][4]uint64, 1+rng.IntN(10))
		for i := range seeds {
			seeds[i] = randomDesc(rng)
		}
		gen := func(n int) [][4]uint64 {
			d := make([][4]uint64, n)
			for i := range d {
				d[i] = flip(rng, seeds[rng.IntN(len(seeds))], rng.IntN(12))
			}
			return d
		}
		a, b := gen(na), gen(nb)
		for _, ratio := range []float64{0.7, DefaultRatio, 0.95} {
			got := Match(descFeatures(a), descFeatures(b), ratio)
			want := refMatch(a, b, ratio)
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d, ratio %g: Match found %d pairs, the reference %d\ngot  %v\nwant %v", trial, ratio, len(got), len(want), got, want)
			}
		}
	}
}
