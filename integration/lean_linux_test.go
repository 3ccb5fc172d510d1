// Unix only: the first stage of the commands (internal/lean), whose memo these tests change, is Linux's.

package integration

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestLeanAsksTheCoreAgain: the first stage answers a get from what the
// core wrote down only while nothing it was written down for has changed.
// Each change below makes it hand the get over (and, the core unrunnable,
// fail): a new core build, a memo file that others may read, a login whose
// recorded server is another, a config edited; and once the core has
// answered again, it answers by itself again.
func TestLeanAsksTheCoreAgain(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	py := s.login(srv)
	s.writeConfig(`[[server]]
match = "https://git.example.org/team/"
host = "` + srv.URL() + `"
`)
	a := newAlone(t, "git-credential-oidc")
	get := "protocol=https\nhost=git.example.org\npath=team/app.git\n\n"
	run := func() result {
		t.Helper()
		r, err := s.execute(runTimeout, s.dir, get, s.environ(), a.path("git-credential-oidc"), "get")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	answers := func(what string) {
		t.Helper()
		if r := run(); r.code != 0 || !strings.Contains(r.stdout, "password="+py.Token.AccessToken+"\n") {
			t.Fatalf("%s: the command did not answer by itself\n%v", what, r)
		}
	}
	handsOver := func(what string) {
		t.Helper()
		if r := run(); r.code != 1 || !strings.Contains(r.stderr, "oidc-auth-core is missing") {
			t.Errorf("%s: the command did not hand over\n%v", what, r)
		}
		if r, _ := a.warm(t, run); r.code != 0 {
			t.Fatalf("%s: the core did not answer\n%v", what, r)
		}
		answers(what + ", then the core answered")
	}
	handsOver("before the core answered once")

	fi, err := os.Stat(a.core)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(a.core, time.Time{}, fi.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	handsOver("another build of the core")

	memos, _ := filepath.Glob(filepath.Join(s.cache, "oidc-auth", "config-matches-memo-*"))
	if len(memos) != 1 {
		t.Fatalf("memo files %q, want one", memos)
	}
	if err := os.Chmod(memos[0], 0o640); err != nil {
		t.Fatal(err)
	}
	if r := run(); r.code != 1 {
		t.Errorf("a memo others may read: the command answered from it\n%v", r)
	}
	if err := os.Chmod(memos[0], 0o600); err != nil {
		t.Fatal(err)
	}
	answers("the memo private again")

	key := keyOf(t, srv.URL())
	b := s.storeBytes()
	if err := os.WriteFile(s.storePath(), []byte(strings.Replace(string(b), `"host": "`+srv.URL()+`"`, `"host": "`+srv.URL()+`/"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if string(s.storeBytes()) == string(b) {
		t.Fatalf("no recorded host in the entry of %s to change:\n%s", key, b)
	}
	handsOver("a login recorded for the server's URL with a slash")

	s.writeConfig(`[[server]]
match = "https://git.example.org/team/"
host = "` + srv.URL() + `"
username = "someone"
`)
	handsOver("a config edited")
}

// TestLeanReadsANonBlockingInput: git's request arrives in two writes on a
// pipe that the parent made non-blocking; the first stage waits for the
// rest, as os.Stdin's reads do, and answers the whole request.
func TestLeanReadsANonBlockingInput(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	py := s.login(srv)
	s.writeConfig("[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"" + srv.URL() + "\"\n")
	a := newAlone(t, "git-credential-oidc")
	get := "protocol=https\nhost=git.example.org\npath=team/app.git\n\n"
	if r, _ := a.warm(t, func() result {
		r, err := s.execute(runTimeout, s.dir, get, s.environ(), a.path("git-credential-oidc"), "get")
		if err != nil {
			t.Fatal(err)
		}
		return r
	}); r.code != 0 || !strings.Contains(r.stdout, "password="+py.Token.AccessToken+"\n") {
		t.Fatalf("the core did not answer\n%v", r)
	}
	// Not through os/exec, which makes a descriptor it passes blocking.
	var in [2]int
	if err := syscall.Pipe2(in[:], syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(in[1])
	out, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	bin := a.path("git-credential-oidc")
	pid, err := syscall.ForkExec(bin, []string{bin, "get"}, &syscall.ProcAttr{Dir: s.dir, Env: s.environ(), Files: []uintptr{uintptr(in[0]), w.Fd(), w.Fd()}})
	syscall.Close(in[0])
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	half := len(get) / 2
	syscall.Write(in[1], []byte(get[:half]))
	time.Sleep(200 * time.Millisecond)
	syscall.Write(in[1], []byte(get[half:]))
	b, _ := io.ReadAll(out)
	var ws syscall.WaitStatus
	if _, err := syscall.Wait4(pid, &ws, 0, nil); err != nil || ws.ExitStatus() != 0 || !strings.Contains(string(b), "password="+py.Token.AccessToken+"\n") {
		t.Fatalf("the command answered %q (%v, exit %d)", b, err, ws.ExitStatus())
	}
}
