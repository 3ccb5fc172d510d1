package flows

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Refresh trades tok's refresh token for a new token at the server's token
// route (field "refresh-token"). A refresh token the server no longer
// accepts (400 or 401: invalid_grant, Dex's invalid_request, a broker's
// "Session expired") yields an error matching ErrSessionExpired: the person
// must log in again. When the answer carries no refresh token, the old one
// and its expiry are kept.
//
// Once started, a refresh is not abandoned when ctx is cancelled: the
// server rotates the refresh token as soon as it reads the request, so a
// client that stopped listening would lose the login. It ends when the
// answer arrives or the Config's RequestTimeout passes.
func Refresh(ctx context.Context, cfg Config, tok *Token) (*Token, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if tok == nil || tok.RefreshToken == "" {
		return nil, fmt.Errorf("%w: no refresh token is stored", ErrSessionExpired)
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx) // not sent yet: nothing to finish
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RequestTimeout)
	defer cancel()
	NoteSecret(ctx, tok.AccessToken, tok.RefreshToken, tok.IDToken)
	if cfg.isIssuer() {
		return issuerRefresh(ctx, cfg, tok)
	}
	tokenURL := cfg.Endpoint(cfg.TokenRoute)
	Debugf(ctx, DebugDecisions, "refreshing at %s", tokenURL)
	body, err := postForm(ctx, cfg, tokenURL, url.Values{"refresh-token": {tok.RefreshToken}}, secrets{}.with(tok.AccessToken))
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) && (se.Status == http.StatusBadRequest || se.Status == http.StatusUnauthorized) {
			Debugf(ctx, DebugDecisions, "refresh refused (%d): the server no longer accepts the refresh token", se.Status)
			return nil, fmt.Errorf("%w (%w)", ErrSessionExpired, se)
		}
		if se != nil {
			Debugf(ctx, DebugDecisions, "refresh failed (%d)", se.Status)
			return nil, fmt.Errorf("flows: refresh failed: %w", se)
		}
		return nil, err
	}
	nt, err := ParseToken(body, time.Now())
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %v", tokenURL, err)
	}
	debugIssued(ctx, "refresh", nt)
	if nt.RefreshToken == "" {
		Debugf(ctx, DebugDecisions, "refresh: the answer has no refresh token; the old one is kept")
		nt.RefreshToken, nt.RefreshExpires = tok.RefreshToken, tok.RefreshExpires
	}
	if nt.Claims == nil {
		nt.Claims = tok.Claims // the same user, whom the login named
	}
	return nt, nil
}
