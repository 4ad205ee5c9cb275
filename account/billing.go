package account

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"time"
)

func (s *Service) billing() (Billing, error) {
	if s.Billing == nil {
		return nil, Errorf(EUNAVAILABLE, "Billing is not set up on this server.")
	}
	return s.Billing, nil
}

// customer returns the user's Stripe customer, making it on first use.
func (s *Service) customer(ctx context.Context, u *User) (string, error) {
	if u.CustomerID != "" {
		return u.CustomerID, nil
	}
	b, err := s.billing()
	if err != nil {
		return "", err
	}
	id, err := b.CreateCustomer(ctx, u)
	if err != nil {
		return "", err
	}
	if err := s.Store.SetCustomer(ctx, u.ID, id); err != nil {
		return "", err
	}
	u.CustomerID = id
	return id, nil
}

// Checkout returns the Stripe Checkout URL that subscribes the user to plan.
// A user who already pays for a plan is sent to the Portal instead, where
// Stripe prorates an upgrade or downgrade; a second subscription would bill
// them twice.
func (s *Service) Checkout(ctx context.Context, userID, planID, successURL, cancelURL string) (string, error) {
	plan, ok := s.Plans.ByID(planID)
	if !ok {
		return "", Errorf(EINVALID, "There is no plan %q: choose one on the pricing page.", planID)
	}
	b, u, cust, err := s.billingCustomer(ctx, userID)
	if err != nil {
		return "", err
	}
	sub, err := s.subscription(ctx, userID)
	switch {
	case err != nil:
		return "", err
	case sub == nil || !live(sub.Status):
		return b.CheckoutURL(ctx, cust, u.ID, plan, successURL, cancelURL)
	case sub.PriceID != plan.PriceID && sub.ItemID != "" && (sub.Status == StatusActive || sub.Status == StatusTrialing):
		return b.SwitchPlanURL(ctx, cust, sub, plan, successURL)
	}
	return b.PortalURL(ctx, cust, successURL)
}

// live reports whether a subscription in this state is still billed, so a
// new Checkout would double it.
func live(st Status) bool {
	switch st {
	case StatusActive, StatusTrialing, StatusPastDue, StatusUnpaid, StatusPaused:
		return true
	}
	return false
}

// Portal returns the Stripe Customer Portal URL for the user.
func (s *Service) Portal(ctx context.Context, userID, returnURL string) (string, error) {
	b, _, cust, err := s.billingCustomer(ctx, userID)
	if err != nil {
		return "", err
	}
	return b.PortalURL(ctx, cust, returnURL)
}

// billingCustomer returns the billing adapter, the user and their Stripe
// customer, made on first use.
func (s *Service) billingCustomer(ctx context.Context, userID string) (Billing, *User, string, error) {
	b, err := s.billing()
	if err != nil {
		return nil, nil, "", err
	}
	u, err := s.Store.User(ctx, userID)
	if err != nil {
		return nil, nil, "", err
	}
	cust, err := s.customer(ctx, u)
	if err != nil {
		return nil, nil, "", err
	}
	return b, u, cust, nil
}

// HandleWebhook verifies and applies one Stripe webhook delivery. An event
// seen before is ignored (Stripe retries, and may deliver twice). The event
// only says which subscription changed: its state is read from Stripe and
// replaces the stored one whole, so deliveries out of order converge on
// Stripe's state. The event id is recorded only after it was applied, so a
// failure (Stripe unreachable) answers an error and Stripe's retry applies it.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, header string) error {
	b, err := s.billing()
	if err != nil {
		return err
	}
	ev, err := b.ParseWebhook(payload, header)
	if err != nil {
		return err
	}
	seen, err := s.Store.EventSeen(ctx, ev.ID)
	if err != nil {
		return err
	}
	if seen {
		s.log().Info("webhook duplicate ignored", "event", ev.ID, "type", ev.Type)
		return nil
	}
	if err := s.applyEvent(ctx, ev); err != nil {
		s.log().Warn("webhook not applied", "event", ev.ID, "type", ev.Type, "err", err)
		return err
	}
	if _, err := s.Store.RecordEvent(ctx, ev.ID, s.now().UTC()); err != nil {
		return err
	}
	return nil
}

func (s *Service) applyEvent(ctx context.Context, ev *Event) error {
	switch ev.Type {
	case "checkout.session.completed":
		// Link the customer to the user first, in case the customer was
		// not made by us (CreateCustomer stores the link already).
		if ev.ClientReferenceID != "" && ev.CustomerID != "" {
			u, err := s.Store.User(ctx, ev.ClientReferenceID)
			if err == nil && u.CustomerID == "" {
				if err := s.Store.SetCustomer(ctx, u.ID, ev.CustomerID); err != nil {
					return err
				}
			} else if err != nil && ErrorCode(err) != ENOTFOUND {
				return err
			}
		}
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed",
		"invoice.paid", "invoice.payment_succeeded", "invoice.payment_failed":
	default:
		s.log().Info("webhook ignored", "event", ev.ID, "type", ev.Type)
		return nil
	}
	if ev.SubscriptionID == "" {
		return nil // a one-off invoice, a payment-mode checkout: no subscription to sync
	}
	_, err := s.SyncSubscription(ctx, ev.SubscriptionID)
	return err
}

// SyncSubscription reads the subscription from Stripe, stores it for its
// user and grants the period's quota when it allows cloud processing.
// Syncs of one subscription take turns (a striped lock), so a slow read of
// an older state can never be written over a newer one.
func (s *Service) SyncSubscription(ctx context.Context, id string) (*Subscription, error) {
	b, err := s.billing()
	if err != nil {
		return nil, err
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	lock := &s.syncLocks[h.Sum32()%uint32(len(s.syncLocks))]
	lock.Lock()
	defer lock.Unlock()
	sub, err := b.Subscription(ctx, id)
	if err != nil {
		return nil, err
	}
	u, err := s.Store.UserByCustomer(ctx, sub.CustomerID)
	if ErrorCode(err) == ENOTFOUND {
		// A customer we never made (created in the dashboard): nothing to
		// attach it to. Logged, acknowledged, not retried forever.
		s.log().Warn("subscription of an unknown customer", "subscription", sub.ID, "customer", sub.CustomerID)
		return sub, nil
	} else if err != nil {
		return nil, err
	}
	sub.UserID = u.ID
	if p, ok := s.Plans.ByPrice(sub.PriceID); ok {
		sub.PlanID = p.ID
	}
	if sub.Synced.IsZero() {
		sub.Synced = s.now().UTC()
	}
	prev, err := s.subscription(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if prev != nil && prev.ID == sub.ID {
		sub.GrantedFor, sub.GrantedPlan, sub.GrantedPaid = prev.GrantedFor, prev.GrantedPlan, prev.GrantedPaid
	}
	e := Entitle(sub, s.Plans, s.now(), s.grace())
	if e.Cloud && !sub.PeriodStart.IsZero() && sub.PeriodEnd.After(sub.PeriodStart) {
		if err := s.grant(ctx, u.ID, sub, e.Plan); err != nil {
			return nil, err
		}
	}
	if err := s.Store.PutSubscription(ctx, sub); err != nil {
		return nil, err
	}
	s.log().Info("subscription synced", "user", u.ID, "subscription", sub.ID, "status", sub.Status, "plan", sub.PlanID,
		"paid", sub.LatestInvoicePaid)
	return sub, nil
}

// Provisional is the part of a plan's quota a period holds while its
// invoice is unpaid (a renewal being charged, past_due in grace): a tenth,
// at least one model. The rest comes when the invoice is paid, so a card
// that fails never bought a whole period of cloud GPUs.
func Provisional(quota int) int { return max(1, (quota+9)/10) }

// grant brings the ledger's quota for sub's current period to what plan
// and payment allow, and records on sub what it granted:
//   - a period new to the ledger gets the plan's quota, or Provisional of
//     it while the latest invoice is unpaid;
//   - a provisional period whose invoice is now paid gets the rest;
//   - a plan change within the period adds (or takes back) the quotas'
//     difference pro rata of the period left, as Stripe prorates the
//     price — an upgrade on the last day buys a day's worth of models —
//     and never takes back models already used or reserved;
//   - anything else (a webhook retried, another event) changes nothing.
func (s *Service) grant(ctx context.Context, userID string, sub *Subscription, plan Plan) error {
	paid := sub.LatestInvoicePaid || sub.Status == StatusTrialing
	now := s.now().UTC()
	note := plan.Name + " plan"
	if !sub.GrantedFor.Equal(sub.PeriodStart) {
		q := plan.Quota
		if !paid {
			q, note = Provisional(plan.Quota), plan.Name+" plan, provisional until the invoice is paid"
		}
		if err := s.Store.Grant(ctx, userID, sub.PeriodStart, sub.PeriodEnd, q, now, note); err != nil {
			return err
		}
		sub.GrantedFor, sub.GrantedPlan, sub.GrantedPaid = sub.PeriodStart, plan.ID, paid
		return nil
	}
	p, err := s.Store.Period(ctx, userID, sub.PeriodStart)
	if err != nil {
		return err
	}
	q := p.Granted
	if sub.GrantedPlan != plan.ID {
		old, _ := s.Plans.ByID(sub.GrantedPlan)
		oldQuota := old.Quota
		if !sub.GrantedPaid {
			oldQuota = Provisional(old.Quota)
		}
		newQuota := plan.Quota
		if !paid {
			newQuota = Provisional(plan.Quota)
		}
		left := float64(sub.PeriodEnd.Sub(now)) / float64(sub.PeriodEnd.Sub(sub.PeriodStart))
		left = min(1, max(0, left))
		if d := newQuota - oldQuota; d > 0 {
			q += int(math.Ceil(float64(d) * left))
		} else {
			q -= int(math.Floor(float64(-d) * left))
		}
		note = fmt.Sprintf("changed from %s to %s with %.0f %% of the period left", old.Name, plan.Name, 100*left)
		sub.GrantedPlan, sub.GrantedPaid = plan.ID, paid
	} else if !sub.GrantedPaid && paid {
		q += plan.Quota - Provisional(plan.Quota)
		note = plan.Name + " plan, invoice paid"
		sub.GrantedPaid = true
	}
	q = max(q, p.Used+p.Reserved)
	if q == p.Granted {
		return nil
	}
	return s.Store.Grant(ctx, userID, sub.PeriodStart, sub.PeriodEnd, q, now, note)
}

// subscription returns the user's subscription, nil when none.
func (s *Service) subscription(ctx context.Context, userID string) (*Subscription, error) {
	sub, err := s.Store.Subscription(ctx, userID)
	if ErrorCode(err) == ENOTFOUND {
		return nil, nil
	}
	return sub, err
}

// Me is what GET /v1/me answers for a user.
func (s *Service) Me(ctx context.Context, u *User) (*Me, error) {
	now := s.now()
	sub, err := s.subscription(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	e := Entitle(sub, s.Plans, now, s.grace())
	me := &Me{Email: u.Email, Plan: e.Plan.ID, PlanName: e.Plan.Name, Status: e.Status, Cloud: e.Cloud,
		Reason: e.Reason, GraceUntil: e.GraceUntil.UTC(), ServerTime: now.UTC()}
	if sub != nil {
		me.CancelAtPeriodEnd = sub.CancelAtPeriodEnd
		me.PeriodEnd = sub.PeriodEnd.UTC()
	}
	if !e.GraceUntil.IsZero() && !e.Cloud {
		me.GraceUntil = time.Time{}
	}
	p, err := s.Store.Period(ctx, u.ID, now)
	switch {
	case err == nil:
		me.Quota, me.Used, me.Reserved, me.Remaining = p.Granted, p.Used, p.Reserved, max(0, p.Remaining())
		me.PeriodEnd = p.End.UTC()
	case ErrorCode(err) != ENOTFOUND:
		return nil, err
	}
	if sub != nil && !sub.CancelAt.IsZero() && (me.PeriodEnd.IsZero() || !sub.CancelAt.After(me.PeriodEnd)) {
		// Stripe ends the subscription at cancel_at: that is when the
		// models end too.
		me.PeriodEnd, me.CancelAtPeriodEnd = sub.CancelAt.UTC(), true
	}
	if !e.Cloud {
		me.Remaining = 0
	}
	return me, nil
}
