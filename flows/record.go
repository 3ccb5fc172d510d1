package flows

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/storekey"
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
	// IDToken is the OpenID Connect ID token of a standard provider's
	// login, as the provider sent it.
	IDToken string `json:"id_token,omitempty"`
	// Claims name who is logged in: from a provider's verified ID token
	// (or its userinfo endpoint), or what a py-oidc-auth server says of its
	// user (see Login). They are not part of the token's JSON, which keeps
	// the reference client's fields alone; stores keep them beside it.
	Claims *Claims `json:"-"`
}

// Claims are the claims of a verified ID token that oidc-auth keeps, to
// say who is logged in and to name the user to git and docker.
type Claims struct {
	// Subject is the sub claim: the provider's id of the user.
	Subject string `json:"sub,omitempty"`
	// PreferredUsername is the preferred_username claim.
	PreferredUsername string `json:"preferred_username,omitempty"`
	// Email is the email claim.
	Email string `json:"email,omitempty"`
	// Name is the name claim.
	Name string `json:"name,omitempty"`
	// Username is the value of the configured username claim, when that
	// is another claim than preferred_username.
	Username string `json:"username,omitempty"`
}

// User names who is logged in: the configured claim, else
// preferred_username, else email, else the subject; "" when unknown.
func (c *Claims) User() string {
	if c == nil {
		return ""
	}
	for _, v := range []string{c.Username, c.PreferredUsername, c.Email, c.Subject} {
		if v != "" {
			return v
		}
	}
	return ""
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

// ErrNotFound is returned when a store holds no live record for a key.
var ErrNotFound = errors.New("flows: no stored token")

// Record is what a store keeps for one server: the token and where it came
// from.
type Record struct {
	// Token is the stored token.
	Token Token
	// Server describes the server the token was obtained from, so that later
	// refreshes reach the same routes. It is nil for records written by other
	// clients.
	Server *Server
	// StoredAt is when the record was written.
	StoredAt time.Time
}

// Server records the server settings a token was obtained with. The key of
// a record drops the URL path, so Host keeps the full URL.
type Server struct {
	// Host is the py-oidc-auth server URL, path prefix included.
	Host string `json:"host,omitempty"`
	// LoginRoute, TokenRoute and DeviceRoute are the routes used, when they
	// differ from the defaults.
	LoginRoute  string `json:"login_route,omitempty"`
	TokenRoute  string `json:"token_route,omitempty"`
	DeviceRoute string `json:"device_route,omitempty"`
	// RedirectPorts are the loopback ports of the code flow, when they differ
	// from the defaults.
	RedirectPorts []int `json:"redirect_ports,omitempty"`
	// Username goes with the token where a protocol wants one (git, docker).
	Username string `json:"username,omitempty"`
	// Issuer, ClientID, ClientSecret, Scopes, Audience, RedirectHost and
	// UsernameClaim describe a standard provider's login (see Config).
	Issuer        string   `json:"issuer,omitempty"`
	ClientID      string   `json:"client_id,omitempty"`
	ClientSecret  string   `json:"client_secret,omitempty"`
	Scopes        []string `json:"scopes,omitempty"`
	Audience      string   `json:"audience,omitempty"`
	RedirectHost  string   `json:"redirect_host,omitempty"`
	UsernameClaim string   `json:"username_claim,omitempty"`
}

// Entry is one record of a store, with its key and the backend holding it.
type Entry struct {
	// Key is the normalised server key (see Key).
	Key string
	// Backend names where the record lives ("file" or "keychain").
	Backend string
	Record
}

// TokenStore keeps one record per normalised server key, safely shared by
// concurrent processes. Methods normalise the key they are given with Key.
// Get returns ErrNotFound when there is no live record (see Token.Live).
// Lock takes the cross-process lock of a key, waiting until ctx ends, and
// returns its release; callers hold it across read, refresh and write, so
// that one process refreshes while the others wait and re-read.
type TokenStore interface {
	Get(ctx context.Context, key string) (*Record, error)
	Put(ctx context.Context, key string, rec *Record) error
	Remove(ctx context.Context, key string) error
	List(ctx context.Context) ([]Entry, error)
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Key normalises a server URL into the key the reference client stores it
// under: lowercase scheme (https when none is given) and host, the scheme's
// default port dropped, and the path dropped.
//
//	Key("HTTPS://Auth.Example.org:443/api/app") == "https://auth.example.org"
//
// A key of a standard provider's login (see IssuerKey) is normalised as
// IssuerKey makes it.
func Key(server string) (string, error) { return storekey.Key(server) }

// LockHolder names the process that holds a lock, as the holder wrote
// itself into the lock file.
type LockHolder struct {
	// PID is the holder's process ID.
	PID int
	// Command is the holder's program name: its live name where the system
	// tells it (/proc on Linux), else the name it wrote.
	Command string
}

// WithScheme returns a server address with surrounding space removed and
// "https://" in front when it names no scheme: a bare host means https
// everywhere oidc-auth takes a server.
func WithScheme(s string) string { return storekey.WithScheme(s) }

// equalSecret compares two secrets in constant time.
func equalSecret(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
