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
	bd := b.Desc
	// Nearest neighbour in a of every descriptor of b, for the cross check.
	bBest := make([]int32, len(bd))
	bIdx := make([]int32, len(bd))
	for j := range bBest {
		bBest[j] = math.MaxInt32
	}
	type nn struct{ j, d1, d2 int32 }
	aNN := make([]nn, len(a.Desc))
	for i, da := range a.Desc {
		d1, d2, best := int32(math.MaxInt32), int32(math.MaxInt32), int32(-1)
		bBest := bBest[:len(bd)]
		bIdx := bIdx[:len(bd)]
		for j := range bd {
			db := &bd[j]
			d := int32(bits.OnesCount64(da[0]^db[0]) + bits.OnesCount64(da[1]^db[1]) +
				bits.OnesCount64(da[2]^db[2]) + bits.OnesCount64(da[3]^db[3]))
			if d < d2 {
				if d < d1 {
					d1, d2, best = d, d1, int32(j)
				} else {
					d2 = d
				}
			}
			if d < bBest[j] {
				bBest[j], bIdx[j] = d, int32(i)
			}
		}
		aNN[i] = nn{best, d1, d2}
	}
	var pairs []Pair
	for i, n := range aNN {
		if n.j < 0 || bIdx[n.j] != int32(i) {
			continue
		}
		if ratio < 1 && n.d2 != math.MaxInt32 && !(float64(n.d1) < ratio*float64(n.d2)) {
			continue
		}
		pairs = append(pairs, Pair{A: i, B: int(n.j), Distance: int(n.d1)})
	}
	return pairs
}
