// Package handoff is what the commands people, git and docker start
// (oidc-auth, git-credential-oidc, docker-credential-oidc) do to run: they
// hand over to oidc-auth-core, the one binary that holds the whole
// implementation, found beside them. Starting a binary costs in proportion
// to what it links, so the commands stay small and link only this package;
// it imports little more than os and syscall for the same reason.
package handoff

import (
	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"github.com/oidc-auth/oidc-auth/internal/gitproto"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Core is the name of the binary the commands hand over to.
const Core = "oidc-auth-core"

// ReadLimit is the most of its standard input a front reads before it hands
// over: a credential request is far smaller. What is longer still reaches
// the core whole (see Exec).
const ReadLimit = 1 << 20

// pipeLimit is the most Exec writes into a pipe that it then makes the
// core's standard input; a pipe holds at least this much on Linux without
// a reader. Longer input, or a pipe that takes less, is copied to a child
// instead.
const pipeLimit = 60 << 10

// Protocol is the credential protocol of a front: which actions read a
// request on standard input, and where it ends.
type Protocol int

// The protocols of the credential helpers.
const (
	// Git is git's credential protocol: get, store and erase read a request
	// that ends at a blank line or at the end of the input.
	Git Protocol = iota + 1
	// Docker is docker's credential helper protocol: get, store and erase
	// read a request that ends at the end of the input.
	Docker
)

// ReadRequest reads the request on standard input that a credential helper
// started as args (os.Args) by its caller would read, so that the front can
// look at it before it hands over; consumed reports whether it read
// standard input at all. It reads only for the exact command line its
// caller writes (the program and one action that reads a request) and only
// when standard input is no terminal: a person typing at one, or any other
// command line, gets the core with standard input untouched. It reads to
// the end of the request, or more than ReadLimit bytes, or a read error.
func ReadRequest(args []string, p Protocol) (request []byte, consumed bool) {
	if len(args) != 2 || (args[1] != "get" && args[1] != "store" && args[1] != "erase") {
		return nil, false
	}
	if fi, err := os.Stdin.Stat(); err != nil || fi.Mode()&os.ModeCharDevice != 0 {
		return nil, false
	}
	buf := make([]byte, 0, 4096)
	for len(buf) <= ReadLimit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := os.Stdin.Read(buf[len(buf):min(cap(buf), ReadLimit+1)])
		buf = buf[:len(buf)+n]
		if err != nil || (p == Git && gitproto.EndsRequest(buf, len(buf)-n)) {
			break
		}
	}
	return buf, true
}

// Exec runs oidc-auth-core as program (its argv[0], which picks what it
// does) with the front's arguments and environment, and ends the front
// with the core's exit code; it never returns.
//
// consumed says whether the front read its standard input: then stdin is
// what it read (see ReadRequest), and the core reads exactly those bytes,
// followed, when they are more than ReadLimit, by the rest of standard
// input. Else the core gets the front's standard input as it is.
//
// The core is oidc-auth-core in the directory of the front's executable,
// its symbolic links resolved (so that a link to the front in ~/bin finds
// the real installation), else on PATH, where only absolute directories
// count: a "." or relative entry never runs a program the current
// directory holds. Without it the front prints one line that says how to
// install it and exits 1.
//
// On Unix the core replaces the front (same process, signals and exit
// code); on Windows, which cannot, the front starts it, waits, and exits
// with its code.
func Exec(program string, stdin []byte, consumed bool) {
	core, argv, in := prepare(program, stdin, consumed)
	os.Exit(run(program, core, argv, in))
}

// prepare finds the core (or ends the command, saying it is missing) and
// returns its argv and what it reads as standard input (see Exec).
func prepare(program string, stdin []byte, consumed bool) (core string, argv []string, in io.Reader) {
	core, self := find(program)
	if core == "" {
		fail(program, Core+" is missing beside "+safe(self)+" and on PATH; reinstall all of oidc-auth's commands: CGO_ENABLED=0 go install github.com/oidc-auth/oidc-auth/cmd/...@latest")
	}
	argv = []string{program}
	if len(os.Args) > 1 {
		argv = append(argv, os.Args[1:]...)
	}
	if consumed {
		in = readerOf(stdin)
	}
	return core, argv, in
}

// readerOf is what the core reads as standard input after the front read
// stdin of it.
func readerOf(stdin []byte) io.Reader {
	if len(stdin) > ReadLimit {
		return io.MultiReader(strings.NewReader(string(stdin)), os.Stdin)
	}
	return strings.NewReader(string(stdin))
}

// find returns the core's path, "" when there is none, and the front's
// executable, beside which it was looked for first.
func find(program string) (core, self string) {
	self = program
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		self = exe
		if p := filepath.Join(filepath.Dir(exe), Core+exeSuffix); isProgram(p) {
			return p, self
		}
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if !filepath.IsAbs(d) {
			continue
		}
		if p := filepath.Join(d, Core+exeSuffix); isProgram(p) {
			return p, self
		}
	}
	return "", self
}

// fail prints program's line msg for people and exits 1. docker reads a
// helper's failure from its stdout, so docker-credential-oidc prints it
// there, as it prints every other failure.
func fail(program, msg string) {
	w := os.Stderr
	if program == "docker-credential-oidc" {
		w = os.Stdout
	}
	w.WriteString(program + ": " + msg + "\n")
	os.Exit(1)
}

// safe is s with control characters replaced, for a terminal.
func safe(s string) string { return ascii.Safe(s) }

// spawn starts the core as a child with stdin as its standard input (nil:
// the front's own), the front's standard output and error and sys, and
// returns its exit code once it ended; bind, when not nil, gets the
// child's process before the wait (to forward signals to it, or to tie
// its life to the front's).
func spawn(program, core string, argv []string, stdin io.Reader, sys *syscall.SysProcAttr, bind func(*os.Process)) int {
	files := []*os.File{os.Stdin, os.Stdout, os.Stderr}
	var w *os.File
	if stdin != nil {
		r, pw, err := os.Pipe()
		if err != nil {
			fail(program, "cannot start "+safe(core)+": "+err.Error())
		}
		files[0], w = r, pw
	}
	p, err := os.StartProcess(core, argv, &os.ProcAttr{Files: files, Sys: sys})
	if w != nil {
		files[0].Close()
	}
	if err != nil {
		fail(program, "cannot start "+safe(core)+": "+err.Error())
	}
	if w != nil {
		go func() {
			// The core may stop reading early; what it leaves is no error
			// of the front's.
			io.Copy(w, stdin)
			w.Close()
		}()
	}
	if bind != nil {
		bind(p)
	}
	st, err := p.Wait()
	if err != nil {
		fail(program, "lost "+safe(core)+": "+err.Error())
	}
	return exitCode(st)
}
