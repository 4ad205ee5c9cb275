package synth

import "math"

// Procedural texture: value noise (Perlin's lattice noise with random values
// instead of gradients; Ebert et al., "Texturing and Modeling", 3rd ed., ch. 2)
// summed over octaves, each faded out as its wavelength approaches the
// pixel footprint so the photos carry detail down to about three pixels
// without aliasing (the "clamping" antialiasing of the same book, §2.4).

// hash3 maps a lattice point to [0, 1) (integer mixing after Thomas Wang's
// and MurmurHash3's finalisers).
func hash3(x, y, z int32, seed uint32) float64 {
	h := uint32(x)*0x8da6b343 ^ uint32(y)*0xd8163841 ^ uint32(z)*0xcb1ab31f ^ seed*0x9e3779b9
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return float64(h) * (1.0 / 4294967296.0)
}

// fade is the quintic interpolant 6t⁵ − 15t⁴ + 10t³ (Perlin, "Improving
// noise", SIGGRAPH 2002), whose first and second derivatives vanish at 0 and 1.
func fade(t float64) float64 { return t * t * t * (t*(t*6-15) + 10) }

func lerp(a, b, t float64) float64 { return a + (b-a)*t }

// noise3 is 3D value noise in [0, 1).
func noise3(x, y, z float64, seed uint32) float64 {
	fx, fy, fz := math.Floor(x), math.Floor(y), math.Floor(z)
	ix, iy, iz := int32(fx), int32(fy), int32(fz)
	u, v, w := fade(x-fx), fade(y-fy), fade(z-fz)
	c000 := hash3(ix, iy, iz, seed)
	c100 := hash3(ix+1, iy, iz, seed)
	c010 := hash3(ix, iy+1, iz, seed)
	c110 := hash3(ix+1, iy+1, iz, seed)
	c001 := hash3(ix, iy, iz+1, seed)
	c101 := hash3(ix+1, iy, iz+1, seed)
	c011 := hash3(ix, iy+1, iz+1, seed)
	c111 := hash3(ix+1, iy+1, iz+1, seed)
	return lerp(lerp(lerp(c000, c100, u), lerp(c010, c110, u), v),
		lerp(lerp(c001, c101, u), lerp(c011, c111, u), v), w)
}

// noise2 is 2D value noise in [0, 1).
func noise2(x, y float64, seed uint32) float64 {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int32(fx), int32(fy)
	u, v := fade(x-fx), fade(y-fy)
	return lerp(lerp(hash3(ix, iy, 0, seed), hash3(ix+1, iy, 0, seed), u),
		lerp(hash3(ix, iy+1, 0, seed), hash3(ix+1, iy+1, 0, seed), u), v)
}

// octave is one band of a texture: its wavelength in mm and amplitude.
type octave struct{ wavelength, amp float64 }

// bandWeight fades an octave out as its wavelength falls from four to two
// footprints (footprint = the size of one pixel on the surface, in mm).
func bandWeight(wavelength, footprint float64) float64 {
	r := wavelength / footprint
	switch {
	case r >= 4:
		return 1
	case r <= 2:
		return 0
	}
	return (r - 2) / 2
}

// fbm3 sums band-limited octaves of 3D noise at p (mm), centred on 0:
// the result is roughly in [−0.5, 0.5]·Σamp.
func fbm3(p vec, oct []octave, footprint float64, seed uint32) float64 {
	s := 0.0
	for i, o := range oct {
		w := bandWeight(o.wavelength, footprint)
		if w == 0 {
			continue
		}
		f := 1 / o.wavelength
		s += w * o.amp * (noise3(p.X*f, p.Y*f, p.Z*f, seed+uint32(i)) - 0.5)
	}
	return s
}

// fbm2 is fbm3 on the plane.
func fbm2(x, y float64, oct []octave, footprint float64, seed uint32) float64 {
	s := 0.0
	for i, o := range oct {
		w := bandWeight(o.wavelength, footprint)
		if w == 0 {
			continue
		}
		f := 1 / o.wavelength
		s += w * o.amp * (noise2(x*f, y*f, seed+uint32(i)) - 0.5)
	}
	return s
}
