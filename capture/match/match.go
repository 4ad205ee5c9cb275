package match

import (
	"math"
	"math/bits"
)

// DefaultRatio is the ratio test threshold [Compare] uses: Lowe (2004,
// §7.1) rejects a match when the nearest neighbour is not clearly closer
// than the second nearest; 0.8 removes 90% of the false matches and 5% of
// the correct ones in his experiments.
const DefaultRatio = 0.8

// Pair is a putative correspondence between keypoint A of one image and
// keypoint B of the other.
type Pair struct {
	// A and B index the Keypoints of the two Features.
	A, B int
	// Distance is the Hamming distance between their descriptors, 0 to 256.
	Distance int
}

// Match pairs the descriptors of a and b by brute-force Hamming distance
// and returns the pairs, in increasing order of A, that pass Lowe's ratio
// test (the nearest neighbour in b is closer than ratio times the second
// nearest) and the cross check (keypoint A is also the nearest neighbour
// of keypoint B in a). A ratio of 0 or less means DefaultRatio; 1 or more
// disables the ratio test. Match returns nil when either side has no
// descriptors.
func Match(a, b *Features, ratio float64) []Pair {
	if a == nil || b == nil || len(a.Desc) == 0 || len(b.Desc) == 0 {
		return nil
	}
	if !(ratio > 0) {
		ratio = DefaultRatio
	}
	// Nearest and second nearest neighbour in b of every descriptor of a.
	type nn struct{ j, d1, d2 int32 }
	aNN := make([]nn, len(a.Desc))
	for i := range a.Desc {
		j, d1, d2 := nearest(&a.Desc[i], b.Desc)
		aNN[i] = nn{j, d1, d2}
	}
	// The cross check needs the nearest neighbour in a of the descriptors
	// of b that some descriptor of a picked and that pass the ratio test:
	// they are few, so this costs a fraction of the first pass.
	back := make(map[int32]int32)
	var pairs []Pair
	for i, n := range aNN {
		if n.j < 0 {
			continue
		}
		if ratio < 1 && n.d2 != math.MaxInt32 && !(float64(n.d1) < ratio*float64(n.d2)) {
			continue
		}
		r, ok := back[n.j]
		if !ok {
			r, _, _ = nearest(&b.Desc[n.j], a.Desc)
			back[n.j] = r
		}
		if r == int32(i) {
			pairs = append(pairs, Pair{A: i, B: int(n.j), Distance: int(n.d1)})
		}
	}
	return pairs
}

// nearest returns the index of the descriptor of ds nearest to d, its
// distance and the distance of the second nearest (MaxInt32 when absent);
// the first of equally near ones wins.
func nearest(d *[4]uint64, ds [][4]uint64) (best, d1, d2 int32) {
	d1, d2, best = math.MaxInt32, math.MaxInt32, -1
	x0, x1, x2, x3 := d[0], d[1], d[2], d[3]
	dist := func(e *[4]uint64) int32 {
		return int32(bits.OnesCount64(x0^e[0]) + bits.OnesCount64(x1^e[1]) +
			bits.OnesCount64(x2^e[2]) + bits.OnesCount64(x3^e[3]))
	}
	update := func(v int32, j int) {
		if v < d2 {
			if v < d1 {
				d1, d2, best = v, d1, int32(j)
			} else {
				d2 = v
			}
		}
	}
	// Four at a time: their distances are independent, and most groups
	// hold nothing nearer than the second nearest so far, which one
	// comparison of their minimum tells.
	j := 0
	for ; j+4 <= len(ds); j += 4 {
		g := (*[4][4]uint64)(ds[j : j+4])
		v0, v1, v2, v3 := dist(&g[0]), dist(&g[1]), dist(&g[2]), dist(&g[3])
		if min(v0, v1, v2, v3) >= d2 {
			continue
		}
		update(v0, j)
		update(v1, j+1)
		update(v2, j+2)
		update(v3, j+3)
	}
	for ; j < len(ds); j++ {
		update(dist(&ds[j]), j)
	}
	return best, d1, d2
}
