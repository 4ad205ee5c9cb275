package stripe_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	stripego "github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/stripe"
	"github.com/replica3d/replica/internal/stripemock"
)

// Secrets that must never show in an error. stripe-mock accepts any key
// that looks like a test-mode secret key.
const (
	testKey           = "sk_test_replica51HcG2eZvKYlo2CzDn4T0k"
	testWebhookSecret = "whsec_replicaQ9v3kLm2Xw8pRt5Yz"
)

// The API version stripe-go v85 pins; events are built in it too.
const apiVersion = "2026-03-25.dahlia"

// request is one request as it left the client.
type request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	Form         url.Values
}

// recorder is an http.RoundTripper that notes every request and passes it on.
type recorder struct {
	mu   sync.Mutex
	reqs []request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone()}
	// stripe-go sets GetBody: read a copy, leave req.Body to the transport.
	if req.GetBody != nil {
		if body, err := req.GetBody(); err == nil {
			b, _ := io.ReadAll(body)
			body.Close()
			rec.Form, _ = url.ParseQuery(string(b))
		}
	}
	r.mu.Lock()
	r.reqs = append(r.reqs, rec)
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

// last returns the one request made since the previous call of last.
// created returns the customer creation of CreateCustomer's two requests,
// after checking the first was the lookup by email (or none, for a user
// without one).
func (r *recorder) created(t *testing.T, email string) request {
	t.Helper()
	reqs := r.requests()
	r.mu.Lock()
	r.reqs = nil
	r.mu.Unlock()
	want := 2
	if email == "" {
		want = 1
	}
	if len(reqs) != want {
		t.Fatalf("CreateCustomer made %d requests, want %d", len(reqs), want)
	}
	if email != "" && (reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/customers" || reqs[0].Query.Get("email") != email) {
		t.Errorf("first request %s %s ?%s, want GET /v1/customers?email=%s", reqs[0].Method, reqs[0].Path, reqs[0].Query.Encode(), email)
	}
	return reqs[want-1]
}

func (r *recorder) last(t *testing.T) request {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.reqs) != 1 {
		t.Fatalf("%d requests reached the server, want 1", len(r.reqs))
	}
	req := r.reqs[0]
	r.reqs = nil
	return req
}

// newClient returns a Client for the Stripe API at backendURL whose
// requests rec records.
func newClient(t *testing.T, backendURL string, timeout time.Duration) (*stripe.Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := stripe.New(stripe.Config{
		SecretKey:     testKey,
		WebhookSecret: testWebhookSecret,
		BackendURL:    backendURL,
		HTTPClient:    &http.Client{Transport: rec, Timeout: timeout},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, rec
}

// checkHeaders checks what every request to Stripe must carry.
func checkHeaders(t *testing.T, r request) {
	t.Helper()
	if got, want := r.Header.Get("Authorization"), "Bearer "+testKey; got != want {
		t.Errorf("%s %s: Authorization header is not the secret key", r.Method, r.Path)
	}
	if got := r.Header.Get("Stripe-Version"); got != apiVersion {
		t.Errorf("%s %s: Stripe-Version = %q, want %q", r.Method, r.Path, got, apiVersion)
	}
}

// checkForm checks form fields of a request.
func checkForm(t *testing.T, r request, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got := r.Form.Get(k); got != v {
			t.Errorf("%s %s: %s = %q, want %q", r.Method, r.Path, k, got, v)
		}
	}
}

// noSecrets fails when err's text or user message holds a secret.
func noSecrets(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), account.ErrorMessage(err)} {
		if strings.Contains(s, testKey) || strings.Contains(s, testWebhookSecret) ||
			strings.Contains(s, "DO_NOT_LEAK") {
			t.Errorf("error reveals a secret: %s", s)
		}
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	noSecrets(t, err)
	if got := account.ErrorCode(err); got != code {
		t.Errorf("error %v: code %q, want %q", err, got, code)
	}
}

func TestNew(t *testing.T) {
	ok := stripe.Config{SecretKey: testKey, WebhookSecret: testWebhookSecret}
	if _, err := stripe.New(ok); err != nil {
		t.Fatalf("New(%s) = %v", "valid config", err)
	}
	for name, edit := range map[string]func(*stripe.Config){
		"no secret key":      func(c *stripe.Config) { c.SecretKey = "" },
		"no webhook secret":  func(c *stripe.Config) { c.WebhookSecret = "" },
		"negative tolerance": func(c *stripe.Config) { c.Tolerance = -time.Second },
		"relative URL":       func(c *stripe.Config) { c.BackendURL = "api.stripe.com" },
		"ftp URL":            func(c *stripe.Config) { c.BackendURL = "ftp://127.0.0.1:1" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			edit(&cfg)
			c, err := stripe.New(cfg)
			if err == nil || c != nil {
				t.Fatalf("New = %v, %v; want an error", c, err)
			}
			noSecrets(t, err)
		})
	}
}

func TestCreateCustomer(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)
	ctx := t.Context()

	u := &account.User{ID: "usr_ada", Email: "ada@example.com"}
	id, err := c.CreateCustomer(ctx, u)
	if err != nil {
		t.Fatalf("CreateCustomer: %v", err)
	}
	if !strings.HasPrefix(id, "cus_") {
		t.Errorf("CreateCustomer = %q, want a cus_ id", id)
	}
	first := rec.created(t, "ada@example.com")
	if first.Method != http.MethodPost || first.Path != "/v1/customers" {
		t.Errorf("request %s %s, want POST /v1/customers", first.Method, first.Path)
	}
	checkHeaders(t, first)
	checkForm(t, first, map[string]string{"email": "ada@example.com", "metadata[user_id]": "usr_ada"})
	key := first.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		t.Fatalf("Idempotency-Key %q, want 1 to 255 characters", key)
	}

	// A retry for the same user sends the same key: Stripe answers it with
	// the first customer. Another user gets another key.
	if _, err := c.CreateCustomer(ctx, u); err != nil {
		t.Fatal(err)
	}
	if got := rec.created(t, "ada@example.com").Header.Get("Idempotency-Key"); got != key {
		t.Errorf("retry's Idempotency-Key %q, want the first call's %q", got, key)
	}
	if _, err := c.CreateCustomer(ctx, &account.User{ID: "usr_bob", Email: "bob@example.com"}); err != nil {
		t.Fatal(err)
	}
	if got := rec.created(t, "bob@example.com").Header.Get("Idempotency-Key"); got == key {
		t.Errorf("two users share Idempotency-Key %q", key)
	}
	// A user id far longer than Stripe's 255-character limit still works.
	if _, err := c.CreateCustomer(ctx, &account.User{ID: strings.Repeat("x", 1000)}); err != nil {
		t.Errorf("CreateCustomer with a 1000-character user id: %v", err)
	}
	if got := rec.created(t, ""); got.Form.Has("email") {
		t.Errorf("user without an email: sent email=%q", got.Form.Get("email"))
	}

	for _, u := range []*account.User{nil, {Email: "no-id@example.com"}} {
		_, err := c.CreateCustomer(ctx, u)
		wantCode(t, err, account.EINVALID)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("invalid users made %d requests, want 0", n)
	}
}

// A customer made for the user before (its id never stored, the idempotency
// key long expired) is found by email and its user_id, not made again.
func TestCreateCustomerFindsEarlier(t *testing.T) {
	list := `{"object": "list", "url": "/v1/customers", "has_more": false, "data": [
		{"id": "cus_other", "object": "customer", "email": "ada@example.com", "metadata": {"user_id": "usr_someone_else"}},
		{"id": "cus_earlier", "object": "customer", "email": "ada@example.com", "metadata": {"user_id": "usr_ada"}}]}`
	c, rec := newClient(t, fakeStripe(t, http.StatusOK, nil, list), 0)
	id, err := c.CreateCustomer(t.Context(), &account.User{ID: "usr_ada", Email: "ada@example.com"})
	if err != nil || id != "cus_earlier" {
		t.Fatalf("CreateCustomer = %q, %v; want cus_earlier", id, err)
	}
	if got := rec.last(t); got.Method != http.MethodGet {
		t.Errorf("made a customer (%s %s) though one exists", got.Method, got.Path)
	}
}

func TestCheckoutURL(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)
	plan := account.DefaultPlans()[0]

	got, err := c.CheckoutURL(t.Context(), "cus_ada", "usr_ada", plan,
		"https://replica.example/billing/done", "https://replica.example/billing")
	if err != nil {
		t.Fatalf("CheckoutURL: %v", err)
	}
	if u, err := url.Parse(got); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("CheckoutURL = %q, want an https URL", got)
	}
	r := rec.last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/checkout/sessions" {
		t.Errorf("request %s %s, want POST /v1/checkout/sessions", r.Method, r.Path)
	}
	checkHeaders(t, r)
	checkForm(t, r, map[string]string{
		"mode":                                 "subscription",
		"customer":                             "cus_ada",
		"client_reference_id":                  "usr_ada",
		"line_items[0][price]":                 plan.PriceID,
		"line_items[0][quantity]":              "1",
		"success_url":                          "https://replica.example/billing/done",
		"cancel_url":                           "https://replica.example/billing",
		"subscription_data[metadata][user_id]": "usr_ada",
		"subscription_data[metadata][plan_id]": plan.ID,
	})
	if r.Form.Has("line_items[1][price]") {
		t.Errorf("more than one line item: %v", r.Form)
	}

	for name, call := range map[string]func() error{
		"no customer": func() error {
			_, err := c.CheckoutURL(t.Context(), "", "usr_ada", plan, "https://a", "https://b")
			return err
		},
		"no price": func() error {
			_, err := c.CheckoutURL(t.Context(), "cus_ada", "usr_ada", account.Plan{ID: "x"}, "https://a", "https://b")
			return err
		},
		"no success URL": func() error {
			_, err := c.CheckoutURL(t.Context(), "cus_ada", "usr_ada", plan, "", "https://b")
			return err
		},
	} {
		t.Run(name, func(t *testing.T) { wantCode(t, call(), account.EINVALID) })
	}
}

func TestPortalURL(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)

	got, err := c.PortalURL(t.Context(), "cus_ada", "https://replica.example/account")
	if err != nil {
		t.Fatalf("PortalURL: %v", err)
	}
	if u, err := url.Parse(got); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("PortalURL = %q, want an https URL", got)
	}
	r := rec.last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/billing_portal/sessions" {
		t.Errorf("request %s %s, want POST /v1/billing_portal/sessions", r.Method, r.Path)
	}
	checkHeaders(t, r)
	checkForm(t, r, map[string]string{"customer": "cus_ada", "return_url": "https://replica.example/account"})

	_, err = c.PortalURL(t.Context(), "", "https://replica.example/account")
	wantCode(t, err, account.EINVALID)
}

func TestSwitchPlanURL(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)
	sub := &account.Subscription{ID: "sub_ada", ItemID: "si_ada", PriceID: "price_maker_monthly"}
	studio := account.Plan{ID: "studio", PriceID: "price_studio_monthly"}
	got, err := c.SwitchPlanURL(t.Context(), "cus_ada", sub, studio, "https://replica.example/account")
	if err != nil {
		t.Fatalf("SwitchPlanURL: %v", err)
	}
	if u, err := url.Parse(got); err != nil || u.Scheme != "https" || u.Host == "" {
		t.Errorf("SwitchPlanURL = %q, want an https URL", got)
	}
	r := rec.last(t)
	if r.Method != http.MethodPost || r.Path != "/v1/billing_portal/sessions" {
		t.Errorf("request %s %s, want POST /v1/billing_portal/sessions", r.Method, r.Path)
	}
	checkHeaders(t, r)
	checkForm(t, r, map[string]string{
		"customer":        "cus_ada",
		"flow_data[type]": "subscription_update_confirm",
		"flow_data[subscription_update_confirm][subscription]":       "sub_ada",
		"flow_data[subscription_update_confirm][items][0][id]":       "si_ada",
		"flow_data[subscription_update_confirm][items][0][price]":    "price_studio_monthly",
		"flow_data[subscription_update_confirm][items][0][quantity]": "1",
		"flow_data[after_completion][type]":                          "redirect",
		"flow_data[after_completion][redirect][return_url]":          "https://replica.example/account",
	})
	for _, bad := range []*account.Subscription{nil, {ID: "sub_ada"}} {
		_, err = c.SwitchPlanURL(t.Context(), "cus_ada", bad, studio, "https://replica.example/account")
		wantCode(t, err, account.EINVALID)
	}
}

var statuses = map[account.Status]bool{
	account.StatusActive: true, account.StatusTrialing: true, account.StatusPastDue: true,
	account.StatusCanceled: true, account.StatusUnpaid: true, account.StatusIncomplete: true,
	account.StatusIncompleteExpired: true, account.StatusPaused: true,
}

func TestSubscription(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)

	const id = "sub_1PgcJ7B7WZ01zgkWreplica"
	s, err := c.Subscription(t.Context(), id)
	if err != nil {
		t.Fatalf("Subscription: %v", err)
	}
	r := rec.last(t)
	if r.Method != http.MethodGet || r.Path != "/v1/subscriptions/"+id {
		t.Errorf("request %s %s, want GET /v1/subscriptions/%s", r.Method, r.Path, id)
	}
	checkHeaders(t, r)

	// stripe-mock answers with its fixture, echoing the id.
	if s.ID != id {
		t.Errorf("ID = %q, want %q", s.ID, id)
	}
	if !statuses[s.Status] {
		t.Errorf("Status = %q, not a subscription status", s.Status)
	}
	if !strings.HasPrefix(s.CustomerID, "cus_") {
		t.Errorf("CustomerID = %q, want a cus_ id", s.CustomerID)
	}
	if !strings.HasPrefix(s.PriceID, "price_") {
		t.Errorf("PriceID = %q, want the first item's price_ id", s.PriceID)
	}
	// The fixture's period end is before its start (random fixture
	// values): check only that the item's period was read.
	if s.PeriodStart.IsZero() || s.PeriodEnd.IsZero() {
		t.Errorf("period %v – %v, want both read from the first item", s.PeriodStart, s.PeriodEnd)
	}
	if s.Created.IsZero() || s.Synced.IsZero() {
		t.Errorf("Created %v, Synced %v: want both set", s.Created, s.Synced)
	}
	if s.UserID != "" || s.PlanID != "" {
		t.Errorf("UserID %q, PlanID %q: want both left to the service", s.UserID, s.PlanID)
	}

	_, err = c.Subscription(t.Context(), "")
	wantCode(t, err, account.EINVALID)
}

// The exact mapping, from answers whose every value is known: the
// subscription as API 2026-03-25.dahlia sends it (period on the item), and
// as an older version did (period on the subscription).
func TestSubscriptionMapping(t *testing.T) {
	legacy := strings.Replace(subscription, `"status": "active"`,
		`"status": "past_due", "current_period_start": 1771804800, "current_period_end": 1774483200`, 1)
	legacy = strings.Replace(legacy, `"current_period_end": 1777075200,
      "current_period_start": 1774483200,`, "", 1)
	for _, tc := range []struct {
		name, body string
		want       account.Subscription
	}{
		{"period on the item", subscription, account.Subscription{
			ID: "sub_ada", CustomerID: "cus_ada", PriceID: "price_maker_monthly", ItemID: "si_ada", Status: account.StatusActive,
			PeriodStart: time.Unix(1774483200, 0).UTC(), PeriodEnd: time.Unix(1777075200, 0).UTC(),
			Created: time.Unix(1774400000, 0).UTC(),
		}},
		{"period on the subscription", legacy, account.Subscription{
			ID: "sub_ada", CustomerID: "cus_ada", PriceID: "price_maker_monthly", ItemID: "si_ada", Status: account.StatusPastDue,
			PeriodStart: time.Unix(1771804800, 0).UTC(), PeriodEnd: time.Unix(1774483200, 0).UTC(),
			Created: time.Unix(1774400000, 0).UTC(),
		}},
		{"ending at cancel_at", strings.Replace(subscription, `"cancel_at": null`, `"cancel_at": 1776000000`, 1), account.Subscription{
			ID: "sub_ada", CustomerID: "cus_ada", PriceID: "price_maker_monthly", ItemID: "si_ada", Status: account.StatusActive,
			PeriodStart: time.Unix(1774483200, 0).UTC(), PeriodEnd: time.Unix(1777075200, 0).UTC(),
			CancelAt: time.Unix(1776000000, 0).UTC(), Created: time.Unix(1774400000, 0).UTC(),
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, fakeStripe(t, http.StatusOK, nil, tc.body), 0)
			got, err := c.Subscription(t.Context(), "sub_ada")
			if err != nil {
				t.Fatal(err)
			}
			if got.Synced.IsZero() {
				t.Error("Synced not set")
			}
			got.Synced = time.Time{}
			if *got != tc.want {
				t.Errorf("Subscription =\n%+v\nwant\n%+v", *got, tc.want)
			}
		})
	}
}

// stripe-mock answers 404 to a path it does not know: an id with a slash
// is escaped by stripe-go and unescaped by stripe-mock into such a path.
func TestSubscriptionNotFound(t *testing.T) {
	m := stripemock.Start(t)
	c, rec := newClient(t, m.URL, 0)
	_, err := c.Subscription(t.Context(), "sub_gone/missing")
	wantCode(t, err, account.ENOTFOUND)
	if se, ok := errors.AsType[*stripego.Error](err); !ok || se.HTTPStatusCode != http.StatusNotFound {
		t.Errorf("error %v does not keep Stripe's 404", err)
	}
	checkHeaders(t, rec.last(t))
}

// Every call, as the four Client methods make it.
var calls = map[string]func(ctx context.Context, c *stripe.Client) error{
	"CreateCustomer": func(ctx context.Context, c *stripe.Client) error {
		_, err := c.CreateCustomer(ctx, &account.User{ID: "usr_ada", Email: "ada@example.com"})
		return err
	},
	"CheckoutURL": func(ctx context.Context, c *stripe.Client) error {
		_, err := c.CheckoutURL(ctx, "cus_ada", "usr_ada", account.DefaultPlans()[0], "https://a.example/ok", "https://a.example/")
		return err
	},
	"PortalURL": func(ctx context.Context, c *stripe.Client) error {
		_, err := c.PortalURL(ctx, "cus_ada", "https://a.example/")
		return err
	},
	"Subscription": func(ctx context.Context, c *stripe.Client) error {
		_, err := c.Subscription(ctx, "sub_ada")
		return err
	},
}

// stripe-mock refuses a live-mode key with 401 and echoes the whole
// Authorization header in its message: the key must not reach the error.
func TestRefusedKey(t *testing.T) {
	m := stripemock.Start(t)
	const liveKey = "sk_live_replica_DO_NOT_LEAK_7fQ2"
	c, err := stripe.New(stripe.Config{SecretKey: liveKey, WebhookSecret: testWebhookSecret, BackendURL: m.URL})
	if err != nil {
		t.Fatal(err)
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call(t.Context(), c)
			wantCode(t, err, account.EUNAVAILABLE)
			se, ok := errors.AsType[*stripego.Error](err)
			if !ok || se.HTTPStatusCode != http.StatusUnauthorized {
				t.Fatalf("error %v does not keep Stripe's 401", err)
			}
			if !strings.Contains(se.Msg, liveKey) {
				t.Logf("stripe-mock no longer echoes the key; the check below proves less")
			}
			if strings.Contains(err.Error(), liveKey) || strings.Contains(account.ErrorMessage(err), liveKey) {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
}

// A port nobody listens on: every call fails at once with EUNAVAILABLE
// (after stripe-go's two retries) and keeps the network error.
func TestUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	c, rec := newClient(t, closed, 0)
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := call(t.Context(), c)
			wantCode(t, err, account.EUNAVAILABLE)
			if got, want := account.ErrorMessage(err), "Billing is unavailable just now: try again in a minute"; got != want {
				t.Errorf("message %q, want %q", got, want)
			}
			if _, ok := errors.AsType[*net.OpError](err); !ok {
				t.Errorf("error %v does not keep the network error", err)
			}
		})
	}
	t.Cleanup(func() {
		if n := len(rec.requests()); n < len(calls) {
			t.Errorf("%d requests tried, want at least %d", n, len(calls))
		}
	})
}

// fakeStripe answers every request with status, header and body: Stripe's
// answers stripe-mock cannot give (5xx, 429, real 400 and 404 messages).
func fakeStripe(t *testing.T, status int, header http.Header, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestErrorMapping(t *testing.T) {
	// Stripe-Should-Retry: false stops stripe-go's retries of 429 and 5xx.
	noRetry := http.Header{"Stripe-Should-Retry": {"false"}}
	stripeErr := func(typ, code, msg string) string {
		return fmt.Sprintf(`{"error": {"type": %q, "code": %q, "message": %q, "doc_url": "https://docs.stripe.com/error-codes/%s"}}`, typ, code, msg, code)
	}
	for _, tc := range []struct {
		name    string
		status  int
		header  http.Header
		body    string
		code    string
		message string // "" for the unavailable message
	}{
		{"not found", 404, nil, stripeErr("invalid_request_error", "resource_missing", "No such subscription: 'sub_ada'"),
			account.ENOTFOUND, "No such subscription: 'sub_ada'"},
		{"bad request", 400, nil, stripeErr("invalid_request_error", "resource_missing", "No such price: 'price_maker_monthly'"),
			account.EINVALID, "No such price: 'price_maker_monthly'"},
		// A message naming our key (no real Stripe message does) is redacted.
		{"bad request naming the key", 400, nil, stripeErr("invalid_request_error", "parameter_invalid", "Bad key "+testKey+" here"),
			account.EINVALID, "Bad key [redacted] here"},
		{"card declined", 402, nil, stripeErr("card_error", "card_declined", "Your card was declined."),
			account.EINVALID, "Your card was declined."},
		{"key refused", 401, nil, stripeErr("invalid_request_error", "", "Invalid API Key provided: sk_test_****0k"),
			account.EUNAVAILABLE, ""},
		{"key lacks permission", 403, nil, stripeErr("invalid_request_error", "", "The provided key does not have access"),
			account.EUNAVAILABLE, ""},
		{"rate limited", 429, noRetry, stripeErr("invalid_request_error", "rate_limit", "Too many requests"),
			account.EUNAVAILABLE, ""},
		{"server error", 500, noRetry, stripeErr("api_error", "", "Something went wrong on Stripe's end."),
			account.EUNAVAILABLE, ""},
		{"proxy error page", 502, noRetry, "<html>Bad Gateway</html>",
			account.EUNAVAILABLE, ""},
		{"not JSON", 200, nil, "<html>captive portal</html>",
			account.EUNAVAILABLE, ""},
		{"empty answer", 200, nil, "{}",
			account.EUNAVAILABLE, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// An answer that is not Stripe's JSON error is retried twice
			// whatever its headers: run the cases side by side.
			t.Parallel()
			c, rec := newClient(t, fakeStripe(t, tc.status, tc.header, tc.body), 0)
			for name, call := range calls {
				err := call(t.Context(), c)
				wantCode(t, err, tc.code)
				want := tc.message
				if want == "" {
					want = "Billing is unavailable just now: try again in a minute"
				}
				if got := account.ErrorMessage(err); got != want {
					t.Errorf("%s: message %q, want %q", name, got, want)
				}
				if !strings.HasPrefix(err.Error(), "stripe ") {
					t.Errorf("%s: error %q lacks the operation", name, err)
				}
			}
			for _, r := range rec.requests() {
				checkHeaders(t, r)
			}
		})
	}
}

// A Stripe that accepts the connection and never answers: the HTTP
// client's timeout ends each try, and the call fails with EUNAVAILABLE.
func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	c, _ := newClient(t, srv.URL, 50*time.Millisecond)
	err := calls["Subscription"](t.Context(), c)
	wantCode(t, err, account.EUNAVAILABLE)

	// A cancelled caller: no retries, and the cause says so.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = calls["CheckoutURL"](ctx, c)
	wantCode(t, err, account.EUNAVAILABLE)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want it to wrap context.Canceled", err)
	}
}

// --- Webhooks ---

const created = 1774483200 // 2026-03-26T00:00:00Z

// event returns an event payload as Stripe sends it, of type typ about
// object, in API version version.
func event(typ, version, object string) []byte {
	return fmt.Appendf(nil, `{
  "id": "evt_1R2replica",
  "object": "event",
  "api_version": %q,
  "created": %d,
  "data": {
    "object": %s,
    "previous_attributes": null
  },
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": "req_8hQ2", "idempotency_key": "replica-create-customer-0f"},
  "type": %q
}`, version, created, object, typ)
}

const (
	checkoutSession = `{
  "id": "cs_test_a1b2",
  "object": "checkout.session",
  "client_reference_id": "usr_ada",
  "customer": "cus_ada",
  "mode": "subscription",
  "payment_status": "paid",
  "status": "complete",
  "subscription": "sub_ada",
  "metadata": {},
  "url": null
}`
	checkoutSessionExpanded = `{
  "id": "cs_test_a1b2",
  "object": "checkout.session",
  "client_reference_id": "usr_ada",
  "customer": {"id": "cus_ada", "object": "customer", "email": "ada@example.com"},
  "mode": "subscription",
  "status": "complete",
  "subscription": {"id": "sub_ada", "object": "subscription", "status": "active", "customer": "cus_ada"}
}`
	checkoutSessionPayment = `{
  "id": "cs_test_c3d4",
  "object": "checkout.session",
  "client_reference_id": null,
  "customer": null,
  "mode": "payment",
  "subscription": null
}`
	subscription = `{
  "id": "sub_ada",
  "object": "subscription",
  "billing_mode": {"type": "flexible"},
  "cancel_at": null,
  "cancel_at_period_end": false,
  "created": 1774400000,
  "customer": "cus_ada",
  "items": {
    "object": "list",
    "data": [{
      "id": "si_ada",
      "object": "subscription_item",
      "current_period_end": 1777075200,
      "current_period_start": 1774483200,
      "price": {"id": "price_maker_monthly", "object": "price", "recurring": {"interval": "month", "interval_count": 1}},
      "quantity": 1,
      "subscription": "sub_ada"
    }],
    "has_more": false
  },
  "metadata": {"plan_id": "maker", "user_id": "usr_ada"},
  "status": "active"
}`
	invoice = `{
  "id": "in_ada",
  "object": "invoice",
  "billing_reason": "subscription_cycle",
  "customer": "cus_ada",
  "parent": {
    "quote_details": null,
    "subscription_details": {"metadata": {"plan_id": "maker", "user_id": "usr_ada"}, "subscription": "sub_ada"},
    "type": "subscription_details"
  },
  "status": "paid"
}`
	invoiceLegacy = `{
  "id": "in_ada",
  "object": "invoice",
  "customer": "cus_ada",
  "subscription": "sub_ada",
  "status": "paid"
}`
	invoiceOneOff = `{
  "id": "in_once",
  "object": "invoice",
  "customer": "cus_ada",
  "parent": null,
  "status": "paid"
}`
)

// sign returns the Stripe-Signature header for payload, signed at ts.
func sign(payload []byte, secret string, ts time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: ts,
	}).Header
}

func webhookClient(tb testing.TB) *stripe.Client {
	tb.Helper()
	// ParseWebhook calls no API: the default backend is never reached.
	c, err := stripe.New(stripe.Config{SecretKey: testKey, WebhookSecret: testWebhookSecret})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestParseWebhook(t *testing.T) {
	c := webhookClient(t)
	at := time.Unix(created, 0).UTC()
	want := func(typ, sub, cus, ref string) *account.Event {
		return &account.Event{ID: "evt_1R2replica", Type: typ, Created: at, SubscriptionID: sub, CustomerID: cus, ClientReferenceID: ref}
	}
	type tcase struct {
		name    string
		payload []byte
		want    *account.Event
	}
	tests := []tcase{
		{"checkout completed", event("checkout.session.completed", apiVersion, checkoutSession),
			want("checkout.session.completed", "sub_ada", "cus_ada", "usr_ada")},
		{"checkout completed, expanded", event("checkout.session.completed", apiVersion, checkoutSessionExpanded),
			want("checkout.session.completed", "sub_ada", "cus_ada", "usr_ada")},
		{"checkout completed, payment mode", event("checkout.session.completed", apiVersion, checkoutSessionPayment),
			want("checkout.session.completed", "", "", "")},
		{"invoice, legacy top-level subscription", event("invoice.paid", "2024-06-20", invoiceLegacy),
			want("invoice.paid", "sub_ada", "cus_ada", "")},
		{"invoice, one-off", event("invoice.paid", apiVersion, invoiceOneOff),
			want("invoice.paid", "", "cus_ada", "")},
		// Another release train than stripe-go's: read, not refused.
		{"subscription, older API version", event("customer.subscription.updated", "2025-03-31.basil", subscription),
			want("customer.subscription.updated", "sub_ada", "cus_ada", "")},
		{"other type with a customer", event("payment_intent.succeeded", apiVersion, `{"id": "pi_1", "object": "payment_intent", "customer": "cus_ada"}`),
			want("payment_intent.succeeded", "", "cus_ada", "")},
		{"customer event", event("customer.updated", apiVersion, `{"id": "cus_ada", "object": "customer", "email": "ada@example.com"}`),
			want("customer.updated", "", "cus_ada", "")},
		// An event we do not act on is accepted whatever its object holds.
		{"other type, odd shape", event("issuing_card.created", apiVersion, `{"id": "ic_1", "object": "issuing.card", "customer": 42, "subscription": [1]}`),
			want("issuing_card.created", "", "", "")},
	}
	for _, typ := range []string{"created", "updated", "deleted", "paused", "resumed", "trial_will_end"} {
		typ = "customer.subscription." + typ
		tests = append(tests, tcase{typ, event(typ, apiVersion, subscription), want(typ, "sub_ada", "cus_ada", "")})
	}
	for _, typ := range []string{"invoice.paid", "invoice.payment_failed", "invoice.payment_succeeded"} {
		tests = append(tests, tcase{typ, event(typ, apiVersion, invoice), want(typ, "sub_ada", "cus_ada", "")})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.ParseWebhook(tc.payload, sign(tc.payload, testWebhookSecret, time.Now()))
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseWebhook =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseWebhookRefused(t *testing.T) {
	c := webhookClient(t)
	payload := event("customer.subscription.updated", apiVersion, subscription)
	now := time.Now()
	tolerance := stripe.DefaultTolerance
	big := append(bytes.Repeat([]byte(" "), stripe.MaxPayload), payload...)
	signed := func(p []byte) (string, []byte) { return sign(p, testWebhookSecret, now), p }
	tampered := bytes.Replace(payload, []byte("sub_ada"), []byte("sub_eve"), 1)
	v0 := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: testWebhookSecret, Scheme: "v0"}).Header

	for _, tc := range []struct {
		name    string
		header  string
		payload []byte
		code    string
	}{
		{"wrong secret", sign(payload, "whsec_someone_else", now), payload, account.EUNAUTHORIZED},
		{"stale", sign(payload, testWebhookSecret, now.Add(-tolerance-time.Minute)), payload, account.EUNAUTHORIZED},
		{"future", sign(payload, testWebhookSecret, now.Add(tolerance+time.Minute)), payload, account.EUNAUTHORIZED},
		{"no header", "", payload, account.EUNAUTHORIZED},
		{"garbage header", "garbage", payload, account.EUNAUTHORIZED},
		{"no time", "v1=" + strings.Repeat("ab", 32), payload, account.EUNAUTHORIZED},
		{"time only", fmt.Sprintf("t=%d", now.Unix()), payload, account.EUNAUTHORIZED},
		{"tampered body", sign(payload, testWebhookSecret, now), tampered, account.EUNAUTHORIZED},
		{"v0 signature only", v0, payload, account.EUNAUTHORIZED},
		{"another body's signature", sign([]byte(`{}`), testWebhookSecret, now), payload, account.EUNAUTHORIZED},
		{"oversized", sign(big, testWebhookSecret, now), big, account.ETOOLARGE},
		{"oversized, unsigned", "", big, account.ETOOLARGE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := c.ParseWebhook(tc.payload, tc.header)
			if ev != nil {
				t.Errorf("ParseWebhook = %+v, want nil", ev)
			}
			wantCode(t, err, tc.code)
		})
	}

	// Verified, but not an event we can read.
	for _, tc := range []struct {
		name    string
		payload []byte
	}{
		{"malformed JSON", []byte(`{"id": "evt_1", "object": "event", "type": `)},
		{"not JSON", []byte("id=evt_1&type=invoice.paid")},
		{"not an event", []byte(`{"object": "list", "data": []}`)},
		{"thin event", []byte(`{"id": "evt_1", "object": "v2.core.event", "type": "v1.billing.meter.error_report_triggered"}`)},
		{"no id", bytes.Replace(payload, []byte(`"evt_1R2replica"`), []byte(`""`), 1)},
		{"created is a string", bytes.Replace(payload, fmt.Appendf(nil, "%d", created), []byte(`"yesterday"`), 1)},
		{"no data", []byte(`{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1}`)},
		{"data.object not an object", event("invoice.paid", apiVersion, `"in_ada"`)},
		{"subscription without id", event("customer.subscription.updated", apiVersion, `{"object": "subscription", "customer": "cus_ada"}`)},
		{"subscription reference a number", event("checkout.session.completed", apiVersion, `{"id": "cs_1", "object": "checkout.session", "subscription": 42}`)},
		{"invoice parent a string", event("invoice.paid", apiVersion, `{"id": "in_1", "object": "invoice", "parent": "sub_ada"}`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := signed(tc.payload)
			ev, err := c.ParseWebhook(p, h)
			if ev != nil {
				t.Errorf("ParseWebhook = %+v, want nil", ev)
			}
			wantCode(t, err, account.EINVALID)
		})
	}
}

// The tolerance applies both ways; inside it, clocks may differ.
func TestParseWebhookTolerance(t *testing.T) {
	c, err := stripe.New(stripe.Config{SecretKey: testKey, WebhookSecret: testWebhookSecret, Tolerance: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	payload := event("invoice.paid", apiVersion, invoice)
	now := time.Now()
	for _, d := range []time.Duration{-50 * time.Minute, -time.Minute, time.Minute, 50 * time.Minute} {
		if _, err := c.ParseWebhook(payload, sign(payload, testWebhookSecret, now.Add(d))); err != nil {
			t.Errorf("signed %v from now, tolerance 1h: %v", d, err)
		}
	}
	for _, d := range []time.Duration{-70 * time.Minute, 70 * time.Minute} {
		_, err := c.ParseWebhook(payload, sign(payload, testWebhookSecret, now.Add(d)))
		wantCode(t, err, account.EUNAUTHORIZED)
	}
}

// A payload of exactly MaxPayload bytes is read; one byte more is not.
func TestParseWebhookMaxPayload(t *testing.T) {
	c := webhookClient(t)
	payload := event("invoice.paid", apiVersion, invoice)
	payload = append(payload, bytes.Repeat([]byte(" "), stripe.MaxPayload-len(payload))...)
	if _, err := c.ParseWebhook(payload, sign(payload, testWebhookSecret, time.Now())); err != nil {
		t.Errorf("payload of %d bytes: %v", len(payload), err)
	}
	payload = append(payload, ' ')
	_, err := c.ParseWebhook(payload, sign(payload, testWebhookSecret, time.Now()))
	wantCode(t, err, account.ETOOLARGE)
}

func FuzzParseWebhook(f *testing.F) {
	for _, p := range [][]byte{
		event("checkout.session.completed", apiVersion, checkoutSession),
		event("checkout.session.completed", apiVersion, checkoutSessionExpanded),
		event("customer.subscription.updated", apiVersion, subscription),
		event("invoice.paid", apiVersion, invoice),
		event("invoice.paid", "2024-06-20", invoiceLegacy),
		event("customer.updated", apiVersion, `{"id": "cus_ada", "object": "customer"}`),
		[]byte(`{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1, "data": {"object": {"parent": {"subscription_details": {"subscription": {"id": "sub_1"}}}}}}`),
		[]byte(`{"object": "event"}`),
		[]byte(`not json`),
	} {
		f.Add(p, "")
		f.Add(p, "t=1774483200,v1="+strings.Repeat("0", 64))
	}
	f.Add([]byte(`{}`), "t=99999999999999999999,v1=zz")
	f.Add([]byte(`{}`), "t=-1,v0=00,v1=,,=")
	c := webhookClient(f)
	f.Fuzz(func(t *testing.T, payload []byte, header string) {
		// Signed now with the right secret: the JSON decoding is reached
		// (and verification must pass).
		ev, err := c.ParseWebhook(payload, sign(payload, testWebhookSecret, time.Now()))
		checkParsed(t, payload, ev, err)
		if code := account.ErrorCode(err); code == account.EUNAUTHORIZED {
			t.Errorf("validly signed payload refused: %v", err)
		}
		// The raw header: verification's parsing of it is reached.
		ev, err = c.ParseWebhook(payload, header)
		checkParsed(t, payload, ev, err)
	})
}

func checkParsed(t *testing.T, payload []byte, ev *account.Event, err error) {
	t.Helper()
	if err != nil {
		noSecrets(t, err)
		if ev != nil {
			t.Errorf("ParseWebhook returned both %+v and %v", ev, err)
		}
		switch code := account.ErrorCode(err); code {
		case account.EUNAUTHORIZED, account.EINVALID, account.ETOOLARGE:
		default:
			t.Errorf("error %v: code %q, want unauthorized, invalid or too_large", err, code)
		}
		return
	}
	if len(payload) > stripe.MaxPayload {
		t.Errorf("payload of %d bytes accepted", len(payload))
	}
	if ev == nil || ev.ID == "" || ev.Type == "" {
		t.Errorf("ParseWebhook = %+v, want an event with an id and a type", ev)
	}
}
