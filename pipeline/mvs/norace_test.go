//go:build !race

package mvs

const raceEnabled = false
