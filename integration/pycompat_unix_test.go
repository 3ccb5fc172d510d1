//go:build !windows

// Unix only: the Python client's login runs on a pseudo-terminal (creack/pty), which Windows consoles do not offer.

package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestPyCLILogin runs the Python client's `oidc-auth HOST` at a terminal:
// a device login, its summary on stdout, the token in the Python client's
// file; then, without a terminal, `--json` and `--list` from that file with
// no request, and `--remove`.
func TestPyCLILogin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		broker bool
	}{
		{"opaque tokens", false},
		{"broker JWTs", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{Broker: tt.broker})
			s := newSandbox(t)
			var stdout bytes.Buffer
			p := startPTY(t, s, 120, 50, s.dir, nil, nil, &stdout, nil, oidcAuthBin, srv.URL(), "-p", "53100", "53101", "--timeout", "30")
			if code := p.wait(); code != 0 {
				t.Fatalf("exit %d; the terminal shows:\n%s", code, p.screen())
			}
			if srv.Count(pyauthserver.RouteDevice) != 1 {
				t.Errorf("%d device starts, want 1", srv.Count(pyauthserver.RouteDevice))
			}
			file := readPyV1(t, s.pyStorePath("py-oidc-auth"))
			entry, ok := file[storeKey(t, srv)]
			if !ok || len(file) != 1 || entry.StoredAt == 0 {
				t.Fatalf("the Python client's file holds %v, want one v1 entry under %s", file, storeKey(t, srv))
			}
			access, _ := entry.Token["access_token"].(string)
			s.learn(access, fmt.Sprint(entry.Token["refresh_token"]))
			if !srv.Valid(access) {
				t.Errorf("the stored access token is not one the server issued")
			}
			preview := fmt.Sprintf("(%d characters, not shown)", len(access))
			if tt.broker {
				preview = access[:20] + "..." // the JWT header's start
			}
			want := "Authenticated to " + srv.URL() + "\n  access_token: " + preview + "\n  scope:        " + pyauthserver.Scope + "\n"
			if stdout.String() != want {
				t.Errorf("stdout %q, want %q", stdout.String(), want)
			}
			if !tt.broker && strings.Contains(stdout.String(), access[:8]) {
				t.Errorf("stdout shows part of an opaque access token: %q", stdout.String())
			}
			if _, err := os.Stat(s.storePath()); !os.IsNotExist(err) {
				t.Errorf("our own store was written too: %v", err)
			}

			// Again, as a script runs it: the cached path, no request.
			before := srv.Count(pyauthserver.RouteToken) + srv.Count(pyauthserver.RouteDevice)
			r := s.run(srv.URL(), "--json")
			mustSucceed(t, r)
			var tok map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &tok); err != nil {
				t.Fatalf("--json: %v\n%v", err, r)
			}
			headers, _ := tok["headers"].(map[string]any)
			if tok["access_token"] != access || tok["token_type"] != "Bearer" || tok["scope"] != pyauthserver.Scope || tok["expires"] == nil || tok["refresh_expires"] == nil ||
				headers["Authorization"] != "Bearer "+access {
				t.Errorf("--json printed %v, want the stored v1 token", tok)
			}
			if !strings.HasPrefix(r.stdout, "{\n  \"access_token\": ") || r.stderr != "" {
				t.Errorf("--json is not json.dumps(token, indent=2) alone\n%v", r)
			}
			r = s.run(srv.URL())
			mustSucceed(t, r)
			if r.stdout != want {
				t.Errorf("the cached summary %q, want %q", r.stdout, want)
			}
			if n := srv.Count(pyauthserver.RouteToken) + srv.Count(pyauthserver.RouteDevice) - before; n != 0 {
				t.Errorf("%d requests on the cached path, want none", n)
			}

			r = s.run("--list")
			mustSucceed(t, r)
			if want := "  " + storeKey(t, srv) + "  (valid)\n"; r.stdout != want {
				t.Errorf("--list %q, want %q", r.stdout, want)
			}
			r = s.run("--remove", srv.URL())
			if r.code != 0 || r.stdout != "Removed token for "+srv.URL()+"\n" {
				t.Errorf("--remove\n%v", r)
			}
			r = s.run("--remove", srv.URL())
			if r.code != 0 || r.stdout != "No cached token for "+srv.URL()+"\n" {
				t.Errorf("--remove again\n%v", r)
			}
			r = s.run("--list")
			if r.code != 0 || r.stdout != "No cached tokens.\n" {
				t.Errorf("--list after --remove\n%v", r)
			}
		})
	}
}
