//go:build !race

package match

// raceEnabled reports whether the race detector is on: tests that only
// decode large JPEGs skip under it, where decoding is ten times slower.
const raceEnabled = false
