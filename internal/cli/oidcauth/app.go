package oidcauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"github.com/xrash/smetrics"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/verbose"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// newApp builds the command line interface; stdout carries command output
// only, stderr everything for people.
func newApp(stdout, stderr io.Writer) *cli.App {
	a := &app{stdout: stdout, stderr: stderr}
	onUsage := func(c *cli.Context, err error, _ bool) error {
		return usagef(c, "%s", flagError(c, err))
	}
	// --store is accepted before and after the command name.
	storeFlag := func() cli.Flag {
		return &cli.StringFlag{
			Name:  "store",
			Usage: "where tokens live: keychain or file (default: $" + keyring.StoreEnv + ", else the OS keychain with the file as fallback)",
		}
	}
	root := &cli.App{
		Name:  "oidc-auth",
		Usage: "log in to OIDC auth servers and hand out their tokens",
		// The usage line of the default template names "[global
		// options]" people never need; say how the commands go instead.
		UsageText: "oidc-auth [-v] COMMAND [options] [arguments]\n" +
			"oidc-auth HOST [options]   (the Python client's command line; also --list, --clear, --remove HOST)",
		Writer:                stdout,
		ErrWriter:             stderr,
		Suggest:               true,
		EnableBashCompletion:  true,
		HideHelpCommand:       true, // our own help command, with suggestions
		HideVersion:           true, // our own --version, since -v is verbose
		CustomAppHelpTemplate: appHelpTemplate(),
		Flags: append([]cli.Flag{
			&cli.BoolFlag{Name: "version", Usage: "print the version"},
			storeFlag(),
		}, pyFlags()...),
		OnUsageError:   onUsage,
		ExitErrHandler: func(*cli.Context, error) {}, // run maps errors to exit codes
		Before: func(c *cli.Context) error {
			// The flags of the Python client's form belong to it alone.
			if c.Args().Present() && c.App.Command(c.Args().First()) != nil && pyFormUsed(c) {
				return usagef(c, "the flags of `oidc-auth HOST` do not go with the %s command", c.Args().First())
			}
			return a.withDebug(c) // -v of `oidc-auth -v HOST`
		},
		Action: func(c *cli.Context) error {
			helper.CatchSignalsNow(c.Context) // the Python client's form logs in too
			if c.Bool("version") {
				return a.printVersion(c)
			}
			// "oidc-auth HOST", "--list", "--clear", "--remove HOST": the
			// Python client's command line (see pycompat.go).
			if ok, err := a.pyRoot(c); ok {
				return err
			}
			if c.NArg() > 0 {
				return unknownCommand(c, c.App.Commands, c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			{
				Name:      "login",
				Usage:     "log in to a server and store its token",
				ArgsUsage: "HOST | --issuer URL --client-id ID",
				Description: "Runs the browser (code) flow at a terminal on a desktop, else the device flow\n" +
					"(--flow chooses; -v says why), and stores the token. HOST is the py-oidc-auth\n" +
					"server URL, with its path prefix (https:// when it names no scheme); instead of\n" +
					"HOST, --issuer and --client-id name a standard OpenID Provider (Keycloak, Dex,\n" +
					"Entra, GitLab, …).",
				Flags: append(append([]cli.Flag{
					&cli.StringFlag{Name: "flow", Usage: "login flow: auto, device or code", Value: string(flows.FlowAuto)},
					&cli.BoolFlag{Name: "force", Usage: "log in even when a valid token is stored"},
					&cli.StringFlag{Name: "timeout", Usage: "give up the login after this long (e.g. 5m, or seconds)", Value: "5m"},
					&cli.BoolFlag{Name: "json", Usage: "print the token as JSON on stdout"},
				}, issuerFlags()...),
					&cli.StringSliceFlag{Name: "scope", Usage: "with --issuer: a scope to ask for (repeatable; default openid offline_access)"},
					&cli.StringFlag{Name: "audience", Usage: "with --issuer: ask for a token for this API (RFC 8707 resource, or audience)"},
					&cli.StringFlag{Name: "redirect-host", Usage: "with --issuer: the loopback host of the browser callback, 127.0.0.1 (default) or localhost"},
					&cli.IntSliceFlag{Name: "port", Usage: "loopback port for the browser callback, in order of preference (repeatable; default 53100-53105)"},
					allowHTTPFlag(),
					storeFlag(),
					&cli.StringFlag{Name: "login-route", Usage: "browser login route", Value: flows.DefaultLoginRoute},
					&cli.StringFlag{Name: "token-route", Usage: "token route", Value: flows.DefaultTokenRoute},
					&cli.StringFlag{Name: "device-route", Usage: "device login route", Value: flows.DefaultDeviceRoute},
				),
				OnUsageError: onUsage,
				Action:       a.login,
			},
			a.tokenCommand(onUsage, storeFlag),
			a.execCommand(onUsage, storeFlag),
			a.statusCommand(onUsage, storeFlag),
			a.doctorCommand(onUsage, storeFlag),
			a.setupCommand(onUsage),
			a.kubectlCommand(onUsage, storeFlag),
			{
				Name:         "logout",
				Usage:        "forget the stored token of a server (or of all servers), revoking it where the provider allows",
				ArgsUsage:    "HOST | --issuer URL --client-id ID | --all",
				Flags:        append(append([]cli.Flag{&cli.BoolFlag{Name: "all", Usage: "forget every stored token"}}, issuerFlags()...), allowHTTPFlag(), storeFlag()),
				OnUsageError: onUsage,
				Action:       a.logout,
			},
			a.completionCommand(onUsage),
			{
				Name:         "version",
				Usage:        "print the version",
				Hidden:       true, // --version is the one to teach
				OnUsageError: onUsage,
				Action:       a.printVersion,
			},
		},
	}
	root.Commands = append(root.Commands, helpCommand(onUsage, nil))
	a.finishCommands(root.Commands, onUsage, "")
	root.Flags = append(root.Flags, verbose.Flag())
	// urfave/cli adds -h only when the app has no help command of its own.
	root.Flags = append(root.Flags, cli.HelpFlag)
	for _, f := range root.Flags {
		if bf, ok := f.(*cli.BoolFlag); ok && !bf.DisableDefaultText {
			bf.DisableDefaultText = true
		}
	}
	return root
}

// allowHTTPFlag lets a command talk plain http to a server that is not on
// the loopback interface.
func allowHTTPFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-http", Usage: "allow a plain http:// server that is not on this machine (tokens cross the network in clear text)"}
}

// issuerFlags name a standard OpenID Provider's login.
func issuerFlags() []cli.Flag {
	return append(providerFlags(),
		&cli.StringFlag{Name: "client-secret", Usage: "with --issuer: the secret of a confidential client (prefer the config file: arguments are visible to other users)"})
}

// providerFlags name a standard OpenID Provider's client without its
// secret, for the commands that run for long (exec) or that others write
// into shared files (kubectl): the login keeps the secret, and so may the
// config file.
func providerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "issuer", Usage: "a standard OpenID Provider's issuer URL, instead of HOST"},
		&cli.StringFlag{Name: "client-id", Usage: "with --issuer: the provider's client id"},
	}
}

// target returns the server a command names: HOST, or --issuer with
// --client-id.
func target(c *cli.Context) (flows.Config, error) {
	if issuer := strings.TrimSpace(c.String("issuer")); issuer != "" {
		if c.NArg() > 0 {
			return flows.Config{}, usagef(c, "give either HOST or --issuer, not both")
		}
		if c.String("client-id") == "" {
			return flows.Config{}, usagef(c, "--issuer needs --client-id")
		}
		return flows.Config{Issuer: issuer, ClientID: c.String("client-id"), ClientSecret: c.String("client-secret"), CacheDir: helper.CacheDir()}, nil
	}
	for _, f := range []string{"client-id", "client-secret", "scope", "audience", "redirect-host"} {
		if c.IsSet(f) {
			return flows.Config{}, usagef(c, "--%s goes with --issuer", f)
		}
	}
	host, err := oneHost(c)
	return flows.Config{Host: host}, err
}

// lockTimeout is the lock wait $OIDC_AUTH_LOCK_TIMEOUT sets, 0 for the
// default.
func lockTimeout(c *cli.Context) (time.Duration, error) {
	d, err := flows.LockTimeoutFromEnv()
	if err != nil {
		return 0, usagef(c, "%s", message(err))
	}
	return d, nil
}

// app holds the streams the commands write to.
type app struct {
	stdout, stderr io.Writer
}

// oneHost returns the single HOST argument of a command.
func oneHost(c *cli.Context) (string, error) {
	switch c.NArg() {
	case 0:
		return "", usagef(c, "%s needs the server HOST (like https://auth.example.org)", c.Command.Name)
	case 1:
		host := strings.TrimSpace(c.Args().First())
		if host == "" {
			return "", usagef(c, "HOST is empty")
		}
		return host, nil
	}
	return "", usagef(c, "%s takes one HOST, got %d arguments", c.Command.Name, c.NArg())
}

// parseTimeout accepts a Go duration ("90s", "5m") or whole seconds.
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("--timeout %q is not a duration like 90s or 5m", s)
	}
	return d, nil
}

// openStore opens the token store the command line and environment
// choose.
func (a *app) openStore(c *cli.Context) (keyring.TokenStore, error) {
	backend := ""
	for _, cc := range c.Lineage() { // the command's --store, else the global one
		if cc.IsSet("store") {
			backend = cc.String("store")
			break
		}
	}
	store, err := keyring.Open(keyring.Options{Backend: backend, Warn: a.stderr})
	if err != nil && backend != "" {
		return nil, usagef(c, "%s", message(err))
	}
	return store, err
}

func (a *app) login(c *cli.Context) error {
	cfg, err := target(c)
	if err != nil {
		return err
	}
	flow, err := flows.ParseFlow(c.String("flow"))
	if err != nil {
		return usagef(c, "%s", message(err))
	}
	timeout, err := parseTimeout(c.String("timeout"))
	if err != nil {
		return usagef(c, "%v", err)
	}
	host := cfg.Name()
	if cfg.Issuer == "" {
		cfg.LoginRoute, cfg.TokenRoute, cfg.DeviceRoute = c.String("login-route"), c.String("token-route"), c.String("device-route")
	} else {
		cfg.Scopes, cfg.Audience, cfg.RedirectHost = c.StringSlice("scope"), c.String("audience"), c.String("redirect-host")
	}
	cfg.RedirectPorts, cfg.Timeout, cfg.AllowHTTP = c.IntSlice("port"), timeout, c.Bool("allow-http")
	key, err := cfg.Key()
	if err != nil {
		return usagef(c, "%s", message(err))
	}
	store, err := a.openStore(c)
	if err != nil {
		return err
	}
	if !c.Bool("force") {
		rec, err := store.Get(c.Context, key)
		if tok, ok := flows.Cached(rec, cfg.Host, time.Now()); err == nil && ok {
			fmt.Fprintf(a.stderr, "Already logged in to %s (token valid until %s); use --force to log in again.\n", host, clock(tok.ExpiresAt()))
			return a.printLoginJSON(c, tok)
		}
	}
	tok, err := flows.Authenticate(c.Context, cfg, store, flows.Options{
		Force:       c.Bool("force"),
		Flow:        flow,
		Interaction: flows.InteractAlways,
		Out:         a.stderr,
	})
	if err != nil {
		return err
	}
	if rec, err := store.Get(c.Context, key); err != nil || rec.Token.AccessToken != tok.AccessToken {
		// The warning above says why; a login that is not kept is no
		// login, whatever --json printed for the moment.
		if perr := a.printLoginJSON(c, tok); perr != nil {
			return perr
		}
		return fmt.Errorf("the login to %s was not saved; fix the store and log in again", host)
	}
	// Authenticate has said who is logged in until when, for a valid
	// token. A server clock far off, or a server that lies: do not call
	// such a token valid.
	if !tok.Valid(time.Now()) {
		fmt.Fprintf(a.stderr, "Logged in to %s, but the server sent an access token that has already expired (at %s); check this computer's clock and the server.\n", host, clock(tok.ExpiresAt()))
	}
	return a.printLoginJSON(c, tok)
}

// printLoginJSON prints the token on stdout when --json asks for it.
func (a *app) printLoginJSON(c *cli.Context, tok *flows.Token) error {
	if !c.Bool("json") {
		return nil
	}
	return writeJSON(a.stdout, tok)
}

// logins opens the store and lists its logins: every record but the
// registry passwords kept for docker.
func (a *app) logins(c *cli.Context) (keyring.TokenStore, []keyring.Entry, error) {
	store, err := a.openStore(c)
	if err != nil {
		return nil, nil, err
	}
	entries, err := store.List(c.Context)
	if err != nil {
		return nil, nil, err
	}
	out := entries[:0]
	for _, e := range entries {
		if !helper.IsDockerKey(e.Key) {
			out = append(out, e)
		}
	}
	return store, out, nil
}

func (a *app) logout(c *cli.Context) error {
	if c.Bool("all") {
		if c.NArg() > 0 {
			return usagef(c, "give either HOST or --all, not both")
		}
		store, entries, err := a.logins(c)
		if err != nil {
			return err
		}
		n := 0
		for _, e := range entries {
			if e.Key == "" { // a bare token file, which names no server
				continue
			}
			rec := e.Record
			if note := a.revoke(c, flows.Config{CacheDir: helper.CacheDir()}, &rec); note != "" {
				fmt.Fprintf(a.stderr, "%s: %s.\n", flows.ConfigFromServer(rec.Server).Name(), strings.TrimPrefix(note, "; "))
			}
			if err := store.Remove(c.Context, e.Key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
				return err
			}
			n++
		}
		fmt.Fprintf(a.stderr, "Logged out of %d server(s).\n", n)
		return nil
	}
	named, err := target(c)
	if err != nil {
		return err
	}
	key, err := named.Key()
	if err != nil {
		return usagef(c, "%s", message(err))
	}
	store, err := a.openStore(c)
	if err != nil {
		return err
	}
	rec, err := store.Get(c.Context, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("not logged in to %s; `oidc-auth status` lists the stored logins", named.Name())
	} else if err != nil {
		return err
	}
	revoked := a.revoke(c, named, rec)
	if err := store.Remove(c.Context, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return err
	}
	fmt.Fprintf(a.stderr, "Logged out of %s%s.\n", named.Name(), revoked)
	return nil
}

// revoke revokes a standard provider's refresh token before its login is
// forgotten, and says what became of it; py-oidc-auth servers have no
// revocation, and their logins are only forgotten.
func (a *app) revoke(c *cli.Context, named flows.Config, rec *keyring.Record) string {
	if rec.Server == nil || rec.Server.Issuer == "" {
		return ""
	}
	cfg := flows.ConfigFromServer(rec.Server)
	cfg.CacheDir, cfg.AllowHTTP = named.CacheDir, c.Bool("allow-http")
	if named.ClientSecret != "" {
		cfg.ClientSecret = named.ClientSecret
	}
	switch err := flows.Revoke(c.Context, cfg, &rec.Token); {
	case err == nil:
		return "; the provider revoked the refresh token"
	case errors.Is(err, flows.ErrNoRevocation):
		return "; the provider offers no revocation, so the refresh token stays valid there until it expires"
	default:
		fmt.Fprintf(a.stderr, "Warning: the refresh token could not be revoked (%s); it stays valid at the provider until it expires.\n", message(err))
		return ""
	}
}

// clock formats a time for people: local time with the zone.
func clock(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05 MST")
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// withDebug puts the debug log the command line asks for into the
// command's context.
func (a *app) withDebug(c *cli.Context) error {
	verbose.Apply(c, a.stderr, "oidc-auth")
	return nil
}

// finishCommands gives every command, at every level, what all of them
// share: -v, the debug log it asks for, one way to report usage errors,
// bool flags without "(default: false)", the EXAMPLES of its help, and a
// help command and suggestions for the commands that group others.
func (a *app) finishCommands(cmds []*cli.Command, onUsage cli.OnUsageErrorFunc, parent string) {
	for _, cmd := range cmds {
		path := strings.TrimPrefix(parent+" "+cmd.Name, " ")
		if cmd.Name == "help" {
			continue
		}
		cmd.Flags = append(cmd.Flags, verbose.Flag())
		for _, f := range cmd.Flags {
			if bf, ok := f.(*cli.BoolFlag); ok {
				bf.DisableDefaultText = true
			}
		}
		before := cmd.Before
		cmd.Before = func(c *cli.Context) error {
			// token and kubectl hand out a stored token without the
			// signal handling, and start it only to refresh or log in;
			// every other command may change the store at any point.
			if path != "token" && path != "kubectl" {
				helper.CatchSignalsNow(c.Context)
			}
			if err := a.withDebug(c); err != nil || before == nil {
				return err
			}
			return before(c)
		}
		if cmd.OnUsageError == nil {
			cmd.OnUsageError = onUsage
		}
		// The help command is ours (with suggestions); urfave's own would
		// also be added below every leaf command.
		cmd.HideHelpCommand = true
		if len(cmd.Subcommands) > 0 {
			group := cmd
			cmd.Subcommands = append(cmd.Subcommands, helpCommand(onUsage, group))
			if cmd.Action == nil {
				cmd.Action = func(c *cli.Context) error {
					if c.NArg() > 0 {
						return unknownCommand(c, group.Subcommands, c.Args().First())
					}
					return cli.ShowSubcommandHelp(c)
				}
			}
			a.finishCommands(cmd.Subcommands, onUsage, path)
		}
		if ex := examples[path]; ex != "" && cmd.CustomHelpTemplate == "" {
			tmpl := cli.CommandHelpTemplate
			if len(cmd.Subcommands) > 0 {
				tmpl = cli.SubcommandHelpTemplate
			}
			cmd.CustomHelpTemplate = tmpl + "\nEXAMPLES:\n" + indent(ex) + "\n"
		}
	}
}

// indent indents every line of text by three spaces, as the help's
// sections are.
func indent(text string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = "   " + l
		}
	}
	return strings.Join(lines, "\n")
}

// helpCommand is the help command of the app (group nil) or of a command
// that groups others: "oidc-auth help login", "oidc-auth setup help git".
func helpCommand(onUsage cli.OnUsageErrorFunc, group *cli.Command) *cli.Command {
	return &cli.Command{
		Name:            "help",
		Usage:           "show the help of a command",
		ArgsUsage:       "[COMMAND]",
		HideHelpCommand: true,
		OnUsageError:    onUsage,
		BashComplete: func(c *cli.Context) {
			cmds := c.App.Commands
			if group != nil {
				cmds = group.Subcommands
			}
			for _, cmd := range cmds {
				if !cmd.Hidden {
					fmt.Fprintln(c.App.Writer, cmd.Name)
				}
			}
		},
		Action: func(c *cli.Context) error {
			parent := c.Lineage()[1]
			cmds := c.App.Commands
			if group != nil {
				cmds = group.Subcommands
			}
			switch {
			case c.NArg() > 1:
				return usagef(c, "help takes one COMMAND, got %d", c.NArg())
			case c.NArg() == 0 && group == nil:
				return cli.ShowAppHelp(parent)
			case c.NArg() == 0:
				return cli.ShowSubcommandHelp(parent)
			}
			name := c.Args().First()
			for _, cmd := range cmds {
				if !cmd.HasName(name) {
					continue
				}
				if len(cmd.Subcommands) > 0 {
					// A group's help needs the group set up, which
					// running it does: "help setup" is "setup --help".
					args := []string{c.App.Name, cmd.Name, "--help"}
					if group != nil {
						args = []string{c.App.Name, group.Name, cmd.Name, "--help"}
					}
					return c.App.RunContext(c.Context, args)
				}
				return cli.ShowCommandHelp(parent, name)
			}
			return unknownCommand(parent, cmds, name)
		},
	}
}

// unknownCommand is the usage error for a command name that none of cmds
// has, with the nearest one as a suggestion.
func unknownCommand(c *cli.Context, cmds []*cli.Command, name string) error {
	var names []string
	for _, cmd := range cmds {
		if !cmd.Hidden {
			names = append(names, cmd.Names()...)
		}
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := suggest(names, name); s != "" {
		msg += fmt.Sprintf(" (did you mean `%s %s`?)", c.Command.HelpName, s)
	}
	return usagef(c, "%s", msg)
}

// suggest returns the candidate nearest to typed, or "" when none is
// near enough to be what was meant. It measures as urfave/cli's own
// suggestions do (Jaro-Winkler), with a bar so that a word from nowhere
// gets no suggestion.
//
// Jaro-Winkler rates short words with two letters swapped ("gti") low, so
// a candidate one edit away (a swap counts as one) is near enough too.
func suggest(candidates []string, typed string) string {
	const bar = 0.8
	typed = strings.ToLower(typed)
	best, score := "", 0.0
	for _, c := range candidates {
		if s := smetrics.JaroWinkler(typed, c, 0.7, 4); s > score {
			best, score = c, s
		}
	}
	if score >= bar {
		return best
	}
	for _, c := range candidates {
		if editDistance(typed, c) <= 1 {
			return c
		}
	}
	return ""
}

// editDistance is the optimal string alignment distance of a and b: the
// insertions, deletions, substitutions and swaps of neighbours that turn
// one into the other.
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// flagError rewrites the flag package's errors for people: the flag as
// it is typed (--name), and the nearest flag when one was mistyped.
func flagError(c *cli.Context, err error) string {
	msg := err.Error()
	dashed := func(name string) string {
		if len(name) == 1 {
			return "-" + name
		}
		return "--" + name
	}
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var flags []cli.Flag
		if c.Command != nil {
			flags = c.Command.Flags
		}
		var names []string
		for _, f := range flags {
			for _, n := range f.Names() {
				if len(n) > 1 {
					names = append(names, n)
				}
			}
		}
		msg = "unknown flag " + dashed(name)
		if s := suggest(names, name); s != "" {
			msg += " (did you mean " + dashed(s) + "?)"
		}
		return msg
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return dashed(strings.TrimLeft(name, "-")) + " needs a value"
	}
	// invalid value "x" for flag -port: parse error
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if value, flag, ok := strings.Cut(rest, " for flag -"); ok {
			flag, _, _ = strings.Cut(flag, ":")
			return fmt.Sprintf("%s: %s is not a valid value", dashed(flag), value)
		}
	}
	return msg
}

// appHelpTemplate is urfave/cli's help of the app with the environment
// variables and examples added. It is made when the app is, not in the
// package's init: the core starts as git's and docker's helpers too,
// which show no such help.
func appHelpTemplate() string {
	return cli.AppHelpTemplate + `
ENVIRONMENT:
` + environmentHelp([][2]string{
		{flows.DebugEnv + "=1 or 2", "debug output as with -v or -vv, also of the helpers git and docker start"},
		{keyring.StoreEnv + "=file", "keep tokens in a file instead of the OS keychain"},
		{keyring.TokenFileEnv + "=PATH", "keep tokens in the file PATH (batch jobs, containers)"},
		{flows.LockTimeoutEnv + "=DURATION", "how long to wait for another login or refresh of the same server"},
		{helper.ConfigEnv + "=PATH", "the config file; default oidc-auth/config.toml in $XDG_CONFIG_HOME, else in"},
		{"", "~/.config (Linux), ~/Library/Application Support (macOS), %APPDATA% (Windows)"},
	}) + `
EXAMPLES:
` + indent(examples[""]) + `

Run 'oidc-auth help COMMAND' for the options and examples of a command.
`
}

// environmentHelp lays out the variables and what they do in two
// columns.
func environmentHelp(vars [][2]string) string {
	width := 0
	for _, v := range vars {
		width = max(width, len(v[0]))
	}
	var b strings.Builder
	for _, v := range vars {
		fmt.Fprintf(&b, "   %-*s  %s\n", width, v[0], v[1])
	}
	return b.String()
}

// examples are the EXAMPLES sections of the help, by command path.
var examples = map[string]string{
	"": `oidc-auth login https://auth.example.org/api/app
oidc-auth setup git https://git.example.org/team/ --host https://auth.example.org/api/app
oidc-auth token https://auth.example.org/api/app
oidc-auth status`,
	"login": `# Log in, by the browser on a desktop, else by a code to approve on another device:
oidc-auth login https://auth.example.org/api/app
# Over SSH, or where no browser can open:
oidc-auth login --flow device https://auth.example.org/api/app
# A standard OpenID Provider:
oidc-auth login --issuer https://keycloak.example.org/realms/x --client-id cli
# Why does it fail? Show the requests and decisions:
oidc-auth login -v https://auth.example.org/api/app`,
	"token": `curl -H "$(oidc-auth token --format header https://auth.example.org/api/app)" https://api.example.org/
export TOKEN=$(oidc-auth token https://auth.example.org/api/app)
eval "$(oidc-auth token --format env https://auth.example.org/api/app)"   # OIDC_TOKEN, OIDC_TOKEN_EXPIRES
oidc-auth token --format json https://auth.example.org/api/app | jq .expires
# A job that needs its token for the next 10 minutes:
oidc-auth token --min-valid 10m https://auth.example.org/api/app
# For HTCondor, XRootD, dCache, Rucio (WLCG bearer token discovery):
oidc-auth token --wlcg https://auth.example.org/api/app`,
	"exec": `# A job that outlives its first token: the file stays valid until the command ends.
oidc-auth exec --server https://auth.example.org/api/app -- ./analysis.sh --year 2025
oidc-auth exec --server https://auth.example.org/api/app -- sh -c 'curl -H "Authorization: Bearer $(cat "$BEARER_TOKEN_FILE")" https://api.example.org/'
# HTCondor, XRootD, dCache and Rucio read $BEARER_TOKEN_FILE themselves:
oidc-auth exec --issuer https://keycloak.example.org/realms/x --client-id cli -- xrdcp root://eos.example.org//data/f .`,
	"status": `oidc-auth status
oidc-auth status --json | jq -r '.[] | select(.valid or .refreshable) | .server_url'
oidc-auth status >/dev/null 2>&1 || oidc-auth login https://auth.example.org/api/app`,
	"doctor": `oidc-auth doctor
oidc-auth doctor --json | jq -r '.checks[] | select(.level == "error") | .fix'`,
	"logout": `oidc-auth logout https://auth.example.org/api/app
oidc-auth logout --all`,
	"setup": `oidc-auth setup git https://git.example.org/team/ --host https://auth.example.org/api/app
oidc-auth setup docker registry.example.org --host https://auth.example.org/api/app
oidc-auth setup helm registry.example.org --host https://auth.example.org/api/app
oidc-auth setup kubectl https://auth.example.org/api/app --context prod`,
	"setup git": `oidc-auth setup git https://git.example.org/team/ --host https://auth.example.org/api/app
# With a single stored login, --host can be left out:
oidc-auth setup git git.example.org
oidc-auth setup git https://git.example.org/team/ --unset`,
	"setup docker": `oidc-auth setup docker registry.example.org --host https://auth.example.org/api/app
# Every registry through oidc-auth (docker's credsStore):
oidc-auth setup docker registry.example.org --creds-store --host https://auth.example.org/api/app
oidc-auth setup docker registry.example.org --unset`,
	"kubectl": `# kubectl runs this from the kubeconfig that setup kubectl writes; by hand:
oidc-auth kubectl https://auth.example.org/api/app | jq .status.expirationTimestamp
oidc-auth kubectl --issuer https://keycloak.example.org/realms/x --client-id kubernetes`,
	"setup kubectl": `oidc-auth setup kubectl https://auth.example.org/api/app --context prod
oidc-auth setup kubectl --issuer https://keycloak.example.org/realms/x --client-id kubernetes --context prod
oidc-auth setup kubectl https://auth.example.org/api/app --print
oidc-auth setup kubectl https://auth.example.org/api/app --unset`,
	"setup helm": `oidc-auth setup helm registry.example.org --host https://auth.example.org/api/app
oidc-auth setup helm registry.example.org --unset`,
	"completion": `# bash, for this shell, then for every new one:
source <(oidc-auth completion bash)
oidc-auth completion bash > ~/.local/share/bash-completion/completions/oidc-auth
# zsh (a directory on your $fpath; compinit must run in ~/.zshrc):
oidc-auth completion zsh > "${fpath[1]}/_oidc-auth"
# fish:
oidc-auth completion fish > ~/.config/fish/completions/oidc-auth.fish
# PowerShell, added to your profile:
oidc-auth completion powershell >> $PROFILE`,
}
