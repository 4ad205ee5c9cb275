package account_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/bolt"
)

// fakeStripe holds subscriptions as Stripe would: the current state, which
// is what Subscription answers whatever event asked. Its webhook "signature"
// is the header "ok", and the payload is an account.Event as JSON. Only the
// account/stripe tests exercise the real API (against stripe-mock); these
// test the service's logic around it.
type fakeStripe struct {
	mu        sync.Mutex
	subs      map[string]*account.Subscription
	reads     atomic.Int64
	customers atomic.Int64
	down      atomic.Bool   // Stripe unreachable
	hook      func(n int64) // called with each read's number, outside the lock
}

var _ account.Billing = (*fakeStripe)(nil)

func (f *fakeStripe) set(s account.Subscription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[string]*account.Subscription{}
	}
	f.subs[s.ID] = &s
}

func (f *fakeStripe) CreateCustomer(ctx context.Context, u *account.User) (string, error) {
	if f.down.Load() {
		return "", account.Errorf(account.EUNAVAILABLE, "down")
	}
	f.customers.Add(1)
	return "cus_" + u.ID, nil
}

func (f *fakeStripe) CheckoutURL(ctx context.Context, customerID, userID string, plan account.Plan, successURL, cancelURL string) (string, error) {
	return "https://checkout.stripe.test/" + customerID + "/" + plan.PriceID, nil
}

func (f *fakeStripe) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	return "https://billing.stripe.test/" + customerID, nil
}

func (f *fakeStripe) SwitchPlanURL(ctx context.Context, customerID string, sub *account.Subscription, plan account.Plan, returnURL string) (string, error) {
	return "https://billing.stripe.test/" + customerID + "/switch/" + sub.ItemID + "/" + plan.PriceID, nil
}

func (f *fakeStripe) Subscription(ctx context.Context, id string) (*account.Subscription, error) {
	if f.down.Load() {
		return nil, account.Errorf(account.EUNAVAILABLE, "Billing is unavailable just now.")
	}
	n := f.reads.Add(1)
	f.mu.Lock()
	s, ok := f.subs[id]
	var c account.Subscription
	if ok {
		c = *s
	}
	f.mu.Unlock()
	if f.hook != nil {
		f.hook(n) // after the read: a stall here returns the state read before it
	}
	if !ok {
		return nil, account.Errorf(account.ENOTFOUND, "no such subscription")
	}
	return &c, nil
}

func (f *fakeStripe) ParseWebhook(payload []byte, header string) (*account.Event, error) {
	if header != "ok" {
		return nil, account.Errorf(account.EUNAUTHORIZED, "bad signature")
	}
	var ev account.Event
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, account.Errorf(account.EINVALID, "bad payload")
	}
	return &ev, nil
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

type fixture struct {
	svc    *account.Service
	stripe *fakeStripe
	clock  *clock
	logs   *bytes.Buffer
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := bolt.Open(filepath.Join(t.TempDir(), "account.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{stripe: &fakeStripe{}, clock: &clock{t: t0}, logs: &bytes.Buffer{}}
	f.svc = &account.Service{Store: store, Billing: f.stripe, Plans: account.DefaultPlans(), Now: f.clock.Now,
		Log: slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, nil)), DeviceInterval: 5 * time.Second}
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) user(t *testing.T, email string) *account.User {
	t.Helper()
	u, err := f.svc.SignUp(context.Background(), email, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// subscribe makes the user a customer with a subscription in state st on
// price, as Stripe holds it, and delivers the event that announces it.
func (f *fixture) subscribe(t *testing.T, u *account.User, id string, st account.Status, price string) {
	t.Helper()
	ctx := context.Background()
	if _, err := f.svc.Checkout(ctx, u.ID, "maker", "https://x/ok", "https://x/no"); err != nil {
		t.Fatal(err)
	}
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: id, CustomerID: "cus_" + u.ID, PriceID: price, Status: st,
		PeriodStart: f.clock.Now(), PeriodEnd: f.clock.Now().AddDate(0, 1, 0)})
	f.deliver(t, account.Event{ID: "evt_" + id + "_created", Type: "customer.subscription.created", SubscriptionID: id, CustomerID: "cus_" + u.ID})
}

func (f *fixture) deliver(t *testing.T, ev account.Event) {
	t.Helper()
	b, _ := json.Marshal(ev)
	if err := f.svc.HandleWebhook(context.Background(), b, "ok"); err != nil {
		t.Fatalf("HandleWebhook(%s): %v", ev.Type, err)
	}
}

func (f *fixture) me(t *testing.T, u *account.User) *account.Me {
	t.Helper()
	me, err := f.svc.Me(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return me
}

func TestWebhookOutOfOrder(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	if me := f.me(t, u); !me.Cloud || me.Plan != "maker" || me.Remaining != 15 {
		t.Fatalf("after created: %+v", me)
	}
	// Stripe now: upgraded to Pro, then canceled. The events arrive
	// newest first: deleted, then the older updated (upgrade).
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_pro_monthly", Status: account.StatusCanceled,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	f.deliver(t, account.Event{ID: "evt_3", Type: "customer.subscription.deleted", SubscriptionID: "sub_1"})
	f.deliver(t, account.Event{ID: "evt_2", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	me := f.me(t, u)
	if me.Status != account.StatusCanceled || me.Cloud || me.Remaining != 0 {
		t.Errorf("after out-of-order delivery: status %q cloud %v remaining %d, want canceled, no cloud, 0", me.Status, me.Cloud, me.Remaining)
	}
	if _, err := f.svc.ReserveJob(context.Background(), u.ID, "job1"); account.ErrorCode(err) != account.EPAYMENT {
		t.Errorf("ReserveJob on a canceled plan: %v, want %s", err, account.EPAYMENT)
	}
}

func TestWebhookDuplicatesAndRetries(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	reads := f.stripe.reads.Load()
	ev := account.Event{ID: "evt_dup", Type: "invoice.paid", SubscriptionID: "sub_1"}
	f.deliver(t, ev)
	f.deliver(t, ev)
	f.deliver(t, ev)
	if got := f.stripe.reads.Load() - reads; got != 1 {
		t.Errorf("an event delivered 3 times read Stripe %d times, want 1", got)
	}
	// Stripe unreachable: the delivery fails (Stripe will retry) and is not
	// recorded, so the retry applies it.
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_pro_monthly", Status: account.StatusActive,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	f.stripe.down.Store(true)
	b, _ := json.Marshal(account.Event{ID: "evt_up", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	if err := f.svc.HandleWebhook(context.Background(), b, "ok"); account.ErrorCode(err) != account.EUNAVAILABLE {
		t.Fatalf("with Stripe down: %v, want %s", err, account.EUNAVAILABLE)
	}
	f.stripe.down.Store(false)
	if err := f.svc.HandleWebhook(context.Background(), b, "ok"); err != nil {
		t.Fatal(err)
	}
	if me := f.me(t, u); me.Plan != "pro" || me.Quota != 60 || me.Remaining != 60 {
		t.Errorf("after the retried upgrade: plan %q quota %d remaining %d, want pro 60 60", me.Plan, me.Quota, me.Remaining)
	}
	if err := f.svc.HandleWebhook(context.Background(), b, "forged"); account.ErrorCode(err) != account.EUNAUTHORIZED {
		t.Errorf("bad signature: %v", err)
	}
	// Events the service does not act on are acknowledged.
	f.deliver(t, account.Event{ID: "evt_other", Type: "charge.refunded"})
}

func TestEntitlements(t *testing.T) {
	plans := account.DefaultPlans()
	start := t0
	sub := func(st account.Status) *account.Subscription {
		return &account.Subscription{Status: st, PriceID: "price_pro_monthly", PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0)}
	}
	for _, tc := range []struct {
		name  string
		sub   *account.Subscription
		now   time.Time
		cloud bool
	}{
		{"none", nil, t0, false},
		{"active", sub(account.StatusActive), t0, true},
		{"trialing", sub(account.StatusTrialing), t0, true},
		{"past_due in grace", sub(account.StatusPastDue), t0.Add(account.DefaultGrace - time.Minute), true},
		{"past_due after grace", sub(account.StatusPastDue), t0.Add(account.DefaultGrace), false},
		{"canceled", sub(account.StatusCanceled), t0, false},
		{"unpaid", sub(account.StatusUnpaid), t0, false},
		{"incomplete", sub(account.StatusIncomplete), t0, false},
		{"incomplete_expired", sub(account.StatusIncompleteExpired), t0, false},
		{"paused", sub(account.StatusPaused), t0, false},
		{"unknown price", &account.Subscription{Status: account.StatusActive, PriceID: "price_gone"}, t0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := account.Entitle(tc.sub, plans, tc.now, account.DefaultGrace)
			if e.Cloud != tc.cloud {
				t.Errorf("Cloud = %v, want %v (%+v)", e.Cloud, tc.cloud, e)
			}
			if !e.Cloud && e.Reason == "" {
				t.Error("no reason given for refusing cloud processing")
			}
		})
	}
}

func TestCancelAt(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	ends := t0.Add(10 * 24 * time.Hour)
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_maker_monthly", Status: account.StatusActive,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0), CancelAt: ends})
	f.deliver(t, account.Event{ID: "evt_cancel_at", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	me := f.me(t, u)
	if !me.CancelAtPeriodEnd || !me.PeriodEnd.Equal(ends) || !me.Cloud {
		t.Errorf("a subscription ending at cancel_at: ends %v (cancel %v), cloud %v; want %v, true, true", me.PeriodEnd, me.CancelAtPeriodEnd, me.Cloud, ends)
	}
}

func TestPastDueGrace(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	// The renewal fails: a new period, past_due.
	f.clock.Add(31 * 24 * time.Hour)
	now := f.clock.Now()
	f.stripe.set(account.Subscription{ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_maker_monthly", Status: account.StatusPastDue,
		PeriodStart: now, PeriodEnd: now.AddDate(0, 1, 0)})
	f.deliver(t, account.Event{ID: "evt_failed", Type: "invoice.payment_failed", SubscriptionID: "sub_1"})
	// The renewal is unpaid: the new period holds the provisional tenth.
	me := f.me(t, u)
	if !me.Cloud || me.Quota != account.Provisional(15) || me.Remaining != 2 || me.GraceUntil.IsZero() {
		t.Fatalf("past_due in grace: %+v", me)
	}
	f.clock.Add(account.DefaultGrace + time.Hour)
	me = f.me(t, u)
	if me.Cloud || me.Remaining != 0 || !strings.Contains(me.Reason, "payment failed") {
		t.Errorf("past_due after grace: cloud %v remaining %d reason %q", me.Cloud, me.Remaining, me.Reason)
	}
}

func TestJobsRefundAndExpire(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	for _, job := range []string{"ok", "fails", "abandoned", "cancelled"} {
		if _, err := f.svc.ReserveJob(ctx, u.ID, job); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := f.svc.ReserveJob(ctx, u.ID, "ok"); err != nil || r.State != account.Reserved {
		t.Fatalf("reserving a job twice: %v %v", r, err)
	}
	if me := f.me(t, u); me.Reserved != 4 || me.Remaining != 11 {
		t.Fatalf("after 4 reservations: reserved %d remaining %d", me.Reserved, me.Remaining)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.svc.StartJob(ctx, u.ID, "ok"))
	must(f.svc.CommitJob(ctx, u.ID, "ok"))
	must(f.svc.StartJob(ctx, u.ID, "fails"))
	must(f.svc.RefundJob(ctx, u.ID, "fails", "colmap mapper found no model"))
	must(f.svc.RefundJob(ctx, u.ID, "cancelled", "cancelled by user"))
	if err := f.svc.RefundJob(ctx, u.ID, "ok", "after success"); account.ErrorCode(err) != account.ECONFLICT {
		t.Errorf("refunding a committed job: %v, want %s", err, account.ECONFLICT)
	}
	if _, err := f.svc.ReserveJob(ctx, u.ID, "../../etc"); account.ErrorCode(err) != account.EINVALID {
		t.Errorf("hostile job id: %v", err)
	}
	f.clock.Add(2 * time.Hour)
	must(f.svc.Sweep(ctx))
	me := f.me(t, u)
	if me.Used != 1 || me.Reserved != 0 || me.Remaining != 14 {
		t.Errorf("after commit, refunds and expiry: used %d reserved %d remaining %d, want 1 0 14", me.Used, me.Reserved, me.Remaining)
	}
	entries, err := f.svc.Ledger(ctx, u.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	sum, kinds := 0, map[account.EntryKind]int{}
	for _, e := range entries {
		sum += e.Delta
		kinds[e.Kind]++
	}
	if sum != me.Remaining {
		t.Errorf("ledger deltas sum to %d, remaining is %d", sum, me.Remaining)
	}
	want := map[account.EntryKind]int{account.EntryGrant: 1, account.EntryReserve: 4, account.EntryCommit: 1, account.EntryRefund: 2, account.EntryExpire: 1}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("ledger kinds %v, want %v", kinds, want)
	}
}

func TestConcurrentJobReservations(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	const n = 200
	var ok, quota, other atomic.Int64
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := f.svc.ReserveJob(ctx, u.ID, fmt.Sprintf("job-%03d", i))
			switch account.ErrorCode(err) {
			case "":
				ok.Add(1)
			case account.EQUOTA:
				quota.Add(1)
				if account.ErrorMessage(err) == "" {
					t.Error("quota error without a message")
				}
			default:
				other.Add(1)
				t.Errorf("ReserveJob: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	if ok.Load() != 15 || quota.Load() != n-15 || other.Load() != 0 {
		t.Errorf("%d reservations against 15 models: %d succeeded, %d quota errors, %d other; want 15, %d, 0", n, ok.Load(), quota.Load(), other.Load(), n-15)
	}
	me := f.me(t, u)
	entries, _ := f.svc.Ledger(ctx, u.ID, 1000)
	sum := 0
	for _, e := range entries {
		sum += e.Delta
	}
	if me.Reserved != 15 || me.Remaining != 0 || sum != 0 {
		t.Errorf("after the rush: reserved %d remaining %d ledger sum %d, want 15 0 0", me.Reserved, me.Remaining, sum)
	}
}

func TestDeviceFlow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	dc, err := f.svc.StartDevice(ctx, "Replica on ada-laptop")
	if err != nil {
		t.Fatal(err)
	}
	if account.NormalizeUserCode(strings.ToLower(dc.UserCode)) != dc.UserCode || dc.Interval != 5 || dc.ExpiresIn != 600 {
		t.Fatalf("device code %+v", dc)
	}
	poll := func() string {
		t.Helper()
		tok, err := f.svc.PollDevice(ctx, dc.DeviceCode)
		if err != nil {
			return account.ErrorCode(err)
		}
		return tok
	}
	if got := poll(); got != account.EPENDING {
		t.Fatalf("first poll: %q, want %s", got, account.EPENDING)
	}
	f.clock.Add(time.Second)
	if got := poll(); got != account.ESLOWDOWN {
		t.Errorf("poll 1 s later: %q, want %s", got, account.ESLOWDOWN)
	}
	f.clock.Add(11 * time.Second)
	if got := poll(); got != account.EPENDING {
		t.Errorf("poll after the longer interval: %q, want %s", got, account.EPENDING)
	}
	req, err := f.svc.DeviceRequest(ctx, strings.ToLower(strings.ReplaceAll(dc.UserCode, "-", " ")))
	if err != nil || req.ClientName != "Replica on ada-laptop" {
		t.Fatalf("DeviceRequest: %+v %v", req, err)
	}
	if err := f.svc.DecideDevice(ctx, u.ID, dc.UserCode, true); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(20 * time.Second)
	tok := poll()
	if !strings.HasPrefix(tok, account.TokenPrefix) {
		t.Fatalf("poll after approval: %q", tok)
	}
	got, _, err := f.svc.Authenticate(ctx, tok)
	if err != nil || got.ID != u.ID {
		t.Fatalf("the issued token: %v %v", got, err)
	}
	f.clock.Add(20 * time.Second)
	if got := poll(); got != account.EEXPIRED {
		t.Errorf("a second token for one device code: %q, want %s", got, account.EEXPIRED)
	}
	if err := f.svc.DecideDevice(ctx, u.ID, dc.UserCode, true); account.ErrorCode(err) != account.ENOTFOUND {
		t.Errorf("approving a used code: %v", err)
	}

	// Denied, and expired.
	dc2, _ := f.svc.StartDevice(ctx, "")
	if err := f.svc.DecideDevice(ctx, u.ID, dc2.UserCode, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.PollDevice(ctx, dc2.DeviceCode); account.ErrorCode(err) != account.EDENIED {
		t.Errorf("denied: %v", err)
	}
	dc3, _ := f.svc.StartDevice(ctx, "")
	f.clock.Add(11 * time.Minute)
	if _, err := f.svc.PollDevice(ctx, dc3.DeviceCode); account.ErrorCode(err) != account.EEXPIRED {
		t.Errorf("expired: %v", err)
	}
	if err := f.svc.DecideDevice(ctx, u.ID, dc3.UserCode, true); account.ErrorCode(err) != account.ENOTFOUND {
		t.Errorf("approving an expired code: %v", err)
	}
	for _, bad := range []string{"", "rpd_nope", strings.Repeat("x", 1<<16)} {
		if _, err := f.svc.PollDevice(ctx, bad); account.ErrorCode(err) != account.EINVALIDGRANT {
			t.Errorf("PollDevice(%.10q): %v", bad, err)
		}
	}
	if strings.Contains(f.logs.String(), dc.DeviceCode) || strings.Contains(f.logs.String(), tok) {
		t.Error("a device code or token reached the log")
	}
}

func TestSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.user(t, "ada@example.com")
	if _, err := f.svc.SignIn(ctx, " ADA@Example.com ", "correct horse battery"); err != nil {
		t.Fatalf("sign in with different case: %v", err)
	}
	_, wrongPass := f.svc.SignIn(ctx, "ada@example.com", "wrong password!")
	_, noUser := f.svc.SignIn(ctx, "bob@example.com", "correct horse battery")
	if wrongPass == nil || wrongPass.Error() != noUser.Error() {
		t.Errorf("wrong password %v and unknown email %v must read the same", wrongPass, noUser)
	}
	if _, err := f.svc.SignUp(ctx, "ada@example.com", "another password"); account.ErrorCode(err) != account.ECONFLICT {
		t.Errorf("sign up twice: %v", err)
	}
	for _, bad := range []struct{ email, pass string }{
		{"not an email", "long enough password"},
		{"Ada <ada@example.org>", "long enough password"},
		{"ada@localhost", "long enough password"},
		{"carol@example.com", "short"},
		{"carol@example.com", strings.Repeat("p", account.MaxPassword+1)},
	} {
		if _, err := f.svc.SignUp(ctx, bad.email, bad.pass); account.ErrorCode(err) != account.EINVALID {
			t.Errorf("SignUp(%q, %d chars): %v, want %s", bad.email, len(bad.pass), err, account.EINVALID)
		}
	}
	if strings.Contains(f.logs.String(), "correct horse") {
		t.Error("a password reached the log")
	}
}

func TestTokensAndSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	a, b := f.user(t, "ada@example.com"), f.user(t, "bob@example.com")
	raw, tok, err := f.svc.NewToken(ctx, a.ID, "CLI")
	if err != nil {
		t.Fatal(err)
	}
	if u, _, err := f.svc.Authenticate(ctx, raw); err != nil || u.ID != a.ID {
		t.Fatalf("Authenticate: %v %v", u, err)
	}
	if err := f.svc.RevokeToken(ctx, b.ID, tok.ID); account.ErrorCode(err) != account.ENOTFOUND {
		t.Errorf("bob revoking ada's token: %v, want %s", err, account.ENOTFOUND)
	}
	if _, _, err := f.svc.Authenticate(ctx, raw); err != nil {
		t.Error("ada's token stopped working after bob's attempt")
	}
	sess, _, err := f.svc.NewSession(ctx, a.ID, "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, sess); account.ErrorCode(err) != account.EUNAUTHORIZED {
		t.Errorf("a session cookie used as an API token: %v", err)
	}
	if _, _, err := f.svc.SessionUser(ctx, raw); account.ErrorCode(err) != account.EUNAUTHORIZED {
		t.Errorf("an API token used as a session: %v", err)
	}
	if u, _, err := f.svc.SessionUser(ctx, sess); err != nil || u.ID != a.ID {
		t.Errorf("SessionUser: %v %v", u, err)
	}
	f.clock.Add(account.SessionTTL + time.Second)
	if _, _, err := f.svc.SessionUser(ctx, sess); account.ErrorCode(err) != account.EUNAUTHORIZED {
		t.Errorf("an expired session: %v", err)
	}
	if err := f.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	all, err := f.svc.Store.Tokens(ctx, a.ID)
	if err != nil || len(all) != 1 || all[0].ID != tok.ID {
		t.Errorf("after the sweep the store holds %+v, %v; want only the API token", all, err)
	}
	if err := f.svc.RevokeToken(ctx, a.ID, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.Authenticate(ctx, raw); account.ErrorCode(err) != account.EUNAUTHORIZED {
		t.Errorf("a revoked token: %v", err)
	}
}

func TestCheckoutOnceThenPortal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	url, err := f.svc.Checkout(ctx, u.ID, "pro", "https://x/ok", "https://x/no")
	if err != nil || !strings.Contains(url, "checkout") || !strings.HasSuffix(url, "price_pro_monthly") {
		t.Fatalf("Checkout: %q %v", url, err)
	}
	if _, err := f.svc.Checkout(ctx, u.ID, "pro", "https://x/ok", "https://x/no"); err != nil {
		t.Fatal(err)
	}
	if n := f.stripe.customers.Load(); n != 1 {
		t.Errorf("two checkouts made %d customers, want 1", n)
	}
	if _, err := f.svc.Checkout(ctx, u.ID, "platinum", "", ""); account.ErrorCode(err) != account.EINVALID {
		t.Errorf("unknown plan: %v", err)
	}
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	url, err = f.svc.Checkout(ctx, u.ID, "studio", "https://x/ok", "https://x/no")
	if err != nil || !strings.Contains(url, "billing") {
		t.Errorf("a subscriber choosing another plan goes to the Portal, got %q %v", url, err)
	}
	// Knowing the subscription's item, the Portal opens on confirming that
	// one change; the plan they have already opens the Portal's home.
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", ItemID: "si_1", CustomerID: "cus_" + u.ID, PriceID: "price_maker_monthly", Status: account.StatusActive,
		PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	f.deliver(t, account.Event{ID: "evt_item", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	if url, err = f.svc.Checkout(ctx, u.ID, "studio", "https://x/ok", "https://x/no"); err != nil || !strings.HasSuffix(url, "/switch/si_1/price_studio_monthly") {
		t.Errorf("switching to Studio: %q %v, want the portal's confirmation of that change", url, err)
	}
	if url, err = f.svc.Checkout(ctx, u.ID, "maker", "https://x/ok", "https://x/no"); err != nil || strings.Contains(url, "switch") {
		t.Errorf("choosing the plan they have: %q %v, want the portal's home", url, err)
	}
	nob := &account.Service{Store: f.svc.Store, Plans: account.DefaultPlans()}
	if _, err := nob.Checkout(ctx, u.ID, "pro", "", ""); account.ErrorCode(err) != account.EUNAVAILABLE {
		t.Errorf("billing not configured: %v", err)
	}
}

func TestReadPlans(t *testing.T) {
	good := `[{"id":"maker","name":"Maker","price":"price_1","amount":2900,"currency":"GBP","quota":15}]`
	ps, err := account.ReadPlans(strings.NewReader(good))
	if err != nil || len(ps) != 1 || ps[0].Currency != "gbp" || ps[0].Price() != "£29" {
		t.Fatalf("ReadPlans: %+v %v", ps, err)
	}
	for _, bad := range []string{
		``, `{}`, `[]`, `[{"id":"Maker!","name":"M","price":"p","amount":1,"currency":"gbp","quota":1}]`,
		`[{"id":"a","name":"A","price":"p","amount":1,"currency":"gbp","quota":1},{"id":"b","name":"B","price":"p","amount":1,"currency":"gbp","quota":1}]`,
		`[{"id":"a","name":"A","price":"p","amount":1,"currency":"gbp","quota":0}]`,
		`[{"id":"a","name":"A","price":"p","amount":1,"currency":"gbp","quota":1,"extra":1}]`,
	} {
		if _, err := account.ReadPlans(strings.NewReader(bad)); account.ErrorCode(err) != account.EINVALID {
			t.Errorf("ReadPlans(%q): %v, want %s", bad, err, account.EINVALID)
		}
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := account.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !account.VerifyPassword(h, "correct horse battery") || account.VerifyPassword(h, "correct horse batterz") {
		t.Error("VerifyPassword does not tell the password apart")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2id$v=19$m=999999999,t=1,p=1$AAAA$AAAA", h[:len(h)-3] + "!!!"} {
		if account.VerifyPassword(bad, "correct horse battery") {
			t.Errorf("VerifyPassword accepted hash %q", bad)
		}
	}
}

// A plan change within a period adds or takes back the quotas' difference
// pro rata of the period left, as Stripe prorates the price: an upgrade on
// day 20 of 30 buys a third of the extra models, not all of them.
func TestPlanChangeProRata(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	end := t0.Add(30 * 24 * time.Hour)
	set := func(price string) {
		f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: price,
			Status: account.StatusActive, PeriodStart: t0, PeriodEnd: end})
	}
	set("price_maker_monthly")
	f.deliver(t, account.Event{ID: "evt_end", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	for i := range 5 {
		if _, err := f.svc.ReserveJob(ctx, u.ID, fmt.Sprintf("job-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Add(20 * 24 * time.Hour) // a third of the period left
	set("price_studio_monthly")
	f.deliver(t, account.Event{ID: "evt_up", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	want := 15 + 229 // ceil((700-15) / 3)
	if me := f.me(t, u); me.Plan != "studio" || me.Quota != want || me.Remaining != want-5 {
		t.Errorf("upgrade to Studio with a third left: plan %q quota %d remaining %d; want studio %d %d", me.Plan, me.Quota, me.Remaining, want, want-5)
	}
	f.deliver(t, account.Event{ID: "evt_up_again", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	if me := f.me(t, u); me.Quota != want {
		t.Errorf("another event about the same plan changed the quota to %d", me.Quota)
	}
	// Back to Maker at once: the extra third goes, but never the models
	// already reserved.
	for i := 5; i < 240; i++ {
		if _, err := f.svc.ReserveJob(ctx, u.ID, fmt.Sprintf("job-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	set("price_maker_monthly")
	f.deliver(t, account.Event{ID: "evt_down", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	me := f.me(t, u)
	if me.Plan != "maker" || me.Quota != 240 || me.Remaining != 0 {
		t.Errorf("downgrade with 240 reserved: plan %q quota %d remaining %d; want maker 240 0", me.Plan, me.Quota, me.Remaining)
	}
	checkLedgerSum(t, f, u)
}

// A renewal whose invoice is not paid yet holds a tenth of the quota; the
// rest comes when invoice.paid says so, once.
func TestRenewalPaidLater(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_pro_monthly")
	f.clock.Add(30 * 24 * time.Hour)
	next := f.clock.Now()
	renewal := account.Subscription{ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_pro_monthly", Status: account.StatusActive,
		PeriodStart: next, PeriodEnd: next.AddDate(0, 1, 0)}
	f.stripe.set(renewal)
	f.deliver(t, account.Event{ID: "evt_renew", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	if me := f.me(t, u); me.Quota != 6 || me.Remaining != 6 {
		t.Fatalf("renewal not paid yet: quota %d remaining %d; want 6 6", me.Quota, me.Remaining)
	}
	if _, err := f.svc.ReserveJob(ctx, u.ID, "early"); err != nil {
		t.Fatal(err)
	}
	renewal.LatestInvoicePaid = true
	f.stripe.set(renewal)
	f.deliver(t, account.Event{ID: "evt_paid", Type: "invoice.paid", SubscriptionID: "sub_1"})
	f.deliver(t, account.Event{ID: "evt_paid_2", Type: "invoice.payment_succeeded", SubscriptionID: "sub_1"})
	if me := f.me(t, u); me.Quota != 60 || me.Remaining != 59 {
		t.Errorf("renewal paid: quota %d remaining %d; want 60 59", me.Quota, me.Remaining)
	}
	checkLedgerSum(t, f, u)
}

// Two deliveries about one subscription at once: the one whose read of
// Stripe is slower must not write its older state over the newer one.
func TestSyncsTakeTurns(t *testing.T) {
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_studio_monthly")
	entered, release := make(chan struct{}), make(chan struct{})
	f.stripe.hook = func(n int64) {
		if n == 1 { // the first read (the active state) stalls
			close(entered)
			<-release
		}
	}
	f.stripe.reads.Store(0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.deliver(t, account.Event{ID: "evt_updated", Type: "customer.subscription.updated", SubscriptionID: "sub_1"})
	}()
	<-entered
	// Meanwhile Stripe cancels it and says so.
	f.stripe.set(account.Subscription{LatestInvoicePaid: true, ID: "sub_1", CustomerID: "cus_" + u.ID, PriceID: "price_studio_monthly",
		Status: account.StatusCanceled, PeriodStart: t0, PeriodEnd: t0.AddDate(0, 1, 0)})
	second := make(chan struct{})
	go func() {
		defer close(second)
		f.deliver(t, account.Event{ID: "evt_deleted", Type: "customer.subscription.deleted", SubscriptionID: "sub_1"})
	}()
	// Let the second delivery run to its end if it can (it cannot while
	// the first holds the subscription; then this only waits a moment).
	select {
	case <-second:
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	<-done
	<-second
	if me := f.me(t, u); me.Status != account.StatusCanceled || me.Cloud {
		t.Errorf("after a slow read of the old state and a fast one of the new: status %q cloud %v; want canceled, false", me.Status, me.Cloud)
	}
}

func TestCancelRunningJob(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	u := f.user(t, "ada@example.com")
	f.subscribe(t, u, "sub_1", account.StatusActive, "price_maker_monthly")
	for _, j := range []string{"queued", "running"} {
		if _, err := f.svc.ReserveJob(ctx, u.ID, j); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.svc.StartJob(ctx, u.ID, "running"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.CancelJob(ctx, u.ID, "queued"); err != nil {
		t.Errorf("cancelling a job not started: %v", err)
	}
	if err := f.svc.CancelJob(ctx, u.ID, "running"); account.ErrorCode(err) != account.ECONFLICT {
		t.Errorf("cancelling a running job: %v, want %s (the worker refunds what it stops)", err, account.ECONFLICT)
	}
	if err := f.svc.CommitJob(ctx, u.ID, "running"); err != nil {
		t.Errorf("the worker's commit after the refused cancel: %v", err)
	}
	if me := f.me(t, u); me.Used != 1 || me.Remaining != 14 {
		t.Errorf("used %d remaining %d; want 1 14", me.Used, me.Remaining)
	}
}

func checkLedgerSum(t *testing.T, f *fixture, u *account.User) {
	t.Helper()
	me := f.me(t, u)
	entries, err := f.svc.Ledger(context.Background(), u.ID, 1000)
	if err != nil {
		t.Fatal(err)
	}
	period := entries[0].Period
	sum := 0
	for _, e := range entries {
		if e.Period.Equal(period) {
			sum += e.Delta
		}
	}
	if sum != me.Quota-me.Used-me.Reserved {
		t.Errorf("this period's ledger sums to %d, quota %d − used %d − reserved %d", sum, me.Quota, me.Used, me.Reserved)
	}
}
