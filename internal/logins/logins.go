// Package logins reads a login's record where oidc-auth-core reads it, for
// both stages of the small commands (internal/fast, internal/lean): the
// keychain, where it is the Secret Service, then the token file. It
// imports nothing heavy.
package logins

import (
	"time"

	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// Source is where oidc-auth-core reads the logins in an environment, as
// keyring.Open chooses: the keychain, then the token file, when Keychain
// is set (the keychain alone when File is ""), else the token file.
type Source struct {
	Keychain bool
	// File is the token file read, "" for none.
	File string
	// Locks is the token file beside which the logins' locks are (see
	// tokenfile.WaitForRefresh): File, or the default token file for the
	// keychain.
	Locks string
}

// Lookup reads the record of key as keyring's store does: from the
// keychain, where one is read (within wait, see secretservice.Record),
// and, with readFile, from the token file when the keychain holds no live
// record of key. ok is false for no record, and for a keychain that
// cannot be read (oidc-auth-core then decides).
func (src Source) Lookup(key string, wait time.Duration, readFile func(file, key string) (tokenrec.Record, bool)) (tokenrec.Record, bool) {
	if src.Keychain {
		rec, found, ok := secretservice.Record(secretservice.LoginService, key, wait)
		switch {
		case !ok:
			return tokenrec.Record{}, false
		case found && rec.Live(time.Now()):
			return rec, true
		case src.File == "":
			return tokenrec.Record{}, false
		}
	}
	return readFile(src.File, key)
}
