package eval

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// SceneDistance returns the distance from p to the synthetic scene: the
// part's surface s and the ground plane z = 0 it stands on, where the mat,
// the table and the scale sheet lie (everything of the scene that is not
// the part). It is NaN or +Inf, as s.Distance, when p is not finite.
func SceneDistance(s *Surface, p r3.Vec) float64 {
	return sceneDistance(s.Distance(p), p)
}

// sceneDistance is SceneDistance from p's distance to the part, part.
func sceneDistance(part float64, p r3.Vec) float64 {
	if !finite(p) {
		return part
	}
	return min(part, math.Abs(p.Z))
}

// MeasureSceneAccuracy measures the distance from each finite point to the
// scene (SceneDistance) as MeasureAccuracy does, and returns with it the
// share of all the points, the non-finite ones counted as misses, that lie
// within tol of the scene; 0 for no points. The queries run on GOMAXPROCS
// goroutines.
func MeasureSceneAccuracy(points []r3.Vec, s *Surface, tol float64) (a Accuracy, within float64) {
	d := make([]float64, len(points))
	parallel(len(points), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			d[i] = SceneDistance(s, points[i])
		}
	})
	return sceneAccuracy(d, tol)
}

// sceneAccuracy is MeasureSceneAccuracy on the scene distances d, one a
// point (NaN or infinite for a point that is not finite); it reorders d.
func sceneAccuracy(d []float64, tol float64) (Accuracy, float64) {
	n := len(d)
	fin := d[:0]
	var in int
	for _, v := range d {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		fin = append(fin, v)
		if v <= tol {
			in++
		}
	}
	if n == 0 {
		return Accuracy{}, 0
	}
	return accuracyOf(fin), float64(in) / float64(n)
}

// VisibleSurface is the part of a surface that a set of cameras sees, as
// the samples of it that one camera or more sees.
type VisibleSurface struct {
	Samples []r3.Vec // the visible samples
	Total   int      // how many samples were drawn, visible or not
	box     geom.Box // the surface's bounds, for the point grid
}

// visibleOffset is the distance, as a share of the surface's largest
// size, that a sample moves off its face along the outward normal before
// its sight line is cast, so that the face it lies on never hides it. The
// rounding of the Möller–Trumbore parameter is about 2⁻⁵² of the lengths
// involved; 1e-6 is far above it and far below any wall of a part (0.1 µm
// for a 100 mm part).
const visibleOffset = 1e-6

// Visible draws samples points from s as MeasureCompleteness does (the same
// seed, so the same points) and keeps those that a camera centred at one
// of cams sees: the sample is not below the ground plane z = 0, its face's
// outward normal n points towards the camera, n·(c − p) > 0, and the
// segment from p + δn to c, δ = visibleOffset·(s's largest size), meets no
// triangle of s (SegmentHits). The ground plane hides nothing more: the
// cameras are above it and the samples not below it.
//
// Outward is the side the faces' right-hand normals point to when s encloses
// a positive volume (counter-clockwise seen from outside), the other when
// the whole mesh is flipped. The cameras' fields of view are not checked:
// the synthetic cameras aim at the part and frame all of it. The samples
// run on GOMAXPROCS goroutines.
func (s *Surface) Visible(cams []r3.Vec, samples int) *VisibleSurface {
	pts, tri := s.sample(samples, completenessSeed)
	v := &VisibleSurface{Total: len(pts), box: s.box}
	if len(pts) == 0 {
		return v
	}
	sign := 1.0
	if s.signedVolume() < 0 {
		sign = -1
	}
	off := visibleOffset * s.box.MaxExtent()
	seen := make([]bool, len(pts))
	parallel(len(pts), func(lo, hi int) {
		for k := lo; k < hi; k++ {
			p := pts[k]
			if p.Z < 0 {
				continue
			}
			t := &s.tris[tri[k]]
			n := r3.Scale(sign, r3.Unit(r3.Cross(r3.Sub(t.b, t.a), r3.Sub(t.c, t.a))))
			from := r3.Add(p, r3.Scale(off, n))
			for _, c := range cams {
				if r3.Dot(n, r3.Sub(c, p)) > 0 && !s.SegmentHits(from, c) {
					seen[k] = true
					break
				}
			}
		}
	})
	for k, p := range pts {
		if seen[k] {
			v.Samples = append(v.Samples, p)
		}
	}
	return v
}

// signedVolume is geom.Mesh.SignedVolume over s's triangles: positive when
// they are counter-clockwise seen from outside a closed surface.
func (s *Surface) signedVolume() float64 {
	o := s.box.Center()
	var sum float64
	for _, t := range s.tris {
		a, b, c := r3.Sub(t.a, o), r3.Sub(t.b, o), r3.Sub(t.c, o)
		sum += r3.Dot(a, r3.Cross(b, c))
	}
	return sum / 6
}

// Share returns the share of the samples drawn that are visible; 0 when
// none was drawn.
func (v *VisibleSurface) Share() float64 {
	if v.Total == 0 {
		return 0
	}
	return float64(len(v.Samples)) / float64(v.Total)
}

// Completeness returns the share of the visible samples that have a finite
// point within tol (mm); 0 when no sample is visible or tol is negative or
// NaN.
func (v *VisibleSurface) Completeness(points []r3.Vec, tol float64) float64 {
	if !(tol >= 0) {
		return 0
	}
	return coverage(points, v.Samples, v.box, tol)
}

// shareWithin returns the share of the samples q within tol of the
// surface s (a reconstructed mesh); 0 when q is empty. The queries run on
// GOMAXPROCS goroutines.
func shareWithin(q []r3.Vec, s *Surface, tol float64) float64 {
	if len(q) == 0 {
		return 0
	}
	var mu sync.Mutex
	var hit int
	parallel(len(q), func(lo, hi int) {
		var h int
		for _, p := range q[lo:hi] {
			if s.Distance(p) <= tol {
				h++
			}
		}
		mu.Lock()
		hit += h
		mu.Unlock()
	})
	return float64(hit) / float64(len(q))
}
