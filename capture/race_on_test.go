//go:build race

package capture

// raceEnabled: the race detector slows rendering and decoding about tenfold.
const raceEnabled = true
