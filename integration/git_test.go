package integration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/integration/gitserver"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// These tests drive real git against gitserver, a smart-HTTP server that
// accepts only the access tokens the py-oidc-auth test server issued, with
// git-credential-oidc found as `git credential-oidc` on PATH. git is the
// process that runs the helper, so git gets the sandbox's environment.

// gitTimeout bounds every run of git.
const gitTimeout = 40 * time.Second

// gitUser is a sandbox that also runs git, with a global git config of its
// own and no system config.
type gitUser struct {
	*sandbox
	gitconfig string
	work      string
}

// newGitUser makes a fresh sandbox with an empty global git config.
func newGitUser(t *testing.T) *gitUser {
	t.Helper()
	u := &gitUser{sandbox: newSandbox(t)}
	u.gitconfig = filepath.Join(u.home, ".gitconfig")
	u.work = filepath.Join(u.dir, "work")
	if err := os.WriteFile(u.gitconfig, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(u.work, 0o700); err != nil {
		t.Fatal(err)
	}
	return u
}

// gitVars isolate git from the machine: no system config, the sandbox's
// global config, no prompts, no askpass program, a fixed identity, and the
// product binaries first on PATH so that credential.helper=oidc runs ours.
func (u *gitUser) gitVars() []string {
	return []string{
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + u.gitconfig,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=Jane Doe", "GIT_AUTHOR_EMAIL=jane@example.invalid",
		"GIT_COMMITTER_NAME=Jane Doe", "GIT_COMMITTER_EMAIL=jane@example.invalid",
	}
}

// env is the environment of git and of the helper it runs: the one run
// gives oidc-auth (sandbox HOME and XDG directories, the file store) with
// no GIT_ variable of the machine, plus gitVars.
func (u *gitUser) env() []string {
	return u.sandbox.environ(u.gitVars()...)
}

// configPath is the helpers' config file in the sandbox.
func (u *gitUser) configPath() string {
	return filepath.Join(u.config, "oidc-auth", "config.toml")
}

// exec runs bin with args in dir (relative to the work directory) with
// stdin, without a controlling terminal, and records its stderr for the
// sandbox's secret check; it fails the test when bin cannot run or hangs.
func (u *gitUser) exec(dir, stdin, bin string, args ...string) result {
	u.t.Helper()
	r, err := u.execErr(dir, stdin, bin, args...)
	if err != nil {
		u.t.Fatal(err)
	}
	return r
}

// execErr is exec for other goroutines than the test's: it returns the
// failure to run instead of failing the test.
func (u *gitUser) execErr(dir, stdin, bin string, args ...string) (result, error) {
	return u.execute(gitTimeout, filepath.Join(u.work, dir), stdin, u.env(), bin, args...)
}

// git runs git in dir with args.
func (u *gitUser) git(dir string, args ...string) result {
	u.t.Helper()
	return u.exec(dir, "", "git", args...)
}

// mustGit runs git and fails the test unless it succeeds; it returns stdout.
func (u *gitUser) mustGit(dir string, args ...string) string {
	u.t.Helper()
	r := u.git(dir, args...)
	if r.code != 0 {
		u.t.Fatalf("want exit 0\n%v", r)
	}
	return r.stdout
}

// commit adds a file to the clone in dir and commits it; it returns the
// commit id.
func (u *gitUser) commit(dir, file string) string {
	u.t.Helper()
	if err := os.WriteFile(filepath.Join(u.work, dir, file), []byte(file+"\n"), 0o600); err != nil {
		u.t.Fatal(err)
	}
	u.mustGit(dir, "add", file)
	u.mustGit(dir, "commit", "--quiet", "-m", "add "+file)
	return strings.TrimSpace(u.mustGit(dir, "rev-parse", "HEAD"))
}

// setupGit runs `oidc-auth setup git URL --host H` (and extra flags) with
// git isolated as for the user's git runs.
func (u *gitUser) setupGit(url, host string, extra ...string) {
	u.t.Helper()
	mustSucceed(u.t, u.runEnv(u.gitVars(), append([]string{"setup", "git", url, "--host", host}, extra...)...))
}

// credentialConfig returns the user's effective global git config of the
// credential section as sorted "key value" lines, keys as `git config
// --get-regexp` prints them. An empty helper value resets the helper list
// (gitcredentials(7)), so a helper key keeps only the values after its
// last empty one; setup may write that reset so that no other helper
// answers for the URL.
func (u *gitUser) credentialConfig() []string {
	u.t.Helper()
	r := u.git("", "config", "--global", "--get-regexp", `^credential\.`)
	if r.code != 0 && (r.code != 1 || r.stdout != "" || r.stderr != "") {
		u.t.Fatalf("git config --get-regexp failed\n%v", r)
	}
	values := map[string][]string{}
	for _, l := range strings.Split(r.stdout, "\n") {
		if l == "" {
			continue
		}
		key, value, _ := strings.Cut(l, " ")
		if strings.HasSuffix(key, ".helper") && value == "" {
			values[key] = []string{}
			continue
		}
		values[key] = append(values[key], value)
	}
	var lines []string
	for key, vs := range values {
		for _, v := range vs {
			lines = append(lines, key+" "+v)
		}
	}
	slices.Sort(lines)
	return lines
}

// configMatches returns the match values of the helpers' config file.
func (u *gitUser) configMatches() []string {
	u.t.Helper()
	c, err := helper.LoadConfig(u.configPath())
	if err != nil {
		u.t.Fatalf("config after setup: %v", err)
	}
	var m []string
	for _, s := range c.Servers {
		m = append(m, s.Match+" → "+s.Host)
	}
	return m
}

// redactGitPasswords replaces the value of every password= line of a
// credential answer, so that failure messages show no token: with
// "<access token>" where it is access, else "<other password>".
func redactGitPasswords(answer, access string) string {
	lines := strings.SplitAfter(answer, "\n")
	for i, l := range lines {
		v, ok := strings.CutPrefix(l, "password=")
		if !ok {
			continue
		}
		nl := ""
		if strings.HasSuffix(v, "\n") {
			v, nl = strings.TrimSuffix(v, "\n"), "\n"
		}
		if v == access && access != "" {
			lines[i] = "password=<access token>" + nl
		} else {
			lines[i] = "password=<other password>" + nl
		}
	}
	return strings.Join(lines, "")
}

// gitWorld is one user, a py-oidc-auth server and a git server that
// accepts the auth server's valid access tokens with username oauth2, and
// nothing else.
type gitWorld struct {
	t    *testing.T
	u    *gitUser
	auth *pyauthserver.Server
	git  *gitserver.Server
}

// newGitWorld starts the servers; authOpts go to the auth server.
func newGitWorld(t *testing.T, authOpts pyauthserver.Options) *gitWorld {
	t.Helper()
	w := &gitWorld{t: t, u: newGitUser(t), auth: startServer(t, authOpts)}
	w.git = w.newGitServer()
	return w
}

// newGitServer starts a further git server that accepts the same tokens,
// as the Basic password of oauth2 (basicServer).
func (w *gitWorld) newGitServer() *gitserver.Server {
	return w.newGitServerOf(basicServer)
}

// serverKind is how a git server takes the auth server's access tokens.
type serverKind int

const (
	// basicServer takes a valid token only as the HTTP Basic password of
	// oauth2, challenges `Basic realm="git"` and rejects Bearer
	// credentials: most git servers, which read the token as a password.
	basicServer serverKind = iota
	// bearerServer takes a valid token only as a Bearer credential and
	// challenges `Bearer realm="git", Basic realm="git"`: two challenges in
	// one field, the Basic one of no use for the token.
	bearerServer
	// dualServer takes a valid token either way and challenges Bearer and
	// Basic in two WWW-Authenticate fields.
	dualServer
)

var serverKinds = []serverKind{basicServer, bearerServer, dualServer}

func (k serverKind) String() string {
	return [...]string{"Basic server", "Bearer server", "Bearer and Basic server"}[k]
}

// scheme is the auth-scheme git sends the token in to a server of kind k:
// Bearer where the server challenges it and git takes Bearer credentials
// from helpers (capability[]=authtype), else Basic; "" when that server
// does not take it.
func (k serverKind) scheme(authtype bool) string {
	switch {
	case k != basicServer && authtype:
		return "Bearer"
	case k == bearerServer:
		return ""
	}
	return "Basic"
}

// newGitServerOf starts a further git server of kind k that accepts the
// auth server's valid access tokens, for username oauth2 in Basic.
func (w *gitWorld) newGitServerOf(k serverKind) *gitserver.Server {
	return w.newGitServerFor(k, helper.DefaultUsername)
}

// newGitServerFor is newGitServerOf for the Basic username user.
func (w *gitWorld) newGitServerFor(k serverKind, user string) *gitserver.Server {
	basic := func(u, pass string) bool { return u == user && w.auth.Valid(pass) }
	opts := gitserver.Options{Realm: "git"}
	switch k {
	case basicServer:
		opts.Check = basic
	case bearerServer:
		opts.CheckBearer = w.auth.Valid
		opts.Challenges = []string{`Bearer realm="git", Basic realm="git"`}
	case dualServer:
		opts.Check, opts.CheckBearer = basic, w.auth.Valid
		opts.Challenges = []string{`Bearer realm="git"`, `Basic realm="git"`}
	}
	return gitserver.New(w.t, opts)
}

// gitRelease is the version of the git on PATH, which runs every test
// here (and the servers' git-http-backend).
var gitRelease = sync.OnceValues(func() (helper.GitRelease, error) {
	return helper.GitVersion(context.Background())
})

// currentGit returns the version of the git on PATH.
func currentGit(t *testing.T) helper.GitRelease {
	t.Helper()
	gitserver.RequireGit(t)
	v, err := gitRelease()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// authtypeGit reports whether the git on PATH announces
// capability[]=authtype to credential helpers (git 2.46 and later), and
// so takes Bearer credentials and ephemeral answers.
func authtypeGit(t *testing.T) bool {
	t.Helper()
	return currentGit(t).AtLeast(2, 46)
}

// traceGit makes every later git run of u append its GIT_TRACE to a file
// and returns a function that counts the runs of helper (ours is "oidc")
// with action so far.
func (u *gitUser) traceGit() func(helper, action string) int {
	u.t.Helper()
	trace := filepath.Join(u.dir, "git-trace.log")
	u.sandbox.env = append(u.sandbox.env, "GIT_TRACE="+trace)
	return func(helper, action string) int {
		u.t.Helper()
		b, err := os.ReadFile(trace)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			u.t.Fatal(err)
		}
		return strings.Count(string(b), "trace: run_command: 'git credential-"+helper+" "+action+"'")
	}
}

// key is the store key of the auth server.
func (w *gitWorld) key() string { return storeKey(w.t, w.auth) }

// stored returns the auth server's stored token.
func (w *gitWorld) stored() storedToken {
	w.t.Helper()
	e, ok := w.u.readStore()[w.key()]
	if !ok {
		w.t.Fatalf("no stored login for %s", w.key())
	}
	return e.Token
}

// authedGitRequests returns the requests of log that carried credentials.
func authedGitRequests(log []gitserver.Request) []gitserver.Request {
	var out []gitserver.Request
	for _, r := range log {
		if r.HadAuth {
			out = append(out, r)
		}
	}
	return out
}

// describeGitRequests lists log for a failure message with the passwords
// redacted: "<token>" where a password is token, else "<other password>".
func describeGitRequests(log []gitserver.Request, token string) string {
	var b strings.Builder
	for _, r := range log {
		password := "none"
		switch {
		case !r.HadAuth:
		case r.Credential() == token && token != "":
			password = "<token>"
		default:
			password = "<other password>"
		}
		fmt.Fprintf(&b, "\t%s %s?%s → %d, %s user %q, credential %s\n", r.Method, r.Path, r.Query, r.Status, r.Scheme, r.Username, password)
	}
	return b.String()
}

// checkGitLog checks every request of log: with credentials it carries
// oauth2 and the token want as HTTP Basic credentials and is answered 200,
// without credentials it is answered 401; every request is to a path below
// pathPrefix, and at least one carries credentials.
func checkGitLog(t *testing.T, what string, log []gitserver.Request, want, pathPrefix string) {
	t.Helper()
	checkGitLogAs(t, what, log, "Basic", helper.DefaultUsername, want, pathPrefix)
}

// checkGitLogAs is checkGitLog for credentials of scheme ("Basic" or
// "Bearer") with, for Basic, the username user.
func checkGitLogAs(t *testing.T, what string, log []gitserver.Request, scheme, user, want, pathPrefix string) {
	t.Helper()
	if len(authedGitRequests(log)) == 0 {
		t.Errorf("%s: no request carried credentials:\n%s", what, describeGitRequests(log, want))
	}
	for _, r := range log {
		if !strings.HasPrefix(r.Path, pathPrefix) {
			t.Errorf("%s: request to %s, outside %s", what, r.Path, pathPrefix)
		}
		// A URL's username goes out once without a password (curl's), before
		// git asks the helpers.
		urlUser := r.Scheme == "Basic" && r.Password == ""
		switch {
		case (!r.HadAuth || urlUser) && r.Status != http.StatusUnauthorized:
			t.Errorf("%s: request without credentials answered %d: %s %s", what, r.Status, r.Method, r.Path)
		case urlUser:
		case r.HadAuth && r.Scheme != scheme:
			t.Errorf("%s: %s %s carried %s credentials, want %s", what, r.Method, r.Path, r.Scheme, scheme)
		case r.HadAuth && (scheme == "Basic" && r.Username != user || r.Credential() != want):
			t.Errorf("%s: %s %s carried %q and a credential that is not the expected token (%.8s…)", what, r.Method, r.Path, r.Username, r.Credential())
		case r.HadAuth && r.Status != http.StatusOK:
			t.Errorf("%s: %s %s with the token answered %d", what, r.Method, r.Path, r.Status)
		}
	}
}

// TestGitCredentialProtocol drives git-credential-oidc as git does, one
// action with one request on stdin, and checks stdout byte for byte and
// the store: get answers only for a configured URL prefix or the login
// host itself, with the cached token and no request to the auth server;
// erase drops the access token only when it is the rejected password;
// store changes nothing.
func TestGitCredentialProtocol(t *testing.T) {
	t.Parallel()
	const (
		unchanged = iota // the stored token is as the login left it
		erased           // the access token is gone, the refresh token kept
	)
	tests := []struct {
		name   string
		action string
		// request returns the request on stdin.
		request func(w *gitWorld, access string) string
		// answer says whether stdout is the credential (else nothing).
		answer bool
		store  int
	}{
		{"get configured prefix", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=team/app.git\n\n"
		}, true, unchanged},
		{"get deeper path", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=team/sub/app.git\n\n"
		}, true, unchanged},
		{"get without path", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\n\n"
		}, false, unchanged},
		{"get sibling prefix", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=teamevil/app.git\n\n"
		}, false, unchanged},
		{"get other scheme", "get", func(w *gitWorld, _ string) string {
			return "protocol=https\nhost=" + gitHostField(w.git.URL()) + "\npath=team/app.git\n\n"
		}, false, unchanged},
		{"get login host", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.auth.URL()) + "\npath=api/app/repo.git\n\n"
		}, true, unchanged},
		{"get login host other path", "get", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.auth.URL()) + "\npath=api/other/repo.git\n\n"
		}, false, unchanged},
		{"erase other password", "erase", func(w *gitWorld, _ string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=team/app.git\nusername=oauth2\npassword=not-our-token\n\n"
		}, false, unchanged},
		{"erase our token", "erase", func(w *gitWorld, access string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=team/app.git\nusername=oauth2\npassword=" + access + "\n\n"
		}, false, erased},
		{"erase our token elsewhere", "erase", func(w *gitWorld, access string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=teamevil/app.git\nusername=oauth2\npassword=" + access + "\n\n"
		}, false, unchanged},
		{"store", "store", func(w *gitWorld, access string) string {
			return "protocol=http\nhost=" + gitHostField(w.git.URL()) + "\npath=team/app.git\nusername=oauth2\npassword=" + access + "x\n\n"
		}, false, unchanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newGitWorld(t, pyauthserver.Options{})
			u := w.u
			old := u.login(w.auth).Token
			u.setupGit(w.git.URL()+"/team/", w.auth.URL())
			counts := requestCounts(w.auth)

			r := u.exec("", tt.request(w, old.AccessToken), gitCredentialBin, tt.action)
			mustSucceed(t, r)
			want := ""
			if tt.answer {
				want = fmt.Sprintf("username=oauth2\npassword=%s\npassword_expiry_utc=%s\n", old.AccessToken, old.Expires)
			}
			if r.stdout != want {
				t.Errorf("%s printed %q, want %q", tt.action, redactGitPasswords(r.stdout, old.AccessToken), redactGitPasswords(want, old.AccessToken))
			}
			if r.stderr != "" {
				t.Errorf("%s wrote to stderr: %q", tt.action, r.stderr)
			}
			if got := requestCounts(w.auth); !maps.Equal(got, counts) {
				t.Errorf("%s made requests to the auth server: %v, then %v", tt.action, counts, got)
			}
			now := w.stored()
			switch tt.store {
			case unchanged:
				if now.AccessToken != old.AccessToken || now.RefreshToken != old.RefreshToken || now.Expires != old.Expires {
					t.Errorf("%s changed the stored token", tt.action)
				}
			case erased:
				if now.AccessToken != "" || now.RefreshToken != old.RefreshToken {
					t.Errorf("after erase: access token kept %v, refresh token kept %v; want dropped and kept",
						now.AccessToken != "", now.RefreshToken == old.RefreshToken)
				}
				// The next get refreshes once.
				r := u.exec("", tt.request(w, ""), gitCredentialBin, "get")
				mustSucceed(t, r)
				fresh := w.stored()
				want := fmt.Sprintf("username=oauth2\npassword=%s\npassword_expiry_utc=%s\n", fresh.AccessToken, fresh.Expires)
				if r.stdout != want || !w.auth.Valid(fresh.AccessToken) || fresh.AccessToken == old.AccessToken {
					t.Errorf("get after erase printed %q, want a new valid token %q", redactGitPasswords(r.stdout, fresh.AccessToken), redactGitPasswords(want, fresh.AccessToken))
				}
				if n := w.auth.Count(pyauthserver.CountTokenRefresh); n != 1 {
					t.Errorf("%d refreshes for the get after erase, want 1", n)
				}
			}
		})
	}
}

// gitHostField is the host:port of an http URL, as git sends it in host=.
func gitHostField(rawURL string) string {
	h := strings.TrimPrefix(rawURL, "http://")
	if i := strings.IndexByte(h, '/'); i >= 0 {
		h = h[:i]
	}
	return h
}

// TestGitCloneCommitPushFetch is the daily use: after one login and `setup
// git`, real git clones, pushes and fetches with the cached token; the
// auth server sees no request at all meanwhile.
func TestGitCloneCommitPushFetch(t *testing.T) {
	t.Parallel()
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	e := u.login(w.auth)
	access := e.Token.AccessToken
	repo := w.git.CreateRepo("team/app")
	match := w.git.URL() + "/team/"
	u.setupGit(match, w.auth.URL())

	wantConfig := []string{"credential." + match + ".helper oidc", "credential." + match + ".usehttppath true"}
	slices.Sort(wantConfig)
	if got := u.credentialConfig(); !slices.Equal(got, wantConfig) {
		t.Errorf("global git config after setup:\n%q\nwant\n%q", got, wantConfig)
	}
	if got, want := u.configMatches(), []string{match + " → " + w.auth.URL()}; !slices.Equal(got, want) {
		t.Errorf("config entries after setup %q, want %q", got, want)
	}

	// The helper speaks git's protocol byte for byte.
	r := u.exec("", "protocol=http\nhost="+gitHostField(w.git.URL())+"\npath=team/app.git\n\n", gitCredentialBin, "get")
	mustSucceed(t, r)
	if want := fmt.Sprintf("username=oauth2\npassword=%s\npassword_expiry_utc=%s\n", access, e.Token.Expires); r.stdout != want {
		t.Errorf("git-credential-oidc get printed %q, want %q", redactGitPasswords(r.stdout, access), redactGitPasswords(want, access))
	}
	if r.stderr != "" {
		t.Errorf("git-credential-oidc get wrote to stderr: %q", r.stderr)
	}

	counts := requestCounts(w.auth)
	u.mustGit("", "clone", "--quiet", repo, "app")
	if b, err := os.ReadFile(filepath.Join(u.work, "app", gitserver.InitialFile)); err != nil || string(b) != "# team/app\n" {
		t.Errorf("clone has %s = %q, %v", gitserver.InitialFile, b, err)
	}
	head := u.commit("app", "one.txt")
	u.mustGit("app", "push", "--quiet", "origin", "main")
	if got := w.git.Ref("team/app", "main"); got != head {
		t.Errorf("server's main after push = %q, want %q", got, head)
	}
	// Another commit arrives through a second clone; fetch brings it.
	u.mustGit("", "clone", "--quiet", repo, "other")
	theirs := u.commit("other", "two.txt")
	u.mustGit("other", "push", "--quiet", "origin", "main")
	u.mustGit("app", "fetch", "--quiet", "origin")
	if got := strings.TrimSpace(u.mustGit("app", "rev-parse", "origin/main")); got != theirs {
		t.Errorf("origin/main after fetch = %q, want %q", got, theirs)
	}

	if got := requestCounts(w.auth); !maps.Equal(got, counts) {
		t.Errorf("git with a cached token made requests to the auth server: %v, then %v", counts, got)
	}
	if got := w.auth.Count(pyauthserver.RouteToken); got != counts[pyauthserver.RouteToken] {
		t.Errorf("%d token requests during git, want 0", got-counts[pyauthserver.RouteToken])
	}
	if got := w.stored().AccessToken; got != access {
		t.Errorf("the stored access token changed during git")
	}
	log := w.git.Requests()
	checkGitLog(t, "git server", log, access, "/team/app.git/")
	var pushed, fetched int
	for _, r := range authedGitRequests(log) {
		switch r.Path {
		case "/team/app.git/git-receive-pack":
			pushed++
		case "/team/app.git/git-upload-pack":
			fetched++
		}
	}
	if pushed != 2 || fetched < 3 {
		t.Errorf("%d pushes and %d fetches with the token, want 2 and at least 3:\n%s", pushed, fetched, describeGitRequests(log, access))
	}
}

// TestGitRejectedTokenRefreshes covers a token the git server no longer
// accepts although it has not expired by the stored expiry: git sends it,
// gets 401 and calls the helper's erase (naming the token as the password,
// or with git 2.46 and later as a Basic or Bearer credential), which drops
// the access token and keeps the refresh token; the next git command
// refreshes exactly once and succeeds with the new token. A token whose
// stored expiry has passed is refreshed before git sends anything.
func TestGitRejectedTokenRefreshes(t *testing.T) {
	t.Parallel()
	authtype := authtypeGit(t)
	revoke := func(w *gitWorld) { w.auth.RevokeAccessTokens() }
	expire := func(w *gitWorld) { w.auth.ExpireAccessTokens() }
	expireStored := func(w *gitWorld) { w.u.expireStoredAccess(w.key()) }
	tests := []struct {
		name string
		// kind is the git server's.
		kind serverKind
		// broker runs the auth server in broker mode, where the access and
		// the refresh token are one JWT.
		broker bool
		// reject makes the stored token unusable.
		reject func(w *gitWorld)
		// rejected says whether the git server sees the old token and
		// rejects it (so the first fetch fails).
		rejected bool
	}{
		{"revoked", basicServer, false, revoke, true},
		{"expired at the server", basicServer, false, expire, true},
		{"expired in the store", basicServer, false, expireStored, false},
		{"broker/expired at the server", basicServer, true, expire, true},
		{"broker/expired in the store", basicServer, true, expireStored, false},
		{"Bearer server/revoked", bearerServer, false, revoke, true},
		{"Bearer server/expired in the store", bearerServer, false, expireStored, false},
		{"Bearer and Basic server/revoked", dualServer, false, revoke, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			scheme := tt.kind.scheme(authtype)
			if scheme == "" {
				t.Skipf("git %v sends no Bearer credentials (TestGitServerKinds covers it)", currentGit(t))
			}
			w := newGitWorld(t, pyauthserver.Options{Broker: tt.broker})
			if tt.kind != basicServer {
				w.git = w.newGitServerOf(tt.kind)
			}
			u := w.u
			old := u.login(w.auth).Token
			repo := w.git.CreateRepo("team/app")
			u.setupGit(w.git.URL()+"/team/", w.auth.URL())
			runs := u.traceGit()
			u.mustGit("", "clone", "--quiet", repo, "app")
			checkGitLogAs(t, "clone", w.git.Requests(), scheme, helper.DefaultUsername, old.AccessToken, "/team/app.git/")

			tt.reject(w)
			mark := len(w.git.Requests())
			if tt.rejected {
				r := u.git("app", "fetch", "origin")
				if r.code == 0 {
					t.Fatalf("fetch with a rejected token succeeded\n%v", r)
				}
				if !strings.Contains(r.stderr, "Authentication failed") {
					t.Errorf("fetch did not fail on authentication\n%v", r)
				}
				sent := authedGitRequests(w.git.Requests()[mark:])
				if len(sent) != 1 || sent[0].Credential() != old.AccessToken || sent[0].Scheme != scheme || sent[0].Status != http.StatusUnauthorized {
					t.Errorf("first fetch sent\n%s\nwant the old token once as %s, answered 401", describeGitRequests(sent, old.AccessToken), scheme)
				}
				if n := runs("oidc", "erase"); n != 1 {
					t.Errorf("git called erase %d times, want 1", n)
				}
				// git called erase: the access token is gone, the refresh token kept.
				after := w.stored()
				if after.AccessToken == old.AccessToken {
					t.Errorf("the rejected access token is still stored after git's erase")
				}
				if after.RefreshToken != old.RefreshToken {
					t.Errorf("erase changed the refresh token (want it kept)")
				}
				if n := w.auth.Count(pyauthserver.CountTokenRefresh); n != 0 {
					t.Errorf("%d refreshes before the next git command, want 0", n)
				}
				mark = len(w.git.Requests())
			}

			r := u.git("app", "fetch", "origin")
			mustSucceed(t, r)
			if n := w.auth.Count(pyauthserver.CountTokenRefresh); n != 1 {
				t.Errorf("%d refreshes, want exactly 1", n)
			}
			fresh := w.stored()
			if fresh.AccessToken == old.AccessToken || !w.auth.Valid(fresh.AccessToken) {
				t.Fatalf("no new valid access token stored after the refresh")
			}
			checkGitLogAs(t, "fetch after refresh", w.git.Requests()[mark:], scheme, helper.DefaultUsername, fresh.AccessToken, "/team/app.git/")

			// The new token is cached: a further fetch costs no request.
			counts := requestCounts(w.auth)
			mustSucceed(t, u.git("app", "fetch", "origin"))
			if got := requestCounts(w.auth); !maps.Equal(got, counts) {
				t.Errorf("fetch with the refreshed token made requests: %v, then %v", counts, got)
			}
		})
	}
}

// TestGitParallelFetchesRefreshOnce runs several git fetches at once on
// an access token whose stored expiry has passed, as `git submodule update
// --jobs` or parallel CI steps do: the helpers share the store, exactly one
// refreshes (refresh tokens are single-use), and every fetch succeeds with
// the one new token.
func TestGitParallelFetchesRefreshOnce(t *testing.T) {
	t.Parallel()
	const clones = 4
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	old := u.login(w.auth).Token
	repo := w.git.CreateRepo("team/app")
	u.setupGit(w.git.URL()+"/team/", w.auth.URL())
	for i := range clones {
		u.mustGit("", "clone", "--quiet", repo, fmt.Sprint("app", i))
	}
	u.expireStoredAccess(w.key())
	mark := len(w.git.Requests())

	type outcome struct {
		r   result
		err error
	}
	results := make(chan outcome, clones)
	for i := range clones {
		go func() {
			r, err := u.execErr(fmt.Sprint("app", i), "", "git", "fetch", "origin")
			results <- outcome{r, err}
		}()
	}
	for range clones {
		o := <-results
		if o.err != nil {
			t.Error(o.err)
		} else if o.r.code != 0 {
			t.Errorf("parallel fetch failed\n%v", o.r)
		}
	}
	if n := w.auth.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refreshes for %d parallel fetches, want exactly 1", n, clones)
	}
	fresh := w.stored()
	if fresh.AccessToken == old.AccessToken || !w.auth.Valid(fresh.AccessToken) {
		t.Fatalf("no new valid access token stored")
	}
	checkGitLog(t, "parallel fetches", w.git.Requests()[mark:], fresh.AccessToken, "/team/app.git/")
}

// TestGitNoTokenOutsideMatch checks the security boundary: a URL the
// helper does not answer for gets no credentials at all, neither from git's
// own URL scoping of `setup git` nor, with the helper configured for every
// URL and useHttpPath on, from the helper's matching (path prefixes on
// segment boundaries, exact host and port). The configured server sees our
// token only on its own repository.
func TestGitNoTokenOutsideMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// url returns the clone URL to try and the git server it reaches.
		url func(w *gitWorld) (string, *gitserver.Server)
	}{
		{"another server", func(w *gitWorld) (string, *gitserver.Server) {
			other := w.newGitServer()
			return other.CreateRepo("team/app"), other
		}},
		{"sibling prefix", func(w *gitWorld) (string, *gitserver.Server) {
			return w.git.CreateRepo("teamevil/x"), w.git
		}},
		{"prefix without slash", func(w *gitWorld) (string, *gitserver.Server) {
			return w.git.CreateRepo("team"), w.git
		}},
		{"parent path", func(w *gitWorld) (string, *gitserver.Server) {
			return w.git.CreateRepo("x"), w.git
		}},
		{"dot segments out of the prefix", func(w *gitWorld) (string, *gitserver.Server) {
			w.git.CreateRepo("teamevil/x")
			return w.git.URL() + "/team/../teamevil/x.git", w.git
		}},
		{"encoded dot segments out of the prefix", func(w *gitWorld) (string, *gitserver.Server) {
			// git decodes the path it gives helpers (path=team/../teamevil/x.git)
			// while curl sends %2e%2e as is, which servers and proxies
			// commonly decode and resolve to /teamevil/x.git.
			w.git.CreateRepo("teamevil/x")
			return w.git.URL() + "/team/%2e%2e/teamevil/x.git", w.git
		}},
		{"other host name", func(w *gitWorld) (string, *gitserver.Server) {
			w.git.CreateRepo("team/alias")
			return strings.Replace(w.git.URL(), "127.0.0.1", "localhost", 1) + "/team/alias.git", w.git
		}},
	}
	for _, global := range []bool{false, true} {
		for _, tt := range tests {
			name := tt.name + "/setup scope"
			if global {
				name = tt.name + "/helper for every URL"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				w := newGitWorld(t, pyauthserver.Options{})
				u := w.u
				access := u.login(w.auth).Token.AccessToken
				repo := w.git.CreateRepo("team/app")
				u.setupGit(w.git.URL()+"/team/", w.auth.URL())
				if global {
					u.mustGit("", "config", "--global", "credential.helper", "oidc")
					u.mustGit("", "config", "--global", "credential.useHttpPath", "true")
				}
				u.mustGit("", "clone", "--quiet", repo, "app")

				target, srv := tt.url(w)
				mark := len(srv.Requests())
				r := u.git("", "clone", target, "target")
				if r.code == 0 {
					t.Fatalf("clone of %s, which no config names, succeeded\n%v", target, r)
				}
				if !strings.Contains(r.stderr, "terminal prompts disabled") {
					t.Errorf("git got credentials from somewhere\n%v", r)
				}
				log := srv.Requests()[mark:]
				if len(log) == 0 {
					t.Fatalf("clone of %s reached no server", target)
				}
				for _, req := range log {
					if req.HadAuth {
						t.Errorf("%s %s carried credentials %q/%.8s…", req.Method, req.Path, req.Username, req.Password)
					}
				}
				if srv != w.git {
					checkGitLog(t, "configured server", w.git.Requests(), access, "/team/app.git/")
				} else {
					checkGitLog(t, "configured server", w.git.Requests()[:mark], access, "/team/app.git/")
				}
			})
		}
	}
}

// TestGitSetupUnset checks `setup git` and `setup git --unset`: setup is
// idempotent, a URL without a path needs no useHttpPath, and --unset
// removes exactly its own git config and config entry, so that the URL
// gets no token any more while the others still do.
func TestGitSetupUnset(t *testing.T) {
	t.Parallel()
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	u.login(w.auth)
	team := w.git.URL() + "/team/"
	other := w.newGitServer()
	teamRepo, otherRepo := w.git.CreateRepo("team/app"), other.CreateRepo("app")

	u.setupGit(team, w.auth.URL())
	u.setupGit(team, w.auth.URL())
	u.setupGit(other.URL(), w.auth.URL())
	want := []string{
		"credential." + team + ".helper oidc",
		"credential." + team + ".usehttppath true",
		"credential." + other.URL() + ".helper oidc",
	}
	slices.Sort(want)
	if got := u.credentialConfig(); !slices.Equal(got, want) {
		t.Errorf("global git config after setup twice and another setup:\n%q\nwant\n%q", got, want)
	}
	if got, want := u.configMatches(), []string{team + " → " + w.auth.URL(), other.URL() + " → " + w.auth.URL()}; !slices.Equal(got, want) {
		t.Errorf("config entries %q, want %q", got, want)
	}
	u.mustGit("", "clone", "--quiet", teamRepo, "team1")
	u.mustGit("", "clone", "--quiet", otherRepo, "other1")

	u.setupGit(team, w.auth.URL(), "--unset")
	if got, want := u.credentialConfig(), []string{"credential." + other.URL() + ".helper oidc"}; !slices.Equal(got, want) {
		t.Errorf("global git config after --unset of %s:\n%q\nwant\n%q", team, got, want)
	}
	if got, want := u.configMatches(), []string{other.URL() + " → " + w.auth.URL()}; !slices.Equal(got, want) {
		t.Errorf("config entries after --unset %q, want %q", got, want)
	}
	mark := len(w.git.Requests())
	if r := u.git("", "clone", "--quiet", teamRepo, "team2"); r.code == 0 {
		t.Errorf("clone of %s succeeded after --unset\n%v", teamRepo, r)
	}
	if sent := authedGitRequests(w.git.Requests()[mark:]); len(sent) != 0 {
		t.Errorf("credentials sent to %s after --unset: %d requests", team, len(sent))
	}
	u.mustGit("", "clone", "--quiet", otherRepo, "other2")

	u.setupGit(other.URL(), w.auth.URL(), "--unset")
	if r := u.git("", "config", "--global", "--get-regexp", "credential"); r.code != 1 || r.stdout != "" {
		t.Errorf("global git config after --unset of both: want no credential entry at all\n%v", r)
	}
	if got := u.configMatches(); len(got) != 0 {
		t.Errorf("config entries after --unset of both: %q, want none", got)
	}
}

// TestGitNoLoginNoTerminal checks what a batch job or a CI run sees with
// no usable login and no terminal: the helper prints nothing and says on
// stderr what to run, starts no login, and git fails promptly.
func TestGitNoLoginNoTerminal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare leaves the user without a usable token.
		prepare func(w *gitWorld)
	}{
		{"never logged in", func(w *gitWorld) {}},
		{"refresh rejected", func(w *gitWorld) {
			w.u.login(w.auth)
			w.auth.RevokeRefreshTokens()
			w.u.expireStoredAccess(w.key())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newGitWorld(t, pyauthserver.Options{})
			u := w.u
			repo := w.git.CreateRepo("team/app")
			u.setupGit(w.git.URL()+"/team/", w.auth.URL())
			tt.prepare(w)
			devices := w.auth.Count(pyauthserver.RouteDevice)

			r := u.exec("", "protocol=http\nhost="+gitHostField(w.git.URL())+"\npath=team/app.git\n\n", gitCredentialBin, "get")
			mustSucceed(t, r)
			if r.stdout != "" {
				t.Errorf("git-credential-oidc get without a token printed %q, want nothing", redactGitPasswords(r.stdout, ""))
			}
			if !strings.Contains(r.stderr, "oidc-auth login") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("git-credential-oidc get without a token: stderr %q, want one line saying to run oidc-auth login", r.stderr)
			}
			checkGitQuick(t, u, r, 5*time.Second)

			r = u.git("", "clone", repo, "app")
			if r.code == 0 {
				t.Fatalf("clone without a token succeeded\n%v", r)
			}
			if !strings.Contains(r.stderr, "terminal prompts disabled") {
				t.Errorf("git did not fall through to a prompt\n%v", r)
			}
			checkGitQuick(t, u, r, 5*time.Second)
			if sent := authedGitRequests(w.git.Requests()); len(sent) != 0 {
				t.Errorf("%d requests carried credentials:\n%s", len(sent), describeGitRequests(sent, ""))
			}
			if n := w.auth.Count(pyauthserver.RouteDevice); n != devices {
				t.Errorf("the helper started %d logins without a terminal", n-devices)
			}
		})
	}
}

// checkGitQuick fails the test when r took longer than bound, after
// subtracting what a trivial run of git takes right now on a busy machine.
func checkGitQuick(t *testing.T, u *gitUser, r result, bound time.Duration) {
	t.Helper()
	if r.elapsed <= bound {
		return
	}
	base := u.git("", "--version").elapsed
	if r.elapsed-base > bound {
		t.Errorf("%s took %v (a trivial git run takes %v now), want under %v", strings.Join(r.args, " "), r.elapsed, base, bound)
	}
}

// TestGitVersionUsed logs which git the end-to-end tests run, the one on
// PATH (CI runs them with the system's and with a current git).
func TestGitVersionUsed(t *testing.T) {
	t.Parallel()
	gitserver.RequireGit(t)
	path, err := exec.LookPath("git")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("git %v (%s); announces capability[]=authtype: %v", currentGit(t), path, authtypeGit(t))
}

// cloneFetchPush is the daily use of repository team/app of srv, cloned
// from repo into "app" with gitArgs before every command: a commit pushed,
// another one pushed from a second clone ("app-other"), and fetched into
// the first.
func (u *gitUser) cloneFetchPush(srv *gitserver.Server, repo string, gitArgs ...string) {
	u.t.Helper()
	const dir = "app"
	u.mustGit("", append(gitArgs, "clone", "--quiet", repo, dir)...)
	if b, err := os.ReadFile(filepath.Join(u.work, dir, gitserver.InitialFile)); err != nil || string(b) != "# team/app\n" {
		u.t.Errorf("clone has %s = %q, %v", gitserver.InitialFile, b, err)
	}
	head := u.commit(dir, "one.txt")
	u.mustGit(dir, append(gitArgs, "push", "--quiet", "origin", "main")...)
	if got := srv.Ref("team/app", "main"); got != head {
		u.t.Errorf("server's main after push = %q, want %q", got, head)
	}
	other := dir + "-other"
	u.mustGit("", append(gitArgs, "clone", "--quiet", repo, other)...)
	theirs := u.commit(other, "two.txt")
	u.mustGit(other, append(gitArgs, "push", "--quiet", "origin", "main")...)
	u.mustGit(dir, append(gitArgs, "fetch", "--quiet", "origin")...)
	if got := strings.TrimSpace(u.mustGit(dir, "rev-parse", "origin/main")); got != theirs {
		u.t.Errorf("origin/main after fetch = %q, want %q", got, theirs)
	}
}

// checkNoWaste fails the test when, since counts, the auth server saw a
// request (a refresh, a login), the stored access token changed, or git
// called our erase: a valid cached token serves every git command.
func (w *gitWorld) checkNoWaste(t *testing.T, counts map[string]int, access string, runs func(helper, action string) int) {
	t.Helper()
	if got := requestCounts(w.auth); !maps.Equal(got, counts) {
		t.Errorf("git with a cached token made requests to the auth server: %v, then %v", counts, got)
	}
	if n := w.auth.Count(pyauthserver.CountTokenRefresh); n != 0 {
		t.Errorf("%d refreshes, want 0", n)
	}
	if got := w.stored().AccessToken; got != access {
		t.Errorf("the stored access token changed during git")
	}
	if n := runs("oidc", "erase"); n != 0 {
		t.Errorf("git called our erase %d times, want 0", n)
	}
	if n := runs("oidc", "get"); n == 0 {
		t.Errorf("git never called our get")
	}
}

// TestGitServerKinds runs clone, push and fetch against each kind of git
// server with the git on PATH: the token goes as Basic password to a
// Basic server (a git 2.46+ that could take Bearer must not send it there),
// as Bearer credential to a server that challenges Bearer when git takes
// Bearer credentials, and never with a prompt, a refresh or an erase.
// git before 2.46 cannot send Bearer credentials at all: a Bearer-only
// server then refuses it.
func TestGitServerKinds(t *testing.T) {
	t.Parallel()
	authtype := authtypeGit(t)
	for _, kind := range serverKinds {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			w := newGitWorld(t, pyauthserver.Options{})
			srv := w.newGitServerOf(kind)
			u := w.u
			access := u.login(w.auth).Token.AccessToken
			repo := srv.CreateRepo("team/app")
			u.setupGit(srv.URL()+"/team/", w.auth.URL())
			runs := u.traceGit()
			counts := requestCounts(w.auth)

			scheme := kind.scheme(authtype)
			if scheme == "" {
				r := u.git("", "clone", "--quiet", repo, "app")
				if r.code == 0 || !strings.Contains(r.stderr, "Authentication failed") {
					t.Errorf("git %v cloned from a Bearer-only server\n%v", currentGit(t), r)
				}
				for _, req := range authedGitRequests(srv.Requests()) {
					if req.Scheme != "Basic" {
						t.Errorf("git %v sent %s credentials", currentGit(t), req.Scheme)
					}
				}
				return
			}
			u.cloneFetchPush(srv, repo)
			w.checkNoWaste(t, counts, access, runs)
			log := srv.Requests()
			checkGitLogAs(t, "git server", log, scheme, helper.DefaultUsername, access, "/team/app.git/")
			var pushed int
			for _, r := range authedGitRequests(log) {
				if r.Path == "/team/app.git/git-receive-pack" {
					pushed++
				}
			}
			if pushed != 2 {
				t.Errorf("%d pushes with the token, want 2:\n%s", pushed, describeGitRequests(log, access))
			}
		})
	}
}

// TestGitProactiveAuth runs git with http.proactiveAuth (git 2.46 and
// later), which asks the helpers before any challenge: "basic" passes
// git's own wwwauth[]=Basic, "auto" no challenge at all. The helper then
// answers Basic, or Bearer where the config entry says auth = "bearer", and
// git's first request already carries the token. An older git ignores the
// setting and asks after the server's 401.
func TestGitProactiveAuth(t *testing.T) {
	t.Parallel()
	authtype := authtypeGit(t)
	tests := []struct {
		proactive string
		kind      serverKind
		auth      string // the config entry's auth key
		scheme    string // the credentials git sends
	}{
		{"basic", basicServer, "", "Basic"},
		{"auto", basicServer, "", "Basic"},
		{"auto", dualServer, "", "Basic"},
		{"auto", bearerServer, helper.AuthBearer, "Bearer"},
		{"basic", bearerServer, helper.AuthBearer, "Bearer"},
		{"auto", dualServer, helper.AuthBearer, "Bearer"},
		{"basic", dualServer, helper.AuthBasic, "Basic"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/auth=%q", tt.proactive, tt.kind, tt.auth), func(t *testing.T) {
			t.Parallel()
			scheme := tt.scheme
			if !authtype {
				// No proactive auth, and no Bearer credentials.
				scheme = tt.kind.scheme(false)
				if scheme == "" {
					t.Skipf("git %v sends no Bearer credentials", currentGit(t))
				}
			}
			w := newGitWorld(t, pyauthserver.Options{})
			srv := w.newGitServerOf(tt.kind)
			u := w.u
			access := u.login(w.auth).Token.AccessToken
			repo := srv.CreateRepo("team/app")
			match := srv.URL() + "/team/"
			u.setupGit(match, w.auth.URL())
			if err := helper.AddServer(u.configPath(), helper.Server{Match: match, Host: w.auth.URL(), Auth: tt.auth}); err != nil {
				t.Fatal(err)
			}
			runs := u.traceGit()
			counts := requestCounts(w.auth)
			u.cloneFetchPush(srv, repo, "-c", "http.proactiveAuth="+tt.proactive)
			w.checkNoWaste(t, counts, access, runs)
			log := srv.Requests()
			checkGitLogAs(t, "git server", log, scheme, helper.DefaultUsername, access, "/team/app.git/")
			unauthorized := 0
			for _, r := range log {
				if r.Status == http.StatusUnauthorized {
					unauthorized++
				}
			}
			switch {
			case authtype && unauthorized != 0:
				t.Errorf("git %v with http.proactiveAuth=%s got %d challenges, want none:\n%s", currentGit(t), tt.proactive, unauthorized, describeGitRequests(log, access))
			case !authtype && unauthorized == 0:
				t.Errorf("git %v authenticated proactively", currentGit(t))
			}
		})
	}
}

// TestGitStorageHelperKeepsNothing puts a generic storage helper (store,
// cache) after ours, as a global credential.helper written after `setup
// git` is. git sends it "store" with the credential that worked; with git
// 2.46 and later our answer is ephemeral and has no password, so neither
// keeps our token. An older git has no such field: store then writes the
// token to ~/.git-credentials in clear text, which StorageHelpers (for
// setup and status) reports; see TestGitStorageHelpersDetected.
func TestGitStorageHelperKeepsNothing(t *testing.T) {
	t.Parallel()
	authtype := authtypeGit(t)
	for _, kind := range []serverKind{basicServer, dualServer} {
		for _, storage := range []string{"store", "cache"} {
			t.Run(kind.String()+"/"+storage, func(t *testing.T) {
				t.Parallel()
				w := newGitWorld(t, pyauthserver.Options{})
				srv := w.newGitServerOf(kind)
				u := w.u
				access := u.login(w.auth).Token.AccessToken
				repo := srv.CreateRepo("team/app")
				u.setupGit(srv.URL()+"/team/", w.auth.URL())
				value, helperName := "store", "store"
				var socket string
				if storage == "cache" {
					// A socket path must be short, in a private directory.
					dir, err := os.MkdirTemp("", "gcc")
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { os.RemoveAll(dir) })
					socket = filepath.Join(dir, "s")
					value, helperName = "cache --socket "+socket, "cache"
					t.Cleanup(func() { u.git("", "credential-cache", "--socket", socket, "exit") })
				}
				u.mustGit("", "config", "--global", "--add", "credential.helper", value)
				runs := u.traceGit()
				counts := requestCounts(w.auth)
				u.cloneFetchPush(srv, repo)
				w.checkNoWaste(t, counts, access, runs)
				if n := strings.Count(readTrace(t, u), "trace: run_command: 'git credential-"+helperName); n == 0 {
					t.Fatalf("git never ran the %s helper", storage)
				}
				// What the storage helper now hands out for the URL.
				var kept string
				switch storage {
				case "store":
					b, err := os.ReadFile(filepath.Join(u.home, ".git-credentials"))
					if err != nil && !errors.Is(err, os.ErrNotExist) {
						t.Fatal(err)
					}
					kept = string(b)
				case "cache":
					req := "protocol=http\nhost=" + gitHostField(srv.URL()) + "\n\n"
					kept = u.exec("", req, "git", "credential-cache", "--socket", socket, "get").stdout +
						u.exec("", "capability[]=authtype\n"+req, "git", "credential-cache", "--socket", socket, "get").stdout
				}
				has := strings.Contains(kept, access) || strings.Contains(kept, "credential=")
				switch {
				case authtype && has:
					t.Errorf("git %v: the %s helper kept our token:\n%s", currentGit(t), storage, redactGitPasswords(kept, access))
				case authtype && strings.TrimSpace(kept) != "":
					t.Errorf("git %v: the %s helper kept %q", currentGit(t), storage, redactGitPasswords(kept, access))
				case !authtype && !has:
					t.Errorf("git %v has no ephemeral answers, yet the %s helper kept nothing: %q", currentGit(t), storage, redactGitPasswords(kept, access))
				}
			})
		}
	}
}

// readTrace returns what traceGit collected so far.
func readTrace(t *testing.T, u *gitUser) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(u.dir, "git-trace.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGitStorageHelpersDetected checks helper.StorageHelpers, which setup
// and status call, against the config `setup git` writes plus a generic
// helper after it, and that the remedy it gives removes that helper and
// leaves ours. It points the test process's git at the user's config:
// no t.Parallel.
func TestGitStorageHelpersDetected(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the remedy is run with sh")
	}
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	u.login(w.auth)
	repo := w.git.CreateRepo("team/app")
	u.setupGit(w.git.URL()+"/team/", w.auth.URL())
	u.mustGit("", "config", "--global", "--add", "credential.helper", "store")
	for _, kv := range u.env() {
		name, value, _ := strings.Cut(kv, "=")
		if name == "HOME" || strings.HasPrefix(name, "GIT_CONFIG") {
			t.Setenv(name, value)
		}
	}
	t.Chdir(u.work)
	ctx := context.Background()
	found, err := helper.StorageHelpers(ctx, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != "store" || !found[0].AfterOurs || found[0].Scope != "global" || found[0].Origin != u.gitconfig || found[0].Remedy == "" {
		t.Fatalf("StorageHelpers(%s) = %+v, want store after ours in %s", repo, found, u.gitconfig)
	}
	t.Logf("remedy: %s", found[0].Remedy)
	r := u.exec("", "", "sh", "-c", found[0].Remedy)
	mustSucceed(t, r)
	if found, err := helper.StorageHelpers(ctx, repo); err != nil || len(found) != 0 {
		t.Errorf("after the remedy StorageHelpers = %+v, %v; want none", found, err)
	}
	list, err := helper.CredentialHelpers(ctx, repo)
	if err != nil || len(list) != 1 || !list[0].Ours {
		t.Errorf("after the remedy CredentialHelpers = %+v, %v; want ours only", list, err)
	}
	mustSucceed(t, u.git("", "clone", "--quiet", repo, "app"))
}

// TestGitUsernameInURL clones from a URL with a username, which git passes
// the helpers as username=: the answer keeps it, unless the config entry
// names a username itself.
func TestGitUsernameInURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		configUser string // the config entry's username
		want       string // the username the server sees
	}{
		{"kept", "", "alice"},
		{"config entry's username wins", "ci-bot", "ci-bot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newGitWorld(t, pyauthserver.Options{})
			srv := w.newGitServerFor(basicServer, tt.want)
			u := w.u
			access := u.login(w.auth).Token.AccessToken
			repo := strings.Replace(srv.CreateRepo("team/app"), "http://", "http://alice@", 1)
			match := srv.URL() + "/team/"
			u.setupGit(match, w.auth.URL())
			if tt.configUser != "" {
				if err := helper.AddServer(u.configPath(), helper.Server{Match: match, Host: w.auth.URL(), Username: tt.configUser}); err != nil {
					t.Fatal(err)
				}
			}
			runs := u.traceGit()
			counts := requestCounts(w.auth)
			u.cloneFetchPush(srv, repo)
			w.checkNoWaste(t, counts, access, runs)
			checkGitLogAs(t, "git server", srv.Requests(), "Basic", tt.want, access, "/team/app.git/")
		})
	}
}

// TestSetupAndStatusWarnOfStorageHelpers: `setup git` and `status` name a
// generic storage helper that git runs beside ours for a configured URL,
// with the command that removes it. store and cache are named only for a
// git that cannot mark our answer ephemeral (before 2.46); others always.
func TestSetupAndStatusWarnOfStorageHelpers(t *testing.T) {
	t.Parallel()
	gitserver.RequireGit(t)
	release, err := helper.GitVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	u.login(w.auth)
	match := w.git.URL() + "/team/"
	// A helper from the environment comes after every config file, so
	// after the helper list that setup writes.
	env := append(u.gitVars(), "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper", "GIT_CONFIG_VALUE_0=manager")
	r := u.runEnv(env, "setup", "git", match, "--host", w.auth.URL())
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, `credential helper "manager" after ours for `+match) {
		t.Errorf("setup git does not warn of manager:\n%s", r.stderr)
	}
	if st := u.runEnv(u.gitVars(), "status"); strings.Contains(st.stderr, "Warning:") {
		t.Errorf("status warns with ours as the only helper:\n%s", st.stderr)
	}
	u.mustGit("", "config", "--global", "--add", "credential."+match+".helper", "store")
	u.mustGit("", "config", "--global", "--add", "credential."+match+".helper", "manager")
	st := u.runEnv(u.gitVars(), "status")
	mustSucceed(t, st)
	if !strings.Contains(st.stderr, `credential helper "manager" after ours for `+match) || !strings.Contains(st.stderr, "To remove it: git config") {
		t.Errorf("status does not warn of manager:\n%s", st.stderr)
	}
	warnsStore := strings.Contains(st.stderr, `credential helper "store"`)
	if want := !release.AtLeast(2, 46); warnsStore != want {
		t.Errorf("git %s: status warns of store: %v, want %v:\n%s", release, warnsStore, want, st.stderr)
	}
}
