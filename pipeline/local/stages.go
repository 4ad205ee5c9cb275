package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/replica3d/replica/capture"
	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// Quality presets: the longest side photos are prepared at and the SIFT
// features COLMAP extracts from each.
var Presets = map[string]Preset{
	"draft":    {MaxSide: 1600, Features: 4096},
	"standard": {MaxSide: 2400, Features: 8192},
	"high":     {MaxSide: 3200, Features: 8192},
}

// Preset is a quality preset.
type Preset struct {
	MaxSide  int `json:"max_side"`
	Features int `json:"features"`
}

// Options choose how a job runs.
type Options struct {
	Preset Preset
	// GPU runs feature extraction and matching on the GPU (COLMAP built
	// with CUDA and an NVIDIA GPU present).
	GPU bool
	// Graph is the capture's overlap graph (overlap.json), or "" for none:
	// its overlapping pairs are matched besides the neighbours.
	Graph string
	// Window is how many following photos each photo is matched with, in
	// capture order (8 when 0), besides the last with the first few.
	Window int
}

// Summary is what the mapping stage found, saved as model.json.
type Summary struct {
	Registered      int     `json:"registered"`
	Total           int     `json:"total"`
	Points          int     `json:"points"`
	MeanReprojError float64 `json:"mean_reprojection_error_px"`
	Model           string  `json:"model"` // the largest model's folder, relative to the stage's
}

// Stages returns the local reconstruction of photos (in capture order) as
// pipeline stages, each commented with what it does:
func Stages(bin *colmap.Binary, photos []string, o Options) []pipeline.Stage {
	window := o.Window
	if window <= 0 {
		window = 8
	}
	version := bin.Version.String()
	return []pipeline.Stage{
		// prepare: upright, downscaled copies without GPS.
		{Name: "prepare", Inputs: photos, Options: o.Preset.MaxSide, Outputs: []string{"images", "prepared.json"},
			Run: func(ctx context.Context, env *pipeline.Env) error {
				return prepareStage(ctx, env, photos, o.Preset.MaxSide)
			}},
		// features: COLMAP's SIFT on every prepared photo.
		{Name: "features", Options: map[string]any{"colmap": version, "gpu": o.GPU, "features": o.Preset.Features}, Outputs: []string{"database.db"},
			Run: func(ctx context.Context, env *pipeline.Env) error {
				return featuresStage(ctx, env, bin, o)
			}},
		// matching: the pairs worth matching, imported as a pair list.
		{Name: "matching", Inputs: graphInput(o.Graph), Options: map[string]any{"colmap": version, "gpu": o.GPU, "window": window}, Outputs: []string{"database.db", "pairs.txt"},
			Run: func(ctx context.Context, env *pipeline.Env) error {
				return matchingStage(ctx, env, bin, o, window)
			}},
		// mapping: incremental SfM; the largest model is kept.
		{Name: "mapping", Options: map[string]any{"colmap": version}, Outputs: []string{"sparse", "model.json", "sparse.ply"},
			Run: func(ctx context.Context, env *pipeline.Env) error {
				return mappingStage(ctx, env, bin)
			}},
	}
}

func graphInput(g string) []string {
	if g == "" {
		return nil
	}
	return []string{g}
}

func prepareStage(ctx context.Context, env *pipeline.Env, photos []string, maxSide int) error {
	if len(photos) < 3 {
		return pipeline.WithHint(fmt.Errorf("%d photos", len(photos)), "A model needs at least 3 overlapping photos; 20 to 50 work best")
	}
	images := filepath.Join(env.Dir, "images")
	if err := os.Mkdir(images, 0o755); err != nil {
		return err
	}
	got, err := PreparePhotos(ctx, photos, images, PrepareOptions{MaxSide: maxSide}, env.Progress)
	if err != nil {
		return pipeline.WithHint(err, "Remove or replace the photo named above, then run again")
	}
	b, _ := json.MarshalIndent(got, "", "  ")
	return os.WriteFile(filepath.Join(env.Dir, "prepared.json"), b, 0o644)
}

// runColmap runs a command with the stage's log and progress. total, when
// positive, is the count the mapper's "registered" lines are out of.
func runColmap(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, command string, args []string, total int) error {
	return bin.Run(ctx, command, args, &colmap.RunOptions{Log: env.Log, Line: func(line string) {
		done, n, ok := colmap.ParseProgress(line)
		if !ok {
			return
		}
		if n == 0 {
			n = total
		}
		if n > 0 {
			env.Progress(float64(done) / float64(n))
		}
	}})
}

func featuresStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o Options) error {
	gpuOpt, err := bin.Option(ctx, "feature_extractor", "FeatureExtraction.use_gpu", "SiftExtraction.use_gpu")
	if err != nil {
		return err
	}
	maxFeat, err := bin.Option(ctx, "feature_extractor", "SiftExtraction.max_num_features")
	if err != nil {
		return err
	}
	maxSize, err := bin.Option(ctx, "feature_extractor", "FeatureExtraction.max_image_size", "SiftExtraction.max_image_size")
	if err != nil {
		return err
	}
	args := []string{
		"--database_path", filepath.Join(env.Dir, "database.db"),
		"--image_path", filepath.Join(env.Prev["prepare"], "images"),
		// One camera model for all; each photo keeps its own focal
		// length prior, from its EXIF.
		"--ImageReader.camera_model", "SIMPLE_RADIAL",
		"--" + gpuOpt, boolArg(o.GPU),
		"--" + maxFeat, strconv.Itoa(o.Preset.Features),
		"--" + maxSize, strconv.Itoa(o.Preset.MaxSide),
	}
	return runColmap(ctx, env, bin, "feature_extractor", args, 0)
}

func boolArg(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// pairList returns the pairs to match, as prepared file names: each photo
// with the next window ones, the last few with the first few (closing a
// walk around the part), and the overlapping pairs of the capture's graph.
func pairList(names []string, sources []string, graph string, window int) ([][2]string, error) {
	n := len(names)
	seen := map[[2]int]bool{}
	var pairs [][2]int
	add := func(i, j int) {
		if i == j {
			return
		}
		if i > j {
			i, j = j, i
		}
		if !seen[[2]int{i, j}] {
			seen[[2]int{i, j}] = true
			pairs = append(pairs, [2]int{i, j})
		}
	}
	for i := range n {
		for d := 1; d <= window && i+d < n; d++ {
			add(i, i+d)
		}
	}
	for i := max(0, n-window/2); i < n; i++ {
		for j := 0; j < min(window/2, n); j++ {
			add(i, j)
		}
	}
	if graph != "" {
		g, err := capture.ReadGraph(graph)
		if err != nil {
			return nil, pipeline.WithHint(err, "Run `replica check` again on the photos, or process without the overlap graph")
		}
		index := map[string]int{}
		for i, s := range sources {
			index[filepath.Base(s)] = i
		}
		for _, p := range g.Pairs {
			a, okA := index[p.A]
			b, okB := index[p.B]
			if p.Overlap && okA && okB {
				add(a, b)
			}
		}
	}
	sort.Slice(pairs, func(a, b int) bool {
		if pairs[a][0] != pairs[b][0] {
			return pairs[a][0] < pairs[b][0]
		}
		return pairs[a][1] < pairs[b][1]
	})
	out := make([][2]string, len(pairs))
	for k, p := range pairs {
		out[k] = [2]string{names[p[0]], names[p[1]]}
	}
	return out, nil
}

func readPrepared(dir string) ([]Prepared, error) {
	b, err := os.ReadFile(filepath.Join(dir, "prepared.json"))
	if err != nil {
		return nil, err
	}
	var p []Prepared
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("prepared.json: %w", err)
	}
	return p, nil
}

func matchingStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o Options, window int) error {
	prep, err := readPrepared(env.Prev["prepare"])
	if err != nil {
		return err
	}
	names := make([]string, len(prep))
	sources := make([]string, len(prep))
	for i, p := range prep {
		names[i], sources[i] = p.Name, p.Source
	}
	pairs, err := pairList(names, sources, o.Graph, window)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, p := range pairs {
		fmt.Fprintf(&b, "%s %s\n", p[0], p[1])
	}
	list := filepath.Join(env.Dir, "pairs.txt")
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		return err
	}
	db := filepath.Join(env.Dir, "database.db")
	if err := copyFile(filepath.Join(env.Prev["features"], "database.db"), db); err != nil {
		return err
	}
	gpuOpt, err := bin.Option(ctx, "matches_importer", "FeatureMatching.use_gpu", "SiftMatching.use_gpu")
	if err != nil {
		return err
	}
	return runColmap(ctx, env, bin, "matches_importer", []string{
		"--database_path", db, "--match_list_path", list, "--match_type", "pairs", "--" + gpuOpt, boolArg(o.GPU),
	}, 0)
}

func mappingStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary) error {
	prep, err := readPrepared(env.Prev["prepare"])
	if err != nil {
		return err
	}
	db := filepath.Join(env.Dir, "database.db")
	if err := copyFile(filepath.Join(env.Prev["matching"], "database.db"), db); err != nil {
		return err
	}
	all := filepath.Join(env.Dir, "models")
	if err := os.Mkdir(all, 0o755); err != nil {
		return err
	}
	if err := runColmap(ctx, env, bin, "mapper", []string{
		"--database_path", db, "--image_path", filepath.Join(env.Prev["prepare"], "images"), "--output_path", all,
	}, len(prep)); err != nil {
		return err
	}
	os.Remove(db) // the mapper does not change it; matching keeps the copy
	// The mapper writes one folder per model it could not merge: keep the
	// one with the most registered photos.
	entries, err := os.ReadDir(all)
	if err != nil {
		return err
	}
	var best *colmap.Model
	bestDir := ""
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		m, err := colmap.ReadModel(filepath.Join(all, e.Name()))
		if err != nil {
			return fmt.Errorf("model %s: %w", e.Name(), err)
		}
		if best == nil || len(m.Images) > len(best.Images) {
			best, bestDir = m, e.Name()
		}
	}
	if best == nil || len(best.Images) < 3 {
		reg := 0
		if best != nil {
			reg = len(best.Images)
		}
		return pipeline.WithHint(fmt.Errorf("COLMAP registered %d of %d photos", reg, len(prep)),
			"The photos do not overlap enough: run `replica check` and take the photos it asks for")
	}
	if err := os.Rename(filepath.Join(all, bestDir), filepath.Join(env.Dir, "sparse")); err != nil {
		return err
	}
	os.RemoveAll(all)
	s := Summary{Registered: len(best.Images), Total: len(prep), Points: len(best.Points), MeanReprojError: best.MeanReprojectionError(), Model: "sparse"}
	b, _ := json.MarshalIndent(s, "", "  ")
	if err := os.WriteFile(filepath.Join(env.Dir, "model.json"), b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(env.Log, "registered %d of %d photos, %d points, mean reprojection error %.2f px\n", s.Registered, s.Total, s.Points, s.MeanReprojError)
	return writeSparsePLY(filepath.Join(env.Dir, "sparse.ply"), best)
}

// writeSparsePLY writes the model's points with their colours.
func writeSparsePLY(path string, m *colmap.Model) error {
	var p mesh.PLY
	for _, pt := range m.Points {
		p.Cloud.Points = append(p.Cloud.Points, geom.Vec(pt.XYZ))
		p.Cloud.Colors = append(p.Cloud.Colors, color.NRGBA{pt.RGB[0], pt.RGB[1], pt.RGB[2], 255})
	}
	p.Comments = []string{"replica sparse model (COLMAP coordinates, not to scale)"}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := mesh.WritePLY(f, &p, mesh.BinaryLittleEndian); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return errors.Join(err, os.Remove(dst))
	}
	return out.Close()
}
