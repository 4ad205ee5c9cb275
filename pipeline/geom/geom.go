// Package geom is Replica's geometry core: vectors (gonum's r3), axis-aligned
// boxes, indexed triangle meshes and coloured point clouds with normals.
// Units are whatever the caller's are; outputs that leave the program are in
// millimetres.
package geom

import (
	"image/color"

	"gonum.org/v1/gonum/spatial/r3"
)

// Vec is a 3D vector; an alias so gonum's r3 functions apply directly.
type Vec = r3.Vec

// Mesh is an indexed triangle mesh. Faces index Vertices; a face's vertices
// are ordered counter-clockwise seen from outside (right-hand rule gives the
// outward normal).
type Mesh struct {
	Vertices []Vec
	Faces    [][3]int32
}

// PointCloud is a set of points with optional per-point normals and colours.
// Normals and Colors are either empty or as long as Points.
type PointCloud struct {
	Points  []Vec
	Normals []Vec
	Colors  []color.NRGBA
}
