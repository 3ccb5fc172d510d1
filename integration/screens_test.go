//go:build !windows

// Unix only: the screens are read from a pseudo-terminal (creack/pty) rendered by vt10x, which Windows consoles do not offer.

package integration

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/hinshun/vt10x"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// These tests run the real binaries in pseudo-terminals, as a person at
// a terminal runs them, and check what that person sees: the raw stream
// the program wrote, and the screen a terminal emulator (vt10x) renders
// from it after every in-place update.

// ptyTimeout bounds every wait for a screen.
const ptyTimeout = 40 * time.Second

// ptyProc is one process whose controlling terminal is a pseudo-terminal
// of a given size.
type ptyProc struct {
	t          *testing.T
	s          *sandbox
	cmd        *exec.Cmd
	ptm        *os.File
	cols, rows int

	mu     sync.Mutex
	raw    []byte
	more   chan struct{} // signalled after each read
	read   chan struct{} // closed when the terminal has no more output
	exited chan struct{} // closed when the process has ended
	code   int
}

// screenEnv is the environment of a person at a terminal with no desktop:
// no $BROWSER, no display, no SSH session, a colour terminal.
var screenEnv = []string{"BROWSER=", "DISPLAY=", "WAYLAND_DISPLAY=", "SSH_CONNECTION=", "SSH_CLIENT=", "SSH_TTY=", "NO_COLOR=", "TERM=xterm-256color"}

// startPTY starts bin with args in dir, with the sandbox's environment,
// then screenEnv, then extra, in a new session whose controlling terminal
// is a pseudo-terminal of cols×rows. stdin, stdout and stderr are that
// terminal unless given (as git and docker give their helpers pipes).
func startPTY(t *testing.T, s *sandbox, cols, rows int, dir string, extra []string, stdin io.Reader, stdout, stderr io.Writer, bin string, args ...string) *ptyProc {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	defer tty.Close() // the child has its own
	if err := pty.Setsize(ptm, &pty.Winsize{Cols: uint16(cols), Rows: uint16(rows)}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = s.environ(append(append([]string{}, screenEnv...), extra...)...)
	cmd.Dir = dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if stdin == nil {
		cmd.Stdin = tty // and the controlling terminal, as fd 0
	} else {
		cmd.ExtraFiles = []*os.File{tty}
		cmd.SysProcAttr.Ctty = 3
	}
	if stdout == nil {
		cmd.Stdout = tty
	}
	if stderr == nil {
		cmd.Stderr = tty
	}
	if err := cmd.Start(); err != nil {
		ptm.Close()
		t.Fatal(err)
	}
	p := &ptyProc{t: t, s: s, cmd: cmd, ptm: ptm, cols: cols, rows: rows, more: make(chan struct{}, 1), read: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		for {
			n, err := ptm.Read(buf)
			p.mu.Lock()
			p.raw = append(p.raw, buf[:n]...)
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
			if err != nil { // EIO once every holder of the terminal is gone
				return
			}
		}
	}()
	go func() {
		defer close(p.exited)
		err := cmd.Wait()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			p.code = exit.ExitCode()
			if ws, ok := exit.Sys().(interface{ Signaled() bool }); ok && ws.Signaled() {
				p.code = -1
			}
		default:
			p.code = -2
		}
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		ptm.Close()
		// What the terminal showed counts as stderr for the sandbox's
		// check that no token ever reached a person's screen.
		s.mu.Lock()
		s.stderrs = append(s.stderrs, p.output())
		s.mu.Unlock()
	})
	return p
}

// output is the raw stream so far.
func (p *ptyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return string(p.raw)
}

// expect waits until the raw stream matches re, and returns the match.
func (p *ptyProc) expect(re string) []string {
	p.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.NewTimer(ptyTimeout)
	defer deadline.Stop()
	for {
		if m := rx.FindStringSubmatch(p.output()); m != nil {
			return m
		}
		select {
		case <-p.more:
		case <-p.read:
			if m := rx.FindStringSubmatch(p.output()); m != nil {
				return m
			}
			p.t.Fatalf("the terminal closed before showing %q:\n%s", re, p.screen())
		case <-deadline.C:
			p.t.Fatalf("after %v the terminal does not show %q; it shows:\n%s\nraw: %q", ptyTimeout, re, p.screen(), p.output())
		}
	}
}

// wait waits for the process to end and its output to be read, and
// returns its exit code.
func (p *ptyProc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(ptyTimeout):
		p.t.Fatalf("still running after %v; the terminal shows:\n%s", ptyTimeout, p.screen())
	}
	select {
	case <-p.read:
	case <-time.After(5 * time.Second):
	}
	return p.code
}

// screen renders the raw stream as a terminal of the process's size
// shows it, trailing blanks trimmed.
func (p *ptyProc) screen() string {
	vt := vt10x.New(vt10x.WithSize(p.cols, p.rows))
	vt.Write([]byte(p.output()))
	var lines []string
	for _, l := range strings.Split(vt.String(), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	return strings.TrimRight(strings.Join(lines, "\n"), "\n") + "\n"
}

// hasQRCode reports whether text holds a QR code of half blocks.
func hasQRCode(text string) bool {
	return strings.Contains(text, "██") && strings.Contains(text, "▀") && strings.Contains(text, "▄")
}

// userCodeRE matches the test server's user codes.
const userCodeRE = `[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}`

// tzAt writes a time zone file of a fixed offset from UTC in which the
// local time of day at now is clock (to the minute), and returns the TZ
// variable naming it. Go reads TZ as a zone file, not as a POSIX rule
// ("XYZ-1"), which it would take for UTC.
func tzAt(t *testing.T, now time.Time, clock time.Duration) string {
	t.Helper()
	now = now.UTC()
	ahead := now.Truncate(24 * time.Hour).Add(clock).Sub(now).Truncate(time.Minute)
	for ahead > 12*time.Hour {
		ahead -= 24 * time.Hour
	}
	for ahead <= -12*time.Hour {
		ahead += 24 * time.Hour
	}
	// TZif version 1 with no transitions: a header of six counts, then
	// one local time type (its offset, not DST, its name's index) and the
	// name.
	var b []byte
	b = append(b, "TZif"...)
	b = append(b, make([]byte, 16)...)             // version 1, reserved
	for _, n := range []uint32{0, 0, 0, 0, 1, 4} { // isut, isstd, leap, time, type, char
		b = binary.BigEndian.AppendUint32(b, n)
	}
	b = binary.BigEndian.AppendUint32(b, uint32(int32(ahead/time.Second)))
	b = append(b, 0, 0)
	b = append(b, "LOC\x00"...)
	path := filepath.Join(t.TempDir(), "zone")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if loc, err := time.LoadLocationFromTZData("LOC", b); err != nil || now.In(loc).Format("15:04") != now.Add(ahead).Format("15:04") {
		t.Fatalf("the zone file does not put %v at %v: %v", now, clock, err)
	}
	return "TZ=" + path
}

// TestScreenDeviceLogin: `oidc-auth login` at a terminal shows the code,
// the complete verification URL and, when the window has room, its QR
// code; the waiting line counts down in place; the login ends with who is
// logged in until when.
func TestScreenDeviceLogin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name       string
		cols, rows int
		qr         bool
		extra      []string
		bold       bool
		wait       string // the waiting line, before its countdown
		// beforeMidnight logs in at 23:58 local time: the five-minute
		// login ends tomorrow, which the screen names by its weekday.
		beforeMidnight bool
	}{
		{"big window", 120, 50, true, nil, true, "Waiting for approval… (code expires in ", false},
		{"small window", 80, 24, false, nil, true, "Waiting for approval… (code expires in ", false},
		{"narrow window", 30, 60, false, nil, true, "Waiting… ", false},
		{"NO_COLOR", 120, 50, true, []string{"NO_COLOR=1"}, false, "Waiting for approval… (code expires in ", false},
		{"before midnight", 80, 24, false, nil, true, "Waiting for approval… (code expires in ", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.beforeMidnight {
				tt.extra = append(tt.extra, tzAt(t, time.Now(), 23*time.Hour+58*time.Minute))
			}
			srv := startServer(t, pyauthserver.Options{})
			srv.PlanDevice(pyauthserver.DevicePlan{Manual: true})
			s := newSandbox(t)
			p := startPTY(t, s, tt.cols, tt.rows, s.dir, tt.extra, nil, nil, nil, oidcAuthBin, "login", "--timeout", "30s", srv.URL())
			// Three updates of the countdown after the first line.
			p.expect(`(\r\x1b\[K` + regexp.QuoteMeta(tt.wait) + `\d+:\d\d\)?){4}`)
			waiting := p.screen()
			// The person approves the code in the browser.
			if _, userCode := srv.LastDevice(); !srv.Approve(userCode) {
				t.Fatalf("the server does not know the code %q", userCode)
			}
			t.Logf("waiting screen:\n%s", waiting)
			if code := p.wait(); code != 0 {
				t.Fatalf("exit %d; the terminal shows:\n%s", code, p.screen())
			}
			_, userCode := srv.LastDevice()
			raw, final := p.output(), p.screen()
			verify := srv.URL() + "/idp/device?user_code=" + userCode
			if tt.cols >= len(verify) && !strings.Contains(final, "\n    "+verify+"\n") {
				t.Errorf("the screen does not show the complete verification URL %s on a line of its own:\n%s", verify, final)
			}
			if !strings.Contains(raw, verify) {
				t.Errorf("the verification URL %s was not written:\n%q", verify, raw)
			}
			if !strings.Contains(final, "\n    "+userCode+"\n") {
				t.Errorf("the code %s is not on a line of its own:\n%s", userCode, final)
			}
			if bold := strings.Contains(raw, "\x1b[1m"+userCode+"\x1b[0m"); bold != tt.bold {
				t.Errorf("bold code %v, want %v:\n%q", bold, tt.bold, raw)
			}
			if !tt.bold && strings.Contains(raw, "\x1b[1m") {
				t.Errorf("NO_COLOR, but the output sets attributes:\n%q", raw)
			}
			if hasQRCode(waiting) != tt.qr {
				t.Errorf("QR code shown %v in a %dx%d window, want %v:\n%s", hasQRCode(waiting), tt.cols, tt.rows, tt.qr, waiting)
			}
			// In place: the waiting screen shows one waiting line however
			// many updates the stream carries.
			if n := strings.Count(waiting, tt.wait); n != 1 {
				t.Errorf("the screen shows %d waiting lines, want 1:\n%s", n, waiting)
			}
			if n := strings.Count(raw, "\r\x1b[K"+tt.wait); n < 4 {
				t.Errorf("%d in-place updates of the waiting line, want at least 4", n)
			}
			if !regexp.MustCompile(regexp.QuoteMeta(tt.wait) + `(10:00|9:5\d)`).MatchString(waiting) {
				t.Errorf("the countdown does not show the server's 10 minutes:\n%s", waiting)
			}
			if strings.Contains(final, "Waiting") {
				t.Errorf("the waiting line stays after the login:\n%s", final)
			}
			// A login minutes before midnight ends tomorrow, which the
			// clock names by its weekday.
			day := "((Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?"
			if tt.beforeMidnight {
				day = "(Mon|Tue|Wed|Thu|Fri|Sat|Sun) "
			}
			loggedIn := regexp.MustCompile(`Logged in to ` + regexp.QuoteMeta(srv.URL()) + ` as janedoe, valid until ` + day + `\d\d:\d\d \(for (4|5) minutes\)\.`)
			if !loggedIn.MatchString(strings.ReplaceAll(final, "\n", "")) {
				t.Errorf("the screen does not end with who is logged in until when:\n%s", final)
			}
			if strings.Contains(raw, "by hand") || len(s.browserURLs()) != 0 {
				t.Errorf("a browser was involved without a desktop:\n%s", final)
			}
			if e := s.readStore()[storeKey(t, srv)]; !srv.Valid(e.Token.AccessToken) {
				t.Errorf("no valid token stored")
			}
		})
	}
}

// TestScreenCodeLogin: at a terminal with a browser, --flow auto takes the
// code flow; the screen says that the browser opens, and asks to open the
// page by hand only when the browser fails.
func TestScreenCodeLogin(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		browser string // "" for the test browser
		ok      bool
	}{
		{"browser starts", "", true},
		{"browser fails", "/bin/false", false},
		{"browser missing", "/nonexistent/browser", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{})
			s := newSandbox(t)
			browser := tt.browser
			if browser == "" {
				browser = testBrowserBin
			}
			port := freePorts(t, 1)[0]
			args := append([]string{"login", "--timeout", "20s", srv.URL()}, portArgs([]int{port})...)
			p := startPTY(t, s, 120, 40, s.dir, []string{"BROWSER=" + browser}, nil, nil, nil, oidcAuthBin, args...)
			start := `http://localhost:` + strconv.Itoa(port) + `/login/\S+`
			if tt.ok {
				p.expect(`Opening the login page in your browser…\r\n\r\n    ` + start)
				if code := p.wait(); code != 0 {
					t.Fatalf("exit %d:\n%s", code, p.screen())
				}
				final := p.screen()
				if strings.Contains(final, "by hand") || strings.Contains(final, "Could not open") {
					t.Errorf("the screen asks to open the page by hand although the browser started:\n%s", final)
				}
				if srv.Count(pyauthserver.RouteDevice) != 0 || srv.Count(pyauthserver.CountTokenCode) != 1 {
					t.Errorf("requests %v, want one code login and no device flow", requestCounts(srv))
				}
				if !strings.Contains(final, "Logged in to "+srv.URL()+" as janedoe, valid until") {
					t.Errorf("the screen does not say who is logged in:\n%s", final)
				}
				return
			}
			m := p.expect(`Could not open a browser \(([^\r\n]*)\)\. Open this page by hand:\r\n\r\n    (` + start + `)\r\n`)
			if !strings.Contains(m[1], filepath.Base(tt.browser)) {
				t.Errorf("the failure %q does not name the browser %s", m[1], tt.browser)
			}
			if strings.Contains(p.output(), "Opening the login page") {
				t.Errorf("the screen says the browser opens although it failed:\n%s", p.screen())
			}
			p.expect(`Waiting for the browser to finish the login`)
			// The person opens the page by hand.
			r, err := s.execute(ptyTimeout, s.dir, "", s.environ(), testBrowserBin, m[2])
			if err != nil || r.code != 0 {
				t.Fatalf("opening %s by hand: %v\n%v", m[2], err, r)
			}
			if code := p.wait(); code != 0 {
				t.Fatalf("exit %d:\n%s", code, p.screen())
			}
			t.Logf("terminal:\n%s", p.screen())
			if !strings.Contains(p.screen(), "Logged in to "+srv.URL()) {
				t.Errorf("the screen does not say who is logged in:\n%s", p.screen())
			}
		})
	}
}

// TestScreenCtrlC: Ctrl-C while a login waits for approval ends it with
// exit 130, the waiting line cleared, and the stored login as it was.
func TestScreenCtrlC(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(srv)
	before := s.storeBytes()
	srv.PlanDevice(pyauthserver.DevicePlan{Manual: true})
	p := startPTY(t, s, 100, 40, s.dir, nil, nil, nil, nil, oidcAuthBin, "login", "--force", "--timeout", "30s", srv.URL())
	p.expect(`Waiting for approval… \(code expires in \d+:\d\d\)`)
	if _, err := p.ptm.Write([]byte{3}); err != nil { // the terminal's VINTR
		t.Fatal(err)
	}
	code := p.wait()
	t.Logf("terminal after Ctrl-C:\n%s", p.screen())
	if code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130:\n%s", code, p.screen())
	}
	if !bytes.Equal(s.storeBytes(), before) {
		t.Errorf("Ctrl-C changed the stored login")
	}
	if lines := strings.Split(strings.TrimSpace(p.screen()), "\n"); strings.Contains(lines[len(lines)-1], "Waiting for approval") {
		t.Errorf("the waiting line is left under the prompt:\n%s", p.screen())
	}
	if n := srv.Count(pyauthserver.CountTokenDevice); n == 0 {
		t.Errorf("the login never polled")
	}
}

// TestScreenGitCloneLogin: `git clone` with no stored login, at a
// terminal: git's helper starts a device login on the terminal
// (/dev/tty), saying that git asked and for which URL, while git's own
// output stays clean; the clone then succeeds with the new token.
func TestScreenGitCloneLogin(t *testing.T) {
	t.Parallel()
	w := newGitWorld(t, pyauthserver.Options{})
	u := w.u
	repo := w.git.CreateRepo("team/app")
	u.setupGit(w.git.URL()+"/team/", w.auth.URL())
	w.auth.PlanDevice(pyauthserver.DevicePlan{Pending: 2})

	var stdout, stderr bytes.Buffer
	p := startPTY(t, u.sandbox, 120, 50, u.work, u.gitVars(), nil, &stdout, &stderr, "git", "clone", repo, "app")
	// The first thing on the terminal says who asked for what.
	m := p.expect(`^git needs a token for (\S+); logging in to ` + regexp.QuoteMeta(w.auth.URL()) + ` \(Ctrl-C to stop\)\r\n`)
	if want := w.git.URL() + "/team/app"; !strings.HasPrefix(m[1], want) || strings.ContainsAny(m[1], "?@") {
		t.Errorf("the login says git needs a token for %q, want the URL %s… without userinfo or query", m[1], want)
	}
	p.expect(`Waiting for approval…`)
	code := p.wait()
	u.mu.Lock()
	u.stderrs = append(u.stderrs, stderr.String(), stdout.String())
	u.mu.Unlock()
	if code != 0 {
		t.Fatalf("git clone exit %d\nstderr: %s\nterminal:\n%s", code, stderr.String(), p.screen())
	}
	screen := p.screen()
	t.Logf("terminal:\n%s", screen)
	_, userCode := w.auth.LastDevice()
	if !strings.Contains(screen, userCode) || !strings.Contains(screen, "Logged in to "+w.auth.URL()+" as janedoe, valid until") {
		t.Errorf("the terminal lacks the code %s or the end of the login:\n%s", userCode, screen)
	}
	for name, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
		for _, leak := range []string{userCode, "Waiting for approval", "logging in to", "Logged in to"} {
			if strings.Contains(out, leak) {
				t.Errorf("git's %s carries the login's screen (%q):\n%s", name, leak, out)
			}
		}
	}
	if !strings.Contains(stderr.String(), "Cloning into 'app'") {
		t.Errorf("git's stderr %q", stderr.String())
	}
	if _, err := os.Stat(filepath.Join(u.work, "app", ".git")); err != nil {
		t.Errorf("no clone: %v", err)
	}
	tok := w.stored()
	checkGitLog(t, "clone after a login at the terminal", w.git.Requests(), tok.AccessToken, "/team/")
}

// TestScreenDockerHelperLogin: docker's helper, run by a tool at a
// terminal with no stored login, logs in on the terminal and says that
// docker asked, for which registry; its protocol answer on stdout carries
// the new token and nothing of the screen.
func TestScreenDockerHelperLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	srv.PlanDevice(pyauthserver.DevicePlan{Pending: 1})
	u := newDockerUser(t)
	const registry = "registry.example.test:5000"
	u.setupDocker(registry, srv.URL())

	var stdout, stderr bytes.Buffer
	p := startPTY(t, u.sandbox, 120, 50, u.dir, nil, strings.NewReader(registry+"\n"), &stdout, &stderr, dockerCredentialBin, "get")
	p.expect(`^docker needs a token for ` + regexp.QuoteMeta(registry) + `; logging in to ` + regexp.QuoteMeta(srv.URL()) + ` \(Ctrl-C to stop\)\r\n`)
	code := p.wait()
	u.mu.Lock()
	u.stderrs = append(u.stderrs, stderr.String())
	u.mu.Unlock()
	if code != 0 {
		t.Fatalf("exit %d\nstderr: %s\nterminal:\n%s", code, stderr.String(), p.screen())
	}
	access := u.accessToken(srv)
	var answer struct{ Username, Secret string }
	if err := json.Unmarshal(stdout.Bytes(), &answer); err != nil || answer.Secret != access {
		t.Errorf("the helper's answer is not the new token (%v)", err)
	}
	if strings.Contains(stdout.String(), "Waiting") || strings.Contains(stderr.String(), "Waiting") {
		t.Errorf("the login's screen reached the helper's stdout or stderr")
	}
	if !strings.Contains(p.screen(), "Logged in to "+srv.URL()+" as janedoe, valid until") {
		t.Errorf("the terminal does not say who is logged in:\n%s", p.screen())
	}
}

// TestScreenDeviceLoginOpensTheBrowser: --flow device at a terminal with
// a browser opens the complete verification URL in it, and the screen
// says so instead of asking to open the page; the test browser approves
// the code there.
func TestScreenDeviceLoginOpensTheBrowser(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	srv.PlanDevice(pyauthserver.DevicePlan{Manual: true})
	s := newSandbox(t)
	p := startPTY(t, s, 120, 50, s.dir, []string{"BROWSER=" + testBrowserBin}, nil, nil, nil, oidcAuthBin, "login", "--flow", "device", "--timeout", "30s", srv.URL())
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d:\n%s", code, p.screen())
	}
	_, userCode := srv.LastDevice()
	verify := srv.URL() + "/idp/device?user_code=" + userCode
	if urls := s.browserURLs(); len(urls) != 1 || urls[0] != verify {
		t.Errorf("the browser opened %q, want %s", urls, verify)
	}
	screen := p.screen()
	if !strings.Contains(screen, "use the page that opened in your browser") || strings.Contains(screen, "by hand") {
		t.Errorf("the screen does not say that the page opened:\n%s", screen)
	}
	if !strings.Contains(screen, "Logged in to "+srv.URL()) || srv.Count(pyauthserver.RouteVerify) != 1 {
		t.Errorf("no login through the browser's approval (requests %v):\n%s", requestCounts(srv), screen)
	}
}

// TestScreenTokenLogin runs `oidc-auth token` at a terminal with no login:
// the login it starts says first who asked, the screen stays on the
// terminal (stderr), and stdout carries the new access token alone.
func TestScreenTokenLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	srv.PlanDevice(pyauthserver.DevicePlan{Pending: 1})
	s := newSandbox(t)
	var stdout bytes.Buffer
	p := startPTY(t, s, 120, 50, s.dir, nil, nil, &stdout, nil, oidcAuthBin, "token", srv.URL())
	p.expect("`oidc-auth token` found no valid login; logging in to " + regexp.QuoteMeta(srv.URL()) + ` \(Ctrl-C to stop\)\r\n`)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d\nterminal:\n%s", code, p.screen())
	}
	tok := strings.TrimSpace(stdout.String())
	if tok == "" || strings.ContainsAny(tok, " \n") || !srv.Valid(tok) {
		t.Errorf("stdout %q is not one live access token", stdout.String())
	}
	if strings.Contains(p.output(), tok) {
		t.Error("the access token reached the terminal")
	}
}
