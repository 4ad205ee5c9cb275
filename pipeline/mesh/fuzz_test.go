package mesh

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the generated seed corpora under testdata/fuzz")

// stlSeeds are valid and corrupt STL files for FuzzReadSTL, also committed
// as testdata/fuzz/FuzzReadSTL/seed-*.
func stlSeeds(tb testing.TB) map[string][]byte {
	cubeSTL := mustWriteSTL(tb, cube(10), "replica seed")
	solid := bytes.Clone(cubeSTL)
	copy(solid, "solid binary")
	nan := bytes.Clone(cubeSTL)
	binary.LittleEndian.PutUint32(nan[84+12:], 0x7fc00000)
	return map[string][]byte{
		"binary-cube":           cubeSTL,
		"binary-solid-header":   solid,
		"binary-torus":          mustWriteSTL(tb, torus(3, 1, 6, 4), ""),
		"ascii-tetra":           []byte(asciiTetra),
		"corrupt-truncated":     cubeSTL[:len(cubeSTL)-20],
		"corrupt-trailing":      append(bytes.Clone(cubeSTL), 0),
		"corrupt-nan":           nan,
		"corrupt-ascii-cut":     []byte(asciiTetra[:200]),
		"corrupt-ascii-keyword": []byte("solid x\nfacet normal 0 0 1\nouter lop\n"),
	}
}

// plySeeds are valid and corrupt PLY files for FuzzReadPLY, also committed
// as testdata/fuzz/FuzzReadPLY/seed-*.
func plySeeds(tb testing.TB) map[string][]byte {
	colmap, _ := colmapPLY()
	le := append([]byte(strings.Replace(referenceHeader, "FORMAT", "binary_little_endian", 1)), referenceBinary(binary.LittleEndian)...)
	small := testCloud(true)
	small.Cloud.Points, small.Cloud.Normals, small.Cloud.Colors = small.Cloud.Points[:6], small.Cloud.Normals[:6], small.Cloud.Colors[:6]
	small.Faces = [][3]int32{{0, 1, 2}, {3, 4, 5}}
	return map[string][]byte{
		"reference-ascii":            append([]byte(strings.Replace(referenceHeader, "FORMAT", "ascii", 1)), referenceASCII...),
		"reference-le":               le,
		"reference-be":               append([]byte(strings.Replace(referenceHeader, "FORMAT", "binary_big_endian", 1)), referenceBinary(binary.BigEndian)...),
		"colmap-fused":               colmap,
		"written-ascii":              mustWritePLY(tb, small, ASCII),
		"written-le":                 mustWritePLY(tb, small, BinaryLittleEndian),
		"corrupt-truncated":          le[:len(le)-5],
		"corrupt-no-end-header":      []byte("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\n"),
		"corrupt-index":              []byte("ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\nproperty float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n0 0 0\n3 0 0 1\n"),
		"corrupt-list-length":        []byte("ply\nformat binary_big_endian 1.0\nelement junk 1\nproperty list uint int a\nend_header\n\xff\xff\xff\xff"),
		"corrupt-huge-count-no-data": []byte("ply\nformat binary_little_endian 1.0\nelement vertex 268435456\nproperty double x\nproperty double y\nproperty double z\nend_header\n"),
	}
}

// TestFuzzCorpus checks that the committed seed corpora hold the generated
// seeds; -update-corpus rewrites them. Other files there (crashers found by
// fuzzing) are left alone.
func TestFuzzCorpus(t *testing.T) {
	for fuzzer, seeds := range map[string]map[string][]byte{"FuzzReadSTL": stlSeeds(t), "FuzzReadPLY": plySeeds(t)} {
		dir := filepath.Join("testdata", "fuzz", fuzzer)
		for name, data := range seeds {
			path := filepath.Join(dir, "seed-"+name)
			want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", data)
			if *updateCorpus {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (err %v); run go test -run TestFuzzCorpus -update-corpus", path, err)
			}
		}
	}
}

// float32Exact reports whether every coordinate survives rounding to
// float32, so that a write and read must give it back unchanged.
func float32Exact(ps []geom.Vec) bool {
	for _, p := range ps {
		if f32(p) != p {
			return false
		}
	}
	return true
}

func FuzzReadSTL(f *testing.F) {
	for _, data := range stlSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadSTL(bytes.NewReader(data))
		if err != nil {
			if fe := (*FormatError)(nil); !errors.As(err, &fe) {
				t.Fatalf("ReadSTL error %v is not a *FormatError", err)
			}
			return
		}
		if err := m.Validate(); err != nil {
			t.Fatalf("ReadSTL returned an invalid mesh: %v", err)
		}
		// Every vertex is used by a face (Topology.Vertices would not do:
		// it leaves out collapsed faces, which welding can make).
		used := make([]bool, len(m.Vertices))
		for _, f := range m.Faces {
			used[f[0]], used[f[1]], used[f[2]] = true, true, true
		}
		if i := slices.Index(used, false); i >= 0 {
			t.Fatalf("ReadSTL returned unreferenced vertex %d of %d", i, len(m.Vertices))
		}
		// Round trip: vertices come in order of first use, so a mesh read
		// from STL comes back identical, where float32 holds it.
		if !float32Exact(m.Vertices) {
			return
		}
		var buf bytes.Buffer
		if err := WriteSTL(&buf, m, ""); err != nil {
			t.Fatalf("WriteSTL: %v", err)
		}
		m2, err := ReadSTL(&buf)
		if err != nil {
			t.Fatalf("ReadSTL(WriteSTL(m)): %v", err)
		}
		if !slices.Equal(m2.Vertices, m.Vertices) || !slices.Equal(m2.Faces, m.Faces) {
			t.Fatalf("round trip changed the mesh:\n%+v\n%+v", m, m2)
		}
	})
}

func FuzzReadPLY(f *testing.F) {
	for _, data := range plySeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPLY(bytes.NewReader(data))
		if err != nil {
			if fe := (*FormatError)(nil); !errors.As(err, &fe) {
				t.Fatalf("ReadPLY error %v is not a *FormatError", err)
			}
			return
		}
		if err := p.Cloud.Validate(); err != nil {
			t.Fatalf("ReadPLY returned an invalid cloud: %v", err)
		}
		if err := p.Mesh().Validate(); err != nil {
			t.Fatalf("ReadPLY returned an invalid mesh: %v", err)
		}
		if !float32Exact(p.Cloud.Points) || !float32Exact(p.Cloud.Normals) {
			return
		}
		comments := 0
		for _, c := range p.Comments {
			comments += len(c) + len("comment \n")
		}
		if comments > plyMaxHeader/2 {
			return // the written header, longer by its property lines, could pass the limit
		}
		for _, format := range []Format{ASCII, BinaryLittleEndian, BinaryBigEndian} {
			var buf bytes.Buffer
			if err := WritePLY(&buf, p, format); err != nil {
				t.Fatalf("WritePLY(%v): %v", format, err)
			}
			p2, err := ReadPLY(&buf)
			if err != nil {
				t.Fatalf("ReadPLY(WritePLY(p, %v)): %v", format, err)
			}
			if d := diffPLY(p2, p); d != "" {
				t.Fatalf("%v round trip: %s:\n%+v\n%+v", format, d, *p, *p2)
			}
		}
	})
}
