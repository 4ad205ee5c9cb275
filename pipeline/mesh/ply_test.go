package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

// mustWritePLY returns p encoded in format.
func mustWritePLY(tb testing.TB, p *PLY, format Format) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WritePLY(&buf, p, format); err != nil {
		tb.Fatalf("WritePLY(%v): %v", format, err)
	}
	return buf.Bytes()
}

// diffPLY returns the first difference between got and want, or "". Nil
// and empty slices are equal.
func diffPLY(got, want *PLY) string {
	switch {
	case !slices.Equal(got.Cloud.Points, want.Cloud.Points):
		return "points differ"
	case !slices.Equal(got.Cloud.Normals, want.Cloud.Normals):
		return "normals differ"
	case !slices.Equal(got.Cloud.Colors, want.Cloud.Colors):
		return "colours differ"
	case !slices.Equal(got.Faces, want.Faces):
		return "faces differ"
	case !slices.Equal(got.Comments, want.Comments):
		return "comments differ"
	}
	return ""
}

// checkPLY fails unless got equals want, printing both.
func checkPLY(tb testing.TB, got, want *PLY) {
	tb.Helper()
	if d := diffPLY(got, want); d != "" {
		tb.Fatalf("%s:\ngot  %+v\nwant %+v", d, *got, *want)
	}
}

// testCloud returns a PLY of the torus with normals and colours.
func testCloud(alpha bool) *PLY {
	m := torus(30, 10, 12, 8)
	p := &PLY{Faces: m.Faces, Comments: []string{"made by replica tests", "", "  indented\ttab"}}
	p.Cloud.Points = m.Vertices
	for i, v := range m.Vertices {
		p.Cloud.Normals = append(p.Cloud.Normals, f32(geom.Vec{X: v.X / 40, Y: v.Y / 40, Z: -v.Z / 10}))
		c := color.NRGBA{R: uint8(i), G: uint8(3 * i), B: 255 - uint8(i), A: 255}
		if alpha {
			c.A = uint8(i * 7)
		}
		p.Cloud.Colors = append(p.Cloud.Colors, c)
	}
	return p
}

func TestPLYRoundTrip(t *testing.T) {
	pointsOnly := testCloud(false)
	pointsOnly.Cloud.Normals, pointsOnly.Cloud.Colors, pointsOnly.Faces, pointsOnly.Comments = nil, nil, nil, nil
	cases := []struct {
		name string
		p    *PLY
	}{
		{"full", testCloud(false)},
		{"alpha", testCloud(true)},
		{"points only", pointsOnly},
		{"empty", &PLY{}},
	}
	for _, tt := range cases {
		for _, format := range []Format{ASCII, BinaryLittleEndian, BinaryBigEndian} {
			t.Run(tt.name+"/"+format.String(), func(t *testing.T) {
				data := mustWritePLY(t, tt.p, format)
				got, err := ReadPLY(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("ReadPLY: %v\n%s", err, data[:min(len(data), 400)])
				}
				checkPLY(t, got, tt.p)
				if got, want := got.Mesh().Topology(), tt.p.Mesh().Topology(); got != want {
					t.Errorf("Mesh().Topology() = %+v, want %+v", got, want)
				}
			})
		}
	}
}

func TestWritePLYHeader(t *testing.T) {
	data := mustWritePLY(t, testCloud(true), BinaryLittleEndian)
	want := "ply\nformat binary_little_endian 1.0\ncomment made by replica tests\ncomment \ncomment   indented\ttab\n" +
		"element vertex 96\nproperty float x\nproperty float y\nproperty float z\n" +
		"property float nx\nproperty float ny\nproperty float nz\n" +
		"property uchar red\nproperty uchar green\nproperty uchar blue\nproperty uchar alpha\n" +
		"element face 192\nproperty list uchar int vertex_indices\nend_header\n"
	if got := string(data[:len(want)]); got != want {
		t.Errorf("header =\n%s\nwant\n%s", got, want)
	}
	// 96 vertices of 6 floats and 4 bytes, 192 faces of 1 + 3·4 bytes.
	if got, want := len(data), len(want)+96*28+192*13; got != want {
		t.Errorf("file is %d bytes, want %d", got, want)
	}
}

// referencePLY is the content of the hand-written reference files below: a
// square pyramid whose base quad is split into a fan.
var referencePLY = &PLY{
	Cloud: geom.PointCloud{
		Points: []geom.Vec{{}, {X: 0.1}, {X: 0.1, Y: 0.1}, {Y: 0.1}, {X: 0.05, Y: 0.05, Z: -1e-3}},
		Normals: []geom.Vec{
			{Z: -1}, {Z: -1}, {Z: -1}, {Z: -1}, {X: 0.5, Y: -0.25, Z: 1},
		},
		Colors: []color.NRGBA{
			{R: 255, A: 255}, {G: 255, A: 255}, {B: 255, A: 255}, {R: 1, G: 2, B: 3, A: 255}, {R: 128, G: 128, B: 128, A: 255},
		},
	},
	Faces:    [][3]int32{{0, 3, 2}, {0, 2, 1}, {0, 1, 4}},
	Comments: []string{"hand written", "VCGLIB generated"},
}

// referenceHeader declares doubles, a vertex property and list to skip, an
// element to skip with a list, and face properties to skip around the
// indices. FORMAT is replaced.
const referenceHeader = "ply\r\n" +
	"format FORMAT 1.0\r\n" +
	"comment hand written\r\n" +
	"obj_info dropped\r\n" +
	"element vertex 5\r\n" +
	"property double x\r\nproperty float64 y\r\nproperty double z\r\n" +
	"property float nx\r\nproperty float32 ny\r\nproperty float nz\r\n" +
	"property int flags\r\n" +
	"property uchar red\r\nproperty uint8 green\r\nproperty uchar blue\r\n" +
	"property list uchar float uv\r\n" +
	"comment VCGLIB generated\r\n" +
	"element material 2\r\n" +
	"property uchar kind\r\nproperty list ushort short values\r\n" +
	"element face 2\r\n" +
	"property char flags\r\n" +
	"property list uchar uint vertex_indices\r\n" +
	"property list int32 float texcoord\r\n" +
	"end_header\r\n"

const referenceASCII = `
0 0 0       0 0 -1   -7 255 0 0   0
0.1 0 0     0 0 -1   -7 0 255 0   2 0.25 0.5
0.1 0.1 0   0 0 -1   -7 0 0 255   0
0 0.1 0     0 0 -1   -7 1 2 3     1 1e-2
0.05 0.05 -1e-3  0.5 -0.25 1   2147483647 128 128 128   0
1  3 10 -20 30
2  0
-1  4 0 3 2 1  0
0  3 0 1 4  6 0 0 1 0 1 1
`

// referenceBinary writes the reference values in order by hand.
func referenceBinary(order binary.AppendByteOrder) []byte {
	var b []byte
	f64 := func(vs ...float64) {
		for _, v := range vs {
			b = order.AppendUint64(b, math.Float64bits(v))
		}
	}
	f32 := func(vs ...float32) {
		for _, v := range vs {
			b = order.AppendUint32(b, math.Float32bits(v))
		}
	}
	u8 := func(vs ...uint8) { b = append(b, vs...) }
	i32 := func(v int32) { b = order.AppendUint32(b, uint32(v)) }
	u32 := func(vs ...uint32) {
		for _, v := range vs {
			b = order.AppendUint32(b, v)
		}
	}
	// vertex: x y z, nx ny nz, flags, red green blue, uv list
	f64(0, 0, 0)
	f32(0, 0, -1)
	i32(-7)
	u8(255, 0, 0, 0)
	f64(0.1, 0, 0)
	f32(0, 0, -1)
	i32(-7)
	u8(0, 255, 0, 2)
	f32(0.25, 0.5)
	f64(0.1, 0.1, 0)
	f32(0, 0, -1)
	i32(-7)
	u8(0, 0, 255, 0)
	f64(0, 0.1, 0)
	f32(0, 0, -1)
	i32(-7)
	u8(1, 2, 3, 1)
	f32(1e-2)
	f64(0.05, 0.05, -1e-3)
	f32(0.5, -0.25, 1)
	i32(math.MaxInt32)
	u8(128, 128, 128, 0)
	// material: kind, values list (ushort count, short items)
	u8(1)
	b = order.AppendUint16(b, 3)
	for _, v := range []int16{10, -20, 30} {
		b = order.AppendUint16(b, uint16(v))
	}
	u8(2)
	b = order.AppendUint16(b, 0)
	// face: flags, vertex_indices, texcoord (int32 count)
	u8(0xff) // char -1
	u8(4)
	u32(0, 3, 2, 1)
	i32(0)
	u8(0)
	u8(3)
	u32(0, 1, 4)
	i32(6)
	f32(0, 0, 1, 0, 1, 1)
	return b
}

func TestReadPLYReference(t *testing.T) {
	files := map[string][]byte{
		"ascii":                append([]byte(strings.Replace(referenceHeader, "FORMAT", "ascii", 1)), referenceASCII...),
		"binary_little_endian": append([]byte(strings.Replace(referenceHeader, "FORMAT", "binary_little_endian", 1)), referenceBinary(binary.LittleEndian)...),
		"binary_big_endian":    append([]byte(strings.Replace(referenceHeader, "FORMAT", "binary_big_endian", 1)), referenceBinary(binary.BigEndian)...),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			got, err := ReadPLY(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ReadPLY: %v", err)
			}
			checkPLY(t, got, referencePLY)
			// Every proper prefix of a binary file is an error; ASCII
			// prefixes may parse (a number cut short is still a number)
			// but must not panic.
			for n := range len(data) {
				_, err := ReadPLY(bytes.NewReader(data[:n]))
				if err == nil && name != "ascii" {
					t.Fatalf("ReadPLY(first %d of %d bytes) = nil error", n, len(data))
				}
			}
		})
	}
}

// colmapPLY builds a file laid out as COLMAP's fused.ply
// (src/colmap/scene/reconstruction_io.cc, WriteBinaryPlyPoints): float
// x y z nx ny nz, uchar red green blue, little endian, no faces.
func colmapPLY() ([]byte, *PLY) {
	b := []byte("ply\nformat binary_little_endian 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\n" +
		"property float nx\nproperty float ny\nproperty float nz\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")
	want := &PLY{Cloud: geom.PointCloud{
		Points:  []geom.Vec{{X: 1.5, Y: -2, Z: 3.25}, {X: -0.5, Y: 8, Z: 1e-3}},
		Normals: []geom.Vec{{Z: 1}, {X: -1}},
		Colors:  []color.NRGBA{{R: 10, G: 20, B: 30, A: 255}, {R: 200, G: 100, B: 0, A: 255}},
	}}
	for i, p := range want.Cloud.Points {
		want.Cloud.Points[i] = f32(p)
		n, c := want.Cloud.Normals[i], want.Cloud.Colors[i]
		for _, v := range []float64{p.X, p.Y, p.Z, n.X, n.Y, n.Z} {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v)))
		}
		b = append(b, c.R, c.G, c.B)
	}
	return b, want
}

func TestReadPLYCOLMAP(t *testing.T) {
	data, want := colmapPLY()
	got, err := ReadPLY(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadPLY: %v", err)
	}
	checkPLY(t, got, want)
	if m := got.Mesh(); len(m.Faces) != 0 || len(m.Vertices) != 2 {
		t.Errorf("Mesh() = %+v, want 2 vertices, no faces", m)
	}
}

func TestReadPLYColours(t *testing.T) {
	const data = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\nproperty float z\n" +
		"property float red\nproperty double green\nproperty ushort blue\nproperty float alpha\nend_header\n" +
		"0 0 0  0 1 65535 1\n" +
		"0 0 0  0.5 0.2 257 0.5\n" +
		"0 0 0  -3 7 0 0\n" +
		"0 0 0  1e-9 0.999 32896 nan\n"
	got, err := ReadPLY(strings.NewReader(data))
	if err != nil {
		t.Fatalf("ReadPLY: %v", err)
	}
	want := []color.NRGBA{
		{R: 0, G: 255, B: 255, A: 255},
		{R: 128, G: 51, B: 1, A: 128}, // 127.5 rounds half away from zero
		{R: 0, G: 255, B: 0, A: 0},    // clamped
		{R: 0, G: 255, B: 128, A: 0},  // NaN is 0
	}
	if !slices.Equal(got.Cloud.Colors, want) {
		t.Errorf("Colors = %v, want %v", got.Cloud.Colors, want)
	}
}

func TestReadPLYErrors(t *testing.T) {
	const xyz = "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\nproperty float y\nproperty float z\n"
	const tri = "element face 1\nproperty list uchar int vertex_indices\n"
	le := func(s string, tail ...byte) string {
		return strings.Replace(s, "ascii", "binary_little_endian", 1) + string(tail)
	}
	tests := []struct {
		name      string
		data      string
		wantErr   string
		truncated bool // errors.Is(err, io.ErrUnexpectedEOF)
	}{
		{"empty", "", "ply: empty input: unexpected EOF", true},
		{"not ply", "solid x\n", "not a PLY file", false},
		{"no end_header", xyz, "header line 7: no end_header: unexpected EOF", true},
		{"header too long", "ply\ncomment " + strings.Repeat("x", 1<<16), "header longer than 65536 bytes", false},
		{"header too many lines", "ply\n" + strings.Repeat("comment\n", 1<<14), "header longer than 65536 bytes", false},
		{"no format", "ply\nelement vertex 0\nend_header\n", "header line 3: end_header before the format line", false},
		{"format twice", "ply\nformat ascii 1.0\nformat ascii 1.0\n", "header line 3: second format line", false},
		{"bad format", "ply\nformat binary_middle_endian 1.0\n", "unknown format \"binary_middle_endian\"", false},
		{"bad version", "ply\nformat ascii 2.0\n", "unsupported version \"2.0\"", false},
		{"unknown keyword", "ply\nformat ascii 1.0\nelemnt vertex 2\n", "header line 3: unknown keyword \"elemnt\"", false},
		{"negative count", "ply\nformat ascii 1.0\nelement vertex -2\n", "bad count \"-2\"", false},
		{"huge count", "ply\nformat ascii 1.0\nelement vertex 268435457\n", "count 268435457 exceeds the limit of 268435456", false},
		{"property first", "ply\nformat ascii 1.0\nproperty float x\n", "property before any element", false},
		{"bad type", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float128 x\n", "unknown type \"float128\"", false},
		{"float list count", "ply\nformat ascii 1.0\nelement face 1\nproperty list float int vertex_indices\n", "list count type \"float\" is not an integer type", false},
		{"bad list type", "ply\nformat ascii 1.0\nelement face 1\nproperty list uchar long vertex_indices\n", "unknown type \"long\"", false},
		{"short property", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float\n", "want \"property <type> <name>\"", false},
		{"duplicate property", xyz + "property float x\n", "second property \"x\"", false},
		{"duplicate vertex", xyz + "element vertex 1\n", "second \"vertex\" element", false},
		{"no xyz", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nend_header\n1\n", "vertex element lacks an x, y or z", false},
		{"list x", "ply\nformat ascii 1.0\nelement vertex 1\nproperty list uchar float x\nproperty float y\nproperty float z\nend_header\n", "vertex property \"x\" is a list", false},
		{"no indices", xyz + "element face 1\nproperty int a\nend_header\n0 0 0 1 1 1\n3\n", "face element lacks a vertex_indices list", false},
		{"scalar indices", xyz + "element face 1\nproperty int vertex_indices\nend_header\n", "face property \"vertex_indices\" is not a list", false},
		{"ascii truncated vertex", xyz + "end_header\n0 0 0\n1 1\n", "ply: vertex 1: property \"z\": unexpected EOF", true},
		{"ascii bad number", xyz + "end_header\n0 0 0\n1 1 x\n", "ply: vertex 1: property \"z\": bad number \"x\"", false},
		{"ascii long number", xyz + "end_header\n0 0 0\n1 1 " + strings.Repeat("1", 300) + "\n", "number longer than 256 bytes", false},
		{"NaN", xyz + "end_header\n0 0 0\n1 nan 1\n", "ply: vertex 1: non-finite coordinate", false},
		{"Inf", xyz + "end_header\n0 0 0\n1 1e99 1\n", "ply: vertex 1: non-finite coordinate", false},
		{"NaN normal", xyz + "property float nx\nend_header\n0 0 0 inf\n", "ply: vertex 0: non-finite normal", false},
		{"uchar range", strings.Replace(xyz, "float z", "uchar z", 1) + "end_header\n0 0 0\n1 1 256\n", "\"256\" is not a uchar", false},
		{"int fraction", strings.Replace(xyz, "float z", "int z", 1) + "end_header\n0 0 0.5\n", "\"0.5\" is not a int", false},
		{"index range", xyz + tri + "end_header\n0 0 0\n1 1 1\n3 0 1 2\n", "ply: face 0: vertex index 2 out of range [0, 2)", false},
		{"negative index", xyz + tri + "end_header\n0 0 0\n1 1 1\n3 0 1 -1\n", "vertex index -1 out of range", false},
		{"two-gon", xyz + tri + "end_header\n0 0 0\n1 1 1\n2 0 1\n", "ply: face 0: polygon of 2 vertices", false},
		{"end_header at EOF", strings.Replace(xyz, "vertex 2", "vertex 0", 1) + "end_header", "", false},
		{"long list", xyz + tri + "end_header\n0 0 0\n1 1 1\n255" + strings.Repeat(" 0", 255) + "\n", "", false},
		{"too long list", strings.Replace(xyz+tri, "uchar int", "ushort int", 1) + "end_header\n0 0 0\n1 1 1\n1025 0 1\n", "list length 1025 outside [0, 1024]", false},
		{"faces truncated", xyz + tri + "end_header\n0 0 0\n1 1 1\n3 0 1", "ply: face 0: unexpected EOF", true},
		{"faces, no vertices", "ply\nformat ascii 1.0\n" + tri + "end_header\n3 0 0 0\n", "vertex index 0 out of range [0, 0)", false},
		{"skipped element truncated", "ply\nformat ascii 1.0\nelement junk 3\nproperty list uchar int a\nend_header\n1 5 0\n", "ply: element \"junk\" 2: unexpected EOF", true},
		{"binary truncated vertex", le(xyz+"end_header\n", make([]byte, 12+8+2)...), "ply: vertex 1: property \"z\": unexpected EOF", true},
		{"binary skipped element truncated", le("ply\nformat ascii 1.0\nelement junk 3\nproperty int a\nproperty short b\nend_header\n", make([]byte, 13)...), "ply: element \"junk\" 2: unexpected EOF", true},
		{"binary list truncated", le("ply\nformat ascii 1.0\nelement junk 1\nproperty list uchar int a\nend_header\n", 2, 0, 0, 0, 0, 1), "ply: element \"junk\" 0: unexpected EOF", true},
		{"binary negative list length", le("ply\nformat ascii 1.0\nelement junk 1\nproperty list char int a\nend_header\n", 0xff), "list length -1 outside", false},
		{"binary NaN", le(xyz+"end_header\n", 0, 0, 0xc0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0), "ply: vertex 0: non-finite", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ReadPLY(strings.NewReader(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ReadPLY = %v, want no error", err)
				}
				return
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadPLY = %+v, %v; want a *FormatError", p, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "ply: ") {
				t.Errorf("ReadPLY error = %q, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.truncated {
				t.Errorf("errors.Is(%q, io.ErrUnexpectedEOF) = %v, want %v", err, got, tt.truncated)
			}
		})
	}
}

// errReader fails after its data.
type errReader struct{ r io.Reader }

func (e errReader) Read(b []byte) (int, error) {
	n, err := e.r.Read(b)
	if err == io.EOF {
		err = errors.New("connection reset")
	}
	return n, err
}

func TestReadPLYReadError(t *testing.T) {
	data := mustWritePLY(t, testCloud(false), BinaryLittleEndian)
	_, err := ReadPLY(errReader{bytes.NewReader(data[:len(data)/2])})
	var fe *FormatError
	if err == nil || errors.As(err, &fe) || !strings.Contains(err.Error(), "connection reset") {
		t.Errorf("ReadPLY = %v, want the read error, not a *FormatError", err)
	}
}

func TestWritePLYErrors(t *testing.T) {
	bad := func(edit func(p *PLY)) *PLY {
		p := testCloud(false)
		edit(p)
		return p
	}
	tests := []struct {
		name    string
		w       io.Writer
		p       *PLY
		format  Format
		wantErr string
	}{
		{"format", io.Discard, testCloud(false), Format(7), "unknown format Format(7)"},
		{"normals length", io.Discard, bad(func(p *PLY) { p.Cloud.Normals = p.Cloud.Normals[1:] }), ASCII, "95 normals for 96 points"},
		{"NaN", io.Discard, bad(func(p *PLY) { p.Cloud.Points[4].X = math.NaN() }), ASCII, "point 4: non-finite"},
		{"overflow", io.Discard, bad(func(p *PLY) { p.Cloud.Normals[2].Y = -1e300 }), ASCII, "normal: vertex 2: coordinate -1e+300 overflows float32"},
		{"index", io.Discard, bad(func(p *PLY) { p.Faces[7][2] = 96 }), ASCII, "face 7: vertex index 96 out of range [0, 96)"},
		{"comment", io.Discard, bad(func(p *PLY) { p.Comments = append(p.Comments, "a\nb") }), ASCII, "comment 3 holds a line break"},
		{"write error", errWriter{}, testCloud(false), BinaryBigEndian, "ply: write: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WritePLY(tt.w, tt.p, tt.format)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("WritePLY = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
