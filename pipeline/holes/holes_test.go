package holes

import (
	"context"
	"errors"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/mvs"
	"github.com/replica3d/replica/pipeline/synth"
)

// plate is the test part: a 40 × 30 × 10 mm plate on the mat with a
// Ø8 through hole at x = −10 and a Ø8 hole 5 mm deep at x = +10.
func plate() *synth.Spec {
	box := synth.Solid{Box: &synth.Box{Center: [3]float64{0, 0, 5}, Size: [3]float64{40, 30, 10}}}
	through := synth.Solid{Cylinder: &synth.Cylinder{Center: [3]float64{-10, 0, 5}, Axis: [3]float64{0, 0, 1}, Radius: 4, Height: 30}}
	blind := synth.Solid{Cylinder: &synth.Cylinder{Center: [3]float64{10, 0, 10}, Axis: [3]float64{0, 0, 1}, Radius: 4, Height: 10}}
	return &synth.Spec{Name: "plate", Units: "mm", Solid: synth.Solid{Difference: []synth.Solid{box, through, blind}}}
}

// render photographs spec as synth does and returns the photos as views
// with their true cameras, in the part's frame (mm).
func render(t testing.TB, spec *synth.Spec) []*mvs.View {
	t.Helper()
	o := synth.DefaultOptions()
	o.Views, o.Width, o.Height, o.Distance = 24, 960, 720, 200
	dir := t.TempDir()
	truth, err := synth.Generate(context.Background(), spec, o, dir)
	if err != nil {
		t.Fatal(err)
	}
	var views []*mvs.View
	for _, tv := range truth.Views {
		f, err := os.Open(filepath.Join(dir, tv.Image))
		if err != nil {
			t.Fatal(err)
		}
		img, err := jpeg.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		b := img.Bounds()
		v := &mvs.View{Name: tv.Image, W: b.Dx(), H: b.Dy(), T: tv.TVec,
			K: [4]float64{truth.Camera.Fx, truth.Camera.Fy, truth.Camera.Cx, truth.Camera.Cy}}
		w, x, y, z := tv.QVec[0], tv.QVec[1], tv.QVec[2], tv.QVec[3]
		v.R = [9]float64{1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y), 2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x), 2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y)}
		v.Gray = make([]float32, v.W*v.H)
		for j := range v.H {
			for i := range v.W {
				r, g, bl, _ := img.At(b.Min.X+i, b.Min.Y+j).RGBA()
				v.Gray[j*v.W+i] = float32(0.299*float64(r)+0.587*float64(g)+0.114*float64(bl)) / 65535
			}
		}
		views = append(views, v)
	}
	return views
}

// box returns a closed box mesh from lo to hi with faces about cell
// across: the plate as a mesher that closed its holes makes it.
func box(lo, hi r3.Vec, cell float64) *geom.Mesh {
	m := &geom.Mesh{}
	// Each side is a grid over two axes at a fixed third.
	side := func(o, du, dv r3.Vec) {
		nu := max(1, int(math.Round(r3.Norm(du)/cell)))
		nv := max(1, int(math.Round(r3.Norm(dv)/cell)))
		base := int32(len(m.Vertices))
		for j := 0; j <= nv; j++ {
			for i := 0; i <= nu; i++ {
				m.Vertices = append(m.Vertices, r3.Add(o, r3.Add(r3.Scale(float64(i)/float64(nu), du), r3.Scale(float64(j)/float64(nv), dv))))
			}
		}
		at := func(i, j int) int32 { return base + int32(j*(nu+1)+i) }
		for j := range nv {
			for i := range nu {
				m.Faces = append(m.Faces, [3]int32{at(i, j), at(i+1, j), at(i+1, j+1)}, [3]int32{at(i, j), at(i+1, j+1), at(i, j+1)})
			}
		}
	}
	d := r3.Sub(hi, lo)
	x, y, z := r3.Vec{X: d.X}, r3.Vec{Y: d.Y}, r3.Vec{Z: d.Z}
	side(lo, y, x)            // bottom, facing −z
	side(r3.Add(lo, z), x, y) // top
	side(lo, x, z)            // front, −y
	side(r3.Add(lo, y), z, x) // back, +y
	side(lo, z, y)            // left, −x
	side(r3.Add(lo, x), y, z) // right, +x
	return weld(m)
}

// weld merges the grids' coincident vertices.
func weld(m *geom.Mesh) *geom.Mesh {
	idx := map[[3]int64]int32{}
	remap := make([]int32, len(m.Vertices))
	out := &geom.Mesh{}
	for i, v := range m.Vertices {
		k := [3]int64{int64(math.Round(v.X * 1e6)), int64(math.Round(v.Y * 1e6)), int64(math.Round(v.Z * 1e6))}
		j, ok := idx[k]
		if !ok {
			j = int32(len(out.Vertices))
			idx[k] = j
			out.Vertices = append(out.Vertices, v)
		}
		remap[i] = j
	}
	for _, f := range m.Faces {
		out.Faces = append(out.Faces, [3]int32{remap[f[0]], remap[f[1]], remap[f[2]]})
	}
	return out
}

// TestFindAndCut: on photos of the plate, the plate's mesh without its
// holes gets both back: the through hole through, the blind one 5 mm
// deep, both Ø8, and cut, the mesh is watertight with the plate's true
// volume.
func TestFindAndCut(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 24 photos")
	}
	views := render(t, plate())
	capped := box(r3.Vec{X: -20, Y: -15}, r3.Vec{X: 20, Y: 15, Z: 10}, 0.5)
	if v := capped.SignedVolume(); math.Abs(v-12000) > 1e-6 || !capped.Topology().Watertight() {
		t.Fatalf("test box: volume %v, %+v", v, capped.Topology())
	}
	rep, err := Find(context.Background(), capped, views, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d faces, %d patches, %.2f s; rejected %+v", rep.Faces, rep.Patches, rep.Seconds, rep.Rejected)
	if len(rep.Holes) != 2 {
		t.Fatalf("found %d holes, want 2: %+v", len(rep.Holes), rep.Holes)
	}
	for _, h := range rep.Holes {
		t.Logf("hole at %.2f: Ø%.2f depth %.2f through %v seen %.2f; cap %.2f walls %.2f", h.Centre, h.Diameter, h.Depth, h.Through, h.SeenDepth, h.CapNCC, h.WallNCC)
		through := h.Centre.X < 0
		wantX := 10.0
		if through {
			wantX = -10
		}
		if math.Abs(h.Centre.X-wantX) > 0.3 || math.Abs(h.Centre.Y) > 0.3 || math.Abs(h.Centre.Z-10) > 1e-6 {
			t.Errorf("hole at %.2f, want (%g, 0, 10)", h.Centre, wantX)
		}
		if math.Abs(h.Diameter-8) > 0.2 {
			t.Errorf("hole at x %.1f: Ø%.2f, want 8 ± 0.2", h.Centre.X, h.Diameter)
		}
		if h.Through != through {
			t.Errorf("hole at x %.1f: through %v, want %v", h.Centre.X, h.Through, through)
		}
		if want := map[bool]float64{true: 10, false: 5}[through]; math.Abs(h.Depth-want) > 1 {
			t.Errorf("hole at x %.1f: depth %.2f, want %g ± 1", h.Centre.X, h.Depth, want)
		}
	}
	cut, crep, err := Cut(context.Background(), capped, rep.Holes)
	if err != nil {
		t.Fatal(err)
	}
	if crep.Cut != 2 || len(crep.Skipped) > 0 {
		t.Fatalf("cut %+v", crep)
	}
	if top := cut.Topology(); !top.Watertight() || top.InconsistentEdges > 0 {
		t.Errorf("cut mesh %+v, want watertight and consistently oriented", top)
	}
	want := 12000 - math.Pi*16*10 - math.Pi*16*5
	if v := cut.SignedVolume(); math.Abs(v-want) > 0.01*want {
		t.Errorf("volume %.1f, want %.1f ± 1%%", v, want)
	}
	if capped.SignedVolume() != 12000 {
		t.Error("Cut changed its input")
	}
}

func TestFindErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Find(ctx, &geom.Mesh{}, nil, nil); !errors.Is(err, ErrEmptyMesh) {
		t.Errorf("empty mesh: %v, want ErrEmptyMesh", err)
	}
	m := box(r3.Vec{}, r3.Vec{X: 1, Y: 1, Z: 1}, 0.5)
	if _, err := Find(ctx, m, []*mvs.View{{}}, nil); !errors.Is(err, ErrFewViews) {
		t.Errorf("one view: %v, want ErrFewViews", err)
	}
	bad := &geom.Mesh{Vertices: m.Vertices, Faces: [][3]int32{{0, 1, 99}}}
	if _, err := Find(ctx, bad, []*mvs.View{{}, {}}, nil); err == nil {
		t.Error("a face indexing past the vertices: no error")
	}
	short := &mvs.View{Name: "short", W: 4, H: 4, K: [4]float64{4, 4, 2, 2}, Gray: make([]float32, 15)}
	if _, err := Find(ctx, m, []*mvs.View{short, short}, nil); err == nil {
		t.Error("a photo with too few grey values: no error")
	}
	nan := &mvs.View{Name: "nan", W: 4, H: 4, K: [4]float64{math.NaN(), 4, 2, 2}, Gray: make([]float32, 16)}
	if _, err := Find(ctx, m, []*mvs.View{nan, nan}, nil); err == nil {
		t.Error("a camera of NaN: no error")
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	v := &mvs.View{W: 4, H: 4, K: [4]float64{4, 4, 2, 2}, R: [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, T: [3]float64{0, 0, 10}, Gray: make([]float32, 16)}
	if _, err := Find(cancelled, m, []*mvs.View{v, v}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want context.Canceled", err)
	}
	// Holes of another mesh, or none found, are left alone.
	out, rep, err := Cut(ctx, m, []Hole{{Diameter: 1}})
	if err != nil || rep.Cut != 0 || len(rep.Skipped) != 1 || len(out.Faces) != len(m.Faces) {
		t.Errorf("Cut of a foreign hole: %v %+v", err, rep)
	}
}

// TestFindNoHoles: a plate without holes, textured like the others, shows
// none: its faces agree across the photos everywhere.
func TestFindNoHoles(t *testing.T) {
	if testing.Short() {
		t.Skip("renders 24 photos")
	}
	spec := &synth.Spec{Name: "block", Units: "mm", Solid: synth.Solid{Box: &synth.Box{Center: [3]float64{0, 0, 5}, Size: [3]float64{40, 30, 10}}}}
	views := render(t, spec)
	m := box(r3.Vec{X: -20, Y: -15}, r3.Vec{X: 20, Y: 15, Z: 10}, 0.5)
	rep, err := Find(context.Background(), m, views, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Holes) > 0 || rep.Faces < 5 {
		t.Errorf("%d flat faces checked, holes %+v; want 5 or 6 faces and no holes", rep.Faces, rep.Holes)
	}
}

// BenchmarkFind checks the plate's capped mesh against 24 photos of
// 960×720 and cuts its holes.
func BenchmarkFind(b *testing.B) {
	views := render(b, plate())
	capped := box(r3.Vec{X: -20, Y: -15}, r3.Vec{X: 20, Y: 15, Z: 10}, 0.5)
	b.ResetTimer()
	for b.Loop() {
		rep, err := Find(context.Background(), capped, views, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := Cut(context.Background(), capped, rep.Holes); err != nil {
			b.Fatal(err)
		}
	}
}
