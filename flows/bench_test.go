package flows_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// BenchmarkAuthenticateCached measures the path every git and docker
// operation takes once logged in: a valid token read from the file store,
// with no lock and no request (the transport fails the benchmark if asked).
func BenchmarkAuthenticateCached(b *testing.B) {
	store := &keyring.FileStore{Path: filepath.Join(b.TempDir(), "token-store.json")}
	ctx := context.Background()
	now := time.Now()
	rec := &flows.Record{Token: flows.Token{AccessToken: "cached", RefreshToken: "r", Expires: now.Add(time.Hour).Unix(), RefreshExpires: now.Add(time.Hour).Unix()}}
	if err := store.Put(ctx, "https://auth.example.invalid", rec); err != nil {
		b.Fatal(err)
	}
	cfg := flows.Config{Host: "https://auth.example.invalid/api", HTTPClient: &http.Client{Transport: benchTransport{b}}}
	b.ReportAllocs()
	for b.Loop() {
		tok, err := flows.Authenticate(ctx, cfg, store, flows.Options{Interaction: flows.InteractNever})
		if err != nil || tok.AccessToken != "cached" {
			b.Fatal(tok, err)
		}
	}
}

type benchTransport struct{ b *testing.B }

func (t benchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.b.Fatalf("request to %s on the cached path", r.URL)
	return nil, nil
}
