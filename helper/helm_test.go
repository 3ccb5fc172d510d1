package helper

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestHelmRegistryConfigPath checks helm's rules for its registry config
// (helm.sh/helm/v3 pkg/cli and pkg/helmpath): $HELM_REGISTRY_CONFIG, then
// $HELM_CONFIG_HOME, then $XDG_CONFIG_HOME/helm on every system, then the
// system's default.
func TestHelmRegistryConfigPath(t *testing.T) {
	t.Parallel()
	file := filepath.Join("registry", "config.json")
	home := filepath.FromSlash("/home/jane")
	tests := []struct {
		name, goos string
		env        map[string]string
		want       string
	}{
		{"linux default", "linux", nil, filepath.Join(home, ".config", "helm", file)},
		{"freebsd default", "freebsd", nil, filepath.Join(home, ".config", "helm", file)},
		{"macOS default", "darwin", nil, filepath.Join(home, "Library", "Preferences", "helm", file)},
		{"windows default", "windows", map[string]string{"APPDATA": filepath.FromSlash("/appdata")}, filepath.Join(filepath.FromSlash("/appdata"), "helm", file)},
		{"XDG_CONFIG_HOME", "linux", map[string]string{"XDG_CONFIG_HOME": filepath.FromSlash("/xdg")}, filepath.Join(filepath.FromSlash("/xdg"), "helm", file)},
		{"XDG_CONFIG_HOME on macOS", "darwin", map[string]string{"XDG_CONFIG_HOME": filepath.FromSlash("/xdg")}, filepath.Join(filepath.FromSlash("/xdg"), "helm", file)},
		{"XDG_CONFIG_HOME on windows", "windows", map[string]string{"XDG_CONFIG_HOME": filepath.FromSlash("/xdg"), "APPDATA": "x"}, filepath.Join(filepath.FromSlash("/xdg"), "helm", file)},
		{"HELM_CONFIG_HOME", "linux", map[string]string{"HELM_CONFIG_HOME": filepath.FromSlash("/hc"), "XDG_CONFIG_HOME": "/xdg"}, filepath.Join(filepath.FromSlash("/hc"), file)},
		{"HELM_REGISTRY_CONFIG", "darwin", map[string]string{"HELM_REGISTRY_CONFIG": "/r.json", "HELM_CONFIG_HOME": "/hc"}, "/r.json"},
		{"empty variables are unset", "linux", map[string]string{"HELM_REGISTRY_CONFIG": "", "HELM_CONFIG_HOME": "", "XDG_CONFIG_HOME": ""}, filepath.Join(home, ".config", "helm", file)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := helmRegistryConfigPath(tt.goos, func(k string) string { return tt.env[k] }, func() (string, error) { return home, nil })
			if err != nil || got != tt.want {
				t.Errorf("path = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	t.Run("no APPDATA", func(t *testing.T) {
		t.Parallel()
		if p, err := helmRegistryConfigPath("windows", func(string) string { return "" }, func() (string, error) { return home, nil }); err == nil {
			t.Errorf("path = %q, want an error", p)
		}
	})
	t.Run("no home", func(t *testing.T) {
		t.Parallel()
		if p, err := helmRegistryConfigPath("linux", func(string) string { return "" }, func() (string, error) { return "", errors.New("no home") }); err == nil {
			t.Errorf("path = %q, want an error", p)
		}
	})
}
