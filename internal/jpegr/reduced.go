package jpegr

import (
	"image"
	"io"
)

// Reduced is a JPEG decoded at half size: what a photo checker needs from a
// large photo, at a fraction of a full decode's time and memory.
type Reduced struct {
	// Width and Height are the full size from the SOF header.
	Width, Height int
	// Y is the luma at ⌈Width/2⌉×⌈Height/2⌉: each sample is the mean of
	// the 2×2 full-size samples it covers (with the encoder's padding at
	// an odd width or height), typically within a level of box-filtering
	// image/jpeg's output, a few levels where image/jpeg clamps ringing.
	Y *image.Gray
	// MeanY is the mean luma of the full image, 0..255.
	MeanY float64
	// MeanCb and MeanCr are the mean chroma, 0..255, 128 being neutral. They
	// are 128 for greyscale images and for colour images that have no
	// chroma scan.
	MeanCb, MeanCr float64
}

// DecodeReduced decodes a baseline or progressive JPEG with 1 (greyscale) or
// 3 (YCbCr) components at half size. It returns ErrUnsupported for CMYK,
// YCCK and RGB images, which image/jpeg can decode instead. Other errors are
// those image/jpeg would return; like image/jpeg, it allocates memory in
// proportion to the dimensions in the header, so check them with
// DecodeConfig first when the input is untrusted.
func DecodeReduced(r io.Reader) (*Reduced, error) {
	var d decoder
	if err := d.decode(r, false); err != nil {
		return nil, err
	}
	red := &Reduced{
		Width:  d.width,
		Height: d.height,
		Y:      d.y,
		MeanY:  fullMean(d.y, d.width, d.height),
		MeanCb: 128,
		MeanCr: 128,
	}
	if d.nComp == 3 {
		red.MeanCb = d.meanChroma(0)
		red.MeanCr = d.meanChroma(1)
	}
	return red, nil
}

// meanChroma returns the mean sample of chroma component 1+i (0 for Cb, 1
// for Cr), or 128 if none was decoded.
func (d *decoder) meanChroma(i int) float64 {
	if d.chromaSamples[i] == 0 {
		return 128
	}
	return 128 + d.chromaSum[i]/float64(d.chromaSamples[i])
}

// fullMean returns the mean of the full-size width×height image whose
// half-size version is y. A half-size sample stands for 2×2 full-size ones,
// except in the last column or row of an odd width or height, where it
// stands for only 2 (or 1), so it is weighted accordingly: the result is
// then the mean of the full image (up to rounding and clamping), not that
// of the half-size one.
func fullMean(y *image.Gray, width, height int) float64 {
	if width == 0 || height == 0 {
		return 0
	}
	w, h := y.Rect.Dx(), y.Rect.Dy()
	var total uint64
	for j := range h {
		row := y.Pix[j*y.Stride : j*y.Stride+w]
		var sum uint64
		for _, v := range row {
			sum += uint64(v)
		}
		sum *= 2
		if width%2 != 0 {
			sum -= uint64(row[w-1]) // The last sample covers one column.
		}
		if j == h-1 && height%2 != 0 {
			total += sum // The last row covers one full-size row.
		} else {
			total += 2 * sum
		}
	}
	return float64(total) / float64(width*height)
}
