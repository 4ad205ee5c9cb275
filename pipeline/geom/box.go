package geom

import "math"

// Box is an axis-aligned bounding box. Unlike r3.Box, a box holding a single
// point (Min == Max) is not empty: Empty reports only the box that holds no
// point at all, as returned by EmptyBox.
type Box struct{ Min, Max Vec }

// EmptyBox returns the box that holds no point: Min is +Inf and Max is -Inf
// on every axis, so that Extend and Union work without a special case.
func EmptyBox() Box {
	inf := math.Inf(1)
	return Box{Min: Vec{X: inf, Y: inf, Z: inf}, Max: Vec{X: -inf, Y: -inf, Z: -inf}}
}

// Empty reports whether b holds no point, that is whether Min exceeds Max on
// some axis (or a bound is NaN).
func (b Box) Empty() bool {
	return !(b.Min.X <= b.Max.X && b.Min.Y <= b.Max.Y && b.Min.Z <= b.Max.Z)
}

// Extend returns the smallest box that holds b and p.
func (b Box) Extend(p Vec) Box {
	return Box{
		Min: Vec{X: min(b.Min.X, p.X), Y: min(b.Min.Y, p.Y), Z: min(b.Min.Z, p.Z)},
		Max: Vec{X: max(b.Max.X, p.X), Y: max(b.Max.Y, p.Y), Z: max(b.Max.Z, p.Z)},
	}
}

// Union returns the smallest box that holds b and c.
func (b Box) Union(c Box) Box {
	return Box{
		Min: Vec{X: min(b.Min.X, c.Min.X), Y: min(b.Min.Y, c.Min.Y), Z: min(b.Min.Z, c.Min.Z)},
		Max: Vec{X: max(b.Max.X, c.Max.X), Y: max(b.Max.Y, c.Max.Y), Z: max(b.Max.Z, c.Max.Z)},
	}
}

// Size returns the box's extent along each axis; zero for an empty box.
func (b Box) Size() Vec {
	if b.Empty() {
		return Vec{}
	}
	return Vec{X: b.Max.X - b.Min.X, Y: b.Max.Y - b.Min.Y, Z: b.Max.Z - b.Min.Z}
}

// Center returns the centre of the box; the origin for an empty box.
func (b Box) Center() Vec {
	if b.Empty() {
		return Vec{}
	}
	return Vec{X: (b.Min.X + b.Max.X) / 2, Y: (b.Min.Y + b.Max.Y) / 2, Z: (b.Min.Z + b.Max.Z) / 2}
}

// MaxExtent returns the largest of the box's sizes along the three axes;
// zero for an empty box.
func (b Box) MaxExtent() float64 {
	s := b.Size()
	return max(s.X, s.Y, s.Z)
}
