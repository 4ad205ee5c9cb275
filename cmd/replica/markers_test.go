package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMarkersWritesPDF(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		paper    string
		mediaBox string
	}{
		{"default a4", nil, "A4", "/MediaBox [0 0 841.8898 595.2756]"},
		{"a4", []string{"--paper", "a4"}, "A4", "/MediaBox [0 0 841.8898 595.2756]"},
		{"letter", []string{"--paper=Letter"}, "Letter", "/MediaBox [0 0 792 612]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "sheet.pdf")
			var stdout, stderr bytes.Buffer
			args := append([]string{"--out", path}, tc.args...)
			if err := runMarkers(context.Background(), args, &stdout, &stderr); err != nil {
				t.Fatalf("runMarkers(%q) = %v; stderr:\n%s", args, err, stderr.Bytes())
			}
			pdf, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(pdf, []byte("%%EOF\n")) {
				t.Errorf("%s is not a complete PDF 1.4 file", path)
			}
			if !bytes.Contains(pdf, []byte(tc.mediaBox)) {
				t.Errorf("%s lacks %q", path, tc.mediaBox)
			}
			if out := stdout.String(); !strings.Contains(out, path) || !strings.Contains(out, tc.paper) {
				t.Errorf("stdout = %q, want the path %s and the paper %s", out, path, tc.paper)
			}
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("%s: mode %v, %v; want -rw-r--r--", path, fi.Mode(), err)
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("%s holds %d files, want only sheet.pdf (no temporary file left)", dir, len(entries))
			}
		})
	}
}

func TestMarkersOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sheet.pdf")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"markers", "--out", path}, &bytes.Buffer{}, &bytes.Buffer{}); err != nil {
		t.Fatalf("replica markers --out %s: %v", path, err)
	}
	if b, _ := os.ReadFile(path); !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Errorf("%s was not replaced by the PDF", path)
	}
}

func TestMarkersErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name      string
		args      []string
		wantUsage bool
		wantText  string
	}{
		{"no out", []string{"--paper", "a4"}, true, "--out"},
		{"bad paper", []string{"--paper", "a3", "--out", filepath.Join(dir, "x.pdf")}, true, "a4 or letter"},
		{"extra argument", []string{"--out", filepath.Join(dir, "x.pdf"), "extra"}, true, "extra"},
		{"missing folder", []string{"--out", filepath.Join(dir, "no", "such", "x.pdf")}, false, "no such file"},
		{"out is a folder", []string{"--out", dir}, false, "is a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := runMarkers(context.Background(), tc.args, &stdout, &stderr)
			if err == nil {
				t.Fatalf("runMarkers(%q) succeeded, want an error", tc.args)
			}
			if errors.Is(err, errUsage) != tc.wantUsage {
				t.Errorf("runMarkers(%q) = %v; usage error %v, want %v", tc.args, err, errors.Is(err, errUsage), tc.wantUsage)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("runMarkers(%q) = %q, want it to mention %q", tc.args, err, tc.wantText)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout = %q, want nothing on failure", stdout.String())
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed runs left %d files in %s", len(entries), dir)
	}
}

func TestMarkersHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := runMarkers(context.Background(), []string{"-h"}, &stdout, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("runMarkers(-h) = %v, want flag.ErrHelp", err)
	}
	for _, want := range []string{"replica markers --out FILE.pdf", "-paper", "-out file"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, stderr.String())
		}
	}
}

func TestMarkersCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	path := filepath.Join(t.TempDir(), "sheet.pdf")
	if err := runMarkers(ctx, []string{"--out", path}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, context.Canceled) {
		t.Errorf("runMarkers with a canceled context = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("canceled run wrote %s", path)
	}
}
