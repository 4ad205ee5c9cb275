//go:build unix

package mvs

import (
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/spatial/r3"
)

// BenchmarkDense30 is the budget case: 30 views of an 80×50×30 mm
// box on a textured mat, cameras 320 mm away on two rings (20° and 45°
// elevation) with a 1167 px focal length at 1600×1200, rendered directly at
// the standard preset's working size (1000×750, focal length 729 px).
// It reports the dense stage's time (neighbours, depth maps, fusion; not
// the image decoding) in wall-clock and CPU seconds, the latter being what
// to divide by the cores on a machine shared with other work, and the
// accuracy and completeness in millimetres. Run it alone:
//
//	go test -run X -bench Dense30 -benchtime 1x ./pipeline/mvs/
func BenchmarkDense30(b *testing.B) {
	box := boxScene{lo: r3.Vec{X: -40, Y: -25}, hi: r3.Vec{X: 40, Y: 25, Z: 30}, tex: texture{seed: 30, cell: 1.3}}
	o := DefaultOptions("standard")
	scale := float64(o.MaxSize) / 1600
	for b.Loop() {
		var cpu time.Duration
		r := reconstructPart(b, box, [][2]float64{{15, 20}, {15, 45}}, r3.Vec{Z: 12}, 320, 1000, 750, 1167*scale, &o, func(start bool) {
			if start {
				cpu = -cpuTime()
			} else {
				cpu += cpuTime()
			}
		})
		b.ReportMetric(r.total.Seconds(), "s/30views")
		b.ReportMetric(cpu.Seconds(), "cpu-s/30views")
		b.ReportMetric(r.depthTime.Seconds(), "s-depth")
		b.ReportMetric(r.acc90, "acc90-mm")
		b.ReportMetric(r.comp90, "comp90-mm")
		b.ReportMetric(float64(r.points), "points")
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
