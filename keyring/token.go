package keyring

import "github.com/oidc-auth/oidc-auth/flows"

// Token is the token a store keeps (see flows.Token); the type lives in
// the flow core, which consumes it, so that a library user of the flow
// core does not pull in the keychain.
type Token = flows.Token

// Margins of the reference client (see flows.ValidityMargin).
const (
	ValidityMargin = flows.ValidityMargin
	StoreMargin    = flows.StoreMargin
)
