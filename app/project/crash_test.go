package project

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The crash test runs Import in a child process, the test binary itself
// (as Go's os/exec tests do), and kills it.
const (
	helperEnv     = "REPLICA_PROJECT_HELPER" // "import": run importHelper instead of the tests
	helperRootEnv = "REPLICA_PROJECT_ROOT"
	helperIDEnv   = "REPLICA_PROJECT_ID"
	helperSrcEnv  = "REPLICA_PROJECT_SRC"
)

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "import" {
		os.Exit(importHelper())
	}
	os.Exit(m.Run())
}

// importHelper imports the folder $REPLICA_PROJECT_SRC into the project
// $REPLICA_PROJECT_ID of the data folder $REPLICA_PROJECT_ROOT, printing
// "done N" after each photo and "finished" at the end.
func importHelper() int {
	s, err := Open(os.Getenv(helperRootEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer s.Close()
	p, err := s.Get(os.Getenv(helperIDEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	_, err = p.Import(context.Background(), []string{os.Getenv(helperSrcEnv)}, func(done, total int) {
		fmt.Printf("done %d\n", done)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("finished")
	return 0
}

// TestImportKilled kills an import with SIGKILL at various points, and checks
// after each that the data folder opens, every photo present is whole and
// listed once, and every photo the import reported done is there.
func TestImportKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the import in child processes")
	}
	const n = 12
	src := t.TempDir()
	sources := map[[32]byte]string{} // content hash → source name
	for i := range n {
		name := fmt.Sprintf("IMG_%02d.JPG", i+1)
		b := encodeJPEG(t, uint64(i), 480, 360, true) // noise: a few hundred KB, slow enough to be killed while copying
		writeFile(t, filepath.Join(src, name), b)
		sources[sha256.Sum256(b)] = name
	}

	root := t.TempDir()
	s, err := OpenWith(root, &Options{LockTimeout: testLockTimeout})
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, s, "Crash")
	s.Close()

	// Each round kills the child a little later after it reports a photo
	// done; the last lets it finish.
	delays := []time.Duration{0, 100 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, -1}
	for round, delay := range delays {
		present := checkCrashedProject(t, root, p.ID, sources, 0)
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), helperEnv+"=import", helperRootEnv+"="+root, helperIDEnv+"="+p.ID, helperSrcEnv+"="+src)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done, finished, killed := 0, false, false
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			if line == "finished" {
				finished = true
				continue
			}
			if d, err := strconv.Atoi(strings.TrimPrefix(line, "done ")); err == nil {
				done = d
			}
			// Kill once the child copies a photo the project lacked.
			if delay >= 0 && !killed && done > present {
				time.Sleep(delay)
				if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
					t.Fatal(err)
				}
				killed = true
			}
		}
		err = cmd.Wait()
		t.Logf("round %d: %d photos before, child reported %d done, killed %v after %v (%v)", round, present, done, killed, delay, err)
		if delay < 0 || !killed {
			if err != nil || !finished {
				t.Fatalf("round %d: the import that was not killed failed: %v\n%s", round, err, stderr.Bytes())
			}
		}
		got := checkCrashedProject(t, root, p.ID, sources, done)
		if got < done {
			t.Errorf("round %d: %d photos after the child reported %d done", round, got, done)
		}
	}
	if got := checkCrashedProject(t, root, p.ID, sources, n); got != n {
		t.Errorf("after the last import the project holds %d photos, want %d", got, n)
	}
}

// checkCrashedProject opens root as the app would after a crash and checks
// project id: every file in its photos folder is a whole JPEG with the
// content of one of sources, no content is there twice, Photos lists exactly
// those files, no temporary file is left, and the first wantDone sources (in
// name order: the import's order) are present. It returns how many photos
// the project holds.
func checkCrashedProject(t *testing.T, root, id string, sources map[[32]byte]string, wantDone int) int {
	t.Helper()
	var temps int
	for _, name := range dirFiles(t, filepath.Join(root, "projects", id, "photos")) {
		if strings.HasSuffix(name, ".tmp") {
			temps++
		}
	}
	if temps > 0 {
		t.Logf("the kill left %d temporary files", temps)
	}
	s, err := OpenWith(root, &Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("Open after a kill: %v", err)
	}
	defer s.Close()
	p, err := s.Get(id)
	if err != nil {
		t.Fatalf("Get after a kill: %v", err)
	}
	photos, err := p.Photos()
	if err != nil {
		t.Fatalf("Photos after a kill: %v", err)
	}
	files := dirFiles(t, p.PhotosDir())
	if len(files) != len(photos) {
		t.Errorf("photos folder holds %v, Photos() lists %v", files, photos)
	}
	seen := map[[32]byte]string{}
	for _, name := range photos {
		b, err := os.ReadFile(p.PhotoPath(name))
		if err != nil {
			t.Errorf("photo %s: %v", name, err)
			continue
		}
		if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
			t.Errorf("photo %s (%d bytes) does not decode: %v", name, len(b), err)
		}
		sum := sha256.Sum256(b)
		src, ok := sources[sum]
		if !ok {
			t.Errorf("photo %s is none of the sources", name)
		}
		if other, dup := seen[sum]; dup {
			t.Errorf("photos %s and %s are the same source %s", other, name, src)
		}
		seen[sum] = name
	}
	for sum, src := range sources {
		if srcIndex(src) < wantDone && seen[sum] == "" {
			t.Errorf("source %s was reported imported but is not in the project", src)
		}
	}
	return len(photos)
}

// srcIndex is the import order of the source IMG_NN.JPG: NN-1.
func srcIndex(name string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "IMG_"), ".JPG"))
	return n - 1
}
