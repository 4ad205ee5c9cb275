// Package cad turns meshes into editable CAD solids and exchanges them as
// STEP files.
//
// A Solid is a boundary representation (B-rep): vertices, edges on lines or
// circles, and faces on planes, cylinders, cones or spheres, each face
// bounded by an outer loop of oriented edges and any number of inner loops
// (holes). Solid.Validate checks that it closes up: every edge is used
// exactly twice, once in each direction.
//
// Assemble makes a solid with analytic faces from a closed triangle mesh:
// Fit segments points drawn from the mesh into planes, cylinders, cones and
// spheres (efficient RANSAC after Schnabel, Wahl and Klein 2007, then
// least-squares refinement, merging and snapping), each triangle is
// labelled with the surface it lies on, vertices are moved onto the
// intersections of their surfaces, and the regions' boundaries become the
// faces' loops: straight edges where planes meet, circles where a hole
// meets a face, short straight pieces elsewhere; what fits no surface stays
// as flat facets (Face.Freeform). The mesh's topology is the solid's, so
// the shell closes by construction. FromMesh makes the faceted solid
// (coplanar triangles merged into polygonal faces, holes included) that
// Assemble falls back to when nothing fits.
//
// WriteSTEP writes a solid as an ISO 10303-21 exchange structure ("STEP
// Part 21") in the AP214 schema AUTOMOTIVE_DESIGN, which every mainstream
// CAD program imports as one solid in millimetres; ReadSTEP reads such
// files back, including the common entity set that other CAD kernels write
// for the same surfaces; Tessellate turns a solid back into triangles, for
// previews and volumes.
package cad
