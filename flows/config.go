// Package flows obtains OIDC tokens from py-oidc-auth servers: the device
// flow (RFC 8628), the authorization code flow with a loopback callback, and
// refresh, tied together by Authenticate.
//
// The API mirrors the reference Python client py-oidc-auth-client: Config,
// DeviceFlow, CodeFlow, Authenticate, and a TokenStore.
package flows

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Default routes of a py-oidc-auth server, relative to its host.
const (
	DefaultLoginRoute  = "/auth/v2/login"
	DefaultTokenRoute  = "/auth/v2/token"
	DefaultDeviceRoute = "/auth/v2/device"
)

// DefaultRedirectPorts are the loopback ports the code flow tries in order;
// identity providers whitelist exactly these redirect URIs.
var DefaultRedirectPorts = []int{53100, 53101, 53102, 53103, 53104, 53105}

// Config describes one py-oidc-auth server. The zero value with Host set is
// usable; every other field has a documented default.
type Config struct {
	// Host is the server URL, which may carry a path prefix
	// ("https://example.org/api/app"). A host without a scheme means https.
	Host string
	// LoginRoute is the browser entry point of the code flow; default
	// DefaultLoginRoute.
	LoginRoute string
	// TokenRoute polls the device flow, exchanges codes and refreshes;
	// default DefaultTokenRoute.
	TokenRoute string
	// DeviceRoute starts the device flow; default DefaultDeviceRoute.
	DeviceRoute string
	// RedirectPorts are the loopback ports the code flow tries in order;
	// default DefaultRedirectPorts.
	RedirectPorts []int
	// Timeout bounds one interactive login; default 5 minutes.
	Timeout time.Duration
	// RequestTimeout bounds one HTTP request; default 30 seconds.
	RequestTimeout time.Duration
	// HTTPClient sends the requests; default a client with RequestTimeout.
	// Whatever client is given, redirects are never followed: a flow uses
	// a copy whose CheckRedirect returns http.ErrUseLastResponse.
	HTTPClient *http.Client
	// AllowHTTP lets the flows talk plain http to a host that is not the
	// loopback interface. Tokens then cross the network in clear text, so
	// without it such a Host is refused before any request.
	AllowHTTP bool

	// Issuer names a standard OpenID Provider instead of a py-oidc-auth
	// Host ("https://keycloak.example.org/realms/x"); a Config names one
	// or the other. The provider is found by OpenID Connect Discovery.
	Issuer string
	// ClientID is the provider's client the login is made for; required
	// with Issuer.
	ClientID string
	// ClientSecret is the client's secret, for a confidential client; a
	// public (native) client has none.
	ClientSecret string
	// Scopes are asked of the provider; default DefaultScopes.
	Scopes []string
	// Audience asks for a token for another API, where the provider takes
	// RFC 8707's resource or the audience parameter (Keycloak, Auth0,
	// zitadel).
	Audience string
	// RedirectHost is the host of the code flow's loopback redirect URI
	// for a provider: "127.0.0.1" by default (RFC 8252 §7.3), "localhost"
	// where a provider's registration needs it. Without RedirectPorts a
	// provider's login listens on any free port.
	RedirectHost string
	// UsernameClaim is the ID token claim that names the user; default
	// DefaultUsernameClaim.
	UsernameClaim string
	// CacheDir keeps the providers' discovery documents for a day, so that
	// a cached token costs no request and a refresh exactly one; "" caches
	// nothing.
	CacheDir string
}

// isIssuer reports whether c names a standard provider.
func (c Config) isIssuer() bool { return c.Issuer != "" }

// Name is the server as people name it: the Host, or for a provider its
// issuer and client id.
func (c Config) Name() string {
	if c.isIssuer() {
		return c.Issuer + " (client " + c.ClientID + ")"
	}
	return c.Host
}

// LoginCommand is the command that logs in to the server c names.
func (c Config) LoginCommand() string {
	if c.isIssuer() {
		return "oidc-auth login --issuer " + c.Issuer + " --client-id " + c.ClientID
	}
	return "oidc-auth login " + c.Host
}

// withDefaults returns c with every unset field filled in.
func (c Config) withDefaults() Config {
	c.Host = WithScheme(c.Host)
	c.Issuer = strings.TrimSpace(c.Issuer)
	if c.Issuer != "" {
		if len(c.Scopes) == 0 {
			c.Scopes = DefaultScopes
		}
		if c.RedirectHost == "" {
			c.RedirectHost = "127.0.0.1"
		}
		if c.UsernameClaim == "" {
			c.UsernameClaim = DefaultUsernameClaim
		}
	}
	if c.LoginRoute == "" {
		c.LoginRoute = DefaultLoginRoute
	}
	if c.TokenRoute == "" {
		c.TokenRoute = DefaultTokenRoute
	}
	if c.DeviceRoute == "" {
		c.DeviceRoute = DefaultDeviceRoute
	}
	if len(c.RedirectPorts) == 0 && c.Issuer == "" {
		c.RedirectPorts = DefaultRedirectPorts
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = 30 * time.Second
	}
	client := &http.Client{Timeout: c.RequestTimeout}
	if c.HTTPClient != nil {
		*client = *c.HTTPClient
	}
	client.CheckRedirect = noRedirect
	if _, ok := client.Transport.(*retryTransport); !ok {
		base := client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		client.Transport = &retryTransport{base: &debugTransport{base: base}}
	}
	c.HTTPClient = client
	return c
}

// noRedirect makes a client return a redirect as the answer instead of
// following it (the standard library's own switch): a request carrying a
// secret goes to its URL only.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Check reports whether c describes a server the flows will talk to: a
// valid http(s) URL, plain http only on the loopback interface unless
// AllowHTTP, and redirect ports in range. Every flow checks this before
// its first request; callers that hand out a stored token without a
// request check it too, so that a server is refused the same way whether
// or not its token needs a refresh.
func (c Config) Check() error {
	return c.withDefaults().validate()
}

// validate checks the fields a flow cannot do without.
func (c Config) validate() error {
	switch {
	case c.Host != "" && c.Issuer != "":
		return fmt.Errorf("flows: give either a py-oidc-auth server (host) or an OpenID Provider (issuer and client id), not both")
	case c.Issuer != "" && c.ClientID == "":
		return fmt.Errorf("flows: the issuer %s needs a client id (--client-id)", terminalSafe(c.Issuer))
	case c.Host == "" && c.Issuer == "":
		return fmt.Errorf("flows: no server host given")
	}
	raw := c.Host
	if c.isIssuer() {
		raw = c.Issuer
		if c.RedirectHost != "127.0.0.1" && c.RedirectHost != "localhost" && c.RedirectHost != "[::1]" {
			return fmt.Errorf("flows: the redirect host %q is not loopback; use 127.0.0.1 or localhost", terminalSafe(c.RedirectHost))
		}
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("flows: %q is not a server URL; give one like https://auth.example.org", terminalSafe(raw))
	}
	if err := checkTransport(u, c.AllowHTTP); err != nil {
		return err
	}
	for _, p := range c.RedirectPorts {
		if p <= 0 || p > 65535 {
			return fmt.Errorf("flows: redirect port %d is out of range", p)
		}
	}
	return nil
}

// Endpoint joins Host and a route as the reference does: trailing "/"
// stripped from the host, "/" stripped from both ends of the route, joined
// with one "/". A host's path prefix is kept:
//
//	Config{Host: "https://h/api/app"}.Endpoint("/auth/v2/token") == "https://h/api/app/auth/v2/token"
func (c Config) Endpoint(route string) string {
	return strings.TrimRight(WithScheme(c.Host), "/") + "/" + strings.Trim(route, "/")
}

// Key returns the store key of the server (see the function Key).
func (c Config) Key() (string, error) {
	if c.isIssuer() {
		return IssuerKey(c.Issuer, c.ClientID)
	}
	return Key(c.Host)
}

// Server returns the settings to record with a token, leaving defaults out.
func (c Config) Server() *Server {
	if c.isIssuer() {
		d := c.withDefaults()
		s := &Server{Issuer: d.Issuer, ClientID: d.ClientID, ClientSecret: d.ClientSecret, Audience: d.Audience, RedirectPorts: d.RedirectPorts}
		if !slices.Equal(d.Scopes, DefaultScopes) {
			s.Scopes = d.Scopes
		}
		if d.RedirectHost != "127.0.0.1" {
			s.RedirectHost = d.RedirectHost
		}
		if d.UsernameClaim != DefaultUsernameClaim {
			s.UsernameClaim = d.UsernameClaim
		}
		return s
	}
	s := &Server{Host: strings.TrimRight(c.withDefaults().Host, "/")}
	if c.LoginRoute != DefaultLoginRoute {
		s.LoginRoute = c.LoginRoute
	}
	if c.TokenRoute != DefaultTokenRoute {
		s.TokenRoute = c.TokenRoute
	}
	if c.DeviceRoute != DefaultDeviceRoute {
		s.DeviceRoute = c.DeviceRoute
	}
	if !slices.Equal(c.RedirectPorts, DefaultRedirectPorts) {
		s.RedirectPorts = c.RedirectPorts
	}
	return s
}

// ConfigFromServer rebuilds the Config a token was obtained with.
func ConfigFromServer(s *Server) Config {
	return Config{
		Host:          s.Host,
		LoginRoute:    s.LoginRoute,
		TokenRoute:    s.TokenRoute,
		DeviceRoute:   s.DeviceRoute,
		RedirectPorts: s.RedirectPorts,
		Issuer:        s.Issuer,
		ClientID:      s.ClientID,
		ClientSecret:  s.ClientSecret,
		Scopes:        s.Scopes,
		Audience:      s.Audience,
		RedirectHost:  s.RedirectHost,
		UsernameClaim: s.UsernameClaim,
	}
}
