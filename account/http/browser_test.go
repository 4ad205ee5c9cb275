package http

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/replica3d/replica/account"
)

// chromium returns the browser to drive, skipping the test without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium not installed: apt install chromium")
	return ""
}

// newChrome starts a headless Chromium with a fresh profile; the context it
// returns drives one tab.
func newChrome(t *testing.T, ctx context.Context) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium(t)),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // the test may run as root, in a container
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(alloc)
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tab); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return tab
}

type waitResult struct {
	token string
	err   error
}

// The desktop app signs in through a real browser: it starts the device
// flow and waits; the person opens the link, signs in, checks the code and
// approves; the app's wait ends with a token that works. Then the same for
// Deny.
func TestBrowserDeviceFlow(t *testing.T) {
	chromium(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	e := newEnv(t, envOptions{realClock: true, service: func(s *account.Service) { s.DeviceInterval = time.Second }})
	e.user("ada@example.com")
	app := &Client{BaseURL: e.ts.URL}
	tab := newChrome(t, ctx)

	dc, err := app.StartDevice(ctx, "Replica on e2e-laptop")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	done := make(chan waitResult, 1)
	go func() {
		tok, err := app.WaitDevice(ctx, dc)
		done <- waitResult{tok, err}
	}()

	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(tab, steps...); err != nil {
			t.Fatalf("browser: %v", err)
		}
	}
	get := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(tab, a)
		if err != nil {
			t.Fatalf("browser: %v", err)
		}
		return v
	}

	do(chromedp.Navigate(dc.VerificationURIComplete), chromedp.WaitVisible(chromedp.ID("password")))
	signinURL := get(chromedp.Location())
	do(
		chromedp.SendKeys(chromedp.ID("email"), "ada@example.com"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("approve")),
	)
	code := get(chromedp.Text(chromedp.ID("user-code")))
	heading := get(chromedp.Text(chromedp.CSS("h1")))
	client := get(chromedp.Text(chromedp.ID("client")))
	clientName := get(chromedp.Text(chromedp.ID("client-name")))
	do(chromedp.Click(chromedp.ID("approve")), chromedp.WaitNotPresent(chromedp.ID("approve")))
	result := get(chromedp.Text(chromedp.CSS("h1")))
	if !strings.HasPrefix(signinURL, e.ts.URL+"/signin?next=") {
		t.Errorf("the device link led to %q, want the sign-in page", signinURL)
	}
	if code != dc.UserCode {
		t.Errorf("approval page shows code %q, want %q", code, dc.UserCode)
	}
	// The heading is ours; the name the app chose is shown below it,
	// labelled as the app's own claim.
	if heading != deviceHeading {
		t.Errorf("approval page heading %q, want %q", heading, deviceHeading)
	}
	if !strings.HasPrefix(client, "The app calls itself: Replica on e2e-laptop") || clientName != "Replica on e2e-laptop" {
		t.Errorf("approval page shows the client as %q (name %q), want it labelled \"The app calls itself: Replica on e2e-laptop\"", client, clientName)
	}
	if result != "Replica is signed in — you can close this tab" {
		t.Errorf("after Approve the page says %q", result)
	}

	var tok string
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("WaitDevice: %v", r.err)
		}
		tok = r.token
	case <-ctx.Done():
		t.Fatal("WaitDevice did not return")
	}
	secrets.add(tok)
	me, err := (&Client{BaseURL: e.ts.URL, Token: tok}).Me(ctx)
	if err != nil || me.Email != "ada@example.com" {
		t.Fatalf("Me with the device token = %+v, %v", me, err)
	}

	// Deny: the browser is signed in now and goes straight to approval.
	dc, err = app.StartDevice(ctx, "Replica on a stranger's laptop")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	go func() {
		tok, err := app.WaitDevice(ctx, dc)
		done <- waitResult{tok, err}
	}()
	do(
		chromedp.Navigate(dc.VerificationURIComplete),
		chromedp.WaitVisible(chromedp.ID("deny")),
		chromedp.Click(chromedp.ID("deny")),
		chromedp.WaitNotPresent(chromedp.ID("deny")),
	)
	result = get(chromedp.Text(chromedp.CSS("h1")))
	if result != "Declined" {
		t.Errorf("after Deny the page says %q", result)
	}
	select {
	case r := <-done:
		if account.ErrorCode(r.err) != account.EDENIED {
			t.Errorf("WaitDevice after Deny = %q, %v; want access_denied", r.token, r.err)
		}
	case <-ctx.Done():
		t.Fatal("WaitDevice did not return")
	}
}
