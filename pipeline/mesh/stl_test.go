package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

// mustWriteSTL returns m as binary STL.
func mustWriteSTL(tb testing.TB, m *geom.Mesh, header string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteSTL(&buf, m, header); err != nil {
		tb.Fatalf("WriteSTL: %v", err)
	}
	return buf.Bytes()
}

// sameTriangles reports the first face whose corners differ between got and
// want, comparing coordinates rather than indices.
func sameTriangles(tb testing.TB, got, want *geom.Mesh) {
	tb.Helper()
	if len(got.Faces) != len(want.Faces) {
		tb.Fatalf("got %d faces, want %d", len(got.Faces), len(want.Faces))
	}
	for i := range got.Faces {
		for k := range 3 {
			g, w := got.Vertices[got.Faces[i][k]], want.Vertices[want.Faces[i][k]]
			if g != w {
				tb.Fatalf("face %d corner %d = %v, want %v", i, k, g, w)
			}
		}
	}
}

func TestSTLRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    *geom.Mesh
	}{
		{"cube", cube(25)},
		{"torus", torus(30, 10, 48, 24)},
		{"empty", &geom.Mesh{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := mustWriteSTL(t, tt.m, "replica test")
			if want := 84 + 50*len(tt.m.Faces); len(data) != want {
				t.Fatalf("WriteSTL wrote %d bytes, want %d", len(data), want)
			}
			got, err := ReadSTL(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ReadSTL: %v", err)
			}
			sameTriangles(t, got, tt.m)
			if len(got.Vertices) != len(tt.m.Vertices) {
				t.Errorf("ReadSTL welded %d vertices, want %d", len(got.Vertices), len(tt.m.Vertices))
			}
			if g, w := got.Topology(), tt.m.Topology(); g != w {
				t.Errorf("Topology() = %+v, want %+v", g, w)
			}
		})
	}
}

func TestWriteSTLBytes(t *testing.T) {
	m := &geom.Mesh{
		Vertices: []geom.Vec{{}, {X: 2}, {Y: 2}, {X: 1}},
		Faces:    [][3]int32{{0, 1, 2}, {0, 3, 1}}, // the second is degenerate
	}
	data := mustWriteSTL(t, m, "hdr")
	if got := string(data[:80]); got != "hdr"+strings.Repeat("\x00", 77) {
		t.Errorf("header = %q, want \"hdr\" zero-padded to 80 bytes", got)
	}
	if got := binary.LittleEndian.Uint32(data[80:]); got != 2 {
		t.Errorf("count = %d, want 2", got)
	}
	floats := func(rec []byte) (fs [12]float32) {
		for i := range fs {
			fs[i] = math.Float32frombits(binary.LittleEndian.Uint32(rec[4*i:]))
		}
		return fs
	}
	if got, want := floats(data[84:]), [12]float32{0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0}; got != want {
		t.Errorf("record 0 = %v, want %v", got, want)
	}
	if got, want := floats(data[134:]), [12]float32{0, 0, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0}; got != want {
		t.Errorf("record 1 (degenerate, zero normal) = %v, want %v", got, want)
	}
	if data[132] != 0 || data[133] != 0 {
		t.Errorf("attribute word = %x, want 0", data[132:134])
	}
}

func TestReadSTLBinarySolidHeader(t *testing.T) {
	// Binary files from SolidWorks and others begin with "solid"; the size
	// 84 + 50n tells them from ASCII.
	data := mustWriteSTL(t, cube(1), "")
	copy(data, "solid cube exported as binary")
	got, err := ReadSTL(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("ReadSTL: %v", err)
	}
	sameTriangles(t, got, cube(1))
}

// asciiTetra is a tetrahedron in ASCII STL with the quirks readers meet:
// CRLF, upper case, a name with spaces, exponents, two solids.
const asciiTetra = "solid tetra part one\r\n" +
	"  facet normal 0 0 -1\r\n    outer loop\r\n      vertex 0 0 0\r\n      vertex 0 1 0\r\n      vertex 1 0 0\r\n    endloop\r\n  endfacet\r\n" +
	"  FACET NORMAL 0 -1 0\r\n    OUTER LOOP\r\n      VERTEX 0 0 0\r\n      VERTEX 1e0 0 0\r\n      VERTEX 0 0 1.0\r\n    ENDLOOP\r\n  ENDFACET\r\n" +
	"endsolid tetra part one\r\n" +
	"solid two\n" +
	"facet normal -1 0 0 outer loop vertex 0 0 0 vertex 0 0 1 vertex 0 1 0 endloop endfacet\n" +
	"facet normal 0.577 0.577 0.577\n outer loop\n vertex 1 0 0\n vertex 0 1 0\n vertex 0 0 1\n endloop\n endfacet\n" +
	"endsolid\n"

func TestReadSTLASCII(t *testing.T) {
	m, err := ReadSTL(strings.NewReader(asciiTetra))
	if err != nil {
		t.Fatalf("ReadSTL: %v", err)
	}
	if len(m.Vertices) != 4 || len(m.Faces) != 4 {
		t.Fatalf("ReadSTL = %d vertices, %d faces, want 4, 4", len(m.Vertices), len(m.Faces))
	}
	if topo := m.Topology(); !topo.Watertight() || topo.EulerCharacteristic() != 2 {
		t.Errorf("Topology() = %+v, want watertight", topo)
	}
	if got := m.SignedVolume(); math.Abs(got-1.0/6) > 1e-15 {
		// 1e-15: four terms of exact small binary fractions over 6.
		t.Errorf("SignedVolume() = %g, want 1/6", got)
	}
	// ASCII values keep float64 precision.
	m, err = ReadSTL(strings.NewReader(strings.Replace(asciiTetra, "vertex 0 1 0\r\n", "vertex 0 0.1 0\r\n", 1)))
	if err != nil {
		t.Fatalf("ReadSTL: %v", err)
	}
	if got := m.Vertices[1].Y; got != 0.1 {
		t.Errorf("vertex 1 y = %v, want 0.1 exactly", got)
	}
}

func TestReadSTLFile(t *testing.T) {
	// An *os.File reports its size: the buffer is allocated once and the
	// limit applies before reading.
	path := filepath.Join(t.TempDir(), "cube.stl")
	if err := os.WriteFile(path, mustWriteSTL(t, cube(2), ""), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := ReadSTL(f)
	if err != nil {
		t.Fatalf("ReadSTL: %v", err)
	}
	sameTriangles(t, m, cube(2))
}

func TestReadSTLErrors(t *testing.T) {
	valid := mustWriteSTL(t, cube(1), "")
	nan := bytes.Clone(valid)
	binary.LittleEndian.PutUint32(nan[84+50*3+12+4:], math.Float32bits(float32(math.NaN())))
	tests := []struct {
		name      string
		data      string
		wantErr   string
		truncated bool // errors.Is(err, io.ErrUnexpectedEOF)
	}{
		{"empty", "", "0 bytes is too short", false},
		{"short binary", "\x00\x01\x02", "too short", false},
		{"truncated binary", string(valid[:len(valid)-7]), "header says 12 triangles (684 bytes) but input has 677 bytes", true},
		{"trailing data", string(valid) + "xyz", "trailing data", false},
		{"header only", string(valid[:83]), "too short", false},
		{"NaN vertex", string(nan), "triangle 3: vertex 0: non-finite", false},
		{"ascii truncated in a vertex", asciiTetra[:strings.Index(asciiTetra, "1e0")+1], "want a number", true},
		{"ascii truncated between facets", asciiTetra[:strings.Index(asciiTetra, "endsolid")], "want \"facet\" or \"endsolid\"", true},
		{"ascii bad number", strings.Replace(asciiTetra, "1e0", "1e0x", 1), "line 12: want a number, got \"1e0x\"", false},
		{"ascii NaN vertex", strings.Replace(asciiTetra, "1e0", "nan", 1), "line 12: non-finite vertex", false},
		{"ascii overflow", strings.Replace(asciiTetra, "1e0", "1e999", 1), "line 12: non-finite vertex", false},
		{"ascii four vertices", strings.Replace(asciiTetra, "    ENDLOOP", "VERTEX 1 1 1 ENDLOOP", 1), "line 14: want \"endloop\", got \"VERTEX\"", false},
		{"ascii missing normal", strings.Replace(asciiTetra, "FACET NORMAL", "FACET", 1), "want \"normal\", got \"0\"", false},
		{"ascii junk after endsolid", asciiTetra + "junk\n", "want \"solid\" or the end after \"endsolid\", got \"junk\"", false},
		{"ascii keyword", "solid x\nfacet normal 0 0 1\nouter lop\n", "line 3: want \"loop\", got \"lop\"", false},
		{"ascii long token", "solid x\nfacet normal " + strings.Repeat("1", 300) + " 0 0\n", "longer than 256", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ReadSTL(strings.NewReader(tt.data))
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("ReadSTL = %v, %v; want a *FormatError", m, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "stl: ") {
				t.Errorf("ReadSTL error = %q, want it to contain %q", err, tt.wantErr)
			}
			if got := errors.Is(err, io.ErrUnexpectedEOF); got != tt.truncated {
				t.Errorf("errors.Is(%q, io.ErrUnexpectedEOF) = %v, want %v", err, got, tt.truncated)
			}
		})
	}
}

func TestReadSTLTruncatedEverywhere(t *testing.T) {
	data := mustWriteSTL(t, cube(1), "")
	for n := range len(data) {
		if _, err := ReadSTL(bytes.NewReader(data[:n])); err == nil {
			t.Fatalf("ReadSTL(first %d of %d bytes) = nil error", n, len(data))
		}
	}
}

func TestReadSTLSizeLimit(t *testing.T) {
	defer func(old int64) { MaxSTLSize = old }(MaxSTLSize)
	data := mustWriteSTL(t, cube(1), "")
	MaxSTLSize = int64(len(data))
	if _, err := ReadSTL(bytes.NewReader(data)); err != nil {
		t.Fatalf("ReadSTL at the limit: %v", err)
	}
	MaxSTLSize = int64(len(data)) - 1
	// Once through a reader of known size, once through one of unknown size.
	for _, r := range []io.Reader{bytes.NewReader(data), io.MultiReader(bytes.NewReader(data))} {
		_, err := ReadSTL(r)
		if err == nil || !strings.Contains(err.Error(), "larger than the 683-byte limit") {
			t.Errorf("ReadSTL over the limit = %v, want the limit error", err)
		}
	}
}

// errWriter fails every write.
type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteSTLErrors(t *testing.T) {
	bad := cube(1)
	bad.Faces[4][1] = 8
	huge := cube(1)
	huge.Vertices[3].Z = 1e39
	tests := []struct {
		name    string
		w       io.Writer
		m       *geom.Mesh
		header  string
		wantErr string
	}{
		{"long header", io.Discard, cube(1), strings.Repeat("h", 81), "header is 81 bytes"},
		{"solid header", io.Discard, cube(1), "  SOLID part", "begins with \"solid\""},
		{"invalid mesh", io.Discard, bad, "", "face 4: vertex index 8 out of range"},
		{"float32 overflow", io.Discard, huge, "", "vertex 3: coordinate 1e+39 overflows float32"},
		{"write error", errWriter{}, cube(1), "", "stl: write: disk full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteSTL(tt.w, tt.m, tt.header)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("WriteSTL = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestAdmesh checks WriteSTL's output with ADMesh, an independent STL
// checker: a closed cube must need no repair.
func TestAdmesh(t *testing.T) {
	admesh, err := exec.LookPath("admesh")
	if err != nil {
		t.Skip("admesh not installed: apt-get install admesh")
	}
	for _, tt := range []struct {
		name   string
		m      *geom.Mesh
		facets int
	}{
		{"cube", cube(20), 12},
		{"torus", torus(30, 10, 36, 18), 2 * 36 * 18},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name+".stl")
			if err := os.WriteFile(path, mustWriteSTL(t, tt.m, "replica admesh test"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(admesh, path).CombinedOutput()
			if err != nil {
				t.Fatalf("admesh %s: %v\n%s", path, err, out)
			}
			report := string(out)
			field := func(name string) int {
				t.Helper()
				m := regexp.MustCompile(regexp.QuoteMeta(name) + `\s*:\s*(\d+)`).FindStringSubmatch(report)
				if m == nil {
					t.Fatalf("admesh report lacks %q:\n%s", name, report)
				}
				n, _ := strconv.Atoi(m[1])
				return n
			}
			for name, want := range map[string]int{
				"Number of facets":          tt.facets,
				"Degenerate facets":         0,
				"Edges fixed":               0,
				"Facets removed":            0,
				"Facets added":              0,
				"Facets reversed":           0,
				"Backwards edges":           0,
				"Total disconnected facets": 0,
				"Number of parts":           1,
				"Normals fixed":             0, // our facet normals agree with admesh's
			} {
				if got := field(name); got != want {
					t.Errorf("admesh %q = %d, want %d", name, got, want)
				}
			}
			m := regexp.MustCompile(`Volume\s*:\s*([0-9.]+)`).FindStringSubmatch(report)
			if m == nil {
				t.Fatalf("admesh report lacks the volume:\n%s", report)
			}
			// admesh sums in float32 and prints 6 decimals: 1e-5 relative.
			got, _ := strconv.ParseFloat(m[1], 64)
			if want := tt.m.SignedVolume(); math.Abs(got-want) > 1e-5*want {
				t.Errorf("admesh volume = %g, want %g", got, want)
			}
			if t.Failed() {
				t.Logf("admesh report:\n%s", report)
			}
		})
	}
}
