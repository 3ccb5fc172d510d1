// Command bench measures what oidc-auth costs the programs that start it,
// against the targets of BENCHMARKS.md, and prints a markdown report.
//
//	scripts/bench [--runs N] [--write FILE] [--profile] [--no-go-bench]
//
// scripts/bench installs the tools it needs and runs this program inside
// the private Secret Service of scripts/with-secret-service. The program
// builds what is checked out into a temporary directory, exactly as the
// README's install command builds it (CGO_ENABLED=0 go install -tags urfave_cli_no_docs ./cmd/...),
// plus a dynamically linked copy and a static hello-world program for
// reference rows; starts py-oidc-auth test servers on 127.0.0.1; logs in
// in a temporary home; and compares, each comparison side by side in one
// hyperfine run, whole-process medians against `git credential-store` and
// Debian's `docker-credential-secretservice`. The refresh storm, peak RSS
// and the Go benchmarks are measured here directly.
//
// The report goes to stdout; what the tools print for people (hyperfine's
// progress, build output) goes to stderr. No token is ever printed.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// Names the sandbox uses.
const (
	gitURL      = "https://git.example.org/team/"
	gitQuery    = "protocol=https\nhost=git.example.org\npath=team/app.git\n\n"
	registry    = "registry.example.org"
	username    = "oauth2"
	manyLogins  = 1000
	manyServers = 1000
	// refreshDelay is how long the storm's server takes to answer a
	// refresh, as a real provider's token endpoint does.
	refreshDelay = 300 * time.Millisecond
	stormSize    = 256
	rssLimitKiB  = 10 * 1024
)

// installTags are the build tags of the README's install command.
const installTags = "urfave_cli_no_docs"

// options are the command-line settings.
type options struct {
	runs     int
	warmup   int
	rounds   int
	write    string
	profile  bool
	noGoTest bool
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 35, "hyperfine runs per command in each round")
	flag.IntVar(&o.warmup, "warmup", 10, "hyperfine warm-up runs per command in each round")
	flag.IntVar(&o.rounds, "rounds", 9, "rounds of each comparison, in rotated order; a ratio is the median of the rounds'")
	flag.StringVar(&o.write, "write", "", "also write the report to this file")
	flag.BoolVar(&o.profile, "profile", false, "add the profile of one cached get (inittrace, perf stat, strace -c)")
	flag.BoolVar(&o.noGoTest, "no-go-bench", false, "leave out the Go benchmarks (go test -bench)")
	flag.Parse()
	ctx := context.Background()
	report, err := run(ctx, o)
	if report != "" {
		fmt.Print(report)
		if o.write != "" {
			if werr := os.WriteFile(o.write, []byte(report), 0o644); werr != nil && err == nil {
				err = werr
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// row is one line of the results table.
type row struct {
	what     string
	measured string
	target   string
	// verdict is "pass", "fail" or "" for a reference row without target.
	verdict string
}

// bench is one run of the harness.
type bench struct {
	ctx     context.Context
	o       options
	dir     string
	static  string // directory of the static build (the README's install)
	dyn     string // directory of the dynamic build
	hello   string // static hello-world binary
	minimal string // static binary of a main that writes with syscall alone
	root    string // module root
	rows    []row
	// loadStart is the load average when the run began.
	loadStart string
	detail    bytes.Buffer // hyperfine tables, storm figures, go test output
}

func (b *bench) add(what, measured, target string, pass *bool) {
	v := ""
	if pass != nil {
		v = "fail"
		if *pass {
			v = "pass"
		}
	}
	b.rows = append(b.rows, row{what, measured, target, v})
}

func ptr(v bool) *bool { return &v }

func run(ctx context.Context, o options) (string, error) {
	began := time.Now()
	dir, err := os.MkdirTemp("", "oidc-auth-bench-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	b := &bench{ctx: ctx, o: o, dir: dir, loadStart: loadAvg()}
	if err := b.build(); err != nil {
		return "", err
	}
	steps := []struct {
		name string
		f    func() error
	}{
		{"cached get", b.cached},
		{"keychain", b.keychain},
		{"refresh storm", b.storm},
	}
	if !o.noGoTest {
		steps = append(steps, struct {
			name string
			f    func() error
		}{"go benchmarks", b.goBench})
	}
	var failed []string
	for _, s := range steps {
		progress("== %s", s.name)
		if err := s.f(); err != nil {
			failed = append(failed, s.name)
			b.add(s.name, "error: "+err.Error(), "", ptr(false))
		}
	}
	var out bytes.Buffer
	b.writeReport(&out, time.Since(began))
	if len(failed) > 0 {
		return out.String(), fmt.Errorf("%s could not be measured (see the report)", strings.Join(failed, ", "))
	}
	return out.String(), nil
}

// progress tells the person running the harness what it does.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// build installs the commands statically (the README's install), again
// dynamically linked, a static hello world and a static minimal program.
func (b *bench) build() error {
	progress("== building")
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return fmt.Errorf("bench: run it inside the oidc-auth module (go env GOMOD: %v)", err)
	}
	b.root = filepath.Dir(strings.TrimSpace(string(out)))
	b.static = filepath.Join(b.dir, "static")
	b.dyn = filepath.Join(b.dir, "dynamic")
	for _, c := range []struct{ bin, cgo string }{{b.static, "0"}, {b.dyn, "1"}} {
		cmd := exec.CommandContext(b.ctx, "go", "install", "-tags", installTags, "./cmd/...")
		cmd.Dir = b.root
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+c.cgo, "GOBIN="+c.bin)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("bench: CGO_ENABLED=%s go install -tags %s ./cmd/...: %w", c.cgo, installTags, err)
		}
	}
	// Two reference programs: the floor of any Go program (one that
	// writes a line with syscall alone), and fmt's hello world.
	b.hello = filepath.Join(b.dir, "static-hello")
	b.minimal = filepath.Join(b.dir, "static-minimal")
	for _, p := range []struct{ name, bin, src string }{
		{"hello", b.hello, "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n"},
		{"minimal", b.minimal, "package main\n\nimport \"syscall\"\n\nfunc main() { syscall.Write(1, []byte(\"ok\\n\")) }\n"},
	} {
		src := filepath.Join(b.dir, p.name)
		if err := os.MkdirAll(src, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module "+p.name+"\n\ngo 1.26\n"), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(p.src), 0o600); err != nil {
			return err
		}
		cmd := exec.CommandContext(b.ctx, "go", "build", "-o", p.bin, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("bench: build the %s program: %w", p.name, err)
		}
	}
	return nil
}

// home is a sandboxed user with a login.
type home struct {
	dir    string
	env    []string // the environment of every command run as this user
	srv    *pyauthserver.Server
	hits   *atomic.Int64 // requests the server got
	config string        // config.toml
	tokens string        // the file store
	binDir string        // the binaries this user runs
}

// sandboxEnv is the caller's environment without anything that points at
// the real home, keychain, config, docker or git setup or a proxy, with
// dir's home instead and the file token store.
func sandboxEnv(dir string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if dropVariable(name) {
			continue
		}
		env = append(env, kv)
	}
	h := filepath.Join(dir, "home")
	return append(env,
		"HOME="+h,
		"XDG_CONFIG_HOME="+filepath.Join(h, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(h, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(h, ".local", "share"),
		"XDG_STATE_HOME="+filepath.Join(h, ".local", "state"),
		"OIDC_AUTH_STORE=file",
		"DOCKER_CONFIG="+filepath.Join(h, ".docker"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(h, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
	)
}

var (
	dropPrefixes = []string{"OIDC_", "XDG_", "DBUS_", "DOCKER_", "GIT_", "TESTBROWSER_", "HELM_", "KUBERNETES_", "GODEBUG"}
	dropNames    = []string{"HOME", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "REGISTRY_AUTH_FILE", "BEARER_TOKEN_FILE",
		"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}
)

func dropVariable(name string) bool {
	for _, p := range dropPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, n := range dropNames {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

// newHome starts a test server (its token answers delayed by delay) and
// logs a sandboxed user in to it, with git and docker set up; extra is
// added to the user's environment.
func (b *bench) newHome(name string, delay time.Duration, extra ...string) (*home, error) {
	d := filepath.Join(b.dir, name)
	h := &home{dir: d, hits: new(atomic.Int64), binDir: b.static}
	for _, p := range []string{filepath.Join(d, "home", ".config"), filepath.Join(d, "home", ".cache")} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return nil, err
		}
	}
	h.env = append(sandboxEnv(d), extra...)
	h.srv = pyauthserver.New(pyauthserver.Options{
		Prefix:     "/api/app",
		Interval:   1,
		AccessTTL:  time.Hour,
		RefreshTTL: 24 * time.Hour,
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				h.hits.Add(1)
				if delay > 0 && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/auth/v2/token") {
					time.Sleep(delay)
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	for _, args := range [][]string{
		{"login", h.srv.URL(), "--flow", "device"},
		{"setup", "git", gitURL, "--host", h.srv.URL()},
		{"setup", "docker", registry, "--host", h.srv.URL()},
	} {
		if out, err := b.runAs(h, nil, filepath.Join(b.static, "oidc-auth"), args...); err != nil {
			h.srv.Close()
			return nil, fmt.Errorf("bench: oidc-auth %s: %v\n%s", args[0], err, out)
		}
	}
	var err error
	if h.config, err = findFile(filepath.Join(d, "home", ".config"), "config.toml"); err != nil {
		h.srv.Close()
		return nil, err
	}
	h.tokens, _ = findFile(filepath.Join(d, "home", ".cache"), ".json")
	return h, nil
}

// findFile returns the one regular file below dir whose name ends in suffix.
func findFile(dir, suffix string) (string, error) {
	var found []string
	filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() && strings.HasSuffix(e.Name(), suffix) {
			found = append(found, p)
		}
		return nil
	})
	if len(found) != 1 {
		return "", fmt.Errorf("bench: expected one *%s below %s, found %q", suffix, dir, found)
	}
	return found[0], nil
}

// runAs runs bin as h's user, with stdin, and returns its combined output.
func (b *bench) runAs(h *home, stdin []byte, bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = h.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// stdout runs bin as h's user and returns its stdout alone.
func (b *bench) stdout(h *home, stdin []byte, bin string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(b.ctx, bin, args...)
	cmd.Env = h.env
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("bench: %s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out, nil
}

func (b *bench) write(name string, data []byte) (string, error) {
	p := filepath.Join(b.dir, name)
	return p, os.WriteFile(p, data, 0o600)
}

// execInfo is $KUBERNETES_EXEC_INFO as client-go's exec plugin runner
// writes it for an exec block of apiVersion v1 that may not interact.
const execInfo = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`

// cached measures the cached gets of the file store: against git
// credential-store, against each other, with many logins and servers, and
// their peak RSS.
func (b *bench) cached() error {
	h, err := b.newHome("file", 0)
	if err != nil {
		return err
	}
	defer h.srv.Close()
	git := filepath.Join(b.static, "git-credential-oidc")
	ans, err := b.stdout(h, []byte(gitQuery), git, "get")
	if err != nil {
		return err
	}
	if !bytes.Contains(ans, []byte("\npassword=")) {
		return errors.New("bench: git-credential-oidc get gave no password")
	}
	if h.tokens == "" {
		return errors.New("bench: the login left no token file")
	}
	gq, err := b.write("git-query", []byte(gitQuery))
	if err != nil {
		return err
	}
	dq, err := b.write("docker-query", []byte(registry))
	if err != nil {
		return err
	}
	// git credential-store's file holds a credential of the same host with
	// a password as long as the access token. Asked directly, as here, it
	// matches the query's path too (git credential fill would drop the
	// path first, unless credential.useHttpPath), so the line has it.
	pw := passwordLen(ans)
	store, err := b.write("git-credentials", []byte("https://"+username+":"+randomText(pw)+"@git.example.org/team/app.git\n"))
	if err != nil {
		return err
	}
	many, err := b.manyLogins(h.tokens)
	if err != nil {
		return err
	}
	manyCfg, err := b.manyServers(h.config)
	if err != nil {
		return err
	}
	before := h.hits.Load()

	// 1. against git credential-store
	res, err := b.hyperfine("cached get vs git credential-store", h.env, []cmdSpec{
		{"git credential-store get", "git credential-store --file " + store + " get < " + gq, "password="},
		{"git-credential-oidc get (static, README install)", git + " get < " + gq, "password="},
		{"git-credential-oidc get (dynamic, CGO_ENABLED=1)", filepath.Join(b.dyn, "git-credential-oidc") + " get < " + gq, "password="},
		{"static hello world", b.hello + " < " + gq, "hello"},
		{"static minimal Go program", b.minimal + " < " + gq, "ok"},
	})
	if err != nil {
		return err
	}
	b.ratioRow(res, 1, 0, "cached file-store `git-credential-oidc get` (static, as installed) / `git credential-store get`", 1.25)
	b.ratioRow(res, 2, 0, "the same, dynamic build (CGO_ENABLED=1) / `git credential-store get`", 0)
	b.ratioRow(res, 3, 0, "static hello world / `git credential-store get`", 0)
	b.ratioRow(res, 4, 0, "static minimal Go program (a line written with `syscall.Write`), the floor of any Go program / `git credential-store get`", 0)

	// 3. flat in the number of logins and servers
	res, err = b.hyperfine("1 vs 1,000 logins and servers", h.env, []cmdSpec{
		{"get, 1 login, 1 server", "OIDC_TOKEN_FILE=" + h.tokens + " OIDC_AUTH_CONFIG=" + h.config + " " + git + " get < " + gq, "password="},
		{fmt.Sprintf("get, %d logins", manyLogins), "OIDC_TOKEN_FILE=" + many + " OIDC_AUTH_CONFIG=" + h.config + " " + git + " get < " + gq, "password="},
		{fmt.Sprintf("get, %d [[server]] entries", manyServers), "OIDC_TOKEN_FILE=" + h.tokens + " OIDC_AUTH_CONFIG=" + manyCfg + " " + git + " get < " + gq, "password="},
	})
	if err != nil {
		return err
	}
	b.ratioRow(res, 1, 0, fmt.Sprintf("cached get with %d logins in the file store (%.1f MB, v1 format) / with 1", manyLogins, fileMB(many)), 1.5)
	b.ratioRow(res, 2, 0, fmt.Sprintf("cached get with %d `[[server]]` entries / with 1", manyServers), 1.5)

	// 2. the other entry points, against the git helper
	res, err = b.hyperfine("token, docker get and kubectl vs the git helper", h.env, []cmdSpec{
		{"git-credential-oidc get", git + " get < " + gq, "password="},
		{"oidc-auth token HOST", filepath.Join(b.static, "oidc-auth") + " token " + h.srv.URL() + " < /dev/null", ""},
		{"docker-credential-oidc get", filepath.Join(b.static, "docker-credential-oidc") + " get < " + dq, `"Secret"`},
		// As kubectl runs it: client-go's exec information in the environment.
		{"oidc-auth kubectl HOST", "KUBERNETES_EXEC_INFO='" + execInfo + "' " + filepath.Join(b.static, "oidc-auth") + " kubectl " + h.srv.URL() + " < /dev/null", "ExecCredential"},
	})
	if err != nil {
		return err
	}
	b.ratioRow(res, 1, 0, "cached `oidc-auth token HOST` / `git-credential-oidc get` (file store)", 1.1)
	b.ratioRow(res, 2, 0, "cached `docker-credential-oidc get` / `git-credential-oidc get` (file store)", 1.1)
	b.ratioRow(res, 3, 0, "cached `oidc-auth kubectl HOST` (kubectl's exec plugin) / `git-credential-oidc get` (file store)", 0)

	// 5. peak RSS
	rss, err := b.peakRSS(h, []byte(gitQuery), git, "get")
	if err != nil {
		return err
	}
	b.add("peak RSS of a cached `git-credential-oidc get` (static; largest of 20, /usr/bin/time)", fmt.Sprintf("%.1f MiB", float64(rss)/1024), "≤ 10 MiB", ptr(rss <= rssLimitKiB))
	if rss, err = b.peakRSS(h, nil, b.hello); err != nil {
		return err
	}
	b.add("peak RSS of the static hello world (the same way)", fmt.Sprintf("%.1f MiB", float64(rss)/1024), "reference", nil)

	// 6. no request on the cached paths
	n := h.hits.Load() - before
	b.add("requests to the server during all cached runs (git, docker, token, kubectl)", strconv.FormatInt(n, 10), "0", ptr(n == 0))

	if b.o.profile {
		b.profileGet(h, git, gq)
	}
	return nil
}

// fileMB is the size of the file at p in MB.
func fileMB(p string) float64 {
	fi, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return float64(fi.Size()) / 1e6
}

// passwordLen is the length of the password line of a git helper answer.
func passwordLen(ans []byte) int {
	for _, l := range strings.Split(string(ans), "\n") {
		if v, ok := strings.CutPrefix(l, "password="); ok {
			return len(v)
		}
	}
	return 0
}

// randomText is n characters of URL-safe base64.
func randomText(n int) string {
	raw := make([]byte, n)
	rand.Read(raw)
	return base64.RawURLEncoding.EncodeToString(raw)[:n]
}

// jwtLike is a token of about 1 KB shaped like a signed JWT.
func jwtLike() string {
	return randomText(36) + "." + randomText(760) + "." + randomText(342)
}

// manyLogins writes a copy of the file store with the login of tokens and
// manyLogins-1 more logins of other servers, in the reference v1 layout
// ({"https://host": {"token": {…}, "stored_at": …}}, keyed by scheme and
// host as the store keys them), each with a ~1 KB
// JWT-like access token and a refresh token. The real login comes last.
func (b *bench) manyLogins(tokens string) (string, error) {
	raw, err := os.ReadFile(tokens)
	if err != nil {
		return "", err
	}
	var own map[string]json.RawMessage
	if err := json.Unmarshal(raw, &own); err != nil || len(own) != 1 {
		return "", fmt.Errorf("bench: the token file is not a v1 file with one login (%v)", err)
	}
	now := time.Now()
	var buf bytes.Buffer
	buf.WriteString("{")
	for i := 1; i < manyLogins; i++ {
		rec := map[string]any{
			"token": map[string]any{
				"access_token":    jwtLike(),
				"token_type":      "Bearer",
				"expires":         now.Add(time.Hour).Unix(),
				"refresh_token":   jwtLike(),
				"refresh_expires": now.Add(24 * time.Hour).Unix(),
				"scope":           pyauthserver.Scope,
			},
			"stored_at": float64(now.UnixMicro()) / 1e6,
		}
		v, _ := json.Marshal(rec)
		k, _ := json.Marshal(fmt.Sprintf("https://auth-%04d.example.org", i))
		fmt.Fprintf(&buf, "%s: %s, ", k, v)
	}
	for k, v := range own {
		kj, _ := json.Marshal(k)
		fmt.Fprintf(&buf, "%s: %s", kj, v)
	}
	buf.WriteString("}")
	// the result must be what the store reads
	var check map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &check); err != nil || len(check) != manyLogins {
		return "", fmt.Errorf("bench: the %d-login file came out wrong (%v)", manyLogins, err)
	}
	p := filepath.Join(filepath.Dir(tokens), "many-logins.json")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// manyServers writes a copy of config with manyServers-1 [[server]] tables
// of other hosts before its own.
func (b *bench) manyServers(config string) (string, error) {
	raw, err := os.ReadFile(config)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	for i := 1; i < manyServers; i++ {
		fmt.Fprintf(&buf, "[[server]]\nmatch = \"https://git-%04d.example.org/\"\nhost = \"https://auth-%04d.example.org/api/app\"\n\n", i, i)
	}
	buf.Write(raw)
	p := filepath.Join(filepath.Dir(config), "many-servers.toml")
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// keychain compares docker-credential-oidc's keychain get with Debian's
// docker-credential-secretservice on the same Secret Service.
func (b *bench) keychain() error {
	bus := os.Getenv("DBUS_SESSION_BUS_ADDRESS")
	if bus == "" {
		return errors.New("bench: no D-Bus session; run it as scripts/bench, inside scripts/with-secret-service")
	}
	theirs, err := exec.LookPath("docker-credential-secretservice")
	if err != nil {
		return errors.New("bench: docker-credential-secretservice is missing (apt-get install golang-docker-credential-helpers)")
	}
	h, err := b.newHome("keychain", 0, "OIDC_AUTH_STORE=keychain", "DBUS_SESSION_BUS_ADDRESS="+bus)
	if err != nil {
		return err
	}
	defer h.srv.Close()
	docker := filepath.Join(b.static, "docker-credential-oidc")
	ans, err := b.stdout(h, []byte(registry), docker, "get")
	if err != nil {
		return err
	}
	var cred struct{ Username, Secret string }
	if err := json.Unmarshal(ans, &cred); err != nil || cred.Secret == "" {
		return fmt.Errorf("bench: docker-credential-oidc get gave no secret (%v)", err)
	}
	if h.tokens != "" {
		return fmt.Errorf("bench: the keychain login wrote the file %s", h.tokens)
	}
	item, _ := json.Marshal(map[string]string{"ServerURL": "https://" + registry, "Username": username, "Secret": randomText(len(cred.Secret))})
	if out, err := b.runAs(h, item, theirs, "store"); err != nil {
		return fmt.Errorf("bench: docker-credential-secretservice store: %v: %s", err, out)
	}
	q, err := b.write("registry-url", []byte("https://"+registry))
	if err != nil {
		return err
	}
	dq, err := b.write("docker-query-keychain", []byte(registry))
	if err != nil {
		return err
	}
	if out, err := b.stdout(h, []byte("https://"+registry), theirs, "get"); err != nil || !bytes.Contains(out, []byte(`"Secret"`)) {
		return fmt.Errorf("bench: docker-credential-secretservice get: %v", err)
	}
	before := h.hits.Load()
	res, err := b.hyperfine("keychain get vs docker-credential-secretservice", h.env, []cmdSpec{
		{"docker-credential-secretservice get", theirs + " get < " + q, `"Secret"`},
		{"docker-credential-oidc get (keychain)", docker + " get < " + dq, `"Secret"`},
	})
	if err != nil {
		return err
	}
	b.ratioRow(res, 1, 0, "keychain `docker-credential-oidc get` / `docker-credential-secretservice get`, same keyring", 0.5)
	n := h.hits.Load() - before
	b.add("requests to the server during the keychain runs", strconv.FormatInt(n, 10), "0", ptr(n == 0))
	return nil
}

// storm runs stormSize concurrent gets on an expired token with single-use
// refresh tokens, against a single one.
func (b *bench) storm() error {
	h, err := b.newHome("storm", refreshDelay)
	if err != nil {
		return err
	}
	defer h.srv.Close()
	if h.tokens == "" {
		return errors.New("bench: the login left no token file")
	}
	git := filepath.Join(b.static, "git-credential-oidc")
	round := func(n int, expired bool) (wall time.Duration, refreshes, ok int, err error) {
		if expired {
			if err := expire(b.ctx, h.tokens); err != nil {
				return 0, 0, 0, err
			}
		}
		before := h.srv.Count(pyauthserver.CountTokenRefresh)
		var wg sync.WaitGroup
		var good atomic.Int64
		var firstErr error
		var mu sync.Mutex
		cmds := make([]*exec.Cmd, n)
		outs := make([]*bytes.Buffer, n)
		for i := range cmds {
			cmds[i] = exec.CommandContext(b.ctx, git, "get")
			cmds[i].Env = h.env
			cmds[i].Stdin = strings.NewReader(gitQuery)
			outs[i] = new(bytes.Buffer)
			cmds[i].Stdout = outs[i]
		}
		start := time.Now()
		for i, c := range cmds {
			if err := c.Start(); err != nil {
				return 0, 0, 0, fmt.Errorf("bench: start get #%d: %w", i, err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := c.Wait()
				if err == nil && bytes.Contains(outs[i].Bytes(), []byte("\npassword=")) {
					good.Add(1)
					return
				}
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("get #%d: %v", i, err)
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		wall = time.Since(start)
		if firstErr != nil {
			progress("refresh storm: %v", firstErr)
		}
		return wall, h.srv.Count(pyauthserver.CountTokenRefresh) - before, int(good.Load()), nil
	}
	var singles, storms, cached []time.Duration
	maxRefresh, minRefresh, minOK := 0, math.MaxInt, stormSize
	for range 3 {
		w, r, ok, err := round(1, true)
		if err != nil {
			return err
		}
		if r != 1 || ok != 1 {
			return fmt.Errorf("bench: a single get on an expired token made %d refreshes and %d successes", r, ok)
		}
		singles = append(singles, w)
		w, r, ok, err = round(stormSize, true)
		if err != nil {
			return err
		}
		storms = append(storms, w)
		maxRefresh, minRefresh, minOK = max(maxRefresh, r), min(minRefresh, r), min(minOK, ok)
		// the same number of gets on the valid token the storm left:
		// what starting the processes alone costs
		w, r, ok, err = round(stormSize, false)
		if err != nil {
			return err
		}
		if r != 0 || ok != stormSize {
			return fmt.Errorf("bench: %d cached gets made %d refreshes and %d successes", stormSize, r, ok)
		}
		cached = append(cached, w)
	}
	single, many := medianDur(singles), medianDur(storms)
	refreshes := strconv.Itoa(minRefresh)
	if minRefresh != maxRefresh {
		refreshes = fmt.Sprintf("%d–%d", minRefresh, maxRefresh)
	}
	b.add(fmt.Sprintf("refresh storm: refresh requests of %d concurrent gets on an expired token (3 rounds)", stormSize), refreshes, "exactly 1", ptr(minRefresh == 1 && maxRefresh == 1))
	b.add("refresh storm: successful gets (fewest of 3 rounds)", fmt.Sprintf("%d", minOK), strconv.Itoa(stormSize), ptr(minOK == stormSize))
	ratio := float64(many) / float64(single)
	b.add(fmt.Sprintf("refresh storm: wall time of %d gets / of 1 get (medians of 3: %s / %s)", stormSize, ms(many), ms(single)),
		fmt.Sprintf("%.2f×", ratio), "< 2×", ptr(ratio < 2))
	fmt.Fprintf(&b.detail, "### Refresh storm\n\nServer: pyauthserver in passthrough mode (single-use, rotating refresh tokens), every token answer delayed by %s as a real provider's would be. Before each round the stored access token is made expired (its refresh token stays valid); the round then starts the gets at once and waits for the last.\n\n| round | 1 get | %d gets | %d cached gets |\n|---|---|---|---|\n", refreshDelay, stormSize, stormSize)
	for i := range singles {
		fmt.Fprintf(&b.detail, "| %d | %s | %s | %s |\n", i+1, ms(singles[i]), ms(storms[i]), ms(cached[i]))
	}
	fmt.Fprintf(&b.detail, "\nThe same %d gets on a valid token (no refresh, process start and store read alone) took %s (median of 3): the floor of the storm on this machine.\n\n", stormSize, ms(medianDur(cached)))
	b.add(fmt.Sprintf("%d concurrent cached gets (valid token, no refresh) / 1 refreshing get", stormSize),
		fmt.Sprintf("%.2f× (%s)", float64(medianDur(cached))/float64(single), ms(medianDur(cached))), "reference", nil)
	return nil
}

// expire makes the stored access token of the file store's one login
// expired, keeping its refresh token.
func expire(ctx context.Context, path string) error {
	fs := &keyring.FileStore{Path: path}
	list, err := fs.List(ctx)
	if err != nil || len(list) != 1 {
		return fmt.Errorf("bench: the storm's token file must hold one login (%v)", err)
	}
	rec := list[0].Record
	rec.Token.Expires = time.Now().Add(-time.Hour).Unix()
	return fs.Put(ctx, list[0].Key, &rec)
}

func medianDur(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }

// peakRSS runs bin args 20 times under /usr/bin/time and returns the
// largest peak RSS in KiB. (The rusage of a child this program starts
// itself would count this program's own RSS: Go starts children with
// vfork, and the kernel keeps the high-water mark across exec.)
func (b *bench) peakRSS(h *home, stdin []byte, bin string, args ...string) (int64, error) {
	timer, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		return 0, errors.New("bench: /usr/bin/time is missing (apt-get install time)")
	}
	out := filepath.Join(b.dir, "rss")
	var peak int64
	for range 20 {
		cmd := exec.CommandContext(b.ctx, timer, append([]string{"-f", "%M", "-o", out, bin}, args...)...)
		cmd.Env = h.env
		cmd.Stdin = bytes.NewReader(stdin)
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("bench: %s for the RSS: %w", filepath.Base(bin), err)
		}
		raw, err := os.ReadFile(out)
		if err != nil {
			return 0, err
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: /usr/bin/time said %q", raw)
		}
		peak = max(peak, kib)
	}
	return peak, nil
}

// cmdSpec is one command of a hyperfine run: its name, its shell command
// line, and what its answer must contain (every answer must be non-empty).
type cmdSpec struct{ name, shell, expect string }

// result is one command's figures from hyperfine's JSON, in seconds.
type result struct {
	Command string    `json:"command"`
	Mean    float64   `json:"mean"`
	Stddev  float64   `json:"stddev"`
	Median  float64   `json:"median"`
	User    float64   `json:"user"`
	System  float64   `json:"system"`
	Times   []float64 `json:"times"`
	// Rounds are the command's medians, one per round of the comparison
	// (see bench.hyperfine).
	Rounds []float64 `json:"-"`
}

// hyperfine runs the commands side by side in one hyperfine run, in env,
// through hyperfine's default shell (whose spawn time it subtracts).
func (b *bench) hyperfine(title string, env []string, cmds []cmdSpec) ([]result, error) {
	progress("-- %s", title)
	// Each command must answer before it is timed: a helper that finds
	// nothing exits quickly, and would look fast.
	for _, c := range cmds {
		cmd := exec.CommandContext(b.ctx, "sh", "-c", c.shell)
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil || len(bytes.TrimSpace(out)) == 0 || !bytes.Contains(out, []byte(c.expect)) {
			return nil, fmt.Errorf("bench: %s gave no answer (%v); it must answer before it is timed", c.name, err)
		}
	}
	// hyperfine times each command's runs one after the other, so what
	// drifts on the machine meanwhile (another process, the CPU's clock)
	// lands on one side of a ratio. Several rounds, each in another order
	// of the commands, and the median of the rounds' ratios, cancel most
	// of it.
	merged := make([]result, len(cmds))
	for round := range b.o.rounds {
		order := make([]int, len(cmds))
		for i := range order {
			order[i] = (i + round) % len(cmds)
		}
		js := filepath.Join(b.dir, "hyperfine.json")
		md := filepath.Join(b.dir, "hyperfine.md")
		args := []string{"--warmup", strconv.Itoa(b.o.warmup), "--runs", strconv.Itoa(b.o.runs), "--style", "basic",
			"--export-json", js, "--export-markdown", md}
		for _, i := range order {
			args = append(args, "--command-name", cmds[i].name)
		}
		for _, i := range order {
			args = append(args, cmds[i].shell)
		}
		cmd := exec.CommandContext(b.ctx, "hyperfine", args...)
		cmd.Env = env
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("bench: hyperfine (%s): %w", title, err)
		}
		raw, err := os.ReadFile(js)
		if err != nil {
			return nil, err
		}
		var doc struct{ Results []result }
		if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Results) != len(cmds) {
			return nil, fmt.Errorf("bench: hyperfine's JSON: %v", err)
		}
		for k, i := range order {
			r, m := doc.Results[k], &merged[i]
			m.Command = r.Command
			m.Rounds = append(m.Rounds, r.Median)
			m.Times = append(m.Times, r.Times...)
			m.User += r.User / float64(b.o.rounds)
			m.System += r.System / float64(b.o.rounds)
		}
		if round == 0 {
			table, _ := os.ReadFile(md)
			fmt.Fprintf(&b.detail, "### %s\n\nhyperfine's table of round 1 of %d:\n\n%s\n", title, b.o.rounds, table)
		}
	}
	for i := range merged {
		m := &merged[i]
		m.Median = median(m.Times)
		for _, t := range m.Times {
			m.Mean += t / float64(len(m.Times))
		}
		for _, t := range m.Times {
			m.Stddev += (t - m.Mean) * (t - m.Mean) / float64(max(len(m.Times)-1, 1))
		}
		m.Stddev = math.Sqrt(m.Stddev)
	}
	b.roundsTable(cmds, merged)
	return merged, nil
}

// roundsTable writes the median of each command in each round, and the
// spread of all its runs, to the details: what the ratios are taken from.
func (b *bench) roundsTable(cmds []cmdSpec, res []result) {
	fmt.Fprintf(&b.detail, "Medians of each round (ms), the commands in a rotated order:\n\n| round |")
	for _, c := range cmds {
		fmt.Fprintf(&b.detail, " `%s` |", c.name)
	}
	b.detail.WriteString("\n|---|")
	for range cmds {
		b.detail.WriteString("---|")
	}
	for round := range b.o.rounds {
		fmt.Fprintf(&b.detail, "\n| %d |", round+1)
		for _, r := range res {
			if round < len(r.Rounds) {
				fmt.Fprintf(&b.detail, " %.2f |", r.Rounds[round]*1e3)
			}
		}
	}
	b.detail.WriteString("\n| all runs: median (min … max) |")
	for _, r := range res {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, t := range r.Times {
			lo, hi = min(lo, t), max(hi, t)
		}
		fmt.Fprintf(&b.detail, " %.2f (%.2f … %.2f) |", r.Median*1e3, lo*1e3, hi*1e3)
	}
	b.detail.WriteString("\n\n")
}

// ratioRow adds the row of res[i]/res[ref]: the ratio of medians, with
// hyperfine's relative figure (ratio of means ± its propagated error)
// beside it; limit 0 makes a reference row without target.
func (b *bench) ratioRow(res []result, i, ref int, what string, limit float64) {
	a, r := res[i], res[ref]
	var ratios []float64
	for k := range min(len(a.Rounds), len(r.Rounds)) {
		ratios = append(ratios, a.Rounds[k]/r.Rounds[k])
	}
	ratio := median(ratios)
	rel := a.Mean / r.Mean
	relErr := rel * math.Sqrt(math.Pow(a.Stddev/a.Mean, 2)+math.Pow(r.Stddev/r.Mean, 2))
	measured := fmt.Sprintf("%.2f× (%.2f / %.2f ms; rounds %s; hyperfine %.2f ± %.2f", ratio, a.Median*1e3, r.Median*1e3, joinRatios(ratios), rel, relErr)
	if cpu := r.User + r.System; cpu > 0 {
		measured += fmt.Sprintf("; CPU %.2f×", (a.User+a.System)/cpu)
	}
	measured += ")"
	if limit == 0 {
		b.add(what, measured, "reference", nil)
		return
	}
	b.add(what, measured, fmt.Sprintf("≤ %g×", limit), ptr(ratio <= limit))
}

// joinRatios writes each round's ratio.
func joinRatios(rs []float64) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%.2f", r)
	}
	return strings.Join(parts, " ")
}

// goBench runs the Go benchmarks of every package that has some.
func (b *bench) goBench() error {
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{.Dir}} {{join .TestGoFiles \",\"}},{{join .XTestGoFiles \",\"}}", "./...").Output()
	if err != nil {
		return fmt.Errorf("bench: go list: %w", err)
	}
	var pkgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) < 3 {
			continue
		}
		for _, t := range strings.Split(f[2], ",") {
			src, _ := os.ReadFile(filepath.Join(f[1], t))
			if t != "" && bytes.Contains(src, []byte("\nfunc Benchmark")) {
				pkgs = append(pkgs, f[0])
				break
			}
		}
	}
	if len(pkgs) == 0 {
		return errors.New("bench: no package has Go benchmarks")
	}
	args := append([]string{"test", "-run", "XXX", "-bench", ".", "-benchmem", "-benchtime", "100x", "-count", "1"}, pkgs...)
	progress("$ go %s", strings.Join(args, " "))
	cmd := exec.CommandContext(b.ctx, "go", args...)
	cmd.Dir = b.root
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(&buf, os.Stderr)
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	fmt.Fprintf(&b.detail, "### Go benchmarks\n\n`go %s`\n\n```\n%s```\n\n", strings.Join(args, " "), benchLines(buf.String()))
	if err != nil {
		return fmt.Errorf("bench: go test -bench: %w", err)
	}
	b.add("Go benchmarks (`go test -bench . -benchmem`) of "+strings.Join(shortNames(pkgs), ", "), "all ran; figures below", "", nil)
	return nil
}

// benchLines keeps the lines of go test's output that are results.
func benchLines(s string) string {
	var keep strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "ok ") || strings.HasPrefix(l, "pkg: ") || strings.HasPrefix(l, "FAIL") || strings.HasPrefix(l, "--- ") {
			keep.WriteString(l)
		}
	}
	return keep.String()
}

func shortNames(pkgs []string) []string {
	var s []string
	for _, p := range pkgs {
		s = append(s, strings.TrimPrefix(p, "github.com/oidc-auth/oidc-auth/"))
	}
	return s
}

// measuringArgs are args without --write and its file, which change
// where the report goes and not what it measures.
func measuringArgs(args []string) []string {
	var keep []string
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		switch {
		case a == "write":
			i++
		case strings.HasPrefix(a, "write="):
		default:
			keep = append(keep, args[i])
		}
	}
	return keep
}

// loadAvg is the 1-minute load average, or "" where there is none.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// machine describes where the figures come from.
func machine() string {
	cpu := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	gov, _ := exec.Command("go", "version").Output()
	hv, _ := exec.Command("hyperfine", "--version").Output()
	gv, _ := exec.Command("git", "--version").Output()
	return fmt.Sprintf("%s, %d cores, Linux %s, %s, %s, %s", cpu, runtime.NumCPU(),
		strings.TrimSpace(string(kernel)), strings.TrimSpace(string(gov)), strings.TrimSpace(string(hv)), strings.TrimSpace(string(gv)))
}

func (b *bench) writeReport(w io.Writer, took time.Duration) {
	rev, _ := exec.Command("git", "-C", b.root, "rev-parse", "--short", "HEAD").Output()
	dirty, _ := exec.Command("git", "-C", b.root, "status", "--porcelain", "--untracked-files=no").Output()
	state := strings.TrimSpace(string(rev))
	if len(bytes.TrimSpace(dirty)) > 0 {
		state += " with uncommitted changes"
	}
	fmt.Fprintf(w, "## Results\n\n")
	fmt.Fprintf(w, "- Date: %s\n- Machine: %s\n- Commit: %s\n- Command: `scripts/bench %s` (took %.0f s)\n",
		time.Now().UTC().Format("2006-01-02 15:04 UTC"), machine(), state, strings.Join(measuringArgs(os.Args[1:]), " "), took.Seconds())
	if b.loadStart != "" {
		fmt.Fprintf(w, "- Load average (1 min) at the start and the end: %s and %s", b.loadStart, loadAvg())
		if l, err := strconv.ParseFloat(b.loadStart, 64); err == nil && l > float64(runtime.NumCPU()) {
			fmt.Fprintf(w, ". **The machine was busy (more runnable processes than cores): the figures are not reliable; run again on a quiet machine.**")
		}
		fmt.Fprintf(w, "\n")
	}
	fmt.Fprintf(w, "\n| target | measured | goal | result |\n|---|---|---|---|\n")
	for _, r := range b.rows {
		v := r.verdict
		switch v {
		case "pass":
			v = "pass"
		case "fail":
			v = "**FAIL**"
		default:
			v = "—"
		}
		goal := r.target
		if goal == "" {
			goal = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", r.what, strings.ReplaceAll(r.measured, "|", `\|`), goal, v)
	}
	fmt.Fprintf(w, "\nA ratio is the median of %d rounds' ratios of whole-process medians, each round one hyperfine run of the commands compared, in a rotated order (--warmup %d --runs %d, default shell, whose spawn time hyperfine subtracts); \"rounds\" lists the rounds' ratios; the milliseconds are the medians of all rounds' runs; \"hyperfine a ± e\" is the ratio of means with its propagated error; \"CPU\" is the ratio of mean user+system time, which a busy machine disturbs less than wall time.\n\n", b.o.rounds, b.o.warmup, b.o.runs)
	fmt.Fprintf(w, "## Details\n\n%s", b.detail.String())
}

// median is the middle of xs (the mean of the two middle ones for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
