package http

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/replica3d/replica/account"
)

// checkPage checks what every page must have: the lang attribute, one h1,
// a label for every input a person fills in, and no inline script or style.
func checkPage(t *testing.T, name, doc string) {
	t.Helper()
	root := parse(t, doc)
	var h1s int
	lang := ""
	labels := map[string]bool{}
	var inputs []*html.Node
	walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "html":
			lang = attr(n, "lang")
		case "h1":
			h1s++
		case "label":
			labels[attr(n, "for")] = true
		case "input", "select", "textarea":
			switch attr(n, "type") {
			case "hidden", "submit", "button":
			default:
				inputs = append(inputs, n)
			}
		case "script":
			t.Errorf("%s: has a script", name)
		case "style":
			t.Errorf("%s: has a style element", name)
		case "button":
			if text(n) == "" && attr(n, "aria-label") == "" {
				t.Errorf("%s: a button without text", name)
			}
		}
		if attr(n, "style") != "" {
			t.Errorf("%s: inline style on <%s>", name, n.Data)
		}
	})
	if lang != "en" {
		t.Errorf("%s: <html lang=%q>, want en", name, lang)
	}
	if h1s != 1 {
		t.Errorf("%s: %d h1, want 1", name, h1s)
	}
	for _, in := range inputs {
		if id := attr(in, "id"); id == "" || !labels[id] {
			t.Errorf("%s: <input name=%q id=%q> has no label", name, attr(in, "name"), id)
		}
	}
}

func TestPagesRender(t *testing.T) {
	e := newEnv(t, envOptions{})
	ada := e.user("ada@example.com")
	e.subscribe(ada, "maker")
	tok, _ := e.token(ada, "CLI")
	if _, err := e.client(tok).Reserve(t.Context(), "job-1"); err != nil {
		t.Fatal(err)
	}
	dc, err := e.svc.StartDevice(t.Context(), "Replica on ada-laptop")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)

	out := e.browser()
	in := e.browser()
	in.signIn("ada@example.com")
	tests := []struct {
		name   string
		b      *browser
		path   string
		status int
		want   string
	}{
		{"home", out, "/", 200, "Plans for cloud processing"},
		{"pricing", out, "/pricing", 200, "£29"},
		{"pricing signed in", in, "/pricing", 200, `href="/account#plans"`},
		{"signup", out, "/signup", 200, "Create your account"},
		{"signin", out, "/signin?next=%2Fdevice", 200, `value="/device"`},
		{"billing done", out, "/billing/done", 200, "your plan appears here within a minute"},
		{"not found", out, "/nothing/here", 404, "Not found"},
		{"account", in, "/account", 200, "15 cloud models a month"},
		{"device form", in, "/device", 200, "Code shown in Replica"},
		{"device approval", in, "/device?code=" + url.QueryEscape(dc.UserCode), 200, dc.UserCode},
		{"device unknown code", in, "/device?code=BBBB-BBBB", 404, "not one we gave out"},
		{"device bad code", in, "/device?code=hello", 404, "not one we gave out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, doc := tt.b.get(tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("GET %s = %d, want %d\n%s", tt.path, resp.StatusCode, tt.status, doc)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if !strings.Contains(doc, tt.want) {
				t.Errorf("GET %s does not contain %q\n%s", tt.path, tt.want, doc)
			}
			checkPage(t, tt.path, doc)
		})
	}

	resp, css := out.get("/static/style.css")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(css, ":focus-visible") {
		t.Errorf("style.css = %d %q, want CSS with a focus style", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// A person signs up, signs out, signs in again and sees the account page.
func TestSignupSigninAccount(t *testing.T) {
	e := newEnv(t, envOptions{})
	b := e.browser()
	pw := "grace's long password"
	secrets.add(pw)

	resp, doc := b.post("/signup", "/signup", url.Values{"email": {" Grace@Example.com "}, "password": {pw}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("sign-up = %d to %q\n%s", resp.StatusCode, resp.Header.Get("Location"), doc)
	}
	secrets.add(b.cookie(sessionCookie))
	_, doc = b.get("/account")
	if !strings.Contains(doc, "grace@example.com") || !strings.Contains(doc, "No plan: choose one") {
		t.Errorf("account page after sign-up:\n%s", doc)
	}
	checkPage(t, "/account", doc)

	resp, _ = b.post("/account", "/signout", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || b.cookie(sessionCookie) != "" {
		t.Fatalf("sign-out = %d to %q, session cookie %q", resp.StatusCode, resp.Header.Get("Location"), b.cookie(sessionCookie))
	}
	resp, _ = b.get("/account")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/signin?next=%2Faccount" {
		t.Fatalf("account signed out = %d to %q, want 303 to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp, _ = b.post("/signin?next=%2Faccount", "/signin", url.Values{"email": {"grace@example.com"}, "password": {pw}, "next": {"/account"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	secrets.add(b.cookie(sessionCookie))
	resp, doc = b.get("/account")
	if resp.StatusCode != 200 || !strings.Contains(doc, "grace@example.com") {
		t.Errorf("account after sign-in = %d", resp.StatusCode)
	}
	// The session cookie is no API token.
	resp = e.do("GET", "/v1/me", nil, http.Header{"Authorization": {"Bearer " + b.cookie(sessionCookie)}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("/v1/me with the session = %d, want 401", resp.StatusCode)
	}
	resp.Body.Close()
}

// A new token is shown once, right after it was made; afterwards only its
// name is listed, and Revoke ends it.
func TestTokenShownOnce(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	b := e.browser()
	b.signIn("ada@example.com")

	resp, doc := b.post("/account", "/account/tokens", url.Values{"name": {"CLI on the workstation"}})
	raw := newTokenOf(t, doc)
	if resp.StatusCode != 200 || !strings.HasPrefix(raw, account.TokenPrefix) {
		t.Fatalf("create token = %d, token %q", resp.StatusCode, raw)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Error("the page showing a token may be cached")
	}
	checkPage(t, "/account with a new token", doc)
	me, err := e.client(raw).Me(t.Context())
	if err != nil || me.Email != "ada@example.com" {
		t.Fatalf("the new token: %v", err)
	}

	_, doc = b.get("/account")
	if strings.Contains(doc, raw) || strings.Contains(doc, raw[len(account.TokenPrefix):]) {
		t.Error("the account page shows the token again")
	}
	if !strings.Contains(doc, "CLI on the workstation") {
		t.Error("the token is not listed by name")
	}

	// Revoke it from its row.
	var action string
	walk(parse(t, doc), func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "form" && strings.HasSuffix(attr(n, "action"), "/revoke") {
			action = attr(n, "action")
		}
	})
	resp, _ = b.do("POST", action, url.Values{"csrf": {csrfOf(t, doc)}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke = %d", resp.StatusCode)
	}
	_, err = e.client(raw).Me(t.Context())
	wantCode(t, "Me with the revoked token", err, account.EUNAUTHORIZED)
	_, doc = b.get("/account")
	if strings.Contains(doc, "CLI on the workstation") {
		t.Error("a revoked token is still listed")
	}
}

func TestAccountBilling(t *testing.T) {
	e := newEnv(t, envOptions{})
	ada := e.user("ada@example.com")
	b := e.browser()
	b.signIn("ada@example.com")

	resp, _ := b.post("/account", "/account/checkout", url.Values{"plan": {"pro"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://checkout.stripe.test/c/pro" {
		t.Errorf("checkout = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = b.post("/account", "/account/checkout", url.Values{"plan": {"platinum"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("checkout of an unknown plan = %d, want 400", resp.StatusCode)
	}

	// Once the user is a customer, Manage billing shows and opens the portal.
	e.subscribe(ada, "maker")
	b2 := e.browser()
	b2.signIn("ada@example.com")
	_, doc := b2.get("/account")
	if !strings.Contains(doc, "Manage billing") || !strings.Contains(doc, "Switch to Pro") || !strings.Contains(doc, "Maker (your plan)") {
		t.Errorf("account page of a subscriber:\n%s", doc)
	}
	resp, _ = b2.post("/account", "/account/portal", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "https://billing.stripe.test/p/cus_"+ada.ID {
		t.Errorf("portal = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// deviceHeading is the approval page's heading, whatever the app that asked
// calls itself.
const deviceHeading = "Sign in Replica on a computer?"

// checkApproval checks that an approval page heads with our own words and
// shows the client's name only below, labelled as its claim, with the advice
// to approve only a sign-in of one's own.
func checkApproval(t *testing.T, doc, clientName string) {
	t.Helper()
	root := parse(t, doc)
	var h1, client, name string
	walk(root, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch {
		case n.Data == "h1":
			h1 = text(n)
		case attr(n, "id") == "client":
			client = text(n)
		case attr(n, "id") == "client-name":
			name = text(n)
		}
	})
	if h1 != deviceHeading {
		t.Errorf("approval page heading %q, want %q", h1, deviceHeading)
	}
	if name != clientName || !strings.HasPrefix(client, "The app calls itself: "+clientName) {
		t.Errorf("approval page shows the client as %q (name %q), want \"The app calls itself: %s\"", client, name, clientName)
	}
	if all := text(root); !strings.Contains(all, "Only approve if you started signing in yourself just now and the code matches.") {
		t.Errorf("approval page lacks the advice:\n%s", all)
	}
	checkPage(t, "approval", doc)
}

// A requesting app names itself, but cannot put words in the approval
// page's heading: the name is shown, escaped, as its claim.
func TestDevicePageClientName(t *testing.T) {
	e := newEnv(t, envOptions{})
	e.user("ada@example.com")
	b := e.browser()
	b.signIn("ada@example.com")
	for _, name := range []string{
		"Replica Support: approve now or your account is closed",
		`<script>alert(1)</script> & "quotes"`,
		"Replica\u202eevil",
	} {
		dc, err := e.client("").StartDevice(t.Context(), name)
		if err != nil {
			t.Fatal(err)
		}
		secrets.add(dc.DeviceCode)
		_, doc := b.get("/device?code=" + dc.UserCode)
		checkApproval(t, doc, name)
	}
}

// The approval page without a browser engine: sign-in first, then approve
// or deny.
func TestDevicePages(t *testing.T) {
	e := newEnv(t, envOptions{})
	ada := e.user("ada@example.com")
	ctx := t.Context()
	app := e.client("")

	dc, err := app.StartDevice(ctx, "Replica on ada-laptop")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	b := e.browser()
	page := strings.TrimPrefix(dc.VerificationURIComplete, e.ts.URL)
	resp, _ := b.get(page)
	if want := "/signin?next=" + url.QueryEscape(page); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
		t.Fatalf("device page signed out = %d to %q, want %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
	resp, _ = b.post(resp.Header.Get("Location"), "/signin", url.Values{"email": {"ada@example.com"}, "password": {password}, "next": {page}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != page {
		t.Fatalf("sign-in = %d to %q, want back to %q", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	secrets.add(b.cookie(sessionCookie))
	_, doc := b.get(page)
	if !strings.Contains(doc, dc.UserCode) {
		t.Fatalf("approval page:\n%s", doc)
	}
	checkApproval(t, doc, "Replica on ada-laptop")
	resp, doc = b.post(page, "/device", url.Values{"code": {dc.UserCode}, "decision": {"approve"}})
	if resp.StatusCode != 200 || !strings.Contains(doc, "Replica is signed in — you can close this tab") {
		t.Fatalf("approve = %d\n%s", resp.StatusCode, doc)
	}
	checkPage(t, "approved", doc)
	tok, err := app.PollDevice(ctx, dc.DeviceCode)
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(tok)
	if me, err := e.client(tok).Me(ctx); err != nil || me.Email != ada.Email {
		t.Errorf("Me with the approved token: %v", err)
	}
	// The code is spent: approving again is refused.
	resp, doc = b.post("/device", "/device", url.Values{"code": {dc.UserCode}, "decision": {"approve"}})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("approve twice = %d\n%s", resp.StatusCode, errorText(t, doc))
	}

	// Deny.
	dc, err = app.StartDevice(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	secrets.add(dc.DeviceCode)
	resp, doc = b.post("/device?code="+dc.UserCode, "/device", url.Values{"code": {dc.UserCode}, "decision": {"deny"}})
	if resp.StatusCode != 200 || !strings.Contains(doc, "<h1>Declined</h1>") {
		t.Fatalf("deny = %d\n%s", resp.StatusCode, doc)
	}
	checkPage(t, "declined", doc)
	_, err = app.PollDevice(ctx, dc.DeviceCode)
	wantCode(t, "poll after deny", err, account.EDENIED)

	resp, _ = b.post("/device", "/device", url.Values{"code": {dc.UserCode}, "decision": {"maybe"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("decision=maybe = %d, want 400", resp.StatusCode)
	}
}
