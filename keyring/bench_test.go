package keyring_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// benchToken is a login with tokens of 800 bytes each, the size of a
// typical provider's JWTs.
func benchToken(i int) keyring.Token {
	tok := sampleToken(fmt.Sprintf("%04d", i) + strings.Repeat("a", 796))
	tok.RefreshToken = strings.Repeat("r", 800)
	return tok
}

// benchStore fills the file of s with n logins, as s writes them, the one
// the benchmark asks for in the middle of the file. One login is written by
// s; the others are copies of its entry under other keys, written at once.
func benchStore(b *testing.B, n int, s keyring.TokenStore, path string) string {
	b.Helper()
	if err := s.Put(context.Background(), "https://seed.example.org", &keyring.Record{Token: benchToken(0)}); err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var seed map[string]json.RawMessage
	if err := json.Unmarshal(raw, &seed); err != nil {
		b.Fatal(err)
	}
	entries := map[string]json.RawMessage{}
	for i := 0; i < n; i++ {
		entries[fmt.Sprintf("https://auth%04d.example.org", i)] = seed["https://seed.example.org"]
	}
	out, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		b.Fatal(err)
	}
	return fmt.Sprintf("https://auth%04d.example.org", n/2)
}

func benchGet(b *testing.B, s keyring.TokenStore, key string) {
	b.Helper()
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Get(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFileStoreGet measures a cached login's lookup in a file of 1
// and of 1,000 logins: the cost must not grow with the file.
func BenchmarkFileStoreGet(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("logins=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "token-store.json")
			s := newFileStore(path)
			key := benchStore(b, n, s, path)
			benchGet(b, s, key)
		})
	}
}

// BenchmarkPythonFileStoreGet measures the same in the reference client's
// file.
func BenchmarkPythonFileStoreGet(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("logins=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "token-store.json")
			s := &keyring.PythonFileStore{FileStore: *newFileStore(path)}
			key := benchStore(b, n, s, path)
			benchGet(b, s, key)
		})
	}
}

// BenchmarkKeychainGet measures a cached login's read from the OS keychain
// (inside scripts/with-secret-service, a private gnome-keyring).
func BenchmarkKeychainGet(b *testing.B) {
	if os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1" {
		b.Skip("no OS keychain promised (OIDC_AUTH_TEST_KEYCHAIN unset); run inside scripts/with-secret-service")
	}
	s := &keyring.KeychainStore{Service: "oidc-auth-bench", LockDir: b.TempDir()}
	ctx := context.Background()
	tok := benchToken(1)
	tok.Expires = time.Now().Add(time.Hour).Unix()
	tok.RefreshExpires = tok.Expires
	if err := s.Put(ctx, "https://auth.example.org", &keyring.Record{Token: tok}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Remove(ctx, "https://auth.example.org") })
	benchGet(b, s, "https://auth.example.org")
}
