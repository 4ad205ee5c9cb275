package stripemock_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/replica3d/replica/internal/stripemock"
)

func TestStart(t *testing.T) {
	m := stripemock.Start(t)
	for _, u := range []string{m.URL, m.HTTPSURL} {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		if pu.Hostname() != "127.0.0.1" || pu.Port() == "" {
			t.Errorf("listener %q, want 127.0.0.1 and a port", u)
		}
	}
	if m.URL == m.HTTPSURL {
		t.Fatalf("HTTP and HTTPS share %q", m.URL)
	}

	client := &http.Client{Transport: &http.Transport{
		// stripe-mock's certificate is self-signed.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	for _, base := range []string{m.URL, m.HTTPSURL} {
		req, err := http.NewRequest(http.MethodGet, base+"/v1/customers/cus_123", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer sk_test_123")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", base, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"cus_123"`) {
			t.Errorf("GET %s/v1/customers/cus_123 = %d %.200s, want 200 echoing the id", base, resp.StatusCode, body)
		}
	}
}

// Two mocks at once (parallel packages do this) get their own ports.
func TestStartTwice(t *testing.T) {
	a, b := stripemock.Start(t), stripemock.Start(t)
	if a.URL == b.URL || a.HTTPSURL == b.HTTPSURL {
		t.Errorf("two mocks share a port: %+v and %+v", a, b)
	}
}

// Without stripe-mock anywhere, Start skips the test (it never passes
// silently) and says what to install.
func TestStartSkipsWithoutBinary(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir)
	t.Setenv("GOBIN", "")
	t.Setenv("GOPATH", dir)
	t.Setenv("HOME", dir)
	var skipped bool
	t.Run("start", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		stripemock.Start(t)
		t.Error("Start returned without stripe-mock")
	})
	if !skipped {
		t.Error("Start did not skip without stripe-mock")
	}
}
