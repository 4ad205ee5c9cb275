package cad

import (
	"context"
	"math/rand/v2"
	"testing"
)

// BenchmarkFit1M segments and fits a million points of the bracket (σ =
// 0.1 mm, exact normals). The target is 10 s an operation on 2 cores.
func BenchmarkFit1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	pts, nrm := cloud(rng, 1000000, 0.1, bracketPieces())
	b.ResetTimer()
	for b.Loop() {
		prims, _, _, err := Fit(context.Background(), pts, nrm, &FitOptions{Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		if len(prims) != 8 {
			b.Fatalf("%d primitives, want 8", len(prims))
		}
	}
}
