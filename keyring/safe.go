package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// UnsafeError reports a token store, lock file or directory that the store
// does not trust, as OpenSSH's StrictModes does: a symbolic link, a file
// that is not a regular file, one owned by another user, or one that other
// users can read or change. The store neither reads nor writes through it.
type UnsafeError struct {
	// Path is the file or directory refused.
	Path string
	// Problem is what is wrong with it, as a phrase that follows Path:
	// "is a symbolic link to /home/u/.ssh/authorized_keys".
	Problem string
	// Fix is what to do about it, with the command to run.
	Fix string
}

// Error names the path, its problem and its fix in one line.
func (e *UnsafeError) Error() string {
	return "keyring: " + e.Path + " " + e.Problem + "; " + e.Fix
}

// role says what a checked path is to the store, which decides the checks
// and the advice.
type role int

const (
	roleStore    role = iota // the token store file
	roleStoreDir             // the directory of the token store file
	roleLockDir              // the directory of the lock files
	roleLock                 // a lock file, or the keychain marker beside them
)

// errLink is returned by openNoFollow for a symbolic link at the path.
var errLink = errors.New("is a symbolic link")

// openNoFollow opens path without following a symbolic link at it (and,
// where the platform has them, without blocking on a FIFO there). A link at
// path gives errLink. On Windows, a file opened for reading shares delete
// access (see OpenShared), so that no reader stops a writer's rename.
func openNoFollow(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if !refusesLinks && isLink(path) {
		return nil, errLink
	}
	if !refusesLinks && flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) == 0 {
		return openShared(path)
	}
	f, err := os.OpenFile(path, flag|openFlags, perm)
	if err != nil && refusesLinks && !errors.Is(err, fs.ErrNotExist) && isLink(path) {
		// ELOOP on Linux, EMLINK on FreeBSD, EFTYPE on NetBSD.
		return nil, errLink
	}
	return f, err
}

// isLink reports whether path is a symbolic link.
func isLink(path string) bool {
	fi, err := os.Lstat(path)
	return err == nil && fi.Mode()&fs.ModeSymlink != 0
}

// linkError refuses the symbolic link at path.
func linkError(path string, r role) *UnsafeError {
	problem := "is a symbolic link"
	if target, err := os.Readlink(path); err == nil {
		problem += " to " + target
	}
	var fix string
	switch r {
	case roleStore:
		fix = "oidc-auth does not follow links to its token store: remove the link (rm " + shellQuote(path) +
			") or point " + TokenFileEnv + " at a real file"
	case roleStoreDir:
		fix = "oidc-auth does not follow a link to its token store's directory: replace the link with a directory (rm " +
			shellQuote(path) + " && mkdir -m 700 " + shellQuote(path) + ") or point " + TokenFileEnv + " at a file in a real directory"
	case roleLockDir:
		fix = "oidc-auth does not follow a link to its lock directory: remove the link (rm " + shellQuote(path) +
			"); oidc-auth makes the directory again"
	default:
		fix = "oidc-auth does not follow links in its lock directory: remove the link (rm " + shellQuote(path) +
			"); oidc-auth makes the file again"
	}
	return &UnsafeError{Path: path, Problem: problem, Fix: fix}
}

// checkDir refuses the store's directory or the lock directory when it is a
// symbolic link or, on Unix, when another user owns it or may write to it.
// A missing directory, or something that is no directory, passes: the next
// open or mkdir reports it.
func checkDir(dir string, r role) error {
	fi, err := os.Lstat(dir)
	switch {
	case err != nil:
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		return linkError(dir, r)
	case !fi.IsDir():
		return nil
	}
	return checkPerm(dir, fi, r)
}

// checkFile refuses an opened file (fi from its fstat) that is not a
// regular file or, on Unix, that another user owns or (for the token store)
// that other users may read or change.
func checkFile(path string, fi fs.FileInfo, r role) error {
	if !fi.Mode().IsRegular() {
		what := "is not a regular file (mode " + fi.Mode().String() + ")"
		if fi.IsDir() {
			what = "is a directory, not a file"
		}
		fix := "oidc-auth keeps its tokens in a regular file: remove it, or point " + TokenFileEnv + " at a file"
		if r != roleStore {
			fix = "remove it; oidc-auth makes the file again"
		}
		return &UnsafeError{Path: path, Problem: what, Fix: fix}
	}
	return checkPerm(path, fi, r)
}

// ensureLockDir makes the lock directory dir (0700) when missing and checks
// it. MkdirAll creates nothing through a link at dir itself, which the check
// then refuses.
func ensureLockDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if isLink(dir) {
			return linkError(dir, roleLockDir)
		}
		return err
	}
	return checkDir(dir, roleLockDir)
}

// shellQuote quotes s for a POSIX shell when it needs quoting, so that the
// commands in messages can be pasted.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,=~", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// privateDirFix is the advice for a token store in a directory that other
// users may write to, such as /tmp.
func privateDirFix(dir, user string) string {
	return "put the token store in a private directory: mkdir -m 700 " + shellQuote(filepath.Join(dir, "oidc-auth-"+user)) +
		" and point " + TokenFileEnv + " at a file in it"
}

// modeProblem describes the group and other bits of a file's mode perm.
func modeProblem(perm uint32) string {
	var what string
	switch r, w := perm&0o044 != 0, perm&0o022 != 0; {
	case r && w:
		what = "can be read and changed by other users"
	case w:
		what = "can be changed by other users"
	case r:
		what = "can be read by other users"
	default:
		what = "has permissions for other users"
	}
	return fmt.Sprintf("%s (mode %04o)", what, perm)
}
