package capture

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/replica3d/replica/capture/match"
)

// BenchmarkComparePair is the overlap verdict of one pair of consecutive
// monstree photos (12 MP) once their features exist, as Check computes
// it: a strong pair decided on the first try, and a weak one that is tried
// again with the upright descriptors. The budget is 60 ms a pair.
func BenchmarkComparePair(b *testing.B) {
	dir := filepath.Join("..", "..", "shared", "datasets", "monstree")
	if _, err := os.Stat(dir); err != nil {
		b.Skip("../shared/datasets/monstree not found next to the repository; skipping")
	}
	for _, pair := range [][2]string{{"IMG_1036.JPG", "IMG_1037.JPG"}, {"IMG_1040.JPG", "IMG_1041.JPG"}} {
		items := make([]loaded, 2)
		for k, name := range pair {
			p, err := LoadPhoto(filepath.Join(dir, name))
			if err != nil {
				b.Fatal(err)
			}
			items[k] = loaded{photo: p, feat: match.Detect(p.Work, &match.Options{MaxFeatures: maxFeatures, AlsoUpright: true})}
		}
		b.Run(pair[0]+"-"+pair[1], func(b *testing.B) {
			var p PairResult
			for b.Loop() {
				p = PairResult{i: 0, j: 1}
				comparePair(&p, items)
			}
			b.ReportMetric(float64(p.Inliers), "inliers")
		})
	}
}
