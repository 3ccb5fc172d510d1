package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
)

// serverTB is the part of testing.TB that gitserver uses, for a demo that
// is no test: temporary directories below the demo's, cleanups run when the
// demo ends, log lines on the demo's stderr, and a fatal error that becomes
// run's error. Any other method of testing.TB panics (the embedded TB is
// nil); gitserver calls only these.
type serverTB struct {
	testing.TB
	dir string
	log io.Writer

	mu       sync.Mutex
	n        int
	cleanups []func()
}

// fatal is the panic value of Fatalf, recovered by run.
type fatal struct{ msg string }

// run calls start, turning a Fatalf during it into an error.
func (t *serverTB) run(start func() *gitserver.Server) (s *gitserver.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("git server: %s", f.msg)
		}
	}()
	return start(), nil
}

// Helper does nothing: there is no test log to attribute lines in.
func (t *serverTB) Helper() {}

// TempDir makes a fresh directory below the demo's.
func (t *serverTB) TempDir() string {
	t.mu.Lock()
	t.n++
	n := t.n
	t.mu.Unlock()
	dir, err := os.MkdirTemp(t.dir, fmt.Sprintf("server%d-", n))
	if err != nil {
		t.Fatalf("%v", err)
	}
	return dir
}

// Cleanup registers f to run, last registered first, when the demo ends.
func (t *serverTB) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

// Fatalf ends the server's start with an error.
func (t *serverTB) Fatalf(format string, args ...any) {
	panic(fatal{fmt.Sprintf(format, args...)})
}

// Logf writes a line of the server (git-http-backend's stderr) to the
// demo's stderr.
func (t *serverTB) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintln(t.log, "git server: "+strings.TrimRight(fmt.Sprintf(format, args...), "\n"))
}

// cleanup runs the registered cleanups.
func (t *serverTB) cleanup() {
	t.mu.Lock()
	fs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}
