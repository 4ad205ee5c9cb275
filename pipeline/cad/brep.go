package cad

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/spatial/r3"
)

// Solid is a closed, manifold boundary representation in millimetres.
// Faces refer to edges and edges to vertices by index, so that a vertex or
// an edge shared by several faces is one object, as STEP wants it.
type Solid struct {
	Name     string   // product name written into the STEP (the project name)
	Vertices []r3.Vec // millimetres
	Edges    []Edge
	Faces    []Face
}

// Edge is a bounded piece of a curve from vertex V0 to vertex V1. A nil
// Curve means the straight line from V0 to V1 (V0 ≠ V1). On a Circle or
// an Ellipse the edge runs from V0 to V1 counter-clockwise about its Axis;
// V0 == V1 makes it the full curve.
type Edge struct {
	V0, V1 int
	Curve  Curve
}

// Curve is the geometry an edge lies on other than a straight line:
// *Circle or *Ellipse.
type Curve interface{ isCurve() }

// Circle is the circle of Radius about Centre in the plane normal to Axis.
// Axis and XDir are unit vectors, XDir perpendicular to Axis: the circle's
// parameter 0 is at Centre + Radius·XDir and it runs counter-clockwise
// about Axis (STEP's CIRCLE on an AXIS2_PLACEMENT_3D).
type Circle struct {
	Centre, Axis, XDir r3.Vec
	Radius             float64
}

func (*Circle) isCurve() {}

// Ellipse is the ellipse about Centre in the plane normal to Axis with
// semi-axes SemiMajor along XDir and SemiMinor along Axis × XDir (STEP's
// ELLIPSE; SemiMajor ≥ SemiMinor > 0): its parameter t is at
// Centre + SemiMajor·cos t·XDir + SemiMinor·sin t·(Axis × XDir), and it
// runs counter-clockwise about Axis, as a Circle does. A plane cuts a
// cylinder slantwise in one.
type Ellipse struct {
	Centre, Axis, XDir   r3.Vec
	SemiMajor, SemiMinor float64
}

func (*Ellipse) isCurve() {}

// conic is a circle or an ellipse in the form edges are sampled and traced
// in: Centre + A·cos t·X + B·sin t·Y, counter-clockwise about Axis.
type conic struct {
	Centre, Axis, X, Y r3.Vec
	A, B               float64
}

// conicOf returns c as a conic, and false for a straight edge.
func conicOf(c Curve) (conic, bool) {
	switch c := c.(type) {
	case *Circle:
		return conic{c.Centre, c.Axis, c.XDir, r3.Cross(c.Axis, c.XDir), c.Radius, c.Radius}, true
	case *Ellipse:
		return conic{c.Centre, c.Axis, c.XDir, r3.Cross(c.Axis, c.XDir), c.SemiMajor, c.SemiMinor}, true
	}
	return conic{}, false
}

// param returns the parameter of the point of the conic nearest p's
// direction from the centre (exact for points on it).
func (c *conic) param(p r3.Vec) float64 {
	d := r3.Sub(p, c.Centre)
	return math.Atan2(r3.Dot(d, c.Y)/c.B, r3.Dot(d, c.X)/c.A)
}

// at returns the conic's point at parameter t.
func (c *conic) at(t float64) r3.Vec {
	return r3.Add(c.Centre, r3.Add(r3.Scale(c.A*math.Cos(t), c.X), r3.Scale(c.B*math.Sin(t), c.Y)))
}

// Surface is the geometry a face lies on: *Plane, *Cylinder, *Cone or
// *Sphere. Each carries a placement (an origin, a unit axis and a unit XDir
// perpendicular to it) as STEP's AXIS2_PLACEMENT_3D does, and its normal is
// the one STEP defines: along Normal for a plane, away from the axis for a
// cylinder and a cone, away from the centre for a sphere.
type Surface interface{ isSurface() }

// Plane is the plane through Origin normal to Normal.
type Plane struct{ Origin, Normal, XDir r3.Vec }

// Cylinder is the infinite circular cylinder of Radius about the line
// through Origin along Axis.
type Cylinder struct {
	Origin, Axis, XDir r3.Vec
	Radius             float64
}

// Cone is the infinite circular cone about the line through Origin along
// Axis whose radius is Radius at Origin (in its plane normal to Axis) and
// grows by tan(SemiAngle) per unit along Axis (STEP's CONICAL_SURFACE).
// SemiAngle is in radians, in (0, π/2); Radius may be 0 (the apex).
type Cone struct {
	Origin, Axis, XDir r3.Vec
	Radius, SemiAngle  float64
}

// Sphere is the sphere of Radius about Centre; Axis and XDir fix its
// parametrisation (the poles lie on Axis).
type Sphere struct {
	Centre, Axis, XDir r3.Vec
	Radius             float64
}

func (*Plane) isSurface()    {}
func (*Cylinder) isSurface() {}
func (*Cone) isSurface()     {}
func (*Sphere) isSurface()   {}

// Face is a bounded region of a surface. Bounds[0] is the outer loop and
// the others are inner loops (holes). Each loop runs counter-clockwise seen
// from outside the solid, that is with the face on its left when looking
// against the face's outward normal: the outer loop around the face, the
// holes the other way round. SameSense tells whether the outward normal
// agrees with the surface's normal (see Surface).
//
// A face on a closed surface may use an edge twice, once in each direction:
// the seam of a cylindrical face running between its two boundary circles.
//
// Freeform marks a face that stands for part of the freeform remainder, a
// flat facet of the mesh, rather than a surface fitted to the part; it is
// written as the face's name, FreeformName, so the preview can tell them
// apart after reading the STEP back.
type Face struct {
	Surface   Surface
	Bounds    [][]OrientedEdge
	SameSense bool
	Freeform  bool
}

// FreeformName is the STEP name of a Freeform face.
const FreeformName = "freeform"

// OrientedEdge is a use of Solid.Edges[Edge], from V0 to V1 when Forward
// and from V1 to V0 otherwise.
type OrientedEdge struct {
	Edge    int
	Forward bool
}

// unitTol is how far from 1 the length of an axis, and from 0 the cosine
// between an axis and its XDir, may be: a few hundred ulps, enough for a
// vector normalised by any sane code and small enough that whoever reads
// the solid can use the vectors as given.
const unitTol = 1e-12

// Validate checks that s is a closed, manifold, consistently oriented solid
// as far as its topology tells, and that its geometry is well formed:
//
//   - there is at least one face, every index is in range and every
//     number is finite;
//   - a straight edge joins two different vertices, radii are positive
//     (a cone's may be 0), axes are unit vectors and XDirs are unit vectors
//     perpendicular to their axes;
//   - every loop is non-empty and closed: each oriented edge ends where
//     the next one starts, the last where the first starts;
//   - every edge is used exactly twice, once forward and once backward.
//
// It does not check that vertices lie on their edges' curves and faces'
// surfaces, nor that faces do not intersect.
func (s *Solid) Validate() error {
	if len(s.Faces) == 0 {
		return fmt.Errorf("cad: solid %q has no faces", s.Name)
	}
	for i, p := range s.Vertices {
		if !finite(p) {
			return fmt.Errorf("cad: vertex %d: non-finite coordinate %v", i, p)
		}
	}
	nv := len(s.Vertices)
	for i, e := range s.Edges {
		if e.V0 < 0 || e.V0 >= nv || e.V1 < 0 || e.V1 >= nv {
			return fmt.Errorf("cad: edge %d: vertex index %d or %d out of range [0, %d)", i, e.V0, e.V1, nv)
		}
		switch c := e.Curve.(type) {
		case nil:
			if e.V0 == e.V1 {
				return fmt.Errorf("cad: edge %d: straight edge from vertex %d to itself", i, e.V0)
			}
		case *Circle:
			if c == nil {
				return fmt.Errorf("cad: edge %d: nil *Circle", i)
			}
			if err := checkFrame(c.Centre, c.Axis, c.XDir); err != nil {
				return fmt.Errorf("cad: edge %d: circle %w", i, err)
			}
			if !(c.Radius > 0) || math.IsInf(c.Radius, 0) {
				return fmt.Errorf("cad: edge %d: circle radius %v, want positive and finite", i, c.Radius)
			}
		case *Ellipse:
			if c == nil {
				return fmt.Errorf("cad: edge %d: nil *Ellipse", i)
			}
			if err := checkFrame(c.Centre, c.Axis, c.XDir); err != nil {
				return fmt.Errorf("cad: edge %d: ellipse %w", i, err)
			}
			if !(c.SemiMinor > 0) || !(c.SemiMajor >= c.SemiMinor) || math.IsInf(c.SemiMajor, 0) {
				return fmt.Errorf("cad: edge %d: ellipse semi-axes %v, %v, want finite and major ≥ minor > 0", i, c.SemiMajor, c.SemiMinor)
			}
		default:
			return fmt.Errorf("cad: edge %d: unknown curve type %T", i, c)
		}
	}
	fwd := make([]int32, len(s.Edges))
	bwd := make([]int32, len(s.Edges))
	for i, f := range s.Faces {
		if err := checkSurface(f.Surface); err != nil {
			return fmt.Errorf("cad: face %d: %w", i, err)
		}
		if len(f.Bounds) == 0 {
			return fmt.Errorf("cad: face %d has no boundary", i)
		}
		for j, loop := range f.Bounds {
			if len(loop) == 0 {
				return fmt.Errorf("cad: face %d loop %d is empty", i, j)
			}
			for k, oe := range loop {
				if oe.Edge < 0 || oe.Edge >= len(s.Edges) {
					return fmt.Errorf("cad: face %d loop %d: edge index %d out of range [0, %d)", i, j, oe.Edge, len(s.Edges))
				}
				if oe.Forward {
					fwd[oe.Edge]++
				} else {
					bwd[oe.Edge]++
				}
				next := loop[(k+1)%len(loop)]
				if next.Edge < 0 || next.Edge >= len(s.Edges) {
					continue // reported when the loop gets there
				}
				if end, start := s.end(oe), s.start(next); end != start {
					return fmt.Errorf("cad: face %d loop %d is open: use %d of edge %d ends at vertex %d, the next edge (%d) starts at vertex %d",
						i, j, k, oe.Edge, end, next.Edge, start)
				}
			}
		}
	}
	for i := range s.Edges {
		if fwd[i] != 1 || bwd[i] != 1 {
			return fmt.Errorf("cad: edge %d is used %d times forward and %d times backward, want once each (the solid is open, non-manifold or inconsistently oriented)",
				i, fwd[i], bwd[i])
		}
	}
	return nil
}

// start and end return the vertex where a use of an edge begins and ends.
func (s *Solid) start(oe OrientedEdge) int {
	if e := s.Edges[oe.Edge]; oe.Forward {
		return e.V0
	} else {
		return e.V1
	}
}

func (s *Solid) end(oe OrientedEdge) int {
	if e := s.Edges[oe.Edge]; oe.Forward {
		return e.V1
	} else {
		return e.V0
	}
}

// checkSurface checks a face's surface as Validate describes.
func checkSurface(sf Surface) error {
	var err error
	radius, semi := 1.0, 0.0
	switch g := sf.(type) {
	case *Plane:
		if g == nil {
			return fmt.Errorf("nil *Plane")
		}
		err = checkFrame(g.Origin, g.Normal, g.XDir)
	case *Cylinder:
		if g == nil {
			return fmt.Errorf("nil *Cylinder")
		}
		err, radius = checkFrame(g.Origin, g.Axis, g.XDir), g.Radius
	case *Cone:
		if g == nil {
			return fmt.Errorf("nil *Cone")
		}
		err, semi = checkFrame(g.Origin, g.Axis, g.XDir), g.SemiAngle
		if !(g.Radius >= 0) || math.IsInf(g.Radius, 0) {
			return fmt.Errorf("cone radius %v, want non-negative and finite", g.Radius)
		}
		if !(semi > 0 && semi < math.Pi/2) {
			return fmt.Errorf("cone semi-angle %v rad, want in (0, π/2)", semi)
		}
	case *Sphere:
		if g == nil {
			return fmt.Errorf("nil *Sphere")
		}
		err, radius = checkFrame(g.Centre, g.Axis, g.XDir), g.Radius
	case nil:
		return fmt.Errorf("no surface")
	default:
		return fmt.Errorf("unknown surface type %T", sf)
	}
	if err != nil {
		return fmt.Errorf("surface %w", err)
	}
	if !(radius > 0) || math.IsInf(radius, 0) {
		return fmt.Errorf("surface radius %v, want positive and finite", radius)
	}
	return nil
}

// checkFrame checks a placement: a finite origin, a unit axis and a unit
// XDir perpendicular to it (within unitTol).
func checkFrame(origin, axis, xdir r3.Vec) error {
	if !finite(origin) || !finite(axis) || !finite(xdir) {
		return fmt.Errorf("placement has a non-finite coordinate: %v %v %v", origin, axis, xdir)
	}
	if math.Abs(r3.Norm(axis)-1) > unitTol || math.Abs(r3.Norm(xdir)-1) > unitTol {
		return fmt.Errorf("placement axis %v or reference direction %v is not a unit vector", axis, xdir)
	}
	if math.Abs(r3.Dot(axis, xdir)) > unitTol {
		return fmt.Errorf("placement reference direction %v is not perpendicular to axis %v", xdir, axis)
	}
	return nil
}

// finite reports whether every coordinate of p is a number other than ±Inf.
func finite(p r3.Vec) bool {
	return !math.IsNaN(p.X+p.Y+p.Z) && !math.IsInf(p.X, 0) && !math.IsInf(p.Y, 0) && !math.IsInf(p.Z, 0)
}
