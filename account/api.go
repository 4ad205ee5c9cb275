package account

import (
	"context"
	"time"
)

// Me is the answer of GET /v1/me: who the token belongs to and what their
// subscription allows. The desktop app caches it and shows it offline with
// the time it was fetched.
type Me struct {
	Email             string    `json:"email"`
	Plan              string    `json:"plan"`      // plan id, "" for none
	PlanName          string    `json:"plan_name"` // "Maker", "" for none
	Status            Status    `json:"status"`    // Stripe's status, "" for none
	Cloud             bool      `json:"cloud"`     // may submit cloud jobs now
	Reason            string    `json:"reason,omitempty"`
	Quota             int       `json:"quota"` // models granted this period
	Used              int       `json:"used"`
	Reserved          int       `json:"reserved"`
	Remaining         int       `json:"remaining"`
	PeriodEnd         time.Time `json:"period_end,omitzero"` // the end of the period, or of the subscription when it ends sooner (cancel_at)
	GraceUntil        time.Time `json:"grace_until,omitzero"`
	CancelAtPeriodEnd bool      `json:"cancel_at_period_end"` // the subscription ends at PeriodEnd
	ServerTime        time.Time `json:"server_time"`
}

// DeviceCode is the answer to a device authorization request (RFC 8628 §3.2).
type DeviceCode struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"` // seconds
	Interval                int    `json:"interval"`   // seconds between polls
}

// TokenResponse is a successful token answer (RFC 6749 §5.1).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"` // "Bearer"
}

// Device flow errors (RFC 8628 §3.5), as Error codes.
const (
	EPENDING  = "authorization_pending"
	ESLOWDOWN = "slow_down"
	EDENIED   = "access_denied"
	EEXPIRED  = "expired_token"
	// EINVALIDGRANT is a device code this service never gave out (RFC 6749
	// §5.2's invalid_grant); EEXPIRED one it gave out that expired or was
	// used.
	EINVALIDGRANT = "invalid_grant"
)

// Link is an answer carrying a URL to open in the browser (Checkout, Portal).
type Link struct {
	URL string `json:"url"`
}

// Event is a verified Stripe webhook event, reduced to what reconciling
// needs: which subscription and customer it concerns. The subscription's
// state is then read from Stripe, never taken from the event.
type Event struct {
	ID                string
	Type              string // "customer.subscription.updated", …
	Created           time.Time
	CustomerID        string
	SubscriptionID    string // "" when the event names none
	ClientReferenceID string // checkout.session.completed: our user id
}

// Billing is what the service needs of Stripe. account/stripe implements it;
// its methods return *Error with EUNAVAILABLE when Stripe cannot be reached
// and EUNAUTHORIZED for a webhook that fails verification.
type Billing interface {
	// CreateCustomer makes the Stripe customer for a user (metadata
	// user_id, the email) and returns its id.
	CreateCustomer(ctx context.Context, u *User) (string, error)
	// CheckoutURL opens a Checkout Session in subscription mode for plan.
	CheckoutURL(ctx context.Context, customerID, userID string, plan Plan, successURL, cancelURL string) (string, error)
	// PortalURL opens a Customer Portal session.
	PortalURL(ctx context.Context, customerID, returnURL string) (string, error)
	// SwitchPlanURL opens a Customer Portal session at the confirmation of
	// one change: sub's item to plan's price, prorated as the portal is
	// configured.
	SwitchPlanURL(ctx context.Context, customerID string, sub *Subscription, plan Plan, returnURL string) (string, error)
	// Subscription reads the subscription as Stripe holds it now (PlanID
	// and UserID left empty: the service fills them).
	Subscription(ctx context.Context, id string) (*Subscription, error)
	// ParseWebhook verifies the Stripe-Signature header (HMAC and timestamp
	// tolerance) and decodes the event.
	ParseWebhook(payload []byte, header string) (*Event, error)
}
