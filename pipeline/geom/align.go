package geom

import (
	"errors"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"
)

// Umeyama returns the similarity x ↦ scale·R·x + t (R row-major) that best
// maps the points from onto to in the least-squares sense (Umeyama,
// "Least-squares estimation of transformation parameters between two
// point patterns", IEEE PAMI 13(4), 1991, eqs. 34–43), with a proper
// rotation (no reflection). It needs at least 3 pairs not all on one
// line; coplanar points are fine.
func Umeyama(from, to []Vec) (scale float64, rot [9]float64, t Vec, err error) {
	n := len(from)
	if n != len(to) || n < 3 {
		return 0, rot, t, errors.New("geom: align needs at least 3 pairs of points")
	}
	var mf, mt r3.Vec
	for i := range n {
		mf, mt = r3.Add(mf, from[i]), r3.Add(mt, to[i])
	}
	mf, mt = r3.Scale(1/float64(n), mf), r3.Scale(1/float64(n), mt)
	cov := mat.NewDense(3, 3, nil)
	var varF float64
	for i := range n {
		a, b := r3.Sub(from[i], mf), r3.Sub(to[i], mt)
		av, bv := [3]float64{a.X, a.Y, a.Z}, [3]float64{b.X, b.Y, b.Z}
		for r := range 3 {
			for c := range 3 {
				cov.Set(r, c, cov.At(r, c)+bv[r]*av[c]/float64(n))
			}
		}
		varF += r3.Norm2(a) / float64(n)
	}
	if varF == 0 {
		return 0, rot, t, errors.New("geom: the points to align coincide")
	}
	var svd mat.SVD
	if !svd.Factorize(cov, mat.SVDFull) {
		return 0, rot, t, errors.New("geom: SVD failed")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := svd.Values(nil)
	if d[1] < 1e-12*d[0] {
		return 0, rot, t, errors.New("geom: the points to align lie on a line")
	}
	s := mat.NewDiagDense(3, []float64{1, 1, 1})
	if mat.Det(&u)*mat.Det(&v) < 0 {
		s.SetDiag(2, -1)
	}
	var us, r mat.Dense
	us.Mul(&u, s)
	r.Mul(&us, v.T())
	scale = (d[0] + d[1] + s.At(2, 2)*d[2]) / varF
	for i := range 3 {
		for j := range 3 {
			rot[3*i+j] = r.At(i, j)
		}
	}
	m := Vec{
		X: scale * (rot[0]*mf.X + rot[1]*mf.Y + rot[2]*mf.Z),
		Y: scale * (rot[3]*mf.X + rot[4]*mf.Y + rot[5]*mf.Z),
		Z: scale * (rot[6]*mf.X + rot[7]*mf.Y + rot[8]*mf.Z),
	}
	return scale, rot, r3.Sub(mt, m), nil
}
