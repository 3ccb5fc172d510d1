//go:build !windows

// Unix only: the jobs are shell scripts (sh) that read the token file and signal themselves; TestExecRuns in internal/cli/oidcauth runs exec on Windows.

package integration

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// execSandbox is a sandbox logged in to a server whose access tokens live
// ttl, with a private XDG_RUNTIME_DIR for exec's directory.
func execSandbox(t *testing.T, ttl time.Duration) (*sandbox, *pyauthserver.Server, string) {
	t.Helper()
	srv := startServer(t, pyauthserver.Options{AccessTTL: ttl})
	s := newSandbox(t)
	e := s.login(srv)
	s.learn(e.Token.AccessToken, e.Token.RefreshToken)
	run := filepath.Join(s.dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	s.env = append(s.env, "XDG_RUNTIME_DIR="+run, "BEARER_TOKEN_FILE=", "BEARER_TOKEN=stale")
	return s, srv, run
}

// learnIssued records every secret the server has issued so far.
func learnIssued(s *sandbox, srv *pyauthserver.Server) {
	s.learn(srv.Issued()...)
}

// checkRemoved fails unless exec's directory below run is gone.
func checkRemoved(t *testing.T, run, path string) {
	t.Helper()
	if path != "" {
		if !strings.HasPrefix(path, run+string(filepath.Separator)) {
			t.Errorf("BEARER_TOKEN_FILE=%s is not below XDG_RUNTIME_DIR %s", path, run)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s is still there after exec (%v)", path, err)
		}
	}
	if left, _ := os.ReadDir(run); len(left) != 0 {
		t.Errorf("exec left %v in %s", left, run)
	}
}

// TestExecLongJob runs a job for about two and a half lifetimes of the server's
// 4-second access tokens. It reads $BEARER_TOKEN_FILE every 300 ms and
// the test checks, the moment each read appears, that the server holds
// that token live: the job never sees an expired token, and sees several.
func TestExecLongJob(t *testing.T) {
	t.Parallel()
	s, srv, run := execSandbox(t, 4*time.Second)
	log := filepath.Join(s.dir, "reads")
	script := `
[ -z "${BEARER_TOKEN:-}" ] || { echo "BEARER_TOKEN is set" >&2; exit 3; }
ls -ld "$(dirname "$BEARER_TOKEN_FILE")" | cut -c1-10 > "$1.dir"
ls -l "$BEARER_TOKEN_FILE" | cut -c1-10 >> "$1.dir"
printf '%s\n' "$BEARER_TOKEN_FILE" > "$1.path"
i=0
while [ $i -lt 32 ]; do
	cat "$BEARER_TOKEN_FILE" >> "$1"
	sleep 0.3
	i=$((i+1))
done`
	var (
		mu       sync.Mutex
		reads    int
		distinct = map[string]bool{}
		dead     []int
	)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		seen := 0
		for {
			b, _ := os.ReadFile(log)
			text := string(b)
			if i := strings.LastIndexByte(text, '\n'); i >= 0 {
				text = text[:i] // without a line being written
			} else {
				text = ""
			}
			var lines []string
			if text != "" {
				lines = strings.Split(text, "\n")
			}
			for _, l := range lines[min(seen, len(lines)):] {
				if l == "" {
					continue
				}
				mu.Lock()
				reads++
				distinct[l] = true
				if !srv.Valid(l) {
					dead = append(dead, reads)
				}
				mu.Unlock()
			}
			seen = max(seen, len(lines))
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	r := s.run("exec", "--server", srv.URL(), "--", "sh", "-c", script, "sh", log)
	close(stop)
	<-watched
	learnIssued(s, srv)
	mustSucceed(t, r)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d reads of %d tokens over %v, %d refreshes", reads, len(distinct), time.Since(start).Round(time.Millisecond), srv.Count(pyauthserver.CountTokenRefresh))
	if reads < 30 {
		t.Errorf("only %d reads were checked", reads)
	}
	if len(dead) > 0 {
		t.Errorf("reads %v found a token the server no longer accepts", dead)
	}
	if len(distinct) < 3 {
		t.Errorf("the job saw %d tokens over about two and a half lifetimes; want a refreshed one each lifetime", len(distinct))
	}
	if b, _ := os.ReadFile(log + ".dir"); string(b) != "drwx------\n-rw-------\n" {
		t.Errorf("modes of the directory and file: %q", b)
	}
	path, _ := os.ReadFile(log + ".path")
	checkRemoved(t, run, strings.TrimSpace(string(path)))
}

// TestExecRefreshFailure stops the server's token route for a while: the
// failure is reported once on stderr, the job keeps running, and once the
// server is back the file holds a live token again.
func TestExecRefreshFailure(t *testing.T) {
	t.Parallel()
	s, srv, run := execSandbox(t, 6*time.Second)
	srv.Override(pyauthserver.RouteToken, nil)
	script := `
sleep 2.5
echo down > "$1.state"
sleep 4
echo back > "$1.state"
sleep 4
cat "$BEARER_TOKEN_FILE"`
	state := filepath.Join(s.dir, "job")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			b, _ := os.ReadFile(state + ".state")
			switch strings.TrimSpace(string(b)) {
			case "down":
				srv.Override(pyauthserver.RouteToken, func(w http.ResponseWriter, r *http.Request) {
					http.Error(w, `{"detail":"upstream unavailable"}`, http.StatusServiceUnavailable)
				})
			case "back":
				srv.Override(pyauthserver.RouteToken, nil)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	r := s.run("exec", "--server", srv.URL(), "--", "sh", "-c", script, "sh", state)
	<-done
	learnIssued(s, srv)
	mustSucceed(t, r)
	last := strings.TrimSpace(r.stdout)
	if !srv.Valid(last) {
		t.Errorf("after the server came back, the file held a token it does not accept\n%v", r)
	}
	if n := strings.Count(r.stderr, "could not be refreshed"); n != 1 {
		t.Errorf("the failure was reported %d times, want once\n%v", n, r)
	}
	if n := strings.Count(r.stderr, "is refreshed again"); n != 1 {
		t.Errorf("the recovery was reported %d times, want once\n%v", n, r)
	}
	checkRemoved(t, run, "")
}

// startExec starts oidc-auth exec with CMD as a process of its own, as a
// scheduler does, and returns it once the command has printed "ready".
func startExec(t *testing.T, s *sandbox, srv *pyauthserver.Server, script string) (cmd *exec.Cmd, stdout *bufio.Reader, stderr *bytes.Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	t.Cleanup(cancel)
	cmd = exec.CommandContext(ctx, oidcAuthBin, "exec", "--server", srv.URL(), "--", "sh", "-c", script)
	cmd.Env = s.environ()
	cmd.Dir = s.dir
	detach(cmd)
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &bytes.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stdout = bufio.NewReader(pipe)
	line, err := stdout.ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the command said %q, %v; stderr %q", line, err, stderr)
	}
	return cmd, stdout, stderr
}

// TestExecSignals sends SIGTERM, SIGINT and SIGHUP to oidc-auth exec: each
// reaches the command, which decides when to end; oidc-auth exits with
// the command's code, or 128 plus the signal's number when it died of
// one, and removes the file.
func TestExecSignals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		sig    syscall.Signal
		script string
		code   int
		said   string
	}{
		{"TERM handled", syscall.SIGTERM, `trap 'echo "got TERM"; exit 42' TERM`, 42, "got TERM\n"},
		{"INT handled", syscall.SIGINT, `trap 'echo "got INT"; exit 5' INT`, 5, "got INT\n"},
		{"HUP kills", syscall.SIGHUP, ``, 128 + int(syscall.SIGHUP), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, srv, run := execSandbox(t, time.Minute)
			script := tt.script + `
printf '%s\n' "$BEARER_TOKEN_FILE" > path
echo ready
while :; do sleep 0.1; done`
			cmd, stdout, stderr := startExec(t, s, srv, script)
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := readAll(stdout)
			err := cmd.Wait()
			s.mu.Lock()
			s.stderrs = append(s.stderrs, stderr.String())
			s.mu.Unlock()
			learnIssued(s, srv)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code || rest != tt.said {
				t.Errorf("after %v: exit %d, stdout %q; want %d, %q (stderr %q)", tt.sig, code, rest, tt.code, tt.said, stderr)
			}
			path, _ := os.ReadFile(filepath.Join(s.dir, "path"))
			checkRemoved(t, run, strings.TrimSpace(string(path)))
		})
	}
}

func readAll(r *bufio.Reader) (string, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(r)
	return b.String(), err
}

// TestExecExitCode passes the command's exit status through, and 128
// plus the signal's number when it kills itself.
func TestExecExitCode(t *testing.T) {
	t.Parallel()
	s, srv, run := execSandbox(t, time.Minute)
	for script, want := range map[string]int{"exit 0": 0, "exit 3": 3, "exit 255": 255, "kill -TERM $$": 143, "kill -KILL $$": 137} {
		r := s.run("exec", "--server", srv.URL(), "--", "sh", "-c", script)
		if r.code != want || r.stderr != "" {
			t.Errorf("%s: exit %d, stderr %q; want %d and nothing on stderr", script, r.code, r.stderr, want)
		}
	}
	checkRemoved(t, run, "")
}

// TestExecCopiedLogin runs a job on a copy of the login, as the README's
// "copy your login into the job" shows: the job refreshes the copy in
// place, and then, with a server that rotates refresh tokens, the
// original's refresh token is refused and it needs a new login.
func TestExecCopiedLogin(t *testing.T) {
	t.Parallel()
	s, srv, run := execSandbox(t, 3*time.Second)
	r := s.run("login", "--json", srv.URL())
	mustSucceed(t, r)
	original := s.readStore()[storeKey(t, srv)].Token
	copyPath := filepath.Join(s.dir, "token.json")
	if err := os.WriteFile(copyPath, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	job := []string{"OIDC_TOKEN_FILE=" + copyPath, "OIDC_AUTH_HOST=" + srv.URL()}
	r = s.runEnv(job, "exec", "--server", srv.URL(), "--", "sh", "-c", `sleep 2.5; cat "$BEARER_TOKEN_FILE"`)
	learnIssued(s, srv)
	mustSucceed(t, r)
	if tok := strings.TrimSpace(r.stdout); !srv.Valid(tok) {
		t.Errorf("the job's token is not live\n%v", r)
	}
	if b, _ := os.ReadFile(copyPath); bytes.Contains(b, []byte(original.RefreshToken)) || !bytes.Contains(b, []byte(`"refresh_token"`)) {
		t.Errorf("the copy was not refreshed in place: %s still holds the original refresh token", copyPath)
	}
	checkRemoved(t, run, "")

	// The original still holds the refresh token the copy has used up.
	time.Sleep(time.Second) // its access token (3 s) has expired
	r = s.run("token", srv.URL())
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, "oidc-auth login "+srv.URL()) {
		t.Errorf("the original after the copy refreshed: %q", msg)
	}
}
