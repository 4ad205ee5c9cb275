// Package markers defines Replica's printable scale sheet: a dictionary of
// square fiducial markers, the layout of the sheet that carries them, and the
// PDF a user prints. The part stands in the empty centre of the sheet; the
// markers around it, whose positions are known to the millimetre, give the
// reconstruction its true scale and its ground plane. The same layout is
// used by the ground-truth photo generator (pipeline/synth), which draws the
// sheet through [Sheet.Ink], and by the marker detector.
//
// # Markers
//
// A marker is like an ArUco 4×4 marker: a 6×6 grid of square cells whose
// outer ring is black (the border) and whose inner 4×4 cells carry the code,
// printed on white with a white quiet zone around it. A code is a
// [4][4]bool indexed [row][col], true meaning a black cell. Row 0 is the top
// row and column 0 the left column as the marker is printed and seen upright:
// on the sheet, top is +y and left is −x. Data cell [r][c] is cell (r+1, c+1)
// of the 6×6 grid.
//
// The dictionary ([Dictionary]) is generated deterministically when the
// package is initialised: a greedy search over all 16-bit codes in a fixed,
// scrambled order keeps a code when it has 6 to 10 black cells out of 16 and
// its Hamming distance is at least [MinDistance] to every kept code under all
// four rotations, and to its own three rotations (so that a marker's
// orientation is never ambiguous). A distance of 4 lets [Decode] correct one
// wrong cell and detect two. Garrido-Jurado et al., "Automatic generation and
// detection of highly reliable fiducial markers under occlusion", Pattern
// Recognition 47(6), 2014, use the same criteria for ArUco
// (distance to other markers under rotation, distance to its own rotations);
// we keep a plain greedy search because a small fixed dictionary is all the
// sheet needs.
//
// # Rotation
//
// [Rotate](bits, k) turns a grid k quarter turns clockwise as seen in an
// image whose row 0 is at the top. [Decode] returns the rotation k for which
// the observed grid equals Rotate(Code(id), k). A detector that sampled the
// grid between its own corners d[0..3] (its top-left, top-right,
// bottom-right, bottom-left) finds the marker's true corner i at
// d[(i+k)%4], in the order of [Marker.Corners].
//
// # Sheet coordinates
//
// A [Sheet] is laid out in millimetres in its own frame: origin at the centre
// of the paper, x along the long side, y along the short side (landscape),
// z = x × y out of the printed face. When the sheet lies face up on the world
// plane z = 0 with its frame aligned to the world's, the world z axis is its
// normal and the frame is right-handed. "Top" of the sheet is +y and "left"
// is −x; seen from above with +y up, the sheet reads like its PDF.
package markers
