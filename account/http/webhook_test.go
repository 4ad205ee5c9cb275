package http

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/stripe"
	"github.com/replica3d/replica/internal/stripemock"
)

// stripe-mock's fixture subscription belongs to this customer, whatever id
// is asked for.
const mockCustomer = "cus_QXg1o8vcGmoR32"

const (
	stripeKey     = "sk_test_replicaHTTP51Hx" // stripe-mock takes only letters and digits after sk_test_
	webhookSecret = "whsec_replica_http_test_secret"
)

func init() { secrets.add(stripeKey, webhookSecret) }

// countingBilling counts the subscription reads that applying an event
// makes, so a test can tell an event applied from one ignored.
type countingBilling struct {
	account.Billing
	reads atomic.Int32
}

func (c *countingBilling) Subscription(ctx context.Context, id string) (*account.Subscription, error) {
	c.reads.Add(1)
	return c.Billing.Subscription(ctx, id)
}

// stripeEnv is a service billing through the real account/stripe client
// against stripe-mock.
func stripeEnv(t *testing.T) (*env, *countingBilling) {
	t.Helper()
	m := stripemock.Start(t)
	sc, err := stripe.New(stripe.Config{SecretKey: stripeKey, WebhookSecret: webhookSecret, BackendURL: m.URL})
	if err != nil {
		t.Fatal(err)
	}
	cb := &countingBilling{Billing: sc}
	return newEnv(t, envOptions{billing: cb}), cb
}

// event is a Stripe event of type about stripe-mock's subscription.
func event(id, typ string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2025-10-29.clover","created":1773489600,"livemode":false,`+
		`"pending_webhooks":1,"type":%q,"data":{"object":{"id":"sub_replica1","object":"subscription","customer":%q}}}`,
		id, typ, mockCustomer)
}

// sign signs a payload as Stripe does, at a time.
func sign(payload []byte, secret string, at time.Time) string {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	secrets.add(sp.Header, fmt.Sprintf("%x", sp.Signature))
	return sp.Header
}

func postWebhook(e *env, payload []byte, sig string) (int, string) {
	e.t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if sig != "" {
		h.Set("Stripe-Signature", sig)
	}
	resp := e.do("POST", "/webhooks/stripe", strings.NewReader(string(payload)), h)
	return resp.StatusCode, body(e.t, resp)
}

func TestWebhook(t *testing.T) {
	e, cb := stripeEnv(t)
	ctx := t.Context()
	ada := e.user("ada@example.com")
	if err := e.store.SetCustomer(ctx, ada.ID, mockCustomer); err != nil {
		t.Fatal(err)
	}
	payload := event("evt_replica_1", "customer.subscription.updated")
	now := time.Now()

	// Refused before anything is read from Stripe.
	refused := []struct {
		name    string
		payload []byte
		sig     string
		status  int
	}{
		{"unsigned", payload, "", 400},
		{"malformed signature", payload, "v1=abc", 400},
		{"wrong secret", payload, sign(payload, "whsec_someone_else", now), 400},
		{"stale timestamp", payload, sign(payload, webhookSecret, now.Add(-10*time.Minute)), 400},
		{"from the future", payload, sign(payload, webhookSecret, now.Add(10*time.Minute)), 400},
		{"tampered", event("evt_replica_2", "customer.subscription.updated"), sign(payload, webhookSecret, now), 400},
		{"over 256 KiB", append(payload[:len(payload):len(payload)], strings.Repeat(" ", 256<<10)...), sign(payload, webhookSecret, now), 413},
	}
	for _, tt := range refused {
		if status, b := postWebhook(e, tt.payload, tt.sig); status != tt.status {
			t.Errorf("%s: = %d %s, want %d", tt.name, status, b, tt.status)
		}
	}
	if n := cb.reads.Load(); n != 0 {
		t.Fatalf("refused deliveries read %d subscriptions from Stripe", n)
	}
	if _, err := e.store.Subscription(ctx, ada.ID); account.ErrorCode(err) != account.ENOTFOUND {
		t.Fatalf("a refused delivery stored a subscription: %v", err)
	}

	// Valid: applied.
	sig := sign(payload, webhookSecret, now)
	if status, b := postWebhook(e, payload, sig); status != 200 {
		t.Fatalf("valid delivery = %d %s, want 200", status, b)
	}
	if n := cb.reads.Load(); n != 1 {
		t.Errorf("valid delivery read %d subscriptions, want 1", n)
	}
	sub, err := e.store.Subscription(ctx, ada.ID)
	if err != nil || sub.CustomerID != mockCustomer {
		t.Fatalf("after the delivery: subscription %+v, %v", sub, err)
	}

	// Replayed as is, and delivered again with a new signature: 200 (so
	// Stripe stops retrying), never applied twice.
	if status, b := postWebhook(e, payload, sig); status != 200 {
		t.Errorf("replay = %d %s, want 200", status, b)
	}
	if status, b := postWebhook(e, payload, sign(payload, webhookSecret, now.Add(time.Second))); status != 200 {
		t.Errorf("duplicate event id = %d %s, want 200", status, b)
	}
	if n := cb.reads.Load(); n != 1 {
		t.Errorf("after a replay and a duplicate, %d subscription reads; want 1", n)
	}

	// Another event is applied.
	other := event("evt_replica_3", "invoice.paid")
	if status, b := postWebhook(e, other, sign(other, webhookSecret, now)); status != 200 {
		t.Errorf("second event = %d %s", status, b)
	}
}

// Stripe unreachable while applying: 503 so Stripe retries, and the retry
// applies the event.
func TestWebhookRetry(t *testing.T) {
	down := true
	var reads int
	billing := &fakeBilling{
		ParseWebhookFn: func(payload []byte, header string) (*account.Event, error) {
			return &account.Event{ID: "evt_1", Type: "customer.subscription.updated", SubscriptionID: "sub_1", CustomerID: "cus_1"}, nil
		},
		SubscriptionFn: func(ctx context.Context, id string) (*account.Subscription, error) {
			reads++
			if down {
				return nil, account.Errorf(account.EUNAVAILABLE, "Billing is unavailable just now: try again in a minute")
			}
			return &account.Subscription{ID: id, CustomerID: "cus_nobody", Status: account.StatusActive}, nil
		},
	}
	e := newEnv(t, envOptions{billing: billing})
	if status, b := postWebhook(e, []byte(`{}`), "t=1,v1=00"); status != http.StatusServiceUnavailable {
		t.Errorf("Stripe down = %d %s, want 503", status, b)
	}
	down = false
	for range 2 {
		if status, b := postWebhook(e, []byte(`{}`), "t=1,v1=00"); status != http.StatusOK {
			t.Errorf("retry = %d %s, want 200", status, b)
		}
	}
	if reads != 2 {
		t.Errorf("%d subscription reads, want 2 (the failed one and the retry)", reads)
	}

	// No billing configured: 503 as well.
	e = newEnv(t, envOptions{billing: noBilling})
	if status, _ := postWebhook(e, []byte(`{}`), "t=1,v1=00"); status != http.StatusServiceUnavailable {
		t.Errorf("no billing = %d, want 503", status)
	}
}

// Checkout and portal links come from Stripe through the real client.
func TestStripeLinks(t *testing.T) {
	e, _ := stripeEnv(t)
	ctx := t.Context()
	ada := e.user("ada@example.com")
	tok, _ := e.token(ada, "CLI")
	c := e.client(tok)

	u, err := c.Checkout(ctx, "maker")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://checkout.stripe.com/") {
		t.Errorf("Checkout = %q, want a Stripe Checkout URL", u)
	}
	got, err := e.store.User(ctx, ada.ID)
	if err != nil || !strings.HasPrefix(got.CustomerID, "cus_") {
		t.Errorf("after Checkout the user's customer is %q, %v", got.CustomerID, err)
	}
	u, err = c.Portal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, "https://") {
		t.Errorf("Portal = %q, want an https URL (stripe-mock's fixture)", u)
	}
	portal := u

	// And from the account page, as redirects.
	b := e.browser()
	b.signIn("ada@example.com")
	resp, _ := b.post("/account", "/account/portal", nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != portal {
		t.Errorf("portal from the page = %d to %q", resp.StatusCode, loc)
	}
}

// stateBilling verifies webhooks with the real account/stripe client but
// answers Subscription from a map: the state Stripe holds now. stripe-mock
// is stateless (every subscription is its one fixture), so only this can
// show deliveries out of order converging on Stripe's state.
type stateBilling struct {
	*stripe.Client
	mu   sync.Mutex
	subs map[string]account.Subscription
}

func (b *stateBilling) set(s account.Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.subs[s.ID] = s
}

func (b *stateBilling) Subscription(ctx context.Context, id string) (*account.Subscription, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	s, ok := b.subs[id]
	if !ok {
		return nil, account.Errorf(account.ENOTFOUND, "no such subscription")
	}
	return &s, nil
}

// subEvent is a signed-ready Stripe event about subscription sub.
func subEvent(id, typ, sub, customer string, created int64) []byte {
	return fmt.Appendf(nil, `{"id":%q,"object":"event","api_version":"2026-03-25.dahlia","created":%d,"livemode":false,`+
		`"pending_webhooks":1,"type":%q,"data":{"object":{"id":%q,"object":"subscription","customer":%q}}}`,
		id, created, typ, sub, customer)
}

// Stripe delivers events in any order. Here the subscription was made
// (Maker), upgraded (Pro) and then canceled; the events arrive newest first,
// signed as Stripe signs them. The account ends canceled, as Stripe holds it,
// and a second customer's upgrade that arrives before its creation ends on
// Pro with Pro's quota.
func TestWebhookOutOfOrder(t *testing.T) {
	sc, err := stripe.New(stripe.Config{SecretKey: stripeKey, WebhookSecret: webhookSecret, BackendURL: "http://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	b := &stateBilling{Client: sc, subs: map[string]account.Subscription{}}
	e := newEnv(t, envOptions{billing: b})
	ctx := t.Context()
	now := e.now()
	start, end := now.Add(-time.Hour), now.Add(30*24*time.Hour)
	deliver := func(payload []byte) {
		t.Helper()
		if status, body := postWebhook(e, payload, sign(payload, webhookSecret, time.Now())); status != 200 {
			t.Fatalf("delivery = %d %s", status, body)
		}
	}

	ada := e.user("ada@example.com")
	e.store.SetCustomer(ctx, ada.ID, "cus_ada")
	b.set(account.Subscription{ID: "sub_ada", CustomerID: "cus_ada", PriceID: "price_pro_monthly", Status: account.StatusCanceled, PeriodStart: start, PeriodEnd: end})
	t0 := now.Unix()
	deliver(subEvent("evt_a3", "customer.subscription.deleted", "sub_ada", "cus_ada", t0+2))
	deliver(subEvent("evt_a1", "customer.subscription.created", "sub_ada", "cus_ada", t0))
	deliver(subEvent("evt_a2", "customer.subscription.updated", "sub_ada", "cus_ada", t0+1))
	tok, _ := e.token(ada, "CLI")
	me, err := e.client(tok).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Status != account.StatusCanceled || me.Cloud || me.Remaining != 0 {
		t.Errorf("ada after deleted, created, updated: status %q cloud %v remaining %d; want canceled, false, 0", me.Status, me.Cloud, me.Remaining)
	}

	bob := e.user("bob@example.com")
	e.store.SetCustomer(ctx, bob.ID, "cus_bob")
	b.set(account.Subscription{ID: "sub_bob", CustomerID: "cus_bob", PriceID: "price_pro_monthly", Status: account.StatusActive, LatestInvoicePaid: true, PeriodStart: start, PeriodEnd: end})
	deliver(subEvent("evt_b2", "customer.subscription.updated", "sub_bob", "cus_bob", t0+1))
	deliver(subEvent("evt_b1", "customer.subscription.created", "sub_bob", "cus_bob", t0))
	tok, _ = e.token(bob, "CLI")
	me, err = e.client(tok).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Plan != "pro" || !me.Cloud || me.Quota != 60 || me.Remaining != 60 {
		t.Errorf("bob after updated, created: plan %q cloud %v quota %d remaining %d; want pro, true, 60, 60", me.Plan, me.Cloud, me.Quota, me.Remaining)
	}
	entries, err := e.svc.Ledger(ctx, bob.ID, 0)
	if err != nil || len(entries) != 1 || entries[0].Delta != 60 {
		t.Errorf("bob's ledger after two deliveries: %+v %v; want one grant of 60", entries, err)
	}
}
