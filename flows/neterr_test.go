package flows

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestNetErrorClasses sorts the errors the system reports for a connection
// the server closed, reset or refused, wrapped the way package net wraps
// them, including the numbers only Windows uses (see
// neterr_windows_test.go).
func TestNetErrorClasses(t *testing.T) {
	t.Parallel()
	wrap := func(op string, err error) error {
		return fmt.Errorf("flows: request failed: %w", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError(op, err)})
	}
	cases := []struct {
		name            string
		err             error
		closed, refused bool
	}{
		{"EOF", fmt.Errorf("x: %w", io.EOF), true, false},
		{"unexpected EOF", io.ErrUnexpectedEOF, true, false},
		{"idle connection closed", errors.New("http: server closed idle connection"), true, false},
		{"a timeout", wrap("read", os.ErrDeadlineExceeded), false, false},
		{"another error", wrap("read", errors.New("no buffer space")), false, false},
	}
	for _, c := range platformClosed {
		cases = append(cases, struct {
			name            string
			err             error
			closed, refused bool
		}{c.name, wrap("read", c.errno), true, false})
	}
	for _, c := range platformRefused {
		cases = append(cases, struct {
			name            string
			err             error
			closed, refused bool
		}{c.name, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", c.errno)}, false, true})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := closedByServer(c.err); got != c.closed {
				t.Errorf("closedByServer(%v) = %v, want %v", c.err, got, c.closed)
			}
			if got := refused(c.err); got != c.refused {
				t.Errorf("refused(%v) = %v, want %v", c.err, got, c.refused)
			}
		})
	}
}

// namedErrno is one system error number a test expects in a class.
type namedErrno struct {
	name  string
	errno syscall.Errno
}

// TestNetErrorClassesOfRealSockets classifies what this system's sockets
// really report: a read on a connection the peer reset, a write after it,
// and a dial to a closed port.
func TestNetErrorClassesOfRealSockets(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		// Reset only once the client's byte is here, so that the
		// dial has finished for sure.
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Read(make([]byte, 1))
		c.(*net.TCPConn).SetLinger(0) // close with a reset
		c.Close()
	}()
	c, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_, err = c.Read(make([]byte, 1))
	if err == nil || !closedByServer(err) {
		t.Errorf("read on a reset connection: %v (%#v), not classed as closed by the server", err, errors.Unwrap(err))
	}
	_, err = c.Write([]byte("x"))
	if err != nil && !closedByServer(err) {
		t.Errorf("write on a reset connection: %v, not classed as closed by the server", err)
	}

	_, err = net.DialTimeout("tcp4", closedURL(t, "")[len("http://"):], 10*time.Second)
	if err == nil || !refused(err) {
		t.Errorf("dial to a closed port: %v, not classed as refused", err)
	}
}
