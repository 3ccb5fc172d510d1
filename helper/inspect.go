package helper

import (
	"context"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/oidc-auth/oidc-auth/internal/config"
)

// Tools that Use names.
const (
	ToolGit    = "git"
	ToolDocker = "docker"
)

// EveryTarget is the Target of a Use that answers for every URL or
// registry: a credential.helper without a URL, or docker's credsStore.
const EveryTarget = "*"

// Use is one entry that makes git or docker ask our helpers for
// credentials: a [[server]] table of the config file, a
// credential.<url>.helper of git's config naming ours, or a credHelpers
// or credsStore entry of docker's config.json naming ours. It is read
// only; finding it changes nothing.
type Use struct {
	// Tool is ToolGit or ToolDocker.
	Tool string
	// Target is the git URL (prefix) or the docker registry the entry is
	// for, as written; EveryTarget for an entry without one.
	Target string
	// Source says where the entry is written: the config file, the git
	// config key and its file, or docker's config.json.
	Source string
	// Login is the store key of the login that answers for Target: the
	// most specific matching config entry's, else the key of Target's own
	// scheme and host (a login to a host answers for it with no config);
	// "" when Target is EveryTarget or cannot be parsed.
	Login string
}

// ConfigUses returns the uses that the config file's entries declare: a
// URL Match is git's, a bare host docker's. path names the file in
// Source.
func ConfigUses(cfg *Config, path string) []Use {
	if cfg == nil {
		return nil
	}
	var out []Use
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		tool := ToolDocker
		if strings.Contains(s.Match, "://") {
			tool = ToolGit
		}
		u := Use{Tool: tool, Target: s.Match, Source: path}
		if key, err := Flows(s).Key(); err == nil {
			u.Login = key
		}
		out = append(out, u)
	}
	return out
}

// GitUses returns the credential.helper and credential.<url>.helper
// entries of git's config (as `git config --list` in the current
// directory sees it) whose value runs git-credential-oidc, with the login
// cfg (which may be nil) makes answer each URL. It fails when git is not
// installed or its config cannot be read.
func GitUses(ctx context.Context, cfg *Config) ([]Use, error) {
	entries, err := gitConfigList(ctx)
	if err != nil {
		return nil, err
	}
	var out []Use
	for _, e := range entries {
		sub, ok := helperSubsection(e.key)
		if !ok || e.value == nil {
			continue
		}
		if _, ours := helperName(*e.value); !ours {
			continue
		}
		source := e.key
		if where, ok := strings.CutPrefix(e.origin, "file:"); ok {
			source += " in " + where
		} else if e.origin != "" {
			source += " from the " + strings.TrimSuffix(e.origin, ":")
		}
		u := Use{Tool: ToolGit, Target: sub, Source: source}
		if sub == "" {
			u.Target = EveryTarget
		} else {
			u.Login = LoginFor(cfg, ToolGit, sub)
		}
		out = append(out, u)
	}
	return out, nil
}

// DockerUses returns the credHelpers entries naming our helper, and a
// credsStore naming it, of the docker config file in dir (see
// DockerConfigDir), sorted by registry. A missing file has none.
func DockerUses(cfg *Config, dir string) ([]Use, error) {
	path := filepath.Join(dir, "config.json")
	f, err := readDockerConfigFile(path)
	if err != nil {
		return nil, err
	}
	var out []Use
	for _, reg := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.helpers {
			if !yield(k) {
				return
			}
		}
	}) {
		if f.helpers[reg] != HelperName {
			continue
		}
		out = append(out, Use{Tool: ToolDocker, Target: reg, Source: path + " credHelpers", Login: LoginFor(cfg, ToolDocker, reg)})
	}
	if f.store == HelperName {
		out = append(out, Use{Tool: ToolDocker, Target: EveryTarget, Source: path + " credsStore"})
	}
	return out, nil
}

// LoginFor returns the store key of the login that answers tool
// (ToolGit or ToolDocker) for target, a git URL or a docker registry: the
// most specific matching entry of c (which may be nil), else the key of
// target's own scheme and host; "" when target cannot be parsed.
func LoginFor(c *Config, tool, target string) string {
	var t Target
	var ok bool
	switch tool {
	case ToolGit:
		u, err := url.Parse(strings.TrimSpace(target))
		if err != nil {
			return ""
		}
		t, ok = config.GitTarget(u.Scheme, u.Host, u.Path)
	case ToolDocker:
		t, ok = config.DockerTarget(target)
	}
	if !ok {
		return ""
	}
	if c != nil {
		if best := c.Match(t); best != nil {
			if key, err := best.Key(); err == nil {
				return key
			}
			return ""
		}
	}
	key, err := t.LoginKey()
	if err != nil {
		return ""
	}
	return key
}
