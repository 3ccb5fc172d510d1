package helper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	"github.com/pelletier/go-toml/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// AddServer adds s to the config file at path, or replaces the entry with
// the same Match. A new entry is appended as text, so the rest of the file,
// comments included, stays as it was; a replaced entry rewrites the file.
func AddServer(path string, s Server) error {
	if err := s.Check(); err != nil {
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
		if old.Pattern() == s.Pattern() {
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
	p, err := config.ParsePattern(match)
	if err != nil {
		return false, fmt.Errorf("helper: %v", err)
	}
	cfg, err := LoadConfig(path)
	if err != nil {
		return false, err
	}
	kept := cfg.Servers[:0]
	for _, s := range cfg.Servers {
		if s.Pattern() != p {
			kept = append(kept, s)
		}
	}
	if len(kept) == len(cfg.Servers) {
		return false, nil
	}
	cfg.Servers = kept
	return true, writeConfig(path, cfg)
}

// writeConfig replaces the config file at path with cfg. A config
// without entries is an empty file: "server = []" would keep a
// [[server]] table appended later from parsing.
func writeConfig(path string, cfg *Config) error {
	if len(cfg.Servers) == 0 {
		return keyring.WriteFileAtomic(path, nil)
	}
	b, err := toml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("helper: encode config: %w", err)
	}
	return keyring.WriteFileAtomic(path, b)
}

// DockerConfigDir returns docker's configuration directory: $DOCKER_CONFIG,
// else ~/.docker, the home being docker's: $HOME on Unix, %USERPROFILE% on
// Windows.
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
// credsStore. For Docker Hub the entry is written under each key the
// tools look it up by (see DockerHubKeys). With unset it removes them,
// where they name this helper. Every other field of the file is kept as it
// was; the file is replaced atomically.
func SetDockerHelper(dir, registry string, credsStore, unset bool) error {
	return setCredHelpers(filepath.Join(dir, "config.json"), registry, credsStore, unset)
}

// credHelperKeys are the credHelpers keys of registry.
func credHelperKeys(registry string) []string {
	if IsDockerHub(registry) {
		return DockerHubKeys()
	}
	return []string{registry}
}

// dockerConfigFile is a docker config file (config.json) as read for an
// edit: every field kept as it was, credHelpers and credsStore decoded.
type dockerConfigFile struct {
	path    string
	doc     map[string]json.RawMessage
	helpers map[string]string
	store   string
}

// readDockerConfigFile reads the docker config file at path; a missing or
// empty file is an empty configuration.
func readDockerConfigFile(path string) (*dockerConfigFile, error) {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("helper: read %s: %w", path, err)
	}
	f := &dockerConfigFile{path: path, doc: map[string]json.RawMessage{}, helpers: map[string]string{}}
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &f.doc); err != nil {
			return nil, fmt.Errorf("helper: %s is not valid JSON (%v); fix it first", path, err)
		}
	}
	if f.doc == nil { // the file is "null"
		f.doc = map[string]json.RawMessage{}
	}
	if raw, ok := f.doc["credHelpers"]; ok {
		if err := json.Unmarshal(raw, &f.helpers); err != nil {
			return nil, fmt.Errorf("helper: %s: credHelpers is not an object of strings (%v); fix it first", path, err)
		}
	}
	if f.helpers == nil { // "credHelpers": null
		f.helpers = map[string]string{}
	}
	if raw, ok := f.doc["credsStore"]; ok {
		json.Unmarshal(raw, &f.store)
	}
	return f, nil
}

// write replaces the file with the document and its credHelpers.
func (f *dockerConfigFile) write() error {
	if len(f.helpers) > 0 {
		f.doc["credHelpers"], _ = json.Marshal(f.helpers)
	} else {
		delete(f.doc, "credHelpers")
	}
	out, err := json.MarshalIndent(f.doc, "", "\t")
	if err != nil {
		return fmt.Errorf("helper: encode %s: %w", f.path, err)
	}
	return keyring.WriteFileAtomic(f.path, append(out, '\n'))
}

// setCredHelpers edits the docker config file at path for
// SetDockerHelper and SetHelmHelper.
func setCredHelpers(path, registry string, credsStore, unset bool) error {
	f, err := readDockerConfigFile(path)
	if err != nil {
		return err
	}
	keys := credHelperKeys(registry)
	switch {
	case unset:
		for _, k := range keys {
			if f.helpers[k] == HelperName {
				delete(f.helpers, k)
			}
		}
		if credsStore && f.store == HelperName {
			delete(f.doc, "credsStore")
		}
	case credsStore:
		if f.store != "" && f.store != HelperName {
			return fmt.Errorf("helper: %s already names credsStore %q; remove it first, or leave out --creds-store to add a credHelpers entry for %s only", path, f.store, registry)
		}
		f.doc["credsStore"], _ = json.Marshal(HelperName)
	default:
		for _, k := range keys {
			f.helpers[k] = HelperName
		}
	}
	return f.write()
}

// AsksHelper reports whether the docker config file at path (docker's
// config.json, or helm's registry config) makes its tool ask this helper
// for registry: a credHelpers entry, or credsStore. A missing file, or
// path "", asks nothing.
func AsksHelper(path, registry string) (bool, error) {
	if path == "" {
		return false, nil
	}
	f, err := readDockerConfigFile(path)
	if err != nil {
		return false, err
	}
	for _, k := range credHelperKeys(registry) {
		if h, ok := f.helpers[k]; ok {
			return h == HelperName, nil
		}
	}
	return f.store == HelperName, nil
}

// DockerHelperSet reports whether the docker config file at path
// (docker's config.json, or helm's registry config) names this helper in a
// credHelpers entry for registry, or with credsStore as its credsStore:
// what SetDockerHelper and SetHelmHelper with unset would remove. A
// missing file names nothing.
func DockerHelperSet(path, registry string, credsStore bool) (bool, error) {
	f, err := readDockerConfigFile(path)
	if err != nil {
		return false, err
	}
	for _, k := range credHelperKeys(registry) {
		if f.helpers[k] == HelperName {
			return true, nil
		}
	}
	return credsStore && f.store == HelperName, nil
}

// KubectlCommand is the program a kubeconfig's exec block runs: oidc-auth,
// found on PATH, so that the file keeps working when the binary moves.
const KubectlCommand = "oidc-auth"

// KubectlInstallHint is what kubectl says when it cannot find
// KubectlCommand.
const KubectlInstallHint = "This kubeconfig gets its token from oidc-auth, which is not on PATH.\n" +
	"Install it: go install github.com/oidc-auth/oidc-auth/cmd/...@latest\n"

// KubectlExec is the exec block of a kubeconfig user that runs oidc-auth
// for its token.
type KubectlExec struct {
	// Command is the program kubectl runs, looked up on PATH.
	Command string
	// Args follow it: "kubectl" and the server's arguments.
	Args []string
	// InstallHint is what kubectl says when Command is not found.
	InstallHint string
}

// KubectlExecFor is the exec block that makes kubectl ask oidc-auth for
// the tokens of s: "oidc-auth kubectl HOST", or "--issuer URL --client-id
// ID" for a standard provider (with --access-token when accessToken is
// set). A client secret is never among the arguments, which other users
// can see and kubeconfig files are shared with; oidc-auth kubectl finds it
// in the stored login or the config file.
func KubectlExecFor(s Server, accessToken bool) KubectlExec {
	args := []string{"kubectl"}
	if s.Issuer != "" {
		args = append(args, "--issuer", s.Issuer, "--client-id", s.ClientID)
		if accessToken {
			args = append(args, "--access-token")
		}
	} else {
		args = append(args, s.Host)
	}
	return KubectlExec{Command: KubectlCommand, Args: args, InstallHint: KubectlInstallHint}
}

// KubectlUserName is the default name of the kubeconfig user for s:
// "oidc-" and the server's host (and port), plus the client id for a
// standard provider.
func KubectlUserName(s Server) string {
	raw := s.Host
	if s.Issuer != "" {
		raw = s.Issuer
	}
	host := raw
	if u, err := url.Parse(flows.WithScheme(raw)); err == nil && u.Host != "" {
		host = u.Host
	}
	if s.Issuer != "" {
		return "oidc-" + host + "-" + s.ClientID
	}
	return "oidc-" + host
}
