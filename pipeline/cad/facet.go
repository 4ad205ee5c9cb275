package cad

import (
	"errors"
	"fmt"
	"math"

	"github.com/replica3d/replica/pipeline/geom"
	"gonum.org/v1/gonum/spatial/r3"
)

// ErrEmptyMesh is returned by FromMesh for a mesh without faces.
var ErrEmptyMesh = errors.New("cad: the mesh has no faces")

// ErrNotWatertight is returned, wrapped with the counts of what is wrong,
// by FromMesh for a mesh that does not enclose a volume: it has boundary
// edges (holes), edges shared by more than two faces, or neighbouring faces
// that disagree on orientation. Repairing the mesh first (pipeline/mesh)
// fixes most of these.
var ErrNotWatertight = errors.New("cad: the mesh is not watertight")

// Tolerances of FromMesh's coplanarity test. Triangles of a mesh that was
// flattened onto a plane (pipeline/mesh.Flatten) lie on it up to rounding,
// about 1e-16 of the coordinates; 1e-9 of the mesh's size keeps that and
// stays far below the 1e-6 mm uncertainty the STEP writer declares for any
// part under a metre, so CAD kernels see every vertex on its face's plane.
// The angle test keeps two long thin triangles that meet at a shallow crease
// apart even where their corners pass the distance test.
const (
	facetDistTol  = 1e-9 // of the mesh's largest bounding-box extent
	facetAngleTol = 1e-6 // radians between a triangle's normal and its face's
)

// FromMesh makes a faceted solid from a closed triangle mesh: each maximal
// set of edge-connected coplanar triangles becomes one planar face bounded
// by polygon loops, the outer loop and one inner loop per hole (the top of
// a plate with a through hole is one face with one inner loop). Mesh edges
// between two triangles of the same face disappear; vertices where a face's
// boundary runs straight on stay, as vertices of the solid. Vertices inside
// a face disappear.
//
// Faces grow from a seed triangle, in mesh order, over edges to triangles
// whose normal is within facetAngleTol of the seed's and whose corners lie
// within facetDistTol of its plane; comparing with the seed rather than the
// neighbour keeps a gently curved surface from merging into one face. The
// face's plane has the area-weighted mean normal of its triangles and
// passes through the seed's first corner.
//
// The mesh must be watertight (geom.Topology.Watertight), with its faces
// counter-clockwise seen from outside and no zero-area triangle.
func FromMesh(m *geom.Mesh, name string) (*Solid, error) {
	if m == nil || len(m.Faces) == 0 {
		return nil, ErrEmptyMesh
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("cad: invalid mesh: %w", err)
	}
	if t := m.Topology(); !t.Watertight() || t.CollapsedFaces > 0 {
		return nil, fmt.Errorf("%w: %d boundary edges, %d non-manifold edges, %d inconsistently oriented edges, %d collapsed faces",
			ErrNotWatertight, t.BoundaryEdges, t.NonManifoldEdges, t.InconsistentEdges, t.CollapsedFaces)
	}
	nf := len(m.Faces)
	normals := make([]r3.Vec, nf)
	for i := range m.Faces {
		if normals[i] = m.FaceNormal(i); normals[i] == (r3.Vec{}) {
			return nil, fmt.Errorf("cad: mesh face %d has zero area", i)
		}
	}

	// twin[h] is the half-edge opposite half-edge h = 3·face + corner, which
	// runs from corner to corner+1. Watertightness guarantees exactly one.
	twin, _, _ := halfEdges(m)
	type dirEdge struct{ u, v int32 }
	from := func(h int32) int32 { return m.Faces[h/3][h%3] }
	to := func(h int32) int32 { return m.Faces[h/3][(h%3+1)%3] }

	// Grow the faces.
	distTol := facetDistTol * m.Bounds().MaxExtent()
	cosTol := math.Cos(facetAngleTol)
	region := make([]int32, nf)
	for i := range region {
		region[i] = -1
	}
	var seeds []int32
	var queue []int32
	for seed := range int32(nf) {
		if region[seed] >= 0 {
			continue
		}
		r := int32(len(seeds))
		seeds = append(seeds, seed)
		n, o := normals[seed], m.Vertices[m.Faces[seed][0]]
		region[seed] = r
		queue = append(queue[:0], seed)
		for len(queue) > 0 {
			t := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			for k := range int32(3) {
				g := twin[3*t+k] / 3
				if region[g] >= 0 || r3.Dot(normals[g], n) < cosTol {
					continue
				}
				on := true
				for _, v := range m.Faces[g] {
					if math.Abs(r3.Dot(r3.Sub(m.Vertices[v], o), n)) > distTol {
						on = false
					}
				}
				if on {
					region[g] = r
					queue = append(queue, g)
				}
			}
		}
	}
	areaNormal := make([]r3.Vec, len(seeds))
	for i, f := range m.Faces {
		a, b, c := m.Vertices[f[0]], m.Vertices[f[1]], m.Vertices[f[2]]
		areaNormal[region[i]] = r3.Add(areaNormal[region[i]], r3.Cross(r3.Sub(b, a), r3.Sub(c, a)))
	}

	// A half-edge is on a face's boundary when its twin belongs to another
	// face. Number the vertices on boundaries in mesh order.
	boundary := func(h int32) bool { return region[h/3] != region[twin[h]/3] }
	vertex := make([]int32, len(m.Vertices))
	for i := range vertex {
		vertex[i] = -1
	}
	for h := range int32(3 * nf) {
		if boundary(h) {
			vertex[from(h)] = 0
		}
	}
	s := &Solid{Name: name}
	for i, p := range m.Vertices {
		if vertex[i] == 0 {
			vertex[i] = int32(len(s.Vertices))
			s.Vertices = append(s.Vertices, p)
		}
	}

	// next returns the boundary half-edge of the same face that follows h:
	// it turns about h's end vertex v through the face's triangles, from
	// h's triangle across interior edges, until it meets the boundary. This
	// walk rather than "the boundary half-edge that starts at v" splits the
	// loops correctly where a face touches itself at a vertex.
	next := func(h int32) (int32, error) {
		c := h/3*3 + (h%3+1)%3
		for range nf {
			if boundary(c) {
				return c, nil
			}
			t := twin[c]
			c = t/3*3 + (t%3+1)%3
		}
		return 0, fmt.Errorf("cad: mesh vertex %d: the faces around it do not close", to(h))
	}

	// Trace the loops face by face and turn boundary half-edges into edges.
	edgeOf := make(map[dirEdge]int, 0)
	used := make([]bool, 3*nf)
	faces := make([][]int32, len(seeds)) // triangles of each face, in mesh order
	for i := range int32(nf) {
		faces[region[i]] = append(faces[region[i]], i)
	}
	for r, tris := range faces {
		normal := r3.Unit(areaNormal[r])
		pl := &Plane{Origin: m.Vertices[m.Faces[seeds[r]][0]], Normal: normal, XDir: perpendicular(normal)}
		yDir := r3.Cross(pl.Normal, pl.XDir)
		var loops [][]OrientedEdge
		var areas []float64
		for _, t := range tris {
			for k := range int32(3) {
				h0 := 3*t + k
				if used[h0] || !boundary(h0) {
					continue
				}
				var loop []OrientedEdge
				var area float64
				for h := h0; ; {
					if used[h] {
						return nil, fmt.Errorf("cad: mesh vertex %d: face boundary passes twice", from(h))
					}
					used[h] = true
					u, v := from(h), to(h)
					key := dirEdge{min(u, v), max(u, v)}
					e, ok := edgeOf[key]
					if !ok {
						e = len(s.Edges)
						edgeOf[key] = e
						s.Edges = append(s.Edges, Edge{V0: int(vertex[u]), V1: int(vertex[v])})
					}
					loop = append(loop, OrientedEdge{Edge: e, Forward: s.Edges[e].V0 == int(vertex[u])})
					// Shoelace formula in the plane's frame, relative to
					// the plane's origin to keep the products small.
					a, b := r3.Sub(m.Vertices[u], pl.Origin), r3.Sub(m.Vertices[v], pl.Origin)
					area += r3.Dot(a, pl.XDir)*r3.Dot(b, yDir) - r3.Dot(b, pl.XDir)*r3.Dot(a, yDir)
					var err error
					if h, err = next(h); err != nil {
						return nil, err
					}
					if h == h0 {
						break
					}
				}
				loops = append(loops, loop)
				areas = append(areas, area/2)
			}
		}
		// The outer loop runs counter-clockwise about the normal and
		// encloses the others: it has the largest signed area.
		outer := 0
		for i, a := range areas {
			if a > areas[outer] {
				outer = i
			}
		}
		loops[0], loops[outer] = loops[outer], loops[0]
		s.Faces = append(s.Faces, Face{Surface: pl, Bounds: loops, SameSense: true})
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("cad: faceted solid from mesh is invalid: %w", err)
	}
	return s, nil
}

// perpendicular returns a unit vector perpendicular to the unit vector n:
// the coordinate axis least aligned with n, made perpendicular to it. Axis
// aligned normals thus get axis aligned reference directions, (1, 0, 0) for
// (0, 0, ±1).
func perpendicular(n r3.Vec) r3.Vec {
	e := r3.Vec{X: 1}
	switch ax, ay, az := math.Abs(n.X), math.Abs(n.Y), math.Abs(n.Z); {
	case ay < ax && ay <= az:
		e = r3.Vec{Y: 1}
	case az < ax && az < ay:
		e = r3.Vec{Z: 1}
	}
	return r3.Unit(r3.Sub(e, r3.Scale(r3.Dot(e, n), n)))
}
