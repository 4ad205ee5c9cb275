package mesh

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// mustWrite3MF returns m as a 3MF package.
func mustWrite3MF(tb testing.TB, m *geom.Mesh, name string) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if err := Write3MF(&buf, m, name); err != nil {
		tb.Fatalf("Write3MF: %v", err)
	}
	return buf.Bytes()
}

// read3MF reads a package held in memory.
func read3MF(data []byte) (*geom.Mesh, error) {
	return Read3MF(bytes.NewReader(data), int64(len(data)))
}

// zipEntry is a file of a hand-made package.
type zipEntry struct{ name, data string }

// mustZip returns a zip archive of the entries, in order, stored without
// compression so that the fuzzer can reach the XML.
func mustZip(tb testing.TB, entries ...zipEntry) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := io.WriteString(w, e.data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// package3MF returns a package of the model part given, with the content
// types and root relationship that Write3MF writes.
func package3MF(tb testing.TB, model string) []byte {
	tb.Helper()
	return mustZip(tb,
		zipEntry{"[Content_Types].xml", threeMFContentTypes},
		zipEntry{"_rels/.rels", threeMFRels},
		zipEntry{"3D/3dmodel.model", model})
}

// modelXML returns a model part: the model element with attrs, then body.
func modelXML(attrs, body string) string {
	return xml.Header + `<model xmlns="` + threeMFCoreNS + `" ` + attrs + ">\n" + body + "</model>\n"
}

// objectXML returns an object element holding m.
func objectXML(id int, typ string, m *geom.Mesh) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<object id=\"%d\" type=\"%s\"><mesh><vertices>\n", id, typ)
	for _, v := range m.Vertices {
		fmt.Fprintf(&b, "<vertex x=\"%v\" y=\"%v\" z=\"%v\"/>\n", v.X, v.Y, v.Z)
	}
	b.WriteString("</vertices><triangles>\n")
	for _, f := range m.Faces {
		fmt.Fprintf(&b, "<triangle v1=\"%d\" v2=\"%d\" v3=\"%d\"/>\n", f[0], f[1], f[2])
	}
	b.WriteString("</triangles></mesh></object>\n")
	return b.String()
}

// cubeModel is a model part of the unit cube in millimetres, built once.
var cubeModel = modelXML(`unit="millimeter"`, "<resources>\n"+objectXML(1, "model", cube(1))+"</resources>\n<build><item objectid=\"1\"/></build>\n")

// icosphere returns sphereMesh(r, n) moved to centre c.
func icosphere(c geom.Vec, r float64, n int) *geom.Mesh {
	m := sphereMesh(r, n)
	for i, v := range m.Vertices {
		m.Vertices[i] = r3.Add(c, v)
	}
	return m
}

// specialMesh returns triangles over coordinates that a lossy format would
// change: short decimals that binary cannot hold, extremes, subnormals and
// negative zero, and random bit patterns.
func specialMesh() *geom.Mesh {
	cs := []float64{0.1, 1e-9, 123456.789, math.Copysign(0, -1), 0, 1.0 / 3, math.Pi,
		math.SmallestNonzeroFloat64, -math.MaxFloat64, math.MaxFloat64, 1e-300, 2.2250738585072014e-308,
		9007199254740993, -0.30000000000000004, 1e21, 1e20, 5e-324, 0.5, -7}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 60 {
		v := math.Float64frombits(rng.Uint64())
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			cs = append(cs, v)
		}
	}
	m := &geom.Mesh{}
	for i := 0; i+2 < len(cs); i++ {
		m.Vertices = append(m.Vertices, geom.Vec{X: cs[i], Y: cs[i+1], Z: cs[i+2]})
	}
	for i := int32(0); i+2 < int32(len(m.Vertices)); i++ {
		m.Faces = append(m.Faces, [3]int32{i, i + 2, i + 1})
	}
	return m
}

// sameBits fails unless got has exactly want's vertices, bit for bit (so
// -0 differs from 0), and faces.
func sameBits(tb testing.TB, got, want *geom.Mesh) {
	tb.Helper()
	if len(got.Vertices) != len(want.Vertices) || len(got.Faces) != len(want.Faces) {
		tb.Fatalf("got %d vertices, %d faces; want %d, %d", len(got.Vertices), len(got.Faces), len(want.Vertices), len(want.Faces))
	}
	for i, g := range got.Vertices {
		w := want.Vertices[i]
		for k, c := range [3][2]float64{{g.X, w.X}, {g.Y, w.Y}, {g.Z, w.Z}} {
			if math.Float64bits(c[0]) != math.Float64bits(c[1]) {
				tb.Fatalf("vertex %d coordinate %d = %v (%#x), want %v (%#x)", i, k, c[0], math.Float64bits(c[0]), c[1], math.Float64bits(c[1]))
			}
		}
	}
	for i, f := range got.Faces {
		if f != want.Faces[i] {
			tb.Fatalf("face %d = %v, want %v", i, f, want.Faces[i])
		}
	}
}

func Test3MFRoundTrip(t *testing.T) {
	for _, tt := range []struct {
		name string
		m    *geom.Mesh
	}{
		{"cube", cube(25)},
		{"icosphere", icosphere(geom.Vec{X: 10.5, Y: -3.25, Z: 7}, 12.7, 3)},
		{"special values", specialMesh()},
		{"one triangle", &geom.Mesh{Vertices: []geom.Vec{{X: 0.1}, {Y: 1e-9}, {Z: 123456.789}}, Faces: [][3]int32{{0, 1, 2}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := mustWrite3MF(t, tt.m, "replica "+tt.name)
			got, err := read3MF(data)
			if err != nil {
				t.Fatalf("Read3MF: %v", err)
			}
			sameBits(t, got, tt.m)
		})
	}
}

func TestWrite3MFPackage(t *testing.T) {
	const name = `Bracket "A" & <B>, 'v2'`
	m := icosphere(geom.Vec{}, 5, 1)
	data := mustWrite3MF(t, m, name)
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("zip.NewReader: %v", err)
	}
	parts := make(map[string][]byte)
	for _, f := range zr.File {
		if f.Method != zip.Deflate && f.Method != zip.Store {
			t.Errorf("%s: compression method %d; 3MF allows only deflate and store", f.Name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		parts[f.Name], err = io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
	}
	if got, want := slices.Sorted(func(yield func(string) bool) {
		for n := range parts {
			if !yield(n) {
				return
			}
		}
	}), []string{"3D/3dmodel.model", "[Content_Types].xml", "_rels/.rels"}; !slices.Equal(got, want) {
		t.Fatalf("package holds %q, want %q", got, want)
	}

	var types struct {
		XMLName  xml.Name `xml:"http://schemas.openxmlformats.org/package/2006/content-types Types"`
		Defaults []struct {
			Extension   string `xml:"Extension,attr"`
			ContentType string `xml:"ContentType,attr"`
		} `xml:"Default"`
	}
	if err := xml.Unmarshal(parts["[Content_Types].xml"], &types); err != nil {
		t.Fatalf("[Content_Types].xml: %v", err)
	}
	defaults := make(map[string]string)
	for _, d := range types.Defaults {
		defaults[d.Extension] = d.ContentType
	}
	for ext, want := range map[string]string{
		"rels":  "application/vnd.openxmlformats-package.relationships+xml",
		"model": "application/vnd.ms-package.3dmanufacturing-3dmodel+xml",
	} {
		if got := defaults[ext]; got != want {
			t.Errorf("content type of .%s = %q, want %q", ext, got, want)
		}
	}

	var rels struct {
		XMLName xml.Name `xml:"http://schemas.openxmlformats.org/package/2006/relationships Relationships"`
		Rels    []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if err := xml.Unmarshal(parts["_rels/.rels"], &rels); err != nil {
		t.Fatalf("_rels/.rels: %v", err)
	}
	if len(rels.Rels) != 1 || rels.Rels[0].ID == "" ||
		rels.Rels[0].Type != "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel" || rels.Rels[0].Target != "/3D/3dmodel.model" {
		t.Errorf("relationships = %+v, want one of the 3D model type to /3D/3dmodel.model", rels.Rels)
	}

	type vertex struct {
		X string `xml:"x,attr"`
		Y string `xml:"y,attr"`
		Z string `xml:"z,attr"`
	}
	type triangle struct {
		V1 string `xml:"v1,attr"`
		V2 string `xml:"v2,attr"`
		V3 string `xml:"v3,attr"`
	}
	var model struct {
		XMLName  xml.Name `xml:"http://schemas.microsoft.com/3dmanufacturing/core/2015/02 model"`
		Unit     string   `xml:"unit,attr"`
		Lang     string   `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		Metadata []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"metadata"`
		Objects []struct {
			ID        string     `xml:"id,attr"`
			Type      string     `xml:"type,attr"`
			Name      string     `xml:"name,attr"`
			Vertices  []vertex   `xml:"mesh>vertices>vertex"`
			Triangles []triangle `xml:"mesh>triangles>triangle"`
		} `xml:"resources>object"`
		Items []struct {
			ObjectID  string     `xml:"objectid,attr"`
			Transform *string    `xml:"transform,attr"`
			Attrs     []xml.Attr `xml:",any,attr"`
		} `xml:"build>item"`
	}
	if err := xml.Unmarshal(parts["3D/3dmodel.model"], &model); err != nil {
		t.Fatalf("3D/3dmodel.model: %v", err)
	}
	if model.Unit != "millimeter" || model.Lang != "en-US" {
		t.Errorf("model unit=%q xml:lang=%q, want millimeter, en-US", model.Unit, model.Lang)
	}
	if len(model.Metadata) != 1 || model.Metadata[0].Name != "Title" || model.Metadata[0].Value != name {
		t.Errorf("metadata = %+v, want Title %q", model.Metadata, name)
	}
	if len(model.Objects) != 1 {
		t.Fatalf("%d objects, want 1", len(model.Objects))
	}
	o := model.Objects[0]
	if o.ID != "1" || o.Type != "model" || o.Name != name {
		t.Errorf("object id=%q type=%q name=%q, want 1, model, %q", o.ID, o.Type, o.Name, name)
	}
	if len(o.Vertices) != len(m.Vertices) || len(o.Triangles) != len(m.Faces) {
		t.Fatalf("object has %d vertices, %d triangles; want %d, %d", len(o.Vertices), len(o.Triangles), len(m.Vertices), len(m.Faces))
	}
	for i, v := range m.Vertices {
		f := func(c float64) string { return strconv.FormatFloat(c, 'g', -1, 64) }
		if want := (vertex{f(v.X), f(v.Y), f(v.Z)}); o.Vertices[i] != want {
			t.Fatalf("vertex %d = %+v, want %+v", i, o.Vertices[i], want)
		}
	}
	for i, f := range m.Faces {
		if want := (triangle{fmt.Sprint(f[0]), fmt.Sprint(f[1]), fmt.Sprint(f[2])}); o.Triangles[i] != want {
			t.Fatalf("triangle %d = %+v, want %+v", i, o.Triangles[i], want)
		}
	}
	if len(model.Items) != 1 || model.Items[0].ObjectID != "1" || model.Items[0].Transform != nil {
		t.Errorf("build items = %+v, want one of object 1 without a transform", model.Items)
	}

	// No name: neither the title nor the object's name is written.
	unnamed := mustWrite3MF(t, m, "")
	zr, err = zip.NewReader(bytes.NewReader(unnamed), int64(len(unnamed)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open("3D/3dmodel.model")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	text, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(text, []byte("metadata")) || bytes.Contains(text, []byte("name=")) {
		t.Errorf("model of an unnamed mesh holds a name:\n%.400s", text)
	}
}

func TestWrite3MFName(t *testing.T) {
	for _, tt := range []struct{ name, want string }{
		{`plain`, `plain`},
		{`"quoted" & <tagged> 'it'`, `"quoted" & <tagged> 'it'`},
		{"tab\tnewline\ncr\r", "tab newline cr "},
		{"bell\a nul\x00 bad\xff utf-8 é ✓ 𝄞", "bell\uFFFD nul\uFFFD bad\uFFFD utf-8 é ✓ 𝄞"},
	} {
		data := mustWrite3MF(t, cube(1), tt.name)
		zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open("3D/3dmodel.model")
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		// Named entities only: lib3mf 1.8 refuses numeric references.
		if bytes.Contains(text, []byte("&#")) {
			t.Errorf("name %q: model holds a numeric character reference", tt.name)
		}
		var model struct {
			Title  string `xml:"metadata"`
			Object struct {
				Name string `xml:"name,attr"`
			} `xml:"resources>object"`
		}
		if err := xml.Unmarshal(text, &model); err != nil {
			t.Fatalf("name %q: %v", tt.name, err)
		}
		if model.Title != tt.want || model.Object.Name != tt.want {
			t.Errorf("name %q: title %q, object name %q; want %q", tt.name, model.Title, model.Object.Name, tt.want)
		}
	}
}

func TestWrite3MFReproducible(t *testing.T) {
	a := mustWrite3MF(t, cube(3), "cube")
	b := mustWrite3MF(t, cube(3), "cube")
	if !bytes.Equal(a, b) {
		t.Error("two writes of one mesh differ")
	}
}

func TestRead3MFUnits(t *testing.T) {
	// Per unit, the millimetres of 1, 2.5 and -3 units.
	for _, tt := range []struct {
		attr string
		want [3]float64
	}{
		{``, [3]float64{1, 2.5, -3}},
		{`unit="millimeter"`, [3]float64{1, 2.5, -3}},
		{`unit="micron"`, [3]float64{0.001, 0.0025, -0.003}},
		{`unit="centimeter"`, [3]float64{10, 25, -30}},
		{`unit="inch"`, [3]float64{25.4, 63.5, -76.2}},
		{`unit="foot"`, [3]float64{304.8, 762, -914.4}},
		{`unit="meter"`, [3]float64{1000, 2500, -3000}},
	} {
		t.Run(tt.attr, func(t *testing.T) {
			model := modelXML(tt.attr, `<resources><object id="4"><mesh><vertices>
<vertex x="1" y="2.5" z="-3"/><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/>
</vertices><triangles><triangle v1="1" v2="3" v3="2"/><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object></resources>
<build><item objectid="4"/></build>`)
			m, err := read3MF(package3MF(t, model))
			if err != nil {
				t.Fatalf("Read3MF: %v", err)
			}
			got := m.Vertices[0]
			for k, g := range [3]float64{got.X, got.Y, got.Z} {
				if w := tt.want[k]; math.Abs(g-w) > 1e-12*math.Abs(w) {
					t.Errorf("coordinate %d = %v mm, want %v", k, g, w)
				}
			}
			// One unit is exactly the unit's millimetres.
			if want := tt.want[0]; got.X != want {
				t.Errorf("1 unit = %v mm, want exactly %v", got.X, want)
			}
			if want := [][3]int32{{1, 3, 2}, {0, 1, 2}}; !slices.Equal(m.Faces, want) {
				t.Errorf("faces = %v, want %v", m.Faces, want)
			}
		})
	}
}

// near fails unless got is within 1e-9 of want.
func near(tb testing.TB, what string, got, want geom.Vec) {
	tb.Helper()
	if d := r3.Sub(got, want); math.Abs(d.X) > 1e-9 || math.Abs(d.Y) > 1e-9 || math.Abs(d.Z) > 1e-9 {
		tb.Errorf("%s = %v, want %v", what, got, want)
	}
}

func TestRead3MFTransforms(t *testing.T) {
	c := objectXML(1, "model", cube(1))
	read := func(t *testing.T, model string) *geom.Mesh {
		t.Helper()
		m, err := read3MF(package3MF(t, model))
		if err != nil {
			t.Fatalf("Read3MF: %v", err)
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		return m
	}

	t.Run("item", func(t *testing.T) {
		// A quarter turn about z, then a move by (10, 20, 30): rows are
		// the images of x, y, z and the translation (spec 3.3).
		m := read(t, modelXML("", "<resources>"+c+`</resources><build>
<item objectid="1" transform=" 0 1 0  -1 0 0  0 0 1  10 20 30 "/></build>`))
		near(t, "(1,0,0)", m.Vertices[1], geom.Vec{X: 10, Y: 21, Z: 30})
		near(t, "(0,1,0)", m.Vertices[2], geom.Vec{X: 9, Y: 20, Z: 30})
		near(t, "(1,1,1)", m.Vertices[7], geom.Vec{X: 9, Y: 21, Z: 31})
		if v := m.SignedVolume(); math.Abs(v-1) > 1e-9 {
			t.Errorf("volume = %v, want 1", v)
		}
	})
	t.Run("components", func(t *testing.T) {
		// The component moves the cube by 5 in x inside object 2; the item
		// then scales object 2 by 2: (1,1,1) → (6,1,1) → (12,2,2).
		m := read(t, modelXML(`unit="centimeter"`, "<resources>"+c+`<object id="2"><components>
<component objectid="1" transform="1 0 0 0 1 0 0 0 1 5 0 0"/><component objectid="1"/></components></object></resources>
<build><item objectid="2" transform="2 0 0 0 2 0 0 0 2 0 0 0"/></build>`))
		if len(m.Vertices) != 16 || len(m.Faces) != 24 {
			t.Fatalf("got %d vertices, %d faces; want two cubes, 16 and 24", len(m.Vertices), len(m.Faces))
		}
		near(t, "first cube (1,1,1)", m.Vertices[7], geom.Vec{X: 120, Y: 20, Z: 20})
		near(t, "second cube (1,1,1)", m.Vertices[15], geom.Vec{X: 20, Y: 20, Z: 20})
		if f := cube(1).Faces[0]; m.Faces[12] != [3]int32{f[0] + 8, f[1] + 8, f[2] + 8} {
			t.Errorf("second cube's first face = %v, want %v shifted by 8", m.Faces[12], f)
		}
	})
	t.Run("mirror keeps the volume positive", func(t *testing.T) {
		m := read(t, modelXML("", "<resources>"+c+`</resources><build>
<item objectid="1" transform="-1 0 0 0 1 0 0 0 1 0 0 0"/></build>`))
		near(t, "(1,0,0)", m.Vertices[1], geom.Vec{X: -1})
		if v := m.SignedVolume(); math.Abs(v-1) > 1e-9 {
			t.Errorf("volume = %v, want 1: a mirroring transform must reverse the triangles", v)
		}
	})
	t.Run("instances and types", func(t *testing.T) {
		// Two items of one object give two cubes; a support object and an
		// object not in the build are left out.
		m := read(t, modelXML("", "<resources>"+c+objectXML(2, "support", cube(3))+objectXML(3, "model", cube(4))+`</resources>
<build><item objectid="1"/><item objectid="2"/><item objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 7"/></build>`))
		if len(m.Vertices) != 16 || len(m.Faces) != 24 {
			t.Fatalf("got %d vertices, %d faces; want two unit cubes, 16 and 24", len(m.Vertices), len(m.Faces))
		}
		near(t, "second cube (1,1,1)", m.Vertices[15], geom.Vec{X: 1, Y: 1, Z: 8})
		if m.Faces[12] != [3]int32{8, 10, 11} {
			t.Errorf("face 12 = %v, want {8 10 11}", m.Faces[12])
		}
	})
}

func TestRead3MFStartPart(t *testing.T) {
	other := func(target string) []byte {
		rels := strings.Replace(threeMFRels, `Target="/3D/3dmodel.model"`, `Target="`+target+`"`, 1)
		return mustZip(t, zipEntry{"_rels/.rels", rels}, zipEntry{"3D/3dmodel.model", "not XML"}, zipEntry{"3D/Part One.model", cubeModel})
	}
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"no relationships", mustZip(t, zipEntry{"3D/3dmodel.model", cubeModel})},
		{"no 3D model relationship", mustZip(t, zipEntry{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>`}, zipEntry{"3D/3dmodel.model", cubeModel})},
		{"absolute target", other("/3D/Part%20One.model")},
		{"relative target", other("3D/Part%20One.model")},
		{"other case", other("/3d/part%20one.MODEL")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := read3MF(tt.data)
			if err != nil {
				t.Fatalf("Read3MF: %v", err)
			}
			sameBits(t, m, cube(1))
		})
	}
}

func TestRead3MFFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ball.3mf")
	want := icosphere(geom.Vec{X: 1}, 2, 2)
	if err := os.WriteFile(path, mustWrite3MF(t, want, "ball"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Read3MFFile(path)
	if err != nil {
		t.Fatalf("Read3MFFile: %v", err)
	}
	sameBits(t, got, want)
	if _, err := Read3MFFile(filepath.Join(t.TempDir(), "missing.3mf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read3MFFile(missing) = %v, want os.ErrNotExist", err)
	}
}

// threeMFErrorCases are invalid packages and what their error says.
func threeMFErrorCases(tb testing.TB) []struct {
	name, wantErr string
	data          []byte
} {
	valid := mustWrite3MF(tb, cube(1), "cube")
	res := func(body string) []byte {
		return package3MF(tb, modelXML("", "<resources>"+body+"</resources><build><item objectid=\"1\"/></build>"))
	}
	tri := func(v1, v2, v3 string) []byte {
		return res(`<object id="1"><mesh><vertices><vertex x="0" y="0" z="0"/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/></vertices>
<triangles><triangle v1="` + v1 + `" v2="` + v2 + `" v3="` + v3 + `"/></triangles></mesh></object>`)
	}
	vert := func(attrs string) []byte {
		return res(`<object id="1"><mesh><vertices><vertex ` + attrs + `/><vertex x="1" y="0" z="0"/><vertex x="0" y="1" z="0"/></vertices>
<triangles><triangle v1="0" v2="1" v3="2"/></triangles></mesh></object>`)
	}
	item := func(attrs string) []byte {
		return package3MF(tb, modelXML(`xmlns:p="`+threeMFProductionNS+`"`, "<resources>"+objectXML(1, "model", cube(1))+"</resources><build><item "+attrs+"/></build>"))
	}
	var raw bytes.Buffer // a deflated entry whose data is not deflate
	zw := zip.NewWriter(&raw)
	w, _ := zw.CreateRaw(&zip.FileHeader{Name: "3D/3dmodel.model", Method: zip.Deflate, CompressedSize64: 4, UncompressedSize64: 100})
	w.Write([]byte{0xff, 0xff, 0xff, 0xff})
	zw.Close()
	badCRC := bytes.Clone(package3MF(tb, cubeModel))
	i := bytes.Index(badCRC, []byte("<vertex x=\"1\""))
	badCRC[i+11] = '2' // the stored data no longer matches the CRC

	return []struct {
		name, wantErr string
		data          []byte
	}{
		{"empty input", "not a readable zip archive", nil},
		{"not a zip", "not a readable zip archive", []byte("solid cube\nendsolid cube\n")},
		{"truncated zip", "not a readable zip archive", valid[:len(valid)/2]},
		{"zip without model", "package has no model part /3D/3dmodel.model", mustZip(tb, zipEntry{"[Content_Types].xml", threeMFContentTypes})},
		{"relationship to a missing part", `model part "/3D/other.model", named by /_rels/.rels, is missing`,
			mustZip(tb, zipEntry{"_rels/.rels", strings.Replace(threeMFRels, "3dmodel.model", "other.model", 1)}, zipEntry{"3D/3dmodel.model", cubeModel})},
		{"malformed relationships", "_rels/.rels: malformed XML", mustZip(tb, zipEntry{"_rels/.rels", "<Relationships><Relationship"})},
		{"relationship to the root", `3D model relationship has target "/"`, mustZip(tb, zipEntry{"_rels/.rels", strings.Replace(threeMFRels, "/3D/3dmodel.model", "/", 1)})},
		{"two entries for the model", "both hold part", mustZip(tb, zipEntry{"3D/3dmodel.model", cubeModel}, zipEntry{"3D/3DModel.model", cubeModel})},
		{"corrupt deflate data", "3D/3dmodel.model", raw.Bytes()},
		{"checksum", "checksum error", badCRC},
		{"empty model part", "no model element", package3MF(tb, "")},
		{"truncated model part", "line 5: unexpected EOF", package3MF(tb, cubeModel[:200])},
		{"DTD", "DTD content is not allowed", package3MF(tb, `<!DOCTYPE model [<!ENTITY a "aaaa">]>`+cubeModel[len(xml.Header):])},
		{"unknown entity", "invalid character entity &a;", package3MF(tb, strings.Replace(cubeModel, `x="1"`, `x="&a;"`, 1))},
		{"no namespace", `root element is <model> in namespace ""`, package3MF(tb, strings.Replace(cubeModel, `xmlns="`+threeMFCoreNS+`"`, "", 1))},
		{"second root", "second root element <model>", package3MF(tb, cubeModel+"<model/>")},
		{"unknown unit", `unknown unit "furlong"`, package3MF(tb, modelXML(`unit="furlong"`, ""))},
		{"required extension", `requires extension "http://schemas.microsoft.com/3dmanufacturing/beamlattice/2017/02"`,
			package3MF(tb, modelXML(`xmlns:b="http://schemas.microsoft.com/3dmanufacturing/beamlattice/2017/02" requiredextensions="b"`, ""))},
		{"undeclared extension prefix", `required extension prefix "q" is not declared`, package3MF(tb, modelXML(`requiredextensions="q"`, ""))},
		{"deep nesting", "nest deeper than 64", package3MF(tb, modelXML("", strings.Repeat("<a:x xmlns:a='urn:a'>", 100)))},
		{"vertex index out of range", "object 1: triangle 0: vertex index 3 out of range [0, 3)", tri("0", "1", "3")},
		{"vertex index past the vertex limit", "vertex index 60000000 out of range [0, 3)", tri("60000000", "1", "2")},
		{"vertex index past 2^31", `v2="2147483648" is not an index`, tri("0", "2147483648", "2")},
		{"negative vertex index", `v3="-1" is not an index`, tri("0", "1", "-1")},
		{"repeated vertex index", "object 1: triangle 0: vertex indices [0 1 0] repeat", tri("0", "1", "0")},
		{"missing vertex index", "want attributes v1, v2 and v3", res(`<object id="1"><mesh><vertices><vertex x="0" y="0" z="0"/></vertices><triangles><triangle v1="0"/></triangles></mesh></object>`)},
		{"NaN vertex", `object 1: vertex 0: x="NaN" is not a finite decimal number`, vert(`x="NaN" y="0" z="0"`)},
		{"infinite vertex", `y="INF" is not a finite decimal number`, vert(`x="0" y="INF" z="0"`)},
		{"overflowing vertex", `z="1e999" is not a finite decimal number`, vert(`x="0" y="0" z="1e999"`)},
		{"hexadecimal vertex", `x="0x1p3" is not a finite decimal number`, vert(`x="0x1p3" y="0" z="0"`)},
		{"empty coordinate", `x="" is not a finite decimal number`, vert(`x="" y="0" z="0"`)},
		{"missing coordinate", "object 1: vertex 0: want attributes x, y and z", vert(`x="0" y="0"`)},
		{"object without id", "object without an id", res(`<object/>`)},
		{"object id 0", `object id "0" is not an integer`, res(`<object id="0"/>`)},
		{"unknown object type", `object 1: unknown type "solid"`, res(`<object id="1" type="solid"/>`)},
		{"duplicate object id", "second object with id 1", res(objectXML(1, "model", cube(1)) + objectXML(1, "model", cube(2)))},
		{"mesh and components", "object 1: more than one mesh or components element", res(`<object id="1"><mesh/><components/></object>`)},
		{"undefined object", "object 9 is referenced but not defined", item(`objectid="9"`)},
		{"item without object", "build item without an objectid", item(`transform="1 0 0 0 1 0 0 0 1 0 0 0"`)},
		{"short transform", "build item: transform \"1 0 0 0 1 0 0 0 1 0 0\" is not 12 finite numbers", item(`objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0"`)},
		{"NaN transform", "is not 12 finite numbers", item(`objectid="1" transform="1 0 0 0 1 0 0 0 1 0 0 NaN"`)},
		{"transform overflow", "not finite after its transforms", item(`objectid="1" transform="1e308 0 0 0 1 0 0 0 1 1e308 0 0"`)},
		{"other part", `build item refers to part "/3D/Objects/a.model" (3MF production extension)`, item(`objectid="1" p:path="/3D/Objects/a.model"`)},
		{"component cycle", "object 1 contains itself through its components",
			res(`<object id="1"><components><component objectid="2"/></components></object><object id="2"><components><component objectid="1"/></components></object>`)},
		{"empty build", "the build holds no triangle", package3MF(tb, modelXML("", "<resources>"+objectXML(1, "model", cube(1))+"</resources><build/>"))},
		{"support only", "the build holds no triangle", package3MF(tb, modelXML("", "<resources>"+objectXML(1, "support", cube(1))+`</resources><build><item objectid="1"/></build>`))},
		{"no vertices", "the build holds no triangle", res(`<object id="1"><mesh><vertices/><triangles/></mesh></object>`)},
	}
}

func TestRead3MFErrors(t *testing.T) {
	for _, tt := range threeMFErrorCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			m, err := read3MF(tt.data)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Read3MF = %v, %v; want a *FormatError", m, err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "3mf: ") {
				t.Errorf("Read3MF error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestRead3MFLimits(t *testing.T) {
	defer func(v, tr, in int, size int64) {
		max3MFVertices, max3MFTriangles, max3MFInstances, Max3MFModelSize = v, tr, in, size
	}(max3MFVertices, max3MFTriangles, max3MFInstances, Max3MFModelSize)
	c := objectXML(1, "model", cube(1))
	twice := package3MF(t, modelXML("", "<resources>"+c+`</resources><build><item objectid="1"/><item objectid="1"/></build>`))
	for _, tt := range []struct {
		name    string
		set     func()
		data    []byte
		wantErr string
	}{
		{"vertices", func() { max3MFVertices = 7 }, package3MF(t, cubeModel), "more than 7 vertices"},
		{"triangles", func() { max3MFTriangles = 11 }, package3MF(t, cubeModel), "more than 11 triangles"},
		{"merged vertices", func() { max3MFVertices = 15 }, twice, "the build holds more than 15 vertices"},
		{"merged triangles", func() { max3MFTriangles = 23 }, twice, "or 23 triangles"},
		{"instances read", func() { max3MFInstances = 1 }, twice, "line 26: more than 1 build items and components"},
		{"model size", func() { Max3MFModelSize = int64(len(cubeModel)) - 1 }, package3MF(t, cubeModel),
			fmt.Sprintf("3D/3dmodel.model is larger than the %d-byte limit", len(cubeModel)-1)},
		{"shared components", func() { max3MFInstances = 1000 }, package3MF(t, modelXML("", "<resources>"+func() string {
			// Each object holds the one before twice: 2³⁰ instances
			// of an empty object from 30 small ones.
			s := `<object id="1"><mesh><vertices/><triangles/></mesh></object>`
			for i := 2; i <= 31; i++ {
				s += fmt.Sprintf(`<object id="%d"><components><component objectid="%d"/><component objectid="%d"/></components></object>`, i, i-1, i-1)
			}
			return s
		}()+`</resources><build><item objectid="31"/></build>`)), "3D/3dmodel.model: more than 1000 build items and components in all"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			max3MFVertices, max3MFTriangles, max3MFInstances, Max3MFModelSize = 50_000_000, 50_000_000, 1<<20, 2<<30
			tt.set()
			_, err := read3MF(tt.data)
			if fe := (*FormatError)(nil); !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Read3MF = %v, want a *FormatError containing %q", err, tt.wantErr)
			}
		})
	}
	// At the limits, the same inputs pass.
	max3MFVertices, max3MFTriangles, max3MFInstances, Max3MFModelSize = 16, 24, 2, int64(len(cubeModel))
	if _, err := read3MF(twice); err != nil {
		t.Errorf("Read3MF at the limits: %v", err)
	}
	if _, err := read3MF(package3MF(t, cubeModel)); err != nil {
		t.Errorf("Read3MF at the size limit: %v", err)
	}
}

func TestLimitReader(t *testing.T) {
	data := strings.Repeat("x", 1000)
	got, err := io.ReadAll(&limitReader{r: strings.NewReader(data), left: 1000})
	if err != nil || len(got) != 1000 {
		t.Errorf("read %d bytes at the limit, err %v; want 1000, nil", len(got), err)
	}
	got, err = io.ReadAll(&limitReader{r: strings.NewReader(data), left: 999})
	if !errors.Is(err, errTooLarge) || len(got) > 999 {
		t.Errorf("read %d bytes over the limit, err %v; want at most 999, errTooLarge", len(got), err)
	}
}

func TestRead3MFTruncatedEverywhere(t *testing.T) {
	data := package3MF(t, cubeModel)
	for n := range len(data) {
		if _, err := read3MF(data[:n]); err == nil {
			t.Fatalf("Read3MF(first %d of %d bytes) = nil error", n, len(data))
		}
	}
	// Every cut of the model part inside its root element.
	end := strings.LastIndex(cubeModel, "</model>") + len("</model>") - 1
	for n := range end {
		if _, err := read3MF(package3MF(t, cubeModel[:n])); err == nil {
			t.Fatalf("Read3MF(model cut after %d of %d bytes) = nil error", n, len(cubeModel))
		}
	}
}

func TestWrite3MFErrors(t *testing.T) {
	outOfRange := cube(1)
	outOfRange.Faces[4][1] = 8
	nan := cube(1)
	nan.Vertices[3].Y = math.NaN()
	inf := cube(1)
	inf.Vertices[5].Z = math.Inf(-1)
	degenerate := cube(1)
	degenerate.Faces[7] = [3]int32{2, 5, 2}
	for _, tt := range []struct {
		name    string
		w       io.Writer
		m       *geom.Mesh
		wantErr string
	}{
		{"nil mesh", io.Discard, nil, "3mf: nil mesh"},
		{"empty mesh", io.Discard, &geom.Mesh{}, "3mf: mesh has no triangles (0 vertices)"},
		{"vertices only", io.Discard, &geom.Mesh{Vertices: cube(1).Vertices}, "mesh has no triangles (8 vertices)"},
		{"index out of range", io.Discard, outOfRange, "face 4: vertex index 8 out of range"},
		{"NaN", io.Discard, nan, "vertex 3: non-finite coordinate"},
		{"infinity", io.Discard, inf, "vertex 5: non-finite coordinate"},
		{"degenerate triangle", io.Discard, degenerate, "3mf: face 7: vertex indices [2 5 2] repeat"},
		{"write error", errWriter{}, cube(1), "3mf: write: disk full"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := Write3MF(tt.w, tt.m, "x")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Write3MF = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// threeMFSeeds are valid and corrupt packages for FuzzRead3MF.
func threeMFSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		mustWrite3MF(tb, cube(2), "cube"),
		mustWrite3MF(tb, icosphere(geom.Vec{}, 1, 0), ""),
		package3MF(tb, cubeModel),
		package3MF(tb, modelXML(`unit="inch" xmlns:p="`+threeMFProductionNS+`" requiredextensions="p"`, "<resources>"+objectXML(1, "model", cube(1))+
			`<object id="2"><components><component objectid="1" transform="0 1 0 -1 0 0 0 0 1 5 0 0"/></components></object></resources>
<build><item objectid="2" transform="-1 0 0 0 1 0 0 0 1 0 0 0"/><item objectid="1" p:path="/3D/3dmodel.model"/></build>`)),
	}
	for _, tt := range threeMFErrorCases(tb) {
		seeds = append(seeds, tt.data)
	}
	return seeds
}

// check3MFRead checks what Read3MF made of data: an error is a
// *FormatError; a mesh is valid, free of repeated indices, and comes back
// bit for bit through Write3MF and Read3MF.
func check3MFRead(t *testing.T, data []byte) {
	m, err := read3MF(data)
	if err != nil {
		if fe := (*FormatError)(nil); !errors.As(err, &fe) {
			t.Fatalf("Read3MF error %v is not a *FormatError", err)
		}
		return
	}
	if err := m.Validate(); err != nil {
		t.Fatalf("Read3MF returned an invalid mesh: %v", err)
	}
	var buf bytes.Buffer
	if err := Write3MF(&buf, m, "fuzz"); err != nil {
		t.Fatalf("Write3MF(Read3MF(data)): %v", err)
	}
	m2, err := read3MF(buf.Bytes())
	if err != nil {
		t.Fatalf("Read3MF(Write3MF(m)): %v", err)
	}
	sameBits(t, m2, m)
}

func FuzzRead3MF(f *testing.F) {
	for _, s := range threeMFSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(check3MFRead)
}

// Fuzz3MFModel fuzzes the model part alone: mutations of a whole package
// mostly break its checksums and sizes before the XML is read.
func Fuzz3MFModel(f *testing.F) {
	f.Add([]byte(cubeModel))
	for _, s := range threeMFSeeds(f) {
		zr, err := zip.NewReader(bytes.NewReader(s), int64(len(s)))
		if err != nil {
			continue
		}
		for _, file := range zr.File {
			if !strings.HasSuffix(file.Name, ".model") {
				continue
			}
			rc, err := file.Open()
			if err != nil {
				continue
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, model []byte) {
		check3MFRead(t, package3MF(t, string(model)))
	})
}

// BenchmarkWrite3MF1M writes the million-triangle torus.
func BenchmarkWrite3MF1M(b *testing.B) {
	m := benchMesh()
	var n countWriter
	if err := Write3MF(&n, m, "bench"); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		if err := Write3MF(io.Discard, m, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead3MF1M(b *testing.B) {
	data := mustWrite3MF(b, benchMesh(), "bench")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := read3MF(data); err != nil {
			b.Fatal(err)
		}
	}
}

// countWriter counts the bytes written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
