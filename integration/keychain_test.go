package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// autoStore lets a run choose its store itself (the keychain, falling back
// to the file), instead of the harness's forced file.
var autoStore = []string{"OIDC_AUTH_STORE="}

// TestKeychainFallbackWithoutDBus runs oidc-auth with no D-Bus session at
// all, as on a headless server: the token goes to the file with one
// warning that says why and how to silence it; a forced keychain is an
// error, not a silent fallback.
func TestKeychainFallbackWithoutDBus(t *testing.T) {
	t.Parallel()
	requireDBusKeychain(t)
	daemons := countProcesses(t, "dbus-daemon")
	t.Cleanup(func() {
		if n := countProcesses(t, "dbus-daemon"); n > daemons {
			t.Errorf("%d dbus-daemon processes before, %d after: oidc-auth started a D-Bus session of its own", daemons, n)
		}
	})
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.runEnv(autoStore, "login", srv.URL(), "--timeout", loginTimeout)
	mustSucceed(t, r)
	var warnings []string
	for _, line := range strings.Split(r.stderr, "\n") {
		if strings.Contains(line, "warning") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("want exactly one warning line, got %d:\n%s", len(warnings), r.stderr)
	}
	for _, want := range []string{"oidc-auth: warning: the OS keychain cannot be used (", s.storePath(), "OIDC_AUTH_STORE=file"} {
		if !strings.Contains(warnings[0], want) {
			t.Errorf("warning %q lacks %q", warnings[0], want)
		}
	}
	e := s.readStore()[storeKey(t, srv)]
	if !srv.Valid(e.Token.AccessToken) {
		t.Fatal("no valid token in the fallback file")
	}

	before := requestCounts(srv)
	r = s.runEnv(autoStore, "token", srv.URL())
	mustSucceed(t, r)
	if r.stdout != e.Token.AccessToken+"\n" || r.stderr != "" {
		t.Errorf("token from the fallback file: stdout %q, stderr %q (want the token and no warning)", r.stdout, r.stderr)
	}
	checkQuick(t, s, r, 2*time.Second)
	if got := requestCounts(srv); len(got) != len(before) || got[pyauthserver.RouteToken] != before[pyauthserver.RouteToken] {
		t.Errorf("a cached token cost requests: %v -> %v", before, got)
	}
	r = s.runEnv(autoStore, "status")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, srv.URL()) || !strings.Contains(r.stdout, " file ") {
		t.Errorf("status does not show the login in the file:\n%s", r.stdout)
	}

	for _, env := range [][]string{{"OIDC_AUTH_STORE=keychain"}, autoStore} {
		args := []string{"token", srv.URL()}
		if env[0] == autoStore[0] {
			args = []string{"--store", "keychain", "token", srv.URL()}
		}
		r = s.runEnv(env, args...)
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, "the OS keychain is not available") {
			t.Errorf("%v %q: %q, want the keychain named as unavailable", env, args, msg)
		}
	}
	r = s.runEnv(autoStore, "token", srv.URL(), "--store", "vault")
	if msg := onlyLine(t, r, 2); !strings.Contains(msg, `"vault" is not a store`) {
		t.Errorf("--store vault: %q", msg)
	}
}

// requireDBusKeychain skips a test of how oidc-auth fares without a
// Secret Service on D-Bus where the OS keychain is no such service.
func requireDBusKeychain(t *testing.T) {
	t.Helper()
	if runtime.GOOS == "windows" || runtime.GOOS == "darwin" {
		t.Skipf("the OS keychain on %s is no Secret Service on D-Bus and is always there, so it cannot be missing as without D-Bus; the keychainSandbox tests use it", runtime.GOOS)
	}
}

// keychainSandbox returns a sandbox whose runs reach a real OS keychain
// that belongs to the tests: the Secret Service of the test's D-Bus
// session (scripts/with-secret-service), or on Windows the Credential
// Manager of the Wine prefix of scripts/test-windows. It skips, with the
// reason, where no such keychain was promised (OIDC_AUTH_TEST_KEYCHAIN=1);
// there it would be the person's own keychain.
func keychainSandbox(t *testing.T) (*sandbox, []string) {
	t.Helper()
	const why = "needs a keychain of the tests' own, promised by OIDC_AUTH_TEST_KEYCHAIN=1: the private Secret Service of scripts/with-secret-service, or on Windows the Credential Manager of the Wine prefix of scripts/test-windows; never the person's own keychain"
	if os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1" {
		t.Skip(why)
	}
	if runtime.GOOS == "windows" {
		return newSandbox(t), []string{"OIDC_AUTH_STORE="}
	}
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		t.Skip(why)
	}
	return newSandbox(t), []string{"OIDC_AUTH_STORE=", "DBUS_SESSION_BUS_ADDRESS=" + bus}
}

// keychainTokens are the tokens of a login, as `login --json` prints them.
type keychainTokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// keychainLogin logs in to srv in the keychain sandbox s (env), with no
// warning and nothing written to the token file, and returns the tokens,
// which the sandbox then looks for in every output.
func keychainLogin(t *testing.T, s *sandbox, env []string, srv *pyauthserver.Server) keychainTokens {
	t.Helper()
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.runEnv(env, "login", srv.URL(), "--timeout", loginTimeout, "--json")
	mustSucceed(t, r)
	if strings.Contains(r.stderr, "warning") {
		t.Errorf("a warning with a working keychain:\n%s", r.stderr)
	}
	var tok keychainTokens
	if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil || !srv.Valid(tok.AccessToken) {
		t.Fatalf("login --json: %v\n%s", err, r.stdout)
	}
	s.learn(tok.AccessToken, tok.RefreshToken)
	if b := s.storeBytes(); b != nil {
		t.Fatalf("the token file was written although the keychain works:\n%s", b)
	}
	return tok
}

// TestKeychainIsTheDefault logs in with a working Secret Service: the token
// lives in the keychain, not in the file, and status says so.
func TestKeychainIsTheDefault(t *testing.T) {
	s, env := keychainSandbox(t)
	srv := startServer(t, pyauthserver.Options{})
	tok := keychainLogin(t, s, env, srv)
	item, err := gokeyring.Get("oidc-auth", storeKey(t, srv))
	if err != nil || !strings.Contains(item, tok.AccessToken) {
		t.Fatalf("keychain item for %s: %v", storeKey(t, srv), err)
	}

	before := srv.Count(pyauthserver.RouteToken)
	r := s.runEnv(env, "token", srv.URL())
	mustSucceed(t, r)
	if r.stdout != tok.AccessToken+"\n" || srv.Count(pyauthserver.RouteToken) != before {
		t.Errorf("token from the keychain: %q, %d new token requests", r.stdout, srv.Count(pyauthserver.RouteToken)-before)
	}
	r = s.runEnv(env, "status", "--json")
	mustSucceed(t, r)
	var list []struct{ Host, Store string }
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range list {
		if e.Host == srv.URL() {
			found = e.Store == "keychain"
		}
	}
	if !found {
		t.Errorf("status --json does not list %s in the keychain: %s", srv.URL(), r.stdout)
	}
	mustSucceed(t, s.runEnv(env, "logout", srv.URL()))
	if _, err := gokeyring.Get("oidc-auth", storeKey(t, srv)); err != gokeyring.ErrNotFound {
		t.Errorf("the keychain item is still there after logout: %v", err)
	}
}

// TestKeychainForeignItem puts a secret that is not ours under a server's
// key: every command names the item, exits 1, and leaves it alone.
func TestKeychainForeignItem(t *testing.T) {
	s, env := keychainSandbox(t)
	srv := startServer(t, pyauthserver.Options{})
	key := storeKey(t, srv)
	if err := gokeyring.Set("oidc-auth", key, "not-a-token-record"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gokeyring.Delete("oidc-auth", key) })
	for _, args := range [][]string{
		{"token", srv.URL()},
		{"login", "--force", srv.URL(), "--timeout", loginTimeout},
	} {
		r := s.runEnv(env, args...)
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, `keychain item "`+key+`"`) || !strings.Contains(msg, "fix or remove it") {
			t.Errorf("%q: %q, want the item named", args, msg)
		}
		if v, err := gokeyring.Get("oidc-auth", key); err != nil || v != "not-a-token-record" {
			t.Fatalf("%q changed the foreign item: %q, %v", args, v, err)
		}
	}
	if n := srv.Count(pyauthserver.RouteDevice); n != 0 {
		t.Errorf("%d logins started into an unusable item", n)
	}
}

// TestBareTokenFile hands oidc-auth a token file holding one bare token, as
// batch tools write with --token-file: it serves the server it is asked
// for, is refreshed in place, and is never handed to another host.
func TestBareTokenFile(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
	s := newSandbox(t)
	e := s.login(srv)
	bare := filepath.Join(s.dir, "job", "token.json")
	if err := os.MkdirAll(filepath.Dir(bare), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bare, tokenBytes(t, e), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"OIDC_TOKEN_FILE=" + bare, "OIDC_AUTH_HOST=" + srv.URL()}

	// A bare token names no server: without OIDC_AUTH_HOST it serves none.
	r := s.runEnv(env[:1], "token", srv.URL())
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, "names no server; set OIDC_AUTH_HOST") {
		t.Errorf("bare token without OIDC_AUTH_HOST: %q", msg)
	}

	// A 30 s token is inside the 60 s margin: the first token refreshes.
	r = s.runEnv(env, "token", srv.URL())
	mustSucceed(t, r)
	var after map[string]any
	b, _ := os.ReadFile(bare)
	if err := json.Unmarshal(b, &after); err != nil {
		t.Fatalf("the bare file no longer parses: %v\n%s", err, b)
	}
	access, _ := after["access_token"].(string)
	refresh, _ := after["refresh_token"].(string)
	s.learn(access, refresh)
	if access == e.Token.AccessToken || r.stdout != access+"\n" || !srv.Valid(access) {
		t.Errorf("the bare token was not refreshed in place: printed %q, file holds %q", r.stdout, access)
	}
	if _, v1 := after[storeKey(t, srv)]; v1 || srv.Count(pyauthserver.CountTokenRefresh) != 1 {
		t.Errorf("the file changed shape or refreshed %d times: %s", srv.Count(pyauthserver.CountTokenRefresh), b)
	}

	other := startServer(t, pyauthserver.Options{})
	r = s.runEnv(env, "token", other.URL())
	msg := onlyLine(t, r, 1)
	if !strings.Contains(msg, "holds the token of "+srv.URL()+" only; it is not used for "+keyOf(t, other.URL())) {
		t.Errorf("another host: %q", msg)
	}
	r = s.runEnv(env, "login", other.URL(), "--timeout", loginTimeout)
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, "it is not used for") {
		t.Errorf("login to another host into a bare file: %q", msg)
	}
	if n := other.Count(pyauthserver.RouteToken) + other.Count(pyauthserver.RouteDevice); n != 0 {
		t.Errorf("the other host received %d requests", n)
	}
	r = s.runEnv(env, "status")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, keyOf(t, srv.URL())) || !strings.Contains(r.stdout, "valid for") {
		t.Errorf("status with a bare token file:\n%s", r.stdout)
	}
	if b2, _ := os.ReadFile(bare); string(b2) != string(b) {
		t.Errorf("the bare file changed:\n%s", b2)
	}
}

// TestBareTokenFileServesItsPrefixOnly: a bare token in OIDC_TOKEN_FILE
// serves the server OIDC_AUTH_HOST names, path prefix included, and no
// other prefix of the same host.
func TestBareTokenFileServesItsPrefixOnly(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	file := filepath.Join(s.dir, "job-token.json")
	var entry map[string]json.RawMessage
	if err := json.Unmarshal(e.raw, &entry); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, entry["token"], 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"OIDC_TOKEN_FILE=" + file, "OIDC_AUTH_HOST=" + srv.URL()}
	r := s.runEnv(env, "token", srv.URL())
	mustSucceed(t, r)
	other := strings.TrimSuffix(srv.URL(), "/api/app") + "/other-app"
	msg := onlyLine(t, s.runEnv(env, "token", other), 1)
	if !strings.Contains(msg, "is for "+srv.URL()) {
		t.Errorf("error line %q", msg)
	}
}

// tokenBytes returns the bare token object of a stored entry.
func tokenBytes(t *testing.T, e storedEntry) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(e.raw, &m); err != nil {
		t.Fatal(err)
	}
	return m["token"]
}

// TestLockFileCannotBeCreated blocks the lock directory with a file: the
// command names the lock file, exits 1, and starts no login.
func TestLockFileCannotBeCreated(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	path := filepath.Join(s.dir, "tokens.json")
	if err := os.WriteFile(filepath.Join(s.dir, ".tokens.json.locks"), []byte("in the way"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.runEnv([]string{"OIDC_TOKEN_FILE=" + path}, "login", srv.URL(), "--timeout", loginTimeout)
	msg := onlyLine(t, r, 1)
	if !strings.Contains(msg, "lock file "+filepath.Join(s.dir, ".tokens.json.locks")) {
		t.Errorf("message %q does not name the lock file", msg)
	}
	if n := srv.Count(pyauthserver.RouteDevice); n != 0 {
		t.Errorf("a login started without its lock")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the token file was written: %v", err)
	}
}

// countProcesses counts the running processes named name (Linux /proc).
func countProcesses(t *testing.T, name string) int {
	t.Helper()
	dirs, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil || len(dirs) == 0 {
		t.Skip("no /proc to count processes in")
	}
	n := 0
	for _, d := range dirs {
		if b, err := os.ReadFile(d); err == nil && strings.TrimSpace(string(b)) == name {
			if st, err := os.ReadFile(filepath.Join(filepath.Dir(d), "stat")); err == nil && !strings.Contains(string(st), ") Z ") {
				n++
			}
		}
	}
	return n
}
