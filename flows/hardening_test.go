package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// recorder is the "other party" of a redirect: it records every request
// and answers a token, which a client that followed the redirect would
// take for the login.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.reqs = append(rec.reqs, r.Method+" "+r.URL.String()+" "+string(body))
		rec.mu.Unlock()
		issue(w, "evil-access")
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.reqs...)
}

// redirectTo answers every request with a redirect of the given status to
// target.
func redirectTo(status int, target string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target)
		w.WriteHeader(status)
	}
}

// TestNoRedirectWithSecret sends every request that carries a secret to a
// server that redirects it elsewhere, with every redirect status: the
// secret must not follow, nothing the other party answers may be taken for
// a token, and the error must name where the redirect pointed.
func TestNoRedirectWithSecret(t *testing.T) {
	t.Parallel()
	for _, status := range []int{301, 302, 303, 307, 308} {
		for _, route := range []string{"device start", "device poll", "refresh", "code exchange"} {
			t.Run(fmt.Sprintf("%d %s", status, route), func(t *testing.T) {
				t.Parallel()
				evil := newRecorder(t)
				target := evil.URL + "/steal?x=1"
				s := newFakeServer(t)
				s.device = deviceStart(1, 60)
				s.token = func(w http.ResponseWriter, r *http.Request, n int) { redirectTo(status, target)(w, r) }
				s.login = loginToCallback(t, nil)
				cfg := s.config()
				// A caller's client that follows redirects is tamed too.
				cfg.HTTPClient = &http.Client{}
				var err error
				switch route {
				case "device start":
					s.device = redirectTo(status, target)
					_, err = (&DeviceFlow{Config: cfg}).Run(context.Background())
				case "device poll":
					_, err = (&DeviceFlow{Config: cfg}).Run(context.Background())
				case "refresh":
					_, err = Refresh(context.Background(), cfg, &Token{AccessToken: "a", RefreshToken: "refresh-secret-1234"})
				case "code exchange":
					cfg.RedirectPorts = freePorts(t, 1)
					b := &followBrowser{}
					_, err = (&CodeFlow{Config: cfg, Browser: b.open}).Run(context.Background())
					b.wg.Wait()
				}
				var re *RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("err = %v, want a RedirectError", err)
				}
				if re.Status != status || !strings.Contains(err.Error(), evil.URL+"/steal") || strings.Contains(err.Error(), "x=1") {
					t.Errorf("err = %v; want status %d and the Location without its query", err, status)
				}
				if got := evil.requests(); len(got) != 0 {
					t.Errorf("the redirect was followed: %q", got)
				}
			})
		}
	}
}

// failingTransport fails the test when any request is sent.
type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("request sent to %s", r.URL)
	return nil, errors.New("no request expected")
}

// TestClearTextOnlyOnLoopback: plain http to a host that is not loopback
// is refused before any request, by every flow, unless allowed on purpose.
func TestClearTextOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"http://auth.example.invalid", "http://auth.example.invalid:8080/api/app", "http://10.0.0.1", "http://localhost.example.invalid", "HTTP://Auth.Example.Invalid"} {
		t.Run(host, func(t *testing.T) {
			t.Parallel()
			cfg := Config{Host: host, HTTPClient: &http.Client{Transport: failingTransport{t}}, Timeout: time.Second}
			checks := map[string]error{
				"Check":  cfg.Check(),
				"device": func() error { _, err := (&DeviceFlow{Config: cfg}).Run(context.Background()); return err }(),
				"code": func() error {
					_, err := (&CodeFlow{Config: cfg, Browser: func(string) error { return nil }}).Run(context.Background())
					return err
				}(),
				"refresh": func() error { _, err := Refresh(context.Background(), cfg, &Token{RefreshToken: "r"}); return err }(),
				"Authenticate": func() error {
					st := newMemStore()
					st.Put(context.Background(), host, stored("a", "r", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
					_, err := Authenticate(context.Background(), cfg, st, Options{Interaction: InteractNever})
					return err
				}(),
			}
			for name, err := range checks {
				var ce *ClearTextError
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), "--allow-http") || !strings.Contains(err.Error(), "allow_http = true") {
					t.Errorf("%s: err = %v, want a ClearTextError naming --allow-http and allow_http", name, err)
				}
			}
		})
	}
	t.Run("allowed on purpose", func(t *testing.T) {
		t.Parallel()
		if err := (Config{Host: "http://auth.example.invalid", AllowHTTP: true}).Check(); err != nil {
			t.Errorf("AllowHTTP: %v", err)
		}
	})
	for _, host := range []string{"http://127.0.0.1:8080", "http://127.1.2.3", "http://[::1]:9", "http://localhost:1/p", "http://LOCALHOST", "https://auth.example.invalid"} {
		if err := (Config{Host: host}).Check(); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
}

// TestServerErrorsMaskSecrets makes a server echo what it was sent, in
// every way servers do, and checks that no error carries it.
func TestServerErrorsMaskSecrets(t *testing.T) {
	t.Parallel()
	const refresh = "rt-3f9a0c1d7e5b2a4c6d8e0f1a3b5c7d9e"
	const access = "at-0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d"
	echoes := map[string]func(form url.Values) string{
		"raw":          func(f url.Values) string { return "invalid token in request: refresh-token=" + f.Get("refresh-token") },
		"url-encoded":  func(f url.Values) string { return "bad body " + f.Encode() },
		"prefix":       func(f url.Values) string { return "token " + f.Get("refresh-token")[:20] + "... unknown" },
		"suffix":       func(f url.Values) string { return "token ..." + f.Get("refresh-token")[12:] },
		"with escapes": func(f url.Values) string { v := f.Get("refresh-token"); return "bad " + v[:10] + "\x1b[0m" + v[10:] },
		"access token": func(f url.Values) string { return "the access token " + access + " is not it" },
	}
	shapes := map[string]func(w http.ResponseWriter, text string){
		"upstream": func(w http.ResponseWriter, text string) {
			b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": text})
			writeJSON(w, 400, map[string]string{"detail": "Upstream OIDC error: " + string(b)})
		},
		"rfc": func(w http.ResponseWriter, text string) {
			writeJSON(w, 500, map[string]string{"error": "server_error", "error_description": text})
		},
		"html": func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(500)
			fmt.Fprintf(w, "<html><title>%s</title></html>", text)
		},
		"text": func(w http.ResponseWriter, text string) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(502)
			fmt.Fprint(w, text)
		},
	}
	for en, echo := range echoes {
		for sn, shape := range shapes {
			t.Run(en+" "+sn, func(t *testing.T) {
				t.Parallel()
				s := newFakeServer(t)
				s.token = func(w http.ResponseWriter, r *http.Request, n int) { shape(w, echo(r.PostForm)) }
				_, err := Refresh(context.Background(), s.config(), &Token{AccessToken: access, RefreshToken: refresh})
				if err == nil {
					t.Fatal("refresh succeeded")
				}
				msg := err.Error()
				for _, secret := range []string{refresh, access} {
					for i := 0; i+minSecretRun+2 <= len(secret); i++ {
						if piece := secret[i : i+minSecretRun+2]; strings.Contains(msg, piece) {
							t.Fatalf("error carries part of a secret (%q): %s", piece, msg)
						}
					}
				}
				if !isTerminalSafe(msg) || len(msg) > 600 {
					t.Errorf("error is not one short safe line: %q", msg)
				}
			})
		}
	}
}

func TestTerminalSafe(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain text":                  "plain text",
		"\x1b]0;owned\x07ABCD\x1b[2J": "]0;ownedABCD[2J",
		"a\u009b31mb":                 "a31mb",
		"left\u202eright":             "leftright",
		"iso\u2066late\u2069":         "isolate",
		"tab\tnew\nline\rcr":          "tab new line cr",
		"bell\x07back\bdel\x7f":       "bellbackdel",
		"bad \xff utf8":               "bad  utf8",
		"ünïcödé ok, 日本":              "ünïcödé ok, 日本",
	} {
		if got := TerminalSafe(in); got != want {
			t.Errorf("TerminalSafe(%q) = %q, want %q", in, got, want)
		}
		if !isTerminalSafe(TerminalSafe(in)) {
			t.Errorf("TerminalSafe(%q) is not safe", in)
		}
	}
}

func FuzzTerminalSafe(f *testing.F) {
	f.Add("\x1b[31mred\u009b\u202e")
	f.Fuzz(func(t *testing.T, s string) {
		out := TerminalSafe(s)
		if !isTerminalSafe(out) {
			t.Fatalf("TerminalSafe(%q) = %q is not safe", s, out)
		}
		if isTerminalSafe(s) && out != s {
			t.Fatalf("a safe string changed: %q → %q", s, out)
		}
	})
}

// TestDeviceStartRefusesWhatDrivesATerminal: a device start whose user
// code or URLs carry escapes or are not http(s) is refused, and nothing of
// it is shown.
func TestDeviceStartRefusesWhatDrivesATerminal(t *testing.T) {
	t.Parallel()
	good := map[string]any{"device_code": "dev-123", "user_code": "ABCD-EFGH", "verification_uri": "https://idp/device", "expires_in": 60, "interval": 1}
	for name, change := range map[string]map[string]any{
		"escape in user_code":         {"user_code": "\x1b]0;owned\x07ABCD\x1b[2J"},
		"C1 CSI in user_code":         {"user_code": "AB\u009b2JCD"},
		"bidi override in user_code":  {"user_code": "ABCD\u202eHGFE"},
		"escape in verification_uri":  {"verification_uri": "https://127.0.0.1/device\x1b[31m"},
		"escape in the complete URI":  {"verification_uri_complete": "https://idp/device?c=1\x1b[2J"},
		"javascript: URI":             {"verification_uri": "javascript:alert(1)"},
		"file: URI":                   {"verification_uri": "file:///etc/passwd"},
		"URI without host":            {"verification_uri": "https:///device"},
		"empty user_code after trims": {"user_code": "   "},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			answer := map[string]any{}
			for k, v := range good {
				answer[k] = v
			}
			for k, v := range change {
				answer[k] = v
			}
			s := newFakeServer(t)
			s.device = func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, answer) }
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { t.Error("polled a refused device login") }
			var out strings.Builder
			_, err := (&DeviceFlow{Config: s.config(), Out: &out}).Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), "refusing to show it") || !isTerminalSafe(err.Error()) {
				t.Fatalf("err = %q", err)
			}
			if out.Len() != 0 {
				t.Errorf("showed %q", out.String())
			}
		})
	}
}

// TestDeviceNumbersAreBounded: a server cannot make the client poll in a
// tight loop, sleep for hours, or wait past an hour.
func TestDeviceNumbersAreBounded(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name            string
		interval        any
		expiresIn       any
		slowDowns       int
		firstWait, last time.Duration
		total           time.Duration
	}{
		{"huge interval", 1e12, 600, 0, maxInterval, maxInterval, 600 * time.Second},
		{"negative interval", -5, 10, 0, time.Second, time.Second, 10 * time.Second},
		{"fractional interval", 0.001, 5, 0, time.Second, time.Second, 5 * time.Second},
		{"huge expiry", 30, 1e12, 0, 30 * time.Second, 30 * time.Second, time.Hour},
		{"overflowing expiry", 30, 9.3e18, 0, 30 * time.Second, 30 * time.Second, time.Hour},
		{"many slow_downs", 50, 600, 20, 55 * time.Second, maxInterval, 600 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.device = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, map[string]any{"device_code": "dev-123", "user_code": "ABCD-EFGH", "verification_uri": "https://idp/device", "expires_in": tt.expiresIn, "interval": tt.interval})
			}
			s.token = func(w http.ResponseWriter, r *http.Request, n int) {
				if n <= tt.slowDowns {
					upstream(w, "slow_down")
					return
				}
				upstream(w, "authorization_pending")
			}
			clk := &fakeClock{t: time.Unix(1_767_225_000, 0)}
			cfg := s.config()
			cfg.Timeout = 100 * time.Hour
			_, err := (&DeviceFlow{Config: cfg, wait: clk.wait, now: clk.now}).Run(context.Background())
			if !errors.Is(err, ErrExpiredToken) {
				t.Fatalf("err = %v, want the device code to expire", err)
			}
			var total time.Duration
			for _, w := range clk.waits {
				if w < minInterval && w != clk.waits[len(clk.waits)-1] || w > maxInterval {
					t.Fatalf("wait %v out of bounds: %v", w, clk.waits)
				}
				total += w
			}
			if clk.waits[0] != tt.firstWait || (len(clk.waits) > 1 && clk.waits[len(clk.waits)-2] != tt.last) {
				t.Errorf("waits %v, want first %v and %v at the end", clk.waits[:min(5, len(clk.waits))], tt.firstWait, tt.last)
			}
			if total != tt.total {
				t.Errorf("waited %v in all, want %v", total, tt.total)
			}
		})
	}
}

func TestParseTokenBoundsLifetimes(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_767_225_000, 0)
	year := now.Add(maxLifetime).Unix()
	for _, tt := range []struct {
		name          string
		body          string
		expires, rexp int64
		valid         bool
	}{
		{"in the past", `{"access_token":"a","refresh_token":"r","expires":1000,"refresh_expires":2000}`, 1000, 2000, false},
		{"negative", `{"access_token":"a","expires":-5}`, 0, 0, false},
		{"50 years ahead", fmt.Sprintf(`{"access_token":"a","refresh_token":"r","expires":%d,"refresh_expires":%d}`, now.Unix()+50*365*86400, now.Unix()+51*365*86400), year, year, true},
		{"huge expires_in", `{"access_token":"a","refresh_token":"r","expires_in":1e18,"refresh_expires_in":9.2e18}`, year, year, true},
		{"huge absolute", `{"access_token":"a","expires":1e300}`, year, 0, true},
		{"string numbers", `{"access_token":"a","expires_in":"1e30"}`, year, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := ParseToken([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if tok.Expires != tt.expires || tok.RefreshExpires != tt.rexp || tok.Valid(now) != tt.valid {
				t.Errorf("expires %d refresh %d valid %v, want %d %d %v", tok.Expires, tok.RefreshExpires, tok.Valid(now), tt.expires, tt.rexp, tt.valid)
			}
		})
	}
}

// TestLoginFallsBackOnlyWithoutDeviceFlow: a 404 is a wrong URL and ends
// the login with one message; only the answers that say "no device flow"
// switch to the browser.
func TestLoginFallsBackOnlyWithoutDeviceFlow(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		status   int
		detail   string
		fallback bool
	}{
		{"404", 404, "Not Found", false},
		{"503", 503, "Service Unavailable", false},
		{"502 upstream", 502, "Failed to contact OIDC endpoint: timeout", false},
		{"502 no device endpoint", 502, "OIDC endpoint 'device_authorization_endpoint' not found in discovery.", true},
		{"501", 501, "Not Implemented", true},
		{"405", 405, "Method Not Allowed", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.device = func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, tt.status, map[string]string{"detail": tt.detail})
			}
			var logins atomic.Int32
			s.login = func(w http.ResponseWriter, r *http.Request) {
				logins.Add(1)
				loginToCallback(t, nil)(w, r)
			}
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "code-tok") }
			cfg := s.config()
			cfg.RedirectPorts = freePorts(t, 1)
			b := &followBrowser{}
			tok, err := Login(context.Background(), cfg, Options{Out: io.Discard, Browser: b.open})
			b.wg.Wait()
			if tt.fallback {
				if err != nil || tok.AccessToken != "code-tok" {
					t.Fatalf("got %v, %v; want the browser login", tok, err)
				}
				return
			}
			if err == nil || logins.Load() != 0 || len(b.opened) != 0 {
				t.Fatalf("err = %v, logins %d, browser %v; want an error and no browser", err, logins.Load(), b.opened)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(tt.status)) || !strings.Contains(err.Error(), s.URL) {
				t.Errorf("err = %v; want the status and the URL", err)
			}
		})
	}
}

// dropReused is a server that answers the first request of each
// connection and closes the connection, unanswered, when a second request
// arrives on it: what a client sees when it reuses a pooled connection just
// as uvicorn closes it for being idle.
type dropReused struct {
	*httptest.Server
	dropped atomic.Int32
}

type connKey struct{}

func newDropReused(t *testing.T, h http.HandlerFunc) *dropReused {
	t.Helper()
	d := &dropReused{}
	d.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.Context().Value(connKey{}).(*atomic.Int32)
		if n.Add(1) > 1 {
			d.dropped.Add(1)
			io.Copy(io.Discard, r.Body)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			}
			return
		}
		h(w, r)
	}))
	d.Config.ConnContext = func(ctx context.Context, _ net.Conn) context.Context {
		return context.WithValue(ctx, connKey{}, new(atomic.Int32))
	}
	d.Start()
	t.Cleanup(d.Close)
	return d
}

// TestRetryOnConnectionClosedByServer: requests that find their pooled
// connection closed under them are sent again on a fresh one, so a device
// login and repeated refreshes survive a server that closes idle
// connections.
func TestRetryOnConnectionClosedByServer(t *testing.T) {
	t.Parallel()
	var polls atomic.Int32
	d := newDropReused(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/device"):
			writeJSON(w, 200, map[string]any{"device_code": "dev-123", "user_code": "ABCD-EFGH", "verification_uri": "https://idp/device", "expires_in": 60, "interval": 1})
		case polls.Add(1) < 3:
			upstream(w, "authorization_pending")
		default:
			issue(w, "tok")
		}
	})
	cfg := Config{Host: d.URL, Timeout: 20 * time.Second}
	clk := &fakeClock{t: time.Unix(1_767_225_000, 0)}
	tok, err := (&DeviceFlow{Config: cfg, wait: clk.wait, now: clk.now}).Run(context.Background())
	if err != nil {
		t.Fatalf("device login: %v", err)
	}
	if tok.AccessToken != "tok" {
		t.Errorf("token %q", tok.AccessToken)
	}
	for i := range 3 {
		if _, err := Refresh(context.Background(), cfg, &Token{RefreshToken: "r"}); err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
	}
	if d.dropped.Load() == 0 {
		t.Fatal("the server never dropped a reused connection: the test proves nothing")
	}
}

// TestAuthenticateKeepsLoginsApart: the login of one path prefix is not
// handed out, nor refreshed, for another prefix on the same host.
func TestAuthenticateKeepsLoginsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st := newMemStore()
	rec := stored("app-access", "app-refresh", time.Now().Add(time.Hour), time.Now().Add(2*time.Hour))
	rec.Server = &Server{Host: "https://h.example.invalid/api/app"}
	st.Put(ctx, "https://h.example.invalid", rec)
	cfg := Config{Host: "https://h.example.invalid/other-app", HTTPClient: &http.Client{Transport: failingTransport{t}}}
	_, err := Authenticate(ctx, cfg, st, Options{Interaction: InteractNever})
	var lre *LoginRequiredError
	if !errors.As(err, &lre) || !strings.Contains(err.Error(), "/api/app") {
		t.Fatalf("err = %v, want a login required naming the other prefix", err)
	}
	if _, ok := Cached(rec, cfg.Host, time.Now()); ok {
		t.Error("Cached handed out another prefix's token")
	}
	if c, r := StoredConfig(ctx, st, cfg.Host); r != nil || c.Host != cfg.Host {
		t.Errorf("StoredConfig = %v, %v; want the asked host and no record", c, r)
	}
	for _, same := range []string{"https://h.example.invalid/api/app", "https://H.example.invalid:443/api/app/", "h.example.invalid/api/app"} {
		if _, ok := Cached(rec, same, time.Now()); !ok {
			t.Errorf("Cached refused %s", same)
		}
	}
	if tok, err := Authenticate(ctx, Config{Host: "https://h.example.invalid/api/app"}, st, Options{Interaction: InteractNever}); err != nil || tok.AccessToken != "app-access" {
		t.Errorf("own prefix: %v, %v", tok, err)
	}
}

// failingPutStore is a store whose writes fail, like a full disk.
type failingPutStore struct{ *memStore }

func (f failingPutStore) Put(context.Context, string, *Record) error {
	return errors.New("keyring: cannot save the token to /x/token-store.json: no space left on device")
}

// TestAuthenticateUsesTokenItCannotSave: a refreshed token that cannot be
// stored is still handed out, and the person is told the login is lost.
func TestAuthenticateUsesTokenItCannotSave(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "new-access") }
	st := failingPutStore{newMemStore()}
	st.memStore.Put(context.Background(), s.URL, stored("old", "old-refresh", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	var out strings.Builder
	tok, err := Authenticate(context.Background(), s.config(), st, Options{Interaction: InteractNever, Out: &out})
	if err != nil || tok.AccessToken != "new-access" {
		t.Fatalf("got %v, %v; want the new token", tok, err)
	}
	if msg := out.String(); !strings.Contains(msg, "could not be saved") || !strings.Contains(msg, "no space left on device") || !strings.Contains(msg, "oidc-auth login") {
		t.Errorf("warning %q", msg)
	}
	if rec, _ := st.Get(context.Background(), s.URL); rec.Token.AccessToken != "old" {
		t.Errorf("store changed: %v", rec.Token)
	}
}

// blockedStore is a store whose lock another process holds.
type blockedStore struct{ *memStore }

func (blockedStore) Lock(ctx context.Context, key string) (func(), error) {
	<-ctx.Done()
	return nil, fmt.Errorf("keyring: lock file /x/ab.lock: process 4242 (git-credential-oidc) has held it for 2s: %w", ctx.Err())
}

func (blockedStore) LockHolder(string) (LockHolder, bool) {
	return LockHolder{PID: 4242, Command: "git-credential-oidc"}, true
}

// TestAuthenticateNamesLockHolder: a waiter says who holds the lock after
// two seconds, and gives up at its timeout.
func TestAuthenticateNamesLockHolder(t *testing.T) {
	t.Parallel()
	st := blockedStore{newMemStore()}
	st.Put(context.Background(), "https://h.example.invalid", stored("a", "r", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	var out syncBuffer
	start := time.Now()
	_, err := Authenticate(context.Background(), Config{Host: "https://h.example.invalid"}, st, Options{Interaction: InteractNever, Out: &out, LockTimeout: 2500 * time.Millisecond})
	if took := time.Since(start); err == nil || took > 10*time.Second {
		t.Fatalf("err = %v after %v", err, took)
	}
	if !strings.Contains(err.Error(), LockTimeoutEnv) {
		t.Errorf("err = %v; want the setting that waits longer", err)
	}
	if msg := out.String(); !strings.Contains(msg, "process 4242 (git-credential-oidc)") || !strings.Contains(msg, "giving up after 3s") {
		t.Errorf("notice %q", msg)
	}
}

// syncBuffer is a strings.Builder safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRefreshFinishesWhenCancelled: once a refresh is sent, cancelling
// its context (a signal) does not abandon the answer, which holds the only
// valid refresh token now.
func TestRefreshFinishesWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	s := newFakeServer(t)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) {
		cancel() // the signal arrives while the server works
		time.Sleep(200 * time.Millisecond)
		issue(w, "rotated")
	}
	st := newMemStore()
	st.Put(ctx, s.URL, stored("old", "old-refresh", time.Now().Add(-time.Hour), time.Now().Add(time.Hour)))
	tok, err := Authenticate(ctx, s.config(), st, Options{Interaction: InteractNever})
	if err != nil || tok.AccessToken != "rotated" {
		t.Fatalf("got %v, %v", tok, err)
	}
	if rec, _ := st.Get(context.Background(), s.URL); rec.Token.RefreshToken != "r-rotated" {
		t.Errorf("stored %v, want the rotated token", rec.Token)
	}
	// Not yet sent: a cancelled refresh sends nothing.
	if _, err := Refresh(ctx, s.config(), &Token{RefreshToken: "x"}); !errors.Is(err, context.Canceled) || len(s.tokenForms()) != 1 {
		t.Errorf("refresh after cancel: %v, %d requests", err, len(s.tokenForms()))
	}
}

// TestLoginWaitsForLockAsLongAsItsTimeout: a login the person asked for
// waits for another process's lock as long as the login's own timeout,
// not the helpers' 30 s.
func TestLoginWaitsForLockAsLongAsItsTimeout(t *testing.T) {
	t.Parallel()
	st := blockedStore{newMemStore()}
	start := time.Now()
	_, err := Authenticate(context.Background(), Config{Host: "https://h.example.invalid", Timeout: 2500 * time.Millisecond}, st,
		Options{Interaction: InteractAlways, Out: io.Discard})
	took := time.Since(start)
	if err == nil || took < 2*time.Second || took > 10*time.Second {
		t.Fatalf("err = %v after %v; want a failure after the 2.5 s login timeout", err, took)
	}
}
