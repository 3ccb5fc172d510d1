package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// TestScriptsTokenFormatEnv evals `token --format env` in a real shell, as
// a script does, and checks that the variables hold the stored, live token
// and its expiry; the other formats print the same token.
func TestScriptsTokenFormatEnv(t *testing.T) {
	t.Parallel()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh:", err)
	}
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	s.learn(e.Token.AccessToken, e.Token.RefreshToken)

	script := `set -e
eval "$("$0" token --format env "$1")"
printf '%s\n%s\n' "$OIDC_TOKEN" "$OIDC_TOKEN_EXPIRES"`
	r, err := s.execute(runTimeout, s.dir, "", s.environ(), sh, "-c", script, oidcAuthBin, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, r)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 2 || lines[0] != e.Token.AccessToken || !srv.Valid(lines[0]) {
		t.Fatalf("the shell got OIDC_TOKEN %q, want the stored live token\n%v", lines[0], r)
	}
	if exp := unixNumber(t, "expires", e.Token.Expires); lines[1] != strconv.FormatInt(exp, 10) {
		t.Errorf("OIDC_TOKEN_EXPIRES=%s, want %d", lines[1], exp)
	}
	if r.stderr != "" {
		t.Errorf("stderr not empty: %q", r.stderr)
	}
	for format, want := range map[string]string{
		"token":  e.Token.AccessToken + "\n",
		"header": "Authorization: Bearer " + e.Token.AccessToken + "\n",
	} {
		r := s.run("token", "--format", format, srv.URL())
		mustSucceed(t, r)
		if r.stdout != want {
			t.Errorf("--format %s printed %q", format, r.stdout)
		}
	}
	if r := s.run("token", "--format", "json", srv.URL()); r.code != 0 || !strings.Contains(r.stdout, `"access_token": "`+e.Token.AccessToken+`"`) {
		t.Errorf("--format json\n%v", r)
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 0 {
		t.Errorf("%d refreshes of a valid token", n)
	}
}

// TestScriptsTokenMinValid asks for a token that stays valid longer than
// the stored one does: one refresh, counted at the server; then for longer
// than the server's tokens live: an error that says how long they live.
func TestScriptsTokenMinValid(t *testing.T) {
	t.Parallel()
	// The login's token is issued as if three minutes ago: 7 of its 10
	// minutes are left.
	var behind atomic.Bool
	behind.Store(true)
	srv := startServer(t, pyauthserver.Options{AccessTTL: 10 * time.Minute, Now: func() time.Time {
		if behind.Load() {
			return time.Now().Add(-3 * time.Minute)
		}
		return time.Now()
	}})
	s := newSandbox(t)
	e := s.login(srv)
	behind.Store(false)
	s.learn(e.Token.AccessToken, e.Token.RefreshToken)
	tokenRequests := func() int { return srv.Count(pyauthserver.RouteToken) }
	before := tokenRequests()

	r := s.run("token", "--min-valid", "6m", srv.URL())
	mustSucceed(t, r)
	if r.stdout != e.Token.AccessToken+"\n" || tokenRequests() != before {
		t.Fatalf("--min-valid 6m with 7m left: %d token requests\n%v", tokenRequests()-before, r)
	}
	r = s.run("token", srv.URL(), "--min-valid", "8m")
	mustSucceed(t, r)
	fresh := strings.TrimSpace(r.stdout)
	s.learn(fresh)
	if tokenRequests() != before+1 || fresh == e.Token.AccessToken || !srv.Valid(fresh) {
		t.Fatalf("--min-valid 8m with 7m left: %d token requests, want one refresh\n%v", tokenRequests()-before, r)
	}
	if got := s.readStore()[storeKey(t, srv)].Token.AccessToken; got != fresh {
		t.Errorf("the refreshed token was not stored")
	}
	r = s.run("token", "--min-valid", "8m", srv.URL())
	mustSucceed(t, r)
	if strings.TrimSpace(r.stdout) != fresh || tokenRequests() != before+1 {
		t.Errorf("--min-valid 8m with a fresh 10m token: %d token requests\n%v", tokenRequests()-before, r)
	}

	r = s.run("token", "--min-valid", "1h", srv.URL())
	msg := onlyLine(t, r, 1)
	if !strings.Contains(msg, "issues access tokens valid for only ") || !strings.Contains(msg, "--min-valid asks for 1h0m0s") {
		t.Errorf("--min-valid 1h of a server issuing 10m tokens: %q", msg)
	}
	if tokenRequests() != before+2 {
		t.Errorf("--min-valid 1h: %d token requests, want the one refresh that shows the server's lifetime", tokenRequests()-before-1)
	}
	s.learn(s.readStore()[storeKey(t, srv)].Token.AccessToken)
}

// TestScriptsWLCG writes the bearer token file where WLCG Bearer Token
// Discovery looks: $XDG_RUNTIME_DIR/bt_u$UID, else $BEARER_TOKEN_FILE when
// set, privately; a link in its place is refused.
func TestScriptsWLCG(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	s.learn(e.Token.AccessToken, e.Token.RefreshToken)
	runtimeDir := filepath.Join(s.dir, "run")
	if err := os.Mkdir(runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	check := func(path string, r result) {
		t.Helper()
		mustSucceed(t, r)
		if r.stdout != "" || !strings.Contains(r.stderr, "wrote the access token of "+srv.URL()+" to "+path) {
			t.Errorf("--wlcg: want nothing on stdout and the path on stderr\n%v", r)
		}
		b, err := os.ReadFile(path)
		if err != nil || string(b) != e.Token.AccessToken+"\n" {
			t.Fatalf("%s holds %q, %v", path, b, err)
		}
		if fi, _ := os.Lstat(path); unixModes(t) && fi.Mode() != 0o600 {
			t.Errorf("%s has mode %v, want -rw-------", path, fi.Mode())
		}
	}
	env := []string{"XDG_RUNTIME_DIR=" + runtimeDir, "BEARER_TOKEN_FILE="}
	path := filepath.Join(runtimeDir, "bt_u"+strconv.Itoa(os.Geteuid()))
	check(path, s.runEnv(env, "token", "--wlcg", srv.URL()))
	check(path, s.runEnv(env, "token", "--wlcg", srv.URL())) // replaced, still private

	jobFile := filepath.Join(s.dir, "job-token")
	check(jobFile, s.runEnv(append(env, "BEARER_TOKEN_FILE="+jobFile), "token", srv.URL(), "--wlcg"))

	// A link planted where the token goes is refused, and its target kept.
	t.Run("planted link", func(t *testing.T) {
		testfs.RequireSymlinks(t)
		target := filepath.Join(s.dir, "elsewhere")
		os.WriteFile(target, []byte("keep\n"), 0o644)
		link := filepath.Join(s.dir, "planted")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		r := s.runEnv(append(env, "BEARER_TOKEN_FILE="+link), "token", "--wlcg", srv.URL())
		if msg := onlyLine(t, r, 1); !strings.Contains(msg, "is a symbolic link") {
			t.Errorf("a planted link: %q", msg)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep\n" {
			t.Errorf("the link's target was written: %q", b)
		}
	})
}
