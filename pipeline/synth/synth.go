// Package synth generates ground-truth captures: photo sets of known parts,
// rendered exactly from a CSG part spec, with the cameras, the marker sheet
// and the part's surface written beside them, so every later stage of the
// pipeline can be measured against the truth.
//
// Photos look like a careful maker's capture: a speckled part on a textured
// cutting mat (so SIFT finds thousands of features), an optional printed
// scale sheet under it, a key light with shadows and ambient light, edge
// anti-aliasing, sensor noise, and real EXIF (make, model, focal length and
// its 35 mm equivalent, increasing capture times).
package synth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/internal/jpegexif"
	"github.com/replica3d/replica/pipeline/mesh"
)

// Options control a capture. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	Views    int     // number of photos
	Rings    int     // elevation rings the views are spread over
	Distance float64 // camera distance from the target in mm; 0 picks one from the part's size
	Width    int     // image width in pixels
	Height   int     // image height in pixels
	FocalMM  float64 // lens focal length in mm
	SensorMM float64 // sensor width in mm
	Seed     uint64  // seeds the camera jitter, textures and noise

	LightAzimuth   float64 // degrees, counter-clockwise from +x
	LightElevation float64 // degrees above the mat
	LightStrength  float64 // key light (1 is a bright desk lamp)
	Ambient        float64 // ambient light

	Markers bool          // lay the printed scale sheet under the part
	Paper   markers.Paper // the sheet's paper size

	BlurSigma     float64     // Gaussian blur in pixels on BlurViews
	BlurViews     []int       // 1-based views to blur
	Exposure      float64     // exposure factor on ExposureViews (e.g. 0.3 under, 2.5 over)
	ExposureViews []int       // 1-based views to mis-expose
	SkipArc       *[2]float64 // azimuth arc (from, to degrees) no photo is taken from

	MeshCell    float64 // groundtruth.stl grid cell in mm
	JPEGQuality int

	// Progress, when set, is called after each photo is written, one call
	// at a time.
	Progress func(done, total int)
}

// DefaultOptions is a 30-photo capture on a phone-like camera (4.5 mm lens on
// a 1/2.3" sensor: about 26 mm equivalent) at 1600×1200, two rings, with the
// scale sheet.
func DefaultOptions() Options {
	return Options{
		Views: 30, Rings: 2, Width: 1600, Height: 1200, FocalMM: 4.5, SensorMM: 6.17, Seed: 1,
		LightAzimuth: 35, LightElevation: 55, LightStrength: 0.8, Ambient: 0.35,
		Markers: true, Paper: markers.A4, Exposure: 1,
		MeshCell: 0.5, JPEGQuality: 92,
	}
}

func (o *Options) validate() error {
	switch {
	case o.Views < 1 || o.Views > 1000:
		return fmt.Errorf("views = %d: want 1 to 1000", o.Views)
	case o.Rings < 1 || o.Rings > 10:
		return fmt.Errorf("rings = %d: want 1 to 10", o.Rings)
	case o.Width < 16 || o.Height < 16 || o.Width > 8192 || o.Height > 8192:
		return fmt.Errorf("image size %d×%d: want 16 to 8192 pixels a side", o.Width, o.Height)
	case !(o.FocalMM > 0 && o.FocalMM < 1000) || !(o.SensorMM > 0 && o.SensorMM < 100):
		return fmt.Errorf("focal %v mm on a %v mm sensor: both must be positive", o.FocalMM, o.SensorMM)
	case o.Distance < 0 || math.IsNaN(o.Distance) || o.Distance > 1e5:
		return fmt.Errorf("distance = %v mm: want 0 (auto) or a positive distance", o.Distance)
	case !(o.LightStrength >= 0) || !(o.Ambient >= 0) || o.LightStrength+o.Ambient == 0:
		return errors.New("light: strength and ambient must be ≥ 0 and not both 0")
	case o.BlurSigma < 0 || o.BlurSigma > 50:
		return fmt.Errorf("blur sigma = %v: want 0 to 50 pixels", o.BlurSigma)
	case !(o.Exposure > 0) || o.Exposure > 100:
		return fmt.Errorf("exposure factor = %v: want a positive factor", o.Exposure)
	case !(o.MeshCell >= 0.05) || o.MeshCell > 10:
		return fmt.Errorf("mesh cell = %v mm: want 0.05 to 10", o.MeshCell)
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return fmt.Errorf("jpeg quality = %d: want 1 to 100", o.JPEGQuality)
	}
	for _, vs := range [][]int{o.BlurViews, o.ExposureViews} {
		for _, v := range vs {
			if v < 1 || v > o.Views {
				return fmt.Errorf("view %d in a degradation list: want 1 to %d", v, o.Views)
			}
		}
	}
	if a := o.SkipArc; a != nil {
		w := math.Mod(a[1]-a[0]+720, 360)
		if math.IsNaN(w) || w <= 0 || w >= 300 {
			return fmt.Errorf("skipped arc %v..%v degrees: want a width between 0 and 300 degrees", a[0], a[1])
		}
	}
	return nil
}

// Truth is groundtruth.json: everything needed to measure a reconstruction of
// the capture. Lengths in mm, poses in COLMAP's convention.
type Truth struct {
	Format  string      `json:"format"` // "replica-groundtruth/1"
	Units   string      `json:"units"`  // "mm"
	Part    *Spec       `json:"part"`
	Camera  Intrinsics  `json:"camera"`
	Views   []TruthView `json:"views"`
	Target  [3]float64  `json:"target"` // the point the cameras aim at
	Light   Light       `json:"light"`
	Markers *TruthSheet `json:"markers"` // null when no sheet was laid
	Surface string      `json:"surface"` // "groundtruth.stl"
	Options TruthOpts   `json:"options"`
}

// TruthView is one photo: its file and world→camera pose (x_cam = R·x_world
// + t with R from the unit quaternion qvec = [w, x, y, z]), centre in world,
// and what was done to it.
type TruthView struct {
	Image     string     `json:"image"`
	QVec      [4]float64 `json:"qvec"`
	TVec      [3]float64 `json:"tvec"`
	Center    [3]float64 `json:"center"`
	Azimuth   float64    `json:"azimuth_deg"`
	Elevation float64    `json:"elevation_deg"`
	Blur      float64    `json:"blur_sigma"` // 0: sharp
	Exposure  float64    `json:"exposure"`   // 1: correct
	Taken     string     `json:"taken"`      // as in EXIF DateTimeOriginal
}

// Light is the scene's lighting.
type Light struct {
	Azimuth   float64 `json:"azimuth_deg"`
	Elevation float64 `json:"elevation_deg"`
	Strength  float64 `json:"strength"`
	Ambient   float64 `json:"ambient"`
}

// TruthSheet is the scale sheet as laid: centred on the world origin with
// its long side along x, on the plane z = 0.
type TruthSheet struct {
	Paper    string        `json:"paper"`
	Markers  []TruthMarker `json:"markers"`
	CheckBar [2][3]float64 `json:"check_bar"` // the 100 mm bar's end points
}

// TruthMarker is one fiducial: its ID and its corners in world mm, ordered
// top-left, top-right, bottom-right, bottom-left as capture/markers defines.
type TruthMarker struct {
	ID      int           `json:"id"`
	Corners [4][3]float64 `json:"corners"`
}

// TruthOpts records the options that are not evident from the rest.
type TruthOpts struct {
	Seed        uint64      `json:"seed"`
	Rings       int         `json:"rings"`
	Distance    float64     `json:"distance_mm"`
	SkipArc     *[2]float64 `json:"skip_arc_deg,omitempty"`
	MeshCell    float64     `json:"mesh_cell_mm"`
	JPEGQuality int         `json:"jpeg_quality"`
	SensorNoise float64     `json:"sensor_noise"`
}

// sensorNoise is the standard deviation of the added noise in 8-bit levels.
const sensorNoise = 1.2

// Generate renders the capture of spec into dir (created if needed; an
// existing non-empty dir is refused unless it holds an earlier capture, so no
// one's photos are overwritten) and writes groundtruth.json and
// groundtruth.stl. It returns the truth it wrote.
func Generate(ctx context.Context, spec *Spec, o Options, dir string) (*Truth, error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	part := compile(spec)
	pb := part.bounds()
	distance := o.Distance
	if distance == 0 {
		distance = autoDistance(pb)
	}
	c := pb.Center()
	target := vec{X: c.X, Y: c.Y, Z: 0.35 * pb.Max.Z}
	in := intrinsics(&o)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5eed))
	plans := planViews(&o, target, distance, rng)

	le, la := o.LightElevation*math.Pi/180, o.LightAzimuth*math.Pi/180
	sc := &scene{
		part:       part,
		light:      vec{X: math.Cos(le) * math.Cos(la), Y: math.Cos(le) * math.Sin(la), Z: math.Sin(le)},
		key:        o.LightStrength,
		ambient:    o.Ambient,
		seed:       uint32(o.Seed*2654435761) ^ 0xa5a5,
		matHalf:    300,
		pixelAngle: 1 / in.Fx,
	}
	truth := &Truth{
		Format: "replica-groundtruth/1", Units: "mm", Part: spec, Camera: in,
		Target:  [3]float64{target.X, target.Y, target.Z},
		Light:   Light{o.LightAzimuth, o.LightElevation, o.LightStrength, o.Ambient},
		Surface: "groundtruth.stl",
		Options: TruthOpts{Seed: o.Seed, Rings: o.Rings, Distance: distance, SkipArc: o.SkipArc,
			MeshCell: o.MeshCell, JPEGQuality: o.JPEGQuality, SensorNoise: sensorNoise},
	}
	if o.Markers {
		sc.sheet = markers.Layout(o.Paper)
		truth.Markers = sheetTruth(sc.sheet)
	}
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for i, p := range plans {
		v := TruthView{
			Image:     fmt.Sprintf("view_%03d.jpg", i+1),
			QVec:      p.pose.R.quaternion(),
			TVec:      [3]float64{p.pose.T.X, p.pose.T.Y, p.pose.T.Z},
			Center:    [3]float64{p.pose.C.X, p.pose.C.Y, p.pose.C.Z},
			Azimuth:   round3(p.azimuth),
			Elevation: round3(p.elevation),
			Exposure:  1,
			Taken:     start.Add(time.Duration(i) * 4 * time.Second).Format("2006:01:02 15:04:05"),
		}
		if slices.Contains(o.BlurViews, i+1) {
			v.Blur = o.BlurSigma
		}
		if slices.Contains(o.ExposureViews, i+1) {
			v.Exposure = o.Exposure
		}
		truth.Views = append(truth.Views, v)
	}

	if err := renderAll(ctx, sc, truth, plans, &o, dir); err != nil {
		return nil, err
	}
	surf, err := part.surface(ctx, o.MeshCell)
	if err != nil {
		return nil, fmt.Errorf("synth: groundtruth surface: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, truth.Surface), func(f *os.File) error {
		return mesh.WriteSTL(f, surf, "replica groundtruth "+spec.Name+" (mm)")
	}); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, "groundtruth.json"), func(f *os.File) error {
		e := json.NewEncoder(f)
		e.SetIndent("", "  ")
		return e.Encode(truth)
	}); err != nil {
		return nil, err
	}
	return truth, nil
}

// renderAll renders and writes the photos, one view per worker.
func renderAll(ctx context.Context, sc *scene, truth *Truth, plans []viewPlan, o *Options, dir string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	var (
		mu       sync.Mutex
		firstErr error
		done     int
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
			cancel()
		}
		mu.Unlock()
	}
	workers := min(runtime.GOMAXPROCS(0), len(plans))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &tracer{}
			for i := range jobs {
				if err := renderView(ctx, sc, truth, plans[i], i, o, dir, tr); err != nil {
					fail(err)
					continue
				}
				// Progress runs under the lock: callers get one call at a
				// time, in order, and need no locking of their own.
				mu.Lock()
				done++
				if o.Progress != nil {
					o.Progress(done, len(plans))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range plans {
		select {
		case jobs <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func renderView(ctx context.Context, sc *scene, truth *Truth, p viewPlan, i int, o *Options, dir string, tr *tracer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	v := truth.Views[i]
	f := sc.render(truth.Camera, p.pose, tr)
	f.blur(v.Blur)
	img := f.image(v.Exposure, sensorNoise, rand.New(rand.NewPCG(o.Seed, uint64(i)+1)))
	taken, _ := time.Parse("2006:01:02 15:04:05", v.Taken)
	x := &jpegexif.Info{
		Make: "Replica", Model: "Synthetic Camera", Software: "replica synth " + assets.Version,
		Taken: taken, Width: o.Width, Height: o.Height,
		FocalMM: o.FocalMM, Focal35: truth.Camera.FocalLength35mm,
		FocalPlaneResPerCM: float64(o.Width) / (o.SensorMM / 10),
		ExposureSec:        v.Exposure / 60, FNumber: 1.8, ISO: 100,
		FlashKnown: true,
	}
	return writeFileAtomic(filepath.Join(dir, v.Image), func(f *os.File) error {
		return jpegexif.Encode(f, img, o.JPEGQuality, x)
	})
}

// intrinsics derives the pinhole camera from the lens and sensor.
func intrinsics(o *Options) Intrinsics {
	f := o.FocalMM / o.SensorMM * float64(o.Width)
	sensorH := o.SensorMM * float64(o.Height) / float64(o.Width)
	diag := math.Hypot(o.SensorMM, sensorH)
	return Intrinsics{
		Model: "PINHOLE", Width: o.Width, Height: o.Height,
		Fx: f, Fy: f, Cx: float64(o.Width) / 2, Cy: float64(o.Height) / 2,
		FocalMM: o.FocalMM, SensorWidthMM: o.SensorMM,
		FocalLength35mm: int(math.Round(o.FocalMM * math.Hypot(36, 24) / diag)),
	}
}

func sheetTruth(s *markers.Sheet) *TruthSheet {
	t := &TruthSheet{Paper: s.Paper.String()}
	for _, m := range s.Markers {
		tm := TruthMarker{ID: m.ID}
		for k, c := range m.Corners() {
			tm.Corners[k] = [3]float64{c[0], c[1], 0}
		}
		t.Markers = append(t.Markers, tm)
	}
	a, b := s.Bar.Start, s.Bar.End
	t.CheckBar = [2][3]float64{{a[0], a[1], 0}, {b[0], b[1], 0}}
	return t
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// prepareDir makes dir, refusing one that holds files other than an earlier
// capture's.
func prepareDir(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return os.MkdirAll(dir, 0o755)
	case err != nil:
		return fmt.Errorf("synth: output folder: %w", err)
	}
	if len(entries) == 0 {
		return nil
	}
	if _, err := os.Stat(filepath.Join(dir, "groundtruth.json")); err != nil {
		return fmt.Errorf("synth: output folder %s is not empty and holds no earlier capture; choose an empty folder", dir)
	}
	// An earlier capture: remove its photos so views from a larger set do not linger.
	old, _ := filepath.Glob(filepath.Join(dir, "view_*.jpg"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

// writeFileAtomic writes path through a temporary file in the same folder,
// so a crash never leaves a half-written file under the final name.
func writeFileAtomic(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// LoadTruth reads a groundtruth.json.
func LoadTruth(path string) (*Truth, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var t Truth
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if t.Format != "replica-groundtruth/1" {
		return nil, fmt.Errorf("%s: format %q, want replica-groundtruth/1", path, t.Format)
	}
	return &t, nil
}
