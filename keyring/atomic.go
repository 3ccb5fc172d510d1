package keyring

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// replaceWait bounds the retries of a rename or remove that Windows refuses
// for a moment because another process has the file open, as Go's own
// cmd/go/internal/robustio does. The token store's own writes wait longer
// (fileWriteWait): a rotated login that is not saved is lost.
const replaceWait = 2 * time.Second

// maxRetrySleep caps the backoff between those retries, unlike robustio's,
// so that a file that readers open often, each for a moment, is still
// tried many times within replaceWait.
const maxRetrySleep = 20 * time.Millisecond

// WriteFileAtomic replaces path with data, readable by its owner only
// (0600): the data goes to a synced temporary file in the same directory
// (created 0700 when missing), which is renamed over path (see Rename), so
// that readers see the old content or the new, never a mix.
//
// A path that is a symbolic link (as dotfile managers make) is written
// through: the link's target is replaced and the link stays. This suits
// the user's own configuration files (docker's config.json, config.toml);
// the token store is never written this way, since FileStore refuses links.
func WriteFileAtomic(path string, data []byte) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	if err := writeAtomic(path, data, 0o600, nil, replaceWait); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return nil
}

// ReplaceFile replaces the file at path with data, with the permission
// bits perm (0600 for a secret; Windows keeps only the read-only bit): the
// data goes to a synced temporary file in the same directory (created 0700
// when missing), which is renamed over path (see Rename), so that readers
// see the old content or the new, never a mix, and a write that fails (a
// full disk, a read-only directory) leaves path as it was and no temporary
// file behind.
//
// Unlike WriteFileAtomic, it writes through no link: a symbolic link at
// path is refused with an *UnsafeError. Callers that refuse other files
// (another user's, a directory) check them first.
func ReplaceFile(path string, data []byte, perm fs.FileMode) error {
	if isLink(path) {
		problem := "is a symbolic link"
		if target, err := os.Readlink(path); err == nil {
			problem += " to " + target
		}
		return &UnsafeError{Path: path, Problem: problem, Fix: "oidc-auth does not write secrets through links: remove the link (rm " + shellQuote(path) + ") and run the command again"}
	}
	if err := writeAtomic(path, data, perm, nil, replaceWait); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	return nil
}

// writeAtomic replaces path with data through a temporary file beside it
// (see ReplaceFile), following no link. write, when set, stands in for the
// temporary file's writes. wait bounds the retries of the rename (see
// retryEphemeral). Its errors name no temporary file: on failure, that
// file is gone.
func writeAtomic(path string, data []byte, perm fs.FileMode, write func(*os.File, []byte) (int, error), wait time.Duration) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp") // 0600, O_EXCL
	if err != nil {
		return cleanPathError(err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			RemoveFile(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return cleanPathError(err)
	}
	if write == nil {
		write = (*os.File).Write
	}
	if _, err := write(f, data); err != nil {
		return cleanPathError(err)
	}
	if err := f.Sync(); err != nil {
		return cleanPathError(err)
	}
	if err := f.Close(); err != nil {
		return cleanPathError(err)
	}
	if err := retryEphemeral(wait, func() error { return rename(tmp, path) }, true); err != nil {
		return cleanPathError(err)
	}
	ok = true
	syncDir(dir)
	return nil
}

// Rename renames oldpath to newpath, replacing newpath, as os.Rename does.
// On Windows, which refuses to replace or remove a file that another
// process holds open without sharing delete access (a reader that used
// os.Open, a virus scanner, an indexer), it retries for up to two seconds
// with a randomized backoff (capped at 20 ms) while the error is ERROR_ACCESS_DENIED,
// ERROR_SHARING_VIOLATION or ERROR_FILE_NOT_FOUND, as Go's own
// cmd/go/internal/robustio does; the error returned is then the last one.
// Elsewhere it is os.Rename.
func Rename(oldpath, newpath string) error {
	return retryEphemeral(replaceWait, func() error { return rename(oldpath, newpath) }, true)
}

// RemoveFile removes the file at path, as os.Remove does, retrying on
// Windows like Rename (but not on ERROR_FILE_NOT_FOUND: the file is gone).
func RemoveFile(path string) error {
	return removeFile(path, replaceWait)
}

// removeFile is RemoveFile with wait bounding its retries.
func removeFile(path string, wait time.Duration) error {
	return retryEphemeral(wait, func() error { return os.Remove(path) }, false)
}

// OpenShared opens path for reading. On Windows it shares read, write and
// delete access with other handles, so that another process can rename a
// new file over path, or remove it, while it is open (os.Open shares no
// delete access; see golang/go#32088). Elsewhere it is os.Open.
func OpenShared(path string) (*os.File, error) {
	return openShared(path)
}

// retryEphemeral runs op until it succeeds, fails with an error that is
// not ephemeral on this platform (see ephemeral), or wait has passed since
// its first failure. notFound says whether ERROR_FILE_NOT_FOUND counts as
// ephemeral.
func retryEphemeral(wait time.Duration, op func() error, notFound bool) error {
	var start time.Time
	sleep := time.Millisecond
	for {
		err := op()
		if err == nil || !ephemeral(err, notFound) {
			return err
		}
		if start.IsZero() {
			start = time.Now()
		} else if time.Since(start)+sleep >= wait {
			return err
		}
		time.Sleep(sleep)
		if sleep += rand.N(sleep); sleep > maxRetrySleep {
			sleep = maxRetrySleep
		}
	}
}

// notDirAbove returns an error when a file other than a directory stands
// where a directory above path should be, and nil when none does (then
// path is simply missing).
func notDirAbove(path string) error {
	for dir := filepath.Dir(path); ; {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return &os.PathError{Op: "open", Path: dir, Err: syscall.ENOTDIR}
			}
			return nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return nil
		}
		dir = up
	}
}

// syncDir makes a rename in dir durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
