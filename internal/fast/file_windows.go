package fast

import (
	"os"
	"path/filepath"
	"syscall"

	"github.com/oidc-auth/oidc-auth/internal/jsonscan"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
)

// readsFiles says whether the cached path answers on this system.
const readsFiles = true

// readEntry returns the raw entry of key in the token file at path, with
// keyring's checks on Windows passed: a directory and a regular file, no
// link or other reparse point at either. It opens the file as keyring's
// readers do, sharing delete access, so that a writer's rename over it is
// never refused while it reads (see keyring.OpenShared). ok is false for
// anything else: a missing file, a refused one, a bare token, no entry, a
// file that is not JSON.
func readEntry(path, key string) (raw []byte, ok bool) {
	if fi, err := os.Lstat(filepath.Dir(path)); err != nil || !fi.IsDir() {
		return nil, false // a link's Lstat is no directory
	}
	p, err := syscall.UTF16PtrFromString(path)
	if err != nil {
		return nil, false
	}
	h, err := syscall.CreateFile(p, syscall.GENERIC_READ,
		syscall.FILE_SHARE_READ|syscall.FILE_SHARE_WRITE|syscall.FILE_SHARE_DELETE,
		nil, syscall.OPEN_EXISTING, syscall.FILE_ATTRIBUTE_NORMAL|syscall.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return nil, false
	}
	defer syscall.CloseHandle(h)
	var info syscall.ByHandleFileInformation
	if syscall.GetFileInformationByHandle(h, &info) != nil ||
		info.FileAttributes&(syscall.FILE_ATTRIBUTE_DIRECTORY|syscall.FILE_ATTRIBUTE_REPARSE_POINT) != 0 {
		return nil, false
	}
	size := int64(info.FileSizeHigh)<<32 | int64(info.FileSizeLow)
	if size <= 0 || size > 1<<30 {
		return nil, false
	}
	b := make([]byte, size+1)
	n := 0
	for n < len(b) {
		var done uint32
		if err := syscall.ReadFile(h, b[n:], &done, nil); err != nil {
			return nil, false
		}
		if done == 0 {
			break
		}
		n += int(done)
	}
	if n == len(b) { // it grew while it was read
		return nil, false
	}
	return tokenfile.Entry(b[:n], key, jsonscan.Checks)
}

// waitForRefresh does not wait on Windows: the commands take no lock there,
// and oidc-auth-core waits for another process's refresh itself.
func waitForRefresh(path, key string) bool { return false }

// PassGate does nothing on Windows.
func PassGate() {}
