package colmap

import "testing"

func TestParseProgress(t *testing.T) {
	for _, tc := range []struct {
		line        string
		done, total int
		ok          bool
	}{
		{"Processed file [12/30]", 12, 30, true},
		{"  Processed file [1/1]", 1, 1, true},
		{"Matching block [1/1]", 1, 1, true},
		{"Matching block [2/4, 3/4]", 7, 16, true},
		{"Matching image [5/24]", 5, 24, true},
		{"Registering image #17 (12)", 12, 0, true},
		{"Processing view 3 / 30 for view_003.jpg", 3, 30, true},
		{"Fusing image [4/30] in 0.2s", 4, 30, true},
		{"Processing view 31 / 30", 0, 0, false},
		{"Processed file [31/30]", 0, 0, false},
		{"Processed file [1/0]", 0, 0, false},
		{"Processed file [99999999999999999999/3]", 0, 0, false},
		{"Elapsed time: 0.101 [minutes]", 0, 0, false},
		{"", 0, 0, false},
	} {
		d, n, ok := ParseProgress(tc.line)
		if d != tc.done || n != tc.total || ok != tc.ok {
			t.Errorf("ParseProgress(%q) = %d, %d, %v; want %d, %d, %v", tc.line, d, n, ok, tc.done, tc.total, tc.ok)
		}
	}
}

func FuzzParseProgress(f *testing.F) {
	for _, s := range []string{"Processed file [12/30]", "Matching block [2/4, 3/4]", "Registering image #17 (12)"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		d, n, ok := ParseProgress(line)
		if ok && (d < 0 || n < 0 || (n > 0 && d > n)) {
			t.Fatalf("ParseProgress(%q) = %d/%d", line, d, n)
		}
	})
}
