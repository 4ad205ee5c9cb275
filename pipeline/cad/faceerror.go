package cad

import "fmt"

// FaceError is an error about one face of a solid, such as Tessellate's
// for a face it cannot triangulate: Face indexes Solid.Faces. Assemble
// uses it to give up that face's region rather than the whole solid.
type FaceError struct {
	Face int
	Err  error
}

func (e *FaceError) Error() string { return fmt.Sprintf("cad: tessellate face %d: %v", e.Face, e.Err) }

func (e *FaceError) Unwrap() error { return e.Err }
