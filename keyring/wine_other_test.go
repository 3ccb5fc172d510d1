//go:build !windows

package keyring_test

// underWine is false: Wine runs Windows programs only.
func underWine() bool { return false }
