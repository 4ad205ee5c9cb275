package local

import (
	"context"
	"encoding/json"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline"
	"github.com/replica3d/replica/pipeline/colmap"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mesh"
)

// MeshSummary is what the mesh stage made, saved as mesh.json.
type MeshSummary struct {
	Source   string `json:"source"` // "dense" or "sparse": the points meshed
	Points   int    `json:"points"` // points given to the mesher, after outliers were removed
	Outliers int    `json:"outliers_removed"`
	Vertices int    `json:"vertices"`
	Faces    int    `json:"faces"`
	Depth    int    `json:"poisson_depth"`
	Trim     int    `json:"poisson_trim"`
}

// Normals are estimated from this many nearest points; a point is an
// outlier when its mean distance to them exceeds outlierFactor times the
// median of that mean over all points.
const (
	normalNeighbours = 16
	outlierFactor    = 3
)

// poissonDepth is the octree depth for n points: deep enough that an
// octree cell holds a few points on the surface, so a sparse cloud is not
// meshed into noise and a dense one keeps its detail (COLMAP's default of
// 13 suits tens of millions of points).
func poissonDepth(n int) int {
	return min(12, max(6, int(math.Log2(float64(max(n, 1))))/2+1))
}

// poissonTrim is the density below which mesh vertices are trimmed:
// Poisson closes every surface, and trimming removes the surface it
// invented where there were no points. A sparse cloud is thin everywhere,
// so it is trimmed less.
func poissonTrim(source string) int {
	if source == "sparse" {
		return 5
	}
	return 7
}

// meshStage meshes the dense points when the dense stage ran and the
// sparse model's points otherwise: outliers removed, normals estimated
// where the points have none (oriented toward a photo that sees them),
// then COLMAP's screened Poisson mesher. COLMAP exits 0 with an empty mesh
// when normals are missing or the trim is too high, so the mesh is read
// back and refused when it has no faces.
func meshStage(ctx context.Context, env *pipeline.Env, bin *colmap.Binary, dense bool) error {
	var (
		cloud *geom.PointCloud
		err   error
		s     MeshSummary
	)
	if dense {
		s.Source = "dense"
		cloud, err = denseCloud(ctx, filepath.Join(env.Prev["dense"], "dense.ply"))
	} else {
		s.Source = "sparse"
		cloud, err = sparseCloud(ctx, filepath.Join(env.Prev["mapping"], "sparse"))
	}
	if err != nil {
		return err
	}
	before := cloud.Len()
	cloud = withoutOutliers(cloud)
	s.Outliers = before - cloud.Len()
	s.Points = cloud.Len()
	if s.Points < 100 {
		return pipeline.WithHint(fmt.Errorf("%d %s points to mesh, need at least 100", s.Points, s.Source),
			"Too little of the part was reconstructed: take more photos with more overlap (`replica check` says where)")
	}
	env.Progress(0.2)
	points := filepath.Join(env.Dir, "points.ply")
	if err := writeCloud(points, cloud, "replica points with normals, for meshing"); err != nil {
		return err
	}
	s.Depth, s.Trim = poissonDepth(s.Points), poissonTrim(s.Source)
	out := filepath.Join(env.Dir, "mesh.ply")
	if err := runColmap(ctx, env, bin, "poisson_mesher", []string{
		"--input_path", points, "--output_path", out,
		"--PoissonMeshing.depth", strconv.Itoa(s.Depth),
		"--PoissonMeshing.trim", strconv.Itoa(s.Trim),
	}, 0); err != nil {
		return err
	}
	m, err := mesh.ReadPLYFile(out)
	if err != nil {
		return fmt.Errorf("poisson_mesher's output: %w", err)
	}
	s.Vertices, s.Faces = len(m.Cloud.Points), len(m.Faces)
	if s.Faces == 0 {
		return pipeline.WithHint(fmt.Errorf("the mesher made an empty mesh from %d points", s.Points),
			"Too little of the part was reconstructed: take more photos with more overlap (`replica check` says where)")
	}
	os.Remove(points)
	b, _ := json.MarshalIndent(s, "", "  ")
	fmt.Fprintf(env.Log, "meshed %d %s points (depth %d, trim %d): %d vertices, %d faces\n", s.Points, s.Source, s.Depth, s.Trim, s.Vertices, s.Faces)
	return os.WriteFile(filepath.Join(env.Dir, "mesh.json"), b, 0o644)
}

// sparseCloud returns the points of a sparse model seen by at least three
// photos, with normals from their neighbours, each turned toward the first
// photo that sees it.
func sparseCloud(ctx context.Context, dir string) (*geom.PointCloud, error) {
	m, err := colmap.ReadModel(dir)
	if err != nil {
		return nil, err
	}
	centre := map[uint32]geom.Vec{}
	for _, im := range m.Images {
		centre[im.ID] = im.Center()
	}
	c := &geom.PointCloud{}
	var seen []geom.Vec
	for _, p := range m.Points {
		cam, ok := centre[p.Seen]
		if p.Track < 3 || !ok {
			continue
		}
		c.Points = append(c.Points, p.XYZ)
		c.Colors = append(c.Colors, color.NRGBA{p.RGB[0], p.RGB[1], p.RGB[2], 255})
		seen = append(seen, cam)
	}
	c.Normals, err = geom.EstimateNormals(ctx, c.Points, normalNeighbours, func(i int) geom.Vec { return r3.Sub(seen[i], c.Points[i]) })
	if err != nil {
		return nil, err
	}
	return withNormals(c), nil
}

// denseCloud reads fused points; normals are estimated when it has none.
func denseCloud(ctx context.Context, path string) (*geom.PointCloud, error) {
	p, err := mesh.ReadPLYFile(path)
	if err != nil {
		return nil, err
	}
	c := &p.Cloud
	if len(c.Normals) == 0 {
		if c.Normals, err = geom.EstimateNormals(ctx, c.Points, normalNeighbours, nil); err != nil {
			return nil, err
		}
	}
	return withNormals(c), nil
}

// withNormals drops the points whose normal could not be estimated.
func withNormals(c *geom.PointCloud) *geom.PointCloud {
	return filterCloud(c, func(i int) bool { return c.Normals[i] != geom.Vec{} })
}

// withoutOutliers removes points far from their neighbours: stray
// triangulations Poisson would wrap in a blob of surface.
func withoutOutliers(c *geom.PointCloud) *geom.PointCloud {
	n := c.Len()
	if n <= normalNeighbours {
		return c
	}
	tree := geom.NewKDTree(c.Points)
	mean := make([]float64, n)
	var idx []int
	for i, p := range c.Points {
		idx = tree.KNearest(p, normalNeighbours+1, idx)
		var sum float64
		for _, j := range idx {
			sum += r3.Norm(r3.Sub(c.Points[j], p))
		}
		mean[i] = sum / float64(len(idx)-1)
	}
	sorted := slices.Clone(mean)
	slices.Sort(sorted)
	limit := outlierFactor * sorted[n/2]
	return filterCloud(c, func(i int) bool { return mean[i] <= limit })
}

// filterCloud returns the points of c keep accepts.
func filterCloud(c *geom.PointCloud, keep func(i int) bool) *geom.PointCloud {
	out := &geom.PointCloud{}
	for i := range c.Points {
		if !keep(i) {
			continue
		}
		out.Points = append(out.Points, c.Points[i])
		if len(c.Normals) > 0 {
			out.Normals = append(out.Normals, c.Normals[i])
		}
		if len(c.Colors) > 0 {
			out.Colors = append(out.Colors, c.Colors[i])
		}
	}
	return out
}

// plyVertices returns how many points a PLY file holds.
func plyVertices(path string) (int, error) {
	p, err := mesh.ReadPLYFile(path)
	if err != nil {
		return 0, err
	}
	return p.Cloud.Len(), nil
}

// writeCloud writes c as binary PLY.
func writeCloud(path string, c *geom.PointCloud, comment string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := mesh.WritePLY(f, &mesh.PLY{Cloud: *c, Comments: []string{comment}}, mesh.BinaryLittleEndian); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
