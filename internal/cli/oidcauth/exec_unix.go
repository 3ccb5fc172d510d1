//go:build !windows

package oidcauth

import (
	"os"
	"syscall"
	"unsafe"
)

// forwardSignals are the signals `oidc-auth exec` passes on to its
// command.
var forwardSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// forward passes s on to the command. A Ctrl-C typed at the terminal has
// already reached it, since it runs in oidc-auth's process group: SIGINT
// is passed on only when oidc-auth is not in the terminal's foreground
// (it came from kill, a scheduler or a script), so the command never gets
// one Ctrl-C twice.
func forward(p *os.Process, s os.Signal) {
	if s == syscall.SIGINT && inForeground() {
		return
	}
	p.Signal(s)
}

// inForeground reports whether oidc-auth's process group is the
// foreground group of the terminal on standard input.
func inForeground() bool {
	var pgrp int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, os.Stdin.Fd(), uintptr(syscall.TIOCGPGRP), uintptr(unsafe.Pointer(&pgrp))); errno != 0 {
		return false
	}
	return int(pgrp) == syscall.Getpgrp()
}

// exitCode is the shell's exit status of a finished command: its own, or
// 128 plus the number of the signal that ended it.
func exitCode(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
