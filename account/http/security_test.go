package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replica3d/replica/account"
)

// examplePath fills a route pattern's wildcards.
func examplePath(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	r := strings.NewReplacer("{id}", "tok_abc", "{job}", "job-1", "{user}", "usr_abc", "{$}", "")
	return method, r.Replace(path)
}

// Every route that needs an API token refuses a missing, malformed, wrong,
// revoked or session credential with 401 JSON, before doing anything.
func TestAPIRoutesNeedToken(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	ada := e.user("ada@example.com")
	e.subscribe(ada, "maker")
	revoked, rt := e.token(ada, "old")
	if err := e.svc.RevokeToken(ctx, ada.ID, rt.ID); err != nil {
		t.Fatal(err)
	}
	session, _, err := e.svc.NewSession(ctx, ada.ID, "Firefox")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(session)
	wrong, _ := account.NewSecret(account.TokenPrefix)
	secrets.add(wrong)

	creds := []struct {
		name   string
		header http.Header
	}{
		{"missing", nil},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}},
		{"basic", http.Header{"Authorization": {"Basic YWRhOnBhc3N3b3Jk"}}},
		{"no scheme", http.Header{"Authorization": {wrong}}},
		{"not rpl_", http.Header{"Authorization": {"Bearer abc.def.ghi"}}},
		{"two headers", http.Header{"Authorization": {"Bearer " + wrong, "Bearer " + wrong}}},
		{"overlong", http.Header{"Authorization": {"Bearer rpl_" + strings.Repeat("x", 4096)}}},
		{"wrong", authHeader(wrong)},
		{"revoked", authHeader(revoked)},
		{"session as bearer", authHeader(session)},
		{"session cookie only", http.Header{"Cookie": {sessionCookie + "=" + session}}},
	}
	n := 0
	for _, rt := range e.srv.routeTable() {
		if rt.access != bearer {
			continue
		}
		n++
		method, path := examplePath(rt.pattern)
		for _, c := range creds {
			t.Run(rt.pattern+"/"+c.name, func(t *testing.T) {
				h := c.header.Clone()
				if h == nil {
					h = http.Header{}
				}
				h.Set("Content-Type", "application/json")
				resp := e.do(method, path, strings.NewReader(`{"plan":"maker","job":"job-9"}`), h)
				eb := jsonError(t, resp)
				if resp.StatusCode != http.StatusUnauthorized || eb.Error != account.EUNAUTHORIZED || eb.Message == "" {
					t.Errorf("%s %s = %d %+v, want 401 unauthorized", method, path, resp.StatusCode, eb)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want Bearer", resp.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	if n < 10 {
		t.Errorf("only %d bearer routes in the table", n)
	}
	// Nothing was done on the way: no reservation, no revoked token.
	if _, err := e.store.Reservation(ctx, ada.ID, "job-9"); account.ErrorCode(err) != account.ENOTFOUND {
		t.Errorf("a refused request reserved job-9: %v", err)
	}
}

// One user never reads or changes another's tokens or jobs: it is 404, as
// for something that does not exist.
func TestUsersIsolated(t *testing.T) {
	e := newEnv(t, envOptions{config: Config{WorkerKey: "worker-secret-123"}})
	ctx := t.Context()
	ada, bob := e.user("ada@example.com"), e.user("bob@example.com")
	e.subscribe(ada, "maker")
	e.subscribe(bob, "maker")
	adaTok, _ := e.token(ada, "ada")
	bobTok, bobT := e.token(bob, "bob")
	if _, err := e.client(bobTok).Reserve(ctx, "bobs-job"); err != nil {
		t.Fatal(err)
	}

	for _, tt := range []struct{ method, path string }{
		{"GET", "/v1/jobs/bobs-job"},
		{"POST", "/v1/jobs/bobs-job/cancel"},
		{"DELETE", "/v1/tokens/" + bobT.ID},
	} {
		resp := e.do(tt.method, tt.path, nil, authHeader(adaTok))
		if eb := jsonError(t, resp); resp.StatusCode != http.StatusNotFound || eb.Error != account.ENOTFOUND {
			t.Errorf("ada: %s %s = %d %+v, want 404", tt.method, tt.path, resp.StatusCode, eb)
		}
	}
	// Ada's job of the same name is hers alone.
	if r, err := e.client(adaTok).Reserve(ctx, "bobs-job"); err != nil || r.State != account.Reserved {
		t.Fatalf("ada reserving her own bobs-job = %+v, %v", r, err)
	}
	if err := e.client(adaTok).Cancel(ctx, "bobs-job"); err != nil {
		t.Fatal(err)
	}
	// A worker naming the wrong user finds nothing.
	resp := e.do("POST", "/internal/v1/users/"+ada.ID+"/jobs/nonexistent/commit", nil, http.Header{"X-Worker-Key": {"worker-secret-123"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("worker commit of a job ada does not have = %d, want 404", resp.StatusCode)
	}
	resp.Body.Close()

	// Through the account page as well.
	b := e.browser()
	b.signIn("ada@example.com")
	resp, _ = b.post("/account", "/account/tokens/"+bobT.ID+"/revoke", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("ada revoking bob's token on the page = %d, want 404", resp.StatusCode)
	}

	// Bob's things are untouched.
	bc := e.client(bobTok)
	if _, err := bc.Me(ctx); err != nil {
		t.Errorf("bob's token: %v", err)
	}
	r, err := e.store.Reservation(ctx, bob.ID, "bobs-job")
	if err != nil || r.State != account.Reserved {
		t.Errorf("bob's job = %+v, %v; want still reserved", r, err)
	}
}

func TestWorkerKey(t *testing.T) {
	e := newEnv(t, envOptions{config: Config{WorkerKey: "worker-secret-123"}})
	off := newEnv(t, envOptions{})
	ada := e.user("ada@example.com")
	tok, _ := e.token(ada, "x")
	for _, rt := range e.srv.routeTable() {
		if rt.access != worker {
			continue
		}
		method, path := examplePath(rt.pattern)
		path = strings.Replace(path, "usr_abc", ada.ID, 1)
		for _, key := range []string{"", "worker-secret-12", "worker-secret-1234", "WORKER-SECRET-123"} {
			h := http.Header{}
			if key != "" {
				h.Set("X-Worker-Key", key)
			}
			resp := e.do(method, path, nil, h)
			if eb := jsonError(t, resp); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with key %q = %d %+v, want 401", method, path, key, resp.StatusCode, eb)
			}
			// A bearer token is no worker key either.
			resp = e.do(method, path, nil, authHeader(tok))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with a user token = %d, want 401", method, path, resp.StatusCode)
			}
			resp.Body.Close()
		}
		// Without a configured key the routes do not exist, whatever is sent.
		for _, key := range []string{"", "anything"} {
			resp := off.do(method, path, nil, http.Header{"X-Worker-Key": {key}})
			if eb := jsonError(t, resp); resp.StatusCode != http.StatusNotFound {
				t.Errorf("no WorkerKey: %s %s = %d %+v, want 404", method, path, resp.StatusCode, eb)
			}
		}
	}
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok, _ := e.token(e.user("ada@example.com"), "CLI")
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"over 64 KiB", "/v1/jobs", `{"job":"` + strings.Repeat("a", 64<<10) + `"}`, 413, account.ETOOLARGE},
		{"unknown field", "/v1/jobs", `{"job":"a","admin":true}`, 400, account.EINVALID},
		{"trailing data", "/v1/jobs", `{"job":"a"} {"job":"b"}`, 400, account.EINVALID},
		{"trailing garbage", "/v1/checkout", `{"plan":"pro"}x`, 400, account.EINVALID},
		{"not an object", "/v1/checkout", `["pro"]`, 400, account.EINVALID},
		{"empty", "/v1/checkout", ``, 400, account.EINVALID},
		{"portal empty is fine", "/v1/portal", ``, 200, ""},
		{"portal field", "/v1/portal", `{"return":"https://evil.example"}`, 400, account.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.do("POST", tt.path, strings.NewReader(tt.body), jsonHeader(tok))
			if tt.code == "" {
				if b := body(t, resp); resp.StatusCode != tt.status {
					t.Errorf("= %d %s, want %d", resp.StatusCode, b, tt.status)
				}
				return
			}
			if eb := jsonError(t, resp); resp.StatusCode != tt.status || eb.Error != tt.code {
				t.Errorf("= %d %+v, want %d %s", resp.StatusCode, eb, tt.status, tt.code)
			}
		})
	}
}

// Sign-in, sign-up, device codes, device polls and token creation are rate
// limited: 429 with Retry-After (the device poll: 400 slow_down), and
// allowed again once the window passed.
func TestRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{config: Config{TrustProxy: true}})
	e.user("ada@example.com")

	// from sends the browser's requests from one address.
	from := func(b *browser, ip string) *browser { b.header.Set("X-Forwarded-For", "203.0.113.99, "+ip); return b }
	want429 := func(t *testing.T, what string, resp *http.Response) {
		t.Helper()
		if resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s = %d, want 429", what, resp.StatusCode)
		}
		if ra := resp.Header.Get("Retry-After"); ra == "" || ra == "0" {
			t.Errorf("%s: Retry-After = %q, want seconds", what, ra)
		}
	}
	signin := func(b *browser, email string) *http.Response {
		resp, _ := b.post("/signin", "/signin", url.Values{"email": {email}, "password": {"wrong password!"}})
		return resp
	}

	t.Run("sign-in per IP", func(t *testing.T) {
		b := from(e.browser(), "198.51.100.1")
		for i := range 10 {
			if resp := signin(b, fmt.Sprintf("user%d@example.com", i)); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d = %d, want 401", i+1, resp.StatusCode)
			}
		}
		want429(t, "11th sign-in from one IP", signin(b, "user10@example.com"))
		// Another address is not limited.
		if resp := signin(from(e.browser(), "198.51.100.2"), "someone@example.com"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("sign-in from another IP = %d, want 401", resp.StatusCode)
		}
	})
	// The per-email limit counts failures per email and client network
	// (/24, /64), so wrong passwords from one network cannot lock the
	// owner out from another.
	t.Run("sign-in per email", func(t *testing.T) {
		a := from(e.browser(), "192.0.2.10")
		for i := range 5 {
			if resp := signin(a, "ada@example.com"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("attempt %d = %d, want 401", i+1, resp.StatusCode)
			}
		}
		want429(t, "6th failed sign-in for one email from one IP", signin(a, " ADA@example.com"))
		// The rest of A's /24 shares its bucket, even with the right password.
		resp, _ := from(e.browser(), "192.0.2.11").post("/signin", "/signin", url.Values{"email": {"ada@example.com"}, "password": {password}})
		want429(t, "right password from A's /24", resp)
		// From another network the owner signs in, and a wrong password
		// is the same 401 as ever.
		from(e.browser(), "203.0.113.7").signIn("ada@example.com")
		if resp := signin(from(e.browser(), "203.0.113.8"), "ada@example.com"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("wrong password from another network = %d, want 401", resp.StatusCode)
		}
		// A minute later A may try again.
		e.clock.Advance(time.Minute)
		from(e.browser(), "192.0.2.12").signIn("ada@example.com")
	})
	t.Run("sign-in per email counts failures only", func(t *testing.T) {
		b := from(e.browser(), "192.0.2.20")
		for i := range 4 {
			if resp := signin(b, "grace@example.com"); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d = %d, want 401", i+1, resp.StatusCode)
			}
		}
		e.user("grace@example.com")
		for range 3 {
			from(e.browser(), "192.0.2.20").signIn("grace@example.com") // after 4 failures: successes take no token
		}
		if resp := signin(b, "grace@example.com"); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("5th failure after 3 successes = %d, want 401", resp.StatusCode)
		}
		want429(t, "6th failure", signin(b, "grace@example.com"))
	})
	t.Run("sign-in per email same for unknown emails", func(t *testing.T) {
		// An unknown email and a wrong password are limited alike: the
		// limit does not tell who has an account.
		statuses := func(ip, email string) []int {
			b := from(e.browser(), ip)
			var got []int
			for range 6 {
				got = append(got, signin(b, email).StatusCode)
			}
			return got
		}
		known, unknown := statuses("100.64.0.30", "ada@example.com"), statuses("198.18.0.30", "nobody@example.com")
		if !slices.Equal(known, unknown) || known[4] != http.StatusUnauthorized || known[5] != http.StatusTooManyRequests {
			t.Errorf("statuses for a known email %v, an unknown one %v; want the same five 401 then 429", known, unknown)
		}
	})
	t.Run("sign-up per IP", func(t *testing.T) {
		b := from(e.browser(), "198.51.100.30")
		for i := range 10 {
			resp, _ := b.post("/signup", "/signup", url.Values{"email": {fmt.Sprintf("new%d@example.com", i)}, "password": {"short"}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("attempt %d = %d, want 400", i+1, resp.StatusCode)
			}
		}
		resp, _ := b.post("/signup", "/signup", url.Values{"email": {"new10@example.com"}, "password": {"short"}})
		want429(t, "11th sign-up from one IP", resp)
	})
	t.Run("sign-up per email", func(t *testing.T) {
		for i := range 5 {
			b := from(e.browser(), fmt.Sprintf("198.51.100.%d", 40+i))
			resp, _ := b.post("/signup", "/signup", url.Values{"email": {"eve@example.com"}, "password": {"short"}})
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("attempt %d = %d, want 400", i+1, resp.StatusCode)
			}
		}
		resp, _ := from(e.browser(), "198.51.100.50").post("/signup", "/signup", url.Values{"email": {"eve@example.com"}, "password": {"short"}})
		want429(t, "6th sign-up for one email from one /24", resp)
		// Another network may still sign that email up.
		resp, _ = from(e.browser(), "203.0.113.50").post("/signup", "/signup", url.Values{"email": {"eve@example.com"}, "password": {"short"}})
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("sign-up from another network = %d, want 400", resp.StatusCode)
		}
	})
	t.Run("device code", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Forwarded-For": {"198.51.100.60"}}
		for i := range 10 {
			resp := e.do("POST", "/v1/device/code", strings.NewReader("client_id=replica-desktop"), h)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("attempt %d = %d, want 200", i+1, resp.StatusCode)
			}
			resp.Body.Close()
		}
		resp := e.do("POST", "/v1/device/code", strings.NewReader("client_id=replica-desktop"), h)
		want429(t, "11th device code", resp)
		if oe := oauthErrorOf(t, resp); oe.Error != "temporarily_unavailable" || oe.Description == "" {
			t.Errorf("error %+v, want temporarily_unavailable with a description", oe)
		}
	})
	t.Run("device token", func(t *testing.T) {
		h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "X-Forwarded-For": {"198.51.100.70"}}
		form := "grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_unknown"
		for i := range 60 {
			resp := e.do("POST", "/v1/device/token", strings.NewReader(form), h)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("attempt %d = %d, want 400", i+1, resp.StatusCode)
			}
			resp.Body.Close()
		}
		// RFC 8628 §3.5: polling too fast is 400 slow_down, not 429.
		resp := e.do("POST", "/v1/device/token", strings.NewReader(form), h)
		if oe := oauthErrorOf(t, resp); resp.StatusCode != http.StatusBadRequest || oe.Error != "slow_down" || oe.Description == "" {
			t.Errorf("61st device poll = %d %+v, want 400 slow_down with a description", resp.StatusCode, oe)
		}
	})
	t.Run("token creation", func(t *testing.T) {
		b := from(e.browser(), "198.51.100.80")
		b.signIn("ada@example.com")
		_, doc := b.get("/account")
		csrf := csrfOf(t, doc)
		for i := range 20 {
			resp, doc := b.do("POST", "/account/tokens", url.Values{"csrf": {csrf}, "name": {fmt.Sprint("t", i)}}, nil)
			if resp.StatusCode != http.StatusOK || newTokenOf(t, doc) == "" {
				t.Fatalf("token %d = %d, want 200 showing the token", i+1, resp.StatusCode)
			}
		}
		resp, _ := b.do("POST", "/account/tokens", url.Values{"csrf": {csrf}, "name": {"one too many"}}, nil)
		want429(t, "21st token in an hour", resp)
	})
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter(5, time.Minute)
	for i := range 5 {
		if ok, _ := l.allow("a", now); !ok {
			t.Fatalf("request %d refused", i+1)
		}
	}
	ok, retry := l.allow("a", now)
	if ok || retry != 12*time.Second {
		t.Errorf("6th = %v, retry %v; want refused, retry 12s", ok, retry)
	}
	if ok, _ := l.allow("a", now.Add(12*time.Second)); !ok {
		t.Error("refused after one token came back")
	}

	// Memory is bounded: idle keys go at the next sweep, and a flood of
	// keys never holds more than max.
	l = newLimiter(5, time.Minute)
	l.max = 1000
	for i := range 5000 {
		l.allow(fmt.Sprint("ip", i), now)
		if n := l.len(); n > l.max {
			t.Fatalf("%d keys held, max %d", n, l.max)
		}
	}
	l.allow("late", now.Add(2*time.Minute))
	if n := l.len(); n != 1 {
		t.Errorf("after every key went idle, %d keys held; want 1", n)
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		remote, xff string
		trust       bool
		want        string
	}{
		{"192.0.2.1:1234", "", false, "192.0.2.1"},
		{"192.0.2.1:1234", "198.51.100.7", false, "192.0.2.1"},
		{"192.0.2.1:1234", "198.51.100.7", true, "198.51.100.7"},
		{"192.0.2.1:1234", "1.1.1.1, 198.51.100.7", true, "198.51.100.7"},
		{"192.0.2.1:1234", "not an ip", true, "192.0.2.1"},
		{"[2001:db8:1:2:3:4:5:6]:443", "", false, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.9]:1", "", false, "192.0.2.9"},
		{"pipe", "", false, "unknown"},
	}
	nets := map[string]string{ // clientNet of the same requests
		"192.0.2.1": "192.0.2.0/24", "198.51.100.7": "198.51.100.0/24", "2001:db8:1:2::/64": "2001:db8:1:2::/64",
		"192.0.2.9": "192.0.2.0/24", "unknown": "unknown",
	}
	for _, tt := range tests {
		s := &Server{cfg: Config{TrustProxy: tt.trust}}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := s.clientIP(r); got != tt.want {
			t.Errorf("clientIP(%q, XFF %q, trust %v) = %q, want %q", tt.remote, tt.xff, tt.trust, got, tt.want)
		}
		if got, want := s.clientNet(r), nets[tt.want]; got != want {
			t.Errorf("clientNet(%q, XFF %q, trust %v) = %q, want %q", tt.remote, tt.xff, tt.trust, got, want)
		}
	}
}

// ?next= only ever leads to a path on this site.
func TestOpenRedirect(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	tests := []struct{ next, want string }{
		{"/device?code=BCDF-GHJK", "/device?code=BCDF-GHJK"},
		{"/account", "/account"},
		{"", "/account"},
		{"//evil.example/x", "/account"},
		{"https://evil.example/", "/account"},
		{"/\\evil.example", "/account"},
		{"\\\\evil.example", "/account"},
		{"javascript:alert(1)", "/account"},
		{"/\t/evil.example", "/account"},
		{"/x\r\nSet-Cookie: a=b", "/account"},
		{" //evil.example", "/account"},
		{"evil.example", "/account"},
	}
	for _, tt := range tests {
		e.clock.Advance(time.Minute) // past the sign-in rate limit
		b := e.browser()
		resp, doc := b.post("/signin?next="+url.QueryEscape(tt.next), "/signin",
			url.Values{"email": {"ada@example.com"}, "password": {password}, "next": {tt.next}})
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != tt.want {
			t.Errorf("sign in with next=%q: %d to %q, want 303 to %q\n%.300s", tt.next, resp.StatusCode, got, tt.want, doc)
		}
		secrets.add(b.cookie(sessionCookie))
		// Signed in, GET /signin?next= redirects at once, as safely.
		resp, _ = b.get("/signin?next=" + url.QueryEscape(tt.next))
		if got := resp.Header.Get("Location"); got != tt.want {
			t.Errorf("GET /signin?next=%q signed in: to %q, want %q", tt.next, got, tt.want)
		}
	}
	// The sign-in form does not carry a foreign next.
	_, doc := e.browser().get("/signin?next=" + url.QueryEscape("//evil.example"))
	if strings.Contains(doc, "evil.example") {
		t.Error("the sign-in page carries a foreign next")
	}
}

// Page forms need this browser's CSRF token and, when the browser says where
// the form comes from, our origin.
func TestCSRF(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	e.user("mallory@example.com")
	b := e.browser()
	b.signIn("ada@example.com")
	_, doc := b.get("/account")
	csrf := csrfOf(t, doc)
	m := e.browser()
	m.signIn("mallory@example.com")
	_, mdoc := m.get("/account")
	mallorys := csrfOf(t, mdoc)
	if mallorys == csrf {
		t.Fatal("two sessions share a CSRF token")
	}

	tests := []struct {
		name   string
		form   url.Values
		header http.Header
		status int
	}{
		{"no token", url.Values{"name": {"x"}}, nil, 403},
		{"empty token", url.Values{"csrf": {""}, "name": {"x"}}, nil, 403},
		{"wrong token", url.Values{"csrf": {"AAAA" + csrf[4:]}, "name": {"x"}}, nil, 403},
		{"another session's token", url.Values{"csrf": {mallorys}, "name": {"x"}}, nil, 403},
		{"foreign origin", url.Values{"csrf": {csrf}, "name": {"x"}}, http.Header{"Origin": {"https://evil.example"}}, 403},
		{"null origin", url.Values{"csrf": {csrf}, "name": {"x"}}, http.Header{"Origin": {"null"}}, 403},
		{"cross-site fetch", url.Values{"csrf": {csrf}, "name": {"x"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403},
		{"our origin", url.Values{"csrf": {csrf}, "name": {"ok"}}, http.Header{"Origin": {e.ts.URL}, "Sec-Fetch-Site": {"same-origin"}}, 200},
		{"no origin", url.Values{"csrf": {csrf}, "name": {"ok"}}, nil, 200},
	}
	for _, tt := range tests {
		resp, doc := b.do("POST", "/account/tokens", tt.form, tt.header)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: POST /account/tokens = %d, want %d\n%.300s", tt.name, resp.StatusCode, tt.status, errorText(t, doc))
		}
		if tt.status == 200 && newTokenOf(t, doc) == "" {
			t.Errorf("%s: no new token on the page", tt.name)
		}
	}

	// Sign-in needs the pre-session token too (login CSRF): a form made
	// for another browser, or sent without the cookie, is refused.
	fresh := e.browser()
	_, other := e.browser().get("/signin")
	resp, _ := fresh.do("POST", "/signin", url.Values{"csrf": {csrfOf(t, other)}, "email": {"mallory@example.com"}, "password": {password}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in with another browser's token = %d, want 403", resp.StatusCode)
	}
	for _, path := range []string{"/signout", "/device", "/account/checkout", "/account/portal", "/signup"} {
		resp, _ := b.do("POST", path, url.Values{"plan": {"pro"}}, nil)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without a token = %d, want 403", path, resp.StatusCode)
		}
	}
}

// A failed sign-in says the same whether the email is unknown, the password
// wrong or the address malformed.
func TestSigninErrorIdentical(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	b := e.browser()
	_, doc := b.get("/signin")
	csrf := csrfOf(t, doc)
	try := func(email, pw string) (int, string) {
		resp, doc := b.do("POST", "/signin", url.Values{"csrf": {csrf}, "email": {email}, "password": {pw}}, nil)
		return resp.StatusCode, strings.ReplaceAll(doc, email, "EMAIL")
	}
	s1, d1 := try("nobody@example.com", password)
	s2, d2 := try("ada@example.com", "wrong password!!")
	s3, d3 := try("not-an-email", "wrong password!!")
	if s1 != http.StatusUnauthorized || s2 != s1 || s3 != s1 {
		t.Errorf("statuses %d, %d, %d; want 401 each", s1, s2, s3)
	}
	if d1 != d2 || d1 != d3 {
		t.Errorf("pages differ:\nunknown email: %s\nwrong password: %s\nmalformed: %s", errorText(t, d1), errorText(t, d2), errorText(t, d3))
	}
	if msg := errorText(t, d1); msg == "" || strings.Contains(strings.ToLower(msg), "no such") || strings.Contains(strings.ToLower(msg), "unknown") {
		t.Errorf("sign-in error %q", msg)
	}
}

// Sign-up with a taken email reads exactly as a sign-up that failed for any
// other reason.
func TestSignupTakenEmail(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	broken := newEnv(t, envOptions{store: func(s account.Store) account.Store { return &failingCreate{Store: s} }})

	signup := func(e *env, email string) (int, string) {
		b := e.browser()
		pw := "a long new password 1"
		secrets.add(pw)
		resp, doc := b.post("/signup", "/signup", url.Values{"email": {email}, "password": {pw}})
		return resp.StatusCode, errorText(t, doc)
	}
	s1, m1 := signup(e, "Ada@Example.com")
	s2, m2 := signup(broken, "grace@example.com")
	if s1 != http.StatusBadRequest || s1 != s2 || m1 != m2 || m1 == "" {
		t.Errorf("taken email: %d %q; store failure: %d %q; want the same 400 and message", s1, m1, s2, m2)
	}
	if strings.Contains(m1, "ada@example.com") || strings.Contains(strings.ToLower(m1), "exists") {
		t.Errorf("message %q tells the email is taken", m1)
	}
	// A new email works and signs the browser in.
	b := e.browser()
	pw := "a long new password 2"
	secrets.add(pw)
	resp, _ := b.post("/signup", "/signup", url.Values{"email": {"grace@example.com"}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" || b.cookie(sessionCookie) == "" {
		t.Errorf("sign-up = %d to %q, want 303 to /account with a session", resp.StatusCode, resp.Header.Get("Location"))
	}
	secrets.add(b.cookie(sessionCookie))
}

type failingCreate struct{ account.Store }

func (f *failingCreate) CreateUser(ctx context.Context, u *account.User) error {
	return errors.New("bbolt: no space left on device")
}

func TestSecurityHeadersAndCookies(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	resp, _ := e.browser().get("/signin")
	for k, want := range map[string]string{
		"Content-Security-Policy": "default-src 'self'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"X-Frame-Options":         "DENY",
		"Cache-Control":           "no-store",
	} {
		if got := resp.Header.Get(k); !strings.HasPrefix(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP allows inline code: %q", csp)
	}
	pre := findCookie(resp, preSessionCookie)
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteLaxMode || pre.Path != "/" || pre.Secure {
		t.Errorf("pre-session cookie %+v, want HttpOnly, Lax, Path=/, not Secure on http", pre)
	}

	// Over https the session cookie is Secure.
	s := NewServer(e.svc, Config{BaseURL: "https://account.example"})
	get := httptest.NewRequest("GET", "https://account.example/signin", nil)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, get)
	pc := findCookie(rec.Result(), preSessionCookie)
	form := url.Values{"csrf": {s.mac("pre:" + pc.Value)}, "email": {"ada@example.com"}, "password": {password}}
	post := httptest.NewRequest("POST", "https://account.example/signin", strings.NewReader(form.Encode()))
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", "https://account.example")
	post.AddCookie(pc)
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, post)
	c := findCookie(rec.Result(), sessionCookie)
	if rec.Code != http.StatusSeeOther || c == nil {
		t.Fatalf("sign-in over https = %d, no session cookie\n%s", rec.Code, rec.Body)
	}
	secrets.add(c.Value)
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || !strings.HasPrefix(c.Value, account.SessionPrefix) {
		t.Errorf("session cookie %+v, want Secure, HttpOnly, Lax, Path=/, rps_", c)
	}

	// The API answers are not cached and not sniffed.
	resp = e.do("GET", "/v1/plans", nil, nil)
	resp.Body.Close()
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("API headers %v", resp.Header)
	}
}

func findCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}
