package mvs

import "errors"

// Kinds of input that dense reconstruction cannot work with; an *InputError
// wraps one of them, so callers can branch with errors.Is.
var (
	// ErrTooFewViews: fewer than two registered photos.
	ErrTooFewViews = errors.New("too few views")
	// ErrNoOverlap: no view has a neighbour that sees the same surface.
	ErrNoOverlap = errors.New("no overlapping views")
	// ErrNoTexture: no pixel has the texture matching needs.
	ErrNoTexture = errors.New("no texture")
	// ErrNoSurface: depth maps were made but no view confirms another.
	ErrNoSurface = errors.New("no surface found")
)

// An InputError is a problem with the photos or the sparse model rather than
// with the program: Msg says what is wrong for the log and the maker, Hint
// what to do about it. It satisfies pipeline.Hinted.
type InputError struct {
	Kind error  // one of ErrTooFewViews, ErrNoOverlap, ErrNoTexture, ErrNoSurface
	Msg  string // e.g. "dense reconstruction needs at least 2 registered photos; the model has 1"
	Hint string // e.g. "Add 10 or more overlapping photos"
}

func (e *InputError) Error() string { return "mvs: " + e.Msg }

// Unwrap returns the kind, so that errors.Is(err, ErrNoTexture) works.
func (e *InputError) Unwrap() error { return e.Kind }

// ActionHint returns advice for the maker.
func (e *InputError) ActionHint() string { return e.Hint }
