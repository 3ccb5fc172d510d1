package keyring_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// crashWriterEnv makes the test binary a writer process for
// TestFileStoreSurvivesKill: it writes numbered tokens to the store file it
// names, printing each number once its Put has returned.
const crashWriterEnv = "KEYRING_TEST_CRASH_WRITER"

// lockHolderEnv makes the test binary a lock holder for the lock tests: it
// takes the lock of the key in lockKeyEnv (the store's own write lock when
// that is empty) of the store file it names, prints "locked", and holds the
// lock until its stdin ends.
const (
	lockHolderEnv = "KEYRING_TEST_LOCK_HOLDER"
	lockKeyEnv    = "KEYRING_TEST_LOCK_KEY"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashWriterEnv); path != "" {
		crashWriter(path)
		return
	}
	if path := os.Getenv(lockHolderEnv); path != "" {
		lockHolder(path, os.Getenv(lockKeyEnv))
		return
	}
	if path := os.Getenv(readerEnv); path != "" {
		reader(path, os.Getenv(readerModeEnv))
		return
	}
	os.Exit(m.Run())
}

func lockHolder(path, key string) {
	s := &keyring.FileStore{Path: path}
	lock := func() (func(), error) { return keyring.LockStore(context.Background(), s) }
	if key != "" {
		lock = func() (func(), error) { return s.Lock(context.Background(), key) }
	}
	unlock, err := lock()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	unlock()
}

func crashWriter(path string) {
	ctx := context.Background()
	s := &keyring.FileStore{Path: path}
	n := 0
	if rec, err := s.Get(ctx, "crash.example.org"); err == nil {
		n, _ = strconv.Atoi(rec.Token.AccessToken)
	}
	out := bufio.NewWriter(os.Stdout)
	exp := time.Now().Add(time.Hour).Unix()
	for {
		n++
		tok := keyring.Token{AccessToken: strconv.Itoa(n), RefreshToken: "r" + strconv.Itoa(n), Expires: exp, RefreshExpires: exp}
		if err := s.Put(ctx, "crash.example.org", &keyring.Record{Token: tok}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintln(out, n)
		out.Flush()
	}
}

// TestFileStoreSurvivesKill kills a writer with SIGKILL at random moments,
// many times over: the file must always parse, keep the other entries, and
// hold the last write that completed (or the one in flight, if its rename
// landed). A killed writer's lock must not block the next one.
func TestFileStoreSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills 40 processes")
	}
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := &keyring.FileStore{Path: path}
	keep := sampleToken("keep")
	keep.Expires, keep.RefreshExpires = time.Now().Add(time.Hour).Unix(), time.Now().Add(time.Hour).Unix()
	if err := s.Put(ctx, "keep.example.org", &keyring.Record{Token: keep}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	last := 0
	for round := range 40 {
		var stdout io.ReadCloser
		cmd, err := testfs.Start(func() *exec.Cmd {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), crashWriterEnv+"="+path)
			var err error
			if stdout, err = cmd.StdoutPipe(); err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			return cmd
		})
		if err != nil {
			t.Fatal(err)
		}
		lines := make(chan int, 1<<16)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				n, _ := strconv.Atoi(sc.Text())
				lines <- n
			}
			close(lines)
		}()
		// Let it write at least once (a held lock would stop it), then a
		// random while longer.
		select {
		case n := <-lines:
			last = n
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("round %d: the writer made no progress: a lock left by the killed writer blocks it?", round)
		}
		time.Sleep(time.Duration(rng.IntN(20_000)) * time.Microsecond)
		cmd.Process.Kill()
		// Every line the writer printed before it died, to its end (its
		// end of the pipe closes with it), then Wait, which closes ours:
		// waiting first could drop lines still in the pipe.
		for n := range lines {
			last = n
		}
		cmd.Wait()

		rec, err := s.Get(ctx, "crash.example.org")
		if err != nil {
			b, _ := os.ReadFile(path)
			t.Fatalf("round %d: the store does not read after a kill: %v\n%s", round, err, b)
		}
		got, _ := strconv.Atoi(rec.Token.AccessToken)
		if got != last && got != last+1 {
			t.Fatalf("round %d: the store holds write %d, the last completed write was %d", round, got, last)
		}
		if rec.Token.RefreshToken != "r"+rec.Token.AccessToken {
			t.Fatalf("round %d: a torn record: %+v", round, rec.Token)
		}
		if k, err := s.Get(ctx, "keep.example.org"); err != nil || k.Token.AccessToken != "keep" {
			t.Fatalf("round %d: the other entry was lost: %+v, %v", round, k, err)
		}
		last = got
	}
	// The next write clears what killed writers left behind.
	if err := s.Put(ctx, "keep.example.org", &keyring.Record{Token: keep}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s is left after the next write", e.Name())
		}
	}
	t.Logf("40 kills survived; last write %d", last)
}
