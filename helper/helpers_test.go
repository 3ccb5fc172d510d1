package helper_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// tripwire returns the URL of a server that fails the test on any request:
// the host of a server whose valid stored token must be answered without
// network.
func tripwire(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request to the auth server: %s %s", r.Method, r.URL)
		http.Error(w, "tripwire", http.StatusTeapot)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// newStore returns an empty file store in a temporary directory.
func newStore(t *testing.T) *keyring.FileStore {
	t.Helper()
	return &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}
}

// putToken stores a token for host that is valid for an hour and returns
// its expiry.
func putToken(t *testing.T, store keyring.TokenStore, host, access string, srv *keyring.Server) int64 {
	t.Helper()
	key, err := keyring.Key(host)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	rec := &keyring.Record{
		Token: keyring.Token{
			AccessToken: access, TokenType: "Bearer", Expires: exp,
			RefreshToken: "refresh-" + access, RefreshExpires: exp + 3600,
		},
		Server: srv,
	}
	if err := store.Put(context.Background(), key, rec); err != nil {
		t.Fatal(err)
	}
	return exp
}

// mustParseConfig parses a config file's content or fails the test.
func mustParseConfig(t *testing.T, text string) *helper.Config {
	t.Helper()
	cfg, err := helper.ParseConfig("config.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// serverEntry is one [[server]] table.
func serverEntry(match, host string, extra ...string) string {
	s := "[[server]]\nmatch = \"" + match + "\"\nhost = \"" + host + "\"\n"
	for _, e := range extra {
		s += e + "\n"
	}
	return s + "\n"
}

// gitRequest is git's request for a URL, fields in git's order.
func gitRequest(protocol, host, path string, extra ...string) string {
	var b strings.Builder
	for _, e := range extra {
		b.WriteString(e + "\n")
	}
	b.WriteString("protocol=" + protocol + "\nhost=" + host + "\n")
	if path != "" {
		b.WriteString("path=" + path + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// readFile returns a file's bytes, nil when it does not exist.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

// syncBuffer is a bytes.Buffer safe for the helper's log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recordingStore is a TokenStore that counts the writes reaching the store
// it wraps.
type recordingStore struct {
	keyring.TokenStore
	mu      sync.Mutex
	puts    []string
	removes []string
}

var _ keyring.TokenStore = (*recordingStore)(nil)

func (s *recordingStore) Put(ctx context.Context, key string, rec *keyring.Record) error {
	s.mu.Lock()
	s.puts = append(s.puts, key)
	s.mu.Unlock()
	return s.TokenStore.Put(ctx, key, rec)
}

func (s *recordingStore) Remove(ctx context.Context, key string) error {
	s.mu.Lock()
	s.removes = append(s.removes, key)
	s.mu.Unlock()
	return s.TokenStore.Remove(ctx, key)
}

func (s *recordingStore) writes() (puts, removes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.puts...), append([]string(nil), s.removes...)
}

// brokenStore is a TokenStore that cannot be read, like a corrupt file.
type brokenStore struct{ err error }

var _ keyring.TokenStore = (*brokenStore)(nil)

func (s *brokenStore) Get(context.Context, string) (*keyring.Record, error) { return nil, s.err }
func (s *brokenStore) Put(context.Context, string, *keyring.Record) error   { return s.err }
func (s *brokenStore) Remove(context.Context, string) error                 { return s.err }
func (s *brokenStore) List(context.Context) ([]keyring.Entry, error)        { return nil, s.err }
func (s *brokenStore) Lock(context.Context, string) (func(), error)         { return func() {}, nil }

// fakeTerminal is the person's terminal: it records what a login prompts
// and whether every opening was closed.
type fakeTerminal struct {
	syncBuffer
	mu     sync.Mutex
	opens  int
	opened int // every opening, closed or not
}

var _ io.WriteCloser = (*fakeTerminal)(nil)

// open is a Helper.Terminal.
func (f *fakeTerminal) open() (io.WriteCloser, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens++
	f.opened++
	return f, nil
}

func (f *fakeTerminal) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.opens--
	return nil
}

// everOpened reports how often the terminal was opened.
func (f *fakeTerminal) everOpened() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opened
}

// closed reports whether every opening was closed.
func (f *fakeTerminal) closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.opens == 0
}
