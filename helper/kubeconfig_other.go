//go:build !unix

package helper

import "os"

// openNoFollow opens path for reading; the caller has checked with Lstat
// that it is no link.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
