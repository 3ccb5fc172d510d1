package flows

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CodeFlow runs the authorization code flow of a py-oidc-auth server with a
// loopback callback (RFC 8252 §7.3): it listens on the first free port of
// RedirectPorts, asks the server's login route for the identity provider's
// authorization URL, sends the browser there, takes exactly one callback on
// /callback that carries this login's state, and exchanges the code. The
// server makes the PKCE pair (RFC 7636) and packs it into the state as
// "<random>|<redirect_uri>|<verifier>".
//
// The login route is stateless: it answers a redirect whose Location holds
// the state. CodeFlow requests it itself, without following the redirect,
// so it knows the state before the browser does and can refuse every
// callback that does not carry it (a local web page or process trying to end
// or hijack the login; RFC 9700 §4.7). A server whose login route does not
// redirect is sent the browser directly, as older clients do, and the
// callback then cannot be checked; Out says so.
type CodeFlow struct {
	// Config describes the server.
	Config Config
	// Out receives the messages for the person; the login URL is always
	// printed, whether or not a browser opens. Nil discards them.
	Out io.Writer
	// Browser opens the login URL without waiting for the browser; nil means
	// OpenBrowser. A failure to open it is reported on Out, and the flow
	// keeps waiting for a login from the printed URL.
	Browser func(url string) error

	// env is where the flow runs (an SSH session needs a port forward);
	// the zero value is the process's.
	env Environment
	// screen overrides what Out is taken for; nil looks at Out.
	screen *screen
}

// callbackResult is what the one accepted callback carried.
type callbackResult struct {
	code, state string
	err         error
}

// Run performs the code flow and returns the new token.
func (f *CodeFlow) Run(ctx context.Context) (*Token, error) {
	cfg := f.Config.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, timeoutError(cfg.Timeout))
	defer cancel()
	out := f.Out
	if out == nil {
		out = io.Discard
	}

	ports := cfg.RedirectPorts
	host := "localhost"
	if cfg.isIssuer() {
		host = cfg.RedirectHost
		if len(ports) == 0 {
			ports = []int{0} // any free port (RFC 8252 §7.3)
		}
	}
	listeners, port, err := listenLoopback(ports)
	if err != nil {
		return nil, err
	}
	redirectURI := "http://" + host + ":" + strconv.Itoa(port) + "/callback"
	var start *codeStart
	if cfg.isIssuer() {
		start, err = issuerStart(ctx, cfg, redirectURI)
	} else {
		start, err = f.pyStart(ctx, cfg, redirectURI, out)
	}
	if err != nil {
		closeAll(listeners)
		return nil, err
	}
	authURL, state := start.authURL, start.state

	cb := newCallbackHandler(port, state, authURL)
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: maxCallbackHeader}
	for _, l := range listeners {
		go srv.Serve(l)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}()

	// The person and the browser get a loopback URL that redirects to the
	// provider: it holds no part of the state, so the terminal (and a log
	// of it) never shows the code verifier.
	startURL := "http://" + host + ":" + strconv.Itoa(port) + cb.startPath
	scr := f.screen
	if scr == nil {
		scr = newScreen(out, f.env)
	}
	if f.env.ssh() && !f.env.display() && strings.TrimSpace(f.env.getenv("BROWSER")) == "" {
		scr.printf("%s", sshForward(f.env, host, port))
	}
	if err := f.openBrowser(startURL, cb.visited); err != nil && !cb.wasVisited() {
		Debugf(ctx, DebugDecisions, "code flow: the browser did not open: %v", err)
		scr.printf("Could not open a browser (%s). Open this page by hand:\n\n    %s\n\n", oneLine(terminalSafe(trimPackage(err.Error()))), startURL)
	} else {
		scr.printf("Opening the login page in your browser…\n\n    %s\n\n", startURL)
	}
	scr.printf("Waiting for the browser to finish the login of %s (Ctrl-C to stop)…\n", terminalSafe(cfg.Name()))

	var res callbackResult
	select {
	case res = <-cb.result:
		NoteSecret(ctx, res.code, res.state) // before any line about the callback
	case <-ctx.Done():
		err := context.Cause(ctx)
		cb.finish(err)
		return nil, err
	}
	var tok *Token
	if err = res.err; err == nil {
		tok, err = start.exchange(ctx, res.code, res.state)
	}
	cb.finish(err)
	return tok, err
}

// openBrowser starts the browser on url: Browser, or OpenBrowser in the
// flow's environment, which stops watching for an early failure once the
// page was visited.
func (f *CodeFlow) openBrowser(url string, visited <-chan struct{}) error {
	if f.Browser != nil {
		return f.Browser(url)
	}
	return openBrowser(f.env, url, visited)
}

// sshForward tells a person logged in over SSH without a display that the
// browser's answer goes to this machine, and gives the ssh command that
// forwards the callback port from the computer with the browser.
func sshForward(env Environment, host string, port int) string {
	p := strconv.Itoa(port)
	addr, sshPort := "HOST", ""
	if f := strings.Fields(env.getenv("SSH_CONNECTION")); len(f) == 4 {
		addr = f[2] // the server's address of the connection
		if f[3] != "22" {
			sshPort = "-p " + f[3] + " "
		}
	}
	user := env.getenv("USER")
	if user == "" {
		user = env.getenv("LOGNAME")
	}
	if user != "" && !strings.ContainsAny(user, " @") {
		addr = user + "@" + addr
	}
	command := "ssh " + sshPort + "-L " + p + ":" + host + ":" + p + " " + addr
	return terminalSafe(fmt.Sprintf("This is an SSH session: the browser's answer goes to port %s of this machine (http://%s:%s/callback).", p, host, p)) + "\n" +
		"On the computer with your browser, forward that port first:\n\n" +
		"    " + terminalSafe(command) + "\n\n" +
		"or stop (Ctrl-C) and log in with --flow device instead.\n\n"
}

// codeStart is how one code-flow login begins and ends: where the browser
// goes, the state the callback must carry ("" when it cannot be known),
// and the exchange of the callback's code.
type codeStart struct {
	authURL  string
	state    string
	exchange func(ctx context.Context, code, state string) (*Token, error)
}

// pyStart asks a py-oidc-auth server's login route for the provider's URL
// and the state in it (see authorizationURL).
func (f *CodeFlow) pyStart(ctx context.Context, cfg Config, redirectURI string, out io.Writer) (*codeStart, error) {
	q := url.Values{"redirect_uri": {redirectURI}, "offline_access": {"true"}, "prompt": {"consent"}}
	loginURL := cfg.Endpoint(cfg.LoginRoute) + "?" + q.Encode()
	authURL, state, err := authorizationURL(ctx, cfg, loginURL)
	if err != nil {
		return nil, err
	}
	if state == "" {
		fmt.Fprintf(out, "Warning: %s did not redirect to its identity provider, so this login cannot check that the browser's answer belongs to it.\n", cfg.Endpoint(cfg.LoginRoute))
		authURL = loginURL
	}
	return &codeStart{authURL: authURL, state: state, exchange: func(ctx context.Context, code, state string) (*Token, error) {
		return f.exchange(ctx, cfg, redirectURI, callbackResult{code: code, state: state})
	}}, nil
}

// authorizationURL asks the login route where it would send the browser,
// without following the redirect, and returns that URL and the state in
// it. A login route that answers 2xx (a page of its own) gives no URL and
// no state: the browser must go to the login route itself.
func authorizationURL(ctx context.Context, cfg Config, loginURL string) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loginURL, nil)
	if err != nil {
		return "", "", fmt.Errorf("flows: bad login route %q: %w", loginURL, err)
	}
	resp, err := do(ctx, cfg, req, nil)
	if err != nil {
		return "", "", err
	}
	endpoint := cfg.Endpoint(cfg.LoginRoute)
	switch {
	case resp.status >= 200 && resp.status <= 299:
		return "", "", nil
	case !isRedirect(resp.status):
		se := parseServerError(endpoint, resp.status, resp.contentType, resp.body, nil)
		if se.Status == http.StatusNotFound {
			return "", "", fmt.Errorf("flows: %s answered 404 Not Found: no py-oidc-auth server at %s; check the server URL and its path prefix (and --login-route)", endpoint, cfg.Host)
		}
		return "", "", fmt.Errorf("flows: the login route failed: %w", se)
	}
	loc, err := req.URL.Parse(resp.location)
	if resp.location == "" || err != nil || !isTerminalSafe(resp.location) || loc.Host == "" {
		return "", "", fmt.Errorf("flows: %s redirected to an unusable address; is this a py-oidc-auth server?", endpoint)
	}
	if err := checkTransport(loc, cfg.AllowHTTP); err != nil {
		// The state, and the code verifier in it, would cross the
		// network in clear text.
		return "", "", fmt.Errorf("flows: %s redirected the login to %s: %w", endpoint, redact(loc), err)
	}
	state := loc.Query().Get("state")
	if _, ok := verifierOf(state); !ok {
		return "", "", fmt.Errorf("flows: %s redirected to %s without a state that carries a code verifier; is this a py-oidc-auth server?", endpoint, redact(loc))
	}
	return loc.String(), state, nil
}

// verifierOf returns the PKCE code verifier a py-oidc-auth state carries
// after its last "|".
func verifierOf(state string) (string, bool) {
	i := strings.LastIndex(state, "|")
	if i < 0 || i == len(state)-1 {
		return "", false
	}
	return state[i+1:], true
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// exchange trades the callback's code for a token.
func (f *CodeFlow) exchange(ctx context.Context, cfg Config, redirectURI string, res callbackResult) (*Token, error) {
	if res.err != nil {
		return nil, res.err
	}
	verifier, ok := verifierOf(res.state)
	if !ok {
		return nil, errors.New("flows: the login callback's state carries no code verifier; is this a py-oidc-auth server?")
	}
	tokenURL := cfg.Endpoint(cfg.TokenRoute)
	body, err := postForm(ctx, cfg, tokenURL, url.Values{
		"code":          {res.code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
		"grant_type":    {"authorization_code"},
	}, secrets{}.with(res.state))
	var se *ServerError
	if errors.As(err, &se) {
		return nil, fmt.Errorf("flows: exchanging the login code failed: %w", se)
	} else if err != nil {
		return nil, err
	}
	tok, err := ParseToken(body, time.Now())
	if err != nil {
		return nil, fmt.Errorf("flows: %s: %v", tokenURL, err)
	}
	return tok, nil
}

// listenLoopback binds the first port of ports that is free on 127.0.0.1,
// and the same port on ::1 when the machine has IPv6 loopback, so that a
// browser resolving localhost either way reaches the callback.
func listenLoopback(ports []int) ([]net.Listener, int, error) {
	for _, p := range ports {
		l4, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		p = l4.Addr().(*net.TCPAddr).Port // the port chosen for 0
		ls := []net.Listener{l4}
		if l6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(p))); err == nil {
			ls = append(ls, l6)
		}
		return ls, p, nil
	}
	return nil, 0, fmt.Errorf("flows: none of the login callback ports %s is free on 127.0.0.1; close the program using them (another login?) or choose ports with --port", portList(ports))
}

func portList(ports []int) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(p)
	}
	return strings.Join(s, ", ")
}

// Bounds on what the loopback server reads of a request.
const (
	maxCallbackHeader = 16 << 10
	maxCallbackQuery  = 8 << 10
)

// callbackHandler serves the loopback side of one login: the start page
// that redirects the browser to the provider, and the one callback that
// carries this login's state. Every other request gets an error page and
// the login keeps waiting.
type callbackHandler struct {
	hosts     map[string]bool // the Host values of this listener
	startPath string          // a random path that redirects to authURL
	authURL   string
	state     string // the expected state; "" when it cannot be checked

	visitOnce sync.Once
	visited   chan struct{} // closed when the start page is first requested

	once   sync.Once
	result chan callbackResult
	done   chan struct{}
	err    error // set before done is closed
}

func newCallbackHandler(port int, state, authURL string) *callbackHandler {
	p := strconv.Itoa(port)
	return &callbackHandler{
		// RFC 8252 §8.3 and DNS rebinding: a page of another origin that
		// resolves its own name to 127.0.0.1 sends its own Host.
		hosts:     map[string]bool{"localhost:" + p: true, "127.0.0.1:" + p: true, "[::1]:" + p: true},
		startPath: "/login/" + rand.Text(),
		authURL:   authURL,
		state:     state,
		visited:   make(chan struct{}),
		result:    make(chan callbackResult, 1),
		done:      make(chan struct{}),
	}
}

// wasVisited reports whether a browser has requested the start page.
func (h *callbackHandler) wasVisited() bool {
	select {
	case <-h.visited:
		return true
	default:
		return false
	}
}

// finish records the outcome of the exchange for the browser's page.
func (h *callbackHandler) finish(err error) {
	h.err = err
	close(h.done)
}

// refuse answers a request that does not belong to this login.
func refuse(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	writePage(w, "Not this login", message)
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !h.hosts[strings.ToLower(r.Host)] {
		refuse(w, http.StatusBadRequest, "This address serves only the oidc-auth login running on this computer.")
		return
	}
	switch {
	case r.URL.Path == h.startPath && r.Method == http.MethodGet:
		h.visitOnce.Do(func() { close(h.visited) })
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, h.authURL, http.StatusFound)
		return
	case r.URL.Path != "/callback":
		http.NotFound(w, r)
		return
	case r.Method != http.MethodGet:
		refuse(w, http.StatusBadRequest, "The login callback takes a GET request only.")
		return
	}
	res, ok := h.parse(r)
	if !ok {
		refuse(w, http.StatusBadRequest, "This is not the answer to the login that is waiting in your terminal; it keeps waiting.")
		return
	}
	first := false
	h.once.Do(func() {
		first = true
		h.result <- res
	})
	if !first {
		w.WriteHeader(http.StatusConflict)
		writePage(w, "Login already handled", "This login was already completed in another tab. You can close this one.")
		return
	}
	select {
	case <-h.done:
	case <-r.Context().Done():
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if h.err != nil {
		w.WriteHeader(http.StatusBadRequest)
		writePage(w, "Login failed", h.err.Error()+". Return to your terminal.")
		return
	}
	writePage(w, "Login succeeded", "You are logged in. You can close this window and return to your terminal.")
}

// parse reads a callback; ok is false when it does not belong to this
// login: a query too long or malformed, a field given twice, or (when the
// state is known) a state other than this login's, compared in constant
// time. Only a callback that belongs to the login ends it, with a code or
// with the provider's error.
func (h *callbackHandler) parse(r *http.Request) (callbackResult, bool) {
	if len(r.URL.RawQuery) > maxCallbackQuery {
		return callbackResult{}, false
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return callbackResult{}, false
	}
	for _, k := range []string{"code", "state", "error", "error_description"} {
		if len(q[k]) > 1 {
			return callbackResult{}, false
		}
	}
	state := q.Get("state")
	if h.state != "" && subtle.ConstantTimeCompare([]byte(state), []byte(h.state)) != 1 {
		return callbackResult{}, false
	}
	sec := secrets{}.with(state, q.Get("code"))
	switch {
	case q.Get("error") != "":
		msg := sec.quote(q.Get("error"))
		if desc := sec.quote(q.Get("error_description")); desc != "" {
			msg += " (" + desc + ")"
		}
		return callbackResult{err: fmt.Errorf("%w: the identity provider refused the login: %s", ErrAccessDenied, msg)}, true
	case q.Get("code") == "":
		if h.state == "" {
			return callbackResult{err: errors.New("flows: the login callback carried no code")}, true
		}
		return callbackResult{}, false
	}
	return callbackResult{code: q.Get("code"), state: state}, true
}

// pageEscaper escapes text for the page as html/template escapes text in
// an element: the flows package does without html/template, whose
// reflection keeps every exported method of every linked type in each
// binary and so slows the start of every credential helper.
var pageEscaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;", "<", "&lt;", ">", "&gt;")

// writePage writes the browser page of a login with a title and a
// message, both escaped.
func writePage(w io.Writer, title, message string) {
	t, m := pageEscaper.Replace(title), pageEscaper.Replace(message)
	io.WriteString(w, `<!doctype html>
<html><head><meta charset="utf-8"><title>oidc-auth: `+t+`</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}</style>
</head><body><h1>`+t+`</h1><p>`+m+`</p></body></html>
`)
}
