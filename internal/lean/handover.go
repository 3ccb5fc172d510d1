//go:build linux

package lean

import (
	"bytes"
	"io"
	"path"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/memo"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
)

// bytesReader reads b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// handOver execs the core in this process's place, as handoff.Exec does:
// with the program's name as its argv[0], the arguments, the request read
// (when consumed) as its standard input, and the hand-over lock when this
// process took it (fast.PassGate).
func handOver(program string, args []string, request []byte, consumed bool) {
	core, ok := corePath()
	var st syscall.Stat_t
	if !ok || syscall.Stat(core, &st) != nil || st.Mode&syscall.S_IFMT != syscall.S_IFREG || st.Mode&0o111 == 0 {
		core = onPath()
	}
	if core == "" {
		fail(program, Core+" is missing beside "+self(program)+" and on PATH; reinstall all of oidc-auth's commands: CGO_ENABLED=0 go install github.com/oidc-auth/oidc-auth/cmd/...@latest")
	}
	argv := append([]string{program}, args[1:]...)
	envv := syscall.Environ()
	if id, ok := coreID(core); ok {
		// The identity under which the core writes down its decisions:
		// the file this stage finds, also when it is a program that runs
		// the core in its turn.
		envv = append(envv, memo.CoreIDEnv+"="+memo.FormatID(id))
	}
	if fd := tokenfile.Gate; fd >= 0 {
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, 0); e == 0 {
			envv = append(envv, "OIDC_AUTH_HANDOFF_LOCK="+strconv.Itoa(fd))
		}
	}
	if consumed && (len(request) > pipeLimit || !toStdin(request)) {
		spawn(program, core, argv, envv, request)
	}
	err := syscall.Exec(core, argv, envv)
	fail(program, "cannot start "+core+": "+err.Error())
}

// onPath finds the core in an absolute directory of $PATH, "" for none.
func onPath() string {
	for _, d := range strings.Split(getenv("PATH"), ":") {
		if !path.IsAbs(d) {
			continue
		}
		p := path.Join(d, Core)
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Mode&0o111 != 0 {
			return p
		}
	}
	return ""
}

// self is this program's file, as handoff names it in its messages.
func self(program string) string {
	if exe, ok := exePath(); ok {
		return exe
	}
	return program
}

// toStdin makes standard input a pipe that holds request, no longer than
// pipeLimit, and ends after it (handoff's pipeToStdin).
func toStdin(request []byte) bool {
	var p [2]int
	if syscall.Pipe2(p[:], syscall.O_CLOEXEC) != nil {
		return false
	}
	syscall.SetNonblock(p[1], true) // a pipe that cannot hold it fails
	ok := writeAll(p[1], request)
	syscall.Close(p[1])
	if !ok || syscall.Dup3(p[0], 0, 0) != nil {
		syscall.Close(p[0])
		return false
	}
	if p[0] != 0 {
		syscall.Close(p[0])
	}
	return true
}

// spawn runs the core as a child, for a request longer than a pipe holds
// (handoff's spawn): it writes request to the child's standard input, then
// what is left of its own when the request filled readLimit, and exits as
// the child did. The child gets SIGTERM should this process die first
// (Pdeathsig), so that a signal git sends the command ends both.
func spawn(program, core string, argv, envv []string, request []byte) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		fail(program, "cannot start "+core+": "+err.Error())
	}
	pid, err := syscall.ForkExec(core, argv, &syscall.ProcAttr{
		Env:   envv,
		Files: []uintptr{uintptr(p[0]), 1, 2},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM},
	})
	syscall.Close(p[0])
	if err != nil {
		fail(program, "cannot start "+core+": "+err.Error())
	}
	writeAll(p[1], request)
	if len(request) > readLimit {
		buf := make([]byte, 64<<10)
		for {
			n, _ := readStdin(buf)
			if n == 0 || !writeAll(p[1], buf[:n]) {
				break
			}
		}
	}
	syscall.Close(p[1])
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	if ws.Signaled() {
		syscall.Kill(syscall.Getpid(), ws.Signal())
		time.Sleep(time.Second)
		syscall.Exit(128 + int(ws.Signal()))
	}
	syscall.Exit(ws.ExitStatus())
}

// writeAll writes b to fd, and reports whether all of it went.
func writeAll(fd int, b []byte) bool {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return false
		}
		b = b[n:]
	}
	return true
}
