package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/replica3d/replica/capture"
)

// errNotReady is returned by check when the set is not ready (exit status 1).
var errNotReady = errors.New("not ready")

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("check", stderr, "DIR [--json]")
	asJSON := fs.Bool("json", false, "print the report as JSON (schema in the README)")
	noGraph := fs.Bool("no-graph", false, "do not write the overlap graph (overlap.json) beside the photos")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	dir, err := parseWithArg(fs, args, "folder")
	if err != nil {
		return err
	}
	if dir == "" {
		fs.Usage()
		return exitErr(2, fmt.Errorf("%w: check needs a folder of photos", errUsage))
	}
	if st, err := os.Stat(dir); err != nil {
		return exitErr(2, err)
	} else if !st.IsDir() {
		return exitErr(2, fmt.Errorf("%s is not a folder", dir))
	}
	o := &capture.Options{}
	if *noGraph {
		o.GraphFile = "-"
	}
	if !*quiet {
		o.Progress = func(stage string, done, total int) {
			fmt.Fprintf(stderr, "\r%s: %d/%d   ", stage, done, total)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	r, err := capture.CheckDir(ctx, dir, o)
	if err != nil {
		return exitErr(2, err)
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(r); err != nil {
			return exitErr(2, err)
		}
	} else {
		printReport(stdout, r)
	}
	if !r.Ready {
		return exitErr(1, errNotReady)
	}
	return nil
}

func printReport(w io.Writer, r *capture.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PHOTO\tSIZE\tSHARPNESS\tBRIGHTNESS\tOVERLAP WITH PREVIOUS\tVERDICT")
	for _, p := range r.Photos {
		if p.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t%s: %s\n", p.Name, p.Verdict, p.Error)
			continue
		}
		ov := "-"
		if o := p.OverlapPrev; o != nil {
			ov = fmt.Sprintf("%.2f (%d points)", o.Score, o.Inliers)
			if !o.Overlap {
				ov = fmt.Sprintf("none (%d points)", o.Inliers)
			}
		}
		verdict := p.Verdict.String()
		if len(p.Codes) > 0 {
			var cs []string
			for _, c := range p.Codes {
				cs = append(cs, string(c))
			}
			verdict += " " + strings.Join(cs, ",")
		}
		fmt.Fprintf(tw, "%s\t%d×%d\t%.0f\t%.2f\t%s\t%s\n", p.Name, p.Width, p.Height, p.Quality.Sharpness, p.Quality.Brightness, ov, verdict)
	}
	tw.Flush()
	if len(r.Problems) > 0 {
		fmt.Fprintln(w)
		for _, p := range r.Problems {
			fmt.Fprintf(w, "%-4s %-26s %s\n     %s\n", p.Severity, p.Code, p.Message, p.Fix)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, r.Summary)
	if r.Graph != "" {
		fmt.Fprintf(w, "overlap graph: %s\n", r.Graph)
	}
}
