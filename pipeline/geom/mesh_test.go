package geom

import (
	"image/color"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// closeTo reports whether got is within tol of want, relatively for
// |want| > 1 and absolutely otherwise.
func closeTo(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

func TestClosedShapes(t *testing.T) {
	// Closed forms. Regular icosahedron of circumradius R: edge
	// a = 4R/√(10+2√5), area 5√3a², volume 5(3+√5)a³/12. Prism over the
	// regular n-gon of circumradius r: n-gon area n r² sin(2π/n)/2, side
	// length 2r sin(π/n).
	const R = 2.0
	a := 4 * R / math.Sqrt(10+2*math.Sqrt(5))
	const r, h, n = 1.5, 4.0, 48
	ngon := n * r * r * math.Sin(2*math.Pi/n) / 2
	tests := []struct {
		name         string
		m            *Mesh
		v, f         int
		area, volume float64
	}{
		{"cube", cube(3), 8, 12, 6 * 9, 27},
		{"icosahedron", icosphere(R, 0), 12, 20, 5 * math.Sqrt(3) * a * a, 5 * (3 + math.Sqrt(5)) * a * a * a / 12},
		{"cylinder", cylinder(r, h, n), 2*n + 2, 4 * n, 2*ngon + n*2*r*math.Sin(math.Pi/n)*h, ngon * h},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.m.Validate(); err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			topo := tt.m.Topology()
			if !topo.Watertight() {
				t.Errorf("Topology() = %+v, not watertight", topo)
			}
			if got := topo.EulerCharacteristic(); got != 2 {
				t.Errorf("EulerCharacteristic() = %d, want 2 (%+v)", got, topo)
			}
			if topo.Vertices != tt.v || topo.Faces != tt.f || topo.Edges != tt.f*3/2 || topo.Components != 1 || topo.DegenerateFaces != 0 {
				t.Errorf("Topology() = %+v, want %d vertices, %d faces, %d edges, 1 component", topo, tt.v, tt.f, tt.f*3/2)
			}
			// Sums of a few dozen terms: 1e-12 relative is ~10⁴ ulps.
			const tol = 1e-12
			if got := tt.m.Area(); !closeTo(got, tt.area, tol) {
				t.Errorf("Area() = %.15g, want %.15g", got, tt.area)
			}
			if got := tt.m.SignedVolume(); !closeTo(got, tt.volume, tol) {
				t.Errorf("SignedVolume() = %.15g, want %.15g", got, tt.volume)
			}
			if got := flipped(tt.m).SignedVolume(); !closeTo(got, -tt.volume, tol) {
				t.Errorf("flipped: SignedVolume() = %.15g, want %.15g", got, -tt.volume)
			}
			if topo := flipped(tt.m).Topology(); !topo.Watertight() {
				t.Errorf("flipped: Topology() = %+v, not watertight", topo)
			}
		})
	}
}

func TestIcosphereConverges(t *testing.T) {
	// The inscribed polyhedron approaches the sphere with an error that is
	// second order in the edge length, which halves per level: each level
	// should cut the error by about 4. Sphere: area 4πr², volume 4πr³/3.
	const r = 1.0
	var prevA, prevV float64
	for level := range 5 {
		m := icosphere(r, level)
		if topo := m.Topology(); !topo.Watertight() || topo.EulerCharacteristic() != 2 {
			t.Fatalf("level %d: Topology() = %+v, want watertight sphere", level, topo)
		}
		errA := 1 - m.Area()/(4*math.Pi*r*r)
		errV := 1 - m.SignedVolume()/(4*math.Pi*r*r*r/3)
		if errA <= 0 || errV <= 0 {
			t.Errorf("level %d: area error %g, volume error %g; an inscribed polyhedron is smaller than its sphere", level, errA, errV)
		}
		t.Logf("level %d: relative error area %.3g, volume %.3g", level, errA, errV)
		if level > 0 {
			// 3 rather than 4: the ratio approaches 4 from below (3.1 to 3.3
			// from level 0 to 1, 3.7 to 3.8 from 1 to 2).
			if prevA/errA < 3 || prevV/errV < 3 {
				t.Errorf("level %d: error ratios area %.3f, volume %.3f, want ≥ 3", level, prevA/errA, prevV/errV)
			}
		}
		prevA, prevV = errA, errV
	}
	// Level 4 (5120 faces) measures 0.12% under in area and 0.22% in volume.
	if prevA > 0.003 || prevV > 0.003 {
		t.Errorf("level 4: relative errors area %g, volume %g, want ≤ 0.003", prevA, prevV)
	}
}

func TestVolumeFarFromOrigin(t *testing.T) {
	// A unit cube translated to 1e6: the naive origin-based sum loses about
	// 12 digits here; the bounding-box centre keeps it exact.
	m := cube(1)
	for i := range m.Vertices {
		m.Vertices[i].X += 1e6
		m.Vertices[i].Y -= 1e6
	}
	if got := m.SignedVolume(); !closeTo(got, 1, 1e-12) {
		t.Errorf("SignedVolume() = %.15g, want 1", got)
	}
}

func TestTopologyDefects(t *testing.T) {
	openCube := cube(1)
	openCube.Faces = openCube.Faces[2:] // drop the two triangles of z = 0

	oneFlipped := cube(1)
	f := oneFlipped.Faces[5]
	oneFlipped.Faces[5] = [3]int32{f[0], f[2], f[1]}

	// Two tetrahedra sharing the edge 0–1 and nothing else: each is closed,
	// together the edge has four faces.
	bowtie := &Mesh{
		Vertices: []Vec{{}, {Z: 1}, {X: 1}, {X: 1, Y: 1}, {X: -1}, {X: -1, Y: -1}},
		Faces: [][3]int32{
			{0, 3, 2}, {0, 2, 1}, {1, 2, 3}, {0, 1, 3},
			{0, 5, 4}, {0, 4, 1}, {1, 4, 5}, {0, 1, 5},
		},
	}
	if v := bowtie.SignedVolume(); v <= 0 {
		t.Fatalf("bowtie is not outward oriented: SignedVolume() = %g", v)
	}

	degenerate := cube(1)
	degenerate.Vertices = append(degenerate.Vertices, Vec{X: 0.5}) // on the edge 0–1
	degenerate.Faces = append(degenerate.Faces, [3]int32{0, 0, 1}, [3]int32{0, 8, 1})

	invalid := cube(1)
	invalid.Faces = append(invalid.Faces, [3]int32{0, 1, 99}, [3]int32{-1, 0, 1})

	tests := []struct {
		name string
		m    *Mesh
		want Topology
	}{
		{"open cube", openCube, Topology{Vertices: 8, Faces: 10, Edges: 17, BoundaryEdges: 4, Components: 1}},
		{"flipped face", oneFlipped, Topology{Vertices: 8, Faces: 12, Edges: 18, InconsistentEdges: 3, Components: 1}},
		{"bowtie", bowtie, Topology{Vertices: 6, Faces: 8, Edges: 11, NonManifoldEdges: 1, Components: 1}},
		// The zero-area face 0-8-1 is counted: it adds two boundary edges
		// and a third face on the cube's edge 0-1. The collapsed 0-0-1 is
		// left out.
		{"degenerate", degenerate, Topology{Vertices: 9, Faces: 14, Edges: 20, BoundaryEdges: 2, NonManifoldEdges: 1, DegenerateFaces: 2, CollapsedFaces: 1, Components: 1}},
		{"invalid", invalid, Topology{Vertices: 8, Faces: 14, Edges: 18, InvalidFaces: 2, Components: 1}},
		{"empty", &Mesh{}, Topology{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.Topology()
			if got != tt.want {
				t.Errorf("Topology() = %+v\nwant         %+v", got, tt.want)
			}
			if got.Watertight() {
				t.Errorf("Watertight() = true for %+v", got)
			}
		})
	}
	two := merge(cube(1), cylinder(1, 1, 8)).Topology()
	if want := (Topology{Vertices: 8 + 18, Faces: 12 + 32, Edges: 18 + 48, Components: 2}); two != want || !two.Watertight() || two.EulerCharacteristic() != 4 {
		t.Errorf("cube and cylinder: Topology() = %+v, want %+v, watertight, Euler characteristic 4", two, want)
	}
	if got := openCube.Topology().EulerCharacteristic(); got != 1 {
		t.Errorf("open cube: EulerCharacteristic() = %d, want 1 (a disc)", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(m *Mesh)
		wantErr string
	}{
		{"ok", func(m *Mesh) {}, ""},
		{"index too high", func(m *Mesh) { m.Faces[3][1] = 8 }, "face 3: vertex index 8 out of range [0, 8)"},
		{"negative index", func(m *Mesh) { m.Faces[0][2] = -1 }, "face 0: vertex index -1 out of range"},
		{"NaN", func(m *Mesh) { m.Vertices[5].Y = math.NaN() }, "vertex 5: non-finite"},
		{"Inf", func(m *Mesh) { m.Vertices[2].Z = math.Inf(-1) }, "vertex 2: non-finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := cube(1)
			tt.edit(m)
			err := m.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFaceNormal(t *testing.T) {
	m := cube(2)
	c := m.Bounds().Center()
	for i, f := range m.Faces {
		n := m.FaceNormal(i)
		if !closeTo(n.X*n.X+n.Y*n.Y+n.Z*n.Z, 1, 1e-15) {
			t.Errorf("FaceNormal(%d) = %v, not unit", i, n)
		}
		// Outward: the normal points away from the centre.
		p := m.Vertices[f[0]]
		if d := (p.X-c.X)*n.X + (p.Y-c.Y)*n.Y + (p.Z-c.Z)*n.Z; d <= 0 {
			t.Errorf("FaceNormal(%d) = %v points inward", i, n)
		}
	}
	d := &Mesh{Vertices: []Vec{{}, {X: 1}, {X: 2}}, Faces: [][3]int32{{0, 1, 2}, {0, 0, 1}}}
	for i := range d.Faces {
		if got := d.FaceNormal(i); got != (Vec{}) {
			t.Errorf("degenerate FaceNormal(%d) = %v, want zero", i, got)
		}
	}
}

func TestWeldVertices(t *testing.T) {
	// The cube as a triangle soup, as STL stores it: 36 vertices.
	soup := func() *Mesh {
		c := cube(1)
		s := &Mesh{}
		for _, f := range c.Faces {
			n := int32(len(s.Vertices))
			s.Vertices = append(s.Vertices, c.Vertices[f[0]], c.Vertices[f[1]], c.Vertices[f[2]])
			s.Faces = append(s.Faces, [3]int32{n, n + 1, n + 2})
		}
		return s
	}
	t.Run("exact", func(t *testing.T) {
		m := soup()
		if topo := m.Topology(); topo.BoundaryEdges != 36 || topo.Components != 12 {
			t.Fatalf("soup Topology() = %+v, want 36 boundary edges, 12 components", topo)
		}
		m.Vertices[0].X = math.Copysign(0, -1) // -0 welds with +0
		if got := m.WeldVertices(0); got != 28 {
			t.Errorf("WeldVertices(0) = %d, want 28", got)
		}
		if topo := m.Topology(); !topo.Watertight() || topo.Vertices != 8 || len(m.Vertices) != 8 {
			t.Errorf("welded Topology() = %+v with %d vertices, want watertight with 8", topo, len(m.Vertices))
		}
		if got := m.SignedVolume(); !closeTo(got, 1, 1e-15) {
			t.Errorf("welded SignedVolume() = %g, want 1", got)
		}
	})
	t.Run("tolerance", func(t *testing.T) {
		m := soup()
		rng := rand.New(rand.NewPCG(1, 1))
		for i := range m.Vertices {
			m.Vertices[i].X += 1e-7 * (rng.Float64() - 0.5)
			m.Vertices[i].Z += 1e-7 * (rng.Float64() - 0.5)
		}
		if got := m.WeldVertices(0); got != 0 {
			t.Errorf("WeldVertices(0) on jittered soup = %d, want 0", got)
		}
		// Jitter is at most 1e-7·√2/2 per vertex, so 1e-6 joins all copies
		// of a corner and no two corners (1 apart).
		if got := m.WeldVertices(1e-6); got != 28 {
			t.Errorf("WeldVertices(1e-6) = %d, want 28", got)
		}
		if topo := m.Topology(); !topo.Watertight() || topo.EulerCharacteristic() != 2 {
			t.Errorf("welded Topology() = %+v, want watertight sphere", topo)
		}
	})
	t.Run("collapse", func(t *testing.T) {
		m := &Mesh{Vertices: []Vec{{}, {X: 1e-9}, {Y: 1}}, Faces: [][3]int32{{0, 1, 2}}}
		if got := m.WeldVertices(1e-6); got != 1 {
			t.Errorf("WeldVertices(1e-6) = %d, want 1", got)
		}
		if topo := m.Topology(); topo.CollapsedFaces != 1 || len(m.Faces) != 1 {
			t.Errorf("Topology() = %+v, want the face kept and collapsed", topo)
		}
	})
}

func TestBox(t *testing.T) {
	e := EmptyBox()
	if !e.Empty() || e.Size() != (Vec{}) || e.Center() != (Vec{}) || e.MaxExtent() != 0 {
		t.Errorf("EmptyBox() = %+v: Empty %v, Size %v, Center %v, MaxExtent %v", e, e.Empty(), e.Size(), e.Center(), e.MaxExtent())
	}
	p := e.Extend(Vec{X: 1, Y: 2, Z: 3})
	if p.Empty() || p.Min != p.Max || p.Size() != (Vec{}) {
		t.Errorf("EmptyBox().Extend(p) = %+v, want the point box", p)
	}
	b := p.Extend(Vec{X: -1, Y: 4, Z: 3})
	want := Box{Min: Vec{X: -1, Y: 2, Z: 3}, Max: Vec{X: 1, Y: 4, Z: 3}}
	if b != want {
		t.Errorf("Extend = %+v, want %+v", b, want)
	}
	if got := b.Size(); got != (Vec{X: 2, Y: 2}) {
		t.Errorf("Size() = %v", got)
	}
	if got := b.Center(); got != (Vec{Y: 3, Z: 3}) {
		t.Errorf("Center() = %v", got)
	}
	u := b.Union(Box{Min: Vec{Z: -5}, Max: Vec{Z: 0}})
	if u != (Box{Min: Vec{X: -1, Y: 0, Z: -5}, Max: Vec{X: 1, Y: 4, Z: 3}}) || u.MaxExtent() != 8 {
		t.Errorf("Union = %+v, MaxExtent %v", u, u.MaxExtent())
	}
	if got := b.Union(EmptyBox()); got != b {
		t.Errorf("Union(EmptyBox()) = %+v, want %+v", got, b)
	}
	if got := cube(2).Bounds(); got != (Box{Max: Vec{X: 2, Y: 2, Z: 2}}) {
		t.Errorf("cube(2).Bounds() = %+v", got)
	}
	if got := (&Mesh{}).Bounds(); !got.Empty() {
		t.Errorf("empty mesh Bounds() = %+v, want empty", got)
	}
}

func TestPointCloud(t *testing.T) {
	c := &PointCloud{Points: []Vec{{X: 1}, {Y: -2}, {Z: 3}}}
	if err := c.Validate(); err != nil || c.Len() != 3 {
		t.Fatalf("Validate() = %v, Len() = %d", err, c.Len())
	}
	if got := c.Bounds(); got != (Box{Min: Vec{Y: -2}, Max: Vec{X: 1, Z: 3}}) {
		t.Errorf("Bounds() = %+v", got)
	}
	c.Normals = make([]Vec, 2)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "2 normals for 3 points") {
		t.Errorf("Validate() with 2 normals = %v", err)
	}
	c.Normals = make([]Vec, 3)
	c.Normals[1].X = math.NaN()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "normal 1") {
		t.Errorf("Validate() with NaN normal = %v", err)
	}
	c.Normals = nil
	c.Colors = make([]color.NRGBA, 4)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "4 colours") {
		t.Errorf("Validate() with 4 colours = %v", err)
	}
	c.Colors = nil
	c.Points[2].X = math.Inf(1)
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "point 2") {
		t.Errorf("Validate() with Inf = %v", err)
	}
}

func TestJoin(t *testing.T) {
	tri := &Mesh{Vertices: []Vec{{}, {X: 1}, {Y: 1}}, Faces: [][3]int32{{0, 1, 2}}}
	up := &Mesh{Vertices: []Vec{{Z: 1}, {X: 1, Z: 1}, {Y: 1, Z: 1}}, Faces: [][3]int32{{0, 2, 1}}}
	j := Join(tri, up, &Mesh{})
	if len(j.Vertices) != 6 || len(j.Faces) != 2 || j.Faces[1] != [3]int32{3, 5, 4} {
		t.Fatalf("Join: %d vertices, faces %v; want 6 and [[0 1 2] [3 5 4]]", len(j.Vertices), j.Faces)
	}
	if err := j.Validate(); err != nil {
		t.Fatal(err)
	}
	if got, want := j.Area(), tri.Area()+up.Area(); got != want {
		t.Errorf("area %g, want %g", got, want)
	}
}
