package mesh

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

func mustDecimate(tb testing.TB, m *geom.Mesh, target int, o *DecimateOptions) (*geom.Mesh, *DecimateReport) {
	tb.Helper()
	out, rep, err := Decimate(context.Background(), m, target, o)
	if err != nil {
		tb.Fatalf("Decimate: %v", err)
	}
	if err := out.Validate(); err != nil {
		tb.Fatalf("Decimate returned an invalid mesh: %v", err)
	}
	if rep.FacesBefore != len(m.Faces) || rep.FacesAfter != len(out.Faces) {
		tb.Errorf("report %+v, want %d faces before and %d after", *rep, len(m.Faces), len(out.Faces))
	}
	return out, rep
}

// checkDecimated fails unless out has no unused vertex and no face with a
// repeated vertex or of zero area, and has the topology want: watertight or
// not, the same Euler characteristic and one component.
func checkDecimated(tb testing.TB, out *geom.Mesh, watertight bool, euler int) {
	tb.Helper()
	used := make([]bool, len(out.Vertices))
	for _, f := range out.Faces {
		used[f[0]], used[f[1]], used[f[2]] = true, true, true
	}
	if i := slices.Index(used, false); i >= 0 {
		tb.Errorf("vertex %d of %d unused", i, len(out.Vertices))
	}
	topo := out.Topology()
	if topo.Watertight() != watertight || topo.NonManifoldEdges != 0 || topo.DegenerateFaces != 0 || topo.Components != 1 {
		tb.Errorf("decimated mesh: %+v, want watertight %v, 1 component, no non-manifold edges or degenerate faces", topo, watertight)
	}
	if got := topo.EulerCharacteristic(); got != euler {
		tb.Errorf("Euler characteristic %d, want %d", got, euler)
	}
}

// decCentroid returns the centroid of face i.
func decCentroid(m *geom.Mesh, i int) geom.Vec {
	f := m.Faces[i]
	return r3.Scale(1.0/3, r3.Add(m.Vertices[f[0]], r3.Add(m.Vertices[f[1]], m.Vertices[f[2]])))
}

func TestDecimateSphere(t *testing.T) {
	const r, target = 20, 5000
	m := sphereMesh(r, 6) // 81,920 faces, edges of 0.3 mm
	out, rep := mustDecimate(t, m, target, nil)
	checkDecimated(t, out, true, 2)
	if n := len(out.Faces); n > target || n < target-2 {
		t.Errorf("%d faces, want %d or just under", n, target)
	}
	if rep.Collapses != (len(m.Faces)-len(out.Faces))/2 {
		t.Errorf("%d collapses, want %d: two faces each on a closed mesh", rep.Collapses, (len(m.Faces)-len(out.Faces))/2)
	}
	v0, v1 := m.SignedVolume(), out.SignedVolume()
	if !(v1 > 0) || math.Abs(v1-v0) > 0.01*v0 {
		t.Errorf("volume %v, want %v within 1%%", v1, v0)
	}
	var maxDist float64
	for _, p := range out.Vertices {
		maxDist = max(maxDist, math.Abs(r3.Norm(p)-r))
	}
	if maxDist > 0.2 {
		t.Errorf("a vertex lies %.3g mm off the sphere, want at most 0.2", maxDist)
	}
	// No face is flipped: each faces away from the centre.
	minCos := 1.0
	for i := range out.Faces {
		minCos = min(minCos, r3.Dot(out.FaceNormal(i), r3.Unit(decCentroid(out, i))))
	}
	if !(minCos > 0) {
		t.Errorf("a face's normal is at arccos %.3g to the radius, want every one outward", minCos)
	}
	t.Logf("%d → %d faces: %d collapses, max error %.3g mm², vertices within %.4f mm of the sphere, volume %+.4f%%, least normal·radius %.4f",
		len(m.Faces), len(out.Faces), rep.Collapses, rep.MaxError, maxDist, 100*(v1-v0)/v0, minCos)
}

// TestDecimateBox checks that the planar sides of a finely tessellated box
// collapse at no error to a handful of faces, all still on the sides.
func TestDecimateBox(t *testing.T) {
	for _, s := range []geom.Vec{{X: 10, Y: 10, Z: 10}, {X: 10, Y: 20, Z: 30}} {
		m := gridBox(s, 20) // 4800 faces
		out, rep := mustDecimate(t, m, 12, &DecimateOptions{MaxError: 1e-12})
		checkDecimated(t, out, true, 2)
		if len(out.Faces) > 24 {
			t.Errorf("box %v: %d faces, want at most 24", s, len(out.Faces))
		}
		if rep.MaxError > 1e-12 {
			t.Errorf("box %v: max error %v, want 0", s, rep.MaxError)
		}
		// Each face lies in one side of the box.
		sides := [3]float64{s.X, s.Y, s.Z}
		for i, f := range out.Faces {
			onSide := false
			for axis := range 3 {
				for _, at := range []float64{0, sides[axis]} {
					on := true
					for _, v := range f {
						p := out.Vertices[v]
						on = on && math.Abs([3]float64{p.X, p.Y, p.Z}[axis]-at) <= 1e-9
					}
					onSide = onSide || on
				}
			}
			if !onSide {
				t.Fatalf("box %v: face %d %v is not in a side", s, i, [3]geom.Vec{out.Vertices[f[0]], out.Vertices[f[1]], out.Vertices[f[2]]})
			}
		}
		want := s.X * s.Y * s.Z
		if v := out.SignedVolume(); math.Abs(v-want) > 1e-6*want {
			t.Errorf("box %v: volume %v, want %v", s, v, want)
		}
		t.Logf("box %v: %d → %d faces, %d vertices", s, len(m.Faces), len(out.Faces), len(out.Vertices))
	}
}

// TestDecimateGenus checks that decimation, even as far as it goes, keeps
// a sphere a sphere and a torus a torus.
func TestDecimateGenus(t *testing.T) {
	for _, tc := range []struct {
		name   string
		m      *geom.Mesh
		euler  int
		target int
	}{
		{"torus", torus(10, 3, 200, 100), 0, 1000},
		{"torus to the end", torus(10, 3, 60, 30), 0, 1},
		{"sphere to the end", sphereMesh(5, 4), 2, 1},
		{"tetrahedron", tetra(), 2, 1},
		{"rough sphere", decRough(sphereMesh(10, 5), 0.05), 2, 50},
		{"rough torus", decRough(torus(10, 3, 100, 50), 0.1), 0, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep := mustDecimate(t, tc.m, tc.target, nil)
			checkDecimated(t, out, true, tc.euler)
			if v := out.SignedVolume(); !(v > 0) {
				t.Errorf("volume %v, want positive", v)
			}
			t.Logf("%d → %d faces, %d vertices; max error %.3g", len(tc.m.Faces), len(out.Faces), len(out.Vertices), rep.MaxError)
		})
	}
	// The torus's faces still face away from the tube's core circle.
	m := torus(10, 3, 200, 100)
	out, _ := mustDecimate(t, m, 1000, nil)
	for i := range out.Faces {
		c := decCentroid(out, i)
		core := r3.Scale(10/math.Hypot(c.X, c.Y), geom.Vec{X: c.X, Y: c.Y})
		if d := r3.Dot(out.FaceNormal(i), r3.Unit(r3.Sub(c, core))); !(d > 0) {
			t.Fatalf("torus face %d: normal at arccos %.3g to the tube's radius, want outward", i, d)
		}
	}
}

// decRough returns a copy of m with each vertex moved by up to amp along
// each axis, at random (seeded): a rough surface with creases everywhere.
func decRough(m *geom.Mesh, amp float64) *geom.Mesh {
	rng := rand.New(rand.NewPCG(1, 1))
	return transformed(m, func(p geom.Vec) geom.Vec {
		return r3.Add(p, geom.Vec{X: amp * (2*rng.Float64() - 1), Y: amp * (2*rng.Float64() - 1), Z: amp * (2*rng.Float64() - 1)})
	}, false)
}

// decHemisphere returns the upper half of the sphere of radius r about the
// origin as rings of n vertices at k latitudes below the pole, its rim on
// z = 0: n(2k − 1) faces, counter-clockwise seen from outside.
func decHemisphere(r float64, n, k int) *geom.Mesh {
	m := &geom.Mesh{Vertices: []geom.Vec{{Z: r}}}
	for i := 1; i <= k; i++ {
		th := math.Pi / 2 * float64(i) / float64(k)
		rho, z := r*math.Sin(th), r*math.Cos(th)
		if i == k {
			rho, z = r, 0
		}
		for j := range n {
			ph := 2 * math.Pi * float64(j) / float64(n)
			m.Vertices = append(m.Vertices, geom.Vec{X: rho * math.Cos(ph), Y: rho * math.Sin(ph), Z: z})
		}
	}
	at := func(i, j int) int32 { return int32(1 + (i-1)*n + j%n) }
	for j := range n {
		m.Faces = append(m.Faces, [3]int32{0, at(1, j), at(1, j+1)})
	}
	for i := 1; i < k; i++ {
		for j := range n {
			a, b, c, d := at(i, j), at(i+1, j), at(i+1, j+1), at(i, j+1)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}

// decPlate returns the square [0,s]² in z = 0 as an n×n grid of squares split
// in two triangles, facing +z.
func decPlate(s float64, n int) *geom.Mesh {
	m := &geom.Mesh{}
	for i := range n + 1 {
		for j := range n + 1 {
			m.Vertices = append(m.Vertices, geom.Vec{X: s * float64(i) / float64(n), Y: s * float64(j) / float64(n)})
		}
	}
	at := func(i, j int) int32 { return int32(i*(n+1) + j) }
	for i := range n {
		for j := range n {
			a, b, c, d := at(i, j), at(i+1, j), at(i+1, j+1), at(i, j+1)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}

// decRim returns the vertices on an edge of one face.
func decRim(m *geom.Mesh) []int32 {
	count := make(map[[2]int32]int)
	for _, f := range m.Faces {
		for k := range 3 {
			a, b := f[k], f[(k+1)%3]
			count[[2]int32{min(a, b), max(a, b)}]++
		}
	}
	var vs []int32
	for e, n := range count {
		if n == 1 {
			vs = append(vs, e[0], e[1])
		}
	}
	slices.Sort(vs)
	return slices.Compact(vs)
}

func TestDecimateOpen(t *testing.T) {
	t.Run("hemisphere", func(t *testing.T) {
		const r = 20
		m := decHemisphere(r, 128, 32) // 8064 faces, a rim of 128 edges
		// rimOff returns how far the rim's vertices are from the plane
		// z = 0 and from the circle of radius r in it.
		rimOff := func(out *geom.Mesh) (dz, dr float64) {
			for _, v := range decRim(out) {
				p := out.Vertices[v]
				dz, dr = max(dz, math.Abs(p.Z)), max(dr, math.Abs(math.Hypot(p.X, p.Y)-r))
			}
			return dz, dr
		}
		out, rep := mustDecimate(t, m, 500, nil)
		checkDecimated(t, out, false, 1) // a disc: one boundary loop
		if n := len(out.Faces); n > 500 || n < 498 {
			t.Errorf("%d faces, want 500 or just under", n)
		}
		// The rim's edges become chords of about 4.7 mm, 0.14 mm inside
		// the circle at their middle: the quadrics put their ends about
		// half that outside.
		dz, dr := rimOff(out)
		if dz > 0.01 || dr > 0.2 {
			t.Errorf("rim vertices up to %.3g off the plane z = 0 and %.3g off the circle, want 0.01 and 0.2", dz, dr)
		}
		free, _ := mustDecimate(t, m, 500, &DecimateOptions{BoundaryWeight: -1})
		freeDz, freeDr := rimOff(free)
		if freeDz < 10*dz {
			t.Errorf("without boundary planes the rim is up to %.3g off z = 0, with them %.3g: want them to matter", freeDz, dz)
		}
		t.Logf("%d → %d faces, rim %d of 128 vertices, up to %.3g off z = 0 and %.3g off the circle (without boundary planes %.3g and %.3g); max error %.3g",
			len(m.Faces), len(out.Faces), len(decRim(out)), dz, dr, freeDz, freeDr, rep.MaxError)
	})
	t.Run("plate", func(t *testing.T) {
		m := decPlate(10, 40) // 3200 faces
		out, _ := mustDecimate(t, m, 2, nil)
		checkDecimated(t, out, false, 1)
		if len(out.Faces) > 8 {
			t.Errorf("%d faces, want at most 8", len(out.Faces))
		}
		for _, p := range out.Vertices {
			if p.Z != 0 || p.X != 0 && p.X != 10 && p.Y != 0 && p.Y != 10 {
				t.Errorf("vertex %v is off the plate's rim", p)
			}
		}
		var area float64
		for i := range out.Faces {
			f := out.Faces[i]
			a, b, c := out.Vertices[f[0]], out.Vertices[f[1]], out.Vertices[f[2]]
			area += r3.Cross(r3.Sub(b, a), r3.Sub(c, a)).Z / 2
		}
		if math.Abs(area-100) > 1e-9 {
			t.Errorf("signed area %v, want 100", area)
		}
		t.Logf("%d → %d faces, %d vertices", len(m.Faces), len(out.Faces), len(out.Vertices))
	})
}

func TestDecimateMaxError(t *testing.T) {
	m := sphereMesh(20, 5)
	const maxErr = 1e-3 // mm²
	out, rep := mustDecimate(t, m, 1, &DecimateOptions{MaxError: maxErr})
	checkDecimated(t, out, true, 2)
	if rep.MaxError > maxErr || rep.MaxError < maxErr/10 {
		t.Errorf("max error %v, want just under %v", rep.MaxError, maxErr)
	}
	if len(out.Faces) < 100 {
		t.Errorf("%d faces: the error bound did not stop decimation", len(out.Faces))
	}
	t.Logf("%d → %d faces at max error %.3g", len(m.Faces), len(out.Faces), rep.MaxError)
}

// decCancelAfter is a context whose Err reports context.Canceled from its
// n-th call on.
type decCancelAfter struct {
	context.Context
	n int
}

func (c *decCancelAfter) Err() error {
	c.n--
	if c.n <= 0 {
		return context.Canceled
	}
	return nil
}

func TestDecimateCancel(t *testing.T) {
	m := sphereMesh(20, 5) // 20,480 faces: more than decimateCheckEvery collapses
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, ctx := range map[string]context.Context{
		"before":  ctx,
		"between": &decCancelAfter{Context: context.Background(), n: 3},
	} {
		out, rep, err := Decimate(ctx, m, 10, nil)
		if !errors.Is(err, context.Canceled) || out != nil || rep != nil {
			t.Errorf("%s: Decimate = %v, %v, %v; want context.Canceled", name, out, rep, err)
		}
	}
}

func TestDecimateErrors(t *testing.T) {
	c := cube(1)
	withFace := func(f [3]int32) *geom.Mesh {
		return &geom.Mesh{Vertices: c.Vertices, Faces: append(slices.Clone(c.Faces), f)}
	}
	withVertex := func(p geom.Vec) *geom.Mesh {
		return &geom.Mesh{Vertices: append(slices.Clone(c.Vertices), p), Faces: c.Faces}
	}
	for _, tc := range []struct {
		name   string
		m      *geom.Mesh
		target int
		o      *DecimateOptions
		empty  bool // the error is ErrEmptyMesh
	}{
		{"nil", nil, 1, nil, true},
		{"no faces", &geom.Mesh{Vertices: c.Vertices}, 1, nil, true},
		{"target 0", c, 0, nil, false},
		{"target -1", c, -1, nil, false},
		{"index -1", withFace([3]int32{0, 1, -1}), 1, nil, false},
		{"index n", withFace([3]int32{0, 1, 8}), 1, nil, false},
		{"NaN", withVertex(geom.Vec{X: math.NaN()}), 1, nil, false},
		{"Inf", withVertex(geom.Vec{Z: math.Inf(-1)}), 1, nil, false},
		{"span overflows", &geom.Mesh{Vertices: append(slices.Clone(c.Vertices), geom.Vec{X: -math.MaxFloat64}, geom.Vec{X: math.MaxFloat64}), Faces: c.Faces}, 1, nil, false},
		{"collapsed", &geom.Mesh{Vertices: c.Vertices, Faces: [][3]int32{{0, 0, 1}, {2, 3, 3}}}, 1, nil, true},
		{"NaN max error", c, 1, &DecimateOptions{MaxError: math.NaN()}, false},
		{"negative max error", c, 1, &DecimateOptions{MaxError: -1}, false},
		{"Inf boundary weight", c, 1, &DecimateOptions{BoundaryWeight: math.Inf(1)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, rep, err := Decimate(context.Background(), tc.m, tc.target, tc.o)
			if err == nil || out != nil || rep != nil {
				t.Fatalf("Decimate = %v, %v, %v; want an error", out, rep, err)
			}
			if errors.Is(err, ErrEmptyMesh) != tc.empty {
				t.Errorf("Decimate error %q: errors.Is(ErrEmptyMesh) = %v, want %v", err, !tc.empty, tc.empty)
			}
		})
	}
}

func TestDecimateLeavesInput(t *testing.T) {
	m := sphereMesh(20, 3)
	want := &geom.Mesh{Vertices: slices.Clone(m.Vertices), Faces: slices.Clone(m.Faces)}
	mustDecimate(t, m, 100, nil)
	if !slices.Equal(m.Vertices, want.Vertices) || !slices.Equal(m.Faces, want.Faces) {
		t.Error("Decimate modified its input")
	}
	// A target at or over the face count gives a copy, not the input.
	for _, target := range []int{len(m.Faces), len(m.Faces) + 1} {
		out, rep := mustDecimate(t, m, target, nil)
		if !slices.Equal(out.Vertices, m.Vertices) || !slices.Equal(out.Faces, m.Faces) || rep.Collapses != 0 {
			t.Errorf("target %d: got %d faces and %d collapses, want the input unchanged", target, len(out.Faces), rep.Collapses)
		}
		out.Faces[0] = [3]int32{}
		if m.Faces[0] == out.Faces[0] {
			t.Errorf("target %d: the copy shares the input's faces", target)
		}
	}
}

// TestDecimateScale checks that the result does not depend on the model's
// size or place, down to far below and up to far above millimetres.
func TestDecimateScale(t *testing.T) {
	m := sphereMesh(1, 4)
	ref, _ := mustDecimate(t, m, 300, nil)
	for _, s := range []float64{1e-150, 1e150} {
		scaled := transformed(m, func(p geom.Vec) geom.Vec { return r3.Add(r3.Scale(s, p), geom.Vec{X: 3 * s}) }, false)
		out, _ := mustDecimate(t, scaled, 300, nil)
		checkDecimated(t, out, true, 2)
		if len(out.Faces) != len(ref.Faces) {
			t.Errorf("scale %g: %d faces, want %d as at scale 1", s, len(out.Faces), len(ref.Faces))
		}
	}
}

func FuzzDecimate(f *testing.F) {
	c := cube(4)
	holed, _ := without(c, func(i int, _ geom.Vec) bool { return i == 5 })
	for _, m := range []*geom.Mesh{
		c, holed, tetra(), gridBox(geom.Vec{X: 4, Y: 4, Z: 4}, 2), torus(3, 1, 6, 4), decPlate(4, 4),
		geom.Join(cube(1), shifted(cube(1), geom.Vec{X: 1, Y: 1})),
		{Vertices: []geom.Vec{{}, {X: 1}, {Y: 1}}, Faces: [][3]int32{{0, 1, 2}, {0, 2, 1}}},
	} {
		f.Add(fuzzBytes(m), uint8(1))
		f.Add(fuzzBytes(m), uint8(len(m.Faces)/2))
	}
	f.Add([]byte{}, uint8(1))
	f.Add([]byte("B000000000000201021000000210000"), uint8(6)) // no edge of one or two faces
	f.Add([]byte{2, 0, 0, 0, 4, 0, 0, 0xff, 0, 0, 0, 1, 2}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, target uint8) {
		m := fuzzMesh(data)
		out, rep, err := Decimate(context.Background(), m, int(target), nil)
		if err != nil {
			return
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("Decimate returned an invalid mesh: %v", err)
		}
		if rep.FacesAfter != len(out.Faces) || len(out.Faces) > len(m.Faces) {
			t.Fatalf("Decimate returned %d faces of %d, report says %d", len(out.Faces), len(m.Faces), rep.FacesAfter)
		}
		if int(target) >= len(m.Faces) {
			return // an unchanged copy
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
		if in := m.Topology(); in.Watertight() {
			got := out.Topology()
			if !got.Watertight() || got.EulerCharacteristic() != in.EulerCharacteristic() {
				t.Fatalf("watertight input of Euler characteristic %d gave %+v, Euler characteristic %d", in.EulerCharacteristic(), got, got.EulerCharacteristic())
			}
		}
	})
}

// BenchmarkDecimate1M decimates benchMesh, a closed torus of 1,000,000
// faces, to 100,000.
func BenchmarkDecimate1M(b *testing.B) {
	m := benchMesh()
	var out *geom.Mesh
	for b.Loop() {
		out, _ = mustDecimate(b, m, 100000, nil)
	}
	if n := len(out.Faces); n > 100000 || n < 99990 {
		b.Fatalf("%d faces, want 100,000", n)
	}
}

// TestCollapseSlivers: vertices of a box's top moved onto the line of its
// front edge, as Flatten moves them, leave faces without area; contracting
// them keeps the box closed, its volume and its shape.
func TestCollapseSlivers(t *testing.T) {
	m := cellBox(geom.Vec{X: 10, Y: 6, Z: 4}, 1)
	// The top's second row of vertices (y = 1) is pulled onto the front
	// top edge (y = 0, z = 4): the faces between the rows lose their area.
	moved := 0
	for i, p := range m.Vertices {
		if p.Z == 4 && p.Y == 1 && p.X > 0 && p.X < 10 {
			m.Vertices[i].Y = 0
			moved++
		}
	}
	slivers := func(m *geom.Mesh) int {
		n := 0
		for f := range m.Faces {
			a, b, c := corners(m, f)
			if r3.Norm(r3.Cross(r3.Sub(b, a), r3.Sub(c, a))) < 1e-9 {
				n++
			}
		}
		return n
	}
	before := slivers(m)
	vol := m.SignedVolume()
	out, n := collapseSlivers(m)
	t.Logf("%d vertices moved, %d faces without area; %d contractions, %d left", moved, before, n, slivers(out))
	if before == 0 || n == 0 || slivers(out) != 0 {
		t.Errorf("%d faces without area before, %d contractions, %d after; want some, some and none", before, n, slivers(out))
	}
	if tp := out.Topology(); !tp.Watertight() {
		t.Errorf("not watertight after: %+v", tp)
	}
	if v := out.SignedVolume(); math.Abs(v-vol) > 1e-9*math.Abs(vol) {
		t.Errorf("volume %g, was %g", v, vol)
	}
	if b := out.Bounds(); b != m.Bounds() {
		t.Errorf("bounds %v, was %v", b, m.Bounds())
	}
}
