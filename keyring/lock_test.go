package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestLockWaitIsBoundedAndNamesTheFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
	unlock, err := s.Lock(context.Background(), "auth.example.org")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	other := &keyring.FileStore{Path: s.Path} // another process's view
	_, err = other.Lock(ctx, "https://AUTH.example.org/x")
	var le *keyring.LockError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), filepath.Join(dir, ".token-store.json.locks")) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a LockError naming the lock file", err)
	}
	waited := le.Waited.Round(time.Millisecond)
	if waited >= time.Second {
		waited = le.Waited.Round(time.Second)
	}
	want := fmt.Sprintf(`keyring: lock file %s: process %d (%s) has held it for %s; it may be stopped or hung: check it with "ps -p %d", end it, or wait and try again`,
		le.Path, os.Getpid(), holderName(), waited, os.Getpid())
	if runtime.GOOS == "windows" { // no holder is written there
		want = fmt.Sprintf(`keyring: lock file %s: another process has held it for %s; it may be stopped or hung: end it, or wait and try again`,
			le.Path, waited)
	}
	if err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", err, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("waited %v for a 200ms bound", d)
	}
	// Another key has its own lock.
	u2, err := other.Lock(context.Background(), "other.example.org")
	if err != nil {
		t.Fatalf("the lock of another key: %v", err)
	}
	u2()
	unlock()
	u3, err := other.Lock(context.Background(), "auth.example.org")
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	u3()
}

// TestFileStoreConcurrentWriters writes different keys from many stores at
// once (each its own file descriptors, like separate processes): the
// read-modify-write under the file lock loses no entry.
func TestFileStoreConcurrentWriters(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "token-store.json")
	exp := time.Now().Add(time.Hour).Unix()
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			s := &keyring.FileStore{Path: path}
			for i := range each {
				tok := keyring.Token{AccessToken: fmt.Sprint(w, i), Expires: exp}
				if err := s.Put(context.Background(), fmt.Sprintf("w%d-%d.example.org", w, i), &keyring.Record{Token: tok}); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	list, err := (&keyring.FileStore{Path: path}).List(context.Background())
	if err != nil || len(list) != writers*each {
		t.Fatalf("%d entries after %d concurrent writes (%v)", len(list), writers*each, err)
	}
}

func TestLockErrorText(t *testing.T) {
	t.Parallel()
	lsof := `find it with "lsof /c/.locks/ab12.lock", `
	if runtime.GOOS == "windows" {
		lsof = ""
	}
	tests := []struct {
		name string
		err  *keyring.LockError
		want string
	}{
		{"holder known", &keyring.LockError{Path: "/c/.locks/ab12.lock", Err: context.DeadlineExceeded, Holder: keyring.LockHolder{PID: 4242, Command: "oidc-auth"}, Waited: 30*time.Second + 4*time.Millisecond},
			`keyring: lock file /c/.locks/ab12.lock: process 4242 (oidc-auth) has held it for 30s; it may be stopped or hung: check it with "ps -p 4242", end it, or wait and try again`},
		{"holder without a name", &keyring.LockError{Path: "/c/.locks/ab12.lock", Err: context.DeadlineExceeded, Holder: keyring.LockHolder{PID: 4242}, Waited: 1500 * time.Millisecond},
			`keyring: lock file /c/.locks/ab12.lock: process 4242 has held it for 2s; it may be stopped or hung: check it with "ps -p 4242", end it, or wait and try again`},
		{"holder unknown, canceled", &keyring.LockError{Path: "/c/.locks/ab12.lock", Err: context.Canceled, Waited: 250 * time.Millisecond},
			`keyring: lock file /c/.locks/ab12.lock: another process has held it for 250ms; it may be stopped or hung: ` + lsof + `end it, or wait and try again`},
		{"not a wait", &keyring.LockError{Path: "/c/.locks/ab12.lock", Err: errors.New("cannot create its directory: permission denied")},
			`keyring: lock file /c/.locks/ab12.lock: cannot create its directory: permission denied`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error()\n got %s\nwant %s", got, tt.want)
			}
			if !errors.Is(tt.err, tt.err.Err) {
				t.Errorf("LockError does not wrap %v", tt.err.Err)
			}
		})
	}
}
