package bolt

import (
	"bytes"
	"context"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
)

// tokenRecord is a stored account.Token.
type tokenRecord struct {
	ID       string    `json:"id"`
	UserID   string    `json:"user"`
	Hash     []byte    `json:"hash"`
	Name     string    `json:"name"`
	Created  time.Time `json:"created"`
	LastUsed time.Time `json:"last_used,omitzero"`
	Revoked  time.Time `json:"revoked,omitzero"`
	Session  bool      `json:"session,omitempty"`
	Expires  time.Time `json:"expires,omitzero"`
}

func (r *tokenRecord) token() account.Token {
	t := account.Token{
		ID: r.ID, UserID: r.UserID, Name: r.Name, Created: r.Created, LastUsed: r.LastUsed, Revoked: r.Revoked,
		Session: r.Session, Expires: r.Expires,
	}
	copy(t.Hash[:], r.Hash)
	return t
}

// CreateToken stores a new token of an existing user; ECONFLICT when the id
// or the hash is taken, ENOTFOUND for no such user.
func (s *Store) CreateToken(ctx context.Context, t *account.Token) error {
	if err := checkID("token", t.ID); err != nil {
		return err
	}
	if t.Hash == ([32]byte{}) {
		return account.Errorf(account.EINVALID, "token has no hash")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := userExists(tx, t.UserID); err != nil {
			return err
		}
		tokens, byHash := tx.Bucket(bucketTokens), tx.Bucket(bucketTokensByHash)
		if tokens.Get([]byte(t.ID)) != nil {
			return account.Errorf(account.ECONFLICT, "token %s already exists", t.ID)
		}
		if byHash.Get(t.Hash[:]) != nil {
			return account.Errorf(account.ECONFLICT, "a token with this hash already exists")
		}
		r := &tokenRecord{
			ID: t.ID, UserID: t.UserID, Hash: t.Hash[:], Name: t.Name,
			Created: utc(t.Created), LastUsed: utc(t.LastUsed), Revoked: utc(t.Revoked),
			Session: t.Session, Expires: utc(t.Expires),
		}
		if err := putRaw(byHash, t.Hash[:], []byte(t.ID)); err != nil {
			return err
		}
		if err := putRaw(tx.Bucket(bucketTokensByUser), userKey(t.UserID, timeKey(r.Created), []byte(t.ID)), nil); err != nil {
			return err
		}
		if r.Session {
			if err := indexSessionEnd(tx, r); err != nil {
				return err
			}
		}
		return put(tokens, []byte(t.ID), r)
	})
}

// TokenByHash returns the token with the hash, revoked or not; ENOTFOUND
// when there is none.
func (s *Store) TokenByHash(ctx context.Context, hash [32]byte) (*account.Token, error) {
	var r tokenRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		id := tx.Bucket(bucketTokensByHash).Get(hash[:])
		if id == nil {
			return account.Errorf(account.ENOTFOUND, "no such token")
		}
		return getToken(tx, string(id), &r)
	})
	if err != nil {
		return nil, err
	}
	t := r.token()
	return &t, nil
}

// Tokens returns the user's tokens, revoked ones included, newest first.
func (s *Store) Tokens(ctx context.Context, userID string) ([]account.Token, error) {
	var ts []account.Token
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		prefix := userKey(userID)
		return reverse(tx.Bucket(bucketTokensByUser), prefix, func(k, _ []byte) (bool, error) {
			var r tokenRecord
			if err := getToken(tx, string(k[len(prefix)+timeKeyLen:]), &r); err != nil {
				return false, err
			}
			ts = append(ts, r.token())
			return true, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return ts, nil
}

// RevokeToken revokes one of the user's tokens at at; another user's token
// is ENOTFOUND. Revoking a revoked token keeps the first time.
func (s *Store) RevokeToken(ctx context.Context, userID, tokenID string, at time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r tokenRecord
		if err := getToken(tx, tokenID, &r); err != nil {
			return err
		}
		if r.UserID != userID {
			return account.Errorf(account.ENOTFOUND, "no such token")
		}
		if !r.Revoked.IsZero() {
			return nil
		}
		r.Revoked = utc(at)
		if r.Session {
			if err := indexSessionEnd(tx, &r); err != nil {
				return err
			}
		}
		return put(tx.Bucket(bucketTokens), []byte(tokenID), &r)
	})
}

// TouchToken records that the token was used at at; an earlier time than
// the one recorded changes nothing. Each call is a write transaction with
// an fsync: callers on the request path should touch at most every minute
// or so per token.
func (s *Store) TouchToken(ctx context.Context, tokenID string, at time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r tokenRecord
		if err := getToken(tx, tokenID, &r); err != nil {
			return err
		}
		if !at.After(r.LastUsed) {
			return nil
		}
		r.LastUsed = utc(at)
		return put(tx.Bucket(bucketTokens), []byte(tokenID), &r)
	})
}

// sessionEnd is when a session stops working: revoked or expired,
// whichever is first; zero for never.
func (r *tokenRecord) sessionEnd() time.Time {
	end := r.Expires
	if !r.Revoked.IsZero() && (end.IsZero() || r.Revoked.Before(end)) {
		end = r.Revoked
	}
	return end
}

// indexSessionEnd files a session under the time it ends, for the sweep.
// A session revoked before it expires is filed twice; the sweep removes
// both keys.
func indexSessionEnd(tx *bbolt.Tx, r *tokenRecord) error {
	end := r.sessionEnd()
	if end.IsZero() {
		return nil
	}
	return putRaw(tx.Bucket(bucketSessionsEnd), append(timeKey(end), r.ID...), nil)
}

// DeleteEndedSessions removes the browser sessions that expired or were
// revoked before now, with their index entries. It reads only the index of
// sessions by the time they end, up to now.
func (s *Store) DeleteEndedSessions(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		ending, tokens := tx.Bucket(bucketSessionsEnd), tx.Bucket(bucketTokens)
		limit := timeKey(now)
		var keys [][]byte
		c := ending.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], limit) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := del(ending, k); err != nil {
				return err
			}
			var r tokenRecord
			found, err := get(tokens, k[timeKeyLen:], &r)
			if err != nil {
				return err
			}
			if !found || !r.Session || !r.sessionEnd().Before(now) {
				continue // deleted under its other key, or not a session
			}
			if err := del(tx.Bucket(bucketTokensByHash), r.Hash); err != nil {
				return err
			}
			if err := del(tx.Bucket(bucketTokensByUser), userKey(r.UserID, timeKey(r.Created), []byte(r.ID))); err != nil {
				return err
			}
			if err := del(tokens, []byte(r.ID)); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// getToken reads a token record; ENOTFOUND when there is none.
func getToken(tx *bbolt.Tx, id string, r *tokenRecord) error {
	ok, err := get(tx.Bucket(bucketTokens), []byte(id), r)
	if err != nil {
		return err
	}
	if !ok || id == "" {
		return account.Errorf(account.ENOTFOUND, "no such token")
	}
	return nil
}
