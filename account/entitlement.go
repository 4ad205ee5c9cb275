package account

import "time"

// DefaultGrace is how long a past_due subscription keeps cloud processing
// after its new period began (the renewal invoice failed): Stripe retries the
// card meanwhile (Smart Retries), and most such payments recover.
const DefaultGrace = 72 * time.Hour

// Entitlement is what a subscription allows now. Local processing needs none:
// it is always allowed, signed in or not, online or not.
type Entitlement struct {
	Plan       Plan
	Status     Status
	Cloud      bool      // may reserve cloud models now
	GraceUntil time.Time // past_due: cloud stays allowed until then
	Reason     string    // when !Cloud, what the user reads and can do
}

// Entitle maps a subscription (nil: none) to what it allows at now.
// active and trialing allow cloud processing; past_due allows it for grace
// after the period the failed invoice opened began (derived from the
// subscription object alone, so it does not depend on which webhook came
// first); canceled, unpaid, incomplete, incomplete_expired and paused do not.
// A subscription to a price not in plans allows nothing.
func Entitle(s *Subscription, plans Plans, now time.Time, grace time.Duration) Entitlement {
	if s == nil || s.Status == StatusNone {
		return Entitlement{Reason: "No plan: choose one to process in the cloud. Processing on this computer needs none."}
	}
	e := Entitlement{Status: s.Status}
	plan, ok := plans.ByPrice(s.PriceID)
	if !ok {
		plan, ok = plans.ByID(s.PlanID)
	}
	if !ok {
		e.Reason = "Your subscription is to a plan we no longer sell: choose a plan on the account page."
		return e
	}
	e.Plan = plan
	switch s.Status {
	case StatusActive, StatusTrialing:
		e.Cloud = true
	case StatusPastDue:
		e.GraceUntil = s.PeriodStart.Add(grace)
		if now.Before(e.GraceUntil) {
			e.Cloud = true
		} else {
			e.Reason = "Your last payment failed: update your card under Manage billing to process in the cloud again."
		}
	case StatusUnpaid:
		e.Reason = "Your subscription is unpaid: update your card under Manage billing to process in the cloud again."
	case StatusCanceled, StatusIncompleteExpired:
		e.Reason = "Your subscription has ended: choose a plan to process in the cloud again."
	case StatusIncomplete:
		e.Reason = "Your first payment has not gone through yet: finish it in Checkout."
	case StatusPaused:
		e.Reason = "Your subscription is paused: resume it under Manage billing."
	default:
		e.Reason = "Your subscription is in a state we do not know (" + string(s.Status) + "): contact support."
	}
	return e
}
