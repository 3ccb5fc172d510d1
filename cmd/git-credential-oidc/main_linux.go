package main

import "github.com/oidc-auth/oidc-auth/internal/lean"

// On Linux the command is internal/lean, a first stage that links no os:
// what it has not seen oidc-auth-core answer, it hands to the core, which
// answers as internal/fast does.
func main() { lean.Run("git-credential-oidc") }
