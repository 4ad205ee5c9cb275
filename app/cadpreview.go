package app

import (
	"fmt"
	"image/color"
	"os"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/local"
)

// surfaceKind is what a face of the STEP solid lies on, as the CAD
// preview colours it.
type surfaceKind int

const (
	surfacePlane surfaceKind = iota
	surfaceCylinder
	surfaceCone
	surfaceSphere
	surfaceFreeform // a flat facet standing for surface no primitive fits
	surfaceKinds
)

// surfaceStyles name the kinds of surface and give their colours: four
// of the palette of Okabe and Ito, "Color Universal Design" (2008), which
// people with any common colour-vision deficiency tell apart, and for the
// unfitted freeform facets the preview's neutral grey. All are mid-light,
// so that lit and shaded they stand out from both the light and the dark
// background. The singular name is for the features line.
var surfaceStyles = [surfaceKinds]struct {
	name, one string
	color     color.NRGBA
}{
	surfacePlane:    {"Planes", "plane", color.NRGBA{R: 86, G: 180, B: 233, A: 255}},             // sky blue
	surfaceCylinder: {"Cylinders", "cylinder", color.NRGBA{R: 230, G: 159, A: 255}},              // orange
	surfaceCone:     {"Cones", "cone", color.NRGBA{G: 158, B: 115, A: 255}},                      // bluish green
	surfaceSphere:   {"Spheres", "sphere", color.NRGBA{R: 204, G: 121, B: 167, A: 255}},          // reddish purple
	surfaceFreeform: {"Freeform", "freeform facet", color.NRGBA{R: 196, G: 199, B: 204, A: 255}}, // grey
}

// cadPreviewTol is the chord error (mm) of the preview's tessellation:
// under half a pixel for a part of 100 mm across an 800-pixel view, and a
// faceted solid comes out exactly whatever it is.
const cadPreviewTol = 0.05

// cadPreview is the STEP solid made ready to show: its faces triangulated,
// each triangle in the colour of its face's kind of surface, and the faces
// counted by kind.
type cadPreview struct {
	mesh   *geom.Mesh // mm, z up: the frame of the printable part
	colors []color.NRGBA
	faces  int
	counts [surfaceKinds]int
}

// readCADPreview reads the STEP solid at path and tessellates it. A
// faceted solid of 40 MB (35,000 faces) takes about 2 s and 600 MB of
// memory to read on 2 cores, and 0.1 s to tessellate; the solid is
// dropped once its triangles are made.
func readCADPreview(path string) (c *cadPreview, err error) {
	// ReadSTEP and TessellateFaces return errors rather than panic on any
	// file; should one panic all the same on a file from elsewhere, the
	// maker is told, and the app goes on.
	defer func() {
		if p := recover(); p != nil {
			c, err = nil, fmt.Errorf("cad: %v", p)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := cad.ReadSTEP(f)
	if err != nil {
		return nil, err
	}
	m, faces, err := cad.TessellateFaces(s, cadPreviewTol)
	if err != nil {
		return nil, err
	}
	kinds := make([]surfaceKind, len(s.Faces))
	c = &cadPreview{mesh: m, colors: make([]color.NRGBA, len(faces)), faces: len(s.Faces)}
	for i, f := range s.Faces {
		kinds[i] = kindOf(f)
		c.counts[kinds[i]]++
	}
	for i, f := range faces {
		c.colors[i] = surfaceStyles[kinds[f]].color
	}
	return c, nil
}

// kindOf returns the kind of surface face f lies on; a surface the
// preview does not know yet counts as freeform.
func kindOf(f cad.Face) surfaceKind {
	if f.Freeform {
		return surfaceFreeform
	}
	switch f.Surface.(type) {
	case *cad.Plane:
		return surfacePlane
	case *cad.Cylinder:
		return surfaceCylinder
	case *cad.Cone:
		return surfaceCone
	case *cad.Sphere:
		return surfaceSphere
	}
	return surfaceFreeform
}

// cadFeatures says what the cad stage fitted, for people: "Faceted: no
// primitives fitted" for a solid of flat facets alone, else its list of
// features ("2 holes Ø8.0 mm, 6 planes"), else its faces counted by
// surface. Without a summary it counts the faces of c, the solid as read;
// it returns "" when it has neither.
func cadFeatures(sum *local.CadSummary, c *cadPreview) string {
	switch {
	case sum != nil && sum.Faceted:
		return "Faceted: no primitives fitted"
	case sum != nil && len(sum.Features) > 0:
		return strings.Join(sum.Features, ", ")
	}
	var counts [surfaceKinds]int
	switch {
	case sum != nil:
		for k, key := range [...]string{surfacePlane: "plane", surfaceCylinder: "cylinder", surfaceCone: "cone", surfaceSphere: "sphere"} {
			counts[k] = sum.Surfaces[key]
		}
	case c != nil:
		counts = c.counts
	default:
		return ""
	}
	var parts []string
	for k, n := range counts {
		if n == 0 {
			continue
		}
		name := surfaceStyles[k].one
		if n != 1 {
			name += "s"
		}
		parts = append(parts, thousands(n)+" "+name)
	}
	return strings.Join(parts, ", ")
}

// cadLegend is which colour stands for which kind of surface in the CAD
// preview, with how many faces of c lie on each: rows of the results
// screen's facts, a swatch and the count beside each kind's name.
func cadLegend(c *cadPreview) []*widget.FormItem {
	var items []*widget.FormItem
	for k, s := range surfaceStyles {
		swatch := canvas.NewRectangle(s.color)
		swatch.SetMinSize(fyne.NewSquareSize(theme.IconInlineSize()))
		swatch.CornerRadius = theme.InputRadiusSize()
		n := widget.NewLabel(thousands(c.counts[k]))
		if c.counts[k] == 0 {
			n.Importance = widget.LowImportance
		}
		items = append(items, widget.NewFormItem(s.name, container.NewHBox(container.NewCenter(swatch), n)))
	}
	return items
}

// cadFacts are the facts the results screen shows first about the STEP
// solid while it shows it: its faces and what was fitted.
func cadFacts(sum *local.CadSummary, c *cadPreview) [][2]string {
	var facts [][2]string
	faces := 0
	switch {
	case sum != nil && sum.Faces > 0:
		faces = sum.Faces
	case c != nil:
		faces = c.faces
	}
	if faces > 0 {
		facts = append(facts, [2]string{"Solid", fmt.Sprintf("%s faces", thousands(faces))})
	}
	if f := cadFeatures(sum, c); f != "" {
		facts = append(facts, [2]string{"Features", f})
	}
	return facts
}
