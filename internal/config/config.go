// Package config reads the helpers' configuration file, oidc-auth's
// config.toml: its [[server]] tables, checked, and the matching of a URL
// from git or a registry from docker to the table that answers it. The
// package helper re-exports it; it imports nothing heavy (no HTTP, no
// keychain), so that the small commands that answer cached requests can
// read the same config the same way (see internal/fast). On the Unix
// systems, LoadMatch keeps its answers for a large config in a private
// cache keyed by the file's content (cache_unix.go).
package config

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/cespare/xxhash/v2"
	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// ConfigEnv names the environment variable that points at the config file.
const ConfigEnv = "OIDC_AUTH_CONFIG"

// appName names the config file's directory, as it names the token
// file's (keyring.DefaultAppName).
const appName = "oidc-auth"

// DefaultUsername is the username handed out with a token when a server
// entry names none.
const DefaultUsername = "oauth2"

// Server is one [[server]] table of the config file: which requests the
// helpers answer (Match) and where the tokens come from (Host).
type Server struct {
	// Match is a URL prefix ("https://git.example.org/team/") or a registry
	// host ("registry.example.org", with an optional port).
	Match string `toml:"match"`
	// Host is the py-oidc-auth server URL, path prefix included. An entry
	// names either Host or Issuer with ClientID.
	Host string `toml:"host"`
	// Issuer is a standard OpenID Provider's issuer URL
	// ("https://keycloak.example.org/realms/x"), with ClientID its client.
	Issuer   string `toml:"issuer,omitempty"`
	ClientID string `toml:"client_id,omitempty"`
	// ClientSecret is the secret of a confidential client.
	ClientSecret string `toml:"client_secret,omitempty"`
	// Scopes are asked of the provider; default openid offline_access.
	Scopes []string `toml:"scopes,omitempty"`
	// Audience asks the provider for a token for another API.
	Audience string `toml:"audience,omitempty"`
	// RedirectHost is the loopback host of the browser login's redirect
	// URI: "127.0.0.1" (the default) or "localhost".
	RedirectHost string `toml:"redirect_host,omitempty"`
	// UsernameClaim names the ID token claim whose value is handed out as
	// the username when Username is unset.
	UsernameClaim string `toml:"username_claim,omitempty"`
	// LoginRoute, TokenRoute and DeviceRoute override the server's routes.
	LoginRoute  string `toml:"login_route,omitempty"`
	TokenRoute  string `toml:"token_route,omitempty"`
	DeviceRoute string `toml:"device_route,omitempty"`
	// RedirectPorts are the loopback ports of the browser login.
	RedirectPorts []int `toml:"redirect_ports,omitempty"`
	// Username is handed out with the token; default DefaultUsername.
	Username string `toml:"username,omitempty"`
	// AllowHTTP lets a non-loopback http:// Match receive tokens, and a
	// non-loopback http:// Host receive refresh tokens, which then cross the
	// network in clear text.
	AllowHTTP bool `toml:"allow_http,omitempty"`
	// Auth says how git receives the token: AuthAuto (also ""), AuthBasic
	// or AuthBearer. See GitGet.
	Auth string `toml:"auth,omitempty"`

	match Pattern // Match, parsed
}

// Values of Server.Auth, the `auth` key of a [[server]] table.
const (
	// AuthAuto hands git the token as an HTTP Bearer credential when git
	// can take one (git 2.46 and later announce capability[]=authtype) and
	// the server's challenge offers the Bearer scheme, else as the password
	// of HTTP Basic. It is the default.
	AuthAuto = "auto"
	// AuthBasic always hands git the token as the password of HTTP Basic,
	// whatever the server's challenge offers.
	AuthBasic = "basic"
	// AuthBearer hands git the token as an HTTP Bearer credential whenever
	// git can take one, also before or without a Bearer challenge, and as
	// the password of HTTP Basic to a git that cannot.
	AuthBearer = "bearer"
)

// Pattern is the parsed Match of a checked entry (see ParseConfig).
func (s *Server) Pattern() Pattern { return s.match }

// SetPattern sets the parsed Match of an entry made in code rather than
// read from the file.
func (s *Server) SetPattern(p Pattern) { s.match = p }

// Config is the helpers' configuration file.
type Config struct {
	// Servers are the [[server]] tables, in file order.
	Servers []Server `toml:"server"`
}

// ConfigPath returns the config file's path: $OIDC_AUTH_CONFIG; else
// oidc-auth/config.toml in $XDG_CONFIG_HOME when it is set (on every
// system); else in the system's per-user config directory
// (os.UserConfigDir): ~/.config on Linux and other Unix systems,
// ~/Library/Application Support on macOS, %AppData% on Windows. On macOS
// and Windows, ~/.config/oidc-auth/config.toml, where earlier versions
// kept it there too, is used while it exists and the new file does not, so
// that an upgrade keeps the config.
func ConfigPath() (string, error) {
	return configPath(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// configPath is ConfigPath for the system goos, with getenv and home in
// place of the process's environment.
func configPath(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if p := getenv(ConfigEnv); p != "" {
		return p, nil
	}
	file := filepath.Join(appName, "config.toml")
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, file), nil
	}
	h, herr := home()
	var legacy string
	if herr == nil {
		legacy = filepath.Join(h, ".config", file)
	}
	var dir string
	switch goos {
	case "windows":
		dir = getenv("APPDATA")
		if dir == "" {
			if legacy != "" && exists(legacy) {
				return legacy, nil
			}
			return "", fmt.Errorf("helper: no %%APPDATA%% for the config file; set %s to its path", ConfigEnv)
		}
	case "darwin":
		if herr != nil {
			return "", fmt.Errorf("helper: no home directory for the config file (%v); set %s to its path", herr, ConfigEnv)
		}
		dir = filepath.Join(h, "Library", "Application Support")
	default:
		if herr != nil {
			return "", fmt.Errorf("helper: no home directory for the config file (%v); set %s to its path", herr, ConfigEnv)
		}
		return legacy, nil
	}
	p := filepath.Join(dir, file)
	if legacy != "" && !exists(p) && exists(legacy) {
		return legacy, nil
	}
	return p, nil
}

// exists reports whether something is at path, a broken link included.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// LoadConfig reads and checks the config file at path. A missing file is
// an empty configuration. Unknown keys and bad values are reported with the
// file and line.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helper: read config: %w", err)
	}
	return parseConfig(path, b)
}

// ParseConfig decodes and checks a config file's content; name is used in
// messages.
func ParseConfig(name string, b []byte) (*Config, error) {
	// The entries share the bytes they are decoded from (see decodeEach),
	// and the caller may change b afterwards.
	return parseConfig(name, bytes.Clone(b))
}

// parseConfig is ParseConfig of a content that never changes afterwards.
func parseConfig(name string, b []byte) (*Config, error) {
	var c Config
	// Room for every [[server]] table up front, so that the entries are
	// not copied each time the list grows.
	if n := bytes.Count(b, []byte("[[server]]")); n > 0 {
		c.Servers = make([]Server, 0, n)
	}
	err := eachServer(name, b, decodeAll, func(i int, s *Server) {
		c.Servers = append(c.Servers[:i], *s)
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// LoadMatch is LoadConfig followed by Config.Match, without keeping the
// entries that do not answer t: a config of a thousand entries then costs
// no more memory than one of a single entry. It returns nil for no match,
// and the errors of LoadConfig, but for a config that is not of the usual
// shape (see decodeEach), which it leaves to LoadConfig: ErrUnusual. So it
// links no TOML decoder of its own, and the small commands that use it
// stay small. A large file is mapped, not read (see readFile); the entry
// returned shares nothing with it. The answers for a large file are kept
// in a cache keyed by its content, so that it is parsed once while it
// does not change (see cache_unix.go).
func LoadMatch(path string, t Target) (*Server, error) {
	s, _, err := LoadMatchSum(path, t)
	return s, err
}

// Sum identifies a config file's content: its size (NoConfig for no
// file) and its xxHash64.
type Sum struct{ Size, Hash uint64 }

// NoConfig is Sum.Size for no config file.
const NoConfig = ^uint64(0)

// ContentSum returns the Sum of the config file at path; ok is false when
// it cannot be read.
func ContentSum(path string) (sum Sum, ok bool) {
	b, release, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Sum{Size: NoConfig}, true
	}
	if err != nil {
		return Sum{}, false
	}
	defer release()
	err = guardFault(path, func() error { sum = Sum{uint64(len(b)), xxhash.Sum64(b)}; return nil })
	return sum, err == nil
}

// LoadMatchSum is LoadMatch, which also returns the Sum of the content
// that it found the answer in.
func LoadMatchSum(path string, t Target) (*Server, Sum, error) {
	b, release, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Sum{Size: NoConfig}, nil
	}
	if err != nil {
		return nil, Sum{}, fmt.Errorf("helper: read config: %w", err)
	}
	defer release()
	var key cacheKey
	var sum Sum
	cache := cacheAbove >= 0 && len(b) >= cacheAbove
	if err := guardFault(path, func() error {
		sum = Sum{uint64(len(b)), xxhash.Sum64(b)}
		if cache {
			key, cache = contentKey(sum)
		}
		return nil
	}); err != nil {
		return nil, Sum{}, err
	}
	if cache {
		if s, hit := lookupMatch(path, key, t); hit {
			return s, sum, nil
		}
	}
	var best Server
	bestLen := -1
	err = guardFault(path, func() error {
		return eachServer(path, b, nil, func(i int, s *Server) {
			if i == 0 {
				bestLen = -1
			}
			if n, ok := s.match.MatchLen(t); ok && n > bestLen {
				best, bestLen = *s, n
			}
		})
	})
	if err != nil {
		return nil, Sum{}, err
	}
	var found *Server
	if bestLen >= 0 {
		best = best.detached() // b may be a mapping, gone after release
		found = &best
	}
	if cache {
		storeMatch(path, key, t, found)
	}
	return found, sum, nil
}

// mapAbove is the size from which readFile maps the config file, on the
// systems where it does, rather than reading it, as the token file is
// read: a config of a thousand entries (100 KB) then costs no fresh
// pages to read it into, nor a copy (0.2 ms of a 5 ms get).
const mapAbove = 64 << 10

// guardFault runs read, which reads the content of the config file at
// path, maybe a mapping of it (see readFile): a fault on reading it is
// an error, not a crash.
func guardFault(path string, read func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			err = fmt.Errorf("helper: the config file %s changed while it was read; try again", path)
		}
	}()
	return read()
}

// detached returns s with copies of its strings and lists, which share
// the bytes it was decoded from (see decodeEach).
// TestDetachedSharesNothing checks that it copies every one.
func (s Server) detached() Server {
	c := strings.Clone
	s.Match, s.Host, s.Issuer, s.ClientID, s.ClientSecret = c(s.Match), c(s.Host), c(s.Issuer), c(s.ClientID), c(s.ClientSecret)
	s.Audience, s.RedirectHost, s.UsernameClaim = c(s.Audience), c(s.RedirectHost), c(s.UsernameClaim)
	s.LoginRoute, s.TokenRoute, s.DeviceRoute = c(s.LoginRoute), c(s.TokenRoute), c(s.DeviceRoute)
	s.Username, s.Auth = c(s.Username), c(s.Auth)
	if s.Scopes != nil {
		scopes := make([]string, len(s.Scopes))
		for i, v := range s.Scopes {
			scopes[i] = c(v)
		}
		s.Scopes = scopes
	}
	s.RedirectPorts = slices.Clone(s.RedirectPorts)
	s.match = Pattern{Scheme: c(s.match.Scheme), Host: c(s.match.Host), Hostname: c(s.match.Hostname), Path: c(s.match.Path)}
	return s
}

// eachServer decodes the config file's content b and checks its entries,
// calling use with each checked entry and its index, in file order; the
// entry it passes is reused afterwards. It may start over from index 0
// (when the file is not of the shape decodeEach reads), and use must then
// forget what it was given. The error is the first one of the file: a
// decoding error, else the first entry that fails its check.
func eachServer(name string, b []byte, full func(name string, b []byte) (*Config, error), use func(i int, s *Server)) error {
	var checkErr error
	i := 0
	if decodeEach(b, func(s *Server) {
		if checkErr == nil {
			if checkErr = checkEntry(name, b, i, s); checkErr == nil {
				use(i, s)
			}
		}
		i++
	}) {
		return checkErr
	}
	if full == nil {
		return ErrUnusual
	}
	c, err := full(name, b)
	if err != nil {
		return err
	}
	for i := range c.Servers {
		if err := checkEntry(name, b, i, &c.Servers[i]); err != nil {
			return err
		}
		use(i, &c.Servers[i])
	}
	return nil
}

// ErrUnusual is LoadMatch's answer for a config file that is not of the
// usual shape (see decodeEach): LoadConfig reads it.
var ErrUnusual = errors.New("helper: the config is not of the usual shape; read it with LoadConfig")

// decodeAll decodes a config file's content with go-toml's decoder, whose
// errors it reports with the file and line.
func decodeAll(name string, b []byte) (*Config, error) {
	var c Config
	if n := bytes.Count(b, []byte("[[server]]")); n > 0 {
		c.Servers = make([]Server, 0, n)
	}
	dec := toml.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, configDecodeError(name, err)
	}
	return &c, nil
}

// checkEntry checks s, the entry'th (from 0) [[server]] table of the
// config file's content b, with the file and line in its error.
func checkEntry(name string, b []byte, entry int, s *Server) error {
	if err := s.checkAuth(); err != nil {
		if line := keyLine(b, entry, "auth"); line > 0 {
			return fmt.Errorf("helper: %s:%d: %v", name, line, err)
		}
		return fmt.Errorf("helper: %s: [[server]] #%d: %v", name, entry+1, err)
	}
	if err := s.Check(); err != nil {
		var ke *keyError
		if errors.As(err, &ke) {
			if line := keyLine(b, entry, ke.key); line > 0 {
				return fmt.Errorf("helper: %s:%d: %v", name, line, err)
			}
		}
		return fmt.Errorf("helper: %s: [[server]] #%d: %v", name, entry+1, err)
	}
	return nil
}

// decodeEach does the decoder's work for a config of the usual shape,
// from go-toml's own parser but without the reflection of its decoder,
// which costs microseconds per entry: [[server]] tables alone, each key
// written once, as a bare or quoted name of a Server field, with a value
// of that field's kind (a string, true or false, an array of strings or
// of decimal integers). It calls each with every table as it is complete,
// in one Server it reuses. It reports false for anything else, including
// every file that go-toml would refuse, maybe after some calls of each;
// the file must then be decoded with go-toml's decoder, whose errors say
// what is wrong. FuzzDecodeServers checks that both decode alike what this
// accepts. The strings of the entries share b's bytes (see view): b must
// not change afterwards.
func decodeEach(b []byte, each func(s *Server)) bool {
	var p unstable.Parser
	p.Reset(b)
	var cur Server
	var in bool     // a [[server]] table has begun
	var seen uint32 // the keys of the current table so far, by bit
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable:
			k := e.Key()
			if !k.Next() || string(k.Node().Data) != "server" || k.Next() {
				return false
			}
			if in {
				each(&cur)
			}
			cur, in, seen = Server{}, true, 0
		case unstable.KeyValue:
			k := e.Key()
			if !in || !k.Next() {
				return false
			}
			key := k.Node().Data
			if k.Next() {
				return false // a dotted key
			}
			bit, ok := setServerKey(&cur, key, e.Value())
			if !ok || seen&bit != 0 {
				return false
			}
			seen |= bit
		default:
			return false
		}
	}
	if p.Error() != nil {
		return false
	}
	if in {
		each(&cur)
	}
	return true
}

// setServerKey sets the field of s that key names to the value v; bit
// stands for the key (for the check that no key repeats), and ok is false
// when key names no field or v is not of its kind.
func setServerKey(s *Server, key []byte, v *unstable.Node) (bit uint32, ok bool) {
	var f *string
	switch string(key) {
	case "match":
		bit, f = 1<<0, &s.Match
	case "host":
		bit, f = 1<<1, &s.Host
	case "issuer":
		bit, f = 1<<2, &s.Issuer
	case "client_id":
		bit, f = 1<<3, &s.ClientID
	case "client_secret":
		bit, f = 1<<4, &s.ClientSecret
	case "audience":
		bit, f = 1<<5, &s.Audience
	case "redirect_host":
		bit, f = 1<<6, &s.RedirectHost
	case "username_claim":
		bit, f = 1<<7, &s.UsernameClaim
	case "login_route":
		bit, f = 1<<8, &s.LoginRoute
	case "token_route":
		bit, f = 1<<9, &s.TokenRoute
	case "device_route":
		bit, f = 1<<10, &s.DeviceRoute
	case "username":
		bit, f = 1<<11, &s.Username
	case "auth":
		bit, f = 1<<12, &s.Auth
	case "allow_http":
		if v.Kind != unstable.Bool {
			return 0, false
		}
		s.AllowHTTP = string(v.Data) == "true"
		return 1 << 13, true
	case "scopes":
		if v.Kind != unstable.Array {
			return 0, false
		}
		s.Scopes = []string{}
		for it := v.Children(); it.Next(); {
			n := it.Node()
			if n.Kind != unstable.String {
				return 0, false
			}
			s.Scopes = append(s.Scopes, view(n.Data))
		}
		return 1 << 14, true
	case "redirect_ports":
		if v.Kind != unstable.Array {
			return 0, false
		}
		s.RedirectPorts = []int{}
		for it := v.Children(); it.Next(); {
			n := it.Node()
			if n.Kind != unstable.Integer || len(n.Data) > 9 || bytes.ContainsFunc(n.Data, func(r rune) bool { return r < '0' || r > '9' }) {
				return 0, false
			}
			port, err := strconv.Atoi(string(n.Data))
			if err != nil {
				return 0, false
			}
			s.RedirectPorts = append(s.RedirectPorts, port)
		}
		return 1 << 15, true
	default:
		return 0, false
	}
	if v.Kind != unstable.String {
		return 0, false
	}
	*f = view(v.Data)
	return bit, true
}

// view is d as a string, without a copy: the string shares d's bytes,
// which are the config file's content or a string go-toml's parser
// unescaped into bytes of its own, neither of which changes afterwards. A
// config of a thousand entries then allocates nothing per entry.
func view(d []byte) string {
	return unsafe.String(unsafe.SliceData(d), len(d))
}

// keyLine returns the line of key in the entry'th (from 0) [[server]]
// table of a config file's content, or 0 when it is written some other way
// (an inline table, a dotted key).
func keyLine(b []byte, entry int, key string) int {
	var p unstable.Parser
	p.Reset(b)
	seen, in := 0, false // [[server]] headers so far; in the entry'th
	for p.NextExpression() {
		e := p.Expression()
		var keys []*unstable.Node
		for it := e.Key(); it.Next(); {
			keys = append(keys, it.Node())
		}
		switch e.Kind {
		case unstable.ArrayTable, unstable.Table:
			server := e.Kind == unstable.ArrayTable && len(keys) == 1 && string(keys[0].Data) == "server"
			if server {
				seen++
			}
			in = server && seen == entry+1
			if seen > entry+1 {
				return 0
			}
		case unstable.KeyValue:
			if in && len(keys) == 1 && string(keys[0].Data) == key {
				return p.Shape(keys[0].Raw).Start.Line
			}
		}
	}
	return 0
}

// configDecodeError names the file and line of a TOML error.
func configDecodeError(name string, err error) error {
	var sme *toml.StrictMissingError
	if errors.As(err, &sme) && len(sme.Errors) > 0 {
		e := sme.Errors[0]
		row, _ := e.Position()
		key := strings.Join(e.Key(), ".")
		hint := ""
		switch last := e.Key()[len(e.Key())-1]; last {
		case "client", "secret", "scope", "issuer_url", "provider":
			hint = "; a standard OpenID Provider is named by issuer and client_id (with client_secret, scopes, audience)"
		}
		return fmt.Errorf("helper: %s:%d: unknown key %q%s", name, row, key, hint)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		return fmt.Errorf("helper: %s:%d: %s", name, row, decodeMessage(de))
	}
	return fmt.Errorf("helper: %s: %v", name, err)
}

// typeError reads the decoder's type errors, which name Go fields and
// types instead of TOML keys and values: it finds "cannot decode TOML
// KIND into struct field FIELD of type TYPE" in msg (KIND a word, FIELD
// and TYPE without spaces) and returns KIND and TYPE. It is the regular
// expression `cannot decode TOML (\w+) into struct field \S+ of type
// (\S+)`, written out so that reading a config links no regexp package.
func typeError(msg string) (kind, typ string, ok bool) {
	const lead, mid, tail = "cannot decode TOML ", " into struct field ", " of type "
	word := func(c byte) bool {
		return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
	}
	space := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }
	run := func(s string, in func(byte) bool) int {
		n := 0
		for n < len(s) && in(s[n]) {
			n++
		}
		return n
	}
	for i := strings.Index(msg, lead); i >= 0; {
		rest := msg[i+len(lead):]
		if n := run(rest, word); n > 0 && strings.HasPrefix(rest[n:], mid) {
			kind = rest[:n]
			rest = rest[n+len(mid):]
			if n := run(rest, func(c byte) bool { return !space(c) }); n > 0 && strings.HasPrefix(rest[n:], tail) {
				rest = rest[n+len(tail):]
				if n := run(rest, func(c byte) bool { return !space(c) }); n > 0 {
					return kind, rest[:n], true
				}
			}
		}
		j := strings.Index(msg[i+1:], lead)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return "", "", false
}

// decodeMessage says what is wrong with a value in the config's own
// terms.
func decodeMessage(de *toml.DecodeError) string {
	msg := strings.TrimPrefix(de.Error(), "toml: ")
	kind, typ, ok := typeError(msg)
	if !ok {
		return msg
	}
	m := [3]string{"", kind, typ}
	want := map[string]string{
		"string":          "a string",
		"bool":            "true or false",
		"[]int":           "a list of port numbers",
		"[]config.Server": "[[server]] tables",
	}[m[2]]
	if want == "" {
		want = "another kind of value"
	}
	got := "a " + m[1]
	if strings.ContainsRune("aeiou", rune(m[1][0])) {
		got = "an " + m[1]
	}
	key := strings.Join(de.Key(), ".")
	if key == "" {
		return fmt.Sprintf("%s where %s belong", got, want)
	}
	return fmt.Sprintf("%q must be %s, not %s", key, want, got)
}

// checkAuth validates Auth and writes it in lower case.
func (s *Server) checkAuth() error {
	switch a := strings.ToLower(s.Auth); a {
	case "", AuthAuto, AuthBasic, AuthBearer:
		s.Auth = a
		return nil
	}
	return fmt.Errorf("%q must be %q, %q or %q, not %q", "server.auth", AuthAuto, AuthBasic, AuthBearer, s.Auth)
}

// keyError is a bad value of one key of a [[server]] table, so that the
// message can name its line.
type keyError struct {
	key string
	err error
}

func (e *keyError) Error() string { return e.err.Error() }
func (e *keyError) Unwrap() error { return e.err }

// Check validates a server entry and parses its Match.
func (s *Server) Check() error {
	if err := s.checkAuth(); err != nil {
		return err
	}
	if s.Match == "" {
		return errors.New(`"match" is missing: the URL prefix or registry host to answer for`)
	}
	switch {
	case s.Host != "" && (s.Issuer != "" || s.ClientID != ""):
		key := "issuer"
		if s.Issuer == "" {
			key = "client_id"
		}
		return &keyError{key, fmt.Errorf(`an entry names either "host" (a py-oidc-auth server) or "issuer" and "client_id" (an OpenID Provider), not both`)}
	case s.Issuer != "" && s.ClientID == "":
		return &keyError{"issuer", fmt.Errorf(`"issuer" %q needs "client_id": the provider's client to log in with`, s.Issuer)}
	case s.Issuer == "" && s.ClientID != "":
		return &keyError{"client_id", fmt.Errorf(`"client_id" needs "issuer": the provider's issuer URL`)}
	case s.Host == "" && s.Issuer == "":
		return fmt.Errorf(`"host" (a py-oidc-auth server) or "issuer" and "client_id" (an OpenID Provider) is missing for match %q: where tokens come from`, s.Match)
	case s.Issuer == "" && (s.ClientSecret != "" || len(s.Scopes) > 0 || s.Audience != "" || s.RedirectHost != "" || s.UsernameClaim != ""):
		return errors.New(`client_secret, scopes, audience, redirect_host and username_claim belong to an "issuer" entry`)
	}
	if s.RedirectHost != "" && s.RedirectHost != "127.0.0.1" && s.RedirectHost != "localhost" {
		return &keyError{"redirect_host", fmt.Errorf(`"redirect_host" must be "127.0.0.1" or "localhost", not %q`, s.RedirectHost)}
	}
	server, key := s.Host, "host"
	if s.Issuer != "" {
		server, key = s.Issuer, "issuer"
	}
	u, err := parseURL(server)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return &keyError{key, fmt.Errorf("%s %q is not a server URL like https://auth.example.org", key, server)}
	}
	p, err := ParsePattern(s.Match)
	if err != nil {
		return err
	}
	if p.Scheme == "http" && !isLoopback(p.Hostname) && !s.AllowHTTP {
		return fmt.Errorf("match %q would send tokens over plain http; use https, or set allow_http = true", s.Match)
	}
	if strings.EqualFold(u.Scheme, "http") && !isLoopback(u.Hostname()) && !s.AllowHTTP {
		return &keyError{key, fmt.Errorf("%s %q would receive refresh tokens over plain http; use https, or set allow_http = true", key, server)}
	}
	for _, r := range s.Username {
		if r < ' ' || r == 0x7f {
			return fmt.Errorf("username %q has control characters; git and docker read it as a line of their protocol", s.Username)
		}
	}
	for _, port := range s.RedirectPorts {
		if port <= 0 || port > 65535 {
			return fmt.Errorf("redirect port %d is out of range", port)
		}
	}
	s.match = p
	return nil
}

// Pattern is a parsed Match: a scheme ("" for a registry host, which
// means https, or http on loopback), a host with its port, and a path
// prefix ending in "/" ("" for none).
type Pattern struct {
	// Scheme is "https", "http", or "" for a bare registry host.
	Scheme string
	// Host is the lowercase host[:port], the scheme's default port dropped.
	Host string
	// Hostname is Host without the port.
	Hostname string
	// Path is the path prefix, ending in "/"; "" for none.
	Path string
}

// ParsePattern parses a Match value.
func ParsePattern(m string) (Pattern, error) {
	raw := strings.TrimSpace(m)
	if !strings.Contains(raw, "://") {
		if strings.ContainsAny(raw, "/?#@") {
			return Pattern{}, fmt.Errorf("match %q is neither a URL with a scheme nor a bare registry host", m)
		}
		host, hostname, err := canonicalHost("", raw)
		if err != nil {
			return Pattern{}, fmt.Errorf("match %q: %v", m, err)
		}
		return Pattern{Host: host, Hostname: hostname}, nil
	}
	u, err := parseURL(raw)
	if err != nil {
		return Pattern{}, fmt.Errorf("match %q is not a URL: %v", m, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return Pattern{}, fmt.Errorf("match %q: only https and http URLs can be matched", m)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Pattern{}, fmt.Errorf("match %q: a match has no user, query or fragment", m)
	}
	host, hostname, err := canonicalHost(scheme, u.Host)
	if err != nil {
		return Pattern{}, fmt.Errorf("match %q: %v", m, err)
	}
	return Pattern{Scheme: scheme, Host: host, Hostname: hostname, Path: dirPath(u.Path)}, nil
}

// parseURL is url.Parse, with a quick path for the plain URLs a config
// holds, so that a config of many entries is checked quickly: an http or
// https URL of a host name (ASCII letters, digits, dots and hyphens) with
// an optional port and a path of unreserved characters and slashes is
// split by hand, into the URL url.Parse returns for it. Anything else goes
// to url.Parse.
func parseURL(s string) (url.URL, error) {
	if u, ok := plainURL(s); ok {
		return u, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return url.URL{}, err
	}
	return *u, nil
}

// plainURL splits s when it is a plain URL (see parseURL); ok is false
// when it is not.
func plainURL(s string) (u url.URL, ok bool) {
	var scheme string
	switch {
	case strings.HasPrefix(s, "https://"):
		scheme = "https"
	case strings.HasPrefix(s, "http://"):
		scheme = "http"
	default:
		return url.URL{}, false
	}
	rest := s[len(scheme)+3:]
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	host, path := rest[:end], rest[end:]
	name, port, hasPort := strings.Cut(host, ":")
	if name == "" || (hasPort && port == "") {
		return url.URL{}, false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '_' || c == '~' || c == '/' || !urlPlain[c] {
			return url.URL{}, false
		}
	}
	for i := 0; i < len(port); i++ {
		if c := port[i]; c < '0' || c > '9' {
			return url.URL{}, false
		}
	}
	for i := 0; i < len(path); i++ {
		if !urlPlain[path[i]] {
			return url.URL{}, false
		}
	}
	return url.URL{Scheme: scheme, Host: host, Path: path}, true
}

// urlPlain marks the bytes of a plain URL's path: unreserved characters
// (RFC 3986 section 2.3) and the slash.
var urlPlain = func() (t [256]bool) {
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/") {
		t[c] = true
	}
	return t
}()

// dirPath turns a URL path into a prefix that ends on a segment boundary:
// "/team" and "/team/" both become "/team/", and "" or "/" become "".
func dirPath(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p + "/"
}

// canonicalHost checks a host[:port] and returns it lowercased with the
// scheme's default port dropped, and the bare host name. Only ASCII host
// names are accepted: Unicode folding makes look-alikes equal (the Kelvin
// sign lowercases to "k"), so international names must be given in their
// punycode (xn--) form.
func canonicalHost(scheme, hostport string) (string, string, error) {
	if hostport == "" {
		return "", "", errors.New("no host")
	}
	if plainHost(hostport) {
		return hostport, hostport, nil // what hostOf returns for it, without its work
	}
	return hostOf(scheme, hostport)
}

// hostOf is canonicalHost for any non-empty hostport.
func hostOf(scheme, hostport string) (string, string, error) {
	for i := 0; i < len(hostport); i++ {
		if c := hostport[i]; c <= ' ' || c >= 0x7f || c == '/' || c == '\\' || c == '@' || c == '?' || c == '#' || c == '%' {
			return "", "", fmt.Errorf("host %q has characters a host name cannot have (use the xn-- form of international names)", hostport)
		}
	}
	host, port := hostport, ""
	if h, p, ok := storekey.SplitHostPort(hostport); ok {
		host, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n <= 0 || n > 65535 {
			return "", "", fmt.Errorf("port %q is not a port", p)
		}
	} else if strings.Contains(hostport, ":") && !strings.HasPrefix(hostport, "[") {
		return "", "", fmt.Errorf("host %q is not host[:port]", hostport)
	}
	host = strings.Trim(ASCIILower(host), "[]")
	if host == "" {
		return "", "", errors.New("no host")
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if port != "" {
		return storekey.JoinHostPort(host, port), host, nil
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]", host, nil
	}
	return host, host, nil
}

// plainHost reports whether hostport is a host name already in canonical
// form: lowercase ASCII letters, digits, dots and hyphens, no port. A
// config's entries are mostly written so.
func plainHost(hostport string) bool {
	for i := 0; i < len(hostport); i++ {
		if c := hostport[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// ASCIILower lowercases ASCII letters only.
func ASCIILower(s string) string { return ascii.Lower(s) }

// isLoopback reports whether a host name is the loopback interface.
func isLoopback(hostname string) bool { return storekey.IsLoopback(hostname) }
