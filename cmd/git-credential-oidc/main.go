// Command git-credential-oidc is a git credential helper that answers with
// OIDC access tokens: configure it with `oidc-auth setup git URL --host H`,
// or by hand as credential.<url>.helper = oidc.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	os.Exit(helper.Main(os.Exit, func(ctx context.Context) int {
		return run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr)
	}))
}

// run executes one git action and returns the exit code: 0 also when the
// helper has nothing to say, so that git asks its next helper; 1 for input
// that is not a credential request or a config that cannot be read; 2 for
// a command line that cannot be run.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx = flows.WithDebug(ctx, stderr, flows.DebugLevelFromEnv(), "git-credential-oidc")
	failed := 0
	action := func(do func(h *helper.Helper, c *cli.Context) error) cli.ActionFunc {
		return func(c *cli.Context) error {
			h, err := helper.Open("git-credential-oidc", stderr)
			if err == nil {
				err = do(h, c)
			}
			if err != nil {
				fmt.Fprintf(stderr, "git-credential-oidc: %s\n", helper.Describe(err))
				failed = 1
			}
			return nil
		}
	}
	app := &cli.App{
		Name:            "git-credential-oidc",
		Usage:           "answer git's credential requests with OIDC access tokens",
		UsageText:       "git config --global credential.https://git.example.org.helper oidc",
		Version:         version,
		Writer:          stderr,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		ExitErrHandler:  func(*cli.Context, error) {},
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			failed = 2
			fmt.Fprintf(stderr, "git-credential-oidc: %v\n", err)
			return nil
		},
		// git may add actions; a helper ignores the ones it does not know.
		Action: func(c *cli.Context) error { return nil },
		Commands: []*cli.Command{
			{
				Name:  "get",
				Usage: "print the credential for the URL on stdin",
				Action: action(func(h *helper.Helper, c *cli.Context) error {
					return h.GitGet(c.Context, stdin, stdout)
				}),
			},
			{
				Name:  "erase",
				Usage: "forget the rejected access token on stdin (the refresh token stays)",
				Action: action(func(h *helper.Helper, c *cli.Context) error {
					return h.GitErase(c.Context, stdin)
				}),
			},
			{
				Name:  "store",
				Usage: "accepted and ignored: tokens are stored when they are obtained",
				Action: func(c *cli.Context) error {
					_, err := io.Copy(io.Discard, io.LimitReader(stdin, 1<<20))
					return err
				},
			},
		},
	}
	if err := app.RunContext(ctx, args); err != nil {
		fmt.Fprintf(stderr, "git-credential-oidc: %v\n", err)
		return 1
	}
	return failed
}
