package markers

import (
	"fmt"
	"math/bits"
)

const (
	// DataCells is the number of data cells along a side of a marker.
	DataCells = 4
	// GridCells is the number of cells along a side of a marker, border included.
	GridCells = DataCells + 2
	// DictionarySize is the number of codes in the dictionary; IDs are
	// 0 to DictionarySize−1.
	DictionarySize = 50
	// MinDistance is the least Hamming distance between two codes of the
	// dictionary under any of the four rotations, and between a code and any
	// of its own three non-trivial rotations.
	MinDistance = 4
	// MaxCorrected is the number of wrong cells [Decode] corrects.
	MaxCorrected = (MinDistance - 1) / 2
)

// Black-cell balance of a code, out of 16: enough black and enough white that
// the data area never looks like a solid square or an empty frame.
const (
	minBlack = 6
	maxBlack = 10
)

// scramble is an odd multiplier, so i*scramble mod 2¹⁶ visits every 16-bit
// code once. It is 2¹⁶ divided by the golden ratio, which spreads consecutive
// candidates over the whole code space; the plain counting order would start
// with codes whose top rows are all white.
const scramble = 0x9e37

// A code is held as 16 bits in reading order: bit 15 is data cell [0][0],
// bit 14 is [0][1], …, bit 0 is [3][3]; a set bit is a black cell.
type code = uint16

// codes holds the dictionary by ID; rotated[id][k] is codes[id] turned k
// quarter turns clockwise.
var codes, rotated = generate()

// generate runs the greedy search described in the package comment.
func generate() ([]code, [][4]code) {
	var cs []code
	var rs [][4]code
	for i := range 1 << 16 {
		if len(cs) == DictionarySize {
			break
		}
		c := code(i * scramble)
		if n := bits.OnesCount16(c); n < minBlack || n > maxBlack {
			continue
		}
		r := rotations(c)
		ok := true
		for k := 1; k < 4 && ok; k++ {
			ok = distance(c, r[k]) >= MinDistance
		}
		for _, other := range cs {
			for k := 0; k < 4 && ok; k++ {
				ok = distance(other, r[k]) >= MinDistance
			}
			if !ok {
				break
			}
		}
		if ok {
			cs = append(cs, c)
			rs = append(rs, r)
		}
	}
	if len(cs) != DictionarySize {
		panic(fmt.Sprintf("markers: greedy search found %d codes, want %d", len(cs), DictionarySize))
	}
	return cs, rs
}

func distance(a, b code) int { return bits.OnesCount16(a ^ b) }

// rotations returns c turned 0, 1, 2 and 3 quarter turns clockwise.
func rotations(c code) [4]code {
	var r [4]code
	r[0] = c
	for k := 1; k < 4; k++ {
		r[k] = rotateCW(r[k-1])
	}
	return r
}

// rotateCW turns c one quarter turn clockwise: the cell at [r][c] moves to
// [c][3−r], so the left column becomes the top row.
func rotateCW(c code) code {
	var out code
	for r := range DataCells {
		for col := range DataCells {
			if bit(c, r, col) {
				out |= mask(col, DataCells-1-r)
			}
		}
	}
	return out
}

func mask(row, col int) code { return 1 << (DataCells*DataCells - 1 - (row*DataCells + col)) }

func bit(c code, row, col int) bool { return c&mask(row, col) != 0 }

func toGrid(c code) [4][4]bool {
	var g [4][4]bool
	for r := range DataCells {
		for col := range DataCells {
			g[r][col] = bit(c, r, col)
		}
	}
	return g
}

func fromGrid(g [4][4]bool) code {
	var c code
	for r := range DataCells {
		for col := range DataCells {
			if g[r][col] {
				c |= mask(r, col)
			}
		}
	}
	return c
}

// Dictionary returns the codes of the dictionary, indexed by marker ID.
// The slice is a copy.
func Dictionary() [][4][4]bool {
	d := make([][4][4]bool, len(codes))
	for id, c := range codes {
		d[id] = toGrid(c)
	}
	return d
}

// Code returns the code of marker id as [row][col], true meaning black; see
// the package comment for the convention. It panics if id is not in
// [0, DictionarySize).
func Code(id int) [4][4]bool {
	if id < 0 || id >= len(codes) {
		panic(fmt.Sprintf("markers: marker ID %d out of range [0, %d)", id, len(codes)))
	}
	return toGrid(codes[id])
}

// Rotate returns bits turned k quarter turns clockwise, as seen in an image
// whose row 0 is at the top: one turn moves cell [r][c] to [c][3−r]. k may be
// any integer; it is taken modulo 4.
func Rotate(bits [4][4]bool, k int) [4][4]bool {
	k = ((k % 4) + 4) % 4
	return toGrid(rotations(fromGrid(bits))[k])
}

// Decode identifies a grid of data cells read from an image: it returns the
// marker id and the rotation k such that bits equals Rotate(Code(id), k)
// with at most [MaxCorrected] (one) cell wrong. ok is false when no code is
// that close. The rotation tells where the marker's corners are; see the
// package comment.
func Decode(bits [4][4]bool) (id, rotation int, ok bool) {
	c := fromGrid(bits)
	for id, r := range rotated {
		for k, rc := range r {
			if distance(c, rc) <= MaxCorrected {
				return id, k, true
			}
		}
	}
	return 0, 0, false
}
