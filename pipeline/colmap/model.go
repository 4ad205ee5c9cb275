package colmap

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"
)

// A Camera is one set of intrinsics, shared by the images that name its ID.
type Camera struct {
	ID            uint32
	Model         string // COLMAP's model name, e.g. "SIMPLE_RADIAL"
	Width, Height int    // pixels
	Params        []float64
}

// An Image is a registered photo: its name relative to the image folder, its
// camera and its pose. The pose maps world to camera coordinates:
// x_cam = R(Q)·x_world + T, with Q a Hamilton quaternion (w, x, y, z).
// Its 2D keypoints are counted, not kept (a model can hold millions).
type Image struct {
	ID       uint32
	Name     string
	CameraID uint32
	Q        [4]float64 // w, x, y, z
	T        r3.Vec
	Points2D int // keypoints
	Observed int // keypoints that observe a 3D point of the model
}

// A Point3D is a triangulated point.
type Point3D struct {
	ID    uint64
	XYZ   r3.Vec
	RGB   [3]uint8
	Error float64 // mean reprojection error in pixels; negative when COLMAP has not computed it
	Track int     // number of images that observe it
	Seen  uint32  // the ID of the first image that observes it (0 for an empty track)
}

// A Model is a sparse reconstruction: the cameras, the registered images
// sorted by ID, and the 3D points sorted by ID.
type Model struct {
	Cameras map[uint32]*Camera
	Images  []*Image
	Points  []Point3D
}

// A FormatError reports a model file that is not a valid COLMAP binary file:
// truncated, inconsistent with itself or with the other files, or beyond one
// of the reader's limits.
type FormatError struct {
	File string // path of the file
	Msg  string // what is wrong and where, e.g. "image 3 of 12 at byte 1520: truncated"
	Err  error  // cause, or nil; io.ErrUnexpectedEOF for a truncated file
}

// Error returns "colmap: file: message", then ": cause" when there is one.
func (e *FormatError) Error() string {
	s := "colmap: " + e.File + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *FormatError) Unwrap() error { return e.Err }

// The files of a binary sparse model.
const (
	camerasFile = "cameras.bin"
	imagesFile  = "images.bin"
	pointsFile  = "points3D.bin"
)

// cameraModels are COLMAP's camera models, indexed by model id, with the
// number of parameters each stores (https://colmap.github.io/cameras.html;
// src/colmap/sensor/models.h).
var cameraModels = [...]struct {
	name   string
	params int
}{
	{"SIMPLE_PINHOLE", 3},
	{"PINHOLE", 4},
	{"SIMPLE_RADIAL", 4},
	{"RADIAL", 5},
	{"OPENCV", 8},
	{"OPENCV_FISHEYE", 8},
	{"FULL_OPENCV", 12},
	{"FOV", 5},
	{"SIMPLE_RADIAL_FISHEYE", 4},
	{"RADIAL_FISHEYE", 5},
	{"THIN_PRISM_FISHEYE", 12},
}

// Sizes in bytes of the records, or of their fixed part, in the binary
// format (https://colmap.github.io/format.html).
const (
	cameraHead   = 4 + 4 + 8 + 8       // camera_id, model_id, width, height
	minCamera    = cameraHead + 3*8    // with the fewest parameters (SIMPLE_PINHOLE)
	imageHead    = 4 + 4*8 + 3*8 + 4   // image_id, qw..qz, tx..tz, camera_id
	minImage     = imageHead + 2 + 8   // with a one-byte name and no keypoints
	keypointSize = 8 + 8 + 8           // x, y, point3D_id
	pointHead    = 8 + 3*8 + 3 + 8 + 8 // point3D_id, xyz, rgb, error, track_length
	trackElem    = 4 + 4               // image_id, point2D_idx
	countSize    = 8                   // every count is a uint64
	bufferSize   = 64 << 10            // read buffer; larger than any fixed record
	noPoint3D    = math.MaxUint64      // point3D_id of a keypoint that observes no point (−1 as int64)
	maxSide      = math.MaxInt32       // largest width or height, so that it fits an int everywhere
	maxNameBytes = 4096                // longest image name: Linux's PATH_MAX
)

// ReadModel reads the binary sparse model in dir: cameras.bin, images.bin
// and points3D.bin. Other files there, such as the rigs.bin and frames.bin
// of COLMAP 3.12 and later, are ignored. The error for a file that is not a
// valid model file is a *FormatError naming it; for a truncated file it
// wraps io.ErrUnexpectedEOF.
//
// Besides each file's layout, ReadModel checks that IDs are unique, that
// image names are unique, that every image's camera exists, and that every
// coordinate is finite. It does not check tracks against the images'
// keypoints.
func ReadModel(dir string) (*Model, error) {
	var m Model
	var err error
	if m.Cameras, err = readModelFile(filepath.Join(dir, camerasFile), readCameras); err != nil {
		return nil, err
	}
	imagesPath := filepath.Join(dir, imagesFile)
	if m.Images, err = readModelFile(imagesPath, readImages); err != nil {
		return nil, err
	}
	for _, im := range m.Images {
		if m.Cameras[im.CameraID] == nil {
			return nil, &FormatError{File: imagesPath, Msg: fmt.Sprintf("image %d (%s) refers to camera %d, which is not in %s", im.ID, im.Name, im.CameraID, camerasFile)}
		}
	}
	if m.Points, err = readModelFile(filepath.Join(dir, pointsFile), readPoints); err != nil {
		return nil, err
	}
	return &m, nil
}

// Center returns the camera's centre in world coordinates, −Rᵀ·T. Q need not
// be of unit length; a zero Q (which ReadModel rejects) gives NaN.
func (im *Image) Center() r3.Vec {
	r0, r1, r2 := im.rotation()
	// Rᵀ·T is the rows weighted by T's components.
	c := r3.Add(r3.Add(r3.Scale(im.T.X, r0), r3.Scale(im.T.Y, r1)), r3.Scale(im.T.Z, r2))
	return r3.Scale(-1, c)
}

// Up returns the photo's up direction in world coordinates: the camera's
// −y axis (COLMAP's image y points down), a unit vector.
func (im *Image) Up() r3.Vec {
	_, r1, _ := im.rotation()
	return r3.Scale(-1, r1)
}

// Rotation returns R(Q), row-major: the rotation from world to camera
// coordinates. Q need not be of unit length.
func (im *Image) Rotation() [9]float64 {
	r0, r1, r2 := im.rotation()
	return [9]float64{r0.X, r0.Y, r0.Z, r1.X, r1.Y, r1.Z, r2.X, r2.Y, r2.Z}
}

// rotation returns the rows of R(Q).
func (im *Image) rotation() (r0, r1, r2 r3.Vec) {
	// Normalise Q, first by its largest component so that squaring
	// neither overflows nor underflows.
	q := im.Q
	s := max(math.Abs(q[0]), math.Abs(q[1]), math.Abs(q[2]), math.Abs(q[3]))
	for i := range q {
		q[i] /= s
	}
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	w, x, y, z := q[0]/n, q[1]/n, q[2]/n, q[3]/n
	// R of the unit quaternion (w, x, y, z) in the Hamilton convention,
	// as COLMAP (and Eigen) build it.
	r0 = r3.Vec{X: 1 - 2*(y*y+z*z), Y: 2 * (x*y - w*z), Z: 2 * (x*z + w*y)}
	r1 = r3.Vec{X: 2 * (x*y + w*z), Y: 1 - 2*(x*x+z*z), Z: 2 * (y*z - w*x)}
	r2 = r3.Vec{X: 2 * (x*z - w*y), Y: 2 * (y*z + w*x), Z: 1 - 2*(x*x+y*y)}
	return r0, r1, r2
}

// MeanReprojectionError returns the mean of the points' reprojection errors
// in pixels, leaving out the points whose error COLMAP has not computed
// (negative; COLMAP initialises it to −1). It returns 0 when no point has one.
func (m *Model) MeanReprojectionError() float64 {
	var sum float64
	var n int
	for i := range m.Points {
		if e := m.Points[i].Error; e >= 0 {
			sum += e
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

// readModelFile opens path, checks it is a regular file (a FIFO would hang the
// reader) and decodes it with read.
func readModelFile[T any](path string, read func(*decoder) (T, error)) (T, error) {
	var zero T
	f, err := os.Open(path)
	if err != nil {
		return zero, fmt.Errorf("colmap: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return zero, fmt.Errorf("colmap: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return zero, &FormatError{File: path, Msg: "not a regular file"}
	}
	return read(newDecoder(path, f, fi.Size()))
}

// decoder reads a model file's little-endian fields, keeping count of the
// bytes left so that every count is checked against them before anything
// is allocated.
type decoder struct {
	file string
	br   *bufio.Reader
	off  int64 // bytes consumed
	size int64 // file size
}

func newDecoder(file string, r io.Reader, size int64) *decoder {
	return &decoder{file: file, br: bufio.NewReaderSize(r, bufferSize), size: size}
}

// malformed is an error in a record's content; decoder.wrap says where.
type malformed string

func (m malformed) Error() string { return string(m) }

func malformedf(format string, args ...any) error {
	return malformed(fmt.Sprintf(format, args...))
}

// truncated is a record or a count that runs past the end of the file;
// decoder.wrap says where.
type truncated string // what ran past the end, or ""

func (t truncated) Error() string {
	if t == "" {
		return "truncated"
	}
	return "truncated: " + string(t)
}

// next returns the next n ≤ bufferSize bytes, valid until the next call.
// Past the end of the file it returns a truncated error.
func (d *decoder) next(n int) ([]byte, error) {
	if int64(n) > d.size-d.off {
		return nil, truncated("")
	}
	p, err := d.br.Peek(n)
	if err != nil {
		return nil, shortRead(err)
	}
	d.br.Discard(n) // cannot fail: the bytes are buffered
	d.off += int64(n)
	return p, nil
}

// skip discards the next n bytes.
func (d *decoder) skip(n int64) error {
	if n > d.size-d.off {
		return truncated("")
	}
	for n > 0 {
		k := int(min(n, bufferSize))
		if _, err := d.next(k); err != nil {
			return err
		}
		n -= int64(k)
	}
	return nil
}

// count reads a uint64 count of records (what they are: "images") of at
// least minSize bytes each and checks that that many fit in the rest of the
// file.
func (d *decoder) count(what string, minSize int64) (int, error) {
	p, err := d.next(countSize)
	if err != nil {
		return 0, err
	}
	n := binary.LittleEndian.Uint64(p)
	if left := d.size - d.off; n > uint64(left/minSize) || n > math.MaxInt {
		return 0, truncated(fmt.Sprintf("%d %s need at least %d bytes each, %d left", n, what, minSize, left))
	}
	return int(n), nil
}

// shortRead turns a read error into a truncated error when the file ended
// early (it is shorter than when it was stat'ed).
func shortRead(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return truncated("file shrank while being read")
	}
	return err
}

// wrap adds the file and the place of the record to an error met in it.
func (d *decoder) wrap(err error, at int64, format string, args ...any) error {
	where := fmt.Sprintf(format, args...) + fmt.Sprintf(" at byte %d", at)
	msg := where + ": " + err.Error()
	var t truncated
	var m malformed
	switch {
	case errors.As(err, &t):
		return &FormatError{File: d.file, Msg: msg, Err: io.ErrUnexpectedEOF}
	case errors.As(err, &m):
		return &FormatError{File: d.file, Msg: msg}
	default:
		return fmt.Errorf("colmap: %s: %s: %w", d.file, where, err)
	}
}

// end checks that nothing follows the last record.
func (d *decoder) end() error {
	if left := d.size - d.off; left != 0 {
		return &FormatError{File: d.file, Msg: fmt.Sprintf("%d bytes after the last record at byte %d", left, d.off)}
	}
	return nil
}

func f64(p []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(p)) }

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// readCameras decodes cameras.bin.
func readCameras(d *decoder) (map[uint32]*Camera, error) {
	n, err := d.count("cameras", minCamera)
	if err != nil {
		return nil, d.wrap(err, 0, "camera count")
	}
	cams := make(map[uint32]*Camera, n)
	for i := range n {
		at := d.off
		c, err := d.camera()
		if err != nil {
			return nil, d.wrap(err, at, "camera %d of %d", i+1, n)
		}
		if cams[c.ID] != nil {
			return nil, d.wrap(malformedf("duplicate camera ID %d", c.ID), at, "camera %d of %d", i+1, n)
		}
		cams[c.ID] = c
	}
	return cams, d.end()
}

func (d *decoder) camera() (*Camera, error) {
	p, err := d.next(cameraHead)
	if err != nil {
		return nil, err
	}
	c := &Camera{ID: binary.LittleEndian.Uint32(p)}
	model := int32(binary.LittleEndian.Uint32(p[4:]))
	w, h := binary.LittleEndian.Uint64(p[8:]), binary.LittleEndian.Uint64(p[16:])
	if model < 0 || int(model) >= len(cameraModels) {
		return nil, malformedf("camera %d: unknown camera model id %d (known: 0 to %d)", c.ID, model, len(cameraModels)-1)
	}
	if w == 0 || h == 0 || w > maxSide || h > maxSide {
		return nil, malformedf("camera %d: size %d×%d out of range", c.ID, w, h)
	}
	c.Model, c.Width, c.Height = cameraModels[model].name, int(w), int(h)
	np := cameraModels[model].params
	if p, err = d.next(np * 8); err != nil {
		return nil, err
	}
	c.Params = make([]float64, np)
	for j := range c.Params {
		c.Params[j] = f64(p[8*j:])
	}
	if !finite(c.Params...) {
		return nil, malformedf("camera %d: non-finite parameter", c.ID)
	}
	return c, nil
}

// readImages decodes images.bin, sorted by ID.
func readImages(d *decoder) ([]*Image, error) {
	n, err := d.count("images", minImage)
	if err != nil {
		return nil, d.wrap(err, 0, "image count")
	}
	ims := make([]*Image, 0, n)
	names := make(map[string]uint32, n)
	for i := range n {
		at := d.off
		im, err := d.image()
		if err != nil {
			return nil, d.wrap(err, at, "image %d of %d", i+1, n)
		}
		if id, dup := names[im.Name]; dup {
			return nil, d.wrap(malformedf("images %d and %d are both named %q", id, im.ID, im.Name), at, "image %d of %d", i+1, n)
		}
		names[im.Name] = im.ID
		ims = append(ims, im)
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	slices.SortFunc(ims, func(a, b *Image) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(ims); i++ {
		if ims[i].ID == ims[i-1].ID {
			return nil, &FormatError{File: d.file, Msg: fmt.Sprintf("duplicate image ID %d (%s and %s)", ims[i].ID, ims[i-1].Name, ims[i].Name)}
		}
	}
	return ims, nil
}

func (d *decoder) image() (*Image, error) {
	p, err := d.next(imageHead)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	im := &Image{
		ID:       le.Uint32(p),
		Q:        [4]float64{f64(p[4:]), f64(p[12:]), f64(p[20:]), f64(p[28:])},
		T:        r3.Vec{X: f64(p[36:]), Y: f64(p[44:]), Z: f64(p[52:])},
		CameraID: le.Uint32(p[60:]),
	}
	if !finite(im.Q[:]...) || !finite(im.T.X, im.T.Y, im.T.Z) {
		return nil, malformedf("image %d: non-finite pose", im.ID)
	}
	if im.Q == [4]float64{} {
		return nil, malformedf("image %d: zero rotation quaternion", im.ID)
	}
	if im.Name, err = d.name(); err != nil {
		return nil, fmt.Errorf("image %d: %w", im.ID, err)
	}
	if im.Points2D, err = d.count("keypoints", keypointSize); err != nil {
		return nil, fmt.Errorf("image %d (%s): %w", im.ID, im.Name, err)
	}
	if im.Observed, err = d.keypoints(im.Points2D); err != nil {
		return nil, fmt.Errorf("image %d (%s): %w", im.ID, im.Name, err)
	}
	return im, nil
}

// name reads a NUL-terminated image name of 1 to maxNameBytes bytes.
func (d *decoder) name() (string, error) {
	k := int(min(maxNameBytes+1, d.size-d.off))
	p, err := d.br.Peek(k)
	if err != nil {
		return "", shortRead(err)
	}
	i := bytes.IndexByte(p, 0)
	switch {
	case i < 0 && k > maxNameBytes:
		return "", malformedf("name longer than %d bytes", maxNameBytes)
	case i < 0:
		return "", truncated("name")
	case i == 0:
		return "", malformedf("empty name")
	}
	name := string(p[:i])
	d.br.Discard(i + 1)
	d.off += int64(i + 1)
	return name, nil
}

// keypoints reads n keypoints, keeping none, and returns how many observe a
// 3D point.
func (d *decoder) keypoints(n int) (observed int, err error) {
	const chunk = bufferSize / keypointSize
	for done := 0; done < n; {
		k := min(n-done, chunk)
		p, err := d.next(k * keypointSize)
		if err != nil {
			return 0, err
		}
		for j := range k {
			r := p[j*keypointSize:]
			if !finite(f64(r), f64(r[8:])) {
				return 0, malformedf("keypoint %d: non-finite coordinate", done+j)
			}
			if binary.LittleEndian.Uint64(r[16:]) != noPoint3D {
				observed++
			}
		}
		done += k
	}
	return observed, nil
}

// readPoints decodes points3D.bin, sorted by ID.
func readPoints(d *decoder) ([]Point3D, error) {
	n, err := d.count("points", pointHead)
	if err != nil {
		return nil, d.wrap(err, 0, "point count")
	}
	pts := make([]Point3D, n)
	for i := range pts {
		at := d.off
		if err := d.point(&pts[i]); err != nil {
			return nil, d.wrap(err, at, "point %d of %d", i+1, n)
		}
	}
	if err := d.end(); err != nil {
		return nil, err
	}
	slices.SortFunc(pts, func(a, b Point3D) int { return cmp.Compare(a.ID, b.ID) })
	for i := 1; i < len(pts); i++ {
		if pts[i].ID == pts[i-1].ID {
			return nil, &FormatError{File: d.file, Msg: fmt.Sprintf("duplicate point ID %d", pts[i].ID)}
		}
	}
	return pts, nil
}

func (d *decoder) point(pt *Point3D) error {
	p, err := d.next(pointHead)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	pt.ID = le.Uint64(p)
	pt.XYZ = r3.Vec{X: f64(p[8:]), Y: f64(p[16:]), Z: f64(p[24:])}
	pt.RGB = [3]uint8{p[32], p[33], p[34]}
	pt.Error = f64(p[35:])
	track := le.Uint64(p[43:])
	if !finite(pt.XYZ.X, pt.XYZ.Y, pt.XYZ.Z, pt.Error) {
		return malformedf("point %d: non-finite coordinate or error", pt.ID)
	}
	if left := d.size - d.off; track > uint64(left/trackElem) {
		return fmt.Errorf("point %d: %w", pt.ID, truncated(fmt.Sprintf("%d track elements need %d bytes each, %d left", track, trackElem, left)))
	}
	pt.Track = int(track)
	if track == 0 {
		return nil
	}
	e, err := d.next(trackElem)
	if err != nil {
		return err
	}
	pt.Seen = le.Uint32(e)
	return d.skip(int64(track-1) * trackElem)
}
