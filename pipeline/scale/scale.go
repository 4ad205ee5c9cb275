// Package scale gives a reconstruction its true size and its ground plane
// from the printed scale sheet (capture/markers): the markers' corners,
// detected in the photos with sub-pixel precision, are triangulated with
// the reconstructed cameras and matched to the sheet's layout by a
// similarity transform. Applied to the model, the transform puts it in
// millimetres with the sheet on the plane z = 0 and z up, the frame every
// later stage (part isolation, the flat base, STL, 3MF, STEP) works in.
package scale

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/capture/markers"
	"github.com/replica3d/replica/pipeline/geom"
)

// An Observation is one marker detected in one photo: View indexes the
// views given to Solve, Corners are in pixels in the order of
// markers.Marker.Corners.
type Observation struct {
	View    int
	ID      int
	Corners [4][2]float64
}

// Similarity maps a model point x to Scale·R·x + T (R row-major): model
// units to millimetres in the sheet's frame.
type Similarity struct {
	Scale float64    `json:"scale"`
	R     [9]float64 `json:"rotation"`
	T     [3]float64 `json:"translation"`
}

// Apply maps x.
func (s *Similarity) Apply(x r3.Vec) r3.Vec {
	r := &s.R
	return r3.Vec{
		X: s.Scale*(r[0]*x.X+r[1]*x.Y+r[2]*x.Z) + s.T[0],
		Y: s.Scale*(r[3]*x.X+r[4]*x.Y+r[5]*x.Z) + s.T[1],
		Z: s.Scale*(r[6]*x.X+r[7]*x.Y+r[8]*x.Z) + s.T[2],
	}
}

// Result is what Solve found, saved as scale.json. When Found is false,
// Reason says why in words a user can act on and the transform is unset.
type Result struct {
	Found  bool   `json:"found"`
	Reason string `json:"reason,omitempty"`
	// Paper is the sheet's paper size whose layout the markers fit.
	Paper string `json:"paper,omitempty"`
	// Detections counts the markers detected in all photos; Photos the
	// photos with at least one.
	Detections int `json:"detections"`
	Photos     int `json:"photos_with_markers"`
	// Markers and Corners are those placed in 3-D and used in the fit;
	// PhotosUsed the photos whose sightings they came from.
	Markers    int `json:"markers_used"`
	Corners    int `json:"corners_used"`
	PhotosUsed int `json:"photos_used"`
	// ReprojectionRMS is the corners' reprojection error in pixels after
	// triangulation.
	ReprojectionRMS float64 `json:"reprojection_rms_px,omitempty"`
	// ResidualRMS and ResidualMax are the distances, in mm, between the
	// triangulated corners mapped to the sheet and their printed places.
	ResidualRMS float64 `json:"residual_rms_mm,omitempty"`
	ResidualMax float64 `json:"residual_max_mm,omitempty"`
	// MMPerUnit is the scale: millimetres per model unit.
	MMPerUnit float64 `json:"mm_per_unit,omitempty"`
	// UncertaintyPct is the scale's estimated standard uncertainty in
	// percent: the jackknife over markers (Efron and Stein, "The jackknife
	// estimate of variance", Ann. Statist. 9(3), 1981), which, unlike the
	// formula for independent errors, also covers errors shared by the
	// four corners of one marker (its detection, a curled sheet).
	UncertaintyPct float64     `json:"uncertainty_pct,omitempty"`
	Transform      *Similarity `json:"transform,omitempty"`
}

// Limits of a fit that is trusted.
const (
	// MinMarkers is the least number of markers placed in 3-D: fewer
	// leave the scale to one marker's 27 mm and the jackknife undefined.
	MinMarkers = 3
	// maxResidualRMS (mm) is the largest RMS misfit to the layout that is
	// believed: beyond it the sheet is not flat, not printed at 100 %, or
	// not the layout we know.
	maxResidualRMS = 1.0
	// maxReprojection (px) is the largest reprojection error a sighting
	// keeps after triangulation; beyond it the sighting is dropped.
	maxReprojection = 3.0
)

// Solve places the markers observed in views in 3-D and fits the sheet's
// layout to them. It returns a Result with Found false and a Reason when
// the markers cannot give a trusted scale (none seen, seen in one photo
// only, too few placed, a poor fit); the error is for bad arguments only.
func Solve(views []View, obs []Observation) (*Result, error) {
	res := &Result{}
	photos := map[int]bool{}
	for _, o := range obs {
		if o.View < 0 || o.View >= len(views) {
			return nil, fmt.Errorf("scale: observation of view %d, have %d views", o.View, len(views))
		}
		photos[o.View] = true
	}
	res.Detections, res.Photos = len(obs), len(photos)
	switch {
	case len(obs) == 0:
		res.Reason = "no markers were found in any photo: lay the part on the printed scale sheet (`replica markers` makes one) so that its markers show around it, or give the part's size with --known-length"
		return res, nil
	case len(photos) == 1:
		res.Reason = fmt.Sprintf("markers were found in only one photo (%d markers); a marker must be seen in at least two photos to be placed in 3-D: keep the sheet's markers in view in every photo, or give the part's size with --known-length", len(obs))
		return res, nil
	}

	// Sightings of each corner, keyed id·4 + corner.
	bySightings := map[int][]sighting{}
	for _, o := range obs {
		for k, c := range o.Corners {
			if !finite(c[0]) || !finite(c[1]) {
				continue
			}
			key := o.ID*4 + k
			bySightings[key] = append(bySightings[key], sighting{view: &views[o.View], u: c[0], w: c[1]})
		}
	}
	type corner struct {
		key int
		p   r3.Vec
	}
	var corners []corner
	var sq float64
	var nres int
	used := map[*View]bool{}
	keys := make([]int, 0, len(bySightings))
	for k := range bySightings {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, key := range keys {
		s := bySightings[key]
		p, r, ok := triangulateRobust(s)
		if !ok {
			continue
		}
		corners = append(corners, corner{key, p})
		for i, e := range r {
			if e >= 0 {
				sq += e * e
				nres++
				used[s[i].view] = true
			}
		}
	}
	if nres > 0 {
		res.ReprojectionRMS = math.Sqrt(sq / float64(nres))
	}
	res.PhotosUsed = len(used)
	nMarkers := func(cs []corner) int {
		ids := map[int]bool{}
		for _, c := range cs {
			ids[c.key/4] = true
		}
		return len(ids)
	}
	if n := nMarkers(corners); n < MinMarkers {
		res.Markers, res.Corners = n, len(corners)
		res.Reason = fmt.Sprintf("only %d of the sheet's markers could be placed in 3-D (each needs two photos that see it from directions at least 2° apart), need %d: keep more of the sheet in view, or give the part's size with --known-length", n, MinMarkers)
		return res, nil
	}

	// Fit each paper's layout; keep the one that fits best.
	var best *fit
	for _, paper := range []markers.Paper{markers.A4, markers.Letter} {
		sheet := markers.Layout(paper)
		var from, to []r3.Vec
		var ids []int
		for _, c := range corners {
			id, k := c.key/4, c.key%4
			if id >= len(sheet.Markers) {
				continue
			}
			xy := sheet.Markers[id].Corners()[k]
			from = append(from, c.p)
			to = append(to, r3.Vec{X: xy[0], Y: xy[1]})
			ids = append(ids, id)
		}
		f, err := fitRobust(from, to, ids)
		if err != nil {
			continue
		}
		f.paper = paper
		if best == nil || f.rms < best.rms {
			best = f
		}
	}
	if best == nil {
		res.Reason = "the markers placed in 3-D do not span the sheet (they lie on a line): keep more of the sheet in view, or give the part's size with --known-length"
		return res, nil
	}
	res.Paper = best.paper.String()
	res.Markers, res.Corners = best.markers, best.corners
	res.ResidualRMS, res.ResidualMax = best.rms, best.max
	if best.markers < MinMarkers {
		res.Reason = fmt.Sprintf("only %d markers fit the sheet's layout, need %d", best.markers, MinMarkers)
		return res, nil
	}
	if best.rms > maxResidualRMS {
		res.Reason = fmt.Sprintf("the markers do not fit the %s sheet's layout (misfit %.2f mm RMS): print the sheet at 100 %% (no \"fit to page\") and lay it flat", res.Paper, best.rms)
		return res, nil
	}
	res.Found = true
	res.MMPerUnit = best.sim.Scale
	res.UncertaintyPct = 100 * best.jackknife / best.sim.Scale
	res.Transform = best.sim
	return res, nil
}

// triangulateRobust triangulates the sightings of one corner, dropping the
// worst sighting while its reprojection error exceeds maxReprojection (a
// wrong detection, a corner hidden by the part). The returned errors are −1
// for the sightings dropped.
func triangulateRobust(s []sighting) (r3.Vec, []float64, bool) {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	for len(idx) >= 2 {
		sub := make([]sighting, len(idx))
		for i, j := range idx {
			sub[i] = s[j]
		}
		p, r, ok := triangulate(sub)
		worst := 0
		if ok {
			for i := range r {
				if r[i] > r[worst] {
					worst = i
				}
			}
			if r[worst] <= maxReprojection {
				all := make([]float64, len(s))
				for i := range all {
					all[i] = -1
				}
				for i, j := range idx {
					all[j] = r[i]
				}
				return p, all, true
			}
		} else if len(idx) == 2 {
			return r3.Vec{}, nil, false
		}
		if !ok {
			// Rays too close or a camera behind: drop the last
			// sighting and try the rest.
			worst = len(idx) - 1
		}
		idx = slices.Delete(idx, worst, worst+1)
	}
	return r3.Vec{}, nil, false
}

type fit struct {
	paper     markers.Paper
	sim       *Similarity
	rms, max  float64
	markers   int
	corners   int
	jackknife float64 // standard uncertainty of the scale
}

// fitRobust fits the similarity from model corners to sheet corners,
// dropping corners whose residual exceeds three robust standard deviations
// (from the median residual) until none does, then estimates the scale's
// uncertainty by the jackknife over the markers that remain.
func fitRobust(from, to []r3.Vec, ids []int) (*fit, error) {
	keep := make([]bool, len(from))
	for i := range keep {
		keep[i] = true
	}
	var sim *Similarity
	var resid []float64
	for range 5 {
		f, t := subset(from, keep), subset(to, keep)
		s, err := similarity(f, t)
		if err != nil {
			return nil, err
		}
		sim = s
		resid = make([]float64, len(from))
		var kept []float64
		for i := range from {
			resid[i] = r3.Norm(r3.Sub(sim.Apply(from[i]), to[i]))
			if keep[i] {
				kept = append(kept, resid[i])
			}
		}
		slices.Sort(kept)
		// 1.4826·median is σ for normal errors; the floor keeps
		// corners that are all but perfect from being dropped for
		// nothing.
		thr := math.Max(3*1.4826*kept[len(kept)/2], 0.1)
		changed := false
		for i := range from {
			if keep[i] && resid[i] > thr {
				keep[i] = false
				changed = true
			}
		}
		if !changed {
			break
		}
	}
	fr := &fit{sim: sim}
	ms := map[int]bool{}
	var sq float64
	for i := range from {
		if !keep[i] {
			continue
		}
		fr.corners++
		ms[ids[i]] = true
		sq += resid[i] * resid[i]
		fr.max = math.Max(fr.max, resid[i])
	}
	if fr.corners < 3 {
		return nil, errors.New("scale: too few corners fit")
	}
	fr.rms = math.Sqrt(sq / float64(fr.corners))
	fr.markers = len(ms)
	// Jackknife over markers: refit without each marker in turn.
	if fr.markers >= 2 {
		var ss []float64
		for id := range ms {
			k := make([]bool, len(keep))
			for i := range keep {
				k[i] = keep[i] && ids[i] != id
			}
			s, err := similarity(subset(from, k), subset(to, k))
			if err != nil {
				continue
			}
			ss = append(ss, s.Scale)
		}
		n := float64(len(ss))
		if n >= 2 {
			var mean float64
			for _, s := range ss {
				mean += s
			}
			mean /= n
			var v float64
			for _, s := range ss {
				v += (s - mean) * (s - mean)
			}
			fr.jackknife = math.Sqrt((n - 1) / n * v)
		}
	}
	return fr, nil
}

func subset(v []r3.Vec, keep []bool) []r3.Vec {
	var out []r3.Vec
	for i, k := range keep {
		if k {
			out = append(out, v[i])
		}
	}
	return out
}

// similarity is Umeyama's least-squares similarity (geom.Umeyama).
func similarity(from, to []r3.Vec) (*Similarity, error) {
	scale, rot, t, err := geom.Umeyama(from, to)
	if err != nil {
		return nil, err
	}
	return &Similarity{Scale: scale, R: rot, T: [3]float64{t.X, t.Y, t.Z}}, nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
