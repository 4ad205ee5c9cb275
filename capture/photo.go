package capture

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/disintegration/imaging"

	"github.com/replica3d/replica/internal/jpegr"
)

// WorkSize is the long side in pixels of Photo.Work, the working copy the
// checks look at. 1024 px keeps the sharpness, exposure and overlap checks
// meaningful while a photo costs only 1 MB of memory.
const WorkSize = 1024

// halfDecodeMin is the long side from which a JPEG is decoded at half
// size. Its working copy is then averaged from half-size pixels, which a
// box edge may split: from 3·WorkSize a box spans at least 1.5 of them, and
// the working copy stays within a level of the full decode's.
const halfDecodeMin = 3 * WorkSize

// ThumbSize is the long side in pixels of Photo.Thumb.
const ThumbSize = 64

// MaxFileSize is the largest photo file read, in bytes.
const MaxFileSize = 256 << 20

// MaxPixels is the largest photo accepted, in pixels (width × height), about
// a 120-megapixel camera. Decoding a JPEG that large takes 180 to 360 MB of
// memory (baseline, 4:2:0 to 4:4:4), up to 1.8 GB when progressive (image/jpeg
// keeps every DCT coefficient).
const MaxPixels = 120_000_000

// pixelLimit is the pixel limit in force: MaxPixels, lowered by the fuzz
// tests so that each input decodes quickly.
var pixelLimit = MaxPixels

// FocalSource says where Photo.FocalPx came from.
type FocalSource string

// Sources of the focal length, best first.
const (
	// FocalEXIF35mm is the EXIF 35 mm equivalent focal length f35, which
	// CIPA DC-008-2019 §4.6.5 (tag 41989) defines on the diagonal:
	// f_px = f35 · hypot(W, H) / hypot(36 mm, 24 mm).
	FocalEXIF35mm FocalSource = "exif-35mm"
	// FocalEXIFFocalPlane is the EXIF focal length in mm times the sensor's
	// pixel density from FocalPlaneXResolution, scaled from PixelXDimension
	// to the photo's width.
	FocalEXIFFocalPlane FocalSource = "exif-focal-plane"
	// FocalFallback is a guess, 1.2 × the long side (a 45° field of view
	// across it, a typical phone or kit lens); the photo carries a warning.
	FocalFallback FocalSource = "fallback"
)

// fallbackFocal is the focal length in long sides used when the EXIF has
// none: 2·atan(1/(2·1.2)) ≈ 45° across the long side.
const fallbackFocal = 1.2

// diag35mm is the diagonal of a 36 × 24 mm film frame in mm.
var diag35mm = math.Hypot(36, 24)

// A Photo is one photo of a capture, read and reduced for the checks.
type Photo struct {
	Path string // the file it was read from; "" for DecodePhoto
	Name string // its base name, as shown to the user

	// Width and Height are the full size in pixels, upright: after the
	// EXIF orientation, so they are swapped for orientations 5 to 8.
	Width, Height int

	EXIF     EXIF     // what the camera wrote; defaults when HasEXIF is false
	HasEXIF  bool     // the photo has EXIF that could be read, at least in part
	Warnings []string // problems that did not stop the photo from loading

	// FocalPx is the focal length in pixels of the full-size upright photo;
	// FocalSource says where it came from.
	FocalPx     float64
	FocalSource FocalSource

	// Work is the photo's luma (gamma-encoded, as in the JPEG) at working
	// size, upright: its long side is WorkSize pixels, or the photo's own
	// size when that is smaller. Each pixel is the mean of the full-size
	// pixels it covers.
	Work *image.Gray
	// WorkScale is Work's size over the full size (working pixels per full
	// pixel, at most 1).
	WorkScale float64
	// MeanRGB is the photo's mean sRGB colour, each channel 0 to 1, for
	// comparing white balance between photos.
	MeanRGB [3]float64
	// Thumb is Work reduced to ThumbSize pixels on the long side, for
	// finding near-duplicate photos.
	Thumb *image.Gray
}

// Errors a PhotoError unwraps to, besides the decoders' errors (a truncated
// file unwraps to io.ErrUnexpectedEOF) and the file system's.
var (
	// ErrNotPhoto means the file is empty, not a JPEG or PNG, or has no pixels.
	ErrNotPhoto = errors.New("not a JPEG or PNG photo")
	// ErrTooLarge means the file passes MaxFileSize, the image MaxPixels, or the
	// JPEG has too many scans.
	ErrTooLarge = errors.New("photo too large")
)

// A PhotoError is why a photo could not be read.
type PhotoError struct {
	Name   string // the photo's file name
	Reason string // what went wrong, for the user: "truncated JPEG (unexpected EOF)"
	Err    error  // the cause, for errors.Is and errors.As
}

// Error is the name and the reason: "IMG_0012.JPG: truncated JPEG (unexpected EOF)".
func (e *PhotoError) Error() string { return e.Name + ": " + e.Reason }

// Unwrap returns the cause.
func (e *PhotoError) Unwrap() error { return e.Err }

// LoadPhoto reads the JPEG or PNG photo at path. A photo the checks cannot
// use gives a *PhotoError; EXIF problems only add to Photo.Warnings.
//
// It reads at most MaxFileSize bytes and refuses an image of more than
// MaxPixels from its header, before decoding. It never decodes into RGBA or
// turns the full image: it averages the decoded pixels into Work first, then
// turns that upright (about 10 % on top of image/jpeg's decoding time).
func LoadPhoto(path string) (*Photo, error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, &PhotoError{Name: name, Reason: "cannot open: " + pathErrReason(err), Err: err}
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil {
		switch {
		case fi.IsDir():
			return nil, &PhotoError{Name: name, Reason: "is a folder, not a photo", Err: ErrNotPhoto}
		case fi.Size() > MaxFileSize:
			return nil, tooLargeFile(name)
		}
		size = fi.Size()
	}
	b, err := readPhoto(f, name, size)
	if err != nil {
		return nil, err
	}
	p, err := decodePhoto(b, name)
	if err != nil {
		return nil, err
	}
	p.Path = path
	return p, nil
}

// DecodePhoto reads a JPEG or PNG photo from r, as LoadPhoto. name is the
// photo's file name, for Photo.Name and errors.
func DecodePhoto(r io.Reader, name string) (*Photo, error) {
	b, err := readPhoto(r, name, 0)
	if err != nil {
		return nil, err
	}
	return decodePhoto(b, name)
}

// pathErrReason is err's message without the path, which the PhotoError
// names already.
func pathErrReason(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

func tooLargeFile(name string) error {
	return &PhotoError{Name: name, Reason: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20), Err: ErrTooLarge}
}

// readPhoto reads all of r, at most MaxFileSize bytes; size, when known, is
// its length. It stops after the first bytes when they are not those of a
// JPEG or PNG file.
func readPhoto(r io.Reader, name string, size int64) ([]byte, error) {
	var buf bytes.Buffer
	if size > 0 && size <= MaxFileSize {
		buf.Grow(int(size) + bytes.MinRead)
	}
	readErr := func(err error) error {
		return &PhotoError{Name: name, Reason: "cannot read: " + pathErrReason(err), Err: err}
	}
	if _, err := io.CopyN(&buf, r, int64(len(pngMagic))); err != nil && err != io.EOF {
		return nil, readErr(err)
	}
	if buf.Len() == 0 || sniff(buf.Bytes()) == "" {
		return buf.Bytes(), nil // decodePhoto says what is wrong
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, MaxFileSize+1-int64(buf.Len()))); err != nil {
		return nil, readErr(err)
	}
	if buf.Len() > MaxFileSize {
		return nil, tooLargeFile(name)
	}
	return buf.Bytes(), nil
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF} // SOI and the first byte of the next marker
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// sniff returns the format of a file that starts with b: "JPEG", "PNG" or
// "" for neither.
func sniff(b []byte) string {
	switch {
	case bytes.HasPrefix(b, jpegMagic):
		return "JPEG"
	case bytes.HasPrefix(b, pngMagic):
		return "PNG"
	}
	return ""
}

// maxJPEGScans bounds the scans of a progressive JPEG. Each scan passes over
// the whole image, so a small file of thousands of tiny scans would take
// minutes to decode; cameras write 1 scan, progressive encoders about 10.
const maxJPEGScans = 256

// decodePhoto decodes the photo file b.
func decodePhoto(b []byte, name string) (*Photo, error) {
	fail := func(reason string, err error) (*Photo, error) {
		return nil, &PhotoError{Name: name, Reason: reason, Err: err}
	}
	var (
		format       string
		decodeConfig func(io.Reader) (image.Config, error)
		decode       func(io.Reader) (image.Image, error)
		rawEXIF      []byte
		warnings     []string
	)
	switch format = sniff(b); {
	case len(b) == 0:
		return fail("empty file (0 bytes)", ErrNotPhoto)
	case format == "JPEG":
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
		rawEXIF = jpegEXIF(b)
		// Markers cannot hide in entropy-coded data (ITU T.81 §B.1.1.5), so
		// this counts the scans, and those of an EXIF thumbnail.
		if n := bytes.Count(b, []byte{0xFF, 0xDA}); n > maxJPEGScans {
			return fail(fmt.Sprintf("JPEG has %d scans; at most %d are accepted", n, maxJPEGScans), ErrTooLarge)
		}
	case format == "PNG":
		decodeConfig, decode = png.DecodeConfig, png.Decode
		var tooLarge bool
		if rawEXIF, tooLarge = pngEXIF(b); tooLarge {
			warnings = append(warnings, fmt.Sprintf("EXIF ignored: larger than %d KiB", maxEXIFSize>>10))
		}
	default:
		return fail("not a JPEG or PNG photo", ErrNotPhoto)
	}

	// The header first: refuse a huge image before allocating it.
	cfg, err := decodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, decodeError(name, format, err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return fail(fmt.Sprintf("%s header says the image is %d×%d pixels", format, w, h), ErrNotPhoto)
	}
	if int64(w)*int64(h) > int64(pixelLimit) {
		return fail(fmt.Sprintf("image is %d×%d pixels (%.0f MP); at most %.0f MP is accepted",
			w, h, float64(w)*float64(h)/1e6, float64(pixelLimit)/1e6), ErrTooLarge)
	}

	p := &Photo{Name: name, EXIF: EXIF{Orientation: 1}, Warnings: warnings}
	if rawEXIF != nil {
		x, warns, err := parseEXIF(rawEXIF)
		p.EXIF, p.HasEXIF = x, err == nil
		p.Warnings = append(p.Warnings, warns...)
		if err != nil {
			p.Warnings = append(p.Warnings, "EXIF ignored: "+err.Error())
		}
	}

	if format == "JPEG" && max(w, h) >= halfDecodeMin {
		// Large JPEGs are decoded at half size: the working copy needs no
		// more, and it takes 40 % less time than a full decode. Anything
		// the reduced decoder turns down (CMYK, or an error) goes through
		// image/jpeg, so errors read the same either way.
		if red, err := jpegr.DecodeReduced(bytes.NewReader(b)); err == nil && red.Width == w && red.Height == h {
			p.reduceHalf(red)
			p.setFocal(w)
			return p, nil
		}
	}
	img, err := decode(bytes.NewReader(b))
	if err != nil {
		return nil, decodeError(name, format, err)
	}
	if r := img.Bounds(); r.Dx() != w || r.Dy() != h {
		return fail(fmt.Sprintf("%s decoded to %d×%d pixels, its header says %d×%d", format, r.Dx(), r.Dy(), w, h), ErrNotPhoto)
	}
	p.reduce(img)
	p.setFocal(w)
	return p, nil
}

// decodeError is the PhotoError for a decoder's error err.
func decodeError(name, format string, err error) error {
	if truncated(err) {
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w (%w)", io.ErrUnexpectedEOF, err)
		}
		return &PhotoError{Name: name, Reason: "truncated " + format + " (unexpected EOF)", Err: err}
	}
	// The decoders' messages without their "invalid JPEG format: " prefixes.
	reason := "corrupt " + format + " (" + err.Error() + ")"
	if e, ok := errors.AsType[jpeg.FormatError](err); ok {
		reason = "corrupt " + format + " (" + string(e) + ")"
	} else if e, ok := errors.AsType[png.FormatError](err); ok {
		reason = "corrupt " + format + " (" + string(e) + ")"
	} else if e, ok := errors.AsType[jpeg.UnsupportedError](err); ok {
		reason = "unsupported " + format + " (" + string(e) + ")"
	} else if e, ok := errors.AsType[png.UnsupportedError](err); ok {
		reason = "unsupported " + format + " (" + string(e) + ")"
	}
	return &PhotoError{Name: name, Reason: reason, Err: err}
}

// truncated reports whether a decoder's error means its input ended early.
// image/jpeg reports the end of the data inside a scan as "short Huffman
// data", image/png inside the pixel data as "unexpected EOF" or "not enough
// pixel data".
func truncated(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return true
	}
	if e, ok := errors.AsType[jpeg.FormatError](err); ok {
		return e == "short Huffman data"
	}
	if e, ok := errors.AsType[png.FormatError](err); ok {
		return e == "unexpected EOF" || e == "not enough pixel data"
	}
	return false
}

// reduce sets the size, Work, WorkScale, MeanRGB and Thumb from the decoded
// full-size image, which it never copies or rotates: it averages the pixels
// into the working size first, then turns the small image upright.
func (p *Photo) reduce(img image.Image) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	long := max(w, h)
	wl := min(long, WorkSize)
	ww, wh := scaleSide(w, long, wl), scaleSide(h, long, wl)

	var g *image.Gray
	switch m := img.(type) {
	case *image.YCbCr: // colour JPEG
		var y float64
		g, y = downsamplePlane(m.Y[m.YOffset(r.Min.X, r.Min.Y):], m.YStride, w, h, ww, wh)
		p.MeanRGB = ycbcrMean(m, y)
	case *image.Gray: // greyscale JPEG or PNG
		var y float64
		g, y = downsamplePlane(m.Pix[m.PixOffset(r.Min.X, r.Min.Y):], m.Stride, w, h, ww, wh)
		p.MeanRGB = [3]float64{y / 255, y / 255, y / 255}
	default:
		g, p.MeanRGB = downsampleRGB(img, ww, wh)
	}

	p.finish(g, w, h)
}

// reduceHalf is reduce for a JPEG decoded at half size: its luma is
// averaged down to the working size, and its colour comes from the means.
func (p *Photo) reduceHalf(red *jpegr.Reduced) {
	w, h := red.Width, red.Height
	long := max(w, h)
	wl := min(long, WorkSize)
	ww, wh := scaleSide(w, long, wl), scaleSide(h, long, wl)
	g := downsampleHalf(red.Y, w, h, ww, wh)
	p.MeanRGB = meanRGB(red.MeanY, red.MeanCb-128, red.MeanCr-128)
	p.finish(g, w, h)
}

// finish turns the working copy g of a w×h photo upright and sets the
// sizes, the scale and the thumbnail.
func (p *Photo) finish(g *image.Gray, w, h int) {
	long := max(w, h)
	wl := min(long, WorkSize)
	o := p.EXIF.Orientation
	p.Work = orientGray(g, o)
	p.Width, p.Height = w, h
	if o >= 5 && o <= 8 {
		p.Width, p.Height = h, w
	}
	p.WorkScale = float64(wl) / float64(long)
	tw, th := p.Work.Rect.Dx(), p.Work.Rect.Dy()
	tl := max(tw, th)
	ts := min(tl, ThumbSize)
	p.Thumb, _ = downsamplePlane(p.Work.Pix, p.Work.Stride, tw, th, scaleSide(tw, tl, ts), scaleSide(th, tl, ts))
}

// scaleSide is side n of an image whose long side goes from long to to
// pixels, at least 1.
func scaleSide(n, long, to int) int {
	return max(1, int((int64(n)*int64(to)+int64(long)/2)/int64(long)))
}

// boxEdges splits n source pixels into m boxes (m ≤ n): box i covers source
// pixels e[i] to e[i+1]-1, and all boxes are ⌊n/m⌋ or ⌈n/m⌉ wide.
func boxEdges(n, m int) []int {
	e := make([]int, m+1)
	for i := range e {
		e[i] = int(int64(i) * int64(n) / int64(m))
	}
	return e
}

// downsamplePlane reduces the w×h 8-bit plane pix (rows stride bytes apart)
// to ww×wh by area averaging (a box filter: each output pixel is the
// rounded mean of the source pixels it covers). It also returns the mean of
// the whole plane. Each band of source rows is summed down the columns
// first, then across each box: one add per source pixel in a loop the
// compiler keeps tight.
func downsamplePlane(pix []byte, stride, w, h, ww, wh int) (*image.Gray, float64) {
	xe, ye := boxEdges(w, ww), boxEdges(h, wh)
	dst := image.NewGray(image.Rect(0, 0, ww, wh))
	// A box holds at most (w/ww+1)·(h/wh+1) pixels of 255; with MaxPixels
	// that stays far below 2³².
	col := make([]uint32, w)
	var total uint64
	for oy := range wh {
		for x, v := range pix[ye[oy]*stride:][:w] {
			col[x] = uint32(v)
		}
		for sy := ye[oy] + 1; sy < ye[oy+1]; sy++ {
			row := pix[sy*stride:][:w]
			col := col[:len(row)]
			for x, v := range row {
				col[x] += uint32(v)
			}
		}
		bh := uint32(ye[oy+1] - ye[oy])
		drow := dst.Pix[oy*dst.Stride:][:ww]
		for ox := range drow {
			var s uint32
			for _, v := range col[xe[ox]:xe[ox+1]] {
				s += v
			}
			n := uint32(xe[ox+1]-xe[ox]) * bh
			drow[ox] = uint8((s + n/2) / n)
			total += uint64(s)
		}
	}
	return dst, float64(total) / (float64(w) * float64(h))
}

// downsampleHalf reduces y, the half-size version of a w×h plane (each of
// its pixels the mean of 2×2 full-size ones), to ww×wh with the same boxes
// downsamplePlane takes on the full-size plane: a box edge that splits a
// half-size pixel takes half of it. The result is then the full-size box
// filter's, up to rounding; boxes of whole half-size pixels instead would
// be 2 or 4 full pixels wide where the full-size ones are 3 or 4, and
// differ by 2 to 3 levels on fine texture.
func downsampleHalf(y *image.Gray, w, h, ww, wh int) *image.Gray {
	xe, ye := boxEdges(w, ww), boxEdges(h, wh)
	hw, hh := y.Rect.Dx(), y.Rect.Dy()
	dst := image.NewGray(image.Rect(0, 0, ww, wh))
	// overlap is how many full-size pixels of [a, b) half-size pixel k covers.
	overlap := func(k, a, b int) uint32 {
		return uint32(max(0, min(2*k+2, b)-max(2*k, a)))
	}
	col := make([]uint32, hw)
	for oy := range wh {
		a, b := ye[oy], ye[oy+1]
		clear(col)
		for k := a / 2; k < min((b+1)/2, hh); k++ {
			wy := overlap(k, a, b)
			row := y.Pix[k*y.Stride:][:hw]
			col := col[:len(row)]
			for x, v := range row {
				col[x] += wy * uint32(v)
			}
		}
		drow := dst.Pix[oy*dst.Stride:][:ww]
		for ox := range drow {
			c, d := xe[ox], xe[ox+1]
			var s uint32
			for k := c / 2; k < min((d+1)/2, hw); k++ {
				s += overlap(k, c, d) * col[k]
			}
			n := uint32((d - c) * (b - a))
			drow[ox] = uint8((s + n/2) / n)
		}
	}
	return dst
}

// ycbcrMean is the mean sRGB colour of m, whose mean luma is y (0 to 255):
// the colour of the mean Y, Cb and Cr, which equals the mean of the pixels'
// colours wherever none of them clips, as YCbCr to RGB is affine (JFIF 1.02
// §7). Each chroma sample weighs the same.
func ycbcrMean(m *image.YCbCr, y float64) [3]float64 {
	fx, fy := 1, 1
	switch m.SubsampleRatio {
	case image.YCbCrSubsampleRatio422:
		fx = 2
	case image.YCbCrSubsampleRatio420:
		fx, fy = 2, 2
	case image.YCbCrSubsampleRatio440:
		fy = 2
	case image.YCbCrSubsampleRatio411:
		fx = 4
	case image.YCbCrSubsampleRatio410:
		fx, fy = 4, 2
	}
	r := m.Rect
	cw := (r.Max.X+fx-1)/fx - r.Min.X/fx
	ch := (r.Max.Y+fy-1)/fy - r.Min.Y/fy
	var sb, sr uint64
	for cy := range ch {
		sb += sumBytes(m.Cb[cy*m.CStride:][:cw])
		sr += sumBytes(m.Cr[cy*m.CStride:][:cw])
	}
	n := float64(cw) * float64(ch)
	return meanRGB(y, float64(sb)/n-128, float64(sr)/n-128)
}

// meanRGB is the sRGB colour, in [0, 1], of mean luma y (0 to 255) and mean
// chroma cb and cr (centred on 0).
func meanRGB(y, cb, cr float64) [3]float64 {
	return [3]float64{
		clamp01((y + 1.402*cr) / 255),
		clamp01((y - 0.344136*cb - 0.714136*cr) / 255),
		clamp01((y + 1.772*cb) / 255),
	}
}

// sumBytes is the sum of b, four bytes at a time.
func sumBytes(b []byte) uint64 {
	var s0, s1, s2, s3 uint64
	for len(b) >= 4 {
		s0 += uint64(b[0])
		s1 += uint64(b[1])
		s2 += uint64(b[2])
		s3 += uint64(b[3])
		b = b[4:]
	}
	for _, v := range b {
		s0 += uint64(v)
	}
	return s0 + s1 + s2 + s3
}

func clamp01(v float64) float64 { return min(1, max(0, v)) }

// downsampleRGB is downsamplePlane for any image: it reduces img's colour
// to ww×wh by area averaging and returns the luma of the result (ITU-R
// BT.601 weights, as color.GrayModel and JPEG's Y) and the mean colour. Transparent
// pixels count as black, as in color.Color's RGBA.
func downsampleRGB(img image.Image, ww, wh int) (*image.Gray, [3]float64) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	xe, ye := boxEdges(w, ww), boxEdges(h, wh)
	dst := image.NewGray(image.Rect(0, 0, ww, wh))
	row := make([]uint32, 3*w) // 16-bit R, G, B of one source row
	fill := rowFiller(img)
	acc := make([]uint64, 3*ww)
	var total [3]uint64
	for oy := range wh {
		clear(acc)
		for sy := ye[oy]; sy < ye[oy+1]; sy++ {
			fill(row, r.Min.Y+sy)
			for ox := range ww {
				var sr, sg, sb uint64
				for i := 3 * xe[ox]; i < 3*xe[ox+1]; i += 3 {
					sr += uint64(row[i])
					sg += uint64(row[i+1])
					sb += uint64(row[i+2])
				}
				acc[3*ox] += sr
				acc[3*ox+1] += sg
				acc[3*ox+2] += sb
			}
		}
		bh := uint64(ye[oy+1] - ye[oy])
		drow := dst.Pix[oy*dst.Stride:][:ww]
		for ox := range drow {
			n := uint64(xe[ox+1]-xe[ox]) * bh
			cr, cg, cb := (acc[3*ox]+n/2)/n, (acc[3*ox+1]+n/2)/n, (acc[3*ox+2]+n/2)/n
			y16 := (19595*cr + 38470*cg + 7471*cb + 1<<15) >> 16
			drow[ox] = uint8((y16*255 + 0xFFFF/2) / 0xFFFF) // rounded, not truncated as color.GrayModel
			total[0] += acc[3*ox]
			total[1] += acc[3*ox+1]
			total[2] += acc[3*ox+2]
		}
	}
	n := float64(w) * float64(h) * 0xFFFF
	return dst, [3]float64{float64(total[0]) / n, float64(total[1]) / n, float64(total[2]) / n}
}

// rowFiller returns a function that writes the 16-bit premultiplied R, G, B
// of row y of img into row, with fast paths for the types PNG decodes to.
func rowFiller(img image.Image) func(row []uint32, y int) {
	r := img.Bounds()
	w := r.Dx()
	switch m := img.(type) {
	case *image.RGBA:
		return func(row []uint32, y int) {
			s := m.Pix[m.PixOffset(r.Min.X, y):][:4*w]
			for x := range w {
				row[3*x] = uint32(s[4*x]) * 0x101
				row[3*x+1] = uint32(s[4*x+1]) * 0x101
				row[3*x+2] = uint32(s[4*x+2]) * 0x101
			}
		}
	case *image.NRGBA:
		return func(row []uint32, y int) {
			s := m.Pix[m.PixOffset(r.Min.X, y):][:4*w]
			for x := range w {
				a := uint32(s[4*x+3]) * 0x101
				row[3*x] = uint32(s[4*x]) * 0x101 * a / 0xFFFF
				row[3*x+1] = uint32(s[4*x+1]) * 0x101 * a / 0xFFFF
				row[3*x+2] = uint32(s[4*x+2]) * 0x101 * a / 0xFFFF
			}
		}
	case *image.Paletted:
		pal := make([][3]uint32, 256)
		for i := range pal {
			c := color.Color(color.Black) // out-of-palette indices, as Paletted.At
			if i < len(m.Palette) {
				c = m.Palette[i]
			}
			cr, cg, cb, _ := c.RGBA()
			pal[i] = [3]uint32{cr, cg, cb}
		}
		return func(row []uint32, y int) {
			s := m.Pix[m.PixOffset(r.Min.X, y):][:w]
			for x, i := range s {
				copy(row[3*x:3*x+3], pal[i][:])
			}
		}
	case *image.CMYK: // Adobe CMYK JPEG
		return func(row []uint32, y int) {
			s := m.Pix[m.PixOffset(r.Min.X, y):][:4*w]
			for x := range w {
				cr, cg, cb := color.CMYKToRGB(s[4*x], s[4*x+1], s[4*x+2], s[4*x+3])
				row[3*x], row[3*x+1], row[3*x+2] = uint32(cr)*0x101, uint32(cg)*0x101, uint32(cb)*0x101
			}
		}
	}
	return func(row []uint32, y int) {
		for x := range w {
			cr, cg, cb, _ := img.At(r.Min.X+x, y).RGBA()
			row[3*x], row[3*x+1], row[3*x+2] = cr, cg, cb
		}
	}
}

// orientGray returns g turned upright for EXIF orientation o (see
// EXIF.Orientation): g itself for 1 and values outside 1 to 8.
//
// Stored pixel (x, y) of a w×h image goes to (x', y') of the upright one:
//
//	2: (w-1-x, y)      3: (w-1-x, h-1-y)   4: (x, h-1-y)
//	5: (y, x)          6: (h-1-y, x)       7: (h-1-y, w-1-x)   8: (y, w-1-x)
//
// Each is an affine map of the destination index start + x·ax + y·ay.
func orientGray(g *image.Gray, o int) *image.Gray {
	if o < 2 || o > 8 {
		return g
	}
	w, h := g.Rect.Dx(), g.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	var start, ax, ay int
	switch o {
	case 2:
		start, ax, ay = w-1, -1, dw
	case 3:
		start, ax, ay = (h-1)*dw+w-1, -1, -dw
	case 4:
		start, ax, ay = (h-1)*dw, 1, -dw
	case 5:
		start, ax, ay = 0, dw, 1
	case 6:
		start, ax, ay = h-1, dw, -1
	case 7:
		start, ax, ay = (w-1)*dw+h-1, -dw, -1
	case 8:
		start, ax, ay = (w-1)*dw, -dw, 1
	}
	d := image.NewGray(image.Rect(0, 0, dw, dh))
	for y := range h {
		i := start + y*ay
		for _, v := range g.Pix[y*g.Stride:][:w] {
			d.Pix[i] = v
			i += ax
		}
	}
	return d
}

// Orient returns img turned upright for EXIF orientation (see
// EXIF.Orientation), as a new image; img itself for 1 and values outside 1
// to 8. It works on the full-size image, for stages that need every pixel.
func Orient(img image.Image, orientation int) image.Image {
	switch orientation {
	case 2:
		return imaging.FlipH(img)
	case 3:
		return imaging.Rotate180(img)
	case 4:
		return imaging.FlipV(img)
	case 5:
		return imaging.Transpose(img)
	case 6:
		return imaging.Rotate270(img) // 270° counter-clockwise: 90° clockwise
	case 7:
		return imaging.Transverse(img)
	case 8:
		return imaging.Rotate90(img)
	}
	return img
}

// setFocal sets FocalPx and FocalSource from the EXIF, the best source
// first; storedWidth is the width of the image as stored (before
// orientation), which FocalPlaneXResolution refers to.
func (p *Photo) setFocal(storedWidth int) {
	x := &p.EXIF
	diag := math.Hypot(float64(p.Width), float64(p.Height))
	// Plausible focal lengths: from a 180° fisheye (0.1 diagonal, a 4 mm
	// 35 mm equivalent) to a 4000 mm equivalent telephoto (100 diagonals).
	plausible := func(f float64) bool { return f >= 0.1*diag && f <= 100*diag }
	if x.FocalLength35mm > 0 {
		if f := x.FocalLength35mm * diag / diag35mm; plausible(f) {
			p.FocalPx, p.FocalSource = f, FocalEXIF35mm
			return
		}
		p.warn("EXIF FocalLengthIn35mmFilm %g mm is implausible; ignored", x.FocalLength35mm)
	}
	if ppmm, ok := x.FocalPlanePxPerMM(); ok && x.FocalLengthMM > 0 {
		f := x.FocalLengthMM * ppmm
		if x.PixelXDimension > 0 {
			f *= float64(storedWidth) / float64(x.PixelXDimension) // resized since
		}
		if plausible(f) {
			p.FocalPx, p.FocalSource = f, FocalEXIFFocalPlane
			return
		}
		p.warn("EXIF FocalLength %g mm at FocalPlaneXResolution %g gives an implausible %.0f px; ignored",
			x.FocalLengthMM, x.FocalPlaneXResolution, f)
	}
	p.FocalPx, p.FocalSource = fallbackFocal*float64(max(p.Width, p.Height)), FocalFallback
	p.warn("no usable focal length in EXIF: assumed %.1f × the long side (%.0f px)", fallbackFocal, p.FocalPx)
}

func (p *Photo) warn(format string, args ...any) {
	p.Warnings = append(p.Warnings, fmt.Sprintf(format, args...))
}
