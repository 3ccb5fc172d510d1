package pyauthserver_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// idleFor sends one request on a raw connection and reports how long the
// server kept it open afterwards, or 0 when it still was after max.
func idleFor(t *testing.T, s *pyauthserver.Server, max time.Duration) time.Duration {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /auth/v2/auth-ports HTTP/1.1\r\nHost: "+u.Host+"\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	start := time.Now()
	conn.SetReadDeadline(start.Add(max))
	_, err = br.ReadByte()
	switch {
	case errors.Is(err, io.EOF):
		return time.Since(start)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0
	}
	t.Fatalf("idle connection: %v", err)
	return 0
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	t.Run("set", func(t *testing.T) {
		t.Parallel()
		s := pyauthserver.Start(t, pyauthserver.Options{IdleTimeout: 300 * time.Millisecond})
		if d := idleFor(t, s, 3*time.Second); d < 250*time.Millisecond || d > 1500*time.Millisecond {
			t.Fatalf("closed after %v, want about 300ms", d)
		}
	})
	t.Run("zero keeps connections", func(t *testing.T) {
		t.Parallel()
		s := pyauthserver.Start(t, pyauthserver.Options{})
		if d := idleFor(t, s, time.Second); d != 0 {
			t.Fatalf("closed an idle connection after %v", d)
		}
	})
}

type connIDKey struct{}

func TestWrapAndConnContext(t *testing.T) {
	t.Parallel()
	var conns int
	s := pyauthserver.Start(t, pyauthserver.Options{
		ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
			conns++ // the server calls ConnContext on its accepting goroutine
			return context.WithValue(ctx, connIDKey{}, conns)
		},
		Wrap: func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/auth/v2/userinfo" {
					id, _ := r.Context().Value(connIDKey{}).(int)
					pyauthserver.WriteDetail(w, http.StatusTeapot, id)
					return
				}
				next.ServeHTTP(w, r)
			})
		},
	})
	c := s.Client()
	if a := get(t, c, s.URL()+"/auth/v2/userinfo", nil); a.status != http.StatusTeapot || a.body != `{"detail":1}` {
		t.Fatalf("wrapped route: %d %s", a.status, a.body)
	}
	if s.Count(pyauthserver.RouteUserinfo) != 0 {
		t.Fatal("a request answered by Wrap was counted")
	}
	if a := get(t, c, s.URL()+"/auth/v2/auth-ports", nil); a.status != http.StatusOK || s.Count(pyauthserver.RouteAuthPorts) != 1 {
		t.Fatalf("delegated route: %d %s", a.status, a.body)
	}
}
