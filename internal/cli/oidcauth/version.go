package oidcauth

import (
	"fmt"

	"github.com/urfave/cli/v2"

	versioninfo "github.com/oidc-auth/oidc-auth/internal/version"
)

// printVersion prints "oidc-auth VERSION" on stdout, for --version and
// the version command: the version run gave the app, else the module's
// build information's.
func (a *app) printVersion(c *cli.Context) error {
	if c.Command != nil && c.Command.Name == "version" && c.NArg() > 0 {
		return usagef(c, "version takes no arguments")
	}
	_, err := fmt.Fprintf(a.stdout, "oidc-auth %s\n", versioninfo.String(c.App.Version))
	return err
}
