package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/app/project"
	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/local"
)

// Processor runs a reconstruction job: local.Run with COLMAP in the app,
// a fake in tests.
type Processor func(ctx context.Context, job local.Job) (*local.Report, error)

// Hardware is what this computer offers a job.
type Hardware struct {
	GPU     string // the NVIDIA GPU's name when COLMAP can use it, else ""
	Problem string // why no job can run here (COLMAP missing), else ""
}

// colmapProcessor runs jobs with the colmap on this computer.
func colmapProcessor(ctx context.Context, job local.Job) (*local.Report, error) {
	bin, err := colmap.Find(ctx)
	if err != nil {
		return nil, &pipeline.StageError{Stage: "setup", Err: err, Hint: "Install COLMAP (Debian/Ubuntu: sudo apt install colmap), then start again"}
	}
	return local.Run(ctx, bin, job)
}

// detectHardware says whether COLMAP is installed and can use a GPU.
func detectHardware(ctx context.Context) Hardware {
	bin, err := colmap.Find(ctx)
	if err != nil {
		return Hardware{Problem: "COLMAP is not installed: install it (Debian/Ubuntu: sudo apt install colmap) to process on this computer"}
	}
	if gpus := colmap.DetectGPUs(ctx); bin.CUDA && len(gpus) > 0 {
		return Hardware{GPU: gpus[0].Name}
	}
	return Hardware{}
}

// Where a job runs, as remembered in the settings.
const (
	settingBackend = "process.backend"
	settingQuality = "process.quality"
	backendGPU     = "gpu"
	backendCPU     = "cpu"
)

// processScreen runs a project's reconstruction: where and how well,
// per-stage progress, the log, cancel and resume, and what went wrong.
type processScreen struct {
	ui *ui
	p  *project.Project
	hw Hardware

	where   *widget.RadioGroup
	quality *widget.Select
	length  *widget.Entry // the part's known length in mm, optional
	explain *widget.Label
	start   *widget.Button
	cancel  *widget.Button
	elapsed *widget.Label
	stages  *fyne.Container
	rows    map[string]*stageRow
	overall binding.Float // the whole job's progress
	log     *widget.Entry
	failure *fyne.Container
	hint    *widget.Label

	mu         sync.Mutex
	stop       context.CancelFunc
	current    string // the stage running
	stageIndex int    // its place among the stageCount stages
	stageCount int
	began      time.Time
}

// stageRow is one stage's line: its name, bar and state, the bar and the
// state bound to the stage's progress and status.
type stageRow struct {
	name     *widget.Label
	bar      *widget.ProgressBar
	state    *widget.Label
	progress binding.Float
	status   binding.String
}

// set shows the stage's progress and status.
func (r *stageRow) set(f float64, status string) {
	r.progress.Set(f)
	r.status.Set(status)
}

// stageTitles are the stages as a maker reads them.
var stageTitles = map[string]string{
	"prepare":  "Preparing photos",
	"features": "Finding features",
	"matching": "Matching photos",
	"mapping":  "Placing cameras",
	"dense":    "Dense points",
	"mesh":     "Building the mesh",
	"scale":    "Reading the scale sheet",
	"model":    "Making it printable",
	"cad":      "Writing the CAD solid",
}

// showProcess shows project p's process screen.
func (u *ui) showProcess(p *project.Project) {
	s := &processScreen{ui: u, p: p, hw: u.hardware(), rows: map[string]*stageRow{}}
	u.current = s
	u.win.SetContent(s.build())
	u.win.SetOnDropped(nil)
	u.setShortcuts(map[fyne.KeyName]func(){
		fyne.KeyReturn: func() {
			if !s.start.Disabled() {
				s.onStart()
			}
		},
	})
}

// jobDir is where a project's local job keeps its cache and results.
func jobDir(p *project.Project) string { return filepath.Join(p.JobsDir(), "local") }

func (s *processScreen) build() fyne.CanvasObject {
	back := widget.NewButtonWithIcon("Photos", theme.NavigateBackIcon(), s.onBack)
	back.Importance = widget.LowImportance
	title := widget.NewLabelWithStyle("Process", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText

	gpu := "This computer's GPU"
	if s.hw.GPU != "" {
		gpu += " (" + s.hw.GPU + ")"
	}
	cpu := "This computer's CPU (slower)"
	s.where = widget.NewRadioGroup([]string{gpu, cpu, s.ui.cloudChoice()}, func(string) { s.onWhere() })
	s.where.Required = true
	s.explain = widget.NewLabel("")
	s.explain.Wrapping = fyne.TextWrapWord
	s.explain.Importance = widget.LowImportance
	if s.hw.GPU != "" && s.ui.store.Setting(settingBackend) != backendCPU {
		s.where.SetSelected(gpu)
	} else {
		s.where.SetSelected(cpu)
	}
	s.quality = widget.NewSelect([]string{"draft", "standard", "high"}, func(q string) { s.ui.store.SetSetting(settingQuality, q) })
	q := s.ui.store.Setting(settingQuality)
	if _, ok := local.Presets[q]; !ok {
		q = "standard"
	}
	s.quality.SetSelected(q)
	s.length = widget.NewEntry()
	s.length.SetPlaceHolder("optional, e.g. 80")
	s.length.SetText(s.ui.store.Setting(knownLengthSetting(s.p)))
	s.length.Validator = func(t string) error {
		_, err := parseKnownLength(t)
		return err
	}
	s.length.OnChanged = func(t string) {
		if _, err := parseKnownLength(t); err == nil {
			s.ui.store.SetSetting(knownLengthSetting(s.p), strings.TrimSpace(t))
		}
	}

	s.start = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), s.onStart)
	s.start.Importance = widget.HighImportance
	s.cancel = widget.NewButtonWithIcon("Cancel", theme.MediaStopIcon(), s.onCancel)
	s.cancel.Disable()
	s.elapsed = widget.NewLabel("")
	if _, err := os.Stat(filepath.Join(jobDir(s.p), "stages")); err == nil {
		s.start.SetText("Resume")
		s.elapsed.SetText("An earlier run's finished stages will be reused.")
	}
	if s.hw.Problem != "" {
		s.start.Disable()
		s.explain.SetText(s.hw.Problem)
	}
	s.overall = binding.NewFloat()
	overall := widget.NewProgressBarWithData(s.overall)
	s.stages = container.NewVBox(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Overall", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), nil, overall))
	for _, name := range []string{"prepare", "features", "matching", "mapping", "dense", "mesh", "scale", "model", "cad"} {
		s.addRow(name)
	}
	s.log = widget.NewMultiLineEntry()
	s.log.TextStyle = fyne.TextStyle{Monospace: true}
	s.log.Wrapping = fyne.TextWrapOff
	s.log.Disable()
	s.hint = widget.NewLabel("")
	s.hint.Wrapping = fyne.TextWrapWord
	openLog := widget.NewButtonWithIcon("Open the log", theme.FileTextIcon(), func() {
		s.mu.Lock()
		name := s.current
		s.mu.Unlock()
		s.ui.openFolder(filepath.Join(jobDir(s.p), "stages", name+".log"))
	})
	s.failure = container.NewVBox(widget.NewLabelWithStyle("Processing stopped", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), s.hint, openLog)
	s.failure.Hide()

	s.showDense()
	lengthItem := widget.NewFormItem("Longest side", container.NewBorder(nil, nil, nil, widget.NewLabel("mm"), s.length))
	lengthItem.HintText = "Only if the photos show no scale sheet"
	form := widget.NewForm(widget.NewFormItem("Where", container.NewVBox(s.where, s.explain)), widget.NewFormItem("Quality", s.quality), lengthItem)
	left := container.NewVBox(form, container.NewHBox(s.start, s.cancel), s.elapsed, s.failure)
	right := container.NewBorder(s.stages, nil, nil, nil, s.log)
	body := container.NewHSplit(container.NewVScroll(left), right)
	body.SetOffset(0.4)
	header := container.NewHBox(back, title)
	return container.NewBorder(container.NewPadded(header), nil, nil, nil, container.NewPadded(body))
}

// knownLengthSetting is the setting that remembers project p's known
// length.
func knownLengthSetting(p *project.Project) string { return "process.known_length." + p.ID }

// parseKnownLength reads the known length field: empty for none (0), else a
// length in mm between 1 and 2000 (a comma as the decimal mark is taken).
func parseKnownLength(t string) (float64, error) {
	t = strings.TrimSpace(strings.ReplaceAll(t, ",", "."))
	if t == "" {
		return 0, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v >= 1 && v <= 2000) {
		return 0, fmt.Errorf("%q is not a length in millimetres from 1 to 2000 (leave it empty when the photos show the scale sheet)", t)
	}
	return v, nil
}

func (s *processScreen) addRow(name string) {
	r := &stageRow{name: widget.NewLabel(stageTitles[name]), progress: binding.NewFloat(), status: binding.NewString()}
	r.bar = widget.NewProgressBarWithData(r.progress)
	r.state = widget.NewLabelWithData(r.status)
	r.status.Set("waiting")
	r.state.Importance = widget.LowImportance
	// Long states must not widen the window: the grid's columns are equal.
	r.state.Truncation = fyne.TextTruncateEllipsis
	s.rows[name] = r
	s.stages.Add(container.NewGridWithColumns(3, r.name, r.bar, r.state))
}

// onWhere explains the choice and remembers it.
func (s *processScreen) onWhere() {
	switch {
	case strings.HasPrefix(s.where.Selected, "Cloud"):
		s.explain.SetText("Cloud processing arrives in a later version of Replica; choose this computer for now.")
		if s.start != nil {
			s.start.Disable()
		}
		return
	case strings.HasPrefix(s.where.Selected, "This computer's GPU"):
		if s.hw.GPU == "" {
			s.explain.SetText("No NVIDIA GPU that COLMAP can use was found: the CPU will do the work.")
		} else {
			s.explain.SetText("Fastest: features, matching and dense points on the NVIDIA GPU.")
		}
		s.ui.store.SetSetting(settingBackend, backendGPU)
	default:
		s.explain.SetText("Works on any computer, with Replica's own dense stereo; a 30-photo model takes several minutes on 2 cores.")
		s.ui.store.SetSetting(settingBackend, backendCPU)
	}
	if s.start != nil && s.hw.Problem == "" {
		s.start.Enable()
	}
	s.showDense()
}

// usesGPU reports whether the choice made runs on this computer's GPU.
func (s *processScreen) usesGPU() bool {
	return strings.HasPrefix(s.where.Selected, "This computer's GPU") && s.hw.GPU != ""
}

// showDense says which program will compute the dense points.
func (s *processScreen) showDense() {
	r := s.rows["dense"]
	if r == nil {
		return
	}
	r.bar.Show()
	if s.usesGPU() {
		r.name.SetText(stageTitles["dense"] + " (GPU)")
	} else {
		r.name.SetText(stageTitles["dense"] + " (CPU)")
	}
	r.set(0, "waiting")
}

// onStart runs the job off the UI goroutine.
func (s *processScreen) onStart() {
	photos, err := s.p.Photos()
	if err != nil {
		s.ui.showError("Cannot read the project's photos", err)
		return
	}
	paths := make([]string, len(photos))
	for i, n := range photos {
		paths[i] = s.p.PhotoPath(n)
	}
	known, err := parseKnownLength(s.length.Text)
	if err != nil {
		s.ui.showError("Check the part's longest side", err)
		return
	}
	job := local.Job{Photos: paths, Out: jobDir(s.p), Quality: s.quality.Selected, CPU: !strings.HasPrefix(s.where.Selected, "This computer's GPU"),
		KnownLength: known}
	if g := filepath.Join(s.p.Dir, capture.GraphFileName); pipeline.FileExists(g) {
		job.Graph = g
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stop, s.began = cancel, time.Now()
	s.mu.Unlock()
	job.Progress = &uiProgress{s: s}
	s.start.Disable()
	s.cancel.Enable()
	s.failure.Hide()
	for _, r := range s.rows {
		r.set(0, "waiting")
		r.bar.Show()
	}
	s.overall.Set(0)
	s.showDense()
	s.ui.store.SetState(s.p.ID, project.StateProcessing, "")
	done := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				s.ui.do(s.refreshElapsed)
			case <-done:
				return
			}
		}
	}()
	go func() {
		rep, err := s.ui.process(ctx, job)
		close(done)
		s.ui.do(func() { s.finished(rep, err) })
	}()
}

// refreshElapsed shows the time since the start and the stage's log tail.
func (s *processScreen) refreshElapsed() {
	s.mu.Lock()
	began, name := s.began, s.current
	s.mu.Unlock()
	if began.IsZero() {
		return
	}
	s.elapsed.SetText("Elapsed " + time.Since(began).Round(time.Second).String())
	if name != "" {
		if b, err := readTail(filepath.Join(jobDir(s.p), "stages", name+".log"), 8<<10); err == nil {
			s.log.SetText(b)
			s.log.CursorRow = strings.Count(b, "\n")
		}
	}
}

// finished shows the result of a run.
func (s *processScreen) finished(rep *local.Report, err error) {
	s.mu.Lock()
	took := time.Since(s.began).Round(time.Second)
	s.stop = nil
	s.began = time.Time{}
	s.mu.Unlock()
	s.elapsed.SetText("Ran for " + took.String())
	s.cancel.Disable()
	s.start.Enable()
	s.start.SetText("Resume")
	if err != nil {
		hint := ""
		if se, ok := errors.AsType[*pipeline.StageError](err); ok {
			hint = se.Hint
			if r := s.rows[se.Stage]; r != nil {
				r.status.Set("stopped")
			}
		}
		if errors.Is(err, context.Canceled) {
			s.hint.SetText("Cancelled. Resume picks up at the stage that was running.")
			s.ui.store.SetState(s.p.ID, project.StateFailed, "Cancelled")
		} else {
			s.hint.SetText(sentence(err.Error()) + "\n" + hint)
			s.ui.store.SetState(s.p.ID, project.StateFailed, "Failed: "+hint)
		}
		s.failure.Show()
		return
	}
	result := fmt.Sprintf("%d of %d photos placed, mesh of %d faces", rep.Registered, rep.Photos, rep.Mesh.Faces)
	s.ui.store.SetState(s.p.ID, project.StateDone, result)
	s.ui.showResults(s.p, rep)
}

func (s *processScreen) onCancel() {
	s.mu.Lock()
	if s.stop != nil {
		s.stop()
	}
	s.mu.Unlock()
	s.cancel.Disable()
	s.elapsed.SetText("Stopping…")
}

func (s *processScreen) onBack() {
	s.mu.Lock()
	running := s.stop != nil
	s.mu.Unlock()
	if running {
		s.ui.showError("Processing is running", errors.New("cancel it first; it resumes where it stopped"))
		return
	}
	s.ui.showCapture(s.p)
}

// uiProgress shows the pipeline's progress on the process screen.
type uiProgress struct{ s *processScreen }

// uiProgress updates the bindings on the UI goroutine (ui.do), so that
// the tests' fake UI goroutine sees them in order.
func (p *uiProgress) Stage(name string, i, n int) {
	p.s.mu.Lock()
	p.s.current, p.s.stageIndex, p.s.stageCount = name, i, n
	p.s.mu.Unlock()
	p.s.ui.do(func() {
		if r := p.s.rows[name]; r != nil {
			r.status.Set("running")
		}
		p.s.setOverall(0)
	})
}

func (p *uiProgress) Update(name string, f float64, eta time.Duration) {
	p.s.ui.do(func() {
		r := p.s.rows[name]
		if r == nil {
			return
		}
		r.progress.Set(f)
		if eta > 0 {
			r.status.Set(fmt.Sprintf("about %s left", eta.Round(time.Second)))
		}
		p.s.setOverall(f)
	})
}

func (p *uiProgress) Done(name string, cached bool, took time.Duration) {
	p.s.ui.do(func() {
		r := p.s.rows[name]
		if r == nil {
			return
		}
		if cached {
			r.set(1, "done earlier")
		} else {
			r.set(1, fmt.Sprintf("done in %s", took.Round(time.Second)))
		}
		p.s.setOverall(1)
	})
}

// setOverall shows the whole job's progress, f being the running stage's.
func (s *processScreen) setOverall(f float64) {
	s.mu.Lock()
	i, n := s.stageIndex, s.stageCount
	s.mu.Unlock()
	if n > 0 {
		s.overall.Set(min(1, (float64(i)+f)/float64(n)))
	}
}

// readTail returns up to the last n bytes of a file, from a line start.
func readTail(path string, n int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	off := max(0, fi.Size()-n)
	b := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	s := string(b)
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s, nil
}

// sentence capitalises an error message for a person.
func sentence(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
