package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// defaultLifetime is assumed for an access or refresh token whose response
// gives no expiry at all, as the reference client does.
const defaultLifetime = 180 * time.Second

// ParseToken decodes a successful token-route response. Expiries are taken
// from "expires" (or its aliases "exp", "expires_at") as absolute Unix
// seconds, else from now + "expires_in", else now + 180 s; the same for
// "refresh_expires" ("refresh_exp", "refresh_expires_at",
// "refresh_expires_in"). A missing token_type means Bearer.
func ParseToken(body []byte, now time.Time) (*Token, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("the token response is not a JSON object")
	}
	access, _ := m["access_token"].(string)
	if access == "" {
		return nil, errors.New("the token response has no access_token")
	}
	t := &Token{AccessToken: access, TokenType: "Bearer"}
	if tt, _ := m["token_type"].(string); tt != "" {
		t.TokenType = tt
	}
	t.RefreshToken, _ = m["refresh_token"].(string)
	t.Scope, _ = m["scope"].(string)
	for name, v := range map[string]string{"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "token_type": t.TokenType} {
		if !printable(v) {
			// A token is a header value and a line of git's credential
			// protocol: a newline in it would inject lines there.
			return nil, fmt.Errorf("the token response's %s holds characters a token cannot have", name)
		}
	}
	var err error
	if t.Expires, err = expiry(m, now, "expires_in", "expires", "exp", "expires_at"); err != nil {
		return nil, err
	}
	if t.RefreshToken != "" {
		if t.RefreshExpires, err = expiry(m, now, "refresh_expires_in", "refresh_expires", "refresh_exp", "refresh_expires_at"); err != nil {
			return nil, err
		}
	}
	t.Headers = map[string]string{"Authorization": t.Authorization()}
	return t, nil
}

// maxLifetime caps the lifetime a server may give a token: a far-future
// or overflowing expiry would make a stolen or revoked token look good for
// ever.
const maxLifetime = 365 * 24 * time.Hour

// expiry reads an absolute expiry from the first present absolute field,
// else a relative one, else the default lifetime. The result lies between
// the Unix epoch (an expiry in the past means already expired) and
// now + maxLifetime.
func expiry(m map[string]any, now time.Time, relative string, absolute ...string) (int64, error) {
	limit := now.Add(maxLifetime).Unix()
	bound := func(unix float64) int64 {
		switch {
		case unix >= float64(limit):
			return limit
		case unix < 0:
			return 0
		}
		return int64(unix)
	}
	for _, name := range absolute {
		if v, ok := m[name]; ok && v != nil {
			n, err := number(v)
			if err != nil {
				return 0, fmt.Errorf("the token response's %s is %w", name, err)
			}
			return bound(n), nil
		}
	}
	if v, ok := m[relative]; ok && v != nil {
		n, err := number(v)
		if err != nil {
			return 0, fmt.Errorf("the token response's %s is %w", relative, err)
		}
		return bound(float64(now.Unix()) + n), nil
	}
	return now.Add(defaultLifetime).Unix(), nil
}

// number accepts a JSON number or a numeric string.
func number(v any) (float64, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = strings.TrimSpace(x)
	default:
		return 0, fmt.Errorf("not a number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a usable number (%.20q)", s)
	}
	return f, nil
}

// printable reports whether s holds only visible ASCII and spaces, the
// characters of an RFC 6749 token (VSCHAR).
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
