// Package app is Replica's desktop user interface, built with Fyne.
//
// It receives the fyne.App and fyne.Window from package main and never
// imports fyne.io/fyne/v2/app, so its tests run headless on
// fyne.io/fyne/v2/test. Each screen lives in its own file as an unexported
// struct with a build method.
package app

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/assets"
)

// Product is the name shown to users.
const Product = "Replica"

// defaultSize is the window's size on first start: room for a photo grid
// beside a 3D preview on a 1280×800 laptop screen.
var defaultSize = fyne.NewSize(1024, 700)

// icon is assets.Icon as a Fyne resource, for the window and the home screen.
var icon = fyne.NewStaticResource("icon.png", assets.Icon)

// Settings keys in the project store.
const (
	settingWidth   = "window.width"
	settingHeight  = "window.height"
	settingProject = "project.last"
	settingPaper   = "sheet.paper"
)

// ui is the app's state shared by its screens: the window, the projects and
// the screen on show.
type ui struct {
	app     fyne.App
	win     fyne.Window
	store   *project.Store
	process Processor

	current any // the screen on show: *home, *captureScreen, *processScreen, *resultsScreen or *accountScreen
	// do runs a change to the widgets from a background goroutine:
	// fyne.Do, or in tests a function that serialises with the test.
	do func(func())

	shortcuts []fyne.Shortcut // the screen on show's, removed when it goes

	detect func(context.Context) Hardware
	// find looks for the slicer and CAD programs, start starts one: the
	// system's, or fakes in tests.
	find   finder
	start  func(path string, args ...string) error
	hwOnce sync.Once
	hw     Hardware

	// account is the account service (nil: not in this build);
	// accountErr why its last answer failed; accountCalls its calls
	// running in the background, which tests wait for.
	account      AccountService
	accountErr   error
	accountCalls sync.WaitGroup
}

// Option changes how Create builds the app: WithAccount.
type Option func(*ui)

// hardware is what this computer offers, detected once.
func (u *ui) hardware() Hardware {
	u.hwOnce.Do(func() { u.hw = u.detect(context.Background()) })
	return u.hw
}

// Create builds Replica's user interface into w: title, icon, size and the
// home screen listing the projects of store. The window's size is kept in
// the store's settings when it closes.
func Create(a fyne.App, w fyne.Window, store *project.Store, opts ...Option) {
	create(a, w, store, colmapProcessor, detectHardware, opts...)
}

// create is Create with the processor and the hardware detection given:
// fakes in tests.
func create(a fyne.App, w fyne.Window, store *project.Store, process Processor, detect func(context.Context) Hardware, opts ...Option) *ui {
	a.SetIcon(icon)
	w.SetIcon(icon)
	w.SetTitle(Product + " " + assets.Version)
	w.SetMaster()

	u := &ui{app: a, win: w, store: store, process: process, detect: detect, do: fyne.Do, find: systemFinder(), start: startProgram}
	for _, o := range opts {
		o(u)
	}
	last := store.Setting(settingProject)
	u.showHome()
	// Reopen the project the maker left the app in.
	if last != "" {
		if p, err := store.Get(last); err == nil {
			store.SetSetting(settingProject, last)
			u.showCapture(p)
		}
	}
	u.refreshMe() // the account's plan and models, in the background
	w.Resize(u.savedSize())
	w.CenterOnScreen()
	w.SetCloseIntercept(func() {
		u.saveSize()
		w.Close()
	})
	return u
}

// savedSize is the window size of the last session, or defaultSize.
func (u *ui) savedSize() fyne.Size {
	wd, errW := strconv.ParseFloat(u.store.Setting(settingWidth), 32)
	ht, errH := strconv.ParseFloat(u.store.Setting(settingHeight), 32)
	if errW != nil || errH != nil || wd < 400 || ht < 300 {
		return defaultSize
	}
	return fyne.NewSize(float32(wd), float32(ht))
}

func (u *ui) saveSize() {
	s := u.win.Canvas().Size()
	u.store.SetSetting(settingWidth, strconv.Itoa(int(s.Width)))
	u.store.SetSetting(settingHeight, strconv.Itoa(int(s.Height)))
}

// showHome shows the project list.
func (u *ui) showHome() {
	h := &home{ui: u}
	u.current = h
	u.store.SetSetting(settingProject, "") // closed here, the app starts here
	u.win.SetContent(h.build())
	u.setShortcuts(map[fyne.KeyName]func(){fyne.KeyN: h.onNew})
}

// setShortcuts replaces the keyboard shortcuts of the screen that was on
// show with those of the new one: Ctrl (Cmd on macOS) and a key.
func (u *ui) setShortcuts(keys map[fyne.KeyName]func()) {
	c := u.win.Canvas()
	for _, s := range u.shortcuts {
		c.RemoveShortcut(s)
	}
	u.shortcuts = nil
	c.SetOnTypedKey(nil)
	for k, f := range keys {
		s := &desktop.CustomShortcut{KeyName: k, Modifier: fyne.KeyModifierShortcutDefault}
		c.AddShortcut(s, func(fyne.Shortcut) { f() })
		u.shortcuts = append(u.shortcuts, s)
	}
}

// showError shows err as a sentence the maker can act on.
func (u *ui) showError(what string, err error) {
	dialog.ShowError(fmt.Errorf("%s: %w", what, err), u.win)
}

// openFolder opens dir in the system's file manager.
func (u *ui) openFolder(dir string) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		u.showError("Cannot open the folder", err)
		return
	}
	if err := u.app.OpenURL(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}); err != nil {
		u.showError("Cannot open the folder", err)
	}
}

// ShowStartError fills w with why Replica cannot start (another Replica
// already running, an unreadable data folder) and a button to close it.
func ShowStartError(w fyne.Window, err error) {
	w.SetTitle(Product)
	msg := widget.NewLabel("Replica cannot start: " + err.Error())
	msg.Wrapping = fyne.TextWrapWord
	quit := widget.NewButton("Close", w.Close)
	w.SetContent(container.NewPadded(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), quit), nil, nil, msg)))
	w.Resize(fyne.NewSize(480, 160))
}
