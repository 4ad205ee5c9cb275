package cad

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// stepSeeds are valid and broken files for FuzzReadSTEP.
func stepSeeds(tb testing.TB) map[string][]byte {
	cube := mustWriteSTEP(tb, mustFromMesh(tb, "cube"))
	cyl := mustWriteSTEP(tb, cylinderSolid(5, 20))
	occt, err := os.ReadFile(filepath.Join("testdata", "occt-plate-hole.stp"))
	if err != nil {
		tb.Fatal(err)
	}
	return map[string][]byte{
		"cube":               cube,
		"cylinder":           cyl,
		"frustum":            mustWriteSTEP(tb, frustumSolid(5, 3, 10)),
		"dome":               mustWriteSTEP(tb, domeSolid(7)),
		"slanted":            mustWriteSTEP(tb, func() *Solid { s, _ := slantedSolid(); return s }()),
		"occt-plate-hole":    occt,
		"truncated":          cube[:len(cube)*2/3],
		"unsupported":        bytes.Replace(cyl, []byte("CYLINDRICAL_SURFACE"), []byte("TOROIDAL_SURFACE"), 1),
		"comment-and-string": []byte("ISO-10303-21;/* c */HEADER;FILE_NAME('a''b\\X2\\00E9\\X0\\');ENDSEC;DATA;#1=A(.T.,$,*,\"0F\",(1,2.E3),B(#2));ENDSEC;END-ISO-10303-21;"),
		"nested":             []byte("ISO-10303-21;HEADER;ENDSEC;DATA;#1=(A((((1))))B());ENDSEC;END-ISO-10303-21;"),
		"cycle":              []byte(strings.Replace(string(cube), "MANIFOLD_SOLID_BREP('cube',#", "MANIFOLD_SOLID_BREP('cube',#1,#", 1)),
	}
}

// FuzzReadSTEP checks that ReadSTEP never panics or hangs, that what it
// accepts is a valid solid, and that writing that solid and reading it
// back gives the same solid.
func FuzzReadSTEP(f *testing.F) {
	for _, data := range stepSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSTEP(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cad: ") {
				t.Fatalf("ReadSTEP error %q lacks the package prefix", err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("ReadSTEP returned an invalid solid: %v", err)
		}
		var buf bytes.Buffer
		if err := WriteSTEPWith(&buf, s, &WriteOptions{Time: fixedTime}); err != nil {
			t.Fatalf("WriteSTEP(ReadSTEP(data)): %v", err)
		}
		s2, err := ReadSTEP(&buf)
		if err != nil {
			t.Fatalf("ReadSTEP(WriteSTEP(ReadSTEP(data))): %v", err)
		}
		if d := diffSolids(s2, s); d != "" {
			t.Fatalf("write and read changed the solid: %s", d)
		}
	})
}
