package helper_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
)

const validConfig = `# oidc-auth helpers
[[server]]
# the team's repositories
match = "https://git.example.org/team/"
host = "https://auth.example.org/api/app"
token_route = "/auth/v3/token"
redirect_ports = [8080, 8081]
username = "ci-bot"

[[server]]
match = "registry.example.org"
host = "https://auth.example.org"

[[server]]
match = "http://intranet.example.org/"
host = "http://127.0.0.1:8000"
allow_http = true
`

func TestParseConfigValid(t *testing.T) {
	t.Parallel()
	cfg, err := helper.ParseConfig("config.toml", []byte(validConfig))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if len(cfg.Servers) != 3 {
		t.Fatalf("%d servers, want 3", len(cfg.Servers))
	}
	s := cfg.Servers[0]
	if s.Match != "https://git.example.org/team/" || s.Host != "https://auth.example.org/api/app" ||
		s.TokenRoute != "/auth/v3/token" || !reflect.DeepEqual(s.RedirectPorts, []int{8080, 8081}) || s.Username != "ci-bot" || s.AllowHTTP {
		t.Errorf("first server %+v", s)
	}
	want := flows.Config{Host: "https://auth.example.org/api/app", TokenRoute: "/auth/v3/token", RedirectPorts: []int{8080, 8081}, CacheDir: helper.CacheDir()}
	if got := helper.Flows(&s); !reflect.DeepEqual(got, want) {
		t.Errorf("Flows() = %+v, want %+v", got, want)
	}
	if s := cfg.Servers[1]; s.Match != "registry.example.org" || s.Username != "" {
		t.Errorf("second server %+v", s)
	}
	if s := cfg.Servers[2]; !s.AllowHTTP {
		t.Errorf("third server %+v", s)
	}
	for _, empty := range []string{"", "# nothing yet\n", "\n\n"} {
		cfg, err := helper.ParseConfig("config.toml", []byte(empty))
		if err != nil || len(cfg.Servers) != 0 {
			t.Errorf("ParseConfig(%q) = %+v, %v; want an empty config", empty, cfg, err)
		}
	}
}

func TestParseConfigErrors(t *testing.T) {
	t.Parallel()
	const entry = "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\n"
	tests := []struct {
		name string
		text string
		want string // the whole message, or
		has  []string
	}{
		{
			name: "unknown key",
			text: "# comment\n" + entry + "colour = \"blue\"\n",
			want: `helper: my.toml:5: unknown key "server.colour"`,
		},
		{
			name: "unknown key in the second entry",
			text: entry + "\n" + entry + "\n\ncolour = 1\n",
			want: `helper: my.toml:10: unknown key "server.colour"`,
		},
		{
			name: "unknown top-level key",
			text: "colour = 1\n" + entry,
			want: `helper: my.toml:1: unknown key "colour"`,
		},
		{
			name: "issuer without client_id",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp.example.org\"\n",
			want: `helper: my.toml:3: "issuer" "https://idp.example.org" needs "client_id": the provider's client to log in with`,
		},
		{
			name: "host and client_id",
			text: entry + "client_id = \"abc\"\n",
			want: `helper: my.toml:4: an entry names either "host" (a py-oidc-auth server) or "issuer" and "client_id" (an OpenID Provider), not both`,
		},
		{
			name: "host and issuer",
			text: entry + "\nissuer = \"https://idp.example.org\"\nclient_id = \"abc\"\n",
			has:  []string{"my.toml:5:", "not both"},
		},
		{
			name: "client_secret without issuer",
			text: entry + "client_secret = \"abc\"\n",
			has:  []string{"my.toml: [[server]] #1:", `belong to an "issuer" entry`},
		},
		{
			name: "bad redirect_host",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp.example.org\"\nclient_id = \"c\"\nredirect_host = \"example.org\"\n",
			want: `helper: my.toml:5: "redirect_host" must be "127.0.0.1" or "localhost", not "example.org"`,
		},
		{
			name: "issuer over clear text",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"http://idp.example.org\"\nclient_id = \"c\"\n",
			has:  []string{"my.toml:3:", "allow_http = true"},
		},
		{
			name: "redirect_ports string",
			text: entry + "redirect_ports = \"x\"\n",
			want: `helper: my.toml:4: "server.redirect_ports" must be a list of port numbers, not a string`,
		},
		{
			name: "match not a string",
			text: "[[server]]\nmatch = 5\n",
			want: `helper: my.toml:2: "server.match" must be a string, not an integer`,
		},
		{
			name: "username with a newline",
			text: entry + "username = \"bob\\nhost=evil\"\n",
			has:  []string{"my.toml: [[server]] #1:", "control characters"},
		},
		{
			name: "redirect_ports string element",
			text: entry + "\nredirect_ports = [1, \"x\"]\n",
			has:  []string{"helper: my.toml:5: "},
		},
		{
			name: "allow_http not a bool",
			text: entry + "allow_http = \"yes\"\n",
			has:  []string{"helper: my.toml:4: "},
		},
		{
			name: "server not a table",
			text: "server = 3\n",
			has:  []string{"helper: my.toml:1: "},
		},
		{
			name: "syntax error",
			text: "[[server]]\nmatch = \"https://git.example.org/\nhost = \"x\"\n",
			has:  []string{"helper: my.toml:2: "},
		},
		{
			name: "missing match",
			text: "[[server]]\nhost = \"https://auth.example.org\"\n",
			has:  []string{"my.toml", "[[server]] #1", `"match" is missing`},
		},
		{
			name: "missing host",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\n",
			has:  []string{"my.toml", "[[server]] #1", `"host" (a py-oidc-auth server) or "issuer" and "client_id" (an OpenID Provider) is missing`},
		},
		{
			name: "host without scheme",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"auth.example.org\"\n",
			has:  []string{"my.toml:3:", `host "auth.example.org" is not a server URL`},
		},
		{
			name: "host with other scheme",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"ftp://auth.example.org\"\n",
			has:  []string{"is not a server URL"},
		},
		{
			name: "host without host",
			text: "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https:///api\"\n",
			has:  []string{"is not a server URL"},
		},
		{
			name: "error in the second entry",
			text: entry + "\n[[server]]\nmatch = \"registry.example.org\"\n",
			has:  []string{"[[server]] #2", `"host" (a py-oidc-auth server) or "issuer" and "client_id" (an OpenID Provider) is missing`},
		},
		{
			name: "http match without allow_http",
			text: "[[server]]\nmatch = \"http://git.example.org/\"\nhost = \"https://auth.example.org\"\n",
			has:  []string{"plain http", "allow_http = true"},
		},
		{
			name: "http match with allow_http false",
			text: "[[server]]\nmatch = \"http://git.example.org/\"\nhost = \"https://auth.example.org\"\nallow_http = false\n",
			has:  []string{"allow_http = true"},
		},
		{
			name: "redirect port zero",
			text: entry + "redirect_ports = [8080, 0]\n",
			has:  []string{"redirect port 0 is out of range"},
		},
		{
			name: "redirect port too large",
			text: entry + "redirect_ports = [65536]\n",
			has:  []string{"redirect port 65536 is out of range"},
		},
		{
			name: "redirect port negative",
			text: entry + "redirect_ports = [-1]\n",
			has:  []string{"redirect port -1 is out of range"},
		},
		{
			name: "match with a query",
			text: "[[server]]\nmatch = \"https://git.example.org/?a=b\"\nhost = \"https://auth.example.org\"\n",
			has:  []string{"no user, query or fragment"},
		},
		{
			name: "Unicode match",
			text: "[[server]]\nmatch = \"https://bücher.example/\"\nhost = \"https://auth.example.org\"\n",
			has:  []string{"xn--"},
		},
		{
			name: "auth unknown",
			text: "# comment\n" + entry + "auth = \"token\"\n",
			want: `helper: my.toml:5: "server.auth" must be "auto", "basic" or "bearer", not "token"`,
		},
		{
			name: "auth unknown in the second entry",
			text: entry + "auth = \"basic\"\n\n" + entry + "username = \"x\"\n  auth = \"oauth\"\n",
			want: `helper: my.toml:10: "server.auth" must be "auto", "basic" or "bearer", not "oauth"`,
		},
		{
			name: "auth unknown after another table",
			text: entry + "[other]\nauth = \"x\"\n",
			has:  []string{`unknown key "other"`},
		},
		{
			name: "auth empty",
			text: entry + "auth = \" \"\n",
			want: `helper: my.toml:4: "server.auth" must be "auto", "basic" or "bearer", not " "`,
		},
		{
			name: "auth not a string",
			text: entry + "auth = true\n",
			want: `helper: my.toml:4: "server.auth" must be a string, not a boolean`,
		},
		{
			name: "auth unknown in an inline table",
			text: "server = [{match = \"https://git.example.org/\", host = \"https://auth.example.org\", auth = \"digest\"}]\n",
			want: `helper: my.toml: [[server]] #1: "server.auth" must be "auto", "basic" or "bearer", not "digest"`,
		},
		{
			name: "registry with a path",
			text: "[[server]]\nmatch = \"registry.example.org/v2/\"\nhost = \"https://auth.example.org\"\n",
			has:  []string{"neither a URL with a scheme nor a bare registry host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := helper.ParseConfig("my.toml", []byte(tt.text))
			if err == nil {
				t.Fatalf("ParseConfig = %+v, want an error", cfg)
			}
			if cfg != nil {
				t.Errorf("config %+v with an error", cfg)
			}
			if tt.want != "" && err.Error() != tt.want {
				t.Errorf("error\n%q\nwant\n%q", err, tt.want)
			}
			for _, s := range tt.has {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestParseConfigAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text string }{
		{"http match with allow_http", "[[server]]\nmatch = \"http://git.example.org/\"\nhost = \"https://auth.example.org\"\nallow_http = true\n"},
		{"http match on loopback", "[[server]]\nmatch = \"http://127.0.0.1:3000/\"\nhost = \"https://auth.example.org\"\n"},
		{"http match on localhost", "[[server]]\nmatch = \"http://localhost:3000/\"\nhost = \"http://localhost:8000\"\n"},
		{"http match on IPv6 loopback", "[[server]]\nmatch = \"http://[::1]:3000/\"\nhost = \"https://auth.example.org\"\n"},
		{"loopback registry", "[[server]]\nmatch = \"127.0.0.1:5000\"\nhost = \"https://auth.example.org\"\n"},
		{"punycode match", "[[server]]\nmatch = \"https://xn--bcher-kva.example/\"\nhost = \"https://auth.example.org\"\n"},
		{"host with a path prefix", "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org/api/app/\"\n"},
		{"edge redirect ports", "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\nredirect_ports = [1, 65535]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := helper.ParseConfig("my.toml", []byte(tt.text)); err != nil {
				t.Errorf("ParseConfig: %v", err)
			}
		})
	}
}

func TestParseConfigAuth(t *testing.T) {
	t.Parallel()
	tests := []struct{ value, want string }{
		{"", ""},
		{"auto", helper.AuthAuto},
		{"basic", helper.AuthBasic},
		{"bearer", helper.AuthBearer},
		{"Bearer", helper.AuthBearer},
		{"BASIC", helper.AuthBasic},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			t.Parallel()
			text := "[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://auth.example.org\"\n"
			if tt.value != "" {
				text += "auth = \"" + tt.value + "\"\n"
			}
			cfg, err := helper.ParseConfig("my.toml", []byte(text))
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if got := cfg.Servers[0].Auth; got != tt.want {
				t.Errorf("Auth = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		cfg, err := helper.LoadConfig(filepath.Join(dir, "nowhere", "config.toml"))
		if err != nil || cfg == nil || len(cfg.Servers) != 0 {
			t.Errorf("LoadConfig = %+v, %v; want an empty config", cfg, err)
		}
	})
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "good.toml")
		if err := os.WriteFile(path, []byte(validConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := helper.LoadConfig(path)
		if err != nil || len(cfg.Servers) != 3 {
			t.Errorf("LoadConfig = %+v, %v", cfg, err)
		}
	})
	t.Run("errors name the file", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(dir, "bad.toml")
		if err := os.WriteFile(path, []byte("[[server]]\ncolour = 1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := helper.LoadConfig(path)
		if err == nil || err.Error() != "helper: "+path+`:2: unknown key "server.colour"` {
			t.Errorf("LoadConfig: %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		t.Parallel()
		if cfg, err := helper.LoadConfig(dir); err == nil {
			t.Errorf("LoadConfig(dir) = %+v, want an error", cfg)
		}
	})
}

// TestConfigPath changes the environment: no t.Parallel.
func TestConfigPath(t *testing.T) {
	home := t.TempDir()
	tests := []struct {
		name        string
		config, xdg string
		want        string
	}{
		{name: "OIDC_AUTH_CONFIG", config: "/etc/oidc/c.toml", xdg: "/xdg", want: "/etc/oidc/c.toml"},
		{name: "XDG_CONFIG_HOME", xdg: "/xdg", want: filepath.Join("/xdg", "oidc-auth", "config.toml")},
		{name: "home", want: filepath.Join(home, ".config", "oidc-auth", "config.toml")},
	}
	switch runtime.GOOS {
	case "windows":
		tests[2].want = filepath.Join(home, "AppData", "Roaming", "oidc-auth", "config.toml")
	case "darwin":
		tests[2].want = filepath.Join(home, "Library", "Application Support", "oidc-auth", "config.toml")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(helper.ConfigEnv, tt.config)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			t.Setenv("HOME", home)
			t.Setenv("USERPROFILE", home)
			t.Setenv("APPDATA", filepath.Join(home, "AppData", "Roaming"))
			got, err := helper.ConfigPath()
			if err != nil || got != tt.want {
				t.Errorf("ConfigPath() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzParseConfig checks that no config file panics the parser, and that an
// accepted one has a match and a server URL in every entry.
func FuzzParseConfig(f *testing.F) {
	f.Add(validConfig)
	f.Add("[[server]]\nmatch = \"https://git.example.org/\"\nissuer = \"https://idp\"\n")
	f.Add("[[server]]\nmatch = \"http://git.example.org/\"\nhost = \"https://a\"\nallow_http = true\nredirect_ports = [1]\n")
	f.Add("[server]\nmatch = \"registry.example.org:5000\"\nhost = \"http://[::1]:80/x\"\n")
	f.Add("server = []\n")
	f.Add("[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a\"\nauth = \"Bearer\"\n")
	f.Add("[[server]]\nmatch = \"https://git.example.org/\"\nhost = \"https://a\"\n[[server]]\nauth = \"x\"\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := helper.ParseConfig("fuzz.toml", []byte(text))
		if err != nil {
			if cfg != nil {
				t.Errorf("config %+v with error %v", cfg, err)
			}
			if !strings.HasPrefix(err.Error(), "helper: fuzz.toml") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		for _, s := range cfg.Servers {
			if strings.TrimSpace(s.Match) == "" || s.Host == "" {
				t.Errorf("accepted entry %+v", s)
			}
			if h := strings.ToLower(s.Host); !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") {
				t.Errorf("accepted host %q", s.Host)
			}
			for _, p := range s.RedirectPorts {
				if p <= 0 || p > 65535 {
					t.Errorf("accepted port %d", p)
				}
			}
			switch s.Auth {
			case "", helper.AuthAuto, helper.AuthBasic, helper.AuthBearer:
			default:
				t.Errorf("accepted auth %q", s.Auth)
			}
		}
	})
}

// TestParseConfigIssuer: an entry with issuer and client_id is a standard
// provider's, with every key carried into the flow configuration.
func TestParseConfigIssuer(t *testing.T) {
	t.Parallel()
	cfg, err := helper.ParseConfig("config.toml", []byte(`[[server]]
match = "https://git.example.org/"
issuer = "https://keycloak.example.org/realms/x"
client_id = "cli"
client_secret = "s3"
scopes = ["openid", "offline_access", "groups"]
audience = "https://api.example.org"
redirect_ports = [8400]
redirect_host = "localhost"
username_claim = "email"
`))
	if err != nil {
		t.Fatal(err)
	}
	got := helper.Flows(&cfg.Servers[0])
	want := flows.Config{Issuer: "https://keycloak.example.org/realms/x", ClientID: "cli", ClientSecret: "s3",
		Scopes: []string{"openid", "offline_access", "groups"}, Audience: "https://api.example.org", RedirectPorts: []int{8400},
		RedirectHost: "localhost", UsernameClaim: "email", CacheDir: helper.CacheDir()}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Flows() = %+v, want %+v", got, want)
	}
	if err := got.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
}
