// Package account holds accounts, plans, quotas and entitlements: the domain
// of the replica-account service. It imports nothing from the outside world;
// the adapters live below it, named after what they wrap: account/bolt (the
// embedded store), account/stripe (billing), account/http (the service's
// routes, pages and the desktop app's client).
//
// Everything local (capture, checks, reconstruction, export) works with no
// account at all: an account only buys cloud processing, counted in models
// per billing period.
package account

import (
	"context"
	"time"
)

// User is someone who signed up on the service's pages.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"` // lower-cased, trimmed
	PasswordHash string    `json:"-"`     // argon2id/bcrypt encoded hash; never leaves the service
	CustomerID   string    `json:"-"`     // Stripe customer, once the user first opened Checkout
	Created      time.Time `json:"created"`
}

// Token is an API token as stored: only its SHA-256 hash is kept, never the
// token itself, which is shown once when it is made.
type Token struct {
	ID       string    `json:"id"`
	UserID   string    `json:"-"`
	Hash     [32]byte  `json:"-"`
	Name     string    `json:"name"` // "Replica on ada-laptop", "CLI"
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"` // zero while the token works
	// Session marks a web session (the browser's sign-in cookie) rather than
	// an API token: it authenticates pages only, and Expires ends it.
	Session bool      `json:"session,omitempty"`
	Expires time.Time `json:"expires,omitzero"` // zero: never (API tokens live until revoked)
}

// Active reports whether the token still works at now.
func (t *Token) Active(now time.Time) bool {
	return t.Revoked.IsZero() && (t.Expires.IsZero() || now.Before(t.Expires))
}

// DeviceAuth is one pending OAuth 2.0 device authorization (RFC 8628): the
// desktop app holds the device code and polls; the user types or follows the
// user code on the approval page.
type DeviceAuth struct {
	DeviceHash [32]byte  // SHA-256 of the device code (the code itself is only in the app)
	UserCode   string    // "BCDF-GHJK": RFC 8628 §6.1's consonant alphabet, shown to the user
	ClientName string    // what the app calls itself, shown on the approval page
	Created    time.Time //
	Expires    time.Time // after this the codes are refused (expired_token)
	Interval   time.Duration
	LastPoll   time.Time // for slow_down (§3.5)
	UserID     string    // set when approved
	Denied     bool      // the user said no (access_denied)
	TokenID    string    // set once a token was issued: the device code is spent
}

// Status is a subscription's state as Stripe names it.
type Status string

// Subscription states. Only those a Stripe subscription can be in; StatusNone
// is an account without one.
const (
	StatusNone              Status = ""
	StatusActive            Status = "active"
	StatusTrialing          Status = "trialing"
	StatusPastDue           Status = "past_due"
	StatusCanceled          Status = "canceled"
	StatusUnpaid            Status = "unpaid"
	StatusIncomplete        Status = "incomplete"
	StatusIncompleteExpired Status = "incomplete_expired"
	StatusPaused            Status = "paused"
)

// Subscription is the service's copy of a Stripe subscription. It is always
// replaced whole by the object Stripe holds (reconciled, never patched from
// events), so the order webhooks arrive in does not matter.
type Subscription struct {
	ID                string    `json:"id"` // sub_…
	CustomerID        string    `json:"customer"`
	UserID            string    `json:"-"`
	PriceID           string    `json:"price"`
	ItemID            string    `json:"item,omitempty"` // the subscription item that carries PriceID (si_…)
	PlanID            string    `json:"plan"`           // from PriceID through Plans; "" for a price we do not sell
	Status            Status    `json:"status"`
	PeriodStart       time.Time `json:"period_start"`
	PeriodEnd         time.Time `json:"period_end"`
	CancelAtPeriodEnd bool      `json:"cancel_at_period_end"`
	CancelAt          time.Time `json:"cancel_at,omitzero"` // set: the subscription ends then (Stripe's cancel_at)
	Created           time.Time `json:"created"`
	// LatestInvoicePaid: the subscription's latest invoice (the renewal's,
	// or an upgrade's proration) is paid. Until it is, a new period holds
	// only a provisional part of the quota.
	LatestInvoicePaid bool `json:"latest_invoice_paid"`
	// Synced is when the service last read the object from Stripe.
	Synced time.Time `json:"synced"`

	// The service's own record of what the ledger granted for the current
	// period, carried from one sync to the next (Stripe knows nothing of
	// it): the period start, the plan whose quota it holds, and whether
	// the grant is the full one (paid) or provisional.
	GrantedFor  time.Time `json:"granted_for,omitzero"`
	GrantedPlan string    `json:"granted_plan,omitempty"`
	GrantedPaid bool      `json:"granted_paid,omitempty"`
}

// EntryKind is what a ledger entry records.
type EntryKind string

// Ledger entry kinds. Each changes the period's remaining models by Delta:
// grant +quota (or the change of quota on a plan change), reserve −1,
// commit 0 (the reserved model is spent), refund +1 (failed or cancelled job),
// expire +1 (a reservation whose job never started).
const (
	EntryGrant   EntryKind = "grant"
	EntryReserve EntryKind = "reserve"
	EntryCommit  EntryKind = "commit"
	EntryRefund  EntryKind = "refund"
	EntryExpire  EntryKind = "expire"
)

// LedgerEntry is one line of a user's quota history. Within a period the
// entries' Deltas sum to the period's Remaining, and Balance is that running
// sum after the entry.
type LedgerEntry struct {
	ID      string    `json:"id"`
	UserID  string    `json:"-"`
	Period  time.Time `json:"period"` // the start of the billing period it counts against
	Kind    EntryKind `json:"kind"`
	JobID   string    `json:"job,omitempty"`
	Delta   int       `json:"delta"`
	Balance int       `json:"balance"`
	At      time.Time `json:"at"`
	Note    string    `json:"note,omitempty"` // "job failed: colmap mapper", "plan changed to Pro"
}

// ReservationState is where a reserved model stands.
type ReservationState string

// Reservation states: reserved (held), committed (spent on a finished job),
// refunded (job failed or was cancelled), expired (job never started).
const (
	Reserved  ReservationState = "reserved"
	Committed ReservationState = "committed"
	Refunded  ReservationState = "refunded"
	Expired   ReservationState = "expired"
)

// Reservation holds one model for one cloud job. Reserving the same job twice
// returns the first reservation: a retried submission is never charged twice.
type Reservation struct {
	JobID   string           `json:"job"`
	UserID  string           `json:"-"`
	Period  time.Time        `json:"period"`
	State   ReservationState `json:"state"`
	Created time.Time        `json:"created"`
	Expires time.Time        `json:"expires"`          // a reservation still not started then is refunded
	Started time.Time        `json:"started,omitzero"` // the job began: it no longer expires
}

// Period is one billing period's quota.
type Period struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Granted  int       `json:"granted"`  // the plan's models for the period
	Used     int       `json:"used"`     // committed: spent on finished jobs
	Reserved int       `json:"reserved"` // held by jobs submitted and not finished
}

// Remaining is what can still be reserved. Granted = Used + Reserved +
// Remaining always holds, and Remaining is never negative except after a
// downgrade that took away models already spent.
func (p Period) Remaining() int { return p.Granted - p.Used - p.Reserved }

// Store keeps accounts. Every method that reads and then writes does both in
// one transaction, so concurrent callers can never overdraw a quota or issue
// two tokens for one device code. Methods return *Error with code ENOTFOUND,
// ECONFLICT or EQUOTA where those apply. account/bolt is the embedded
// implementation; account/storetest is the contract every implementation
// must pass (a PostgreSQL one, for several service instances, would run it
// too).
type Store interface {
	// Users.
	// CreateUser stores u with its email trimmed and lower-cased; ECONFLICT
	// when the id, the email (compared that way) or the customer is taken.
	CreateUser(ctx context.Context, u *User) error
	User(ctx context.Context, id string) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	UserByCustomer(ctx context.Context, customerID string) (*User, error)
	SetCustomer(ctx context.Context, userID, customerID string) error

	// API tokens.
	CreateToken(ctx context.Context, t *Token) error
	TokenByHash(ctx context.Context, hash [32]byte) (*Token, error) // revoked tokens are returned too; callers check Active
	Tokens(ctx context.Context, userID string) ([]Token, error)     // newest first
	// RevokeToken revokes one of userID's tokens; another user's token is
	// ENOTFOUND, exactly as a token that does not exist.
	RevokeToken(ctx context.Context, userID, tokenID string, at time.Time) error
	TouchToken(ctx context.Context, tokenID string, at time.Time) error // never moves LastUsed back
	// DeleteEndedSessions removes browser sessions (Session tokens) that
	// expired or were revoked before now, and returns how many. API tokens
	// stay, revoked or not.
	DeleteEndedSessions(ctx context.Context, now time.Time) (int, error)

	// Device authorizations (RFC 8628).
	CreateDeviceAuth(ctx context.Context, d *DeviceAuth) error // ECONFLICT on a user code in use
	DeviceAuthByUserCode(ctx context.Context, userCode string) (*DeviceAuth, error)
	// UpdateDeviceAuth reads the authorization, calls fn and writes back what
	// fn left, all in one transaction; an error from fn aborts the write and
	// is returned as is. fn may change UserCode (ECONFLICT if taken), not
	// DeviceHash (EINVALID).
	UpdateDeviceAuth(ctx context.Context, deviceHash [32]byte, fn func(*DeviceAuth) error) error
	DeleteExpiredDeviceAuths(ctx context.Context, now time.Time) (int, error)

	// Subscriptions.
	PutSubscription(ctx context.Context, s *Subscription) error
	Subscription(ctx context.Context, userID string) (*Subscription, error) // the user's newest; ENOTFOUND when none

	// Webhook events: RecordEvent returns false when the id was seen before;
	// EventSeen only asks.
	RecordEvent(ctx context.Context, eventID string, at time.Time) (bool, error)
	EventSeen(ctx context.Context, eventID string) (bool, error)
	// ForgetEvents drops the ids recorded before the time (Stripe stops
	// retrying an event after 3 days) and returns how many.
	ForgetEvents(ctx context.Context, before time.Time) (int, error)

	// Quota ledger.
	// Grant sets the quota of the period starting at start; a second grant
	// with the same quota is a no-op, another quota writes the difference;
	// a different end only moves End. ENOTFOUND for no such user.
	Grant(ctx context.Context, userID string, start, end time.Time, quota int, at time.Time, note string) error
	// Reserve holds one model of the period that contains at; EQUOTA when
	// none remains or no period contains at. The same jobID again returns
	// the existing reservation unchanged.
	Reserve(ctx context.Context, userID, jobID string, at, expires time.Time) (*Reservation, error)
	// Start marks the job begun, so it never expires; a no-op when started
	// or committed, ECONFLICT when refunded or expired.
	Start(ctx context.Context, userID, jobID string, at time.Time) error
	// Commit spends the reserved model; twice is a no-op, a refunded or
	// expired reservation is ECONFLICT.
	Commit(ctx context.Context, userID, jobID string, at time.Time) error
	// Refund gives back a reserved model (job failed or cancelled); refunding
	// a committed job is ECONFLICT, refunding twice or refunding an expired
	// reservation is a no-op.
	Refund(ctx context.Context, userID, jobID string, at time.Time, note string) error
	// Cancel is the user's refund: like Refund, but only while the job has
	// not started (ECONFLICT once it has: then only the worker, which
	// stops it, refunds), checked in the same transaction as the refund.
	Cancel(ctx context.Context, userID, jobID string, at time.Time, note string) error
	// ExpireReservations refunds, as EntryExpire, every reservation not
	// started whose Expires is strictly before now, and returns how many.
	ExpireReservations(ctx context.Context, now time.Time) (int, error)
	Reservation(ctx context.Context, userID, jobID string) (*Reservation, error)
	// Period returns the period with Start ≤ at < End, the later-starting
	// one where two overlap (a plan change that resets the billing cycle);
	// ENOTFOUND when none.
	Period(ctx context.Context, userID string, at time.Time) (*Period, error)
	Ledger(ctx context.Context, userID string, limit int) ([]LedgerEntry, error) // newest first; limit ≤ 0: all

	Close() error
}
