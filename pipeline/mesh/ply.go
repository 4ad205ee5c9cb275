package mesh

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/replica3d/replica/pipeline/geom"
)

// PLY is the Polygon File Format of Greg Turk, "The PLY Polygon File
// Format", Stanford University, 1994 (also in Bourke, "PLY - Polygon File
// Format", paulbourke.net/dataformats/ply): a text header of elements, each
// a count and a list of scalar or list properties, then the element
// instances in order, as text or little- or big-endian binary.

// PLY is the content of a PLY file: vertices with optional normals and
// colours, triangles, and the header's comments.
type PLY struct {
	Cloud    geom.PointCloud
	Faces    [][3]int32 // indices into Cloud.Points
	Comments []string   // the header's comment lines, without "comment "
}

// Mesh returns the vertices and faces as a mesh. It shares storage with p.
func (p *PLY) Mesh() *geom.Mesh {
	return &geom.Mesh{Vertices: p.Cloud.Points, Faces: p.Faces}
}

// Format is a PLY encoding.
type Format int

// The PLY encodings, named as in the header's format line.
const (
	ASCII              Format = iota // "ascii"
	BinaryLittleEndian               // "binary_little_endian"
	BinaryBigEndian                  // "binary_big_endian"
)

var formatNames = [...]string{ASCII: "ascii", BinaryLittleEndian: "binary_little_endian", BinaryBigEndian: "binary_big_endian"}

// String returns the format's name in a PLY header.
func (f Format) String() string {
	if f < 0 || int(f) >= len(formatNames) {
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
	return formatNames[f]
}

// Limits on untrusted input. They are far above anything a scanner or
// COLMAP writes and keep a hostile header from asking for absurd work.
const (
	plyMaxHeader   = 1 << 16 // bytes of header; COLMAP writes ~250
	plyMaxElements = 1 << 28 // instances of one element: 268M, 6 GB of float xyz
	plyMaxList     = 1 << 10 // items in one list: a 1024-gon
	plyMaxToken    = 256     // bytes of one ASCII number; %.17g needs 24
	plyPrealloc    = 1 << 16 // most instances allocated before any is read
)

// plyType is a PLY scalar type.
type plyType uint8

const (
	plyInvalid plyType = iota
	plyInt8
	plyUint8
	plyInt16
	plyUint16
	plyInt32
	plyUint32
	plyFloat32
	plyFloat64
)

var plyTypeNames = map[string]plyType{
	"char": plyInt8, "uchar": plyUint8, "short": plyInt16, "ushort": plyUint16,
	"int": plyInt32, "uint": plyUint32, "float": plyFloat32, "double": plyFloat64,
	"int8": plyInt8, "uint8": plyUint8, "int16": plyInt16, "uint16": plyUint16,
	"int32": plyInt32, "uint32": plyUint32, "float32": plyFloat32, "float64": plyFloat64,
}

func (t plyType) size() int {
	return [...]int{0, 1, 1, 2, 2, 4, 4, 4, 8}[t]
}

func (t plyType) isFloat() bool { return t == plyFloat32 || t == plyFloat64 }

// bounds returns the range of an integer type.
func (t plyType) bounds() (lo, hi float64) {
	switch t {
	case plyInt8:
		return math.MinInt8, math.MaxInt8
	case plyUint8:
		return 0, math.MaxUint8
	case plyInt16:
		return math.MinInt16, math.MaxInt16
	case plyUint16:
		return 0, math.MaxUint16
	case plyInt32:
		return math.MinInt32, math.MaxInt32
	}
	return 0, math.MaxUint32
}

// plyProperty is one property of an element.
type plyProperty struct {
	name  string
	typ   plyType // the item type for a list
	count plyType // the count type for a list; plyInvalid for a scalar
	slot  int     // where the value goes (a slot* constant), for the elements read
}

// Destinations of vertex and face properties.
const (
	slotSkip = iota
	slotX
	slotY
	slotZ
	slotNX
	slotNY
	slotNZ
	slotRed
	slotGreen
	slotBlue
	slotAlpha
	slotIndices
)

var vertexSlots = map[string]int{
	"x": slotX, "y": slotY, "z": slotZ, "nx": slotNX, "ny": slotNY, "nz": slotNZ,
	"red": slotRed, "green": slotGreen, "blue": slotBlue, "alpha": slotAlpha,
	"diffuse_red": slotRed, "diffuse_green": slotGreen, "diffuse_blue": slotBlue,
}

// plyElement is one element of the header.
type plyElement struct {
	name  string
	count int
	props []plyProperty
}

// assignSlots sets the slot of each property of the vertex and face
// elements and checks that the properties read have the right shape.
func (e *plyElement) assignSlots() error {
	switch e.name {
	case "vertex":
		var has [slotIndices]bool
		for i := range e.props {
			p := &e.props[i]
			p.slot = vertexSlots[p.name]
			if p.slot != slotSkip && p.count != plyInvalid {
				return &FormatError{Format: "ply", Msg: fmt.Sprintf("vertex property %q is a list", p.name)}
			}
			has[p.slot] = true
		}
		if !has[slotX] || !has[slotY] || !has[slotZ] {
			return &FormatError{Format: "ply", Msg: "vertex element lacks an x, y or z property"}
		}
	case "face":
		for i := range e.props {
			p := &e.props[i]
			if p.name == "vertex_indices" || p.name == "vertex_index" {
				if p.count == plyInvalid {
					return &FormatError{Format: "ply", Msg: fmt.Sprintf("face property %q is not a list", p.name)}
				}
				p.slot = slotIndices
				return nil
			}
		}
		if e.count > 0 {
			return &FormatError{Format: "ply", Msg: "face element lacks a vertex_indices list"}
		}
	}
	return nil
}

// plyHeader is a parsed header.
type plyHeader struct {
	format   Format
	elements []plyElement
	comments []string
}

// plyError is malformed content, reported by value readers and completed
// with its place by the element loops.
type plyError string

func (e plyError) Error() string { return string(e) }

// ReadPLY reads a PLY file in any of the three encodings.
//
// From the "vertex" element it takes x, y and z (required), nx, ny and nz,
// and red, green, blue and alpha (or diffuse_red, …), any numeric type;
// integer colours are taken as 0–255 (ushort as 0–65535) and float colours
// as 0–1, clamped. From the "face" element it takes the list
// vertex_indices (or vertex_index), any integer count type and any index
// type, and splits polygons into triangle fans (v0, vi, vi+1). Every other
// element and property, scalar or list, is read and dropped, as are
// obj_info lines.
//
// Non-finite coordinates or normals, face indices out of range, polygons of
// fewer than 3 vertices and malformed or truncated input return a
// *FormatError saying where, such as "ply: vertex 12: unexpected EOF". ASCII
// instances are read as whitespace-separated tokens, line breaks not
// checked. Bytes after the last element are ignored.
func ReadPLY(r io.Reader) (*PLY, error) {
	return readPLY(r, false)
}

// ReadPLYDropNonFinite is ReadPLY for meshes that other programs made and
// that may hold a few vertices at NaN or infinity (COLMAP's Poisson mesher
// does, now and then): those vertices are dropped with the faces that use
// them, and dropped says how many. Every other error is ReadPLY's.
func ReadPLYDropNonFinite(r io.Reader) (p *PLY, dropped int, err error) {
	p, err = readPLY(r, true)
	if err != nil {
		return nil, 0, err
	}
	return p, p.dropNonFinite(), nil
}

func readPLY(r io.Reader, lenient bool) (*PLY, error) {
	br := bufio.NewReaderSize(r, plyMaxHeader)
	h, err := readPLYHeader(br)
	if err != nil {
		return nil, err
	}
	d := &plyDecoder{br: br, format: h.format, lenient: lenient}
	p := &PLY{Comments: h.comments}
	nv := -1
	for _, e := range h.elements {
		if e.name == "vertex" {
			nv = e.count
		}
	}
	for _, e := range h.elements {
		switch e.name {
		case "vertex":
			err = d.readVertices(&e, &p.Cloud)
		case "face":
			p.Faces, err = d.readFaces(&e, max(nv, 0))
		default:
			err = d.skip(&e)
		}
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// isSpaceRune reports ASCII whitespace, as isSpace: header fields are split
// on it alone, not on Unicode spaces.
func isSpaceRune(r rune) bool { return r < 0x80 && isSpace(byte(r)) }

func headerError(line int, format string, args ...any) error {
	return &FormatError{Format: "ply", Msg: fmt.Sprintf("header line %d: ", line) + fmt.Sprintf(format, args...)}
}

// readPLYHeader reads the header up to and including its end_header line.
func readPLYHeader(br *bufio.Reader) (*plyHeader, error) {
	h := &plyHeader{format: -1}
	var size int
	seen := make(map[string]bool)  // element names, to reject a second vertex or face
	props := make(map[string]bool) // the current element's property names
	for n := 1; ; n++ {
		raw, err := br.ReadSlice('\n')
		size += len(raw)
		if size > plyMaxHeader || errors.Is(err, bufio.ErrBufferFull) {
			return nil, &FormatError{Format: "ply", Msg: fmt.Sprintf("header longer than %d bytes (no end_header?)", plyMaxHeader)}
		}
		switch {
		case errors.Is(err, io.EOF) && len(raw) > 0:
			// A last line without a newline: read it; the next read finds
			// the end.
		case errors.Is(err, io.EOF) && n == 1:
			return nil, &FormatError{Format: "ply", Msg: "empty input", Err: io.ErrUnexpectedEOF}
		case errors.Is(err, io.EOF):
			return nil, &FormatError{Format: "ply", Msg: fmt.Sprintf("header line %d: no end_header", n), Err: io.ErrUnexpectedEOF}
		case err != nil:
			return nil, fmt.Errorf("ply: header: %w", err)
		}
		line := strings.TrimRight(string(raw), "\r\n")
		fields := strings.FieldsFunc(line, isSpaceRune)
		if n == 1 {
			if len(fields) != 1 || fields[0] != "ply" {
				return nil, &FormatError{Format: "ply", Msg: "not a PLY file: first line is not \"ply\""}
			}
			continue
		}
		if len(fields) == 0 {
			continue // tolerated: some writers leave blank lines
		}
		switch fields[0] {
		case "format":
			if h.format >= 0 {
				return nil, headerError(n, "second format line")
			}
			if len(fields) != 3 {
				return nil, headerError(n, "want \"format <encoding> 1.0\", got %q", line)
			}
			switch fields[1] {
			case "ascii":
				h.format = ASCII
			case "binary_little_endian":
				h.format = BinaryLittleEndian
			case "binary_big_endian":
				h.format = BinaryBigEndian
			default:
				return nil, headerError(n, "unknown format %q", fields[1])
			}
			if fields[2] != "1.0" {
				return nil, headerError(n, "unsupported version %q, want 1.0", fields[2])
			}
		case "comment":
			text := strings.TrimLeftFunc(line, isSpaceRune)[len("comment"):]
			if text != "" {
				text = text[1:] // the separator: one ASCII space
			}
			h.comments = append(h.comments, text)
		case "obj_info":
		case "element":
			if len(fields) != 3 {
				return nil, headerError(n, "want \"element <name> <count>\", got %q", line)
			}
			count, err := strconv.ParseUint(fields[2], 10, 64)
			if err != nil {
				return nil, headerError(n, "element %q: bad count %q", fields[1], fields[2])
			}
			if count > plyMaxElements {
				return nil, headerError(n, "element %q: count %d exceeds the limit of %d", fields[1], count, plyMaxElements)
			}
			if (fields[1] == "vertex" || fields[1] == "face") && seen[fields[1]] {
				return nil, headerError(n, "second %q element", fields[1])
			}
			seen[fields[1]] = true
			h.elements = append(h.elements, plyElement{name: fields[1], count: int(count)})
			clear(props)
		case "property":
			if len(h.elements) == 0 {
				return nil, headerError(n, "property before any element")
			}
			e := &h.elements[len(h.elements)-1]
			var p plyProperty
			switch {
			case len(fields) == 3:
				p = plyProperty{name: fields[2], typ: plyTypeNames[fields[1]]}
				if p.typ == plyInvalid {
					return nil, headerError(n, "property %q: unknown type %q", fields[2], fields[1])
				}
			case len(fields) == 5 && fields[1] == "list":
				p = plyProperty{name: fields[4], count: plyTypeNames[fields[2]], typ: plyTypeNames[fields[3]]}
				if p.count == plyInvalid || p.count.isFloat() {
					return nil, headerError(n, "property %q: list count type %q is not an integer type", fields[4], fields[2])
				}
				if p.typ == plyInvalid {
					return nil, headerError(n, "property %q: unknown type %q", fields[4], fields[3])
				}
			default:
				return nil, headerError(n, "want \"property <type> <name>\" or \"property list <count type> <type> <name>\", got %q", line)
			}
			if props[p.name] {
				return nil, headerError(n, "element %q: second property %q", e.name, p.name)
			}
			props[p.name] = true
			e.props = append(e.props, p)
		case "end_header":
			if h.format < 0 {
				return nil, headerError(n, "end_header before the format line")
			}
			for i := range h.elements {
				if err := h.elements[i].assignSlots(); err != nil {
					return nil, err
				}
			}
			return h, nil
		default:
			return nil, headerError(n, "unknown keyword %q", fields[0])
		}
	}
}

// plyDecoder reads element instances after the header.
type plyDecoder struct {
	br      *bufio.Reader
	format  Format
	tok     []byte // ASCII token buffer
	lenient bool   // keep non-finite vertices, for dropNonFinite
}

// value reads one scalar of type t. Integer types are range-checked in
// ASCII; every value of every type is exact in a float64.
func (d *plyDecoder) value(t plyType) (float64, error) {
	if d.format == ASCII {
		return d.asciiValue(t)
	}
	n := t.size()
	b, err := d.br.Peek(n)
	if len(b) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	var u64 uint64
	be := d.format == BinaryBigEndian
	switch n {
	case 1:
		u64 = uint64(b[0])
	case 2:
		if be {
			u64 = uint64(binary.BigEndian.Uint16(b))
		} else {
			u64 = uint64(binary.LittleEndian.Uint16(b))
		}
	case 4:
		if be {
			u64 = uint64(binary.BigEndian.Uint32(b))
		} else {
			u64 = uint64(binary.LittleEndian.Uint32(b))
		}
	case 8:
		if be {
			u64 = binary.BigEndian.Uint64(b)
		} else {
			u64 = binary.LittleEndian.Uint64(b)
		}
	}
	d.br.Discard(n) // cannot fail: Peek returned n bytes
	switch t {
	case plyInt8:
		return float64(int8(u64)), nil
	case plyInt16:
		return float64(int16(u64)), nil
	case plyInt32:
		return float64(int32(u64)), nil
	case plyFloat32:
		return float64(math.Float32frombits(uint32(u64))), nil
	case plyFloat64:
		return math.Float64frombits(u64), nil
	}
	return float64(u64), nil // unsigned
}

func (d *plyDecoder) asciiValue(t plyType) (float64, error) {
	br := d.br
	c, err := br.ReadByte()
	for err == nil && isSpace(c) {
		c, err = br.ReadByte()
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	d.tok = d.tok[:0]
	for err == nil && !isSpace(c) {
		if len(d.tok) == plyMaxToken {
			return 0, plyError(fmt.Sprintf("number longer than %d bytes", plyMaxToken))
		}
		d.tok = append(d.tok, c)
		c, err = br.ReadByte()
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	bits := 64
	if t == plyFloat32 {
		bits = 32 // parse straight to float32: no double rounding
	}
	v, perr := strconv.ParseFloat(string(d.tok), bits)
	if perr != nil && !(t.isFloat() && errors.Is(perr, strconv.ErrRange)) {
		return 0, plyError(fmt.Sprintf("bad number %q", truncate(d.tok)))
	}
	if !t.isFloat() {
		if lo, hi := t.bounds(); v != math.Trunc(v) || v < lo || v > hi {
			return 0, plyError(fmt.Sprintf("%q is not a %s", truncate(d.tok), typeName(t)))
		}
	}
	return v, nil
}

func typeName(t plyType) string {
	return [...]string{"invalid", "char", "uchar", "short", "ushort", "int", "uint", "float", "double"}[t]
}

// listLen reads a list's item count.
func (d *plyDecoder) listLen(p *plyProperty) (int, error) {
	v, err := d.value(p.count)
	if err != nil {
		return 0, err
	}
	if v < 0 || v > plyMaxList {
		return 0, plyError(fmt.Sprintf("property %q: list length %g outside [0, %d]", p.name, v, plyMaxList))
	}
	return int(v), nil
}

// skipProperty reads and drops one property's value or list.
func (d *plyDecoder) skipProperty(p *plyProperty) error {
	if p.count == plyInvalid {
		_, err := d.value(p.typ)
		return err
	}
	n, err := d.listLen(p)
	if err != nil {
		return err
	}
	if d.format != ASCII {
		k, err := d.br.Discard(n * p.typ.size())
		if k < n*p.typ.size() {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
		}
		return err
	}
	for range n {
		if _, err := d.value(p.typ); err != nil {
			return err
		}
	}
	return nil
}

// instanceError places err at instance i of element e: malformed content
// and truncation become a *FormatError, other read errors are wrapped.
func instanceError(e *plyElement, i int, err error) error {
	where := fmt.Sprintf("%s %d", e.name, i)
	if e.name != "vertex" && e.name != "face" {
		where = fmt.Sprintf("element %q %d", e.name, i)
	}
	var pe plyError
	switch {
	case errors.As(err, &pe):
		return &FormatError{Format: "ply", Msg: where + ": " + err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		// err may carry the property's name: "property \"x\": unexpected EOF".
		return &FormatError{Format: "ply", Msg: where, Err: err}
	}
	return fmt.Errorf("ply: %s: %w", where, err)
}

// skip reads and drops every instance of e.
func (d *plyDecoder) skip(e *plyElement) error {
	if len(e.props) == 0 {
		return nil
	}
	if d.format != ASCII {
		row, fixed := 0, true
		for _, p := range e.props {
			row += p.typ.size()
			fixed = fixed && p.count == plyInvalid
		}
		if fixed {
			k, err := d.br.Discard(e.count * row)
			if k < e.count*row {
				if err == nil || errors.Is(err, io.EOF) {
					err = io.ErrUnexpectedEOF
				}
				return instanceError(e, k/row, err)
			}
			return nil
		}
	}
	for i := range e.count {
		for j := range e.props {
			if err := d.skipProperty(&e.props[j]); err != nil {
				return instanceError(e, i, err)
			}
		}
	}
	return nil
}

// readVertices reads the vertex element into c.
func (d *plyDecoder) readVertices(e *plyElement, c *geom.PointCloud) error {
	var has [slotIndices]bool
	for _, p := range e.props {
		has[p.slot] = true
	}
	normals := has[slotNX] || has[slotNY] || has[slotNZ]
	colors := has[slotRed] || has[slotGreen] || has[slotBlue] || has[slotAlpha]
	prealloc := min(e.count, plyPrealloc)
	c.Points = make([]geom.Vec, 0, prealloc)
	if normals {
		c.Normals = make([]geom.Vec, 0, prealloc)
	}
	if colors {
		c.Colors = make([]color.NRGBA, 0, prealloc)
	}
	for i := range e.count {
		var pt, n geom.Vec
		col := color.NRGBA{A: 255}
		for j := range e.props {
			p := &e.props[j]
			if p.slot == slotSkip {
				if err := d.skipProperty(p); err != nil {
					return instanceError(e, i, err)
				}
				continue
			}
			v, err := d.value(p.typ)
			if err != nil {
				return instanceError(e, i, fmt.Errorf("property %q: %w", p.name, err))
			}
			switch p.slot {
			case slotX:
				pt.X = v
			case slotY:
				pt.Y = v
			case slotZ:
				pt.Z = v
			case slotNX:
				n.X = v
			case slotNY:
				n.Y = v
			case slotNZ:
				n.Z = v
			case slotRed:
				col.R = colorByte(p.typ, v)
			case slotGreen:
				col.G = colorByte(p.typ, v)
			case slotBlue:
				col.B = colorByte(p.typ, v)
			case slotAlpha:
				col.A = colorByte(p.typ, v)
			}
		}
		if !finite(pt) && !d.lenient {
			return instanceError(e, i, plyError(fmt.Sprintf("non-finite coordinate %v", pt)))
		}
		if !finite(n) {
			if !d.lenient {
				return instanceError(e, i, plyError(fmt.Sprintf("non-finite normal %v", n)))
			}
			pt = geom.Vec{X: math.NaN()} // dropped with its point
		}
		c.Points = append(grow(c.Points, e.count), pt)
		if normals {
			c.Normals = append(grow(c.Normals, e.count), n)
		}
		if colors {
			c.Colors = append(grow(c.Colors, e.count), col)
		}
	}
	return nil
}

// grow makes room for one more item in a slice that a header says will
// hold about want items. It doubles the capacity, capped at want once that
// is reached: memory stays within twice what the input has filled, yet a
// large element takes a few allocations, not the ~1.25× steps of append
// that sum to 5× the final size.
func grow[T any](s []T, want int) []T {
	if len(s) < cap(s) {
		return s
	}
	n := 2 * cap(s)
	if cap(s) < want {
		n = min(n, want)
	}
	return slices.Grow(s, max(n, 16)-len(s))
}

// colorByte converts a colour channel to 0–255: floats from 0–1, ushort
// from 0–65535, other integers as they are; all clamped.
func colorByte(t plyType, v float64) uint8 {
	switch {
	case t.isFloat():
		v *= 255
	case t == plyUint16:
		v /= 257 // 65535/255
	}
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(math.Round(v))
}

// readFaces reads the face element, triangulating polygons, with indices
// checked against nv vertices.
func (d *plyDecoder) readFaces(e *plyElement, nv int) ([][3]int32, error) {
	if !slices.ContainsFunc(e.props, func(p plyProperty) bool { return p.slot == slotIndices }) {
		return nil, nil // an empty face element without indices
	}
	faces := make([][3]int32, 0, min(e.count, plyPrealloc))
	var poly []int32
	for i := range e.count {
		for j := range e.props {
			p := &e.props[j]
			if p.slot != slotIndices {
				if err := d.skipProperty(p); err != nil {
					return nil, instanceError(e, i, err)
				}
				continue
			}
			n, err := d.listLen(p)
			if err != nil {
				return nil, instanceError(e, i, err)
			}
			if n < 3 {
				return nil, instanceError(e, i, plyError(fmt.Sprintf("polygon of %d vertices", n)))
			}
			poly = poly[:0]
			for range n {
				v, err := d.value(p.typ)
				if err != nil {
					return nil, instanceError(e, i, err)
				}
				if v != math.Trunc(v) || v < 0 || v >= float64(nv) {
					return nil, instanceError(e, i, plyError(fmt.Sprintf("vertex index %g out of range [0, %d)", v, nv)))
				}
				poly = append(poly, int32(v))
			}
			for k := 1; k+1 < n; k++ {
				faces = append(grow(faces, e.count), [3]int32{poly[0], poly[k], poly[k+1]})
			}
		}
	}
	return faces, nil
}

// dropNonFinite removes the vertices with a non-finite coordinate and
// the faces that use them, renumbering the rest; it returns how many
// vertices it removed.
func (p *PLY) dropNonFinite() int {
	c := &p.Cloud
	remap := make([]int32, len(c.Points))
	kept := 0
	for i, pt := range c.Points {
		if !finite(pt) {
			remap[i] = -1
			continue
		}
		remap[i] = int32(kept)
		c.Points[kept] = pt
		if len(c.Normals) > 0 {
			c.Normals[kept] = c.Normals[i]
		}
		if len(c.Colors) > 0 {
			c.Colors[kept] = c.Colors[i]
		}
		kept++
	}
	dropped := len(c.Points) - kept
	if dropped == 0 {
		return 0
	}
	c.Points = c.Points[:kept]
	if len(c.Normals) > 0 {
		c.Normals = c.Normals[:kept]
	}
	if len(c.Colors) > 0 {
		c.Colors = c.Colors[:kept]
	}
	faces := p.Faces[:0]
	for _, f := range p.Faces {
		a, b, cc := remap[f[0]], remap[f[1]], remap[f[2]]
		if a >= 0 && b >= 0 && cc >= 0 {
			faces = append(faces, [3]int32{a, b, cc})
		}
	}
	p.Faces = faces
	return dropped
}

// ReadPLYFile reads the PLY file at path.
func ReadPLYFile(path string) (*PLY, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadPLY(f)
}
