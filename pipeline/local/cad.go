package local

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/mesh"
)

// cadVersion names the cad stage's algorithm in its cache key: bump it
// when a change should remake the STEP of earlier jobs.
const cadVersion = 1

// cadVolumeTol is the chord error (mm) of the tessellation that measures
// the solid's volume; a faceted solid comes out exactly whatever it is.
const cadVolumeTol = 0.01

// CadSummary is what the cad stage made, saved as cad.json: the part as
// a STEP solid (model.step in the stage folder), or why there is none.
type CadSummary struct {
	Faces int `json:"faces"`
	// Surfaces counts the faces by surface: "plane", "cylinder", "cone",
	// "sphere".
	Surfaces map[string]int `json:"surfaces"`
	// Faceted is true while the solid is made of the model's flat facets
	// alone (no cylinders, cones or spheres fitted).
	Faceted bool `json:"faceted"`
	// Features lists what was fitted, for people, one line each, the
	// most telling first: "2 holes Ø8.0 mm", "6 planes", "1 cylinder
	// Ø30.0 mm". Empty for a faceted solid.
	Features []string `json:"features,omitempty"`
	Volume   float64  `json:"volume"` // of the solid, in Units³
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
// STEP solid named after the job folder. For now the solid is faceted, one
// planar face per flat region of the mesh: the fitting of cylinders, cones
// and spheres (pipeline/cad) is not wired in yet. No model, or a mesh the
// solid cannot be made of, is not a failure: cad.json says why, and the
// job's other outputs are still written.
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
	env.Progress(0.2)
	if err := ctx.Err(); err != nil {
		return err
	}
	solid, err := cad.FromMesh(p.Mesh(), jobName(env.Dir))
	if err != nil {
		return skip(err.Error())
	}
	env.Progress(0.6)
	tm, err := cad.Tessellate(solid, cadVolumeTol)
	if err != nil {
		return skip(err.Error())
	}
	if err := writeFile(filepath.Join(env.Dir, "model.step"), func(w io.Writer) error { return cad.WriteSTEP(w, solid) }); err != nil {
		return err
	}
	s.Faces, s.Faceted, s.Volume, s.File = len(solid.Faces), true, tm.SignedVolume(), "model.step"
	for _, f := range solid.Faces {
		switch f.Surface.(type) {
		case *cad.Plane:
			s.Surfaces["plane"]++
		case *cad.Cylinder:
			s.Surfaces["cylinder"]++
		case *cad.Cone:
			s.Surfaces["cone"]++
		case *cad.Sphere:
			s.Surfaces["sphere"]++
		}
		if _, ok := f.Surface.(*cad.Plane); !ok {
			s.Faceted = false
		}
	}
	s.Seconds = time.Since(start).Seconds()
	fmt.Fprintf(env.Log, "STEP solid %q: %d faces %v, volume %.6g %s³\n", solid.Name, s.Faces, s.Surfaces, s.Volume, s.Units)
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
