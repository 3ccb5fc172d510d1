package keyring_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// holderName is the program name a lock holder of this test binary is
// reported under: its base name, cut to the 15 bytes of a Linux comm.
func holderName() string {
	name := filepath.Base(os.Args[0])
	if runtime.GOOS == "linux" && len(name) > 15 {
		name = name[:15]
	}
	return name
}

// startHolder starts the test binary as another process that holds the lock
// of key in the store at path (the store's write lock when key is empty),
// and returns once it does. The process is killed at the end of the test.
func startHolder(t *testing.T, path, key string) *exec.Cmd {
	t.Helper()
	var (
		stdin  io.WriteCloser
		stdout io.ReadCloser
	)
	cmd, err := testfs.Start(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), lockHolderEnv+"="+path, lockKeyEnv+"="+key)
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if stdout, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	locked := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		locked <- sc.Scan() && sc.Text() == "locked"
	}()
	select {
	case ok := <-locked:
		if !ok {
			t.Fatal("the holder process did not take the lock")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the holder process did not take the lock within 10s")
	}
	return cmd
}

// TestLockHolderIsWrittenAndCleared takes each store's lock in this
// process: the lock file then names this process, LockHolder says so, and
// after the release the file is still there, empty, and names no one.
func TestLockHolderIsWrittenAndCleared(t *testing.T) {
	t.Parallel()
	type holderStore interface {
		Lock(ctx context.Context, key string) (func(), error)
		LockHolder(key string) (keyring.LockHolder, bool)
	}
	newFile := func(t *testing.T) (holderStore, string) {
		s := &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}
		return s, keyring.LockPath(s, "auth.example.org")
	}
	tests := []struct {
		name  string
		store func(t *testing.T) (holderStore, string)
	}{
		{"file", newFile},
		{"keychain", func(t *testing.T) (holderStore, string) {
			dir := t.TempDir()
			s := &keyring.KeychainStore{Keychain: newFakeKeychain(), LockDir: dir}
			return s, keyring.LockPath(&keyring.FileStore{LockDir: dir}, "auth.example.org")
		}},
		{"auto", func(t *testing.T) (holderStore, string) {
			fs, lock := newFile(t)
			return &keyring.AutoStore{File: fs.(*keyring.FileStore), Keychain: &keyring.KeychainStore{Keychain: newFakeKeychain()}}, lock
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, lock := tt.store(t)
			if h, ok := s.LockHolder("auth.example.org"); ok {
				t.Errorf("LockHolder before any lock = %+v", h)
			}
			unlock, err := s.Lock(context.Background(), "https://AUTH.example.org/app")
			if err != nil {
				t.Fatal(err)
			}
			h, ok := s.LockHolder("auth.example.org")
			if runtime.GOOS == "windows" {
				// Windows locks the lock file's first byte against other handles.
				if ok {
					t.Errorf("LockHolder on windows = %+v, want none", h)
				}
			} else {
				if want := (keyring.LockHolder{PID: os.Getpid(), Command: holderName()}); !ok || h != want {
					t.Errorf("LockHolder = %+v, %v; want %+v", h, ok, want)
				}
				if b := readBytes(t, lock); string(b) != fmt.Sprintf("%d %s\n", os.Getpid(), filepath.Base(os.Args[0])) {
					t.Errorf("the lock file holds %q, want the PID and program name", b)
				}
			}
			unlock()
			if b := readBytes(t, lock); len(b) != 0 { // and the file stays: flock locks its inode
				t.Errorf("after the release the lock file holds %q", b)
			}
			if h, ok := s.LockHolder("auth.example.org"); ok {
				t.Errorf("LockHolder after the release = %+v", h)
			}
			if _, ok := s.LockHolder("https://"); ok {
				t.Errorf("LockHolder of a bad key answered")
			}
		})
	}
}

// TestLockOfKilledHolderIsFree kills (SIGKILL) another process that holds a
// lock: the lock is free at once, and LockHolder names no one although the
// dead process's line is still in the file.
func TestLockOfKilledHolderIsFree(t *testing.T) {
	t.Parallel()
	s := &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}
	cmd := startHolder(t, s.Path, "auth.example.org")
	if runtime.GOOS != "windows" {
		if h, ok := s.LockHolder("auth.example.org"); !ok || h.PID != cmd.Process.Pid {
			t.Errorf("LockHolder = %+v, %v; want the holder process %d", h, ok, cmd.Process.Pid)
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	unlock, err := s.Lock(ctx, "auth.example.org")
	if err != nil {
		t.Fatalf("the lock of a killed holder: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("took %v to take the lock of a killed holder", d)
	}
	unlock()
	if h, ok := s.LockHolder("auth.example.org"); ok {
		t.Errorf("LockHolder after the holder was killed = %+v", h)
	}
}

// TestLockHolderOfDeadProcess reads a lock file left by a process that is
// gone without releasing it: it names no one.
func TestLockHolderOfDeadProcess(t *testing.T) {
	t.Parallel()
	s := &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}
	cmd, err := testfs.Start(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$") // runs no test and exits
		cmd.Env = append(os.Environ(), lockHolderEnv+"=", crashWriterEnv+"=")
		return cmd
	})
	if err == nil {
		err = cmd.Wait()
	}
	if err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid // exited and reaped
	lock := keyring.LockPath(s, "auth.example.org")
	for _, content := range []string{fmt.Sprintf("%d oidc-auth\n", dead), "", "12", "x y\n", "-1 oidc-auth\n", fmt.Sprintf("%d oidc-auth", os.Getpid())} {
		if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(lock, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if h, ok := s.LockHolder("auth.example.org"); ok {
			t.Errorf("LockHolder of %q = %+v, want none", content, h)
		}
	}
}
