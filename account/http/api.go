package http

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/replica3d/replica/account"
)

// getPlans answers the price list without Stripe's price ids.
func (s *Server) getPlans(w http.ResponseWriter, r *http.Request) error {
	plans := make(account.Plans, len(s.svc.Plans))
	copy(plans, s.svc.Plans)
	for i := range plans {
		plans[i].PriceID = ""
	}
	writeJSON(w, http.StatusOK, plans)
	return nil
}

func (s *Server) getMe(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	me, err := s.svc.Me(r.Context(), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, me)
	return nil
}

func (s *Server) getLedger(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return account.Errorf(account.EINVALID, "limit is a number from 1 to 1000.")
		}
		limit = n
	}
	entries, err := s.svc.Ledger(r.Context(), u.ID, limit)
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []account.LedgerEntry{}
	}
	writeJSON(w, http.StatusOK, entries)
	return nil
}

func (s *Server) postCheckout(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	var req struct {
		Plan string `json:"plan"`
	}
	if err := s.readJSON(w, r, &req, `{"plan": "maker"}`, false); err != nil {
		return err
	}
	url, err := s.svc.Checkout(r.Context(), u.ID, req.Plan, s.link(r, "/billing/done"), s.link(r, "/account"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, account.Link{URL: url})
	return nil
}

func (s *Server) postPortal(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	var req struct{}
	if err := s.readJSON(w, r, &req, `{}`, true); err != nil {
		return err
	}
	url, err := s.svc.Portal(r.Context(), u.ID, s.link(r, "/account"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, account.Link{URL: url})
	return nil
}

// getTokens lists the user's API tokens that still work; browser sessions
// are not API tokens and are left out.
func (s *Server) getTokens(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	tokens, err := s.apiTokens(r, u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokens)
	return nil
}

// apiTokens returns the user's active API tokens, newest first.
func (s *Server) apiTokens(r *http.Request, userID string) ([]account.Token, error) {
	return s.svc.Tokens(r.Context(), userID)
}

// deleteToken revokes one of the caller's API tokens. Another user's token,
// or a browser session's id, is 404 exactly as one that does not exist.
func (s *Server) deleteToken(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	id := r.PathValue("id")
	if !strings.HasPrefix(id, "tok_") {
		return account.Errorf(account.ENOTFOUND, "There is no such token.")
	}
	if err := s.svc.RevokeToken(r.Context(), u.ID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteCurrentToken signs the caller out: the token that made the request
// stops working.
func (s *Server) deleteCurrentToken(w http.ResponseWriter, r *http.Request, u *account.User, t *account.Token) error {
	if err := s.svc.RevokeToken(r.Context(), u.ID, t.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postJob reserves one cloud model for a job.
func (s *Server) postJob(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	var req struct {
		Job string `json:"job"`
	}
	if err := s.readJSON(w, r, &req, `{"job": "0b9d6c1e"}`, false); err != nil {
		return err
	}
	res, err := s.svc.ReserveJob(r.Context(), u.ID, req.Job)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	res, err := s.svc.Job(r.Context(), u.ID, r.PathValue("job"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// cancelJob gives the job's model back while it has not started; a running
// or committed job cannot be (409).
func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request, u *account.User, _ *account.Token) error {
	if err := s.discardBody(w, r); err != nil {
		return err
	}
	if err := s.svc.CancelJob(r.Context(), u.ID, r.PathValue("job")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// discardBody reads and drops a body the route does not use, within the
// limit.
func (s *Server) discardBody(w http.ResponseWriter, r *http.Request) error {
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, s.maxBody)); err != nil {
		return account.Errorf(account.ETOOLARGE, "The request body is larger than %d KiB.", s.maxBody>>10)
	}
	return nil
}

// Internal routes, called by cloud workers with X-Worker-Key.

func (s *Server) workerStart(w http.ResponseWriter, r *http.Request) error {
	if err := s.discardBody(w, r); err != nil {
		return err
	}
	if err := s.svc.StartJob(r.Context(), r.PathValue("user"), r.PathValue("job")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) workerCommit(w http.ResponseWriter, r *http.Request) error {
	if err := s.discardBody(w, r); err != nil {
		return err
	}
	if err := s.svc.CommitJob(r.Context(), r.PathValue("user"), r.PathValue("job")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) workerRefund(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := s.readJSON(w, r, &req, `{"reason": "colmap mapper failed"}`, true); err != nil {
		return err
	}
	if err := s.svc.RefundJob(r.Context(), r.PathValue("user"), r.PathValue("job"), req.Reason); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// postWebhook hands one Stripe delivery to the service. A delivery that
// fails verification is 400 (Stripe shows it in the dashboard and gives up);
// EUNAVAILABLE is 503, so Stripe retries it later.
func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		return account.Errorf(account.ETOOLARGE, "The event is larger than %d KiB.", maxWebhookBody>>10)
	}
	err = s.svc.HandleWebhook(r.Context(), body, r.Header.Get("Stripe-Signature"))
	switch account.ErrorCode(err) {
	case "":
		writeJSON(w, http.StatusOK, struct {
			Received bool `json:"received"`
		}{true})
		return nil
	case account.EUNAUTHORIZED:
		// Not 401: nothing about the request's credentials would help.
		return account.Errorf(account.EINVALID, "%s", account.ErrorMessage(err))
	}
	return err
}
