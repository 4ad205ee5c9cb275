package markers

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// mustPDF returns the sheet for p written as a PDF with title.
func mustPDF(tb testing.TB, p Paper, title string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := Layout(p).WritePDF(&buf, title); err != nil {
		tb.Fatalf("WritePDF: %v", err)
	}
	return buf.Bytes()
}

// TestPDFStructure checks the file's skeleton without an outside parser:
// header, cross-reference offsets that point at "N 0 obj", trailer, stream
// length.
func TestPDFStructure(t *testing.T) {
	for _, p := range allPapers {
		t.Run(p.String(), func(t *testing.T) {
			pdf := mustPDF(t, p, "Bracket (v2)")
			if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) {
				t.Fatalf("PDF starts with %q, want %%PDF-1.4", pdf[:min(len(pdf), 9)])
			}
			m := regexp.MustCompile(`startxref\n(\d+)\n%%EOF\n$`).FindSubmatch(pdf)
			if m == nil {
				t.Fatalf("PDF does not end with startxref and %%%%EOF: %q", pdf[max(0, len(pdf)-40):])
			}
			xref, _ := strconv.Atoi(string(m[1]))
			rest := pdf[xref:]
			hm := regexp.MustCompile(`^xref\n0 (\d+)\n`).FindSubmatch(rest)
			if hm == nil {
				t.Fatalf("startxref %d points at %q, want an xref table", xref, rest[:min(len(rest), 20)])
			}
			n, _ := strconv.Atoi(string(hm[1]))
			entries := rest[len(hm[0]):]
			if len(entries) < 20*n {
				t.Fatalf("xref table has room for %d entries, want %d", len(entries)/20, n)
			}
			if got := string(entries[:20]); got != "0000000000 65535 f \n" {
				t.Errorf("xref entry 0 = %q, want the free-list head", got)
			}
			for i := 1; i < n; i++ {
				e := string(entries[20*i : 20*i+20])
				if !regexp.MustCompile(`^\d{10} 00000 n \n$`).MatchString(e) {
					t.Fatalf("xref entry %d = %q, want 20 bytes \"oooooooooo 00000 n \\n\"", i, e)
				}
				off, _ := strconv.Atoi(e[:10])
				if want := fmt.Sprintf("%d 0 obj\n", i); !bytes.HasPrefix(pdf[off:], []byte(want)) {
					t.Errorf("xref entry %d: offset %d points at %q, want %q", i, off, pdf[off:min(len(pdf), off+12)], want)
				}
			}
			if got := bytes.Count(pdf, []byte(" 0 obj\n")); got != n-1 {
				t.Errorf("%d objects, xref lists %d", got, n-1)
			}
			trailer := entries[20*n:]
			if want := fmt.Sprintf("trailer\n<< /Size %d /Root 1 0 R", n); !bytes.HasPrefix(trailer, []byte(want)) {
				t.Errorf("trailer = %q, want it to start %q", trailer, want)
			}

			sm := regexp.MustCompile(`/Length (\d+) >>\nstream\n`).FindSubmatchIndex(pdf)
			if sm == nil {
				t.Fatal("no content stream")
			}
			length, _ := strconv.Atoi(string(pdf[sm[2]:sm[3]]))
			if after := pdf[sm[1]+length:]; !bytes.HasPrefix(after, []byte("\nendstream\n")) {
				t.Errorf("stream /Length %d is followed by %q, want \\nendstream", length, after[:min(len(after), 12)])
			}
		})
	}
}

func TestPDFPageAndText(t *testing.T) {
	for _, p := range allPapers {
		pdf := string(mustPDF(t, p, "Bracket (v2)"))
		w, h := p.Size()
		want := fmt.Sprintf("/MediaBox [0 0 %s %s]", num(w*72/25.4), num(h*72/25.4))
		if !strings.Contains(pdf, want) {
			t.Errorf("%v: PDF lacks %q", p, want)
		}
		for _, s := range []string{
			`(Bracket \(v2\)) Tj`,
			`(Print at 100% \(actual size, no fit-to-page\). The bar must measure 100 mm.) Tj`,
			`(100 mm) Tj`,
			`(ID 0) Tj`,
			fmt.Sprintf(`(ID %d) Tj`, len(Layout(p).Markers)-1),
			"(Paper: " + p.String() + ", ",
			"/BaseFont /Helvetica",
			"/Title <FEFF0042007200610063006B0065007400200028007600320029>",
		} {
			if !strings.Contains(pdf, s) {
				t.Errorf("%v: PDF lacks %q", p, s)
			}
		}
	}
}

func TestPDFDeterministic(t *testing.T) {
	a, b := mustPDF(t, A4, "x"), mustPDF(t, A4, "x")
	if !bytes.Equal(a, b) {
		t.Error("two PDFs of the same sheet and title differ")
	}
	if c := mustPDF(t, A4, ""); !bytes.Contains(c, []byte("("+DefaultTitle+") Tj")) {
		t.Errorf("PDF with an empty title lacks the default title %q", DefaultTitle)
	}
}

func TestWritePDFString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", "(plain)"},
		{`a(b)c\d`, `(a\(b\)c\\d)`},
		{"é—€×", `(\351\227\200\327)`},
		{"tab\there\n", "(tab here )"},
		{"中", "(?)"},
		{"", "()"},
	} {
		var b bytes.Buffer
		writePDFString(&b, tc.in)
		if got := b.String(); got != tc.want {
			t.Errorf("writePDFString(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got, want := pdfTextString("Ré中😀"), "<FEFF005200E94E2DD83DDE00>"; got != want {
		t.Errorf("pdfTextString = %s, want %s", got, want)
	}
}

func TestTextWidth(t *testing.T) {
	// Helvetica.afm: "100 mm" is 556+556+556+278+833+833.
	if got, want := textWidth("100 mm"), 3.612; math.Abs(got-want) > 1e-12 {
		t.Errorf("textWidth(%q) = %v, want %v", "100 mm", got, want)
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{{0, "0"}, {-0.00001, "0"}, {1.5, "1.5"}, {841.88976377, "841.8898"}, {-12, "-12"}, {2.83464566929, "2.8346"}} {
		if got := num(tc.in); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestWritePDFError(t *testing.T) {
	s := Layout(A4)
	want := errors.New("disk full")
	if err := s.WritePDF(failWriter{want}, ""); !errors.Is(err, want) {
		t.Errorf("WritePDF to a failing writer = %v, want %v", err, want)
	}
	s.Markers = append(s.Markers, Marker{ID: DictionarySize, Size: 27})
	if err := s.WritePDF(&bytes.Buffer{}, ""); err == nil {
		t.Error("WritePDF with a marker ID out of range succeeded, want an error")
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// needPoppler skips the test when the poppler tools are missing.
func needPoppler(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed: apt-get install poppler-utils", tool)
		}
	}
}

func writeTemp(t *testing.T, p Paper, title string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sheet.pdf")
	if err := os.WriteFile(path, mustPDF(t, p, title), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPDFInfo checks with poppler's pdfinfo that the file parses without
// complaint and that its page is exactly the paper.
func TestPDFInfo(t *testing.T) {
	needPoppler(t, "pdfinfo")
	for _, p := range allPapers {
		t.Run(p.String(), func(t *testing.T) {
			path := writeTemp(t, p, "Bracket (v2) — Ø 8")
			var stdout, stderr bytes.Buffer
			cmd := exec.Command("pdfinfo", path)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("pdfinfo: %v\n%s", err, stderr.Bytes())
			}
			if stderr.Len() > 0 {
				t.Errorf("pdfinfo complains: %s", stderr.Bytes())
			}
			info := map[string]string{}
			for _, line := range strings.Split(stdout.String(), "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok {
					info[k] = strings.TrimSpace(v)
				}
			}
			if info["Pages"] != "1" || info["PDF version"] != "1.4" || info["Title"] != "Bracket (v2) — Ø 8" {
				t.Errorf("pdfinfo: Pages %q, PDF version %q, Title %q; want 1, 1.4, the title", info["Pages"], info["PDF version"], info["Title"])
			}
			var gw, gh float64
			if _, err := fmt.Sscanf(info["Page size"], "%g x %g pts", &gw, &gh); err != nil {
				t.Fatalf("pdfinfo page size %q: %v", info["Page size"], err)
			}
			w, h := p.Size()
			if ww, wh := w*72/25.4, h*72/25.4; math.Abs(gw-ww) > 0.01 || math.Abs(gh-wh) > 0.01 {
				t.Errorf("pdfinfo page size = %v x %v pts, want %.3f x %.3f (landscape %v)", gw, gh, ww, wh, p)
			}
			if r := info["Page rot"]; r != "0" {
				t.Errorf("pdfinfo page rotation = %q, want 0", r)
			}
		})
	}
}

// TestPDFText checks with pdftotext that the text reads as it should.
func TestPDFText(t *testing.T) {
	needPoppler(t, "pdftotext")
	path := writeTemp(t, Letter, "Bracket (v2)")
	out, err := exec.Command("pdftotext", "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	for _, s := range []string{
		"Bracket (v2)",
		"Print at 100% (actual size, no fit-to-page). The bar must measure 100 mm.",
		"100 mm",
		"Paper: Letter, 279.4 × 215.9 mm, landscape",
		"ID 0", "ID 10",
	} {
		if !strings.Contains(string(out), s) {
			t.Errorf("pdftotext output lacks %q:\n%s", s, out)
		}
	}
}

// dpi is the resolution of the rendering tests: 7.87 px per mm, so a
// marker cell is 35 px and 1 px is 0.127 mm.
const dpi = 200

// raster is a page rendered by pdftoppm, with the mapping from sheet
// millimetres to pixels.
type raster struct {
	pix  []byte // gray, row by row
	w, h int
	s    *Sheet
	pxmm float64
}

// rasters caches the renderings by paper: two tests look at each.
var rasters = map[Paper]raster{}

// render returns the sheet for p, written as a PDF with the default title
// and rendered by pdftoppm at dpi as a gray PGM.
func render(t *testing.T, p Paper) raster {
	t.Helper()
	if r, ok := rasters[p]; ok {
		return r
	}
	path := writeTemp(t, p, "")
	prefix := filepath.Join(filepath.Dir(path), "page")
	if out, err := exec.Command("pdftoppm", "-r", strconv.Itoa(dpi), "-gray", "-singlefile", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, out)
	}
	data, err := os.ReadFile(prefix + ".pgm")
	if err != nil {
		t.Fatal(err)
	}
	s := Layout(p)
	r := raster{s: s, pxmm: dpi / 25.4}
	// Binary PGM: "P5", width, height, maximum value, one white space, bytes.
	var maxval int
	hdr := bytes.NewReader(data)
	if _, err := fmt.Fscan(hdr, new(string), &r.w, &r.h, &maxval); err != nil || maxval != 255 {
		t.Fatalf("pdftoppm wrote a PGM header we cannot read: %q (%v)", data[:min(len(data), 20)], err)
	}
	r.pix = data[len(data)-hdr.Len()+1:]
	if len(r.pix) != r.w*r.h {
		t.Fatalf("PGM holds %d bytes of pixels, want %d × %d", len(r.pix), r.w, r.h)
	}
	if dx, dy := math.Abs(float64(r.w)-s.Width*r.pxmm), math.Abs(float64(r.h)-s.Height*r.pxmm); dx > 1 || dy > 1 {
		t.Fatalf("rendered page is %d × %d px, want %.1f × %.1f", r.w, r.h, s.Width*r.pxmm, s.Height*r.pxmm)
	}
	rasters[p] = r
	return r
}

// px returns the pixel position, in continuous pixel coordinates (pixel i
// covers [i, i+1)), of sheet point (x, y).
func (r raster) px(x, y float64) (float64, float64) {
	return (x + r.s.Width/2) * r.pxmm, (r.s.Height/2 - y) * r.pxmm
}

func (r raster) gray(i, j int) uint8 { return r.pix[j*r.w+i] }

// dark reports whether the pixel containing sheet point (x, y) is dark.
func (r raster) dark(x, y float64) uint8 {
	i, j := r.px(x, y)
	return r.gray(int(i), int(j))
}

// edges returns the pixel positions along row j, between columns i0 and i1,
// where the image turns from light to dark or back (an edge at position e
// lies between pixels e−1 and e).
func (r raster) edgesRow(j, i0, i1 int) []int {
	var out []int
	for i := i0 + 1; i <= i1; i++ {
		if (r.gray(i-1, j) < 128) != (r.gray(i, j) < 128) {
			out = append(out, i)
		}
	}
	return out
}

func (r raster) edgesCol(i, j0, j1 int) []int {
	var out []int
	for j := j0 + 1; j <= j1; j++ {
		if (r.gray(i, j-1) < 128) != (r.gray(i, j) < 128) {
			out = append(out, j)
		}
	}
	return out
}

// TestPDFRendersToScale renders the PDF with poppler and checks the pixels
// against the layout: marker cells and bar segments have the right colour,
// and the edges of every marker and of every bar segment lie within 1 px
// (0.127 mm) of where the layout puts them, which proves the print scale.
func TestPDFRendersToScale(t *testing.T) {
	needPoppler(t, "pdftoppm")
	for _, p := range allPapers {
		t.Run(p.String(), func(t *testing.T) {
			r := render(t, p)
			s := r.s
			for _, m := range s.Markers {
				for row := range GridCells {
					for col := range GridCells {
						c := m.CellCenter(row, col)
						g := r.dark(c[0], c[1])
						if want := blackCell(m.ID, row, col); (want && g > 64) || (!want && g < 192) {
							t.Errorf("marker %d cell (%d, %d) at %v: gray %d, want black %v", m.ID, row, col, c, g, want)
						}
					}
				}
				// Scan across the top border row and down the left border
				// column, from one cell outside the square to one past it:
				// exactly two edges each, at the square's sides.
				b := m.Bounds()
				cell := m.CellSize()
				top := m.CellCenter(0, 0)
				i0, j := r.px(b.Min[0]-cell, top[1])
				i1, _ := r.px(b.Max[0]+cell, top[1])
				wantL, _ := r.px(b.Min[0], 0)
				wantR, _ := r.px(b.Max[0], 0)
				checkEdges(t, fmt.Sprintf("marker %d, across", m.ID), r.edgesRow(int(j), int(i0), int(i1)), []float64{wantL, wantR})
				i, j0 := r.px(top[0], b.Max[1]+cell)
				_, j1 := r.px(top[0], b.Min[1]-cell)
				_, wantT := r.px(0, b.Max[1])
				_, wantB := r.px(0, b.Min[1])
				checkEdges(t, fmt.Sprintf("marker %d, down", m.ID), r.edgesCol(int(i), int(j0), int(j1)), []float64{wantT, wantB})
			}

			// The bar: segment colours at their centres, and the nine edges
			// between segments along the centre line.
			bar := s.Bar
			var want []float64
			for k := range 10 {
				x := bar.Start[0] + (float64(k)+0.5)*bar.Segment
				g := r.dark(x, bar.Start[1])
				if black := k%2 == 0; (black && g > 64) || (!black && g < 192) {
					t.Errorf("bar segment %d at x = %v: gray %d, want black %v", k, x, g, black)
				}
				if k > 0 {
					e, _ := r.px(bar.Start[0]+float64(k)*bar.Segment, 0)
					want = append(want, e)
				}
			}
			i0, j := r.px(bar.Start[0]+bar.Segment/2, bar.Start[1])
			i1, _ := r.px(bar.End[0]-bar.Segment/2, bar.Start[1])
			checkEdges(t, "bar", r.edgesRow(int(j), int(i0), int(i1)), want)
		})
	}
}

// checkEdges compares edge positions found in the image with those wanted.
func checkEdges(t *testing.T, what string, got []int, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: edges at px %v, want %d edges near %.1f", what, got, len(want), want)
		return
	}
	for k := range got {
		if d := float64(got[k]) - want[k]; math.Abs(d) > 1 {
			t.Errorf("%s: edge %d at px %d, want %.2f (off by %.2f px)", what, k, got[k], want[k], d)
		}
	}
}

// TestPDFMatchesInk renders the PDF and compares every other pixel with
// Sheet.Ink, away from edges (where antialiasing greys pixels) and from the
// text, which Ink leaves out: the photo renderer draws what is printed.
func TestPDFMatchesInk(t *testing.T) {
	needPoppler(t, "pdftoppm")
	for _, p := range allPapers {
		t.Run(p.String(), func(t *testing.T) {
			r := render(t, p)
			s := r.s
			var text []Rect
			for _, l := range s.labels("") {
				text = append(text, l.box().Inset(-2/r.pxmm))
			}
			d := 1.5 / r.pxmm // an edge within this of the pixel centre may grey it
			bad := 0
			for j := 0; j < r.h; j += 2 {
				for i := 0; i < r.w; i += 2 {
					x := (float64(i)+0.5)/r.pxmm - s.Width/2
					y := s.Height/2 - (float64(j)+0.5)/r.pxmm
					want, on := s.Ink(x, y)
					if !on {
						continue
					}
					if g := r.gray(i, j); (want && g < 64) || (!want && g > 192) {
						continue
					}
					// A grey or wrong pixel is fine near an edge or in text.
					if want != ink(s, x-d, y) || want != ink(s, x+d, y) || want != ink(s, x, y-d) || want != ink(s, x, y+d) {
						continue
					}
					if !want {
						inText := false
						for _, tb := range text {
							inText = inText || tb.Contains(x, y)
						}
						if inText {
							continue
						}
					}
					if bad++; bad <= 10 {
						t.Errorf("pixel (%d, %d) at sheet (%.2f, %.2f): gray %d, but Ink = %v", i, j, x, y, r.gray(i, j), want)
					}
				}
			}
			if bad > 10 {
				t.Errorf("... %d pixels disagree with Ink in all", bad)
			}
		})
	}
}
