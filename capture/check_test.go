package capture

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/capture/match"
	"github.com/replica3d/replica/pipeline/synth"
)

// synthSet renders a capture for the checks at the default 1600×1200.
func synthSet(t *testing.T, part string, mod func(*synth.Options)) string {
	t.Helper()
	b, _ := assets.Part(part)
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.MeshCell = 4
	if mod != nil {
		mod(&o)
	}
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func codesOf(r *Report, name string) []Code {
	for _, p := range r.Photos {
		if p.Name == name {
			return p.Codes
		}
	}
	return nil
}

func logReport(t *testing.T, r *Report) {
	t.Helper()
	for _, p := range r.Photos {
		ov := ""
		if p.OverlapPrev != nil {
			ov = fmt.Sprintf("inl %d score %.2f motion %.3f", p.OverlapPrev.Inliers, p.OverlapPrev.Score, p.OverlapPrev.Motion)
		}
		t.Logf("%s sharp %.0f bright %.2f clip %.3f feat %d %s %v", p.Name, p.Quality.Sharpness, p.Quality.Brightness, p.Quality.Clipped, p.Features, ov, p.Codes)
	}
	for _, p := range r.Problems {
		t.Logf("%v", p)
	}
	t.Logf("coverage %+v; %s", r.Coverage, r.Summary)
}

// TestCheckBadInput puts broken files among good photos: each broken one
// gets a clear per-file error and the rest of the set is still checked.
func TestCheckBadInput(t *testing.T) {
	dir := t.TempDir()
	b, _ := assets.Part("bracket")
	spec, _ := synth.ParseSpec(bytes.NewReader(b))
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.Width, o.Height, o.MeshCell = 4, 1, 800, 600, 4
	o.Distance = 400
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(dir, "view_001.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	huge := append([]byte(nil), good...)
	if i := bytes.Index(huge, []byte{0xFF, 0xC0}); i > 0 { // SOF0: height, width at +5, +7
		huge[i+5], huge[i+6], huge[i+7], huge[i+8] = 0xEA, 0x60, 0xEA, 0x60 // 60000×60000
	} else {
		t.Fatal("no SOF0 marker in the synthetic JPEG")
	}
	bad := map[string][]byte{
		"notes.jpg":     []byte("this is not a photo"),
		"empty.jpg":     nil,
		"truncated.jpg": good[:len(good)/3],
		"huge.jpg":      huge,
		"fake.png":      []byte("\x89PNG\r\n\x1a\n garbage"),
	}
	for name, data := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := CheckDir(context.Background(), dir, &Options{GraphFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, p := range r.Photos {
		seen[p.Name] = true
		_, isBad := bad[p.Name]
		switch {
		case isBad && (p.Error == "" || !slices.Contains(p.Codes, CodeUnreadable)):
			t.Errorf("%s: error %q, codes %v; want an unreadable error", p.Name, p.Error, p.Codes)
		case !isBad && p.Error != "":
			t.Errorf("%s: %s", p.Name, p.Error)
		case !isBad && p.Quality == nil:
			t.Errorf("%s was not checked", p.Name)
		}
		if isBad {
			t.Logf("%s: %s", p.Name, p.Error)
		}
	}
	if len(seen) != 4+len(bad) {
		t.Errorf("report has %d photos, want %d", len(seen), 4+len(bad))
	}
	if r.Ready {
		t.Errorf("a set with unreadable files is reported ready")
	}
}

func TestCheckEmptyAndMissing(t *testing.T) {
	r, err := CheckDir(context.Background(), t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready || len(r.Problems) == 0 || r.Problems[0].Code != CodeTooFew {
		t.Errorf("empty folder: ready %v, problems %v; want not ready, %s", r.Ready, r.Problems, CodeTooFew)
	}
	if _, err := CheckDir(context.Background(), filepath.Join(t.TempDir(), "nope"), nil); err == nil {
		t.Errorf("CheckDir of a missing folder succeeded")
	}
}

func TestNaturalOrder(t *testing.T) {
	names := []string{"IMG_10.jpg", "IMG_9.jpg", "IMG_100.jpg", "IMG_1.jpg", "a.jpg"}
	slices.SortFunc(names, func(a, b string) int {
		if naturalLess(a, b) {
			return -1
		}
		if naturalLess(b, a) {
			return 1
		}
		return 0
	})
	want := []string{"IMG_1.jpg", "IMG_9.jpg", "IMG_10.jpg", "IMG_100.jpg", "a.jpg"}
	if !slices.Equal(names, want) {
		t.Errorf("natural order = %v, want %v", names, want)
	}
}

// TestCheckDuplicate copies a photo next to itself: the copy is flagged as a
// duplicate, and not as a gap.
func TestCheckDuplicate(t *testing.T) {
	if raceEnabled {
		t.Skip("renders or decodes dozens of full-size photos, too slow under the race detector; make test runs it again without -race")
	}
	dir := t.TempDir()
	b, _ := assets.Part("bracket")
	spec, _ := synth.ParseSpec(bytes.NewReader(b))
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.MeshCell = 12, 1, 4
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "view_005.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "view_005b.jpg"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := CheckDir(context.Background(), dir, &Options{GraphFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(r, "view_005b.jpg"); !slices.Contains(got, CodeDuplicate) {
		logReport(t, r)
		t.Errorf("view_005b.jpg codes %v, want %s", got, CodeDuplicate)
	}
	for _, p := range r.Problems {
		if p.Code == CodeGap && slices.Contains(p.Photos, "view_005b.jpg") {
			t.Errorf("duplicate reported as a gap: %v", p)
		}
	}
	for _, p := range r.Photos {
		if p.Name != "view_005b.jpg" && len(p.Codes) > 0 {
			t.Errorf("clean photo %s flagged %v", p.Name, p.Codes)
		}
	}
}

// TestCheckIsolated puts a photo of something else (noise) in the middle
// of a ring: it is flagged as isolated, and neither it nor the step over
// it is a gap.
func TestCheckIsolated(t *testing.T) {
	if raceEnabled {
		t.Skip("renders or decodes dozens of full-size photos, too slow under the race detector; make test runs it again without -race")
	}
	dir := t.TempDir()
	b, _ := assets.Part("bracket")
	spec, _ := synth.ParseSpec(bytes.NewReader(b))
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.MeshCell = 16, 1, 4
	if _, err := synth.Generate(context.Background(), spec, o, dir); err != nil {
		t.Fatal(err)
	}
	noise := image.NewGray(image.Rect(0, 0, 1600, 1200))
	rng := rand.New(rand.NewPCG(5, 5))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(rng.IntN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, noise, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "view_007b.jpg"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := CheckDir(context.Background(), dir, &Options{GraphFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	if got := codesOf(r, "view_007b.jpg"); !slices.Contains(got, CodeIsolated) {
		logReport(t, r)
		t.Errorf("view_007b.jpg codes %v, want %s", got, CodeIsolated)
	}
	for _, p := range r.Problems {
		if p.Code == CodeGap {
			logReport(t, r)
			t.Errorf("gap reported: %v", p)
		}
	}
	for _, p := range r.Photos {
		if p.Name != "view_007b.jpg" && slices.Contains(p.Codes, CodeIsolated) {
			t.Errorf("%s flagged %s", p.Name, CodeIsolated)
		}
	}
}

// TestRescuePairs: a step that no overlapping pair of neighbours spans
// gets the pairs of photos up to reach apart across it, not compared yet.
func TestRescuePairs(t *testing.T) {
	good := []int{0, 1, 2, 3, 4, 5, 6, 7}
	var pairs []PairResult
	for k := range good {
		for d := 1; d <= window && k+d < len(good); d++ {
			// Photos 0–3 and 4–7 overlap among themselves only.
			pairs = append(pairs, PairResult{i: k, j: k + d, Overlap: (k < 4) == (k+d < 4)})
		}
	}
	got := rescuePairs(good, pairs)
	var ij [][2]int
	for _, p := range got {
		ij = append(ij, [2]int{p.i, p.j})
	}
	want := [][2]int{{0, 4}, {1, 4}, {1, 5}, {2, 5}, {2, 6}, {3, 6}, {3, 7}}
	slices.SortFunc(ij, func(a, b [2]int) int { return (a[0]-b[0])*100 + a[1] - b[1] })
	if !slices.Equal(ij, want) {
		t.Errorf("rescue pairs %v, want %v", ij, want)
	}
	// Once one of them overlaps, the step is spanned.
	pairs = append(pairs, PairResult{i: 2, j: 5, Overlap: true})
	pos := map[int]int{}
	for k, i := range good {
		pos[i] = k
	}
	if s := spannedSteps(len(good), pos, pairs, reach); !s[4] || s[0] {
		t.Errorf("spanned %v, want the step to 4 spanned and the first position not", s)
	}
	if got := rescuePairs(good, pairs[:len(pairs)-1]); len(got) != len(want) {
		t.Errorf("rescue pairs changed: %d", len(got))
	}
}

// fakeSet is n readable photos of 12 MP with the given brightnesses and
// otherwise unremarkable measures, for the set checks.
func fakeSet(bright []float64) []loaded {
	items := make([]loaded, len(bright))
	for i, b := range bright {
		items[i] = loaded{
			photo: &Photo{Name: fmt.Sprintf("p%02d.jpg", i), Width: 4000, Height: 3000, MeanRGB: [3]float64{b, b, b}, FocalPx: 3000, FocalSource: FocalEXIF35mm},
			q:     Quality{Sharpness: 150, Brightness: b},
			feat:  &match.Features{},
		}
	}
	return items
}

func TestLightingSpread(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bright []float64
		want   bool
	}{
		{"steady", []float64{0.5, 0.51, 0.49, 0.5, 0.52, 0.48, 0.5, 0.5, 0.51, 0.5}, false},
		{"one dark photo", []float64{0.5, 0.51, 0.49, 0.5, 0.2, 0.48, 0.5, 0.5, 0.51, 0.5}, false},
		{"sun and cloud", []float64{0.6, 0.35, 0.6, 0.35, 0.6, 0.35, 0.6, 0.35, 0.6, 0.35}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := assemble(fakeSet(tc.bright), nil)
			got := false
			for _, p := range r.Problems {
				if p.Code == CodeLighting {
					got = true
					if p.Severity != Warn {
						t.Errorf("%s has severity %s, want warn", p.Code, p.Severity)
					}
				}
			}
			if got != tc.want {
				t.Errorf("%s reported: %v, want %v (%v)", CodeLighting, got, tc.want, r.Problems)
			}
		})
	}
}

func TestReadGraph(t *testing.T) {
	dir := t.TempDir()
	r := &Report{Photos: []PhotoResult{{Name: "a.jpg"}, {Name: "b.jpg"}}, Pairs: []PairResult{{A: "a.jpg", B: "b.jpg", Inliers: 90, Score: 0.5, Overlap: true}}}
	path := filepath.Join(dir, GraphFileName)
	if err := writeGraph(path, r); err != nil {
		t.Fatal(err)
	}
	g, err := ReadGraph(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Photos) != 2 || len(g.Pairs) != 1 || !g.Pairs[0].Overlap || g.Pairs[0].Inliers != 90 {
		t.Errorf("ReadGraph = %+v", g)
	}
	for name, body := range map[string]string{
		"not json":      "{",
		"other format":  `{"format":"x","photos":[],"pairs":[]}`,
		"unknown photo": `{"format":"replica-overlap/1","photos":["a"],"pairs":[{"a":"a","b":"z"}]}`,
		"self pair":     `{"format":"replica-overlap/1","photos":["a"],"pairs":[{"a":"a","b":"a"}]}`,
	} {
		if _, err := ParseGraph([]byte(body), "overlap.json"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ReadGraph(filepath.Join(dir, "missing.json")); err == nil {
		t.Errorf("a missing graph was read")
	}
}

func FuzzParseGraph(f *testing.F) {
	f.Add([]byte(`{"format":"replica-overlap/1","photos":["a","b"],"pairs":[{"a":"a","b":"b","inliers":3,"score":0.1,"overlap":true}]}`))
	f.Add([]byte(`{"format":"replica-overlap/1"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := ParseGraph(b, "fuzz.json")
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, p := range g.Photos {
			names[p] = true
		}
		for _, p := range g.Pairs {
			if !names[p.A] || !names[p.B] {
				t.Fatalf("pair %v of unknown photos accepted", p)
			}
		}
	})
}
