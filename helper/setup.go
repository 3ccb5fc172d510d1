package helper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// AddServer adds s to the config file at path, or replaces the entry with
// the same Match. A new entry is appended as text, so the rest of the file,
// comments included, stays as it was; a replaced entry rewrites the file.
func AddServer(path string, s Server) error {
	if err := s.check(); err != nil {
		return fmt.Errorf("helper: %v", err)
	}
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("helper: read config: %w", err)
	}
	cfg, err := ParseConfig(path, b)
	if err != nil {
		return err
	}
	for i, old := range cfg.Servers {
		if old.match == s.match {
			cfg.Servers[i] = s
			return writeConfig(path, cfg)
		}
	}
	entry, err := toml.Marshal(Config{Servers: []Server{s}})
	if err != nil {
		return fmt.Errorf("helper: encode config: %w", err)
	}
	if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
		b = append(b, '\n')
	}
	if len(b) > 0 {
		b = append(b, '\n')
	}
	return keyring.WriteFileAtomic(path, append(b, entry...))
}

// RemoveServer removes the entry whose Match is match from the config file
// at path; it reports whether there was one.
func RemoveServer(path, match string) (bool, error) {
	p, err := parsePattern(match)
	if err != nil {
		return false, fmt.Errorf("helper: %v", err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return false, err
	}
	kept := cfg.Servers[:0]
	for _, s := range cfg.Servers {
		if s.match != p {
			kept = append(kept, s)
		}
	}
	if len(kept) == len(cfg.Servers) {
		return false, nil
	}
	cfg.Servers = kept
	return true, writeConfig(path, cfg)
}

func writeConfig(path string, cfg *Config) error {
	b, err := toml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("helper: encode config: %w", err)
	}
	return keyring.WriteFileAtomic(path, b)
}

// DockerConfigDir returns docker's configuration directory: $DOCKER_CONFIG,
// else ~/.docker.
func DockerConfigDir() (string, error) {
	if d := os.Getenv("DOCKER_CONFIG"); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("helper: no home directory for ~/.docker: %w", err)
	}
	return filepath.Join(home, ".docker"), nil
}

// HelperName is the name docker and git know the helpers by: docker runs
// docker-credential-<name>, git runs git-credential-<name>.
const HelperName = "oidc"

// SetDockerHelper makes docker ask this helper for registry, in
// <dir>/config.json: a credHelpers entry, or with credsStore the global
// credsStore. With unset it removes them, where they name this helper. Every
// other field of the file is kept as it was; the file is replaced
// atomically.
func SetDockerHelper(dir, registry string, credsStore, unset bool) error {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("helper: read %s: %w", path, err)
	}
	doc := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &doc); err != nil {
			return fmt.Errorf("helper: %s is not valid JSON (%v); fix it first", path, err)
		}
	}
	if doc == nil { // the file is "null"
		doc = map[string]json.RawMessage{}
	}
	helpers := map[string]string{}
	if raw, ok := doc["credHelpers"]; ok {
		if err := json.Unmarshal(raw, &helpers); err != nil {
			return fmt.Errorf("helper: %s: credHelpers is not an object of strings (%v)", path, err)
		}
	}
	if helpers == nil { // "credHelpers": null
		helpers = map[string]string{}
	}
	var store string
	if raw, ok := doc["credsStore"]; ok {
		json.Unmarshal(raw, &store)
	}
	switch {
	case unset:
		if helpers[registry] == HelperName {
			delete(helpers, registry)
		}
		if credsStore && store == HelperName {
			delete(doc, "credsStore")
		}
	case credsStore:
		if store != "" && store != HelperName {
			return fmt.Errorf("helper: %s already names credsStore %q; remove it first, or leave out --creds-store to add a credHelpers entry for %s only", path, store, registry)
		}
		doc["credsStore"], _ = json.Marshal(HelperName)
	default:
		helpers[registry] = HelperName
	}
	if len(helpers) > 0 {
		doc["credHelpers"], _ = json.Marshal(helpers)
	} else {
		delete(doc, "credHelpers")
	}
	out, err := json.MarshalIndent(doc, "", "\t")
	if err != nil {
		return fmt.Errorf("helper: encode %s: %w", path, err)
	}
	return keyring.WriteFileAtomic(path, append(out, '\n'))
}
