// Adapted from github.com/zitadel/oidc example/server/storage/client.go
// (Copyright zitadel, Apache License 2.0): the client model, reduced to the
// two clients of this test provider and given redirect-URI globs.

package oidcop

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// client is the storage model of an OAuth client; it implements op.Client
// and op.HasRedirectGlobs.
type client struct {
	id              string
	secret          string
	redirectURIs    []string
	redirectGlobs   []string
	applicationType op.ApplicationType
	authMethod      oidc.AuthMethod
	loginURL        func(string) string
	grantTypes      []oidc.GrantType
	accessTokenType op.AccessTokenType
	idTokenTTL      time.Duration
}

var (
	_ op.Client           = (*client)(nil)
	_ op.HasRedirectGlobs = (*client)(nil)
)

// loopbackGlobs accept any http loopback redirect URI, any port and path
// (RFC 8252, section 7.3). The port is digits only, so that
// http://127.0.0.1:1@evil.example/ does not match.
func loopbackGlobs() []string {
	d := "[0-9]"
	port := "{" + d + "," + d + d + "," + d + d + d + "," + d + d + d + d + "," + d + d + d + d + d + "}"
	var globs []string
	for _, host := range []string{"127.0.0.1", "localhost", `\[::1\]`} {
		globs = append(globs, "http://"+host+":"+port+"/**", "http://"+host+"/**")
	}
	return globs
}

func (c *client) GetID() string                    { return c.id }
func (c *client) RedirectURIs() []string           { return c.redirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.redirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return c.applicationType
}
func (c *client) AuthMethod() oidc.AuthMethod { return c.authMethod }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType        { return c.grantTypes }
func (c *client) LoginURL(id string) string           { return c.loginURL(id) }
func (c *client) AccessTokenType() op.AccessTokenType { return c.accessTokenType }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenTTL }

// DevMode is off: the library's checks for native and web clients apply.
func (c *client) DevMode() bool { return false }

func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed keeps every scope a client asks for (custom ones included),
// so tests see them echoed in the token answer.
func (c *client) IsScopeAllowed(string) bool { return true }

// IDTokenUserinfoClaimsAssertion puts the profile and email claims into the
// ID token even though an access token is issued too, as most providers do.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) RedirectURIGlobs() []string           { return c.redirectGlobs }
func (c *client) PostLogoutRedirectURIGlobs() []string { return c.redirectGlobs }
