package capture

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/replica3d/replica/assets"
	"github.com/replica3d/replica/pipeline/synth"
)

// truthRotation returns view v's world→camera rotation from its quaternion.
func truthRotation(v synth.TruthView) [9]float64 {
	w, x, y, z := v.QVec[0], v.QVec[1], v.QVec[2], v.QVec[3]
	return [9]float64{
		1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
		2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
		2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
	}
}

// mulABt returns A·Bᵀ for row-major 3×3 matrices.
func mulABt(a, b [9]float64) [9]float64 {
	var r [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 3; k++ {
				r[3*i+j] += a[3*i+k] * b[3*j+k]
			}
		}
	}
	return r
}

// synthTruth renders a tiny capture just for its camera poses.
func synthTruth(t *testing.T, views, rings int, skip *[2]float64) *synth.Truth {
	t.Helper()
	b, _ := assets.Part("bracket")
	spec, err := synth.ParseSpec(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	o := synth.DefaultOptions()
	o.Views, o.Rings, o.SkipArc = views, rings, skip
	o.Width, o.Height, o.MeshCell = 32, 24, 5
	tr, err := synth.Generate(context.Background(), spec, o, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func angleDiff(a, b float64) float64 {
	d := math.Mod(a-b+540, 360) - 180
	return math.Abs(d)
}

// TestCoverageFromTruePoses feeds the true relative rotations of synthetic
// captures to the coverage estimate and checks the azimuths and the missing
// arc it names against the truth.
func TestCoverageFromTruePoses(t *testing.T) {
	for _, tc := range []struct {
		name  string
		views int
		rings int
		skip  *[2]float64
	}{
		{"full one ring", 24, 1, nil},
		{"full two rings", 30, 2, nil},
		{"skipped arc one ring", 24, 1, &[2]float64{90, 170}},
		{"skipped arc two rings", 30, 2, &[2]float64{200, 290}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := synthTruth(t, tc.views, tc.rings, tc.skip)
			n := len(tr.Views)
			var rels []relRotation
			for i := 0; i+1 < n; i++ {
				// Pairs that overlap in reality: less than 40° apart.
				for j := i + 1; j < n; j++ {
					if angleDiff(tr.Views[i].Azimuth, tr.Views[j].Azimuth) < 40 {
						rels = append(rels, relRotation{I: i, J: j, R: mulABt(truthRotation(tr.Views[j]), truthRotation(tr.Views[i]))})
					}
				}
			}
			if angleDiff(tr.Views[n-1].Azimuth, tr.Views[0].Azimuth) < 40 {
				rels = append(rels, relRotation{I: n - 1, J: 0, R: mulABt(truthRotation(tr.Views[0]), truthRotation(tr.Views[n-1]))})
			}
			c := estimateCoverage(n, rels)
			if !c.Known {
				t.Fatalf("coverage unknown")
			}
			worst := 0.0
			for i, v := range tr.Views {
				if math.IsNaN(c.Azimuths[i]) {
					continue
				}
				want := v.Azimuth - tr.Views[0].Azimuth
				worst = math.Max(worst, angleDiff(c.Azimuths[i], want))
			}
			if worst > 6 {
				t.Errorf("worst azimuth error %.1f°, want ≤ 6°", worst)
			}
			if tc.skip == nil {
				if !c.Full || c.Placed != n {
					t.Errorf("coverage = %+v, want full with all %d photos placed", c, n)
				}
				return
			}
			if len(c.Missing) != 1 {
				t.Fatalf("missing arcs = %v, want one", c.Missing)
			}
			// The reported arc, back in world azimuths, lies inside the skipped one.
			a := c.Missing[0]
			from := math.Mod(a.From+tr.Views[0].Azimuth, 360)
			to := math.Mod(a.To+tr.Views[0].Azimuth, 360)
			skipW := math.Mod(tc.skip[1]-tc.skip[0]+360, 360)
			inside := func(x float64) bool { return math.Mod(x-tc.skip[0]+360, 360) <= skipW+3 }
			if !inside(from) || !inside(to) || a.Width() < skipW-2*coverHalf-10 {
				t.Errorf("missing arc %v (world %.0f°–%.0f°) is not the skipped arc %v", a, from, to, *tc.skip)
			}
		})
	}
}

func TestCoverageTooLittle(t *testing.T) {
	if c := estimateCoverage(5, nil); c.Known {
		t.Errorf("coverage from no pairs = %+v, want unknown", c)
	}
}
