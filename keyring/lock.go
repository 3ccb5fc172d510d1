package keyring

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/gofrs/flock"

	"github.com/oidc-auth/oidc-auth/flows"
)

// lockRetry is how often a busy lock is tried again.
const lockRetry = 15 * time.Millisecond

// LockHolder names the process that holds a lock (see flows.LockHolder).
type LockHolder = flows.LockHolder

// LockError reports a lock file that could not be created or taken in time.
type LockError struct {
	// Path is the lock file.
	Path string
	// Err says what went wrong; when the wait ended with its context, it is
	// the context's error.
	Err error
	// Holder is the process that held the lock when the wait ended; zero
	// when unknown.
	Holder LockHolder
	// Waited is how long the lock was waited for.
	Waited time.Duration
}

// Error names the lock file and what went wrong; after a wait, it names
// the process that holds the lock and what to do about it.
func (e *LockError) Error() string {
	if !e.timedOut() {
		return fmt.Sprintf("keyring: lock file %s: %v", e.Path, e.Err)
	}
	who, check := "another process", ""
	switch {
	case e.Holder.PID > 0:
		who = "process " + strconv.Itoa(e.Holder.PID)
		if e.Holder.Command != "" {
			who += " (" + e.Holder.Command + ")"
		}
		check = fmt.Sprintf(`check it with "ps -p %d", `, e.Holder.PID)
	case runtime.GOOS != "windows":
		check = `find it with "lsof ` + shellQuote(e.Path) + `", `
	}
	return fmt.Sprintf("keyring: lock file %s: %s has held it for %s; it may be stopped or hung: %send it, or wait and try again",
		e.Path, who, roundWait(e.Waited), check)
}

// Unwrap returns the cause.
func (e *LockError) Unwrap() error { return e.Err }

// timedOut reports whether the wait ended with its context.
func (e *LockError) timedOut() bool {
	return errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, context.Canceled)
}

// roundWait rounds a wait for messages: to the second from one second on.
func roundWait(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// lockPath returns the lock file of key in dir: a hash of the key, so that
// any key makes a valid file name.
func lockPath(dir, key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(dir, hex.EncodeToString(sum[:8])+".lock")
}

// lockOpenFlags open a lock file: created when missing, read-only where
// flock allows it (so that an existing lock file on a read-only file system
// still locks), never through a symbolic link.
func lockOpenFlags() int {
	switch runtime.GOOS {
	case "aix", "solaris", "illumos": // fcntl locks need a writable file
		return os.O_CREATE | os.O_RDWR | openFlags
	}
	return os.O_CREATE | os.O_RDONLY | openFlags
}

// lockFile takes an exclusive advisory lock on path (creating it and its
// directory when missing), waiting until ctx ends. The operating system
// drops the lock when its process dies, so a killed holder never blocks the
// next process. The holder writes "PID NAME\n" into the lock file (see
// LockHolder) and empties it again on release; the file itself stays, as
// flock locks its inode. The returned function releases the lock.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := ensureLockDir(filepath.Dir(path)); err != nil {
		var ue *UnsafeError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &LockError{Path: path, Err: fmt.Errorf("cannot create its directory: %w", cleanPathError(err))}
	}
	if !refusesLinks && isLink(path) {
		return nil, linkError(path, roleLock)
	}
	start := time.Now()
	fl := flock.New(path, flock.SetFlag(lockOpenFlags()), flock.SetPermissions(0o600))
	var ok bool
	var err error
	if ctx.Err() == nil && flows.DebugEnabled(ctx, flows.DebugDetails) {
		// Say who holds the lock before waiting for it.
		if ok, err = fl.TryLock(); err == nil && !ok {
			if h, known := readHolder(path); known {
				flows.Debugf(ctx, flows.DebugDetails, "store: lock %s is held by process %d (%s); waiting", path, h.PID, h.Command)
			} else {
				flows.Debugf(ctx, flows.DebugDetails, "store: lock %s is held; waiting", path)
			}
		}
	}
	if !ok && err == nil {
		ok, err = fl.TryLockContext(ctx, lockRetry)
	}
	if err != nil && ctx.Err() == nil {
		if isLink(path) {
			return nil, linkError(path, roleLock)
		}
		return nil, &LockError{Path: path, Err: cleanPathError(err)}
	}
	if !ok {
		cause := ctx.Err()
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		h, _ := readHolder(path)
		return nil, &LockError{Path: path, Err: cause, Holder: h, Waited: time.Since(start)}
	}
	fi, err := fl.Stat() // fstat of the locked descriptor
	if err == nil {
		err = checkFile(path, fi, roleLock)
	}
	if err != nil {
		fl.Unlock()
		var ue *UnsafeError
		if errors.As(err, &ue) {
			return nil, err
		}
		return nil, &LockError{Path: path, Err: cleanPathError(err)}
	}
	hf := writeHolder(path, fi)
	if waited := time.Since(start); waited >= 50*time.Millisecond {
		flows.Debugf(ctx, flows.DebugDecisions, "store: lock %s taken after waiting %v", path, roundWait(waited))
	} else {
		flows.Debugf(ctx, flows.DebugDetails, "store: lock %s taken", path)
	}
	return func() {
		if hf != nil {
			hf.Truncate(0) // still under the lock: the next holder writes its own
			hf.Close()
		}
		fl.Unlock()
	}, nil
}

// writeHolder writes this process's PID and program name into the lock
// file at path, which this process holds locked (fi is its fstat), and
// returns the file to empty it on release. It is best effort: a lock whose
// holder cannot be written (a full disk, a read-only file system) is still
// held, and reports no holder.
func writeHolder(path string, locked fs.FileInfo) *os.File {
	if !writesHolders {
		return nil
	}
	f, err := openNoFollow(path, os.O_WRONLY, 0)
	if err != nil {
		return nil
	}
	if fi, err := f.Stat(); err != nil || !os.SameFile(fi, locked) || f.Truncate(0) != nil {
		f.Close()
		return nil
	}
	name := "?"
	if len(os.Args) > 0 {
		name = printable(filepath.Base(os.Args[0]))
	}
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+" "+name+"\n"), 0)
	return f
}

// readHolder returns the process that the lock file at path names, if it
// still exists. It takes no lock: the answer is what the file says now.
func readHolder(path string) (LockHolder, bool) {
	f, err := openNoFollow(path, os.O_RDONLY, 0)
	if err != nil {
		return LockHolder{}, false
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || checkFile(path, fi, roleLock) != nil {
		return LockHolder{}, false
	}
	b := make([]byte, 256)
	n, _ := io.ReadFull(f, b)
	line, complete := bytes.CutSuffix(b[:n], []byte("\n"))
	if !complete || bytes.IndexByte(line, '\n') >= 0 {
		return LockHolder{}, false // empty, or being written
	}
	pidText, name, _ := strings.Cut(string(line), " ")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return LockHolder{}, false
	}
	alive, live := processState(pid)
	if !alive {
		return LockHolder{}, false
	}
	if live != "" {
		name = live
	}
	return LockHolder{PID: pid, Command: printable(name)}, true
}

// processState reports whether process pid exists and, on Linux, its live
// name. A zombie, dead but not yet reaped, does not count.
func processState(pid int) (alive bool, name string) {
	if runtime.GOOS == "linux" {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err == nil {
			// "4242 (oidc-auth) S …"; the name may hold spaces and parentheses.
			open, end := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
			if open >= 0 && end > open && end+2 < len(b) {
				state := b[end+2]
				return state != 'Z' && state != 'X', string(b[open+1 : end])
			}
		} else if errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat("/proc/self/stat"); err == nil {
				return false, ""
			}
		}
	}
	return processAlive(pid), ""
}

// printable keeps a program name to one short line of printable text.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
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
