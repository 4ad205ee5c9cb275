// Package assets holds the files Replica embeds in its binaries: the version,
// the built-in part specs used by the ground-truth generator, and (in later
// issues) icons and the phone page.
package assets

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed VERSION
var version string

// Version is the product version, e.g. "0.1.0". FyneApp.toml must agree (a test checks).
var Version = strings.TrimSpace(version)

//go:embed parts/*.json
var parts embed.FS

// PartNames lists the built-in part specs by name, sorted.
func PartNames() []string {
	entries, err := fs.ReadDir(parts, "parts")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".json"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Part returns the JSON spec of the built-in part called name.
func Part(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, `/\.`) {
		return nil, false
	}
	b, err := parts.ReadFile(path.Join("parts", name+".json"))
	if err != nil {
		return nil, false
	}
	return b, true
}
