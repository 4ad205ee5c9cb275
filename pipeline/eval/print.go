package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// PrintResult is how a printable model (OUT/model.stl: the part alone,
// watertight, in mm, in the scale sheet's frame, which is the synthetic
// world's) matches the true part. The model is compared as it stands, with
// no alignment, so that a wrong scale or a wrong placement shows; the
// Aligned fields repeat the surface measure after the best translation only
// to tell a placement error from a shape error. Lengths in mm.
type PrintResult struct {
	Model string `json:"model"` // the file measured
	Faces int    `json:"faces"`
	// Units are report.json's, when OUT holds one that says: anything but
	// "mm" means the model was not scaled and nothing below can pass.
	Units string `json:"units,omitempty"`

	// The bounding boxes' sides along x, y and z, over the faces' corners,
	// and ours against the truth's: (ours − true)/true · 100.
	TrueSize     [3]float64 `json:"true_size_mm"`
	Size         [3]float64 `json:"size_mm"`
	SizeErrorPct [3]float64 `json:"size_error_pct"`
	// The volumes enclosed (geom.Mesh.SignedVolume): negative for a model
	// turned inside out, meaningless for one that is not watertight.
	TrueVolume     float64 `json:"true_volume_mm3"`
	Volume         float64 `json:"volume_mm3"`
	VolumeErrorPct float64 `json:"volume_error_pct"`
	Watertight     bool    `json:"watertight"` // geom.Topology.Watertight

	// Tolerance is the surface budget's distance. SurfaceWithin is the
	// share of the true surface, by area, within it of the model's surface:
	// of Samples points drawn uniformly by area on the true surface, those
	// that are. SurfaceMedian and SurfaceP95 are quantiles of the same
	// distances.
	Tolerance     float64 `json:"tolerance_mm"`
	Samples       int     `json:"samples"`
	SurfaceWithin float64 `json:"surface_within"`
	SurfaceMedian float64 `json:"surface_median_mm"`
	SurfaceP95    float64 `json:"surface_p95_mm"`
	// ModelToTruthP95 is the other way round: 95 % of the model's surface,
	// sampled the same way, lies this close to the true surface. Extra
	// material (a blob of the mat, a bridge) shows here and not above.
	ModelToTruthP95 float64 `json:"model_to_truth_p95_mm"`

	// Offset is how far the model sits from the true part, ours − true:
	// between the solids' centroids when both are watertight with a
	// positive volume (OffsetBy "centroid"), otherwise between the
	// bounding boxes' centres ("box").
	Offset   [3]float64 `json:"offset_mm"`
	OffsetBy string     `json:"offset_by"`
	// The surface measure again with the model moved back by Offset: a
	// shape that is right but misplaced passes here and not above.
	AlignedSurfaceWithin float64 `json:"aligned_surface_within"`
	AlignedSurfaceMedian float64 `json:"aligned_surface_median_mm"`
	AlignedSurfaceP95    float64 `json:"aligned_surface_p95_mm"`

	// The budgets (PrintSizeBudgetPct, PrintVolumeBudgetPct,
	// PrintSurfaceShare at Tolerance), each met or not; Pass when all three
	// are and the model is watertight.
	SizeOK    bool `json:"size_ok"`
	VolumeOK  bool `json:"volume_ok"`
	SurfaceOK bool `json:"surface_ok"`
	Pass      bool `json:"pass"`
}

// The printable model's budgets: every side of the bounding box within
// PrintSizeBudgetPct % of the truth's, the volume within
// PrintVolumeBudgetPct %, and PrintSurfaceShare of the true surface, by
// area, within PrintTol mm of the model.
const (
	PrintSizeBudgetPct   = 0.5
	PrintVolumeBudgetPct = 3.0
	PrintSurfaceShare    = 0.95
	PrintTol             = 0.5
)

// PrintSamples is how many points EvaluatePrint's callers here sample on
// each surface: a standard error of at most 1/(2√200000) ≈ 0.0011 on a
// share, small beside the 5 % of the surface the budget leaves out.
const PrintSamples = 200000

// ModelFile is the printable model `replica process` writes to its output
// folder, and the file Evaluate measures there when it exists.
const ModelFile = "model.stl"

// The seeds of the surfaces' samples, so that the same files give the same
// figures.
const (
	truthSampleSeed = 1
	modelSampleSeed = 2
)

// EvaluatePrint reads the printable model at modelPath (STL, 3MF or PLY, by
// its extension) and the true surface at truthSTL, both in mm, and measures
// the one against the other with MeasurePrint.
func EvaluatePrint(modelPath, truthSTL string, tol float64, samples int) (*PrintResult, error) {
	model, err := readModel(modelPath)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", filepath.Base(modelPath), err)
	}
	truth, err := readSTL(truthSTL)
	if err != nil {
		return nil, fmt.Errorf("true surface %s: %w", filepath.Base(truthSTL), err)
	}
	r, err := MeasurePrint(model, truth, tol, samples)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", filepath.Base(modelPath), err)
	}
	r.Model = modelPath
	return r, nil
}

// readModel reads a mesh by the extension of path: .stl, .3mf or .ply.
func readModel(path string) (*geom.Mesh, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".stl":
		return readSTL(path)
	case ".3mf":
		return mesh.Read3MFFile(path)
	case ".ply":
		p, err := mesh.ReadPLYFile(path)
		if err != nil {
			return nil, err
		}
		return p.Mesh(), nil
	}
	return nil, errors.New("unknown format: want .stl, .3mf or .ply")
}

// MeasurePrint measures the printable model against the true part's
// surface truth, both in mm and in the same frame, as PrintResult
// describes: tol is the surface budget's distance (PrintTol) and samples
// how many points to draw on each surface (PrintSamples). The distance
// queries run on GOMAXPROCS goroutines.
//
// It returns an error for a tol that is not positive and finite, samples
// below 1, a mesh that fails geom.Mesh.Validate or has no face of positive
// area, a true surface that encloses no volume, and coordinates so large
// that a measure overflows.
func MeasurePrint(model, truth *geom.Mesh, tol float64, samples int) (*PrintResult, error) {
	if !(tol > 0) || math.IsInf(tol, 1) {
		return nil, fmt.Errorf("eval: print tolerance %g: want a positive length in mm", tol)
	}
	if samples < 1 {
		return nil, fmt.Errorf("eval: %d samples: want at least 1", samples)
	}
	if model == nil || truth == nil {
		return nil, errors.New("eval: no mesh to measure")
	}
	// The two trees and the model's topology are independent: build them
	// side by side (the 1.3-million-face model's tree is most of the time).
	var (
		wg          sync.WaitGroup
		ours, tsurf *Surface
		oerr, terr  error
		topo        geom.Topology
		tvol        float64
		tcentr      r3.Vec
	)
	wg.Go(func() { ours, oerr = NewSurface(model) })
	wg.Go(func() {
		if tsurf, terr = NewSurface(truth); terr == nil {
			tvol, tcentr = solid(truth)
		}
	})
	wg.Go(func() { topo = model.Topology() })
	wg.Wait()
	if oerr != nil {
		return nil, oerr
	}
	if terr != nil {
		return nil, fmt.Errorf("true surface: %w", terr)
	}
	if ours.last < 0 {
		return nil, errors.New("eval: the model's faces have no area")
	}
	if !(tvol > 0) {
		return nil, fmt.Errorf("eval: the true surface encloses a volume of %g mm³, want a closed surface ordered counter-clockwise from outside", tvol)
	}
	vol, centr := solid(model)
	tbox, box := faceBounds(truth), faceBounds(model)
	r := &PrintResult{
		Faces:      len(model.Faces),
		TrueVolume: tvol,
		Volume:     vol,
		Watertight: topo.Watertight(),
		Tolerance:  tol,
		Samples:    samples,
	}
	tsize, size := tbox.Size(), box.Size()
	r.TrueSize = [3]float64{tsize.X, tsize.Y, tsize.Z}
	r.Size = [3]float64{size.X, size.Y, size.Z}
	for i := range 3 {
		r.SizeErrorPct[i] = (r.Size[i] - r.TrueSize[i]) / r.TrueSize[i] * 100
	}
	r.VolumeErrorPct = (vol - tvol) / tvol * 100

	var off r3.Vec
	if r.Watertight && vol > 0 {
		off, r.OffsetBy = r3.Sub(centr, tcentr), "centroid"
	} else {
		off, r.OffsetBy = r3.Sub(box.Center(), tbox.Center()), "box"
	}
	r.Offset = [3]float64{off.X, off.Y, off.Z}

	// The true surface's samples, measured against the model as it is and
	// moved back by off: the distance from p to the model moved by −off is
	// the distance from p + off to the model.
	q := tsurf.Sample(samples, truthSampleSeed)
	r.SurfaceWithin, r.SurfaceMedian, r.SurfaceP95 = distanceStats(q, r3.Vec{}, ours, tol)
	r.AlignedSurfaceWithin, r.AlignedSurfaceMedian, r.AlignedSurfaceP95 = distanceStats(q, off, ours, tol)
	_, _, r.ModelToTruthP95 = distanceStats(ours.Sample(samples, modelSampleSeed), r3.Vec{}, tsurf, tol)

	for _, v := range [...]float64{
		r.TrueSize[0], r.TrueSize[1], r.TrueSize[2], r.Size[0], r.Size[1], r.Size[2],
		r.SizeErrorPct[0], r.SizeErrorPct[1], r.SizeErrorPct[2],
		r.TrueVolume, r.Volume, r.VolumeErrorPct, r.Offset[0], r.Offset[1], r.Offset[2],
		r.SurfaceMedian, r.SurfaceP95, r.ModelToTruthP95, r.AlignedSurfaceMedian, r.AlignedSurfaceP95,
	} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, errors.New("eval: a print measure overflows: coordinates out of any part's range")
		}
	}
	r.SizeOK = true
	for _, e := range r.SizeErrorPct {
		r.SizeOK = r.SizeOK && math.Abs(e) <= PrintSizeBudgetPct
	}
	r.VolumeOK = math.Abs(r.VolumeErrorPct) <= PrintVolumeBudgetPct
	r.SurfaceOK = r.SurfaceWithin >= PrintSurfaceShare
	r.Pass = r.SizeOK && r.VolumeOK && r.SurfaceOK && r.Watertight
	return r, nil
}

// distanceStats returns, over the points q each moved by off, the share
// within tol of s and the median and 95th percentile of their distances
// (Hyndman and Fan's definition 7, as quantile). q must not be empty.
func distanceStats(q []r3.Vec, off r3.Vec, s *Surface, tol float64) (within, median, p95 float64) {
	d := make([]float64, len(q))
	parallel(len(q), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = s.Distance(r3.Add(q[i], off))
		}
	})
	slices.Sort(d)
	n := sort.Search(len(d), func(i int) bool { return d[i] > tol })
	return float64(n) / float64(len(d)), quantile(d, 0.5), quantile(d, 0.95)
}

// solid returns the volume a closed mesh bounds (geom.Mesh.SignedVolume)
// and its centroid: the volume-weighted mean of the centroids
// (o + a + b + c)/4 of the signed tetrahedra (o, a, b, c) that
// SignedVolume sums, o the centre of the bounding box (Zhang and Chen,
// ICIP 2001, as SignedVolume; the first moments the same way). The
// centroid is o when the volume is zero. The mesh must pass Validate.
func solid(m *geom.Mesh) (float64, r3.Vec) {
	o := m.Bounds().Center()
	var six float64 // six times the volume
	var mom r3.Vec  // 24 times the first moment about o
	for _, f := range m.Faces {
		a, b, c := r3.Sub(m.Vertices[f[0]], o), r3.Sub(m.Vertices[f[1]], o), r3.Sub(m.Vertices[f[2]], o)
		v := r3.Dot(a, r3.Cross(b, c))
		six += v
		mom = r3.Add(mom, r3.Scale(v, r3.Add(r3.Add(a, b), c)))
	}
	if six == 0 {
		return 0, o
	}
	return six / 6, r3.Add(o, r3.Scale(1/(4*six), mom))
}

// faceBounds returns the bounding box of the faces' corners: unlike
// geom.Mesh.Bounds, it leaves out vertices no face uses, which a PLY file
// may hold. The mesh must pass Validate.
func faceBounds(m *geom.Mesh) geom.Box {
	b := geom.EmptyBox()
	for _, f := range m.Faces {
		b = b.Extend(m.Vertices[f[0]]).Extend(m.Vertices[f[1]]).Extend(m.Vertices[f[2]])
	}
	return b
}

// evaluateModel measures OUT/model.stl against the true surface truthSTL
// with the budgets' tolerance and PrintSamples, or returns nil when out
// holds no model. Units come from OUT/report.json when it has them.
func evaluateModel(out, truthSTL string) (*PrintResult, error) {
	path := filepath.Join(out, ModelFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	r, err := EvaluatePrint(path, truthSTL, PrintTol, PrintSamples)
	if err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err == nil {
		var rep struct {
			Units string `json:"units"`
		}
		if json.Unmarshal(b, &rep) == nil {
			r.Units = rep.Units
		}
	}
	return r, nil
}

// Print writes r for a person: the three budgets' lines marked ok or FAIL,
// then the placement.
func (r *PrintResult) Print(w io.Writer) {
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "FAIL"
	}
	wt := "watertight"
	if !r.Watertight {
		wt = "NOT watertight: FAIL"
	}
	fmt.Fprintf(w, "Printable model %s: %d faces, %s; %.2f × %.2f × %.2f mm (true %.2f × %.2f × %.2f mm); pass: %v\n",
		filepath.Base(r.Model), r.Faces, wt, r.Size[0], r.Size[1], r.Size[2], r.TrueSize[0], r.TrueSize[1], r.TrueSize[2], r.Pass)
	if r.Units != "" && r.Units != "mm" {
		fmt.Fprintf(w, "  report.json says units %q: the model is not in mm\n", r.Units)
	}
	fmt.Fprintf(w, "  budget: size x %+.2f%%, y %+.2f%%, z %+.2f%% (each within ±%.1f%%): %s\n",
		r.SizeErrorPct[0], r.SizeErrorPct[1], r.SizeErrorPct[2], PrintSizeBudgetPct, mark(r.SizeOK))
	fmt.Fprintf(w, "  budget: volume %.0f mm³, %+.2f%% of the true %.0f mm³ (within ±%.0f%%): %s\n",
		r.Volume, r.VolumeErrorPct, r.TrueVolume, PrintVolumeBudgetPct, mark(r.VolumeOK))
	fmt.Fprintf(w, "  budget: %.1f%% of the true surface within %.2f mm of the model (≥ %.0f%%): %s; median %.3f mm, 95%% within %.3f mm; 95%% of the model within %.3f mm of the truth\n",
		100*r.SurfaceWithin, r.Tolerance, 100*PrintSurfaceShare, mark(r.SurfaceOK), r.SurfaceMedian, r.SurfaceP95, r.ModelToTruthP95)
	fmt.Fprintf(w, "  placement: %s off by (%+.3f, %+.3f, %+.3f) mm; moved back by that, %.1f%% within %.2f mm (median %.3f mm, 95%% within %.3f mm)\n",
		r.OffsetBy, r.Offset[0], r.Offset[1], r.Offset[2], 100*r.AlignedSurfaceWithin, r.Tolerance, r.AlignedSurfaceMedian, r.AlignedSurfaceP95)
}
