package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/replica3d/replica/pipeline/eval"
)

func runEval(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("eval", stderr, "OUT --truth DIR/groundtruth.json [--json]")
	truth := fs.String("truth", "", "the synthetic capture's groundtruth.json")
	asJSON := fs.Bool("json", false, "print the result as JSON (format replica-eval/1)")
	tol := fs.Float64("tol", 1, "completeness tolerance in mm (the budget line uses shares of the part's largest side instead)")
	out, err := parseWithArg(fs, args, "output folder")
	if err != nil {
		return err
	}
	if out == "" || *truth == "" {
		fs.Usage()
		return exitErr(2, fmt.Errorf("%w: eval needs OUT and --truth", errUsage))
	}
	if !(*tol >= 0) {
		return exitErr(2, fmt.Errorf("%w: --tol %g: want a length in mm", errUsage, *tol))
	}
	r, err := eval.Evaluate(out, *truth, *tol)
	if err != nil {
		return err
	}
	// The STEP solid, when OUT holds one: a STEP that cannot be measured
	// says so in its section and leaves the rest of the report standing.
	solid := eval.EvaluateOutputCAD(out, *truth)
	if *asJSON {
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		return e.Encode(evalReport{r, solid})
	}
	r.Print(stdout)
	if solid != nil {
		solid.Print(stdout)
	}
	return nil
}

// evalReport is `replica eval --json`: eval.Result's keys and, when OUT
// holds a STEP, the "cad" section.
type evalReport struct {
	*eval.Result
	CAD *eval.CADResult `json:"cad,omitempty"`
}
