//go:build race

package main

// raceEnabled: the race detector slows pipeline/mvs about tenfold, so the
// COLMAP integration tests skip the dense stage under it; `make test` runs
// them again without it.
const raceEnabled = true
