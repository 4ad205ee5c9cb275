package local

import (
	"context"
	"fmt"
	"image/color"
	"io"
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
	// Cropped is how many dense points lay beyond the photographed region
	// (see focus) and were left out.
	Cropped int `json:"cropped,omitempty"`
	// Thinned is how many points the dense cloud had before it was thinned
	// to maxMeshPoints (0: it was not), ThinCell the cell it was thinned on.
	Thinned  int     `json:"thinned_from,omitempty"`
	ThinCell float64 `json:"thin_cell,omitempty"`
	// Dropped is how many vertices of the mesher's output were at NaN or
	// infinity and were removed with their faces.
	Dropped  int `json:"dropped_vertices,omitempty"`
	Vertices int `json:"vertices"`
	Faces    int `json:"faces"`
	Depth    int `json:"poisson_depth"`
	Trim     int `json:"poisson_trim"`
}

// Normals are estimated from this many nearest points; a point is an
// outlier when its mean distance to them exceeds outlierFactor times the
// median of that mean over all points.
const (
	normalNeighbours = 16
	outlierFactor    = 3
)

// maxMeshPoints caps the points given to the mesher: a denser cloud is
// thinned on a voxel grid first (a CPU dense stage fuses millions of
// points; Poisson's time and memory grow with them, and its octree at the
// depth this many points get resolves finer than the photos do).
const maxMeshPoints = 250_000

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
	if dense {
		n := cloud.Len()
		cloud = cropToFocus(env, cloud)
		s.Cropped = n - cloud.Len()
	}
	if n := cloud.Len(); n > maxMeshPoints {
		s.ThinCell = geom.CellForCount(cloud, maxMeshPoints)
		cloud = geom.VoxelDownsample(cloud, s.ThinCell)
		s.Thinned = n
		fmt.Fprintf(env.Log, "thinned %d points to %d on a %.3g grid\n", n, cloud.Len(), s.ThinCell)
	}
	env.Progress(0.05)
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
	m, err := readMesherOutput(out)
	if err != nil {
		return fmt.Errorf("poisson_mesher's output: %w", err)
	}
	if m.dropped > 0 {
		fmt.Fprintf(env.Log, "dropped %d vertices at NaN or infinity from poisson_mesher's output, with their faces\n", m.dropped)
		s.Dropped = m.dropped
		if err := writeMesh(out, m.PLY); err != nil {
			return err
		}
	}
	s.Vertices, s.Faces = len(m.Cloud.Points), len(m.Faces)
	if s.Faces == 0 {
		return pipeline.WithHint(fmt.Errorf("the mesher made an empty mesh from %d points", s.Points),
			"Too little of the part was reconstructed: take more photos with more overlap (`replica check` says where)")
	}
	os.Remove(points)
	fmt.Fprintf(env.Log, "meshed %d %s points (depth %d, trim %d): %d vertices, %d faces\n", s.Points, s.Source, s.Depth, s.Trim, s.Vertices, s.Faces)
	return writeJSON(filepath.Join(env.Dir, "mesh.json"), s)
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

// focusShare is the radius of the region kept for meshing, as a share of
// the photos' median distance from the point they look at: the part and
// the mat around it, not the room behind.
const focusShare = 0.6

// focus returns the point the photos look at — nearest, in the least
// squares sense, to their optical axes — and the radius of the region
// around it worth meshing; ok is false when the axes do not meet (fewer
// than 2 photos, or all looking the same way).
func focus(m *colmap.Model) (centre r3.Vec, radius float64, ok bool) {
	// Minimise Σ |(I − d dᵀ)(x − c)|² over x: Σ (I − d dᵀ) x = Σ (I − d dᵀ) c.
	var a [9]float64
	var b [3]float64
	var centres []r3.Vec
	for _, im := range m.Images {
		r := im.Rotation()
		d := [3]float64{r[6], r[7], r[8]} // the camera's z axis in the world
		c := im.Center()
		cv := [3]float64{c.X, c.Y, c.Z}
		for i := range 3 {
			for j := range 3 {
				p := -d[i] * d[j]
				if i == j {
					p++
				}
				a[3*i+j] += p
				b[i] += p * cv[j]
			}
		}
		centres = append(centres, c)
	}
	if len(centres) < 2 {
		return r3.Vec{}, 0, false
	}
	x, solved := geom.Solve3(a, b, 1e-9)
	if !solved {
		return r3.Vec{}, 0, false
	}
	centre = r3.Vec{X: x[0], Y: x[1], Z: x[2]}
	dist := make([]float64, len(centres))
	for i, c := range centres {
		dist[i] = r3.Norm(r3.Sub(c, centre))
	}
	slices.Sort(dist)
	radius = focusShare * dist[len(dist)/2]
	return centre, radius, radius > 0 && !math.IsInf(radius, 0)
}

// mesherOutput is a mesh read back from the mesher.
type mesherOutput struct {
	*mesh.PLY
	dropped int // non-finite vertices removed
}

// readMesherOutput reads the mesh COLMAP wrote, dropping the vertices it
// left at NaN (and the faces using them).
func readMesherOutput(path string) (*mesherOutput, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, dropped, err := mesh.ReadPLYDropNonFinite(f)
	if err != nil {
		return nil, err
	}
	return &mesherOutput{PLY: p, dropped: dropped}, nil
}

// writeMesh writes p to path as binary PLY, through a temporary file.
func writeMesh(path string, p *mesh.PLY) error {
	return writeFile(path, func(w io.Writer) error { return mesh.WritePLY(w, p, mesh.BinaryLittleEndian) })
}

// cropToFocus keeps the points of c within the region the photos look
// at (see focus), as the sparse model of the mapping stage places them, and
// logs what it left out; c is returned whole when the photos have no focus.
func cropToFocus(env *pipeline.Env, c *geom.PointCloud) *geom.PointCloud {
	m, err := colmap.ReadModel(filepath.Join(env.Prev["mapping"], "sparse"))
	if err != nil {
		return c
	}
	centre, radius, ok := focus(m)
	if !ok {
		return c
	}
	out := filterCloud(c, func(i int) bool { return r3.Norm(r3.Sub(c.Points[i], centre)) <= radius })
	fmt.Fprintf(env.Log, "kept the %d of %d points within %.3g of the point the photos look at\n", out.Len(), c.Len(), radius)
	return out
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
