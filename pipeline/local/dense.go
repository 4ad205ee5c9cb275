package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
)

// DenseSkipped says why the dense stage does not run with these options,
// or "" when it runs.
func DenseSkipped(bin *colmap.Binary, o Options) string {
	switch {
	case o.GPU:
		return ""
	case !bin.CUDA:
		return fmt.Sprintf("needs COLMAP built with CUDA and an NVIDIA GPU (this colmap %s is built without CUDA); the mesh is made from the sparse points", bin.Version)
	default:
		return "needs an NVIDIA GPU (none found by nvidia-smi); the mesh is made from the sparse points"
	}
}

// denseStage undistorts the registered photos, computes a depth and normal
// map per photo with COLMAP's PatchMatch stereo on the GPU (geometric
// consistency on) and fuses them into dense.ply, points with normals and
// colours. The depth maps are removed once fused: they are the bulk of a
// job's disk use and nothing reads them again.
func denseStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o Options) error {
	ws := filepath.Join(env.Dir, "workspace")
	if err := runColmap(ctx, env, bin, "image_undistorter", []string{
		"--image_path", filepath.Join(env.Prev["prepare"], "images"),
		"--input_path", filepath.Join(env.Prev["mapping"], "sparse"),
		"--output_path", ws, "--output_type", "COLMAP",
		"--max_image_size", strconv.Itoa(o.Preset.MaxSide),
	}, 0); err != nil {
		return err
	}
	if err := runColmap(ctx, env, bin, "patch_match_stereo", []string{
		"--workspace_path", ws, "--workspace_format", "COLMAP",
		"--PatchMatchStereo.geom_consistency", "true",
		"--PatchMatchStereo.max_image_size", strconv.Itoa(o.Preset.MaxSide),
	}, 0); err != nil {
		return err
	}
	dense := filepath.Join(env.Dir, "dense.ply")
	if err := runColmap(ctx, env, bin, "stereo_fusion", []string{
		"--workspace_path", ws, "--workspace_format", "COLMAP",
		"--input_type", "geometric", "--output_path", dense,
	}, 0); err != nil {
		return err
	}
	n, err := plyVertices(dense)
	if err != nil {
		return fmt.Errorf("stereo_fusion's output: %w", err)
	}
	if n == 0 {
		return pipeline.WithHint(fmt.Errorf("stereo fusion kept no points"),
			"The photos may be too blurry or too alike for depth: run `replica check` on them")
	}
	fmt.Fprintf(env.Log, "fused %d points\n", n)
	return os.RemoveAll(ws)
}
