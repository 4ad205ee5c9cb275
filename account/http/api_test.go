package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replica3d/replica/account"
)

// wantCode fails unless err is an *account.Error with code.
func wantCode(tb testing.TB, what string, err error, code string) {
	tb.Helper()
	if got := account.ErrorCode(err); got != code {
		tb.Fatalf("%s: error %v (code %q), want code %q", what, err, got, code)
	}
	if _, ok := errors.AsType[*account.Error](err); !ok {
		tb.Fatalf("%s: error %T %v is not an *account.Error", what, err, err)
	}
}

// The device flow from the app's side, approved through the service as the
// approval page would: pending, slow_down when polled too fast, the token
// once approved, and the device code spent after that.
func TestDeviceFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	app := e.client("")

	dc, err := app.StartDevice(ctx, "Replica on ada-laptop")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	if got, want := dc.VerificationURI, e.ts.URL+"/device"; got != want {
		t.Errorf("verification_uri = %q, want %q", got, want)
	}
	if got, want := dc.VerificationURIComplete, e.ts.URL+"/device?code="+dc.UserCode; got != want {
		t.Errorf("verification_uri_complete = %q, want %q", got, want)
	}
	if account.NormalizeUserCode(dc.UserCode) != dc.UserCode || !strings.HasPrefix(dc.DeviceCode, "rpd_") {
		t.Errorf("codes %q, %q: want a BCDF-GHJK user code and an rpd_ device code", dc.UserCode, dc.DeviceCode)
	}
	if dc.Interval != 5 || dc.ExpiresIn != 600 {
		t.Errorf("interval %d s, expires in %d s; want the service's 5 and 600", dc.Interval, dc.ExpiresIn)
	}

	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "first poll", err, account.EPENDING)
	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "poll at once", err, account.ESLOWDOWN)

	if err := e.svc.DecideDevice(ctx, ada.ID, strings.ToLower(dc.UserCode), true); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second) // the interval after slow_down
	tok, err := app.PollDevice(ctx, dc.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(tok)
	if !strings.HasPrefix(tok, account.TokenPrefix) {
		t.Errorf("token %.8s…, want an rpl_ token", tok)
	}
	e.clock.Advance(10 * time.Second)
	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "poll after the token was issued", err, account.EEXPIRED)

	me, err := e.client(tok).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Email != "ada@example.com" || me.Cloud {
		t.Errorf("Me = %+v, want ada without cloud processing", me)
	}
	resp := e.do("GET", "/v1/tokens", nil, authHeader(tok))
	var tokens []account.Token
	if err := json.Unmarshal([]byte(body(t, resp)), &tokens); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Name != "Replica on ada-laptop" {
		t.Errorf("tokens = %+v, want one named after the client", tokens)
	}
}

func TestDeviceFlowDeniedAndExpired(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	app := e.client("")

	dc, err := app.StartDevice(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	if err := e.svc.DecideDevice(ctx, ada.ID, dc.UserCode, false); err != nil {
		t.Fatal(err)
	}
	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "denied", err, account.EDENIED)

	dc, err = app.StartDevice(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	e.clock.Advance(11 * time.Minute)
	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "expired", err, account.EEXPIRED)
	// A code of another shape, or a well-formed one the service never gave
	// out, was never one: invalid_grant.
	_, err = app.PollDevice(ctx, "rpd_not-a-code-we-gave-out-at-all-xxxxxxxxx")
	wantCode(t, "malformed", err, account.EINVALIDGRANT)
	unknown, _ := account.NewSecret("rpd_")
	secrets.add(unknown)
	_, err = app.PollDevice(ctx, unknown)
	wantCode(t, "well-formed unknown", err, account.EINVALIDGRANT)
}

// WaitDevice waits the interval before each poll, adds 5 s on slow_down and
// returns the token once approved; its sleeps are the test's, so nothing
// really waits.
func TestWaitDevice(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	app := e.client("")
	dc, err := app.StartDevice(ctx, "Replica")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)

	var waits []time.Duration
	app.wait = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		switch len(waits) {
		case 2:
			e.clock.Advance(d / 2) // the app slept too little: slow_down
		case 4:
			if err := e.svc.DecideDevice(ctx, ada.ID, dc.UserCode, true); err != nil {
				t.Error(err)
			}
			fallthrough
		default:
			e.clock.Advance(d)
		}
		return nil
	}
	tok, err := app.WaitDevice(ctx, dc)
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(tok)
	want := []time.Duration{5 * time.Second, 5 * time.Second, 10 * time.Second, 10 * time.Second}
	if !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	if _, err := e.client(tok).Me(ctx); err != nil {
		t.Errorf("Me with the device token: %v", err)
	}

	// Denied: WaitDevice stops with EDENIED.
	dc, err = app.StartDevice(ctx, "Replica")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	app.wait = func(ctx context.Context, d time.Duration) error {
		e.clock.Advance(d)
		return e.svc.DecideDevice(ctx, ada.ID, dc.UserCode, false)
	}
	_, err = app.WaitDevice(ctx, dc)
	wantCode(t, "WaitDevice denied", err, account.EDENIED)

	// The context ends: WaitDevice returns its error.
	dc, err = app.StartDevice(ctx, "Replica")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	cctx, cancel := context.WithCancel(ctx)
	app.wait = func(ctx context.Context, d time.Duration) error {
		e.clock.Advance(d)
		cancel()
		return nil
	}
	if _, err = app.WaitDevice(cctx, dc); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDevice after cancel = %v, want context.Canceled", err)
	}
}

// The token endpoint answers RFC 6749 §5.2 errors.
func TestDeviceTokenErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"wrong grant", form, "grant_type=password&device_code=rpd_x", 400, "unsupported_grant_type"},
		{"no grant", form, "device_code=rpd_x", 400, "invalid_request"},
		{"no device code", form, "grant_type=" + url.QueryEscape(grantDeviceCode), 400, "invalid_request"},
		{"device code twice", form, "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_a&device_code=rpd_b", 400, "invalid_request"},
		{"JSON", "application/json", `{"grant_type":"x"}`, 400, "invalid_request"},
		{"bad form", form, "grant_type=%zz", 400, "invalid_request"},
		{"garbage code", form, "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_unknown", 400, "invalid_grant"},
		{"not an rpd_ code", form, "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=" + strings.Repeat("x", 47), 400, "invalid_grant"},
		{"rpd_ code with a bad character", form, "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_" + strings.Repeat("x", 42) + "%2B", 400, "invalid_grant"},
		{"well-formed unknown code", form, "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_" + strings.Repeat("x", 43), 400, "invalid_grant"},
		{"too large", form, "device_code=" + strings.Repeat("a", 65<<10), 413, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("POST", "/v1/device/token", strings.NewReader(tt.body), http.Header{"Content-Type": {tt.ct}})
			if got := oauthErrorOf(t, resp); resp.StatusCode != tt.status || got.Error != tt.code || got.Description == "" {
				t.Errorf("= %d %+v, want %d %q with a description", resp.StatusCode, got, tt.status, tt.code)
			}
			if resp.Header.Get("Pragma") != "no-cache" {
				t.Errorf("Pragma = %q, want no-cache", resp.Header.Get("Pragma"))
			}
		})
	}
}

// The device authorization endpoint answers RFC 6749 §5.2 errors too (RFC
// 8628 §3.2), not the API's {"error", "message"}.
func TestDeviceCodeErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	broken := newEnv(t, envOptions{store: func(s account.Store) account.Store { return &failingDeviceAuth{Store: s} }})
	form := "application/x-www-form-urlencoded"
	tests := []struct {
		name   string
		e      *env
		ct     string
		body   string
		status int
		code   string
	}{
		{"no client_id", e, form, "client_name=x", 400, "invalid_request"},
		{"empty client_id", e, form, "client_id=", 400, "invalid_request"},
		{"client_id twice", e, form, "client_id=a&client_id=b", 400, "invalid_request"},
		{"client_name twice", e, form, "client_id=a&client_name=x&client_name=y", 400, "invalid_request"},
		{"long client_id", e, form, "client_id=" + strings.Repeat("a", 65), 400, "invalid_request"},
		{"JSON", e, "application/json", `{"client_id":"replica-desktop"}`, 400, "invalid_request"},
		{"bad form", e, form, "client_id=%zz", 400, "invalid_request"},
		{"too large", e, form, "client_id=" + strings.Repeat("a", 65<<10), 413, "invalid_request"},
		{"store fails", broken, form, "client_id=replica-desktop", 500, "server_error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := tt.e.do("POST", "/v1/device/code", strings.NewReader(tt.body), http.Header{"Content-Type": {tt.ct}})
			got := oauthErrorOf(t, resp)
			if resp.StatusCode != tt.status || got.Error != tt.code || got.Description == "" {
				t.Errorf("= %d %+v, want %d %q with a description", resp.StatusCode, got, tt.status, tt.code)
			}
			if strings.Contains(got.Description, "device auth on fire") {
				t.Errorf("description %q shows the internal error", got.Description)
			}
		})
	}

	// The client reads the description as the message.
	_, err := broken.client("").StartDevice(t.Context(), "")
	wantCode(t, "StartDevice against a failing store", err, "server_error")
	if msg := account.ErrorMessage(err); msg != "Internal error." {
		t.Errorf("message %q, want Internal error.", msg)
	}
}

type failingDeviceAuth struct{ account.Store }

func (f *failingDeviceAuth) CreateDeviceAuth(ctx context.Context, d *account.DeviceAuth) error {
	return errors.New("bbolt: device auth on fire")
}

// deviceServer is a token endpoint that gives the answers in turn, then the
// token tok to every poll; polls counts the polls.
type deviceServer struct {
	*httptest.Server
	n atomic.Int32
}

func (ds *deviceServer) polls() int { return int(ds.n.Load()) }

// answer is one scripted answer of the token endpoint; reply and hangUp
// make them.
type answer func(w http.ResponseWriter)

func reply(code int, body string) answer {
	return func(w http.ResponseWriter) {
		if strings.HasPrefix(body, "{") {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func newDeviceServer(t *testing.T, tok string, answers ...answer) *deviceServer {
	ds := &deviceServer{}
	ds.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/device/token" || r.FormValue("device_code") != "rpd_test" {
			t.Errorf("poll %s %s %v", r.Method, r.URL.Path, r.Form)
		}
		if n := int(ds.n.Add(1)); n <= len(answers) {
			answers[n-1](w)
			return
		}
		reply(200, `{"access_token":"`+tok+`","token_type":"Bearer"}`)(w)
	}))
	t.Cleanup(ds.Close)
	return ds
}

// WaitDevice keeps polling through a server in trouble or out of reach, at
// the interval (5xx, server_error, temporarily_unavailable) or slower (no
// answer, 429, slow_down), and stops at an answer that ends the flow.
func TestWaitDeviceTransient(t *testing.T) {
	ctx := t.Context()
	const tok = "rpl_test-token"
	tests := []struct {
		name    string
		answers []answer
		waits   []time.Duration // the sleeps before each poll, in seconds
		code    string          // the error WaitDevice ends with; "": the token
	}{
		{"503 twice", []answer{
			reply(503, "<html>Service Unavailable</html>"),
			reply(503, `{"error":"temporarily_unavailable","error_description":"Try again."}`),
		}, []time.Duration{5, 5, 5}, ""},
		{"5xx of every kind", []answer{
			reply(500, `{"error":"server_error","error_description":"Internal error."}`),
			reply(500, "oops"),
			reply(502, "<html>Bad Gateway</html>"),
			reply(504, ""),
			reply(400, `{"error":"authorization_pending","error_description":"Waiting."}`),
		}, []time.Duration{5, 5, 5, 5, 5, 5}, ""},
		{"no answer backs off", []answer{hangUp, hangUp}, []time.Duration{5, 10, 15}, ""},
		{"429 and slow_down back off", []answer{
			reply(429, "Too Many Requests"),
			reply(400, `{"error":"slow_down","error_description":"Slower."}`),
		}, []time.Duration{5, 10, 15}, ""},
		{"access_denied", []answer{reply(400, `{"error":"access_denied","error_description":"No."}`)}, []time.Duration{5}, account.EDENIED},
		{"expired_token", []answer{reply(400, `{"error":"expired_token","error_description":"Late."}`)}, []time.Duration{5}, account.EEXPIRED},
		{"invalid_grant after a 503", []answer{
			reply(503, ""),
			reply(400, `{"error":"invalid_grant","error_description":"Never was."}`),
		}, []time.Duration{5, 5}, "invalid_grant"},
		{"invalid_request", []answer{reply(400, `{"error":"invalid_request","error_description":"Bad."}`)}, []time.Duration{5}, "invalid_request"},
		{"a 200 that is not a token", []answer{reply(200, `{"token_type":"mac"}`)}, []time.Duration{5}, account.EINTERNAL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := newDeviceServer(t, tok, tt.answers...)
			var waits []time.Duration
			app := &Client{BaseURL: ds.URL, HTTP: ds.Client(),
				wait: func(ctx context.Context, d time.Duration) error { waits = append(waits, d/time.Second); return nil }}
			got, err := app.WaitDevice(ctx, &account.DeviceCode{DeviceCode: "rpd_test", Interval: 5, ExpiresIn: 600})
			if tt.code == "" {
				if err != nil || got != tok {
					t.Errorf("WaitDevice = %q, %v; want the token", got, err)
				}
			} else {
				wantCode(t, "WaitDevice", err, tt.code)
			}
			if !slices.Equal(waits, tt.waits) || ds.polls() != len(tt.waits) {
				t.Errorf("%d polls after waits of %v s, want %v", ds.polls(), waits, tt.waits)
			}
		})
	}
}

// A server that stays in trouble is polled until the code's lifetime is
// over, then WaitDevice says the code expired. The clock is the test's.
func TestWaitDeviceTransientUntilExpiry(t *testing.T) {
	ds := newDeviceServer(t, "rpl_never", slices.Repeat([]answer{reply(503, "")}, 100)...)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	app := &Client{BaseURL: ds.URL, HTTP: ds.Client(),
		now:  func() time.Time { return now },
		wait: func(ctx context.Context, d time.Duration) error { now = now.Add(d); return nil }}
	_, err := app.WaitDevice(t.Context(), &account.DeviceCode{DeviceCode: "rpd_test", Interval: 5, ExpiresIn: 30})
	wantCode(t, "WaitDevice past the code's lifetime", err, account.EEXPIRED)
	if ds.polls() != 6 {
		t.Errorf("%d polls in the code's 30 s at 5 s, want 6", ds.polls())
	}
}

func TestMeAndPlans(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	e.subscribe(ada, "maker")
	tok, _ := e.token(ada, "CLI")

	plans, err := e.client("").Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(plans) != 3 || plans[0].ID != "maker" || plans[0].Quota != 15 || plans[0].Amount != 2900 {
		t.Errorf("Plans = %+v, want the default plans", plans)
	}
	for _, p := range plans {
		if p.PriceID != "" {
			t.Errorf("plan %s carries its Stripe price %q", p.ID, p.PriceID)
		}
	}

	me, err := e.client(tok).Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := account.Me{Email: "ada@example.com", Plan: "maker", PlanName: "Maker", Status: account.StatusActive,
		Cloud: true, Quota: 15, Remaining: 15, PeriodEnd: e.now().Add(29 * 24 * time.Hour), ServerTime: e.now()}
	if *me != want {
		t.Errorf("Me =\n%+v, want\n%+v", *me, want)
	}
}

// Reserve, cancel and the ledger, with the worker's start and commit in
// between: a committed job cannot be cancelled.
func TestJobsAndLedger(t *testing.T) {
	e := newEnv(t, envOptions{config: Config{WorkerKey: "worker-secret-123"}})
	secrets.add("worker-secret-123")
	ctx := t.Context()
	ada := e.user("ada@example.com")
	tok, _ := e.token(ada, "CLI")
	c := e.client(tok)

	_, err := c.Reserve(ctx, "job-1")
	wantCode(t, "reserve without a plan", err, account.EPAYMENT)

	e.subscribe(ada, "maker")
	r, err := c.Reserve(ctx, "job-1")
	if err != nil {
		t.Fatal(err)
	}
	if r.JobID != "job-1" || r.State != account.Reserved {
		t.Errorf("Reserve = %+v, want job-1 reserved", r)
	}
	if r2, err := c.Reserve(ctx, "job-1"); err != nil || *r2 != *r {
		t.Errorf("Reserve again = %+v, %v; want the same reservation", r2, err)
	}
	if me, _ := c.Me(ctx); me.Remaining != 14 || me.Reserved != 1 {
		t.Errorf("after reserving: remaining %d, reserved %d; want 14, 1", me.Remaining, me.Reserved)
	}
	_, err = c.Reserve(ctx, "bad id!")
	wantCode(t, "reserve a bad id", err, account.EINVALID)

	if err := c.Cancel(ctx, "job-1"); err != nil {
		t.Fatal(err)
	}
	if me, _ := c.Me(ctx); me.Remaining != 15 || me.Reserved != 0 {
		t.Errorf("after cancelling: remaining %d, reserved %d; want 15, 0", me.Remaining, me.Reserved)
	}
	resp := e.do("GET", "/v1/jobs/job-1", nil, authHeader(tok))
	var got account.Reservation
	json.Unmarshal([]byte(body(t, resp)), &got)
	if resp.StatusCode != 200 || got.State != account.Refunded {
		t.Errorf("GET /v1/jobs/job-1 = %d %+v, want 200 refunded", resp.StatusCode, got)
	}

	entries, err := c.Ledger(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []account.EntryKind
	for _, en := range entries {
		kinds = append(kinds, en.Kind)
	}
	if want := []account.EntryKind{account.EntryRefund, account.EntryReserve, account.EntryGrant}; !slices.Equal(kinds, want) {
		t.Errorf("ledger kinds = %v, want %v", kinds, want)
	}
	if entries[0].Note != "cancelled by user" || entries[0].Balance != 15 {
		t.Errorf("refund entry = %+v, want note \"cancelled by user\", balance 15", entries[0])
	}
	if one, _ := c.Ledger(ctx, 1); len(one) != 1 {
		t.Errorf("Ledger(1) has %d entries", len(one))
	}
	resp = e.do("GET", "/v1/ledger?limit=zero", nil, authHeader(tok))
	if eb := jsonError(t, resp); resp.StatusCode != 400 || eb.Error != account.EINVALID {
		t.Errorf("ledger?limit=zero = %d %+v, want 400 invalid", resp.StatusCode, eb)
	}

	// The worker starts and commits job-2; the user can no longer cancel it.
	if _, err := c.Reserve(ctx, "job-2"); err != nil {
		t.Fatal(err)
	}
	worker := http.Header{"X-Worker-Key": {"worker-secret-123"}}
	for _, step := range []string{"start", "commit"} {
		resp := e.do("POST", "/internal/v1/users/"+ada.ID+"/jobs/job-2/"+step, nil, worker)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("worker %s = %d %s, want 204", step, resp.StatusCode, body(t, resp))
		}
		resp.Body.Close()
	}
	err = c.Cancel(ctx, "job-2")
	wantCode(t, "cancel a committed job", err, account.ECONFLICT)
	if me, _ := c.Me(ctx); me.Used != 1 || me.Remaining != 14 {
		t.Errorf("after commit: used %d, remaining %d; want 1, 14", me.Used, me.Remaining)
	}

	// The worker refunds job-3 with a reason.
	if _, err := c.Reserve(ctx, "job-3"); err != nil {
		t.Fatal(err)
	}
	resp = e.do("POST", "/internal/v1/users/"+ada.ID+"/jobs/job-3/refund", strings.NewReader(`{"reason":"colmap mapper failed"}`), worker)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("worker refund = %d %s", resp.StatusCode, body(t, resp))
	}
	entries, _ = c.Ledger(ctx, 1)
	if entries[0].Kind != account.EntryRefund || entries[0].Note != "colmap mapper failed" {
		t.Errorf("latest entry = %+v, want the worker's refund", entries[0])
	}
}

func TestTokensListAndRevoke(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	a, ta := e.token(ada, "laptop")
	b, tb := e.token(ada, "CLI")
	raw, _, err := e.svc.NewSession(ctx, ada.ID, "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(raw)

	list := func() []string {
		t.Helper()
		resp := e.do("GET", "/v1/tokens", nil, authHeader(a))
		var tokens []account.Token
		if err := json.Unmarshal([]byte(body(t, resp)), &tokens); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, t := range tokens {
			ids = append(ids, t.ID)
		}
		slices.Sort(ids)
		return ids
	}
	want := []string{ta.ID, tb.ID}
	slices.Sort(want)
	if got := list(); !slices.Equal(got, want) {
		t.Errorf("tokens = %v, want the two API tokens %v (no session)", got, want)
	}
	resp := e.do("DELETE", "/v1/tokens/"+tb.ID, nil, authHeader(a))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE token = %d %s", resp.StatusCode, body(t, resp))
	}
	_, err = e.client(b).Me(ctx)
	wantCode(t, "revoked token", err, account.EUNAUTHORIZED)
	if got := list(); !slices.Equal(got, []string{ta.ID}) {
		t.Errorf("tokens after revoking = %v, want [%s]", got, ta.ID)
	}
	resp = e.do("DELETE", "/v1/tokens/tok_nonexistent", nil, authHeader(a))
	if eb := jsonError(t, resp); resp.StatusCode != 404 || eb.Error != account.ENOTFOUND {
		t.Errorf("DELETE unknown token = %d %+v, want 404", resp.StatusCode, eb)
	}
}

func TestSignOut(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	a, _ := e.token(ada, "laptop")
	b, _ := e.token(ada, "CLI")
	if err := e.client(a).SignOut(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := e.client(a).Me(ctx)
	wantCode(t, "Me after sign-out", err, account.EUNAUTHORIZED)
	if _, err := e.client(b).Me(ctx); err != nil {
		t.Errorf("the other token stopped working: %v", err)
	}
}

func TestCheckoutAndPortal(t *testing.T) {
	var gotSuccess, gotCancel, gotReturn string
	billing := &fakeBilling{
		CheckoutURLFn: func(ctx context.Context, customerID, userID string, plan account.Plan, successURL, cancelURL string) (string, error) {
			gotSuccess, gotCancel = successURL, cancelURL
			return "https://checkout.stripe.test/c/" + plan.ID, nil
		},
		PortalURLFn: func(ctx context.Context, customerID, returnURL string) (string, error) {
			gotReturn = returnURL
			return "https://billing.stripe.test/p/" + customerID, nil
		},
	}
	e := newEnv(t, envOptions{billing: billing})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	tok, _ := e.token(ada, "CLI")
	c := e.client(tok)

	u, err := c.Checkout(ctx, "pro")
	if err != nil {
		t.Fatal(err)
	}
	if u != "https://checkout.stripe.test/c/pro" || gotSuccess != e.ts.URL+"/billing/done" || gotCancel != e.ts.URL+"/account" {
		t.Errorf("Checkout = %q with success %q, cancel %q", u, gotSuccess, gotCancel)
	}
	_, err = c.Checkout(ctx, "platinum")
	wantCode(t, "checkout of an unknown plan", err, account.EINVALID)

	u, err = c.Portal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u != "https://billing.stripe.test/p/cus_"+ada.ID || gotReturn != e.ts.URL+"/account" {
		t.Errorf("Portal = %q with return %q", u, gotReturn)
	}

	// Stripe down: 503 with the service's message.
	billing.PortalURLFn = func(ctx context.Context, customerID, returnURL string) (string, error) {
		return "", account.Errorf(account.EUNAVAILABLE, "Billing is unavailable just now: try again in a minute")
	}
	_, err = c.Portal(ctx)
	wantCode(t, "portal with Stripe down", err, account.EUNAVAILABLE)

	// No billing configured.
	e2 := newEnv(t, envOptions{billing: noBilling})
	tok2, _ := e2.token(e2.user("bob@example.com"), "CLI")
	_, err = e2.client(tok2).Checkout(ctx, "pro")
	wantCode(t, "checkout without billing", err, account.EUNAVAILABLE)
}

// An error the store makes up is 500 "Internal error." to the client and
// logged in full.
func TestInternalErrorHidden(t *testing.T) {
	e := newEnv(t, envOptions{store: func(s account.Store) account.Store {
		return &failingLedger{Store: s}
	}})
	tok, _ := e.token(e.user("ada@example.com"), "CLI")
	resp := e.do("GET", "/v1/ledger", nil, authHeader(tok))
	eb := jsonError(t, resp)
	if resp.StatusCode != 500 || eb != (errorBody{"internal", "Internal error."}) {
		t.Errorf("= %d %+v, want 500 internal", resp.StatusCode, eb)
	}
	if !strings.Contains(logBuf.String(), "bbolt: disk on fire") {
		t.Error("the internal error is not in the log")
	}
}

type failingLedger struct{ account.Store }

func (f *failingLedger) Ledger(ctx context.Context, userID string, limit int) ([]account.LedgerEntry, error) {
	return nil, errors.New("bbolt: disk on fire")
}

func TestClientErrors(t *testing.T) {
	ctx := t.Context()

	// Nothing listens: the error names the service and wraps the cause.
	ts := httptest.NewServer(http.NotFoundHandler())
	base := ts.URL
	ts.Close()
	_, err := (&Client{BaseURL: base}).Plans(ctx)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the account service at "+base) {
		t.Errorf("Plans with no server = %v, want \"cannot reach the account service at %s\"", err, base)
	}
	if _, ok := errors.AsType[*url.Error](err); !ok {
		t.Errorf("error %v does not wrap the *url.Error", err)
	}

	// A proxy's HTML error page: a code from the status.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/me":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("[" + strings.Repeat(`{"id":"maker"},`, 1<<17) + `{}]`))
		}
	}))
	defer proxy.Close()
	c := &Client{BaseURL: proxy.URL, HTTP: proxy.Client()}
	_, err = c.Me(ctx)
	wantCode(t, "Me through a failing proxy", err, account.EUNAVAILABLE)
	_, err = c.Plans(ctx)
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Errorf("Plans with a 1 MiB+ answer = %v, want refused", err)
	}
	if defaultHTTP.Timeout != 30*time.Second {
		t.Errorf("default timeout %v, want 30s", defaultHTTP.Timeout)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, envOptions{})
	resp := e.do("GET", "/healthz", nil, nil)
	if b := body(t, resp); resp.StatusCode != 200 || b != "ok" {
		t.Errorf("/healthz = %d %q", resp.StatusCode, b)
	}
	resp = e.do("GET", "/v1/nothing", nil, nil)
	if eb := jsonError(t, resp); resp.StatusCode != 404 || eb.Error != account.ENOTFOUND {
		t.Errorf("/v1/nothing = %d %+v, want a JSON 404", resp.StatusCode, eb)
	}
}
