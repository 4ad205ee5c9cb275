package mesh

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/replica3d/replica/pipeline/geom"
)

// 3MF is the 3D Manufacturing Format of the 3MF Consortium, "3MF Core
// Specification" 1.2.3 (github.com/3MFConsortium/spec_core; section numbers
// below are its): a zip archive laid out by the Open Packaging Conventions
// (ECMA-376 part 2) whose root relationship part, _rels/.rels, names the
// model part, an XML document
//
//	<model unit="millimeter" xmlns="http://schemas.microsoft.com/3dmanufacturing/core/2015/02">
//	  <resources>
//	    <object id="1" type="model"><mesh>
//	      <vertices><vertex x="0" y="0" z="0"/>…</vertices>
//	      <triangles><triangle v1="0" v2="1" v3="2"/>…</triangles>
//	    </mesh></object>
//	    <object id="2"><components><component objectid="1" transform="…"/></components></object>
//	  </resources>
//	  <build><item objectid="2" transform="m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32"/></build>
//	</model>
//
// whose build items, after their transforms, are what is to be printed.

const (
	threeMFCoreNS       = "http://schemas.microsoft.com/3dmanufacturing/core/2015/02"
	threeMFMaterialNS   = "http://schemas.microsoft.com/3dmanufacturing/material/2015/02"
	threeMFProductionNS = "http://schemas.microsoft.com/3dmanufacturing/production/2015/06"
	threeMFRelType      = "http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel"
	threeMFModelPart    = "/3D/3dmodel.model" // the part name spec 2.2 recommends
	opcRelsPart         = "/_rels/.rels"
)

// The package's fixed parts (spec appendix C: content types and the
// StartPart relationship type).
const (
	threeMFContentTypes = xml.Header + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
 <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
 <Default Extension="model" ContentType="application/vnd.ms-package.3dmanufacturing-3dmodel+xml"/>
</Types>
`
	threeMFRels = xml.Header + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
 <Relationship Id="rel0" Type="` + threeMFRelType + `" Target="` + threeMFModelPart + `"/>
</Relationships>
`
)

// Max3MFModelSize is the most bytes that Read3MF decompresses from the model
// part; a deflated zip entry can expand a thousandfold. It is a variable so
// that tests can lower it.
var Max3MFModelSize int64 = 2 << 30 // 2 GiB: some 20 million triangles as Write3MF writes them (94 bytes each with their vertices)

// Limits on untrusted input, far above any printable part. Variables so
// that tests can lower them.
var (
	max3MFVertices  = 50_000_000 // in all objects read, and in the merged mesh
	max3MFTriangles = 50_000_000
	max3MFInstances = 1 << 20 // build items and components, read and visited: a tree of components may share subtrees
)

const (
	threeMFMaxRels   = 1 << 20 // bytes of _rels/.rels; slicers write about 300
	threeMFMaxDepth  = 64      // XML element nesting; the core schema needs 6
	threeMFMaxNested = 32      // objects nested through components
)

// threeMFUnits holds ST_Unit (spec 3.4) in millimetres: a value in the
// unit is v·mul/div, with one of mul and div 1 so that the conversion
// rounds once (micron divides: 0.001 is not exact in binary).
var threeMFUnits = map[string]struct{ mul, div float64 }{
	"micron":     {1, 1000},
	"millimeter": {1, 1},
	"centimeter": {10, 1},
	"inch":       {25.4, 1},
	"foot":       {304.8, 1},
	"meter":      {1000, 1},
}

// threeMFSafeExtensions are the extension namespaces that a model may list
// in requiredextensions and still be read here: materials changes only
// colours, and the production extension's part references are refused
// where they occur.
var threeMFSafeExtensions = map[string]bool{threeMFMaterialNS: true, threeMFProductionNS: true}

// Write3MF writes m as a 3MF package (spec 1.1, 2.1, 3.4): the content
// types, the root relationship to /3D/3dmodel.model, and that model part in
// millimetres, holding m as the object 1 of type "model", named name and
// titled name in the model's metadata (both left out for ""), and one build
// item for it. Coordinates are written in the shortest decimal form that
// reads back to the same float64, so Read3MF returns m exactly.
//
// The mesh must have triangles, pass Validate and have no triangle that
// repeats a vertex index: 3MF forbids them (spec 4.1.4.1). That the mesh is
// closed and consistently oriented, which the spec asks of type "model"
// (4.1), is the caller's to ensure. The XML is streamed: memory use does not
// grow with the mesh.
func Write3MF(w io.Writer, m *geom.Mesh, name string) error {
	if m == nil {
		return errors.New("3mf: nil mesh")
	}
	if len(m.Faces) == 0 {
		return fmt.Errorf("3mf: mesh has no triangles (%d vertices)", len(m.Vertices))
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("3mf: invalid mesh: %w", err)
	}
	for i, f := range m.Faces {
		if f[0] == f[1] || f[1] == f[2] || f[0] == f[2] {
			return fmt.Errorf("3mf: face %d: vertex indices %v repeat; 3MF forbids degenerate triangles", i, f)
		}
	}

	zw := zip.NewWriter(w)
	parts := []struct {
		name  string
		write func(*bufio.Writer)
	}{
		{"[Content_Types].xml", func(bw *bufio.Writer) { bw.WriteString(threeMFContentTypes) }},
		{opcRelsPart[1:], func(bw *bufio.Writer) { bw.WriteString(threeMFRels) }},
		{threeMFModelPart[1:], func(bw *bufio.Writer) { write3MFModel(bw, m, name) }},
	}
	for _, p := range parts {
		// A fixed, valid DOS date keeps the output reproducible.
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return fmt.Errorf("3mf: write: %w", err)
		}
		bw := bufio.NewWriterSize(fw, 1<<16)
		p.write(bw)
		// bufio.Writer keeps the first write error and returns it here.
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("3mf: write: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("3mf: write: %w", err)
	}
	return nil
}

// write3MFModel writes the model part of Write3MF.
func write3MFModel(bw *bufio.Writer, m *geom.Mesh, name string) {
	bw.WriteString(xml.Header)
	bw.WriteString(`<model unit="millimeter" xml:lang="en-US" xmlns="` + threeMFCoreNS + `">` + "\n")
	if name != "" {
		bw.WriteString(` <metadata name="Title">`)
		writeXMLText(bw, name)
		bw.WriteString("</metadata>\n")
	}
	bw.WriteString(" <resources>\n  <object id=\"1\" type=\"model\"")
	if name != "" {
		bw.WriteString(` name="`)
		writeXMLText(bw, name)
		bw.WriteString(`"`)
	}
	bw.WriteString(">\n   <mesh>\n    <vertices>\n")
	buf := make([]byte, 0, 128)
	for _, p := range m.Vertices {
		buf = append(buf[:0], `     <vertex x="`...)
		buf = strconv.AppendFloat(buf, p.X, 'g', -1, 64)
		buf = append(buf, `" y="`...)
		buf = strconv.AppendFloat(buf, p.Y, 'g', -1, 64)
		buf = append(buf, `" z="`...)
		buf = strconv.AppendFloat(buf, p.Z, 'g', -1, 64)
		buf = append(buf, "\"/>\n"...)
		bw.Write(buf)
	}
	bw.WriteString("    </vertices>\n    <triangles>\n")
	for _, f := range m.Faces {
		buf = append(buf[:0], `     <triangle v1="`...)
		buf = strconv.AppendInt(buf, int64(f[0]), 10)
		buf = append(buf, `" v2="`...)
		buf = strconv.AppendInt(buf, int64(f[1]), 10)
		buf = append(buf, `" v3="`...)
		buf = strconv.AppendInt(buf, int64(f[2]), 10)
		buf = append(buf, "\"/>\n"...)
		bw.Write(buf)
	}
	bw.WriteString("    </triangles>\n   </mesh>\n  </object>\n </resources>\n <build>\n  <item objectid=\"1\"/>\n </build>\n</model>\n")
}

// writeXMLText writes s as XML character data or attribute value. It
// escapes with the five named entities only, because lib3mf 1.8 (Debian
// 12's) refuses numeric character references such as encoding/xml's
// "&#34;"; it writes tabs and line breaks as spaces, which an attribute
// value would turn them into anyway, and characters that XML 1.0 cannot
// hold, and invalid UTF-8, as U+FFFD.
func writeXMLText(bw *bufio.Writer, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			bw.WriteString("&amp;")
		case r == '<':
			bw.WriteString("&lt;")
		case r == '>':
			bw.WriteString("&gt;")
		case r == '"':
			bw.WriteString("&quot;")
		case r == '\'':
			bw.WriteString("&apos;")
		case r == '\t' || r == '\n' || r == '\r':
			bw.WriteByte(' ')
		case r < 0x20 || r == utf8.RuneError || 0xD800 <= r && r < 0xE000 || r == 0xFFFE || r == 0xFFFF:
			bw.WriteRune(utf8.RuneError)
		default:
			bw.WriteRune(r)
		}
	}
}

// Read3MFFile reads the 3MF package at path; see Read3MF.
func Read3MFFile(path string) (*geom.Mesh, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return Read3MF(f, fi.Size())
}

// Read3MF reads the 3MF package of size bytes in r and returns what its
// build prints, as one mesh in millimetres: every build item's object
// after the item's transform, objects made of components resolved with the
// components' transforms (spec 3.3, 3.4.3, 4.2), and only meshes of object
// type "model", so supports and "other" objects are left out. A transform
// with a negative determinant reverses the triangles' vertex order, so that
// the volume keeps its sign (spec 3.3). Instances share no vertices; each
// object's vertices keep their order. The model part is the one the root
// relationship names, or /3D/3dmodel.model when there is no such
// relationship.
//
// Read3MF refuses, with a *FormatError, a package that is not a zip archive
// or lacks the model part, a model part larger than Max3MFModelSize, XML
// that is malformed or holds a DTD (spec 2.3.2), more than 50 million
// vertices or triangles (read or merged), more than a million build items
// and components, a number that is not a finite ST_Number, a vertex
// index out of range or repeated within a triangle, a reference to an
// undefined object or a cycle of components, a build that holds no triangle,
// a required extension other than materials and production, and a
// reference into another model part (the production extension's p:path).
func Read3MF(r io.ReaderAt, size int64) (*geom.Mesh, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) { // names do not matter: nothing is written to disk
		return nil, &FormatError{Format: "3mf", Msg: "not a readable zip archive", Err: err}
	}
	part, err := threeMFStartPart(zr)
	if err != nil {
		return nil, err
	}
	f, err := findPart(zr, part)
	if err != nil {
		return nil, err
	}
	if f == nil {
		if part == threeMFModelPart {
			return nil, &FormatError{Format: "3mf", Msg: "package has no model part " + threeMFModelPart}
		}
		return nil, &FormatError{Format: "3mf", Msg: fmt.Sprintf("model part %q, named by %s, is missing", part, opcRelsPart)}
	}
	p := &threeMFParser{part: part[1:], objects: make(map[int32]*threeMFObject)}
	if f.UncompressedSize64 > uint64(Max3MFModelSize) {
		return nil, p.tooLarge()
	}
	rc, err := f.Open()
	if err != nil {
		return nil, &FormatError{Format: "3mf", Msg: p.part + ": cannot open", Err: err}
	}
	defer rc.Close()
	if err := p.parse(&limitReader{r: rc, left: Max3MFModelSize}); err != nil {
		return nil, err
	}
	return p.build()
}

// threeMFStartPart returns the name of the model part: the target of the
// root relationship of the 3D model type (spec 2.1.1), or
// /3D/3dmodel.model when the package has no relationships part or that
// part no such relationship.
func threeMFStartPart(zr *zip.Reader) (string, error) {
	f, err := findPart(zr, opcRelsPart)
	if err != nil || f == nil {
		return threeMFModelPart, err
	}
	relsError := func(msg string, err error) error {
		return &FormatError{Format: "3mf", Msg: opcRelsPart[1:] + ": " + msg, Err: err}
	}
	if f.UncompressedSize64 > threeMFMaxRels {
		return "", relsError(fmt.Sprintf("larger than the %d-byte limit", threeMFMaxRels), nil)
	}
	rc, err := f.Open()
	if err != nil {
		return "", relsError("cannot open", err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, threeMFMaxRels+1))
	if err != nil {
		return "", relsError("read", err)
	}
	if len(data) > threeMFMaxRels {
		return "", relsError(fmt.Sprintf("larger than the %d-byte limit", threeMFMaxRels), nil)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return threeMFModelPart, nil
		}
		if err != nil {
			return "", relsError("malformed XML", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return "", relsError("holds a DTD", nil)
		case xml.EndElement:
			depth--
		case xml.StartElement:
			if depth++; depth > threeMFMaxDepth {
				return "", relsError(fmt.Sprintf("elements nest deeper than %d", threeMFMaxDepth), nil)
			}
			if t.Name.Local != "Relationship" {
				continue
			}
			var typ, target, mode string
			for _, a := range t.Attr {
				switch a.Name {
				case xml.Name{Local: "Type"}:
					typ = a.Value
				case xml.Name{Local: "Target"}:
					target = a.Value
				case xml.Name{Local: "TargetMode"}:
					mode = a.Value
				}
			}
			if strings.TrimSpace(typ) != threeMFRelType || mode == "External" {
				continue
			}
			// Targets are URIs relative to the package root.
			name := path.Clean("/" + strings.TrimSpace(target))
			if name == "/" {
				return "", relsError(fmt.Sprintf("3D model relationship has target %q", target), nil)
			}
			return name, nil
		}
	}
}

// findPart returns the zip entry holding the part name ("/3D/x.model"), or
// nil. Part names match case-insensitively (ECMA-376-2 9.1.1.1); a name
// percent-encoded in one place and not in the other matches too.
func findPart(zr *zip.Reader, name string) (*zip.File, error) {
	names := []string{name[1:]}
	if u, err := url.PathUnescape(names[0]); err == nil && u != names[0] {
		names = append(names, u)
	}
	var found *zip.File
	for _, f := range zr.File {
		for _, n := range names {
			if !strings.EqualFold(f.Name, n) {
				continue
			}
			if found != nil {
				return nil, &FormatError{Format: "3mf", Msg: fmt.Sprintf("zip entries %q and %q both hold part %q", found.Name, f.Name, name)}
			}
			found = f
			break
		}
	}
	return found, nil
}

// limitReader reads from r until left bytes are spent and then fails with
// errTooLarge if more follow.
type limitReader struct {
	r    io.Reader
	left int64
}

var errTooLarge = errors.New("3mf: over the size limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.left = -1
		return 0, errTooLarge
	}
	l.left -= int64(n)
	return n, err
}

// threeMFObject is an object resource: a mesh or a list of components.
type threeMFObject struct {
	model      bool // type "model", the default; types decide for meshes only (spec 4)
	vertices   []geom.Vec
	faces      [][3]int32
	components []threeMFRef
	mesh, comp bool // a mesh or components element was read
}

// threeMFRef is a build item or a component: an object and its transform.
type threeMFRef struct {
	id int32
	xf *affine // nil for none
}

// threeMFElem is an element of the core schema where it may occur, or
// threeMFOther for anything else: metadata, extension elements and all
// inside them, which are skipped.
type threeMFElem uint8

const (
	threeMFOther threeMFElem = iota
	threeMFModel
	threeMFResources
	threeMFObjectElem
	threeMFMesh
	threeMFVertices
	threeMFVertex
	threeMFTriangles
	threeMFTriangle
	threeMFComponents
	threeMFComponent
	threeMFBuild
	threeMFItem
)

// threeMFChildren gives the core elements that each element holds.
var threeMFChildren = map[threeMFElem]map[string]threeMFElem{
	threeMFModel:      {"resources": threeMFResources, "build": threeMFBuild},
	threeMFResources:  {"object": threeMFObjectElem},
	threeMFObjectElem: {"mesh": threeMFMesh, "components": threeMFComponents},
	threeMFMesh:       {"vertices": threeMFVertices, "triangles": threeMFTriangles},
	threeMFVertices:   {"vertex": threeMFVertex},
	threeMFTriangles:  {"triangle": threeMFTriangle},
	threeMFComponents: {"component": threeMFComponent},
	threeMFBuild:      {"item": threeMFItem},
}

// threeMFParser reads a model part.
type threeMFParser struct {
	d       *xml.Decoder
	part    string // zip entry name, for messages
	unit    struct{ mul, div float64 }
	objects map[int32]*threeMFObject
	items   []threeMFRef
	obj     *threeMFObject // the object being read
	objID   int32
	nv, nt  int // vertices and triangles read, in all objects
	nrefs   int // build items and components read
}

func (p *threeMFParser) errorf(format string, args ...any) error {
	line, _ := p.d.InputPos()
	return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s line %d: ", p.part, line) + fmt.Sprintf(format, args...)}
}

func (p *threeMFParser) tooLarge() error {
	return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s is larger than the %d-byte limit", p.part, Max3MFModelSize)}
}

// parse reads the model part's XML token by token into p.objects and
// p.items.
func (p *threeMFParser) parse(r io.Reader) error {
	p.d = xml.NewDecoder(r) // Strict; no entities but XML's own; no charset but UTF-8
	stack := make([]threeMFElem, 0, 16)
	root := false
	for {
		tok, err := p.d.Token()
		switch {
		case errors.Is(err, io.EOF) && root:
			return nil
		case errors.Is(err, io.EOF):
			return &FormatError{Format: "3mf", Msg: p.part + ": no model element", Err: io.ErrUnexpectedEOF}
		case errors.Is(err, errTooLarge):
			return p.tooLarge()
		case err != nil:
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s line %d: %s", p.part, se.Line, se.Msg)}
			}
			return &FormatError{Format: "3mf", Msg: p.part, Err: err} // a corrupt deflate stream, a checksum error
		}
		switch t := tok.(type) {
		case xml.Directive:
			return p.errorf("DTD content is not allowed (3MF spec 2.3.2)")
		case xml.EndElement:
			if e := stack[len(stack)-1]; e == threeMFObjectElem {
				p.obj = nil
			}
			stack = stack[:len(stack)-1]
		case xml.StartElement:
			if len(stack) == threeMFMaxDepth {
				return p.errorf("elements nest deeper than %d", threeMFMaxDepth)
			}
			var e threeMFElem
			if len(stack) == 0 {
				if root {
					return p.errorf("second root element <%s>", t.Name.Local)
				}
				if t.Name != (xml.Name{Space: threeMFCoreNS, Local: "model"}) {
					return p.errorf("root element is <%s> in namespace %q, want <model> in %q", t.Name.Local, t.Name.Space, threeMFCoreNS)
				}
				root, e = true, threeMFModel
			} else if t.Name.Space == threeMFCoreNS {
				e = threeMFChildren[stack[len(stack)-1]][t.Name.Local]
			}
			stack = append(stack, e)
			if err := p.start(e, t); err != nil {
				return err
			}
		}
	}
}

// start reads the attributes of element e.
func (p *threeMFParser) start(e threeMFElem, t xml.StartElement) error {
	switch e {
	case threeMFModel:
		return p.model(t)
	case threeMFObjectElem:
		return p.object(t)
	case threeMFMesh, threeMFComponents:
		if p.obj.mesh || p.obj.comp {
			return p.errorf("object %d: more than one mesh or components element", p.objID)
		}
		p.obj.mesh, p.obj.comp = e == threeMFMesh, e == threeMFComponents
	case threeMFVertex:
		return p.vertex(t)
	case threeMFTriangle:
		return p.triangle(t)
	case threeMFComponent:
		ref, err := p.ref(t, "component")
		if err != nil {
			return err
		}
		p.obj.components = append(p.obj.components, ref)
	case threeMFItem:
		ref, err := p.ref(t, "build item")
		if err != nil {
			return err
		}
		p.items = append(p.items, ref)
	}
	return nil
}

// model reads the unit and the required extensions (spec 3.4).
func (p *threeMFParser) model(t xml.StartElement) error {
	p.unit = threeMFUnits["millimeter"]
	prefixes := make(map[string]string) // namespace prefix → name
	var required string
	for _, a := range t.Attr {
		switch {
		case a.Name == xml.Name{Local: "unit"}:
			u, ok := threeMFUnits[a.Value]
			if !ok {
				return p.errorf("unknown unit %q (want micron, millimeter, centimeter, inch, foot or meter)", truncate([]byte(a.Value)))
			}
			p.unit = u
		case a.Name == xml.Name{Local: "requiredextensions"}:
			required = a.Value
		case a.Name.Space == "xmlns":
			prefixes[a.Name.Local] = a.Value
		}
	}
	for _, prefix := range strings.FieldsFunc(required, isXMLSpace) {
		ns, ok := prefixes[prefix]
		if !ok {
			return p.errorf("required extension prefix %q is not declared", truncate([]byte(prefix)))
		}
		if !threeMFSafeExtensions[ns] {
			if len(ns) > 200 {
				ns = ns[:200] + "…"
			}
			return p.errorf("requires extension %q, which this reader does not support", ns)
		}
	}
	return nil
}

// object starts an object resource (spec 4).
func (p *threeMFParser) object(t xml.StartElement) error {
	id, typ := int32(-1), "model"
	for _, a := range t.Attr {
		switch a.Name {
		case xml.Name{Local: "id"}:
			v, ok := parseIndex(a.Value)
			if !ok || v == 0 {
				return p.errorf("object id %q is not an integer in [1, 2147483647]", truncate([]byte(a.Value)))
			}
			id = v
		case xml.Name{Local: "type"}:
			typ = a.Value
		}
	}
	if id < 0 {
		return p.errorf("object without an id")
	}
	switch typ {
	case "model", "solidsupport", "support", "surface", "other":
	default:
		return p.errorf("object %d: unknown type %q", id, truncate([]byte(typ)))
	}
	if p.objects[id] != nil {
		return p.errorf("second object with id %d", id)
	}
	p.obj, p.objID = &threeMFObject{model: typ == "model"}, id
	p.objects[id] = p.obj
	return nil
}

func (p *threeMFParser) vertex(t xml.StartElement) error {
	i := len(p.obj.vertices)
	if p.nv++; p.nv > max3MFVertices {
		return p.errorf("more than %d vertices", max3MFVertices)
	}
	var c [3]float64
	var seen uint8
	for _, a := range t.Attr {
		if a.Name.Space != "" || len(a.Name.Local) != 1 || a.Name.Local[0] < 'x' || a.Name.Local[0] > 'z' {
			continue
		}
		k := a.Name.Local[0] - 'x'
		v, ok := parseNumber(a.Value)
		if !ok {
			return p.errorf("object %d: vertex %d: %s=%q is not a finite decimal number", p.objID, i, a.Name.Local, truncate([]byte(a.Value)))
		}
		c[k], seen = v, seen|1<<k
	}
	if seen != 7 {
		return p.errorf("object %d: vertex %d: want attributes x, y and z", p.objID, i)
	}
	p.obj.vertices = append(p.obj.vertices, geom.Vec{X: c[0], Y: c[1], Z: c[2]})
	return nil
}

func (p *threeMFParser) triangle(t xml.StartElement) error {
	i := len(p.obj.faces)
	if p.nt++; p.nt > max3MFTriangles {
		return p.errorf("more than %d triangles", max3MFTriangles)
	}
	var f [3]int32
	var seen uint8
	for _, a := range t.Attr {
		if a.Name.Space != "" || len(a.Name.Local) != 2 || a.Name.Local[0] != 'v' || a.Name.Local[1] < '1' || a.Name.Local[1] > '3' {
			continue
		}
		k := a.Name.Local[1] - '1'
		v, ok := parseIndex(a.Value)
		if !ok {
			return p.errorf("object %d: triangle %d: %s=%q is not an index", p.objID, i, a.Name.Local, truncate([]byte(a.Value)))
		}
		// The schema puts the vertices first, so they are all known here.
		if int(v) >= len(p.obj.vertices) {
			return p.errorf("object %d: triangle %d: vertex index %d out of range [0, %d)", p.objID, i, v, len(p.obj.vertices))
		}
		f[k], seen = v, seen|1<<k
	}
	if seen != 7 {
		return p.errorf("object %d: triangle %d: want attributes v1, v2 and v3", p.objID, i)
	}
	if f[0] == f[1] || f[1] == f[2] || f[0] == f[2] {
		return p.errorf("object %d: triangle %d: vertex indices %v repeat (3MF spec 4.1.4.1)", p.objID, i, f)
	}
	p.obj.faces = append(p.obj.faces, f)
	return nil
}

// ref reads a build item or component (spec 3.4.3.1, 4.2.1).
func (p *threeMFParser) ref(t xml.StartElement, what string) (threeMFRef, error) {
	ref := threeMFRef{id: -1}
	if p.nrefs++; p.nrefs > max3MFInstances {
		return ref, p.errorf("more than %d build items and components", max3MFInstances)
	}
	for _, a := range t.Attr {
		switch a.Name {
		case xml.Name{Local: "objectid"}:
			v, ok := parseIndex(a.Value)
			if !ok || v == 0 {
				return ref, p.errorf("%s: objectid %q is not an integer in [1, 2147483647]", what, truncate([]byte(a.Value)))
			}
			ref.id = v
		case xml.Name{Local: "transform"}:
			xf, ok := parseTransform(a.Value)
			if !ok {
				return ref, p.errorf("%s: transform %q is not 12 finite numbers", what, truncate([]byte(a.Value)))
			}
			ref.xf = xf
		case xml.Name{Space: threeMFProductionNS, Local: "path"}:
			if target := path.Clean("/" + strings.TrimSpace(a.Value)); !strings.EqualFold(target[1:], p.part) {
				return ref, p.errorf("%s refers to part %q (3MF production extension); only objects in %s are read", what, truncate([]byte(a.Value)), p.part)
			}
		}
	}
	if ref.id < 0 {
		return ref, p.errorf("%s without an objectid", what)
	}
	return ref, nil
}

// threeMFInstance is an object's mesh placed in the build.
type threeMFInstance struct {
	obj *threeMFObject
	xf  *affine
}

// build merges the build items into one mesh.
func (p *threeMFParser) build() (*geom.Mesh, error) {
	// Resolve and count first, so that a small file of many instances of
	// a large object fails before it allocates.
	var (
		instances []threeMFInstance
		nv, nt    int
		visits    int
		active    = make(map[int32]bool) // objects on the path, to find cycles
	)
	var visit func(id int32, xf *affine, depth int) error
	visit = func(id int32, xf *affine, depth int) error {
		o := p.objects[id]
		switch {
		case o == nil:
			return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: object %d is referenced but not defined", p.part, id)}
		case active[id]:
			return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: object %d contains itself through its components", p.part, id)}
		case depth > threeMFMaxNested:
			return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: components nest deeper than %d", p.part, threeMFMaxNested)}
		}
		if visits++; visits > max3MFInstances {
			return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: more than %d build items and components in all", p.part, max3MFInstances)}
		}
		if o.comp {
			active[id] = true
			for _, c := range o.components {
				// A component is placed in its object, which the caller's
				// transform then places: p·C·X.
				if err := visit(c.id, c.xf.then(xf), depth+1); err != nil {
					return err
				}
			}
			active[id] = false
			return nil
		}
		if !o.model || len(o.faces) == 0 {
			return nil
		}
		nv += len(o.vertices)
		nt += len(o.faces)
		if nv > max3MFVertices || nt > max3MFTriangles {
			return &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: the build holds more than %d vertices or %d triangles", p.part, max3MFVertices, max3MFTriangles)}
		}
		instances = append(instances, threeMFInstance{o, xf})
		return nil
	}
	for _, it := range p.items {
		if err := visit(it.id, it.xf, 0); err != nil {
			return nil, err
		}
	}
	if nt == 0 {
		return nil, &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: the build holds no triangle of an object of type \"model\"", p.part)}
	}

	mm := p.unit == threeMFUnits["millimeter"]
	if len(instances) == 1 && instances[0].xf == nil && mm {
		o := instances[0].obj
		return &geom.Mesh{Vertices: o.vertices, Faces: o.faces}, nil
	}
	m := &geom.Mesh{Vertices: make([]geom.Vec, 0, nv), Faces: make([][3]int32, 0, nt)}
	for _, in := range instances {
		base := int32(len(m.Vertices))
		for i, v := range in.obj.vertices {
			if in.xf != nil {
				v = in.xf.apply(v)
			}
			if !mm {
				v = geom.Vec{X: p.toMM(v.X), Y: p.toMM(v.Y), Z: p.toMM(v.Z)}
			}
			if !finite(v) {
				return nil, &FormatError{Format: "3mf", Msg: fmt.Sprintf("%s: vertex %d of an object is not finite after its transforms: %v", p.part, i, v)}
			}
			m.Vertices = append(m.Vertices, v)
		}
		flip := in.xf != nil && in.xf.det() < 0
		for _, f := range in.obj.faces {
			if flip {
				f[1], f[2] = f[2], f[1]
			}
			m.Faces = append(m.Faces, [3]int32{f[0] + base, f[1] + base, f[2] + base})
		}
	}
	return m, nil
}

// toMM converts v from the model's unit to millimetres.
func (p *threeMFParser) toMM(v float64) float64 {
	if p.unit.div != 1 {
		return v / p.unit.div
	}
	return v * p.unit.mul
}

// affine is a 3MF transform (spec 3.3): the row-major 4×3 matrix
// m00 m01 m02 m10 m11 m12 m20 m21 m22 m30 m31 m32 of the 4×4 matrix whose
// last column is 0 0 0 1, applied to row vectors: p' = (x y z 1)·M.
type affine [12]float64

func (a *affine) apply(p geom.Vec) geom.Vec {
	return geom.Vec{
		X: p.X*a[0] + p.Y*a[3] + p.Z*a[6] + a[9],
		Y: p.X*a[1] + p.Y*a[4] + p.Z*a[7] + a[10],
		Z: p.X*a[2] + p.Y*a[5] + p.Z*a[8] + a[11],
	}
}

// then returns the transform that applies a, then b; nil is the identity.
func (a *affine) then(b *affine) *affine {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	var c affine
	for i := range 4 {
		for j := range 3 {
			for k := range 3 {
				c[3*i+j] += a[3*i+k] * b[3*k+j]
			}
		}
	}
	for j := range 3 {
		c[9+j] += b[9+j]
	}
	return &c
}

// det returns the determinant of the linear part.
func (a *affine) det() float64 {
	return a[0]*(a[4]*a[8]-a[5]*a[7]) - a[1]*(a[3]*a[8]-a[5]*a[6]) + a[2]*(a[3]*a[7]-a[4]*a[6])
}

// parseTransform parses an ST_Matrix3D: 12 ST_Numbers separated by
// whitespace.
func parseTransform(s string) (*affine, bool) {
	var a affine
	fields := strings.FieldsFunc(s, isXMLSpace)
	if len(fields) != len(a) {
		return nil, false
	}
	for i, f := range fields {
		v, ok := parseNumber(f)
		if !ok {
			return nil, false
		}
		a[i] = v
	}
	return &a, true
}

// parseNumber parses a finite ST_Number (spec appendix B.1): an optionally
// signed decimal with an optional exponent, such as "-1.5e-3", after
// trimming XML whitespace. Go's ParseFloat would also take "NaN", "Inf",
// hexadecimal and "1.", which the schema does not allow.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimFunc(s, isXMLSpace)
	if !isSTNumber(s) {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) { // the pattern leaves only overflow to fail
		return 0, false
	}
	return v, true
}

// isSTNumber reports whether s matches the schema's pattern
// ((\-|\+)?(([0-9]+(\.[0-9]+)?)|(\.[0-9]+))((e|E)(\-|\+)?[0-9]+)?).
func isSTNumber(s string) bool {
	digits := func(i int) int {
		j := i
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j - i
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	n := digits(i)
	i += n
	if i < len(s) && s[i] == '.' {
		f := digits(i + 1)
		if f == 0 {
			return false
		}
		i += 1 + f
	} else if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		e := digits(i)
		if e == 0 {
			return false
		}
		i += e
	}
	return i == len(s)
}

// parseIndex parses an ST_ResourceIndex (spec appendix B.1): a
// non-negative integer below 2³¹, after trimming XML whitespace.
func parseIndex(s string) (int32, bool) {
	s = strings.TrimPrefix(strings.TrimFunc(s, isXMLSpace), "+")
	if s == "" {
		return 0, false
	}
	var v int64
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		if v = 10*v + int64(s[i]-'0'); v > math.MaxInt32 {
			return 0, false
		}
	}
	return int32(v), true
}

// isXMLSpace reports XML's whitespace characters (XML 1.0 production S).
func isXMLSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }
