package helper

import (
	"context"
	"errors"
	"net/url"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/keyring"
)

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
		if n, ok := s.Pattern().MatchLen(t); ok && n > bestLen {
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
	p, err := config.ParsePattern(host)
	if err != nil || (p.Scheme == "http" && !flows.IsLoopback(p.Hostname)) || u.Scheme == "" {
		return nil, nil
	}
	if _, ok := p.MatchLen(t); !ok {
		return nil, nil
	}
	s.Match, s.Host = host, host
	s.SetPattern(p)
	return &resolved{server: s, rec: rec}, nil
}
