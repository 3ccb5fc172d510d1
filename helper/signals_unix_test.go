//go:build unix

// Unix only: the test sends the process real SIGINT, SIGTERM and SIGHUP, which Windows cannot send (TestForwardOnWindows in internal/cli/oidcauth covers the console there).

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

// TestMainCatchesSignalsWhenAsked: Main installs no signal handling until
// CatchSignalsNow, which a refresh or login calls; from then on the first
// signal cancels run's context, run finishes its work, and Main returns
// the shell's exit code for the signal instead of run's.
func TestMainCatchesSignalsWhenAsked(t *testing.T) {
	exited := make(chan int, 1)
	var after context.Context
	code := Main(func(code int) { exited <- code }, func(ctx context.Context) int {
		l, ok := ctx.Value(lazySignalsKey{}).(*lazySignals)
		if !ok {
			t.Fatal("Main's context has no signal handling to start")
		}
		if l.end != nil {
			t.Error("Main caught signals before CatchSignalsNow")
		}
		CatchSignalsNow(ctx)
		end := l.end
		if end == nil {
			t.Fatal("CatchSignalsNow started no signal handling")
		}
		CatchSignalsNow(ctx) // a second call keeps the first handling
		syscall.Kill(syscall.Getpid(), syscall.SIGTERM)
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("SIGTERM did not cancel the context")
		}
		after = ctx
		return 0 // the work in flight finished
	})
	if code != 143 {
		t.Errorf("Main returned %d after SIGTERM, want 143", code)
	}
	if l := after.Value(lazySignalsKey{}).(*lazySignals); l.end == nil || !l.ended {
		t.Error("Main did not end its signal handling")
	}
	CatchSignalsNow(after) // after Main: nothing to start
	if l := after.Value(lazySignalsKey{}).(*lazySignals); !l.ended {
		t.Error("CatchSignalsNow restarted the handling after Main")
	}
	select {
	case c := <-exited:
		t.Errorf("exit(%d) called after one signal", c)
	default:
	}
}
