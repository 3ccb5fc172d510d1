// Package gitserver is a git smart-HTTP server for tests: `git http-backend`
// run through net/http/cgi behind HTTP authentication, listening on
// 127.0.0.1 only.
//
// With Options.Check set, a request with HTTP Basic credentials that Check
// accepts is served; with Options.CheckBearer set, a request with a Bearer
// token (RFC 6750 §2.1) that CheckBearer accepts is. Any other request,
// also one with credentials of the scheme the server does not take, is
// answered 401 Unauthorized with WWW-Authenticate challenges (RFC 9110
// §11.6.1): Basic realm="…" for a Basic-only server (RFC 7617 §2), Bearer
// realm="…" first for one that takes Bearer, or Options.Challenges. That is
// what makes git ask its credential helpers for credentials, passing the
// challenges on as wwwauth[] lines, and, when a retry with them is rejected
// again, call the helpers' "erase" (gitcredentials(7)). Each request is
// logged with the credentials it carried, so tests can assert which remote
// received which secret in which scheme. Chunked request bodies, which git
// sends for pushes larger than http.postBuffer and CGI cannot pass on, are
// buffered in memory (64 MiB at most).
//
// Each Server is independent and safe for concurrent use, so parallel tests
// may each start their own.
package gitserver

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// DefaultRealm is the realm of the Basic challenge when Options.Realm is empty.
const DefaultRealm = "gitserver"

// InitialBranch is the branch that holds the initial commit of every repository
// CreateRepo makes; it is also the repository's HEAD.
const InitialBranch = "main"

// InitialFile is the file of the initial commit of every repository; it
// holds "# NAME\n", NAME being the name given to CreateRepo.
const InitialFile = "README.md"

// maxBufferedBody bounds a chunked request body, which the server reads into
// memory because CGI cannot pass chunked bodies on.
const maxBufferedBody = 64 << 20

// Options configures a Server; the zero value serves every repository
// without authentication.
type Options struct {
	// Check decides whether the Basic credentials of a request are accepted.
	// Nil means Basic credentials are not taken (when CheckBearer is set)
	// or no authentication is required at all (when CheckBearer is nil
	// too): every request is served, whatever credentials it carries.
	// Check may be called concurrently.
	Check func(username, password string) bool
	// CheckBearer decides whether the Bearer token of a request is
	// accepted; nil means Bearer credentials are rejected like wrong ones,
	// as a Basic-only server does. CheckBearer may be called concurrently.
	CheckBearer func(token string) bool
	// Realm is the realm of the WWW-Authenticate challenges. Default DefaultRealm.
	Realm string
	// Challenges are the WWW-Authenticate fields of a 401, one field each
	// (a field may hold several challenges: `Bearer realm="x", Basic
	// realm="x"`). Default: `Bearer realm="REALM"` when CheckBearer is set,
	// then `Basic realm="REALM"` when Check is set.
	Challenges []string
}

// Request is one entry of the request log. Test-only: the password is kept
// in memory as the client sent it.
type Request struct {
	// Method is the HTTP method, GET or POST for git.
	Method string
	// Path is the URL path, e.g. /team/app.git/info/refs.
	Path string
	// Query is the raw query, e.g. service=git-upload-pack.
	Query string
	// Scheme is the auth-scheme of the Authorization field as sent
	// ("Basic", "Bearer"), "" without one.
	Scheme string
	// Username and Password are the Basic credentials, empty without them.
	Username, Password string
	// Token is the Bearer token, empty without one.
	Token string
	// HadAuth reports whether the request carried credentials: Basic ones
	// or a Bearer token.
	HadAuth bool
	// Status is the HTTP status of the answer.
	Status int
}

// Credential returns what the request authenticated with: the Basic
// password or the Bearer token, "" for neither.
func (r Request) Credential() string {
	if r.Token != "" {
		return r.Token
	}
	return r.Password
}

// Server is a git smart-HTTP server on 127.0.0.1 with a random port.
type Server struct {
	tb        testing.TB
	opts      Options
	root      string // GIT_PROJECT_ROOT
	home      string // HOME of every git the server runs
	gitGlobal string // GIT_CONFIG_GLOBAL of every git the server runs
	backend   string // path of git-http-backend
	ts        *httptest.Server
	base      string // http://127.0.0.1:port

	mu       sync.Mutex
	requests []Request
	repos    map[string]bool
}

// RequireToolsVariable names the environment variable that, set, makes a
// missing git a failure instead of a skip: where it is set (scripts/test),
// git was installed on purpose.
const RequireToolsVariable = "OIDC_AUTH_TEST_REQUIRE_TOOLS"

// RequireGit skips tb, saying why, when there is no git on PATH, or fails
// it when RequireToolsVariable is set.
func RequireGit(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("git"); err == nil {
		return
	}
	if os.Getenv(RequireToolsVariable) != "" {
		tb.Fatalf("no git on PATH, but %s is set (apt-get install git)", RequireToolsVariable)
	}
	tb.Skip("no git on PATH (apt-get install git; on Windows, Git for Windows): the test runs git and its http-backend")
}

// New starts a Server for tb; it is closed when tb's test ends. New skips
// tb when there is no git (see RequireGit), and fails it when
// git-http-backend cannot be found.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	RequireGit(tb)
	if opts.Realm == "" {
		opts.Realm = DefaultRealm
	}
	if opts.Challenges == nil {
		if opts.CheckBearer != nil {
			opts.Challenges = append(opts.Challenges, fmt.Sprintf("Bearer realm=%q", opts.Realm))
		}
		if opts.Check != nil {
			opts.Challenges = append(opts.Challenges, fmt.Sprintf("Basic realm=%q", opts.Realm))
		}
	}
	dir := tb.TempDir()
	s := &Server{
		tb:        tb,
		opts:      opts,
		root:      filepath.Join(dir, "repos"),
		home:      filepath.Join(dir, "home"),
		gitGlobal: filepath.Join(dir, "home", ".gitconfig"),
		repos:     map[string]bool{},
	}
	for _, d := range []string{s.root, s.home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			tb.Fatalf("gitserver: %v", err)
		}
	}
	if err := os.WriteFile(s.gitGlobal, nil, 0o600); err != nil {
		tb.Fatalf("gitserver: %v", err)
	}
	execPath, err := s.git("", nil, "--exec-path")
	if err != nil {
		tb.Fatalf("gitserver: %v", err)
	}
	s.backend = filepath.Join(strings.TrimSpace(execPath), "git-http-backend")
	if _, err := os.Stat(s.backend); err != nil {
		tb.Fatalf("gitserver: git-http-backend: %v", err)
	}

	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("gitserver: %v", err)
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.ts.Listener.Close()
	s.ts.Listener = l
	s.ts.Start()
	s.base = "http://" + l.Addr().String()
	tb.Cleanup(s.ts.Close)
	return s
}

// URL returns the base URL of the server, http://127.0.0.1:PORT, without a
// trailing slash.
func (s *Server) URL() string { return s.base }

// CreateRepo creates the bare repository name.git below the server's root,
// holding one commit on InitialBranch with InitialFile, accepting pushes
// (http.receivepack), and returns its clone URL URL()+"/"+name+".git". A
// name may have a path prefix: "team/app" is served at /team/app.git.
// CreateRepo fails the test for an unclean or duplicate name.
func (s *Server) CreateRepo(name string) string {
	s.tb.Helper()
	if name == "" || path.Clean(name) != name || path.IsAbs(name) || name == "." ||
		strings.HasPrefix(name, "../") || name == ".." || strings.HasSuffix(name, ".git") {
		s.tb.Fatalf("gitserver: bad repository name %q (want a clean relative path without .git)", name)
	}
	s.mu.Lock()
	dup := s.repos[name]
	s.repos[name] = true
	s.mu.Unlock()
	if dup {
		s.tb.Fatalf("gitserver: repository %q exists", name)
	}
	dir := s.RepoDir(name)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		s.tb.Fatalf("gitserver: %v", err)
	}
	steps := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"init", "--quiet", "--bare", "--initial-branch=" + InitialBranch, dir}},
		{"", []string{"--git-dir", dir, "config", "http.receivepack", "true"}},
	}
	for _, st := range steps {
		if _, err := s.git(st.stdin, nil, st.args...); err != nil {
			s.tb.Fatalf("gitserver: create %s: %v", name, err)
		}
	}
	blob, err := s.git("# "+name+"\n", nil, "--git-dir", dir, "hash-object", "-w", "--stdin")
	if err != nil {
		s.tb.Fatalf("gitserver: create %s: %v", name, err)
	}
	tree, err := s.git("100644 blob "+strings.TrimSpace(blob)+"\t"+InitialFile+"\n", nil, "--git-dir", dir, "mktree")
	if err != nil {
		s.tb.Fatalf("gitserver: create %s: %v", name, err)
	}
	commit, err := s.git("", commitEnv(), "--git-dir", dir, "commit-tree", "-m", "initial commit", strings.TrimSpace(tree))
	if err != nil {
		s.tb.Fatalf("gitserver: create %s: %v", name, err)
	}
	if _, err := s.git("", nil, "--git-dir", dir, "update-ref", "refs/heads/"+InitialBranch, strings.TrimSpace(commit)); err != nil {
		s.tb.Fatalf("gitserver: create %s: %v", name, err)
	}
	return s.base + "/" + name + ".git"
}

// commitEnv makes the initial commit the same in every run.
func commitEnv() []string {
	return []string{
		"GIT_AUTHOR_NAME=gitserver", "GIT_AUTHOR_EMAIL=gitserver@example.invalid", "GIT_AUTHOR_DATE=2024-01-01T00:00:00Z",
		"GIT_COMMITTER_NAME=gitserver", "GIT_COMMITTER_EMAIL=gitserver@example.invalid", "GIT_COMMITTER_DATE=2024-01-01T00:00:00Z",
	}
}

// RepoDir returns the directory of the bare repository name.git, for tests
// that inspect what a push stored.
func (s *Server) RepoDir(name string) string {
	return filepath.Join(s.root, filepath.FromSlash(name)+".git")
}

// Ref returns the commit id that ref (e.g. "refs/heads/main" or "main")
// names in repository name, or "" when there is no such ref.
func (s *Server) Ref(name, ref string) string {
	out, err := s.git("", nil, "--git-dir", s.RepoDir(name), "rev-parse", "--verify", "--quiet", ref+"^{commit}")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// Requests returns a copy of the request log, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// env is the environment of every git the server runs: the machine's
// without any GIT_ variable, with a private HOME, no system config and an
// empty global config.
func (s *Server) env(extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") || name == "HOME" || strings.HasPrefix(name, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"HOME="+s.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+s.gitGlobal,
		"GIT_TERMINAL_PROMPT=0",
	)
	return append(env, extra...)
}

// git runs git with args and returns its stdout.
func (s *Server) git(stdin string, extra []string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Env = s.env(extra)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// statusRecorder remembers the status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush passes flushes on, so that git's progress reaches the client.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// bearerToken returns the token of an Authorization field of the Bearer
// scheme (case-insensitive, RFC 6750 §2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, basic := r.BasicAuth()
	token, bearer := bearerToken(r)
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	rec := &statusRecorder{ResponseWriter: w}
	defer func() {
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.mu.Lock()
		s.requests = append(s.requests, Request{
			Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Scheme: scheme,
			Username: user, Password: pass, Token: token, HadAuth: basic || bearer, Status: rec.status,
		})
		s.mu.Unlock()
	}()

	guarded := s.opts.Check != nil || s.opts.CheckBearer != nil
	ok := !guarded ||
		basic && s.opts.Check != nil && s.opts.Check(user, pass) ||
		bearer && s.opts.CheckBearer != nil && s.opts.CheckBearer(token)
	if !ok {
		for _, c := range s.opts.Challenges {
			rec.Header().Add("WWW-Authenticate", c)
		}
		http.Error(rec, "authentication required", http.StatusUnauthorized)
		return
	}
	// The backend needs no credentials, only who is calling.
	r.Header.Del("Authorization")
	if len(r.TransferEncoding) > 0 {
		// CGI has no chunked bodies: git sends them for POSTs larger than
		// http.postBuffer.
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBufferedBody+1))
		if err != nil || len(body) > maxBufferedBody {
			http.Error(rec, "request body unreadable or too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.TransferEncoding = nil
	}
	env := []string{
		"GIT_PROJECT_ROOT=" + s.root,
		"GIT_HTTP_EXPORT_ALL=1",
		"HOME=" + s.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + s.gitGlobal,
	}
	switch {
	case basic && guarded:
		env = append(env, "REMOTE_USER="+user)
	case bearer && guarded:
		env = append(env, "REMOTE_USER=bearer")
	}
	h := &cgi.Handler{
		Path:   s.backend,
		Root:   "/",
		Env:    env,
		Logger: log.New(logWriter{s.tb}, "", 0),
		Stderr: logWriter{s.tb},
	}
	h.ServeHTTP(rec, r)
}

// logWriter passes the backend's stderr on to the test log.
type logWriter struct{ tb testing.TB }

func (w logWriter) Write(b []byte) (int, error) {
	w.tb.Logf("git-http-backend: %s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
