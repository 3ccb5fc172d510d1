package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// fillDisk writes to a new file in dir until the file system is full.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1024)
	for range 1 << 20 {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the file system: %v", err)
			}
			return
		}
	}
	t.Fatal("the file system did not fill up")
}

// injectWriteError makes s's writes of new content fail with errno after
// writing half of it, as a disk that fills up mid-write does.
func injectWriteError(s *keyring.FileStore, errno error) {
	keyring.SetWriteHook(s, func(f *os.File, b []byte) (int, error) {
		n, err := f.Write(b[:len(b)/2])
		if err != nil {
			return n, err
		}
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: errno}
	})
}

// TestFileStorePutFailureKeepsOldStore makes a Put of a new, large token
// fail as a full disk or a read-only directory makes it fail: the error
// names the file and the cause, the old file is byte for byte as it was,
// still reads, and no temporary file is left. Where a real tmpfs cannot be
// mounted (not root), or a read-only directory cannot be made (root
// without mount), the same failure is injected into the write instead.
func TestFileStorePutFailureKeepsOldStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	big := &keyring.Record{Token: bigToken(64<<10, "big")}

	tests := []struct {
		name string
		// fail makes the next write of s fail (on the mounted tmpfs when
		// mounted), and returns the expected error text after "keyring:
		// cannot save the token to PATH: " and the expected errno.
		fail func(t *testing.T, s *keyring.FileStore, mounted bool) (text string, errno error)
		// mount is the tmpfs to mount at the store's directory first, if
		// any.
		mount string
	}{
		{"disk full", func(t *testing.T, s *keyring.FileStore, mounted bool) (string, error) {
			if mounted {
				fillDisk(t, filepath.Dir(s.Path))
				return "no space left on device", syscall.ENOSPC
			}
			injectWriteError(s, syscall.ENOSPC)
			return "no space left on device", syscall.ENOSPC
		}, "16k"},
		{"read-only directory", func(t *testing.T, s *keyring.FileStore, mounted bool) (string, error) {
			dir := filepath.Dir(s.Path)
			if mounted {
				if err := remountReadOnly(dir); err != nil {
					t.Fatalf("remount read-only: %v", err)
				}
				return "read-only file system", syscall.EROFS
			}
			if runtime.GOOS != "windows" && os.Geteuid() != 0 {
				if err := os.Chmod(dir, 0o500); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { os.Chmod(dir, 0o700) })
				return "permission denied", syscall.EACCES
			}
			injectWriteError(s, syscall.EROFS)
			return "read-only file system", syscall.EROFS
		}, "64k"},
		{"injected write error", func(t *testing.T, s *keyring.FileStore, _ bool) (string, error) {
			injectWriteError(s, syscall.ENOSPC)
			return "no space left on device", syscall.ENOSPC
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "store")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			mounted := false
			if tt.mount != "" {
				if err := mountTmpfs(t, dir, tt.mount); err != nil {
					t.Logf("no tmpfs (%v): injecting the failure instead", err)
				} else {
					mounted = true
					t.Logf("a real %s tmpfs", tt.mount)
				}
			}
			path := filepath.Join(dir, "token-store.json")
			s := newFileStore(path)
			if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("old")}); err != nil {
				t.Fatal(err)
			}
			if err := s.Put(ctx, "other.example.org", &keyring.Record{Token: sampleToken("other")}); err != nil {
				t.Fatal(err)
			}
			old := readBytes(t, path)
			text, errno := tt.fail(t, s, mounted)
			namesBefore := dirNames(t, dir) // with the filler, if any

			err := s.Put(ctx, "auth.example.org", big)
			if err == nil {
				t.Fatal("Put succeeded")
			}
			if want := "keyring: cannot save the token to " + path + ": " + text; err.Error() != want {
				t.Errorf("error\n got %s\nwant %s", err, want)
			}
			if !errors.Is(err, errno) {
				t.Errorf("error %v does not wrap %v", err, errno)
			}
			if got := readBytes(t, path); !bytes.Equal(got, old) {
				t.Errorf("the old file changed to %.200s…", got)
			}
			if names := dirNames(t, dir); !reflect.DeepEqual(names, namesBefore) {
				t.Errorf("the directory holds %q, held %q before the Put", names, namesBefore)
			}
			for _, n := range dirNames(t, dir) {
				if strings.HasSuffix(n, ".tmp") {
					t.Errorf("temporary file %s left behind", n)
				}
			}
			for key, access := range map[string]string{"auth.example.org": "old", "other.example.org": "other"} {
				if rec, err := s.Get(ctx, key); err != nil || rec.Token.AccessToken != access {
					t.Errorf("Get %s after the failed Put = %+v, %v; want token %s", key, rec, err, access)
				}
			}
		})
	}
}
