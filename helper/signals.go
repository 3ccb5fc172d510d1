package helper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// stopSignals are the signals that end a command: Ctrl-C, the SIGTERM
// that git, docker and job schedulers send their children, and the hang-up
// of a closed terminal or SSH session.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// SignalError is the cause of a context that a signal cancelled.
type SignalError struct {
	// Signal is the signal received.
	Signal os.Signal
}

// Error names the signal.
func (e *SignalError) Error() string { return fmt.Sprintf("stopped by %v", e.Signal) }

// ExitCode is the shell's exit status for a process ended by the signal:
// 128 plus its number (130 for SIGINT, 143 for SIGTERM).
func (e *SignalError) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}

// CatchSignals returns a context that the first SIGINT, SIGTERM or SIGHUP
// cancels with a *SignalError as its cause, instead of ending the process
// there and then. Work that must not be cut short, such as a token refresh
// the server has already answered by rotating the refresh token, runs to
// its end and is stored (the flow core does not cancel it); the command
// then ends with SignalExit. A second signal calls exit at once with the
// signal's exit code, for a person who does not want to wait.
//
// The returned stop ends the signal handling.
func CatchSignals(parent context.Context, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, stopSignals...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(&SignalError{Signal: s})
		case <-done:
			return
		}
		select {
		case s := <-ch:
			exit((&SignalError{Signal: s}).ExitCode())
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

// SignalExit returns the exit code for a command whose context a signal
// cancelled, and false when no signal arrived.
func SignalExit(ctx context.Context) (int, bool) {
	var se *SignalError
	if errors.As(context.Cause(ctx), &se) {
		return se.ExitCode(), true
	}
	return 0, false
}

// Main runs one command of a binary under CatchSignals and returns its exit
// code: run's own, or 128 plus the signal's number when a signal stopped it
// (after any refresh in flight was finished and stored). main passes
// os.Exit, which a second signal calls at once.
func Main(exit func(code int), run func(ctx context.Context) int) int {
	ctx, stop := CatchSignals(context.Background(), exit)
	defer stop()
	code := run(ctx)
	if sc, ok := SignalExit(ctx); ok {
		code = sc
	}
	return code
}
