package helper

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/oidc-auth/oidc-auth/keyring"
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

// matchLen reports whether p answers t and, if so, how specific the match
// is (longer is more specific). The rules are a security boundary:
//   - the scheme must match; a bare registry host answers https, and http
//     only on loopback;
//   - the host and port must be equal (ASCII case-folded, default port
//     dropped): no suffix, prefix or look-alike matches;
//   - a path prefix matches on segment boundaries only ("/team/" answers
//     "/team/app.git", never "/teamevil/"), and a request without a path,
//     or with a "." or ".." segment, never matches an entry with one.
func (p pattern) matchLen(t Target) (int, bool) {
	switch {
	case p.scheme == "":
		if t.Scheme == "http" && !isLoopback(t.Hostname) {
			return 0, false
		}
		if t.Scheme != "" && t.Scheme != "https" && t.Scheme != "http" {
			return 0, false
		}
	case t.Scheme == "":
		if p.scheme != "https" && !(p.scheme == "http" && isLoopback(t.Hostname)) {
			return 0, false
		}
	case t.Scheme != p.scheme:
		return 0, false
	}
	if p.host != t.Host {
		return 0, false
	}
	if p.path == "" {
		return len(p.host), true
	}
	if t.Path == "" || hasDotSegment(t.Path) || !strings.HasPrefix(dirPath(t.Path), p.path) {
		return 0, false
	}
	return len(p.host) + len(p.path), true
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

// gitTarget builds the Target of a git credential request.
func gitTarget(protocol, host, path string) (Target, bool) {
	scheme := asciiLower(protocol)
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

// dockerTarget builds the Target of a docker server URL, which docker sends
// with or without a scheme ("registry.example.org",
// "https://registry.example.org/v1/").
func dockerTarget(serverURL string) (Target, bool) {
	s := strings.TrimSpace(serverURL)
	scheme := ""
	if i := strings.Index(s, "://"); i >= 0 {
		scheme = asciiLower(s[:i])
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

// resolved is the server that answers a target, with the stored record
// that made it answer when it came from a login rather than the config.
type resolved struct {
	server *Server
	rec    *keyring.Record
}

// resolve finds the server that answers t: the most specific matching
// config entry, else a stored login whose own host URL is a prefix of t
// (a login to host H makes the helpers answer for H with no config).
func (h *Helper) resolve(ctx context.Context, t Target) (*resolved, error) {
	var best *Server
	bestLen := -1
	for i := range h.Config.Servers {
		s := &h.Config.Servers[i]
		if n, ok := s.match.matchLen(t); ok && n > bestLen {
			best, bestLen = s, n
		}
	}
	if best != nil {
		return &resolved{server: best}, nil
	}
	scheme := t.Scheme
	if scheme == "" {
		scheme = "https"
	}
	key, err := keyring.Key(scheme + "://" + t.Host)
	if err != nil {
		return nil, nil
	}
	rec, err := h.Store.Get(ctx, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	host := key
	s := &Server{}
	if rec.Server != nil && rec.Server.Host != "" {
		host = rec.Server.Host
		s.LoginRoute, s.TokenRoute, s.DeviceRoute = rec.Server.LoginRoute, rec.Server.TokenRoute, rec.Server.DeviceRoute
		s.RedirectPorts, s.Username = rec.Server.RedirectPorts, rec.Server.Username
	}
	u, err := url.Parse(host)
	if err != nil {
		return nil, nil
	}
	p, err := parsePattern(host)
	if err != nil || (p.scheme == "http" && !isLoopback(p.hostname)) || u.Scheme == "" {
		return nil, nil
	}
	if _, ok := p.matchLen(t); !ok {
		return nil, nil
	}
	s.Match, s.Host, s.match = host, host, p
	return &resolved{server: s, rec: rec}, nil
}
