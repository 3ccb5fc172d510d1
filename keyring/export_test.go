package keyring

import (
	"context"
	"os"
	"path/filepath"
)

// SetWriteHook makes the writes of s's new content go through write, so
// that tests can make them fail.
func SetWriteHook(s *FileStore, write func(f *os.File, b []byte) (int, error)) {
	s.writeHook = write
}

// LockStore takes the lock that s takes around each of its writes.
func LockStore(ctx context.Context, s *FileStore) (func(), error) {
	return lockFile(ctx, filepath.Join(s.lockDir(), "store.lock"))
}

// LockPath returns the lock file of key in s's lock directory.
func LockPath(s *FileStore, key string) string {
	k, err := Key(key)
	if err != nil {
		panic(err)
	}
	return lockPath(s.lockDir(), k)
}

// DefaultFilePathIn is DefaultFilePath with the platform's cache directory
// given, so that the paths of other platforms can be tried here.
func DefaultFilePathIn(appName, cacheDir string) (string, error) {
	return defaultFilePath(appName, func() (string, error) { return cacheDir, nil })
}

// ReplaceWait is how long a rename or remove that Windows refuses is
// retried outside the store's own writes.
const ReplaceWait = replaceWait
