package capture

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// A tiffEntry is one IFD entry for the test EXIF encoder; val is already in
// the file's byte order.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte
}

// testEXIF is a small EXIF encoder (TIFF 6.0 §2, Exif 2.32 §4.6) for
// tests: IFD0, an optional thumbnail IFD1, and the Exif and GPS sub-IFDs,
// whose pointer tags it adds to IFD0.
type testEXIF struct {
	bo        byteOrder
	ifd0      []tiffEntry
	ifd1      []tiffEntry
	exif, gps []tiffEntry
}

// byteOrder is what binary.LittleEndian and binary.BigEndian both are.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// Offsets of the IFDs in a TIFF structure written by testEXIF.tiff.
type tiffLayout struct {
	ifd0, ifd1, exif, gps int
}

func (x *testEXIF) ascii(tag uint16, s string) tiffEntry {
	b := append([]byte(s), 0)
	return tiffEntry{tag, 2, uint32(len(b)), b}
}

func (x *testEXIF) short(tag, v uint16) tiffEntry {
	return tiffEntry{tag, 3, 1, x.bo.AppendUint16(nil, v)}
}

func (x *testEXIF) long(tag uint16, v uint32) tiffEntry {
	return tiffEntry{tag, 4, 1, x.bo.AppendUint32(nil, v)}
}

func (x *testEXIF) rational(tag uint16, num, den uint32) tiffEntry {
	return tiffEntry{tag, 5, 1, x.bo.AppendUint32(x.bo.AppendUint32(nil, num), den)}
}

func (x *testEXIF) rationals(tag uint16, v ...uint32) tiffEntry {
	var b []byte
	for _, u := range v {
		b = x.bo.AppendUint32(b, u)
	}
	return tiffEntry{tag, 5, uint32(len(v) / 2), b}
}

// dirSize is the size of an IFD with its out-of-line values.
func dirSize(es []tiffEntry) int {
	n := 2 + 12*len(es) + 4
	for _, e := range es {
		if len(e.val) > 4 {
			n += len(e.val) + len(e.val)%2
		}
	}
	return n
}

// tiff encodes the structure.
func (x *testEXIF) tiff() ([]byte, tiffLayout) {
	ifd0 := slices.Clone(x.ifd0)
	if x.exif != nil {
		ifd0 = append(ifd0, x.long(tagExifIFD, 0))
	}
	if x.gps != nil {
		ifd0 = append(ifd0, x.long(tagGPSIFD, 0))
	}
	var l tiffLayout
	l.ifd0 = 8
	off := l.ifd0 + dirSize(ifd0)
	if x.ifd1 != nil {
		l.ifd1, off = off, off+dirSize(x.ifd1)
	}
	if x.exif != nil {
		l.exif, off = off, off+dirSize(x.exif)
	}
	if x.gps != nil {
		l.gps = off
	}
	for i, e := range ifd0 {
		switch e.tag {
		case tagExifIFD:
			ifd0[i] = x.long(tagExifIFD, uint32(l.exif))
		case tagGPSIFD:
			ifd0[i] = x.long(tagGPSIFD, uint32(l.gps))
		}
	}
	var b []byte
	if x.bo == binary.LittleEndian {
		b = []byte("II*\x00")
	} else {
		b = []byte("MM\x00*")
	}
	b = x.bo.AppendUint32(b, uint32(l.ifd0))
	b = x.writeDir(b, ifd0, l.ifd1)
	if x.ifd1 != nil {
		b = x.writeDir(b, x.ifd1, 0)
	}
	if x.exif != nil {
		b = x.writeDir(b, x.exif, 0)
	}
	if x.gps != nil {
		b = x.writeDir(b, x.gps, 0)
	}
	return b, l
}

// writeDir appends an IFD, sorted by tag, at offset len(b).
func (x *testEXIF) writeDir(b []byte, es []tiffEntry, next int) []byte {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(a, b tiffEntry) int { return int(a.tag) - int(b.tag) })
	dataOff := len(b) + 2 + 12*len(es) + 4
	var data []byte
	b = x.bo.AppendUint16(b, uint16(len(es)))
	for _, e := range es {
		b = x.bo.AppendUint16(b, e.tag)
		b = x.bo.AppendUint16(b, e.typ)
		b = x.bo.AppendUint32(b, e.count)
		if len(e.val) <= 4 {
			var v [4]byte
			copy(v[:], e.val)
			b = append(b, v[:]...)
			continue
		}
		b = x.bo.AppendUint32(b, uint32(dataOff+len(data)))
		data = append(data, e.val...)
		if len(data)%2 == 1 {
			data = append(data, 0)
		}
	}
	b = x.bo.AppendUint32(b, uint32(next))
	return append(b, data...)
}

// app1 is the APP1 payload: "Exif\0\0" and the TIFF structure.
func (x *testEXIF) app1() []byte {
	t, _ := x.tiff()
	return append([]byte(exifHeader), t...)
}

// phoneEXIF is EXIF as an iPhone 7 writes it, with GPS and a thumbnail IFD.
func phoneEXIF(bo byteOrder, orientation uint16) *testEXIF {
	x := &testEXIF{bo: bo}
	x.ifd0 = []tiffEntry{
		x.ascii(0x010F, "Apple"),
		x.ascii(0x0110, "iPhone 7"),
		x.short(0x0112, orientation),
		x.rational(0x011A, 72, 1),
		x.ascii(0x0132, "2017:07:18 15:31:30"),
	}
	x.ifd1 = []tiffEntry{x.long(0x0201, 0), x.long(0x0202, 0)}
	x.exif = []tiffEntry{
		x.rational(0x829A, 1, 60),
		x.short(0x8827, 20),
		x.ascii(0x9003, "2017:07:18 15:31:30"),
		x.short(0x9209, 24), // flash off, auto mode
		x.rational(0x920A, 399, 100),
		x.long(0xA002, 4032),
		x.short(0xA405, 28),
	}
	x.gps = []tiffEntry{
		x.ascii(0x0001, "N"),
		x.rationals(0x0002, 37, 1, 43, 1, 2369, 100),
	}
	return x
}

// withAPP1 inserts an APP1 segment with payload p after the SOI marker of
// the JPEG file j.
func withAPP1(tb testing.TB, j, p []byte) []byte {
	tb.Helper()
	if len(p)+2 > 0xFFFF {
		tb.Fatalf("APP1 payload of %d bytes does not fit a segment", len(p))
	}
	out := slices.Clone(j[:2])
	out = append(out, 0xFF, 0xE1, byte((len(p)+2)>>8), byte(len(p)+2))
	out = append(out, p...)
	return append(out, j[2:]...)
}

// encodeJPEG encodes img at quality 95.
func encodeJPEG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// asymmetric is a w×h test picture that no rotation or mirroring maps onto
// itself: dark background, a bright bar along the top, a mid-grey block at
// the bottom left and a gradient.
func asymmetric(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(30 + 60*x/w)
			switch {
			case y < h/5:
				v = 230
			case y > h*3/5 && x < w/3:
				v = 150
			}
			m.Set(x, y, color.RGBA{v, v / 2, 255 - v, 255})
		}
	}
	return m
}

// toGray converts img to luma.
func toGray(img image.Image) *image.Gray {
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Rect, img, img.Bounds().Min, draw.Src)
	return g
}

// meanAbsDiff is the mean absolute difference of two same-sized images, or
// +Inf when their sizes differ.
func meanAbsDiff(a, b *image.Gray) float64 {
	if a.Rect.Size() != b.Rect.Size() {
		return math.Inf(1)
	}
	w, h := a.Rect.Dx(), a.Rect.Dy()
	var s float64
	for y := range h {
		for x := range w {
			s += math.Abs(float64(a.Pix[y*a.Stride+x]) - float64(b.Pix[y*b.Stride+x]))
		}
	}
	return s / float64(w*h)
}

// stored returns the image a camera stores for upright picture u and
// orientation o: the inverse of Orient.
func stored(u image.Image, o int) image.Image {
	switch o {
	case 6:
		return Orient(u, 8)
	case 8:
		return Orient(u, 6)
	}
	return Orient(u, o) // the others are their own inverse
}

var byteOrders = []struct {
	name string
	bo   byteOrder
}{{"II", binary.LittleEndian}, {"MM", binary.BigEndian}}

func TestParseEXIF(t *testing.T) {
	for _, bo := range byteOrders {
		t.Run(bo.name, func(t *testing.T) {
			x, warnings, err := parseEXIF(phoneEXIF(bo.bo, 6).app1())
			if err != nil || len(warnings) > 0 {
				t.Fatalf("parseEXIF: err %v, warnings %q", err, warnings)
			}
			want := EXIF{
				Make: "Apple", Model: "iPhone 7", Orientation: 6,
				FocalLengthMM: 3.99, FocalLength35mm: 28, PixelXDimension: 4032,
				ExposureTime: 1.0 / 60, ISO: 20, FlashKnown: true,
				Taken:  time.Date(2017, 7, 18, 15, 31, 30, 0, time.UTC),
				HasGPS: true,
			}
			if x != want {
				t.Errorf("parseEXIF =\n%+v, want\n%+v", x, want)
			}
		})
	}
}

func TestParseEXIFFocalPlane(t *testing.T) {
	for _, tc := range []struct {
		unit   uint16
		res    uint32 // pixels per unit, ×1000
		ppmm   float64
		sensor float64 // mm, for 4000 px
	}{
		{2, 4064000, 160, 25}, // inch
		{3, 1600000, 160, 25}, // cm
		{4, 160000, 160, 25},  // mm
		{5, 160, 160, 25},     // µm
		{1, 1600000, 0, 0},    // no unit
		{9, 1600000, 0, 0},    // unknown unit
		{3, 0, 0, 0},          // zero resolution
		{0, 4064000, 160, 25}, // unit absent: inch
		{2, 40640000, 1600, 2.5},
	} {
		x := &testEXIF{bo: binary.LittleEndian}
		x.ifd0 = []tiffEntry{x.ascii(0x010F, "Canon")}
		x.exif = []tiffEntry{
			x.rational(0x920A, 50, 1),
			x.rational(0xA20E, tc.res, 1000),
			x.long(0xA002, 4000),
		}
		if tc.unit != 0 {
			x.exif = append(x.exif, x.short(0xA210, tc.unit))
		}
		e, _, err := parseEXIF(x.app1())
		if err != nil {
			t.Fatal(err)
		}
		ppmm, ok := e.FocalPlanePxPerMM()
		if ok != (tc.ppmm > 0) || math.Abs(ppmm-tc.ppmm) > 1e-9 {
			t.Errorf("unit %d, resolution %g: FocalPlanePxPerMM() = %v, %v, want %v", tc.unit, float64(tc.res)/1000, ppmm, ok, tc.ppmm)
		}
		sensor, ok := e.SensorWidthMM()
		if ok != (tc.sensor > 0) || math.Abs(sensor-tc.sensor) > 1e-9 {
			t.Errorf("unit %d, resolution %g: SensorWidthMM() = %v, %v, want %v", tc.unit, float64(tc.res)/1000, sensor, ok, tc.sensor)
		}
	}
}

// parseEXIFWithin runs parseEXIF and fails the test when it takes longer
// than d (goexif alone loops forever on some inputs).
func parseEXIFWithin(t *testing.T, p []byte, d time.Duration) (EXIF, []string, error) {
	t.Helper()
	type result struct {
		x        EXIF
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		x, w, err := parseEXIF(p)
		done <- result{x, w, err}
	}()
	select {
	case r := <-done:
		return r.x, r.warnings, r.err
	case <-time.After(d):
		t.Fatalf("parseEXIF did not return within %v", d)
		panic("unreachable")
	}
}

// entryPos returns the position in t of the entry for tag in the IFD at
// off.
func entryPos(tb testing.TB, t []byte, bo binary.ByteOrder, off int, tag uint16) int {
	tb.Helper()
	n := int(bo.Uint16(t[off:]))
	for i := range n {
		p := off + 2 + 12*i
		if bo.Uint16(t[p:]) == tag {
			return p
		}
	}
	tb.Fatalf("no tag 0x%04X in the IFD at %d", tag, off)
	return 0
}

// hostileEXIF lists damaged EXIF: each mutates the TIFF structure of
// phoneEXIF. want is what must survive; warning a word the warnings must
// contain ("" for none); readable whether parseEXIF succeeds at all.
var hostileEXIF = []struct {
	name     string
	mutate   func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte
	readable bool
	warning  string
	check    func(x EXIF) bool
}{
	{
		name: "IFD0 next points to itself",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[nextOf(t, bo, l.ifd0):], uint32(l.ifd0))
			return t
		},
		readable: true, warning: "loops",
		check: func(x EXIF) bool { return x.Make == "Apple" && x.FocalLength35mm == 28 },
	},
	{
		// goexif's own check only catches an IFD pointing at itself; this
		// two-IFD cycle made it loop forever, appending IFDs.
		name: "IFD1 next points back to IFD0",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[nextOf(t, bo, l.ifd1):], uint32(l.ifd0))
			return t
		},
		readable: true, warning: "loops",
		check: func(x EXIF) bool { return x.Make == "Apple" && x.Orientation == 6 },
	},
	{
		name: "IFD1 beyond the segment",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[nextOf(t, bo, l.ifd0):], 0xFFFFFF00)
			return t
		},
		readable: true, warning: "outside",
		check: func(x EXIF) bool { return x.Make == "Apple" },
	},
	{
		name: "IFD0 beyond the segment",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[4:], uint32(len(t)))
			return t
		},
	},
	{
		name: "IFD0 offset 0",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[4:], 0)
			return t
		},
	},
	{
		name: "IFD0 offset negative as int32",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[4:], 0x80000008)
			return t
		},
	},
	{
		name: "IFD0 entry count past the end",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint16(t[l.ifd0:], 5000)
			return t
		},
	},
	{
		name: "IFD0 entry count negative as int16",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint16(t[l.ifd0:], 0xFFFF)
			return t
		},
	},
	{
		name: "Exif sub-IFD beyond the segment",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, tagExifIFD)+8:], 0x7FFFFFF0)
			return t
		},
		readable: true, warning: "outside",
		check: func(x EXIF) bool { return x.Make == "Apple" && x.FocalLength35mm == 0 && x.HasGPS },
	},
	{
		name: "Exif sub-IFD pointer is its own IFD",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			// The Exif IFD's first entry becomes an Interoperability
			// pointer to the Exif IFD itself.
			p := l.exif + 2
			bo.PutUint16(t[p:], tagInteropIFD)
			bo.PutUint16(t[p+2:], 4)
			bo.PutUint32(t[p+4:], 1)
			bo.PutUint32(t[p+8:], uint32(l.exif))
			return t
		},
		readable: true,
		check:    func(x EXIF) bool { return x.Make == "Apple" && x.FocalLength35mm == 28 },
	},
	{
		name: "Make value beyond the segment",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, 0x010F)+8:], 0xFFFFFFF0)
			return t
		},
		readable: true, warning: "outside",
		check: func(x EXIF) bool { return x.Make == "" && x.Model == "iPhone 7" },
	},
	{
		name: "huge count",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, 0x0110)+4:], 0x7FFFFFFF)
			return t
		},
		readable: true, warning: "0x0110",
		check: func(x EXIF) bool { return x.Make == "Apple" && x.Model == "" },
	},
	{
		// 8 × 0x20000001 wraps to 8 in goexif's uint32 size, which then
		// allocates 0x20000001 rationals: 12 GiB.
		name: "rational count wrapping 32 bits",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.exif, 0x920A)+4:], 0x20000001)
			return t
		},
		readable: true, warning: "0x920A",
		check: func(x EXIF) bool { return x.FocalLengthMM == 0 && x.FocalLength35mm == 28 },
	},
	{
		// 2 × 0x80000002 wraps to 4: an inline value of 2³¹ shorts, 16 GiB
		// as goexif's int64s.
		name: "short count wrapping 32 bits",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, 0x0112)+4:], 0x80000002)
			return t
		},
		readable: true, warning: "0x0112",
		check: func(x EXIF) bool { return x.Orientation == 1 && x.Make == "Apple" },
	},
	{
		name: "count 0xFFFFFFFF",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, 0x0112)+4:], 0xFFFFFFFF)
			return t
		},
		readable: true, warning: "0x0112",
		check: func(x EXIF) bool { return x.Orientation == 1 && x.Model == "iPhone 7" },
	},
	{
		name: "unknown type",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint16(t[entryPos(tb, t, bo, l.ifd0, 0x010F)+2:], 99)
			return t
		},
		readable: true, warning: "type 99",
		check: func(x EXIF) bool { return x.Make == "" && x.Model == "iPhone 7" },
	},
	{
		name: "zero count",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint32(t[entryPos(tb, t, bo, l.ifd0, 0x0112)+4:], 0)
			return t
		},
		readable: true, warning: "count 0",
		check: func(x EXIF) bool { return x.Orientation == 1 && x.Model == "iPhone 7" },
	},
	{
		name: "zero denominator",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			p := entryPos(tb, t, bo, l.exif, 0x920A)
			bo.PutUint32(t[int(bo.Uint32(t[p+8:]))+4:], 0)
			return t
		},
		readable: true,
		check:    func(x EXIF) bool { return x.FocalLengthMM == 0 && x.FocalLength35mm == 28 },
	},
	{
		name: "Orientation 9",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			bo.PutUint16(t[entryPos(tb, t, bo, l.ifd0, 0x0112)+8:], 9)
			return t
		},
		readable: true, warning: "Orientation 9",
		check: func(x EXIF) bool { return x.Orientation == 1 },
	},
	{
		name: "Orientation as text",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			p := entryPos(tb, t, bo, l.ifd0, 0x0112)
			bo.PutUint16(t[p+2:], 2)
			copy(t[p+8:], "6\x00\x00\x00")
			return t
		},
		readable: true,
		check:    func(x EXIF) bool { return x.Orientation == 1 },
	},
	{
		name: "bad date",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			p := entryPos(tb, t, bo, l.exif, 0x9003)
			copy(t[bo.Uint32(t[p+8:]):], "2017:13:45 99:99:99")
			return t
		},
		readable: true, warning: "DateTimeOriginal",
		check: func(x EXIF) bool { return x.Taken.IsZero() && x.ISO == 20 },
	},
	{
		name: "truncated in IFD0",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			return t[:l.ifd0+20]
		},
	},
	{
		name: "truncated in the Exif IFD",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			return t[:l.exif+30]
		},
		readable: true, warning: "outside",
		check: func(x EXIF) bool { return x.Make == "Apple" && x.Orientation == 6 },
	},
	{
		name: "no TIFF header",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			copy(t, "XX")
			return t
		},
	},
	{
		name: "garbage",
		mutate: func(tb testing.TB, t []byte, bo binary.ByteOrder, l tiffLayout) []byte {
			for i := range t {
				t[i] = byte(i*151 + i/7)
			}
			return t
		},
	},
}

// nextOf is the position of the next-IFD offset of the IFD at off.
func nextOf(t []byte, bo binary.ByteOrder, off int) int {
	return off + 2 + 12*int(bo.Uint16(t[off:]))
}

func TestParseEXIFHostile(t *testing.T) {
	for _, tc := range hostileEXIF {
		for _, bo := range byteOrders {
			t.Run(tc.name+"/"+bo.name, func(t *testing.T) {
				tiff, l := phoneEXIF(bo.bo, 6).tiff()
				p := append([]byte(exifHeader), tc.mutate(t, tiff, bo.bo, l)...)
				x, warnings, err := parseEXIFWithin(t, p, 10*time.Second)
				if (err == nil) != tc.readable {
					t.Fatalf("parseEXIF: err = %v, want readable %v (warnings %q)", err, tc.readable, warnings)
				}
				if err != nil {
					if x != (EXIF{Orientation: 1}) {
						t.Errorf("parseEXIF failed with %v but returned %+v", err, x)
					}
					return
				}
				if tc.warning != "" && !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
					t.Errorf("warnings %q, want one with %q", warnings, tc.warning)
				}
				if tc.check != nil && !tc.check(x) {
					t.Errorf("parseEXIF = %+v: not what survives %q", x, tc.name)
				}
			})
		}
	}
}

// A photo whose EXIF is damaged still loads: the damage is a warning.
func TestDecodePhotoHostileEXIF(t *testing.T) {
	j := encodeJPEG(t, asymmetric(40, 30))
	for _, tc := range hostileEXIF {
		t.Run(tc.name, func(t *testing.T) {
			tiff, l := phoneEXIF(binary.BigEndian, 6).tiff()
			p := append([]byte(exifHeader), tc.mutate(t, tiff, binary.BigEndian, l)...)
			ph, err := DecodePhoto(bytes.NewReader(withAPP1(t, j, p)), "IMG_0001.JPG")
			if err != nil {
				t.Fatalf("DecodePhoto: %v", err)
			}
			if ph.HasEXIF != tc.readable {
				t.Errorf("HasEXIF = %v, want %v", ph.HasEXIF, tc.readable)
			}
			if (tc.warning != "" || !tc.readable) && len(ph.Warnings) == 0 {
				t.Errorf("no warnings")
			}
			if ph.Work == nil || ph.Thumb == nil {
				t.Errorf("no working image")
			}
		})
	}
}

// Tags pointing at the same value bytes must not multiply memory: goexif
// expands each into 8 bytes or more per value byte.
func TestParseEXIFSharedValues(t *testing.T) {
	bo := binary.LittleEndian
	const n, size = 4000, 12 << 10
	t0 := bo.AppendUint32([]byte("II*\x00"), 8)
	t0 = bo.AppendUint16(t0, n)
	dataOff := 8 + 2 + 12*n + 4
	for range n {
		t0 = bo.AppendUint16(t0, 0x9286) // UserComment
		t0 = bo.AppendUint16(t0, 1)      // BYTE
		t0 = bo.AppendUint32(t0, size)
		t0 = bo.AppendUint32(t0, uint32(dataOff))
	}
	t0 = bo.AppendUint32(t0, 0)
	t0 = append(t0, make([]byte, size)...)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, warnings, err := parseEXIFWithin(t, t0, 10*time.Second)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "limit") }) {
		t.Errorf("no warning about the size limit in %d warnings", len(warnings))
	}
	// Without the limit: 4000 × 12 KiB × 9 bytes = 440 MB.
	if got := after.TotalAlloc - before.TotalAlloc; got > 64<<20 {
		t.Errorf("parseEXIF allocated %d MiB, want at most 64", got>>20)
	}
}

// Sanitizing is complete: a sanitized structure needs no more repairs.
func TestSanitizeTIFFFixedPoint(t *testing.T) {
	for _, tc := range hostileEXIF {
		tiff, l := phoneEXIF(binary.LittleEndian, 6).tiff()
		t1, _, err := sanitizeTIFF(tc.mutate(t, tiff, binary.LittleEndian, l))
		if err != nil {
			continue
		}
		t2, warnings, err := sanitizeTIFF(t1)
		if err != nil || len(warnings) > 0 || !bytes.Equal(t1, t2) {
			t.Errorf("%s: second sanitizeTIFF: err %v, warnings %q, changed %v", tc.name, err, warnings, !bytes.Equal(t1, t2))
		}
	}
}

func TestJPEGEXIF(t *testing.T) {
	j := encodeJPEG(t, asymmetric(16, 16))
	p := phoneEXIF(binary.LittleEndian, 3).app1()
	for _, tc := range []struct {
		name string
		file []byte
		want []byte
	}{
		{"none", j, nil},
		{"first segment", withAPP1(t, j, p), p},
		{"after an XMP APP1", withAPP1(t, withAPP1(t, j, p), []byte("http://ns.adobe.com/xap/1.0/\x00<x/>")), p},
		{"after fill bytes", append([]byte{0xFF, 0xD8, 0xFF, 0xFF}, withAPP1(t, j, p)[2:]...), p},
		{"segment length past the end", withAPP1(t, j, p)[:40], nil},
		{"segment length 0", []byte{0xFF, 0xD8, 0xFF, 0xE1, 0, 0, 'E', 'x'}, nil},
		{"not a JPEG", []byte("hello, world"), nil},
		{"after SOS", append(slices.Clone(j[:len(j)-2]), withAPP1(t, []byte{0xFF, 0xD8}, p)[2:]...), nil},
	} {
		if got := jpegEXIF(tc.file); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: jpegEXIF = %d bytes, want %d", tc.name, len(got), len(tc.want))
		}
	}
}

// Every orientation gives an upright working image, with width and height
// swapped for 5 to 8, from small photos (no downsampling) and from photos
// larger than WorkSize.
func TestOrientation(t *testing.T) {
	for _, size := range []image.Point{{90, 60}, {1500, 1000}} {
		upright := asymmetric(size.X, size.Y)
		for _, bo := range byteOrders {
			for o := 1; o <= 8; o++ {
				if size.X > WorkSize && bo.name == "MM" {
					continue // large photos once
				}
				t.Run(fmt.Sprintf("%dx%d/%s/%d", size.X, size.Y, bo.name, o), func(t *testing.T) {
					j := withAPP1(t, encodeJPEG(t, stored(upright, o)), phoneEXIF(bo.bo, uint16(o)).app1())
					p, err := DecodePhoto(bytes.NewReader(j), "o.jpg")
					if err != nil {
						t.Fatal(err)
					}
					if p.EXIF.Orientation != o {
						t.Errorf("EXIF.Orientation = %d, want %d", p.EXIF.Orientation, o)
					}
					if p.Width != size.X || p.Height != size.Y {
						t.Errorf("size %d×%d, want %d×%d", p.Width, p.Height, size.X, size.Y)
					}
					ref := toGray(upright)
					if size.X > WorkSize {
						ww, wh := scaleSide(size.X, size.X, WorkSize), scaleSide(size.Y, size.X, WorkSize)
						ref, _ = downsamplePlane(ref.Pix, ref.Stride, size.X, size.Y, ww, wh)
					}
					d := meanAbsDiff(p.Work, ref)
					if d > 3 {
						t.Errorf("Work differs from the upright picture by %.2f levels on average", d)
					}
					// Each other orientation of the reference is far off.
					for o2 := 2; o2 <= 8; o2++ {
						if d2 := meanAbsDiff(orientGray(p.Work, o2), ref); d2 < 10 {
							t.Errorf("Work turned for orientation %d is as close (%.2f) as Work (%.2f)", o2, d2, d)
						}
					}
				})
			}
		}
	}
}

// Orientation means what Exif 2.32 §4.6.4 (tag 274) says: where the stored
// 0th row and 0th column lie in the upright picture. This anchors the
// other orientation tests, which build stored images with Orient.
func TestOrientationSpec(t *testing.T) {
	const w, h = 5, 3
	// Where stored (0, 0) and (w-1, 0), the ends of row 0, land upright;
	// corners named by (right?, bottom?).
	type corner struct{ right, bottom bool }
	for o, want := range map[int][2]corner{
		1: {{false, false}, {true, false}}, // row 0 top, column 0 left
		2: {{true, false}, {false, false}}, // row 0 top, column 0 right
		3: {{true, true}, {false, true}},   // row 0 bottom, column 0 right
		4: {{false, true}, {true, true}},   // row 0 bottom, column 0 left
		5: {{false, false}, {false, true}}, // row 0 left, column 0 top
		6: {{true, false}, {true, true}},   // row 0 right, column 0 top
		7: {{true, true}, {true, false}},   // row 0 right, column 0 bottom
		8: {{false, true}, {false, false}}, // row 0 left, column 0 bottom
	} {
		g := image.NewGray(image.Rect(0, 0, w, h))
		g.Pix[0], g.Pix[w-1] = 200, 100
		for _, up := range []*image.Gray{orientGray(g, o), toGray(Orient(g, o))} {
			at := func(c corner) uint8 {
				x, y := 0, 0
				if c.right {
					x = up.Rect.Dx() - 1
				}
				if c.bottom {
					y = up.Rect.Dy() - 1
				}
				return up.GrayAt(x, y).Y
			}
			if at(want[0]) != 200 || at(want[1]) != 100 {
				t.Errorf("orientation %d: stored (0,0) and (%d,0) are not at %v and %v upright: %v", o, w-1, want[0], want[1], up.Pix)
			}
		}
	}
}

// orientGray on the working image agrees with Orient (imaging) on the full
// image, for every orientation and odd sizes.
func TestOrientGrayMatchesOrient(t *testing.T) {
	for _, size := range []image.Point{{7, 5}, {1, 4}, {6, 1}, {1, 1}} {
		g := image.NewGray(image.Rect(0, 0, size.X, size.Y))
		for i := range g.Pix {
			g.Pix[i] = uint8(i*37 + 11)
		}
		for o := 0; o <= 9; o++ {
			got := orientGray(g, o)
			want := toGray(Orient(g, o))
			if !bytes.Equal(got.Pix, want.Pix) || got.Rect != want.Rect {
				t.Errorf("%v, orientation %d: orientGray = %v %v, Orient = %v %v", size, o, got.Rect, got.Pix, want.Rect, want.Pix)
			}
		}
	}
}

// The test EXIF encoder writes what exiftool reads, and LoadPhoto reads
// the orientation exiftool writes.
func TestExiftool(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Skip("exiftool not installed (apt install libimage-exiftool-perl); skipping the cross-check")
	}
	dir := t.TempDir()
	upright := asymmetric(48, 32)
	for _, bo := range byteOrders {
		path := filepath.Join(dir, "ours_"+bo.name+".jpg")
		if err := os.WriteFile(path, withAPP1(t, encodeJPEG(t, upright), phoneEXIF(bo.bo, 8).app1()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(exiftool, "-j", "-n", "-Orientation", "-Make", "-Model", "-FocalLength",
			"-FocalLengthIn35mmFormat", "-ISO", "-GPSLatitude", "-DateTimeOriginal", path).Output()
		if err != nil {
			t.Fatalf("exiftool: %v", err)
		}
		var got []map[string]any
		if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
			t.Fatalf("exiftool said %s (%v)", out, err)
		}
		want := map[string]any{"Orientation": 8.0, "Make": "Apple", "Model": "iPhone 7", "FocalLength": 3.99,
			"FocalLengthIn35mmFormat": 28.0, "ISO": 20.0, "DateTimeOriginal": "2017:07:18 15:31:30"}
		for k, v := range want {
			if got[0][k] != v {
				t.Errorf("%s: exiftool reads %s = %v, want %v", bo.name, k, got[0][k], v)
			}
		}
		if lat, _ := got[0]["GPSLatitude"].(float64); math.Abs(lat-(37+43.0/60+23.69/3600)) > 1e-6 {
			t.Errorf("%s: exiftool reads GPSLatitude %v", bo.name, got[0]["GPSLatitude"])
		}
	}

	for _, o := range []int{3, 6, 7, 8} {
		path := filepath.Join(dir, "exiftool.jpg")
		if err := os.WriteFile(path, encodeJPEG(t, stored(upright, o)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(exiftool, "-q", "-overwrite_original", "-n", "-Orientation="+string(rune('0'+o)), path).CombinedOutput(); err != nil {
			t.Fatalf("exiftool: %v: %s", err, out)
		}
		p, err := LoadPhoto(path)
		if err != nil {
			t.Fatal(err)
		}
		if p.EXIF.Orientation != o || !p.HasEXIF {
			t.Errorf("orientation %d written by exiftool: read %d (HasEXIF %v, warnings %q)", o, p.EXIF.Orientation, p.HasEXIF, p.Warnings)
		}
		if d := meanAbsDiff(p.Work, toGray(upright)); d > 3 {
			t.Errorf("orientation %d written by exiftool: Work differs from the upright picture by %.2f", o, d)
		}
	}
}

// A PNG's eXIf chunk is read like a JPEG's APP1.
func TestPNGEXIF(t *testing.T) {
	upright := asymmetric(30, 20)
	var buf bytes.Buffer
	if err := encodePNG(&buf, stored(upright, 6)); err != nil {
		t.Fatal(err)
	}
	tiff, _ := phoneEXIF(binary.BigEndian, 6).tiff()
	b := insertPNGChunk(buf.Bytes(), "eXIf", tiff)
	p, err := DecodePhoto(bytes.NewReader(b), "x.png")
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasEXIF || p.EXIF.Orientation != 6 || p.EXIF.Make != "Apple" || p.Width != 30 || p.Height != 20 {
		t.Errorf("HasEXIF %v, %+v, %d×%d", p.HasEXIF, p.EXIF, p.Width, p.Height)
	}
	if d := meanAbsDiff(p.Work, toGray(upright)); d > 1 {
		t.Errorf("Work differs from the upright picture by %.2f", d)
	}
}

func encodePNG(w io.Writer, img image.Image) error {
	return png.Encode(w, img)
}

// insertPNGChunk inserts a chunk after the IHDR chunk of the PNG file b.
func insertPNGChunk(b []byte, typ string, data []byte) []byte {
	const afterIHDR = 8 + 4 + 4 + 13 + 4
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	c = binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	return slices.Concat(b[:afterIHDR], c, b[afterIHDR:])
}

func TestFocalSources(t *testing.T) {
	j := encodeJPEG(t, asymmetric(400, 300))
	planeEXIF := func(orientation uint16, f35 uint16) []byte {
		x := &testEXIF{bo: binary.LittleEndian}
		x.ifd0 = []tiffEntry{x.short(0x0112, orientation)}
		x.exif = []tiffEntry{
			x.rational(0x920A, 50, 1),
			x.rational(0xA20E, 160, 1),
			x.short(0xA210, 4),   // mm
			x.long(0xA002, 4000), // the camera's full width: this photo was reduced 10×
		}
		if f35 != 0 {
			x.exif = append(x.exif, x.short(0xA405, f35))
		}
		return x.app1()
	}
	for _, tc := range []struct {
		name    string
		file    []byte
		focal   float64
		source  FocalSource
		warning string
	}{
		{"35 mm equivalent", withAPP1(t, j, phoneEXIF(binary.LittleEndian, 1).app1()), 28 * 500 / math.Hypot(36, 24), FocalEXIF35mm, ""},
		{"35 mm equivalent, turned", withAPP1(t, j, phoneEXIF(binary.LittleEndian, 6).app1()), 28 * 500 / math.Hypot(36, 24), FocalEXIF35mm, ""},
		{"focal plane", withAPP1(t, j, planeEXIF(1, 0)), 50 * 160 * 400 / 4000, FocalEXIFFocalPlane, ""},
		{"focal plane, turned", withAPP1(t, j, planeEXIF(8, 0)), 50 * 160 * 400 / 4000, FocalEXIFFocalPlane, ""},
		{"35 mm equivalent of 1 mm", withAPP1(t, j, planeEXIF(1, 1)), 800, FocalEXIFFocalPlane, "FocalLengthIn35mmFilm 1 mm is implausible"},
		{"no EXIF", j, 1.2 * 400, FocalFallback, "no usable focal length"},
	} {
		p, err := DecodePhoto(bytes.NewReader(tc.file), "f.jpg")
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p.FocalPx-tc.focal) > 1e-9 || p.FocalSource != tc.source {
			t.Errorf("%s: FocalPx %v from %s, want %v from %s", tc.name, p.FocalPx, p.FocalSource, tc.focal, tc.source)
		}
		hasWarning := slices.ContainsFunc(p.Warnings, func(w string) bool { return tc.warning != "" && strings.Contains(w, tc.warning) })
		if (tc.warning == "" && len(p.Warnings) > 0) || (tc.warning != "" && !hasWarning) {
			t.Errorf("%s: warnings %q, want %q", tc.name, p.Warnings, tc.warning)
		}
	}
}
