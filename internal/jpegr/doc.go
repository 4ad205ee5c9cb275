// Package jpegr decodes a JPEG at half size for the photo checker, which
// only needs a small greyscale working image and the mean colour of each
// photo. Compared with decoding with image/jpeg and shrinking afterwards, it
// skips the full-size inverse DCT of every block and the full-size planes:
// luma blocks go straight to 4x4 samples and chroma blocks only contribute
// to the means. Entropy decoding, which is now most of the time, and its
// validation are unchanged.
//
// # Fork
//
// reader.go, huffman.go, scan.go and dct.go are forked from the decoder of
// Go 1.26.8's image/jpeg (src/image/jpeg), under the Go Authors' BSD-style
// licence in this directory's LICENSE file; the encoder and the tests are
// not. What changed:
//
//   - huffman.go: nothing but the package name.
//   - scan.go: reconstructBlock no longer writes 8x8 samples of every
//     component. It turns a luma block into 4x4 half-size samples with
//     idct4x4, and it only adds a chroma block's mean (from its DC
//     coefficient, or for edge blocks from partialMean) to a running sum,
//     so it can no longer fail. makeImg, which allocated full-size Y, Cb,
//     Cr (and K) planes, became makeLuma, which allocates the half-size
//     luma plane only. Entropy decoding, restart markers, the progressive
//     coefficient store and every check are unchanged.
//   - dct.go: the forward DCT and Loeffler's 8x8 inverse DCT are gone; the
//     reduced 4x4 inverse DCT (idct4x4, foldedScale) and partialMean took
//     their place.
//   - reader.go: decode fills the decoder instead of returning an image.
//     It returns ErrUnsupported for 4-component images as soon as it reads
//     their frame header, and for RGB ones at the end, where image/jpeg
//     converted them (applyBlack, convertToRGB, now removed). processDQT
//     also precomputes the luma multipliers for idct4x4. Decode, the
//     deprecated Reader interface and the registration with package image
//     are removed: this package must not take over image.Decode's "jpeg"
//     format from image/jpeg. DecodeConfig is unchanged.
//   - reduced.go, with Reduced and DecodeReduced, is new.
//
// The fork keeps image/jpeg's limits and behaviour on corrupt input: for
// greyscale and YCbCr files it fails exactly when, and with the same error
// as, image/jpeg, and like image/jpeg it allocates in proportion to the
// dimensions in the frame header (a quarter of the luma plane instead of
// all planes), so callers should check DecodeConfig's size on untrusted
// input first.
package jpegr
