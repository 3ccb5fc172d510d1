package flows

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// userinfoTimeout bounds the one request that asks a py-oidc-auth server
// who logged in: the login has succeeded already, and a name is not worth
// a wait.
const userinfoTimeout = 5 * time.Second

// pyClaims says who a py-oidc-auth server's new token belongs to, for the
// end of a login and for `status`: the claims of the access token when it
// is a JWT (broker-mode servers put preferred_username and email there;
// read unverified, to show, never to decide anything), else the answer of
// the server's userinfo route (GET, with the token as Bearer, to the same
// server, without redirects), else a JWT's subject alone. It returns nil
// when none names anyone.
func pyClaims(ctx context.Context, cfg Config, tok *Token) *Claims {
	jc := accessTokenClaims(tok.AccessToken)
	if jc != nil && (jc.PreferredUsername != "" || jc.Email != "") {
		return jc
	}
	if ui := userinfo(ctx, cfg, tok); ui != nil {
		return ui
	}
	return jc
}

// userinfo asks a py-oidc-auth server's userinfo route who tok belongs to.
func userinfo(ctx context.Context, cfg Config, tok *Token) *Claims {
	ctx, cancel := context.WithTimeout(ctx, userinfoTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Endpoint(userinfoRoute(cfg.TokenRoute)), nil)
	if err != nil {
		return nil
	}
	req.Header.Set("Authorization", tok.Authorization())
	req.Header.Set("Accept", "application/json")
	resp, err := do(ctx, cfg, req, secrets{}.with(tok.AccessToken, tok.RefreshToken))
	if err != nil || resp.status != http.StatusOK {
		Debugf(ctx, DebugDecisions, "userinfo: no name for the login (%v)", statusOrError(resp, err))
		return nil
	}
	var ui struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		First    string `json:"first_name"`
		Last     string `json:"last_name"`
	}
	if json.Unmarshal(resp.body, &ui) != nil {
		return nil
	}
	return named(&Claims{
		PreferredUsername: ui.Username,
		Email:             ui.Email,
		Name:              strings.TrimSpace(ui.First + " " + ui.Last),
	})
}

// userinfoRoute is the userinfo route beside a token route: the same
// prefix, "userinfo" for "token" (/auth/v2/token → /auth/v2/userinfo).
func userinfoRoute(tokenRoute string) string {
	if prefix, ok := strings.CutSuffix(strings.TrimRight(tokenRoute, "/"), "/token"); ok {
		return prefix + "/userinfo"
	}
	return "/auth/v2/userinfo"
}

// accessTokenClaims reads the naming claims of a JWT's payload without verifying
// it; nil when tok is not a JWT or names no one.
func accessTokenClaims(tok string) *Claims {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil
	}
	var c Claims
	if json.Unmarshal(payload, &c) != nil {
		return nil
	}
	c.Username = ""
	return named(&c)
}

// named returns c with its text made terminal-safe and cut to a sane
// length, or nil when it names no one.
func named(c *Claims) *Claims {
	for _, f := range []*string{&c.Subject, &c.PreferredUsername, &c.Email, &c.Name} {
		*f = terminalSafe(strings.TrimSpace(*f))
		if len(*f) > 256 {
			*f = ""
		}
	}
	if c.User() == "" {
		return nil
	}
	return c
}

// statusOrError describes how a request ended, for a debug line.
func statusOrError(resp *response, err error) any {
	if err != nil {
		return trimPackage(err.Error())
	}
	return http.StatusText(resp.status)
}
