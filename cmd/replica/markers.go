package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/replica3d/replica/capture/markers"
)

// runMarkers writes the printable scale sheet as a one-page PDF.
func runMarkers(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlagSet("markers", stderr, "--out FILE.pdf [--paper a4|letter]")
	paperName := flags.String("paper", "a4", "paper size: a4 or letter")
	out := flags.String("out", "", "PDF `file` to write (required)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("%w: markers: unexpected argument %q", errUsage, flags.Arg(0))
	}
	if *out == "" {
		flags.Usage()
		return fmt.Errorf("%w: markers needs --out FILE.pdf", errUsage)
	}
	paper, err := markers.ParsePaper(*paperName)
	if err != nil {
		return fmt.Errorf("%w: markers: %w", errUsage, err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sheet := markers.Layout(paper)
	err = writeSheetFile(*out, func(w io.Writer) error {
		return sheet.WritePDF(w, markers.DefaultTitle)
	})
	if err != nil {
		return fmt.Errorf("markers: %w", err)
	}
	w, h := paper.Size()
	fmt.Fprintf(stdout, "wrote %s (paper %s, %g × %g mm, landscape)\n", *out, paper, w, h)
	fmt.Fprintln(stdout, "Print it at 100% (actual size, no fit-to-page) and check that the bar measures 100 mm.")
	return nil
}

// writeSheetFile writes path through a temporary file in the same folder and
// renames it into place, so that an interrupted run never leaves a partial
// PDF under the final name.
func writeSheetFile(path string, write func(io.Writer) error) (err error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder; name the PDF file to write", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		// Name the file asked for, not the temporary one.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file private; a printout is not.
	if err = f.Chmod(0o644); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
