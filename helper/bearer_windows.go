//go:build windows

package helper

import (
	"io/fs"
	"os"
)

// tempDir is the user's temporary directory: Windows has no shared /tmp.
func tempDir() string { return os.TempDir() }

// isWindows reports whether the file semantics are Windows'.
func isWindows() bool { return true }

// fileOwner is not checked on Windows, where the user's temporary
// directory is the user's own.
func fileOwner(fs.FileInfo) (int, bool) { return 0, false }
