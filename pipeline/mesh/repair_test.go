package mesh

import (
	"bytes"
	"cmp"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// sphereMesh returns an icosphere of radius r about the origin: the regular
// icosahedron with each face split in four level times and the new
// vertices pushed onto the sphere, 20·4^level faces counter-clockwise seen
// from outside.
func sphereMesh(r float64, level int) *geom.Mesh {
	t := (1 + math.Sqrt(5)) / 2 // the icosahedron's vertices are the cyclic permutations of (0, ±1, ±t)
	m := &geom.Mesh{Vertices: []geom.Vec{
		{X: -1, Y: t}, {X: 1, Y: t}, {X: -1, Y: -t}, {X: 1, Y: -t},
		{Y: -1, Z: t}, {Y: 1, Z: t}, {Y: -1, Z: -t}, {Y: 1, Z: -t},
		{X: t, Z: -1}, {X: t, Z: 1}, {X: -t, Z: -1}, {X: -t, Z: 1},
	}, Faces: [][3]int32{
		{0, 11, 5}, {0, 5, 1}, {0, 1, 7}, {0, 7, 10}, {0, 10, 11},
		{1, 5, 9}, {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
		{3, 9, 4}, {3, 4, 2}, {3, 2, 6}, {3, 6, 8}, {3, 8, 9},
		{4, 9, 5}, {2, 4, 11}, {6, 2, 10}, {8, 6, 7}, {9, 8, 1},
	}}
	for range level {
		mid := make(map[uint64]int32, 3*len(m.Faces)/2)
		at := func(a, b int32) int32 {
			k := uint64(min(a, b))<<32 | uint64(max(a, b))
			if i, ok := mid[k]; ok {
				return i
			}
			i := int32(len(m.Vertices))
			m.Vertices = append(m.Vertices, r3.Add(m.Vertices[a], m.Vertices[b]))
			mid[k] = i
			return i
		}
		faces := make([][3]int32, 0, 4*len(m.Faces))
		for _, f := range m.Faces {
			a, b, c := at(f[0], f[1]), at(f[1], f[2]), at(f[2], f[0])
			faces = append(faces, [3]int32{f[0], a, c}, [3]int32{f[1], b, a}, [3]int32{f[2], c, b}, [3]int32{a, b, c})
		}
		m.Faces = faces
		for i, v := range m.Vertices {
			m.Vertices[i] = r3.Scale(1/r3.Norm(v), v)
		}
	}
	for i, v := range m.Vertices {
		m.Vertices[i] = r3.Scale(r/r3.Norm(v), v)
	}
	return m
}

// gridBox returns the box [0,s.X]×[0,s.Y]×[0,s.Z] with each side an n×n
// grid of squares split in two triangles: 12n² faces, counter-clockwise
// seen from outside, sharing the vertices along the box's edges.
func gridBox(s geom.Vec, n int) *geom.Mesh { return gridBoxN(s, [3]int{n, n, n}) }

// gridBoxN is gridBox with n[k] divisions along axis k.
func gridBoxN(s geom.Vec, n [3]int) *geom.Mesh {
	size := [3]float64{s.X, s.Y, s.Z}
	// Each side: the axis it is normal to, at 0 or the far end (1), and
	// the grid's axes u, v with u × v pointing out.
	sides := [6]struct{ axis, at, u, v int }{
		{2, 0, 1, 0}, {2, 1, 0, 1}, // z = 0 (y × x = −z), z = s.Z
		{1, 0, 0, 2}, {1, 1, 2, 0}, // y = 0 (x × z = −y), y = s.Y
		{0, 0, 2, 1}, {0, 1, 1, 2}, // x = 0 (z × y = −x), x = s.X
	}
	m := &geom.Mesh{}
	index := make(map[[3]int]int32)
	vertex := func(axis, at, u, i, v, j int) int32 {
		var c [3]int
		c[axis], c[u], c[v] = at*n[axis], i, j
		k, ok := index[c]
		if !ok {
			k = int32(len(m.Vertices))
			m.Vertices = append(m.Vertices, geom.Vec{
				X: size[0] * float64(c[0]) / float64(n[0]),
				Y: size[1] * float64(c[1]) / float64(n[1]),
				Z: size[2] * float64(c[2]) / float64(n[2]),
			})
			index[c] = k
		}
		return k
	}
	for _, sd := range sides {
		for i := range n[sd.u] {
			for j := range n[sd.v] {
				a := vertex(sd.axis, sd.at, sd.u, i, sd.v, j)
				b := vertex(sd.axis, sd.at, sd.u, i+1, sd.v, j)
				c := vertex(sd.axis, sd.at, sd.u, i+1, sd.v, j+1)
				d := vertex(sd.axis, sd.at, sd.u, i, sd.v, j+1)
				m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
			}
		}
	}
	return m
}

// tetra returns the tetrahedron on the origin and the three unit points.
func tetra() *geom.Mesh {
	return &geom.Mesh{
		Vertices: []geom.Vec{{}, {X: 1}, {Y: 1}, {Z: 1}},
		Faces:    [][3]int32{{0, 2, 1}, {0, 1, 3}, {0, 3, 2}, {1, 2, 3}},
	}
}

// transformed returns a copy of m with every vertex mapped by f; when f
// reverses orientation (a reflection), so must reverse.
func transformed(m *geom.Mesh, f func(geom.Vec) geom.Vec, reverse bool) *geom.Mesh {
	out := &geom.Mesh{Faces: slices.Clone(m.Faces)}
	for _, p := range m.Vertices {
		out.Vertices = append(out.Vertices, f(p))
	}
	if reverse {
		for i, t := range out.Faces {
			out.Faces[i] = [3]int32{t[0], t[2], t[1]}
		}
	}
	return out
}

func shifted(m *geom.Mesh, d geom.Vec) *geom.Mesh {
	return transformed(m, func(p geom.Vec) geom.Vec { return r3.Add(p, d) }, false)
}

// without returns m without the faces for which drop is true, and how many
// it dropped. The vertices stay.
func without(m *geom.Mesh, drop func(i int, centroid geom.Vec) bool) (*geom.Mesh, int) {
	out := &geom.Mesh{Vertices: m.Vertices}
	for i, f := range m.Faces {
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		if !drop(i, r3.Scale(1.0/3, r3.Add(a, r3.Add(b, c)))) {
			out.Faces = append(out.Faces, f)
		}
	}
	return out, len(m.Faces) - len(out.Faces)
}

// polyVolume returns the volume of a closed mesh as the sum of the signed
// tetrahedra from the origin to its faces.
func polyVolume(m *geom.Mesh) float64 {
	var sum float64
	for _, f := range m.Faces {
		sum += r3.Dot(m.Vertices[f[0]], r3.Cross(m.Vertices[f[1]], m.Vertices[f[2]]))
	}
	return sum / 6
}

func mustRepair(tb testing.TB, m *geom.Mesh, o *RepairOptions) (*geom.Mesh, *RepairReport) {
	tb.Helper()
	out, rep, err := Repair(m, o)
	if err != nil {
		tb.Fatalf("Repair: %v", err)
	}
	return out, rep
}

// checkClosed fails unless out is watertight, as the report says, with a
// positive volume within rel of want that the report gives too.
func checkClosed(tb testing.TB, out *geom.Mesh, rep *RepairReport, want, rel float64) {
	tb.Helper()
	topo := out.Topology()
	if topo.BoundaryEdges != 0 || topo.NonManifoldEdges != 0 || topo.InconsistentEdges != 0 || topo.DegenerateFaces != 0 {
		tb.Errorf("repaired mesh: %+v, want no boundary, non-manifold, inconsistent or degenerate faces", topo)
	}
	if !rep.Watertight || !topo.Watertight() {
		tb.Errorf("Watertight = %v, Topology().Watertight() = %v, want true", rep.Watertight, topo.Watertight())
	}
	if rep.TrianglesAfter != len(out.Faces) {
		tb.Errorf("TrianglesAfter = %d, want %d", rep.TrianglesAfter, len(out.Faces))
	}
	v := out.SignedVolume()
	if v != rep.Volume {
		tb.Errorf("Volume = %v, want %v", rep.Volume, v)
	}
	if !(v > 0) || math.Abs(v-want) > rel*want {
		tb.Errorf("volume %v, want %v within %g%%", v, want, 100*rel)
	}
}

func TestRepairIntact(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *geom.Mesh
		want float64 // volume
	}{
		{"sphere", sphereMesh(20, 3), polyVolume(sphereMesh(20, 3))},
		{"box", gridBox(geom.Vec{X: 10, Y: 20, Z: 30}, 10), 10 * 20 * 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := mustRepair(t, tc.m, nil)
			checkClosed(t, out, rep, tc.want, 1e-12)
			if !slices.Equal(out.Vertices, tc.m.Vertices) || !slices.Equal(out.Faces, tc.m.Faces) {
				t.Errorf("Repair changed an intact mesh")
			}
			want := RepairReport{TrianglesBefore: len(tc.m.Faces), TrianglesAfter: len(tc.m.Faces), Watertight: true, Volume: rep.Volume}
			if *rep != want {
				t.Errorf("report %+v, want %+v", *rep, want)
			}
			if c := out.Topology().EulerCharacteristic(); c != 2 {
				t.Errorf("Euler characteristic %d, want 2", c)
			}
		})
	}
}

func TestRepairHoles(t *testing.T) {
	sphere := sphereMesh(20, 3)
	box := gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 10)
	near := func(c geom.Vec, r float64) func(int, geom.Vec) bool {
		p := r3.Scale(20, r3.Unit(c))
		return func(_ int, x geom.Vec) bool { return r3.Norm(r3.Sub(x, p)) < r }
	}
	for _, tc := range []struct {
		name             string
		m                *geom.Mesh
		drop             func(int, geom.Vec) bool
		minDrop, maxDrop int
		holes            int
		want             float64 // intact volume
		rel              float64 // tolerance on the volume, 1 % when 0
	}{
		{"sphere/1 face", sphere, func(i int, _ geom.Vec) bool { return i == 100 }, 1, 1, 1, polyVolume(sphere), 0},
		{"sphere/ring", sphere, near(geom.Vec{X: 1, Y: 2, Z: 3}, 3.5), 8, 14, 1, polyVolume(sphere), 0},
		{"sphere/3 holes", sphere, func(i int, x geom.Vec) bool {
			return i == 100 || near(geom.Vec{X: 1, Y: 2, Z: 3}, 3.5)(i, x) || near(geom.Vec{X: -3, Y: 1, Z: -1}, 5)(i, x)
		}, 20, 40, 3, polyVolume(sphere), 0},
		{"box/patch", box, func(_ int, x geom.Vec) bool {
			return x.Z == 10 && x.X > 2 && x.X < 9 && x.Y > 2 && x.Y < 9
		}, 98, 98, 1, 1000, 0},
		{"box/L patch", box, func(_ int, x geom.Vec) bool {
			return x.Z == 0 && x.X > 1 && x.X < 9 && x.Y > 1 && x.Y < 9 && !(x.X > 5 && x.Y > 5)
		}, 96, 96, 1, 1000, 0},
		// The loop around the corner lies on three planes: the fan from
		// where they meet restores the corner exactly (ear clipping the
		// skew loop would cut off up to the 3³ corner cube, 2.7 %).
		{"box/around a corner", box, func(_ int, x geom.Vec) bool {
			return x.X > 7 && x.Y > 7 && x.Z > 7
		}, 54, 54, 1, 1000, 1e-9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, n := without(tc.m, tc.drop)
			if n < tc.minDrop || n > tc.maxDrop {
				t.Fatalf("dropped %d faces, want %d to %d", n, tc.minDrop, tc.maxDrop)
			}
			if b := m.Topology().BoundaryEdges; b == 0 {
				t.Fatal("no hole made")
			}
			out, rep := mustRepair(t, m, nil)
			checkClosed(t, out, rep, tc.want, cmp.Or(tc.rel, 0.01))
			if rep.HolesFilled != tc.holes || rep.HolesLeftOpen != 0 {
				t.Errorf("HolesFilled, HolesLeftOpen = %d, %d, want %d, 0", rep.HolesFilled, rep.HolesLeftOpen, tc.holes)
			}
			if rep.FacesFlipped != 0 || rep.FragmentsRemoved != 0 || rep.VerticesWelded != 0 {
				t.Errorf("report %+v, want nothing but holes filled", *rep)
			}
		})
	}
}

func TestRepairMaxHoleEdges(t *testing.T) {
	m, _ := without(gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 10), func(_ int, x geom.Vec) bool {
		return x.Z == 10 && x.X > 2 && x.X < 9 && x.Y > 2 && x.Y < 9 // a loop of 28 edges
	})
	for _, limit := range []int{-1, 27} {
		out, rep := mustRepair(t, m, &RepairOptions{MaxHoleEdges: limit})
		if rep.HolesFilled != 0 || rep.HolesLeftOpen != 1 || rep.Watertight || len(out.Faces) != len(m.Faces) {
			t.Errorf("MaxHoleEdges %d: report %+v, want the hole left open", limit, *rep)
		}
	}
	_, rep := mustRepair(t, m, &RepairOptions{MaxHoleEdges: 28})
	if rep.HolesFilled != 1 || !rep.Watertight {
		t.Errorf("MaxHoleEdges 28: report %+v, want the hole filled", *rep)
	}
}

func TestRepairFlipped(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *geom.Mesh
		want float64
	}{
		{"sphere", sphereMesh(20, 3), polyVolume(sphereMesh(20, 3))},
		{"box", gridBox(geom.Vec{X: 10, Y: 20, Z: 30}, 10), 6000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 1))
			m := &geom.Mesh{Vertices: tc.m.Vertices, Faces: slices.Clone(tc.m.Faces)}
			n := len(m.Faces) / 20
			for _, i := range rng.Perm(len(m.Faces))[:n] {
				f := m.Faces[i]
				m.Faces[i] = [3]int32{f[0], f[2], f[1]}
			}
			if got := m.Topology().InconsistentEdges; got == 0 {
				t.Fatal("flipping made no inconsistent edge")
			}
			out, rep := mustRepair(t, m, nil)
			checkClosed(t, out, rep, tc.want, 1e-9)
			if rep.FacesFlipped != n {
				t.Errorf("FacesFlipped = %d, want %d", rep.FacesFlipped, n)
			}
			if !slices.Equal(out.Faces, tc.m.Faces) {
				t.Errorf("faces differ from the intact mesh's")
			}
		})
	}
}

func TestRepairInsideOut(t *testing.T) {
	for _, m := range []*geom.Mesh{sphereMesh(20, 2), gridBox(geom.Vec{X: 1, Y: 2, Z: 3}, 4), tetra()} {
		want := polyVolume(m)
		in := transformed(m, func(p geom.Vec) geom.Vec { return p }, true)
		out, rep := mustRepair(t, in, nil)
		checkClosed(t, out, rep, want, 1e-9)
		if rep.FacesFlipped != len(m.Faces) {
			t.Errorf("FacesFlipped = %d, want all %d", rep.FacesFlipped, len(m.Faces))
		}
	}
}

// soup returns m's triangles each with its own three vertices, as an STL
// file gives them.
func soup(m *geom.Mesh) *geom.Mesh {
	out := &geom.Mesh{}
	for _, f := range m.Faces {
		n := int32(len(out.Vertices))
		out.Vertices = append(out.Vertices, m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]])
		out.Faces = append(out.Faces, [3]int32{n, n + 1, n + 2})
	}
	return out
}

func TestRepairTriangleSoup(t *testing.T) {
	for _, m := range []*geom.Mesh{sphereMesh(20, 3), gridBox(geom.Vec{X: 10, Y: 20, Z: 30}, 10)} {
		out, rep := mustRepair(t, soup(m), nil)
		checkClosed(t, out, rep, polyVolume(m), 1e-12)
		if len(out.Vertices) != len(m.Vertices) || rep.VerticesWelded != 3*len(m.Faces)-len(m.Vertices) {
			t.Errorf("%d vertices, VerticesWelded = %d; want %d, %d", len(out.Vertices), rep.VerticesWelded,
				len(m.Vertices), 3*len(m.Faces)-len(m.Vertices))
		}
	}
	// Coordinates off by less than the tolerance weld as well.
	rng := rand.New(rand.NewPCG(1, 2))
	m := soup(sphereMesh(20, 3))
	for i, p := range m.Vertices {
		m.Vertices[i] = r3.Add(p, geom.Vec{X: 1e-6 * (rng.Float64() - 0.5), Y: 1e-6 * (rng.Float64() - 0.5)})
	}
	out, rep := mustRepair(t, m, nil)
	checkClosed(t, out, rep, polyVolume(sphereMesh(20, 3)), 1e-6)
}

// tJunctionCube returns the unit cube whose top side is a fan of three
// triangles about M = (0.5, 0, 1), the middle of its front top edge, while
// the front side's two triangles run along that edge without M.
func tJunctionCube() *geom.Mesh {
	m := cube(1)
	m.Vertices = append(m.Vertices, geom.Vec{X: 0.5, Z: 1}) // vertex 8
	// The top quad is {4, 5, 7, 6} (vertex i has x = bit 0, y = bit 1, z =
	// bit 2): replace its two triangles, faces 2 and 3.
	m.Faces = slices.Delete(m.Faces, 2, 4)
	m.Faces = append(m.Faces, [3]int32{8, 5, 7}, [3]int32{8, 7, 6}, [3]int32{8, 6, 4})
	return m
}

func TestRepairTJunction(t *testing.T) {
	m := tJunctionCube()
	if topo := m.Topology(); topo.BoundaryEdges != 3 {
		t.Fatalf("test mesh has %d boundary edges, want 3", topo.BoundaryEdges)
	}
	out, rep := mustRepair(t, m, nil)
	checkClosed(t, out, rep, 1, 1e-12)
	if rep.TJunctionsSplit != 1 || rep.HolesFilled != 0 || len(out.Faces) != 14 {
		t.Errorf("report %+v, want one T-junction split, no hole, 14 faces", *rep)
	}

	// A sliver face along the edge (flat, so dropped) leaves the same.
	m = tJunctionCube()
	m.Faces = append(m.Faces, [3]int32{4, 8, 5})
	out, rep = mustRepair(t, m, nil)
	checkClosed(t, out, rep, 1, 1e-12)
	if rep.DegenerateRemoved != 1 || rep.TJunctionsSplit != 1 {
		t.Errorf("report %+v, want one degenerate face and one T-junction", *rep)
	}

	// Several vertices on several edges of one face, in a soup.
	box := soup(gridBox(geom.Vec{X: 4, Y: 4, Z: 4}, 4))
	big, _ := without(box, func(_ int, x geom.Vec) bool { return x.Z == 4 })
	big.Vertices = append(big.Vertices, geom.Vec{Z: 4}, geom.Vec{X: 4, Z: 4}, geom.Vec{X: 4, Y: 4, Z: 4}, geom.Vec{Y: 4, Z: 4})
	n := int32(len(big.Vertices))
	big.Faces = append(big.Faces, [3]int32{n - 4, n - 3, n - 2}, [3]int32{n - 4, n - 2, n - 1})
	out, rep = mustRepair(t, big, nil)
	checkClosed(t, out, rep, 64, 1e-12)
	if rep.TJunctionsSplit != 12 || rep.HolesFilled != 0 {
		t.Errorf("report %+v, want 12 T-junctions split and no hole", *rep)
	}
}

func TestRepairFragment(t *testing.T) {
	sphere := sphereMesh(20, 3)
	m := geom.Join(sphere, shifted(tetra(), geom.Vec{X: 100, Y: 100, Z: 100}))
	out, rep := mustRepair(t, m, nil)
	checkClosed(t, out, rep, polyVolume(sphere), 1e-12)
	if rep.FragmentsRemoved != 1 || len(out.Faces) != len(sphere.Faces) || len(out.Vertices) != len(sphere.Vertices) {
		t.Errorf("FragmentsRemoved = %d, %d faces, %d vertices; want 1, %d, %d",
			rep.FragmentsRemoved, len(out.Faces), len(out.Vertices), len(sphere.Faces), len(sphere.Vertices))
	}
	out, rep = mustRepair(t, m, &RepairOptions{MinFragment: -1})
	checkClosed(t, out, rep, polyVolume(sphere)+1.0/6, 1e-12)
	if rep.FragmentsRemoved != 0 || len(out.Faces) != len(m.Faces) {
		t.Errorf("MinFragment −1: FragmentsRemoved = %d, %d faces; want 0, %d", rep.FragmentsRemoved, len(out.Faces), len(m.Faces))
	}
	// The largest component stays even when every one is under the share.
	m = geom.Join(tetra(), shifted(tetra(), geom.Vec{X: 5}), shifted(tetra(), geom.Vec{Y: 5}))
	out, rep = mustRepair(t, m, &RepairOptions{MinFragment: 0.5})
	if rep.FragmentsRemoved != 2 || len(out.Faces) != 4 {
		t.Errorf("MinFragment 0.5: FragmentsRemoved = %d, %d faces; want 2, 4", rep.FragmentsRemoved, len(out.Faces))
	}
}

func TestRepairNonManifold(t *testing.T) {
	mirror := transformed(tetra(), func(p geom.Vec) geom.Vec { return r3.Scale(-1, p) }, true)
	for _, tc := range []struct {
		name                   string
		m                      *geom.Mesh
		edges, verts, dupFaces int
		components             int
		volume                 float64
	}{
		// Two cubes touching along the edge x = y = 1: the faces around it
		// pair up cube by cube, not across.
		{"edge", geom.Join(cube(1), shifted(cube(1), geom.Vec{X: 1, Y: 1})), 1, 2, 0, 2, 2},
		// Two tetrahedra touching at the origin.
		{"vertex", geom.Join(tetra(), mirror), 0, 1, 0, 2, 2.0 / 6},
		// Two cubes sharing the side x = 1, triangulated alike: its faces
		// cancel and the cubes become one box.
		{"side", geom.Join(cube(1), shifted(cube(1), geom.Vec{X: 1})), 0, 0, 4, 1, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := mustRepair(t, tc.m, nil)
			// The copies of a split vertex or edge are moved 1e-5 of the
			// diagonal apart, so that an STL keeps them apart.
			checkClosed(t, out, rep, tc.volume, 1e-4)
			var buf bytes.Buffer
			if err := WriteSTL(&buf, out, "test"); err != nil {
				t.Fatal(err)
			}
			back, err := ReadSTL(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if tp := back.Topology(); !tp.Watertight() || len(back.Vertices) != len(out.Vertices) {
				t.Errorf("read back from STL: %d vertices of %d, %+v", len(back.Vertices), len(out.Vertices), tp)
			}
			if rep.CopiesSeparated != tc.verts {
				t.Errorf("%d copies separated, want %d", rep.CopiesSeparated, tc.verts)
			}
			if rep.NonManifoldEdgesSplit != tc.edges || rep.NonManifoldVerticesSplit != tc.verts || rep.DuplicateFacesRemoved != tc.dupFaces {
				t.Errorf("report %+v, want %d non-manifold edges, %d vertex copies, %d duplicates",
					*rep, tc.edges, tc.verts, tc.dupFaces)
			}
			if rep.HolesFilled != 0 || rep.FragmentsRemoved != 0 {
				t.Errorf("report %+v, want no hole and no fragment", *rep)
			}
			if c := out.Topology().Components; c != tc.components {
				t.Errorf("%d components, want %d", c, tc.components)
			}
		})
	}
}

func TestRepairErrors(t *testing.T) {
	c := cube(1)
	withFace := func(f [3]int32) *geom.Mesh {
		return &geom.Mesh{Vertices: c.Vertices, Faces: append(slices.Clone(c.Faces), f)}
	}
	withVertex := func(p geom.Vec) *geom.Mesh {
		return &geom.Mesh{Vertices: append(slices.Clone(c.Vertices), p), Faces: c.Faces}
	}
	for _, tc := range []struct {
		name  string
		m     *geom.Mesh
		o     *RepairOptions
		empty bool // the error is ErrEmptyMesh
	}{
		{"nil", nil, nil, true},
		{"no faces", &geom.Mesh{Vertices: c.Vertices}, nil, true},
		{"index -1", withFace([3]int32{0, 1, -1}), nil, false},
		{"index n", withFace([3]int32{0, 1, 8}), nil, false},
		{"NaN", withVertex(geom.Vec{X: math.NaN()}), nil, false},
		{"Inf", withVertex(geom.Vec{Z: math.Inf(-1)}), nil, false},
		{"huge", withVertex(geom.Vec{X: 1e200}), nil, false},
		{"collapsed", &geom.Mesh{Vertices: c.Vertices, Faces: [][3]int32{{0, 0, 1}, {2, 3, 3}}}, nil, true},
		{"flat", &geom.Mesh{Vertices: []geom.Vec{{}, {X: 1}, {X: 2}}, Faces: [][3]int32{{0, 1, 2}}}, nil, true},
		{"cancelling", &geom.Mesh{Vertices: c.Vertices, Faces: [][3]int32{{0, 1, 2}, {0, 2, 1}}}, nil, true},
		{"NaN tolerance", c, &RepairOptions{WeldTolerance: math.NaN()}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep, err := Repair(tc.m, tc.o)
			if err == nil || out != nil || rep != nil {
				t.Fatalf("Repair = %v, %v, %v; want an error", out, rep, err)
			}
			if errors.Is(err, ErrEmptyMesh) != tc.empty {
				t.Errorf("Repair error %q: errors.Is(ErrEmptyMesh) = %v, want %v", err, !tc.empty, tc.empty)
			}
		})
	}
}

func TestRepairLeavesInput(t *testing.T) {
	m, _ := without(soup(sphereMesh(20, 2)), func(i int, _ geom.Vec) bool { return i%50 == 0 })
	m.Faces[3] = [3]int32{m.Faces[3][0], m.Faces[3][2], m.Faces[3][1]}
	want := &geom.Mesh{Vertices: slices.Clone(m.Vertices), Faces: slices.Clone(m.Faces)}
	mustRepair(t, m, nil)
	if !slices.Equal(m.Vertices, want.Vertices) || !slices.Equal(m.Faces, want.Faces) {
		t.Error("Repair modified its input")
	}
}

func TestFillFallback(t *testing.T) {
	for _, tc := range []struct {
		name         string
		verts        []geom.Vec
		faces, added int // faces and vertices made
	}{
		// A figure eight: its Newell normal vanishes.
		{"bowtie", []geom.Vec{{}, {X: 1, Y: 1}, {X: 1}, {Y: 1}}, 4, 1},
		// An L: concave, ear clipping needs no new vertex.
		{"L", []geom.Vec{{}, {X: 2}, {X: 2, Y: 1}, {X: 1, Y: 1}, {X: 1, Y: 2}, {Y: 2}}, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rp := &repairer{verts: slices.Clone(tc.verts), incStart: make([]int32, len(tc.verts)+1)}
			q := []int32{0, 1, 2, 3, 4, 5}[:len(tc.verts)]
			rp.fill(q, 0)
			if len(rp.faces) != tc.faces || len(rp.verts)-len(tc.verts) != tc.added {
				t.Fatalf("fill made %d faces and %d vertices, want %d and %d", len(rp.faces), len(rp.verts)-len(tc.verts), tc.faces, tc.added)
			}
			var area float64
			for _, f := range rp.faces {
				a, b, c := rp.verts[f[0]], rp.verts[f[1]], rp.verts[f[2]]
				area += r3.Cross(r3.Sub(b, a), r3.Sub(c, a)).Z / 2
			}
			want := 3.0 // the L's area; the bowtie's lobes cancel
			if tc.name == "bowtie" {
				want = 0
			}
			if math.Abs(area-want) > 1e-12 {
				t.Errorf("signed area %v, want %v", area, want)
			}
		})
	}
}

// TestWeld checks geom.Mesh.WeldVertices against a quadratic search on points of a lattice
// jittered by up to twice the tolerance, so that many pairs are just within
// or just beyond it and straddle weld's cells (16 tol).
func TestWeld(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 3))
	var verts []geom.Vec
	for range 3000 {
		lattice := func() float64 { return 0.16 * float64(rng.IntN(6)) }
		jitter := func() float64 { return 0.02 * (2*rng.Float64() - 1) }
		verts = append(verts, geom.Vec{X: lattice() + jitter(), Y: lattice() + jitter(), Z: lattice() + jitter()})
	}
	verts = append(verts, verts[:100]...) // identical copies
	var faces [][3]int32
	for i := range int32(len(verts)) {
		faces = append(faces, [3]int32{i, (i + 1) % 3100, (i * 7) % 3100})
	}
	for _, tol := range []float64{0.01, 0} {
		var wantVerts []geom.Vec
		remap := make([]int32, len(verts))
		for i, p := range verts {
			remap[i] = int32(slices.IndexFunc(wantVerts, func(q geom.Vec) bool { return r3.Norm2(r3.Sub(p, q)) <= tol*tol }))
			if remap[i] < 0 {
				remap[i] = int32(len(wantVerts))
				wantVerts = append(wantVerts, p)
			}
		}
		var wantFaces [][3]int32
		for _, f := range faces {
			wantFaces = append(wantFaces, [3]int32{remap[f[0]], remap[f[1]], remap[f[2]]})
		}
		got := geom.Mesh{Vertices: verts, Faces: slices.Clone(faces)}
		got.WeldVertices(tol)
		gotVerts, gotFaces := got.Vertices, got.Faces
		if !slices.Equal(gotVerts, wantVerts) || !slices.Equal(gotFaces, wantFaces) {
			t.Errorf("tolerance %v: weld kept %d vertices, want %d; or their faces differ", tol, len(gotVerts), len(wantVerts))
		}
		if welded := len(verts) - len(wantVerts); welded < 100 || tol > 0 && welded > 2500 {
			t.Errorf("tolerance %v: %d of %d vertices welded, want many welded and many not", tol, welded, len(verts))
		}
	}
}

// fuzzMesh builds a small mesh from fuzz bytes: a vertex count, three bytes
// a vertex (int8/4, 0xff for NaN) and three bytes a face (an index modulo
// the vertex count, or beyond it from 0xf8 up).
func fuzzMesh(data []byte) *geom.Mesh {
	m := &geom.Mesh{}
	if len(data) == 0 {
		return m
	}
	nv := int(data[0]%64) + 1
	data = data[1:]
	coord := func(b byte) float64 {
		if b == 0xff {
			return math.NaN()
		}
		return float64(int8(b)) / 4
	}
	for ; nv > 0 && len(data) >= 3; nv-- {
		m.Vertices = append(m.Vertices, geom.Vec{X: coord(data[0]), Y: coord(data[1]), Z: coord(data[2])})
		data = data[3:]
	}
	index := func(b byte) int32 {
		if b >= 0xf8 || len(m.Vertices) == 0 {
			return int32(len(m.Vertices)) + int32(b&7)
		}
		return int32(b) % int32(len(m.Vertices))
	}
	for ; len(data) >= 3 && len(m.Faces) < 256; data = data[3:] {
		m.Faces = append(m.Faces, [3]int32{index(data[0]), index(data[1]), index(data[2])})
	}
	return m
}

// fuzzBytes encodes m for fuzzMesh; its coordinates must be multiples of
// 1/4 in [-32, 31.75] and it must have at most 64 vertices.
func fuzzBytes(m *geom.Mesh) []byte {
	data := []byte{byte(len(m.Vertices) - 1)}
	for _, p := range m.Vertices {
		data = append(data, byte(int8(4*p.X)), byte(int8(4*p.Y)), byte(int8(4*p.Z)))
	}
	for _, f := range m.Faces {
		data = append(data, byte(f[0]), byte(f[1]), byte(f[2]))
	}
	return data
}

func FuzzRepair(f *testing.F) {
	c := cube(4)
	holed, _ := without(c, func(i int, _ geom.Vec) bool { return i == 5 })
	for _, m := range []*geom.Mesh{
		c, holed, soup(c), tetra(), tJunctionCube(),
		geom.Join(cube(1), shifted(cube(1), geom.Vec{X: 1, Y: 1})),
		geom.Join(tetra(), transformed(tetra(), func(p geom.Vec) geom.Vec { return r3.Scale(-1, p) }, true)),
		transformed(gridBox(geom.Vec{X: 4, Y: 4, Z: 4}, 2), func(p geom.Vec) geom.Vec { return p }, true),
	} {
		f.Add(fuzzBytes(m))
	}
	f.Add([]byte{})
	f.Add([]byte{2, 0, 0, 0, 4, 0, 0, 0xff, 0, 0, 0, 1, 2})
	f.Fuzz(func(t *testing.T, data []byte) {
		m := fuzzMesh(data)
		out, rep, err := Repair(m, nil)
		if err != nil {
			return
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("Repair returned an invalid mesh: %v", err)
		}
		if len(out.Faces) == 0 || rep.TrianglesAfter != len(out.Faces) {
			t.Fatalf("Repair returned %d faces, report says %d", len(out.Faces), rep.TrianglesAfter)
		}
		used := make([]bool, len(out.Vertices))
		for i, f := range out.Faces {
			if f[0] == f[1] || f[1] == f[2] || f[2] == f[0] {
				t.Fatalf("face %d %v has a repeated vertex", i, f)
			}
			used[f[0]], used[f[1]], used[f[2]] = true, true, true
		}
		if i := slices.Index(used, false); i >= 0 {
			t.Fatalf("vertex %d of %d unused", i, len(out.Vertices))
		}
		if w := out.Topology().Watertight(); rep.Watertight != w {
			t.Fatalf("Watertight = %v, Topology says %v", rep.Watertight, w)
		}
		if e := out.Bounds().MaxExtent(); rep.Watertight && rep.Volume < -1e-9*e*e*e {
			t.Fatalf("watertight with volume %v", rep.Volume)
		}
	})
}

// BenchmarkRepair1M repairs an icosphere of 1,310,720 faces with 100 holes
// of 5 or 6 faces each.
func BenchmarkRepair1M(b *testing.B) {
	sphere := sphereMesh(100, 8)
	rng := rand.New(rand.NewPCG(1, 1))
	centre := make(map[int32]bool)
	for len(centre) < 100 {
		centre[int32(rng.IntN(len(sphere.Vertices)))] = true
	}
	m, _ := without(sphere, func(i int, _ geom.Vec) bool {
		f := sphere.Faces[i]
		return centre[f[0]] || centre[f[1]] || centre[f[2]]
	})
	var rep *RepairReport
	for b.Loop() {
		_, rep = mustRepair(b, m, nil)
	}
	if rep.HolesFilled != 100 || !rep.Watertight {
		b.Fatalf("report %+v, want 100 holes filled and watertight", *rep)
	}
}
