package keyring_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// readerEnv makes the test binary a reader process of the store file it
// names, in the way readerModeEnv says:
//
//   - "hold": opens the file with os.Open, as any program that reads it
//     does (on Windows, sharing no delete access), prints "open", keeps it
//     open for 300 ms and exits;
//   - "hold-long": likewise, but keeps it open for longHold, longer than
//     a rename is retried for files other than the store (a program that
//     reads the store slowly, or a machine that runs it slowly);
//   - "hold-shared": opens it with keyring.OpenShared, prints "open", and
//     keeps it open until its stdin ends;
//   - "loop": reads the file with os.ReadFile over and over, readerPause
//     apart, until its stdin ends, printing "open" after the first read
//     (on Windows, such a read fails for a moment while the file is
//     renamed, since it shares no delete access; it is tried again);
//   - "get": reads the store with FileStore.Get over and over, as cached
//     helper calls do, likewise.
//
// readerPause makes the loops far busier than helper calls, each a new
// process, can be, yet leaves the writer moments when the file is closed:
// under Wine, whose rename refuses to replace a file that any process has
// open, a loop with no pause at all keeps it open nearly all the time.
//
// A failing read is printed to stderr and ends the process with status 1.
const (
	readerEnv     = "KEYRING_TEST_READER"
	readerModeEnv = "KEYRING_TEST_READER_MODE"
	readerPause   = time.Millisecond
	longHold      = keyring.ReplaceWait + time.Second
)

func reader(path, mode string) {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "reader:", err)
		os.Exit(1)
	}
	var done atomic.Bool
	go func() {
		io.Copy(io.Discard, os.Stdin)
		done.Store(true)
	}()
	switch mode {
	case "hold", "hold-long", "hold-shared":
		open := os.Open
		if mode == "hold-shared" {
			open = keyring.OpenShared
		}
		f, err := open(path)
		if err != nil {
			fail(err)
		}
		fmt.Println("open")
		switch mode {
		case "hold":
			time.Sleep(300 * time.Millisecond)
		case "hold-long":
			time.Sleep(longHold)
		default:
			for !done.Load() {
				time.Sleep(5 * time.Millisecond)
			}
		}
		f.Close()
	case "loop", "get":
		s := &keyring.FileStore{Path: path}
		for i := 0; !done.Load(); i++ {
			var err error
			if mode == "loop" {
				_, err = os.ReadFile(path)
				if sharingViolation(err) {
					continue // a foreign reader's own problem; robustio.ReadFile retries it
				}
			} else {
				_, err = s.Get(context.Background(), "auth.example.org")
			}
			if err != nil {
				fail(err)
			}
			if i == 0 {
				fmt.Println("open")
			}
			time.Sleep(readerPause)
		}
	default:
		fail(fmt.Errorf("unknown mode %q", mode))
	}
}

// sharingViolation reports whether err is Windows' ERROR_SHARING_VIOLATION,
// which an open that shares no delete access gets while a writer renames
// the file.
func sharingViolation(err error) bool {
	var errno syscall.Errno
	return runtime.GOOS == "windows" && errors.As(err, &errno) && errno == 32
}

// startReader starts a reader process (see readerEnv) on path and waits
// until it has the file open. stop ends it and reports its failure.
func startReader(t *testing.T, path, mode string) (stop func()) {
	t.Helper()
	var (
		stdin  io.WriteCloser
		stdout io.ReadCloser
		stderr strings.Builder
	)
	cmd, err := testfs.Start(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), readerEnv+"="+path, readerModeEnv+"="+mode)
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if stdout, err = cmd.StdoutPipe(); err != nil {
			t.Fatal(err)
		}
		stderr.Reset()
		cmd.Stderr = &stderr
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "open\n" {
		stdin.Close()
		cmd.Wait()
		t.Fatalf("the %s reader did not start: %q %s", mode, line, stderr.String())
	}
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("the %s reader failed: %v %s", mode, err, stderr.String())
		}
	}
	t.Cleanup(stop)
	return stop
}

// liveToken is a token of n that stays live for the test.
func liveToken(n int) keyring.Token {
	exp := time.Now().Add(time.Hour).Unix()
	return keyring.Token{AccessToken: "access-" + strconv.Itoa(n), RefreshToken: "rotated-" + strconv.Itoa(n), Expires: exp, RefreshExpires: exp}
}

// TestPutWhileAnotherProcessHasTheStoreOpen stores a rotated login while
// another process has the store file open. Windows refuses to rename a
// file over one that a process holds open without sharing delete access
// (os.Open shares none; golang/go#32088): the server has already rotated
// the old refresh token, so a Put that failed so would log every process
// out. A reader that holds the file longer than other files' renames are
// retried for ("hold-long") only delays the Put, which waits as long as it
// waits for the store's lock.
func TestPutWhileAnotherProcessHasTheStoreOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mode := range []string{"hold", "hold-long", "hold-shared"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			if mode == "hold-shared" && underWine() {
				t.Skip("Wine's rename replaces no file that a process holds open, even one opened with FILE_SHARE_DELETE (it has no POSIX rename semantics); Windows 10 and later on NTFS do, and the retries cover readers that hold the file for a moment")
			}
			path := filepath.Join(t.TempDir(), "token-store.json")
			s := &keyring.FileStore{Path: path}
			if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(1)}); err != nil {
				t.Fatal(err)
			}
			stop := startReader(t, path, mode)
			start := time.Now()
			if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(2)}); err != nil {
				t.Fatalf("the rotated login is lost: %v", err)
			}
			took := time.Since(start)
			stop()
			rec, err := s.Get(ctx, "auth.example.org")
			if err != nil || rec.Token.RefreshToken != "rotated-2" {
				t.Fatalf("the store holds %+v, %v; want the rotated login", rec, err)
			}
			if mode == "hold-shared" && took > time.Second {
				t.Errorf("the Put waited %v for a reader that shares delete access", took)
			}
			t.Logf("Put took %v", took)
		})
	}
}

// TestPutsUnderConcurrentReaders writes many rotated logins while other
// processes read the store file in a tight loop, one as a foreign program
// does (os.ReadFile) and one as the helpers' cached get does
// (FileStore.Get): no Put may fail, no read may fail, and the file holds
// the last write.
func TestPutsUnderConcurrentReaders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := &keyring.FileStore{Path: path}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(0)}); err != nil {
		t.Fatal(err)
	}
	stops := []func(){startReader(t, path, "loop"), startReader(t, path, "get")}
	const puts = 100
	start := time.Now()
	var slowest time.Duration
	for n := 1; n <= puts; n++ {
		one := time.Now()
		if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(n)}); err != nil {
			t.Fatalf("Put %d under concurrent readers: %v", n, err)
		}
		slowest = max(slowest, time.Since(one))
	}
	took := time.Since(start)
	for _, stop := range stops {
		stop()
	}
	rec, err := s.Get(ctx, "auth.example.org")
	if err != nil || rec.Token.RefreshToken != "rotated-"+strconv.Itoa(puts) {
		t.Fatalf("the store holds %+v, %v; want write %d", rec, err, puts)
	}
	t.Logf("%d Puts under two reading processes took %v, the slowest %v", puts, took, slowest)
}

// TestRemoveWhileAnotherProcessHasTheStoreOpen logs out of a bare-token
// file, which removes the file, while another process has it open, for a
// moment or for longer than other files' removals are retried.
func TestRemoveWhileAnotherProcessHasTheStoreOpen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, mode := range []string{"hold", "hold-long"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "token")
			exp := time.Now().Add(time.Hour).Unix()
			if err := os.WriteFile(path, []byte(`{"access_token": "bare", "expires": `+strconv.FormatInt(exp, 10)+`}`), 0o600); err != nil {
				t.Fatal(err)
			}
			s := &keyring.FileStore{Path: path, BareServer: "https://auth.example.org"}
			startReader(t, path, mode)
			if err := s.Remove(ctx, "auth.example.org"); err != nil {
				t.Fatalf("Remove: %v", err)
			}
			if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the file is still there: %v", err)
			}
		})
	}
}
