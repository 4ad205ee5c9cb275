package scale

import (
	"errors"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Ground returns the rigid transform (Scale 1) that puts the dominant plane
// of points, the mat or table the part stands on, on z = 0 with z pointing
// towards the cameras (the photos are taken from above it). It is the frame
// used when no scale sheet was found. The plane is found by RANSAC
// (Fischler and Bolles, "Random sample consensus", CACM 24(6), 1981) with
// inliers within tol, on at most 50 000 of the points, then refitted by
// least squares to its inliers. Points and cameras must be finite.
func Ground(points, cameras []r3.Vec, tol float64) (*Similarity, error) {
	if len(points) < 3 {
		return nil, errors.New("scale: too few points to find the ground plane")
	}
	if len(cameras) == 0 {
		return nil, errors.New("scale: no cameras to tell up from down")
	}
	if !(tol > 0) {
		return nil, errors.New("scale: ground plane tolerance must be positive")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	sample := points
	if len(points) > 50_000 {
		sample = make([]r3.Vec, 50_000)
		for i := range sample {
			sample[i] = points[rng.IntN(len(points))]
		}
	}
	var bestN int
	var bestP, bestN3 r3.Vec
	for range 300 {
		a, b, c := sample[rng.IntN(len(sample))], sample[rng.IntN(len(sample))], sample[rng.IntN(len(sample))]
		n := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
		l := r3.Norm(n)
		if !(l > 0) {
			continue
		}
		n = r3.Scale(1/l, n)
		cnt := 0
		for _, p := range sample {
			if math.Abs(r3.Dot(r3.Sub(p, a), n)) <= tol {
				cnt++
			}
		}
		if cnt > bestN {
			bestN, bestP, bestN3 = cnt, a, n
		}
	}
	if bestN < 3 {
		return nil, errors.New("scale: no plane found among the points")
	}
	// Least squares on the inliers: the normal is the covariance's
	// eigenvector of the smallest eigenvalue.
	var in []r3.Vec
	for _, p := range sample {
		if math.Abs(r3.Dot(r3.Sub(p, bestP), bestN3)) <= tol {
			in = append(in, p)
		}
	}
	centre, normal, ok := geom.FitPlane(in, nil, bestN3)
	if !ok {
		normal = bestN3
	}
	// Up is towards the cameras.
	var up float64
	for _, c := range cameras {
		up += r3.Dot(r3.Sub(c, centre), normal)
	}
	if up < 0 {
		normal = r3.Scale(-1, normal)
	}
	// A frame with z = normal; x along the world axis least parallel to it.
	ref := r3.Vec{X: 1}
	if math.Abs(normal.X) > 0.9 {
		ref = r3.Vec{Y: 1}
	}
	x := r3.Unit(r3.Sub(ref, r3.Scale(r3.Dot(ref, normal), normal)))
	y := r3.Cross(normal, x)
	s := &Similarity{Scale: 1, R: [9]float64{x.X, x.Y, x.Z, y.X, y.Y, y.Z, normal.X, normal.Y, normal.Z}}
	t := s.Apply(centre)
	s.T = [3]float64{-t.X, -t.Y, -t.Z}
	return s, nil
}

// Inverse returns the similarity that undoes s.
func (s *Similarity) Inverse() *Similarity {
	r := &s.R
	inv := &Similarity{Scale: 1 / s.Scale, R: [9]float64{r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]}}
	t := inv.Apply(r3.Vec{X: s.T[0], Y: s.T[1], Z: s.T[2]})
	// inv.Apply added inv.T = 0, so t = inv.Scale·Rᵀ·T.
	inv.T = [3]float64{-t.X, -t.Y, -t.Z}
	return inv
}

// Then returns the similarity that applies s, then o.
func (s *Similarity) Then(o *Similarity) *Similarity {
	out := &Similarity{Scale: s.Scale * o.Scale}
	for i := range 3 {
		for j := range 3 {
			for k := range 3 {
				out.R[3*i+j] += o.R[3*i+k] * s.R[3*k+j]
			}
		}
	}
	t := o.Apply(r3.Vec{X: s.T[0], Y: s.T[1], Z: s.T[2]})
	out.T = [3]float64{t.X, t.Y, t.Z}
	return out
}
