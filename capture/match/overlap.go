package match

import "math"

// overlapGrid is the number of cells across and down each image that
// Overlap counts.
const overlapGrid = 8

// inlierScale sets how fast the score saturates with the inlier count:
// 30 inliers give 63% of the coverage term, 100 give 96%. Two photos that
// reconstruct well share at least a few dozen verified points.
const inlierScale = 30.0

// OverlapScore measures how much two photos show of each other.
type OverlapScore struct {
	// Inliers is the number of verified pairs.
	Inliers int
	// CoverageA and CoverageB are the shares, in [0, 1], of each image's
	// textured cells that hold an inlier: each image is cut into an 8×8
	// grid, a cell is textured when it holds at least one keypoint, and
	// covered when it holds the keypoint of an inlier. Cells without
	// keypoints (sky, a plain table) cannot be matched whatever the
	// overlap, so they do not count.
	CoverageA, CoverageB float64
	// Score combines them, in [0, 1]: the geometric mean of the coverages
	// times 1 − exp(−Inliers/30), so that a handful of inliers scores low
	// however far apart they lie.
	Score float64
}

// Overlap scores the verified pairs inliers between a and b. Pairs whose
// indices are out of range are ignored.
func Overlap(a, b *Features, inliers []Pair) OverlapScore {
	pairs, _ := gather(a, b, inliers)
	var s OverlapScore
	s.Inliers = len(pairs)
	if s.Inliers == 0 {
		return s
	}
	s.CoverageA = coverage(a, pairs, func(p Pair) int { return p.A })
	s.CoverageB = coverage(b, pairs, func(p Pair) int { return p.B })
	s.Score = math.Sqrt(s.CoverageA*s.CoverageB) * (1 - math.Exp(-float64(s.Inliers)/inlierScale))
	return s
}

// coverage is the share of f's textured grid cells that hold the keypoint
// side(p) of a pair.
func coverage(f *Features, pairs []Pair, side func(Pair) int) float64 {
	if f.Width <= 0 || f.Height <= 0 {
		return 0
	}
	var textured, covered [overlapGrid * overlapGrid]bool
	cell := func(k *Keypoint) int {
		cx := int(math.Floor((k.X + 0.5) * overlapGrid / float64(f.Width)))
		cy := int(math.Floor((k.Y + 0.5) * overlapGrid / float64(f.Height)))
		cx = min(max(cx, 0), overlapGrid-1)
		cy = min(max(cy, 0), overlapGrid-1)
		return cy*overlapGrid + cx
	}
	for i := range f.Keypoints {
		if k := &f.Keypoints[i]; finite(k.X, k.Y) {
			textured[cell(k)] = true
		}
	}
	for _, p := range pairs {
		c := cell(&f.Keypoints[side(p)])
		covered[c] = true
		textured[c] = true
	}
	nt, nc := 0, 0
	for c := range textured {
		if textured[c] {
			nt++
		}
		if covered[c] {
			nc++
		}
	}
	return float64(nc) / float64(nt)
}

// Result is everything [Compare] finds about a pair of images.
type Result struct {
	// Matches is the number of putative pairs after the ratio test and
	// the cross check.
	Matches int
	// Verified reports whether a fundamental matrix explains enough,
	// well-spread pairs; F and Inliers are set only then.
	Verified bool
	// F is the fundamental matrix, x_bᵀ F x_a = 0 in pixels.
	F [9]float64
	// Inliers are the pairs F explains.
	Inliers []Pair
	// Overlap scores the inliers; zero when not Verified.
	Overlap OverlapScore
	// PoseOK reports whether R and T were recovered.
	PoseOK bool
	// PoseFromPlane reports that R and T come from the homography of the
	// plane most inliers lie on ([PlanarPose]) because [RelativePose]
	// turned the pair down, as it does for a part on a mat.
	PoseFromPlane bool
	// R and T move points from camera a to camera b, x_b = R·x_a + T, T
	// of unit length (zero for a pure rotation found from a plane); see
	// RelativePose and PlanarPose.
	R [9]float64
	T [3]float64
}

// defaultUp is the up hint of [CompareWith] for [PlanarPose]: upright
// photos, taken from above the plane the part stands on.
var defaultUp = [3]float64{0, -1, 0}

// Compare matches a against b with DefaultRatio, verifies the matches with
// a fundamental matrix under default RansacOptions, scores the overlap and
// recovers the relative pose for the focal lengths focalA and focalB
// (pixels of the images the features were detected on).
//
// The pose comes from [RelativePose]. When that fails and a homography
// ([FitHomography], under the same options) explains a majority of the
// inliers, it comes from the homography instead ([PlanarPose], with up
// (0, −1, 0): upright photos from above the plane), and PoseFromPlane is
// set.
func Compare(a, b *Features, focalA, focalB float64) Result {
	return CompareWith(a, b, focalA, focalB, DefaultRatio, nil)
}

// CompareWith is Compare with the ratio test's ratio and the RANSAC
// options given (nil for defaults).
func CompareWith(a, b *Features, focalA, focalB, ratio float64, o *RansacOptions) Result {
	var r Result
	pairs := Match(a, b, ratio)
	r.Matches = len(pairs)
	r.F, r.Inliers, r.Verified = VerifyFundamental(a, b, pairs, o)
	if !r.Verified {
		return r
	}
	r.Overlap = Overlap(a, b, r.Inliers)
	r.R, r.T, r.PoseOK = RelativePose(a, b, r.Inliers, focalA, focalB)
	if r.PoseOK || !validFocal(focalA) || !validFocal(focalB) {
		return r
	}
	H, hin, ok := FitHomography(a, b, r.Inliers, o)
	if !ok || 2*len(hin) <= len(r.Inliers) {
		return r
	}
	if R, t, _, ok := planarPose(a, b, H, hin, focalA, focalB, defaultUp); ok {
		r.R, r.T, r.PoseOK, r.PoseFromPlane = R, t, true, true
	}
	return r
}
