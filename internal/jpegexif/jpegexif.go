// Package jpegexif writes JPEG photos with a small EXIF block: the camera,
// the capture time and settings, and the focal length, which reconstruction
// reads (COLMAP takes its focal prior from FocalLengthIn35mmFilm). It writes
// no GPS and no maker notes: `replica synth` uses it for its synthetic
// photos, and the prepare stage for the copies of a maker's photos that it
// hands to COLMAP or uploads.
package jpegexif

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

// Info is what a camera writes about a photo. Zero fields are left out of
// the EXIF block.
type Info struct {
	Make, Model, Software  string
	Taken                  time.Time
	Width, Height          int
	FocalMM                float64
	Focal35                int
	FocalPlaneResPerCM     float64 // pixels per centimetre on the sensor
	ExposureSec            float64
	FNumber                float64
	ISO                    int
	FlashKnown, FlashFired bool
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
// The pixels are always stored upright: Orientation is 1.
func (x *Info) tiff() []byte {
	ifd0 := []ifdEntry{
		shortEntry(0x0112, 1), // Orientation: top-left, the pixels are upright
		rationalEntry(0x011A, 72, 1),
		rationalEntry(0x011B, 72, 1),
		shortEntry(0x0128, 2), // ResolutionUnit: inch
	}
	exif := []ifdEntry{
		{0x9000, tiffUndefined, 4, []byte("0232")},
		shortEntry(0xA001, 1), // ColorSpace: sRGB
	}
	str := func(es *[]ifdEntry, tag uint16, s string) {
		if s != "" {
			*es = append(*es, asciiEntry(tag, s))
		}
	}
	str(&ifd0, 0x010F, x.Make)
	str(&ifd0, 0x0110, x.Model)
	str(&ifd0, 0x0131, x.Software)
	if !x.Taken.IsZero() {
		stamp := x.Taken.Format("2006:01:02 15:04:05")
		ifd0 = append(ifd0, asciiEntry(0x0132, stamp))
		exif = append(exif, asciiEntry(0x9003, stamp), asciiEntry(0x9004, stamp))
	}
	if x.ExposureSec > 0 && !math.IsInf(x.ExposureSec, 0) {
		expo := ifdEntry{0x829A, tiffRational, 1, nil}
		// ExposureTime as 1/n s when shorter than a second, as cameras write it.
		if x.ExposureSec < 1 {
			expo.data = le.AppendUint32(le.AppendUint32(nil, 1), uint32(math.Round(1/x.ExposureSec)))
		} else {
			expo.data = le.AppendUint32(le.AppendUint32(nil, uint32(math.Round(min(x.ExposureSec, 1e8)*10))), 10)
		}
		exif = append(exif, expo)
	}
	if x.FNumber > 0 {
		exif = append(exif, rationalEntry(0x829D, x.FNumber, 10))
	}
	if x.ISO > 0 {
		exif = append(exif, shortEntry(0x8827, uint16(min(x.ISO, math.MaxUint16))))
	}
	if x.FocalMM > 0 {
		exif = append(exif, rationalEntry(0x920A, x.FocalMM, 1000))
	}
	if x.Width > 0 && x.Height > 0 {
		exif = append(exif, longEntry(0xA002, uint32(x.Width)), longEntry(0xA003, uint32(x.Height)))
	}
	if x.FocalPlaneResPerCM > 0 {
		exif = append(exif, rationalEntry(0xA20E, x.FocalPlaneResPerCM, 1000), rationalEntry(0xA20F, x.FocalPlaneResPerCM, 1000),
			shortEntry(0xA210, 3)) // FocalPlaneResolutionUnit: centimetre
	}
	if x.Focal35 > 0 {
		exif = append(exif, shortEntry(0xA405, uint16(min(x.Focal35, math.MaxUint16))))
	}
	if x.FlashKnown {
		flash := uint16(0x10) // did not fire, compulsory suppression
		if x.FlashFired {
			flash = 0x01
		}
		exif = append(exif, shortEntry(0x9209, flash))
	}
	ifd0 = append(ifd0, longEntry(0x8769, 0)) // ExifIFDPointer, patched below
	b := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	exifOff := 8 + ifdSize(ifd0)
	ifd0[len(ifd0)-1] = longEntry(0x8769, uint32(exifOff))
	b = writeIFD(b, 8, ifd0)
	return writeIFD(b, exifOff, exif)
}

// Encode writes img as a baseline JPEG of the given quality (1–100) with
// x's EXIF APP1 segment right after the start-of-image marker, where
// readers expect it.
func Encode(w io.Writer, img image.Image, quality int, x *Info) error {
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
