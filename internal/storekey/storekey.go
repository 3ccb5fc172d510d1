// Package storekey names a server's login in a token store: the key the
// reference client stores a py-oidc-auth server's token under, the key of
// a standard provider's login, and whether two server URLs name the same
// server. It imports nothing heavy, so that the small commands that answer
// from a token file can use it (see internal/fast).
package storekey

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

// Key normalises a server URL into the key the reference client stores it
// under: lowercase scheme (https when none is given) and host, the scheme's
// default port dropped, and the path dropped.
//
//	Key("HTTPS://Auth.Example.org:443/api/app") == "https://auth.example.org"
//
// A key of a standard provider's login (see IssuerKey) is normalised as
// IssuerKey makes it.
func Key(server string) (string, error) {
	if IsIssuerKey(strings.TrimSpace(server)) {
		return normIssuerKey(strings.TrimSpace(server))
	}
	s := strings.TrimSpace(server)
	if s == "" {
		return "", errors.New("flows: empty server address")
	}
	s = WithScheme(s)
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("flows: bad server address %q: %w", server, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" { // "//host", or "://" only later in the address
		scheme = "https"
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return "", fmt.Errorf("flows: server address %q has no host", server)
	}
	if strings.IndexFunc(host, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("flows: server address %q has a space in its host", server)
	}
	if strings.Contains(host, ":") && !strings.HasPrefix(u.Host, "[") {
		return "", fmt.Errorf("flows: server address %q has an IPv6 address without brackets", server)
	}
	// Hostname is unescaped: a "%" (as in an IPv6 zone, [fe80::1%25eth0])
	// must be escaped again for the key to parse as the same host.
	host = strings.ReplaceAll(host, "%", "%25")
	port := u.Port()
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		host = JoinHostPort(host, port)
	} else if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host, nil
}

// WithScheme returns a server address with surrounding space removed and
// "https://" in front when it names no scheme: a bare host means https
// everywhere oidc-auth takes a server.
func WithScheme(s string) string {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		return "https://" + s
	}
	return s
}

// issuerKeyScheme prefixes the store keys of standard-provider logins, so
// that they never share a key with a py-oidc-auth server's (whose keys the
// reference client reads) nor with each other across client ids.
const issuerKeyScheme = "oidc+"

// IssuerKey returns the store key of the login at issuer with clientID:
// "oidc+" and the issuer URL (scheme and host lowercased, default port and
// trailing "/" dropped, path kept), with the client id as a query.
//
//	IssuerKey("https://KC.example.org/realms/x/", "cli") == "oidc+https://kc.example.org/realms/x?client_id=cli"
func IssuerKey(issuer, clientID string) (string, error) {
	hostKey, err := Key(issuer)
	if err != nil {
		return "", err
	}
	if clientID == "" {
		return "", errors.New("flows: an issuer login needs a client id")
	}
	return issuerKeyScheme + hostKey + ServerPath(issuer) + "?" + url.Values{"client_id": {clientID}}.Encode(), nil
}

// IsIssuerKey reports whether a store key is IssuerKey's.
func IsIssuerKey(key string) bool { return strings.HasPrefix(key, issuerKeyScheme) }

// normIssuerKey normalises a key IssuerKey made (see Key).
func normIssuerKey(key string) (string, error) {
	u, err := url.Parse(strings.TrimPrefix(key, issuerKeyScheme))
	if err != nil {
		return "", fmt.Errorf("flows: bad issuer key %q", key)
	}
	client := u.Query().Get("client_id")
	u.RawQuery, u.Fragment = "", ""
	return IssuerKey(u.String(), client)
}

// SameServer reports whether two server URLs name the same server: the
// same scheme and host (compared as Key does) and the same path prefix,
// ignoring a trailing "/".
func SameServer(a, b string) bool {
	ka, err1 := Key(a)
	kb, err2 := Key(b)
	if err1 != nil || err2 != nil || ka != kb {
		return false
	}
	return ServerPath(a) == ServerPath(b)
}

// ServerPath is the path prefix of a server URL, without trailing "/".
func ServerPath(s string) string {
	s = WithScheme(s)
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return strings.TrimRight(u.EscapedPath(), "/")
}

// IsLoopback reports whether host (a host name or IP address, without
// port or brackets) is the loopback interface: "localhost", 127.0.0.0/8 or
// ::1. Only there may secrets travel in clear text (RFC 8252 §8.3).
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	// net.ParseIP's reading, without linking net: no zone, an IPv4
	// address mapped into IPv6 counts as the IPv4 one.
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Zone() == "" && ip.IsLoopback()
}

// JoinHostPort is net.JoinHostPort: host and port as host:port, host in
// brackets when it has a colon (an IPv6 address). This package and
// internal/config are linked by the small commands, for which the net
// package would cost every start about 0.15 ms of package
// initialisation (BENCHMARKS.md); TestHostPortAsNet checks these
// against net.
func JoinHostPort(host, port string) string {
	if strings.IndexByte(host, ':') >= 0 {
		return "[" + host + "]:" + port
	}
	return host + ":" + port
}

// SplitHostPort is net.SplitHostPort without its error's text: host and
// port of "host:port", "[host]:port" or "[host%zone]:port", ok false for
// anything net.SplitHostPort refuses (see JoinHostPort).
func SplitHostPort(hostport string) (host, port string, ok bool) {
	i := strings.LastIndexByte(hostport, ':')
	if i < 0 {
		return "", "", false // no port
	}
	j, k := 0, 0 // no '[' before j, no ']' before k
	if hostport[0] == '[' {
		// The first ']' must be just before the last ':'.
		end := strings.IndexByte(hostport, ']')
		if end < 0 || end+1 != i {
			return "", "", false
		}
		host = hostport[1:end]
		j, k = 1, end+1
	} else {
		host = hostport[:i]
		if strings.IndexByte(host, ':') >= 0 {
			return "", "", false // too many colons
		}
	}
	if strings.IndexByte(hostport[j:], '[') >= 0 || strings.IndexByte(hostport[k:], ']') >= 0 {
		return "", "", false
	}
	return host, hostport[i+1:], true
}

// FilePath returns the default token file of the application appName:
// $XDG_CACHE_HOME/<appName>/token-store.json when XDG_CACHE_HOME is set;
// else <appName>/token-store.json in the cache directory userCacheDir
// returns, or in ~/.cache while only that one exists (see
// keyring.DefaultFilePath, which calls it with os.UserCacheDir).
func FilePath(appName string, userCacheDir func() (string, error)) (string, error) {
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, appName, storeFileName), nil
	}
	dir, err := userCacheDir()
	if err != nil {
		return "", fmt.Errorf("keyring: no cache directory for the token store (%v); set XDG_CACHE_HOME, or OIDC_TOKEN_FILE to the file to use", err)
	}
	path := filepath.Join(dir, appName, storeFileName)
	if home, err := os.UserHomeDir(); err == nil {
		if old := filepath.Join(home, ".cache", appName, storeFileName); old != path && exists(old) && !exists(path) {
			return old, nil
		}
	}
	return path, nil
}

// storeFileName is the name of a token store file in its directory.
const storeFileName = "token-store.json"

// exists reports whether something, perhaps a link, is at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
