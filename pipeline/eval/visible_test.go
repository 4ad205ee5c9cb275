package eval

import (
	"bytes"
	"math"
	"math/rand/v2"
	"regexp"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// boxMesh returns the axis-aligned box [lo, hi] as unitCube's 12 triangles,
// counter-clockwise seen from outside.
func boxMesh(lo, hi r3.Vec) *geom.Mesh {
	m := unitCube()
	for i, v := range m.Vertices {
		m.Vertices[i] = r3.Vec{
			X: lo.X + v.X*(hi.X-lo.X),
			Y: lo.Y + v.Y*(hi.Y-lo.Y),
			Z: lo.Z + v.Z*(hi.Z-lo.Z),
		}
	}
	return m
}

// flipped returns m with every face's orientation reversed.
func flipped(m *geom.Mesh) *geom.Mesh {
	out := &geom.Mesh{Vertices: m.Vertices}
	for _, f := range m.Faces {
		out.Faces = append(out.Faces, [3]int32{f[0], f[2], f[1]})
	}
	return out
}

// ringCameras returns cameras as synth places them: rings at elevations
// 25°, 40° and 55°, 12 azimuths each, at distance dist from target.
func ringCameras(target r3.Vec, dist float64) []r3.Vec {
	var cams []r3.Vec
	for _, el := range []float64{25, 40, 55} {
		for k := range 12 {
			az, e := 2*math.Pi*float64(k)/12, el*math.Pi/180
			cams = append(cams, r3.Add(target, r3.Scale(dist, r3.Vec{
				X: math.Cos(e) * math.Cos(az), Y: math.Cos(e) * math.Sin(az), Z: math.Sin(e)})))
		}
	}
	return cams
}

func TestSegmentHitsCube(t *testing.T) {
	s := mustSurface(t, unitCube())
	const eps = visibleOffset // the cube's largest size is 1
	up := r3.Vec{Z: 1}
	top := r3.Vec{X: 0.3, Y: 0.4, Z: 1}  // on the face z = 1
	side := r3.Vec{X: 1, Y: 0.6, Z: 0.2} // on the face x = 1
	for _, tt := range []struct {
		name string
		a, b r3.Vec
		want bool
	}{
		{"through", r3.Vec{X: -1, Y: 0.5, Z: 0.5}, r3.Vec{X: 2, Y: 0.5, Z: 0.5}, true},
		{"through, reversed", r3.Vec{X: 2, Y: 0.5, Z: 0.5}, r3.Vec{X: -1, Y: 0.5, Z: 0.5}, true},
		{"oblique through", r3.Vec{X: -1, Y: -2, Z: 3}, r3.Vec{X: 2, Y: 3, Z: -1}, true},
		{"inside to outside", r3.Vec{X: 0.5, Y: 0.5, Z: 0.5}, r3.Vec{X: 0.5, Y: 0.5, Z: 7}, true},
		{"ends on the surface", r3.Vec{X: -1, Y: 0.3, Z: 0.4}, r3.Vec{Y: 0.3, Z: 0.4}, true},
		{"through an edge", r3.Vec{X: -1, Y: -1, Z: 0.5}, r3.Vec{X: 2, Y: 2, Z: 0.5}, true},
		{"beside", r3.Vec{X: -1, Y: 1.5, Z: 0.5}, r3.Vec{X: 2, Y: 1.5, Z: 0.5}, false},
		{"above, parallel to the top", r3.Vec{X: -1, Y: 0.5, Z: 1.001}, r3.Vec{X: 2, Y: 0.5, Z: 1.001}, false},
		{"short of it", r3.Vec{X: -1, Y: 0.5, Z: 0.5}, r3.Vec{X: -0.001, Y: 0.5, Z: 0.5}, false},
		{"past the corner", r3.Vec{X: -1, Y: 0.5, Z: 2}, r3.Vec{X: 0.5, Y: 2, Z: 1.5}, false},
		{"inside", r3.Vec{X: 0.2, Y: 0.2, Z: 0.2}, r3.Vec{X: 0.8, Y: 0.7, Z: 0.6}, false},
		{"a point beside", r3.Vec{X: 3, Y: 3, Z: 3}, r3.Vec{X: 3, Y: 3, Z: 3}, false},
		{"NaN", r3.Vec{X: math.NaN()}, r3.Vec{X: 2, Y: 0.5, Z: 0.5}, false},
		{"infinite", r3.Vec{X: math.Inf(-1), Y: 0.5, Z: 0.5}, r3.Vec{X: 2, Y: 0.5, Z: 0.5}, false},
		// Off the surface by the offset Visible uses, a sight line going
		// outward does not meet the face it starts on, nor one going inward
		// miss the solid.
		{"from the top, up", r3.Add(top, r3.Scale(eps, up)), r3.Vec{X: 0.3, Y: 0.4, Z: 50}, false},
		{"from the top, to a camera", r3.Add(top, r3.Scale(eps, up)), r3.Vec{X: 40, Y: -30, Z: 25}, false},
		{"from the top, grazing", r3.Add(top, r3.Scale(eps, up)), r3.Vec{X: 90, Y: 0.4, Z: 1.01}, false},
		{"from the side, to a camera", r3.Add(side, r3.Vec{X: eps}), r3.Vec{X: 60, Y: 10, Z: 40}, false},
		{"from the top, inward", r3.Add(top, r3.Scale(eps, up)), r3.Vec{X: 0.3, Y: 0.4, Z: -5}, true},
		{"from the side, across", r3.Add(side, r3.Vec{X: eps}), r3.Vec{X: -60, Y: 0.5, Z: 0.5}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := s.SegmentHits(tt.a, tt.b); got != tt.want {
				t.Errorf("SegmentHits(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestSegmentHitsMatchesBruteForce(t *testing.T) {
	// A jittered sphere of 2·32·15 faces, 4 to a leaf: the tree's pruning
	// must keep every triangle a segment meets.
	rng := rand.New(rand.NewPCG(21, 22))
	m := uvSphere(1, 32, 16, 0.2, rng)
	s := mustSurface(t, m)
	var hits int
	for range 5000 {
		a, b := randVec(rng, 2), randVec(rng, 2)
		if rng.IntN(4) == 0 { // an axis-parallel segment: inv has infinities
			b.X, b.Y = a.X, a.Y
		}
		want := false
		for _, f := range m.Faces {
			tr := newTriangle(m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]])
			if tr.segHit(a, r3.Sub(b, a)) {
				want = true
				break
			}
		}
		if got := s.SegmentHits(a, b); got != want {
			t.Fatalf("SegmentHits(%v, %v) = %v, brute force %v", a, b, got, want)
		}
		if want {
			hits++
		}
	}
	if hits < 1000 || hits > 4000 {
		t.Errorf("%d of 5000 segments hit; want a mix", hits)
	}
}

func TestVisibleCube(t *testing.T) {
	// A 10 mm cube standing on z = 0, cameras all around above it: every
	// face but the bottom one is seen, 5/6 of the area. The sampling's
	// standard error is √(5/36/20000) ≈ 0.0026.
	m := boxMesh(r3.Vec{X: -5, Y: -5}, r3.Vec{X: 5, Y: 5, Z: 10})
	cams := ringCameras(r3.Vec{Z: 5}, 200)
	for _, tt := range []struct {
		name string
		m    *geom.Mesh
	}{{"outward", m}, {"flipped", flipped(m)}} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSurface(t, tt.m)
			v := s.Visible(cams, 20000)
			if v.Total != 20000 {
				t.Errorf("Total = %d, want 20000", v.Total)
			}
			if got := v.Share(); math.Abs(got-5.0/6) > 0.012 {
				t.Errorf("Share() = %.4f, want about 5/6", got)
			}
			for _, p := range v.Samples {
				if p.Z == 0 {
					t.Fatalf("the bottom face's sample %v is visible", p)
				}
			}
		})
	}
	s := mustSurface(t, m)
	v := s.Visible(cams, 20000)

	// Points on a 0.1 mm grid over the five faces the cameras see: every
	// visible sample is within 0.1·√2/2 of one.
	var faces, bottom []r3.Vec
	for i := range 101 {
		for j := range 101 {
			u, w := -5+0.1*float64(i), -5+0.1*float64(j)
			h := 10 * float64(j) / 100 // up the sides
			faces = append(faces,
				r3.Vec{X: u, Y: w, Z: 10},
				r3.Vec{X: -5, Y: u, Z: h}, r3.Vec{X: 5, Y: u, Z: h},
				r3.Vec{X: u, Y: -5, Z: h}, r3.Vec{X: u, Y: 5, Z: h})
			bottom = append(bottom, r3.Vec{X: u, Y: w})
		}
	}
	const tol = 0.1
	if got := v.Completeness(faces, tol); got != 1 {
		t.Errorf("points on the visible faces: Completeness() = %g, want 1", got)
	}
	// The whole surface's completeness misses the bottom face.
	if got := MeasureCompleteness(faces, s, tol, 20000); math.Abs(got-5.0/6) > 0.015 {
		t.Errorf("points on the visible faces: MeasureCompleteness() = %.4f, want about 5/6", got)
	}
	// Points on the bottom face only reach the visible band tol high at
	// the foot of the sides, 4·10·0.1 of 500 mm²: 0.8 %.
	if got := v.Completeness(bottom, tol); got > 0.02 {
		t.Errorf("points on the bottom face: Completeness() = %.4f, want about 0.008", got)
	}
	if got := v.Completeness(faces, -1); got != 0 {
		t.Errorf("Completeness(tol −1) = %g, want 0", got)
	}
	if got := s.Visible(nil, 1000).Share(); got != 0 {
		t.Errorf("no cameras: Share() = %g, want 0", got)
	}
	if got := s.Visible(cams, 0); got.Share() != 0 || got.Completeness(faces, tol) != 0 {
		t.Errorf("no samples: Share() = %g, Completeness() = %g, want 0 and 0", got.Share(), got.Completeness(faces, tol))
	}
}

func TestVisibleOccluded(t *testing.T) {
	// A 1 mm cube under a 41 × 41 mm plate floating 2 mm above the
	// ground: from 25° up or more, a sight line from the cube rises 2 mm
	// within 4.3 mm and meets the plate. Only the plate's top and sides
	// are seen, (41² + 4·41) / (2·41² + 4·41 + 6) of the area.
	m := geom.Join(
		boxMesh(r3.Vec{}, r3.Vec{X: 1, Y: 1, Z: 1}),
		boxMesh(r3.Vec{X: -20, Y: -20, Z: 2}, r3.Vec{X: 21, Y: 21, Z: 3}),
	)
	s := mustSurface(t, m)
	v := s.Visible(ringCameras(r3.Vec{Z: 2}, 200), 20000)
	for _, p := range v.Samples {
		if p.Z < 2.999 && p.X > -19.999 && p.X < 20.999 && p.Y > -19.999 && p.Y < 20.999 {
			t.Fatalf("sample %v is visible: under the plate or on the cube", p)
		}
	}
	want := (41.0*41 + 4*41) / (2*41*41 + 4*41 + 6)
	if got := v.Share(); math.Abs(got-want) > 0.015 {
		t.Errorf("Share() = %.4f, want about %.4f", got, want)
	}
	// Below the ground plane nothing is seen, whatever the cameras.
	sunk := mustSurface(t, boxMesh(r3.Vec{X: -5, Y: -5, Z: -10}, r3.Vec{X: 5, Y: 5, Z: -1}))
	if got := sunk.Visible(ringCameras(r3.Vec{}, 200), 1000).Share(); got != 0 {
		t.Errorf("a part below z = 0: Share() = %g, want 0", got)
	}
}

func TestSceneAccuracy(t *testing.T) {
	// A 10 mm cube on the ground: the scene is the cube and z = 0.
	s := mustSurface(t, boxMesh(r3.Vec{X: -5, Y: -5}, r3.Vec{X: 5, Y: 5, Z: 10}))
	for _, tt := range []struct {
		p    r3.Vec
		want float64
	}{
		{r3.Vec{X: 40, Y: -30}, 0},            // on the mat, away from the part
		{r3.Vec{X: 40, Y: -30, Z: -0.2}, 0.2}, // under the mat
		{r3.Vec{X: 40, Y: -30, Z: 20}, 20},    // in the air, far from the part
		{r3.Vec{X: 2, Y: 1, Z: 13}, 3},        // above the cube
		{r3.Vec{X: -8, Y: 0, Z: 4}, 3},        // beside the cube, nearer to it
		{r3.Vec{X: -8, Y: 0, Z: 2}, 2},        // beside the cube, nearer the ground
		{r3.Vec{X: 5, Y: 0.5, Z: 7}, 0},       // on a side
	} {
		if got := SceneDistance(s, tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("SceneDistance(%v) = %g, want %g", tt.p, got, tt.want)
		}
	}
	if got := SceneDistance(s, r3.Vec{X: math.Inf(1)}); !math.IsInf(got, 1) {
		t.Errorf("SceneDistance(+Inf, 0, 0) = %g, want +Inf", got)
	}

	// 60 points on the mat far from the part, 30 on its faces, 10 in the
	// air and one that is not finite: 90 of 101 within the budget.
	rng := rand.New(rand.NewPCG(31, 32))
	var pts []r3.Vec
	for range 60 {
		pts = append(pts, r3.Vec{X: 20 + 50*rng.Float64(), Y: -50 + 100*rng.Float64(), Z: 0.01 * (2*rng.Float64() - 1)})
	}
	pts = append(pts, s.Sample(30, 33)...)
	for range 10 {
		pts = append(pts, r3.Vec{X: 20 + 50*rng.Float64(), Y: 50 * rng.Float64(), Z: 5 + 10*rng.Float64()})
	}
	pts = append(pts, r3.Vec{Y: math.NaN()})
	const budget = 0.03 // 0.3 % of the cube's 10 mm
	a, within := MeasureSceneAccuracy(pts, s, budget)
	if want := 90.0 / 101; math.Abs(within-want) > 1e-12 {
		t.Errorf("MeasureSceneAccuracy() within = %g, want %g", within, want)
	}
	if a.N != 100 || a.Median > 0.01 || a.P90 < 0.01 || a.P90 > 5 {
		t.Errorf("MeasureSceneAccuracy() = %+v, want 100 points, the median on the scene and P90 between the in-air ones", a)
	}
	// Against the part alone the mat's points are far off.
	if part := MeasureAccuracy(pts, s); part.Median < 10 {
		t.Errorf("MeasureAccuracy() median = %g, want the mat's points 10 mm off the part or more", part.Median)
	}
	if a, within := MeasureSceneAccuracy(nil, s, budget); a != (Accuracy{}) || within != 0 {
		t.Errorf("no points: MeasureSceneAccuracy() = %+v, %g; want zeros", a, within)
	}
}

func TestMeasurePointsBudget(t *testing.T) {
	// A 10 mm cube on the ground seen from all around above; the cloud:
	// dense points on the five visible faces and on the mat, and 5 % of
	// floaters.
	m := boxMesh(r3.Vec{X: -5, Y: -5}, r3.Vec{X: 5, Y: 5, Z: 10})
	s := mustSurface(t, m)
	ext := m.Bounds().MaxExtent()
	ref := &reference{surf: s, vis: s.Visible(ringCameras(r3.Vec{Z: 5}, 200), completenessSamples),
		size: r3.Norm(m.Bounds().Size()), extent: ext, tol: 0.05}
	rng := rand.New(rand.NewPCG(41, 42))
	var cloud []r3.Vec
	for _, p := range s.Sample(400000, 43) {
		if p.Z > 0 {
			cloud = append(cloud, p)
		}
	}
	for len(cloud) < 433000 { // the mat, but not under the part
		p := r3.Vec{X: 100 * (2*rng.Float64() - 1), Y: 100 * (2*rng.Float64() - 1)}
		if math.Abs(p.X) > 6 || math.Abs(p.Y) > 6 {
			cloud = append(cloud, p)
		}
	}
	for range len(cloud) / 20 {
		cloud = append(cloud, r3.Vec{X: 40 * (2*rng.Float64() - 1), Y: 40 * (2*rng.Float64() - 1), Z: 1 + 20*rng.Float64()})
	}
	// The alignment: the cloud in units of 2 mm, shifted.
	shift := r3.Vec{X: 3, Y: -1, Z: 2}
	in := make([]r3.Vec, len(cloud))
	for i, p := range cloud {
		in[i] = r3.Scale(0.5, r3.Sub(p, shift))
	}
	sim := func(p r3.Vec) r3.Vec { return r3.Add(r3.Scale(2, p), shift) }
	st := measurePoints(in, sim, ref)
	if st.BudgetAccuracyMM != 0.03 || st.BudgetCompletenessMM != 0.05 {
		t.Errorf("budgets %g and %g mm, want 0.03 and 0.05", st.BudgetAccuracyMM, st.BudgetCompletenessMM)
	}
	// The floaters are 1/21 of the points, all more than 1 mm off.
	if want := 20.0 / 21; math.Abs(st.SceneWithin-want) > 0.001 {
		t.Errorf("SceneWithin = %.4f, want %.4f", st.SceneWithin, want)
	}
	if st.SceneP90MM > 1e-9 {
		t.Errorf("SceneP90MM = %g, want 0", st.SceneP90MM)
	}
	if math.Abs(st.VisibleShare-5.0/6) > 0.012 {
		t.Errorf("VisibleShare = %.4f, want about 5/6", st.VisibleShare)
	}
	// 400 000 · 5/6 points on 500 mm²: a sample lacks one within 0.05 mm
	// with probability exp(−667·π·0.05²) ≈ 0.005.
	if st.VisibleCompleteness < 0.98 {
		t.Errorf("VisibleCompleteness = %.4f, want about 0.995", st.VisibleCompleteness)
	}
	// The whole surface's, within 0.05 mm: the bottom face lacks points.
	if math.Abs(st.Completeness-5.0/6) > 0.015 {
		t.Errorf("Completeness = %.4f, want about 5/6", st.Completeness)
	}

	var buf bytes.Buffer
	(&Result{Registered: 3, Total: 3, Scale: 2, PartSize: ref.size, PartExtent: ext, Dense: st}).Print(&buf)
	line := regexp.MustCompile(`(?m)^  budget: 95\.2% of all points within 0\.03 mm of the scene \(≥ 90%; those near the part: \d+\.\d%\); 99\.\d% of the visible surface \(8[34]% of it\) within 0\.05 mm of a point \(≥ 90%\)$`)
	if !line.MatchString(buf.String()) {
		t.Errorf("Print() =\n%s\nwant a line matching %s", buf.String(), line)
	}
}

// BenchmarkVisible draws completenessSamples samples on benchSurface's
// 100 000-face sphere standing on z = 0, seen by 36 ring cameras 300 mm
// away: "open" as it is, "roofed" under a wide plate that hides the whole
// sphere, so that its samples try every camera that faces them.
func BenchmarkVisible(b *testing.B) {
	m, _ := benchSurface(b)
	up := &geom.Mesh{Faces: m.Faces}
	for _, v := range m.Vertices {
		up.Vertices = append(up.Vertices, r3.Add(v, r3.Vec{Z: 51}))
	}
	roofed := geom.Join(up, boxMesh(r3.Vec{X: -200, Y: -200, Z: 105}, r3.Vec{X: 200, Y: 200, Z: 107}))
	cams := ringCameras(r3.Vec{Z: 51}, 300)
	for _, tt := range []struct {
		name string
		m    *geom.Mesh
	}{{"open", up}, {"roofed", roofed}} {
		b.Run(tt.name, func(b *testing.B) {
			s := mustSurface(b, tt.m)
			var v *VisibleSurface
			for b.Loop() {
				v = s.Visible(cams, completenessSamples)
			}
			b.ReportMetric(v.Share(), "visible")
		})
	}
}
