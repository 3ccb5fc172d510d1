package testfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// readerEnv makes a test binary that imports this package, started again
// by StartFileReader, a reader of the file it names before any test runs:
// it opens the file with os.Open, as kubectl, an HTCondor job or an editor
// do (on Windows, sharing no delete access), prints "open", keeps the file
// open for 300 ms and exits.
const readerEnv = "OIDC_AUTH_TESTFS_FILE_READER"

func init() {
	path := os.Getenv(readerEnv)
	if path == "" {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reader:", err)
		os.Exit(1)
	}
	fmt.Println("open")
	time.Sleep(300 * time.Millisecond)
	f.Close()
	os.Exit(0)
}

// StartFileReader starts another process (this test binary again) that
// holds path open for 300 ms, as a program reading the file would, and
// returns once that process has the file open; wait waits for its end and
// fails the test if the reader failed.
func StartFileReader(t *testing.T, path string) (wait func()) {
	t.Helper()
	var (
		stdout io.ReadCloser
		stderr strings.Builder
		err    error
	)
	cmd, err := Start(func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), readerEnv+"="+path)
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
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); line != "open\n" {
		cmd.Wait()
		t.Fatalf("the reader did not open %s: %q %s", path, line, stderr.String())
	}
	return func() {
		if err := cmd.Wait(); err != nil {
			t.Errorf("the reader failed: %v %s", err, stderr.String())
		}
	}
}
