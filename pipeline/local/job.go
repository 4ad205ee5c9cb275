package local

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
)

// ReportFormat is the format name of report.json.
const ReportFormat = "replica-process/1"

// Report is OUT/report.json: what a job made and how (format
// replica-process/1, documented in the README).
type Report struct {
	Format          string                 `json:"format"`
	Version         string                 `json:"version"`
	Photos          int                    `json:"photos"`
	Registered      int                    `json:"registered"`
	MeanReprojError float64                `json:"mean_reprojection_error_px"`
	Points          int                    `json:"points"`
	LeftOut         []string               `json:"left_out,omitempty"`      // photos the model does not hold
	BroaderPairs    int                    `json:"broader_pairs,omitempty"` // pairs matched again because photos were left out
	Dense           *DenseSummary          `json:"dense,omitempty"`
	Mesh            *MeshSummary           `json:"mesh,omitempty"`
	Scale           *ScaleSummary          `json:"scale,omitempty"`
	Model           *ModelSummary          `json:"model,omitempty"`
	Cad             *CadSummary            `json:"cad,omitempty"`
	Backend         string                 `json:"backend"`
	GPU             bool                   `json:"gpu"`
	Colmap          string                 `json:"colmap"`
	Quality         string                 `json:"quality"`
	Stages          []pipeline.StageResult `json:"stages"`
	Skipped         map[string]string      `json:"skipped,omitempty"` // stage → why
	// Units are the length units of the printable model (model.stl,
	// model.3mf, model.ply): "mm" when the scale sheet or --known-length
	// gave the scale, "model" (COLMAP's arbitrary units) otherwise.
	// sparse.ply, dense.ply and mesh.ply stay in the reconstruction's own
	// units and frame; report.json's scale.transform maps them to the
	// model's.
	Units   string            `json:"units"`
	Outputs map[string]string `json:"outputs"` // "sparse", "dense", "mesh", "stl", "3mf", "ply", "step" → file in OUT
	Seconds float64           `json:"seconds"`
}

// Report.Units values.
const (
	UnitsModel = "model" // COLMAP's arbitrary units: the scale is not known
	UnitsMM    = "mm"
)

// Job is one reconstruction of photos into the folder Out.
type Job struct {
	Photos  []string // in capture order; only ever read
	Out     string   // created; a rerun reuses its cache
	Quality string   // a key of Presets
	// Graph is the capture's overlap graph (overlap.json), or "".
	Graph string
	// CPU keeps the work off the GPU even where COLMAP could use one.
	CPU bool
	// NoDense skips the dense stage: the mesh is made from the sparse
	// points (quicker, coarser).
	NoDense bool
	// KnownLength, when positive, is the part's largest extent in mm; it
	// sets the scale (over the markers' when both are there).
	KnownLength float64
	// MaxTriangles, when positive, decimates the model to at most this
	// many triangles.
	MaxTriangles int
	// NoFlatten keeps the part's surface as reconstructed: by default its
	// large flat faces are made exactly flat (see mesh.Flatten).
	NoFlatten bool
	// NoHoles leaves holes the mesher closed over closed (see
	// ModelOptions.NoHoles).
	NoHoles bool
	// Progress receives the stages' progress; nil for none.
	Progress pipeline.Progress
}

// Run runs the job with COLMAP bin: the stages (each from the cache when
// nothing it depends on changed), then the results copied to Out and
// Out/report.json written. A failure is a *pipeline.StageError with a hint.
func Run(ctx context.Context, bin *colmap.Binary, j Job) (*Report, error) {
	preset, ok := Presets[j.Quality]
	if !ok {
		return nil, fmt.Errorf("quality %q: want draft, standard or high", j.Quality)
	}
	if len(j.Photos) < 3 {
		return nil, pipeline.WithHint(fmt.Errorf("%d photos", len(j.Photos)), "A model needs at least 3 overlapping photos; 20 to 50 work best")
	}
	if err := os.MkdirAll(j.Out, 0o755); err != nil {
		return nil, &pipeline.StageError{Stage: "setup", Err: err, Hint: "Cannot write to the output folder: choose a folder you can write to"}
	}
	if !(j.KnownLength >= 0) || math.IsInf(j.KnownLength, 0) || j.MaxTriangles < 0 {
		return nil, fmt.Errorf("known length %g mm, at most %d triangles: want positive numbers (0 for none)", j.KnownLength, j.MaxTriangles)
	}
	o := Options{Preset: preset, Graph: j.Graph, GPU: !j.CPU && bin.CUDA && len(colmap.DetectGPUs(ctx)) > 0, NoDense: j.NoDense,
		Model: ModelOptions{KnownLength: j.KnownLength, MaxTriangles: j.MaxTriangles, NoFlatten: j.NoFlatten, NoHoles: j.NoHoles}}
	start := time.Now()
	stages, err := (&pipeline.Runner{Dir: j.Out, Progress: j.Progress}).Run(ctx, Stages(bin, j.Photos, o))
	if err != nil {
		return nil, err
	}
	rep := &Report{Format: ReportFormat, Version: assets.Version, Photos: len(j.Photos), Backend: "local", GPU: o.GPU,
		Colmap: bin.Version.String(), Quality: j.Quality, Stages: stages, Units: UnitsModel, Outputs: map[string]string{}, Skipped: map[string]string{}}
	stage := func(name string) string { return filepath.Join(j.Out, "stages", name) }
	var s Summary
	if err := readJSON(filepath.Join(stage("mapping"), "model.json"), &s); err != nil {
		return nil, err
	}
	rep.Registered, rep.MeanReprojError, rep.Points, rep.LeftOut, rep.BroaderPairs = s.Registered, s.MeanReprojError, s.Points, s.LeftOut, s.BroaderPairs
	if DenseBackend(o) == "" {
		rep.Skipped["dense"] = "not asked for (--dense=false); the mesh is made from the sparse points"
	} else {
		rep.Dense = new(DenseSummary)
		if err := readJSON(filepath.Join(stage("dense"), "dense.json"), rep.Dense); err != nil {
			return nil, err
		}
	}
	rep.Mesh = new(MeshSummary)
	if err := readJSON(filepath.Join(stage("mesh"), "mesh.json"), rep.Mesh); err != nil {
		return nil, err
	}
	rep.Scale, rep.Model = new(ScaleSummary), new(ModelSummary)
	if err := readJSON(filepath.Join(stage("scale"), "scale.json"), rep.Scale); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(stage("model"), "model.json"), rep.Model); err != nil {
		return nil, err
	}
	rep.Units = rep.Model.Units
	for k, why := range rep.Model.Skipped {
		rep.Skipped[k] = why
	}
	rep.Cad = new(CadSummary)
	if err := readJSON(filepath.Join(stage("cad"), "cad.json"), rep.Cad); err != nil {
		return nil, err
	}
	if rep.Cad.Skipped != "" {
		rep.Skipped["step"] = rep.Cad.Skipped
	}
	for _, f := range []struct{ key, stage, file string }{
		{"sparse", "mapping", "sparse.ply"},
		{"dense", "dense", "dense.ply"},
		{"mesh", "mesh", "mesh.ply"},
		{"stl", "model", "model.stl"},
		{"3mf", "model", "model.3mf"},
		{"ply", "model", "model.ply"},
		{"step", "cad", "model.step"},
	} {
		if rep.Skipped[f.key] != "" {
			os.Remove(filepath.Join(j.Out, f.file)) // from an earlier run that made it
			continue
		}
		if err := pipeline.CopyFile(filepath.Join(stage(f.stage), f.file), filepath.Join(j.Out, f.file)); err != nil {
			return nil, &pipeline.StageError{Stage: "results", Err: err, Hint: pipeline.WriteHint(err)}
		}
		rep.Outputs[f.key] = f.file
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := writeJSON(filepath.Join(j.Out, "report.json"), rep); err != nil {
		return nil, &pipeline.StageError{Stage: "results", Err: err, Hint: pipeline.WriteHint(err)}
	}
	return rep, nil
}

// ReadReport reads OUT/report.json.
func ReadReport(out string) (*Report, error) {
	var r Report
	if err := readJSON(filepath.Join(out, "report.json"), &r); err != nil {
		return nil, err
	}
	if r.Format != ReportFormat {
		return nil, fmt.Errorf("%s: format %q, want %s", filepath.Join(out, "report.json"), r.Format, ReportFormat)
	}
	return &r, nil
}

// writeJSON writes v, indented, to the file at path.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// readJSON decodes the JSON file at path into v.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
