// Package verbose is the -v flag the oidc-auth binaries share: -v shows
// requests and decisions, -vv their details too (flows.DebugDecisions and
// flows.DebugDetails), and $OIDC_AUTH_DEBUG asks for the same where no flag
// can be passed.
package verbose

import (
	"io"
	"slices"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/vargs"
)

// Flag returns the repeatable -v/--verbose flag. Every command carries one,
// so that it goes before or after the command name.
func Flag() cli.Flag {
	return &cli.BoolFlag{
		Name:               "verbose",
		Aliases:            []string{"v"},
		Usage:              vargs.Usage,
		Count:              new(int),
		DisableDefaultText: true,
	}
}

// Expand spells out -vv (and -vvv) before a "--" as -v -v, which the flag
// parser does not know (see vargs.Expand).
func Expand(args []string) []string { return vargs.Expand(args) }

// Level is the debug level a command line asks for: its -v flags before
// and after the command names, added up, or $OIDC_AUTH_DEBUG when that
// asks for more; at most flows.DebugDetails.
func Level(c *cli.Context) int {
	n := 0
	for _, cc := range c.Lineage() {
		if cc.Command != nil && hasFlag(cc.Command.Flags) || cc.Command == nil && cc.App != nil && hasFlag(cc.App.Flags) {
			n += cc.Count("verbose")
		}
	}
	return min(max(n, flows.DebugLevelFromEnv()), flows.DebugDetails)
}

// Apply puts the debug log the command line asks for into c's context,
// writing to w with lines led by name, unless one at that level is there
// already.
func Apply(c *cli.Context, w io.Writer, name string) {
	if level := Level(c); level > flows.DebugOff && !flows.DebugEnabled(c.Context, level) {
		c.Context = flows.WithDebug(c.Context, w, level, name)
	}
}

func hasFlag(flags []cli.Flag) bool {
	for _, f := range flags {
		if slices.Contains(f.Names(), "verbose") {
			return true
		}
	}
	return false
}
