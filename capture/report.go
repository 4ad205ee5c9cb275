package capture

import (
	"encoding/json"
	"fmt"
)

// Severity says how much a problem matters.
type Severity int

// Severities, in increasing order. A set with any Fail is not ready.
const (
	OK Severity = iota
	Warn
	Fail
)

func (s Severity) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "fail"
}

// MarshalText writes the severity as "ok", "warn" or "fail".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads "ok", "warn" or "fail".
func (s *Severity) UnmarshalText(b []byte) error {
	switch string(b) {
	case "ok":
		*s = OK
	case "warn":
		*s = Warn
	case "fail":
		*s = Fail
	default:
		return fmt.Errorf("severity %q: want ok, warn or fail", b)
	}
	return nil
}

// Code identifies a kind of problem. Codes are stable: tools and the app
// branch on them, and the README lists them.
type Code string

// Problem codes.
const (
	CodeUnreadable     Code = "unreadable"      // the file is not a photo we can read
	CodeBlurry         Code = "blurry"          // out of focus or shaken
	CodeUnderexposed   Code = "underexposed"    // too dark
	CodeOverexposed    Code = "overexposed"     // too bright, highlights clipped
	CodeLowResolution  Code = "low-resolution"  // too few pixels for detail
	CodeDuplicate      Code = "duplicate"       // the camera did not move since the previous photo
	CodeNoFocal        Code = "no-focal-length" // EXIF has no focal length; a guess is used
	CodeGPS            Code = "gps"             // carries GPS position (stripped before upload)
	CodeTooFew         Code = "too-few-photos"  // fewer than the 20–50 guideline
	CodeTooMany        Code = "too-many-photos" // more than the guideline (slower, not wrong)
	CodeLighting       Code = "lighting-inconsistent"
	CodeWhiteBalance   Code = "white-balance-inconsistent"
	CodeFlashMixed     Code = "flash-mixed" // flash fired on some photos and not others
	CodeGap            Code = "gap"         // two consecutive photos do not overlap
	CodeIsolated       Code = "isolated"    // a photo overlaps no other one
	CodeWeakOverlap    Code = "weak-overlap"
	CodeLoopOpen       Code = "loop-open"    // the last photo does not overlap the first
	CodeCoverageGap    Code = "coverage-gap" // an arc around the part has no photo
	CodeCoverageUnsure Code = "coverage-unknown"
)

// Problem is one thing wrong with a photo or the set, with what to do about it.
type Problem struct {
	Code     Code     `json:"code"`
	Severity Severity `json:"severity"`
	// Photos names the photos concerned: one for a photo's problem, the two
	// that bound a gap, none for the set as a whole.
	Photos  []string `json:"photos,omitempty"`
	Message string   `json:"message"` // what is wrong, one line
	Fix     string   `json:"fix"`     // what to do, one line a maker understands
}

func (p Problem) String() string {
	return fmt.Sprintf("%s [%s] %s — %s", p.Severity, p.Code, p.Message, p.Fix)
}

// Arc is a range of azimuth around the part in degrees, counter-clockwise
// from From to To, measured from the direction of the first photo and
// increasing the way the photographer walked.
type Arc struct {
	From float64 `json:"from_deg"`
	To   float64 `json:"to_deg"`
}

// Width is the arc's extent in degrees.
func (a Arc) Width() float64 {
	w := a.To - a.From
	for w < 0 {
		w += 360
	}
	return w
}

// MarshalJSON keeps the report's figures readable.
func (a Arc) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		From float64 `json:"from_deg"`
		To   float64 `json:"to_deg"`
	}{round1(a.From), round1(a.To)})
}
