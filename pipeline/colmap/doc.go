// Package colmap is the only code in Replica that runs COLMAP or reads what
// it writes: no other package execs the colmap binary or parses its files.
//
// Find and Run run the binary and turn its failures into errors with a hint;
// ParseProgress reads progress from its log.
//
// ReadModel reads a binary sparse model, the sparse/N folder written by
// colmap mapper (cameras.bin, images.bin, points3D.bin), in the layout
// documented at https://colmap.github.io/format.html. COLMAP 3.12 and later
// also write rigs.bin and frames.bin there; their cameras and images files
// keep the older layout, and ReadModel ignores the rig and frame files.
//
// The model files come from a child process that may have crashed or filled
// the disk, so the reader treats them as outside data: it returns a
// *FormatError naming the file for a truncated or inconsistent file, never
// panics, and allocates in proportion to the file's size, never to a count
// claimed inside it.
package colmap
