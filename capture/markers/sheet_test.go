package markers

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

var allPapers = []Paper{A4, Letter}

func TestParsePaper(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Paper
		wantErr bool
	}{
		{"a4", A4, false},
		{"A4", A4, false},
		{" letter ", Letter, false},
		{"Letter", Letter, false},
		{"", 0, true},
		{"a3", 0, true},
		{"legal", 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePaper(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParsePaper(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("ParsePaper(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if err != nil && !strings.Contains(err.Error(), "a4 or letter") {
				t.Errorf("ParsePaper(%q) error = %q, want it to list a4 or letter", tc.in, err)
			}
		})
	}
}

func TestPaper(t *testing.T) {
	for _, tc := range []struct {
		p          Paper
		name       string
		long, shrt float64
	}{
		{A4, "A4", 297, 210},
		{Letter, "Letter", 279.4, 215.9},
		{Paper(9), "Paper(9)", 0, 0},
	} {
		if got := tc.p.String(); got != tc.name {
			t.Errorf("Paper(%d).String() = %q, want %q", int(tc.p), got, tc.name)
		}
		if w, h := tc.p.Size(); w != tc.long || h != tc.shrt {
			t.Errorf("%v.Size() = %v, %v, want %v, %v", tc.p, w, h, tc.long, tc.shrt)
		}
	}
	var zero Paper
	if zero != A4 {
		t.Errorf("zero Paper = %v, want A4", zero)
	}
}

func TestLayoutPanicsOnUnknownPaper(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Layout(Paper(9)) did not panic")
		}
	}()
	Layout(Paper(9))
}

// printable returns the part of the paper inside the margins.
func printable(s *Sheet) Rect {
	return Rect{Max: [2]float64{s.Width / 2, s.Height / 2}, Min: [2]float64{-s.Width / 2, -s.Height / 2}}.Inset(s.Margin)
}

// inside reports whether r lies within o.
func inside(r, o Rect) bool {
	return r.Min[0] >= o.Min[0] && r.Min[1] >= o.Min[1] && r.Max[0] <= o.Max[0] && r.Max[1] <= o.Max[1]
}

// barExtent returns the bar with its frame line.
func barExtent(b CheckBar) Rect { return b.Bounds().Inset(-b.Line / 2) }

func TestLayout(t *testing.T) {
	for _, p := range allPapers {
		t.Run(p.String(), func(t *testing.T) {
			s := Layout(p)
			if w, h := p.Size(); s.Width != w || s.Height != h || s.Width <= s.Height {
				t.Fatalf("sheet is %v × %v mm, want landscape %v × %v", s.Width, s.Height, w, h)
			}
			if s.Margin < 8 {
				t.Errorf("Margin = %v mm, want >= 8", s.Margin)
			}
			if len(s.Markers) < 10 {
				t.Errorf("%d markers, want >= 10", len(s.Markers))
			}
			area := printable(s)
			for i, m := range s.Markers {
				if m.ID != i {
					t.Errorf("Markers[%d].ID = %d, want %d", i, m.ID, i)
				}
				if m.Size < 24 || m.Size > 30 || m.CellSize() < 4 {
					t.Errorf("marker %d: size %v mm, cell %v mm; want 24 to 30 mm, cell >= 4 mm", m.ID, m.Size, m.CellSize())
				}
				if !inside(m.Bounds(), area) {
					t.Errorf("marker %d at %v is outside the printable area %v", m.ID, m.Bounds(), area)
				}
				// One white cell around every marker: no other ink there.
				q := m.Bounds().Inset(-m.CellSize())
				for _, o := range s.Markers[i+1:] {
					if q.Overlaps(o.Bounds().Inset(-o.CellSize())) {
						t.Errorf("markers %d and %d: quiet zones overlap", m.ID, o.ID)
					}
				}
				if q.Overlaps(barExtent(s.Bar)) {
					t.Errorf("marker %d's quiet zone overlaps the check bar", m.ID)
				}
				if q.Overlaps(s.Free) {
					t.Errorf("marker %d's quiet zone overlaps the free zone", m.ID)
				}
			}
			for _, m := range s.Markers {
				if s.hasClear && m.Bounds().Overlaps(s.clear) {
					t.Errorf("marker %d overlaps the marker-free rectangle %v", m.ID, s.clear)
				}
			}
			if !inside(s.Free, area) || !s.Free.Contains(0, 0) {
				t.Errorf("free zone %v: want it inside %v, around the centre", s.Free, area)
			}
			if p == A4 && (s.Free.Dx() < 150 || s.Free.Dy() < 90) {
				t.Errorf("free zone is %v × %v mm, want >= 150 × 90", s.Free.Dx(), s.Free.Dy())
			}

			b := s.Bar
			if b.End[0]-b.Start[0] != 100 || b.End[1] != b.Start[1] || b.Length != 100 || b.Segment != 10 {
				t.Errorf("bar from %v to %v, length %v, segment %v: want exactly 100 mm along +x, 10 mm segments",
					b.Start, b.End, b.Length, b.Segment)
			}
			if b.Height < 3 || b.Height > 5 {
				t.Errorf("bar height %v mm, want about 4", b.Height)
			}
			if !inside(barExtent(b), area) {
				t.Errorf("bar %v outside the printable area %v", barExtent(b), area)
			}
			if barExtent(b).Overlaps(s.Free) {
				t.Errorf("bar %v overlaps the free zone %v", barExtent(b), s.Free)
			}
			// Along a long edge: between the free zone and a long side.
			if math.Abs(b.Start[1]) <= s.Free.Max[1] {
				t.Errorf("bar at y = %v is not between the free zone and a long edge", b.Start[1])
			}
		})
	}
}

func TestMarkerCorners(t *testing.T) {
	m := Marker{ID: 3, Center: [2]float64{10, -20}, Size: 30}
	want := [4][2]float64{{-5, -5}, {25, -5}, {25, -35}, {-5, -35}}
	if got := m.Corners(); got != want {
		t.Errorf("Corners() = %v, want %v (top-left, top-right, bottom-right, bottom-left; top is +y)", got, want)
	}
	if got, want := m.CellCenter(0, 0), [2]float64{-2.5, -7.5}; got != want {
		t.Errorf("CellCenter(0, 0) = %v, want %v", got, want)
	}
	if got, want := m.CellCenter(5, 5), [2]float64{22.5, -32.5}; got != want {
		t.Errorf("CellCenter(5, 5) = %v, want %v", got, want)
	}
	// The corners go clockwise seen from above (+z towards the viewer):
	// their signed area is negative.
	c := m.Corners()
	area := 0.0
	for i := range 4 {
		j := (i + 1) % 4
		area += c[i][0]*c[j][1] - c[j][0]*c[i][1]
	}
	if area >= 0 {
		t.Errorf("signed area of Corners() = %v, want < 0 (clockwise seen from above)", area/2)
	}
}

func TestInkFreeZoneAndMargins(t *testing.T) {
	for _, p := range allPapers {
		s := Layout(p)
		area := printable(s)
		const step = 0.25
		for x := -s.Width / 2; x <= s.Width/2; x += step {
			for y := -s.Height / 2; y <= s.Height/2; y += step {
				ink, on := s.Ink(x, y)
				if !on {
					t.Fatalf("%v: Ink(%v, %v) is off the sheet", p, x, y)
				}
				if ink && (s.Free.Contains(x, y) || !area.Contains(x, y)) {
					t.Fatalf("%v: Ink(%v, %v) = true in the free zone or the margin", p, x, y)
				}
			}
		}
	}
}

func TestInkOffSheet(t *testing.T) {
	s := Layout(A4)
	for _, pt := range [][2]float64{{148.6, 0}, {0, -105.1}, {-200, 200}, {math.NaN(), 0}, {0, math.Inf(1)}} {
		if ink, on := s.Ink(pt[0], pt[1]); ink || on {
			t.Errorf("Ink(%v, %v) = %v, %v; want false, false", pt[0], pt[1], ink, on)
		}
	}
	for _, pt := range [][2]float64{{148.5, 105}, {-148.5, -105}, {0, 0}} {
		if _, on := s.Ink(pt[0], pt[1]); !on {
			t.Errorf("Ink(%v, %v) is off the sheet, want on it", pt[0], pt[1])
		}
	}
}

// blackCell returns whether cell (row, col) of marker id's 6×6 grid is black.
func blackCell(id, row, col int) bool {
	if row == 0 || col == 0 || row == GridCells-1 || col == GridCells-1 {
		return true
	}
	return Code(id)[row-1][col-1]
}

func TestInkMatchesCode(t *testing.T) {
	for _, p := range allPapers {
		s := Layout(p)
		for _, m := range s.Markers {
			for row := range GridCells {
				for col := range GridCells {
					c := m.CellCenter(row, col)
					want := blackCell(m.ID, row, col)
					// The centre and points a third of a cell away from it.
					d := m.CellSize() / 3
					for _, o := range [][2]float64{{0, 0}, {d, d}, {-d, d}, {d, -d}, {-d, -d}} {
						if got, _ := s.Ink(c[0]+o[0], c[1]+o[1]); got != want {
							t.Errorf("%v marker %d cell (%d, %d): Ink(%v, %v) = %v, want %v",
								p, m.ID, row, col, c[0]+o[0], c[1]+o[1], got, want)
						}
					}
				}
			}
			// Just outside the black square: the quiet zone.
			for _, c := range m.Corners() {
				for _, o := range [][2]float64{{-0.5, 0}, {0.5, 0}, {0, -0.5}, {0, 0.5}} {
					x, y := c[0]+o[0], c[1]+o[1]
					if !m.Bounds().Contains(x, y) {
						if ink, _ := s.Ink(x, y); ink {
							t.Errorf("%v marker %d: Ink(%v, %v) = true just outside the square", p, m.ID, x, y)
						}
					}
				}
			}
		}
	}
}

func TestInkBar(t *testing.T) {
	for _, p := range allPapers {
		s := Layout(p)
		b := s.Bar
		y := b.Start[1]
		for k := range 10 {
			x := b.Start[0] + (float64(k)+0.5)*b.Segment
			for _, dy := range []float64{0, b.Height/2 - 0.5, -b.Height/2 + 0.5} {
				if got, want := ink(s, x, y+dy), k%2 == 0; got != want {
					t.Errorf("%v bar segment %d: Ink(%v, %v) = %v, want %v", p, k, x, y+dy, got, want)
				}
			}
		}
		// The frame line is centred on the outline; beyond it, white.
		l := b.Line / 2
		for _, pt := range [][2]float64{
			{b.End[0], y}, {b.End[0] + l*0.9, y}, {b.End[0] - l*0.9, y},
			{b.Start[0] + 15, y + b.Height/2}, {b.Start[0] + 15, y - b.Height/2},
		} {
			if !ink(s, pt[0], pt[1]) {
				t.Errorf("%v bar frame: Ink(%v, %v) = false, want true", p, pt[0], pt[1])
			}
		}
		for _, pt := range [][2]float64{
			{b.End[0] + l*1.1, y}, {b.Start[0] - l*1.1, y}, {b.Start[0] + 15, y + b.Height/2 + l*1.1},
			{b.End[0] - l*1.1, y}, // inside the last, white segment
		} {
			if ink(s, pt[0], pt[1]) {
				t.Errorf("%v bar: Ink(%v, %v) = true, want false", p, pt[0], pt[1])
			}
		}
	}
}

func ink(s *Sheet, x, y float64) bool {
	i, _ := s.Ink(x, y)
	return i
}

func TestInkDoesNotAllocate(t *testing.T) {
	s := Layout(A4)
	m := s.Markers[3].CellCenter(2, 3)
	if n := testing.AllocsPerRun(100, func() {
		s.Ink(0, 0)
		s.Ink(m[0], m[1])
		s.Ink(s.Bar.Start[0]+1, s.Bar.Start[1])
		s.Ink(-140, 0)
	}); n != 0 {
		t.Errorf("Ink allocates %v times per run, want 0", n)
	}
}

func TestLabels(t *testing.T) {
	titles := map[string]string{
		"default": "",
		"parens":  `Bracket (v2) \ back`,
		"unicode": "Halterung für Regal — Ø 8 mm 中",
		"long":    strings.Repeat("A very long title ", 30),
		"tiny":    "x",
	}
	for _, p := range allPapers {
		s := Layout(p)
		area := printable(s)
		for name, title := range titles {
			t.Run(p.String()+"/"+name, func(t *testing.T) {
				ls := s.labels(title)
				if len(ls) != 5+len(s.Markers) {
					t.Fatalf("%d labels, want %d", len(ls), 5+len(s.Markers))
				}
				if title != "" && name != "long" && ls[0].text != title {
					t.Errorf("title label = %q, want %q", ls[0].text, title)
				}
				if ls[0].size < minTitleSize {
					t.Errorf("title size %v mm, want >= %v", ls[0].size, minTitleSize)
				}
				for i, l := range ls {
					b := l.box()
					if !inside(b, area) {
						t.Errorf("label %q at %v is outside the printable area %v", l.text, b, area)
					}
					if b.Overlaps(s.Free) {
						t.Errorf("label %q at %v overlaps the free zone %v", l.text, b, s.Free)
					}
					if b.Overlaps(barExtent(s.Bar)) {
						t.Errorf("label %q at %v overlaps the check bar", l.text, b)
					}
					for _, m := range s.Markers {
						if b.Overlaps(m.Bounds().Inset(-m.CellSize())) {
							t.Errorf("label %q at %v overlaps marker %d or its quiet zone", l.text, b, m.ID)
						}
					}
					for _, o := range ls[i+1:] {
						if b.Overlaps(o.box()) {
							t.Errorf("labels %q and %q overlap", l.text, o.text)
						}
					}
				}
			})
		}
	}
}

// TestIDLabelsBesideTheirMarkers checks that each ID label is the one
// nearest its marker.
func TestIDLabelsBesideTheirMarkers(t *testing.T) {
	s := Layout(A4)
	ls := s.labels("")[5:]
	for i, m := range s.Markers {
		b := ls[i].box()
		if ls[i].text != "ID "+strconv.Itoa(m.ID) {
			t.Errorf("label %d = %q, want ID %d", i, ls[i].text, m.ID)
		}
		cx := (b.Min[0] + b.Max[0]) / 2
		if math.Abs(cx-m.Center[0]) > 1e-9 {
			t.Errorf("label %q centred at x = %v, want %v", ls[i].text, cx, m.Center[0])
		}
		gap := math.Min(math.Abs(b.Min[1]-m.Bounds().Max[1]), math.Abs(m.Bounds().Min[1]-b.Max[1]))
		if gap > 2*m.CellSize() {
			t.Errorf("label %q is %v mm from its marker, want <= %v", ls[i].text, gap, 2*m.CellSize())
		}
	}
}

// BenchmarkInk samples random points of the paper and around it.
func BenchmarkInk(b *testing.B) {
	s := Layout(A4)
	rng := rand.New(rand.NewPCG(1, 1))
	pts := make([][2]float64, 4096)
	for i := range pts {
		pts[i] = [2]float64{(rng.Float64() - 0.5) * s.Width * 1.1, (rng.Float64() - 0.5) * s.Height * 1.1}
	}
	i := 0
	for b.Loop() {
		p := pts[i%len(pts)]
		s.Ink(p[0], p[1])
		i++
	}
}

// BenchmarkInkRaster scans the paper in rows, as the photo renderer does:
// one op is one sample.
func BenchmarkInkRaster(b *testing.B) {
	s := Layout(A4)
	const step = 0.2
	x, y := -s.Width/2, -s.Height/2
	for b.Loop() {
		s.Ink(x, y)
		if x += step; x > s.Width/2 {
			x = -s.Width / 2
			if y += step; y > s.Height/2 {
				y = -s.Height / 2
			}
		}
	}
}
