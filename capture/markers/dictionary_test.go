package markers

import (
	"fmt"
	"testing"
)

func hamming(a, b [4][4]bool) int {
	n := 0
	for r := range 4 {
		for c := range 4 {
			if a[r][c] != b[r][c] {
				n++
			}
		}
	}
	return n
}

func TestDictionarySize(t *testing.T) {
	d := Dictionary()
	if len(d) != DictionarySize {
		t.Fatalf("len(Dictionary()) = %d, want %d", len(d), DictionarySize)
	}
	for id, g := range d {
		if got := Code(id); got != g {
			t.Errorf("Code(%d) = %v, want Dictionary()[%d] = %v", id, got, id, g)
		}
	}
}

// TestDictionaryIsFixed pins every code: sheets already printed depend on
// them, so the generator must never change silently. Each code is written as
// 16 bits in reading order, the most significant bit being cell [0][0].
func TestDictionaryIsFixed(t *testing.T) {
	want := []uint16{
		0x9e37, 0x3c6e, 0xdaa5, 0x78dc, 0x1713, 0x5381, 0xf1b8, 0x2e26, 0x6a94, 0x08cb,
		0xa702, 0xe370, 0x98ba, 0x36f1, 0xd528, 0x1196, 0x8a72, 0x28a9, 0xc6e0, 0x034e,
		0x1a61, 0x56cf, 0x933d, 0x6de2, 0x84f5, 0x5f9a, 0xd876, 0x8dc0, 0xca2e, 0x5a1d,
		0x4bd5, 0x011f, 0xdbc4, 0x910e, 0x6bb3, 0x82c6, 0x20fd, 0xfba2, 0xd995, 0x77cc,
		0xb43a, 0x97aa, 0x6407, 0x759d, 0xe031, 0xec4a, 0x3183, 0xaa5f, 0xef98, 0x2689,
	}
	for id, w := range want {
		g := Code(id)
		var got uint16
		for r := range 4 {
			for c := range 4 {
				got <<= 1
				if g[r][c] {
					got |= 1
				}
			}
		}
		if got != w {
			t.Errorf("Code(%d) = %#04x, want %#04x", id, got, w)
		}
	}
}

func TestDictionaryBalance(t *testing.T) {
	for id, g := range Dictionary() {
		black := 0
		for r := range 4 {
			for c := range 4 {
				if g[r][c] {
					black++
				}
			}
		}
		if black < minBlack || black > maxBlack {
			t.Errorf("code %d has %d black cells, want %d to %d", id, black, minBlack, maxBlack)
		}
	}
}

func TestDictionaryDistances(t *testing.T) {
	d := Dictionary()
	for i, a := range d {
		for k := 1; k < 4; k++ {
			if got := hamming(a, Rotate(a, k)); got < MinDistance {
				t.Errorf("distance(code %d, itself turned %d) = %d, want >= %d", i, k, got, MinDistance)
			}
		}
		for j := i + 1; j < len(d); j++ {
			for k := range 4 {
				if got := hamming(a, Rotate(d[j], k)); got < MinDistance {
					t.Errorf("distance(code %d, code %d turned %d) = %d, want >= %d", i, j, k, got, MinDistance)
				}
			}
		}
	}
}

func TestRotate(t *testing.T) {
	var g [4][4]bool
	g[0][0] = true // top-left
	g[1][3] = true
	for _, tc := range []struct {
		k         int
		wantOn    [2][2]int
		wantCount int
	}{
		{0, [2][2]int{{0, 0}, {1, 3}}, 2},
		{1, [2][2]int{{0, 3}, {3, 2}}, 2},
		{2, [2][2]int{{3, 3}, {2, 0}}, 2},
		{3, [2][2]int{{3, 0}, {0, 1}}, 2},
		{5, [2][2]int{{0, 3}, {3, 2}}, 2},
		{-1, [2][2]int{{3, 0}, {0, 1}}, 2},
	} {
		t.Run(fmt.Sprint(tc.k), func(t *testing.T) {
			got := Rotate(g, tc.k)
			n := 0
			for r := range 4 {
				for c := range 4 {
					if got[r][c] {
						n++
					}
				}
			}
			if n != tc.wantCount {
				t.Errorf("Rotate(g, %d) has %d black cells, want %d", tc.k, n, tc.wantCount)
			}
			for _, rc := range tc.wantOn {
				if !got[rc[0]][rc[1]] {
					t.Errorf("Rotate(g, %d)[%d][%d] = false, want true", tc.k, rc[0], rc[1])
				}
			}
		})
	}
	if got := Rotate(Rotate(g, 1), 3); got != g {
		t.Errorf("Rotate(Rotate(g, 1), 3) = %v, want %v", got, g)
	}
}

func TestDecodeEveryRotationAndFlip(t *testing.T) {
	for id, c := range Dictionary() {
		for k := range 4 {
			seen := Rotate(c, k)
			if gotID, gotK, ok := Decode(seen); !ok || gotID != id || gotK != k {
				t.Errorf("Decode(code %d turned %d) = %d, %d, %v; want %d, %d, true", id, k, gotID, gotK, ok, id, k)
			}
			for r := range 4 {
				for col := range 4 {
					flipped := seen
					flipped[r][col] = !flipped[r][col]
					if gotID, gotK, ok := Decode(flipped); !ok || gotID != id || gotK != k {
						t.Errorf("Decode(code %d turned %d, cell [%d][%d] flipped) = %d, %d, %v; want %d, %d, true",
							id, k, r, col, gotID, gotK, ok, id, k)
					}
				}
			}
		}
	}
}

// TestDecodeRejectsTwoFlips checks that two wrong cells are detected, never
// miscorrected into another marker.
func TestDecodeRejectsTwoFlips(t *testing.T) {
	for id, c := range Dictionary() {
		for k := range 4 {
			seen := Rotate(c, k)
			for a := range 16 {
				for b := a + 1; b < 16; b++ {
					g := seen
					g[a/4][a%4] = !g[a/4][a%4]
					g[b/4][b%4] = !g[b/4][b%4]
					if gotID, gotK, ok := Decode(g); ok {
						t.Fatalf("Decode(code %d turned %d, cells %d and %d flipped) = %d, %d, true; want ok = false",
							id, k, a, b, gotID, gotK)
					}
				}
			}
		}
	}
}

func TestDecodeRejectsBlankAndSolid(t *testing.T) {
	var blank, solid [4][4]bool
	for r := range 4 {
		for c := range 4 {
			solid[r][c] = true
		}
	}
	for name, g := range map[string][4][4]bool{"blank": blank, "solid": solid} {
		if id, k, ok := Decode(g); ok {
			t.Errorf("Decode(%s) = %d, %d, true; want ok = false", name, id, k)
		}
	}
}

// TestRotationGivesCorners checks the corner rule of the package comment: a
// detector that read the grid between its corners d[0..3] and got rotation k
// finds the marker's corner i at d[(i+k)%4]. The data cell next to each
// corner must follow its corner.
func TestRotationGivesCorners(t *testing.T) {
	cornerCell := [4][2]int{{0, 0}, {0, 3}, {3, 3}, {3, 0}} // TL, TR, BR, BL
	for id, c := range Dictionary() {
		for k := range 4 {
			_, gotK, _ := Decode(Rotate(c, k))
			seen := Rotate(c, k)
			for i := range 4 {
				want := c[cornerCell[i][0]][cornerCell[i][1]]
				j := (i + gotK) % 4
				if got := seen[cornerCell[j][0]][cornerCell[j][1]]; got != want {
					t.Errorf("code %d turned %d: cell at detected corner %d = %v, want true corner %d's %v", id, k, j, got, i, want)
				}
			}
		}
	}
}

func TestCodePanicsOutOfRange(t *testing.T) {
	for _, id := range []int{-1, DictionarySize} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Code(%d) did not panic", id)
				}
			}()
			Code(id)
		}()
	}
}

func BenchmarkDecode(b *testing.B) {
	g := Rotate(Code(DictionarySize-1), 3)
	g[2][1] = !g[2][1]
	for b.Loop() {
		Decode(g)
	}
}
