package flows

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
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
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		strings.Contains(err.Error(), "server closed idle connection")
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
