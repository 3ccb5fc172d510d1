//go:build windows

package integration

import (
	"os/exec"
	"syscall"
)

// detachedProcess is DETACHED_PROCESS of CreateProcess: the child gets no
// console, neither the test's nor a new one.
const detachedProcess = 0x00000008

// detach starts cmd without a console, so that a helper run from a
// developer's console behaves as in CI: no CONIN$/CONOUT$, no interactive
// login. Its standard streams are the pipes exec.Cmd gives it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess}
}
