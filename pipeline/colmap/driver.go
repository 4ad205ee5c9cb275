package colmap

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvBinary names the environment variable that overrides where the colmap
// binary is looked for (a path, or a name looked up in PATH).
const EnvBinary = "REPLICA_COLMAP"

// probeTimeout bounds the quick runs that read the banner and the options:
// the real binary answers in well under a second.
const probeTimeout = 30 * time.Second

// DefaultGrace is how long Run waits after interrupting a cancelled run
// before it kills the process: COLMAP finishes writing the file it is on
// and exits within a second or two.
const DefaultGrace = 5 * time.Second

// ErrNotFound is returned (wrapped) by Find when no colmap binary can be
// run; its hint tells the maker how to install one.
var ErrNotFound = errors.New("colmap not found")

// Version is a COLMAP release, as its banner prints it.
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string {
	if v.Patch != 0 {
		return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// AtLeast reports whether v is major.minor or later.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// Binary is a colmap executable that answered: its path, release and
// whether it was built with CUDA (without it, patch_match_stereo refuses
// and feature extraction and matching run on the CPU).
type Binary struct {
	Path    string
	Version Version
	CUDA    bool

	mu      sync.Mutex
	options map[string]map[string]bool // command → option names it accepts
}

// Error is a failed colmap run: the command, how it ended, the end of what
// it printed, and a hint a maker can act on.
type Error struct {
	Command  string // e.g. "feature_extractor"
	ExitCode int    // −1 when it did not exit normally (killed, not started); 0 when it printed a failure and exited 0
	Tail     string // the last lines it printed
	Hint     string
	Err      error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "colmap %s", e.Command)
	switch {
	case e.Err != nil && e.ExitCode == 0:
		// Exited 0 but printed a failure.
		fmt.Fprintf(&b, " failed: %v", e.Err)
		return b.String()
	case e.Err != nil && e.ExitCode < 0:
		fmt.Fprintf(&b, ": %v", e.Err)
	default:
		fmt.Fprintf(&b, " exited with status %d", e.ExitCode)
	}
	if t := lastLine(e.Tail); t != "" {
		fmt.Fprintf(&b, ": %s", t)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ActionHint returns the hint (pipeline.Hinted).
func (e *Error) ActionHint() string { return e.Hint }

// banner matches the first lines of `colmap help`, for example
// "COLMAP 3.8 -- Structure-from-Motion and Multi-View Stereo
// (Commit Unknown on Unknown without CUDA)".
var (
	bannerVersion = regexp.MustCompile(`COLMAP (\d+)\.(\d+)(?:\.(\d+))?`)
	bannerCUDA    = regexp.MustCompile(`\b(with|without) CUDA\b`)
)

// Find locates the colmap binary (EnvBinary, else PATH) and reads its
// banner. The error wraps ErrNotFound when there is none to run.
func Find(ctx context.Context) (*Binary, error) {
	name := os.Getenv(EnvBinary)
	if name == "" {
		name = "colmap"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return nil, fmt.Errorf("%w (%v): install COLMAP (Debian/Ubuntu: sudo apt install colmap; Windows: the CUDA release from github.com/colmap/colmap) or set %s to its path", ErrNotFound, err, EnvBinary)
	}
	return Probe(ctx, path)
}

// Probe reads the banner of the colmap binary at path.
func Probe(ctx context.Context, path string) (*Binary, error) {
	out, err := quickRun(ctx, path, "help")
	v, cuda, ok := parseBanner(out)
	if !ok {
		if err == nil {
			err = errors.New("no COLMAP banner in its output")
		}
		return nil, fmt.Errorf("%w: %s does not answer as COLMAP: %v (printed %q)", ErrNotFound, path, err, firstLine(out))
	}
	return &Binary{Path: path, Version: v, CUDA: cuda}, nil
}

// parseBanner finds the release and the CUDA build flag in COLMAP's
// banner. A banner that says neither "with" nor "without CUDA" counts as
// without.
func parseBanner(out []byte) (v Version, cuda, ok bool) {
	m := bannerVersion.FindSubmatch(out)
	if m == nil {
		return v, false, false
	}
	v.Major, _ = strconv.Atoi(string(m[1]))
	v.Minor, _ = strconv.Atoi(string(m[2]))
	if len(m[3]) > 0 {
		v.Patch, _ = strconv.Atoi(string(m[3]))
	}
	if c := bannerCUDA.FindSubmatch(out); c != nil {
		cuda = string(c[1]) == "with"
	}
	return v, cuda, true
}

// quickRun runs a probe command and returns its combined output, at most
// 1 MiB of it.
func quickRun(ctx context.Context, path string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	var out limitedBuffer
	out.max = 1 << 20
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// Options returns the option names (without the leading "--") that
// command accepts, from its -h output, read once per command.
func (b *Binary) Options(ctx context.Context, command string) (map[string]bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if o, ok := b.options[command]; ok {
		return o, nil
	}
	out, err := quickRun(ctx, b.Path, command, "-h")
	opts := parseOptions(out)
	if len(opts) == 0 {
		return nil, &Error{Command: command, ExitCode: exitCode(err), Tail: tail(out, 5), Err: err,
			Hint: "This COLMAP does not list the options of " + command + "; reinstall COLMAP"}
	}
	if b.options == nil {
		b.options = map[string]map[string]bool{}
	}
	b.options[command] = opts
	return opts, nil
}

var optionName = regexp.MustCompile(`(?m)^\s*--([A-Za-z][A-Za-z0-9_.]*)`)

// parseOptions collects the "--Name" options of a -h listing.
func parseOptions(out []byte) map[string]bool {
	opts := map[string]bool{}
	for _, m := range optionName.FindAllSubmatch(out, -1) {
		opts[string(m[1])] = true
	}
	return opts
}

// Option returns the first of names that command accepts: option names
// moved between releases (SiftExtraction.use_gpu became
// FeatureExtraction.use_gpu in 3.13), so callers list the new name and
// the old one. It fails when command accepts none of them.
func (b *Binary) Option(ctx context.Context, command string, names ...string) (string, error) {
	opts, err := b.Options(ctx, command)
	if err != nil {
		return "", err
	}
	for _, n := range names {
		if opts[n] {
			return n, nil
		}
	}
	return "", &Error{Command: command, ExitCode: -1, Err: fmt.Errorf("accepts none of the options %s", strings.Join(names, ", ")),
		Hint: fmt.Sprintf("COLMAP %s is not supported; install 3.8 or later", b.Version)}
}

// GPU is an NVIDIA GPU as nvidia-smi lists it.
type GPU struct {
	Name     string
	MemoryMB int
}

// DetectGPUs lists the NVIDIA GPUs nvidia-smi reports; none (and no
// error) when nvidia-smi is absent or finds no device, as on machines
// without an NVIDIA driver.
func DetectGPUs(ctx context.Context) []GPU {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	out, err := quickRun(ctx, path, "--query-gpu=name,memory.total", "--format=csv,noheader,nounits")
	if err != nil {
		return nil
	}
	return parseGPUs(out)
}

// parseGPUs reads nvidia-smi's "name, memory" CSV lines.
func parseGPUs(out []byte) []GPU {
	var gpus []GPU
	for line := range strings.Lines(string(out)) {
		name, mem, ok := strings.Cut(strings.TrimSpace(line), ",")
		if !ok {
			continue
		}
		mb, err := strconv.Atoi(strings.TrimSpace(mem))
		if err != nil || strings.TrimSpace(name) == "" {
			continue
		}
		gpus = append(gpus, GPU{Name: strings.TrimSpace(name), MemoryMB: mb})
	}
	return gpus
}

// RunOptions tune Run.
type RunOptions struct {
	// Log receives everything the command prints (stdout and stderr), as
	// it comes; nil discards it.
	Log io.Writer
	// Line, when set, is called with each line the command prints, for
	// progress.
	Line func(line string)
	// Grace is how long to wait after interrupting a cancelled run before
	// killing it (DefaultGrace when 0).
	Grace time.Duration
	// Dir is the working directory ("" for the current one).
	Dir string
}

// Run runs `colmap command args…`. Cancelling ctx interrupts the process
// (SIGINT on Unix; a kill where there is no interrupt) and kills it after
// the grace period. A failure is an *Error carrying the last lines printed
// and a hint; a cancelled run's error also wraps ctx.Err().
func (b *Binary) Run(ctx context.Context, command string, args []string, o *RunOptions) error {
	if o == nil {
		o = &RunOptions{}
	}
	grace := o.Grace
	if grace <= 0 {
		grace = DefaultGrace
	}
	cmd := exec.CommandContext(ctx, b.Path, append([]string{command}, args...)...)
	cmd.Dir = o.Dir
	cmd.Cancel = func() error { return interrupt(cmd.Process) }
	cmd.WaitDelay = grace
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw

	last := newRing(40)
	var failed string // the first line that says a run failed though it may exit 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			last.add(line)
			if failed == "" && failureLine(line) {
				failed = line
			}
			if o.Log != nil {
				fmt.Fprintln(o.Log, line)
			}
			if o.Line != nil {
				o.Line(line)
			}
		}
		// A line over 1 MiB ends the scan: drain the rest so the process
		// never blocks on a full pipe.
		io.Copy(io.Discard, pr)
	}()
	err := cmd.Start()
	if err != nil {
		pw.Close()
		<-done
		return &Error{Command: command, ExitCode: -1, Err: err, Hint: "Check that COLMAP is installed and can be run"}
	}
	err = cmd.Wait()
	pw.Close()
	<-done
	if err == nil && failed != "" {
		tail := last.String()
		return &Error{Command: command, Tail: tail, Err: errors.New(failed), Hint: hintFor(command, tail)}
	}
	if err == nil {
		return nil
	}
	e := &Error{Command: command, ExitCode: exitCode(err), Tail: last.String(), Err: err}
	if ctx.Err() != nil {
		e.Err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		e.ExitCode = -1
		e.Hint = "Stopped; run again to resume"
		return e
	}
	e.Hint = hintFor(command, e.Tail)
	return e
}

// failureLine reports a line that means the run failed even when COLMAP
// exits 0: its database layer prints SQLite errors (a full disk among
// them) and carries on.
func failureLine(line string) bool {
	return strings.HasPrefix(line, "SQLite error")
}

// hintFor turns what a failed run printed into advice.
func hintFor(command, tail string) string {
	t := strings.ToLower(tail)
	switch {
	case strings.Contains(t, "no space left") || strings.Contains(t, "disk is full"):
		return "The disk is full: free some space and run again to resume"
	case strings.Contains(t, "bad_alloc") || strings.Contains(t, "out of memory"):
		return "COLMAP ran out of memory: use a lower quality preset or close other programs"
	case strings.Contains(t, "requires cuda"):
		return "This step needs an NVIDIA GPU with CUDA; it is skipped on this machine"
	case strings.Contains(t, "permission denied"):
		return "COLMAP cannot write to the output folder: choose a folder you can write to"
	}
	return fmt.Sprintf("COLMAP's %s failed; its log has the details", command)
}

// interrupt asks p to stop as Ctrl-C would, so COLMAP can finish the file
// it is writing; Windows has no such signal for a console child, so there
// it is killed at once.
func interrupt(p *os.Process) error {
	if runtime.GOOS == "windows" {
		return p.Kill()
	}
	return p.Signal(os.Interrupt)
}

// exitCode is the status of a finished process, or −1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && ee.Exited() {
		return ee.ExitCode()
	}
	return -1
}

// ring keeps the last n lines added.
type ring struct {
	mu    sync.Mutex
	lines []string
	next  int
	full  bool
}

func newRing(n int) *ring { return &ring{lines: make([]string, n)} }

func (r *ring) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	r.lines[r.next] = s
	r.next = (r.next + 1) % len(r.lines)
	r.full = r.full || r.next == 0
}

func (r *ring) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	if r.full {
		out = append(out, r.lines[r.next:]...)
	}
	out = append(out, r.lines[:r.next]...)
	return strings.Join(out, "\n")
}

// limitedBuffer keeps the first max bytes written to it and drops the
// rest, so a runaway probe cannot use unbounded memory.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func tail(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func firstLine(out []byte) string {
	s, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
