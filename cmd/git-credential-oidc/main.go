// Command git-credential-oidc is a git credential helper that answers with
// OIDC access tokens: configure it with `oidc-auth setup git URL --host H`,
// or by hand as credential.<url>.helper = oidc.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/verbose"
	versioninfo "github.com/oidc-auth/oidc-auth/internal/version"
)

// version is the version a release build sets with -ldflags
// "-X main.version=v1.2.3"; empty, the module's build information tells
// (see version.String).
var version = ""

// usage is what a person who runs the helper by hand, without an action,
// reads on stderr.
const usage = `usage: git-credential-oidc [-v] get|store|erase
git runs this credential helper itself: set it up with
  oidc-auth setup git https://git.example.org/ --host https://auth.example.org
then use git as usual. See git-credential-oidc --help.
`

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
	// Usage errors go to stderr, never stdout, which is git's.
	onUsage := func(c *cli.Context, err error, _ bool) error {
		failed = 2
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + strings.TrimLeft(name, "-")
		}
		fmt.Fprintf(stderr, "git-credential-oidc: %s; see `git-credential-oidc --help`\n", msg)
		return nil
	}
	action := func(do func(h *helper.Helper, c *cli.Context) error) cli.ActionFunc {
		return func(c *cli.Context) error {
			// git starts the helper: -v comes from the helper's config
			// line ("oidc -v"), else $OIDC_AUTH_DEBUG.
			verbose.Apply(c, stderr, "git-credential-oidc")
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
		Name:  "git-credential-oidc",
		Usage: "answer git's credential requests with OIDC access tokens",
		UsageText: "git-credential-oidc [-v] get|store|erase (git runs it; set it up with\n" +
			"`oidc-auth setup git URL --host HOST`, or by hand with\n" +
			"git config --global credential.https://git.example.org.helper oidc)",
		// Help and --version go to stdout like any program's; the
		// actions write git's answers there themselves.
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		HideVersion:     true, // -v is verbose
		Flags: []cli.Flag{
			verbose.Flag(),
			&cli.BoolFlag{Name: "version", Usage: "print the version", DisableDefaultText: true},
		},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsage,
		Action: func(c *cli.Context) error {
			switch {
			case c.Bool("version"):
				fmt.Fprintf(stdout, "git-credential-oidc %s\n", versioninfo.String(version))
			case c.NArg() == 0:
				// git always names an action: this is a person.
				fmt.Fprint(stderr, usage)
				failed = 2
			}
			// git may add actions; a helper ignores the ones it does not
			// know.
			return nil
		},
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
	for _, cmd := range app.Commands {
		cmd.Flags = append(cmd.Flags, verbose.Flag())
		cmd.OnUsageError = onUsage
		cmd.HideHelpCommand = true
	}
	if err := app.RunContext(ctx, verbose.Expand(args)); err != nil {
		fmt.Fprintf(stderr, "git-credential-oidc: %v\n", err)
		return 1
	}
	return failed
}
