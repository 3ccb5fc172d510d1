package integration

import (
	"bytes"
	"debug/buildinfo"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// loginTimeout is passed as --timeout to every login, so that no test
// waits out the 5 minute default.
const loginTimeout = "20s"

// v1TokenFields are the fields of a token in the reference v1 file format.
var v1TokenFields = []string{"access_token", "token_type", "expires", "refresh_token", "refresh_expires", "scope", "headers"}

// decodeJSON decodes b into a generic value with numbers kept exact.
func decodeJSON(t *testing.T, what string, b []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", what, err, b)
	}
	if dec.More() {
		t.Fatalf("%s holds more than one JSON value:\n%s", what, b)
	}
	return v
}

// tokenJSON returns the "token" object of a raw store entry, decoded.
func tokenJSON(t *testing.T, e storedEntry) map[string]any {
	t.Helper()
	m, ok := decodeJSON(t, "store entry", e.raw).(map[string]any)
	if !ok {
		t.Fatalf("store entry is not an object: %s", e.raw)
	}
	tok, ok := m["token"].(map[string]any)
	if !ok {
		t.Fatalf("store entry has no token object: %s", e.raw)
	}
	return tok
}

func TestDeviceLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	srv.PlanDevice(pyauthserver.DevicePlan{Pending: 3})
	s := newSandbox(t)

	before := time.Now()
	r := s.run("login", srv.URL(), "--timeout", loginTimeout)
	after := time.Now()
	mustSucceed(t, r)
	if r.stdout != "" {
		t.Errorf("login without --json wrote to stdout\n%v", r)
	}
	_, userCode := srv.LastDevice()
	verify := srv.URL() + "/idp/device?" + url.Values{"user_code": {userCode}}.Encode()
	if !strings.Contains(r.stderr, verify) || !strings.Contains(r.stderr, "confirm the code "+userCode) {
		t.Errorf("stderr lacks the verification URL %s or the user code %s\n%v", verify, userCode, r)
	}
	if got := srv.Count(pyauthserver.CountTokenDevice); got != 4 {
		t.Errorf("%d device polls, want 4 (3 pending, then the token)", got)
	}
	if got := srv.Count(pyauthserver.RouteDevice); got != 1 {
		t.Errorf("%d device starts, want 1", got)
	}
	polls := srv.DevicePolls()
	for i := 1; i < len(polls); i++ {
		if gap := polls[i].Sub(polls[i-1]); gap < 900*time.Millisecond {
			t.Errorf("poll %d came %v after the one before, want the 1 s interval", i+1, gap)
		}
	}

	// The store: one v1 entry under scheme://host:port, 0600 in a 0700 directory.
	st, err := os.Stat(s.storePath())
	if err != nil {
		t.Fatal(err)
	}
	if unixModes(t) {
		if st.Mode().Perm() != 0o600 {
			t.Errorf("token store mode %v, want 0600", st.Mode().Perm())
		}
		if dst, err := os.Stat(filepath.Dir(s.storePath())); err != nil || dst.Mode().Perm() != 0o700 {
			t.Errorf("token store directory: %v, %v; want mode 0700", dst.Mode().Perm(), err)
		}
	}
	store := s.readStore()
	key := storeKey(t, srv)
	if !strings.HasPrefix(key, "http://127.0.0.1:") || len(store) != 1 {
		t.Fatalf("store keys %v, want exactly %s", slices.Sorted(maps.Keys(store)), key)
	}
	e, ok := store[key]
	if !ok {
		t.Fatalf("store keys %v, want exactly %s (path dropped)", slices.Sorted(maps.Keys(store)), key)
	}
	tok := e.Token
	access := tok.AccessToken
	if !srv.Valid(access) {
		t.Errorf("stored access token is not one the server says is valid")
	}
	if tok.TokenType != "Bearer" || tok.Scope != pyauthserver.Scope {
		t.Errorf("token_type %q, scope %q", tok.TokenType, tok.Scope)
	}
	if tok.RefreshToken == "" || tok.RefreshToken == access {
		t.Errorf("refresh token missing or equal to the access token in passthrough mode")
	}
	exp := unixNumber(t, "expires", tok.Expires)
	if lo, hi := before.Add(5*time.Minute).Unix()-1, after.Add(5*time.Minute).Unix()+1; exp < lo || exp > hi {
		t.Errorf("expires = %d, want absolute now+300 in [%d, %d]", exp, lo, hi)
	}
	rexp := unixNumber(t, "refresh_expires", tok.RefreshExpires)
	if lo, hi := before.Add(30*time.Minute).Unix()-1, after.Add(30*time.Minute).Unix()+1; rexp < lo || rexp > hi {
		t.Errorf("refresh_expires = %d, want absolute now+1800 in [%d, %d]", rexp, lo, hi)
	}
	if want := map[string]string{"Authorization": "Bearer " + access}; !reflect.DeepEqual(tok.Headers, want) {
		t.Errorf("headers = %v, want the Authorization header", tok.Headers)
	}
	if at, err := e.StoredAt.Float64(); err != nil || at < float64(before.Unix()) || at > float64(after.Unix()+1) {
		t.Errorf("stored_at = %q, want Unix seconds of the login", e.StoredAt)
	}
	if e.Server == nil || e.Server.Host != srv.URL() {
		t.Errorf("server = %+v, want host %s (path kept for refreshes)", e.Server, srv.URL())
	}
	raw := tokenJSON(t, e)
	for f := range raw {
		if !slices.Contains(v1TokenFields, f) {
			t.Errorf("token has field %q outside the v1 format", f)
		}
	}

	// token needs no network while the stored token is valid.
	counts := requestCounts(srv)
	r = s.run("token", srv.URL())
	mustSucceed(t, r)
	if r.stdout != access+"\n" || r.stderr != "" {
		t.Errorf("token: want exactly the access token and a newline on stdout, nothing on stderr\n%v", r)
	}
	r = s.run("token", srv.URL(), "--header")
	mustSucceed(t, r)
	if r.stdout != "Authorization: Bearer "+access+"\n" {
		t.Errorf("token --header: want %q\n%v", "Authorization: Bearer <access>\n", r)
	}
	r = s.run("token", "--json", srv.URL())
	mustSucceed(t, r)
	if got := decodeJSON(t, "token --json", []byte(r.stdout)); !reflect.DeepEqual(got, any(raw)) {
		t.Errorf("token --json = %v, want the stored token %v", got, raw)
	}
	if got := requestCounts(srv); !reflect.DeepEqual(got, counts) {
		t.Errorf("token made requests: counts %v, then %v", counts, got)
	}

	// login --json while logged in prints the stored token and logs in no more.
	r = s.run("login", "--json", srv.URL(), "--timeout", loginTimeout)
	mustSucceed(t, r)
	if got := decodeJSON(t, "login --json", []byte(r.stdout)); !reflect.DeepEqual(got, any(raw)) {
		t.Errorf("login --json while logged in = %v, want the stored token", got)
	}
	if !strings.Contains(r.stderr, "Already logged in") {
		t.Errorf("login while logged in does not say so\n%v", r)
	}
	if got := requestCounts(srv); !reflect.DeepEqual(got, counts) {
		t.Errorf("login of a logged-in host made requests: counts %v, then %v", counts, got)
	}

	// login --force --json logs in again and prints the new token.
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r = s.run("login", "--force", "--json", "--timeout", loginTimeout, srv.URL())
	mustSucceed(t, r)
	fresh := s.readStore()[key]
	if fresh.Token.AccessToken == access || !srv.Valid(fresh.Token.AccessToken) {
		t.Errorf("login --force stored no new valid token")
	}
	if got := decodeJSON(t, "login --force --json", []byte(r.stdout)); !reflect.DeepEqual(got, any(tokenJSON(t, fresh))) {
		t.Errorf("login --json = %v, want the new stored token %v", got, tokenJSON(t, fresh))
	}
	if got := srv.Count(pyauthserver.RouteDevice); got != 2 {
		t.Errorf("%d device starts after login --force, want 2", got)
	}
}

// TestDeviceSlowDown checks the poll schedule of RFC 8628 §3.5: the first
// poll at once, and slow_down adding 5 s to the interval.
func TestDeviceSlowDown(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{Interval: 1})
	// One slow_down, then the token: the poll after the slow_down must come
	// interval+5 = 6 s later. (A second pending poll would prove the
	// interval stays raised, at the cost of 6 more seconds.)
	srv.PlanDevice(pyauthserver.DevicePlan{Pending: 1, SlowDown: 1})
	s := newSandbox(t)
	start := time.Now()
	r := s.run("login", srv.URL(), "--flow", "device", "--timeout", loginTimeout)
	mustSucceed(t, r)
	polls := srv.DevicePolls()
	if len(polls) != 2 {
		t.Fatalf("%d polls, want 2 (slow_down, then the token)", len(polls))
	}
	if d := polls[0].Sub(start); d > time.Second {
		// Allow for a slow process start on a busy machine.
		if base := s.run("--version").elapsed; d-base > time.Second {
			t.Errorf("first poll %v after the start (a trivial run takes %v), want at once", d, base)
		}
	}
	if d := polls[1].Sub(polls[0]); d < 6*time.Second || d > 9*time.Second {
		t.Errorf("poll after slow_down came %v after the previous one, want 6 s (interval 1 s + 5 s)", d)
	}
	if e := s.readStore()[storeKey(t, srv)]; !srv.Valid(e.Token.AccessToken) {
		t.Errorf("no valid token stored")
	}
}

func TestDeviceFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    pyauthserver.Options
		plan    pyauthserver.DevicePlan
		want    []string // the error line contains one of these
		maxTime time.Duration
		polls   int // how many polls the flow must stop after; 0: any
		setup   func(*pyauthserver.Server)
	}{
		{"denied", pyauthserver.Options{}, pyauthserver.DevicePlan{Pending: 1, Outcome: pyauthserver.Deny}, []string{"denied", "refused"}, 3 * time.Second, 2, nil},
		{"expired_token", pyauthserver.Options{}, pyauthserver.DevicePlan{Pending: 1, Outcome: pyauthserver.Expire}, []string{"expired"}, 3 * time.Second, 2, nil},
		{"unknown device code", pyauthserver.Options{}, pyauthserver.DevicePlan{Outcome: pyauthserver.Unknown}, []string{"invalid_grant"}, 2 * time.Second, 1, nil},
		{"device code lifetime passes", pyauthserver.Options{DeviceExpiresIn: 3}, pyauthserver.DevicePlan{Manual: true}, []string{"expired"}, 5 * time.Second, 0, nil},
		// Dex never says expired_token: the client itself must stop at
		// expires_in, not wait out --timeout.
		{"device code lifetime passes, server keeps answering pending", pyauthserver.Options{DeviceExpiresIn: 3}, pyauthserver.DevicePlan{}, []string{"expired"}, 5 * time.Second, 0,
			func(srv *pyauthserver.Server) {
				srv.Override(pyauthserver.RouteToken, func(w http.ResponseWriter, r *http.Request) {
					pyauthserver.WriteUpstreamError(w, http.StatusBadRequest, "authorization_pending", "")
				})
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, tt.opts)
			srv.PlanDevice(tt.plan)
			if tt.setup != nil {
				tt.setup(srv)
			}
			s := newSandbox(t)
			r := s.run("login", srv.URL(), "--timeout", loginTimeout)
			msg := failureLine(t, r, 1)
			found := false
			for _, w := range tt.want {
				found = found || strings.Contains(msg, w)
			}
			if !found {
				t.Errorf("error line %q mentions none of %q", msg, tt.want)
			}
			checkQuick(t, s, r, tt.maxTime)
			if tt.polls != 0 && srv.Count(pyauthserver.CountTokenDevice) != tt.polls {
				t.Errorf("%d polls, want %d", srv.Count(pyauthserver.CountTokenDevice), tt.polls)
			}
			if b := s.storeBytes(); b != nil {
				t.Errorf("a failed login wrote the store:\n%s", b)
			}
			if srv.Count(pyauthserver.RouteLogin) != 0 {
				t.Errorf("a failed device login fell back to the browser")
			}
		})
	}
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()

	t.Run("success", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		port := freePorts(t, 1)[0]
		r := s.run(append([]string{"login", srv.URL(), "--flow", "code", "--timeout", loginTimeout}, portArgs([]int{port})...)...)
		mustSucceed(t, r)
		if r.stdout != "" {
			t.Errorf("stdout not empty\n%v", r)
		}
		redirect := "http://localhost:" + strconv.Itoa(port) + "/callback"
		wantQuery := url.Values{"redirect_uri": {redirect}, "offline_access": {"true"}, "prompt": {"consent"}}
		urls := s.browserURLs()
		if len(urls) != 1 {
			t.Fatalf("browser opened %q, want one login URL", urls)
		}
		u, err := url.Parse(urls[0])
		if err != nil {
			t.Fatal(err)
		}
		// The browser gets a loopback start page that leads to the
		// provider; the login route was asked by oidc-auth itself.
		if u.Host != "localhost:"+strconv.Itoa(port) || !strings.HasPrefix(u.Path, "/login/") || u.RawQuery != "" {
			t.Errorf("browser opened %s, want the loopback start page", urls[0])
		}
		if got := srv.LastLoginQuery(); !reflect.DeepEqual(got, wantQuery) {
			t.Errorf("server saw login query %v, want %v", got, wantQuery)
		}
		if !strings.Contains(r.stderr, urls[0]) {
			t.Errorf("the login URL is not printed for the person\n%v", r)
		}
		form := srv.LastTokenForm()
		if form.Get("redirect_uri") != redirect || form.Get("grant_type") != "authorization_code" || form.Get("code_verifier") == "" {
			t.Errorf("code exchange form %v", form)
		}
		if srv.Count(pyauthserver.CountTokenCode) != 1 || srv.Count(pyauthserver.RouteDevice) != 0 {
			t.Errorf("requests %v, want one code exchange and no device flow", requestCounts(srv))
		}
		e := s.readStore()[storeKey(t, srv)]
		if !srv.Valid(e.Token.AccessToken) {
			t.Errorf("no valid token stored")
		}
	})

	t.Run("identity provider error", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		srv.SetIdPError("access_denied", "User cancelled")
		s := newSandbox(t)
		r := s.run(append([]string{"login", srv.URL(), "--flow", "code", "--timeout", loginTimeout}, portArgs(freePorts(t, 1))...)...)
		msg := failureLine(t, r, 1)
		if !strings.Contains(msg, "access_denied") || !strings.Contains(msg, "User cancelled") {
			t.Errorf("error line %q does not pass on the provider's error", msg)
		}
		if srv.Count(pyauthserver.CountTokenCode) != 0 {
			t.Errorf("a code exchange followed an error callback")
		}
		if b := s.storeBytes(); b != nil {
			t.Errorf("store written:\n%s", b)
		}
	})

	t.Run("all callback ports busy", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		ports := freePorts(t, 2)
		for _, p := range ports {
			l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
		}
		r := s.run(append([]string{"login", srv.URL(), "--flow", "code", "--timeout", loginTimeout}, portArgs(ports)...)...)
		msg := onlyLine(t, r, 1)
		if want := fmt.Sprintf("%d, %d", ports[0], ports[1]); !strings.Contains(msg, want) {
			t.Errorf("error line %q does not name the ports %s", msg, want)
		}
		checkQuick(t, s, r, 2*time.Second)
		if urls := s.browserURLs(); len(urls) != 0 || srv.Count(pyauthserver.RouteLogin) != 0 {
			t.Errorf("a browser was opened (%q) without a callback port", urls)
		}
	})

	// A device route answering 405 or 501 means the server has no device
	// flow: --flow auto falls back to the browser. (404, 502 and 503 are in
	// TestDeviceRouteAnswers.)
	for _, fb := range []struct {
		status int
		flavor pyauthserver.Flavor
	}{
		{405, pyauthserver.FastAPI}, {405, pyauthserver.Flask}, {501, pyauthserver.FastAPI},
	} {
		t.Run(fmt.Sprintf("fallback from device %d %v", fb.status, fb.flavor), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{DeviceStatus: fb.status, Flavor: fb.flavor})
			s := newSandbox(t)
			r := s.run(append([]string{"login", srv.URL(), "--flow", "auto", "--timeout", loginTimeout}, portArgs(freePorts(t, 1))...)...)
			mustSucceed(t, r)
			if srv.Count(pyauthserver.RouteDevice) != 1 || srv.Count(pyauthserver.CountTokenCode) != 1 || srv.Count(pyauthserver.CountTokenDevice) != 0 {
				t.Errorf("requests %v, want one device start, then one code exchange", requestCounts(srv))
			}
			if !srv.Valid(s.readStore()[storeKey(t, srv)].Token.AccessToken) {
				t.Errorf("no valid token stored")
			}
		})
	}

	t.Run("device flow only on a server without one", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{DeviceStatus: 501})
		s := newSandbox(t)
		r := s.run("login", srv.URL(), "--flow", "device", "--timeout", loginTimeout)
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, "no device flow") {
			t.Errorf("error line %q does not say the server has no device flow", msg)
		}
		if srv.Count(pyauthserver.RouteLogin) != 0 {
			t.Errorf("--flow device fell back to the browser")
		}
	})
}

func TestRefresh(t *testing.T) {
	t.Parallel()

	// Access tokens live 30 s: less than the 60 s margin, so the client
	// refreshes a stored token at once; ExpireAccessTokens makes the server
	// agree that the old one is dead.
	t.Run("passthrough rotation and reuse", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
		s := newSandbox(t)
		key := storeKey(t, srv)
		first := s.login(srv)
		stale := s.storeBytes()

		srv.ExpireAccessTokens()
		r := s.run("token", srv.URL())
		mustSucceed(t, r)
		e := s.readStore()[key]
		if r.stdout != e.Token.AccessToken+"\n" || r.stderr != "" {
			t.Errorf("token: want the stored new token on stdout and nothing on stderr\n%v", r)
		}
		if e.Token.AccessToken == first.Token.AccessToken || !srv.Valid(e.Token.AccessToken) || srv.Valid(first.Token.AccessToken) {
			t.Errorf("token did not print a new valid token")
		}
		if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
			t.Errorf("%d refresh requests, want 1", n)
		}
		if form := srv.LastTokenForm(); !reflect.DeepEqual(form, url.Values{"refresh-token": {first.Token.RefreshToken}}) {
			t.Errorf("refresh form %v, want only refresh-token=<the stored refresh token>", form)
		}
		if e.Token.RefreshToken == "" || e.Token.RefreshToken == first.Token.RefreshToken {
			t.Errorf("the rotated refresh token was not stored")
		}
		if e.Server == nil || e.Server.Host != srv.URL() {
			t.Errorf("refresh lost the server settings: %+v", e.Server)
		}

		// Put back the store of before the refresh: its refresh token is
		// used up, so the server refuses it and a person must log in.
		if err := os.WriteFile(s.storePath(), stale, 0o600); err != nil {
			t.Fatal(err)
		}
		srv.ExpireAccessTokens()
		devices := srv.Count(pyauthserver.RouteDevice)
		r = s.run("token", srv.URL())
		msg := onlyLine(t, r, 1)
		if want := "run `oidc-auth login " + srv.URL() + "`"; !strings.Contains(msg, want) {
			t.Errorf("error line %q does not say %q", msg, want)
		}
		if !strings.Contains(msg, "no longer accepts") {
			t.Errorf("error line %q does not say why", msg)
		}
		if n := srv.Count(pyauthserver.CountTokenRefresh); n != 2 {
			t.Errorf("%d refresh requests in all, want 2", n)
		}
		if srv.Count(pyauthserver.RouteDevice) != devices {
			t.Errorf("token started a login without a terminal")
		}
		if got := s.storeBytes(); !bytes.Equal(got, stale) {
			t.Errorf("a refused refresh changed the store:\n%s\nwant:\n%s", got, stale)
		}
		s.readStore() // still parses
	})

	t.Run("a bare host is not the prefixed server", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
		s := newSandbox(t)
		s.login(srv)
		before := s.storeBytes()
		r := s.run("token", storeKey(t, srv))
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, "is for "+srv.URL()) || !strings.Contains(msg, "oidc-auth login "+storeKey(t, srv)) {
			t.Errorf("error line %q does not say whose login is stored", msg)
		}
		if n := srv.Count(pyauthserver.CountTokenRefresh); n != 0 {
			t.Errorf("%d refreshes for another server's login", n)
		}
		if !bytes.Equal(s.storeBytes(), before) {
			t.Error("the store changed")
		}
	})

	t.Run("entry written by the reference client", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		key := storeKey(t, srv)
		first := s.login(srv)
		// py-oidc-auth-client writes no "server" field; its token is expired.
		var all map[string]map[string]any
		if err := json.Unmarshal(s.storeBytes(), &all); err != nil {
			t.Fatal(err)
		}
		delete(all[key], "server")
		all[key]["token"].(map[string]any)["expires"] = time.Now().Add(-time.Minute).Unix()
		b, _ := json.Marshal(all)
		if err := os.WriteFile(s.storePath(), b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := s.run("token", srv.URL())
		mustSucceed(t, r)
		e := s.readStore()[key]
		if r.stdout != e.Token.AccessToken+"\n" || e.Token.AccessToken == first.Token.AccessToken || !srv.Valid(e.Token.AccessToken) {
			t.Errorf("token did not refresh the reference client's entry\n%v", r)
		}
		if srv.Count(pyauthserver.CountTokenRefresh) != 1 {
			t.Errorf("requests %v, want one refresh", requestCounts(srv))
		}
	})

	t.Run("broker", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{Broker: true, AccessTTL: 30 * time.Second})
		s := newSandbox(t)
		first := s.login(srv)
		if first.Token.AccessToken != first.Token.RefreshToken {
			t.Errorf("broker login: access and refresh tokens differ")
		}
		srv.ExpireAccessTokens()
		r := s.run("token", srv.URL())
		mustSucceed(t, r)
		e := s.readStore()[storeKey(t, srv)]
		if r.stdout != e.Token.AccessToken+"\n" || e.Token.AccessToken == first.Token.AccessToken || !srv.Valid(e.Token.AccessToken) {
			t.Errorf("token did not print a new broker token\n%v", r)
		}
		if e.Token.RefreshToken != e.Token.AccessToken {
			t.Errorf("broker refresh stored a refresh token other than the new JWT")
		}
		if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
			t.Errorf("%d refresh requests, want 1", n)
		}

		// The broker forgets the session: 401, log in again.
		srv.RevokeRefreshTokens()
		before := s.storeBytes()
		r = s.run("token", srv.URL())
		msg := onlyLine(t, r, 1)
		if want := "run `oidc-auth login " + srv.URL() + "`"; !strings.Contains(msg, want) {
			t.Errorf("error line %q does not say %q", msg, want)
		}
		if !bytes.Equal(s.storeBytes(), before) {
			t.Errorf("a refused refresh changed the store")
		}
	})
}

func TestNonInteractive(t *testing.T) {
	t.Parallel()

	t.Run("no terminal", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		r := s.run("token", srv.URL())
		msg := onlyLine(t, r, 1)
		want := "no valid login for " + srv.URL() + " (not logged in; no terminal to log in from); run `oidc-auth login " + srv.URL() + "`"
		if msg != want {
			t.Errorf("error line\n%q\nwant\n%q", msg, want)
		}
		checkQuick(t, s, r, 2*time.Second)
		if got := requestCounts(srv); len(got) != 0 {
			t.Errorf("token without a login made requests: %v", got)
		}
		if b := s.storeBytes(); b != nil {
			t.Errorf("store written:\n%s", b)
		}
	})

	for _, v := range jobVariables {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{})
			s := newSandbox(t)
			r := s.runEnv([]string{v + "=1"}, "token", srv.URL())
			msg := onlyLine(t, r, 1)
			if !strings.Contains(msg, v+" is set") || !strings.Contains(msg, "run `oidc-auth login "+srv.URL()+"`") {
				t.Errorf("error line %q does not name %s or the login command", msg, v)
			}
			if got := requestCounts(srv); len(got) != 0 {
				t.Errorf("token in a job made requests: %v", got)
			}
		})
	}

	t.Run("explicit login in a job", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		srv.PlanDevice(pyauthserver.DevicePlan{})
		s := newSandbox(t)
		r := s.runEnv([]string{"SLURM_JOB_ID=1"}, "login", srv.URL(), "--timeout", loginTimeout)
		mustSucceed(t, r)
		e := s.readStore()[storeKey(t, srv)]
		r = s.runEnv([]string{"SLURM_JOB_ID=1"}, "token", srv.URL())
		mustSucceed(t, r)
		if r.stdout != e.Token.AccessToken+"\n" {
			t.Errorf("token in a job after a login\n%v", r)
		}
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	a := startServer(t, pyauthserver.Options{})
	b := startServer(t, pyauthserver.Options{Prefix: "/other"})
	s := newSandbox(t)

	r := s.run("status", "--json")
	if r.code != 1 || r.stdout != "[]\n" {
		t.Errorf("status --json of an empty store: want %q and exit 1\n%v", "[]\n", r)
	}
	r = s.run("status")
	if r.code != 1 || r.stdout != "" {
		t.Errorf("status of an empty store printed a table\n%v", r)
	}

	ea, eb := s.login(a), s.login(b)
	want := map[string]struct {
		host    string
		expires json.Number
	}{
		storeKey(t, a): {a.URL(), ea.Token.Expires},
		storeKey(t, b): {b.URL(), eb.Token.Expires},
	}

	r = s.run("status")
	mustSucceed(t, r)
	table, path, _ := strings.Cut(r.stdout, "\n\nfile: ")
	lines := strings.Split(table, "\n")
	if len(lines) != 3 || path != s.storePath()+"\n" {
		t.Fatalf("status: want a header, two lines and the token file's path\n%v", r)
	}
	for _, w := range want {
		n := 0
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			if len(f) > 0 && f[0] == w.host {
				n++
				if !strings.Contains(l, " file ") || !strings.Contains(l, "valid for") {
					t.Errorf("status line %q lacks the store or the expiry", l)
				}
			}
		}
		if n != 1 {
			t.Errorf("status lists %s %d times, want once\n%v", w.host, n, r)
		}
	}
	tokens := []string{ea.Token.AccessToken, ea.Token.RefreshToken, eb.Token.AccessToken, eb.Token.RefreshToken}
	for _, tok := range tokens {
		if strings.Contains(r.stdout+r.stderr, tok) {
			t.Errorf("status printed a token")
		}
	}

	r = s.run("status", "--json")
	mustSucceed(t, r)
	for _, tok := range tokens {
		if strings.Contains(r.stdout+r.stderr, tok) {
			t.Errorf("status --json printed a token")
		}
	}
	list, ok := decodeJSON(t, "status --json", []byte(r.stdout)).([]any)
	if !ok || len(list) != 2 {
		t.Fatalf("status --json: want an array of two\n%v", r)
	}
	seen := map[string]bool{}
	for _, item := range list {
		m, ok := item.(map[string]any)
		if !ok {
			t.Fatalf("status --json item %v is not an object", item)
		}
		for _, f := range []string{"server", "host", "store", "valid", "expires"} {
			if _, ok := m[f]; !ok {
				t.Errorf("status --json item %v lacks %q", m, f)
			}
		}
		server, _ := m["server"].(string)
		w, ok := want[server]
		if !ok || seen[server] {
			t.Errorf("status --json item for unexpected or repeated server %q", server)
			continue
		}
		seen[server] = true
		if m["host"] != w.host || m["store"] != "file" || m["valid"] != true || m["expires"] != w.expires {
			t.Errorf("status --json item %v, want host %s, store file, valid, expires %s", m, w.host, w.expires)
		}
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	a := startServer(t, pyauthserver.Options{})
	b := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(a)
	eb := s.login(b)

	r := s.run("logout", a.URL())
	mustSucceed(t, r)
	store := s.readStore()
	if _, ok := store[storeKey(t, a)]; ok || len(store) != 1 {
		t.Errorf("after logout of %s the store holds %v", a.URL(), slices.Sorted(maps.Keys(store)))
	}
	if got, ok := store[storeKey(t, b)]; !ok || !reflect.DeepEqual(decodeJSON(t, "entry", got.raw), decodeJSON(t, "entry", eb.raw)) {
		t.Errorf("logout of %s changed the entry of %s", a.URL(), b.URL())
	}
	r = s.run("token", b.URL())
	mustSucceed(t, r)
	if r.stdout != eb.Token.AccessToken+"\n" {
		t.Errorf("token of the other server after logout\n%v", r)
	}
	r = s.run("token", a.URL())
	onlyLine(t, r, 1)

	unknown := "http://127.0.0.1:1/api/app"
	before := s.storeBytes()
	r = s.run("logout", unknown)
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, unknown) {
		t.Errorf("error line %q does not name %s", msg, unknown)
	}

	for _, args := range [][]string{{"logout"}, {"logout", "--all", b.URL()}, {"logout", b.URL(), "--all"}} {
		r = s.run(args...)
		onlyLine(t, r, 2)
	}
	if !bytes.Equal(s.storeBytes(), before) {
		t.Errorf("failed logouts changed the store")
	}

	r = s.run("logout", "--all")
	mustSucceed(t, r)
	if store := s.readStore(); len(store) != 0 {
		t.Errorf("after logout --all the store holds %v", slices.Sorted(maps.Keys(store)))
	}
	r = s.run("status", "--json")
	if r.code != 1 || r.stdout != "[]\n" {
		t.Errorf("status after logout --all\n%v", r)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	host := srv.URL()
	for _, args := range [][]string{
		{"login"},
		{"login", "--flow", "bogus", host},
		{"login", host, "--flow", "bogus"},
		{"login", host, "--timeout", "nope"},
		{"login", host, "--timeout", "0"},
		{"login", host, "--port", "x"},
		{"login", host, host},
		{"frobnicate"},
		{"frobnicate", host},
		{"login", "--bogus", host},
		{"login", host, "--bogus"},
		{"--bogus"},
		{"token"},
		{"token", host, "--bogus"},
		{"status", "extra"},
	} {
		r := s.run(args...)
		msg := onlyLine(t, r, 2)
		if !strings.Contains(msg, "--help") {
			t.Errorf("%q: usage line %q does not point to --help", args, msg)
		}
	}
	if got := requestCounts(srv); len(got) != 0 {
		t.Errorf("usage errors made requests: %v", got)
	}
	if b := s.storeBytes(); b != nil {
		t.Errorf("usage errors wrote the store:\n%s", b)
	}

	// Flags after the host work.
	port := freePorts(t, 1)[0]
	r := s.run("login", host, "--flow", "code", "--port", strconv.Itoa(port), "--timeout", loginTimeout)
	mustSucceed(t, r)
	if srv.Count(pyauthserver.RouteDevice) != 0 || srv.Count(pyauthserver.CountTokenCode) != 1 {
		t.Errorf("login HOST --flow code did not use the code flow: %v", requestCounts(srv))
	}
	if q := srv.LastLoginQuery(); q.Get("redirect_uri") != "http://localhost:"+strconv.Itoa(port)+"/callback" {
		t.Errorf("login HOST --port %d: redirect_uri %q", port, q.Get("redirect_uri"))
	}
	if !srv.Valid(s.readStore()[storeKey(t, srv)].Token.AccessToken) {
		t.Errorf("no valid token stored")
	}
}

func TestTokenFile(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	path := filepath.Join(s.dir, "job", "tokens.json")
	s.env = []string{"OIDC_TOKEN_FILE=" + path}
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.run("login", srv.URL(), "--timeout", loginTimeout)
	mustSucceed(t, r)
	store := s.readStoreFile(path)
	e, ok := store[storeKey(t, srv)]
	if !ok || !srv.Valid(e.Token.AccessToken) {
		t.Fatalf("OIDC_TOKEN_FILE %s holds no valid token for %s", path, storeKey(t, srv))
	}
	if st, err := os.Stat(path); err != nil || unixModes(t) && st.Mode().Perm() != 0o600 {
		t.Errorf("OIDC_TOKEN_FILE mode: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.cache, "oidc-auth")); !os.IsNotExist(err) {
		t.Errorf("login with OIDC_TOKEN_FILE also wrote below XDG_CACHE_HOME (%v)", err)
	}
	r = s.run("token", srv.URL())
	mustSucceed(t, r)
	if r.stdout != e.Token.AccessToken+"\n" {
		t.Errorf("token with OIDC_TOKEN_FILE\n%v", r)
	}

	// Without the variable, the default store knows nothing of it.
	r = s.runEnv([]string{"OIDC_TOKEN_FILE="}, "token", srv.URL())
	onlyLine(t, r, 1)
}

// TestCustomRoutes logs in with every route given on the command line to a
// host without path, and checks that later refreshes use the same routes.
func TestCustomRoutes(t *testing.T) {
	t.Parallel()
	for _, flow := range []string{"device", "code"} {
		t.Run(flow, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
			s := newSandbox(t)
			host := storeKey(t, srv) // no path: the routes carry the prefix
			args := []string{
				"login", host, "--flow", flow, "--timeout", loginTimeout,
				"--device-route", "/api/app/auth/v2/device/",
				"--token-route", "api/app/auth/v2/token",
				"--login-route", "/api/app/auth/v2/login",
			}
			srv.PlanDevice(pyauthserver.DevicePlan{})
			r := s.run(append(args, portArgs(freePorts(t, 1))...)...)
			mustSucceed(t, r)
			first := s.readStore()[host]
			if !srv.Valid(first.Token.AccessToken) {
				t.Fatalf("no valid token stored for %s", host)
			}
			if flow == "code" && srv.Count(pyauthserver.CountTokenCode) != 1 {
				t.Errorf("requests %v, want a code exchange", requestCounts(srv))
			}

			srv.ExpireAccessTokens()
			r = s.run("token", host)
			mustSucceed(t, r)
			e := s.readStore()[host]
			if r.stdout != e.Token.AccessToken+"\n" || e.Token.AccessToken == first.Token.AccessToken || !srv.Valid(e.Token.AccessToken) {
				t.Errorf("token did not refresh through the stored token route\n%v", r)
			}
			if srv.Count(pyauthserver.CountTokenRefresh) != 1 {
				t.Errorf("requests %v, want one refresh", requestCounts(srv))
			}
		})
	}
}

// TestCLIHelpAndSuggestions runs the binary as a person who mistypes and
// asks for help: one line with the nearest command or flag for a typo,
// and each level's help on stdout.
func TestCLIHelpAndSuggestions(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lgoin", "https://auth.example.org"}, "unknown command \"lgoin\" (did you mean `oidc-auth login`?); see `oidc-auth --help`"},
		{[]string{"-v", "stauts"}, "(did you mean `oidc-auth status`?)"},
		{[]string{"setup", "gti", "https://git.example.org/"}, "(did you mean `oidc-auth setup git`?); see `oidc-auth setup --help`"},
		{[]string{"help", "logni"}, "(did you mean `oidc-auth login`?)"},
		{[]string{"login", "https://auth.example.org", "--froce"}, "unknown flag --froce (did you mean --force?); see `oidc-auth login --help`"},
		{[]string{"setup", "docker", "--hots", "https://auth.example.org", "registry.example.org"}, "unknown flag --hots (did you mean --host?)"},
		{[]string{"login", "https://auth.example.org", "--flow"}, "--flow needs a value; see `oidc-auth login --help`"},
	} {
		msg := onlyLine(t, s.run(tt.args...), 2)
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%q: %q lacks %q", tt.args, msg, tt.want)
		}
	}
	for _, tt := range []struct {
		args []string
		name string
	}{
		{[]string{"help"}, "oidc-auth"},
		{[]string{"help", "login"}, "oidc-auth login"},
		{[]string{"help", "setup"}, "oidc-auth setup"},
		{[]string{"setup", "help", "git"}, "oidc-auth setup git"},
		{[]string{"setup", "docker", "-h"}, "oidc-auth setup docker"},
		{[]string{"completion", "--help"}, "oidc-auth completion"},
	} {
		r := s.run(tt.args...)
		mustSucceed(t, r)
		if !strings.HasPrefix(r.stdout, "NAME:\n   "+tt.name+" - ") || !strings.Contains(r.stdout, "\nEXAMPLES:\n") || r.stderr != "" {
			t.Errorf("%q: not the help of %s with examples\n%v", tt.args, tt.name, r)
		}
		if strings.Contains(r.stdout, "(default: false)") {
			t.Errorf("%q: help says (default: false)\n%s", tt.args, r.stdout)
		}
	}
}

// completionCase is a command line typed up to the cursor, and words
// that completing it must offer (and must not).
type completionCase struct {
	words        []string // the last one is the word under the cursor
	want, reject []string
}

var completionCases = []completionCase{
	{[]string{"oidc-auth", "lo"}, []string{"login", "logout"}, []string{"token", "status"}},
	{[]string{"oidc-auth", ""}, []string{"login", "token", "status", "setup", "logout", "completion", "help"}, []string{"version"}},
	{[]string{"oidc-auth", "login", "--fo"}, []string{"--force"}, []string{"--flow", "--json"}},
	{[]string{"oidc-auth", "setup", ""}, []string{"git", "docker", "helm"}, []string{"login"}},
	{[]string{"oidc-auth", "-v", "setup", "do"}, []string{"docker"}, []string{"git"}},
	{[]string{"oidc-auth", "completion", ""}, []string{"bash", "zsh", "fish", "powershell"}, []string{"login"}},
	{[]string{"oidc-auth", "help", "lo"}, []string{"login", "logout"}, []string{"setup"}},
}

// completionEnv is the sandbox's environment with the binaries first on
// PATH, where completion scripts find oidc-auth.
func completionEnv(s *sandbox) []string {
	return s.environ("PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"))
}

// checkCompletion compares the words a shell offered (one a line, a tab
// and a description after it allowed) with the case.
func checkCompletion(t *testing.T, shell string, tc completionCase, out string) {
	t.Helper()
	offered := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if w, _, _ := strings.Cut(strings.TrimSpace(l), "\t"); w != "" {
			offered[w] = true
		}
	}
	for _, w := range tc.want {
		if !offered[w] {
			t.Errorf("%s: completing %q does not offer %q; offered %q", shell, tc.words, w, out)
		}
	}
	for _, w := range tc.reject {
		if offered[w] {
			t.Errorf("%s: completing %q offers %q; offered %q", shell, tc.words, w, out)
		}
	}
}

// TestCompletion loads each shell's completion script in that shell and
// completes command lines with it, through the real binary.
func TestCompletion(t *testing.T) {
	t.Parallel()
	shellQuote := func(words []string) string {
		q := make([]string, len(words))
		for i, w := range words {
			q[i] = "'" + w + "'"
		}
		return strings.Join(q, " ")
	}
	t.Run("bash", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("bash"); err != nil {
			skipWithout(t, "bash")
		}
		s := newSandbox(t)
		r, err := s.execute(runTimeout, s.dir, "", completionEnv(s), "bash", "--norc", "--noprofile", "-c", `source <(oidc-auth completion bash) && complete -p oidc-auth`)
		if err != nil || r.code != 0 || strings.TrimSpace(r.stdout) != "complete -o bashdefault -o default -F _oidc_auth_complete oidc-auth" {
			t.Fatalf("the bash script does not register a completion: %v\n%v", err, r)
		}
		for _, tc := range completionCases {
			script := fmt.Sprintf(`source <(oidc-auth completion bash) || exit 1
COMP_WORDS=(%s); COMP_CWORD=%d
_oidc_auth_complete
printf '%%s\n' "${COMPREPLY[@]}"`, shellQuote(tc.words), len(tc.words)-1)
			r, err := s.execute(runTimeout, s.dir, "", completionEnv(s), "bash", "--norc", "--noprofile", "-c", script)
			if err != nil || r.code != 0 {
				t.Fatalf("bash: %v\n%v", err, r)
			}
			checkCompletion(t, "bash", tc, r.stdout)
		}
	})
	t.Run("zsh", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("zsh"); err != nil {
			skipWithout(t, "zsh")
		}
		s := newSandbox(t)
		for _, tc := range completionCases {
			// compadd and _files only work inside zsh's completion
			// system; stand-ins print what the script hands them.
			script := fmt.Sprintf(`autoload -U compinit && compinit -u -d %s/zcompdump || exit 1
source <(oidc-auth completion zsh) || exit 1
[[ ${_comps[oidc-auth]} == _oidc_auth ]] || { print -u2 "not registered: ${_comps[oidc-auth]}"; exit 1 }
compadd() { [[ $1 == -a ]] && print -l -- ${(P)2} }
_files() { print FILES }
words=(%s); CURRENT=%d
_oidc_auth`, s.dir, shellQuote(tc.words), len(tc.words))
			r, err := s.execute(runTimeout, s.dir, "", completionEnv(s), "zsh", "-f", "-c", script)
			if err != nil || r.code != 0 {
				t.Fatalf("zsh: %v\n%v", err, r)
			}
			// zsh itself keeps the words that start with the one typed.
			var kept []string
			for _, w := range strings.Split(r.stdout, "\n") {
				if strings.HasPrefix(w, tc.words[len(tc.words)-1]) {
					kept = append(kept, w)
				}
			}
			checkCompletion(t, "zsh", tc, strings.Join(kept, "\n"))
		}
	})
	t.Run("fish", func(t *testing.T) {
		t.Parallel()
		if _, err := exec.LookPath("fish"); err != nil {
			skipWithout(t, "fish")
		}
		s := newSandbox(t)
		for _, tc := range completionCases {
			if tc.words[1] == "-v" {
				continue // fish's generated rules know commands, not flags before them
			}
			line := strings.Join(tc.words, " ")
			script := fmt.Sprintf("oidc-auth completion fish | source; or exit 1\ncomplete -C %s", "'"+line+"'")
			r, err := s.execute(runTimeout, s.dir, "", completionEnv(s), "fish", "--no-config", "-c", script)
			if err != nil || r.code != 0 {
				t.Fatalf("fish: %v\n%v", err, r)
			}
			checkCompletion(t, "fish", tc, r.stdout)
		}
	})
	t.Run("powershell", func(t *testing.T) {
		t.Parallel()
		pwsh, err := exec.LookPath("pwsh")
		if err != nil {
			// Debian has no PowerShell package; the script's structure is
			// checked by the unit tests.
			t.Skip("no pwsh on PATH")
		}
		s := newSandbox(t)
		for _, tc := range completionCases {
			line := strings.Join(tc.words, " ")
			script := fmt.Sprintf(`Invoke-Expression ((oidc-auth completion powershell) -join "`+"`n"+`")
(TabExpansion2 -inputScript '%s' -cursorColumn %d).CompletionMatches | ForEach-Object { $_.CompletionText }`, line, len(line))
			r, err := s.execute(runTimeout, s.dir, "", completionEnv(s), pwsh, "-NoProfile", "-NonInteractive", "-Command", script)
			if err != nil || r.code != 0 {
				t.Fatalf("pwsh: %v\n%v", err, r)
			}
			checkCompletion(t, "powershell", tc, r.stdout)
		}
	})
}

// buildInfoVersion is what the Go toolchain recorded in the binary at
// path (what `go version -m` shows): the main module's version and the VCS
// revision.
func buildInfoVersion(t *testing.T, path string) (mod, revision string, modified bool) {
	t.Helper()
	info, err := buildinfo.ReadFile(path)
	if err != nil {
		t.Fatalf("build info of %s: %v", path, err)
	}
	if info.Main.Path != "github.com/oidc-auth/oidc-auth" {
		t.Fatalf("build info of %s names the main module %q", path, info.Main.Path)
	}
	for _, setting := range info.Settings {
		switch {
		case setting.Key == "vcs.revision":
			revision = setting.Value
		case setting.Key == "vcs.modified" && setting.Value == "true":
			modified = true
		}
	}
	return info.Main.Version, revision, modified
}

// TestVersion checks --version of the three commands against what the Go
// toolchain recorded in oidc-auth-core, which answers for them, and that a
// release build's -X main.version wins.
func TestVersion(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	mod, revision, modified := buildInfoVersion(t, coreBin)
	want := "dev"
	switch {
	case mod != "(devel)":
		want = mod // go install …@v1.2.3, or a pseudo-version naming the commit
	case revision != "":
		want = "devel " + revision[:12]
		if modified {
			want += "+dirty"
		}
	}
	if _, err := exec.LookPath("git"); err != nil && os.Getenv(requireToolsEnv) == "" {
		t.Logf("no git on PATH: the recorded revision %q is not compared with the checkout's", revision)
	} else if revision != "" {
		head, err := exec.Command("git", "rev-parse", "HEAD").Output()
		if err != nil || strings.TrimSpace(string(head)) != revision {
			t.Errorf("the binary records revision %s, the checkout is at %s (%v)", revision, head, err)
		}
	}
	t.Logf("build info: module version %s, revision %q → %q", mod, revision, want)
	env := s.environ()
	for _, tt := range []struct {
		bin  string
		args []string
		line string
	}{
		{oidcAuthBin, []string{"--version"}, "oidc-auth " + want},
		{oidcAuthBin, []string{"version"}, "oidc-auth " + want},
		{gitCredentialBin, []string{"--version"}, "git-credential-oidc " + want},
		{dockerCredentialBin, []string{"--version"}, "docker-credential-oidc (github.com/oidc-auth/oidc-auth) " + want},
		{dockerCredentialBin, []string{"-v"}, "docker-credential-oidc (github.com/oidc-auth/oidc-auth) " + want},
		{dockerCredentialBin, []string{"version"}, "docker-credential-oidc (github.com/oidc-auth/oidc-auth) " + want},
	} {
		r, err := s.execute(runTimeout, s.dir, "", env, tt.bin, tt.args...)
		if err != nil || r.code != 0 || r.stdout != tt.line+"\n" || r.stderr != "" {
			t.Errorf("want stdout %q: %v\n%v", tt.line, err, r)
		}
	}

	// A release build names its version with -X main.version.
	goTool := lookTool(t, "go", "a release build is built here with go build -ldflags")
	dir := t.TempDir() + string(filepath.Separator)
	build := exec.Command(goTool, "build", "-ldflags=-X main.version=v1.2.3-test", "-o", dir, "github.com/oidc-auth/oidc-auth/cmd/...")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags: %v\n%s", err, out)
	}
	for bin, line := range map[string]string{
		"oidc-auth":              "oidc-auth v1.2.3-test",
		"git-credential-oidc":    "git-credential-oidc v1.2.3-test",
		"docker-credential-oidc": "docker-credential-oidc (github.com/oidc-auth/oidc-auth) v1.2.3-test",
		"oidc-auth-core":         "oidc-auth v1.2.3-test", // run by hand, it is oidc-auth
	} {
		r, err := s.execute(runTimeout, s.dir, "", env, dir+bin+exe, "--version")
		if err != nil || r.code != 0 || r.stdout != line+"\n" {
			t.Errorf("want %q: %v\n%v", line, err, r)
		}
	}
}

// TestCLIHelpersByHand runs the helpers as a person would, without an
// action: a short usage on stderr and exit 2, nothing on stdout, which is
// the protocol's. An action the helper does not know still ends quietly,
// as git's protocol wants.
func TestCLIHelpersByHand(t *testing.T) {
	t.Parallel()
	s := newSandbox(t)
	env := s.environ()
	for _, tt := range []struct {
		bin  string
		args []string
		code int
		want []string
	}{
		{gitCredentialBin, nil, 2, []string{"usage: git-credential-oidc [-v] get|store|erase", "oidc-auth setup git"}},
		{gitCredentialBin, []string{"-v"}, 2, []string{"usage: git-credential-oidc"}},
		{dockerCredentialBin, nil, 2, []string{"usage: docker-credential-oidc store|get|erase|list|version", "oidc-auth setup docker"}},
		{dockerCredentialBin, []string{"get", "extra"}, 2, []string{"usage: docker-credential-oidc"}},
		{dockerCredentialBin, []string{"frob"}, 2, []string{`unknown action "frob"`}},
		{gitCredentialBin, []string{"get", "--bogus"}, 2, []string{"git-credential-oidc: unknown flag --bogus; see `git-credential-oidc --help`"}},
		{gitCredentialBin, []string{"--bogus", "get"}, 2, []string{"unknown flag --bogus"}},
		{gitCredentialBin, []string{"store", "-vv"}, 0, nil},
		{gitCredentialBin, []string{"frob"}, 0, nil},
		{gitCredentialBin, []string{"-vv", "capability"}, 0, nil},
	} {
		r, err := s.execute(runTimeout, s.dir, "", env, tt.bin, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if r.code != tt.code || r.stdout != "" {
			t.Errorf("want exit %d and nothing on stdout\n%v", tt.code, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("stderr lacks %q\n%v", w, r)
			}
		}
		if len(tt.want) == 0 && r.stderr != "" {
			t.Errorf("want nothing on stderr\n%v", r)
		}
	}
	for _, bin := range []string{gitCredentialBin, dockerCredentialBin} {
		r, err := s.execute(runTimeout, s.dir, "", env, bin, "--help")
		if err != nil || r.code != 0 || !strings.Contains(r.stdout, "usage") && !strings.Contains(r.stdout, "USAGE") {
			t.Errorf("--help: %v\n%v", err, r)
		}
	}
}

// TestSetupNextSteps logs in, then sets git up without --host: the only
// stored login is the one, and the next step is the clone itself.
func TestSetupNextSteps(t *testing.T) {
	t.Parallel()
	gitserver.RequireGit(t) // setup git runs git config
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	gitURL := "https://git.example.org/team/"
	r := s.run("setup", "git", "git.example.org/team/")
	if msg := onlyLine(t, r, 2); !strings.Contains(msg, "setup git needs --host") {
		t.Errorf("setup without a login: %q", msg)
	}
	s.login(srv)
	r = s.run("setup", "git", "git.example.org/team/")
	mustSucceed(t, r)
	for _, w := range []string{
		"Using " + srv.URL() + ", the only stored login",
		gitURL + " answers with tokens of " + srv.URL(),
		"Next: try `git clone " + gitURL + "…`.",
	} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q\n%v", w, r)
		}
	}
	out, err := exec.Command("git", "config", "--file", filepath.Join(s.home, ".gitconfig"), "--get-all", "credential."+gitURL+".helper").Output()
	if err != nil || string(out) != "\noidc\n" {
		t.Errorf("credential.%s.helper = %q, %v", gitURL, out, err)
	}
	r = s.run("setup", "git", gitURL, "--unset")
	mustSucceed(t, r)
	r = s.run("setup", "git", gitURL, "--unset")
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "Nothing to undo: git does not ask oidc-auth for "+gitURL) {
		t.Errorf("second --unset\n%v", r)
	}
}

// TestVersionFromVCS builds oidc-auth (and oidc-auth-core) in a fresh repository holding this
// checkout's files, once at an untagged commit and once tagged v1.2.3, as
// a clone or `go install …@v1.2.3` would build it: --version names the
// commit, then the tag.
func TestVersionFromVCS(t *testing.T) {
	t.Parallel()
	gitserver.RequireGit(t)
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	src := strings.TrimSpace(string(root))
	list, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout (%v): TestVersion covers the build without VCS information", err)
	}
	dir := t.TempDir()
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working copy
		} else if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := newSandbox(t)
	gitEnv := append(s.environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org")
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = gitEnv
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "snapshot")
	rev := git("rev-parse", "HEAD")
	versionOf := func() string {
		t.Helper()
		// The command and the core it hands over to, which answers.
		binaries := t.TempDir()
		bin := filepath.Join(binaries, "oidc-auth"+exe)
		build := exec.Command("go", "build", "-buildvcs=true", "-o", binaries+string(filepath.Separator), "./cmd/oidc-auth", "./cmd/oidc-auth-core")
		build.Dir = dir
		build.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
		}
		r, err := s.execute(runTimeout, s.dir, "", s.environ(), bin, "--version")
		if err != nil || r.code != 0 {
			t.Fatalf("--version: %v\n%v", err, r)
		}
		return strings.TrimSpace(r.stdout)
	}
	if got := versionOf(); !regexp.MustCompile(`^oidc-auth v0\.0\.0-\d{14}-` + rev[:12] + `$`).MatchString(got) {
		t.Errorf("untagged commit %s: --version says %q, want a pseudo-version naming it", rev[:12], got)
	}
	git("tag", "v1.2.3")
	if got := versionOf(); got != "oidc-auth v1.2.3" {
		t.Errorf("tagged v1.2.3: --version says %q", got)
	}
}
