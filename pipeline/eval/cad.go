package eval

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/cad"
	"github.com/replica3d/replica/pipeline/geom"
	"github.com/replica3d/replica/pipeline/synth"
)

// CADResult is how the STEP solid of a reconstruction (OUT/model.step, in
// mm in the scale sheet's frame, which is the synthetic world's) matches
// the true part: which of the true part's surfaces it recovered, with the
// right type, and how far off each is, and the volume it encloses. As with
// PrintResult there is no alignment: a misplaced solid shows as offsets.
//
// The true surfaces are the primitives' (a box's six planes, a cylinder's
// side and caps, a cone's side and caps, a sphere), placed as the CSG tree
// places them, merged where two primitives give one surface, and kept
// where they are on the part's surface: where groundtruth.stl's triangles
// lie on them (see CADSurface.Area). Each is matched against the STEP's
// fitted (not freeform) faces of the same type, sense and place (see
// CADMatch).
type CADResult struct {
	Model string `json:"model"` // the STEP file measured
	// Error says why the STEP could not be measured; nothing else is set
	// then.
	Error string `json:"error,omitempty"`

	// The STEP's faces: all of them, the fitted ones by surface type
	// ("plane", "cylinder", "cone", "sphere") and the freeform facets.
	Faces    int            `json:"faces"`
	Surfaces map[string]int `json:"surfaces"`
	Freeform int            `json:"freeform"`

	// TrueArea is the area of groundtruth.stl; TrueSurfaces are the true
	// part's surfaces on it, largest share first.
	TrueArea     float64      `json:"true_area_mm2"`
	TrueSurfaces []CADSurface `json:"true_surfaces"`
	// Holes repeats the counted holes' diameters: true cylinders the
	// part's material surrounds.
	Holes []CADHole `json:"holes"`

	// The volumes enclosed: groundtruth.stl's and the STEP solid's,
	// tessellated within cadTessTol (cad.Tessellate), and ours against
	// the truth's: (ours − true)/true · 100. TessellateError says why the
	// solid could not be tessellated, when it could not: then Volume is 0.
	TrueVolume      float64 `json:"true_volume_mm3"`
	Volume          float64 `json:"volume_mm3"`
	VolumeErrorPct  float64 `json:"volume_error_pct"`
	TessellateError string  `json:"tessellate_error,omitempty"`

	// The budgets, over the true surfaces with at least CADMinShare of the
	// true area (CADSurface.Counted):
	//   - TypesOK: every one recovered, by a face of its type;
	//   - OffsetsOK: every plane recovered and offset within
	//     ±CADOffsetBudget;
	//   - HolesOK: every hole recovered and its diameter within
	//     ±CADDiameterBudget;
	//   - VolumeOK: the volume within ±CADVolumeBudgetPct %.
	// A surface that is not recovered has no offset or diameter to be
	// within budget: a missing plane or hole fails its line too. Pass is
	// all four.
	TypesOK   bool `json:"types_ok"`
	OffsetsOK bool `json:"offsets_ok"`
	HolesOK   bool `json:"holes_ok"`
	VolumeOK  bool `json:"volume_ok"`
	Pass      bool `json:"pass"`
}

// CADSurface is one surface of the true part and its best match in the
// STEP. Lengths in mm, angles in degrees.
type CADSurface struct {
	Type string `json:"type"` // "plane", "cylinder", "cone" or "sphere"
	// Hole marks a cylinder, cone or sphere that the part's material
	// surrounds (one subtracted from the part), by the sense of the true
	// surface's triangles.
	Hole bool `json:"hole,omitempty"`
	// Sources are the CSG nodes that give the surface, as paths in the
	// part's spec: "solid.difference[1].cylinder side".
	Sources []string `json:"sources"`
	// Where it is: Point is, for a plane, the centroid of its part of the
	// true surface; for a cylinder, the point of its axis level with that
	// centroid; for a cone, the apex; for a sphere, the centre. Axis is a
	// plane's normal out of the part, a cylinder's axis and a cone's axis
	// towards its wide end.
	Point     [3]float64 `json:"point_mm"`
	Axis      [3]float64 `json:"axis"`
	Diameter  float64    `json:"diameter_mm,omitempty"`    // cylinder, sphere
	SemiAngle float64    `json:"semi_angle_deg,omitempty"` // cone

	// Area is the area of groundtruth.stl's triangles on the surface (their
	// corners within cadOnSurface of it, their normals within cadNormalTol
	// of its normal there, either sense), and Share that as a share of the
	// whole true surface. Counted is Share ≥ CADMinShare: only these enter
	// the budgets.
	Area    float64 `json:"area_mm2"`
	Share   float64 `json:"share"`
	Counted bool    `json:"counted"`

	// Recovered says a fitted face of the STEP matches the surface (see
	// CADMatch); Faces counts those that do and MatchedArea is their area.
	// Match is the best of them, the largest, and its errors; nil when none
	// matches.
	Recovered   bool      `json:"recovered"`
	Faces       int       `json:"faces"`
	MatchedArea float64   `json:"matched_area_mm2"`
	Match       *CADMatch `json:"match,omitempty"`
}

// CADMatch is a face of the STEP that stands for a true surface, and how
// far its surface is from the true one. A face matches a true surface
// when it is fitted (not freeform), of the same type and sense (its
// normal out of the solid on the same side: a hole matches a hole), its
// normal or axis within cadMatchAngle of the truth's, and, at the true
// surface's centroid, its plane within cadMatchDistance, its axis within
// cadMatchDistance and its radius within cadMatchDistance (a sphere: its
// centre and radius; a cone: its semi-angle within cadMatchAngle too).
// Lengths in mm, angles in degrees; the fields that do not apply to the
// type are 0.
type CADMatch struct {
	Face int     `json:"face"`     // the face's index in the STEP, in the order cad.ReadSTEP gives
	Area float64 `json:"area_mm2"` // the face's area
	// AngleError is the angle between the true and fitted normals (planes)
	// or axes.
	AngleError float64 `json:"angle_error_deg"`
	// OffsetError (planes) is the distance from the true plane to the
	// fitted one at the true surface's centroid, along the true normal out
	// of the part: positive when the fitted plane lies outside, the part
	// too big there.
	OffsetError float64 `json:"offset_error_mm"`
	// Diameter (cylinders, spheres) is the fitted diameter and
	// DiameterError that less the true one.
	Diameter      float64 `json:"diameter_mm"`
	DiameterError float64 `json:"diameter_error_mm"`
	// AxisOffset is how far the fitted axis passes from the point of the
	// true axis level with the true surface's centroid (cylinders, cones);
	// for spheres, the distance between the centres.
	AxisOffset float64 `json:"axis_offset_mm"`
	// ApexDistance and SemiAngleError are the cones': the distance
	// between the apexes and the fitted semi-angle less the true one.
	ApexDistance   float64 `json:"apex_distance_mm"`
	SemiAngleError float64 `json:"semi_angle_error_deg"`
	// MaxDeviation is the largest distance from a corner of the true
	// surface's triangles to the fitted surface: how far apart the two are
	// anywhere over the true face, tilt included. It includes the corners'
	// own distances from the true surface, which can reach cadOnSurface
	// along its edges (a few µm on planes, 0.013 mm on the test bracket's
	// holes).
	MaxDeviation float64 `json:"max_deviation_mm"`
}

// CADHole is a counted true hole's diameter against the fitted one (0 when
// the hole was not recovered), in mm.
type CADHole struct {
	TrueDiameter  float64 `json:"true_diameter_mm"`
	Diameter      float64 `json:"diameter_mm"`
	DiameterError float64 `json:"diameter_error_mm"`
	Recovered     bool    `json:"recovered"`
}

// The STEP solid's budgets: every true surface with at least CADMinShare
// of the true area recovered with its type, every such plane within
// CADOffsetBudget mm of the truth and every such hole's diameter within
// CADDiameterBudget mm, and the volume within CADVolumeBudgetPct %.
const (
	CADOffsetBudget    = 0.05
	CADDiameterBudget  = 0.05
	CADVolumeBudgetPct = 1.0
	CADMinShare        = 0.02
)

// STEPFile is the STEP solid `replica process` writes to its output
// folder, and the file EvaluateOutputCAD measures there when report.json
// names none.
const STEPFile = "model.step"

// The tolerances of the measure (mm and degrees).
const (
	// cadOnSurface is how far from a true surface the corners of a
	// triangle of groundtruth.stl may lie for it to count as on it. The
	// surface extractor puts every vertex on the true surface up to
	// rounding (synth's surface); triangles bevelling an edge have a
	// corner off it by up to a grid cell.
	cadOnSurface = 0.02
	// cadNormalTol is how far a triangle's normal may turn from the
	// surface's at its centroid: chords of a curved surface turn by about
	// half the angle they span, under 8° for the 0.5 mm grid on a 3 mm
	// radius; a bevel's triangles turn by 45° and more.
	cadNormalTol = 15.0
	// cadMatchAngle and cadMatchDistance bound a match (CADMatch): far
	// above any fitted surface's error, far below the distance between
	// two surfaces of a part.
	cadMatchAngle    = 2.0
	cadMatchDistance = 1.0
	// cadTessTol is the tolerance the solid is tessellated within for its
	// volume: 0.01 mm over a part's surface of 10⁴ mm² moves the volume by
	// at most 100 mm³, and much less as the chords fall on both sides.
	cadTessTol = 0.01
	// cadSameTol bounds the differences, in mm and in the cosine of the
	// angle between axes, under which two primitives' surfaces are one:
	// rounding of the CSG's transforms, far below any feature.
	cadSameTol = 1e-6
)

// EvaluateOutputCAD measures the STEP solid in the output folder out
// against the truth at truthPath (groundtruth.json) with EvaluateCAD: the
// file report.json's outputs name "step", else STEPFile. It returns nil
// when out holds no STEP, and a result with only Model and Error set when
// the STEP or the truth cannot be read.
func EvaluateOutputCAD(out, truthPath string) *CADResult {
	path := filepath.Join(out, STEPFile)
	named := false
	if b, err := os.ReadFile(filepath.Join(out, "report.json")); err == nil {
		var rep struct {
			Outputs map[string]string `json:"outputs"`
		}
		if json.Unmarshal(b, &rep) == nil && rep.Outputs["step"] != "" {
			path, named = rep.Outputs["step"], true
			if !filepath.IsAbs(path) {
				path = filepath.Join(out, path)
			}
		}
	}
	if _, err := os.Stat(path); !named && errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	fail := func(err error) *CADResult { return &CADResult{Model: path, Error: err.Error()} }
	truth, err := synth.LoadTruth(truthPath)
	if err != nil {
		return fail(fmt.Errorf("truth: %w", err))
	}
	if truth.Part == nil {
		return fail(fmt.Errorf("truth %s: no part", filepath.Base(truthPath)))
	}
	r, err := EvaluateCAD(path, truth.Part, filepath.Join(filepath.Dir(truthPath), truth.Surface))
	if err != nil {
		return fail(err)
	}
	return r
}

// EvaluateCAD reads the STEP solid at stepPath (cad.ReadSTEP) and measures
// it against the true part spec, whose surface is the mesh truthSTL, both
// in mm and in the same frame, as CADResult describes.
func EvaluateCAD(stepPath string, spec *synth.Spec, truthSTL string) (*CADResult, error) {
	if spec == nil {
		return nil, errors.New("eval: no part spec")
	}
	truth, err := readSTL(truthSTL)
	if err != nil {
		return nil, fmt.Errorf("true surface %s: %w", filepath.Base(truthSTL), err)
	}
	if err := truth.Validate(); err != nil {
		return nil, fmt.Errorf("true surface %s: %w", filepath.Base(truthSTL), err)
	}
	f, err := os.Open(stepPath)
	if err != nil {
		return nil, fmt.Errorf("STEP: %w", err)
	}
	defer f.Close()
	s, err := cad.ReadSTEP(f)
	if err != nil {
		return nil, fmt.Errorf("STEP %s: %w", filepath.Base(stepPath), err)
	}
	r, err := MeasureCAD(s, spec, truth)
	if err != nil {
		return nil, err
	}
	r.Model = stepPath
	return r, nil
}

// MeasureCAD measures the solid s against the true part spec whose surface
// is truth (groundtruth.stl), both in mm and in the same frame, as
// CADResult describes. truth must pass geom.Mesh.Validate and enclose a
// positive volume.
func MeasureCAD(s *cad.Solid, spec *synth.Spec, truth *geom.Mesh) (*CADResult, error) {
	if s == nil || spec == nil || truth == nil {
		return nil, errors.New("eval: nothing to measure")
	}
	tvol := truth.SignedVolume()
	if !(tvol > 0) {
		return nil, fmt.Errorf("eval: the true surface encloses a volume of %g mm³, want a closed surface ordered counter-clockwise from outside", tvol)
	}
	r := &CADResult{Faces: len(s.Faces), Surfaces: map[string]int{}, TrueVolume: tvol,
		TrueSurfaces: []CADSurface{}, Holes: []CADHole{}}
	var fitted []int // the faces that may match, with their surfaces
	var fsurf []analytic
	for i, f := range s.Faces {
		if f.Freeform {
			r.Freeform++
			continue
		}
		a, ok := fromCAD(f.Surface, f.SameSense)
		if !ok {
			continue
		}
		r.Surfaces[a.kind]++
		fitted, fsurf = append(fitted, i), append(fsurf, a)
	}

	// The faces' areas, and the volume, from one tessellation.
	area := make([]float64, len(s.Faces))
	if m, faces, err := cad.TessellateFaces(s, cadTessTol); err != nil {
		r.TessellateError = err.Error()
	} else {
		r.Volume = m.SignedVolume()
		r.VolumeErrorPct = (r.Volume - tvol) / tvol * 100
		for t, fi := range faces {
			a, b, c := m.Vertices[m.Faces[t][0]], m.Vertices[m.Faces[t][1]], m.Vertices[m.Faces[t][2]]
			area[fi] += r3.Norm(r3.Cross(r3.Sub(b, a), r3.Sub(c, a))) / 2
		}
	}

	groups := mergeSurfaces(trueSurfaces(spec))
	on := classify(truth, groups)
	r.TrueArea = on.total
	for k := range groups {
		g := &groups[k]
		if on.area[k] <= 0 {
			continue
		}
		c := r3.Scale(1/on.area[k], on.moment[k])
		if on.sense[k] < 0 {
			g.sense = -1
		}
		cs := CADSurface{Type: g.kind, Sources: g.sources, Area: on.area[k], Share: on.area[k] / on.total,
			Hole: g.kind != kindPlane && g.sense < 0}
		cs.Counted = cs.Share >= CADMinShare
		cs.Axis = arr(r3.Scale(g.sense, g.a))
		switch g.kind {
		case kindPlane:
			cs.Point = arr(c)
		case kindCylinder:
			cs.Point = arr(g.axisPoint(c))
			cs.Axis = arr(g.a)
			cs.Diameter = 2 * g.r
		case kindSphere:
			cs.Point, cs.Axis, cs.Diameter = arr(g.p), [3]float64{}, 2*g.r
		case kindCone:
			cs.Point, cs.Axis, cs.SemiAngle = arr(g.p), arr(g.a), deg(g.semi)
		}
		best := -1
		for j, fa := range fsurf {
			m, ok := g.match(fa, c)
			if !ok {
				continue
			}
			cs.Faces++
			cs.MatchedArea += area[fitted[j]]
			m.Face, m.Area = fitted[j], area[fitted[j]]
			if best < 0 || m.Area > cs.Match.Area {
				best, cs.Match = j, m
			}
		}
		cs.Recovered = cs.Match != nil
		g.best = best
		g.result = len(r.TrueSurfaces)
		r.TrueSurfaces = append(r.TrueSurfaces, cs)
	}
	// The largest distance of the true surfaces' corners from their
	// matches.
	for t, k := range on.label {
		if k < 0 || groups[k].best < 0 {
			continue
		}
		g := &groups[k]
		m := r.TrueSurfaces[g.result].Match
		for _, v := range truth.Faces[t] {
			m.MaxDeviation = max(m.MaxDeviation, fsurf[g.best].dist(truth.Vertices[v]))
		}
	}
	slices.SortStableFunc(r.TrueSurfaces, func(a, b CADSurface) int { return cmp.Compare(b.Area, a.Area) })

	r.TypesOK, r.OffsetsOK, r.HolesOK = true, true, true
	for _, ts := range r.TrueSurfaces {
		if !ts.Counted {
			continue
		}
		r.TypesOK = r.TypesOK && ts.Recovered
		switch {
		case ts.Type == kindPlane:
			r.OffsetsOK = r.OffsetsOK && ts.Recovered && math.Abs(ts.Match.OffsetError) <= CADOffsetBudget
		case ts.Type == kindCylinder && ts.Hole:
			h := CADHole{TrueDiameter: ts.Diameter, Recovered: ts.Recovered}
			if ts.Recovered {
				h.Diameter, h.DiameterError = ts.Match.Diameter, ts.Match.DiameterError
			}
			r.Holes = append(r.Holes, h)
			r.HolesOK = r.HolesOK && ts.Recovered && math.Abs(h.DiameterError) <= CADDiameterBudget
		}
	}
	r.VolumeOK = r.TessellateError == "" && math.Abs(r.VolumeErrorPct) <= CADVolumeBudgetPct
	r.Pass = r.TypesOK && r.OffsetsOK && r.HolesOK && r.VolumeOK
	return r, nil
}

// The surface types, as CADResult.Surfaces and CADSurface.Type name them.
const (
	kindPlane    = "plane"
	kindCylinder = "cylinder"
	kindCone     = "cone"
	kindSphere   = "sphere"
)

// analytic is a plane, cylinder, cone or sphere in one form for the truth
// and the STEP: p is a plane's point, a cylinder's point on its axis, a
// cone's apex or a sphere's centre; a is a plane's unit normal or a
// cylinder's or cone's unit axis (a cone's towards its wide end); r a
// radius and semi a cone's semi-angle in radians. The surface's own normal
// is a for a plane and points away from the axis or centre otherwise;
// sense is +1 when the solid's outward normal agrees with it, −1 when not
// (a hole).
type analytic struct {
	kind  string
	p, a  r3.Vec
	r     float64
	semi  float64
	sense float64
}

// fromCAD returns a STEP face's surface as an analytic one, false for a
// surface of another type.
func fromCAD(sf cad.Surface, sameSense bool) (analytic, bool) {
	sense := 1.0
	if !sameSense {
		sense = -1
	}
	switch g := sf.(type) {
	case *cad.Plane:
		return analytic{kind: kindPlane, p: g.Origin, a: g.Normal, sense: sense}, true
	case *cad.Cylinder:
		return analytic{kind: kindCylinder, p: g.Origin, a: g.Axis, r: g.Radius, sense: sense}, true
	case *cad.Cone:
		// The radius is g.Radius at Origin and shrinks to 0 at the apex,
		// g.Radius/tan(SemiAngle) back along the axis.
		apex := r3.Sub(g.Origin, r3.Scale(g.Radius/math.Tan(g.SemiAngle), g.Axis))
		return analytic{kind: kindCone, p: apex, a: g.Axis, semi: g.SemiAngle, sense: sense}, true
	case *cad.Sphere:
		return analytic{kind: kindSphere, p: g.Centre, r: g.Radius, sense: sense}, true
	}
	return analytic{}, false
}

// dist returns the distance from q to the surface (for a cone, to the
// nappe that opens along a).
func (s *analytic) dist(q r3.Vec) float64 {
	d := r3.Sub(q, s.p)
	switch s.kind {
	case kindPlane:
		return math.Abs(r3.Dot(d, s.a))
	case kindCylinder:
		return math.Abs(r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, s.a), s.a))) - s.r)
	case kindCone:
		// The distance from (ρ, h) to the line ρ = h·tan α in the plane
		// through the axis: ρ cos α − h sin α; a point behind the apex is
		// further than that from the nappe, and this says so.
		h := r3.Dot(d, s.a)
		rho := r3.Norm(r3.Sub(d, r3.Scale(h, s.a)))
		if h < 0 {
			return r3.Norm(d)
		}
		return math.Abs(rho*math.Cos(s.semi) - h*math.Sin(s.semi))
	}
	return math.Abs(r3.Norm(d) - s.r)
}

// normal returns the surface's own unit normal at (or for curved surfaces,
// level with) q: zero on an axis or at a centre.
func (s *analytic) normal(q r3.Vec) r3.Vec {
	d := r3.Sub(q, s.p)
	switch s.kind {
	case kindPlane:
		return s.a
	case kindCylinder, kindCone:
		e := r3.Sub(d, r3.Scale(r3.Dot(d, s.a), s.a))
		l := r3.Norm(e)
		if l == 0 {
			return r3.Vec{}
		}
		e = r3.Scale(1/l, e)
		if s.kind == kindCylinder {
			return e
		}
		return r3.Sub(r3.Scale(math.Cos(s.semi), e), r3.Scale(math.Sin(s.semi), s.a))
	}
	l := r3.Norm(d)
	if l == 0 {
		return r3.Vec{}
	}
	return r3.Scale(1/l, d)
}

// axisPoint returns the point of a cylinder's or cone's axis level with q.
func (s *analytic) axisPoint(q r3.Vec) r3.Vec {
	return r3.Add(s.p, r3.Scale(r3.Dot(r3.Sub(q, s.p), s.a), s.a))
}

// lineDistance returns the distance from q to the line through p along the
// unit vector a.
func lineDistance(q, p, a r3.Vec) float64 {
	d := r3.Sub(q, p)
	return r3.Norm(r3.Sub(d, r3.Scale(r3.Dot(d, a), a)))
}

// angle returns the angle between unit vectors in degrees; with either
// set, the angle between the lines they span (at most 90°).
func angle(u, v r3.Vec, either bool) float64 {
	c := r3.Dot(u, v)
	if either {
		c = math.Abs(c)
	}
	return deg(math.Acos(min(1, max(-1, c))))
}

func deg(rad float64) float64 { return rad * 180 / math.Pi }

// arr returns v as an array, with no negative zeros (x + 0 is +0 for x = −0).
func arr(v r3.Vec) [3]float64 { return [3]float64{v.X + 0, v.Y + 0, v.Z + 0} }

// match reports whether the fitted surface f stands for the true surface
// t, whose part of the true surface has its centroid at c, and if so how
// far off it is (CADMatch).
func (t *analytic) match(f analytic, c r3.Vec) (*CADMatch, bool) {
	if f.kind != t.kind || f.sense != t.sense {
		return nil, false
	}
	m := &CADMatch{}
	switch t.kind {
	case kindPlane:
		tn, fn := r3.Scale(t.sense, t.a), r3.Scale(f.sense, f.a) // out of the part
		m.AngleError = angle(tn, fn, false)
		// The fitted plane's height above c along its own outward normal
		// is where the true plane lies below it.
		m.OffsetError = r3.Dot(r3.Sub(f.p, c), fn)
		return m, m.AngleError <= cadMatchAngle && math.Abs(m.OffsetError) <= cadMatchDistance
	case kindCylinder:
		m.AngleError = angle(t.a, f.a, true)
		m.AxisOffset = lineDistance(t.axisPoint(c), f.p, f.a)
		m.Diameter = 2 * f.r
		m.DiameterError = 2 * (f.r - t.r)
		return m, m.AngleError <= cadMatchAngle && m.AxisOffset <= cadMatchDistance && math.Abs(f.r-t.r) <= cadMatchDistance
	case kindCone:
		m.AngleError = angle(t.a, f.a, false)
		m.AxisOffset = lineDistance(t.axisPoint(c), f.p, f.a)
		m.ApexDistance = r3.Norm(r3.Sub(f.p, t.p))
		m.SemiAngleError = deg(f.semi - t.semi)
		// The radii level with c, along each axis.
		tr := r3.Dot(r3.Sub(c, t.p), t.a) * math.Tan(t.semi)
		fr := r3.Dot(r3.Sub(c, f.p), f.a) * math.Tan(f.semi)
		return m, m.AngleError <= cadMatchAngle && math.Abs(m.SemiAngleError) <= cadMatchAngle &&
			m.AxisOffset <= cadMatchDistance && math.Abs(fr-tr) <= cadMatchDistance
	}
	m.AxisOffset = r3.Norm(r3.Sub(f.p, t.p))
	m.Diameter = 2 * f.r
	m.DiameterError = 2 * (f.r - t.r)
	return m, m.AxisOffset <= cadMatchDistance && math.Abs(f.r-t.r) <= cadMatchDistance
}

// trueSurface is a surface of one primitive of the CSG tree, in world
// coordinates, with the primitive's bounding box (its part of the surface
// lies in it) and its path in the spec.
type trueSurface struct {
	analytic
	bounds geom.Box
	src    string
}

// surfaceGroup is one surface of the part: the primitives' surfaces that
// coincide, merged. best is the index of its match among the fitted faces
// (−1 for none) and result its index in CADResult.TrueSurfaces.
type surfaceGroup struct {
	analytic
	bounds  geom.Box
	sources []string
	best    int
	result  int
}

func v3(a [3]float64) r3.Vec { return r3.Vec{X: a[0], Y: a[1], Z: a[2]} }

// trueSurfaces lists the surfaces of the spec's primitives in world
// coordinates, in the order of the tree, placed as pipeline/synth's CSG
// places them: a node's Rotate, then its Translate, applied inside its
// parent's (world = R·x + t, R and t accumulated from the root); a box's
// own Rotate turns it about its centre; a cylinder's and a cone's axis is
// their local z, a cone's Radius1 at the −Axis end. The surfaces a solid
// subtracts are listed as the primitive has them (the part's sense comes
// from its triangles, in classify).
func trueSurfaces(s *synth.Spec) []trueSurface {
	var out []trueSurface
	for _, pl := range s.Primitives() {
		n, path := pl.Node, pl.Path
		add := func(what string, a analytic, b geom.Box) {
			a.sense = 1
			out = append(out, trueSurface{analytic: a, bounds: b, src: path + what})
		}
		// round returns the world box of a solid of revolution about the
		// axis through o along w, from z0 to z1 with radii r0 and r1 there.
		round := func(o, w r3.Vec, z0, z1, r0, r1 float64) geom.Box {
			b := geom.EmptyBox()
			for _, e := range [][2]float64{{z0, r0}, {z1, r1}} {
				c := r3.Add(o, r3.Scale(e[0], w))
				// A circle of radius ρ normal to w spans ρ·√(1 − w_i²) along axis i.
				ext := r3.Vec{X: e[1] * math.Sqrt(max(0, 1-w.X*w.X)), Y: e[1] * math.Sqrt(max(0, 1-w.Y*w.Y)), Z: e[1] * math.Sqrt(max(0, 1-w.Z*w.Z))}
				b = b.Extend(r3.Sub(c, ext)).Extend(r3.Add(c, ext))
			}
			return b
		}
		switch {
		case n.Box != nil:
			o := pl.Apply(v3(n.Box.Center))
			half := r3.Scale(0.5, v3(n.Box.Size))
			h := [3]float64{half.X, half.Y, half.Z}
			b := geom.EmptyBox()
			for i := range 8 {
				p := r3.Vec{X: h[0] * sgn(i&1), Y: h[1] * sgn(i&2), Z: h[2] * sgn(i&4)}
				b = b.Extend(r3.Add(o, pl.BoxTurn(p)))
			}
			for k, name := range [3]string{"x", "y", "z"} {
				var e [3]float64
				e[k] = 1
				for _, sd := range [2]float64{-1, 1} {
					nrm := pl.BoxTurn(r3.Scale(sd, v3(e)))
					sign := "+"
					if sd < 0 {
						sign = "−"
					}
					add(".box "+sign+name, analytic{kind: kindPlane, p: r3.Add(o, r3.Scale(h[k], nrm)), a: nrm}, b)
				}
			}
		case n.Cylinder != nil, n.Cone != nil:
			var center, axis [3]float64
			var r1, r2, height float64
			what := ".cylinder"
			if c := n.Cylinder; c != nil {
				center, axis, r1, r2, height = c.Center, c.Axis, c.Radius, c.Radius, c.Height
			} else {
				c := n.Cone
				center, axis, r1, r2, height, what = c.Center, c.Axis, c.Radius1, c.Radius2, c.Height, ".cone"
			}
			w := pl.Turn(r3.Unit(v3(axis)))
			o := pl.Apply(v3(center))
			hh := height / 2
			b := round(o, w, -hh, hh, r1, r2)
			switch {
			case r1 == r2:
				add(what+" side", analytic{kind: kindCylinder, p: o, a: w, r: r1}, b)
			default:
				// radius(z) = a + b·z is 0 at z = −a/b; the cone opens
				// along w when it widens towards +z.
				a, bz := (r1+r2)/2, (r2-r1)/height
				apex := r3.Add(o, r3.Scale(-a/bz, w))
				dir := w
				if bz < 0 {
					dir = r3.Scale(-1, w)
				}
				add(what+" side", analytic{kind: kindCone, p: apex, a: dir, semi: math.Atan(math.Abs(bz))}, b)
			}
			if r1 > 0 {
				add(what+" −cap", analytic{kind: kindPlane, p: r3.Sub(o, r3.Scale(hh, w)), a: r3.Scale(-1, w)}, b)
			}
			if r2 > 0 {
				add(what+" +cap", analytic{kind: kindPlane, p: r3.Add(o, r3.Scale(hh, w)), a: w}, b)
			}
		case n.Sphere != nil:
			c := pl.Apply(v3(n.Sphere.Center))
			rv := r3.Vec{X: n.Sphere.Radius, Y: n.Sphere.Radius, Z: n.Sphere.Radius}
			add(".sphere", analytic{kind: kindSphere, p: c, r: n.Sphere.Radius}, geom.Box{Min: r3.Sub(c, rv), Max: r3.Add(c, rv)})
		}
	}
	return out
}

func sgn(bit int) float64 {
	if bit != 0 {
		return 1
	}
	return -1
}

// same reports whether two primitives' surfaces are one (up to
// cadSameTol), whichever way their normals point.
func same(s, t *analytic) bool {
	if s.kind != t.kind {
		return false
	}
	parallel := math.Abs(r3.Dot(s.a, t.a)) >= 1-cadSameTol
	switch s.kind {
	case kindPlane:
		return parallel && math.Abs(r3.Dot(r3.Sub(t.p, s.p), s.a)) <= cadSameTol
	case kindCylinder:
		return parallel && math.Abs(s.r-t.r) <= cadSameTol && lineDistance(t.p, s.p, s.a) <= cadSameTol
	case kindCone:
		return r3.Dot(s.a, t.a) >= 1-cadSameTol && math.Abs(s.semi-t.semi) <= cadSameTol && r3.Norm(r3.Sub(s.p, t.p)) <= cadSameTol
	}
	return math.Abs(s.r-t.r) <= cadSameTol && r3.Norm(r3.Sub(s.p, t.p)) <= cadSameTol
}

// mergeSurfaces groups the primitives' surfaces that are one, in the order
// of their first member.
func mergeSurfaces(ss []trueSurface) []surfaceGroup {
	var gs []surfaceGroup
next:
	for _, s := range ss {
		for k := range gs {
			if same(&gs[k].analytic, &s.analytic) {
				gs[k].bounds = gs[k].bounds.Union(s.bounds)
				gs[k].sources = append(gs[k].sources, s.src)
				continue next
			}
		}
		gs = append(gs, surfaceGroup{analytic: s.analytic, bounds: s.bounds, sources: []string{s.src}, best: -1})
	}
	return gs
}

// onSurfaces is where the triangles of the true surface lie: label[t] is
// the group triangle t lies on (−1: none, as on a bevelled edge); per
// group, the area, its first moment (area × centroid) and the area whose
// normals agree with the group's own normal less that whose normals
// oppose it. total is the area of every triangle.
type onSurfaces struct {
	label       []int32
	area, sense []float64
	moment      []r3.Vec
	total       float64
}

// classify finds the groups the true surface's triangles lie on: all three
// corners within cadOnSurface of the surface and the normal within
// cadNormalTol of its normal at the centroid, either sense; the closest
// such group when there are several. A group's triangles lie in its
// primitives' bounding boxes, which spares most tests.
func classify(m *geom.Mesh, gs []surfaceGroup) *onSurfaces {
	on := &onSurfaces{label: make([]int32, len(m.Faces)), area: make([]float64, len(gs)),
		sense: make([]float64, len(gs)), moment: make([]r3.Vec, len(gs))}
	cosTol := math.Cos(cadNormalTol * math.Pi / 180)
	var mu sync.Mutex
	parallel(len(m.Faces), func(lo, hi int) {
		area, sense := make([]float64, len(gs)), make([]float64, len(gs))
		moment := make([]r3.Vec, len(gs))
		var total float64
		for t := lo; t < hi; t++ {
			on.label[t] = -1
			f := m.Faces[t]
			a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
			n := r3.Cross(r3.Sub(b, a), r3.Sub(c, a))
			l := r3.Norm(n)
			if l == 0 {
				continue
			}
			ar := l / 2
			total += ar
			n = r3.Scale(1/l, n)
			g := r3.Scale(1.0/3, r3.Add(r3.Add(a, b), c))
			best, bestD, bestCos := -1, math.Inf(1), 0.0
			for k := range gs {
				s := &gs[k]
				bx := s.bounds
				if g.X < bx.Min.X-cadOnSurface || g.Y < bx.Min.Y-cadOnSurface || g.Z < bx.Min.Z-cadOnSurface ||
					g.X > bx.Max.X+cadOnSurface || g.Y > bx.Max.Y+cadOnSurface || g.Z > bx.Max.Z+cadOnSurface {
					continue
				}
				d := max(s.dist(a), s.dist(b), s.dist(c))
				if d > cadOnSurface || d >= bestD {
					continue
				}
				cs := r3.Dot(n, s.normal(g))
				if math.Abs(cs) < cosTol {
					continue
				}
				best, bestD, bestCos = k, d, cs
			}
			if best < 0 {
				continue
			}
			on.label[t] = int32(best)
			area[best] += ar
			moment[best] = r3.Add(moment[best], r3.Scale(ar, g))
			sense[best] += math.Copysign(ar, bestCos)
		}
		mu.Lock()
		defer mu.Unlock()
		on.total += total
		for k := range gs {
			on.area[k] += area[k]
			on.sense[k] += sense[k]
			on.moment[k] = r3.Add(on.moment[k], moment[k])
		}
	})
	return on
}

// Print writes r for a person: one line per true surface, those the
// budgets count marked ok or FAIL, then the budgets' lines.
func (r *CADResult) Print(w io.Writer) {
	if r.Error != "" {
		fmt.Fprintf(w, "CAD solid %s: cannot be measured: %s\n", filepath.Base(r.Model), r.Error)
		return
	}
	mark := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "FAIL"
	}
	var kinds []string
	for _, k := range []string{kindPlane, kindCylinder, kindCone, kindSphere} {
		if n := r.Surfaces[k]; n > 0 {
			kinds = append(kinds, fmt.Sprintf("%d %s", n, plural(n, k)))
		}
	}
	kinds = append(kinds, fmt.Sprintf("%d freeform %s", r.Freeform, plural(r.Freeform, "facet")))
	fmt.Fprintf(w, "CAD solid %s: %d faces (%s); pass: %v\n", filepath.Base(r.Model), r.Faces, strings.Join(kinds, ", "), r.Pass)
	for _, ts := range r.TrueSurfaces {
		note := ""
		if !ts.Counted {
			note = fmt.Sprintf(" (under %.0f%%: not counted)", 100*CADMinShare)
		}
		fmt.Fprintf(w, "  %s: %.1f%% of the surface%s: %s\n", ts.describe(), 100*ts.Share, note, ts.verdict(mark))
	}
	var types, planes, holes tally
	for _, ts := range r.TrueSurfaces {
		if !ts.Counted {
			continue
		}
		types.add(ts.Recovered, 0)
		switch {
		case ts.Type == kindPlane:
			planes.add(ts.Recovered, ts.Match.offset())
		case ts.Type == kindCylinder && ts.Hole:
			holes.add(ts.Recovered, ts.Match.diameterError())
		}
	}
	fmt.Fprintf(w, "  budget: every true surface of ≥ %.0f%% of the surface recovered with its type (%d of %d): %s\n",
		100*CADMinShare, types.recovered, types.n, mark(r.TypesOK))
	fmt.Fprintf(w, "  budget: plane offsets within ±%.2f mm (%s): %s\n", CADOffsetBudget, planes, mark(r.OffsetsOK))
	fmt.Fprintf(w, "  budget: hole diameters within ±%.2f mm (%s): %s\n", CADDiameterBudget, holes, mark(r.HolesOK))
	if r.TessellateError != "" {
		fmt.Fprintf(w, "  budget: volume unknown, the solid does not tessellate (%s): FAIL\n", r.TessellateError)
	} else {
		fmt.Fprintf(w, "  budget: volume %.0f mm³, %+.2f%% of the true %.0f mm³ (within ±%.0f%%): %s\n",
			r.Volume, r.VolumeErrorPct, r.TrueVolume, CADVolumeBudgetPct, mark(r.VolumeOK))
	}
}

// tally counts the true surfaces of one kind that a budget covers, those
// recovered, and the largest error among these.
type tally struct {
	n, recovered int
	worst        float64
}

func (t *tally) add(recovered bool, err float64) {
	t.n++
	if recovered {
		t.recovered++
		if math.Abs(err) > math.Abs(t.worst) {
			t.worst = err
		}
	}
}

func (t tally) String() string {
	switch {
	case t.n == 0:
		return "none"
	case t.recovered == 0:
		return fmt.Sprintf("none of %d recovered", t.n)
	}
	return fmt.Sprintf("%d of %d recovered, worst %+.3f mm", t.recovered, t.n, t.worst)
}

// offset and diameterError return m's errors, 0 for no match.
func (m *CADMatch) offset() float64 {
	if m == nil {
		return 0
	}
	return m.OffsetError
}

func (m *CADMatch) diameterError() float64 {
	if m == nil {
		return 0
	}
	return m.DiameterError
}

// describe names a true surface for a person: its type and where it is.
func (ts *CADSurface) describe() string {
	p := fmt.Sprintf("(%.2f, %.2f, %.2f)", ts.Point[0], ts.Point[1], ts.Point[2])
	a := fmt.Sprintf("(%.3f, %.3f, %.3f)", ts.Axis[0], ts.Axis[1], ts.Axis[2])
	switch ts.Type {
	case kindPlane:
		return fmt.Sprintf("plane normal %s through %s", a, p)
	case kindCylinder:
		what := "cylinder"
		if ts.Hole {
			what = "hole"
		}
		return fmt.Sprintf("%s Ø%.3f mm axis %s through %s", what, ts.Diameter, a, p)
	case kindCone:
		what := "cone"
		if ts.Hole {
			what = "conical hole"
		}
		return fmt.Sprintf("%s %.2f° axis %s apex %s", what, ts.SemiAngle, a, p)
	}
	what := "sphere"
	if ts.Hole {
		what = "spherical hollow"
	}
	return fmt.Sprintf("%s Ø%.3f mm centre %s", what, ts.Diameter, p)
}

// verdict says how a true surface was recovered, and whether its budget
// (planes' offsets, holes' diameters) is met.
func (ts *CADSurface) verdict(mark func(bool) string) string {
	budget := func(ok bool) string { // a budget's mark, for counted surfaces only
		if !ts.Counted {
			return ""
		}
		return ": " + mark(ok)
	}
	if !ts.Recovered {
		return "NOT recovered" + budget(false)
	}
	m := ts.Match
	s := fmt.Sprintf("face %d (%.0f%% of its area)", m.Face, 100*ts.MatchedArea/ts.Area)
	if ts.Faces > 1 {
		s = fmt.Sprintf("face %d, the largest of %d matching (%.0f%% of its area)", m.Face, ts.Faces, 100*ts.MatchedArea/ts.Area)
	}
	switch ts.Type {
	case kindPlane:
		return fmt.Sprintf("%s: offset %+.3f mm, tilt %.3f°, %.3f mm at worst%s", s, m.OffsetError, m.AngleError, m.MaxDeviation,
			budget(math.Abs(m.OffsetError) <= CADOffsetBudget))
	case kindCylinder:
		s = fmt.Sprintf("%s: Ø%.3f mm (%+.3f mm), axis %.3f mm off, tilt %.3f°, %.3f mm at worst", s, m.Diameter, m.DiameterError, m.AxisOffset, m.AngleError, m.MaxDeviation)
		if ts.Hole {
			s += budget(math.Abs(m.DiameterError) <= CADDiameterBudget)
		}
		return s
	case kindCone:
		return fmt.Sprintf("%s: apex %.3f mm off, semi-angle %+.3f°, tilt %.3f°, %.3f mm at worst", s, m.ApexDistance, m.SemiAngleError, m.AngleError, m.MaxDeviation)
	}
	return fmt.Sprintf("%s: Ø%.3f mm (%+.3f mm), centre %.3f mm off, %.3f mm at worst", s, m.Diameter, m.DiameterError, m.AxisOffset, m.MaxDeviation)
}

// plural returns word, with an s when n is not 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
