// Package testfs holds the file-system probes the tests of several
// packages share, so that a test of Unix behaviour on another system
// skips with one reason rather than failing or passing for nothing.
package testfs

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireSymlinks skips the test unless symbolic links can be made and
// are seen as links here. Windows makes them only with the privilege or
// developer mode, and Wine's os.Symlink reports success while making no
// link at all, so a test of how links are refused would pass for nothing.
func RequireSymlinks(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links cannot be made here (%v); the link checks run where they can", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skipf("os.Symlink reported success on %s but made no link (as under Wine); the link checks run where links exist", runtime.GOOS)
	}
}

// RequireUnixPermissions skips the test where file modes carry no Unix
// permission bits: Windows reports only the read-only attribute as a mode,
// and protects files with access control lists instead.
func RequireUnixPermissions(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no Unix permission bits (only the read-only attribute); access control lists protect files there")
	}
}
