package oidcauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

func TestRefreshMargin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lifetime, minValid, want time.Duration
	}{
		{time.Hour, 0, 12 * time.Minute},                // a fifth
		{5 * time.Minute, 0, 2 * time.Minute},           // at least two minutes
		{3 * time.Minute, 0, 90 * time.Second},          // at most half
		{10 * time.Second, 0, 5 * time.Second},          // short-lived tokens too
		{time.Hour, 30 * time.Minute, 30 * time.Minute}, // --min-valid wins
		{time.Hour, 2 * time.Hour, 54 * time.Minute},    // but leaves a tenth
	}
	for _, tt := range tests {
		if got := refreshMargin(tt.lifetime, tt.minValid); got != tt.want {
			t.Errorf("refreshMargin(%v, %v) = %v, want %v", tt.lifetime, tt.minValid, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	prev := time.Duration(0)
	for range 7 {
		prev = retryAfter(prev, time.Hour)
		got = append(got, prev)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, time.Minute, time.Minute, time.Minute}
	if !equalDurations(got, want) {
		t.Errorf("back-off for a 1h token: %v, want %v", got, want)
	}
	if first, next := retryAfter(0, 6*time.Second), retryAfter(2*time.Second, 6*time.Second); first != 600*time.Millisecond || next != 3*time.Second {
		t.Errorf("back-off for a 6s token: %v then %v, want 600ms then 3s (capped)", first, next)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// fakeClock moves only when the refresher waits.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) after(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	c.waits = append(c.waits, d)
	ch := make(chan time.Time, 1)
	ch <- c.t
	return ch
}

// TestRefresherSchedule runs the refresher on a fake clock for a server
// that issues one-hour tokens and is down for three refreshes: it
// refreshes twelve minutes ahead, backs off while failing, says so once,
// and says once that it recovered.
func TestRefresherSchedule(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Unix(1767225000, 0)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		calls   int
		written []string
		mins    []time.Duration
	)
	issue := func(name string) *flows.Token {
		return &flows.Token{AccessToken: name, Expires: clock.now().Add(time.Hour).Unix()}
	}
	var warn bytes.Buffer
	r := &refresher{
		host: "https://h", path: "/run/x/token",
		get: func(_ context.Context, min time.Duration) (*flows.Token, error) {
			calls++
			mins = append(mins, min)
			switch {
			case calls >= 2 && calls <= 4:
				return nil, errors.New("flows: the server is down")
			case calls == 6:
				cancel()
			}
			return issue("t" + string(rune('0'+calls))), nil
		},
		write: func(tok *flows.Token) error { written = append(written, tok.AccessToken); return nil },
		warn:  &warn,
		now:   clock.now, after: clock.after,
	}
	r.run(ctx, issue("t0"))
	want := []time.Duration{48 * time.Minute, 48 * time.Minute, 5 * time.Second, 10 * time.Second, 20 * time.Second, 48 * time.Minute}
	if len(clock.waits) < len(want) || !equalDurations(clock.waits[:len(want)], want) {
		t.Errorf("waits %v, want %v", clock.waits, want)
	}
	if strings.Join(written, " ") != "t1 t5 t6" {
		t.Errorf("wrote %v, want t1 t5 t6", written)
	}
	if mins[0] != 12*time.Minute+time.Second {
		t.Errorf("asked for a token valid for %v, want 12m1s", mins[0])
	}
	lines := strings.Split(strings.TrimSpace(warn.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "could not be refreshed (the server is down); retrying") || !strings.Contains(lines[0], "/run/x/token keeps the current token") || !strings.Contains(lines[1], "refreshed again") {
		t.Errorf("stderr %q: want one failure line and one recovery line", warn.String())
	}
}

func TestChildEnv(t *testing.T) {
	t.Parallel()
	got := childEnv(context.Background(), []string{"PATH=/bin", "BEARER_TOKEN=stale", "BEARER_TOKEN_FILE=/old", "HOME=/h"}, "/run/t/token")
	if strings.Join(got, " ") != "PATH=/bin HOME=/h BEARER_TOKEN_FILE=/run/t/token" {
		t.Errorf("childEnv = %v", got)
	}
}

func TestReorderArgsLeavesTheCommandAlone(t *testing.T) {
	t.Parallel()
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	for _, tt := range []struct{ in, want string }{
		{"oidc-auth exec --server https://h -- sh -c x --server y -v", "oidc-auth exec --server https://h -- sh -c x --server y -v"},
		{"oidc-auth exec -- ls -l", "oidc-auth exec -- ls -l"},
		{"oidc-auth -v exec --min-valid 5m --server=https://h -- curl -vv -H z", "oidc-auth -v exec --min-valid 5m --server=https://h -- curl -vv -H z"},
	} {
		if got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// childArg, as the first argument of the test binary, makes it the
// command of TestExecRuns: it prints $BEARER_TOKEN_FILE, "|", the file's
// content, "|", its directory's permissions, and exits 7; with "sleep"
// after it, it sleeps for a minute.
const childArg = "oidc-auth-test-exec-child"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childArg {
		if len(os.Args) > 2 && os.Args[2] == "sleep" {
			time.Sleep(time.Minute)
			os.Exit(0)
		}
		os.Exit(execChild())
	}
	os.Exit(m.Run())
}

// execChild is the test binary run as the command of `oidc-auth exec`.
func execChild() int {
	path := os.Getenv(helper.BearerTokenFileEnv)
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fi, err := os.Stat(filepath.Dir(path))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("%s|%s|%v", path, b, fi.Mode().Perm())
	return 7
}

// TestExecRuns runs commands in process: the file holds the token, the
// exit code comes back, and the file and its directory are gone at the
// end. The command is this test binary, so that it runs on every system.
func TestExecRuns(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	sandbox(t)
	runtimeDir := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", runtimeDir)
	srv := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	tok := loginTo(t, srv)

	code, stdout, stderr := runCLI("exec", "--server", srv.URL(), "--", self, childArg)
	if code != 7 {
		t.Fatalf("exit %d, want 7; stderr %q", code, stderr)
	}
	fields := strings.Split(stdout, "|")
	if len(fields) != 3 {
		t.Fatalf("the command printed %q", stdout)
	}
	path, content, perm := fields[0], fields[1], fields[2]
	if content != tok.AccessToken+"\n" {
		t.Errorf("the command read %q", content)
	}
	if !strings.HasPrefix(path, runtimeDir+string(filepath.Separator)) {
		t.Errorf("the token file %s is not in $XDG_RUNTIME_DIR %s", path, runtimeDir)
	}
	// Windows keeps no Unix permission bits; the file's directory is in
	// the user's own temporary directory there.
	if runtime.GOOS != "windows" && perm != "-rwx------" {
		t.Errorf("the token file's directory has mode %s, want -rwx------", perm)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", path, err)
	}
	if _, err := os.Stat(filepath.Dir(path)); !os.IsNotExist(err) {
		t.Errorf("the directory of %s is still there: %v", path, err)
	}
	if strings.Contains(stderr, tok.AccessToken) {
		t.Errorf("stderr holds the token: %q", stderr)
	}

	if code, _, stderr := runCLI("exec", "--server", srv.URL(), "--", "no-such-command-here"); code != exitNotFound || !strings.Contains(stderr, "cannot run no-such-command-here") {
		t.Errorf("a missing command: exit %d, stderr %q", code, stderr)
	}
	for _, tt := range []struct{ args, want string }{
		{"exec -- true", "exec needs --server HOST"},
		{"exec --server https://h", "exec needs a COMMAND"},
		{"exec --server https://h --issuer https://i --client-id c -- true", "either --server or --issuer"},
		{"exec --server https://h ls -l", "unknown flag -l (the COMMAND and its arguments go after --)"},
	} {
		if code, _, stderr := runCLI(strings.Fields(tt.args)...); code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want %q", tt.args, code, stderr, tt.want)
		}
	}
}
