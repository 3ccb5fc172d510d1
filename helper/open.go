package helper

import (
	"io"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// Open builds the Helper a credential helper binary runs with: the config
// file (see ConfigPath), the token store that OIDC_TOKEN_FILE and
// OIDC_AUTH_STORE choose, and the terminal for logins. Notes and the
// store's fallback warning go to log, prefixed with name.
func Open(name string, log io.Writer) (*Helper, error) {
	path, err := ConfigPath()
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	store, err := keyring.Open(keyring.Options{Warn: log})
	if err != nil {
		return nil, err
	}
	return &Helper{Config: cfg, Store: store, Terminal: OpenTerminal, Log: log, Name: name}, nil
}
