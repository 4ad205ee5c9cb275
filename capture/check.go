package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/replica3d/replica/capture/match"
)

// Guideline photo counts for a part.
const (
	MinPhotos = 20
	MaxPhotos = 50
)

// Thresholds of the per-photo and set checks. Sharpness and brightness are
// judged both absolutely and against the set's median, so a set shot in
// dim light is not all "underexposed" and one shaken photo stands out.
const (
	blurryAbs       = 60   // sharpness below this is blurry whatever the set (sharp photos: 120–250)
	blurryRel       = 0.6  // … or below this share of the set's median
	darkAbs         = 0.12 // mean luminance below this is underexposed
	brightAbs       = 0.85 // … above this overexposed
	clippedMax      = 0.15 // share of clipped highlights that makes a photo overexposed
	crushedMax      = 0.30 // share of crushed shadows that makes it underexposed
	exposureRel     = 2.0  // linear brightness more than this factor off the set's median
	lowResFail      = 0.3e6
	lowResWarn      = 1.5e6
	wbRel           = 0.15  // white balance (R/G or B/G) more than 15 % off the median
	lightingSpread  = 1.6   // linear brightness of the bright tenth over the dark tenth (0.7 EV)
	overlapMinInl   = 18    // verified inliers for two photos to overlap
	overlapWeak     = 0.15  // overlap score below this is weak
	poseMinInl      = 30    // inliers for a pair's rotation to place photos
	maxTurn         = 60.0  // degrees: a larger relative rotation does not place photos
	duplicateMotion = 0.004 // median inlier motion, share of the diagonal
	duplicateThumb  = 3.0   // mean absolute difference of the thumbnails, 8-bit levels
)

// Options tune a check. The zero value (or nil) means defaults.
type Options struct {
	// Workers bounds parallelism; 0 means GOMAXPROCS.
	Workers int
	// GraphFile is where the overlap graph is written: "" or "-" writes
	// none, except that CheckDir turns "" into overlap.json in the folder.
	GraphFile string
	// Progress, when set, is called after each photo is read and each pair
	// compared.
	Progress func(stage string, done, total int)
}

// PhotoResult is one photo's row of the report.
type PhotoResult struct {
	Name        string   `json:"name"`
	Width       int      `json:"width,omitempty"`
	Height      int      `json:"height,omitempty"`
	Orientation int      `json:"orientation,omitempty"`
	FocalPx     float64  `json:"focal_px,omitempty"`
	FocalSource string   `json:"focal_source,omitempty"`
	GPS         bool     `json:"gps"`
	Quality     *Quality `json:"quality,omitempty"`
	Features    int      `json:"features"`
	// OverlapPrev is the overlap with the previous photo (for the first
	// photo: with the last, closing the loop); nil when not compared.
	OverlapPrev *PairResult `json:"overlap_prev,omitempty"`
	// Azimuth is where around the part the photo was taken from, in
	// degrees from the first photo (see Coverage); nil when unknown.
	Azimuth *float64 `json:"azimuth_deg,omitempty"`
	Verdict Severity `json:"verdict"`
	Codes   []Code   `json:"codes,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// PairResult is how well two photos overlap.
type PairResult struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	Matches int     `json:"matches"`
	Inliers int     `json:"inliers"`
	Score   float64 `json:"score"` // 0 (none) to 1
	Overlap bool    `json:"overlap"`
	// Motion is the median inlier displacement as a share of the image
	// diagonal: near 0 means the camera did not move.
	Motion float64 `json:"motion"`
	// Pose reports whether their relative rotation was recovered (it is
	// not when one plane or a pure rotation explains the matches).
	Pose bool `json:"pose"`
	// Turn is that rotation's angle in degrees.
	Turn float64 `json:"turn_deg,omitempty"`

	i, j  int
	rot   [9]float64
	plane bool // the rotation comes from a homography (match.Result.PoseFromPlane)
}

// Report is the result of checking a set of photos (`replica check --json`).
type Report struct {
	Format   string        `json:"format"` // "replica-check/1"
	Dir      string        `json:"dir,omitempty"`
	Ready    bool          `json:"ready"`
	Summary  string        `json:"summary"`
	Photos   []PhotoResult `json:"photos"`
	Pairs    []PairResult  `json:"pairs"`
	Coverage Coverage      `json:"coverage"`
	Problems []Problem     `json:"problems"`
	Graph    string        `json:"graph,omitempty"` // the overlap graph file written
}

// photoExts are the extensions CheckDir picks up (case-insensitive).
var photoExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true}

// ListPhotos returns the photos in dir in capture order: by file name,
// numbers compared by value ("IMG_2" before "IMG_10").
func ListPhotos(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || !photoExts[strings.ToLower(filepath.Ext(e.Name()))] {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	sort.Slice(out, func(i, j int) bool { return naturalLess(filepath.Base(out[i]), filepath.Base(out[j])) })
	return out, nil
}

// CheckDir checks every photo in dir and writes the overlap graph beside
// them (overlap.json) unless o.GraphFile says otherwise.
func CheckDir(ctx context.Context, dir string, o *Options) (*Report, error) {
	paths, err := ListPhotos(dir)
	if err != nil {
		return nil, err
	}
	opts := Options{}
	if o != nil {
		opts = *o
	}
	if opts.GraphFile == "" {
		opts.GraphFile = filepath.Join(dir, GraphFileName)
	}
	r, err := Check(ctx, paths, &opts)
	if r != nil {
		r.Dir = dir
	}
	return r, err
}

// loaded is a photo after intake: what the set checks need of it.
type loaded struct {
	photo *Photo
	q     Quality
	feat  *match.Features
	err   error
}

// Check checks the photos at paths, in that (capture) order. Unreadable
// files are reported per file; the rest of the set is still checked. The
// error is only for cancellation and for failing to write the graph.
func Check(ctx context.Context, paths []string, o *Options) (*Report, error) {
	if o == nil {
		o = &Options{}
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	items := make([]loaded, len(paths))
	err := parallel(ctx, len(paths), workers, func(i int) {
		p, err := LoadPhoto(paths[i])
		if err != nil {
			items[i].err = err
			return
		}
		items[i].photo = p
		items[i].q = measureQuality(p.Work)
		items[i].feat = match.Detect(p.Work, &match.Options{MaxFeatures: maxFeatures, AlsoUpright: true})
		p.Work = nil // the features and measures are all we keep
	}, func(done int) { progress(o, "reading photos", done, len(paths)) })
	if err != nil {
		return nil, err
	}

	var good []int // indices of readable photos, in order
	for i := range items {
		if items[i].err == nil {
			good = append(good, i)
		}
	}
	pairs, err := candidatePairs(ctx, items, good, workers, o)
	if err != nil {
		return nil, err
	}
	compare := func(pairs []PairResult, stage string) error {
		return parallel(ctx, len(pairs), workers, func(k int) {
			comparePair(&pairs[k], items)
		}, func(done int) { progress(o, stage, done, len(pairs)) })
	}
	if err := compare(pairs, "verifying overlaps"); err != nil {
		return nil, err
	}
	// Steps of the sequence that no verified pair of neighbours spans get
	// a second chance: photos further apart may still link them (a
	// close-up between two wider shots, a photo the matcher found too hard).
	rescue := rescuePairs(good, pairs)
	if err := compare(rescue, "linking gaps"); err != nil {
		return nil, err
	}
	pairs = append(pairs, rescue...)
	r := assemble(items, pairs)
	if o.GraphFile != "" && o.GraphFile != "-" && len(good) > 0 {
		if err := writeGraph(o.GraphFile, r); err != nil {
			return r, fmt.Errorf("overlap graph: %w", err)
		}
		r.Graph = o.GraphFile
	}
	return r, nil
}

// comparePair matches and verifies one pair of loaded photos.
func comparePair(p *PairResult, items []loaded) {
	a, b := &items[p.i], &items[p.j]
	p.A, p.B = a.photo.Name, b.photo.Name
	ro := &match.RansacOptions{Threshold: ransacThreshold, MaxIterations: ransacIter}
	res := match.CompareWith(a.feat, b.feat, a.focalWork(), b.focalWork(), matchRatio, ro)
	// A weak pair gets a second try with the upright descriptors; the
	// better of the two stands.
	if !res.Verified || len(res.Inliers) < strongInl {
		if ua, ub := a.feat.AsUpright(), b.feat.AsUpright(); ua != nil && ub != nil {
			if up := match.CompareWith(ua, ub, a.focalWork(), b.focalWork(), matchRatio, ro); up.Verified && (!res.Verified || len(up.Inliers) > len(res.Inliers)) {
				res = up
			}
		}
	}
	p.Matches = res.Matches
	p.Inliers = len(res.Inliers)
	p.Score = round3(res.Overlap.Score)
	p.Motion = round3(motion(a.feat, b.feat, res.Inliers))
	p.Overlap = res.Verified && p.Inliers >= overlapMinInl
	// The same view twice defeats the fundamental matrix (no motion, no
	// epipolar geometry); the thumbnails tell.
	if d := thumbDiff(a.photo.Thumb, b.photo.Thumb); d >= 0 && d < duplicateThumb {
		p.Overlap, p.Motion = true, 0
	}
	p.rot, p.Pose, p.plane = res.R, res.PoseOK, res.PoseFromPlane
	if p.Pose {
		ang, _ := match.RotationAngleAxis(res.R)
		p.Turn = round1(ang * 180 / math.Pi)
	}
}

// rescuePairs returns the pairs, not yet compared, of photos up to reach
// apart in the sequence good that would span a step no overlapping pair of
// photos up to window apart spans.
func rescuePairs(good []int, pairs []PairResult) []PairResult {
	pos := make(map[int]int, len(good))
	for k, i := range good {
		pos[i] = k
	}
	spanned := spannedSteps(len(good), pos, pairs, window)
	done := map[[2]int]bool{}
	for _, p := range pairs {
		done[[2]int{p.i, p.j}] = true
	}
	var out []PairResult
	for k := 1; k < len(good); k++ {
		if spanned[k] {
			continue
		}
		for a := max(0, k-reach); a < k; a++ {
			for b := k; b < len(good) && b-a <= reach; b++ {
				if b-a > window && !done[[2]int{good[a], good[b]}] {
					done[[2]int{good[a], good[b]}] = true
					out = append(out, PairResult{i: good[a], j: good[b]})
				}
			}
		}
	}
	return out
}

// spannedSteps reports for each position k of a sequence whether an
// overlapping pair of photos at most d apart spans the step from k−1 to
// k. pos maps photo index to position; pairs whose photos are not in pos
// are ignored.
func spannedSteps(n int, pos map[int]int, pairs []PairResult, d int) []bool {
	spanned := make([]bool, n)
	for _, p := range pairs {
		a, okA := pos[p.i]
		b, okB := pos[p.j]
		if !p.Overlap || !okA || !okB || a > b || b-a > d {
			continue
		}
		for k := a + 1; k <= b; k++ {
			spanned[k] = true
		}
	}
	return spanned
}

// Candidate pairs: consecutive photos and the ones after them (window), the
// last with the first (and, later, photos further apart around a step that
// these leave unspanned: see rescuePairs), and any other pair a quick comparison of a subset
// of the features finds overlapping (the other ring of a capture walked
// twice, a photo retaken later). Sets larger than globalMax photos only get
// the window, to bound the quadratic work.
//
// Matching settings, tuned on real hand-held captures (monstree) where
// neighbours differ by 2× in scale and 20–30° in viewpoint: more features
// and a looser ratio than ORB's defaults find their overlap, and the
// fundamental-matrix RANSAC keeps chance matches out (unrelated photos
// verify with 0 inliers at these settings).
const (
	maxFeatures     = 3000
	strongInl       = 80   // inliers above which a pair needs no second try
	ransacIter      = 2000 // samples at most: PROSAC finds weak pairs early
	matchRatio      = 0.85
	ransacThreshold = 2.5 // pixels at working resolution
	window          = 2   // neighbours compared in every set
	reach           = 4   // … and, around a step they leave unspanned, this far
	coarseFeatures  = 300
	coarseMinInl    = 12
	globalMax       = 80
)

// candidatePairs picks the pairs worth a full comparison, in order.
func candidatePairs(ctx context.Context, items []loaded, good []int, workers int, o *Options) ([]PairResult, error) {
	n := len(good)
	want := map[[2]int]bool{}
	var pairs []PairResult
	add := func(i, j int) {
		if !want[[2]int{i, j}] {
			want[[2]int{i, j}] = true
			pairs = append(pairs, PairResult{i: i, j: j})
		}
	}
	for k := range good {
		for d := 1; d <= window && k+d < n; d++ {
			add(good[k], good[k+d])
		}
	}
	if n > 2 {
		add(good[n-1], good[0])
	}
	if n > globalMax {
		return pairs, nil
	}
	coarse := make([]*match.Features, len(items))
	for _, i := range good {
		coarse[i] = subset(items[i].feat, coarseFeatures)
	}
	var rest [][2]int
	for a := 0; a < n; a++ {
		for b := a + 1; b < n; b++ {
			if !want[[2]int{good[a], good[b]}] && !(a == 0 && b == n-1) {
				rest = append(rest, [2]int{good[a], good[b]})
			}
		}
	}
	found := make([]bool, len(rest))
	err := parallel(ctx, len(rest), workers, func(k int) {
		i, j := rest[k][0], rest[k][1]
		res := match.CompareWith(coarse[i], coarse[j], items[i].focalWork(), items[j].focalWork(), matchRatio, &match.RansacOptions{Threshold: ransacThreshold})
		found[k] = res.Verified && len(res.Inliers) >= coarseMinInl
	}, func(done int) { progress(o, "finding overlaps", done, len(rest)) })
	if err != nil {
		return nil, err
	}
	for k, f := range found {
		if f {
			add(rest[k][0], rest[k][1])
		}
	}
	return pairs, nil
}

// subset keeps k of the features, evenly through the list (which Detect
// orders by pyramid level and strength), so the subset keeps the spread.
func subset(f *match.Features, k int) *match.Features {
	n := len(f.Keypoints)
	if n <= k {
		return f
	}
	s := &match.Features{Width: f.Width, Height: f.Height}
	for i := 0; i < k; i++ {
		j := i * n / k
		s.Keypoints = append(s.Keypoints, f.Keypoints[j])
		s.Desc = append(s.Desc, f.Desc[j])
	}
	return s
}

// focalWork is the focal length in working pixels.
func (l *loaded) focalWork() float64 { return l.photo.FocalPx * l.photo.WorkScale }

// thumbDiff is the mean absolute difference of two thumbnails in 8-bit
// levels, or −1 when their sizes differ.
func thumbDiff(a, b *image.Gray) float64 {
	if a == nil || b == nil || a.Bounds().Size() != b.Bounds().Size() {
		return -1
	}
	w, h := a.Bounds().Dx(), a.Bounds().Dy()
	if w*h == 0 {
		return -1
	}
	sum := 0
	for y := 0; y < h; y++ {
		ra, rb := a.Pix[y*a.Stride:y*a.Stride+w], b.Pix[y*b.Stride:y*b.Stride+w]
		for x := range ra {
			d := int(ra[x]) - int(rb[x])
			if d < 0 {
				d = -d
			}
			sum += d
		}
	}
	return float64(sum) / float64(w*h)
}

// motion is the median displacement of the inliers between the two images,
// as a share of the image diagonal (features are in working pixels).
func motion(a, b *match.Features, inliers []match.Pair) float64 {
	if len(inliers) == 0 {
		return 1
	}
	d := make([]float64, 0, len(inliers))
	for _, p := range inliers {
		if p.A < 0 || p.A >= len(a.Keypoints) || p.B < 0 || p.B >= len(b.Keypoints) {
			continue
		}
		ka, kb := a.Keypoints[p.A], b.Keypoints[p.B]
		d = append(d, math.Hypot(ka.X-kb.X, ka.Y-kb.Y))
	}
	return median(d) / math.Hypot(float64(a.Width), float64(a.Height))
}

func progress(o *Options, stage string, done, total int) {
	if o.Progress != nil {
		o.Progress(stage, done, total)
	}
}

// parallel runs f(0..n-1) on workers goroutines, calling step after each
// (one call at a time, in order), and stops early when ctx is cancelled.
func parallel(ctx context.Context, n, workers int, f func(int), step func(done int)) error {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
				mu.Lock()
				done++
				step(done)
				mu.Unlock()
			}
		}()
	}
	var err error
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(next)
	wg.Wait()
	return err
}

// assemble turns measurements into verdicts, problems and the summary.
func assemble(items []loaded, pairs []PairResult) *Report {
	r := &Report{Format: "replica-check/1", Pairs: pairs}
	r.Photos = make([]PhotoResult, len(items))
	var sharp, bright, rg, bg []float64
	flash := map[bool]int{}
	for i, it := range items {
		pr := &r.Photos[i]
		if it.err != nil {
			var pe *PhotoError
			pr.Name = filepath.Base(errName(it.err))
			pr.Error = it.err.Error()
			if errors.As(it.err, &pe) {
				pr.Name, pr.Error = pe.Name, pe.Reason
			}
			pr.Verdict = Fail
			pr.Codes = []Code{CodeUnreadable}
			r.add(Problem{CodeUnreadable, Fail, []string{pr.Name}, it.err.Error(),
				"Remove it from the folder or replace it with a JPEG or PNG photo"})
			continue
		}
		p := it.photo
		q := it.q
		pr.Name, pr.Width, pr.Height = p.Name, p.Width, p.Height
		pr.Orientation = p.EXIF.Orientation
		pr.FocalPx, pr.FocalSource = round1(p.FocalPx), string(p.FocalSource)
		pr.GPS = p.EXIF.HasGPS
		pr.Quality = &Quality{Sharpness: round1(q.Sharpness), Brightness: round3(q.Brightness), Clipped: round3(q.Clipped), Crushed: round3(q.Crushed)}
		pr.Features = len(it.feat.Keypoints)
		sharp = append(sharp, q.Sharpness)
		bright = append(bright, q.Brightness)
		if g := p.MeanRGB[1]; g > 0.02 {
			rg = append(rg, p.MeanRGB[0]/g)
			bg = append(bg, p.MeanRGB[2]/g)
		}
		if p.EXIF.FlashKnown {
			flash[p.EXIF.FlashFired]++
		}
	}
	medSharp, medBright := median(sharp), median(bright)
	medRG, medBG := median(rg), median(bg)
	var gps, noFocal []string
	var steady []float64 // brightness of the photos not badly exposed
	for i, it := range items {
		if it.err != nil {
			continue
		}
		p, q, pr := it.photo, it.q, &r.Photos[i]
		name := p.Name
		mp := float64(p.Width) * float64(p.Height)
		switch {
		case mp < lowResFail:
			r.photo(pr, Problem{CodeLowResolution, Fail, nil, fmt.Sprintf("%s is only %d×%d pixels", name, p.Width, p.Height),
				"Use the camera's full resolution (at least 2 megapixels) and retake it"})
		case mp < lowResWarn:
			r.photo(pr, Problem{CodeLowResolution, Warn, nil, fmt.Sprintf("%s is %d×%d pixels: fine detail will be lost", name, p.Width, p.Height),
				"Use the camera's full resolution if you can"})
		}
		if q.Sharpness < blurryAbs || q.Sharpness < blurryRel*medSharp {
			fix := "hold still or add light, then retake it"
			if slow := motionRisk(p); slow != "" {
				fix = slow
			}
			r.photo(pr, Problem{CodeBlurry, Fail, nil, fmt.Sprintf("%s is blurry (sharpness %.0f, the set's median is %.0f)", name, q.Sharpness, medSharp),
				capitalize(fix)})
		}
		ratio := luminanceRatio(q.Brightness, medBright)
		switch {
		case q.Brightness < darkAbs || q.Crushed > crushedMax || ratio < 1/exposureRel:
			r.photo(pr, Problem{CodeUnderexposed, Fail, nil, fmt.Sprintf("%s is too dark (brightness %.2f, %.0f%% of the set's)", name, q.Brightness, 100*ratio),
				"Add light or turn off exposure compensation, then retake it"})
		case q.Brightness > brightAbs || q.Clipped > clippedMax || ratio > exposureRel:
			r.photo(pr, Problem{CodeOverexposed, Fail, nil, fmt.Sprintf("%s is too bright (%.0f%% of it clipped white)", name, 100*q.Clipped),
				"Move away from direct light or lower the exposure, then retake it"})
		default:
			steady = append(steady, q.Brightness)
		}
		if len(rg) >= 3 && p.MeanRGB[1] > 0.02 {
			dr := p.MeanRGB[0]/p.MeanRGB[1]/medRG - 1
			db := p.MeanRGB[2]/p.MeanRGB[1]/medBG - 1
			if math.Abs(dr) > wbRel || math.Abs(db) > wbRel {
				r.photo(pr, Problem{CodeWhiteBalance, Warn, nil, fmt.Sprintf("%s has a different colour cast from the rest of the set", name),
					"Lock the white balance (or keep the same light) for the whole set"})
			}
		}
		if p.FocalSource == FocalFallback {
			noFocal = append(noFocal, name)
		}
		if p.EXIF.HasGPS {
			gps = append(gps, name)
		}
	}
	if len(noFocal) > 0 {
		r.add(Problem{CodeNoFocal, Warn, noFocal, fmt.Sprintf("%d photos have no focal length in their EXIF; a guess is used", len(noFocal)),
			"Use the camera's original files, not edited or messaged copies"})
	}
	if len(gps) > 0 {
		r.add(Problem{CodeGPS, OK, gps, fmt.Sprintf("%d photos carry a GPS position", len(gps)),
			"Nothing to do: Replica strips GPS before any photo leaves this computer"})
	}
	if lo, hi, ok := spread(steady); ok && luminanceRatio(hi, lo) > lightingSpread {
		r.add(Problem{CodeLighting, Warn, nil, fmt.Sprintf("The light changes across the set: the brighter photos are %.1f times as bright as the darker ones", luminanceRatio(hi, lo)),
			"Keep the same light for every photo: avoid moving shadows and changing daylight, or lock the exposure"})
	}
	if flash[true] > 0 && flash[false] > 0 {
		r.add(Problem{CodeFlashMixed, Warn, nil, fmt.Sprintf("The flash fired on %d photos and not on %d", flash[true], flash[false]),
			"Use the same light for every photo: turn the flash off (or on) for all"})
	}
	r.setChecks(items, pairs)
	return r
}

// setChecks adds the count, overlap, duplicate and coverage verdicts.
func (r *Report) setChecks(items []loaded, pairs []PairResult) {
	readable := 0
	var order []int
	for i, it := range items {
		if it.err == nil {
			readable++
			order = append(order, i)
		}
	}
	switch {
	case readable < 8:
		r.add(Problem{CodeTooFew, Fail, nil, fmt.Sprintf("Only %d readable photos; a part needs %d to %d", readable, MinPhotos, MaxPhotos),
			fmt.Sprintf("Take %d more photos, walking around the part", MinPhotos-readable)})
	case readable < MinPhotos:
		r.add(Problem{CodeTooFew, Warn, nil, fmt.Sprintf("%d photos; %d to %d work best", readable, MinPhotos, MaxPhotos),
			fmt.Sprintf("Take %d more photos, walking around the part", MinPhotos-readable)})
	case readable > MaxPhotos:
		r.add(Problem{CodeTooMany, Warn, nil, fmt.Sprintf("%d photos; more than %d make processing slower without helping", readable, MaxPhotos),
			"Remove near-duplicates, or keep them if processing time does not matter"})
	}
	byPair := map[[2]int]*PairResult{}
	var rels []relRotation
	for k := range pairs {
		p := &pairs[k]
		byPair[[2]int{p.i, p.j}] = p
		// Only well-supported rotations place photos: one wrong link would
		// misplace every photo beyond it.
		if trusted(p) {
			rels = append(rels, relRotation{I: p.i, J: p.j, R: p.rot})
		}
	}
	// A photo that overlaps no other is left out of the model: it is
	// flagged on its own and the gaps are looked for among the rest.
	linked := make([]bool, len(items))
	for _, p := range pairs {
		if p.Overlap {
			linked[p.i], linked[p.j] = true, true
		}
	}
	var seq []int // readable photos that overlap another, in order
	for k, i := range order {
		if linked[i] || len(order) < 2 {
			seq = append(seq, i)
			continue
		}
		name := items[i].photo.Name
		fix := "Retake it closer to the photos around it, or delete it"
		if k > 0 {
			fix = fmt.Sprintf("Take 2–3 photos between %s and %s, or delete it", items[order[k-1]].photo.Name, name)
		}
		r.photo(&r.Photos[i], Problem{CodeIsolated, Warn, nil, fmt.Sprintf("%s overlaps no other photo: the model will leave it out", name), fix})
	}
	// A gap is a place in the sequence that no overlapping pair of nearby
	// photos spans and whose two sides are not connected at all through
	// overlapping pairs, so the reconstruction would split there. Two
	// consecutive photos that do not match each other but are bridged by
	// others (a close-up between two wider shots), or that later photos
	// link (the last photo matching the first), are not a gap.
	pos := make(map[int]int, len(seq)) // photo index → position in seq
	for k, i := range seq {
		pos[i] = k
	}
	spanned := spannedSteps(len(seq), pos, pairs, reach)
	comp := components(len(items), pairs)
	for k := 1; k < len(seq); k++ {
		i, j := seq[k-1], seq[k]
		if spanned[k] || comp[i] == comp[j] {
			continue
		}
		a, b := items[i].photo.Name, items[j].photo.Name
		inl := 0
		if p := byPair[[2]int{i, j}]; p != nil {
			inl = p.Inliers
		}
		r.add(Problem{CodeGap, Fail, []string{a, b}, fmt.Sprintf("Nothing links %s to %s: they do not overlap (%d matching points), nor do the photos around them", a, b, inl),
			fmt.Sprintf("Take 2–3 more photos between %s and %s, moving a small step each time", a, b)})
	}
	for k := 1; k < len(order); k++ {
		i, j := order[k-1], order[k]
		p := byPair[[2]int{i, j}]
		if p == nil {
			continue
		}
		r.Photos[j].OverlapPrev = p
		a, b := items[i].photo.Name, items[j].photo.Name
		switch {
		case p.Overlap && p.Motion < duplicateMotion:
			r.photo(&r.Photos[j], Problem{CodeDuplicate, Warn, nil, fmt.Sprintf("%s is nearly the same as %s: the camera did not move", b, a),
				"Delete one of them, or move a step around the part before the next photo"})
		case p.Overlap && p.Score < overlapWeak:
			r.add(Problem{CodeWeakOverlap, Warn, []string{a, b}, fmt.Sprintf("%s and %s overlap only a little (score %.2f)", a, b, p.Score),
				fmt.Sprintf("Take a photo between %s and %s", a, b)})
		}
	}
	if n := len(order); n > 2 {
		if p := byPair[[2]int{order[n-1], order[0]}]; p != nil {
			r.Photos[order[0]].OverlapPrev = p
			if !p.Overlap {
				r.add(Problem{CodeLoopOpen, Warn, []string{p.A, p.B}, fmt.Sprintf("The last photo (%s) does not overlap the first (%s)", p.A, p.B),
					"Finish the walk around the part where you started"})
			}
		}
	}
	r.Coverage = estimateCoverage(len(items), rels)
	for i, a := range r.Coverage.Azimuths {
		if r.Coverage.Known && !math.IsNaN(a) {
			v := round1(a)
			r.Photos[i].Azimuth = &v
		}
	}
	if r.Coverage.Known {
		ref := "the first photo"
		if i := r.Coverage.Reference; i > 0 && i < len(r.Photos) {
			ref = r.Photos[i].Name
		}
		for _, a := range r.Coverage.Missing {
			more := int(math.Ceil(a.Width() / coverHalf))
			// A wide arc missing among many placed photos is certain; with
			// few placed, photos not placed may cover it.
			sev := Warn
			if r.Coverage.Placed >= 8 && a.Width() >= 45 {
				sev = Fail
			}
			r.add(Problem{CodeCoverageGap, sev, nil, fmt.Sprintf("No photo covers %.0f°–%.0f° around the part (measured from %s, in the direction you walked)", a.From, a.To, ref),
				fmt.Sprintf("Take %d more photos from that side", more)})
		}
	} else if readable >= 3 {
		r.add(Problem{CodeCoverageUnsure, Warn, nil, "Could not work out how far around the part the photos reach",
			"Take photos in order while walking around the part, each overlapping the last"})
	}
	// Verdicts and the summary.
	r.Ready = true
	worst := OK
	for _, p := range r.Problems {
		if p.Severity == Fail {
			r.Ready = false
		}
		worst = max(worst, p.Severity)
	}
	for i := range r.Photos {
		for _, p := range r.Problems {
			if p.Severity > r.Photos[i].Verdict && len(p.Photos) == 1 && p.Photos[0] == r.Photos[i].Name {
				r.Photos[i].Verdict = p.Severity
			}
		}
	}
	cov := "coverage unknown"
	if r.Coverage.Known && r.Coverage.Full {
		cov = "full coverage"
	} else if r.Coverage.Known {
		cov = fmt.Sprintf("%.0f° of 360° covered", r.Coverage.Covered)
	}
	if r.Ready {
		r.Summary = fmt.Sprintf("Ready: %d photos, %s", readable, cov)
		if worst == Warn {
			r.Summary += " (see warnings)"
		}
		return
	}
	var top []string
	for _, p := range r.Problems {
		if p.Severity == Fail && len(top) < 3 {
			top = append(top, p.Message)
		}
	}
	fails := 0
	for _, p := range r.Problems {
		if p.Severity == Fail {
			fails++
		}
	}
	plural := "s"
	if fails == 1 {
		plural = ""
	}
	r.Summary = fmt.Sprintf("Not ready: %d problem%s to fix (%s)", fails, plural, strings.Join(top, "; "))
}

// trusted reports whether a pair's rotation may place photos: it overlaps
// well, with enough inliers, and turns by a plausible angle. Photos more
// than maxTurn apart rarely match but by chance or on the flat mat the
// part stands on, whose homography can then be decomposed the wrong way
// (seen on rendered captures: 35–46 inliers, rotations 80–90° off), so
// those pairs, and rotations from a plane with few inliers, do not count;
// their photos are placed through their neighbours.
func trusted(p *PairResult) bool {
	if !p.Overlap || !p.Pose || p.Score < overlapWeak || p.Inliers < poseMinInl || p.Turn > maxTurn {
		return false
	}
	return !p.plane || p.Inliers >= 2*poseMinInl
}

// components labels the photos by connected component of the graph of
// overlapping pairs (union–find).
func components(n int, pairs []PairResult) []int {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for _, p := range pairs {
		if p.Overlap {
			parent[find(p.i)] = find(p.j)
		}
	}
	out := make([]int, n)
	for i := range out {
		out[i] = find(i)
	}
	return out
}

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// photo records a problem of one photo.
func (r *Report) photo(pr *PhotoResult, p Problem) {
	p.Photos = []string{pr.Name}
	pr.Codes = append(pr.Codes, p.Code)
	r.add(p)
}

// motionRisk returns advice when the exposure was long for the focal length
// (the reciprocal rule: slower than 1/f₃₅ s shakes a hand-held camera).
func motionRisk(p *Photo) string {
	e, f := p.EXIF.ExposureTime, p.EXIF.FocalLength35mm
	if e <= 0 || f <= 0 || e <= 1/f {
		return ""
	}
	return fmt.Sprintf("the shutter was open 1/%.0f s, too long to hold still at this focal length: add light or rest the camera on something, then retake it", 1/e)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// spread returns the 10th and 90th percentiles of xs (nearest rank), or
// false for fewer than 5 values: the spread of the bulk of a set. The
// photos flagged as badly exposed are left out of xs: they are reported
// on their own.
func spread(xs []float64) (lo, hi float64, ok bool) {
	if len(xs) < 5 {
		return 0, 0, false
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s) - 1
	return s[int(math.Floor(0.1*float64(n)))], s[int(math.Ceil(0.9*float64(n)))], true
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func errName(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Path
	}
	return "?"
}

// naturalLess compares names with digit runs compared by value.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// GraphFileName is the overlap graph's file name beside the photos.
const GraphFileName = "overlap.json"

// Graph is the overlap graph saved beside the photos, so the reconstruction
// matches only the pairs worth matching.
type Graph struct {
	Format string      `json:"format"` // "replica-overlap/1"
	Photos []string    `json:"photos"`
	Pairs  []GraphPair `json:"pairs"`
}

// GraphPair is one compared pair of the overlap graph.
type GraphPair struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	Inliers int     `json:"inliers"`
	Score   float64 `json:"score"`
	Overlap bool    `json:"overlap"`
}

func writeGraph(path string, r *Report) error {
	g := Graph{Format: "replica-overlap/1"}
	for _, p := range r.Photos {
		if p.Error == "" {
			g.Photos = append(g.Photos, p.Name)
		}
	}
	for _, p := range r.Pairs {
		g.Pairs = append(g.Pairs, GraphPair{A: p.A, B: p.B, Inliers: p.Inliers, Score: p.Score, Overlap: p.Overlap})
	}
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".overlap-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// maxGraphSize bounds the overlap graph ReadGraph accepts: 50 photos make
// about 100 KB, so 64 MiB is far beyond any real capture.
const maxGraphSize = 64 << 20

// ReadGraph reads an overlap graph written by Check. The file may have
// been edited or damaged: it must be format replica-overlap/1, and pairs
// must name photos of the graph.
func ReadGraph(path string) (*Graph, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("overlap graph: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxGraphSize+1))
	if err != nil {
		return nil, fmt.Errorf("overlap graph %s: %w", filepath.Base(path), err)
	}
	return ParseGraph(b, filepath.Base(path))
}

// ParseGraph parses the overlap graph b; name is for errors.
func ParseGraph(b []byte, name string) (*Graph, error) {
	if len(b) > maxGraphSize {
		return nil, fmt.Errorf("overlap graph %s: larger than %d MiB", name, maxGraphSize>>20)
	}
	var g Graph
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("overlap graph %s: %w", name, err)
	}
	if g.Format != "replica-overlap/1" {
		return nil, fmt.Errorf("overlap graph %s: format %q, want replica-overlap/1", name, g.Format)
	}
	photos := make(map[string]bool, len(g.Photos))
	for _, p := range g.Photos {
		photos[p] = true
	}
	for _, p := range g.Pairs {
		if !photos[p.A] || !photos[p.B] || p.A == p.B {
			return nil, fmt.Errorf("overlap graph %s: pair %q–%q does not join two of its photos", name, p.A, p.B)
		}
	}
	return &g, nil
}
