package project

import (
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// testLockTimeout keeps a test that meets a held lock short.
const testLockTimeout = 200 * time.Millisecond

// openStore opens root for a test and closes it when the test ends.
func openStore(tb testing.TB, root string) *Store {
	tb.Helper()
	s, err := OpenWith(root, &Options{LockTimeout: testLockTimeout})
	if err != nil {
		tb.Fatalf("OpenWith(%q) = %v", root, err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// mustCreate creates a project called name.
func mustCreate(tb testing.TB, s *Store, name string) *Project {
	tb.Helper()
	p, err := s.Create(name)
	if err != nil {
		tb.Fatalf("Create(%q) = %v", name, err)
	}
	return p
}

// mustSummary returns p's Summary.
func mustSummary(tb testing.TB, p *Project) Summary {
	tb.Helper()
	sum, err := p.Summary()
	if err != nil {
		tb.Fatalf("Summary() = %v", err)
	}
	return sum
}

// encodeJPEG returns a w×h JPEG of coloured 8×8 blocks drawn from seed, or
// of noise when noise is set (larger files, slower to copy).
func encodeJPEG(tb testing.TB, seed uint64, w, h int, noise bool) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	if noise {
		for i := range img.Pix {
			img.Pix[i] = byte(rng.IntN(256))
		}
	} else {
		for by := 0; by < h; by += 8 {
			for bx := 0; bx < w; bx += 8 {
				c := color.RGBA{byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256)), 255}
				for y := by; y < min(by+8, h); y++ {
					for x := bx; x < min(bx+8, w); x++ {
						img.SetRGBA(x, y, c)
					}
				}
			}
		}
	}
	var b strings.Builder
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return []byte(b.String())
}

// writeJPEG writes a small JPEG drawn from seed to path and returns its bytes.
func writeJPEG(tb testing.TB, path string, seed uint64) []byte {
	tb.Helper()
	b := encodeJPEG(tb, seed, 64, 48, false)
	writeFile(tb, path, b)
	return b
}

func writeFile(tb testing.TB, path string, b []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

func TestDataRoot(t *testing.T) {
	tests := []struct {
		name    string
		goos    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "linux XDG", goos: "linux", env: map[string]string{"XDG_DATA_HOME": "/data", "HOME": "/home/m"}, want: filepath.Join("/data", "replica")},
		{name: "linux home", goos: "linux", env: map[string]string{"HOME": "/home/m"}, want: filepath.Join("/home/m", ".local", "share", "replica")},
		{name: "linux relative XDG ignored", goos: "linux", env: map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/m"}, want: filepath.Join("/home/m", ".local", "share", "replica")},
		{name: "freebsd", goos: "freebsd", env: map[string]string{"HOME": "/home/m"}, want: filepath.Join("/home/m", ".local", "share", "replica")},
		{name: "linux nothing", goos: "linux", env: nil, wantErr: true},
		{name: "windows", goos: "windows", env: map[string]string{"AppData": `C:\Users\m\AppData\Roaming`}, want: filepath.Join(`C:\Users\m\AppData\Roaming`, "Replica")},
		{name: "windows no AppData", goos: "windows", env: map[string]string{"HOME": "/home/m"}, wantErr: true},
		{name: "macOS", goos: "darwin", env: map[string]string{"HOME": "/Users/m", "XDG_DATA_HOME": "/data"}, want: filepath.Join("/Users/m", "Library", "Application Support", "Replica")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := dataRoot(tt.goos, func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("dataRoot(%q) error = %v, want error %v", tt.goos, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("dataRoot(%q) = %q, want %q", tt.goos, got, tt.want)
			}
		})
	}
}

func TestDefaultRootLinux(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("checks the Linux data folder")
	}
	t.Setenv("XDG_DATA_HOME", "/tmp/xdg-data")
	got, err := DefaultRoot()
	if want := "/tmp/xdg-data/replica"; err != nil || got != want {
		t.Errorf("DefaultRoot() = %q, %v, want %q", got, err, want)
	}
}

func TestCleanName(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "Bracket", want: "Bracket"},
		{in: "  Bracket v2 \t", want: "Bracket v2"},
		{in: "", wantErr: true},
		{in: " \t ", wantErr: true},
		{in: strings.Repeat("é", MaxNameLen), want: strings.Repeat("é", MaxNameLen)},
		{in: strings.Repeat("a", MaxNameLen+1), wantErr: true},
		{in: "two\nlines", wantErr: true},
		{in: "bad \xff utf8", wantErr: true},
	}
	for _, tt := range tests {
		got, err := CleanName(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("CleanName(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CleanName(%q) = %v, want ErrInvalidName", tt.in, err)
		}
		if got != tt.want {
			t.Errorf("CleanName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Bracket", "bracket"},
		{"Bracket #2 (v3)", "bracket-2-v3"},
		{"  --Fan duct--  ", "fan-duct"},
		{"Ünïcödé", "n-c-d"},
		{"日本", "project"},
		{"../../etc", "etc"},
		{strings.Repeat("ab ", 40), strings.TrimSuffix(strings.Repeat("ab-", 14), "-")[:40]},
	}
	for _, tt := range tests {
		if got := slug(tt.in); got != tt.want {
			t.Errorf("slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCreateListRenameDelete(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)

	if got, err := s.List(); err != nil || len(got) != 0 {
		t.Fatalf("List() of a new store = %v, %v, want none", got, err)
	}
	a := mustCreate(t, s, "  Bracket #2 ")
	b := mustCreate(t, s, "Fan duct")
	c := mustCreate(t, s, "Knob")

	if !strings.HasPrefix(a.ID, "bracket-2-") || !isRandomPart(strings.TrimPrefix(a.ID, "bracket-2-")) {
		t.Errorf("Create(%q).ID = %q, want bracket-2-XXXXXXXX", "Bracket #2", a.ID)
	}
	if want := filepath.Join(root, "projects", a.ID); a.Dir != want {
		t.Errorf("Dir = %q, want %q", a.Dir, want)
	}
	for _, sub := range []string{a.PhotosDir(), a.JobsDir()} {
		if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
			t.Errorf("Stat(%q) = %v; want a folder", sub, err)
		}
	}
	sum := mustSummary(t, a)
	if sum.Name != "Bracket #2" || sum.State != StateNew || sum.Photos != 0 || sum.Thumbnail != "" || sum.Created.IsZero() || !sum.Created.Equal(sum.Modified) {
		t.Errorf("Summary() = %+v, want name %q, state new, no photos, Created = Modified", sum, "Bracket #2")
	}

	ids := func() []string {
		t.Helper()
		list, err := s.List()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.ID)
		}
		return out
	}
	if got, want := ids(), []string{c.ID, b.ID, a.ID}; !slices.Equal(got, want) {
		t.Errorf("List() = %v, want the last created first %v", got, want)
	}

	if err := s.Rename(a.ID, " Bracket v3 "); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(), []string{a.ID, c.ID, b.ID}; !slices.Equal(got, want) {
		t.Errorf("List() after Rename = %v, want the renamed first %v", got, want)
	}
	if got := mustSummary(t, a).Name; got != "Bracket v3" {
		t.Errorf("Name after Rename = %q, want %q", got, "Bracket v3")
	}
	if err := s.Rename(a.ID, ""); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Rename(%q, \"\") = %v, want ErrInvalidName", a.ID, err)
	}
	if err := s.Rename("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Rename(nope) = %v, want ErrNotFound", err)
	}

	if err := s.SetState(b.ID, StateDone, "bracket.stl, 0.3 mm"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(b.ID, "baking", ""); !errors.Is(err, ErrInvalidState) {
		t.Errorf("SetState(baking) = %v, want ErrInvalidState", err)
	}
	if sum := mustSummary(t, b); sum.State != StateDone || sum.LastResult != "bracket.stl, 0.3 mm" {
		t.Errorf("after SetState: State, LastResult = %q, %q", sum.State, sum.LastResult)
	}
	if got, want := ids(), []string{b.ID, a.ID, c.ID}; !slices.Equal(got, want) {
		t.Errorf("List() after SetState = %v, want %v", got, want)
	}

	if _, err := s.Get(c.ID); err != nil {
		t.Errorf("Get(%q) = %v", c.ID, err)
	}
	for _, id := range []string{"nope", "", "..", "../x", "."} {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q) = %v, want ErrNotFound", id, err)
		}
	}

	writeJPEG(t, filepath.Join(c.PhotosDir(), "a.jpg"), 1)
	if err := s.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(), []string{b.ID, a.ID}; !slices.Equal(got, want) {
		t.Errorf("List() after Delete = %v, want %v", got, want)
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Stat(deleted project's folder) = %v, want not exist", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "trash")); len(entries) != 0 {
		t.Errorf("trash holds %d entries after Delete, want 0", len(entries))
	}
	if _, err := s.Get(c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(deleted) = %v, want ErrNotFound", err)
	}
	if err := s.Delete(c.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete(deleted) = %v, want ErrNotFound", err)
	}

	// The index outlives the Store.
	s.Close()
	s = openStore(t, root)
	list, err := s.List()
	if err != nil || len(list) != 2 || list[0].Name != "Fan duct" || list[1].Name != "Bracket v3" {
		t.Errorf("List() after reopening = %+v, %v", list, err)
	}
}

func TestSecondOpen(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	start := time.Now()
	s2, err := OpenWith(root, &Options{LockTimeout: 100 * time.Millisecond})
	took := time.Since(start)
	if err == nil {
		s2.Close()
		t.Fatal("second OpenWith on a held root succeeded")
	}
	if !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), "Replica is already running") {
		t.Errorf("second OpenWith = %v, want ErrAlreadyRunning", err)
	}
	if took > 5*time.Second {
		t.Errorf("second OpenWith took %v, want about its 100 ms lock timeout", took)
	}
	s.Close()
	s3, err := OpenWith(root, &Options{LockTimeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("OpenWith after Close = %v", err)
	}
	s3.Close()
}

func TestSettings(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	if got := s.Setting("window.size"); got != "" {
		t.Errorf("Setting(unset) = %q, want \"\"", got)
	}
	for k, v := range map[string]string{"window.size": "1024x700", "project.last": "knob-0a1b2c3d", "backend": "cloud"} {
		if err := s.SetSetting(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetSetting("", "x"); err == nil {
		t.Error("SetSetting(\"\", x) = nil, want an error")
	}
	if err := s.SetSetting("backend", ""); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = openStore(t, root)
	for k, want := range map[string]string{"window.size": "1024x700", "project.last": "knob-0a1b2c3d", "backend": ""} {
		if got := s.Setting(k); got != want {
			t.Errorf("Setting(%q) = %q, want %q", k, got, want)
		}
	}
}

// TestOpenRecovers leaves the data folder as crashes at various points
// would, and checks Open tidies it.
func TestOpenRecovers(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	kept := mustCreate(t, s, "Kept")
	gone := mustCreate(t, s, "Gone")
	busy := mustCreate(t, s, "Busy")
	if _, err := kept.Import(t.Context(), []string{writeJPEGDir(t, 2)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.SetState(busy.ID, StateProcessing, ""); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// Delete moved the folder into the trash, then the process died.
	trashed := filepath.Join(root, "trash", gone.ID+".0a0b0c0d")
	if err := os.Rename(gone.Dir, trashed); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "trash", "0a0b0c0d-IMG_1.JPG"), []byte("removed photo"))
	// Create built its folder, then the process died before renaming it.
	writeFile(t, filepath.Join(root, "projects", ".half-01234567.tmp", "photos", "x"), nil)
	// Create renamed the folder into place, then died before indexing it;
	// or the maker copied a project folder back from a backup.
	orphan := filepath.Join(root, "projects", "old-bracket-0a1b2c3d")
	writeJPEG(t, filepath.Join(orphan, "photos", "b.jpg"), 3)
	writeJPEG(t, filepath.Join(orphan, "photos", "a.jpg"), 4)
	// Import was copying a photo.
	tmp := filepath.Join(kept.PhotosDir(), ".IMG_9.JPG.123456.tmp")
	writeFile(t, tmp, []byte("\xff\xd8\xff half a photo"))

	s = openStore(t, root)
	list, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Summary{}
	for _, p := range list {
		byName[p.Name] = p
	}
	if len(list) != 3 {
		t.Errorf("List() = %+v, want Kept, Busy and the orphan", list)
	}
	if _, ok := byName["Gone"]; ok {
		t.Error("a project whose folder was in the trash is still listed")
	}
	if p := byName["Kept"]; p.Photos != 2 {
		t.Errorf("Kept has %d photos, want 2", p.Photos)
	}
	if p := byName["Busy"]; p.State != StateFailed || p.LastResult != Interrupted {
		t.Errorf("Busy is %q, %q; want failed, %q", p.State, p.LastResult, Interrupted)
	}
	o, ok := byName["old bracket"]
	if !ok || o.ID != "old-bracket-0a1b2c3d" || o.Photos != 2 || o.State != StateCapturing {
		t.Errorf("orphan folder listed as %+v, want old bracket with 2 photos, capturing", o)
	}
	if p, err := s.Get(o.ID); err != nil {
		t.Error(err)
	} else if got, err := p.Photos(); err != nil || !slices.Equal(got, []string{"a.jpg", "b.jpg"}) {
		t.Errorf("orphan's Photos() = %v, %v, want [a.jpg b.jpg]", got, err)
	} else if fi, err := os.Stat(p.JobsDir()); err != nil || !fi.IsDir() {
		t.Errorf("orphan's jobs folder: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "trash")); len(entries) != 0 {
		t.Errorf("trash holds %d entries after Open, want 0", len(entries))
	}
	if _, err := os.Stat(filepath.Join(root, "projects", ".half-01234567.tmp")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("half-built project folder: Stat = %v, want not exist", err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Import's temporary file: Stat = %v, want not exist", err)
	}
}

func TestOpenRefusesOtherFormat(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	// A later Replica's database.
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(metaBucket).Put(formatKey, []byte("replica-db/9")) })
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := OpenWith(root, &Options{LockTimeout: testLockTimeout})
	if err == nil {
		s2.Close()
		t.Fatal("OpenWith on a database of another format succeeded")
	}
	if !strings.Contains(err.Error(), "replica-db/9") {
		t.Errorf("OpenWith = %v, want it to name the format", err)
	}
}

// writeJPEGDir writes n small JPEGs into a new folder and returns it.
func writeJPEGDir(tb testing.TB, n int) string {
	tb.Helper()
	dir := tb.TempDir()
	for i := range n {
		writeJPEG(tb, filepath.Join(dir, "IMG_"+strconv.Itoa(i+1)+".JPG"), uint64(100+i))
	}
	return dir
}
