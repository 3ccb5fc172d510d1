//go:build unix

// Unix only: the lock passes through an exec, which Windows has not; TestAdoptLockUnsets checks that the variable goes there too.

package handoff

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestAdoptLock checks what oidc-auth-core does with a lock a command
// handed over: the variable is gone from its environment, and the
// descriptor is kept open but closed on the next exec, so that nothing the
// core starts holds the lock.
func TestAdoptLock(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "x.gate"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); e != 0 {
		t.Fatal(e)
	}
	t.Setenv(LockEnv, strconv.Itoa(fd))
	AdoptLock()
	if _, ok := os.LookupEnv(LockEnv); ok {
		t.Errorf("%s is still set", LockEnv)
	}
	flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	if e != 0 || flags&syscall.FD_CLOEXEC == 0 {
		t.Errorf("descriptor %d: flags %#x (%v), want open and close-on-exec", fd, flags, e)
	}
	for _, v := range []string{"0", "1", "2"} {
		t.Setenv(LockEnv, v)
		AdoptLock()
		if flags, _, _ := syscall.Syscall(syscall.SYS_FCNTL, uintptr(1), syscall.F_GETFD, 0); v == "1" && flags&syscall.FD_CLOEXEC != 0 {
			t.Errorf("%s=1 made stdout close-on-exec", LockEnv)
		}
	}
}
