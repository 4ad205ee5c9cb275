package app

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/synth"
)

// tileSize is the side of a photo's tile in the capture grid.
const tileSize = 176

// captureScreen is a project's photos: import, the thumbnail grid with
// each photo's verdict, and the readiness of the set.
type captureScreen struct {
	ui *ui
	p  *project.Project

	mu     sync.Mutex
	photos []string                        // in capture order
	checks map[string]*capture.PhotoResult // by name, from the last check
	// weak holds the photos that overlap the previous one only a little
	// (a problem of the set, naming the pair).
	weak   map[string]bool
	report *capture.Report
	cancel context.CancelFunc // stops the running check
	// stopSample stops the sample photos being made, or is nil.
	stopSample context.CancelFunc

	grid       *widget.GridWrap
	processBtn *widget.Button
	resultBtn  *widget.Button
	status     *widget.Label
	readiness  *widget.Label
	ring       *fyne.Container
	panel      *fyne.Container // the ring, readiness and problems
	problems   *widget.Label
	progress   *widget.ProgressBarInfinite
}

// showCapture shows project p's capture screen.
func (u *ui) showCapture(p *project.Project) {
	c := &captureScreen{ui: u, p: p, checks: map[string]*capture.PhotoResult{}}
	u.current = c
	u.win.SetContent(c.build())
	u.win.SetOnDropped(c.onDropped)
	u.setShortcuts(map[fyne.KeyName]func(){
		fyne.KeyO: c.onAddFolder,
		fyne.KeyP: func() {
			if !c.processBtn.Disabled() {
				c.processBtn.OnTapped()
			}
		},
	})
	c.reload()
}

func (c *captureScreen) build() fyne.CanvasObject {
	name := "Project"
	if s, err := c.p.Summary(); err == nil {
		name = s.Name
	}
	back := widget.NewButtonWithIcon("Projects", theme.NavigateBackIcon(), c.onBack)
	back.Importance = widget.LowImportance
	title := widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	addFiles := widget.NewButtonWithIcon("Add photo…", theme.FileImageIcon(), c.onAddFile)
	addFolder := widget.NewButtonWithIcon("Add folder…", theme.FolderOpenIcon(), c.onAddFolder)
	sheet := widget.NewButtonWithIcon("Scale sheet…", theme.DocumentPrintIcon(), c.onScaleSheet)
	c.processBtn = widget.NewButtonWithIcon("Process…", theme.MediaPlayIcon(), func() { c.leave(); c.ui.showProcess(c.p) })
	c.processBtn.Importance = widget.HighImportance
	c.processBtn.Disable()
	c.resultBtn = widget.NewButtonWithIcon("Result", theme.VisibilityIcon(), func() { c.leave(); c.ui.showResults(c.p, nil) })
	if !pipeline.FileExists(filepath.Join(jobDir(c.p), "report.json")) {
		c.resultBtn.Hide()
	}
	header := container.NewBorder(nil, nil, container.NewHBox(back, title), container.NewHBox(sheet, addFiles, addFolder, c.resultBtn, c.processBtn))

	c.grid = widget.NewGridWrap(
		func() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.photos) },
		newPhotoTile,
		func(i widget.GridWrapItemID, o fyne.CanvasObject) { c.updateTile(i, o.(*photoTile)) },
	)
	c.status = widget.NewLabel("")
	c.status.Importance = widget.LowImportance
	c.progress = widget.NewProgressBarInfinite()
	c.progress.Hide()
	c.readiness = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.readiness.Wrapping = fyne.TextWrapWord
	c.problems = widget.NewLabel("")
	c.problems.Wrapping = fyne.TextWrapWord
	c.ring = container.NewCenter()
	c.panel = container.NewVBox(c.ring, c.readiness, c.problems)
	side := container.NewBorder(nil, nil, nil, nil, container.NewVScroll(c.panel))
	body := container.NewHSplit(c.grid, side)
	body.SetOffset(0.72)
	footer := container.NewBorder(nil, nil, nil, nil, container.NewVBox(c.progress, c.status))
	return container.NewBorder(container.NewPadded(header), container.NewPadded(footer), nil, nil, body)
}

// reload reads the project's photos and checks them in the background.
func (c *captureScreen) reload() {
	photos, err := c.p.Photos()
	if err != nil {
		c.ui.showError("Cannot read the project's photos", err)
		return
	}
	c.mu.Lock()
	c.photos = photos
	c.mu.Unlock()
	c.grid.Refresh()
	if len(photos) >= 3 {
		c.processBtn.Enable()
	} else {
		c.processBtn.Disable()
	}
	if len(photos) == 0 {
		c.readiness.SetText("No photos yet")
		c.problems.SetText("Add 20 to 50 photos taken all around the part: use the buttons above, or drop photos or a folder on this window.")
		c.status.SetText("")
		return
	}
	c.check()
}

// check runs the capture checks on the photos off the UI goroutine, making
// the missing thumbnails first.
func (c *captureScreen) check() {
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	photos := append([]string(nil), c.photos...)
	c.mu.Unlock()
	c.progress.Show()
	c.progress.Start()
	c.status.SetText(fmt.Sprintf("Checking %s…", photoCount(len(photos))))
	c.readiness.SetText("Checking…")
	go func() {
		paths := make([]string, len(photos))
		for i, n := range photos {
			paths[i] = c.p.PhotoPath(n)
		}
		key := checkKey(paths)
		if rep := readCachedCheck(c.p.Dir, key); rep != nil {
			c.ui.do(func() { c.showReport(rep, nil) })
		}
		for _, name := range photos {
			if ctx.Err() != nil {
				return
			}
			if err := makeThumb(c.p.PhotoPath(name), c.p.ThumbPath(name)); err == nil {
				c.ui.do(c.grid.Refresh)
			}
		}
		if readCachedCheck(c.p.Dir, key) != nil {
			return
		}
		rep, err := capture.Check(ctx, paths, &capture.Options{GraphFile: filepath.Join(c.p.Dir, capture.GraphFileName)})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			writeCachedCheck(c.p.Dir, key, rep)
		}
		c.ui.do(func() { c.showReport(rep, err) })
	}()
}

// showReport puts a check's result on the screen.
func (c *captureScreen) showReport(rep *capture.Report, err error) {
	c.progress.Stop()
	c.progress.Hide()
	if err != nil {
		c.status.SetText("")
		c.readiness.SetText("The photos could not be checked")
		c.problems.SetText(err.Error())
		return
	}
	c.mu.Lock()
	c.report = rep
	c.checks = map[string]*capture.PhotoResult{}
	for i := range rep.Photos {
		c.checks[rep.Photos[i].Name] = &rep.Photos[i]
	}
	c.weak = map[string]bool{}
	for _, pr := range rep.Problems {
		if pr.Code == capture.CodeWeakOverlap && len(pr.Photos) == 2 {
			c.weak[pr.Photos[1]] = true
		}
	}
	c.mu.Unlock()
	c.grid.Refresh()
	c.readiness.SetText(rep.Summary)
	c.ring.Objects = []fyne.CanvasObject{newCoverageRing(rep)}
	c.panel.Refresh() // lays the panel out again for the ring's size
	var b strings.Builder
	for _, pr := range rep.Problems {
		fmt.Fprintf(&b, "• %s\n", problemText(pr))
	}
	c.problems.SetText(strings.TrimSpace(b.String()))
	state := project.StateCapturing
	if rep.Ready {
		state = project.StateReady
	}
	c.ui.store.SetState(c.p.ID, state, "")
	c.status.SetText(fmt.Sprintf("%s checked", photoCount(len(rep.Photos))))
}

func (c *captureScreen) onBack() {
	c.leave()
	c.ui.showHome()
}

// leave stops the background work before another screen shows.
func (c *captureScreen) leave() {
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	if c.stopSample != nil {
		c.stopSample()
	}
	c.mu.Unlock()
	c.ui.win.SetOnDropped(nil)
}

func (c *captureScreen) onAddFile() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		c.importPaths([]string{r.URI().Path()})
	}, c.ui.win)
	d.Show()
}

func (c *captureScreen) onAddFolder() {
	d := dialog.NewFolderOpen(func(l fyne.ListableURI, err error) {
		if err != nil || l == nil {
			return
		}
		c.importPaths([]string{l.Path()})
	}, c.ui.win)
	d.Show()
}

func (c *captureScreen) onDropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, u := range uris {
		if u.Scheme() == "file" {
			paths = append(paths, u.Path())
		}
	}
	if len(paths) > 0 {
		c.importPaths(paths)
	}
}

// importPaths copies photos (files, or the photos in folders) into the
// project off the UI goroutine, then checks the set again.
func (c *captureScreen) importPaths(paths []string) {
	c.progress.Show()
	c.progress.Start()
	c.status.SetText("Adding photos…")
	go c.importNow(paths)
}

// importNow copies photos into the project, reporting progress, then
// reloads the screen; it runs off the UI goroutine.
func (c *captureScreen) importNow(paths []string) {
	added, err := c.p.Import(context.Background(), paths, func(done, total int) {
		c.ui.do(func() { c.status.SetText(fmt.Sprintf("Adding photos… %d of %d", done, total)) })
	})
	c.ui.do(func() {
		if err != nil {
			c.ui.showError(fmt.Sprintf("Added %s; some files were not", photoCount(len(added))), err)
		}
		c.reload()
	})
}

// sampleOptions is the built-in sample capture: the bracket on the scale
// sheet, 30 photos at 1600×1200, as `make demo` renders it.
var sampleOptions = synth.DefaultOptions

// addSample renders the built-in sample capture into a temporary folder
// and adds its photos, so a maker can try Replica before photographing a
// part. Leaving the screen stops it.
func (c *captureScreen) addSample() {
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.stopSample = cancel
	c.mu.Unlock()
	c.progress.Show()
	c.progress.Start()
	c.status.SetText("Making the sample photos…")
	go func() {
		defer cancel()
		err := func() error {
			b, _ := assets.Part("bracket")
			spec, err := synth.ParseSpec(bytes.NewReader(b))
			if err != nil {
				return err
			}
			dir, err := os.MkdirTemp("", "replica-sample-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			o := sampleOptions()
			o.Progress = func(done, total int) {
				c.ui.do(func() { c.status.SetText(fmt.Sprintf("Making the sample photos… %d of %d", done, total)) })
			}
			if _, err := synth.Generate(ctx, spec, o, dir); err != nil {
				return err
			}
			// Only the photos: the truth files stay out of the project.
			photos, err := capture.ListPhotos(dir)
			if err != nil {
				return err
			}
			c.importNow(photos)
			return nil
		}()
		if err != nil && ctx.Err() == nil {
			c.ui.do(func() {
				c.progress.Stop()
				c.progress.Hide()
				c.status.SetText("")
				c.ui.showError("Cannot make the sample photos", err)
			})
		}
	}()
}

// onScaleSheet saves the printable marker sheet where the maker chooses
// and opens it, for printing.
func (c *captureScreen) onScaleSheet() {
	paper := widget.NewSelect([]string{"A4", "Letter"}, nil)
	paper.SetSelected("A4")
	if c.ui.store.Setting(settingPaper) == "Letter" {
		paper.SetSelected("Letter")
	}
	note := widget.NewLabel("Lay the printed sheet under the part: Replica finds its markers in the photos and sets the model's size in millimetres. Print at 100 % (actual size) and check that the bar measures 100 mm.")
	note.Wrapping = fyne.TextWrapWord
	d := dialog.NewForm("Scale sheet", "Save…", "Cancel", []*widget.FormItem{widget.NewFormItem("Paper", paper), widget.NewFormItem("", note)}, func(ok bool) {
		if !ok {
			return
		}
		c.ui.store.SetSetting(settingPaper, paper.Selected)
		save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
			if err != nil || w == nil {
				return
			}
			err = writeScaleSheet(w, paper.Selected)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				c.ui.showError("Cannot save the scale sheet", err)
				return
			}
			c.ui.openFolder(w.URI().Path())
		}, c.ui.win)
		save.SetFileName("replica-scale-sheet-" + strings.ToLower(paper.Selected) + ".pdf")
		save.Show()
	}, c.ui.win)
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
	d.Show()
}

// onRemove removes a photo from the project once the maker confirms.
func (c *captureScreen) onRemove(name string) {
	dialog.ShowConfirm("Remove photo?", fmt.Sprintf("%s will be removed from this project (your original file is not touched).", name), func(ok bool) {
		if !ok {
			return
		}
		if err := c.p.Remove(name); err != nil {
			c.ui.showError("Cannot remove the photo", err)
			return
		}
		c.reload()
	}, c.ui.win)
}

// photoTile is one photo in the grid: its thumbnail with the verdict's
// badges, its place in the capture order and name, and the buttons that
// move it earlier or later or remove it.
type photoTile struct {
	widget.BaseWidget
	thumb   *canvas.Image
	index   *widget.Label
	name    *canvas.Text
	badges  *fyne.Container
	corner  *fyne.Container // holds badges, laid out again when they change
	earlier *widget.Button
	later   *widget.Button
	remove  *widget.Button
	content fyne.CanvasObject
}

func newPhotoTile() fyne.CanvasObject {
	t := &photoTile{
		thumb:   canvas.NewImageFromImage(image.NewRGBA(image.Rect(0, 0, 1, 1))),
		index:   widget.NewLabel(""),
		name:    canvas.NewText("", color.White),
		badges:  container.NewVBox(),
		earlier: widget.NewButtonWithIcon("", theme.NavigateBackIcon(), nil),
		later:   widget.NewButtonWithIcon("", theme.NavigateNextIcon(), nil),
		remove:  widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
	}
	t.thumb.FillMode = canvas.ImageFillContain
	t.thumb.SetMinSize(fyne.NewSize(tileSize, tileSize*3/4))
	t.index.TextStyle = fyne.TextStyle{Bold: true}
	t.name.TextSize = theme.CaptionTextSize()
	for _, b := range []*widget.Button{t.earlier, t.later, t.remove} {
		b.Importance = widget.LowImportance
	}
	t.badges.Layout = layout.NewCustomPaddedVBoxLayout(2)
	t.corner = container.NewHBox(layout.NewSpacer(), t.badges)
	// The file name on a dark strip along the photo's bottom edge.
	strip := canvas.NewRectangle(color.NRGBA{0, 0, 0, 0x99})
	caption := container.NewStack(strip, container.New(layout.NewCustomPaddedLayout(1, 1, 6, 6), t.name))
	over := container.NewBorder(container.New(layout.NewCustomPaddedLayout(4, 4, 4, 4), t.corner), caption, nil, nil)
	t.content = container.NewBorder(nil, container.NewBorder(nil, nil, t.index, container.NewHBox(t.earlier, t.later, t.remove)), nil, nil,
		container.NewStack(t.thumb, over))
	t.ExtendBaseWidget(t)
	return t
}

// CreateRenderer draws the tile's content.
func (t *photoTile) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(t.content)
}

// Badge colours: calm green, amber and red that read on light and dark.
var (
	okColour   = color.NRGBA{0x2e, 0x7d, 0x32, 0xff}
	warnColour = color.NRGBA{0xb2, 0x6a, 0x00, 0xff}
	failColour = color.NRGBA{0xc6, 0x28, 0x28, 0xff}
)

func (c *captureScreen) updateTile(i int, t *photoTile) {
	c.mu.Lock()
	if i >= len(c.photos) {
		c.mu.Unlock()
		return
	}
	name, n := c.photos[i], len(c.photos)
	res, weak := c.checks[name], c.weak[name]
	c.mu.Unlock()
	if thumb := c.p.ThumbPath(name); pipeline.FileExists(thumb) {
		t.thumb.File, t.thumb.Image = thumb, nil
	} else {
		t.thumb.File = ""
	}
	t.thumb.Refresh()
	t.index.SetText(strconv.Itoa(i + 1))
	t.name.Text = name
	t.name.Refresh()
	t.remove.OnTapped = func() { c.onRemove(name) }
	t.earlier.OnTapped = func() { c.move(name, -1) }
	t.later.OnTapped = func() { c.move(name, +1) }
	setEnabled(t.earlier, i > 0)
	setEnabled(t.later, i < n-1)
	var objs []fyne.CanvasObject
	for _, b := range badges(res, weak) {
		objs = append(objs, newBadge(b))
	}
	t.badges.Objects = objs
	t.corner.Refresh() // lays the badges out again for their new size
}

// setEnabled enables or disables b.
func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// A badge is one word of a photo's verdict on its tile.
type badge struct {
	Text   string
	Colour color.Color
}

// newBadge draws b as white bold text on a rounded pill of its colour.
func newBadge(b badge) fyne.CanvasObject {
	text := canvas.NewText(b.Text, color.White)
	text.TextSize = theme.CaptionTextSize()
	text.TextStyle = fyne.TextStyle{Bold: true}
	bg := canvas.NewRectangle(b.Colour)
	bg.CornerRadius = 4
	return container.NewStack(bg, container.New(layout.NewCustomPaddedLayout(1, 1, 5, 5), text))
}

// badges is a photo's verdict as its tile shows it: sharpness, exposure
// and overlap with the previous photo (weak: only a little), each as a
// badge, then any other problem; nothing before the photo is checked.
func badges(r *capture.PhotoResult, weak bool) []badge {
	if r == nil {
		return nil
	}
	if r.Error != "" {
		return []badge{{"Unreadable", failColour}}
	}
	has := map[capture.Code]bool{}
	for _, code := range r.Codes {
		has[code] = true
	}
	bad := warnColour
	if r.Verdict == capture.Fail {
		bad = failColour
	}
	var out []badge
	if r.Quality != nil {
		if has[capture.CodeBlurry] {
			out = append(out, badge{"Blurry", bad})
		} else {
			out = append(out, badge{"Sharp", okColour})
		}
		switch {
		case has[capture.CodeUnderexposed]:
			out = append(out, badge{"Too dark", bad})
		case has[capture.CodeOverexposed]:
			out = append(out, badge{"Too bright", bad})
		default:
			out = append(out, badge{"Exposure OK", okColour})
		}
	}
	switch o := r.OverlapPrev; {
	case has[capture.CodeGap] || (o != nil && !o.Overlap):
		out = append(out, badge{"No overlap", bad})
	case weak || has[capture.CodeWeakOverlap]:
		out = append(out, badge{"Weak overlap", warnColour})
	case o != nil:
		out = append(out, badge{"Overlap OK", okColour})
	}
	for _, code := range r.Codes {
		switch code {
		case capture.CodeBlurry, capture.CodeUnderexposed, capture.CodeOverexposed, capture.CodeGap, capture.CodeWeakOverlap:
			// shown above
		case capture.CodeGPS, capture.CodeNoFocal:
			// Notes, not problems: GPS is stripped before a photo leaves
			// the computer, and a missing focal length is guessed.
		default:
			out = append(out, badge{codeText(code), bad})
		}
	}
	return out
}

// move moves photo name delta places in the capture order and checks the
// set again (the overlap with the previous photo changes).
func (c *captureScreen) move(name string, delta int) {
	c.mu.Lock()
	order := append([]string(nil), c.photos...)
	c.mu.Unlock()
	i := slices.Index(order, name)
	j := i + delta
	if i < 0 || j < 0 || j >= len(order) {
		return
	}
	order[i], order[j] = order[j], order[i]
	if err := c.p.Reorder(order); err != nil {
		c.ui.showError("Cannot change the photos' order", err)
	}
	c.reload()
}

// problemText is a problem as the readiness panel lists it.
func problemText(p capture.Problem) string {
	return p.Message + " — " + p.Fix
}

// codeText is a photo's problem code as its badge says it.
func codeText(c capture.Code) string {
	switch c {
	case capture.CodeBlurry:
		return "Blurry"
	case capture.CodeUnderexposed:
		return "Too dark"
	case capture.CodeOverexposed:
		return "Too bright"
	case capture.CodeLowResolution:
		return "Low resolution"
	case capture.CodeDuplicate:
		return "Duplicate"
	case capture.CodeNoFocal:
		return "No focal length"
	case capture.CodeGPS:
		return "GPS"
	case capture.CodeGap:
		return "No overlap"
	case capture.CodeWeakOverlap:
		return "Weak overlap"
	case capture.CodeIsolated:
		return "Isolated"
	case capture.CodeUnreadable:
		return "Unreadable"
	}
	return string(c)
}
