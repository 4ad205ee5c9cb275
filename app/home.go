package app

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/assets"
)

// Description is the one-line summary of what Replica does.
const Description = "Turn photos of a part into a print-ready STL and an editable STEP"

// logoSize is the side of the icon on the empty home screen: large enough
// to read as the product's mark, small beside a 700-pixel-high window.
const logoSize = 128

// thumbSize is the side of a project's thumbnail in the list.
const thumbSize = 64

// home is the start screen: the projects, newest first, with what can be
// done to each; the product's mark and a first step when there are none.
type home struct {
	ui        *ui
	projects  []project.Summary
	list      *widget.List
	newBtn    *widget.Button
	sampleBtn *widget.Button
	// accountBtn opens the Account panel: the signed-in email, or "Sign in".
	accountBtn *widget.Button

	// The open dialog, for tests.
	form      *dialog.FormDialog
	nameEntry *widget.Entry
	confirm   *dialog.ConfirmDialog
}

// build lists the projects, or shows the empty state.
func (h *home) build() fyne.CanvasObject {
	var err error
	h.projects, err = h.ui.store.List()
	if err != nil {
		h.ui.showError("Cannot read the projects", err)
	}
	h.newBtn = widget.NewButtonWithIcon("New project", theme.ContentAddIcon(), h.onNew)
	h.newBtn.Importance = widget.HighImportance
	h.sampleBtn = widget.NewButtonWithIcon("Try the sample part", theme.MediaPhotoIcon(), h.onSample)
	h.accountBtn = widget.NewButtonWithIcon(h.ui.accountLabel(), theme.AccountIcon(), h.ui.showAccount)
	h.accountBtn.Importance = widget.LowImportance
	if len(h.projects) == 0 {
		return container.NewBorder(container.NewHBox(layout.NewSpacer(), h.accountBtn), nil, nil, nil, h.empty())
	}
	title := widget.NewLabelWithStyle("Projects", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	h.sampleBtn.Importance = widget.LowImportance
	header := container.NewBorder(nil, nil, title, container.NewHBox(h.accountBtn, h.sampleBtn, h.newBtn))
	h.list = widget.NewList(
		func() int { return len(h.projects) },
		h.newRow,
		func(i widget.ListItemID, o fyne.CanvasObject) { h.updateRow(h.projects[i], o.(*projectRow)) },
	)
	h.list.OnSelected = func(i widget.ListItemID) {
		h.list.UnselectAll()
		h.open(h.projects[i].ID)
	}
	return container.NewBorder(container.NewPadded(header), nil, nil, nil, h.list)
}

// empty is the first screen a new maker sees.
func (h *home) empty() fyne.CanvasObject {
	logo := canvas.NewImageFromResource(icon)
	logo.FillMode = canvas.ImageFillContain
	logo.SetMinSize(fyne.NewSquareSize(logoSize))
	name := &widget.Label{Text: Product, Alignment: fyne.TextAlignCenter, TextStyle: fyne.TextStyle{Bold: true}, SizeName: theme.SizeNameHeadingText}
	name.ExtendBaseWidget(name)
	version := &widget.Label{Text: "Version " + assets.Version, Alignment: fyne.TextAlignCenter, SizeName: theme.SizeNameCaptionText}
	version.ExtendBaseWidget(version)
	description := widget.NewLabelWithStyle(Description, fyne.TextAlignCenter, fyne.TextStyle{})
	h.newBtn.SetText("Create your first project")
	sampleNote := &widget.Label{Text: "No part at hand? The sample makes 30 photos of a bracket on the scale sheet to try every step with.",
		Alignment: fyne.TextAlignCenter, SizeName: theme.SizeNameCaptionText, Importance: widget.LowImportance}
	sampleNote.ExtendBaseWidget(sampleNote)
	// Name and version sit tight together as one title block; the logo and
	// the description keep some air around it.
	title := container.New(layout.NewCustomPaddedVBoxLayout(0), name, version)
	return container.NewCenter(container.NewVBox(
		container.NewCenter(logo),
		gap(theme.Padding()*2),
		title,
		gap(theme.Padding()),
		description,
		gap(theme.Padding()*3),
		container.NewCenter(container.NewHBox(h.newBtn, h.sampleBtn)),
		gap(theme.Padding()),
		sampleNote,
	))
}

// projectRow is one project in the list.
type projectRow struct {
	widget.BaseWidget
	thumb                  *canvas.Image
	name, detail, result   *widget.Label
	rename, remove, folder *widget.Button
	content                fyne.CanvasObject
}

func (h *home) newRow() fyne.CanvasObject {
	r := &projectRow{
		thumb:  canvas.NewImageFromResource(icon),
		name:   widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		detail: widget.NewLabel(""),
		result: widget.NewLabel(""),
		rename: widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), nil),
		remove: widget.NewButtonWithIcon("", theme.DeleteIcon(), nil),
		folder: widget.NewButtonWithIcon("", theme.FolderOpenIcon(), nil),
	}
	r.thumb.FillMode = canvas.ImageFillContain
	r.thumb.SetMinSize(fyne.NewSquareSize(thumbSize))
	r.result.Importance = widget.LowImportance
	for _, b := range []*widget.Button{r.rename, r.remove, r.folder} {
		b.Importance = widget.LowImportance
	}
	text := container.New(layout.NewCustomPaddedVBoxLayout(0), r.name, r.detail, r.result)
	r.content = container.NewBorder(nil, nil, r.thumb, container.NewHBox(r.folder, r.rename, r.remove), text)
	r.ExtendBaseWidget(r)
	return r
}

// CreateRenderer draws the row's content.
func (r *projectRow) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(r.content)
}

func (h *home) updateRow(p project.Summary, r *projectRow) {
	if p.Thumbnail != "" {
		r.thumb.Resource, r.thumb.File = nil, p.Thumbnail
	} else {
		r.thumb.File, r.thumb.Resource = "", icon
	}
	r.thumb.Refresh()
	r.name.SetText(p.Name)
	r.detail.SetText(fmt.Sprintf("%s · %s · changed %s", photoCount(p.Photos), stateText(p.State), ago(time.Since(p.Modified))))
	r.result.SetText(p.LastResult)
	r.result.Hidden = p.LastResult == ""
	r.rename.OnTapped = func() { h.onRename(p) }
	r.remove.OnTapped = func() { h.onDelete(p) }
	r.folder.OnTapped = func() { h.ui.openFolder(p.Dir) }
}

// onNew asks for a name and creates a project.
func (h *home) onNew() {
	entry := widget.NewEntry()
	entry.SetPlaceHolder("e.g. Shelf bracket")
	entry.Validator = func(s string) error {
		_, err := project.CleanName(s)
		return err
	}
	d := dialog.NewForm("New project", "Create", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", entry)}, func(ok bool) {
		if !ok {
			return
		}
		p, err := h.ui.store.Create(entry.Text)
		if err != nil {
			h.ui.showError("Cannot create the project", err)
			return
		}
		h.open(p.ID)
	}, h.ui.win)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	h.form, h.nameEntry = d, entry
	d.Show()
	h.ui.win.Canvas().Focus(entry)
}

// onSample makes a project of the built-in sample capture.
func (h *home) onSample() {
	p, err := h.ui.store.Create("Sample bracket")
	if err != nil {
		h.ui.showError("Cannot create the sample project", err)
		return
	}
	h.open(p.ID)
	if c, ok := h.ui.current.(*captureScreen); ok {
		c.addSample()
	}
}

// onRename asks for a new name.
func (h *home) onRename(p project.Summary) {
	entry := widget.NewEntry()
	entry.SetText(p.Name)
	entry.Validator = func(s string) error {
		_, err := project.CleanName(s)
		return err
	}
	d := dialog.NewForm("Rename project", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Name", entry)}, func(ok bool) {
		if !ok {
			return
		}
		if err := h.ui.store.Rename(p.ID, entry.Text); err != nil {
			h.ui.showError("Cannot rename the project", err)
			return
		}
		h.ui.showHome()
	}, h.ui.win)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	h.form, h.nameEntry = d, entry
	d.Show()
}

// onDelete deletes a project once the maker confirms.
func (h *home) onDelete(p project.Summary) {
	msg := fmt.Sprintf("“%s” and its %s will be deleted from this computer. This cannot be undone.", p.Name, photoCount(p.Photos))
	h.confirm = dialog.NewConfirm("Delete project?", msg, func(ok bool) {
		if !ok {
			return
		}
		if err := h.ui.store.Delete(p.ID); err != nil {
			h.ui.showError("Cannot delete the project", err)
			return
		}
		h.ui.showHome()
	}, h.ui.win)
	h.confirm.SetConfirmText("Delete")
	h.confirm.Show()
}

// open shows a project's capture screen.
func (h *home) open(id string) {
	p, err := h.ui.store.Get(id)
	if err != nil {
		h.ui.showError("Cannot open the project", err)
		return
	}
	h.ui.store.SetSetting(settingProject, id)
	h.ui.showCapture(p)
}

func photoCount(n int) string {
	if n == 1 {
		return "1 photo"
	}
	return fmt.Sprintf("%d photos", n)
}

// stateText is a project state as the list shows it.
func stateText(s project.State) string {
	switch s {
	case project.StateNew:
		return "New"
	case project.StateCapturing:
		return "Taking photos"
	case project.StateReady:
		return "Ready to process"
	case project.StateProcessing:
		return "Processing"
	case project.StateDone:
		return "Model ready"
	case project.StateFailed:
		return "Processing failed"
	}
	return string(s)
}

// ago says how long ago something happened, roughly.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	case d < 48*time.Hour:
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// gap is empty vertical space of height h, for spacing inside a VBox.
func gap(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, h))
	return r
}
