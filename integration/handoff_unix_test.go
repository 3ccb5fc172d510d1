//go:build !windows

// Unix only: the test sends SIGTERM to a command, which Windows cannot send (TestHandoffPassesEverything covers the child there).

package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// TestHandoffChildSignals: a request too long for a pipe goes to the core
// as a child of the command; a SIGTERM that git sends the command reaches
// the core, and the command ends by the same signal once the core has,
// leaving no process behind.
func TestHandoffChildSignals(t *testing.T) {
	t.Parallel()
	dir := frontsWithFakeCore(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	path := "PATH=" + noCorePath(t)
	var out io.Reader
	cmd, err := testfs.Start(func() *exec.Cmd { // the command is a fresh copy
		cmd := exec.CommandContext(ctx, filepath.Join(dir, "git-credential-oidc"), "get") // a get: every command reads it
		cmd.Env = append(inheritedEnv(), path, fakeCoreVariable+"=wait")
		cmd.Stdin = bytes.NewReader(noBlankLine(100 << 10))
		detach(cmd)
		var perr error
		if out, perr = cmd.StdoutPipe(); perr != nil {
			t.Fatal(perr)
		}
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	var got handedOver
	if !lines.Scan() || json.Unmarshal(lines.Bytes(), &got) != nil || !lines.Scan() || lines.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the fake core did not report and wait: %q", lines.Text())
	}
	if got.PID == cmd.Process.Pid || got.StdinLen != 100<<10 {
		t.Errorf("core PID %d (command %d), %d bytes read: want a child that read all 100 KiB", got.PID, cmd.Process.Pid, got.StdinLen)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("want death by SIGTERM: %v", err)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("the command ended %v, want by SIGTERM", exit)
	}
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(got.PID, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(got.PID, syscall.SIGKILL)
			t.Fatalf("the core %d outlived the command", got.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
