package helper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
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
	end := catch(cancel, exit)
	return ctx, func() {
		end()
		cancel(nil)
	}
}

// catch starts the signal handling of CatchSignals: the first signal
// cancels with its *SignalError, a second calls exit. The returned end
// stops it.
func catch(cancel context.CancelCauseFunc, exit func(code int)) (end func()) {
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
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// lazySignals is the signal handling of Main, started by the first
// CatchSignalsNow.
type lazySignals struct {
	cancel context.CancelCauseFunc
	exit   func(code int)
	mu     sync.Mutex
	end    func() // set once started
	ended  bool
}

type lazySignalsKey struct{}

// CatchSignalsNow starts the signal handling of Main for ctx (see
// CatchSignals), unless it runs already. Main does not start it itself:
// handing out a stored token takes a millisecond and leaves nothing half
// done for a signal to cut short, while installing the handlers costs a
// process about as much again. Call it before any work that must not be
// cut short: a refresh, a login, a change to the store. Outside Main it
// does nothing.
func CatchSignalsNow(ctx context.Context) {
	l, ok := ctx.Value(lazySignalsKey{}).(*lazySignals)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.end == nil && !l.ended {
		l.end = catch(l.cancel, l.exit)
	}
}

// stop ends the signal handling, if it was started.
func (l *lazySignals) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.end != nil {
		l.end()
	}
	l.ended = true
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

// Main runs one command of a binary and returns its exit code: run's own,
// or 128 plus the signal's number when a signal stopped it (after any
// refresh in flight was finished and stored). The signals are caught as
// CatchSignals does from the first CatchSignalsNow on the context run
// gets; before it, a signal ends the process as usual. main passes
// os.Exit, which a second signal calls at once.
func Main(exit func(code int), run func(ctx context.Context) int) int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	l := &lazySignals{cancel: cancel, exit: exit}
	defer l.stop()
	ctx = context.WithValue(ctx, lazySignalsKey{}, l)
	code := run(ctx)
	if sc, ok := SignalExit(ctx); ok {
		code = sc
	}
	return code
}
