package match

import (
	"math"
	"math/rand/v2"
)

// briefPattern holds the 256 point pairs of the BRIEF tests as offsets
// (x1, y1, x2, y2) from the keypoint, before steering.
var briefPattern = makePattern()

// patternSeed fixes the BRIEF pattern. Changing it changes every
// descriptor: features computed with different seeds do not match.
const patternSeed = 2011

// makePattern draws the BRIEF test pairs: both points of a pair are
// independent samples of an isotropic Gaussian of standard deviation
// 31/5 pixels (BRIEF's G II, σ² = S²/25 for the patch side S = 31),
// rounded to whole pixels and redrawn when outside the disc of radius
// patchRadius, so that any rotation of the pattern stays within the
// patch. Pairs whose two points coincide, or that repeat an earlier pair,
// are redrawn too: they would give constant or duplicate bits.
func makePattern() [256][4]float64 {
	rng := rand.New(rand.NewPCG(patternSeed, 1))
	const sigma = (2*patchRadius + 1) / 5.0
	point := func() (int8, int8) {
		for {
			x := math.Round(rng.NormFloat64() * sigma)
			y := math.Round(rng.NormFloat64() * sigma)
			if x*x+y*y <= patchRadius*patchRadius {
				return int8(x), int8(y)
			}
		}
	}
	var p [256][4]float64
	seen := make(map[[4]int8]bool, 512)
	for k := 0; k < len(p); {
		x1, y1 := point()
		x2, y2 := point()
		q := [4]int8{x1, y1, x2, y2}
		if (x1 == x2 && y1 == y2) || seen[q] || seen[[4]int8{x2, y2, x1, y1}] {
			continue
		}
		seen[q] = true
		p[k] = [4]float64{float64(x1), float64(y1), float64(x2), float64(y2)}
		k++
	}
	return p
}

// umax[v] is the half-width of the orientation disc at row offset v. The
// disc is the set of pixel offsets (u, v) with u² + v² ≤ r(r+1) for
// r = patchRadius (a radius of about r + ½); a test on u² + v² alone
// keeps it symmetric under quarter turns and mirrors, so that the angle
// of a quarter-turned image is exactly a quarter turn away.
var umax = func() (u [patchRadius + 1]int) {
	for v := range u {
		u[v] = int(math.Sqrt(float64(patchRadius*(patchRadius+1) - v*v)))
	}
	return u
}()

// icAngle is the orientation of the keypoint at (x, y) of the w-wide level
// pix by the intensity centroid (Rosin 1999; ORB §3.2): the angle of the
// vector (m10, m01) of first moments over the disc of radius patchRadius.
func icAngle(pix []uint8, w, x, y int) float64 {
	c := y*w + x
	m10, m01 := 0, 0
	mid := pix[c-patchRadius : c+patchRadius+1]
	for u := -patchRadius; u <= patchRadius; u++ {
		m10 += u * int(mid[u+patchRadius])
	}
	for v := 1; v <= patchRadius; v++ {
		r := umax[v]
		above := pix[c-v*w-r : c-v*w+r+1]
		below := pix[c+v*w-r : c+v*w+r+1]
		vsum := 0
		for k := range above {
			a, b := int(above[k]), int(below[k])
			vsum += b - a
			m10 += (k - r) * (a + b)
		}
		m01 += v * vsum
	}
	return math.Atan2(float64(m01), float64(m10))
}

// describe computes the steered BRIEF descriptor of the keypoint at (x, y)
// with orientation angle on the w-wide level pix. Bit k is set when the
// 5×5 box around the first point of pair k, rotated by angle, is darker
// than the box around the second. The box sums are computed for the
// 31×31 patch only, by running sums along rows and then down columns;
// 25·255 fits in a uint16, and comparing sums compares means exactly.
func describe(pix []uint8, w, x, y int, angle float64, d *[4]uint64) {
	const (
		side = 2*patchRadius + 1
		span = 2*boxRadius + 1
		rows = side + 2*boxRadius
	)
	var along [rows][side]uint16
	for r := range along {
		i := (y-patchRadius-boxRadius+r)*w + x - patchRadius - boxRadius
		src := (*[side + 2*boxRadius]uint8)(pix[i : i+side+2*boxRadius])
		var s uint16
		for k := range span {
			s += uint16(src[k])
		}
		out := &along[r]
		out[0] = s
		for k := 1; k < side; k++ {
			s += uint16(src[k+span-1]) - uint16(src[k-1])
			out[k] = s
		}
	}
	var box [side * side]uint16
	for k := range side {
		var s uint16
		for r := range span {
			s += along[r][k]
		}
		box[k] = s
		for r := 1; r < side; r++ {
			s += along[r+span-1][k] - along[r-1][k]
			box[r*side+k] = s
		}
	}

	sin, cos := math.Sincos(angle)
	at := func(px, py float64) uint16 {
		// Rounded to the nearest pixel; the offset keeps the operand of
		// the truncating conversion positive.
		rx := int(cos*px-sin*py+patchRadius+1.5) - 1
		ry := int(sin*px+cos*py+patchRadius+1.5) - 1
		return box[ry*side+rx]
	}
	*d = [4]uint64{}
	for k := range briefPattern {
		q := &briefPattern[k]
		if at(q[0], q[1]) < at(q[2], q[3]) {
			d[k>>6] |= 1 << (k & 63)
		}
	}
}
