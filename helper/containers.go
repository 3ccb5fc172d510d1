package helper

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// ContainersAuthFile is the reserved credential-helpers entry of
// registries.conf that stands for the auth files of containers-auth.json(5)
// (auth.json, docker's config.json): the tools' default list.
const ContainersAuthFile = "containers-auth.json"

// ContainersRegistriesConfEnv names the environment variable that points
// skopeo and podman (not buildah login) at another registries.conf; the
// older REGISTRIES_CONFIG_PATH counts when it is unset.
const ContainersRegistriesConfEnv = "CONTAINERS_REGISTRIES_CONF"

// containersDropInName is the drop-in file SetHelper writes. It sorts after
// the usual numbered drop-ins, so that its credential-helpers wins.
const containersDropInName = "99-oidc-auth.conf"

// containersDropInMark starts the drop-in file, so that SetHelper removes
// only a file it wrote.
const containersDropInMark = "# Written by oidc-auth setup docker --creds-store."

// ContainersConf locates the registries.conf files of the tools built on
// containers/image (skopeo, podman, buildah), which ignore docker's
// credsStore and read their credential helpers from the top-level
// credential-helpers list of registries.conf (containers-registries.conf(5)).
// They read one main file: $CONTAINERS_REGISTRIES_CONF (skopeo and podman
// only), else ~/.config/containers/registries.conf when it exists, else
// /etc/containers/registries.conf; then the drop-in files of
// registries.conf.d (containers-registries.conf.d(5)): the system's unless
// the per-user main file is read, and always the user's, last, each in
// name order, a later file's credential-helpers replacing an earlier one's.
//
// A per-user main file, once it exists, hides the system's main file and
// drop-ins (short-name aliases, search registries, mirrors), so SetHelper
// never creates one: it writes a drop-in of its own into the per-user
// registries.conf.d, which every tool reads whichever main file it uses.
type ContainersConf struct {
	// Home is the user's home directory ($HOME on Unix, %USERPROFILE% on
	// Windows, as containers/storage's homedir.Get finds it).
	// containers/image reads Home/.config/containers on every system,
	// never $XDG_CONFIG_HOME.
	Home string
	// Override is $CONTAINERS_REGISTRIES_CONF (or the older
	// $REGISTRIES_CONFIG_PATH), "" when it is unset.
	Override string
	// SystemDir holds the system-wide registries.conf and
	// registries.conf.d: /etc/containers.
	SystemDir string
}

// DefaultContainersConf returns the ContainersConf of this process's
// environment.
func DefaultContainersConf() (ContainersConf, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return ContainersConf{}, fmt.Errorf("helper: no home directory for ~/.config/containers: %w", err)
	}
	// As containers/image's pkg/cli/environment: a set variable wins even
	// when it is empty, which means the default files.
	override, ok := os.LookupEnv(ContainersRegistriesConfEnv)
	if !ok {
		override = os.Getenv("REGISTRIES_CONFIG_PATH")
	}
	return ContainersConf{Home: home, Override: override, SystemDir: "/etc/containers"}, nil
}

// userDir is the per-user configuration directory of containers/image.
func (c ContainersConf) userDir() string {
	return filepath.Join(c.Home, ".config", "containers")
}

// DropInPath returns the path of the drop-in file SetHelper writes:
// ~/.config/containers/registries.conf.d/99-oidc-auth.conf.
func (c ContainersConf) DropInPath() string {
	return filepath.Join(c.userDir(), "registries.conf.d", containersDropInName)
}

// files returns the registries.conf files the tools read, in the order
// they read them (see ContainersConf), missing ones included.
func (c ContainersConf) files() ([]string, error) {
	userMain := filepath.Join(c.userDir(), "registries.conf")
	systemDropIns := filepath.Join(c.SystemDir, "registries.conf.d")
	userDropIns := filepath.Join(c.userDir(), "registries.conf.d")
	var main string
	dirs := []string{systemDropIns, userDropIns}
	switch _, err := os.Stat(userMain); {
	case c.Override != "":
		main = c.Override
	case err == nil:
		main, dirs = userMain, []string{userDropIns}
	default:
		main = filepath.Join(c.SystemDir, "registries.conf")
	}
	files := []string{main}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir) // sorted by name, as the tools read them
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("helper: read %s: %w", dir, err)
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".conf") {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	return files, nil
}

// credentialHelpers returns the top-level credential-helpers list of the
// registries.conf file at path; nil when the file or the key is missing.
func credentialHelpers(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("helper: read %s: %w", path, err)
	}
	var conf struct {
		CredentialHelpers []string `toml:"credential-helpers"`
	}
	if err := toml.Unmarshal(b, &conf); err != nil {
		return nil, fmt.Errorf("helper: %s is not a registries.conf that skopeo, podman and buildah can read (%v); fix it first", path, err)
	}
	return conf.CredentialHelpers, nil
}

// SetHelper makes skopeo, podman and buildah ask this helper first for
// every registry, as docker does with credsStore "oidc": it writes the
// drop-in file at DropInPath, whose credential-helpers list is "oidc"
// followed by the list the tools would use without it (by default
// containers-auth.json: their auth files, and docker's credHelpers). No
// other file is changed. With unset it removes that drop-in file. It
// returns whether it changed anything.
//
// It fails, writing nothing, when a drop-in that the tools read after it
// sets a credential-helpers list without "oidc" first, which would take
// its place.
func (c ContainersConf) SetHelper(unset bool) (bool, error) {
	path := c.DropInPath()
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("helper: read %s: %w", path, err)
	}
	ours := err == nil && bytes.HasPrefix(old, []byte(containersDropInMark))
	if unset {
		if !ours {
			return false, nil
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("helper: remove %s: %w", path, err)
		}
		return true, nil
	}
	if err == nil && !ours {
		return false, fmt.Errorf("helper: %s exists and was not written by oidc-auth; remove it, or add %q first to its credential-helpers yourself", path, HelperName)
	}
	files, err := c.files()
	if err != nil {
		return false, err
	}
	rest := []string{ContainersAuthFile}
	for _, f := range files {
		if f == path {
			continue
		}
		// Only drop-ins beside ours sort after it: the system's are read
		// first.
		after := filepath.Dir(f) == filepath.Dir(path) && filepath.Base(f) > containersDropInName
		list, err := credentialHelpers(f)
		if err != nil {
			return false, err
		}
		if len(list) == 0 {
			continue
		}
		if after && list[0] != HelperName {
			return false, fmt.Errorf("helper: %s sets credential-helpers after %s, so skopeo, podman and buildah would not ask oidc-auth; put %q first in that list yourself", f, path, HelperName)
		}
		rest = list
	}
	list := []string{HelperName}
	for _, h := range rest {
		if h != HelperName && !slices.Contains(list, h) {
			list = append(list, h)
		}
	}
	key, err := toml.Marshal(struct {
		CredentialHelpers []string `toml:"credential-helpers"`
	}{list})
	if err != nil {
		return false, fmt.Errorf("helper: encode %s: %w", path, err)
	}
	content := containersDropInMark + "\n" +
		"# skopeo, podman and buildah ask docker-credential-oidc first for every\n" +
		"# registry, as docker does with credsStore \"oidc\". Undo with\n" +
		"# oidc-auth setup docker REGISTRY --creds-store --unset.\n" + string(key)
	if string(old) == content {
		return false, nil
	}
	if err := keyring.WriteFileAtomic(path, []byte(content)); err != nil {
		return false, err
	}
	return true, nil
}
