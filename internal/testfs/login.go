package testfs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// CachedLogin points the token store of the process at a file holding a
// login of https://auth.example.org, in the reference client's v1 format,
// whose 800-byte access token is valid for an hour, with no config file
// and a private home, and returns the access token. It is the state in
// which the helpers answer from the store alone, which their benchmarks
// and command-line tests start from.
func CachedLogin(tb testing.TB) string {
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
		"XDG_CONFIG_HOME": dir, "XDG_CACHE_HOME": dir, "HOME": dir, "USERPROFILE": dir, "OIDC_AUTH_DEBUG": "",
	} {
		tb.Setenv(k, v)
	}
	return access
}
