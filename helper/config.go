package helper

import (
	"path/filepath"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// ConfigEnv names the environment variable that points at the config file.
const ConfigEnv = config.ConfigEnv

// DefaultUsername is the username handed out with a token when a server
// entry names none.
const DefaultUsername = config.DefaultUsername

// Values of Server.Auth, the `auth` key of a [[server]] table (see
// config.AuthAuto).
const (
	AuthAuto   = config.AuthAuto
	AuthBasic  = config.AuthBasic
	AuthBearer = config.AuthBearer
)

// Server is one [[server]] table of the config file: which requests the
// helpers answer (Match) and where the tokens come from (Host, or Issuer
// with ClientID).
type Server = config.Server

// Config is the helpers' configuration file.
type Config = config.Config

// Target is what a tool asks credentials for: a URL from git, or a
// registry from docker.
type Target = config.Target

// ConfigPath returns the config file's path: $OIDC_AUTH_CONFIG; else
// oidc-auth/config.toml in $XDG_CONFIG_HOME when it is set (on every
// system); else in the system's per-user config directory
// (os.UserConfigDir). See config.ConfigPath.
func ConfigPath() (string, error) { return config.ConfigPath() }

// LoadConfig reads and checks the config file at path. A missing file is
// an empty configuration. Unknown keys and bad values are reported with the
// file and line.
func LoadConfig(path string) (*Config, error) { return config.LoadConfig(path) }

// ParseConfig decodes and checks a config file's content; name is used in
// messages.
func ParseConfig(name string, b []byte) (*Config, error) { return config.ParseConfig(name, b) }

// Flows returns the flow configuration of the server s names.
func Flows(s *Server) flows.Config {
	return flows.Config{
		Host:          s.Host,
		LoginRoute:    s.LoginRoute,
		TokenRoute:    s.TokenRoute,
		DeviceRoute:   s.DeviceRoute,
		RedirectPorts: s.RedirectPorts,
		AllowHTTP:     s.AllowHTTP,
		Issuer:        s.Issuer,
		ClientID:      s.ClientID,
		ClientSecret:  s.ClientSecret,
		Scopes:        s.Scopes,
		Audience:      s.Audience,
		RedirectHost:  s.RedirectHost,
		UsernameClaim: s.UsernameClaim,
		CacheDir:      CacheDir(),
	}
}

// CacheDir is where the flows cache providers' discovery documents: the
// directory of the default token file.
func CacheDir() string {
	p, err := keyring.DefaultFilePath("")
	if err != nil {
		return ""
	}
	return filepath.Dir(p)
}

// serverName is the server s names as people name it, for messages.
func serverName(s *Server) string {
	if s.Issuer != "" {
		return s.Issuer
	}
	return s.Host
}

// username returns the username to hand out with s's token: the entry's,
// else the value of its username_claim in the login's ID token, else
// DefaultUsername.
func username(s *Server, tok *keyring.Token) string {
	if s.Username != "" {
		return s.Username
	}
	if s.UsernameClaim != "" && tok != nil {
		if u := tok.Claims.User(); u != "" && validBasicUser(u) {
			return u
		}
	}
	return DefaultUsername
}
