package keyring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// lockRetry is how often a busy lock is tried again.
const lockRetry = 15 * time.Millisecond

// LockError reports a lock file that could not be created or taken in time.
type LockError struct {
	// Path is the lock file.
	Path string
	// Err says what went wrong.
	Err error
}

// Error names the lock file and what went wrong.
func (e *LockError) Error() string {
	return fmt.Sprintf("keyring: lock file %s: %v", e.Path, e.Err)
}

// Unwrap returns the cause.
func (e *LockError) Unwrap() error { return e.Err }

// lockPath returns the lock file of key in dir: a hash of the key, so that
// any key makes a valid file name.
func lockPath(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock")
}

// lockFile takes an exclusive advisory lock on path (creating it and its
// directory when missing), waiting until ctx ends. The operating system
// drops the lock when its process dies, so a killed holder never blocks the
// next process. The returned function releases the lock.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, &LockError{Path: path, Err: fmt.Errorf("cannot create its directory: %w", errors.Unwrap(err))}
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, lockRetry)
	if err != nil && ctx.Err() == nil {
		return nil, &LockError{Path: path, Err: cleanPathError(err)}
	}
	if !ok {
		return nil, &LockError{Path: path, Err: errors.New("another oidc-auth process held it for too long; try again, or remove the file if no such process runs")}
	}
	return func() { fl.Unlock() }, nil
}

// cleanPathError drops the path from an *os.PathError, which LockError
// already names.
func cleanPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
