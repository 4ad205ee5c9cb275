package local

import (
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // prepared photos are JPEG
	_ "image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/holes"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/mvs"
	"github.com/replica3d/replica/pipeline/scale"
)

// ScaleSummary is what the scale stage found, saved as scale.json: the
// marker fit (see scale.Result) and the markers found in each photo.
type ScaleSummary struct {
	scale.Result
	// PerPhoto counts the markers detected in each registered photo.
	PerPhoto map[string]int `json:"per_photo,omitempty"`
}

// modelVersion names the model stage's algorithm (isolation, base, repair)
// in its cache key: bump it when a change should remake the models of
// earlier jobs.
const modelVersion = 18

// detectorVersion names the marker detector's behaviour in the scale
// stage's cache key: bump it when capture/markers.Detect changes what it
// finds.
const detectorVersion = 1

// scaleStage detects the scale sheet's markers in the registered photos
// (their prepared copies, which the cameras describe) and fits the sheet
// to them. Markers not found is not a failure: scale.json says why, and
// the model stage leaves the model in its own units or takes the user's
// known length.
func scaleStage(ctx context.Context, env *pipeline.Env) error {
	m, err := colmap.ReadModel(filepath.Join(env.Prev["mapping"], "sparse"))
	if err != nil {
		return err
	}
	images := filepath.Join(env.Prev["prepare"], "images")
	views := make([]scale.View, len(m.Images))
	for i, im := range m.Images {
		if views[i], err = scale.NewView(m, im); err != nil {
			return err
		}
	}
	found := make([][]markers.Detection, len(m.Images))
	errs := make([]error, len(m.Images))
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		done int
	)
	next := make(chan int)
	for range min(runtime.GOMAXPROCS(0), len(m.Images)) {
		wg.Go(func() {
			for i := range next {
				found[i], errs[i] = detectFile(filepath.Join(images, m.Images[i].Name))
				mu.Lock()
				done++
				env.Progress(0.95 * float64(done) / float64(len(m.Images)))
				mu.Unlock()
			}
		})
	}
	for i := range m.Images {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	s := ScaleSummary{PerPhoto: map[string]int{}}
	var obs []scale.Observation
	for i, d := range found {
		if errs[i] != nil {
			fmt.Fprintf(env.Log, "%s: %v\n", m.Images[i].Name, errs[i])
			continue
		}
		s.PerPhoto[m.Images[i].Name] = len(d)
		for _, det := range d {
			obs = append(obs, scale.Observation{View: i, ID: det.ID, Corners: det.Corners})
		}
	}
	r, err := scale.Solve(views, obs)
	if err != nil {
		return err
	}
	s.Result = *r
	if r.Found {
		fmt.Fprintf(env.Log, "scale from %d markers (%d corners) of the %s sheet in %d photos: %.6g mm per unit ± %.3f %%, corners %.3f mm RMS from the layout, reprojection %.2f px\n",
			r.Markers, r.Corners, r.Paper, r.PhotosUsed, r.MMPerUnit, r.UncertaintyPct, r.ResidualRMS, r.ReprojectionRMS)
	} else {
		fmt.Fprintf(env.Log, "no scale: %s\n", r.Reason)
	}
	return writeJSON(filepath.Join(env.Dir, "scale.json"), s)
}

// detectFile decodes the photo at path and finds the markers in it.
func detectFile(path string) ([]markers.Detection, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, err
	}
	return markers.Detect(img), nil
}

// ModelOptions are the user's choices for the printable model.
type ModelOptions struct {
	// KnownLength, when positive, is the part's largest extent in mm: it
	// sets the scale, over the markers' when both are there.
	KnownLength float64
	// MaxTriangles, when positive, decimates the model to at most this
	// many triangles.
	MaxTriangles int
	// NoFlatten keeps the surface as reconstructed instead of making its
	// large flat faces exactly flat and their edges sharp.
	NoFlatten bool
	// NoHoles leaves holes the mesher closed over closed, instead of
	// finding them in the photos and cutting them (see pipeline/holes;
	// only flattened parts are checked).
	NoHoles bool
}

// ModelSummary is what the model stage made, saved as model.json: the
// printable part, in Units, standing on z = 0.
type ModelSummary struct {
	Units string `json:"units"` // "mm", or "model" when the scale is unknown
	// ScaleSource is "markers", "known_length", or "" when the scale is
	// unknown.
	ScaleSource string `json:"scale_source"`
	// Ground is what gave the plane z = 0: "sheet" (the markers) or
	// "plane" (the largest plane of the mesh, the mat or table).
	Ground string `json:"ground"`
	// MMPerUnit is the scale applied to the reconstruction's units; 0
	// when unknown. MarkersMMPerUnit is the markers' when KnownLength
	// overrode it, for comparison.
	MMPerUnit        float64 `json:"mm_per_unit,omitempty"`
	MarkersMMPerUnit float64 `json:"markers_mm_per_unit,omitempty"`
	// Size is the part's bounding box (x, y, z) in Units; Volume its
	// volume in Units³.
	Size       [3]float64           `json:"size"`
	Volume     float64              `json:"volume"`
	Triangles  int                  `json:"triangles"`
	Watertight bool                 `json:"watertight"`
	Isolate    *mesh.IsolateReport  `json:"isolate"`
	Repair     *mesh.RepairReport   `json:"repair"`
	Decimate   *mesh.DecimateReport `json:"decimate,omitempty"`
	// Holes is what the check of the flat faces against the photos found
	// and cut (nil when not run).
	Holes *HolesSummary `json:"holes,omitempty"`
	// FlattenUndone says why the model was left unflattened although
	// flattening was asked for (it made the mesh less sound).
	FlattenUndone string `json:"flatten_undone,omitempty"`
	// Warnings are what the user should know about the model's quality.
	Warnings []string `json:"warnings,omitempty"`
	// Failed says why no printable model was made (nothing stands on
	// the mat, no ground plane), with what to do about it; the job's
	// other outputs are still written.
	Failed  string            `json:"failed,omitempty"`
	Files   map[string]string `json:"files"`             // "stl", "3mf", "ply" → file in the stage folder
	Skipped map[string]string `json:"skipped,omitempty"` // output → why not written
}

// maxGroundTilt (degrees) is the most the plane found without markers may
// lean from the photos' mean up direction (their image −y axes) to be taken
// for the mat. A photo looking down at the part at elevation e holds its up
// direction e from vertical; around the part these cancel, but photos from
// one side only, looking steeply down, lean their mean up by as much as
// 60°. A wall or the face of a large object seen head-on is near 90°.
const maxGroundTilt = 75

// cutHeightMM is where the mesh is cut above the mat when the model is in
// millimetres: above the few tenths of a millimetre where the mesher
// rounds the corner between the part and the mat, low enough that the
// walls below it are almost always vertical.
const cutHeightMM = 1.0

// modelStage makes the printable part: the mesh put in the sheet's frame
// (millimetres, z up, the mat on z = 0) or, without markers, in the frame
// of its largest plane; the part isolated on a flat base, repaired,
// scaled to the user's known length if given, decimated if asked, and
// written as STL, 3MF and PLY.
func modelStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o ModelOptions, maxSide int) error {
	p, err := mesh.ReadPLYFile(filepath.Join(env.Prev["mesh"], "mesh.ply"))
	if err != nil {
		return err
	}
	m := p.Mesh()
	var sc ScaleSummary
	if err := readJSON(filepath.Join(env.Prev["scale"], "scale.json"), &sc); err != nil {
		return err
	}
	s := ModelSummary{Units: UnitsModel, Files: map[string]string{}, Skipped: map[string]string{}}
	var frame *scale.Similarity
	cut := 0.0
	if sc.Found && sc.Transform != nil {
		frame, s.Ground, s.Units, s.ScaleSource, s.MMPerUnit = sc.Transform, "sheet", UnitsMM, "markers", sc.MMPerUnit
		cut = cutHeightMM
	} else {
		sparse, err := colmap.ReadModel(filepath.Join(env.Prev["mapping"], "sparse"))
		if err != nil {
			return err
		}
		var cams []r3.Vec
		var up r3.Vec
		for _, im := range sparse.Images {
			cams = append(cams, im.Center())
			up = r3.Add(up, im.Up())
		}
		frame, err = scale.Ground(m.Vertices, cams, 2*mesh.MedianEdge(m))
		if err != nil {
			return failModel(env, &s, fmt.Sprintf("%v: the mat or table under the part was not reconstructed; photograph the part on a flat, textured surface, with the printed scale sheet under it", err))
		}
		// The plane must be level as the photos were held: a wall or the
		// face of a large object is not what the part stands on.
		normal := r3.Vec{X: frame.R[6], Y: frame.R[7], Z: frame.R[8]}
		if n := r3.Norm(up); n > 0 {
			if tilt := math.Acos(math.Max(-1, math.Min(1, r3.Dot(normal, up)/n))) * 180 / math.Pi; tilt > maxGroundTilt {
				return failModel(env, &s, fmt.Sprintf("the largest flat surface the photos see is tilted %.0f° from level as the photos were held, so it is not a mat or table the part stands on; photograph the part on a flat, textured surface, with the printed scale sheet under it", tilt))
			}
		}
		s.Ground, s.Units = "plane", UnitsModel
	}
	for i, v := range m.Vertices {
		m.Vertices[i] = frame.Apply(v)
	}
	env.Progress(0.1)
	part, irep, rrep, err := printablePart(ctx, env, m, cut, !o.NoFlatten)
	if err == nil && irep.Flatten != nil && (!rrep.Watertight || rrep.SelfIntersectionsLeft > 0) {
		// Flattening a rough reconstruction can fold faces into each
		// other: keep whichever result is the sounder.
		p2, i2, r2, err2 := printablePart(ctx, env, m, cut, false)
		if err2 == nil && (r2.Watertight && !rrep.Watertight || r2.Watertight == rrep.Watertight && r2.SelfIntersectionsLeft < rrep.SelfIntersectionsLeft) {
			fmt.Fprintf(env.Log, "kept the part unflattened: flattened it was watertight %v with %d crossing faces left, unflattened %v with %d\n",
				rrep.Watertight, rrep.SelfIntersectionsLeft, r2.Watertight, r2.SelfIntersectionsLeft)
			s.FlattenUndone = fmt.Sprintf("the flat faces were not made flat: on this rough reconstruction that folded the surface (%s; as reconstructed: %s), so the model keeps the surface as reconstructed",
				soundness(rrep), soundness(r2))
			s.Warnings = append(s.Warnings, s.FlattenUndone)
			part, irep, rrep = p2, i2, r2
		}
	}
	if err != nil {
		if errors.Is(err, mesh.ErrNoPart) || errors.Is(err, mesh.ErrEmptyMesh) {
			return failModel(env, &s, fmt.Sprintf("%v: make sure the part stands on the mat in the middle of the photos, and that the photos see it from all around", err))
		}
		return err
	}
	s.Isolate, s.Repair = irep, rrep
	if !o.NoHoles && irep.Flatten != nil && s.FlattenUndone == "" {
		var hs *HolesSummary
		part, hs, err = openHoles(ctx, env, bin, part, frame, maxSide)
		if err != nil {
			return err
		}
		s.Holes = hs
		if hs.Repair != nil {
			s.Repair = hs.Repair
		}
		if hs.Undone != "" {
			s.Warnings = append(s.Warnings, hs.Undone)
		}
	}
	if w := wallGaps(irep); w != "" {
		s.Warnings = append(s.Warnings, w)
	}
	env.Progress(0.5)
	if s.Ground == "plane" {
		alignToPart(part)
	}
	if o.KnownLength > 0 {
		b := part.Bounds().Size()
		extent := max(b.X, b.Y, b.Z)
		if !(extent > 0) {
			return errors.New("the part has no extent to scale to --known-length")
		}
		f := o.KnownLength / extent
		for i, v := range part.Vertices {
			part.Vertices[i] = r3.Scale(f, v)
		}
		if s.ScaleSource == "markers" {
			s.MarkersMMPerUnit = s.MMPerUnit
			s.MMPerUnit *= f
		} else {
			s.MMPerUnit = f
		}
		s.Units, s.ScaleSource = UnitsMM, "known_length"
	}
	if o.MaxTriangles > 0 && len(part.Faces) > o.MaxTriangles {
		dec, drep, err := mesh.Decimate(ctx, part, o.MaxTriangles, nil)
		if err != nil {
			return fmt.Errorf("decimate: %w", err)
		}
		part, s.Decimate = dec, drep
	}
	env.Progress(0.7)
	b := part.Bounds().Size()
	s.Size = [3]float64{b.X, b.Y, b.Z}
	s.Volume = part.SignedVolume()
	s.Triangles = len(part.Faces)
	s.Watertight = part.Topology().Watertight()
	if !s.Watertight {
		s.Warnings = append(s.Warnings, "the model is not watertight: a slicer may repair or refuse it")
	}

	units := "millimetres"
	if s.Units != UnitsMM {
		units = "model units (scale unknown)"
	}
	header := "replica model in " + units
	if err := writeFile(filepath.Join(env.Dir, "model.stl"), func(w io.Writer) error { return mesh.WriteSTL(w, part, header) }); err != nil {
		return err
	}
	s.Files["stl"] = "model.stl"
	if s.Units == UnitsMM {
		if err := writeFile(filepath.Join(env.Dir, "model.3mf"), func(w io.Writer) error { return mesh.Write3MF(w, part, "part") }); err != nil {
			return err
		}
		s.Files["3mf"] = "model.3mf"
	} else {
		s.Skipped["3mf"] = "the scale is unknown and a 3MF must state its unit: lay the part on the printed scale sheet, or give --known-length"
	}
	ply := &mesh.PLY{Cloud: geom.PointCloud{Points: part.Vertices}, Faces: part.Faces, Comments: []string{header}}
	if err := writeFile(filepath.Join(env.Dir, "model.ply"), func(w io.Writer) error { return mesh.WritePLY(w, ply, mesh.BinaryLittleEndian) }); err != nil {
		return err
	}
	s.Files["ply"] = "model.ply"
	fmt.Fprintf(env.Log, "model: %.4g × %.4g × %.4g %s, volume %.6g, %d triangles, watertight %v\n", b.X, b.Y, b.Z, s.Units, s.Volume, s.Triangles, s.Watertight)
	return writeJSON(filepath.Join(env.Dir, "model.json"), s)
}

// printablePart isolates the part on its base, flattened when asked, and
// repairs it. An ErrNoPart or ErrEmptyMesh (wrapped) means there is no part
// to print.
func printablePart(ctx context.Context, env *pipeline.Env, m *geom.Mesh, cut float64, flatten bool) (*geom.Mesh, *mesh.IsolateReport, *mesh.RepairReport, error) {
	iopt := &mesh.IsolateOptions{Cut: cut}
	if flatten {
		iopt.Flatten = &mesh.FlattenOptions{}
	}
	part, irep, rrep, err := mesh.Printable(ctx, m, iopt)
	if err != nil {
		return nil, nil, nil, err
	}
	fmt.Fprintf(env.Log, "isolated the part: cut at %.3g, %d faces below it, %d of %d pieces removed, base of %d loops and %d triangles; %d gaps in the walls at the cut, %d carried down\n",
		irep.Cut, irep.FacesBelow, irep.ComponentsLeft, irep.Components, irep.BaseLoops, irep.BaseTriangles, irep.OpenOutline, irep.Carried)
	if irep.CarryUndone != "" {
		fmt.Fprintf(env.Log, "%s\n", irep.CarryUndone)
	}
	if f := irep.Flatten; f != nil {
		fmt.Fprintf(env.Log, "flattened %d flat faces (tolerance %.3g): %d vertices onto a face, %d onto an edge, %d onto a corner, %d left, largest move %.3g; %d curved regions left alone; %d slivers contracted\n",
			len(f.Planes), f.Tolerance, f.OnPlane, f.OnEdge, f.OnCorner, f.Kept, f.MaxMove, f.Curved, f.Slivers)
	}
	env.Progress(0.3)
	fmt.Fprintf(env.Log, "repaired: %+v\n", *rrep)
	return part, irep, rrep, nil
}

// wallGaps says how the gaps Isolate found in the walls near the mat were
// closed, or "" when there were none.
func wallGaps(r *mesh.IsolateReport) string {
	n, carried := r.OpenOutline, r.Carried
	if n == 0 {
		return ""
	}
	places := func(k int) string {
		if k == 1 {
			return "1 place"
		}
		return fmt.Sprintf("%d places", k)
	}
	var how string
	switch {
	case carried == n:
		how = "they were carried straight down to it, which is right for upright walls"
	case carried == 0:
		how = "the gaps were closed by hole filling and may not follow the part there"
	default:
		how = fmt.Sprintf("in %s they were carried straight down to it, which is right for upright walls, and in %s closed by hole filling, which may not follow the part", places(carried), places(n-carried))
	}
	return fmt.Sprintf("the walls were not reconstructed down to the mat in %s: %s; take more photos from low angles all around the part", places(n), how)
}

// soundness describes a repaired mesh's watertightness and crossings.
func soundness(r *mesh.RepairReport) string {
	w := "watertight"
	if !r.Watertight {
		w = "not watertight"
	}
	return fmt.Sprintf("%s, %d faces crossing others", w, r.SelfIntersectionsLeft)
}

// failModel records in model.json why no printable model was made: the
// reconstruction's other outputs stay useful, so the stage does not fail.
func failModel(env *pipeline.Env, s *ModelSummary, why string) error {
	fmt.Fprintf(env.Log, "no printable model: %s\n", why)
	s.Failed = why
	for _, k := range []string{"stl", "3mf", "ply"} {
		s.Skipped[k] = "no printable model"
	}
	s.Files = map[string]string{}
	return writeJSON(filepath.Join(env.Dir, "model.json"), s)
}

// alignToPart turns the part about z so that its footprint's principal
// axes lie along x and y (the longer along x), and centres its bounding
// box on the origin in x and y: without the sheet, the frame's x and y are
// arbitrary and these are the axes a maker measures along.
func alignToPart(m *geom.Mesh) {
	var cx, cy float64
	for _, v := range m.Vertices {
		cx += v.X
		cy += v.Y
	}
	n := float64(len(m.Vertices))
	cx, cy = cx/n, cy/n
	var sxx, sxy, syy float64
	for _, v := range m.Vertices {
		dx, dy := v.X-cx, v.Y-cy
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	a := 0.5 * math.Atan2(2*sxy, sxx-syy) // the major axis's angle
	c, sn := math.Cos(-a), math.Sin(-a)
	for i, v := range m.Vertices {
		m.Vertices[i] = geom.Vec{X: c*v.X - sn*v.Y, Y: sn*v.X + c*v.Y, Z: v.Z}
	}
	ctr := m.Bounds().Center()
	for i := range m.Vertices {
		m.Vertices[i].X -= ctr.X
		m.Vertices[i].Y -= ctr.Y
	}
}

// writeFile writes path through a temporary file, so that a failure
// leaves no half-written file under the final name.
func writeFile(path string, write func(io.Writer) error) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// HolesSummary is what the model stage's check for capped holes did.
type HolesSummary struct {
	*holes.Report
	Cut *holes.CutReport `json:"cut,omitempty"`
	// Repair is the repair after the cut (also the model's Repair).
	Repair *mesh.RepairReport `json:"-"`
	// Undone says why the holes found were not cut after all.
	Undone string `json:"undone,omitempty"`
}

// Describe says which holes were cut: "2 holes (Ø7.8 through, Ø5.0 6.2
// deep)", or "" when none were (or h is nil).
func (h *HolesSummary) Describe() string {
	if h == nil || h.Report == nil || h.Cut == nil || h.Cut.Cut == 0 || h.Undone != "" {
		return ""
	}
	var parts []string
	for _, x := range h.Holes {
		if x.Through {
			parts = append(parts, fmt.Sprintf("Ø%.1f through", x.Diameter))
		} else {
			parts = append(parts, fmt.Sprintf("Ø%.1f %.1f deep", x.Diameter, x.Depth))
		}
	}
	n := h.Cut.Cut
	if n != len(parts) {
		return fmt.Sprintf("%d of the %d holes found", n, len(parts))
	}
	noun := "holes"
	if n == 1 {
		noun = "hole"
	}
	return fmt.Sprintf("%d %s (%s)", n, noun, strings.Join(parts, ", "))
}

// openHoles checks the flat faces of part (flattened and repaired, in
// frame) against the photos for holes the mesher closed over, and returns
// the part with them cut and repaired; the part as it was when there are
// none or cutting them would leave it unsound.
func openHoles(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, part *geom.Mesh, frame *scale.Similarity, maxSide int) (*geom.Mesh, *HolesSummary, error) {
	ws := filepath.Join(env.Dir, "photos")
	defer os.RemoveAll(ws)
	if err := runColmap(ctx, env, bin, "image_undistorter", []string{
		"--image_path", filepath.Join(env.Prev["prepare"], "images"),
		"--input_path", filepath.Join(env.Prev["mapping"], "sparse"),
		"--output_path", ws, "--output_type", "COLMAP",
		"--max_image_size", strconv.Itoa(maxSide),
	}, 0); err != nil {
		return nil, nil, err
	}
	// At most 2400 px: the check needs no more, and 50 photos of the high
	// preset at full size would hold over a gigabyte.
	views, err := mvs.LoadWorkspace(ctx, ws, holesMaxSide, 0)
	if err != nil {
		return nil, nil, err
	}
	for _, v := range views {
		inFrame(v, frame)
	}
	env.Progress(0.35)
	rep, err := holes.Find(ctx, part, views, &holes.Options{Progress: func(f float64) { env.Progress(0.35 + 0.1*f) }})
	if err != nil {
		return nil, nil, err
	}
	hs := &HolesSummary{Report: rep}
	for _, h := range rep.Holes {
		kind := fmt.Sprintf("%.3g deep", h.Depth)
		if h.Through {
			kind = "through"
		}
		fmt.Fprintf(env.Log, "hole found: Ø%.3g %s at (%.4g, %.4g, %.4g), walls seen %.3g deep; photos agree on the cap %.2f, on the walls %.2f\n",
			h.Diameter, kind, h.Centre.X, h.Centre.Y, h.Centre.Z, h.SeenDepth, h.CapNCC, h.WallNCC)
	}
	for _, r := range rep.Rejected {
		fmt.Fprintf(env.Log, "not a hole: Ø%.3g at (%.4g, %.4g, %.4g): %s\n", r.Diameter, r.Centre.X, r.Centre.Y, r.Centre.Z, r.Reason)
	}
	fmt.Fprintf(env.Log, "holes: %d flat faces checked with %d patches in %d photos, %.1f s\n", rep.Faces, rep.Patches, rep.Views, rep.Seconds)
	if len(rep.Holes) == 0 {
		return part, hs, nil
	}
	cut, crep, err := holes.Cut(ctx, part, rep.Holes)
	if err != nil {
		return nil, nil, err
	}
	hs.Cut = crep
	for _, why := range crep.Skipped {
		fmt.Fprintf(env.Log, "not cut: %s\n", why)
	}
	if crep.Cut == 0 {
		return part, hs, nil
	}
	fixed, rrep, err := mesh.Repair(cut, nil)
	if err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(env.Log, "cut %d holes and repaired: %+v\n", crep.Cut, *rrep)
	if !rrep.Watertight || rrep.SelfIntersectionsLeft > 0 {
		hs.Undone = fmt.Sprintf("%d holes were found in the photos but not cut: cut, the part was %s", crep.Cut, soundness(rrep))
		return part, hs, nil
	}
	hs.Repair = rrep
	return fixed, hs, nil
}

// holesMaxSide caps the size of the photos the hole check reads.
const holesMaxSide = 2400

// inFrame moves view v's camera into the frame x' = s·R·x + t.
func inFrame(v *mvs.View, f *scale.Similarity) {
	// x_cam = Rc·x + Tc = Rc·Rᵀ·(x' − t)/s + Tc; scaled by s, which
	// projects the same: R' = Rc·Rᵀ, T' = s·Tc − R'·t.
	var r [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[3*i+j] += v.R[3*i+k] * f.R[3*j+k]
			}
		}
	}
	var t [3]float64
	for i := range 3 {
		t[i] = f.Scale*v.T[i] - (r[3*i]*f.T[0] + r[3*i+1]*f.T[1] + r[3*i+2]*f.T[2])
	}
	v.R, v.T = r, t
}
