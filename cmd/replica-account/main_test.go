package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // "" means no error; else a substring of the error
	}{
		{"defaults", nil, nil, ""},
		{"env defaults", nil, map[string]string{"REPLICA_ACCOUNT_ADDR": "127.0.0.1:9", "REPLICA_ACCOUNT_BASE_URL": "https://acc.example.com/"}, ""},
		{"bad base url", []string{"--base-url", "ftp://x"}, nil, "must be http(s)://host"},
		{"base url with path", []string{"--base-url", "https://x/y"}, nil, "must be http(s)://host"},
		{"bad log", []string{"--log", "xml"}, nil, "--log must be"},
		{"extra argument", []string{"now"}, nil, "unexpected argument"},
		{"secret as a flag", []string{"--stripe-key", "sk_test_x"}, nil, "flag provided but not defined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(env(tc.env), io.Discard, io.Discard)
			err := m.ParseFlags(tc.args)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("ParseFlags(%q) = %v", tc.args, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("ParseFlags(%q) = %v, want an error with %q", tc.args, err, tc.want)
			}
		})
	}
	m := NewMain(env(map[string]string{"REPLICA_ACCOUNT_BASE_URL": "https://acc.example.com/"}), io.Discard, io.Discard)
	if err := m.ParseFlags(nil); err != nil || m.BaseURL != "https://acc.example.com" {
		t.Errorf("BaseURL = %q, %v", m.BaseURL, err)
	}
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	os.WriteFile(file, []byte("sk_test_from_file\n"), 0o600)
	for _, tc := range []struct {
		env  map[string]string
		want string
		err  bool
	}{
		{map[string]string{}, "", false},
		{map[string]string{"K": "sk_test_env"}, "sk_test_env", false},
		{map[string]string{"K_FILE": file}, "sk_test_from_file", false},
		{map[string]string{"K": "a", "K_FILE": file}, "", true},
		{map[string]string{"K_FILE": filepath.Join(dir, "missing")}, "", true},
	} {
		got, err := secret(env(tc.env), "K")
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("secret(%v) = %q, %v; want %q, error %v", tc.env, got, err, tc.want, tc.err)
		}
		if err != nil && strings.Contains(err.Error(), "sk_test") {
			t.Errorf("the error %q shows the secret", err)
		}
	}
}

// TestServe runs the service as `replica-account serve` would, with billing
// off, and shuts it down as SIGTERM would.
func TestServe(t *testing.T) {
	var logs bytes.Buffer
	m := NewMain(env(map[string]string{"REPLICA_WORKER_KEY": "worker-secret-123"}), io.Discard, &syncWriter{w: &logs})
	if err := m.ParseFlags([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "a.db"), "--log", "text"}); err != nil {
		t.Fatal(err)
	}
	if err := m.Open(); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()

	resp, err := http.Get(m.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /healthz: %s %q", resp.Status, body)
	}
	resp, err = http.Get(m.URL() + "/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/me without a token: %s, want 401", resp.Status)
	}
	resp, err = http.Post(m.URL()+"/webhooks/stripe", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("webhook with billing off: %s, want 503", resp.Status)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if strings.Contains(logs.String(), "worker-secret-123") {
		t.Error("the worker key reached the log")
	}
	if !strings.Contains(logs.String(), "REPLICA_STRIPE_KEY is not set") {
		t.Errorf("no warning that billing is off in the log:\n%s", logs.String())
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "plans.json")
	os.WriteFile(bad, []byte(`[{"id":"x"}]`), 0o600)
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database "), 1000), 0o600)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad plans", []string{"--plans", bad}, nil, "plans.json"},
		{"missing plans", []string{"--plans", filepath.Join(dir, "none.json")}, nil, "plans"},
		{"garbage database", []string{"--db", garbage}, nil, "garbage.db"},
		{"key without webhook secret", nil, map[string]string{"REPLICA_STRIPE_KEY": "sk_test_1"}, "REPLICA_STRIPE_WEBHOOK_SECRET is not"},
		{"two secrets", nil, map[string]string{"REPLICA_STRIPE_KEY": "sk_test_1", "REPLICA_STRIPE_KEY_FILE": bad}, "keep one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMain(env(tc.env), io.Discard, io.Discard)
			args := append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "a.db")}, tc.args...)
			if err := m.ParseFlags(args); err != nil {
				t.Fatal(err)
			}
			err := m.Open()
			m.Close()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open = %v, want an error naming %q", err, tc.want)
			}
		})
	}
}

func TestRunUsage(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), nil, env(nil), &out, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("no command: %v", err)
	}
	if !strings.Contains(out.String(), "replica-account serve") {
		t.Errorf("usage text: %q", out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: %v", err)
	}
}

// TestBench runs a short load test: it must complete without errors and
// report its figures; the budget itself is `make bench-account`'s to judge.
func TestBench(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"bench", "-n", "300", "-c", "4", "--json"}, env(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var r BenchResult
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out.String())
	}
	if r.Requests != 300 || r.Errors != 0 || r.PerSecond <= 0 || r.P99ms <= 0 || r.P50ms > r.P99ms {
		t.Errorf("bench result %+v", r)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
