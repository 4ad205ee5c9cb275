package mvs

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"gonum.org/v1/gonum/spatial/r3"
)

var allSources = []int{1, 2, 3, 4}

// testOptions are the standard options with a fixed seed and two workers,
// so that the checkerboard's parallel passes run under the race detector.
func testOptions() *Options {
	o := DefaultOptions("standard")
	o.Workers = 2
	return &o
}

// planeCases are the test planes of the depth tests: fronto-parallel to
// the reference and slanted 40° about its y axis.
var planeCases = []struct {
	name   string
	normal r3.Vec
}{
	{"fronto-parallel", r3.Vec{Z: -1}},
	{"slanted 40°", tilted(40)},
}

func tilted(deg float64) r3.Vec {
	a := deg * math.Pi / 180
	return r3.Vec{X: math.Sin(a), Z: -math.Cos(a)}
}

func TestCost(t *testing.T) {
	for _, tc := range planeCases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, tc.normal, 1)
			e, err := newEstimator(0, s.views, allSources, 7, 14, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			want := truth(s.views[0], s.pl)
			var sc scratch
			var sumTrue, sumWrong float64
			var n int
			for y := 20; y < testH-20; y += 7 {
				for x := 20; x < testW-20; x += 7 {
					p := y*testW + x
					rx, ry := e.ray(x, y)
					nrm := [3]float32{want.Normal[3*p], want.Normal[3*p+1], want.Normal[3*p+2]}
					d := want.Depth[p]
					cTrue := e.score(x, y, rx, ry, d, nrm, &sc)
					cWrong := e.score(x, y, rx, ry, d*1.05, nrm, &sc)
					sumTrue += float64(cTrue)
					sumWrong += float64(cWrong)
					n++
					if cTrue > 0.06 {
						t.Errorf("cost of the true plane at (%d, %d) = %.3f, want < 0.06", x, y, cTrue)
					}
					if cWrong <= cTrue {
						t.Errorf("cost 5%% off the true depth at (%d, %d) = %.3f, want > %.3f, the true plane's", x, y, cWrong, cTrue)
					}
				}
			}
			if m := sumWrong / float64(n); m < 0.2 {
				t.Errorf("mean cost 5%% off the true depth = %.3f, want > 0.2", m)
			}
			t.Logf("mean cost: true plane %.4f, 5%% too deep %.4f (%d pixels)", sumTrue/float64(n), sumWrong/float64(n), n)
		})
	}
}

// TestEstimateDepth runs with the presets' 9×9 window sampled every other
// pixel and with a dense 5×5 window (Options.Stride 1), whose normals are
// less steady.
func TestEstimateDepth(t *testing.T) {
	windows := []struct {
		name           string
		radius, stride int
		normals        float64 // share of normals within 5° wanted
	}{{"9×9 sparse", 4, 2, 0.8}, {"5×5", 2, 1, 0.75}}
	for _, win := range windows {
		for _, tc := range planeCases {
			t.Run(win.name+" "+tc.name, func(t *testing.T) {
				s := newScene(t, tc.normal, 2)
				o := testOptions()
				o.WindowRadius, o.Stride = win.radius, win.stride
				dm, err := EstimateDepth(context.Background(), 0, s.views, allSources, 7, 14, o)
				if err != nil {
					t.Fatal(err)
				}
				st := s.depthErrors(0, allSources, dm, o.TopK, o.WindowRadius, 0.005, 5)
				t.Logf("0.5%%, 5°: %v", st)
				if st.n < testW*testH/3 {
					t.Fatalf("only %d pixels to check", st.n)
				}
				if st.depthOK < 0.9 {
					t.Errorf("%.1f%% of depths within 0.5%%, want ≥ 90%%", 100*st.depthOK)
				}
				if st.normalOK < win.normals {
					t.Errorf("%.1f%% of normals within 5°, want ≥ %.0f%%", 100*st.normalOK, 100*win.normals)
				}
			})
		}
	}
}

// TestPropagation starts from the true plane at a sparse grid of seeds and
// random hypotheses elsewhere, without refinement: propagation alone must
// carry the seeds' planes to almost every pixel.
func TestPropagation(t *testing.T) {
	s := newScene(t, tilted(30), 3)
	o := testOptions()
	o.Iterations = 2
	e, err := newEstimator(0, s.views, allSources, 7, 14, o)
	if err != nil {
		t.Fatal(err)
	}
	e.refine = false
	want := truth(s.views[0], s.pl)
	init := newDepthMap(testW, testH)
	const spacing = 16
	for y := spacing / 2; y < testH; y += spacing {
		for x := spacing / 2; x < testW; x += spacing {
			p := y*testW + x
			init.Depth[p] = want.Depth[p]
			copy(init.Normal[3*p:3*p+3], want.Normal[3*p:3*p+3])
		}
	}
	if err := e.run(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	st := s.depthErrors(0, allSources, e.dm, o.TopK, o.WindowRadius, 0.001, 1)
	t.Logf("0.1%%, 1°: %v", st)
	if st.depthOK < 0.95 {
		t.Errorf("%.1f%% of depths within 0.1%% after propagation from seeds every %d pixels, want ≥ 95%%", 100*st.depthOK, spacing)
	}
}

func TestEstimateDepthNoTexture(t *testing.T) {
	s := newScene(t, r3.Vec{Z: -1}, 4)
	for _, v := range s.views {
		for i := range v.Gray {
			v.Gray[i] = 0.5
		}
	}
	_, err := EstimateDepth(context.Background(), 0, s.views, allSources, 7, 14, testOptions())
	if !errors.Is(err, ErrNoTexture) {
		t.Fatalf("EstimateDepth on flat images: error %v, want ErrNoTexture", err)
	}
	t.Log(err)
}

func TestEstimateDepthNoSources(t *testing.T) {
	s := newScene(t, r3.Vec{Z: -1}, 4)
	_, err := EstimateDepth(context.Background(), 0, s.views, nil, 7, 14, testOptions())
	if !errors.Is(err, ErrNoOverlap) {
		t.Fatalf("EstimateDepth with no sources: error %v, want ErrNoOverlap", err)
	}
}

func TestEstimateDepthCancel(t *testing.T) {
	s := newScene(t, r3.Vec{Z: -1}, 5)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := EstimateDepth(ctx, 0, s.views, allSources, 7, 14, testOptions()); !errors.Is(err, context.Canceled) {
		t.Errorf("EstimateDepth with a cancelled context: error %v, want context.Canceled", err)
	}

	// Cancelled while running: many iterations would take seconds.
	o := testOptions()
	o.Iterations = 1000
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err := EstimateDepth(ctx, 0, s.views, allSources, 7, 14, o)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("EstimateDepth cancelled after 50 ms: error %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("EstimateDepth returned %v after the start, %v after cancellation", d, d-50*time.Millisecond)
	}
}
