// Copyright 2025 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package jpegr

import "math"

// A block is an 8x8 block of DCT coefficients. The coefficients are at most
// 16-bit values, but it is convenient to use int32s for intermediate storage,
// so we define only a single block type of [8*8]int32.
type block [blockSize]int32

const blockSize = 8 * 8

// The reduced inverse DCT
//
// image/jpeg's full 8x8 inverse DCT (Loeffler's algorithm, which this fork
// has dropped) is replaced by idct4x4, which turns an 8x8 block of
// coefficients directly into the 4x4 means of its 2x2 sample pairs, in the
// manner of libjpeg's jpeg_idct_4x4 (jidctred.c). The 1-D case shows why
// that is cheap. The 8-point IDCT of coefficients X[0..7] is
//
//	x[n] = 1/2 Σ_k C_k X[k] cos((2n+1)kπ/16),  C_0 = 1/√2, C_k = 1 otherwise,
//
// and the mean of the pair x[2m], x[2m+1] is, by cos a + cos b =
// 2 cos((a+b)/2) cos((a-b)/2),
//
//	y[m] = 1/2 Σ_k C_k X[k] cos(kπ/16) cos((2m+1)kπ/8).
//
// For k > 4 the cosine cos((2m+1)kπ/8) equals -cos((2m+1)(8-k)π/8), and for
// k = 4 it is 0, so y is exactly the 4-point IDCT
//
//	y[m] = 1/2 Σ_{k<4} C_k X'[k] cos((2m+1)kπ/8)
//
// of the folded coefficients X'[0] = X[0] and, for k = 1..3,
// X'[k] = X[k] cos(kπ/16) - X[8-k] cos((8-k)π/16). Applied to rows and then
// columns, this gives the 2x2 means of the full 8x8 IDCT exactly, before
// rounding and clamping, from 49 of the 64 coefficients: row and column 4
// do not contribute.
//
// The folding weights, the 1/√2 factors of the 4-point IDCT's even part and
// the quantization step are all per-coefficient constants, so foldedScale
// merges them into one integer multiplier per coefficient whenever a
// quantization table is defined. idct4x4 then needs 49 multiplications to
// dequantise and fold and 32 for the two 4-point passes, against 64 and 176
// for image/jpeg's dequantisation and 8x8 IDCT, and stores 16 samples
// instead of 64.

// scaleBits is the number of fractional bits of foldedScale's multipliers
// and of the values inside idct4x4. 13 bits keep the rounding error of the
// smallest multiplier (q = 1 times cos²(7π/16) ≈ 0.038, 312/2^13) below
// 0.2%, while a 16-bit quantization step times 2^13 still fits an int32.
const scaleBits = 13

// cos1, sin1 are cos(π/8) and sin(π/8) (= cos(3π/8)), the odd-part rotation
// of the 4-point IDCT, with scaleBits fractional bits.
const (
	cos1 = 7568 // round(cos(π/8) * 2^13)
	sin1 = 3135 // round(sin(π/8) * 2^13)
)

// foldWeights[k] is the factor that coefficient row or column k gets from
// folding: cos(kπ/16), negated for k > 4 and 0 for k = 4 (see above), times
// the 1/√2 of the 4-point IDCT's even part for the coefficients that fold
// onto indices 0 and 2.
var foldWeights = func() (w [8]float64) {
	for k := range w {
		target, c := k, math.Cos(float64(k)*math.Pi/16)
		if k > 4 {
			target, c = 8-k, -c
		}
		if target == 0 || target == 2 {
			c /= math.Sqrt2
		}
		w[k] = c
	}
	w[4] = 0
	return w
}()

// foldedScale returns, in natural (not zig-zag) order, the multiplier that
// idct4x4 applies to each coefficient for the zig-zag ordered quantization
// table q: the quantization step times the folding and even-part weights,
// with scaleBits fractional bits. Row and column 4 get 0.
func foldedScale(q *block) block {
	var s block
	for zig, step := range q {
		n := unzig[zig]
		f := float64(step) * foldWeights[n/8] * foldWeights[n%8]
		s[n] = int32(math.Round(f * (1 << scaleBits)))
	}
	return s
}

// idct4x4 dequantises the coefficients b with the multipliers s (see
// foldedScale), computes the 4x4 means of the 2x2 sample pairs of the
// block's inverse DCT, level shifts them by +128, clamps them to [0, 255]
// and stores them in dst, whose rows are stride bytes apart.
//
// The arithmetic is in int, 64 bits on the platforms we build for, so valid
// input cannot overflow; hostile coefficients can only wrap, giving wrong
// but clamped samples, as image/jpeg's int32 arithmetic does.
func idct4x4(dst []byte, stride int, b, s *block) {
	// t holds the folded coefficients after the 4-point IDCT of their rows.
	var t [4][4]int
	for k := range 4 {
		// Fold the dequantised row 8-k onto row k (row 0 has no partner,
		// row 4 does not contribute) and its columns 7, 6, 5 onto 1, 2, 3.
		x, m := b[8*k:8*k+8], s[8*k:8*k+8]
		c0 := int(x[0]) * int(m[0])
		c1 := int(x[1])*int(m[1]) + int(x[7])*int(m[7])
		c2 := int(x[2])*int(m[2]) + int(x[6])*int(m[6])
		c3 := int(x[3])*int(m[3]) + int(x[5])*int(m[5])
		if k > 0 {
			x, m = b[64-8*k:72-8*k], s[64-8*k:72-8*k]
			c0 += int(x[0]) * int(m[0])
			c1 += int(x[1])*int(m[1]) + int(x[7])*int(m[7])
			c2 += int(x[2])*int(m[2]) + int(x[6])*int(m[6])
			c3 += int(x[3])*int(m[3]) + int(x[5])*int(m[5])
		}
		// 4-point IDCT of the row, leaving out its factor 1/2. The even
		// part's 1/√2 is already in the multipliers.
		e0, e1 := c0+c2, c0-c2
		o0 := (c1*cos1 + c3*sin1) >> scaleBits
		o1 := (c1*sin1 - c3*cos1) >> scaleBits
		t[k] = [4]int{e0 + o0, e1 + o1, e1 - o1, e0 - o0}
	}

	// The same down the columns. The result is 4 times the sample mean
	// (the two left-out halves) with scaleBits fraction bits, so rounding,
	// the level shift and the shift back are done in one step.
	const (
		shift = scaleBits + 2
		bias  = 128<<shift + 1<<(shift-1)
	)
	d0 := dst[0:4:4]
	d1 := dst[stride : stride+4 : stride+4]
	d2 := dst[2*stride : 2*stride+4 : 2*stride+4]
	d3 := dst[3*stride : 3*stride+4 : 3*stride+4]
	for j := range 4 {
		e0, e1 := t[0][j]+t[2][j], t[0][j]-t[2][j]
		o0 := (t[1][j]*cos1 + t[3][j]*sin1) >> scaleBits
		o1 := (t[1][j]*sin1 - t[3][j]*cos1) >> scaleBits
		d0[j] = clamp8((e0 + o0 + bias) >> shift)
		d1[j] = clamp8((e1 + o1 + bias) >> shift)
		d2[j] = clamp8((e1 - o1 + bias) >> shift)
		d3[j] = clamp8((e0 - o0 + bias) >> shift)
	}
}

// partialMeanWeights[n-1][k] is the mean over the first n (1 to 8) sample
// positions x of the 1-D IDCT basis function for coefficient k,
// C_k/2 cos((2x+1)kπ/16), so that the mean of the top-left w×h samples of
// an 8x8 block is a weighted sum of its coefficients.
var partialMeanWeights = func() (m [8][8]float64) {
	for n := 1; n <= 8; n++ {
		for k := range 8 {
			ck := 1.0
			if k == 0 {
				ck = 1 / math.Sqrt2
			}
			var sum float64
			for x := range n {
				sum += ck / 2 * math.Cos(float64((2*x+1)*k)*math.Pi/16)
			}
			m[n-1][k] = sum / float64(n)
		}
	}
	return m
}()

// partialMean returns the mean, less 128, of the top-left w×h samples (w
// columns, h rows, each 1 to 8) of the block b with the zig-zag ordered
// quantization table qt: the samples of an edge block that lie inside the
// image. It computes the mean directly from the coefficients, without the
// level shift and clamping of a full inverse DCT.
func partialMean(b, qt *block, w, h int) float64 {
	mw, mh := &partialMeanWeights[w-1], &partialMeanWeights[h-1]
	var sum float64
	for zig, q := range qt {
		n := unzig[zig]
		sum += float64(b[n]) * float64(q) * mw[n%8] * mh[n/8]
	}
	return sum
}

// clamp8 clamps x to [0, 255].
func clamp8(x int) uint8 {
	if uint(x) <= 255 {
		return uint8(x)
	}
	if x < 0 {
		return 0
	}
	return 255
}
