package meshview

import (
	"image/color"
	"math"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// vec3 is a single-precision vector: positions relative to a model's
// origin and unit normals, half the memory traffic of geom.Vec.
type vec3 [3]float32

// creaseCos is the cosine of the crease angle: at a vertex, the faces whose
// normals are within 40° of a face's normal are smoothed together with it,
// and sharper edges stay sharp (the "auto smooth" of modelling programs).
// A cylinder tessellated with 12 or more sides (30° or less between
// neighbours) shades round; the 90° and 45° edges of machined parts
// (boxes, chamfers) shade crisp.
var creaseCos = math.Cos(40 * math.Pi / 180)

// halfCreaseCos is the cosine of half the crease angle.
var halfCreaseCos = math.Cos(20 * math.Pi / 180)

// maxCreaseDegree bounds the work at one vertex: creasing compares every
// pair of incident faces, so at a vertex with more incident faces than this
// (a fan around the pole of a UV sphere, say) all are averaged together.
const maxCreaseDegree = 64

// model is a mesh made ready to draw: valid faces only, single-precision
// positions about the centre of its bounds, unit normals per face and per
// vertex, and the shades of its faces' colours. Vertices on a crease are
// split so that each side gets its own normal.
type model struct {
	origin geom.Vec   // the centre of bounds; pos is relative to it
	bounds geom.Box   // of the finite vertices of the caller's mesh
	pos    []vec3     // vertex positions relative to origin
	vnrm   []vec3     // unit vertex normals; zero where undefined
	faces  [][3]int32 // indices into pos, counter-clockwise seen from outside
	fnrm   []vec3     // unit face normals; zero for a face without area
	// shades holds a shade table per colour of the faces; shades[0] is
	// the default grey's. fshade[i] picks face i's; nil means all 0.
	shades []*shadeTable
	fshade []uint16
}

// shadeTable maps a light intensity in [0, 255] to the packed pixel of a
// colour lit that much.
type shadeTable [256]uint32

// modelColor is the colour of a mesh without colours: a light grey that
// reads on both backgrounds.
var modelColor = color.NRGBA{R: 196, G: 199, B: 204, A: 255}

// defaultShades is modelColor's shade table, shared by every model.
var defaultShades = newShadeTable(modelColor)

// newShadeTable returns the shades of colour c (its alpha ignored) under
// light intensities 0 to 255. Light multiplies the colour in linear space
// and the table maps the result back to sRGB.
func newShadeTable(c color.NRGBA) *shadeTable {
	lin := [3]float64{fromSRGB(float64(c.R) / 255), fromSRGB(float64(c.G) / 255), fromSRGB(float64(c.B) / 255)}
	t := new(shadeTable)
	for k := range t {
		f := float64(k) / 255
		t[k] = pack(toSRGB(lin[0]*f), toSRGB(lin[1]*f), toSRGB(lin[2]*f))
	}
	return t
}

// maxColors bounds the distinct colours of a model: each takes a shade
// table of 1 KiB, built in some tens of microseconds.
const maxColors = 1024

// newModel prepares m, its face i in colors[i] (see setColors). Faces that
// index out of range or use a vertex with a NaN or infinite coordinate are
// left out; the caller's mesh and colours are neither kept nor changed.
// Vertex normals are the area-weighted mean of the normals of the incident
// faces within the crease angle (Gouraud, "Continuous shading of curved
// surfaces", IEEE Trans. Computers C-20(6), 1971, averages the faces'
// normals; weighting by area — the length of the unnormalised cross
// product — lets large faces dominate slivers). A mesh with more than
// math.MaxInt32/3 faces keeps only the first ones.
func newModel(m *geom.Mesh, colors []color.NRGBA) *model {
	md := &model{bounds: geom.EmptyBox(), shades: []*shadeTable{defaultShades}}
	if m == nil {
		return md
	}
	n := len(m.Vertices)
	ok := make([]bool, n)
	for i, p := range m.Vertices {
		if finite(p.X) && finite(p.Y) && finite(p.Z) {
			ok[i] = true
			md.bounds = md.bounds.Extend(p)
		}
	}
	md.origin = md.bounds.Center()
	valid := func(v int32) bool { return v >= 0 && int(v) < n && ok[v] }
	faces := make([][3]int32, 0, len(m.Faces))
	var kept []int32 // the index in m.Faces of each of faces, when coloured
	for i, f := range m.Faces {
		if len(faces) == math.MaxInt32/3 {
			break
		}
		if valid(f[0]) && valid(f[1]) && valid(f[2]) {
			faces = append(faces, f)
			if colors != nil {
				kept = append(kept, int32(i))
			}
		}
	}
	if colors != nil {
		md.setColors(colors, kept)
	}

	// Area-weighted face normals (twice the area long) and unit normals.
	rel := func(v int32) geom.Vec { return r3.Sub(m.Vertices[v], md.origin) }
	cross := make([]geom.Vec, len(faces))
	md.fnrm = make([]vec3, len(faces))
	for i, f := range faces {
		a := rel(f[0])
		c := r3.Cross(r3.Sub(rel(f[1]), a), r3.Sub(rel(f[2]), a))
		if l := norm(c); l > 0 && finite(l) {
			cross[i] = c
			md.fnrm[i] = toVec3(r3.Scale(1/l, c))
		}
	}

	// Incident corners per vertex, compressed: corner 3f+k of face f is at
	// vertex faces[f][k]; those of vertex v are inc[start[v]:start[v+1]].
	start := make([]int32, n+1)
	for _, f := range faces {
		for _, v := range f {
			start[v+1]++
		}
	}
	for v := range n {
		start[v+1] += start[v]
	}
	inc := make([]int32, 3*len(faces))
	fill := append([]int32(nil), start[:n]...)
	for i, f := range faces {
		for k, v := range f {
			inc[fill[v]] = int32(3*i + k)
			fill[v]++
		}
	}

	// One output vertex per group of corners with the same smoothed normal;
	// the first group of vertex v keeps index v.
	md.pos = make([]vec3, n, n+n/8)
	md.vnrm = make([]vec3, n, n+n/8)
	for v, p := range m.Vertices {
		if ok[v] {
			md.pos[v] = toVec3(r3.Sub(p, md.origin))
		}
	}
	md.faces = faces // remapped in place
	var groups []geom.Vec
	var ids []int32
	for v := range n {
		corners := inc[start[v]:start[v+1]]
		if len(corners) == 0 {
			continue
		}
		var sum geom.Vec
		for _, c := range corners {
			sum = r3.Add(sum, cross[c/3])
		}
		mean := unit(sum)
		// If every face is within half the crease angle of the mean,
		// every two are within the crease angle of each other (angles
		// obey the triangle inequality on the sphere): one group, in
		// O(degree). This is the usual case on a smooth surface.
		smooth := len(corners) > maxCreaseDegree
		if !smooth {
			smooth = true
			for _, c := range corners {
				if nf := md.fnrm[c/3]; nf != (vec3{}) && dot(nf, mean) < float32(halfCreaseCos) {
					smooth = false
					break
				}
			}
		}
		if smooth {
			md.vnrm[v] = mean
			continue
		}
		groups, ids = groups[:0], ids[:0]
		for _, c := range corners {
			nf := md.fnrm[c/3]
			if nf == (vec3{}) {
				continue // a face without area keeps v, the first group
			}
			var s geom.Vec
			for _, d := range corners {
				if dot(nf, md.fnrm[d/3]) >= float32(creaseCos) {
					s = r3.Add(s, cross[d/3])
				}
			}
			s = r3.Scale(1/norm(s), s)
			id := int32(-1)
			for j, g := range groups {
				if r3.Dot(s, g) >= 1-1e-6 {
					id = ids[j]
					break
				}
			}
			if id < 0 {
				if len(groups) == 0 {
					id = int32(v)
					md.vnrm[v] = toVec3(s)
				} else {
					id = int32(len(md.pos))
					md.pos = append(md.pos, md.pos[v])
					md.vnrm = append(md.vnrm, toVec3(s))
				}
				groups = append(groups, s)
				ids = append(ids, id)
			}
			faces[c/3][c%3] = id
		}
	}
	return md
}

// setColors gives face i of md the colour colors[src[i]], drawn opaque;
// faces with src[i] past the end of colors keep the default grey. When
// there are more than maxColors distinct colours, they are rounded to
// fewer bits per channel, one bit at a time, until there are not (at 3
// bits at most 512 remain).
func (md *model) setColors(colors []color.NRGBA, src []int32) {
	md.fshade = make([]uint16, len(src))
	for bits := 8; ; bits-- {
		if palette, ok := md.mapColors(colors, src, bits); ok {
			for _, c := range palette {
				md.shades = append(md.shades, newShadeTable(c))
			}
			return
		}
	}
}

// mapColors sets md.fshade for colors rounded to bits bits per channel,
// and returns the distinct colours in the order of first use (shade
// tables 1, 2, …), or false when there are more than maxColors.
func (md *model) mapColors(colors []color.NRGBA, src []int32, bits int) ([]color.NRGBA, bool) {
	mask := uint8(0xff << (8 - bits))
	half := ^mask >> 1 // the middle of the values a rounded one stands for
	index := map[color.NRGBA]uint16{}
	var palette []color.NRGBA
	var last color.NRGBA
	lastID := uint16(0)
	for i, s := range src {
		if int(s) >= len(colors) {
			md.fshade[i] = 0
			continue
		}
		c := colors[s]
		c = color.NRGBA{R: c.R&mask | half, G: c.G&mask | half, B: c.B&mask | half, A: 255}
		if lastID == 0 || c != last { // faces mostly come in runs of a colour
			id, ok := index[c]
			if !ok {
				if len(palette) == maxColors {
					return nil, false
				}
				palette = append(palette, c)
				id = uint16(len(palette))
				index[c] = id
			}
			last, lastID = c, id
		}
		md.fshade[i] = lastID
	}
	return palette, true
}

// cloud is a point cloud made ready to draw: finite points only, about the
// centre of their bounds, with packed colours.
type cloud struct {
	origin geom.Vec
	bounds geom.Box
	pos    []vec3
	col    []uint32 // packed as in pack
}

// defaultPointColor is the colour of points without one: a calm blue that
// stands out from the grey model on both backgrounds.
var defaultPointColor = color.NRGBA{R: 70, G: 130, B: 200, A: 255}

// newCloud prepares pc, leaving out points with a NaN or infinite
// coordinate. Colours with alpha below 255 are drawn opaque.
func newCloud(pc *geom.PointCloud) *cloud {
	cl := &cloud{bounds: geom.EmptyBox()}
	if pc == nil {
		return cl
	}
	for _, p := range pc.Points {
		if finite(p.X) && finite(p.Y) && finite(p.Z) {
			cl.bounds = cl.bounds.Extend(p)
		}
	}
	cl.origin = cl.bounds.Center()
	hasColor := len(pc.Colors) == len(pc.Points)
	def := pack(defaultPointColor.R, defaultPointColor.G, defaultPointColor.B)
	for i, p := range pc.Points {
		if !(finite(p.X) && finite(p.Y) && finite(p.Z)) {
			continue
		}
		cl.pos = append(cl.pos, toVec3(r3.Sub(p, cl.origin)))
		c := def
		if hasColor {
			k := pc.Colors[i]
			c = pack(k.R, k.G, k.B)
		}
		cl.col = append(cl.col, c)
	}
	return cl
}

// norm returns the length of v. Unlike r3.Norm it does not guard against
// overflow (a vector longer than about 1e154 comes out infinite, which
// callers treat as having no direction), and it is several times faster.
func norm(v geom.Vec) float64 { return math.Sqrt(v.X*v.X + v.Y*v.Y + v.Z*v.Z) }

func toVec3(v geom.Vec) vec3 { return vec3{float32(v.X), float32(v.Y), float32(v.Z)} }

func dot(a, b vec3) float32 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

// unit returns v scaled to unit length, or zero when v has no finite
// direction.
func unit(v geom.Vec) vec3 {
	l := norm(v)
	if !(l > 0) || !finite(l) {
		return vec3{}
	}
	return toVec3(r3.Scale(1/l, v))
}

// pack packs an opaque colour as the four bytes R, G, B, A of an
// image.RGBA pixel, read as a little-endian uint32.
func pack(r, g, b uint8) uint32 {
	return uint32(r) | uint32(g)<<8 | uint32(b)<<16 | 0xff<<24
}
