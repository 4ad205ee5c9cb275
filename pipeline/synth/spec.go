package synth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// Spec is a part: a named CSG solid in millimetres, as documented in
// ARCHITECTURE.md ("Part spec"). The part rests on the plane z = 0.
type Spec struct {
	Name  string `json:"name"`
	Units string `json:"units"`
	Solid Solid  `json:"solid"`
}

// Solid is one node of the CSG tree: exactly one primitive or operation,
// optionally rotated and then translated.
type Solid struct {
	Box          *Box        `json:"box,omitempty"`
	Cylinder     *Cylinder   `json:"cylinder,omitempty"`
	Sphere       *Sphere     `json:"sphere,omitempty"`
	Cone         *Cone       `json:"cone,omitempty"`
	Union        []Solid     `json:"union,omitempty"`
	Difference   []Solid     `json:"difference,omitempty"`
	Intersection []Solid     `json:"intersection,omitempty"`
	Rotate       *Rotation   `json:"rotate,omitempty"`
	Translate    *[3]float64 `json:"translate,omitempty"`
}

// Box is an axis-aligned box (before its optional rotation about its centre).
type Box struct {
	Center [3]float64 `json:"center"`
	Size   [3]float64 `json:"size"`
	Rotate *Rotation  `json:"rotate,omitempty"`
}

// Cylinder is a finite, capped cylinder; Center is the middle of its axis segment.
type Cylinder struct {
	Center [3]float64 `json:"center"`
	Axis   [3]float64 `json:"axis"`
	Radius float64    `json:"radius"`
	Height float64    `json:"height"`
}

// Sphere is a ball.
type Sphere struct {
	Center [3]float64 `json:"center"`
	Radius float64    `json:"radius"`
}

// Cone is a capped frustum; Radius1 is at the −Axis end, Radius2 at the +Axis
// end, and Center is the middle of the axis segment. One radius may be zero.
type Cone struct {
	Center  [3]float64 `json:"center"`
	Axis    [3]float64 `json:"axis"`
	Radius1 float64    `json:"radius1"`
	Radius2 float64    `json:"radius2"`
	Height  float64    `json:"height"`
}

// Rotation is a rotation by Degrees about Axis (right hand rule).
type Rotation struct {
	Axis    [3]float64 `json:"axis"`
	Degrees float64    `json:"degrees"`
}

// Limits on specs from outside, so a hostile file cannot exhaust memory or time.
const (
	maxSpecBytes = 1 << 20
	maxDepth     = 32
	maxNodes     = 2000
	maxCoord     = 1e5 // mm: 100 m is not a part
)

// ParseSpec reads a part spec from JSON, strictly: unknown fields, a node
// with zero or several kinds, non-finite or non-positive sizes and absurd
// coordinates are errors.
func ParseSpec(r io.Reader) (*Spec, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxSpecBytes+1))
	if err != nil {
		return nil, fmt.Errorf("part spec: %w", err)
	}
	if len(b) > maxSpecBytes {
		return nil, fmt.Errorf("part spec: larger than %d bytes", maxSpecBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("part spec: %w", err)
	}
	if dec.More() {
		return nil, errors.New("part spec: trailing data after the JSON object")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the spec; ParseSpec calls it.
func (s *Spec) Validate() error {
	if strings.TrimSpace(s.Name) == "" {
		return errors.New("part spec: missing name")
	}
	if s.Units != "mm" {
		return fmt.Errorf("part spec %q: units must be \"mm\", got %q", s.Name, s.Units)
	}
	nodes := 0
	if err := s.Solid.validate("solid", 0, &nodes); err != nil {
		return fmt.Errorf("part spec %q: %w", s.Name, err)
	}
	return nil
}

func (n *Solid) validate(path string, depth int, nodes *int) error {
	*nodes++
	if *nodes > maxNodes {
		return fmt.Errorf("more than %d nodes", maxNodes)
	}
	if depth > maxDepth {
		return fmt.Errorf("%s: nested deeper than %d", path, maxDepth)
	}
	kinds := 0
	for _, set := range []bool{n.Box != nil, n.Cylinder != nil, n.Sphere != nil, n.Cone != nil,
		n.Union != nil, n.Difference != nil, n.Intersection != nil} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return fmt.Errorf("%s: want exactly one of box, cylinder, sphere, cone, union, difference, intersection; got %d", path, kinds)
	}
	if n.Rotate != nil {
		if err := n.Rotate.validate(path + ".rotate"); err != nil {
			return err
		}
	}
	if n.Translate != nil {
		if err := vec3OK(path+".translate", *n.Translate); err != nil {
			return err
		}
	}
	switch {
	case n.Box != nil:
		b := n.Box
		if err := vec3OK(path+".box.center", b.Center); err != nil {
			return err
		}
		for i, v := range b.Size {
			if !(v > 0) || v > maxCoord {
				return fmt.Errorf("%s.box.size[%d] = %v: must be positive", path, i, v)
			}
		}
		if b.Rotate != nil {
			return b.Rotate.validate(path + ".box.rotate")
		}
	case n.Cylinder != nil:
		c := n.Cylinder
		return firstErr(vec3OK(path+".cylinder.center", c.Center), axisOK(path+".cylinder.axis", c.Axis),
			positive(path+".cylinder.radius", c.Radius), positive(path+".cylinder.height", c.Height))
	case n.Sphere != nil:
		return firstErr(vec3OK(path+".sphere.center", n.Sphere.Center), positive(path+".sphere.radius", n.Sphere.Radius))
	case n.Cone != nil:
		c := n.Cone
		if err := firstErr(vec3OK(path+".cone.center", c.Center), axisOK(path+".cone.axis", c.Axis),
			positive(path+".cone.height", c.Height)); err != nil {
			return err
		}
		if !(c.Radius1 >= 0) || !(c.Radius2 >= 0) || c.Radius1 > maxCoord || c.Radius2 > maxCoord || c.Radius1+c.Radius2 == 0 {
			return fmt.Errorf("%s.cone: radii must be ≥ 0 and not both zero (got %v, %v)", path, c.Radius1, c.Radius2)
		}
	default:
		kids, op := n.Union, "union"
		if n.Difference != nil {
			kids, op = n.Difference, "difference"
		} else if n.Intersection != nil {
			kids, op = n.Intersection, "intersection"
		}
		if len(kids) == 0 {
			return fmt.Errorf("%s.%s: empty list", path, op)
		}
		for i := range kids {
			if err := kids[i].validate(fmt.Sprintf("%s.%s[%d]", path, op, i), depth+1, nodes); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *Rotation) validate(path string) error {
	if err := axisOK(path+".axis", r.Axis); err != nil {
		return err
	}
	if math.IsNaN(r.Degrees) || math.IsInf(r.Degrees, 0) {
		return fmt.Errorf("%s.degrees: not a number", path)
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func vec3OK(path string, v [3]float64) error {
	for i, x := range v {
		if math.IsNaN(x) || math.Abs(x) > maxCoord {
			return fmt.Errorf("%s[%d] = %v: out of range", path, i, x)
		}
	}
	return nil
}

func axisOK(path string, v [3]float64) error {
	if err := vec3OK(path, v); err != nil {
		return err
	}
	if v[0]*v[0]+v[1]*v[1]+v[2]*v[2] < 1e-12 {
		return fmt.Errorf("%s: zero vector", path)
	}
	return nil
}

func positive(path string, v float64) error {
	if !(v > 0) || v > maxCoord {
		return fmt.Errorf("%s = %v: must be positive", path, v)
	}
	return nil
}
