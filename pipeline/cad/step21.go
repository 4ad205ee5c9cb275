package cad

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// This file parses the clear-text encoding of ISO 10303-21:2016 ("Part 21",
// the exchange structure): sections, entity instances and their parameter
// values, into a table of instances by number. What the instances mean is
// stepread.go's business. The grammar is that of §5–§12 of the standard;
// the parser is lenient where writers in the wild are (lower-case
// keywords, line breaks inside strings) and strict about everything that
// could make it misread a number or a reference.

// Limits against hostile or broken input. Together they bound the memory
// ReadSTEP uses to a few times MaxSTEPSize.
var (
	// MaxSTEPSize is the largest input, in bytes, that ReadSTEP accepts:
	// it reads the whole input into memory. It is a variable so that tests
	// can lower it.
	MaxSTEPSize int64 = 256 << 20

	// stepMaxInstances and stepMaxValues cap the entity instances and the
	// parameter values (each list counting as one more) the parser keeps,
	// and with them its memory to about 1 GiB. WriteSTEP writes about 10
	// instances and 45 values per edge, so a faceted solid of 300 000
	// edges (a 200 000-triangle mesh with nothing to merge) still fits.
	stepMaxInstances = 1 << 22
	stepMaxValues    = 1 << 24
)

// stepMaxDepth is the deepest nesting of lists and typed parameters the
// parser accepts: AP214 needs 3 (a list of lists of typed values).
const stepMaxDepth = 32

// stepKind is the kind of a parameter value.
type stepKind uint8

const (
	valNull    stepKind = iota // $, an unset optional attribute
	valDerived                 // *, an attribute a subtype derives
	valInt                     // i
	valReal                    // f
	valString                  // s, decoded to UTF-8
	valEnum                    // s, without the dots, upper case
	valBinary                  // s, the hex digits as written
	valRef                     // i, an instance number
	valList                    // list
	valTyped                   // s(list), such as LENGTH_MEASURE(1.E-07)
)

func (k stepKind) String() string {
	return [...]string{"$", "*", "integer", "real", "string", "enumeration", "binary", "reference", "list", "typed parameter"}[k]
}

// stepValue is one parameter value.
type stepValue struct {
	kind stepKind
	i    int64
	f    float64
	s    string
	list []stepValue
}

// stepRecord is a simple entity instance or one partial entity of a
// complex one: a keyword and its parameters.
type stepRecord struct {
	name   string
	params []stepValue
}

// stepInstance is an entity instance #id; a complex instance has several
// records, in the order written.
type stepInstance struct {
	id      int64
	records []stepRecord
	pos     int // byte offset in the file, for messages
}

// record returns the instance's record of the given entity type, or nil.
func (in *stepInstance) record(name string) *stepRecord {
	for i := range in.records {
		if in.records[i].name == name {
			return &in.records[i]
		}
	}
	return nil
}

// typeName names the instance's type for messages: the keyword of a simple
// instance, the keywords in parentheses for a complex one.
func (in *stepInstance) typeName() string {
	if len(in.records) == 1 {
		return in.records[0].name
	}
	names := make([]string, len(in.records))
	for i, r := range in.records {
		names[i] = r.name
	}
	return "(" + strings.Join(names, " ") + ")"
}

// stepFile is a parsed exchange structure.
type stepFile struct {
	data      []byte
	header    []stepRecord
	instances map[int64]*stepInstance
	order     []*stepInstance // as they appear in the file
}

// line returns the 1-based line number of byte offset pos.
func (f *stepFile) line(pos int) int {
	return bytes.Count(f.data[:min(pos, len(f.data))], []byte{'\n'}) + 1
}

// stepParser is a recursive-descent parser over the whole input; its
// recursion is bounded by stepMaxDepth.
type stepParser struct {
	data   []byte
	pos    int
	values int
}

// stepSyntaxError is a syntax error at a byte offset, turned into a line
// number when reported.
type stepSyntaxError struct {
	pos int
	msg string
	err error // io.ErrUnexpectedEOF for a truncated file, or nil
}

func (e *stepSyntaxError) Error() string { return e.msg }
func (e *stepSyntaxError) Unwrap() error { return e.err }

func (p *stepParser) fail(format string, args ...any) error {
	return &stepSyntaxError{pos: p.pos, msg: fmt.Sprintf(format, args...)}
}

func (p *stepParser) eof() error {
	return &stepSyntaxError{pos: p.pos, msg: "unexpected end of file", err: io.ErrUnexpectedEOF}
}

// parseSTEP parses data into a stepFile, or returns an error naming the
// line of the first problem.
func parseSTEP(data []byte) (*stepFile, error) {
	p := &stepParser{data: data}
	f := &stepFile{data: data, instances: make(map[int64]*stepInstance)}
	if err := p.parse(f); err != nil {
		if se, ok := err.(*stepSyntaxError); ok {
			return nil, fmt.Errorf("cad: STEP line %d: %s: %w", f.line(se.pos), se.msg, errOrSyntax(se.err))
		}
		return nil, err
	}
	return f, nil
}

// errSTEPSyntax is the cause of a syntax error other than a truncated file.
var errSTEPSyntax = fmt.Errorf("not a valid ISO 10303-21 file")

func errOrSyntax(err error) error {
	if err != nil {
		return err
	}
	return errSTEPSyntax
}

func (p *stepParser) parse(f *stepFile) error {
	if err := p.expectKeyword("ISO-10303-21"); err != nil {
		return err
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	if err := p.expectKeyword("HEADER"); err != nil {
		return err
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	for {
		kw, err := p.keyword()
		if err != nil {
			return err
		}
		if kw == "ENDSEC" {
			break
		}
		params, err := p.params(0)
		if err != nil {
			return err
		}
		if err := p.expect(';'); err != nil {
			return err
		}
		f.header = append(f.header, stepRecord{name: kw, params: params})
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	for {
		start := p.pos
		kw, err := p.keyword()
		if err != nil {
			return err
		}
		switch kw {
		case "END-ISO-10303-21":
			return p.expect(';') // anything after the end is not ours to read
		case "DATA":
			if err := p.data1(f); err != nil {
				return err
			}
		default:
			p.pos = start
			return p.fail("%s section is not supported, want DATA or END-ISO-10303-21", kw)
		}
	}
}

// data1 parses one DATA section after its keyword.
func (p *stepParser) data1(f *stepFile) error {
	if c, err := p.peek(); err != nil {
		return err
	} else if c == '(' { // 3rd edition: DATA('name', ('schema'));
		if _, err := p.params(0); err != nil {
			return err
		}
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	for {
		c, err := p.peek()
		if err != nil {
			return err
		}
		if c != '#' {
			kw, err := p.keyword()
			if err != nil {
				return err
			}
			if kw != "ENDSEC" {
				return p.fail("%s where an entity instance or ENDSEC should be", kw)
			}
			return p.expect(';')
		}
		if err := p.instance(f); err != nil {
			return err
		}
	}
}

// instance parses "#id = record;" or "#id = (record record ...);".
func (p *stepParser) instance(f *stepFile) error {
	start := p.pos
	p.pos++ // '#'
	id, err := p.number()
	if err != nil {
		return err
	}
	if f.instances[id] != nil {
		p.pos = start
		return p.fail("#%d is defined twice", id)
	}
	if len(f.order) >= stepMaxInstances {
		return p.fail("more than %d entity instances", stepMaxInstances)
	}
	if err := p.expect('='); err != nil {
		return err
	}
	in := &stepInstance{id: id, pos: start}
	c, err := p.peek()
	if err != nil {
		return err
	}
	if c == '(' {
		p.pos++
		for {
			if c, err := p.peek(); err != nil {
				return err
			} else if c == ')' {
				p.pos++
				break
			}
			r, err := p.record()
			if err != nil {
				return err
			}
			in.records = append(in.records, r)
		}
		if len(in.records) == 0 {
			return p.fail("#%d: complex entity instance without partial entities", id)
		}
	} else {
		r, err := p.record()
		if err != nil {
			return err
		}
		in.records = []stepRecord{r}
	}
	if err := p.expect(';'); err != nil {
		return err
	}
	f.instances[id] = in
	f.order = append(f.order, in)
	return nil
}

// record parses "KEYWORD(params)".
func (p *stepParser) record() (stepRecord, error) {
	kw, err := p.keyword()
	if err != nil {
		return stepRecord{}, err
	}
	params, err := p.params(0)
	return stepRecord{name: kw, params: params}, err
}

// params parses a parenthesised, comma-separated list of values.
func (p *stepParser) params(depth int) ([]stepValue, error) {
	if depth > stepMaxDepth {
		return nil, p.fail("lists nested deeper than %d", stepMaxDepth)
	}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var list []stepValue
	if c, err := p.peek(); err != nil {
		return nil, err
	} else if c == ')' {
		p.pos++
		return list, nil
	}
	for {
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
		c, err := p.peek()
		if err != nil {
			return nil, err
		}
		p.pos++
		switch c {
		case ',':
		case ')':
			return list, nil
		default:
			p.pos--
			return nil, p.fail("%q where ',' or ')' should be", c)
		}
	}
}

// value parses one parameter value.
func (p *stepParser) value(depth int) (stepValue, error) {
	if p.values++; p.values > stepMaxValues {
		return stepValue{}, p.fail("more than %d parameter values", stepMaxValues)
	}
	c, err := p.peek()
	if err != nil {
		return stepValue{}, err
	}
	switch {
	case c == '$':
		p.pos++
		return stepValue{kind: valNull}, nil
	case c == '*':
		p.pos++
		return stepValue{kind: valDerived}, nil
	case c == '#':
		p.pos++
		id, err := p.number()
		return stepValue{kind: valRef, i: id}, err
	case c == '\'':
		s, err := p.str()
		return stepValue{kind: valString, s: s}, err
	case c == '.':
		p.pos++
		start := p.pos
		for p.pos < len(p.data) && isKeywordByte(p.data[p.pos]) {
			p.pos++
		}
		if p.pos >= len(p.data) {
			return stepValue{}, p.eof()
		}
		if p.data[p.pos] != '.' || p.pos == start {
			return stepValue{}, p.fail("malformed enumeration")
		}
		p.pos++
		return stepValue{kind: valEnum, s: strings.ToUpper(string(p.data[start : p.pos-1]))}, nil
	case c == '"':
		p.pos++
		start := p.pos
		for p.pos < len(p.data) && isHex(p.data[p.pos]) {
			p.pos++
		}
		if p.pos >= len(p.data) {
			return stepValue{}, p.eof()
		}
		if p.data[p.pos] != '"' {
			return stepValue{}, p.fail("malformed binary value")
		}
		p.pos++
		return stepValue{kind: valBinary, s: string(p.data[start : p.pos-1])}, nil
	case c == '(':
		list, err := p.params(depth + 1)
		return stepValue{kind: valList, list: list}, err
	case c == '+' || c == '-' || isDigit(c):
		return p.num()
	case isLetter(c):
		kw, err := p.keyword()
		if err != nil {
			return stepValue{}, err
		}
		list, err := p.params(depth + 1)
		return stepValue{kind: valTyped, s: kw, list: list}, err
	}
	return stepValue{}, p.fail("unexpected %q", c)
}

// num parses an integer or a real: [+-]digits[.[digits]][E[+-]digits].
func (p *stepParser) num() (stepValue, error) {
	start := p.pos
	if c := p.data[p.pos]; c == '+' || c == '-' {
		p.pos++
	}
	digits := p.pos
	for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
		p.pos++
	}
	if p.pos == digits {
		return stepValue{}, p.fail("malformed number")
	}
	real := false
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		real = true
		p.pos++
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'E' || p.data[p.pos] == 'e') {
		if !real {
			return stepValue{}, p.fail("malformed real: exponent without a decimal point")
		}
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		exp := p.pos
		for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
			p.pos++
		}
		if p.pos == exp {
			return stepValue{}, p.fail("malformed real: exponent without digits")
		}
	}
	text := string(p.data[start:p.pos])
	if !real {
		i, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return stepValue{}, p.fail("integer %s out of range", text)
		}
		return stepValue{kind: valInt, i: i}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) {
		return stepValue{}, p.fail("real %s out of range", text)
	}
	return stepValue{kind: valReal, f: f}, nil
}

// number parses the unsigned integer of an instance name.
func (p *stepParser) number() (int64, error) {
	start := p.pos
	for p.pos < len(p.data) && isDigit(p.data[p.pos]) {
		p.pos++
	}
	if p.pos == start {
		if p.pos >= len(p.data) {
			return 0, p.eof()
		}
		return 0, p.fail("'#' without an instance number")
	}
	id, err := strconv.ParseInt(string(p.data[start:p.pos]), 10, 64)
	if err != nil {
		return 0, p.fail("instance number %s out of range", p.data[start:p.pos])
	}
	return id, nil
}

// str parses a string literal and decodes it (see decodeString).
func (p *stepParser) str() (string, error) {
	p.pos++ // opening quote
	var b []byte
	for {
		i := bytes.IndexByte(p.data[p.pos:], '\'')
		if i < 0 {
			p.pos = len(p.data)
			return "", p.eof()
		}
		b = append(b, p.data[p.pos:p.pos+i]...)
		p.pos += i + 1
		if p.pos < len(p.data) && p.data[p.pos] == '\'' {
			b = append(b, '\'')
			p.pos++
			continue
		}
		return decodeString(b), nil
	}
}

// decodeString interprets the control directives of a Part 21 string
// (§6.4.3): \\ is a backslash, \S\c the ISO 8859 character c+128, \X\hh
// the ISO 8859-1 character hh, \X2\…\X0\ UTF-16 code units in four hex
// digits each and \X4\…\X0\ code points in eight; \P?\ (code page
// selection) is dropped. Line breaks are dropped: writers wrap long
// strings. Malformed directives are kept as written, raw bytes that are
// not UTF-8 become U+FFFD. It looks at each byte a bounded number of
// times, so that a long string of unterminated directives is not
// quadratic.
func decodeString(raw []byte) string {
	var b strings.Builder
	for i := 0; i < len(raw); {
		c := raw[i]
		if c == '\r' || c == '\n' {
			i++
			continue
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		rest := raw[i:]
		switch {
		case bytes.HasPrefix(rest, []byte(`\\`)):
			b.WriteByte('\\')
			i += 2
		case len(rest) >= 4 && bytes.HasPrefix(rest, []byte(`\S\`)):
			b.WriteRune(rune(rest[3]) + 128)
			i += 4
		case len(rest) >= 4 && rest[1] == 'P' && rest[3] == '\\':
			i += 4
		case len(rest) >= 5 && bytes.HasPrefix(rest, []byte(`\X\`)) && isHex(rest[3]) && isHex(rest[4]):
			v, _ := strconv.ParseUint(string(rest[3:5]), 16, 8)
			b.WriteRune(rune(v))
			i += 5
		case bytes.HasPrefix(rest, []byte(`\X2\`)) || bytes.HasPrefix(rest, []byte(`\X4\`)):
			width := 4
			if rest[2] == '4' {
				width = 8
			}
			end := bytes.Index(rest[4:], []byte(`\X0\`))
			if end < 0 { // no terminator anywhere after: the rest is literal
				b.Write(rest)
				i = len(raw)
				continue
			}
			hex := rest[4 : 4+end]
			if len(hex)%width != 0 { // malformed: keep it as written, terminator included
				b.Write(rest[:4+end+4])
				i += 4 + end + 4
				continue
			}
			var units []uint16
			for j := 0; j < len(hex); j += width {
				v, err := strconv.ParseUint(string(hex[j:j+width]), 16, 32)
				switch {
				case err != nil:
					v = utf8.RuneError
				case width == 8:
					if !utf8.ValidRune(rune(v)) {
						v = utf8.RuneError
					}
					b.WriteString(string(utf16.Decode(units)))
					units = units[:0]
					b.WriteRune(rune(v))
					continue
				}
				units = append(units, uint16(v))
			}
			b.WriteString(string(utf16.Decode(units)))
			i += 4 + end + 4
		default:
			b.WriteByte(c)
			i++
		}
	}
	return strings.ToValidUTF8(b.String(), string(utf8.RuneError))
}

// keyword parses a standard or user-defined (leading '!') keyword and
// returns it in upper case. '-' is allowed inside for the section keywords
// ISO-10303-21 and END-ISO-10303-21.
func (p *stepParser) keyword() (string, error) {
	if err := p.skip(); err != nil {
		return "", err
	}
	start := p.pos
	if p.data[p.pos] == '!' {
		p.pos++
	}
	if p.pos >= len(p.data) {
		return "", p.eof()
	}
	if !isLetter(p.data[p.pos]) {
		return "", p.fail("%q where a keyword should be", p.data[p.pos])
	}
	for p.pos < len(p.data) && (isKeywordByte(p.data[p.pos]) || p.data[p.pos] == '-') {
		p.pos++
	}
	return strings.ToUpper(string(p.data[start:p.pos])), nil
}

func (p *stepParser) expectKeyword(want string) error {
	start := p.pos
	kw, err := p.keyword()
	if err != nil {
		return err
	}
	if kw != want {
		p.pos = start
		return p.fail("%.40q where %s should be", kw, want)
	}
	return nil
}

// expect skips white space and comments and consumes c.
func (p *stepParser) expect(c byte) error {
	got, err := p.peek()
	if err != nil {
		return err
	}
	if got != c {
		return p.fail("%q where %q should be", got, c)
	}
	p.pos++
	return nil
}

// peek skips white space and comments and returns the next byte.
func (p *stepParser) peek() (byte, error) {
	if err := p.skip(); err != nil {
		return 0, err
	}
	return p.data[p.pos], nil
}

// skip moves past white space and comments; at the end of the input it
// returns the truncation error.
func (p *stepParser) skip() error {
	for p.pos < len(p.data) {
		switch c := p.data[p.pos]; {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '/' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '*':
			end := bytes.Index(p.data[p.pos+2:], []byte("*/"))
			if end < 0 {
				p.pos = len(p.data)
				return p.eof()
			}
			p.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return p.eof()
}

func isDigit(c byte) bool       { return '0' <= c && c <= '9' }
func isLetter(c byte) bool      { return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '_' }
func isKeywordByte(c byte) bool { return isLetter(c) || isDigit(c) }
func isHex(c byte) bool         { return isDigit(c) || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f' }
