package account

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Plan is a monthly subscription tier. Prices and quotas are configuration
// (a JSON file given to the service), not code: DefaultPlans is only what a
// fresh install starts from.
type Plan struct {
	ID       string `json:"id"`       // "maker": stable, stored with subscriptions
	Name     string `json:"name"`     // "Maker"
	PriceID  string `json:"price"`    // the Stripe price (recurring, monthly) that buys it
	Amount   int64  `json:"amount"`   // in the currency's minor unit: 2900 is £29.00
	Currency string `json:"currency"` // ISO 4217, lower case: "gbp"
	Quota    int    `json:"quota"`    // cloud models per billing period
}

// Price formats the plan's monthly price for people: "£29".
func (p Plan) Price() string {
	sym := map[string]string{"gbp": "£", "usd": "$", "eur": "€"}[p.Currency]
	whole, minor := p.Amount/100, p.Amount%100
	s := fmt.Sprintf("%d", whole)
	if minor != 0 {
		s = fmt.Sprintf("%d.%02d", whole, minor)
	}
	if sym == "" {
		return s + " " + strings.ToUpper(p.Currency)
	}
	return sym + s
}

// Plans is the price list, cheapest first.
type Plans []Plan

// DefaultPlans is the launch price list. The Stripe price ids are
// placeholders a deployment replaces through its plans file.
func DefaultPlans() Plans {
	return Plans{
		{ID: "maker", Name: "Maker", PriceID: "price_maker_monthly", Amount: 2900, Currency: "gbp", Quota: 15},
		{ID: "pro", Name: "Pro", PriceID: "price_pro_monthly", Amount: 9900, Currency: "gbp", Quota: 60},
		{ID: "studio", Name: "Studio", PriceID: "price_studio_monthly", Amount: 39900, Currency: "gbp", Quota: 700},
	}
}

// ByID returns the plan with the id.
func (ps Plans) ByID(id string) (Plan, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return Plan{}, false
}

// ByPrice returns the plan that the Stripe price buys.
func (ps Plans) ByPrice(priceID string) (Plan, bool) {
	for _, p := range ps {
		if p.PriceID == priceID {
			return p, true
		}
	}
	return Plan{}, false
}

var planID = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// Validate checks that the list can be sold: ids unique and well formed,
// prices unique, quotas and amounts positive.
func (ps Plans) Validate() error {
	if len(ps) == 0 {
		return Errorf(EINVALID, "no plans")
	}
	ids, prices := map[string]bool{}, map[string]bool{}
	for i, p := range ps {
		switch {
		case !planID.MatchString(p.ID):
			return Errorf(EINVALID, "plan %d: id %q must be 1–32 lower-case letters, digits, _ or -", i+1, p.ID)
		case ids[p.ID]:
			return Errorf(EINVALID, "plan %q listed twice", p.ID)
		case p.Name == "":
			return Errorf(EINVALID, "plan %q has no name", p.ID)
		case p.PriceID == "":
			return Errorf(EINVALID, "plan %q has no Stripe price", p.ID)
		case prices[p.PriceID]:
			return Errorf(EINVALID, "price %q sells two plans", p.PriceID)
		case p.Amount <= 0 || p.Quota <= 0:
			return Errorf(EINVALID, "plan %q: amount and quota must be positive", p.ID)
		case len(p.Currency) != 3:
			return Errorf(EINVALID, "plan %q: currency %q is not an ISO 4217 code", p.ID, p.Currency)
		}
		ids[p.ID], prices[p.PriceID] = true, true
	}
	return nil
}

// ReadPlans reads a plans file: a JSON array of Plan. At most 64 KiB is read.
func ReadPlans(r io.Reader) (Plans, error) {
	dec := json.NewDecoder(io.LimitReader(r, 64<<10))
	dec.DisallowUnknownFields()
	var ps Plans
	if err := dec.Decode(&ps); err != nil {
		return nil, Errorf(EINVALID, "plans file: %v", err)
	}
	for i := range ps {
		ps[i].Currency = strings.ToLower(ps[i].Currency)
	}
	return ps, ps.Validate()
}
