package oidcauth

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// Output formats of `oidc-auth token`.
const (
	formatToken  = "token"
	formatHeader = "header"
	formatJSON   = "json"
	formatEnv    = "env"
)

// Variables that --format env sets.
const (
	envToken   = "OIDC_TOKEN"
	envExpires = "OIDC_TOKEN_EXPIRES"
)

// tokenCommand prints a valid access token, or writes it to the WLCG
// bearer token file.
func (a *app) tokenCommand(onUsage cli.OnUsageErrorFunc, storeFlag func() cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "token",
		Usage:     "print a valid access token, refreshing it when needed",
		ArgsUsage: "HOST | --issuer URL --client-id ID",
		Description: "Prints the stored access token of HOST on stdout, refreshing it first when it\n" +
			"has expired (or has less left than --min-valid), and logs in when there is no\n" +
			"usable login and a person is there to approve it. With --wlcg, writes it to the\n" +
			"bearer token file of WLCG Bearer Token Discovery instead ($BEARER_TOKEN_FILE,\n" +
			"else $XDG_RUNTIME_DIR/bt_u$UID, else bt_u$UID in the temporary directory: /tmp,\n" +
			"%TEMP% on Windows) and names the file on stderr.",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "format", Usage: "what to print: token, header (Authorization: Bearer …), json, or env (OIDC_TOKEN=… and OIDC_TOKEN_EXPIRES=… for eval)", Value: formatToken},
			&cli.BoolFlag{Name: "header", Usage: "same as --format header"},
			&cli.BoolFlag{Name: "json", Usage: "same as --format json"},
			&cli.StringFlag{Name: "min-valid", Usage: "refresh first unless the token stays valid this long (e.g. 10m, or seconds)"},
			&cli.BoolFlag{Name: "wlcg", Usage: "write the token to the WLCG bearer token file instead of stdout"},
		}, issuerFlags()...), allowHTTPFlag(), storeFlag()),
		OnUsageError: onUsage,
		Action:       a.token,
	}
}

// tokenFormat returns the output format the flags ask for.
func tokenFormat(c *cli.Context) (string, error) {
	format := strings.ToLower(strings.TrimSpace(c.String("format")))
	switch format {
	case formatToken, formatHeader, formatJSON, formatEnv:
	default:
		return "", usagef(c, "--format %q is not a format; use token, header, json or env", c.String("format"))
	}
	for _, alias := range []string{formatHeader, formatJSON} {
		if !c.Bool(alias) {
			continue
		}
		if (c.IsSet("format") && format != alias) || (alias == formatJSON && c.Bool(formatHeader)) {
			return "", usagef(c, "give one output format: --format, --header or --json")
		}
		format = alias
	}
	if c.Bool("wlcg") && (c.IsSet("format") || c.Bool(formatHeader) || c.Bool(formatJSON)) {
		return "", usagef(c, "--wlcg writes the token to a file and prints nothing; leave out --format, --header and --json")
	}
	return format, nil
}

// parseMinValid reads --min-valid: a Go duration ("10m") or whole
// seconds; "" is none.
func parseMinValid(c *cli.Context) (time.Duration, error) {
	s := strings.TrimSpace(c.String("min-valid"))
	if s == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, usagef(c, "--min-valid %q is not a duration like 10m or 600", s)
	}
	return d, nil
}

// tokenConfig returns the Config and stored record of the login a command
// names: HOST's with the routes it was made with, or a provider's with
// the scopes and audience it was made with, else as the provider's entry
// in the config file describes it (which may hold a confidential client's
// secret); --client-secret and --allow-http add to either.
func tokenConfig(c *cli.Context, store keyring.TokenStore, named flows.Config) (cfg flows.Config, rec *keyring.Record, err error) {
	cfg = named
	if named.Issuer == "" {
		cfg, rec = flows.StoredConfig(c.Context, store, named.Host)
	} else if key, err := named.Key(); err != nil {
		return cfg, nil, usagef(c, "%s", message(err))
	} else if rec, err = store.Get(c.Context, key); err == nil && rec.Server != nil && rec.Server.Issuer != "" {
		cfg = flows.ConfigFromServer(rec.Server) // the scopes and audience it was made with
		cfg.CacheDir = named.CacheDir
	} else if path, err := helper.ConfigPath(); err == nil {
		// No login yet: a config file entry of the client says how to
		// make one, and holds a confidential client's secret.
		if conf, err := helper.LoadConfig(path); err == nil {
			if s := conf.IssuerEntry(named.Issuer, named.ClientID); s != nil {
				cfg = helper.Flows(s)
			}
		}
	}
	if named.ClientSecret != "" {
		cfg.ClientSecret = named.ClientSecret
	}
	cfg.AllowHTTP = cfg.AllowHTTP || c.Bool("allow-http")
	return cfg, rec, nil
}

func (a *app) token(c *cli.Context) error {
	format, err := tokenFormat(c)
	if err != nil {
		return err
	}
	minValid, err := parseMinValid(c)
	if err != nil {
		return err
	}
	named, err := target(c)
	if err != nil {
		return err
	}
	cfg, _, _, tok, err := a.freshToken(c, named, minValid)
	if err != nil {
		return err
	}
	if c.Bool("wlcg") {
		path := helper.BearerTokenPath(os.Getenv, os.Geteuid())
		if err := helper.WriteBearerToken(path, tok.AccessToken); err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "wrote the access token of %s to %s (valid until %s)\n", flows.TerminalSafe(cfg.Name()), flows.TerminalSafe(path), clock(tok.ExpiresAt()))
		if os.Getenv("BEARER_TOKEN") != "" {
			fmt.Fprintln(a.stderr, "Note: BEARER_TOKEN is set, and tools that follow bearer token discovery read it before the file; unset it.")
		}
		return nil
	}
	return writeToken(a.stdout, format, tok)
}

// freshToken returns a valid token of the login named, with at least
// minValid left, and the Config, store and lock wait that got it: the
// stored token when it serves (one read, no lock, no network), else
// whatever flows.Authenticate refreshes or logs in to. token and exec
// share it.
func (a *app) freshToken(c *cli.Context, named flows.Config, minValid time.Duration) (flows.Config, keyring.TokenStore, time.Duration, *flows.Token, error) {
	store, err := a.openStore(c)
	if err != nil {
		return flows.Config{}, nil, 0, nil, err
	}
	wait, err := lockTimeout(c)
	if err != nil {
		return flows.Config{}, nil, 0, nil, err
	}
	cfg, rec, err := tokenConfig(c, store, named)
	if err != nil {
		return flows.Config{}, nil, 0, nil, err
	}
	if tok, ok := flows.CachedFor(rec, named.Host, time.Now(), minValid); ok {
		// A plain-http server still needs the same allowance as its
		// refresh would.
		return cfg, store, wait, tok, cfg.Check()
	}
	// A refresh or a login that a signal must not cut short.
	helper.CatchSignalsNow(c.Context)
	tok, err := flows.Authenticate(c.Context, cfg, store, flows.Options{
		Out:         a.stderr,
		LockTimeout: wait,
		MinValid:    minValid,
		Reason:      "`" + c.Command.HelpName + "` found no valid login",
	})
	if err != nil {
		return flows.Config{}, nil, 0, nil, minValidError(err)
	}
	return cfg, store, wait, tok, nil
}

// minValidError says what to do when the server's tokens are shorter than
// --min-valid asks for.
func minValidError(err error) error {
	var le *flows.LifetimeError
	if !errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("%s issues access tokens valid for only %s, and --min-valid asks for %s; ask for %s at most",
		le.Host, le.Left.Round(time.Second), le.MinValid, max(le.Left, 0).Round(time.Second))
}

// writeToken prints tok in format.
func writeToken(w io.Writer, format string, tok *flows.Token) error {
	var err error
	switch format {
	case formatJSON:
		return writeJSON(w, tok)
	case formatHeader:
		_, err = fmt.Fprintf(w, "Authorization: %s\n", tok.Authorization())
	case formatEnv:
		_, err = fmt.Fprintf(w, "%s=%s\n%s=%d\n", envToken, shellQuote(tok.AccessToken), envExpires, tok.Expires)
	default:
		_, err = fmt.Fprintln(w, tok.AccessToken)
	}
	return err
}

// shellQuote quotes s for a POSIX shell: in single quotes, each single
// quote written as '\”.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
