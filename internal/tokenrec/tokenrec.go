// Package tokenrec reads one entry of the token file (a login, in the
// reference client's v1 format) as keyring decodes it with encoding/json,
// without encoding/json: what the small commands need of it to answer a
// cached get (see internal/fast and internal/lean). It imports nothing
// heavy.
package tokenrec

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Record is what a cached answer needs of one entry of the token file.
type Record struct {
	Access         string // token.access_token
	Expires        int64  // token.expires, Unix seconds
	RefreshExpires int64  // token.refresh_expires
	HasServer      bool   // the entry has a "server" object
	Host           string // server.host
	Username       string // server.username
	Issuer         string // server.issuer
	RedirectPorts  []int  // server.redirect_ports
	// What an ID token's answer needs (see fast.Kubectl); Odd is set when
	// one of these is a string the decoder does not read (an escape,
	// non-ASCII), which the other answers have no use for.
	IDToken      string // token.id_token
	ClientID     string // server.client_id
	RedirectHost string // server.redirect_host
	Odd          bool
}

// ValidityMargin is flows.ValidityMargin: a token is handed out while
// more than this is left of it.
const ValidityMargin = 60 * time.Second

// StoreMargin is flows.StoreMargin, in seconds.
const StoreMargin = 30

// Valid reports whether rec's access token may be handed out at t, as
// flows.Token.Valid decides.
func (rec *Record) Valid(t time.Time) bool {
	return rec.Access != "" && t.Add(ValidityMargin).Unix() < rec.Expires
}

// Live reports whether keyring hands rec out at t, as flows.Token.Live
// decides: the access or the refresh token is good for more than
// StoreMargin. A record that is valid is live.
func (rec *Record) Live(t time.Time) bool {
	return max(rec.Expires, rec.RefreshExpires)-StoreMargin > t.Unix()
}

// Decode reads one entry of the token file (the value of its key,
// checked as JSON by jsonscan.FindEntry) as keyring decodes it with
// encoding/json. ok is false for anything it cannot tell is decoded the
// same way: a key that matches a field only in another case (encoding/json
// matches keys case-insensitively), a repeated field, an escape or a
// non-ASCII byte in a string it reads, a value of an unexpected type, an
// expiry written as a string. The caller then leaves the request to
// oidc-auth-core. A valid entry is never read differently: FuzzDecodeRecord
// checks that against encoding/json.
func Decode(b []byte) (rec Record, ok bool) {
	d := &decoder{b: b}
	var sawToken bool
	ok = d.object([]string{"token", "stored_at", "server", "claims"}, func(key string) bool {
		switch key {
		case "token":
			if d.null() {
				return false // no token: keyring finds no login
			}
			sawToken = true
			return d.token(&rec)
		case "stored_at":
			return d.null() || d.float()
		case "server":
			if d.null() {
				return true
			}
			rec.HasServer = true
			return d.server(&rec)
		case "claims":
			return d.null() || d.object([]string{"sub", "preferred_username", "email", "name", "username"}, func(string) bool { return d.anyString() })
		}
		return false
	})
	return rec, ok && sawToken && d.end()
}

// ClaimLiteral returns the literal (a number, true, false) that the JSON
// object b, known to be well-formed, holds for name, when it reads b as
// encoding/json would decode it into a struct with that one field (see
// decoder.object): ok is false for anything else, a name written in
// another case or repeated included.
func ClaimLiteral(b []byte, name string) (lit string, ok bool) {
	d := &decoder{b: b}
	if !d.object([]string{name}, func(string) bool { lit = d.literal(); return lit != "" }) || !d.end() || lit == "" {
		return "", false
	}
	return lit, true
}

// decoder walks a JSON value that is known to be well-formed.
type decoder struct {
	b []byte
	i int
}

func (d *decoder) ws() {
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
	}
}

// end reports whether only whitespace is left.
func (d *decoder) end() bool {
	d.ws()
	return d.i == len(d.b)
}

// peek returns the next non-space byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.ws()
	if d.i == len(d.b) {
		return 0
	}
	return d.b[d.i]
}

// null consumes a JSON null, if that is what comes next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && strings.HasPrefix(string(d.b[d.i:]), "null") {
		d.i += 4
		return true
	}
	return false
}

// str reads a string without escapes and of ASCII alone; ok is false for
// anything else.
func (d *decoder) str() (string, bool) {
	if d.peek() != '"' {
		return "", false
	}
	start := d.i + 1
	for j := start; j < len(d.b); j++ {
		switch c := d.b[j]; {
		case c == '"':
			d.i = j + 1
			return string(d.b[start:j]), true
		case c == '\\' || c >= 0x80 || c < 0x20:
			return "", false
		}
	}
	return "", false
}

// literal returns the number literal that comes next, or "".
func (d *decoder) literal() string {
	d.ws()
	j := d.i
	for j < len(d.b) && strings.IndexByte("+-.eE0123456789", d.b[j]) >= 0 {
		j++
	}
	s := string(d.b[d.i:j])
	d.i = j
	return s
}

// float reads a number that encoding/json can store in a float64.
func (d *decoder) float() bool {
	s := d.literal()
	_, err := strconv.ParseFloat(s, 64)
	return s != "" && err == nil
}

// unix reads an expiry as keyring's Token.UnmarshalJSON does: a number
// (json.Number), an integer or else a float of at most 1e15; null is 0.
func (d *decoder) unix(v *int64) bool {
	if d.null() {
		*v = 0
		return true
	}
	s := d.literal()
	if s == "" {
		return false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*v = n
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return false
	}
	*v = int64(f)
	return true
}

// skip passes over any value.
func (d *decoder) skip() bool {
	switch d.peek() {
	case '"':
		for j := d.i + 1; j < len(d.b); j++ {
			switch d.b[j] {
			case '\\':
				j++
			case '"':
				d.i = j + 1
				return true
			}
		}
		return false
	case '{', '[':
		depth := 0
		for j := d.i; j < len(d.b); j++ {
			switch d.b[j] {
			case '"':
				d.i = j
				if !d.skip() {
					return false
				}
				j = d.i - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					d.i = j + 1
					return true
				}
			}
		}
		return false
	case 't':
		d.i += 4
		return true
	case 'f':
		d.i += 5
		return true
	case 'n':
		return d.null()
	}
	return d.literal() != ""
}

// object walks an object, calling field for each member whose key is one
// of fields (written exactly so, and once) with the decoder at its value;
// other members are skipped. A key that equals a field but for case, or
// that has escapes, fails the walk, as does a field that returns false.
func (d *decoder) object(fields []string, field func(key string) bool) bool {
	var seen uint32
	return d.elements('{', '}', func() bool {
		key, ok := d.str()
		if !ok || d.peek() != ':' {
			return false
		}
		d.i++
		known := -1
		for n, f := range fields {
			if f == key {
				known = n
			} else if strings.EqualFold(f, key) {
				return false
			}
		}
		if known < 0 {
			return d.skip()
		}
		if seen&(1<<known) != 0 || !field(key) {
			return false
		}
		seen |= 1 << known
		return true
	})
}

// elements walks the members of an object or the elements of an array,
// open and close being its brackets, calling each at every one: each
// consumes it and reports whether it is what the caller takes.
func (d *decoder) elements(open, close byte, each func() bool) bool {
	if d.peek() != open {
		return false
	}
	d.i++
	for first := true; ; first = false {
		switch c := d.peek(); {
		case c == close:
			d.i++
			return true
		case !first && c == ',':
			d.i++
		case c == ',' || !first:
			return false
		}
		if !each() {
			return false
		}
	}
}

// anyString passes over a string or null, whatever it holds.
func (d *decoder) anyString() bool {
	return d.null() || d.peek() == '"' && d.skip()
}

// stringMap passes over an object of strings (a map[string]string).
func (d *decoder) stringMap() bool {
	return d.elements('{', '}', func() bool {
		if d.peek() != '"' || !d.skip() || d.peek() != ':' {
			return false
		}
		d.i++
		return d.anyString()
	})
}

// plain reads a string that is used, as str does, or null for "".
func (d *decoder) plain(v *string) bool {
	if d.null() {
		*v = ""
		return true
	}
	s, ok := d.str()
	*v = s
	return ok
}

// token reads keyring's Token.
func (d *decoder) token(rec *Record) bool {
	return d.object([]string{"access_token", "token_type", "expires", "refresh_token", "refresh_expires", "scope", "headers", "id_token"}, func(key string) bool {
		switch key {
		case "access_token":
			return d.plain(&rec.Access)
		case "expires":
			return d.unix(&rec.Expires)
		case "refresh_expires":
			return d.unix(&rec.RefreshExpires)
		case "headers":
			return d.null() || d.stringMap()
		case "id_token":
			return d.plainOr(&rec.IDToken, &rec.Odd)
		}
		return d.anyString()
	})
}

// plainOr reads a string as plain does, or else passes over it as
// anyString does and sets odd.
func (d *decoder) plainOr(v *string, odd *bool) bool {
	at := d.i
	if d.plain(v) {
		return true
	}
	d.i, *v, *odd = at, "", true
	return d.anyString()
}

// server reads keyring's Server, the settings a login was made with.
func (d *decoder) server(rec *Record) bool {
	return d.object([]string{"host", "login_route", "token_route", "device_route", "redirect_ports", "username", "issuer", "client_id", "client_secret", "scopes", "audience", "redirect_host", "username_claim"}, func(key string) bool {
		switch key {
		case "host":
			return d.plain(&rec.Host)
		case "username":
			return d.plain(&rec.Username)
		case "issuer":
			return d.plain(&rec.Issuer)
		case "client_id":
			return d.plainOr(&rec.ClientID, &rec.Odd)
		case "redirect_host":
			return d.plainOr(&rec.RedirectHost, &rec.Odd)
		case "redirect_ports":
			return d.null() || d.ints(&rec.RedirectPorts)
		case "scopes":
			return d.null() || d.stringList()
		}
		return d.anyString()
	})
}

// ints reads an array of integers that fit an int.
func (d *decoder) ints(out *[]int) bool {
	*out = []int{}
	return d.elements('[', ']', func() bool {
		n, err := strconv.Atoi(d.literal())
		*out = append(*out, n)
		return err == nil
	})
}

// stringList reads an array of strings.
func (d *decoder) stringList() bool {
	return d.elements('[', ']', d.anyString)
}
