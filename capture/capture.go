// Package capture holds photos and their checks: EXIF, orientation, quality,
// overlap graph, coverage and the session verdict. Subpackage markers defines
// the printable scale sheet.
package capture
