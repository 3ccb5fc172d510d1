// Package scan is the scan of internal/jsonscan, with the checks that
// need encoding/json left to its caller: it imports neither encoding/json
// nor fmt (nor, through them, os), so that the first stage of the small
// commands (internal/lean) scans the token file exactly as keyring does.
package scan

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// Checks are what the scan leaves to its caller.
type Checks struct {
	// Valid reports whether the entry found is valid JSON.
	Valid func(raw []byte) bool
	// Unquote decodes a key written as raw JSON string content, escaped
	// or not valid UTF-8; ok false for a key it cannot decode. Nil makes
	// every such key an error (ErrUnsure).
	Unquote func(k []byte) (key string, ok bool)
}

// ErrUnsure is the error of a scan that met a key that Checks.Unquote,
// nil, could not decode.
var ErrUnsure = &scanError{msg: "a key the scan does not decode"}

// The read path of a token file decodes one entry, not the whole file, so
// that a cached Get costs the same with one login or a thousand. The file
// is still read whole and scanned from end to end by FindEntry, which
// checks, everywhere in the file, what makes it JSON at all: a single
// top-level object (or null), and in every value the nesting of objects
// and arrays, the strings' ends, the colons and commas between members,
// the literals true, false and null, the characters numbers are written
// with, and nothing but whitespace after the end. The top-level keys and
// the value of the entry asked for are checked in full, as encoding/json
// checks them. What the scan does not check is inside the other entries'
// strings (their escapes, control characters) and numbers (their exact
// grammar): such a defect shows as a keyring.CorruptError on the next write,
// which parses and checks the whole file (see keyring.FileStore.read) and
// overwrites nothing it cannot parse, and in List, which does too. On
// valid JSON the scan finds exactly what encoding/json finds, the last of
// duplicate keys included (FuzzFindEntry checks both).

// maxScanDepth is encoding/json's nesting limit, so that the scan refuses
// no file that encoding/json accepts and accepts none it refuses for
// depth.
const maxScanDepth = 10000

// scanError is a syntax error found by the scan, at a byte offset.
type scanError struct {
	off int
	msg string
}

func (e *scanError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.off)
}

// entryScan is the state of one scan.
type entryScan struct {
	b []byte
	i int
}

// Find returns the raw value of key in the top-level object of the
// JSON document b (the last one when the key is repeated), nil when b has
// none or is JSON null, and bareValue, the raw value of a top-level
// "access_token" key (the last one), which says whether b is a bare token.
func Find(b []byte, key string, c Checks) (raw, bareValue []byte, err error) {
	s := &entryScan{b: b}
	s.ws()
	if s.i < len(b) && b[s.i] == 'n' {
		if err := s.literal("null"); err != nil {
			return nil, nil, err
		}
		return nil, nil, s.end()
	}
	if s.i >= len(b) || b[s.i] != '{' {
		return nil, nil, s.errHere("looking for the beginning of an object")
	}
	s.i++
	s.ws()
	if s.i < len(b) && b[s.i] == '}' {
		s.i++
		return nil, nil, s.end()
	}
	for {
		s.ws()
		k, escaped, err := s.key()
		if err != nil {
			return nil, nil, err
		}
		s.ws()
		if s.i >= len(b) || b[s.i] != ':' {
			return nil, nil, s.errHere("after an object key")
		}
		s.i++
		s.ws()
		start := s.i
		if err := s.skip(1); err != nil {
			return nil, nil, err
		}
		v := b[start:s.i]
		got, decoded := string(k), true
		if escaped || !utf8.Valid(k) {
			if c.Unquote == nil {
				return nil, nil, ErrUnsure
			}
			got, decoded = c.Unquote(k) // a key it cannot decode is none
		}
		switch {
		case decoded && got == key:
			raw = v
		case decoded && got == "access_token":
			bareValue = v
		}
		s.ws()
		if s.i >= len(b) {
			return nil, nil, s.errHere("in an object")
		}
		switch b[s.i] {
		case ',':
			s.i++
			continue
		case '}':
			s.i++
			if raw != nil && !c.Valid(raw) {
				return nil, nil, &scanError{start, "the entry " + strconv.Quote(key) + " is not valid JSON"}
			}
			return raw, bareValue, s.end()
		}
		return nil, nil, s.errHere("after an object member")
	}
}

// errHere reports the byte at the scan's position as unexpected.
func (s *entryScan) errHere(context string) error {
	if s.i >= len(s.b) {
		return &scanError{s.i, "unexpected end of JSON input"}
	}
	return &scanError{s.i, "invalid character " + strconv.QuoteRune(rune(s.b[s.i])) + " " + context}
}

// end checks that only whitespace follows the top-level value.
func (s *entryScan) end() error {
	s.ws()
	if s.i != len(s.b) {
		return s.errHere("after top-level value")
	}
	return nil
}

// ws skips JSON whitespace.
func (s *entryScan) ws() {
	b, i := s.b, s.i
	for i < len(b) {
		if c := b[i]; c > ' ' || (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
			break
		}
		i++
	}
	s.i = i
}

func (s *entryScan) literal(word string) error {
	if !bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		return s.errHere("in a literal")
	}
	s.i += len(word)
	return nil
}

// key scans an object key in full, as encoding/json checks strings, and
// returns its content between the quotes.
func (s *entryScan) key() (k []byte, escaped bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, s.errHere("looking for the beginning of an object key string")
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], escaped, nil
		case c < 0x20:
			return nil, false, s.errHere("in string literal")
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return nil, false, err
			}
			continue
		}
		s.i++
	}
	return nil, false, s.errHere("in string literal")
}

// escape checks the escape sequence at the scan's position.
func (s *entryScan) escape() error {
	s.i++ // the backslash
	if s.i >= len(s.b) {
		return s.errHere("in string escape code")
	}
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i++
		return nil
	case 'u':
		s.i++
		for n := 0; n < 4; n++ {
			if s.i >= len(s.b) || !isHex(s.b[s.i]) {
				return s.errHere("in \\u hexadecimal character escape")
			}
			s.i++
		}
		return nil
	}
	return s.errHere("in string escape code")
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipString moves past a string whose opening quote is at the scan's
// position, finding its closing quote with bytes.IndexByte: a quote
// preceded by an even run of backslashes.
func (s *entryScan) skipString() error {
	from := s.i + 1
	for {
		j := bytes.IndexByte(s.b[from:], '"')
		if j < 0 {
			s.i = len(s.b)
			return s.errHere("in string literal")
		}
		q := from + j
		n := 0
		for p := q - 1; p > s.i && s.b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			s.i = q + 1
			return nil
		}
		from = q + 1
	}
}

// skip moves past one JSON value at depth (1 for the top-level object's
// values), checking its structure (see FindEntry).
func (s *entryScan) skip(depth int) error {
	if s.i >= len(s.b) {
		return s.errHere("looking for beginning of value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.skipString()
	case c == '{' || c == '[':
		if depth >= maxScanDepth {
			return &scanError{s.i, "exceeded max depth"}
		}
		return s.skipComposite(c, depth+1)
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		s.i++
		for s.i < len(s.b) && isNumberByte(s.b[s.i]) {
			s.i++
		}
		return nil
	}
	return s.errHere("looking for beginning of value")
}

// skipComposite moves past an object or array whose opening bracket open
// is at the scan's position.
func (s *entryScan) skipComposite(open byte, depth int) error {
	close := byte(']')
	if open == '{' {
		close = '}'
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == close {
		s.i++
		return nil
	}
	for {
		s.ws()
		if open == '{' {
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return s.errHere("looking for beginning of object key string")
			}
			if err := s.skipString(); err != nil {
				return err
			}
			s.ws()
			if s.i >= len(s.b) || s.b[s.i] != ':' {
				return s.errHere("after object key")
			}
			s.i++
			s.ws()
		}
		if err := s.skip(depth); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) {
			return s.errHere("in a value")
		}
		switch s.b[s.i] {
		case ',':
			s.i++
			continue
		case close:
			s.i++
			return nil
		}
		return s.errHere("after a value")
	}
}
