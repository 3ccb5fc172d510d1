package integration

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// platformDirs are where a person's files go on this platform when no XDG
// variable is set: the cache and config directories that os.UserCacheDir
// and os.UserConfigDir name for the home directory home (with homeEnv's
// variables on Windows).
func platformDirs(home string) (cache, config string) {
	switch runtime.GOOS {
	case "windows":
		return localAppData(home), appData(home)
	case "darwin":
		return filepath.Join(home, "Library", "Caches"), filepath.Join(home, "Library", "Application Support")
	}
	return filepath.Join(home, ".cache"), filepath.Join(home, ".config")
}

// defaultPathsSandbox is a sandbox without XDG_CACHE_HOME and
// XDG_CONFIG_HOME, and with HOME pointing at a decoy directory where
// HOME is not the home directory (Windows, where USERPROFILE is): nothing
// may land there.
func defaultPathsSandbox(t *testing.T) (s *sandbox, decoy string) {
	t.Helper()
	s = newSandbox(t)
	s.env = append(s.env, "XDG_CACHE_HOME=", "XDG_CONFIG_HOME=")
	decoy = s.home
	if runtime.GOOS == "windows" {
		decoy = filepath.Join(s.dir, "not-the-home")
		if err := os.Mkdir(decoy, 0o700); err != nil {
			t.Fatal(err)
		}
		s.env = append(s.env, "HOME="+decoy)
		t.Cleanup(func() { checkEmpty(t, decoy, "HOME, which is not the home directory on Windows") })
	}
	t.Cleanup(func() {
		checkEmpty(t, s.cache, "the sandbox's XDG_CACHE_HOME, unset in these runs")
		checkEmpty(t, s.config, "the sandbox's XDG_CONFIG_HOME, unset in these runs")
	})
	return s, decoy
}

// checkEmpty fails t when the directory dir holds anything.
func checkEmpty(t *testing.T, dir, what string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && path != dir {
			t.Errorf("%s was written to %s (%s)", path, dir, what)
		}
		return err
	})
	if err != nil {
		t.Error(err)
	}
}

// TestDefaultPaths runs oidc-auth with no XDG variable set, as most people
// do: the token file lies in the platform's cache directory (on Windows
// %LOCALAPPDATA%\oidc-auth\token-store.json), the config file in its
// config directory (%APPDATA%\oidc-auth\config.toml), docker's config in
// the home directory (on Windows USERPROFILE, not HOME), and status and
// doctor name those places.
func TestDefaultPaths(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})

	t.Run("store", func(t *testing.T) {
		t.Parallel()
		s, _ := defaultPathsSandbox(t)
		cache, _ := platformDirs(s.home)
		want := filepath.Join(cache, "oidc-auth", "token-store.json")
		srv.PlanDevice(pyauthserver.DevicePlan{})
		mustSucceed(t, s.run("login", "--flow", "device", "--timeout", loginTimeout, srv.URL()))
		e, ok := s.readStoreFile(want)[storeKey(t, srv)]
		if !ok || !srv.Valid(e.Token.AccessToken) {
			t.Fatalf("%s holds no valid login for %s", want, srv.URL())
		}
		r := s.run("token", srv.URL())
		mustSucceed(t, r)
		if r.stdout != e.Token.AccessToken+"\n" {
			t.Errorf("token does not serve the stored login\n%v", r)
		}
		r = s.run("status")
		mustSucceed(t, r)
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status does not name the file %s:\n%s", want, r.stdout)
		}
	})

	t.Run("config", func(t *testing.T) {
		t.Parallel()
		s, _ := defaultPathsSandbox(t)
		_, config := platformDirs(s.home)
		want := filepath.Join(config, "oidc-auth", "config.toml")
		reg := loopbackHost(t)
		mustSucceed(t, s.runEnv([]string{"DOCKER_CONFIG=" + filepath.Join(s.dir, "docker")}, "setup", "docker", reg, "--host", srv.URL()))
		b, err := os.ReadFile(want)
		if err != nil || !strings.Contains(string(b), reg) {
			t.Fatalf("config file %s after setup docker %s: %q, %v", want, reg, b, err)
		}
		r, checks := s.doctor(oidcAuthBin, doctorPath(binDir), "DOCKER_CONFIG="+filepath.Join(s.dir, "docker"))
		if c := checks["config"]; !strings.Contains(c.Detail, want) {
			t.Errorf("doctor's config check does not name %s: %+v\n%v", want, c, r)
		}
	})

	// The home directory: docker's ~/.docker/config.json, as docker itself
	// finds it (os.UserHomeDir: USERPROFILE on Windows).
	t.Run("home", func(t *testing.T) {
		t.Parallel()
		s, decoy := defaultPathsSandbox(t)
		reg := loopbackHost(t)
		mustSucceed(t, s.runEnv([]string{"DOCKER_CONFIG="}, "setup", "docker", reg, "--host", srv.URL()))
		path := filepath.Join(s.home, ".docker", "config.json")
		if got := readJSONObject(t, path); got["credHelpers"] == nil {
			t.Errorf("%s = %v, want our credHelpers entry", path, got)
		}
		if decoy != s.home {
			if _, err := os.Stat(filepath.Join(decoy, ".docker")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("setup docker wrote below HOME %s, not the home directory (%v)", decoy, err)
			}
		}
	})
}
