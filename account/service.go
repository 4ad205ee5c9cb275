package account

import (
	"context"
	"log/slog"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// Service is the account service's logic, independent of HTTP: sign-up and
// sign-in, tokens, the device flow, billing and the quota ledger. The HTTP
// layer (account/http) only decodes requests and encodes answers.
type Service struct {
	Store   Store
	Billing Billing // nil: billing not configured (checkout and webhooks answer EUNAVAILABLE)
	Plans   Plans
	Log     *slog.Logger

	Grace          time.Duration    // past_due grace; 0 means DefaultGrace
	ReservationTTL time.Duration    // a reservation whose job has not started by then is refunded; 0 means 1 h
	DeviceTTL      time.Duration    // device codes live this long; 0 means 10 min
	DeviceInterval time.Duration    // seconds between device polls; 0 means 5 s
	Now            func() time.Time // nil means time.Now

	touchMu sync.Mutex
	touched map[string]time.Time // token id → last LastUsed written

	syncLocks [64]sync.Mutex // SyncSubscription's, by subscription id

	sweepMu   sync.Mutex
	housekept time.Time // when Sweep last deleted ended sessions and old events
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) grace() time.Duration          { return orDefault(s.Grace, DefaultGrace) }
func (s *Service) reservationTTL() time.Duration { return orDefault(s.ReservationTTL, time.Hour) }
func (s *Service) deviceTTL() time.Duration      { return orDefault(s.DeviceTTL, 10*time.Minute) }
func (s *Service) deviceInterval() time.Duration {
	return orDefault(s.DeviceInterval, 5*time.Second)
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// NormalizeEmail trims and lower-cases an address and checks it is one
// address and nothing else ("Ada <ada@example.com>" is refused).
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" || len(email) > 254 || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "", Errorf(EINVALID, "Enter an email address such as ada@example.com.")
	}
	return email, nil
}

// SignUp creates a user.
func (s *Service) SignUp(ctx context.Context, email, password string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	release, err := hashSlot(ctx)
	if err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	release()
	if err != nil {
		return nil, err
	}
	u := &User{ID: NewID("usr_"), Email: email, PasswordHash: hash, Created: s.now().UTC()}
	if err := s.Store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.log().Info("user signed up", "user", u.ID)
	return u, nil
}

// errSignIn is the one answer to every failed sign-in: it does not say
// whether the email is known.
var errSignIn = Errorf(EUNAUTHORIZED, "That email and password do not match an account.")

// SignIn checks an email and password. An unknown email costs the same
// argon2id work as a known one.
func (s *Service) SignIn(ctx context.Context, email, password string) (*User, error) {
	release, err := hashSlot(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	email, err = NormalizeEmail(email)
	if err != nil {
		VerifyPassword(dummyHash, password)
		return nil, errSignIn
	}
	u, err := s.Store.UserByEmail(ctx, email)
	if ErrorCode(err) == ENOTFOUND {
		VerifyPassword(dummyHash, password)
		return nil, errSignIn
	} else if err != nil {
		return nil, err
	}
	if !VerifyPassword(u.PasswordHash, password) {
		return nil, errSignIn
	}
	return u, nil
}

// NewToken makes an API token for a user; the raw token is returned once
// and never stored.
func (s *Service) NewToken(ctx context.Context, userID, name string) (string, *Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	name = clip(name, 100)
	raw, hash := NewSecret(TokenPrefix)
	t := &Token{ID: NewID("tok_"), UserID: userID, Hash: hash, Name: name, Created: s.now().UTC()}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	s.log().Info("token created", "user", userID, "token", t.ID)
	return raw, t, nil
}

// errToken is the answer to every token that does not work.
var errToken = Errorf(EUNAUTHORIZED, "Sign in again: this token is missing, wrong or revoked.")

// Authenticate returns the user a raw API token belongs to. LastUsed is
// written at most once a minute per token, so authenticated reads stay
// read-only transactions.
func (s *Service) Authenticate(ctx context.Context, raw string) (*User, *Token, error) {
	u, t, err := s.tokenUser(ctx, raw, TokenPrefix, false, errToken)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	s.touchMu.Lock()
	if s.touched == nil {
		s.touched = map[string]time.Time{}
	}
	last, ok := s.touched[t.ID]
	due := !ok || now.Sub(last) >= time.Minute
	if due {
		s.touched[t.ID] = now
	}
	s.touchMu.Unlock()
	if due {
		if err := s.Store.TouchToken(ctx, t.ID, now.UTC()); err != nil {
			s.log().Warn("token touch", "token", t.ID, "err", err)
		}
	}
	return u, t, nil
}

// Tokens returns the user's working API tokens (not browser sessions),
// newest first.
func (s *Service) Tokens(ctx context.Context, userID string) ([]Token, error) {
	all, err := s.Store.Tokens(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	tokens := []Token{}
	for _, t := range all {
		if !t.Session && t.Active(now) {
			tokens = append(tokens, t)
		}
	}
	return tokens, nil
}

// seconds rounds d up to whole seconds, at least 1: RFC 8628 clients read
// an interval of 0 as "use 5 s".
func seconds(d time.Duration) int { return max(1, int((d+time.Second-1)/time.Second)) }

// RevokeToken revokes one of the user's tokens; another user's is ENOTFOUND.
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string) error {
	if err := s.Store.RevokeToken(ctx, userID, tokenID, s.now().UTC()); err != nil {
		return err
	}
	s.log().Info("token revoked", "user", userID, "token", tokenID)
	return nil
}

// StartDevice begins a device authorization (RFC 8628 §3.1–3.2). The
// verification URIs are the caller's to fill: they depend on the host.
func (s *Service) StartDevice(ctx context.Context, clientName string) (*DeviceCode, error) {
	clientName = strings.TrimSpace(clientName)
	if clientName == "" {
		clientName = "Replica"
	}
	clientName = clip(clientName, 80)
	now := s.now().UTC()
	raw, hash := NewSecret("rpd_")
	for range 5 { // a user code collision is 1 in 2^34 per pending code: retry
		d := &DeviceAuth{DeviceHash: hash, UserCode: NewUserCode(), ClientName: clientName,
			Created: now, Expires: now.Add(s.deviceTTL()), Interval: s.deviceInterval()}
		err := s.Store.CreateDeviceAuth(ctx, d)
		if ErrorCode(err) == ECONFLICT {
			continue
		} else if err != nil {
			return nil, err
		}
		return &DeviceCode{DeviceCode: raw, UserCode: d.UserCode,
			ExpiresIn: seconds(s.deviceTTL()), Interval: seconds(s.deviceInterval())}, nil
	}
	return nil, Errorf(EINTERNAL, "could not pick a free user code")
}

// DeviceRequest returns the pending authorization a user code names, for
// the approval page; ENOTFOUND for an unknown, used or expired code.
func (s *Service) DeviceRequest(ctx context.Context, userCode string) (*DeviceAuth, error) {
	code := NormalizeUserCode(userCode)
	if code == "" {
		return nil, Errorf(ENOTFOUND, "That code is not one we gave out: check it against the one Replica shows.")
	}
	d, err := s.Store.DeviceAuthByUserCode(ctx, code)
	if err != nil {
		if ErrorCode(err) == ENOTFOUND {
			return nil, Errorf(ENOTFOUND, "That code is not one we gave out: check it against the one Replica shows.")
		}
		return nil, err
	}
	if !s.now().Before(d.Expires) || d.TokenID != "" || d.UserID != "" || d.Denied {
		return nil, Errorf(ENOTFOUND, "That code has expired or was already used: start signing in again in Replica.")
	}
	return d, nil
}

// DecideDevice records the signed-in user's answer on the approval page.
func (s *Service) DecideDevice(ctx context.Context, userID, userCode string, approve bool) error {
	d, err := s.DeviceRequest(ctx, userCode)
	if err != nil {
		return err
	}
	now := s.now()
	err = s.Store.UpdateDeviceAuth(ctx, d.DeviceHash, func(d *DeviceAuth) error {
		if !now.Before(d.Expires) || d.TokenID != "" || d.UserID != "" || d.Denied {
			return Errorf(ENOTFOUND, "That code has expired or was already used: start signing in again in Replica.")
		}
		if approve {
			d.UserID = userID
		} else {
			d.Denied = true
		}
		return nil
	})
	if err == nil {
		s.log().Info("device authorization decided", "user", userID, "approved", approve)
	}
	return err
}

// PollDevice is the app's token request (RFC 8628 §3.4–3.5): it returns a
// new API token once the user approved, and otherwise an *Error whose code
// is EPENDING, ESLOWDOWN, EDENIED, EEXPIRED or EINVALIDGRANT (a code never
// given out, or one deleted after it expired). A device code gives one
// token, once.
func (s *Service) PollDevice(ctx context.Context, deviceCode string) (string, error) {
	errUnknown := Errorf(EINVALIDGRANT, "That is not a device code this service gave out: start signing in again.")
	if !strings.HasPrefix(deviceCode, "rpd_") || len(deviceCode) > 128 {
		return "", errUnknown
	}
	now := s.now().UTC()
	var userID, client, waiting string
	raw, hash := NewSecret(TokenPrefix)
	tokenID := NewID("tok_")
	var interval time.Duration
	err := s.Store.UpdateDeviceAuth(ctx, HashSecret(deviceCode), func(d *DeviceAuth) error {
		switch {
		case d.TokenID != "" || !now.Before(d.Expires):
			return Errorf(EEXPIRED, "Unknown or expired device code: start signing in again.")
		case d.Denied:
			return Errorf(EDENIED, "Sign-in was declined in the browser.")
		case d.UserID == "":
			// Written back (fn returns nil) so the next poll sees it.
			waiting = EPENDING
			if !d.LastPoll.IsZero() && now.Sub(d.LastPoll) < d.Interval {
				d.Interval += 5 * time.Second // §3.5: slow_down adds 5 s to the interval
				waiting = ESLOWDOWN
			}
			d.LastPoll, interval = now, d.Interval
			return nil
		}
		d.TokenID, userID, client = tokenID, d.UserID, d.ClientName
		return nil
	})
	if ErrorCode(err) == ENOTFOUND {
		return "", errUnknown
	} else if err != nil {
		return "", err
	}
	switch waiting {
	case ESLOWDOWN:
		return "", Errorf(ESLOWDOWN, "Polling too fast: wait %d s between requests.", int(interval/time.Second))
	case EPENDING:
		return "", Errorf(EPENDING, "Waiting for approval in the browser.")
	}
	t := &Token{ID: tokenID, UserID: userID, Hash: hash, Name: client, Created: now}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", err
	}
	s.log().Info("device token issued", "user", userID, "token", t.ID)
	return raw, nil
}

// SessionPrefix starts every web session cookie's value.
const SessionPrefix = "rps_"

// SessionTTL is how long a browser stays signed in.
const SessionTTL = 30 * 24 * time.Hour

// NewSession signs a browser in: the raw value goes into the session cookie,
// only its hash into the store, like an API token's.
func (s *Service) NewSession(ctx context.Context, userID, userAgent string) (string, *Token, error) {
	userAgent = clip(userAgent, 100)
	now := s.now().UTC()
	raw, hash := NewSecret(SessionPrefix)
	t := &Token{ID: NewID("ses_"), UserID: userID, Hash: hash, Name: "Browser: " + userAgent,
		Created: now, Session: true, Expires: now.Add(SessionTTL)}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return raw, t, nil
}

// SessionUser returns the user a session cookie's value belongs to;
// EUNAUTHORIZED for a missing, expired or ended session.
func (s *Service) SessionUser(ctx context.Context, raw string) (*User, *Token, error) {
	return s.tokenUser(ctx, raw, SessionPrefix, true, Errorf(EUNAUTHORIZED, "Sign in to continue."))
}

// tokenUser looks up a raw API token (session false) or session cookie
// value (session true) and its user; errBad for anything that does not
// work: the wrong kind, unknown, revoked, expired, or its user gone.
func (s *Service) tokenUser(ctx context.Context, raw, prefix string, session bool, errBad error) (*User, *Token, error) {
	if !strings.HasPrefix(raw, prefix) || len(raw) > 128 {
		return nil, nil, errBad
	}
	t, err := s.Store.TokenByHash(ctx, HashSecret(raw))
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, errBad
	} else if err != nil {
		return nil, nil, err
	}
	if t.Session != session || !t.Active(s.now()) {
		return nil, nil, errBad
	}
	u, err := s.Store.User(ctx, t.UserID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil, errBad
	} else if err != nil {
		return nil, nil, err
	}
	return u, t, nil
}

// EndSession signs a browser out.
func (s *Service) EndSession(ctx context.Context, t *Token) error {
	return s.Store.RevokeToken(ctx, t.UserID, t.ID, s.now().UTC())
}
