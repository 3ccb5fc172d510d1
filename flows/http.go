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
	"net/url"
	"strings"
)

// maxBody caps what is read of any server answer.
const maxBody = 1 << 20

// response is a server answer read in full (up to maxBody).
type response struct {
	status      int
	contentType string
	body        []byte
}

// postForm sends form as application/x-www-form-urlencoded to endpoint, with
// empty fields left out, and returns the JSON body of a 2xx answer. Other
// answers become *ServerError; transport failures are described for people.
func postForm(ctx context.Context, c Config, endpoint string, form url.Values) ([]byte, error) {
	for k, v := range form {
		if len(v) == 0 || v[0] == "" {
			delete(form, k)
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
	resp, err := do(ctx, c, req)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, parseServerError(endpoint, resp.status, resp.contentType, resp.body)
	}
	if !json.Valid(resp.body) {
		what := resp.contentType
		if what == "" {
			what = "no content type"
		}
		desc := ""
		if looksHTML(resp.contentType, resp.body) {
			desc = " (" + htmlTitle(resp.body) + ")"
		}
		return nil, fmt.Errorf("flows: %s answered %s instead of JSON%s; check the server URL and routes", endpoint, what, desc)
	}
	return resp.body, nil
}

// do sends req and reads at most maxBody of the answer.
func do(ctx context.Context, c Config, req *http.Request) (*response, error) {
	resp, err := c.HTTPClient.Do(req)
	if err != nil {
		return nil, transportError(ctx, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, transportError(ctx, req.URL, err)
	}
	if len(b) > maxBody {
		return nil, fmt.Errorf("flows: %s sent more than %d KiB; is this a py-oidc-auth server?", redact(req.URL), maxBody>>10)
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{status: resp.StatusCode, contentType: ct, body: b}, nil
}

// transportError turns a failed request into one sentence that names the
// server and the cause, and keeps context errors matchable.
func transportError(ctx context.Context, u *url.URL, err error) error {
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
		return fmt.Errorf("flows: the TLS certificate of %s is not trusted (%v); check the URL or install the server's CA certificate", where, innermost(err))
	case errors.As(err, &header), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("flows: %s does not speak TLS; check whether the URL should start with http://", where)
	case errors.As(err, &dns):
		return fmt.Errorf("flows: cannot resolve %s: %v", u.Hostname(), dns.Err)
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Errorf("flows: cannot reach %s: %v", where, innermost(err))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("flows: %s did not answer in time", where)
	}
	return fmt.Errorf("flows: request to %s failed: %v", where, innermost(err))
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
