package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
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
	if !errors.As(err, &le) || !strings.Contains(err.Error(), filepath.Join(dir, ".token-store.json.locks")) || !strings.Contains(err.Error(), "held it for too long") {
		t.Fatalf("err = %v, want a LockError naming the lock file", err)
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
