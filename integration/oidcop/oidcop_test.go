package oidcop

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

var allScopes = []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}

// callback is a client's loopback redirect URI.
type callback struct {
	URL string
	mu  sync.Mutex
	q   url.Values
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	cb := &callback{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb.mu.Lock()
		cb.q = r.URL.Query()
		cb.mu.Unlock()
		io.WriteString(w, "ok")
	}))
	t.Cleanup(srv.Close)
	cb.URL = srv.URL + "/callback"
	return cb
}

func (cb *callback) query() url.Values {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.q
}

// browse GETs u and follows redirects, like integration/testbrowser.
func browse(t *testing.T, u string) *http.Response {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("browse %s: %v", u, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func discover(t *testing.T, p *Provider) *oidc.Provider {
	t.Helper()
	prov, err := oidc.NewProvider(t.Context(), p.Issuer())
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return prov
}

func publicConfig(prov *oidc.Provider, redirect string) *oauth2.Config {
	ep := prov.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: PublicClientID, Endpoint: ep, RedirectURL: redirect, Scopes: allScopes}
}

// codeFlow runs the authorization code flow with PKCE and returns the token
// and the nonce it sent.
func codeFlow(t *testing.T, cfg *oauth2.Config, cb *callback, extra ...oauth2.AuthCodeOption) (*oauth2.Token, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, extra...)
	resp := browse(t, cfg.AuthCodeURL(state, opts...))
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Request.URL.String(), cb.URL+"?") {
		t.Fatalf("authorize ended at %s with %s", resp.Request.URL, resp.Status)
	}
	q := cb.query()
	if q.Get("state") != state || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok, nonce
}

func verifyIDToken(t *testing.T, prov *oidc.Provider, clientID string, tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token")
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: clientID}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify id_token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Errorf("nonce %q, want %q", idt.Nonce, nonce)
	}
	var claims struct {
		Email             string `json:"email"`
		EmailVerified     bool   `json:"email_verified"`
		PreferredUsername string `json:"preferred_username"`
		Name              string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != TestSubject || claims.Email != TestEmail || !claims.EmailVerified || claims.PreferredUsername != TestUser || claims.Name != TestName {
		t.Errorf("id token sub %q claims %+v", idt.Subject, claims)
	}
	return idt
}

// errorCode returns the OAuth error code of a failed token request.
func errorCode(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *oauth2.RetrieveError", err)
	}
	return re.ErrorCode
}

func refresh(cfg *oauth2.Config, ctx context.Context, rt string) (*oauth2.Token, error) {
	return cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
}

func TestDiscovery(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
		t.Fatalf("issuer %s", p.Issuer())
	}
	prov := discover(t, p)
	var meta struct {
		Revocation       string   `json:"revocation_endpoint"`
		Device           string   `json:"device_authorization_endpoint"`
		Userinfo         string   `json:"userinfo_endpoint"`
		JWKS             string   `json:"jwks_uri"`
		Methods          []string `json:"code_challenge_methods_supported"`
		Grants           []string `json:"grant_types_supported"`
		Scopes           []string `json:"scopes_supported"`
		TokenAuthMethods []string `json:"token_endpoint_auth_methods_supported"`
	}
	if err := prov.Claims(&meta); err != nil {
		t.Fatal(err)
	}
	if meta.Revocation != p.Issuer()+RevocationPath || meta.Device != p.Issuer()+DeviceAuthorizationPath ||
		meta.Userinfo != p.Issuer()+UserinfoPath || meta.JWKS != p.Issuer()+JWKSPath ||
		prov.Endpoint().TokenURL != p.Issuer()+TokenPath || prov.Endpoint().AuthURL != p.Issuer()+AuthorizePath {
		t.Errorf("endpoints %+v %+v", meta, prov.Endpoint())
	}
	if !slices.Contains(meta.Methods, "S256") || !slices.Contains(meta.Grants, "urn:ietf:params:oauth:grant-type:device_code") ||
		!slices.Contains(meta.Grants, "refresh_token") || !slices.Contains(meta.Scopes, "offline_access") ||
		!slices.Contains(meta.TokenAuthMethods, "none") {
		t.Errorf("metadata %+v", meta)
	}
	t.Logf("metadata %+v", meta)
	if c := p.Counts(); c["discovery"] != 1 {
		t.Errorf("counts %v", c)
	}
}

func TestCodeFlowPKCE(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, nonce := codeFlow(t, cfg, cb, oauth2.SetAuthURLParam("audience", "registry"), oauth2.SetAuthURLParam("resource", "https://r.example"), oauth2.SetAuthURLParam("prompt", "login"))
	verifyIDToken(t, prov, PublicClientID, tok, nonce)
	if tok.TokenType != "Bearer" || tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Errorf("token %+v", tok)
	}
	if tok.ExpiresIn < 250 || tok.ExpiresIn > 300 {
		t.Errorf("expires_in %d", tok.ExpiresIn)
	}
	if !p.RefreshTokenValid(tok.RefreshToken) {
		t.Error("refresh token not valid")
	}
	q := p.LastAuthorizeQuery()
	if q.Get("audience") != "registry" || q.Get("resource") != "https://r.example" || q.Get("prompt") != "login" || q.Get("code_challenge_method") != "S256" {
		t.Errorf("authorize query %v", q)
	}
	if f := p.LastTokenForm(); f.Get("client_id") != PublicClientID || f.Get("code_verifier") == "" || f.Get("grant_type") != "authorization_code" {
		t.Errorf("token form %v", f)
	}
	info, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != TestSubject || info.Email != TestEmail {
		t.Errorf("userinfo %+v", info)
	}
	c := p.Counts()
	for _, k := range []string{"discovery", "jwks", "authorize", "login", "authorize_callback", "token:authorization_code", "userinfo"} {
		if c[k] != 1 {
			t.Errorf("count %s = %d (%v)", k, c[k], c)
		}
	}

	// The code is single-use.
	if _, err := cfg.Exchange(t.Context(), cb.query().Get("code"), oauth2.VerifierOption("x")); errorCode(t, err) != "invalid_grant" {
		t.Errorf("code replay: %v", err)
	}
}

func TestCodeFlowBadPKCE(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)

	browse(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
	_, err := cfg.Exchange(t.Context(), cb.query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if errorCode(t, err) != "invalid_grant" {
		t.Errorf("wrong verifier: %v", err)
	}

	// A public client must use PKCE.
	browse(t, cfg.AuthCodeURL("s"))
	_, err = cfg.Exchange(t.Context(), cb.query().Get("code"))
	if errorCode(t, err) != "invalid_request" {
		t.Errorf("no PKCE: %v", err)
	}
}

func TestNoOfflineAccess(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	cfg.Scopes = []string{oidc.ScopeOpenID, "email"}
	tok, nonce := codeFlow(t, cfg, cb)
	if tok.RefreshToken != "" {
		t.Errorf("refresh token without offline_access")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := prov.Verifier(&oidc.Config{ClientID: PublicClientID}).Verify(t.Context(), raw)
	if err != nil || idt.Nonce != nonce {
		t.Fatalf("id token %v %v", idt, err)
	}
	var claims map[string]any
	idt.Claims(&claims)
	if claims["email"] != TestEmail || claims["preferred_username"] != nil {
		t.Errorf("claims for openid email: %v", claims)
	}
}

func TestRedirectURIs(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	for _, u := range []string{"http://127.0.0.1:1234/cb", "http://localhost:80/a/b?x=1", "http://[::1]:9/", "http://127.0.0.1/x"} {
		cfg := publicConfig(prov, u)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		// Follow the provider's own redirects only.
		next := cfg.AuthCodeURL("s", oauth2.S256ChallengeOption("v"))
		for strings.HasPrefix(next, p.Issuer()) || strings.HasPrefix(next, "/") {
			if strings.HasPrefix(next, "/") {
				next = p.Issuer() + next
			}
			resp, err := client.Get(next)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			next = resp.Header.Get("Location")
		}
		got, err := url.Parse(next)
		want, _ := url.Parse(u)
		if err != nil || got.Host != want.Host || got.Path != want.Path || got.Query().Get("code") == "" || got.Query().Get("state") != "s" {
			t.Errorf("%s: redirected to %q", u, next)
		}
	}
	for _, u := range []string{"http://evil.example/cb", "http://127.0.0.1:1@evil.example/cb", "https://127.0.0.1.evil.example/cb", "custom:/cb"} {
		resp := browse(t, publicConfig(prov, u).AuthCodeURL("s", oauth2.S256ChallengeOption("v")))
		if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Request.URL.String(), p.Issuer()) {
			t.Errorf("%s: ended at %s with %s", u, resp.Request.URL, resp.Status)
		}
	}
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, _ := codeFlow(t, cfg, cb)

	tok2, err := refresh(cfg, t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if tok2.RefreshToken == "" || tok2.RefreshToken == tok.RefreshToken || tok2.AccessToken == tok.AccessToken || tok2.TokenType != "Bearer" || tok2.ExpiresIn == 0 {
		t.Fatalf("refreshed token %+v", tok2)
	}
	// A refresh answer carries a new ID token, without a nonce.
	verifyIDToken(t, prov, PublicClientID, tok2, "")
	if p.RefreshTokenValid(tok.RefreshToken) || !p.RefreshTokenValid(tok2.RefreshToken) {
		t.Error("rotation did not invalidate the old refresh token")
	}
	if f := p.LastTokenForm(); f.Get("refresh_token") != tok.RefreshToken {
		t.Errorf("token form %v", f)
	}
	_, err = refresh(cfg, t.Context(), tok.RefreshToken)
	if errorCode(t, err) != "invalid_grant" {
		t.Errorf("old refresh token: %v", err)
	}
	// Without reuse detection the family lives on.
	if !p.RefreshTokenValid(tok2.RefreshToken) {
		t.Error("family revoked without DetectRefreshReuse")
	}
	if c := p.Counts()["token:refresh_token"]; c != 2 {
		t.Errorf("refresh count %d", c)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		t.Logf("reused refresh token answer: %d %s", re.Response.StatusCode, re.Body)
	}
}

func TestDetectRefreshReuse(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, _ := codeFlow(t, cfg, cb)
	tok2, err := refresh(cfg, t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	p.DetectRefreshReuse(true)
	if _, err := refresh(cfg, t.Context(), tok.RefreshToken); errorCode(t, err) != "invalid_grant" {
		t.Errorf("reuse: %v", err)
	}
	if p.RefreshTokenValid(tok2.RefreshToken) {
		t.Error("reuse did not revoke the family")
	}
	if _, err := refresh(cfg, t.Context(), tok2.RefreshToken); errorCode(t, err) != "invalid_grant" {
		t.Errorf("revoked family member: %v", err)
	}
	if _, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok2)); err == nil {
		t.Error("access token of a revoked family still works")
	}
}

func TestNoRotation(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{NoRotation: true})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, _ := codeFlow(t, cfg, cb)
	for range 2 {
		// Raw, since x/oauth2 fills in the refresh_token it sent.
		status, ans := postToken(t, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {PublicClientID}})
		if status != http.StatusOK || ans["access_token"] == nil {
			t.Fatalf("refresh: %d %v", status, ans)
		}
		if rt, ok := ans["refresh_token"]; ok {
			t.Errorf("refresh answer carries refresh_token %v", rt)
		}
	}
	if !p.RefreshTokenValid(tok.RefreshToken) {
		t.Error("refresh token no longer valid")
	}
}

// postToken posts form to the token endpoint and decodes the JSON answer.
func postToken(t *testing.T, p *Provider, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(p.Issuer()+TokenPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ans map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		t.Fatalf("token answer: %v", err)
	}
	return resp.StatusCode, ans
}

// TestRawRefreshAnswers pins what the library sends, for clients that parse
// token answers themselves.
func TestRawRefreshAnswers(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	tok, _ := codeFlow(t, publicConfig(prov, cb.URL), cb)
	status, ans := postToken(t, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {PublicClientID}})
	t.Logf("refresh answer: %d %v", status, ans)
	if status != http.StatusOK || ans["token_type"] != "Bearer" || ans["expires_in"] == nil || ans["id_token"] == nil ||
		ans["refresh_token"] == nil || ans["refresh_token"] == tok.RefreshToken || ans["scope"] != "openid profile email offline_access" {
		t.Errorf("refresh answer %d %v", status, ans)
	}
	rt2, _ := ans["refresh_token"].(string)
	status, ans = postToken(t, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {PublicClientID}})
	t.Logf("used refresh token: %d %v", status, ans)
	if status != http.StatusBadRequest || ans["error"] != "invalid_grant" {
		t.Errorf("used refresh token: %d %v", status, ans)
	}
	status, ans = postToken(t, p, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt2}, "client_id": {ConfidentialClientID}})
	t.Logf("another client's refresh token: %d %v", status, ans)
	if status != http.StatusUnauthorized || ans["error"] != "invalid_client" {
		t.Errorf("confidential client without secret: %d %v", status, ans)
	}
}

// revoke posts an RFC 7009 revocation as the public client.
func revoke(t *testing.T, p *Provider, token, hint string) {
	t.Helper()
	form := url.Values{"token": {token}, "client_id": {PublicClientID}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	resp, err := http.PostForm(p.Issuer()+RevocationPath, form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %s %s", resp.Status, body)
	}
}

func TestRevocation(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, _ := codeFlow(t, cfg, cb)
	revoke(t, p, tok.RefreshToken, "refresh_token")
	if p.RefreshTokenValid(tok.RefreshToken) {
		t.Error("revoked refresh token still valid")
	}
	if _, err := refresh(cfg, t.Context(), tok.RefreshToken); errorCode(t, err) != "invalid_grant" {
		t.Errorf("revoked refresh token: %v", err)
	}
	if _, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("access token of a revoked refresh token still works")
	}
	// Unknown tokens are fine.
	revoke(t, p, "no-such-token", "")

	tok, _ = codeFlow(t, cfg, cb)
	revoke(t, p, tok.AccessToken, "access_token")
	if _, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err == nil {
		t.Error("revoked access token still works")
	}
	if !p.RefreshTokenValid(tok.RefreshToken) {
		t.Error("revoking the access token revoked the refresh token")
	}
	p.RevokeRefreshTokens()
	if _, err := refresh(cfg, t.Context(), tok.RefreshToken); errorCode(t, err) != "invalid_grant" {
		t.Errorf("after RevokeRefreshTokens: %v", err)
	}
	if c := p.Counts()["revocation"]; c != 3 {
		t.Errorf("revocation count %d", c)
	}
}

func TestConfidentialClient(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cb := newCallback(t)
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		ep := prov.Endpoint()
		ep.AuthStyle = style
		cfg := &oauth2.Config{ClientID: ConfidentialClientID, ClientSecret: ConfidentialSecret, Endpoint: ep, RedirectURL: cb.URL, Scopes: allScopes}
		tok, nonce := codeFlow(t, cfg, cb)
		verifyIDToken(t, prov, ConfidentialClientID, tok, nonce)
		if _, err := refresh(cfg, t.Context(), tok.RefreshToken); err != nil {
			t.Errorf("refresh: %v", err)
		}

		// Without PKCE, with a wrong secret.
		browse(t, cfg.AuthCodeURL("s"))
		bad := *cfg
		bad.ClientSecret = "wrong"
		if _, err := bad.Exchange(t.Context(), cb.query().Get("code")); errorCode(t, err) != "invalid_client" {
			t.Errorf("wrong secret: %v", err)
		}
		if _, err := cfg.Exchange(t.Context(), cb.query().Get("code")); err != nil {
			t.Errorf("without PKCE: %v", err)
		}
	}
}

// deviceConfig is the public client's oauth2.Config for the device flow.
func deviceConfig(prov *oidc.Provider) *oauth2.Config {
	var meta struct {
		Device string `json:"device_authorization_endpoint"`
	}
	prov.Claims(&meta)
	cfg := publicConfig(prov, "")
	cfg.Endpoint.DeviceAuthURL = meta.Device
	return cfg
}

func TestDeviceFlow(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	prov := discover(t, p)
	cfg := deviceConfig(prov)
	da, err := cfg.DeviceAuth(t.Context(), oauth2.SetAuthURLParam("audience", "registry"))
	if err != nil {
		t.Fatalf("device auth: %v", err)
	}
	if da.UserCode != p.LastUserCode() || da.Interval != 1 || da.VerificationURI != p.Issuer()+DeviceVerificationPath ||
		da.VerificationURIComplete != da.VerificationURI+"?user_code="+da.UserCode || da.Expiry.IsZero() {
		t.Fatalf("device auth answer %+v", da)
	}
	if f := p.LastDeviceAuthorizationForm(); f.Get("audience") != "registry" || f.Get("client_id") != PublicClientID {
		t.Errorf("device authorization form %v", f)
	}
	// Approved while the first poll is answered: that poll gets
	// authorization_pending, the next the tokens. (A test that approved
	// once it saw the first poll arrive raced that poll's answer.)
	p.AutoApproveDevices(true)
	tok, err := cfg.DeviceAccessToken(t.Context(), da)
	if err != nil {
		t.Fatalf("device token: %v", err)
	}
	verifyIDToken(t, prov, PublicClientID, tok, "")
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Errorf("token %+v", tok)
	}
	if c := p.Counts()["token:device_code"]; c != 2 {
		t.Errorf("polls %d", c)
	}
	p.AutoApproveDevices(false)
	// A person types the user code in any case.
	da2, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.ApproveDevice(strings.ToLower(da2.UserCode)); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.DeviceAccessToken(t.Context(), da2); err != nil {
		t.Errorf("after approval by the user code in lower case: %v", err)
	}
	// Device tokens belong to the client: refresh and revocation work.
	tok2, err := refresh(cfg, t.Context(), tok.RefreshToken)
	if err != nil {
		t.Fatalf("refresh device token: %v", err)
	}
	revoke(t, p, tok2.RefreshToken, "")
	if p.RefreshTokenValid(tok2.RefreshToken) {
		t.Error("revocation failed")
	}
	if err := p.ApproveDevice(da.UserCode); err == nil {
		t.Error("a used user code was approved again")
	}
}

func TestDeviceSlowDown(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	cfg := deviceConfig(discover(t, p))
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	p.InjectSlowDown(1)
	if err := p.ApproveDevice(p.LastUserCode()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	tok, err := cfg.DeviceAccessToken(t.Context(), da)
	if err != nil {
		t.Fatalf("device token: %v", err)
	}
	// Poll 1 (after 1s): slow_down, so the interval becomes 6s; poll 2: tokens.
	if c := p.Counts()["token:device_code"]; c != 2 || tok.AccessToken == "" {
		t.Errorf("polls %d, token %+v", c, tok)
	}
	if d := time.Since(start); d < 6*time.Second {
		t.Errorf("took %s: slow_down was not honoured", d)
	}
}

func TestDeviceDeniedAndBrowser(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{})
	cfg := deviceConfig(discover(t, p))
	da, err := cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.DenyDevice(da.UserCode); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.DeviceAccessToken(t.Context(), da); errorCode(t, err) != "access_denied" {
		t.Errorf("denied: %v", err)
	}

	// Opening verification_uri_complete approves, like the test browser.
	da, err = cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if resp := browse(t, da.VerificationURIComplete); resp.StatusCode != http.StatusOK {
		t.Fatalf("verification page: %s", resp.Status)
	}
	if _, err := cfg.DeviceAccessToken(t.Context(), da); err != nil {
		t.Errorf("after browser approval: %v", err)
	}
	if resp := browse(t, da.VerificationURI+"?user_code=NOPE-NOPE"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown user code: %s", resp.Status)
	}

	// Auto-approval: the first poll answers authorization_pending.
	p.ResetCounts()
	p.AutoApproveDevices(true)
	da, err = cfg.DeviceAuth(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.DeviceAccessToken(t.Context(), da); err != nil {
		t.Errorf("auto-approved: %v", err)
	}
	if c := p.Counts()["token:device_code"]; c != 2 {
		t.Errorf("auto-approved after %d polls", c)
	}
}

func TestIssuerPathAndJWT(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{IssuerPath: "realms/test/", JWTAccessTokens: true})
	if !strings.HasSuffix(p.Issuer(), "/realms/test") {
		t.Fatalf("issuer %s", p.Issuer())
	}
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	tok, nonce := codeFlow(t, cfg, cb)
	verifyIDToken(t, prov, PublicClientID, tok, nonce)
	if strings.Count(tok.AccessToken, ".") != 2 {
		t.Errorf("access token %q is not a JWT", tok.AccessToken)
	}
	if _, err := prov.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
		t.Errorf("userinfo: %v", err)
	}
	if _, err := refresh(cfg, t.Context(), tok.RefreshToken); err != nil {
		t.Errorf("refresh: %v", err)
	}
	da, err := deviceConfig(prov).DeviceAuth(t.Context())
	if err != nil || da.VerificationURI != p.Issuer()+DeviceVerificationPath {
		t.Errorf("device auth %+v %v", da, err)
	}
	if resp := browse(t, strings.TrimSuffix(p.Issuer(), "/realms/test")+DiscoveryPath); resp.StatusCode != http.StatusNotFound {
		t.Errorf("discovery outside the issuer path: %s", resp.Status)
	}
}

func TestPromptNone(t *testing.T) {
	t.Parallel()
	for _, noSession := range []bool{false, true} {
		p := Start(t, Options{NoSession: noSession})
		cb := newCallback(t)
		cfg := publicConfig(discover(t, p), cb.URL)
		browse(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption("v"), oauth2.SetAuthURLParam("prompt", "none")))
		q := cb.query()
		if noSession && (q.Get("error") != "login_required" || q.Get("state") != "s") {
			t.Errorf("NoSession: callback %v", q)
		}
		if !noSession && q.Get("code") == "" {
			t.Errorf("session: callback %v", q)
		}
	}
}

func TestManualLogin(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{ManualLogin: true})
	prov := discover(t, p)
	cb := newCallback(t)
	cfg := publicConfig(prov, cb.URL)
	verifier := oauth2.GenerateVerifier()
	resp := browse(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != LoginPath {
		t.Fatalf("ended at %s %s", resp.Request.URL, resp.Status)
	}
	id := resp.Request.URL.Query().Get("authRequestID")
	post := func(password string) *http.Response {
		resp, err := http.PostForm(p.Issuer()+LoginPath, url.Values{"authRequestID": {id}, "username": {TestUser}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := post("wrong"); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong password: %s", r.Status)
	}
	if r := post(TestPassword); r.StatusCode != http.StatusOK || cb.query().Get("code") == "" {
		t.Fatalf("login: %s at %s", r.Status, r.Request.URL)
	}
	if _, err := cfg.Exchange(t.Context(), cb.query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Error(err)
	}
}

func TestHostileWrap(t *testing.T) {
	t.Parallel()
	p := Start(t, Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != DiscoveryPath {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var meta map[string]any
			json.Unmarshal(rec.Body.Bytes(), &meta)
			meta["issuer"] = "http://127.0.0.1:1"
			json.NewEncoder(w).Encode(meta)
		})
	}})
	if _, err := oidc.NewProvider(t.Context(), p.Issuer()); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("issuer mismatch accepted: %v", err)
	}
	p.SetWrap(func(http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html>login</html>")
		})
	})
	if _, err := oidc.NewProvider(t.Context(), p.Issuer()); err == nil {
		t.Error("HTML discovery accepted")
	}
	p.SetWrap(nil)
	discover(t, p)
	if c := p.Counts()["discovery"]; c != 3 {
		t.Errorf("discovery count %d", c)
	}
	srv := httptest.NewServer(p.Handler())
	defer srv.Close()
	if _, err := oidc.NewProvider(t.Context(), srv.URL); err == nil {
		t.Error("Handler served elsewhere: issuer mismatch accepted")
	}
}
