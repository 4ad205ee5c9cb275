package local

import (
	"context"
	"encoding/json"
	"fmt"
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
	Backend         string                 `json:"backend"`
	GPU             bool                   `json:"gpu"`
	Colmap          string                 `json:"colmap"`
	Quality         string                 `json:"quality"`
	Stages          []pipeline.StageResult `json:"stages"`
	Skipped         map[string]string      `json:"skipped,omitempty"` // stage → why
	// Units are the outputs' length units: "mm" once the model is scaled,
	// "model" (COLMAP's arbitrary units) until then.
	Units   string            `json:"units"`
	Outputs map[string]string `json:"outputs"` // "sparse", "dense", "mesh" (later "stl", "3mf", "step") → file in OUT
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
	o := Options{Preset: preset, Graph: j.Graph, GPU: !j.CPU && bin.CUDA && len(colmap.DetectGPUs(ctx)) > 0, NoDense: j.NoDense}
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
	for _, f := range []struct{ key, stage, file string }{
		{"sparse", "mapping", "sparse.ply"},
		{"dense", "dense", "dense.ply"},
		{"mesh", "mesh", "mesh.ply"},
	} {
		if f.key == "dense" && rep.Skipped["dense"] != "" {
			os.Remove(filepath.Join(j.Out, f.file)) // from an earlier run with a GPU
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
