package synth

import (
	"fmt"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// Placed is a primitive node of a spec (one of Box, Cylinder, Cone,
// Sphere set) and where the CSG tree puts it: a point x of the node's own
// coordinates, those its Center and Axis are given in, lands at R·x + T in
// the world. A box's own Rotate, about its centre, is not in R (BoxTurn
// adds it).
type Placed struct {
	Node *Solid
	Path string // where it is in the spec: "solid.difference[1]"
	R    [9]float64
	T    geom.Vec
}

// Apply maps a point of the node's coordinates into the world.
func (p Placed) Apply(x geom.Vec) geom.Vec { return r3.Add(mat3(p.R).mul(x), p.T) }

// Turn maps a direction of the node's coordinates into the world.
func (p Placed) Turn(v geom.Vec) geom.Vec { return mat3(p.R).mul(v) }

// BoxTurn maps a direction of a box's own frame, turned by its Rotate,
// into the world.
func (p Placed) BoxTurn(v geom.Vec) geom.Vec {
	if b := p.Node.Box; b != nil && b.Rotate != nil {
		v = axisAngle(b.Rotate.Axis, b.Rotate.Degrees).mul(v)
	}
	return p.Turn(v)
}

// Primitives lists the spec's primitives in the order of the tree, placed
// as the renderer places them.
func (s *Spec) Primitives() []Placed {
	var out []Placed
	var walk func(n *Solid, path string, R mat3, t vec)
	walk = func(n *Solid, path string, R mat3, t vec) {
		R, t = place(n, R, t)
		kids, op := n.Union, "union"
		switch {
		case n.Box != nil || n.Cylinder != nil || n.Cone != nil || n.Sphere != nil:
			out = append(out, Placed{Node: n, Path: path, R: R, T: t})
			return
		case n.Difference != nil:
			kids, op = n.Difference, "difference"
		case n.Intersection != nil:
			kids, op = n.Intersection, "intersection"
		}
		for i := range kids {
			walk(&kids[i], fmt.Sprintf("%s.%s[%d]", path, op, i), R, t)
		}
	}
	walk(&s.Solid, "solid", identity, vec{})
	return out
}

// place composes a node's Rotate, then its Translate, inside the
// accumulated transform world = R·x + t.
func place(n *Solid, R mat3, t vec) (mat3, vec) {
	if n.Rotate == nil && n.Translate == nil {
		return R, t
	}
	rot := identity
	if n.Rotate != nil {
		rot = axisAngle(n.Rotate.Axis, n.Rotate.Degrees)
	}
	var tr vec
	if n.Translate != nil {
		tr = v3(*n.Translate)
	}
	return R.mulMat(rot), r3.Add(R.mul(tr), t)
}
