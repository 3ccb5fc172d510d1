package fast

import (
	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/internal/tokenrec"
)

// keychainService is the keychain service of oidc-auth's logins.
const keychainService = secretservice.LoginService

// keychainWait bounds the read of the keychain (a variable, for tests).
var keychainWait = secretservice.ReadWait

// keychainRecord reads the record of key from the keychain as keyring's
// KeychainStore reads it (see secretservice.Record).
func keychainRecord(key string) (rec tokenrec.Record, found, ok bool) {
	return secretservice.Record(keychainService, key, keychainWait)
}
