package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
)

// exitError ends the program with code, after msg (when not empty) on
// stderr: the exit code of the command `oidc-auth exec` ran.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string {
	if e.msg == "" {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.msg
}

// Exit codes of a command that could not run, as shells have them.
const (
	exitCannotRun = 126
	exitNotFound  = 127
)

// execCommand runs a command with a bearer token file kept fresh beside
// it.
func (a *app) execCommand(onUsage cli.OnUsageErrorFunc, storeFlag func() cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run a command with a bearer token file that stays valid while it runs",
		ArgsUsage: "--server HOST | --issuer URL --client-id ID -- COMMAND [ARGUMENTS…]",
		Description: "Runs COMMAND with $BEARER_TOKEN_FILE naming a private file that holds a valid\n" +
			"access token of the login, and refreshes that file in the background before the\n" +
			"token expires, until COMMAND ends (WLCG Bearer Token Discovery, as HTCondor,\n" +
			"XRootD, dCache, Rucio and curl scripts read it). The token is never put in the\n" +
			"environment. The file is in a new directory of its own in $XDG_RUNTIME_DIR, else\n" +
			"in the temporary directory (%TEMP% on Windows). SIGINT, SIGTERM and SIGHUP are\n" +
			"passed on to COMMAND (on Windows, Ctrl-C reaches COMMAND from the console, and\n" +
			"closing the console ends it), oidc-auth exits with COMMAND's exit code, and the\n" +
			"file is removed at the end. A refresh that fails is reported once and retried;\n" +
			"COMMAND keeps running.",
		Flags: append(append([]cli.Flag{
			&cli.StringFlag{Name: "server", Usage: "the py-oidc-auth server URL (HOST), with its path prefix"},
			&cli.StringFlag{Name: "min-valid", Usage: "keep the file's token valid at least this long (e.g. 10m, or seconds; default 2m or a fifth of its lifetime)"},
		}, providerFlags()...), allowHTTPFlag(), storeFlag()),
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return usagef(c, "%s (the COMMAND and its arguments go after --)", flagError(c, err))
		},
		Action: a.exec,
	}
}

// execTarget returns the login --server or --issuer names.
func execTarget(c *cli.Context) (flows.Config, error) {
	server := strings.TrimSpace(c.String("server"))
	if c.String("issuer") != "" {
		if server != "" {
			return flows.Config{}, usagef(c, "give either --server or --issuer, not both")
		}
		if c.String("client-id") == "" {
			return flows.Config{}, usagef(c, "--issuer needs --client-id")
		}
		return flows.Config{Issuer: strings.TrimSpace(c.String("issuer")), ClientID: c.String("client-id"), ClientSecret: c.String("client-secret"), CacheDir: helper.CacheDir()}, nil
	}
	for _, f := range []string{"client-id", "client-secret"} {
		if c.IsSet(f) {
			return flows.Config{}, usagef(c, "--%s goes with --issuer", f)
		}
	}
	if server == "" {
		return flows.Config{}, usagef(c, "exec needs --server HOST (or --issuer and --client-id) before the COMMAND")
	}
	return flows.Config{Host: server}, nil
}

func (a *app) exec(c *cli.Context) error {
	named, err := execTarget(c)
	if err != nil {
		return err
	}
	if c.NArg() == 0 {
		return usagef(c, "exec needs a COMMAND to run, after --")
	}
	minValid, err := parseMinValid(c)
	if err != nil {
		return err
	}
	cfg, store, wait, tok, err := a.freshToken(c, named, minValid)
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp(os.Getenv("XDG_RUNTIME_DIR"), "oidc-auth-exec-") // mode 0700
	if err != nil {
		return fmt.Errorf("cannot make the private directory of the bearer token file: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token")
	if err := helper.WriteBearerToken(path, tok.AccessToken); err != nil {
		return err
	}
	flows.Debugf(c.Context, flows.DebugDecisions, "exec: %s=%s, valid until %s", helper.BearerTokenFileEnv, path, clock(tok.ExpiresAt()))

	// The command and the refresher share stderr; a file takes their
	// writes as they come, anything else one at a time.
	stderr := a.stderr
	if _, ok := stderr.(*os.File); !ok {
		stderr = &lockedWriter{w: stderr}
	}
	cmd := exec.Command(c.Args().First(), c.Args().Tail()...)
	cmd.Env = childEnv(c.Context, os.Environ(), path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, a.stdout, stderr

	// From here on, signals are COMMAND's: they are passed on instead of
	// ending oidc-auth (see helper.CatchSignals, whose handling this
	// replaces until the end), so that the file is always removed.
	signals := make(chan os.Signal, 8)
	signal.Reset(forwardSignals...)
	signal.Notify(signals, forwardSignals...)
	defer signal.Stop(signals)
	if c.Context.Err() != nil {
		return context.Cause(c.Context) // a signal came before COMMAND started
	}

	if err := cmd.Start(); err != nil {
		code := exitCannotRun
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			code = exitNotFound
		}
		return &exitError{code: code, msg: fmt.Sprintf("cannot run %s: %s", c.Args().First(), trimExecPrefix(err))}
	}

	ctx, stop := context.WithCancel(context.WithoutCancel(c.Context))
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		r := &refresher{
			host:     cfg.Name(),
			path:     path,
			minValid: minValid,
			get: func(ctx context.Context, min time.Duration) (*flows.Token, error) {
				return flows.Authenticate(ctx, cfg, store, flows.Options{
					Out:         stderr,
					LockTimeout: wait,
					MinValid:    min,
					Interaction: flows.InteractNever,
				})
			},
			write: func(tok *flows.Token) error { return helper.WriteBearerToken(path, tok.AccessToken) },
			warn:  stderr,
		}
		r.run(ctx, tok)
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case s := <-signals:
				flows.Debugf(ctx, flows.DebugDecisions, "exec: passing %v on to process %d", s, cmd.Process.Pid)
				forward(cmd.Process, s)
			case <-ctx.Done():
				return
			}
		}
	}()
	werr := cmd.Wait()
	stop()
	wg.Wait() // a refresh in flight is finished and stored
	if werr == nil {
		return nil
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) {
		return &exitError{code: exitFailure, msg: fmt.Sprintf("%s: %s", c.Args().First(), trimExecPrefix(werr))}
	}
	return &exitError{code: exitCode(ee.ProcessState)}
}

// lockedWriter lets several goroutines write to w, one write at a time.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// trimExecPrefix drops the "exec: " os/exec leads its errors with.
func trimExecPrefix(err error) string {
	return strings.TrimPrefix(err.Error(), "exec: ")
}

// childEnv is the environment of COMMAND: env with BEARER_TOKEN_FILE set
// to path. BEARER_TOKEN is dropped, since WLCG Bearer Token Discovery
// reads it before the file and a stale one would win; the token itself
// never goes into an environment, where other tools may show it.
func childEnv(ctx context.Context, env []string, path string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "BEARER_TOKEN":
			flows.Debugf(ctx, flows.DebugDecisions, "exec: BEARER_TOKEN is not passed on: bearer token discovery would prefer it to the file")
			continue
		case helper.BearerTokenFileEnv:
			continue
		}
		out = append(out, kv)
	}
	return append(out, helper.BearerTokenFileEnv+"="+path)
}

// refresher keeps the bearer token file of `oidc-auth exec` valid: it
// refreshes the token when refreshMargin of it is left, and writes the
// new one to the file. A refresh that fails is reported once on warn and
// retried, with a back-off that grows to retryCap; the file keeps the old
// token meanwhile.
type refresher struct {
	host, path string
	// minValid is what --min-valid asks for; 0 for the default margin.
	minValid time.Duration
	// get returns a token valid for more than min, refreshing under the
	// store's lock (flows.Authenticate).
	get func(ctx context.Context, min time.Duration) (*flows.Token, error)
	// write puts a token in the file.
	write func(tok *flows.Token) error
	// warn receives the lines for people.
	warn io.Writer
	// now and after are the clock; default time.Now and time.After.
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

// Bounds of the refresher's schedule.
const (
	// refreshAhead is the least time left at which the file's token is
	// refreshed, unless the token lives less than twice as long.
	refreshAhead = 2 * time.Minute
	// retryFirst and retryCap bound the wait between failed refreshes.
	retryFirst = 5 * time.Second
	retryCap   = time.Minute
)

// refreshMargin is how much of a token with lifetime left is refreshed
// ahead: the larger of refreshAhead and a fifth of the lifetime, but at
// most half of it, and at least minValid, but at most nine tenths of it.
func refreshMargin(lifetime, minValid time.Duration) time.Duration {
	m := min(max(refreshAhead, lifetime/5), lifetime/2)
	return min(max(m, minValid), lifetime*9/10)
}

// retryAfter is the wait after a failed refresh that followed a wait of
// prev (0 for the first failure), for a token with lifetime: doubling
// from retryFirst to retryCap, both scaled down for short-lived tokens
// (a tenth and half of the lifetime, at least 100 ms).
func retryAfter(prev, lifetime time.Duration) time.Duration {
	first := max(min(retryFirst, lifetime/10), 100*time.Millisecond)
	limit := max(min(retryCap, lifetime/2), first)
	if prev <= 0 {
		return first
	}
	return min(prev*2, limit)
}

// run refreshes tok, and each token after it, until ctx ends.
func (r *refresher) run(ctx context.Context, tok *flows.Token) {
	now, after := r.now, r.after
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	lifetime := tok.ExpiresAt().Sub(now())
	failing, backoff := false, time.Duration(0)
	for {
		margin := refreshMargin(lifetime, r.minValid)
		wait := max(tok.ExpiresAt().Sub(now())-margin, 0)
		if failing {
			wait = backoff
		}
		flows.Debugf(ctx, flows.DebugDetails, "exec: next refresh of %s in %s", r.host, wait.Round(time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-after(wait):
		}
		if ctx.Err() != nil {
			return // the command has ended
		}
		nt, err := r.get(ctx, margin+time.Second)
		var le *flows.LifetimeError
		if errors.As(err, &le) && nt != nil {
			err = nil // the server's tokens got shorter: the margin follows
		}
		if err == nil && nt.AccessToken != tok.AccessToken {
			err = r.write(nt)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failing {
				fmt.Fprintf(r.warn, "oidc-auth exec: the token of %s could not be refreshed (%s); retrying in the background, and %s keeps the current token, valid until %s\n",
					flows.TerminalSafe(r.host), message(err), flows.TerminalSafe(r.path), clock(tok.ExpiresAt()))
			}
			flows.Debugf(ctx, flows.DebugDecisions, "exec: refresh of %s failed: %s", r.host, message(err))
			failing, backoff = true, retryAfter(backoff, lifetime)
			continue
		}
		if failing {
			fmt.Fprintf(r.warn, "oidc-auth exec: the token of %s is refreshed again, valid until %s\n", flows.TerminalSafe(r.host), clock(nt.ExpiresAt()))
		}
		failing, backoff = false, 0
		if nt.AccessToken != tok.AccessToken {
			lifetime = nt.ExpiresAt().Sub(now())
			flows.Debugf(ctx, flows.DebugDecisions, "exec: %s holds a new token of %s, valid until %s", r.path, r.host, clock(nt.ExpiresAt()))
		}
		tok = nt
	}
}
