package mesh

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file runs the tools that makers check their files with, ADMesh and
// PrusaSlicer, on a file written here, and reads their verdict. Tests of
// this package and of the pipeline use it to hold our exports to the
// judgement of independent code; `make deps` installs both tools.

// toolWaitDelay is how long a checker has, after the interrupt that a
// cancelled context sends, before it is killed.
const toolWaitDelay = 5 * time.Second

// toolTail is how much of a failed checker's output a ToolError keeps.
const toolTail = 2000

// A ToolError reports a checker that could not be started, failed or did
// not finish. Err is the cause: exec.ErrNotFound (wrapped) when the tool is
// not installed, the context's error when it was cancelled or timed out,
// else the *exec.ExitError.
type ToolError struct {
	Tool     string // "admesh" or "prusa-slicer"
	Args     []string
	ExitCode int    // -1 when it did not start or was killed by a signal
	Output   string // the tail of its stderr, or of its stdout when stderr is empty
	Err      error
}

// Error returns "tool: cause", then the output's tail on the next lines.
func (e *ToolError) Error() string {
	s := e.Tool + ": " + e.Err.Error()
	if e.Output != "" {
		s += "\n" + e.Output
	}
	return s
}

// Unwrap returns the cause.
func (e *ToolError) Unwrap() error { return e.Err }

// runTool runs tool with args and returns its stdout and stderr. The child
// gets an interrupt when ctx is done and is killed toolWaitDelay later.
func runTool(ctx context.Context, tool string, args ...string) (stdout, stderr []byte, err error) {
	path, err := exec.LookPath(tool)
	if err != nil {
		return nil, nil, &ToolError{Tool: tool, Args: args, ExitCode: -1, Err: err}
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = toolWaitDelay
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		msg := errOut.Bytes()
		if len(bytes.TrimSpace(msg)) == 0 {
			msg = out.Bytes()
		}
		code := -1
		if cmd.ProcessState != nil {
			code = cmd.ProcessState.ExitCode()
		}
		return out.Bytes(), errOut.Bytes(), &ToolError{Tool: tool, Args: args, ExitCode: code, Output: outputTail(msg), Err: err}
	}
	return out.Bytes(), errOut.Bytes(), nil
}

// argPath keeps a relative path that begins with "-" from reading as an
// option.
func argPath(p string) string {
	if strings.HasPrefix(p, "-") {
		return "." + string(filepath.Separator) + p
	}
	return p
}

// AdmeshReport holds the figures of ADMesh's report on an STL file. Run
// without options, ADMesh checks the file and repairs what it can in
// memory (it writes nothing): each count from Disconnected on that is not
// zero is a defect of the file. Facets and Disconnected are those of the
// file as read (the report's "Original" column), Parts and Volume those of
// ADMesh's repair.
type AdmeshReport struct {
	Facets         int     // "Number of facets"
	Disconnected   int     // "Total disconnected facets": facets with an edge that no other facet shares exactly
	Parts          int     // "Number of parts", after ADMesh's repair
	Volume         float64 // "Volume", after ADMesh's repair
	Degenerate     int     // "Degenerate facets"
	EdgesFixed     int     // "Edges fixed": open edges joined to a nearby one
	FacetsRemoved  int     // "Facets removed"
	FacetsAdded    int     // "Facets added": triangles filling holes
	FacetsReversed int     // "Facets reversed": orientation fixed, or all reversed for a negative volume
	BackwardsEdges int     // "Backwards edges"
	NormalsFixed   int     // "Normals fixed": stored normals that disagree with the vertex order
	Output         string  // ADMesh's whole output
}

// admeshFields maps the report's labels to the fields they fill.
func (r *AdmeshReport) admeshFields() map[string]*int {
	return map[string]*int{
		"Number of facets":          &r.Facets,
		"Total disconnected facets": &r.Disconnected,
		"Number of parts":           &r.Parts,
		"Degenerate facets":         &r.Degenerate,
		"Edges fixed":               &r.EdgesFixed,
		"Facets removed":            &r.FacetsRemoved,
		"Facets added":              &r.FacetsAdded,
		"Facets reversed":           &r.FacetsReversed,
		"Backwards edges":           &r.BackwardsEdges,
		"Normals fixed":             &r.NormalsFixed,
	}
}

// Problems lists what ADMesh found wrong with the file, one short phrase
// each; it is empty for a closed, consistently oriented mesh with outward
// normals. The number of parts is not judged: see Parts.
func (r *AdmeshReport) Problems() []string {
	var p []string
	for _, c := range []struct {
		n    int
		what string
	}{
		{r.Disconnected, "facets with an unshared edge"},
		{r.Degenerate, "degenerate facets"},
		{r.EdgesFixed, "edges fixed"},
		{r.FacetsRemoved, "facets removed"},
		{r.FacetsAdded, "facets added"},
		{r.FacetsReversed, "facets reversed"},
		{r.BackwardsEdges, "backwards edges"},
		{r.NormalsFixed, "normals fixed"},
	} {
		if c.n != 0 {
			p = append(p, fmt.Sprintf("admesh: %d %s", c.n, c.what))
		}
	}
	if r.Facets == 0 {
		p = append(p, "admesh: no facets")
	}
	if !(r.Volume > 0) {
		p = append(p, fmt.Sprintf("admesh: volume %g", r.Volume))
	}
	return p
}

// admeshLine matches a figure of ADMesh's report: "Label : 12" with an
// optional second column (the "Final" one of the facet status table).
var admeshLine = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9 ]*?)\s*:\s*(-?\d+)(?:\s+(-?\d+))?`)

// admeshVolume matches the volume, printed beside "Number of parts".
var admeshVolume = regexp.MustCompile(`Volume\s*:\s*(\S+)`)

// CheckAdmesh runs ADMesh 0.98 (`admesh FILE`) on the STL file and parses
// its report. ADMesh writes no file in this mode. The error wraps
// exec.ErrNotFound when admesh is not installed (`make deps`), and is a
// *ToolError when it fails; a report without every figure is an error too.
func CheckAdmesh(ctx context.Context, stlPath string) (*AdmeshReport, error) {
	args := []string{argPath(stlPath)}
	out, _, err := runTool(ctx, "admesh", args...)
	if err != nil {
		return nil, err
	}
	r, err := parseAdmesh(out)
	if err != nil {
		return nil, &ToolError{Tool: "admesh", Args: args, Output: outputTail(out), Err: err}
	}
	return r, nil
}

// parseAdmesh reads the figures from ADMesh's output.
func parseAdmesh(out []byte) (*AdmeshReport, error) {
	r := &AdmeshReport{Output: string(out)}
	fields := r.admeshFields()
	seen := make(map[string]bool, len(fields))
	volume := false
	// The figures follow the facet status table's title; the file's
	// header, printed earlier, cannot fake them.
	_, results, ok := bytes.Cut(out, []byte("= Facet Status ="))
	if !ok {
		return nil, errors.New("no report in the output")
	}
	sc := bufio.NewScanner(bytes.NewReader(results))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := admeshLine.FindStringSubmatch(line); m != nil {
			if f, ok := fields[m[1]]; ok && !seen[m[1]] {
				// In the facet status table the first column is the
				// file as read.
				*f, _ = strconv.Atoi(m[2])
				seen[m[1]] = true
			}
		}
		if m := admeshVolume.FindStringSubmatch(line); m != nil {
			v, err := strconv.ParseFloat(m[1], 64)
			if err != nil {
				return nil, fmt.Errorf("volume %q: %w", m[1], err)
			}
			r.Volume, volume = v, true
		}
	}
	var missing []string
	for name := range fields {
		if !seen[name] {
			missing = append(missing, strconv.Quote(name))
		}
	}
	if !volume {
		missing = append(missing, `"Volume"`)
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("report lacks %s", strings.Join(missing, ", "))
	}
	return r, nil
}

// outputTail returns the last toolTail bytes of out, trimmed.
func outputTail(out []byte) string {
	if len(out) > toolTail {
		out = out[len(out)-toolTail:]
	}
	return string(bytes.TrimSpace(out))
}

// SlicerReport holds what PrusaSlicer said about a model and the G-code it
// made of it. The mesh figures come from `prusa-slicer --info`, run before
// slicing repairs the mesh: they are those of the file.
type SlicerReport struct {
	GCode    string // path of the G-code written
	Layers   int    // ";LAYER_CHANGE" marks in the G-code
	Manifold bool   // "manifold = yes": every edge has two facets
	// What PrusaSlicer's loader repaired (absent figures are zero).
	OpenEdges        int
	DegenerateFacets int
	EdgesFixed       int
	FacetsRemoved    int
	FacetsAdded      int
	FacetsReversed   int
	BackwardsEdges   int
	Parts            int      // "number_of_parts", summed over the objects
	Volume           float64  // "volume", summed over the objects
	Warnings         []string // "print warning: …" messages, "[warning]" and "[error]" log lines, stderr lines; one line each
	Info             string   // the output of --info
	Output           string   // the output of --export-gcode, stdout then stderr
}

// Problems lists what PrusaSlicer found wrong with the model, one short
// phrase each: an open or repaired mesh, a warning while slicing, G-code
// without layers. It is empty for a healthy model. PrusaSlicer reorients
// the facets of an STL file (FacetsReversed) but not those of a 3MF file,
// where a flipped facet shows as open edges.
func (r *SlicerReport) Problems() []string {
	var p []string
	if !r.Manifold {
		p = append(p, fmt.Sprintf("prusa-slicer: not manifold, %d open edges", r.OpenEdges))
	}
	for _, c := range []struct {
		n    int
		what string
	}{
		{r.DegenerateFacets, "degenerate facets"},
		{r.EdgesFixed, "edges fixed"},
		{r.FacetsRemoved, "facets removed"},
		{r.FacetsAdded, "facets added"},
		{r.FacetsReversed, "facets reversed"},
		{r.BackwardsEdges, "backwards edges"},
	} {
		if c.n != 0 {
			p = append(p, fmt.Sprintf("prusa-slicer: %d %s", c.n, c.what))
		}
	}
	for _, w := range r.Warnings {
		p = append(p, "prusa-slicer: "+w)
	}
	if r.Layers == 0 {
		p = append(p, "prusa-slicer: G-code without layers")
	}
	return p
}

// CheckPrusaSlicer runs PrusaSlicer (2.5, the CLI of the prusa-slicer
// package) on an STL or 3MF model with its default print settings: first
// `prusa-slicer --info MODEL` for the mesh figures, then `prusa-slicer
// --loglevel 2 --export-gcode -o OUT MODEL`, writing OUT in outDir (made if
// missing), named after the model with the extension .gcode. Neither needs
// a display. The model must fit the default 200 × 200 × 200 mm volume.
//
// The error wraps exec.ErrNotFound when prusa-slicer is not installed
// (`make deps`), and is a *ToolError when either run fails (a model that
// does not fit aborts it) or the G-code is missing or empty.
func CheckPrusaSlicer(ctx context.Context, modelPath, outDir string) (*SlicerReport, error) {
	model := argPath(modelPath)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("prusa-slicer: %w", err)
	}
	info, _, err := runTool(ctx, "prusa-slicer", "--info", model)
	if err != nil {
		return nil, err
	}
	r := &SlicerReport{Info: string(info)}
	if err := r.parseInfo(info); err != nil {
		return nil, &ToolError{Tool: "prusa-slicer", Args: []string{"--info", model}, Output: outputTail(info), Err: err}
	}

	base := strings.TrimSuffix(filepath.Base(modelPath), filepath.Ext(modelPath))
	r.GCode = filepath.Join(outDir, base+".gcode")
	// A G-code file left by an earlier run must not pass for this one's.
	if err := os.Remove(r.GCode); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("prusa-slicer: %w", err)
	}
	args := []string{"--loglevel", "2", "--export-gcode", "-o", argPath(r.GCode), model}
	out, errOut, err := runTool(ctx, "prusa-slicer", args...)
	if err != nil {
		return nil, err
	}
	r.Output = string(out) + string(errOut)
	r.Warnings = slicerWarnings(string(out))
	// Its stderr is empty for a sound model; the slicing core writes
	// there when it meets a bad one, e.g. "Flow::spacing() produced
	// negative spacing" for an open box.
	for line := range strings.Lines(string(errOut)) {
		if line = strings.TrimSpace(line); line != "" {
			r.Warnings = append(r.Warnings, line)
		}
	}
	if err := r.countLayers(); err != nil {
		return nil, &ToolError{Tool: "prusa-slicer", Args: args, Output: outputTail(out), Err: err}
	}
	return r, nil
}

// parseInfo reads the "key = value" lines of --info, one block per object.
func (r *SlicerReport) parseInfo(info []byte) error {
	ints := map[string]*int{
		"open_edges":        &r.OpenEdges,
		"degenerate_facets": &r.DegenerateFacets,
		"edges_fixed":       &r.EdgesFixed,
		"facets_removed":    &r.FacetsRemoved,
		"facets_added":      &r.FacetsAdded,
		"facets_reversed":   &r.FacetsReversed,
		"backwards_edges":   &r.BackwardsEdges,
		"number_of_parts":   &r.Parts,
	}
	objects, manifold := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(info))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), " = ")
		if !ok {
			continue
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		switch key {
		case "manifold":
			objects++
			if value == "yes" {
				manifold++
			}
		case "volume":
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return fmt.Errorf("--info volume %q: %w", value, err)
			}
			r.Volume += v
		default:
			if f, ok := ints[key]; ok {
				n, err := strconv.Atoi(value)
				if err != nil {
					return fmt.Errorf("--info %s %q: %w", key, value, err)
				}
				*f += n
			}
		}
	}
	if objects == 0 {
		return errors.New("--info printed no object")
	}
	r.Manifold = manifold == objects
	return nil
}

// slicerProgress matches PrusaSlicer's progress lines, "90 => Exporting
// G-code to …".
var slicerProgress = regexp.MustCompile(`^\d+ => `)

// slicerWarnings returns the warnings in PrusaSlicer's output: each
// "print warning: …" or "print_object warning: …" message with the lines
// that follow it up to the next progress or result line, joined, and each
// log line at level warning or error.
func slicerWarnings(out string) []string {
	var ws []string
	lines := strings.Split(out, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(line, "print warning: "), strings.HasPrefix(line, "print_object warning: "):
			msg := []string{line}
			for i+1 < len(lines) {
				next := strings.TrimSpace(lines[i+1])
				if slicerProgress.MatchString(next) || strings.HasPrefix(next, "Slicing result exported") ||
					strings.HasPrefix(next, "print") && strings.Contains(next, " warning: ") || strings.HasPrefix(next, "[") {
					break
				}
				if next != "" {
					msg = append(msg, next)
				}
				i++
			}
			ws = append(ws, strings.Join(msg, " "))
		case strings.Contains(line, "] [warning]"), strings.Contains(line, "] [error]"):
			// Boost.Log lines: "[time] [thread] [level]   message".
			_, msg, _ := strings.Cut(line, "] [")
			_, msg, _ = strings.Cut(msg, "] [")
			level, msg, _ := strings.Cut(msg, "]")
			ws = append(ws, "["+level+"] "+strings.TrimSpace(msg))
		}
	}
	return ws
}

// countLayers counts the layer marks in the G-code, which must exist and
// not be empty.
func (r *SlicerReport) countLayers() error {
	f, err := os.Open(r.GCode)
	if err != nil {
		return fmt.Errorf("no G-code: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	lines := 0
	for sc.Scan() {
		lines++
		if bytes.HasPrefix(sc.Bytes(), []byte(";LAYER_CHANGE")) {
			r.Layers++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read G-code: %w", err)
	}
	if lines == 0 {
		return fmt.Errorf("empty G-code %s", r.GCode)
	}
	return nil
}
