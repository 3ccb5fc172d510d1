package fast

import "github.com/oidc-auth/oidc-auth/internal/secretservice"

// keychainService is the keychain service of oidc-auth's logins.
const keychainService = secretservice.LoginService

// keychainWait bounds the read of the keychain (a variable, for tests;
// see secretservice.ReadWait).
var keychainWait = secretservice.ReadWait
