package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// statusItem is one item of `status --json`, with the fields scripts read.
type statusItem struct {
	Server                     string `json:"server"`
	Host                       string `json:"host"`
	Store                      string `json:"store"`
	Valid                      bool   `json:"valid"`
	Expires                    int64  `json:"expires"`
	Refreshable                bool   `json:"refreshable"`
	RefreshExpires             int64  `json:"refresh_expires"`
	StoreKey                   string `json:"store_key"`
	ServerURL                  string `json:"server_url"`
	Kind                       string `json:"kind"`
	StorePath                  string `json:"store_path"`
	AccessTokenExpiresAt       string `json:"access_token_expires_at"`
	AccessTokenValidForSeconds int64  `json:"access_token_valid_for_seconds"`
	RefreshTokenExpiresAt      string `json:"refresh_token_expires_at"`
	UsedBy                     []struct {
		Tool, Target, Source string
	} `json:"used_by"`
}

func statusItems(t *testing.T, r result) []statusItem {
	t.Helper()
	var list []statusItem
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("status --json: %v\n%v", err, r)
	}
	return list
}

// TestStatusAfterLogin: the real binary after a real device login shows
// the login's kind, store file and token lifetimes, "expires in …" (not
// "expired") for a token in its last minute, and exits 1 only when no
// login can give a token.
func TestStatusAfterLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: 42*time.Minute + 30*time.Second, RefreshTTL: 30 * 24 * time.Hour})
	short := startServer(t, pyauthserver.Options{Prefix: "/short", AccessTTL: 45 * time.Second})
	s := newSandbox(t)

	r := s.run("status")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "no stored logins; run `oidc-auth login HOST`") {
		t.Errorf("status without logins:\n%v", r)
	}

	e := s.login(srv)
	r = s.run("status")
	mustSucceed(t, r)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SERVER") || lines[3] != "file: "+s.storePath() {
		t.Fatalf("status: want a header, one line and the token file's path\n%v", r)
	}
	for _, want := range []string{srv.URL(), "py-oidc-auth", "file ", "valid for 42m", "valid for 29d"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("status line %q lacks %q", lines[1], want)
		}
	}
	if strings.Contains(r.stdout+r.stderr, e.Token.AccessToken) || strings.Contains(r.stdout+r.stderr, e.Token.RefreshToken) {
		t.Error("status printed a token")
	}

	r = s.run("status", "--json")
	mustSucceed(t, r)
	list := statusItems(t, r)
	if len(list) != 1 {
		t.Fatalf("status --json: %v", r)
	}
	it := list[0]
	if it.Server != storeKey(t, srv) || it.StoreKey != it.Server || it.ServerURL != srv.URL() || it.Host != srv.URL() || it.Kind != "py-oidc-auth" ||
		it.Store != "file" || it.StorePath != s.storePath() || !it.Valid || !it.Refreshable || it.UsedBy == nil {
		t.Errorf("status --json item %+v", it)
	}
	if exp, err := time.Parse(time.RFC3339, it.AccessTokenExpiresAt); err != nil || exp.Unix() != it.Expires {
		t.Errorf("access_token_expires_at %q for expires %d", it.AccessTokenExpiresAt, it.Expires)
	}
	if n := it.AccessTokenValidForSeconds; n < 42*60 || n > 42*60+30 {
		t.Errorf("access_token_valid_for_seconds %d", n)
	}
	if strings.Contains(r.stdout, e.Token.AccessToken) || strings.Contains(r.stdout, e.Token.RefreshToken) {
		t.Error("status --json printed a token")
	}

	// A token in its last minute: flows refreshes it on next use, and it
	// has not expired.
	s.login(short)
	r = s.run("status")
	mustSucceed(t, r)
	var shortLine string
	for _, l := range strings.Split(r.stdout, "\n") {
		if strings.HasPrefix(l, short.URL()) {
			shortLine = l
		}
	}
	if !strings.Contains(shortLine, "expires in 4") || !strings.Contains(shortLine, "refreshed on next use") || strings.Contains(shortLine, "expired") {
		t.Errorf("a token with 45 s left: %q\n%v", shortLine, r)
	}
}

// TestStatusExpiredLogin: a login that can give no token without a new
// login (less than a minute left of both tokens, which flows no longer
// uses) makes status exit 1 naming the login to run, and is not called
// "expired" while its time has not come.
func TestStatusExpiredLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: 50 * time.Second, RefreshTTL: 50 * time.Second})
	s := newSandbox(t)
	s.login(srv)
	r := s.run("status")
	if r.code != 1 || !strings.Contains(r.stdout, "expires in 4") || strings.Contains(r.stdout, "expired") ||
		!strings.Contains(r.stderr, "run `oidc-auth login "+srv.URL()+"`") {
		t.Errorf("status with a login at its end:\n%v", r)
	}
}

// TestStatusUsedBy: after `oidc-auth setup git` and `setup docker`, status
// names the git URL and the registry beside the login they use.
func TestStatusUsedBy(t *testing.T) {
	t.Parallel()
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	u.login(w.auth)
	match := w.git.URL() + "/team/"
	u.setupGit(match, w.auth.URL())
	mustSucceed(t, u.runEnv(u.gitVars(), "setup", "docker", "registry.example.org", "--host", w.auth.URL()))
	r := u.runEnv(u.gitVars(), "status")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "git "+match) || !strings.Contains(r.stdout, "docker registry.example.org") {
		t.Errorf("status does not name the git URL and the registry:\n%v", r)
	}
	r = u.runEnv(u.gitVars(), "status", "--json")
	mustSucceed(t, r)
	list := statusItems(t, r)
	if len(list) != 1 || len(list[0].UsedBy) != 2 || list[0].UsedBy[0].Tool != "git" || list[0].UsedBy[0].Target != match ||
		list[0].UsedBy[1].Tool != "docker" || list[0].UsedBy[1].Target != "registry.example.org" {
		t.Errorf("used_by: %+v\n%v", list, r)
	}
}
