package assets

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackageComments fails when a package of the module has no package
// comment (as tailscale's pkgdoc_test does).
func TestPackageComments(t *testing.T) {
	root := ".."
	dirs := map[string]bool{}
	documented := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		dir := filepath.Dir(p)
		dirs[dir] = true
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			return err
		}
		if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
			documented[dir] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 5 {
		t.Fatalf("found only %d packages; is the walk rooted at the module?", len(dirs))
	}
	for dir := range dirs {
		if !documented[dir] {
			t.Errorf("package in %s has no package comment", dir)
		}
	}
}

// TestVersionMatchesFyneApp keeps VERSION and FyneApp.toml in step.
func TestVersionMatchesFyneApp(t *testing.T) {
	b, err := os.ReadFile("../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := `Version = "` + Version + `"`
	if !strings.Contains(string(b), want) {
		t.Errorf("FyneApp.toml does not contain %s", want)
	}
}

func TestParts(t *testing.T) {
	names := PartNames()
	for _, want := range []string{"bracket", "flanged-cylinder", "stepped-block"} {
		if _, ok := Part(want); !ok {
			t.Errorf("Part(%q) missing; have %v", want, names)
		}
	}
	for _, bad := range []string{"", "../VERSION", "nope"} {
		if _, ok := Part(bad); ok {
			t.Errorf("Part(%q) = ok, want not found", bad)
		}
	}
}
