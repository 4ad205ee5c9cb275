//go:build race

package mvs

// raceEnabled is true when the race detector is on, which makes the
// arithmetic-heavy tests about 20 times slower.
const raceEnabled = true
