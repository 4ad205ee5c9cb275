package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/replica3d/replica/account"
)

// AccountService is what the Account panel needs of the replica-account
// service: account/http's client behind a small adapter in package main, a
// fake in tests. Calls that act for a user take their API token, so one value
// serves whoever signs in. Errors are *account.Error where the service said
// why: EUNAUTHORIZED for a revoked or unknown token, EDENIED and EEXPIRED
// from WaitDevice; a plain error (not *account.Error) when the service
// cannot be reached.
type AccountService interface {
	// Plans is the price list, cheapest first; it needs no token.
	Plans(ctx context.Context) (account.Plans, error)
	// StartDevice begins an RFC 8628 device authorization for this
	// computer, named clientName ("Replica on ada-laptop") on the approval
	// page.
	StartDevice(ctx context.Context, clientName string) (*account.DeviceCode, error)
	// WaitDevice polls until the user approves dc in the browser and
	// returns the new API token; it returns when ctx is done.
	WaitDevice(ctx context.Context, dc *account.DeviceCode) (token string, err error)
	// Me is who token belongs to and what their plan allows now.
	Me(ctx context.Context, token string) (*account.Me, error)
	// Checkout and Portal return a page to open in the browser: Stripe's
	// payment page for plan, or its billing portal.
	Checkout(ctx context.Context, token, planID string) (url string, err error)
	Portal(ctx context.Context, token string) (url string, err error)
	// SignOut revokes token.
	SignOut(ctx context.Context, token string) error
}

// WithAccount connects the Account panel to the account service. Without
// it the panel says accounts are not available in this build.
func WithAccount(svc AccountService) Option {
	return func(u *ui) { u.account = svc }
}

// Where the account is kept, in the project store's settings.
const (
	settingAccountToken  = "account.token"  // the API token of the device flow
	settingAccountMe     = "account.me"     // the last answer of Me, as JSON
	settingAccountSynced = "account.synced" // when it came, RFC 3339
)

// accountTimeout bounds each call to the account service but the wait for
// the browser's approval: one that takes longer is taken as offline.
const accountTimeout = 30 * time.Second

// accountToken is the signed-in user's API token, "" when signed out.
func (u *ui) accountToken() string { return u.store.Setting(settingAccountToken) }

// cachedMe is the last answer of Me and when it came; nil when none.
func (u *ui) cachedMe() (*account.Me, time.Time) {
	b := u.store.Setting(settingAccountMe)
	if b == "" {
		return nil, time.Time{}
	}
	var me account.Me
	if err := json.Unmarshal([]byte(b), &me); err != nil {
		return nil, time.Time{}
	}
	at, _ := time.Parse(time.RFC3339, u.store.Setting(settingAccountSynced))
	return &me, at
}

// rememberMe caches me, fetched at at.
func (u *ui) rememberMe(me *account.Me, at time.Time) {
	b, err := json.Marshal(me)
	if err != nil {
		return
	}
	u.store.SetSetting(settingAccountMe, string(b))
	u.store.SetSetting(settingAccountSynced, at.UTC().Format(time.RFC3339))
}

// forgetAccount signs out on this computer: the token and the cache go.
func (u *ui) forgetAccount() {
	for _, k := range []string{settingAccountToken, settingAccountMe, settingAccountSynced} {
		u.store.SetSetting(k, "")
	}
}

// accountLabel is the home screen's Account button: the signed-in email,
// or "Sign in".
func (u *ui) accountLabel() string {
	if u.account == nil {
		return "Account"
	}
	if u.accountToken() == "" {
		return "Sign in"
	}
	if me, _ := u.cachedMe(); me != nil && me.Email != "" {
		return me.Email
	}
	return "Account"
}

// maxChoiceReason is the most characters of the reason the cloud choice
// shows: about the width of the process screen's form at its default size.
const maxChoiceReason = 40

// cloudChoice is the process screen's cloud option, with what the account
// allows: the models left, or why it cannot be used.
func (u *ui) cloudChoice() string {
	if u.account == nil {
		return "Cloud (coming soon)"
	}
	if u.accountToken() == "" {
		return "Cloud — sign in to use (Account)"
	}
	me, _ := u.cachedMe()
	switch {
	case me == nil:
		return "Cloud — open Account to check your plan"
	case me.Cloud:
		return fmt.Sprintf("Cloud — %d of %d models left", me.Remaining, me.Quota)
	case me.Reason != "":
		// The choice is one line beside the form: a long reason is cut,
		// the Account panel shows it whole.
		reason := []rune(strings.TrimSuffix(me.Reason, "."))
		if len(reason) > maxChoiceReason {
			reason = append(reason[:maxChoiceReason-1], '…')
		}
		return "Cloud — " + string(reason)
	}
	return "Cloud — choose a plan (Account)"
}

// refreshMe fetches the signed-in account in the background, caches it and
// shows it wherever it appears; a token the service refuses signs out.
func (u *ui) refreshMe() {
	token := u.accountToken()
	if u.account == nil || token == "" {
		return
	}
	svc := u.account
	u.accountCalls.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accountTimeout)
		defer cancel()
		me, err := svc.Me(ctx, token)
		if err == nil && me == nil {
			err = errors.New("the account service sent no account")
		}
		u.do(func() { u.gotMe(token, me, err) })
	})
}

// gotMe takes the answer of Me for token.
func (u *ui) gotMe(token string, me *account.Me, err error) {
	if u.accountToken() != token {
		return // signed out, or in as someone else, meanwhile
	}
	switch {
	case err == nil:
		u.rememberMe(me, time.Now())
	case account.ErrorCode(err) == account.EUNAUTHORIZED:
		u.forgetAccount()
	}
	u.accountErr = err
	u.accountChanged(err)
}

// accountChanged shows the account as now cached on the screen on show;
// err is why the last call to the service failed, if it did.
func (u *ui) accountChanged(err error) {
	switch s := u.current.(type) {
	case *home:
		if s.accountBtn != nil {
			s.accountBtn.SetText(u.accountLabel())
		}
	case *accountScreen:
		s.show(err)
	case *processScreen:
		s.showCloud()
	}
}

// showCloud updates the process screen's cloud option with the account.
func (s *processScreen) showCloud() {
	if s.where == nil || len(s.where.Options) == 0 {
		return
	}
	last := len(s.where.Options) - 1
	old, label := s.where.Options[last], s.ui.cloudChoice()
	if old == label {
		return
	}
	s.where.Options[last] = label
	if s.where.Selected == old {
		s.where.Selected = label
	}
	s.where.Refresh()
}

// openLink opens a web page in the system's browser.
func (u *ui) openLink(link string) error {
	l, err := url.Parse(link)
	if err != nil || (l.Scheme != "https" && l.Scheme != "http") {
		return fmt.Errorf("the account service sent a link that is not a web page: %q", link)
	}
	return u.app.OpenURL(l)
}

// accountMessage is what a person reads of an account service error.
func accountMessage(err error) string {
	if e, ok := errors.AsType[*account.Error](err); ok && e.Message != "" {
		return e.Message
	}
	return sentence(err.Error())
}

// clientName is what the approval page calls this computer.
func clientName() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return Product
	}
	h, _, _ = strings.Cut(h, ".")
	return Product + " on " + h
}

// accountScreen is the Account panel: signing in with a code approved in
// the browser, the plan and its cloud models, and billing. Nothing on this
// computer needs it; it works offline from the last answer it cached.
type accountScreen struct {
	ui     *ui
	scroll *container.Scroll // the panel's body, laid out again as parts show and hide
	status *widget.Label     // what just happened: offline, expired, signed out

	// Signed out.
	signedOut *fyne.Container
	signIn    *widget.Button
	plans     *fyne.Container // the price list: name, price, models
	plansNote *widget.Label

	// Signing in: the code to check in the browser.
	signingIn   *fyne.Container
	verify      *widget.Label
	code        *widget.Label
	copyCode    *widget.Button
	openBrowser *widget.Button
	cancel      *widget.Button
	waiting     *widget.ProgressBarInfinite

	// Signed in.
	signedIn                          *fyne.Container
	email, plan, quota, period        *widget.Label
	reason, grace                     *widget.Label
	quotaBar                          *widget.ProgressBar
	upgrade, manage, refresh, signOut *widget.Button

	// The sign-in running: flow counts those started, so that the late
	// answers of a cancelled one are dropped; stop cancels it, nil when
	// none runs; dc is its code once the service sent one.
	flow int
	stop context.CancelFunc
	dc   *account.DeviceCode

	priceList account.Plans
	plansErr  error

	// The open plan chooser, for tests.
	chooser *dialog.FormDialog
	choose  *widget.RadioGroup
}

// showAccount shows the Account panel and syncs it in the background.
func (u *ui) showAccount() {
	s := &accountScreen{ui: u}
	u.current = s
	u.win.SetContent(s.build())
	u.win.SetOnDropped(nil)
	u.setShortcuts(nil)
	if u.account == nil {
		return
	}
	s.loadPlans()
	if u.accountToken() != "" {
		if u.accountErr == nil {
			s.setStatus("Syncing…")
		}
		u.refreshMe()
	}
}

func (s *accountScreen) build() fyne.CanvasObject {
	back := widget.NewButtonWithIcon("Projects", theme.NavigateBackIcon(), s.onBack)
	back.Importance = widget.LowImportance
	title := widget.NewLabelWithStyle("Account", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.SizeName = theme.SizeNameSubHeadingText
	header := container.NewPadded(container.NewHBox(back, title))
	if s.ui.account == nil {
		msg := widget.NewLabel("Accounts are not available in this build. Everything on this computer works without one.")
		msg.Wrapping = fyne.TextWrapWord
		return container.NewBorder(header, nil, nil, nil, container.NewPadded(container.NewVBox(msg)))
	}
	s.status = widget.NewLabel("")
	s.status.Wrapping = fyne.TextWrapWord
	s.status.Importance = widget.WarningImportance

	intro := widget.NewLabel("Everything on this computer works without an account. An account buys cloud processing.")
	intro.Wrapping = fyne.TextWrapWord
	s.signIn = widget.NewButtonWithIcon("Sign in", theme.LoginIcon(), s.onSignIn)
	s.signIn.Importance = widget.HighImportance
	s.plans = container.NewGridWithColumns(3)
	s.plansNote = widget.NewLabel("Loading the plans…")
	s.plansNote.Importance = widget.LowImportance
	plansTitle := widget.NewLabelWithStyle("Plans", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.signedOut = container.NewVBox(intro, container.NewHBox(s.signIn), plansTitle, s.plans, s.plansNote)

	s.verify = widget.NewLabel("")
	s.verify.Wrapping = fyne.TextWrapWord
	s.code = &widget.Label{Selectable: true, TextStyle: fyne.TextStyle{Monospace: true}, SizeName: theme.SizeNameHeadingText}
	s.code.ExtendBaseWidget(s.code)
	s.copyCode = widget.NewButtonWithIcon("Copy code", theme.ContentCopyIcon(), s.onCopyCode)
	s.openBrowser = widget.NewButtonWithIcon("Open browser", theme.ComputerIcon(), s.onOpenBrowser)
	s.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), s.onCancel)
	s.waiting = widget.NewProgressBarInfinite()
	s.signingIn = container.NewVBox(s.verify, s.code, container.NewHBox(s.copyCode, s.openBrowser, s.cancel), s.waiting)

	s.email = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	s.plan = widget.NewLabel("")
	s.quota = widget.NewLabel("")
	s.quotaBar = widget.NewProgressBar()
	s.quotaBar.TextFormatter = func() string { return fmt.Sprintf("%.0f left", s.quotaBar.Value) }
	s.period = widget.NewLabel("")
	s.reason = widget.NewLabel("")
	s.reason.Wrapping = fyne.TextWrapWord
	s.reason.Importance = widget.DangerImportance
	s.grace = widget.NewLabel("")
	s.grace.Wrapping = fyne.TextWrapWord
	s.grace.Importance = widget.WarningImportance
	s.upgrade = widget.NewButtonWithIcon("Upgrade", theme.MoveUpIcon(), s.onUpgrade)
	s.upgrade.Importance = widget.HighImportance
	s.manage = widget.NewButtonWithIcon("Manage billing", theme.SettingsIcon(), s.onManage)
	s.refresh = widget.NewButtonWithIcon("Refresh", theme.ViewRefreshIcon(), s.onRefresh)
	s.signOut = widget.NewButtonWithIcon("Sign out", theme.LogoutIcon(), s.onSignOut)
	s.signedIn = container.NewVBox(s.email, s.plan, s.quota, s.quotaBar, s.period, s.reason, s.grace,
		container.NewHBox(s.upgrade, s.manage, s.refresh, s.signOut))

	s.setStatus("")
	s.show(s.ui.accountErr)
	s.scroll = container.NewVScroll(container.NewVBox(s.status, s.signedOut, s.signingIn, s.signedIn))
	return container.NewBorder(header, nil, nil, nil, container.NewPadded(s.scroll))
}

// relayout fits the panel to the parts shown and their new text.
func (s *accountScreen) relayout() {
	if s.scroll != nil {
		s.scroll.Refresh()
	}
}

// setStatus shows what just happened, or nothing.
func (s *accountScreen) setStatus(text string) {
	s.status.SetText(text)
	setVisible(s.status, text != "")
	s.relayout()
}

func setVisible(o fyne.CanvasObject, visible bool) {
	if visible {
		o.Show()
	} else {
		o.Hide()
	}
}

// show shows the part of the panel that fits: signing in, signed out, or
// the cached account; err is why the last call to the service failed.
func (s *accountScreen) show(err error) {
	if s.signedIn == nil {
		return // accounts are not available
	}
	token := s.ui.accountToken()
	signingIn := s.stop != nil
	setVisible(s.signingIn, signingIn)
	setVisible(s.signedOut, !signingIn && token == "")
	setVisible(s.signedIn, !signingIn && token != "")
	switch {
	case signingIn:
	case account.ErrorCode(err) == account.EUNAUTHORIZED:
		s.setStatus("Your sign-in has expired or was revoked. Sign in again to use cloud processing.")
	case token != "":
		s.showMe(err)
	}
	s.relayout()
}

// showMe shows the cached account, and that it is out of date when err
// says the service could not be reached.
func (s *accountScreen) showMe(err error) {
	me, synced := s.ui.cachedMe()
	switch {
	case err != nil && synced.IsZero():
		s.setStatus("Not synced yet (offline): " + accountMessage(err))
	case err != nil:
		s.setStatus(fmt.Sprintf("Last synced %s (offline): %s", ago(time.Since(synced)), accountMessage(err)))
	default:
		s.setStatus("")
	}
	if me == nil {
		s.email.SetText("Signed in")
		s.plan.SetText("Your plan shows here once the account service answers.")
		for _, o := range []fyne.CanvasObject{s.quota, s.quotaBar, s.period, s.reason, s.grace} {
			o.Hide()
		}
		return
	}
	s.email.SetText(me.Email)
	s.plan.SetText(planText(me))
	s.quota.Show()
	if me.Quota > 0 {
		s.quota.SetText(fmt.Sprintf("%d of %d cloud models left this month", me.Remaining, me.Quota))
		s.quotaBar.Max = float64(me.Quota)
		s.quotaBar.SetValue(float64(max(0, me.Remaining)))
		s.quotaBar.Show()
	} else {
		s.quota.SetText("No cloud models this month: choose a plan with Upgrade.")
		s.quotaBar.Hide()
	}
	switch {
	case me.PeriodEnd.IsZero():
		s.period.Hide()
	case me.CancelAtPeriodEnd:
		s.period.SetText("Ends " + dayMonth(me.PeriodEnd))
		s.period.Show()
	default:
		s.period.SetText("Renews " + dayMonth(me.PeriodEnd))
		s.period.Show()
	}
	s.reason.SetText(me.Reason)
	setVisible(s.reason, !me.Cloud && me.Reason != "")
	if me.Status == account.StatusPastDue && !me.GraceUntil.IsZero() {
		s.grace.SetText("The last payment failed: cloud processing goes on until " + dayMonth(me.GraceUntil) +
			" while it is retried. Update the card under Manage billing.")
		s.grace.Show()
	} else {
		s.grace.Hide()
	}
}

// planText is the plan's name and its subscription's state.
func planText(me *account.Me) string {
	if me.Plan == "" && me.Status == account.StatusNone {
		return "No plan"
	}
	name := me.PlanName
	if name == "" {
		name = me.Plan
	}
	state := map[account.Status]string{
		account.StatusActive:            "active",
		account.StatusTrialing:          "trial",
		account.StatusPastDue:           "payment overdue",
		account.StatusCanceled:          "cancelled",
		account.StatusUnpaid:            "unpaid",
		account.StatusIncomplete:        "awaiting payment",
		account.StatusIncompleteExpired: "payment not completed",
		account.StatusPaused:            "paused",
	}[me.Status]
	if state == "" {
		state = string(me.Status)
	}
	if state == "" {
		return name + " plan"
	}
	return name + " plan · " + state
}

// dayMonth is a date as "2 Jan", with the year when it is not this one.
func dayMonth(t time.Time) string {
	t = t.Local()
	if t.Year() != time.Now().Year() {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan")
}

// loadPlans fetches the price list in the background.
func (s *accountScreen) loadPlans() {
	svc := s.ui.account
	s.ui.accountCalls.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accountTimeout)
		defer cancel()
		ps, err := svc.Plans(ctx)
		s.ui.do(func() { s.gotPlans(ps, err) })
	})
}

func (s *accountScreen) gotPlans(ps account.Plans, err error) {
	defer s.relayout()
	s.priceList, s.plansErr = ps, err
	s.plans.RemoveAll()
	if err != nil || len(ps) == 0 {
		s.plansNote.SetText("The plans show here when the account service can be reached.")
		s.plansNote.Show()
		return
	}
	s.plansNote.Hide()
	for _, p := range ps {
		s.plans.Add(widget.NewLabelWithStyle(p.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		s.plans.Add(widget.NewLabel(p.Price() + "/month"))
		s.plans.Add(widget.NewLabel(fmt.Sprintf("%d cloud models/month", p.Quota)))
	}
}

// onSignIn starts the device flow: a code from the service, shown here and
// approved in the browser, then the token.
func (s *accountScreen) onSignIn() {
	ctx, cancel := context.WithCancel(context.Background())
	s.flow++
	flow := s.flow
	s.stop, s.dc = cancel, nil
	s.setStatus("")
	s.verify.SetText("Asking the account service for a code…")
	s.code.SetText("")
	s.copyCode.Disable()
	s.openBrowser.Disable()
	s.waiting.Start()
	s.show(nil)
	svc, name := s.ui.account, clientName()
	s.ui.accountCalls.Go(func() {
		defer cancel()
		sctx, scancel := context.WithTimeout(ctx, accountTimeout)
		dc, err := svc.StartDevice(sctx, name)
		scancel()
		if err == nil && dc == nil {
			err = errors.New("the account service sent no code")
		}
		if err != nil {
			s.ui.do(func() { s.signedInOrNot(flow, "", err) })
			return
		}
		s.ui.do(func() { s.gotCode(flow, dc) })
		wctx := ctx
		if dc.ExpiresIn > 0 {
			// The service says when the code expires; past that (and a
			// call's grace) stop waiting even if it does not answer.
			var wcancel context.CancelFunc
			wctx, wcancel = context.WithTimeout(ctx, time.Duration(dc.ExpiresIn)*time.Second+accountTimeout)
			defer wcancel()
		}
		token, err := svc.WaitDevice(wctx, dc)
		if err == nil && token == "" {
			err = errors.New("the account service sent no token")
		}
		s.ui.do(func() { s.signedInOrNot(flow, token, err) })
	})
}

// gotCode shows the code to check in the browser, and opens it once.
func (s *accountScreen) gotCode(flow int, dc *account.DeviceCode) {
	if flow != s.flow {
		return
	}
	s.dc = dc
	s.code.SetText(dc.UserCode)
	where := dc.VerificationURI
	if where == "" {
		where = dc.VerificationURIComplete
	}
	msg := fmt.Sprintf("Approve this computer in your browser at %s: check that the page shows this code.", where)
	if dc.ExpiresIn > 0 {
		msg += fmt.Sprintf(" The code works for %d minutes.", (dc.ExpiresIn+59)/60)
	}
	s.verify.SetText(msg)
	s.copyCode.Enable()
	s.openBrowser.Enable()
	s.relayout()
	_ = s.ui.openLink(s.link()) // the code and Open browser remain when no browser opens
}

// link is the approval page, with the code filled in when the service
// offers that.
func (s *accountScreen) link() string {
	if s.dc == nil {
		return ""
	}
	if s.dc.VerificationURIComplete != "" {
		return s.dc.VerificationURIComplete
	}
	return s.dc.VerificationURI
}

// signedInOrNot ends the sign-in: the token kept, or why not.
func (s *accountScreen) signedInOrNot(flow int, token string, err error) {
	if flow != s.flow {
		return
	}
	s.stop, s.dc = nil, nil
	s.waiting.Stop()
	if err == nil {
		err = s.ui.store.SetSetting(settingAccountToken, token)
	}
	if err == nil {
		s.ui.accountErr = nil
		s.signIn.SetText("Sign in")
		s.show(nil)
		s.setStatus("Signed in. Loading your account…")
		s.ui.refreshMe()
		return
	}
	s.signIn.SetText("Start again")
	switch code := account.ErrorCode(err); {
	case errors.Is(err, context.Canceled):
		s.signIn.SetText("Sign in")
		s.setStatus("Sign-in cancelled.")
	case code == account.EDENIED:
		s.setStatus("The sign-in was refused in the browser. Start again to try once more.")
	case code == account.EEXPIRED || errors.Is(err, context.DeadlineExceeded):
		s.setStatus("The code expired before it was approved. Start again for a new one.")
	default:
		s.setStatus("Cannot sign in: " + accountMessage(err))
	}
	s.show(nil)
}

func (s *accountScreen) onCopyCode() {
	if s.dc != nil {
		s.ui.app.Clipboard().SetContent(s.dc.UserCode)
	}
}

func (s *accountScreen) onOpenBrowser() {
	if err := s.ui.openLink(s.link()); err != nil {
		s.ui.showError("Cannot open the browser", err)
	}
}

// onCancel stops the sign-in.
func (s *accountScreen) onCancel() {
	if s.stop == nil {
		return
	}
	s.stop()
	s.flow++
	s.stop, s.dc = nil, nil
	s.waiting.Stop()
	s.signIn.SetText("Sign in")
	s.setStatus("Sign-in cancelled.")
	s.show(nil)
}

func (s *accountScreen) onBack() {
	if s.stop != nil {
		s.onCancel()
	}
	s.ui.showHome()
}

func (s *accountScreen) onRefresh() {
	s.setStatus("Syncing…")
	s.ui.refreshMe()
}

// onSignOut forgets the account on this computer at once, then asks the
// service to revoke the token.
func (s *accountScreen) onSignOut() {
	token := s.ui.accountToken()
	s.ui.forgetAccount()
	s.ui.accountErr = nil
	s.show(nil)
	s.setStatus("Signing out…")
	svc := s.ui.account
	s.ui.accountCalls.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accountTimeout)
		defer cancel()
		err := svc.SignOut(ctx, token)
		s.ui.do(func() {
			if s.ui.accountToken() != "" || s.stop != nil {
				return // signing in again meanwhile
			}
			if err != nil && account.ErrorCode(err) != account.EUNAUTHORIZED {
				s.setStatus("Signed out on this computer. The account service could not be reached (" + accountMessage(err) +
					"), so this computer stays listed on your account's web page until you remove it there.")
				return
			}
			s.setStatus("Signed out.")
		})
	})
}

// onUpgrade asks which plan to buy, then opens its payment page.
func (s *accountScreen) onUpgrade() {
	if len(s.priceList) == 0 {
		err := errors.New("the account service did not send them; try again when online")
		if s.plansErr != nil {
			err = errors.New(accountMessage(s.plansErr))
		}
		s.ui.showError("Cannot show the plans", err)
		s.loadPlans()
		return
	}
	me, _ := s.ui.cachedMe()
	var options []string
	ids := map[string]string{}
	for _, p := range s.priceList {
		o := fmt.Sprintf("%s — %s/month, %d cloud models/month", p.Name, p.Price(), p.Quota)
		if me != nil && me.Plan == p.ID {
			o += " (yours)"
		}
		options = append(options, o)
		ids[o] = p.ID
	}
	s.choose = widget.NewRadioGroup(options, nil)
	s.choose.Required = true
	for _, o := range options {
		if me == nil || ids[o] != me.Plan {
			s.choose.SetSelected(o)
			break
		}
	}
	s.chooser = dialog.NewForm("Choose a plan", "Continue to payment", "Cancel",
		[]*widget.FormItem{widget.NewFormItem("Plan", s.choose)}, func(ok bool) {
			plan := ids[s.choose.Selected]
			if ok && plan != "" {
				s.openBilling(s.upgrade, "Cannot open the payment page", func(ctx context.Context, svc AccountService, token string) (string, error) {
					return svc.Checkout(ctx, token, plan)
				})
			}
		}, s.ui.win)
	s.chooser.Show()
}

// onManage opens the billing portal: card, invoices, cancelling.
func (s *accountScreen) onManage() {
	s.openBilling(s.manage, "Cannot open billing", func(ctx context.Context, svc AccountService, token string) (string, error) {
		return svc.Portal(ctx, token)
	})
}

// openBilling asks the service for a billing page in the background and
// opens it in the browser; btn is off meanwhile.
func (s *accountScreen) openBilling(btn *widget.Button, what string, page func(context.Context, AccountService, string) (string, error)) {
	token, svc := s.ui.accountToken(), s.ui.account
	btn.Disable()
	s.ui.accountCalls.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), accountTimeout)
		defer cancel()
		link, err := page(ctx, svc, token)
		s.ui.do(func() {
			btn.Enable()
			if err == nil {
				err = s.ui.openLink(link)
			}
			switch {
			case err == nil:
				s.setStatus("Continue in your browser, then press Refresh to see the change here.")
			case account.ErrorCode(err) == account.EUNAUTHORIZED && s.ui.accountToken() == token:
				s.ui.forgetAccount()
				s.ui.accountErr = err
				s.show(err)
			default:
				s.ui.showError(what, errors.New(accountMessage(err)))
			}
		})
	})
}
