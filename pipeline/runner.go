package pipeline

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"
)

// Stage is one named step of a job. Its outputs live in their own folder
// under the job's, and are kept as a cache keyed by a hash of the stage's
// name, options, input files and the keys of the stages before it: a
// stage whose key did not change is not run again, and changing anything
// upstream changes every key downstream.
type Stage struct {
	// Name names the stage and its folder ("features", "mapping").
	Name string
	// Options are the settings that change the stage's outputs; they are
	// encoded as JSON into the key, so they must encode deterministically
	// (structs and maps do).
	Options any
	// Inputs are files or folders outside the job whose contents the stage
	// reads (the photos); folders are hashed file by file.
	Inputs []string
	// Outputs are the files, relative to the stage's folder, the stage
	// must leave behind; a cached stage with one missing runs again.
	Outputs []string
	// Run does the work, writing into env.Dir.
	Run func(ctx context.Context, env *Env) error
}

// Env is what a stage's Run gets from the runner.
type Env struct {
	// Dir is the folder to write the outputs into: a fresh temporary one
	// that becomes the stage's folder when Run succeeds.
	Dir string
	// Prev maps the names of the stages before this one to their folders.
	Prev map[string]string
	// Log is the stage's log file (stages/NAME.log in the job folder).
	Log io.Writer
	// Progress reports the share of the stage done, 0 to 1. It is safe
	// for concurrent use.
	Progress func(fraction float64)
}

// Progress receives a job's progress. It knows nothing of the UI: the CLI
// draws a bar, the app binds it to a widget. Calls never overlap; Update
// calls come at most a few times a second, from whichever goroutine of the
// stage reports.
type Progress interface {
	// Stage announces stage i of n (from 0).
	Stage(name string, i, n int)
	// Update reports the share of the current stage done and the time
	// left, estimated from the rate so far (0 when unknown).
	Update(name string, fraction float64, eta time.Duration)
	// Done reports a stage finished, from its cache or not.
	Done(name string, cached bool, took time.Duration)
}

// StageError is a stage that failed: what the maker reads (Hint) apart
// from the cause that goes to the log.
type StageError struct {
	Stage string
	Hint  string
	Err   error
}

func (e *StageError) Error() string { return fmt.Sprintf("%s: %v", e.Stage, e.Err) }
func (e *StageError) Unwrap() error { return e.Err }

// Hinted is an error that carries advice for the maker; the runner puts
// the first hint it finds in the chain into StageError.Hint.
type Hinted interface {
	error
	ActionHint() string
}

// hintError attaches a hint to an error: see WithHint.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string      { return e.err.Error() }
func (e *hintError) Unwrap() error      { return e.err }
func (e *hintError) ActionHint() string { return e.hint }

// WithHint returns err with advice for the maker attached.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err, hint}
}

// StageResult is how one stage went, for the report.
type StageResult struct {
	Name    string  `json:"name"`
	Cached  bool    `json:"cached"`
	Seconds float64 `json:"seconds"`
	Dir     string  `json:"dir"` // relative to the job folder
}

// manifest is stages/NAME/stage.json: the key the outputs were made with.
type manifest struct {
	Format   string    `json:"format"` // "replica-stage/1"
	Key      string    `json:"key"`
	Outputs  []string  `json:"outputs"`
	Seconds  float64   `json:"seconds"`
	Finished time.Time `json:"finished"`
}

const manifestName = "stage.json"

// Runner runs the stages of a job in order, under the job folder Dir.
type Runner struct {
	// Dir is the job's output folder; stage folders go in Dir/stages.
	Dir string
	// Progress, when set, receives the job's progress.
	Progress Progress
	// Now is the clock (time.Now when nil), for tests.
	Now func() time.Time
	// UpdateEvery limits Progress.Update calls (250 ms when 0).
	UpdateEvery time.Duration

	digests sync.Map // path+size+mtime → content digest, for this runner's life
}

// Run runs stages in order, skipping those whose cache is valid. A
// cancelled or failed stage leaves the cache as it was before it started:
// its temporary folder is removed and the previous outputs, if any, stay
// until a run succeeds, so the next run resumes at that stage. The error
// is a *StageError (wrapping ctx.Err() when cancelled).
func (r *Runner) Run(ctx context.Context, stages []Stage) ([]StageResult, error) {
	now := r.Now
	if now == nil {
		now = time.Now
	}
	root := filepath.Join(r.Dir, "stages")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, &StageError{Stage: "setup", Err: err, Hint: "Cannot write to the output folder: choose one you can write to"}
	}
	seen := map[string]bool{}
	for _, s := range stages {
		if s.Name == "" || seen[s.Name] || s.Name != filepath.Base(s.Name) || s.Name == "." || s.Name == ".." {
			return nil, &StageError{Stage: s.Name, Err: errors.New("stage names must be unique, non-empty file names")}
		}
		seen[s.Name] = true
	}
	var results []StageResult
	prevKey := ""
	prev := map[string]string{}
	for i, s := range stages {
		if err := ctx.Err(); err != nil {
			return results, &StageError{Stage: s.Name, Err: err, Hint: "Stopped; run again to resume"}
		}
		if r.Progress != nil {
			r.Progress.Stage(s.Name, i, len(stages))
		}
		key, err := r.key(ctx, s, prevKey)
		if err != nil {
			return results, stageError(s.Name, err)
		}
		dir := filepath.Join(root, s.Name)
		start := now()
		if cachedOK(dir, key, s.Outputs) {
			res := StageResult{Name: s.Name, Cached: true, Dir: filepath.Join("stages", s.Name)}
			results = append(results, res)
			if r.Progress != nil {
				r.Progress.Done(s.Name, true, 0)
			}
			prevKey, prev[s.Name] = key, dir
			continue
		}
		took, err := r.runStage(ctx, s, root, dir, key, maps.Clone(prev), start, now)
		if err != nil {
			return results, stageError(s.Name, err)
		}
		results = append(results, StageResult{Name: s.Name, Seconds: took.Seconds(), Dir: filepath.Join("stages", s.Name)})
		if r.Progress != nil {
			r.Progress.Done(s.Name, false, took)
		}
		prevKey, prev[s.Name] = key, dir
	}
	return results, nil
}

// runStage runs s into a temporary folder and, when it succeeds and left
// its outputs, swaps that folder in for dir with its manifest.
func (r *Runner) runStage(ctx context.Context, s Stage, root, dir, key string, prev map[string]string, start time.Time, now func() time.Time) (time.Duration, error) {
	tmp, err := os.MkdirTemp(root, "."+s.Name+".tmp-")
	if err != nil {
		return 0, WithHint(err, WriteHint(err))
	}
	defer os.RemoveAll(tmp) // gone after the swap; the partial outputs of a failure
	logf, err := os.Create(filepath.Join(root, s.Name+".log"))
	if err != nil {
		return 0, WithHint(err, WriteHint(err))
	}
	defer logf.Close()
	fmt.Fprintf(logf, "stage %s started %s, key %s\n", s.Name, start.Format(time.RFC3339), key)

	every := r.UpdateEvery
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	var (
		mu   sync.Mutex // stages report from their workers
		last time.Time
	)
	env := &Env{Dir: tmp, Prev: prev, Log: logf, Progress: func(f float64) {
		if r.Progress == nil || !(f >= 0) {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		f = min(f, 1)
		t := now()
		if !last.IsZero() && t.Sub(last) < every && f < 1 {
			return
		}
		last = t
		var eta time.Duration
		if el := t.Sub(start); f > 0 && el > 0 {
			eta = time.Duration(float64(el) * (1 - f) / f).Round(time.Second)
		}
		r.Progress.Update(s.Name, f, eta)
	}}
	if err := s.Run(ctx, env); err != nil {
		fmt.Fprintf(logf, "stage %s failed: %v\n", s.Name, err)
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	for _, o := range s.Outputs {
		if _, err := os.Stat(filepath.Join(tmp, o)); err != nil {
			return 0, fmt.Errorf("did not write %s", o)
		}
	}
	took := now().Sub(start)
	m := manifest{Format: "replica-stage/1", Key: key, Outputs: s.Outputs, Seconds: took.Seconds(), Finished: now().UTC()}
	b, _ := json.MarshalIndent(m, "", "  ")
	if err := writeFileSync(filepath.Join(tmp, manifestName), b); err != nil {
		return 0, WithHint(err, WriteHint(err))
	}
	// Swap: the old folder moves aside, the new one in, the old one goes.
	// A crash between the renames leaves no folder, which a run rebuilds.
	old := ""
	if _, err := os.Stat(dir); err == nil {
		old = filepath.Join(root, "."+s.Name+".old-"+randHex())
		if err := os.Rename(dir, old); err != nil {
			return 0, err
		}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return 0, err
	}
	if old != "" {
		os.RemoveAll(old)
	}
	fmt.Fprintf(logf, "stage %s done in %.1f s\n", s.Name, took.Seconds())
	return took, nil
}

// cachedOK reports whether dir holds outputs made with key.
func cachedOK(dir, key string, outputs []string) bool {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return false
	}
	var m manifest
	if json.Unmarshal(b, &m) != nil || m.Key != key || !slices.Equal(m.Outputs, outputs) {
		return false
	}
	for _, o := range outputs {
		if _, err := os.Stat(filepath.Join(dir, o)); err != nil {
			return false
		}
	}
	return true
}

// key hashes what a stage's outputs depend on.
func (r *Runner) key(ctx context.Context, s Stage, prevKey string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "replica-stage/1\x00%s\x00%s\x00", s.Name, prevKey)
	opts, err := json.Marshal(s.Options)
	if err != nil {
		return "", fmt.Errorf("options: %w", err)
	}
	h.Write(opts)
	fmt.Fprintf(h, "\x00%q\x00", s.Outputs)
	for _, in := range s.Inputs {
		files, err := listFiles(in)
		if err != nil {
			return "", WithHint(err, "Cannot read the photos: check the folder exists and is readable")
		}
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			d, err := r.digest(f)
			if err != nil {
				return "", WithHint(err, "Cannot read the photos: check the folder exists and is readable")
			}
			rel, _ := filepath.Rel(in, f)
			fmt.Fprintf(h, "%s\x00%s\x00", filepath.ToSlash(rel), d)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// listFiles returns path itself when it is a file, or the regular files
// under it, sorted.
func listFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// digest is the SHA-256 of a file's contents, remembered by path, size and
// modification time for the runner's life.
func (r *Runner) digest(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	id := fmt.Sprintf("%s\x00%d\x00%d", path, fi.Size(), fi.ModTime().UnixNano())
	if d, ok := r.digests.Load(id); ok {
		return d.(string), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	d := hex.EncodeToString(h.Sum(nil))
	r.digests.Store(id, d)
	return d, nil
}

// stageError wraps err for stage name, with the first hint in its chain.
func stageError(name string, err error) *StageError {
	e := &StageError{Stage: name, Err: err}
	if h, ok := errors.AsType[Hinted](err); ok {
		e.Hint = h.ActionHint()
	}
	if e.Hint == "" {
		e.Hint = hintFor(err)
	}
	return e
}

// hintFor is the hint for errors any stage can meet.
func hintFor(err error) string {
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return "Stopped; run again to resume"
	case errors.Is(err, syscall.ENOSPC):
		return "The disk holding the output folder is full: free some space and run again to resume, or choose another output folder"
	case errors.Is(err, syscall.EROFS) || errors.Is(err, fs.ErrPermission):
		return "Cannot write to the output folder: choose one you can write to"
	}
	return ""
}

// WriteHint is the hint for a failure to write in the output folder: a
// full disk, a read-only or forbidden folder, or one of those in general.
func WriteHint(err error) string {
	if h := hintFor(err); h != "" {
		return h
	}
	return "Cannot write to the output folder: check the disk has space and the folder is writable"
}

func writeFileSync(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func randHex() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
