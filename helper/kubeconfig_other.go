//go:build !unix

package helper

import (
	"io/fs"
	"os"
)

// fileOwner reports no owner: Windows files have ACLs, not a uid.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

// openNoFollow opens path for reading; the caller has checked with Lstat
// that it is no link.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
