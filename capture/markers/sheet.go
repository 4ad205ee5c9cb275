package markers

import (
	"fmt"
	"math"
	"strings"
)

// Paper is a paper size the sheet is printed on. The zero value is A4.
type Paper int

// Paper sizes.
const (
	A4     Paper = iota // ISO A4, 297 × 210 mm
	Letter              // US Letter, 11 × 8.5 in = 279.4 × 215.9 mm
)

var papers = [...]struct {
	name         string
	long, short  float64 // mm
	flagSpelling string
}{
	A4:     {"A4", 297, 210, "a4"},
	Letter: {"Letter", 279.4, 215.9, "letter"},
}

func (p Paper) valid() bool { return p >= 0 && int(p) < len(papers) }

// String returns the paper's name, "A4" or "Letter".
func (p Paper) String() string {
	if !p.valid() {
		return fmt.Sprintf("Paper(%d)", int(p))
	}
	return papers[p].name
}

// Size returns the paper's size in millimetres, landscape: width is the long
// side. It returns 0, 0 for an unknown paper.
func (p Paper) Size() (width, height float64) {
	if !p.valid() {
		return 0, 0
	}
	return papers[p].long, papers[p].short
}

// ParsePaper parses a paper name as the command line spells it, "a4" or
// "letter" (case and surrounding space do not matter).
func ParsePaper(s string) (Paper, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	var names []string
	for p, info := range papers {
		if s == info.flagSpelling {
			return Paper(p), nil
		}
		names = append(names, info.flagSpelling)
	}
	return 0, fmt.Errorf("unknown paper %q (want %s)", s, strings.Join(names, " or "))
}

// Layout constants, in millimetres.
const (
	// margin is the band along every paper edge that carries no ink. Most
	// printers cannot print the outer 3 to 6 mm; 10 mm leaves room for a
	// sheet fed a little askew.
	margin = 10.0
	// markerSize is the side of a marker's black square, border included:
	// cells of 4.5 mm stay at least 4 px wide in a 12 MP photo of the whole
	// sheet taken from 50 cm, and 27 mm leaves room for the free zone.
	markerSize = 27.0
	// quiet is the white gap kept around every marker, one cell wide, as
	// ArUco's detector needs to find the border's outer contour.
	quiet = markerSize / GridCells
	// sideMarkers and bottomMarkers count the markers between the corners
	// on each short side and on the bottom long side; the top long side
	// carries the title, instructions and check bar between its corners.
	sideMarkers   = 2
	bottomMarkers = 3
	// barLength, barSegment, barHeight and barLine describe the check bar:
	// alternating black and white segments inside a thin frame whose line is
	// centred on the bar's outline, so a ruler reads 100 mm between the
	// frame's end lines.
	barLength  = 100.0
	barSegment = 10.0
	barHeight  = 4.0
	barLine    = 0.3
	// barTop is how far the top of the bar lies below the top of the
	// printable area, under three lines of text (see pdf.go).
	barTop = 22.0
	// freeGap is the least gap between the free zone and any ink, text
	// included.
	freeGap = 2.0
)

// A Sheet is the layout of the printed scale sheet in its own frame, in
// millimetres: origin at the centre of the paper, x along the long side, y
// along the short side, landscape (see the package comment). A Sheet made by
// [Layout] must not be modified.
type Sheet struct {
	Paper Paper
	// Width and Height are the paper's size along x and y.
	Width, Height float64
	// Margin is the width of the band along every paper edge that carries
	// no ink.
	Margin float64
	// Markers lists the markers clockwise seen from above, starting at the
	// top-left corner; Markers[i].ID is i.
	Markers []Marker
	// Free is the central zone, free of ink, where the part stands.
	Free Rect
	// Bar is the 100 mm check bar the user measures to verify the print
	// scale.
	Bar CheckBar

	// clear is a rectangle that no marker overlaps, set by Layout when
	// hasClear is true; Ink looks only for the bar there.
	clear    Rect
	hasClear bool
}

// A Marker is one printed marker: the 6×6-cell black square of code [Code](ID),
// upright on the sheet (row 0 of the code at +y).
type Marker struct {
	ID int
	// Center is the centre of the black square in sheet millimetres.
	Center [2]float64
	// Size is the side of the black square, border included, in millimetres.
	Size float64
}

// Corners returns the corners of the black square's outline in sheet
// millimetres, in ArUco's order for an image of the printed sheet seen from
// above with the sheet's +y up: top-left, top-right, bottom-right,
// bottom-left, where top is +y and left is −x. The order is clockwise seen
// from above.
func (m Marker) Corners() [4][2]float64 {
	h := m.Size / 2
	x, y := m.Center[0], m.Center[1]
	return [4][2]float64{{x - h, y + h}, {x + h, y + h}, {x + h, y - h}, {x - h, y - h}}
}

// CellSize returns the side of one of the marker's cells, Size/6.
func (m Marker) CellSize() float64 { return m.Size / GridCells }

// CellCenter returns the centre, in sheet millimetres, of cell (row, col) of
// the marker's 6×6 grid: row 0 is the top border row (+y), col 0 the left
// border column (−x). Data cell [r][c] of [Code] is cell (r+1, c+1).
func (m Marker) CellCenter(row, col int) [2]float64 {
	c := m.CellSize()
	h := m.Size / 2
	return [2]float64{m.Center[0] - h + (float64(col)+0.5)*c, m.Center[1] + h - (float64(row)+0.5)*c}
}

// Bounds returns the marker's black square.
func (m Marker) Bounds() Rect {
	h := m.Size / 2
	return Rect{Min: [2]float64{m.Center[0] - h, m.Center[1] - h}, Max: [2]float64{m.Center[0] + h, m.Center[1] + h}}
}

// ink reports whether the marker is black at (x, y), and whether (x, y) lies
// on its square at all.
func (m *Marker) ink(x, y float64) (ink, inside bool) {
	h := m.Size / 2
	u := x - (m.Center[0] - h) // from the left edge, rightwards
	v := (m.Center[1] + h) - y // from the top edge, downwards
	if !(u >= 0 && u < m.Size && v >= 0 && v < m.Size) {
		return false, false
	}
	col := int(u * GridCells / m.Size)
	row := int(v * GridCells / m.Size)
	if row == 0 || col == 0 || row >= GridCells-1 || col >= GridCells-1 {
		return true, true
	}
	if uint(m.ID) >= uint(len(codes)) {
		return false, true
	}
	return bit(codes[m.ID], row-1, col-1), true
}

// A Rect is an axis-aligned rectangle in sheet millimetres, edges included.
type Rect struct {
	Min, Max [2]float64
}

// Contains reports whether (x, y) lies in r, edges included.
func (r Rect) Contains(x, y float64) bool {
	return x >= r.Min[0] && x <= r.Max[0] && y >= r.Min[1] && y <= r.Max[1]
}

// Overlaps reports whether r and o share more than an edge.
func (r Rect) Overlaps(o Rect) bool {
	return r.Min[0] < o.Max[0] && o.Min[0] < r.Max[0] && r.Min[1] < o.Max[1] && o.Min[1] < r.Max[1]
}

// Inset returns r shrunk by d on every side (grown when d < 0).
func (r Rect) Inset(d float64) Rect {
	return Rect{Min: [2]float64{r.Min[0] + d, r.Min[1] + d}, Max: [2]float64{r.Max[0] - d, r.Max[1] - d}}
}

// Dx returns the rectangle's width.
func (r Rect) Dx() float64 { return r.Max[0] - r.Min[0] }

// Dy returns the rectangle's height.
func (r Rect) Dy() float64 { return r.Max[1] - r.Min[1] }

// A CheckBar is the printed scale check: Length/Segment segments of equal
// length along +x, alternately black and white starting with black at Start,
// inside a thin black frame whose line (Line wide) is centred on the bar's
// outline.
type CheckBar struct {
	// Start and End are the ends of the bar's centre line in sheet
	// millimetres; End is exactly Length mm from Start along +x.
	Start, End [2]float64
	// Length is the bar's length (100 mm), Segment the length of one
	// segment (10 mm), Height the bar's height across, all in millimetres.
	Length, Segment, Height float64
	// Line is the width of the frame line, in millimetres.
	Line float64
}

// Bounds returns the bar's outline, frame line not included (the frame line
// is centred on it).
func (b CheckBar) Bounds() Rect {
	h := b.Height / 2
	return Rect{Min: [2]float64{b.Start[0], b.Start[1] - h}, Max: [2]float64{b.End[0], b.End[1] + h}}
}

// ink reports whether the bar or its frame is black at (x, y), and whether
// (x, y) lies within the bar's extent, frame included.
func (b *CheckBar) ink(x, y float64) (ink, inside bool) {
	l := b.Line / 2
	h := b.Height / 2
	if !(x >= b.Start[0]-l && x <= b.End[0]+l && y >= b.Start[1]-h-l && y <= b.Start[1]+h+l) {
		return false, false
	}
	if x < b.Start[0]+l || x > b.End[0]-l || y < b.Start[1]-h+l || y > b.Start[1]+h-l {
		return true, true // the frame
	}
	return int((x-b.Start[0])/b.Segment)%2 == 0, true
}

// Layout returns the sheet for paper p. Markers of 27 mm (4.5 mm cells) go
// around the border, at the four corners, two between the corners on each
// short side and three along the bottom; the top long side, between its
// corner markers, carries the title, the printing instructions and the check
// bar. Everything stays 10 mm inside the paper's edges, and the central free
// zone (210 × 118 mm on A4, 192 × 124 mm on Letter) carries no ink. Layout
// panics on an unknown paper.
func Layout(p Paper) *Sheet {
	w, h := p.Size()
	if w == 0 {
		panic(fmt.Sprintf("markers: Layout of unknown paper %v", p))
	}
	s := &Sheet{Paper: p, Width: w, Height: h, Margin: margin}
	// xe, ye: the edges of the printable area; cx, cy: corner marker centres.
	xe, ye := w/2-margin, h/2-margin
	cx, cy := xe-markerSize/2, ye-markerSize/2
	add := func(x, y float64) {
		s.Markers = append(s.Markers, Marker{ID: len(s.Markers), Center: [2]float64{x, y}, Size: markerSize})
	}
	along := func(from, to float64, i, n int) float64 { return from + (to-from)*float64(i)/float64(n+1) }
	add(-cx, cy) // top-left
	add(cx, cy)  // top-right
	for i := 1; i <= sideMarkers; i++ {
		add(cx, along(cy, -cy, i, sideMarkers)) // right side, downwards
	}
	add(cx, -cy) // bottom-right
	for i := 1; i <= bottomMarkers; i++ {
		add(along(cx, -cx, i, bottomMarkers), -cy) // bottom, leftwards
	}
	add(-cx, -cy) // bottom-left
	for i := 1; i <= sideMarkers; i++ {
		add(-cx, along(-cy, cy, i, sideMarkers)) // left side, upwards
	}

	// The free zone reaches the side markers' quiet zones (less a gap), the
	// check bar's frame above and the ID labels over the bottom markers.
	freeW := math.Floor(xe - markerSize - quiet - freeGap)
	barBottom := ye - barTop - barHeight
	top := barBottom - barLine/2 - 2*freeGap
	bottom := -ye + markerSize + quiet + idLabelHeight + freeGap
	freeH := math.Floor(math.Min(top, -bottom))
	s.Free = Rect{Min: [2]float64{-freeW, -freeH}, Max: [2]float64{freeW, freeH}}

	// No marker reaches between the side columns above the bottom row.
	s.clear = Rect{Min: [2]float64{-xe + markerSize, -ye + markerSize}, Max: [2]float64{xe - markerSize, ye}}
	s.hasClear = true

	// The bar starts at the free zone's left edge, so the text above it,
	// which starts there too, lines up with it.
	by := barBottom + barHeight/2
	s.Bar = CheckBar{
		Start:   [2]float64{-freeW, by},
		End:     [2]float64{-freeW + barLength, by},
		Length:  barLength,
		Segment: barSegment,
		Height:  barHeight,
		Line:    barLine,
	}
	return s
}

// Ink reports whether the printed sheet is black at sheet point (x, y), in
// millimetres, and whether the point lies on the paper at all. It draws the
// markers and the check bar, exactly as [Sheet.WritePDF] prints them; the
// PDF's text is not part of it. Ink is fast and does not allocate: the
// photo renderer calls it for every sample.
func (s *Sheet) Ink(x, y float64) (ink, onSheet bool) {
	// The negated form also rejects NaN.
	if !(math.Abs(x) <= s.Width/2 && math.Abs(y) <= s.Height/2) {
		return false, false
	}
	if s.Free.Contains(x, y) {
		return false, true
	}
	if ink, in := s.Bar.ink(x, y); in || (s.hasClear && s.clear.Contains(x, y)) {
		return ink, true
	}
	for i := range s.Markers {
		m := &s.Markers[i]
		if h := m.Size / 2; math.Abs(x-m.Center[0]) <= h && math.Abs(y-m.Center[1]) <= h {
			if ink, in := m.ink(x, y); in {
				return ink, true
			}
		}
	}
	return false, true
}
