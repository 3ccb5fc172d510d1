package pyauthserver

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
)

// authCode is an authorization code issued by the embedded provider.
type authCode struct {
	redirectURI string
	challenge   string // S256 code_challenge (RFC 7636 §4.2)
	used        bool
}

// idpError is a planned error answer of the next authorization request.
type idpError struct {
	code, description string
}

// SetIdPError makes the next authorization request redirect to the
// redirect_uri with ?error=code&error_description=description&state=… instead
// of a code (RFC 6749 §4.1.2.1); an empty code clears the plan.
func (s *Server) SetIdPError(code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == "" {
		s.idpErr = nil
		return
	}
	s.idpErr = &idpError{code, description}
}

// s256 is the PKCE S256 code challenge of verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// handleLogin is the browser entry of the code flow. Like py-oidc-auth it
// makes the PKCE verifier itself (RFC 7636 §4.1), packs it into
// state = "<random>|<redirect_uri>|<code_verifier>" and redirects to the
// provider without validating redirect_uri.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.lastLoginQuery = cloneValues(q)
	s.mu.Unlock()
	redirectURI := q.Get("redirect_uri")
	if redirectURI == "" {
		WriteDetail(w, http.StatusBadRequest, "Missing redirect_uri")
		return
	}
	verifier := randToken(32)
	state := randToken(16) + "|" + redirectURI + "|" + verifier
	s.mu.Lock()
	s.loginSecrets = append(s.loginSecrets, state, verifier)
	s.mu.Unlock()
	scope := "openid profile email"
	if q.Get("offline_access") == "true" {
		scope += " offline_access"
	}
	auth := url.Values{
		"response_type":         {"code"},
		"client_id":             {ClientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {scope},
		"state":                 {state},
		"code_challenge":        {s256(verifier)},
		"code_challenge_method": {"S256"},
	}
	if p := q.Get("prompt"); p != "" {
		auth.Set("prompt", p)
	}
	s.redirect(w, s.base+"/idp/authorize?"+auth.Encode(), s.loginRedirectStatus())
}

// redirectAllowed reports whether the provider's client registration would
// whitelist uri: http://localhost:{port}/callback with port in ValidPorts.
func (s *Server) redirectAllowed(u *url.URL) bool {
	if !s.opts.StrictRedirect {
		return true
	}
	if u.Scheme != "http" || u.Hostname() != "localhost" || u.Path != "/callback" {
		return false
	}
	port, err := strconv.Atoi(u.Port())
	return err == nil && slices.Contains(s.opts.ValidPorts, port)
}

// handleAuthorize is the provider's authorization endpoint (RFC 6749 §4.1.1).
// The user is always logged in and consents, so it redirects at once.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() || !s.redirectAllowed(redirect) {
		writeHTML(w, http.StatusBadRequest, "We are sorry...", "Invalid parameter: redirect_uri")
		return
	}
	answer := url.Values{}
	s.mu.Lock()
	switch {
	case s.idpErr != nil:
		answer.Set("error", s.idpErr.code)
		if s.idpErr.description != "" {
			answer.Set("error_description", s.idpErr.description)
		}
		s.idpErr = nil
	case q.Get("response_type") != "code":
		answer.Set("error", "unsupported_response_type")
		answer.Set("error_description", "Unsupported response_type")
	case q.Get("code_challenge") == "" || q.Get("code_challenge_method") != "S256":
		answer.Set("error", "invalid_request")
		answer.Set("error_description", "Missing parameter: code_challenge_method")
	default:
		code := randToken(32)
		s.codes[code] = &authCode{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge")}
		answer.Set("code", code)
	}
	s.mu.Unlock()
	if st := q.Get("state"); st != "" {
		answer.Set("state", st)
	}
	rq := redirect.Query()
	for k, vs := range answer {
		rq[k] = vs
	}
	redirect.RawQuery = rq.Encode()
	s.redirect(w, redirect.String(), http.StatusFound)
}

// exchangeCode answers an authorization code grant (RFC 6749 §4.1.3) with
// PKCE verification (RFC 7636 §4.6). A code is consumed by its first
// exchange attempt, failed or not, as Keycloak does.
func (s *Server) exchangeCode(w http.ResponseWriter, form url.Values) {
	redirectURI := form.Get("redirect_uri")
	if redirectURI == "" {
		WriteDetail(w, http.StatusBadRequest, "Missing redirect_uri")
		return
	}
	s.mu.Lock()
	c := s.codes[form.Get("code")]
	desc := ""
	switch {
	case c == nil || c.used:
		desc = "Code not valid"
	case redirectURI != c.redirectURI:
		desc = "Incorrect redirect_uri"
	case form.Get("code_verifier") == "":
		desc = "PKCE code verifier not specified"
	case s256(form.Get("code_verifier")) != c.challenge:
		desc = "PKCE verification failed: Code mismatch"
	}
	if c != nil {
		c.used = true
	}
	if desc != "" {
		s.mu.Unlock()
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	resp := s.issueLocked(s.now())
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}
