package secretservice

// A D-Bus client of its own, just large enough for Get: it finds the
// session bus, connects over a unix socket, authenticates, sends method
// calls and reads their replies. godbus does all of that and more, but
// linking it (its inits and the net package it pulls in) costs every
// start of the small commands about 0.3 ms, measured, whether they read
// the keychain or not; this client links nothing but syscall and a few
// small packages the commands link anyway. It follows godbus wherever
// Get's answer could depend on the difference, so that Get answers as
// it did with godbus: where it cannot follow (a bus reached over
// another transport than a unix socket), its error is ErrUnusual, and
// the caller reads the item with go-keyring, which uses godbus.
//
// The wire format is the D-Bus specification's
// (https://dbus.freedesktop.org/doc/dbus-specification.html). Whatever
// the bus sends is read as coming from a peer that may be hostile or
// broken: every length is checked against what was received, a message
// may be 64 MiB at most, nesting is bounded, and every read and write
// is bounded in time, so that a bad peer gets an error, never a panic or
// a process that hangs.

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
)

// The bus's own names, for Hello.
const (
	busName      = "org.freedesktop.DBus"
	busPath      = "/org/freedesktop/DBus"
	busInterface = "org.freedesktop.DBus"
)

// Message types of the wire format.
const (
	typeMethodCall   = 1
	typeMethodReturn = 2
	typeError        = 3
)

// Header field codes of the wire format; the others are read past.
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSender      = 7
	fieldSignature   = 8
	fieldUnixFDs     = 9
)

// maxMessage bounds a message the bus sends, header and body: the
// specification allows 128 MiB, but what Get reads is a few kilobytes a
// secret, and a peer that claims more must not make it allocate that.
const maxMessage = 64 << 20

// maxDepth bounds how deeply a value's containers (arrays, structs,
// variants) may nest, as the specification bounds it.
const maxDepth = 64

// ioTimeout bounds each read and write of the socket (SO_RCVTIMEO,
// SO_SNDTIMEO), and totalTimeout a whole Get, so that a bus that is
// silent, or answers a byte at a time, cannot hang a reader: the
// commands bound their wait themselves, but the goroutine they leave
// behind must end too. Tests shorten them.
var (
	ioTimeout    = 5 * time.Second
	totalTimeout = 10 * time.Second
)

// unusualError is ErrUnusual with the reason: the bus is reached, or
// talks, in a way this client does not follow, but godbus (go-keyring's
// read, or oidc-auth-core's) may.
type unusualError string

// Error says what the client did not follow.
func (e unusualError) Error() string { return "secretservice: " + string(e) }

// Is makes the error ErrUnusual for errors.Is.
func (e unusualError) Is(target error) bool { return target == ErrUnusual }

// errMalformed is the answer to a message that does not parse.
var errMalformed = unusualError("the session bus sent a malformed message")

// busError is a failure to reach or use the session bus: the operation
// and the system's error.
type busError struct {
	op  string
	err error
}

// Error names the operation and its error.
func (e *busError) Error() string { return "secretservice: " + e.op + ": " + e.err.Error() }

// Unwrap returns the system's error.
func (e *busError) Unwrap() error { return e.err }

// sessionBusAddress returns the address of the session bus the way
// godbus's SessionBus finds it, short of its last resort, dbus-launch,
// which starts a bus: env ($DBUS_SESSION_BUS_ADDRESS) unless it is empty
// or "autolaunch:"; else the socket runtimeDir/bus (runtimeDir is
// /run/user/<uid>), if anything is there; else the address the file
// runtimeDir/dbus-session records on its DBUS_SESSION_BUS_ADDRESS= line;
// else "". (godbus also sets $DBUS_SESSION_BUS_ADDRESS to what it found;
// Get leaves the environment alone.)
func sessionBusAddress(env, runtimeDir string) string {
	if env != "" && env != "autolaunch:" {
		return env
	}
	if bus := runtimeDir + "/bus"; exists(bus) {
		return "unix:path=" + escapeAddressValue(bus)
	}
	if file := runtimeDir + "/dbus-session"; exists(file) {
		if b, err := readFile(file); err == nil {
			if addr, ok := strings.CutPrefix(string(b), "DBUS_SESSION_BUS_ADDRESS="); ok {
				return strings.TrimRight(addr, "\n\r")
			}
		}
	}
	return ""
}

// exists says whether name may be there, as godbus's fileExists says it:
// anything but "does not exist" counts.
func exists(name string) bool {
	var st syscall.Stat_t
	return syscall.Stat(name, &st) != syscall.ENOENT
}

// readFile reads the small file at name, as os.ReadFile would (the
// package reads with syscall alone, for internal/lean).
func readFile(name string) ([]byte, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Size > 1<<20 {
		return nil, syscall.EFBIG
	}
	b, ok := tokenfile.ReadAll(fd, int(st.Size))
	if !ok {
		return nil, syscall.EIO
	}
	return b, nil
}

// parseAddress returns the sockets a D-Bus address names, in its order,
// as names for syscall.SockaddrUnix (an abstract one starting with '@'):
// those of its unix: entries with a path= or an abstract= key (not
// both, and not empty), whose values are unescaped. The others are
// skipped, as godbus skips them: an entry with no transport, a unix: one
// with neither key (dir=, tmpdir= and runtime= are for servers) or with
// both, or with a value that does not unescape. other reports an entry
// of another transport (tcp:, nonce-tcp:, ...), which godbus may reach
// and this client does not.
func parseAddress(addr string) (sockets []string, other bool) {
	for _, entry := range strings.Split(addr, ";") {
		transport, keys, ok := strings.Cut(entry, ":")
		switch {
		case !ok:
		case transport != "unix":
			other = true
		default:
			path, abstract := addressKey(keys, "path"), addressKey(keys, "abstract")
			switch {
			case path != "" && abstract == "":
				sockets = append(sockets, path)
			case abstract != "" && path == "":
				sockets = append(sockets, "@"+abstract)
			}
		}
	}
	return sockets, other
}

// addressKey returns the unescaped value of the first key= among the
// comma-separated keys of an address entry, or "" when there is none or
// it does not unescape (godbus's getKey).
func addressKey(keys, key string) string {
	for _, kv := range strings.Split(keys, ",") {
		if v, ok := strings.CutPrefix(kv, key+"="); ok {
			v, ok = unescapeAddressValue(v)
			if !ok {
				return ""
			}
			return v
		}
	}
	return ""
}

// unescapeAddressValue undoes the %-escaping of a value in a D-Bus
// address: "%" and two hex digits stand for that byte. A "%" without two
// hex digits after it is malformed (false), as url.PathUnescape, which
// godbus uses, has it.
func unescapeAddressValue(v string) (string, bool) {
	if !strings.Contains(v, "%") {
		return v, true
	}
	b := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		if v[i] != '%' {
			b = append(b, v[i])
			continue
		}
		if i+2 >= len(v) {
			return "", false
		}
		hi, ok1 := unhex(v[i+1])
		lo, ok2 := unhex(v[i+2])
		if !ok1 || !ok2 {
			return "", false
		}
		b = append(b, hi<<4|lo)
		i += 2
	}
	return string(b), true
}

// unhex returns the value of the hex digit c.
func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// escapeAddressValue %-escapes v for a D-Bus address, every byte but
// the ones the specification lets go unescaped, as godbus's
// EscapeBusAddressValue does.
func escapeAddressValue(v string) string {
	const hex = "0123456789abcdef"
	var b []byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_/\\.*", c) >= 0 {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// busConn is a connection to the session bus: its socket, the bytes
// read from it and not yet used, the bytes to write next, the serial of
// the last message, and the time by which the whole exchange must end.
type busConn struct {
	fd       int
	in       []byte
	out      []byte
	serial   uint32
	deadline time.Time
}

// dialSessionBus connects to the session bus (see sessionBusAddress) and
// authenticates. It tries the sockets of the address in order and uses
// the first that accepts the connection, as godbus does, with no second
// try when the authentication then fails. When none accepts, the error
// is ErrUnusual if the address also names one of another transport, or
// names no socket at all (godbus may do better), else the last
// socket's failure to connect.
func dialSessionBus() (*busConn, error) {
	addr := sessionBusAddress(getenv("DBUS_SESSION_BUS_ADDRESS"), "/run/user/"+strconv.Itoa(syscall.Getuid()))
	if addr == "" {
		return nil, errors.New("secretservice: no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and /run/user/<uid> has none")
	}
	sockets, other := parseAddress(addr)
	var err error
	for _, name := range sockets {
		var fd int
		if fd, err = dialUnix(name); err != nil {
			continue
		}
		c := &busConn{fd: fd, deadline: time.Now().Add(totalTimeout)}
		if err := c.auth(); err != nil {
			c.close()
			return nil, err
		}
		return c, nil
	}
	if other || err == nil {
		return nil, unusualError("the session bus address " + strconv.Quote(addr) + " names no unix socket to try")
	}
	return nil, err
}

// dialUnix connects a new socket to the unix socket name, its reads and
// writes bounded by ioTimeout (the write bound bounds the connect too:
// a bus whose backlog is full makes it wait).
func dialUnix(name string) (int, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, &busError{"socket", err}
	}
	if err := setTimeouts(fd); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	sa := &syscall.SockaddrUnix{Name: name}
	err = syscall.Connect(fd, sa)
	for retried := 0; err == syscall.EINTR && retried < 100; retried++ {
		// A connect a signal interrupts is tried again; if the
		// first went through after all, the second says so.
		if err = syscall.Connect(fd, sa); err == syscall.EISCONN {
			err = nil
		}
	}
	if err != nil {
		syscall.Close(fd)
		return -1, &busError{"connecting to the session bus at " + strconv.Quote(name), err}
	}
	return fd, nil
}

// setTimeouts bounds each read and write of the socket fd by ioTimeout.
func setTimeouts(fd int) error {
	tv := syscall.NsecToTimeval(ioTimeout.Nanoseconds())
	for _, opt := range []int{syscall.SO_RCVTIMEO, syscall.SO_SNDTIMEO} {
		if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, opt, &tv); err != nil {
			return &busError{"setsockopt", err}
		}
	}
	return nil
}

// close closes the socket.
func (c *busConn) close() {
	if c.fd >= 0 {
		syscall.Close(c.fd)
		c.fd = -1
	}
}

// auth authenticates with the EXTERNAL mechanism, as godbus does on
// Linux: the NUL byte every client sends first, with the process's
// credentials attached (SCM_CREDENTIALS, as godbus attaches them), then
// the effective uid, in decimal, hex-encoded, which the bus checks
// against the socket's peer credentials. It asks for the mechanism at
// once, where godbus first asks which ones the bus offers: a bus that
// does not offer it refuses it. "BEGIN" is queued, to go out with the
// first messages. A bus that refuses the uid is an error, as it is with
// godbus; one that answers anything else but "OK <guid>" is ErrUnusual.
func (c *busConn) auth() error {
	cred := syscall.UnixCredentials(&syscall.Ucred{Pid: int32(syscall.Getpid()), Uid: uint32(syscall.Getuid()), Gid: uint32(syscall.Getgid())})
	uid := strconv.Itoa(syscall.Geteuid())
	c.out = append(c.out, "\x00AUTH EXTERNAL "...)
	for i := 0; i < len(uid); i++ {
		c.out = append(c.out, "0123456789abcdef"[uid[i]>>4], "0123456789abcdef"[uid[i]&15])
	}
	c.out = append(c.out, "\r\n"...)
	if err := c.flushWith(cred); err != nil {
		return err
	}
	line, err := c.readLine()
	if err != nil {
		return err
	}
	switch f := strings.Split(line, " "); {
	case len(f) == 2 && f[0] == "OK":
	case f[0] == "REJECTED":
		return errors.New("secretservice: the session bus refused the EXTERNAL authentication")
	default:
		return unusualError("the session bus answered the EXTERNAL authentication with " + strconv.Quote(line))
	}
	c.out = append(c.out, "BEGIN\r\n"...)
	return nil
}

// readLine reads a line of the authentication protocol, less its
// "\r\n" (godbus's authReadLine). A line longer than 16 KiB is none the
// bus would send.
func (c *busConn) readLine() (string, error) {
	for {
		if i := slices.Index(c.in, '\n'); i >= 0 {
			line := string(c.in[:i+1])
			c.in = c.in[:copy(c.in, c.in[i+1:])]
			return strings.TrimSuffix(line, "\r\n"), nil
		}
		if len(c.in) > 16<<10 {
			return "", unusualError("the session bus sent an authentication line longer than 16 KiB")
		}
		if err := c.fill(); err != nil {
			return "", err
		}
	}
}

// fill reads what the socket has into c.in, at least a byte.
func (c *busConn) fill() error {
	if len(c.in) == cap(c.in) {
		c.in = slices.Grow(c.in, 4096)
	}
	n, err := c.read(c.in[len(c.in):cap(c.in)])
	c.in = c.in[:len(c.in)+n]
	return err
}

// read reads at least a byte into p: it retries a read a signal
// interrupts, and fails when the bus is silent for ioTimeout, the
// exchange is past its deadline, or the bus has closed the connection.
func (c *busConn) read(p []byte) (int, error) {
	for {
		if time.Now().After(c.deadline) {
			return 0, errTimeout
		}
		n, err := syscall.Read(c.fd, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errTimeout
		case err != nil:
			return 0, &busError{"reading from the session bus", err}
		case n <= 0:
			return 0, errClosed
		}
		return n, nil
	}
}

// errTimeout and errClosed are the failures of a read: the bus did not
// answer in time, or hung up.
var (
	errTimeout = errors.New("secretservice: the session bus did not answer in time")
	errClosed  = errors.New("secretservice: the session bus closed the connection")
)

// flush writes c.out, in as many writes as the socket takes it in, and
// empties it. The bus is written with MSG_NOSIGNAL: one that has hung up
// is an error, not a SIGPIPE.
func (c *busConn) flush() error { return c.flushWith(nil) }

// flushWith is flush, the ancillary data oob going with the first byte.
func (c *busConn) flushWith(oob []byte) error {
	p := c.out
	for len(p) > 0 {
		if time.Now().After(c.deadline) {
			return errTimeout
		}
		n, err := syscall.SendmsgN(c.fd, p, oob, nil, syscall.MSG_NOSIGNAL)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return errTimeout
		case err != nil:
			return &busError{"writing to the session bus", err}
		case n <= 0:
			return &busError{"writing to the session bus", syscall.EIO}
		}
		p, oob = p[n:], nil
	}
	c.out = c.out[:0]
	return nil
}

// call queues a method call (flags 0 or flagNoReply) with the body
// already encoded for the signature sig, and returns its serial.
func (c *busConn) call(dest, path, iface, member string, flags byte, sig string, body []byte) uint32 {
	c.serial++
	c.out = appendCall(c.out, c.serial, flags, dest, path, iface, member, sig, body)
	return c.serial
}

// readMessage reads the next message whole. Its bytes are its own: a
// message that is not all there yet grows as its bytes arrive, up to
// the size its header claims, not to that size at once.
func (c *busConn) readMessage() ([]byte, error) {
	for len(c.in) < 16 {
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
	size, err := messageSize(c.in[:16])
	if err != nil {
		return nil, err
	}
	if len(c.in) >= size {
		m := append([]byte(nil), c.in[:size]...)
		c.in = c.in[:copy(c.in, c.in[size:])]
		return m, nil
	}
	m := make([]byte, len(c.in), min(size, max(2*len(c.in), 64<<10)))
	copy(m, c.in)
	c.in = c.in[:0]
	for len(m) < size {
		if len(m) == cap(m) {
			m = slices.Grow(m, min(size, 2*cap(m))-len(m))
		}
		n, err := c.read(m[len(m):cap(m)])
		if err != nil {
			return nil, err
		}
		m = m[:len(m)+n]
	}
	return m, nil
}

// replies reads messages until each serial of want has its reply (a
// method return or an error), and keeps those in want; it reads past
// everything else: the bus's signals (NameAcquired), calls to the
// connection, replies to no call of Get's. A message that does not
// parse is errMalformed.
func (c *busConn) replies(want map[uint32]*message) error {
	left := len(want)
	for left > 0 {
		b, err := c.readMessage()
		if err != nil {
			return err
		}
		m, err := decodeMessage(b)
		if err != nil {
			return err
		}
		if m.typ != typeMethodReturn && m.typ != typeError || !m.hasReplySerial {
			continue
		}
		if got, ok := want[m.replySerial]; ok && got == nil {
			want[m.replySerial] = m
			left--
		}
	}
	return nil
}

// message is a message the bus sent, as far as Get reads it: its type,
// the header fields a reply has, and its body, with the body's byte
// order.
type message struct {
	big            bool // the byte order is big-endian ('B')
	typ            byte
	flags          byte
	serial         uint32
	replySerial    uint32
	hasReplySerial bool
	errorName      string
	signature      string
	body           []byte
}

// messageSize returns the size of the message whose first 16 bytes (its
// fixed header and the length of its header fields) are h, or
// errMalformed for an unknown byte order or protocol version, or a size
// past maxMessage.
func messageSize(h []byte) (int, error) {
	if len(h) < 16 || h[0] != 'l' && h[0] != 'B' || h[3] != 1 {
		return 0, errMalformed
	}
	d := decoder{b: h, big: h[0] == 'B'}
	bodyLen, fieldsLen := d.uint32At(4), d.uint32At(12)
	size := 16 + (uint64(fieldsLen)+7)&^7 + uint64(bodyLen)
	if size > maxMessage {
		return 0, unusualError("the session bus sent a message of more than 64 MiB")
	}
	return int(size), nil
}

// decodeMessage parses the message b, which must be whole: its fixed
// header, its header fields (the known ones must have their types;
// unknown ones are read past, as the specification wants; they may come
// in any order), and where its body starts. The body itself is parsed
// by whoever knows what it should hold (decodeSearchItems and the like).
// Anything that does not parse is errMalformed.
func decodeMessage(b []byte) (*message, error) {
	if len(b) < 16 {
		return nil, errMalformed
	}
	size, err := messageSize(b[:16])
	if err != nil {
		return nil, err
	}
	if size != len(b) || b[1] == 0 {
		return nil, errMalformed
	}
	m := &message{big: b[0] == 'B', typ: b[1], flags: b[2]}
	h := decoder{b: b, big: m.big}
	m.serial = h.uint32At(8)
	fieldsEnd := 16 + int(h.uint32At(12))
	h.b, h.pos = b[:fieldsEnd], 16
	for h.pos < fieldsEnd {
		code, ok := h.byte()
		if !ok || code == 0 {
			return nil, errMalformed
		}
		sig, ok := h.signature()
		if !ok || len(sig) == 0 || typeLen(sig, 0, 0) != len(sig) {
			return nil, errMalformed
		}
		want := ""
		switch code {
		case fieldPath:
			want = "o"
		case fieldInterface, fieldMember, fieldErrorName, fieldDestination, fieldSender:
			want = "s"
		case fieldReplySerial, fieldUnixFDs:
			want = "u"
		case fieldSignature:
			want = "g"
		}
		switch {
		case want == "":
			ok = h.skip(sig, 1)
		case sig != want:
			ok = false
		case code == fieldPath:
			_, ok = h.objectPath()
		case code == fieldErrorName:
			m.errorName, ok = h.string()
		case want == "s":
			_, ok = h.string()
		case code == fieldReplySerial:
			m.replySerial, ok = h.uint32()
			m.hasReplySerial = true
		case code == fieldUnixFDs:
			_, ok = h.uint32()
		case code == fieldSignature:
			m.signature, ok = h.signature()
			ok = ok && validSignature(m.signature)
		}
		if !ok {
			return nil, errMalformed
		}
		if h.pos < fieldsEnd && !h.align(8) {
			return nil, errMalformed
		}
	}
	if h.pos != fieldsEnd {
		return nil, errMalformed
	}
	m.body = b[(fieldsEnd+7)&^7:]
	if m.signature == "" && len(m.body) != 0 {
		return nil, errMalformed
	}
	return m, nil
}

// decoder reads values of the wire format from b, from pos on, in the
// byte order big says. Alignment is counted from the start of b, which
// is the start of the message or of its body (itself 8-aligned). Every
// read checks that b holds what it reads, and says whether it did.
type decoder struct {
	b   []byte
	pos int
	big bool
}

// bodyDecoder returns a decoder of m's body.
func (m *message) bodyDecoder() *decoder { return &decoder{b: m.body, big: m.big} }

// uint32At returns the uint32 at off, which the caller has checked b
// holds.
func (d *decoder) uint32At(off int) uint32 {
	b := d.b[off : off+4]
	if d.big {
		return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	}
	return uint32(b[3])<<24 | uint32(b[2])<<16 | uint32(b[1])<<8 | uint32(b[0])
}

// align moves to the next multiple of n (1, 2, 4 or 8), if b reaches it.
func (d *decoder) align(n int) bool {
	p := (d.pos + n - 1) &^ (n - 1)
	if p > len(d.b) {
		return false
	}
	d.pos = p
	return true
}

// advance moves past a value of n bytes aligned to n.
func (d *decoder) advance(n int) bool {
	if !d.align(n) || len(d.b)-d.pos < n {
		return false
	}
	d.pos += n
	return true
}

// byte reads a BYTE.
func (d *decoder) byte() (byte, bool) {
	if d.pos >= len(d.b) {
		return 0, false
	}
	d.pos++
	return d.b[d.pos-1], true
}

// uint32 reads a UINT32.
func (d *decoder) uint32() (uint32, bool) {
	if !d.advance(4) {
		return 0, false
	}
	return d.uint32At(d.pos - 4), true
}

// bytes reads n bytes, then a NUL when nul is set.
func (d *decoder) bytes(n uint32, nul bool) ([]byte, bool) {
	need := uint64(n)
	if nul {
		need++
	}
	if need > uint64(len(d.b)-d.pos) {
		return nil, false
	}
	b := d.b[d.pos : d.pos+int(n)]
	d.pos += int(need)
	if nul && d.b[d.pos-1] != 0 {
		return nil, false
	}
	return b, true
}

// string reads a STRING: its length, its bytes, a NUL.
func (d *decoder) string() (string, bool) {
	n, ok := d.uint32()
	if !ok {
		return "", false
	}
	b, ok := d.bytes(n, true)
	return string(b), ok
}

// objectPath reads an OBJECT_PATH and checks its syntax.
func (d *decoder) objectPath() (string, bool) {
	s, ok := d.string()
	return s, ok && validObjectPath(s)
}

// signature reads a SIGNATURE: its length in a byte, its bytes, a NUL.
// The caller checks its syntax.
func (d *decoder) signature() (string, bool) {
	n, ok := d.byte()
	if !ok {
		return "", false
	}
	b, ok := d.bytes(uint32(n), true)
	return string(b), ok
}

// array reads the length of an ARRAY whose elements align to elemAlign
// and the padding before its first element, and returns where the
// elements end.
func (d *decoder) array(elemAlign int) (end int, ok bool) {
	n, ok := d.uint32()
	if !ok || !d.align(elemAlign) || uint64(n) > uint64(len(d.b)-d.pos) {
		return 0, false
	}
	return d.pos + int(n), true
}

// byteArray reads an ARRAY of BYTE (ay).
func (d *decoder) byteArray() ([]byte, bool) {
	end, ok := d.array(1)
	if !ok {
		return nil, false
	}
	b := d.b[d.pos:end]
	d.pos = end
	return b, true
}

// objectPaths reads an ARRAY of OBJECT_PATH (ao).
func (d *decoder) objectPaths() ([]string, bool) {
	end, ok := d.array(4)
	if !ok {
		return nil, false
	}
	var paths []string
	for d.pos < end {
		p, ok := d.objectPath()
		if !ok {
			return nil, false
		}
		paths = append(paths, p)
	}
	return paths, d.pos == end
}

// skip reads past one value of the single complete type t, which the
// caller has checked (typeLen), or of a dict entry's, nested depth
// containers deep. It reads every element of an array, so that a value
// it passes is one godbus would read too: the lengths inside it are
// checked (godbus would believe one and allocate what it claims).
func (d *decoder) skip(t string, depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch t[0] {
	case 'y':
		return d.advance(1)
	case 'n', 'q':
		return d.advance(2)
	case 'b', 'i', 'u', 'h':
		return d.advance(4)
	case 'x', 't', 'd':
		return d.advance(8)
	case 's', 'o':
		_, ok := d.string()
		return ok
	case 'g':
		_, ok := d.signature()
		return ok
	case 'v':
		s, ok := d.signature()
		return ok && len(s) > 0 && typeLen(s, 0, 0) == len(s) && d.skip(s, depth+1)
	case 'a':
		end, ok := d.array(alignOf(t[1]))
		if !ok {
			return false
		}
		if t[1] == 'y' {
			d.pos = end // any bytes are bytes
			return true
		}
		for d.pos < end {
			if !d.skip(t[1:], depth+1) {
				return false
			}
		}
		return d.pos == end
	case '(', '{':
		if !d.align(8) {
			return false
		}
		for fields := t[1 : len(t)-1]; fields != ""; {
			n := typeLen(fields, 0, 0)
			if n == 0 || !d.skip(fields[:n], depth+1) {
				return false
			}
			fields = fields[n:]
		}
		return true
	}
	return false
}

// alignOf returns the alignment of the type whose code is c.
func alignOf(c byte) int {
	switch c {
	case 'n', 'q':
		return 2
	case 'b', 'i', 'u', 'h', 's', 'o', 'a':
		return 4
	case 'x', 't', 'd', '(', '{':
		return 8
	}
	return 1 // y, g, v
}

// typeLen returns the length of the single complete type sig starts
// with, or 0 when it starts with none: arrays nest 32 deep at most, and
// structs (dict entries counting) 32 deep, as the specification has it.
func typeLen(sig string, arrays, structs int) int {
	if sig == "" {
		return 0
	}
	switch c := sig[0]; {
	case isBasic(c) || c == 'v':
		return 1
	case c == 'a':
		if arrays >= 32 {
			return 0
		}
		if len(sig) > 1 && sig[1] == '{' {
			if structs >= 32 || len(sig) < 3 || !isBasic(sig[2]) {
				return 0
			}
			n := typeLen(sig[3:], arrays+1, structs+1)
			if n == 0 || 3+n >= len(sig) || sig[3+n] != '}' {
				return 0
			}
			return 3 + n + 1
		}
		n := typeLen(sig[1:], arrays+1, structs)
		if n == 0 {
			return 0
		}
		return 1 + n
	case c == '(':
		if structs >= 32 {
			return 0
		}
		i := 1
		for i < len(sig) && sig[i] != ')' {
			n := typeLen(sig[i:], arrays, structs+1)
			if n == 0 {
				return 0
			}
			i += n
		}
		if i == 1 || i >= len(sig) {
			return 0
		}
		return i + 1
	}
	return 0
}

// isBasic says whether c is the code of a basic type, one a dict entry's
// key may have.
func isBasic(c byte) bool { return strings.IndexByte("ybnqiuxtdsogh", c) >= 0 }

// validSignature says whether sig is a sequence of complete types.
func validSignature(sig string) bool {
	for sig != "" {
		n := typeLen(sig, 0, 0)
		if n == 0 {
			return false
		}
		sig = sig[n:]
	}
	return true
}

// validObjectPath says whether p is an object path: "/", or elements of
// [A-Za-z0-9_] each after a "/".
func validObjectPath(p string) bool {
	if p == "/" {
		return true
	}
	if p == "" || p[0] != '/' || p[len(p)-1] == '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/':
			if p[i-1] == '/' {
				return false
			}
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_':
		default:
			return false
		}
	}
	return true
}

// validString says whether s may go in a STRING: UTF-8 with no NUL, as
// godbus checks before it sends one.
func validString(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// encoder appends values of the wire format to b, little-endian (which
// the specification lets a sender choose), aligned as from the start of
// b.
type encoder struct{ b []byte }

// align pads to the next multiple of n.
func (e *encoder) align(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

// uint32 appends a UINT32.
func (e *encoder) uint32(v uint32) {
	e.align(4)
	e.b = append(e.b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}

// putUint32 writes v over the UINT32 at off.
func (e *encoder) putUint32(off int, v uint32) {
	e.b[off], e.b[off+1], e.b[off+2], e.b[off+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
}

// string appends a STRING or an OBJECT_PATH.
func (e *encoder) string(s string) {
	e.uint32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// signature appends a SIGNATURE.
func (e *encoder) signature(s string) {
	e.b = append(e.b, byte(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// array appends an ARRAY whose elements align to elemAlign and which
// elems appends.
func (e *encoder) array(elemAlign int, elems func()) {
	e.uint32(0)
	at := len(e.b) - 4
	e.align(elemAlign)
	start := len(e.b)
	elems()
	e.putUint32(at, uint32(len(e.b)-start))
}

// field appends a header field whose value is the string v of the type
// sig ("s", "o" or "g").
func (e *encoder) field(code byte, sig, v string) {
	e.align(8)
	e.b = append(e.b, code)
	e.signature(sig)
	if sig == "g" {
		e.signature(v)
	} else {
		e.string(v)
	}
}

// appendCall appends to out the method call of the given serial and
// flags, to member of iface at path of dest, whose body, of the
// signature sig, is already encoded.
func appendCall(out []byte, serial uint32, flags byte, dest, path, iface, member, sig string, body []byte) []byte {
	e := encoder{b: []byte{'l', typeMethodCall, flags, 1, 0, 0, 0, 0, 0, 0, 0, 0}}
	e.putUint32(4, uint32(len(body)))
	e.putUint32(8, serial)
	e.array(8, func() {
		e.field(fieldPath, "o", path)
		e.field(fieldInterface, "s", iface)
		e.field(fieldMember, "s", member)
		e.field(fieldDestination, "s", dest)
		if sig != "" {
			e.field(fieldSignature, "g", sig)
		}
	})
	e.align(8)
	return append(append(out, e.b...), body...)
}
