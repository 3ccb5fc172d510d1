package flows_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
