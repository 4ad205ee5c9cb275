package match

import (
	"image"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
)

// refSegment is the segment test done the slow way: whether 9 contiguous
// pixels of ring are all brighter than centre+thr or all darker than
// centre−thr.
func refSegment(centre int, ring *[16]int, thr int) bool {
	for start := range 16 {
		bright, dark := true, true
		for j := range 9 {
			p := ring[(start+j)%16]
			bright = bright && p > centre+thr
			dark = dark && p < centre-thr
		}
		if bright || dark {
			return true
		}
	}
	return false
}

func TestSegmentScoreMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	// The centre is pixel j+3 = 3 of the middle row, j = 0.
	var grid [7][71]uint8
	rows := [7]*[71]uint8{&grid[0], &grid[1], &grid[2], &grid[3], &grid[4], &grid[5], &grid[6]}
	corners := 0
	for n := range 5000 {
		v := rng.IntN(256)
		var ring [16]int
		for k := range ring {
			ring[k] = rng.IntN(256)
		}
		// Most rings get an arc of brighter or darker pixels, so that both
		// outcomes of the test are common.
		if n%4 != 0 {
			start, length := rng.IntN(16), 6+rng.IntN(11)
			sign := 1 - 2*rng.IntN(2)
			for j := range length {
				ring[(start+j)%16] = min(max(v+sign*(1+rng.IntN(80)), 0), 255)
			}
		}
		grid[3][3] = uint8(v)
		for k, c := range circle {
			grid[3+c[1]][3+c[0]] = uint8(ring[k])
		}
		// The reference score: one more than the largest threshold at
		// which it is a corner (a corner at t is one at every t' < t).
		want := 0
		for thr := 0; thr < 256 && refSegment(v, &ring, thr); thr++ {
			want = thr + 1
		}
		for _, thr := range []int{1, 7, 20, 50} {
			s := new(scratch)
			s.reset(1, 1, thr)
			got := segmentScore(&rows, 0, &s.fast, thr)
			wantThr := 0
			if refSegment(v, &ring, thr) {
				wantThr = want
				corners++
			}
			if got != wantThr {
				t.Fatalf("segmentScore(centre %d, ring %v, thr %d) = %d, want %d", v, ring, thr, got, wantThr)
			}
		}
	}
	if corners < 2500 {
		t.Errorf("only %d corners among the cases; the test is too weak", corners)
	}
}

func TestFASTOnShapes(t *testing.T) {
	// A bright square on a dark ground: its four corners are FAST corners,
	// the middles of its sides are not.
	const n = 100
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := 30; y < 70; y++ {
		for x := 30; x < 70; x++ {
			img.Pix[y*n+x] = 200
		}
	}
	s := new(scratch)
	s.reset(n*n, n*n, 20)
	got := s.detectFAST(img.Pix, n, n)
	near := func(x, y int) bool {
		for _, c := range got {
			if abs(int(c.x)-x) <= 2 && abs(int(c.y)-y) <= 2 {
				return true
			}
		}
		return false
	}
	for _, c := range [][2]int{{30, 30}, {69, 30}, {30, 69}, {69, 69}} {
		if !near(c[0], c[1]) {
			t.Errorf("no corner near the square's corner %v; corners %v", c, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d corners after non-maximum suppression, want 4: %v", len(got), got)
	}
	for _, m := range [][2]int{{50, 30}, {30, 50}, {69, 50}, {50, 69}} {
		if near(m[0], m[1]) {
			t.Errorf("corner near the middle of a side %v", m)
		}
	}
	// Below the threshold, nothing.
	for i := range img.Pix {
		if img.Pix[i] == 200 {
			img.Pix[i] = 15
		}
	}
	if got := s.detectFAST(img.Pix, n, n); len(got) != 0 {
		t.Errorf("corners of a square of contrast 15 at threshold 20: %v", got)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestDetectNeverPanics(t *testing.T) {
	black := image.NewGray(image.Rect(0, 0, 640, 480))
	grey := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range grey.Pix {
		grey.Pix[i] = 128
	}
	checker := image.NewGray(image.Rect(0, 0, 120, 90))
	for y := range 90 {
		for x := range 120 {
			if (x+y)%2 == 0 {
				checker.Pix[y*120+x] = 255
			}
		}
	}
	tests := []struct {
		name string
		img  *image.Gray
		opt  *Options
		none bool // no keypoints expected
	}{
		{"nil", nil, nil, true},
		{"empty", image.NewGray(image.Rectangle{}), nil, true},
		{"1x1", image.NewGray(image.Rect(0, 0, 1, 1)), nil, true},
		{"Pix too short", &image.Gray{Pix: make([]uint8, 50), Stride: 100, Rect: image.Rect(0, 0, 100, 100)}, nil, true},
		{"Stride too small", &image.Gray{Pix: make([]uint8, 10000), Stride: 50, Rect: image.Rect(0, 0, 100, 100)}, nil, true},
		{"smaller than a patch", renderTexture(36, 300, 1), nil, true},
		{"one patch", renderTexture(37, 37, 2), nil, false},
		{"thin", renderTexture(40, 2000, 3), nil, false},
		{"all black", black, nil, true},
		{"constant", grey, nil, true},
		{"pixel checkerboard", checker, nil, false},
		{"zero options", renderTexture(200, 150, 4), &Options{}, false},
		{"wild options", renderTexture(200, 150, 5), &Options{MaxFeatures: math.MaxInt, Levels: 1000, ScaleFactor: math.NaN(), FASTThreshold: 1000}, false},
		{"negative options", renderTexture(200, 150, 6), &Options{MaxFeatures: -1, Levels: -1, ScaleFactor: -2, FASTThreshold: -5}, false},
		{"infinite scale", renderTexture(200, 150, 7), &Options{ScaleFactor: math.Inf(1)}, false},
		{"huge scale", renderTexture(200, 150, 8), &Options{ScaleFactor: 1e6}, false},
		{"one feature", renderTexture(200, 150, 9), &Options{MaxFeatures: 1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Detect(tt.img, tt.opt)
			if f == nil {
				t.Fatal("Detect returned nil")
			}
			if tt.img != nil && (f.Width != tt.img.Rect.Dx() || f.Height != tt.img.Rect.Dy()) {
				t.Errorf("size %d×%d, want %v", f.Width, f.Height, tt.img.Rect.Size())
			}
			if len(f.Desc) != len(f.Keypoints) {
				t.Errorf("%d descriptors for %d keypoints", len(f.Desc), len(f.Keypoints))
			}
			if tt.none && len(f.Keypoints) != 0 {
				t.Errorf("%d keypoints, want none", len(f.Keypoints))
			}
			checkKeypoints(t, f)
		})
	}
}

// checkKeypoints checks the invariants of Detect's output.
func checkKeypoints(t *testing.T, f *Features) {
	t.Helper()
	for i, k := range f.Keypoints {
		scale := k.Size / (2*patchRadius + 1)
		margin := float64(edge)*scale - scale // edge level pixels, less rounding
		if !(k.X >= margin && k.Y >= margin && k.X <= float64(f.Width-1)-margin && k.Y <= float64(f.Height-1)-margin) {
			t.Errorf("keypoint %d at (%.1f, %.1f) of level %d is within %.1f px of the border of %d×%d",
				i, k.X, k.Y, k.Level, margin, f.Width, f.Height)
		}
		if !(k.Angle >= -math.Pi && k.Angle <= math.Pi) {
			t.Errorf("keypoint %d: angle %v", i, k.Angle)
		}
		if i > 0 {
			p := f.Keypoints[i-1]
			if k.Level < p.Level || (k.Level == p.Level && k.Score > p.Score) {
				t.Errorf("keypoints %d, %d out of order: level %d score %g, then level %d score %g",
					i-1, i, p.Level, p.Score, k.Level, k.Score)
			}
		}
	}
}

func TestDetectProperties(t *testing.T) {
	img := renderTexture(640, 480, 11)
	f := Detect(img, nil)
	if len(f.Keypoints) != DefaultMaxFeatures {
		t.Errorf("%d keypoints on a textured image, want %d", len(f.Keypoints), DefaultMaxFeatures)
	}
	checkKeypoints(t, f)
	levels := map[int]int{}
	distinct := map[[4]uint64]bool{}
	for i, k := range f.Keypoints {
		levels[k.Level]++
		distinct[f.Desc[i]] = true
	}
	if len(levels) != DefaultLevels {
		t.Errorf("keypoints on levels %v, want all %d levels", levels, DefaultLevels)
	}
	if len(distinct) < len(f.Keypoints)*99/100 {
		t.Errorf("only %d distinct descriptors among %d", len(distinct), len(f.Keypoints))
	}
	// About half the bits of a descriptor are set.
	ones := 0
	for _, d := range f.Desc {
		for _, w := range d {
			ones += bits.OnesCount64(w)
		}
	}
	if mean := float64(ones) / float64(len(f.Desc)); mean < 100 || mean > 156 {
		t.Errorf("mean of %.1f bits set per descriptor, want about 128", mean)
	}
	if g := Detect(img, nil); !reflect.DeepEqual(f, g) {
		t.Error("Detect is not deterministic")
	}
}

func TestDetectOptions(t *testing.T) {
	img := renderTexture(640, 480, 12)
	def := Detect(img, nil)
	tests := []struct {
		name  string
		opt   Options
		check func(t *testing.T, f *Features)
	}{
		{"MaxFeatures", Options{MaxFeatures: 150}, func(t *testing.T, f *Features) {
			if n := len(f.Keypoints); n > 150 || n < 140 {
				t.Errorf("%d keypoints, want 140 to 150", n)
			}
		}},
		{"one level", Options{Levels: 1}, func(t *testing.T, f *Features) {
			for _, k := range f.Keypoints {
				if k.Level != 0 || k.Size != 2*patchRadius+1 {
					t.Fatalf("keypoint on level %d, size %g", k.Level, k.Size)
				}
			}
		}},
		{"three levels of 2", Options{Levels: 3, ScaleFactor: 2}, func(t *testing.T, f *Features) {
			for _, k := range f.Keypoints {
				want := (2*patchRadius + 1) * math.Pow(2, float64(k.Level))
				if k.Level > 2 || math.Abs(k.Size-want) > 1e-9 {
					t.Fatalf("keypoint on level %d, size %g, want at most level 2, size %g", k.Level, k.Size, want)
				}
			}
		}},
		{"high threshold", Options{FASTThreshold: 120}, func(t *testing.T, f *Features) {
			if len(f.Keypoints) >= len(def.Keypoints) {
				t.Errorf("%d keypoints at threshold 120, %d at the default", len(f.Keypoints), len(def.Keypoints))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := Detect(img, &tt.opt)
			checkKeypoints(t, f)
			tt.check(t, f)
		})
	}
}

// TestDetectUpright: upright descriptors are the steered ones of keypoints
// with angle 0, and AlsoUpright adds them to the steered ones of the same
// keypoints.
func TestDetectUpright(t *testing.T) {
	img := renderTexture(640, 480, 13)
	steered := Detect(img, nil)
	up := Detect(img, &Options{Upright: true})
	both := Detect(img, &Options{AlsoUpright: true})
	if steered.AsUpright() != nil || up.AsUpright() != nil {
		t.Errorf("AsUpright of features without upright descriptors is not nil")
	}
	if len(up.Keypoints) == 0 || !reflect.DeepEqual(both.Desc, steered.Desc) || !reflect.DeepEqual(both.Keypoints, steered.Keypoints) {
		t.Fatalf("AlsoUpright changed the keypoints or steered descriptors")
	}
	u := both.AsUpright()
	if u == nil || !reflect.DeepEqual(u.Desc, up.Desc) || u.UprightDesc != nil {
		t.Fatalf("AsUpright descriptors differ from those of Upright")
	}
	for i, k := range up.Keypoints {
		if k.Angle != 0 {
			t.Fatalf("upright keypoint %d has angle %g", i, k.Angle)
		}
		k.Angle = steered.Keypoints[i].Angle
		if k != steered.Keypoints[i] {
			t.Fatalf("upright keypoint %d = %+v, steered %+v", i, k, steered.Keypoints[i])
		}
	}
	empty := Detect(image.NewGray(image.Rect(0, 0, 10, 10)), &Options{AlsoUpright: true})
	if empty.AsUpright() != nil && len(empty.AsUpright().Desc) != 0 {
		t.Errorf("upright descriptors on an image too small for keypoints")
	}
}

// TestDetectConcurrent runs Detect from several goroutines, which share
// the pool of scratch buffers, on images of different sizes.
func TestDetectConcurrent(t *testing.T) {
	imgs := []*image.Gray{renderTexture(300, 200, 16), renderTexture(200, 300, 17), renderTexture(64, 64, 18), renderTexture(400, 100, 19)}
	want := make([]*Features, len(imgs))
	for i, img := range imgs {
		want[i] = Detect(img, nil)
	}
	var wg sync.WaitGroup
	got := make([]*Features, 4*len(imgs))
	for i := range got {
		wg.Go(func() { got[i] = Detect(imgs[i%len(imgs)], nil) })
	}
	wg.Wait()
	for i, f := range got {
		if !reflect.DeepEqual(f, want[i%len(imgs)]) {
			t.Errorf("concurrent Detect %d differs from a sequential one", i)
		}
	}
}

func TestDetectSubImage(t *testing.T) {
	img := renderTexture(500, 400, 13)
	r := image.Rect(37, 21, 463, 380)
	sub := img.SubImage(r).(*image.Gray)
	tight := image.NewGray(image.Rect(0, 0, r.Dx(), r.Dy()))
	for y := range r.Dy() {
		copy(tight.Pix[y*tight.Stride:], img.Pix[(y+r.Min.Y)*img.Stride+r.Min.X:][:r.Dx()])
	}
	got, want := Detect(sub, nil), Detect(tight, nil)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Detect of a sub-image differs from Detect of a copy: %d and %d keypoints", len(got.Keypoints), len(want.Keypoints))
	}
}

// TestDetectSpread checks the grid quota: where one half of the image has
// half the contrast of the other, and so a sixteenth of the Harris
// response, it still gets a fair share of the keypoints.
func TestDetectSpread(t *testing.T) {
	img := renderTexture(640, 480, 14)
	for y := range 480 {
		for x := 320; x < 640; x++ {
			p := &img.Pix[y*img.Stride+x]
			*p = uint8(128 + (int(*p)-128)/2)
		}
	}
	for _, n := range []int{200, 1000} {
		f := Detect(img, &Options{MaxFeatures: n})
		right := 0
		for _, k := range f.Keypoints {
			if k.X > 320 {
				right++
			}
		}
		if share := float64(right) / float64(len(f.Keypoints)); share < 0.3 {
			t.Errorf("MaxFeatures %d: %.0f%% of %d keypoints in the low-contrast half, want at least 30%%",
				n, 100*share, len(f.Keypoints))
		}
	}
}

// TestQuarterTurn turns an image by exactly 90°: the same corners must be
// found, their angles a quarter turn apart and their descriptors equal or
// nearly so (steered BRIEF).
func TestQuarterTurn(t *testing.T) {
	const n = 400
	img := renderTexture(n, n, 15)
	rot := image.NewGray(img.Rect)
	// rot(x', y') = img(x, y) with x' = n−1−y, y' = x: vectors turn by
	// +90°, from +x towards +y.
	for y := range n {
		for x := range n {
			rot.Pix[x*n+(n-1-y)] = img.Pix[y*n+x]
		}
	}
	a, b := Detect(img, nil), Detect(rot, nil)
	type key struct{ level, x, y int }
	at := map[key]int{}
	for j, k := range b.Keypoints {
		at[key{k.Level, int(math.Round(k.X * 8)), int(math.Round(k.Y * 8))}] = j
	}
	found, close := 0, 0
	for i, k := range a.Keypoints {
		j, ok := at[key{k.Level, int(math.Round((n - 1 - k.Y) * 8)), int(math.Round(k.X * 8))}]
		if !ok {
			continue
		}
		found++
		da := math.Remainder(b.Keypoints[j].Angle-k.Angle-math.Pi/2, 2*math.Pi)
		if math.Abs(da) > 0.05 {
			t.Errorf("keypoint %d: angle %.4f, turned %.4f, want a difference of π/2", i, k.Angle, b.Keypoints[j].Angle)
		}
		if hamming(&a.Desc[i], &b.Desc[j]) <= 8 {
			close++
		}
	}
	if found < len(a.Keypoints)*7/10 {
		t.Errorf("%d of %d keypoints found again in the turned image, want 70%%", found, len(a.Keypoints))
	}
	if close < found*95/100 {
		t.Errorf("%d of %d descriptors within 8 bits of the turned one, want 95%%", close, found)
	}
}

func hamming(a, b *[4]uint64) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}

func TestPattern(t *testing.T) {
	seen := map[[4]float64]bool{}
	for k, p := range briefPattern {
		for _, c := range [][2]float64{{p[0], p[1]}, {p[2], p[3]}} {
			if c[0]*c[0]+c[1]*c[1] > patchRadius*patchRadius || c[0] != math.Round(c[0]) || c[1] != math.Round(c[1]) {
				t.Errorf("pair %d: point %v is not a pixel of the disc of radius %d", k, c, patchRadius)
			}
		}
		if p[0] == p[2] && p[1] == p[3] {
			t.Errorf("pair %d compares a point with itself", k)
		}
		if seen[p] {
			t.Errorf("pair %d repeats", k)
		}
		seen[p] = true
	}
	if makePattern() != briefPattern {
		t.Error("makePattern is not deterministic")
	}
	for v := range umax {
		for u := -umax[v]; u <= umax[v]; u++ {
			if au := abs(u); au <= patchRadius && abs(v) > umax[au] {
				t.Errorf("orientation disc not symmetric: (%d, %d) in, (%d, %d) out", u, v, v, u)
			}
		}
	}
}
