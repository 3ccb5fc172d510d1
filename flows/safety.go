package flows

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// Everything a server sends may be hostile: its text reaches a person's
// terminal and its numbers drive timers. This file holds the one place
// where server text is made safe to show and where the secrets this
// process holds are masked out of it.

// masked replaces a secret wherever server text repeats it.
const masked = "[redacted]"

// minSecretRun is the shortest run of a secret's characters that counts
// as a repetition of it: a server that echoes only a prefix of a device
// code or refresh token still leaks it.
const minSecretRun = 8

// secrets is what this process sent or holds in one exchange with a
// server: device codes, refresh and access tokens, authorization codes,
// code verifiers and states. The zero value masks nothing.
type secrets []string

// with returns s and the non-empty values vs.
func (s secrets) with(vs ...string) secrets {
	out := append(secrets(nil), s...)
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// mask replaces in text every secret, its URL-encoded forms, and every
// run of at least minSecretRun characters that is part of a secret (a
// server quoting the start or the end of a token), with "[redacted]".
func (s secrets) mask(text string) string {
	if len(s) == 0 || text == "" {
		return text
	}
	var long secrets
	for _, v := range s {
		if len(v) < minSecretRun {
			continue
		}
		long = append(long, v)
		for _, form := range []string{url.QueryEscape(v), url.PathEscape(v)} {
			text = strings.ReplaceAll(text, form, masked)
		}
	}
	if len(long) == 0 {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		if n := long.run(text[i:]); n >= minSecretRun {
			b.WriteString(masked)
			i += n
			continue
		}
		b.WriteByte(text[i])
		i++
	}
	return b.String()
}

// run returns the length of the longest prefix of text that is part of
// one of the secrets.
func (s secrets) run(text string) int {
	best := 0
	for _, v := range s {
		n := best + 1
		for n <= len(text) && strings.Contains(v, text[:n]) {
			n++
		}
		if n-1 > best && strings.Contains(v, text[:n-1]) {
			best = n - 1
		}
	}
	return best
}

// quote makes server text fit for one line of an error message: terminal
// controls removed, secrets masked, whitespace collapsed, and at most
// maxDescription characters kept. Controls go first, so that a secret
// broken up by them is masked as a whole.
func (s secrets) quote(text string) string {
	text = strings.Join(strings.Fields(terminalSafe(text)), " ")
	if len(text) > 4*maxDescription {
		text = text[:4*maxDescription] // what is masked is also cut below
	}
	return oneLine(s.mask(text))
}

// terminalSafe removes from s everything that a terminal could act on:
// C0 and C1 control characters (ESC starts every escape sequence, U+009B
// is a one-character CSI), DEL, the Unicode bidirectional overrides and
// isolates (which reorder what a person reads), and invalid UTF-8. Tabs
// and newlines become spaces.
func terminalSafe(s string) string {
	if isTerminalSafe(s) {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		s = s[n:]
		switch {
		case r == utf8.RuneError && n <= 1:
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unsafeRune(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isTerminalSafe reports whether s holds nothing terminalSafe would
// change.
func isTerminalSafe(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n <= 1) || unsafeRune(r) {
			return false
		}
		i += n
	}
	return true
}

// unsafeRune reports whether r is a control or a bidirectional formatting
// character.
func unsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
		return true
	}
	return false
}

// TerminalSafe returns s without the characters that could drive a
// terminal (escape sequences, control characters, bidirectional
// overrides). Every string a server sends passes through it before it is
// printed; the commands apply it to their error lines as well.
func TerminalSafe(s string) string { return terminalSafe(s) }

// IsLoopback reports whether host (a host name or IP address, without
// port or brackets) is the loopback interface: "localhost", 127.0.0.0/8 or
// ::1. Only there may secrets travel in clear text (RFC 8252 §8.3).
func IsLoopback(host string) bool { return storekey.IsLoopback(host) }

// checkTransport refuses a URL that would carry secrets in clear text over
// the network: plain http is for loopback hosts only, unless allowHTTP
// says the person chose it (--allow-http, allow_http = true).
func checkTransport(u *url.URL, allowHTTP bool) error {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if allowHTTP || IsLoopback(u.Hostname()) {
			return nil
		}
		return &ClearTextError{URL: redact(u)}
	}
	return fmt.Errorf("flows: %s is not an http(s) URL", redact(u))
}

// ClearTextError refuses to send a credential over plain http to a host
// that is not the loopback interface.
type ClearTextError struct {
	// URL is the refused server URL.
	URL string
}

// Error says why the URL is refused and how to allow it on purpose.
func (e *ClearTextError) Error() string {
	return fmt.Sprintf("flows: %s uses plain http, which would send tokens across the network in clear text; use https, or if you mean it, pass --allow-http (allow_http = true in the config entry)", e.URL)
}
