//go:build !windows

package keyring

import "os"

// ephemeral is false: elsewhere than on Windows, an open file never stops
// a rename over it or its removal.
func ephemeral(error, bool) bool { return false }

// openShared is os.Open: an open file does not stop a rename over it here.
func openShared(path string) (*os.File, error) { return os.Open(path) }

// rename is os.Rename.
func rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
