package synth

import (
	"math"
	"math/rand/v2"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// Intrinsics is a pinhole camera in COLMAP's PINHOLE model: pixel (u, v) of
// a camera-frame point (x, y, z) is (fx·x/z + cx, fy·y/z + cy), with (0, 0)
// the top-left corner of the top-left pixel.
type Intrinsics struct {
	Model         string  `json:"model"`
	Width         int     `json:"width"`
	Height        int     `json:"height"`
	Fx            float64 `json:"fx"`
	Fy            float64 `json:"fy"`
	Cx            float64 `json:"cx"`
	Cy            float64 `json:"cy"`
	FocalMM       float64 `json:"focal_mm"`
	SensorWidthMM float64 `json:"sensor_width_mm"`
	// FocalLength35mm is what the EXIF says: the diagonal 35 mm equivalent
	// (CIPA DC-008), rounded to a whole millimetre as cameras write it.
	FocalLength35mm int `json:"focal_length_35mm"`
}

// pose is a camera's world→camera transform in COLMAP's convention: a
// world point X maps to R·X + T in the camera frame, where x points right,
// y down and z forward.
type pose struct {
	R mat3
	T vec
	C vec // centre in world
}

// lookAt places a camera at c looking at target with world z up, rolled by
// roll radians about its viewing direction.
func lookAt(c, target vec, roll float64) pose {
	f := r3.Unit(r3.Sub(target, c))
	right := r3.Cross(f, vec{Z: 1})
	if r3.Norm(right) < 1e-9 { // looking straight down or up
		right = vec{X: 1}
	}
	right = r3.Unit(right)
	down := r3.Cross(f, right)
	cr, sr := math.Cos(roll), math.Sin(roll)
	right, down = r3.Add(r3.Scale(cr, right), r3.Scale(sr, down)), r3.Sub(r3.Scale(cr, down), r3.Scale(sr, right))
	R := mat3{right.X, right.Y, right.Z, down.X, down.Y, down.Z, f.X, f.Y, f.Z}
	return pose{R: R, T: r3.Scale(-1, R.mul(c)), C: c}
}

// quaternion returns R as a unit quaternion (w, x, y, z) with w ≥ 0, as
// COLMAP's images.txt writes it (Shepperd's method).
func (m mat3) quaternion() [4]float64 {
	tr := m[0] + m[4] + m[8]
	var q [4]float64
	switch {
	case tr > 0:
		s := math.Sqrt(tr+1) * 2
		q = [4]float64{s / 4, (m[7] - m[5]) / s, (m[2] - m[6]) / s, (m[3] - m[1]) / s}
	case m[0] > m[4] && m[0] > m[8]:
		s := math.Sqrt(1+m[0]-m[4]-m[8]) * 2
		q = [4]float64{(m[7] - m[5]) / s, s / 4, (m[1] + m[3]) / s, (m[2] + m[6]) / s}
	case m[4] > m[8]:
		s := math.Sqrt(1+m[4]-m[0]-m[8]) * 2
		q = [4]float64{(m[2] - m[6]) / s, (m[1] + m[3]) / s, s / 4, (m[5] + m[7]) / s}
	default:
		s := math.Sqrt(1+m[8]-m[0]-m[4]) * 2
		q = [4]float64{(m[3] - m[1]) / s, (m[2] + m[6]) / s, (m[5] + m[7]) / s, s / 4}
	}
	if q[0] < 0 {
		for i := range q {
			q[i] = -q[i]
		}
	}
	n := math.Sqrt(q[0]*q[0] + q[1]*q[1] + q[2]*q[2] + q[3]*q[3])
	for i := range q {
		q[i] /= n
	}
	return q
}

// viewPlan is where one photo is taken from.
type viewPlan struct {
	azimuth, elevation float64 // degrees, before jitter
	pose               pose
}

// planViews spreads views over rings of elevation around the target, as a
// maker walks around the part: ring by ring, azimuth increasing. Views avoid
// the skipped arc (from, to degrees, counter-clockwise), so the same number
// of photos is spread over what remains. Each pose gets the small, seeded
// jitter of a hand-held camera: distance ±4 %, aim ±1.5 % of the distance,
// azimuth ±20 % of the step, roll ±3°.
func planViews(o *Options, target vec, distance float64, rng *rand.Rand) []viewPlan {
	rings := max(1, min(o.Rings, o.Views))
	elev := make([]float64, rings)
	for k := range elev {
		if rings == 1 {
			elev[k] = 40
		} else {
			elev[k] = 25 + 30*float64(k)/float64(rings-1)
		}
	}
	start, arc := rng.Float64()*360, 360.0
	if o.SkipArc != nil {
		from, to := o.SkipArc[0], o.SkipArc[1]
		w := math.Mod(to-from+720, 360)
		start, arc = to, 360-w
	}
	var plans []viewPlan
	for k := 0; k < rings; k++ {
		n := o.Views / rings
		if k < o.Views%rings {
			n++
		}
		step := arc / float64(n)
		for j := 0; j < n; j++ {
			frac := (float64(j) + 0.5 + float64(k)/float64(rings) - 0.5/float64(rings)) / float64(n)
			if o.SkipArc == nil {
				frac = (float64(j) + float64(k)/float64(rings)) / float64(n)
			}
			az := start + frac*arc + (rng.Float64()*2-1)*0.2*step
			if o.SkipArc != nil { // keep the jitter out of the skipped arc
				az = start + math.Min(math.Max(frac*arc+(rng.Float64()*2-1)*0.2*step, 0), arc)
			}
			el := elev[k] + (rng.Float64()*2-1)*2
			d := distance * (1 + (rng.Float64()*2-1)*0.04)
			a, e := az*math.Pi/180, el*math.Pi/180
			c := r3.Add(target, vec{X: d * math.Cos(e) * math.Cos(a), Y: d * math.Cos(e) * math.Sin(a), Z: d * math.Sin(e)})
			aim := r3.Add(target, r3.Scale(0.015*distance, vec{X: rng.Float64()*2 - 1, Y: rng.Float64()*2 - 1, Z: rng.Float64()*2 - 1}))
			roll := (rng.Float64()*2 - 1) * 3 * math.Pi / 180
			plans = append(plans, viewPlan{azimuth: math.Mod(az, 360), elevation: el, pose: lookAt(c, aim, roll)})
		}
	}
	return plans
}

// autoDistance picks a camera distance at which the part and the sheet
// around it fill the frame as a careful maker would frame them.
func autoDistance(b geom.Box) float64 {
	return math.Max(300, 4*b.MaxExtent())
}
