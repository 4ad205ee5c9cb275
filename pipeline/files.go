package pipeline

import (
	"errors"
	"io"
	"os"
)

// CopyFile copies src to dst (created or truncated, mode 0644). A failed
// copy, a full disk say, removes the partial dst.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return errors.Join(err, os.Remove(dst))
	}
	if err := out.Close(); err != nil {
		return errors.Join(err, os.Remove(dst))
	}
	return nil
}

// FileExists reports whether path names a regular file (following links).
func FileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
