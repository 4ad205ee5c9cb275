package scale

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline/colmap"
)

// scene is a synthetic capture of a sheet: views in a model frame that is
// the sheet's frame shrunk by unitsPerMM, rotated and moved, so that Solve
// must find all three.
type scene struct {
	views []View
	truth Similarity // model → sheet mm
	toMdl func(r3.Vec) r3.Vec
}

// lookAt returns a view at centre c (model units) looking at target.
func lookAt(c, target r3.Vec, in intrinsics) View {
	z := r3.Unit(r3.Sub(target, c))
	up := r3.Vec{Z: 1}
	x := r3.Unit(r3.Cross(z, up)) // image x to the right
	y := r3.Cross(z, x)           // image y down
	R := [9]float64{x.X, x.Y, x.Z, y.X, y.Y, y.Z, z.X, z.Y, z.Z}
	t := r3.Vec{X: -(R[0]*c.X + R[1]*c.Y + R[2]*c.Z), Y: -(R[3]*c.X + R[4]*c.Y + R[5]*c.Z), Z: -(R[6]*c.X + R[7]*c.Y + R[8]*c.Z)}
	return View{R: R, T: t, Center: c, cam: in}
}

// rotZX is a rotation about z by a then x by b.
func rotZX(a, b float64) [9]float64 {
	ca, sa, cb, sb := math.Cos(a), math.Sin(a), math.Cos(b), math.Sin(b)
	rz := [9]float64{ca, -sa, 0, sa, ca, 0, 0, 0, 1}
	rx := [9]float64{1, 0, 0, 0, cb, -sb, 0, sb, cb}
	var r [9]float64
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				r[3*i+j] += rx[3*i+k] * rz[3*k+j]
			}
		}
	}
	return r
}

// newScene makes n views on two rings around the sheet's centre, 320 mm
// away, in a model frame where 1 unit is 37.5 mm.
func newScene(n int) *scene {
	const mmPerUnit = 37.5
	rot := rotZX(0.7, -0.4)
	shift := r3.Vec{X: 1.5, Y: -2, Z: 0.3}
	// model = rotᵀ·(sheet − T)/s: the inverse of the truth similarity.
	truth := Similarity{Scale: mmPerUnit, R: rot}
	tw := r3.Scale(mmPerUnit, shift)
	truth.T = [3]float64{tw.X, tw.Y, tw.Z}
	toMdl := func(p r3.Vec) r3.Vec {
		q := r3.Sub(p, r3.Vec{X: truth.T[0], Y: truth.T[1], Z: truth.T[2]})
		r := &truth.R
		return r3.Scale(1/truth.Scale, r3.Vec{
			X: r[0]*q.X + r[3]*q.Y + r[6]*q.Z,
			Y: r[1]*q.X + r[4]*q.Y + r[7]*q.Z,
			Z: r[2]*q.X + r[5]*q.Y + r[8]*q.Z,
		})
	}
	in := intrinsics{fx: 1167, fy: 1167, cx: 800, cy: 600, k1: -0.02}
	s := &scene{truth: truth, toMdl: toMdl}
	for i := range n {
		el := 25.0
		if i%2 == 1 {
			el = 55
		}
		az := 2 * math.Pi * float64(i) / float64(n)
		e := el * math.Pi / 180
		c := r3.Vec{X: 320 * math.Cos(e) * math.Cos(az), Y: 320 * math.Cos(e) * math.Sin(az), Z: 320 * math.Sin(e)}
		// Build the view in sheet mm, then move it to the model frame.
		v := lookAt(toMdl(c), toMdl(r3.Vec{}), in)
		// lookAt's up is the model's z, which is not the sheet's: any
		// roll will do for the test.
		s.views = append(s.views, v)
	}
	return s
}

// observe projects the markers of the paper's sheet into every view,
// with Gaussian noise of sigma px on each corner, keeping the markers
// whose four corners land in the 1600×1200 image.
func (s *scene) observe(paper markers.Paper, sigma float64, rng *rand.Rand) []Observation {
	var obs []Observation
	for vi := range s.views {
		v := &s.views[vi]
		for _, m := range markers.Layout(paper).Markers {
			o := Observation{View: vi, ID: m.ID}
			ok := true
			for k, c := range m.Corners() {
				u, w, front := v.Project(s.toMdl(r3.Vec{X: c[0], Y: c[1]}))
				if !front || u < 0 || w < 0 || u > 1600 || w > 1200 {
					ok = false
					break
				}
				o.Corners[k] = [2]float64{u + sigma*rng.NormFloat64(), w + sigma*rng.NormFloat64()}
			}
			if ok {
				obs = append(obs, o)
			}
		}
	}
	return obs
}

func TestSolveRecoversScaleAndFrame(t *testing.T) {
	for _, paper := range []markers.Paper{markers.A4, markers.Letter} {
		t.Run(paper.String(), func(t *testing.T) {
			s := newScene(12)
			rng := rand.New(rand.NewPCG(1, 2))
			obs := s.observe(paper, 0.2, rng)
			r, err := Solve(s.views, obs)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Found {
				t.Fatalf("not found: %s", r.Reason)
			}
			if r.Paper != paper.String() {
				t.Errorf("paper %s, want %s", r.Paper, paper)
			}
			rel := (r.MMPerUnit - s.truth.Scale) / s.truth.Scale
			t.Logf("%d detections in %d photos, %d markers, %d corners; scale error %.4f%%, uncertainty %.4f%%, reprojection %.3f px, residual RMS %.3f mm max %.3f mm",
				r.Detections, r.Photos, r.Markers, r.Corners, 100*rel, r.UncertaintyPct, r.ReprojectionRMS, r.ResidualRMS, r.ResidualMax)
			if math.Abs(rel) > 0.001 {
				t.Errorf("scale %g, want %g (%.3f%% off)", r.MMPerUnit, s.truth.Scale, 100*rel)
			}
			if !(r.UncertaintyPct > 0 && r.UncertaintyPct < 0.2) {
				t.Errorf("uncertainty %g%%, want in (0, 0.2)", r.UncertaintyPct)
			}
			// The error should be within a few uncertainties.
			if math.Abs(100*rel) > 4*r.UncertaintyPct+0.005 {
				t.Errorf("scale error %.4f%% is beyond 4 × its uncertainty %.4f%%", 100*rel, r.UncertaintyPct)
			}
			// A point on the part maps to its sheet millimetres.
			for _, p := range []r3.Vec{{}, {X: 40, Y: 20, Z: 12}, {X: -40, Y: -20}} {
				got := r.Transform.Apply(s.toMdl(p))
				if d := r3.Norm(r3.Sub(got, p)); d > 0.1 {
					t.Errorf("%v maps to %v, %.3f mm off", p, got, d)
				}
			}
		})
	}
}

func TestSolveDropsWrongDetections(t *testing.T) {
	s := newScene(12)
	rng := rand.New(rand.NewPCG(3, 4))
	obs := s.observe(markers.A4, 0.2, rng)
	// One photo's marker 2 is 15 px off (a hand over it, a reflection),
	// another's corner is wildly off.
	for i := range obs {
		if obs[i].View == 3 && obs[i].ID == 2 {
			for k := range obs[i].Corners {
				obs[i].Corners[k][0] += 15
			}
		}
		if obs[i].View == 5 && obs[i].ID == 0 {
			obs[i].Corners[1] = [2]float64{3, 4}
		}
	}
	r, err := Solve(s.views, obs)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Found {
		t.Fatalf("not found: %s", r.Reason)
	}
	if rel := math.Abs(r.MMPerUnit-s.truth.Scale) / s.truth.Scale; rel > 0.001 {
		t.Errorf("scale %.4f%% off with outliers", 100*rel)
	}
}

func TestSolveNotEnough(t *testing.T) {
	s := newScene(12)
	rng := rand.New(rand.NewPCG(5, 6))
	all := s.observe(markers.A4, 0.2, rng)
	var onePhoto, twoMarkers []Observation
	for _, o := range all {
		if o.View == 0 {
			onePhoto = append(onePhoto, o)
		}
		if o.ID <= 1 {
			twoMarkers = append(twoMarkers, o)
		}
	}
	for _, c := range []struct {
		name string
		obs  []Observation
		want string
	}{
		{"none", nil, "no markers were found"},
		{"one photo", onePhoto, "only one photo"},
		{"two markers", twoMarkers, "only 2 of the sheet's markers"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := Solve(s.views, c.obs)
			if err != nil {
				t.Fatal(err)
			}
			if r.Found || !strings.Contains(r.Reason, c.want) {
				t.Errorf("Found %v, Reason %q, want not found and %q", r.Found, r.Reason, c.want)
			}
			if r.Transform != nil {
				t.Error("a transform without a scale")
			}
		})
	}
}

func TestSolveRejectsBadFit(t *testing.T) {
	// A sheet printed at 90 % ("fit to page") fits neither layout: the
	// markers are 27 mm but their spacing is not.
	s := newScene(12)
	rng := rand.New(rand.NewPCG(7, 8))
	var obs []Observation
	for vi := range s.views {
		v := &s.views[vi]
		for _, m := range markers.Layout(markers.A4).Markers {
			o := Observation{View: vi, ID: m.ID}
			ok := true
			for k, c := range m.Corners() {
				// Spacing at 90 %, each marker's own size kept.
				dx, dy := c[0]-m.Center[0], c[1]-m.Center[1]
				p := r3.Vec{X: 0.9*m.Center[0] + dx, Y: 0.9*m.Center[1] + dy}
				u, w, front := v.Project(s.toMdl(p))
				if !front || u < 0 || w < 0 || u > 1600 || w > 1200 {
					ok = false
					break
				}
				o.Corners[k] = [2]float64{u + 0.2*rng.NormFloat64(), w + 0.2*rng.NormFloat64()}
			}
			if ok {
				obs = append(obs, o)
			}
		}
	}
	r, err := Solve(s.views, obs)
	if err != nil {
		t.Fatal(err)
	}
	if r.Found {
		t.Errorf("found a scale (%g, misfit %.2f mm) for a sheet whose layout is wrong", r.MMPerUnit, r.ResidualRMS)
	}
	t.Log(r.Reason)
}

func TestSolveBadArguments(t *testing.T) {
	s := newScene(4)
	if _, err := Solve(s.views, []Observation{{View: 9}}); err == nil {
		t.Error("an observation of a view that does not exist: no error")
	}
	// Non-finite corners are ignored, not a panic.
	nan := math.NaN()
	obs := []Observation{{View: 0, ID: 1, Corners: [4][2]float64{{nan, 1}, {1, nan}, {math.Inf(1), 0}, {0, 0}}}, {View: 1, ID: 1}}
	if r, err := Solve(s.views, obs); err != nil || r.Found {
		t.Errorf("Solve = %+v, %v; want not found, no error", r, err)
	}
}

func TestNewView(t *testing.T) {
	m := &colmap.Model{Cameras: map[uint32]*colmap.Camera{
		1: {ID: 1, Model: "SIMPLE_RADIAL", Width: 1600, Height: 1200, Params: []float64{1000, 800, 600, 0.01}},
		2: {ID: 2, Model: "FULL_OPENCV", Params: make([]float64, 12)},
		3: {ID: 3, Model: "PINHOLE", Params: []float64{1000, 1000, 800}},
		4: {ID: 4, Model: "SIMPLE_PINHOLE", Params: []float64{-5, 800, 600}},
	}}
	for _, c := range []struct {
		cam uint32
		ok  bool
	}{{1, true}, {2, false}, {3, false}, {4, false}, {5, false}} {
		_, err := NewView(m, &colmap.Image{Name: "a.jpg", CameraID: c.cam, Q: [4]float64{1, 0, 0, 0}})
		if (err == nil) != c.ok {
			t.Errorf("camera %d: err %v, want ok %v", c.cam, err, c.ok)
		}
	}
	// Undistortion inverts distortion.
	in := intrinsics{fx: 1000, fy: 1000, cx: 800, cy: 600, k1: -0.05, k2: 0.01, p1: 0.001, p2: -0.002}
	for _, p := range [][2]float64{{0, 0}, {0.4, -0.3}, {-0.6, 0.45}} {
		u, w := in.distort(p[0], p[1])
		x, y := in.undistort(in.fx*u+in.cx, in.fy*w+in.cy)
		if math.Hypot(x-p[0], y-p[1]) > 1e-10 {
			t.Errorf("undistort(distort(%v)) = %v, %v", p, x, y)
		}
	}
}
