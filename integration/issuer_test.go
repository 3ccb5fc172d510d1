package integration

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
	"github.com/oidc-auth/oidc-auth/integration/oidcop"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// issuerArgs name the public client's login at op.
func issuerArgs(op *oidcop.Provider) []string {
	return []string{"--issuer", op.Issuer(), "--client-id", oidcop.PublicClientID}
}

// profileScopes ask for the user's name and email besides the default
// scopes, so that the ID token says who logged in.
var profileScopes = []string{"--scope", "openid", "--scope", "offline_access", "--scope", "profile", "--scope", "email"}

// issuerKey is the store key of the public client's login at op.
func issuerKey(op *oidcop.Provider) string {
	return "oidc+" + op.Issuer() + "?client_id=" + oidcop.PublicClientID
}

// issuerLogin logs the sandbox in to op by the device flow and returns the
// stored entry.
func (s *sandbox) issuerLogin(op *oidcop.Provider) storedEntry {
	s.t.Helper()
	op.AutoApproveDevices(true)
	r := s.run(append(append([]string{"login", "--flow", "device", "--timeout", "30s"}, issuerArgs(op)...), profileScopes...)...)
	mustSucceed(s.t, r)
	e, ok := s.readStore()[issuerKey(op)]
	if !ok {
		s.t.Fatalf("no entry %s after login:\n%s", issuerKey(op), s.storeBytes())
	}
	return e
}

// TestIssuerLogin logs in to a real OpenID Provider library (zitadel/oidc)
// by the device flow and by the browser code flow, and checks who the
// verified ID token says is logged in.
func TestIssuerLogin(t *testing.T) {
	t.Parallel()
	t.Run("device flow", func(t *testing.T) {
		t.Parallel()
		op := oidcop.Start(t, oidcop.Options{})
		s := newSandbox(t)
		op.AutoApproveDevices(true)
		r := s.run(append(append([]string{"login", "--flow", "device", "--timeout", "30s"}, issuerArgs(op)...), profileScopes...)...)
		mustSucceed(t, r)
		if !strings.Contains(r.stderr, "as "+oidcop.TestUser) {
			t.Errorf("the login does not say who is logged in:\n%v", r)
		}
		e := s.readStore()[issuerKey(op)]
		if e.Token.AccessToken == "" || e.Token.RefreshToken == "" {
			t.Fatalf("stored %+v", e.Token)
		}
		if n := op.Counts()["token:device_code"]; n == 0 {
			t.Errorf("no device token request: %v", op.Counts())
		}
	})
	t.Run("code flow", func(t *testing.T) {
		t.Parallel()
		op := oidcop.Start(t, oidcop.Options{})
		s := newSandbox(t)
		r := s.run(append([]string{"login", "--flow", "code", "--timeout", "30s"}, issuerArgs(op)...)...)
		mustSucceed(t, r)
		q := op.LastAuthorizeQuery()
		if q.Get("code_challenge_method") != "S256" || q.Get("state") == "" || q.Get("nonce") == "" || !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") {
			t.Errorf("authorize query %v lacks PKCE S256, state, nonce or a loopback redirect", q)
		}
		if f := op.LastTokenForm(); f.Get("code_verifier") == "" {
			t.Errorf("no code verifier in the exchange")
		}
		// With the default scopes the ID token names the subject only.
		if !strings.Contains(r.stderr, "as "+oidcop.TestSubject) {
			t.Errorf("the login does not say who is logged in:\n%v", r)
		}
		if _, ok := s.readStore()[issuerKey(op)]; !ok {
			t.Error("nothing stored")
		}
	})
}

// TestIssuerToken: a cached token costs no request, an old one exactly
// one refresh (the discovery document is cached), with rotation; 32
// processes at once on an expired token make one refresh.
func TestIssuerToken(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	op.DetectRefreshReuse(true)
	s := newSandbox(t)
	first := s.issuerLogin(op)

	s.expireStoredAccess(issuerKey(op))
	op.ResetCounts()
	r := s.run(append([]string{"token"}, issuerArgs(op)...)...)
	mustSucceed(t, r)
	if got := op.Counts(); got["token:refresh_token"] != 1 || sum(got) != 1 {
		t.Errorf("a refresh made the requests %v, want exactly one refresh", got)
	}
	e := s.readStore()[issuerKey(op)]
	if e.Token.RefreshToken == first.Token.RefreshToken || op.RefreshTokenValid(first.Token.RefreshToken) {
		t.Errorf("the refresh token did not rotate")
	}
	if strings.TrimSpace(r.stdout) != e.Token.AccessToken {
		t.Errorf("printed %q, stored %q", r.stdout, e.Token.AccessToken)
	}

	t.Run("32 at once", func(t *testing.T) {
		s.expireStoredAccess(issuerKey(op))
		op.ResetCounts()
		var wg sync.WaitGroup
		results := make([]result, 32)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.run(append([]string{"token"}, issuerArgs(op)...)...)
			}()
		}
		wg.Wait()
		for _, r := range results {
			mustSucceed(t, r)
			if r.stdout != results[0].stdout {
				t.Fatalf("different tokens: %q and %q", r.stdout, results[0].stdout)
			}
		}
		if n := op.Counts()["token:refresh_token"]; n != 1 {
			t.Errorf("%d refreshes for 32 processes, want 1", n)
		}
	})
}

// sum adds up request counts.
func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestIssuerCachedTokenMakesNoRequest: a valid token is handed out with no
// request to the provider at all.
func TestIssuerCachedTokenMakesNoRequest(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	e := s.issuerLogin(op)
	op.ResetCounts()
	for range 3 {
		r := s.run(append([]string{"token"}, issuerArgs(op)...)...)
		mustSucceed(t, r)
		if strings.TrimSpace(r.stdout) != e.Token.AccessToken {
			t.Errorf("printed %q", r.stdout)
		}
	}
	if got := op.Counts(); sum(got) != 0 {
		t.Errorf("cached tokens made requests: %v", got)
	}
}

// writeConfig writes the sandbox's config file.
func (s *sandbox) writeConfig(text string) {
	s.t.Helper()
	path := filepath.Join(s.config, "oidc-auth", "config.toml")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// userinfoValid asks op's userinfo endpoint whether an access token is
// live, as a resource server would.
func userinfoValid(op *oidcop.Provider) func(string) bool {
	return func(token string) bool {
		req, _ := http.NewRequest(http.MethodGet, op.Issuer()+oidcop.UserinfoPath, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}
}

// TestIssuerGitAndDocker: git clones through the helper for a [[server]]
// with an issuer, and docker's helper answers for a registry entry with
// one, both with the provider's token and the username_claim's value.
func TestIssuerGitAndDocker(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	u := newGitUser(t)
	e := u.issuerLogin(op)
	valid := userinfoValid(op)
	git := gitserver.New(t, gitserver.Options{Realm: "git", Check: func(user, pass string) bool { return user == oidcop.TestUser && valid(pass) }})
	repo := git.CreateRepo("team/app")
	mustSucceed(t, u.runEnv(u.gitVars(), "setup", "git", git.URL()+"/team/", "--issuer", op.Issuer(), "--client-id", oidcop.PublicClientID))
	// username_claim hands git the user's name from the ID token.
	cfg, err := os.ReadFile(u.configPath())
	if err != nil {
		t.Fatal(err)
	}
	u.writeConfig(string(cfg) + "username_claim = \"preferred_username\"\n\n[[server]]\nmatch = \"registry.example.invalid\"\nissuer = \"" + op.Issuer() + "\"\nclient_id = \"" + oidcop.PublicClientID + "\"\n")
	r := u.git("", "clone", "--quiet", repo, "app")
	mustSucceed(t, r)

	d, err := u.execute(runTimeout, u.dir, "registry.example.invalid\n", u.environ(), dockerCredentialBin, "get")
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, d)
	var cred struct{ Username, Secret string }
	if err := json.Unmarshal([]byte(d.stdout), &cred); err != nil {
		t.Fatalf("docker helper answered %q: %v", d.stdout, err)
	}
	if cred.Secret != e.Token.AccessToken || cred.Username != "oauth2" {
		t.Errorf("docker helper answered user %q and another token", cred.Username)
	}
}

// TestIssuerLogoutRevokes: logout revokes the refresh token at the
// provider, which then refuses it.
func TestIssuerLogoutRevokes(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	e := s.issuerLogin(op)
	if !op.RefreshTokenValid(e.Token.RefreshToken) {
		t.Fatal("the refresh token is not valid to start with")
	}
	r := s.run(append([]string{"logout"}, issuerArgs(op)...)...)
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "revoked") {
		t.Errorf("logout does not say it revoked:\n%s", r.stderr)
	}
	if op.RefreshTokenValid(e.Token.RefreshToken) {
		t.Error("the provider still accepts the refresh token")
	}
	if _, ok := s.readStore()[issuerKey(op)]; ok {
		t.Error("the login is still stored")
	}
}

// TestIssuerBesidePyOIDCAuth: a provider's login and a py-oidc-auth login
// live side by side in one store, and status names both.
func TestIssuerBesidePyOIDCAuth(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.issuerLogin(op)
	s.login(srv)
	st := s.run("status")
	mustSucceed(t, st)
	for _, want := range []string{srv.URL(), op.Issuer() + " (client " + oidcop.PublicClientID + ")"} {
		if !strings.Contains(st.stdout, want) {
			t.Errorf("status does not list %s:\n%s", want, st.stdout)
		}
	}
	all := s.readStore()
	if _, ok := all[storeKey(t, srv)]; !ok {
		t.Error("the py-oidc-auth login is gone")
	}
}

// TestIssuerBadProviders: a provider that does not serve what a flow
// needs gets one clear message, and nothing is stored.
func TestIssuerBadProviders(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		wrap func(http.Handler) http.Handler
		flow string
		want string
	}{
		{"discovery without a device endpoint", rewriteDiscovery(func(d map[string]any) { delete(d, "device_authorization_endpoint") }), "device", "no device_authorization_endpoint"},
		{"issuer mismatch", rewriteDiscovery(func(d map[string]any) { d["issuer"] = "https://other.example.invalid" }), "device", "names the issuer https://other.example.invalid"},
		{"HTML instead of discovery", func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "openid-configuration") {
					w.Header().Set("Content-Type", "text/html")
					w.Write([]byte("<html><title>Sign in</title></html>"))
					return
				}
				h.ServeHTTP(w, r)
			})
		}, "device", "no OpenID Provider at"},
		{"unreachable JWKS", rewriteDiscovery(func(d map[string]any) { d["jwks_uri"] = "http://127.0.0.1:1/keys" }), "device", "ID token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op := oidcop.Start(t, oidcop.Options{Wrap: tt.wrap})
			op.AutoApproveDevices(true)
			s := newSandbox(t)
			r := s.run(append([]string{"login", "--flow", tt.flow, "--timeout", "20s"}, issuerArgs(op)...)...)
			msg := failureLine(t, r, 1)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error line %q does not say %q", msg, tt.want)
			}
			if b := s.storeBytes(); b != nil {
				t.Errorf("stored:\n%s", b)
			}
		})
	}
}

// rewriteDiscovery changes the provider's discovery document.
func rewriteDiscovery(edit func(map[string]any)) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "openid-configuration") {
				h.ServeHTTP(w, r)
				return
			}
			rec := &captureWriter{header: http.Header{}}
			h.ServeHTTP(rec, r)
			var d map[string]any
			if json.Unmarshal(rec.body, &d) != nil {
				w.WriteHeader(http.StatusInternalServerError)
				return
			}
			edit(d)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(d)
		})
	}
}

// captureWriter keeps what a handler writes.
type captureWriter struct {
	header http.Header
	status int
	body   []byte
}

func (c *captureWriter) Header() http.Header    { return c.header }
func (c *captureWriter) WriteHeader(status int) { c.status = status }
func (c *captureWriter) Write(b []byte) (int, error) {
	c.body = append(c.body, b...)
	return len(b), nil
}
