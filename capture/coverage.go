package capture

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Coverage is how far around the part the photos reach, estimated from the
// relative rotations of overlapping photos: a maker walks around the part
// keeping it in the middle of the frame, so between two photos the camera
// turns about the vertical by the change of azimuth.
type Coverage struct {
	// Known is false when too few pairs were verified to say anything.
	Known bool `json:"known"`
	// Full is true when no arc around the part is missing.
	Full bool `json:"full"`
	// Azimuths of the photos placed, in degrees from the first photo, in
	// [0, 360); NaN (null in JSON) for photos not connected to the first.
	Azimuths []float64 `json:"-"`
	// Placed counts the photos placed: the largest group linked by
	// overlapping pairs with a recovered rotation. Azimuths are measured from
	// photo Reference (the group's first), so the first photo when it is in it.
	Placed    int  `json:"placed"`
	Reference int  `json:"reference"`
	Partial   bool `json:"partial"` // some photos could not be placed

	// Covered is the share of the circle within coverHalf of some photo, in degrees.
	Covered float64 `json:"covered_deg"`
	// Missing lists the arcs no photo covers.
	Missing []Arc `json:"missing,omitempty"`
}

// coverHalf is how far to each side a photo counts as covering: photos more
// than 2·coverHalf apart in azimuth rarely match well enough for
// reconstruction, so the arc between them is a gap.
const coverHalf = 20.0

// minMissing is the narrowest arc reported missing: azimuths are estimated
// to a few degrees, so a sliver between two photos 41° apart is noise.
const minMissing = 15.0

// relRotation is the rotation from photo I's camera frame to photo J's
// (x_J = R·x_I + t), from a verified pair.
type relRotation struct {
	I, J int
	R    [9]float64
}

// estimateCoverage places the photos around the part. A breadth-first walk
// from photo 0 over the verified pairs (consecutive pairs first) chains the
// relative rotations into each camera's orientation in photo 0's frame.
// The vertical is the direction the cameras' x axes are all perpendicular
// to (a hand-held camera is held level: its x axis is horizontal whatever
// its elevation), found as the least eigenvector of Σ x·xᵀ. A photo's
// azimuth is the direction it looks from, projected on the horizontal plane.
func estimateCoverage(n int, rels []relRotation) Coverage {
	c := Coverage{Azimuths: make([]float64, n)}
	for i := range c.Azimuths {
		c.Azimuths[i] = math.NaN()
	}
	if n == 0 || len(rels) < 2 {
		return c
	}
	type edge struct {
		to int
		R  [9]float64 // x_to = R·x_from
	}
	adj := make([][]edge, n)
	order := make([]int, len(rels))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool {
		return abs(rels[order[a]].J-rels[order[a]].I) < abs(rels[order[b]].J-rels[order[b]].I)
	})
	for _, k := range order {
		r := rels[k]
		if r.I < 0 || r.J < 0 || r.I >= n || r.J >= n || r.I == r.J {
			continue
		}
		adj[r.I] = append(adj[r.I], edge{r.J, r.R})
		adj[r.J] = append(adj[r.J], edge{r.I, transpose3(r.R)})
	}
	// Walk every component; keep the largest (the first photo's on ties).
	var abs3 []*[9]float64 // camera orientations: x_i = abs3[i]·x_ref
	var placedIdx []int
	seen := make([]bool, n)
	for start := 0; start < n; start++ {
		if seen[start] {
			continue
		}
		orient := make([]*[9]float64, n)
		orient[start] = &[9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}
		seen[start] = true
		queue := []int{start}
		var comp []int
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			comp = append(comp, i)
			for _, e := range adj[i] {
				if orient[e.to] == nil {
					m := mul3(e.R, *orient[i])
					orient[e.to] = &m
					seen[e.to] = true
					queue = append(queue, e.to)
				}
			}
		}
		if len(comp) > len(placedIdx) {
			abs3, placedIdx = orient, comp
		}
	}
	ref := placedIdx[0]
	c.Reference = ref
	c.Placed = len(placedIdx)
	c.Partial = c.Placed < n
	// Too few photos linked to say anything. Two rings walked one after the
	// other that no pair links are two components of half the photos each:
	// each still spans the whole circle, so half is enough.
	if c.Placed < 3 || 5*c.Placed < 2*n {
		return c
	}
	// Rows of abs3[i] are camera i's axes in photo 0's frame.
	var m [9]float64
	var down [3]float64
	for _, i := range placedIdx {
		R := abs3[i]
		x := [3]float64{R[0], R[1], R[2]}
		for a := 0; a < 3; a++ {
			for b := 0; b < 3; b++ {
				m[3*a+b] += x[a] * x[b]
			}
			down[a] += R[3+a]
		}
	}
	up := leastEigenvector(m)
	if up[0]*down[0]+up[1]*down[1]+up[2]*down[2] > 0 {
		up = [3]float64{-up[0], -up[1], -up[2]}
	}
	// From the part, photo i is in direction −z_i, projected on the horizontal.
	horiz := func(i int) [3]float64 {
		R := abs3[i]
		v := [3]float64{-R[6], -R[7], -R[8]}
		d := v[0]*up[0] + v[1]*up[1] + v[2]*up[2]
		return [3]float64{v[0] - d*up[0], v[1] - d*up[1], v[2] - d*up[2]}
	}
	e1 := normalize3(horiz(ref))
	e2 := cross3(up, e1)
	raw := make([]float64, n)
	for _, i := range placedIdx {
		h := horiz(i)
		raw[i] = math.Atan2(dot3(h, e2), dot3(h, e1)) * 180 / math.Pi
	}
	// Walking forward (consecutive photos) increases azimuth.
	walk := 0.0
	for _, r := range rels {
		if r.J == r.I+1 && abs3[r.I] != nil && abs3[r.J] != nil {
			d := math.Mod(raw[r.J]-raw[r.I]+540, 360) - 180
			walk += d
		}
	}
	var placed []float64
	for _, i := range placedIdx {
		a := raw[i]
		if walk < 0 {
			a = -a
		}
		a = math.Mod(a+360, 360)
		c.Azimuths[i] = a
		placed = append(placed, a)
	}
	c.Known = true
	sort.Float64s(placed)
	covered := 360.0
	for k := range placed {
		next := placed[(k+1)%len(placed)]
		if k == len(placed)-1 {
			next += 360
		}
		gap := next - placed[k]
		if gap > 2*coverHalf+minMissing {
			from := math.Mod(placed[k]+coverHalf, 360)
			to := math.Mod(next-coverHalf, 360)
			c.Missing = append(c.Missing, Arc{From: from, To: to})
			covered -= gap - 2*coverHalf
		}
	}
	c.Covered = covered
	c.Full = len(c.Missing) == 0
	return c
}

// leastEigenvector returns the unit eigenvector of the symmetric matrix m
// with the smallest eigenvalue.
func leastEigenvector(m [9]float64) [3]float64 {
	var eig mat.EigenSym
	if !eig.Factorize(mat.NewSymDense(3, m[:]), true) {
		return [3]float64{0, 0, 1}
	}
	var v mat.Dense
	eig.VectorsTo(&v)
	vals := eig.Values(nil)
	k := 0
	for i := 1; i < 3; i++ {
		if vals[i] < vals[k] {
			k = i
		}
	}
	return normalize3([3]float64{v.At(0, k), v.At(1, k), v.At(2, k)})
}

func mul3(a, b [9]float64) [9]float64 {
	var r [9]float64
	for i := 0; i < 3; i++ {
		for j := 0; j < 3; j++ {
			r[3*i+j] = a[3*i]*b[j] + a[3*i+1]*b[3+j] + a[3*i+2]*b[6+j]
		}
	}
	return r
}

func transpose3(m [9]float64) [9]float64 {
	return [9]float64{m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]}
}

func dot3(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func cross3(a, b [3]float64) [3]float64 {
	return [3]float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

func normalize3(v [3]float64) [3]float64 {
	l := math.Sqrt(dot3(v, v))
	if l == 0 {
		return v
	}
	return [3]float64{v[0] / l, v[1] / l, v[2] / l}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
