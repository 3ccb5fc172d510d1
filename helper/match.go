package helper

import (
	"context"
	"errors"

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
	if best := h.Config.Match(t); best != nil {
		return &resolved{server: best}, nil
	}
	key, err := t.LoginKey()
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
	var recorded string
	if rec.Server != nil {
		recorded = rec.Server.Host
	}
	s, ok := config.LoginServer(key, recorded, t)
	if !ok {
		return nil, nil
	}
	if recorded != "" {
		s.LoginRoute, s.TokenRoute, s.DeviceRoute = rec.Server.LoginRoute, rec.Server.TokenRoute, rec.Server.DeviceRoute
		s.RedirectPorts, s.Username = rec.Server.RedirectPorts, rec.Server.Username
	}
	return &resolved{server: &s, rec: rec}, nil
}
