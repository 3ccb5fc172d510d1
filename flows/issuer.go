package flows

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"golang.org/x/oauth2"
)

// The second kind of server: any standard OpenID Provider (Keycloak, Dex,
// Entra, GitLab, Google, zitadel), named by its issuer and a client id and
// spoken to with golang.org/x/oauth2 and github.com/coreos/go-oidc: OpenID
// Connect Discovery, the authorization code grant with PKCE (RFC 7636),
// the device authorization grant (RFC 8628), refresh, ID token
// verification and token revocation (RFC 7009).

// DefaultScopes are the scopes asked of a standard provider when a Config
// names none: an ID token, and a refresh token that outlives the session.
var DefaultScopes = []string{oidc.ScopeOpenID, oidc.ScopeOfflineAccess}

// DefaultUsernameClaim is the ID token claim that names the user when a
// Config names none.
const DefaultUsernameClaim = "preferred_username"

// discoveryTTL is how long a cached discovery document is used without
// asking the provider again.
const discoveryTTL = 24 * time.Hour

// IssuerKey returns the store key of the login at issuer with clientID:
// "oidc+" and the issuer URL (scheme and host lowercased, default port and
// trailing "/" dropped, path kept), with the client id as a query.
//
//	IssuerKey("https://KC.example.org/realms/x/", "cli") == "oidc+https://kc.example.org/realms/x?client_id=cli"
func IssuerKey(issuer, clientID string) (string, error) {
	return storekey.IssuerKey(issuer, clientID)
}

// isIssuerKey reports whether a store key is IssuerKey's.
func isIssuerKey(key string) bool { return storekey.IsIssuerKey(key) }

// discovery is the part of a provider's discovery document the flows use,
// as it is cached on disk.
type discovery struct {
	oidc.ProviderConfig
	RevocationURL string    `json:"revocation_endpoint,omitempty"`
	FetchedAt     time.Time `json:"fetched_at"`
}

// issuerProvider is a provider ready for the flows: its endpoints, and the
// context whose HTTP client go-oidc and x/oauth2 use.
type issuerProvider struct {
	cfg      Config
	disc     discovery
	provider *oidc.Provider
	oauth    *oauth2.Config
	ctx      context.Context
}

// discover returns the provider of cfg's issuer: from the discovery cache
// in cfg.CacheDir when it is younger than a day (no request), else asked
// of the provider with go-oidc, which checks that the document names the
// same issuer.
func discover(ctx context.Context, cfg Config) (*issuerProvider, error) {
	cfg.HTTPClient = carryDebug(ctx, cfg.HTTPClient)
	hctx := oidc.ClientContext(ctx, cfg.HTTPClient)
	hctx = context.WithValue(hctx, oauth2.HTTPClient, cfg.HTTPClient)
	p := &issuerProvider{cfg: cfg, ctx: hctx}
	NoteSecret(ctx, cfg.clientSecrets()...)
	cache, fetched := cfg.discoveryCachePath(), false
	if d, ok := readDiscovery(cache); ok && d.IssuerURL == cfg.Issuer && time.Since(d.FetchedAt) < discoveryTTL && time.Since(d.FetchedAt) >= 0 {
		p.disc = d
		Debugf(ctx, DebugDetails, "discovery of %s: cached in %s (fetched %s ago)", cfg.Issuer, cache, time.Since(d.FetchedAt).Round(time.Second))
	} else {
		switch {
		case cache == "":
			Debugf(ctx, DebugDetails, "discovery of %s: no cache directory, asking the provider", cfg.Issuer)
		case !ok:
			Debugf(ctx, DebugDetails, "discovery of %s: not cached in %s, asking the provider", cfg.Issuer, cache)
		default:
			Debugf(ctx, DebugDetails, "discovery of %s: the copy in %s is stale or another issuer's, asking the provider", cfg.Issuer, cache)
		}
		prov, err := oidc.NewProvider(hctx, cfg.Issuer)
		if err != nil {
			return nil, discoveryError(ctx, cfg, err)
		}
		if err := prov.Claims(&p.disc); err != nil {
			return nil, fmt.Errorf("flows: the discovery document of %s cannot be read: %v", cfg.Issuer, err)
		}
		p.disc.FetchedAt, fetched = time.Now().UTC(), true
	}
	for name, raw := range map[string]string{"token_endpoint": p.disc.TokenURL, "authorization_endpoint": p.disc.AuthURL,
		"device_authorization_endpoint": p.disc.DeviceAuthURL, "jwks_uri": p.disc.JWKSURL, "revocation_endpoint": p.disc.RevocationURL,
		"userinfo_endpoint": p.disc.UserInfoURL} {
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("flows: the discovery document of %s has a bad %s", cfg.Issuer, name)
		}
		if err := checkTransport(u, cfg.AllowHTTP); err != nil {
			return nil, &endpointError{what: "the " + name + " of " + cfg.Issuer, err: err}
		}
	}
	if p.disc.TokenURL == "" {
		return nil, fmt.Errorf("flows: the discovery document of %s names no token_endpoint; is %s an OpenID Provider's issuer?", cfg.Issuer, cfg.Issuer)
	}
	if fetched {
		// Only a usable document is cached: one the provider fixes is
		// asked for again next time, not refused for a day.
		writeDiscovery(cache, p.disc)
	}
	p.provider = p.disc.ProviderConfig.NewProvider(hctx)
	style := oauth2.AuthStyleInHeader
	if cfg.ClientSecret == "" {
		style = oauth2.AuthStyleInParams // a public client sends its id in the form
	}
	p.oauth = &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.disc.AuthURL, TokenURL: p.disc.TokenURL, DeviceAuthURL: p.disc.DeviceAuthURL, AuthStyle: style},
		Scopes:       cfg.Scopes,
	}
	return p, nil
}

// discoveryError describes a failed discovery.
func discoveryError(ctx context.Context, cfg Config, err error) error {
	var mismatch *oidc.IssuerMismatchError
	var ue *url.Error
	switch {
	case errors.As(err, &mismatch):
		return fmt.Errorf("flows: the discovery document at %s names the issuer %s, not %s; give the issuer exactly as the provider names it", cfg.Issuer, terminalSafe(mismatch.Discovered), mismatch.Provided)
	case errors.As(err, &ue):
		u, _ := url.Parse(cfg.Issuer)
		return transportError(ctx, u, err, nil)
	}
	msg := err.Error()
	if status, _, _ := strings.Cut(msg, " "); len(status) == 3 && status[0] == '3' {
		return fmt.Errorf("flows: %s/.well-known/openid-configuration answered a redirect; credentials are never sent on to another address, so give the issuer exactly as the provider names it", strings.TrimRight(cfg.Issuer, "/"))
	}
	return fmt.Errorf("flows: no OpenID Provider at %s (its discovery document: %s); check the issuer URL", cfg.Issuer, secrets(nil).quote(msg))
}

// discoveryCachePath is where the discovery document of cfg's issuer is
// cached, or "" when there is no cache directory.
func (c Config) discoveryCachePath() string {
	if c.CacheDir == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(c.Issuer))
	return filepath.Join(c.CacheDir, "discovery", hex.EncodeToString(sum[:8])+".json")
}

func readDiscovery(path string) (discovery, bool) {
	var d discovery
	if path == "" {
		return d, false
	}
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &d) != nil {
		return d, false
	}
	return d, true
}

// writeDiscovery caches a discovery document; a cache that cannot be
// written only costs a request next time.
func writeDiscovery(path string, d discovery) {
	if path == "" {
		return
	}
	b, err := json.Marshal(d)
	if err != nil || os.MkdirAll(filepath.Dir(path), 0o700) != nil {
		return
	}
	tmp := path + "." + rand.Text() + ".tmp"
	if os.WriteFile(tmp, b, 0o600) == nil && os.Rename(tmp, path) != nil {
		os.Remove(tmp)
	}
}

// audienceOptions ask for a token for another API (cfg.Audience): RFC
// 8707's resource when it is an absolute URI, and the audience parameter
// Keycloak, Auth0 and zitadel take.
func (c Config) audienceOptions() []oauth2.AuthCodeOption {
	if c.Audience == "" {
		return nil
	}
	opts := []oauth2.AuthCodeOption{oauth2.SetAuthURLParam("audience", c.Audience)}
	if u, err := url.Parse(c.Audience); err == nil && u.IsAbs() {
		opts = append(opts, oauth2.SetAuthURLParam("resource", c.Audience))
	}
	return opts
}

// clientSecrets are the client's secret and the HTTP Basic credentials
// made of it, which a provider's error may echo.
func (c Config) clientSecrets() secrets {
	if c.ClientSecret == "" {
		return nil
	}
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ClientID) + ":" + url.QueryEscape(c.ClientSecret)))
	return secrets{}.with(c.ClientSecret, basic)
}

// oauthError turns an error of x/oauth2 at endpoint into ours: a redirect,
// a server error with the secrets of sec masked, or a transport failure.
func oauthError(ctx context.Context, endpoint string, err error, sec secrets) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		u, _ := url.Parse(endpoint)
		if isRedirect(re.Response.StatusCode) {
			return newRedirectError(u, &response{status: re.Response.StatusCode, location: re.Response.Header.Get("Location")}, sec)
		}
		se := parseServerError(endpoint, re.Response.StatusCode, re.Response.Header.Get("Content-Type"), re.Body, sec)
		if se.Code == "" && errorCodeRE().MatchString(re.ErrorCode) {
			se.Code = re.ErrorCode
		}
		return se
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		u, _ := url.Parse(endpoint)
		return transportError(ctx, u, err, sec)
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return fmt.Errorf("flows: %s: %s", endpoint, sec.quote(err.Error()))
}

// fromOAuth turns an x/oauth2 token into ours, with the ID token and its
// claims when there is one.
func (p *issuerProvider) fromOAuth(t *oauth2.Token, now time.Time) (*Token, error) {
	if !printable(t.AccessToken) || t.AccessToken == "" || !printable(t.RefreshToken) || !printable(t.TokenType) {
		return nil, fmt.Errorf("flows: %s sent a token with characters a token cannot have", p.disc.TokenURL)
	}
	m := map[string]any{"access_token": t.AccessToken}
	if !t.Expiry.IsZero() {
		m["expires"] = json.Number(fmt.Sprint(t.Expiry.Unix()))
	}
	if v := t.Extra("refresh_expires_in"); v != nil {
		// x/oauth2 decodes the answer into float64s, which expiry does
		// not read: Keycloak's 1800 would be "not a number".
		m["refresh_expires_in"] = json.Number(fmt.Sprint(v))
	}
	tok := &Token{AccessToken: t.AccessToken, TokenType: t.Type(), RefreshToken: t.RefreshToken}
	var err error
	if tok.Expires, err = expiry(m, now, "expires_in", "expires"); err != nil {
		return nil, err
	}
	if tok.RefreshToken != "" {
		// Most providers do not say how long a refresh token lives; it
		// lives until the provider refuses it.
		if _, ok := m["refresh_expires_in"]; !ok {
			m["refresh_expires_in"] = json.Number(fmt.Sprint(int64(maxLifetime.Seconds())))
		}
		if tok.RefreshExpires, err = expiry(m, now, "refresh_expires_in", "refresh_expires"); err != nil {
			return nil, err
		}
	}
	if scope, ok := t.Extra("scope").(string); ok {
		tok.Scope = scope
	}
	tok.Headers = map[string]string{"Authorization": tok.Authorization()}
	if raw, ok := t.Extra("id_token").(string); ok && printable(raw) {
		tok.IDToken = raw
	}
	return tok, nil
}

// verify checks the ID token of a new login (signature against the
// provider's keys, issuer, audience, expiry and nonce) and records its
// claims in tok.
func (p *issuerProvider) verify(tok *Token, nonce string) error {
	if tok.IDToken == "" {
		return fmt.Errorf("flows: %s sent no ID token; ask for the openid scope", p.disc.TokenURL)
	}
	NoteSecret(p.ctx, tok.IDToken, nonce)
	idt, err := p.provider.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}).Verify(p.ctx, tok.IDToken)
	if err != nil {
		Debugf(p.ctx, DebugDecisions, "ID token from %s: not valid", p.cfg.Issuer)
		return fmt.Errorf("flows: the ID token from %s is not valid: %s", p.cfg.Issuer, secrets{tok.IDToken}.quote(err.Error()))
	}
	if nonce != "" && !equalSecret(idt.Nonce, nonce) {
		Debugf(p.ctx, DebugDecisions, "ID token from %s: signature valid, but the nonce is another login's", p.cfg.Issuer)
		return fmt.Errorf("flows: the ID token from %s carries another login's nonce; the login was not this one's", p.cfg.Issuer)
	}
	var c struct {
		PreferredUsername string `json:"preferred_username"`
		Email             string `json:"email"`
		Name              string `json:"name"`
	}
	if err := idt.Claims(&c); err != nil {
		return fmt.Errorf("flows: the ID token from %s has unreadable claims: %v", p.cfg.Issuer, err)
	}
	var all map[string]any
	idt.Claims(&all)
	checked := "signature, issuer, audience, expiry"
	if nonce != "" {
		checked += ", nonce"
	}
	Debugf(p.ctx, DebugDecisions, "ID token from %s: verified (%s); it expires at %s", p.cfg.Issuer, checked, idt.Expiry.Local().Format(time.RFC3339))
	if c.PreferredUsername == "" && c.Email == "" && p.disc.UserInfoURL != "" {
		Debugf(p.ctx, DebugDecisions, "the ID token names no username or email; asking the userinfo endpoint")
		// Some providers keep profile claims out of the ID token when an
		// access token is issued too; their userinfo answer has them (OIDC
		// Core §5.3.2: for the same subject only).
		ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken, TokenType: "Bearer"})
		ui, err := p.provider.UserInfo(p.ctx, ts)
		switch {
		case err != nil:
			Debugf(p.ctx, DebugDecisions, "userinfo: no answer to use; the login keeps no username")
		case ui.Subject != idt.Subject:
			Debugf(p.ctx, DebugDecisions, "userinfo: its answer is about another subject; ignored")
		}
		if err == nil && ui.Subject == idt.Subject {
			ui.Claims(&c)
			var more map[string]any
			if ui.Claims(&more) == nil {
				for k, v := range more {
					if _, ok := all[k]; !ok {
						all[k] = v
					}
				}
			}
		}
	}
	tok.Claims = &Claims{Subject: idt.Subject, PreferredUsername: terminalSafe(c.PreferredUsername), Email: terminalSafe(c.Email), Name: terminalSafe(c.Name)}
	if claim := p.cfg.UsernameClaim; claim != "" && claim != DefaultUsernameClaim {
		if v, ok := all[claim].(string); ok {
			tok.Claims.Username = terminalSafe(v)
		}
	}
	return nil
}

// debugIssued notes the secrets of a new token and says what it holds:
// which tokens and until when, never their values.
func debugIssued(ctx context.Context, what string, tok *Token) {
	NoteSecret(ctx, tok.AccessToken, tok.RefreshToken, tok.IDToken)
	if !DebugEnabled(ctx, DebugDecisions) {
		return
	}
	has := "an access token"
	if tok.RefreshToken != "" {
		has += ", a refresh token"
	}
	if tok.IDToken != "" {
		has += ", an ID token"
	}
	Debugf(ctx, DebugDecisions, "%s: got %s; the access token expires at %s", what, has, time.Unix(tok.Expires, 0).Local().Format(time.RFC3339))
}

// issuerDevice runs the device authorization grant (RFC 8628) with
// x/oauth2, with the same refusals and bounds as for py-oidc-auth servers.
func (f *DeviceFlow) issuerDevice(ctx context.Context, cfg Config) (*Token, error) {
	p, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if p.disc.DeviceAuthURL == "" {
		return nil, fmt.Errorf("%w (the discovery document of %s names no device_authorization_endpoint)", ErrNoDeviceFlow, cfg.Issuer)
	}
	opts := cfg.audienceOptions()
	dctx := p.ctx
	if cfg.ClientSecret != "" {
		// x/oauth2 sends the device authorization request with the client
		// id alone; a confidential client authenticates there too (RFC
		// 8628 §3.1), with HTTP Basic as every provider takes it.
		client := *p.cfg.HTTPClient
		client.Transport = &basicAuthTransport{base: client.Transport, url: p.disc.DeviceAuthURL, id: cfg.ClientID, secret: cfg.ClientSecret}
		dctx = context.WithValue(p.ctx, oauth2.HTTPClient, &client)
	}
	da, err := p.oauth.DeviceAuth(dctx, opts...)
	if err != nil {
		return nil, oauthError(ctx, p.disc.DeviceAuthURL, err, nil)
	}
	if da.DeviceCode == "" || da.VerificationURI == "" {
		return nil, fmt.Errorf("flows: %s sent a device authorization without device_code or verification_uri", p.disc.DeviceAuthURL)
	}
	if err := checkShown(p.disc.DeviceAuthURL, da.UserCode, da.VerificationURI, da.VerificationURIComplete); err != nil {
		return nil, err
	}
	now := f.clock()
	if da.Expiry.IsZero() || da.Expiry.Sub(now) > maxDeviceExpiry {
		da.Expiry = now.Add(maxDeviceExpiry)
	}
	da.Interval = int64(clampSeconds(json.Number(fmt.Sprint(da.Interval)), defaultInterval, maxInterval) / time.Second)
	stop := f.present(ctx, cfg, da.VerificationURIComplete, da.VerificationURI, da.UserCode, da.Expiry)
	t, err := p.oauth.DeviceAccessToken(p.ctx, da, opts...)
	stop()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// The device code's expiry, which x/oauth2 makes a deadline
			// of its own (and oauthError would no longer match).
			return nil, fmt.Errorf("%w before the login was approved; run the login again", ErrExpiredToken)
		}
		err = oauthError(ctx, p.disc.TokenURL, err, cfg.clientSecrets().with(da.DeviceCode))
		var se *ServerError
		if errors.As(err, &se) {
			return nil, deviceEnded(se)
		}
		return nil, err
	}
	tok, err := p.fromOAuth(t, f.clock())
	if err != nil {
		return nil, err
	}
	debugIssued(ctx, "device login", tok)
	if err := p.verify(tok, ""); err != nil {
		return nil, err // a token whose ID token is not valid is no login
	}
	return tok, nil
}

// issuerStart prepares the code flow of a standard provider: our own
// state, nonce and PKCE verifier (RFC 7636 S256), and the exchange of the
// code the callback brings.
func issuerStart(ctx context.Context, cfg Config, redirectURI string) (*codeStart, error) {
	p, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if p.disc.AuthURL == "" {
		return nil, fmt.Errorf("flows: the discovery document of %s names no authorization_endpoint, so no browser login is possible; use --flow device", cfg.Issuer)
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	NoteSecret(ctx, state, nonce, verifier)
	oc := *p.oauth
	oc.RedirectURL = redirectURI
	opts := append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}, cfg.audienceOptions()...)
	return &codeStart{
		authURL: oc.AuthCodeURL(state, opts...),
		state:   state,
		exchange: func(ctx context.Context, code, _ string) (*Token, error) {
			NoteSecret(ctx, code)
			Debugf(ctx, DebugDecisions, "exchanging the login code at %s (PKCE S256)", p.disc.TokenURL)
			xopts := append([]oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}, cfg.audienceOptions()...)
			client := carryDebug(ctx, p.cfg.HTTPClient)
			t, err := oc.Exchange(context.WithValue(oidc.ClientContext(ctx, client), oauth2.HTTPClient, client), code, xopts...)
			if err != nil {
				err = oauthError(ctx, p.disc.TokenURL, err, cfg.clientSecrets().with(code, verifier, state))
				var se *ServerError
				if errors.As(err, &se) {
					return nil, fmt.Errorf("flows: exchanging the login code failed: %w", se)
				}
				return nil, err
			}
			tok, err := p.fromOAuth(t, time.Now())
			if err != nil {
				return nil, err
			}
			debugIssued(ctx, "code exchange", tok)
			if err := p.verify(tok, nonce); err != nil {
				return nil, err
			}
			return tok, nil
		},
	}, nil
}

// issuerRefresh refreshes tok at a standard provider. A provider that
// rotates refresh tokens sends a new one; one that does not keeps the old
// one working (x/oauth2 keeps it). invalid_grant, and Dex's
// invalid_request, mean the refresh token is used or revoked: log in again.
func issuerRefresh(ctx context.Context, cfg Config, tok *Token) (*Token, error) {
	p, err := discover(ctx, cfg)
	if err != nil {
		return nil, err
	}
	Debugf(ctx, DebugDecisions, "refreshing at %s", p.disc.TokenURL)
	ts := p.oauth.TokenSource(p.ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)})
	t, err := ts.Token()
	if err != nil {
		err = oauthError(ctx, p.disc.TokenURL, err, cfg.clientSecrets().with(tok.RefreshToken, tok.AccessToken))
		var se *ServerError
		if errors.As(err, &se) {
			if se.Code == "invalid_grant" || se.Code == "invalid_request" || se.Status == http.StatusUnauthorized {
				Debugf(ctx, DebugDecisions, "refresh refused (%d %s): the provider no longer accepts the refresh token", se.Status, se.Code)
				return nil, fmt.Errorf("%w (%w)", ErrSessionExpired, se)
			}
			Debugf(ctx, DebugDecisions, "refresh failed (%d %s)", se.Status, se.Code)
			return nil, fmt.Errorf("flows: refresh failed: %w", se)
		}
		return nil, err
	}
	nt, err := p.fromOAuth(t, time.Now())
	if err != nil {
		return nil, err
	}
	debugIssued(ctx, "refresh", nt)
	if nt.RefreshToken == tok.RefreshToken {
		nt.RefreshExpires = max(nt.RefreshExpires, tok.RefreshExpires)
	}
	if nt.IDToken == "" {
		nt.IDToken = tok.IDToken
	}
	nt.Claims = tok.Claims // a refreshed ID token is not verified again: that would cost a JWKS request
	return nt, nil
}

// Revoke revokes the stored refresh token of a standard provider at its
// revocation endpoint (RFC 7009), so that it cannot be used after a
// logout. It returns ErrNoRevocation when the provider advertises none,
// and does nothing for a py-oidc-auth server, whose protocol has no
// revocation.
func Revoke(ctx context.Context, cfg Config, tok *Token) error {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return err
	}
	if !cfg.isIssuer() {
		return ErrNoRevocation
	}
	if tok == nil || tok.RefreshToken == "" {
		return nil
	}
	p, err := discover(ctx, cfg)
	if err != nil {
		return err
	}
	if p.disc.RevocationURL == "" {
		Debugf(ctx, DebugDecisions, "%s advertises no revocation endpoint", cfg.Issuer)
		return ErrNoRevocation
	}
	Debugf(ctx, DebugDecisions, "revoking the refresh token at %s", p.disc.RevocationURL)
	form := url.Values{"token": {tok.RefreshToken}, "token_type_hint": {"refresh_token"}}
	if cfg.ClientSecret == "" {
		form.Set("client_id", cfg.ClientID)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.disc.RevocationURL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cfg.ClientSecret != "" {
		req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	}
	sec := cfg.clientSecrets().with(tok.RefreshToken, tok.AccessToken)
	resp, err := do(ctx, cfg, req, sec)
	if err != nil {
		return err
	}
	switch {
	case isRedirect(resp.status):
		return newRedirectError(req.URL, resp, sec)
	case resp.status != http.StatusOK:
		return fmt.Errorf("flows: revoking the refresh token failed: %w", parseServerError(p.disc.RevocationURL, resp.status, resp.contentType, resp.body, sec))
	}
	return nil
}

// ErrNoRevocation means the server offers no way to revoke a token: the
// login is forgotten here, and stays valid at the server until it expires.
var ErrNoRevocation = errors.New("flows: the server offers no token revocation")

// endpointError names the discovered endpoint an error is about, with one
// package prefix.
type endpointError struct {
	what string
	err  error
}

func (e *endpointError) Error() string { return "flows: " + e.what + ": " + trimPackage(e.err.Error()) }
func (e *endpointError) Unwrap() error { return e.err }

// basicAuthTransport adds a confidential client's HTTP Basic credentials
// (RFC 6749 §2.3.1) to the requests to one URL that carry none.
type basicAuthTransport struct {
	base            http.RoundTripper
	url, id, secret string
}

// RoundTrip sends r, with the client's credentials when r goes to the URL.
func (t *basicAuthTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.String() == t.url && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.SetBasicAuth(url.QueryEscape(t.id), url.QueryEscape(t.secret))
	}
	return t.base.RoundTrip(r)
}
