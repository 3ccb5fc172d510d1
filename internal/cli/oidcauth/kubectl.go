package oidcauth

import (
	"os"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
)

// kubectlCommand is the credential plugin kubectl runs from a kubeconfig
// user's exec block (see `oidc-auth setup kubectl`).
func (a *app) kubectlCommand(onUsage cli.OnUsageErrorFunc, storeFlag func() cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "kubectl",
		Usage:     "print a kubectl ExecCredential with a valid token (kubectl runs this; see setup kubectl)",
		ArgsUsage: "HOST | --issuer URL --client-id ID",
		Description: "A kubectl credential plugin: prints an ExecCredential, in the apiVersion\n" +
			"$" + helper.ExecInfoEnv + " asks for, else " + helper.ExecAPIv1 + ".\n" +
			"Its token is a standard provider's ID token, which Kubernetes' OIDC\n" +
			"authenticator checks (the access token with --access-token), or a py-oidc-auth\n" +
			"server's access token.\n" +
			"A valid stored token is printed without any request. Otherwise it refreshes,\n" +
			"and logs in on the terminal when kubectl lets it interact.",
		Flags: append(append(providerFlags(),
			&cli.BoolFlag{Name: "access-token", Usage: "with --issuer: hand out the access token instead of the ID token"},
		), allowHTTPFlag(), storeFlag()),
		OnUsageError: onUsage,
		Action:       a.kubectl,
	}
}

func (a *app) kubectl(c *cli.Context) error {
	info, err := helper.ParseExecInfo(os.Getenv(helper.ExecInfoEnv))
	if err != nil {
		return err
	}
	named, err := target(c)
	if err != nil {
		return err
	}
	if c.Bool("access-token") && named.Issuer == "" {
		return usagef(c, "--access-token goes with --issuer: a py-oidc-auth server's token is always its access token")
	}
	store, err := a.openStore(c)
	if err != nil {
		return err
	}
	wait, err := lockTimeout(c)
	if err != nil {
		return err
	}
	cfg, rec, err := tokenConfig(c, store, named)
	if err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	opts := flows.Options{
		Out:           a.stderr,
		LockTimeout:   wait,
		Reason:        "kubectl needs a token",
		Interaction:   flows.InteractNever,
		NoLoginReason: "no terminal to log in from",
	}
	if wait == 0 {
		opts.LockTimeout = flows.DefaultLockTimeout // kubectl must not stall for a login's whole timeout
	}
	// kubectl passes its terminal on as the plugin's stdin when the exec
	// block's interactiveMode allows it, and says so in spec.interactive;
	// the screens go to stderr, which kubectl passes on too.
	stdinTerminal := term.IsTerminal(int(os.Stdin.Fd()))
	switch name, batch := flows.JobEnvironment(); {
	case batch:
		opts.NoLoginReason = name + " is set, and a batch job cannot log in interactively"
	case info.Set && !info.Interactive:
		opts.NoLoginReason = "kubectl gave it no terminal, as interactiveMode is Never or stdin is no terminal"
	case !stdinTerminal:
	default:
		opts.Interaction = flows.InteractAlways
	}
	tok, expires, err := helper.KubectlToken(c.Context, store, helper.KubectlRequest{
		Config:      cfg,
		Record:      rec,
		AccessToken: c.Bool("access-token"),
		Options:     opts,
	})
	if err != nil {
		return err
	}
	flows.Debugf(c.Context, flows.DebugDecisions, "handing kubectl a token valid until %s", expires.UTC().Format(time.RFC3339))
	return helper.WriteExecCredential(a.stdout, info, tok, expires)
}
