package flows

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mdp/qrterminal/v3"
	"golang.org/x/term"
)

// screen is where a login talks to the person: a writer, and whether it
// is a terminal (of which size) that takes in-place updates and bold
// text. Everything a server sent reaches it through terminalSafe.
type screen struct {
	w io.Writer
	// tty: w is a terminal, so the waiting line is updated in place.
	tty bool
	// bold: the user code is set in bold (a terminal, NO_COLOR unset,
	// TERM not dumb).
	bold bool
	// cols and rows are the terminal's size; 0 when unknown.
	cols, rows int
	// tick is how often the waiting line is updated; 0 means a second.
	tick time.Duration
}

// fder is a writer backed by a file descriptor (an *os.File).
type fder interface{ Fd() uintptr }

// newScreen looks at w: a terminal gets in-place updates, its size and,
// unless NO_COLOR is set or TERM is dumb, bold text.
func newScreen(w io.Writer, env Environment) *screen {
	if w == nil {
		w = io.Discard
	}
	s := &screen{w: w}
	if f, ok := w.(fder); ok && term.IsTerminal(int(f.Fd())) {
		s.tty = true
		s.cols, s.rows, _ = term.GetSize(int(f.Fd()))
		s.bold = env.getenv("NO_COLOR") == "" && env.getenv("TERM") != "dumb"
	}
	return s
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(fder)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (s *screen) printf(format string, args ...any) {
	fmt.Fprintf(s.w, format, args...)
}

// strong sets text in bold where the screen allows it.
func (s *screen) strong(text string) string {
	if !s.bold {
		return text
	}
	return "\x1b[1m" + text + "\x1b[0m"
}

// maxQRText bounds what a QR code is made of: a longer URL would need a
// code too large for any terminal (and qrterminal cannot report an
// encoding failure).
const maxQRText = 600

// qrCode renders text as a QR code of half blocks (two modules a
// character), or "" when it would not fit beside lines other lines of the
// screen: wide and tall enough, and only on a terminal.
func (s *screen) qrCode(text string, lines int) string {
	if !s.tty || s.cols <= 0 || s.rows <= 0 || len(text) > maxQRText {
		return ""
	}
	var b strings.Builder
	qrterminal.GenerateWithConfig(text, qrterminal.Config{
		Level:          qrterminal.L,
		Writer:         &b,
		HalfBlocks:     true,
		BlackChar:      qrterminal.BLACK_BLACK,
		WhiteBlackChar: qrterminal.WHITE_BLACK,
		WhiteChar:      qrterminal.WHITE_WHITE,
		BlackWhiteChar: qrterminal.BLACK_WHITE,
		QuietZone:      2,
	})
	code := b.String()
	width, height := 0, strings.Count(code, "\n")
	for _, l := range strings.Split(code, "\n") {
		width = max(width, utf8.RuneCountInString(l))
	}
	if width == 0 || width > s.cols || height+lines > s.rows {
		return ""
	}
	return code
}

// deviceScreen is what the device flow shows before it waits: the page to
// open (or that opened), the user code, and a QR code of the page when
// the terminal has room. opened says the browser was started on the page;
// openErr says why it could not be.
func (s *screen) deviceScreen(name, page, userCode string, opened bool, openErr error) string {
	name, page, userCode = terminalSafe(name), terminalSafe(page), terminalSafe(userCode)
	var body strings.Builder
	fmt.Fprintf(&body, "\n    %s\n\n", page)
	if s.tty {
		fmt.Fprintf(&body, "and confirm the code\n\n    %s\n\n", s.strong(userCode))
	} else {
		fmt.Fprintf(&body, "and confirm the code %s\n\n", userCode)
	}
	lead := "To log in to " + name + ", open this page in a browser"
	if opened {
		lead = "To log in to " + name + ", use the page that opened in your browser, or open it on any device"
	}
	var b strings.Builder
	if openErr != nil {
		fmt.Fprintf(&b, "Could not open a browser (%s); open the page by hand.\n", oneLine(terminalSafe(trimPackage(openErr.Error()))))
	}
	withQR := lead + " (or scan the QR code):\n" + body.String()
	// The rows besides the code: the text, a blank one below it, the
	// waiting line, and one to spare for the prompt that follows.
	if qr := s.qrCode(page, s.rowsOf(b.String()+withQR)+3); qr != "" {
		b.WriteString(withQR + qr + "\n")
		return b.String()
	}
	b.WriteString(lead + ":\n" + body.String())
	return b.String()
}

// rowsOf counts the terminal rows text takes, long lines wrapped.
func (s *screen) rowsOf(text string) int {
	rows := 0
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := utf8.RuneCountInString(l)
		if s.cols <= 0 || n <= s.cols {
			rows++
			continue
		}
		rows += (n + s.cols - 1) / s.cols
	}
	return rows
}

// countdown formats a time left as m:ss, or h:mm:ss from an hour on,
// rounding up so that a fresh five-minute code shows 5:00.
func countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	secs := int64((d + time.Second - 1) / time.Second)
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// waitingLine is the line a device login waits under.
func waitingLine(left time.Duration) string {
	return "Waiting for approval… (code expires in " + countdown(left) + ")"
}

// fit shortens the waiting line to the terminal's width, so that the
// line never wraps: a wrapped line could not be updated in place.
func (s *screen) fit(left time.Duration) string {
	line := waitingLine(left)
	if s.cols <= 0 || utf8.RuneCountInString(line) < s.cols {
		return line
	}
	line = "Waiting… " + countdown(left)
	if r := []rune(line); len(r) >= s.cols {
		line = string(r[:max(s.cols-1, 0)])
	}
	return line
}

// eraseLine returns the cursor to the start of the line and clears it.
const eraseLine = "\r\x1b[K"

// waiting shows the waiting line until the returned stop is called. On a
// terminal the line counts down in place once a tick, and stop erases
// it; elsewhere it is printed once. A zero deadline (one the flow does
// not know) shows the line without a countdown.
func (s *screen) waiting(deadline time.Time, now func() time.Time) (stop func()) {
	if deadline.IsZero() {
		s.printf("Waiting for approval…\n")
		return func() {}
	}
	if !s.tty {
		s.printf("%s\n", waitingLine(deadline.Sub(now())))
		return func() {}
	}
	tick := s.tick
	if tick <= 0 {
		tick = time.Second
	}
	s.printf("%s%s", eraseLine, s.fit(deadline.Sub(now())))
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				s.printf("%s%s", eraseLine, s.fit(deadline.Sub(now())))
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-ended
			s.printf("%s", eraseLine)
		})
	}
}

// loggedInLine says who is now logged in to name and until when, in
// local time and relative to now: "Logged in to https://h as jdoe, valid
// until 15:04 (for 59 minutes)."
func loggedInLine(name string, tok *Token, now time.Time) string {
	who := ""
	if u := tok.Claims.User(); u != "" {
		who = " as " + terminalSafe(u)
	}
	exp := tok.ExpiresAt()
	return fmt.Sprintf("Logged in to %s%s, valid until %s (for %s).\n", terminalSafe(name), who, localClock(exp, now), relative(exp.Sub(now)))
}

// localClock formats t in local time, as briefly as now allows: 15:04
// today, "Mon 15:04" within a week, else the date.
func localClock(t, now time.Time) string {
	t, now = t.Local(), now.Local()
	ty, tm, td := t.Date()
	ny, nm, nd := now.Date()
	switch {
	case ty == ny && tm == nm && td == nd:
		return t.Format("15:04")
	case t.After(now) && t.Sub(now) < 6*24*time.Hour:
		return t.Format("Mon 15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// relative says how long d is in words, to the nearest minute (to the
// second under a minute, to the hour from two days on): "59 minutes",
// "1 hour 30 minutes", "3 days".
func relative(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d < 0:
		return "0 seconds"
	case d < time.Minute:
		return plural(int64(d.Round(time.Second)/time.Second), "second")
	case d < time.Hour-30*time.Second:
		return plural(int64(d.Round(time.Minute)/time.Minute), "minute")
	case d < 48*time.Hour:
		m := int64(d.Round(time.Minute) / time.Minute)
		if m%60 == 0 {
			return plural(m/60, "hour")
		}
		return plural(m/60, "hour") + " " + plural(m%60, "minute")
	}
	h := int64(d.Round(time.Hour) / time.Hour)
	if h%24 == 0 {
		return plural(h/24, "day")
	}
	return plural(h/24, "day") + " " + plural(h%24, "hour")
}
