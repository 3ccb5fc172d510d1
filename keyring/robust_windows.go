//go:build windows

package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
)

// errorSharingViolation is ERROR_SHARING_VIOLATION, which package syscall
// does not name.
const errorSharingViolation syscall.Errno = 32

// ephemeral reports whether err is one that Windows gives while another
// process holds the file open, and that goes away when it closes it.
func ephemeral(err error, notFound bool) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.ERROR_ACCESS_DENIED, errorSharingViolation:
		return true
	case syscall.ERROR_FILE_NOT_FOUND:
		return notFound
	}
	return false
}

// openShared opens path for reading with CreateFile, sharing read, write
// and delete access, so that a rename over path or its removal by another
// process succeeds while the file is open. A directory opens too (backup
// semantics), so that the caller's checks report it.
func openShared(path string) (*os.File, error) {
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL|syscall.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// rename renames oldpath to newpath. Within one directory it goes through
// os.Root, whose Rename asks for POSIX semantics (Windows 10 1607 and
// later, on NTFS): the new file replaces one that readers hold open with
// FILE_SHARE_DELETE (see openShared), which a plain MoveFileEx refuses.
// Where the file system lacks them, os.Root falls back to the classic
// rename itself.
func rename(oldpath, newpath string) error {
	dir := filepath.Dir(newpath)
	if filepath.Dir(oldpath) != dir {
		return os.Rename(oldpath, newpath)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return os.Rename(oldpath, newpath)
	}
	defer root.Close()
	if err := root.Rename(filepath.Base(oldpath), filepath.Base(newpath)); err != nil {
		var le *os.LinkError
		if errors.As(err, &le) {
			err = le.Err
		}
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: err}
	}
	return nil
}
