package account

import (
	"context"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Replica on ada-laptop", 100, "Replica on ada-laptop"},
		{"Replica on Zoë's laptop", 16, "Replica on Zoë'"},
		{"Replica on Zoë's laptop", 15, "Replica on Zoë"},
		{"Replica on Zoë's laptop", 14, "Replica on Zo"}, // ë is 2 bytes: not split
		{"日本語", 4, "日"},
		{"bad \xff byte", 100, "bad \uFFFD byte"},
	} {
		if got := clip(tc.in, tc.n); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// With every slot taken, a sign-in waits, and gives up when its request
// does; a slot given back is taken again.
func TestHashSlots(t *testing.T) {
	var releases []func()
	for range cap(hashSlots) {
		r, err := hashSlot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := hashSlot(ctx); err == nil {
		t.Error("hashSlot with every slot taken and the request gone: no error")
	}
	for _, r := range releases {
		r()
	}
	r, err := hashSlot(context.Background())
	if err != nil {
		t.Fatalf("a slot given back: %v", err)
	}
	r()
}
