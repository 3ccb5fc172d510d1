package keyring_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// realKeychain returns a store on the OS keychain under a service name of
// this test. Without a reachable keychain the test is skipped, with the
// reason, unless OIDC_AUTH_TEST_KEYCHAIN=1 promises one (scripts/test runs
// these tests inside scripts/with-secret-service), where it fails instead;
// it fails too on Windows, whose Credential Manager is always there (Wine
// has one as well).
func realKeychain(t *testing.T) *keyring.KeychainStore {
	t.Helper()
	s := &keyring.KeychainStore{Service: "oidc-auth-test-" + strings.ReplaceAll(t.Name(), "/", "-"), LockDir: t.TempDir()}
	if err := s.Probe(context.Background()); err != nil {
		if os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") == "1" || runtime.GOOS == "windows" {
			t.Fatalf("the OS keychain is not reachable: %v", err)
		}
		t.Skipf("no OS keychain here (%v); scripts/with-secret-service provides one", err)
	}
	return s
}

func TestOSKeychainRoundTrip(t *testing.T) {
	s := realKeychain(t)
	ctx := context.Background()
	t.Cleanup(func() {
		s.Remove(ctx, "a.example.org")
		s.Remove(ctx, "b.example.org")
	})
	now := time.Now()
	tok := keyring.Token{AccessToken: "real-a", TokenType: "Bearer", Expires: now.Add(time.Hour).Unix(), RefreshToken: "real-r", RefreshExpires: now.Add(2 * time.Hour).Unix()}
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: tok, Server: &keyring.Server{Host: "https://a.example.org/x"}}); err != nil {
		t.Fatal(err)
	}
	tok.AccessToken = "real-b"
	if err := s.Put(ctx, "b.example.org", &keyring.Record{Token: tok}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "https://A.example.org")
	if err != nil || rec.Token.AccessToken != "real-a" || rec.Server.Host != "https://a.example.org/x" {
		t.Fatalf("Get = %+v, %v", rec, err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 2 || list[0].Key != "https://a.example.org" || list[1].Token.AccessToken != "real-b" {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s.Remove(ctx, "a.example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "a.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Errorf("List after Remove = %+v", list)
	}
}

func TestOSKeychainLargeToken(t *testing.T) {
	s := realKeychain(t)
	ctx := context.Background()
	t.Cleanup(func() { s.Remove(ctx, "big.example.org") })
	tok := bigToken(16<<10, "0123456789abcdef")
	tok.Expires = time.Now().Add(time.Hour).Unix()
	tok.RefreshExpires = tok.Expires
	if err := s.Put(ctx, "big.example.org", &keyring.Record{Token: tok}); err != nil {
		t.Fatalf("Put of a 16 KiB token: %v", err)
	}
	rec, err := s.Get(ctx, "big.example.org")
	if err != nil || rec.Token.AccessToken != tok.AccessToken {
		t.Fatalf("Get of the 16 KiB token: %v (intact: %v)", err, err == nil && rec.Token.AccessToken == tok.AccessToken)
	}
}
