// Package oidcauth is the oidc-auth command, which logs in to OIDC auth
// servers and hands out their tokens: login, token, status and logout. The
// oidc-auth-core binary runs it (see cmd/oidc-auth-core).
package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/verbose"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Main runs oidc-auth with the process's command line and returns its exit
// code. version is what a release build names (empty, the module's build
// information tells; see internal/version).
func Main(version string) int {
	return helper.Main(os.Exit, func(ctx context.Context) int {
		return run(ctx, version, os.Args, os.Stdout, os.Stderr)
	})
}

// run executes one command line and returns its exit code. Everything for
// people goes to stderr; stdout carries only what the command outputs.
func run(ctx context.Context, version string, args []string, stdout, stderr io.Writer) int {
	ctx = flows.WithDebug(ctx, stderr, flows.DebugLevelFromEnv(), "oidc-auth")
	app := newApp(stdout, stderr)
	app.Version = version // printVersion's
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return exitOK
	}
	var pf *pyFailure
	if errors.As(err, &pf) {
		fmt.Fprintln(stderr, pf.Error()) // the Python client's words
		return exitFailure
	}
	var xe *exitError // the exit code of the command `exec` ran
	if errors.As(err, &xe) {
		if xe.msg != "" {
			fmt.Fprintf(stderr, "oidc-auth: %s\n", flows.TerminalSafe(xe.msg))
		}
		return xe.code
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(stderr, "oidc-auth: %s\n", flows.TerminalSafe(ue.msg))
		return exitUsage
	}
	fmt.Fprintf(stderr, "oidc-auth: %s\n", message(err))
	return exitFailure
}

// message is the one line a person reads for err: the outermost package
// prefix is dropped, since the program's name already leads the line.
func message(err error) string {
	msg := flows.TerminalSafe(err.Error())
	for _, p := range []string{"flows: ", "keyring: ", "helper: ", "kubeconfig: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// usageError is a command line that cannot be run as written.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(c *cli.Context, format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...) + fmt.Sprintf("; see `%s --help`", c.Command.HelpName)}
}

// reorderArgs moves a subcommand's flags in front of its positional
// arguments, so that "login HOST --force" works as people type it (the
// flag parser stops at the first positional argument). A "--" ends flag
// parsing as usual.
//
// A first argument that is no command but a server (see looksLikeHost)
// is the Python client's form, whose flags go anywhere (see pyReorder).
//
// It also spells out -vv as -v -v, which the flag parser does not know,
// and leaves a shell's completion request (--generate-bash-completion
// last) as the shell wrote it.
func reorderArgs(app *cli.App, args []string) []string {
	args = verbose.Expand(args)
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return args
	}
	var cmd *cli.Command
	i := 1
	for ; i < len(args); i++ {
		if strings.HasPrefix(args[i], "-") {
			i += max(pyValues(app.Flags, args, i), 0)
			continue
		}
		cmd = app.Command(args[i])
		if cmd == nil && looksLikeHost(args[i]) {
			// The Python client's form: "oidc-auth HOST --json".
			return pyReorder(app.Flags, args)
		}
		break
	}
	if cmd == nil {
		return args
	}
	// Descend into subcommands ("setup git"), which come right after.
	for i+1 < len(args) && len(cmd.Subcommands) > 0 {
		sub := cmd.Command(args[i+1])
		if sub == nil {
			break
		}
		cmd, i = sub, i+1
	}
	head := append([]string{}, args[:i+1]...)
	var flags, positional []string
	rest := args[i+1:]
	for j := 0; j < len(rest); j++ {
		a := rest[j]
		switch {
		case a == "--":
			positional = append(positional, rest[j:]...)
			j = len(rest)
		case strings.HasPrefix(a, "-") && a != "-":
			flags = append(flags, a)
			if takesValue(cmd.Flags, a) {
				if j+1 == len(rest) {
					// A last flag without its value: leave it last, for
					// the parser to say so.
					return append(append(head, flags[:len(flags)-1]...), a)
				}
				flags = append(flags, rest[j+1])
				j++
			}
		default:
			positional = append(positional, a)
		}
	}
	if len(flags) == 0 {
		return args
	}
	out := append(head, flags...)
	if len(positional) > 0 && positional[0] != "--" {
		out = append(out, "--")
	}
	return append(out, positional...)
}

// takesValue reports whether arg is a flag of flags that needs the next
// argument as its value ("--port 1", not "--port=1" and not a bool flag).
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if bf, ok := f.(*cli.BoolFlag); ok && bf != nil {
				return false
			}
			return true
		}
	}
	return false
}
