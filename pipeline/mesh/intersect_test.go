package mesh

import (
	"math"
	"testing"

	"github.com/replica3d/replica/pipeline/geom"
)

func TestSelfIntersections(t *testing.T) {
	if p := SelfIntersections(gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 8)); len(p) != 0 {
		t.Errorf("a closed box: %d crossing pairs, want 0", len(p))
	}
	if p := SelfIntersections(sphereMesh(20, 3)); len(p) != 0 {
		t.Errorf("a sphere: %d crossing pairs, want 0", len(p))
	}
	// Two boxes through each other: their sides cross along two loops.
	two := geom.Join(gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 4), shifted(gridBox(geom.Vec{X: 10, Y: 10, Z: 10}, 4), geom.Vec{X: 5.3, Y: 4.6, Z: 5.1}))
	if p := SelfIntersections(two); len(p) == 0 {
		t.Error("two boxes through each other: no crossing found")
	}
	// Touching at an edge or a face is not crossing.
	side := geom.Join(cube(1), shifted(cube(1), geom.Vec{X: 1}))
	if p := SelfIntersections(side); len(p) != 0 {
		t.Errorf("two cubes side by side: %d crossing pairs, want 0", len(p))
	}
}

// fold returns a 20 × 20 × 4 mm plate whose top has a dent pushed down
// through its bottom, as a noisy reconstruction of a thin part can: the
// dent's faces cross the bottom's.
func fold() *geom.Mesh {
	m := gridBox(geom.Vec{X: 20, Y: 20, Z: 4}, 10)
	for i, v := range m.Vertices {
		if v.Z == 4 && math.Abs(v.X-10) < 3 && math.Abs(v.Y-10) < 3 {
			m.Vertices[i] = geom.Vec{X: v.X + 0.3, Y: v.Y + 0.17, Z: -1}
		}
	}
	return m
}

func TestRepairSelfIntersections(t *testing.T) {
	m := fold()
	before := SelfIntersections(m)
	if len(before) == 0 {
		t.Fatal("the fold does not cross itself")
	}
	out, rep := mustRepair(t, m, nil)
	t.Logf("%d crossing pairs before; report %+v", len(before), *rep)
	if rep.SelfIntersections == 0 || rep.FacesRemovedForIntersections == 0 {
		t.Errorf("report %+v: no crossing found or removed", *rep)
	}
	if left := SelfIntersections(out); len(left) != rep.SelfIntersectionsLeft || len(left) != 0 {
		t.Errorf("%d crossing pairs left, report says %d; want 0", len(left), rep.SelfIntersectionsLeft)
	}
	if !rep.Watertight || !out.Topology().Watertight() || !(rep.Volume > 0) {
		t.Errorf("not a closed outward solid: %+v", *rep)
	}
}

// BenchmarkSelfIntersections1M looks for crossings in an icosphere of
// 1,310,720 faces (there are none).
func BenchmarkSelfIntersections1M(b *testing.B) {
	m := sphereMesh(50, 8)
	b.ResetTimer()
	for range b.N {
		if p := SelfIntersections(m); len(p) != 0 {
			b.Fatal(len(p))
		}
	}
}
