package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// pyStorePath is the Python client's token file in the sandbox,
// $XDG_CACHE_HOME/<app>/token-store.json.
func (s *sandbox) pyStorePath(app string) string {
	return filepath.Join(s.cache, app, "token-store.json")
}

// pyV1 is the Python client's token file, as read back.
type pyV1 map[string]struct {
	Token    map[string]any `json:"token"`
	StoredAt float64        `json:"stored_at"`
}

func readPyV1(t *testing.T, path string) pyV1 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v pyV1
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s is not a v1 token file: %v\n%s", path, err, b)
	}
	return v
}

// TestPyCLIFailures: the Python client's words and exit codes when no
// login can run, and for its store commands on another --app-name.
func TestPyCLIFailures(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	r := s.run(srv.URL(), "--json")
	line := pyFailureLine(t, r)
	if want := "Authentication failed: no valid login for " + srv.URL() + " (not logged in; no terminal to log in from); run `oidc-auth login " + srv.URL() + "`"; line != want {
		t.Errorf("stderr %q, want %q", line, want)
	}
	if n := srv.Count(pyauthserver.RouteDevice) + srv.Count(pyauthserver.RouteToken); n != 0 {
		t.Errorf("%d requests without a terminal, want none", n)
	}
	r = s.runEnv([]string{"SLURM_JOB_ID=1"}, srv.URL())
	if line := pyFailureLine(t, r); !strings.HasPrefix(line, "Authentication failed: ") || !strings.Contains(line, "SLURM_JOB_ID is set") {
		t.Errorf("in a batch job: %q", line)
	}
	r = s.run("--clear", "--app-name", "other-app")
	if r.code != 0 || r.stdout != "All cached tokens removed.\n" {
		t.Errorf("--clear\n%v", r)
	}
	r = s.run("--json")
	if r.code != 2 || !strings.Contains(r.stderr, "host is required for authentication") {
		t.Errorf("--json without HOST: want exit 2\n%v", r)
	}
	r = s.run("lgoin", srv.URL())
	if r.code != 2 || !strings.Contains(r.stderr, "did you mean `oidc-auth login`?") {
		t.Errorf("a mistyped command is no HOST\n%v", r)
	}
}

// pyFailureLine is the one line a failed authentication writes, as the
// Python client writes it: exit 1, nothing on stdout.
func pyFailureLine(t *testing.T, r result) string {
	t.Helper()
	if r.code != 1 || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("want exit 1, nothing on stdout, one line on stderr\n%v", r)
	}
	return strings.TrimSuffix(r.stderr, "\n")
}

// pyClientLogin logs in to srv by the device flow as the Python client
// does, over HTTP, and returns the token response.
func pyClientLogin(t *testing.T, srv *pyauthserver.Server) pyauthserver.TokenResponse {
	t.Helper()
	srv.PlanDevice(pyauthserver.DevicePlan{Manual: true})
	resp, err := http.Post(srv.URL()+"/auth/v2/device", "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	var dev struct {
		DeviceCode string `json:"device_code"`
		UserCode   string `json:"user_code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&dev)
	resp.Body.Close()
	if err != nil || !srv.Approve(dev.UserCode) {
		t.Fatalf("device start: %v, code %q", err, dev.UserCode)
	}
	resp, err = http.PostForm(srv.URL()+"/auth/v2/token", url.Values{"device-code": {dev.DeviceCode}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok pyauthserver.TokenResponse
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		t.Fatalf("device token: %d %v %+v", resp.StatusCode, err, tok)
	}
	return tok
}

// writePyStore writes the Python client's token file as its TokenStore
// does: json.dumps(data, indent=2) to a file of mode 0600, in the 0755
// directory that platformdirs makes.
func writePyStore(t *testing.T, path, key string, tok pyauthserver.TokenResponse) {
	t.Helper()
	content := fmt.Sprintf(`{
  %q: {
    "token": {
      "access_token": %q,
      "token_type": %q,
      "expires": %d,
      "refresh_token": %q,
      "refresh_expires": %d,
      "scope": %q,
      "headers": {
        "Authorization": "Bearer %s"
      }
    },
    "stored_at": %d.25
  }
}`, key, tok.AccessToken, tok.TokenType, tok.Expires, tok.RefreshToken, tok.RefreshExpires, tok.Scope, tok.AccessToken, time.Now().Unix())
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPyClientLoginServesTools: a login the Python client made, and
// nothing in our store, serves `oidc-auth token`, git's and docker's
// helpers; its refresh goes back into the Python client's file, in v1, so
// that both clients keep one login.
func TestPyClientLoginServesTools(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: time.Hour})
	s := newSandbox(t)
	// The default store (keychain, else our file), which the Python
	// client's file stands behind; the sandbox has no keychain.
	s.env = []string{"OIDC_AUTH_STORE=auto"}
	tok := pyClientLogin(t, srv)
	s.learn(tok.AccessToken, tok.RefreshToken)
	pyPath := s.pyStorePath("py-oidc-auth")
	writePyStore(t, pyPath, storeKey(t, srv), tok)

	r := s.run("setup", "docker", "127.0.0.1:5000", "--host", srv.URL())
	mustSucceed(t, r)
	before := srv.Count(pyauthserver.RouteToken)
	r = s.run("token", srv.URL())
	mustSucceed(t, r)
	if r.stdout != tok.AccessToken+"\n" {
		t.Errorf("oidc-auth token printed %q, want the Python client's access token", r.stdout)
	}
	g, err := s.execute(runTimeout, s.dir, "protocol=https\nhost=127.0.0.1:5000\npath=team/app.git\n\n", s.environ(), gitCredentialBin, "get")
	if err != nil {
		t.Fatal(err)
	}
	if g.code != 0 || !strings.Contains(g.stdout, "password="+tok.AccessToken+"\n") {
		t.Errorf("git-credential-oidc get: exit %d, no password from the Python client's login\nstderr: %s", g.code, g.stderr)
	}
	d, err := s.execute(runTimeout, s.dir, "127.0.0.1:5000", s.environ(), dockerCredentialBin, "get")
	if err != nil {
		t.Fatal(err)
	}
	var creds struct{ Username, Secret string }
	if d.code != 0 || json.Unmarshal([]byte(d.stdout), &creds) != nil || creds.Secret != tok.AccessToken {
		t.Errorf("docker-credential-oidc get: exit %d, secret of %d characters, not the Python client's\nstderr: %s", d.code, len(creds.Secret), d.stderr)
	}
	if n := srv.Count(pyauthserver.RouteToken) - before; n != 0 {
		t.Errorf("%d token requests for a valid login, want none", n)
	}
	r = s.run("status", "--json")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, `"py-oidc-auth file"`) || !strings.Contains(r.stdout, srv.URL()) && !strings.Contains(r.stdout, storeKey(t, srv)) {
		t.Errorf("status does not list the Python client's login\n%v", r)
	}

	// The Python client's access token has expired: the refresh goes back
	// into its file, which the Python client then reads.
	expired := tok
	expired.Expires = time.Now().Add(-time.Minute).Unix()
	writePyStore(t, pyPath, storeKey(t, srv), expired)
	r = s.run("token", srv.URL())
	mustSucceed(t, r)
	fresh := strings.TrimSpace(r.stdout)
	s.learn(fresh)
	if fresh == tok.AccessToken || !srv.Valid(fresh) {
		t.Errorf("oidc-auth token printed no fresh token after the expiry")
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	file := readPyV1(t, pyPath)
	entry := file[storeKey(t, srv)]
	if len(file) != 1 || entry.Token["access_token"] != fresh || entry.Token["token_type"] != "Bearer" ||
		entry.Token["refresh_token"] == tok.RefreshToken || entry.Token["scope"] != pyauthserver.Scope ||
		entry.Token["expires"] == nil || entry.Token["refresh_expires"] == nil || entry.StoredAt == 0 {
		t.Errorf("the Python client's file after the refresh: %v", file)
	}
	s.learn(fmt.Sprint(entry.Token["refresh_token"]))
	raw, err := os.ReadFile(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	// Laid out as json.dumps(data, indent=2) lays it out.
	if want := "{\n  \"" + storeKey(t, srv) + "\": {\n    \"token\": {\n      \"access_token\": \""; !strings.HasPrefix(string(raw), want) ||
		!strings.Contains(string(raw), "\n    },\n    \"stored_at\": ") || !strings.HasSuffix(string(raw), "\n  }\n}") {
		t.Errorf("the Python client's file is not laid out as the Python client writes it:\n%s", raw)
	}
	if fi, err := os.Stat(pyPath); err != nil || unixModes(t) && fi.Mode().Perm() != 0o600 {
		t.Errorf("the Python client's file: %v, %v; want mode 0600", fi, err)
	}
	if _, err := os.Stat(s.storePath()); !os.IsNotExist(err) {
		t.Errorf("the refresh went to our own store too: %v", err)
	}
	// The Python client's command line now finds the refreshed login, with
	// no request.
	before = srv.Count(pyauthserver.RouteToken)
	r = s.run(srv.URL(), "--json")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, `"access_token": "`+fresh+`"`) || srv.Count(pyauthserver.RouteToken) != before {
		t.Errorf("oidc-auth HOST --json after the refresh\n%v", r)
	}
}
