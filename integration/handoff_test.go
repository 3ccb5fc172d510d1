package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// fakeCoreVariable, set, makes the test binary act as oidc-auth-core: the
// hand-over tests put a copy of it beside a command, to see exactly what
// the command hands over. Its value is the exit code to end with, or
// "wait" to say "ready" on stdout after reading stdin and wait to be
// killed, or countingCore followed by a file's path.
const fakeCoreVariable = "OIDC_AUTH_TEST_FAKE_CORE"

// countingCore, followed by a file's path, makes the fake core count
// itself: it adds its process ID to that file and execs the real
// oidc-auth-core (named by realCoreVariable) in its place, with its own
// arguments (argv[0] included), environment, standard input and open
// descriptors, so that the command works as it does with the real core
// beside it, and the file says how many times a core was started.
const countingCore = "count:"

// realCoreVariable names the real oidc-auth-core for countingCore.
const realCoreVariable = "OIDC_AUTH_TEST_REAL_CORE"

// handedOver is what the fake core saw, as it prints it on stdout.
type handedOver struct {
	Argv0    string
	Args     []string
	StdinLen int
	StdinSHA string
	PID      int
}

// fakeCore is the test binary run as oidc-auth-core: it reads its standard
// input to the end and prints its argv[0], arguments, standard input's
// length and digest, and process ID.
func fakeCore(mode string) int {
	if path, ok := strings.CutPrefix(mode, countingCore); ok {
		return countAndExecCore(path)
	}
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake core:", err)
		return 100
	}
	sum := sha256.Sum256(in)
	json.NewEncoder(os.Stdout).Encode(handedOver{
		Argv0: os.Args[0], Args: os.Args[1:], StdinLen: len(in), StdinSHA: hex.EncodeToString(sum[:]), PID: os.Getpid(),
	})
	if mode == "wait" {
		fmt.Println("ready")
		time.Sleep(time.Minute)
		return 101
	}
	code, err := strconv.Atoi(mode)
	if err != nil {
		return 102
	}
	return code
}

// placeFakeCore puts the fake core, as oidc-auth-core, into dir.
func placeFakeCore(t *testing.T, dir string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	to := filepath.Join(dir, "oidc-auth-core"+exe)
	// Windows cannot remove a link to the running test binary: a copy there.
	if runtime.GOOS == "windows" || os.Link(self, to) != nil {
		copyFile(t, self, to)
	}
}

// frontsWithFakeCore copies the three commands into a new directory with
// the fake core beside them, and returns it.
func frontsWithFakeCore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bin")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{oidcAuthBin, gitCredentialBin, dockerCredentialBin} {
		copyFile(t, bin, filepath.Join(dir, filepath.Base(bin)))
	}
	placeFakeCore(t, dir)
	return dir
}

// noCorePath is a PATH on which no oidc-auth-core is found: the test's
// own without the directories that hold one.
func noCorePath(t *testing.T) string {
	t.Helper()
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "oidc-auth-core"+exe)); err == nil || d == "" || !filepath.IsAbs(d) {
			continue
		}
		keep = append(keep, d)
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// runFront runs bin in dir with args, stdin and env, bounded by runTimeout
// and without a controlling terminal, and returns the command (ended), its
// stdout and stderr, and the error of its run.
func runFront(t *testing.T, dir, bin string, stdin io.Reader, env []string, args ...string) (cmd *exec.Cmd, stdout, stderr *bytes.Buffer, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	t.Cleanup(cancel)
	stdout, stderr = &bytes.Buffer{}, &bytes.Buffer{}
	cmd, err = testfs.Start(func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Dir = dir
		cmd.Env = env
		cmd.Stdin = stdin
		cmd.Stdout, cmd.Stderr = stdout, stderr
		cmd.WaitDelay = outputDelay
		detach(cmd)
		return cmd
	})
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not end in %v: %v\nstderr: %s", filepath.Base(bin), args, runTimeout, err, stderr)
	}
	return cmd, stdout, stderr, err
}

// noBlankLine is n bytes of input that hold no empty line, so that the git
// command reads them to the end: every byte value but "\n" after "\n" or
// "\r", or first.
func noBlankLine(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		c := byte(i * 7 % 251)
		if i%61 == 60 {
			c = '\n'
		}
		if c == '\n' && (i == 0 || b[i-1] == '\n' || b[i-1] == '\r') {
			c = 'y'
		}
		b[i] = c
	}
	return b
}

// openInput is the reading end of a pipe that holds data and stays open
// until the test ends.
func openInput(t *testing.T, data string) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if _, err := w.WriteString(data); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHandoffPassesEverything: each command hands over to the
// oidc-auth-core beside it with its own name as argv[0], its arguments,
// the same environment, its standard input byte for byte (read first and
// passed through a pipe, or, longer than a pipe holds or than the command
// reads, through a child it feeds) and the core's exit code. On Unix the
// core takes over the command's process when its input fits a pipe; on
// Linux, whose commands read standard input only for a get, also for
// every other request.
func TestHandoffPassesEverything(t *testing.T) {
	t.Parallel()
	dir := frontsWithFakeCore(t)
	work := t.TempDir()
	for _, tt := range []struct {
		program string
		args    []string
		size    int
		samePID bool // on Unix: the core replaced the command
		linux   bool // samePID on Linux
	}{
		{"oidc-auth", []string{"token", "https://auth.example.org", "--json"}, 0, true, true},
		{"oidc-auth", []string{"exec", "--", "sh", "-c", "echo \"$1\"", "x y"}, 300 << 10, true, true}, // standard input untouched
		{"git-credential-oidc", []string{"get"}, 0, true, true},
		{"git-credential-oidc", []string{"get"}, 100, true, true},
		{"git-credential-oidc", []string{"get"}, 60<<10 + 1, false, false},
		{"git-credential-oidc", []string{"get"}, 1<<20 + 4097, false, false}, // more than a command reads
		{"git-credential-oidc", []string{"store"}, 60 << 10, true, true},
		{"git-credential-oidc", []string{"erase"}, 60<<10 + 1, false, true},
		{"git-credential-oidc", []string{"-v", "get"}, 200 << 10, true, true}, // not read: the core reads it
		{"docker-credential-oidc", []string{"get"}, 50, true, true},
		{"docker-credential-oidc", []string{"get"}, 300 << 10, false, false},
		{"docker-credential-oidc", []string{"store"}, 300 << 10, false, true},
		{"docker-credential-oidc", []string{"erase"}, 1<<20 + 4097, false, true},
		{"docker-credential-oidc", []string{"list"}, 10, true, true},
	} {
		t.Run(fmt.Sprintf("%s %s %d", tt.program, strings.Join(tt.args, " "), tt.size), func(t *testing.T) {
			in := noBlankLine(tt.size)
			sum := sha256.Sum256(in)
			env := append(inheritedEnv(), "PATH="+noCorePath(t), fakeCoreVariable+"=7", "OIDC_AUTH_TEST_MARK=kept")
			cmd, stdout, stderr, err := runFront(t, work, filepath.Join(dir, tt.program+exe), bytes.NewReader(in), env, tt.args...)
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 7 {
				t.Fatalf("want exit 7 (the core's): %v\nstdout: %s\nstderr: %s", err, stdout, stderr)
			}
			var got handedOver
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatalf("the fake core's report: %v\n%s\nstderr: %s", err, stdout, stderr)
			}
			if got.Argv0 != tt.program || !slices.Equal(got.Args, tt.args) {
				t.Errorf("the core ran as %q %q, want %q %q", got.Argv0, got.Args, tt.program, tt.args)
			}
			if got.StdinLen != len(in) || got.StdinSHA != hex.EncodeToString(sum[:]) {
				t.Errorf("the core read %d bytes (sha256 %.12s), want the %d written (%.12x)", got.StdinLen, got.StdinSHA, len(in), sum)
			}
			if runtime.GOOS != "windows" {
				want := tt.samePID
				if leanStage {
					want = tt.linux
				}
				if same := got.PID == cmd.Process.Pid; same != want {
					t.Errorf("core PID %d, command PID %d: same %v, want %v", got.PID, cmd.Process.Pid, same, want)
				}
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr: %s", stderr)
			}
		})
	}
}

// TestHandoffGitBlankLine: git's request ends at a blank line, and the git
// command hands over once it has read one, even while its standard input
// stays open, as the core itself stops there.
func TestHandoffGitBlankLine(t *testing.T) {
	t.Parallel()
	dir := frontsWithFakeCore(t)
	request := "protocol=https\nhost=git.example.org\n\n"
	r := openInput(t, request)
	_, stdout, stderr, err := runFront(t, t.TempDir(), filepath.Join(dir, "git-credential-oidc"+exe), r, append(inheritedEnv(), "PATH="+noCorePath(t), fakeCoreVariable+"=0"), "get")
	var got handedOver
	if err != nil || json.Unmarshal(stdout.Bytes(), &got) != nil {
		t.Fatalf("%v\nstdout: %s\nstderr: %s", err, stdout, stderr)
	}
	if sum := sha256.Sum256([]byte(request)); got.StdinLen != len(request) || got.StdinSHA != hex.EncodeToString(sum[:]) {
		t.Errorf("the core read %d bytes, want the request's %d", got.StdinLen, len(request))
	}
}

// TestHandoffMissingCore: a command with no oidc-auth-core beside it nor
// on PATH says so in one line that says how to install it, and exits 1,
// without waiting for more input; a "." or relative entry of PATH does
// not count, even with an oidc-auth-core in the current directory.
func TestHandoffMissingCore(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "alone")
	cwd := t.TempDir()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(cwd, "rel"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{oidcAuthBin, gitCredentialBin, dockerCredentialBin} {
		copyFile(t, bin, filepath.Join(dir, filepath.Base(bin)))
	}
	// A core that would run, in the current directory and in a relative
	// PATH entry: the fake one, which exits 0.
	placeFakeCore(t, cwd)
	placeFakeCore(t, filepath.Join(cwd, "rel"))
	sep := string(os.PathListSeparator)
	path := "." + sep + sep + "rel" + sep + noCorePath(t)
	for _, tt := range []struct {
		program string
		args    []string
	}{
		{"oidc-auth", []string{"token", "https://auth.example.org"}},
		{"git-credential-oidc", []string{"get"}},
		{"docker-credential-oidc", []string{"get"}},
	} {
		bin := filepath.Join(dir, tt.program+exe)
		// Standard input stays open: a command must not wait for it.
		in := io.Reader(openInput(t, "protocol=https\nhost=git.example.org\n\n"))
		if tt.program == "docker-credential-oidc" {
			in = strings.NewReader("registry.example.org") // docker's request ends with its input
		}
		_, stdout, stderr, err := runFront(t, cwd, bin, in, append(inheritedEnv(), "PATH="+path, fakeCoreVariable+"=0"), tt.args...)
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%s: want exit 1: %v\nstdout: %s\nstderr: %s", tt.program, err, stdout, stderr)
		}
		want := tt.program + ": oidc-auth-core is missing beside " + bin + " and on PATH; reinstall all of oidc-auth's commands: CGO_ENABLED=0 go install github.com/oidc-auth/oidc-auth/cmd/...@latest\n"
		out, other := stderr.String(), stdout.String()
		if tt.program == "docker-credential-oidc" {
			out, other = other, out // docker reads a helper's failure from stdout
		}
		if out != want || other != "" {
			t.Errorf("%s: want only the line %q\nstdout: %s\nstderr: %s", tt.program, want, stdout, stderr)
		}
	}
}

// TestHandoffThroughSymlink: a symbolic link to a command in another
// directory, as in ~/bin, finds the oidc-auth-core beside the command it
// links to.
func TestHandoffThroughSymlink(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	s := newSandbox(t)
	links := t.TempDir()
	for _, bin := range []string{oidcAuthBin, gitCredentialBin} {
		if err := os.Symlink(bin, filepath.Join(links, filepath.Base(bin))); err != nil {
			t.Fatal(err)
		}
	}
	env := s.environ("PATH=" + noCorePath(t))
	for bin, want := range map[string]string{
		filepath.Join(links, "oidc-auth"+exe):           "oidc-auth ",
		filepath.Join(links, "git-credential-oidc"+exe): "git-credential-oidc ",
	} {
		r, err := s.execute(runTimeout, s.dir, "", env, bin, "--version")
		if err != nil || r.code != 0 || !strings.HasPrefix(r.stdout, want) {
			t.Errorf("%s --version through a link: %v\n%v", bin, err, r)
		}
	}
}
