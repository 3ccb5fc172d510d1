// Package gitproto speaks git's credential helper protocol
// (gitcredentials(7)): it reads git's requests, builds the answer that
// hands over a token, and parses the WWW-Authenticate challenges git
// passes on. It imports nothing heavy, so that the small command that
// answers cached gets can use it (see internal/fast); the package helper
// re-exports it.
package gitproto

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/ascii"
)

// Limits of a git credential request (gitcredentials(7)): git sends a few
// short lines; anything larger is not git.
const (
	maxGitRequest = 64 << 10
	maxGitLine    = 16 << 10
)

// Request is one request of git's credential helper protocol
// (gitcredentials(7), "CUSTOM HELPERS"): key=value lines up to a blank
// line or the end of input.
type Request struct {
	// Fields holds every value of every key, in order; "key[]" keys are
	// stored under "key[]".
	Fields map[string][]string
}

// Get returns the last value of key, or "".
func (r *Request) Get(key string) string {
	v := r.Fields[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// Capable reports whether git announced capability c ("authtype").
func (r *Request) Capable(c string) bool {
	for _, v := range r.Fields["capability[]"] {
		if v == c {
			return true
		}
	}
	return false
}

// ParseRequest reads one request. Lines end in "\n" (a "\r" before it is
// dropped); unknown keys are kept and ignored by callers; a line without
// "=", a NUL byte, or a request over 64 KiB is an error.
func ParseRequest(r io.Reader) (*Request, error) {
	req := &Request{Fields: map[string][]string{}}
	br := bufio.NewReaderSize(io.LimitReader(r, maxGitRequest+1), 4096)
	total := 0
	for {
		line, err := br.ReadString('\n')
		total += len(line)
		if total > maxGitRequest || len(line) > maxGitLine {
			return nil, errors.New("helper: the credential request is too large")
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, errors.New("helper: the credential request holds a NUL byte")
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, &wrapError{"helper: read the credential request: ", err}
			}
			return req, nil
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			return nil, errors.New("helper: the credential request has a line without key=value (" + quote(line, 40) + ")")
		}
		req.Fields[key] = append(req.Fields[key], value)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return req, nil
			}
			return nil, &wrapError{"helper: read the credential request: ", err}
		}
	}
}

// EndsRequest reports whether b, read up to from before, now holds the
// blank line that ends a request ("\n" or "\r\n" alone on its line).
func EndsRequest(b []byte, from int) bool {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		start := i
		if i > 0 && b[i-1] == '\r' {
			start = i - 1
		}
		if start == 0 || b[start-1] == '\n' {
			return true
		}
	}
	return false
}

// Answer is the answer to req that hands over the access token access,
// valid until expires (Unix seconds, 0 for unknown), for a server whose
// config says auth (config.AuthAuto, AuthBasic or AuthBearer; "" is
// auto). user is the username to send; the one git sent wins unless
// userFixed (a config entry that names its username).
//
// A git without capability[]=authtype gets username, password (the access
// token) and password_expiry_utc. A git with it gets the token as a
// credential git sends as is: "authtype=Bearer" when auth is AuthBearer, or
// AuthAuto and one of git's wwwauth[] challenges has the Bearer scheme;
// else "authtype=Basic" with the Basic credential of user and token (RFC
// 7617). Either is marked ephemeral=1 and carries no password, so that
// generic storage helpers git also sends it to keep nothing.
func Answer(req *Request, user string, userFixed bool, auth, access string, expires int64) string {
	if u := req.Get("username"); u != "" && !userFixed && ValidBasicUser(u) {
		user = u
	}
	var s string
	switch {
	case !req.Capable("authtype"):
		s = "username=" + user + "\npassword=" + access + "\n"
	case wantsBearer(req, auth):
		s = "capability[]=authtype\nauthtype=Bearer\ncredential=" + access + "\nephemeral=1\n"
	default:
		basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + access))
		s = "capability[]=authtype\nauthtype=Basic\ncredential=" + basic + "\nephemeral=1\n"
	}
	if expires > 0 {
		s += "password_expiry_utc=" + strconv.FormatInt(expires, 10) + "\n"
	}
	return s
}

// ValidBasicUser reports whether git's username can be sent back: a Basic
// user-id has no colon (RFC 7617 §2), and no line of the protocol has
// control characters.
func ValidBasicUser(u string) bool {
	for _, r := range u {
		if r < ' ' || r == 0x7f || r == ':' {
			return false
		}
	}
	return true
}

// wantsBearer reports whether a git that announced authtype gets the
// token as a Bearer credential: always with AuthBearer, never with
// AuthBasic, and with AuthAuto when a challenge of git's wwwauth[] lines
// has the Bearer scheme. Without challenges (http.proactiveAuth) auto
// means Basic, which git itself asks for with http.proactiveAuth=basic.
func wantsBearer(req *Request, auth string) bool {
	switch auth {
	case authBearer:
		return true
	case authBasic:
		return false
	}
	for _, v := range req.Fields["wwwauth[]"] {
		cs, _ := ParseChallenges(v) // what parses before an error counts
		for _, c := range cs {
			if strings.EqualFold(c.Scheme, "Bearer") {
				return true
			}
		}
	}
	return false
}

// Challenge is one challenge of an HTTP WWW-Authenticate field (RFC 9110
// §11.6.1): an auth-scheme with a token68 or with auth-params.
type Challenge struct {
	// Scheme is the auth-scheme as sent; schemes compare case-insensitively.
	Scheme string
	// Token68 is the challenge's token68, "" for none.
	Token68 string
	// Params are the auth-params, names in lower case (names compare
	// case-insensitively), values unquoted; nil for none. A repeated name
	// keeps its first value.
	Params map[string]string
}

// String writes c in the syntax ParseChallenges reads, with every
// parameter value quoted and the parameters sorted by name.
func (c Challenge) String() string {
	var b strings.Builder
	b.WriteString(c.Scheme)
	sep := " "
	if c.Token68 != "" {
		b.WriteString(" " + c.Token68)
		sep = ", "
	}
	names := make([]string, 0, len(c.Params))
	for n := range c.Params {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		b.WriteString(sep + n + `="`)
		for _, r := range []byte(c.Params[n]) {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(r)
		}
		b.WriteByte('"')
		sep = ", "
	}
	return b.String()
}

// ParseChallenges parses the value of a WWW-Authenticate field, which git
// passes on as a wwwauth[] line: a comma-separated list of challenges
// (RFC 9110 §11.6.1), each an auth-scheme followed by a token68 or by
// name=value auth-params, values a token or a quoted-string, whose commas do
// not separate. An element of the form name=value is a parameter of the
// challenge before it; any other starts a challenge, whose scheme may be
// followed by a token68 ("Negotiate YIIB…==", "abc=" being a token68, not a
// parameter without a value). Unquoted values may hold any visible
// character but '"' and ',', and '=' after the first (servers write URLs
// there unquoted). On a syntax error it returns the challenges read so
// far, the last one maybe without all its parameters, with the error.
func ParseChallenges(v string) ([]Challenge, error) {
	var out []Challenge
	fail := func(i int, what string) ([]Challenge, error) {
		return out, errors.New("helper: WWW-Authenticate " + quote(v, 60) + ": " + what + " at byte " + strconv.Itoa(i))
	}
	for i := 0; ; {
		for i < len(v) && (v[i] == ',' || isWS(v[i])) {
			i++
		}
		if i == len(v) {
			return out, nil
		}
		if len(out) > 0 {
			if next, ok, err := parseAuthParam(v, i, &out[len(out)-1]); err != nil {
				return fail(next, err.Error())
			} else if ok {
				if i, ok = endOfElement(v, next); !ok {
					return fail(next, "no comma after a parameter")
				}
				continue
			}
		}
		j := scanToken(v, i)
		if j == i {
			return fail(i, strconv.QuoteRune(rune(v[i]))+" where an auth-scheme belongs")
		}
		if j < len(v) && v[j] != ',' && !isWS(v[j]) {
			return fail(j, strconv.QuoteRune(rune(v[j]))+" after the auth-scheme")
		}
		out = append(out, Challenge{Scheme: v[i:j]})
		c := &out[len(out)-1]
		if j == len(v) || v[j] == ',' {
			i = j
			continue
		}
		for j < len(v) && isWS(v[j]) {
			j++
		}
		if j == len(v) || v[j] == ',' {
			i = j
			continue
		}
		next, ok, err := parseAuthParam(v, j, c)
		if err != nil {
			return fail(next, err.Error())
		}
		if !ok { // token68
			next = j
			for next < len(v) && isToken68(v[next]) {
				next++
			}
			if next == j {
				return fail(j, strconv.QuoteRune(rune(v[j]))+" where a token68 or a parameter belongs")
			}
			for next < len(v) && v[next] == '=' {
				next++
			}
			c.Token68 = v[j:next]
		}
		if i, ok = endOfElement(v, next); !ok {
			return fail(next, "no comma after a challenge's data")
		}
	}
}

// parseAuthParam reads an auth-param (token BWS "=" BWS ( token /
// quoted-string )) at v[i:] into c; ok is false, with no error, when v[i:]
// is no auth-param. It returns the index after it.
func parseAuthParam(v string, i int, c *Challenge) (next int, ok bool, err error) {
	j := scanToken(v, i)
	if j == i {
		return i, false, nil
	}
	name := ascii.Lower(v[i:j])
	for j < len(v) && isWS(v[j]) {
		j++
	}
	if j == len(v) || v[j] != '=' {
		return i, false, nil
	}
	j++
	for j < len(v) && isWS(v[j]) {
		j++
	}
	var value string
	switch {
	case j < len(v) && v[j] == '"':
		var b strings.Builder
		for j++; ; j++ {
			if j == len(v) {
				return j, false, errors.New("unterminated quoted string")
			}
			ch := v[j]
			if ch == '\\' {
				j++
				if j == len(v) {
					return j, false, errors.New("unterminated quoted string")
				}
				ch = v[j]
				if ch != '\t' && (ch < ' ' || ch == 0x7f) {
					return j, false, errors.New("control character " + strconv.QuoteRune(rune(ch)) + " in a quoted string")
				}
				b.WriteByte(ch)
				continue
			}
			if ch == '"' {
				j++
				break
			}
			if ch != '\t' && (ch < ' ' || ch == 0x7f) {
				return j, false, errors.New("control character " + strconv.QuoteRune(rune(ch)) + " in a quoted string")
			}
			b.WriteByte(ch)
		}
		value = b.String()
	default:
		k := j
		for k < len(v) && v[k] > ' ' && v[k] != 0x7f && v[k] != '"' && v[k] != ',' && (k > j || v[k] != '=') {
			k++
		}
		if k == j { // "abc=" or "abc==": a token68, not a parameter
			return i, false, nil
		}
		value, j = v[j:k], k
	}
	if c.Params == nil {
		c.Params = map[string]string{}
	}
	if _, dup := c.Params[name]; !dup {
		c.Params[name] = value
	}
	return j, true, nil
}

// endOfElement skips white space after a list element at v[i:] and
// reports whether a comma or the end follows; it returns their index.
func endOfElement(v string, i int) (int, bool) {
	for i < len(v) && isWS(v[i]) {
		i++
	}
	return i, i == len(v) || v[i] == ','
}

// scanToken returns the end of the token (RFC 9110 §5.6.2) at v[i:].
func scanToken(v string, i int) int {
	for i < len(v) && isTchar(v[i]) {
		i++
	}
	return i
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

func isTchar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("-._~+/", c) >= 0
}

// authBasic and authBearer are config.AuthBasic and config.AuthBearer,
// which this package, read by internal/lean, does not import.
const (
	authBasic  = "basic"
	authBearer = "bearer"
)

// quote is fmt's %.nq of s: s cut to n characters, quoted.
func quote(s string, n int) string {
	for i := range s {
		if n == 0 {
			s = s[:i]
			break
		}
		n--
	}
	return strconv.Quote(s)
}

// wrapError is an error with a message before it, which it unwraps to.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }
