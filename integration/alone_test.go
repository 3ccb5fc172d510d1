package integration

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// leanStage says whether the commands are internal/lean here: a first
// stage that answers a cached request only once oidc-auth-core has
// answered the same request, for the same config and login, and written
// down how (internal/memo).
const leanStage = runtime.GOOS == "linux"

// aloneDir is a directory of commands for tests of what they answer by
// themselves, without oidc-auth-core. Where the commands are the lean
// stage, it holds the core too, for warm to run a request with, and
// otherwise keeps the core unrunnable (a mode without execute bits, its
// identity unchanged), so that a command that hands a request over fails
// as with no core at all. Elsewhere it holds no core.
type aloneDir struct {
	dir, core string // core "" where there is none
}

// newAlone copies the commands names into a new aloneDir.
func newAlone(t *testing.T, names ...string) *aloneDir {
	t.Helper()
	a := &aloneDir{dir: t.TempDir()}
	for _, name := range names {
		copyFile(t, filepath.Join(binDir, name+exe), a.path(name))
	}
	if leanStage {
		a.core = a.path("oidc-auth-core")
		copyFile(t, coreBin, a.core)
		a.runnable(t, false)
	}
	return a
}

// path is the command name's file.
func (a *aloneDir) path(name string) string { return filepath.Join(a.dir, name+exe) }

// runnable makes the core runnable or not.
func (a *aloneDir) runnable(t *testing.T, on bool) {
	t.Helper()
	mode := os.FileMode(0o644)
	if on {
		mode = 0o755
	}
	if err := os.Chmod(a.core, mode); err != nil {
		t.Fatal(err)
	}
}

// warm runs run with the core runnable, where there is one, so that it
// answers and writes down its decisions, and returns what run returned;
// elsewhere it returns nothing.
func (a *aloneDir) warm(t *testing.T, run func() result) (r result, ran bool) {
	t.Helper()
	if a.core == "" {
		return r, false
	}
	a.runnable(t, true)
	defer a.runnable(t, false)
	return run(), true
}
