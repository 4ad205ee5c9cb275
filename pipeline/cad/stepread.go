package cad

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/spatial/r3"
)

// ErrUnsupported is wrapped by ReadSTEP's errors for files that are valid
// but need what this package does not model: several solids, surfaces or
// curves other than planes, cylinders, cones, spheres, lines and circles,
// and so on. The message names the entity.
var ErrUnsupported = errors.New("unsupported")

// ReadSTEP reads an ISO 10303-21 exchange structure holding one solid, as
// WriteSTEP writes it and as CAD programs export a single part in AP203,
// AP214 or AP242: a MANIFOLD_SOLID_BREP whose CLOSED_SHELL has
// ADVANCED_FACEs (or FACE_SURFACEs) on PLANE, CYLINDRICAL_SURFACE,
// CONICAL_SURFACE or SPHERICAL_SURFACE, bounded by EDGE_LOOPs of
// ORIENTED_EDGEs on EDGE_CURVEs along LINEs or CIRCLEs (bare, or inside a
// SURFACE_CURVE or SEAM_CURVE). Lengths are converted to millimetres from
// the representation context's unit (SI with any prefix, or a conversion
// based unit such as the inch), angles to radians. Entities the solid does
// not reach (product structure, styling, colours, other representations)
// are ignored, except that they must parse. The product name comes from the
// first PRODUCT, else the solid's own name.
//
// Vertices and edges are numbered in the order of their instance numbers,
// so a file written by WriteSTEP reads back with the same indices and
// bit-for-bit the same numbers. The result passes Validate.
//
// ReadSTEP is meant for files from anywhere: it reads at most MaxSTEPSize
// bytes, caps the number of instances and values and the nesting of lists,
// rejects references to undefined instances and reference cycles among the
// instances the solid needs, and returns an error rather than panicking.
// Errors say "cad: STEP line N: …" for syntax, "cad: STEP #n: …" for
// content; those about entities not supported wrap ErrUnsupported.
func ReadSTEP(r io.Reader) (*Solid, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSTEPSize+1))
	if err != nil {
		return nil, fmt.Errorf("cad: read STEP: %w", err)
	}
	if int64(len(data)) > MaxSTEPSize {
		return nil, fmt.Errorf("cad: STEP file larger than %d bytes", MaxSTEPSize)
	}
	f, err := parseSTEP(data)
	if err != nil {
		return nil, err
	}
	rd := &stepReader{f: f, vertices: map[int64]int{}, edges: map[int64]int{}}
	return rd.solid()
}

// stepReader rebuilds a Solid from a parsed file.
type stepReader struct {
	f           *stepFile
	lengthScale float64 // millimetres per length unit of the file
	angleScale  float64 // radians per plane angle unit of the file

	vertices map[int64]int // VERTEX_POINT → index in order of instance number
	edges    map[int64]int // EDGE_CURVE → index in order of instance number
}

// errorf returns an error about instance in.
func (rd *stepReader) errorf(in *stepInstance, format string, args ...any) error {
	return fmt.Errorf("cad: STEP #%d: "+format, append([]any{in.id}, args...)...)
}

// unsupported returns the error for an entity of a kind ReadSTEP does not
// read where the solid needs it: "cad: STEP #42: unsupported surface X".
func (rd *stepReader) unsupported(in *stepInstance, what string) error {
	return fmt.Errorf("cad: STEP #%d: %w %s %s", in.id, ErrUnsupported, what, in.typeName())
}

// unsupportedSolids are the other solid representations a file may hold.
var unsupportedSolids = []string{"BREP_WITH_VOIDS", "FACETED_BREP", "CSG_SOLID", "EXTRUDED_AREA_SOLID", "REVOLVED_AREA_SOLID",
	"SHELL_BASED_SURFACE_MODEL", "GEOMETRIC_CURVE_SET"}

func (rd *stepReader) solid() (*Solid, error) {
	var breps []*stepInstance
	for _, in := range rd.f.order {
		if in.record("MANIFOLD_SOLID_BREP") != nil {
			breps = append(breps, in)
		}
	}
	switch len(breps) {
	case 0:
		for _, in := range rd.f.order {
			for _, r := range in.records {
				if slices.Contains(unsupportedSolids, r.name) {
					return nil, rd.unsupported(in, "solid")
				}
			}
		}
		return nil, fmt.Errorf("cad: STEP: no MANIFOLD_SOLID_BREP in the file")
	case 1:
	default:
		return nil, fmt.Errorf("cad: STEP: %d solids (#%d, #%d, …): %w: only files with one solid can be read",
			len(breps), breps[0].id, breps[1].id, ErrUnsupported)
	}
	brep := breps[0]
	if err := rd.checkGraph(brep); err != nil {
		return nil, err
	}
	if err := rd.units(brep); err != nil {
		return nil, err
	}

	s := &Solid{}
	msb := brep.record("MANIFOLD_SOLID_BREP")
	if len(msb.params) != 2 {
		return nil, rd.errorf(brep, "MANIFOLD_SOLID_BREP has %d attributes, want 2", len(msb.params))
	}
	if msb.params[0].kind == valString {
		s.Name = msb.params[0].s
	}
	for _, in := range rd.f.order {
		if r := in.record("PRODUCT"); r != nil && len(r.params) >= 2 {
			if r.params[1].kind == valString && r.params[1].s != "" {
				s.Name = r.params[1].s
			} else if r.params[0].kind == valString {
				s.Name = r.params[0].s
			}
			break
		}
	}
	shell, err := rd.ref(brep, msb.params[1])
	if err != nil {
		return nil, err
	}
	faces, err := rd.attrs(shell, "CLOSED_SHELL", "shell", 2)
	if err != nil {
		return nil, err
	}
	list, err := rd.list(shell, faces[1])
	if err != nil {
		return nil, err
	}
	// Edges and vertices are collected by instance number, then numbered.
	type edgeInfo struct {
		v0, v1 int64
		curve  Curve
	}
	edgeInfos := map[int64]edgeInfo{}
	type use struct {
		edge    int64
		forward bool
	}
	var faceUses [][][]use
	for _, fv := range list {
		face, err := rd.ref(shell, fv)
		if err != nil {
			return nil, err
		}
		attrs, err := rd.attrs(face, "", "face", 4, "ADVANCED_FACE", "FACE_SURFACE")
		if err != nil {
			return nil, err
		}
		sf, err := rd.surface(face, attrs[2])
		if err != nil {
			return nil, err
		}
		same, err := rd.boolean(face, attrs[3])
		if err != nil {
			return nil, err
		}
		bounds, err := rd.list(face, attrs[1])
		if err != nil {
			return nil, err
		}
		var loops [][]use
		outer := -1
		for _, bv := range bounds {
			bound, err := rd.ref(face, bv)
			if err != nil {
				return nil, err
			}
			battrs, err := rd.attrs(bound, "", "face bound", 3, "FACE_BOUND", "FACE_OUTER_BOUND")
			if err != nil {
				return nil, err
			}
			if bound.record("FACE_OUTER_BOUND") != nil {
				if outer >= 0 {
					return nil, rd.errorf(face, "face has two outer bounds")
				}
				outer = len(loops)
			}
			orient, err := rd.boolean(bound, battrs[2])
			if err != nil {
				return nil, err
			}
			loop, err := rd.ref(bound, battrs[1])
			if err != nil {
				return nil, err
			}
			lattrs, err := rd.attrs(loop, "EDGE_LOOP", "loop", 2)
			if err != nil {
				return nil, err
			}
			oes, err := rd.list(loop, lattrs[1])
			if err != nil {
				return nil, err
			}
			var uses []use
			for _, ov := range oes {
				oe, err := rd.ref(loop, ov)
				if err != nil {
					return nil, err
				}
				forward := true
				// An oriented edge's edge element may itself be an
				// oriented edge; checkGraph ruled out cycles, so this ends.
				for oe.record("ORIENTED_EDGE") != nil {
					oattrs, err := rd.attrs(oe, "ORIENTED_EDGE", "edge", 5)
					if err != nil {
						return nil, err
					}
					o, err := rd.boolean(oe, oattrs[4])
					if err != nil {
						return nil, err
					}
					forward = forward == o
					if oe, err = rd.ref(oe, oattrs[3]); err != nil {
						return nil, err
					}
				}
				eattrs, err := rd.attrs(oe, "EDGE_CURVE", "edge", 5)
				if err != nil {
					return nil, err
				}
				if _, ok := edgeInfos[oe.id]; !ok {
					var info edgeInfo
					for k, id := range []*int64{&info.v0, &info.v1} {
						v, err := rd.ref(oe, eattrs[1+k])
						if err != nil {
							return nil, err
						}
						vattrs, err := rd.attrs(v, "VERTEX_POINT", "vertex", 2)
						if err != nil {
							return nil, err
						}
						if _, ok := rd.vertices[v.id]; !ok {
							pt, err := rd.ref(v, vattrs[1])
							if err != nil {
								return nil, err
							}
							if _, err := rd.point(pt); err != nil {
								return nil, err
							}
							rd.vertices[v.id] = -1
						}
						*id = v.id
					}
					if info.curve, err = rd.curve(oe, eattrs[3]); err != nil {
						return nil, err
					}
					sense, err := rd.boolean(oe, eattrs[4])
					if err != nil {
						return nil, err
					}
					if !sense {
						// The edge runs clockwise about the curve's
						// axis: the same curve about the opposite axis.
						switch c := info.curve.(type) {
						case *Circle:
							c.Axis = r3.Scale(-1, c.Axis)
						case *Ellipse:
							c.Axis = r3.Scale(-1, c.Axis)
						}
					}
					edgeInfos[oe.id] = info
					rd.edges[oe.id] = -1
				}
				uses = append(uses, use{oe.id, forward})
			}
			if !orient {
				slices.Reverse(uses)
				for i := range uses {
					uses[i].forward = !uses[i].forward
				}
			}
			loops = append(loops, uses)
		}
		if outer > 0 {
			loops[0], loops[outer] = loops[outer], loops[0]
		}
		faceUses = append(faceUses, loops)
		free := len(attrs) > 0 && attrs[0].kind == valString && attrs[0].s == FreeformName
		s.Faces = append(s.Faces, Face{Surface: sf, SameSense: same, Freeform: free})
	}

	// Number vertices and edges in order of instance number.
	vids := sortedKeys(rd.vertices)
	for i, id := range vids {
		rd.vertices[id] = i
		vp := rd.f.instances[id]
		pt := rd.f.instances[vp.records[0].params[1].i]
		p, _ := rd.point(pt) // read without error above
		s.Vertices = append(s.Vertices, p)
	}
	eids := sortedKeys(rd.edges)
	for i, id := range eids {
		rd.edges[id] = i
		info := edgeInfos[id]
		s.Edges = append(s.Edges, Edge{V0: rd.vertices[info.v0], V1: rd.vertices[info.v1], Curve: info.curve})
	}
	for i, loops := range faceUses {
		for _, uses := range loops {
			loop := make([]OrientedEdge, len(uses))
			for k, u := range uses {
				loop[k] = OrientedEdge{Edge: rd.edges[u.edge], Forward: u.forward}
			}
			s.Faces[i].Bounds = append(s.Faces[i].Bounds, loop)
		}
		if s.Faces[i].Bounds == nil {
			return nil, rd.errorf(rd.f.instances[list[i].i], "face has no bounds")
		}
		if !hasOuter(rd.f, list[i].i) {
			putOuterFirst(s, i)
		}
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("cad: STEP #%d: the solid is not valid: %w", brep.id, err)
	}
	return s, nil
}

// hasOuter reports whether face instance id marks its outer bound.
func hasOuter(f *stepFile, id int64) bool {
	for _, bv := range f.instances[id].records[0].params[1].list {
		if f.instances[bv.i].record("FACE_OUTER_BOUND") != nil {
			return true
		}
	}
	return false
}

// putOuterFirst moves the outer loop of planar face i first where the file
// did not say which it is (OpenCascade writes FACE_BOUND for every loop):
// the loop of largest signed area about the face's outward normal, with
// arcs approximated by chords every 1/64 turn. On other surfaces the order
// is kept.
func putOuterFirst(s *Solid, i int) {
	f := &s.Faces[i]
	pl, ok := f.Surface.(*Plane)
	if !ok || len(f.Bounds) < 2 {
		return
	}
	n := pl.Normal
	if !f.SameSense {
		n = r3.Scale(-1, n)
	}
	x := perpendicular(n)
	y := r3.Cross(n, x)
	best, bestArea := 0, math.Inf(-1)
	for j, loop := range f.Bounds {
		var pts []r3.Vec
		for _, oe := range loop {
			e := s.Edges[oe.Edge]
			a, b := s.Vertices[e.V0], s.Vertices[e.V1]
			seg := []r3.Vec{a}
			if c, ok := conicOf(e.Curve); ok {
				seg = arcPoints(&c, a, b)
			}
			if !oe.Forward {
				seg = append(seg[1:], b)
				slices.Reverse(seg)
			}
			pts = append(pts, seg...)
		}
		var area float64
		for k, p := range pts {
			q := pts[(k+1)%len(pts)]
			p, q = r3.Sub(p, pl.Origin), r3.Sub(q, pl.Origin)
			area += r3.Dot(p, x)*r3.Dot(q, y) - r3.Dot(q, x)*r3.Dot(p, y)
		}
		if area > bestArea {
			best, bestArea = j, area
		}
	}
	f.Bounds[0], f.Bounds[best] = f.Bounds[best], f.Bounds[0]
}

// arcPoints returns points along the arc of c from a to b (counter-clockwise
// about c.Axis; the whole curve when a == b), a included and b not.
func arcPoints(c *conic, a, b r3.Vec) []r3.Vec {
	t0, t1 := c.param(a), c.param(b)
	sweep := math.Mod(t1-t0+4*math.Pi, 2*math.Pi)
	if a == b || sweep == 0 {
		sweep = 2 * math.Pi
	}
	n := int(math.Ceil(sweep / (2 * math.Pi) * 64))
	pts := []r3.Vec{a}
	for k := 1; k < n; k++ {
		pts = append(pts, c.at(t0+sweep*float64(k)/float64(n)))
	}
	return pts
}

func sortedKeys(m map[int64]int) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkGraph walks the instances reachable from root by references,
// depth first without recursion, and reports the first reference to an
// undefined instance and the first cycle.
func (rd *stepReader) checkGraph(root *stepInstance) error {
	const (
		white = iota
		grey  // on the current path
		black // done
	)
	colour := map[int64]uint8{}
	type frame struct {
		in   *stepInstance
		refs []int64
	}
	refsOf := func(in *stepInstance) []int64 {
		var refs []int64
		var walk func(vs []stepValue)
		walk = func(vs []stepValue) { // depth bounded by the parser's stepMaxDepth
			for _, v := range vs {
				switch v.kind {
				case valRef:
					refs = append(refs, v.i)
				case valList, valTyped:
					walk(v.list)
				}
			}
		}
		for _, r := range in.records {
			walk(r.params)
		}
		return refs
	}
	stack := []frame{{root, refsOf(root)}}
	colour[root.id] = grey
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if len(top.refs) == 0 {
			colour[top.in.id] = black
			stack = stack[:len(stack)-1]
			continue
		}
		id := top.refs[0]
		top.refs = top.refs[1:]
		switch colour[id] {
		case grey:
			return rd.errorf(top.in, "reference cycle through #%d", id)
		case black:
			continue
		}
		next := rd.f.instances[id]
		if next == nil {
			return rd.errorf(top.in, "refers to #%d, which is not defined", id)
		}
		colour[id] = grey
		stack = append(stack, frame{next, refsOf(next)})
	}
	return nil
}

// units finds the representation that holds the solid and reads the
// length and plane angle units of its context.
func (rd *stepReader) units(brep *stepInstance) error {
	var ctx *stepInstance
	for _, in := range rd.f.order {
		for _, r := range in.records {
			if !strings.HasSuffix(r.name, "REPRESENTATION") || len(r.params) < 3 || r.params[1].kind != valList {
				continue
			}
			for _, item := range r.params[1].list {
				if item.kind == valRef && item.i == brep.id && r.params[2].kind == valRef {
					ctx = rd.f.instances[r.params[2].i]
					if ctx == nil {
						return rd.errorf(in, "refers to #%d, which is not defined", r.params[2].i)
					}
				}
			}
		}
	}
	if ctx == nil {
		return rd.errorf(brep, "no shape representation holds the solid, so its units are unknown")
	}
	if err := rd.checkGraph(ctx); err != nil {
		return err
	}
	gua := ctx.record("GLOBAL_UNIT_ASSIGNED_CONTEXT")
	if gua == nil || len(gua.params) != 1 || gua.params[0].kind != valList {
		return rd.errorf(ctx, "representation context %s assigns no units", ctx.typeName())
	}
	rd.angleScale = 1
	for _, uv := range gua.params[0].list {
		u, err := rd.ref(ctx, uv)
		if err != nil {
			return err
		}
		kind, scale, err := rd.unit(u, 0)
		if err != nil {
			return err
		}
		switch kind {
		case "METRE":
			rd.lengthScale = scale
		case "RADIAN":
			rd.angleScale = scale
		}
	}
	if rd.lengthScale == 0 {
		return rd.errorf(ctx, "representation context has no length unit")
	}
	return nil
}

// siPrefixes are the SI prefixes of §6 of ISO 10303-41 as powers of ten.
var siPrefixes = map[string]float64{
	"EXA": 1e18, "PETA": 1e15, "TERA": 1e12, "GIGA": 1e9, "MEGA": 1e6, "KILO": 1e3, "HECTO": 1e2, "DECA": 1e1,
	"DECI": 1e-1, "CENTI": 1e-2, "MILLI": 1e-3, "MICRO": 1e-6, "NANO": 1e-9, "PICO": 1e-12, "FEMTO": 1e-15, "ATTO": 1e-18,
}

// unit returns the base of unit u ("METRE", "RADIAN", or another SI unit
// name) and its size in millimetres or radians: an SI_UNIT with its prefix,
// or a CONVERSION_BASED_UNIT as a multiple of another unit, followed at
// most 8 deep.
func (rd *stepReader) unit(u *stepInstance, depth int) (string, float64, error) {
	if depth > 8 {
		return "", 0, rd.errorf(u, "conversion based units nested deeper than 8")
	}
	if si := u.record("SI_UNIT"); si != nil {
		if len(si.params) != 2 || si.params[1].kind != valEnum {
			return "", 0, rd.errorf(u, "malformed SI_UNIT")
		}
		scale := 1.0
		if si.params[0].kind == valEnum {
			p, ok := siPrefixes[si.params[0].s]
			if !ok {
				return "", 0, rd.errorf(u, "unknown SI prefix .%s.", si.params[0].s)
			}
			scale = p
		}
		if si.params[1].s == "METRE" {
			scale *= 1000 // millimetres
		}
		return si.params[1].s, scale, nil
	}
	if cb := u.record("CONVERSION_BASED_UNIT"); cb != nil {
		if len(cb.params) != 2 {
			return "", 0, rd.errorf(u, "malformed CONVERSION_BASED_UNIT")
		}
		m, err := rd.ref(u, cb.params[1])
		if err != nil {
			return "", 0, err
		}
		var mr *stepRecord
		for i := range m.records {
			if strings.HasSuffix(m.records[i].name, "MEASURE_WITH_UNIT") {
				mr = &m.records[i]
			}
		}
		if mr == nil || len(mr.params) != 2 {
			return "", 0, rd.errorf(m, "%s where a measure with unit should be", m.typeName())
		}
		mv := mr.params[0]
		if mv.kind == valTyped && len(mv.list) == 1 {
			mv = mv.list[0]
		}
		value, ok := number(mv)
		if !ok {
			return "", 0, rd.errorf(m, "measure is %v, want a number", mv.kind)
		}
		base, err := rd.ref(m, mr.params[1])
		if err != nil {
			return "", 0, err
		}
		kind, scale, err := rd.unit(base, depth+1)
		if err != nil {
			return "", 0, err
		}
		scale *= value
		if !(scale > 0) || math.IsInf(scale, 0) {
			return "", 0, rd.errorf(u, "unit of size %v, want positive and finite", scale)
		}
		return kind, scale, nil
	}
	return "", 0, nil // another kind of unit (solid angle, …): not needed
}

// ref resolves value v of instance from, which must be a reference.
func (rd *stepReader) ref(from *stepInstance, v stepValue) (*stepInstance, error) {
	if v.kind != valRef {
		return nil, rd.errorf(from, "%v where a reference should be", v.kind)
	}
	in := rd.f.instances[v.i]
	if in == nil {
		return nil, rd.errorf(from, "refers to #%d, which is not defined", v.i)
	}
	return in, nil
}

// list returns the elements of value v of instance from, which must be a
// list.
func (rd *stepReader) list(from *stepInstance, v stepValue) ([]stepValue, error) {
	if v.kind != valList {
		return nil, rd.errorf(from, "%v where a list should be", v.kind)
	}
	return v.list, nil
}

func (rd *stepReader) boolean(from *stepInstance, v stepValue) (bool, error) {
	if v.kind != valEnum || v.s != "T" && v.s != "F" {
		return false, rd.errorf(from, "%v where .T. or .F. should be", v.kind)
	}
	return v.s == "T", nil
}

// attrs returns the attributes of simple instance in, which must be of type
// want (or one of also, when want is "") with at least n attributes; what
// names the role for the error about an other type.
func (rd *stepReader) attrs(in *stepInstance, want, what string, n int, also ...string) ([]stepValue, error) {
	if want != "" {
		also = append(also, want)
	}
	if len(in.records) != 1 || !slices.Contains(also, in.records[0].name) {
		return nil, rd.unsupported(in, what)
	}
	if p := in.records[0].params; len(p) >= n {
		return p, nil
	}
	return nil, rd.errorf(in, "%s has %d attributes, want %d", in.records[0].name, len(in.records[0].params), n)
}

// number returns v as a float64 if it is a real or an integer.
func number(v stepValue) (float64, bool) {
	switch v.kind {
	case valReal:
		return v.f, true
	case valInt:
		return float64(v.i), true
	}
	return 0, false
}

// triple reads a list of three numbers, the coordinates of a
// CARTESIAN_POINT or DIRECTION.
func (rd *stepReader) triple(in *stepInstance, want string) (r3.Vec, error) {
	a, err := rd.attrs(in, want, "point", 2)
	if err != nil {
		return r3.Vec{}, err
	}
	if a[1].kind != valList || len(a[1].list) != 3 {
		return r3.Vec{}, rd.errorf(in, "%s without three coordinates", want)
	}
	var c [3]float64
	for i, v := range a[1].list {
		var ok bool
		if c[i], ok = number(v); !ok {
			return r3.Vec{}, rd.errorf(in, "coordinate is %v, want a number", v.kind)
		}
	}
	return r3.Vec{X: c[0], Y: c[1], Z: c[2]}, nil
}

// point reads a CARTESIAN_POINT in millimetres.
func (rd *stepReader) point(in *stepInstance) (r3.Vec, error) {
	p, err := rd.triple(in, "CARTESIAN_POINT")
	if err != nil {
		return p, err
	}
	p = r3.Scale(rd.lengthScale, p)
	if !finite(p) {
		return p, rd.errorf(in, "point %v is not finite in millimetres", p)
	}
	return p, nil
}

// length reads a positive length attribute in millimetres.
func (rd *stepReader) length(in *stepInstance, v stepValue) (float64, error) {
	x, ok := number(v)
	if !ok {
		return 0, rd.errorf(in, "length is %v, want a number", v.kind)
	}
	return x * rd.lengthScale, nil
}

// placement reads an AXIS2_PLACEMENT_3D. Axis and reference direction are
// normalised, and the reference direction made perpendicular to the axis,
// only where they are off by more than rounding (unitTol/16): vectors that
// WriteSTEP wrote read back unchanged.
func (rd *stepReader) placement(from *stepInstance, v stepValue) (origin, axis, xdir r3.Vec, err error) {
	in, err := rd.ref(from, v)
	if err != nil {
		return
	}
	a, err := rd.attrs(in, "AXIS2_PLACEMENT_3D", "placement", 4)
	if err != nil {
		return
	}
	pt, err := rd.ref(in, a[1])
	if err != nil {
		return
	}
	if origin, err = rd.point(pt); err != nil {
		return
	}
	dir := func(v stepValue, def r3.Vec) (r3.Vec, error) {
		if v.kind == valNull {
			return def, nil
		}
		d, err := rd.ref(in, v)
		if err != nil {
			return r3.Vec{}, err
		}
		u, err := rd.triple(d, "DIRECTION")
		if err != nil {
			return r3.Vec{}, err
		}
		l := r3.Norm(u)
		if !(l > 0) || math.IsInf(l, 0) {
			return r3.Vec{}, rd.errorf(d, "direction %v has no length", u)
		}
		if math.Abs(l-1) > unitTol/16 {
			u = r3.Scale(1/l, u)
		}
		return u, nil
	}
	if axis, err = dir(a[2], r3.Vec{Z: 1}); err != nil {
		return
	}
	if xdir, err = dir(a[3], perpendicular(axis)); err != nil {
		return
	}
	if d := r3.Dot(axis, xdir); math.Abs(d) > unitTol/16 {
		x := r3.Sub(xdir, r3.Scale(d, axis))
		if l := r3.Norm(x); l > 1e-6 {
			xdir = r3.Scale(1/l, x)
		} else {
			xdir = perpendicular(axis) // parallel to the axis: STEP's build_axes picks another
		}
	}
	return origin, axis, xdir, nil
}

// curve reads the geometry of an EDGE_CURVE: nil for a LINE, a *Circle, an
// *Ellipse, or
// the 3-D curve inside a SURFACE_CURVE, SEAM_CURVE or INTERSECTION_CURVE.
func (rd *stepReader) curve(from *stepInstance, v stepValue) (Curve, error) {
	in, err := rd.ref(from, v)
	if err != nil {
		return nil, err
	}
	// Wrappers nest a bounded number of times: checkGraph ruled out cycles.
	for len(in.records) == 1 && slices.Contains([]string{"SURFACE_CURVE", "SEAM_CURVE", "INTERSECTION_CURVE"}, in.records[0].name) {
		a := in.records[0].params
		if len(a) < 2 {
			return nil, rd.errorf(in, "%s has %d attributes, want 4", in.records[0].name, len(a))
		}
		if in, err = rd.ref(in, a[1]); err != nil {
			return nil, err
		}
	}
	if len(in.records) == 1 && in.records[0].name == "LINE" {
		return nil, nil // the edge's vertices say where
	}
	if len(in.records) == 1 && in.records[0].name == "ELLIPSE" {
		a, err := rd.attrs(in, "ELLIPSE", "curve", 4)
		if err != nil {
			return nil, err
		}
		e := &Ellipse{}
		if e.Centre, e.Axis, e.XDir, err = rd.placement(in, a[1]); err != nil {
			return nil, err
		}
		if e.SemiMajor, err = rd.length(in, a[2]); err != nil {
			return nil, err
		}
		if e.SemiMinor, err = rd.length(in, a[3]); err != nil {
			return nil, err
		}
		if e.SemiMajor < e.SemiMinor {
			// Either order is allowed; ours has the major along XDir.
			e.SemiMajor, e.SemiMinor = e.SemiMinor, e.SemiMajor
			e.XDir = r3.Cross(e.Axis, e.XDir)
		}
		return e, nil
	}
	a, err := rd.attrs(in, "CIRCLE", "curve", 3)
	if err != nil {
		return nil, err
	}
	c := &Circle{}
	if c.Centre, c.Axis, c.XDir, err = rd.placement(in, a[1]); err != nil {
		return nil, err
	}
	if c.Radius, err = rd.length(in, a[2]); err != nil {
		return nil, err
	}
	return c, nil
}

// surface reads the geometry of a face.
func (rd *stepReader) surface(from *stepInstance, v stepValue) (Surface, error) {
	in, err := rd.ref(from, v)
	if err != nil {
		return nil, err
	}
	a, err := rd.attrs(in, "", "surface", 2, "PLANE", "CYLINDRICAL_SURFACE", "CONICAL_SURFACE", "SPHERICAL_SURFACE")
	if err != nil {
		return nil, err
	}
	o, axis, x, err := rd.placement(in, a[1])
	if err != nil {
		return nil, err
	}
	name := in.records[0].name
	var r, semi float64
	if name != "PLANE" {
		if len(a) < 3 || name == "CONICAL_SURFACE" && len(a) < 4 {
			return nil, rd.errorf(in, "%s has %d attributes", name, len(a))
		}
		if r, err = rd.length(in, a[2]); err != nil {
			return nil, err
		}
	}
	switch name {
	case "PLANE":
		return &Plane{Origin: o, Normal: axis, XDir: x}, nil
	case "CYLINDRICAL_SURFACE":
		return &Cylinder{Origin: o, Axis: axis, XDir: x, Radius: r}, nil
	case "CONICAL_SURFACE":
		var ok bool
		if semi, ok = number(a[3]); !ok {
			return nil, rd.errorf(in, "semi-angle is %v, want a number", a[3].kind)
		}
		return &Cone{Origin: o, Axis: axis, XDir: x, Radius: r, SemiAngle: semi * rd.angleScale}, nil
	default:
		return &Sphere{Centre: o, Axis: axis, XDir: x, Radius: r}, nil
	}
}
