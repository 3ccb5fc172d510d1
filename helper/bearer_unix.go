//go:build !windows

package helper

import (
	"io/fs"
	"syscall"
)

// tempDir is where WLCG Bearer Token Discovery looks last: /tmp, whatever
// $TMPDIR says.
func tempDir() string { return "/tmp" }

// isWindows reports whether the file semantics are Windows'.
func isWindows() bool { return false }

// fileOwner returns the user id that owns fi.
func fileOwner(fi fs.FileInfo) (int, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}
