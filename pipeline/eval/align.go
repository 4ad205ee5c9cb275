// Package eval measures a reconstruction against the ground truth of a
// synthetic capture (pipeline/synth): it aligns the reconstructed cameras
// to the true ones by a similarity transform and reports the errors, in
// millimetres and as a share of the part's size.
package eval

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"
)

// Similarity maps x to Scale·R·x + T.
type Similarity struct {
	Scale float64
	R     *mat.Dense // 3×3 rotation
	T     r3.Vec
}

// Apply maps x.
func (s *Similarity) Apply(x r3.Vec) r3.Vec {
	v := mat.NewVecDense(3, []float64{x.X, x.Y, x.Z})
	var r mat.VecDense
	r.MulVec(s.R, v)
	return r3.Vec{X: s.Scale*r.AtVec(0) + s.T.X, Y: s.Scale*r.AtVec(1) + s.T.Y, Z: s.Scale*r.AtVec(2) + s.T.Z}
}

// Align finds the similarity that best maps the points from onto to in
// the least-squares sense (Umeyama, "Least-squares estimation of
// transformation parameters between two point patterns", IEEE PAMI 13(4),
// 1991, eqs. 34–43), with a proper rotation (no reflection). It needs at
// least 3 pairs not all on one line.
func Align(from, to []r3.Vec) (*Similarity, error) {
	n := len(from)
	if n != len(to) || n < 3 {
		return nil, errors.New("eval: align needs at least 3 pairs of points")
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
		return nil, errors.New("eval: the points to align coincide")
	}
	var svd mat.SVD
	if !svd.Factorize(cov, mat.SVDFull) {
		return nil, errors.New("eval: SVD failed")
	}
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	d := svd.Values(nil)
	if d[1] < 1e-12*d[0] {
		return nil, errors.New("eval: the points to align lie on a line")
	}
	s := mat.NewDiagDense(3, []float64{1, 1, 1})
	if mat.Det(&u)*mat.Det(&v) < 0 {
		s.SetDiag(2, -1)
	}
	var us, rot mat.Dense
	us.Mul(&u, s)
	rot.Mul(&us, v.T())
	trace := d[0] + d[1] + s.At(2, 2)*d[2]
	scale := trace / varF
	sim := &Similarity{Scale: scale, R: &rot}
	m := sim.Apply(mf)
	sim.T = r3.Sub(mt, m)
	return sim, nil
}

// Errors are the distances, after alignment, between aligned points and
// their targets.
type Errors struct {
	RMS, Max, Mean float64
}

// Residuals aligns from onto to and measures what is left.
func Residuals(from, to []r3.Vec) (*Similarity, Errors, error) {
	sim, err := Align(from, to)
	if err != nil {
		return nil, Errors{}, err
	}
	var e Errors
	for i := range from {
		d := r3.Norm(r3.Sub(sim.Apply(from[i]), to[i]))
		e.RMS += d * d
		e.Mean += d
		e.Max = math.Max(e.Max, d)
	}
	e.RMS = math.Sqrt(e.RMS / float64(len(from)))
	e.Mean /= float64(len(from))
	return sim, e, nil
}
