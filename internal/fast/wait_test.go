//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

// Unix only: the commands wait on a refresh, and take and hand over the hand-over lock, on Unix systems alone; on Windows the core waits itself.

package fast

import (
	"bytes"
	"context"
	"github.com/oidc-auth/oidc-auth/internal/tokenfile"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// TestWaitForRefresh checks the burst of gets on an expired token: while
// another process holds the login's lock, the cached path waits and
// answers with the token that process stores; with the lock free it
// leaves the refresh to oidc-auth-core at once; and it gives up when the
// lock is not released in time.
func TestWaitForRefresh(t *testing.T) {
	n := time.Now().Unix()
	team := "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://auth.example.org\"\n"
	expired := scenario{config: team, entries: member("https://auth.example.org", "old", n-10, ""), req: gitReq()}
	store := func() *keyring.FileStore { return &keyring.FileStore{Path: os.Getenv("OIDC_TOKEN_FILE")} }

	t.Run("lock free", func(t *testing.T) {
		setUp(t, expired)
		var out bytes.Buffer
		if ok, _ := Git([]byte(expired.req), &out); ok || out.Len() > 0 {
			t.Fatalf("answered %q for an expired token nobody refreshes", out.String())
		}
		if !(tokenfile.Gate >= 0) {
			t.Fatal("the command that hands the refresh over holds no hand-over lock")
		}
		releaseGate()
	})
	t.Run("another command hands over", func(t *testing.T) {
		setUp(t, expired)
		// The first command of the burst: it holds the hand-over lock
		// while its oidc-auth-core starts and refreshes.
		if ok, _ := Git([]byte(expired.req), new(bytes.Buffer)); ok || !(tokenfile.Gate >= 0) {
			t.Fatal("the first command did not take the hand-over lock")
		}
		held := tokenfile.Gate
		tokenfile.Gate = -1
		go func() {
			defer syscall.Close(held)
			time.Sleep(100 * time.Millisecond)
			rec := &keyring.Record{Token: keyring.Token{AccessToken: "handed", TokenType: "Bearer", Expires: n + 3600, RefreshToken: "r2", RefreshExpires: n + 7200}}
			if err := store().Put(context.Background(), "https://auth.example.org", rec); err != nil {
				t.Error(err)
			}
		}()
		var out bytes.Buffer
		if ok, _ := Git([]byte(expired.req), &out); !ok || !strings.Contains(out.String(), "password=handed\n") || (tokenfile.Gate >= 0) {
			t.Fatalf("answered %q (holding the lock: %v), want the token the first command's core stored", out.String(), (tokenfile.Gate >= 0))
		}
	})
	t.Run("refreshed just before the lock", func(t *testing.T) {
		defer releaseGate()
		setUp(t, expired)
		// Another command's core stores the new token and ends after this
		// command read the file, before it checks the locks.
		tokenfile.TestHookLocks = func() {
			rec := &keyring.Record{Token: keyring.Token{AccessToken: "just", TokenType: "Bearer", Expires: n + 3600, RefreshToken: "r2", RefreshExpires: n + 7200}}
			if err := store().Put(context.Background(), "https://auth.example.org", rec); err != nil {
				t.Error(err)
			}
		}
		defer func() { tokenfile.TestHookLocks = nil }()
		var out bytes.Buffer
		if ok, _ := Git([]byte(expired.req), &out); !ok || !strings.Contains(out.String(), "password=just\n") {
			t.Fatalf("answered %q (ok %v), want the token stored before the lock: no core to start", out.String(), ok)
		}
	})
	t.Run("refreshed while waiting", func(t *testing.T) {
		setUp(t, expired)
		s := store()
		unlock, err := s.Lock(context.Background(), "https://auth.example.org")
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			defer unlock()
			time.Sleep(100 * time.Millisecond)
			rec := &keyring.Record{Token: keyring.Token{AccessToken: "new", TokenType: "Bearer", Expires: n + 3600, RefreshToken: "r2", RefreshExpires: n + 7200}}
			if err := s.Put(context.Background(), "https://auth.example.org", rec); err != nil {
				t.Error(err)
			}
		}()
		var out bytes.Buffer
		if ok, _ := Git([]byte(expired.req), &out); !ok || !strings.Contains(out.String(), "password=new\n") {
			t.Fatalf("answered %q, want the refreshed token", out.String())
		}
	})
	t.Run("lock not released", func(t *testing.T) {
		defer releaseGate()
		setUp(t, expired)
		unlock, err := store().Lock(context.Background(), "https://auth.example.org")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		defer func(w time.Duration) { tokenfile.RefreshWait = w }(tokenfile.RefreshWait)
		tokenfile.RefreshWait = 50 * time.Millisecond
		var out bytes.Buffer
		if ok, _ := Git([]byte(expired.req), &out); ok || out.Len() > 0 {
			t.Fatalf("answered %q while the lock is held", out.String())
		}
	})
}

// releaseGate drops the hand-over lock, if the test holds it.
func releaseGate() {
	if tokenfile.Gate >= 0 {
		syscall.Close(tokenfile.Gate)
		tokenfile.Gate = -1
	}
}
