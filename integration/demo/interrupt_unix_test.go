//go:build unix

// Unix only: Ctrl-C reaches the demo as a SIGINT sent by the test, and Windows cannot send one to another process.

package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDemoInterrupted sends Ctrl-C's SIGINT to the demo while it logs in and
// checks that it exits 130 with its servers stopped and its temporary
// directory removed.
func TestDemoInterrupted(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	var seen strings.Builder
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if !signalled && sc.Text() == "== Logging in by device flow" {
				signalled = true
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					done <- err
				}
			}
		}
	}()
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	text := seen.String()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("demo after SIGINT: %v, want exit 130\nstdout:\n%s\nstderr:\n%s", err, text, stderr.String())
	}
	if !strings.Contains(text, "== Cleaning up") {
		t.Errorf("no cleanup step after SIGINT\n%s", text)
	}
	m := regexp.MustCompile(`go build -o (\S+)/bin/ `).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no build line naming the temporary directory\n%s", text)
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo left %s behind after SIGINT (%v)", m[1], err)
	}
	addrs := regexp.MustCompile(`(?m)^(?:auth|git) server: +http://(127\.0\.0\.1:[0-9]+)`).FindAllStringSubmatch(text, -1)
	if len(addrs) != 2 {
		t.Fatalf("want the addresses of the two servers, got %q\n%s", addrs, text)
	}
	for _, addr := range addrs {
		if c, err := net.DialTimeout("tcp", addr[1], time.Second); err == nil {
			c.Close()
			t.Errorf("a server still listens on %s after SIGINT", addr[1])
		}
	}
}
