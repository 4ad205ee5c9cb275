package local

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/mesh"
	"github.com/replica3d/replica/pipeline/mvs"
)

// Dense backends: what computes the dense points.
const (
	// DenseColmap is COLMAP's PatchMatch stereo, on an NVIDIA GPU with a
	// CUDA build of COLMAP.
	DenseColmap = "colmap-cuda"
	// DenseMVS is pipeline/mvs, Replica's multi-view stereo on the CPU.
	DenseMVS = "replica-mvs"
)

// DenseBackend is what computes the dense points with options o: COLMAP
// on the GPU when o.GPU (a CUDA build and a GPU, not turned off), else
// pipeline/mvs on the CPU; "" when o.NoDense.
func DenseBackend(o Options) string {
	switch {
	case o.NoDense:
		return ""
	case o.GPU:
		return DenseColmap
	default:
		return DenseMVS
	}
}

// DenseSummary is what the dense stage made, saved as dense.json.
type DenseSummary struct {
	Backend string `json:"backend"` // DenseColmap or DenseMVS
	Points  int    `json:"points"`
	// Cropped is how many fused points lay beyond the photographed region
	// and were left out (DenseMVS only).
	Cropped int `json:"cropped,omitempty"`
	// FreeSpace is how many fused points other photos saw through and
	// that were dropped (DenseMVS only; see mvs.Options.FreeSpaceViews).
	FreeSpace int `json:"free_space_dropped,omitempty"`
	// Views is how many photos got a depth map; Skipped names the others
	// and why (DenseMVS only).
	Views   int          `json:"views,omitempty"`
	Skipped []DenseSkip  `json:"skipped,omitempty"`
	Width   int          `json:"width,omitempty"`  // working size of the depth maps
	Height  int          `json:"height,omitempty"` // (DenseMVS only)
	Timing  *DenseTiming `json:"timing,omitempty"`
}

// DenseSkip is a photo that got no depth map.
type DenseSkip struct {
	Photo  string `json:"photo"`
	Reason string `json:"reason"`
}

// DenseTiming splits the dense stage's time, in seconds.
type DenseTiming struct {
	Undistort float64 `json:"undistort"`
	Load      float64 `json:"load"`
	Depth     float64 `json:"depth"`
	Fusion    float64 `json:"fusion"`
}

// undistortShare is the share of the CPU dense stage's progress that
// undistortion stands for.
const undistortShare = 0.05

// denseStage makes dense.ply and dense.json with the backend o chooses.
func denseStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o Options) error {
	start := time.Now()
	ws := filepath.Join(env.Dir, "workspace")
	if err := runColmap(ctx, env, bin, "image_undistorter", []string{
		"--image_path", filepath.Join(env.Prev["prepare"], "images"),
		"--input_path", filepath.Join(env.Prev["mapping"], "sparse"),
		"--output_path", ws, "--output_type", "COLMAP",
		"--max_image_size", strconv.Itoa(o.Preset.MaxSide),
	}, 0); err != nil {
		return err
	}
	var sum *DenseSummary
	var err error
	if DenseBackend(o) == DenseColmap {
		sum, err = colmapDense(ctx, env, bin, o, ws)
	} else {
		env.Progress(undistortShare)
		sum, err = mvsDense(ctx, env, o, ws)
	}
	if err != nil {
		return err
	}
	if sum.Points == 0 {
		return pipeline.WithHint(fmt.Errorf("dense reconstruction kept no points"),
			"The photos may be too blurry or too alike for depth: run `replica check` on them")
	}
	if sum.Timing != nil {
		sum.Timing.Undistort = time.Since(start).Seconds() - sum.Timing.Load - sum.Timing.Depth - sum.Timing.Fusion
	}
	fmt.Fprintf(env.Log, "dense (%s): %d points\n", sum.Backend, sum.Points)
	if err := writeJSON(filepath.Join(env.Dir, "dense.json"), sum); err != nil {
		return err
	}
	return os.RemoveAll(ws)
}

// mvsDense runs pipeline/mvs on the undistorted workspace ws and writes
// its points, with normals and colours, to dense.ply.
func mvsDense(ctx context.Context, env *pipeline.Env, o Options, ws string) (*DenseSummary, error) {
	mo := mvs.DefaultOptions(o.Preset.Name)
	mo.Progress = func(done, total int) {
		if total > 0 {
			env.Progress(undistortShare + (1-undistortShare)*float64(done)/float64(total))
		}
	}
	fmt.Fprintf(env.Log, "replica-mvs: preset %s, working size %d px, %d neighbours, %d levels\n", o.Preset.Name, mo.MaxSize, mo.Neighbors, mo.Levels)
	cloud, st, err := mvs.Run(ctx, ws, &mo)
	sum := &DenseSummary{Backend: DenseMVS}
	if st != nil {
		sum.Views, sum.Width, sum.Height = st.Views-len(st.Skipped), st.Width, st.Height
		sum.Timing = &DenseTiming{Load: st.Load.Seconds(), Depth: st.Depth.Seconds(), Fusion: st.Fusion.Seconds()}
		sum.FreeSpace = st.FreeSpace
		for _, sk := range st.Skipped {
			sum.Skipped = append(sum.Skipped, DenseSkip{Photo: sk.Name, Reason: sk.Reason.Error()})
			fmt.Fprintf(env.Log, "skipped %s: %v\n", sk.Name, sk.Reason)
		}
		fmt.Fprintf(env.Log, "depth maps: %d views at %d×%d, %d pixels with a depth; load %.1f s, depth %.1f s, fusion %.1f s; %d fused points dropped as seen through\n",
			sum.Views, st.Width, st.Height, st.DepthPixels, st.Load.Seconds(), st.Depth.Seconds(), st.Fusion.Seconds(), st.FreeSpace)
	}
	if err != nil {
		return nil, err // an *mvs.InputError carries its hint
	}
	// The photographed region only: the room behind the part is seen at
	// grazing angles by a few photos, and its points are the least
	// accurate.
	n := cloud.Len()
	cloud = cropToFocus(env, cloud)
	sum.Cropped = n - cloud.Len()
	sum.Points = len(cloud.Points)
	f, err := os.Create(filepath.Join(env.Dir, "dense.ply"))
	if err != nil {
		return nil, err
	}
	err = mesh.WritePLY(f, &mesh.PLY{Cloud: *cloud, Comments: []string{"replica-mvs dense points"}}, mesh.BinaryLittleEndian)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return sum, err
}

// colmapDense computes a depth and normal map per photo with COLMAP's
// PatchMatch stereo on the GPU (geometric consistency on) and fuses them
// into dense.ply, points with normals and colours. The depth maps are
// removed with the workspace once fused: they are the bulk of a job's disk
// use and nothing reads them again.
func colmapDense(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, o Options, ws string) (*DenseSummary, error) {
	if err := runColmap(ctx, env, bin, "patch_match_stereo", []string{
		"--workspace_path", ws, "--workspace_format", "COLMAP",
		"--PatchMatchStereo.geom_consistency", "true",
		"--PatchMatchStereo.max_image_size", strconv.Itoa(o.Preset.MaxSide),
	}, 0); err != nil {
		return nil, err
	}
	dense := filepath.Join(env.Dir, "dense.ply")
	if err := runColmap(ctx, env, bin, "stereo_fusion", []string{
		"--workspace_path", ws, "--workspace_format", "COLMAP",
		"--input_type", "geometric", "--output_path", dense,
	}, 0); err != nil {
		return nil, err
	}
	n, err := plyVertices(dense)
	if err != nil {
		return nil, fmt.Errorf("stereo_fusion's output: %w", err)
	}
	return &DenseSummary{Backend: DenseColmap, Points: n}, nil
}
