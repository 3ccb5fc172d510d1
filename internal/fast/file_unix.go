//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fast

import (
	"os"
	"strconv"
	"syscall"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
)

// readsFiles says whether the cached path answers on this system.
const readsFiles = true

// readEntry returns the raw entry of key in the token file at path, as
// tokenfile.ReadEntry reads it with encoding/json's checks.
func readEntry(path, key string) ([]byte, bool) {
	return tokenfile.ReadEntry(path, key, jsonscan.Checks)
}

// waitForRefresh is tokenfile.WaitForRefresh, which does not wait when the
// user set a lock timeout of their own (oidc-auth-core then waits).
func waitForRefresh(path, key string) bool {
	if os.Getenv("OIDC_AUTH_LOCK_TIMEOUT") != "" {
		return false
	}
	return tokenfile.WaitForRefresh(path, key)
}

// PassGate prepares the hand-over lock, when this process holds it, to
// pass to the oidc-auth-core it is about to exec in its place. A command
// holds it when it found a token expired with nobody refreshing it (see
// tokenfile.WaitForRefresh): oidc-auth-core then refreshes it, and must
// keep the lock until the new token is stored, so that the other commands
// that find the same token expired wait for it and answer with the new
// token instead of each starting an oidc-auth-core of its own. PassGate
// leaves the lock's descriptor open across the exec and puts its number in
// the environment as handoff.LockEnv, so that the core keeps it for as long
// as it runs and passes it to nothing it starts (handoff.AdoptLock).
// Should the command start the core as a child instead, the command holds
// the lock until the child ends.
func PassGate() {
	gate := tokenfile.Gate
	if gate < 0 {
		return
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(gate), syscall.F_SETFD, 0); e != 0 {
		return
	}
	os.Setenv("OIDC_AUTH_HANDOFF_LOCK", strconv.Itoa(gate))
}
