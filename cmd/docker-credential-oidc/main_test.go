package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cachedLogin points the token store at a file holding a login of
// https://auth.example.org whose access token is valid for an hour, with
// no config file, and returns the access token.
func cachedLogin(tb testing.TB) string {
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

// BenchmarkDockerHelperGetCached is the work of one
// `docker-credential-oidc get` that docker starts for a registry whose
// server has a valid stored token, in process, with no request.
func BenchmarkDockerHelperGetCached(b *testing.B) {
	access := cachedLogin(b)
	var stdout bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		stdout.Reset()
		if code := run(context.Background(), []string{"docker-credential-oidc", "get"}, strings.NewReader("https://auth.example.org"), &stdout, &bytes.Buffer{}); code != 0 {
			b.Fatalf("exit %d: %s", code, stdout.String())
		}
	}
	if !strings.Contains(stdout.String(), `"Secret":"`+access+`"`) {
		b.Fatalf("answer %.80q", stdout.String())
	}
}
