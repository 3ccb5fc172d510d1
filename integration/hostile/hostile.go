// Package hostile provides py-oidc-auth servers that misbehave in one
// documented way each, for end-to-end tests of a credential helper's
// hardening: redirects that would carry a secret to another party, errors
// that echo secrets, escape sequences aimed at a terminal, absurd numbers,
// wrong URLs, flaky connections, a login page instead of a redirect and a
// slow refresh.
//
// A Server wraps a well-behaved pyauthserver.Server (Py) and puts the mode's
// behaviour in front of it; what a mode does not mention is answered by the
// wrapped server, so a device login against a hostile server reaches the
// point where the hostile answer comes. A second server, the Evil Recorder on
// another loopback port, stands for the other party: every redirect points at
// it, and it answers every request with a well-formed token response, so a
// client that wrongly follows a redirect would store the evil login.
//
// Everything listens on 127.0.0.1 and is closed when the test ends.
package hostile

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// DefaultPrefix is the path prefix of a Server whose Options.Prefix is
// empty; pass "/" for no prefix.
const DefaultPrefix = "/api/app"

// DefaultInterval is the device poll interval in seconds of a Server whose
// Options.Interval is not positive, as in the other end-to-end tests.
const DefaultInterval = 1

// DefaultRefreshDelay is how long SlowRefresh holds back a refresh answer
// until SetRefreshDelay says otherwise.
const DefaultRefreshDelay = 2 * time.Second

// maxBody bounds the request bodies the server reads, as pyauthserver does.
const maxBody = 1 << 20

// Server is a py-oidc-auth server on 127.0.0.1 that misbehaves as its Mode
// says. It is safe for concurrent use.
type Server struct {
	py     atomic.Pointer[pyauthserver.Server]
	evil   *Recorder
	prefix string
	now    func() time.Time

	mu                sync.Mutex
	mode              Mode
	sent              []sentForm
	dropped           int
	refreshDelay      time.Duration
	refreshesStarted  int
	refreshesAnswered int
}

// sentForm is one form received on the device or token route.
type sentForm struct {
	route string
	form  url.Values
}

// connKey is the context key of a connection's *connInfo.
type connKey struct{}

// connInfo counts the requests that arrived on one connection.
type connInfo struct {
	requests atomic.Int64
}

// Start starts a plain-HTTP hostile Server in mode with the wrapped server
// configured by opts, and an Evil Recorder; both are closed when tb's test
// ends. An empty opts.Prefix becomes DefaultPrefix and a non-positive
// opts.Interval DefaultInterval; IdleTimeout mode sets opts.IdleTimeout to
// the interval unless it is set. An opts.Wrap or opts.ConnContext of the
// caller still applies, inside the hostile behaviour. An unknown mode fails
// the test.
func Start(tb testing.TB, mode Mode, opts pyauthserver.Options) *Server {
	tb.Helper()
	return start(tb, mode, opts, false)
}

// StartTLS is Start with the hostile server on HTTPS and a self-signed
// certificate (CertPEM, for SSL_CERT_FILE); the Evil Recorder stays plain
// HTTP, so every redirect is also a downgrade from https to http.
func StartTLS(tb testing.TB, mode Mode, opts pyauthserver.Options) *Server {
	tb.Helper()
	return start(tb, mode, opts, true)
}

func start(tb testing.TB, mode Mode, opts pyauthserver.Options, useTLS bool) *Server {
	tb.Helper()
	if !mode.Valid() {
		tb.Fatalf("hostile: unknown mode %q", mode)
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if mode == IdleTimeout && opts.IdleTimeout <= 0 {
		opts.IdleTimeout = time.Duration(opts.Interval) * time.Second
	}
	s := &Server{
		evil:         StartRecorder(tb),
		prefix:       normPrefix(opts.Prefix),
		now:          opts.Now,
		mode:         mode,
		refreshDelay: DefaultRefreshDelay,
	}
	if s.now == nil {
		s.now = time.Now
	}
	innerWrap := opts.Wrap
	opts.Wrap = func(next http.Handler) http.Handler {
		if innerWrap != nil {
			next = innerWrap(next)
		}
		return s.wrap(next)
	}
	innerConn := opts.ConnContext
	opts.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if innerConn != nil {
			ctx = innerConn(ctx, c)
		}
		return context.WithValue(ctx, connKey{}, &connInfo{})
	}
	if useTLS {
		s.py.Store(pyauthserver.StartTLS(tb, opts))
	} else {
		s.py.Store(pyauthserver.Start(tb, opts))
	}
	return s
}

// normPrefix normalises a path prefix as pyauthserver does: "" or "/x".
func normPrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// URL returns the base URL including the prefix, e.g.
// http://127.0.0.1:1234/api/app; https for a StartTLS server.
func (s *Server) URL() string { return s.Py().URL() }

// Py returns the wrapped well-behaved server, for PlanDevice, Approve,
// Count, Valid and the like. Requests that the hostile mode answers itself
// never reach it and are not in its Count; Sent records every form.
func (s *Server) Py() *pyauthserver.Server { return s.py.Load() }

// Evil returns the Recorder that stands for the other party: redirects point
// at it.
func (s *Server) Evil() *Recorder { return s.evil }

// StealURL returns the Location of every redirect the hostile modes send:
// the Evil recorder's URL followed by StealPath.
func (s *Server) StealURL() string { return s.evil.URL() + StealPath }

// CertPEM returns the PEM certificate of a StartTLS server, for a CA file
// handed to programs under test (SSL_CERT_FILE); nil for a plain server.
func (s *Server) CertPEM() []byte { return s.Py().CertPEM() }

// Client returns an HTTP client for the server that trusts a StartTLS
// server's certificate and follows redirects as net/http does.
func (s *Server) Client() *http.Client { return s.Py().Client() }

// Mode returns the current mode.
func (s *Server) Mode() Mode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// SetMode switches the server to mode m for the requests that follow, e.g.
// from WellBehaved after a normal login to a mode that attacks the refresh.
// IdleTimeout's timeout is fixed when the server starts. An unknown mode
// panics.
func (s *Server) SetMode(m Mode) {
	if !m.Valid() {
		panic("hostile: unknown mode " + strconv.Quote(string(m)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Sent returns every form the server received on the device and token
// routes, in order of arrival and whatever the mode answered (device starts
// usually send an empty form); for asserting what a client sent.
func (s *Server) Sent() []url.Values {
	return s.sentTo("")
}

// SentTo returns the forms Sent lists for one route, pyauthserver.RouteDevice
// or pyauthserver.RouteToken.
func (s *Server) SentTo(route string) []url.Values {
	if route == "" {
		return nil
	}
	return s.sentTo(route)
}

func (s *Server) sentTo(route string) []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []url.Values
	for _, f := range s.sent {
		if route == "" || f.route == route {
			out = append(out, cloneValues(f.form))
		}
	}
	return out
}

// Dropped returns how many requests DropReusedConnection has read and
// answered by resetting the connection.
func (s *Server) Dropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// SetRefreshDelay sets how long SlowRefresh holds back each refresh answer;
// the default is DefaultRefreshDelay.
func (s *Server) SetRefreshDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshDelay = d
}

// RefreshesStarted returns how many refreshes SlowRefresh has had the
// wrapped server process: each consumed its refresh token.
func (s *Server) RefreshesStarted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshesStarted
}

// RefreshesAnswered returns how many refreshes SlowRefresh has answered after
// the full delay; it counts an answer just before writing it, and not at all
// when the client went away during the delay.
func (s *Server) RefreshesAnswered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshesAnswered
}

func cloneValues(v url.Values) url.Values {
	c := make(url.Values, len(v))
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// routeOf names the route of a request path: pyauthserver.RouteDevice,
// RouteToken, RouteLogin, or "" for any other.
func (s *Server) routeOf(path string) string {
	rel, ok := strings.CutPrefix(path, s.prefix)
	if !ok {
		return ""
	}
	switch rel {
	case "/auth/v2/device":
		return pyauthserver.RouteDevice
	case "/auth/v2/token":
		return pyauthserver.RouteToken
	case "/auth/v2/login":
		return pyauthserver.RouteLogin
	}
	return ""
}

// grant names what a token-route form asks for, as the real servers pick it:
// code, then refresh-token, then device-code.
func grant(form url.Values) string {
	switch {
	case form.Get("code") != "":
		return pyauthserver.CountTokenCode
	case form.Get("refresh-token") != "":
		return pyauthserver.CountTokenRefresh
	case form.Get("device-code") != "":
		return pyauthserver.CountTokenDevice
	}
	return ""
}

// wrap puts the hostile behaviour in front of the wrapped server's handler.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := s.routeOf(r.URL.Path)
		var form url.Values
		if route == pyauthserver.RouteDevice || route == pyauthserver.RouteToken {
			body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ = url.ParseQuery(string(body)) // what parsed, on error
			s.mu.Lock()
			s.sent = append(s.sent, sentForm{route, cloneValues(form)})
			s.mu.Unlock()
		}
		reused := false
		if ci, _ := r.Context().Value(connKey{}).(*connInfo); ci != nil {
			reused = ci.requests.Add(1) > 1
		}
		mode := s.Mode()
		if mode == DropReusedConnection && reused && s.drop(w, r) {
			return
		}
		s.serveMode(mode, route, form, w, r, next)
	})
}

// drop reads the rest of r and resets its connection without an answer, and
// reports whether it could.
func (s *Server) drop(w http.ResponseWriter, r *http.Request) bool {
	io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	hj, ok := w.(http.Hijacker)
	if !ok {
		return false
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return false
	}
	s.mu.Lock()
	s.dropped++
	s.mu.Unlock()
	resetClose(conn)
	return true
}

// resetClose closes c abruptly: with SO_LINGER 0 the kernel sends RST instead
// of FIN, and a TLS connection gets no close_notify.
func resetClose(c net.Conn) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	c.Close()
}

// serveMode answers one request as mode says, delegating to next otherwise.
func (s *Server) serveMode(mode Mode, route string, form url.Values, w http.ResponseWriter, r *http.Request, next http.Handler) {
	device := route == pyauthserver.RouteDevice
	token := route == pyauthserver.RouteToken
	switch {
	case mode == RedirectToken307 && token:
		redirect(w, s.StealURL(), http.StatusTemporaryRedirect)
	case mode == RedirectToken308 && token:
		redirect(w, s.StealURL(), http.StatusPermanentRedirect)
	case mode == RedirectToken302 && token:
		redirect(w, s.StealURL(), http.StatusFound)
	case mode == RedirectDevice307 && device:
		redirect(w, s.StealURL(), http.StatusTemporaryRedirect)

	case mode == EchoSecrets && token:
		pyauthserver.WriteUpstreamError(w, http.StatusBadRequest, "invalid_request", EchoPrefix+Echo(form))
	case mode == EchoSecretsRFC && token:
		pyauthserver.WriteRFCError(w, http.StatusBadRequest, "invalid_grant", EchoPrefix+Echo(form))
	case mode == EchoSecretsHTML && token:
		text := html.EscapeString(EchoPrefix + Echo(form))
		writeBody(w, http.StatusInternalServerError, "text/html; charset=utf-8",
			"<!doctype html>\n<html>\n<head><title>"+text+"</title></head>\n<body>\n<h1>Internal Server Error</h1>\n<p>"+text+"</p>\n</body>\n</html>\n")

	case mode == EscapeUserCode && device:
		rewriteJSON(w, r, next, func(m map[string]any) { m["user_code"] = EvilUserCode })
	case mode == EscapeVerificationURI && device:
		rewriteJSON(w, r, next, func(m map[string]any) {
			m["verification_uri"] = EvilVerificationURI
			m["verification_uri_complete"] = nil
		})
	case mode == EscapeVerificationURIComplete && device:
		rewriteJSON(w, r, next, func(m map[string]any) {
			c, _ := m["verification_uri_complete"].(string)
			m["verification_uri_complete"] = c + "&x=\x1b]8;;" + s.evil.URL() + "/phish\x07click\x1b]8;;\x07" + EvilURISuffix
		})
	case mode == NonHTTPVerificationURI && device:
		rewriteJSON(w, r, next, func(m map[string]any) {
			m["verification_uri"] = JavaScriptURI
			m["verification_uri_complete"] = FileURI
		})
	case mode == EscapeErrorDescription && token && grant(form) == pyauthserver.CountTokenDevice:
		pyauthserver.WriteUpstreamError(w, http.StatusBadRequest, "access_denied", EvilErrorDescription)
	case mode == EscapeHTMLTitle && device:
		writeBody(w, http.StatusInternalServerError, "text/html; charset=utf-8",
			"<!doctype html>\n<html>\n<head><title>"+EvilHTMLTitle+"</title></head>\n<body><h1>Internal Server Error</h1></body>\n</html>\n")

	case mode == HugeInterval && device:
		s.approveNext()
		rewriteJSON(w, r, next, func(m map[string]any) { m["interval"] = HugeSeconds })
	case mode == NegativeInterval && device:
		s.approveNext()
		rewriteJSON(w, r, next, func(m map[string]any) { m["interval"] = NegativeSeconds })
	case mode == HugeDeviceExpiry && device:
		s.approveNext()
		rewriteJSON(w, r, next, func(m map[string]any) { m["expires_in"] = HugeSeconds })
	case (mode == TokenExpiresInPast || mode == TokenExpiresFarFuture || mode == TokenHugeExpiresIn) && device:
		s.approveNext()
		next.ServeHTTP(w, r)
	case mode == TokenExpiresInPast && token:
		rewriteJSON(w, r, next, func(m map[string]any) { m["expires"] = s.now().Unix() - 3600 })
	case mode == TokenExpiresFarFuture && token:
		far := s.now().AddDate(50, 0, 0).Unix()
		rewriteJSON(w, r, next, func(m map[string]any) {
			m["expires"] = far
			m["refresh_expires"] = far
		})
	case mode == TokenHugeExpiresIn && token:
		rewriteJSON(w, r, next, func(m map[string]any) {
			delete(m, "expires")
			delete(m, "refresh_expires")
			m["expires_in"] = HugeExpiresIn
			m["refresh_expires_in"] = HugeExpiresIn
		})

	case mode == Device404JSON && device:
		pyauthserver.WriteDetail(w, http.StatusNotFound, "Not Found")
	case mode == Device404HTML && device:
		writeBody(w, http.StatusNotFound, "text/html; charset=utf-8", werkzeug404)
	case (mode == DeviceNoDeviceFlow502 || mode == LoginNoRedirect) && device:
		pyauthserver.WriteDetail(w, http.StatusBadGateway, NoDeviceFlowDetail)
	case mode == Device502Other && device:
		pyauthserver.WriteDetail(w, http.StatusBadGateway, ContactFailedDetail)
	case mode == Device501 && device:
		pyauthserver.WriteDetail(w, http.StatusNotImplemented, "Not Implemented")
	case mode == Device405 && device:
		w.Header().Set("Allow", "GET")
		pyauthserver.WriteDetail(w, http.StatusMethodNotAllowed, "Method Not Allowed")

	case mode == LoginNoRedirect && route == pyauthserver.RouteLogin:
		writeBody(w, http.StatusOK, "text/html; charset=utf-8", loginPage)

	case mode == SlowRefresh && token && grant(form) == pyauthserver.CountTokenRefresh:
		s.slowRefresh(w, r, next)

	default:
		next.ServeHTTP(w, r)
	}
}

// approveNext plans the next device authorization of the wrapped server to
// be approved at its first poll. Plans a test queued itself come first.
func (s *Server) approveNext() {
	s.Py().PlanDevice(pyauthserver.DevicePlan{})
}

// slowRefresh has next process a refresh at once and writes its answer after
// the refresh delay, or at once when the client has gone away.
func (s *Server) slowRefresh(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	s.mu.Lock()
	s.refreshesStarted++
	delay := s.refreshDelay
	s.mu.Unlock()

	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		s.mu.Lock()
		s.refreshesAnswered++
		s.mu.Unlock()
	case <-r.Context().Done():
	}
	res := rec.Result()
	copyAnswer(w, res.StatusCode, res.Header, rec.Body.Bytes())
}

// rewriteJSON has next answer r into a buffer; a 200 JSON object answer is
// passed through edit before it is written, any other answer is written as
// it came.
func rewriteJSON(w http.ResponseWriter, r *http.Request, next http.Handler, edit func(map[string]any)) {
	rec := httptest.NewRecorder()
	next.ServeHTTP(rec, r)
	res := rec.Result()
	body := rec.Body.Bytes()
	if res.StatusCode == http.StatusOK {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err == nil && m != nil {
			edit(m)
			body = marshal(m)
		}
	}
	copyAnswer(w, res.StatusCode, res.Header, body)
}

// copyAnswer writes a buffered answer with an exact Content-Length.
func copyAnswer(w http.ResponseWriter, status int, header http.Header, body []byte) {
	for k, vs := range header {
		w.Header()[k] = vs
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// marshal encodes v compactly without HTML escaping, as pyauthserver does.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("hostile: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeBody writes a complete answer with an exact Content-Length.
func writeBody(w http.ResponseWriter, status int, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// redirect answers status with Location and an empty body.
func redirect(w http.ResponseWriter, location string, status int) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(status)
}

// Echo returns what the EchoSecrets* modes repeat of a form: for every field
// (names sorted, values in order) "name=value" raw, "name=" and the value
// url.QueryEscape'd, and the value's first 20 characters, all separated by
// single spaces.
func Echo(form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	var parts []string
	for _, k := range names {
		for _, v := range form[k] {
			parts = append(parts, k+"="+v, k+"="+url.QueryEscape(v), First20(v))
		}
	}
	return strings.Join(parts, " ")
}

// First20 returns the first 20 characters (runes) of v, or v when shorter:
// the part of a secret that the reference client prints.
func First20(v string) string {
	n := 0
	for i := range v {
		if n == 20 {
			return v[:i]
		}
		n++
	}
	return v
}

// werkzeug404 is the page Flask (Werkzeug) sends for 404 Not Found.
const werkzeug404 = `<!doctype html>
<html lang=en>
<title>404 Not Found</title>
<h1>Not Found</h1>
<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>
`

// loginPage is LoginNoRedirect's answer on the login route.
const loginPage = `<!doctype html>
<html lang=en>
<head><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
<form method="post" action="/login">
<input name="username"> <input name="password" type="password">
<button type="submit">Sign in</button>
</form>
</body>
</html>
`
