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

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for range n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	return ports
}

// followBrowser is a Browser that fetches the URL in the background,
// following redirects, and records the final page.
type followBrowser struct {
	mu     sync.Mutex
	opened []string
	pages  []string
	wg     sync.WaitGroup
}

func (b *followBrowser) open(u string) error {
	b.mu.Lock()
	b.opened = append(b.opened, u)
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		resp, err := http.Get(u)
		if err != nil {
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.mu.Lock()
		b.pages = append(b.pages, resp.Status+" "+string(body))
		b.mu.Unlock()
	}()
	return nil
}

// loginToCallback makes the login route redirect the browser straight to
// the callback, with the state layout of py-oidc-auth servers.
func loginToCallback(t *testing.T, extra url.Values) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("offline_access") != "true" || q.Get("prompt") != "consent" {
			t.Errorf("login query %v lacks offline_access=true&prompt=consent", q)
		}
		redirect := q.Get("redirect_uri")
		cb := url.Values{"code": {"the-code"}, "state": {"rnd|" + redirect + "|the-verifier"}}
		for k, v := range extra {
			cb[k] = v
		}
		http.Redirect(w, r, redirect+"?"+cb.Encode(), http.StatusTemporaryRedirect)
	}
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.login = loginToCallback(t, nil)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { issue(w, "code-tok") }
	ports := freePorts(t, 2)
	busy, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(ports[0]))
	if err != nil {
		t.Skipf("port %d was taken meanwhile", ports[0])
	}
	defer busy.Close()
	cfg := s.config()
	cfg.RedirectPorts = ports
	b := &followBrowser{}
	var out strings.Builder
	tok, err := (&CodeFlow{Config: cfg, Out: &out, Browser: b.open}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.wg.Wait()
	if tok.AccessToken != "code-tok" {
		t.Errorf("token %q", tok.AccessToken)
	}
	redirect := "http://localhost:" + strconv.Itoa(ports[1]) + "/callback"
	forms := s.tokenForms()
	want := map[string]string{"code": "the-code", "redirect_uri": redirect, "code_verifier": "the-verifier", "grant_type": "authorization_code"}
	if len(forms) != 1 || len(forms[0]) != len(want) {
		t.Fatalf("exchange forms %v, want one %v", forms, want)
	}
	for k, v := range want {
		if forms[0][k] != v {
			t.Errorf("exchange %s = %q, want %q", k, forms[0][k], v)
		}
	}
	if len(b.opened) != 1 || !strings.Contains(out.String(), b.opened[0]) {
		t.Errorf("opened %v; the URL must also be printed:\n%s", b.opened, out.String())
	}
	if len(b.pages) != 1 || !strings.HasPrefix(b.pages[0], "200 ") || !strings.Contains(b.pages[0], "Login succeeded") {
		t.Errorf("browser saw %q", b.pages)
	}
}

func TestCodeFlowIdPError(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.login = func(w http.ResponseWriter, r *http.Request) {
		redirect := r.URL.Query().Get("redirect_uri")
		http.Redirect(w, r, redirect+"?error=access_denied&error_description=The+user+<b>declined</b>&state=rnd%7Cr%7Cv", http.StatusFound)
	}
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { t.Error("no exchange expected") }
	cfg := s.config()
	cfg.RedirectPorts = freePorts(t, 1)
	b := &followBrowser{}
	_, err := (&CodeFlow{Config: cfg, Browser: b.open}).Run(context.Background())
	if !errors.Is(err, ErrAccessDenied) || !strings.Contains(err.Error(), "The user <b>declined</b>") {
		t.Fatalf("err = %v", err)
	}
	b.wg.Wait()
	if len(b.pages) != 1 || !strings.HasPrefix(b.pages[0], "400 ") || strings.Contains(b.pages[0], "<b>declined") {
		t.Errorf("browser saw %q; want a failure page with the text escaped", b.pages)
	}
}

func TestCodeFlowBadCallbacks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		extra url.Values
		text  string
	}{
		{"no verifier in state", url.Values{"state": {"just-random"}}, "without a state that carries a code verifier"},
		{"empty verifier", url.Values{"state": {"a|b|"}}, "without a state that carries a code verifier"},
		{"no state", url.Values{"state": {""}}, "without a state that carries a code verifier"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeServer(t)
			s.login = loginToCallback(t, tt.extra)
			s.token = func(w http.ResponseWriter, r *http.Request, n int) { t.Error("no exchange expected") }
			cfg := s.config()
			cfg.RedirectPorts = freePorts(t, 1)
			b := &followBrowser{}
			_, err := (&CodeFlow{Config: cfg, Browser: b.open}).Run(context.Background())
			b.wg.Wait()
			if err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("err = %v, want %q", err, tt.text)
			}
		})
	}
}

func TestCodeFlowRejectedExchange(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.login = loginToCallback(t, nil)
	s.token = func(w http.ResponseWriter, r *http.Request, n int) { upstream(w, "invalid_grant") }
	cfg := s.config()
	cfg.RedirectPorts = freePorts(t, 1)
	b := &followBrowser{}
	_, err := (&CodeFlow{Config: cfg, Browser: b.open}).Run(context.Background())
	b.wg.Wait()
	if err == nil || !strings.Contains(err.Error(), "invalid_grant") {
		t.Fatalf("err = %v", err)
	}
	if len(b.pages) != 1 || !strings.Contains(b.pages[0], "Login failed") {
		t.Errorf("browser saw %q", b.pages)
	}
}

func TestCodeFlowAllPortsBusy(t *testing.T) {
	t.Parallel()
	var ports []int
	for range 2 {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	cfg := Config{Host: "http://127.0.0.1:1", RedirectPorts: ports}
	_, err := (&CodeFlow{Config: cfg, Browser: func(string) error { t.Error("browser opened"); return nil }}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "none of the login callback ports") || !strings.Contains(err.Error(), strconv.Itoa(ports[1])) {
		t.Fatalf("err = %v", err)
	}
}

func TestCodeFlowTimeoutAndBrowserFailure(t *testing.T) {
	t.Parallel()
	s := newFakeServer(t)
	s.login = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://idp.example.invalid/authorize?state=rnd%7Cr%7Cthe-verifier", http.StatusTemporaryRedirect)
	}
	cfg := s.config()
	cfg.RedirectPorts = freePorts(t, 1)
	// Long enough for the flow to reach the browser on a loaded machine
	// (under Wine, on two cores, with other packages' tests running).
	cfg.Timeout = time.Second
	var out strings.Builder
	_, err := (&CodeFlow{Config: cfg, Out: &out, Browser: func(string) error { return errors.New("no display") }}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(out.String(), "no display") || !strings.Contains(out.String(), "http://localhost:"+strconv.Itoa(cfg.RedirectPorts[0])+"/login/") {
		t.Errorf("output:\n%s", out.String())
	}
	if strings.Contains(out.String(), "the-verifier") {
		t.Errorf("the code verifier reached the terminal:\n%s", out.String())
	}
	// The port is free again once the flow returns.
	l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(cfg.RedirectPorts[0]))
	if err != nil {
		t.Fatalf("callback port still bound: %v", err)
	}
	l.Close()
}

func TestCallbackAcceptsOneResult(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := newCallbackHandler(l.Addr().(*net.TCPAddr).Port, "a|b|c", "https://idp.example.invalid/")
	srv := &http.Server{Handler: h}
	go srv.Serve(l)
	defer srv.Close()
	base := "http://" + l.Addr().String()
	if resp, err := http.Get(base + "/other?code=x"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("other path: %v %v", resp, err)
	}
	done := make(chan string)
	go func() {
		resp, err := http.Get(base + "/callback?code=first&state=a|b|c")
		if err != nil {
			done <- err.Error()
			return
		}
		resp.Body.Close()
		done <- resp.Status
	}()
	res := <-h.result
	if res.code != "first" {
		t.Fatalf("result %+v", res)
	}
	resp, err := http.Get(base + "/callback?code=second&state=a|b|c")
	if err != nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("second callback: %v %v", resp, err)
	}
	h.finish(nil)
	if got := <-done; !strings.HasPrefix(got, "200") {
		t.Errorf("first callback answered %s", got)
	}
	select {
	case r := <-h.result:
		t.Errorf("a second result was delivered: %+v", r)
	default:
	}
}

func TestWithURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ argv, want []string }{
		{[]string{"firefox"}, []string{"firefox", "U"}},
		{[]string{"chromium", "--new-window"}, []string{"chromium", "--new-window", "U"}},
		{[]string{"open", "-a", "x", "%s"}, []string{"open", "-a", "x", "U"}},
		{[]string{"sh", "-c", "echo %s"}, []string{"sh", "-c", "echo U"}},
	} {
		if got := withURL(tt.argv, "U"); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("withURL(%q) = %q, want %q", tt.argv, got, tt.want)
		}
	}
}
