// Unix only: the client these tests check is the Linux one (dbus_linux.go); the BSDs read the bus with godbus.

package secretservice

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// TestParseAddress: the unix sockets of an address list, in order, their
// values unescaped; entries of other transports are skipped and
// reported, unix ones with neither path= nor abstract=, with both, or
// with a value that does not unescape are skipped.
func TestParseAddress(t *testing.T) {
	for _, c := range []struct {
		addr    string
		sockets []string
		other   bool
	}{
		{"unix:path=/run/user/1000/bus", []string{"/run/user/1000/bus"}, false},
		{"unix:abstract=/tmp/dbus-E1c73yNqrG,guid=0123", []string{"@/tmp/dbus-E1c73yNqrG"}, false},
		{"unix:path=/a;unix:abstract=b;unix:path=/c", []string{"/a", "@b", "/c"}, false},
		{"unix:guid=1,path=/x%20y%3b%2C%3D%25%e2%82%ac", []string{"/x y;,=%€"}, false},
		{"tcp:host=localhost,port=1;unix:path=/a", []string{"/a"}, true},
		{"nonce-tcp:host=localhost,port=1,noncefile=/n", nil, true},
		{"launchd:env=X;unix:tmpdir=/tmp;unix:dir=/d;unix:runtime=yes", nil, true},
		{"unix:tmpdir=/tmp;unix:path=/a,abstract=b;unix:path=;unix:abstract=", nil, false},
		{"unix:path=/a%;unix:path=/a%4;unix:path=/a%g0;unix:path=%41", []string{"A"}, false},
		{"unix:path=/a,path=/b", []string{"/a"}, false},
		{";;nocolon;:path=/a;UNIX:path=/b", nil, true},
		{"", nil, false},
	} {
		sockets, other := parseAddress(c.addr)
		if !slices.Equal(sockets, c.sockets) || other != c.other {
			t.Errorf("parseAddress(%q) = %q, %v; want %q, %v", c.addr, sockets, other, c.sockets, c.other)
		}
	}
}

// TestAddressValueEscaping: the client escapes and unescapes address
// values as godbus does, every byte, and a "%" without two hex digits is
// malformed.
func TestAddressValueEscaping(t *testing.T) {
	var all []byte
	for b := 0; b < 256; b++ {
		all = append(all, byte(b))
	}
	for _, v := range []string{"", "/run/user/1000/bus", "/tmp/a b;c,d=e%f€", string(all)} {
		e := escapeAddressValue(v)
		if g := dbus.EscapeBusAddressValue(v); e != g {
			t.Errorf("escapeAddressValue(%q) = %q, godbus %q", v, e, g)
		}
		if u, ok := unescapeAddressValue(e); !ok || u != v {
			t.Errorf("unescapeAddressValue(escapeAddressValue(%q)) = %q, %v", v, u, ok)
		}
	}
	for _, v := range []string{"%41%4a%4A", "%", "%4", "a%", "%g1", "%1g", "%%41", "100%25", "a+b", "%e2%82%ac", "%00"} {
		u, ok := unescapeAddressValue(v)
		g, err := dbus.UnescapeBusAddressValue(v)
		if ok != (err == nil) || ok && u != g {
			t.Errorf("unescapeAddressValue(%q) = %q, %v; godbus %q, %v", v, u, ok, g, err)
		}
	}
}

// TestSessionBusAddress: $DBUS_SESSION_BUS_ADDRESS unless empty or
// "autolaunch:", else the runtime directory's bus socket (its path
// escaped), else the address its dbus-session file records, else none.
func TestSessionBusAddress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run dir,1")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if a := sessionBusAddress("unix:path=/x", dir); a != "unix:path=/x" {
		t.Errorf("with the variable set: %q", a)
	}
	for _, env := range []string{"", "autolaunch:"} {
		if a := sessionBusAddress(env, dir); a != "" {
			t.Errorf("%q, nothing in the runtime directory: %q", env, a)
		}
	}
	write("dbus-session", "DBUS_SESSION_BUS_ADDRESS=unix:abstract=/tmp/dbus-E1c73yNqrG,guid=1\r\n\n")
	if a := sessionBusAddress("autolaunch:", dir); a != "unix:abstract=/tmp/dbus-E1c73yNqrG,guid=1" {
		t.Errorf("a dbus-session file: %q", a)
	}
	write("dbus-session", "OTHER=1\nDBUS_SESSION_BUS_ADDRESS=unix:path=/x\n")
	if a := sessionBusAddress("", dir); a != "" {
		t.Errorf("a dbus-session file that starts with another line: %q", a)
	}
	write("bus", "")
	a := sessionBusAddress("", dir)
	if sockets, _ := parseAddress(a); len(sockets) != 1 || sockets[0] != filepath.Join(dir, "bus") {
		t.Errorf("a bus socket: %q, which names %q", a, sockets)
	}
	if a := sessionBusAddress("unix:path=/x", dir); a != "unix:path=/x" {
		t.Errorf("with the variable set and a bus socket: %q", a)
	}
}

// godbusMessage encodes m with godbus in order, with serial.
func godbusMessage(t testing.TB, m *dbus.Message, order byteOrder, serial uint32) []byte {
	var buf bytes.Buffer
	if err := m.EncodeTo(&buf, order); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	order.PutUint32(b[8:], serial)
	return b
}

// godbusReply returns godbus's encoding of a method return to the call
// of serial 3, with body.
func godbusReply(t testing.TB, order byteOrder, body ...any) []byte {
	h := busHeaders(body)
	h[dbus.FieldReplySerial] = dbus.MakeVariant(uint32(3))
	return godbusMessage(t, &dbus.Message{Type: dbus.TypeMethodReply, Headers: h, Body: body}, order, 77)
}

// orders are the two byte orders.
var orders = []byteOrder{binary.LittleEndian, binary.BigEndian}

// TestDecodeMessageAgainstGodbus: replies godbus encodes, in both byte
// orders, their header fields in the order of godbus's map (which
// varies), decode to what was encoded.
func TestDecodeMessageAgainstGodbus(t *testing.T) {
	unlocked := []dbus.ObjectPath{loginCollection + "1", "/org/freedesktop/secrets/collection/other/2", "/"}
	locked := []dbus.ObjectPath{}
	secrets := map[dbus.ObjectPath]fakeSecret{
		loginCollection + "1": {fakeSession, []byte{}, []byte("one"), "text/plain"},
		loginCollection + "2": {fakeSession, []byte{1, 2}, []byte{}, ""},
		loginCollection + "3": {fakeSession, nil, []byte("\x00\xff" + strings.Repeat("x", 1000)), "application/octet-stream"},
	}
	for _, order := range orders {
		for range 20 {
			m := decodeOK(t, godbusReply(t, order, unlocked, locked))
			if m.big != (order == binary.BigEndian) || m.typ != typeMethodReturn || m.serial != 77 || !m.hasReplySerial || m.replySerial != 3 || m.signature != "aoao" {
				t.Fatalf("%v: decoded %+v", order, m)
			}
			u, l, ok := decodeSearchItems(m)
			if !ok || len(u) != len(unlocked) || len(l) != 0 {
				t.Fatalf("%v: SearchItems = %q, %q, %v", order, u, l, ok)
			}
			for i := range u {
				if u[i] != string(unlocked[i]) {
					t.Errorf("%v: SearchItems[%d] = %q", order, i, u[i])
				}
			}
			if decodeHello(m) {
				t.Errorf("%v: a SearchItems reply read as Hello's", order)
			}
			if _, ok := decodeOpenSession(m); ok {
				t.Errorf("%v: a SearchItems reply read as OpenSession's", order)
			}
			if _, ok := decodeGetSecrets(m); ok {
				t.Errorf("%v: a SearchItems reply read as GetSecrets'", order)
			}
		}
		for _, v := range []dbus.Variant{dbus.MakeVariant(""), dbus.MakeVariant(map[string]dbus.Variant{"a": dbus.MakeVariant([]string{"x"})}), dbus.MakeVariant(dbus.MakeVariant(int16(-2))), dbus.MakeVariant(struct {
			A []int64
			B byte
		}{[]int64{1}, 2})} {
			if s, ok := decodeOpenSession(decodeOK(t, godbusReply(t, order, v, fakeSession))); !ok || s != string(fakeSession) {
				t.Errorf("%v: OpenSession with %s = %q, %v", order, v, s, ok)
			}
		}
		got, ok := decodeGetSecrets(decodeOK(t, godbusReply(t, order, secrets)))
		if !ok || len(got) != len(secrets) {
			t.Fatalf("%v: GetSecrets = %d, %v", order, len(got), ok)
		}
		for p, s := range secrets {
			if got[string(p)] != string(s.Value) {
				t.Errorf("%v: GetSecrets[%s] = %q", order, p, got[string(p)])
			}
		}
		if got, ok := decodeGetSecrets(decodeOK(t, godbusReply(t, order, map[dbus.ObjectPath]fakeSecret{}))); !ok || len(got) != 0 {
			t.Errorf("%v: empty GetSecrets = %v, %v", order, got, ok)
		}
		if !decodeHello(decodeOK(t, godbusReply(t, order, ":1.42"))) {
			t.Errorf("%v: Hello's reply not read", order)
		}
		h := busHeaders([]any{"no"})
		h[dbus.FieldReplySerial] = dbus.MakeVariant(uint32(9))
		h[dbus.FieldErrorName] = dbus.MakeVariant("org.freedesktop.DBus.Error.AccessDenied")
		m := decodeOK(t, godbusMessage(t, &dbus.Message{Type: dbus.TypeError, Headers: h, Body: []any{"no"}}, order, 5))
		if m.typ != typeError || m.replySerial != 9 || m.errorName != "org.freedesktop.DBus.Error.AccessDenied" {
			t.Errorf("%v: error decoded as %+v", order, m)
		}
		if _, _, ok := decodeSearchItems(m); ok {
			t.Errorf("%v: an error read as a reply", order)
		}
	}
}

// decodeOK decodes b, which must decode.
func decodeOK(t testing.TB, b []byte) *message {
	t.Helper()
	m, err := decodeMessage(b)
	if err != nil {
		t.Fatalf("decodeMessage: %v", err)
	}
	return m
}

// TestDecodeMessageHeaderFields: header fields may come in any order,
// with fields the client does not know, of any type (the specification
// says to ignore them); a known field of the wrong type, field code 0,
// an invalid signature, a body without a signature, nesting past the
// bound, an unknown byte order or protocol version, and a message that
// is not its header's size are malformed, and ErrUnusual.
func TestDecodeMessageHeaderFields(t *testing.T) {
	for _, order := range orders {
		body := []any{[]dbus.ObjectPath{loginCollection + "1"}, []dbus.ObjectPath{}}
		unknown := []rawField{
			{42, dbus.MakeVariant(map[string]dbus.Variant{"x": dbus.MakeVariant(dbus.MakeVariant([]byte{1, 2, 3}))})},
			{200, dbus.MakeVariant(struct {
				A byte
				B uint64
				C []struct{ S string }
			}{1, 2, []struct{ S string }{{"s"}}})},
			{10, dbus.MakeVariant(int16(-1))},
		}
		fields := []rawField{
			unknown[0],
			{fieldSignature, sig("aoao")},
			unknown[1],
			{fieldReplySerial, dbus.MakeVariant(uint32(12))},
			{fieldSender, dbus.MakeVariant(":1.1")},
			{fieldPath, dbus.MakeVariant(dbus.ObjectPath("/x"))},
			{fieldUnixFDs, dbus.MakeVariant(uint32(0))},
			unknown[2],
		}
		backward := slices.Clone(fields)
		slices.Reverse(backward)
		for _, f := range [][]rawField{fields, backward} {
			m := decodeOK(t, rawMessage(t, order, typeMethodReturn, 1, f, body...))
			if u, _, ok := decodeSearchItems(m); !ok || m.replySerial != 12 || len(u) != 1 {
				t.Errorf("%v: fields %v: %+v, %q, %v", order, f, m, u, ok)
			}
		}
		for name, b := range map[string][]byte{
			"reply serial a string":   rawMessage(t, order, typeMethodReturn, 1, []rawField{{fieldReplySerial, dbus.MakeVariant("12")}}),
			"signature a string":      rawMessage(t, order, typeMethodReturn, 1, []rawField{{fieldReplySerial, dbus.MakeVariant(uint32(1))}, {fieldSignature, dbus.MakeVariant("aoao")}}, body...),
			"path a string":           rawMessage(t, order, typeMethodReturn, 1, []rawField{{fieldPath, dbus.MakeVariant("/x")}}),
			"path not a path":         patch(rawMessage(t, order, typeMethodReturn, 1, []rawField{{fieldPath, dbus.MakeVariant(dbus.ObjectPath("/x"))}}), "/x\x00", "x/\x00"),
			"error name a path":       rawMessage(t, order, typeError, 1, []rawField{{fieldErrorName, dbus.MakeVariant(dbus.ObjectPath("/x"))}}),
			"field 0":                 rawMessage(t, order, typeMethodReturn, 1, []rawField{{0, dbus.MakeVariant(uint32(1))}}),
			"invalid signature":       patch(rawMessage(t, order, typeMethodReturn, 1, []rawField{{fieldSignature, sig("aoao")}}, body...), "aoao\x00", "ao(o\x00"),
			"variant of two types":    handMessage(order, typeMethodReturn, []byte("\x2a\x02yy\x00\x01\x02"), nil),
			"variant of no type":      handMessage(order, typeMethodReturn, []byte("\x2a\x00\x00"), nil),
			"body, no signature":      setBody(rawMessage(t, order, typeMethodReturn, 1, nil), order, []byte{0, 0, 0, 0}),
			"type 0":                  rawMessage(t, order, 0, 1, nil),
			"byte order X":            append([]byte{'X'}, rawMessage(t, order, typeMethodReturn, 1, nil)[1:]...),
			"version 2":               patchAt(rawMessage(t, order, typeMethodReturn, 1, nil), 3, 2),
			"fields past the end":     patchAt(rawMessage(t, order, typeMethodReturn, 1, []rawField{{10, dbus.MakeVariant(uint32(1))}}), lenAt(order, 12), 9),
			"fields short of a field": patchAt(rawMessage(t, order, typeMethodReturn, 1, []rawField{{10, dbus.MakeVariant(uint32(1))}}), lenAt(order, 12), 7),
			"one byte short":          godbusReply(t, order, body...)[:len(godbusReply(t, order, body...))-1],
			"one byte long":           append(godbusReply(t, order, body...), 0),
			"too deep":                deepVariant(order, 70),
			"array past the fields":   rawMessage(t, order, typeMethodReturn, 1, []rawField{{10, dbus.MakeVariant([]uint32{1})}, {11, dbus.MakeVariant(byte(1))}}),
		} {
			if name == "array past the fields" {
				// The array's length is at 24, after the field's
				// code and signature, "\x0a\x02au\x00", and padding.
				b = patchAt(b, lenAt(order, 24), 200)
			}
			if m, err := decodeMessage(b); !errors.Is(err, ErrUnusual) {
				t.Errorf("%v: %s: %+v, %v, want ErrUnusual", order, name, m, err)
			}
		}
		if _, err := decodeMessage(deepVariant(order, 60)); err != nil {
			t.Errorf("%v: variants 60 deep: %v", order, err)
		}
		m := decodeOK(t, rawMessage(t, order, 7, 1, []rawField{{fieldReplySerial, dbus.MakeVariant(uint32(1))}}))
		if m.typ != 7 {
			t.Errorf("%v: a message of an unknown type read as %d", order, m.typ)
		}
	}
}

// patch replaces the only old in b with new, of the same length.
func patch(b []byte, old, new string) []byte {
	if bytes.Count(b, []byte(old)) != 1 || len(old) != len(new) {
		panic("patch " + old)
	}
	i := bytes.Index(b, []byte(old))
	return append(append(b[:i:i], new...), b[i+len(old):]...)
}

// patchAt sets b[i] to v, in a copy.
func patchAt(b []byte, i int, v byte) []byte {
	b = slices.Clone(b)
	b[i] = v
	return b
}

// lenAt returns the index of the least significant byte of the UINT32 at
// off.
func lenAt(order byteOrder, off int) int {
	if order == binary.BigEndian {
		return off + 3
	}
	return off
}

// bodyStart returns where the body of the message b starts.
func bodyStart(b []byte, order byteOrder) int { return 16 + (int(order.Uint32(b[12:]))+7)&^7 }

// setBody returns the message b with body instead of its own, its
// header fields unchanged.
func setBody(b []byte, order byteOrder, body []byte) []byte {
	b = slices.Clone(b[:bodyStart(b, order)])
	order.PutUint32(b[4:], uint32(len(body)))
	return append(b, body...)
}

// handMessage returns a message of the type typ and serial 1 whose
// header fields are fields, written by hand, and whose body is body.
func handMessage(order byteOrder, typ byte, fields, body []byte) []byte {
	b := []byte{'l', typ, 0, 1}
	if order == binary.BigEndian {
		b[0] = 'B'
	}
	b = order.AppendUint32(b, uint32(len(body)))
	b = order.AppendUint32(b, 1)
	b = order.AppendUint32(b, uint32(len(fields)))
	b = append(b, fields...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return append(b, body...)
}

// deepVariant returns a method return whose one header field, of an
// unknown code, is depth variants in each other around a byte.
func deepVariant(order byteOrder, depth int) []byte {
	return handMessage(order, typeMethodReturn, append(append([]byte{42}, bytes.Repeat([]byte("\x01v\x00"), depth)...), "\x01y\x00\x05"...), nil)
}

// TestDecodeBodies: bodies that do not parse as what they claim are
// refused, never read past: lengths past the end, a string without its
// NUL, an object path that is none, bytes left over.
func TestDecodeBodies(t *testing.T) {
	for _, order := range orders {
		search := godbusReply(t, order, []dbus.ObjectPath{"/a/b"}, []dbus.ObjectPath{"/c"})
		secrets := godbusReply(t, order, map[dbus.ObjectPath]fakeSecret{"/a/b": {"/s", nil, []byte("v"), "t"}})
		session := godbusReply(t, order, dbus.MakeVariant("x"), dbus.ObjectPath("/s"))
		bodyAt := func(b []byte) int { return bodyStart(b, order) }
		inBody := func(b []byte, old, new string) []byte {
			i := bodyAt(b)
			return append(slices.Clone(b[:i]), patch(b[i:], old, new)...)
		}
		secretLen := string(order.AppendUint32(nil, 1)) + "v"
		for name, c := range map[string]struct {
			b      []byte
			decode func(*message) bool
		}{
			"a path that is none":       {inBody(search, "/a/b\x00", "/a//\x00"), searchOK},
			"a path without its NUL":    {inBody(search, "/a/b\x00", "/a/bc"), searchOK},
			"an array past the end":     {patchAt(search, bodyAt(search)+lenAt(order, 0), 200), searchOK},
			"a string past the end":     {patchAt(search, bodyAt(search)+lenAt(order, 4), 200), searchOK},
			"an array of the wrong sum": {patchAt(search, bodyAt(search)+lenAt(order, 0), 7), searchOK},
			"bytes left over":           {setBody(search, order, append(slices.Clone(search[bodyAt(search):]), 0, 0, 0, 0)), searchOK},
			"a secret past the end":     {inBody(secrets, secretLen, string(order.AppendUint32(nil, 200))+"v"), secretsOK},
			"a secret of a wrong path":  {inBody(secrets, "/a/b\x00", "/a/-\x00"), secretsOK},
			"a variant of two types":    {inBody(session, "\x01s\x00", "\x02ss"), sessionOK},
			"a variant of no type":      {inBody(session, "\x01s\x00", "\x00\x00s"), sessionOK},
			"a variant too deep":        {setBody(session, order, append(append(bytes.Repeat([]byte("\x01v\x00"), 70), "\x01y\x00\x05\x00\x00\x00"...), order.AppendUint32(nil, 2)...)), sessionOK},
		} {
			m, err := decodeMessage(c.b)
			if err != nil {
				if name == "bytes left over" {
					t.Fatalf("%v: %s: %v", order, name, err)
				}
				continue // the lengths of the body are not the header's business
			}
			if c.decode(m) {
				t.Errorf("%v: %s: decoded", order, name)
			}
		}
		for name, c := range map[string]struct {
			b      []byte
			decode func(*message) bool
		}{"search": {search, searchOK}, "secrets": {secrets, secretsOK}, "session": {session, sessionOK}} {
			if !c.decode(decodeOK(t, c.b)) {
				t.Errorf("%v: %s not decoded", order, name)
			}
		}
	}
}

// searchOK, secretsOK and sessionOK say whether m decodes as a reply of
// SearchItems, GetSecrets, OpenSession.
func searchOK(m *message) bool  { _, _, ok := decodeSearchItems(m); return ok }
func secretsOK(m *message) bool { _, ok := decodeGetSecrets(m); return ok }
func sessionOK(m *message) bool { _, ok := decodeOpenSession(m); return ok }

// TestAppendCallDecodesWithGodbus: the calls the client sends decode with
// godbus, and to what the client meant, and with the client's own
// decoder.
func TestAppendCallDecodesWithGodbus(t *testing.T) {
	items := []string{loginCollection + "1", loginCollection + "2"}
	for _, c := range []struct {
		member, path, iface, sig string
		flags                    byte
		body                     []byte
		want                     []any
	}{
		{"Hello", busPath, busInterface, "", 0, nil, nil},
		{"SearchItems", secretsPath, secretsService, "a{ss}", 0, searchItemsBody("sérvice", "https://a.example.org#g.1"), []any{map[string]string{"username": "https://a.example.org#g.1", "service": "sérvice"}}},
		{"OpenSession", secretsPath, secretsService, "sv", 0, openSessionBody(), []any{"plain", dbus.MakeVariant("")}},
		{"GetSecrets", secretsPath, secretsService, "aoo", 0, getSecretsBody(items, string(fakeSession)), []any{[]dbus.ObjectPath{dbus.ObjectPath(items[0]), dbus.ObjectPath(items[1])}, fakeSession}},
		{"GetSecrets", secretsPath, secretsService, "aoo", 0, getSecretsBody(nil, string(fakeSession)), []any{[]dbus.ObjectPath{}, fakeSession}},
		{"Close", string(fakeSession), secretsSession, "", 0, nil, nil},
		{"Close", string(fakeSession), secretsSession, "", byte(dbus.FlagNoReplyExpected), nil, nil}, // flags go through
	} {
		b := appendCall([]byte("before"), 9, c.flags, secretsName, c.path, c.iface, c.member, c.sig, c.body)
		if string(b[:6]) != "before" {
			t.Fatalf("%s: appendCall did not append", c.member)
		}
		m, err := dbus.DecodeMessage(bytes.NewReader(b[6:]))
		if err != nil {
			t.Fatalf("%s: godbus: %v", c.member, err)
		}
		if m.Type != dbus.TypeMethodCall || m.Serial() != 9 || byte(m.Flags) != c.flags || member(m) != c.member ||
			m.Headers[dbus.FieldPath].Value() != dbus.ObjectPath(c.path) || m.Headers[dbus.FieldInterface].Value() != c.iface ||
			m.Headers[dbus.FieldDestination].Value() != secretsName {
			t.Errorf("%s: godbus reads %s", c.member, m)
		}
		if len(c.want) == 0 && len(m.Body) != 0 || len(c.want) > 0 && !reflect.DeepEqual(m.Body, c.want) {
			t.Errorf("%s: godbus reads the body %#v, want %#v", c.member, m.Body, c.want)
		}
		own := decodeOK(t, b[6:])
		if own.typ != typeMethodCall || own.serial != 9 || own.signature != c.sig || !bytes.Equal(own.body, c.body) {
			t.Errorf("%s: decodeMessage reads %+v", c.member, own)
		}
	}
}

// pair returns a busConn on one end of a socket pair, with the client's
// time bounds, and the other end.
func pair(t *testing.T) (*busConn, int) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := setTimeouts(fds[0]); err != nil {
		t.Fatal(err)
	}
	c := &busConn{fd: fds[0], deadline: time.Now().Add(totalTimeout)}
	var once sync.Once
	t.Cleanup(func() { c.close(); once.Do(func() { syscall.Close(fds[1]) }) })
	return c, fds[1]
}

// send writes b to fd.
func send(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.SendmsgN(fd, b, nil, nil, syscall.MSG_NOSIGNAL)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// TestRepliesBounded: a bus that sends half a message and hangs up, one
// that claims a message past the size bound, one that sends garbage, one
// that claims a large message and sends little of it, and one that sends
// a byte at a time, are each an error, promptly, and the client does not
// allocate what a message claims before it comes.
func TestRepliesBounded(t *testing.T) {
	shortTimeouts(t, 200*time.Millisecond, 600*time.Millisecond)
	reply := godbusReply(t, binary.LittleEndian, ":1.1")
	huge := slices.Clone(reply[:16])
	binary.LittleEndian.PutUint32(huge[4:], maxMessage)
	large := slices.Clone(reply)
	binary.LittleEndian.PutUint32(large[4:], 60<<20)
	for _, c := range []struct {
		name   string
		b      []byte
		hangUp bool
		want   error
	}{
		{"half a message", reply[:len(reply)/2], true, errClosed},
		{"the header only", reply[:10], true, errClosed},
		{"past the bound", huge, false, ErrUnusual},
		{"garbage", []byte("HTTP/1.1 400 Bad Request\r\n\r\n"), false, ErrUnusual},
		{"a large claim", large, false, errTimeout},
		{"silence", nil, false, errTimeout},
	} {
		c0, peer := pair(t)
		if err := send(peer, c.b); err != nil {
			t.Fatal(err)
		}
		if c.hangUp {
			syscall.Close(peer)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := c0.replies(map[uint32]*message{3: nil})
		runtime.ReadMemStats(&after)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: took %v", c.name, d)
		}
		if a := after.TotalAlloc - before.TotalAlloc; a > 8<<20 {
			t.Errorf("%s: allocated %d bytes", c.name, a)
		}
	}

	c0, peer := pair(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		end := time.After(5 * time.Second) // a client without the deadline fails, not hangs
		for i := 0; ; i = (i + 1) % len(reply) {
			select {
			case <-stop:
				return
			case <-end:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if send(peer, reply[i:i+1]) != nil {
				return
			}
		}
	}()
	start := time.Now()
	err := c0.replies(map[uint32]*message{999: nil})
	close(stop)
	<-done
	if !errors.Is(err, errTimeout) || time.Since(start) > 2*time.Second {
		t.Errorf("a byte at a time: %v after %v, want errTimeout after about 600ms", err, time.Since(start))
	}
}

// TestGetGarbage: after Hello's reply, a bus that sends what does not
// parse, hangs up, or falls silent is ErrUnusual (a call failed, as with
// godbus), promptly; before it, one that hangs up or falls silent is an
// error of reaching the bus, and what does not parse is ErrUnusual still.
func TestGetGarbage(t *testing.T) {
	shortTimeouts(t, 300*time.Millisecond, 2*time.Second)
	fb := newFakeBusIn(t)
	fb.set(func() { fb.items = []fakeItem{{user: "a", secret: "A"}} })
	good := fb.ret(1, []dbus.ObjectPath{}, []dbus.ObjectPath{})
	huge := slices.Clone(good[:16])
	binary.LittleEndian.PutUint32(huge[4:], 0x7fffffff)
	for _, c := range []struct {
		name string
		out  [][]byte
		// unusualBefore says whether it is ErrUnusual before Hello's
		// reply too: what does not parse is.
		unusualBefore bool
	}{
		{"half a message, then hanging up", [][]byte{good[:len(good)/2], nil}, false},
		{"hanging up", [][]byte{nil}, false},
		{"silence", [][]byte{}, false},
		{"garbage", [][]byte{[]byte("X\x02\x00\x01" + strings.Repeat("\x00", 12))}, true},
		{"version 2", [][]byte{patchAt(good, 3, 2)}, true},
		{"past the size bound", [][]byte{huge}, true},
		{"a reply serial of the wrong type", [][]byte{rawMessage(t, binary.LittleEndian, typeMethodReturn, 1, []rawField{{fieldReplySerial, dbus.MakeVariant("2")}})}, true},
	} {
		for _, before := range []bool{false, true} {
			fb.set(func() {
				fb.answer = func(call *dbus.Message, out [][]byte) [][]byte {
					switch {
					case before && member(call) == "Hello":
						return c.out
					case !before && member(call) == "SearchItems":
						return append(out[:0:0], c.out...)
					}
					return out
				}
			})
			start := time.Now()
			_, err := Get(fakeService, "a")
			if err == nil || errors.Is(err, ErrUnusual) != (!before || c.unusualBefore) || errors.Is(err, ErrNotFound) {
				t.Errorf("%s, before Hello's reply %v: %v", c.name, before, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: took %v", c.name, d)
			}
			fb.wait()
		}
	}
}

// FuzzDecodeMessage: whatever the bus sends, decodeMessage and the
// decoders of the replies return, without a panic; what they accept,
// godbus, where it reads it too, reads the same.
func FuzzDecodeMessage(f *testing.F) {
	for _, b := range fuzzSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(b)
		if err != nil {
			if !errors.Is(err, ErrUnusual) {
				t.Fatalf("decodeMessage: %v, not ErrUnusual", err)
			}
			return
		}
		hello := decodeHello(m)
		unlocked, locked, searchOK := decodeSearchItems(m)
		session, sessionOK := decodeOpenSession(m)
		secrets, secretsOK := decodeGetSecrets(m)
		if !hello && !searchOK && !sessionOK && !secretsOK && len(m.body) > 0 {
			return // godbus may allocate what a length in the body claims
		}
		g, ok := godbusDecode(b)
		if !ok {
			return
		}
		if uint32(g.Type) != uint32(m.typ) || g.Serial() != m.serial {
			t.Fatalf("godbus reads type %d serial %d, the client %d %d", g.Type, g.Serial(), m.typ, m.serial)
		}
		if rs, ok := g.Headers[dbus.FieldReplySerial].Value().(uint32); ok != m.hasReplySerial || rs != m.replySerial {
			t.Fatalf("godbus reads reply serial %d %v, the client %d %v", rs, ok, m.replySerial, m.hasReplySerial)
		}
		if s, _ := g.Headers[dbus.FieldSignature].Value().(dbus.Signature); s.String() != m.signature {
			t.Fatalf("godbus reads signature %q, the client %q", s, m.signature)
		}
		switch {
		case hello:
			if len(g.Body) != 1 {
				t.Fatalf("godbus reads %v, the client a Hello reply", g.Body)
			}
		case searchOK:
			if !samePaths(g.Body[0], unlocked) || !samePaths(g.Body[1], locked) {
				t.Fatalf("godbus reads %v, the client %q %q", g.Body, unlocked, locked)
			}
		case sessionOK:
			if g.Body[1].(dbus.ObjectPath) != dbus.ObjectPath(session) {
				t.Fatalf("godbus reads %v, the client %q", g.Body, session)
			}
		case secretsOK:
			gs, _ := g.Body[0].(map[dbus.ObjectPath][]any)
			if len(gs) != len(secrets) {
				t.Fatalf("godbus reads %v, the client %q", g.Body, secrets)
			}
			for p, s := range gs {
				if v, ok := secrets[string(p)]; !ok || v != string(s[2].([]byte)) {
					t.Fatalf("godbus reads %v, the client %q", g.Body, secrets)
				}
			}
		}
	})
}

// godbusDecode decodes b with godbus, and says whether it did, in
// full, without a panic.
func godbusDecode(b []byte) (m *dbus.Message, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	r := bytes.NewReader(b)
	m, err := dbus.DecodeMessage(r)
	return m, err == nil && r.Len() == 0
}

// samePaths says whether v, godbus's []dbus.ObjectPath, holds paths.
func samePaths(v any, paths []string) bool {
	g, _ := v.([]dbus.ObjectPath)
	if len(g) != len(paths) {
		return false
	}
	for i := range g {
		if string(g[i]) != paths[i] {
			return false
		}
	}
	return true
}

// fuzzSeeds returns messages of every sort the client reads, in both
// byte orders, and some broken ones.
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, order := range orders {
		for _, body := range [][]any{
			{":1.7"},
			{[]dbus.ObjectPath{loginCollection + "1", "/x"}, []dbus.ObjectPath{"/y"}},
			{dbus.MakeVariant(""), fakeSession},
			{dbus.MakeVariant(map[string]dbus.Variant{"a": dbus.MakeVariant(dbus.MakeVariant(uint16(1)))}), fakeSession},
			{map[dbus.ObjectPath]fakeSecret{"/a": {"/s", []byte{1}, []byte("v\x00"), "text/plain"}, "/b": {"/s", nil, nil, ""}}},
		} {
			seeds = append(seeds, godbusReply(tb, order, body...))
		}
		seeds = append(seeds,
			rawMessage(tb, order, typeMethodReturn, 4, []rawField{
				{77, dbus.MakeVariant([]struct {
					A string
					B dbus.Variant
				}{{"x", dbus.MakeVariant(int32(1))}})},
				{fieldSignature, sig("aoao")},
				{fieldReplySerial, dbus.MakeVariant(uint32(2))},
			}, []dbus.ObjectPath{"/a"}, []dbus.ObjectPath{}),
			rawMessage(tb, order, typeError, 4, []rawField{{fieldErrorName, dbus.MakeVariant("a.b")}, {fieldReplySerial, dbus.MakeVariant(uint32(2))}}),
			deepVariant(order, 63),
		)
	}
	seeds = append(seeds, nil, []byte("l\x02\x00\x01"), bytes.Repeat([]byte{0xff}, 32), seeds[1][:len(seeds[1])-3])
	return seeds
}

// FuzzReplies: whatever stream of bytes the bus sends, replies ends,
// with the replies or an error, without a panic.
func FuzzReplies(f *testing.F) {
	seeds := fuzzSeeds(f)
	for _, b := range seeds {
		f.Add(b)
	}
	f.Add(bytes.Join(seeds, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		shortTimeouts(t, 100*time.Millisecond, time.Second)
		c, peer := pair(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			send(peer, b)
			syscall.Shutdown(peer, syscall.SHUT_WR)
		}()
		want := map[uint32]*message{2: nil, 3: nil}
		if err := c.replies(want); err == nil && (want[2] == nil || want[3] == nil) {
			t.Fatal("replies returned without every reply")
		}
		c.close() // the writer may be stuck on what the client did not read
		<-done
	})
}
