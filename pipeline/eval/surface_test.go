package eval

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// unitCube returns [0,1]³ as 8 vertices and 12 triangles, each face
// counter-clockwise seen from outside and split along its first diagonal.
func unitCube() *geom.Mesh {
	m := &geom.Mesh{}
	for i := range 8 { // vertex i has x = bit 0, y = bit 1, z = bit 2
		m.Vertices = append(m.Vertices, r3.Vec{X: float64(i & 1), Y: float64(i >> 1 & 1), Z: float64(i >> 2 & 1)})
	}
	for _, q := range [6][4]int32{
		{0, 2, 3, 1}, {4, 5, 7, 6}, // z = 0, z = 1
		{0, 1, 5, 4}, {2, 6, 7, 3}, // y = 0, y = 1
		{0, 4, 6, 2}, {1, 3, 7, 5}, // x = 0, x = 1
	} {
		m.Faces = append(m.Faces, [3]int32{q[0], q[1], q[2]}, [3]int32{q[0], q[2], q[3]})
	}
	return m
}

// uvSphere returns a latitude–longitude sphere of radius r centred at the
// origin: poles joined by nv−1 rings of nu vertices, 2·nu·(nv−1)
// triangles, counter-clockwise seen from outside. With rng, each vertex's
// radius is scaled by a uniform factor in [1−jitter, 1+jitter]; without,
// the mesh is convex (each band's quads are planar trapezoids).
func uvSphere(r float64, nu, nv int, jitter float64, rng *rand.Rand) *geom.Mesh {
	at := func(theta, phi float64) r3.Vec {
		rr := r
		if rng != nil {
			rr *= 1 + jitter*(2*rng.Float64()-1)
		}
		return r3.Vec{X: rr * math.Sin(theta) * math.Cos(phi), Y: rr * math.Sin(theta) * math.Sin(phi), Z: rr * math.Cos(theta)}
	}
	m := &geom.Mesh{Vertices: []r3.Vec{at(0, 0)}}
	for k := 1; k < nv; k++ {
		for j := range nu {
			m.Vertices = append(m.Vertices, at(math.Pi*float64(k)/float64(nv), 2*math.Pi*float64(j)/float64(nu)))
		}
	}
	south := int32(len(m.Vertices))
	m.Vertices = append(m.Vertices, at(math.Pi, 0))
	ring := func(k, j int) int32 { return int32(1 + (k-1)*nu + j%nu) }
	for j := range nu {
		m.Faces = append(m.Faces, [3]int32{0, ring(1, j), ring(1, j+1)})
		m.Faces = append(m.Faces, [3]int32{south, ring(nv-1, j+1), ring(nv-1, j)})
		for k := 1; k < nv-1; k++ {
			a, b, c, d := ring(k, j), ring(k+1, j), ring(k+1, j+1), ring(k, j+1)
			m.Faces = append(m.Faces, [3]int32{a, b, c}, [3]int32{a, c, d})
		}
	}
	return m
}

func mustSurface(tb testing.TB, m *geom.Mesh) *Surface {
	tb.Helper()
	s, err := NewSurface(m)
	if err != nil {
		tb.Fatalf("NewSurface() = %v", err)
	}
	return s
}

// bruteDistance is the distance from p to the nearest face of m, face by
// face.
func bruteDistance(m *geom.Mesh, p r3.Vec) float64 {
	best := math.Inf(1)
	for _, f := range m.Faces {
		t := newTriangle(m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]])
		best = min(best, t.dist2(p))
	}
	return math.Sqrt(best)
}

// exactDist2 is the squared distance from p to the triangle abc in exact
// rational arithmetic, rounded once at the end: the projection on the
// triangle's plane when it falls inside (on the inner side of all three
// edges), else the nearest edge. A triangle of zero area is its edges.
func exactDist2(p, a, b, c r3.Vec) float64 {
	type vec [3]*big.Rat
	rat := func(v r3.Vec) vec {
		return vec{new(big.Rat).SetFloat64(v.X), new(big.Rat).SetFloat64(v.Y), new(big.Rat).SetFloat64(v.Z)}
	}
	sub := func(u, v vec) vec {
		return vec{new(big.Rat).Sub(u[0], v[0]), new(big.Rat).Sub(u[1], v[1]), new(big.Rat).Sub(u[2], v[2])}
	}
	scale := func(t *big.Rat, u vec) vec {
		return vec{new(big.Rat).Mul(t, u[0]), new(big.Rat).Mul(t, u[1]), new(big.Rat).Mul(t, u[2])}
	}
	dot := func(u, v vec) *big.Rat {
		s := new(big.Rat)
		for i := range 3 {
			s.Add(s, new(big.Rat).Mul(u[i], v[i]))
		}
		return s
	}
	cross := func(u, v vec) vec {
		m := func(i, j int) *big.Rat {
			return new(big.Rat).Sub(new(big.Rat).Mul(u[i], v[j]), new(big.Rat).Mul(u[j], v[i]))
		}
		return vec{m(1, 2), m(2, 0), m(0, 1)}
	}
	seg := func(p, a, b vec) *big.Rat {
		ab, ap := sub(b, a), sub(p, a)
		t, den := dot(ap, ab), dot(ab, ab)
		switch {
		case t.Sign() <= 0:
			return dot(ap, ap)
		case t.Cmp(den) >= 0:
			return dot(sub(p, b), sub(p, b))
		}
		d := sub(ap, scale(new(big.Rat).Quo(t, den), ab))
		return dot(d, d)
	}
	P, A, B, C := rat(p), rat(a), rat(b), rat(c)
	n := cross(sub(B, A), sub(C, A))
	if nn := dot(n, n); nn.Sign() > 0 {
		q := sub(P, scale(new(big.Rat).Quo(dot(sub(P, A), n), nn), n))
		inside := true
		for _, e := range [3][2]vec{{A, B}, {B, C}, {C, A}} {
			inside = inside && dot(cross(sub(e[1], e[0]), sub(q, e[0])), n).Sign() >= 0
		}
		if inside {
			f, _ := dot(sub(P, q), sub(P, q)).Float64()
			return f
		}
	}
	d := seg(P, A, B)
	for _, e := range []*big.Rat{seg(P, B, C), seg(P, C, A)} {
		if e.Cmp(d) < 0 {
			d = e
		}
	}
	f, _ := d.Float64()
	return f
}

func randVec(rng *rand.Rand, s float64) r3.Vec {
	return r3.Vec{X: s * (2*rng.Float64() - 1), Y: s * (2*rng.Float64() - 1), Z: s * (2*rng.Float64() - 1)}
}

func TestDistanceCube(t *testing.T) {
	s := mustSurface(t, unitCube())
	tests := []struct {
		name string
		p    r3.Vec
		want float64
	}{
		{"centre", r3.Vec{X: 0.5, Y: 0.5, Z: 0.5}, 0.5},
		{"inside near x=0", r3.Vec{X: 0.2, Y: 0.5, Z: 0.6}, 0.2},
		{"inside near an edge", r3.Vec{X: 0.9, Y: 0.95, Z: 0.5}, 0.05},
		{"inside on a diagonal plane", r3.Vec{X: 0.3, Y: 0.3, Z: 0.9}, 0.1},
		{"above z=1", r3.Vec{X: 0.5, Y: 0.5, Z: 1.3}, 0.3},
		{"beside x=0", r3.Vec{X: -0.25, Y: 0.3, Z: 0.7}, 0.25},
		{"below z=0", r3.Vec{X: 0.7, Y: 0.2, Z: -0.5}, 0.5},
		{"below z=0 on the diagonal", r3.Vec{X: 0.4, Y: 0.4, Z: -0.5}, 0.5},
		{"edge x=1 z=0", r3.Vec{X: 1.3, Y: 0.5, Z: -0.4}, 0.5},
		{"edge x=0 y=0", r3.Vec{X: -0.3, Y: -0.4, Z: 0.25}, 0.5},
		{"edge y=1 z=1", r3.Vec{X: 0.5, Y: 1.6, Z: 1.8}, 1},
		{"corner (0,0,1)", r3.Vec{X: -1, Y: -2, Z: 3}, 3},
		{"corner (1,1,1)", r3.Vec{X: 1.1, Y: 1.2, Z: 1.2}, 0.3},
		{"corner (1,0,1)", r3.Vec{X: 2, Y: -1, Z: 2}, math.Sqrt(3)},
		{"on a face", r3.Vec{X: 1, Y: 0.3, Z: 0.3}, 0},
		{"on a vertex", r3.Vec{}, 0},
		{"on a face diagonal", r3.Vec{X: 0.5, Y: 0.5}, 0},
		{"on top", r3.Vec{X: 0.25, Y: 0.75, Z: 1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.Distance(tt.p); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Distance(%v) = %.17g, want %.17g", tt.p, got, tt.want)
			}
		})
	}
	if got := s.Distance(r3.Vec{X: math.NaN()}); !math.IsNaN(got) {
		t.Errorf("Distance(NaN) = %g, want NaN", got)
	}
	if got := s.Distance(r3.Vec{Y: math.Inf(-1)}); !math.IsInf(got, 1) {
		t.Errorf("Distance(-Inf) = %g, want +Inf", got)
	}
}

func TestDist2Exact(t *testing.T) {
	// Triangles with corners in [−1, 1]³ whose third corner lies h from
	// the line of the first two, from well shaped (h = 1) to flat
	// (h = 1e-13), and points anywhere or right by the thin part.
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 14 {
		h := math.Pow(10, -float64(k))
		for range 40 {
			a, b := randVec(rng, 1), randVec(rng, 1)
			m := r3.Add(a, r3.Scale(-0.5+2*rng.Float64(), r3.Sub(b, a)))
			c := r3.Add(m, r3.Scale(h, randVec(rng, 1)))
			p := randVec(rng, 2)
			if rng.IntN(2) == 0 {
				p = r3.Add(m, r3.Scale(math.Pow(10, -float64(rng.IntN(12))), randVec(rng, 1)))
			}
			tr := newTriangle(a, b, c)
			got, want := math.Sqrt(tr.dist2(p)), math.Sqrt(exactDist2(p, a, b, c))
			// See flatTol: 1e-8 of the longest edge; 1e-14 (about 30
			// ulps) for triangles no thinner than a hundredth.
			long := math.Sqrt(max(r3.Norm2(r3.Sub(b, a)), r3.Norm2(r3.Sub(c, a)), r3.Norm2(r3.Sub(c, b))))
			tol := 1e-8 * long
			if h >= 0.01 {
				tol = 1e-14
			}
			if math.Abs(got-want) > tol {
				t.Fatalf("h %g: distance from %v to %v, %v, %v = %.17g, exactly %.17g", h, p, a, b, c, got, want)
			}
		}
	}
}

func TestDegenerateTriangles(t *testing.T) {
	a, b := r3.Vec{X: -1, Y: 0.5}, r3.Vec{X: 2, Y: 0.5, Z: 1}
	mid := r3.Scale(0.5, r3.Add(a, b))
	sliver := r3.Add(mid, r3.Vec{Y: 1e-300})
	tris := [][3]r3.Vec{
		{a, a, a}, // a point
		// Segments with a repeated corner in each place: a == b makes
		// Ericson's edge ab region divide 0 by 0.
		{a, a, b}, {a, b, a}, {b, a, a}, {a, b, b},
		{a, mid, b}, {mid, a, b}, // collinear, no repeated corner
		{a, b, sliver}, // area 1e-300: the weights underflow
		// Two corners 1e-17 apart, not exactly equal.
		{a, r3.Add(a, r3.Vec{X: 1e-17, Y: -3e-17, Z: 2e-17}), b},
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tr := range tris {
		for range 2000 {
			p := randVec(rng, 3)
			if rng.IntN(4) == 0 {
				p = r3.Add(mid, r3.Scale(1e-9, randVec(rng, 1))) // right by the segment
			}
			tri := newTriangle(tr[0], tr[1], tr[2])
			if !tri.flat {
				t.Fatalf("newTriangle(%v) is not flat", tr)
			}
			got := tri.dist2(p)
			want := min(segDist2(p, tr[0], tr[1]), segDist2(p, tr[1], tr[2]), segDist2(p, tr[2], tr[0]))
			if math.IsNaN(got) || math.Abs(got-want) > 1e-12*max(1, want) {
				t.Fatalf("dist2(%v, %v) = %.17g, want %.17g", p, tr, got, want)
			}
		}
	}
	// A mesh of only degenerate faces answers distances and samples nothing.
	m := &geom.Mesh{Vertices: []r3.Vec{a, b, mid}, Faces: [][3]int32{{0, 0, 0}, {0, 1, 2}, {0, 1, 1}}}
	s := mustSurface(t, m)
	if got, want := s.Distance(r3.Vec{X: 0.5, Y: 1.5, Z: 0.5}), 1.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("Distance() = %.17g, want %.17g", got, want)
	}
	if got := s.Sample(10, 1); got != nil {
		t.Errorf("Sample(10) on a surface of zero area = %v, want nil", got)
	}
	if got := MeasureCompleteness([]r3.Vec{a}, s, 1, 100); got != 0 {
		t.Errorf("MeasureCompleteness() on a surface of zero area = %g, want 0", got)
	}
}

func TestNewSurfaceErrors(t *testing.T) {
	tests := []struct {
		name string
		m    *geom.Mesh
	}{
		{"nil", nil},
		{"no faces", &geom.Mesh{Vertices: []r3.Vec{{}, {X: 1}, {Y: 1}}}},
		{"index out of range", &geom.Mesh{Vertices: []r3.Vec{{}, {X: 1}, {Y: 1}}, Faces: [][3]int32{{0, 1, 3}}}},
		{"NaN vertex", &geom.Mesh{Vertices: []r3.Vec{{}, {X: math.NaN()}, {Y: 1}}, Faces: [][3]int32{{0, 1, 2}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if s, err := NewSurface(tt.m); err == nil {
				t.Errorf("NewSurface() = %p, nil; want an error", s)
			}
		})
	}
}

func TestDistanceMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// 2·16·(12−1) = 352 faces of a sphere whose vertex radii vary by ±30%.
	m := uvSphere(10, 16, 12, 0.3, rng)
	// Duplicate some faces and add degenerate ones: ties and zero areas
	// must not confuse the tree.
	m.Faces = append(m.Faces, m.Faces[:20]...)
	m.Faces = append(m.Faces, [3]int32{3, 3, 3}, [3]int32{4, 5, 4})
	s := mustSurface(t, m)
	checkTree(t, s, len(m.Faces))
	for i := range 3000 {
		var p r3.Vec
		switch i % 3 {
		case 0: // anywhere in and around the part
			p = randVec(rng, 20)
		case 1: // near the surface
			p = r3.Scale(10*(0.9+0.2*rng.Float64()), r3.Unit(randVec(rng, 1)))
		default: // far away
			p = r3.Scale(1000, r3.Unit(randVec(rng, 1)))
		}
		got, want := s.Distance(p), bruteDistance(m, p)
		if math.Abs(got-want) > 1e-9 {
			t.Fatalf("Distance(%v) = %.17g, brute force %.17g", p, got, want)
		}
	}
}

// checkTree checks that every node's boxes hold their children's boxes or
// triangles and that the leaves hold each of n triangles once.
func checkTree(t *testing.T, s *Surface, n int) {
	t.Helper()
	in := func(p, lo, hi r3.Vec) bool {
		return lo.X <= p.X && p.X <= hi.X && lo.Y <= p.Y && p.Y <= hi.Y && lo.Z <= p.Z && p.Z <= hi.Z
	}
	seen := make([]int, len(s.tris))
	var walk func(ref bvhRef, lo, hi r3.Vec)
	walk = func(ref bvhRef, lo, hi r3.Vec) {
		if ref.n > 0 {
			for j := ref.i; j < ref.i+ref.n; j++ {
				seen[j]++
				tr := s.tris[j]
				if !in(tr.a, lo, hi) || !in(tr.b, lo, hi) || !in(tr.c, lo, hi) {
					t.Errorf("triangle %d outside its leaf's box", j)
				}
			}
			return
		}
		nd := s.nodes[ref.i]
		for k := range 2 {
			if !in(nd.lo[k], lo, hi) || !in(nd.hi[k], lo, hi) {
				t.Errorf("node %d: child %d outside the node's box", ref.i, k)
			}
			walk(nd.kid[k], nd.lo[k], nd.hi[k])
		}
	}
	walk(s.root, s.box.Min, s.box.Max)
	if len(s.tris) != n {
		t.Errorf("tree holds %d triangles, want %d", len(s.tris), n)
	}
	for j, k := range seen {
		if k != 1 {
			t.Errorf("triangle %d is in %d leaves, want 1", j, k)
		}
	}
}

func TestSample(t *testing.T) {
	t.Run("on the surface", func(t *testing.T) {
		m := uvSphere(10, 16, 12, 0.3, rand.New(rand.NewPCG(7, 8)))
		s := mustSurface(t, m)
		for _, p := range s.Sample(2000, 1) {
			if d := bruteDistance(m, p); d > 1e-9 {
				t.Fatalf("sample %v lies %g from the surface", p, d)
			}
		}
	})
	t.Run("deterministic", func(t *testing.T) {
		s := mustSurface(t, unitCube())
		a, b, c := s.Sample(100, 42), s.Sample(100, 42), s.Sample(100, 43)
		if !slices.Equal(a, b) {
			t.Error("Sample(100, 42) differs between calls")
		}
		if slices.Equal(a, c) {
			t.Error("Sample(100, 42) equals Sample(100, 43)")
		}
		if got := s.Sample(0, 1); got != nil {
			t.Errorf("Sample(0) = %v, want nil", got)
		}
	})
	t.Run("by area", func(t *testing.T) {
		// Right triangles of areas 1 (z = 0) and 3 (z = 5), and one of
		// zero area between them that must never be drawn.
		m := &geom.Mesh{
			Vertices: []r3.Vec{{}, {X: 1}, {Y: 2}, {Z: 5}, {X: 3, Z: 5}, {Y: 2, Z: 5}, {Z: 2}, {X: 1, Z: 2}},
			Faces:    [][3]int32{{0, 1, 2}, {6, 7, 6}, {3, 4, 5}},
		}
		s := mustSurface(t, m)
		const n = 40000
		var low, corner int
		for _, p := range s.Sample(n, 9) {
			switch {
			case p.Z == 2:
				t.Fatalf("sample %v on the triangle of zero area", p)
			case p.Z < 2.5:
				low++
				// Uniform within the triangle: the part x + y/2 < 1/2 is
				// similar with ratio 1/2, so it holds a quarter of the area.
				if p.X+p.Y/2 < 0.5 {
					corner++
				}
			}
		}
		// Binomial standard errors: √(0.25·0.75/40000) ≈ 0.0022 for the
		// share, √(0.25·0.75/10000) ≈ 0.0043 for the corner; 0.015 is
		// about 7 and 3.5 of them.
		if got := float64(low) / n; math.Abs(got-0.25) > 0.015 {
			t.Errorf("share on the triangle of area 1 = %.4f, want 0.25", got)
		}
		if got := float64(corner) / float64(low); math.Abs(got-0.25) > 0.015 {
			t.Errorf("share in the corner quarter = %.4f, want 0.25", got)
		}
	})
}

func TestAccuracyExact(t *testing.T) {
	// The plane z = 0 and points at heights ±1 … ±10, with non-finite ones
	// to skip. Definition 7: P90 is at rank 9·0.9 = 8.1, 9 + 0.1·(10−9).
	m := &geom.Mesh{
		Vertices: []r3.Vec{{X: -100, Y: -100}, {X: 100, Y: -100}, {X: 100, Y: 100}, {X: -100, Y: 100}},
		Faces:    [][3]int32{{0, 1, 2}, {0, 2, 3}},
	}
	s := mustSurface(t, m)
	pts := []r3.Vec{{X: math.NaN()}, {Y: math.Inf(1)}, {Z: math.Inf(-1)}}
	for h := 1; h <= 10; h++ {
		sign := float64(1 - 2*(h%2))
		pts = append(pts, r3.Vec{X: float64(7 * h), Y: float64(-5 * h), Z: sign * float64(h)})
	}
	got := MeasureAccuracy(pts, s)
	want := Accuracy{Mean: 5.5, Median: 5.5, P90: 9.1, N: 10}
	if got.N != want.N || math.Abs(got.Mean-want.Mean) > 1e-12 || math.Abs(got.Median-want.Median) > 1e-12 || math.Abs(got.P90-want.P90) > 1e-12 {
		t.Errorf("MeasureAccuracy() = %+v, want %+v", got, want)
	}
	if got := MeasureAccuracy([]r3.Vec{{X: math.NaN()}}, s); got != (Accuracy{}) {
		t.Errorf("MeasureAccuracy(NaN) = %+v, want the zero Accuracy", got)
	}
	if got := quantile([]float64{4}, 0.9); got != 4 {
		t.Errorf("quantile([4], 0.9) = %g, want 4", got)
	}
}

func TestAccuracyOffsetSphere(t *testing.T) {
	// A convex sphere: a point pushed out by d along the normal of the face
	// it lies in is exactly d from the solid, since the face's plane
	// supports it, and so from the surface.
	m := uvSphere(10, 24, 12, 0, nil)
	s := mustSurface(t, m)
	rng := rand.New(rand.NewPCG(10, 11))
	const d = 0.37
	var pts []r3.Vec
	for i, f := range m.Faces {
		n := m.FaceNormal(i)
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		if r3.Dot(n, a) <= 0 {
			t.Fatalf("face %d: normal %v points inward", i, n)
		}
		for range 20 {
			u, v := rng.Float64(), rng.Float64()
			if u+v > 1 {
				u, v = 1-u, 1-v
			}
			p := r3.Add(a, r3.Add(r3.Scale(u, r3.Sub(b, a)), r3.Scale(v, r3.Sub(c, a))))
			pts = append(pts, r3.Add(p, r3.Scale(d, n)))
		}
	}
	got := MeasureAccuracy(pts, s) // 11 040 points: runs in parallel
	if got.N != len(pts) || math.Abs(got.Mean-d) > 1e-9 || math.Abs(got.Median-d) > 1e-9 || math.Abs(got.P90-d) > 1e-9 {
		t.Errorf("MeasureAccuracy() = %+v, want %g everywhere and N = %d", got, d, len(pts))
	}
}

func TestCompleteness(t *testing.T) {
	// A unit sphere, area about 4π. With N uniform points, a sample lacks
	// one within tol with probability about exp(−N·π·tol²/(4π)): with
	// N = 80 000 and tol = 0.05, exp(−50).
	s := mustSurface(t, uvSphere(1, 48, 24, 0, nil))
	const tol, samples = 0.05, 5000
	dense := s.Sample(80000, 12)
	if got := MeasureCompleteness(dense, s, tol, samples); got != 1 {
		t.Errorf("dense points: MeasureCompleteness() = %g, want 1", got)
	}
	var half []r3.Vec
	for _, p := range dense {
		if p.Z > 0 {
			half = append(half, p)
		}
	}
	// The upper half, plus the band of width tol below the equator that
	// its points reach, tol/(2r) = 0.025 of the area; the sampling's
	// standard error is √(0.25/5000) ≈ 0.007.
	if got := MeasureCompleteness(half, s, tol, samples); got < 0.5-0.02 || got > 0.525+0.02 {
		t.Errorf("upper half: MeasureCompleteness() = %g, want about 0.5–0.525", got)
	}
	for _, tt := range []struct {
		name    string
		pts     []r3.Vec
		tol     float64
		samples int
	}{
		{"no points", nil, tol, samples},
		{"only non-finite points", []r3.Vec{{X: math.NaN()}, {Z: math.Inf(1)}}, tol, samples},
		{"negative tol", dense, -1, samples},
		{"NaN tol", dense, math.NaN(), samples},
		{"no samples", dense, tol, 0},
	} {
		if got := MeasureCompleteness(tt.pts, s, tt.tol, tt.samples); got != 0 {
			t.Errorf("%s: MeasureCompleteness() = %g, want 0", tt.name, got)
		}
	}
	if got := MeasureCompleteness([]r3.Vec{{X: 1e300}}, s, math.Inf(1), 100); got != 1 {
		t.Errorf("tol +Inf: MeasureCompleteness() = %g, want 1", got)
	}
}

func TestPointGridMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	s := mustSurface(t, uvSphere(1, 12, 8, 0.2, rng))
	q := s.Sample(500, 15)
	var pts []r3.Vec
	for range 400 {
		pts = append(pts, r3.Add(q[rng.IntN(len(q))], r3.Scale(0.1, randVec(rng, 1))))
	}
	pts = append(pts, q[:50]...) // exact hits, for tol 0
	pts = append(pts, r3.Vec{X: 50}, r3.Vec{Y: math.NaN()}, r3.Vec{Z: math.Inf(1)})
	for _, tol := range []float64{0, 1e-300, 1e-12, 0.01, 0.05, 0.2, 3, 100, 1e300, math.Inf(1)} {
		g := newPointGrid(pts, s.box, tol)
		for _, p := range q {
			want := false
			for _, r := range pts {
				if finite(r) && r3.Norm2(r3.Sub(r, p)) <= tol*tol {
					want = true
					break
				}
			}
			if got := g.near(p); got != want {
				t.Fatalf("tol %g: near(%v) = %v, brute force %v", tol, p, got, want)
			}
		}
	}
}

// benchSurface is a 100 000-face sphere of radius 50 mm, a part's size,
// with vertex radii jittered by ±2%: 2·250·(201−1) faces.
func benchSurface(b *testing.B) (*geom.Mesh, *Surface) {
	m := uvSphere(50, 250, 201, 0.02, rand.New(rand.NewPCG(16, 17)))
	if len(m.Faces) != 100000 {
		b.Fatalf("%d faces, want 100000", len(m.Faces))
	}
	return m, mustSurface(b, m)
}

func BenchmarkNewSurface(b *testing.B) {
	m, _ := benchSurface(b)
	for b.Loop() {
		if _, err := NewSurface(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDistance times one query: 100 000 points in random directions
// within ±0.5 mm (a good reconstruction) or ±5 mm (a poor one) of the
// surface, queried in turn.
func BenchmarkDistance(b *testing.B) {
	_, s := benchSurface(b)
	for _, band := range []float64{0.5, 5} {
		b.Run(fmt.Sprintf("band=%gmm", band), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(18, 19))
			pts := make([]r3.Vec, 100000)
			for i := range pts {
				pts[i] = r3.Scale(50+band*(2*rng.Float64()-1), r3.Unit(randVec(rng, 1)))
			}
			var i int
			var sink float64
			for b.Loop() {
				sink += s.Distance(pts[i])
				i = (i + 1) % len(pts)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/query")
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N)*1e5, "s/100k-queries")
			if math.IsNaN(sink) {
				b.Fatal("NaN distance")
			}
		})
	}
}

// BenchmarkCompleteness measures 200 000 points, the surface's samples
// moved by up to ±0.2 mm, at tol 0.5 mm with 100 000 samples.
func BenchmarkCompleteness(b *testing.B) {
	_, s := benchSurface(b)
	rng := rand.New(rand.NewPCG(20, 21))
	pts := s.Sample(200000, 22)
	for i := range pts {
		pts[i] = r3.Add(pts[i], r3.Scale(0.2, randVec(rng, 1)))
	}
	var c float64
	for b.Loop() {
		c = MeasureCompleteness(pts, s, 0.5, 100000)
	}
	b.ReportMetric(c, "completeness")
}
