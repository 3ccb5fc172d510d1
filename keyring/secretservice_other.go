//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keyring

import gokeyring "github.com/zalando/go-keyring"

// keychainGet reads the secret of service and user with go-keyring.
func keychainGet(service, user string) (string, error) {
	return gokeyring.Get(service, user)
}
