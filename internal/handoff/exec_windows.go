package handoff

import (
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exeSuffix is the file name suffix of programs.
const exeSuffix = ".exe"

// isProgram reports whether path is a file.
func isProgram(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// detachedProcess is DETACHED_PROCESS of CreateProcess: the child gets no
// console, neither its parent's nor a new one.
const detachedProcess = 0x00000008

// run starts the core as a child, Windows having no exec, and returns its
// exit code. The child shares the front's console; a front without one
// starts it without one too, as Windows would give it a new console, where
// it would take a person to be present. The console delivers Ctrl-C to the
// child too, which decides what it means; the front only waits.
func run(program, core string, argv []string, stdin io.Reader) int {
	var sys *syscall.SysProcAttr
	if con, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err != nil {
		sys = &syscall.SysProcAttr{CreationFlags: detachedProcess}
	} else {
		con.Close()
	}
	signal.Ignore(os.Interrupt)
	return spawn(program, core, argv, stdin, sys, bindToFront)
}

// exitCode is the core's exit code.
func exitCode(st *os.ProcessState) int { return st.ExitCode() }
