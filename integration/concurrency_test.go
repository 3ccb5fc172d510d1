package integration

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// slowProxy starts a reverse proxy on 127.0.0.1 in front of srv that holds
// every token-route request for delay, as a distant server would, and
// returns the host URL (with srv's prefix) that reaches srv through it.
func slowProxy(t *testing.T, srv *pyauthserver.Server, delay time.Duration) string {
	t.Helper()
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	origin := &url.URL{Scheme: target.Scheme, Host: target.Host}
	rp := httputil.NewSingleHostReverseProxy(origin)
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/auth/v2/token") {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(ps.Close)
	return ps.URL + target.Path
}

// expireStoredAccess rewrites the stored token of key so that its access
// token expired a minute ago, as if the sandbox had been idle; the refresh
// token stays as it is.
func (s *sandbox) expireStoredAccess(key string) {
	s.t.Helper()
	s.setStoredExpiry(key, time.Now().Add(-time.Minute))
}

// setStoredExpiry sets the expiry of the stored access token of key.
func (s *sandbox) setStoredExpiry(key string, at time.Time) {
	s.t.Helper()
	var all map[string]map[string]any
	b := s.storeBytes()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&all); err != nil {
		s.t.Fatal(err)
	}
	tok, ok := all[key]["token"].(map[string]any)
	if !ok {
		s.t.Fatalf("no token stored under %s", key)
	}
	tok["expires"] = at.Unix()
	out, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.storePath(), out, 0o600); err != nil {
		s.t.Fatal(err)
	}
}

// expiredLogin logs in, in a new sandbox, to a new server behind a proxy
// that answers after delay, and makes the stored access token expired
// (its refresh token still good): the next get refreshes, slowly enough
// for a burst of gets to meet the refresh under way. It returns the
// server, the proxy's URL, the sandbox and the login's store key.
func expiredLogin(t *testing.T, delay time.Duration) (*pyauthserver.Server, string, *sandbox, string) {
	t.Helper()
	srv := startServer(t, pyauthserver.Options{})
	host := slowProxy(t, srv, delay)
	s := newSandbox(t)
	srv.PlanDevice(pyauthserver.DevicePlan{})
	mustSucceed(t, s.run("login", host, "--timeout", loginTimeout))
	key := keyOf(t, host)
	s.readStore()
	s.expireStoredAccess(key)
	return srv, host, s, key
}

// TestConcurrentRefresh runs several `oidc-auth token` at once on an
// expired access token, as parallel git or docker commands do. The promise:
// the store is "safely shared by any number of concurrent processes" — an
// expired token is refreshed under a per-key lock, after re-reading the
// store, once. Refresh tokens rotate and are single-use, so a second
// refresh with the same refresh token is refused and would send its caller
// to log in again.
func TestConcurrentRefresh(t *testing.T) {
	t.Parallel()
	srv, host, s, key := expiredLogin(t, 300*time.Millisecond)

	const n = 32
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i] = s.run("token", host) })
	}
	wg.Wait()

	stored := s.readStore()[key]
	if !srv.Valid(stored.Token.AccessToken) {
		t.Errorf("the store holds no valid token after the refreshes")
	}
	for i, r := range results {
		if r.code != 0 {
			t.Errorf("process %d of %d failed:\n%v", i+1, n, r)
			continue
		}
		if r.stdout != stored.Token.AccessToken+"\n" {
			t.Errorf("process %d printed a token other than the stored one", i+1)
		}
	}
	if got := srv.Count(pyauthserver.CountTokenRefresh); got != 1 {
		t.Errorf("%d concurrent token commands sent %d refresh requests, want 1 (refresh under the store lock)", n, got)
	}
}

// TestRefreshWhileStoreHeldOpen refreshes an expired token while another
// process holds the token file open for reading, as a lock-free reader, a
// backup tool or a virus scanner may at any moment. Windows refuses to
// replace a file that is open without FILE_SHARE_DELETE, which Go's
// os.Open does not ask for; the refreshed login must still be stored, for
// the server has rotated the refresh token the store held before.
func TestRefreshWhileStoreHeldOpen(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(srv)
	key := storeKey(t, srv)
	s.expireStoredAccess(key)

	held, err := os.Open(s.storePath())
	if err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		defer close(released)
		time.Sleep(time.Second)
		held.Close()
	}()
	r := s.run("token", srv.URL())
	<-released
	mustSucceed(t, r)
	stored := s.readStore()[key]
	if r.stdout != stored.Token.AccessToken+"\n" || !srv.Valid(stored.Token.AccessToken) {
		t.Errorf("the refreshed token was not stored while the file was held open: printed %.8s…, stored %.8s…; stderr:\n%s", r.stdout, stored.Token.AccessToken, r.stderr)
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refresh requests, want 1", n)
	}
	// The stored refresh token is the one the server accepts now.
	s.expireStoredAccess(key)
	mustSucceed(t, s.run("token", srv.URL()))
}
