package flows_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/keyring"
)

func ExampleConfig_Endpoint() {
	cfg := flows.Config{Host: "https://freva.example.org/api/freva-nextgen/"}
	fmt.Println(cfg.Endpoint(flows.DefaultTokenRoute))
	// Output: https://freva.example.org/api/freva-nextgen/auth/v2/token
}

func ExampleParseToken() {
	now := time.Unix(1767225000, 0)
	tok, err := flows.ParseToken([]byte(`{"access_token":"abc","token_type":"bearer","exp":1767225600,"refresh_token":"def"}`), now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.Authorization(), tok.Expires, tok.RefreshExpires)
	// Output: Bearer abc 1767225600 1767225180
}

// ExampleAuthenticate logs in once with the device flow and then gets the
// token again from the store, with no request to the server.
func ExampleAuthenticate() {
	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
	cfg := flows.Config{Host: srv.URL(), Timeout: time.Minute}
	ctx := context.Background()

	// The person asked to log in; the test server approves after one poll.
	first, err := flows.Authenticate(ctx, cfg, store, flows.Options{Interaction: flows.InteractAlways, Flow: flows.FlowDevice, Out: io.Discard})
	if err != nil {
		fmt.Println(err)
		return
	}
	polls := srv.Count(pyauthserver.RouteToken)

	// Later, no person is needed.
	again, err := flows.Authenticate(ctx, cfg, store, flows.Options{Interaction: flows.InteractNever})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("same token:", again.AccessToken == first.AccessToken)
	fmt.Println("requests for the second:", srv.Count(pyauthserver.RouteToken)-polls)
	// Output:
	// same token: true
	// requests for the second: 0
}

// Example_callAPI is a Go program that calls an API with a fresh token:
// Authenticate hands out the stored token while it is valid, refreshes it
// when it is not, and never starts a login in a program without a person.
func Example_callAPI() {
	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	defer srv.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || !srv.Valid(tok) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "42 datasets")
	}))
	defer api.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
	cfg := flows.Config{Host: srv.URL(), Timeout: time.Minute}
	ctx := context.Background()
	// `oidc-auth login` did this once, on the person's terminal.
	if _, err := flows.Authenticate(ctx, cfg, store, flows.Options{Interaction: flows.InteractAlways, Flow: flows.FlowDevice, Out: io.Discard}); err != nil {
		fmt.Println(err)
		return
	}

	// The program: a token valid for at least the next five minutes.
	tok, err := flows.Authenticate(ctx, cfg, store, flows.Options{Interaction: flows.InteractNever, MinValid: 4 * time.Minute})
	if err != nil {
		fmt.Println(err) // "no valid login for …; run `oidc-auth login …`"
		return
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL+"/datasets", nil)
	req.Header.Set("Authorization", tok.Authorization())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(resp.Status, ": ", string(body))
	// Output: 200 OK: 42 datasets
}

// ExampleTransport gives an http.Client the login's bearer token: every
// request carries a valid token, and a 401 (here: the server ended the
// token early) makes the transport refresh once and send the request
// again.
func ExampleTransport() {
	srv := pyauthserver.New(pyauthserver.Options{Prefix: "/api/app", Interval: 1})
	defer srv.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); !ok || !srv.Valid(tok) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, "hello")
	}))
	defer api.Close()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	store := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
	cfg := flows.Config{Host: srv.URL(), Timeout: time.Minute}
	if _, err := flows.Authenticate(context.Background(), cfg, store, flows.Options{Interaction: flows.InteractAlways, Flow: flows.FlowDevice, Out: io.Discard}); err != nil {
		fmt.Println(err)
		return
	}

	client := &http.Client{Transport: &flows.Transport{
		Config:  cfg,
		Store:   store,
		Options: flows.Options{Interaction: flows.InteractNever},
	}}
	for i := range 2 {
		if i == 1 {
			srv.ExpireAccessTokens()
		}
		resp, err := client.Get(api.URL)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Print(resp.StatusCode, " ", string(body))
	}
	fmt.Println("refreshes:", srv.Count(pyauthserver.CountTokenRefresh))
	// Output:
	// 200 hello
	// 200 hello
	// refreshes: 1
}
