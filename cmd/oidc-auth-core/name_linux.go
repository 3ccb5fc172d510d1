package main

import (
	"os"
	"path/filepath"
	"syscall"
	"unsafe"
)

// init names the process after its argv[0], the command that handed over
// (git-credential-oidc), as the kernel names a process after the file it
// runs: ps, top and the lock holder that keyring reports show that name,
// not oidc-auth-core's. It runs in package init, on the main thread, whose
// name is the process's.
func init() {
	if len(os.Args) == 0 {
		return
	}
	var name [16]byte // the kernel keeps 15 bytes and a NUL
	copy(name[:15], filepath.Base(os.Args[0]))
	const prSetName = 15 // PR_SET_NAME, prctl(2)
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetName, uintptr(unsafe.Pointer(&name[0])), 0)
}
