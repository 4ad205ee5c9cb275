package markers

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
)

// pt is one PostScript point in millimetres.
const pt = 25.4 / 72

// Text sizes, in millimetres.
const (
	titleSize    = 12 * pt
	minTitleSize = 7 * pt
	instrSize    = 9 * pt
	smallSize    = 8 * pt
	idSize       = 6 * pt
)

// Vertical extent of Helvetica's glyphs as fractions of the font size: the
// font's bounding box (FontBBox −166 −225 1000 931 in Adobe's AFM file) and
// its cap height (718).
const (
	fontDescent = 0.225
	fontAscent  = 0.931
	capHeight   = 0.718
)

// idLabelHeight is the height of the box of a marker's ID label.
const idLabelHeight = (fontAscent + fontDescent) * idSize

// DefaultTitle is the title WritePDF prints when it is given none.
const DefaultTitle = "Replica scale sheet"

// The fixed lines of text on the sheet.
const (
	instructionText = "Print at 100% (actual size, no fit-to-page). The bar must measure 100 mm."
	helpText        = "Lay the sheet flat and stand the part in the empty centre. Keep several markers in view in every photo."
	barText         = "100 mm"
)

// A label is one line of text of the PDF, in Helvetica.
type label struct {
	text string  // UTF-8; drawn in WinAnsiEncoding
	x, y float64 // start of the baseline, sheet mm
	size float64 // font size, mm
}

// box returns the space the label's glyphs may cover.
func (l label) box() Rect {
	return Rect{
		Min: [2]float64{l.x, l.y - fontDescent*l.size},
		Max: [2]float64{l.x + textWidth(l.text)*l.size, l.y + fontAscent*l.size},
	}
}

// labels lays out the text of the sheet: above the check bar, left-aligned
// with it, the title, the printing instruction and a line of advice; the
// bar's length and the paper to the right of the bar; and each marker's ID
// one cell away from its square, on the side towards the sheet's centre line.
func (s *Sheet) labels(title string) []label {
	if strings.TrimSpace(title) == "" {
		title = DefaultTitle
	}
	top := s.Height/2 - s.Margin
	left, width := s.Free.Min[0], s.Free.Dx()

	// Shrink a long title in half-point steps, then cut it.
	points := titleSize / pt
	for points > minTitleSize/pt && textWidth(title)*points*pt > width {
		points -= 0.5
	}
	size := points * pt
	if textWidth(title)*size > width {
		r := []rune(title)
		for len(r) > 0 && textWidth(string(r)+"…")*size > width {
			r = r[:len(r)-1]
		}
		title = string(r) + "…"
	}

	barBase := s.Bar.Start[1] - capHeight*smallSize/2 // caps centred on the bar
	w, h := s.Paper.Size()
	paper := fmt.Sprintf("Paper: %s, %s × %s mm, landscape", s.Paper, mm(w), mm(h))
	ls := []label{
		{title, left, top - 5, size},
		{instructionText, left, top - 11.5, instrSize},
		{helpText, left, top - 17, smallSize},
		{barText, s.Bar.End[0] + 3, barBase, smallSize},
		{paper, s.Free.Max[0] - textWidth(paper)*smallSize, barBase, smallSize},
	}
	for _, m := range s.Markers {
		text := "ID " + strconv.Itoa(m.ID)
		b := m.Bounds()
		x := m.Center[0] - textWidth(text)*idSize/2
		gap := m.CellSize() // keeps the marker's quiet zone white
		if m.Center[1] >= 0 {
			ls = append(ls, label{text, x, b.Min[1] - gap - fontAscent*idSize, idSize})
		} else {
			ls = append(ls, label{text, x, b.Max[1] + gap + fontDescent*idSize, idSize})
		}
	}
	return ls
}

// mm formats a length for people: "297", "279.4".
func mm(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// WritePDF writes the sheet as a one-page PDF 1.4 whose page is the paper,
// landscape, with title printed at the top (DefaultTitle when empty). Markers
// and check bar are filled rectangles at exactly the layout's positions, so
// that the sheet printed at 100% is to scale; the text is in the standard
// Helvetica font. The output depends only on the sheet and the title.
func (s *Sheet) WritePDF(w io.Writer, title string) error {
	if strings.TrimSpace(title) == "" {
		title = DefaultTitle
	}
	for _, m := range s.Markers {
		if m.ID < 0 || m.ID >= len(codes) {
			return fmt.Errorf("markers: marker ID %d out of range [0, %d)", m.ID, len(codes))
		}
	}
	wpt, hpt := s.Width/pt, s.Height/pt

	var c bytes.Buffer
	// Sheet millimetres to PDF points: scale, then move the origin from the
	// page's lower-left corner to its centre. Both frames have y up.
	fmt.Fprintf(&c, "q\n%s 0 0 %s %s %s cm\n0 g\n", num(1/pt), num(1/pt), num(wpt/2), num(hpt/2))
	for _, m := range s.Markers {
		writeMarker(&c, m)
	}
	writeBar(&c, s.Bar)
	c.WriteString("BT\n")
	for _, l := range s.labels(title) {
		fmt.Fprintf(&c, "/F1 %s Tf 1 0 0 1 %s %s Tm ", num(l.size), num(l.x), num(l.y))
		writePDFString(&c, l.text)
		c.WriteString(" Tj\n")
	}
	c.WriteString("ET\nQ\n")

	var d pdfDoc
	d.buf.WriteString("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n") // the comment marks the file as binary
	d.object("<< /Type /Catalog /Pages 2 0 R /ViewerPreferences << /PrintScaling /None >> >>")
	d.object("<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	d.object(fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %s %s] "+
		"/Resources << /Font << /F1 5 0 R >> /ProcSet [/PDF /Text] >> /Contents 4 0 R >>", num(wpt), num(hpt)))
	d.object(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", c.Len(), c.Bytes()))
	d.object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	d.object(fmt.Sprintf("<< /Title %s /Creator (replica markers) /Producer (Replica) >>", pdfTextString(title)))
	d.finish("/Root 1 0 R /Info 6 0 R")
	_, err := w.Write(d.buf.Bytes())
	return err
}

// writeMarker draws the marker's black cells as one path of rectangles, one
// per horizontal run of black cells, filled at once: a single fill of the
// union leaves no hairline seams between cells when a viewer antialiases.
func writeMarker(c *bytes.Buffer, m Marker) {
	cell := m.CellSize()
	x0, y0 := m.Center[0]-m.Size/2, m.Center[1]+m.Size/2 // top-left corner
	code := codes[m.ID]
	black := func(row, col int) bool {
		if row == 0 || col == 0 || row == GridCells-1 || col == GridCells-1 {
			return true
		}
		return bit(code, row-1, col-1)
	}
	for row := range GridCells {
		for col := 0; col < GridCells; {
			if !black(row, col) {
				col++
				continue
			}
			end := col
			for end < GridCells && black(row, end) {
				end++
			}
			rect(c, x0+float64(col)*cell, y0-float64(row+1)*cell, float64(end-col)*cell, cell)
			col = end
		}
	}
	c.WriteString("f\n")
}

// writeBar draws the check bar's black segments and its frame as one path.
func writeBar(c *bytes.Buffer, b CheckBar) {
	r := b.Bounds()
	for x := r.Min[0]; x < r.Max[0]-b.Segment/2; x += 2 * b.Segment {
		rect(c, x, r.Min[1], b.Segment, b.Height)
	}
	l := b.Line / 2
	rect(c, r.Min[0]-l, r.Max[1]-l, r.Dx()+b.Line, b.Line) // top
	rect(c, r.Min[0]-l, r.Min[1]-l, r.Dx()+b.Line, b.Line) // bottom
	rect(c, r.Min[0]-l, r.Min[1]-l, b.Line, r.Dy()+b.Line) // left
	rect(c, r.Max[0]-l, r.Min[1]-l, b.Line, r.Dy()+b.Line) // right
	c.WriteString("f\n")
}

func rect(c *bytes.Buffer, x, y, w, h float64) {
	fmt.Fprintf(c, "%s %s %s %s re\n", num(x), num(y), num(w), num(h))
}

// num formats a PDF number with at most 4 decimals (0.1 µm in sheet
// millimetres), without trailing zeros.
func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 4, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// pdfDoc assembles the file and remembers where each object starts for the
// cross-reference table (PDF 1.4 reference, §3.4.3).
type pdfDoc struct {
	buf     bytes.Buffer
	offsets []int
}

// object appends the next object, numbered from 1.
func (d *pdfDoc) object(body string) {
	d.offsets = append(d.offsets, d.buf.Len())
	fmt.Fprintf(&d.buf, "%d 0 obj\n%s\nendobj\n", len(d.offsets), body)
}

// finish appends the cross-reference table, whose entries are exactly 20
// bytes each, and the trailer.
func (d *pdfDoc) finish(trailer string) {
	xref := d.buf.Len()
	fmt.Fprintf(&d.buf, "xref\n0 %d\n0000000000 65535 f \n", len(d.offsets)+1)
	for _, off := range d.offsets {
		fmt.Fprintf(&d.buf, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&d.buf, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", len(d.offsets)+1, trailer, xref)
}

// writePDFString writes text as a PDF literal string in WinAnsiEncoding:
// backslash, parentheses and every byte outside printable ASCII are escaped,
// so the content stream stays ASCII. Runes WinAnsiEncoding lacks become "?".
func writePDFString(c *bytes.Buffer, text string) {
	c.WriteByte('(')
	for _, r := range text {
		b := winAnsi(r)
		switch {
		case b == '(' || b == ')' || b == '\\':
			c.WriteByte('\\')
			c.WriteByte(b)
		case b < 0x20 || b >= 0x7f:
			fmt.Fprintf(c, "\\%03o", b)
		default:
			c.WriteByte(b)
		}
	}
	c.WriteByte(')')
}

// pdfTextString encodes text for the document information dictionary as a
// UTF-16BE hex string with a byte order mark (PDF 1.4 reference, §3.8.1),
// which holds any Unicode title.
func pdfTextString(text string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(text)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	b.WriteString(">")
	return b.String()
}

// winAnsiHigh maps the runes of WinAnsiEncoding's bytes 0x80–0x9F (PDF 1.4
// reference, Appendix D) to their bytes.
var winAnsiHigh = map[rune]byte{
	'€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87,
	'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e,
	'‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97,
	'˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
}

// winAnsi returns the WinAnsiEncoding byte of r: ASCII and Latin-1 map to
// themselves, control characters to a space, runes without a byte to "?".
func winAnsi(r rune) byte {
	switch {
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		return ' '
	case r < 0x100:
		return byte(r)
	}
	if b, ok := winAnsiHigh[r]; ok {
		return b
	}
	return '?'
}

// textWidth returns the advance width of text in Helvetica at font size 1.
func textWidth(text string) float64 {
	w := 0
	for _, r := range text {
		w += int(helveticaWidths[winAnsi(r)])
	}
	return float64(w) / 1000
}

// helveticaWidths holds the advance widths, in thousandths of the font size,
// of Helvetica's glyphs by WinAnsiEncoding byte, from Adobe's Helvetica.afm
// (Core 14 AFM files). Bytes without a glyph have width 0.
var helveticaWidths = [256]uint16{
	// 0x20–0x7E
	' ': 278, '!': 278, '"': 355, '#': 556, '$': 556, '%': 889, '&': 667, '\'': 191,
	'(': 333, ')': 333, '*': 389, '+': 584, ',': 278, '-': 333, '.': 278, '/': 278,
	'0': 556, '1': 556, '2': 556, '3': 556, '4': 556, '5': 556, '6': 556, '7': 556,
	'8': 556, '9': 556, ':': 278, ';': 278, '<': 584, '=': 584, '>': 584, '?': 556,
	'@': 1015, 'A': 667, 'B': 667, 'C': 722, 'D': 722, 'E': 667, 'F': 611, 'G': 778,
	'H': 722, 'I': 278, 'J': 500, 'K': 667, 'L': 556, 'M': 833, 'N': 722, 'O': 778,
	'P': 667, 'Q': 778, 'R': 722, 'S': 667, 'T': 611, 'U': 722, 'V': 667, 'W': 944,
	'X': 667, 'Y': 667, 'Z': 611, '[': 278, '\\': 278, ']': 278, '^': 469, '_': 556,
	'`': 333, 'a': 556, 'b': 556, 'c': 500, 'd': 556, 'e': 556, 'f': 278, 'g': 556,
	'h': 556, 'i': 222, 'j': 222, 'k': 500, 'l': 222, 'm': 833, 'n': 556, 'o': 556,
	'p': 556, 'q': 556, 'r': 333, 's': 500, 't': 278, 'u': 556, 'v': 500, 'w': 722,
	'x': 500, 'y': 500, 'z': 500, '{': 334, '|': 260, '}': 334, '~': 584,
	// 0x80–0x9F
	0x80: 556, 0x82: 222, 0x83: 556, 0x84: 333, 0x85: 1000, 0x86: 556, 0x87: 556,
	0x88: 333, 0x89: 1000, 0x8a: 667, 0x8b: 333, 0x8c: 1000, 0x8e: 611,
	0x91: 222, 0x92: 222, 0x93: 333, 0x94: 333, 0x95: 350, 0x96: 556, 0x97: 1000,
	0x98: 333, 0x99: 1000, 0x9a: 500, 0x9b: 333, 0x9c: 944, 0x9e: 500, 0x9f: 667,
	// 0xA0–0xBF
	0xa0: 278, 0xa1: 333, 0xa2: 556, 0xa3: 556, 0xa4: 556, 0xa5: 556, 0xa6: 260, 0xa7: 556,
	0xa8: 333, 0xa9: 737, 0xaa: 370, 0xab: 556, 0xac: 584, 0xad: 333, 0xae: 737, 0xaf: 333,
	0xb0: 400, 0xb1: 584, 0xb2: 333, 0xb3: 333, 0xb4: 333, 0xb5: 556, 0xb6: 537, 0xb7: 278,
	0xb8: 333, 0xb9: 333, 0xba: 365, 0xbb: 556, 0xbc: 834, 0xbd: 834, 0xbe: 834, 0xbf: 611,
	// 0xC0–0xFF
	0xc0: 667, 0xc1: 667, 0xc2: 667, 0xc3: 667, 0xc4: 667, 0xc5: 667, 0xc6: 1000, 0xc7: 722,
	0xc8: 667, 0xc9: 667, 0xca: 667, 0xcb: 667, 0xcc: 278, 0xcd: 278, 0xce: 278, 0xcf: 278,
	0xd0: 722, 0xd1: 722, 0xd2: 778, 0xd3: 778, 0xd4: 778, 0xd5: 778, 0xd6: 778, 0xd7: 584,
	0xd8: 778, 0xd9: 722, 0xda: 722, 0xdb: 722, 0xdc: 722, 0xdd: 667, 0xde: 667, 0xdf: 611,
	0xe0: 556, 0xe1: 556, 0xe2: 556, 0xe3: 556, 0xe4: 556, 0xe5: 556, 0xe6: 889, 0xe7: 500,
	0xe8: 556, 0xe9: 556, 0xea: 556, 0xeb: 556, 0xec: 278, 0xed: 278, 0xee: 278, 0xef: 278,
	0xf0: 556, 0xf1: 556, 0xf2: 556, 0xf3: 556, 0xf4: 556, 0xf5: 556, 0xf6: 556, 0xf7: 584,
	0xf8: 611, 0xf9: 556, 0xfa: 556, 0xfb: 556, 0xfc: 556, 0xfd: 500, 0xfe: 556, 0xff: 500,
}
