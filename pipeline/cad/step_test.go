package cad

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/spatial/r3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// fixedTime makes written files reproducible.
var fixedTime = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func mustWriteSTEP(tb testing.TB, s *Solid) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := WriteSTEPWith(&buf, s, &WriteOptions{Time: fixedTime}); err != nil {
		tb.Fatalf("WriteSTEP: %v", err)
	}
	return buf.Bytes()
}

func mustFromMesh(tb testing.TB, name string) *Solid {
	tb.Helper()
	m := map[string]func() *Solid{
		"cube":  func() *Solid { s, _ := FromMesh(boxMesh(1, 1, 1), "cube"); return s },
		"plate": func() *Solid { s, _ := FromMesh(plateMesh(), "plate"); return s },
	}[name]()
	if m == nil {
		tb.Fatalf("FromMesh(%s) failed", name)
	}
	return m
}

// diffSolids returns the first difference between two solids, or "".
func diffSolids(got, want *Solid) string {
	if got.Name != want.Name {
		return fmt.Sprintf("Name = %q, want %q", got.Name, want.Name)
	}
	if len(got.Vertices) != len(want.Vertices) || len(got.Edges) != len(want.Edges) || len(got.Faces) != len(want.Faces) {
		return fmt.Sprintf("vertices, edges, faces = %d, %d, %d, want %d, %d, %d",
			len(got.Vertices), len(got.Edges), len(got.Faces), len(want.Vertices), len(want.Edges), len(want.Faces))
	}
	for i := range got.Vertices {
		if got.Vertices[i] != want.Vertices[i] {
			return fmt.Sprintf("vertex %d = %v, want %v", i, got.Vertices[i], want.Vertices[i])
		}
	}
	for i := range got.Edges {
		if !reflect.DeepEqual(got.Edges[i], want.Edges[i]) {
			return fmt.Sprintf("edge %d = %+v %+v, want %+v %+v", i, got.Edges[i], got.Edges[i].Curve, want.Edges[i], want.Edges[i].Curve)
		}
	}
	for i := range got.Faces {
		if !reflect.DeepEqual(got.Faces[i], want.Faces[i]) {
			return fmt.Sprintf("face %d = %+v %+v, want %+v %+v", i, got.Faces[i], got.Faces[i].Surface, want.Faces[i], want.Faces[i].Surface)
		}
	}
	return ""
}

// TestRoundTrip writes solids and reads them back: topology and geometry
// must come back bit for bit (which is within any tolerance).
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name         string
		solid        func() *Solid
		v, e, f      int
		innerLoopsOf int // faces with an inner loop
	}{
		{"cube", func() *Solid { return mustFromMesh(t, "cube") }, 8, 12, 6, 0},
		{"plate", func() *Solid { return mustFromMesh(t, "plate") }, 2 * (36 + 32), 172, 38, 2},
		{"cylinder", func() *Solid { return cylinderSolid(5, 20) }, 2, 3, 3, 0},
		{"frustum", func() *Solid { return frustumSolid(5, 3, 10) }, 2, 3, 3, 0},
		{"dome", func() *Solid { return domeSolid(7) }, 2, 2, 2, 0},
		{"slanted", func() *Solid { s, _ := slantedSolid(); return s }, 2, 2, 3, 1}, // the wall has two loops
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.solid()
			if got, want := [3]int{len(s.Vertices), len(s.Edges), len(s.Faces)}, [3]int{tc.v, tc.e, tc.f}; got != want {
				t.Errorf("vertices, edges, faces = %v, want %v", got, want)
			}
			holed := 0
			for _, f := range s.Faces {
				if len(f.Bounds) > 1 {
					holed++
				}
			}
			if holed != tc.innerLoopsOf {
				t.Errorf("%d faces with inner loops, want %d", holed, tc.innerLoopsOf)
			}
			data := mustWriteSTEP(t, s)
			got, err := ReadSTEP(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("ReadSTEP(WriteSTEP(s)): %v", err)
			}
			if d := diffSolids(got, s); d != "" {
				t.Errorf("round trip: %s", d)
			}
			if again := mustWriteSTEP(t, got); !bytes.Equal(again, data) {
				t.Errorf("writing the solid read back gives a different file")
			}
		})
	}
}

// TestWriteSTEPGolden compares the cube's file with testdata/cube.step;
// -update rewrites it.
func TestWriteSTEPGolden(t *testing.T) {
	got := mustWriteSTEP(t, mustFromMesh(t, "cube"))
	path := filepath.Join("testdata", "cube.step")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestWriteSTEPGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("WriteSTEP(cube) differs from %s; run go test -run TestWriteSTEPGolden -update and review the diff", path)
	}
}

// TestWriteSTEPFormat checks the rules of Part 21 that CAD programs are
// picky about.
func TestWriteSTEPFormat(t *testing.T) {
	data := string(mustWriteSTEP(t, mustFromMesh(t, "plate")))
	for _, want := range []string{
		"ISO-10303-21;\nHEADER;\n",
		"FILE_NAME('plate.step','2025-01-02T03:04:05',",
		"FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));",
		"PRODUCT('plate','plate','',(#",
		"( LENGTH_UNIT() NAMED_UNIT(*) SI_UNIT(.MILLI.,.METRE.) )",
		"UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(1.E-06),#",
		"MANIFOLD_SOLID_BREP('plate',#",
		"ENDSEC;\nEND-ISO-10303-21;\n",
	} {
		if !strings.Contains(data, want) {
			t.Errorf("the file lacks %q", want)
		}
	}
	// One instance a line, numbered from 1 without gaps, each referring
	// only to instances before it.
	n := 0
	inData := false
	ref := regexp.MustCompile(`#(\d+)`)
	for _, line := range strings.Split(data, "\n") {
		switch {
		case line == "DATA;":
			inData = true
			continue
		case line == "ENDSEC;":
			inData = false
		}
		if !inData {
			continue
		}
		n++
		if prefix := fmt.Sprintf("#%d=", n); !strings.HasPrefix(line, prefix) || !strings.HasSuffix(line, ";") {
			t.Fatalf("line %q, want %q…;", line, prefix)
		}
		for _, m := range ref.FindAllStringSubmatch(line[len(strconv.Itoa(n))+2:], -1) {
			if id, _ := strconv.Atoi(m[1]); id >= n {
				t.Errorf("#%d refers forward to #%d", n, id)
			}
		}
	}
	// Every REAL has a decimal point.
	for _, m := range regexp.MustCompile(`CARTESIAN_POINT\('',\(([^)]*)\)\)`).FindAllStringSubmatch(data, -1) {
		for _, x := range strings.Split(m[1], ",") {
			if !strings.Contains(x, ".") {
				t.Errorf("coordinate %q has no decimal point", x)
			}
		}
	}
}

func TestStepReal(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{0, "0."}, {1, "1."}, {-2, "-2."}, {0.5, "0.5"}, {1e-7, "1.E-07"}, {1e21, "1.E+21"},
		{123456789012345678, "1.2345678901234568E+17"}, {math.Copysign(0, -1), "-0."},
		{0.30000000000000004, "0.30000000000000004"}, {math.SmallestNonzeroFloat64, "5.E-324"}, {math.MaxFloat64, "1.7976931348623157E+308"},
	} {
		if got := stepReal(tc.x); got != tc.want {
			t.Errorf("stepReal(%v) = %q, want %q", tc.x, got, tc.want)
		}
		p := &stepParser{data: []byte(tc.want)}
		v, err := p.num()
		if err != nil || v.kind != valReal || v.f != tc.x || math.Signbit(v.f) != math.Signbit(tc.x) {
			t.Errorf("parsing %q = %+v, %v, want %v", tc.want, v, err, tc.x)
		}
	}
}

func TestStepStringRoundTrip(t *testing.T) {
	for _, name := range []string{"", "plate", "O'Brien's part", `back\slash`, "Müller Halter", "零件", "🔩 bolt M3", "tab\there", "\\X2\\0041\\X0\\", "bad \xff utf-8"} {
		t.Run(name, func(t *testing.T) {
			s := cylinderSolid(1, 2)
			s.Name = name
			data := mustWriteSTEP(t, s)
			for _, c := range data {
				if c >= 0x7f || c < 0x20 && c != '\n' {
					t.Fatalf("the file holds byte %#x, want printable ASCII", c)
				}
			}
			got, err := ReadSTEP(bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.ToValidUTF8(name, "\uFFFD")
			if got.Name != want {
				t.Errorf("name %q came back as %q", want, got.Name)
			}
		})
	}
	for raw, want := range map[string]string{
		`\X\E9t\X\E9`:        "été",
		`\S\itre`:            "étre",
		`a\PA\b`:             "ab",
		`\X2\00E9\X0\`:       "é",
		`\X2\D83DDD29\X0\`:   "🔩",
		`\X4\0001F529\X0\`:   "🔩",
		`\X2\00E`:            `\X2\00E`,
		"line\r\nbreak":      "linebreak",
		`trailing\`:          `trailing\`,
		`\X2\ZZZZ\X0\`:       "\uFFFD",
		`\X4\FFFFFFFF\X0\ok`: "\uFFFDok",
	} {
		if got := decodeString([]byte(raw)); got != want {
			t.Errorf("decodeString(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestReadSTEPOpenCascade reads a file OpenCascade 7.6 wrote for a box
// 40×30×10 less a cylinder of radius 4: it uses SURFACE_CURVE and
// SEAM_CURVE with pcurves, FACE_BOUND for every loop and reversed bounds.
func TestReadSTEPOpenCascade(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "occt-plate-hole.stp"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ReadSTEP(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := [3]int{len(s.Vertices), len(s.Edges), len(s.Faces)}, [3]int{10, 15, 7}; got != want {
		t.Errorf("vertices, edges, faces = %v, want %v", got, want)
	}
	if got := eulerPoincare(s); got != 0 {
		t.Errorf("V − E + 2F − L = %d, want 0", got)
	}
	cylinders := 0
	for i, f := range s.Faces {
		switch g := f.Surface.(type) {
		case *Cylinder:
			cylinders++
			if g.Radius != 4 || len(f.Bounds) != 1 || len(f.Bounds[0]) != 4 {
				t.Errorf("cylindrical face %d: radius %v, loops %v; want 4 and one loop of 4 edges", i, g.Radius, f.Bounds)
			}
		case *Plane:
			if math.Abs(g.Normal.Z) == 1 {
				// The outer loop is the rectangle, the hole one circle.
				if len(f.Bounds) != 2 || len(f.Bounds[0]) != 4 || len(f.Bounds[1]) != 1 {
					t.Errorf("face %d on z = %v: loops %v, want the rectangle then the circle", i, g.Origin.Z, f.Bounds)
				}
			}
		}
	}
	if cylinders != 1 {
		t.Errorf("%d cylindrical faces, want 1", cylinders)
	}
	if s.Name != "Open CASCADE STEP translator 7.6 1" {
		t.Errorf("Name = %q", s.Name)
	}
}

// TestReadSTEPUnits reads the cube with its length unit changed.
func TestReadSTEPUnits(t *testing.T) {
	cube := mustFromMesh(t, "cube")
	data := string(mustWriteSTEP(t, cube))
	mmUnit := "( LENGTH_UNIT() NAMED_UNIT(*) SI_UNIT(.MILLI.,.METRE.) )"
	inch := "( CONVERSION_BASED_UNIT('INCH',#9001) LENGTH_UNIT() NAMED_UNIT(*) )"
	inchDefs := "#9001=LENGTH_MEASURE_WITH_UNIT(LENGTH_MEASURE(0.0254),#9002);\n#9002=( LENGTH_UNIT() NAMED_UNIT(*) SI_UNIT($,.METRE.) );\nENDSEC;\nEND-ISO"
	for _, tc := range []struct {
		name  string
		edit  func(string) string
		scale float64
	}{
		{"millimetre", func(s string) string { return s }, 1},
		{"metre", func(s string) string {
			return strings.Replace(s, mmUnit, "( LENGTH_UNIT() NAMED_UNIT(*) SI_UNIT($,.METRE.) )", 1)
		}, 1000},
		{"centimetre", func(s string) string { return strings.Replace(s, ".MILLI.,.METRE.", ".CENTI.,.METRE.", 1) }, 10},
		{"inch", func(s string) string {
			return strings.Replace(strings.Replace(s, mmUnit, inch, 1), "ENDSEC;\nEND-ISO", inchDefs, 1)
		}, 25.4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadSTEP(strings.NewReader(tc.edit(data)))
			if err != nil {
				t.Fatal(err)
			}
			for i, p := range s.Vertices {
				want := r3.Scale(tc.scale, cube.Vertices[i])
				if r3.Norm(r3.Sub(p, want)) > 1e-12*tc.scale {
					t.Errorf("vertex %d = %v, want %v", i, p, want)
				}
			}
		})
	}
}

// TestReadSTEPErrors feeds broken and unsupported files: each must give a
// clear error, and none may panic.
func TestReadSTEPErrors(t *testing.T) {
	cube := string(mustWriteSTEP(t, mustFromMesh(t, "cube")))
	cyl := string(mustWriteSTEP(t, cylinderSolid(5, 20)))
	// line returns the instance line of cube that starts with #id=.
	instance := func(text, entity string) (id, line string) {
		m := regexp.MustCompile(`(?m)^#(\d+)=` + entity + `.*$`).FindStringSubmatch(text)
		return m[1], m[0]
	}
	_, vp := instance(cube, "VERTEX_POINT")
	oeID, oe := instance(cube, "ORIENTED_EDGE")
	_, plane := instance(cube, "PLANE")
	_, circle := instance(cyl, "CIRCLE")
	_, brep := instance(cube, "MANIFOLD_SOLID_BREP")
	rng := rand.New(rand.NewPCG(1, 1))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	for _, tc := range []struct {
		name string
		data string
		want string // in the message
		is   error
	}{
		{"empty", "", "line 1: unexpected end of file", nil},
		{"truncated", cube[:len(cube)/2], "unexpected end of file", nil},
		{"truncated in a string", cube[:strings.Index(cube, "'Replica")+3], "unexpected end of file", nil},
		{"truncated before END", cube[:strings.LastIndex(cube, "END-ISO")], "unexpected end of file", nil},
		{"garbage", string(garbage), "line 1:", nil},
		{"PNG", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "line 1:", nil},
		{"unterminated comment", "ISO-10303-21; /* HEADER;", "unexpected end of file", nil},
		{"unsupported surface", strings.Replace(cube, plane, strings.Replace(plane, "PLANE", "B_SPLINE_SURFACE_WITH_KNOTS", 1), 1),
			"unsupported surface B_SPLINE_SURFACE_WITH_KNOTS", ErrUnsupported},
		{"torus", strings.Replace(cube, plane, strings.Replace(plane, "PLANE('',", "TOROIDAL_SURFACE('',", 1), 1),
			"unsupported surface TOROIDAL_SURFACE", ErrUnsupported},
		{"unsupported curve", strings.Replace(cyl, circle, strings.Replace(circle, "CIRCLE", "PARABOLA", 1), 1),
			"unsupported curve PARABOLA", ErrUnsupported},
		{"dangling reference", strings.Replace(cube, vp, regexp.MustCompile(`#\d+\)`).ReplaceAllString(vp, "#99999)"), 1),
			"refers to #99999, which is not defined", nil},
		{"reference cycle", strings.Replace(cube, oe, regexp.MustCompile(`\*,\*,#\d+`).ReplaceAllString(oe, "*,*,#"+oeID), 1),
			"reference cycle through #" + oeID, nil},
		{"two solids", strings.Replace(cube, brep, brep+"\n#99998="+brep[strings.Index(brep, "=")+1:], 1),
			"2 solids", ErrUnsupported},
		{"no solid", strings.Replace(cube, "MANIFOLD_SOLID_BREP", "FACETED_BREP", 1), "unsupported solid FACETED_BREP", ErrUnsupported},
		{"duplicate instance", strings.Replace(cube, "#2=", "#1=", 1), "#1 is defined twice", nil},
		{"not a reference", strings.Replace(cube, vp, regexp.MustCompile(`#\d+\)`).ReplaceAllString(vp, "'x')"), 1),
			"string where a reference should be", nil},
		{"open shell", regexp.MustCompile(`CLOSED_SHELL\('',\(#\d+,`).ReplaceAllString(cube, "CLOSED_SHELL('',("),
			"the solid is not valid: cad: edge 0 is used", nil},
		{"deep nesting", "ISO-10303-21;HEADER;ENDSEC;DATA;#1=A(" + strings.Repeat("(", 100) + ");ENDSEC;END-ISO-10303-21;", "nested deeper", nil},
		{"huge real", strings.Replace(cube, "(0.,0.,0.)", "(1.E999,0.,0.)", 1), "out of range", nil},
		{"no units", strings.Replace(cube, "GLOBAL_UNIT_ASSIGNED_CONTEXT", "GLOBAL_UNIT_ASSIGNED_CONTEXT_X", 1), "assigns no units", nil},
		{"other section", strings.Replace(cube, "DATA;", "ANCHOR;", 1), "ANCHOR section is not supported", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ReadSTEP(strings.NewReader(tc.data))
			if err == nil {
				t.Fatalf("ReadSTEP() = %d faces, want an error", len(s.Faces))
			}
			if !strings.HasPrefix(err.Error(), "cad: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadSTEP() = %v, want an error starting with \"cad: \" containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("ReadSTEP() = %v, want it to wrap %v", err, tc.is)
			}
		})
	}
}

// TestDecodeStringLinear decodes strings of many unterminated or
// malformed directives, which a naive decoder scans quadratically.
func TestDecodeStringLinear(t *testing.T) {
	for _, unit := range []string{`\X2\0`, `\X4\`, `\X2\0\X0\`} {
		raw := strings.Repeat(unit, 1<<20/len(unit))
		if got := decodeString([]byte(raw)); got != raw {
			t.Errorf("decodeString(%q…) changed the malformed text", raw[:20])
		}
	}
}

func TestReadSTEPTooLarge(t *testing.T) {
	data := mustWriteSTEP(t, mustFromMesh(t, "cube"))
	defer func(old int64) { MaxSTEPSize = old }(MaxSTEPSize)
	MaxSTEPSize = int64(len(data)) - 1
	if _, err := ReadSTEP(bytes.NewReader(data)); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("ReadSTEP of %d bytes with MaxSTEPSize %d = %v, want a size error", len(data), MaxSTEPSize, err)
	}
	MaxSTEPSize = int64(len(data))
	if _, err := ReadSTEP(bytes.NewReader(data)); err != nil {
		t.Errorf("ReadSTEP of exactly MaxSTEPSize bytes: %v", err)
	}
}

func TestWriteSTEPRejectsInvalid(t *testing.T) {
	s := cylinderSolid(5, 20)
	s.Faces = s.Faces[1:]
	var buf bytes.Buffer
	if err := WriteSTEP(&buf, s); err == nil || buf.Len() != 0 {
		t.Errorf("WriteSTEP(open solid) = %v and %d bytes, want an error and nothing written", err, buf.Len())
	}
}
