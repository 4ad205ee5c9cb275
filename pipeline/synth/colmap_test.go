package synth

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"
)

// TestColmapReconstructs is the generator's acceptance test: COLMAP's own
// automatic reconstructor, on the CPU, registers every view of a 24-view
// capture of each built-in part, and the camera centres it recovers match
// groundtruth.json up to a similarity transform to within 1 % of the camera
// distance. It shows the photos carry what structure-from-motion needs:
// features, overlap, and EXIF focal lengths.
func TestColmapReconstructs(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping COLMAP reconstructions in -short mode")
	}
	colmap, err := exec.LookPath("colmap")
	if err != nil {
		t.Skip("colmap not installed: run make deps (apt-get install colmap)")
	}
	for _, part := range []string{"bracket", "stepped-block", "flanged-cylinder"} {
		t.Run(part, func(t *testing.T) {
			dir := t.TempDir()
			o := DefaultOptions()
			o.Views, o.Width, o.Height, o.MeshCell = 24, 800, 600, 1
			o.Seed = 7
			truth, err := Generate(context.Background(), mustSpec(t, part), o, filepath.Join(dir, "images"))
			if err != nil {
				t.Fatal(err)
			}
			ws := filepath.Join(dir, "ws")
			if err := os.MkdirAll(ws, 0o755); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			runColmap(t, colmap, "automatic_reconstructor", "--workspace_path", ws, "--image_path", filepath.Join(dir, "images"),
				"--use_gpu", "0", "--dense", "0")
			t.Logf("%s: automatic_reconstructor took %.1f s", part, time.Since(start).Seconds())
			model, n := largestModel(t, colmap, filepath.Join(ws, "sparse"))
			if n != len(truth.Views) {
				t.Fatalf("COLMAP registered %d of %d views", n, len(truth.Views))
			}
			var got, want []vec
			for _, v := range truth.Views {
				c, ok := model[v.Image]
				if !ok {
					t.Fatalf("view %s not registered", v.Image)
				}
				got = append(got, c)
				want = append(want, vec{X: v.Center[0], Y: v.Center[1], Z: v.Center[2]})
			}
			s, R, tr := umeyama(got, want)
			worst := 0.0
			for i := range got {
				p := r3.Add(r3.Scale(s, mulDense(R, got[i])), tr)
				worst = math.Max(worst, r3.Norm(r3.Sub(p, want[i])))
			}
			rel := worst / truth.Options.Distance
			t.Logf("%s: %d/%d registered; worst camera centre error %.3f mm = %.3f%% of the %.0f mm camera distance",
				part, n, len(truth.Views), worst, 100*rel, truth.Options.Distance)
			if rel > 0.01 {
				t.Errorf("worst camera centre error %.2f%% of the distance, want ≤ 1%%", 100*rel)
			}
		})
	}
}

func runColmap(t *testing.T, colmap string, args ...string) {
	t.Helper()
	cmd := exec.Command(colmap, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tail := string(out)
		if len(tail) > 3000 {
			tail = tail[len(tail)-3000:]
		}
		t.Fatalf("colmap %s: %v\n%s", args[0], err, tail)
	}
}

// largestModel converts every model under sparse/ to text and returns the
// camera centres of the one that registered the most images.
func largestModel(t *testing.T, colmap, sparse string) (map[string]vec, int) {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(sparse, "*"))
	var best map[string]vec
	for _, d := range dirs {
		txt := d + "-txt"
		if err := os.MkdirAll(txt, 0o755); err != nil {
			t.Fatal(err)
		}
		runColmap(t, colmap, "model_converter", "--input_path", d, "--output_path", txt, "--output_type", "TXT")
		m, err := readImagesTxt(filepath.Join(txt, "images.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) > len(best) {
			best = m
		}
	}
	if best == nil {
		t.Fatalf("COLMAP wrote no model under %s", sparse)
	}
	return best, len(best)
}

// readImagesTxt reads camera centres (−Rᵀt) from COLMAP's images.txt.
func readImagesTxt(path string) (map[string]vec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]vec{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	header := true
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			header = true // the points line that follows each image line
			continue
		}
		header = false
		fs := strings.Fields(line)
		if len(fs) < 10 {
			return nil, fmt.Errorf("images.txt: short line %q", line)
		}
		var v [7]float64
		for i := range v {
			if v[i], err = strconv.ParseFloat(fs[1+i], 64); err != nil {
				return nil, err
			}
		}
		w, x, y, z := v[0], v[1], v[2], v[3]
		R := mat3{
			1 - 2*(y*y+z*z), 2 * (x*y - w*z), 2 * (x*z + w*y),
			2 * (x*y + w*z), 1 - 2*(x*x+z*z), 2 * (y*z - w*x),
			2 * (x*z - w*y), 2 * (y*z + w*x), 1 - 2*(x*x+y*y),
		}
		out[fs[9]] = r3.Scale(-1, R.transpose().mul(vec{X: v[4], Y: v[5], Z: v[6]}))
	}
	return out, sc.Err()
}

// umeyama returns the similarity (s, R, t) minimising Σ|s·R·a + t − b|²
// (Umeyama, "Least-squares estimation of transformation parameters between
// two point patterns", IEEE PAMI 13(4), 1991).
func umeyama(a, b []vec) (float64, *mat.Dense, vec) {
	n := float64(len(a))
	var ma, mb vec
	for i := range a {
		ma, mb = r3.Add(ma, a[i]), r3.Add(mb, b[i])
	}
	ma, mb = r3.Scale(1/n, ma), r3.Scale(1/n, mb)
	cov := mat.NewDense(3, 3, nil)
	varA := 0.0
	for i := range a {
		da, db := r3.Sub(a[i], ma), r3.Sub(b[i], mb)
		varA += r3.Dot(da, da) / n
		x, y := []float64{db.X, db.Y, db.Z}, []float64{da.X, da.Y, da.Z}
		for r := 0; r < 3; r++ {
			for c := 0; c < 3; c++ {
				cov.Set(r, c, cov.At(r, c)+x[r]*y[c]/n)
			}
		}
	}
	var svd mat.SVD
	svd.Factorize(cov, mat.SVDFull)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := svd.Values(nil)
	sgn := mat.NewDiagDense(3, []float64{1, 1, 1})
	if mat.Det(&u)*mat.Det(&v) < 0 {
		sgn.SetDiag(2, -1)
	}
	var R, tmp mat.Dense
	tmp.Mul(&u, sgn)
	R.Mul(&tmp, v.T())
	s := (d[0] + d[1] + d[2]*sgn.At(2, 2)) / varA
	t := r3.Sub(mb, r3.Scale(s, mulDense(&R, ma)))
	return s, &R, t
}

func mulDense(R *mat.Dense, v vec) vec {
	return vec{
		X: R.At(0, 0)*v.X + R.At(0, 1)*v.Y + R.At(0, 2)*v.Z,
		Y: R.At(1, 0)*v.X + R.At(1, 1)*v.Y + R.At(1, 2)*v.Z,
		Z: R.At(2, 0)*v.X + R.At(2, 1)*v.Y + R.At(2, 2)*v.Z,
	}
}

// TestUmeyama checks the alignment on a known similarity.
func TestUmeyama(t *testing.T) {
	Rm := axisAngle([3]float64{1, 2, 3}, 40)
	var a, b []vec
	for i := 0; i < 10; i++ {
		p := vec{X: float64(i), Y: float64(i * i % 7), Z: float64(i % 3)}
		a = append(a, p)
		b = append(b, r3.Add(r3.Scale(2.5, Rm.mul(p)), vec{X: 1, Y: -2, Z: 3}))
	}
	s, R, tr := umeyama(a, b)
	for i := range a {
		if d := r3.Norm(r3.Sub(r3.Add(r3.Scale(s, mulDense(R, a[i])), tr), b[i])); d > 1e-9 {
			t.Fatalf("point %d off by %g after alignment (s = %v)", i, d, s)
		}
	}
}
