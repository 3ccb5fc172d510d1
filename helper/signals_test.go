package helper

import (
	"os"
	"syscall"
	"testing"
)

// TestSignalExitCodes: a command a signal stopped exits as a shell reports
// it, 128 plus the signal's number, on every system (on Windows the
// console's Ctrl-C arrives as os.Interrupt, its close as SIGTERM).
func TestSignalExitCodes(t *testing.T) {
	t.Parallel()
	for sig, want := range map[os.Signal]int{os.Interrupt: 130, syscall.SIGINT: 130, syscall.SIGTERM: 143, syscall.SIGHUP: 129} {
		if got := (&SignalError{Signal: sig}).ExitCode(); got != want {
			t.Errorf("%v: exit %d, want %d", sig, got, want)
		}
	}
}
