package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/local"
)

func runProcess(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("process", stderr, "DIR --out OUT [--quality draft|standard|high] [--backend auto|local] [--known-length MM] [--max-triangles N] [--flatten=false] [--holes=false]")
	out := fs.String("out", "", "output folder (created; reruns reuse what it holds)")
	quality := fs.String("quality", "standard", "quality preset: draft, standard or high")
	backend := fs.String("backend", "auto", "where to reconstruct: auto or local (cloud comes later)")
	dense := fs.Bool("dense", true, "compute dense points (COLMAP on an NVIDIA GPU, else Replica's multi-view stereo on the CPU); false meshes the sparse points")
	cpu := fs.Bool("cpu", false, "keep the work on the CPU even where COLMAP could use an NVIDIA GPU")
	knownLength := fs.Float64("known-length", 0, "the part's largest extent in mm, when the photos show no scale sheet (or to override it)")
	maxTriangles := fs.Int("max-triangles", 0, "decimate the printable model to at most this many triangles (0: keep them all)")
	flatten := fs.Bool("flatten", true, "make the part's large flat faces exactly flat and their edges sharp (false keeps the surface as reconstructed)")
	openHoles := fs.Bool("holes", true, "check the flat faces against the photos for holes the mesh closed over, and cut them (needs --flatten)")
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
	case !(*knownLength >= 0) || math.IsInf(*knownLength, 0):
		return exitErr(2, fmt.Errorf("%w: --known-length %g: want a length in mm", errUsage, *knownLength))
	case *maxTriangles < 0:
		return exitErr(2, fmt.Errorf("%w: --max-triangles %d: want a count, 0 for no limit", errUsage, *maxTriangles))
	case *backend != "auto" && *backend != "local":
		return exitErr(2, fmt.Errorf("%w: --backend %q: want auto or local", errUsage, *backend))
	}
	if _, ok := local.Presets[*quality]; !ok {
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
	job := local.Job{Photos: photos, Out: *out, Quality: *quality, NoDense: !*dense, CPU: *cpu,
		KnownLength: *knownLength, MaxTriangles: *maxTriangles, NoFlatten: !*flatten, NoHoles: !*openHoles}
	if g := filepath.Join(dir, capture.GraphFileName); pipeline.FileExists(g) {
		job.Graph = g
	}
	if !*quiet {
		job.Progress = newLineProgress(stderr)
	}
	rep, err := local.Run(ctx, bin, job)
	if err != nil {
		if se, ok := errors.AsType[*pipeline.StageError](err); ok && se.Hint != "" {
			return fmt.Errorf("%w\n%s", err, se.Hint)
		}
		return err
	}
	fmt.Fprintf(stdout, "Registered %d of %d photos, %d points, mean reprojection error %.2f px (%s, %s) in %.0f s\n",
		rep.Registered, rep.Photos, rep.Points, rep.MeanReprojError, cpuOrGPU(rep.GPU), *quality, rep.Seconds)
	if len(rep.LeftOut) > 0 {
		fmt.Fprintf(stdout, "Left out (no overlap found with the others): %s\n", strings.Join(rep.LeftOut, ", "))
	}
	if d := rep.Dense; d != nil {
		fmt.Fprintf(stdout, "Dense points: %d (%s", d.Points, d.Backend)
		if d.Views > 0 {
			fmt.Fprintf(stdout, ", depth maps of %d photos at %d×%d", d.Views, d.Width, d.Height)
		}
		fmt.Fprint(stdout, ")")
		for _, st := range rep.Stages {
			if st.Name == "dense" && !st.Cached {
				fmt.Fprintf(stdout, " in %.0f s", st.Seconds)
			}
		}
		fmt.Fprintln(stdout)
		for _, sk := range d.Skipped {
			fmt.Fprintf(stdout, "  no depth for %s: %s\n", sk.Photo, sk.Reason)
		}
	}
	if why := rep.Skipped["dense"]; why != "" {
		fmt.Fprintf(stdout, "Dense points skipped: %s\n", why)
	}
	fmt.Fprintf(stdout, "Mesh of the %s points: %d vertices, %d faces\n", rep.Mesh.Source, rep.Mesh.Vertices, rep.Mesh.Faces)
	printScale(stdout, rep)
	names := []string{"report.json"}
	for _, k := range []string{"stl", "3mf", "ply", "step", "sparse", "dense", "mesh"} {
		if f, ok := rep.Outputs[k]; ok {
			names = append(names, f)
		}
	}
	fmt.Fprintf(stdout, "Wrote %s in %s\n", strings.Join(names, ", "), *out)
	if m := rep.Model; m != nil && m.Failed != "" {
		return fmt.Errorf("no printable model: %s", m.Failed)
	}
	return nil
}

// printScale prints how the model was scaled and the part's size.
func printScale(w io.Writer, rep *local.Report) {
	if sc := rep.Scale; sc != nil {
		if sc.Found {
			fmt.Fprintf(w, "Scale: %d markers of the %s sheet in %d photos, ±%.3f %% (corners %.2f mm RMS from the printed layout)\n",
				sc.Markers, sc.Paper, sc.PhotosUsed, sc.UncertaintyPct, sc.ResidualRMS)
		} else {
			fmt.Fprintf(w, "Scale: unknown: %s\n", sc.Reason)
		}
	}
	m := rep.Model
	if m == nil || m.Failed != "" {
		return
	}
	if m.ScaleSource == "known_length" {
		fmt.Fprintf(w, "Scale: from --known-length (%.6g mm per unit", m.MMPerUnit)
		if m.MarkersMMPerUnit > 0 {
			fmt.Fprintf(w, "; the markers gave %.6g, %+.2f %%", m.MarkersMMPerUnit, 100*(m.MarkersMMPerUnit/m.MMPerUnit-1))
		}
		fmt.Fprintln(w, ")")
	}
	unit := " mm"
	if m.Units != local.UnitsMM {
		unit = " model units (scale unknown)"
	}
	tight := "watertight"
	if !m.Watertight {
		tight = "NOT watertight"
	}
	fmt.Fprintf(w, "Part: %.2f × %.2f × %.2f%s, volume %.6g, %d triangles, %s", m.Size[0], m.Size[1], m.Size[2], unit, m.Volume, m.Triangles, tight)
	if r := m.Repair; r != nil {
		fmt.Fprintf(w, " (%d gaps in the mesh filled, %d fragments removed)", r.HolesFilled, r.FragmentsRemoved)
	}
	if m.Isolate != nil && m.Isolate.Flatten != nil && len(m.Isolate.Flatten.Planes) > 0 {
		fmt.Fprintf(w, "; %d flat faces made flat", len(m.Isolate.Flatten.Planes))
	}
	if d := m.Holes.Describe(); d != "" {
		fmt.Fprintf(w, "; %s opened", d)
	}
	fmt.Fprintln(w)
	printCad(w, rep.Cad)
	for _, warning := range m.Warnings {
		fmt.Fprintf(w, "Warning: %s\n", warning)
	}
	if why := rep.Skipped["3mf"]; why != "" {
		fmt.Fprintf(w, "3MF not written: %s\n", why)
	}
}

// printCad prints the STEP solid the cad stage made, or why it made none.
func printCad(w io.Writer, c *local.CadSummary) {
	switch {
	case c == nil:
	case c.Skipped != "":
		fmt.Fprintf(w, "CAD: no STEP written: %s\n", c.Skipped)
	case c.Faceted:
		fmt.Fprintf(w, "CAD: %s, %d flat facets: %s\n", c.File, c.Faces, c.Note)
	default:
		fmt.Fprintf(w, "CAD: %s, %d faces: %s\n", c.File, c.Faces, strings.Join(c.Features, ", "))
	}
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

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return filepath.Clean(a)
}
