// Command demo shows the whole of oidc-auth on this machine, with no outside
// server and nothing of the user's touched: in a temporary home it builds
// oidc-auth, git-credential-oidc, docker-credential-oidc and the
// oidc-auth-core they hand over to, starts a
// py-oidc-auth test server and a git smart-HTTP server on 127.0.0.1, logs in
// by device flow, clones a repository through git-credential-oidc with no
// prompt, asks docker-credential-oidc for a registry's credentials, shows
// `oidc-auth status`, and removes everything again, also after Ctrl-C.
//
//	go run ./integration/demo
//
// What the programs write for people (the login screen, git's progress) goes
// to the demo's stderr as it is, so a terminal shows what a person would see;
// the demo's own headings and the commands it runs go to stdout. No token is
// ever printed: the docker helper's answer is shown with its secret masked.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// module is the import path the binaries are built from.
const module = "github.com/oidc-auth/oidc-auth"

// Names of what the demo sets up.
const (
	repoName = "team/app"
	registry = "registry.example.org"
	username = "oauth2"
)

// timeout bounds the whole demo.
const timeout = 2 * time.Minute

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, os.Stdout, os.Stderr)
	interrupted := ctx.Err() != nil
	stop()
	switch {
	case interrupted:
		fmt.Fprintln(os.Stderr, "demo: interrupted; servers stopped and temporary files removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

// report is what a run of the demo leaves for its test.
type report struct {
	// Dir is the temporary directory the demo worked in; it is gone when
	// run returns.
	Dir string
	// Issued are the secrets the test servers handed out: every access and
	// refresh token and device code.
	Issued []string
}

// demo is one run: where it writes, the sandbox it works in, and the
// servers it started.
type demo struct {
	ctx    context.Context
	stdout io.Writer // headings and commands
	stderr io.Writer // what the programs tell people
	dir    string
	bin    string
	home   string
	work   string
	env    []string
	auth   *pyauthserver.Server
	git    *gitserver.Server
	issued *issuedSecrets
}

// run performs the demo, writing headings to stdout and the programs' own
// output to stderr, and cleans up before it returns, whatever happened.
func run(ctx context.Context, stdout, stderr io.Writer) (rep report, err error) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dir, err := os.MkdirTemp("", "oidc-auth-demo-")
	if err != nil {
		return rep, err
	}
	rep.Dir = dir
	d := &demo{
		ctx:    ctx,
		stdout: stdout,
		stderr: stderr,
		dir:    dir,
		bin:    filepath.Join(dir, "bin"),
		home:   filepath.Join(dir, "home"),
		work:   filepath.Join(dir, "work"),
		issued: &issuedSecrets{},
	}
	tb := &serverTB{dir: dir, log: stderr}
	defer func() {
		d.heading("Cleaning up")
		if d.auth != nil {
			d.auth.Close()
		}
		tb.cleanup()
		rmErr := os.RemoveAll(dir)
		if rmErr == nil {
			fmt.Fprintf(stdout, "Servers stopped, %s removed.\n", dir)
		}
		if err == nil && rmErr == nil {
			fmt.Fprintf(stdout, "\nDone in %.1f s: one login, then git and docker got the token with no prompt.\n", time.Since(began).Seconds())
		}
		rep.Issued = d.issued.list()
		if err == nil {
			err = rmErr
		}
	}()
	for _, step := range []func() error{d.build, func() error { return d.start(tb) }, d.login, d.setupGit, d.clone, d.docker, d.status} {
		if err := step(); err != nil {
			if ctx.Err() != nil {
				return rep, fmt.Errorf("%w (%v)", ctx.Err(), err)
			}
			return rep, err
		}
	}
	return rep, nil
}

// heading starts a step.
func (d *demo) heading(title string) {
	fmt.Fprintf(d.stdout, "\n== %s\n", title)
}

// say prints an explanation.
func (d *demo) say(format string, args ...any) {
	fmt.Fprintf(d.stdout, format+"\n", args...)
}

// build compiles the four binaries with the caller's environment, so that
// the go build cache is the usual one.
func (d *demo) build() error {
	d.heading("Building oidc-auth, git-credential-oidc, docker-credential-oidc and oidc-auth-core")
	for _, p := range []string{d.bin, d.home, d.work} {
		if err := os.MkdirAll(p, 0o700); err != nil {
			return err
		}
	}
	d.say("$ go build -o %s%c %s/cmd/...", d.bin, filepath.Separator, module)
	cmd := exec.CommandContext(d.ctx, "go", "build", "-o", d.bin+string(filepath.Separator), module+"/cmd/...")
	cmd.Stdout, cmd.Stderr = d.stderr, d.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	d.env = d.environ()
	return nil
}

// environ is the environment of every program the demo runs: the caller's
// without anything that points at the real home, keychain, config, docker
// or git setup, a browser or a batch job, with the sandbox's home, XDG
// directories, docker config and git config instead, the file token store,
// and the fresh binaries first on PATH, where git and docker look for
// their helpers.
func (d *demo) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if dropVariable(name) {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+d.bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+d.home,
		"USERPROFILE="+d.home,
		"XDG_CONFIG_HOME="+filepath.Join(d.home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(d.home, ".cache"),
		"XDG_DATA_HOME="+filepath.Join(d.home, ".local", "share"),
		"XDG_STATE_HOME="+filepath.Join(d.home, ".local", "state"),
		"OIDC_AUTH_STORE=file",
		"DOCKER_CONFIG="+filepath.Join(d.home, ".docker"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL="+filepath.Join(d.home, ".gitconfig"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
	)
}

// dropPrefixes and dropNames are the variables environ leaves out.
var (
	dropPrefixes = []string{"OIDC_", "XDG_", "DBUS_", "DOCKER_", "GIT_", "TESTBROWSER_", "HELM_",
		"SLURM_", "PBS_", "SGE_", "LSB_", "OAR_", "OMPI_", "PMI_", "MPI_", "KUBERNETES_", "FREVA_", "JUPYTERHUB_"}
	dropNames = []string{"HOME", "USERPROFILE", "BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "REGISTRY_AUTH_FILE",
		"JOB_ID", "PE_HOSTFILE", "GOCOVERDIR",
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

// start starts the py-oidc-auth test server and a git server that accepts
// exactly the access tokens the auth server issued and has not expired.
func (d *demo) start(tb *serverTB) error {
	d.heading("Starting a py-oidc-auth test server and a git server on 127.0.0.1")
	d.auth = pyauthserver.New(pyauthserver.Options{
		Prefix:     "/api/app",
		Interval:   1,
		AccessTTL:  time.Hour,
		RefreshTTL: 24 * time.Hour,
		Wrap:       d.issued.record,
	})
	valid := d.auth.Valid
	g, err := tb.run(func() *gitserver.Server {
		g := gitserver.New(tb, gitserver.Options{
			Realm:       "git",
			Check:       func(user, password string) bool { return user == username && valid(password) },
			CheckBearer: valid,
		})
		g.CreateRepo(repoName)
		return g
	})
	if err != nil {
		return err
	}
	d.git = g
	d.say("auth server: %s (the server URL is all a client needs)", d.auth.URL())
	d.say("git server:  %s, which lets in only the auth server's access tokens", g.URL())
	return nil
}

// login runs the device-flow login as a person would.
func (d *demo) login() error {
	d.heading("Logging in by device flow")
	d.say("A person would open the URL below and enter the code; this test server")
	d.say("approves the code by itself at the first poll, about a second later.")
	return d.oidcAuth("login", d.auth.URL(), "--flow", "device")
}

// setupGit makes git ask git-credential-oidc for the git server.
func (d *demo) setupGit() error {
	d.heading("Making git ask oidc-auth for " + d.git.URL())
	return d.oidcAuth("setup", "git", d.git.URL()+"/", "--host", d.auth.URL())
}

// clone clones the repository with git, which runs git-credential-oidc,
// and shows a file of the clone.
func (d *demo) clone() error {
	d.heading("Cloning through git-credential-oidc, with no prompt")
	url := d.git.URL() + "/" + repoName + ".git"
	if err := d.show(d.work, "git", "clone", url); err != nil {
		return err
	}
	file := filepath.Join(d.work, filepath.Base(repoName), gitserver.InitialFile)
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("the clone has no %s: %w", gitserver.InitialFile, err)
	}
	d.say("$ cat %s/%s", filepath.Base(repoName), gitserver.InitialFile)
	fmt.Fprint(d.stdout, string(b))
	return nil
}

// docker sets docker up for a registry and asks the docker helper for its
// credentials as docker does: the registry on stdin, JSON on stdout.
func (d *demo) docker() error {
	d.heading("Asking docker-credential-oidc for " + registry + "'s credentials")
	if err := d.oidcAuth("setup", "docker", registry, "--host", d.auth.URL()); err != nil {
		return err
	}
	d.say("$ echo %s | docker-credential-oidc get", registry)
	cmd := d.command("", "docker-credential-oidc", "get")
	cmd.Stdin = strings.NewReader(registry + "\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		// A failed action's message is on stdout, and holds no secret.
		fmt.Fprint(d.stderr, out.String())
		return fmt.Errorf("docker-credential-oidc get: %w", err)
	}
	var creds struct {
		ServerURL string
		Username  string
		Secret    string
	}
	if err := json.Unmarshal(out.Bytes(), &creds); err != nil {
		return fmt.Errorf("docker-credential-oidc get printed no credentials: %w", err)
	}
	if !d.auth.Valid(creds.Secret) {
		return errors.New("docker-credential-oidc get answered with a secret the auth server did not issue")
	}
	// The answer as docker reads it, with the secret replaced by a
	// description (encoded without HTML escapes, so the description reads
	// as it is).
	enc := json.NewEncoder(d.stdout)
	enc.SetEscapeHTML(false)
	creds.Secret = fmt.Sprintf("<access token, %d chars>", len(creds.Secret))
	if err := enc.Encode(creds); err != nil {
		return err
	}
	d.say("(the secret is masked here; docker sends it to the registry, and the auth server confirms it issued it)")
	return nil
}

// status shows the stored login.
func (d *demo) status() error {
	d.heading("What is stored")
	return d.oidcAuth("status")
}

// oidcAuth shows and runs oidc-auth with args.
func (d *demo) oidcAuth(args ...string) error {
	return d.show("", "oidc-auth", args...)
}

// show prints a command line and runs it in dir (the home when empty),
// with its stdout and stderr passed on.
func (d *demo) show(dir, name string, args ...string) error {
	d.say("$ %s", strings.Join(append([]string{name}, args...), " "))
	cmd := d.command(dir, name, args...)
	cmd.Stdout, cmd.Stderr = d.stdout, d.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, args[0], err)
	}
	return nil
}

// command prepares a program of the sandbox: the fresh binaries by name,
// anything else from PATH, with stdin empty and the sandbox's environment.
func (d *demo) command(dir, name string, args ...string) *exec.Cmd {
	path := filepath.Join(d.bin, name)
	if runtime.GOOS == "windows" {
		path += ".exe"
	}
	if _, err := os.Stat(path); err != nil {
		path = name
	}
	if dir == "" {
		dir = d.home
	}
	cmd := exec.CommandContext(d.ctx, path, args...)
	cmd.Dir = dir
	cmd.Env = d.env
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// issuedSecrets records every secret the auth server hands out, for the
// demo's test to check that none of them reached the output.
type issuedSecrets struct {
	mu     sync.Mutex
	values []string
}

// record wraps the auth server's handler: it reads the token, refresh and
// device code fields of every JSON answer.
func (s *issuedSecrets) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var body struct {
			AccessToken  string `json:"access_token"`
			RefreshToken string `json:"refresh_token"`
			IDToken      string `json:"id_token"`
			DeviceCode   string `json:"device_code"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &body) == nil {
			s.mu.Lock()
			for _, v := range []string{body.AccessToken, body.RefreshToken, body.IDToken, body.DeviceCode} {
				if v != "" {
					s.values = append(s.values, v)
				}
			}
			s.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}

func (s *issuedSecrets) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.values...)
}
