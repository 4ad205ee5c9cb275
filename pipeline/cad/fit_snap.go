package cad

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// Snapping tolerances (FitOptions.NoSnap). Scanned parts are designed with
// round numbers and right angles; a fit with 0.1 mm noise lands within a
// few hundredths of a degree and millimetre of them, so these bounds catch
// what was meant without merging what was not.
const (
	snapAngle    = 1 * math.Pi / 180 // directions within 1°
	snapCoaxial  = 0.1               // axes within 0.1 mm of each other
	snapDiamStep = 0.1               // diameters to multiples of 0.1 mm …
	snapDiamTol  = 0.06              // … when within 0.06 mm of one
)

// snap makes near relations exact and reports each change in f.snaps, by
// primitive number (largest first, as Fit returns them):
//
//   - a reference frame is taken from the largest plane's normal and the
//     largest plane within 1° of perpendicular to it; every plane normal
//     and cylinder or cone axis within 1° of a frame axis is set to it,
//     and a plane perpendicular within 1° to the first is made exactly
//     perpendicular. Planes keep their fitted offset (the least-squares
//     offset for the new normal: through their centroid); cylinders are
//     refitted with their axis direction fixed;
//   - cylinders whose axes are parallel and within 0.1 mm of each other are
//     put on the larger one's axis and their radii refitted;
//   - cylinder diameters within 0.06 mm of a multiple of 0.1 mm are rounded
//     to it. With a 0.1 mm step that is every diameter: the bound is there
//     to be lowered, and the report says what moved.
func (f *fitter) snap() {
	members := make([][]int32, len(f.shapes))
	for i, k := range f.label {
		if k >= 0 {
			members[k] = append(members[k], int32(i))
		}
	}
	cosTol, sinTol := math.Cos(snapAngle), math.Sin(snapAngle)
	var frame []r3.Vec
	var frameOf []int
	for k, s := range f.shapes {
		if s.kind != kindPlane {
			continue
		}
		if len(frame) == 0 {
			frame, frameOf = append(frame, s.a), append(frameOf, k)
			continue
		}
		if d := r3.Dot(s.a, frame[0]); math.Abs(d) < sinTol {
			e := r3.Unit(r3.Sub(s.a, r3.Scale(d, frame[0])))
			frame = append(frame, e, r3.Cross(frame[0], e))
			frameOf = append(frameOf, k, k)
			break
		}
	}
	centroid := func(idx []int32) r3.Vec {
		var m r3.Vec
		for _, i := range idx {
			m = r3.Add(m, f.pts[i])
		}
		return r3.Scale(1/float64(len(idx)), m)
	}
	// align returns the frame axis a is within 1° of, turned to agree.
	align := func(a r3.Vec) (r3.Vec, int, bool) {
		for j, e := range frame {
			if d := r3.Dot(a, e); math.Abs(d) > cosTol {
				return r3.Scale(math.Copysign(1, d), e), j, true
			}
		}
		return a, 0, false
	}
	for k := range f.shapes {
		s := &f.shapes[k]
		switch s.kind {
		case kindPlane:
			if len(frame) > 0 && k == frameOf[0] {
				continue
			}
			a, j, ok := align(s.a)
			// The relation reported: parallel to the plane that gave the
			// axis, or else perpendicular to the largest plane.
			what, ref := "parallel to", 0
			if !ok && len(frame) > 0 {
				if d := r3.Dot(s.a, frame[0]); math.Abs(d) < sinTol {
					a, ok = r3.Unit(r3.Sub(s.a, r3.Scale(d, frame[0]))), true
					what = "perpendicular to"
				}
			} else if ok && j > 0 {
				what, ref = "perpendicular to", frameOf[0]
				if j == 1 && k != frameOf[1] {
					what, ref = "parallel to", frameOf[1]
				}
			} else if ok {
				ref = frameOf[0]
			}
			if !ok || a == s.a {
				continue
			}
			deg := math.Acos(math.Min(1, r3.Dot(a, s.a))) * 180 / math.Pi
			s.a, s.c = a, centroid(members[k])
			if deg >= 0.0005 { // rounding is no news
				f.snaps = append(f.snaps, fmt.Sprintf("plane %d made %s plane %d (turned %.3f°)", k, what, ref, deg))
			}
		case kindCylinder, kindCone:
			a, j, ok := align(s.a)
			if !ok || a == s.a {
				continue
			}
			deg := math.Acos(math.Min(1, r3.Dot(a, s.a))) * 180 / math.Pi
			s.a = a
			if s.kind == kindCylinder {
				*s = refineCylinder(*s, strided(f.pts, members[k]), true)
			} else {
				*s = refine(*s, strided(f.pts, members[k]))
				s.a = a // keep the snapped axis; the apex and angle moved with it
			}
			if deg >= 0.0005 {
				f.snaps = append(f.snaps, fmt.Sprintf("%s %d axis made parallel to plane %d's normal (turned %.3f°)", s.kind, k, frameOf[j], deg))
			}
		}
	}
	// Coaxial cylinders: the larger (earlier) one's axis wins.
	for k := range f.shapes {
		s := &f.shapes[k]
		if s.kind != kindCylinder {
			continue
		}
		for j := range k {
			t := f.shapes[j]
			if t.kind != kindCylinder || math.Abs(r3.Dot(s.a, t.a)) < cosTol {
				continue
			}
			v := r3.Sub(s.c, t.c)
			off := r3.Norm(r3.Sub(v, r3.Scale(r3.Dot(v, t.a), t.a)))
			if off >= snapCoaxial || off == 0 && math.Abs(r3.Dot(s.a, t.a)) == 1 {
				continue
			}
			s.a, s.c = t.a, t.c
			var sum float64
			for _, i := range members[k] {
				d, _ := s.distNormal(f.pts[i])
				sum += d + s.r
			}
			s.r = sum / float64(len(members[k]))
			f.snaps = append(f.snaps, fmt.Sprintf("cylinder %d made coaxial with cylinder %d (axes %.3f mm apart)", k, j, off))
			break
		}
	}
	for k := range f.shapes {
		s := &f.shapes[k]
		if s.kind != kindCylinder {
			continue
		}
		d := 2 * s.r
		q := math.Round(d/snapDiamStep) * snapDiamStep
		if q > 0 && math.Abs(d-q) <= snapDiamTol && d != q {
			s.r = q / 2
			f.snaps = append(f.snaps, fmt.Sprintf("cylinder %d Ø%.3f → Ø%.1f", k, d, q))
		}
	}
}
