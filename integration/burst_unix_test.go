//go:build !windows

// Unix only: the counting core execs the real one in its place, and the commands pass the hand-over lock across an exec, which Windows has not (there each command's core waits on the login's lock itself).

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestBurstStartsOneCore: a burst of git gets on an expired token, as
// `git fetch --jobs` or a CI farm sends, starts one oidc-auth-core, which
// refreshes once; the other commands wait for its refresh and answer with
// the new token themselves. The cores are counted by a core that counts
// itself and execs the real one.
func TestBurstStartsOneCore(t *testing.T) {
	t.Parallel()
	srv, host, s, key := expiredLogin(t, 500*time.Millisecond) // the burst arrives while the refresh is under way

	dir := frontsWithFakeCore(t)
	count := filepath.Join(t.TempDir(), "cores")
	env := s.environ(fakeCoreVariable+"="+countingCore+count, realCoreVariable+"="+coreBin)
	if leanStage {
		// The first stage answers a request once the core has: a get of
		// the same request while the token was valid, whose count is not
		// the burst's.
		s.setStoredExpiry(key, time.Now().Add(time.Hour))
		if r, err := s.execute(runTimeout, s.dir, gitInput(t, host), env, filepath.Join(dir, "git-credential-oidc"), "get"); err != nil || r.code != 0 {
			t.Fatalf("the get before the burst: %v\n%v", err, r)
		}
		s.expireStoredAccess(key)
		if err := os.Remove(count); err != nil {
			t.Fatal(err)
		}
	}
	const n = 16
	results := make([]result, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = s.execute(runTimeout, s.dir, gitInput(t, host), env, filepath.Join(dir, "git-credential-oidc"), "get")
		})
	}
	wg.Wait()

	stored := s.readStore()[key]
	if !srv.Valid(stored.Token.AccessToken) {
		t.Fatalf("the store holds no valid token after the burst")
	}
	for i, r := range results {
		switch {
		case errs[i] != nil:
			t.Errorf("get %d of %d: %v", i+1, n, errs[i])
		case r.code != 0:
			t.Errorf("get %d of %d failed:\n%v", i+1, n, r)
		case !strings.Contains(r.stdout, "\npassword="+stored.Token.AccessToken+"\n"):
			t.Errorf("get %d of %d answered with a token other than the refreshed one:\n%v", i+1, n, r)
		}
	}
	if got := srv.Count(pyauthserver.CountTokenRefresh); got != 1 {
		t.Errorf("%d gets sent %d refresh requests, want 1", n, got)
	}
	b, err := os.ReadFile(count)
	if err != nil {
		t.Fatalf("no core was started: %v", err)
	}
	if cores := strings.Count(string(b), "\n"); cores != 1 {
		t.Errorf("%d gets on an expired token started %d oidc-auth-cores, want 1: the others should have waited for its refresh", n, cores)
	}
}

// countAndExecCore is the fake core in countingCore mode.
func countAndExecCore(path string) int {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "counting core:", err)
		return 103
	}
	_, err = fmt.Fprintln(f, strconv.Itoa(os.Getpid()))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "counting core:", err)
		return 103
	}
	core := os.Getenv(realCoreVariable)
	err = syscall.Exec(core, os.Args, os.Environ())
	fmt.Fprintln(os.Stderr, "counting core: exec", core+":", err)
	return 104
}
