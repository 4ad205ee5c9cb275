package account

import (
	"context"
	"regexp"
	"time"
)

// jobID is what a cloud job may be called: the client picks it (a UUID or
// the job folder's id), so a retried submission reserves nothing twice.
var jobID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkJob(id string) error {
	if !jobID.MatchString(id) {
		return Errorf(EINVALID, "A job id is 1–64 letters, digits, _ or -.")
	}
	return nil
}

// ReserveJob holds one cloud model for a job when the user's plan allows
// cloud processing and a model remains this period. Reserving a job again
// returns its reservation: the check and the write are one transaction, so
// concurrent submissions never overdraw.
func (s *Service) ReserveJob(ctx context.Context, userID, job string) (*Reservation, error) {
	if err := checkJob(job); err != nil {
		return nil, err
	}
	if r, err := s.Store.Reservation(ctx, userID, job); err == nil {
		return r, nil
	} else if ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	sub, err := s.subscription(ctx, userID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	e := Entitle(sub, s.Plans, now, s.grace())
	if !e.Cloud {
		return nil, Errorf(EPAYMENT, "%s", e.Reason)
	}
	r, err := s.Store.Reserve(ctx, userID, job, now, now.Add(s.reservationTTL()))
	if err != nil {
		return nil, err
	}
	s.log().Info("model reserved", "user", userID, "job", job)
	return r, nil
}

// Job returns the reservation of one of the user's jobs; another user's job
// is ENOTFOUND, as one that does not exist.
func (s *Service) Job(ctx context.Context, userID, job string) (*Reservation, error) {
	if err := checkJob(job); err != nil {
		return nil, Errorf(ENOTFOUND, "There is no such job.")
	}
	return s.Store.Reservation(ctx, userID, job)
}

// StartJob marks a reserved job as running: it no longer expires.
func (s *Service) StartJob(ctx context.Context, userID, job string) error {
	if err := checkJob(job); err != nil {
		return err
	}
	return s.Store.Start(ctx, userID, job, s.now().UTC())
}

// CommitJob spends the job's reserved model: the job succeeded.
func (s *Service) CommitJob(ctx context.Context, userID, job string) error {
	if err := checkJob(job); err != nil {
		return err
	}
	if err := s.Store.Commit(ctx, userID, job, s.now().UTC()); err != nil {
		return err
	}
	s.log().Info("model committed", "user", userID, "job", job)
	return nil
}

// RefundJob gives the job's model back: it failed or was cancelled. Makers
// never pay for a failed job.
func (s *Service) RefundJob(ctx context.Context, userID, job, reason string) error {
	if err := checkJob(job); err != nil {
		return err
	}
	reason = clip(reason, 200)
	if err := s.Store.Refund(ctx, userID, job, s.now().UTC(), reason); err != nil {
		return err
	}
	s.log().Info("model refunded", "user", userID, "job", job)
	return nil
}

// CancelJob is the user cancelling a job before it started: its model
// comes back. A job already running is ECONFLICT — the worker that stops
// it refunds it — so a job that finishes is never also refunded.
func (s *Service) CancelJob(ctx context.Context, userID, job string) error {
	if err := checkJob(job); err != nil {
		return Errorf(ENOTFOUND, "There is no such job.")
	}
	if err := s.Store.Cancel(ctx, userID, job, s.now().UTC(), "cancelled by user"); err != nil {
		return err
	}
	s.log().Info("job cancelled", "user", userID, "job", job)
	return nil
}

// Ledger returns the user's quota history, newest first.
func (s *Service) Ledger(ctx context.Context, userID string, limit int) ([]LedgerEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	return s.Store.Ledger(ctx, userID, limit)
}

// EventMemory is how long webhook event ids are remembered: Stripe retries
// a failed delivery for up to 3 days.
const EventMemory = 30 * 24 * time.Hour

// Sweep refunds reservations whose job never started and forgets expired
// device codes; once an hour it also deletes ended browser sessions and
// webhook event ids older than EventMemory. Run calls it every minute.
func (s *Service) Sweep(ctx context.Context) error {
	now := s.now().UTC()
	n, err := s.Store.ExpireReservations(ctx, now)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log().Info("reservations expired", "count", n)
	}
	if _, err = s.Store.DeleteExpiredDeviceAuths(ctx, now); err != nil {
		return err
	}
	s.sweepMu.Lock()
	due := now.Sub(s.housekept) >= time.Hour
	if due {
		s.housekept = now
	}
	s.sweepMu.Unlock()
	if !due {
		return nil
	}
	s.touchMu.Lock()
	for id, at := range s.touched {
		if now.Sub(at) >= time.Minute {
			delete(s.touched, id)
		}
	}
	s.touchMu.Unlock()
	sessions, err := s.Store.DeleteEndedSessions(ctx, now)
	if err != nil {
		return err
	}
	events, err := s.Store.ForgetEvents(ctx, now.Add(-EventMemory))
	if err != nil {
		return err
	}
	if sessions+events > 0 {
		s.log().Info("housekeeping", "sessions_deleted", sessions, "events_forgotten", events)
	}
	return nil
}

// Run sweeps every interval until ctx ends.
func (s *Service) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.log().Warn("sweep", "err", err)
			}
		}
	}
}
