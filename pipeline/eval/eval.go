package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/synth"
)

// Result is `replica eval --json` (format replica-eval/1). Lengths in mm.
type Result struct {
	Format     string `json:"format"`
	Registered int    `json:"registered"`
	Total      int    `json:"total"`
	// PartSize is the diagonal of the true part's bounding box, the yard
	// stick of the shares below.
	PartSize float64 `json:"part_size_mm"`
	// PartExtent is the largest side of the true part's bounding box, the
	// yard stick of the budgets (PointStat's Budget fields).
	PartExtent float64 `json:"part_extent_mm"`
	// Scale is how many mm one unit of the reconstruction is.
	Scale   float64    `json:"scale_mm_per_unit"`
	Centres CentreStat `json:"camera_centres"`
	// Sparse measures the sparse points against the true surface, when
	// groundtruth.stl is there. The points include the mat and the sheet
	// around the part, which the surface does not: accuracy is over the
	// points within 5 % of the part's size of it.
	Sparse *PointStat `json:"sparse,omitempty"`
	// Dense measures OUT/dense.ply the same way, when it is there.
	Dense *PointStat `json:"dense,omitempty"`
	// Mesh measures OUT/mesh.ply, when it is there: accuracy over points
	// sampled uniformly on the mesh (Points of them), completeness as the
	// share of the true surface within Tolerance of the mesh's surface.
	Mesh *PointStat `json:"mesh,omitempty"`
	// Printable measures OUT/model.stl, when it is there, as it stands
	// against the true part (EvaluatePrint).
	Printable *PrintResult `json:"print,omitempty"`
}

// PointStat is a point cloud measured against the true surface.
type PointStat struct {
	Points       int     `json:"points"`    // all the cloud's points
	NearPart     int     `json:"near_part"` // those within 5 % of the part's size of its surface
	MeanMM       float64 `json:"accuracy_mean_mm"`
	MedianMM     float64 `json:"accuracy_median_mm"`
	P90MM        float64 `json:"accuracy_p90_mm"`
	Tolerance    float64 `json:"completeness_tolerance_mm"`
	Completeness float64 `json:"completeness"` // share of the true surface within Tolerance of a point

	// The product's budgets for the fused points, relative to the part's
	// largest side (Result.PartExtent): 90 % of the points within
	// BudgetAccuracyMM of the scene, and 90 % of the visible true surface
	// within BudgetCompletenessMM of a point.
	//
	// Scene accuracy counts every point, the mat's included: its distance
	// to the scene, the part's surface and the ground plane z = 0
	// (SceneDistance).
	BudgetAccuracyMM float64 `json:"accuracy_budget_mm"`    // accuracyBudget · PartExtent
	SceneP90MM       float64 `json:"scene_accuracy_p90_mm"` // 90 % of the finite points lie this close to the scene
	SceneWithin      float64 `json:"scene_within_budget"`   // share of all the points within BudgetAccuracyMM of the scene
	// NearSceneWithin is SceneWithin over the points near the part only.
	NearSceneWithin float64 `json:"near_part_scene_within_budget"`
	// Visible completeness is over the true surface the true cameras see
	// (Surface.Visible); for the mesh, within BudgetCompletenessMM of its
	// surface.
	BudgetCompletenessMM float64 `json:"completeness_budget_mm"` // completenessBudget · PartExtent
	VisibleShare         float64 `json:"visible_share"`          // share of the true surface that is visible
	VisibleCompleteness  float64 `json:"visible_completeness"`   // share of the visible surface within BudgetCompletenessMM of a point
}

// The product's budgets for the fused points, as shares of the part's
// largest side, and the share of points or of the visible surface that
// must meet them.
const (
	accuracyBudget     = 0.003
	completenessBudget = 0.005
	budgetShare        = 0.9
)

// completenessSamples is how many points of the true surface the
// completeness measures sample: a standard error of at most
// 1/(2√20000) ≈ 0.0035 on a share.
const completenessSamples = 20000

// CentreStat is the camera-centre error after alignment.
type CentreStat struct {
	RMS       float64 `json:"rms_mm"`
	Mean      float64 `json:"mean_mm"`
	Max       float64 `json:"max_mm"`
	MaxShare  float64 `json:"max_share_of_part"`
	Distance  float64 `json:"camera_distance_mm"` // mean distance of the true cameras to their target
	MaxShareD float64 `json:"max_share_of_distance"`
}

// prepared is the part of pipeline/local's prepared.json eval reads.
type prepared struct {
	Source string `json:"source"`
	Name   string `json:"name"`
}

// Evaluate measures the reconstruction in the output folder out (of
// `replica process`) against the synthetic capture's truth file.
//
// tol is the completeness tolerance in mm (0 skips the point measures).
// The budget measures' tolerances follow the part's largest side instead,
// and their visible surface is the one the true cameras, truth.Views, see.
// When out holds ModelFile, that is measured as it stands against the true
// part too (EvaluatePrint, Result.Printable).
func Evaluate(out, truthPath string, tol float64) (*Result, error) {
	tb, err := os.ReadFile(truthPath)
	if err != nil {
		return nil, fmt.Errorf("truth: %w", err)
	}
	var truth synth.Truth
	if err := json.Unmarshal(tb, &truth); err != nil {
		return nil, fmt.Errorf("truth %s: %w", filepath.Base(truthPath), err)
	}
	if !strings.HasPrefix(truth.Format, "replica-groundtruth/") {
		return nil, fmt.Errorf("truth %s: format %q, want replica-groundtruth/1", filepath.Base(truthPath), truth.Format)
	}
	pb, err := os.ReadFile(filepath.Join(out, "stages", "prepare", "prepared.json"))
	if err != nil {
		return nil, fmt.Errorf("%s holds no reconstruction (run replica process first): %w", out, err)
	}
	var prep []prepared
	if err := json.Unmarshal(pb, &prep); err != nil {
		return nil, fmt.Errorf("prepared.json: %w", err)
	}
	source := map[string]string{} // prepared name → the photo's file name
	for _, p := range prep {
		source[p.Name] = filepath.Base(p.Source)
	}
	m, err := colmap.ReadModel(filepath.Join(out, "stages", "mapping", "sparse"))
	if err != nil {
		return nil, err
	}
	want := map[string]r3.Vec{}
	var target r3.Vec = r3.Vec{X: truth.Target[0], Y: truth.Target[1], Z: truth.Target[2]}
	var dist float64
	for _, v := range truth.Views {
		c := r3.Vec{X: v.Center[0], Y: v.Center[1], Z: v.Center[2]}
		want[v.Image] = c
		dist += r3.Norm(r3.Sub(c, target))
	}
	if len(truth.Views) > 0 {
		dist /= float64(len(truth.Views))
	}
	var est, tru []r3.Vec
	for _, im := range m.Images {
		if c, ok := want[source[im.Name]]; ok {
			est = append(est, im.Center())
			tru = append(tru, c)
		}
	}
	res := &Result{Format: "replica-eval/1", Registered: len(est), Total: len(truth.Views)}
	sim, e, err := Residuals(est, tru)
	if err != nil {
		return nil, fmt.Errorf("aligning %d registered cameras with the truth: %w", len(est), err)
	}
	res.Scale = sim.Scale
	var surf *Surface
	if tm, err := readSTL(filepath.Join(filepath.Dir(truthPath), truth.Surface)); err == nil {
		b := tm.Bounds()
		res.PartSize = r3.Norm(geom.Vec(b.Size()))
		res.PartExtent = b.MaxExtent()
		if surf, err = NewSurface(tm); err != nil {
			return nil, fmt.Errorf("true surface: %w", err)
		}
	}
	if surf != nil && tol > 0 {
		cams := make([]r3.Vec, len(truth.Views))
		for i, v := range truth.Views {
			cams[i] = r3.Vec{X: v.Center[0], Y: v.Center[1], Z: v.Center[2]}
		}
		ref := &reference{surf: surf, vis: surf.Visible(cams, completenessSamples), size: res.PartSize, extent: res.PartExtent, tol: tol}
		pts := make([]r3.Vec, 0, len(m.Points))
		for _, p := range m.Points {
			pts = append(pts, p.XYZ)
		}
		res.Sparse = measurePoints(pts, sim.Apply, ref)
		if ply, err := mesh.ReadPLYFile(filepath.Join(out, "dense.ply")); err == nil {
			res.Dense = measurePoints(ply.Cloud.Points, sim.Apply, ref)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("dense.ply: %w", err)
		}
		if ply, err := mesh.ReadPLYFile(filepath.Join(out, "mesh.ply")); err == nil {
			if res.Mesh, err = measureMesh(ply.Mesh(), sim.Apply, ref); err != nil {
				return nil, fmt.Errorf("mesh.ply: %w", err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("mesh.ply: %w", err)
		}
	}
	if res.Printable, err = evaluateModel(out, filepath.Join(filepath.Dir(truthPath), truth.Surface)); err != nil {
		return nil, err
	}
	res.Centres = CentreStat{RMS: e.RMS, Mean: e.Mean, Max: e.Max, Distance: dist}
	if res.PartSize > 0 {
		res.Centres.MaxShare = e.Max / res.PartSize
	}
	if dist > 0 {
		res.Centres.MaxShareD = e.Max / dist
	}
	return res, nil
}

// reference is what the point measures compare with: the true surface,
// its visible samples, the part's size (diagonal) and largest side, and
// the completeness tolerance, all in mm.
type reference struct {
	surf         *Surface
	vis          *VisibleSurface
	size, extent float64
	tol          float64
}

// measurePoints measures pts, in the reconstruction's units, against the
// true surface after the alignment sim (safe for concurrent use). The
// distances to the part serve both the measures on the points near it and
// the scene's.
func measurePoints(pts []r3.Vec, sim func(r3.Vec) r3.Vec, ref *reference) *PointStat {
	q := make([]r3.Vec, len(pts))
	part := make([]float64, len(pts))  // to the part's surface
	scene := make([]float64, len(pts)) // to the scene
	parallel(len(pts), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			q[i] = sim(pts[i])
			part[i] = ref.surf.Distance(q[i])
			scene[i] = sceneDistance(part[i], q[i])
		}
	})
	var near []r3.Vec
	var nearD, nearScene []float64
	for i, d := range part {
		if d <= 0.05*ref.size { // false for NaN and +Inf
			near = append(near, q[i])
			nearD = append(nearD, d)
			nearScene = append(nearScene, scene[i])
		}
	}
	a := accuracyOf(nearD)
	st := &PointStat{Points: len(pts), NearPart: a.N, MeanMM: a.Mean, MedianMM: a.Median, P90MM: a.P90,
		Tolerance: ref.tol, Completeness: MeasureCompleteness(near, ref.surf, ref.tol, completenessSamples)}
	st.BudgetAccuracyMM = accuracyBudget * ref.extent
	sa, within := sceneAccuracy(scene, st.BudgetAccuracyMM)
	st.SceneP90MM, st.SceneWithin = sa.P90, within
	_, st.NearSceneWithin = sceneAccuracy(nearScene, st.BudgetAccuracyMM)
	st.BudgetCompletenessMM = completenessBudget * ref.extent
	st.VisibleShare = ref.vis.Share()
	st.VisibleCompleteness = ref.vis.Completeness(q, st.BudgetCompletenessMM)
	return st
}

// meshSamples is how many points are sampled on a mesh for its accuracy.
const meshSamples = 200000

// measureMesh measures a mesh against the true surface after sim.
//
// Its visible completeness is the share of the visible samples within the
// budget of the mesh's surface.
func measureMesh(m *geom.Mesh, sim func(r3.Vec) r3.Vec, ref *reference) (*PointStat, error) {
	aligned := &geom.Mesh{Vertices: make([]r3.Vec, len(m.Vertices)), Faces: m.Faces}
	for i, v := range m.Vertices {
		aligned.Vertices[i] = sim(v)
	}
	ours, err := NewSurface(aligned)
	if err != nil {
		return nil, err
	}
	st := measurePoints(ours.Sample(meshSamples, 1), func(p r3.Vec) r3.Vec { return p }, ref)
	// Completeness: true surface points close to the mesh's surface.
	st.Completeness = shareWithin(ref.surf.Sample(completenessSamples, 2), ours, ref.tol)
	st.VisibleCompleteness = shareWithin(ref.vis.Samples, ours, st.BudgetCompletenessMM)
	return st, nil
}

func readSTL(path string) (*geom.Mesh, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return mesh.ReadSTL(f)
}

// Print writes r for a person.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "Registered %d of %d photos; 1 unit = %.3g mm\n", r.Registered, r.Total, r.Scale)
	fmt.Fprintf(w, "Camera centres after a similarity alignment: RMS %.2f mm, worst %.2f mm (%.2f%% of the %.0f mm camera distance",
		r.Centres.RMS, r.Centres.Max, 100*r.Centres.MaxShareD, r.Centres.Distance)
	if r.PartSize > 0 {
		fmt.Fprintf(w, ", %.2f%% of the part's %.0f mm size", 100*r.Centres.MaxShare, r.PartSize)
	}
	fmt.Fprintln(w, ")")
	for _, x := range []struct {
		what string
		st   *PointStat
		near string // what the visible surface must be near
	}{{"Sparse points", r.Sparse, "a point"}, {"Dense points", r.Dense, "a point"}, {"Mesh (sampled points)", r.Mesh, "the mesh"}} {
		if sp := x.st; sp != nil {
			fmt.Fprintf(w, "%s on the part: %d of %d; accuracy mean %.2f mm, median %.2f mm, 90%% within %.2f mm; completeness %.1f%% of the surface within %.1f mm\n",
				x.what, sp.NearPart, sp.Points, sp.MeanMM, sp.MedianMM, sp.P90MM, 100*sp.Completeness, sp.Tolerance)
			fmt.Fprintf(w, "  budget: %.1f%% of all points within %.2f mm of the scene (≥ %.0f%%; those near the part: %.1f%%); %.1f%% of the visible surface (%.0f%% of it) within %.2f mm of %s (≥ %.0f%%)\n",
				100*sp.SceneWithin, sp.BudgetAccuracyMM, 100*budgetShare, 100*sp.NearSceneWithin, 100*sp.VisibleCompleteness, 100*sp.VisibleShare,
				sp.BudgetCompletenessMM, x.near, 100*budgetShare)
		}
	}
	if r.Printable != nil {
		r.Printable.Print(w)
	}
}
