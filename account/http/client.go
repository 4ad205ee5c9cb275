package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/replica3d/replica/account"
)

// Client is the desktop app's side of the account API. Its zero value needs
// only BaseURL; Token is the API token (rpl_…) once the app is signed in.
// Errors the server answers come back as *account.Error with the server's
// code and message; a server that cannot be reached is an error wrapping
// the cause.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client // nil: a client with a 30 s timeout

	// wait sleeps between device polls; nil: a timer. now is the clock
	// WaitDevice measures the code's lifetime on; nil: time.Now. Tests
	// replace both.
	wait func(ctx context.Context, d time.Duration) error
	now  func() time.Time
}

// ClientID is what the desktop app calls itself in the device flow.
const ClientID = "replica-desktop"

// maxResponse bounds what the client reads of an answer.
const maxResponse = 1 << 20

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// Plans returns the price list (without Stripe's price ids).
func (c *Client) Plans(ctx context.Context) (account.Plans, error) {
	var ps account.Plans
	if err := c.do(ctx, http.MethodGet, "/v1/plans", nil, &ps); err != nil {
		return nil, err
	}
	return ps, nil
}

// StartDevice begins signing the app in (RFC 8628 §3.1): the user opens
// VerificationURIComplete and approves; WaitDevice then gets the token.
func (c *Client) StartDevice(ctx context.Context, clientName string) (*account.DeviceCode, error) {
	form := url.Values{"client_id": {ClientID}}
	if clientName != "" {
		form.Set("client_name", clientName)
	}
	var dc account.DeviceCode
	if err := c.do(ctx, http.MethodPost, "/v1/device/code", form, &dc); err != nil {
		return nil, err
	}
	return &dc, nil
}

// PollDevice asks once for the token of an approved device code (RFC 8628
// §3.4). Until then it returns an *account.Error whose code is
// account.EPENDING or ESLOWDOWN; EDENIED, EEXPIRED or invalid_grant end
// the flow.
func (c *Client) PollDevice(ctx context.Context, deviceCode string) (string, error) {
	tok, _, err := c.pollDevice(ctx, deviceCode)
	return tok, err
}

// pollDevice is PollDevice that also returns the answer's HTTP status (0
// when there was no answer).
func (c *Client) pollDevice(ctx context.Context, deviceCode string) (string, int, error) {
	form := url.Values{"grant_type": {grantDeviceCode}, "device_code": {deviceCode}}
	var tr account.TokenResponse
	status, err := c.send(ctx, http.MethodPost, "/v1/device/token", form, &tr)
	if err != nil {
		return "", status, err
	}
	if tr.AccessToken == "" || !strings.EqualFold(tr.TokenType, "Bearer") {
		return "", status, account.Errorf(account.EINTERNAL, "The account service answered a token of type %q.", tr.TokenType)
	}
	return tr.AccessToken, status, nil
}

// WaitDevice polls every dc.Interval seconds until the user approves (the
// token), declines (EDENIED), the code expires or was never valid
// (EEXPIRED, invalid_grant) or ctx ends. A slow_down adds 5 s to the
// interval (RFC 8628 §3.5), and so does a 429 or a server that cannot be
// reached (§3.5: reduce the polling frequency). A server in trouble (a 5xx,
// server_error, temporarily_unavailable) is polled again at the interval.
// Any other error answer ends the wait. Past the code's lifetime it returns
// EEXPIRED.
func (c *Client) WaitDevice(ctx context.Context, dc *account.DeviceCode) (string, error) {
	interval := time.Duration(dc.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 §3.2's default
	}
	var expires time.Time
	if dc.ExpiresIn > 0 {
		expires = c.clock().Add(time.Duration(dc.ExpiresIn) * time.Second)
	}
	for {
		if err := c.sleep(ctx, interval); err != nil {
			return "", err
		}
		tok, status, err := c.pollDevice(ctx, dc.DeviceCode)
		if err == nil {
			return tok, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		_, unreachable := errors.AsType[*unreachableError](err)
		switch code := account.ErrorCode(err); {
		case code == account.EPENDING:
		case code == account.ESLOWDOWN, code == account.ERATELIMIT, unreachable:
			interval += 5 * time.Second
		case status >= 500, code == oauthServerError, code == oauthUnavailable, code == account.EUNAVAILABLE:
		default: // access_denied, expired_token, invalid_grant, invalid_request, …
			return "", err
		}
		if !expires.IsZero() && !c.clock().Before(expires) {
			return "", account.Errorf(account.EEXPIRED, "The sign-in code expired: start signing in again.")
		}
	}
}

func (c *Client) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.wait != nil {
		return c.wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Me returns the signed-in user's plan and quota.
func (c *Client) Me(ctx context.Context) (*account.Me, error) {
	var me account.Me
	if err := c.do(ctx, http.MethodGet, "/v1/me", nil, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

// Ledger returns the latest limit entries of the user's quota history
// (limit ≤ 0: the server's default).
func (c *Client) Ledger(ctx context.Context, limit int) ([]account.LedgerEntry, error) {
	path := "/v1/ledger"
	if limit > 0 {
		path += fmt.Sprintf("?limit=%d", limit)
	}
	var entries []account.LedgerEntry
	if err := c.do(ctx, http.MethodGet, path, nil, &entries); err != nil {
		return nil, err
	}
	return entries, nil
}

// Checkout returns the Stripe Checkout URL that subscribes the user to a
// plan, for the app to open in the browser.
func (c *Client) Checkout(ctx context.Context, planID string) (string, error) {
	var l account.Link
	if err := c.do(ctx, http.MethodPost, "/v1/checkout", map[string]string{"plan": planID}, &l); err != nil {
		return "", err
	}
	return l.URL, nil
}

// Portal returns the Stripe Customer Portal URL.
func (c *Client) Portal(ctx context.Context) (string, error) {
	var l account.Link
	if err := c.do(ctx, http.MethodPost, "/v1/portal", struct{}{}, &l); err != nil {
		return "", err
	}
	return l.URL, nil
}

// SignOut revokes the client's token on the server.
func (c *Client) SignOut(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/v1/tokens/current", nil, nil)
}

// Reserve holds one cloud model for a job; reserving the same job again
// returns the same reservation.
func (c *Client) Reserve(ctx context.Context, job string) (*account.Reservation, error) {
	var r account.Reservation
	if err := c.do(ctx, http.MethodPost, "/v1/jobs", map[string]string{"job": job}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Cancel gives a job's model back.
func (c *Client) Cancel(ctx context.Context, job string) error {
	return c.do(ctx, http.MethodPost, "/v1/jobs/"+url.PathEscape(job)+"/cancel", nil, nil)
}

// do sends one request: body is url.Values (form-encoded), anything else
// non-nil is JSON. out, when not nil, receives the JSON answer.
func (c *Client) do(ctx context.Context, method, path string, body any, out any) error {
	_, err := c.send(ctx, method, path, body, out)
	return err
}

// send is do that also returns the answer's HTTP status, 0 when none came.
func (c *Client) send(ctx context.Context, method, path string, body any, out any) (int, error) {
	base := strings.TrimRight(c.BaseURL, "/")
	var rd io.Reader
	var ct string
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return 0, fmt.Errorf("account client: %w", err)
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, fmt.Errorf("account client: %w", err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return 0, &unreachableError{base: base, err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return resp.StatusCode, &unreachableError{base: base, err: err}
	}
	if len(data) > maxResponse {
		return resp.StatusCode, account.Errorf(account.EINTERNAL, "The account service's answer is larger than %d MiB.", maxResponse>>20)
	}
	if resp.StatusCode >= 400 {
		return resp.StatusCode, responseError(resp, data)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, account.Errorf(account.EINTERNAL, "The account service's answer could not be read: %v.", err)
	}
	return resp.StatusCode, nil
}

// unreachableError is a request that went out and got no whole answer:
// the connection failed, timed out or broke while the answer was read.
type unreachableError struct {
	base string
	err  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the account service at %s: %v", e.base, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// responseError turns an error answer into *account.Error: the server's
// own code and message ({"error", "message"}, or RFC 6749's
// {"error", "error_description"}), or for an answer that is not ours (a
// proxy's error page) a code from the status.
func responseError(resp *http.Response, data []byte) error {
	var body struct {
		Error       string `json:"error"`
		Message     string `json:"message"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(data, &body) == nil && body.Error != "" {
		msg := body.Message
		if msg == "" {
			msg = body.Description
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return &account.Error{Code: body.Error, Message: msg}
	}
	code := account.EINTERNAL
	switch resp.StatusCode {
	case http.StatusBadRequest:
		code = account.EINVALID
	case http.StatusUnauthorized:
		code = account.EUNAUTHORIZED
	case http.StatusPaymentRequired:
		code = account.EPAYMENT
	case http.StatusNotFound:
		code = account.ENOTFOUND
	case http.StatusConflict:
		code = account.ECONFLICT
	case http.StatusRequestEntityTooLarge:
		code = account.ETOOLARGE
	case http.StatusTooManyRequests:
		code = account.ERATELIMIT
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		code = account.EUNAVAILABLE
	}
	return account.Errorf(code, "The account service answered %s.", resp.Status)
}
