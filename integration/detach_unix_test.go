//go:build !windows

package integration

import (
	"os/exec"
	"syscall"
)

// detach starts cmd in a session of its own, without a controlling
// terminal, so that a helper run from a developer's terminal behaves as in
// CI: no /dev/tty, no interactive login.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
