package colmap

import (
	"regexp"
	"strconv"
)

// Progress lines COLMAP 3.8 and later print:
//
//	feature_extractor          "Processed file [12/30]"
//	exhaustive/matches_importer "Matching block [2/4, 1/4]" (and "[1/1]")
//	sequential_matcher         "Matching image [12/30]"
//	mapper                     "Registering image #17 (12)": the 12th image registered
//	patch_match_stereo         "Processing view 3 / 30 for IMG_1.jpg"
//	stereo_fusion              "Fusing image [3/30]"
var (
	countOf = regexp.MustCompile(`^\s*(?:Processed file|Matching image|Matching block|Indexing image|Processing view|Fusing image) \[(\d+)/(\d+)(?:, (\d+)/(\d+))?\]` +
		`|^\s*Processing view (\d+) / (\d+)`)
	registered = regexp.MustCompile(`^\s*Registering image #\d+ \((\d+)\)`)
)

// ParseProgress reads a COLMAP log line for progress. It returns the items
// done and the total when the line says both; for the mapper, which says
// only how many images it has registered, total is 0 and the caller knows
// the number of images. ok is false for any other line.
func ParseProgress(line string) (done, total int, ok bool) {
	if m := countOf.FindStringSubmatch(line); m != nil {
		if m[1] == "" {
			m[1], m[2] = m[5], m[6]
		}
		a, _ := strconv.Atoi(m[1])
		n, _ := strconv.Atoi(m[2])
		if m[3] != "" {
			// Block matching walks an n×n grid of blocks row by row.
			b, _ := strconv.Atoi(m[3])
			k, _ := strconv.Atoi(m[4])
			a, n = (a-1)*k+b, n*k
		}
		if n <= 0 || a < 0 || a > n {
			return 0, 0, false
		}
		return a, n, true
	}
	if m := registered.FindStringSubmatch(line); m != nil {
		a, err := strconv.Atoi(m[1])
		if err != nil || a < 0 {
			return 0, 0, false
		}
		return a, 0, true
	}
	return 0, 0, false
}
