package http

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// Whatever body a client sends to the JSON routes, the answer is a 2xx or a
// 4xx in our JSON shape: never a 500, never a panic.
func FuzzJSONBody(f *testing.F) {
	for _, seed := range []string{
		`{"job":"job-1"}`, `{"plan":"pro"}`, `{"job":""}`, `{"job":"a/b"}`, `{"plan":"nope"}`, ``, `null`, `[]`, `{}`,
		`{"job":1}`, `{"job":"a","x":1}`, `{"job":"a"}{"job":"b"}`, `{"job":"` + strings.Repeat("a", 70) + `"}`,
		`{"job":"\u0000"}`, `{"plan":null}`, `{"job":"j"} x`, "\xff\xfe", `{"job":"job-1","job":"job-2"}`,
	} {
		f.Add(seed)
	}
	e := newEnv(f, envOptions{})
	ada := e.user("ada@example.com")
	e.subscribe(ada, "studio")
	tok, _ := e.token(ada, "fuzz")
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/v1/jobs", "/v1/checkout", "/v1/portal"} {
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+tok)
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			e.srv.ServeHTTP(w, r)
			if w.Code >= 500 || w.Code < 200 {
				t.Fatalf("POST %s %q = %d %s", path, body, w.Code, w.Body)
			}
			if w.Code >= 400 && !strings.HasPrefix(w.Body.String(), `{"error":`) {
				t.Fatalf("POST %s %q = %d %s, want a JSON error", path, body, w.Code, w.Body)
			}
		}
	})
}

// The token endpoint's form parser: any body is a 200, 400 or 413 (its rate
// limit is 400 slow_down), in RFC 6749 §5.2's shape unless a 200.
func FuzzDeviceToken(f *testing.F) {
	for _, seed := range []string{
		"grant_type=" + url.QueryEscape(grantDeviceCode) + "&device_code=rpd_x",
		"grant_type=x", "", "&&&", "device_code=%zz", "grant_type=a&grant_type=b", ";", "a=b;c=d",
	} {
		f.Add(seed, "application/x-www-form-urlencoded")
	}
	f.Add("{}", "application/json")
	f.Add("x", "multipart/form-data; boundary=x")
	e := newEnv(f, envOptions{})
	f.Fuzz(func(t *testing.T, body, ct string) {
		e.clock.Advance(time.Second) // a poll a second stays under the 60/min limit
		r := httptest.NewRequest("POST", "/v1/device/token", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		e.srv.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var oe oauthError
			if err := json.Unmarshal(w.Body.Bytes(), &oe); err != nil || oe.Error == "" || oe.Description == "" {
				t.Fatalf("POST /v1/device/token %q (%q) = %d %s, want an RFC 6749 error", body, ct, w.Code, w.Body)
			}
		default:
			t.Fatalf("POST /v1/device/token %q (%q) = %d %s", body, ct, w.Code, w.Body)
		}
	})
}
