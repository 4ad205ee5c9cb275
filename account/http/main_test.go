package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/bolt"
)

// Every server in this package's tests logs into testLog, and TestMain
// checks at the end that no secret any test used or saw reached it.
var (
	logBuf  lockedBuffer
	testLog = slog.New(slog.NewJSONHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	secrets secretSet
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// secretSet collects every password, token, device code, key and signature
// the tests use, to look for in the log.
type secretSet struct {
	mu sync.Mutex
	m  map[string]bool
}

func (s *secretSet) add(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]bool{}
	}
	for _, x := range v {
		if x != "" {
			s.m[x] = true
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var l []string
	for k := range s.m {
		l = append(l, k)
	}
	return l
}

// secretPatterns are what a raw secret looks like, whether or not a test
// saw it.
var secretPatterns = regexp.MustCompile(`rp[lsd]_[A-Za-z0-9_-]{20,}|sk_test_|whsec_|v1=[0-9a-f]{16,}|"password"|[?&](code|next|limit)=`)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		code = checkLog()
	}
	os.Exit(code)
}

// checkLog fails the run when the log holds a secret.
func checkLog() int {
	log := logBuf.String()
	if !strings.Contains(log, `"route"`) {
		// Only a narrowed run (-run, -bench, -fuzz) logs nothing.
		return 0
	}
	bad := 0
	for _, s := range secrets.list() {
		if strings.Contains(log, s) {
			fmt.Fprintf(os.Stderr, "FAIL: the log holds a secret the tests used: %.12s…\n", s)
			bad++
		}
	}
	for _, m := range secretPatterns.FindAllString(log, 5) {
		fmt.Fprintf(os.Stderr, "FAIL: the log holds something shaped like a secret: %.12s…\n", m)
		bad++
	}
	if bad > 0 {
		return 1
	}
	fmt.Fprintf(os.Stderr, "log check: %d bytes of log hold none of %d secrets\n", len(log), len(secrets.list()))
	return 0
}

// password is every test user's password; its hash is made once, since
// argon2id costs tens of milliseconds (more under -race).
const password = "correct horse battery staple"

var passwordHash = sync.OnceValue(func() string {
	h, err := account.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

func init() { secrets.add(password) }

// clock is a settable Service.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeBilling is account.Billing with a func field per method (wtf's
// mocks); a nil field has a harmless default.
type fakeBilling struct {
	CreateCustomerFn func(ctx context.Context, u *account.User) (string, error)
	CheckoutURLFn    func(ctx context.Context, customerID, userID string, plan account.Plan, successURL, cancelURL string) (string, error)
	PortalURLFn      func(ctx context.Context, customerID, returnURL string) (string, error)
	SubscriptionFn   func(ctx context.Context, id string) (*account.Subscription, error)
	ParseWebhookFn   func(payload []byte, header string) (*account.Event, error)
}

var _ account.Billing = (*fakeBilling)(nil)

func (f *fakeBilling) CreateCustomer(ctx context.Context, u *account.User) (string, error) {
	if f.CreateCustomerFn != nil {
		return f.CreateCustomerFn(ctx, u)
	}
	return "cus_" + u.ID, nil
}

func (f *fakeBilling) CheckoutURL(ctx context.Context, customerID, userID string, plan account.Plan, successURL, cancelURL string) (string, error) {
	if f.CheckoutURLFn != nil {
		return f.CheckoutURLFn(ctx, customerID, userID, plan, successURL, cancelURL)
	}
	return "https://checkout.stripe.test/c/" + plan.ID, nil
}

func (f *fakeBilling) PortalURL(ctx context.Context, customerID, returnURL string) (string, error) {
	if f.PortalURLFn != nil {
		return f.PortalURLFn(ctx, customerID, returnURL)
	}
	return "https://billing.stripe.test/p/" + customerID, nil
}

func (f *fakeBilling) SwitchPlanURL(ctx context.Context, customerID string, sub *account.Subscription, plan account.Plan, returnURL string) (string, error) {
	return "https://billing.stripe.test/p/" + customerID + "/switch/" + plan.PriceID, nil
}

func (f *fakeBilling) Subscription(ctx context.Context, id string) (*account.Subscription, error) {
	if f.SubscriptionFn != nil {
		return f.SubscriptionFn(ctx, id)
	}
	return nil, account.Errorf(account.ENOTFOUND, "No such subscription.")
}

func (f *fakeBilling) ParseWebhook(payload []byte, header string) (*account.Event, error) {
	if f.ParseWebhookFn != nil {
		return f.ParseWebhookFn(payload, header)
	}
	return nil, account.Errorf(account.EUNAUTHORIZED, "Webhook signature does not match.")
}

// env is one service behind a real loopback HTTP server.
type env struct {
	t     testing.TB
	svc   *account.Service
	store account.Store
	srv   *Server
	ts    *httptest.Server
	clock *clock // nil with realClock
}

type envOptions struct {
	realClock bool            // the service runs on time.Now (the browser test: WaitDevice really waits)
	billing   account.Billing // nil: a fakeBilling; use noBilling for none
	config    Config          // BaseURL is always the test server's
	store     func(account.Store) account.Store
	service   func(*account.Service)
}

// noBilling configures a service without billing.
var noBilling account.Billing = (*fakeBilling)(nil)

func newEnv(tb testing.TB, opts envOptions) *env {
	tb.Helper()
	st, err := bolt.Open(filepath.Join(tb.TempDir(), "account.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	e := &env{t: tb}
	e.store = st
	if opts.store != nil {
		e.store = opts.store(st)
	}
	e.svc = &account.Service{Store: e.store, Plans: account.DefaultPlans(), Log: testLog}
	switch opts.billing {
	case nil:
		e.svc.Billing = &fakeBilling{}
	case noBilling:
	default:
		e.svc.Billing = opts.billing
	}
	if !opts.realClock {
		e.clock = &clock{t: time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)}
		e.svc.Now = e.clock.Now
	}
	if opts.service != nil {
		opts.service(e.svc)
	}
	e.ts = httptest.NewUnstartedServer(nil)
	cfg := opts.config
	cfg.BaseURL = "http://" + e.ts.Listener.Addr().String()
	e.srv = NewServer(e.svc, cfg)
	e.ts.Config.Handler = e.srv
	e.ts.Start()
	tb.Cleanup(e.ts.Close)
	return e
}

// now is the service's time.
func (e *env) now() time.Time {
	if e.clock == nil {
		return time.Now()
	}
	return e.clock.Now()
}

// user makes a user directly in the store (no argon2id per user) whose
// password is password.
func (e *env) user(email string) *account.User {
	e.t.Helper()
	u := &account.User{ID: account.NewID("usr_"), Email: email, PasswordHash: passwordHash(), Created: e.now().UTC()}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// token makes an API token for u.
func (e *env) token(u *account.User, name string) (string, *account.Token) {
	e.t.Helper()
	raw, t, err := e.svc.NewToken(context.Background(), u.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	secrets.add(raw)
	return raw, t
}

// client is a Client of the test server holding tok.
func (e *env) client(tok string) *Client {
	return &Client{BaseURL: e.ts.URL, Token: tok, HTTP: e.ts.Client()}
}

// subscribe gives u an active subscription to plan with its quota granted.
func (e *env) subscribe(u *account.User, planID string) {
	e.t.Helper()
	ctx := context.Background()
	plan, ok := e.svc.Plans.ByID(planID)
	if !ok {
		e.t.Fatalf("no plan %q", planID)
	}
	now := e.now().UTC()
	start, end := now.Add(-24*time.Hour), now.Add(29*24*time.Hour)
	sub := &account.Subscription{ID: "sub_" + u.ID, CustomerID: "cus_" + u.ID, UserID: u.ID, PriceID: plan.PriceID,
		PlanID: plan.ID, Status: account.StatusActive, PeriodStart: start, PeriodEnd: end, Created: start, Synced: now}
	if err := e.store.SetCustomer(ctx, u.ID, sub.CustomerID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.PutSubscription(ctx, sub); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.Grant(ctx, u.ID, start, end, plan.Quota, now, plan.Name+" plan"); err != nil {
		e.t.Fatal(err)
	}
}

// do sends one request to the test server without following redirects.
func (e *env) do(method, path string, body io.Reader, header http.Header) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	c := *e.ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

// body reads and closes a response's body.
func body(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// jsonError reads a /v1 error answer.
func jsonError(tb testing.TB, resp *http.Response) errorBody {
	tb.Helper()
	var e errorBody
	b := body(tb, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json (body %.200s)", ct, b)
	}
	if err := json.Unmarshal([]byte(b), &e); err != nil {
		tb.Fatalf("error body %q: %v", b, err)
	}
	return e
}

// oauthErrorOf reads an error answer of the device flow's endpoints (RFC
// 6749 §5.2), which must not be cached.
func oauthErrorOf(tb testing.TB, resp *http.Response) oauthError {
	tb.Helper()
	var e oauthError
	b := body(tb, resp)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		tb.Errorf("Content-Type = %q, want application/json (body %.200s)", ct, b)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		tb.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(b), &fields); err != nil {
		tb.Fatalf("error body %q: %v", b, err)
	}
	if _, ok := fields["message"]; ok || len(fields) != 2 {
		tb.Errorf("error body %s, want exactly error and error_description", b)
	}
	json.Unmarshal([]byte(b), &e)
	return e
}

func authHeader(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func jsonHeader(tok string) http.Header {
	h := authHeader(tok)
	h.Set("Content-Type", "application/json")
	return h
}

// browser is a cookie-keeping client of the test server that does not
// follow redirects, as a person's browser on the pages.
type browser struct {
	e      *env
	c      *http.Client
	header http.Header // added to every request (X-Forwarded-For, Origin)
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	c := *e.ts.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{e: e, c: &c, header: http.Header{}}
}

func (b *browser) do(method, path string, form url.Values, header http.Header) (*http.Response, string) {
	b.e.t.Helper()
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.ts.URL+path, rd)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return resp, body(b.e.t, resp)
}

func (b *browser) get(path string) (*http.Response, string) {
	return b.do(http.MethodGet, path, nil, nil)
}

// post sends a form the way the page at page would: with its CSRF token.
func (b *browser) post(page, path string, form url.Values) (*http.Response, string) {
	b.e.t.Helper()
	_, doc := b.get(page)
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(b.e.t, doc))
	return b.do(http.MethodPost, path, form, nil)
}

// signIn signs the browser in as email.
func (b *browser) signIn(email string) {
	b.e.t.Helper()
	resp, doc := b.post("/signin", "/signin", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("sign in as %s = %d, want 303\n%s", email, resp.StatusCode, doc)
	}
	if c := b.cookie(sessionCookie); c != "" {
		secrets.add(c)
	}
}

// cookie returns the value of the browser's cookie.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// csrfOf returns the value of the first csrf input in a page.
func csrfOf(tb testing.TB, doc string) string {
	tb.Helper()
	var v string
	walk(parse(tb, doc), func(n *html.Node) {
		if v == "" && n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") == "csrf" {
			v = attr(n, "value")
		}
	})
	if v == "" {
		tb.Fatalf("no csrf input in\n%s", doc)
	}
	return v
}

func parse(tb testing.TB, doc string) *html.Node {
	tb.Helper()
	n, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// text is the text inside a node.
func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
	})
	return strings.Join(strings.Fields(b.String()), " ")
}

// errorText is the text of the page's error message ("" for none).
func errorText(tb testing.TB, doc string) string {
	tb.Helper()
	var s string
	walk(parse(tb, doc), func(n *html.Node) {
		if s == "" && n.Type == html.ElementNode && strings.Contains(" "+attr(n, "class")+" ", " error ") {
			s = text(n)
		}
	})
	return s
}

// newTokenOf returns the new API token an account page shows ("" for none)
// and adds it to the secrets.
func newTokenOf(tb testing.TB, doc string) string {
	tb.Helper()
	var v string
	walk(parse(tb, doc), func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "id") == "new-token" {
			v = attr(n, "value")
		}
	})
	secrets.add(v)
	return v
}

// The log check recognises secrets it was not told about.
func TestSecretPatterns(t *testing.T) {
	raw, _ := account.NewSecret(account.TokenPrefix)
	ses, _ := account.NewSecret(account.SessionPrefix)
	dev, _ := account.NewSecret("rpd_")
	for _, s := range []string{raw, ses, dev, "sk_test_123", "whsec_abc", "t=1,v1=5257a869e7ecebeda32affa62cdca3fa51cad7e77a0e56ff536d0ce8e108d8bd",
		`"password":"x"`, "/device?code=BCDF-GHJK", "/signin?next=%2F"} {
		if !secretPatterns.MatchString(s) {
			t.Errorf("secretPatterns misses %q", s)
		}
	}
	for _, s := range []string{`"route":"GET /v1/me"`, `"user":"usr_abc"`, `"token":"tok_abc"`} {
		if secretPatterns.MatchString(s) {
			t.Errorf("secretPatterns matches %q", s)
		}
	}
}
