package oidcauth

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// statusNow is the fixed time of the formatting tests.
var statusNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration) int64 { return statusNow.Add(d).Unix() }

func TestStatusWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name            string
		tok             flows.Token
		access, refresh string
	}{
		{"valid", flows.Token{AccessToken: "a", Expires: at(42*time.Minute + 10*time.Second), RefreshToken: "r", RefreshExpires: at(29*24*time.Hour + time.Hour)},
			"valid for 42m", "valid for 29d"},
		{"hours", flows.Token{AccessToken: "a", Expires: at(5*time.Hour + 59*time.Minute)},
			"valid for 5h", "none"},
		// flows.Cached refreshes a token with less than a minute left:
		// the time is still in the future, so it is not "expired".
		{"expires soon, refreshable", flows.Token{AccessToken: "a", Expires: at(30 * time.Second), RefreshToken: "r", RefreshExpires: at(time.Hour)},
			"expires in 30s, refreshed on next use", "valid for 60m"},
		{"expires soon, no refresh", flows.Token{AccessToken: "a", Expires: at(30 * time.Second)},
			"expires in 30s", "none"},
		{"expired, refreshable", flows.Token{AccessToken: "a", Expires: at(-3 * time.Hour), RefreshToken: "r", RefreshExpires: at(2 * time.Hour)},
			"expired 3h ago, refreshed on next use", "valid for 2h"},
		{"both expired", flows.Token{AccessToken: "a", Expires: at(-3 * time.Hour), RefreshToken: "r", RefreshExpires: at(-49 * time.Hour)},
			"expired 3h ago", "expired 2d ago"},
		{"refresh ends soon", flows.Token{AccessToken: "a", Expires: at(20 * time.Second), RefreshToken: "r", RefreshExpires: at(40 * time.Second)},
			"expires in 20s", "expires in 40s"},
		{"no expiry known", flows.Token{AccessToken: "a", RefreshToken: "r"},
			"no expiry known", "no expiry known"},
		{"erased by git", flows.Token{RefreshToken: "r", RefreshExpires: at(time.Hour)},
			"none, refreshed on next use", "valid for 60m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := accessWords(&tt.tok, statusNow); got != tt.access {
				t.Errorf("access token: %q, want %q", got, tt.access)
			}
			if got := refreshWords(&tt.tok, statusNow); got != tt.refresh {
				t.Errorf("refresh token: %q, want %q", got, tt.refresh)
			}
		})
	}
}

// TestStatusNeverExpiredInFuture: for every expiry from a minute before
// now to two minutes after, status says "expired" exactly when the time is
// past. The earlier status called a token "expired" as soon as flows no
// longer used it as it is (less than a minute left).
func TestStatusNeverExpiredInFuture(t *testing.T) {
	t.Parallel()
	for d := -60 * time.Second; d <= 120*time.Second; d += time.Second {
		tok := flows.Token{AccessToken: "a", Expires: at(d), RefreshToken: "r", RefreshExpires: at(d)}
		for _, words := range []string{accessWords(&tok, statusNow), refreshWords(&tok, statusNow)} {
			if expired := strings.HasPrefix(words, "expired"); expired != (d <= 0) {
				t.Errorf("expiry in %v: %q", d, words)
			}
		}
	}
}

func TestStatusEntries(t *testing.T) {
	t.Parallel()
	entries := []keyring.Entry{
		{Key: "https://auth.example.org", Backend: "file", Record: keyring.Record{
			Token:  flows.Token{AccessToken: "secret-access", Expires: at(42 * time.Minute), RefreshToken: "secret-refresh", RefreshExpires: at(24 * time.Hour)},
			Server: &keyring.Server{Host: "https://auth.example.org/api/app"},
		}},
		{Key: "oidc:https://idp.example.org/realms/x#cli", Backend: "keychain", Record: keyring.Record{
			Token:  flows.Token{AccessToken: "secret-2", Expires: at(-time.Minute), Claims: &flows.Claims{PreferredUsername: "jane"}},
			Server: &keyring.Server{Issuer: "https://idp.example.org/realms/x", ClientID: "cli"},
		}},
		{Key: "", Backend: "file", Record: keyring.Record{Token: flows.Token{AccessToken: "secret-3", Expires: at(time.Hour)}}},
	}
	uses := []helper.Use{
		{Tool: "git", Target: "https://git.example.org/team/", Source: "config.toml", Login: "https://auth.example.org"},
		{Tool: "git", Target: "https://git.example.org/team", Source: "credential.https://git.example.org/team.helper", Login: "https://auth.example.org"},
		{Tool: "docker", Target: "registry.example.org", Source: "config.json", Login: "https://auth.example.org"},
		{Tool: "docker", Target: "other.example.org", Source: "config.json", Login: "https://other.example.org"},
	}
	list := statusEntries(entries, "/cache/token-store.json", uses, statusNow)
	if len(list) != 3 {
		t.Fatalf("%d entries", len(list))
	}
	py, op, bare := list[0], list[1], list[2]
	if py.Kind != kindPyOIDCAuth || py.ServerURL != "https://auth.example.org/api/app" || py.StorePath != "/cache/token-store.json" ||
		!py.Valid || !py.Refreshable || py.AccessTokenValidForSeconds != 42*60 || py.AccessTokenExpiresAt != "2026-03-01T12:42:00Z" ||
		py.RefreshTokenExpiresAt != "2026-03-02T12:00:00Z" || len(py.UsedBy) != 2 || py.UsedBy[1].Tool != "docker" {
		t.Errorf("py-oidc-auth entry: %+v", py)
	}
	if op.Kind != kindProvider || op.ServerURL != "https://idp.example.org/realms/x" || op.User != "jane" || op.StorePath != "" ||
		op.Valid || op.AccessTokenValidForSeconds != 0 || len(op.UsedBy) != 0 || op.UsedBy == nil {
		t.Errorf("provider entry: %+v", op)
	}
	if bare.Kind != kindTokenFile || bare.ServerURL != "" {
		t.Errorf("token file entry: %+v", bare)
	}

	var table bytes.Buffer
	if err := writeStatusTable(&table, list); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(table.String(), "\n"), "\n")
	if len(lines) != 6 || lines[4] != "" || lines[5] != "file: /cache/token-store.json" || strings.Join(strings.Fields(lines[0]), " ") != "SERVER KIND USER STORE ACCESS TOKEN REFRESH TOKEN USED BY" {
		t.Fatalf("table:\n%s", table.String())
	}
	for i, want := range [][]string{
		{"https://auth.example.org/api/app", "py-oidc-auth", " - ", "file ", "valid for 42m", "valid for 24h", "git https://git.example.org/team/, docker registry.example.org"},
		{"https://idp.example.org/realms/x (client cli)", "oidc provider", "jane", "keychain", "expired 60s ago", "none"},
		{"(the token in $OIDC_TOKEN_FILE)", "token file", "valid for 60m"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("table line %q lacks %q", lines[i+1], w)
			}
		}
	}
	if strings.Contains(table.String(), "secret") {
		t.Errorf("the table shows a token:\n%s", table.String())
	}

	if err := noValidLogin(list); err != nil {
		t.Errorf("noValidLogin with a valid login: %v", err)
	}
	if err := noValidLogin(list[1:2]); err == nil || !strings.Contains(err.Error(), "oidc-auth login --issuer https://idp.example.org/realms/x --client-id cli") {
		t.Errorf("noValidLogin of an expired provider login: %v", err)
	}
	if err := noValidLogin(nil); err == nil || !strings.Contains(err.Error(), "oidc-auth login HOST") {
		t.Errorf("noValidLogin without logins: %v", err)
	}
}

// statusHome isolates a run of the command: its own HOME, XDG
// directories, docker and git config, and the file store. It changes the
// environment: no t.Parallel.
func statusHome(t *testing.T) (store *keyring.FileStore, config string) {
	t.Helper()
	dir := t.TempDir()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "OIDC_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Setenv("HOME", filepath.Join(dir, "home"))
	t.Setenv("USERPROFILE", filepath.Join(dir, "home")) // the home on Windows
	t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(dir, "docker"))
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(dir, "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("OIDC_AUTH_STORE", "file")
	t.Setenv("NO_COLOR", "")
	path, err := keyring.DefaultFilePath("")
	if err != nil {
		t.Fatal(err)
	}
	return &keyring.FileStore{Path: path}, filepath.Join(dir, "config", "oidc-auth", "config.toml")
}

func putLogin(t *testing.T, store *keyring.FileStore, host string, tok flows.Token) {
	t.Helper()
	key, err := keyring.Key(host)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Put(context.Background(), key, &keyring.Record{Token: tok, Server: &keyring.Server{Host: host}}); err != nil {
		t.Fatal(err)
	}
}

func runStatus(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), "", append([]string{"oidc-auth", "status"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestStatusExitCodes(t *testing.T) {
	store, _ := statusHome(t)
	code, stdout, stderr := runStatus(t)
	if code != exitFailure || stdout != "" || !strings.Contains(stderr, "no stored logins; run `oidc-auth login HOST`") {
		t.Errorf("status without logins: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	code, stdout, _ = runStatus(t, "--json")
	if code != exitFailure || stdout != "[]\n" {
		t.Errorf("status --json without logins: exit %d, stdout %q", code, stdout)
	}

	now := time.Now()
	putLogin(t, store, "https://old.example.org/api", flows.Token{AccessToken: "secret-old", Expires: now.Add(-time.Hour).Unix(), RefreshToken: "secret-old-r", RefreshExpires: now.Add(-time.Second).Unix() + 40})
	code, stdout, stderr = runStatus(t)
	if code != exitFailure || !strings.Contains(stdout, "https://old.example.org/api") || !strings.Contains(stderr, "run `oidc-auth login https://old.example.org/api`") {
		t.Errorf("status with an expired login: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	putLogin(t, store, "https://auth.example.org/api/app", flows.Token{AccessToken: "secret-a", Expires: now.Add(42*time.Minute + 30*time.Second).Unix(), RefreshToken: "secret-r", RefreshExpires: now.Add(30 * 24 * time.Hour).Unix()})
	code, stdout, stderr = runStatus(t)
	if code != exitOK || stderr != "" || !strings.Contains(stdout, "valid for 42m") || !strings.Contains(stdout, "valid for 29d") {
		t.Errorf("status with a valid login: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "secret") {
		t.Errorf("status shows a token")
	}
}

func TestStatusJSON(t *testing.T) {
	store, config := statusHome(t)
	now := time.Now()
	putLogin(t, store, "https://auth.example.org/api/app", flows.Token{AccessToken: "secret-a", Expires: now.Add(time.Hour).Unix(), RefreshToken: "secret-r", RefreshExpires: now.Add(2 * time.Hour).Unix()})
	if err := os.MkdirAll(filepath.Dir(config), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(config, []byte("[[server]]\nmatch = \"registry.example.org\"\nhost = \"https://auth.example.org/api/app\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runStatus(t, "--json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if strings.Contains(stdout, "secret") {
		t.Errorf("status --json shows a token:\n%s", stdout)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || len(list) != 1 {
		t.Fatalf("status --json: %v\n%s", err, stdout)
	}
	m := list[0]
	for _, field := range []string{"server", "host", "store", "valid", "expires", "refreshable", "refresh_expires",
		"store_key", "server_url", "kind", "store_path", "access_token_expires_at", "access_token_valid_for_seconds",
		"refresh_token_expires_at", "used_by"} {
		if _, ok := m[field]; !ok {
			t.Errorf("status --json lacks %q:\n%s", field, stdout)
		}
	}
	if m["server"] != "https://auth.example.org" || m["store_key"] != "https://auth.example.org" || m["server_url"] != "https://auth.example.org/api/app" ||
		m["host"] != "https://auth.example.org/api/app" || m["kind"] != "py-oidc-auth" || m["store"] != "file" || m["store_path"] != store.Path || m["valid"] != true {
		t.Errorf("status --json fields:\n%s", stdout)
	}
	if at, err := time.Parse(time.RFC3339, m["access_token_expires_at"].(string)); err != nil || at.Unix() != now.Add(time.Hour).Unix() {
		t.Errorf("access_token_expires_at %v: %v", m["access_token_expires_at"], err)
	}
	if n := m["access_token_valid_for_seconds"].(float64); n < 3590 || n > 3600 {
		t.Errorf("access_token_valid_for_seconds %v", n)
	}
	used, _ := m["used_by"].([]any)
	if len(used) != 1 || used[0].(map[string]any)["target"] != "registry.example.org" || used[0].(map[string]any)["tool"] != "docker" {
		t.Errorf("used_by %v", m["used_by"])
	}
}
