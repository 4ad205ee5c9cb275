package mvs

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // COLMAP's image_undistorter writes JPEG by default
	_ "image/png"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Stats describe a dense reconstruction.
type Stats struct {
	Views         int    // registered photos in the sparse model
	Skipped       []Skip // photos that got no depth map
	Width, Height int    // working size of the first photo
	DepthPixels   int    // pixels with a depth, all depth maps together
	Points        int    // fused points
	FreeSpace     int    // fused points dropped as seen through (see Options.FreeSpaceViews)
	Load, Depth   time.Duration
	Fusion        time.Duration
}

// A Skip is a photo left out of dense reconstruction, and why.
type Skip struct {
	Name   string
	Reason error // an *InputError, or one wrapping ErrNoOverlap or ErrNoTexture
}

// Run reconstructs the surface seen by the photos of a COLMAP undistorted
// workspace, as colmap image_undistorter writes it: the images under
// workspace/images and the sparse model, with PINHOLE or SIMPLE_PINHOLE
// cameras, under workspace/sparse. It downsamples the images to the working
// size, picks source views for each, estimates each view's depth map and
// fuses them. A photo that overlaps no other, sees too few sparse points
// or has no texture is skipped and listed in the Stats.
//
// Errors about the input are *InputErrors: fewer than 2 photos
// (ErrTooFewViews), no photo overlapping another (ErrNoOverlap), no
// texture anywhere (ErrNoTexture) and no depth confirmed by other views
// (ErrNoSurface). A cancelled ctx gives ctx.Err().
func Run(ctx context.Context, workspace string, opts *Options) (*geom.PointCloud, *Stats, error) {
	o := opts.resolved()
	model, err := colmap.ReadModel(filepath.Join(workspace, "sparse"))
	if err != nil {
		return nil, nil, fmt.Errorf("mvs: %w", err)
	}
	st := &Stats{Views: len(model.Images)}
	if len(model.Images) < 2 {
		return nil, st, &InputError{Kind: ErrTooFewViews,
			Msg:  fmt.Sprintf("dense reconstruction needs at least 2 registered photos; the model has %d", len(model.Images)),
			Hint: "Add 20 or more overlapping photos taken all around the part"}
	}
	start := time.Now()
	views, err := loadViews(ctx, workspace, model, o.MaxSize, o.Workers, false)
	if err != nil {
		return nil, st, err
	}
	st.Load = time.Since(start)
	st.Width, st.Height = views[0].W, views[0].H
	points := make([]r3.Vec, len(model.Points))
	for i, p := range model.Points {
		points[i] = p.XYZ
	}

	// Matching uses the best Neighbors views; fusion checks twice as many,
	// since a depth confirmed by more views is more certain.
	nbrs := SelectNeighbors(views, points, 2*o.Neighbors)
	total := len(views) + 1
	if o.GeoIterations > 0 {
		total += len(views)
	}
	start = time.Now()
	maps := make([]*DepthMap, len(views))
	for i, v := range views {
		if err := ctx.Err(); err != nil {
			return nil, st, err
		}
		dm, skip := depthOf(ctx, i, views, nbrs[i], points, &o)
		switch {
		case errors.Is(skip, context.Canceled) || errors.Is(skip, context.DeadlineExceeded):
			return nil, st, skip
		case skip != nil && !isInput(skip):
			return nil, st, skip
		case skip != nil:
			st.Skipped = append(st.Skipped, Skip{Name: v.Name, Reason: skip})
		default:
			maps[i] = dm
			st.DepthPixels += dm.Valid()
		}
		if o.Progress != nil {
			o.Progress(i+1, total)
		}
	}
	if err := allSkipped(st); err != nil {
		st.Depth = time.Since(start)
		return nil, st, err
	}
	if o.GeoIterations > 0 {
		refined := make([]*DepthMap, len(maps))
		it := o.Iterations + (o.Levels-1)*o.FineIterations
		for i := range views {
			if maps[i] != nil {
				near, far, _ := DepthRange(views[i], points)
				dm, err := geoRefine(ctx, i, views, sourcesOf(nbrs[i], o.Neighbors), maps, near, far, it, &o)
				if err != nil {
					return nil, st, err
				}
				refined[i] = dm
			}
			if o.Progress != nil {
				o.Progress(len(views)+i+1, total)
			}
		}
		maps = refined
	}
	st.Depth = time.Since(start)

	start = time.Now()
	fuseWith := make([][]int, len(views))
	for i, ns := range nbrs {
		for _, n := range ns {
			fuseWith[i] = append(fuseWith[i], n.View)
		}
	}
	cloud, err := Fuse(ctx, views, maps, fuseWith, &o)
	if err != nil {
		st.Fusion = time.Since(start)
		if errors.Is(err, ErrNoSurface) && st.DepthPixels == 0 {
			return nil, st, noTexture(len(views))
		}
		return nil, st, err
	}
	cloud, st.FreeSpace, err = carveFreeSpace(ctx, cloud, views, maps, &o)
	st.Fusion = time.Since(start)
	if err != nil {
		return nil, st, err
	}
	st.Points = cloud.Len()
	if o.Progress != nil {
		o.Progress(total, total)
	}
	return cloud, st, nil
}

func isInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

func noTexture(n int) error {
	return &InputError{Kind: ErrNoTexture,
		Msg:  fmt.Sprintf("no surface found: the photos have no texture to match (%d photos)", n),
		Hint: "Light the part evenly and give plain surfaces texture: a matte spray, powder or stickers"}
}

// depthOf estimates the depth map of view i, or says why it cannot.
func depthOf(ctx context.Context, i int, views []*View, nbrs []Neighbor, points []r3.Vec, o *Options) (*DepthMap, error) {
	v := views[i]
	if len(nbrs) == 0 {
		return nil, &InputError{Kind: ErrNoOverlap, Msg: fmt.Sprintf("photo %s overlaps no other photo", v.Name),
			Hint: "Take photos that overlap by at least half, moving around the part in small steps"}
	}
	near, far, ok := DepthRange(v, points)
	if !ok {
		return nil, &InputError{Kind: ErrNoOverlap, Msg: fmt.Sprintf("photo %s sees fewer than %d points of the sparse model", v.Name, minShared),
			Hint: "Take photos that overlap by at least half, moving around the part in small steps"}
	}
	return EstimateDepth(ctx, i, views, sourcesOf(nbrs, o.Neighbors), near, far, o)
}

// sourcesOf returns the views of the first n neighbours: those a depth
// map is matched against.
func sourcesOf(nbrs []Neighbor, n int) []int {
	src := make([]int, 0, n)
	for _, nb := range nbrs[:min(len(nbrs), n)] {
		src = append(src, nb.View)
	}
	return src
}

// allSkipped returns the error for a run in which every view was skipped,
// nil otherwise.
func allSkipped(st *Stats) error {
	if len(st.Skipped) < st.Views {
		return nil
	}
	textureless := 0
	for _, s := range st.Skipped {
		if errors.Is(s.Reason, ErrNoTexture) {
			textureless++
		}
	}
	if textureless == len(st.Skipped) {
		return noTexture(st.Views)
	}
	if textureless == 0 {
		return &InputError{Kind: ErrNoOverlap, Msg: fmt.Sprintf("none of the %d photos overlaps another", st.Views),
			Hint: "Take photos that overlap by at least half, moving around the part in small steps"}
	}
	return &InputError{Kind: ErrNoSurface, Msg: fmt.Sprintf("no surface found: of %d photos, %d have no texture and the others overlap no other photo", st.Views, textureless),
		Hint: "Light the part evenly, give plain surfaces texture, and take overlapping photos all around it"}
}

// loadViews reads the model's images, in parallel, at most maxSize pixels
// on their longer side, without colours when grayOnly.
func loadViews(ctx context.Context, workspace string, m *colmap.Model, maxSize, workers int, grayOnly bool) ([]*View, error) {
	views := make([]*View, len(m.Images))
	errs := make([]error, len(m.Images))
	if err := parallelFor(ctx, 0, len(views), workers, func() func(int) {
		return func(i int) {
			views[i], errs[i] = loadView(workspace, m.Images[i], m.Cameras[m.Images[i].CameraID], maxSize)
			if grayOnly && views[i] != nil {
				views[i].RGB = nil
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return views, nil
}

// loadView reads one image and its camera and scales it to maxSize.
func loadView(workspace string, im *colmap.Image, cam *colmap.Camera, maxSize int) (*View, error) {
	v := &View{Name: im.Name}
	switch cam.Model {
	case "PINHOLE":
		copy(v.K[:], cam.Params)
	case "SIMPLE_PINHOLE":
		v.K = [4]float64{cam.Params[0], cam.Params[0], cam.Params[1], cam.Params[2]}
	default:
		return nil, fmt.Errorf("mvs: photo %s has a %s camera; dense reconstruction needs the undistorted (PINHOLE) workspace of colmap image_undistorter", im.Name, cam.Model)
	}
	v.R = im.Rotation()
	v.T = [3]float64{im.T.X, im.T.Y, im.T.Z}
	f, err := os.Open(filepath.Join(workspace, "images", filepath.FromSlash(im.Name)))
	if err != nil {
		return nil, fmt.Errorf("mvs: %w", err)
	}
	img, _, err := image.Decode(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("mvs: photo %s: %w", im.Name, err)
	}
	b := img.Bounds()
	if b.Dx() != cam.Width || b.Dy() != cam.Height {
		return nil, fmt.Errorf("mvs: photo %s is %d×%d, its camera %d×%d", im.Name, b.Dx(), b.Dy(), cam.Width, cam.Height)
	}
	v.W, v.H = b.Dx(), b.Dy()
	v.Gray, v.RGB = pixels(img)
	if err := v.Check(); err != nil {
		return nil, err
	}
	return v.Scaled(maxSize), nil
}

// pixels returns an image's grey values (Rec. 601 luma, as JPEG's Y) in
// [0, 1] and its 8-bit RGB.
func pixels(img image.Image) ([]float32, []uint8) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	gray := make([]float32, w*h)
	rgb := make([]uint8, 3*w*h)
	if yc, ok := img.(*image.YCbCr); ok {
		for y := range h {
			for x := range w {
				yi := yc.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := yc.COffset(b.Min.X+x, b.Min.Y+y)
				Y := yc.Y[yi]
				r, g, bl := color.YCbCrToRGB(Y, yc.Cb[ci], yc.Cr[ci])
				p := y*w + x
				gray[p] = float32(Y) / 255
				rgb[3*p], rgb[3*p+1], rgb[3*p+2] = r, g, bl
			}
		}
		return gray, rgb
	}
	for y := range h {
		for x := range w {
			c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			p := y*w + x
			gray[p] = (0.299*float32(c.R) + 0.587*float32(c.G) + 0.114*float32(c.B)) / 255
			rgb[3*p], rgb[3*p+1], rgb[3*p+2] = c.R, c.G, c.B
		}
	}
	return gray, rgb
}

// LoadWorkspace reads the photos and cameras of an undistorted COLMAP
// workspace (colmap image_undistorter's output), each photo scaled to at
// most maxSize pixels on its longer side (0: as it is), with grey values
// only (RGB nil).
func LoadWorkspace(ctx context.Context, workspace string, maxSize, workers int) ([]*View, error) {
	model, err := colmap.ReadModel(filepath.Join(workspace, "sparse"))
	if err != nil {
		return nil, fmt.Errorf("mvs: %w", err)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return loadViews(ctx, workspace, model, maxSize, workers, true)
}
