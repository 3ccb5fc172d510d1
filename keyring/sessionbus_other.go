//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keyring

// sessionBusMissing reports why the keychain's transport is missing; only
// the Secret Service needs a session bus.
func sessionBusMissing() string { return "" }
