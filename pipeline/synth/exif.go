package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"
	"sort"
	"time"
)

// exifInfo is what a camera writes about a photo.
type exifInfo struct {
	make, model, software string
	taken                 time.Time
	width, height         int
	focalMM               float64
	focal35               int
	focalPlaneResPerCM    float64 // pixels per centimetre on the sensor
	exposureSec           float64
	fNumber               float64
	iso                   int
}

// TIFF field types (TIFF 6.0 §2).
const (
	tiffASCII     = 2
	tiffShort     = 3
	tiffLong      = 4
	tiffRational  = 5
	tiffUndefined = 7
)

type ifdEntry struct {
	tag   uint16
	typ   uint16
	count uint32
	data  []byte // little endian
}

var le = binary.LittleEndian

func asciiEntry(tag uint16, s string) ifdEntry {
	b := append([]byte(s), 0)
	return ifdEntry{tag, tiffASCII, uint32(len(b)), b}
}

func shortEntry(tag uint16, v uint16) ifdEntry {
	return ifdEntry{tag, tiffShort, 1, le.AppendUint16(nil, v)}
}

func longEntry(tag uint16, v uint32) ifdEntry {
	return ifdEntry{tag, tiffLong, 1, le.AppendUint32(nil, v)}
}

// rationalEntry stores v as a fraction with denominator den.
func rationalEntry(tag uint16, v float64, den uint32) ifdEntry {
	b := le.AppendUint32(nil, uint32(math.Round(v*float64(den))))
	return ifdEntry{tag, tiffRational, 1, le.AppendUint32(b, den)}
}

// ifdSize is the byte size of an IFD with its out-of-line values.
func ifdSize(es []ifdEntry) int {
	n := 2 + 12*len(es) + 4
	for _, e := range es {
		if len(e.data) > 4 {
			n += len(e.data) + len(e.data)%2
		}
	}
	return n
}

// writeIFD appends an IFD that starts at offset off of the TIFF stream.
func writeIFD(b []byte, off int, es []ifdEntry) []byte {
	sort.Slice(es, func(i, j int) bool { return es[i].tag < es[j].tag })
	b = le.AppendUint16(b, uint16(len(es)))
	dataOff := off + 2 + 12*len(es) + 4
	var data []byte
	for _, e := range es {
		b = le.AppendUint16(b, e.tag)
		b = le.AppendUint16(b, e.typ)
		b = le.AppendUint32(b, e.count)
		if len(e.data) <= 4 {
			var v [4]byte
			copy(v[:], e.data)
			b = append(b, v[:]...)
			continue
		}
		b = le.AppendUint32(b, uint32(dataOff+len(data)))
		data = append(data, e.data...)
		if len(data)%2 == 1 { // values start on word boundaries
			data = append(data, 0)
		}
	}
	b = le.AppendUint32(b, 0) // no next IFD
	return append(b, data...)
}

// tiff builds the EXIF TIFF structure (Exif 2.32, CIPA DC-008-2019): IFD0
// with the camera and orientation, and the Exif IFD with capture settings.
func (x *exifInfo) tiff() []byte {
	stamp := x.taken.Format("2006:01:02 15:04:05")
	ifd0 := []ifdEntry{
		asciiEntry(0x010F, x.make),
		asciiEntry(0x0110, x.model),
		shortEntry(0x0112, 1), // Orientation: top-left, the pixels are upright
		rationalEntry(0x011A, 72, 1),
		rationalEntry(0x011B, 72, 1),
		shortEntry(0x0128, 2), // ResolutionUnit: inch
		asciiEntry(0x0131, x.software),
		asciiEntry(0x0132, stamp),
		longEntry(0x8769, 0), // ExifIFDPointer, patched below
	}
	expo := ifdEntry{0x829A, tiffRational, 1, nil}
	// ExposureTime as 1/n s when shorter than a second, as cameras write it.
	if x.exposureSec < 1 {
		expo.data = le.AppendUint32(le.AppendUint32(nil, 1), uint32(math.Round(1/x.exposureSec)))
	} else {
		expo.data = le.AppendUint32(le.AppendUint32(nil, uint32(math.Round(x.exposureSec*10))), 10)
	}
	exif := []ifdEntry{
		expo,
		rationalEntry(0x829D, x.fNumber, 10),
		shortEntry(0x8827, uint16(x.iso)),
		{0x9000, tiffUndefined, 4, []byte("0232")},
		asciiEntry(0x9003, stamp),
		asciiEntry(0x9004, stamp),
		shortEntry(0x9209, 0x10), // Flash: did not fire, compulsory suppression
		rationalEntry(0x920A, x.focalMM, 1000),
		shortEntry(0xA001, 1), // ColorSpace: sRGB
		longEntry(0xA002, uint32(x.width)),
		longEntry(0xA003, uint32(x.height)),
		rationalEntry(0xA20E, x.focalPlaneResPerCM, 1000),
		rationalEntry(0xA20F, x.focalPlaneResPerCM, 1000),
		shortEntry(0xA210, 3), // FocalPlaneResolutionUnit: centimetre
		shortEntry(0xA405, uint16(x.focal35)),
	}
	b := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	exifOff := 8 + ifdSize(ifd0)
	ifd0[len(ifd0)-1] = longEntry(0x8769, uint32(exifOff))
	b = writeIFD(b, 8, ifd0)
	return writeIFD(b, exifOff, exif)
}

// writeJPEG encodes img as a baseline JPEG with an EXIF APP1 segment right
// after the start-of-image marker, where readers expect it.
func writeJPEG(w io.Writer, img image.Image, quality int, x *exifInfo) error {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return err
	}
	j := buf.Bytes()
	if len(j) < 2 || j[0] != 0xFF || j[1] != 0xD8 {
		return errors.New("jpeg encoder wrote no start-of-image marker")
	}
	payload := append([]byte("Exif\x00\x00"), x.tiff()...)
	if len(payload)+2 > 0xFFFF {
		return errors.New("exif segment too large")
	}
	seg := []byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}
	for _, part := range [][]byte{j[:2], seg, payload, j[2:]} {
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}
