//go:build unix

// Unix only: the tests send SIGINT, SIGTERM, SIGSTOP and SIGCONT and fill a tmpfs, none of which Windows has; TestRefreshWhileStoreHeldOpen and TestKillDuringRefresh cover a refresh there.

package integration

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestRefreshSurvivesSignals sends SIGINT or SIGTERM, as git and docker
// forward them, at random moments of `oidc-auth token` and
// `git-credential-oidc get` while their refresh is under way. A refresh
// once sent is finished and stored before the process exits 130 or 143,
// so the login is never lost: every next run refreshes with the stored
// refresh token.
func TestRefreshSurvivesSignals(t *testing.T) {
	t.Parallel()
	const delay = 700 * time.Millisecond
	s, srv := slowRefreshWorld(t, delay)
	input := gitInput(t, srv.URL())
	codes := map[int]int{}
	for i := range 12 {
		sig, want := syscall.SIGTERM, 143
		if i%2 == 1 {
			sig, want = syscall.SIGINT, 130
		}
		bin, args, stdin := oidcAuthBin, []string{"token", srv.URL()}, ""
		if i%3 == 2 {
			bin, args, stdin = gitCredentialBin, []string{"get"}, input
		}
		cmd, _, stderr := s.startBin(stdin, nil, bin, args...)
		time.Sleep(time.Duration(rand.Int64N(int64(delay + 400*time.Millisecond))))
		cmd.Process.Signal(sig)
		code := exitOf(t, cmd)
		s.mu.Lock()
		s.stderrs = append(s.stderrs, stderr.String())
		s.mu.Unlock()
		codes[code]++
		if code != 0 && code != want {
			t.Fatalf("run %d (%s, %v): exit %d, want 0 or %d\n%s", i, filepath.Base(bin), sig, code, want, stderr)
		}
		if strings.Contains(stderr.String(), "no longer accepts") {
			t.Fatalf("run %d: the login was lost:\n%s", i, stderr)
		}
		s.readStore() // parses; its tokens are learnt
	}
	srv.SetRefreshDelay(0)
	r := s.run("token", srv.URL())
	mustSucceed(t, r)
	if !srv.Py().Valid(strings.TrimSpace(r.stdout)) {
		t.Errorf("the final token is not valid")
	}
	t.Logf("exit codes %v; %d refreshes started, %d answered", codes, srv.RefreshesStarted(), srv.RefreshesAnswered())
	if codes[130]+codes[143] == 0 {
		t.Error("no run was stopped by its signal: the test proves nothing")
	}
}

// TestFrozenLockHolder stops (SIGSTOP) a process in the middle of its
// refresh, holding the server's lock. Other processes say within seconds
// which process holds it, give up at their lock timeout, and say how to
// wait longer; the stopped process, continued, finishes and stores its
// token.
func TestFrozenLockHolder(t *testing.T) {
	t.Parallel()
	s, srv := slowRefreshWorld(t, 3*time.Second)
	holder, out, herr := s.startBin("", nil, oidcAuthBin, "token", srv.URL())
	deadline := time.Now().Add(10 * time.Second)
	for srv.RefreshesStarted() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if srv.RefreshesStarted() == 0 {
		t.Fatal("the holder never refreshed")
	}
	holder.Process.Signal(syscall.SIGSTOP)
	pid := strconv.Itoa(holder.Process.Pid)
	for _, w := range []struct {
		bin   string
		args  []string
		stdin string
	}{
		{oidcAuthBin, []string{"token", srv.URL()}, ""},
		{gitCredentialBin, []string{"get"}, gitInput(t, srv.URL())},
	} {
		r, err := s.execute(runTimeout, s.dir, w.stdin, s.environ("OIDC_AUTH_LOCK_TIMEOUT=3s"), w.bin, w.args...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code == 0 && r.stdout != "" {
			t.Errorf("%s answered while the lock was held:\n%v", filepath.Base(w.bin), r)
		}
		if r.elapsed > 10*time.Second {
			t.Errorf("%s waited %v", filepath.Base(w.bin), r.elapsed)
		}
		// The holder is named as it was started (the core it handed over
		// to runs under that name).
		for _, want := range []string{"process " + pid + " (oidc-auth)", "OIDC_AUTH_LOCK_TIMEOUT"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: stderr does not say %q:\n%s", filepath.Base(w.bin), want, r.stderr)
			}
		}
	}
	holder.Process.Signal(syscall.SIGCONT)
	if code := exitOf(t, holder); code != 0 {
		t.Fatalf("the continued holder exited %d:\n%s", code, herr)
	}
	s.mu.Lock()
	s.stderrs = append(s.stderrs, herr.String())
	s.mu.Unlock()
	e := s.readStore()[keyOf(t, srv.URL())]
	if tok := strings.TrimSpace(out.String()); tok != e.Token.AccessToken || !srv.Py().Valid(tok) {
		t.Errorf("the holder printed %q; the store holds %q", tok, e.Token.AccessToken)
	}
}

// readOnly makes dir read-only until the test ends (for a test that does
// not run as root, whom modes do not stop).
func readOnly(t *testing.T, dir string) {
	t.Helper()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
}

// TestNewTokenNotSaved: when the refreshed token cannot be written (a full
// disk), the command still gets it, stderr says the login is not saved
// and what to do, and the old store is left intact.
func TestNewTokenNotSaved(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
	s := newSandbox(t)
	// The store's directory lives on its own small file system, when the
	// test may mount one.
	storeDir := filepath.Dir(s.storePath())
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	how := "a read-only directory"
	if os.Geteuid() == 0 {
		unmount, err := mountTmpfs(storeDir)
		if err != nil {
			t.Skipf("cannot mount a tmpfs as root here (%v), and modes do not stop root; keyring's injected write error covers this", err)
		}
		t.Cleanup(unmount)
		how = "a full tmpfs"
	}
	s.login(srv)
	before := s.storeBytes()
	if how == "a full tmpfs" {
		f, err := os.Create(filepath.Join(storeDir, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		chunk := bytes.Repeat([]byte("x"), 4096)
		for {
			if _, err := f.Write(chunk); err != nil {
				break
			}
		}
		f.Close()
	} else {
		readOnly(t, storeDir)
	}
	r := s.run("token", srv.URL())
	mustSucceed(t, r)
	tok := strings.TrimSpace(r.stdout)
	s.learn(tok)
	if !srv.Valid(tok) || srv.Count(pyauthserver.CountTokenRefresh) != 1 {
		t.Errorf("token %q is not the refreshed one", tok)
	}
	for _, want := range []string{"could not be saved", "the next one will need a new login", "oidc-auth login " + srv.URL()} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("with %s, stderr does not say %q:\n%s", how, want, r.stderr)
		}
	}
	s.unchanged(before)
	if tmp, _ := filepath.Glob(filepath.Join(storeDir, ".token-store.json.*.tmp")); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
}

// TestLoginNotSaved: a login whose token cannot be stored says so and
// fails, instead of saying "Logged in".
func TestLoginNotSaved(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs a full tmpfs, which needs root; TestNewTokenNotSaved covers the read-only case")
	}
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	storeDir := filepath.Dir(s.storePath())
	if err := os.MkdirAll(storeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	unmount, err := mountTmpfs(storeDir)
	if err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); keyring's injected write error covers this", err)
	}
	t.Cleanup(unmount)
	f, err := os.Create(filepath.Join(storeDir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	for chunk := bytes.Repeat([]byte("x"), 4096); ; {
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.run("login", "--flow", "device", "--timeout", "10s", srv.URL())
	msg := failureLine(t, r, 1)
	if !strings.Contains(msg, "was not saved") || !strings.Contains(r.stderr, "could not be saved") || strings.Contains(r.stderr, "Logged in") {
		t.Errorf("login on a full disk:\n%s", r.stderr)
	}
}
