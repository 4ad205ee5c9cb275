package geom

import (
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// FitPlane fits a plane to points by principal component analysis: it
// returns their weighted centroid and the unit normal, the covariance's
// eigenvector of least eigenvalue (SymEigen3), turned to agree with guess.
// weight(i) is point i's weight; nil weighs every point alike. ok is false
// when the weights sum to nothing or the normal is undefined.
func FitPlane(points []Vec, weight func(i int) float64, guess Vec) (centre, normal Vec, ok bool) {
	w := func(i int) float64 { return 1 }
	if weight != nil {
		w = weight
	}
	var sum float64
	for i, p := range points {
		centre = r3.Add(centre, r3.Scale(w(i), p))
		sum += w(i)
	}
	if !(sum > 0) {
		return Vec{}, Vec{}, false
	}
	centre = r3.Scale(1/sum, centre)
	var a [3][3]float64
	for i, p := range points {
		d := r3.Sub(p, centre)
		v := [3]float64{d.X, d.Y, d.Z}
		for j := range 3 {
			for k := range 3 {
				a[j][k] += w(i) * v[j] * v[k]
			}
		}
	}
	_, vs := SymEigen3(a)
	n := vs[0]
	if l := r3.Norm(n); !(l > 0) || math.IsNaN(l) {
		return centre, Vec{}, false
	}
	n = r3.Scale(1/r3.Norm(n), n)
	if r3.Dot(n, guess) < 0 {
		n = r3.Scale(-1, n)
	}
	return centre, n, true
}
