package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/local"
)

// processReport is OUT/report.json (format replica-process/1).
type processReport struct {
	Format          string                 `json:"format"`
	Version         string                 `json:"version"`
	Photos          int                    `json:"photos"`
	Registered      int                    `json:"registered"`
	MeanReprojError float64                `json:"mean_reprojection_error_px"`
	Points          int                    `json:"points"`
	LeftOut         []string               `json:"left_out,omitempty"`      // photos the model does not hold
	BroaderPairs    int                    `json:"broader_pairs,omitempty"` // pairs matched again because photos were left out
	Mesh            *local.MeshSummary     `json:"mesh,omitempty"`
	Backend         string                 `json:"backend"`
	GPU             bool                   `json:"gpu"`
	Colmap          string                 `json:"colmap"`
	Quality         string                 `json:"quality"`
	Stages          []pipeline.StageResult `json:"stages"`
	Skipped         map[string]string      `json:"skipped,omitempty"` // stage → why
	Outputs         map[string]string      `json:"outputs"`
	Seconds         float64                `json:"seconds"`
}

func runProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("process", stderr, "DIR --out OUT [--quality draft|standard|high] [--backend auto|local]")
	out := fs.String("out", "", "output folder (created; reruns reuse what it holds)")
	quality := fs.String("quality", "standard", "quality preset: draft, standard or high")
	backend := fs.String("backend", "auto", "where to reconstruct: auto or local (cloud comes later)")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	dir, err := parseWithArg(fs, args, "folder")
	if err != nil {
		return err
	}
	switch {
	case dir == "":
		fs.Usage()
		return exitErr(2, fmt.Errorf("%w: process needs a folder of photos", errUsage))
	case *out == "":
		return exitErr(2, fmt.Errorf("%w: process needs --out OUT", errUsage))
	case *backend != "auto" && *backend != "local":
		return exitErr(2, fmt.Errorf("%w: --backend %q: want auto or local", errUsage, *backend))
	}
	preset, ok := local.Presets[*quality]
	if !ok {
		return exitErr(2, fmt.Errorf("%w: --quality %q: want draft, standard or high", errUsage, *quality))
	}
	if abs(*out) == abs(dir) {
		return exitErr(2, fmt.Errorf("%w: --out must not be the photo folder", errUsage))
	}
	photos, err := capture.ListPhotos(dir)
	if err != nil {
		return exitErr(2, err)
	}
	if len(photos) < 3 {
		return fmt.Errorf("%s holds %d photos: a model needs at least 3 overlapping photos, 20 to 50 work best", dir, len(photos))
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("output folder: %w (choose a folder you can write to)", err)
	}
	bin, err := colmap.Find(ctx)
	if err != nil {
		return err
	}
	gpus := colmap.DetectGPUs(ctx)
	o := local.Options{Preset: preset, GPU: bin.CUDA && len(gpus) > 0}
	if g := filepath.Join(dir, capture.GraphFileName); fileExists(g) {
		o.Graph = g
	}
	start := time.Now()
	r := &pipeline.Runner{Dir: *out}
	if !*quiet {
		r.Progress = newLineProgress(stderr)
	}
	stages, err := r.Run(ctx, local.Stages(bin, photos, o))
	if err != nil {
		var se *pipeline.StageError
		if errors.As(err, &se) && se.Hint != "" {
			return fmt.Errorf("%w\n%s", err, se.Hint)
		}
		return err
	}
	rep := processReport{Format: "replica-process/1", Version: assets.Version, Photos: len(photos), Backend: "local", GPU: o.GPU,
		Colmap: bin.Version.String(), Quality: *quality, Stages: stages, Outputs: map[string]string{}, Skipped: map[string]string{}}
	stage := func(name string) string { return filepath.Join(*out, "stages", name) }
	var s local.Summary
	if err := readJSON(filepath.Join(stage("mapping"), "model.json"), &s); err != nil {
		return err
	}
	rep.Registered, rep.MeanReprojError, rep.Points, rep.LeftOut, rep.BroaderPairs = s.Registered, s.MeanReprojError, s.Points, s.LeftOut, s.BroaderPairs
	if why := local.DenseSkipped(bin, o); why != "" {
		rep.Skipped["dense"] = why
	}
	rep.Mesh = new(local.MeshSummary)
	if err := readJSON(filepath.Join(stage("mesh"), "mesh.json"), rep.Mesh); err != nil {
		return err
	}
	for _, f := range []struct{ key, stage, file string }{
		{"sparse", "mapping", "sparse.ply"},
		{"dense", "dense", "dense.ply"},
		{"mesh", "mesh", "mesh.ply"},
	} {
		if f.key == "dense" && rep.Skipped["dense"] != "" {
			os.Remove(filepath.Join(*out, f.file)) // from an earlier run with a GPU
			continue
		}
		if err := pipeline.CopyFile(filepath.Join(stage(f.stage), f.file), filepath.Join(*out, f.file)); err != nil {
			return fmt.Errorf("writing the results: %w", err)
		}
		rep.Outputs[f.key] = f.file
	}
	rep.Seconds = time.Since(start).Seconds()
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, "report.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	fmt.Fprintf(stdout, "Registered %d of %d photos, %d points, mean reprojection error %.2f px (%s, %s) in %.0f s\n",
		rep.Registered, rep.Photos, rep.Points, rep.MeanReprojError, cpuOrGPU(o.GPU), *quality, rep.Seconds)
	if len(rep.LeftOut) > 0 {
		fmt.Fprintf(stdout, "Left out (no overlap found with the others): %s\n", strings.Join(rep.LeftOut, ", "))
	}
	fmt.Fprintf(stdout, "Mesh of the %s points: %d vertices, %d faces\n", rep.Mesh.Source, rep.Mesh.Vertices, rep.Mesh.Faces)
	if why := rep.Skipped["dense"]; why != "" {
		fmt.Fprintf(stdout, "Dense points skipped: %s\n", why)
	}
	names := []string{"report.json"}
	for _, k := range []string{"sparse", "dense", "mesh"} {
		if f, ok := rep.Outputs[k]; ok {
			names = append(names, f)
		}
	}
	fmt.Fprintf(stdout, "Wrote %s in %s\n", strings.Join(names, ", "), *out)
	return nil
}

func cpuOrGPU(gpu bool) string {
	if gpu {
		return "GPU"
	}
	return "CPU"
}

// lineProgress prints one line a stage and its progress: on a terminal
// as a bar redrawn in place, otherwise as a line every few seconds.
type lineProgress struct {
	w        io.Writer
	bar      bool // w is a terminal
	drawn    bool // a bar is on the current line
	lastLine time.Time
}

func newLineProgress(w io.Writer) *lineProgress {
	bar := false
	if f, ok := w.(*os.File); ok {
		st, err := f.Stat()
		bar = err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("TERM") != "dumb"
	}
	return &lineProgress{w: w, bar: bar}
}

func (p *lineProgress) Stage(name string, i, n int) {
	p.endBar()
	fmt.Fprintf(p.w, "[%d/%d] %s\n", i+1, n, name)
}

func (p *lineProgress) Update(name string, f float64, eta time.Duration) {
	left := ""
	if eta > 0 {
		left = fmt.Sprintf(", about %s left", eta.Round(time.Second))
	}
	if p.bar {
		const width = 30
		n := min(width, max(0, int(f*width+0.5)))
		fmt.Fprintf(p.w, "\r      %s [%s%s] %3.0f%%%s\x1b[K", name, strings.Repeat("#", n), strings.Repeat(".", width-n), 100*f, left)
		p.drawn = true
		return
	}
	if time.Since(p.lastLine) < 2*time.Second && f < 1 {
		return
	}
	p.lastLine = time.Now()
	fmt.Fprintf(p.w, "      %s %3.0f%%%s\n", name, 100*f, left)
}

func (p *lineProgress) Done(name string, cached bool, took time.Duration) {
	p.endBar()
	if cached {
		fmt.Fprintf(p.w, "      %s: from the cache\n", name)
		return
	}
	fmt.Fprintf(p.w, "      %s: done in %.1f s\n", name, took.Seconds())
}

// endBar ends the line a bar was drawn on.
func (p *lineProgress) endBar() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r\x1b[K")
		p.drawn = false
	}
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

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return filepath.Clean(a)
}
