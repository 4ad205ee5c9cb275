package project

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replica3d/replica/capture"
)

// mustPhotos returns p's photos.
func mustPhotos(tb testing.TB, p *Project) []string {
	tb.Helper()
	got, err := p.Photos()
	if err != nil {
		tb.Fatalf("Photos() = %v", err)
	}
	return got
}

// mustImport imports paths into p and fails on any error.
func mustImport(tb testing.TB, p *Project, paths ...string) []string {
	tb.Helper()
	added, err := p.Import(context.Background(), paths, nil)
	if err != nil {
		tb.Fatalf("Import(%v) = %v", paths, err)
	}
	return added
}

// dirFiles returns the names of the files in dir, hidden ones included.
func dirFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func sameBytes(tb testing.TB, path string, want []byte) {
	tb.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs from the photo imported (%d bytes, want %d)", path, len(got), len(want))
	}
}

func TestImportFilesAndFolders(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Bracket")
	src := t.TempDir()
	one := writeJPEG(t, filepath.Join(src, "IMG_1.JPG"), 1)
	writeJPEG(t, filepath.Join(src, "IMG_2.JPG"), 2)
	folder := filepath.Join(src, "more")
	writeJPEG(t, filepath.Join(folder, "IMG_10.jpg"), 10)
	writeJPEG(t, filepath.Join(folder, "IMG_9.jpeg"), 9)
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, image.NewGray(image.Rect(0, 0, 4, 3))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(folder, "scan.png"), pngBuf.Bytes())
	writeFile(t, filepath.Join(folder, "notes.txt"), []byte("not a photo, passed over in a folder"))
	writeFile(t, filepath.Join(folder, capture.GraphFileName), []byte("{}"))
	writeJPEG(t, filepath.Join(folder, ".hidden.jpg"), 11)
	writeJPEG(t, filepath.Join(folder, "sub", "IMG_99.JPG"), 99) // folders are not walked

	var calls [][2]int
	added, err := p.Import(t.Context(), []string{filepath.Join(src, "IMG_2.JPG"), folder, filepath.Join(src, "IMG_1.JPG")},
		func(done, total int) { calls = append(calls, [2]int{done, total}) })
	if err != nil {
		t.Fatalf("Import = %v", err)
	}
	want := []string{"IMG_2.JPG", "IMG_9.jpeg", "IMG_10.jpg", "scan.png", "IMG_1.JPG"}
	if !slices.Equal(added, want) {
		t.Errorf("Import added %v, want %v", added, want)
	}
	if got := mustPhotos(t, p); !slices.Equal(got, want) {
		t.Errorf("Photos() = %v, want the import order %v", got, want)
	}
	if want := [][2]int{{0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}, {5, 5}}; !slices.Equal(calls, want) {
		t.Errorf("progress calls %v, want %v", calls, want)
	}
	sameBytes(t, p.PhotoPath("IMG_1.JPG"), one)
	if got := dirFiles(t, p.PhotosDir()); len(got) != 5 {
		t.Errorf("photos folder holds %v, want the 5 photos and nothing else", got)
	}
	if fi, err := os.Stat(p.PhotoPath("IMG_1.JPG")); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
		t.Errorf("imported photo: %v, mode %v, want 0644", err, fi.Mode())
	}
	sum := mustSummary(t, p)
	if sum.Photos != 5 || sum.State != StateCapturing || !sum.Modified.After(sum.Created) {
		t.Errorf("Summary() = %+v, want 5 photos, capturing, modified after created", sum)
	}
	// The thumbnail is the first photo's, once the app has cached it.
	if sum.Thumbnail != "" {
		t.Errorf("Thumbnail = %q before any was cached", sum.Thumbnail)
	}
	writeFile(t, p.ThumbPath("IMG_2.JPG"), one)
	if got := mustSummary(t, p).Thumbnail; got != p.ThumbPath("IMG_2.JPG") {
		t.Errorf("Thumbnail = %q, want %q", got, p.ThumbPath("IMG_2.JPG"))
	}
}

func TestImportDuplicatesAndNameClashes(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Knob")
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	first := writeJPEG(t, filepath.Join(a, "IMG_1.JPG"), 1)
	second := writeJPEG(t, filepath.Join(b, "IMG_1.JPG"), 2) // same name, other photo
	third := writeJPEG(t, filepath.Join(c, "img_1.jpg"), 3)  // same name but for case
	writeFile(t, filepath.Join(c, "copy of IMG_1.JPG"), first)
	writeFile(t, filepath.Join(c, "IMG_1-2.JPG"), second)

	if got := mustImport(t, p, a); !slices.Equal(got, []string{"IMG_1.JPG"}) {
		t.Errorf("first import added %v", got)
	}
	if got := mustImport(t, p, a); len(got) != 0 {
		t.Errorf("importing the same folder again added %v, want nothing", got)
	}
	if got := mustImport(t, p, b, filepath.Join(c, "img_1.jpg")); !slices.Equal(got, []string{"IMG_1-2.JPG", "img_1-3.jpg"}) {
		t.Errorf("clashing names imported as %v, want [IMG_1-2.JPG img_1-3.jpg]", got)
	}
	// Copies under other names, and within one import, are skipped.
	if got := mustImport(t, p, c, c, filepath.Join(a, "IMG_1.JPG")); len(got) != 0 {
		t.Errorf("importing copies added %v, want nothing", got)
	}
	want := []string{"IMG_1.JPG", "IMG_1-2.JPG", "img_1-3.jpg"}
	if got := mustPhotos(t, p); !slices.Equal(got, want) {
		t.Fatalf("Photos() = %v, want %v", got, want)
	}
	sameBytes(t, p.PhotoPath("IMG_1.JPG"), first)
	sameBytes(t, p.PhotoPath("IMG_1-2.JPG"), second)
	sameBytes(t, p.PhotoPath("img_1-3.jpg"), third)

	// A hidden name is made visible, and does not clash.
	writeFile(t, filepath.Join(a, ".IMG_1.JPG"), encodeJPEG(t, 4, 16, 16, false))
	if got := mustImport(t, p, filepath.Join(a, ".IMG_1.JPG")); !slices.Equal(got, []string{"IMG_1-4.JPG"}) {
		t.Errorf("hidden file imported as %v, want [IMG_1-4.JPG]", got)
	}
}

// TestImportRefuses checks that files capture cannot read the header of are
// refused, each named in the error, while the others are imported; and that
// a JPEG cut short after its header is imported (the checks report it).
func TestImportRefuses(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Refusals")
	src := t.TempDir()
	good := writeJPEG(t, filepath.Join(src, "good.jpg"), 1)
	full := encodeJPEG(t, 2, 64, 48, false)
	paths := map[string]string{}
	add := func(name string, b []byte) {
		paths[name] = filepath.Join(src, name)
		writeFile(t, paths[name], b)
	}
	add("notes.txt", []byte("a note"))
	add("text.jpg", []byte("not a JPEG at all"))
	add("empty.jpg", nil)
	add("header-cut.jpg", full[:20])
	add("body-cut.jpg", cutInScan(t, full))
	add("scan.gif", []byte("GIF89a"))
	add("huge.png", hugePNGHeader(t))
	emptyDir := filepath.Join(src, "empty-folder")
	if err := os.Mkdir(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(src, "missing.jpg")

	all := []string{filepath.Join(src, "good.jpg"), missing, emptyDir}
	for _, path := range paths {
		all = append(all, path)
	}
	slices.Sort(all)
	added, err := p.Import(t.Context(), all, nil)
	slices.Sort(added)
	if want := []string{"body-cut.jpg", "good.jpg"}; !slices.Equal(added, want) {
		t.Errorf("Import added %v, want %v", added, want)
	}
	if err == nil {
		t.Fatal("Import of non-photos returned no error")
	}
	refused := []string{"notes.txt", "text.jpg", "empty.jpg", "header-cut.jpg", "scan.gif", "huge.png"}
	for _, name := range refused {
		if !strings.Contains(err.Error(), paths[name]) {
			t.Errorf("Import error does not name %s:\n%v", paths[name], err)
		}
	}
	for _, path := range []string{missing, emptyDir} {
		if !strings.Contains(err.Error(), path) {
			t.Errorf("Import error does not name %s:\n%v", path, err)
		}
	}
	var n int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var pe *capture.PhotoError
		if !errors.As(e, &pe) {
			t.Errorf("refusal %v is not a *capture.PhotoError", e)
		}
		n++
	}
	if want := len(refused) + 2; n != want {
		t.Errorf("Import error joins %d refusals, want %d:\n%v", n, want, err)
	}
	if !errors.Is(err, capture.ErrNotPhoto) || !errors.Is(err, capture.ErrTooLarge) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Import error = %v; want it to unwrap to capture.ErrNotPhoto, capture.ErrTooLarge and os.ErrNotExist", err)
	}
	sameBytes(t, p.PhotoPath("good.jpg"), good)
	if got := dirFiles(t, p.PhotosDir()); len(got) != 2 {
		t.Errorf("photos folder holds %v, want the 2 photos", got)
	}
}

// cutInScan returns the JPEG b cut halfway through its entropy-coded data:
// its header is whole (image/jpeg reads up to the start of scan for a JPEG
// without JFIF marker, as cameras write them) but it does not decode.
func cutInScan(tb testing.TB, b []byte) []byte {
	tb.Helper()
	i := bytes.Index(b, []byte{0xFF, 0xDA}) // SOS
	if i < 0 {
		tb.Fatal("JPEG without a start of scan")
	}
	return b[:i+(len(b)-i)/2]
}

// hugePNGHeader is the start of a PNG whose header says it is larger than
// capture.MaxPixels.
func hugePNGHeader(tb testing.TB) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		tb.Fatal(err)
	}
	h := b.Bytes()[:33] // signature, IHDR
	// The IHDR chunk's type and data, whose bytes 4–11 are the width and
	// height; the decoder checks the CRC that follows, so it is redone.
	ihdr := slices.Clone(h[12:29])
	ihdr[4], ihdr[5], ihdr[6], ihdr[7] = 0, 0, 0x40, 0   // width 16384
	ihdr[8], ihdr[9], ihdr[10], ihdr[11] = 0, 0, 0x40, 0 // height 16384
	out := append(slices.Clone(h[:12]), ihdr...)
	crc := crc32.ChecksumIEEE(ihdr)
	return append(out, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
}

func TestImportLeavesSourcesAlone(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Sources")
	src := writeJPEGDir(t, 3)
	old := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	type state struct {
		sum  [32]byte
		mod  time.Time
		mode os.FileMode
	}
	before := map[string]state{}
	for _, name := range dirFiles(t, src) {
		path := filepath.Join(src, name)
		if err := os.Chtimes(path, old, old); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		before[name] = state{sha256.Sum256(b), fi.ModTime(), fi.Mode()}
	}
	mustImport(t, p, src)
	for name, want := range before {
		path := filepath.Join(src, name)
		b, _ := os.ReadFile(path)
		fi, _ := os.Stat(path)
		if got := (state{sha256.Sum256(b), fi.ModTime(), fi.Mode()}); got != want {
			t.Errorf("source %s changed: %+v, was %+v", name, got, want)
		}
		if fi, err := os.Stat(p.PhotoPath(name)); err != nil || !fi.ModTime().Equal(old) {
			t.Errorf("imported %s: %v, modified %v, want the source's time %v", name, err, fi.ModTime(), old)
		}
	}
	if got := dirFiles(t, src); len(got) != 3 {
		t.Errorf("source folder holds %v after the import", got)
	}
}

func TestImportCancel(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Cancel")
	src := writeJPEGDir(t, 5)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	added, err := p.Import(ctx, []string{src}, nil)
	if len(added) != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Import with a cancelled context = %v, %v; want nothing added, context.Canceled", added, err)
	}

	ctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	added, err = p.Import(ctx, []string{src, filepath.Join(src, "nope.txt")}, func(done, total int) {
		if done == 2 {
			cancel()
		}
	})
	if len(added) != 2 || !errors.Is(err, context.Canceled) {
		t.Errorf("Import cancelled after 2 photos = %v, %v; want 2 added, context.Canceled", added, err)
	}
	if err != nil && !strings.Contains(err.Error(), "nope.txt") {
		t.Errorf("cancelled Import's error %v does not keep the refusal", err)
	}
	if got := mustPhotos(t, p); !slices.Equal(got, added) {
		t.Errorf("Photos() = %v, want %v", got, added)
	}
	// Importing again picks up where it stopped.
	if got := mustImport(t, p, src); len(got) != 3 {
		t.Errorf("second Import added %v, want the 3 left", got)
	}
}

func TestImportConcurrent(t *testing.T) {
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Busy")
	a, b := writeJPEGDir(t, 6), writeJPEGDir(t, 6)    // the same photos and names
	writeJPEG(t, filepath.Join(b, "IMG_1.JPG"), 1000) // but one
	var wg sync.WaitGroup
	results := make([][]string, 4)
	for i := range results {
		wg.Go(func() {
			dir := a
			if i%2 == 1 {
				dir = b
			}
			added, err := p.Import(t.Context(), []string{dir}, nil)
			if err != nil {
				t.Error(err)
			}
			results[i] = added
		})
	}
	wg.Wait()
	var all []string
	for _, r := range results {
		all = append(all, r...)
	}
	slices.Sort(all)
	want := []string{"IMG_1-2.JPG", "IMG_1.JPG", "IMG_2.JPG", "IMG_3.JPG", "IMG_4.JPG", "IMG_5.JPG", "IMG_6.JPG"}
	if !slices.Equal(all, want) {
		t.Errorf("concurrent imports added %v, want each photo once: %v", all, want)
	}
	got := mustPhotos(t, p)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("Photos() = %v, want %v", got, want)
	}
}

func TestReorderRemove(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	p := mustCreate(t, s, "Order")
	mustImport(t, p, writeJPEGDir(t, 4))
	if got, want := mustPhotos(t, p), []string{"IMG_1.JPG", "IMG_2.JPG", "IMG_3.JPG", "IMG_4.JPG"}; !slices.Equal(got, want) {
		t.Fatalf("Photos() = %v, want %v", got, want)
	}
	order := []string{"IMG_3.JPG", "IMG_1.JPG", "IMG_4.JPG", "IMG_2.JPG"}
	before := mustSummary(t, p).Modified
	if err := p.Reorder(order); err != nil {
		t.Fatal(err)
	}
	if got := mustPhotos(t, p); !slices.Equal(got, order) {
		t.Errorf("Photos() after Reorder = %v, want %v", got, order)
	}
	if !mustSummary(t, p).Modified.After(before) {
		t.Error("Reorder did not change Modified")
	}
	for _, bad := range [][]string{
		nil,
		{"IMG_3.JPG", "IMG_1.JPG", "IMG_4.JPG"},
		{"IMG_3.JPG", "IMG_1.JPG", "IMG_4.JPG", "IMG_4.JPG"},
		{"IMG_3.JPG", "IMG_1.JPG", "IMG_4.JPG", "IMG_2.JPG", "IMG_5.JPG"},
		{"IMG_3.JPG", "IMG_1.JPG", "IMG_4.JPG", "img_2.jpg"},
	} {
		if err := p.Reorder(bad); !errors.Is(err, ErrInvalidOrder) {
			t.Errorf("Reorder(%v) = %v, want ErrInvalidOrder", bad, err)
		}
	}
	if got := mustPhotos(t, p); !slices.Equal(got, order) {
		t.Errorf("Photos() after refused Reorders = %v, want %v", got, order)
	}

	writeFile(t, p.ThumbPath("IMG_3.JPG"), []byte("thumb"))
	if err := p.Remove("IMG_3.JPG"); err != nil {
		t.Fatal(err)
	}
	if got, want := mustPhotos(t, p), []string{"IMG_1.JPG", "IMG_4.JPG", "IMG_2.JPG"}; !slices.Equal(got, want) {
		t.Errorf("Photos() after Remove = %v, want %v", got, want)
	}
	for _, path := range []string{p.PhotoPath("IMG_3.JPG"), p.ThumbPath("IMG_3.JPG")} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Stat(%s) after Remove = %v, want not exist", path, err)
		}
	}
	if got := dirFiles(t, filepath.Join(root, "trash")); len(got) != 0 {
		t.Errorf("trash holds %v after Remove", got)
	}
	if err := p.Remove("IMG_3.JPG"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Remove(removed) = %v, want ErrNotFound", err)
	}
	if sum := mustSummary(t, p); sum.Photos != 3 || sum.Thumbnail != "" {
		t.Errorf("Summary() = %+v, want 3 photos and no thumbnail", sum)
	}
	// A removed photo can come back.
	if got := mustImport(t, p, filepath.Join(writeJPEGDir(t, 3), "IMG_3.JPG")); !slices.Equal(got, []string{"IMG_3.JPG"}) {
		t.Errorf("importing a removed photo again added %v", got)
	}
}

// TestReconcile leaves a project as crashes or changes outside Replica
// would: a temporary file, an order naming a missing file, photo files the
// order lacks.
func TestReconcile(t *testing.T) {
	root := t.TempDir()
	s := openStore(t, root)
	p := mustCreate(t, s, "Reconcile")
	mustImport(t, p, writeJPEGDir(t, 3))
	if err := p.Reorder([]string{"IMG_3.JPG", "IMG_1.JPG", "IMG_2.JPG"}); err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(p.PhotoPath("IMG_1.JPG")); err != nil {
		t.Fatal(err)
	}
	writeJPEG(t, p.PhotoPath("z.jpg"), 50)
	unknown := writeJPEG(t, p.PhotoPath("IMG_10.JPG"), 51)
	writeJPEG(t, p.PhotoPath("IMG_9.JPG"), 52)
	tmp := p.PhotoPath(".IMG_4.JPG.987654.tmp")
	writeFile(t, tmp, []byte("\xff\xd8\xff"))
	writeFile(t, p.PhotoPath(capture.GraphFileName), []byte("{}"))

	want := []string{"IMG_3.JPG", "IMG_2.JPG", "IMG_9.JPG", "IMG_10.JPG", "z.jpg"}
	if got := mustPhotos(t, p); !slices.Equal(got, want) {
		t.Errorf("Photos() = %v, want %v", got, want)
	}
	if sum := mustSummary(t, p); sum.Photos != len(want) {
		t.Errorf("Summary().Photos = %d, want %d", sum.Photos, len(want))
	}
	// The reconciled order was saved: reordering works on it, and a photo
	// found on disk is known by content.
	if err := p.Reorder([]string{"z.jpg", "IMG_3.JPG", "IMG_2.JPG", "IMG_9.JPG", "IMG_10.JPG"}); err != nil {
		t.Errorf("Reorder of the reconciled photos = %v", err)
	}
	other := t.TempDir()
	writeFile(t, filepath.Join(other, "copy.jpg"), unknown)
	if got := mustImport(t, p, other); len(got) != 0 {
		t.Errorf("importing a copy of a photo found on disk added %v", got)
	}

	s.Close()
	s = openStore(t, root)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file after Open: Stat = %v, want not exist", err)
	}
	p, err := s.Get(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := mustPhotos(t, p), []string{"z.jpg", "IMG_3.JPG", "IMG_2.JPG", "IMG_9.JPG", "IMG_10.JPG"}; !slices.Equal(got, want) {
		t.Errorf("Photos() after reopening = %v, want %v", got, want)
	}
}

// TestImportMonstree imports real camera photos, read-only, with EXIF.
func TestImportMonstree(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "datasets", "monstree")
	photos, err := capture.ListPhotos(dir)
	if err != nil || len(photos) < 3 {
		t.Skip("../shared/datasets/monstree (real iPhone photos) not found next to the repository; skipping")
	}
	s := openStore(t, t.TempDir())
	p := mustCreate(t, s, "Monstree")
	added := mustImport(t, p, photos[:3]...)
	if len(added) != 3 {
		t.Fatalf("Import added %v, want 3", added)
	}
	for i, name := range added {
		want, err := os.ReadFile(photos[i])
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, p.PhotoPath(name), want)
	}
}

func TestCheckHeader(t *testing.T) {
	full := encodeJPEG(t, 1, 32, 32, false)
	cut := cutInScan(t, full)
	if _, err := jpeg.Decode(bytes.NewReader(cut)); err == nil {
		t.Fatal("the JPEG cut in its scan decodes")
	}
	tests := []struct {
		name    string
		b       []byte
		wantErr error
	}{
		{"jpeg", full, nil},
		{"jpeg cut in its scan", cut, nil},
		{"jpeg start only", full[:4], capture.ErrNotPhoto},
		{"empty", nil, capture.ErrNotPhoto},
		{"text", []byte("hello"), capture.ErrNotPhoto},
		{"huge png", hugePNGHeader(t), capture.ErrTooLarge},
	}
	for _, tt := range tests {
		reason, err := checkHeader(bytes.NewReader(tt.b), int64(len(tt.b)))
		if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
			t.Errorf("checkHeader(%s) = %q, %v; want %v", tt.name, reason, err, tt.wantErr)
		}
		if err != nil && reason == "" {
			t.Errorf("checkHeader(%s) gives no reason", tt.name)
		}
	}
}
