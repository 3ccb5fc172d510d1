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

// setHome makes home the home directory that os.UserHomeDir returns, and
// platformCache the cache directory that os.UserCacheDir returns: $HOME
// on Unix (the cache is ~/Library/Caches on macOS, ~/.cache elsewhere),
// %USERPROFILE% and %LOCALAPPDATA% on Windows. XDG_CACHE_HOME is unset.
// It skips the test on the platforms whose home directory comes from
// elsewhere.
func setHome(t *testing.T, home string) (platformCache string) {
	t.Helper()
	t.Setenv("XDG_CACHE_HOME", "")
	os.Unsetenv("XDG_CACHE_HOME") // restored by the t.Setenv above
	switch runtime.GOOS {
	case "windows":
		t.Setenv("USERPROFILE", home)
		if home != "" {
			platformCache = filepath.Join(home, "AppData", "Local")
		}
		t.Setenv("LOCALAPPDATA", platformCache)
	case "darwin":
		t.Setenv("HOME", home)
		platformCache = filepath.Join(home, "Library", "Caches")
	case "plan9", "ios", "android", "js", "wasip1":
		t.Skipf("the home directory does not come from $HOME on %s", runtime.GOOS)
	default:
		t.Setenv("HOME", home)
		platformCache = filepath.Join(home, ".cache")
	}
	return platformCache
}

// TestDefaultFilePathHome finds the token file in the platform's cache
// directory when XDG_CACHE_HOME is unset or empty: ~/.cache on Linux,
// ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows.
func TestDefaultFilePathHome(t *testing.T) {
	home := t.TempDir()
	cache := setHome(t, home)
	for _, unset := range []bool{false, true} {
		if !unset {
			t.Setenv("XDG_CACHE_HOME", "")
		} else {
			os.Unsetenv("XDG_CACHE_HOME")
		}
		got, err := keyring.DefaultFilePath("")
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, "oidc-auth", "token-store.json"); got != want {
			t.Errorf("DefaultFilePath with XDG_CACHE_HOME unset=%v = %q, want %q", unset, got, want)
		}
	}
}

// TestDefaultFilePathKeepsTheOldFile keeps using ~/.cache/<app>/
// token-store.json, where releases before kept the file on every
// platform, while a platform whose cache directory is elsewhere (macOS,
// Windows) holds no file at its own path: no login is lost by an upgrade.
func TestDefaultFilePathKeepsTheOldFile(t *testing.T) {
	home := t.TempDir()
	setHome(t, home)
	cache := filepath.Join(home, "Library", "Caches") // as on macOS
	old := filepath.Join(home, ".cache", "oidc-auth", "token-store.json")
	platform := filepath.Join(cache, "oidc-auth", "token-store.json")
	path := func() string {
		t.Helper()
		p, err := keyring.DefaultFilePathIn("", cache)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := path(); got != platform {
		t.Errorf("with no file anywhere: %q, want the platform's %q", got, platform)
	}
	ctx := context.Background()
	if err := (&keyring.FileStore{Path: old}).Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(1)}); err != nil {
		t.Fatal(err)
	}
	if got := path(); got != old {
		t.Fatalf("with a file at the old path only: %q, want %q", got, old)
	}
	if rec, err := (&keyring.FileStore{Path: path()}).Get(ctx, "auth.example.org"); err != nil || rec.Token.RefreshToken != "rotated-1" {
		t.Errorf("the login before the upgrade: %+v, %v", rec, err)
	}
	if err := (&keyring.FileStore{Path: platform}).Put(ctx, "auth.example.org", &keyring.Record{Token: liveToken(2)}); err != nil {
		t.Fatal(err)
	}
	if got := path(); got != platform {
		t.Errorf("with files at both paths: %q, want the platform's %q", got, platform)
	}
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "xdg"))
	if got, want := path(), filepath.Join(home, "xdg", "oidc-auth", "token-store.json"); got != want {
		t.Errorf("with XDG_CACHE_HOME set: %q, want %q", got, want)
	}
}

// TestDefaultFilePathUpgradeOnThisPlatform is the upgrade with the
// platform's own cache directory: on macOS and Windows a file at the old
// ~/.cache path is used while the new path holds none; on Linux the two
// are one.
func TestDefaultFilePathUpgradeOnThisPlatform(t *testing.T) {
	home := t.TempDir()
	cache := setHome(t, home)
	old := filepath.Join(home, ".cache", "oidc-auth", "token-store.json")
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := keyring.DefaultFilePath("")
	if err != nil || got != old {
		t.Errorf("DefaultFilePath = %q, %v; want the old file %q", got, err, old)
	}
	platform := filepath.Join(cache, "oidc-auth", "token-store.json")
	if platform == old {
		return // Linux: nothing moved
	}
	if err := os.MkdirAll(filepath.Dir(platform), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(platform, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := keyring.DefaultFilePath(""); err != nil || got != platform {
		t.Errorf("DefaultFilePath = %q, %v; want the platform's %q once it exists", got, err, platform)
	}
}

// TestPythonFilePath finds the Python client's file where that client
// keeps it on every platform: ~/.cache, the home directory being
// %USERPROFILE% on Windows, unless XDG_CACHE_HOME is set.
func TestPythonFilePath(t *testing.T) {
	home := t.TempDir()
	setHome(t, home)
	for app, want := range map[string]string{
		"":      filepath.Join(home, ".cache", "py-oidc-auth", "token-store.json"),
		"freva": filepath.Join(home, ".cache", "freva", "token-store.json"),
	} {
		if got, err := keyring.PythonFilePath(app); err != nil || got != want {
			t.Errorf("PythonFilePath(%q) = %q, %v; want %q", app, got, err, want)
		}
	}
	xdg := filepath.Join(home, "xdg")
	t.Setenv("XDG_CACHE_HOME", xdg)
	if got, err := keyring.PythonFilePath(""); err != nil || got != filepath.Join(xdg, "py-oidc-auth", "token-store.json") {
		t.Errorf("PythonFilePath with XDG_CACHE_HOME = %q, %v", got, err)
	}
}

// TestDefaultFilePathNoHome fails, saying what to set, without a home
// directory ($HOME on Unix, %USERPROFILE% and %LOCALAPPDATA% on Windows).
func TestDefaultFilePathNoHome(t *testing.T) {
	setHome(t, "")
	got, err := keyring.DefaultFilePath("")
	if err == nil {
		t.Fatalf("DefaultFilePath = %q, want an error", got)
	}
	if !strings.HasPrefix(err.Error(), "keyring: ") || !strings.Contains(err.Error(), "XDG_CACHE_HOME") {
		t.Errorf("error %q lacks the package prefix or the advice", err)
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
