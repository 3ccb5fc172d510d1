package flows

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const testPage = "https://auth.example.org/realms/x/device?user_code=ABCD-EFGH"

// hasQR reports whether text holds the half blocks of a QR code.
func hasQR(text string) bool {
	return strings.Contains(text, "█") && (strings.Contains(text, "▀") || strings.Contains(text, "▄"))
}

func TestDeviceScreen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		scr      screen
		opened   bool
		openErr  error
		qr, bold bool
	}{
		{"not a terminal", screen{}, false, nil, false, false},
		{"not a terminal, even with a size", screen{cols: 200, rows: 100}, false, nil, false, false},
		{"big terminal", screen{tty: true, bold: true, cols: 120, rows: 50}, false, nil, true, true},
		{"big terminal, NO_COLOR", screen{tty: true, cols: 120, rows: 50}, false, nil, true, false},
		{"narrow terminal", screen{tty: true, bold: true, cols: 30, rows: 50}, false, nil, false, true},
		{"short terminal", screen{tty: true, bold: true, cols: 120, rows: 20}, false, nil, false, true},
		{"just tall enough", screen{tty: true, bold: true, cols: 60, rows: 32}, false, nil, true, true},
		{"one row too short", screen{tty: true, bold: true, cols: 60, rows: 31}, false, nil, false, true},
		{"size unknown", screen{tty: true, bold: true}, false, nil, false, true},
		{"browser opened", screen{tty: true, bold: true, cols: 120, rows: 50}, true, nil, true, true},
		{"browser failed", screen{tty: true, bold: true, cols: 120, rows: 50}, false, errors.New("flows: cannot start the browser \"xdg-open\": not found"), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.scr.deviceScreen("https://auth.example.org", testPage, "ABCD-EFGH", tt.opened, tt.openErr)
			if !strings.Contains(got, "\n    "+testPage+"\n") {
				t.Errorf("the page is not on a line of its own:\n%s", got)
			}
			if hasQR(got) != tt.qr {
				t.Errorf("QR code shown %v, want %v:\n%s", hasQR(got), tt.qr, got)
			}
			if tt.qr {
				if !strings.Contains(got, "scan the QR code") {
					t.Errorf("the QR code is not mentioned:\n%s", got)
				}
				rows := tt.scr.rowsOf(got) + 2 // and the waiting line, and a prompt
				if rows > tt.scr.rows {
					t.Errorf("%d rows on a terminal of %d", rows, tt.scr.rows)
				}
				for _, l := range strings.Split(got, "\n") {
					if n := len([]rune(l)); strings.Contains(l, "█") && n > tt.scr.cols {
						t.Errorf("a line of %d characters on a terminal of %d columns: %q", n, tt.scr.cols, l)
					}
				}
			}
			bold := strings.Contains(got, "\x1b[1mABCD-EFGH\x1b[0m")
			if bold != tt.bold {
				t.Errorf("bold code %v, want %v:\n%q", bold, tt.bold, got)
			}
			if !tt.bold && strings.Contains(got, "\x1b") {
				t.Errorf("escape sequence without colour:\n%q", got)
			}
			switch {
			case !tt.scr.tty && !strings.Contains(got, "and confirm the code ABCD-EFGH\n"):
				t.Errorf("the plain screen lacks the code line:\n%s", got)
			case tt.scr.tty && !strings.Contains(got, "\n    "+tt.scr.strong("ABCD-EFGH")+"\n"):
				t.Errorf("the code is not on a line of its own:\n%s", got)
			}
			byHand := strings.Contains(got, "by hand")
			if byHand != (tt.openErr != nil) {
				t.Errorf("says \"by hand\" %v, want %v:\n%s", byHand, tt.openErr != nil, got)
			}
			if tt.openErr != nil && (!strings.Contains(got, "xdg-open") || strings.Contains(got, "flows: ")) {
				t.Errorf("the browser's failure is not said plainly:\n%s", got)
			}
			if opened := strings.Contains(got, "opened in your browser"); opened != tt.opened {
				t.Errorf("says opened %v, want %v:\n%s", opened, tt.opened, got)
			}
		})
	}
}

func TestDeviceScreenIsTerminalSafe(t *testing.T) {
	t.Parallel()
	s := screen{tty: true, cols: 200, rows: 100}
	got := s.deviceScreen("https://h\x1b[2J", "https://idp/device\x1b]0;x\a", "AB\u202eCD", false, errors.New("bad\x1b[31m"))
	if strings.ContainsAny(got, "\x1b\a\u202e") {
		t.Errorf("control characters reached the screen: %q", got)
	}
}

func TestCountdown(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		5 * time.Minute:                        "5:00",
		5*time.Minute - time.Millisecond:       "5:00",
		4*time.Minute + 32*time.Second:         "4:32",
		4*time.Minute + 31500*time.Millisecond: "4:32",
		59 * time.Second:                       "0:59",
		time.Second:                            "0:01",
		0:                                      "0:00",
		-3 * time.Second:                       "0:00",
		time.Hour:                              "1:00:00",
		time.Hour + 2*time.Minute + 3*time.Second: "1:02:03",
	} {
		if got := countdown(d); got != want {
			t.Errorf("countdown(%v) = %q, want %q", d, got, want)
		}
	}
	if got := waitingLine(272 * time.Second); got != "Waiting for approval… (code expires in 4:32)" {
		t.Errorf("waitingLine = %q", got)
	}
}

func TestWaitingLineFitsTheTerminal(t *testing.T) {
	t.Parallel()
	left := 272 * time.Second
	for cols, want := range map[int]string{
		0:   "Waiting for approval… (code expires in 4:32)",
		120: "Waiting for approval… (code expires in 4:32)",
		45:  "Waiting for approval… (code expires in 4:32)",
		44:  "Waiting… 4:32",
		14:  "Waiting… 4:32",
		13:  "Waiting… 4:3",
		1:   "",
	} {
		if got := (&screen{tty: true, cols: cols}).fit(left); got != want {
			t.Errorf("%d columns: %q, want %q", cols, got, want)
		}
	}
}

func TestWaitingLine(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 2, 15, 0, 0, 0, time.UTC)
	deadline := start.Add(5 * time.Minute)

	t.Run("terminal", func(t *testing.T) {
		t.Parallel()
		var out lockedBuffer
		var mu sync.Mutex
		now := start
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); now = now.Add(time.Second); return now }
		s := &screen{w: &out, tty: true, tick: 5 * time.Millisecond}
		stop := s.waiting(deadline, clock)
		for !strings.Contains(out.String(), "4:56") {
			time.Sleep(5 * time.Millisecond)
		}
		stop()
		stop() // a second stop does nothing
		got := out.String()
		if n := strings.Count(got, eraseLine); n < 5 {
			t.Errorf("%d in-place updates, want at least 5:\n%q", n, got)
		}
		if strings.Contains(got, "\n") {
			t.Errorf("the waiting line took more than one line:\n%q", got)
		}
		if !strings.HasSuffix(got, eraseLine) {
			t.Errorf("stop did not erase the line:\n%q", got)
		}
		for _, l := range strings.Split(strings.TrimSuffix(got, eraseLine), eraseLine)[1:] {
			if !strings.HasPrefix(l, "Waiting for approval… (code expires in 4:") {
				t.Errorf("update %q", l)
			}
		}
		before := out.String()
		time.Sleep(20 * time.Millisecond)
		if out.String() != before {
			t.Errorf("the countdown went on after stop")
		}
	})
	t.Run("not a terminal", func(t *testing.T) {
		t.Parallel()
		var out lockedBuffer
		s := &screen{w: &out, tick: time.Millisecond}
		stop := s.waiting(deadline, func() time.Time { return start })
		time.Sleep(20 * time.Millisecond)
		stop()
		if got := out.String(); got != "Waiting for approval… (code expires in 5:00)\n" {
			t.Errorf("output %q, want the waiting line once", got)
		}
	})
	t.Run("no deadline", func(t *testing.T) {
		t.Parallel()
		var out lockedBuffer
		s := &screen{w: &out, tty: true}
		s.waiting(time.Time{}, time.Now)()
		if got := out.String(); got != "Waiting for approval…\n" {
			t.Errorf("output %q", got)
		}
	})
}

func TestLoggedInLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 14, 5, 0, 0, time.Local)
	tests := []struct {
		name   string
		claims *Claims
		exp    time.Time
		want   string
	}{
		{"an hour, by user name", &Claims{PreferredUsername: "jdoe", Email: "j@example.org"}, now.Add(59*time.Minute + 10*time.Second),
			"Logged in to https://auth.example.org as jdoe, valid until 15:04 (for 59 minutes).\n"},
		{"by email", &Claims{Email: "j@example.org"}, now.Add(90 * time.Minute), "Logged in to https://auth.example.org as j@example.org, valid until 15:35 (for 1 hour 30 minutes).\n"},
		{"nobody named", nil, now.Add(2 * time.Hour), "Logged in to https://auth.example.org, valid until 16:05 (for 2 hours).\n"},
		{"seconds", nil, now.Add(45 * time.Second), "Logged in to https://auth.example.org, valid until 14:05 (for 45 seconds).\n"},
		{"tomorrow", nil, now.Add(20 * time.Hour), "Logged in to https://auth.example.org, valid until " + now.Add(20*time.Hour).Format("Mon") + " 10:05 (for 20 hours).\n"},
		{"days", nil, now.Add(72 * time.Hour), "Logged in to https://auth.example.org, valid until " + now.Add(72*time.Hour).Format("Mon") + " 14:05 (for 3 days).\n"},
		{"a year", nil, now.Add(365 * 24 * time.Hour), "Logged in to https://auth.example.org, valid until 2027-03-04 14:05 (for 365 days).\n"},
		{"a user name with controls", &Claims{PreferredUsername: "j\x1b[2Jdoe"}, now.Add(time.Hour), "Logged in to https://auth.example.org as j[2Jdoe, valid until 15:05 (for 1 hour).\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok := &Token{AccessToken: "a", Expires: tt.exp.Unix(), Claims: tt.claims}
			if got := loggedInLine("https://auth.example.org", tok, now); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// screenFor is a screen of a big terminal writing to w.
func screenFor(w io.Writer) *screen {
	return &screen{w: w, tty: true, cols: 120, rows: 60, tick: 10 * time.Millisecond}
}

func TestDeviceFlowOpensTheBrowser(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		browser func(string) error
		want    []string
		not     []string
	}{
		{"no browser", nil, []string{"open this page in a browser"}, []string{"opened", "by hand"}},
		{"browser opens", func(string) error { return nil }, []string{"use the page that opened in your browser"}, []string{"by hand"}},
		{"browser fails", func(string) error { return errors.New("flows: the browser \"false\" failed: exit status 1") }, []string{"Could not open a browser (the browser \"false\" failed: exit status 1); open the page by hand.", "open this page in a browser"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.device = deviceStart(1, 300)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) {
				if n < 3 {
					upstream(w, "authorization_pending")
					return
				}
				issue(w, "tok")
			}
			var opened []string
			browser := tt.browser
			if browser != nil {
				browser = func(u string) error { opened = append(opened, u); return tt.browser(u) }
			}
			var out lockedBuffer
			f := &DeviceFlow{Config: s.config(), Out: &out, Browser: browser, screen: screenFor(&out)}
			if _, err := f.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("output says %q:\n%s", w, got)
				}
			}
			if tt.browser != nil && (len(opened) != 1 || opened[0] != "https://idp/device?user_code=ABCD-EFGH") {
				t.Errorf("browser opened %q, want the complete verification URI", opened)
			}
			if !hasQR(got) || strings.Count(got, "Waiting for approval… (code expires in ") < 2 || !strings.HasSuffix(got, eraseLine) {
				t.Errorf("no QR code or no countdown on a big terminal:\n%q", got)
			}
			if strings.Contains(got, "dev-123") {
				t.Errorf("the device code reached the screen")
			}
		})
	}
}

func TestCodeFlowScreen(t *testing.T) {
	t.Parallel()
	ssh := map[string]string{"SSH_CONNECTION": "203.0.113.7 50022 192.0.2.10 2222", "USER": "jdoe"}
	for _, tt := range []struct {
		name    string
		vars    map[string]string
		browser func(string) error
		want    []string
		not     []string
	}{
		{"browser starts", nil, nil, []string{"Opening the login page in your browser…\n\n    http://localhost:"}, []string{"by hand", "ssh -L"}},
		{"browser fails", nil, func(string) error { return errors.New("flows: cannot start the browser \"xdg-open\": not found") }, []string{"Could not open a browser (cannot start the browser \"xdg-open\": not found). Open this page by hand:\n\n    http://localhost:"}, []string{"Opening the login page"}},
		{"over SSH without a display", ssh, func(string) error { return errors.New("no display") }, []string{"This is an SSH session", "ssh -p 2222 -L PORT:localhost:PORT jdoe@192.0.2.10", "--flow device", "Open this page by hand:"}, nil},
		{"over SSH with $BROWSER", map[string]string{"SSH_CONNECTION": ssh["SSH_CONNECTION"], "BROWSER": "w3m"}, nil, []string{"Opening the login page"}, []string{"ssh -L", "ssh -p"}},
		{"over SSH with a display", map[string]string{"SSH_CONNECTION": ssh["SSH_CONNECTION"], "DISPLAY": "localhost:10.0"}, nil, []string{"Opening the login page"}, []string{"ssh -L", "ssh -p"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.login = loginToCallback(t, nil)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "via-code") }
			cfg := s.config()
			cfg.RedirectPorts = freePorts(t, 1)
			port := strconv.Itoa(cfg.RedirectPorts[0])
			b := &followBrowser{}
			var out lockedBuffer
			browser := func(u string) error {
				if tt.browser == nil {
					b.open(u)
					return nil
				}
				// The browser failed: the person opens the page by hand,
				// once the screen has said so. Opening it before the
				// failure is reported would make the flow (rightly) call
				// the browser a success.
				go func() {
					for !strings.Contains(out.String(), "Waiting for the browser") {
						time.Sleep(time.Millisecond)
					}
					b.open(u)
				}()
				return tt.browser(u)
			}
			f := &CodeFlow{Config: cfg, Out: &out, Browser: browser, env: fakeEnv("linux", tt.vars, nil, nil), screen: screenFor(&out)}
			tok, err := f.Run(context.Background())
			b.wg.Wait()
			if err != nil || tok.AccessToken != "via-code" {
				t.Fatalf("got %v, %v", tok, err)
			}
			got := out.String()
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "PORT", port); !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("output says %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestLoginSaysWhoAskedAndWhoIsLoggedIn(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = deviceStart(1, 300)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "tok") }
	cfg := s.config()
	store := newMemStore()
	var out lockedBuffer
	reason := "git needs a token for https://git.example.org/team/app.git"
	before := time.Now()
	tok, err := Authenticate(context.Background(), cfg, store, Options{Interaction: InteractAlways, Out: &out, Reason: reason})
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now()
	lines := strings.Split(out.String(), "\n")
	if want := reason + "; logging in to " + cfg.Host + " (Ctrl-C to stop)"; lines[0] != want {
		t.Errorf("first line %q, want %q", lines[0], want)
	}
	// The clock is read as the login ends; midnight may fall in between.
	end := "Logged in to " + cfg.Host + ", valid until " + localClock(tok.ExpiresAt(), after) + " (for 5 minutes).\n"
	endBefore := "Logged in to " + cfg.Host + ", valid until " + localClock(tok.ExpiresAt(), before) + " (for 5 minutes).\n"
	if !strings.HasSuffix(out.String(), end) && !strings.HasSuffix(out.String(), endBefore) {
		t.Errorf("output does not end with %q:\n%s", end, out.String())
	}

	// Login (no store) ends the same way, and without a reason says
	// nothing of one.
	var out2 lockedBuffer
	if _, err := Login(context.Background(), cfg, Options{Flow: FlowDevice, Out: &out2}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out2.String(), "Ctrl-C to stop)\n") || !strings.Contains(out2.String(), "Logged in to "+cfg.Host+", valid until") {
		t.Errorf("Login output:\n%s", out2.String())
	}

	// A token that cannot be stored is not called a login.
	var out3 lockedBuffer
	if _, err := Authenticate(context.Background(), cfg, failingStore{newMemStore()}, Options{Interaction: InteractAlways, Out: &out3, Force: true}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out3.String(), "Logged in") || !strings.Contains(out3.String(), "could not be saved") {
		t.Errorf("unsaved login output:\n%s", out3.String())
	}
}

// failingStore refuses every Put.
type failingStore struct{ *memStore }

func (failingStore) Put(context.Context, string, *Record) error {
	return errors.New("keyring: disk full")
}

func TestLoginDecisionsAtDebug(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.device = deviceStart(1, 300)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "tok") }
	cfg := s.config()
	store := newMemStore()
	var debug lockedBuffer
	ctx := WithDebug(context.Background(), &debug, DebugDecisions, "oidc-auth")
	if _, err := Authenticate(ctx, cfg, store, Options{Interaction: InteractAlways, Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	if _, err := Authenticate(ctx, cfg, store, Options{Out: io.Discard}); err != nil {
		t.Fatal(err)
	}
	got := debug.String()
	for _, want := range []string{
		"starting a login to " + cfg.Host + ": not logged in",
		"login flow: device, since the login's output is not a terminal",
		"stored token of " + cfg.Host[:strings.LastIndex(cfg.Host, "/")] + " valid for 5 minutes: using it",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("debug output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "r-tok") {
		t.Errorf("the refresh token reached the debug output:\n%s", got)
	}
}
