package app

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/assets"
)

// Description is the one-line summary of what Replica does.
const Description = "Turn photos of a part into a print-ready STL and an editable STEP"

// logoSize is the side of the icon on the home screen: large enough to
// read as the product's mark, small beside a 700-pixel-high window.
const logoSize = 128

// home is the start screen: the product's mark, name, version and what it does.
type home struct {
	logo        *canvas.Image
	name        *widget.Label
	version     *widget.Label
	description *widget.Label
}

// build creates the home screen's widgets and lays them out centred in the window.
func (h *home) build() fyne.CanvasObject {
	h.logo = canvas.NewImageFromResource(icon)
	h.logo.FillMode = canvas.ImageFillContain
	h.logo.SetMinSize(fyne.NewSquareSize(logoSize))

	h.name = &widget.Label{
		Text:      Product,
		Alignment: fyne.TextAlignCenter,
		TextStyle: fyne.TextStyle{Bold: true},
		SizeName:  theme.SizeNameHeadingText,
	}
	h.name.ExtendBaseWidget(h.name)

	h.version = &widget.Label{
		Text:      "Version " + assets.Version,
		Alignment: fyne.TextAlignCenter,
		SizeName:  theme.SizeNameCaptionText,
	}
	h.version.ExtendBaseWidget(h.version)

	h.description = widget.NewLabelWithStyle(Description, fyne.TextAlignCenter, fyne.TextStyle{})

	// Name and version sit tight together as one title block; the logo and
	// the description keep some air around it.
	title := container.New(layout.NewCustomPaddedVBoxLayout(0), h.name, h.version)
	return container.NewCenter(container.NewVBox(
		container.NewCenter(h.logo),
		gap(theme.Padding()*2),
		title,
		gap(theme.Padding()),
		h.description,
	))
}

// gap is empty vertical space of height h, for spacing inside a VBox.
func gap(h float32) fyne.CanvasObject {
	r := canvas.NewRectangle(color.Transparent)
	r.SetMinSize(fyne.NewSize(0, h))
	return r
}
