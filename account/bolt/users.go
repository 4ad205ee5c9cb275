package bolt

import (
	"context"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
)

// userRecord is a stored account.User.
type userRecord struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	PasswordHash string    `json:"password_hash,omitempty"`
	CustomerID   string    `json:"customer_id,omitempty"`
	Created      time.Time `json:"created"`
}

func (r *userRecord) user() *account.User {
	return &account.User{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, CustomerID: r.CustomerID, Created: r.Created}
}

// normalizeEmail is how emails are stored and compared: trimmed and
// lower-cased, so Ada@Example.com and ada@example.com are one account.
func normalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser stores a new user, its email lower-cased and trimmed (u.Email
// is set to that form); ECONFLICT when the id, the email or the customer is
// taken.
func (s *Store) CreateUser(ctx context.Context, u *account.User) error {
	if err := checkID("user", u.ID); err != nil {
		return err
	}
	email := normalizeEmail(u.Email)
	if email == "" {
		return account.Errorf(account.EINVALID, "an email address is required")
	}
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		users, byEmail, byCustomer := tx.Bucket(bucketUsers), tx.Bucket(bucketUsersByEmail), tx.Bucket(bucketUsersByCustomer)
		if users.Get([]byte(u.ID)) != nil {
			return account.Errorf(account.ECONFLICT, "user %s already exists", u.ID)
		}
		if byEmail.Get([]byte(email)) != nil {
			return account.Errorf(account.ECONFLICT, "an account with the email %s already exists", email)
		}
		if u.CustomerID != "" {
			if byCustomer.Get([]byte(u.CustomerID)) != nil {
				return account.Errorf(account.ECONFLICT, "customer %s belongs to another user", u.CustomerID)
			}
			if err := putRaw(byCustomer, []byte(u.CustomerID), []byte(u.ID)); err != nil {
				return err
			}
		}
		if err := putRaw(byEmail, []byte(email), []byte(u.ID)); err != nil {
			return err
		}
		return put(users, []byte(u.ID), &userRecord{
			ID: u.ID, Email: email, PasswordHash: u.PasswordHash, CustomerID: u.CustomerID, Created: utc(u.Created),
		})
	})
	if err != nil {
		return err
	}
	u.Email = email
	return nil
}

// User returns the user with the id; ENOTFOUND when there is none.
func (s *Store) User(ctx context.Context, id string) (*account.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error { return getUser(tx, id, &r) })
	if err != nil {
		return nil, err
	}
	return r.user(), nil
}

// UserByEmail returns the user with the email, compared case-insensitively;
// ENOTFOUND when there is none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*account.User, error) {
	return s.userByIndex(ctx, bucketUsersByEmail, normalizeEmail(email))
}

// UserByCustomer returns the user the Stripe customer belongs to; ENOTFOUND
// when there is none.
func (s *Store) UserByCustomer(ctx context.Context, customerID string) (*account.User, error) {
	return s.userByIndex(ctx, bucketUsersByCustomer, customerID)
}

func (s *Store) userByIndex(ctx context.Context, index []byte, key string) (*account.User, error) {
	var r userRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(index).Get([]byte(key))
		if key == "" || id == nil {
			return account.Errorf(account.ENOTFOUND, "no such user")
		}
		return getUser(tx, string(id), &r)
	})
	if err != nil {
		return nil, err
	}
	return r.user(), nil
}

// SetCustomer records the user's Stripe customer, replacing any earlier
// one; "" clears it. ENOTFOUND for no such user, ECONFLICT when the customer
// belongs to another user.
func (s *Store) SetCustomer(ctx context.Context, userID, customerID string) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r userRecord
		if err := getUser(tx, userID, &r); err != nil {
			return err
		}
		if r.CustomerID == customerID {
			return nil
		}
		byCustomer := tx.Bucket(bucketUsersByCustomer)
		if customerID != "" {
			if owner := byCustomer.Get([]byte(customerID)); owner != nil && string(owner) != userID {
				return account.Errorf(account.ECONFLICT, "customer %s belongs to another user", customerID)
			}
			if err := putRaw(byCustomer, []byte(customerID), []byte(userID)); err != nil {
				return err
			}
		}
		if r.CustomerID != "" {
			if err := del(byCustomer, []byte(r.CustomerID)); err != nil {
				return err
			}
		}
		r.CustomerID = customerID
		return put(tx.Bucket(bucketUsers), []byte(userID), &r)
	})
}

// getUser reads a user record; ENOTFOUND when there is none.
func getUser(tx *bbolt.Tx, id string, r *userRecord) error {
	ok, err := get(tx.Bucket(bucketUsers), []byte(id), r)
	if err != nil {
		return err
	}
	if !ok || id == "" {
		return account.Errorf(account.ENOTFOUND, "no such user")
	}
	return nil
}

// userExists returns ENOTFOUND unless the user exists.
func userExists(tx *bbolt.Tx, id string) error {
	if id == "" || tx.Bucket(bucketUsers).Get([]byte(id)) == nil {
		return account.Errorf(account.ENOTFOUND, "no such user")
	}
	return nil
}
