// Package mesh repairs, scales and exports meshes for printing, and holds
// the STL, PLY and 3MF codecs.
//
// The readers take outside data: they return a *FormatError for input that
// is not a valid file of their format, never panic, and allocate in
// proportion to the bytes actually read, not to counts claimed by a header.
// Non-finite coordinates (NaN, ±Inf) are rejected on read (COLMAP and other
// tools write finite values, and a NaN vertex poisons every later stage) and
// on write.
package mesh
