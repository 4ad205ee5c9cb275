package holes

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/spatial/r3"

	"github.com/replica3d/replica/pipeline/geom"
)

// blobs returns the 8-connected regions of checked cells the photos do
// not agree on (they differ, or are unknown or plain: deep in a hole the
// walls are dark and even) that hold cells that differ, in scan order, as
// cell indices.
func blobs(state []uint8, w, h int) [][]int32 {
	seen := make([]bool, len(state))
	var out [][]int32
	var stack []int32
	open := func(k int) bool { return state[k] == differs || state[k] == unknown || state[k] == plain }
	for s := range state {
		if state[s] != differs || seen[s] {
			continue
		}
		var b []int32
		seen[s] = true
		stack = append(stack[:0], int32(s))
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			b = append(b, c)
			i, j := int(c)%w, int(c)/w
			for dj := -1; dj <= 1; dj++ {
				for di := -1; di <= 1; di++ {
					x, y := i+di, j+dj
					if x < 0 || y < 0 || x >= w || y >= h {
						continue
					}
					if k := y*w + x; open(k) && !seen[k] {
						seen[k] = true
						stack = append(stack, int32(k))
					}
				}
			}
		}
		out = append(out, b)
	}
	return out
}

// outline is a hole's opening, star-shaped about its centre: radius r[k]
// at angle 2πk/len(r), all in a face's cell units.
type outline struct {
	ci, cj float64
	r      []float64
}

// radius returns the outline's radius at angle a, interpolated.
func (o *outline) radius(a float64) float64 {
	k := len(o.r)
	x := math.Mod(a/(2*math.Pi)*float64(k), float64(k))
	if x < 0 {
		x += float64(k)
	}
	i := int(x)
	f := x - float64(i)
	return o.r[i%k]*(1-f) + o.r[(i+1)%k]*f
}

// inside reports whether cell position (i, j) is inside the outline by at
// least margin cells.
func (o *outline) inside(i, j, margin float64) bool {
	di, dj := i-o.ci, j-o.cj
	return math.Hypot(di, dj) <= o.radius(math.Atan2(dj, di))-margin
}

// point returns the outline's k-th corner in cell units.
func (o *outline) point(k int) (float64, float64) {
	a := 2 * math.Pi * float64(k) / float64(len(o.r))
	return o.ci + o.r[k]*math.Cos(a), o.cj + o.r[k]*math.Sin(a)
}

// recentre moves the outline's centre to its centroid, keeping its
// corners where they are as far as its star shape allows.
func (o *outline) recentre() {
	n := len(o.r)
	var a, cx, cy float64
	for k := range n {
		x0, y0 := o.point(k)
		x1, y1 := o.point((k + 1) % n)
		c := x0*y1 - x1*y0
		a += c
		cx += (x0 + x1) * c
		cy += (y0 + y1) * c
	}
	if math.Abs(a) < 1e-12 {
		return
	}
	cx /= 3 * a
	cy /= 3 * a
	old := *o
	old.r = append([]float64(nil), o.r...)
	o.ci, o.cj = cx, cy
	for k := range n {
		t := 2 * math.Pi * float64(k) / float64(n)
		// The old outline's point in direction t from the new centre.
		dx, dy := math.Cos(t), math.Sin(t)
		lo, hi := 0.0, 0.0
		for _, r := range old.r {
			hi = math.Max(hi, r)
		}
		hi = 2*hi + math.Hypot(cx-old.ci, cy-old.cj)
		for range 40 {
			mid := (lo + hi) / 2
			if old.inside(cx+mid*dx, cy+mid*dy, 0) {
				lo = mid
			} else {
				hi = mid
			}
		}
		o.r[k] = lo
	}
}

// area returns the outline's area in square cells.
func (o *outline) area() float64 {
	var s float64
	n := len(o.r)
	for k := range n {
		x0, y0 := o.point(k)
		x1, y1 := o.point((k + 1) % n)
		s += x0*y1 - x1*y0
	}
	return math.Abs(s) / 2
}

// traceOutline returns the outline of blob b (filled) of a w×h grid about
// its centroid, grown by grow cells, with about one corner per edge
// length (in cells) of the mesh.
func traceOutline(filled []bool, w, h int, grow, edge float64) *outline {
	var ci, cj float64
	n := 0
	for k, in := range filled {
		if in {
			ci += float64(k % w)
			cj += float64(k / w)
			n++
		}
	}
	ci /= float64(n)
	cj /= float64(n)
	req := math.Sqrt(float64(n) / math.Pi)
	corners := int(math.Round(2 * math.Pi * (req + grow) / math.Max(edge, 1e-9)))
	corners = min(1024, max(24, corners))
	o := &outline{ci: ci, cj: cj, r: make([]float64, corners)}
	in := func(x, y float64) bool {
		i, j := int(math.Round(x)), int(math.Round(y))
		return i >= 0 && j >= 0 && i < w && j < h && filled[j*w+i]
	}
	limit := float64(w + h)
	for k := range o.r {
		a := 2 * math.Pi * float64(k) / float64(corners)
		ca, sa := math.Cos(a), math.Sin(a)
		last := 0.0
		for rho := 0.25; rho < limit; rho += 0.25 {
			if in(ci+rho*ca, cj+rho*sa) {
				last = rho
			} else if rho > last+1.5 {
				break // past the blob: a gap of more than a cell
			}
		}
		o.r[k] = last + 0.5
	}
	// One pass of a 3-tap mean smooths the cells' steps.
	sm := make([]float64, corners)
	for k := range sm {
		sm[k] = (o.r[(k+corners-1)%corners] + 2*o.r[k] + o.r[(k+1)%corners]) / 4
	}
	for k := range sm {
		o.r[k] = sm[k] + grow
	}
	return o
}

// fillBlob returns blob b as a mask of the w×h grid with the cells it
// encloses filled in.
func fillBlob(b []int32, w, h int) []bool {
	in := make([]bool, w*h)
	for _, c := range b {
		in[c] = true
	}
	return fillMask(in, w, h)
}

// fillMask returns mask with the cells it encloses set.
func fillMask(in []bool, w, h int) []bool {
	// Flood the outside from the border; what it cannot reach is inside.
	out := make([]bool, w*h)
	var stack []int32
	push := func(i, j int) {
		if i < 0 || j < 0 || i >= w || j >= h {
			return
		}
		if k := j*w + i; !in[k] && !out[k] {
			out[k] = true
			stack = append(stack, int32(k))
		}
	}
	for i := range w {
		push(i, 0)
		push(i, h-1)
	}
	for j := range h {
		push(0, j)
		push(w-1, j)
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i, j := int(c)%w, int(c)/w
		push(i+1, j)
		push(i-1, j)
		push(i, j+1)
		push(i, j-1)
	}
	filled := make([]bool, len(in))
	for k := range in {
		filled[k] = !out[k]
	}
	return filled
}

// hit is where a ray meets a face: at distance t, face f.
type hit struct {
	t float64
	f int32
}

// rayHits returns where the ray from o along unit direction d meets the
// faces of m not in skip, nearest first.
func rayHits(m *geom.Mesh, o, d r3.Vec, skip map[int32]bool) []hit {
	var hits []hit
	for f, t := range m.Faces {
		if skip[int32(f)] {
			continue
		}
		a, b, c := m.Vertices[t[0]], m.Vertices[t[1]], m.Vertices[t[2]]
		e1, e2 := r3.Sub(b, a), r3.Sub(c, a)
		p := r3.Cross(d, e2)
		det := r3.Dot(e1, p)
		if math.Abs(det) < 1e-18 {
			continue
		}
		s := r3.Sub(o, a)
		u := r3.Dot(s, p) / det
		if u < 0 || u > 1 {
			continue
		}
		q := r3.Cross(s, e1)
		v := r3.Dot(d, q) / det
		if v < 0 || u+v > 1 {
			continue
		}
		if t := r3.Dot(e2, q) / det; t > 1e-9 {
			hits = append(hits, hit{t, int32(f)})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return cmp.Compare(a.t, b.t) })
	return hits
}

// refine moves each corner of outline ol, traced from the blob of
// disagreeing patches and so inside the true opening by up to a patch,
// onto the rim: the outermost point where the photos' grey values at a
// single point of the face still spread nearly as they do across the cap. A point
// of the face looks the same in every photo; a point of the cap shows each
// a different part of the walls. It returns how many corners it moved.
func (r *region) refine(ol *outline, cams []*camera, slack float64) int {
	const stepRho = 0.5
	n := len(ol.r)
	moved := 0
	out := make([]float64, n)
	gs := make([]float64, 0, len(cams))
	spread := func(p r3.Vec) (float64, bool) {
		gs = gs[:0]
		for _, c := range cams {
			d := r3.Sub(c.centre, p)
			if r3.Dot(d, r.n) < minCos*r3.Norm(d) || !c.visible(p, slack) {
				continue
			}
			u, w, _ := c.project(p)
			if g, ok := c.sample(u, w); ok {
				gs = append(gs, g)
			}
		}
		if len(gs) < 3 {
			return 0, false
		}
		_, sd := stats(gs)
		return sd, true
	}
	var prof, rhos, in, outside []float64
	for k := range n {
		out[k] = ol.r[k] + half // the blob grown by half a patch, failing better
		a := 2 * math.Pi * float64(k) / float64(n)
		ca, sa := math.Cos(a), math.Sin(a)
		r0 := ol.r[k]
		prof, rhos = prof[:0], rhos[:0]
		ok := true
		for rho := r0 / 2; rho <= r0+4*half; rho += stepRho {
			sd, seen := spread(r.at(ol.ci+rho*ca, ol.cj+rho*sa))
			if !seen {
				ok = false
				break
			}
			prof = append(prof, sd)
			rhos = append(rhos, rho)
		}
		if !ok || len(prof) < 8 {
			continue
		}
		in, outside = in[:0], outside[:0]
		for i, rho := range rhos {
			switch {
			case rho <= r0:
				in = append(in, prof[i])
			case rho >= r0+2*half:
				outside = append(outside, prof[i])
			}
		}
		if len(in) < 2 || len(outside) < 2 {
			continue
		}
		li, lo := median(in), median(outside)
		if li < 2*lo+2.0/255 {
			continue // no clear step from cap to face
		}
		// The rim is where the spread has fallen 65 % of the way from the
		// cap's to the face's: blur and JPEG carry the cap's spread a
		// little way onto the face, so half way lies about 0.1 mm inside
		// (Ø7.8 for 8 on renders; Ø7.96–8.05 with this).
		cut := lo + rimLevel*(li-lo)
		for i := len(prof) - 1; i >= 0; i-- {
			if prof[i] >= cut {
				out[k] = rhos[i] + stepRho/2
				moved++
				break
			}
		}
	}
	// A 5-corner median, then a 3-tap mean, against single bad profiles.
	sm := make([]float64, n)
	w := make([]float64, 5)
	for k := range n {
		for i := range w {
			w[i] = out[(k+i-2+n)%n]
		}
		sm[k] = median(w)
	}
	for k := range n {
		ol.r[k] = (sm[(k+n-1)%n] + 2*sm[k] + sm[(k+1)%n]) / 4
	}
	return moved
}
