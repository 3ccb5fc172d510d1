//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Unix only: ETXTBSY, a program open for writing, is the kernel's refusal there.

package testfs

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestStartWaitsOutABusyProgram: a program that is still open for writing
// when it is started (a copy whose descriptor a concurrently forked child
// holds) is refused with ETXTBSY; Start tries again, and starts it once the
// descriptor is closed.
func TestStartWaitsOutABusyProgram(t *testing.T) {
	sh, err := os.ReadFile("/bin/sh")
	if err != nil {
		t.Skip("no /bin/sh to copy:", err)
	}
	prog := filepath.Join(t.TempDir(), "prog")
	f, err := os.OpenFile(prog, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(sh); err != nil {
		t.Fatal(err)
	}
	newCmd := func() *exec.Cmd { return exec.Command(prog, "-c", "exit 0") }
	if err := newCmd().Start(); !isBusy(err) {
		t.Fatalf("starting a program open for writing: %v, want ETXTBSY", err)
	}
	time.AfterFunc(100*time.Millisecond, func() { f.Close() })
	cmd, err := Start(newCmd)
	if err != nil {
		t.Fatalf("Start did not wait out the writer: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func isBusy(err error) bool {
	pe, ok := err.(*os.PathError)
	return ok && pe.Err == syscall.ETXTBSY
}
