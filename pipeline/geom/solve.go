package geom

import "math"

// Solve3 solves the 3×3 system a·x = b (a row-major) by Cramer's rule. It
// reports false when a is singular for the purpose: when |det a| is at most
// tol·s³, s being a's largest entry in magnitude, or is not finite. For the
// small, well-scaled systems it serves (normal equations of three unknowns,
// the meeting point of three planes or of rays) Cramer's rule is as
// accurate as elimination and needs no pivoting.
func Solve3(a [9]float64, b [3]float64, tol float64) ([3]float64, bool) {
	det := func(m [9]float64) float64 {
		return m[0]*(m[4]*m[8]-m[5]*m[7]) - m[1]*(m[3]*m[8]-m[5]*m[6]) + m[2]*(m[3]*m[7]-m[4]*m[6])
	}
	var s float64
	for _, v := range a {
		s = math.Max(s, math.Abs(v))
	}
	d := det(a)
	if !(math.Abs(d) > tol*s*s*s) || math.IsInf(d, 0) {
		return [3]float64{}, false
	}
	var x [3]float64
	for k := range 3 {
		m := a
		m[k], m[3+k], m[6+k] = b[0], b[1], b[2]
		x[k] = det(m) / d
	}
	return x, true
}
