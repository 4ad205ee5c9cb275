package jpegexif

import (
	"bytes"
	"image"
	"image/jpeg"
	"testing"
	"time"

	"github.com/rwcarlsen/goexif/exif"
)

func encode(t *testing.T, x *Info) []byte {
	t.Helper()
	var buf bytes.Buffer
	img := image.NewGray(image.Rect(0, 0, 64, 48))
	if err := Encode(&buf, img, 90, x); err != nil {
		t.Fatal(err)
	}
	if _, err := jpeg.Decode(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	return buf.Bytes()
}

func TestEncodeReadsBack(t *testing.T) {
	taken := time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)
	b := encode(t, &Info{Make: "Apple", Model: "iPhone 7", Taken: taken, Width: 64, Height: 48, FocalMM: 3.99, Focal35: 28,
		ExposureSec: 1.0 / 120, FNumber: 1.8, ISO: 40, FlashKnown: true})
	x, err := exif.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	str := func(f exif.FieldName) string {
		tag, err := x.Get(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		s, _ := tag.StringVal()
		return s
	}
	num := func(f exif.FieldName) int {
		tag, err := x.Get(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		v, _ := tag.Int(0)
		return v
	}
	if str(exif.Make) != "Apple" || str(exif.Model) != "iPhone 7" || num(exif.FocalLengthIn35mmFilm) != 28 || num(exif.Orientation) != 1 || num(exif.ISOSpeedRatings) != 40 {
		t.Errorf("fields read back wrong")
	}
	if got, err := x.DateTime(); err != nil || !got.Equal(taken) {
		t.Errorf("DateTime %v, %v", got, err)
	}
	if _, err := x.Get(exif.GPSInfoIFDPointer); err == nil {
		t.Errorf("a GPS pointer was written")
	}
}

func TestEncodeEmptyInfo(t *testing.T) {
	b := encode(t, &Info{})
	x, err := exif.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []exif.FieldName{exif.Make, exif.FocalLengthIn35mmFilm, exif.ExposureTime, exif.DateTime} {
		if _, err := x.Get(f); err == nil {
			t.Errorf("%s written for a zero Info", f)
		}
	}
}
