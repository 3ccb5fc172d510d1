package pyauthserver

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"
)

// TokenResponse is the body of every successful token-route answer.
// Expires and RefreshExpires are absolute Unix seconds.
type TokenResponse struct {
	AccessToken    string `json:"access_token"`
	TokenType      string `json:"token_type"`
	Expires        int64  `json:"expires"`
	RefreshToken   string `json:"refresh_token"`
	RefreshExpires int64  `json:"refresh_expires"`
	Scope          string `json:"scope"`
}

// accessGrant is the server's record of an access token.
type accessGrant struct {
	exp     time.Time
	revoked bool
}

// refreshGrant is the server's record of a refresh token (a broker session
// token in broker mode).
type refreshGrant struct {
	exp     time.Time
	used    bool // rotated away
	revoked bool
}

// randToken returns n random bytes, base64url-encoded without padding.
func randToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// issueLocked mints a token pair valid from now. s.mu must be held.
func (s *Server) issueLocked(now time.Time) TokenResponse {
	accessExp := now.Add(s.opts.AccessTTL)
	refreshExp := now.Add(s.opts.RefreshTTL)
	var at, rt string
	if s.opts.Broker {
		at = s.brokerJWT(now, accessExp)
		rt = at
	} else {
		at = randToken(32)
		rt = randToken(32)
	}
	s.access[at] = &accessGrant{exp: accessExp}
	s.refresh[rt] = &refreshGrant{exp: refreshExp}
	tokenType := "Bearer"
	if s.opts.TokenTypeLower {
		tokenType = "bearer"
	}
	return TokenResponse{
		AccessToken:    at,
		TokenType:      tokenType,
		Expires:        accessExp.Unix(),
		RefreshToken:   rt,
		RefreshExpires: refreshExp.Unix(),
		Scope:          Scope,
	}
}

// brokerJWT returns an HS256 JWT (RFC 7519) signed with the server's key.
func (s *Server) brokerJWT(now, exp time.Time) string {
	header := base64.RawURLEncoding.EncodeToString(marshal(map[string]string{"alg": "HS256", "typ": "JWT"}))
	payload := base64.RawURLEncoding.EncodeToString(marshal(struct {
		Iss   string `json:"iss"`
		Sub   string `json:"sub"`
		Aud   string `json:"aud"`
		Iat   int64  `json:"iat"`
		Exp   int64  `json:"exp"`
		Jti   string `json:"jti"`
		Name  string `json:"preferred_username"`
		Email string `json:"email"`
	}{s.base, s.opts.User.Username, ClientID, now.Unix(), exp.Unix(), randToken(16), s.opts.User.Username, s.opts.User.Email}))
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(header + "." + payload))
	return header + "." + payload + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// refreshToken answers a refresh grant. Refresh tokens are single-use and
// rotate; the access token's own expiry does not matter, so a broker token
// past its exp is accepted while its session lives.
func (s *Server) refreshToken(w http.ResponseWriter, token string) {
	s.mu.Lock()
	now := s.now()
	g := s.refresh[token]
	var desc string
	switch {
	case g == nil:
		desc = "Invalid refresh token"
	case g.used, g.revoked, !now.Before(g.exp):
		desc = "Token is not active"
	}
	if desc != "" {
		s.mu.Unlock()
		if s.opts.Broker {
			WriteDetail(w, http.StatusUnauthorized, "Session expired or not found. Please re-authenticate.")
			return
		}
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_grant", desc)
		return
	}
	g.used = true
	resp := s.issueLocked(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

// Valid reports whether accessToken was issued by the server and is currently
// unexpired (by Options.Now) and not revoked.
func (s *Server) Valid(accessToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.access[accessToken]
	return g != nil && !g.revoked && s.now().Before(g.exp)
}

// ExpireAccessTokens makes every access token issued so far expired now;
// refresh tokens (and broker sessions) stay valid.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, g := range s.access {
		if now.Before(g.exp) {
			g.exp = now
		}
	}
}

// RevokeAccessTokens makes every access token issued so far invalid.
func (s *Server) RevokeAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.access {
		g.revoked = true
	}
}

// RevokeRefreshTokens makes every refresh token (every broker session) issued
// so far invalid; access tokens stay valid until they expire.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.refresh {
		g.revoked = true
	}
}
