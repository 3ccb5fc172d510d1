package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os/exec"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/helper"
)

// setupCommand configures git and docker to ask the helpers.
func (a *app) setupCommand(onUsage cli.OnUsageErrorFunc) *cli.Command {
	hostFlag := &cli.StringFlag{Name: "host", Usage: "the py-oidc-auth server whose tokens to hand out"}
	userFlag := &cli.StringFlag{Name: "username", Usage: "the username to hand out with the token (default: oauth2)"}
	unsetFlag := &cli.BoolFlag{Name: "unset", Usage: "undo the setup"}
	return &cli.Command{
		Name:  "setup",
		Usage: "make git or docker ask oidc-auth for credentials",
		Subcommands: []*cli.Command{
			{
				Name:      "git",
				Usage:     "answer git's credential requests for URL with HOST's tokens",
				ArgsUsage: "URL",
				Description: "Adds a [[server]] entry to the config file and runs\n" +
					"git config --global credential.URL.helper oidc (after an empty helper line, so\n" +
					"that no generic helper answers first), plus credential.URL.useHttpPath when\n" +
					"URL has a path.",
				Flags:        []cli.Flag{hostFlag, userFlag, unsetFlag},
				OnUsageError: onUsage,
				Action:       a.setupGit,
			},
			{
				Name:      "docker",
				Usage:     "answer docker's credential requests for REGISTRY with HOST's tokens",
				ArgsUsage: "REGISTRY",
				Description: "Adds a [[server]] entry to the config file and a credHelpers entry to\n" +
					"$DOCKER_CONFIG/config.json (default ~/.docker), or with --creds-store makes\n" +
					"oidc-auth docker's credsStore for every registry.",
				Flags: []cli.Flag{hostFlag, userFlag, unsetFlag,
					&cli.BoolFlag{Name: "creds-store", Usage: "set credsStore instead of a credHelpers entry"}},
				OnUsageError: onUsage,
				Action:       a.setupDocker,
			},
		},
	}
}

// setupTarget returns the one positional argument and checks --host.
func setupTarget(c *cli.Context, what string) (string, error) {
	if c.NArg() != 1 || strings.TrimSpace(c.Args().First()) == "" {
		return "", usagef(c, "setup %s needs one %s", c.Command.Name, what)
	}
	if !c.Bool("unset") && c.String("host") == "" {
		return "", usagef(c, "setup %s needs --host, the py-oidc-auth server to get tokens from", c.Command.Name)
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
	err = helper.AddServer(path, helper.Server{Match: match, Host: c.String("host"), Username: c.String("username")})
	if err != nil {
		return usagef(c, "%s", helper.Describe(err))
	}
	fmt.Fprintf(a.stderr, "Wrote %s: %s answers with tokens of %s.\n", path, match, c.String("host"))
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

func (a *app) setupDocker(c *cli.Context) error {
	registry, err := setupTarget(c, "REGISTRY")
	if err != nil {
		return err
	}
	if strings.Contains(registry, "://") || strings.Contains(registry, "/") {
		return usagef(c, "%q is not a registry host like registry.example.org or 127.0.0.1:5000", registry)
	}
	// Docker looks credHelpers up by the exact host it resolved, which is
	// lowercase.
	registry = strings.ToLower(registry)
	if err := a.configEntry(c, registry); err != nil {
		return err
	}
	dir, err := helper.DockerConfigDir()
	if err != nil {
		return err
	}
	if err := helper.SetDockerHelper(dir, registry, c.Bool("creds-store"), c.Bool("unset")); err != nil {
		return err
	}
	switch {
	case c.Bool("unset"):
		fmt.Fprintf(a.stderr, "docker no longer asks oidc-auth for %s.\n", registry)
	case c.Bool("creds-store"):
		fmt.Fprintf(a.stderr, "docker now keeps all registry credentials with docker-credential-oidc; %s gets tokens.\n", registry)
	default:
		fmt.Fprintf(a.stderr, "docker now asks docker-credential-oidc for %s.\n", registry)
	}
	return nil
}
