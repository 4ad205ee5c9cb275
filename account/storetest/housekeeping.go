package storetest

import (
	"testing"
	"time"

	"github.com/replica3d/replica/account"
)

// housekeepingTests cover what the service's hourly sweep removes: ended
// browser sessions and old webhook event ids. Nothing else may go.
var housekeepingTests = []test{
	{"DeleteEndedSessions", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		mustUser(t, s, "u1", "ada@example.com")
		mk := func(id string, session bool, expires time.Time) {
			must(t, "CreateToken", s.CreateToken(ctx, &account.Token{ID: id, UserID: "u1", Hash: hash(id), Name: id,
				Created: jan, Session: session, Expires: expires}))
		}
		mk("ses_expired", true, jan.Add(time.Hour))
		mk("ses_live", true, mar)
		mk("ses_signedout", true, mar)
		mk("tok_api", false, time.Time{})
		mk("tok_revoked", false, time.Time{})
		must(t, "RevokeToken", s.RevokeToken(ctx, "u1", "ses_signedout", jan.Add(time.Minute)))
		must(t, "RevokeToken", s.RevokeToken(ctx, "u1", "tok_revoked", jan.Add(time.Minute)))

		n, err := s.DeleteEndedSessions(ctx, feb)
		must(t, "DeleteEndedSessions", err)
		if n != 2 {
			t.Errorf("DeleteEndedSessions = %d, want 2 (the expired and the signed-out session)", n)
		}
		wantTokens(t, s, "u1", "tok_revoked", "tok_api", "ses_live")
		for _, id := range []string{"ses_expired", "ses_signedout"} {
			_, err := s.TokenByHash(ctx, hash(id))
			wantCode(t, "TokenByHash of a deleted session", err, account.ENOTFOUND)
		}
		for _, id := range []string{"ses_live", "tok_api", "tok_revoked"} {
			if _, err := s.TokenByHash(ctx, hash(id)); err != nil {
				t.Errorf("TokenByHash(%s) after the sweep: %v", id, err)
			}
		}
		if n, err := s.DeleteEndedSessions(ctx, feb); err != nil || n != 0 {
			t.Errorf("a second sweep = %d, %v; want 0", n, err)
		}
	}},
	{"ForgetEvents", func(t *testing.T, s account.Store) {
		ctx := t.Context()
		for i, at := range []time.Time{jan, jan.Add(time.Hour), feb, mar} {
			if first, err := s.RecordEvent(ctx, "evt_"+string(rune('a'+i)), at); err != nil || !first {
				t.Fatalf("RecordEvent: %v %v", first, err)
			}
		}
		n, err := s.ForgetEvents(ctx, feb)
		must(t, "ForgetEvents", err)
		if n != 2 {
			t.Errorf("ForgetEvents(feb) = %d, want 2", n)
		}
		for id, want := range map[string]bool{"evt_a": false, "evt_b": false, "evt_c": true, "evt_d": true} {
			if seen, err := s.EventSeen(ctx, id); err != nil || seen != want {
				t.Errorf("EventSeen(%s) after forgetting = %v, %v; want %v", id, seen, err, want)
			}
		}
		if first, err := s.RecordEvent(ctx, "evt_a", mar); err != nil || !first {
			t.Errorf("RecordEvent of a forgotten id = %v, %v; want true", first, err)
		}
	}},
}
