package gitserver_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
)

// gitClient runs a plain git isolated from the machine's configuration.
type gitClient struct {
	t   *testing.T
	dir string
	env []string
}

func newGitClient(t *testing.T) *gitClient {
	t.Helper()
	gitserver.RequireGit(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	global := filepath.Join(dir, "gitconfig")
	if err := os.WriteFile(global, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || strings.HasPrefix(name, "XDG_") || name == "HOME" || name == "SSH_ASKPASS" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+global,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.invalid",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.invalid",
	)
	return &gitClient{t: t, dir: dir, env: env}
}

// run runs git in dir (relative to the client's directory) and returns its
// combined output and whether it succeeded.
func (g *gitClient) run(dir string, args ...string) (string, bool) {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Env = g.env
	cmd.Dir = filepath.Join(g.dir, dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err == nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		g.t.Fatalf("git %s hangs:\n%s", strings.Join(args, " "), out.String())
		return "", false
	}
}

// must runs git and fails the test unless it succeeds.
func (g *gitClient) must(dir string, args ...string) string {
	g.t.Helper()
	out, ok := g.run(dir, args...)
	if !ok {
		g.t.Fatalf("git %s failed:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// helperConfig is a -c credential.helper that answers username u, password p.
func helperConfig(user, pass string) string {
	return "credential.helper=!f(){ echo username=" + user + "; echo password=" + pass + "; }; f"
}

// loggingHelperConfig is helperConfig with a helper that also appends the
// action git calls it with (get, store, erase) to the file log.
func loggingHelperConfig(log, user, pass string) string {
	return "credential.helper=!f(){ echo $1 >>'" + log + "'; test $1 = get || exit 0; echo username=" + user + "; echo password=" + pass + "; }; f"
}

// helperActions returns the actions a logging helper was called with.
func helperActions(t *testing.T, log string) []string {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func accept(user, pass string) func(string, string) bool {
	return func(u, p string) bool { return u == user && p == pass }
}

// authed returns the requests of log that carried credentials.
func authed(log []gitserver.Request) []gitserver.Request {
	var out []gitserver.Request
	for _, r := range log {
		if r.HadAuth {
			out = append(out, r)
		}
	}
	return out
}

func TestCloneAndPush(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		repo  string
		opts  gitserver.Options
		clone func(u string) (url string, extra []string)
		// wantUser and wantPass are the credentials every authenticated
		// request must carry; "" means no request carries any.
		wantUser, wantPass string
	}{
		{
			name: "helper",
			repo: "app",
			opts: gitserver.Options{Check: accept("u", "p")},
			clone: func(u string) (string, []string) {
				return u, []string{"-c", helperConfig("u", "p")}
			},
			wantUser: "u", wantPass: "p",
		},
		{
			name: "credentials in URL",
			repo: "team/app",
			opts: gitserver.Options{Check: accept("alice", "s3cret"), Realm: "team"},
			clone: func(u string) (string, []string) {
				v, _ := url.Parse(u)
				v.User = url.UserPassword("alice", "s3cret")
				return v.String(), nil
			},
			wantUser: "alice", wantPass: "s3cret",
		},
		{
			name: "no auth required",
			repo: "deep/er/open",
			opts: gitserver.Options{},
			clone: func(u string) (string, []string) {
				return u, nil
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gitserver.New(t, tt.opts)
			repoURL := srv.CreateRepo(tt.repo)
			if want := srv.URL() + "/" + tt.repo + ".git"; repoURL != want {
				t.Errorf("CreateRepo(%q) = %q, want %q", tt.repo, repoURL, want)
			}
			if !strings.HasPrefix(repoURL, "http://127.0.0.1:") {
				t.Errorf("URL %q is not on 127.0.0.1", repoURL)
			}
			initial := srv.Ref(tt.repo, gitserver.InitialBranch)
			if len(initial) != 40 {
				t.Fatalf("Ref(%q, main) = %q, want a commit id", tt.repo, initial)
			}

			g := newGitClient(t)
			cloneURL, extra := tt.clone(repoURL)
			g.must("", append(extra, "clone", "--quiet", cloneURL, "wt")...)
			if b, err := os.ReadFile(filepath.Join(g.dir, "wt", gitserver.InitialFile)); err != nil || string(b) != "# "+tt.repo+"\n" {
				t.Errorf("cloned %s = %q, %v", gitserver.InitialFile, b, err)
			}
			if head := strings.TrimSpace(g.must("wt", "rev-parse", "HEAD")); head != initial {
				t.Errorf("cloned HEAD %s, server's main %s", head, initial)
			}

			if err := os.WriteFile(filepath.Join(g.dir, "wt", "new.txt"), []byte("new\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			g.must("wt", "add", "new.txt")
			g.must("wt", "commit", "--quiet", "-m", "new")
			g.must("wt", append(extra, "push", "--quiet", "origin", "main")...)
			pushed := strings.TrimSpace(g.must("wt", "rev-parse", "HEAD"))
			if got := srv.Ref(tt.repo, "main"); got != pushed {
				t.Errorf("server's main after push = %s, want %s", got, pushed)
			}

			log := srv.Requests()
			var sawReceive bool
			for _, r := range log {
				if !strings.HasPrefix(r.Path, "/"+tt.repo+".git/") {
					t.Errorf("request to %s, outside the repository", r.Path)
				}
				if r.Path == "/"+tt.repo+".git/git-receive-pack" && r.Method == http.MethodPost && r.Status == http.StatusOK {
					sawReceive = true
				}
				switch {
				case tt.opts.Check == nil && r.Status != http.StatusOK:
					t.Errorf("open server answered %+v", r)
				case tt.opts.Check != nil && !r.HadAuth && r.Status != http.StatusUnauthorized:
					t.Errorf("request without credentials answered %d: %+v", r.Status, r)
				case r.HadAuth && (r.Username != tt.wantUser || r.Password != tt.wantPass || r.Status != http.StatusOK):
					t.Errorf("request %+v, want credentials %s:%s and 200", r, tt.wantUser, tt.wantPass)
				}
			}
			if !sawReceive {
				t.Errorf("no successful POST git-receive-pack in %+v", log)
			}
			if n := len(authed(log)); (tt.wantUser != "") != (n > 0) {
				t.Errorf("%d requests with credentials, want some: %v", n, tt.wantUser != "")
			}
		})
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		user, pass string
		helper     bool
	}{
		{"bad password", "u", "wrong", true},
		{"bad username", "x", "p", true},
		{"no credentials", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gitserver.New(t, gitserver.Options{Check: accept("u", "p"), Realm: "the realm"})
			repoURL := srv.CreateRepo("app")
			g := newGitClient(t)
			helperLog := filepath.Join(g.dir, "helper.log")
			var config []string
			if tt.helper {
				config = []string{"-c", loggingHelperConfig(helperLog, tt.user, tt.pass)}
			}
			out, ok := g.run("", append(config, "clone", "--quiet", repoURL, "wt")...)
			if ok {
				t.Fatalf("clone succeeded with %v:\n%s", config, out)
			}
			log := srv.Requests()
			if len(log) == 0 {
				t.Fatal("no requests logged")
			}
			for _, r := range log {
				if r.Status != http.StatusUnauthorized {
					t.Errorf("request %+v not answered 401", r)
				}
				if r.Method != http.MethodGet || r.Path != "/app.git/info/refs" || r.Query != "service=git-upload-pack" {
					t.Errorf("request %+v, want only GET /app.git/info/refs?service=git-upload-pack", r)
				}
			}
			if !tt.helper {
				if len(authed(log)) != 0 {
					t.Errorf("credentials sent without a helper: %+v", log)
				}
				if !strings.Contains(out, "terminal prompts disabled") {
					t.Errorf("git did not try to prompt:\n%s", out)
				}
				return
			}
			a := authed(log)
			if len(a) == 0 {
				t.Fatalf("git never sent the helper's credentials: %+v", log)
			}
			for _, r := range a {
				if r.Username != tt.user || r.Password != tt.pass {
					t.Errorf("request %+v, want the helper's %s:%s", r, tt.user, tt.pass)
				}
			}
			// A rejection after credentials makes git erase them.
			if got, want := helperActions(t, helperLog), []string{"get", "erase"}; !slices.Equal(got, want) {
				t.Errorf("helper called with %v, want %v", got, want)
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		realm     string
		user      string
		pass      string
		setAuth   bool
		wantCode  int
		wantRealm string
	}{
		{"no credentials", "", "", "", false, http.StatusUnauthorized, `Basic realm="` + gitserver.DefaultRealm + `"`},
		{"wrong", "git realm", "u", "x", true, http.StatusUnauthorized, `Basic realm="git realm"`},
		{"right", "git realm", "u", "p", true, http.StatusOK, ""},
		{"empty password", "git realm", "u", "", true, http.StatusUnauthorized, `Basic realm="git realm"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gitserver.New(t, gitserver.Options{Check: accept("u", "p"), Realm: tt.realm})
			srv.CreateRepo("app")
			req, err := http.NewRequest(http.MethodGet, srv.URL()+"/app.git/info/refs?service=git-upload-pack", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.setAuth {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tt.wantRealm {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantRealm)
			}
			if tt.wantCode == http.StatusOK {
				if ct := resp.Header.Get("Content-Type"); ct != "application/x-git-upload-pack-advertisement" {
					t.Errorf("Content-Type %q, want the smart-HTTP advertisement", ct)
				}
			}
			want := []gitserver.Request{{
				Method: http.MethodGet, Path: "/app.git/info/refs", Query: "service=git-upload-pack",
				Username: tt.user, Password: tt.pass, HadAuth: tt.setAuth, Status: tt.wantCode,
			}}
			if tt.setAuth {
				want[0].Scheme = "Basic"
			}
			if got := srv.Requests(); !slices.Equal(got, want) {
				t.Errorf("Requests() = %+v, want %+v", got, want)
			}
		})
	}
}

// TestSchemes checks which credentials each kind of server takes, and the
// challenges it answers the others with.
func TestSchemes(t *testing.T) {
	t.Parallel()
	token := func(tok string) func(string) bool { return func(s string) bool { return s == tok } }
	basicOnly := gitserver.Options{Check: accept("u", "p"), Realm: "git"}
	bearerOnly := gitserver.Options{CheckBearer: token("tok"), Realm: "git"}
	both := gitserver.Options{Check: accept("u", "p"), CheckBearer: token("tok"), Realm: "git"}
	listed := gitserver.Options{CheckBearer: token("tok"), Challenges: []string{`Bearer realm="git", Basic realm="git"`}}
	tests := []struct {
		name       string
		opts       gitserver.Options
		auth       string // the Authorization field, "" for none
		wantCode   int
		wantChalls []string
		want       gitserver.Request // the logged credentials
	}{
		{"Basic-only, no credentials", basicOnly, "", 401, []string{`Basic realm="git"`}, gitserver.Request{}},
		{"Basic-only, Basic", basicOnly, "Basic dTpw", 200, nil, gitserver.Request{Scheme: "Basic", Username: "u", Password: "p", HadAuth: true}},
		{"Basic-only, Bearer of a good token", basicOnly, "Bearer tok", 401, []string{`Basic realm="git"`}, gitserver.Request{Scheme: "Bearer", Token: "tok", HadAuth: true}},
		{"Basic-only, the token as Basic password", basicOnly, "Basic dTp0b2s=", 401, []string{`Basic realm="git"`}, gitserver.Request{Scheme: "Basic", Username: "u", Password: "tok", HadAuth: true}},
		{"Bearer-only, no credentials", bearerOnly, "", 401, []string{`Bearer realm="git"`}, gitserver.Request{}},
		{"Bearer-only, Bearer", bearerOnly, "Bearer tok", 200, nil, gitserver.Request{Scheme: "Bearer", Token: "tok", HadAuth: true}},
		{"Bearer-only, bearer in lower case", bearerOnly, "bearer  tok", 200, nil, gitserver.Request{Scheme: "bearer", Token: "tok", HadAuth: true}},
		{"Bearer-only, wrong token", bearerOnly, "Bearer nope", 401, []string{`Bearer realm="git"`}, gitserver.Request{Scheme: "Bearer", Token: "nope", HadAuth: true}},
		{"Bearer-only, Basic", bearerOnly, "Basic dTpw", 401, []string{`Bearer realm="git"`}, gitserver.Request{Scheme: "Basic", Username: "u", Password: "p", HadAuth: true}},
		{"Bearer-only, empty Bearer", bearerOnly, "Bearer ", 401, []string{`Bearer realm="git"`}, gitserver.Request{Scheme: "Bearer"}},
		{"both, no credentials", both, "", 401, []string{`Bearer realm="git"`, `Basic realm="git"`}, gitserver.Request{}},
		{"both, Basic", both, "Basic dTpw", 200, nil, gitserver.Request{Scheme: "Basic", Username: "u", Password: "p", HadAuth: true}},
		{"both, Bearer", both, "Bearer tok", 200, nil, gitserver.Request{Scheme: "Bearer", Token: "tok", HadAuth: true}},
		{"Basic listed but not taken", listed, "Basic dTp0b2s=", 401, []string{`Bearer realm="git", Basic realm="git"`}, gitserver.Request{Scheme: "Basic", Username: "u", Password: "tok", HadAuth: true}},
		{"Basic listed, Bearer taken", listed, "Bearer tok", 200, nil, gitserver.Request{Scheme: "Bearer", Token: "tok", HadAuth: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := gitserver.New(t, tt.opts)
			srv.CreateRepo("app")
			req, err := http.NewRequest(http.MethodGet, srv.URL()+"/app.git/info/refs?service=git-upload-pack", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.wantCode)
			}
			if got := resp.Header.Values("WWW-Authenticate"); !slices.Equal(got, tt.wantChalls) {
				t.Errorf("WWW-Authenticate %q, want %q", got, tt.wantChalls)
			}
			want := tt.want
			want.Method, want.Path, want.Query, want.Status = http.MethodGet, "/app.git/info/refs", "service=git-upload-pack", tt.wantCode
			if got := srv.Requests(); !slices.Equal(got, []gitserver.Request{want}) {
				t.Errorf("Requests() = %+v, want %+v", got, want)
			}
		})
	}
}

// TestBearerClone clones and pushes through a Bearer-only server with a
// helper that answers a Bearer credential, which git 2.46 and later take.
func TestBearerClone(t *testing.T) {
	t.Parallel()
	g := newGitClient(t)
	v := g.must("", "--version")
	var major, minor int
	if _, err := fmt.Sscanf(v, "git version %d.%d", &major, &minor); err != nil {
		t.Fatalf("git --version: %q: %v", v, err)
	}
	if major < 2 || major == 2 && minor < 46 {
		t.Skipf("%s takes no Bearer credential from helpers (git 2.46 and later do)", strings.TrimSpace(v))
	}
	srv := gitserver.New(t, gitserver.Options{CheckBearer: func(tok string) bool { return tok == "tok" }})
	repoURL := srv.CreateRepo("app")
	cfg := []string{"-c", "credential.helper=!f(){ test $1 = get || exit 0; echo capability[]=authtype; echo authtype=Bearer; echo credential=tok; }; f"}
	g.must("", append(cfg, "clone", "--quiet", repoURL, "wt")...)
	if err := os.WriteFile(filepath.Join(g.dir, "wt", "new.txt"), []byte("new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.must("wt", "add", "new.txt")
	g.must("wt", "commit", "--quiet", "-m", "new")
	g.must("wt", append(cfg, "push", "--quiet", "origin", "main")...)
	a := authed(srv.Requests())
	if len(a) == 0 {
		t.Fatal("no request carried credentials")
	}
	for _, r := range a {
		if r.Scheme != "Bearer" || r.Token != "tok" || r.Credential() != "tok" || r.Status != http.StatusOK {
			t.Errorf("request %+v, want Bearer tok answered 200", r)
		}
	}
}

// TestChunkedPush pushes more than http.postBuffer, which git sends as a
// chunked body that CGI cannot take as is.
func TestChunkedPush(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{Check: accept("u", "p")})
	repoURL := srv.CreateRepo("big")
	g := newGitClient(t)
	cfg := []string{"-c", helperConfig("u", "p")}
	g.must("", append(cfg, "clone", "--quiet", repoURL, "wt")...)
	// The smallest buffer git takes is LARGE_PACKET_MAX (65520).
	cfg = append(cfg, "-c", "http.postBuffer=65536")
	blob := make([]byte, 512<<10)
	rand.Read(blob)
	if err := os.WriteFile(filepath.Join(g.dir, "wt", "blob.bin"), blob, 0o600); err != nil {
		t.Fatal(err)
	}
	g.must("wt", "add", "blob.bin")
	g.must("wt", "commit", "--quiet", "-m", "blob")
	g.must("wt", append(cfg, "push", "--quiet", "origin", "main")...)
	if got, want := srv.Ref("big", "main"), strings.TrimSpace(g.must("wt", "rev-parse", "HEAD")); got != want {
		t.Errorf("server's main = %s, want %s", got, want)
	}
}

func TestRepoNotFound(t *testing.T) {
	t.Parallel()
	srv := gitserver.New(t, gitserver.Options{})
	srv.CreateRepo("app")
	g := newGitClient(t)
	if out, ok := g.run("", "clone", "--quiet", srv.URL()+"/other.git", "wt"); ok {
		t.Fatalf("clone of a missing repository succeeded:\n%s", out)
	}
	if got := srv.Ref("app", "refs/heads/nope"); got != "" {
		t.Errorf("Ref of a missing branch = %q, want empty", got)
	}
	for _, r := range srv.Requests() {
		if r.Status != http.StatusNotFound {
			t.Errorf("request %+v, want 404", r)
		}
	}
}

// fatalTB records a Fatalf instead of failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestCreateRepoBadName(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "/abs", "../up", "a/../b", "a//b", "x.git", ".", "trail/", "dup"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ftb := &fatalTB{TB: t}
			fs := gitserver.New(ftb, gitserver.Options{})
			fs.CreateRepo("dup")
			done := make(chan string)
			go func() {
				defer func() { done <- ftb.msg }()
				fs.CreateRepo(name)
			}()
			if msg := <-done; msg == "" {
				t.Errorf("CreateRepo(%q) did not fail", name)
			}
		})
	}
}
