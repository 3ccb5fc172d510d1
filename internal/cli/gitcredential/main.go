// Package gitcredential is the git-credential-oidc command, a git
// credential helper that answers with OIDC access tokens: configure it with
// `oidc-auth setup git URL --host H`, or by hand as
// credential.<url>.helper = oidc. The oidc-auth-core binary runs it (see
// cmd/oidc-auth-core).
package gitcredential

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/vargs"
	versioninfo "github.com/oidc-auth/oidc-auth/internal/version"
)

// usage is what a person who runs the helper by hand, without an action,
// reads on stderr.
const usage = `usage: git-credential-oidc [-v] get|store|erase
git runs this credential helper itself: set it up with
  oidc-auth setup git https://git.example.org/ --host https://auth.example.org
then use git as usual. See git-credential-oidc --help.
`

// name is the program's name, which leads every line it writes for people.
const name = "git-credential-oidc"

// appHelp is what --help prints: the same text as every command line
// program of the project, written out here because git starts this helper
// on every fetch and push and a command line library would cost each of
// them more than the helper's own work (see BENCHMARKS.md).
const appHelp = `NAME:
   git-credential-oidc - answer git's credential requests with OIDC access tokens

USAGE:
   git-credential-oidc [-v] get|store|erase (git runs it; set it up with
   ` + "`oidc-auth setup git URL --host HOST`" + `, or by hand with
   git config --global credential.https://git.example.org.helper oidc)

COMMANDS:
   get    print the credential for the URL on stdin
   erase  forget the rejected access token on stdin (the refresh token stays)
   store  accepted and ignored: tokens are stored when they are obtained

GLOBAL OPTIONS:
   --verbose, -v  ` + vargs.Usage + `
   --version      print the version
   --help, -h     show help
`

// commands are git's actions, with the line their help shows.
var commands = []struct{ name, usage string }{
	{"get", "print the credential for the URL on stdin"},
	{"erase", "forget the rejected access token on stdin (the refresh token stays)"},
	{"store", "accepted and ignored: tokens are stored when they are obtained"},
}

// commandHelp is what `git-credential-oidc ACTION --help` prints.
func commandHelp(w io.Writer, action string) bool {
	for _, c := range commands {
		if c.name == action {
			fmt.Fprintf(w, `NAME:
   %[1]s %[2]s - %[3]s

USAGE:
   %[1]s %[2]s [command options]

OPTIONS:
   --verbose, -v  %[4]s
   --help, -h     show help
`, name, c.name, c.usage, vargs.Usage)
			return true
		}
	}
	return false
}

// Main runs git-credential-oidc with the process's command line and
// standard streams and returns its exit code. version is what a release
// build names (empty, the module's build information tells; see
// internal/version).
func Main(version string) int {
	return helper.Main(os.Exit, func(ctx context.Context) int {
		return run(ctx, version, os.Args, os.Stdin, os.Stdout, os.Stderr)
	})
}

// boolFlag is a boolean flag that counts how often it was given, under any
// of its names: -v -v asks for more than -v, and -v=false still counts.
type boolFlag struct {
	value bool
	count int
	given []string // the names it was given under, in order
}

func (f *boolFlag) IsBoolFlag() bool { return true }
func (f *boolFlag) String() string   { return fmt.Sprint(f != nil && f.value) }

// Set records one use of the flag; flag.FlagSet reports a value that is
// no boolean as "invalid boolean value ... parse error".
func (f *boolFlag) Set(s string) error {
	v, ok := parseBool(s)
	if !ok {
		return fmt.Errorf("parse error")
	}
	f.value = v
	f.count++
	return nil
}

func parseBool(s string) (value, ok bool) {
	switch s {
	case "1", "t", "T", "TRUE", "true", "True":
		return true, true
	case "0", "f", "F", "FALSE", "false", "False":
		return false, true
	}
	return false, false
}

// flags are the flags of the command line or of one action: -v/--verbose,
// -h/--help and, before the action, --version.
type flags struct {
	verbose, help, version boolFlag
}

// parse parses args as the flags of one level, returning the arguments
// after them. A flag given under both its names is an error, as it was
// when the command line library parsed them.
func (f *flags) parse(args []string, withVersion bool) ([]string, error) {
	set := flag.NewFlagSet(name, flag.ContinueOnError)
	set.SetOutput(io.Discard)
	set.Usage = func() {}
	seen := map[string]bool{}
	track := func(fl *boolFlag, n string) flag.Value { return &named{fl, n, seen} }
	set.Var(track(&f.verbose, "verbose"), "verbose", "")
	set.Var(track(&f.verbose, "v"), "v", "")
	if withVersion {
		set.Var(track(&f.version, "version"), "version", "")
	}
	set.Var(track(&f.help, "help"), "help", "")
	set.Var(track(&f.help, "h"), "h", "")
	if err := set.Parse(args); err != nil {
		return nil, err
	}
	for _, pair := range [][2]string{{"verbose", "v"}, {"help", "h"}} {
		if seen[pair[0]] && seen[pair[1]] {
			return nil, fmt.Errorf("Cannot use two forms of the same flag: %s %s", pair[1], pair[0])
		}
	}
	return set.Args(), nil
}

// named is one name of a boolFlag, which notes that it was used.
type named struct {
	*boolFlag
	name string
	seen map[string]bool
}

func (n *named) Set(s string) error {
	n.seen[n.name] = true
	return n.boolFlag.Set(s)
}

// run executes one git action and returns the exit code (--version prints
// version, else the build information's): 0 also when the
// helper has nothing to say, so that git asks its next helper; 1 for input
// that is not a credential request or a config that cannot be read; 2 for
// a command line that cannot be run.
func run(ctx context.Context, version string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx = flows.WithDebug(ctx, stderr, flows.DebugLevelFromEnv(), name)
	// Usage errors go to stderr, never stdout, which is git's.
	usageError := func(err error) int {
		msg := err.Error()
		if n, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
			msg = "unknown flag --" + strings.TrimLeft(n, "-")
		}
		fmt.Fprintf(stderr, "%s: %s; see `%s --help`\n", name, msg, name)
		return 2
	}
	// help prints the help that -h asks for: of the action its first
	// argument names, else of the action it follows (of the program
	// before one).
	help := func(rest []string, action string) int {
		if len(rest) == 0 || rest[0] == "" {
			if action == "" {
				fmt.Fprint(stdout, appHelp)
			} else {
				commandHelp(stdout, action)
			}
			return 0
		}
		if !commandHelp(stdout, rest[0]) {
			fmt.Fprintf(stderr, "%s: No help topic for '%s'\n", name, rest[0])
			return 1
		}
		return 0
	}
	var root flags
	rest, err := root.parse(vargs.Expand(args)[1:], true)
	if err != nil {
		return usageError(err)
	}
	if root.help.value {
		return help(rest, "")
	}
	action := ""
	if len(rest) > 0 {
		for _, c := range commands {
			if c.name == rest[0] {
				action = c.name
			}
		}
	}
	if action == "" {
		switch {
		case root.version.value:
			fmt.Fprintf(stdout, "%s %s\n", name, versioninfo.String(version))
		case len(rest) == 0:
			// git always names an action: this is a person.
			fmt.Fprint(stderr, usage)
			return 2
		}
		// git may add actions; a helper ignores the ones it does not know.
		return 0
	}
	var cmd flags
	cmdRest, err := cmd.parse(rest[1:], false)
	if err != nil {
		return usageError(err)
	}
	if cmd.help.value {
		return help(cmdRest, action)
	}
	if action == "store" {
		if _, err := io.Copy(io.Discard, io.LimitReader(stdin, 1<<20)); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, err)
			return 1
		}
		return 0
	}
	// git starts the helper: -v comes from the helper's config line
	// ("oidc -v"), else $OIDC_AUTH_DEBUG.
	if level := min(max(root.verbose.count+cmd.verbose.count, flows.DebugLevelFromEnv()), flows.DebugDetails); level > flows.DebugOff && !flows.DebugEnabled(ctx, level) {
		ctx = flows.WithDebug(ctx, stderr, level, name)
	}
	if action == "erase" {
		// A change to the store that a signal must not cut short; get
		// starts the signal handling only to refresh or log in.
		helper.CatchSignalsNow(ctx)
	}
	h, err := helper.Open(name, stderr)
	if err == nil {
		if action == "get" {
			err = h.GitGet(ctx, stdin, stdout)
		} else {
			err = h.GitErase(ctx, stdin)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", name, helper.Describe(err))
		return 1
	}
	return 0
}
