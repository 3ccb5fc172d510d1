package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestConfigPathPerSystem checks where each system keeps the config file:
// $OIDC_AUTH_CONFIG, then $XDG_CONFIG_HOME on every system, then the
// system's per-user config directory; and that on macOS and Windows a
// config at the old place, ~/.config, is kept in use until one exists at
// the new place.
func TestConfigPathPerSystem(t *testing.T) {
	t.Parallel()
	file := filepath.Join("oidc-auth", "config.toml")
	type env map[string]string
	tests := []struct {
		name, goos string
		env        env
		files      []string // made under the temporary directory first
		want       string   // under the temporary directory unless absolute
	}{
		{name: "linux default", goos: "linux", want: filepath.Join("home", ".config", file)},
		{name: "freebsd default", goos: "freebsd", want: filepath.Join("home", ".config", file)},
		{name: "macOS default", goos: "darwin", want: filepath.Join("home", "Library", "Application Support", file)},
		{name: "windows default", goos: "windows", env: env{"APPDATA": "appdata"}, want: filepath.Join("appdata", file)},
		{name: "XDG_CONFIG_HOME on linux", goos: "linux", env: env{"XDG_CONFIG_HOME": "xdg"}, want: filepath.Join("xdg", file)},
		{name: "XDG_CONFIG_HOME on macOS", goos: "darwin", env: env{"XDG_CONFIG_HOME": "xdg"}, files: []string{filepath.Join("home", ".config", file)}, want: filepath.Join("xdg", file)},
		{name: "XDG_CONFIG_HOME on windows", goos: "windows", env: env{"XDG_CONFIG_HOME": "xdg", "APPDATA": "appdata"}, want: filepath.Join("xdg", file)},
		{name: "OIDC_AUTH_CONFIG", goos: "windows", env: env{ConfigEnv: "c.toml", "XDG_CONFIG_HOME": "xdg", "APPDATA": "appdata"}, want: "c.toml"},
		{name: "empty variables are unset", goos: "linux", env: env{ConfigEnv: "", "XDG_CONFIG_HOME": ""}, want: filepath.Join("home", ".config", file)},
		{name: "macOS keeps the old config", goos: "darwin", files: []string{filepath.Join("home", ".config", file)}, want: filepath.Join("home", ".config", file)},
		{name: "windows keeps the old config", goos: "windows", env: env{"APPDATA": "appdata"}, files: []string{filepath.Join("home", ".config", file)}, want: filepath.Join("home", ".config", file)},
		{name: "macOS new config wins over the old", goos: "darwin", files: []string{filepath.Join("home", ".config", file), filepath.Join("home", "Library", "Application Support", file)}, want: filepath.Join("home", "Library", "Application Support", file)},
		{name: "windows new config wins over the old", goos: "windows", env: env{"APPDATA": "appdata"}, files: []string{filepath.Join("home", ".config", file), filepath.Join("appdata", file)}, want: filepath.Join("appdata", file)},
		{name: "windows without APPDATA keeps the old config", goos: "windows", files: []string{filepath.Join("home", ".config", file)}, want: filepath.Join("home", ".config", file)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			in := func(p string) string { return filepath.Join(dir, p) }
			for _, f := range tt.files {
				if err := os.MkdirAll(filepath.Dir(in(f)), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(in(f), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			getenv := func(k string) string {
				if v := tt.env[k]; v != "" {
					return in(v)
				}
				return ""
			}
			got, err := configPath(tt.goos, getenv, func() (string, error) { return in("home"), nil })
			if want := in(tt.want); err != nil || got != want {
				t.Errorf("configPath = %q, %v; want %q", got, err, want)
			}
		})
	}
	noHome := func() (string, error) { return "", errors.New("no home") }
	for _, goos := range []string{"linux", "darwin"} {
		t.Run("no home on "+goos, func(t *testing.T) {
			t.Parallel()
			if p, err := configPath(goos, func(string) string { return "" }, noHome); err == nil {
				t.Errorf("configPath = %q, want an error", p)
			}
		})
	}
	t.Run("windows without APPDATA", func(t *testing.T) {
		t.Parallel()
		home := t.TempDir()
		if p, err := configPath("windows", func(string) string { return "" }, func() (string, error) { return home, nil }); err == nil {
			t.Errorf("configPath = %q, want an error", p)
		}
	})
	t.Run("windows without APPDATA or home", func(t *testing.T) {
		t.Parallel()
		if p, err := configPath("windows", func(string) string { return "" }, noHome); err == nil {
			t.Errorf("configPath = %q, want an error", p)
		}
	})
}
