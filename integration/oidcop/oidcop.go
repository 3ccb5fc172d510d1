// Package oidcop is an in-process OpenID Provider for end-to-end tests,
// built on the certified library github.com/zitadel/oidc/v3 (pkg/op) and
// serving on 127.0.0.1 only.
//
// It has one user, TestUser, and two clients: PublicClientID, a native
// public client (authorization code with PKCE, device grant, refresh,
// revocation; client_id in the form, no secret, i.e. oauth2.AuthStyleInParams)
// and ConfidentialClientID, a web client with ConfidentialSecret (Basic auth
// or form). The login needs no form: the authorization endpoint redirects
// through /login straight back to the client's redirect URI with a code, so a
// browser that only follows redirects (integration/testbrowser) completes it.
// Likewise, GET of the device verification_uri_complete approves the device.
//
// Endpoints (relative to Issuer): DiscoveryPath, JWKSPath, AuthorizePath,
// TokenPath, DeviceAuthorizationPath, RevocationPath, UserinfoPath,
// IntrospectionPath, EndSessionPath, LoginPath, DeviceVerificationPath.
//
// Hooks for tests: ApproveDevice, DenyDevice, AutoApproveDevices,
// InjectSlowDown, DetectRefreshReuse, RevokeRefreshTokens, Counts, the Last*
// recorders, and Options.Wrap / SetWrap to turn the provider hostile.
package oidcop

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// The clients and the user of every Provider.
const (
	// PublicClientID is the native public client: authorization code with
	// PKCE (required), device grant, refresh and revocation; no secret, the
	// client_id goes in the form (oauth2.AuthStyleInParams).
	PublicClientID = "oidc-auth-public"
	// ConfidentialClientID is the web client with ConfidentialSecret:
	// authorization code (PKCE optional), device grant, refresh.
	ConfidentialClientID = "oidc-auth-confidential"
	// ConfidentialSecret is ConfidentialClientID's secret, accepted by HTTP
	// Basic auth or in the form.
	ConfidentialSecret = "oidc-auth-confidential-secret"

	// TestUser is the preferred_username of the one user.
	TestUser = "jane"
	// TestPassword is TestUser's password (Options.ManualLogin's form).
	TestPassword = "jane-password"
	// TestEmail is TestUser's email (email_verified is true).
	TestEmail = "jane@example.org"
	// TestSubject is TestUser's sub claim.
	TestSubject = "user-jane-0001"
	// TestName is TestUser's name claim (given_name Jane, family_name Doe).
	TestName = "Jane Doe"
)

// Paths of the endpoints, relative to the issuer.
const (
	// DiscoveryPath is the OpenID Provider metadata.
	DiscoveryPath = oidc.DiscoveryEndpoint // "/.well-known/openid-configuration"
	// JWKSPath is the jwks_uri.
	JWKSPath = "/keys"
	// AuthorizePath is the authorization_endpoint.
	AuthorizePath = "/authorize"
	// AuthorizeCallbackPath is where the login UI returns to.
	AuthorizeCallbackPath = "/authorize/callback"
	// TokenPath is the token_endpoint.
	TokenPath = "/oauth/token"
	// DeviceAuthorizationPath is the device_authorization_endpoint (RFC 8628).
	DeviceAuthorizationPath = "/device_authorization"
	// RevocationPath is the revocation_endpoint (RFC 7009).
	RevocationPath = "/revoke"
	// UserinfoPath is the userinfo_endpoint.
	UserinfoPath = "/userinfo"
	// IntrospectionPath is the introspection_endpoint (RFC 7662).
	IntrospectionPath = "/oauth/introspect"
	// EndSessionPath is the end_session_endpoint.
	EndSessionPath = "/end_session"
	// LoginPath is the login UI the authorization endpoint redirects to.
	LoginPath = "/login"
	// DeviceVerificationPath is the device flow's verification_uri.
	DeviceVerificationPath = "/device"
)

// Options configures a Provider; the zero value works.
type Options struct {
	// AccessTTL, RefreshTTL and IDTokenTTL are the token lifetimes;
	// defaults 5m, 1h and 5m. A refresh token's lifetime starts anew when
	// it is rotated.
	AccessTTL, RefreshTTL, IDTokenTTL time.Duration
	// DeviceInterval is the device flow's poll interval; default 1s. The
	// answer carries whole seconds, so less than 1s is sent as 0, which
	// clients read as 5s.
	DeviceInterval time.Duration
	// DeviceCodeTTL is how long a device authorization can be approved;
	// default 5m.
	DeviceCodeTTL time.Duration

	// RedirectURIs the clients accept. Default: any http loopback URI,
	// http://127.0.0.1[:port]/..., http://localhost[:port]/... and
	// http://[::1][:port]/... (RFC 8252, section 7.3: any port). When set,
	// only these (for the public client, a loopback one with any port).
	RedirectURIs []string

	// IssuerPath, such as "/realms/test", makes the issuer
	// http://127.0.0.1:PORT/realms/test; the endpoints move under it.
	IssuerPath string

	// ManualLogin replaces the automatic login with a username and password
	// form (TestUser, TestPassword) and the device verification page with a
	// form that asks to allow or deny; prompt=none then answers
	// login_required.
	ManualLogin bool
	// NoSession makes prompt=none answer login_required, as if the browser
	// had no session; otherwise TestUser counts as logged in.
	NoSession bool
	// NoRotation keeps refresh tokens: a refresh answer then has no
	// refresh_token and the old refresh token stays valid.
	NoRotation bool
	// JWTAccessTokens issues RS256 JWT access tokens instead of opaque ones.
	JWTAccessTokens bool

	// Wrap, if set, wraps the provider's handler (see Provider.SetWrap).
	Wrap func(http.Handler) http.Handler
}

// withDefaults returns o with its zero durations set.
func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.AccessTTL, 5*time.Minute)
	def(&o.RefreshTTL, time.Hour)
	def(&o.IDTokenTTL, 5*time.Minute)
	def(&o.DeviceInterval, time.Second)
	def(&o.DeviceCodeTTL, 5*time.Minute)
	if o.IssuerPath != "" {
		o.IssuerPath = "/" + strings.Trim(o.IssuerPath, "/")
		if o.IssuerPath == "/" {
			o.IssuerPath = ""
		}
	}
	return o
}

// Provider is a running OpenID Provider.
type Provider struct {
	opts    Options
	srv     *httptest.Server
	issuer  string
	op      *op.Provider
	storage *storage
	core    http.Handler
	wrapped atomic.Pointer[http.Handler]

	mu             sync.Mutex
	counts         map[string]int
	lastAuthorize  url.Values
	lastToken      url.Values
	lastDeviceAuth url.Values
	slowDown       int
}

// Start starts a Provider on 127.0.0.1 (a free port); it is closed when
// the test ends.
func Start(t testing.TB, opts Options) *Provider {
	t.Helper()
	p, err := start(opts)
	if err != nil {
		t.Fatalf("oidcop: %v", err)
	}
	t.Cleanup(p.Close)
	return p
}

func start(opts Options) (*Provider, error) {
	opts = opts.withDefaults()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p := &Provider{opts: opts, counts: make(map[string]int)}
	p.srv = httptest.NewUnstartedServer(http.HandlerFunc(p.serve))
	p.issuer = "http://" + p.srv.Listener.Addr().String() + opts.IssuerPath

	loginURL := func(id string) string {
		return opts.IssuerPath + LoginPath + "?authRequestID=" + url.QueryEscape(id)
	}
	var globs []string
	if len(opts.RedirectURIs) == 0 {
		globs = loopbackGlobs()
	}
	accessType := op.AccessTokenTypeBearer
	if opts.JWTAccessTokens {
		accessType = op.AccessTokenTypeJWT
	}
	clients := map[string]*client{
		PublicClientID: {
			id:              PublicClientID,
			redirectURIs:    opts.RedirectURIs,
			redirectGlobs:   globs,
			applicationType: op.ApplicationTypeNative,
			authMethod:      oidc.AuthMethodNone,
			loginURL:        loginURL,
			grantTypes:      []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode},
			accessTokenType: accessType,
			idTokenTTL:      opts.IDTokenTTL,
		},
		ConfidentialClientID: {
			id:              ConfidentialClientID,
			secret:          ConfidentialSecret,
			redirectURIs:    opts.RedirectURIs,
			redirectGlobs:   globs,
			applicationType: op.ApplicationTypeWeb,
			authMethod:      oidc.AuthMethodBasic,
			loginURL:        loginURL,
			grantTypes:      []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken, oidc.GrantTypeDeviceCode},
			accessTokenType: accessType,
			idTokenTTL:      opts.IDTokenTTL,
		},
	}
	p.storage = newStorage(opts, key, clients)

	var cryptoKey [32]byte
	rand.Read(cryptoKey[:])
	config := &op.Config{
		CryptoKey:                cryptoKey,
		CryptoKeyId:              "oidcop",
		DefaultLogoutRedirectURI: opts.IssuerPath + "/logged-out",
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		GrantTypeRefreshToken:    true,
		SupportedUILocales:       []language.Tag{language.English},
		DeviceAuthorization: op.DeviceAuthorizationConfig{
			Lifetime:     opts.DeviceCodeTTL,
			PollInterval: opts.DeviceInterval,
			UserFormPath: opts.IssuerPath + DeviceVerificationPath,
			UserCode:     op.UserCodeBase20,
		},
	}
	p.op, err = op.NewProvider(config, p.storage, op.StaticIssuer(p.issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	issuerCtx := op.NewIssuerInterceptor(p.op.IssuerFromRequest)
	mux.Handle(LoginPath, issuerCtx.HandlerFunc(p.login))
	mux.HandleFunc(DeviceVerificationPath, p.deviceVerification)
	mux.HandleFunc("/logged-out", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "signed out")
	})
	mux.Handle("/", p.op)
	p.core = p.hooks(mux)
	p.SetWrap(opts.Wrap)
	p.srv.Start()
	return p, nil
}

// Issuer returns the issuer URL, http://127.0.0.1:PORT plus
// Options.IssuerPath, without a trailing slash.
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the server at once (a provider that went away); Start's
// cleanup calls it too.
func (p *Provider) Close() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// Handler returns the provider's own handler, with the InjectSlowDown hook
// but without Options.Wrap, counting or recording. It takes paths relative
// to the issuer. Served elsewhere it answers with Issuer() all the same,
// which is itself an issuer mismatch.
func (p *Provider) Handler() http.Handler { return p.core }

// SetWrap replaces Options.Wrap while the provider runs: requests then go
// to wrap(Handler()), or to Handler() itself for nil. Wrappers see paths
// relative to the issuer (compare with DiscoveryPath etc.); they can answer
// themselves to make hostile variants (discovery without an endpoint, wrong
// issuer, HTML, unreachable JWKS, bad signature). Counts and the Last*
// recorders see every request, answered by the wrapper or not.
func (p *Provider) SetWrap(wrap func(http.Handler) http.Handler) {
	h := p.core
	if wrap != nil {
		h = wrap(p.core)
	}
	p.wrapped.Store(&h)
}

// serve strips the issuer path, counts and records, then hands over to the
// (wrapped) handler.
func (p *Provider) serve(w http.ResponseWriter, r *http.Request) {
	if prefix := p.opts.IssuerPath; prefix != "" {
		rest, ok := strings.CutPrefix(r.URL.Path, prefix)
		if !ok || rest != "" && rest[0] != '/' {
			http.NotFound(w, r)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		r2.URL = new(url.URL)
		*r2.URL = *r.URL
		r2.URL.Path = rest
		r2.URL.RawPath = ""
		r = r2
	}
	name := endpointName(r.URL.Path)
	var form url.Values
	switch name {
	case "authorize", "token", "device_authorization":
		_ = r.ParseForm() // the library's own ParseForm is then a no-op
		form = cloneValues(r.Form)
	}
	if name == "token" {
		name += ":" + r.Form.Get("grant_type")
	}
	p.mu.Lock()
	p.counts[name]++
	switch {
	case name == "authorize":
		p.lastAuthorize = form
	case strings.HasPrefix(name, "token:"):
		p.lastToken = form
	case name == "device_authorization":
		p.lastDeviceAuth = form
	}
	p.mu.Unlock()
	(*p.wrapped.Load()).ServeHTTP(w, r)
}

// endpointName names a path for Counts.
func endpointName(path string) string {
	switch path {
	case DiscoveryPath:
		return "discovery"
	case JWKSPath:
		return "jwks"
	case AuthorizePath:
		return "authorize"
	case AuthorizeCallbackPath:
		return "authorize_callback"
	case TokenPath:
		return "token"
	case DeviceAuthorizationPath:
		return "device_authorization"
	case RevocationPath:
		return "revocation"
	case UserinfoPath:
		return "userinfo"
	case IntrospectionPath:
		return "introspection"
	case EndSessionPath:
		return "end_session"
	case LoginPath:
		return "login"
	case DeviceVerificationPath:
		return "device_verification"
	}
	return "other"
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// hooks answers what the library never sends: slow_down.
func (p *Provider) hooks(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == TokenPath && r.Method == http.MethodPost {
			_ = r.ParseForm()
			if r.PostForm.Get("grant_type") == string(oidc.GrantTypeDeviceCode) && p.takeSlowDown() {
				writeOAuthError(w, http.StatusBadRequest, "slow_down", "polling too fast (oidcop.InjectSlowDown)")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (p *Provider) takeSlowDown() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.slowDown <= 0 {
		return false
	}
	p.slowDown--
	return true
}

// writeOAuthError writes an RFC 6749 section 5.2 error answer.
func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// ApproveDevice approves the pending device authorization of userCode as
// TestUser, as the user would in a browser; the next poll gets tokens.
// The code is compared without case, dashes or spaces.
func (p *Provider) ApproveDevice(userCode string) error { return p.storage.approveDevice(userCode) }

// DenyDevice denies the pending device authorization of userCode; the next
// poll answers access_denied.
func (p *Provider) DenyDevice(userCode string) error { return p.storage.denyDevice(userCode) }

// LastUserCode returns the user code of the latest device authorization,
// or "" before the first.
func (p *Provider) LastUserCode() string {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	return p.storage.lastUserCode
}

// AutoApproveDevices makes every pending device authorization approved as
// TestUser at its next poll: that poll still answers
// authorization_pending, the one after it gets tokens.
func (p *Provider) AutoApproveDevices(on bool) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.autoApprove = on
}

// Counts returns how many requests each endpoint got, by name: "discovery",
// "jwks", "authorize", "authorize_callback", "login", "token:GRANT_TYPE"
// (such as "token:authorization_code", "token:refresh_token",
// "token:urn:ietf:params:oauth:grant-type:device_code"; also under the short
// name "token:device_code"), "device_authorization", "device_verification",
// "revocation", "userinfo", "introspection", "end_session" and "other".
func (p *Provider) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.counts)+1)
	for k, v := range p.counts {
		c[k] = v
	}
	if n := c["token:"+string(oidc.GrantTypeDeviceCode)]; n > 0 {
		c["token:device_code"] = n
	}
	return c
}

// ResetCounts sets every count to zero.
func (p *Provider) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
}

// LastAuthorizeQuery returns the parameters of the latest authorization
// request (audience, resource, prompt, nonce... as sent).
func (p *Provider) LastAuthorizeQuery() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastAuthorize)
}

// LastTokenForm returns the form of the latest token request, secrets
// included (HTTP Basic credentials are not in it).
func (p *Provider) LastTokenForm() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastToken)
}

// LastDeviceAuthorizationForm returns the form of the latest device
// authorization request.
func (p *Provider) LastDeviceAuthorizationForm() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastDeviceAuth)
}

// RefreshTokenValid reports whether the refresh token rt would be accepted
// now (not rotated away, revoked or expired).
func (p *Provider) RefreshTokenValid(rt string) bool { return p.storage.refreshTokenValid(rt) }

// RevokeRefreshTokens revokes every refresh token, as an administrator
// would; access tokens stay valid until they expire.
func (p *Provider) RevokeRefreshTokens() { p.storage.revokeAllRefreshTokens() }

// InjectSlowDown makes the next n device-code token requests answer
// slow_down (RFC 8628, section 3.5) instead of going to the library.
func (p *Provider) InjectSlowDown(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slowDown = n
}

// DetectRefreshReuse turns on reuse detection: a refresh token that was
// already rotated away answers invalid_grant (as it always does) and also
// revokes its family, i.e. the refresh token that replaced it and the access
// tokens issued with them.
func (p *Provider) DetectRefreshReuse(on bool) {
	p.storage.mu.Lock()
	defer p.storage.mu.Unlock()
	p.storage.detectReuse = on
}
