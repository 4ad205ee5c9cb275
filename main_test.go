package main

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseQuitAfter(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    time.Duration
		wantErr bool
	}{
		{name: "unset", in: "", want: 0},
		{name: "seconds", in: "3s", want: 3 * time.Second},
		{name: "milliseconds", in: "1500ms", want: 1500 * time.Millisecond},
		{name: "no unit", in: "3", wantErr: true},
		{name: "zero", in: "0s", wantErr: true},
		{name: "negative", in: "-1s", wantErr: true},
		{name: "garbage", in: "soon", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseQuitAfter(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseQuitAfter(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("parseQuitAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestSmoke builds the real desktop binary, starts it on a private Xvfb
// display with REPLICA_QUIT_AFTER=3s and expects a clean exit.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the desktop smoke test in -short mode")
	}
	display := startXvfb(t)

	bin := filepath.Join(t.TempDir(), "replica")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	const quitAfter = 3 * time.Second
	const deadline = 30 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.WaitDelay = 5 * time.Second
	home := t.TempDir() // keep Fyne's preferences out of the real home
	cmd.Env = append(os.Environ(),
		"DISPLAY="+display,
		quitAfterEnv+"="+quitAfter.String(),
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
	)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output

	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("replica still running after %v (%s=%v); killed it\n%s", deadline, quitAfterEnv, quitAfter, output.Bytes())
	}
	if err != nil {
		t.Fatalf("replica exited with %v after %v, want exit 0\n%s", err, elapsed.Round(time.Millisecond), output.Bytes())
	}
	if elapsed < quitAfter {
		t.Errorf("replica exited 0 after %v, before %s=%v: it did not stay up\n%s", elapsed, quitAfterEnv, quitAfter, output.Bytes())
	}
	t.Logf("replica ran %v and exited 0", elapsed.Round(time.Millisecond))
}

// startXvfb starts an X server on a free display and returns its name, such
// as ":99". Xvfb picks the display itself (-displayfd) and writes its number
// once it accepts connections, so no sleeping or polling is needed. The
// server is stopped when the test ends. The test is skipped when Xvfb is not
// installed.
func startXvfb(t *testing.T) string {
	t.Helper()
	xvfb, err := exec.LookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb not installed: apt-get install xvfb")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command(xvfb, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w} // fd 3 in the child
	logPath := filepath.Join(t.TempDir(), "xvfb.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	cmd.Stderr = logFile
	xvfbLog := func() []byte { b, _ := os.ReadFile(logPath); return b }
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatalf("Xvfb did not report a display\n%s", xvfbLog())
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not start within 20s\n%s", xvfbLog())
		return ""
	}
}
