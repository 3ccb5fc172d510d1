// Package keyring keeps OIDC tokens between runs: one record per auth
// server, stored under a normalised server key.
//
// The file backend writes the reference client's v1 JSON format, so a token
// store file is shared with py-oidc-auth-client.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// ErrNotFound is returned when a store holds no live record for a key.
var ErrNotFound = errors.New("keyring: no stored token")

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
func Key(server string) (string, error) {
	s := strings.TrimSpace(server)
	if s == "" {
		return "", errors.New("keyring: empty server address")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("keyring: bad server address %q: %w", server, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" { // "//host", or "://" only later in the address
		scheme = "https"
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("keyring: server address %q has no host", server)
	}
	if strings.IndexFunc(host, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("keyring: server address %q has a space in its host", server)
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(u.Host, "[") {
		return "", fmt.Errorf("keyring: server address %q has an IPv6 address without brackets", server)
	}
	// Hostname is unescaped: a "%" (as in an IPv6 zone, [fe80::1%25eth0])
	// must be escaped again for the key to parse as the same host.
	host = strings.ReplaceAll(host, "%", "%25")
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}
