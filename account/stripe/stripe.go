// Package stripe implements account.Billing with Stripe: customers, Checkout
// Sessions in subscription mode, Customer Portal sessions, subscriptions and
// signed webhook events. It wraps stripe-go, whose release pins the Stripe
// API version every request asks for (stripego.APIVersion,
// 2026-03-25.dahlia for v85).
//
// Errors are *account.Error values the user may read, wrapped with Stripe's
// own error for the log: ENOTFOUND for a 404, EINVALID with Stripe's message
// for a request Stripe refused, EUNAVAILABLE when Stripe cannot be reached,
// answers 5xx or 429, or refuses our key. The secret key and the webhook
// secret never appear in an error, and stripe-go's own logging is off, since
// it would print whole error answers.
package stripe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/replica3d/replica/account"
)

// Defaults for Config's zero fields.
const (
	DefaultTimeout   = 20 * time.Second // of one HTTP request to Stripe
	DefaultTolerance = 5 * time.Minute  // webhook.DefaultTolerance, as Stripe recommends
)

// MaxPayload is the largest webhook body ParseWebhook accepts. Stripe's
// events are a few KiB; a subscription with many items or an invoice with
// many lines stays far below this.
const MaxPayload = 256 << 10

// unavailable is what the user reads whenever Stripe cannot answer.
const unavailable = "Billing is unavailable just now: try again in a minute"

// Config configures a Client.
type Config struct {
	SecretKey     string        // sk_live_… or sk_test_… (a restricted rk_… works too)
	WebhookSecret string        // whsec_…: the signing secret of the webhook endpoint
	BackendURL    string        // "" for https://api.stripe.com; tests give stripe-mock's URL
	HTTPClient    *http.Client  // nil for one with a DefaultTimeout timeout
	Tolerance     time.Duration // how far a webhook signature's time may be from now; 0 for DefaultTolerance
}

// Client talks to Stripe. It is safe for concurrent use.
type Client struct {
	api           *stripego.Client
	secretKey     string
	webhookSecret string
	tolerance     time.Duration
}

var _ account.Billing = (*Client)(nil)

// New returns a Client for cfg. It checks the configuration only; the first
// call to Stripe is the first method called.
func New(cfg Config) (*Client, error) {
	switch {
	case cfg.SecretKey == "":
		return nil, errors.New("stripe: no secret key")
	case cfg.WebhookSecret == "":
		// An empty HMAC key would let anyone sign events.
		return nil, errors.New("stripe: no webhook signing secret")
	case cfg.Tolerance < 0:
		return nil, fmt.Errorf("stripe: negative webhook tolerance %v", cfg.Tolerance)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	bc := &stripego.BackendConfig{
		HTTPClient: cfg.HTTPClient,
		// stripe-go logs failed requests with Stripe's whole answer to
		// stderr by default; errors reach our caller, who logs them.
		LeveledLogger: &stripego.LeveledLogger{Level: stripego.LevelNull},
		// MaxNetworkRetries stays stripe-go's default (2): it retries
		// network errors, 409, 5xx and lock timeouts with backoff, and
		// sends an idempotency key with every POST so a retry is safe.
	}
	if cfg.BackendURL != "" {
		u, err := url.Parse(cfg.BackendURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("stripe: backend URL %q is not an http(s) URL", cfg.BackendURL)
		}
		bc.URL = stripego.String(cfg.BackendURL)
	}
	api := stripego.NewClient(cfg.SecretKey, stripego.WithBackends(stripego.NewBackendsWithConfig(bc)))
	return &Client{
		api:           api,
		secretKey:     cfg.SecretKey,
		webhookSecret: cfg.WebhookSecret,
		tolerance:     cfg.Tolerance,
	}, nil
}

// CreateCustomer makes the Stripe customer for u, with u's email and
// metadata user_id, and returns its id. The idempotency key is derived from
// the user id, so a retry within Stripe's 24 hours of idempotency returns
// the customer the first call made instead of making a second one.
func (c *Client) CreateCustomer(ctx context.Context, u *account.User) (string, error) {
	if u == nil || u.ID == "" {
		return "", account.Errorf(account.EINVALID, "No user to make a Stripe customer for.")
	}
	// A customer made for this user before, whose id we failed to store
	// (the idempotency key below only covers 24 h): find it by email, which
	// Stripe's list filters with strong consistency (search does not).
	if u.Email != "" {
		list := c.api.V1Customers.List(ctx, &stripego.CustomerListParams{Email: stripego.String(u.Email),
			ListParams: stripego.ListParams{Limit: stripego.Int64(20)}})
		if err := list.Err(); err != nil {
			return "", c.fail("list customers", err)
		}
		for _, cus := range list.Data() {
			if cus != nil && cus.ID != "" && cus.Metadata["user_id"] == u.ID {
				return cus.ID, nil
			}
		}
	}
	params := &stripego.CustomerCreateParams{
		Metadata: map[string]string{"user_id": u.ID},
	}
	if u.Email != "" {
		params.Email = stripego.String(u.Email)
	}
	params.SetIdempotencyKey(idempotencyKey("create-customer", u.ID))
	cus, err := c.api.V1Customers.Create(ctx, params)
	if err != nil {
		return "", c.fail("create customer", err)
	}
	if cus.ID == "" {
		return "", c.fail("create customer", errors.New("answer has no customer id"))
	}
	return cus.ID, nil
}

// idempotencyKey is the Idempotency-Key of operation op on id: the same for
// every retry, different for every (op, id), and never longer than Stripe's
// 255 characters whatever id is.
func idempotencyKey(op, id string) string {
	sum := sha256.Sum256([]byte(op + "\x00" + id))
	return "replica-" + op + "-" + hex.EncodeToString(sum[:16])
}

// CheckoutURL opens a Checkout Session in subscription mode for one of
// plan's price, for the customer, and returns the URL to send the user to.
// client_reference_id and the subscription's metadata (user_id, plan_id)
// carry the user id to the checkout.session.completed event and to the
// subscription itself.
func (c *Client) CheckoutURL(ctx context.Context, customerID, userID string, plan account.Plan, successURL, cancelURL string) (string, error) {
	switch {
	case customerID == "" || userID == "":
		return "", account.Errorf(account.EINVALID, "Checkout needs a customer and a user.")
	case plan.PriceID == "":
		return "", account.Errorf(account.EINVALID, "Plan %q has no Stripe price.", plan.ID)
	case successURL == "" || cancelURL == "":
		return "", account.Errorf(account.EINVALID, "Checkout needs a success and a cancel URL.")
	}
	params := &stripego.CheckoutSessionCreateParams{
		Mode:              stripego.String(string(stripego.CheckoutSessionModeSubscription)),
		Customer:          stripego.String(customerID),
		ClientReferenceID: stripego.String(userID),
		LineItems: []*stripego.CheckoutSessionCreateLineItemParams{{
			Price:    stripego.String(plan.PriceID),
			Quantity: stripego.Int64(1),
		}},
		SuccessURL: stripego.String(successURL),
		CancelURL:  stripego.String(cancelURL),
		SubscriptionData: &stripego.CheckoutSessionCreateSubscriptionDataParams{
			Metadata: map[string]string{"user_id": userID, "plan_id": plan.ID},
		},
	}
	s, err := c.api.V1CheckoutSessions.Create(ctx, params)
	if err != nil {
		return "", c.fail("create checkout session", err)
	}
	if s.URL == "" {
		return "", c.fail("create checkout session", errors.New("answer has no url"))
	}
	return s.URL, nil
}

// PortalURL opens a Customer Portal session for the customer and returns
// its URL; the portal links back to returnURL.
func (c *Client) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	if customerID == "" {
		return "", account.Errorf(account.EINVALID, "No Stripe customer to open the billing portal for.")
	}
	params := &stripego.BillingPortalSessionCreateParams{
		Customer:  stripego.String(customerID),
		ReturnURL: stripego.String(returnURL),
	}
	if returnURL == "" {
		params.ReturnURL = nil // the portal configuration's default
	}
	return c.portal(ctx, params)
}

// portal creates a Customer Portal session and returns its URL.
func (c *Client) portal(ctx context.Context, params *stripego.BillingPortalSessionCreateParams) (string, error) {
	s, err := c.api.V1BillingPortalSessions.Create(ctx, params)
	if err != nil {
		return "", c.fail("create portal session", err)
	}
	if s.URL == "" {
		return "", c.fail("create portal session", errors.New("answer has no url"))
	}
	return s.URL, nil
}

// SwitchPlanURL opens a portal session that goes straight to confirming
// one change: the subscription's item to the plan's price (Stripe's
// subscription_update_confirm flow), then back to returnURL.
func (c *Client) SwitchPlanURL(ctx context.Context, customerID string, sub *account.Subscription, plan account.Plan, returnURL string) (string, error) {
	switch {
	case customerID == "" || sub == nil || sub.ID == "" || sub.ItemID == "":
		return "", account.Errorf(account.EINVALID, "No subscription to change.")
	case plan.PriceID == "":
		return "", account.Errorf(account.EINVALID, "Plan %q has no Stripe price.", plan.ID)
	case returnURL == "":
		return "", account.Errorf(account.EINVALID, "Changing plans needs a return URL.")
	}
	params := &stripego.BillingPortalSessionCreateParams{
		Customer:  stripego.String(customerID),
		ReturnURL: stripego.String(returnURL),
		FlowData: &stripego.BillingPortalSessionCreateFlowDataParams{
			Type: stripego.String("subscription_update_confirm"),
			SubscriptionUpdateConfirm: &stripego.BillingPortalSessionCreateFlowDataSubscriptionUpdateConfirmParams{
				Subscription: stripego.String(sub.ID),
				Items: []*stripego.BillingPortalSessionCreateFlowDataSubscriptionUpdateConfirmItemParams{
					{ID: stripego.String(sub.ItemID), Price: stripego.String(plan.PriceID), Quantity: stripego.Int64(1)},
				},
			},
			AfterCompletion: &stripego.BillingPortalSessionCreateFlowDataAfterCompletionParams{
				Type:     stripego.String("redirect"),
				Redirect: &stripego.BillingPortalSessionCreateFlowDataAfterCompletionRedirectParams{ReturnURL: stripego.String(returnURL)},
			},
		},
	}
	return c.portal(ctx, params)
}

// Subscription reads subscription id from Stripe. PlanID and UserID are
// left empty for the service to fill.
func (c *Client) Subscription(ctx context.Context, id string) (*account.Subscription, error) {
	if id == "" {
		return nil, account.Errorf(account.EINVALID, "No subscription id.")
	}
	// latest_invoice expanded: whether the period's invoice is paid decides
	// how much of the quota the period holds.
	params := &stripego.SubscriptionRetrieveParams{}
	params.AddExpand("latest_invoice")
	sub, err := c.api.V1Subscriptions.Retrieve(ctx, id, params)
	if err != nil {
		return nil, c.fail("retrieve subscription", err)
	}
	if sub.ID == "" {
		return nil, c.fail("retrieve subscription", errors.New("answer has no subscription id"))
	}
	s := &account.Subscription{
		ID:                sub.ID,
		Status:            account.Status(sub.Status),
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd,
		CancelAt:          unix(sub.CancelAt),
		Created:           unix(sub.Created),
		Synced:            time.Now(),
		LatestInvoicePaid: sub.LatestInvoice != nil && sub.LatestInvoice.Status == stripego.InvoiceStatusPaid,
	}
	if sub.Customer != nil {
		s.CustomerID = sub.Customer.ID
	}
	var items []*stripego.SubscriptionItem
	if sub.Items != nil {
		items = sub.Items.Data
	}
	if len(items) > 0 && items[0] != nil && items[0].Price != nil {
		s.PriceID, s.ItemID = items[0].Price.ID, items[0].ID
	}
	// Since API version 2025-03-31.basil the current period is on each
	// item, not on the subscription (items may bill on different cycles;
	// ours have one item). Take the first item's, else the first item that
	// has one, else the subscription's own fields an older API version
	// would send.
	for _, it := range items {
		if it != nil && (it.CurrentPeriodStart != 0 || it.CurrentPeriodEnd != 0) {
			s.PeriodStart, s.PeriodEnd = unix(it.CurrentPeriodStart), unix(it.CurrentPeriodEnd)
			break
		}
	}
	if s.PeriodStart.IsZero() && s.PeriodEnd.IsZero() && sub.LastResponse != nil {
		var legacy struct {
			Start int64 `json:"current_period_start"`
			End   int64 `json:"current_period_end"`
		}
		if json.Unmarshal(sub.LastResponse.RawJSON, &legacy) == nil {
			s.PeriodStart, s.PeriodEnd = unix(legacy.Start), unix(legacy.End)
		}
	}
	return s, nil
}

// unix converts a Stripe timestamp; 0 (absent) is the zero time.
func unix(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0).UTC()
}

// fail turns the error of a call to Stripe into an *account.Error the user
// may read, kept with the cause for the log.
func (c *Client) fail(op string, err error) error {
	user := account.Errorf(account.EUNAVAILABLE, unavailable)
	if se, ok := errors.AsType[*stripego.Error](err); ok {
		msg := c.redact(se.Msg)
		switch st := se.HTTPStatusCode; {
		case st == http.StatusNotFound:
			if msg == "" {
				msg = "Stripe has no such object."
			}
			user = account.Errorf(account.ENOTFOUND, "%s", msg)
		case st == http.StatusUnauthorized || st == http.StatusForbidden:
			// Our key is wrong, revoked or lacks a permission: nothing the
			// user can fix, and Stripe's message is for us.
		case st == http.StatusTooManyRequests || st == http.StatusConflict || st >= 500 || st == 0:
			// Stripe is busy or down, or a concurrent request holds a lock
			// (stripe-go already retried).
		case st >= 400:
			if msg == "" {
				msg = "Stripe refused the request."
			}
			user = account.Errorf(account.EINVALID, "%s", msg)
		}
	}
	return &opError{op: op, user: user, cause: err, redact: c.redact}
}

// redact removes the secrets from s. Stripe never echoes a key whole, but
// a mock or a proxy might (stripe-mock puts the Authorization header into
// its 401 message).
func (c *Client) redact(s string) string {
	for _, secret := range []string{c.secretKey, c.webhookSecret} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// opError is what a failed call returns: the *account.Error the user reads
// (account.ErrorCode and ErrorMessage find it) and the cause, for the log
// and for errors.Is (context.Canceled, a *stripego.Error, a *url.Error).
type opError struct {
	op     string
	user   *account.Error
	cause  error
	redact func(string) string
}

func (e *opError) Error() string {
	return e.redact(fmt.Sprintf("stripe %s: %s: %v", e.op, e.user.Code, e.cause))
}

func (e *opError) Unwrap() []error { return []error{e.user, e.cause} }

// ParseWebhook verifies a webhook's Stripe-Signature header (HMAC-SHA256
// with the endpoint's secret, and a timestamp no further than the tolerance
// from now, in either direction) and reduces the event to what reconciling
// needs: ETOOLARGE over MaxPayload, EUNAUTHORIZED when verification fails,
// EINVALID for a verified body that is not a Stripe event.
//
// API versions: Stripe sends every event in the API version its webhook
// endpoint is pinned to, which need not be stripe-go's. stripe-go's check
// would refuse any event of another release train; we ignore it instead
// (IgnoreAPIVersionMismatch) and read the few fields we need from
// data.object with our own small structs, accepting every shape they have
// had: an id or an expanded object for customer and subscription, an
// invoice's subscription under parent.subscription_details (2025-03-31.basil
// and later) or at the top (before). Nothing else of the object is
// trusted: the service reads the subscription from Stripe.
func (c *Client) ParseWebhook(payload []byte, header string) (*account.Event, error) {
	if len(payload) > MaxPayload {
		return nil, account.Errorf(account.ETOOLARGE, "Webhook payload over %d KiB.", MaxPayload>>10)
	}
	// stripe-go refuses a signature older than the tolerance but not one
	// from the future; one signed far ahead could be replayed until then.
	if t, ok := signedAt(header); ok && time.Until(t) > c.tolerance {
		return nil, account.Errorf(account.EUNAUTHORIZED, "Webhook signature time is in the future.")
	}
	ev, err := webhook.ConstructEventWithOptions(payload, header, c.webhookSecret, webhook.ConstructEventOptions{
		Tolerance:                c.tolerance,
		IgnoreAPIVersionMismatch: true,
	})
	if err != nil {
		return nil, c.webhookError(err)
	}
	if ev.ID == "" || ev.Type == "" {
		return nil, c.invalidEvent(errors.New("no id or type"))
	}
	if ev.Data == nil || len(ev.Data.Raw) == 0 {
		return nil, c.invalidEvent(errors.New("no data.object"))
	}
	out := &account.Event{ID: ev.ID, Type: string(ev.Type), Created: unix(ev.Created)}

	var obj eventObject
	objErr := json.Unmarshal(ev.Data.Raw, &obj)
	switch out.Type {
	case "checkout.session.completed",
		"checkout.session.async_payment_succeeded",
		"checkout.session.async_payment_failed",
		"checkout.session.expired":
		if objErr != nil {
			return nil, c.invalidEvent(objErr)
		}
		out.SubscriptionID = string(obj.Subscription) // "" for a session in payment or setup mode
		out.CustomerID = string(obj.Customer)
		out.ClientReferenceID = obj.ClientReferenceID
	case "customer.subscription.created",
		"customer.subscription.updated",
		"customer.subscription.deleted",
		"customer.subscription.paused",
		"customer.subscription.resumed",
		"customer.subscription.pending_update_applied",
		"customer.subscription.pending_update_expired",
		"customer.subscription.trial_will_end":
		if objErr != nil {
			return nil, c.invalidEvent(objErr)
		}
		if obj.ID == "" {
			return nil, c.invalidEvent(errors.New("subscription event without a subscription id"))
		}
		out.SubscriptionID = obj.ID
		out.CustomerID = string(obj.Customer)
	case "invoice.paid",
		"invoice.payment_failed",
		"invoice.payment_succeeded",
		"invoice.payment_action_required":
		if objErr != nil {
			return nil, c.invalidEvent(objErr)
		}
		out.SubscriptionID = obj.invoiceSubscription() // "" for a one-off invoice
		out.CustomerID = string(obj.Customer)
	default:
		// Events we do not act on must not be refused over a shape we
		// did not expect: Stripe would retry them for days and then
		// disable the endpoint. Take the customer when it reads cleanly.
		if objErr == nil {
			out.CustomerID = string(obj.Customer)
			if obj.Object == "customer" {
				out.CustomerID = obj.ID
			}
		}
	}
	return out, nil
}

// webhookError maps an error of stripe-go's webhook package.
func (c *Client) webhookError(err error) error {
	var msg string
	switch {
	case errors.Is(err, webhook.ErrNotSigned):
		msg = "Webhook has no Stripe-Signature header."
	case errors.Is(err, webhook.ErrInvalidHeader):
		msg = "Webhook has a malformed Stripe-Signature header."
	case errors.Is(err, webhook.ErrNoValidSignature):
		msg = "Webhook signature does not match."
	case errors.Is(err, webhook.ErrTooOld):
		msg = "Webhook signature is too old."
	default:
		// Verified, but the body did not decode as an event (bad JSON,
		// a thin event, fields of the wrong type).
		return c.invalidEvent(err)
	}
	return &opError{op: "verify webhook", user: account.Errorf(account.EUNAUTHORIZED, "%s", msg), cause: err, redact: c.redact}
}

func (c *Client) invalidEvent(err error) error {
	return &opError{
		op:     "decode webhook",
		user:   account.Errorf(account.EINVALID, "Webhook payload is not a Stripe event."),
		cause:  err,
		redact: c.redact,
	}
}

// signedAt returns the time in a Stripe-Signature header
// ("t=1495999758,v1=…"), parsed as stripe-go does (the last t wins).
func signedAt(header string) (time.Time, bool) {
	var t time.Time
	ok := false
	for pair := range strings.SplitSeq(header, ",") {
		k, v, found := strings.Cut(pair, "=")
		if !found || k != "t" {
			continue
		}
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return time.Time{}, false // stripe-go refuses the header
		}
		t, ok = time.Unix(sec, 0), true
	}
	return t, ok
}

// eventObject is the part of an event's data.object ParseWebhook reads, for
// a Checkout Session, a subscription, an invoice or anything else.
type eventObject struct {
	ID                string     `json:"id"`
	Object            string     `json:"object"` // "checkout.session", "subscription", "invoice", …
	Customer          expandable `json:"customer"`
	Subscription      expandable `json:"subscription"` // session; invoice before 2025-03-31.basil
	ClientReferenceID string     `json:"client_reference_id"`
	Parent            *struct {
		SubscriptionDetails *struct {
			Subscription expandable `json:"subscription"`
		} `json:"subscription_details"`
	} `json:"parent"` // invoice since 2025-03-31.basil
}

func (o *eventObject) invoiceSubscription() string {
	if p := o.Parent; p != nil && p.SubscriptionDetails != nil && p.SubscriptionDetails.Subscription != "" {
		return string(p.SubscriptionDetails.Subscription)
	}
	return string(o.Subscription)
}

// expandable is a reference Stripe sends as the object's id or, expanded,
// as the object itself; either way it holds the id. null is "".
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return errors.New("empty reference")
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandable(s)
	case b[0] == '{':
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*e = expandable(o.ID)
	case string(b) == "null":
		*e = ""
	default:
		return fmt.Errorf("reference is neither an id nor an object: %.20s", b)
	}
	return nil
}
