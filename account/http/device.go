package http

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/replica3d/replica/account"
)

// The device flow's endpoints (RFC 8628 §3.1–3.5) take form-encoded
// requests; the token endpoint answers errors as RFC 6749 §5.2 says.

// grantDeviceCode is the device flow's grant type (RFC 8628 §3.4).
const grantDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// RFC 6749 §5.2 error codes that account has no code for.
const (
	oauthInvalidRequest   = "invalid_request"
	oauthUnsupportedGrant = "unsupported_grant_type"
)

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
func (s *Server) postDeviceCode(w http.ResponseWriter, r *http.Request) error {
	if err := s.limit(s.lim.deviceCode, s.clientIP(r)); err != nil {
		return err
	}
	if err := s.parseForm(w, r, account.EINVALID); err != nil {
		return err
	}
	clientID, ok1 := single(r.PostForm, "client_id")
	clientName, ok2 := single(r.PostForm, "client_name")
	if !ok1 || !ok2 || clientID == "" || len(clientID) > 64 {
		return account.Errorf(account.EINVALID, "Send client_id (and optionally client_name) once each.")
	}
	dc, err := s.svc.StartDevice(r.Context(), clientName)
	if err != nil {
		return err
	}
	dc.VerificationURI = s.link(r, "/device")
	dc.VerificationURIComplete = s.link(r, "/device?code="+url.QueryEscape(dc.UserCode))
	writeJSON(w, http.StatusOK, dc)
	return nil
}

// oauthError is a token endpoint error (RFC 6749 §5.2).
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// postDeviceToken is the app's poll (RFC 8628 §3.4–3.5).
func (s *Server) postDeviceToken(w http.ResponseWriter, r *http.Request) {
	tok, err := s.deviceToken(w, r)
	if err != nil {
		status, code, msg := s.classify(w, r, err)
		switch code {
		case account.EINVALID, account.ETOOLARGE:
			code = oauthInvalidRequest
		case account.ERATELIMIT:
			code = account.ESLOWDOWN
		case account.EUNAVAILABLE:
			code = "temporarily_unavailable"
		case account.EINTERNAL:
			code = "server_error"
		}
		w.Header()["Pragma"] = []string{"no-cache"}
		writeJSON(w, status, oauthError{Error: code, Description: msg})
		return
	}
	w.Header()["Pragma"] = []string{"no-cache"}
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
	return s.svc.PollDevice(r.Context(), code)
}
