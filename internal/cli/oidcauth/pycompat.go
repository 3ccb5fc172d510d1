package oidcauth

// The reference client (py-oidc-auth-client) installs a command named
// oidc-auth too: `oidc-auth HOST [options]` and `oidc-auth --list | --clear
// | --remove HOST`. This file runs that form, with its flags, outputs and
// exit codes, so that scripts written for it keep working.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// pyCategory groups the flags of the reference client's form in the help.
const pyCategory = "OIDC-AUTH HOST, AS THE PYTHON CLIENT RUNS IT"

// pyDefaultTimeout is the reference client's login timeout, in seconds.
const pyDefaultTimeout = "30"

// pyFlags are the root flags of the reference client's form.
func pyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "json", Category: pyCategory, Usage: "print the whole token as JSON instead of a summary"},
		&cli.BoolFlag{Name: "force", Category: pyCategory, Usage: "log in even when a valid token is stored"},
		&cli.StringFlag{Name: "login-route", Aliases: []string{"l"}, Category: pyCategory, Usage: "browser login route", Value: flows.DefaultLoginRoute},
		&cli.StringFlag{Name: "token-route", Aliases: []string{"t"}, Category: pyCategory, Usage: "token route", Value: flows.DefaultTokenRoute},
		&cli.StringFlag{Name: "device-route", Aliases: []string{"d"}, Category: pyCategory, Usage: "device login route", Value: flows.DefaultDeviceRoute},
		&cli.IntSliceFlag{Name: "ports", Aliases: []string{"p"}, Category: pyCategory, Usage: "loopback ports for the browser callback: -p P [P …] (default 53100-53105)"},
		&cli.StringFlag{Name: "timeout", Category: pyCategory, Usage: "give up the login after this many seconds", Value: pyDefaultTimeout},
		&cli.StringFlag{Name: "app-name", Category: pyCategory, Usage: "the Python client's application: its token file is $XDG_CACHE_HOME/NAME/token-store.json", Value: keyring.PythonAppName},
		&cli.BoolFlag{Name: "allow-http", Category: pyCategory, Usage: "allow a plain http:// server that is not on this machine (tokens cross the network in clear text)"},
		&cli.BoolFlag{Name: "list", Category: pyCategory, Usage: "list the logins in the Python client's token file, then exit"},
		&cli.BoolFlag{Name: "clear", Category: pyCategory, Usage: "remove every login from the Python client's token file, then exit"},
		&cli.StringFlag{Name: "remove", Category: pyCategory, Usage: "remove the login of `HOST` from the Python client's token file, then exit"},
	}
}

// pyFlagNames are the names of pyFlags, for telling whether the form is
// used.
var pyFlagNames = []string{"json", "force", "login-route", "token-route", "device-route", "ports", "timeout", "app-name", "allow-http", "list", "clear", "remove"}

// pyFormUsed reports whether any flag of the reference client's form is
// set on the command line.
func pyFormUsed(c *cli.Context) bool {
	// The flags given, from the flag set itself: no flag of this program
	// reads the environment, and IsSet costs a scan of every flag's names
	// for each flag not given, on every command line.
	for _, n := range c.LocalFlagNames() {
		if slices.Contains(pyFlagNames, n) {
			return true
		}
	}
	return false
}

// looksLikeHost reports whether a first argument that names no command is
// a server for the reference client's form: a URL ("://"), a host name
// with a dot or a port, or localhost. Anything else is a mistyped command.
func looksLikeHost(arg string) bool {
	return strings.Contains(arg, "://") || strings.ContainsAny(arg, ".:") || strings.EqualFold(arg, "localhost")
}

// pyFailure is the failure of an authentication in the reference client's
// form, reported as it reports it: "Authentication failed: …", exit 1.
type pyFailure struct{ err error }

func (e *pyFailure) Error() string { return "Authentication failed: " + message(e.err) }

func (e *pyFailure) Unwrap() error { return e.err }

// pyRoot runs the root command in the reference client's form; ok is
// false when the command line is not in that form.
func (a *app) pyRoot(c *cli.Context) (ok bool, err error) {
	store := c.Bool("list") || c.Bool("clear") || c.IsSet("remove")
	host := c.NArg() > 0 && looksLikeHost(c.Args().First())
	if !store && !host && !pyFormUsed(c) {
		return false, nil
	}
	if c.IsSet("store") {
		return true, usagef(c, "--store does not go with `oidc-auth HOST`, which uses the Python client's token file (see --app-name)")
	}
	if store {
		return true, a.pyStore(c)
	}
	if c.NArg() == 0 {
		return true, usagef(c, "host is required for authentication")
	}
	if !host {
		return false, nil // a mistyped command, with flags of this form
	}
	if c.NArg() > 1 {
		return true, usagef(c, "oidc-auth HOST takes one HOST, got %d arguments", c.NArg())
	}
	return true, a.pyAuthenticate(c)
}

// pyFileStore is the token store of the reference client's form: the file
// that $OIDC_TOKEN_FILE names (as the reference client documents), else
// the Python client's file for --app-name, laid out as that client writes
// it (see keyring.PythonFileStore). Both are our file store, with its
// lock, atomic replacement and ownership checks.
func pyFileStore(c *cli.Context) (keyring.TokenStore, error) {
	if p := os.Getenv(keyring.TokenFileEnv); p != "" {
		return &keyring.FileStore{Path: p, BareServer: os.Getenv(keyring.TokenHostEnv)}, nil
	}
	app := strings.TrimSpace(c.String("app-name"))
	if app == "" || strings.ContainsAny(app, `/\`) || app == "." || app == ".." {
		return nil, usagef(c, "--app-name %q is not a directory name", app)
	}
	path, err := keyring.PythonFilePath(app)
	if err != nil {
		return nil, err
	}
	return &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: path}}, nil
}

// pyAuthenticate is `oidc-auth HOST`: the stored token, else a refresh,
// else a login when a person is at the terminal; then the summary, or the
// token as JSON.
func (a *app) pyAuthenticate(c *cli.Context) error {
	host := strings.TrimSpace(c.Args().First())
	timeout, err := parseTimeout(c.String("timeout"))
	if err != nil {
		return usagef(c, "%v", err)
	}
	store, err := pyFileStore(c)
	if err != nil {
		return err
	}
	cfg := flows.Config{
		Host:          host,
		LoginRoute:    c.String("login-route"),
		TokenRoute:    c.String("token-route"),
		DeviceRoute:   c.String("device-route"),
		RedirectPorts: c.IntSlice("ports"),
		Timeout:       timeout,
		AllowHTTP:     c.Bool("allow-http"),
	}
	if _, err := cfg.Key(); err != nil {
		return usagef(c, "%s", message(err))
	}
	wait, err := lockTimeout(c)
	if err != nil {
		return err
	}
	// The reference client always logs in when it must. Here a login
	// starts when a person is at the terminal and no batch job runs
	// (InteractAuto); elsewhere the error names the login to run, since
	// a job would wait out the timeout for nobody.
	login := cfg.LoginCommand()
	if cfg.AllowHTTP {
		login += " --allow-http"
	}
	tok, err := flows.Authenticate(c.Context, cfg, store, flows.Options{
		Force:        c.Bool("force"),
		Interaction:  flows.InteractAuto,
		Out:          a.stderr,
		LockTimeout:  wait,
		LoginCommand: login,
	})
	if err != nil {
		return &pyFailure{err: err}
	}
	if c.Bool("json") {
		return pyJSON(a.stdout, tok)
	}
	_, err = fmt.Fprintf(a.stdout, "Authenticated to %s\n  access_token: %s\n  scope:        %s\n",
		flows.TerminalSafe(host), tokenPreview(tok.AccessToken), flows.TerminalSafe(tok.Scope))
	return err
}

// tokenPreview is the access token as the summary shows it. The reference
// client prints its first 20 characters and "...". Of a JWT those are the
// start of the header, which is public (it names the algorithm and key,
// and every token of the server begins the same way); of an opaque token
// they would be a fifth or more of the secret itself, which must never
// reach a terminal, a log or a CI transcript. So the 20 characters are
// shown only when they lie inside a JWT's header; otherwise the line keeps
// its shape and says how long the token is.
func tokenPreview(access string) string {
	const n = 20
	if header, _, ok := strings.Cut(access, "."); ok && len(header) >= n && strings.Count(access, ".") == 2 {
		if b, err := base64.RawURLEncoding.DecodeString(header); err == nil && json.Valid(b) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) {
			return access[:n] + "..."
		}
	}
	return "(" + strconv.Itoa(len(access)) + " characters, not shown)"
}

// pyJSON prints tok as the reference client's --json does (json.dumps
// with indent=2): the v1 token object, its fields in the v1 order, no
// HTML escaping.
func pyJSON(w interface{ Write([]byte) (int, error) }, tok *flows.Token) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(tok)
}

// pyStore runs --list, --clear and --remove on the Python client's token
// file, with the reference client's outputs; each exits 0.
func (a *app) pyStore(c *cli.Context) error {
	store, err := pyFileStore(c)
	if err != nil {
		return err
	}
	ctx := c.Context
	switch {
	case c.Bool("list"):
		entries, err := store.List(ctx)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			_, err = fmt.Fprintln(a.stdout, "No cached tokens.")
			return err
		}
		now := time.Now()
		for _, e := range entries {
			state := "expired"
			if e.Record.Token.Valid(now) {
				state = "valid"
			}
			if _, err := fmt.Fprintf(a.stdout, "  %s  (%s)\n", flows.TerminalSafe(e.Key), state); err != nil {
				return err
			}
		}
		return nil
	case c.Bool("clear"):
		if py, ok := store.(*keyring.PythonFileStore); ok {
			err = py.Clear(ctx) // {} as the Python client leaves it
		} else {
			err = removeAll(c, store)
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, "All cached tokens removed.")
		return err
	}
	host := c.String("remove")
	err = keyring.ErrNotFound
	if key, kerr := keyring.Key(host); kerr == nil {
		err = store.Remove(ctx, key)
	}
	switch {
	case err == nil:
		_, err = fmt.Fprintf(a.stdout, "Removed token for %s\n", flows.TerminalSafe(host))
	case errors.Is(err, keyring.ErrNotFound):
		_, err = fmt.Fprintf(a.stdout, "No cached token for %s\n", flows.TerminalSafe(host))
	}
	return err
}

// removeAll removes every live login of store.
func removeAll(c *cli.Context, store keyring.TokenStore) error {
	entries, err := store.List(c.Context)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := store.Remove(c.Context, e.Key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	return nil
}

// pyReorder puts the flags of the reference client's form in front of its
// HOST, as argparse accepts them anywhere ("oidc-auth HOST --json"), and
// spells out -p/--ports with several values ("-p 53100 53101") as one flag
// per value. args[0] is the program; the result ends with "--" and the
// positional arguments.
func pyReorder(flags []cli.Flag, args []string) []string {
	var opts, positional []string
	for j := 1; j < len(args); j++ {
		arg := args[j]
		switch {
		case arg == "--":
			positional = append(positional, args[j+1:]...)
			j = len(args)
		case strings.HasPrefix(arg, "-") && arg != "-":
			n := pyValues(flags, args, j)
			if n < 0 { // a last flag without its value: for the parser to say so
				return append(append([]string{args[0]}, opts...), arg)
			}
			if isPorts(arg) && n > 0 {
				for _, v := range args[j+1 : j+1+n] {
					opts = append(opts, arg, v)
				}
			} else {
				opts = append(opts, args[j:j+1+n]...)
			}
			j += n
		default:
			positional = append(positional, arg)
		}
	}
	out := append([]string{args[0]}, opts...)
	return append(append(out, "--"), positional...)
}

// isPorts reports whether arg is -p or --ports without a value in it.
func isPorts(arg string) bool {
	return arg == "-p" || arg == "--ports"
}

// pyValues returns how many arguments after args[j], a flag, are its
// values: none for a bool flag or a "--flag=value", one for a flag that
// takes a value, and for -p/--ports every integer that follows (argparse's
// nargs="+"). It returns -1 for a flag whose value is missing.
func pyValues(flags []cli.Flag, args []string, j int) int {
	if !takesValue(flags, args[j]) {
		return 0
	}
	if j+1 == len(args) {
		return -1
	}
	if !isPorts(args[j]) {
		return 1
	}
	n := 1
	for j+1+n < len(args) {
		if _, err := strconv.Atoi(args[j+1+n]); err != nil {
			break
		}
		n++
	}
	return n
}
