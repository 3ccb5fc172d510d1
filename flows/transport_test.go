package flows_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// apiServer is an API that answers 200 with the request's body to live
// tokens of srv, and 401 to anything else; seen records the
// Authorization header of every request.
func apiServer(t *testing.T, srv *pyauthserver.Server) (api *httptest.Server, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var headers []string
	api = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		headers = append(headers, r.Header.Get("Authorization"))
		mu.Unlock()
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !srv.Valid(tok) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Write(append([]byte("ok "), body...))
	}))
	t.Cleanup(api.Close)
	return api, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), headers...) }
}

// loggedIn logs a file store in to a new test server.
func loggedIn(t *testing.T) (*pyauthserver.Server, flows.Config, *keyring.FileStore, *flows.Token) {
	t.Helper()
	srv := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	store := &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}
	cfg := flows.Config{Host: srv.URL(), Timeout: 20 * time.Second}
	tok, err := flows.Authenticate(context.Background(), cfg, store, flows.Options{Interaction: flows.InteractAlways, Flow: flows.FlowDevice, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cfg, store, tok
}

func TestTransportRefreshesOnceOn401(t *testing.T) {
	t.Parallel()
	srv, cfg, store, first := loggedIn(t)
	api, seen := apiServer(t, srv)
	client := &http.Client{Transport: &flows.Transport{Config: cfg, Store: store, Options: flows.Options{Interaction: flows.InteractNever}}}

	get := func(body string) (int, string) {
		t.Helper()
		resp, err := client.Post(api.URL, "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("one"); code != 200 || body != "ok one" || srv.Count(pyauthserver.CountTokenRefresh) != 0 {
		t.Fatalf("first call: %d %q, %d refreshes", code, body, srv.Count(pyauthserver.CountTokenRefresh))
	}
	// The server ends the token before its expiry says: the API answers
	// 401, the transport refreshes once and sends the body again.
	srv.ExpireAccessTokens()
	if code, body := get("two"); code != 200 || body != "ok two" || srv.Count(pyauthserver.CountTokenRefresh) != 1 {
		t.Fatalf("after the server expired the token: %d %q, %d refreshes", code, body, srv.Count(pyauthserver.CountTokenRefresh))
	}
	h := seen()
	if len(h) != 3 || h[0] != "Bearer "+first.AccessToken || h[1] != h[0] || h[2] == h[0] {
		t.Errorf("Authorization headers seen: %d, want the first token twice, then a new one", len(h))
	}
	// A token the API refuses that refreshing does not help: one refresh,
	// then the 401 is the answer.
	srv.RevokeAccessTokens()
	srv.RevokeRefreshTokens()
	before := srv.Count(pyauthserver.CountTokenRefresh)
	if code, _ := get("three"); code != http.StatusUnauthorized || srv.Count(pyauthserver.CountTokenRefresh) != before+1 {
		t.Errorf("with every token revoked: %d, %d refreshes; want 401 after one", code, srv.Count(pyauthserver.CountTokenRefresh)-before)
	}
}

func TestTransportKeepsTheTokenOnItsHost(t *testing.T) {
	t.Parallel()
	_, cfg, store, tok := loggedIn(t)
	var mu sync.Mutex
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		mu.Unlock()
		io.WriteString(w, "landed")
	}))
	defer other.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/x", http.StatusFound)
	}))
	defer api.Close()

	// Go's own client keeps a header the caller set on a redirect to
	// another port of the same host: the transport must not rely on it.
	req, _ := http.NewRequest(http.MethodGet, api.URL, nil)
	req.Header.Set("Authorization", "Bearer caller-set")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	client := &http.Client{Transport: &flows.Transport{Config: cfg, Store: store, Options: flows.Options{Interaction: flows.InteractNever}}}
	resp, err = client.Get(api.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if string(body) != "landed" || len(elsewhere) != 2 {
		t.Fatalf("got %q after %d requests to the other server", body, len(elsewhere))
	}
	if elsewhere[0] != "Bearer caller-set" {
		t.Errorf("http.Client dropped the caller's header on a redirect to another port (%q): the Transport's doc says it keeps it", elsewhere[0])
	}
	if elsewhere[1] != "" {
		t.Errorf("the redirect target got Authorization %q (the token is %.8s…)", elsewhere[1], tok.AccessToken)
	}

	// To another host name, http.Client drops the caller's header itself.
	elsewhere = nil
	mu.Unlock()
	byName := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1), http.StatusFound)
	}))
	defer byName.Close()
	req, _ = http.NewRequest(http.MethodGet, byName.URL, nil)
	req.Header.Set("Authorization", "Bearer caller-set")
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	if len(elsewhere) != 1 || elsewhere[0] != "" {
		t.Errorf("http.Client sent %q to another host name: the Transport's doc says it drops it", elsewhere)
	}
}

func TestTransportRefusesClearText(t *testing.T) {
	t.Parallel()
	_, cfg, store, _ := loggedIn(t)
	client := &http.Client{Transport: &flows.Transport{Config: cfg, Store: store}}
	_, err := client.Get("http://api.example.org/data")
	var ce *flows.ClearTextError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *ClearTextError", err)
	}
}
