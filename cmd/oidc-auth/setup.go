package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/helper"
)

// setupCommand configures git, docker (with the containers/image tools)
// and helm to ask the helpers.
func (a *app) setupCommand(onUsage cli.OnUsageErrorFunc) *cli.Command {
	hostFlag := &cli.StringFlag{Name: "host", Usage: "the py-oidc-auth server whose tokens to hand out"}
	userFlag := &cli.StringFlag{Name: "username", Usage: "the username to hand out with the token (default: oauth2)"}
	unsetFlag := &cli.BoolFlag{Name: "unset", Usage: "undo the setup"}
	issuerFlag := &cli.StringFlag{Name: "issuer", Usage: "instead of --host: a standard OpenID Provider's issuer URL (with --client-id)"}
	clientFlag := &cli.StringFlag{Name: "client-id", Usage: "with --issuer: the provider's client id"}
	return &cli.Command{
		Name:  "setup",
		Usage: "make git, docker (and skopeo, podman, buildah) or helm ask oidc-auth for credentials",
		Subcommands: []*cli.Command{
			{
				Name:      "git",
				Usage:     "answer git's credential requests for URL with HOST's tokens",
				ArgsUsage: "URL",
				Description: "Adds a [[server]] entry to the config file and runs\n" +
					"git config --global credential.URL.helper oidc (after an empty helper line, so\n" +
					"that no generic helper answers first), plus credential.URL.useHttpPath when\n" +
					"URL has a path.",
				Flags:        []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag},
				OnUsageError: onUsage,
				Action:       a.setupGit,
			},
			{
				Name:      "docker",
				Usage:     "answer docker's credential requests for REGISTRY with HOST's tokens",
				ArgsUsage: "REGISTRY",
				Description: "Adds a [[server]] entry to the config file and a credHelpers entry to\n" +
					"$DOCKER_CONFIG/config.json (default ~/.docker), which skopeo, podman and\n" +
					"buildah read too. With --creds-store it makes oidc-auth docker's credsStore\n" +
					"for every registry instead, and, since skopeo, podman and buildah ignore\n" +
					"credsStore, writes " + "~/.config/containers/registries.conf.d/99-oidc-auth.conf\n" +
					"with credential-helpers = [\"oidc\", \"containers-auth.json\"] for them.",
				Flags: []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag,
					&cli.BoolFlag{Name: "creds-store", Usage: "set credsStore instead of a credHelpers entry, and make skopeo, podman and buildah ask oidc-auth first too"}},
				OnUsageError: onUsage,
				Action:       a.setupDocker,
			},
			{
				Name:      "helm",
				Usage:     "answer helm's credential requests for REGISTRY with HOST's tokens",
				ArgsUsage: "REGISTRY",
				Description: "Adds a [[server]] entry to the config file and a credHelpers entry to helm's\n" +
					"registry config: $HELM_REGISTRY_CONFIG, else registry/config.json in\n" +
					"$HELM_CONFIG_HOME, $XDG_CONFIG_HOME/helm or helm's default directory\n" +
					"(~/.config/helm, ~/Library/Preferences/helm on macOS, %APPDATA%\\helm on\n" +
					"Windows).",
				Flags:        []cli.Flag{hostFlag, issuerFlag, clientFlag, userFlag, unsetFlag},
				OnUsageError: onUsage,
				Action:       a.setupHelm,
			},
		},
	}
}

// setupTarget returns the one positional argument and checks --host.
func setupTarget(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 || strings.TrimSpace(c.Args().First()) == "" {
		return "", usagef(c, "setup %s needs one %s", c.Command.Name, what)
	}
	switch {
	case c.Bool("unset"):
	case c.String("host") != "" && c.String("issuer") != "":
		return "", usagef(c, "give either --host or --issuer, not both")
	case c.String("issuer") != "" && c.String("client-id") == "":
		return "", usagef(c, "--issuer needs --client-id")
	case c.String("host") == "" && c.String("issuer") == "":
		return "", usagef(c, "setup %s needs --host, the py-oidc-auth server to get tokens from (or --issuer and --client-id, an OpenID Provider)", c.Command.Name)
	}
	return strings.TrimSpace(c.Args().First()), nil
}

// configEntry writes (or with --unset removes) the config entry for match.
func (a *app) configEntry(c *cli.Context, match string) error {
	path, err := helper.ConfigPath()
	if err != nil {
		return err
	}
	if c.Bool("unset") {
		found, err := helper.RemoveServer(path, match)
		if err != nil {
			return err
		}
		if found {
			fmt.Fprintf(a.stderr, "Removed %s from %s.\n", match, path)
		}
		return nil
	}
	server := helper.Server{Match: match, Host: c.String("host"), Issuer: c.String("issuer"), ClientID: c.String("client-id"), Username: c.String("username")}
	err = helper.AddServer(path, server)
	if err != nil {
		return usagef(c, "%s", helper.Describe(err))
	}
	fmt.Fprintf(a.stderr, "Wrote %s: %s answers with tokens of %s.\n", path, match, server.Flows().Name())
	return nil
}

func (a *app) setupGit(c *cli.Context) error {
	target, err := setupTarget(c, "URL")
	if err != nil {
		return err
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return usagef(c, "%q is not a URL like https://git.example.org/team/", target)
	}
	if err := a.configEntry(c, target); err != nil {
		return err
	}
	section := "credential." + target
	if c.Bool("unset") {
		for _, key := range []string{".helper", ".useHttpPath"} {
			if err := gitConfig(c.Context, "--unset-all", section+key); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stderr, "git no longer asks oidc-auth for %s.\n", target)
		return nil
	}
	steps := [][]string{
		{"--unset-all", section + ".helper"},
		{"--add", section + ".helper", ""},
		{"--add", section + ".helper", helper.HelperName},
	}
	if strings.Trim(u.Path, "/") != "" {
		steps = append(steps, []string{section + ".useHttpPath", "true"})
	}
	for _, args := range steps {
		if err := gitConfig(c.Context, args...); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stderr, "git now asks git-credential-oidc for %s.\n", target)
	warnStorageHelpers(c.Context, a.stderr, target)
	return nil
}

// gitConfig runs git config --global; unsetting a key that is not set is
// not an error.
func gitConfig(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", append([]string{"config", "--global"}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 5 && args[0] == "--unset-all" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("git config --global %s failed: %v %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// setupRegistry returns setup docker's or setup helm's REGISTRY argument,
// lowercased: the tools look credHelpers up by the exact host they
// resolved, which is lowercase.
func setupRegistry(c *cli.Context) (string, error) {
	registry, err := setupTarget(c, "REGISTRY")
	if err != nil {
		return "", err
	}
	if strings.Contains(registry, "://") || strings.Contains(registry, "/") {
		return "", usagef(c, "%q is not a registry host like registry.example.org or 127.0.0.1:5000", registry)
	}
	return strings.ToLower(registry), nil
}

// removeEntryUnlessAsked removes the config entry of registry (as
// configEntry with --unset does) unless the other tool's config file at
// path still asks oidc-auth for it, which the entry must keep answering.
func (a *app) removeEntryUnlessAsked(c *cli.Context, registry, path, tool, undo string) error {
	// A file that cannot be read (or no path) asks nothing: it must not
	// keep this tool's setup from being undone.
	if asked, err := helper.AsksHelper(path, registry); err == nil && asked {
		cfg, _ := helper.ConfigPath()
		fmt.Fprintf(a.stderr, "Kept %s in %s: %s still asks oidc-auth for it (undo that with %s).\n", registry, cfg, tool, undo)
		return nil
	}
	return a.configEntry(c, registry)
}

func (a *app) setupDocker(c *cli.Context) error {
	registry, err := setupRegistry(c)
	if err != nil {
		return err
	}
	unset, credsStore := c.Bool("unset"), c.Bool("creds-store")
	if !unset {
		if err := a.configEntry(c, registry); err != nil {
			return err
		}
	}
	dir, err := helper.DockerConfigDir()
	if err != nil {
		return err
	}
	if err := helper.SetDockerHelper(dir, registry, credsStore, unset); err != nil {
		return err
	}
	if credsStore {
		conf, err := helper.DefaultContainersConf()
		if err != nil {
			return err
		}
		changed, err := conf.SetHelper(unset)
		if err != nil {
			return err
		}
		switch {
		case changed && unset:
			fmt.Fprintf(a.stderr, "Removed %s: skopeo, podman and buildah no longer ask oidc-auth.\n", conf.DropInPath())
		case changed:
			fmt.Fprintf(a.stderr, "Wrote %s: skopeo, podman and buildah ask docker-credential-oidc first for every registry.\n", conf.DropInPath())
		}
	}
	if unset {
		helm, _ := helper.HelmRegistryConfigPath() // none: helm asks nothing
		if err := a.removeEntryUnlessAsked(c, registry, helm, "helm", "oidc-auth setup helm "+registry+" --unset"); err != nil {
			return err
		}
	}
	switch {
	case unset:
		fmt.Fprintf(a.stderr, "docker no longer asks oidc-auth for %s.\n", registry)
	case credsStore:
		fmt.Fprintf(a.stderr, "docker now keeps all registry credentials with docker-credential-oidc; %s gets tokens.\n", registry)
	default:
		fmt.Fprintf(a.stderr, "docker (and skopeo, podman, buildah, which read its credHelpers) now asks docker-credential-oidc for %s.\n", registry)
	}
	return nil
}

func (a *app) setupHelm(c *cli.Context) error {
	registry, err := setupRegistry(c)
	if err != nil {
		return err
	}
	unset := c.Bool("unset")
	if !unset {
		if err := a.configEntry(c, registry); err != nil {
			return err
		}
	}
	path, err := helper.HelmRegistryConfigPath()
	if err != nil {
		return err
	}
	if err := helper.SetHelmHelper(path, registry, unset); err != nil {
		return err
	}
	if unset {
		docker := ""
		if dir, err := helper.DockerConfigDir(); err == nil { // none: docker asks nothing
			docker = filepath.Join(dir, "config.json")
		}
		if err := a.removeEntryUnlessAsked(c, registry, docker, "docker", "oidc-auth setup docker "+registry+" --unset"); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "helm no longer asks oidc-auth for %s (%s).\n", registry, path)
		return nil
	}
	fmt.Fprintf(a.stderr, "helm now asks docker-credential-oidc for %s (%s).\n", registry, path)
	return nil
}
