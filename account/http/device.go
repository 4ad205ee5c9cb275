package http

import (
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/replica3d/replica/account"
)

// The device flow's endpoints (RFC 8628 §3.1–3.5) take form-encoded
// requests; both answer errors as RFC 6749 §5.2 says (RFC 8628 §3.2 and
// §3.5): {"error": code, "error_description": text}.

// grantDeviceCode is the device flow's grant type (RFC 8628 §3.4).
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// OAuth error codes that account has no code for: RFC 6749 §5.2's, and
// §4.1.2.1's two for a server in trouble, which RFC 8628 clients know too.
const (
	oauthInvalidRequest   = "invalid_request"
	oauthUnsupportedGrant = "unsupported_grant_type"
	oauthServerError      = "server_error"
	oauthUnavailable      = "temporarily_unavailable"
)

// Device codes are "rpd_" and the RawURL base64 of 32 random bytes
// (account.NewSecret).
const (
	deviceCodePrefix = "rpd_"
	deviceCodeLen    = len(deviceCodePrefix) + 43
)

// wellFormedDeviceCode says whether code has the shape of a device code the
// service gives out. Anything else cannot name an authorization, so it is
// invalid_grant (RFC 6749 §5.2) rather than expired_token, which says the
// code was real; it is refused here without a store lookup. A well-formed
// code the service does not know is invalid_grant too (the service's
// EINVALIDGRANT).
func wellFormedDeviceCode(code string) bool {
	if len(code) != deviceCodeLen || !strings.HasPrefix(code, deviceCodePrefix) {
		return false
	}
	for _, c := range []byte(code[len(deviceCodePrefix):]) {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// parseForm reads a form-encoded body, within the limit, into r.PostForm.
// The query string is never read: device codes do not belong in URLs.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request, code string) error {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return account.Errorf(code, "Send the request as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return account.Errorf(account.ETOOLARGE, "The request body is larger than %d KiB.", s.maxBody>>10)
		}
		return account.Errorf(code, "The form could not be read.")
	}
	return nil
}

// single returns the one value of a form parameter; RFC 6749 §3.1 forbids
// sending one twice.
func single(form url.Values, name string) (string, bool) {
	v := form[name]
	if len(v) != 1 {
		return "", len(v) == 0
	}
	return v[0], true
}

// postDeviceCode starts a device authorization (RFC 8628 §3.1–3.2).
func (s *Server) postDeviceCode(w http.ResponseWriter, r *http.Request) {
	dc, err := s.deviceCode(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err, false)
		return
	}
	writeJSON(w, http.StatusOK, dc)
}

func (s *Server) deviceCode(w http.ResponseWriter, r *http.Request) (*account.DeviceCode, error) {
	if err := s.limit(s.lim.deviceCode, s.clientIP(r)); err != nil {
		return nil, err
	}
	if err := s.parseForm(w, r, oauthInvalidRequest); err != nil {
		return nil, err
	}
	// client_id is required (RFC 8628 §3.1) but not checked against a
	// list: the app is a public client that anyone can copy, so a known id
	// would prove nothing, and the approval page says so of the name too.
	clientID, ok1 := single(r.PostForm, "client_id")
	clientName, ok2 := single(r.PostForm, "client_name")
	if !ok1 || !ok2 || clientID == "" || len(clientID) > 64 {
		return nil, account.Errorf(oauthInvalidRequest, "Send client_id (and optionally client_name) once each.")
	}
	dc, err := s.svc.StartDevice(r.Context(), clientName)
	if err != nil {
		return nil, err
	}
	dc.VerificationURI = s.link(r, "/device")
	dc.VerificationURIComplete = s.link(r, "/device?code="+url.QueryEscape(dc.UserCode))
	return dc, nil
}

// oauthError is an error answer of the device flow's endpoints (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// writeOAuthError answers err in RFC 6749 §5.2's shape with its codes; token
// says which endpoint asks. Over the rate limit the token endpoint answers
// 400 slow_down (RFC 8628 §3.5), keeping Retry-After as a hint. The code
// endpoint has no such code (slow_down belongs to the token endpoint), so
// it answers 429 with Retry-After and temporarily_unavailable, the code
// OAuth has for "not now, try again later" (RFC 6749 §4.1.2.1).
func (s *Server) writeOAuthError(w http.ResponseWriter, r *http.Request, err error, token bool) {
	status, code, msg := s.classify(w, r, err)
	switch code {
	case account.EINVALID, account.ETOOLARGE:
		code = oauthInvalidRequest
	case account.ERATELIMIT:
		if token {
			status, code = http.StatusBadRequest, account.ESLOWDOWN
		} else {
			code = oauthUnavailable
		}
	case account.EUNAVAILABLE:
		code = oauthUnavailable
	case account.EINTERNAL:
		code = oauthServerError
	}
	w.Header()["Pragma"] = hdrPragma
	writeJSON(w, status, oauthError{Error: code, Description: msg})
}

// postDeviceToken is the app's poll (RFC 8628 §3.4–3.5).
func (s *Server) postDeviceToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.deviceToken(w, r)
	if err != nil {
		s.writeOAuthError(w, r, err, true)
		return
	}
	w.Header()["Pragma"] = hdrPragma
	writeJSON(w, http.StatusOK, account.TokenResponse{AccessToken: tok, TokenType: "Bearer"})
}

func (s *Server) deviceToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if err := s.limit(s.lim.deviceToken, s.clientIP(r)); err != nil {
		return "", err
	}
	if err := s.parseForm(w, r, oauthInvalidRequest); err != nil {
		return "", err
	}
	grant, ok := single(r.PostForm, "grant_type")
	switch {
	case !ok || grant == "":
		return "", account.Errorf(oauthInvalidRequest, "Send grant_type once.")
	case grant != grantDeviceCode:
		return "", account.Errorf(oauthUnsupportedGrant, "Only grant_type=%s is supported.", grantDeviceCode)
	}
	code, ok := single(r.PostForm, "device_code")
	if !ok || code == "" {
		return "", account.Errorf(oauthInvalidRequest, "Send device_code once.")
	}
	if !wellFormedDeviceCode(code) {
		return "", account.Errorf(account.EINVALIDGRANT, "That is not a device code this service gave out: start signing in again.")
	}
	return s.svc.PollDevice(r.Context(), code)
}
