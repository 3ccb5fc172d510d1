package flows

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// maxBody caps what is read of any server answer.
const maxBody = 1 << 20

// response is a server answer read in full (up to maxBody).
type response struct {
	status      int
	contentType string
	location    string // the Location header of a redirect
	body        []byte
}

// publicFields are the form fields that carry no secret; every other
// value a request sends is masked out of what the server answers.
var publicFields = map[string]bool{"grant_type": true, "redirect_uri": true}

// postForm sends form as application/x-www-form-urlencoded to endpoint, with
// empty fields left out, and returns the JSON body of a 2xx answer. Other
// answers become *ServerError or *RedirectError, with every secret of
// sec and every value of form masked out of the server's text; transport
// failures are described for people. No redirect is ever followed: a
// secret goes only to the URL it was meant for.
func postForm(ctx context.Context, c Config, endpoint string, form url.Values, sec secrets) ([]byte, error) {
	for k, v := range form {
		if len(v) == 0 || v[0] == "" {
			delete(form, k)
		} else if !publicFields[k] {
			sec = sec.with(v...)
		}
	}
	var body io.Reader
	if len(form) > 0 {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return nil, fmt.Errorf("flows: bad endpoint %q: %w", endpoint, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := do(ctx, c, req, sec)
	if err != nil {
		return nil, err
	}
	if isRedirect(resp.status) {
		return nil, newRedirectError(req.URL, resp, sec)
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, parseServerError(endpoint, resp.status, resp.contentType, resp.body, sec)
	}
	if !json.Valid(resp.body) {
		what := resp.contentType
		if what == "" {
			what = "no content type"
		}
		desc := ""
		if looksHTML(resp.contentType, resp.body) {
			desc = " (" + htmlTitle(resp.body, sec) + ")"
		}
		return nil, fmt.Errorf("flows: %s answered %s instead of JSON%s; check the server URL and routes", endpoint, sec.quote(what), desc)
	}
	return resp.body, nil
}

// isRedirect reports whether status is a 3xx redirect.
func isRedirect(status int) bool { return status >= 300 && status <= 399 }

// RedirectError is a 3xx answer to a request that carried a credential.
// oidc-auth never follows such a redirect (the secret would go to whatever
// the Location names, even in clear text to another host), and never stores
// what the redirect target would answer.
type RedirectError struct {
	// URL is the endpoint that answered.
	URL string
	// Status is the HTTP status (301, 302, 303, 307, 308, …).
	Status int
	// Location is where the redirect pointed, without its query and with
	// secrets and control characters removed.
	Location string
}

// Error names the endpoint, the redirect and what to check.
func (e *RedirectError) Error() string {
	to := e.Location
	if to == "" {
		to = "nowhere (no Location)"
	}
	return fmt.Sprintf("flows: %s answered %d %s, a redirect to %s; credentials are never sent on to another address, so check the server URL (scheme, host and path prefix)", e.URL, e.Status, http.StatusText(e.Status), to)
}

// newRedirectError describes a redirect answer to u.
func newRedirectError(u *url.URL, resp *response, sec secrets) *RedirectError {
	return &RedirectError{URL: redact(u), Status: resp.status, Location: safeLocation(u, resp.location, sec)}
}

// safeLocation resolves a Location header against the request URL and
// returns it fit to print: no user info, query or fragment, secrets
// masked, no control characters, shortened.
func safeLocation(base *url.URL, location string, sec secrets) string {
	if location == "" {
		return ""
	}
	loc, err := base.Parse(location)
	if err != nil {
		return sec.quote(location)
	}
	return sec.quote(redact(loc))
}

// do sends req and reads at most maxBody of the answer.
func do(ctx context.Context, c Config, req *http.Request, sec secrets) (*response, error) {
	NoteSecret(ctx, sec...)
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, req.URL, err, sec)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, req.URL, err, sec)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("flows: %s sent more than %d KiB; is this the right server?", redact(req.URL), maxBody>>10)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{status: resp.StatusCode, contentType: ct, location: resp.Header.Get("Location"), body: b}, nil
}

// retryTransport sends a request once more on a fresh connection when it
// failed because the server closed the reused keep-alive connection just
// as it was sent (uvicorn closes idle connections after 5 s, the poll
// interval of Dex and Keycloak): Go's transport retries only idempotent
// requests by itself. It wraps every client the flows use, so the
// standard-provider flows of x/oauth2 and go-oidc get it too.
type retryTransport struct {
	base http.RoundTripper
}

// RoundTrip sends r, and once more when the first try died on a reused
// connection that the server had closed.
func (t *retryTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var reused atomic.Bool
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused.Store(i.Reused) }}
	resp, err := t.base.RoundTrip(r.WithContext(httptrace.WithClientTrace(r.Context(), trace)))
	if err == nil || !reused.Load() || r.Context().Err() != nil || !closedByServer(err) {
		return resp, err
	}
	again, ok := replay(r)
	if !ok {
		return resp, err
	}
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
	return t.base.RoundTrip(again)
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport.
func (t *retryTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// closedByServer reports whether err is what a client sees when the server
// closed the connection under it: an EOF or a reset before any answer.
func closedByServer(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		isErrno(err, closedErrnos) ||
		strings.Contains(err.Error(), "server closed idle connection")
}

// refused reports whether err is a dial to a port nobody listens on.
func refused(err error) bool {
	return isErrno(err, refusedErrnos)
}

// isErrno reports whether err wraps one of the system errors in list.
func isErrno(err error, list []syscall.Errno) bool {
	for _, errno := range list {
		if errors.Is(err, errno) {
			return true
		}
	}
	return false
}

// replay returns a copy of req with a fresh body, when its body can be
// read again.
func replay(req *http.Request) (*http.Request, bool) {
	again := req.Clone(req.Context())
	if req.Body == nil || req.Body == http.NoBody {
		return again, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, false
	}
	again.Body = body
	return again, true
}

// transportError turns a failed request into one sentence that names the
// server and the cause, and keeps context errors matchable.
func transportError(ctx context.Context, u *url.URL, err error, sec secrets) error {
	where := redact(u)
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); cause != ctx.Err() {
			return cause
		}
		return fmt.Errorf("flows: request to %s stopped: %w", where, ctx.Err())
	}
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		header   tls.RecordHeaderError
		dns      *net.DNSError
		op       *net.OpError
	)
	switch {
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return fmt.Errorf("flows: the TLS certificate of %s is not trusted (%s); check the URL or install the server's CA certificate", where, sec.quote(innermost(err).Error()))
	case errors.As(err, &header), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("flows: %s does not speak TLS; check whether the URL should start with http://", where)
	case errors.As(err, &dns):
		return fmt.Errorf("flows: cannot resolve %s: %s", u.Hostname(), sec.quote(dns.Err))
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("flows: cannot reach %s: %s", where, sec.quote(innermost(err).Error()))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("flows: %s did not answer in time", where)
	}
	return fmt.Errorf("flows: request to %s failed: %s", where, sec.quote(innermost(err).Error()))
}

// innermost strips url.Error and net.OpError wrappers, whose messages repeat
// the URL and address.
func innermost(err error) error {
	for {
		switch e := err.(type) {
		case *url.Error:
			err = e.Err
		case *net.OpError:
			err = e.Err
		default:
			return err
		}
	}
}

// redact returns u without user info or query, which may carry secrets.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.Fragment = ""
	return c.String()
}

// debugTransport writes one debug line per request when the request's
// context carries debug output (see WithDebug): method, URL without its
// query, status and time taken, or the class of a failure. At
// DebugDetails it adds the headers' names (values only of headers that
// carry no credential) and the field names of a JSON answer. Before any
// line is written, the secrets the request sends and the answer brings
// (form fields, credentials, tokens, codes, states) are noted, so that no
// later line can show them. It sits inside retryTransport, so a request
// sent again shows twice.
type debugTransport struct {
	base http.RoundTripper
}

// RoundTrip sends r, and describes it when r's context asks for it.
func (t *debugTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if !DebugEnabled(ctx, DebugDecisions) {
		return t.base.RoundTrip(r)
	}
	noteRequestSecrets(ctx, r)
	start := time.Now()
	resp, err := t.base.RoundTrip(r)
	took := time.Since(start).Milliseconds()
	what := r.Method + " " + redact(r.URL)
	if err != nil {
		Debugf(ctx, DebugDecisions, "%s → %s (%d ms)", what, errorClass(ctx, err), took)
		return resp, err
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		noteQuerySecrets(ctx, loc)
	}
	var body []byte
	isJSON := false
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "application/json" || strings.HasSuffix(ct, "+json") {
		// Read the answer here (as do would) to note its secrets before
		// any line is written, and hand the same bytes on.
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body = readCloser{Reader: io.MultiReader(bytes.NewReader(body), resp.Body), Closer: resp.Body}
		isJSON = true
		noteJSONSecrets(ctx, body)
	}
	Debugf(ctx, DebugDecisions, "%s → %d %s (%d ms)", what, resp.StatusCode, http.StatusText(resp.StatusCode), took)
	if DebugEnabled(ctx, DebugDetails) {
		Debugf(ctx, DebugDetails, "  request headers: %s", describeHeaders(r.Header, r.URL))
		Debugf(ctx, DebugDetails, "  answer headers: %s", describeHeaders(resp.Header, r.URL))
		if isJSON {
			Debugf(ctx, DebugDetails, "  answer fields: %s", jsonFieldNames(body))
		}
	}
	return resp, nil
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport.
func (t *debugTransport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

// readCloser is a body read from Reader and closed with Closer.
type readCloser struct {
	io.Reader
	io.Closer
}

// publicParams are the request and answer fields whose values carry no
// secret; every other form field a request sends is noted as one.
var publicParams = map[string]bool{
	"grant_type": true, "redirect_uri": true, "client_id": true, "scope": true, "token_type_hint": true,
	"audience": true, "resource": true, "response_type": true, "code_challenge_method": true, "code_challenge": true,
}

// secretFields are the fields of JSON answers, and the query parameters of
// redirects, whose values are secrets.
var secretFields = []string{"access_token", "refresh_token", "id_token", "device_code", "code", "state", "nonce", "client_secret", "session_token"}

// noteRequestSecrets notes what r sends that is secret: its credentials
// header (and the Basic credentials inside it) and every form field that is
// not public.
func noteRequestSecrets(ctx context.Context, r *http.Request) {
	if a := r.Header.Get("Authorization"); a != "" {
		NoteSecret(ctx, a)
		if scheme, cred, ok := strings.Cut(a, " "); ok {
			NoteSecret(ctx, cred)
			if strings.EqualFold(scheme, "basic") {
				if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
					if _, pass, ok := strings.Cut(string(raw), ":"); ok {
						unescaped, _ := url.QueryUnescape(pass)
						NoteSecret(ctx, pass, unescaped)
					}
				}
			}
		}
	}
	noteQuerySecrets(ctx, r.URL.String())
	if r.GetBody == nil {
		return
	}
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return
	}
	body, err := r.GetBody()
	if err != nil {
		return
	}
	defer body.Close()
	b, _ := io.ReadAll(io.LimitReader(body, maxBody))
	form, _ := url.ParseQuery(string(b))
	for k, vs := range form {
		if !publicParams[k] {
			NoteSecret(ctx, vs...)
		}
	}
}

// noteQuerySecrets notes the secret query parameters of a URL.
func noteQuerySecrets(ctx context.Context, raw string) {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return
	}
	q := u.Query()
	for _, name := range secretFields {
		NoteSecret(ctx, q[name]...)
	}
}

// noteJSONSecrets notes the values of the secret fields of a JSON answer.
func noteJSONSecrets(ctx context.Context, body []byte) {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return
	}
	for _, name := range secretFields {
		if v, ok := m[name].(string); ok {
			NoteSecret(ctx, v)
		}
	}
}

// safeHeaders are the headers whose values are shown at DebugDetails; no
// credential or cookie is among them.
var safeHeaders = map[string]bool{
	"Accept": true, "Cache-Control": true, "Content-Length": true, "Content-Type": true, "Date": true,
	"Expires": true, "Pragma": true, "Retry-After": true, "Server": true, "Vary": true, "Age": true,
}

// describeHeaders lists the names of h, sorted, with the values of the
// safe ones, and a Location without its query. base resolves a relative
// Location.
func describeHeaders(h http.Header, base *url.URL) string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		switch {
		case safeHeaders[name]:
			parts = append(parts, fmt.Sprintf("%s=%q", name, shorten(strings.Join(h.Values(name), ", "), 80)))
		case name == "Location":
			parts = append(parts, fmt.Sprintf("%s=%q", name, safeLocation(base, h.Get(name), nil)))
		default:
			parts = append(parts, name)
		}
	}
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ", ")
}

// jsonFieldNames lists the top-level field names of a JSON object, sorted,
// never their values.
func jsonFieldNames(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "(empty)"
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return "(not a JSON object)"
	}
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, shorten(name, 40))
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "(none)"
	}
	return strings.Join(names, ", ")
}

// shorten cuts s to at most n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// errorClass names what kind of failure err is, without its text, which
// may repeat a URL with its query.
func errorClass(ctx context.Context, err error) string {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		header   tls.RecordHeaderError
		dns      *net.DNSError
		op       *net.OpError
		ne       net.Error
	)
	switch {
	case ctx.Err() != nil:
		return "stopped (" + ctx.Err().Error() + ")"
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname):
		return "failed: TLS certificate not trusted"
	case errors.As(err, &header):
		return "failed: not TLS"
	case errors.As(err, &dns):
		return "failed: DNS lookup"
	case refused(err):
		return "failed: connection refused"
	case errors.As(err, &op) && op.Op == "dial":
		return "failed: cannot connect"
	case errors.As(err, &ne) && ne.Timeout():
		return "failed: timeout"
	case closedByServer(err):
		return "failed: connection closed by the server"
	}
	return "failed"
}
