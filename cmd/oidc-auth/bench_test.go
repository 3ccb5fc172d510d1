package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cachedTokenLogin points the token store at a file holding a login of
// https://auth.example.org whose access token is valid for an hour, with
// no config file, and returns the access token.
func cachedTokenLogin(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	access := strings.Repeat("a", 800)
	now := time.Now().Unix()
	store := fmt.Sprintf(`{"https://auth.example.org": {"token": {"access_token": %q, "token_type": "Bearer", "expires": %d, "refresh_token": "r", "refresh_expires": %d, "scope": "openid", "headers": {"Authorization": "Bearer %s"}}, "stored_at": %d}}`,
		access, now+3600, now+7200, access, now)
	path := filepath.Join(dir, "store.json")
	if err := os.WriteFile(path, []byte(store), 0o600); err != nil {
		tb.Fatal(err)
	}
	for k, v := range map[string]string{
		"OIDC_TOKEN_FILE": path, "OIDC_AUTH_STORE": "file", "OIDC_AUTH_CONFIG": filepath.Join(dir, "none.toml"),
		"XDG_CONFIG_HOME": dir, "XDG_CACHE_HOME": dir, "HOME": dir, "OIDC_AUTH_DEBUG": "",
	} {
		tb.Setenv(k, v)
	}
	return access
}

// BenchmarkTokenCached is the work of one `oidc-auth token HOST` with a
// valid stored token, as a script or a credential helper runs it, in
// process, with no request.
func BenchmarkTokenCached(b *testing.B) {
	access := cachedTokenLogin(b)
	var stdout strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		stdout.Reset()
		if code := run(context.Background(), []string{"oidc-auth", "token", "https://auth.example.org"}, &stdout, &strings.Builder{}); code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	if strings.TrimSpace(stdout.String()) != access {
		b.Fatalf("printed %.60q", stdout.String())
	}
}
