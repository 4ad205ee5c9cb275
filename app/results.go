package app

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/app/meshview"
	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/local"
	"github.com/replica3d/replica/pipeline/mesh"
)

// resultsScreen previews a project's reconstruction and hands its files
// to the maker.
type resultsScreen struct {
	ui    *ui
	p     *project.Project
	rep   *local.Report
	view  *meshview.View
	show  *widget.RadioGroup
	info  *widget.Label // notes on what is not there yet
	facts *widget.Form  // what was made; for the STEP solid, first its colours

	// factsBox holds facts, a new Form at each onShow: a Form once shown
	// keeps the widgets of its first items whatever its Items become.
	factsBox *fyne.Container

	export *widget.Button

	part  *geom.Mesh // the printable model, z up on its base
	mesh  *geom.Mesh // the whole scene's mesh
	cloud *geom.PointCloud

	// The STEP solid, read when first shown (see loadCAD): nil until
	// then, and when it cannot be read (cadErr).
	cad        *cadPreview
	cadErr     error
	cadLoading bool
}

// showResults shows project p's last result; rep nil reads its report.
func (u *ui) showResults(p *project.Project, rep *local.Report) {
	if rep == nil {
		var err error
		if rep, err = local.ReadReport(jobDir(p)); err != nil {
			u.showError("Cannot read the last result", err)
			return
		}
	}
	r := &resultsScreen{ui: u, p: p, rep: rep}
	u.current = r
	u.win.SetContent(r.build())
	u.win.SetOnDropped(nil)
}

func (r *resultsScreen) build() fyne.CanvasObject {
	back := widget.NewButtonWithIcon("Process", theme.NavigateBackIcon(), func() { r.ui.showProcess(r.p) })
	back.Importance = widget.LowImportance
	title := widget.NewLabelWithStyle("Result", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText

	r.view = meshview.New()
	r.facts = widget.NewForm()
	r.factsBox = container.NewStack(r.facts)
	r.info = widget.NewLabel("")
	r.info.Wrapping = fyne.TextWrapWord
	r.info.Importance = widget.LowImportance
	dir := jobDir(r.p)
	var errs []error
	if f, ok := r.rep.Outputs["ply"]; ok {
		if p, err := mesh.ReadPLYFile(filepath.Join(dir, f)); err == nil {
			r.part = p.Mesh()
		} else {
			errs = append(errs, err)
		}
	}
	if f, ok := r.rep.Outputs["mesh"]; ok {
		if p, err := mesh.ReadPLYFile(filepath.Join(dir, f)); err == nil {
			r.mesh = p.Mesh()
		} else {
			errs = append(errs, err)
		}
	}
	cloudFile := r.rep.Outputs["dense"]
	if cloudFile == "" {
		cloudFile = r.rep.Outputs["sparse"]
	}
	if cloudFile != "" {
		if p, err := mesh.ReadPLYFile(filepath.Join(dir, cloudFile)); err == nil {
			r.cloud = &p.Cloud
		} else {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		r.ui.showError("Part of the result cannot be read", err)
	}
	// The scene's mesh and points are in COLMAP's frame. With the scale
	// sheet found, they go into its frame, where the part stands (mm, z up);
	// otherwise, as COLMAP's frame has no up, they are turned so the photos'
	// mean up points up the screen, as the part stood when photographed.
	// The printable part is z up on its base already.
	if sc := r.rep.Scale; sc != nil && sc.Found && sc.Transform != nil {
		if r.mesh != nil {
			for i, v := range r.mesh.Vertices {
				r.mesh.Vertices[i] = sc.Transform.Apply(v)
			}
		}
		if r.cloud != nil {
			for i, v := range r.cloud.Points {
				r.cloud.Points[i] = sc.Transform.Apply(v)
			}
		}
	} else if m, err := colmap.ReadModel(filepath.Join(dir, "stages", "mapping", "sparse")); err == nil {
		var up r3.Vec
		for _, im := range m.Images {
			up = r3.Add(up, im.Up())
		}
		turn := upright(up)
		if r.mesh != nil {
			for i, v := range r.mesh.Vertices {
				r.mesh.Vertices[i] = turn(v)
			}
		}
		if r.cloud != nil {
			for i, v := range r.cloud.Points {
				r.cloud.Points[i] = turn(v)
			}
		}
	}
	choices := []string{"Mesh", "Points"}
	if r.output("step") != "" {
		choices = append([]string{"CAD"}, choices...)
	}
	if r.part != nil {
		choices = append([]string{"Part"}, choices...)
	}
	r.show = widget.NewRadioGroup(choices, func(string) { r.onShow() })
	r.show.Horizontal = true
	switch {
	case r.part != nil:
		r.show.SetSelected("Part")
	case r.mesh != nil:
		r.show.SetSelected("Mesh")
	default:
		r.show.SetSelected("Points")
	}
	reset := widget.NewButtonWithIcon("Reset view", theme.ViewRestoreIcon(), r.view.ResetView)
	side := container.NewVBox(r.factsBox, r.info)
	for _, b := range r.openButtons() {
		side.Add(b)
	}
	reveal := widget.NewButtonWithIcon("Show files", theme.FolderOpenIcon(), func() { r.ui.openFolder(dir) })
	r.export = widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), r.onExportMenu)
	if len(r.exports()) == 0 {
		r.export.Disable()
	}
	side.Add(reveal)
	side.Add(r.export)
	tools := container.NewHBox(r.show, reset)
	header := container.NewBorder(nil, nil, container.NewHBox(back, title), tools)
	body := container.NewHSplit(r.view, container.NewVScroll(side))
	body.SetOffset(0.75)
	r.ui.setShortcuts(nil)
	r.ui.win.Canvas().SetOnTypedKey(func(e *fyne.KeyEvent) {
		if e.Name == fyne.KeyHome || e.Name == fyne.KeyR {
			r.view.ResetView()
		}
	})
	return container.NewBorder(container.NewPadded(header), nil, nil, nil, body)
}

// onShow puts the mesh or the points in the view and describes them.
func (r *resultsScreen) onShow() {
	if r.view == nil {
		return
	}
	switch {
	case r.show.Selected == "Part" && r.part != nil:
		r.view.SetCloud(nil)
		r.view.SetMesh(r.part)
	case r.show.Selected == "CAD" && r.cad != nil:
		r.view.SetCloud(nil)
		r.view.SetMeshColors(r.cad.mesh, r.cad.colors)
	case r.show.Selected == "CAD":
		// The part, in the same frame, until the solid is read.
		r.view.SetCloud(nil)
		r.view.SetMesh(r.part)
		r.loadCAD()
	case r.show.Selected == "Mesh" && r.mesh != nil:
		r.view.SetCloud(nil)
		r.view.SetMesh(r.mesh)
	default:
		r.view.SetMesh(nil)
		r.view.SetCloud(r.cloud)
	}
	r.view.ResetView()
	var items []*widget.FormItem
	addFacts := func(facts [][2]string) {
		for _, f := range facts {
			v := widget.NewLabel(f[1])
			v.Wrapping = fyne.TextWrapWord
			items = append(items, widget.NewFormItem(f[0], v))
		}
	}
	if r.show.Selected == "CAD" {
		// What the solid is first, with which colour is which surface.
		addFacts(cadFacts(r.rep.Cad, r.cad))
		if r.cad != nil {
			items = append(items, cadLegend(r.cad)...)
		}
	}
	addFacts(r.describe())
	r.facts = widget.NewForm(items...)
	r.factsBox.Objects = []fyne.CanvasObject{r.facts}
	r.factsBox.Refresh()
	var notes []string
	if r.show.Selected == "CAD" {
		switch {
		case r.cadLoading:
			notes = append(notes, "Reading the STEP solid…")
		case r.cadErr != nil:
			notes = append(notes, "The STEP solid cannot be shown: "+r.cadErr.Error()+".")
		}
	}
	if r.rep.Units != local.UnitsMM {
		why := "the photos show no scale sheet"
		if sc := r.rep.Scale; sc != nil && sc.Reason != "" {
			why = sc.Reason
		}
		notes = append(notes, "Not to scale: sizes are in the reconstruction's own units, because "+why+".")
	}
	if m := r.rep.Model; m != nil {
		if m.Failed != "" {
			notes = append(notes, "No printable part: "+m.Failed+".")
		}
		for _, w := range m.Warnings {
			notes = append(notes, "Note: "+w+".")
		}
	}
	if why := r.rep.Skipped["dense"]; why != "" {
		notes = append(notes, "Dense points skipped: "+why+".")
	}
	r.info.SetText(strings.Join(notes, "\n"))
}

// describe is what the result is, as label and value pairs (while the
// STEP solid shows, onShow puts its own, cadFacts, before them).
func (r *resultsScreen) describe() [][2]string {
	facts := [][2]string{
		{"Photos placed", fmt.Sprintf("%d of %d", r.rep.Registered, r.rep.Photos)},
		{"Accuracy", fmt.Sprintf("%.2f px mean reprojection error", r.rep.MeanReprojError)},
		{"Points", thousands(r.rep.Points)},
	}
	if d := r.rep.Dense; d != nil {
		by := "COLMAP on the GPU"
		if d.Backend == local.DenseMVS {
			by = "Replica's stereo on the CPU"
		}
		facts = append(facts, [2]string{"Dense points", fmt.Sprintf("%s, by %s", thousands(d.Points), by)})
	}
	if r.rep.Mesh != nil {
		facts = append(facts, [2]string{"Mesh", fmt.Sprintf("%s faces, from the %s points", thousands(r.rep.Mesh.Faces), r.rep.Mesh.Source)})
	}
	if sc := r.rep.Scale; sc != nil && sc.Found {
		facts = append(facts, [2]string{"Scale", fmt.Sprintf("from %d markers of the %s sheet, ±%.2g %%", sc.Markers, sc.Paper, sc.UncertaintyPct)})
	}
	if m := r.rep.Model; m != nil && m.Failed == "" {
		if m.ScaleSource == "known_length" {
			facts = append(facts, [2]string{"Scale", "from the known length"})
		}
		tight := "watertight"
		if !m.Watertight {
			tight = "not watertight"
		}
		facts = append(facts, [2]string{"Part", fmt.Sprintf("%s triangles, %s", thousands(m.Triangles), tight)})
		if d := m.Holes.Describe(); d != "" {
			facts = append(facts, [2]string{"Holes", d + " opened"})
		}
	}
	size := r.size()
	if r.rep.Units == local.UnitsMM && (r.show.Selected == "Part" || r.show.Selected == "CAD" || r.rep.Scale != nil && r.rep.Scale.Found) {
		facts = append(facts, [2]string{"Size", fmt.Sprintf("%.1f × %.1f × %.1f mm", size.X, size.Y, size.Z)})
	} else {
		facts = append(facts, [2]string{"Size", fmt.Sprintf("%.3g × %.3g × %.3g units", size.X, size.Y, size.Z)})
	}
	return facts
}

// loadCAD reads the STEP solid and makes its preview on a goroutine, the
// first time it is asked for: a faceted solid of 40 MB takes seconds to
// read (readCADPreview), and most visits to a result never show it. When
// it is done, the preview shows if CAD is still chosen; an error is shown
// once, and again as a note whenever CAD is chosen.
func (r *resultsScreen) loadCAD() {
	if r.cad != nil || r.cadErr != nil || r.cadLoading {
		return
	}
	path := filepath.Join(jobDir(r.p), r.rep.Outputs["step"])
	r.cadLoading = true
	go func() {
		c, err := readCADPreview(path)
		r.ui.do(func() { r.cadLoaded(c, err) })
	}()
}

// cadLoaded takes the STEP solid's preview, or why there is none.
func (r *resultsScreen) cadLoaded(c *cadPreview, err error) {
	r.cad, r.cadErr, r.cadLoading = c, err, false
	if r.ui.current != r {
		return // the maker has left the result
	}
	if err != nil {
		r.ui.showError("Cannot show the STEP solid", err)
	}
	if r.show.Selected == "CAD" {
		r.onShow()
	}
}

// thousands writes n with thin spaces between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "\u202f" + s[i:]
	}
	return s
}

// size is the size of the bounding box of what the view shows: the mesh,
// or the points without one.
func (r *resultsScreen) size() r3.Vec {
	switch {
	case r.show.Selected == "CAD" && r.cad != nil:
		return r.cad.mesh.Bounds().Size()
	case r.show.Selected == "Part" && r.part != nil, r.show.Selected == "CAD" && r.part != nil:
		return r.part.Bounds().Size()
	case r.show.Selected == "Mesh" && r.mesh != nil:
		return r.mesh.Bounds().Size()
	case r.cloud != nil:
		return r.cloud.Bounds().Size()
	}
	return r3.Vec{}
}

// outputKinds are the result files a maker may want, in the order they
// are offered, with what they are called.
var outputKinds = []struct{ key, label, ext string }{
	{"3mf", "3MF (for slicers)", ".3mf"},
	{"stl", "STL (for slicers)", ".stl"},
	{"step", "STEP (for CAD)", ".step"},
	{"mesh", "Mesh (PLY)", ".ply"},
	{"dense", "Dense points (PLY)", ".ply"},
	{"sparse", "Sparse points (PLY)", ".ply"},
}

// output is the path of the result file of kind key, or "" if this
// result has none.
func (r *resultsScreen) output(key string) string {
	f, ok := r.rep.Outputs[key]
	if !ok || f == "" {
		return ""
	}
	p := filepath.Join(jobDir(r.p), f)
	if !pipeline.FileExists(p) {
		return ""
	}
	return p
}

// openButtons are the buttons that open the result in the programs makers
// use: the printable model in their slicer, the STEP in their CAD
// program, or either in the system's program for the file when no known
// one is installed; the mesh in the system's program for PLY files.
func (r *resultsScreen) openButtons() []fyne.CanvasObject {
	var out []fyne.CanvasObject
	add := func(file string, prog *program, kind string) {
		if file == "" {
			return
		}
		if prog != nil {
			b := widget.NewButtonWithIcon("Open in "+prog.Name, theme.FileApplicationIcon(), func() {
				if err := r.ui.start(prog.Path, file); err != nil {
					r.ui.showError("Cannot start "+prog.Name, err)
				}
			})
			b.Importance = widget.HighImportance
			out = append(out, b)
			return
		}
		out = append(out, widget.NewButtonWithIcon("Open "+kind, theme.FileApplicationIcon(), func() { r.ui.openFolder(file) }))
	}
	printable := r.output("3mf")
	if printable == "" {
		printable = r.output("stl")
	}
	add(printable, r.ui.find.find(slicers), strings.ToUpper(strings.TrimPrefix(filepath.Ext(printable), ".")))
	add(r.output("step"), r.ui.find.find(cadPrograms), "STEP")
	add(r.output("mesh"), nil, "mesh")
	return out
}

// exports are the kinds of result file this result has.
func (r *resultsScreen) exports() []int {
	var out []int
	for i, k := range outputKinds {
		if r.output(k.key) != "" {
			out = append(out, i)
		}
	}
	return out
}

// onExportMenu offers the result's files to export.
func (r *resultsScreen) onExportMenu() {
	var items []*fyne.MenuItem
	for _, i := range r.exports() {
		k := outputKinds[i]
		items = append(items, fyne.NewMenuItem(k.label+"…", func() { r.onExport(k.key, k.ext) }))
	}
	c := r.ui.win.Canvas()
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(r.export).AddXY(0, r.export.Size().Height)
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos)
}

// onExport saves a copy of the result file of kind key where the maker
// chooses.
func (r *resultsScreen) onExport(key, ext string) {
	src := r.output(key)
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		dst := w.URI().Path()
		w.Close()
		if err := pipeline.CopyFile(src, dst); err != nil {
			r.ui.showError("Cannot export the file", err)
		}
	}, r.ui.win)
	name := "model"
	if s, err := r.p.Summary(); err == nil {
		name = s.Name
	}
	if key == "dense" || key == "sparse" {
		name += "-" + key
	}
	d.SetFileName(name + ext)
	d.Show()
}

// upright returns the rotation that turns up onto +z (Rodrigues' formula;
// the identity when up is zero, a half turn about x when it points down).
func upright(up r3.Vec) func(r3.Vec) r3.Vec {
	n := r3.Norm(up)
	if n == 0 || math.IsNaN(n) {
		return func(v r3.Vec) r3.Vec { return v }
	}
	u := r3.Scale(1/n, up)
	z := r3.Vec{Z: 1}
	axis := r3.Cross(u, z)
	sin, cos := r3.Norm(axis), r3.Dot(u, z)
	if sin < 1e-12 {
		if cos > 0 {
			return func(v r3.Vec) r3.Vec { return v }
		}
		return func(v r3.Vec) r3.Vec { return r3.Vec{X: v.X, Y: -v.Y, Z: -v.Z} }
	}
	k := r3.Scale(1/sin, axis)
	return func(v r3.Vec) r3.Vec {
		// v cos θ + (k × v) sin θ + k (k·v)(1 − cos θ)
		return r3.Add(r3.Add(r3.Scale(cos, v), r3.Scale(sin, r3.Cross(k, v))), r3.Scale(r3.Dot(k, v)*(1-cos), k))
	}
}
