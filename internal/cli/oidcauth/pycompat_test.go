package oidcauth

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// TestPyReorderArgs puts the Python client's documented invocations into
// the shape the flag parser reads, and leaves mistyped commands alone.
func TestPyReorderArgs(t *testing.T) {
	t.Parallel()
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct{ in, want string }{
		{"oidc-auth https://h", "oidc-auth -- https://h"},
		{"oidc-auth https://h --json", "oidc-auth --json -- https://h"},
		{"oidc-auth https://h -p 53100 53101", "oidc-auth -p 53100 -p 53101 -- https://h"},
		{"oidc-auth https://h -p 53100 53101 --json", "oidc-auth -p 53100 -p 53101 --json -- https://h"},
		{"oidc-auth https://h --ports 53100 --timeout 30", "oidc-auth --ports 53100 --timeout 30 -- https://h"},
		{"oidc-auth https://h --app-name x --force", "oidc-auth --app-name x --force -- https://h"},
		{"oidc-auth --timeout 60 https://h", "oidc-auth --timeout 60 -- https://h"},
		{"oidc-auth -p 53100 53101 https://h", "oidc-auth -p 53100 -p 53101 -- https://h"},
		{"oidc-auth auth.example.org -l /a -t /b -d /c", "oidc-auth -l /a -t /b -d /c -- auth.example.org"},
		{"oidc-auth localhost:8080 --json", "oidc-auth --json -- localhost:8080"},
		{"oidc-auth https://h --timeout", "oidc-auth --timeout"},
		{"oidc-auth --list", "oidc-auth --list"},
		{"oidc-auth --clear", "oidc-auth --clear"},
		{"oidc-auth --remove https://h", "oidc-auth --remove https://h"},
		{"oidc-auth lgoin https://h --flow device", "oidc-auth lgoin https://h --flow device"},
		{"oidc-auth frob --json", "oidc-auth frob --json"},
		{"oidc-auth login https://h --json", "oidc-auth login --json -- https://h"},
		{"oidc-auth http://h.example --allow-http", "oidc-auth --allow-http -- http://h.example"},
	}
	for _, tt := range tests {
		if got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestPyFlagsParse checks what the root command reads from each
// invocation once reordered: the ports of one -p, the timeout, the app.
func TestPyFlagsParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    string
		ports   []int
		timeout string
		app     string
		json    bool
	}{
		{"oidc-auth https://h", nil, "30", "py-oidc-auth", false},
		{"oidc-auth https://h --json", nil, "30", "py-oidc-auth", true},
		{"oidc-auth https://h -p 53100 53101", []int{53100, 53101}, "30", "py-oidc-auth", false},
		{"oidc-auth https://h --timeout 30", nil, "30", "py-oidc-auth", false},
		{"oidc-auth https://h --timeout 120 --app-name x", nil, "120", "x", false},
	}
	for _, tt := range tests {
		app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
		var got struct {
			ports   []int
			timeout string
			app     string
			json    bool
			host    string
		}
		app.Action = func(c *cli.Context) error {
			got.ports, got.timeout, got.app, got.json, got.host = c.IntSlice("ports"), c.String("timeout"), c.String("app-name"), c.Bool("json"), c.Args().First()
			return nil
		}
		if err := app.Run(reorderArgs(app, strings.Fields(tt.args))); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if !slices.Equal(got.ports, tt.ports) ||
			got.timeout != tt.timeout || got.app != tt.app || got.json != tt.json || got.host != "https://h" {
			t.Errorf("%q: ports %v timeout %q app %q json %v host %q; want %v %q %q %v https://h", tt.args, got.ports, got.timeout, got.app, got.json, got.host, tt.ports, tt.timeout, tt.app, tt.json)
		}
	}
}

// TestTokenPreview shows the 20 characters of a JWT's header the Python
// client shows, and nothing of an opaque token.
func TestTokenPreview(t *testing.T) {
	t.Parallel()
	enc := base64.RawURLEncoding.EncodeToString
	jwt := enc([]byte(`{"alg":"RS256","typ":"JWT","kid":"k1"}`)) + "." + enc([]byte(`{"sub":"u"}`)) + ".c2ln"
	tests := []struct{ token, want string }{
		{jwt, jwt[:20] + "..."},
		{"opaque-secret-value-0123456789", "(30 characters, not shown)"},
		{"short", "(5 characters, not shown)"},
		{enc([]byte(`{"a":1}`)) + ".x.y", "(" + itoa(len(enc([]byte(`{"a":1}`))+".x.y")) + " characters, not shown)"}, // the 20 would reach past the header
		{"abcdefghijklmnopqrstuvwxyz.b.c", "(30 characters, not shown)"},                                              // no JSON header
	}
	for _, tt := range tests {
		if got := tokenPreview(tt.token); got != tt.want {
			t.Errorf("tokenPreview(%q) = %q, want %q", tt.token, got, tt.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// pyStoreFile writes the Python client's token file, as json.dumps(data,
// indent=2) writes it, into the sandbox's cache for app.
func pyStoreFile(t *testing.T, app, content string) string {
	t.Helper()
	path := filepath.Join(os.Getenv("XDG_CACHE_HOME"), app, "token-store.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil { // the Python client leaves it 0755
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// pyEntry is one host's entry of the Python client's file.
func pyEntry(host, access string, expires, refreshExpires int64) string {
	return `  "` + host + `": {
    "token": {
      "access_token": "` + access + `",
      "token_type": "Bearer",
      "expires": ` + itoa(int(expires)) + `,
      "refresh_token": "rt-` + access + `",
      "refresh_expires": ` + itoa(int(refreshExpires)) + `,
      "scope": "openid profile",
      "headers": {
        "Authorization": "Bearer ` + access + `"
      }
    },
    "stored_at": 1767225000.5
  }`
}

// TestPyStoreCommands runs --list, --clear and --remove on the Python
// client's file, for the default app and for --app-name, with its outputs
// and exit codes.
func TestPyStoreCommands(t *testing.T) {
	sandbox(t)
	now := time.Now().Unix()
	code, out, errOut := runCLI("--list")
	if code != exitOK || out != "No cached tokens.\n" || errOut != "" {
		t.Fatalf("--list of no file: %d %q %q", code, out, errOut)
	}
	pyStoreFile(t, "py-oidc-auth", "{\n"+pyEntry("https://b.example.org", "tok-b", now+3600, now+7200)+",\n"+
		pyEntry("https://a.example.org", "tok-a", now-10, now+7200)+",\n"+
		pyEntry("https://gone.example.org", "tok-gone", now-7200, now-3600)+"\n}")
	code, out, errOut = runCLI("--list")
	if want := "  https://a.example.org  (expired)\n  https://b.example.org  (valid)\n"; code != exitOK || out != want || errOut != "" {
		t.Errorf("--list: %d %q %q; want %q", code, out, errOut, want)
	}
	if code, out, _ = runCLI("--list", "--app-name", "other"); code != exitOK || out != "No cached tokens.\n" {
		t.Errorf("--list --app-name other: %d %q", code, out)
	}
	if code, out, _ = runCLI("--remove", "https://A.example.org:443/path"); code != exitOK || out != "Removed token for https://A.example.org:443/path\n" {
		t.Errorf("--remove: %d %q", code, out)
	}
	if code, out, _ = runCLI("--remove", "https://a.example.org"); code != exitOK || out != "No cached token for https://a.example.org\n" {
		t.Errorf("--remove again: %d %q", code, out)
	}
	if code, out, _ = runCLI("--list"); code != exitOK || out != "  https://b.example.org  (valid)\n" {
		t.Errorf("--list after --remove: %d %q", code, out)
	}
	if code, out, _ = runCLI("--clear"); code != exitOK || out != "All cached tokens removed.\n" {
		t.Errorf("--clear: %d %q", code, out)
	}
	if code, out, _ = runCLI("--list"); code != exitOK || out != "No cached tokens.\n" {
		t.Errorf("--list after --clear: %d %q", code, out)
	}
}

// TestPyUsage checks the failures of the Python client's form: exit 2 for
// a command line that cannot run, exit 1 and its words for a failed
// authentication, and the unknown-command path for what is no host.
func TestPyUsage(t *testing.T) {
	sandbox(t)
	tests := []struct {
		args []string
		code int
		text string
	}{
		{[]string{"--json"}, exitUsage, "oidc-auth: host is required for authentication"},
		{[]string{"https://h", "--timeout", "soon"}, exitUsage, "--timeout"},
		{[]string{"https://h", "-p", "x"}, exitUsage, `"x" is not a valid value`},
		{[]string{"https://h", "--store", "file"}, exitUsage, "--store does not go with `oidc-auth HOST`"},
		{[]string{"--force", "login", "https://h"}, exitUsage, "do not go with the login command"},
		{[]string{"https://h", "--app-name", "../x"}, exitUsage, `--app-name "../x" is not a directory name`},
		{[]string{"https://a", "https://b"}, exitUsage, "takes one HOST, got 2"},
		{[]string{"lgoin", "--json"}, exitUsage, "unknown command \"lgoin\" (did you mean `oidc-auth login`?)"},
		{[]string{"https://auth.example.org"}, exitFailure, "Authentication failed: no valid login for https://auth.example.org (not logged in; no terminal to log in from); run `oidc-auth login https://auth.example.org`"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.text) || strings.Count(errOut, "\n") != 1 || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d, one line containing %q", tt.args, code, out, errOut, tt.code, tt.text)
		}
	}
}
