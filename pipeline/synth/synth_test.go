package synth

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/pipeline/mesh"
	"gonum.org/v1/gonum/spatial/r3"
)

func mustSpec(tb testing.TB, name string) *Spec {
	tb.Helper()
	b, ok := assets.Part(name)
	if !ok {
		tb.Fatalf("no built-in part %q", name)
	}
	s, err := ParseSpec(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestParseSpecRejects(t *testing.T) {
	for name, js := range map[string]string{
		"empty":          ``,
		"not object":     `[1]`,
		"no name":        `{"units":"mm","solid":{"sphere":{"center":[0,0,0],"radius":1}}}`,
		"inches":         `{"name":"a","units":"in","solid":{"sphere":{"center":[0,0,0],"radius":1}}}`,
		"unknown field":  `{"name":"a","units":"mm","solid":{"sphere":{"center":[0,0,0],"radius":1,"colour":2}}}`,
		"two kinds":      `{"name":"a","units":"mm","solid":{"sphere":{"center":[0,0,0],"radius":1},"box":{"center":[0,0,0],"size":[1,1,1]}}}`,
		"no kind":        `{"name":"a","units":"mm","solid":{}}`,
		"negative size":  `{"name":"a","units":"mm","solid":{"box":{"center":[0,0,0],"size":[1,-1,1]}}}`,
		"zero axis":      `{"name":"a","units":"mm","solid":{"cylinder":{"center":[0,0,0],"axis":[0,0,0],"radius":1,"height":1}}}`,
		"empty union":    `{"name":"a","units":"mm","solid":{"union":[]}}`,
		"huge":           `{"name":"a","units":"mm","solid":{"sphere":{"center":[1e300,0,0],"radius":1}}}`,
		"cone no radius": `{"name":"a","units":"mm","solid":{"cone":{"center":[0,0,0],"axis":[0,0,1],"radius1":0,"radius2":0,"height":1}}}`,
		"trailing":       `{"name":"a","units":"mm","solid":{"sphere":{"center":[0,0,0],"radius":1}}} {}`,
		"deep":           `{"name":"a","units":"mm","solid":` + strings.Repeat(`{"union":[`, 40) + `{"sphere":{"center":[0,0,0],"radius":1}}` + strings.Repeat(`]}`, 40) + `}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSpec(strings.NewReader(js)); err == nil {
				t.Errorf("ParseSpec(%s) = nil error, want an error", name)
			}
		})
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, n := range assets.PartNames() {
		b, _ := assets.Part(n)
		f.Add(b)
	}
	f.Add([]byte(`{"name":"c","units":"mm","solid":{"cone":{"center":[0,0,5],"axis":[0,1,1],"radius1":3,"radius2":0,"height":10},"rotate":{"axis":[1,0,0],"degrees":30},"translate":[1,2,3]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(bytes.NewReader(b))
		if err != nil {
			return
		}
		c := compile(s)
		tr := &tracer{}
		c.firstHit(vec{X: 500, Y: 3, Z: 7}, r3.Unit(vec{X: -1, Y: 0.01, Z: -0.02}), 0, tr)
		c.root.inside(vec{X: 1, Y: 2, Z: 3})
	})
}

// TestSpansAgreeWithInside checks the ray caster against point
// classification: along random rays, points inside a returned span are
// inside the solid and points outside every span are outside.
func TestSpansAgreeWithInside(t *testing.T) {
	specs := []*Spec{mustSpec(t, "bracket"), mustSpec(t, "stepped-block"), mustSpec(t, "flanged-cylinder")}
	mixed := `{"name":"mixed","units":"mm","solid":{"difference":[
	  {"union":[{"sphere":{"center":[0,0,20],"radius":15}},
	            {"cone":{"center":[0,0,10],"axis":[0.3,0.2,1],"radius1":12,"radius2":4,"height":20}},
	            {"box":{"center":[10,0,5],"size":[20,10,10],"rotate":{"axis":[0,0,1],"degrees":30}}}]},
	  {"intersection":[{"box":{"center":[0,0,20],"size":[8,40,8]}},{"sphere":{"center":[0,0,20],"radius":14}}]}
	],"rotate":{"axis":[1,1,0],"degrees":20},"translate":[3,-2,1]}}`
	s, err := ParseSpec(strings.NewReader(mixed))
	if err != nil {
		t.Fatal(err)
	}
	specs = append(specs, s)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range specs {
		c := compile(s)
		tr := &tracer{}
		b := c.bounds()
		mismatch, checked := 0, 0
		for r := 0; r < 400; r++ {
			target := vec{X: lerp(b.Min.X, b.Max.X, rng.Float64()), Y: lerp(b.Min.Y, b.Max.Y, rng.Float64()), Z: lerp(b.Min.Z, b.Max.Z, rng.Float64())}
			d := r3.Unit(vec{X: rng.NormFloat64(), Y: rng.NormFloat64(), Z: rng.NormFloat64()})
			o := r3.Sub(target, r3.Scale(200, d))
			ss := c.root.spans(o, d, tr, nil)
			for k := 0; k < 200; k++ {
				tt := rng.Float64() * 400
				in := false
				near := false
				for _, sp := range ss {
					if tt >= sp.in.t && tt <= sp.out.t {
						in = true
					}
					if math.Abs(tt-sp.in.t) < 1e-6 || math.Abs(tt-sp.out.t) < 1e-6 {
						near = true
					}
				}
				if near {
					continue
				}
				checked++
				if got := c.root.inside(r3.Add(o, r3.Scale(tt, d))); got != in {
					mismatch++
				}
			}
			for i := 1; i < len(ss); i++ {
				if ss[i].in.t < ss[i-1].out.t {
					t.Fatalf("%s: spans overlap or are unsorted: %+v", s.Name, ss)
				}
			}
		}
		if mismatch > 0 {
			t.Errorf("%s: %d of %d points disagree between spans and inside", s.Name, mismatch, checked)
		}
	}
}

func TestQuaternionRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		p := lookAt(vec{X: rng.NormFloat64() * 100, Y: rng.NormFloat64() * 100, Z: rng.Float64()*100 + 1}, vec{}, rng.NormFloat64())
		q := p.R.quaternion()
		w, x, y, z := q[0], q[1], q[2], q[3]
		// Rotation matrix from a unit quaternion (as COLMAP's QuaternionToRotationMatrix).
		back := mat3{
			1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
			2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
			2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
		}
		for k := range back {
			if math.Abs(back[k]-p.R[k]) > 1e-9 {
				t.Fatalf("quaternion %v does not give back R: %v vs %v", q, back, p.R)
			}
		}
		// The camera looks at the origin: it projects to the principal point.
		c := r3.Add(p.R.mul(vec{}), p.T)
		if c.Z <= 0 || math.Hypot(c.X, c.Y) > 1e-9*c.Z {
			t.Fatalf("origin in camera frame = %v, want on the +z axis", c)
		}
	}
}

// TestSurfaceWatertight checks groundtruth.stl's tessellation: closed,
// consistently oriented, and of the analytic volume and area.
func TestSurfaceWatertight(t *testing.T) {
	for _, tc := range []struct {
		part         string
		volume, area float64
	}{
		{"bracket", 80*40*12 - 2*math.Pi*16*12, 2*(80*40-2*math.Pi*16) + 2*(80+40)*12 + 2*2*math.Pi*4*12},
		{"stepped-block", 70*50*20 + 35*50*15 + math.Pi*100*15, 0},
	} {
		t.Run(tc.part, func(t *testing.T) {
			c := compile(mustSpec(t, tc.part))
			m, err := c.surface(context.Background(), 0.5)
			if err != nil {
				t.Fatal(err)
			}
			topo := m.Topology()
			if !topo.Watertight() {
				t.Errorf("surface not watertight: %+v", topo)
			}
			if topo.Components != 1 {
				t.Errorf("components = %d, want 1", topo.Components)
			}
			if v := m.SignedVolume(); math.Abs(v-tc.volume)/tc.volume > 0.005 {
				t.Errorf("volume = %.1f mm³, want %.1f ± 0.5%%", v, tc.volume)
			}
			if tc.area > 0 {
				if a := m.Area(); math.Abs(a-tc.area)/tc.area > 0.03 {
					t.Errorf("area = %.1f mm², want %.1f ± 3%%", a, tc.area)
				}
			}
			// Every vertex lies on the true surface: just inside and just
			// outside along some direction.
			for i := 0; i < len(m.Vertices); i += 97 {
				v := m.Vertices[i]
				onSurface := false
				for _, d := range []vec{{X: 1}, {Y: 1}, {Z: 1}, {X: -1}, {Y: -1}, {Z: -1}} {
					if c.root.inside(r3.Add(v, r3.Scale(1e-6, d))) != c.root.inside(r3.Sub(v, r3.Scale(1e-6, d))) {
						onSurface = true
						break
					}
				}
				if !onSurface {
					t.Fatalf("vertex %d at %v is not on the surface", i, v)
				}
			}
		})
	}
}

func TestGenerateSmall(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.Views, o.Width, o.Height = 4, 320, 240
	o.BlurViews, o.BlurSigma = []int{2}, 3
	o.ExposureViews, o.Exposure = []int{3}, 0.3
	o.MeshCell = 1
	truth, err := Generate(context.Background(), mustSpec(t, "bracket"), o, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Views) != 4 {
		t.Fatalf("views = %d, want 4", len(truth.Views))
	}
	for _, v := range truth.Views {
		if _, err := os.Stat(filepath.Join(dir, v.Image)); err != nil {
			t.Error(err)
		}
	}
	got, err := LoadTruth(filepath.Join(dir, "groundtruth.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Views[1].Blur != 3 || got.Views[2].Exposure != 0.3 || got.Views[0].Blur != 0 {
		t.Errorf("degradations not recorded: %+v", got.Views)
	}
	if got.Markers == nil || len(got.Markers.Markers) < 10 {
		t.Errorf("markers missing from truth")
	}
	f, err := os.Open(filepath.Join(dir, "groundtruth.stl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := mesh.ReadSTL(f)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Topology().Watertight() {
		t.Errorf("groundtruth.stl is not watertight")
	}
	// A second run into the same folder is allowed (an earlier capture); a
	// folder with someone's files is not.
	if _, err := Generate(context.Background(), mustSpec(t, "bracket"), o, dir); err != nil {
		t.Errorf("regenerating into an earlier capture: %v", err)
	}
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "IMG_0001.jpg"), []byte("precious"), 0o644)
	if _, err := Generate(context.Background(), mustSpec(t, "bracket"), o, other); err == nil {
		t.Errorf("Generate into a folder of other files succeeded; want a refusal")
	}
	if b, _ := os.ReadFile(filepath.Join(other, "IMG_0001.jpg")); string(b) != "precious" {
		t.Errorf("a user's file was changed")
	}
}

// TestEXIF reads our EXIF back with exiftool, an independent reader.
func TestEXIF(t *testing.T) {
	exiftool, err := exec.LookPath("exiftool")
	if err != nil {
		t.Skip("exiftool not installed: apt-get install libimage-exiftool-perl")
	}
	dir := t.TempDir()
	o := DefaultOptions()
	o.Views, o.Width, o.Height, o.MeshCell = 2, 160, 120, 2
	if _, err := Generate(context.Background(), mustSpec(t, "bracket"), o, dir); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(exiftool, "-s", "-n", "-Make", "-Model", "-FocalLength", "-FocalLengthIn35mmFormat",
		"-Orientation", "-ExifImageWidth", "-ExifImageHeight", "-DateTimeOriginal", "-Warning", filepath.Join(dir, "view_002.jpg")).CombinedOutput()
	if err != nil {
		t.Fatalf("exiftool: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		k, v, _ := strings.Cut(line, ":")
		got[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	want := map[string]string{
		"Make": "Replica", "Model": "Synthetic Camera", "FocalLength": "4.5", "FocalLengthIn35mmFormat": "25",
		"Orientation": "1", "ExifImageWidth": "160", "ExifImageHeight": "120", "DateTimeOriginal": "2026:11:25 10:00:04",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("exiftool %s = %q, want %q", k, got[k], v)
		}
	}
	if w, ok := got["Warning"]; ok {
		t.Errorf("exiftool warns: %s", w)
	}
}

func BenchmarkRenderView(b *testing.B) {
	o := DefaultOptions()
	c := compile(mustSpec(b, "bracket"))
	in := intrinsics(&o)
	plans := planViews(&o, vec{Z: 4}, autoDistance(c.bounds()), rand.New(rand.NewPCG(1, 1)))
	sc := &scene{part: c, light: r3.Unit(vec{X: 1, Y: 1, Z: 1}), key: 0.8, ambient: 0.35, matHalf: 300, pixelAngle: 1 / in.Fx}
	tr := &tracer{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sc.render(in, plans[i%len(plans)].pose, tr)
	}
}
