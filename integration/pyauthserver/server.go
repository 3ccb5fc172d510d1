// Package pyauthserver is an authorization server for tests that speaks the
// wire protocol of py-oidc-auth servers, including the identity provider
// that such a server fronts.
//
// A py-oidc-auth server is a proxy in front of an OpenID Connect provider. It
// offers a device flow (RFC 8628), a browser code flow with PKCE (RFC 7636)
// whose verifier the server packs into the state, and a refresh grant, all on
// a small set of routes below an optional path prefix. Form fields are
// hyphenated where the real servers hyphenate them (device-code,
// refresh-token), and every error body is {"detail": …}: upstream errors embed
// the provider's raw JSON as a string, FastAPI validation errors are a list,
// Flask answers 404 with an empty string and 405 with an HTML page.
//
// The embedded provider lives below {prefix}/idp: an authorize endpoint that
// redirects at once to the redirect_uri with a code (or a planned error), a
// device verification page that approves a user code, and a logout page.
//
// Each Server is independent and safe for concurrent use, so parallel tests
// may each start their own.
package pyauthserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Route names accepted by Count and Override.
const (
	// RouteDevice is POST {prefix}/auth/v2/device, the start of the device flow.
	RouteDevice = "device"
	// RouteToken is POST {prefix}/auth/v2/token: device polls, code exchange and refresh.
	RouteToken = "token"
	// RouteLogin is GET {prefix}/auth/v2/login, the browser entry of the code flow.
	RouteLogin = "login"
	// RouteLogout is GET {prefix}/auth/v2/logout, the browser logout.
	RouteLogout = "logout"
	// RouteUserinfo is GET {prefix}/auth/v2/userinfo.
	RouteUserinfo = "userinfo"
	// RouteAuthPorts is GET {prefix}/auth/v2/auth-ports.
	RouteAuthPorts = "auth-ports"
	// RouteAuthorize is GET {prefix}/idp/authorize, the provider's authorization endpoint.
	RouteAuthorize = "authorize"
	// RouteVerify is GET {prefix}/idp/device, the provider's device verification page.
	RouteVerify = "verify"
	// RouteIdPLogout is GET {prefix}/idp/logout, the provider's end-session page.
	RouteIdPLogout = "idp-logout"

	// CountTokenDevice is the Count key of token-route requests carrying device-code.
	CountTokenDevice = "token:device"
	// CountTokenRefresh is the Count key of token-route requests carrying refresh-token.
	CountTokenRefresh = "token:refresh"
	// CountTokenCode is the Count key of token-route requests carrying code.
	CountTokenCode = "token:code"
)

// Scope is the scope string of every token response.
const Scope = "openid profile email offline_access"

// ClientID is the client_id the server presents to its embedded provider.
const ClientID = "py-oidc-auth"

// maxBody bounds the request bodies the server reads.
const maxBody = 1 << 20

// Flavor selects the web framework whose error shapes and redirect status the
// server imitates.
type Flavor int

const (
	// FastAPI answers 404 {"detail":"Not Found"}, 405 {"detail":"Method Not Allowed"},
	// 422 {"detail":[…validation objects…]} and redirects the login with 307.
	FastAPI Flavor = iota
	// Flask answers 404 {"detail":""}, 405 with Werkzeug's HTML page and
	// redirects the login with 302.
	Flask
)

// String returns the flavor's name.
func (f Flavor) String() string {
	if f == Flask {
		return "flask"
	}
	return "fastapi"
}

// UserInfo is the body of the userinfo route.
type UserInfo struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	PwName    string `json:"pw_name"`
}

// Options configures a Server; the zero value is a working server with default routes.
type Options struct {
	// Prefix is the path prefix of all routes, e.g. "/api/app"; "" means none.
	// Slashes at either end are normalised.
	Prefix string
	// Broker selects broker mode: access_token and refresh_token are the same
	// server-made JWT; a refresh accepts an expired broker token as long as its
	// session lives and rotates it; a failed refresh answers 401
	// {"detail":"Session expired or not found. Please re-authenticate."}.
	// Otherwise the server is in passthrough mode: opaque, distinct tokens,
	// single-use rotating refresh tokens and 400 upstream errors.
	Broker bool
	// Flavor selects FastAPI (the default) or Flask error shapes.
	Flavor Flavor
	// AccessTTL is the lifetime of access tokens; "expires" is now+AccessTTL
	// in absolute Unix seconds. Default 5m.
	AccessTTL time.Duration
	// RefreshTTL is the lifetime of refresh tokens (broker sessions);
	// "refresh_expires" is now+RefreshTTL. Default 30m.
	RefreshTTL time.Duration
	// Interval is the device poll interval in seconds sent to clients. Default 5.
	Interval int
	// DeviceExpiresIn is the device code lifetime in seconds. Default 600.
	DeviceExpiresIn int
	// DeviceStatus, when non-zero, makes the device route answer this status
	// (404, 405, 501, 503, …) in the flavor's error shape: a server without
	// device flow.
	DeviceStatus int
	// Now is the clock for token and device-code lifetimes. Default time.Now.
	Now func() time.Time
	// TokenTypeLower sends token_type "bearer" as Dex does instead of "Bearer".
	TokenTypeLower bool
	// User is the userinfo answer. Default: Jane Doe, username "janedoe".
	User UserInfo
	// ValidPorts is the auth-ports answer. Default 53100–53105.
	ValidPorts []int
	// StrictRedirect makes the provider accept only the redirect URIs a real
	// client registration whitelists, http://localhost:{p}/callback with p in
	// ValidPorts, answering others with a 400 HTML page instead of a redirect.
	StrictRedirect bool
	// IdleTimeout, when positive, is how long the server keeps an idle
	// keep-alive connection open before closing it (http.Server.IdleTimeout),
	// as uvicorn closes idle connections after 5 s. Zero keeps net/http's
	// default: idle connections stay open.
	IdleTimeout time.Duration
	// ConnContext, when set, is the http.Server's ConnContext: it may derive
	// the context of every request arriving on connection c from ctx, e.g. to
	// attach per-connection state. Nil leaves the context alone.
	ConnContext func(ctx context.Context, c net.Conn) context.Context
	// Wrap, when set, wraps the server's handler: every request passes
	// through the handler it returns before the server counts, overrides or
	// answers it, and calling next gives the server's own answer. Nil serves
	// the server's handler directly.
	Wrap func(next http.Handler) http.Handler
}

// withDefaults returns o with every unset field given its documented default.
func (o Options) withDefaults() Options {
	o.Prefix = strings.Trim(o.Prefix, "/")
	if o.Prefix != "" {
		o.Prefix = "/" + o.Prefix
	}
	if o.AccessTTL <= 0 {
		o.AccessTTL = 5 * time.Minute
	}
	if o.RefreshTTL <= 0 {
		o.RefreshTTL = 30 * time.Minute
	}
	if o.Interval <= 0 {
		o.Interval = 5
	}
	if o.DeviceExpiresIn <= 0 {
		o.DeviceExpiresIn = 600
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.User == (UserInfo{}) {
		o.User = UserInfo{
			Username:  "janedoe",
			FirstName: "Jane",
			LastName:  "Doe",
			Email:     "jane.doe@example.org",
			PwName:    "janedoe",
		}
	}
	if len(o.ValidPorts) == 0 {
		o.ValidPorts = []int{53100, 53101, 53102, 53103, 53104, 53105}
	} else {
		o.ValidPorts = append([]int(nil), o.ValidPorts...)
	}
	return o
}

// Server is a py-oidc-auth compatible authorization server listening on the
// loopback interface.
type Server struct {
	opts Options
	ts   *httptest.Server
	base string // scheme://host:port + prefix
	key  []byte // HMAC key of broker JWTs

	mu             sync.Mutex
	counts         map[string]int
	overrides      map[string]http.HandlerFunc
	plans          []DevicePlan
	devices        map[string]*deviceAuth // by device code
	userCodes      map[string]*deviceAuth // by normalised user code
	lastDevice     *deviceAuth
	codes          map[string]*authCode
	idpErr         *idpError
	lastLoginQuery url.Values
	lastTokenForm  url.Values
	access         map[string]*accessGrant
	refresh        map[string]*refreshGrant
	loginSecrets   []string // states and PKCE verifiers of code-flow logins
}

// New starts a plain-HTTP server on 127.0.0.1 with a random port. Call Close
// when done.
func New(opts Options) *Server {
	return start(opts, false)
}

// NewTLS starts an HTTPS server on 127.0.0.1 with a random port and a
// self-signed certificate; Client trusts it and CertPEM exports it. Call
// Close when done.
func NewTLS(opts Options) *Server {
	return start(opts, true)
}

// Start is New for tests: the server is closed when tb's test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := New(opts)
	tb.Cleanup(s.Close)
	return s
}

// StartTLS is NewTLS for tests: the server is closed when tb's test ends.
func StartTLS(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := NewTLS(opts)
	tb.Cleanup(s.Close)
	return s
}

func start(opts Options, useTLS bool) *Server {
	s := &Server{
		opts:      opts.withDefaults(),
		key:       make([]byte, 32),
		counts:    make(map[string]int),
		overrides: make(map[string]http.HandlerFunc),
		devices:   make(map[string]*deviceAuth),
		userCodes: make(map[string]*deviceAuth),
		codes:     make(map[string]*authCode),
		access:    make(map[string]*accessGrant),
		refresh:   make(map[string]*refreshGrant),
	}
	rand.Read(s.key)
	var h http.Handler = http.HandlerFunc(s.serve)
	if s.opts.Wrap != nil {
		h = s.opts.Wrap(h)
	}
	s.ts = httptest.NewUnstartedServer(h)
	if s.opts.IdleTimeout > 0 {
		s.ts.Config.IdleTimeout = s.opts.IdleTimeout
	}
	s.ts.Config.ConnContext = s.opts.ConnContext
	scheme := "http://"
	if useTLS {
		scheme = "https://"
	}
	s.base = scheme + s.ts.Listener.Addr().String() + s.opts.Prefix
	if useTLS {
		s.ts.StartTLS()
	} else {
		s.ts.Start()
	}
	return s
}

// URL returns the base URL including the prefix, e.g. http://127.0.0.1:1234/api/app.
func (s *Server) URL() string { return s.base }

// Close shuts the server down, waiting for outstanding requests.
func (s *Server) Close() { s.ts.Close() }

// Client returns an HTTP client for the server; for a NewTLS server it trusts
// the server's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// CertPEM returns the PEM-encoded certificate of a NewTLS server, for a CA
// file handed to programs under test (SSL_CERT_FILE); nil for a plain server.
func (s *Server) CertPEM() []byte {
	c := s.ts.Certificate()
	if c == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

// Count returns how many requests the route has seen: a Route* name, or one of
// the finer token counters CountTokenDevice, CountTokenRefresh, CountTokenCode.
// Requests are counted before overrides and method checks apply.
func (s *Server) Count(route string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[route]
}

// Override replaces the handler of a route (a Route* name) with h, for tests
// of a client's handling of bad answers; nil restores the built-in handler.
// An override sees every request to its path whatever the method.
func (s *Server) Override(route string, h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if h == nil {
		delete(s.overrides, route)
		return
	}
	s.overrides[route] = h
}

// Issued returns every secret the server has handed out so far, for tests
// that check a client never shows one: access and refresh tokens, device
// codes, authorization codes, and the states of code-flow logins with the
// PKCE verifiers inside them. User codes are not secrets and are left out.
func (s *Server) Issued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for t := range s.access {
		out = append(out, t)
	}
	for t := range s.refresh {
		out = append(out, t)
	}
	for c := range s.devices {
		out = append(out, c)
	}
	for c := range s.codes {
		out = append(out, c)
	}
	return append(out, s.loginSecrets...)
}

// LastLoginQuery returns a copy of the query of the most recent login-route
// request, or nil before the first.
func (s *Server) LastLoginQuery() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastLoginQuery)
}

// LastTokenForm returns a copy of the form of the most recent token-route
// request with a form body, or nil before the first.
func (s *Server) LastTokenForm() url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneValues(s.lastTokenForm)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func (s *Server) now() time.Time { return s.opts.Now() }

// route describes one endpoint.
type route struct {
	name    string
	method  string
	handler http.HandlerFunc
}

// lookup maps a path relative to the prefix to its route.
func (s *Server) lookup(path string) (route, bool) {
	switch path {
	case "/auth/v2/device":
		return route{RouteDevice, http.MethodPost, s.handleDevice}, true
	case "/auth/v2/token":
		return route{RouteToken, http.MethodPost, s.handleToken}, true
	case "/auth/v2/login":
		return route{RouteLogin, http.MethodGet, s.handleLogin}, true
	case "/auth/v2/logout":
		return route{RouteLogout, http.MethodGet, s.handleLogout}, true
	case "/auth/v2/userinfo":
		return route{RouteUserinfo, http.MethodGet, s.handleUserinfo}, true
	case "/auth/v2/auth-ports":
		return route{RouteAuthPorts, http.MethodGet, s.handleAuthPorts}, true
	case "/idp/authorize":
		return route{RouteAuthorize, http.MethodGet, s.handleAuthorize}, true
	case "/idp/device":
		return route{RouteVerify, http.MethodGet, s.handleVerify}, true
	case "/idp/logout":
		return route{RouteIdPLogout, http.MethodGet, s.handleIdPLogout}, true
	}
	return route{}, false
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rel, ok := strings.CutPrefix(r.URL.Path, s.opts.Prefix)
	if !ok {
		s.writeStatus(w, http.StatusNotFound)
		return
	}
	rt, ok := s.lookup(rel)
	if !ok {
		s.writeStatus(w, http.StatusNotFound)
		return
	}
	var grant string
	if rt.name == RouteToken {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
		if err != nil {
			WriteDetail(w, http.StatusBadRequest, "Could not read request body.")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if isForm(r.Header.Get("Content-Type")) {
			if form, err := url.ParseQuery(string(body)); err == nil {
				grant = grantOf(form)
			}
		}
	}
	s.mu.Lock()
	s.counts[rt.name]++
	if grant != "" {
		s.counts[grant]++
	}
	override := s.overrides[rt.name]
	s.mu.Unlock()

	if override != nil {
		override(w, r)
		return
	}
	if r.Method != rt.method && (rt.method != http.MethodGet || r.Method != http.MethodHead) {
		w.Header().Set("Allow", allowed(rt.method))
		s.writeStatus(w, http.StatusMethodNotAllowed)
		return
	}
	rt.handler(w, r)
}

// allowed is the Allow header for a route's method.
func allowed(method string) string {
	if method == http.MethodGet {
		return "GET, HEAD"
	}
	return method
}

// grantOf names the grant a token-route form asks for, by which field is
// present: code, then refresh-token, then device-code; "" when none is.
func grantOf(form url.Values) string {
	switch {
	case form.Get("code") != "":
		return CountTokenCode
	case form.Get("refresh-token") != "":
		return CountTokenRefresh
	case form.Get("device-code") != "":
		return CountTokenDevice
	}
	return ""
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form, ok := s.readForm(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	s.lastTokenForm = cloneValues(form)
	s.mu.Unlock()
	switch grantOf(form) {
	case CountTokenCode:
		s.exchangeCode(w, form)
	case CountTokenRefresh:
		s.refreshToken(w, form.Get("refresh-token"))
	case CountTokenDevice:
		s.pollDevice(w, form.Get("device-code"))
	default:
		WriteDetail(w, http.StatusBadRequest, "Missing (device) code or refresh_token")
	}
}

func (s *Server) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		WriteDetail(w, http.StatusUnauthorized, "Not authenticated")
		return
	}
	if !s.Valid(strings.TrimSpace(token)) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		WriteDetail(w, http.StatusUnauthorized, "Invalid or expired token.")
		return
	}
	writeJSON(w, http.StatusOK, s.opts.User)
}

func (s *Server) handleAuthPorts(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		ValidPorts []int `json:"valid_ports"`
	}{s.opts.ValidPorts})
}

// handleLogout redirects the browser to the provider's end-session page; like
// the real servers it revokes nothing.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	q := url.Values{"client_id": {ClientID}}
	if p := r.URL.Query().Get("post_logout_redirect_uri"); p != "" {
		q.Set("post_logout_redirect_uri", p)
	}
	s.redirect(w, s.base+"/idp/logout?"+q.Encode(), s.loginRedirectStatus())
}

func (s *Server) handleIdPLogout(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Query().Get("post_logout_redirect_uri"); p != "" {
		s.redirect(w, p, http.StatusFound)
		return
	}
	writeHTML(w, http.StatusOK, "Logged out", "You are logged out.")
}

// loginRedirectStatus is the flavor's redirect status: 307 for FastAPI's
// RedirectResponse, 302 for Flask's redirect.
func (s *Server) loginRedirectStatus() int {
	if s.opts.Flavor == Flask {
		return http.StatusFound
	}
	return http.StatusTemporaryRedirect
}

// redirect answers status with Location and an empty body, as the real
// frameworks do.
func (s *Server) redirect(w http.ResponseWriter, location string, status int) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}
