// Package registry is an OCI distribution registry for tests that demands
// HTTP Basic credentials (RFC 7617) on every request and records which
// credentials reached it.
//
// It serves go-containerregistry's in-memory registry on 127.0.0.1 over
// plain HTTP. A request without Basic credentials, or with credentials that
// Options.Check rejects, is answered 401 with the challenge
// `WWW-Authenticate: Basic realm="registry"`, which is what makes
// `docker login`, the docker credential helpers and go-containerregistry's
// authn send credentials at all. Docker clients treat plain HTTP on the
// loopback interface as allowed.
package registry

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Realm is the realm of the Basic challenge on every 401 answer.
const Realm = "registry"

// Options configures a Server.
type Options struct {
	// Check decides whether a request's Basic credentials are accepted.
	// It may be called concurrently. Nil rejects every credential, so that
	// only Push can put content in and every client request gets 401.
	Check func(username, password string) bool
}

// Request is one request the Server answered, in arrival order.
type Request struct {
	// Method and Path are the request's method and URL path.
	Method, Path string
	// Username and Password are the request's Basic credentials, empty
	// when it had none.
	Username, Password string
	// HadAuth reports whether the request carried an Authorization header
	// of any scheme; Username and Password are only set for Basic.
	HadAuth bool
	// Status is the HTTP status of the answer.
	Status int
}

// Server is an authenticating OCI registry on 127.0.0.1. It is safe for
// concurrent use.
type Server struct {
	http     *httptest.Server
	registry http.Handler
	check    func(username, password string) bool

	mu       sync.Mutex
	requests []Request
}

// New starts a registry on 127.0.0.1 with a random port; it is closed when
// tb's test ends.
func New(tb testing.TB, opts Options) *Server {
	tb.Helper()
	s := &Server{
		registry: ggcrregistry.New(ggcrregistry.Logger(discardLogger())),
		check:    opts.Check,
	}
	// httptest listens on 127.0.0.1 unless told otherwise (-httptest.serve).
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	tb.Cleanup(s.http.Close)
	return s
}

// Host returns the registry's host and port, e.g. 127.0.0.1:43210: the
// registry part of image references and the server URL docker hands to
// credential helpers.
func (s *Server) Host() string {
	return strings.TrimPrefix(s.http.URL, "http://")
}

// URL returns the registry's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string {
	return s.http.URL
}

// Ref returns the reference Host()/repo:tag.
func (s *Server) Ref(repo, tag string) string {
	return s.Host() + "/" + repo + ":" + tag
}

// Push stores a small random image (one layer) as repo:tag, bypassing
// authentication and the request log, and returns its manifest digest.
func (s *Server) Push(tb testing.TB, repo, tag string) v1.Hash {
	tb.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		tb.Fatalf("registry: random image: %v", err)
	}
	ref, err := name.ParseReference(s.Ref(repo, tag), name.Insecure, name.StrictValidation)
	if err != nil {
		tb.Fatalf("registry: %v", err)
	}
	if err := remote.Write(ref, img, remote.WithTransport(handlerTransport{s.registry})); err != nil {
		tb.Fatalf("registry: push %s: %v", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		tb.Fatalf("registry: digest: %v", err)
	}
	return digest
}

// Requests returns a copy of the log of every request answered so far,
// Push's excepted.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// serveHTTP authenticates a client request, serves it and logs it.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, basic := r.BasicAuth()
	rec := Request{
		Method:  r.Method,
		Path:    r.URL.Path,
		HadAuth: r.Header.Get("Authorization") != "",
	}
	if basic {
		rec.Username, rec.Password = user, pass
	}
	sw := &statusWriter{ResponseWriter: w}
	if basic && s.check != nil && s.check(user, pass) {
		s.registry.ServeHTTP(sw, r)
	} else {
		unauthorized(sw)
	}
	rec.Status = sw.status()
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.mu.Unlock()
}

// unauthorized answers 401 with a Basic challenge and the distribution
// spec's error body.
func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", Realm))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	w.WriteHeader(http.StatusUnauthorized)
	fmt.Fprintln(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":null}]}`)
}

// discardLogger silences the registry's per-request log.
func discardLogger() *log.Logger {
	return log.New(io.Discard, "", 0)
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// handlerTransport is an http.RoundTripper that hands requests straight to
// a handler in this process, for Push.
type handlerTransport struct {
	h http.Handler
}

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the request; the handler only reads it.
	rec := httptest.NewRecorder()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	req := r.Clone(ctx)
	if req.Body == nil {
		req.Body = http.NoBody
	}
	t.h.ServeHTTP(rec, req)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}
