package flows

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitingLogin starts a code flow whose login route redirects to an
// identity provider that never answers, and returns what a test needs to
// send its own requests to the waiting callback.
type waitingLogin struct {
	port     int
	state    string
	opened   chan string
	done     chan struct{}
	tok      *Token
	err      error
	out      *syncBuffer
	exchange chan url.Values
}

func startWaitingLogin(t *testing.T) *waitingLogin {
	t.Helper()
	w := &waitingLogin{
		port:     freePorts(t, 1)[0],
		opened:   make(chan string, 4),
		done:     make(chan struct{}),
		out:      &syncBuffer{},
		exchange: make(chan url.Values, 4),
	}
	s := newFakeServer(t)
	s.login = func(rw http.ResponseWriter, r *http.Request) {
		redirect := r.URL.Query().Get("redirect_uri")
		w.state = "rnd-" + strconv.Itoa(w.port) + "|" + redirect + "|verifier-of-this-login"
		q := url.Values{"state": {w.state}, "redirect_uri": {redirect}, "client_id": {"c"}}
		http.Redirect(rw, r, "https://idp.example.invalid/authorize?"+q.Encode(), http.StatusTemporaryRedirect)
	}
	s.token = func(rw http.ResponseWriter, r *http.Request, n int) {
		w.exchange <- r.PostForm
		issue(rw, "code-tok")
	}
	cfg := s.config()
	cfg.RedirectPorts = []int{w.port}
	cfg.Timeout = 30 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); <-w.done })
	go func() {
		defer close(w.done)
		w.tok, w.err = (&CodeFlow{Config: cfg, Out: w.out, Browser: func(u string) error { w.opened <- u; return nil }}).Run(ctx)
	}()
	select {
	case <-w.opened:
	case <-time.After(10 * time.Second):
		t.Fatal("the login did not start")
	}
	return w
}

func (w *waitingLogin) base() string { return "http://127.0.0.1:" + strconv.Itoa(w.port) }

// stillWaiting fails the test when the login has ended.
func (w *waitingLogin) stillWaiting(t *testing.T, after string) {
	t.Helper()
	select {
	case <-w.done:
		t.Fatalf("after %s the login ended: %v, %v", after, w.tok, w.err)
	case <-time.After(50 * time.Millisecond):
	}
}

func send(t *testing.T, method, rawURL, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	client := &http.Client{CheckRedirect: noRedirect, Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location") + string(body)
}

// TestCallbackAnswersOnlyItsLogin sends, while a real login waits, every
// kind of request a local web page or process could: none may end or
// steer the login, and each gets an error page; then the real callback
// ends it with the token this login asked for.
func TestCallbackAnswersOnlyItsLogin(t *testing.T) {
	t.Parallel()
	w := startWaitingLogin(t)
	p := strconv.Itoa(w.port)
	cb := w.base() + "/callback?"
	right := url.Values{"code": {"the-code"}, "state": {w.state}}
	for _, tt := range []struct {
		name, method, url, host string
		status                  int
	}{
		{"DNS rebinding: a foreign Host", "GET", cb + right.Encode(), "evil.example:" + p, 400},
		{"foreign Host on another port", "GET", cb + right.Encode(), "localhost:1", 400},
		{"HEAD", "HEAD", cb + right.Encode(), "", 400},
		{"POST", "POST", cb + right.Encode(), "", 400},
		{"no state", "GET", cb + "code=attacker-code", "", 400},
		{"another state", "GET", cb + url.Values{"code": {"attacker-code"}, "state": {"rnd|http://localhost:" + p + "/callback|attacker-verifier"}}.Encode(), "", 400},
		{"state of this login with a suffix", "GET", cb + url.Values{"code": {"x"}, "state": {w.state + "x"}}.Encode(), "", 400},
		{"an error without the state", "GET", cb + "error=access_denied&error_description=gotcha", "", 400},
		{"an error with another state", "GET", cb + "error=access_denied&state=other", "", 400},
		{"junk query", "GET", cb + "code=%zz&state=%", "", 400},
		{"code given twice", "GET", cb + right.Encode() + "&code=second", "", 400},
		{"huge query", "GET", cb + right.Encode() + "&pad=" + strings.Repeat("a", 10000), "", 400},
		{"the right state and no code", "GET", cb + url.Values{"state": {w.state}}.Encode(), "", 400},
		{"another path", "GET", w.base() + "/?" + right.Encode(), "", 404},
		{"a guessed start path", "GET", w.base() + "/login/guess", "", 404},
	} {
		status, _ := send(t, tt.method, tt.url, tt.host)
		if status != tt.status {
			t.Errorf("%s: answered %d, want %d", tt.name, status, tt.status)
		}
		w.stillWaiting(t, tt.name)
	}
	status, _ := send(t, "GET", "http://localhost:"+p+"/callback?"+right.Encode(), "")
	if status != 200 {
		t.Errorf("the real callback got %d", status)
	}
	<-w.done
	if w.err != nil || w.tok.AccessToken != "code-tok" {
		t.Fatalf("login: %v, %v", w.tok, w.err)
	}
	form := <-w.exchange
	if form.Get("code") != "the-code" || form.Get("code_verifier") != "verifier-of-this-login" {
		t.Errorf("exchanged %v", form)
	}
}

// TestCallbackErrorOfThisLogin: the provider's error ends the login only
// when it carries this login's state.
func TestCallbackErrorOfThisLogin(t *testing.T) {
	t.Parallel()
	w := startWaitingLogin(t)
	q := url.Values{"error": {"access_denied"}, "error_description": {"no \x1b[2J way"}, "state": {w.state}}
	if status, _ := send(t, "GET", w.base()+"/callback?"+q.Encode(), ""); status != 400 {
		t.Errorf("answered %d", status)
	}
	<-w.done
	if !errors.Is(w.err, ErrAccessDenied) || !isTerminalSafe(w.err.Error()) || strings.Contains(w.err.Error(), w.state) {
		t.Fatalf("err = %q", w.err)
	}
}

// TestCodeFlowStartPage: the browser and the person get a loopback URL
// that leads to the provider's page; the terminal never shows the state
// and the code verifier in it.
func TestCodeFlowStartPage(t *testing.T) {
	t.Parallel()
	w := startWaitingLogin(t)
	// The browser may be asked before the terminal is written to: wait
	// for the line as a person would read it.
	want := "http://localhost:" + strconv.Itoa(w.port) + "/login/"
	out := w.out.String()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out, want) && time.Now().Before(deadline); out = w.out.String() {
		time.Sleep(10 * time.Millisecond)
	}
	i := strings.Index(out, want)
	if i < 0 {
		t.Fatalf("no start URL in:\n%s", out)
	}
	start := strings.Fields(out[i:])[0]
	status, loc := send(t, "GET", start, "")
	if status != http.StatusFound || !strings.HasPrefix(loc, "https://idp.example.invalid/authorize?") {
		t.Fatalf("start page: %d %s", status, loc)
	}
	u, _ := url.Parse(strings.SplitN(loc, "<", 2)[0])
	if u.Query().Get("state") != w.state {
		t.Errorf("start page leads to state %q, want %q", u.Query().Get("state"), w.state)
	}
	if strings.Contains(out, "verifier-of-this-login") || strings.Contains(out, "idp.example.invalid") {
		t.Errorf("the terminal shows the provider URL with its state:\n%s", out)
	}
}

// TestCodeFlowLoginRouteWithoutRedirect: a server whose login route shows
// a page of its own gets the browser directly, and the person is told the
// callback cannot be checked.
func TestCodeFlowLoginRouteWithoutRedirect(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	var mu sync.Mutex
	var redirect string
	s.login = func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		redirect = r.URL.Query().Get("redirect_uri")
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><title>Log in</title></html>")
	}
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "code-tok") }
	cfg := s.config()
	cfg.RedirectPorts = freePorts(t, 1)
	var out syncBuffer
	browser := func(u string) error {
		go func() {
			status, loc := send(t, "GET", u, "")
			if status != http.StatusFound || !strings.Contains(loc, "/p/auth/v2/login?") {
				t.Errorf("start page: %d %s", status, loc)
			}
			mu.Lock()
			cb := redirect
			mu.Unlock()
			send(t, "GET", cb+"?code=c&state=r%7Cx%7Cv", "")
		}()
		return nil
	}
	tok, err := (&CodeFlow{Config: cfg, Out: &out, Browser: browser}).Run(context.Background())
	if err != nil || tok.AccessToken != "code-tok" {
		t.Fatalf("got %v, %v", tok, err)
	}
	if !strings.Contains(out.String(), "cannot check") {
		t.Errorf("no warning that the callback is unchecked:\n%s", out.String())
	}
}

// TestCodeFlowRefusesBadLoginRedirects: the login route's redirect must
// lead to a URL that keeps the state off clear text and carries one.
func TestCodeFlowRefusesBadLoginRedirects(t *testing.T) {
	t.Parallel()
	for name, loc := range map[string]string{
		"clear text to another host": "http://idp.example.invalid/authorize?state=r%7Cu%7Cv",
		"no state":                   "https://idp.example.invalid/authorize?client_id=c",
		"not a URL":                  "::",
		"no Location":                "",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.login = func(w http.ResponseWriter, r *http.Request) {
				if loc != "" {
					w.Header().Set("Location", loc)
				}
				w.WriteHeader(http.StatusTemporaryRedirect)
			}
			cfg := s.config()
			cfg.RedirectPorts = freePorts(t, 1)
			_, err := (&CodeFlow{Config: cfg, Browser: func(string) error { t.Error("browser opened"); return nil }}).Run(context.Background())
			if err == nil || !isTerminalSafe(err.Error()) {
				t.Fatalf("err = %v", err)
			}
			// The callback port is released.
			l, lerr := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(cfg.RedirectPorts[0]))
			if lerr != nil {
				t.Fatalf("port still bound: %v", lerr)
			}
			l.Close()
		})
	}
}
