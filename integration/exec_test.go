package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestExecUsage checks the command line of exec: it needs a login and a
// command, and a command that cannot be found exits 127, as in a shell.
func TestExecUsage(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	s.learn(e.Token.AccessToken, e.Token.RefreshToken)
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"exec", "--", "true"}, 2, "exec needs --server HOST"},
		{[]string{"exec", "--server", srv.URL()}, 2, "exec needs a COMMAND"},
		{[]string{"exec", "--server", srv.URL(), "--", filepath.Join(s.dir, "no-such-program")}, 127, "cannot run"},
	} {
		r := s.run(tt.args...)
		if msg := onlyLine(t, r, tt.code); !strings.Contains(msg, tt.want) {
			t.Errorf("%q: %q, want %q", tt.args, msg, tt.want)
		}
	}
	// Without a login and without a terminal: the login to run, before
	// any command starts.
	other := startServer(t, pyauthserver.Options{})
	marker := filepath.Join(s.dir, "ran")
	r := s.run("exec", "--server", other.URL(), "--", "touch", marker)
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, "oidc-auth login "+other.URL()) {
		t.Errorf("exec without a login: %q", msg)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran without a token")
	}
}
