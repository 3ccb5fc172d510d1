//go:build windows

package oidcauth

import (
	"os"
	"syscall"
)

// forwardSignals are the signals `oidc-auth exec` handles: Ctrl-C and
// Ctrl-Break, and the console's close, logoff and shutdown events, which
// Go reports as SIGTERM.
var forwardSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// forward handles s for the command. Windows cannot send a signal to one
// process: the console delivers Ctrl-C to every process attached to it,
// the command included, so oidc-auth only waits for it to end; the
// console's close events end the command at once.
func forward(p *os.Process, s os.Signal) {
	if s == os.Interrupt {
		return
	}
	p.Kill()
}

// exitCode is the command's exit status.
func exitCode(ps *os.ProcessState) int { return ps.ExitCode() }
