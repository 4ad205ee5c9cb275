package cad

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// piece is one analytic surface patch of a test part: its area and a
// sampler of a uniformly distributed point on it with its outward normal.
type piece struct {
	area   float64
	sample func(rng *rand.Rand) (p, n r3.Vec)
}

// cloud samples n points from the pieces uniformly by area and moves each
// along its normal by Gaussian noise of deviation sigma; normals stay exact.
func cloud(rng *rand.Rand, n int, sigma float64, pieces []piece) (pts, nrm []r3.Vec) {
	var total float64
	for _, pc := range pieces {
		total += pc.area
	}
	for _, pc := range pieces {
		m := int(math.Round(float64(n) * pc.area / total))
		for range m {
			p, q := pc.sample(rng)
			pts = append(pts, r3.Add(p, r3.Scale(sigma*rng.NormFloat64(), q)))
			nrm = append(nrm, q)
		}
	}
	return pts, nrm
}

type disc struct{ x, y, r float64 }

func inDiscs(x, y float64, ds []disc) bool {
	for _, d := range ds {
		if (x-d.x)*(x-d.x)+(y-d.y)*(y-d.y) < d.r*d.r {
			return true
		}
	}
	return false
}

func discsArea(ds []disc) float64 {
	var a float64
	for _, d := range ds {
		a += math.Pi * d.r * d.r
	}
	return a
}

// rectZ is the rectangle [x0,x1]×[y0,y1] at height z less the discs.
func rectZ(x0, x1, y0, y1, z, nz float64, holes []disc) piece {
	return piece{(x1-x0)*(y1-y0) - discsArea(holes), func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		for {
			x, y := x0+(x1-x0)*rng.Float64(), y0+(y1-y0)*rng.Float64()
			if !inDiscs(x, y, holes) {
				return r3.Vec{X: x, Y: y, Z: z}, r3.Vec{Z: nz}
			}
		}
	}}
}

// annulusZ is the ring r0 ≤ ρ ≤ r1 about the z axis at height z less the
// discs.
func annulusZ(r0, r1, z, nz float64, holes []disc) piece {
	return piece{math.Pi*(r1*r1-r0*r0) - discsArea(holes), func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		for {
			r := math.Sqrt(r0*r0 + (r1*r1-r0*r0)*rng.Float64())
			s, c := math.Sincos(2 * math.Pi * rng.Float64())
			if x, y := r*c, r*s; !inDiscs(x, y, holes) {
				return r3.Vec{X: x, Y: y, Z: z}, r3.Vec{Z: nz}
			}
		}
	}}
}

// wallZ is the cylinder of radius r about the vertical line through
// (cx, cy) from z0 to z1; out is +1 for a boss (normal away from the axis)
// and -1 for a hole.
func wallZ(cx, cy, r, z0, z1, out float64) piece {
	return piece{2 * math.Pi * r * (z1 - z0), func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		s, c := math.Sincos(2 * math.Pi * rng.Float64())
		z := z0 + (z1-z0)*rng.Float64()
		return r3.Vec{X: cx + r*c, Y: cy + r*s, Z: z}, r3.Vec{X: out * c, Y: out * s}
	}}
}

// side is the rectangle of the plane with unit normal n through o spanned
// by u (length lu) and v (length lv).
func side(o, n, u, v r3.Vec, lu, lv float64) piece {
	return piece{lu * lv, func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		return r3.Add(o, r3.Add(r3.Scale(lu*rng.Float64(), u), r3.Scale(lv*rng.Float64(), v))), n
	}}
}

// bracketPieces is the built-in bracket: an 80×40×12 box, centred on the z
// axis, with two Ø8 through holes at x = ±25.
func bracketPieces() []piece {
	holes := []disc{{-25, 0, 4}, {25, 0, 4}}
	x, y, z := r3.Vec{X: 1}, r3.Vec{Y: 1}, r3.Vec{Z: 1}
	return []piece{
		rectZ(-40, 40, -20, 20, 12, 1, holes),
		rectZ(-40, 40, -20, 20, 0, -1, holes),
		side(r3.Vec{X: 40, Y: -20}, x, y, z, 40, 12),
		side(r3.Vec{X: -40, Y: -20}, r3.Scale(-1, x), y, z, 40, 12),
		side(r3.Vec{X: -40, Y: 20}, y, x, z, 80, 12),
		side(r3.Vec{X: -40, Y: -20}, r3.Scale(-1, y), x, z, 80, 12),
		wallZ(-25, 0, 4, 0, 12, -1),
		wallZ(25, 0, 4, 0, 12, -1),
	}
}

// flangePieces is a flanged bush: flange r 30 over z 0..8, body r 16 over
// z 8..40, a Ø18 bore through and two Ø6 holes at x = ±22 through the
// flange.
func flangePieces() []piece {
	holes := []disc{{-22, 0, 3}, {22, 0, 3}}
	return []piece{
		annulusZ(9, 30, 0, -1, holes),
		annulusZ(16, 30, 8, 1, holes),
		annulusZ(9, 16, 40, 1, nil),
		wallZ(0, 0, 30, 0, 8, 1),
		wallZ(0, 0, 16, 8, 40, 1),
		wallZ(0, 0, 9, 0, 40, -1),
		wallZ(-22, 0, 3, 0, 8, -1),
		wallZ(22, 0, 3, 0, 8, -1),
	}
}

// spherePieces is the sphere of radius r about c.
func spherePieces(c r3.Vec, r float64) []piece {
	return []piece{{4 * math.Pi * r * r, func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		n := r3.Unit(r3.Vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()})
		return r3.Add(c, r3.Scale(r, n)), n
	}}}
}

// conePieces is a truncated cone about the z axis, radius r0 at z 0 to r1
// at z h, with both caps.
func conePieces(r0, r1, h float64) []piece {
	slant := math.Hypot(r0-r1, h)
	lateral := piece{math.Pi * (r0 + r1) * slant, func(rng *rand.Rand) (r3.Vec, r3.Vec) {
		for {
			t := rng.Float64()
			r := r0 + (r1-r0)*t
			if rng.Float64()*math.Max(r0, r1) > r {
				continue // area grows with the radius
			}
			s, c := math.Sincos(2 * math.Pi * rng.Float64())
			n := r3.Unit(r3.Vec{X: c, Y: s, Z: (r0 - r1) / h})
			return r3.Vec{X: r * c, Y: r * s, Z: h * t}, r3.Vec{X: n.X, Y: n.Y, Z: n.Z}
		}
	}}
	return []piece{lateral, annulusZ(0, r0, 0, -1, nil), annulusZ(0, r1, h, 1, nil)}
}

// wantPrim is an expected primitive: a plane with normal n at offset off
// (n·x = off), a cylinder with axis n through c and radius r, a sphere
// about c of radius r, or a cone with axis n and semi-angle ang (degrees).
type wantPrim struct {
	kind string
	n, c r3.Vec
	off  float64
	r    float64
	ang  float64
}

func plane(n r3.Vec, off float64) wantPrim { return wantPrim{kind: "plane", n: n, off: off} }
func cyl(x, y, r float64) wantPrim {
	return wantPrim{kind: "cylinder", n: r3.Vec{Z: 1}, c: r3.Vec{X: x, Y: y}, r: r}
}
func (w wantPrim) String() string { return w.kind }
func angleDeg(a, b r3.Vec) float64 {
	return math.Acos(math.Min(1, math.Abs(r3.Dot(r3.Unit(a), r3.Unit(b))))) * 180 / math.Pi
}
func lineDist(c, a, p r3.Vec) float64 {
	v := r3.Sub(p, c)
	return r3.Norm(r3.Sub(v, r3.Scale(r3.Dot(v, a), a)))
}
func mustFit(tb testing.TB, pts, nrm []r3.Vec, o *FitOptions) ([]Primitive, []int32, *FitReport) {
	tb.Helper()
	prims, free, rep, err := Fit(context.Background(), pts, nrm, o)
	if err != nil {
		tb.Fatalf("Fit: %v", err)
	}
	return prims, free, rep
}

// matches reports whether p is w, roughly (to pair them up; the accuracy
// is checked after).
func matches(p Primitive, w wantPrim) bool {
	switch s := p.Surface.(type) {
	case *Plane:
		return w.kind == "plane" && angleDeg(s.Normal, w.n) < 2 && math.Abs(math.Abs(r3.Dot(s.Origin, w.n))-math.Abs(w.off)) < 1 &&
			math.Abs(r3.Dot(s.Origin, w.n)-w.off) < 1
	case *Cylinder:
		return w.kind == "cylinder" && angleDeg(s.Axis, w.n) < 2 && lineDist(w.c, w.n, s.Origin) < 1 && math.Abs(s.Radius-w.r) < 0.5
	case *Sphere:
		return w.kind == "sphere" && r3.Norm(r3.Sub(s.Centre, w.c)) < 1 && math.Abs(s.Radius-w.r) < 0.5
	case *Cone:
		return w.kind == "cone" && angleDeg(s.Axis, w.n) < 2 && math.Abs(s.SemiAngle*180/math.Pi-w.ang) < 3
	}
	return false
}

// checkPrims pairs every expected primitive with exactly one found, checks
// there are no others, and checks their accuracy: plane offsets within
// 0.05 mm, diameters within 0.05 mm (exact when snapped), sphere radii
// within 0.05 mm and cone semi-angles within 0.5°.
func checkPrims(t *testing.T, prims []Primitive, free []int32, n int, wants []wantPrim, snapped bool, maxFree float64) {
	t.Helper()
	used := make([]bool, len(prims))
	for _, w := range wants {
		found := -1
		for k, p := range prims {
			if !used[k] && matches(p, w) {
				found = k
				break
			}
		}
		if found < 0 {
			t.Errorf("no primitive matches %s %+v", w.kind, w)
			continue
		}
		used[found] = true
		p := prims[found]
		switch s := p.Surface.(type) {
		case *Plane:
			off := r3.Dot(s.Origin, r3.Scale(math.Copysign(1, r3.Dot(s.Normal, w.n)), s.Normal))
			t.Logf("plane n=%v off %.4f (want %.1f, err %+.4f) tilt %.4f° share %.3f rms %.3f", w.n, off, w.off, off-w.off, angleDeg(s.Normal, w.n), p.Share, p.RMS)
			if math.Abs(off-w.off) > 0.05 {
				t.Errorf("plane %v: offset %.4f, want %.1f ± 0.05", w.n, off, w.off)
			}
		case *Cylinder:
			d := 2 * s.Radius
			t.Logf("cylinder at %v Ø%.4f (want %.1f, err %+.4f) share %.3f rms %.3f", w.c, d, 2*w.r, d-2*w.r, p.Share, p.RMS)
			if tol := 0.05; math.Abs(d-2*w.r) > tol || snapped && math.Abs(d-2*w.r) > 1e-9 {
				t.Errorf("cylinder at %v: Ø%.4f, want %.1f (snapped %v)", w.c, d, 2*w.r, snapped)
			}
		case *Sphere:
			t.Logf("sphere r %.4f (want %.1f) share %.3f rms %.3f", s.Radius, w.r, p.Share, p.RMS)
			if math.Abs(s.Radius-w.r) > 0.05 {
				t.Errorf("sphere radius %.4f, want %.1f ± 0.05", s.Radius, w.r)
			}
		case *Cone:
			a := s.SemiAngle * 180 / math.Pi
			t.Logf("cone semi-angle %.4f° (want %.4f°) share %.3f rms %.3f", a, w.ang, p.Share, p.RMS)
			if math.Abs(a-w.ang) > 0.5 {
				t.Errorf("cone semi-angle %.4f°, want %.4f° ± 0.5°", a, w.ang)
			}
		}
	}
	for k, p := range prims {
		if !used[k] {
			t.Errorf("extra primitive %d: %s share %.4f %+v", k, surfaceType(p.Surface), p.Share, p.Surface)
		}
	}
	if share := float64(len(free)) / float64(n); share >= maxFree {
		t.Errorf("freeform share %.4f, want < %v", share, maxFree)
	} else {
		t.Logf("freeform share %.4f", share)
	}
}

func bracketWants() []wantPrim {
	x, y, z := r3.Vec{X: 1}, r3.Vec{Y: 1}, r3.Vec{Z: 1}
	return []wantPrim{
		plane(z, 12), plane(z, 0), plane(x, 40), plane(x, -40), plane(y, 20), plane(y, -20),
		cyl(-25, 0, 4), cyl(25, 0, 4),
	}
}

func flangeWants() []wantPrim {
	z := r3.Vec{Z: 1}
	return []wantPrim{
		plane(z, 0), plane(z, 8), plane(z, 40),
		cyl(0, 0, 30), cyl(0, 0, 16), cyl(0, 0, 9), cyl(-22, 0, 3), cyl(22, 0, 3),
	}
}

func TestFitParts(t *testing.T) {
	const n = 200000
	for _, tc := range []struct {
		name   string
		pieces []piece
		wants  []wantPrim
	}{
		{"bracket", bracketPieces(), bracketWants()},
		{"flange", flangePieces(), flangeWants()},
		{"sphere", spherePieces(r3.Vec{X: 3, Y: -2, Z: 5}, 20), []wantPrim{{kind: "sphere", c: r3.Vec{X: 3, Y: -2, Z: 5}, r: 20}}},
		{"cone", conePieces(15, 5, 20), []wantPrim{
			{kind: "cone", n: r3.Vec{Z: 1}, ang: math.Atan(0.5) * 180 / math.Pi},
			plane(r3.Vec{Z: 1}, 0), plane(r3.Vec{Z: 1}, 20),
		}},
	} {
		for _, snap := range []bool{true, false} {
			name := tc.name
			if !snap {
				name += "/nosnap"
			}
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(1, 1))
				pts, nrm := cloud(rng, n, 0.1, tc.pieces)
				prims, free, rep := mustFit(t, pts, nrm, &FitOptions{NoSnap: !snap, Seed: 1})
				t.Logf("%d primitives %v, ε %.3f, %.2f s, snaps %q", rep.Primitives, rep.ByType, rep.Epsilon, rep.Seconds, rep.Snaps)
				checkPrims(t, prims, free, len(pts), tc.wants, snap, 0.02)
				if !snap && len(rep.Snaps) != 0 {
					t.Errorf("NoSnap: snaps %q, want none", rep.Snaps)
				}
			})
		}
	}
}

// TestFitEstimatedNormals runs the bracket with normals estimated from the
// points by geom.EstimateNormals with k = 12 (unoriented as far as Fit
// cares). PCA normals of 12 neighbours spread about 0.4 mm carry several
// degrees of error from 0.1 mm noise and blend across edges, so the
// default 20° leaves about a quarter of the points freeform; 30° keeps the
// same eight primitives and leaves the bands along the edges, about 9 %.
func TestFitEstimatedNormals(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts, _ := cloud(rng, 200000, 0.1, bracketPieces())
	nrm, err := geom.EstimateNormals(context.Background(), pts, 12, func(i int) r3.Vec { return pts[i] })
	if err != nil {
		t.Fatal(err)
	}
	prims, free, rep := mustFit(t, pts, nrm, &FitOptions{Seed: 1, NormalDeg: 30})
	t.Logf("%d primitives %v, ε %.3f, %.2f s, snaps %q", rep.Primitives, rep.ByType, rep.Epsilon, rep.Seconds, rep.Snaps)
	checkPrims(t, prims, free, len(pts), bracketWants(), true, 0.12)
}

// TestFitFreeform: a bumpy surface of incommensurate sines has no
// primitive covering much, and most of it stays freeform.
func TestFitFreeform(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n = 100000
	h := func(x, y float64) (float64, float64, float64) {
		z := 3*math.Sin(x/6) + 2*math.Sin(y/4.3+x/11) + 1.2*math.Sin((x-y)/3.1)
		zx := 3*math.Cos(x/6)/6 + 2*math.Cos(y/4.3+x/11)/11 + 1.2*math.Cos((x-y)/3.1)/3.1
		zy := 2*math.Cos(y/4.3+x/11)/4.3 - 1.2*math.Cos((x-y)/3.1)/3.1
		return z, zx, zy
	}
	pts := make([]r3.Vec, n)
	nrm := make([]r3.Vec, n)
	for i := range pts {
		x, y := 100*rng.Float64(), 100*rng.Float64()
		z, zx, zy := h(x, y)
		nrm[i] = r3.Unit(r3.Vec{X: -zx, Y: -zy, Z: 1})
		pts[i] = r3.Add(r3.Vec{X: x, Y: y, Z: z}, r3.Scale(0.1*rng.NormFloat64(), nrm[i]))
	}
	prims, free, rep := mustFit(t, pts, nrm, &FitOptions{Seed: 1})
	t.Logf("%d primitives %v, freeform %d of %d", rep.Primitives, rep.ByType, len(free), n)
	for k, p := range prims {
		if p.Share > 0.05 {
			t.Errorf("primitive %d (%s) covers %.3f of a freeform surface, want < 0.05", k, surfaceType(p.Surface), p.Share)
		}
	}
	if share := float64(len(free)) / n; share < 0.5 {
		t.Errorf("freeform share %.3f, want ≥ 0.5", share)
	}
}

func TestFitDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts, nrm := cloud(rng, 30000, 0.1, bracketPieces())
	a, fa, _ := mustFit(t, pts, nrm, &FitOptions{Seed: 7, Workers: 1})
	b, fb, _ := mustFit(t, pts, nrm, &FitOptions{Seed: 7, Workers: 3})
	if len(a) != len(b) || len(fa) != len(fb) {
		t.Fatalf("Workers 1: %d primitives, %d free; Workers 3: %d, %d", len(a), len(fa), len(b), len(fb))
	}
	for k := range a {
		if surfaceType(a[k].Surface) != surfaceType(b[k].Surface) || len(a[k].Points) != len(b[k].Points) || a[k].RMS != b[k].RMS {
			t.Errorf("primitive %d differs: %v vs %v", k, a[k].Surface, b[k].Surface)
		}
	}
}

func TestFitErrors(t *testing.T) {
	ok := []r3.Vec{{X: 1}, {Y: 1}, {Z: 1}}
	for _, tc := range []struct {
		name     string
		pts, nrm []r3.Vec
		o        *FitOptions
		want     string
	}{
		{"empty", nil, nil, nil, "no points"},
		{"mismatch", ok, ok[:2], nil, "2 normals for 3 points"},
		{"nan", []r3.Vec{{X: 1}, {Y: math.NaN()}, {Z: 1}}, ok, nil, "point 1: non-finite"},
		{"inf normal", ok, []r3.Vec{{X: 1}, {Y: 1}, {Z: math.Inf(1)}}, nil, "point 2: non-finite"},
		{"bad options", ok, ok, &FitOptions{NormalDeg: 90}, "bad options"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := Fit(context.Background(), tc.pts, tc.nrm, tc.o)
			if err == nil || !strings.HasPrefix(err.Error(), "cad: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Fit error = %v, want cad: …%s…", err, tc.want)
			}
		})
	}
	t.Run("tiny", func(t *testing.T) {
		prims, free, rep, err := Fit(context.Background(), ok, ok, nil)
		if err != nil || len(prims) != 0 || len(free) != 3 || rep.Freeform != 3 {
			t.Errorf("Fit(3 points) = %d primitives, %d free, %v; want 0, 3, nil", len(prims), len(free), err)
		}
	})
}

func TestFitCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts, nrm := cloud(rng, 50000, 0.1, bracketPieces())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := Fit(ctx, pts, nrm, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Fit(cancelled ctx) error = %v, want context.Canceled", err)
	}
	// Cancelled while running: from the first progress report.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	calls := 0
	o := &FitOptions{Progress: func(float64) { calls++; cancel() }}
	if _, _, _, err := Fit(ctx, pts, nrm, o); !errors.Is(err, context.Canceled) {
		t.Errorf("Fit(cancelled while running) error = %v, want context.Canceled", err)
	}
	if calls == 0 {
		t.Error("Progress never called")
	}
}
