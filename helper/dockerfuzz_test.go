package helper_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/oidc-auth/oidc-auth/helper"
)

// FuzzDockerInput feeds arbitrary input to each docker action, the way
// docker-credential-oidc hands its stdin to docker's HandleCommand: it
// never panics, and the configured registry's token comes out only for a
// server URL that names that registry.
func FuzzDockerInput(f *testing.F) {
	for _, seed := range []string{
		"registry.example.org", "https://registry.example.org/v1/", "registry.example.org.evil.com",
		"http://registry.example.org", `{"ServerURL":"other.example.org","Username":"u","Secret":"s"}`,
		`{"ServerURL":"registry.example.org","Username":"u","Secret":"s"}`, "", "\x00", "https://[::1]:5000",
	} {
		for _, action := range []string{"get", "store", "erase", "list"} {
			f.Add(action, seed)
		}
	}
	f.Fuzz(func(t *testing.T, action, input string) {
		switch action {
		case "get", "store", "erase", "list":
		default:
			return
		}
		host := "http://127.0.0.1:1" // never reached: the token is valid
		store := newStore(t)
		putToken(t, store, host, "registry-token", nil)
		cfg := mustParseConfig(t, serverEntry("registry.example.org", host))
		h := helper.Docker{Helper: &helper.Helper{Config: cfg, Store: store}}
		var out bytes.Buffer
		credentials.HandleCommand(h, action, strings.NewReader(input), &out)
		if strings.Contains(out.String(), "registry-token") {
			lower := strings.ToLower(strings.TrimSpace(input))
			lower = strings.TrimPrefix(strings.TrimPrefix(lower, "https://"), "http://")
			if lower != "registry.example.org" && !strings.HasPrefix(lower, "registry.example.org/") {
				t.Fatalf("%s %q answered with the registry's token:\n%s", action, input, out.String())
			}
		}
		if _, err := store.List(context.Background()); err != nil {
			t.Fatalf("%s %q left the store unreadable: %v", action, input, err)
		}
	})
}
