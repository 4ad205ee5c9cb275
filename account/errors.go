package account

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status; the message of an
// *Error is for the user, anything else is logged and shown as "internal
// error".
const (
	ECONFLICT     = "conflict"     // 409: the email is taken, the job was already committed
	EINTERNAL     = "internal"     // 500
	EINVALID      = "invalid"      // 400: bad input
	ENOTFOUND     = "not_found"    // 404: also what another user's data looks like
	EUNAUTHORIZED = "unauthorized" // 401: no, wrong or revoked token
	EQUOTA        = "quota"        // 402: no cloud models left this period
	EPAYMENT      = "payment"      // 402: no plan that allows cloud processing
	ERATELIMIT    = "rate_limited" // 429
	EUNAVAILABLE  = "unavailable"  // 503: billing is not configured or Stripe is unreachable
	ETOOLARGE     = "too_large"    // 413
	EFORBIDDEN    = "forbidden"    // 403: a page form whose CSRF token or Origin is wrong
)

// Error is an error the user may read: Code says what kind, Message what to
// do about it (wtf's error.go).
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("account: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the *Error in err's chain, EINTERNAL for any
// other error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of the *Error in err's chain,
// "Internal error." for any other error and "" for nil.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Message
	}
	return "Internal error."
}
