//go:build unix

// Unix only: the lock holder is stopped with SIGSTOP, which Windows does not have.

package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// stopHolder starts a holder of key's lock (see startHolder) and stops it
// with SIGSTOP, as a suspended job is; it is continued and killed at the
// end of the test.
func stopHolder(t *testing.T, path, key string) int {
	t.Helper()
	cmd := startHolder(t, path, key)
	pid := cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) }) // before startHolder's kill
	return pid
}

// wantHolderError checks that err is the LockError of a wait of about a
// second for the lock file at path, held by process pid.
func wantHolderError(t *testing.T, err error, path string, pid int) {
	t.Helper()
	var le *keyring.LockError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v (%T), want a *LockError", err, err)
	}
	if le.Path != path {
		t.Errorf("LockError.Path = %s, want %s", le.Path, path)
	}
	if want := (keyring.LockHolder{PID: pid, Command: holderName()}); le.Holder != want {
		t.Errorf("LockError.Holder = %+v, want %+v", le.Holder, want)
	}
	// The bound runs from the context's making, a moment before the
	// wait began: the wait is a hair under it when nothing is slow.
	if le.Waited < 900*time.Millisecond || le.Waited > 3*time.Second {
		t.Errorf("LockError.Waited = %v, want about the 1s bound", le.Waited)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v does not wrap context.DeadlineExceeded", err)
	}
	want := fmt.Sprintf(`keyring: lock file %s: process %d (%s) has held it for %s; it may be stopped or hung: check it with "ps -p %d", end it, or wait and try again`,
		path, pid, holderName(), le.Waited.Round(time.Second), pid)
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
}

// TestLockErrorNamesStoppedHolder stops (SIGSTOP) another process that
// holds a key's lock: a wait bounded to a second fails with a LockError
// that names the stopped process, and LockHolder names it too.
func TestLockErrorNamesStoppedHolder(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := &keyring.FileStore{Path: path}
	pid := stopHolder(t, path, "auth.example.org")

	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err := s.Lock(ctx, "https://AUTH.example.org/app")
	wantHolderError(t, err, keyring.LockPath(s, "auth.example.org"), pid)

	if h, ok := s.LockHolder("auth.example.org"); !ok || h.PID != pid || h.Command != holderName() {
		t.Errorf("LockHolder = %+v, %v; want process %d (%s)", h, ok, pid, holderName())
	}
	// Another key has its own lock.
	unlock, err := s.Lock(context.Background(), "other.example.org")
	if err != nil {
		t.Fatalf("the lock of another key: %v", err)
	}
	unlock()
}

// TestPutNamesStoppedWriter stops another process that holds the store's
// write lock: a Put bounded to a second fails naming it, and leaves the
// file as it was.
func TestPutNamesStoppedWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := newFileStore(path)
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("old")}); err != nil {
		t.Fatal(err)
	}
	old := readBytes(t, path)
	pid := stopHolder(t, path, "")

	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err := s.Put(pctx, "auth.example.org", &keyring.Record{Token: sampleToken("new")})
	wantHolderError(t, err, filepath.Join(filepath.Dir(path), ".token-store.json.locks", "store.lock"), pid)
	if got := readBytes(t, path); string(got) != string(old) {
		t.Errorf("the file changed to %s", got)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
}
