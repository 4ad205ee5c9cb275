// Command replica is the Replica desktop app: it turns photos of a physical
// part into a print-ready STL and an editable STEP. This file only wires the
// Fyne app and window together; the screens live in package app.
package main

import (
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/replica3d/replica/app"
	"github.com/replica3d/replica/app/project"
)

// quitAfterEnv names the environment variable that, set to a Go duration
// such as "3s", closes the app cleanly after that time. The smoke test and
// screenshot scripts use it.
const quitAfterEnv = "REPLICA_QUIT_AFTER"

// screenshotsEnv names the environment variable that, set to a folder,
// walks the app through its screens and saves a PNG of each there
// (`make screenshots`); tourPhotosEnv, when set, is the folder of photos it
// imports instead of making the built-in sample's.
const (
	screenshotsEnv = "REPLICA_SCREENSHOTS"
	tourPhotosEnv  = "REPLICA_TOUR_PHOTOS"
)

// dataEnv names the environment variable that overrides the folder holding
// the projects (the screenshot script and tests use a fresh one).
const dataEnv = "REPLICA_DATA"

func main() {
	quitAfter, err := parseQuitAfter(os.Getenv(quitAfterEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}

	root := os.Getenv(dataEnv)
	if root == "" {
		if root, err = project.DefaultRoot(); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
	}
	store, err := project.Open(root)
	if err != nil {
		// Shown in a window too: the app is often started from a menu.
		fmt.Fprintln(os.Stderr, "replica:", err)
		a := fyneapp.NewWithID("com.replica3d.replica")
		w := a.NewWindow("Replica")
		app.ShowStartError(w, err)
		w.ShowAndRun()
		os.Exit(1)
	}
	defer store.Close()

	a := fyneapp.NewWithID("com.replica3d.replica")
	w := a.NewWindow("Replica")
	acct := app.WithAccount(newAccountClient())
	if shots := os.Getenv(screenshotsEnv); shots != "" {
		app.Tour(a, w, store, shots, os.Getenv(tourPhotosEnv), acct)
	} else {
		app.Create(a, w, store, acct)
	}

	if quitAfter > 0 {
		time.AfterFunc(quitAfter, func() { fyne.Do(a.Quit) })
	}
	w.ShowAndRun()
}

// parseQuitAfter reads the value of REPLICA_QUIT_AFTER; empty means never.
func parseQuitAfter(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%s=%q: want a positive duration such as 3s", quitAfterEnv, s)
	}
	return d, nil
}
