// Package bolt is the embedded account.Store: one bbolt file holding users,
// tokens, device authorizations, subscriptions, webhook events and the quota
// ledger. Values are JSON records of this package's own (the domain types'
// JSON tags are the HTTP API's, which hides password hashes and user ids);
// every secondary index is a bucket of its own, and every method that reads
// and then writes does both in one bbolt Update transaction, which bbolt runs
// one at a time, so concurrent callers can never overdraw a quota.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/replica3d/replica/account"
)

// SchemaVersion is the layout of buckets and records this package writes. A
// database with a newer version was written by a newer program and is
// refused rather than misread.
const SchemaVersion = 1

// lockTimeout is how long Open waits for the file lock another process
// holds before giving up.
const lockTimeout = time.Second

// Bucket names. The index buckets map a lookup key to the primary key of
// the record they index; their values are never JSON.
var (
	bucketMeta = []byte("meta") // "schema" → decimal version

	bucketUsers           = []byte("users")             // user id → userRecord
	bucketUsersByEmail    = []byte("users_by_email")    // lower-cased email → user id
	bucketUsersByCustomer = []byte("users_by_customer") // Stripe customer id → user id

	bucketTokens        = []byte("tokens")          // token id → tokenRecord
	bucketTokensByHash  = []byte("tokens_by_hash")  // SHA-256 → token id
	bucketTokensByUser  = []byte("tokens_by_user")  // userKey(user, created, token id) → nil
	bucketSessionsEnd   = []byte("sessions_ending") // timeKey(expires or revoked) + session token id → nil
	bucketDevices       = []byte("device_auths")    // device hash → deviceRecord
	bucketDevicesByCode = []byte("device_auths_by_user_code")

	bucketSubscriptions       = []byte("subscriptions")         // subscription id → subscriptionRecord
	bucketSubscriptionsByUser = []byte("subscriptions_by_user") // userKey(user, created, sub id) → nil

	bucketEvents = []byte("events") // event id → timeKey(recorded at)

	bucketPeriods      = []byte("periods")              // userKey(user, start) → periodRecord
	bucketReservations = []byte("reservations")         // userKey(user, job id) → reservationRecord
	bucketPending      = []byte("reservations_pending") // timeKey(expires) + userKey(user, job id) → nil
	bucketLedger       = []byte("ledger")               // userKey(user, sequence) → entryRecord

	allBuckets = [][]byte{
		bucketMeta,
		bucketUsers, bucketUsersByEmail, bucketUsersByCustomer,
		bucketTokens, bucketTokensByHash, bucketTokensByUser, bucketSessionsEnd,
		bucketDevices, bucketDevicesByCode,
		bucketSubscriptions, bucketSubscriptionsByUser,
		bucketEvents,
		bucketPeriods, bucketReservations, bucketPending, bucketLedger,
	}

	keySchema = []byte("schema")
)

// Store is the bbolt implementation of account.Store. It is safe for
// concurrent use; one process at a time may hold the file.
type Store struct {
	db   *bbolt.DB
	path string
}

var _ account.Store = (*Store)(nil)

// Open opens or creates the database at path (mode 0600), creates missing
// buckets and checks the schema version. A file another process holds open
// is refused after a second; a file that is not a bbolt database, or one
// written by a newer schema, is refused with an error saying so.
func Open(path string) (*Store, error) {
	db, err := openBolt(path)
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("database %s is in use by another process (no lock within %v): %w", path, lockTimeout, err)
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("open database: %w", err)
	case err != nil:
		// bbolt's ErrInvalid, ErrChecksum, ErrVersionMismatch, "file size
		// too small" and the panics openBolt turned into errors.
		return nil, fmt.Errorf("database %s is corrupt or not an account database: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.check(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// openBolt opens the file with bbolt. bbolt panics, rather than failing, on
// some damaged pages (a garbage freelist, for one); the panic becomes an
// error. The file descriptor bbolt opened before it panicked is then lost
// until the process exits, which a server that cannot open its database
// does soon.
func openBolt(path string) (db *bbolt.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return bbolt.Open(path, 0o600, &bbolt.Options{Timeout: lockTimeout})
}

// check walks every page of the file (bbolt's Tx.Check), so that a damaged
// page is an error here rather than a panic in the middle of a request
// later. It reads the whole file: about a tenth of a second for 200 MB.
func (s *Store) check() error {
	var errs []error
	s.db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			errs = append(errs, err)
		}
		return nil
	})
	if len(errs) == 0 {
		return nil
	}
	more := ""
	if len(errs) > 1 {
		more = fmt.Sprintf(" (and %d more problems)", len(errs)-1)
	}
	return fmt.Errorf("database %s is corrupt: %w%s", s.path, errs[0], more)
}

// init creates the buckets and checks or writes the schema version. bbolt
// panics on some damaged pages rather than returning an error; a panic here,
// the first time the file's pages are walked, becomes an error.
func (s *Store) init() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("database %s is corrupt: %v", s.path, r)
		}
	}()
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("database %s: create bucket %s: %w", s.path, name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
		v := meta.Get(keySchema)
		if v == nil {
			if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
				return fmt.Errorf("database %s: write schema version: %w", s.path, err)
			}
			return nil
		}
		version, err := strconv.Atoi(string(v))
		if err != nil {
			return fmt.Errorf("database %s: schema version %q is not a number", s.path, v)
		}
		if version > SchemaVersion {
			return fmt.Errorf("database %s has schema version %d, newer than the %d this program knows: run a newer replica-account", s.path, version, SchemaVersion)
		}
		// Version 1 is the first; migrations from older versions go here.
		return nil
	})
}

// Close closes the database file.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read-only transaction, unless ctx is already done.
func (s *Store) view(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// update runs fn in a read-write transaction, unless ctx is already done.
// An error from fn rolls the transaction back and is returned as is.
func (s *Store) update(ctx context.Context, fn func(tx *bbolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

// put stores a JSON record.
func put(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("bolt: encode: %w", err)
	}
	if err := b.Put(key, data); err != nil {
		return fmt.Errorf("bolt: put: %w", err)
	}
	return nil
}

// putRaw stores an index entry.
func putRaw(b *bbolt.Bucket, key, value []byte) error {
	if err := b.Put(key, value); err != nil {
		return fmt.Errorf("bolt: put: %w", err)
	}
	return nil
}

// del removes a key.
func del(b *bbolt.Bucket, key []byte) error {
	if err := b.Delete(key); err != nil {
		return fmt.Errorf("bolt: delete: %w", err)
	}
	return nil
}

// get decodes the JSON record at key into v; false when there is none.
func get(b *bbolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("bolt: decode %q: %w", key, err)
	}
	return true, nil
}

// unmarshal decodes a JSON record read with a cursor.
func unmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("bolt: decode: %w", err)
	}
	return nil
}

// maxID is the longest id accepted: every id ends up in keys, which bbolt
// limits to 32 KiB, and no id we make comes near this.
const maxID = 255

// checkID returns EINVALID for an empty or overlong id.
func checkID(what, id string) error {
	if id == "" || len(id) > maxID {
		return account.Errorf(account.EINVALID, "%s id must be 1 to %d bytes", what, maxID)
	}
	return nil
}

// userKey builds a key that starts with the user id, length-prefixed (a
// uvarint, itself prefix-free) so that no user's keys start with another
// user's prefix, followed by parts. All of one user's keys in a bucket are
// contiguous and sorted by parts.
func userKey(userID string, parts ...[]byte) []byte {
	n := binary.MaxVarintLen64 + len(userID)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = binary.AppendUvarint(k, uint64(len(userID)))
	k = append(k, userID...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

// timeKeyLen is the length of a timeKey.
const timeKeyLen = 12

// timeKey encodes t so that keys sort as times do: seconds since 1970 with
// the sign bit flipped (so times before 1970, the zero time among them, sort
// first), then nanoseconds, both big-endian. Any time.Time fits, unlike
// UnixNano.
func timeKey(t time.Time) []byte {
	k := make([]byte, timeKeyLen)
	binary.BigEndian.PutUint64(k, uint64(t.Unix())^(1<<63))
	binary.BigEndian.PutUint32(k[8:], uint32(t.Nanosecond()))
	return k
}

// seqKey encodes a bucket sequence number so keys sort in the order they
// were made.
func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}

// prefixEnd returns the smallest key greater than every key with prefix,
// nil when there is none (the prefix is all 0xff).
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// lastWithPrefix moves c to the last key with prefix, for a walk backwards
// with c.Prev; nil when no key has it.
func lastWithPrefix(c *bbolt.Cursor, prefix []byte) (k, v []byte) {
	if end := prefixEnd(prefix); end == nil {
		k, v = c.Last()
	} else if k, _ = c.Seek(end); k == nil {
		k, v = c.Last()
	} else {
		k, v = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, prefix) {
		return nil, nil
	}
	return k, v
}

// reverse calls fn with each key with prefix and its value, last first,
// until fn returns false or an error.
func reverse(b *bbolt.Bucket, prefix []byte, fn func(k, v []byte) (bool, error)) error {
	c := b.Cursor()
	for k, v := lastWithPrefix(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// utc drops t's location and monotonic reading, so times come back from the
// store as they went in, whatever zone the caller used.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC()
}
