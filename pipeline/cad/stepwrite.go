package cad

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gonum.org/v1/gonum/spatial/r3"
)

// WriteOptions are the settings of WriteSTEPWith; nil means the defaults.
type WriteOptions struct {
	// Time is the time stamp in the file's header; the zero Time means
	// now. Set it for byte-for-byte reproducible files.
	Time time.Time

	// Uncertainty is the distance, in millimetres, under which the
	// receiving CAD program takes two points to coincide (STEP's
	// distance_accuracy_value); 0 means DefaultUncertainty.
	Uncertainty float64
}

// DefaultUncertainty is the distance accuracy the writer declares, in
// millimetres: ten times OpenCascade's Precision::Confusion, so that the
// vertices of faceted faces, which lie on their planes to about 1e-9 of the
// part's size, pass a CAD kernel's checks on parts up to a metre.
const DefaultUncertainty = 1e-6

// WriteSTEP writes s as an ISO 10303-21 exchange structure in the AP214
// schema (AUTOMOTIVE_DESIGN), time-stamped now; see WriteSTEPWith.
func WriteSTEP(w io.Writer, s *Solid) error {
	return WriteSTEPWith(w, s, nil)
}

// WriteSTEPWith writes s as an ISO 10303-21 exchange structure (Part 21,
// 3rd edition syntax) in the AP214 schema AUTOMOTIVE_DESIGN: one product
// named s.Name whose shape is an ADVANCED_BREP_SHAPE_REPRESENTATION holding
// one MANIFOLD_SOLID_BREP, lengths in millimetres and angles in radians.
// That is the entity set every CAD program imports as one solid body; it
// follows the layout OpenCascade and the CAx-IF recommended practices use.
//
// Instances are numbered from #1 in the order they are written, one per
// line, each after the instances it refers to (the product's shape
// representation last), vertices in s.Vertices order before edges in s.Edges order
// before faces, so ReadSTEP gives back the same indices. Reals are written
// in the shortest form that reads back to the same float64.
//
// It returns an error, and writes nothing, if s does not pass Validate.
func WriteSTEPWith(w io.Writer, s *Solid, opts *WriteOptions) error {
	if err := s.Validate(); err != nil {
		return err
	}
	var o WriteOptions
	if opts != nil {
		o = *opts
	}
	if o.Time.IsZero() {
		o.Time = time.Now()
	}
	if o.Uncertainty == 0 {
		o.Uncertainty = DefaultUncertainty
	}
	if !(o.Uncertainty > 0) || math.IsInf(o.Uncertainty, 0) {
		return fmt.Errorf("cad: uncertainty %v mm, want positive and finite", o.Uncertainty)
	}

	sw := &stepWriter{w: bufio.NewWriter(w)}
	name := stepString(s.Name)
	sw.raw("ISO-10303-21;\nHEADER;\n")
	sw.raw("FILE_DESCRIPTION(('Replica solid'),'2;1');\n")
	sw.raw("FILE_NAME(%s,'%s',(''),(''),'Replica','Replica','');\n",
		stepString(s.Name+".step"), o.Time.UTC().Format("2006-01-02T15:04:05"))
	sw.raw("FILE_SCHEMA(('AUTOMOTIVE_DESIGN { 1 0 10303 214 1 1 1 1 }'));\nENDSEC;\nDATA;\n")

	// Product structure: one part.
	appCtx := sw.add("APPLICATION_CONTEXT('core data for automotive mechanical design processes')")
	sw.add("APPLICATION_PROTOCOL_DEFINITION('international standard','automotive_design',2000,#%d)", appCtx)
	prodCtx := sw.add("PRODUCT_CONTEXT('',#%d,'mechanical')", appCtx)
	product := sw.add("PRODUCT(%s,%s,'',(#%d))", name, name, prodCtx)
	sw.add("PRODUCT_RELATED_PRODUCT_CATEGORY('part',$,(#%d))", product)
	formation := sw.add("PRODUCT_DEFINITION_FORMATION('','',#%d)", product)
	defCtx := sw.add("PRODUCT_DEFINITION_CONTEXT('part definition',#%d,'design')", appCtx)
	definition := sw.add("PRODUCT_DEFINITION('design','',#%d,#%d)", formation, defCtx)
	shape := sw.add("PRODUCT_DEFINITION_SHAPE('','',#%d)", definition)

	// Units and the geometric context. Partial entities of a complex
	// instance are written in alphabetical order, as Part 21 §11.2.5.3 requires.
	mm := sw.add("( LENGTH_UNIT() NAMED_UNIT(*) SI_UNIT(.MILLI.,.METRE.) )")
	rad := sw.add("( NAMED_UNIT(*) PLANE_ANGLE_UNIT() SI_UNIT($,.RADIAN.) )")
	sr := sw.add("( NAMED_UNIT(*) SI_UNIT($,.STERADIAN.) SOLID_ANGLE_UNIT() )")
	unc := sw.add("UNCERTAINTY_MEASURE_WITH_UNIT(LENGTH_MEASURE(%s),#%d,'distance_accuracy_value','confusion accuracy')",
		stepReal(o.Uncertainty), mm)
	ctx := sw.add("( GEOMETRIC_REPRESENTATION_CONTEXT(3) GLOBAL_UNCERTAINTY_ASSIGNED_CONTEXT((#%d)) "+
		"GLOBAL_UNIT_ASSIGNED_CONTEXT((#%d,#%d,#%d)) REPRESENTATION_CONTEXT('','3D') )", unc, mm, rad, sr)
	world := sw.placement(r3.Vec{}, r3.Vec{Z: 1}, r3.Vec{X: 1})

	// Topology and geometry, bottom up.
	vertices := make([]int, len(s.Vertices))
	for i, p := range s.Vertices {
		vertices[i] = sw.add("VERTEX_POINT('',#%d)", sw.point(p))
	}
	edges := make([]int, len(s.Edges))
	for i, e := range s.Edges {
		var curve int
		switch c := e.Curve.(type) {
		case nil:
			a, b := s.Vertices[e.V0], s.Vertices[e.V1]
			d := r3.Sub(b, a)
			l := r3.Norm(d)
			vec := sw.add("VECTOR('',#%d,%s)", sw.direction(r3.Scale(1/l, d)), stepReal(l))
			curve = sw.add("LINE('',#%d,#%d)", sw.point(a), vec)
		case *Circle:
			curve = sw.add("CIRCLE('',#%d,%s)", sw.placement(c.Centre, c.Axis, c.XDir), stepReal(c.Radius))
		case *Ellipse:
			curve = sw.add("ELLIPSE('',#%d,%s,%s)", sw.placement(c.Centre, c.Axis, c.XDir), stepReal(c.SemiMajor), stepReal(c.SemiMinor))
		}
		edges[i] = sw.add("EDGE_CURVE('',#%d,#%d,#%d,.T.)", vertices[e.V0], vertices[e.V1], curve)
	}
	faces := make([]int, len(s.Faces))
	for i, f := range s.Faces {
		var surface int
		switch g := f.Surface.(type) {
		case *Plane:
			surface = sw.add("PLANE('',#%d)", sw.placement(g.Origin, g.Normal, g.XDir))
		case *Cylinder:
			surface = sw.add("CYLINDRICAL_SURFACE('',#%d,%s)", sw.placement(g.Origin, g.Axis, g.XDir), stepReal(g.Radius))
		case *Cone:
			surface = sw.add("CONICAL_SURFACE('',#%d,%s,%s)", sw.placement(g.Origin, g.Axis, g.XDir),
				stepReal(g.Radius), stepReal(g.SemiAngle))
		case *Sphere:
			surface = sw.add("SPHERICAL_SURFACE('',#%d,%s)", sw.placement(g.Centre, g.Axis, g.XDir), stepReal(g.Radius))
		}
		bounds := make([]int, len(f.Bounds))
		for j, loop := range f.Bounds {
			uses := make([]int, len(loop))
			for k, oe := range loop {
				uses[k] = sw.add("ORIENTED_EDGE('',*,*,#%d,%s)", edges[oe.Edge], stepBool(oe.Forward))
			}
			el := sw.add("EDGE_LOOP('',%s)", refList(uses))
			kind := "FACE_BOUND"
			if j == 0 {
				kind = "FACE_OUTER_BOUND"
			}
			bounds[j] = sw.add("%s('',#%d,.T.)", kind, el)
		}
		fname := "''"
		if f.Freeform {
			fname = stepString(FreeformName)
		}
		faces[i] = sw.add("ADVANCED_FACE(%s,%s,#%d,%s)", fname, refList(bounds), surface, stepBool(f.SameSense))
	}
	shell := sw.add("CLOSED_SHELL('',%s)", refList(faces))
	brep := sw.add("MANIFOLD_SOLID_BREP(%s,#%d)", name, shell)
	rep := sw.add("ADVANCED_BREP_SHAPE_REPRESENTATION(%s,(#%d,#%d),#%d)", name, brep, world, ctx)
	sw.add("SHAPE_DEFINITION_REPRESENTATION(#%d,#%d)", shape, rep)
	sw.raw("ENDSEC;\nEND-ISO-10303-21;\n")
	if sw.err != nil {
		return fmt.Errorf("cad: write STEP: %w", sw.err)
	}
	if err := sw.w.Flush(); err != nil {
		return fmt.Errorf("cad: write STEP: %w", err)
	}
	return nil
}

// stepWriter numbers and writes entity instances, one a line, keeping the
// first write error.
type stepWriter struct {
	w   *bufio.Writer
	n   int
	err error
}

// raw writes text outside the DATA entity instances.
func (sw *stepWriter) raw(format string, args ...any) {
	if sw.err == nil {
		_, sw.err = fmt.Fprintf(sw.w, format, args...)
	}
}

// add writes the next instance and returns its number.
func (sw *stepWriter) add(format string, args ...any) int {
	sw.n++
	if sw.err == nil {
		if _, sw.err = fmt.Fprintf(sw.w, "#%d=", sw.n); sw.err == nil {
			_, sw.err = fmt.Fprintf(sw.w, format+";\n", args...)
		}
	}
	return sw.n
}

func (sw *stepWriter) point(p r3.Vec) int {
	return sw.add("CARTESIAN_POINT('',(%s,%s,%s))", stepReal(p.X), stepReal(p.Y), stepReal(p.Z))
}

func (sw *stepWriter) direction(d r3.Vec) int {
	return sw.add("DIRECTION('',(%s,%s,%s))", stepReal(d.X), stepReal(d.Y), stepReal(d.Z))
}

func (sw *stepWriter) placement(origin, axis, xdir r3.Vec) int {
	p, a, x := sw.point(origin), sw.direction(axis), sw.direction(xdir)
	return sw.add("AXIS2_PLACEMENT_3D('',#%d,#%d,#%d)", p, a, x)
}

// stepReal formats x as a Part 21 REAL (§6.3.3): the shortest decimal that
// reads back as x, with the decimal point the syntax requires even for
// whole numbers ("1.", "1.E-07", "-2.5E+20").
func stepReal(x float64) string {
	s := strconv.FormatFloat(x, 'G', -1, 64)
	if strings.Contains(s, ".") {
		return s
	}
	if i := strings.IndexByte(s, 'E'); i >= 0 {
		return s[:i] + "." + s[i:]
	}
	return s + "."
}

func stepBool(b bool) string {
	if b {
		return ".T."
	}
	return ".F."
}

func refList(ids []int) string {
	var b strings.Builder
	b.WriteByte('(')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("#" + strconv.Itoa(id))
	}
	b.WriteByte(')')
	return b.String()
}

// stepString quotes s as a Part 21 string (§6.3.4): an apostrophe doubled,
// a backslash doubled, printable ASCII as is, and everything else as
// hexadecimal control directives, \X2\ with four hex digits a character
// for the Basic Multilingual Plane and \X4\ with eight beyond it, each run
// closed by \X0\. Invalid UTF-8 becomes U+FFFD.
func stepString(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	mode := 0 // 0: plain, 2: inside \X2\, 4: inside \X4\
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		want := 0
		if r < 0x20 || r > 0x7e {
			want = 2
			if r > 0xffff {
				want = 4
			}
		}
		if want != mode {
			if mode != 0 {
				b.WriteString(`\X0\`)
			}
			if want != 0 {
				fmt.Fprintf(&b, `\X%d\`, want)
			}
			mode = want
		}
		switch {
		case mode == 2:
			fmt.Fprintf(&b, "%04X", r)
		case mode == 4:
			fmt.Fprintf(&b, "%08X", r)
		case r == '\'':
			b.WriteString("''")
		case r == '\\':
			b.WriteString(`\\`)
		default:
			b.WriteRune(r)
		}
	}
	if mode != 0 {
		b.WriteString(`\X0\`)
	}
	b.WriteByte('\'')
	return b.String()
}
