package mesh

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

// benchMesh is a closed torus of 1,000,000 triangles and 500,000 vertices,
// the size of a dense scan (R 100 mm, r 30 mm).
var benchMesh = sync.OnceValue(func() *geom.Mesh { return torus(100, 30, 1000, 500) })

func BenchmarkWriteSTL(b *testing.B) {
	m := benchMesh()
	b.SetBytes(int64(84 + 50*len(m.Faces)))
	for b.Loop() {
		if err := WriteSTL(io.Discard, m, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadSTL(b *testing.B) {
	data := mustWriteSTL(b, benchMesh(), "")
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadSTL(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadPLYBinary(b *testing.B) {
	m := benchMesh()
	data := mustWritePLY(b, &PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}, BinaryLittleEndian)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadPLY(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWritePLYBinary(b *testing.B) {
	m := benchMesh()
	p := &PLY{Cloud: geom.PointCloud{Points: m.Vertices}, Faces: m.Faces}
	b.SetBytes(int64(len(mustWritePLY(b, p, BinaryLittleEndian))))
	for b.Loop() {
		if err := WritePLY(io.Discard, p, BinaryLittleEndian); err != nil {
			b.Fatal(err)
		}
	}
}
