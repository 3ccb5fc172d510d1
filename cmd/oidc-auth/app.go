package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// newApp builds the command line interface; stdout carries command output
// only, stderr everything for people.
func newApp(stdout, stderr io.Writer) *cli.App {
	a := &app{stdout: stdout, stderr: stderr}
	onUsage := func(c *cli.Context, err error, _ bool) error {
		return usagef(c, "%v", err)
	}
	// --store is accepted before and after the command name.
	storeFlag := func() cli.Flag {
		return &cli.StringFlag{
			Name:  "store",
			Usage: "where tokens live: keychain or file (default: $" + keyring.StoreEnv + ", else the OS keychain with the file as fallback)",
		}
	}
	return &cli.App{
		Name:            "oidc-auth",
		Usage:           "log in to OIDC auth servers and hand out their tokens",
		Version:         version,
		Writer:          stdout,
		ErrWriter:       stderr,
		HideHelpCommand: true,
		Flags:           []cli.Flag{storeFlag()},
		OnUsageError:    onUsage,
		ExitErrHandler:  func(*cli.Context, error) {}, // run maps errors to exit codes
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return &usageError{msg: fmt.Sprintf("unknown command %q; see `oidc-auth --help`", c.Args().First())}
			}
			return cli.ShowAppHelp(c)
		},
		Commands: []*cli.Command{
			{
				Name:      "login",
				Usage:     "log in to a server and store its token",
				ArgsUsage: "HOST | --issuer URL --client-id ID",
				Description: "Runs the device flow, or the browser (code) flow when the server has no device flow,\n" +
					"and stores the token. HOST is the py-oidc-auth server URL, with its path prefix;\n" +
					"--issuer and --client-id name a standard OpenID Provider (Keycloak, Dex, Entra, GitLab, …) instead.",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "login-route", Usage: "browser login route", Value: flows.DefaultLoginRoute},
					&cli.StringFlag{Name: "token-route", Usage: "token route", Value: flows.DefaultTokenRoute},
					&cli.StringFlag{Name: "device-route", Usage: "device login route", Value: flows.DefaultDeviceRoute},
					&cli.IntSliceFlag{Name: "port", Usage: "loopback port for the browser callback, in order of preference (repeatable; default 53100-53105)"},
					&cli.StringFlag{Name: "flow", Usage: "login flow: auto, device or code", Value: string(flows.FlowAuto)},
					&cli.BoolFlag{Name: "force", Usage: "log in even when a valid token is stored"},
					&cli.StringFlag{Name: "timeout", Usage: "give up the login after this long (e.g. 5m, or seconds)", Value: "5m"},
					&cli.BoolFlag{Name: "json", Usage: "print the token as JSON on stdout"},
					allowHTTPFlag(),
					storeFlag(),
					&cli.StringSliceFlag{Name: "scope", Usage: "with --issuer: a scope to ask for (repeatable; default openid offline_access)"},
					&cli.StringFlag{Name: "audience", Usage: "with --issuer: ask for a token for this API (RFC 8707 resource, or audience)"},
					&cli.StringFlag{Name: "redirect-host", Usage: "with --issuer: the loopback host of the browser callback, 127.0.0.1 (default) or localhost"},
				}, issuerFlags()...),
				OnUsageError: onUsage,
				Action:       a.login,
			},
			{
				Name:      "token",
				Usage:     "print a valid access token, refreshing it when needed",
				ArgsUsage: "HOST | --issuer URL --client-id ID",
				Flags: append([]cli.Flag{
					&cli.BoolFlag{Name: "header", Usage: "print an HTTP header line: Authorization: Bearer …"},
					&cli.BoolFlag{Name: "json", Usage: "print the whole token as JSON"},
					allowHTTPFlag(),
					storeFlag(),
				}, issuerFlags()...),
				OnUsageError: onUsage,
				Action:       a.token,
			},
			a.statusCommand(onUsage, storeFlag),
			a.setupCommand(onUsage),
			{
				Name:         "logout",
				Usage:        "forget the stored token of a server (or of all servers), revoking it where the provider allows",
				ArgsUsage:    "HOST | --issuer URL --client-id ID",
				Flags:        append([]cli.Flag{&cli.BoolFlag{Name: "all", Usage: "forget every stored token"}, storeFlag(), allowHTTPFlag()}, issuerFlags()...),
				OnUsageError: onUsage,
				Action:       a.logout,
			},
		},
	}
}

// allowHTTPFlag lets a command talk plain http to a server that is not on
// the loopback interface.
func allowHTTPFlag() cli.Flag {
	return &cli.BoolFlag{Name: "allow-http", Usage: "allow a plain http:// server that is not on this machine (tokens cross the network in clear text)"}
}

// issuerFlags name a standard OpenID Provider's login.
func issuerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "issuer", Usage: "a standard OpenID Provider's issuer URL, instead of HOST"},
		&cli.StringFlag{Name: "client-id", Usage: "with --issuer: the provider's client id"},
		&cli.StringFlag{Name: "client-secret", Usage: "with --issuer: the secret of a confidential client (prefer the config file: arguments are visible to other users)"},
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

func (a *app) token(c *cli.Context) error {
	named, err := target(c)
	if err != nil {
		return err
	}
	store, err := a.openStore(c)
	if err != nil {
		return err
	}
	wait, err := lockTimeout(c)
	if err != nil {
		return err
	}
	cfg, rec := named, (*keyring.Record)(nil)
	if named.Issuer == "" {
		cfg, rec = flows.StoredConfig(c.Context, store, named.Host)
	} else if key, err := named.Key(); err != nil {
		return usagef(c, "%s", message(err))
	} else if rec, err = store.Get(c.Context, key); err == nil && rec.Server != nil && rec.Server.Issuer != "" {
		cfg = flows.ConfigFromServer(rec.Server) // the scopes and audience it was made with
		cfg.CacheDir = named.CacheDir
		if named.ClientSecret != "" {
			cfg.ClientSecret = named.ClientSecret
		}
	}
	cfg.AllowHTTP = c.Bool("allow-http")
	tok, ok := flows.Cached(rec, named.Host, time.Now())
	if ok {
		// The cached path: one read, no lock, no network. A plain-http
		// server still needs the same allowance as its refresh would.
		if err := cfg.Check(); err != nil {
			return err
		}
	} else if tok, err = flows.Authenticate(c.Context, cfg, store, flows.Options{Out: a.stderr, LockTimeout: wait}); err != nil {
		return err
	}
	switch {
	case c.Bool("json"):
		return writeJSON(a.stdout, tok)
	case c.Bool("header"):
		_, err = fmt.Fprintf(a.stdout, "Authorization: %s\n", tok.Authorization())
	default:
		_, err = fmt.Fprintln(a.stdout, tok.AccessToken)
	}
	return err
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
