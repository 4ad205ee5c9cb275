// Package project keeps makers' projects for the desktop app. A project is
// a folder under the app's data folder (see DefaultRoot) that the maker can
// open, copy and back up:
//
//	ROOT/replica.db                 index of the projects and app settings (bbolt)
//	ROOT/projects/ID/photos/        the photos, copied in by Import
//	ROOT/projects/ID/jobs/          the reconstruction jobs' output folders
//	ROOT/projects/ID/thumbs/        cached thumbnails, NAME.jpg (see ThumbPath)
//	ROOT/trash/                     folders and files on their way out
//
// The folder is the truth for the photos; the database holds what a folder
// cannot say: each project's name, state and capture order, and the photos'
// content hashes. Every change is ordered so that killing the process at any
// moment loses no imported photo and leaves every project readable: a photo
// is written under a temporary name (.NAME.*.tmp), synced and renamed into
// place before the database names it; a project folder is built under a
// temporary name before it is indexed, and moved to the trash before it is
// removed from the index and deleted. Open and Project.Photos reconcile
// what a crash left behind.
//
// A Store holds the database's lock, so one Replica runs per data folder: a
// second Open returns ErrAlreadyRunning.
//
// The package knows nothing of Fyne: package app uses it.
package project

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/replica3d/replica/pipeline"
)

// The data folder's layout.
const (
	dbFileName    = "replica.db"
	projectsDir   = "projects"
	trashDir      = "trash"
	photosDirName = "photos"
	jobsDirName   = "jobs"
	thumbsDirName = "thumbs"
)

// dbFormat is the database's layout version, kept under meta/format. A
// database of another format is refused rather than misread.
const dbFormat = "replica-db/1"

// Buckets of the database.
var (
	projectsBucket = []byte("projects") // ID → record as JSON
	settingsBucket = []byte("settings") // key → value
	metaBucket     = []byte("meta")     // "format" → dbFormat
	formatKey      = []byte("format")
)

// DefaultLockTimeout is how long Open waits for the database's lock: long
// enough for a Replica that is closing to let go of it, short enough that
// starting a second one says so at once.
const DefaultLockTimeout = 2 * time.Second

// MaxNameLen is the longest project name, in characters.
const MaxNameLen = 100

// Errors the Store's methods unwrap to.
var (
	// ErrAlreadyRunning means another Replica holds the data folder's
	// database: Open waited Options.LockTimeout for it.
	//lint:ignore ST1005 the product's name, shown to the maker as is
	ErrAlreadyRunning = errors.New("Replica is already running")
	// ErrNotFound means no project has the ID, or no photo the name.
	ErrNotFound = errors.New("not found")
	// ErrInvalidName means a project name is empty, too long or holds
	// control characters; the error says which.
	ErrInvalidName = errors.New("invalid project name")
	// ErrInvalidState means a State that is none of the States below.
	ErrInvalidState = errors.New("invalid project state")
	// ErrInvalidOrder means Reorder was given names that are not the
	// project's photos, each once.
	ErrInvalidOrder = errors.New("invalid photo order")
)

// State is where a project is in its life, shown in the project list.
type State string

// A project's states.
const (
	StateNew        State = "new"        // created, no photos yet
	StateCapturing  State = "capturing"  // photos being added (Import moves a new project here)
	StateReady      State = "ready"      // the photos passed the checks
	StateProcessing State = "processing" // a job is running (Open turns it to failed: see Open)
	StateDone       State = "done"       // the last job made a model
	StateFailed     State = "failed"     // the last job failed or was interrupted
)

// Valid reports whether s is one of the States above.
func (s State) Valid() bool {
	switch s {
	case StateNew, StateCapturing, StateReady, StateProcessing, StateDone, StateFailed:
		return true
	}
	return false
}

// Interrupted is the LastResult Open gives a project it finds processing: the
// Replica that ran the job was killed or crashed.
const Interrupted = "Interrupted: Replica closed while processing"

// Summary is what the project list shows of a project.
type Summary struct {
	ID         string    // stable, and the folder's name under ROOT/projects
	Name       string    // what the maker calls it
	Dir        string    // the project's folder
	Photos     int       // how many photos it holds
	Thumbnail  string    // the first photo's cached thumbnail, "" when there is none yet
	LastResult string    // one line on the last job ("12.3 MB STL, 0.4 mm error"), set by SetState
	State      State     // where it is
	Created    time.Time // when it was created (UTC)
	Modified   time.Time // when it, its photos, their order or its state last changed (UTC)
}

// Options tune Open. Nil means the defaults.
type Options struct {
	// LockTimeout is how long Open waits for another Replica to let go of
	// the database before it returns ErrAlreadyRunning; 0 means
	// DefaultLockTimeout.
	LockTimeout time.Duration
}

// Store is the app's data folder: its projects and settings. Its methods are
// safe for concurrent use.
type Store struct {
	root string
	db   *bolt.DB

	// mu serializes the changes that touch both the disk and the
	// database (photo names, renames into place, the trash), so two
	// imports never pick the same name.
	mu sync.Mutex

	clockMu sync.Mutex
	last    time.Time // the last time now returned
}

// record is a project as the database keeps it.
type record struct {
	Name       string       `json:"name"`
	State      State        `json:"state"`
	LastResult string       `json:"last_result,omitempty"`
	Created    time.Time    `json:"created"`
	Modified   time.Time    `json:"modified"`
	Photos     []photoEntry `json:"photos"` // in capture order
}

// photoEntry is one photo of a project's capture order.
type photoEntry struct {
	Name   string `json:"name"`             // file name in photos/
	SHA256 string `json:"sha256,omitempty"` // hex; "" until known (a photo found on disk)
	Size   int64  `json:"size,omitempty"`   // bytes, when SHA256 was taken
}

// DefaultRoot returns the app's data folder: $XDG_DATA_HOME/replica or
// ~/.local/share/replica on Linux and other Unix systems (the XDG Base
// Directory spec: data, not configuration, so not os.UserConfigDir),
// %AppData%\Replica on Windows and ~/Library/Application Support/Replica on
// macOS (os.UserConfigDir's folders there). It does not create it.
func DefaultRoot() (string, error) {
	return dataRoot(runtime.GOOS, os.Getenv)
}

// dataRoot is DefaultRoot for goos, reading the environment with getenv.
func dataRoot(goos string, getenv func(string) string) (string, error) {
	switch goos {
	case "windows":
		dir := getenv("AppData")
		if dir == "" {
			return "", errors.New("data folder: %AppData% is not set")
		}
		return filepath.Join(dir, "Replica"), nil
	case "darwin", "ios":
		home := getenv("HOME")
		if home == "" {
			return "", errors.New("data folder: $HOME is not set")
		}
		return filepath.Join(home, "Library", "Application Support", "Replica"), nil
	}
	// The spec says a relative $XDG_DATA_HOME is invalid and to be ignored.
	if dir := getenv("XDG_DATA_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "replica"), nil
	}
	home := getenv("HOME")
	if home == "" {
		return "", errors.New("data folder: neither $XDG_DATA_HOME nor $HOME is set")
	}
	return filepath.Join(home, ".local", "share", "replica"), nil
}

// Open opens the data folder root with the default options: see OpenWith.
func Open(root string) (*Store, error) {
	return OpenWith(root, nil)
}

// OpenWith opens the data folder root, creating it when it does not exist,
// and locks its database: while the Store is open, another OpenWith on the
// same root, from this process or another, waits o.LockTimeout and returns an
// error that unwraps to ErrAlreadyRunning.
//
// It then tidies what a crash may have left: it empties the trash, removes
// temporary files and folders, forgets projects whose folder is gone (one
// being deleted), indexes project folders the index does not know (one being
// created, or one the maker copied back in, named after its folder), and
// turns projects left processing to StateFailed with LastResult
// Interrupted: no other Replica can be running their jobs. Tidying is best
// effort: what cannot be removed now is tried again at the next Open.
func OpenWith(root string, o *Options) (*Store, error) {
	if root == "" {
		return nil, errors.New("open data folder: no folder given")
	}
	timeout := DefaultLockTimeout
	if o != nil && o.LockTimeout > 0 {
		timeout = o.LockTimeout
	}
	for _, d := range []string{root, filepath.Join(root, projectsDir), filepath.Join(root, trashDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("open data folder: %w", err)
		}
	}
	path := filepath.Join(root, dbFileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: switch to its window, or close it and start again (%s is in use)", ErrAlreadyRunning, path)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{root: root, db: db}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := s.recover(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", root, err)
	}
	return s, nil
}

// init creates the buckets and checks the database's format.
func (s *Store) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{projectsBucket, settingsBucket} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		switch f := string(meta.Get(formatKey)); f {
		case dbFormat:
			return nil
		case "":
			return meta.Put(formatKey, []byte(dbFormat))
		default:
			return fmt.Errorf("the database's format is %q, this Replica reads %q: it was made by another version", f, dbFormat)
		}
	})
}

// recover tidies the data folder after a crash: see OpenWith.
func (s *Store) recover() error {
	emptyDir(filepath.Join(s.root, trashDir))

	pdir := filepath.Join(s.root, projectsDir)
	entries, err := os.ReadDir(pdir)
	if err != nil {
		return err
	}
	folders := map[string]fs.DirEntry{}
	for _, e := range entries {
		switch {
		case strings.HasPrefix(e.Name(), "."):
			if strings.HasSuffix(e.Name(), ".tmp") {
				os.RemoveAll(filepath.Join(pdir, e.Name())) // a Create that did not finish
			}
		case e.IsDir() && validID(e.Name()):
			folders[e.Name()] = e
		}
	}

	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(projectsBucket)
		var gone [][]byte
		var interrupted []string
		err := b.ForEach(func(k, v []byte) error {
			id := string(k)
			if _, ok := folders[id]; !ok {
				gone = append(gone, slices.Clone(k))
				return nil
			}
			delete(folders, id)
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("project %s: %w", id, err)
			}
			if rec.State == StateProcessing {
				interrupted = append(interrupted, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range gone {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		for _, id := range interrupted {
			err := updateRecord(b, id, func(r *record) error {
				r.State, r.LastResult = StateFailed, Interrupted
				return nil
			})
			if err != nil {
				return err
			}
		}
		for id, e := range folders {
			if err := s.adopt(b, id, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}

	ids, err := s.ids()
	if err != nil {
		return err
	}
	for _, id := range ids {
		dir := filepath.Join(pdir, id)
		for _, sub := range []string{photosDirName, jobsDirName} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
		removeTemps(filepath.Join(dir, photosDirName))
	}
	return nil
}

// adopt indexes the project folder id that the index does not know. It is
// named after the folder, less the random part Create added.
func (s *Store) adopt(b *bolt.Bucket, id string, e fs.DirEntry) error {
	name := id
	if i := strings.LastIndexByte(name, '-'); i > 0 && isRandomPart(name[i+1:]) {
		name = name[:i]
	}
	name = strings.ReplaceAll(name, "-", " ")
	if n, err := CleanName(name); err == nil {
		name = n
	} else {
		name = "Recovered project"
	}
	t := s.now()
	if fi, err := e.Info(); err == nil {
		t = fi.ModTime().UTC()
	}
	rec := record{Name: name, State: StateNew, Created: t, Modified: t}
	if names, err := diskPhotos(filepath.Join(s.root, projectsDir, id, photosDirName)); err == nil && len(names) > 0 {
		rec.State = StateCapturing
		for _, n := range names {
			rec.Photos = append(rec.Photos, photoEntry{Name: n})
		}
	}
	return putRecord(b, id, &rec)
}

// Close releases the database and its lock. The Store and its Projects must
// not be used after.
func (s *Store) Close() error {
	return s.db.Close()
}

// Root returns the data folder.
func (s *Store) Root() string { return s.root }

// CleanName returns name with the spaces around it trimmed, or an error
// unwrapping to ErrInvalidName that says why it cannot name a project:
// empty, longer than MaxNameLen characters, not UTF-8, or holding control
// characters (a line break, say).
func CleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return "", fmt.Errorf("%w: the name is empty", ErrInvalidName)
	case !utf8.ValidString(name):
		return "", fmt.Errorf("%w: the name is not valid UTF-8 text", ErrInvalidName)
	case utf8.RuneCountInString(name) > MaxNameLen:
		return "", fmt.Errorf("%w: the name is longer than %d characters", ErrInvalidName, MaxNameLen)
	case strings.ContainsFunc(name, unicode.IsControl):
		return "", fmt.Errorf("%w: the name holds a line break or another control character", ErrInvalidName)
	}
	return name, nil
}

// Create makes a new project called name (see CleanName) with an empty
// photos/ and jobs/ folder, in state StateNew.
//
// Its ID, and its folder's name, is the name made safe for any file system
// ("Bracket #2" → "bracket-2") and a random part: "bracket-2-5f0c9a1e". The
// ID does not change when the project is renamed.
func (s *Store) Create(name string) (*Project, error) {
	name, err := CleanName(name)
	if err != nil {
		return nil, err
	}
	pdir := filepath.Join(s.root, projectsDir)
	var id, dir string
	for range 10 {
		id = slug(name) + "-" + randomPart()
		dir = filepath.Join(pdir, id)
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			break
		}
		id = ""
	}
	if id == "" {
		return nil, fmt.Errorf("create project %q: no free folder name in %s", name, pdir)
	}

	// Build the folder under a temporary name Open removes, then rename it
	// into place: a crash leaves either nothing or a whole folder, which
	// Open indexes if the index below did not make it.
	tmp := filepath.Join(pdir, "."+id+".tmp")
	if err := os.MkdirAll(filepath.Join(tmp, photosDirName), 0o755); err != nil {
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	if err := os.Mkdir(filepath.Join(tmp, jobsDirName), 0o755); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	if err := errors.Join(syncDir(tmp), os.Rename(tmp, dir)); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	if err := syncDir(pdir); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	t := s.now()
	rec := record{Name: name, State: StateNew, Created: t, Modified: t}
	err = s.db.Update(func(tx *bolt.Tx) error { return putRecord(tx.Bucket(projectsBucket), id, &rec) })
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("create project %q: %w", name, err)
	}
	return &Project{ID: id, Dir: dir, s: s}, nil
}

// List returns every project, the last modified first (then by name).
func (s *Store) List() ([]Summary, error) {
	type item struct {
		id  string
		rec record
	}
	var items []item
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(projectsBucket).ForEach(func(k, v []byte) error {
			it := item{id: string(k)}
			if err := json.Unmarshal(v, &it.rec); err != nil {
				return fmt.Errorf("project %s: %w", k, err)
			}
			items = append(items, it)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list projects: %w", err)
	}
	out := make([]Summary, 0, len(items))
	for _, it := range items {
		out = append(out, s.summary(it.id, &it.rec))
	}
	slices.SortFunc(out, func(a, b Summary) int {
		return cmp.Or(b.Modified.Compare(a.Modified), strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// summary is the Summary of project id, whose photos it counts on disk as
// Photos would list them.
func (s *Store) summary(id string, rec *record) Summary {
	p := &Project{ID: id, Dir: s.projectDir(id), s: s}
	sum := Summary{
		ID: id, Name: rec.Name, Dir: p.Dir, State: rec.State, LastResult: rec.LastResult,
		Created: rec.Created, Modified: rec.Modified,
	}
	disk, err := diskPhotos(p.PhotosDir())
	if err != nil {
		return sum // the folder went away; Open will forget it
	}
	photos, _ := reconcile(rec.Photos, disk)
	sum.Photos = len(photos)
	if len(photos) > 0 {
		if t := p.ThumbPath(photos[0].Name); pipeline.FileExists(t) {
			sum.Thumbnail = t
		}
	}
	return sum
}

// Get returns the project id, or an error unwrapping to ErrNotFound.
func (s *Store) Get(id string) (*Project, error) {
	if _, err := s.record(id); err != nil {
		return nil, err
	}
	return &Project{ID: id, Dir: s.projectDir(id), s: s}, nil
}

// Rename renames the project id (see CleanName). Its folder keeps its name.
func (s *Store) Rename(id, name string) error {
	name, err := CleanName(name)
	if err != nil {
		return err
	}
	return s.update(id, func(r *record) error {
		r.Name, r.Modified = name, s.now()
		return nil
	})
}

// SetState records where the project id is and, in lastResult, one line on
// its last job for the project list.
func (s *Store) SetState(id string, state State, lastResult string) error {
	if !state.Valid() {
		return fmt.Errorf("project %s: %w %q", id, ErrInvalidState, state)
	}
	return s.update(id, func(r *record) error {
		r.State, r.LastResult, r.Modified = state, lastResult, s.now()
		return nil
	})
}

// Delete removes the project id and its folder, photos and jobs included.
// The folder is first moved into the trash, then dropped from the index,
// then removed: a crash at any point leaves either the whole project or none
// of it, and Open empties the trash. The caller stops the project's jobs
// first.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.record(id); err != nil {
		return err
	}
	dir := s.projectDir(id)
	trashed := filepath.Join(s.root, trashDir, id+"."+randomPart())
	if err := os.Rename(dir, trashed); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	if err := syncDir(filepath.Join(s.root, projectsDir)); err != nil {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(projectsBucket).Delete([]byte(id)) })
	if err != nil {
		return fmt.Errorf("delete project %s: %w", id, err)
	}
	os.RemoveAll(trashed) // what is left, Open removes
	return nil
}

// Setting returns the app setting key ("window.size", "project.last",
// "backend"), or "" when it is not set.
func (s *Store) Setting(key string) string {
	var v string
	_ = s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(settingsBucket).Get([]byte(key)))
		return nil
	})
	return v
}

// SetSetting sets the app setting key to value; "" unsets it.
func (s *Store) SetSetting(key, value string) error {
	if key == "" {
		return errors.New("set setting: no key")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(settingsBucket)
		if value == "" {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	return nil
}

// projectDir is the folder of project id.
func (s *Store) projectDir(id string) string {
	return filepath.Join(s.root, projectsDir, id)
}

// ids returns the IDs of the indexed projects.
func (s *Store) ids() ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(projectsBucket).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	})
	return ids, err
}

// record reads project id.
func (s *Store) record(id string) (*record, error) {
	var rec *record
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		rec, err = getRecord(tx.Bucket(projectsBucket), id)
		return err
	})
	return rec, err
}

// update changes project id with fn in one transaction.
func (s *Store) update(id string, fn func(*record) error) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return updateRecord(tx.Bucket(projectsBucket), id, fn)
	})
}

func getRecord(b *bolt.Bucket, id string) (*record, error) {
	v := b.Get([]byte(id))
	if v == nil || !validID(id) {
		return nil, fmt.Errorf("project %q: %w", id, ErrNotFound)
	}
	var rec record
	if err := json.Unmarshal(v, &rec); err != nil {
		return nil, fmt.Errorf("project %s: %w", id, err)
	}
	return &rec, nil
}

func putRecord(b *bolt.Bucket, id string, rec *record) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), v)
}

func updateRecord(b *bolt.Bucket, id string, fn func(*record) error) error {
	rec, err := getRecord(b, id)
	if err != nil {
		return err
	}
	if err := fn(rec); err != nil {
		return err
	}
	return putRecord(b, id, rec)
}

// now returns the time in UTC, always after the last time it returned, so
// that changes made in a row sort in the order they were made.
func (s *Store) now() time.Time {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	t := time.Now().UTC().Round(0)
	if !t.After(s.last) {
		t = s.last.Add(time.Nanosecond)
	}
	s.last = t
	return t
}

// slugLen is the longest slug: the ID stays readable in a file manager and
// well inside any file system's name limit.
const slugLen = 40

// slug is name in lower-case ASCII letters and digits, other runs of
// characters turned to single dashes: "Bracket #2 (v3)" → "bracket-2-v3".
// It is "project" for a name with no letters or digits in ASCII.
func slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				if b.Len()+1 >= slugLen {
					break
				}
				b.WriteByte('-')
			}
			dash = false
			if b.Len() >= slugLen {
				break
			}
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "project"
	}
	return b.String()
}

// randomPart returns 8 random hex digits.
func randomPart() string {
	var b [4]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// isRandomPart reports whether s looks like randomPart's result.
func isRandomPart(s string) bool {
	if len(s) != 8 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// validID reports whether id can be a project folder's name: one path
// element, not hidden.
func validID(id string) bool {
	return id != "" && !strings.HasPrefix(id, ".") && !strings.ContainsAny(id, `/\`) &&
		filepath.Base(id) == id && filepath.IsLocal(id)
}

// emptyDir removes what dir holds, as far as it can.
func emptyDir(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}
