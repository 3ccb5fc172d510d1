//go:build unix

package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// openFlags go with every open of the token store, a lock file or the
// keychain marker: a symbolic link at the path fails the open instead of
// being followed, and a FIFO there does not block it.
const openFlags = syscall.O_NOFOLLOW | syscall.O_NONBLOCK

// refusesLinks says that the open itself refuses a link (openFlags).
const refusesLinks = true

// writesHolders says that a lock's holder writes its PID into the lock file
// (see lockFile).
const writesHolders = true

// checkPerm applies the Unix ownership and mode rules to path, whose
// fi comes from an Lstat or fstat: the token store must be the user's own
// with no group or other bits (chmod 600); a lock file must be the user's
// own; the store's directory must be the user's or root's, and the lock
// directory the user's, neither writable by group or others.
func checkPerm(path string, fi fs.FileInfo, r role) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	euid, uid := os.Geteuid(), int(st.Uid)
	mode := uint32(st.Mode) & 0o7777
	// The user's name (a read of /etc/passwd, or NSS) goes into refusals
	// only: a store that passes, as on every cached get, needs none.
	me := func() string { return userName(euid) }
	switch r {
	case roleStore, roleLock:
		if uid != euid {
			fix := fmt.Sprintf("chown %s %s, or remove it and log in again", shellQuote(me()), shellQuote(path))
			if r == roleLock {
				fix = fmt.Sprintf("chown %s %s, or remove it; oidc-auth makes it again", shellQuote(me()), shellQuote(path))
			}
			return &UnsafeError{
				Path:    path,
				Problem: fmt.Sprintf("is owned by %s, not by you (%s)", userName(uid), me()),
				Fix:     fix,
			}
		}
		if r == roleStore && mode&0o077 != 0 {
			return &UnsafeError{Path: path, Problem: modeProblem(mode), Fix: "chmod 600 " + shellQuote(path)}
		}
	case roleStoreDir, roleLockDir:
		if uid != euid && (r == roleLockDir || uid != 0) {
			return &UnsafeError{
				Path:    path,
				Problem: fmt.Sprintf("is owned by %s, not by you (%s)", userName(uid), me()),
				Fix:     fmt.Sprintf("chown %s %s, or keep the token store in a directory of your own", shellQuote(me()), shellQuote(path)),
			}
		}
		if mode&0o022 != 0 {
			what := "the token store"
			if r == roleLockDir {
				what = "the lock files"
			}
			if mode&0o1000 != 0 || uid != euid { // a shared directory such as /tmp
				return &UnsafeError{
					Path:    path,
					Problem: fmt.Sprintf("is writable by other users (mode %04o), who could replace %s in it", mode, what),
					Fix:     privateDirFix(path, me()),
				}
			}
			return &UnsafeError{
				Path:    path,
				Problem: fmt.Sprintf("can be changed by other users (mode %04o), who could replace %s in it", mode, what),
				Fix:     "chmod go-w " + shellQuote(path),
			}
		}
	}
	return nil
}

// userName returns the name of the user uid, or the number when it has
// none.
func userName(uid int) string {
	id := strconv.Itoa(uid)
	if u, err := user.LookupId(id); err == nil && u.Username != "" {
		return u.Username
	}
	return id
}

// processAlive reports whether a process pid exists (perhaps of another
// user).
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
