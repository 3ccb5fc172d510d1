//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the commands read the keychain themselves where it is the Secret Service (Linux and the BSDs); on Windows and macOS oidc-auth-core reads it.

package integration

import (
	"maps"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestFrontsAnswerFromTheKeychain: with the login in the Secret Service,
// as a Linux desktop keeps it, git's and docker's helpers and `oidc-auth
// token` answer a cached get themselves (no runnable oidc-auth-core
// beside them; on Linux once the core answered it first), byte for byte as
// oidc-auth-core answers it, and ask no server.
func TestFrontsAnswerFromTheKeychain(t *testing.T) {
	s, env := keychainSandbox(t)
	srv := startServer(t, pyauthserver.Options{})
	tok := keychainLogin(t, s, env, srv)
	s.writeConfig("[[server]]\nmatch = \"registry.example.org\"\nhost = \"" + srv.URL() + "\"\n")
	alone, core := newAlone(t, "oidc-auth", "git-credential-oidc", "docker-credential-oidc"), t.TempDir()
	for _, name := range []string{"oidc-auth", "git-credential-oidc", "docker-credential-oidc"} {
		copyFile(t, coreBin, filepath.Join(core, name+exe))
	}
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	before := requestCounts(srv)
	for _, c := range []struct{ name, stdin, program, arg string }{
		{"git get", "protocol=" + u.Scheme + "\nhost=" + u.Host + "\npath=" + strings.TrimPrefix(u.Path, "/") + "/repo.git\n\n", "git-credential-oidc", "get"},
		{"docker get", "registry.example.org\n", "docker-credential-oidc", "get"},
		{"token", "", "oidc-auth", "token"},
	} {
		args := []string{c.arg}
		if c.arg == "token" {
			args = append(args, srv.URL())
		}
		run := func() result {
			r, err := s.execute(runTimeout, s.dir, c.stdin, s.environ(env...), alone.path(c.program), args...)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		first, warmed := alone.warm(t, run)
		front := run()
		want, err := s.execute(runTimeout, s.dir, c.stdin, s.environ(env...), filepath.Join(core, c.program+exe), args...)
		if err != nil {
			t.Fatal(err)
		}
		if want.code != 0 || !strings.Contains(want.stdout, tok.AccessToken) {
			t.Fatalf("%s: oidc-auth-core gives no answer to compare with\n%v", c.name, want)
		}
		if front.code != want.code || front.stdout != want.stdout || front.stderr != "" {
			t.Errorf("%s: the command alone answers\n%v\noidc-auth-core answers\n%v", c.name, front, want)
		}
		if warmed && (first.code != want.code || first.stdout != want.stdout || first.stderr != "") {
			t.Errorf("%s: handed over to the core first, the command answers\n%v\noidc-auth-core answers\n%v", c.name, first, want)
		}
	}
	if after := requestCounts(srv); !maps.Equal(after, before) {
		t.Errorf("the cached gets asked the server: %v, then %v", before, after)
	}
}
