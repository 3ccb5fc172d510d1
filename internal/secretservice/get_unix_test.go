//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the Secret Service is the keychain of Linux and the BSDs; Windows has the Credential Manager.

package secretservice

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	gokeyring "github.com/zalando/go-keyring"
)

// TestGetAgreesWithGoKeyring reads items go-keyring wrote to a real Secret
// Service (scripts/with-secret-service): the same secrets, in the order
// asked for, several in one Get; ErrNotFound when any user has no item.
func TestGetAgreesWithGoKeyring(t *testing.T) {
	needSecretService(t)
	service := "oidc-auth-test-" + t.Name()
	want := map[string]string{
		"https://a.example.org":         strings.Repeat("s€cret ", 500),
		"https://b.example.org#g.1":     "part one",
		"https://b.example.org#g.2":     "",
		"oidc+https://idp.example.org?": `{"token": {"access_token": "x"}}`,
	}
	for user, secret := range want {
		if err := gokeyring.Set(service, user, secret); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gokeyring.Delete(service, user) })
	}
	users := []string{"oidc+https://idp.example.org?", "https://a.example.org", "https://b.example.org#g.2", "https://b.example.org#g.1"}
	got, err := Get(service, users...)
	if err != nil {
		t.Fatal(err)
	}
	for i, user := range users {
		if got[i] != want[user] {
			t.Errorf("%s: %d bytes, want the %d bytes go-keyring stored", user, len(got[i]), len(want[user]))
		}
		if g, err := gokeyring.Get(service, user); err != nil || g != got[i] {
			t.Errorf("%s: go-keyring reads %d bytes, %v", user, len(g), err)
		}
	}
	for _, users := range [][]string{
		{"https://c.example.org"},
		{"https://a.example.org", "https://c.example.org"},
	} {
		if _, err := Get(service, users...); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", users, err)
		}
	}
	if _, err := Get(service+"-other", "https://a.example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of another service's user: %v, want ErrNotFound", err)
	}
}

// TestGetLeavesTheDaemonRunning reads one item from a real Secret Service
// in 250 bursts of eight readers at once, as `git fetch --jobs 8` starts
// helpers, each Get on a connection of its own as each command's is, and
// counts the reads the daemon refused and the times it exited (another
// process owns org.freedesktop.secrets after a burst).
//
// gnome-keyring-daemon 42 sometimes handles a new client's call before it
// has made its record of the client ("assertion 'client' failed" in its
// messages): the call fails, and where the call opens a session, the
// daemon aborts. D-Bus then starts another daemon, whose login keyring is
// locked. Several clients at once make this far likelier, and so does a
// busy machine; the lock of lockReads keeps the user's reads apart. Under
// -race, on a machine kept busy by four spinning processes, 20,000 reads
// without the lock had 10 refused and the daemon exit once; 80,000 with
// it had 2 refused, and the daemon exit once. So a run of these 2,000
// reads may see a refused read, or one exit (a CI run did), and the test
// allows that much. A refused read is ErrUnusual, which the commands
// answer with go-keyring's read.
//
// What it catches is Get's calls making the daemon exit again and again:
// it exited within 34 to 2,124 reads of one reader while Get hung up just
// after a Close it did not wait for. On an idle machine it does not tell
// reads under the lock from reads without it (two runs without it: 0 and
// 1 refused, no exit); TestGetWaitsForClose pins the Close, and
// TestGetsGoOneAtATime the lock.
//
// It reads a daemon of its own (onDaemonOfItsOwn), not the one the other
// packages' tests share, whose other clients this lock does not hold
// back; D-Bus starts an exited one again unlocked there
// (TestACrashedDaemonComesBackUnlocked).
func TestGetLeavesTheDaemonRunning(t *testing.T) {
	if !onDaemonOfItsOwn(t) {
		return
	}
	service := "oidc-auth-test-" + t.Name()
	if err := gokeyring.Set(service, "u", strings.Repeat("x", 1500)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gokeyring.Delete(service, "u") })
	conn := sessionBus(t)
	owner := func() string {
		name, err := secretsOwner(conn)
		if err != nil {
			return "none (" + err.Error() + ")"
		}
		return name
	}
	const bursts, readers, refusable, exits = 250, 8, 3, 1
	var refused atomic.Int32
	exited, reads, was := 0, 0, owner()
	for b := range bursts {
		reads += readers
		var wg sync.WaitGroup
		for r := range readers {
			wg.Go(func() {
				v, err := Get(service, "u")
				switch {
				case errors.Is(err, ErrUnusual) && refused.Add(1) <= refusable:
					t.Logf("burst %d, reader %d refused: %v", b+1, r, err)
				case err != nil || len(v) != 1 || len(v[0]) != 1500:
					t.Errorf("burst %d, reader %d: %d values, %v", b+1, r, len(v), err)
				}
			})
		}
		wg.Wait()
		if now := owner(); now != was {
			t.Logf("burst %d: org.freedesktop.secrets is %s, was %s", b+1, now, was)
			if !strings.HasPrefix(was, "none") { // not the start of the next one
				exited++
			}
			if exited > exits {
				t.Errorf("the daemon exited %d times in %d reads; want at most %d", exited, reads, exits)
			}
			was = now
		}
		if t.Failed() {
			break
		}
	}
	t.Logf("%d reads, %d refused, the daemon exited %d times", reads, refused.Load(), exited)
}

// TestACrashedDaemonComesBackUnlocked: when the daemon dies (as
// gnome-keyring-daemon aborts; see lock_unix.go), the next read starts
// another one from the service file of scripts/with-secret-service, which
// unlocks the login keyring, and reads the same secret: in the tests, a
// crash costs the read in flight, not every keychain test after it.
func TestACrashedDaemonComesBackUnlocked(t *testing.T) {
	if !onDaemonOfItsOwn(t) {
		return
	}
	service := "oidc-auth-test-" + t.Name()
	if err := gokeyring.Set(service, "u", "the secret"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gokeyring.Delete(service, "u") })
	conn := sessionBus(t)
	first, err := secretsOwner(conn)
	if err != nil {
		t.Fatal(err)
	}
	var pid uint32
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, first).Store(&pid); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(int(pid), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretsName).Store(&has); err != nil {
			t.Fatal(err)
		}
		if !has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has an owner 10 s after its daemon (pid %d) was killed", secretsName, pid)
		}
	}
	var got []string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if got, err = Get(service, "u"); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil || len(got) != 1 || got[0] != "the secret" {
		t.Fatalf("the read after the daemon was killed: %q, %v; want the secret, from a daemon D-Bus started unlocked", got, err)
	}
	if now, err := secretsOwner(conn); err != nil || now == first {
		t.Errorf("the secret came from %q (%v), where the daemon killed was %s", now, err, first)
	}
}

// onDaemonOfItsOwn runs the test again in a session bus and Secret
// Service of its own (scripts/with-secret-service), and reports whether
// it runs there; outside, it fails the test when the run inside did not
// pass. Such tests stress or stop the daemon, which would disturb the
// other packages' tests on the one they share.
func onDaemonOfItsOwn(t *testing.T) bool {
	t.Helper()
	needSecretService(t)
	if os.Getenv("OIDC_AUTH_TEST_OWN_DAEMON") == "1" {
		return true
	}
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "with-secret-service"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(script, os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "OIDC_AUTH_TEST_OWN_DAEMON=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("on a daemon of its own: %v\n%s", err, out)
	}
	t.Logf("on a daemon of its own:\n%s", out)
	return false
}

// sessionBus is a connection of the test's own to the session bus, closed
// when the test ends.
func sessionBus(t *testing.T) *dbus.Conn {
	t.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// secretsOwner is the unique bus name of the process that owns
// org.freedesktop.secrets now: another one means another daemon.
func secretsOwner(conn *dbus.Conn) (string, error) {
	var owner string
	err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, secretsName).Store(&owner)
	return owner, err
}

// needSecretService skips the test where no Secret Service is promised
// (OIDC_AUTH_TEST_KEYCHAIN unset), and fails it where one is promised
// but no session bus is found.
func needSecretService(t *testing.T) {
	t.Helper()
	switch why := BusMissing(); {
	case os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1":
		t.Skip("no Secret Service promised here (OIDC_AUTH_TEST_KEYCHAIN unset); scripts/with-secret-service provides one")
	case why != "":
		t.Fatalf("OIDC_AUTH_TEST_KEYCHAIN=1, but %s", why)
	}
}

// TestTheScriptsDaemonEndsWithIt: what D-Bus starts from the service file
// of scripts/with-secret-service (its --daemon) is the daemon, unlocking
// with the keyring's password on its stdin, and its end is the script's:
// the script's exit status is the daemon's, and nothing else runs after
// it. (A daemon started in a pipeline once let the script go on, when
// the daemon exited 0 at the end of a CI run, to start a session bus of
// its own and run "--daemon" as a command in it.)
func TestTheScriptsDaemonEndsWithIt(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "with-secret-service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, status := range []int{0, 3} {
		bin := t.TempDir()
		log := filepath.Join(bin, "log")
		fake := func(name, body string) {
			if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		fake("gnome-keyring-daemon", `printf 'daemon %s stdin=' "$*" >>"`+log+`"; cat >>"`+log+`"; echo >>"`+log+`"; exit `+strconv.Itoa(status))
		for _, name := range []string{"dbus-run-session", "dbus-send"} {
			fake(name, `echo "`+name+` $*" >>"`+log+`"`)
		}
		cmd := exec.Command(script, "--daemon")
		cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		code := 0
		if exit := (*exec.ExitError)(nil); errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != status {
			t.Errorf("a daemon that exits %d: the script ended with %v\n%s", status, err, out)
		}
		got, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if want := "daemon --foreground --unlock --components=secrets stdin=ci-keyring\n"; string(got) != want {
			t.Errorf("a daemon that exits %d; what ran:\n%s\nwant only the daemon:\n%s", status, got, want)
		}
	}
}
