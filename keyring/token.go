package keyring

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Token is one server's token in the reference client's v1 shape: expiries are
// absolute Unix seconds, and Headers carries the ready-made Authorization header.
type Token struct {
	// AccessToken is the bearer credential handed to git, docker and scripts.
	AccessToken string `json:"access_token"`
	// TokenType is the type the server sent ("Bearer", or "bearer" from Dex);
	// compare it case-insensitively.
	TokenType string `json:"token_type,omitempty"`
	// Expires is when the access token stops being valid, in Unix seconds.
	Expires int64 `json:"expires"`
	// RefreshToken obtains a new access token; in broker mode it equals
	// AccessToken.
	RefreshToken string `json:"refresh_token,omitempty"`
	// RefreshExpires is when the refresh token stops being valid, in Unix
	// seconds. It may be earlier than Expires.
	RefreshExpires int64 `json:"refresh_expires,omitempty"`
	// Scope is the space-separated scope the server granted.
	Scope string `json:"scope,omitempty"`
	// Headers holds the HTTP headers that carry the token, as the reference
	// client stores them ({"Authorization": "Bearer …"}).
	Headers map[string]string `json:"headers,omitempty"`
}

// Margins of the reference client: an access token is used while more than
// ValidityMargin of it is left, refreshed while more than ValidityMargin of
// the refresh token is left, and a stored entry is dropped once both are
// within StoreMargin of their end.
const (
	ValidityMargin = 60 * time.Second
	StoreMargin    = 30 * time.Second
)

// Valid reports whether the access token can be used at now, with
// ValidityMargin to spare.
func (t *Token) Valid(now time.Time) bool {
	return t != nil && t.AccessToken != "" && now.Add(ValidityMargin).Unix() < t.Expires
}

// Refreshable reports whether the refresh token can still be used at now,
// with ValidityMargin to spare.
func (t *Token) Refreshable(now time.Time) bool {
	return t != nil && t.RefreshToken != "" && now.Add(ValidityMargin).Unix() < t.RefreshExpires
}

// Live reports whether a stored entry holding t is still worth keeping at
// now: the reference client treats entries with
// max(expires, refresh_expires) - 30 <= now as absent.
func (t *Token) Live(now time.Time) bool {
	return t != nil && max(t.Expires, t.RefreshExpires)-int64(StoreMargin/time.Second) > now.Unix()
}

// Authorization returns the value of the Authorization header that carries
// the access token: "Bearer <token>" for any spelling of bearer, else the
// token type the server named.
func (t *Token) Authorization() string {
	if t.TokenType == "" || strings.EqualFold(t.TokenType, "bearer") {
		return "Bearer " + t.AccessToken
	}
	return t.TokenType + " " + t.AccessToken
}

// ExpiresAt returns Expires as a time.
func (t *Token) ExpiresAt() time.Time { return time.Unix(t.Expires, 0) }

// RefreshExpiresAt returns RefreshExpires as a time, or the zero time when
// there is no refresh token.
func (t *Token) RefreshExpiresAt() time.Time {
	if t.RefreshToken == "" || t.RefreshExpires == 0 {
		return time.Time{}
	}
	return time.Unix(t.RefreshExpires, 0)
}

// UnmarshalJSON decodes a token, accepting expiries written as floats (as
// Python's time.time() arithmetic produces).
func (t *Token) UnmarshalJSON(b []byte) error {
	type plain Token
	var raw struct {
		plain
		Expires        json.Number `json:"expires"`
		RefreshExpires json.Number `json:"refresh_expires"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	exp, err := unixSeconds(raw.Expires)
	if err != nil {
		return fmt.Errorf("expires: %w", err)
	}
	rexp, err := unixSeconds(raw.RefreshExpires)
	if err != nil {
		return fmt.Errorf("refresh_expires: %w", err)
	}
	*t = Token(raw.plain)
	t.Expires, t.RefreshExpires = exp, rexp
	return nil
}

// unixSeconds turns a JSON number (integer or float, possibly absent) into
// whole Unix seconds.
func unixSeconds(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, fmt.Errorf("not a Unix time: %q", string(n))
	}
	return int64(f), nil
}
