package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recorder is a Progress that remembers what it was told.
type recorder struct {
	mu     sync.Mutex
	events []string
	etas   []time.Duration
}

func (r *recorder) Stage(name string, i, n int) { r.add(fmt.Sprintf("stage %s %d/%d", name, i, n)) }
func (r *recorder) Update(name string, f float64, eta time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.etas = append(r.etas, eta)
}
func (r *recorder) Done(name string, cached bool, _ time.Duration) {
	r.add(fmt.Sprintf("done %s cached=%v", name, cached))
}
func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

var _ Progress = (*recorder)(nil)

// job is a three-stage job: "a" reads the input folder and writes a.txt,
// "b" appends its option to a's output, "c" copies b's. runs counts the
// stages run.
type job struct {
	in   string
	opt  string
	runs map[string]int
	// block, when set, makes stage b wait for the context to end.
	block bool
	// failB makes stage b fail with a hint.
	failB bool
}

func (j *job) stages() []Stage {
	return []Stage{
		{Name: "a", Inputs: []string{j.in}, Outputs: []string{"a.txt"}, Run: func(ctx context.Context, env *Env) error {
			j.runs["a"]++
			b, err := os.ReadFile(filepath.Join(j.in, "photo.txt"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.Dir, "a.txt"), b, 0o644)
		}},
		{Name: "b", Options: map[string]string{"opt": j.opt}, Outputs: []string{"b.txt"}, Run: func(ctx context.Context, env *Env) error {
			j.runs["b"]++
			for i := range 4 {
				env.Progress(float64(i+1) / 4)
			}
			if j.block {
				os.WriteFile(filepath.Join(env.Dir, "partial"), nil, 0o644)
				<-ctx.Done()
				return ctx.Err()
			}
			if j.failB {
				return WithHint(errors.New("mapper registered 2 of 30 photos"), "Add overlapping photos of the back side")
			}
			a, err := os.ReadFile(filepath.Join(env.Prev["a"], "a.txt"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.Dir, "b.txt"), append(a, j.opt...), 0o644)
		}},
		{Name: "c", Outputs: []string{"c.txt"}, Run: func(ctx context.Context, env *Env) error {
			j.runs["c"]++
			b, err := os.ReadFile(filepath.Join(env.Prev["b"], "b.txt"))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.Dir, "c.txt"), b, 0o644)
		}},
	}
}

func newJob(t *testing.T) (*job, string) {
	t.Helper()
	in := t.TempDir()
	if err := os.WriteFile(filepath.Join(in, "photo.txt"), []byte("photo-1 "), 0o644); err != nil {
		t.Fatal(err)
	}
	return &job{in: in, opt: "x", runs: map[string]int{}}, t.TempDir()
}

func readOut(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "stages", "c", "c.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunnerCachesAndInvalidatesDownstream(t *testing.T) {
	j, out := newJob(t)
	rec := &recorder{}
	r := &Runner{Dir: out, Progress: rec}
	res, err := r.Run(context.Background(), j.stages())
	if err != nil {
		t.Fatal(err)
	}
	if got := readOut(t, out); got != "photo-1 x" {
		t.Errorf("output %q", got)
	}
	if len(res) != 3 || res[0].Cached || res[2].Cached {
		t.Errorf("first run results %+v", res)
	}

	// Unchanged: everything from the cache.
	res, err = (&Runner{Dir: out}).Run(context.Background(), j.stages())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res {
		if !s.Cached {
			t.Errorf("stage %s ran again with nothing changed", s.Name)
		}
	}
	if j.runs["a"] != 1 || j.runs["b"] != 1 || j.runs["c"] != 1 {
		t.Errorf("runs %v after an unchanged rerun", j.runs)
	}

	// An option of b: b and c run, a does not.
	j.opt = "y"
	if _, err := (&Runner{Dir: out}).Run(context.Background(), j.stages()); err != nil {
		t.Fatal(err)
	}
	if j.runs["a"] != 1 || j.runs["b"] != 2 || j.runs["c"] != 2 || readOut(t, out) != "photo-1 y" {
		t.Errorf("runs %v, output %q after changing b's option", j.runs, readOut(t, out))
	}

	// An input photo: everything runs.
	if err := os.WriteFile(filepath.Join(j.in, "photo.txt"), []byte("photo-2 "), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Runner{Dir: out}).Run(context.Background(), j.stages()); err != nil {
		t.Fatal(err)
	}
	if j.runs["a"] != 2 || j.runs["c"] != 3 || readOut(t, out) != "photo-2 y" {
		t.Errorf("runs %v, output %q after changing a photo", j.runs, readOut(t, out))
	}

	// A missing output makes its stage run again.
	os.Remove(filepath.Join(out, "stages", "c", "c.txt"))
	if _, err := (&Runner{Dir: out}).Run(context.Background(), j.stages()); err != nil {
		t.Fatal(err)
	}
	if j.runs["c"] != 4 || j.runs["b"] != 3 {
		t.Errorf("runs %v after deleting c's output", j.runs)
	}
	want := []string{"stage a 0/3", "done a cached=false", "stage b 1/3", "done b cached=false", "stage c 2/3", "done c cached=false"}
	if strings.Join(rec.events, "; ") != strings.Join(want, "; ") {
		t.Errorf("progress events %q, want %q", rec.events, want)
	}
	if _, err := os.Stat(filepath.Join(out, "stages", "b.log")); err != nil {
		t.Errorf("no log for stage b: %v", err)
	}
}

func TestRunnerCancelResumes(t *testing.T) {
	j, out := newJob(t)
	j.block = true
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := (&Runner{Dir: out}).Run(ctx, j.stages())
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "b" || !errors.Is(err, context.Canceled) || se.Hint == "" {
		t.Fatalf("cancelled run = %v, want a StageError for b wrapping context.Canceled with a hint", err)
	}
	entries, _ := os.ReadDir(filepath.Join(out, "stages"))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") || e.Name() == "b" {
			t.Errorf("left %s behind after the cancel", e.Name())
		}
	}
	j.block = false
	res, err := (&Runner{Dir: out}).Run(context.Background(), j.stages())
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Cached || res[1].Cached || j.runs["a"] != 1 {
		t.Errorf("resume: results %+v, runs %v; want a from the cache", res, j.runs)
	}
	if readOut(t, out) != "photo-1 x" {
		t.Errorf("output %q", readOut(t, out))
	}
}

func TestRunnerFailureKeepsCache(t *testing.T) {
	j, out := newJob(t)
	if _, err := (&Runner{Dir: out}).Run(context.Background(), j.stages()); err != nil {
		t.Fatal(err)
	}
	j.opt, j.failB = "z", true
	_, err := (&Runner{Dir: out}).Run(context.Background(), j.stages())
	var se *StageError
	if !errors.As(err, &se) || se.Stage != "b" || se.Hint != "Add overlapping photos of the back side" {
		t.Fatalf("failed run = %v (%+v), want b's error with its hint", err, se)
	}
	// The outputs of the last good run are still there and still valid for
	// the options they were made with.
	j.opt, j.failB = "x", false
	res, err := (&Runner{Dir: out}).Run(context.Background(), j.stages())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res {
		if !s.Cached {
			t.Errorf("stage %s ran again after a failed run with other options", s.Name)
		}
	}
}

func TestRunnerMissingOutputAndBadFolder(t *testing.T) {
	_, out := newJob(t)
	st := []Stage{{Name: "mesh", Outputs: []string{"mesh.ply"}, Run: func(context.Context, *Env) error { return nil }}}
	if _, err := (&Runner{Dir: out}).Run(context.Background(), st); err == nil || !strings.Contains(err.Error(), "did not write mesh.ply") {
		t.Errorf("stage without its output: %v", err)
	}
	file := filepath.Join(out, "a-file")
	os.WriteFile(file, nil, 0o644)
	_, err := (&Runner{Dir: file}).Run(context.Background(), st)
	var se *StageError
	if !errors.As(err, &se) || se.Hint == "" {
		t.Errorf("output folder that is a file: %v", err)
	}
	dup := []Stage{{Name: "x", Run: st[0].Run}, {Name: "x", Run: st[0].Run}}
	if _, err := (&Runner{Dir: out}).Run(context.Background(), dup); err == nil {
		t.Errorf("two stages named x were accepted")
	}
	bad := []Stage{{Name: "../escape", Run: st[0].Run}}
	if _, err := (&Runner{Dir: out}).Run(context.Background(), bad); err == nil {
		t.Errorf("a stage name with a path was accepted")
	}
}

func TestRunnerETA(t *testing.T) {
	_, out := newJob(t)
	clock := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	rec := &recorder{}
	st := []Stage{{Name: "features", Run: func(_ context.Context, env *Env) error {
		clock = clock.Add(10 * time.Second)
		env.Progress(0.25) // 10 s for a quarter: 30 s to go
		clock = clock.Add(10 * time.Second)
		env.Progress(0.5)
		return nil
	}}}
	if _, err := (&Runner{Dir: out, Progress: rec, Now: now}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(rec.etas) != 2 || rec.etas[0] != 30*time.Second || rec.etas[1] != 20*time.Second {
		t.Errorf("ETAs %v, want [30s 20s]", rec.etas)
	}
}

// TestRunnerProgressConcurrent reports progress from many goroutines, as
// the prepare stage does; run it with -race.
func TestRunnerProgressConcurrent(t *testing.T) {
	_, out := newJob(t)
	rec := &recorder{}
	st := []Stage{{Name: "prepare", Run: func(_ context.Context, env *Env) error {
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 100 {
					env.Progress(float64(w*100+i) / 800)
				}
			}()
		}
		wg.Wait()
		return nil
	}}}
	if _, err := (&Runner{Dir: out, Progress: rec, UpdateEvery: time.Nanosecond}).Run(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if len(rec.etas) == 0 {
		t.Errorf("no progress reported")
	}
}
