// Package app is Replica's desktop user interface, built with Fyne.
//
// It receives the fyne.App and fyne.Window from package main and never
// imports fyne.io/fyne/v2/app, so its tests run headless on
// fyne.io/fyne/v2/test. Each screen lives in its own file as an unexported
// struct with a build method.
package app

import (
	"fyne.io/fyne/v2"

	"github.com/replica3d/replica/assets"
)

// Product is the name shown to users.
const Product = "Replica"

// defaultSize is the window's size on first start: room for a photo grid
// beside a 3D preview on a 1280×800 laptop screen.
var defaultSize = fyne.NewSize(1024, 700)

// icon is assets.Icon as a Fyne resource, for the window and the home screen.
var icon = fyne.NewStaticResource("icon.png", assets.Icon)

// Create builds Replica's user interface into w: title, icon, size and the
// first screen.
func Create(a fyne.App, w fyne.Window) {
	a.SetIcon(icon)
	w.SetIcon(icon)
	w.SetTitle(Product + " " + assets.Version)
	w.SetMaster()

	h := &home{}
	w.SetContent(h.build())
	w.Resize(defaultSize)
	w.CenterOnScreen()
}
