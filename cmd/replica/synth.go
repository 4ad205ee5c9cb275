package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline/synth"
)

// synthResult is what `replica synth --json` prints.
type synthResult struct {
	Dir        string  `json:"dir"`
	Part       string  `json:"part"`
	Views      int     `json:"views"`
	Width      int     `json:"width"`
	Height     int     `json:"height"`
	FocalPx    float64 `json:"focal_px"`
	Distance   float64 `json:"distance_mm"`
	Markers    int     `json:"markers"`
	Truth      string  `json:"groundtruth"`
	Surface    string  `json:"surface"`
	ElapsedSec float64 `json:"elapsed_s"`
}

func runSynth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := synth.DefaultOptions()
	fs := newFlagSet("synth", stderr, "--part NAME|FILE.json --out DIR [flags]")
	part := fs.String("part", "", "built-in part ("+strings.Join(assets.PartNames(), ", ")+") or a part spec JSON file")
	out := fs.String("out", "", "output folder (created; must be empty or hold an earlier capture)")
	o := d
	fs.IntVar(&o.Views, "views", d.Views, "number of photos")
	fs.IntVar(&o.Rings, "rings", d.Rings, "elevation rings the photos are spread over")
	fs.Float64Var(&o.Distance, "distance", 0, "camera distance in mm (0: chosen from the part's size)")
	fs.IntVar(&o.Width, "width", d.Width, "image width in pixels")
	fs.IntVar(&o.Height, "height", d.Height, "image height in pixels")
	fs.Float64Var(&o.FocalMM, "focal-mm", d.FocalMM, "lens focal length in mm")
	fs.Float64Var(&o.SensorMM, "sensor-mm", d.SensorMM, "sensor width in mm")
	fs.Uint64Var(&o.Seed, "seed", d.Seed, "random seed (camera jitter, textures, noise)")
	fs.Float64Var(&o.LightAzimuth, "light-azimuth", d.LightAzimuth, "key light azimuth in degrees")
	fs.Float64Var(&o.LightElevation, "light-elevation", d.LightElevation, "key light elevation in degrees")
	fs.Float64Var(&o.LightStrength, "light", d.LightStrength, "key light strength")
	fs.Float64Var(&o.Ambient, "ambient", d.Ambient, "ambient light strength")
	fs.BoolVar(&o.Markers, "markers", d.Markers, "lay the printed scale sheet under the part (--markers=false for none)")
	paper := fs.String("paper", "a4", "scale sheet paper: a4 or letter")
	fs.Float64Var(&o.BlurSigma, "blur-sigma", 2.5, "blur in pixels on the --blur-views")
	blurViews := fs.String("blur-views", "", "views to blur, e.g. 5,12-14 (1-based)")
	fs.Float64Var(&o.Exposure, "exposure", 0.3, "exposure factor on the --exposure-views")
	expViews := fs.String("exposure-views", "", "views to mis-expose, e.g. 7 (1-based)")
	skip := fs.String("skip-arc", "", "azimuth arc in degrees with no photos, FROM:TO (e.g. 90:160)")
	fs.Float64Var(&o.MeshCell, "mesh-cell", d.MeshCell, "groundtruth.stl sampling cell in mm")
	fs.IntVar(&o.JPEGQuality, "quality", d.JPEGQuality, "JPEG quality 1-100")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: synth: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *part == "" || *out == "" {
		fs.Usage()
		return fmt.Errorf("%w: synth needs --part and --out", errUsage)
	}
	spec, err := loadSpec(*part)
	if err != nil {
		return err
	}
	if o.Paper, err = markers.ParsePaper(*paper); err != nil {
		return err
	}
	if o.BlurViews, err = intList(*blurViews); err != nil {
		return fmt.Errorf("--blur-views: %w", err)
	}
	if o.ExposureViews, err = intList(*expViews); err != nil {
		return fmt.Errorf("--exposure-views: %w", err)
	}
	if len(o.BlurViews) == 0 {
		o.BlurSigma = 0
	}
	if len(o.ExposureViews) == 0 {
		o.Exposure = 1
	}
	if *skip != "" {
		var a, b float64
		if _, err := fmt.Sscanf(*skip, "%g:%g", &a, &b); err != nil {
			return fmt.Errorf("--skip-arc %q: want FROM:TO in degrees", *skip)
		}
		o.SkipArc = &[2]float64{a, b}
	}
	if !*quiet {
		o.Progress = func(done, total int) {
			fmt.Fprintf(stderr, "\rrendering photos: %d/%d", done, total)
			if done == total {
				fmt.Fprintln(stderr)
			}
		}
	}
	start := time.Now()
	truth, err := synth.Generate(ctx, spec, o, *out)
	if err != nil {
		return err
	}
	res := synthResult{
		Dir: *out, Part: spec.Name, Views: len(truth.Views), Width: o.Width, Height: o.Height,
		FocalPx: truth.Camera.Fx, Distance: truth.Options.Distance,
		Truth: *out + "/groundtruth.json", Surface: *out + "/" + truth.Surface,
		ElapsedSec: time.Since(start).Seconds(),
	}
	if truth.Markers != nil {
		res.Markers = len(truth.Markers.Markers)
	}
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(res)
	}
	fmt.Fprintf(stdout, "wrote %d photos of %q (%d×%d, f = %.1f px, %.0f mm away) to %s in %.1f s\n",
		res.Views, res.Part, res.Width, res.Height, res.FocalPx, res.Distance, res.Dir, res.ElapsedSec)
	fmt.Fprintf(stdout, "truth: %s, surface: %s\n", res.Truth, res.Surface)
	return nil
}

// loadSpec returns a built-in part by name or reads a spec file.
func loadSpec(nameOrPath string) (*synth.Spec, error) {
	if b, ok := assets.Part(nameOrPath); ok {
		return synth.ParseSpec(bytes.NewReader(b))
	}
	f, err := os.Open(nameOrPath)
	if errors.Is(err, os.ErrNotExist) && !strings.ContainsAny(nameOrPath, "/.") {
		return nil, fmt.Errorf("%w: no built-in part %q (have %s) and no such file", errUsage, nameOrPath, strings.Join(assets.PartNames(), ", "))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return synth.ParseSpec(f)
}
