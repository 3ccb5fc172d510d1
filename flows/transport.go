package flows

import (
	"io"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that sends every request with the
// bearer token of one login, for a Go program that calls an API:
//
//	client := &http.Client{Transport: &flows.Transport{Config: cfg, Store: store}}
//
// Each request gets its token from Authenticate (the stored token, without
// any request or lock while it is valid; else a refresh under the store's
// lock; else a login, if Options.Interaction allows one: a service sets
// InteractNever). A 401 answer makes it refresh once and send the request
// again, if the token it used is still the stored one and the request's
// body can be sent again (GetBody, which http.NewRequest sets for bytes,
// strings and their readers); otherwise the 401 is returned as it is.
//
// The token goes only to the scheme, host and port of the request the
// client was asked to send: a request the http.Client makes to follow a
// redirect elsewhere is sent without it. (http.Client itself drops an
// Authorization header that the caller set when a redirect leaves the
// host and its subdomains, but keeps it for another port of the same
// host, and a RoundTripper is asked anew for every hop; the client's
// CheckRedirect stays the caller's to set.) Plain http is refused for
// hosts that are not loopback unless Config.AllowHTTP is set, as for the
// auth server itself.
type Transport struct {
	// Config names the login.
	Config Config
	// Store holds it.
	Store TokenStore
	// Options tune Authenticate; its Rejected field is set by Transport.
	Options Options
	// Base sends the requests; default http.DefaultTransport.
	Base http.RoundTripper
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip sends req with the login's access token in its Authorization
// header, refreshing the token once when the server answers 401.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !sameOrigin(req) {
		Debugf(req.Context(), DebugDecisions, "transport: %s is a redirect to another host; sent without the token", redact(req.URL))
		return t.base().RoundTrip(req)
	}
	if err := checkTransport(req.URL, t.Config.AllowHTTP); err != nil {
		closeBody(req)
		return nil, err
	}
	opts := t.Options
	opts.Rejected = ""
	tok, err := Authenticate(req.Context(), t.Config, t.Store, opts)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	retry, canRetry := req, true
	if req.Body != nil && req.Body != http.NoBody {
		if req.GetBody == nil {
			canRetry = false
		} else if body, err := req.GetBody(); err != nil {
			canRetry = false
		} else {
			retry = req.Clone(req.Context())
			retry.Body = body
		}
	}
	resp, err := t.base().RoundTrip(withToken(req, tok))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !canRetry {
		if retry != req {
			closeBody(retry)
		}
		return resp, err
	}
	opts.Rejected = tok.AccessToken
	fresh, ferr := Authenticate(req.Context(), t.Config, t.Store, opts)
	if ferr != nil || fresh.AccessToken == tok.AccessToken {
		Debugf(req.Context(), DebugDecisions, "transport: %s answered 401, and no other token is at hand", redact(req.URL))
		if retry != req {
			closeBody(retry)
		}
		return resp, nil
	}
	Debugf(req.Context(), DebugDecisions, "transport: %s answered 401; sending it again with a refreshed token", redact(req.URL))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // reuse the connection
	resp.Body.Close()
	return t.base().RoundTrip(withToken(retry, fresh))
}

// base is the RoundTripper that sends the requests.
func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// withToken is a copy of req that carries tok.
func withToken(req *http.Request, tok *Token) *http.Request {
	out := req.Clone(req.Context())
	out.Body = req.Body // the clone shares it; each is sent once
	out.Header.Set("Authorization", tok.Authorization())
	NoteSecret(req.Context(), tok.AccessToken)
	return out
}

// sameOrigin reports whether req goes to the scheme, host and port of the
// request the client was first asked to send (req itself, unless the
// client follows a redirect).
func sameOrigin(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first == req || (strings.EqualFold(first.URL.Scheme, req.URL.Scheme) && strings.EqualFold(first.URL.Host, req.URL.Host))
}

// closeBody closes a request's body, as a RoundTripper must also when it
// fails.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
