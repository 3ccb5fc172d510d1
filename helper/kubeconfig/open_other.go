//go:build !unix

package kubeconfig

import (
	"io/fs"
	"os"
)

// openNoFollow opens path for reading; the caller has checked with Lstat
// that it is no link.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }

// fileOwner reports no owner: the file's owner is not a Unix user id here.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
