package http

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/assets"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static/style.css
var styleCSS []byte

// Cookies.
const (
	sessionCookie    = "replica_session"    // the rps_ session token
	preSessionCookie = "replica_presession" // random; keys the CSRF token of forms before sign-in
)

// view is what every page template gets; each page uses the fields it needs.
type view struct {
	Title string
	User  *account.User // signed in; nil otherwise
	CSRF  string        // the token every POST form carries
	Error string        // a message for the user, shown above the form

	// Sign-in and sign-up.
	Next  string
	Email string

	// Home and pricing.
	Home  bool
	Plans []planView

	// Account.
	Me       *account.Me
	Tokens   []account.Token
	NewToken string // shown once, right after it was made
	Ledger   []account.LedgerEntry
	Billing  bool // the user has a Stripe customer: Manage billing makes sense

	// Device approval.
	Code     string
	Device   *account.DeviceAuth
	Approved bool

	// Error page.
	Status  int
	Heading string
}

// planView is one plan as the pages show it.
type planView struct {
	ID, Name, Price string
	Quota           int
	Current         bool
}

// pageNames are the templates under templates/, each with layout.html.
var pageNames = []string{"pricing", "signup", "signin", "device", "device_done", "account", "billing_done", "error"}

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2 Jan 2006")
	},
	"datetime": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2 Jan 2006 15:04 UTC")
	},
	"signed": func(n int) string {
		if n > 0 {
			return "+" + strconv.Itoa(n)
		}
		return strconv.Itoa(n)
	},
}

// parsePages parses every page once, at start: requests only execute them.
func parsePages() map[string]*template.Template {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(styleCSS)
}

// serveIcon answers the browser's favicon request with the app's icon.
func serveIcon(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(assets.Icon)
}

// session is the browser's sign-in state for one request.
type session struct {
	user  *account.User  // nil: not signed in
	token *account.Token // the session token
	csrf  string         // computed on first use
}

// pageFunc is a page handler.
type pageFunc func(w http.ResponseWriter, r *http.Request, sess *session) error

// page adapts a page handler: it loads the session, sets the pages'
// security headers and turns an error into an error page.
func (s *Server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		sess, err := s.session(w, r)
		if err == nil {
			err = h(w, r, sess)
		}
		if err != nil {
			s.errorPage(w, r, sess, err)
		}
	})
}

// form adapts the handler of a page's POST form: the Origin, when the
// browser sends one, must be ours, and the form must carry the CSRF token
// of this browser (its session, or before sign-in its pre-session cookie).
func (s *Server) form(h pageFunc) http.Handler {
	return s.page(func(w http.ResponseWriter, r *http.Request, sess *session) error {
		if o := r.Header.Get("Origin"); o != "" && o != s.ownOrigin(r) {
			return account.Errorf(account.EFORBIDDEN, "This form was sent from another site: open the page on %s and try again.", s.ownOrigin(r))
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			return account.Errorf(account.EFORBIDDEN, "This form was sent from another site: open the page on %s and try again.", s.ownOrigin(r))
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		if err := r.ParseForm(); err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return account.Errorf(account.ETOOLARGE, "The form is larger than %d KiB.", s.maxBody>>10)
			}
			return account.Errorf(account.EINVALID, "The form could not be read.")
		}
		want, ok := s.expectedCSRF(r, sess)
		got := r.PostForm.Get("csrf")
		if !ok || !hmac.Equal([]byte(got), []byte(want)) {
			return account.Errorf(account.EFORBIDDEN, "This form has expired or your browser blocks cookies: reload the page and send it again.")
		}
		return h(w, r, sess)
	})
}

func (s *Server) ownOrigin(r *http.Request) string {
	if s.origin != "" {
		return s.origin
	}
	return strings.TrimSuffix(s.link(r, "/"), "/")
}

func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h["Content-Security-Policy"] = hdrCSP
	h["Referrer-Policy"] = hdrReferrer
	h["X-Frame-Options"] = hdrFrame
	h["Cache-Control"] = hdrNoStore
}

// session reads the session cookie. A missing, expired or ended session is
// no error: the page is shown signed out.
func (s *Server) session(w http.ResponseWriter, r *http.Request) (*session, error) {
	sess := &session{}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return sess, nil
	}
	u, t, err := s.svc.SessionUser(r.Context(), c.Value)
	switch account.ErrorCode(err) {
	case "":
		sess.user, sess.token = u, t
		setUser(w, u.ID)
	case account.EUNAUTHORIZED:
	default:
		return sess, err
	}
	return sess, nil
}

// csrfToken is the token this browser's forms carry: HMAC-SHA256 under the
// server's key of the session token's id, or before sign-in of a random
// pre-session cookie, which it sets when the browser has none.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request, sess *session) string {
	if sess.csrf != "" {
		return sess.csrf
	}
	if want, ok := s.expectedCSRF(r, sess); ok {
		sess.csrf = want
		return want
	}
	b := make([]byte, 24)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: preSessionCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode})
	sess.csrf = s.mac("pre:" + v)
	return sess.csrf
}

// expectedCSRF is the token a form must carry; false when the browser has
// neither a session nor a pre-session cookie.
func (s *Server) expectedCSRF(r *http.Request, sess *session) (string, bool) {
	if sess.token != nil {
		return s.mac("session:" + sess.token.ID), true
	}
	c, err := r.Cookie(preSessionCookie)
	if err != nil || len(c.Value) < 16 || len(c.Value) > 64 {
		return "", false
	}
	return s.mac("pre:" + c.Value), true
}

func (s *Server) mac(msg string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var pageBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// render executes a page into a buffer, then writes it: a template error
// becomes a 500, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, sess *session, status int, name string, v *view) {
	v.User = sess.user
	v.CSRF = s.csrfToken(w, r, sess)
	buf := pageBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer pageBufs.Put(buf)
	if err := s.pages[name].ExecuteTemplate(buf, "layout", v); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "template", slog.String("page", name), slog.String("err", err.Error()))
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = hdrHTML
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// headings title the error page by status.
var headings = map[int]string{
	http.StatusBadRequest:            "That did not work",
	http.StatusPaymentRequired:       "A plan is needed",
	http.StatusForbidden:             "Form refused",
	http.StatusNotFound:              "Not found",
	http.StatusConflict:              "That did not work",
	http.StatusRequestEntityTooLarge: "Too large",
	http.StatusTooManyRequests:       "Too many attempts",
	http.StatusServiceUnavailable:    "Try again later",
}

// errorPage shows err as a page. A page that needs a session sends the
// browser to sign in instead.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	status, code, msg := s.classify(w, r, err)
	if code == account.EUNAUTHORIZED && r.Method == http.MethodGet {
		s.toSignin(w, r)
		return
	}
	heading := headings[status]
	if heading == "" {
		heading = "Something went wrong"
	}
	s.render(w, r, sess, status, "error", &view{Title: heading, Heading: heading, Error: msg, Status: status})
}

// toSignin sends the browser to sign in and come back here.
func (s *Server) toSignin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.EscapedPath()
	if r.URL.RawQuery != "" {
		next += "?" + r.URL.RawQuery
	}
	if r.Method != http.MethodGet || safeNext(next) == "" {
		next = "/account"
	}
	redirect(w, "/signin?next="+url.QueryEscape(next))
}

// redirect answers 303 See Other: after a POST the browser GETs the target.
func redirect(w http.ResponseWriter, to string) {
	w.Header().Set("Location", to)
	w.WriteHeader(http.StatusSeeOther)
}

// safeNext returns next when it is a path on this site, "" otherwise: it
// must start with one "/" ("//host" and "/\host" are other sites to
// browsers) and hold no scheme, host, backslash or control character.
func safeNext(next string) string {
	if len(next) == 0 || len(next) > 1024 || next[0] != '/' {
		return ""
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return ""
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return ""
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return next
}

// setSession signs the browser in.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, u *account.User) error {
	raw, _, err := s.svc.NewSession(r.Context(), u.ID, r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: raw, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(account.SessionTTL / time.Second)})
	return nil
}

func (s *Server) plans(current string) []planView {
	ps := make([]planView, 0, len(s.svc.Plans))
	for _, p := range s.svc.Plans {
		ps = append(ps, planView{ID: p.ID, Name: p.Name, Price: p.Price(), Quota: p.Quota, Current: p.ID == current})
	}
	return ps
}

// GET / and /pricing.

func (s *Server) getHome(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.render(w, r, sess, http.StatusOK, "pricing", &view{Title: "Replica account", Home: true, Plans: s.plans("")})
	return nil
}

func (s *Server) getPricing(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.render(w, r, sess, http.StatusOK, "pricing", &view{Title: "Pricing", Plans: s.plans("")})
	return nil
}

// Sign-up and sign-in.

func (s *Server) getSignup(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.entryPage(w, r, sess, "signup", "Create your account")
}

// entryPage shows the sign-up or sign-in form, or sends a browser already
// signed in on to ?next= (a local path) or its account.
func (s *Server) entryPage(w http.ResponseWriter, r *http.Request, sess *session, page, title string) error {
	next := safeNext(r.URL.Query().Get("next"))
	if sess.user != nil {
		redirect(w, orDefault(next, "/account"))
		return nil
	}
	s.render(w, r, sess, http.StatusOK, page, &view{Title: title, Next: next})
	return nil
}

// errSignup is the answer to every sign-up that fails for a reason other
// than the form's content: a taken email reads exactly like any other
// failure, so the form does not tell who has an account.
var errSignup = account.Errorf(account.EINVALID, "We could not create the account. If you already have one, sign in instead.")

func (s *Server) postSignup(w http.ResponseWriter, r *http.Request, sess *session) error {
	next := safeNext(r.PostForm.Get("next"))
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	v := &view{Title: "Create your account", Next: next, Email: email}
	if err := s.limit(s.lim.signupIP, s.clientIP(r)); err != nil {
		return err
	}
	// Only failures count against the per-email bucket, every failure alike:
	// a taken email must not read differently from a store error here either.
	refund, err := s.limitFailures(s.lim.signupEmail, s.emailNetKey(r, email))
	if err != nil {
		return err
	}
	u, err := s.svc.SignUp(r.Context(), email, password)
	if err != nil {
		if account.ErrorCode(err) != account.EINVALID {
			if account.ErrorCode(err) != account.ECONFLICT {
				s.log.LogAttrs(r.Context(), slog.LevelError, "sign-up failed", slog.String("err", err.Error()))
			}
			err = errSignup
		}
		v.Error = account.ErrorMessage(err)
		s.render(w, r, sess, http.StatusBadRequest, "signup", v)
		return nil
	}
	refund()
	if err := s.setSession(w, r, u); err != nil {
		return err
	}
	setUser(w, u.ID)
	redirect(w, orDefault(next, "/account"))
	return nil
}

// emailNetKey is the per-email limits' key: the address and the client's
// network (clientNet). Keyed on the email alone, anyone could spend a
// victim's bucket with wrong passwords and lock them out of signing in (and
// so of approving the desktop app) from anywhere; keyed with the network,
// failures count only against the network they come from.
func (s *Server) emailNetKey(r *http.Request, email string) string {
	return s.clientNet(r) + " " + emailKey(email)
}

// emailKey is the rate limits' key for an address: normalised when it is
// one, so "Ada@Example.com " and "ada@example.com" share a bucket.
func emailKey(email string) string {
	if e, err := account.NormalizeEmail(email); err == nil {
		return e
	}
	e := strings.ToLower(strings.TrimSpace(email))
	if len(e) > 254 {
		e = e[:254]
	}
	return e
}

func (s *Server) getSignin(w http.ResponseWriter, r *http.Request, sess *session) error {
	return s.entryPage(w, r, sess, "signin", "Sign in")
}

func (s *Server) postSignin(w http.ResponseWriter, r *http.Request, sess *session) error {
	next := safeNext(r.PostForm.Get("next"))
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	if err := s.limit(s.lim.signinIP, s.clientIP(r)); err != nil {
		return err
	}
	// The per-email bucket counts failures only: its token is given back
	// when the password was right, so a person who knows theirs is never
	// refused for someone else's guesses from another network.
	refund, err := s.limitFailures(s.lim.signinEmail, s.emailNetKey(r, email))
	if err != nil {
		return err
	}
	u, err := s.svc.SignIn(r.Context(), email, password)
	if err != nil {
		if account.ErrorCode(err) != account.EUNAUTHORIZED {
			refund() // the store failed, not the password
			return err
		}
		v := &view{Title: "Sign in", Next: next, Email: email, Error: account.ErrorMessage(err)}
		s.render(w, r, sess, http.StatusUnauthorized, "signin", v)
		return nil
	}
	refund()
	if err := s.setSession(w, r, u); err != nil {
		return err
	}
	setUser(w, u.ID)
	redirect(w, orDefault(next, "/account"))
	return nil
}

func (s *Server) postSignout(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.token != nil {
		if err := s.svc.EndSession(r.Context(), sess.token); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	redirect(w, "/")
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Device approval (RFC 8628 §3.3).

func (s *Server) getDevice(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	code := r.URL.Query().Get("code")
	v := &view{Title: "Sign in Replica", Code: code}
	if code == "" {
		s.render(w, r, sess, http.StatusOK, "device", v)
		return nil
	}
	if err := s.limit(s.lim.deviceLookup, s.clientIP(r)); err != nil {
		return err
	}
	d, err := s.svc.DeviceRequest(r.Context(), code)
	if err != nil {
		status, _, msg := s.classify(w, r, err)
		v.Error = msg
		s.render(w, r, sess, status, "device", v)
		return nil
	}
	v.Device, v.Code = d, d.UserCode
	s.render(w, r, sess, http.StatusOK, "device", v)
	return nil
}

func (s *Server) postDevice(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	code := r.PostForm.Get("code")
	var approve bool
	switch r.PostForm.Get("decision") {
	case "approve":
		approve = true
	case "deny":
	default:
		return account.Errorf(account.EINVALID, "Choose Approve or Deny.")
	}
	if err := s.limit(s.lim.deviceLookup, s.clientIP(r)); err != nil {
		return err
	}
	if err := s.svc.DecideDevice(r.Context(), sess.user.ID, code, approve); err != nil {
		status, _, msg := s.classify(w, r, err)
		s.render(w, r, sess, status, "device", &view{Title: "Sign in Replica", Code: code, Error: msg})
		return nil
	}
	title := "Declined"
	if approve {
		title = "Replica is signed in — you can close this tab"
	}
	s.render(w, r, sess, http.StatusOK, "device_done", &view{Title: title, Approved: approve})
	return nil
}

// The account page.

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	v, err := s.accountView(r, sess)
	if err != nil {
		return err
	}
	s.render(w, r, sess, http.StatusOK, "account", v)
	return nil
}

func (s *Server) accountView(r *http.Request, sess *session) (*view, error) {
	ctx := r.Context()
	me, err := s.svc.Me(ctx, sess.user)
	if err != nil {
		return nil, err
	}
	tokens, err := s.apiTokens(r, sess.user.ID)
	if err != nil {
		return nil, err
	}
	ledger, err := s.svc.Ledger(ctx, sess.user.ID, 20)
	if err != nil {
		return nil, err
	}
	return &view{Title: "Your account", Me: me, Tokens: tokens, Ledger: ledger, Plans: s.plans(me.Plan),
		Billing: sess.user.CustomerID != ""}, nil
}

func (s *Server) postAccountToken(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	if err := s.limit(s.lim.tokenCreate, sess.user.ID); err != nil {
		return err
	}
	raw, _, err := s.svc.NewToken(r.Context(), sess.user.ID, r.PostForm.Get("name"))
	if err != nil {
		return err
	}
	v, err := s.accountView(r, sess)
	if err != nil {
		return err
	}
	v.NewToken = raw
	s.render(w, r, sess, http.StatusOK, "account", v)
	return nil
}

func (s *Server) postRevokeToken(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	id := r.PathValue("id")
	if !strings.HasPrefix(id, "tok_") {
		return account.Errorf(account.ENOTFOUND, "There is no such token.")
	}
	if err := s.svc.RevokeToken(r.Context(), sess.user.ID, id); err != nil {
		return err
	}
	redirect(w, "/account")
	return nil
}

func (s *Server) postAccountCheckout(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	url, err := s.svc.Checkout(r.Context(), sess.user.ID, r.PostForm.Get("plan"), s.link(r, "/billing/done"), s.link(r, "/account"))
	if err != nil {
		return err
	}
	redirect(w, url)
	return nil
}

func (s *Server) postAccountPortal(w http.ResponseWriter, r *http.Request, sess *session) error {
	if sess.user == nil {
		s.toSignin(w, r)
		return nil
	}
	url, err := s.svc.Portal(r.Context(), sess.user.ID, s.link(r, "/account"))
	if err != nil {
		return err
	}
	redirect(w, url)
	return nil
}

func (s *Server) getBillingDone(w http.ResponseWriter, r *http.Request, sess *session) error {
	s.render(w, r, sess, http.StatusOK, "billing_done", &view{Title: "Thank you"})
	return nil
}
