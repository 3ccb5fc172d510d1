package flows

import (
	"context"
	"errors"
	"fmt"
	"html/template"
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
// loopback callback: it listens on the first free port of RedirectPorts,
// sends the browser to the server's login route, takes exactly one callback
// on /callback, and exchanges the code. The server makes the PKCE pair
// (RFC 7636) and packs it into state as "<random>|<redirect_uri>|<verifier>".
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

	listeners, port, err := listenLoopback(cfg.RedirectPorts)
	if err != nil {
		return nil, err
	}
	redirectURI := "http://localhost:" + strconv.Itoa(port) + "/callback"
	cb := newCallbackHandler()
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	for _, l := range listeners {
		go srv.Serve(l)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
	}()

	q := url.Values{"redirect_uri": {redirectURI}, "offline_access": {"true"}, "prompt": {"consent"}}
	loginURL := cfg.Endpoint(cfg.LoginRoute) + "?" + q.Encode()
	fmt.Fprintf(out, "To log in to %s, open this page in a browser:\n\n    %s\n\n", cfg.Host, loginURL)
	browser := f.Browser
	if browser == nil {
		browser = OpenBrowser
	}
	if err := browser(loginURL); err != nil {
		fmt.Fprintf(out, "Could not open a browser (%v); open the page above by hand.\n", err)
	}
	fmt.Fprintf(out, "Waiting for the browser to finish the login on %s…\n", redirectURI)

	var res callbackResult
	select {
	case res = <-cb.result:
	case <-ctx.Done():
		err := context.Cause(ctx)
		cb.finish(err)
		return nil, err
	}
	tok, err := f.exchange(ctx, cfg, redirectURI, res)
	cb.finish(err)
	return tok, err
}

// exchange trades the callback's code for a token.
func (f *CodeFlow) exchange(ctx context.Context, cfg Config, redirectURI string, res callbackResult) (*Token, error) {
	if res.err != nil {
		return nil, res.err
	}
	i := strings.LastIndex(res.state, "|")
	if i < 0 || i == len(res.state)-1 {
		return nil, errors.New("flows: the login callback's state carries no code verifier; is this a py-oidc-auth server?")
	}
	verifier := res.state[i+1:]
	tokenURL := cfg.Endpoint(cfg.TokenRoute)
	body, err := postForm(ctx, cfg, tokenURL, url.Values{
		"code":          {res.code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
		"grant_type":    {"authorization_code"},
	})
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

// callbackHandler accepts exactly one request on /callback, hands its
// result to Run, and answers the browser once the exchange is done.
type callbackHandler struct {
	once   sync.Once
	result chan callbackResult
	done   chan struct{}
	err    error // set before done is closed
}

func newCallbackHandler() *callbackHandler {
	return &callbackHandler{result: make(chan callbackResult, 1), done: make(chan struct{})}
}

// finish records the outcome of the exchange for the browser's page.
func (h *callbackHandler) finish(err error) {
	h.err = err
	close(h.done)
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/callback" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	var res callbackResult
	switch {
	case q.Get("error") != "":
		desc := oneLine(q.Get("error_description"))
		msg := oneLine(q.Get("error"))
		if desc != "" {
			msg += " (" + desc + ")"
		}
		res.err = fmt.Errorf("%w: the identity provider refused the login: %s", ErrAccessDenied, msg)
	case q.Get("code") == "":
		res.err = errors.New("flows: the login callback carried no code")
	default:
		res.code, res.state = q.Get("code"), q.Get("state")
	}
	first := false
	h.once.Do(func() {
		first = true
		h.result <- res
	})
	if !first {
		w.WriteHeader(http.StatusConflict)
		page.Execute(w, pageData{Title: "Login already handled", Message: "This login was already completed in another tab. You can close this one."})
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
		page.Execute(w, pageData{Title: "Login failed", Message: h.err.Error() + ". Return to your terminal."})
		return
	}
	page.Execute(w, pageData{Title: "Login succeeded", Message: "You are logged in. You can close this window and return to your terminal."})
}

type pageData struct{ Title, Message string }

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>oidc-auth: {{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p></body></html>
`))
