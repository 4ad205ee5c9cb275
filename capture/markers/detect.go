package markers

import (
	"image"
	"math"
	"slices"
)

// A Detection is one marker found in a photo.
type Detection struct {
	ID int
	// Corners are the marker's four outer black-square corners in pixels,
	// in the order of [Marker.Corners] (top-left, top-right, bottom-right,
	// bottom-left of the printed marker: the rotation is already applied),
	// with COLMAP's convention: (0, 0) is the top-left corner of the
	// top-left pixel, so the centre of pixel (i, j) is (i+0.5, j+0.5).
	// Coordinates are those of the image's own bounds: a detection in a
	// sub-image has the coordinates it has in the whole photo.
	Corners [4][2]float64
	// Corrected is the number of data cells [Decode] corrected, 0 or 1.
	Corrected int
}

// Detector parameters. Sizes are in pixels, grey levels out of 255.
const (
	// threshDiv sets the adaptive threshold's window: a side of about
	// 1/threshDiv of the image's long side, so that a marker's black border
	// (a sixth of the marker) and the white quiet zone beside it share a
	// window in photos where a marker is 20 px to a few hundred pixels
	// across.
	threshDiv = 40
	// threshOffset is how much darker than its window's mean a pixel must be
	// to count as dark: above the sensor noise of flat paper, so that white
	// paper does not break into speckle.
	threshOffset = 7
	// minSide is the shortest side of a quadrilateral worth decoding: a cell
	// is then 1.7 px, about the least that 4×4 samples per cell still read.
	minSide = 10
	// borderGap is how far inside the image a corner must lie: the edge
	// fit looks up to one cell outside the marker.
	borderGap = 2
	// minContrast is the least difference between the quiet zone's and the
	// black border's mean levels: pipeline/synth's photos give about 180,
	// and 120 underexposed to 0.4; faint texture gives less.
	minContrast = 20
	// quietLevel is the least level of a quiet-zone cell, as a fraction of
	// the way from the black level to the white one, and quietSlack the
	// number of the 28 quiet cells that may be darker: the tip of a nearby
	// object or a shadow's edge. Blur darkens the quiet cells beside the
	// border, hence a level well under white.
	quietLevel = 0.6
	quietSlack = 2
	// unsureBand is the distance from the half-way level, as a fraction of
	// the contrast, within which a data cell is unsure. One unsure cell is
	// allowed, since Decode corrects one; more mean a blurred or
	// misregistered grid, whose decode would be a guess.
	unsureBand = 0.2
	// profileHalf is the half-length, in cells, of the intensity profiles
	// across an edge: long enough for a blurred edge, short enough to stay
	// on the one-cell black border inside and the one-cell quiet zone
	// outside.
	profileHalf = 0.75
	// edgeSkip is the fraction of a side near each corner where no edge
	// profile is taken: there the other side's edge blurs into the profile.
	edgeSkip = 0.15
)

// sheetIDs marks the IDs that appear on a sheet of any paper: the
// dictionary holds more codes than a sheet prints, and a decode of one of
// the others is a false detection.
var sheetIDs = func() (ok [DictionarySize]bool) {
	for _, p := range []Paper{A4, Letter} {
		for _, m := range Layout(p).Markers {
			ok[m.ID] = true
		}
	}
	return ok
}()

// srgbLinear maps an 8-bit sRGB grey level to linear light in [0, 1]
// (IEC 61966-2-1). Edges are located in linear light: a pixel astride an
// edge averages the light of both sides, so the edge lies where the linear
// intensity is half-way between black and white. Half-way in gamma-encoded
// levels is a darker point, some tenths of a pixel into the black: on
// pipeline/synth's photos the corners then come out 0.19 px off (median)
// instead of 0.02 px.
var srgbLinear = func() (t [256]float32) {
	for i := range t {
		c := float64(i) / 255
		if c <= 0.04045 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		t[i] = float32(c)
	}
	return t
}()

// Detect finds the sheet's markers in img and returns them sorted by ID,
// each ID at most once. It returns nil when it finds none.
//
// The method is ArUco's (Garrido-Jurado et al., "Automatic generation and
// detection of highly reliable fiducial markers under occlusion", Pattern
// Recognition 47(6), 2014, section 3): an adaptive threshold, the outer
// contours of dark regions (Suzuki and Abe, "Topological structural analysis
// of digitized binary images by border following", CVGIP 30(1), 1985),
// polygons of four convex corners (Douglas and Peucker, Canadian
// Cartographer 10(2), 1973), the 6×6 grid read through the homography of the
// quadrilateral, a black border and white quiet zone required, and [Decode].
// Only IDs printed on an A4 or Letter sheet are accepted. The corners are
// then refined to a small fraction of a pixel: each side's edge is located
// in linear light along many short profiles across it, a straight line is
// fitted to those points, and adjacent lines are intersected; this is done
// twice, the second time through the refined homography.
//
// Detect reads the luma plane of an *image.YCbCr (a decoded JPEG) and the
// pixels of *image.Gray directly and converts *image.RGBA and *image.NRGBA
// row by row; other image types go through At, which is slower. Beyond img
// it allocates about one byte per pixel (two for the converted types).
func Detect(img image.Image) []Detection {
	g := greyOf(img)
	if g.w < minSide+2*borderGap || g.h < minSide+2*borderGap {
		return nil
	}
	d := &detector{g: g}
	d.binarize(max(2, max(g.w, g.h)/(2*threshDiv)))
	d.findQuads()
	return d.finish()
}

// grey is an 8-bit grey view of an image: pixel (x, y) of the image's bounds
// is pix[(y-min.Y)*stride + x-min.X].
type grey struct {
	pix    []uint8
	stride int
	w, h   int
	min    image.Point
}

// lumaOf4 fills g.pix from 4-byte R, G, B, A pixels (RGBA or NRGBA: the
// colour bytes are read as they are) starting at pix, rows stride apart.
func (g *grey) lumaOf4(pix []uint8, stride int, luma func(r, gr, bl uint32) uint8) {
	for y := range g.h {
		row := pix[y*stride:]
		out := g.pix[y*g.w : (y+1)*g.w]
		for x := range out {
			p := row[4*x : 4*x+3 : 4*x+3]
			out[x] = luma(uint32(p[0]), uint32(p[1]), uint32(p[2]))
		}
	}
}

// greyOf returns the luma of img, without copying where img already holds
// it.
func greyOf(img image.Image) *grey {
	b := img.Bounds()
	g := &grey{w: b.Dx(), h: b.Dy(), min: b.Min}
	if b.Empty() {
		g.w, g.h = 0, 0
		return g
	}
	switch m := img.(type) {
	case *image.YCbCr:
		g.pix, g.stride = m.Y[m.YOffset(b.Min.X, b.Min.Y):], m.YStride
		return g
	case *image.Gray:
		g.pix, g.stride = m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride
		return g
	}
	g.pix, g.stride = make([]uint8, g.w*g.h), g.w
	// luma is ITU-R BT.601's, as image/color and JPEG use, on 8-bit values.
	luma := func(r, gr, bl uint32) uint8 { return uint8((19595*r + 38470*gr + 7471*bl + 1<<15) >> 16) }
	switch m := img.(type) {
	case *image.RGBA:
		g.lumaOf4(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, luma)
	case *image.NRGBA:
		g.lumaOf4(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, luma)
	default:
		for y := range g.h {
			out := g.pix[y*g.w : (y+1)*g.w]
			for x := range out {
				r, gr, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out[x] = luma(r>>8, gr>>8, bl>>8)
			}
		}
	}
	return g
}

// at returns the bilinearly interpolated grey level at (x, y), in
// coordinates relative to the view's corner with pixel centres at
// half-integers; points outside take the nearest pixel.
func (g *grey) at(x, y float64) float64 {
	i, fx, fy := g.cell(x, y)
	p := g.pix
	a, b := float64(p[i[0]]), float64(p[i[1]])
	c, d := float64(p[i[2]]), float64(p[i[3]])
	return (a+(b-a)*fx)*(1-fy) + (c+(d-c)*fx)*fy
}

// linear is at in linear light (0 to 1).
func (g *grey) linear(x, y float64) float64 {
	i, fx, fy := g.cell(x, y)
	p := g.pix
	a, b := float64(srgbLinear[p[i[0]]]), float64(srgbLinear[p[i[1]]])
	c, d := float64(srgbLinear[p[i[2]]]), float64(srgbLinear[p[i[3]]])
	return (a+(b-a)*fx)*(1-fy) + (c+(d-c)*fx)*fy
}

// cell returns the indices of the four pixels around (x, y), top-left,
// top-right, bottom-left, bottom-right, and the interpolation weights.
func (g *grey) cell(x, y float64) (i [4]int, fx, fy float64) {
	x, y = x-0.5, y-0.5
	// The negated comparisons also catch NaN.
	if !(x > 0) {
		x = 0
	} else if x > float64(g.w-1) {
		x = float64(g.w - 1)
	}
	if !(y > 0) {
		y = 0
	} else if y > float64(g.h-1) {
		y = float64(g.h - 1)
	}
	x0, y0 := int(x), int(y)
	fx, fy = x-float64(x0), y-float64(y0)
	x1, y1 := min(x0+1, g.w-1), min(y0+1, g.h-1)
	r0, r1 := y0*g.stride, y1*g.stride
	return [4]int{r0 + x0, r0 + x1, r1 + x0, r1 + x1}, fx, fy
}

// detector holds one Detect call's working state.
type detector struct {
	g *grey
	// bin is the thresholded image with a one-pixel frame of zeros, bw
	// wide: 0 is light; 1 is dark; 2 and 3 are dark pixels already on a
	// traced border (3: with a light pixel to their right), as Suzuki and
	// Abe mark them.
	bin    []uint8
	bw     int
	off    [8]int // index offsets of the 8 neighbours, clockwise from the right
	trace  []int
	pts    [][2]float64
	keep   []bool
	found  []found
	prof   []float64
	edge   [][2]float64
	spans  []span
	cellMu [8][8]float64
}

// span is an edge profile's segment in the image, from (ax, ay) inside the
// marker to (bx, by) outside.
type span struct{ ax, ay, bx, by float64 }

// found is a decoded marker with its quality, used to keep the best of
// duplicates.
type found struct {
	Detection
	margin float64 // the least distance of a data cell's mean from the threshold, as a fraction of the contrast
}

// binarize thresholds g against the mean of the (2r+1)² window around each
// pixel (clipped to the image), marking pixels darker than the mean by more
// than threshOffset: the adaptive threshold of ArUco (Garrido-Jurado et
// al. 2014, section 3.1), which copes with light that varies over the sheet.
// The window sums slide down the rows: besides the mask, a byte a pixel,
// they take two rows of sums where an integral image would take eight bytes
// a pixel.
func (d *detector) binarize(r int) {
	g := d.g
	w, h := g.w, g.h
	d.bw = w + 2
	d.bin = make([]uint8, d.bw*(h+2))
	col := make([]int64, w)   // column sums over the window's rows
	pre := make([]int64, w+1) // prefix sums of col
	addRow := func(y int, sign int64) {
		row := g.pix[y*g.stride : y*g.stride+w]
		for x, v := range row {
			col[x] += sign * int64(v)
		}
	}
	for y := 0; y < min(r, h); y++ {
		addRow(y, 1)
	}
	for y := range h {
		if y+r < h {
			addRow(y+r, 1)
		}
		if y-r-1 >= 0 {
			addRow(y-r-1, -1)
		}
		rows := int64(min(h, y+r+1) - max(0, y-r))
		for x, v := range col {
			pre[x+1] = pre[x] + v
		}
		row := g.pix[y*g.stride : y*g.stride+w]
		out := d.bin[(y+1)*d.bw+1 : (y+1)*d.bw+1+w]
		// Near the left and right edges the window is clipped.
		edge := func(x int) {
			x0, x1 := max(0, x-r), min(w, x+r+1)
			n := int64(x1-x0) * rows
			if (int64(row[x])+threshOffset)*n < pre[x1]-pre[x0] {
				out[x] = 1
			}
		}
		lo, hi := min(r, w), max(min(r, w), w-r)
		for x := 0; x < lo; x++ {
			edge(x)
		}
		n := int64(2*r+1) * rows
		for x := lo; x < hi; x++ {
			if (int64(row[x])+threshOffset)*n < pre[x+r+1]-pre[x-r] {
				out[x] = 1
			}
		}
		for x := hi; x < w; x++ {
			edge(x)
		}
	}
}

// findQuads follows every border of the dark regions (Suzuki and Abe 1985,
// algorithm 1, without the hierarchy: hole borders are followed only to
// mark their pixels) and tries the outer ones as markers.
func (d *detector) findQuads() {
	bw := d.bw
	d.off = [8]int{1, bw + 1, bw, bw - 1, -1, -bw - 1, -bw, -bw + 1}
	// An outer border longer than this cannot be a marker in the image.
	maxLen := 4 * (d.g.w + d.g.h)
	for y := 1; y <= d.g.h; y++ {
		row := y * bw
		for i := row + 1; i <= row+d.g.w; i++ {
			v := d.bin[i]
			switch {
			case v == 0:
			case v == 1 && d.bin[i-1] == 0:
				d.follow(i, 4, true, maxLen)
				if n := len(d.trace); n >= 4*minSide && n <= maxLen {
					d.tryContour()
				}
			case v <= 2 && d.bin[i+1] == 0:
				d.follow(i, 0, false, 0)
			}
		}
	}
}

// follow traces the border that starts at pixel s, whose light neighbour
// is in direction from, marking its pixels; when collect is true it
// records up to limit+1 pixels of it in d.trace.
func (d *detector) follow(s, from int, collect bool, limit int) {
	b, off := d.bin, &d.off
	d.trace = d.trace[:0]
	first := -1
	for k := range 8 { // clockwise from the light neighbour
		if dir := (from + k) & 7; b[s+off[dir]] != 0 {
			first = dir
			break
		}
	}
	if first < 0 { // a lone pixel
		b[s] = 3
		if collect {
			d.trace = append(d.trace, s)
		}
		return
	}
	p1 := s + off[first]
	p, prev := s, first // prev: the direction from p to the previous pixel
	for {
		dir, rightLight := prev, false
		for range 8 { // counter-clockwise from the previous pixel
			dir = (dir + 7) & 7
			if b[p+off[dir]] != 0 {
				break
			}
			if dir == 0 {
				rightLight = true
			}
		}
		if rightLight {
			b[p] = 3
		} else if b[p] == 1 {
			b[p] = 2
		}
		if collect && len(d.trace) <= limit {
			d.trace = append(d.trace, p)
		}
		next := p + off[dir]
		if next == s && p == p1 {
			return
		}
		p, prev = next, (dir+4)&7
	}
}

// tryContour approximates the traced outer border by a quadrilateral,
// refines and decodes it.
func (d *detector) tryContour() {
	d.pts = d.pts[:0]
	for _, i := range d.trace {
		x, y := i%d.bw-1, i/d.bw-1
		d.pts = append(d.pts, [2]float64{float64(x) + 0.5, float64(y) + 0.5})
	}
	q, ok := d.quad()
	if !ok || !d.plausible(q) {
		return
	}
	// Read the grid on the coarse corners first: most dark quadrilaterals of
	// a scene fail there, before the costlier refinement; read again on the
	// refined corners, which small, foreshortened markers need.
	if _, ok := d.read(q); !ok {
		return
	}
	r, ok := d.refine(q)
	if !ok {
		return
	}
	if f, ok := d.read(r); ok {
		d.found = append(d.found, f)
	}
}

// quad fits four corners to d.pts, clockwise as seen in the image.
func (d *detector) quad() ([4][2]float64, bool) {
	pts := d.pts
	n := len(pts)
	// The contour runs along pixel centres: its staircase departs from the
	// true outline by up to a pixel; the tolerance grows with the
	// perimeter to bridge corners rounded by blur and the threshold.
	eps := max(1.5, 0.02*float64(n))
	far, dmax := 0, -1.0
	for i, p := range pts {
		if dd := sq(p[0]-pts[0][0]) + sq(p[1]-pts[0][1]); dd > dmax {
			far, dmax = i, dd
		}
	}
	if far == 0 {
		return [4][2]float64{}, false
	}
	d.keep = slices.Grow(d.keep[:0], n+1)[:n+1]
	clear(d.keep)
	pts = append(pts, pts[0]) // close the loop; d.pts keeps its capacity
	d.pts = pts[:n]
	d.keep[0], d.keep[far], d.keep[n] = true, true, true
	if !douglasPeucker(pts, d.keep, 0, far, eps, 8) || !douglasPeucker(pts, d.keep, far, n, eps, 8) {
		return [4][2]float64{}, false
	}
	var poly []int // indices into pts of the vertices
	for i := range n {
		if d.keep[i] {
			poly = append(poly, i)
		}
	}
	// Drop the vertices that matter least (the smallest triangle with
	// their neighbours) until four remain: a corner that blur rounded into
	// two, or a start point in the middle of a side.
	for len(poly) > 4 {
		best, area := 0, math.Inf(1)
		for i := range poly {
			a := math.Abs(cross(pts[poly[(i+len(poly)-1)%len(poly)]], pts[poly[i]], pts[poly[(i+1)%len(poly)]]))
			if a < area {
				best, area = i, a
			}
		}
		poly = slices.Delete(poly, best, best+1)
	}
	if len(poly) != 4 {
		return [4][2]float64{}, false
	}
	// The vertices are contour pixels, which a blurred or acute corner
	// leaves short of the true corner by pixels; a line fitted to the
	// middle of each run of contour between two vertices, intersected with
	// its neighbours, puts the corners where the sides meet.
	var lines [4][3]float64
	for i := range 4 {
		a, b := poly[i], poly[(i+1)%4]
		if b < a {
			b += n
		}
		skip := (b - a) / 6
		d.edge = d.edge[:0]
		for k := a + skip; k <= b-skip; k++ {
			d.edge = append(d.edge, pts[k%n])
		}
		if len(d.edge) < 3 {
			return [4][2]float64{}, false
		}
		lines[i], _ = fitLine(d.edge)
	}
	var q [4][2]float64
	for i := range 4 {
		p, ok := intersect(lines[(i+3)%4], lines[i])
		if !ok {
			return q, false
		}
		q[i] = p
	}
	if signedArea(q) < 0 {
		q[1], q[3] = q[3], q[1]
	}
	// Convex, and every contour point near the quadrilateral's outline.
	short := math.Inf(1)
	for i := range 4 {
		if cross(q[i], q[(i+1)%4], q[(i+2)%4]) <= 0 {
			return q, false
		}
		short = min(short, dist(q[i], q[(i+1)%4]))
	}
	tol := max(2, 0.1*short)
	for _, p := range d.pts {
		best := math.Inf(1)
		for i := range 4 {
			best = min(best, segDist(p, q[i], q[(i+1)%4]))
		}
		if best > tol {
			return q, false
		}
	}
	return q, true
}

// douglasPeucker marks in keep the points of pts[i:j+1] that the
// Douglas–Peucker simplification at tolerance eps keeps, i and j excluded.
// It gives up, returning false, when more than limit are kept.
func douglasPeucker(pts [][2]float64, keep []bool, i, j int, eps float64, limit int) bool {
	if j-i < 2 {
		return true
	}
	a, b := pts[i], pts[j]
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	far, dmax := -1, eps
	for k := i + 1; k < j; k++ {
		var dd float64
		if l == 0 {
			dd = math.Hypot(pts[k][0]-a[0], pts[k][1]-a[1])
		} else {
			dd = math.Abs(dx*(pts[k][1]-a[1])-dy*(pts[k][0]-a[0])) / l
		}
		if dd > dmax {
			far, dmax = k, dd
		}
	}
	if far < 0 {
		return true
	}
	keep[far] = true
	kept := 0
	for _, k := range keep[i : j+1] {
		if k {
			kept++
		}
	}
	if kept > limit {
		return false
	}
	return douglasPeucker(pts, keep, i, far, eps, limit) && douglasPeucker(pts, keep, far, j, eps, limit)
}

// plausible reports whether q is big enough to read and far enough from the
// image's edges for the edge fit.
func (d *detector) plausible(q [4][2]float64) bool {
	for i := range 4 {
		// The negated comparisons also reject NaN.
		p := q[i]
		if !(dist(p, q[(i+1)%4]) >= minSide) {
			return false
		}
		if !(p[0] >= borderGap && p[1] >= borderGap && p[0] <= float64(d.g.w-borderGap) && p[1] <= float64(d.g.h-borderGap)) {
			return false
		}
	}
	return true
}

// homography maps marker cell coordinates (u, v), 0 to 6 from the first
// corner along the first side and along the last side, to image points:
// x = (h0 u + h1 v + h2)/(h6 u + h7 v + 1), y = (h3 u + h4 v + h5)/(…).
type homography [8]float64

// quadHomography returns the projective map of the square of cell
// coordinates onto q in closed form: Heckbert's square-to-quadrilateral
// mapping ("Fundamentals of texture mapping and image warping", master's
// thesis, UC Berkeley, 1989).
func quadHomography(q [4][2]float64) (homography, bool) {
	x0, y0, x1, y1 := q[0][0], q[0][1], q[1][0], q[1][1]
	x2, y2, x3, y3 := q[2][0], q[2][1], q[3][0], q[3][1]
	sx, sy := x0-x1+x2-x3, y0-y1+y2-y3
	dx1, dx2, dy1, dy2 := x1-x2, x3-x2, y1-y2, y3-y2
	det := dx1*dy2 - dx2*dy1
	if det == 0 || math.IsNaN(det) {
		return homography{}, false
	}
	g := (sx*dy2 - dx2*sy) / det
	h := (dx1*sy - sx*dy1) / det
	const s = 1.0 / GridCells
	return homography{
		(x1 - x0 + g*x1) * s, (x3 - x0 + h*x3) * s, x0,
		(y1 - y0 + g*y1) * s, (y3 - y0 + h*y3) * s, y0,
		g * s, h * s,
	}, true
}

func (h *homography) apply(u, v float64) (x, y float64) {
	w := h[6]*u + h[7]*v + 1
	return (h[0]*u + h[1]*v + h[2]) / w, (h[3]*u + h[4]*v + h[5]) / w
}

// cellSamples are the offsets, within a cell, of the 4×4 samples whose mean
// is the cell's level: the inner half of the cell, away from blurred edges.
var cellSamples = [4]float64{0.3125, 0.4375, 0.5625, 0.6875}

// read samples the 8×8 cells of the marker with corners q and its quiet
// zone, checks the border and the quiet zone and decodes the data cells.
func (d *detector) read(q [4][2]float64) (found, bool) {
	H, ok := quadHomography(q)
	if !ok {
		return found{}, false
	}
	g := d.g
	mu := &d.cellMu // mu[r+1][c+1] is cell (r, c) of the grid, −1 to 6
	for r := -1; r <= GridCells; r++ {
		for c := -1; c <= GridCells; c++ {
			var s float64
			for _, fy := range cellSamples {
				for _, fx := range cellSamples {
					x, y := H.apply(float64(c)+fx, float64(r)+fy)
					s += g.at(x, y)
				}
			}
			mu[r+1][c+1] = s / 16
		}
	}
	var black, white float64
	for r := range 8 {
		for c := range 8 {
			switch {
			case r == 0 || c == 0 || r == 7 || c == 7:
				white += mu[r][c]
			case r == 1 || c == 1 || r == 6 || c == 6:
				black += mu[r][c]
			}
		}
	}
	black /= 4 * (GridCells - 1)
	white /= 4 * (GridCells + 1)
	contrast := white - black
	if !(contrast >= minContrast) {
		return found{}, false
	}
	thr := (black + white) / 2
	// Every border cell must be black, the quiet zone white but for a few
	// cells. Most dark quadrilaterals of a scene that are not markers fail
	// here.
	dim := 0
	for r := range 8 {
		for c := range 8 {
			switch {
			case r == 0 || c == 0 || r == 7 || c == 7:
				if mu[r][c] < black+quietLevel*contrast {
					dim++
				}
			case r == 1 || c == 1 || r == 6 || c == 6:
				if mu[r][c] > thr {
					return found{}, false
				}
			}
		}
	}
	if dim > quietSlack {
		return found{}, false
	}
	var bits [4][4]bool
	margin := math.Inf(1)
	unsure := 0
	for r := range DataCells {
		for c := range DataCells {
			m := mu[r+2][c+2]
			bits[r][c] = m < thr
			dm := math.Abs(m-thr) / contrast
			margin = min(margin, dm)
			if dm < unsureBand {
				unsure++
			}
		}
	}
	if unsure > 1 {
		return found{}, false
	}
	id, k, ok := Decode(bits)
	if !ok || !sheetIDs[id] {
		return found{}, false
	}
	f := found{Detection: Detection{ID: id, Corrected: hammingGrid(bits, Rotate(Code(id), k))}, margin: margin}
	for i := range 4 {
		p := q[(i+k)%4]
		f.Corners[i] = [2]float64{p[0] + float64(g.min.X), p[1] + float64(g.min.Y)}
	}
	return f, true
}

func hammingGrid(a, b [4][4]bool) int {
	n := 0
	for r := range DataCells {
		for c := range DataCells {
			if a[r][c] != b[r][c] {
				n++
			}
		}
	}
	return n
}

// Corners of the grid in cell coordinates, and the outward normals of the
// sides from corner i to corner i+1.
var (
	gridCorner = [4][2]float64{{0, 0}, {GridCells, 0}, {GridCells, GridCells}, {0, GridCells}}
	sideNormal = [4][2]float64{{0, -1}, {1, 0}, {0, 1}, {-1, 0}}
)

// refine locates the marker's outline with sub-pixel precision, starting
// from the corners q, as the introduction of Detect describes.
func (d *detector) refine(q [4][2]float64) ([4][2]float64, bool) {
	start := q
	cell := math.Inf(1) // the shortest side's cell, in pixels
	for i := range 4 {
		cell = min(cell, dist(q[i], q[(i+1)%4])/GridCells)
	}
	for pass := range 2 {
		H, ok := quadHomography(q)
		if !ok {
			return q, false
		}
		var lines [4][3]float64
		for s := range 4 {
			// A printed side is straight: its points scatter by the noise,
			// a few hundredths of a pixel, and lens distortion bows a large
			// marker's side by a little more. A wider scatter is some
			// other outline.
			l, rms, ok := d.fitSide(&H, s, dist(q[s], q[(s+1)%4]))
			if !ok || rms > 0.25+0.1*cell {
				return q, false
			}
			lines[s] = l
		}
		var r [4][2]float64
		for i := range 4 {
			p, ok := intersect(lines[(i+3)%4], lines[i])
			if !ok {
				return q, false
			}
			r[i] = p
		}
		// The refined corners stay near the contour's: a jump means the
		// fit locked onto some other edge.
		tol := max(2.5, 0.5*cell)
		if pass == 1 {
			tol = max(1, 0.2*cell)
		}
		for i := range 4 {
			if !(dist(r[i], q[i]) <= tol) {
				return q, false
			}
		}
		q = r
	}
	if !d.plausible(q) {
		return start, false
	}
	return q, true
}

// fitSide fits a line n·p = c (|n| = 1) to the edge of side s of the
// marker under H, whose length in the image is about length pixels, and
// returns it with the residual RMS of the points kept.
func (d *detector) fitSide(H *homography, s int, length float64) (line [3]float64, rms float64, ok bool) {
	g := d.g
	n := min(64, max(6, int(0.7*length)))
	a, b, nrm := gridCorner[s], gridCorner[(s+1)%4], sideNormal[s]
	// Sample every profile first: the black and white levels come from all
	// of them together, which a single profile's ends give too noisily.
	d.spans = slices.Grow(d.spans[:0], n)[:n]
	spans := d.spans
	m := 0
	for j := range spans {
		t := edgeSkip + (1-2*edgeSkip)*(float64(j)+0.5)/float64(n)
		u, v := a[0]+t*(b[0]-a[0]), a[1]+t*(b[1]-a[1])
		ax, ay := H.apply(u-profileHalf*nrm[0], v-profileHalf*nrm[1])
		bx, by := H.apply(u+profileHalf*nrm[0], v+profileHalf*nrm[1])
		spans[j] = span{ax, ay, bx, by}
		m = max(m, int(math.Hypot(bx-ax, by-ay)/0.25)+1)
	}
	// m samples per profile, a quarter pixel apart on the longest.
	m = min(48, max(6, m))
	d.prof = slices.Grow(d.prof[:0], n*m)[:n*m]
	var dark, light float64
	q := max(1, m/4)
	for j, sp := range spans {
		p := d.prof[j*m : (j+1)*m]
		for k := range p {
			t := float64(k) / float64(m-1)
			p[k] = g.linear(sp.ax+t*(sp.bx-sp.ax), sp.ay+t*(sp.by-sp.ay))
		}
		for k := range q {
			dark += p[k]
			light += p[m-1-k]
		}
	}
	dark /= float64(n * q)
	light /= float64(n * q)
	// Ink and paper differ by about 0.8 in linear light in pipeline/synth's
	// photos, 0.3 underexposed to 0.4: under 0.05 there is no printed edge.
	if !(light-dark > 0.05) {
		return line, 0, false
	}
	half := (dark + light) / 2
	d.edge = d.edge[:0]
	centre := float64(m-1) / 2
	for j, sp := range spans {
		p := d.prof[j*m : (j+1)*m]
		best, pos := math.Inf(1), 0.0
		for k := 0; k+1 < m; k++ {
			if p[k] < half && p[k+1] >= half {
				x := float64(k) + (half-p[k])/(p[k+1]-p[k])
				if dd := math.Abs(x - centre); dd < best {
					best, pos = dd, x
				}
			}
		}
		if math.IsInf(best, 1) {
			continue
		}
		t := pos / float64(m-1)
		d.edge = append(d.edge, [2]float64{sp.ax + t*(sp.bx-sp.ax), sp.ay + t*(sp.by-sp.ay)})
	}
	if len(d.edge) < max(4, n/2) {
		return line, 0, false
	}
	line, rms = fitLine(d.edge)
	// One round of outlier rejection: a speck of dust or a JPEG block on
	// the edge moves single points by a pixel or more.
	cut := max(3*rms, 0.3)
	kept := d.edge[:0]
	for _, p := range d.edge {
		if math.Abs(line[0]*p[0]+line[1]*p[1]-line[2]) <= cut {
			kept = append(kept, p)
		}
	}
	if len(kept) < max(4, n/2) {
		return line, 0, false
	}
	line, rms = fitLine(kept)
	return line, rms, true
}

// fitLine fits n·p = c to pts by total least squares (the principal axis
// of their scatter) and returns the line and the residual RMS.
func fitLine(pts [][2]float64) (line [3]float64, rms float64) {
	var mx, my float64
	for _, p := range pts {
		mx += p[0]
		my += p[1]
	}
	k := float64(len(pts))
	mx, my = mx/k, my/k
	var sxx, sxy, syy float64
	for _, p := range pts {
		dx, dy := p[0]-mx, p[1]-my
		sxx += dx * dx
		sxy += dx * dy
		syy += dy * dy
	}
	th := 0.5 * math.Atan2(2*sxy, sxx-syy) // the direction of the line
	nx, ny := -math.Sin(th), math.Cos(th)
	c := nx*mx + ny*my
	var ss float64
	for _, p := range pts {
		ss += sq(nx*p[0] + ny*p[1] - c)
	}
	return [3]float64{nx, ny, c}, math.Sqrt(ss / k)
}

// intersect returns the point on both lines.
func intersect(a, b [3]float64) ([2]float64, bool) {
	det := a[0]*b[1] - a[1]*b[0]
	if math.Abs(det) < 1e-6 {
		return [2]float64{}, false
	}
	return [2]float64{(a[2]*b[1] - a[1]*b[2]) / det, (a[0]*b[2] - a[2]*b[0]) / det}, true
}

// finish keeps the best detection of each ID, ordered by ID.
func (d *detector) finish() []Detection {
	slices.SortFunc(d.found, func(a, b found) int {
		if a.ID != b.ID {
			return a.ID - b.ID
		}
		if a.Corrected != b.Corrected {
			return a.Corrected - b.Corrected
		}
		switch {
		case a.margin > b.margin:
			return -1
		case a.margin < b.margin:
			return 1
		}
		return 0
	})
	var out []Detection
	for i, f := range d.found {
		if i == 0 || f.ID != d.found[i-1].ID {
			out = append(out, f.Detection)
		}
	}
	return out
}

func sq(x float64) float64 { return x * x }

func dist(a, b [2]float64) float64 { return math.Hypot(b[0]-a[0], b[1]-a[1]) }

// cross is the z component of (b−a) × (c−b): positive when a, b, c turn
// clockwise as seen in an image (y down).
func cross(a, b, c [2]float64) float64 {
	return (b[0]-a[0])*(c[1]-b[1]) - (b[1]-a[1])*(c[0]-b[0])
}

// signedArea is twice the area of q, positive when q runs clockwise as seen
// in an image (y down).
func signedArea(q [4][2]float64) float64 {
	var s float64
	for i := range 4 {
		a, b := q[i], q[(i+1)%4]
		s += a[0]*b[1] - b[0]*a[1]
	}
	return s
}

// segDist is the distance from p to the segment ab.
func segDist(p, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = min(1, max(0, ((p[0]-a[0])*dx+(p[1]-a[1])*dy)/l2))
	}
	return math.Hypot(p[0]-a[0]-t*dx, p[1]-a[1]-t*dy)
}
