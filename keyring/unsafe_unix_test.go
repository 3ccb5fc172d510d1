//go:build unix

// Unix only: the checks of owners, modes, /tmp and named pipes are Unix's; on Windows the store lives in the profile, whose ACL protects it (TestDefaultFilePathHome checks the place).

package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// otherUID is a user the tests as root give files to.
const otherUID = 65534

// nameOf returns the user name of uid as the store's messages give it.
func nameOf(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return u.Username
	}
	return strconv.Itoa(uid)
}

// chownOther gives path to another user, which needs root.
func chownOther(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root")
	}
	if err := os.Lchown(path, otherUID, otherUID); err != nil {
		t.Fatal(err)
	}
}

func chmod(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// TestFileStoreStrictModes gives the store file, its directory, its lock
// directory and a lock file an owner or mode other users could abuse:
// every operation that uses it refuses with the command that fixes it, and
// the store file is left exactly as it was.
func TestFileStoreStrictModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	me := nameOf(os.Geteuid())
	const content = `{"https://auth.example.org": {"token": {"access_token": "old", "expires": 1767225600}, "stored_at": 1}}`
	tests := []struct {
		name string
		// setup spoils the store at path (which holds content, in a 0700
		// directory) and returns the refused path and the expected message.
		setup func(t *testing.T, path string) (refused, want string)
		ops   []string
	}{
		{"world-readable file", func(t *testing.T, path string) (string, string) {
			chmod(t, path, 0o644)
			return path, fmt.Sprintf("keyring: %[1]s can be read by other users (mode 0644); chmod 600 %[1]s", path)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"group-readable file", func(t *testing.T, path string) (string, string) {
			chmod(t, path, 0o640)
			return path, fmt.Sprintf("keyring: %[1]s can be read by other users (mode 0640); chmod 600 %[1]s", path)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"world-writable file", func(t *testing.T, path string) (string, string) {
			chmod(t, path, 0o666)
			return path, fmt.Sprintf("keyring: %[1]s can be read and changed by other users (mode 0666); chmod 600 %[1]s", path)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"group-writable file", func(t *testing.T, path string) (string, string) {
			chmod(t, path, 0o620)
			return path, fmt.Sprintf("keyring: %[1]s can be changed by other users (mode 0620); chmod 600 %[1]s", path)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"file of another user", func(t *testing.T, path string) (string, string) {
			chownOther(t, path)
			return path, fmt.Sprintf("keyring: %[1]s is owned by %[2]s, not by you (%[3]s); chown %[3]s %[1]s, or remove it and log in again", path, nameOf(otherUID), me)
		}, []string{"Get", "Put", "Remove", "List"}},
		{"group-writable directory", func(t *testing.T, path string) (string, string) {
			dir := filepath.Dir(path)
			chmod(t, dir, 0o770)
			return dir, fmt.Sprintf("keyring: %[1]s can be changed by other users (mode 0770), who could replace the token store in it; chmod go-w %[1]s", dir)
		}, []string{"Get", "Put", "Remove", "List", "Lock"}},
		{"shared directory like /tmp", func(t *testing.T, path string) (string, string) {
			dir := filepath.Dir(path)
			chmod(t, dir, 0o777|fs.ModeSticky)
			return dir, fmt.Sprintf("keyring: %[1]s is writable by other users (mode 1777), who could replace the token store in it; put the token store in a private directory: mkdir -m 700 %[1]s/oidc-auth-%[2]s and point OIDC_TOKEN_FILE at a file in it", dir, me)
		}, []string{"Get", "Put", "Remove", "List", "Lock"}},
		{"directory of another user", func(t *testing.T, path string) (string, string) {
			dir := filepath.Dir(path)
			chownOther(t, dir)
			return dir, fmt.Sprintf("keyring: %[1]s is owned by %[2]s, not by you (%[3]s); chown %[3]s %[1]s, or keep the token store in a directory of your own", dir, nameOf(otherUID), me)
		}, []string{"Get", "Put", "Remove", "List", "Lock"}},
		{"group-writable lock directory", func(t *testing.T, path string) (string, string) {
			locks := filepath.Join(filepath.Dir(path), ".token-store.json.locks")
			if err := os.Mkdir(locks, 0o700); err != nil {
				t.Fatal(err)
			}
			chmod(t, locks, 0o775)
			return locks, fmt.Sprintf("keyring: %[1]s can be changed by other users (mode 0775), who could replace the lock files in it; chmod go-w %[1]s", locks)
		}, []string{"Put", "Remove", "Lock"}},
		{"lock directory of another user", func(t *testing.T, path string) (string, string) {
			locks := filepath.Join(filepath.Dir(path), ".token-store.json.locks")
			if err := os.Mkdir(locks, 0o700); err != nil {
				t.Fatal(err)
			}
			chownOther(t, locks)
			return locks, fmt.Sprintf("keyring: %[1]s is owned by %[2]s, not by you (%[3]s); chown %[3]s %[1]s, or keep the token store in a directory of your own", locks, nameOf(otherUID), me)
		}, []string{"Put", "Remove", "Lock"}},
		{"lock file of another user", func(t *testing.T, path string) (string, string) {
			lock := keyring.LockPath(&keyring.FileStore{Path: path}, "auth.example.org")
			if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(lock, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			chownOther(t, lock)
			return lock, fmt.Sprintf("keyring: %[1]s is owned by %[2]s, not by you (%[3]s); chown %[3]s %[1]s, or remove it; oidc-auth makes it again", lock, nameOf(otherUID), me)
		}, []string{"Lock"}},
	}
	for _, tt := range tests {
		for _, op := range storeOps(ctx) {
			if !slices.Contains(tt.ops, op.name) {
				continue
			}
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				dir := filepath.Join(t.TempDir(), "store")
				if err := os.Mkdir(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(dir, "token-store.json")
				if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				refused, want := tt.setup(t, path)
				before, err := os.Lstat(path)
				if err != nil {
					t.Fatal(err)
				}

				wantUnsafe(t, op.do(newFileStore(path)), refused, want)

				if got := readBytes(t, path); string(got) != content {
					t.Errorf("%s changed the file to %s", op.name, got)
				}
				after, err := os.Lstat(path)
				if err != nil || after.Mode() != before.Mode() || !os.SameFile(before, after) {
					t.Errorf("%s replaced the file or changed its mode (%v to %v)", op.name, before.Mode(), after.Mode())
				}
				if names := dirNames(t, dir); !slices.Equal(names, []string{"token-store.json"}) {
					t.Errorf("the directory holds %q", names)
				}
			})
		}
	}
}

// TestFileStoreInTmpIsRefused uses a token file directly in /tmp, which
// every user may write to: it is refused with the advice to make a private
// directory, and nothing is created in /tmp.
func TestFileStoreInTmpIsRefused(t *testing.T) {
	t.Parallel()
	fi, err := os.Lstat("/tmp")
	if err != nil || fi.Mode().Perm()&0o002 == 0 {
		t.Skipf("/tmp is not world-writable here (%v, %v)", fi, err)
	}
	path := fmt.Sprintf("/tmp/oidc-auth-test-%d-%d.json", os.Getpid(), time.Now().UnixNano())
	s := newFileStore(path)
	err = s.Put(context.Background(), "auth.example.org", &keyring.Record{Token: sampleToken("a")})
	want := fmt.Sprintf("keyring: /tmp is writable by other users (mode %04o), who could replace the token store in it; put the token store in a private directory: mkdir -m 700 /tmp/oidc-auth-%s and point OIDC_TOKEN_FILE at a file in it",
		uint32(fi.Sys().(*syscall.Stat_t).Mode)&0o7777, nameOf(os.Geteuid()))
	wantUnsafe(t, err, "/tmp", want)
	if _, err := s.Get(context.Background(), "auth.example.org"); err == nil || err.Error() != want {
		t.Errorf("Get: %v", err)
	}
	for _, p := range []string{path, "/tmp/." + filepath.Base(path) + ".locks"} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was created (%v)", p, err)
			os.RemoveAll(p)
		}
	}
}

// TestFileStoreRootDirectoryIsTrusted reads a store in a directory of
// root's that others cannot write to, as a CI image's /etc might hold.
func TestFileStoreRootDirectoryIsTrusted(t *testing.T) {
	t.Parallel()
	fi, err := os.Stat("/etc")
	if err != nil || fi.Sys().(*syscall.Stat_t).Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
		t.Skipf("/etc is not root's 0755 directory here (%v)", err)
	}
	_, err = newFileStore("/etc/oidc-auth-test-absent.json").Get(context.Background(), "auth.example.org")
	if !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get from a root-owned directory: %v, want ErrNotFound", err)
	}
}

// TestFileStoreRefusesFIFO puts a named pipe at the store's path: the
// store refuses it at once instead of waiting for a writer.
func TestFileStoreRefusesFIFO(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, op := range storeOps(ctx) {
		if op.name == "Lock" {
			continue
		}
		t.Run(op.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "token-store.json")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skipf("no FIFOs here: %v", err)
			}
			done := make(chan error, 1)
			go func() { done <- op.do(newFileStore(path)) }()
			select {
			case err := <-done:
				var ue *keyring.UnsafeError
				if !errors.As(err, &ue) || ue.Problem != "is not a regular file (mode prw-------)" {
					t.Fatalf("err = %v, want an UnsafeError for a FIFO", err)
				}
				if want := fmt.Sprintf("keyring: %s is not a regular file (mode prw-------); oidc-auth keeps its tokens in a regular file: remove it, or point OIDC_TOKEN_FILE at a file", path); err.Error() != want {
					t.Errorf("error\n got %s\nwant %s", err, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("%s hangs on a FIFO", op.name)
			}
			if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
				t.Errorf("the FIFO was replaced: %v", err)
			}
		})
	}
}

// TestFileStoreModeFixWorks runs the command a refusal names and tries
// again: the store then works.
func TestFileStoreModeFixWorks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, 0o644)
	s := newFileStore(path)
	var ue *keyring.UnsafeError
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); !errors.As(err, &ue) || ue.Fix != "chmod 600 "+path {
		t.Fatalf("Put: %v", err)
	}
	chmod(t, path, 0o600) // the fix
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
		t.Fatal(err)
	}
	if b := readBytes(t, path); !bytes.Contains(b, []byte(`"access_token": "a"`)) {
		t.Errorf("file after the fix: %s", b)
	}
}
