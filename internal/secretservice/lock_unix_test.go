//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the lock serializes reads of the Secret Service, the keychain of Linux and the BSDs; Windows has the Credential Manager.

package secretservice

import (
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// privateRuntimeDir points XDG_RUNTIME_DIR at a new directory of the
// user's that only the user may enter, and returns the lock file's path.
func privateRuntimeDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", dir)
	return filepath.Join(dir, lockName)
}

// held reports whether somebody holds an exclusive lock of the file at
// path, by trying for one on a descriptor of its own.
func held(t *testing.T, path string) bool {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	switch err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); {
	case err == nil:
		return false
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true
	default:
		t.Fatal(err)
		return false
	}
}

// hold takes the exclusive lock of the file at path, and returns what
// drops it.
func hold(t *testing.T, path string) func() {
	t.Helper()
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	return func() { syscall.Close(fd) }
}

// TestLockReads: the lock is the user's, held until unlock, in the
// runtime directory, made 0600.
func TestLockReads(t *testing.T) {
	path := privateRuntimeDir(t)
	unlock := lockReads()
	if !held(t, path) {
		t.Fatal("lockReads returned without the lock held")
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the lock file: %v, %v; want mode 0600", fi, err)
	}
	unlock()
	if held(t, path) {
		t.Fatal("the lock is held after unlock")
	}
}

// TestLockReadsWaitsForTheHolder: a reader waits while another holds
// the lock, and has it as soon as the other lets go.
func TestLockReadsWaitsForTheHolder(t *testing.T) {
	// The test checks the order of events, not durations: a timer set
	// before the clock is read can fire less than its delay after it.
	path := privateRuntimeDir(t)
	release := hold(t, path)
	var released atomic.Bool
	time.AfterFunc(50*time.Millisecond, func() { released.Store(true); release() })
	unlock := lockReads()
	defer unlock()
	if !released.Load() {
		t.Error("lockReads returned while another held the lock")
	}
	if !held(t, path) {
		t.Error("lockReads returned without the lock after the holder let go")
	}
}

// TestLockReadsGivesUp: a holder that never lets go costs a reader
// lockWait, no more, and the reader goes on without the lock; its wait,
// left behind, drops the lock as soon as it gets it, so it keeps nobody
// out.
func TestLockReadsGivesUp(t *testing.T) {
	path := privateRuntimeDir(t)
	saved := lockWait
	lockWait = 50 * time.Millisecond
	t.Cleanup(func() { lockWait = saved })
	release := hold(t, path)
	start := time.Now()
	unlock := lockReads()
	took := time.Since(start)
	if took < lockWait || took > lockWait+time.Second {
		t.Errorf("lockReads took %v against a holder that does not let go; want about %v", took, lockWait)
	}
	unlock()
	release()
	for deadline := time.Now().Add(5 * time.Second); held(t, path); {
		if time.Now().After(deadline) {
			t.Fatal("the wait left behind kept the lock")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLockReadsOnlyInAPrivateDirectory: a runtime directory others may
// enter, a link, or a lock file that is not a regular file of the
// user's, gets no lock and no new file, and never a wait.
func TestLockReadsOnlyInAPrivateDirectory(t *testing.T) {
	type setup func(t *testing.T, dir string) (runtime string)
	cases := map[string]setup{
		"a directory others may enter": func(t *testing.T, dir string) string {
			os.Chmod(dir, 0o755)
			return dir
		},
		"a link to a private directory": func(t *testing.T, dir string) string {
			link := filepath.Join(t.TempDir(), "link")
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			return link
		},
		"a file": func(t *testing.T, dir string) string {
			f := filepath.Join(dir, "file")
			os.WriteFile(f, nil, 0o600)
			return f
		},
		"none": func(t *testing.T, dir string) string { return filepath.Join(dir, "gone") },
	}
	for name, set := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.Chmod(dir, 0o700)
			t.Setenv("XDG_RUNTIME_DIR", set(t, dir))
			lockReads()()
			if _, err := os.Lstat(filepath.Join(dir, lockName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a lock file was made: %v", err)
			}
		})
	}
	// Each returns the file a lock taken through the lock file's path
	// would lock.
	lockFiles := map[string]func(t *testing.T, path string) string{
		"a link to a file": func(t *testing.T, path string) string {
			target := filepath.Join(t.TempDir(), "target")
			os.WriteFile(target, nil, 0o600)
			os.Symlink(target, path)
			return target
		},
		"a named pipe": func(t *testing.T, path string) string {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			return path
		},
		"a directory": func(t *testing.T, path string) string {
			os.Mkdir(path, 0o700)
			return path
		},
	}
	for name, set := range lockFiles {
		t.Run("the lock file is "+name, func(t *testing.T) {
			path := privateRuntimeDir(t)
			locked := set(t, path)
			done := make(chan func())
			go func() { done <- lockReads() }()
			select {
			case unlock := <-done:
				defer unlock()
			case <-time.After(5 * time.Second):
				t.Fatal("lockReads hangs")
			}
			if held(t, locked) {
				t.Error("lockReads locked it")
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode().IsRegular() {
				t.Errorf("the lock file is now %v, %v", fi, err)
			}
		})
	}
}

// TestPrivateDir: $XDG_RUNTIME_DIR when it is set, else the fallback
// (/run/user/<uid>), and either only when it is a private directory.
func TestPrivateDir(t *testing.T) {
	private, open := t.TempDir(), t.TempDir()
	os.Chmod(private, 0o700)
	os.Chmod(open, 0o755)
	missing := filepath.Join(private, "missing")
	for _, c := range []struct{ dir, fallback, want string }{
		{private, missing, private},
		{"", private, private},
		{"", missing, ""},
		{"", open, ""},
		{open, private, ""},
		{missing, private, ""},
	} {
		if got := privateDir(c.dir, c.fallback); got != c.want {
			t.Errorf("privateDir(%q, %q) = %q, want %q", c.dir, c.fallback, got, c.want)
		}
	}
}

// BenchmarkLockReads is what the lock costs a read nobody else holds
// it against: an open, a flock and a close.
func BenchmarkLockReads(b *testing.B) {
	dir := b.TempDir()
	os.Chmod(dir, 0o700)
	b.Setenv("XDG_RUNTIME_DIR", dir)
	for b.Loop() {
		lockReads()()
	}
}
