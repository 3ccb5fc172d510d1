package integration

import (
	"errors"
	"math/rand/v2"
	"net/url"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/hostile"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// slowRefreshWorld is a sandbox logged in to a server whose access tokens
// always need a refresh (30 s, under the one-minute margin) and whose
// refresh answers come late, after the old refresh token was rotated.
func slowRefreshWorld(t *testing.T, delay time.Duration) (*sandbox, *hostile.Server) {
	t.Helper()
	s, srv := hostileLogin(t, pyauthserver.Options{AccessTTL: 30 * time.Second, RefreshTTL: time.Hour})
	s.readStore()
	srv.SetRefreshDelay(delay)
	srv.SetMode(hostile.SlowRefresh)
	return s, srv
}

// gitInput is git's credential request for the server's own URL.
func gitInput(t *testing.T, server string) string {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil {
		t.Fatal(err)
	}
	return "protocol=" + u.Scheme + "\nhost=" + u.Host + "\npath=" + strings.TrimPrefix(u.Path, "/") + "\n\n"
}

// startBin starts bin in the sandbox with stdin, in its own session.
func (s *sandbox) startBin(stdin string, extra []string, bin string, args ...string) (*exec.Cmd, *lockedBuffer, *lockedBuffer) {
	s.t.Helper()
	out, errb := &lockedBuffer{}, &lockedBuffer{}
	cmd, err := testfs.Start(func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = s.environ(extra...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Stdout, cmd.Stderr = out, errb
		detach(cmd)
		return cmd
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return cmd, out, errb
}

// exitOf waits for cmd and returns its exit code, or 128+n for a signal.
func exitOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// TestKillDuringRefresh kills `oidc-auth token` (SIGKILL, on Windows
// TerminateProcess) at random moments of a refresh. Nothing can save a login when the process dies
// after the server rotated the refresh token and before the answer was
// stored; the store must still always parse and hold a whole record, and
// the test reports how often the login was lost (SECURITY.md quotes it).
func TestKillDuringRefresh(t *testing.T) {
	t.Parallel()
	const delay = 500 * time.Millisecond
	s, srv := slowRefreshWorld(t, delay)
	const runs = 12
	lost := 0
	for i := range runs {
		started := srv.RefreshesStarted()
		cmd, _, stderr := s.startBin("", nil, oidcAuthBin, "token", srv.URL())
		if runtime.GOOS == "windows" {
			// There the command is two processes, the core a child that
			// dies with it; the kill comes once the core runs (Wine never
			// finishes starting a process whose parent dies meanwhile).
			for deadline := time.Now().Add(20 * time.Second); srv.RefreshesStarted() == started && time.Now().Before(deadline); {
				time.Sleep(5 * time.Millisecond)
			}
		}
		time.Sleep(time.Duration(rand.Int64N(int64(delay + 300*time.Millisecond))))
		cmd.Process.Kill()
		exitOf(t, cmd)
		s.mu.Lock()
		s.stderrs = append(s.stderrs, stderr.String())
		s.mu.Unlock()
		s.readStore() // always a whole, parseable store
		srv.SetRefreshDelay(0)
		r := s.run("token", srv.URL())
		if r.code != 0 {
			if !strings.Contains(r.stderr, "no longer accepts") {
				t.Fatalf("run %d: unexpected failure\n%v", i, r)
			}
			// Only a kill after the server read the refresh, and so
			// rotated the refresh token, may lose the login.
			if srv.RefreshesStarted() != started+2 {
				t.Fatalf("run %d: the login was lost although the killed process had sent no refresh", i)
			}
			lost++
			srv.SetMode(hostile.WellBehaved)
			srv.Py().PlanDevice(pyauthserver.DevicePlan{})
			mustSucceed(t, s.run("login", "--flow", "device", "--force", "--timeout", "10s", srv.URL()))
			s.readStore()
			srv.SetMode(hostile.SlowRefresh)
		}
		srv.SetRefreshDelay(delay)
	}
	t.Logf("a kill during a refresh lost the login in %d of %d runs", lost, runs)
}
