//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keyring

import (
	"errors"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/oidc-auth/oidc-auth/internal/secretservice"
)

// keychainGet reads the secret of service and user from the Secret
// Service in two round trips where go-keyring takes seven (see
// internal/secretservice, which the small commands read the keychain
// with too); every case it does not read itself (a locked item, an item
// in another collection, a Secret Service that refuses the calls) goes to
// go-keyring's Get, which unlocks and prompts as it always does.
func keychainGet(service, user string) (string, error) {
	v, err := secretservice.Get(service, user)
	switch {
	case err == nil:
		return v[0], nil
	case errors.Is(err, secretservice.ErrNotFound):
		return "", gokeyring.ErrNotFound
	case errors.Is(err, secretservice.ErrUnusual):
		return gokeyring.Get(service, user)
	}
	return "", err
}
