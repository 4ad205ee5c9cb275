package bolt

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
)

// periodRecord is a stored account.Period.
type periodRecord struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Granted  int       `json:"granted"`
	Used     int       `json:"used"`
	Reserved int       `json:"reserved"`
}

func (r *periodRecord) period() *account.Period {
	return &account.Period{Start: r.Start, End: r.End, Granted: r.Granted, Used: r.Used, Reserved: r.Reserved}
}

func (r *periodRecord) remaining() int { return r.Granted - r.Used - r.Reserved }

// reservationRecord is a stored account.Reservation.
type reservationRecord struct {
	JobID   string                   `json:"job"`
	UserID  string                   `json:"user"`
	Period  time.Time                `json:"period"`
	State   account.ReservationState `json:"state"`
	Created time.Time                `json:"created"`
	Expires time.Time                `json:"expires"`
	Started time.Time                `json:"started,omitzero"`
}

func (r *reservationRecord) reservation() *account.Reservation {
	return &account.Reservation{
		JobID: r.JobID, UserID: r.UserID, Period: r.Period, State: r.State,
		Created: r.Created, Expires: r.Expires, Started: r.Started,
	}
}

func (r *reservationRecord) key() []byte { return userKey(r.UserID, []byte(r.JobID)) }

// pendingKey is the reservation's key in reservations_pending, where it is
// while it is reserved and not started: the index ExpireReservations walks
// from its start.
func (r *reservationRecord) pendingKey() []byte {
	return append(timeKey(r.Expires), r.key()...)
}

// entryRecord is a stored account.LedgerEntry.
type entryRecord struct {
	ID      string            `json:"id"`
	UserID  string            `json:"user"`
	Period  time.Time         `json:"period"`
	Kind    account.EntryKind `json:"kind"`
	JobID   string            `json:"job,omitempty"`
	Delta   int               `json:"delta"`
	Balance int               `json:"balance"`
	At      time.Time         `json:"at"`
	Note    string            `json:"note,omitempty"`
}

func (r *entryRecord) entry() account.LedgerEntry {
	return account.LedgerEntry{
		ID: r.ID, UserID: r.UserID, Period: r.Period, Kind: r.Kind, JobID: r.JobID,
		Delta: r.Delta, Balance: r.Balance, At: r.At, Note: r.Note,
	}
}

// Grant sets the quota of the user's period that starts at start. A new
// period gets an EntryGrant of the whole quota; the same quota again changes
// nothing (webhooks are retried); another quota writes the difference. A
// different end for the same start only moves the end.
func (s *Store) Grant(ctx context.Context, userID string, start, end time.Time, quota int, at time.Time, note string) error {
	switch {
	case quota < 0:
		return account.Errorf(account.EINVALID, "a quota cannot be negative (%d)", quota)
	case start.IsZero() || !end.After(start):
		return account.Errorf(account.EINVALID, "a billing period must end after it starts")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		if err := userExists(tx, userID); err != nil {
			return err
		}
		periods := tx.Bucket(bucketPeriods)
		key := userKey(userID, timeKey(start))
		var p periodRecord
		found, err := get(periods, key, &p)
		if err != nil {
			return err
		}
		if !found {
			p = periodRecord{Start: utc(start), End: utc(end), Granted: quota}
			if err := put(periods, key, &p); err != nil {
				return err
			}
			return appendEntry(tx, &entryRecord{
				UserID: userID, Period: p.Start, Kind: account.EntryGrant,
				Delta: quota, Balance: p.remaining(), At: utc(at), Note: note,
			})
		}
		changed := false
		if !p.End.Equal(end) {
			p.End, changed = utc(end), true
		}
		if p.Granted != quota {
			delta := quota - p.Granted
			p.Granted, changed = quota, true
			err := appendEntry(tx, &entryRecord{
				UserID: userID, Period: p.Start, Kind: account.EntryGrant,
				Delta: delta, Balance: p.remaining(), At: utc(at), Note: note,
			})
			if err != nil {
				return err
			}
		}
		if !changed {
			return nil
		}
		return put(periods, key, &p)
	})
}

// Reserve holds one model of the period that contains at for the job, until
// expires unless the job starts. The same job again returns its reservation
// as it stands, in whatever state.
func (s *Store) Reserve(ctx context.Context, userID, jobID string, at, expires time.Time) (*account.Reservation, error) {
	if err := checkID("job", jobID); err != nil {
		return nil, err
	}
	if !expires.After(at) {
		return nil, account.Errorf(account.EINVALID, "a reservation must expire after it is made")
	}
	var r reservationRecord
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		reservations := tx.Bucket(bucketReservations)
		found, err := get(reservations, userKey(userID, []byte(jobID)), &r)
		if err != nil || found {
			return err
		}
		key, p, err := findPeriod(tx, userID, at)
		if err != nil {
			return err
		}
		if key == nil {
			return account.Errorf(account.EQUOTA, "No cloud models: no billing period covers %s. Choose a plan, or process on this computer.", day(at, at))
		}
		if p.remaining() <= 0 {
			return account.Errorf(account.EQUOTA, "No cloud models left this period (all %d used or in progress); the next period starts %s. Upgrade for more, or process on this computer.", p.Granted, day(p.End, at))
		}
		p.Reserved++
		if err := put(tx.Bucket(bucketPeriods), key, &p); err != nil {
			return err
		}
		r = reservationRecord{
			JobID: jobID, UserID: userID, Period: p.Start, State: account.Reserved,
			Created: utc(at), Expires: utc(expires),
		}
		if err := put(reservations, r.key(), &r); err != nil {
			return err
		}
		if err := putRaw(tx.Bucket(bucketPending), r.pendingKey(), nil); err != nil {
			return err
		}
		return appendEntry(tx, &entryRecord{
			UserID: userID, Period: p.Start, Kind: account.EntryReserve, JobID: jobID,
			Delta: -1, Balance: p.remaining(), At: utc(at),
		})
	})
	if err != nil {
		return nil, err
	}
	return r.reservation(), nil
}

// Start records that the job began: its reservation no longer expires.
// Starting twice, or starting a committed job, changes nothing; starting a
// job whose reservation was refunded or expired is ECONFLICT.
func (s *Store) Start(ctx context.Context, userID, jobID string, at time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r reservationRecord
		if err := getReservation(tx, userID, jobID, &r); err != nil {
			return err
		}
		switch r.State {
		case account.Committed:
			return nil
		case account.Refunded, account.Expired:
			return account.Errorf(account.ECONFLICT, "the reservation for job %s was %s: submit the job again", jobID, r.State)
		}
		if !r.Started.IsZero() {
			return nil
		}
		if err := del(tx.Bucket(bucketPending), r.pendingKey()); err != nil {
			return err
		}
		r.Started = utc(at)
		return put(tx.Bucket(bucketReservations), r.key(), &r)
	})
}

// Commit spends the job's reserved model. Committing twice changes nothing;
// committing a refunded or expired reservation is ECONFLICT.
func (s *Store) Commit(ctx context.Context, userID, jobID string, at time.Time) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r reservationRecord
		if err := getReservation(tx, userID, jobID, &r); err != nil {
			return err
		}
		switch r.State {
		case account.Committed:
			return nil
		case account.Refunded, account.Expired:
			return account.Errorf(account.ECONFLICT, "job %s cannot be charged: its reservation was %s", jobID, r.State)
		}
		return settle(tx, &r, account.Committed, at, "")
	})
}

// Refund gives back the job's reserved model. Refunding twice, or refunding
// an expired reservation (already given back), changes nothing; refunding a
// committed job is ECONFLICT.
func (s *Store) Refund(ctx context.Context, userID, jobID string, at time.Time, note string) error {
	return s.refund(ctx, userID, jobID, at, note, false)
}

// Cancel refunds a reservation whose job has not started; a started or
// committed one is ECONFLICT, a refunded or expired one a no-op.
func (s *Store) Cancel(ctx context.Context, userID, jobID string, at time.Time, note string) error {
	return s.refund(ctx, userID, jobID, at, note, true)
}

// refund is Refund, and with notStarted Cancel.
func (s *Store) refund(ctx context.Context, userID, jobID string, at time.Time, note string, notStarted bool) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r reservationRecord
		if err := getReservation(tx, userID, jobID, &r); err != nil {
			return err
		}
		switch {
		case r.State == account.Refunded || r.State == account.Expired:
			return nil
		case r.State == account.Committed && notStarted:
			return account.Errorf(account.ECONFLICT, "Job %s finished and its model was spent: it cannot be cancelled.", jobID)
		case r.State == account.Committed:
			return account.Errorf(account.ECONFLICT, "job %s finished and its model was spent: it cannot be refunded", jobID)
		case notStarted && !r.Started.IsZero():
			return account.Errorf(account.ECONFLICT, "Job %s is already running: stop it where it runs; its model comes back if it does not finish.", jobID)
		}
		return settle(tx, &r, account.Refunded, at, note)
	})
}

// ExpireReservations gives back, as EntryExpire, the model of every
// reservation still reserved and not started whose Expires is before now,
// and returns how many. It reads only the index of such reservations.
func (s *Store) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		n = 0
		pending := tx.Bucket(bucketPending)
		limit := timeKey(now)
		var keys [][]byte
		c := pending.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:timeKeyLen], limit) < 0; k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := del(pending, k); err != nil {
				return err
			}
			var r reservationRecord
			found, err := get(tx.Bucket(bucketReservations), k[timeKeyLen:], &r)
			if err != nil {
				return err
			}
			if !found || r.State != account.Reserved || !r.Started.IsZero() || !r.Expires.Before(now) {
				continue
			}
			if err := settle(tx, &r, account.Expired, now, "the job never started"); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// settle moves a reserved reservation to state (Committed, Refunded or
// Expired) and writes the period and the ledger entry that goes with it.
func settle(tx *bbolt.Tx, r *reservationRecord, state account.ReservationState, at time.Time, note string) error {
	periods := tx.Bucket(bucketPeriods)
	pkey := userKey(r.UserID, timeKey(r.Period))
	var p periodRecord
	found, err := get(periods, pkey, &p)
	if err != nil {
		return err
	}
	if !found {
		return account.Errorf(account.EINTERNAL, "the period of job %s's reservation is missing", r.JobID)
	}
	e := &entryRecord{UserID: r.UserID, Period: p.Start, JobID: r.JobID, At: utc(at), Note: note}
	p.Reserved--
	switch state {
	case account.Committed:
		p.Used++
		e.Kind, e.Delta = account.EntryCommit, 0
	case account.Refunded:
		e.Kind, e.Delta = account.EntryRefund, +1
	case account.Expired:
		e.Kind, e.Delta = account.EntryExpire, +1
	}
	e.Balance = p.remaining()
	if err := put(periods, pkey, &p); err != nil {
		return err
	}
	if err := del(tx.Bucket(bucketPending), r.pendingKey()); err != nil {
		return err
	}
	r.State = state
	if err := put(tx.Bucket(bucketReservations), r.key(), r); err != nil {
		return err
	}
	return appendEntry(tx, e)
}

// Reservation returns the user's reservation for the job; ENOTFOUND when
// there is none, as for another user's job.
func (s *Store) Reservation(ctx context.Context, userID, jobID string) (*account.Reservation, error) {
	var r reservationRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error { return getReservation(tx, userID, jobID, &r) })
	if err != nil {
		return nil, err
	}
	return r.reservation(), nil
}

// Period returns the user's period that contains at (Start ≤ at < End);
// where periods overlap, the one that started last. ENOTFOUND when none
// does.
func (s *Store) Period(ctx context.Context, userID string, at time.Time) (*account.Period, error) {
	var p periodRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		key, found, err := findPeriod(tx, userID, at)
		if err != nil {
			return err
		}
		if key == nil {
			return account.Errorf(account.ENOTFOUND, "no billing period covers %s", day(at, at))
		}
		p = found
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p.period(), nil
}

// Ledger returns the user's newest limit entries, newest first; all of them
// when limit ≤ 0.
func (s *Store) Ledger(ctx context.Context, userID string, limit int) ([]account.LedgerEntry, error) {
	var es []account.LedgerEntry
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		return reverse(tx.Bucket(bucketLedger), userKey(userID), func(_, v []byte) (bool, error) {
			var r entryRecord
			if err := unmarshal(v, &r); err != nil {
				return false, err
			}
			es = append(es, r.entry())
			return limit <= 0 || len(es) < limit, nil
		})
	})
	if err != nil {
		return nil, err
	}
	return es, nil
}

// findPeriod returns the key and record of the user's period that contains
// at, the latest-starting where several do; a nil key when none does.
func findPeriod(tx *bbolt.Tx, userID string, at time.Time) ([]byte, periodRecord, error) {
	prefix, target := userKey(userID), userKey(userID, timeKey(at))
	c := tx.Bucket(bucketPeriods).Cursor()
	k, v := c.Seek(target)
	switch {
	case k == nil:
		k, v = c.Last()
	case !bytes.Equal(k, target):
		k, v = c.Prev()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
		var p periodRecord
		if err := unmarshal(v, &p); err != nil {
			return nil, periodRecord{}, err
		}
		if !at.Before(p.Start) && at.Before(p.End) {
			return bytes.Clone(k), p, nil
		}
	}
	return nil, periodRecord{}, nil
}

// getReservation reads the user's reservation for the job; ENOTFOUND when
// there is none.
func getReservation(tx *bbolt.Tx, userID, jobID string, r *reservationRecord) error {
	found, err := get(tx.Bucket(bucketReservations), userKey(userID, []byte(jobID)), r)
	if err != nil {
		return err
	}
	if !found || userID == "" || jobID == "" {
		return account.Errorf(account.ENOTFOUND, "no reservation for job %s", jobID)
	}
	return nil
}

// appendEntry gives e the next ledger id and stores it. Ids come from the
// ledger bucket's sequence, so a user's keys sort in the order written and
// the newest entry is the last.
func appendEntry(tx *bbolt.Tx, e *entryRecord) error {
	ledger := tx.Bucket(bucketLedger)
	seq, err := ledger.NextSequence()
	if err != nil {
		return fmt.Errorf("bolt: ledger sequence: %w", err)
	}
	e.ID = strconv.FormatUint(seq, 10)
	return put(ledger, userKey(e.UserID, seqKey(seq)), e)
}

// day formats t as the day people read in messages, "2 Jan", with the year
// when it is not ref's.
func day(t, ref time.Time) string {
	t, ref = t.UTC(), ref.UTC()
	if t.Year() != ref.Year() {
		return t.Format("2 Jan 2006")
	}
	return t.Format("2 Jan")
}
