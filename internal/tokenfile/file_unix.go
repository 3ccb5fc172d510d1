//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package tokenfile

import (
	"path"
	"syscall"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/ascii"
	"github.com/oidc-auth/oidc-auth/internal/jsonscan/scan"
	"github.com/oidc-auth/oidc-auth/internal/sha256"
)

// openFlags open the token file and lock files as keyring does: never
// through a symbolic link, never blocking on a FIFO.
const openFlags = syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC

// mapAbove is the size from which the token file is mapped rather than
// read, as keyring maps it: its cost then does not grow with the logins
// it holds.
const mapAbove = 64 << 10

// private reports whether st is owned by the user (or, for a directory
// that may be root's, by root) and closed to others by mask.
func private(st *syscall.Stat_t, rootOK bool, mask uint32) bool {
	euid := uint32(syscall.Geteuid())
	return (st.Uid == euid || rootOK && st.Uid == 0) && uint32(st.Mode)&mask == 0
}

// ReadEntry returns the raw entry of key in the token file at path, found
// with the scan's checks c, with
// keyring's checks passed (a directory of the user's or root's that others
// cannot write, a regular file of the user's that others cannot read);
// ok is false for anything else: a missing file, a refused one, a bare
// token, no entry, a file that is not JSON.
func ReadEntry(file, key string, c scan.Checks) (raw []byte, ok bool) {
	var st syscall.Stat_t
	if syscall.Lstat(path.Dir(file), &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFDIR || !private(&st, true, 0o022) {
		return nil, false
	}
	fd, err := syscall.Open(file, openFlags, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.Close(fd)
	if syscall.Fstat(fd, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG || !private(&st, false, 0o077) || st.Size <= 0 || st.Size > 1<<30 {
		return nil, false
	}
	size := int(st.Size)
	if size >= mapAbove {
		m, err := syscall.Mmap(fd, 0, size, syscall.PROT_READ, syscall.MAP_SHARED)
		if err != nil {
			return nil, false
		}
		defer syscall.Munmap(m)
		return Entry(m, key, c)
	}
	b, ok := ReadAll(fd, size)
	if !ok {
		return nil, false
	}
	return Entry(b, key, c)
}

// ReadAll reads the file of fd, size bytes long when it was stat'ed; ok is
// false for an error, and when it grew meanwhile (being written, or not
// what it was).
func ReadAll(fd, size int) ([]byte, bool) {
	b := make([]byte, size+1) // one more, to see the end
	n := 0
	for n < len(b) {
		m, err := syscall.Read(fd, b[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if m == 0 {
			break
		}
		n += m
	}
	return b[:n], n < len(b)
}

// ReadPrivate returns the content of the file at file in dir, of max bytes
// at most, while it and dir are the user's and closed to everyone else
// (the config's match cache and memo); nil for anything else. It opens the
// file with syscall, not os: an os.File of a descriptor opened O_NONBLOCK
// would set up the runtime's network poller, which costs a start more
// than the read.
func ReadPrivate(file, dir string, max int64) []byte {
	euid := uint32(syscall.Geteuid())
	mine := func(st *syscall.Stat_t, kind uint32) bool {
		return uint32(st.Mode)&syscall.S_IFMT == kind && st.Uid == euid && st.Mode&0o077 == 0
	}
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) != nil || !mine(&st, syscall.S_IFDIR) {
		return nil
	}
	fd, err := syscall.Open(file, openFlags, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	if syscall.Fstat(fd, &st) != nil || !mine(&st, syscall.S_IFREG) || st.Size > max {
		return nil
	}
	b, ok := ReadAll(fd, int(st.Size))
	if !ok {
		return nil
	}
	return b
}

// Gate is the descriptor of the hand-over lock this process holds, -1
// for none: WaitForRefresh takes it when a token is expired with nobody
// refreshing it, and the process then hands it to the oidc-auth-core that
// refreshes (see fast.PassGate).
var Gate = -1

// LockDir is the directory of the lock files of the token file at file,
// as keyring names it.
func LockDir(file string) string {
	return path.Join(path.Dir(file), "."+path.Base(file)+".locks")
}

// LockName is the lock file of key in dir, without its extension: the
// first 8 bytes of the key's SHA-256, in hex, as keyring names it.
func LockName(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return path.Join(dir, ascii.Hex(sum[:8]))
}

// WaitForRefresh waits while another process refreshes the token of key
// in the token file at path, and reports whether the file is worth
// reading again. A refresh is under way while oidc-auth-core holds the
// login's lock (keyring's lock file of key), or while a command holds the
// login's hand-over lock, having started oidc-auth-core to refresh (see
// fast.PassGate); when it ends, the file holds the new token. When neither lock
// is held, this process takes the hand-over lock: the refresh is for its
// oidc-auth-core to make, unless one ended between the caller's read of
// the file and the check of the locks, so this too reports true. It
// reports false when the wait runs out or the locks cannot be checked.
func WaitForRefresh(file, key string) bool {
	if TestHookLocks != nil {
		TestHookLocks()
	}
	dir := LockDir(file)
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) == syscall.ENOENT {
		// The first refresh of this file: make the directory as keyring
		// makes it, beside the file readEntry checked.
		syscall.Mkdir(dir, 0o700)
	}
	if syscall.Lstat(dir, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFDIR || !private(&st, false, 0o022) {
		return false
	}
	name := LockName(dir, key)
	if fd, ok := openLock(name+".lock", 0); ok {
		if !free(fd) {
			return wait(fd)
		}
		syscall.Close(fd)
	}
	fd, ok := openLock(name+".gate", syscall.O_CREAT)
	if !ok {
		return false
	}
	if syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB) == nil {
		Gate = fd
		return true
	}
	return wait(fd)
}

// TestHookLocks, when set by a test, runs before WaitForRefresh checks
// the locks: after the caller's read of the token file.
var TestHookLocks func()

// openLock opens a lock file of the user's (flag O_CREAT makes it).
func openLock(path string, flag int) (int, bool) {
	fd, err := syscall.Open(path, openFlags|flag, 0o600)
	if err != nil {
		return -1, false
	}
	var st syscall.Stat_t
	if syscall.Fstat(fd, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFREG || !private(&st, false, 0) {
		syscall.Close(fd)
		return -1, false
	}
	return fd, true
}

// free reports whether nobody holds the lock of fd exclusively.
func free(fd int) bool {
	if syscall.Flock(fd, syscall.LOCK_SH|syscall.LOCK_NB) != nil {
		return false
	}
	syscall.Flock(fd, syscall.LOCK_UN)
	return true
}

// wait waits until the lock of fd is free, for RefreshWait at most, and
// reports whether it is; it closes fd. It blocks in flock, which costs no
// processor time while a burst of commands waits; when the wait runs out,
// the blocked call is left behind with fd, and ends with the process (an
// exec closes fd).
func wait(fd int) bool {
	done := make(chan bool, 1)
	go func() {
		err := syscall.Flock(fd, syscall.LOCK_SH)
		for err == syscall.EINTR {
			err = syscall.Flock(fd, syscall.LOCK_SH)
		}
		syscall.Close(fd) // which drops the lock
		done <- err == nil
	}()
	t := time.NewTimer(RefreshWait)
	defer t.Stop()
	select {
	case ok := <-done:
		return ok
	case <-t.C:
		return false
	}
}
