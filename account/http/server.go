// Package http is the replica-account service's HTTP layer: the JSON API the
// desktop app and cloud workers call, the device flow (RFC 8628), the Stripe
// webhook, the server-rendered pages people use in a browser, and Client, the
// desktop app's side of the API. All logic lives in account.Service; this
// package decodes requests, maps errors to status codes and encodes answers.
//
// Importers alias it: accounthttp "github.com/replica3d/replica/account/http".
package http

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/replica3d/replica/account"
)

// Config is what the server needs besides the service.
type Config struct {
	// BaseURL is the service's public URL, e.g. https://account.replica3d.com:
	// links in device codes and Checkout return URLs are built from it, POSTs
	// from pages must come from its origin, and the session cookie is Secure
	// when it is https.
	BaseURL string
	// WorkerKey is the shared secret of cloud workers for the internal job
	// routes; empty disables them (404).
	WorkerKey string
	// TrustProxy takes the client IP for rate limits from X-Forwarded-For
	// (its last entry, the one our own proxy appended) instead of the
	// connection. Set it only behind exactly one reverse proxy.
	TrustProxy bool
	// MaxBody limits request bodies; 0 means 64 KiB. The webhook's limit is
	// always 256 KiB: Stripe's events are larger.
	MaxBody int64
}

// Limits of request bodies.
const (
	defaultMaxBody = 64 << 10
	maxWebhookBody = 256 << 10
)

// Server serves the API, the webhook and the pages. It is an http.Handler;
// the caller owns the http.Server and its timeouts.
type Server struct {
	svc    *account.Service
	cfg    Config
	mux    *http.ServeMux
	log    *slog.Logger
	now    func() time.Time
	base   string // cfg.BaseURL without a trailing slash
	origin string // scheme://host[:port] of base, compared with Origin headers
	secure bool   // base is https: cookies are Secure

	csrfKey    []byte   // HMAC key for form tokens, new at every start
	workerHash [32]byte // SHA-256 of cfg.WorkerKey, compared in constant time
	maxBody    int64

	pages map[string]*template.Template
	lim   limits
}

// limits are the rate limits, each a set of token buckets.
type limits struct {
	signinIP, signinEmail *limiter // sign-in: 10/min per IP; 5 failures/min per email and client network (emailNetKey)
	signupIP, signupEmail *limiter // sign-up: the same
	deviceCode            *limiter // POST /v1/device/code: 10/min per IP
	deviceToken           *limiter // POST /v1/device/token: 60/min per IP (the service enforces the interval)
	deviceLookup          *limiter // GET /device?code=: 30/min per IP, against guessing user codes (RFC 8628 §5.1)
	tokenCreate           *limiter // POST /account/tokens: 20/hour per user
}

// NewServer returns the service's HTTP handler. It logs through svc.Log.
func NewServer(svc *account.Service, cfg Config) *Server {
	s := &Server{svc: svc, cfg: cfg, mux: http.NewServeMux(), log: svc.Log, now: svc.Now}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.base = strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(s.base); err == nil && u.Scheme != "" && u.Host != "" {
		s.origin = u.Scheme + "://" + u.Host
		s.secure = u.Scheme == "https"
	}
	s.maxBody = cfg.MaxBody
	if s.maxBody <= 0 {
		s.maxBody = defaultMaxBody
	}
	s.csrfKey = make([]byte, 32)
	rand.Read(s.csrfKey)
	s.workerHash = sha256.Sum256([]byte(cfg.WorkerKey))
	s.pages = parsePages()
	s.lim = limits{
		signinIP:     newLimiter(10, time.Minute),
		signinEmail:  newLimiter(5, time.Minute),
		signupIP:     newLimiter(10, time.Minute),
		signupEmail:  newLimiter(5, time.Minute),
		deviceCode:   newLimiter(10, time.Minute),
		deviceToken:  newLimiter(60, time.Minute),
		deviceLookup: newLimiter(30, time.Minute),
		tokenCreate:  newLimiter(20, time.Hour),
	}
	for _, rt := range s.routeTable() {
		s.mux.Handle(rt.pattern, rt.h)
	}
	return s
}

// access says who may call a route: the security tests go through the
// table by it.
type access int

const (
	public access = iota // anyone (pages check their session themselves)
	bearer               // Authorization: Bearer rpl_…
	worker               // X-Worker-Key
)

// route is one line of the route table.
type route struct {
	pattern string
	access  access
	h       http.Handler
}

// routeTable is every route the server answers, in Go 1.22 pattern syntax.
func (s *Server) routeTable() []route {
	notFound := func(w http.ResponseWriter, r *http.Request) error {
		return account.Errorf(account.ENOTFOUND, "There is nothing at this address.")
	}
	return []route{
		{"GET /healthz", public, http.HandlerFunc(healthz)},

		// API for the desktop app: JSON, Authorization: Bearer rpl_….
		{"GET /v1/plans", public, s.api(s.getPlans)},
		{"GET /v1/me", bearer, s.authed(s.getMe)},
		{"GET /v1/ledger", bearer, s.authed(s.getLedger)},
		{"POST /v1/checkout", bearer, s.authed(s.postCheckout)},
		{"POST /v1/portal", bearer, s.authed(s.postPortal)},
		{"GET /v1/tokens", bearer, s.authed(s.getTokens)},
		{"DELETE /v1/tokens/current", bearer, s.authed(s.deleteCurrentToken)}, // sign out
		{"DELETE /v1/tokens/{id}", bearer, s.authed(s.deleteToken)},
		{"POST /v1/jobs", bearer, s.authed(s.postJob)},
		{"GET /v1/jobs/{job}", bearer, s.authed(s.getJob)},
		{"POST /v1/jobs/{job}/cancel", bearer, s.authed(s.cancelJob)},

		// Device flow (RFC 8628): form-encoded, before there is a token.
		{"POST /v1/device/code", public, http.HandlerFunc(s.postDeviceCode)},
		{"POST /v1/device/token", public, http.HandlerFunc(s.postDeviceToken)},

		// Cloud workers.
		{"POST /internal/v1/users/{user}/jobs/{job}/start", worker, s.worker(s.workerStart)},
		{"POST /internal/v1/users/{user}/jobs/{job}/commit", worker, s.worker(s.workerCommit)},
		{"POST /internal/v1/users/{user}/jobs/{job}/refund", worker, s.worker(s.workerRefund)},

		// Stripe: verified by its signature.
		{"POST /webhooks/stripe", public, s.api(s.postWebhook)},

		// Pages: a session cookie; every POST checks Origin and a CSRF token.
		{"GET /{$}", public, s.page(s.getHome)},
		{"GET /pricing", public, s.page(s.getPricing)},
		{"GET /signup", public, s.page(s.getSignup)},
		{"POST /signup", public, s.form(s.postSignup)},
		{"GET /signin", public, s.page(s.getSignin)},
		{"POST /signin", public, s.form(s.postSignin)},
		{"POST /signout", public, s.form(s.postSignout)},
		{"GET /device", public, s.page(s.getDevice)},
		{"POST /device", public, s.form(s.postDevice)},
		{"GET /account", public, s.page(s.getAccount)},
		{"POST /account/tokens", public, s.form(s.postAccountToken)},
		{"POST /account/tokens/{id}/revoke", public, s.form(s.postRevokeToken)},
		{"POST /account/checkout", public, s.form(s.postAccountCheckout)},
		{"POST /account/portal", public, s.form(s.postAccountPortal)},
		{"GET /billing/done", public, s.page(s.getBillingDone)},
		{"GET /static/style.css", public, http.HandlerFunc(serveCSS)},
		{"GET /favicon.ico", public, http.HandlerFunc(serveIcon)},

		// Everything else: a 404 in the caller's language.
		{"/v1/", public, s.api(notFound)},
		{"/internal/", public, s.api(notFound)},
		{"/", public, s.page(func(w http.ResponseWriter, r *http.Request, _ *session) error { return notFound(w, r) })},
	}
}

func healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok")
}

// ServeHTTP serves one request and writes its access log line: method,
// route pattern, status, duration and the user when known. Never the path's
// values, the query string, headers or bodies: they carry tokens, device
// codes and passwords.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &logWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.String("route", r.Pattern), slog.Any("panic", p))
			if lw.status == 0 {
				http.Error(lw, "Internal error.", http.StatusInternalServerError)
			}
		}
		status := lw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "-"
		}
		attrs := [6]slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", time.Since(start)),
		}
		n := 4
		if lw.user != "" {
			attrs[n] = slog.String("user", lw.user)
			n++
		}
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "http", attrs[:n]...)
	}()
	lw.Header()["X-Content-Type-Options"] = hdrNosniff
	s.mux.ServeHTTP(lw, r)
}

// logWriter records the status and the authenticated user for the access log.
type logWriter struct {
	http.ResponseWriter
	status int
	user   string
}

func (w *logWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *logWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *logWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// setUser names the user in the request's access log line.
func setUser(w http.ResponseWriter, id string) {
	if lw, ok := w.(*logWriter); ok {
		lw.user = id
	}
}

// Header values, allocated once: the hot path assigns them without
// canonicalizing or copying.
var (
	hdrJSON    = []string{"application/json"}
	hdrHTML    = []string{"text/html; charset=utf-8"}
	hdrNoStore = []string{"no-store"}
	hdrNosniff = []string{"nosniff"}
	hdrPragma  = []string{"no-cache"} // with no-store on token answers (RFC 6749 §5.1)
	// CSP: everything from our own origin, no inline script or style (the
	// pages need no JavaScript and style comes from /static/style.css).
	// form-action is left out on purpose: Chrome applies it to the redirect
	// that follows a form, and "Subscribe" redirects to Stripe Checkout.
	hdrCSP      = []string{"default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"}
	hdrReferrer = []string{"same-origin"} // not no-referrer: that makes browsers send "Origin: null" on our own forms
	hdrFrame    = []string{"DENY"}
)

// handlerFunc is a handler that returns its error for the server to map.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// statusOf is the one mapping from error codes to HTTP status codes.
func statusOf(code string) int {
	switch code {
	case account.EINVALID, account.EPENDING, account.ESLOWDOWN, account.EDENIED, account.EEXPIRED,
		oauthInvalidRequest, account.EINVALIDGRANT, oauthUnsupportedGrant:
		return http.StatusBadRequest
	case account.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case account.EPAYMENT, account.EQUOTA:
		return http.StatusPaymentRequired
	case account.EFORBIDDEN:
		return http.StatusForbidden
	case account.ENOTFOUND:
		return http.StatusNotFound
	case account.ECONFLICT:
		return http.StatusConflict
	case account.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case account.ERATELIMIT:
		return http.StatusTooManyRequests
	case account.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// classify maps err to a status, a code and a message the user may read. An
// error that maps to 500 is logged with the route and answered as "Internal
// error.": its text may name files, queries or Stripe's answers. It also sets
// Retry-After on 429 and WWW-Authenticate on 401.
func (s *Server) classify(w http.ResponseWriter, r *http.Request, err error) (status int, code, msg string) {
	code = account.ErrorCode(err)
	status = statusOf(code)
	switch status {
	case http.StatusInternalServerError:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("route", r.Pattern), slog.String("err", err.Error()))
		return status, account.EINTERNAL, "Internal error."
	case http.StatusTooManyRequests:
		retry := time.Minute
		if le, ok := errors.AsType[*limitError](err); ok {
			retry = le.retry
		}
		w.Header().Set("Retry-After", fmt.Sprint(int((retry+time.Second-1)/time.Second)))
	case http.StatusUnauthorized:
		if strings.HasPrefix(r.URL.Path, "/v1/") {
			w.Header().Set("WWW-Authenticate", `Bearer realm="replica"`)
		}
	}
	return status, code, account.ErrorMessage(err)
}

// errorBody is every /v1 error: {"error": code, "message": msg}.
type errorBody struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

// api adapts a handler of the JSON API: its error becomes a JSON answer.
func (s *Server) api(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.jsonError(w, r, err)
		}
	})
}

func (s *Server) jsonError(w http.ResponseWriter, r *http.Request, err error) {
	status, code, msg := s.classify(w, r, err)
	writeJSON(w, status, errorBody{Error: code, Message: msg})
}

// writeJSON writes v as the answer. API answers are never cached: they are
// per user.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// readJSON decodes the request's body into v: at most maxBody bytes, one
// JSON value, no unknown fields, nothing after it. An empty body leaves v
// as it is when empty is true.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any, example string, empty bool) error {
	body := http.MaxBytesReader(w, r.Body, s.maxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == io.EOF && empty {
		return nil
	}
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errors.New("data after the JSON value")
			if _, ok := errors.AsType[*http.MaxBytesError](err2); ok {
				err = err2
			}
		}
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return account.Errorf(account.ETOOLARGE, "The request body is larger than %d KiB.", s.maxBody>>10)
		}
		return account.Errorf(account.EINVALID, "Send a JSON object such as %s.", example)
	}
	return nil
}

// authedFunc is an API handler for a user authenticated by a bearer token.
type authedFunc func(w http.ResponseWriter, r *http.Request, u *account.User, t *account.Token) error

var errNoToken = account.Errorf(account.EUNAUTHORIZED, "Sign in: send Authorization: Bearer with your Replica token.")

// authed adapts an API handler that needs an API token. Only the
// Authorization header is read: a session cookie is not a credential here,
// so a page can never be made to call the API with the browser's cookie.
func (s *Server) authed(h authedFunc) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		raw, ok := bearerToken(r)
		if !ok {
			return errNoToken
		}
		u, t, err := s.svc.Authenticate(r.Context(), raw)
		if err != nil {
			return err
		}
		setUser(w, u.ID)
		return h(w, r, u, t)
	})
}

// bearer returns the token of an "Authorization: Bearer …" header (the
// scheme is case-insensitive, RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, bool) {
	v := r.Header["Authorization"]
	if len(v) != 1 || len(v[0]) < 8 || !strings.EqualFold(v[0][:7], "Bearer ") {
		return "", false
	}
	tok := strings.TrimSpace(v[0][7:])
	return tok, tok != ""
}

// worker adapts an internal route for cloud workers: X-Worker-Key must equal
// Config.WorkerKey (compared as SHA-256 hashes in constant time, so neither
// the key's bytes nor its length leak). Without a configured key the routes
// do not exist.
func (s *Server) worker(h handlerFunc) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if s.cfg.WorkerKey == "" {
			return account.Errorf(account.ENOTFOUND, "There is nothing at this address.")
		}
		got := sha256.Sum256([]byte(r.Header.Get("X-Worker-Key")))
		if subtle.ConstantTimeCompare(got[:], s.workerHash[:]) != 1 {
			return account.Errorf(account.EUNAUTHORIZED, "Send the worker key in X-Worker-Key.")
		}
		return h(w, r)
	})
}

// link builds an absolute URL on the service from a path.
func (s *Server) link(r *http.Request, path string) string {
	if s.base != "" {
		return s.base + path
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}
