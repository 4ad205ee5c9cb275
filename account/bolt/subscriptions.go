package bolt

import (
	"bytes"
	"context"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
)

// subscriptionRecord is a stored account.Subscription.
type subscriptionRecord struct {
	ID                string         `json:"id"`
	CustomerID        string         `json:"customer"`
	UserID            string         `json:"user"`
	PriceID           string         `json:"price"`
	PlanID            string         `json:"plan"`
	Status            account.Status `json:"status"`
	PeriodStart       time.Time      `json:"period_start"`
	PeriodEnd         time.Time      `json:"period_end"`
	CancelAtPeriodEnd bool           `json:"cancel_at_period_end"`
	CancelAt          time.Time      `json:"cancel_at,omitzero"`
	ItemID            string         `json:"item,omitempty"`
	Created           time.Time      `json:"created"`
	Synced            time.Time      `json:"synced"`
	LatestInvoicePaid bool           `json:"latest_invoice_paid,omitempty"`
	GrantedFor        time.Time      `json:"granted_for,omitzero"`
	GrantedPlan       string         `json:"granted_plan,omitempty"`
	GrantedPaid       bool           `json:"granted_paid,omitempty"`
}

func (r *subscriptionRecord) subscription() *account.Subscription {
	return &account.Subscription{
		ID: r.ID, CustomerID: r.CustomerID, UserID: r.UserID, PriceID: r.PriceID, PlanID: r.PlanID,
		Status: r.Status, PeriodStart: r.PeriodStart, PeriodEnd: r.PeriodEnd,
		CancelAtPeriodEnd: r.CancelAtPeriodEnd, CancelAt: r.CancelAt, ItemID: r.ItemID, Created: r.Created, Synced: r.Synced,
		LatestInvoicePaid: r.LatestInvoicePaid, GrantedFor: r.GrantedFor, GrantedPlan: r.GrantedPlan, GrantedPaid: r.GrantedPaid,
	}
}

// byUserKey is the subscription's key in subscriptions_by_user: the user's
// subscriptions sort oldest first by Created.
func (r *subscriptionRecord) byUserKey() []byte {
	return userKey(r.UserID, timeKey(r.Created), []byte(r.ID))
}

// PutSubscription stores the subscription, replacing whole any earlier copy
// with its id. Its user must exist (ENOTFOUND).
func (s *Store) PutSubscription(ctx context.Context, sub *account.Subscription) error {
	if err := checkID("subscription", sub.ID); err != nil {
		return err
	}
	r := &subscriptionRecord{
		ID: sub.ID, CustomerID: sub.CustomerID, UserID: sub.UserID, PriceID: sub.PriceID, PlanID: sub.PlanID,
		Status: sub.Status, PeriodStart: utc(sub.PeriodStart), PeriodEnd: utc(sub.PeriodEnd),
		CancelAtPeriodEnd: sub.CancelAtPeriodEnd, CancelAt: utc(sub.CancelAt), ItemID: sub.ItemID, Created: utc(sub.Created), Synced: utc(sub.Synced),
		LatestInvoicePaid: sub.LatestInvoicePaid, GrantedFor: utc(sub.GrantedFor), GrantedPlan: sub.GrantedPlan, GrantedPaid: sub.GrantedPaid,
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := userExists(tx, sub.UserID); err != nil {
			return err
		}
		subs, byUser := tx.Bucket(bucketSubscriptions), tx.Bucket(bucketSubscriptionsByUser)
		var old subscriptionRecord
		ok, err := get(subs, []byte(sub.ID), &old)
		if err != nil {
			return err
		}
		if ok {
			if err := del(byUser, old.byUserKey()); err != nil {
				return err
			}
		}
		if err := putRaw(byUser, r.byUserKey(), nil); err != nil {
			return err
		}
		return put(subs, []byte(sub.ID), r)
	})
}

// Subscription returns the user's newest subscription (by Created), in
// whatever state; ENOTFOUND when the user has none.
func (s *Store) Subscription(ctx context.Context, userID string) (*account.Subscription, error) {
	var r subscriptionRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := userKey(userID)
		k, _ := lastWithPrefix(tx.Bucket(bucketSubscriptionsByUser).Cursor(), prefix)
		if k == nil || userID == "" {
			return account.Errorf(account.ENOTFOUND, "no subscription")
		}
		ok, err := get(tx.Bucket(bucketSubscriptions), k[len(prefix)+timeKeyLen:], &r)
		if err != nil {
			return err
		}
		if !ok {
			return account.Errorf(account.EINTERNAL, "subscription index names a missing subscription")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.subscription(), nil
}

// RecordEvent records a webhook event id; false when it was recorded
// before.
func (s *Store) RecordEvent(ctx context.Context, eventID string, at time.Time) (bool, error) {
	if err := checkID("event", eventID); err != nil {
		return false, err
	}
	first := false
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		if events.Get([]byte(eventID)) != nil {
			return nil
		}
		first = true
		return putRaw(events, []byte(eventID), timeKey(at))
	})
	if err != nil {
		return false, err
	}
	return first, nil
}

// EventSeen reports whether the webhook event id was recorded, without
// recording it: a read-only check before the work RecordEvent then marks
// done.
func (s *Store) EventSeen(ctx context.Context, eventID string) (bool, error) {
	seen := false
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		seen = eventID != "" && tx.Bucket(bucketEvents).Get([]byte(eventID)) != nil
		return nil
	})
	if err != nil {
		return false, err
	}
	return seen, nil
}

// ForgetEvents drops the webhook event ids recorded before the time. It
// reads every id: the service calls it once an hour.
func (s *Store) ForgetEvents(ctx context.Context, before time.Time) (int, error) {
	n := 0
	limit := timeKey(before)
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		events := tx.Bucket(bucketEvents)
		var old [][]byte
		err := events.ForEach(func(k, v []byte) error {
			if bytes.Compare(v, limit) < 0 {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range old {
			if err := del(events, k); err != nil {
				return err
			}
		}
		n = len(old)
		return nil
	})
	return n, err
}
