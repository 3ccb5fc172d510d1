//go:build unix

package handoff

import (
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// exeSuffix is the file name suffix of programs.
const exeSuffix = ""

// isProgram reports whether path is a file someone may execute.
func isProgram(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// run replaces the front with the core; stdin, when not nil, becomes the
// core's standard input through a pipe that holds it whole, else through a
// child the front feeds and waits for.
func run(program, core string, argv []string, stdin io.Reader) int {
	if stdin != nil {
		b, ok := stdin.(interface{ Len() int })
		if !ok || b.Len() > pipeLimit || !pipeToStdin(stdin, b.Len()) {
			return spawn(program, core, argv, stdin, nil, relaySignals)
		}
	}
	err := syscall.Exec(core, argv, os.Environ())
	fail(program, "cannot start "+safe(core)+": "+err.Error())
	return 1
}

// pipeToStdin writes the n bytes of r into a new pipe and makes the pipe's
// reading end standard input. It reports false, with standard input as it
// was, when the pipe does not take them all at once.
func pipeToStdin(r io.Reader, n int) bool {
	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		return false
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return false
	}
	syscall.SetNonblock(p[1], true)
	written := 0
	for written < n {
		m, err := syscall.Write(p[1], b[written:])
		if err != nil || m <= 0 {
			break
		}
		written += m
	}
	syscall.Close(p[1])
	if written < n {
		syscall.Close(p[0])
		return false
	}
	if p[0] != 0 { // else standard input was closed, and the pipe took its place
		if err := dup2(p[0], 0); err != nil {
			syscall.Close(p[0])
			return false
		}
		syscall.Close(p[0])
	}
	return true
}

// relaySignals forwards to the core the signals that are meant for it but
// reach the front alone: a terminal's interrupt and quit reach both, as one
// foreground process group, and the front ignores them.
func relaySignals(p *os.Process) {
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		for sig := range ch {
			p.Signal(sig)
		}
	}()
}

// exitCode is the front's exit code for a core that ended as st: the
// core's, or, when a signal killed it, death by the same signal.
func exitCode(st *os.ProcessState) int {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return st.ExitCode()
	}
	sig := ws.Signal()
	signal.Reset(sig)
	syscall.Kill(os.Getpid(), sig)
	// Another thread may take the signal: give it the time to end the
	// process, else exit as a shell reports such a death.
	time.Sleep(time.Second)
	return 128 + int(sig)
}

// Unread puts request, read by ReadRequest, back in front of what is left
// of standard input, for a reader of os.Stdin after it: oidc-auth-core
// reads a request to answer it as the commands do (see internal/fast),
// and when it cannot, its own helper reads it again.
func Unread(request []byte) {
	var p [2]int
	if syscall.Pipe(p[:]) != nil {
		return
	}
	syscall.CloseOnExec(p[1])
	rest := -1
	if len(request) > ReadLimit { // more of it is still to come
		var err error
		if rest, err = syscall.Dup(0); err != nil {
			rest = -1
		}
	}
	if dup2(p[0], 0) != nil {
		syscall.Close(p[0])
		syscall.Close(p[1])
		return
	}
	syscall.Close(p[0])
	w := os.NewFile(uintptr(p[1]), "|0")
	if rest < 0 && len(request) <= pipeLimit {
		w.Write(request) // the pipe holds it
		w.Close()
		return
	}
	go func() {
		w.Write(request)
		if rest >= 0 {
			r := os.NewFile(uintptr(rest), "/dev/stdin")
			io.Copy(w, r)
			r.Close()
		}
		w.Close()
	}()
}
