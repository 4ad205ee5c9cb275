package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/rwcarlsen/goexif/exif"
	"github.com/rwcarlsen/goexif/tiff"
)

// EXIF is what the camera wrote about a photo (Exif 2.32, CIPA DC-008-2019).
// Fields the photo does not carry keep their zero value, except Orientation,
// which is 1 (upright) when absent.
type EXIF struct {
	Make  string // camera maker, e.g. "Apple"
	Model string // camera model, e.g. "iPhone 7"

	// Orientation is the Orientation tag (TIFF 6.0 tag 274): how the stored
	// pixels must be turned to look upright. 1 is upright, 2 mirrored
	// left to right, 3 turned 180°, 4 mirrored top to bottom; 5 to 8 swap
	// width and height (6: turn 90° clockwise to view, 8: 90°
	// counter-clockwise, 5 and 7 also mirror).
	Orientation int

	FocalLengthMM   float64 // lens focal length in mm; 0 unknown
	FocalLength35mm float64 // 35 mm film equivalent focal length in mm (on the diagonal); 0 unknown

	// FocalPlaneXResolution is the number of pixels per FocalPlaneResolutionUnit
	// along the image width on the sensor, for an image PixelXDimension wide.
	// With the focal length it gives the focal length in pixels and the
	// sensor width. 0 unknown.
	FocalPlaneXResolution float64
	// FocalPlaneResolutionUnit is the unit of FocalPlaneXResolution: 2 inch
	// (the default when absent), 3 cm, and in TIFF/EP and DNG 4 mm and 5 µm.
	FocalPlaneResolutionUnit int
	// PixelXDimension is the image width the camera recorded (Exif tag
	// 40962), so FocalPlaneXResolution can be scaled to a resized photo.
	// 0 unknown.
	PixelXDimension int

	ExposureTime float64 // seconds; 0 unknown
	ISO          int     // ISO speed; 0 unknown

	FlashKnown bool // the photo says whether the flash fired
	FlashFired bool // the flash fired (meaningful only when FlashKnown)

	// Taken is DateTimeOriginal, the camera's wall clock when the photo was
	// taken. EXIF carries no time zone here, so it is given in UTC. Zero when
	// absent.
	Taken time.Time

	// HasGPS reports that the photo carries GPS data (its location): it must
	// be stripped before the photo leaves the machine.
	HasGPS bool
}

// FocalPlanePxPerMM returns the sensor's pixel density along the image width
// in pixels per millimetre, from FocalPlaneXResolution and its unit, and
// whether it is known.
func (x *EXIF) FocalPlanePxPerMM() (float64, bool) {
	r := x.FocalPlaneXResolution
	if !(r > 0) || math.IsInf(r, 0) {
		return 0, false
	}
	switch x.FocalPlaneResolutionUnit {
	case 0, 2: // inch, the default (Exif 2.32 §4.6.5, tag 41488)
		return r / 25.4, true
	case 3: // centimetre
		return r / 10, true
	case 4: // millimetre (TIFF/EP)
		return r, true
	case 5: // micrometre (TIFF/EP)
		return r * 1000, true
	}
	return 0, false // 1 is "no absolute unit"; anything else is unknown
}

// SensorWidthMM returns the width of the sensor area the image covers, in
// mm, from the focal plane resolution, and whether it is known.
func (x *EXIF) SensorWidthMM() (float64, bool) {
	ppmm, ok := x.FocalPlanePxPerMM()
	if !ok || x.PixelXDimension <= 0 {
		return 0, false
	}
	return float64(x.PixelXDimension) / ppmm, true
}

// maxEXIFSize bounds the EXIF data handed to goexif. A JPEG APP1 segment
// holds at most 65533 bytes; a PNG eXIf chunk has no such limit, so its EXIF
// is refused when larger.
const maxEXIFSize = 256 << 10

// maxEXIFValueBytes bounds the sum of the sizes of all tag values goexif
// decodes. goexif expands each value into a slice of int64 (or of rationals),
// so tags that all point at the same bytes would otherwise multiply a small
// segment into gigabytes. Real EXIF, maker notes included, stays well below
// 128 KiB.
const maxEXIFValueBytes = 1 << 20

// exifHeader starts the EXIF payload of a JPEG APP1 segment (Exif 2.32 §4.5.4).
const exifHeader = "Exif\x00\x00"

// jpegEXIF returns the payload of the first EXIF APP1 segment of the JPEG
// file b (starting with "Exif\0\0"), or nil when there is none before the
// image data.
func jpegEXIF(b []byte) []byte {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil
	}
	i := 2
	for i+4 <= len(b) {
		if b[i] != 0xFF {
			return nil // not at a marker: the file is damaged; the decoder will say so
		}
		m := b[i+1]
		switch {
		case m == 0xFF: // fill byte before a marker (ITU T.81 §B.1.1.2)
			i++
			continue
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			i += 2
			continue
		case m == 0xD9 || m == 0xDA: // EOI, SOS: no metadata after these
			return nil
		}
		n := int(b[i+2])<<8 | int(b[i+3]) // segment length, including these 2 bytes
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		seg := b[i+4 : i+2+n]
		if m == 0xE1 && bytes.HasPrefix(seg, []byte(exifHeader)) {
			return seg
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the contents of the eXIf chunk of the PNG file b (a TIFF
// structure, PNG 1.2 extensions §3.7), or nil when there is none before the
// image data. It reports whether the chunk was too large to read.
func pngEXIF(b []byte) (data []byte, tooLarge bool) {
	i := len(pngMagic)
	for i+12 <= len(b) {
		n := binary.BigEndian.Uint32(b[i:])
		typ := string(b[i+4 : i+8])
		if typ == "IDAT" || typ == "IEND" {
			return nil, false
		}
		if uint64(n) > uint64(len(b)-i-12) {
			return nil, false // truncated; the decoder will say so
		}
		if typ == "eXIf" {
			if n > maxEXIFSize {
				return nil, true
			}
			return b[i+8 : i+8+int(n)], false
		}
		i += 12 + int(n)
	}
	return nil, false
}

// parseEXIF reads the EXIF in p, either a JPEG APP1 payload (starting with
// "Exif\0\0") or a bare TIFF structure (as in a PNG eXIf chunk). The returned
// warnings list what was wrong with the EXIF and ignored. A non-nil error
// means nothing usable was found; x then holds the defaults.
//
// goexif trusts its input: it follows IFD chains that loop, and allocates
// what tag counts claim. So the TIFF structure is checked and repaired here
// first (see sanitizeTIFF), and a panic in goexif is recovered as an error.
func parseEXIF(p []byte) (x EXIF, warnings []string, err error) {
	x.Orientation = 1
	p = bytes.TrimPrefix(p, []byte(exifHeader))
	if len(p) > maxEXIFSize {
		return x, nil, fmt.Errorf("EXIF is %d KiB, more than %d KiB", len(p)>>10, maxEXIFSize>>10)
	}
	t, warnings, err := sanitizeTIFF(p)
	if err != nil {
		return x, warnings, err
	}
	defer func() {
		if r := recover(); r != nil {
			x = EXIF{Orientation: 1}
			err = fmt.Errorf("EXIF decoder failed: %v", r)
		}
	}()
	// The raw EXIF form ("Exif\0\0" then TIFF) makes goexif read the TIFF
	// structure directly instead of searching for a JPEG marker.
	ex, err := exif.Decode(bytes.NewReader(append([]byte(exifHeader), t...)))
	if ex == nil {
		if err == nil {
			err = errors.New("no EXIF")
		}
		return x, warnings, fmt.Errorf("unreadable EXIF: %v", strings.TrimSpace(err.Error()))
	}
	if err != nil {
		// A sub-IFD (Exif, GPS, Interoperability) failed; IFD0 is usable.
		warnings = append(warnings, "EXIF partly unreadable: "+oneLine(err.Error()))
	}
	warnings = x.load(ex, warnings)
	return x, warnings, nil
}

// oneLine joins the lines of a multi-line message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// load fills x from the tags goexif decoded.
func (x *EXIF) load(ex *exif.Exif, warnings []string) []string {
	warn := func(format string, args ...any) {
		warnings = append(warnings, fmt.Sprintf(format, args...))
	}
	x.Make = exifString(ex, exif.Make)
	x.Model = exifString(ex, exif.Model)

	if v, ok := exifInt(ex, exif.Orientation); ok {
		if v >= 1 && v <= 8 {
			x.Orientation = v
		} else {
			warn("EXIF Orientation %d is not 1 to 8; taken as 1 (upright)", v)
		}
	}
	if v, ok := exifFloat(ex, exif.FocalLength); ok {
		if v > 0 && v < 10000 {
			x.FocalLengthMM = v
		} else {
			warn("EXIF FocalLength %g mm is implausible; ignored", v)
		}
	}
	if v, ok := exifFloat(ex, exif.FocalLengthIn35mmFilm); ok && v != 0 {
		if v > 0 && v < 10000 {
			x.FocalLength35mm = v
		} else {
			warn("EXIF FocalLengthIn35mmFilm %g mm is implausible; ignored", v)
		}
	}
	if v, ok := exifFloat(ex, exif.FocalPlaneXResolution); ok {
		if v > 0 && !math.IsInf(v, 0) {
			x.FocalPlaneXResolution = v
		} else {
			warn("EXIF FocalPlaneXResolution %g is implausible; ignored", v)
		}
	}
	if v, ok := exifInt(ex, exif.FocalPlaneResolutionUnit); ok {
		x.FocalPlaneResolutionUnit = v
	}
	if v, ok := exifInt(ex, exif.PixelXDimension); ok && v > 0 {
		x.PixelXDimension = v
	}
	if v, ok := exifFloat(ex, exif.ExposureTime); ok {
		if v > 0 && v < 1e6 {
			x.ExposureTime = v
		} else if v != 0 {
			warn("EXIF ExposureTime %g s is implausible; ignored", v)
		}
	}
	if v, ok := exifInt(ex, exif.ISOSpeedRatings); ok && v > 0 {
		x.ISO = v
	}
	if v, ok := exifInt(ex, exif.Flash); ok && v >= 0 {
		// Bit 0 is "flash fired"; bit 5 set means the camera has no flash
		// function (Exif 2.32 §4.6.5, tag 37385).
		x.FlashKnown = true
		x.FlashFired = v&1 != 0
	}
	if s := exifString(ex, exif.DateTimeOriginal); s != "" {
		if t, err := time.Parse("2006:01:02 15:04:05", s); err == nil {
			x.Taken = t
		} else if strings.Trim(s, " :0") != "" { // blank dates are "    :  :     :  :  "
			warn("EXIF DateTimeOriginal %q is not a date; ignored", s)
		}
	}
	_ = ex.Walk(walkFunc(func(name exif.FieldName, _ *tiff.Tag) error {
		if strings.HasPrefix(string(name), "GPS") && name != exif.GPSInfoIFDPointer {
			x.HasGPS = true
		}
		return nil
	}))
	return warnings
}

// walkFunc adapts a function to exif.Walker.
type walkFunc func(exif.FieldName, *tiff.Tag) error

func (f walkFunc) Walk(name exif.FieldName, tag *tiff.Tag) error { return f(name, tag) }

// exifString returns the ASCII value of a tag with surrounding blanks and
// NULs removed, or "" when absent or not text.
func exifString(ex *exif.Exif, name exif.FieldName) string {
	tag, err := ex.Get(name)
	if err != nil {
		return ""
	}
	s, err := tag.StringVal()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.Trim(s, "\x00"))
}

// exifInt returns the first value of an integer tag.
func exifInt(ex *exif.Exif, name exif.FieldName) (int, bool) {
	tag, err := ex.Get(name)
	if err != nil || tag.Count == 0 || tag.Format() != tiff.IntVal {
		return 0, false
	}
	v, err := tag.Int64(0)
	if err != nil || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return int(v), true
}

// exifFloat returns the first value of a rational, integer or float tag. A
// rational with a zero denominator is absent.
func exifFloat(ex *exif.Exif, name exif.FieldName) (float64, bool) {
	tag, err := ex.Get(name)
	if err != nil || tag.Count == 0 {
		return 0, false
	}
	switch tag.Format() {
	case tiff.RatVal:
		n, d, err := tag.Rat2(0)
		if err != nil || d == 0 {
			return 0, false
		}
		return float64(n) / float64(d), true
	case tiff.IntVal:
		v, err := tag.Int64(0)
		return float64(v), err == nil
	case tiff.FloatVal:
		v, err := tag.Float(0)
		return v, err == nil && !math.IsNaN(v)
	}
	return 0, false
}

// TIFF field types and their sizes in bytes (TIFF 6.0 §2, "IFD Entry").
var tiffTypeSize = [13]uint64{0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8}

// Tags that point at sub-IFDs (Exif 2.32 §4.6.3).
const (
	tagExifIFD    = 0x8769
	tagGPSIFD     = 0x8825
	tagInteropIFD = 0xA005
)

// maxEXIFDirs bounds the IFDs sanitizeTIFF checks. EXIF has at most five
// (IFD0, IFD1, Exif, GPS, Interoperability); hostile data could point at
// thousands of overlapping ones.
const maxEXIFDirs = 16

// maxEXIFWarnings bounds the warnings sanitizeTIFF records one by one;
// hostile EXIF could have thousands of bad entries.
const maxEXIFWarnings = 8

// tagIgnored is the tag number a bad IFD entry is rewritten to: no EXIF
// table knows it, so goexif decodes the rewritten entry and drops it.
const tagIgnored = 0xFFFF

// sanitizeTIFF checks the TIFF structure t the way goexif will read it and
// returns a repaired copy that goexif reads in bounded time and memory:
//
//   - the IFD chain is cut after IFD1 (EXIF has IFD0 and the thumbnail's
//     IFD1; goexif would follow a chain that loops back forever),
//   - an IFD that does not fit in t ends the chain (IFD0: no EXIF at all),
//   - a sub-IFD pointer (Exif, GPS, Interoperability) to an IFD that does
//     not fit is dropped,
//   - an entry of unknown type, zero count, or with a value beyond the end of
//     t is dropped, as are values once their total passes maxEXIFValueBytes.
//
// Dropped entries become an entry with tag tagIgnored and one byte of value.
// Each repair adds a warning. In hostile data IFDs overlap, so a repair can
// change an IFD already checked: the checks run again until a pass repairs
// nothing, which makes the result one goexif reads exactly as checked.
func sanitizeTIFF(t []byte) ([]byte, []string, error) {
	if len(t) < 8 {
		return nil, nil, errors.New("EXIF too short")
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return nil, nil, errors.New("EXIF has no TIFF header")
	}
	s := &tiffSanitizer{t: bytes.Clone(t), bo: bo}
	for range maxSanitizePasses {
		s.budget, s.fixed, s.changed = maxEXIFValueBytes, map[uint32]bool{}, false
		if err := s.pass(); err != nil {
			return nil, s.finish(), err
		}
		if !s.changed {
			return s.t, s.finish(), nil
		}
	}
	return nil, s.finish(), errors.New("EXIF structure is inconsistent")
}

// maxSanitizePasses bounds the passes of sanitizeTIFF. Damaged real EXIF
// needs two (one to repair, one to find nothing more to repair); only IFDs
// crafted to overlap need more.
const maxSanitizePasses = 4

type tiffSanitizer struct {
	t        []byte
	bo       binary.ByteOrder
	budget   uint64          // value bytes goexif may still decode
	fixed    map[uint32]bool // IFDs checked in this pass
	changed  bool            // this pass repaired something
	warnings []string
	more     int // warnings past maxEXIFWarnings
}

// pass checks and repairs the IFD chain and the IFDs it points at.
func (s *tiffSanitizer) pass() error {
	bo := s.bo
	ifd0 := bo.Uint32(s.t[4:])
	if ifd0 == 0 {
		return errors.New("EXIF has no IFD0") // goexif would find no IFD at all
	}
	if !s.dirFits(ifd0) {
		return fmt.Errorf("EXIF IFD0 at offset %d is outside the %d-byte EXIF", ifd0, len(s.t))
	}
	s.fixDir(ifd0)
	if !s.dirFits(ifd0) {
		return nil // a repair in an overlapping IFD changed its count; next pass
	}
	next := s.nextPos(ifd0)
	ifd1 := bo.Uint32(s.t[next:])
	switch {
	case ifd1 == 0:
		return nil
	case ifd1 == ifd0:
		s.warn("EXIF IFD chain loops back to IFD0; rest ignored")
		s.endChain(next)
		return nil
	case !s.dirFits(ifd1):
		s.warn("EXIF IFD1 at offset %d is outside the EXIF; ignored", ifd1)
		s.endChain(next)
		return nil
	}
	s.fixDir(ifd1)
	if !s.dirFits(ifd1) {
		return nil // as for IFD0
	}
	// Nothing in EXIF comes after IFD1; end the chain there, quietly unless
	// it loops.
	next = s.nextPos(ifd1)
	if ifd2 := bo.Uint32(s.t[next:]); ifd2 == ifd0 || ifd2 == ifd1 {
		s.warn("EXIF IFD chain loops; rest ignored")
	}
	s.endChain(next)
	return nil
}

// endChain sets the next-IFD offset at position p to 0.
func (s *tiffSanitizer) endChain(p int) {
	if s.bo.Uint32(s.t[p:]) != 0 {
		s.bo.PutUint32(s.t[p:], 0)
		s.changed = true
	}
}

func (s *tiffSanitizer) warn(format string, args ...any) {
	if len(s.warnings) == maxEXIFWarnings {
		s.more++
		return
	}
	s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
}

// finish returns the warnings, the ones past maxEXIFWarnings counted.
func (s *tiffSanitizer) finish() []string {
	if s.more > 0 {
		s.warnings = append(s.warnings, fmt.Sprintf("%d more EXIF problems", s.more))
		s.more = 0
	}
	return s.warnings
}

// dirFits reports whether an IFD at off lies inside t, as goexif reads it:
// its entry count (read as a signed 16-bit number, so at most 32767), its
// entries and the offset of the next IFD.
func (s *tiffSanitizer) dirFits(off uint32) bool {
	o := uint64(off)
	if o+2 > uint64(len(s.t)) || off > math.MaxInt32 {
		return false
	}
	n := s.bo.Uint16(s.t[o:])
	return n < 0x8000 && o+2+12*uint64(n)+4 <= uint64(len(s.t))
}

// nextPos is the position of the next-IFD offset of the IFD at off, which
// must fit.
func (s *tiffSanitizer) nextPos(off uint32) int {
	return int(off) + 2 + 12*int(s.bo.Uint16(s.t[off:]))
}

// fixDir checks the entries of the IFD at off, which must fit, and the
// sub-IFDs they point at.
func (s *tiffSanitizer) fixDir(off uint32) {
	if s.fixed[off] {
		return
	}
	s.fixed[off] = true
	n := int(s.bo.Uint16(s.t[off:]))
	for i := range n {
		e := s.t[int(off)+2+12*i:][:12]
		tag, typ, count := s.bo.Uint16(e), s.bo.Uint16(e[2:]), s.bo.Uint32(e[4:])
		size := uint64(0)
		if int(typ) < len(tiffTypeSize) {
			size = tiffTypeSize[typ] * uint64(count)
		}
		switch {
		case size == 0:
			s.drop(e, "EXIF tag 0x%04X has type %d and count %d; ignored", tag, typ, count)
			continue
		case size > 4 && uint64(s.bo.Uint32(e[8:]))+size > uint64(len(s.t)):
			s.drop(e, "EXIF tag 0x%04X: %d bytes at offset %d are outside the EXIF; ignored", tag, size, s.bo.Uint32(e[8:]))
			continue
		case size > s.budget:
			s.drop(e, "EXIF tag 0x%04X: %d bytes pass the EXIF size limit; ignored", tag, size)
			continue
		}
		s.budget -= size
		if tag != tagExifIFD && tag != tagGPSIFD && tag != tagInteropIFD {
			continue
		}
		sub, ok := s.pointer(typ, count, e[8:])
		if !ok {
			continue // goexif ignores a pointer that is not an integer
		}
		switch {
		case sub < 0 || sub > math.MaxUint32 || !s.dirFits(uint32(sub)):
			s.drop(e, "EXIF sub-IFD 0x%04X at offset %d is outside the EXIF; ignored", tag, sub)
		case s.fixed[uint32(sub)]:
			// checked already (or being checked: a loop, which goexif does
			// not follow)
		case len(s.fixed) >= maxEXIFDirs:
			s.drop(e, "EXIF has more than %d IFDs; sub-IFD 0x%04X ignored", maxEXIFDirs, tag)
		default:
			s.fixDir(uint32(sub))
		}
	}
}

// pointer returns the first value of an integer entry whose value field is
// v, as goexif's Tag.Int64(0) reads it.
func (s *tiffSanitizer) pointer(typ uint16, count uint32, v []byte) (int64, bool) {
	size := tiffTypeSize[typ] * uint64(count)
	if size > 4 {
		v = s.t[s.bo.Uint32(v):] // checked to fit by the caller
	}
	switch typ {
	case 1: // BYTE
		return int64(v[0]), true
	case 3: // SHORT
		return int64(s.bo.Uint16(v)), true
	case 4: // LONG
		return int64(s.bo.Uint32(v)), true
	case 6: // SBYTE
		return int64(int8(v[0])), true
	case 8: // SSHORT
		return int64(int16(s.bo.Uint16(v))), true
	case 9: // SLONG
		return int64(int32(s.bo.Uint32(v))), true
	}
	return 0, false
}

// drop rewrites the 12-byte IFD entry e as a harmless one (tag tagIgnored,
// one BYTE) and records why.
func (s *tiffSanitizer) drop(e []byte, format string, args ...any) {
	s.warn(format, args...)
	s.changed = true
	s.bo.PutUint16(e, tagIgnored)
	s.bo.PutUint16(e[2:], 1) // BYTE
	s.bo.PutUint32(e[4:], 1)
	copy(e[8:], []byte{0, 0, 0, 0})
}
