package testfs

import (
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Start starts the command that newCmd makes. Wine now and then fails a
// process start with "Internal error" when several test binaries start
// processes at once; on Windows, Start then makes the command again and
// starts it again, up to three times in all. Any other error, and a start
// that keeps failing, is returned, for the test to fail on: what the test
// checks is never retried, only the start of the process it checks.
//
// On every system, Start also starts again a program that the kernel
// found busy (ETXTBSY): a test that copies a program and runs it meets
// that when another test's process start, forked in the moment the copy's
// descriptor was open, has not yet reached its exec, which closes it (Go
// issue 22315).
func Start(newCmd func() *exec.Cmd) (*exec.Cmd, error) {
	var (
		cmd *exec.Cmd
		err error
	)
	for try := range 3 {
		if try > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		cmd = newCmd()
		if err = cmd.Start(); err == nil || !SpuriousStartError(err) && !errors.Is(err, syscall.ETXTBSY) {
			break
		}
	}
	return cmd, err
}

// SpuriousStartError reports whether err is, or carries, Wine's spurious
// failure of a process start, for a test of code that starts processes
// itself to try that code again.
func SpuriousStartError(err error) bool {
	return runtime.GOOS == "windows" && strings.Contains(err.Error(), "Internal error")
}
