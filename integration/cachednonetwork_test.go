package integration

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/oidcop"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// countRequests returns a Wrap for a test server that counts every request
// it receives, whatever its route, in n.
func countRequests(n *atomic.Int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			next.ServeHTTP(w, r)
		})
	}
}

// cachedConfig is the config of the cached-path tests: git.example.org/team/
// and registry.example.org answered by srv, git.example.org/op/ and
// op.registry.example.org by op, after the entries of extra.
func cachedConfig(srv *pyauthserver.Server, op *oidcop.Provider, extra string) string {
	return extra + `[[server]]
match = "https://git.example.org/team/"
host = "` + srv.URL() + `"

[[server]]
match = "https://git.example.org/op/"
issuer = "` + op.Issuer() + `"
client_id = "` + oidcop.PublicClientID + `"

[[server]]
match = "registry.example.org"
host = "` + srv.URL() + `"

[[server]]
match = "op.registry.example.org"
issuer = "` + op.Issuer() + `"
client_id = "` + oidcop.PublicClientID + `"
`
}

// TestCachedPathsMakeNoRequest: with a valid stored login, every way the
// binaries hand out a token (git's helper, docker's helper, `oidc-auth
// kubectl` and `oidc-auth token`), for a py-oidc-auth server and for an
// OpenID Provider, answers from the store without a single request to
// either server: not a discovery document, not a userinfo call, nothing.
func TestCachedPathsMakeNoRequest(t *testing.T) {
	t.Parallel()
	var pyRequests, opRequests atomic.Int64
	srv := startServer(t, pyauthserver.Options{Wrap: countRequests(&pyRequests)})
	op := oidcop.Start(t, oidcop.Options{Wrap: countRequests(&opRequests)})
	s := newSandbox(t)
	py := s.login(srv)
	s.learn(py.Token.AccessToken, py.Token.RefreshToken)
	is := s.issuerLogin(op)
	s.learn(is.Token.AccessToken, is.Token.RefreshToken)
	if pyRequests.Load() == 0 || opRequests.Load() == 0 {
		t.Fatalf("the logins made %d and %d requests: the counters count nothing", pyRequests.Load(), opRequests.Load())
	}
	s.writeConfig(cachedConfig(srv, op, ""))
	gitRequest := func(repo string) string {
		return "protocol=https\nhost=git.example.org\npath=" + repo + "\n\n"
	}
	cases := []struct {
		name  string
		stdin string
		bin   string
		args  []string
		token string // the token the answer must carry
	}{
		{"git get", gitRequest("team/app.git"), gitCredentialBin, []string{"get"}, py.Token.AccessToken},
		{"git get -v", gitRequest("team/app.git"), gitCredentialBin, []string{"-v", "get"}, py.Token.AccessToken},
		{"git get issuer", gitRequest("op/app.git"), gitCredentialBin, []string{"get"}, is.Token.AccessToken},
		{"docker get", "registry.example.org", dockerCredentialBin, []string{"get"}, py.Token.AccessToken},
		{"docker get issuer", "op.registry.example.org", dockerCredentialBin, []string{"get"}, is.Token.AccessToken},
		{"docker list", "", dockerCredentialBin, []string{"list"}, ""},
		{"kubectl", "", oidcAuthBin, []string{"kubectl", srv.URL()}, py.Token.AccessToken},
		// kubectl gets the provider's ID token, which the v1 file keeps
		// apart from the token fields this test reads.
		{"kubectl issuer", "", oidcAuthBin, append([]string{"kubectl"}, issuerArgs(op)...), `"token":"eyJ`},
		{"token", "", oidcAuthBin, []string{"token", srv.URL()}, py.Token.AccessToken},
		{"token -v", "", oidcAuthBin, []string{"-v", "token", srv.URL()}, py.Token.AccessToken},
		{"token issuer", "", oidcAuthBin, append([]string{"token"}, issuerArgs(op)...), is.Token.AccessToken},
	}
	for _, c := range cases {
		pyBefore, opBefore := pyRequests.Load(), opRequests.Load()
		r, err := s.execute(runTimeout, s.dir, c.stdin, s.environ(), c.bin, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 0 || !strings.Contains(r.stdout, c.token) {
			t.Errorf("%s: no answer with the stored token\n%v", c.name, r)
		}
		if n, m := pyRequests.Load()-pyBefore, opRequests.Load()-opBefore; n != 0 || m != 0 {
			t.Errorf("%s: %d requests to the py-oidc-auth server and %d to the OpenID Provider on the cached path, want none\n%v", c.name, n, m, r)
		}
	}
}
