// Package eval measures a reconstruction against the ground truth of a
// synthetic capture (pipeline/synth): it aligns the reconstructed cameras
// to the true ones by a similarity transform and reports the errors, in
// millimetres and as a share of the part's size.
package eval

import (
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
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
// the least-squares sense, with a proper rotation (geom.Umeyama). It needs
// at least 3 pairs not all on one line.
func Align(from, to []r3.Vec) (*Similarity, error) {
	scale, rot, t, err := geom.Umeyama(from, to)
	if err != nil {
		return nil, err
	}
	return &Similarity{Scale: scale, R: mat.NewDense(3, 3, rot[:]), T: t}, nil
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
