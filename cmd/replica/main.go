// Command replica is Replica's headless command line and cloud worker: it
// generates ground-truth captures (synth), writes the printable scale sheet
// (markers), checks captures (check), reconstructs them (process) and
// turns watertight meshes into STEP solids (cad). It builds without cgo.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"github.com/replica3d/replica/assets"
)

// command is one subcommand of the CLI.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"synth":   {"generate a ground-truth photo set of a known part", runSynth},
	"markers": {"write the printable scale-marker sheet as a PDF", runMarkers},
	"check":   {"check a folder of photos: sharpness, exposure, overlap, coverage", runCheck},
	"process": {"reconstruct a folder of photos with COLMAP (sparse model for now)", runProcess},
	"eval":    {"measure a reconstruction against a synthetic capture's ground truth", runEval},
	"cad":     {"turn a watertight mesh (PLY or STL) into a STEP solid", runCad},
	"version": {"print the version", runVersion},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if err == nil {
		return
	}
	if !errors.Is(err, flag.ErrHelp) && !errors.Is(err, errNotReady) {
		fmt.Fprintln(os.Stderr, "replica:", err)
	}
	os.Exit(exitCode(err))
}

// errUsage marks errors caused by how the command was called.
var errUsage = errors.New("usage")

// exitError carries a command's exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitErr(code int, err error) error { return &exitError{code, err} }

// exitCode is the process status for err: the command's own when it set
// one, 2 for usage errors, 1 otherwise.
func exitCode(err error) int {
	var ee *exitError
	switch {
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "replica %s — photos of a part to a print-ready model\n\nUsage: replica <command> [flags]\n\nCommands:\n", assets.Version)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'replica <command> -h' for a command's flags.")
}

func runVersion(_ context.Context, _ []string, stdout, _ io.Writer) error {
	fmt.Fprintln(stdout, "replica", assets.Version)
	return nil
}

// parseWithArg parses fs's flags given before or after the command's one
// positional argument, which it returns ("" when absent); what names that
// argument in the error for a second one ("folder").
func parseWithArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	var arg string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return "", exitErr(2, err)
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		if arg != "" {
			return "", exitErr(2, fmt.Errorf("%w: %s takes one %s, got %q and %q", errUsage, fs.Name(), what, arg, rest[0]))
		}
		arg, rest = rest[0], rest[1:]
	}
	return arg, nil
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: replica %s %s\n\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// intList parses "1,4,7-9" into view indices (1-based, as shown to users).
func intList(s string) ([]int, error) {
	var out []int
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		var a, b int
		if _, err := fmt.Sscanf(lo, "%d", &a); err != nil {
			return nil, fmt.Errorf("bad number %q in list %q", lo, s)
		}
		b = a
		if isRange {
			if _, err := fmt.Sscanf(hi, "%d", &b); err != nil {
				return nil, fmt.Errorf("bad number %q in list %q", hi, s)
			}
		}
		if a < 1 || b < a || b-a > 10000 {
			return nil, fmt.Errorf("bad range %q in list %q", part, s)
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}
