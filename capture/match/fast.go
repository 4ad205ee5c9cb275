package match

import "math/bits"

// circle is the Bresenham circle of radius 3 that FAST tests, clockwise
// from the top (Rosten and Drummond 2006, Fig. 1).
var circle = [16][2]int{
	{0, -3}, {1, -3}, {2, -2}, {3, -1}, {3, 0}, {3, 1}, {2, 2}, {1, 3},
	{0, 3}, {-1, 3}, {-2, 2}, {-3, 1}, {-3, 0}, {-3, -1}, {-2, -2}, {-1, -3},
}

// detectFAST returns the FAST-9 corners of the w×h level pix that survive
// a 3×3 non-maximum suppression by FAST score, at least edge pixels from
// the border. The returned slice aliases s.cands.
//
// A pixel is a corner when 9 contiguous pixels of the circle are all
// brighter than it by more than the threshold, or all darker. An arc of 9
// holds one pixel of each opposite pair of the circle, so a first pass
// over each row keeps only the pixels where each of the four opposite
// pairs at 0°, 45°, 90° and 135° holds a brighter pixel, or each holds a
// darker one (the first tests of OpenCV's FAST). That pass has no
// branches: it sets one bit per pixel, and the second pass visits the set
// bits only.
func (s *scratch) detectFAST(pix []uint8, w, h int) []corner {
	score := s.score[:w*h]
	clear(score)
	cands := s.cands[:0]
	tab := &s.fast
	thr := s.thr
	var rows [7]*[71]uint8
	for y := edge; y < h-edge; y++ {
		for x0 := edge; x0 < w-edge; x0 += 64 {
			// Rows y−3 … y+3 from column x0−3, as arrays so that the
			// loops need no bounds checks. The last chunk of a row reads
			// past its end into the next row, which is there since
			// y+4 < h; its extra bits are masked off.
			for r := range rows {
				rows[r] = (*[71]uint8)(pix[(y-3+r)*w+x0-3:])
			}
			top, up, mid, down, bot := rows[0], rows[1], rows[3], rows[5], rows[6]
			var pass uint64
			for j := range 64 {
				t := (*[256]uint8)(tab[255-int(mid[j+3]):])
				// Pixels 0 and 8, 4 and 12, 2 and 10, 6 and 14.
				a := (t[top[j+3]] | t[bot[j+3]]) & (t[mid[j+6]] | t[mid[j]]) &
					(t[up[j+5]] | t[down[j+1]]) & (t[down[j+5]] | t[up[j+1]])
				// a is 0 to 3; (a+3)>>2 is 1 when a is not 0.
				pass |= uint64((a+3)>>2) << j
			}
			if n := w - edge - x0; n < 64 {
				pass &= 1<<n - 1
			}
			for ; pass != 0; pass &= pass - 1 {
				j := bits.TrailingZeros64(pass)
				if sc := segmentScore(&rows, j, tab, thr); sc > 0 {
					i := y*w + x0 + j
					score[i] = uint8(sc)
					cands = append(cands, corner{x: int32(x0 + j), y: int32(y), fast: uint8(sc)})
				}
			}
		}
	}
	s.cands = cands

	// Non-maximum suppression. Ties go to the later pixel in raster order,
	// so that a plateau of equal scores keeps one corner.
	kept := cands[:0]
	for _, c := range cands {
		i := int(c.y)*w + int(c.x)
		sc := score[i]
		if sc < score[i-w-1] || sc < score[i-w] || sc < score[i-w+1] || sc < score[i-1] ||
			sc <= score[i+1] || sc <= score[i+w-1] || sc <= score[i+w] || sc <= score[i+w+1] {
			continue
		}
		kept = append(kept, c)
	}
	return kept
}

// segmentScore runs the segment test on pixel j+3 of rows[3] (the 7 rows
// around it start 3 pixels to its left) and returns 0 when it is not a
// corner, else its FAST score: the largest t for which it is a corner at
// threshold t−1 (Rosten and Drummond 2006, §2.4), that is the largest,
// over the arcs of 9 that pass the test, of the smallest difference
// between the arc and the centre. The score exceeds the threshold thr and
// is at most 255.
//
// The test classifies the 16 pixels into 2-bit lanes of a word (bit 0
// darker, bit 1 brighter, from tab) and ANDs the word with itself rotated
// by 1, 2, 4 and 8 lanes: a lane that survives starts an arc of 9 pixels
// of one class.
func segmentScore(rows *[7]*[71]uint8, j int, tab *[512]uint8, thr int) int {
	// rows[r][j+3] is the pixel r−3 rows below the centre; j < 64.
	r0, r1, r2, r3, r4, r5, r6 := rows[0], rows[1], rows[2], rows[3], rows[4], rows[5], rows[6]
	j &= 63
	v := int(r3[j+3])
	t := (*[256]uint8)(tab[255-v:])
	p := [16]uint8{
		r0[j+3], r0[j+4], r1[j+5], r2[j+6], r3[j+6], r4[j+6], r5[j+5], r6[j+4],
		r6[j+3], r6[j+2], r5[j+1], r4[j], r3[j], r2[j], r1[j+1], r0[j+2],
	}
	m := uint32(t[p[0]]) | uint32(t[p[1]])<<2 | uint32(t[p[2]])<<4 | uint32(t[p[3]])<<6 |
		uint32(t[p[4]])<<8 | uint32(t[p[5]])<<10 | uint32(t[p[6]])<<12 | uint32(t[p[7]])<<14 |
		uint32(t[p[8]])<<16 | uint32(t[p[9]])<<18 | uint32(t[p[10]])<<20 | uint32(t[p[11]])<<22 |
		uint32(t[p[12]])<<24 | uint32(t[p[13]])<<26 | uint32(t[p[14]])<<28 | uint32(t[p[15]])<<30
	m2 := m & bits.RotateLeft32(m, -2)
	m4 := m2 & bits.RotateLeft32(m2, -4)
	m8 := m4 & bits.RotateLeft32(m4, -8)
	arcs := m8 & bits.RotateLeft32(m, -16)
	if arcs == 0 {
		return 0
	}
	// The score of an arc is its smallest difference from the centre: for
	// a brighter arc its darkest pixel less v, for a darker arc v less its
	// brightest. An arc and the one of the same class starting a pixel
	// later share 8 pixels, scanned once for both.
	best := thr
	for arcs != 0 {
		b := bits.TrailingZeros32(arcs)
		k := b >> 1
		next := uint32(1) << (b + 2) // 0 for the last lane
		both := arcs&next != 0
		arcs &^= 1<<b | next
		if b&1 != 0 { // brighter
			lo := p[(k+1)&15]
			for q := 2; q <= 8; q++ {
				lo = min(lo, p[(k+q)&15])
			}
			s := min(lo, p[k&15])
			if both {
				s = max(s, min(lo, p[(k+9)&15]))
			}
			best = max(best, int(s)-v)
		} else { // darker
			hi := p[(k+1)&15]
			for q := 2; q <= 8; q++ {
				hi = max(hi, p[(k+q)&15])
			}
			s := max(hi, p[k&15])
			if both {
				s = min(s, max(hi, p[(k+9)&15]))
			}
			best = max(best, v-int(s))
		}
	}
	return best
}
