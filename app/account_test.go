package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/app/project"
)

// fakeAccount is the account service. Its zero value is ready: plans,
// a code, a token ("tok-1") and an account with 12 of 15 models left; the
// func fields replace one answer, to fail or to wait.
type fakeAccount struct {
	mu    sync.Mutex
	calls []string // "Me tok-1", "Checkout tok-1 pro", …

	plans      func(ctx context.Context) (account.Plans, error)
	waitDevice func(ctx context.Context, dc *account.DeviceCode) (string, error)
	me         func(ctx context.Context, token string) (*account.Me, error)
	signOut    func(ctx context.Context, token string) error
}

var _ AccountService = (*fakeAccount)(nil)

// record notes a call and returns the func field read under the lock.
func record[F any](f *fakeAccount, fn *F, call ...string) F {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(call, " "))
	return *fn
}

// note records a call.
func (f *fakeAccount) note(call ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, strings.Join(call, " "))
}

func (f *fakeAccount) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

func (f *fakeAccount) called() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

func (f *fakeAccount) Plans(ctx context.Context) (account.Plans, error) {
	if fn := record(f, &f.plans, "Plans"); fn != nil {
		return fn(ctx)
	}
	return account.DefaultPlans(), nil
}

func (f *fakeAccount) StartDevice(ctx context.Context, clientName string) (*account.DeviceCode, error) {
	f.note("StartDevice", clientName)
	return &account.DeviceCode{DeviceCode: "dev-1", UserCode: "BCDF-GHJK", VerificationURI: "https://replica.example/device",
		VerificationURIComplete: "https://replica.example/device?code=BCDF-GHJK", ExpiresIn: 900, Interval: 5}, nil
}

func (f *fakeAccount) WaitDevice(ctx context.Context, dc *account.DeviceCode) (string, error) {
	if fn := record(f, &f.waitDevice, "WaitDevice", dc.DeviceCode); fn != nil {
		return fn(ctx, dc)
	}
	return "tok-1", nil
}

func (f *fakeAccount) Me(ctx context.Context, token string) (*account.Me, error) {
	if fn := record(f, &f.me, "Me", token); fn != nil {
		return fn(ctx, token)
	}
	return makerMe(), nil
}

func (f *fakeAccount) Checkout(ctx context.Context, token, planID string) (string, error) {
	f.note("Checkout", token, planID)
	return "https://pay.example/checkout/" + planID, nil
}

func (f *fakeAccount) Portal(ctx context.Context, token string) (string, error) {
	f.note("Portal", token)
	return "https://pay.example/portal", nil
}

func (f *fakeAccount) SignOut(ctx context.Context, token string) error {
	if fn := record(f, &f.signOut, "SignOut", token); fn != nil {
		return fn(ctx, token)
	}
	return nil
}

// makerMe is an account on the Maker plan with 12 of 15 models left.
func makerMe() *account.Me {
	return &account.Me{Email: "ada@example.com", Plan: "maker", PlanName: "Maker", Status: account.StatusActive, Cloud: true,
		Quota: 15, Used: 3, Remaining: 12, PeriodEnd: time.Date(time.Now().Year(), time.December, 2, 12, 0, 0, 0, time.Local),
		ServerTime: time.Now()}
}

// browserApp is the headless app, remembering the pages it was asked to
// open.
type browserApp struct {
	fyne.App
	mu     sync.Mutex
	opened []string
}

func (a *browserApp) OpenURL(u *url.URL) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.opened = append(a.opened, u.String())
	return nil
}

func (a *browserApp) pages() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.opened)
}

// withDo makes the ui change its widgets through do.
func withDo(do func(func())) Option { return func(u *ui) { u.do = do } }

// newAccountUI builds the app with svc as the account service (nil: none)
// on a store that setup prepares, and waits for its start-up sync.
func newAccountUI(t *testing.T, svc AccountService, setup func(*project.Store)) (*testUI, *browserApp) {
	t.Helper()
	a := &browserApp{App: test.NewTempApp(t)}
	w := test.NewTempWindow(t, nil)
	w.Resize(defaultSize)
	store := newTestStore(t)
	if setup != nil {
		setup(store)
	}
	tu := &testUI{}
	opts := []Option{withDo(tu.locked)}
	if svc != nil {
		opts = append(opts, WithAccount(svc))
	}
	tu.ui = create(a, w, store, (&fakePipeline{}).run, func(context.Context) Hardware { return Hardware{} }, opts...)
	settle(t, tu)
	return tu, a
}

// signedIn keeps token and me in the store as a sync at synced left them.
func signedIn(token string, me *account.Me, synced time.Time) func(*project.Store) {
	return func(s *project.Store) {
		s.SetSetting(settingAccountToken, token)
		if me != nil {
			b, _ := json.Marshal(me)
			s.SetSetting(settingAccountMe, string(b))
			s.SetSetting(settingAccountSynced, synced.UTC().Format(time.RFC3339))
		}
	}
}

// settle waits for the account calls running in the background and their
// changes to the widgets.
func settle(t *testing.T, u *testUI) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		u.accountCalls.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("the account calls did not end")
	}
}

// openAccount shows the Account panel and waits for its sync.
func openAccount(t *testing.T, u *testUI) *accountScreen {
	t.Helper()
	u.locked(u.showAccount)
	settle(t, u)
	s, ok := u.screen().(*accountScreen)
	if !ok {
		t.Fatalf("screen %T, want the account panel", u.screen())
	}
	return s
}

// tap taps b, serialised with the background changes.
func tap(u *testUI, b *widget.Button) { u.locked(func() { test.Tap(b) }) }

func homeAccountLabel(t *testing.T, u *testUI) string {
	t.Helper()
	var label string
	u.locked(func() {
		u.showHome()
		label = u.current.(*home).accountBtn.Text
	})
	return label
}

func TestAccountUnavailable(t *testing.T) {
	u, _ := newAccountUI(t, nil, nil)
	if got := homeAccountLabel(t, u); got != "Account" {
		t.Errorf("home's account button %q, want Account", got)
	}
	s := openAccount(t, u)
	labels := map[string]bool{}
	collectLabels(u.win.Content(), labels)
	if !labels["Accounts are not available in this build. Everything on this computer works without one."] {
		t.Errorf("the panel without a service shows %v", labels)
	}
	u.locked(s.onBack)
	if _, ok := u.screen().(*home); !ok {
		t.Errorf("back from the panel: %T", u.screen())
	}
}

func TestAccountSignedOut(t *testing.T) {
	f := &fakeAccount{}
	u, _ := newAccountUI(t, f, nil)
	if got := homeAccountLabel(t, u); got != "Sign in" {
		t.Errorf("home's account button %q, want Sign in", got)
	}
	if calls := f.called(); len(calls) != 0 {
		t.Errorf("signed out, the start-up called %q", calls)
	}
	s := openAccount(t, u)
	if !s.signedOut.Visible() || s.signedIn.Visible() || s.signingIn.Visible() {
		t.Errorf("signed out, visible: out %v, in %v, signing in %v", s.signedOut.Visible(), s.signedIn.Visible(), s.signingIn.Visible())
	}
	labels := map[string]bool{}
	collectLabels(s.signedOut, labels)
	for _, want := range []string{
		"Everything on this computer works without an account. An account buys cloud processing.",
		"Maker", "£29/month", "15 cloud models/month", "Studio", "£399/month", "700 cloud models/month",
	} {
		if !labels[want] {
			t.Errorf("no %q on the signed-out panel; have %v", want, labels)
		}
	}
	if s.plansNote.Visible() || s.status.Visible() {
		t.Errorf("plans note %q, status %q shown", s.plansNote.Text, s.status.Text)
	}

	// The plans cannot be had offline: the panel says so.
	f.set(func() {
		f.plans = func(context.Context) (account.Plans, error) {
			return nil, &account.Error{Code: account.EUNAVAILABLE, Message: "The account service cannot be reached."}
		}
	})
	s = openAccount(t, u)
	if !s.plansNote.Visible() || len(s.plans.Objects) != 0 {
		t.Errorf("offline: plans note %q shown %v, %d plan cells", s.plansNote.Text, s.plansNote.Visible(), len(s.plans.Objects))
	}
}

func TestAccountDeviceFlow(t *testing.T) {
	approve := make(chan string)
	waiting := make(chan struct{})
	f := &fakeAccount{waitDevice: func(ctx context.Context, dc *account.DeviceCode) (string, error) {
		close(waiting)
		select {
		case token := <-approve:
			return token, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}}
	u, a := newAccountUI(t, f, nil)
	s := openAccount(t, u)
	tap(u, s.signIn)
	<-waiting

	u.locked(func() {
		if !s.signingIn.Visible() || s.signedOut.Visible() {
			t.Errorf("signing in: signing-in part shown %v, signed-out part %v", s.signingIn.Visible(), s.signedOut.Visible())
		}
		if s.code.Text != "BCDF-GHJK" || !s.code.Selectable {
			t.Errorf("code %q, selectable %v", s.code.Text, s.code.Selectable)
		}
		if !strings.Contains(s.verify.Text, "https://replica.example/device") {
			t.Errorf("where to approve: %q", s.verify.Text)
		}
	})
	// The browser opened once by itself, again on Open browser.
	complete := "https://replica.example/device?code=BCDF-GHJK"
	if got := a.pages(); !slices.Equal(got, []string{complete}) {
		t.Errorf("pages opened %q, want the approval page once", got)
	}
	tap(u, s.openBrowser)
	if got := a.pages(); !slices.Equal(got, []string{complete, complete}) {
		t.Errorf("after Open browser, pages opened %q", got)
	}
	tap(u, s.copyCode)
	if got := a.Clipboard().Content(); got != "BCDF-GHJK" {
		t.Errorf("clipboard %q after Copy code", got)
	}
	if calls := f.called(); len(calls) < 2 || !strings.HasPrefix(calls[1], "StartDevice Replica on ") {
		t.Errorf("calls %q, want StartDevice with Replica on <host>", calls)
	}

	approve <- "tok-1"
	settle(t, u)
	if got := u.store.Setting(settingAccountToken); got != "tok-1" {
		t.Errorf("token kept %q, want tok-1", got)
	}
	u.locked(func() {
		if !s.signedIn.Visible() || s.signingIn.Visible() {
			t.Errorf("signed in: signed-in part shown %v, signing-in part %v", s.signedIn.Visible(), s.signingIn.Visible())
		}
		for _, c := range []struct {
			l    *widget.Label
			want string
		}{
			{s.email, "ada@example.com"},
			{s.plan, "Maker plan · active"},
			{s.quota, "12 of 15 cloud models left this month"},
			{s.period, "Renews 2 Dec"},
		} {
			if !c.l.Visible() || c.l.Text != c.want {
				t.Errorf("label %q (shown %v), want %q", c.l.Text, c.l.Visible(), c.want)
			}
		}
		if s.quotaBar.Value != 12 || s.quotaBar.Max != 15 {
			t.Errorf("quota bar %v of %v, want 12 of 15", s.quotaBar.Value, s.quotaBar.Max)
		}
		if s.status.Visible() || s.reason.Visible() || s.grace.Visible() {
			t.Errorf("status %q, reason %q, grace %q shown", s.status.Text, s.reason.Text, s.grace.Text)
		}
	})
	if me, _ := u.cachedMe(); me == nil || me.Email != "ada@example.com" {
		t.Errorf("cached %+v", me)
	}
	if got := homeAccountLabel(t, u); got != "ada@example.com" {
		t.Errorf("home's account button %q, want the email", got)
	}
}

// TestAccountDeviceRefused covers the flow ending without a token: the
// panel says why and starts again on a tap.
func TestAccountDeviceRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"denied", &account.Error{Code: account.EDENIED, Message: "The request was denied."}, "refused in the browser"},
		{"expired", &account.Error{Code: account.EEXPIRED, Message: "The code expired."}, "code expired"},
		{"unreachable", &account.Error{Code: account.EUNAVAILABLE, Message: "The account service cannot be reached."}, "Cannot sign in: The account service cannot be reached."},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeAccount{waitDevice: func(context.Context, *account.DeviceCode) (string, error) { return "", c.err }}
			u, _ := newAccountUI(t, f, nil)
			s := openAccount(t, u)
			tap(u, s.signIn)
			settle(t, u)
			u.locked(func() {
				if !s.signedOut.Visible() || s.signingIn.Visible() {
					t.Errorf("after %s: signed-out part shown %v, signing-in part %v", c.name, s.signedOut.Visible(), s.signingIn.Visible())
				}
				if !s.status.Visible() || !strings.Contains(s.status.Text, c.want) {
					t.Errorf("status %q (shown %v), want it to say %q", s.status.Text, s.status.Visible(), c.want)
				}
				if s.signIn.Text != "Start again" {
					t.Errorf("sign-in button %q, want Start again", s.signIn.Text)
				}
			})
			if got := u.store.Setting(settingAccountToken); got != "" {
				t.Errorf("token %q kept", got)
			}

			f.set(func() { f.waitDevice = nil })
			tap(u, s.signIn)
			settle(t, u)
			if got := u.store.Setting(settingAccountToken); got != "tok-1" {
				t.Errorf("started again: token %q, want tok-1", got)
			}
		})
	}
}

func TestAccountDeviceCancel(t *testing.T) {
	waiting := make(chan struct{})
	stopped := make(chan error, 1)
	f := &fakeAccount{waitDevice: func(ctx context.Context, dc *account.DeviceCode) (string, error) {
		close(waiting)
		<-ctx.Done()
		stopped <- ctx.Err()
		return "", ctx.Err()
	}}
	u, _ := newAccountUI(t, f, nil)
	s := openAccount(t, u)
	tap(u, s.signIn)
	<-waiting
	tap(u, s.cancel)
	settle(t, u)
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("WaitDevice's context: %v, want cancelled", err)
	}
	u.locked(func() {
		if !s.signedOut.Visible() || s.signingIn.Visible() || s.status.Text != "Sign-in cancelled." || s.signIn.Text != "Sign in" {
			t.Errorf("after Cancel: signed-out part %v, signing-in part %v, status %q, button %q",
				s.signedOut.Visible(), s.signingIn.Visible(), s.status.Text, s.signIn.Text)
		}
	})
}

// TestAccountOffline shows the cached account when the service cannot be
// reached, with when it was synced and why not since.
func TestAccountOffline(t *testing.T) {
	f := &fakeAccount{me: func(context.Context, string) (*account.Me, error) {
		return nil, &account.Error{Code: account.EUNAVAILABLE, Message: "The account service cannot be reached."}
	}}
	synced := time.Now().Add(-3*time.Hour - 5*time.Minute)
	u, _ := newAccountUI(t, f, signedIn("tok-old", makerMe(), synced))
	if got := u.store.Setting(settingAccountToken); got != "tok-old" {
		t.Errorf("offline, the token became %q", got)
	}
	if got := homeAccountLabel(t, u); got != "ada@example.com" {
		t.Errorf("home's account button %q offline, want the cached email", got)
	}
	s := openAccount(t, u)
	u.locked(func() {
		if !s.signedIn.Visible() || s.email.Text != "ada@example.com" || s.quota.Text != "12 of 15 cloud models left this month" {
			t.Errorf("offline: signed in shown %v, email %q, quota %q", s.signedIn.Visible(), s.email.Text, s.quota.Text)
		}
		want := "Last synced 3 h ago (offline): The account service cannot be reached."
		if !s.status.Visible() || s.status.Text != want {
			t.Errorf("status %q (shown %v), want %q", s.status.Text, s.status.Visible(), want)
		}
	})
	// Plans and the second Me run at once: their order is not fixed.
	if calls := f.called(); len(calls) != 3 || calls[0] != "Me tok-old" || !slices.Equal(slices.Sorted(slices.Values(calls[1:])), []string{"Me tok-old", "Plans"}) {
		t.Errorf("calls %q, want Me at start and on opening, and Plans", calls)
	}
	// Local work goes on: a project opens.
	p, err := u.store.Create("Knob")
	if err != nil {
		t.Fatal(err)
	}
	u.locked(func() { u.showCapture(p) })
	if _, ok := u.screen().(*captureScreen); !ok {
		t.Errorf("offline, a project opens on %T", u.screen())
	}
}

// TestAccountRevoked signs out when the service refuses the token: at
// start-up, and on Refresh with the panel open.
func TestAccountRevoked(t *testing.T) {
	revoked := func(context.Context, string) (*account.Me, error) {
		return nil, &account.Error{Code: account.EUNAUTHORIZED, Message: "Sign in again."}
	}
	const want = "Your sign-in has expired or was revoked"

	t.Run("start", func(t *testing.T) {
		f := &fakeAccount{me: revoked}
		u, _ := newAccountUI(t, f, signedIn("tok-old", makerMe(), time.Now().Add(-time.Hour)))
		if tok, me := u.store.Setting(settingAccountToken), u.store.Setting(settingAccountMe); tok != "" || me != "" {
			t.Errorf("after a 401, token %q and cache %q kept", tok, me)
		}
		if got := homeAccountLabel(t, u); got != "Sign in" {
			t.Errorf("home's account button %q, want Sign in", got)
		}
		s := openAccount(t, u)
		u.locked(func() {
			if !s.signedOut.Visible() || s.signedIn.Visible() || !strings.HasPrefix(s.status.Text, want) {
				t.Errorf("signed out shown %v, signed in %v, status %q", s.signedOut.Visible(), s.signedIn.Visible(), s.status.Text)
			}
		})
	})
	t.Run("refresh", func(t *testing.T) {
		f := &fakeAccount{}
		u, _ := newAccountUI(t, f, signedIn("tok-1", nil, time.Time{}))
		s := openAccount(t, u)
		if !s.signedIn.Visible() || s.email.Text != "ada@example.com" {
			t.Fatalf("signed in shown %v, email %q", s.signedIn.Visible(), s.email.Text)
		}
		f.set(func() { f.me = revoked })
		tap(u, s.refresh)
		settle(t, u)
		if tok := u.store.Setting(settingAccountToken); tok != "" {
			t.Errorf("after a 401, token %q kept", tok)
		}
		u.locked(func() {
			if !s.signedOut.Visible() || s.signedIn.Visible() || !strings.HasPrefix(s.status.Text, want) {
				t.Errorf("signed out shown %v, signed in %v, status %q", s.signedOut.Visible(), s.signedIn.Visible(), s.status.Text)
			}
		})
	})
}

func TestAccountSignOut(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"ok", nil, "Signed out."},
		{"unreachable", &account.Error{Code: account.EUNAVAILABLE, Message: "The account service cannot be reached."},
			"Signed out on this computer. The account service could not be reached (The account service cannot be reached.)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &fakeAccount{signOut: func(context.Context, string) error { return c.err }}
			u, _ := newAccountUI(t, f, signedIn("tok-1", nil, time.Time{}))
			s := openAccount(t, u)
			tap(u, s.signOut)
			if tok := u.store.Setting(settingAccountToken); tok != "" {
				t.Errorf("token %q kept while signing out", tok)
			}
			settle(t, u)
			if tok, me := u.store.Setting(settingAccountToken), u.store.Setting(settingAccountMe); tok != "" || me != "" {
				t.Errorf("after signing out, token %q and cache %q kept", tok, me)
			}
			if calls := f.called(); !slices.Contains(calls, "SignOut tok-1") {
				t.Errorf("calls %q, want SignOut tok-1", calls)
			}
			u.locked(func() {
				if !s.signedOut.Visible() || s.signedIn.Visible() || !strings.HasPrefix(s.status.Text, c.want) {
					t.Errorf("signed out shown %v, signed in %v, status %q, want %q", s.signedOut.Visible(), s.signedIn.Visible(), s.status.Text, c.want)
				}
			})
		})
	}
}

func TestAccountBilling(t *testing.T) {
	f := &fakeAccount{}
	u, a := newAccountUI(t, f, signedIn("tok-1", nil, time.Time{}))
	s := openAccount(t, u)

	tap(u, s.upgrade)
	var pro string
	u.locked(func() {
		if s.chooser == nil {
			t.Fatal("Upgrade shows no plans")
		}
		for _, o := range s.choose.Options {
			if strings.HasPrefix(o, "Pro — £99/month, 60 cloud models/month") {
				pro = o
			}
		}
		if pro == "" || !strings.HasSuffix(s.choose.Options[0], "(yours)") {
			t.Errorf("plans offered %q", s.choose.Options)
		}
		s.choose.SetSelected(pro)
		s.chooser.Submit()
	})
	settle(t, u)
	if calls := f.called(); !slices.Contains(calls, "Checkout tok-1 pro") {
		t.Errorf("calls %q, want Checkout tok-1 pro", calls)
	}
	if got := a.pages(); !slices.Equal(got, []string{"https://pay.example/checkout/pro"}) {
		t.Errorf("pages opened %q, want the checkout page", got)
	}

	tap(u, s.manage)
	settle(t, u)
	if got := a.pages(); len(got) != 2 || got[1] != "https://pay.example/portal" {
		t.Errorf("pages opened %q, want the portal after the checkout", got)
	}
	if s.upgrade.Disabled() || s.manage.Disabled() {
		t.Error("a billing button stays disabled")
	}
}

// TestAccountNotAllowed shows why cloud processing is off and the grace
// period of a failed payment.
func TestAccountNotAllowed(t *testing.T) {
	me := makerMe()
	me.Status, me.Cloud, me.Reason = account.StatusPastDue, false, "The last payment failed."
	me.CancelAtPeriodEnd = true
	me.GraceUntil = me.PeriodEnd.AddDate(0, 0, -20)
	f := &fakeAccount{me: func(context.Context, string) (*account.Me, error) { return me, nil }}
	u, _ := newAccountUI(t, f, signedIn("tok-1", nil, time.Time{}))
	s := openAccount(t, u)
	u.locked(func() {
		if !s.reason.Visible() || s.reason.Text != "The last payment failed." {
			t.Errorf("reason %q shown %v", s.reason.Text, s.reason.Visible())
		}
		if !s.grace.Visible() || !strings.Contains(s.grace.Text, "until 12 Nov") {
			t.Errorf("grace %q shown %v", s.grace.Text, s.grace.Visible())
		}
		if s.period.Text != "Ends 2 Dec" || s.plan.Text != "Maker plan · payment overdue" {
			t.Errorf("period %q, plan %q", s.period.Text, s.plan.Text)
		}
	})
}

// TestProcessCloudChoice shows the account's models on the process
// screen's cloud choice, which cannot start a job yet.
func TestProcessCloudChoice(t *testing.T) {
	notAllowed := makerMe()
	notAllowed.Cloud, notAllowed.Reason = false, "Payment failed: update your card."
	cancelled := makerMe()
	cancelled.Cloud, cancelled.Reason = false, "Your plan was cancelled and the period it paid for has ended."
	for _, c := range []struct {
		name  string
		svc   bool
		token string
		me    *account.Me
		want  string
	}{
		{"no accounts", false, "", nil, "Cloud (coming soon)"},
		{"signed out", true, "", nil, "Cloud — sign in to use (Account)"},
		{"signed in", true, "tok-1", makerMe(), "Cloud — 12 of 15 models left"},
		{"not allowed", true, "tok-1", notAllowed, "Cloud — Payment failed: update your card"},
		{"long reason", true, "tok-1", cancelled, "Cloud — Your plan was cancelled and the period …"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var svc AccountService
			if c.svc {
				svc = &fakeAccount{me: func(context.Context, string) (*account.Me, error) { return c.me, nil }}
			}
			u, _ := newAccountUI(t, svc, signedIn(c.token, nil, time.Time{}))
			p, err := u.store.Create("Knob")
			if err != nil {
				t.Fatal(err)
			}
			u.locked(func() { u.showProcess(p) })
			s := u.screen().(*processScreen)
			u.locked(func() {
				if got := s.where.Options[2]; got != c.want {
					t.Errorf("cloud choice %q, want %q", got, c.want)
				}
				s.where.SetSelected(s.where.Options[2])
				if !s.start.Disabled() || !strings.Contains(s.explain.Text, "later version") {
					t.Errorf("cloud chosen: start disabled %v, explained %q", s.start.Disabled(), s.explain.Text)
				}
			})
		})
	}
}

// TestProcessCloudChoiceUpdates updates the process screen on show when
// the account's sync answers.
func TestProcessCloudChoiceUpdates(t *testing.T) {
	f := &fakeAccount{}
	old := makerMe()
	old.Remaining = 14
	u, _ := newAccountUI(t, f, signedIn("tok-1", old, time.Now()))
	p, err := u.store.Create("Knob")
	if err != nil {
		t.Fatal(err)
	}
	// The start-up sync found 12 left; the cache says 14 again, as if it had not answered yet.
	signedIn("tok-1", old, time.Now())(u.store)
	u.locked(func() { u.showProcess(p) })
	s := u.screen().(*processScreen)
	u.locked(func() { s.where.SetSelected(s.where.Options[2]) })
	if got := s.where.Selected; got != "Cloud — 14 of 15 models left" {
		t.Fatalf("cloud choice %q before the sync", got)
	}
	u.locked(u.refreshMe)
	settle(t, u)
	u.locked(func() {
		if got := s.where.Options[2]; got != "Cloud — 12 of 15 models left" || s.where.Selected != got {
			t.Errorf("after the sync: choice %q, selected %q", got, s.where.Selected)
		}
	})
}
