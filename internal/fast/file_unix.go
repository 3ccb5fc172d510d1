//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package fast

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/sha256"
)

// readsFiles says whether the cached path answers on this system.
const readsFiles = true

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
	euid := uint32(os.Geteuid())
	return (st.Uid == euid || rootOK && st.Uid == 0) && uint32(st.Mode)&mask == 0
}

// readEntry returns the raw entry of key in the token file at path, with
// keyring's checks passed (a directory of the user's or root's that others
// cannot write, a regular file of the user's that others cannot read);
// ok is false for anything else: a missing file, a refused one, a bare
// token, no entry, a file that is not JSON.
func readEntry(path, key string) (raw []byte, ok bool) {
	var st syscall.Stat_t
	if syscall.Lstat(filepath.Dir(path), &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFDIR || !private(&st, true, 0o022) {
		return nil, false
	}
	fd, err := syscall.Open(path, openFlags, 0)
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
		return entry(m, key)
	}
	b := make([]byte, size+1)
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
	if n == len(b) { // it grew while it was read
		return nil, false
	}
	return entry(b[:n], key)
}

// gate is the descriptor of the hand-over lock this process holds, -1
// for none (see PassGate).
var gate = -1

// PassGate prepares the hand-over lock, when this process holds it, to
// pass to the oidc-auth-core it is about to exec in its place. A command
// holds it when it found a token expired with nobody refreshing it (see
// waitForRefresh): oidc-auth-core then refreshes it, and must keep the
// lock until the new token is stored, so that the other commands that
// find the same token expired wait for it and answer with the new token
// instead of each starting an oidc-auth-core of its own. PassGate leaves
// the lock's descriptor open across the exec and puts its number in the
// environment as handoff.LockEnv, so that the core keeps it for as long as
// it runs and passes it to nothing it starts (handoff.AdoptLock). Should
// the command start the core as a child instead, the command holds the
// lock until the child ends.
func PassGate() {
	if gate < 0 {
		return
	}
	if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(gate), syscall.F_SETFD, 0); e != 0 {
		return
	}
	os.Setenv("OIDC_AUTH_HANDOFF_LOCK", strconv.Itoa(gate))
}

// waitForRefresh waits while another process refreshes the token of key
// in the token file at path, and reports whether the file is worth
// reading again. A refresh is under way while oidc-auth-core holds the
// login's lock (keyring's lock file of key), or while a command holds the
// login's hand-over lock, having started oidc-auth-core to refresh (see
// PassGate); when it ends, the file holds the new token. When neither lock
// is held, this process takes the hand-over lock: the refresh is for its
// oidc-auth-core to make, unless one ended between the caller's read of
// the file and the check of the locks, so this too reports true. It
// reports false when the wait runs out or the locks cannot be checked.
func waitForRefresh(path, key string) bool {
	if testHookLocks != nil {
		testHookLocks()
	}
	if os.Getenv("OIDC_AUTH_LOCK_TIMEOUT") != "" {
		return false
	}
	dir := lockDir(path)
	var st syscall.Stat_t
	if syscall.Lstat(dir, &st) == syscall.ENOENT {
		// The first refresh of this file: make the directory as keyring
		// makes it, beside the file readEntry checked.
		syscall.Mkdir(dir, 0o700)
	}
	if syscall.Lstat(dir, &st) != nil || uint32(st.Mode)&syscall.S_IFMT != syscall.S_IFDIR || !private(&st, false, 0o022) {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	name := filepath.Join(dir, hex.EncodeToString(sum[:8]))
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
		gate = fd
		return true
	}
	return wait(fd)
}

// testHookLocks, when set by a test, runs before waitForRefresh checks
// the locks: after the caller's read of the token file.
var testHookLocks func()

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

// wait waits until the lock of fd is free, for refreshWait at most, and
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
	t := time.NewTimer(refreshWait)
	defer t.Stop()
	select {
	case ok := <-done:
		return ok
	case <-t.C:
		return false
	}
}
