//go:build unix

// Unix only: the test sends the process real SIGINT, SIGTERM and SIGHUP, which Windows cannot send (TestForwardOnWindows in cmd/oidc-auth covers the console there).

package helper

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// TestCatchSignals sends the process real signals: the first cancels the
// context with the signal as cause and the shell's exit code, the second
// calls exit at once.
func TestCatchSignals(t *testing.T) {
	exited := make(chan int, 1)
	ctx, stop := CatchSignals(context.Background(), func(code int) { exited <- code })
	defer stop()
	if _, ok := SignalExit(ctx); ok {
		t.Fatal("a signal before any was sent")
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("SIGTERM did not cancel the context")
	}
	if code, ok := SignalExit(ctx); !ok || code != 143 {
		t.Errorf("SignalExit = %d, %v; want 143", code, ok)
	}
	syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("second signal exit code %d, want 130", code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal did not end the process")
	}
}
