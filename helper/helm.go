package helper

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// HelmRegistryConfigPath returns helm's registry config file, where helm
// (through oras-go) reads its credential helpers: $HELM_REGISTRY_CONFIG;
// else registry/config.json in $HELM_CONFIG_HOME; else in helm under
// $XDG_CONFIG_HOME (on every system); else in helm's default config
// directory: ~/.config/helm on Linux and other Unix systems,
// ~/Library/Preferences/helm on macOS, %APPDATA%\helm on Windows. Empty
// variables count as unset.
func HelmRegistryConfigPath() (string, error) {
	return helmRegistryConfigPath(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// helmRegistryConfigPath is HelmRegistryConfigPath for the system goos,
// with getenv and home in place of the process's environment.
func helmRegistryConfigPath(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	if p := getenv("HELM_REGISTRY_CONFIG"); p != "" {
		return p, nil
	}
	file := filepath.Join("registry", "config.json")
	if d := getenv("HELM_CONFIG_HOME"); d != "" {
		return filepath.Join(d, file), nil
	}
	if d := getenv("XDG_CONFIG_HOME"); d != "" {
		return filepath.Join(d, "helm", file), nil
	}
	if goos == "windows" {
		d := getenv("APPDATA")
		if d == "" {
			return "", errors.New("helper: no %APPDATA% for helm's registry config; set HELM_REGISTRY_CONFIG to its path")
		}
		return filepath.Join(d, "helm", file), nil
	}
	h, err := home()
	if err != nil {
		return "", fmt.Errorf("helper: no home directory for helm's registry config (%v); set HELM_REGISTRY_CONFIG to its path", err)
	}
	if goos == "darwin" {
		return filepath.Join(h, "Library", "Preferences", "helm", file), nil
	}
	return filepath.Join(h, ".config", "helm", file), nil
}

// SetHelmHelper makes helm ask this helper for registry, with a credHelpers
// entry in helm's registry config file at path (see
// HelmRegistryConfigPath), which has the format of docker's config.json.
// Without one, helm asks the platform's default credential helper when it
// is installed (docker-credential-secretservice on Linux, which fails
// without D-Bus) and stops there. With unset it removes the entry where it
// names this helper. Every other field of the file is kept as it was; the
// file is replaced atomically.
func SetHelmHelper(path, registry string, unset bool) error {
	return setCredHelpers(path, registry, false, unset)
}
