//go:build linux

// Unix only: the first stage (package lean) is Linux's.

package lean

import (
	"os"
	"testing"

	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/internal/handoff"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// TestAsTheCoreFindsIt checks what the first stage reads of the
// environment, without os, against the code the core reads it with: the
// config's path, the token file's default path, and the constants it
// shares with internal/handoff.
func TestAsTheCoreFindsIt(t *testing.T) {
	if Core != handoff.Core || readLimit != handoff.ReadLimit {
		t.Fatalf("Core %q, readLimit %d; handoff's %q, %d", Core, readLimit, handoff.Core, handoff.ReadLimit)
	}
	home := t.TempDir()
	for _, env := range []map[string]string{
		{"HOME": home},
		{"HOME": home, "XDG_CONFIG_HOME": "/x/conf", "XDG_CACHE_HOME": "/x/cache"},
		{"HOME": home, "XDG_CONFIG_HOME": "rel//conf/", "XDG_CACHE_HOME": "./rel/../cache/"},
		{"HOME": home, "OIDC_AUTH_CONFIG": "/etc/oidc-auth.toml"},
		{"HOME": "", "XDG_CACHE_HOME": "/c"},
		{"HOME": ""},
		{"HOME": home + "/a/../b", "DBUS_SESSION_BUS_ADDRESS": "unix:path=/nowhere"},
		{"HOME": home, "DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": home},
	} {
		for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "OIDC_AUTH_CONFIG"} {
			t.Setenv(k, env[k])
		}
		want, werr := config.ConfigPath()
		if got, ok := configPath(); ok != (werr == nil) || ok && got != want {
			t.Errorf("%v: config path %q %v, the core's %q %v", env, got, ok, want, werr)
		}
		want, werr = storekey.FilePath("oidc-auth", os.UserCacheDir)
		dir, ok := cacheDir()
		if ok != (werr == nil) || ok && dir+"/token-store.json" != want {
			t.Errorf("%v: token file %q %v, the core's %q %v", env, dir+"/token-store.json", ok, want, werr)
		}
	}
}
