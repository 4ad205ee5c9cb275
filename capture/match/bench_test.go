package match

import (
	"sync"
	"testing"
)

// Benchmarks run on a 1024×768 rendered image and a copy rotated by 10°,
// scaled by 0.95 and shifted (about 340 pairs and 320 inliers among 1000
// keypoints each), and, where ../shared/datasets/monstree is present, on
// real photos reduced to 1008×756.

var benchPair = sync.OnceValues(func() (*Features, *Features) {
	img := renderTexture(1024, 768, 1)
	H := similarity(1024, 768, 10, 0.95, 10, -5)
	return Detect(img, nil), Detect(warp(img, 1024, 768, H), nil)
})

func BenchmarkDetect(b *testing.B) {
	img := renderTexture(1024, 768, 1)
	b.ReportAllocs()
	for b.Loop() {
		Detect(img, nil)
	}
}

func BenchmarkDetectPhoto(b *testing.B) {
	img := loadPhoto(b, "IMG_1025.JPG")
	b.ReportAllocs()
	for b.Loop() {
		Detect(img, nil)
	}
}

func BenchmarkMatch(b *testing.B) {
	fa, fb := benchPair()
	b.ReportAllocs()
	var m []Pair
	for b.Loop() {
		m = Match(fa, fb, DefaultRatio)
	}
	b.ReportMetric(float64(len(m)), "pairs")
}

func BenchmarkVerify(b *testing.B) {
	fa, fb := benchPair()
	m := Match(fa, fb, DefaultRatio)
	b.ReportAllocs()
	var in []Pair
	for b.Loop() {
		_, in, _ = VerifyFundamental(fa, fb, m, nil)
	}
	b.ReportMetric(float64(len(in)), "inliers")
}

// BenchmarkRelativePose recovers the pose from 300 synthetic pairs, 30% of
// them mismatches, verified first (the image pair above is a planar warp,
// which RelativePose turns down early).
func BenchmarkRelativePose(b *testing.B) {
	s := makeScene(b, sceneConfig{n: 300, outliers: 0.3, noise: 0.5, axis: [3]float64{0.3, 1, 0.2}, deg: 15, centre: [3]float64{-1.5, 0.3, 0.5}, seed: 2})
	_, in, _ := VerifyFundamental(s.a, s.b, s.pairs, nil)
	b.ReportAllocs()
	for b.Loop() {
		RelativePose(s.a, s.b, in, s.f, s.f)
	}
	b.ReportMetric(float64(len(in)), "inliers")
}

// planarBench is a flat scene seen from two cameras 20° apart around it:
// 300 pairs, 20% of them mismatches.
var planarBench = planarConfig{elevA: 35, elevB: 40, azA: 30, dAz: 20, rollA: 2, rollB: -2, f: 1000, n: 300, outliers: 0.2, noise: 0.5, seed: 2}

// BenchmarkPlanarPose recovers the pose of planarBench: homography
// RANSAC, decomposition and the choice of solution.
func BenchmarkPlanarPose(b *testing.B) {
	s := makePlanarScene(b, planarBench)
	up := [3]float64{0, -1, 0}
	b.ReportAllocs()
	for b.Loop() {
		PlanarPose(s.a, s.b, s.pairs, s.f, s.f, up)
	}
	b.ReportMetric(float64(len(s.pairs)), "pairs")
}

// BenchmarkFitHomography is the RANSAC part of BenchmarkPlanarPose.
func BenchmarkFitHomography(b *testing.B) {
	s := makePlanarScene(b, planarBench)
	b.ReportAllocs()
	var in []Pair
	for b.Loop() {
		_, in, _ = FitHomography(s.a, s.b, s.pairs, nil)
	}
	b.ReportMetric(float64(len(in)), "inliers")
}

func BenchmarkDecomposeHomography(b *testing.B) {
	R := rotation([3]float64{0.1, 1, 0.2}, 20)
	N := [3]float64{0, -0.6, 0.8}
	T := [3]float64{-0.3, 0.05, 0.1}
	var Hn [9]float64
	for i := range 3 {
		for j := range 3 {
			Hn[3*i+j] = R[3*i+j] + T[i]*N[j]
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		DecomposeHomography(Hn)
	}
}

// BenchmarkCompare is the overlap verdict for a pair whose features exist:
// match, verify, overlap and pose; the pair is a planar warp, so the pose
// comes from the homography after RelativePose turns it down.
func BenchmarkCompare(b *testing.B) {
	fa, fb := benchPair()
	b.ReportAllocs()
	for b.Loop() {
		Compare(fa, fb, 800, 800)
	}
}

func BenchmarkComparePhoto(b *testing.B) {
	f := features(b, "IMG_1025.JPG", "IMG_1027.JPG")
	fa, fb := f[0], f[1]
	b.ReportAllocs()
	for b.Loop() {
		Compare(fa, fb, monstreeFocal, monstreeFocal)
	}
}

// BenchmarkCompareUnrelated is the verdict for photos that do not overlap,
// where RANSAC runs to its iteration cap.
func BenchmarkCompareUnrelated(b *testing.B) {
	f := features(b, "IMG_1025.JPG", "IMG_1050.JPG")
	fa, fb := f[0], f[1]
	b.ReportAllocs()
	for b.Loop() {
		Compare(fa, fb, monstreeFocal, monstreeFocal)
	}
}
