package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// STL is the format 3D Systems defined for its stereolithography machines,
// as described in Burns, "Automated Fabrication", Prentice Hall 1993,
// section 6.5 (reprinted as "The StL Format" at fabbers.com):
//
//	binary: 80-byte header, uint32 triangle count n, then n records of
//	        12 little-endian float32 (normal, 3 vertices) and a uint16
//	        attribute byte count: 84 + 50n bytes in all.
//	ASCII:  solid name / facet normal ni nj nk / outer loop /
//	        vertex x y z (three times) / endloop / endfacet / ... / endsolid name

// MaxSTLSize is the largest input, in bytes, that ReadSTL accepts: it reads
// the whole input into memory. It is a variable so that tests can lower it.
var MaxSTLSize int64 = 2 << 30 // 2 GiB: 43 million binary triangles

const (
	stlHeaderSize = 80
	stlRecordSize = 50 // 12 float32 and a uint16
	stlMaxToken   = 256
)

// ReadSTL reads a binary or ASCII STL file and welds vertices with identical
// coordinates into an indexed mesh. Facet normals in the file are ignored;
// the vertex order gives the orientation. Triangles that weld into a
// repeated index are kept (see geom.Topology.CollapsedFaces).
//
// The encoding is decided by size and content, because binary files may
// begin with "solid" as ASCII files do: an input of exactly 84 + 50n bytes,
// where n is the triangle count at offset 80, is binary; otherwise an input
// that begins with "solid" and holds only text bytes is ASCII; anything else
// is taken as binary and must have the size its count implies. ASCII
// keywords are matched case-insensitively and several solids may follow one
// another.
//
// Inputs larger than MaxSTLSize, non-finite vertex coordinates and
// malformed input return a *FormatError.
func ReadSTL(r io.Reader) (*geom.Mesh, error) {
	data, err := readAllLimited(r, MaxSTLSize)
	if err != nil {
		return nil, err
	}
	// No ASCII file under 7 GB passes the size test: text bytes at
	// offsets 80–83 make n at least 0x09090909, or 7.6 GB.
	if len(data) >= stlHeaderSize+4 {
		n := binary.LittleEndian.Uint32(data[stlHeaderSize:])
		if uint64(len(data)) == stlHeaderSize+4+stlRecordSize*uint64(n) {
			return readBinarySTL(data, int(n))
		}
	}
	if isASCIISTL(data) {
		return readASCIISTL(data)
	}
	if len(data) < stlHeaderSize+4 {
		return nil, &FormatError{Format: "stl", Msg: fmt.Sprintf("%d bytes is too short for binary STL (84-byte header) and is not ASCII STL", len(data))}
	}
	n := binary.LittleEndian.Uint32(data[stlHeaderSize:])
	want := stlHeaderSize + 4 + stlRecordSize*uint64(n)
	if uint64(len(data)) < want {
		return nil, &FormatError{Format: "stl", Msg: fmt.Sprintf("binary: header says %d triangles (%d bytes) but input has %d bytes", n, want, len(data)), Err: io.ErrUnexpectedEOF}
	}
	return nil, &FormatError{Format: "stl", Msg: fmt.Sprintf("binary: header says %d triangles (%d bytes) but input has %d bytes: trailing data", n, want, len(data))}
}

// readAllLimited reads all of r, failing with a *FormatError beyond limit
// bytes. When r knows its size (a regular file, a bytes or strings reader)
// the buffer is allocated once.
func readAllLimited(r io.Reader, limit int64) ([]byte, error) {
	size := int64(-1)
	switch s := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := s.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
	case interface{ Len() int }:
		size = int64(s.Len())
	}
	tooBig := &FormatError{Format: "stl", Msg: fmt.Sprintf("input is larger than the %d-byte limit", limit)}
	if size > limit {
		return nil, tooBig
	}
	var buf bytes.Buffer
	if size >= 0 {
		buf.Grow(int(size) + bytes.MinRead) // a file may grow while read; ReadFrom wants MinRead spare
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, fmt.Errorf("stl: read: %w", err)
	}
	if int64(buf.Len()) > limit {
		return nil, tooBig
	}
	return buf.Bytes(), nil
}

// welder builds an indexed mesh from a triangle soup, giving each distinct
// key (the coordinates as read) one vertex.
type welder[K comparable] struct {
	index map[K]int32
	m     *geom.Mesh
}

func newWelder[K comparable](triangles int) *welder[K] {
	// A closed triangle mesh has about half as many vertices as triangles
	// (Euler: F ≈ 2V), a soup three times as many.
	return &welder[K]{
		index: make(map[K]int32, triangles/2),
		m:     &geom.Mesh{Vertices: make([]geom.Vec, 0, triangles/2), Faces: make([][3]int32, 0, triangles)},
	}
}

func (w *welder[K]) vertex(k K, p geom.Vec) int32 {
	if i, ok := w.index[k]; ok {
		return i
	}
	i := int32(len(w.m.Vertices))
	w.m.Vertices = append(w.m.Vertices, p)
	w.index[k] = i
	return i
}

func readBinarySTL(data []byte, n int) (*geom.Mesh, error) {
	// Vertices are keyed by their bits, which hash faster than floats, with
	// -0 made +0 so that the two weld as equal values should; NaN is
	// rejected.
	w := newWelder[[3]uint32](n)
	for i := range n {
		rec := data[stlHeaderSize+4+i*stlRecordSize:]
		var f [3]int32
		for k := range 3 {
			v := rec[12+12*k:]
			bits := [3]uint32{binary.LittleEndian.Uint32(v), binary.LittleEndian.Uint32(v[4:]), binary.LittleEndian.Uint32(v[8:])}
			for j, b := range bits {
				if b == 1<<31 {
					bits[j] = 0
				}
			}
			q := geom.Vec{
				X: float64(math.Float32frombits(bits[0])),
				Y: float64(math.Float32frombits(bits[1])),
				Z: float64(math.Float32frombits(bits[2])),
			}
			if !finite(q) {
				return nil, &FormatError{Format: "stl", Msg: fmt.Sprintf("triangle %d: vertex %d: non-finite coordinate %v", i, k, q)}
			}
			f[k] = w.vertex(bits, q)
		}
		w.m.Faces = append(w.m.Faces, f)
	}
	return w.m, nil
}

// isASCIISTL reports whether data begins with "solid" and holds only text:
// printable bytes, whitespace and bytes ≥ 0x80 (UTF-8 in names). Binary
// float data nearly always holds control bytes, the uint16 attribute words
// zeros.
func isASCIISTL(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\r\n\v\f")
	if len(t) < 5 || !strings.EqualFold(string(t[:5]), "solid") {
		return false
	}
	for _, c := range data {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' || c == 0x7f {
			return false
		}
	}
	return true
}

// stlScanner splits ASCII STL into whitespace-separated tokens, counting
// lines for error messages.
type stlScanner struct {
	data []byte
	pos  int
	line int // 1-based line of the last token
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// next returns the next token, or nil at the end of the input.
func (s *stlScanner) next() []byte {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		if s.data[s.pos] == '\n' {
			s.line++
		}
		s.pos++
	}
	start := s.pos
	for s.pos < len(s.data) && !isSpace(s.data[s.pos]) {
		s.pos++
	}
	if start == s.pos {
		return nil
	}
	return s.data[start:s.pos]
}

// skipLine skips the rest of the current line: a solid's name.
func (s *stlScanner) skipLine() {
	if i := bytes.IndexByte(s.data[s.pos:], '\n'); i >= 0 {
		s.pos += i // next counts the newline
	} else {
		s.pos = len(s.data)
	}
}

func (s *stlScanner) errorf(format string, args ...any) error {
	return &FormatError{Format: "stl", Msg: fmt.Sprintf("ascii: line %d: ", s.line) + fmt.Sprintf(format, args...)}
}

// expect consumes the keyword want.
func (s *stlScanner) expect(want string) error {
	tok := s.next()
	if tok == nil {
		return &FormatError{Format: "stl", Msg: fmt.Sprintf("ascii: line %d: want %q", s.line, want), Err: io.ErrUnexpectedEOF}
	}
	if !strings.EqualFold(string(tok), want) {
		return s.errorf("want %q, got %q", want, truncate(tok))
	}
	return nil
}

// number consumes a decimal number.
func (s *stlScanner) number() (float64, error) {
	tok := s.next()
	if tok == nil {
		return 0, &FormatError{Format: "stl", Msg: fmt.Sprintf("ascii: line %d: want a number", s.line), Err: io.ErrUnexpectedEOF}
	}
	if len(tok) > stlMaxToken {
		return 0, s.errorf("number longer than %d bytes", stlMaxToken)
	}
	v, err := strconv.ParseFloat(string(tok), 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, s.errorf("want a number, got %q", tok)
	}
	return v, nil
}

// truncate shortens a token quoted in an error message.
func truncate(tok []byte) string {
	if len(tok) > 32 {
		return string(tok[:32]) + "…"
	}
	return string(tok)
}

func readASCIISTL(data []byte) (*geom.Mesh, error) {
	// Each facet takes at least 60 bytes ("facet normal 0 0 0 outer loop
	// vertex 0 0 0" …), which bounds the preallocation by the input.
	w := newWelder[geom.Vec](len(data) / 60)
	s := &stlScanner{data: data, line: 1}
	if err := s.expect("solid"); err != nil {
		return nil, err
	}
	s.skipLine()
	for {
		tok := s.next()
		switch {
		case tok == nil:
			return nil, &FormatError{Format: "stl", Msg: fmt.Sprintf("ascii: line %d: want \"facet\" or \"endsolid\"", s.line), Err: io.ErrUnexpectedEOF}
		case strings.EqualFold(string(tok), "facet"):
			f, err := readFacet(s, w)
			if err != nil {
				return nil, err
			}
			w.m.Faces = append(w.m.Faces, f)
		case strings.EqualFold(string(tok), "endsolid"):
			s.skipLine()
			switch tok := s.next(); {
			case tok == nil:
				return w.m, nil
			case strings.EqualFold(string(tok), "solid"):
				s.skipLine()
			default:
				return nil, s.errorf("want \"solid\" or the end after \"endsolid\", got %q", truncate(tok))
			}
		default:
			return nil, s.errorf("want \"facet\" or \"endsolid\", got %q", truncate(tok))
		}
	}
}

// readFacet reads a facet after its "facet" keyword.
func readFacet(s *stlScanner, w *welder[geom.Vec]) ([3]int32, error) {
	var f [3]int32
	if err := s.expect("normal"); err != nil {
		return f, err
	}
	for range 3 { // the normal: parsed, not used
		if _, err := s.number(); err != nil {
			return f, err
		}
	}
	if err := s.expect("outer"); err != nil {
		return f, err
	}
	if err := s.expect("loop"); err != nil {
		return f, err
	}
	for k := range 3 {
		if err := s.expect("vertex"); err != nil {
			return f, err
		}
		var p geom.Vec
		for _, c := range []*float64{&p.X, &p.Y, &p.Z} {
			v, err := s.number()
			if err != nil {
				return f, err
			}
			*c = v
		}
		if !finite(p) {
			return f, s.errorf("non-finite vertex coordinate %v", p)
		}
		f[k] = w.vertex(p, p)
	}
	if err := s.expect("endloop"); err != nil {
		return f, err
	}
	return f, s.expect("endfacet")
}

// WriteSTL writes m as binary STL: header (at most 80 bytes, zero-padded),
// the triangle count, and per face its unit normal (zero for a degenerate
// face), its three vertices and a zero attribute word, all little endian.
// Coordinates are rounded to float32.
//
// The header must not begin with "solid": readers that detect ASCII by that
// word alone would misread the file. The mesh must pass Validate and its
// coordinates must fit float32.
func WriteSTL(w io.Writer, m *geom.Mesh, header string) error {
	if len(header) > stlHeaderSize {
		return fmt.Errorf("stl: header is %d bytes, more than %d", len(header), stlHeaderSize)
	}
	if h := strings.TrimLeft(header, " \t\r\n\v\f"); len(h) >= 5 && strings.EqualFold(h[:5], "solid") {
		return fmt.Errorf("stl: header %q begins with \"solid\", which marks ASCII STL", header)
	}
	if err := m.Validate(); err != nil {
		return fmt.Errorf("stl: invalid mesh: %w", err)
	}
	if uint64(len(m.Faces)) > math.MaxUint32 {
		return fmt.Errorf("stl: %d faces do not fit binary STL's uint32 count", len(m.Faces))
	}
	if err := fitsFloat32(m.Vertices); err != nil {
		return fmt.Errorf("stl: %w", err)
	}

	const chunk = 1 << 12 // triangles per write: 200 KiB
	buf := make([]byte, stlHeaderSize+4, stlHeaderSize+4+stlRecordSize*min(len(m.Faces), chunk))
	copy(buf, header)
	binary.LittleEndian.PutUint32(buf[stlHeaderSize:], uint32(len(m.Faces)))
	put := func(v geom.Vec) {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v.X)))
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v.Y)))
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v.Z)))
	}
	for _, f := range m.Faces {
		// The normal of the corners as written, rounded to float32: a
		// sliver's normal can turn over in the rounding, and readers that
		// check normals (ADMesh's "normals fixed") compare with it.
		put(normal32(m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]))
		put(m.Vertices[f[0]])
		put(m.Vertices[f[1]])
		put(m.Vertices[f[2]])
		buf = append(buf, 0, 0)
		if len(buf) >= stlRecordSize*chunk {
			if _, err := w.Write(buf); err != nil {
				return fmt.Errorf("stl: write: %w", err)
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("stl: write: %w", err)
	}
	return nil
}

// normal32 returns the unit normal of the triangle abc as a reader of
// the file computes it: from the corners rounded to float32, their
// differences in float32 (as ADMesh, which PrusaSlicer embeds, does), the
// cross product in float64; zero when the triangle has no area. A sliver's
// normal can turn over in the rounding, and ADMesh counts a stored normal
// more than 0.001 off its own as one it had to fix.
func normal32(a, b, c geom.Vec) geom.Vec {
	ax, ay, az := float32(a.X), float32(a.Y), float32(a.Z)
	u := [3]float64{float64(float32(b.X) - ax), float64(float32(b.Y) - ay), float64(float32(b.Z) - az)}
	v := [3]float64{float64(float32(c.X) - ax), float64(float32(c.Y) - ay), float64(float32(c.Z) - az)}
	n := geom.Vec{X: u[1]*v[2] - u[2]*v[1], Y: u[2]*v[0] - u[0]*v[2], Z: u[0]*v[1] - u[1]*v[0]}
	l := r3.Norm(n)
	if !(l > 0) || math.IsInf(l, 0) {
		return geom.Vec{}
	}
	return r3.Scale(1/l, n)
}

// fitsFloat32 reports the first coordinate that would become infinite in
// float32.
func fitsFloat32(ps []geom.Vec) error {
	for i, p := range ps {
		for _, c := range [3]float64{p.X, p.Y, p.Z} {
			if math.IsInf(float64(float32(c)), 0) {
				return fmt.Errorf("vertex %d: coordinate %g overflows float32", i, c)
			}
		}
	}
	return nil
}

// finite reports whether no coordinate of p is NaN or infinite.
func finite(p geom.Vec) bool {
	return !math.IsNaN(p.X-p.X) && !math.IsNaN(p.Y-p.Y) && !math.IsNaN(p.Z-p.Z)
}
