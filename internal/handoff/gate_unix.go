//go:build unix

package handoff

import (
	"os"
	"strconv"
	"syscall"
)

// AdoptLock takes over the lock a command handed over with the exec (see
// LockEnv): the core keeps the descriptor open, so the lock stays held
// until the core exits, and marks it close-on-exec, so that no program the
// core starts (a browser, the command of oidc-auth exec) inherits it.
func AdoptLock() {
	v, ok := os.LookupEnv(LockEnv)
	if !ok {
		return
	}
	os.Unsetenv(LockEnv)
	if fd, err := strconv.Atoi(v); err == nil && fd > 2 {
		syscall.CloseOnExec(fd)
	}
}
