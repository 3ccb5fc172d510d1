package flows

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// The keys of the fake OpenID Provider, made once for the package: RSA key
// generation is slow under the race detector.
var (
	opKey    = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
	otherKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA() })
)

func mustRSA() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
}

const (
	opKID      = "op-key-1"
	opClientID = "cli"
	opSecret   = "client-secret-7f3a9c1e5b2d"
	opRealm    = "/realms/test"
	userCode   = "WDJB-MJHT"
)

// opPaths are the fake provider's endpoints, below its issuer.
var opPaths = map[string]string{
	"discovery": "/.well-known/openid-configuration",
	"jwks":      "/protocol/openid-connect/certs",
	"authorize": "/protocol/openid-connect/auth",
	"token":     "/protocol/openid-connect/token",
	"device":    "/protocol/openid-connect/auth/device",
	"revoke":    "/protocol/openid-connect/revoke",
	"userinfo":  "/protocol/openid-connect/userinfo",
}

// fakeOP is an OpenID Provider on the loopback interface that a test
// scripts: discovery, JWKS, the authorization endpoint (which sends the
// browser straight back with a code), the token endpoint (authorization
// code with PKCE S256, refresh with or without rotation, device code), the
// device authorization endpoint and revocation. It counts and records
// every request per endpoint. Knobs are set before a flow runs, or under
// mu.
type fakeOP struct {
	*httptest.Server
	t      *testing.T
	issuer string

	mu           sync.Mutex
	clientSecret string // "" is a public client
	counts       map[string]int
	forms        map[string][]url.Values // POST forms, the query of "authorize"
	auths        map[string][]string     // Authorization headers
	polls        []time.Time             // device-code token requests
	grants       map[string]codeGrant
	refreshOK    map[string]bool // refresh tokens the provider accepts
	deviceCode   string
	serial       int

	doc       func(d map[string]any)      // edits the discovery document
	claims    func(c map[string]any)      // edits the claims of ID tokens
	signWith  *rsa.PrivateKey             // default opKey()
	backState func(state string) string   // the state the browser brings back
	rotate    bool                        // refresh answers a new refresh token
	device    []string                    // error codes of the device polls before approval
	expiresIn int                         // of the device code; default 600
	override  map[string]http.HandlerFunc // replaces an endpoint
	evil      *recorder                   // where a redirect points, if the test makes one
	userinfo  map[string]any              // the userinfo answer; default the ID token's profile
	issued    map[string]bool             // access tokens issued
}

type codeGrant struct{ challenge, nonce, redirectURI string }

func newFakeOP(t *testing.T) *fakeOP {
	t.Helper()
	op := &fakeOP{
		t:          t,
		counts:     map[string]int{},
		forms:      map[string][]url.Values{},
		auths:      map[string][]string{},
		grants:     map[string]codeGrant{},
		refreshOK:  map[string]bool{},
		issued:     map[string]bool{},
		deviceCode: "dc-" + rand.Text(),
		override:   map[string]http.HandlerFunc{},
	}
	handlers := map[string]http.HandlerFunc{
		"discovery": op.serveDiscovery, "jwks": op.serveJWKS, "authorize": op.serveAuthorize,
		"token": op.serveToken, "device": op.serveDevice, "revoke": op.serveRevoke, "userinfo": op.serveUserInfo,
	}
	mux := http.NewServeMux()
	for name, path := range opPaths {
		h := handlers[name]
		mux.HandleFunc(opRealm+path, func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
					t.Errorf("%s: content type %q", name, ct)
				}
				r.ParseForm()
			}
			form := r.PostForm
			if r.Method == http.MethodGet {
				form = r.URL.Query()
			}
			op.mu.Lock()
			op.counts[name]++
			op.forms[name] = append(op.forms[name], form)
			op.auths[name] = append(op.auths[name], r.Header.Get("Authorization"))
			o := op.override[name]
			op.mu.Unlock()
			if o != nil {
				o(w, r)
				return
			}
			h(w, r)
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		op.counts["other"]++
		op.mu.Unlock()
		http.NotFound(w, r)
	})
	op.Server = httptest.NewServer(mux)
	op.issuer = op.URL + opRealm
	t.Cleanup(op.Close)
	return op
}

func (op *fakeOP) endpoint(name string) string { return op.issuer + opPaths[name] }

func (op *fakeOP) config() Config {
	op.mu.Lock()
	defer op.mu.Unlock()
	return Config{Issuer: op.issuer, ClientID: opClientID, ClientSecret: op.clientSecret, Timeout: 20 * time.Second}
}

func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func (op *fakeOP) count(name string) int {
	op.mu.Lock()
	defer op.mu.Unlock()
	return op.counts[name]
}

func (op *fakeOP) total() int {
	op.mu.Lock()
	defer op.mu.Unlock()
	n := 0
	for _, c := range op.counts {
		n += c
	}
	return n
}

func (op *fakeOP) reset() {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.counts = map[string]int{}
	op.forms = map[string][]url.Values{}
	op.auths = map[string][]string{}
}

func (op *fakeOP) formsOf(name string) []url.Values {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]url.Values(nil), op.forms[name]...)
}

func (op *fakeOP) authsOf(name string) []string {
	op.mu.Lock()
	defer op.mu.Unlock()
	return append([]string(nil), op.auths[name]...)
}

// mintRefresh makes a refresh token the provider accepts.
func (op *fakeOP) mintRefresh() string {
	op.mu.Lock()
	defer op.mu.Unlock()
	op.serial++
	rt := fmt.Sprintf("rt-%d-%s", op.serial, rand.Text())
	op.refreshOK[rt] = true
	return rt
}

func (op *fakeOP) document() map[string]any {
	d := map[string]any{
		"issuer":                                op.issuer,
		"authorization_endpoint":                op.endpoint("authorize"),
		"token_endpoint":                        op.endpoint("token"),
		"device_authorization_endpoint":         op.endpoint("device"),
		"jwks_uri":                              op.endpoint("jwks"),
		"revocation_endpoint":                   op.endpoint("revoke"),
		"userinfo_endpoint":                     op.endpoint("userinfo"),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
	op.mu.Lock()
	edit := op.doc
	op.mu.Unlock()
	if edit != nil {
		edit(d)
	}
	return d
}

func (op *fakeOP) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, op.document())
}

func (op *fakeOP) serveJWKS(w http.ResponseWriter, r *http.Request) {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &opKey().PublicKey, KeyID: opKID, Algorithm: string(jose.RS256), Use: "sig"}}}
	writeJSON(w, http.StatusOK, set)
}

// serveAuthorize checks the authorization request and sends the browser
// back to its redirect URI at once, with a code and the state.
func (op *fakeOP) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var bad []string
	for k, want := range map[string]string{"response_type": "code", "client_id": opClientID, "code_challenge_method": "S256", "scope": "openid offline_access"} {
		if q.Get(k) != want {
			bad = append(bad, fmt.Sprintf("%s=%q, want %q", k, q.Get(k), want))
		}
	}
	for _, k := range []string{"code_challenge", "state", "nonce", "redirect_uri"} {
		if q.Get(k) == "" {
			bad = append(bad, "no "+k)
		}
	}
	if len(bad) > 0 {
		op.t.Errorf("authorization request: %s", strings.Join(bad, "; "))
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	code := "code-" + rand.Text()
	op.mu.Lock()
	op.grants[code] = codeGrant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirectURI: q.Get("redirect_uri")}
	back := op.backState
	op.mu.Unlock()
	state := q.Get("state")
	if back != nil {
		state = back(state)
	}
	http.Redirect(w, r, q.Get("redirect_uri")+"?"+url.Values{"code": {code}, "state": {state}}.Encode(), http.StatusFound)
}

// clientError says what is wrong with a request's client authentication:
// a public client names itself in the form, a confidential one uses HTTP
// Basic with its secret.
func (op *fakeOP) clientError(r *http.Request) string {
	op.mu.Lock()
	secret := op.clientSecret
	op.mu.Unlock()
	user, pass, basic := r.BasicAuth()
	if secret == "" {
		if basic || r.PostForm.Get("client_id") != opClientID || r.PostForm.Has("client_secret") {
			return fmt.Sprintf("public client: basic=%v client_id=%q", basic, r.PostForm.Get("client_id"))
		}
		return ""
	}
	u, _ := url.QueryUnescape(user)
	p, _ := url.QueryUnescape(pass)
	if !basic || u != opClientID || p != secret || r.PostForm.Has("client_secret") {
		return fmt.Sprintf("confidential client: basic=%v user=%q", basic, u)
	}
	return ""
}

func oauthErr(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func (op *fakeOP) serveToken(w http.ResponseWriter, r *http.Request) {
	if msg := op.clientError(r); msg != "" {
		op.t.Errorf("token request: %s", msg)
		oauthErr(w, http.StatusUnauthorized, "invalid_client", msg)
		return
	}
	f := r.PostForm
	switch f.Get("grant_type") {
	case "authorization_code":
		op.mu.Lock()
		g, ok := op.grants[f.Get("code")]
		delete(op.grants, f.Get("code"))
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(f.Get("code_verifier")))
		switch {
		case !ok:
			oauthErr(w, 400, "invalid_grant", "unknown code")
		case f.Get("redirect_uri") != g.redirectURI:
			oauthErr(w, 400, "invalid_grant", "redirect_uri differs")
		case f.Get("code_verifier") == "" || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			oauthErr(w, 400, "invalid_grant", "PKCE verification failed")
		default:
			op.issue(w, g.nonce, true)
		}
	case "refresh_token":
		rt := f.Get("refresh_token")
		op.mu.Lock()
		ok, rotate := op.refreshOK[rt], op.rotate
		if ok && rotate {
			delete(op.refreshOK, rt)
		}
		op.mu.Unlock()
		if !ok {
			oauthErr(w, 400, "invalid_grant", "Token is not active")
			return
		}
		op.issue(w, "", rotate)
	case "urn:ietf:params:oauth:grant-type:device_code":
		op.mu.Lock()
		op.polls = append(op.polls, time.Now())
		n := len(op.polls)
		known := f.Get("device_code") == op.deviceCode
		answers := op.device
		op.mu.Unlock()
		switch {
		case !known:
			oauthErr(w, 400, "invalid_grant", "unknown device code")
		case n <= len(answers):
			oauthErr(w, 400, answers[n-1], "")
		default:
			op.issue(w, "", true)
		}
	default:
		oauthErr(w, 400, "unsupported_grant_type", "")
	}
}

// issue answers a token as Keycloak does, with an ID token carrying nonce
// and, when refresh is set, a new refresh token with refresh_expires_in.
func (op *fakeOP) issue(w http.ResponseWriter, nonce string, refresh bool) {
	op.mu.Lock()
	op.serial++
	n := op.serial
	body := map[string]any{"access_token": fmt.Sprintf("at-%d-%s", n, rand.Text()), "token_type": "Bearer", "expires_in": 300, "scope": "openid offline_access"}
	op.issued[body["access_token"].(string)] = true
	if refresh {
		rt := fmt.Sprintf("rt-%d-%s", n, rand.Text())
		op.refreshOK[rt] = true
		body["refresh_token"] = rt
		body["refresh_expires_in"] = 1800
	}
	op.mu.Unlock()
	body["id_token"] = op.idToken(nonce)
	writeJSON(w, http.StatusOK, body)
}

func (op *fakeOP) idToken(nonce string) string {
	now := time.Now()
	c := map[string]any{
		"iss": op.issuer, "sub": "user-42", "aud": opClientID, "azp": opClientID,
		"exp": now.Add(5 * time.Minute).Unix(), "iat": now.Unix(),
		"preferred_username": "alice", "email": "alice@example.org", "name": "Alice Liddell", "groups_name": "wonderland",
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	op.mu.Lock()
	edit, key := op.claims, op.signWith
	op.mu.Unlock()
	if edit != nil {
		edit(c)
	}
	if key == nil {
		key = opKey()
	}
	return signJWT(op.t, key, c)
}

func signJWT(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: opKID}}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Error(err)
		return ""
	}
	payload, _ := json.Marshal(claims)
	obj, err := signer.Sign(payload)
	if err != nil {
		t.Error(err)
		return ""
	}
	s, err := obj.CompactSerialize()
	if err != nil {
		t.Error(err)
	}
	return s
}

// jwtClaims reads the claims of a JWT without checking it.
func jwtClaims(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", raw)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func (op *fakeOP) serveDevice(w http.ResponseWriter, r *http.Request) {
	if r.PostForm.Get("client_id") != opClientID {
		op.t.Errorf("device authorization without client_id: %v", r.PostForm)
	}
	if msg := op.clientError(r); msg != "" {
		op.t.Errorf("device authorization: %s", msg)
		oauthErr(w, http.StatusUnauthorized, "invalid_client", msg)
		return
	}
	op.mu.Lock()
	exp := op.expiresIn
	op.mu.Unlock()
	if exp == 0 {
		exp = 600
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"device_code": op.deviceCode, "user_code": userCode,
		"verification_uri": op.URL + "/device", "verification_uri_complete": op.URL + "/device?user_code=" + userCode,
		"expires_in": exp, "interval": 1,
	})
}

// serveUserInfo answers the profile of the user an issued access token
// belongs to.
func (op *fakeOP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	ok := op.issued[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	answer := op.userinfo
	op.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if answer == nil {
		answer = map[string]any{"sub": "user-42", "preferred_username": "alice", "email": "alice@example.org", "name": "Alice Liddell"}
	}
	writeJSON(w, http.StatusOK, answer)
}

func (op *fakeOP) serveRevoke(w http.ResponseWriter, r *http.Request) {
	if msg := op.clientError(r); msg != "" {
		op.t.Errorf("revocation request: %s", msg)
		oauthErr(w, http.StatusUnauthorized, "invalid_client", msg)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// runFlow runs one of the flows against cfg: "code" (a browser that
// follows every redirect), "device", or "refresh" of a refresh token the
// provider accepts.
func (op *fakeOP) runFlow(t *testing.T, flow string, cfg Config) (*Token, error, *followBrowser) {
	t.Helper()
	b := &followBrowser{}
	var tok *Token
	var err error
	switch flow {
	case "code":
		tok, err = (&CodeFlow{Config: cfg, Browser: b.open}).Run(context.Background())
		b.wg.Wait()
	case "device":
		tok, err = (&DeviceFlow{Config: cfg}).Run(context.Background())
	case "refresh":
		tok, err = Refresh(context.Background(), cfg, &Token{AccessToken: "old-access", RefreshToken: op.mintRefresh(), RefreshExpires: time.Now().Add(time.Hour).Unix()})
	default:
		t.Fatalf("no flow %q", flow)
	}
	return tok, err, b
}

// loopbackOnly sends requests to loopback hosts only, and fails the test
// on any other.
type loopbackOnly struct{ t *testing.T }

func (l loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	if !IsLoopback(r.URL.Hostname()) {
		l.t.Errorf("request sent to %s", r.URL)
		return nil, errors.New("only loopback requests in this test")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// closedURL is an http URL on the loopback interface where nothing listens.
func closedURL(t *testing.T, path string) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + path
}

var wantClaims = Claims{Subject: "user-42", PreferredUsername: "alice", Email: "alice@example.org", Name: "Alice Liddell"}

// TestIssuerCodeFlow logs in with the authorization code flow at a
// standard provider: a loopback redirect URI on any free port, PKCE S256
// (the provider refuses a verifier that does not match), our own state
// and nonce (the nonce comes back in the verified ID token), and the
// client authenticated as a public or confidential client.
func TestIssuerCodeFlow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, redirectHost, wantHost string
		confidential                 bool
	}{
		{"public client on 127.0.0.1", "", "127.0.0.1", false},
		{"RedirectHost localhost", "localhost", "localhost", false},
		{"confidential client", "", "127.0.0.1", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			if tt.confidential {
				op.clientSecret = opSecret
			}
			cfg := op.config()
			cfg.RedirectHost = tt.redirectHost
			var out syncBuffer
			b := &followBrowser{}
			start := time.Now()
			tok, err := (&CodeFlow{Config: cfg, Out: &out, Browser: b.open}).Run(context.Background())
			b.wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(tok.AccessToken, "at-") || !strings.HasPrefix(tok.RefreshToken, "rt-") || tok.IDToken == "" {
				t.Errorf("token %+v", tok)
			}
			if tok.Claims == nil || *tok.Claims != wantClaims || tok.Claims.User() != "alice" {
				t.Errorf("claims %+v, want %+v", tok.Claims, wantClaims)
			}
			if tok.Headers["Authorization"] != "Bearer "+tok.AccessToken {
				t.Errorf("headers %v", tok.Headers)
			}
			// Keycloak's refresh_expires_in is the refresh token's lifetime.
			if lo, hi := start.Add(1790*time.Second).Unix(), time.Now().Add(1800*time.Second).Unix(); tok.RefreshExpires < lo || tok.RefreshExpires > hi {
				t.Errorf("refresh expires in %ds, want 1800s", tok.RefreshExpires-start.Unix())
			}

			az := op.formsOf("authorize")
			if len(az) != 1 {
				t.Fatalf("%d authorization requests", len(az))
			}
			q := az[0]
			m := regexp.MustCompile(`^http://` + regexp.QuoteMeta(tt.wantHost) + `:(\d+)/callback$`).FindStringSubmatch(q.Get("redirect_uri"))
			if m == nil {
				t.Fatalf("redirect_uri %q, want http://%s:<port>/callback", q.Get("redirect_uri"), tt.wantHost)
			}
			if p, _ := strconv.Atoi(m[1]); p <= 0 || p > 65535 {
				t.Errorf("redirect port %s", m[1])
			}
			state, nonce := q.Get("state"), q.Get("nonce")
			if len(state) < 20 || len(nonce) < 20 || state == nonce || len(q.Get("code_challenge")) != 43 {
				t.Errorf("state %q nonce %q challenge %q: want fresh random values", state, nonce, q.Get("code_challenge"))
			}
			if strings.Contains(out.String(), state) || strings.Contains(out.String(), q.Get("code_challenge")) {
				t.Errorf("the terminal shows the state or challenge:\n%s", out.String())
			}
			if got := jwtClaims(t, tok.IDToken)["nonce"]; got != nonce {
				t.Errorf("ID token nonce %v, want the one sent %q", got, nonce)
			}

			tf := op.formsOf("token")
			if len(tf) != 1 {
				t.Fatalf("%d token requests", len(tf))
			}
			f := tf[0]
			sum := sha256.Sum256([]byte(f.Get("code_verifier")))
			if f.Get("grant_type") != "authorization_code" || f.Get("redirect_uri") != q.Get("redirect_uri") || base64.RawURLEncoding.EncodeToString(sum[:]) != q.Get("code_challenge") {
				t.Errorf("exchange %v does not match the authorization request %v", f, q)
			}
			auth := op.authsOf("token")[0]
			if tt.confidential != strings.HasPrefix(auth, "Basic ") || tt.confidential == f.Has("client_id") {
				t.Errorf("confidential=%v: Authorization %q, form %v", tt.confidential, auth, f)
			}
			for name, want := range map[string]int{"discovery": 1, "authorize": 1, "token": 1, "jwks": 1, "device": 0, "userinfo": 0, "other": 0} {
				if got := op.count(name); got != want {
					t.Errorf("%d %s requests, want %d", got, name, want)
				}
			}
			if len(b.pages) != 1 || !strings.Contains(b.pages[0], "Login succeeded") {
				t.Errorf("browser saw %q", b.pages)
			}
		})
	}
}

// TestIssuerCodeFlowChecksState: a callback that brings back another
// state than ours is refused, the code in it is never exchanged, and the
// login waits until it times out. Two logins never share state, nonce or
// verifier.
func TestIssuerCodeFlowChecksState(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	op.backState = func(string) string { return "state-of-an-attacker" }
	cfg := op.config()
	cfg.Timeout = 3 * time.Second // the browser comes back well before, even on a loaded machine
	tok, err, b := op.runFlow(t, "code", cfg)
	if tok != nil || err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("got %v, %v; want the login to time out", tok, err)
	}
	if n := op.count("token"); n != 0 {
		t.Errorf("%d token requests: a callback with a foreign state was exchanged", n)
	}
	if len(b.pages) != 1 || !strings.HasPrefix(b.pages[0], "400 ") {
		t.Errorf("browser saw %q", b.pages)
	}

	op.set(func(op *fakeOP) { op.backState = nil })
	if _, err, _ := op.runFlow(t, "code", op.config()); err != nil {
		t.Fatal(err)
	}
	az := op.formsOf("authorize")
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if az[0].Get(k) == az[1].Get(k) {
			t.Errorf("two logins sent the same %s %q", k, az[0].Get(k))
		}
	}
}

// TestIssuerDeviceFlow runs the device grant at a standard provider:
// approval after pending polls, slow_down, and the answers that end it.
func TestIssuerDeviceFlow(t *testing.T) {
	t.Parallel()
	pending := make([]string, 50)
	for i := range pending {
		pending[i] = "authorization_pending"
	}
	for _, tt := range []struct {
		name      string
		answers   []string
		expiresIn int
		is        error
		polls     int
	}{
		{"approved after one pending", []string{"authorization_pending"}, 0, nil, 2},
		{"slow_down", []string{"slow_down"}, 0, nil, 2},
		{"access_denied", []string{"authorization_pending", "access_denied"}, 0, ErrAccessDenied, 2},
		{"expired_token", []string{"expired_token"}, 0, ErrExpiredToken, 1},
		{"the device code runs out", pending, 2, ErrExpiredToken, -1},
		{"confidential client", []string{"authorization_pending"}, 0, nil, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			if tt.name == "confidential client" {
				op.clientSecret = opSecret // the device request and the polls must use HTTP Basic
			}
			op.device, op.expiresIn = tt.answers, tt.expiresIn
			var out strings.Builder
			start := time.Now()
			tok, err := (&DeviceFlow{Config: op.config(), Out: &out}).Run(context.Background())
			op.mu.Lock()
			polls := append([]time.Time(nil), op.polls...)
			op.mu.Unlock()
			if tt.polls >= 0 && len(polls) != tt.polls {
				t.Errorf("%d polls, want %d", len(polls), tt.polls)
			}
			if !strings.Contains(out.String(), op.URL+"/device?user_code="+userCode) || !strings.Contains(out.String(), userCode) {
				t.Errorf("the person was not shown verification_uri_complete and the code:\n%s", out.String())
			}
			if tt.is != nil {
				if tok != nil || !errors.Is(err, tt.is) {
					t.Fatalf("got %v, %v; want %v", tok, err, tt.is)
				}
				// A flow that ignored the expiry would poll through all
				// 50 pending answers; a loaded machine adds seconds.
				if tt.expiresIn > 0 && time.Since(start) > time.Duration(tt.expiresIn+10)*time.Second {
					t.Errorf("gave up after %v, want about %ds", time.Since(start), tt.expiresIn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Claims == nil || *tok.Claims != wantClaims || !strings.HasPrefix(tok.RefreshToken, "rt-") {
				t.Errorf("token %+v claims %+v", tok, tok.Claims)
			}
			if tt.name == "slow_down" && polls[1].Sub(polls[0]) < 5*time.Second {
				t.Errorf("polled again %v after slow_down, want 5 s more than the interval", polls[1].Sub(polls[0]))
			}
			da := op.formsOf("device")
			if len(da) != 1 || da[0].Get("client_id") != opClientID || da[0].Get("scope") != "openid offline_access" {
				t.Errorf("device authorization %v", da)
			}
			for i, f := range op.formsOf("token") {
				if f.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" || f.Get("device_code") != op.deviceCode || f.Get("client_id") != opClientID {
					t.Errorf("poll %d sent %v", i, f)
				}
			}
		})
	}
}

// TestIssuerRefresh: a rotated refresh token replaces the old one (which
// the provider then refuses); a provider that sends none keeps the old
// one working; invalid_grant and Dex's invalid_request mean the login is
// gone.
func TestIssuerRefresh(t *testing.T) {
	t.Parallel()
	t.Run("rotation", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		op.rotate = true
		old := &Token{AccessToken: "old-access", RefreshToken: op.mintRefresh(), RefreshExpires: time.Now().Add(time.Hour).Unix(), IDToken: "old-id", Claims: &wantClaims}
		nt, err := Refresh(context.Background(), op.config(), old)
		if err != nil {
			t.Fatal(err)
		}
		if nt.RefreshToken == old.RefreshToken || !strings.HasPrefix(nt.RefreshToken, "rt-") || nt.AccessToken == old.AccessToken {
			t.Errorf("refresh token not rotated: %+v", nt)
		}
		if nt.Claims == nil || *nt.Claims != wantClaims {
			t.Errorf("claims lost: %+v", nt.Claims)
		}
		if d := nt.RefreshExpires - time.Now().Unix(); d < 1790 || d > 1800 {
			t.Errorf("refresh expires in %ds, want refresh_expires_in 1800", d)
		}
		f := op.formsOf("token")[0]
		if f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != old.RefreshToken || f.Get("client_id") != opClientID {
			t.Errorf("refresh sent %v", f)
		}
		if _, err := Refresh(context.Background(), op.config(), old); !errors.Is(err, ErrSessionExpired) {
			t.Errorf("the replaced refresh token: %v, want ErrSessionExpired", err)
		}
		if _, err := Refresh(context.Background(), op.config(), nt); err != nil {
			t.Errorf("the new refresh token: %v", err)
		}
	})
	t.Run("no new refresh token", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		old := &Token{AccessToken: "old-access", RefreshToken: op.mintRefresh(), RefreshExpires: time.Now().Add(time.Hour).Unix(), IDToken: "old-id", Claims: &wantClaims}
		nt, err := Refresh(context.Background(), op.config(), old)
		if err != nil {
			t.Fatal(err)
		}
		if nt.RefreshToken != old.RefreshToken || nt.RefreshExpires < old.RefreshExpires || nt.AccessToken == old.AccessToken {
			t.Errorf("old refresh token not kept: %+v", nt)
		}
		again, err := Refresh(context.Background(), op.config(), nt)
		if err != nil || again.RefreshToken != old.RefreshToken {
			t.Errorf("second refresh with the kept token: %+v, %v", again, err)
		}
	})
	for _, tt := range []struct {
		name    string
		answer  func(w http.ResponseWriter)
		expired bool
		text    string
	}{
		{"invalid_grant", func(w http.ResponseWriter) { oauthErr(w, 400, "invalid_grant", "Token is not active") }, true, "invalid_grant"},
		{"Dex invalid_request", func(w http.ResponseWriter) {
			oauthErr(w, 400, "invalid_request", "Refresh token is invalid or has already been claimed by another client.")
		}, true, "invalid_request"},
		{"server_error", func(w http.ResponseWriter) { oauthErr(w, 500, "server_error", "database down") }, false, "database down"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.override["token"] = func(w http.ResponseWriter, r *http.Request) { tt.answer(w) }
			tok, err, _ := op.runFlow(t, "refresh", op.config())
			if tok != nil || err == nil || errors.Is(err, ErrSessionExpired) != tt.expired || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("got %v, %v; want session expired=%v containing %q", tok, err, tt.expired, tt.text)
			}
		})
	}
}

// TestIssuerDiscoveryCache: a discovery document cached in CacheDir saves
// the discovery request for a day; a stored valid token costs no request
// at all, and a refresh exactly one.
func TestIssuerDiscoveryCache(t *testing.T) {
	t.Parallel()
	op := newFakeOP(t)
	cfg := op.config()
	cfg.CacheDir = t.TempDir()
	c := cfg.withDefaults()
	ctx := context.Background()
	for range 2 {
		if _, err := discover(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := op.count("discovery"); n != 1 {
		t.Errorf("%d discovery requests for two discovers within the TTL, want 1", n)
	}
	path := c.discoveryCachePath()
	if fi, err := os.Stat(path); err != nil {
		t.Errorf("cache file %s: %v", path, err)
	} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		// Windows keeps no Unix permission bits, only the read-only one.
		t.Errorf("cache file %s: mode %v, want 0600", path, fi.Mode().Perm())
	}

	stale := func(issuer string, at time.Time) string {
		d := discovery{FetchedAt: at}
		d.IssuerURL, d.TokenURL = issuer, "https://stale.example.invalid/token"
		b, _ := json.Marshal(d)
		return string(b)
	}
	for name, content := range map[string]string{
		"two days old":    stale(op.issuer, time.Now().Add(-48*time.Hour)),
		"from the future": stale(op.issuer, time.Now().Add(time.Hour)),
		"another issuer":  stale("https://other.example.invalid", time.Now()),
		"corrupt":         `{"issuer":`,
	} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		op.reset()
		p, err := discover(ctx, c)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := op.count("discovery"); n != 1 || p.disc.TokenURL != op.endpoint("token") {
			t.Errorf("%s cache: %d discovery requests, token endpoint %s; want it fetched again", name, n, p.disc.TokenURL)
		}
		if d, ok := readDiscovery(path); !ok || time.Since(d.FetchedAt) > time.Minute || d.TokenURL != op.endpoint("token") {
			t.Errorf("%s cache: not rewritten: %+v", name, d)
		}
	}

	key, err := cfg.Key()
	if err != nil {
		t.Fatal(err)
	}
	st := newMemStore()
	now := time.Now()
	st.Put(ctx, key, &Record{Token: Token{AccessToken: "valid", RefreshToken: op.mintRefresh(), Expires: now.Add(time.Hour).Unix(), RefreshExpires: now.Add(2 * time.Hour).Unix()}, Server: cfg.Server()})
	op.reset()
	tok, err := Authenticate(ctx, cfg, st, Options{Interaction: InteractNever})
	if err != nil || tok.AccessToken != "valid" {
		t.Fatalf("got %v, %v", tok, err)
	}
	if n := op.total(); n != 0 {
		t.Errorf("a valid stored token cost %d requests, want 0", n)
	}

	st.Put(ctx, key, &Record{Token: Token{AccessToken: "expired", RefreshToken: op.mintRefresh(), Expires: now.Add(-time.Minute).Unix(), RefreshExpires: now.Add(time.Hour).Unix()}, Server: cfg.Server()})
	op.reset()
	tok, err = Authenticate(ctx, cfg, st, Options{Interaction: InteractNever})
	if err != nil || !strings.HasPrefix(tok.AccessToken, "at-") {
		t.Fatalf("got %v, %v", tok, err)
	}
	if n, tn := op.total(), op.count("token"); n != 1 || tn != 1 {
		t.Errorf("a refresh with a fresh discovery cache cost %d requests (%d to the token endpoint), want exactly 1", n, tn)
	}
	if rec, _ := st.Get(ctx, key); rec.Token.AccessToken != tok.AccessToken {
		t.Errorf("refreshed token not stored: %+v", rec.Token)
	}

	// Without a cache, the same refresh asks for the document too.
	nocache := op.config()
	op.reset()
	if _, err := op.runFlowErr(t, "refresh", nocache); err != nil {
		t.Fatal(err)
	}
	if n := op.count("discovery"); n != 1 {
		t.Errorf("without CacheDir, %d discovery requests, want 1", n)
	}
}

func (op *fakeOP) runFlowErr(t *testing.T, flow string, cfg Config) (*Token, error) {
	t.Helper()
	tok, err, _ := op.runFlow(t, flow, cfg)
	return tok, err
}

// TestIssuerBadProvider: each broken or hostile provider ends the flow
// with one clear error, and no token.
func TestIssuerBadProvider(t *testing.T) {
	t.Parallel()
	drop := func(field string) func(d map[string]any) { return func(d map[string]any) { delete(d, field) } }
	tests := []struct {
		name      string
		flows     []string
		setup     func(t *testing.T, op *fakeOP, cfg *Config)
		is        error
		as        func(error) bool
		text      string
		untouched []string // endpoints that must see no request
	}{
		{name: "no token_endpoint", flows: []string{"device", "code", "refresh"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) { op.doc = drop("token_endpoint") },
			text:  "names no token_endpoint", untouched: []string{"device", "authorize", "token"}},
		{name: "no device_authorization_endpoint", flows: []string{"device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) { op.doc = drop("device_authorization_endpoint") },
			is:    ErrNoDeviceFlow, text: "device_authorization_endpoint", untouched: []string{"token"}},
		{name: "no authorization_endpoint", flows: []string{"code"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) { op.doc = drop("authorization_endpoint") },
			text:  "names no authorization_endpoint", untouched: []string{"token"}},
		{name: "issuer mismatch", flows: []string{"device", "code", "refresh"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.doc = func(d map[string]any) { d["issuer"] = "https://elsewhere.example.invalid/realms/test" }
			},
			text: "names the issuer https://elsewhere.example.invalid/realms/test", untouched: []string{"device", "authorize", "token"}},
		{name: "ID token for another audience", flows: []string{"code", "device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.claims = func(c map[string]any) { c["aud"] = "another-client" }
			},
			text: "expected audience"},
		{name: "ID token of another login (nonce)", flows: []string{"code"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.claims = func(c map[string]any) { c["nonce"] = "nonce-of-another-login" }
			},
			text: "another login's nonce"},
		{name: "ID token signed with another key", flows: []string{"code", "device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) { op.signWith = otherKey() },
			text:  "signature"},
		{name: "expired ID token", flows: []string{"code"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.claims = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
			},
			text: "expired"},
		{name: "unreachable JWKS", flows: []string{"code"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				jwks := closedURL(t, "/certs")
				op.doc = func(d map[string]any) { d["jwks_uri"] = jwks }
			},
			text: "ID token from"},
		{name: "HTML discovery", flows: []string{"device", "refresh"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.override["discovery"] = func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					fmt.Fprint(w, "<html><title>Welcome to nginx!</title></html>")
				}
			},
			text: "no OpenID Provider at", untouched: []string{"device", "token"}},
		{name: "discovery redirects", flows: []string{"device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.override["discovery"] = redirectTo(http.StatusFound, "https://login.example.invalid/")
			},
			text: "answered a redirect", untouched: []string{"device", "token"}},
		{name: "token endpoint redirects", flows: []string{"code", "refresh", "device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.evil = newRecorder(t)
				op.override["token"] = redirectTo(http.StatusTemporaryRedirect, op.evil.URL+"/steal?x=1")
				// A caller's client that follows redirects is tamed too.
				cfg.HTTPClient = &http.Client{}
			},
			as: func(err error) bool {
				var re *RedirectError
				return errors.As(err, &re) && re.Status == http.StatusTemporaryRedirect && strings.Contains(re.Location, "/steal")
			}},
		{name: "clear-text token endpoint", flows: []string{"code", "refresh", "device"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.doc = func(d map[string]any) { d["token_endpoint"] = "http://idp.example.invalid/token" }
				cfg.HTTPClient = &http.Client{Transport: loopbackOnly{t}}
			},
			as: func(err error) bool {
				var ce *ClearTextError
				return errors.As(err, &ce) && strings.Contains(ce.URL, "idp.example.invalid")
			}, text: "token_endpoint", untouched: []string{"device", "authorize", "token"}},
		{name: "clear-text revocation endpoint", flows: []string{"refresh"},
			setup: func(t *testing.T, op *fakeOP, cfg *Config) {
				op.doc = func(d map[string]any) { d["revocation_endpoint"] = "http://idp.example.invalid/revoke" }
			},
			as: func(err error) bool { var ce *ClearTextError; return errors.As(err, &ce) }, untouched: []string{"token"}},
	}
	for _, tt := range tests {
		for _, flow := range tt.flows {
			t.Run(tt.name+" "+flow, func(t *testing.T) {
				t.Parallel()
				op := newFakeOP(t)
				cfg := op.config()
				tt.setup(t, op, &cfg)
				tok, err, b := op.runFlow(t, flow, cfg)
				t.Logf("err: %v", err)
				if tok != nil {
					t.Errorf("a token was returned with the error: %+v", tok)
				}
				switch {
				case err == nil:
					t.Fatal("no error")
				case tt.is != nil && !errors.Is(err, tt.is), tt.as != nil && !tt.as(err), !strings.Contains(err.Error(), tt.text):
					t.Fatalf("err = %v; want %v %q", err, tt.is, tt.text)
				case !isTerminalSafe(err.Error()) || strings.Count(err.Error(), "\n") > 0:
					t.Errorf("not one safe line: %q", err)
				}
				for _, name := range tt.untouched {
					if n := op.count(name); n != 0 {
						t.Errorf("%d requests to %s", n, name)
					}
				}
				if flow == "code" && len(tt.untouched) > 0 && len(b.opened) != 0 {
					t.Errorf("the browser was opened: %v", b.opened)
				}
				if op.evil != nil && len(op.evil.requests()) != 0 {
					t.Errorf("the redirect was followed: %q", op.evil.requests())
				}
			})
		}
	}
}

// TestIssuerErrorsMaskSecrets: a token endpoint that echoes what it was
// sent (the refresh token, the device code, the code verifier and the
// code, the client secret) leaves none of it in the error.
func TestIssuerErrorsMaskSecrets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		flow         string
		confidential bool
	}{{"refresh", false}, {"refresh", true}, {"device", false}, {"code", false}, {"code", true}} {
		t.Run(fmt.Sprintf("%s confidential=%v", tt.flow, tt.confidential), func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			if tt.confidential {
				op.clientSecret = opSecret
			}
			var mu sync.Mutex
			var sent []string
			op.override["token"] = func(w http.ResponseWriter, r *http.Request) {
				var echo []string
				for _, k := range []string{"refresh_token", "device_code", "code_verifier", "code"} {
					if v := r.PostForm.Get(k); v != "" {
						echo = append(echo, v)
					}
				}
				if _, pass, ok := r.BasicAuth(); ok {
					echo = append(echo, pass, r.Header.Get("Authorization"))
				}
				mu.Lock()
				sent = append(sent, echo...)
				mu.Unlock()
				oauthErr(w, 400, "invalid_grant", "rejected "+strings.Join(echo, " and ")+" in "+r.PostForm.Encode())
			}
			_, err, _ := op.runFlow(t, tt.flow, op.config())
			if err == nil {
				t.Fatal("no error")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(sent) == 0 {
				t.Fatal("the token endpoint saw no secret")
			}
			if tt.confidential {
				sent = append(sent, opSecret)
			}
			msg := err.Error()
			for _, secret := range sent {
				if strings.HasPrefix(secret, "Basic ") {
					secret = strings.TrimPrefix(secret, "Basic ")
				}
				for i := 0; i+minSecretRun+2 <= len(secret); i++ {
					if piece := secret[i : i+minSecretRun+2]; strings.Contains(msg, piece) {
						t.Fatalf("error carries part of a secret (%q): %s", piece, msg)
					}
				}
			}
			if !strings.Contains(msg, "invalid_grant") {
				t.Errorf("error lost the code: %s", msg)
			}
		})
	}
}

// TestIssuerAudience: Config.Audience goes to the authorization request
// and the token requests as audience, and as RFC 8707's resource when it
// is an absolute URI.
func TestIssuerAudience(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		audience string
		resource bool
	}{{"https://api.example.org/v1", true}, {"my-api", false}} {
		for _, flow := range []string{"code", "device"} {
			t.Run(tt.audience+" "+flow, func(t *testing.T) {
				t.Parallel()
				op := newFakeOP(t)
				cfg := op.config()
				cfg.Audience = tt.audience
				if _, err, _ := op.runFlow(t, flow, cfg); err != nil {
					t.Fatal(err)
				}
				var reqs []url.Values
				for _, name := range []string{"authorize", "device", "token"} {
					reqs = append(reqs, op.formsOf(name)...)
				}
				if len(reqs) != 2 {
					t.Fatalf("%d requests, want 2", len(reqs))
				}
				for _, q := range reqs {
					if q.Get("audience") != tt.audience || q.Has("resource") != tt.resource || (tt.resource && q.Get("resource") != tt.audience) {
						t.Errorf("request %v: want audience %q and resource=%v", q, tt.audience, tt.resource)
					}
				}
			})
		}
	}
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		if _, err, _ := op.runFlow(t, "code", op.config()); err != nil {
			t.Fatal(err)
		}
		for _, q := range append(op.formsOf("authorize"), op.formsOf("token")...) {
			if q.Has("audience") || q.Has("resource") {
				t.Errorf("request %v carries an audience nobody asked for", q)
			}
		}
	})
}

// TestIssuerRevoke: the refresh token is revoked at the revocation
// endpoint (RFC 7009) as the client authenticates; without one, or for a
// py-oidc-auth server, ErrNoRevocation.
func TestIssuerRevoke(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, confidential := range []bool{false, true} {
		t.Run(fmt.Sprintf("confidential=%v", confidential), func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			if confidential {
				op.clientSecret = opSecret
			}
			rt := op.mintRefresh()
			if err := Revoke(ctx, op.config(), &Token{AccessToken: "at", RefreshToken: rt}); err != nil {
				t.Fatal(err)
			}
			forms, auths := op.formsOf("revoke"), op.authsOf("revoke")
			if len(forms) != 1 {
				t.Fatalf("%d revocation requests", len(forms))
			}
			f := forms[0]
			if f.Get("token") != rt || f.Get("token_type_hint") != "refresh_token" {
				t.Errorf("revocation form %v", f)
			}
			if confidential != strings.HasPrefix(auths[0], "Basic ") || confidential == f.Has("client_id") {
				t.Errorf("client authentication: Authorization %q, form %v", auths[0], f)
			}
			if op.total() != 2 { // discovery and revocation
				t.Errorf("%d requests, want 2", op.total())
			}
		})
	}
	t.Run("no revocation endpoint", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		op.doc = func(d map[string]any) { delete(d, "revocation_endpoint") }
		if err := Revoke(ctx, op.config(), &Token{RefreshToken: op.mintRefresh()}); !errors.Is(err, ErrNoRevocation) {
			t.Errorf("err = %v, want ErrNoRevocation", err)
		}
		if n := op.count("revoke"); n != 0 {
			t.Errorf("%d revocation requests", n)
		}
	})
	t.Run("refused, secret masked", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		op.override["revoke"] = func(w http.ResponseWriter, r *http.Request) {
			oauthErr(w, 400, "unsupported_token_type", "cannot revoke "+r.PostForm.Get("token"))
		}
		rt := op.mintRefresh()
		err := Revoke(ctx, op.config(), &Token{RefreshToken: rt})
		if err == nil || !strings.Contains(err.Error(), "unsupported_token_type") || strings.Contains(err.Error(), rt[:12]) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("redirect", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		evil := newRecorder(t)
		op.override["revoke"] = redirectTo(http.StatusTemporaryRedirect, evil.URL+"/steal")
		var re *RedirectError
		if err := Revoke(ctx, op.config(), &Token{RefreshToken: op.mintRefresh()}); !errors.As(err, &re) {
			t.Errorf("err = %v, want a RedirectError", err)
		}
		if len(evil.requests()) != 0 {
			t.Errorf("the redirect was followed")
		}
	})
	t.Run("py-oidc-auth server", func(t *testing.T) {
		t.Parallel()
		cfg := Config{Host: "https://auth.example.invalid", HTTPClient: &http.Client{Transport: failingTransport{t}}}
		if err := Revoke(ctx, cfg, &Token{RefreshToken: "r"}); !errors.Is(err, ErrNoRevocation) {
			t.Errorf("err = %v, want ErrNoRevocation", err)
		}
	})
	t.Run("nothing to revoke", func(t *testing.T) {
		t.Parallel()
		cfg := Config{Issuer: "https://kc.example.invalid/realms/x", ClientID: "c", HTTPClient: &http.Client{Transport: failingTransport{t}}}
		for _, tok := range []*Token{nil, {AccessToken: "only-access"}} {
			if err := Revoke(ctx, cfg, tok); err != nil {
				t.Errorf("Revoke(%v) = %v", tok, err)
			}
		}
	})
}

// TestIssuerKey: the store key of a provider's login is the normalised
// issuer with its path and the client id; Key keeps it as it is, and it
// never equals the key of a py-oidc-auth server on the same host.
func TestIssuerKey(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ issuer, client, want string }{
		{"https://KC.Example.org/realms/x/", "cli", "oidc+https://kc.example.org/realms/x?client_id=cli"},
		{"HTTPS://kc.example.org:443/realms/x", "cli", "oidc+https://kc.example.org/realms/x?client_id=cli"},
		{"https://kc.example.org:8443/realms/x", "cli", "oidc+https://kc.example.org:8443/realms/x?client_id=cli"},
		{"https://kc.example.org/realms/MyRealm", "cli", "oidc+https://kc.example.org/realms/MyRealm?client_id=cli"},
		{"http://127.0.0.1:80/", "cli", "oidc+http://127.0.0.1?client_id=cli"},
		{"https://accounts.google.com", "123-abc.apps.googleusercontent.com", "oidc+https://accounts.google.com?client_id=123-abc.apps.googleusercontent.com"},
		{"https://kc.example.org/realms/x", "my cli&x=1", "oidc+https://kc.example.org/realms/x?client_id=my+cli%26x%3D1"},
	} {
		got, err := IssuerKey(tt.issuer, tt.client)
		if err != nil || got != tt.want {
			t.Errorf("IssuerKey(%q, %q) = %q, %v; want %q", tt.issuer, tt.client, got, err, tt.want)
			continue
		}
		if again, err := Key(got); err != nil || again != got {
			t.Errorf("Key(%q) = %q, %v; want it unchanged", got, again, err)
		}
		if ck, err := (Config{Issuer: tt.issuer, ClientID: tt.client}).Key(); err != nil || ck != got {
			t.Errorf("Config.Key() = %q, %v; want %q", ck, err, got)
		}
		py, _ := Key(tt.issuer)
		if py == got || !strings.HasPrefix(got, "oidc+") || strings.HasPrefix(py, "oidc+") {
			t.Errorf("issuer key %q and py-oidc-auth key %q of the same host", got, py)
		}
	}
	// Key normalises an issuer key written another way.
	if got, err := Key(" oidc+HTTPS://KC.example.org:443/realms/x/?client_id=cli"); err != nil || got != "oidc+https://kc.example.org/realms/x?client_id=cli" {
		t.Errorf("Key of an unnormalised issuer key = %q, %v", got, err)
	}
	a, _ := IssuerKey("https://kc.example.org/realms/x", "cli-a")
	b, _ := IssuerKey("https://kc.example.org/realms/x", "cli-b")
	c, _ := IssuerKey("https://kc.example.org/realms/y", "cli-a")
	if a == b || a == c {
		t.Errorf("distinct logins share a key: %q %q %q", a, b, c)
	}
	for _, bad := range [][2]string{{"https://kc.example.org/realms/x", ""}, {"", "cli"}, {"https://", "cli"}} {
		if k, err := IssuerKey(bad[0], bad[1]); err == nil {
			t.Errorf("IssuerKey(%q, %q) = %q, want an error", bad[0], bad[1], k)
		}
	}
}

// TestIssuerConfigValidation: a Config names a host or an issuer, an
// issuer needs a client id, and the redirect host must be loopback; each
// is refused before any request.
func TestIssuerConfigValidation(t *testing.T) {
	t.Parallel()
	issuer := "https://kc.example.invalid/realms/x"
	for _, tt := range []struct {
		name string
		cfg  Config
		text string
	}{
		{"host and issuer", Config{Host: "https://auth.example.invalid", Issuer: issuer, ClientID: "c"}, "not both"},
		{"issuer without client id", Config{Issuer: issuer}, "--client-id"},
		{"redirect host on all interfaces", Config{Issuer: issuer, ClientID: "c", RedirectHost: "0.0.0.0"}, "not loopback"},
		{"redirect host elsewhere", Config{Issuer: issuer, ClientID: "c", RedirectHost: "evil.example.invalid"}, "not loopback"},
		{"clear-text issuer", Config{Issuer: "http://kc.example.invalid/realms/x", ClientID: "c"}, "--allow-http"},
		{"issuer with a query", Config{Issuer: issuer + "?x=1", ClientID: "c"}, "not a server URL"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := tt.cfg
			cfg.HTTPClient = &http.Client{Transport: failingTransport{t}}
			cfg.Timeout = time.Second
			errs := map[string]error{
				"Check": cfg.Check(),
				"code": func() error {
					_, err := (&CodeFlow{Config: cfg, Browser: func(string) error { return nil }}).Run(context.Background())
					return err
				}(),
				"device":  func() error { _, err := (&DeviceFlow{Config: cfg}).Run(context.Background()); return err }(),
				"refresh": func() error { _, err := Refresh(context.Background(), cfg, &Token{RefreshToken: "r"}); return err }(),
				"revoke":  Revoke(context.Background(), cfg, &Token{RefreshToken: "r"}),
			}
			for name, err := range errs {
				if err == nil || !strings.Contains(err.Error(), tt.text) {
					t.Errorf("%s: err = %v, want %q", name, err, tt.text)
				}
			}
		})
	}
	for _, host := range []string{"", "127.0.0.1", "localhost", "[::1]"} {
		if err := (Config{Issuer: issuer, ClientID: "c", RedirectHost: host}).Check(); err != nil {
			t.Errorf("RedirectHost %q: %v", host, err)
		}
	}
}

// TestIssuerDiscoveryCacheFile: the cache lives below CacheDir, one file
// per issuer.
func TestIssuerDiscoveryCacheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := Config{Issuer: "https://kc.example.invalid/realms/a", CacheDir: dir}.discoveryCachePath()
	b := Config{Issuer: "https://kc.example.invalid/realms/b", CacheDir: dir}.discoveryCachePath()
	if a == b || filepath.Dir(a) != filepath.Join(dir, "discovery") {
		t.Errorf("cache paths %q %q", a, b)
	}
	if p := (Config{Issuer: "https://kc.example.invalid/realms/a"}).discoveryCachePath(); p != "" {
		t.Errorf("no CacheDir, cache path %q", p)
	}
}

// TestIssuerUserInfo: when the ID token names the user by neither
// preferred_username nor email, the claims come from the userinfo
// endpoint, asked with the new access token, and only for the same
// subject; a clear-text userinfo endpoint on another host is refused
// before the access token is sent there.
func TestIssuerUserInfo(t *testing.T) {
	t.Parallel()
	bare := func(c map[string]any) { delete(c, "preferred_username"); delete(c, "email"); delete(c, "name") }
	for _, tt := range []struct {
		name     string
		userinfo map[string]any
		want     Claims
	}{
		{"same subject", map[string]any{"sub": "user-42", "preferred_username": "alice-ui", "email": "alice@ui.example.org", "name": "Alice UI", "uid": "a42"},
			Claims{Subject: "user-42", PreferredUsername: "alice-ui", Email: "alice@ui.example.org", Name: "Alice UI", Username: "a42"}},
		{"another subject", map[string]any{"sub": "user-666", "preferred_username": "mallory", "uid": "m666"}, Claims{Subject: "user-42"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.claims, op.userinfo = bare, tt.userinfo
			cfg := op.config()
			cfg.UsernameClaim = "uid"
			tok, err, _ := op.runFlow(t, "code", cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Claims == nil || *tok.Claims != tt.want {
				t.Errorf("claims %+v, want %+v", tok.Claims, tt.want)
			}
			if a := op.authsOf("userinfo"); len(a) != 1 || a[0] != "Bearer "+tok.AccessToken {
				t.Errorf("userinfo asked with %q, want the new access token once", a)
			}
		})
	}
	t.Run("clear-text userinfo endpoint", func(t *testing.T) {
		t.Parallel()
		op := newFakeOP(t)
		op.claims = bare
		op.doc = func(d map[string]any) { d["userinfo_endpoint"] = "http://idp.example.invalid/userinfo" }
		cfg := op.config()
		cfg.HTTPClient = &http.Client{Transport: loopbackOnly{t}}
		tok, err, _ := op.runFlow(t, "code", cfg)
		var ce *ClearTextError
		if tok != nil || !errors.As(err, &ce) {
			t.Fatalf("got %v, %v; want a ClearTextError", tok, err)
		}
	})
}

// TestIssuerDiscoveryCacheOnlyUsable: a discovery document that is
// refused is not cached, so the provider's fix takes effect at once; the
// usable one that follows is.
func TestIssuerDiscoveryCacheOnlyUsable(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(d map[string]any){
		"no token_endpoint":        func(d map[string]any) { delete(d, "token_endpoint") },
		"clear-text jwks_uri":      func(d map[string]any) { d["jwks_uri"] = "http://idp.example.invalid/certs" },
		"token_endpoint not a URL": func(d map[string]any) { d["token_endpoint"] = "/token" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.doc = edit
			cfg := op.config()
			cfg.CacheDir = t.TempDir()
			if tok, err := op.runFlowErr(t, "refresh", cfg); tok != nil || err == nil {
				t.Fatalf("got %v, %v; want the document refused", tok, err)
			}
			if _, err := os.Stat(cfg.withDefaults().discoveryCachePath()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a refused document was cached: %v", err)
			}
			op.set(func(op *fakeOP) { op.doc = nil })
			for range 2 {
				if _, err := op.runFlowErr(t, "refresh", cfg); err != nil {
					t.Fatal(err)
				}
			}
			if n := op.count("discovery"); n != 2 {
				t.Errorf("%d discovery requests, want 2 (the refused one, then one cached)", n)
			}
		})
	}
}
