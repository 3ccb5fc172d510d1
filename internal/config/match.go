package config

import (
	"net/url"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// Target is what a tool asks credentials for: a URL from git, or a
// registry from docker.
type Target struct {
	// Scheme is "https" or "http"; "" for a docker registry given without
	// one, which means https (or http on loopback).
	Scheme string
	// Host is the canonical host[:port] (see canonicalHost).
	Host string
	// Hostname is Host without the port.
	Hostname string
	// Path is the request path ("/team/app.git"), "" when the tool sent none.
	Path string
}

// MatchLen reports whether p answers t and, if so, how specific the match
// is (longer is more specific). The rules are a security boundary:
//   - the scheme must match; a bare registry host answers https, and http
//     only on loopback;
//   - the host and port must be equal (ASCII case-folded, default port
//     dropped): no suffix, prefix or look-alike matches;
//   - a path prefix matches on segment boundaries only ("/team/" answers
//     "/team/app.git", never "/teamevil/"), and a request without a path,
//     or with a "." or ".." segment, never matches an entry with one.
func (p Pattern) MatchLen(t Target) (int, bool) {
	switch {
	case p.Scheme == "":
		if t.Scheme == "http" && !isLoopback(t.Hostname) {
			return 0, false
		}
		if t.Scheme != "" && t.Scheme != "https" && t.Scheme != "http" {
			return 0, false
		}
	case t.Scheme == "":
		if p.Scheme != "https" && !(p.Scheme == "http" && isLoopback(t.Hostname)) {
			return 0, false
		}
	case t.Scheme != p.Scheme:
		return 0, false
	}
	if p.Host != t.Host {
		return 0, false
	}
	if p.Path == "" {
		return len(p.Host), true
	}
	if t.Path == "" || hasDotSegment(t.Path) || !strings.HasPrefix(dirPath(t.Path), p.Path) {
		return 0, false
	}
	return len(p.Host) + len(p.Path), true
}

// hasDotSegment reports whether a path has a "." or ".." segment, also
// percent-encoded: git sends such paths as given, and once curl or the
// server removes the dot segments (RFC 3986 §5.2.4) "/team/../evil/" is
// no longer under "/team/".
func hasDotSegment(path string) bool {
	if u, err := url.PathUnescape(path); err == nil {
		path += "/" + u
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// GitTarget builds the Target of a git credential request.
func GitTarget(protocol, host, path string) (Target, bool) {
	scheme := ASCIILower(protocol)
	if scheme != "https" && scheme != "http" {
		return Target{}, false
	}
	h, hostname, err := canonicalHost(scheme, host)
	if err != nil {
		return Target{}, false
	}
	if path != "" {
		if i := strings.IndexAny(path, "?#"); i >= 0 {
			path = path[:i]
		}
		path = "/" + strings.TrimLeft(path, "/")
	}
	return Target{Scheme: scheme, Host: h, Hostname: hostname, Path: path}, true
}

// DockerTarget builds the Target of a docker server URL, which docker sends
// with or without a scheme ("registry.example.org",
// "https://registry.example.org/v1/").
func DockerTarget(serverURL string) (Target, bool) {
	s := strings.TrimSpace(serverURL)
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = ASCIILower(s[:i])
		if scheme != "https" && scheme != "http" {
			return Target{}, false
		}
		s = s[i+3:]
	}
	hostport := s
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		hostport = s[:i]
	}
	h, hostname, err := canonicalHost(scheme, hostport)
	if err != nil {
		return Target{}, false
	}
	return Target{Scheme: scheme, Host: h, Hostname: hostname}, true
}

// String is the URL of t for people: scheme, host and path, without
// userinfo or query.
func (t Target) String() string {
	scheme := t.Scheme
	if scheme == "" {
		return t.Host + t.Path
	}
	return scheme + "://" + t.Host + t.Path
}

// IssuerEntry returns the config file's first [[server]] entry for a
// standard provider's client, or nil: where a confidential client's secret
// is kept, since kubectl's arguments must not carry it.
func (c *Config) IssuerEntry(issuer, clientID string) *Server {
	want, err := storekey.IssuerKey(issuer, clientID)
	if err != nil {
		return nil
	}
	for i := range c.Servers {
		s := &c.Servers[i]
		if s.Issuer == "" {
			continue
		}
		if k, err := storekey.IssuerKey(s.Issuer, s.ClientID); err == nil && k == want {
			return s
		}
	}
	return nil
}

// Key returns the store key of the login of s: the key of its Host, or of
// its Issuer with ClientID (as flows.Config.Key).
func (s *Server) Key() (string, error) {
	if s.Issuer != "" {
		return storekey.IssuerKey(s.Issuer, s.ClientID)
	}
	return storekey.Key(s.Host)
}

// Match returns the most specific entry of c that answers t (the longest
// match, the first of equal ones), or nil.
func (c *Config) Match(t Target) *Server {
	var best *Server
	bestLen := -1
	for i := range c.Servers {
		s := &c.Servers[i]
		if n, ok := s.match.MatchLen(t); ok && n > bestLen {
			best, bestLen = s, n
		}
	}
	return best
}

// LoginServer is the entry that a stored login makes when no config
// entry answers t: a login to a server answers for that server's URL,
// path prefix included, with no config. key is the login's store key
// (scheme and host), recorded the server URL its record names ("" when it
// names none, as the reference client's records do). ok is false when the
// login does not answer t: another path, plain http off the loopback
// interface, or a URL that does not parse.
func LoginServer(key, recorded string, t Target) (s Server, ok bool) {
	host := key
	if recorded != "" {
		host = recorded
	}
	u, err := url.Parse(host)
	if err != nil {
		return Server{}, false
	}
	p, err := ParsePattern(host)
	if err != nil || (p.Scheme == "http" && !isLoopback(p.Hostname)) || u.Scheme == "" {
		return Server{}, false
	}
	if _, ok := p.MatchLen(t); !ok {
		return Server{}, false
	}
	s.Match, s.Host = host, host
	s.SetPattern(p)
	return s, true
}

// LoginKey is the store key of the login that answers t when no config
// entry does: the key of t's scheme (https when it names none) and host.
func (t Target) LoginKey() (string, error) {
	scheme := t.Scheme
	if scheme == "" {
		scheme = "https"
	}
	return storekey.Key(scheme + "://" + t.Host)
}
