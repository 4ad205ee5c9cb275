// Package stripemock runs stripe-mock, Stripe's official mock of its API,
// for tests: Start finds the binary, starts it on two free loopback ports
// (HTTP and HTTPS, both bound to 127.0.0.1 only), waits until it answers and
// stops it when the test ends. A test on a machine without stripe-mock
// skips, saying how to install it.
//
// stripe-mock validates requests against Stripe's OpenAPI spec and answers
// with fixtures: it echoes ids and parameters it was given but keeps no
// state, so a test can check the shape of every call, not its effects.
package stripemock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Version is the stripe-mock release `make deps` installs.
const Version = "v0.203.0"

// startTimeout bounds the wait for a started stripe-mock to answer; it
// usually answers within a second (it loads the OpenAPI spec first).
const startTimeout = 20 * time.Second

// Mock is a running stripe-mock.
type Mock struct {
	URL      string // http://127.0.0.1:port
	HTTPSURL string // https://127.0.0.1:port, with a self-signed certificate
}

// Start runs stripe-mock until the test ends. It skips the test when
// stripe-mock is not installed and fails it when stripe-mock does not start.
func Start(tb testing.TB) *Mock {
	tb.Helper()
	bin := find()
	if bin == "" {
		tb.Skip("stripe-mock not installed: run make deps (go install github.com/stripe/stripe-mock@" + Version + ")")
	}
	// The ports are free when picked but may be taken before stripe-mock
	// binds them: a start that fails so is tried again on other ports.
	var err error
	for range 3 {
		var m *Mock
		if m, err = start(tb, bin); err == nil {
			return m
		}
		if !errors.Is(err, errPortTaken) {
			break
		}
	}
	tb.Fatalf("stripemock: %v", err)
	return nil
}

var errPortTaken = errors.New("port taken")

func start(tb testing.TB, bin string) (*Mock, error) {
	tb.Helper()
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	httpAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	httpsAddr := fmt.Sprintf("127.0.0.1:%d", ports[1])
	var out syncBuffer
	// Without -http-addr and -https-addr stripe-mock listens on every
	// interface; given both, it binds exactly those.
	cmd := exec.Command(bin, "-http-addr", httpAddr, "-https-addr", httpsAddr)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	m := &Mock{URL: "http://" + httpAddr, HTTPSURL: "https://" + httpsAddr}
	if err := waitReady(m, httpsAddr, exited); err != nil {
		stop()
		tail := out.tail(2000)
		if strings.Contains(tail, "address already in use") {
			return nil, fmt.Errorf("%w: %s", errPortTaken, tail)
		}
		if waitErr != nil {
			err = fmt.Errorf("%w (%v)", err, waitErr)
		}
		return nil, fmt.Errorf("%s: %w; its output:\n%s", bin, err, tail)
	}
	tb.Cleanup(stop)
	return m, nil
}

// waitReady polls until stripe-mock answers an HTTP request and accepts a
// connection on its HTTPS port, it exits, or startTimeout passes.
func waitReady(m *Mock, httpsAddr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if answers(ctx, client, m.URL) && accepts(httpsAddr) {
			return nil
		}
		select {
		case <-exited:
			return errors.New("exited before answering")
		case <-ctx.Done():
			return fmt.Errorf("no answer within %v", startTimeout)
		case <-tick.C:
		}
	}
}

// answers reports whether stripe-mock answers at url: any status (an
// unauthenticated request gets 401) with stripe-mock's own header, so that
// another server that took the port first is not mistaken for it.
func answers(ctx context.Context, client *http.Client, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/v1/customers", nil)
	if err != nil {
		return false
	}
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("Stripe-Mock-Version") != ""
}

func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// freePorts returns n distinct loopback ports that were free just now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		// Held open until all are picked, so the n ports differ.
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// find returns the path of stripe-mock: on PATH, else in $GOBIN or the bin
// folder of each GOPATH entry (`go env GOPATH`, then $GOPATH, then ~/go),
// where `go install` puts it; "" when absent.
func find() string {
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	var gopaths []string
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		gopaths = append(gopaths, strings.TrimSpace(string(out)))
	}
	gopaths = append(gopaths, os.Getenv("GOPATH"))
	if home, err := os.UserHomeDir(); err == nil {
		gopaths = append(gopaths, filepath.Join(home, "go"))
	}
	for _, gp := range gopaths {
		for _, d := range filepath.SplitList(gp) {
			if d != "" {
				dirs = append(dirs, filepath.Join(d, "bin"))
			}
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, "stripe-mock")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// syncBuffer collects the child's output, written from exec's copying
// goroutines and read on failure.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// tail returns the last n bytes written.
func (b *syncBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}
