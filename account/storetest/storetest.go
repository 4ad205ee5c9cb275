// Package storetest is the contract every account.Store implementation must
// pass, as litestream's replica_client_test.go is for its replica clients:
// an implementation's test calls Run with a function that opens a fresh,
// empty store.
//
// Besides the interface's doc comments, the suite pins down what they leave
// open, so that every implementation behaves alike: ids and emails are
// required (EINVALID); a user must exist before tokens, subscriptions or
// grants are made for it (ENOTFOUND); revoking a revoked token keeps the
// first time; TouchToken never moves LastUsed back; Start on a committed job
// is a no-op and on a refunded or expired one ECONFLICT; Refund of an expired
// reservation is a no-op; Expires equal to now has not expired; periods are
// half-open (Start ≤ at < End) and where two overlap the later-starting one
// counts; Ledger with limit ≤ 0 returns every entry.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/replica3d/replica/account"
)

// Run runs the contract against the stores open returns. Each subtest calls
// open once and must get a fresh, empty store; open arranges for it to be
// closed (t.Cleanup) and fails t if it cannot open one.
func Run(t *testing.T, open func(t *testing.T) account.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"RoundTrip", roundTripTests},
		{"Users", userTests},
		{"Tokens", tokenTests},
		{"DeviceAuths", deviceTests},
		{"Subscriptions", subscriptionTests},
		{"Events", eventTests},
		{"Housekeeping", housekeepingTests},
		{"Ledger", ledgerTests},
		{"Context", contextTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
			}
		})
	}
}

type test struct {
	name string
	fn   func(t *testing.T, s account.Store)
}

// Times the tests use. None is the wall clock's: a store must take every
// time from its arguments.
var (
	jan = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	mar = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	// cet is a zone other than UTC: stores compare instants, not zones.
	cet = time.FixedZone("CET", 3600)
)

// roundTripTests store a value with every field set and read it back whole:
// a field added to the domain type and not stored fails here.
var roundTripTests = []test{
	{"User", func(t *testing.T, s account.Store) {
		u := filled[account.User]()
		u.Email = "ada@example.com"
		must(t, "CreateUser", s.CreateUser(t.Context(), u))
		got := mustGet(t, "User", func() (*account.User, error) { return s.User(t.Context(), u.ID) })
		mustEqual(t, "User", got, u)
	}},
	{"Token", func(t *testing.T, s account.Store) {
		mustUser(t, s, "u1", "ada@example.com")
		tok := filled[account.Token]()
		tok.UserID = "u1"
		must(t, "CreateToken", s.CreateToken(t.Context(), tok))
		got := mustGet(t, "TokenByHash", func() (*account.Token, error) { return s.TokenByHash(t.Context(), tok.Hash) })
		mustEqual(t, "TokenByHash", got, tok)
		ts := mustGet(t, "Tokens", func() ([]account.Token, error) { return s.Tokens(t.Context(), "u1") })
		mustEqual(t, "Tokens", ts, []account.Token{*tok})
	}},
	{"DeviceAuth", func(t *testing.T, s account.Store) {
		d := filled[account.DeviceAuth]()
		must(t, "CreateDeviceAuth", s.CreateDeviceAuth(t.Context(), d))
		got := mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(t.Context(), d.UserCode) })
		mustEqual(t, "DeviceAuthByUserCode", got, d)
		must(t, "UpdateDeviceAuth", s.UpdateDeviceAuth(t.Context(), d.DeviceHash, func(got *account.DeviceAuth) error {
			mustEqual(t, "UpdateDeviceAuth's argument", got, d)
			return nil
		}))
		got = mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(t.Context(), d.UserCode) })
		mustEqual(t, "DeviceAuthByUserCode after UpdateDeviceAuth", got, d)
	}},
	{"Subscription", func(t *testing.T, s account.Store) {
		mustUser(t, s, "u1", "ada@example.com")
		sub := filled[account.Subscription]()
		sub.UserID = "u1"
		must(t, "PutSubscription", s.PutSubscription(t.Context(), sub))
		got := mustGet(t, "Subscription", func() (*account.Subscription, error) { return s.Subscription(t.Context(), "u1") })
		mustEqual(t, "Subscription", got, sub)
	}},
}

// filled returns a T with every field set to a value of its own: strings
// name the field, times are distinct minutes after jan in CET, numbers count,
// bools are true, byte arrays are filled.
func filled[T any]() *T {
	v := new(T)
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, n := rv.Field(i), i+1
		switch {
		case f.Type() == timeType:
			f.Set(reflect.ValueOf(jan.Add(time.Duration(n) * time.Minute).In(cet)))
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", rv.Type().Field(i).Name, n))
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.CanInt():
			f.SetInt(int64(n) * 1000)
		case f.Kind() == reflect.Array && f.Type().Elem().Kind() == reflect.Uint8:
			for j := range f.Len() {
				f.Index(j).SetUint(uint64(n + j))
			}
		default:
			panic(fmt.Sprintf("storetest: filled: no value for %s.%s of type %s", rv.Type(), rv.Type().Field(i).Name, f.Type()))
		}
	}
	return v
}

var userTests = []test{
	{"CreateAndGet", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		u := &account.User{
			ID: "u1", Email: " Ada@Example.COM ", PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
			CustomerID: "cus_1", Created: jan.Add(time.Hour).In(cet),
		}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		want := &account.User{ID: "u1", Email: "ada@example.com", PasswordHash: u.PasswordHash, CustomerID: "cus_1", Created: jan.Add(time.Hour)}
		got, err := s.User(ctx, "u1")
		if err != nil {
			t.Fatalf("User: %v", err)
		}
		mustEqual(t, "User(u1)", got, want)
		got, err = s.UserByCustomer(ctx, "cus_1")
		if err != nil {
			t.Fatalf("UserByCustomer: %v", err)
		}
		mustEqual(t, "UserByCustomer(cus_1)", got, want)
	}},
	{"EmailCaseInsensitive", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "Ada@Example.com")
		for _, email := range []string{"ada@example.com", "ADA@EXAMPLE.COM", "  aDa@example.Com\n"} {
			u, err := s.UserByEmail(ctx, email)
			if err != nil {
				t.Fatalf("UserByEmail(%q): %v", email, err)
			}
			if u.ID != "u1" || u.Email != "ada@example.com" {
				t.Errorf("UserByEmail(%q) = %s %q, want u1 %q", email, u.ID, u.Email, "ada@example.com")
			}
		}
	}},
	{"EmailTaken", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		err := s.CreateUser(ctx, &account.User{ID: "u2", Email: "ADA@example.com "})
		wantCode(t, "CreateUser(same email)", err, account.ECONFLICT)
		_, err = s.User(ctx, "u2")
		wantCode(t, "User(u2) after conflict", err, account.ENOTFOUND)
	}},
	{"IDTaken", func(t *testing.T, s account.Store) {
		mustUser(t, s, "u1", "ada@example.com")
		err := s.CreateUser(t.Context(), &account.User{ID: "u1", Email: "grace@example.com"})
		wantCode(t, "CreateUser(same id)", err, account.ECONFLICT)
		_, err = s.UserByEmail(t.Context(), "grace@example.com")
		wantCode(t, "UserByEmail after conflict", err, account.ENOTFOUND)
	}},
	{"Invalid", func(t *testing.T, s account.Store) {
		wantCode(t, "CreateUser(no email)", s.CreateUser(t.Context(), &account.User{ID: "u1", Email: "  "}), account.EINVALID)
		wantCode(t, "CreateUser(no id)", s.CreateUser(t.Context(), &account.User{Email: "ada@example.com"}), account.EINVALID)
	}},
	{"NotFound", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		_, err := s.User(ctx, "u2")
		wantCode(t, "User(u2)", err, account.ENOTFOUND)
		_, err = s.User(ctx, "")
		wantCode(t, `User("")`, err, account.ENOTFOUND)
		_, err = s.UserByEmail(ctx, "grace@example.com")
		wantCode(t, "UserByEmail(unknown)", err, account.ENOTFOUND)
		_, err = s.UserByCustomer(ctx, "cus_unknown")
		wantCode(t, "UserByCustomer(unknown)", err, account.ENOTFOUND)
		_, err = s.UserByCustomer(ctx, "")
		wantCode(t, `UserByCustomer("")`, err, account.ENOTFOUND)
	}},
	{"Customer", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		_, err := s.UserByCustomer(ctx, "cus_1")
		wantCode(t, "UserByCustomer before SetCustomer", err, account.ENOTFOUND)
		must(t, "SetCustomer(u1, cus_1)", s.SetCustomer(ctx, "u1", "cus_1"))
		must(t, "SetCustomer(u1, cus_1) again", s.SetCustomer(ctx, "u1", "cus_1"))
		wantCustomer(t, s, "cus_1", "u1")
		if u := mustGet(t, "User(u1)", func() (*account.User, error) { return s.User(ctx, "u1") }); u.CustomerID != "cus_1" {
			t.Errorf("User(u1).CustomerID = %q, want cus_1", u.CustomerID)
		}
		wantCode(t, "SetCustomer(u2, u1's customer)", s.SetCustomer(ctx, "u2", "cus_1"), account.ECONFLICT)
		wantCode(t, "CreateUser(u1's customer)", s.CreateUser(ctx, &account.User{ID: "u3", Email: "c@example.com", CustomerID: "cus_1"}), account.ECONFLICT)
		wantCode(t, "SetCustomer(unknown user)", s.SetCustomer(ctx, "u9", "cus_9"), account.ENOTFOUND)
		wantCustomer(t, s, "cus_1", "u1")

		// A new customer frees the old one.
		must(t, "SetCustomer(u1, cus_2)", s.SetCustomer(ctx, "u1", "cus_2"))
		wantCustomer(t, s, "cus_2", "u1")
		_, err = s.UserByCustomer(ctx, "cus_1")
		wantCode(t, "UserByCustomer(old customer)", err, account.ENOTFOUND)
		must(t, "SetCustomer(u2, cus_1)", s.SetCustomer(ctx, "u2", "cus_1"))
		wantCustomer(t, s, "cus_1", "u2")
	}},
}

var tokenTests = []test{
	{"CreateAndLookup", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		tok := &account.Token{
			ID: "t1", UserID: "u1", Hash: hash("secret-1"), Name: "Replica on ada-laptop",
			Created: jan.In(cet), LastUsed: jan.Add(time.Minute),
		}
		must(t, "CreateToken", s.CreateToken(ctx, tok))
		got := mustGet(t, "TokenByHash", func() (*account.Token, error) { return s.TokenByHash(ctx, hash("secret-1")) })
		mustEqual(t, "TokenByHash", got, tok)
		if !got.Active(feb) {
			t.Errorf("new token is not Active")
		}
		_, err := s.TokenByHash(ctx, hash("secret-2"))
		wantCode(t, "TokenByHash(unknown)", err, account.ENOTFOUND)
	}},
	{"Duplicate", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "CreateToken", s.CreateToken(ctx, &account.Token{ID: "t1", UserID: "u1", Hash: hash("a"), Created: jan}))
		wantCode(t, "CreateToken(same hash)", s.CreateToken(ctx, &account.Token{ID: "t2", UserID: "u1", Hash: hash("a"), Created: jan}), account.ECONFLICT)
		wantCode(t, "CreateToken(same id)", s.CreateToken(ctx, &account.Token{ID: "t1", UserID: "u1", Hash: hash("b"), Created: jan}), account.ECONFLICT)
		_, err := s.TokenByHash(ctx, hash("b"))
		wantCode(t, "TokenByHash after conflict", err, account.ENOTFOUND)
		if ts := mustGet(t, "Tokens", func() ([]account.Token, error) { return s.Tokens(ctx, "u1") }); len(ts) != 1 {
			t.Errorf("Tokens(u1) has %d tokens after conflicts, want 1", len(ts))
		}
	}},
	{"UnknownUser", func(t *testing.T, s account.Store) {
		err := s.CreateToken(t.Context(), &account.Token{ID: "t1", UserID: "u9", Hash: hash("a"), Created: jan})
		wantCode(t, "CreateToken(unknown user)", err, account.ENOTFOUND)
	}},
	{"ListNewestFirst", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		for _, tok := range []account.Token{
			{ID: "a", UserID: "u1", Hash: hash("a"), Created: jan},
			{ID: "b", UserID: "u1", Hash: hash("b"), Created: jan.Add(2 * time.Hour)},
			{ID: "c", UserID: "u1", Hash: hash("c"), Created: jan.Add(time.Hour)},
			{ID: "d", UserID: "u2", Hash: hash("d"), Created: jan.Add(3 * time.Hour)},
		} {
			must(t, "CreateToken "+tok.ID, s.CreateToken(ctx, &tok))
		}
		wantTokens(t, s, "u1", "b", "c", "a")
		wantTokens(t, s, "u2", "d")
		wantTokens(t, s, "u9")
	}},
	{"Revoke", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "CreateToken", s.CreateToken(ctx, &account.Token{ID: "t1", UserID: "u1", Hash: hash("a"), Created: jan}))
		must(t, "RevokeToken", s.RevokeToken(ctx, "u1", "t1", feb))
		tok := mustGet(t, "TokenByHash(revoked)", func() (*account.Token, error) { return s.TokenByHash(ctx, hash("a")) })
		if tok.Active(feb) || !tok.Revoked.Equal(feb) {
			t.Errorf("revoked token: Active = %v, Revoked = %v; want false, %v", tok.Active(feb), tok.Revoked, feb)
		}
		must(t, "RevokeToken again", s.RevokeToken(ctx, "u1", "t1", mar))
		tok = mustGet(t, "TokenByHash", func() (*account.Token, error) { return s.TokenByHash(ctx, hash("a")) })
		if !tok.Revoked.Equal(feb) {
			t.Errorf("Revoked after a second revoke = %v, want the first, %v", tok.Revoked, feb)
		}
		wantTokens(t, s, "u1", "t1")
		wantCode(t, "RevokeToken(unknown)", s.RevokeToken(ctx, "u1", "t9", feb), account.ENOTFOUND)
	}},
	{"RevokeOtherUsers", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "CreateToken", s.CreateToken(ctx, &account.Token{ID: "t1", UserID: "u1", Hash: hash("a"), Created: jan}))
		err := s.RevokeToken(ctx, "u2", "t1", feb)
		wantCode(t, "RevokeToken(another user's)", err, account.ENOTFOUND)
		if msg, want := account.ErrorMessage(err), account.ErrorMessage(s.RevokeToken(ctx, "u2", "t9", feb)); msg != want {
			t.Errorf("another user's token reads %q, a missing one %q: they must look alike", msg, want)
		}
		tok := mustGet(t, "TokenByHash", func() (*account.Token, error) { return s.TokenByHash(ctx, hash("a")) })
		if !tok.Active(feb) {
			t.Errorf("another user revoked u1's token")
		}
	}},
	{"Touch", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "CreateToken", s.CreateToken(ctx, &account.Token{ID: "t1", UserID: "u1", Hash: hash("a"), Created: jan}))
		must(t, "TouchToken", s.TouchToken(ctx, "t1", feb))
		must(t, "TouchToken(earlier)", s.TouchToken(ctx, "t1", jan.Add(time.Hour)))
		tok := mustGet(t, "TokenByHash", func() (*account.Token, error) { return s.TokenByHash(ctx, hash("a")) })
		if !tok.LastUsed.Equal(feb) {
			t.Errorf("LastUsed = %v, want %v", tok.LastUsed, feb)
		}
		wantCode(t, "TouchToken(unknown)", s.TouchToken(ctx, "t9", feb), account.ENOTFOUND)
	}},
}

var deviceTests = []test{
	{"CreateAndLookup", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		d := &account.DeviceAuth{
			DeviceHash: hash("device-1"), UserCode: "BCDF-GHJK", ClientName: "Replica on ada-laptop",
			Created: jan.In(cet), Expires: jan.Add(15 * time.Minute), Interval: 5 * time.Second,
		}
		must(t, "CreateDeviceAuth", s.CreateDeviceAuth(ctx, d))
		got := mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(ctx, "BCDF-GHJK") })
		mustEqual(t, "DeviceAuthByUserCode", got, d)
		_, err := s.DeviceAuthByUserCode(ctx, "BCDF-XXXX")
		wantCode(t, "DeviceAuthByUserCode(unknown)", err, account.ENOTFOUND)
	}},
	{"Duplicate", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		must(t, "CreateDeviceAuth", s.CreateDeviceAuth(ctx, device("d1", "BCDF-GHJK", jan)))
		err := s.CreateDeviceAuth(ctx, device("d2", "BCDF-GHJK", jan))
		wantCode(t, "CreateDeviceAuth(user code in use)", err, account.ECONFLICT)
		err = s.CreateDeviceAuth(ctx, device("d1", "LMNP-QRST", jan))
		wantCode(t, "CreateDeviceAuth(device code in use)", err, account.ECONFLICT)
		_, err = s.DeviceAuthByUserCode(ctx, "LMNP-QRST")
		wantCode(t, "DeviceAuthByUserCode after conflict", err, account.ENOTFOUND)
		got := mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(ctx, "BCDF-GHJK") })
		mustEqual(t, "DeviceAuthByUserCode after conflicts", got, device("d1", "BCDF-GHJK", jan))
	}},
	{"Update", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		d := device("d1", "BCDF-GHJK", jan)
		must(t, "CreateDeviceAuth", s.CreateDeviceAuth(ctx, d))
		err := s.UpdateDeviceAuth(ctx, hash("d1"), func(got *account.DeviceAuth) error {
			mustEqual(t, "fn's argument", got, d)
			got.UserID, got.LastPoll, got.TokenID = "u1", jan.Add(time.Minute), "t1"
			return nil
		})
		must(t, "UpdateDeviceAuth", err)
		want := *d
		want.UserID, want.LastPoll, want.TokenID = "u1", jan.Add(time.Minute), "t1"
		got := mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(ctx, "BCDF-GHJK") })
		mustEqual(t, "after UpdateDeviceAuth", got, &want)
	}},
	{"UpdateError", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		d := device("d1", "BCDF-GHJK", jan)
		must(t, "CreateDeviceAuth", s.CreateDeviceAuth(ctx, d))
		errSpent := errors.New("device code already spent")
		err := s.UpdateDeviceAuth(ctx, hash("d1"), func(got *account.DeviceAuth) error {
			got.UserID, got.Denied, got.TokenID = "u1", true, "t1"
			return errSpent
		})
		if err != errSpent {
			t.Errorf("UpdateDeviceAuth = %v, want fn's error as is", err)
		}
		got := mustGet(t, "DeviceAuthByUserCode", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(ctx, "BCDF-GHJK") })
		mustEqual(t, "after fn failed", got, d)
	}},
	{"UpdateUnknown", func(t *testing.T, s account.Store) {
		called := false
		err := s.UpdateDeviceAuth(t.Context(), hash("d9"), func(*account.DeviceAuth) error { called = true; return nil })
		wantCode(t, "UpdateDeviceAuth(unknown)", err, account.ENOTFOUND)
		if called {
			t.Errorf("UpdateDeviceAuth called fn for an unknown device code")
		}
	}},
	{"UpdateUserCode", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		must(t, "CreateDeviceAuth d1", s.CreateDeviceAuth(ctx, device("d1", "BCDF-GHJK", jan)))
		must(t, "CreateDeviceAuth d2", s.CreateDeviceAuth(ctx, device("d2", "LMNP-QRST", jan)))
		err := s.UpdateDeviceAuth(ctx, hash("d1"), func(d *account.DeviceAuth) error { d.UserCode = "LMNP-QRST"; return nil })
		wantCode(t, "UpdateDeviceAuth(user code in use)", err, account.ECONFLICT)
		must(t, "UpdateDeviceAuth(new user code)", s.UpdateDeviceAuth(ctx, hash("d1"), func(d *account.DeviceAuth) error { d.UserCode = "VWXZ-BCDF"; return nil }))
		_, err = s.DeviceAuthByUserCode(ctx, "BCDF-GHJK")
		wantCode(t, "DeviceAuthByUserCode(old code)", err, account.ENOTFOUND)
		got := mustGet(t, "DeviceAuthByUserCode(new code)", func() (*account.DeviceAuth, error) { return s.DeviceAuthByUserCode(ctx, "VWXZ-BCDF") })
		if got.DeviceHash != hash("d1") {
			t.Errorf("new user code leads to another authorization")
		}
	}},
	{"DeleteExpired", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		must(t, "CreateDeviceAuth a", s.CreateDeviceAuth(ctx, device("a", "AAAA-AAAA", jan.Add(10*time.Minute))))
		must(t, "CreateDeviceAuth b", s.CreateDeviceAuth(ctx, device("b", "BBBB-BBBB", jan.Add(20*time.Minute))))
		must(t, "CreateDeviceAuth c", s.CreateDeviceAuth(ctx, device("c", "CCCC-CCCC", jan.Add(30*time.Minute))))
		wantDeleted(t, s, jan.Add(20*time.Minute), 1) // a; b expires at now, not before it
		_, err := s.DeviceAuthByUserCode(ctx, "AAAA-AAAA")
		wantCode(t, "DeviceAuthByUserCode(deleted)", err, account.ENOTFOUND)
		must(t, "CreateDeviceAuth(a's freed user code)", s.CreateDeviceAuth(ctx, device("a2", "AAAA-AAAA", jan.Add(time.Hour))))
		wantCode(t, "UpdateDeviceAuth(deleted)", s.UpdateDeviceAuth(ctx, hash("a"), func(*account.DeviceAuth) error { return nil }), account.ENOTFOUND)
		wantDeleted(t, s, jan.Add(31*time.Minute), 2) // b, c
		wantDeleted(t, s, jan.Add(31*time.Minute), 0)
		if _, err := s.DeviceAuthByUserCode(ctx, "AAAA-AAAA"); err != nil {
			t.Errorf("DeviceAuthByUserCode(unexpired): %v", err)
		}
	}},
}

var subscriptionTests = []test{
	{"None", func(t *testing.T, s account.Store) {
		mustUser(t, s, "u1", "ada@example.com")
		_, err := s.Subscription(t.Context(), "u1")
		wantCode(t, "Subscription(no subscription)", err, account.ENOTFOUND)
		_, err = s.Subscription(t.Context(), "u9")
		wantCode(t, "Subscription(unknown user)", err, account.ENOTFOUND)
	}},
	{"PutAndGet", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		sub := &account.Subscription{
			ID: "sub_1", CustomerID: "cus_1", UserID: "u1", PriceID: "price_maker_monthly", PlanID: "maker",
			Status: account.StatusActive, PeriodStart: jan, PeriodEnd: feb.In(cet), CancelAtPeriodEnd: true,
			Created: jan, Synced: jan.Add(time.Second),
		}
		must(t, "PutSubscription", s.PutSubscription(ctx, sub))
		got := mustGet(t, "Subscription", func() (*account.Subscription, error) { return s.Subscription(ctx, "u1") })
		mustEqual(t, "Subscription", got, sub)
	}},
	{"Newest", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "PutSubscription new", s.PutSubscription(ctx, subscription("sub_new", "u1", account.StatusActive, feb)))
		must(t, "PutSubscription old", s.PutSubscription(ctx, subscription("sub_old", "u1", account.StatusCanceled, jan)))
		must(t, "PutSubscription u2", s.PutSubscription(ctx, subscription("sub_u2", "u2", account.StatusActive, mar)))
		wantSubscription(t, s, "u1", "sub_new")
		wantSubscription(t, s, "u2", "sub_u2")
	}},
	{"ReplaceWhole", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		first := subscription("sub_1", "u1", account.StatusActive, jan)
		first.CancelAtPeriodEnd, first.PlanID, first.PriceID = true, "maker", "price_maker_monthly"
		must(t, "PutSubscription", s.PutSubscription(ctx, first))
		second := subscription("sub_1", "u1", account.StatusCanceled, jan)
		second.Synced = feb
		must(t, "PutSubscription(replace)", s.PutSubscription(ctx, second))
		got := mustGet(t, "Subscription", func() (*account.Subscription, error) { return s.Subscription(ctx, "u1") })
		mustEqual(t, "Subscription after replace", got, second)
	}},
	{"ReplaceChangesNewest", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "PutSubscription a", s.PutSubscription(ctx, subscription("sub_a", "u1", account.StatusActive, mar)))
		must(t, "PutSubscription b", s.PutSubscription(ctx, subscription("sub_b", "u1", account.StatusActive, feb)))
		wantSubscription(t, s, "u1", "sub_a")
		must(t, "PutSubscription a, older", s.PutSubscription(ctx, subscription("sub_a", "u1", account.StatusActive, jan)))
		wantSubscription(t, s, "u1", "sub_b")
	}},
	{"UnknownUser", func(t *testing.T, s account.Store) {
		err := s.PutSubscription(t.Context(), subscription("sub_1", "u9", account.StatusActive, jan))
		wantCode(t, "PutSubscription(unknown user)", err, account.ENOTFOUND)
	}},
}

var eventTests = []test{
	{"RecordOnce", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		for i, c := range []struct {
			id   string
			want bool
		}{{"evt_1", true}, {"evt_1", false}, {"evt_2", true}, {"evt_1", false}, {"evt_2", false}} {
			got, err := s.RecordEvent(ctx, c.id, jan.Add(time.Duration(i)*time.Second))
			if err != nil {
				t.Fatalf("RecordEvent(%s): %v", c.id, err)
			}
			if got != c.want {
				t.Errorf("call %d: RecordEvent(%s) = %v, want %v", i, c.id, got, c.want)
			}
		}
	}},
	{"Seen", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		seen := func(id string, want bool) {
			t.Helper()
			if got, err := s.EventSeen(ctx, id); err != nil || got != want {
				t.Errorf("EventSeen(%q) = %v, %v; want %v", id, got, err, want)
			}
		}
		seen("evt_1", false)
		seen("evt_1", false) // asking does not record
		if first, err := s.RecordEvent(ctx, "evt_1", jan); err != nil || !first {
			t.Fatalf("RecordEvent(evt_1) = %v, %v; want true", first, err)
		}
		seen("evt_1", true)
		seen("evt_2", false)
		seen("", false)
	}},
}

var ledgerTests = []test{
	{"GrantNewPeriod", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan.Add(time.Second), "Maker"))
		wantPeriod(t, s, "u1", jan.Add(10*24*time.Hour), account.Period{Start: jan, End: feb, Granted: 15})
		es := wantLedger(t, s, "u1", entry(account.EntryGrant, "", 15, 15))
		if es[0].ID == "" || !es[0].Period.Equal(jan) || !es[0].At.Equal(jan.Add(time.Second)) || es[0].Note != "Maker" {
			t.Errorf("grant entry = %+v, want an id, period %v, at %v, note Maker", es[0], jan, jan.Add(time.Second))
		}
		checkLedger(t, s, "u1")
	}},
	{"GrantIdempotent", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		for i := range 3 {
			must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan.Add(time.Duration(i)*time.Minute), "Maker"))
		}
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15})
		wantLedger(t, s, "u1", entry(account.EntryGrant, "", 15, 15))
	}},
	{"GrantPlanChange", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, "Maker"))
		mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		mustReserve(t, s, "u1", "j2", jan.Add(time.Hour))
		must(t, "Commit j1", s.Commit(ctx, "u1", "j1", jan.Add(2*time.Hour)))

		// Upgrade: the difference is granted.
		must(t, "Grant(upgrade)", s.Grant(ctx, "u1", jan, feb, 60, jan.Add(3*time.Hour), "plan changed to Pro"))
		must(t, "Grant(upgrade) again", s.Grant(ctx, "u1", jan, feb, 60, jan.Add(4*time.Hour), "plan changed to Pro"))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 60, Used: 1, Reserved: 1})
		es := wantLedger(t, s, "u1",
			entry(account.EntryGrant, "", 45, 58),
			entry(account.EntryCommit, "j1", 0, 13),
			entry(account.EntryReserve, "j2", -1, 13),
			entry(account.EntryReserve, "j1", -1, 14),
			entry(account.EntryGrant, "", 15, 15))
		if es[0].Note != "plan changed to Pro" {
			t.Errorf("plan change entry's note = %q, want %q", es[0].Note, "plan changed to Pro")
		}

		// Downgrade below what is spent and held: Remaining goes negative
		// and nothing more can be reserved until models come back.
		must(t, "Grant(downgrade)", s.Grant(ctx, "u1", jan, feb, 1, jan.Add(5*time.Hour), "plan changed to Nano"))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 1, Used: 1, Reserved: 1})
		_, err := s.Reserve(ctx, "u1", "j3", jan.Add(6*time.Hour), jan.Add(7*time.Hour))
		wantCode(t, "Reserve after downgrade", err, account.EQUOTA)
		must(t, "Refund j2", s.Refund(ctx, "u1", "j2", jan.Add(6*time.Hour), "cancelled"))
		_, err = s.Reserve(ctx, "u1", "j3", jan.Add(6*time.Hour), jan.Add(7*time.Hour))
		wantCode(t, "Reserve with 0 remaining", err, account.EQUOTA)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 1, Used: 1})
		checkLedger(t, s, "u1")
	}},
	{"GrantMovesEnd", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, "Maker"))
		must(t, "Grant(new end)", s.Grant(ctx, "u1", jan, feb.Add(24*time.Hour), 15, jan, "Maker"))
		wantPeriod(t, s, "u1", feb, account.Period{Start: jan, End: feb.Add(24 * time.Hour), Granted: 15})
		wantLedger(t, s, "u1", entry(account.EntryGrant, "", 15, 15))
	}},
	{"GrantInvalid", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		wantCode(t, "Grant(negative)", s.Grant(ctx, "u1", jan, feb, -1, jan, ""), account.EINVALID)
		wantCode(t, "Grant(end before start)", s.Grant(ctx, "u1", feb, jan, 15, jan, ""), account.EINVALID)
		wantCode(t, "Grant(unknown user)", s.Grant(ctx, "u9", jan, feb, 15, jan, ""), account.ENOTFOUND)
		wantLedger(t, s, "u1")
	}},
	{"PeriodLookup", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		want := account.Period{Start: jan, End: feb, Granted: 15}
		for _, at := range []time.Time{jan, jan.In(cet), jan.Add(17 * 24 * time.Hour), feb.Add(-time.Nanosecond)} {
			wantPeriod(t, s, "u1", at, want)
		}
		for _, c := range []struct {
			user string
			at   time.Time
		}{{"u1", jan.Add(-time.Nanosecond)}, {"u1", feb}, {"u1", mar}, {"u2", jan}, {"u9", jan}} {
			_, err := s.Period(ctx, c.user, c.at)
			wantCode(t, fmt.Sprintf("Period(%s, %v)", c.user, c.at), err, account.ENOTFOUND)
		}
	}},
	{"NewPeriod", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant jan", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		for _, job := range []string{"j1", "j2", "j3"} {
			mustReserve(t, s, "u1", job, jan.Add(time.Hour))
			must(t, "Commit "+job, s.Commit(ctx, "u1", job, jan.Add(2*time.Hour)))
		}
		must(t, "Grant feb", s.Grant(ctx, "u1", feb, mar, 15, feb, ""))
		wantPeriod(t, s, "u1", feb.Add(24*time.Hour), account.Period{Start: feb, End: mar, Granted: 15})
		r := mustReserve(t, s, "u1", "j4", feb.Add(time.Hour))
		if !r.Period.Equal(feb) {
			t.Errorf("reservation in February counts against %v, want %v", r.Period, feb)
		}
		wantPeriod(t, s, "u1", feb.Add(24*time.Hour), account.Period{Start: feb, End: mar, Granted: 15, Reserved: 1})
		wantPeriod(t, s, "u1", jan.Add(24*time.Hour), account.Period{Start: jan, End: feb, Granted: 15, Used: 3})
		checkLedger(t, s, "u1")
	}},
	{"OverlappingPeriods", func(t *testing.T, s account.Store) {
		// A plan change that resets the billing cycle starts a new period
		// before the old one ends: from its start the new one counts, and
		// the old one keeps its own reservations.
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, "Maker"))
		mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		anchor := jan.AddDate(0, 0, 10)
		must(t, "Grant(new cycle)", s.Grant(ctx, "u1", anchor, anchor.AddDate(0, 1, 0), 60, anchor, "plan changed to Pro"))
		wantPeriod(t, s, "u1", anchor.Add(-time.Hour), account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		newPeriod := account.Period{Start: anchor, End: anchor.AddDate(0, 1, 0), Granted: 60}
		wantPeriod(t, s, "u1", anchor, newPeriod)
		r := mustReserve(t, s, "u1", "j2", anchor.Add(time.Hour))
		if !r.Period.Equal(anchor) {
			t.Errorf("reservation after the new cycle began counts against %v, want %v", r.Period, anchor)
		}
		must(t, "Commit j1", s.Commit(ctx, "u1", "j1", anchor.Add(time.Hour)))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
		newPeriod.Reserved = 1
		wantPeriod(t, s, "u1", feb.Add(-time.Hour), newPeriod)
		checkLedger(t, s, "u1")
	}},
	{"Reserve", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		at := jan.Add(time.Hour)
		r, err := s.Reserve(ctx, "u1", "j1", at.In(cet), at.Add(time.Hour))
		must(t, "Reserve", err)
		want := &account.Reservation{JobID: "j1", UserID: "u1", Period: jan, State: account.Reserved, Created: at, Expires: at.Add(time.Hour)}
		mustEqual(t, "Reserve", r, want)
		got := mustGet(t, "Reservation", func() (*account.Reservation, error) { return s.Reservation(ctx, "u1", "j1") })
		mustEqual(t, "Reservation", got, want)
		wantPeriod(t, s, "u1", at, account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		wantLedger(t, s, "u1", entry(account.EntryReserve, "j1", -1, 14), entry(account.EntryGrant, "", 15, 15))
		wantCode(t, "Reserve(no job id)", err2(s.Reserve(ctx, "u1", "", at, at.Add(time.Hour))), account.EINVALID)
	}},
	{"ReserveSameJob", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		first := mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		again := mustReserve(t, s, "u1", "j1", jan.Add(2*time.Hour))
		mustEqual(t, "Reserve(same job)", again, first)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		must(t, "Commit", s.Commit(ctx, "u1", "j1", jan.Add(3*time.Hour)))
		after := mustReserve(t, s, "u1", "j1", jan.Add(4*time.Hour))
		if after.State != account.Committed || !after.Created.Equal(first.Created) {
			t.Errorf("Reserve(committed job) = %+v, want the committed reservation", after)
		}
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
		wantLedger(t, s, "u1",
			entry(account.EntryCommit, "j1", 0, 14),
			entry(account.EntryReserve, "j1", -1, 14),
			entry(account.EntryGrant, "", 15, 15))
	}},
	{"ReserveNoPeriod", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		_, err := s.Reserve(ctx, "u1", "j1", feb.Add(time.Hour), feb.Add(2*time.Hour))
		wantCode(t, "Reserve(after the period)", err, account.EQUOTA)
		_, err = s.Reserve(ctx, "u2", "j1", jan.Add(time.Hour), jan.Add(2*time.Hour))
		wantCode(t, "Reserve(never granted)", err, account.EQUOTA)
		_, err = s.Reservation(ctx, "u1", "j1")
		wantCode(t, "Reservation(refused job)", err, account.ENOTFOUND)
	}},
	{"ReserveExhausted", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 2, jan, ""))
		mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		mustReserve(t, s, "u1", "j2", jan.Add(time.Hour))
		_, err := s.Reserve(ctx, "u1", "j3", jan.Add(time.Hour), jan.Add(2*time.Hour))
		wantCode(t, "Reserve(none left)", err, account.EQUOTA)
		if msg := account.ErrorMessage(err); msg == "" || msg == account.ErrorMessage(errors.New("")) {
			t.Errorf("EQUOTA message = %q, want one the user can read", msg)
		}
		must(t, "Refund j1", s.Refund(ctx, "u1", "j1", jan.Add(2*time.Hour), "cancelled"))
		mustReserve(t, s, "u1", "j3", jan.Add(2*time.Hour))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 2, Reserved: 2})
		checkLedger(t, s, "u1")
	}},
	{"Commit", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		must(t, "Start", s.Start(ctx, "u1", "j1", jan.Add(90*time.Minute)))
		must(t, "Commit", s.Commit(ctx, "u1", "j1", jan.Add(2*time.Hour)))
		must(t, "Commit again", s.Commit(ctx, "u1", "j1", jan.Add(3*time.Hour)))
		wantState(t, s, "u1", "j1", account.Committed)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
		es := wantLedger(t, s, "u1",
			entry(account.EntryCommit, "j1", 0, 14),
			entry(account.EntryReserve, "j1", -1, 14),
			entry(account.EntryGrant, "", 15, 15))
		if !es[0].At.Equal(jan.Add(2 * time.Hour)) {
			t.Errorf("commit entry At = %v, want %v", es[0].At, jan.Add(2*time.Hour))
		}
		must(t, "Start(committed)", s.Start(ctx, "u1", "j1", jan.Add(4*time.Hour)))
	}},
	{"Refund", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		must(t, "Refund", s.Refund(ctx, "u1", "j1", jan.Add(2*time.Hour), "job failed: colmap mapper"))
		must(t, "Refund again", s.Refund(ctx, "u1", "j1", jan.Add(3*time.Hour), "job failed: colmap mapper"))
		wantState(t, s, "u1", "j1", account.Refunded)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15})
		es := wantLedger(t, s, "u1",
			entry(account.EntryRefund, "j1", 1, 15),
			entry(account.EntryReserve, "j1", -1, 14),
			entry(account.EntryGrant, "", 15, 15))
		if es[0].Note != "job failed: colmap mapper" {
			t.Errorf("refund entry's note = %q, want %q", es[0].Note, "job failed: colmap mapper")
		}
	}},
	{"Cancel", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "bob@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		at := jan.Add(time.Hour)
		for _, job := range []string{"waiting", "running", "done"} {
			mustReserve(t, s, "u1", job, at)
		}
		must(t, "Start", s.Start(ctx, "u1", "running", at))
		must(t, "Start", s.Start(ctx, "u1", "done", at))
		must(t, "Commit", s.Commit(ctx, "u1", "done", at))
		must(t, "Cancel(waiting)", s.Cancel(ctx, "u1", "waiting", at, "cancelled by user"))
		must(t, "Cancel(waiting) again", s.Cancel(ctx, "u1", "waiting", at, "cancelled by user"))
		wantState(t, s, "u1", "waiting", account.Refunded)
		wantCode(t, "Cancel(running)", s.Cancel(ctx, "u1", "running", at, ""), account.ECONFLICT)
		wantCode(t, "Cancel(committed)", s.Cancel(ctx, "u1", "done", at, ""), account.ECONFLICT)
		wantCode(t, "Cancel(another user's job)", s.Cancel(ctx, "u2", "waiting", at, ""), account.ENOTFOUND)
		wantCode(t, "Cancel(no such job)", s.Cancel(ctx, "u1", "nothing", at, ""), account.ENOTFOUND)
		wantState(t, s, "u1", "running", account.Reserved)
		// The worker that stops a running job refunds it.
		must(t, "Refund(running)", s.Refund(ctx, "u1", "running", at, "stopped"))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
		checkLedger(t, s, "u1")
	}},
	{"Conflicts", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		at := jan.Add(time.Hour)
		for _, job := range []string{"committed", "refunded", "expired"} {
			mustReserve(t, s, "u1", job, at)
		}
		must(t, "Commit", s.Commit(ctx, "u1", "committed", at))
		must(t, "Refund", s.Refund(ctx, "u1", "refunded", at, ""))
		wantExpired(t, s, at.Add(2*time.Hour), 1)
		before := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, "u1", 0) })

		wantCode(t, "Refund(committed)", s.Refund(ctx, "u1", "committed", at, ""), account.ECONFLICT)
		wantCode(t, "Commit(refunded)", s.Commit(ctx, "u1", "refunded", at), account.ECONFLICT)
		wantCode(t, "Commit(expired)", s.Commit(ctx, "u1", "expired", at), account.ECONFLICT)
		wantCode(t, "Start(refunded)", s.Start(ctx, "u1", "refunded", at), account.ECONFLICT)
		wantCode(t, "Start(expired)", s.Start(ctx, "u1", "expired", at), account.ECONFLICT)
		must(t, "Refund(expired)", s.Refund(ctx, "u1", "expired", at, ""))

		wantState(t, s, "u1", "committed", account.Committed)
		wantState(t, s, "u1", "refunded", account.Refunded)
		wantState(t, s, "u1", "expired", account.Expired)
		after := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, "u1", 0) })
		if len(after) != len(before) {
			t.Errorf("refused and no-op calls wrote %d ledger entries", len(after)-len(before))
		}
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
		checkLedger(t, s, "u1")
	}},
	{"Start", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		at := jan.Add(time.Hour)
		r := mustReserve(t, s, "u1", "j1", at)
		must(t, "Start", s.Start(ctx, "u1", "j1", at.Add(10*time.Minute)))
		must(t, "Start again", s.Start(ctx, "u1", "j1", at.Add(20*time.Minute)))
		want := *r
		want.Started = at.Add(10 * time.Minute)
		got := mustGet(t, "Reservation", func() (*account.Reservation, error) { return s.Reservation(ctx, "u1", "j1") })
		mustEqual(t, "Reservation after Start", got, &want)
		wantExpired(t, s, r.Expires.Add(time.Hour), 0)
		wantState(t, s, "u1", "j1", account.Reserved)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		must(t, "Commit", s.Commit(ctx, "u1", "j1", r.Expires.Add(2*time.Hour)))
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Used: 1})
	}},
	{"Expire", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "Grant u1", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		must(t, "Grant u2", s.Grant(ctx, "u2", jan, feb, 15, jan, ""))
		at := jan.Add(time.Hour)
		reserve := func(user, job string, expires time.Time) {
			t.Helper()
			if _, err := s.Reserve(ctx, user, job, at, expires); err != nil {
				t.Fatalf("Reserve(%s, %s): %v", user, job, err)
			}
		}
		reserve("u1", "soon", at.Add(time.Hour))
		reserve("u1", "later", at.Add(2*time.Hour))
		reserve("u1", "started", at.Add(time.Hour))
		reserve("u2", "soon", at.Add(time.Hour))
		must(t, "Start", s.Start(ctx, "u1", "started", at.Add(time.Minute)))

		wantExpired(t, s, at.Add(time.Hour), 0) // Expires equal to now has not passed
		wantExpired(t, s, at.Add(90*time.Minute), 2)
		wantState(t, s, "u1", "soon", account.Expired)
		wantState(t, s, "u2", "soon", account.Expired)
		wantState(t, s, "u1", "later", account.Reserved)
		wantExpired(t, s, at.Add(3*time.Hour), 1)
		wantExpired(t, s, at.Add(3*time.Hour), 0)
		wantState(t, s, "u1", "later", account.Expired)
		wantState(t, s, "u1", "started", account.Reserved)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		wantPeriod(t, s, "u2", jan, account.Period{Start: jan, End: feb, Granted: 15})
		es := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, "u2", 1) })
		if len(es) != 1 || !sameEntry(es[0], entry(account.EntryExpire, "soon", 1, 15)) || !es[0].At.Equal(at.Add(90*time.Minute)) {
			t.Errorf("u2's newest entry = %+v, want an expire of soon, +1, balance 15, at %v", es, at.Add(90*time.Minute))
		}
		checkLedger(t, s, "u1")
		checkLedger(t, s, "u2")
	}},
	{"NotFound", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		must(t, "Grant", s.Grant(ctx, "u2", jan, feb, 15, jan, ""))
		r := mustReserve(t, s, "u1", "j1", jan.Add(time.Hour))
		at := jan.Add(2 * time.Hour)
		for _, user := range []string{"u1", "u2"} {
			job := map[string]string{"u1": "j9", "u2": "j1"}[user] // missing; another user's
			wantCode(t, fmt.Sprintf("Start(%s, %s)", user, job), s.Start(ctx, user, job, at), account.ENOTFOUND)
			wantCode(t, fmt.Sprintf("Commit(%s, %s)", user, job), s.Commit(ctx, user, job, at), account.ENOTFOUND)
			wantCode(t, fmt.Sprintf("Refund(%s, %s)", user, job), s.Refund(ctx, user, job, at, ""), account.ENOTFOUND)
			_, err := s.Reservation(ctx, user, job)
			wantCode(t, fmt.Sprintf("Reservation(%s, %s)", user, job), err, account.ENOTFOUND)
		}
		got := mustGet(t, "Reservation", func() (*account.Reservation, error) { return s.Reservation(ctx, "u1", "j1") })
		mustEqual(t, "u1's reservation after u2's calls", got, r)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15, Reserved: 1})
		wantPeriod(t, s, "u2", jan, account.Period{Start: jan, End: feb, Granted: 15})
	}},
	{"LedgerNewestFirst", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mustUser(t, s, "u2", "grace@example.com")
		must(t, "Grant", s.Grant(ctx, "u1", jan, feb, 15, jan, ""))
		for _, job := range []string{"j1", "j2", "j3"} {
			mustReserve(t, s, "u1", job, jan.Add(time.Hour))
		}
		must(t, "Commit j1", s.Commit(ctx, "u1", "j1", jan.Add(2*time.Hour)))
		must(t, "Refund j2", s.Refund(ctx, "u1", "j2", jan.Add(2*time.Hour), ""))
		all := wantLedger(t, s, "u1",
			entry(account.EntryRefund, "j2", 1, 13),
			entry(account.EntryCommit, "j1", 0, 12),
			entry(account.EntryReserve, "j3", -1, 12),
			entry(account.EntryReserve, "j2", -1, 13),
			entry(account.EntryReserve, "j1", -1, 14),
			entry(account.EntryGrant, "", 15, 15))
		ids := map[string]bool{}
		for _, e := range all {
			if ids[e.ID] || e.ID == "" {
				t.Errorf("ledger entry id %q is empty or repeated", e.ID)
			}
			ids[e.ID] = true
		}
		for _, limit := range []int{1, 2, 6, 7} {
			es := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, "u1", limit) })
			n := min(limit, len(all))
			if len(es) != n || !equal(es, all[:n]) {
				t.Errorf("Ledger(u1, %d) = %+v, want the newest %d: %+v", limit, es, n, all[:n])
			}
		}
		wantLedger(t, s, "u2")
		wantLedger(t, s, "u9")
	}},
	{"Invariants", testInvariants},
	{"ConcurrentReservations", func(t *testing.T, s account.Store) {
		testConcurrent(t, s, 200, 200)
	}},
	{"ConcurrentRetries", func(t *testing.T, s account.Store) {
		testConcurrent(t, s, 200, 10)
	}},
}

// testConcurrent releases n goroutines at once, each reserving one of jobs
// distinct job ids against a quota of 15, then commits what was reserved
// the same way.
func testConcurrent(t *testing.T, s account.Store, n, jobs int) {
	ctx := t.Context()
	const quota = 15
	mustUser(t, s, "u1", "ada@example.com")
	must(t, "Grant", s.Grant(ctx, "u1", jan, feb, quota, jan, ""))
	at, expires := jan.Add(time.Hour), jan.Add(2*time.Hour)

	type result struct {
		r   *account.Reservation
		err error
	}
	results := make([]result, n)
	job := func(i int) string { return fmt.Sprintf("job-%03d", i%jobs) }
	all(n, func(i int) {
		r, err := s.Reserve(ctx, "u1", job(i), at, expires)
		results[i] = result{r, err}
	})

	granted := map[string]bool{}
	refused := 0
	for i, res := range results {
		switch account.ErrorCode(res.err) {
		case "":
			if res.r.JobID != job(i) || res.r.State != account.Reserved {
				t.Errorf("Reserve(%s) = %+v", job(i), res.r)
			}
			granted[job(i)] = true
		case account.EQUOTA:
			refused++
		default:
			t.Errorf("Reserve(%s): %v", job(i), res.err)
		}
	}
	wantGranted := min(quota, jobs)
	if len(granted) != wantGranted {
		t.Errorf("%d jobs got a reservation, want %d", len(granted), wantGranted)
	}
	// Every call for a job that got its model succeeds; the others are
	// refused: with distinct jobs, 15 succeed and n-15 get EQUOTA.
	wantRefused := 0
	for i, res := range results {
		if !granted[job(i)] {
			wantRefused++
		} else if res.err != nil {
			t.Errorf("Reserve(%s) = %v, though the job has a reservation", job(i), res.err)
		}
	}
	if refused != wantRefused || (jobs == n && refused != n-quota) {
		t.Errorf("%d calls got EQUOTA, want %d", refused, wantRefused)
	}
	wantPeriod(t, s, "u1", at, account.Period{Start: jan, End: feb, Granted: quota, Reserved: wantGranted})
	es := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, "u1", 0) })
	reserved := map[string]int{}
	for _, e := range es {
		if e.Kind == account.EntryReserve {
			reserved[e.JobID]++
		}
	}
	for j, c := range reserved {
		if c != 1 || !granted[j] {
			t.Errorf("job %s has %d reserve entries, granted %v", j, c, granted[j])
		}
	}
	if len(reserved) != wantGranted {
		t.Errorf("%d reserve entries, want %d", len(reserved), wantGranted)
	}
	for i := range jobs {
		_, err := s.Reservation(ctx, "u1", job(i))
		if (err == nil) != granted[job(i)] {
			t.Errorf("Reservation(%s): %v, granted %v", job(i), err, granted[job(i)])
		}
	}
	checkLedger(t, s, "u1")

	// Commit every granted job from all n goroutines at once: each is
	// charged once.
	errs := make([]error, n)
	all(n, func(i int) {
		if granted[job(i)] {
			errs[i] = s.Commit(ctx, "u1", job(i), expires)
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("Commit(%s): %v", job(i), err)
		}
	}
	wantPeriod(t, s, "u1", at, account.Period{Start: jan, End: feb, Granted: quota, Used: wantGranted})
	checkLedger(t, s, "u1")
}

// all runs fn(0) … fn(n-1) in n goroutines released together once all are
// waiting, and returns when all have returned.
func all(n int, fn func(i int)) {
	var ready, done sync.WaitGroup
	start := make(chan struct{})
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

// testInvariants runs a seeded random sequence of ledger operations for two
// users against a model of what each must do, then checks the ledger's
// invariants and the model against the store.
func testInvariants(t *testing.T, s account.Store) {
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(1, 1))
	users := []string{"u1", "u2"}
	starts := []time.Time{jan, feb, mar}
	for i, u := range users {
		mustUser(t, s, u, fmt.Sprintf("user%d@example.com", i))
	}

	type res struct {
		period           time.Time
		state            account.ReservationState
		expires, started time.Time
	}
	type period struct{ granted, used, reserved int }
	type userModel struct {
		periods map[time.Time]*period // by start
		jobs    map[string]*res
	}
	model := map[string]*userModel{}
	for _, u := range users {
		model[u] = &userModel{periods: map[time.Time]*period{}, jobs: map[string]*res{}}
	}
	// periodAt is the model's period containing at: periods are whole
	// months from jan, and only granted ones exist.
	periodAt := func(m *userModel, at time.Time) (time.Time, *period) {
		for _, st := range starts {
			if !at.Before(st) && at.Before(st.AddDate(0, 1, 0)) {
				return st, m.periods[st]
			}
		}
		return time.Time{}, nil
	}
	randTime := func() time.Time { // late December to early April
		return jan.Add(-5 * 24 * time.Hour).Add(time.Duration(rng.Int64N(int64(95 * 24 * time.Hour))))
	}

	const ops = 400
	for op := range ops {
		u := users[rng.IntN(len(users))]
		m := model[u]
		job := fmt.Sprintf("j%d", rng.IntN(16))
		r := m.jobs[job]
		at := randTime()
		var err error
		var want string // the error code the model expects
		var what string
		switch p := rng.IntN(100); {
		case p < 12:
			st := starts[rng.IntN(len(starts))]
			quota := []int{0, 2, 3, 5}[rng.IntN(4)]
			what = fmt.Sprintf("Grant(%s, %v, %d)", u, st.Format("Jan"), quota)
			err = s.Grant(ctx, u, st, st.AddDate(0, 1, 0), quota, at, "")
			if m.periods[st] == nil {
				m.periods[st] = &period{}
			}
			m.periods[st].granted = quota
		case p < 50:
			expires := at.Add(time.Duration(1+rng.IntN(72)) * time.Hour)
			what = fmt.Sprintf("Reserve(%s, %s)", u, job)
			var got *account.Reservation
			got, err = s.Reserve(ctx, u, job, at, expires)
			st, mp := periodAt(m, at)
			switch {
			case r != nil:
				if err == nil && got.State != r.state {
					t.Fatalf("op %d: %s = state %s, model %s", op, what, got.State, r.state)
				}
			case mp == nil || mp.granted-mp.used-mp.reserved <= 0:
				want = account.EQUOTA
			default:
				mp.reserved++
				m.jobs[job] = &res{period: st, state: account.Reserved, expires: expires}
			}
		case p < 60:
			what = fmt.Sprintf("Start(%s, %s)", u, job)
			err = s.Start(ctx, u, job, at)
			switch {
			case r == nil:
				want = account.ENOTFOUND
			case r.state == account.Refunded || r.state == account.Expired:
				want = account.ECONFLICT
			case r.state == account.Reserved && r.started.IsZero():
				r.started = at
			}
		case p < 75:
			what = fmt.Sprintf("Commit(%s, %s)", u, job)
			err = s.Commit(ctx, u, job, at)
			switch {
			case r == nil:
				want = account.ENOTFOUND
			case r.state == account.Refunded || r.state == account.Expired:
				want = account.ECONFLICT
			case r.state == account.Reserved:
				r.state = account.Committed
				m.periods[r.period].reserved--
				m.periods[r.period].used++
			}
		case p < 90:
			what = fmt.Sprintf("Refund(%s, %s)", u, job)
			err = s.Refund(ctx, u, job, at, "")
			switch {
			case r == nil:
				want = account.ENOTFOUND
			case r.state == account.Committed:
				want = account.ECONFLICT
			case r.state == account.Reserved:
				r.state = account.Refunded
				m.periods[r.period].reserved--
			}
		default:
			what = fmt.Sprintf("ExpireReservations(%v)", at)
			var n int
			n, err = s.ExpireReservations(ctx, at)
			wantN := 0
			for _, um := range model {
				for _, r := range um.jobs {
					if r.state == account.Reserved && r.started.IsZero() && r.expires.Before(at) {
						r.state = account.Expired
						um.periods[r.period].reserved--
						wantN++
					}
				}
			}
			if err == nil && n != wantN {
				t.Fatalf("op %d: %s = %d, model expired %d", op, what, n, wantN)
			}
		}
		if got := account.ErrorCode(err); got != want {
			t.Fatalf("op %d: %s: code %q (%v), model wants %q", op, what, got, err, want)
		}
	}

	for _, u := range users {
		m := model[u]
		for st, mp := range m.periods {
			wantPeriod(t, s, u, st, account.Period{Start: st, End: st.AddDate(0, 1, 0), Granted: mp.granted, Used: mp.used, Reserved: mp.reserved})
		}
		for job, r := range m.jobs {
			got := mustGet(t, "Reservation", func() (*account.Reservation, error) { return s.Reservation(ctx, u, job) })
			if got.State != r.state || !got.Period.Equal(r.period) || !got.Started.Equal(r.started) {
				t.Errorf("Reservation(%s, %s) = %+v, model %+v", u, job, got, r)
			}
		}
		checkLedger(t, s, u)
	}
}

var contextTests = []test{
	{"Cancelled", func(t *testing.T, s account.Store) {
		mustUser(t, s, "u1", "ada@example.com")
		must(t, "Grant", s.Grant(t.Context(), "u1", jan, feb, 15, jan, ""))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		calls := []struct {
			name string
			err  error
		}{
			{"CreateUser", s.CreateUser(ctx, &account.User{ID: "u2", Email: "grace@example.com"})},
			{"User", err2(s.User(ctx, "u1"))},
			{"TokenByHash", err2(s.TokenByHash(ctx, hash("a")))},
			{"Subscription", err2(s.Subscription(ctx, "u1"))},
			{"Period", err2(s.Period(ctx, "u1", jan))},
			{"Grant", s.Grant(ctx, "u1", feb, mar, 15, feb, "")},
			{"Reserve", err2(s.Reserve(ctx, "u1", "j1", jan, feb))},
			{"ExpireReservations", err2(s.ExpireReservations(ctx, feb))},
		}
		for _, c := range calls {
			if !errors.Is(c.err, context.Canceled) {
				t.Errorf("%s with a cancelled context = %v, want context.Canceled", c.name, c.err)
			}
		}
		_, err := s.User(t.Context(), "u2")
		wantCode(t, "User created with a cancelled context", err, account.ENOTFOUND)
		wantPeriod(t, s, "u1", jan, account.Period{Start: jan, End: feb, Granted: 15})
		wantLedger(t, s, "u1", entry(account.EntryGrant, "", 15, 15))
	}},
}

// checkLedger checks the ledger's invariants for every period of the user's
// entries: oldest first, each entry's Balance is the running sum of the
// period's Deltas; the sum is the period's Remaining; Granted = Used +
// Reserved + Remaining; Used counts the commits and Reserved the
// reservations not yet settled.
func checkLedger(t *testing.T, s account.Store, userID string) {
	t.Helper()
	ctx := t.Context()
	es := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(ctx, userID, 0) })
	type sums struct{ balance, reserves, commits, releases int }
	periods := map[int64]*sums{}
	starts := map[int64]time.Time{}
	ids := map[string]bool{}
	for _, e := range slices.Backward(es) {
		k := e.Period.UnixNano()
		p := periods[k]
		if p == nil {
			p = &sums{}
			periods[k], starts[k] = p, e.Period
		}
		p.balance += e.Delta
		if e.Balance != p.balance {
			t.Errorf("%s's entry %s (%s %s %+d) has balance %d, want the running sum %d", userID, e.ID, e.Kind, e.JobID, e.Delta, e.Balance, p.balance)
		}
		switch e.Kind {
		case account.EntryReserve:
			p.reserves++
		case account.EntryCommit:
			p.commits++
		case account.EntryRefund, account.EntryExpire:
			p.releases++
		}
		if ids[e.ID] {
			t.Errorf("%s's ledger repeats the id %s", userID, e.ID)
		}
		ids[e.ID] = true
	}
	for k, sum := range periods {
		p, err := s.Period(ctx, userID, starts[k])
		if err != nil {
			t.Errorf("Period(%s, %v) of a ledger entry: %v", userID, starts[k], err)
			continue
		}
		if sum.balance != p.Remaining() {
			t.Errorf("%s's period %v: entries sum to %d, Remaining() = %d", userID, starts[k], sum.balance, p.Remaining())
		}
		if p.Granted != p.Used+p.Reserved+p.Remaining() {
			t.Errorf("%s's period %v: Granted %d ≠ Used %d + Reserved %d + Remaining %d", userID, starts[k], p.Granted, p.Used, p.Reserved, p.Remaining())
		}
		if p.Used != sum.commits || p.Reserved != sum.reserves-sum.commits-sum.releases {
			t.Errorf("%s's period %v: Used %d Reserved %d, ledger has %d reserves, %d commits, %d refunds and expiries",
				userID, starts[k], p.Used, p.Reserved, sum.reserves, sum.commits, sum.releases)
		}
	}
}

// Helpers.

func hash(s string) [32]byte {
	var h [32]byte
	copy(h[:], s)
	h[31] = 1 // never the zero hash
	return h
}

func device(code, userCode string, expires time.Time) *account.DeviceAuth {
	return &account.DeviceAuth{
		DeviceHash: hash(code), UserCode: userCode, ClientName: "Replica",
		Created: expires.Add(-15 * time.Minute), Expires: expires, Interval: 5 * time.Second,
	}
}

func subscription(id, userID string, status account.Status, created time.Time) *account.Subscription {
	return &account.Subscription{
		ID: id, CustomerID: "cus_" + userID, UserID: userID, PriceID: "price_pro_monthly", PlanID: "pro", Status: status,
		PeriodStart: created, PeriodEnd: created.AddDate(0, 1, 0), Created: created, Synced: created,
	}
}

func entry(kind account.EntryKind, job string, delta, balance int) account.LedgerEntry {
	return account.LedgerEntry{Kind: kind, JobID: job, Delta: delta, Balance: balance}
}

// sameEntry compares what entry sets.
func sameEntry(got, want account.LedgerEntry) bool {
	return got.Kind == want.Kind && got.JobID == want.JobID && got.Delta == want.Delta && got.Balance == want.Balance
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func mustGet[T any](t *testing.T, what string, fn func() (T, error)) T {
	t.Helper()
	v, err := fn()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// err2 keeps the error of a two-result call.
func err2[T any](_ T, err error) error { return err }

func mustUser(t *testing.T, s account.Store, id, email string) {
	t.Helper()
	must(t, "CreateUser "+id, s.CreateUser(t.Context(), &account.User{ID: id, Email: email, Created: jan}))
}

func mustReserve(t *testing.T, s account.Store, userID, jobID string, at time.Time) *account.Reservation {
	t.Helper()
	r, err := s.Reserve(t.Context(), userID, jobID, at, at.Add(time.Hour))
	if err != nil {
		t.Fatalf("Reserve(%s, %s): %v", userID, jobID, err)
	}
	return r
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := account.ErrorCode(err); got != code {
		t.Errorf("%s: error %v has code %q, want %q", what, err, got, code)
	}
}

func wantCustomer(t *testing.T, s account.Store, customerID, userID string) {
	t.Helper()
	u, err := s.UserByCustomer(t.Context(), customerID)
	if err != nil {
		t.Errorf("UserByCustomer(%s): %v", customerID, err)
	} else if u.ID != userID {
		t.Errorf("UserByCustomer(%s) = %s, want %s", customerID, u.ID, userID)
	}
}

func wantTokens(t *testing.T, s account.Store, userID string, ids ...string) {
	t.Helper()
	ts := mustGet(t, "Tokens", func() ([]account.Token, error) { return s.Tokens(t.Context(), userID) })
	var got []string
	for _, tok := range ts {
		got = append(got, tok.ID)
		if tok.UserID != userID {
			t.Errorf("Tokens(%s) lists %s of user %s", userID, tok.ID, tok.UserID)
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("Tokens(%s) = %q, want %q", userID, got, ids)
	}
}

func wantDeleted(t *testing.T, s account.Store, now time.Time, want int) {
	t.Helper()
	n, err := s.DeleteExpiredDeviceAuths(t.Context(), now)
	if err != nil || n != want {
		t.Errorf("DeleteExpiredDeviceAuths(%v) = %d, %v; want %d", now, n, err, want)
	}
}

func wantSubscription(t *testing.T, s account.Store, userID, id string) {
	t.Helper()
	sub, err := s.Subscription(t.Context(), userID)
	if err != nil {
		t.Errorf("Subscription(%s): %v", userID, err)
	} else if sub.ID != id {
		t.Errorf("Subscription(%s) = %s, want %s", userID, sub.ID, id)
	}
}

func wantPeriod(t *testing.T, s account.Store, userID string, at time.Time, want account.Period) {
	t.Helper()
	p, err := s.Period(t.Context(), userID, at)
	if err != nil {
		t.Errorf("Period(%s, %v): %v", userID, at, err)
		return
	}
	if !equal(*p, want) {
		t.Errorf("Period(%s, %v) = %+v (remaining %d), want %+v (remaining %d)", userID, at, *p, p.Remaining(), want, want.Remaining())
	}
}

func wantState(t *testing.T, s account.Store, userID, jobID string, want account.ReservationState) {
	t.Helper()
	r, err := s.Reservation(t.Context(), userID, jobID)
	if err != nil {
		t.Errorf("Reservation(%s, %s): %v", userID, jobID, err)
	} else if r.State != want {
		t.Errorf("Reservation(%s, %s).State = %s, want %s", userID, jobID, r.State, want)
	}
}

func wantExpired(t *testing.T, s account.Store, now time.Time, want int) {
	t.Helper()
	n, err := s.ExpireReservations(t.Context(), now)
	if err != nil || n != want {
		t.Errorf("ExpireReservations(%v) = %d, %v; want %d", now, n, err, want)
	}
}

// wantLedger checks the user's whole ledger, newest first, against want
// (kind, job, delta and balance) and returns it.
func wantLedger(t *testing.T, s account.Store, userID string, want ...account.LedgerEntry) []account.LedgerEntry {
	t.Helper()
	es := mustGet(t, "Ledger", func() ([]account.LedgerEntry, error) { return s.Ledger(t.Context(), userID, 0) })
	ok := len(es) == len(want)
	for i := 0; ok && i < len(es); i++ {
		ok = sameEntry(es[i], want[i])
	}
	if !ok {
		t.Errorf("Ledger(%s):\n%s\nwant:\n%s", userID, entries(es), entries(want))
	}
	for _, e := range es {
		if e.UserID != userID {
			t.Errorf("Ledger(%s) has entry %s of user %s", userID, e.ID, e.UserID)
		}
	}
	return es
}

func entries(es []account.LedgerEntry) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("\t%-7s %-4s %+3d → %3d\n", e.Kind, e.JobID, e.Delta, e.Balance)
	}
	return s
}

func mustEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !equal(got, want) {
		t.Errorf("%s =\n\t%+v\nwant\n\t%+v", what, deref(got), deref(want))
	}
}

func deref(v any) any {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// equal is reflect.DeepEqual with times compared as instants (time.Equal),
// since a store may hand back a time in another zone.
func equal(a, b any) bool { return equalValue(reflect.ValueOf(a), reflect.ValueOf(b)) }

var timeType = reflect.TypeFor[time.Time]()

func equalValue(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() || a.Type() != b.Type() {
		return false
	}
	if a.Type() == timeType {
		return a.Interface().(time.Time).Equal(b.Interface().(time.Time))
	}
	switch a.Kind() {
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return equalValue(a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			if !equalValue(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !equalValue(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(a.Interface(), b.Interface())
	}
}
