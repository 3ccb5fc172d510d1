package integration

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/oidcop"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestFrontsAnswerAsTheCore checks the cached path of the three commands
// (internal/fast, and on Linux internal/lean) against oidc-auth-core,
// which does everything else: a command with no runnable oidc-auth-core
// beside it or on PATH must answer a cached get by itself, exactly as
// oidc-auth-core answers it (the same bytes on stdout, the same exit code,
// nothing on stderr), on Linux once the core answered it first (which it
// must do the same way); and for every request that is not a cached get,
// it must hand over, which alone it cannot.
func TestFrontsAnswerAsTheCore(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	py := s.login(srv)
	s.learn(py.Token.AccessToken, py.Token.RefreshToken)
	is := s.issuerLogin(op)
	s.learn(is.Token.AccessToken, is.Token.RefreshToken)
	s.writeConfig(cachedConfig(srv, op, `[[server]]
match = "https://git.example.org/bots/"
host = "`+srv.URL()+`"
username = "ci-bot"
auth = "bearer"

`))
	alone, core := newAlone(t, "oidc-auth", "git-credential-oidc", "docker-credential-oidc"), t.TempDir()
	for _, name := range []string{"oidc-auth", "git-credential-oidc", "docker-credential-oidc"} {
		copyFile(t, coreBin, filepath.Join(core, name+exe)) // the core picks the program by its name
	}
	git := func(path string, lines ...string) string {
		return "protocol=https\nhost=git.example.org\npath=" + path + "\n" + strings.Join(lines, "") + "\n"
	}
	// A login answers for its own server's URL, path prefix included,
	// with no config entry.
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	own := "protocol=" + u.Scheme + "\nhost=" + u.Host + "\npath=" + strings.TrimPrefix(u.Path, "/") + "/repo.git\n\n"
	kubeInfo := `KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}` + "\n"
	cases := []struct {
		name, stdin, program string
		args                 []string
		cached               bool // a cached get, which the command answers itself
		env                  []string
	}{
		{"git get", git("team/app.git"), "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, git's username", git("team/app.git", "username=alice\n"), "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, authtype and a Bearer challenge", git("team/app.git", "capability[]=authtype\n", "wwwauth[]=Bearer realm=\"git\"\n"), "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, the entry's username and bearer", git("bots/app.git", "username=alice\n", "capability[]=authtype\n"), "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, a provider", git("op/app.git"), "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, the login's own URL", own, "git-credential-oidc", []string{"get"}, true, nil},
		{"git get, no server", "protocol=https\nhost=elsewhere.example.org\npath=x.git\n\n", "git-credential-oidc", []string{"get"}, false, nil},
		{"git get -v", git("team/app.git"), "git-credential-oidc", []string{"-v", "get"}, false, nil},
		{"git erase", git("team/app.git", "password=nothing-of-ours\n"), "git-credential-oidc", []string{"erase"}, false, nil},
		{"docker get", "registry.example.org\n", "docker-credential-oidc", []string{"get"}, true, nil},
		{"docker get, a provider", "op.registry.example.org", "docker-credential-oidc", []string{"get"}, true, nil},
		{"docker get, Docker Hub", "https://index.docker.io/v1/\n", "docker-credential-oidc", []string{"get"}, false, nil},
		{"docker list", "", "docker-credential-oidc", []string{"list"}, false, nil},
		{"token", "", "oidc-auth", []string{"token", srv.URL()}, true, nil},
		{"token -v", "", "oidc-auth", []string{"-v", "token", srv.URL()}, false, nil},
		{"token, a provider", "", "oidc-auth", append([]string{"token"}, issuerArgs(op)...), false, nil},
		{"kubectl", "", "oidc-auth", []string{"kubectl", srv.URL()}, true, nil},
		{"kubectl, as client-go runs it", "", "oidc-auth", []string{"kubectl", srv.URL()}, true, []string{kubeInfo}},
		{"kubectl, a provider", "", "oidc-auth", append([]string{"kubectl"}, issuerArgs(op)...), true, nil},
		{"kubectl, a provider, as client-go runs it", "", "oidc-auth", append([]string{"kubectl"}, issuerArgs(op)...), true, []string{kubeInfo}},
		{"kubectl, a provider, its access token", "", "oidc-auth", append(append([]string{"kubectl"}, issuerArgs(op)...), "--access-token"), false, nil},
		{"kubectl -v", "", "oidc-auth", []string{"-v", "kubectl", srv.URL()}, false, nil},
		{"status", "", "oidc-auth", []string{"status"}, false, nil},
	}
	for _, c := range cases {
		run := func() result {
			r, err := s.execute(runTimeout, s.dir, c.stdin, s.environ(c.env...), alone.path(c.program), c.args...)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		var first result
		warmed := false
		if c.cached {
			first, warmed = alone.warm(t, run)
		}
		front := run()
		if !c.cached {
			out := front.stderr
			if c.program == "docker-credential-oidc" {
				out = front.stdout // docker reads a helper's failure there
			}
			if front.code != 1 || !strings.Contains(out, "oidc-auth-core is missing") {
				t.Errorf("%s: the command did not hand over\n%v", c.name, front)
			}
			continue
		}
		want, err := s.execute(runTimeout, s.dir, c.stdin, s.environ(c.env...), filepath.Join(core, c.program+exe), c.args...)
		if err != nil {
			t.Fatal(err)
		}
		if want.code != 0 || want.stdout == "" {
			t.Fatalf("%s: oidc-auth-core gives no answer to compare with\n%v", c.name, want)
		}
		if front.code != want.code || front.stdout != want.stdout || front.stderr != "" {
			t.Errorf("%s: the command answers\n%v\noidc-auth-core answers\n%v", c.name, front, want)
		}
		if warmed && (first.code != want.code || first.stdout != want.stdout || first.stderr != "") {
			t.Errorf("%s: handed over to the core first, the command answers\n%v\noidc-auth-core answers\n%v", c.name, first, want)
		}
	}
}

// TestFrontsAnswerFromACachedConfig: with a config of a thousand entries,
// whose answers the commands keep in a cache, git's helper answers as
// oidc-auth-core does, on the first get (which writes the cache) and on
// the next (which reads it); and once the config changes, even with its
// size and modification time kept, it gives no answer of the old config.
func TestFrontsAnswerFromACachedConfig(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	py := s.login(srv)
	s.learn(py.Token.AccessToken, py.Token.RefreshToken)
	var many strings.Builder
	for i := range 999 {
		fmt.Fprintf(&many, "[[server]]\nmatch = \"https://git-%04d.example.org/\"\nhost = \"https://auth-%04d.example.org/api/app\"\n\n", i, i)
	}
	s.writeConfig(cachedConfig(srv, op, many.String()))
	config := filepath.Join(s.config, "oidc-auth", "config.toml")
	alone, core := newAlone(t, "git-credential-oidc"), t.TempDir()
	copyFile(t, coreBin, filepath.Join(core, "git-credential-oidc"+exe))
	get := "protocol=https\nhost=git.example.org\npath=team/app.git\n\n"
	run := func(dir string) result {
		t.Helper()
		r, err := s.execute(runTimeout, s.dir, get, s.environ(), filepath.Join(dir, "git-credential-oidc"+exe), "get")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	want := run(core)
	if first, ok := alone.warm(t, func() result { return run(alone.dir) }); ok && (first.code != 0 || first.stdout != want.stdout) {
		t.Errorf("handed over to the core, the command answers\n%v\noidc-auth-core answers\n%v", first, want)
	}
	if want.code != 0 || !strings.Contains(want.stdout, "password="+py.Token.AccessToken+"\n") {
		t.Fatalf("oidc-auth-core gives no answer to compare with\n%v", want)
	}
	for _, round := range []string{"first get", "cached get"} {
		if front := run(alone.dir); front.code != 0 || front.stdout != want.stdout || front.stderr != "" {
			t.Errorf("%s: the command answers\n%v\noidc-auth-core answers\n%v", round, front, want)
		}
	}
	caches, _ := filepath.Glob(filepath.Join(s.cache, "oidc-auth", "config-matches-[0-9a-f]*"))
	if runtime.GOOS != "windows" && len(caches) != 1 {
		t.Fatalf("cache files %q, want one", caches)
	}

	// The team's entry now matches another path, in as many bytes, and the
	// file keeps its modification time: no entry answers, so the command
	// hands the request over.
	fi, err := os.Stat(config)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(b), `match = "https://git.example.org/team/"`, `match = "https://git.example.org/teem/"`, 1)
	if edited == string(b) {
		t.Fatal("the edit changed nothing")
	}
	if err := os.WriteFile(config, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(config, time.Time{}, fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if front := run(alone.dir); front.code != 1 || !strings.Contains(front.stderr, "oidc-auth-core is missing") {
		t.Errorf("after the edit, the command did not hand over\n%v", front)
	}
}
