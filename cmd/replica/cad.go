package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// runCad turns a watertight mesh into a STEP solid with analytic faces
// (cad.Assemble): planes, cylinders, cones and spheres fitted to it and
// bounded by their intersections, flat facets for what fits none.
func runCad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cad", stderr, "IN.(ply|stl) --out model.step [--name NAME] [--snap=false]")
	out := fs.String("out", "", "STEP `file` to write (required)")
	name := fs.String("name", "", "product name in the STEP (default: the input's file name)")
	snap := fs.Bool("snap", true, "snap near-parallel and near-square faces, coaxial cylinders and hole diameters to 0.1 mm (the mesh must be in millimetres)")
	in, err := parseWithArg(fs, args, "mesh")
	if err != nil {
		return err
	}
	ext := strings.ToLower(filepath.Ext(in))
	switch {
	case in == "":
		fs.Usage()
		return exitErr(2, fmt.Errorf("%w: cad needs a mesh, IN.ply or IN.stl", errUsage))
	case *out == "":
		fs.Usage()
		return exitErr(2, fmt.Errorf("%w: cad needs --out FILE.step", errUsage))
	case ext != ".ply" && ext != ".stl":
		return exitErr(2, fmt.Errorf("%w: cad reads .ply or .stl meshes, not %q", errUsage, filepath.Base(in)))
	}
	if *name == "" {
		*name = strings.TrimSuffix(filepath.Base(in), filepath.Ext(in))
	}
	m, err := readMesh(in)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s, rep, err := cad.Assemble(ctx, m, *name, &cad.AssembleOptions{Fit: &cad.FitOptions{NoSnap: !*snap}})
	if errors.Is(err, cad.ErrNotWatertight) || errors.Is(err, cad.ErrEmptyMesh) {
		return fmt.Errorf("%s: %w; repair it first (replica process writes watertight models)", in, err)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	unc := max(cad.DefaultUncertainty, rep.Tolerance)
	if err := writeFileAtomic(*out, func(w io.Writer) error {
		return cad.WriteSTEPWith(w, s, &cad.WriteOptions{Uncertainty: unc})
	}); err != nil {
		return fmt.Errorf("cad: %w", err)
	}
	if rep.Faceted {
		fmt.Fprintf(stdout, "Solid: %d flat facets (%s), volume %.6g mm³, written to %s\n", len(s.Faces), rep.Note, rep.Volume, *out)
		return nil
	}
	fmt.Fprintf(stdout, "Solid: %d faces: %s; volume %.6g mm³, written to %s\n",
		len(s.Faces), strings.Join(rep.Features, ", "), rep.Volume, *out)
	if rep.Demoted > 0 {
		fmt.Fprintf(stdout, "%d triangles that would not close the solid on their surfaces were kept as facets\n", rep.Demoted)
	}
	if rep.Fit != nil {
		for _, sn := range rep.Fit.Snaps {
			fmt.Fprintf(stdout, "Snapped: %s\n", sn)
		}
	}
	return nil
}

// readMesh reads an STL or PLY mesh, by its file name's extension.
func readMesh(path string) (*geom.Mesh, error) {
	if strings.EqualFold(filepath.Ext(path), ".ply") {
		p, err := mesh.ReadPLYFile(path)
		if err != nil {
			return nil, err
		}
		return p.Mesh(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := mesh.ReadSTL(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// writeFileAtomic writes path through a temporary file in the same folder
// and renames it into place, so that a failure leaves no partial file
// under the final name.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; name the file to write", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
