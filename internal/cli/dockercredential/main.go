// Package dockercredential is the docker-credential-oidc command, a docker
// credential helper: registries that a configured server answers for get an
// OIDC access token, and every other registry is a plain credential store,
// so it also works as docker's credsStore. Configure it with
// `oidc-auth setup docker REGISTRY --host H`. The oidc-auth-core binary runs
// it (see cmd/oidc-auth-core).
package dockercredential

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	versioninfo "github.com/oidc-auth/oidc-auth/internal/version"
)

// usage is what a person who runs the helper by hand, without an action,
// reads on stderr.
const usage = `usage: docker-credential-oidc store|get|erase|list|version
docker runs this credential helper itself: set it up with
  oidc-auth setup docker registry.example.org --host https://auth.example.org
then use docker as usual ($` + flows.DebugEnv + `=1 shows what it does).
`

// Main runs docker-credential-oidc with the process's command line and
// standard streams and returns its exit code. version is what a release
// build names (empty, the module's build information tells; see
// internal/version).
func Main(version string) int {
	return helper.Main(os.Exit, func(ctx context.Context) int {
		return run(ctx, version, os.Args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// run executes one docker action. Docker reads a failed action's message
// from stdout, so errors go there, as credentials.Serve sends them; exit 1
// on failure, 2 for a command line that is not a docker action. As with
// credentials.Serve, --version and -v print the version, like the version
// action; docker starts the helper with no way to pass a flag, so
// $OIDC_AUTH_DEBUG turns on its debug output.
func run(ctx context.Context, version string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx = flows.WithDebug(ctx, stderr, flows.DebugLevelFromEnv(), "docker-credential-oidc")
	credentials.Name = "docker-credential-oidc"
	credentials.Package = "github.com/oidc-auth/oidc-auth"
	if len(args) != 2 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[1] {
	case credentials.ActionStore, credentials.ActionGet, credentials.ActionErase, credentials.ActionList:
	case credentials.ActionVersion, "--version", "-v":
		// The build info is read only here, not on every docker call.
		credentials.Version = versioninfo.String(version)
		credentials.PrintVersion(stdout)
		return 0
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "docker-credential-oidc: unknown action %q; usage: docker-credential-oidc store|get|erase|list|version\n", args[1])
		return 2
	}
	if args[1] == credentials.ActionStore || args[1] == credentials.ActionErase {
		// A change to the store that a signal must not cut short; get
		// starts the signal handling only to refresh or log in.
		helper.CatchSignalsNow(ctx)
	}
	base, err := helper.Open("docker-credential-oidc", stderr)
	if err != nil {
		fmt.Fprintln(stdout, helper.Describe(err))
		return 1
	}
	h := helper.Docker{Helper: base, Context: ctx}
	if err := credentials.HandleCommand(h, args[1], stdin, stdout); err != nil {
		fmt.Fprintln(stdout, helper.Describe(err))
		return 1
	}
	return 0
}
