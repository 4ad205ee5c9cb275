package mesh

// A FormatError reports input that is not a valid file of its format, or
// that exceeds one of the readers' limits. Err, when set, is the cause, such
// as io.ErrUnexpectedEOF for a truncated file.
type FormatError struct {
	Format string // "stl", "ply" or "3mf"
	Msg    string // what is wrong and where, e.g. "vertex 12: non-finite coordinate"
	Err    error  // cause, or nil
}

// Error returns "format: message", then ": cause" when there is one.
func (e *FormatError) Error() string {
	s := e.Format + ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *FormatError) Unwrap() error { return e.Err }
