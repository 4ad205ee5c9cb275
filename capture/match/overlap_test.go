package match

import (
	"math"
	"testing"
)

// gridFeatures has a keypoint at the centre of every cell of an n×n grid
// over a w×h image, in row-major order.
func gridFeatures(w, h, n int) *Features {
	f := &Features{Width: w, Height: h}
	for j := range n {
		for i := range n {
			f.Keypoints = append(f.Keypoints, Keypoint{
				X: (float64(i) + 0.5) * float64(w) / float64(n),
				Y: (float64(j) + 0.5) * float64(h) / float64(n),
			})
		}
	}
	return f
}

func TestOverlap(t *testing.T) {
	a, b := gridFeatures(1024, 768, 16), gridFeatures(1024, 768, 16)
	// Keypoints of the left half of a, matched to the top half of b.
	var left []Pair
	for i, k := range a.Keypoints {
		if k.X < 512 {
			j := (i%16)/8*16 + i/16 + (i%8)*32
			left = append(left, Pair{A: i, B: j % 256})
		}
	}
	got := Overlap(a, b, left)
	if got.Inliers != 128 || got.CoverageA != 0.5 {
		t.Errorf("Overlap(left half) = %+v, want 128 inliers, CoverageA 0.5", got)
	}
	want := math.Sqrt(got.CoverageA*got.CoverageB) * (1 - math.Exp(-128.0/30))
	if math.Abs(got.Score-want) > 1e-12 {
		t.Errorf("Score = %g, want %g", got.Score, want)
	}

	// Cells without keypoints do not count: where a has keypoints in its
	// left half only, inliers there cover all of it.
	half := &Features{Width: 1024, Height: 768}
	for _, k := range a.Keypoints {
		if k.X < 512 {
			half.Keypoints = append(half.Keypoints, k)
		}
	}
	var all []Pair
	for i := range half.Keypoints {
		all = append(all, Pair{A: i, B: i})
	}
	if got := Overlap(half, b, all); got.CoverageA != 1 || got.CoverageB != 0.5 {
		t.Errorf("Overlap(textured half) = %+v, want CoverageA 1, CoverageB 0.5", got)
	}

	// More inliers over the same cells score higher.
	few := Overlap(a, b, all[:64:64])
	more := Overlap(a, b, append(all[:64:64], all[64:]...))
	if !(few.Score < more.Score) || few.Score <= 0 || more.Score > 1 {
		t.Errorf("scores %g then %g; want 0 < first < second ≤ 1", few.Score, more.Score)
	}
}

func TestOverlapDegenerate(t *testing.T) {
	a := gridFeatures(1024, 768, 4)
	tests := []struct {
		name string
		a, b *Features
		m    []Pair
	}{
		{"no inliers", a, a, nil},
		{"nil features", nil, nil, []Pair{{A: 0, B: 0}}},
		{"out of range", a, a, []Pair{{A: 16, B: 0}, {A: 0, B: -1}}},
		{"zero size", &Features{Keypoints: a.Keypoints}, &Features{Keypoints: a.Keypoints}, []Pair{{A: 0, B: 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Overlap(tt.a, tt.b, tt.m)
			if got.Score != 0 || math.IsNaN(got.CoverageA) || math.IsNaN(got.CoverageB) {
				t.Errorf("Overlap = %+v, want score 0", got)
			}
		})
	}
}

// TestCompareImages warps a rendered image by known maps and checks that
// Compare finds the overlap, with inliers where the warp puts them.
func TestCompareImages(t *testing.T) {
	const w, h = 640, 480
	img := renderTexture(w, h, 31)
	a := Detect(img, nil)
	persp := similarity(w, h, 8, 0.9, 12, -7)
	persp[6], persp[7] = 2e-4, -1e-4
	tests := []struct {
		name     string
		H        [9]float64
		minScore float64
		maxScore float64
	}{
		{"shift", similarity(w, h, 0, 1, 17.3, -9.6), 0.7, 1},
		{"perspective", persp, 0.6, 1},
		{"rotated 30°", similarity(w, h, 30, 1, 0, 0), 0.5, 1},
		{"rotated 90° and scaled", similarity(w, h, 90, 0.8, 0, 0), 0.4, 1},
		{"zoomed in", similarity(w, h, -5, 1.4, 0, 0), 0.2, 1},
		// The right half of a is the left half of b; the right half of b
		// is blank and does not count.
		{"half overlap", similarity(w, h, 0, 1, -w/2, 0), 0.25, 0.8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := Detect(warp(img, w, h, tt.H), nil)
			r := Compare(a, b, 500, 500)
			if !r.Verified {
				t.Fatalf("not verified: %s", describeResult(r))
			}
			near := 0
			for _, p := range r.Inliers {
				if warpError(&tt.H, a, b, p) <= 2 {
					near++
				}
			}
			t.Logf("%s; %d inliers within 2 px of the warp", describeResult(r), near)
			if near < len(r.Inliers)*8/10 {
				t.Errorf("%d of %d inliers within 2 px of the warp, want 80%%", near, len(r.Inliers))
			}
			if s := r.Overlap.Score; s < tt.minScore || s > tt.maxScore {
				t.Errorf("score %.3f, want %.2f to %.2f", s, tt.minScore, tt.maxScore)
			}
		})
	}
	t.Run("unrelated", func(t *testing.T) {
		b := Detect(renderTexture(w, h, 32), nil)
		r := Compare(a, b, 500, 500)
		t.Log(describeResult(r))
		if r.Verified && r.Overlap.Score > 0.05 {
			t.Errorf("unrelated images: %s; want not verified or a score under 0.05", describeResult(r))
		}
	})
}

func TestCompareEmpty(t *testing.T) {
	none := Detect(nil, nil)
	some := Detect(renderTexture(200, 150, 33), nil)
	for _, c := range [][2]*Features{{nil, nil}, {none, some}, {some, none}, {nil, some}} {
		r := Compare(c[0], c[1], 500, 500)
		if r.Verified || r.PoseOK || r.Overlap.Score != 0 || r.Inliers != nil {
			t.Errorf("Compare of empty features: %+v", r)
		}
	}
}
