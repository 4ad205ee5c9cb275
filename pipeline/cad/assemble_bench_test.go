package cad

import (
	"context"
	"io"
	"testing"
)

// BenchmarkAssemble1M: the bracket's true surface as a mesh of about 2.4
// million triangles (1.2 million vertices, edges up to 0.17 mm) with
// 0.02 mm of noise (noise of half an edge would leave no normal to fit
// by), a million points fitted, the solid assembled and its STEP written
// — the budget is 10 s on two cores.
func BenchmarkAssemble1M(b *testing.B) {
	truth, _ := bracketSolid()
	m := truthMesh(b, truth, 0.17)
	addNoise(m, 0.02, 1)
	b.Logf("%d triangles, %d vertices", len(m.Faces), len(m.Vertices))
	b.ResetTimer()
	for range b.N {
		s, rep, err := Assemble(context.Background(), m, "bracket", &AssembleOptions{Samples: 1_000_000})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteSTEPWith(io.Discard, s, &WriteOptions{Uncertainty: max(DefaultUncertainty, rep.Tolerance)}); err != nil {
			b.Fatal(err)
		}
		if rep.Faceted || rep.Fitted != 8 {
			b.Fatalf("%d faces, %d fitted: %s", len(s.Faces), rep.Fitted, rep.Note)
		}
		b.ReportMetric(float64(len(s.Faces)), "faces")
		b.ReportMetric(rep.Fit.Seconds, "fit-s")
	}
}
