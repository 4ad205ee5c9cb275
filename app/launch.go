package app

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
)

// A program is an installed application the results can be opened in.
type program struct {
	Name string // as the button says it, e.g. "PrusaSlicer"
	Path string
}

// knownProgram is an application Replica looks for: its executable's names
// on the PATH and its usual install paths on Windows (globs under
// %ProgramFiles%, written with slashes).
type knownProgram struct {
	name    string
	exe     []string
	windows []string
}

// Slicers and CAD programs in the order they are preferred.
var (
	slicers = []knownProgram{
		{"PrusaSlicer", []string{"prusa-slicer", "PrusaSlicer"}, []string{"Prusa3D/PrusaSlicer/prusa-slicer.exe"}},
		{"OrcaSlicer", []string{"orca-slicer", "OrcaSlicer"}, []string{"OrcaSlicer/orca-slicer.exe"}},
		{"Bambu Studio", []string{"bambu-studio"}, []string{"Bambu Studio/bambu-studio.exe"}},
		{"UltiMaker Cura", []string{"cura", "UltiMaker-Cura"}, []string{"UltiMaker Cura */UltiMaker-Cura.exe", "Ultimaker Cura */Cura.exe"}},
		{"SuperSlicer", []string{"superslicer", "SuperSlicer"}, []string{"SuperSlicer/superslicer.exe"}},
	}
	cadPrograms = []knownProgram{
		{"FreeCAD", []string{"freecad", "FreeCAD"}, []string{"FreeCAD */bin/FreeCAD.exe"}},
	}
)

// finder looks programs up; its fields are the system's, or fakes in tests.
type finder struct {
	goos         string
	lookPath     func(string) (string, error)
	programFiles []string // Windows' program folders
}

// systemFinder looks on this computer.
func systemFinder() finder {
	f := finder{goos: runtime.GOOS, lookPath: exec.LookPath}
	for _, env := range []string{"ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"} {
		if d := os.Getenv(env); d != "" {
			f.programFiles = append(f.programFiles, d)
			if env == "LOCALAPPDATA" {
				f.programFiles = append(f.programFiles, filepath.Join(d, "Programs"))
			}
		}
	}
	return f
}

// find returns the first of the known programs installed, or nil.
func (f finder) find(known []knownProgram) *program {
	for _, k := range known {
		for _, exe := range k.exe {
			if p, err := f.lookPath(exe); err == nil {
				return &program{Name: k.name, Path: p}
			}
		}
		if f.goos != "windows" {
			continue
		}
		for _, dir := range f.programFiles {
			for _, pattern := range k.windows {
				matches, _ := filepath.Glob(filepath.Join(dir, filepath.FromSlash(pattern)))
				slices.Sort(matches) // the newest version sorts last
				if len(matches) > 0 {
					return &program{Name: k.name, Path: matches[len(matches)-1]}
				}
			}
		}
	}
	return nil
}

// startProgram starts path with args and does not wait for it; the
// process is reaped when it ends.
func startProgram(path string, args ...string) error {
	cmd := exec.Command(path, args...)
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait()
	return nil
}
