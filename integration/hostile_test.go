package integration

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/hostile"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// hostileSandbox is a sandbox that already holds the login of a
// well-behaved server, so that a test can check that nothing a hostile
// server does changes the store.
func hostileSandbox(t *testing.T) (*sandbox, []byte) {
	t.Helper()
	s := newSandbox(t)
	s.login(startServer(t, pyauthserver.Options{}))
	return s, s.storeBytes()
}

// unchanged fails the test when the store is not byte for byte before.
func (s *sandbox) unchanged(before []byte) {
	s.t.Helper()
	if got := s.storeBytes(); !bytes.Equal(got, before) {
		s.t.Errorf("the store changed:\n%s\nwant:\n%s", got, before)
	}
}

// hostileLogin is a sandbox logged in to a hostile server that behaves
// well until a test sets its mode; with opts.AccessTTL under a minute
// every later token request refreshes.
func hostileLogin(t *testing.T, opts pyauthserver.Options) (*sandbox, *hostile.Server) {
	t.Helper()
	srv := hostile.Start(t, hostile.WellBehaved, opts)
	s := newSandbox(t)
	srv.Py().PlanDevice(pyauthserver.DevicePlan{})
	mustSucceed(t, s.run("login", "--flow", "device", "--timeout", "10s", srv.URL()))
	return s, srv
}

// learnSent teaches the sandbox every value the client sent to srv, so
// that its cleanup fails the test if one reached stderr.
func (s *sandbox) learnSent(srv *hostile.Server) {
	for _, form := range srv.Sent() {
		for _, vs := range form {
			s.learn(vs...)
		}
	}
}

// TestHostileRedirects: a server that redirects a request carrying a
// secret gets an error naming where it pointed, the secret never reaches
// the other party, and nothing the other party would answer is stored.
func TestHostileRedirects(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode hostile.Mode
		tls  bool
	}{
		{hostile.RedirectToken307, false}, {hostile.RedirectToken308, false}, {hostile.RedirectToken302, false},
		{hostile.RedirectDevice307, false}, {hostile.RedirectToken307, true}, {hostile.RedirectToken308, true},
	} {
		name := string(tt.mode)
		if tt.tls {
			name += " from https to http"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var srv *hostile.Server
			var extra []string
			if tt.tls {
				if runtime.GOOS == "windows" {
					t.Skip("Go on Windows verifies certificates with the system's store and ignores SSL_CERT_FILE, so the test's CA cannot be handed to oidc-auth")
				}
				srv = hostile.StartTLS(t, tt.mode, pyauthserver.Options{})
				ca := filepath.Join(t.TempDir(), "ca.pem")
				if err := os.WriteFile(ca, srv.CertPEM(), 0o600); err != nil {
					t.Fatal(err)
				}
				extra = []string{"SSL_CERT_FILE=" + ca}
			} else {
				srv = hostile.Start(t, tt.mode, pyauthserver.Options{})
			}
			s, before := hostileSandbox(t)
			r := s.runEnv(extra, "login", "--flow", "device", "--timeout", "10s", srv.URL())
			s.learnSent(srv)
			msg := failureLine(t, r, 1)
			steal := strings.SplitN(srv.StealURL(), "?", 2)[0]
			if !strings.Contains(msg, "redirect to "+steal) || strings.Contains(msg, "x=1") || !strings.Contains(msg, "check the server URL") {
				t.Errorf("error line %q does not name the redirect target %s (without its query)", msg, steal)
			}
			if got := srv.Evil().Requests(); len(got) != 0 {
				t.Errorf("the other party got %d requests: %+v", len(got), got)
			}
			s.unchanged(before)
		})
	}

	// The same for a refresh, from oidc-auth token and from git's helper.
	for _, mode := range []hostile.Mode{hostile.RedirectToken307, hostile.RedirectToken302} {
		t.Run(string(mode)+" on refresh", func(t *testing.T) {
			t.Parallel()
			s, srv := hostileLogin(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
			s.readStore()
			before := s.storeBytes()
			srv.SetMode(mode)
			r := s.run("token", srv.URL())
			msg := failureLine(t, r, 1)
			if !strings.Contains(msg, "redirect to") {
				t.Errorf("error line %q", msg)
			}
			u, _ := url.Parse(srv.URL())
			g, err := s.execute(runTimeout, s.dir, "protocol=http\nhost="+u.Host+"\npath="+strings.TrimPrefix(u.Path, "/")+"\n\n", s.environ(), gitCredentialBin, "get")
			if err != nil {
				t.Fatal(err)
			}
			if g.stdout != "" || !strings.Contains(g.stderr, "redirect to") {
				t.Errorf("git helper answered %q, stderr %q", g.stdout, g.stderr)
			}
			if got := srv.Evil().Requests(); len(got) != 0 {
				t.Errorf("the other party got %d requests", len(got))
			}
			s.unchanged(before)
		})
	}
}

// TestClearTextRefused: plain http to a host that is not loopback is
// refused before any request, for a login, a token and the helpers, with
// the way to allow it on purpose. The hosts are in .invalid, so a broken
// check would find no server rather than reach one.
func TestClearTextRefused(t *testing.T) {
	t.Parallel()
	const host = "http://auth.example.invalid/api/app"
	s := newSandbox(t)
	for _, args := range [][]string{
		{"login", host},
		{"login", "--flow", "code", host},
		{"token", host},
	} {
		r := s.run(args...)
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, "clear text") || !strings.Contains(msg, "--allow-http") || !strings.Contains(msg, "allow_http = true") {
			t.Errorf("%v: error line %q does not say how to allow it", args, msg)
		}
		checkQuick(t, s, r, 2*time.Second)
	}
	if urls := s.browserURLs(); len(urls) != 0 {
		t.Errorf("browser opened %q", urls)
	}
	// A config entry that would refresh over clear text is an error in
	// the config, with its line.
	cfg := filepath.Join(s.config, "oidc-auth", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfg), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte("[[server]]\nmatch = \"https://git.example.invalid/\"\nhost = \""+host+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := s.execute(runTimeout, s.dir, "protocol=https\nhost=git.example.invalid\n\n", s.environ(), gitCredentialBin, "get")
	if err != nil {
		t.Fatal(err)
	}
	if g.stdout != "" || !strings.Contains(g.stderr, "allow_http = true") || !strings.Contains(g.stderr, "config.toml") {
		t.Errorf("git helper: stdout %q stderr %q", g.stdout, g.stderr)
	}
}

// TestEchoedSecretsMasked: servers that quote the request in their errors
// never get a secret onto the person's screen.
func TestEchoedSecretsMasked(t *testing.T) {
	t.Parallel()
	for _, mode := range []hostile.Mode{hostile.EchoSecrets, hostile.EchoSecretsRFC, hostile.EchoSecretsHTML} {
		t.Run(string(mode)+" device poll", func(t *testing.T) {
			t.Parallel()
			srv := hostile.Start(t, mode, pyauthserver.Options{})
			s, before := hostileSandbox(t)
			r := s.run("login", "--flow", "device", "--timeout", "10s", srv.URL())
			failureLine(t, r, 1)
			sent := srv.SentTo(pyauthserver.RouteToken)
			if len(sent) == 0 {
				t.Fatal("no poll was sent: the test proves nothing")
			}
			s.learnSent(srv)
			for _, form := range sent {
				code := form.Get("device-code")
				for _, piece := range []string{code, hostile.First20(code), url.QueryEscape(code)} {
					if strings.Contains(r.stderr, piece) {
						t.Errorf("stderr shows the device code (%q):\n%s", piece, r.stderr)
					}
				}
			}
			s.unchanged(before)
		})
		t.Run(string(mode)+" refresh", func(t *testing.T) {
			t.Parallel()
			s, srv := hostileLogin(t, pyauthserver.Options{AccessTTL: 30 * time.Second})
			e := s.readStore()[keyOf(t, srv.URL())]
			srv.SetMode(mode)
			r := s.run("token", srv.URL())
			msg := failureLine(t, r, 1)
			for _, piece := range []string{e.Token.RefreshToken, hostile.First20(e.Token.RefreshToken), e.Token.AccessToken} {
				if strings.Contains(r.stderr, piece) {
					t.Errorf("stderr shows a token (%q): %s", piece, msg)
				}
			}
			// A 400 means "log in again" and quotes nothing; the 500 page is
			// quoted, masked.
			if want := map[bool]string{true: "[redacted]", false: "no longer accepts the stored login"}[mode == hostile.EchoSecretsHTML]; !strings.Contains(msg, want) {
				t.Errorf("error line %q does not say %q", msg, want)
			}
		})
	}
}

// controlRE matches what must never reach a terminal from a server: C0
// controls but newline, DEL, C1 controls and the bidi formatting
// characters.
var controlRE = regexp.MustCompile("[\x00-\x09\x0b-\x1f\x7f\u0080-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]")

// TestTerminalInjection: nothing a server sends may drive the terminal:
// escapes are refused where a person would act on them and stripped from
// every quote.
func TestTerminalInjection(t *testing.T) {
	t.Parallel()
	for _, mode := range []hostile.Mode{
		hostile.EscapeUserCode, hostile.EscapeVerificationURI, hostile.EscapeVerificationURIComplete,
		hostile.NonHTTPVerificationURI, hostile.EscapeErrorDescription, hostile.EscapeHTMLTitle,
	} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			srv := hostile.Start(t, mode, pyauthserver.Options{})
			s, before := hostileSandbox(t)
			r := s.run("login", "--flow", "device", "--timeout", "10s", srv.URL())
			s.learnSent(srv)
			msg := failureLine(t, r, 1)
			if loc := controlRE.FindStringIndex(r.stderr); loc != nil {
				t.Errorf("stderr carries a control character at %d: %q", loc[0], r.stderr)
			}
			for _, bad := range []string{"javascript:", "file://", "/phish"} {
				if strings.Contains(r.stderr, bad) {
					t.Errorf("stderr shows %q: %q", bad, r.stderr)
				}
			}
			if mode != hostile.EscapeErrorDescription && mode != hostile.EscapeHTMLTitle && !strings.Contains(msg, "refusing to show it") {
				t.Errorf("error line %q does not refuse the device start", msg)
			}
			s.unchanged(before)
		})
	}
}

// TestServerNumbersBounded: absurd intervals and lifetimes neither hang
// a login nor make a token look good for decades; a token that is already
// expired is not called valid.
func TestServerNumbersBounded(t *testing.T) {
	t.Parallel()
	yearAhead := time.Now().Add(366 * 24 * time.Hour).Unix()
	for _, tt := range []struct {
		mode  hostile.Mode
		valid bool
	}{
		{hostile.HugeInterval, true}, {hostile.NegativeInterval, true}, {hostile.HugeDeviceExpiry, true},
		{hostile.TokenExpiresFarFuture, true}, {hostile.TokenHugeExpiresIn, true}, {hostile.TokenExpiresInPast, false},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			srv := hostile.Start(t, tt.mode, pyauthserver.Options{})
			s := newSandbox(t)
			r := s.run("login", "--flow", "device", "--timeout", "20s", srv.URL())
			mustSucceed(t, r)
			if r.elapsed > 15*time.Second {
				t.Errorf("the login took %v", r.elapsed)
			}
			e := s.readStore()[keyOf(t, srv.URL())]
			exp, rexp := unixNumber(t, "expires", e.Token.Expires), int64(0)
			if e.Token.RefreshExpires != "" {
				rexp = unixNumber(t, "refresh_expires", e.Token.RefreshExpires)
			}
			if exp > yearAhead || rexp > yearAhead {
				t.Errorf("stored expires %d, refresh_expires %d: more than a year ahead", exp, rexp)
			}
			if says := strings.Contains(r.stderr, "valid until"); says != tt.valid {
				t.Errorf("login says valid=%v, want %v:\n%s", says, tt.valid, r.stderr)
			}
		})
	}
}

// TestDeviceRouteAnswers: a 404 is a wrong URL, said at once, with no
// browser; only the answers that say "no device flow" open the browser.
func TestDeviceRouteAnswers(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		mode     hostile.Mode
		fallback bool
		want     string
	}{
		{hostile.Device404JSON, false, "check the server URL and its path prefix"},
		{hostile.Device404HTML, false, "check the server URL and its path prefix"},
		{hostile.Device502Other, false, "Failed to contact OIDC endpoint"},
		{hostile.DeviceNoDeviceFlow502, true, ""},
		{hostile.Device501, true, ""},
		{hostile.Device405, true, ""},
	} {
		t.Run(string(tt.mode), func(t *testing.T) {
			t.Parallel()
			srv := hostile.Start(t, tt.mode, pyauthserver.Options{})
			s := newSandbox(t)
			r := s.run(append([]string{"login", "--timeout", "20s", srv.URL()}, portArgs(freePorts(t, 1))...)...)
			if tt.fallback {
				mustSucceed(t, r)
				if len(s.browserURLs()) != 1 || !strings.Contains(r.stderr, "using the browser login instead") {
					t.Errorf("no browser login:\n%v", r)
				}
				return
			}
			msg := onlyLine(t, r, 1)
			if !strings.Contains(msg, tt.want) || !strings.Contains(msg, srv.URL()) {
				t.Errorf("error line %q does not say %q and name the URL", msg, tt.want)
			}
			checkQuick(t, s, r, 2*time.Second)
			if urls := s.browserURLs(); len(urls) != 0 {
				t.Errorf("browser opened %q", urls)
			}
		})
	}
}

// TestKeepAliveClosedByServer: device logins survive a server that drops
// requests arriving on a reused connection, and twenty logins at once
// survive a server that closes idle connections just when the next poll
// is due (uvicorn's 5 s against a 5 s interval, here 1 s against 1 s).
func TestKeepAliveClosedByServer(t *testing.T) {
	t.Parallel()
	t.Run("dropped reused connection", func(t *testing.T) {
		t.Parallel()
		srv := hostile.Start(t, hostile.DropReusedConnection, pyauthserver.Options{})
		s := newSandbox(t)
		mustSucceed(t, s.run("login", "--flow", "device", "--timeout", "20s", srv.URL()))
		if srv.Dropped() == 0 {
			t.Error("no connection was dropped: the test proves nothing")
		}
	})
	t.Run("idle timeout equal to the interval", func(t *testing.T) {
		t.Parallel()
		srv := hostile.Start(t, hostile.IdleTimeout, pyauthserver.Options{})
		const n = 20
		var wg sync.WaitGroup
		results := make([]result, n)
		for i := range n {
			srv.Py().PlanDevice(pyauthserver.DevicePlan{Pending: 2})
			s := newSandbox(t)
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.run("login", "--flow", "device", "--timeout", "30s", srv.URL())
			}()
		}
		wg.Wait()
		failed := 0
		for _, r := range results {
			if r.code != 0 {
				failed++
				t.Logf("failed: %v", r)
			}
		}
		if failed > 0 {
			t.Errorf("%d of %d logins failed", failed, n)
		}
	})
}

// aliasPrefix serves the routes below prefix also below alias, so that
// one test server on one host and port has two path prefixes.
func aliasPrefix(alias, prefix string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rest, ok := strings.CutPrefix(r.URL.Path, alias+"/"); ok {
				r.URL.Path = prefix + "/" + rest
			}
			next.ServeHTTP(w, r)
		})
	}
}

// TestOneLoginOneServer: the login of one path prefix is neither printed
// nor refreshed for another prefix on the same host; a login to the other
// prefix says that it replaces the first, which then no longer answers.
func TestOneLoginOneServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{AccessTTL: 30 * time.Second, Wrap: aliasPrefix("/other-app", "/api/app")})
	s := newSandbox(t)
	s.login(srv)
	before := s.storeBytes()
	other := strings.TrimSuffix(srv.URL(), "/api/app") + "/other-app"
	for _, args := range [][]string{{"token", other}, {"token", "--header", other}} {
		msg := onlyLine(t, s.run(args...), 1)
		if !strings.Contains(msg, "is for "+srv.URL()) || !strings.Contains(msg, "oidc-auth login "+other) {
			t.Errorf("%v: error line %q", args, msg)
		}
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 0 {
		t.Errorf("%d refreshes of another prefix's login", n)
	}
	s.unchanged(before)

	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.run("login", "--flow", "device", "--timeout", "10s", other)
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "replaces the stored login of "+srv.URL()) {
		t.Errorf("no notice that the login replaces the first:\n%s", r.stderr)
	}
	msg := onlyLine(t, s.run("token", srv.URL()), 1)
	if !strings.Contains(msg, "is for "+other) {
		t.Errorf("error line %q", msg)
	}
	mustSucceed(t, s.run("token", other+"/"))
}

// waitingLogin is a code-flow login started in the background whose
// browser does nothing, so that a test can talk to its loopback server.
type waitingLogin struct {
	cmd    *exec.Cmd
	port   int
	start  string
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startCodeLogin starts `oidc-auth login --flow code` against srv with a
// browser that opens nothing, and waits until it prints its start page.
func startCodeLogin(t *testing.T, s *sandbox, host string) *waitingLogin {
	t.Helper()
	w := &waitingLogin{port: freePorts(t, 1)[0], stderr: &lockedBuffer{}, done: make(chan struct{})}
	args := append([]string{"login", "--flow", "code", "--timeout", "30s", host}, portArgs([]int{w.port})...)
	var err error
	w.cmd, err = testfs.Start(func() *exec.Cmd {
		cmd := exec.Command(oidcAuthBin, args...)
		cmd.Env = s.environ("BROWSER=true")
		cmd.Stderr = w.stderr
		detach(cmd)
		return cmd
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { w.err = w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		w.cmd.Process.Kill()
		<-w.done
		s.mu.Lock()
		s.stderrs = append(s.stderrs, w.stderr.String())
		s.mu.Unlock()
	})
	startRE := regexp.MustCompile(`http://localhost:` + strconv.Itoa(w.port) + `/login/\S+`)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if m := startRE.FindString(w.stderr.String()); m != "" {
			w.start = m
			return w
		}
		select {
		case <-w.done:
			t.Fatalf("the login ended: %v\n%s", w.err, w.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("no start page printed:\n%s", w.stderr)
	return nil
}

// TestCallbackOnlyForItsLogin: while a real login waits, requests that a
// local web page or process can send (other Host, HEAD, no or another
// state, junk) get a 400 page and the login keeps waiting; the real
// browser then finishes it.
func TestCallbackOnlyForItsLogin(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	w := startCodeLogin(t, s, srv.URL())
	p := strconv.Itoa(w.port)
	cb := "http://127.0.0.1:" + p + "/callback?"
	foreignState := url.Values{"code": {"x"}, "state": {"r|http://localhost:" + p + "/callback|attacker-verifier"}}.Encode()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 5 * time.Second}
	for _, tt := range []struct{ name, method, url, host string }{
		{"foreign Host (DNS rebinding)", "GET", cb + foreignState, "attacker.example:" + p},
		{"HEAD", "HEAD", cb + foreignState, ""},
		{"no state", "GET", cb + "code=attacker", ""},
		{"another state", "GET", cb + foreignState, ""},
		{"an error without state", "GET", cb + "error=access_denied", ""},
		{"junk query", "GET", cb + "%zz=%", ""},
		{"huge query", "GET", cb + "code=" + strings.Repeat("x", 12000), ""},
	} {
		req, _ := http.NewRequest(tt.method, tt.url, nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 && !(tt.name == "huge query" && resp.StatusCode == 431) {
			t.Errorf("%s: answered %d, want 400", tt.name, resp.StatusCode)
		}
		select {
		case <-w.done:
			t.Fatalf("%s ended the login: %v\n%s", tt.name, w.err, w.stderr)
		case <-time.After(30 * time.Millisecond):
		}
	}
	if srv.Count(pyauthserver.CountTokenCode) != 0 {
		t.Fatal("a forged callback reached the code exchange")
	}
	// The person's browser opens the start page and finishes the login.
	b, err := s.execute(runTimeout, s.dir, "", s.environ(), testBrowserBin, w.start)
	if err != nil || b.code != 0 {
		t.Fatalf("browser: %v %v", b, err)
	}
	select {
	case <-w.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the login did not end")
	}
	if w.err != nil {
		t.Fatalf("login: %v\n%s", w.err, w.stderr)
	}
	e := s.readStore()[storeKey(t, srv)]
	if !srv.Valid(e.Token.AccessToken) || srv.Count(pyauthserver.CountTokenCode) != 1 {
		t.Errorf("no valid login stored; requests %v", requestCounts(srv))
	}
	if strings.Contains(w.stderr.String(), "|") {
		t.Errorf("the terminal shows the state:\n%s", w.stderr)
	}
}

// TestCodeFlowUncheckedFallback: a server whose login route shows its own
// page still works, and the person is told the callback is unchecked.
func TestCodeFlowUncheckedFallback(t *testing.T) {
	t.Parallel()
	srv := hostile.Start(t, hostile.LoginNoRedirect, pyauthserver.Options{})
	s := newSandbox(t)
	w := startCodeLogin(t, s, srv.URL())
	if !strings.Contains(w.stderr.String(), "cannot check") {
		t.Errorf("no warning:\n%s", w.stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(w.stderr.String()))
	for sc.Scan() {
		if controlRE.MatchString(sc.Text()) {
			t.Errorf("control characters: %q", sc.Text())
		}
	}
	if runtime.GOOS == "windows" {
		w.cmd.Process.Kill()
		<-w.done
		t.Skip("Ctrl-C not sent: Windows delivers no interrupt to another process (os.Process.Signal can only kill there); Ctrl-C is an event of the console the login runs in")
	}
	w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl-C did not end the waiting login")
	}
	if code := w.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130", code)
	}
}
