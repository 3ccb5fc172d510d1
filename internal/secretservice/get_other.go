//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package secretservice

// Supported says whether the keychain here is the Secret Service: it is
// not (macOS has its Keychain, Windows its Credential Manager).
const Supported = false

// BusMissing reports why the keychain's transport is missing; only the
// Secret Service needs a session bus.
func BusMissing() string { return "" }

// Get answers ErrUnusual here: the keychain is another one, which
// keyring reads with go-keyring.
func Get(service string, users ...string) ([]string, error) { return nil, ErrUnusual }

// Exclusive runs f: only the Secret Service needs its calls one at a
// time.
func Exclusive(f func() error) error { return f() }
