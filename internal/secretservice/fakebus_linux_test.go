// Unix only: the client these tests check is the Linux one (dbus_linux.go); the BSDs read the bus with godbus.

package secretservice

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// The fake bus of these tests is a bus and a Secret Service in one, on
// a unix socket of the test's own: it speaks the authentication, reads
// the client's messages with godbus (so what the client sends is checked
// by another implementation of the wire format) and answers with
// messages godbus encodes, in either byte order. Hooks let a test change
// its answers, hold them back, or send bytes of its own.

// fakeItem is an item of the fake Secret Service, of the service
// fakeService: the user it is for, its secret, its path (by default one
// in the login collection), and whether it is locked.
type fakeItem struct {
	user, secret string
	path         string
	locked       bool
}

// fakeService is the service the fake's items are for.
const fakeService = "oidc-auth-test"

// fakeSession is the session the fake's OpenSession opens.
const fakeSession = dbus.ObjectPath("/org/freedesktop/secrets/session/s7")

// fakeSecret is the Secret Service's Secret struct as godbus encodes it
// for the fake, (oayays).
type fakeSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// fakeBus is the fake bus. The fields before mu are its settings, which
// a test sets with set before it calls Get; the ones after are what it
// saw.
type fakeBus struct {
	t     *testing.T
	addr  string    // the bus's address, in DBUS_SESSION_BUS_ADDRESS
	order byteOrder // the byte order of its messages
	items []fakeItem
	// authReply is the line the bus answers AUTH with; "" is "OK <guid>".
	authReply string
	// answer, when set, turns the messages the bus would send in answer
	// to call into the ones it sends; a nil one hangs up.
	answer func(call *dbus.Message, out [][]byte) [][]byte
	// hold holds back every message of a connection until OpenSession
	// comes, then sends them last first, with a signal, replies to calls never made, a call
	// and a message of an unknown type between each two.
	hold bool

	mu       sync.Mutex
	calls    []*dbus.Message
	authLine string
	problems []string
	serial   uint32
	ended    chan struct{} // gets a value when a connection ends
}

// newFakeBus starts a fake bus listening on the unix socket path (an
// abstract one if it starts with '@') and points the session bus
// address at it.
func newFakeBus(t *testing.T, path string) *fakeBus {
	t.Helper()
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	fb := &fakeBus{t: t, order: binary.LittleEndian, ended: make(chan struct{}, 16)}
	if abstract, ok := strings.CutPrefix(path, "@"); ok {
		fb.addr = "unix:abstract=" + dbus.EscapeBusAddressValue(abstract)
	} else {
		fb.addr = "unix:path=" + dbus.EscapeBusAddressValue(path)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", fb.addr)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go fb.serve(conn)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return fb
}

// newFakeBusIn starts a fake bus on a socket in a new temporary
// directory.
func newFakeBusIn(t *testing.T) *fakeBus {
	return newFakeBus(t, filepath.Join(t.TempDir(), "bus"))
}

// set runs f, which changes the bus's settings, under the bus's lock,
// which each connection takes first: the race detector does not see
// that the client's connect, which follows, orders the two.
func (fb *fakeBus) set(f func()) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	f()
}

// problem records what the client did wrong, for wait to report.
func (fb *fakeBus) problem(s string) {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.problems = append(fb.problems, s)
}

// wait waits for the connection of the last Get to end, reports what the
// client did wrong, and returns the calls the bus got, Hello first.
func (fb *fakeBus) wait() []*dbus.Message {
	fb.t.Helper()
	select {
	case <-fb.ended:
	case <-time.After(10 * time.Second):
		fb.t.Fatal("the client did not close its connection")
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	for _, p := range fb.problems {
		fb.t.Error(p)
	}
	calls := fb.calls
	fb.calls, fb.problems = nil, nil
	return calls
}

// serve speaks to one client.
func (fb *fakeBus) serve(conn net.Conn) {
	defer func() { fb.ended <- struct{}{} }()
	defer conn.Close()
	fb.set(func() {}) // see set
	r := bufio.NewReader(conn)
	if b, err := r.ReadByte(); err != nil || b != 0 {
		fb.problem("the client did not start with a NUL byte")
		return
	}
	line, err := r.ReadString('\n')
	if err != nil {
		fb.problem("no AUTH line: " + err.Error())
		return
	}
	fb.mu.Lock()
	fb.authLine = line
	fb.mu.Unlock()
	reply := fb.authReply
	if reply == "" {
		reply = "OK 0123456789abcdef0123456789abcdef"
	}
	if _, err := io.WriteString(conn, reply+"\r\n"); err != nil {
		return
	}
	if !strings.HasPrefix(reply, "OK ") {
		io.Copy(io.Discard, r)
		return
	}
	if line, err := r.ReadString('\n'); err != nil {
		return // a client that gave up on the OK
	} else if line != "BEGIN\r\n" {
		fb.problem("after OK the client sent " + strconv.Quote(line) + ", not BEGIN")
		return
	}
	var held [][]byte
	holding := fb.hold
	for {
		call, err := dbus.DecodeMessage(r)
		if err != nil {
			// A client that hangs up with messages of the bus
			// unread resets the connection, after what it sent.
			if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
				fb.problem("the client sent a message godbus does not read: " + err.Error())
			}
			return
		}
		fb.mu.Lock()
		fb.calls = append(fb.calls, call)
		fb.mu.Unlock()
		out := fb.reply(call)
		if fb.answer != nil {
			out = fb.answer(call, out)
		}
		if holding {
			held = append(held, out...)
			if member(call) != "OpenSession" {
				continue
			}
			out = nil
			for i := len(held) - 1; i >= 0; i-- {
				out = append(out, held[i], fb.signal("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameOwnerChanged", "x.y", "", ":1.9"),
					fb.ret(4242, "stray"), fb.errorReply(4243, "org.example.Stray"), fb.ping(),
					rawMessage(fb.t, fb.order, 7, fb.next(), []rawField{{fieldReplySerial, dbus.MakeVariant(uint32(1))}}))
			}
			held, holding = nil, false
		}
		for _, b := range out {
			if b == nil {
				return
			}
			if _, err := conn.Write(b); err != nil {
				return
			}
		}
	}
}

// member returns the member a call calls.
func member(call *dbus.Message) string {
	s, _ := call.Headers[dbus.FieldMember].Value().(string)
	return s
}

// reply returns what the fake bus and Secret Service answer to call.
func (fb *fakeBus) reply(call *dbus.Message) [][]byte {
	switch member(call) {
	case "Hello":
		return [][]byte{fb.ret(call.Serial(), ":1.7"), fb.signal("/org/freedesktop/DBus", "org.freedesktop.DBus", "NameAcquired", ":1.7")}
	case "SearchItems":
		attrs, _ := call.Body[0].(map[string]string)
		if len(attrs) != 2 || attrs["service"] == "" {
			fb.problem("SearchItems of " + strconv.Quote(dbus.MakeVariant(attrs).String()))
		}
		unlocked, locked := []dbus.ObjectPath{}, []dbus.ObjectPath{}
		for i, it := range fb.items {
			if it.user != attrs["username"] || attrs["service"] != fakeService {
				continue
			}
			if it.locked {
				locked = append(locked, fb.path(i))
			} else {
				unlocked = append(unlocked, fb.path(i))
			}
		}
		return [][]byte{fb.ret(call.Serial(), unlocked, locked)}
	case "OpenSession":
		if len(call.Body) != 2 || call.Body[0] != "plain" || call.Body[1] != dbus.MakeVariant("") {
			fb.problem("OpenSession of " + dbus.MakeVariant(call.Body).String())
		}
		return [][]byte{fb.ret(call.Serial(), dbus.MakeVariant(""), fakeSession)}
	case "GetSecrets":
		paths, _ := call.Body[0].([]dbus.ObjectPath)
		if session, _ := call.Body[1].(dbus.ObjectPath); session != fakeSession {
			fb.problem("GetSecrets in session " + string(session))
		}
		secrets := map[dbus.ObjectPath]fakeSecret{}
		for _, p := range paths {
			for i, it := range fb.items {
				if fb.path(i) == p && !it.locked {
					secrets[p] = fakeSecret{fakeSession, []byte{}, []byte(it.secret), "text/plain"}
				}
			}
		}
		return [][]byte{fb.ret(call.Serial(), secrets)}
	case "Close":
		return [][]byte{fb.ret(call.Serial())}
	}
	return [][]byte{fb.errorReply(call.Serial(), "org.freedesktop.DBus.Error.UnknownMethod")}
}

// path returns the path of the i'th item.
func (fb *fakeBus) path(i int) dbus.ObjectPath {
	if fb.items[i].path != "" {
		return dbus.ObjectPath(fb.items[i].path)
	}
	return dbus.ObjectPath(loginCollection + "i" + strconv.Itoa(i))
}

// next returns the serial of the bus's next message.
func (fb *fakeBus) next() uint32 {
	fb.mu.Lock()
	defer fb.mu.Unlock()
	fb.serial++
	return fb.serial
}

// encode encodes m with godbus, in the bus's byte order, with the next
// serial (godbus leaves a message it encodes without one).
func (fb *fakeBus) encode(m *dbus.Message) []byte {
	var buf bytes.Buffer
	if err := m.EncodeTo(&buf, fb.order); err != nil {
		panic(err)
	}
	b := buf.Bytes()
	fb.order.PutUint32(b[8:], fb.next())
	return b
}

// busHeaders returns the header fields every message of the bus has.
func busHeaders(body []any) map[dbus.HeaderField]dbus.Variant {
	h := map[dbus.HeaderField]dbus.Variant{
		dbus.FieldSender:      dbus.MakeVariant(":1.1"),
		dbus.FieldDestination: dbus.MakeVariant(":1.7"),
	}
	if len(body) > 0 {
		h[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	return h
}

// ret returns a method return to the call of serial.
func (fb *fakeBus) ret(serial uint32, body ...any) []byte {
	h := busHeaders(body)
	h[dbus.FieldReplySerial] = dbus.MakeVariant(serial)
	return fb.encode(&dbus.Message{Type: dbus.TypeMethodReply, Headers: h, Body: body})
}

// errorReply returns the error name in answer to the call of serial.
func (fb *fakeBus) errorReply(serial uint32, name string) []byte {
	body := []any{"it went wrong"}
	h := busHeaders(body)
	h[dbus.FieldReplySerial] = dbus.MakeVariant(serial)
	h[dbus.FieldErrorName] = dbus.MakeVariant(name)
	return fb.encode(&dbus.Message{Type: dbus.TypeError, Headers: h, Body: body})
}

// signal returns a signal.
func (fb *fakeBus) signal(path, iface, name string, body ...any) []byte {
	h := busHeaders(body)
	h[dbus.FieldPath] = dbus.MakeVariant(dbus.ObjectPath(path))
	h[dbus.FieldInterface] = dbus.MakeVariant(iface)
	h[dbus.FieldMember] = dbus.MakeVariant(name)
	return fb.encode(&dbus.Message{Type: dbus.TypeSignal, Headers: h, Body: body})
}

// ping returns a call to the client.
func (fb *fakeBus) ping() []byte {
	h := busHeaders(nil)
	h[dbus.FieldPath] = dbus.MakeVariant(dbus.ObjectPath("/"))
	h[dbus.FieldInterface] = dbus.MakeVariant("org.freedesktop.DBus.Peer")
	h[dbus.FieldMember] = dbus.MakeVariant("Ping")
	return fb.encode(&dbus.Message{Type: dbus.TypeMethodCall, Headers: h})
}

// rawField is a header field as godbus encodes one, (yv).
type rawField struct {
	Code  byte
	Value dbus.Variant
}

// bodyBytes returns the body godbus encodes for values.
func bodyBytes(t testing.TB, order byteOrder, values ...any) []byte {
	m := &dbus.Message{Type: dbus.TypeSignal, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldPath:      dbus.MakeVariant(dbus.ObjectPath("/a")),
		dbus.FieldInterface: dbus.MakeVariant("a.b"),
		dbus.FieldMember:    dbus.MakeVariant("C"),
	}, Body: values}
	if len(values) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(values...))
	}
	var buf bytes.Buffer
	if err := m.EncodeTo(&buf, order); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	return b[16+(int(order.Uint32(b[12:]))+7)&^7:]
}

// rawMessage returns a message of the type typ, with the given header
// fields in their order (godbus sends its own in its map's order, and
// only the ones it knows) and body, encoded by godbus. The header fields
// of a message and an array of them in a body differ only in the padding
// after the array's length, so the fields are godbus's encoding of an
// array of them less that padding.
func rawMessage(t testing.TB, order byteOrder, typ byte, serial uint32, fields []rawField, body ...any) []byte {
	var f []byte
	if len(fields) > 0 {
		enc := bodyBytes(t, order, fields)
		f = enc[8 : 8+order.Uint32(enc)]
	}
	bb := bodyBytes(t, order, body...)
	b := []byte{'l', typ, 0, 1}
	if order == binary.BigEndian {
		b[0] = 'B'
	}
	b = order.AppendUint32(b, uint32(len(bb)))
	b = order.AppendUint32(b, serial)
	b = order.AppendUint32(b, uint32(len(f)))
	b = append(b, f...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return append(b, bb...)
}

// sig returns the signature s as a header field's value.
func sig(s string) dbus.Variant { return dbus.MakeVariant(dbus.ParseSignatureMust(s)) }

// shortTimeouts shortens the client's time bounds for the test.
func shortTimeouts(t *testing.T, io, total time.Duration) {
	oldIO, oldTotal := ioTimeout, totalTimeout
	ioTimeout, totalTimeout = io, total
	t.Cleanup(func() { ioTimeout, totalTimeout = oldIO, oldTotal })
}

// members returns the members of calls, in order.
func members(calls []*dbus.Message) string {
	var m []string
	for _, c := range calls {
		m = append(m, member(c))
	}
	return strings.Join(m, " ")
}

// TestGetFakeBus reads items from the fake bus: the values in the order
// asked for, empty, binary and large ones too (a reply of several reads),
// in one pipelined round of searches and OpenSession, then GetSecrets of
// the items the searches found, then a Close of the session whose
// answer Get waits for before it hangs up (gnome-keyring-daemon exits
// when a client hangs up just after a Close it does not wait for); the
// authentication claims the effective uid.
func TestGetFakeBus(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	big := strings.Repeat("big secret ", 30000)
	fb.set(func() {
		fb.items = []fakeItem{
			{user: "https://a.example.org", secret: "one"},
			{user: "https://b.example.org#g.2", secret: ""},
			{user: "oidc+https://idp.example.org?", secret: "\x00\xff€\n"},
			{user: "big", secret: big},
		}
	})
	users := []string{"oidc+https://idp.example.org?", "https://a.example.org", "https://b.example.org#g.2", "big", "https://a.example.org"}
	got, err := Get(fakeService, users...)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"\x00\xff€\n", "one", "", big, "one"}
	if len(got) != len(want) {
		t.Fatalf("Get = %d values, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %d bytes, want %d", users[i], len(got[i]), len(want[i]))
		}
	}
	calls := fb.wait()
	if m := members(calls); m != "Hello SearchItems SearchItems SearchItems SearchItems SearchItems OpenSession GetSecrets Close" {
		t.Fatalf("calls: %s", m)
	}
	if fb.authLine != "AUTH EXTERNAL "+hex.EncodeToString([]byte(strconv.Itoa(os.Geteuid())))+"\r\n" {
		t.Errorf("auth line %q", fb.authLine)
	}
	for i, c := range calls {
		if c.Serial() != uint32(i+1) {
			t.Errorf("call %d has serial %d", i, c.Serial())
		}
		dest, path := c.Headers[dbus.FieldDestination].Value(), c.Headers[dbus.FieldPath].Value()
		iface := c.Headers[dbus.FieldInterface].Value()
		switch member(c) {
		case "Hello":
			if dest != "org.freedesktop.DBus" || path != dbus.ObjectPath("/org/freedesktop/DBus") || iface != "org.freedesktop.DBus" {
				t.Errorf("Hello to %v %v %v", dest, path, iface)
			}
		case "Close":
			if dest != secretsName || path != fakeSession || iface != secretsSession || c.Flags != 0 || len(c.Body) != 0 {
				t.Errorf("Close to %v %v %v, flags %v, body %v", dest, path, iface, c.Flags, c.Body)
			}
		default:
			if dest != secretsName || path != dbus.ObjectPath(secretsPath) || iface != secretsService || c.Flags != 0 {
				t.Errorf("%s to %v %v %v, flags %v", member(c), dest, path, iface, c.Flags)
			}
		}
		if member(c) == "SearchItems" {
			if attrs := c.Body[0].(map[string]string); attrs["username"] != users[i-1] || attrs["service"] != fakeService {
				t.Errorf("SearchItems %d of %v", i, attrs)
			}
		}
	}
	items := calls[7].Body[0].([]dbus.ObjectPath)
	if len(items) != 5 || items[0] != fb.path(2) || items[1] != fb.path(0) || items[3] != fb.path(3) || items[4] != fb.path(0) {
		t.Errorf("GetSecrets of %v", items)
	}
}

// TestGetPipelinedOutOfOrder: a bus that answers nothing, Hello
// included, until OpenSession has come (so Get must not wait for Hello
// before it sends the rest), and then answers last call first, with
// signals, calls, replies to other calls and a message of an unknown
// type between: Get matches the replies to its calls by their serials.
func TestGetPipelinedOutOfOrder(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	fb.set(func() {
		fb.hold = true
		fb.items = []fakeItem{{user: "a", secret: "A"}, {user: "b", secret: "B"}, {user: "c", secret: "C"}}
	})
	start := time.Now()
	got, err := Get(fakeService, "c", "a", "b")
	if err != nil || strings.Join(got, ",") != "C,A,B" {
		t.Errorf("Get = %q, %v", got, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Get took %v: it waited for an answer before it sent its calls", d)
	}
	if m := members(fb.wait()); m != "Hello SearchItems SearchItems SearchItems OpenSession GetSecrets Close" {
		t.Errorf("calls: %s", m)
	}
	if _, err := Get(fakeService, "a", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a user with no item: %v, want ErrNotFound", err)
	}
	fb.wait()
}

// TestGetBigEndian: the bus's messages are big-endian.
func TestGetBigEndian(t *testing.T) {
	fb := newFakeBusIn(t)
	fb.set(func() {
		fb.order = binary.BigEndian
		fb.items = []fakeItem{{user: "a", secret: "Ä"}, {user: "b", secret: strings.Repeat("b", 70000)}}
	})
	got, err := Get(fakeService, "a", "b")
	if err != nil || len(got) != 2 || got[0] != "Ä" || got[1] != strings.Repeat("b", 70000) {
		t.Errorf("Get = %d values, %v", len(got), err)
	}
	fb.wait()
}

// TestGetNotFoundAndUnusual: ErrNotFound when a user has no item at all,
// ErrUnusual, which wins over it, when one has only items Get does not
// read (locked, in another collection); the login collection's unlocked
// item is read when there are others too; the session is closed either
// way; no users is no values.
func TestGetNotFoundAndUnusual(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	fb.set(func() {
		fb.items = []fakeItem{
			{user: "a", secret: "A"},
			{user: "locked", secret: "L", locked: true},
			{user: "elsewhere", secret: "E", path: "/org/freedesktop/secrets/collection/other/1"},
			{user: "both", secret: "elsewhere", path: "/org/freedesktop/secrets/collection/other/2"},
			{user: "both", secret: "login", path: loginCollection + "2"},
			{user: "loginx", secret: "X", path: "/org/freedesktop/secrets/collection/loginx/1"},
		}
	})
	for _, c := range []struct {
		users []string
		want  error
	}{
		{[]string{"x"}, ErrNotFound},
		{[]string{"a", "x"}, ErrNotFound},
		{[]string{"locked"}, ErrUnusual},
		{[]string{"elsewhere"}, ErrUnusual},
		{[]string{"loginx"}, ErrUnusual},
		{[]string{"x", "locked"}, ErrUnusual},
		{[]string{"locked", "x"}, ErrUnusual},
		{[]string{"x", "elsewhere", "y"}, ErrUnusual},
	} {
		if _, err := Get(fakeService, c.users...); err != c.want {
			t.Errorf("Get(%q): %v, want %v", c.users, err, c.want)
		}
		if m := members(fb.wait()); !strings.HasSuffix(m, "OpenSession Close") {
			t.Errorf("Get(%q) calls %s", c.users, m)
		}
	}
	if got, err := Get(fakeService, "both", "a"); err != nil || len(got) != 2 || got[0] != "login" || got[1] != "A" {
		t.Errorf("Get of an item in two collections = %q, %v", got, err)
	}
	fb.wait()
	if got, err := Get(fakeService); err != nil || got == nil || len(got) != 0 {
		t.Errorf("Get of no users = %q, %v", got, err)
	}
	if m := members(fb.wait()); m != "Hello OpenSession GetSecrets Close" {
		t.Errorf("Get of no users calls %s", m)
	}
	for _, s := range []string{"bad\xffutf-8", "nul\x00"} {
		for _, args := range [][]string{{fakeService, "a", s}, {s, "a"}} {
			if _, err := Get(args[0], args[1:]...); err != ErrUnusual {
				t.Errorf("Get%q: %v, want ErrUnusual", args, err)
			}
			if calls := fb.wait(); len(calls) != 0 {
				t.Errorf("Get%q calls %s", args, members(calls))
			}
		}
	}
}

// TestGetErrorReplies: a call the Secret Service answers with an error,
// or with a reply of another signature, is ErrUnusual, as godbus's Store
// failing is; a GetSecrets reply that leaves an item out is ErrUnusual;
// the session is closed when it was opened; a Hello the bus refuses is
// an error, but not ErrUnusual (godbus fails to connect); the variant
// OpenSession returns may hold anything.
func TestGetErrorReplies(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	fb.set(func() { fb.items = []fakeItem{{user: "a", secret: "A"}, {user: "b", secret: "B"}} })
	replace := func(name string, with func(call *dbus.Message) []byte) {
		fb.set(func() {
			fb.answer = func(call *dbus.Message, out [][]byte) [][]byte {
				if member(call) == name {
					return [][]byte{with(call)}
				}
				return out
			}
		})
	}
	errorTo := func(call *dbus.Message) []byte {
		return fb.errorReply(call.Serial(), "org.freedesktop.Secret.Error.IsLocked")
	}
	for _, c := range []struct {
		name, member string
		with         func(call *dbus.Message) []byte
		want         error // nil: an error that is not ErrUnusual
		calls        string
	}{
		{"SearchItems error", "SearchItems", errorTo, ErrUnusual, "Hello SearchItems SearchItems OpenSession Close"},
		{"OpenSession error", "OpenSession", errorTo, ErrUnusual, "Hello SearchItems SearchItems OpenSession"},
		{"GetSecrets error", "GetSecrets", errorTo, ErrUnusual, "Hello SearchItems SearchItems OpenSession GetSecrets Close"},
		{"SearchItems of another signature", "SearchItems", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), []dbus.ObjectPath{loginCollection + "i0"})
		}, ErrUnusual, "Hello SearchItems SearchItems OpenSession Close"},
		{"SearchItems with a string, not a path", "SearchItems", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), []string{loginCollection + "i0"}, []string{})
		}, ErrUnusual, "Hello SearchItems SearchItems OpenSession Close"},
		{"OpenSession of another signature", "OpenSession", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), fakeSession)
		}, ErrUnusual, "Hello SearchItems SearchItems OpenSession"},
		{"GetSecrets of another signature", "GetSecrets", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), map[dbus.ObjectPath]string{loginCollection + "i0": "A"})
		}, ErrUnusual, "Hello SearchItems SearchItems OpenSession GetSecrets Close"},
		{"GetSecrets without an item", "GetSecrets", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), map[dbus.ObjectPath]fakeSecret{loginCollection + "i0": {fakeSession, nil, []byte("A"), "text/plain"}})
		}, ErrUnusual, "Hello SearchItems SearchItems OpenSession GetSecrets Close"},
		{"Hello error", "Hello", errorTo, nil, "Hello"},
		{"Hello of another signature", "Hello", func(call *dbus.Message) []byte {
			return fb.ret(call.Serial(), uint32(7))
		}, nil, "Hello"},
	} {
		replace(c.member, c.with)
		_, err := Get(fakeService, "a", "b")
		switch {
		case c.want != nil && err != c.want:
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		case c.want == nil && (err == nil || errors.Is(err, ErrUnusual) || errors.Is(err, ErrNotFound)):
			t.Errorf("%s: %v, want an error of the bus", c.name, err)
		}
		// After a refused Hello, the bus may not read the rest.
		if m := members(fb.wait()); m != c.calls && !(c.want == nil && strings.HasPrefix(m, c.calls)) {
			t.Errorf("%s: calls %s, want %s", c.name, m, c.calls)
		}
	}
	for _, v := range []dbus.Variant{dbus.MakeVariant([]byte{1, 2, 3}), dbus.MakeVariant(dbus.MakeVariant(map[string]dbus.Variant{"k": dbus.MakeVariant(int64(-1))})), dbus.MakeVariant(struct {
		A byte
		B float64
	}{1, 2.5})} {
		replace("OpenSession", func(call *dbus.Message) []byte { return fb.ret(call.Serial(), v, fakeSession) })
		if got, err := Get(fakeService, "b"); err != nil || len(got) != 1 || got[0] != "B" {
			t.Errorf("OpenSession returning %s: Get = %q, %v", v, got, err)
		}
		fb.wait()
	}
}

// TestGetAuth: a bus that rejects the EXTERNAL authentication is an
// error as it is with godbus, one that answers anything else is
// ErrUnusual, one that hangs up is an error; none is ErrNotFound.
func TestGetAuth(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	for reply, unusual := range map[string]bool{
		"REJECTED EXTERNAL DBUS_COOKIE_SHA1": false,
		"REJECTED":                           false,
		"ERROR":                              true,
		"DATA":                               true,
		"OK":                                 true,
		"OK guid extra":                      true,
		"AGREE_UNIX_FD":                      true,
	} {
		fb.set(func() { fb.authReply = reply })
		_, err := Get(fakeService, "a")
		if err == nil || errors.Is(err, ErrUnusual) != unusual || errors.Is(err, ErrNotFound) {
			t.Errorf("auth answered %q: %v, ErrUnusual %v", reply, err, unusual)
		}
		if calls := fb.wait(); len(calls) != 0 {
			t.Errorf("auth answered %q: calls %s", reply, members(calls))
		}
	}
	fb.set(func() { fb.authReply = "" })
	if _, err := Get(fakeService, "a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("auth OK: %v, want ErrNotFound", err)
	}
	fb.wait()
}

// TestGetAddresses: the session bus address may list several addresses;
// Get tries their unix sockets in order, paths and abstract names, their
// values %-escaped, and skips the others; with none it can try, or none
// that connects but one of another transport, the error is ErrUnusual
// (godbus may do better); with only unix sockets that do not connect it
// is an error of the bus.
func TestGetAddresses(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	dir := filepath.Join(t.TempDir(), "a b;c,d=e%f")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	fb := newFakeBus(t, filepath.Join(dir, "bus"))
	fb.set(func() { fb.items = []fakeItem{{user: "a", secret: "A"}} })
	abstract := newFakeBus(t, "@oidc-auth-test-"+strconv.Itoa(os.Getpid())+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	abstract.set(func() { abstract.items = []fakeItem{{user: "a", secret: "abstract"}} })
	missing := "unix:path=" + filepath.Join(t.TempDir(), "none")
	for _, c := range []struct {
		addr, want string
		bus        *fakeBus
	}{
		{fb.addr, "A", fb},
		{abstract.addr, "abstract", abstract},
		{missing + ";" + fb.addr + ";" + abstract.addr, "A", fb},
		{"tcp:host=127.0.0.1,port=1;unix:tmpdir=/tmp;nothing;unix:path=/x,abstract=y;unix:path=%zz;" + abstract.addr, "abstract", abstract},
		{"unix:guid=0123,abstract=" + strings.TrimPrefix(abstract.addr, "unix:abstract="), "abstract", abstract},
	} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", c.addr)
		if got, err := Get(fakeService, "a"); err != nil || len(got) != 1 || got[0] != c.want {
			t.Errorf("%s: Get = %q, %v, want %q", c.addr, got, err, c.want)
		}
		c.bus.wait()
	}
	for addr, unusual := range map[string]bool{
		"tcp:host=127.0.0.1,port=1":           true,
		"unix:tmpdir=/tmp;unix:runtime=yes":   true,
		"nonce-tcp:;" + missing:               true,
		missing:                               false,
		missing + ";unix:dir=/tmp;" + missing: false,
	} {
		t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
		_, err := Get(fakeService, "a")
		if err == nil || errors.Is(err, ErrUnusual) != unusual || errors.Is(err, ErrNotFound) {
			t.Errorf("%s: %v, ErrUnusual %v", addr, err, unusual)
		}
	}
}

// TestGetWaitsForClose: Get hangs up only after the Secret Service has
// answered the Close of its session, as go-keyring does; a client that
// hangs up just after a Close it did not wait for made
// gnome-keyring-daemon exit (see TestGetLeavesTheDaemonRunning).
func TestGetWaitsForClose(t *testing.T) {
	shortTimeouts(t, 2*time.Second, 5*time.Second)
	fb := newFakeBusIn(t)
	fb.set(func() {
		fb.items = []fakeItem{{user: "a", secret: "A"}}
		fb.answer = func(call *dbus.Message, out [][]byte) [][]byte {
			if member(call) == "Close" {
				time.Sleep(300 * time.Millisecond)
			}
			return out
		}
	})
	start := time.Now()
	if got, err := Get(fakeService, "a"); err != nil || len(got) != 1 || got[0] != "A" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("Get returned %v after it began, before the Close was answered (300 ms)", took)
	}
	if m := members(fb.wait()); m != "Hello SearchItems OpenSession GetSecrets Close" {
		t.Errorf("calls: %s", m)
	}
}
