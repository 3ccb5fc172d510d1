package hostile

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Prefixes of the tokens a Recorder hands out, for asserting that none was
// stored or used.
const (
	// EvilAccessPrefix starts every access_token a Recorder answers.
	EvilAccessPrefix = "evil-access-"
	// EvilRefreshPrefix starts every refresh_token a Recorder answers.
	EvilRefreshPrefix = "evil-refresh-"
)

// Recorder is an HTTP server on its own 127.0.0.1 port, the "other party"
// of the redirect modes. It records every request and answers each with 200
// and a well-formed py-oidc-auth token response,
// {"access_token":"evil-access-…","token_type":"Bearer","expires":now+3600,"refresh_token":"evil-refresh-…","refresh_expires":now+7200},
// so a client that wrongly follows a redirect would store an evil login.
type Recorder struct {
	ts *httptest.Server

	mu   sync.Mutex
	reqs []Request
}

// Request is one request a Recorder received.
type Request struct {
	// Method is the request method, e.g. "POST".
	Method string
	// Path is the URL path, e.g. "/steal".
	Path string
	// RawQuery is the URL query without "?", e.g. "x=1".
	RawQuery string
	// Header holds the request headers, Authorization and Cookie included.
	Header http.Header
	// Body is the request body as received (a form for a followed POST).
	Body string
}

// Form returns Body parsed as a URL-encoded form, as far as it parses.
func (r Request) Form() url.Values {
	v, _ := url.ParseQuery(r.Body)
	return v
}

// StartRecorder starts a Recorder on 127.0.0.1 that is closed when tb's test
// ends. Start makes one for every Server.
func StartRecorder(tb testing.TB) *Recorder {
	tb.Helper()
	rec := &Recorder{}
	rec.ts = httptest.NewServer(http.HandlerFunc(rec.serve))
	tb.Cleanup(rec.ts.Close)
	return rec
}

// URL returns the recorder's base URL, e.g. http://127.0.0.1:1235.
func (rec *Recorder) URL() string { return rec.ts.URL }

// Requests returns copies of every request received so far, in order.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]Request, len(rec.reqs))
	for i, r := range rec.reqs {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// evilToken is the Recorder's answer.
type evilToken struct {
	AccessToken    string `json:"access_token"`
	TokenType      string `json:"token_type"`
	Expires        int64  `json:"expires"`
	RefreshToken   string `json:"refresh_token"`
	RefreshExpires int64  `json:"refresh_expires"`
}

func (rec *Recorder) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		RawQuery: r.URL.RawQuery,
		Header:   r.Header.Clone(),
		Body:     string(body),
	})
	rec.mu.Unlock()
	now := time.Now().Unix()
	writeBody(w, http.StatusOK, "application/json", string(marshal(evilToken{
		AccessToken:    EvilAccessPrefix + randToken(),
		TokenType:      "Bearer",
		Expires:        now + 3600,
		RefreshToken:   EvilRefreshPrefix + randToken(),
		RefreshExpires: now + 7200,
	})))
}

// randToken returns 16 random bytes, base64url-encoded without padding.
func randToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
