package app

import (
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"fyne.io/fyne/v2"

	"github.com/replica3d/replica/app/project"
)

// Tour builds the app like Create and then walks it through its screens
// as a maker would, saving a PNG of the window at each step into shots:
// the empty home screen, a new project's photos (the sample part's, or
// the folder photos imported, and checked), the project list, processing
// on this computer's CPU at draft quality with the real pipeline,
// cancelled and resumed, the result, and the Account panel. It quits
// the app when done and logs each step to stderr. `make screenshots` runs
// it under Xvfb.
func Tour(a fyne.App, w fyne.Window, store *project.Store, shots, photos string, opts ...Option) {
	u := create(a, w, store, colmapProcessor, detectHardware, opts...)
	go func() {
		err := u.tour(shots, photos)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tour:", err)
		}
		fyne.Do(a.Quit)
	}()
}

func (u *ui) tour(shots, photos string) error {
	if err := os.MkdirAll(shots, 0o755); err != nil {
		return err
	}
	snap := func(name string) error {
		time.Sleep(time.Second) // let the window draw
		path := filepath.Join(shots, name)
		// The X server's picture is what a person sees; the canvas's own
		// capture reads back blank under Xvfb's software GL.
		if imp, err := exec.LookPath("import"); err == nil && os.Getenv("DISPLAY") != "" {
			if out, err := exec.Command(imp, "-window", "root", path).CombinedOutput(); err != nil {
				return fmt.Errorf("import: %v: %s", err, out)
			}
		} else {
			var err error
			fyne.DoAndWait(func() {
				img := u.win.Canvas().Capture()
				var f *os.File
				if f, err = os.Create(path); err != nil {
					return
				}
				defer f.Close()
				err = png.Encode(f, img)
			})
			if err != nil {
				return err
			}
		}
		fmt.Fprintln(os.Stderr, "tour: saved", name)
		return nil
	}
	// wait polls cond on the UI goroutine until it holds.
	wait := func(what string, limit time.Duration, cond func() bool) error {
		deadline := time.Now().Add(limit)
		for {
			var ok bool
			fyne.DoAndWait(func() { ok = cond() })
			if ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("timed out waiting for %s", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if err := snap("01-home-empty.png"); err != nil {
		return err
	}
	// A new maker's first steps: the sample part (or the photos given).
	var c *captureScreen
	var err error
	fyne.DoAndWait(func() {
		if photos == "" {
			u.current.(*home).onSample()
			c, _ = u.current.(*captureScreen)
			return
		}
		var p *project.Project
		if p, err = u.store.Create("Sample bracket"); err == nil {
			u.showCapture(p)
			c = u.current.(*captureScreen)
			c.importPaths([]string{photos})
		}
	})
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("the sample project did not open")
	}
	p := c.p
	if err := wait("the check", 5*time.Minute, func() bool { return c.report != nil && !c.progress.Visible() }); err != nil {
		return err
	}
	if err := snap("02-photos.png"); err != nil {
		return err
	}
	fyne.DoAndWait(u.showHome)
	if err := snap("03-projects.png"); err != nil {
		return err
	}
	var s *processScreen
	fyne.DoAndWait(func() {
		u.showProcess(p)
		s = u.current.(*processScreen)
		s.quality.SetSelected("draft")
		s.onStart()
	})
	if err := wait("the matching stage", 10*time.Minute, func() bool { return s.rows["matching"].bar.Value > 0.2 }); err != nil {
		return err
	}
	if err := snap("04-process.png"); err != nil {
		return err
	}
	// Cancel, then resume: the finished stages come from the cache.
	fyne.DoAndWait(s.onCancel)
	if err := wait("the cancel", 5*time.Minute, func() bool { return s.failure.Visible() }); err != nil {
		return err
	}
	if err := snap("05-cancelled.png"); err != nil {
		return err
	}
	fyne.DoAndWait(s.onStart)
	if err := wait("the result", 20*time.Minute, func() bool { _, ok := u.current.(*resultsScreen); return ok || s.failure.Visible() }); err != nil {
		return err
	}
	time.Sleep(time.Second) // the 3D view renders off the UI goroutine
	if err := snap("06-result.png"); err != nil {
		return err
	}
	// The STEP solid, its faces coloured by surface, when there is one.
	if r, ok := u.current.(*resultsScreen); ok && slices.Contains(r.show.Options, "CAD") {
		fyne.DoAndWait(func() { r.show.SetSelected("CAD") })
		if err := wait("the STEP solid", 2*time.Minute, func() bool { return r.cad != nil || r.cadErr != nil }); err != nil {
			return err
		}
		time.Sleep(time.Second)
		if err := snap("07-result-cad.png"); err != nil {
			return err
		}
	}
	// The Account panel, signed out on a fresh data folder.
	fyne.DoAndWait(u.showAccount)
	return snap("08-account.png")
}
