package local

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/mesh"
)

// cadVersion names the cad stage's algorithm in its cache key: bump it
// when a change should remake the STEP of earlier jobs.
const cadVersion = 4

// CadSummary is what the cad stage made, saved as cad.json: the part as
// a STEP solid (model.step in the stage folder), or why there is none.
type CadSummary struct {
	Faces int `json:"faces"`
	// Surfaces counts the fitted faces by surface: "plane", "cylinder",
	// "cone", "sphere"; Freeform the flat facets standing for the rest.
	Surfaces map[string]int `json:"surfaces"`
	Freeform int            `json:"freeform"`
	// Faceted is true when no surface was fitted and the solid is made of
	// the model's flat facets alone; Note says why.
	Faceted bool   `json:"faceted"`
	Note    string `json:"note,omitempty"`
	// Features lists what was fitted, for people, one line each, the
	// most telling first: "2 holes Ø8.0 mm", "6 planes", "1 cylinder
	// Ø30.0 mm". Empty for a faceted solid.
	Features []string `json:"features,omitempty"`
	// Holes are the fitted holes' diameters in Units, largest first.
	Holes []float64 `json:"holes,omitempty"`
	// Demoted counts the model's triangles given up to facets so that
	// the solid closes; Snaps says what snapping changed.
	Demoted int      `json:"demoted,omitempty"`
	Snaps   []string `json:"snaps,omitempty"`
	// Tolerance is the largest distance of a vertex from its faces'
	// surfaces, declared in the STEP as its uncertainty when above 1e-6.
	Tolerance float64 `json:"tolerance"`
	Volume    float64 `json:"volume"` // of the solid, in Units³
	// Units are the model's: the STEP states millimetres, which are
	// COLMAP's arbitrary units when this is "model".
	Units   string  `json:"units,omitempty"`
	File    string  `json:"file,omitempty"` // "model.step", "" when skipped
	Seconds float64 `json:"seconds"`
	// Skipped says why no STEP was written: no printable model, or a
	// mesh the solid could not be made of.
	Skipped string `json:"skipped,omitempty"`
}

// cadStage makes the printable model (the model stage's model.ply) into a
// STEP solid named after the job folder: cad.Assemble fits planes,
// cylinders, cones and spheres to it and bounds them by their
// intersections, with flat facets for what fits none. No model, or a mesh
// the solid cannot be made of, is not a failure: cad.json says why, and
// the job's other outputs are still written.
func cadStage(ctx context.Context, env *pipeline.Env) error {
	start := time.Now()
	s := CadSummary{Surfaces: map[string]int{}}
	skip := func(why string) error {
		fmt.Fprintf(env.Log, "no STEP: %s\n", why)
		s.Skipped, s.Seconds = why, time.Since(start).Seconds()
		return writeJSON(filepath.Join(env.Dir, "cad.json"), s)
	}
	var model ModelSummary
	if err := readJSON(filepath.Join(env.Prev["model"], "model.json"), &model); err != nil {
		return err
	}
	switch {
	case model.Failed != "":
		return skip("no printable model: " + model.Failed)
	case model.Files["ply"] == "":
		return skip("no printable model")
	case model.Units != UnitsMM && model.Units != UnitsModel:
		return skip(fmt.Sprintf("the model is in unknown units %q", model.Units))
	}
	s.Units = model.Units
	p, err := mesh.ReadPLYFile(filepath.Join(env.Prev["model"], model.Files["ply"]))
	if err != nil {
		return err
	}
	env.Progress(0.05)
	if err := ctx.Err(); err != nil {
		return err
	}
	// Snapping rounds diameters to 0.1 mm: only in millimetres.
	fo := &cad.FitOptions{NoSnap: model.Units != UnitsMM}
	solid, rep, err := cad.Assemble(ctx, p.Mesh(), jobName(env.Dir), &cad.AssembleOptions{
		Fit:      fo,
		Progress: func(x float64) { env.Progress(0.05 + 0.8*x) },
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return skip(err.Error())
	}
	env.Progress(0.9)
	unc := max(cad.DefaultUncertainty, rep.Tolerance)
	if err := writeFile(filepath.Join(env.Dir, "model.step"), func(w io.Writer) error {
		return cad.WriteSTEPWith(w, solid, &cad.WriteOptions{Uncertainty: unc})
	}); err != nil {
		return err
	}
	s.Faces, s.Surfaces, s.Freeform = rep.Faces, rep.Surfaces, rep.Freeform
	s.Faceted, s.Note, s.Features, s.Holes = rep.Faceted, rep.Note, rep.Features, rep.Holes
	s.Demoted, s.Tolerance = rep.Demoted, rep.Tolerance
	if rep.Fit != nil {
		s.Snaps = rep.Fit.Snaps
	}
	s.Volume, s.File = rep.Volume, "model.step"
	s.Seconds = time.Since(start).Seconds()
	if s.Faceted {
		fmt.Fprintf(env.Log, "STEP solid %q: %d flat facets (%s), volume %.6g %s³\n", solid.Name, s.Faces, s.Note, s.Volume, s.Units)
	} else {
		fmt.Fprintf(env.Log, "STEP solid %q: %d faces, %s, volume %.6g %s³\n", solid.Name, s.Faces, strings.Join(s.Features, ", "), s.Volume, s.Units)
	}
	return writeJSON(filepath.Join(env.Dir, "cad.json"), s)
}

// jobName is the name of the job folder a stage runs in (its folder is
// JOB/stages/.NAME.tmp-…), or "part" outside one.
func jobName(dir string) string {
	stages := filepath.Dir(filepath.Clean(dir))
	if filepath.Base(stages) != "stages" {
		return "part"
	}
	name := filepath.Base(filepath.Dir(stages))
	if name == "." || name == string(filepath.Separator) || name == "" {
		return "part"
	}
	return name
}
