package colmap

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/num/quat"
	"gonum.org/v1/gonum/spatial/r3"
)

var updateColmapModel = flag.Bool("update-colmap-model", false, "rewrite testdata/colmap-3.8 with what the installed colmap writes")

// colmapModelDir holds the binary model that COLMAP 3.8's model_converter
// wrote from sampleSpec's text model (TestColmapModelConverter
// -update-colmap-model rewrites it); it also seeds the fuzzers.
const colmapModelDir = "testdata/colmap-3.8"

// specKeypoint is a 2D keypoint; pt is the 3D point it observes, −1 for none.
type specKeypoint struct {
	x, y float64
	pt   int64
}

// specImage is an image with its keypoints; Points2D and Observed are
// derived from them.
type specImage struct {
	Image
	kps []specKeypoint
}

// specModel describes a model that the test writes in COLMAP's binary or
// text format. The points' tracks are derived from the keypoints that
// observe them, in image order, as COLMAP keeps them consistent.
type specModel struct {
	cams []Camera
	ims  []specImage
	pts  []Point3D // Track is derived
}

// sampleSpec is a small model with the awkward parts of real ones: two
// camera models, IDs out of order and not contiguous, a point ID above
// 2³², keypoints that observe nothing, a point whose error is not computed
// (−1), decimals that binary floating point cannot hold exactly.
func sampleSpec() *specModel {
	const big = 1 << 40
	return &specModel{
		cams: []Camera{
			{ID: 7, Model: "OPENCV", Width: 1920, Height: 1080,
				Params: []float64{1400.125, 1398.5, 960.3, 540.7, 0.0123, -0.0456, 0.00078, -0.00091}},
			{ID: 1, Model: "SIMPLE_RADIAL", Width: 3072, Height: 2304,
				Params: []float64{2559.81, 1536.25, 1152.5, -0.0218531}},
		},
		ims: []specImage{
			{Image: Image{ID: 9, Name: "IMG_0009.JPG", CameraID: 7, Q: unitQ(0.9, 0.1, -0.3, 0.2), T: r3.Vec{X: 0.5, Y: -1.25, Z: 3.7}},
				kps: []specKeypoint{{10.5, 20.25, 3}, {100.125, 200.5, -1}, {300.75, 150.1, 55}, {1, 2, 101}, {400, 500, big}}},
			{Image: Image{ID: 2, Name: "sub/IMG_0002.jpg", CameraID: 7, Q: unitQ(0.2, -0.7, 0.1, 0.6), T: r3.Vec{X: -0.1, Y: 0.2, Z: 4.3}},
				kps: []specKeypoint{{11.5, 21.25, 55}, {12, 13, 3}, {14, 15, -1}, {16.3, 17.7, 7}}},
			{Image: Image{ID: 5, Name: "IMG_0005.JPG", CameraID: 1, Q: unitQ(1, 0, 0, 0), T: r3.Vec{X: 1e-3, Y: 2.5e2, Z: -3}},
				kps: []specKeypoint{{5, 6, 101}, {7, 8, 7}, {9, 10, big}, {11, 12, -1}, {13, 14, -1}, {15, 16, 3}}},
		},
		pts: []Point3D{
			{ID: 101, XYZ: r3.Vec{X: 0.1, Y: 0.2, Z: 0.3}, RGB: [3]uint8{255, 0, 128}, Error: -1},
			{ID: 3, XYZ: r3.Vec{X: -1.5, Y: 2.25, Z: 10.125}, RGB: [3]uint8{1, 2, 3}, Error: 0.75},
			{ID: big, XYZ: r3.Vec{X: 1e-9, Y: -7e5, Z: 3.3}, RGB: [3]uint8{200, 100, 50}, Error: 2},
			{ID: 55, XYZ: r3.Vec{X: 4, Y: 5, Z: 6}, RGB: [3]uint8{0, 0, 0}, Error: 1.5},
			{ID: 7, XYZ: r3.Vec{X: -0.7, Y: 0.07, Z: 0.007}, RGB: [3]uint8{9, 99, 255}, Error: 0.25},
		},
	}
}

// sampleMeanError is the mean of sampleSpec's computed errors.
const sampleMeanError = (0.75 + 2 + 1.5 + 0.25) / 4

func unitQ(w, x, y, z float64) [4]float64 {
	n := math.Sqrt(w*w + x*x + y*y + z*z)
	return [4]float64{w / n, x / n, y / n, z / n}
}

// tracks returns each point's track, (image ID, keypoint index) pairs.
func (s *specModel) tracks() map[uint64][][2]uint32 {
	tr := map[uint64][][2]uint32{}
	for _, im := range s.ims {
		for i, k := range im.kps {
			if k.pt != -1 {
				tr[uint64(k.pt)] = append(tr[uint64(k.pt)], [2]uint32{im.ID, uint32(i)})
			}
		}
	}
	return tr
}

// want is the model ReadModel should return for s.
func (s *specModel) want() *Model {
	m := &Model{Cameras: map[uint32]*Camera{}}
	for _, c := range s.cams {
		c.Params = slices.Clone(c.Params)
		m.Cameras[c.ID] = &c
	}
	for _, im := range s.ims {
		img := im.Image
		img.Points2D, img.Observed = len(im.kps), 0
		for _, k := range im.kps {
			if k.pt != -1 {
				img.Observed++
			}
		}
		m.Images = append(m.Images, &img)
	}
	slices.SortFunc(m.Images, func(a, b *Image) int { return cmp.Compare(a.ID, b.ID) })
	tr := s.tracks()
	for _, p := range s.pts {
		p.Track = len(tr[p.ID])
		if p.Track > 0 {
			p.Seen = tr[p.ID][0][0]
		}
		m.Points = append(m.Points, p)
	}
	slices.SortFunc(m.Points, func(a, b Point3D) int { return cmp.Compare(a.ID, b.ID) })
	return m
}

// modelID returns COLMAP's id of a camera model name.
func modelID(tb testing.TB, name string) int32 {
	tb.Helper()
	for id, m := range cameraModels {
		if m.name == name {
			return int32(id)
		}
	}
	tb.Fatalf("no camera model %q", name)
	return -1
}

var lendian = binary.LittleEndian

func appendF64(b []byte, xs ...float64) []byte {
	for _, x := range xs {
		b = lendian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func (s *specModel) camerasBin(tb testing.TB) []byte {
	b := lendian.AppendUint64(nil, uint64(len(s.cams)))
	for _, c := range s.cams {
		b = lendian.AppendUint32(b, c.ID)
		b = lendian.AppendUint32(b, uint32(modelID(tb, c.Model)))
		b = lendian.AppendUint64(b, uint64(c.Width))
		b = lendian.AppendUint64(b, uint64(c.Height))
		b = appendF64(b, c.Params...)
	}
	return b
}

func (s *specModel) imagesBin() []byte {
	b := lendian.AppendUint64(nil, uint64(len(s.ims)))
	for _, im := range s.ims {
		b = lendian.AppendUint32(b, im.ID)
		b = appendF64(b, im.Q[:]...)
		b = appendF64(b, im.T.X, im.T.Y, im.T.Z)
		b = lendian.AppendUint32(b, im.CameraID)
		b = append(append(b, im.Name...), 0)
		b = lendian.AppendUint64(b, uint64(len(im.kps)))
		for _, k := range im.kps {
			b = appendF64(b, k.x, k.y)
			b = lendian.AppendUint64(b, uint64(k.pt))
		}
	}
	return b
}

func (s *specModel) pointsBin() []byte {
	tr := s.tracks()
	b := lendian.AppendUint64(nil, uint64(len(s.pts)))
	for _, p := range s.pts {
		b = lendian.AppendUint64(b, p.ID)
		b = appendF64(b, p.XYZ.X, p.XYZ.Y, p.XYZ.Z)
		b = append(b, p.RGB[:]...)
		b = appendF64(b, p.Error)
		b = lendian.AppendUint64(b, uint64(len(tr[p.ID])))
		for _, e := range tr[p.ID] {
			b = lendian.AppendUint32(b, e[0])
			b = lendian.AppendUint32(b, e[1])
		}
	}
	return b
}

// files returns the three binary files of s by name.
func (s *specModel) files(tb testing.TB) map[string][]byte {
	return map[string][]byte{camerasFile: s.camerasBin(tb), imagesFile: s.imagesBin(), pointsFile: s.pointsBin()}
}

// mustWriteFiles writes files into a new temporary directory and returns it.
func mustWriteFiles(tb testing.TB, files map[string][]byte) string {
	tb.Helper()
	dir := tb.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// writeText writes s in COLMAP's text format
// (https://colmap.github.io/format.html#text-format).
func (s *specModel) writeText(tb testing.TB, dir string) {
	tb.Helper()
	g := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	var cams, ims, pts strings.Builder
	cams.WriteString("# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n")
	for _, c := range s.cams {
		fmt.Fprintf(&cams, "%d %s %d %d", c.ID, c.Model, c.Width, c.Height)
		for _, p := range c.Params {
			cams.WriteString(" " + g(p))
		}
		cams.WriteString("\n")
	}
	ims.WriteString("# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n#   POINTS2D[] as (X, Y, POINT3D_ID)\n")
	for _, im := range s.ims {
		fmt.Fprintf(&ims, "%d %s %s %s %s %s %s %s %d %s\n", im.ID, g(im.Q[0]), g(im.Q[1]), g(im.Q[2]), g(im.Q[3]),
			g(im.T.X), g(im.T.Y), g(im.T.Z), im.CameraID, im.Name)
		var kps []string
		for _, k := range im.kps {
			kps = append(kps, g(k.x), g(k.y), strconv.FormatInt(k.pt, 10))
		}
		ims.WriteString(strings.Join(kps, " ") + "\n")
	}
	pts.WriteString("# 3D point list with one line of data per point:\n#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n")
	tr := s.tracks()
	for _, p := range s.pts {
		fmt.Fprintf(&pts, "%d %s %s %s %d %d %d %s", p.ID, g(p.XYZ.X), g(p.XYZ.Y), g(p.XYZ.Z), p.RGB[0], p.RGB[1], p.RGB[2], g(p.Error))
		for _, e := range tr[p.ID] {
			fmt.Fprintf(&pts, " %d %d", e[0], e[1])
		}
		pts.WriteString("\n")
	}
	for name, text := range map[string]string{"cameras.txt": cams.String(), "images.txt": ims.String(), "points3D.txt": pts.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// within reports whether got is within tol of want, relative to want's
// magnitude when it exceeds 1; tol 0 asks for equality.
func within(got, want, tol float64) bool {
	return got == want || math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

// checkModel compares every field of got with want, floats within tol.
func checkModel(t *testing.T, got, want *Model, tol float64) {
	t.Helper()
	if len(got.Cameras) != len(want.Cameras) {
		t.Errorf("%d cameras, want %d", len(got.Cameras), len(want.Cameras))
	}
	for id, w := range want.Cameras {
		g := got.Cameras[id]
		if g == nil {
			t.Errorf("camera %d missing", id)
			continue
		}
		if g.ID != w.ID || g.Model != w.Model || g.Width != w.Width || g.Height != w.Height || len(g.Params) != len(w.Params) {
			t.Errorf("camera %d = %+v, want %+v", id, *g, *w)
			continue
		}
		for i := range w.Params {
			if !within(g.Params[i], w.Params[i], tol) {
				t.Errorf("camera %d param %d = %.17g, want %.17g", id, i, g.Params[i], w.Params[i])
			}
		}
	}
	if len(got.Images) != len(want.Images) {
		t.Fatalf("%d images, want %d", len(got.Images), len(want.Images))
	}
	for i, w := range want.Images {
		g := got.Images[i]
		if g.ID != w.ID || g.Name != w.Name || g.CameraID != w.CameraID || g.Points2D != w.Points2D || g.Observed != w.Observed {
			t.Errorf("image %d = %+v, want %+v", i, *g, *w)
			continue
		}
		for j := range 4 {
			if !within(g.Q[j], w.Q[j], tol) {
				t.Errorf("image %d Q = %.17g, want %.17g", w.ID, g.Q, w.Q)
				break
			}
		}
		if !within(g.T.X, w.T.X, tol) || !within(g.T.Y, w.T.Y, tol) || !within(g.T.Z, w.T.Z, tol) {
			t.Errorf("image %d T = %.17g, want %.17g", w.ID, g.T, w.T)
		}
	}
	if len(got.Points) != len(want.Points) {
		t.Fatalf("%d points, want %d", len(got.Points), len(want.Points))
	}
	for i, w := range want.Points {
		g := got.Points[i]
		if g.ID != w.ID || g.RGB != w.RGB || g.Track != w.Track || g.Seen != w.Seen ||
			!within(g.XYZ.X, w.XYZ.X, tol) || !within(g.XYZ.Y, w.XYZ.Y, tol) || !within(g.XYZ.Z, w.XYZ.Z, tol) || !within(g.Error, w.Error, tol) {
			t.Errorf("point %d = %+v, want %+v", i, g, w)
		}
	}
}

func TestReadModel(t *testing.T) {
	s := sampleSpec()
	files := s.files(t)
	// COLMAP 3.12 and later add these; ReadModel ignores them.
	files["rigs.bin"] = []byte("not read")
	files["frames.bin"] = nil
	m, err := ReadModel(mustWriteFiles(t, files))
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, m, s.want(), 0)
	if got := m.MeanReprojectionError(); got != sampleMeanError {
		t.Errorf("MeanReprojectionError() = %v, want %v", got, sampleMeanError)
	}
}

// TestReadColmapWritten reads the model that COLMAP itself wrote from
// sampleSpec (committed, so that this runs where colmap is not installed).
func TestReadColmapWritten(t *testing.T) {
	m, err := ReadModel(colmapModelDir)
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, m, sampleSpec().want(), 1e-9)
}

// TestColmapModelConverter checks the reader against COLMAP's own writer:
// colmap model_converter turns sampleSpec, written in the text format, into
// a binary model, and ReadModel must read back every value.
func TestColmapModelConverter(t *testing.T) {
	colmap, err := exec.LookPath("colmap")
	if err != nil {
		t.Skip("colmap not installed (apt-get install colmap): cannot check the reader against COLMAP's writer")
	}
	s := sampleSpec()
	in, out := t.TempDir(), t.TempDir()
	s.writeText(t, in)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, colmap, "model_converter", "--input_path", in, "--output_path", out, "--output_type", "BIN")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("colmap model_converter: %v\n%s", err, b)
	}
	m, err := ReadModel(out)
	if err != nil {
		t.Fatal(err)
	}
	checkModel(t, m, s.want(), 1e-9)
	if got := m.MeanReprojectionError(); !within(got, sampleMeanError, 1e-9) {
		t.Errorf("MeanReprojectionError() = %v, want %v", got, sampleMeanError)
	}
	if *updateColmapModel {
		if err := os.MkdirAll(colmapModelDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{camerasFile, imagesFile, pointsFile} {
			b, err := os.ReadFile(filepath.Join(out, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(colmapModelDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// decodeFile runs the decoder of the named file over data, of which the file
// claims size bytes.
func decodeFile(name string, data []byte, size int64) error {
	d := newDecoder(name, bytes.NewReader(data), size)
	var err error
	switch name {
	case camerasFile:
		_, err = readCameras(d)
	case imagesFile:
		_, err = readImages(d)
	case pointsFile:
		_, err = readPoints(d)
	default:
		panic(name)
	}
	return err
}

// checkTruncated checks that err reports a truncated name.
func checkTruncated(t *testing.T, err error, name string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) || fe.File != name || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("error %v, want a *FormatError for %s that says truncated and wraps io.ErrUnexpectedEOF", err, name)
	}
}

// TestTruncated cuts each file at every byte: the reader must say the file
// is truncated, whether the file's size says so or the file shrinks while
// being read.
func TestTruncated(t *testing.T) {
	for name, data := range sampleSpec().files(t) {
		t.Run(name, func(t *testing.T) {
			for n := range len(data) {
				if err := decodeFile(name, data[:n], int64(n)); err == nil {
					t.Fatalf("%d of %d bytes: no error", n, len(data))
				} else {
					checkTruncated(t, err, name)
				}
				if err := decodeFile(name, data[:n], int64(len(data))); err == nil {
					t.Fatalf("%d of %d bytes, stat says %d: no error", n, len(data), len(data))
				} else {
					checkTruncated(t, err, name)
				}
			}
			if err := decodeFile(name, data, int64(len(data))); err != nil {
				t.Fatalf("whole file: %v", err)
			}
		})
	}
	// And through ReadModel, which names the file by its path.
	files := sampleSpec().files(t)
	files[imagesFile] = files[imagesFile][:100]
	dir := mustWriteFiles(t, files)
	_, err := ReadModel(dir)
	checkTruncated(t, err, filepath.Join(dir, imagesFile))
}

// TestAbsurdCounts sets each count to one that cannot fit in the file: the
// reader must fail before allocating for it.
func TestAbsurdCounts(t *testing.T) {
	s := sampleSpec()
	firstImage := 8 + imageHead + len(s.ims[0].Name) + 1
	for _, tc := range []struct {
		name string
		file string
		at   int // offset of the uint64 count
	}{
		{"cameras", camerasFile, 0},
		{"images", imagesFile, 0},
		{"keypoints", imagesFile, firstImage},
		{"points", pointsFile, 0},
		{"track", pointsFile, 8 + pointHead - 8},
	} {
		for _, n := range []uint64{1 << 62, math.MaxUint64, 1 << 20} {
			t.Run(fmt.Sprintf("%s/%d", tc.name, n), func(t *testing.T) {
				data := s.files(t)[tc.file]
				lendian.PutUint64(data[tc.at:], n)
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				err := decodeFile(tc.file, data, int64(len(data)))
				runtime.ReadMemStats(&after)
				checkTruncated(t, err, tc.file)
				if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
					t.Errorf("allocated %d bytes before failing", alloc)
				}
			})
		}
	}
}

// TestInvalid covers files that are complete but wrong.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(s *specModel, files map[string][]byte)
		file   string
		want   string // in the error
	}{
		{"unknown camera model", func(s *specModel, f map[string][]byte) { lendian.PutUint32(f[camerasFile][8+4:], 11) },
			camerasFile, "unknown camera model id 11"},
		{"negative camera model", func(s *specModel, f map[string][]byte) { lendian.PutUint32(f[camerasFile][8+4:], math.MaxUint32) },
			camerasFile, "unknown camera model id -1"},
		{"duplicate camera", func(s *specModel, f map[string][]byte) { s.cams[1].ID = s.cams[0].ID },
			camerasFile, "duplicate camera ID 7"},
		{"duplicate image", func(s *specModel, f map[string][]byte) { s.ims[2].ID = s.ims[0].ID },
			imagesFile, "duplicate image ID 9"},
		{"duplicate point", func(s *specModel, f map[string][]byte) { s.pts[3].ID = s.pts[0].ID },
			pointsFile, "duplicate point ID 101"},
		{"duplicate name", func(s *specModel, f map[string][]byte) { s.ims[2].Name = s.ims[0].Name },
			imagesFile, `both named "IMG_0009.JPG"`},
		{"zero width", func(s *specModel, f map[string][]byte) { s.cams[0].Width = 0 },
			camerasFile, "size 0×1080 out of range"},
		{"huge height", func(s *specModel, f map[string][]byte) { s.cams[0].Height = 1 << 40 },
			camerasFile, "out of range"},
		{"NaN parameter", func(s *specModel, f map[string][]byte) { s.cams[1].Params[3] = math.NaN() },
			camerasFile, "camera 1: non-finite parameter"},
		{"Inf translation", func(s *specModel, f map[string][]byte) { s.ims[1].T.Y = math.Inf(-1) },
			imagesFile, "image 2: non-finite pose"},
		{"NaN rotation", func(s *specModel, f map[string][]byte) { s.ims[1].Q[0] = math.NaN() },
			imagesFile, "image 2: non-finite pose"},
		{"zero rotation", func(s *specModel, f map[string][]byte) { s.ims[1].Q = [4]float64{} },
			imagesFile, "image 2: zero rotation quaternion"},
		{"NaN keypoint", func(s *specModel, f map[string][]byte) { s.ims[2].kps[4].y = math.NaN() },
			imagesFile, "keypoint 4: non-finite coordinate"},
		{"empty name", func(s *specModel, f map[string][]byte) { s.ims[1].Name = "" },
			imagesFile, "empty name"},
		{"long name", func(s *specModel, f map[string][]byte) { s.ims[1].Name = strings.Repeat("a", maxNameBytes+1) },
			imagesFile, "name longer than 4096 bytes"},
		{"unknown camera", func(s *specModel, f map[string][]byte) { s.ims[1].CameraID = 8 },
			imagesFile, "image 2 (sub/IMG_0002.jpg) refers to camera 8, which is not in cameras.bin"},
		{"NaN point", func(s *specModel, f map[string][]byte) { s.pts[2].XYZ.Z = math.NaN() },
			pointsFile, "non-finite"},
		{"Inf error", func(s *specModel, f map[string][]byte) { s.pts[2].Error = math.Inf(1) },
			pointsFile, "non-finite"},
		{"trailing byte", func(s *specModel, f map[string][]byte) { f[pointsFile] = append(f[pointsFile], 0) },
			pointsFile, "1 bytes after the last record"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sampleSpec()
			// Changes to s apply to the files written below; changes to
			// the bytes apply to the files of the unchanged model.
			files := s.files(t)
			tc.change(s, files)
			changed := s.files(t)
			for name, b := range files {
				if !bytes.Equal(b, sampleSpec().files(t)[name]) {
					changed[name] = b
				}
			}
			dir := mustWriteFiles(t, changed)
			_, err := ReadModel(dir)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.File != filepath.Join(dir, tc.file) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ReadModel() error = %v, want a *FormatError for %s saying %q", err, tc.file, tc.want)
			}
			if errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error %v wraps io.ErrUnexpectedEOF; the file is not truncated", err)
			}
		})
	}
}

// TestLongestName checks that a name of exactly maxNameBytes is accepted.
func TestLongestName(t *testing.T) {
	s := sampleSpec()
	s.ims[1].Name = strings.Repeat("n", maxNameBytes)
	if _, err := ReadModel(mustWriteFiles(t, s.files(t))); err != nil {
		t.Fatal(err)
	}
}

func TestReadModelMissing(t *testing.T) {
	files := sampleSpec().files(t)
	delete(files, pointsFile)
	dir := mustWriteFiles(t, files)
	_, err := ReadModel(dir)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), filepath.Join(dir, pointsFile)) {
		t.Fatalf("ReadModel() error = %v, want one naming %s that wraps fs.ErrNotExist", err, pointsFile)
	}
}

func TestReadModelNotRegular(t *testing.T) {
	files := sampleSpec().files(t)
	delete(files, camerasFile)
	dir := mustWriteFiles(t, files)
	if err := os.Mkdir(filepath.Join(dir, camerasFile), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := ReadModel(dir)
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("ReadModel() error = %v, want a *FormatError saying not a regular file", err)
	}
}

// TestCenter checks Center against rotating it into the camera with gonum's
// quaternion product: R·C + T must vanish, R·v being q·v·q̄.
func TestCenter(t *testing.T) {
	for _, im := range sampleSpec().ims {
		for _, scale := range []float64{1, 2.5} { // Q need not be a unit quaternion
			img := im.Image
			for i := range img.Q {
				img.Q[i] *= scale
			}
			c := img.Center()
			q := quat.Number{Real: im.Q[0], Imag: im.Q[1], Jmag: im.Q[2], Kmag: im.Q[3]}
			rc := quat.Mul(quat.Mul(q, quat.Number{Imag: c.X, Jmag: c.Y, Kmag: c.Z}), quat.Conj(q))
			cam := r3.Add(r3.Vec{X: rc.Imag, Y: rc.Jmag, Z: rc.Kmag}, img.T)
			if r3.Norm(cam) > 1e-12*max(1, r3.Norm(img.T)) {
				t.Errorf("image %d (Q×%v): R·Center()+T = %v, want 0 (Center() = %v)", im.ID, scale, cam, c)
			}
		}
	}
	// A half turn about Z: the camera at (1, 2, 3) has T = −R·C = (1, 2, −3).
	im := Image{Q: [4]float64{0, 0, 0, 1}, T: r3.Vec{X: 1, Y: 2, Z: -3}}
	if got, want := im.Center(), (r3.Vec{X: 1, Y: 2, Z: 3}); r3.Norm(r3.Sub(got, want)) > 1e-15 {
		t.Errorf("Center() = %v, want %v", got, want)
	}
}

func TestMeanReprojectionError(t *testing.T) {
	for _, tc := range []struct {
		name   string
		errors []float64
		want   float64
	}{
		{"none", nil, 0},
		{"not computed", []float64{-1, -1}, 0},
		{"mixed", []float64{1, -1, 2, 0}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Model
			for _, e := range tc.errors {
				m.Points = append(m.Points, Point3D{Error: e})
			}
			if got := m.MeanReprojectionError(); got != tc.want {
				t.Errorf("MeanReprojectionError() = %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkReadModel reads a model of 50 images of 4000 keypoints each and
// 100 000 points seen twice each (about 9 MB of files).
func BenchmarkReadModel(b *testing.B) {
	const images, perImage = 50, 4000
	s := &specModel{cams: sampleSpec().cams[:1]}
	for i := range images {
		im := specImage{Image: Image{ID: uint32(i + 1), Name: fmt.Sprintf("IMG_%04d.JPG", i), CameraID: s.cams[0].ID, Q: unitQ(1, 0, 0, 0)}}
		for k := range perImage {
			pt := int64((i*perImage + k) / 2) // two keypoints per point, in the same image: enough here
			im.kps = append(im.kps, specKeypoint{float64(k), float64(k), pt})
		}
		s.ims = append(s.ims, im)
	}
	for id := range images * perImage / 2 {
		s.pts = append(s.pts, Point3D{ID: uint64(id), XYZ: r3.Vec{X: float64(id)}, Error: 0.5})
	}
	files := s.files(b)
	var size int64
	for _, f := range files {
		size += int64(len(f))
	}
	dir := mustWriteFiles(b, files)
	b.SetBytes(size)
	for b.Loop() {
		if _, err := ReadModel(dir); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUp: R maps the world up direction Up() to the camera's −y.
func TestUp(t *testing.T) {
	for _, im := range sampleSpec().ims {
		img := im.Image
		u := img.Up()
		q := quat.Number{Real: im.Q[0], Imag: im.Q[1], Jmag: im.Q[2], Kmag: im.Q[3]}
		q = quat.Scale(1/quat.Abs(q), q)
		rc := quat.Mul(quat.Mul(q, quat.Number{Imag: u.X, Jmag: u.Y, Kmag: u.Z}), quat.Conj(q))
		if got := (r3.Vec{X: rc.Imag, Y: rc.Jmag, Z: rc.Kmag}); r3.Norm(r3.Sub(got, r3.Vec{Y: -1})) > 1e-12 {
			t.Errorf("image %d: R·Up() = %v, want (0, −1, 0)", im.ID, got)
		}
	}
}
