package project

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"

	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
)

// A Project is one maker's project: a folder of photos and jobs in a Store.
// Its methods are safe for concurrent use; they must not be called after
// the Store is closed.
type Project struct {
	ID  string // stable: see Store.Create
	Dir string // the project's folder

	s *Store
}

// Summary returns what the project list shows of p, as it is now.
func (p *Project) Summary() (Summary, error) {
	rec, err := p.s.record(p.ID)
	if err != nil {
		return Summary{}, err
	}
	return p.s.summary(p.ID, rec), nil
}

// PhotosDir returns the folder of p's photos, for the checks and jobs
// (capture.CheckDir writes its capture.GraphFileName there). Photos go in
// through Import only.
func (p *Project) PhotosDir() string { return filepath.Join(p.Dir, photosDirName) }

// JobsDir returns the folder that holds p's jobs' output folders.
func (p *Project) JobsDir() string { return filepath.Join(p.Dir, jobsDirName) }

// PhotoPath returns the path of p's photo name.
func (p *Project) PhotoPath(name string) string { return filepath.Join(p.PhotosDir(), name) }

// ThumbPath returns where the app caches the thumbnail of p's photo name, a
// JPEG: thumbs/NAME.jpg. Summary.Thumbnail is the first photo's when it
// exists; Remove deletes it with the photo.
func (p *Project) ThumbPath(name string) string {
	return filepath.Join(p.Dir, thumbsDirName, name+".jpg")
}

// Photos returns the names of p's photos (files in PhotosDir) in capture
// order: the order they were imported in, as Reorder changed it.
//
// The folder is the truth: when the order and the folder disagree after a
// crash or a change made outside Replica, Photos drops the names of missing
// files, appends the photo files the order lacks in name order (as
// capture.ListPhotos sorts them), and saves the result. Hidden files,
// temporary files (.NAME.*.tmp) and files other than .jpg, .jpeg and .png
// are not photos.
func (p *Project) Photos() ([]string, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	entries, err := p.syncPhotos()
	if err != nil {
		return nil, err
	}
	return names(entries), nil
}

// syncPhotos returns p's photos reconciled with its folder, saving the
// result when it changed. The caller holds p.s.mu.
func (p *Project) syncPhotos() ([]photoEntry, error) {
	rec, err := p.s.record(p.ID)
	if err != nil {
		return nil, err
	}
	disk, err := diskPhotos(p.PhotosDir())
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", p.ID, err)
	}
	entries, changed := reconcile(rec.Photos, disk)
	if !changed {
		return entries, nil
	}
	err = p.s.update(p.ID, func(r *record) error {
		r.Photos = entries
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("project %s: %w", p.ID, err)
	}
	return entries, nil
}

// reconcile returns the entries whose files are on disk (the names of the
// photo files, in name order), then the files no entry names.
func reconcile(entries []photoEntry, disk []string) (out []photoEntry, changed bool) {
	onDisk := make(map[string]bool, len(disk))
	for _, n := range disk {
		onDisk[n] = true
	}
	seen := make(map[string]bool, len(disk))
	out = make([]photoEntry, 0, len(disk))
	for _, e := range entries {
		if onDisk[e.Name] && !seen[e.Name] {
			out = append(out, e)
			seen[e.Name] = true
		}
	}
	for _, n := range disk {
		if !seen[n] {
			out = append(out, photoEntry{Name: n})
		}
	}
	changed = !slices.EqualFunc(out, entries, func(a, b photoEntry) bool { return a.Name == b.Name })
	return out, changed
}

// diskPhotos returns the names of the photo files in dir, in name order.
func diskPhotos(dir string) ([]string, error) {
	paths, err := capture.ListPhotos(dir)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(paths))
	for i, path := range paths {
		out[i] = filepath.Base(path)
	}
	return out, nil
}

func names(entries []photoEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Name
	}
	return out
}

// Reorder sets p's capture order to names, which must name each of p's
// photos once; otherwise it returns an error unwrapping to ErrInvalidOrder
// and changes nothing.
func (p *Project) Reorder(names []string) error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	entries, err := p.syncPhotos()
	if err != nil {
		return err
	}
	byName := make(map[string]photoEntry, len(entries))
	for _, e := range entries {
		byName[e.Name] = e
	}
	order := make([]photoEntry, 0, len(names))
	for _, n := range names {
		e, ok := byName[n]
		if !ok {
			return fmt.Errorf("%w: %q is not a photo of the project, or is named twice", ErrInvalidOrder, n)
		}
		delete(byName, n)
		order = append(order, e)
	}
	if len(byName) > 0 {
		var missing []string
		for _, e := range entries {
			if _, ok := byName[e.Name]; ok {
				missing = append(missing, e.Name)
			}
		}
		return fmt.Errorf("%w: %d photos left out (%s)", ErrInvalidOrder, len(missing), strings.Join(missing, ", "))
	}
	return p.s.update(p.ID, func(r *record) error {
		r.Photos, r.Modified = order, p.s.now()
		return nil
	})
}

// Remove takes the photo name out of p: the file is moved into the trash,
// dropped from the capture order, then deleted, with its thumbnail. A name
// that is not one of p's photos gives an error unwrapping to ErrNotFound.
func (p *Project) Remove(name string) error {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	entries, err := p.syncPhotos()
	if err != nil {
		return err
	}
	i := slices.IndexFunc(entries, func(e photoEntry) bool { return e.Name == name })
	if i < 0 {
		return fmt.Errorf("remove photo %q: %w", name, ErrNotFound)
	}
	trashed := filepath.Join(p.s.root, trashDir, randomPart()+"-"+name)
	if err := os.Rename(p.PhotoPath(name), trashed); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove photo %q: %w", name, err)
	}
	if err := syncDir(p.PhotosDir()); err != nil {
		return fmt.Errorf("remove photo %q: %w", name, err)
	}
	err = p.s.update(p.ID, func(r *record) error {
		r.Photos = slices.DeleteFunc(r.Photos, func(e photoEntry) bool { return e.Name == name })
		r.Modified = p.s.now()
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove photo %q: %w", name, err)
	}
	os.Remove(trashed) // what is left, Open removes
	os.Remove(p.ThumbPath(name))
	return nil
}

// photoExts are the extensions of the files Import takes: those
// capture.ListPhotos lists.
var photoExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// Import copies photos into p, appending them to the capture order, and
// returns the names they got in p. Each path is a photo file or a folder,
// whose photos (capture.ListPhotos: .jpg, .jpeg and .png files, in name
// order) it imports; other files in a folder are passed over.
//
// A photo keeps its file name, with -2, -3 … before the extension when p
// holds one of that name already (IMG_1.JPG, IMG_1-2.JPG; names differing
// only in case count as the same, for Windows and macOS). A file whose
// content p holds already (the same SHA-256) is skipped: it is neither added
// nor refused.
//
// Import refuses a file that is not a photo: one without a photo extension,
// or one whose JPEG or PNG header cannot be read, that says it has no
// pixels, or that passes capture.MaxFileSize or capture.MaxPixels. It reads
// only the header, as the capture checks do first, so a photo cut short
// after its header (a truncated JPEG) is imported and the checks report it.
// Refused files do not stop the import: the error returned joins one
// *capture.PhotoError per refused file, whose Name is the path given.
//
// Each photo is copied into a temporary file beside the photos, synced,
// renamed into place and the folder synced before the capture order names
// it, so a crash loses no photo Import returned (or reported done) and
// leaves no partial one; Open removes the temporary files. Source files are
// only read.
//
// Import checks ctx between files and stops with ctx's error joined to the
// refusals. An error writing into the project (a full disk) stops it too.
// progress, when not nil, gets the files done and the files found, first
// (0, total) then after each file; it is called from Import's goroutine.
// Importing photos into a new project moves it to StateCapturing.
func (p *Project) Import(ctx context.Context, paths []string, progress func(done, total int)) (added []string, err error) {
	if progress == nil {
		progress = func(int, int) {}
	}
	files, refused := expandPaths(paths)
	progress(0, len(files))

	known, err := p.hashes()
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	for i, src := range files {
		if err := ctx.Err(); err != nil {
			return added, errors.Join(append(refused, err)...)
		}
		name, refusal, err := p.importFile(src, known)
		if err != nil {
			return added, errors.Join(append(refused, fmt.Errorf("import %s: %w", src, err))...)
		}
		if refusal != nil {
			refused = append(refused, refusal)
		}
		if name != "" {
			added = append(added, name)
		}
		progress(i+1, len(files))
	}
	return added, errors.Join(refused...)
}

// expandPaths returns the files paths name, those of folders listed, and the
// refusals of what cannot be listed.
func expandPaths(paths []string) (files []string, refused []error) {
	for _, path := range paths {
		fi, err := os.Stat(path)
		if err != nil {
			refused = append(refused, &capture.PhotoError{Name: path, Reason: "cannot open: " + pathErrReason(err), Err: err})
			continue
		}
		if !fi.IsDir() {
			files = append(files, path)
			continue
		}
		photos, err := capture.ListPhotos(path)
		switch {
		case err != nil:
			refused = append(refused, &capture.PhotoError{Name: path, Reason: "cannot list the folder: " + pathErrReason(err), Err: err})
		case len(photos) == 0:
			refused = append(refused, &capture.PhotoError{Name: path, Reason: "the folder holds no JPEG or PNG photos", Err: capture.ErrNotPhoto})
		}
		files = append(files, photos...)
	}
	return files, refused
}

// hashes returns the SHA-256 of each of p's photos, hex, mapped to its name.
// It hashes the photos the order does not know the content of (found on
// disk after a crash, or changed in size) and saves their hashes.
func (p *Project) hashes() (map[string]string, error) {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	entries, err := p.syncPhotos()
	if err != nil {
		return nil, err
	}
	known := make(map[string]string, len(entries))
	changed := false
	for i, e := range entries {
		fi, err := os.Stat(p.PhotoPath(e.Name))
		if err != nil {
			continue // gone since: the next reconcile drops it
		}
		if e.SHA256 == "" || e.Size != fi.Size() {
			sum, size, err := hashFile(p.PhotoPath(e.Name))
			if err != nil {
				continue
			}
			entries[i].SHA256, entries[i].Size = sum, size
			changed = true
		}
		known[entries[i].SHA256] = e.Name
	}
	if changed {
		err := p.s.update(p.ID, func(r *record) error {
			r.Photos = entries
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return known, nil
}

func hashFile(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	size, err = io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// importFile copies the photo src into p unless p holds its content (in
// known, which it updates). It returns the photo's name in p ("" for a
// duplicate or a refused file), why src is refused, or an error writing into
// the project, which stops the import.
func (p *Project) importFile(src string, known map[string]string) (name string, refusal, err error) {
	refuse := func(reason string, err error) (string, error, error) {
		return "", &capture.PhotoError{Name: src, Reason: reason, Err: err}, nil
	}
	if !photoExts[strings.ToLower(filepath.Ext(src))] {
		return refuse("not a photo: Replica imports JPEG and PNG files (.jpg, .jpeg, .png)", capture.ErrNotPhoto)
	}
	fi, err := os.Stat(src)
	switch {
	case err != nil:
		return refuse("cannot open: "+pathErrReason(err), err)
	case !fi.Mode().IsRegular(): // a folder inside a folder is not listed; a device or pipe would block
		return refuse("not a regular file", capture.ErrNotPhoto)
	case fi.Size() > capture.MaxFileSize:
		return refuse(fmt.Sprintf("file is larger than %d MiB", capture.MaxFileSize>>20), capture.ErrTooLarge)
	}
	f, err := os.Open(src)
	if err != nil {
		return refuse("cannot open: "+pathErrReason(err), err)
	}
	defer f.Close()
	if reason, err := checkHeader(f, fi.Size()); err != nil {
		return refuse(reason, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return refuse("cannot read: "+pathErrReason(err), err)
	}

	base := photoBase(filepath.Base(src))
	dir := p.PhotosDir()
	tmp, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return "", nil, err
	}
	tmpName := tmp.Name()
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	h := sha256.New()
	r := &errReader{r: f}
	size, err := io.Copy(io.MultiWriter(tmp, h), r)
	if r.err != nil {
		return refuse("cannot read: "+pathErrReason(r.err), r.err)
	}
	if err != nil {
		return "", nil, err
	}
	if runtime.GOOS != "windows" {
		if err := tmp.Chmod(0o644); err != nil { // CreateTemp's 0600 would hide photos from the maker's other accounts and tools
			return "", nil, err
		}
	}
	if err := tmp.Sync(); err != nil {
		return "", nil, err
	}
	if err := tmp.Close(); err != nil {
		return "", nil, err
	}
	os.Chtimes(tmpName, fi.ModTime(), fi.ModTime()) // keep the photo's date for file managers; not needed

	sum := hex.EncodeToString(h.Sum(nil))
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if _, dup := known[sum]; dup {
		return "", nil, nil
	}
	rec, err := p.s.record(p.ID)
	if err != nil {
		return "", nil, err
	}
	for _, e := range rec.Photos { // another Import since hashes
		if e.SHA256 == sum && pipeline.FileExists(p.PhotoPath(e.Name)) {
			known[sum] = e.Name
			return "", nil, nil
		}
	}
	name, err = freeName(dir, base, rec.Photos)
	if err != nil {
		return "", nil, err
	}
	if err := os.Rename(tmpName, filepath.Join(dir, name)); err != nil {
		return "", nil, err
	}
	keep = true
	if err := syncDir(dir); err != nil {
		return "", nil, err
	}
	err = p.s.update(p.ID, func(r *record) error {
		r.Photos = append(r.Photos, photoEntry{Name: name, SHA256: sum, Size: size})
		r.Modified = p.s.now()
		if r.State == StateNew {
			r.State = StateCapturing
		}
		return nil
	})
	if err != nil {
		// The photo is in place; the next Photos adds it to the order.
		return "", nil, err
	}
	known[sum] = name
	return name, nil, nil
}

// errReader remembers the error its reader returned, to tell reading the
// source from writing the copy apart.
type errReader struct {
	r   io.Reader
	err error
}

func (r *errReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// photoBase is the name a photo file called base gets in a project: base
// without leading dots and spaces, which would hide it or make it awkward,
// and with its stem cut to 100 bytes.
func photoBase(base string) string {
	ext := filepath.Ext(base)
	stem := strings.TrimLeft(strings.TrimSuffix(base, ext), ". ")
	if len(stem) > 100 {
		stem = strings.ToValidUTF8(stem[:100], "")
	}
	if stem == "" {
		stem = "photo"
	}
	return stem + ext
}

// freeName returns base, or base with -2, -3 … before its extension, that
// no file in dir and no photo in taken is called, ignoring case. The caller
// holds the Store's lock.
func freeName(dir, base string, taken []photoEntry) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	used := make(map[string]bool, len(entries)+len(taken))
	for _, e := range entries {
		used[strings.ToLower(e.Name())] = true
	}
	for _, e := range taken {
		used[strings.ToLower(e.Name)] = true
	}
	ext := filepath.Ext(base)
	stem := strings.TrimSuffix(base, ext)
	name := base
	for i := 2; used[strings.ToLower(name)]; i++ {
		name = fmt.Sprintf("%s-%d%s", stem, i, ext)
	}
	return name, nil
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// checkHeader reads the header of the photo file r of size bytes as the
// capture checks do before decoding (capture.LoadPhoto): a JPEG or PNG
// header that gives the size, at most capture.MaxPixels. It returns why the
// file is refused, for capture.PhotoError.Reason, and the cause.
func checkHeader(r io.Reader, size int64) (reason string, err error) {
	if size == 0 {
		return "empty file (0 bytes)", capture.ErrNotPhoto
	}
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(len(pngMagic))
	var (
		format       string
		decodeConfig func(io.Reader) (image.Config, error)
	)
	switch {
	case bytes.HasPrefix(head, jpegMagic):
		format, decodeConfig = "JPEG", jpeg.DecodeConfig
	case bytes.HasPrefix(head, pngMagic):
		format, decodeConfig = "PNG", png.DecodeConfig
	default:
		return "not a JPEG or PNG photo", capture.ErrNotPhoto
	}
	cfg, err := decodeConfig(br)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated " + format + " header (unexpected EOF)", fmt.Errorf("%w (%w)", capture.ErrNotPhoto, err)
	}
	if err != nil {
		return "corrupt " + format + " header (" + err.Error() + ")", fmt.Errorf("%w (%w)", capture.ErrNotPhoto, err)
	}
	w, h := cfg.Width, cfg.Height
	if w <= 0 || h <= 0 {
		return fmt.Sprintf("%s header says the image is %d×%d pixels", format, w, h), capture.ErrNotPhoto
	}
	if int64(w)*int64(h) > capture.MaxPixels {
		return fmt.Sprintf("image is %d×%d pixels (%.0f MP); at most %.0f MP is accepted",
			w, h, float64(w)*float64(h)/1e6, float64(capture.MaxPixels)/1e6), capture.ErrTooLarge
	}
	return "", nil
}

// pathErrReason is err's message without the path, which the PhotoError
// names already.
func pathErrReason(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// syncDir flushes dir's entries (a rename into it) to disk. Windows cannot
// sync a folder, and NTFS journals renames; some file systems refuse with
// EINVAL and need no sync either.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return errors.Join(err, f.Close())
}

// removeTemps removes the temporary files Import leaves in dir when it is
// killed: .NAME.*.tmp.
func removeTemps(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if n := e.Name(); strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".tmp") && !e.IsDir() {
			os.Remove(filepath.Join(dir, n))
		}
	}
}
