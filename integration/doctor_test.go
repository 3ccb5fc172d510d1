package integration

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// doctorCheck is one check of `doctor --json`.
type doctorCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Level  string `json:"level"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// doctorPath is a PATH with the product binaries first, then the
// machine's (for git).
func doctorPath(dir string) string {
	return "PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH")
}

// doctor runs `oidc-auth doctor --json` (the binary bin) with extra in
// the environment, and returns the result and the checks by name.
func (s *sandbox) doctor(bin string, extra ...string) (result, map[string]doctorCheck) {
	s.t.Helper()
	r, err := s.execute(runTimeout, s.dir, "", s.environ(extra...), bin, "doctor", "--json")
	if err != nil {
		s.t.Fatal(err)
	}
	var rep struct{ Checks []doctorCheck }
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		s.t.Fatalf("doctor --json: %v\n%v", err, r)
	}
	m := map[string]doctorCheck{}
	for _, c := range rep.Checks {
		if c.OK != (c.Level == "ok") || c.Detail == "" {
			s.t.Errorf("check %+v: ok and level disagree, or no detail", c)
		}
		if _, dup := m[c.Name]; dup {
			s.t.Errorf("two checks named %q", c.Name)
		}
		m[c.Name] = c
	}
	return r, m
}

// TestDoctorHealthy: after a login, with the binaries on PATH, every check
// passes: exit 0, the text report has one ✓ line per check, and the
// server received plain GETs without credentials.
func TestDoctorHealthy(t *testing.T) {
	t.Parallel()
	var probes, withCredentials atomic.Int32 // requests to the server URL itself
	srv := startServer(t, pyauthserver.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/app" {
				probes.Add(1)
				if r.Method != http.MethodGet || r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" || r.URL.RawQuery != "" || r.ContentLength > 0 {
					withCredentials.Add(1)
				}
			}
			next.ServeHTTP(w, r)
		})
	}})
	s := newSandbox(t)
	e := s.login(srv)
	path := doctorPath(binDir)

	r, checks := s.doctor(oidcAuthBin, path)
	mustSucceed(t, r)
	for name, c := range checks {
		if c.Level == "error" {
			t.Errorf("check %s failed: %+v", name, c)
		}
	}
	for _, name := range []string{"binary oidc-auth", "binary git-credential-oidc", "binary docker-credential-oidc", "binary oidc-auth-core", "config", "store", "keychain",
		"login " + srv.URL(), "server " + srv.URL(), "clock " + srv.URL()} {
		if c, ok := checks[name]; !ok || c.Level != "ok" {
			t.Errorf("check %q: %+v (present %v)", name, c, ok)
		}
	}
	if !strings.Contains(checks["store"].Detail, "the file "+s.storePath()) || !strings.Contains(checks["keychain"].Detail, "OIDC_AUTH_STORE=file") {
		t.Errorf("doctor does not say where tokens live: %+v %+v", checks["store"], checks["keychain"])
	}
	if probes.Load() != 1 || withCredentials.Load() != 0 {
		t.Errorf("doctor sent %d requests to the server URL, %d not a plain GET", probes.Load(), withCredentials.Load())
	}

	r = s.runEnv([]string{path}, "doctor")
	mustSucceed(t, r)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != len(checks) {
		t.Errorf("doctor printed %d lines for %d checks:\n%s", len(lines), len(checks), r.stdout)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "✓ ") {
			t.Errorf("line %q is not a pass", l)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colour when stdout is not a terminal:\n%q", r.stdout)
	}
	if strings.Contains(r.stdout+r.stderr, e.Token.AccessToken) || strings.Contains(r.stdout+r.stderr, e.Token.RefreshToken) {
		t.Error("doctor printed a token")
	}
}

// TestDoctorServerDown: a stored login whose server no longer answers is
// a failure naming the server, and doctor stays within its bound.
func TestDoctorServerDown(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(srv)
	srv.Close()
	r, checks := s.doctor(oidcAuthBin, doctorPath(binDir))
	c := checks["server "+srv.URL()]
	if r.code != 1 || c.Level != "error" || !strings.Contains(c.Detail, "cannot reach "+srv.URL()) || !strings.Contains(c.Fix, "curl") {
		t.Errorf("a server that is down: %+v\n%v", c, r)
	}
	if _, ok := checks["clock "+srv.URL()]; ok {
		t.Errorf("a clock check without an answer")
	}
	if !strings.Contains(r.stderr, "1 check failed") {
		t.Errorf("stderr does not say that a check failed:\n%v", r)
	}
	if r.elapsed > 8*time.Second {
		t.Errorf("doctor took %v", r.elapsed)
	}
}

// TestDoctorClockSkew: a server whose Date header is 10 minutes off makes
// a warning with the command that sets the clock, and no failure.
func TestDoctorClockSkew(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", time.Now().Add(-10*time.Minute).UTC().Format(http.TimeFormat))
			next.ServeHTTP(w, r)
		})
	}})
	s := newSandbox(t)
	s.login(srv)
	r, checks := s.doctor(oidcAuthBin, doctorPath(binDir))
	mustSucceed(t, r)
	c := checks["clock "+srv.URL()]
	if c.Level != "warning" || !strings.Contains(c.Detail, "10m ahead of "+srv.URL()) || c.Fix == "" {
		t.Errorf("a server 10 minutes behind: %+v", c)
	}
}

// TestDoctorBrokenConfig: a config file with an unknown key fails with its
// file and line; a config entry without a login fails with the login to
// run, and its plain-http server elsewhere is never contacted.
func TestDoctorBrokenConfig(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	cfg := filepath.Join(s.config, "oidc-auth", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("[[server]]\nmatch = \"https://git.example.org/\"\nhots = \"https://auth.example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, checks := s.doctor(oidcAuthBin, doctorPath(binDir))
	c := checks["config"]
	if r.code != 1 || c.Level != "error" || !strings.Contains(c.Detail, cfg+":3") || !strings.Contains(c.Detail, `unknown key "server.hots"`) || !strings.Contains(c.Fix, cfg) {
		t.Errorf("a broken config: %+v\n%v", c, r)
	}

	// allow_http lets a plain-http server elsewhere in; doctor warns of it
	// and does not contact it (.invalid never resolves).
	if err := os.WriteFile(cfg, []byte("[[server]]\nmatch = \"registry.example.org\"\nhost = \"http://auth.example.invalid/api\"\nallow_http = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r, checks = s.doctor(oidcAuthBin, doctorPath(binDir))
	c = checks["server http://auth.example.invalid/api"]
	if c.Level != "warning" || !strings.Contains(c.Detail, "clear text") || !strings.Contains(c.Detail, "not contacted") {
		t.Errorf("a plain-http server elsewhere: %+v\n%v", c, r)
	}
	if c := checks["login http://auth.example.invalid/api"]; r.code != 1 || c.Level != "error" || c.Fix != "oidc-auth login http://auth.example.invalid/api" {
		t.Errorf("no login for a config entry: %+v\n%v", c, r)
	}
}

// TestDoctorMissingBinary: docker set up to ask oidc-auth, with
// docker-credential-oidc nowhere on PATH nor beside oidc-auth, fails with
// the go install line; run from a directory that is not on PATH, doctor
// says to put it there.
func TestDoctorMissingBinary(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(srv)
	mustSucceed(t, s.runEnv([]string{doctorPath(binDir)}, "setup", "docker", "registry.example.org", "--host", srv.URL()))

	partial := filepath.Join(s.dir, "partial")
	if err := os.Mkdir(partial, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{oidcAuthBin, gitCredentialBin, coreBin} {
		copyFile(t, bin, filepath.Join(partial, filepath.Base(bin)))
	}
	r, checks := s.doctor(filepath.Join(partial, "oidc-auth"+exe), doctorPath(partial))
	c := checks["binary docker-credential-oidc"]
	if r.code != 1 || c.Level != "error" || c.Fix != "go install github.com/oidc-auth/oidc-auth/cmd/...@latest" || !strings.Contains(c.Detail, "docker finds") {
		t.Errorf("a missing docker helper: %+v\n%v", c, r)
	}
	if c := checks["docker"]; c.Level != "ok" || !strings.Contains(c.Detail, "registry.example.org") {
		t.Errorf("docker check: %+v", c)
	}
	if c := checks["binary git-credential-oidc"]; c.Level != "ok" {
		t.Errorf("the git helper beside it: %+v", c)
	}

	// The binaries exist beside oidc-auth, but PATH does not have them.
	r, checks = s.doctor(oidcAuthBin, "PATH="+os.Getenv("PATH"))
	c = checks["binary docker-credential-oidc"]
	fix := `export PATH="` + binDir + `:$PATH"`
	if runtime.GOOS == "windows" {
		fix = `$env:PATH = "` + binDir + `;$env:PATH"` // PowerShell's
	}
	if r.code != 1 || c.Level != "error" || c.Fix != fix {
		t.Errorf("helpers beside oidc-auth but not on PATH: %+v\n%v", c, r)
	}
}

// TestDoctorMissingCore: commands on PATH without the oidc-auth-core they
// hand over to, beside them or on PATH, cannot run: an error with the
// install line; with one only on PATH, a warning that it may be another
// version.
func TestDoctorMissingCore(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	partial := filepath.Join(s.dir, "partial")
	if err := os.Mkdir(partial, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{gitCredentialBin, dockerCredentialBin} {
		copyFile(t, bin, filepath.Join(partial, filepath.Base(bin)))
	}
	// The core itself runs doctor: the commands in partial cannot.
	r, checks := s.doctor(coreBin, "PATH="+partial+string(os.PathListSeparator)+noCorePath(t))
	c := checks["binary oidc-auth-core"]
	if r.code != 1 || c.Level != "error" || c.Fix != "go install github.com/oidc-auth/oidc-auth/cmd/...@latest" ||
		!strings.Contains(c.Detail, filepath.Join(partial, "git-credential-oidc"+exe)) || !strings.Contains(c.Detail, filepath.Join(partial, "docker-credential-oidc"+exe)) {
		t.Errorf("commands without a core: %+v\n%v", c, r)
	}
	r, checks = s.doctor(coreBin, "PATH="+partial+string(os.PathListSeparator)+binDir+string(os.PathListSeparator)+noCorePath(t))
	if c := checks["binary oidc-auth-core"]; c.Level != "warning" || !strings.Contains(c.Detail, "different versions") || !strings.Contains(c.Detail, coreBin) {
		t.Errorf("commands with a core only on PATH: %+v\n%v", c, r)
	}
}

// TestDoctorGitSetup: after `oidc-auth setup git`, doctor names the URL git
// asks oidc-auth for; a generic helper beside ours is a warning with the
// git config line that removes it; a git entry of the config file that git
// does not ask for is a failure with the setup line.
func TestDoctorGitSetup(t *testing.T) {
	t.Parallel()
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	u.login(w.auth)
	match := w.git.URL() + "/team/"
	u.setupGit(match, w.auth.URL())
	env := u.gitVars()
	r, checks := u.doctor(oidcAuthBin, env...)
	mustSucceed(t, r)
	if c := checks["git"]; c.Level != "ok" || !strings.Contains(c.Detail, "git asks oidc-auth for "+match) {
		t.Errorf("git check after setup: %+v", c)
	}

	u.mustGit("", "config", "--global", "--add", "credential."+match+".helper", "store")
	u.mustGit("", "config", "--global", "--add", "credential."+match+".helper", "manager")
	// A URL set up by hand in git's config alone, with a helper before ours.
	other := "https://other.example.org/"
	u.mustGit("", "config", "--global", "--add", "credential."+other+".helper", "osxkeychain")
	u.mustGit("", "config", "--global", "--add", "credential."+other+".helper", "oidc")
	r, checks = u.doctor(oidcAuthBin, env...)
	mustSucceed(t, r)
	if c := checks["git storage helper manager "+match]; c.Level != "warning" || !strings.Contains(c.Detail, `"manager" after ours`) || !strings.HasPrefix(c.Fix, "git config") {
		t.Errorf("a storage helper beside ours: %+v", c)
	}
	if c := checks["git storage helper osxkeychain "+other]; c.Level != "warning" || !strings.Contains(c.Detail, `"osxkeychain" before ours`) {
		t.Errorf("a storage helper before ours for a URL of git's config: %+v", c)
	}
	if c := checks["git"]; !strings.Contains(c.Detail, match) || !strings.Contains(c.Detail, other) {
		t.Errorf("git check: %+v", c)
	}
	if c := checks["login https://other.example.org"]; c.Level != "warning" || c.Fix != "oidc-auth login https://other.example.org" {
		t.Errorf("a URL git asks oidc-auth for, without a login: %+v", c)
	}
	u.mustGit("", "config", "--global", "--remove-section", "credential."+other)

	u.mustGit("", "config", "--global", "--unset-all", "credential."+match+".helper")
	r, checks = u.doctor(oidcAuthBin, env...)
	c := checks["git "+match]
	if r.code != 1 || c.Level != "error" || c.Fix != "oidc-auth setup git "+match+" --host "+w.auth.URL() {
		t.Errorf("a config entry git does not ask for: %+v\n%v", c, r)
	}
	// The fix fixes it.
	mustSucceed(t, u.runEnv(env, strings.Fields(c.Fix)[1:]...))
	r, _ = u.doctor(oidcAuthBin, env...)
	mustSucceed(t, r)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDoctorKeychainAbsent: with no D-Bus session, as on a headless
// server, doctor says that the keychain is absent and where the tokens
// are instead, as a warning with the line that silences it; status names
// the file of the login, and says why logins are read from it alone.
func TestDoctorKeychainAbsent(t *testing.T) {
	t.Parallel()
	requireDBusKeychain(t)
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	srv.PlanDevice(pyauthserver.DevicePlan{})
	mustSucceed(t, s.runEnv(autoStore, "login", srv.URL(), "--timeout", loginTimeout))
	r, checks := s.doctor(oidcAuthBin, doctorPath(binDir), "OIDC_AUTH_STORE=")
	mustSucceed(t, r)
	if c := checks["keychain"]; c.Level != "warning" || !strings.Contains(c.Detail, "absent") || !strings.Contains(c.Detail, s.storePath()) || c.Fix != "export OIDC_AUTH_STORE=file" {
		t.Errorf("keychain check without D-Bus: %+v", c)
	}
	if c := checks["store"]; c.Level != "ok" || !strings.Contains(c.Detail, "the file "+s.storePath()) {
		t.Errorf("store check without D-Bus: %+v", c)
	}
	st := s.runEnv(autoStore, "status")
	mustSucceed(t, st)
	if !strings.Contains(st.stdout, "file: "+s.storePath()) ||
		!strings.Contains(st.stderr, "Note: the OS keychain cannot be used (") || !strings.Contains(st.stderr, "new logins are stored there") {
		t.Errorf("status does not say where the tokens are:\n%v", st)
	}
}

// TestDoctorKeychain: with a working Secret Service, doctor says that
// tokens are in the OS keychain, and status says so of the login.
func TestDoctorKeychain(t *testing.T) {
	s, env := keychainSandbox(t)
	srv := startServer(t, pyauthserver.Options{})
	srv.PlanDevice(pyauthserver.DevicePlan{})
	mustSucceed(t, s.runEnv(env, "login", srv.URL(), "--timeout", loginTimeout))
	t.Cleanup(func() { s.runEnv(env, "logout", srv.URL()) })
	r, checks := s.doctor(oidcAuthBin, append(env, doctorPath(binDir))...)
	mustSucceed(t, r)
	if c := checks["keychain"]; c.Level != "ok" || !strings.Contains(c.Detail, "available") {
		t.Errorf("keychain check: %+v", c)
	}
	if c := checks["store"]; c.Level != "ok" || !strings.Contains(c.Detail, "the OS keychain") {
		t.Errorf("store check: %+v", c)
	}
	st := s.runEnv(env, "status", "--json")
	mustSucceed(t, st)
	if list := statusItems(t, st); len(list) != 1 || list[0].Store != "keychain" || list[0].StorePath != "" {
		t.Errorf("status of a login in the keychain: %+v", list)
	}
}
