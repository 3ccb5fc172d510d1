package keyring_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// The tests here set environment variables, so none of them is parallel.

func TestConstants(t *testing.T) {
	if keyring.DefaultAppName != "oidc-auth" {
		t.Errorf("DefaultAppName = %q", keyring.DefaultAppName)
	}
	if keyring.TokenFileEnv != "OIDC_TOKEN_FILE" {
		t.Errorf("TokenFileEnv = %q", keyring.TokenFileEnv)
	}
}

func TestDefaultFilePath(t *testing.T) {
	cache := t.TempDir()
	tests := []struct {
		name    string
		appName string
		want    string
	}{
		{"default app name", "", filepath.Join(cache, "oidc-auth", "token-store.json")},
		{"reference client's file", "py-oidc-auth", filepath.Join(cache, "py-oidc-auth", "token-store.json")},
		{"other app", "freva", filepath.Join(cache, "freva", "token-store.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", cache)
			got, err := keyring.DefaultFilePath(tt.appName)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("DefaultFilePath(%q) = %q, want %q", tt.appName, got, tt.want)
			}
		})
	}
}

// unixHome reports whether os.UserHomeDir reads $HOME on this platform.
func unixHome() bool {
	switch runtime.GOOS {
	case "windows", "plan9", "ios", "android", "js", "wasip1":
		return false
	}
	return true
}

func TestDefaultFilePathHome(t *testing.T) {
	if !unixHome() {
		t.Skip("home directory does not come from $HOME here")
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, unset := range []bool{false, true} {
		if unset {
			os.Unsetenv("XDG_CACHE_HOME") // restored by the t.Setenv below
		} else {
			t.Setenv("XDG_CACHE_HOME", "")
		}
		got, err := keyring.DefaultFilePath("")
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(home, ".cache", "oidc-auth", "token-store.json"); got != want {
			t.Errorf("DefaultFilePath with XDG_CACHE_HOME unset=%v = %q, want %q", unset, got, want)
		}
	}
}

func TestDefaultFilePathNoHome(t *testing.T) {
	if !unixHome() {
		t.Skip("home directory does not come from $HOME here")
	}
	t.Setenv("HOME", "")
	t.Setenv("XDG_CACHE_HOME", "")
	got, err := keyring.DefaultFilePath("")
	if err == nil {
		t.Fatalf("DefaultFilePath = %q, want an error", got)
	}
	if !strings.HasPrefix(err.Error(), "keyring: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if _, err := keyring.Open(keyring.Options{}); err == nil {
		t.Errorf("Open without a home directory succeeded")
	}
	// An explicit file needs no home directory.
	explicit := filepath.Join(t.TempDir(), "tokens.json")
	if s, err := keyring.Open(keyring.Options{Path: explicit}); err != nil || s.(*keyring.FileStore).Path != explicit {
		t.Errorf("Open with a path = %v, %v", s, err)
	}
}

func TestOpen(t *testing.T) {
	cache := t.TempDir()
	env := filepath.Join(t.TempDir(), "job", "tokens.json")
	explicit := filepath.Join(t.TempDir(), "explicit.json")
	tests := []struct {
		name     string
		env      string
		storeEnv string
		opts     keyring.Options
		want     string
		auto     bool // an AutoStore whose fallback file is want
	}{
		{"explicit path", "", "", keyring.Options{Path: explicit}, explicit, false},
		{"explicit path wins over the environment", env, "", keyring.Options{Path: explicit, AppName: "x"}, explicit, false},
		{"environment", env, "", keyring.Options{}, env, false},
		{"environment wins over the app name", env, "", keyring.Options{AppName: "x"}, env, false},
		{"environment with a forced file", env, "", keyring.Options{Backend: "file"}, env, false},
		{"default", "", "", keyring.Options{}, filepath.Join(cache, "oidc-auth", "token-store.json"), true},
		{"default of an app", "", "", keyring.Options{AppName: "py-oidc-auth"}, filepath.Join(cache, "py-oidc-auth", "token-store.json"), true},
		{"forced file", "", "", keyring.Options{Backend: "File"}, filepath.Join(cache, "oidc-auth", "token-store.json"), false},
		{"file forced by OIDC_AUTH_STORE", "", "file", keyring.Options{}, filepath.Join(cache, "oidc-auth", "token-store.json"), false},
		{"option wins over OIDC_AUTH_STORE", "", "file", keyring.Options{Backend: "auto"}, filepath.Join(cache, "oidc-auth", "token-store.json"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", cache)
			t.Setenv(keyring.TokenFileEnv, tt.env)
			t.Setenv(keyring.StoreEnv, tt.storeEnv)
			s, err := keyring.Open(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			fs, ok := s.(*keyring.FileStore)
			if tt.auto {
				as, isAuto := s.(*keyring.AutoStore)
				if !isAuto {
					t.Fatalf("Open returned %T, want *keyring.AutoStore", s)
				}
				fs, ok = as.File, true
			}
			if !ok {
				t.Fatalf("Open returned %T, want *keyring.FileStore", s)
			}
			if fs.Path != tt.want {
				t.Errorf("Path = %q, want %q", fs.Path, tt.want)
			}
		})
	}
}

func TestOpenTokenFileEnvIsUsed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ci", "tokens.json")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv(keyring.TokenFileEnv, path)
	s, err := keyring.Open(keyring.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("ci")}); err != nil {
		t.Fatal(err)
	}
	if ks := keysOf(decodeFile(t, path)); len(ks) != 1 || ks[0] != "https://auth.example.org" {
		t.Errorf("keys in $%s = %q", keyring.TokenFileEnv, ks)
	}
}
