package colmap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fakeEnv selects the behaviour of the test binary when it is run as a
// fake colmap: the tests re-execute themselves with it set.
const fakeEnv = "REPLICA_FAKE_COLMAP"

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeEnv); mode != "" {
		os.Exit(fakeColmap(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeColmap plays colmap: mode picks the release it claims and how its
// commands behave.
func fakeColmap(mode string, args []string) int {
	cmd := ""
	if len(args) > 0 {
		cmd = args[0]
	}
	help := len(args) > 1 && args[1] == "-h"
	switch mode {
	case "3.8", "3.13-cuda":
		if cmd == "help" || cmd == "" {
			build := "without CUDA"
			v := "3.8"
			if mode == "3.13-cuda" {
				build, v = "with CUDA", "3.13.0"
			}
			fmt.Printf("COLMAP %s -- Structure-from-Motion and Multi-View Stereo\n              (Commit Unknown on Unknown %s)\n\nUsage:\n  colmap [command] [options]\n", v, build)
			return 0
		}
		if help {
			prefix := "SiftExtraction"
			if mode == "3.13-cuda" {
				prefix = "FeatureExtraction"
			}
			fmt.Printf("Options:\n  -h [ --help ]\n  --database_path arg\n  --%s.use_gpu arg (=1)\n  --SiftExtraction.max_num_features arg (=8192)\n", prefix)
			return 0
		}
		return 0
	case "not-colmap":
		fmt.Println("hello, I am something else")
		return 0
	case "fail":
		fmt.Fprintln(os.Stderr, "Reading images…")
		fmt.Fprintln(os.Stderr, "E20261126 writer.cc:42] No space left on device")
		return 3
	case "sqlite-full":
		// COLMAP 3.8's database layer reports and carries on.
		fmt.Println("  Features:        2493")
		fmt.Println("SQLite error [./src/base/database.cc, line 989]: database or disk is full")
		fmt.Println("Elapsed time: 0.129 [minutes]")
		return 0
	case "slow", "stubborn":
		if mode == "stubborn" {
			signal.Ignore(os.Interrupt)
		} else {
			c := make(chan os.Signal, 1)
			signal.Notify(c, os.Interrupt)
			go func() {
				<-c
				fmt.Println("interrupted: writing the database")
				os.Exit(130)
			}()
		}
		for i := 0; ; i++ {
			fmt.Printf("Processed file [%d/1000]\n", i+1)
			time.Sleep(20 * time.Millisecond)
		}
	case "long-line":
		fmt.Print(strings.Repeat("x", 3<<20))
		fmt.Println()
		fmt.Println("done")
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown fake mode", mode)
	return 2
}

// fake returns a Binary that runs this test binary as colmap in mode.
func fake(t *testing.T, mode string) *Binary {
	t.Helper()
	t.Setenv(fakeEnv, mode)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &Binary{Path: exe, Version: Version{3, 8, 0}}
}

func TestProbe(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want Version
		cuda bool
	}{
		{"3.8", Version{3, 8, 0}, false},
		{"3.13-cuda", Version{3, 13, 0}, true},
	} {
		b, err := Probe(context.Background(), fake(t, tc.mode).Path)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if b.Version != tc.want || b.CUDA != tc.cuda {
			t.Errorf("%s: version %v CUDA %v, want %v %v", tc.mode, b.Version, b.CUDA, tc.want, tc.cuda)
		}
	}
	if _, err := Probe(context.Background(), fake(t, "not-colmap").Path); !errors.Is(err, ErrNotFound) {
		t.Errorf("a binary that is not colmap: %v, want ErrNotFound", err)
	}
}

func TestFindMissing(t *testing.T) {
	t.Setenv(EnvBinary, "/nonexistent/colmap")
	_, err := Find(context.Background())
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "install COLMAP") {
		t.Errorf("Find = %v, want ErrNotFound with an install hint", err)
	}
}

func TestOptionNamesByRelease(t *testing.T) {
	for mode, want := range map[string]string{"3.8": "SiftExtraction.use_gpu", "3.13-cuda": "FeatureExtraction.use_gpu"} {
		b := fake(t, mode)
		got, err := b.Option(context.Background(), "feature_extractor", "FeatureExtraction.use_gpu", "SiftExtraction.use_gpu")
		if err != nil || got != want {
			t.Errorf("%s: option %q, %v; want %q", mode, got, err, want)
		}
		if _, err := b.Option(context.Background(), "feature_extractor", "NoSuch.option"); err == nil {
			t.Errorf("%s: an option it does not list was accepted", mode)
		}
	}
}

func TestRunFailure(t *testing.T) {
	b := fake(t, "fail")
	var log strings.Builder
	err := b.Run(context.Background(), "feature_extractor", nil, &RunOptions{Log: &log})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Run = %v, want *Error", err)
	}
	if e.ExitCode != 3 || !strings.Contains(e.Tail, "No space left on device") || !strings.Contains(e.Hint, "disk is full") {
		t.Errorf("error %+v: want exit 3, the last line and a disk-full hint", e)
	}
	if !strings.Contains(log.String(), "Reading images") {
		t.Errorf("log %q misses the output", log.String())
	}
	if !strings.Contains(err.Error(), "status 3") {
		t.Errorf("message %q", err.Error())
	}
}

// TestRunSQLiteError: a run that prints an SQLite error fails, though
// COLMAP exits 0.
func TestRunSQLiteError(t *testing.T) {
	err := fake(t, "sqlite-full").Run(context.Background(), "feature_extractor", nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.ExitCode != 0 || !strings.Contains(e.Hint, "disk is full") || !strings.Contains(err.Error(), "SQLite error") {
		t.Errorf("Run = %v (%+v), want a failure with a disk-full hint", err, e)
	}
}

func TestRunCancel(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no interrupt on Windows: cancelling kills at once")
	}
	for _, tc := range []struct {
		mode  string
		grace time.Duration
		exits bool // the fake exits on the interrupt itself
	}{
		{"slow", 5 * time.Second, true},
		{"stubborn", 300 * time.Millisecond, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			b := fake(t, tc.mode)
			ctx, cancel := context.WithCancel(context.Background())
			lines := make(chan string, 1000)
			start := time.Now()
			time.AfterFunc(300*time.Millisecond, cancel)
			err := b.Run(ctx, "mapper", nil, &RunOptions{Grace: tc.grace, Line: func(l string) {
				select {
				case lines <- l:
				default:
				}
			}})
			took := time.Since(start)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Run = %v, want it to wrap context.Canceled", err)
			}
			if len(lines) == 0 {
				t.Errorf("no progress lines before the cancel")
			}
			if took > 300*time.Millisecond+tc.grace+2*time.Second {
				t.Errorf("Run took %v to stop", took)
			}
			var e *Error
			if errors.As(err, &e) && tc.exits && !strings.Contains(e.Tail, "interrupted") {
				t.Errorf("the fake did not get the interrupt: %q", e.Tail)
			}
		})
	}
}

func TestRunLongLine(t *testing.T) {
	b := fake(t, "long-line")
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background(), "mapper", nil, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run hangs on a 3 MiB line")
	}
}

func TestRunNotStarted(t *testing.T) {
	b := &Binary{Path: "/nonexistent/colmap"}
	err := b.Run(context.Background(), "mapper", nil, nil)
	var e *Error
	if !errors.As(err, &e) || e.ExitCode != -1 {
		t.Errorf("Run = %v, want an *Error with no exit status", err)
	}
}

func TestParseGPUs(t *testing.T) {
	got := parseGPUs([]byte("NVIDIA GeForce RTX 4070, 12282\nNVIDIA H100 80GB HBM3, 81559\n\ngarbage\n, 5\nX, lots\n"))
	want := []GPU{{"NVIDIA GeForce RTX 4070", 12282}, {"NVIDIA H100 80GB HBM3", 81559}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("parseGPUs = %v, want %v", got, want)
	}
}

// TestDetectGPUsReal runs the real nvidia-smi where there is one: every
// GPU it lists is found, with its memory.
func TestDetectGPUsReal(t *testing.T) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		t.Skip("nvidia-smi not installed (no NVIDIA driver); skipping")
	}
	list, err := exec.Command(path, "-L").Output()
	if err != nil {
		t.Skipf("nvidia-smi -L: %v (no usable NVIDIA device); skipping", err)
	}
	want := strings.Count(string(list), "GPU ")
	got := DetectGPUs(context.Background())
	t.Logf("nvidia-smi -L:\n%sDetectGPUs: %+v", list, got)
	if len(got) != want || want == 0 {
		t.Fatalf("DetectGPUs found %d GPUs, nvidia-smi -L lists %d", len(got), want)
	}
	for _, g := range got {
		if g.Name == "" || g.MemoryMB < 1024 {
			t.Errorf("GPU %+v: want a name and its memory", g)
		}
	}
}

func TestParseBanner(t *testing.T) {
	for in, want := range map[string]string{
		"COLMAP 3.8 -- Structure-from-Motion\n (Commit Unknown on Unknown without CUDA)": "3.8 false",
		"COLMAP 3.11.1 -- ... (Commit 1a2b on 2024-12-01 with CUDA)":                     "3.11.1 true",
		"COLMAP 4.0 -- no build line":                                                    "4.0 false",
	} {
		v, cuda, ok := parseBanner([]byte(in))
		if got := fmt.Sprint(v, " ", cuda); !ok || got != want {
			t.Errorf("parseBanner(%q) = %s %v, want %s", in, got, ok, want)
		}
	}
	if _, _, ok := parseBanner([]byte("colmap: command not found")); ok {
		t.Errorf("banner found in an error message")
	}
}

// TestRealColmap probes the installed colmap (Debian's 3.8 here: no CUDA).
func TestRealColmap(t *testing.T) {
	if _, err := exec.LookPath("colmap"); err != nil {
		t.Skip("colmap not installed (make deps installs it); skipping")
	}
	t.Setenv(EnvBinary, "")
	b, err := Find(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !b.Version.AtLeast(3, 8) {
		t.Errorf("version %v", b.Version)
	}
	opt, err := b.Option(context.Background(), "feature_extractor", "FeatureExtraction.use_gpu", "SiftExtraction.use_gpu")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("COLMAP %v, CUDA %v, GPU option %s, GPUs %v", b.Version, b.CUDA, opt, DetectGPUs(context.Background()))
}
