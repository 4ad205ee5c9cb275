package account_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/replica3d/replica/account"
)

// FuzzReadPlans feeds arbitrary plans files: an error or a valid list,
// never a panic.
func FuzzReadPlans(f *testing.F) {
	f.Add(`[{"id":"maker","name":"Maker","price":"price_1","amount":2900,"currency":"gbp","quota":15}]`)
	f.Add(`[{"id":"a","name":"A","price":"p","amount":-1,"currency":"gbp","quota":1}]`)
	f.Add(`[` + strings.Repeat(`{},`, 100) + `{}]`)
	f.Add("\x00")
	f.Fuzz(func(t *testing.T, s string) {
		ps, err := account.ReadPlans(strings.NewReader(s))
		if err != nil {
			if account.ErrorCode(err) != account.EINVALID {
				t.Fatalf("ReadPlans error %v has code %s, want %s", err, account.ErrorCode(err), account.EINVALID)
			}
			return
		}
		if err := ps.Validate(); err != nil {
			t.Fatalf("ReadPlans returned a list that does not validate: %v", err)
		}
		for _, p := range ps {
			_ = p.Price()
		}
	})
}

// FuzzNormalize feeds what people type into the email and device code
// fields.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"ada@example.com", " ADA@Example.COM ", "Ada <ada@x.org>", "bcdf-ghjk", "BCDF GHJK", "ɐ@ɐ.ɐ", "a@b", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if e, err := account.NormalizeEmail(s); err == nil {
			if e != strings.ToLower(e) || strings.TrimSpace(e) != e || !utf8.ValidString(e) {
				t.Fatalf("NormalizeEmail(%q) = %q", s, e)
			}
			if again, err := account.NormalizeEmail(e); err != nil || again != e {
				t.Fatalf("NormalizeEmail is not idempotent on %q: %q %v", e, again, err)
			}
		}
		if c := account.NormalizeUserCode(s); c != "" {
			if len(c) != 9 || c[4] != '-' || account.NormalizeUserCode(c) != c {
				t.Fatalf("NormalizeUserCode(%q) = %q", s, c)
			}
		}
	})
}
