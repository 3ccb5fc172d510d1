package oidcauth

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// TestForwardOnWindows: Windows cannot signal one process. A Ctrl-C
// reaches the command from the console itself, so forward leaves it
// running; the console's close, logoff and shutdown events (SIGTERM) end
// it. The exit status comes back as the command's own.
func TestForwardOnWindows(t *testing.T) {
	t.Parallel()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := testfs.Start(func() *exec.Cmd { return exec.Command(self, childArg, "sleep") })
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer cmd.Process.Kill()

	forward(cmd.Process, os.Interrupt)
	select {
	case err := <-done:
		t.Fatalf("the command ended on a forwarded Ctrl-C: %v", err)
	case <-time.After(500 * time.Millisecond):
	}
	forward(cmd.Process, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the command still runs after a forwarded SIGTERM")
	}
	if code := exitCode(cmd.ProcessState); code == 0 {
		t.Errorf("exit code %d of a killed command, want non-zero", code)
	}
}
