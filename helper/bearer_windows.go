//go:build windows

package helper

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// tempDir is the user's temporary directory: Windows has no shared /tmp.
func tempDir() string { return os.TempDir() }

// isWindows reports whether the file semantics are Windows'.
func isWindows() bool { return true }

// fileOwner is not checked on Windows, where the user's temporary
// directory is the user's own.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }

// rename replaces newpath by oldpath, retrying for a moment while a reader
// holds newpath open (as Go's cmd/go/internal/robustio does).
func rename(oldpath, newpath string) error {
	var err error
	for i := 0; i < 20; i++ {
		if err = os.Rename(oldpath, newpath); err == nil {
			return nil
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) || (errno != 5 && errno != 32) { // ERROR_ACCESS_DENIED, ERROR_SHARING_VIOLATION
			return err
		}
		time.Sleep(time.Duration(i+1) * 10 * time.Millisecond)
	}
	return err
}
