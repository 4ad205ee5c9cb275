package cad

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/spatial/r3"
)

func TestValidateAccepts(t *testing.T) {
	for name, s := range map[string]*Solid{
		"cylinder": cylinderSolid(5, 20),
		"frustum":  frustumSolid(5, 3, 10),
		"dome":     domeSolid(7),
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Validate(); err != nil {
				t.Errorf("Validate() = %v, want nil", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(s *Solid)
		want   string // in the error
	}{
		{"no faces", func(s *Solid) { s.Faces = nil }, "no faces"},
		{"NaN vertex", func(s *Solid) { s.Vertices[1].Y = math.NaN() }, "non-finite"},
		{"vertex index", func(s *Solid) { s.Edges[2].V1 = 7 }, "out of range"},
		{"edge index", func(s *Solid) { s.Faces[2].Bounds[0][1].Edge = -1 }, "out of range"},
		{"zero-length line", func(s *Solid) { s.Edges[2].V1 = 0 }, "to itself"},
		{"open loop", func(s *Solid) { s.Faces[2].Bounds[0] = s.Faces[2].Bounds[0][:3] }, "open"},
		{"edge used once", func(s *Solid) { s.Faces = s.Faces[1:] }, "edge 0 is used 1 times forward and 0 times backward"},
		{"same direction twice", func(s *Solid) { s.Faces[0].Bounds[0][0].Forward = true }, "used 2 times forward and 0 times backward"},
		{"empty loop", func(s *Solid) { s.Faces[0].Bounds = append(s.Faces[0].Bounds, nil) }, "empty"},
		{"no bounds", func(s *Solid) { s.Faces[0].Bounds = nil }, "no boundary"},
		{"no surface", func(s *Solid) { s.Faces[0].Surface = nil }, "no surface"},
		{"nil plane", func(s *Solid) { s.Faces[0].Surface = (*Plane)(nil) }, "nil *Plane"},
		{"negative radius", func(s *Solid) { s.Faces[2].Surface.(*Cylinder).Radius = -1 }, "radius"},
		{"circle radius", func(s *Solid) { s.Edges[0].Curve.(*Circle).Radius = math.Inf(1) }, "radius"},
		{"axis not unit", func(s *Solid) { s.Faces[2].Surface.(*Cylinder).Axis = r3.Vec{Z: 2} }, "unit vector"},
		{"xdir not perpendicular", func(s *Solid) { s.Edges[1].Curve.(*Circle).XDir = r3.Vec{Z: 1} }, "perpendicular"},
		{"cone angle", func(s *Solid) {
			s.Faces[2].Surface = &Cone{Axis: r3.Vec{Z: 1}, XDir: r3.Vec{X: 1}, Radius: 1, SemiAngle: math.Pi / 2}
		}, "semi-angle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := cylinderSolid(5, 20)
			tc.break_(s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "cad: ") {
				t.Errorf("Validate() = %v, want an error starting with \"cad: \" containing %q", err, tc.want)
			}
		})
	}
}
