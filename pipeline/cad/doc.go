// Package cad turns meshes into editable CAD solids and exchanges them as
// STEP files.
//
// A Solid is a boundary representation (B-rep): vertices, edges on lines or
// circles, and faces on planes, cylinders, cones or spheres, each face
// bounded by an outer loop of oriented edges and any number of inner loops
// (holes). Solid.Validate checks that it closes up: every edge is used
// exactly twice, once in each direction.
//
// Today the package makes a faceted solid from a closed triangle mesh
// (FromMesh merges coplanar triangles into polygonal planar faces, holes
// included), writes it as an ISO 10303-21 exchange structure ("STEP Part
// 21") in the AP214 schema AUTOMOTIVE_DESIGN, which every mainstream CAD
// program imports as one solid in millimetres, and reads such files back
// (ReadSTEP), including the common entity set that other CAD kernels write
// for the same surfaces.
//
// Fit segments points with normals into planes, cylinders, cones and
// spheres (efficient RANSAC after Schnabel, Wahl and Klein 2007, then
// least-squares refinement and snapping), leaving a freeform remainder;
// Tessellate turns a solid back into triangles, for previews and volumes.
//
// To come: assembling a B-rep from the fitted primitives (intersection
// edges, circles, seams), so that a drilled hole arrives in CAD as a
// cylinder rather than as facets; until then the pipeline writes the
// faceted solid.
package cad
