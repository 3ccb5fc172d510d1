package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/storekey"
	"golang.org/x/term"
)

// Flow names an interactive login flow.
type Flow string

// The interactive flows Authenticate can run.
const (
	// FlowAuto runs the flow ChooseFlow picks for where the login runs:
	// the code flow where a person is at a desktop browser, else the
	// device flow, and the code flow when the server has no device flow.
	FlowAuto Flow = "auto"
	// FlowDevice runs only the device flow.
	FlowDevice Flow = "device"
	// FlowCode runs only the code flow (browser and loopback callback).
	FlowCode Flow = "code"
)

// ParseFlow checks a flow name; "" means FlowAuto.
func ParseFlow(s string) (Flow, error) {
	switch f := Flow(strings.ToLower(strings.TrimSpace(s))); f {
	case "":
		return FlowAuto, nil
	case FlowAuto, FlowDevice, FlowCode:
		return f, nil
	}
	return "", fmt.Errorf("flows: unknown flow %q; use auto, device or code", s)
}

// Interaction says whether Authenticate may start an interactive login.
type Interaction int

const (
	// InteractAuto allows a login only when standard input is a terminal and
	// no batch-job variable is set (see JobEnvironment).
	InteractAuto Interaction = iota
	// InteractNever never starts a login.
	InteractNever
	// InteractAlways starts a login whenever one is needed: the person asked
	// for it (oidc-auth login).
	InteractAlways
)

// Options tunes Authenticate. The zero value uses a stored token, refreshes
// it, and logs in interactively only when a person is there.
type Options struct {
	// Force skips the stored token and always logs in.
	Force bool
	// Flow chooses the interactive flow; default FlowAuto.
	Flow Flow
	// Interaction says whether a login may start; default InteractAuto.
	Interaction Interaction
	// Out receives the messages for the person; default os.Stderr.
	Out io.Writer
	// Browser opens the code flow's login page; default OpenBrowser.
	Browser func(url string) error
	// LoginCommand is what a person is told to run when a login is needed
	// but may not start; default "oidc-auth login <host>".
	LoginCommand string
	// NoLoginReason says why no login may start under InteractNever, for
	// the LoginRequiredError; default "no interactive login here".
	NoLoginReason string
	// Now returns the current time; default time.Now.
	Now func() time.Time
	// Reason says who needs the token, when a command starts a login on
	// its own ("git needs a token for https://git.example.org/team"): the
	// login's first line is then "<Reason>; logging in to <server> (Ctrl-C
	// to stop)". Empty when the person asked for the login.
	Reason string
	// Env is where the login runs, for the automatic flow choice and the
	// screens; the zero value is the process's environment.
	Env Environment
	// LockTimeout bounds the wait for another process that holds the
	// server's lock (refreshing, or logging in); default
	// DefaultLockTimeout, or the Config's Timeout when Interaction is
	// InteractAlways (a person asked for a login and waits for it).
	LockTimeout time.Duration
	// MinValid is how long the returned access token must stay valid at
	// least: a stored token with less left is refreshed first, as one
	// with less than ValidityMargin left always is (for a job that must
	// not see its token expire halfway). When even the new token has
	// less left, because the server issues shorter tokens, Authenticate
	// returns the new token (stored all the same) with a *LifetimeError.
	// Zero asks for nothing beyond ValidityMargin.
	MinValid time.Duration
	// Rejected is an access token that an API has just refused (401): a
	// stored token equal to it is refreshed rather than returned, even
	// while its expiry says it is valid. A stored token that differs
	// (another process refreshed meanwhile) is returned as usual.
	Rejected string
}

// LifetimeError says that the server issues access tokens valid for less
// than Options.MinValid asked for, so that no refresh can give a token
// valid that long.
type LifetimeError struct {
	// Host is the server.
	Host string
	// Left is how long the newest token is valid for.
	Left time.Duration
	// MinValid is what was asked for.
	MinValid time.Duration
}

// Error says how long the server's tokens last, and what to ask for
// instead.
func (e *LifetimeError) Error() string {
	return fmt.Sprintf("flows: %s issues access tokens valid for only %s, less than the %s asked for; ask for %s at most",
		e.Host, roundDuration(e.Left), roundDuration(e.MinValid), roundDuration(e.Left))
}

// roundDuration rounds d to whole seconds for people, never below 0.
func roundDuration(d time.Duration) time.Duration {
	return max(d, 0).Round(time.Second)
}

// DefaultLockTimeout is how long Authenticate waits for another process
// holding a server's lock before it gives up, unless told otherwise: a
// credential helper must not stall git or docker for minutes behind a
// stopped process.
const DefaultLockTimeout = 30 * time.Second

// LockTimeoutEnv names the environment variable that sets the lock wait of
// the helpers and of `oidc-auth token` (a duration like 90s, or seconds).
const LockTimeoutEnv = "OIDC_AUTH_LOCK_TIMEOUT"

// LockTimeoutFromEnv returns the wait $OIDC_AUTH_LOCK_TIMEOUT sets, or 0
// when it is unset.
func LockTimeoutFromEnv() (time.Duration, error) {
	v := strings.TrimSpace(os.Getenv(LockTimeoutEnv))
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("flows: %s=%q is not a duration like 30s or 2m", LockTimeoutEnv, v)
	}
	return d, nil
}

// lockNoticeAfter is how long a wait for another process's lock lasts
// before the person is told who holds it.
const lockNoticeAfter = 2 * time.Second

// lockHolders is what a store can say about the process holding a key's
// lock (the keyring package's stores can).
type lockHolders interface {
	LockHolder(key string) (LockHolder, bool)
}

// LoginRequiredError says that no usable token exists and no login may
// start here. It matches ErrLoginRequired.
type LoginRequiredError struct {
	// Host is the server that needs a login.
	Host string
	// Reason says why no token could be used and no login started.
	Reason string
	// Command is what the person should run.
	Command string
}

// Error says which server needs a login, why, and the command to run.
func (e *LoginRequiredError) Error() string {
	return fmt.Sprintf("flows: no valid login for %s (%s); run `%s`", e.Host, e.Reason, e.Command)
}

// Is makes a LoginRequiredError match ErrLoginRequired.
func (e *LoginRequiredError) Is(target error) bool { return target == ErrLoginRequired }

// Authenticate returns a usable token for the server cfg describes, as the
// reference client's authenticate does: a stored token that is valid for
// more than a minute is returned without any network request or lock; else,
// under the store's lock of the server's key and after reading the store
// again (another process may have refreshed meanwhile), the stored refresh
// token is used; else an interactive login runs (see Login), if
// Interaction allows one. Every new token is stored before the lock is
// released, and a stored login ends with a line on Out that says who is
// logged in until when.
func Authenticate(ctx context.Context, cfg Config, store TokenStore, opts Options) (*Token, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := cfg.Key()
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	out := opts.Out
	if out == nil {
		out = os.Stderr
	}
	margin := max(opts.MinValid, ValidityMargin)
	usable := func(t *Token) bool {
		return validFor(t, now(), margin) && (opts.Rejected == "" || t.AccessToken != opts.Rejected)
	}
	if !opts.Force {
		rec, err := store.Get(ctx, key)
		if tok, ok := CachedFor(rec, cfg.Host, now(), margin); err == nil && ok && usable(tok) {
			Debugf(ctx, DebugDecisions, "stored token of %s valid for %s: using it", key, relative(tok.ExpiresAt().Sub(now())))
			return tok, nil // the cached path: no lock, no network
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}

	// One process refreshes or logs in while the others wait for the lock
	// and then find its token.
	unlock, err := lock(ctx, cfg, store, key, opts, out)
	if err != nil {
		return nil, err
	}
	defer unlock()

	reason := "not logged in"
	rec, err := store.Get(ctx, key)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err // a store that cannot be read cannot take a new token either
	}
	replaces := ""
	if err == nil && !ForServer(rec, cfg.Host) {
		// One login per host is stored (the reference format keys by
		// scheme and host); it belongs to another path prefix.
		replaces = rec.Server.Host
		reason = "the stored login of " + key + " is for " + replaces
	} else if !opts.Force {
		switch {
		case err != nil:
		case usable(&rec.Token):
			Debugf(ctx, DebugDecisions, "another process stored a token of %s meanwhile, valid for %s: using it", key, relative(rec.Token.ExpiresAt().Sub(now())))
			return &rec.Token, nil
		case rec.Token.Refreshable(now()):
			why := expiryWords(rec.Token.ExpiresAt(), now())
			switch {
			case opts.Rejected != "" && rec.Token.AccessToken == opts.Rejected:
				why = "was refused by the API"
			case rec.Token.Valid(now()):
				why += ", less than the " + roundDuration(margin).String() + " asked for"
			}
			Debugf(ctx, DebugDecisions, "stored access token of %s %s: refreshing, since the refresh token is valid for %s", key, why, relative(rec.Token.RefreshExpiresAt().Sub(now())))
			tok, err := refreshStored(ctx, cfg, store, key, rec, now, out)
			if err == nil {
				return tok, checkLifetime(cfg, tok, now(), opts.MinValid)
			}
			if !errors.Is(err, ErrSessionExpired) {
				return nil, err
			}
			reason = "the server no longer accepts the stored login"
		case opts.Rejected != "" && rec.Token.AccessToken == opts.Rejected:
			reason = "the API refused the stored access token, and there is no refresh token to renew it"
		case rec.Token.Valid(now()):
			reason = "the stored access token has less than the " + roundDuration(margin).String() + " asked for left, and no refresh token to renew it"
		default:
			reason = "the stored login has expired"
		}
	}
	if why, ok := mayInteract(opts.Interaction); !ok {
		if opts.Interaction == InteractNever && opts.NoLoginReason != "" {
			why = opts.NoLoginReason
		}
		command := opts.LoginCommand
		if command == "" {
			command = cfg.LoginCommand()
		}
		Debugf(ctx, DebugDecisions, "no login to %s may start: %s; %s", cfg.Name(), reason, why)
		return nil, &LoginRequiredError{Host: cfg.Name(), Reason: reason + "; " + why, Command: command}
	}
	if opts.Force {
		Debugf(ctx, DebugDecisions, "starting a login to %s: a new login was asked for", cfg.Name())
	} else {
		Debugf(ctx, DebugDecisions, "starting a login to %s: %s", cfg.Name(), reason)
	}
	announce(out, cfg, opts)
	if replaces != "" {
		fmt.Fprintf(out, "This login replaces the stored login of %s: one login per host is kept.\n", terminalSafe(replaces))
	}
	tok, err := login(ctx, cfg, opts, out)
	if err != nil {
		return nil, err
	}
	if save(ctx, store, key, cfg, tok, out) {
		sayLoggedIn(out, cfg, tok, now())
	}
	return tok, checkLifetime(cfg, tok, now(), opts.MinValid)
}

// checkLifetime returns a *LifetimeError when a new token is valid for
// less than minValid at now (nothing asked for, nothing to check).
func checkLifetime(cfg Config, tok *Token, now time.Time, minValid time.Duration) error {
	if minValid <= 0 || validFor(tok, now, minValid) {
		return nil
	}
	return &LifetimeError{Host: cfg.Name(), Left: tok.ExpiresAt().Sub(now), MinValid: minValid}
}

// validFor reports whether t's access token is valid for more than d at
// now.
func validFor(t *Token, now time.Time, d time.Duration) bool {
	return t != nil && t.AccessToken != "" && now.Add(d).Before(t.ExpiresAt())
}

// announce writes the first line of a login that a command started on
// its own: who needs the token, and where the login goes.
func announce(out io.Writer, cfg Config, opts Options) {
	if opts.Reason != "" {
		fmt.Fprintf(out, "%s; logging in to %s (Ctrl-C to stop)\n", oneLine(terminalSafe(opts.Reason)), terminalSafe(cfg.Name()))
	}
}

// sayLoggedIn ends a login with who is now logged in and until when; a
// token that is not valid is left for the caller to warn about.
func sayLoggedIn(out io.Writer, cfg Config, tok *Token, now time.Time) {
	if tok.Valid(now) {
		fmt.Fprint(out, loggedInLine(cfg.Name(), tok, now))
	}
}

// expiryWords says when a token expired or expires, for a debug line.
func expiryWords(t, now time.Time) string {
	if d := t.Sub(now); d > 0 {
		return "expires in " + relative(d)
	}
	return "expired " + relative(now.Sub(t)) + " ago"
}

// lock takes the store's lock of key, bounded by opts.LockTimeout. After
// lockNoticeAfter without it, out says which process holds it; when the
// wait ends, the error says so too.
func lock(ctx context.Context, cfg Config, store TokenStore, key string, opts Options, out io.Writer) (func(), error) {
	wait := opts.LockTimeout
	if wait <= 0 {
		wait = DefaultLockTimeout
		if opts.Interaction == InteractAlways {
			wait = cfg.Timeout
		}
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	Debugf(ctx, DebugDetails, "taking the lock of %s (waiting at most %s)", key, wait.Round(time.Second))
	start := time.Now()
	noticed := make(chan struct{})
	notice := time.AfterFunc(lockNoticeAfter, func() {
		defer close(noticed)
		who := "another process"
		if lh, ok := store.(lockHolders); ok {
			if h, ok := lh.LockHolder(key); ok {
				who = fmt.Sprintf("process %d (%s)", h.PID, terminalSafe(h.Command))
			}
		}
		Debugf(ctx, DebugDecisions, "the lock of %s is held by %s: waiting", key, who)
		fmt.Fprintf(out, "Waiting for %s, which is refreshing or logging in to %s; giving up after %s…\n", who, terminalSafe(cfg.Name()), wait.Round(time.Second))
	})
	unlock, err := store.Lock(lctx, key)
	if !notice.Stop() {
		<-noticed
	}
	if waited := time.Since(start); waited >= lockNoticeAfter || DebugEnabled(ctx, DebugDetails) {
		Debugf(ctx, DebugDecisions, "lock of %s: %s after %s", key, errOK(err), waited.Round(time.Millisecond))
	}
	if err != nil {
		// The wait ran out (the store's lock error wraps the deadline),
		// not the caller's context.
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && (opts.Interaction != InteractAlways || opts.LockTimeout > 0) {
			return nil, fmt.Errorf("%w (set %s to wait longer than %s)", err, LockTimeoutEnv, wait.Round(time.Second))
		}
		return nil, err
	}
	return unlock, nil
}

// Cached returns the token of rec when it is valid for more than a minute
// at now and was obtained from the server host names (see ForServer): the
// one test of the cached path, which makes no request and takes no lock.
func Cached(rec *Record, host string, now time.Time) (*Token, bool) {
	if rec == nil || !rec.Token.Valid(now) || !ForServer(rec, host) {
		return nil, false
	}
	return &rec.Token, true
}

// CachedFor is Cached for a token that must stay valid for more than
// minValid (at least ValidityMargin) at now, as Options.MinValid asks.
func CachedFor(rec *Record, host string, now time.Time, minValid time.Duration) (*Token, bool) {
	tok, ok := Cached(rec, host, now)
	if !ok || !validFor(tok, now, minValid) {
		return nil, false
	}
	return tok, true
}

// ForServer reports whether rec holds the login of the server at host,
// path prefix included. A store keeps one login per scheme and host (the
// reference format drops the path), so the record of
// https://h/api/app must not answer for https://h/other-app. Records of
// other clients name no server and are taken as the host's.
func ForServer(rec *Record, host string) bool {
	if rec == nil || rec.Server == nil || rec.Server.Host == "" {
		return true
	}
	return SameServer(rec.Server.Host, host)
}

// SameServer reports whether two server URLs name the same server: the
// same scheme and host (compared as Key does) and the same path prefix,
// ignoring a trailing "/".
func SameServer(a, b string) bool { return storekey.SameServer(a, b) }

// serverPath is the path prefix of a server URL, without trailing "/".
func serverPath(s string) string { return storekey.ServerPath(s) }

// refreshStored refreshes rec and stores the result. When the server
// rejects the refresh token, the store is read once more: a client that does
// not take our lock (the reference client sharing the file) may have
// rotated it meanwhile.
func refreshStored(ctx context.Context, cfg Config, store TokenStore, key string, rec *Record, now func() time.Time, out io.Writer) (*Token, error) {
	tok, err := Refresh(ctx, cfg, &rec.Token)
	if err == nil {
		save(ctx, store, key, cfg, tok, out)
		return tok, nil
	}
	if errors.Is(err, ErrSessionExpired) {
		if again, gerr := store.Get(ctx, key); gerr == nil && again.Token.RefreshToken != rec.Token.RefreshToken {
			if again.Token.Valid(now()) {
				return &again.Token, nil
			}
			if again.Token.Refreshable(now()) {
				if tok, err2 := Refresh(ctx, cfg, &again.Token); err2 == nil {
					save(ctx, store, key, cfg, tok, out)
					return tok, nil
				}
			}
		}
	}
	return nil, err
}

// Login runs an interactive login with the flow opts.Flow names (for
// FlowAuto the one ChooseFlow picks, with the code flow as the fallback
// of a server without device flow), without looking at or writing any
// store. It starts with the line of opts.Reason, if any, and ends with who
// is logged in until when.
func Login(ctx context.Context, cfg Config, opts Options) (*Token, error) {
	out := opts.Out
	if out == nil {
		out = os.Stderr
	}
	announce(out, cfg, opts)
	tok, err := login(ctx, cfg, opts, out)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	sayLoggedIn(out, cfg, tok, now())
	return tok, nil
}

// login runs the interactive flow of Login, without its first and last
// lines. A py-oidc-auth server's token gets the claims that name its user
// (see pyClaims); a provider's come from its verified ID token.
func login(ctx context.Context, cfg Config, opts Options, out io.Writer) (*Token, error) {
	tok, err := runFlow(ctx, cfg, opts, out)
	if err == nil && !cfg.isIssuer() && tok.Claims == nil {
		tok.Claims = pyClaims(ctx, cfg.withDefaults(), tok)
	}
	return tok, err
}

// runFlow chooses the interactive flow and runs it.
func runFlow(ctx context.Context, cfg Config, opts Options, out io.Writer) (*Token, error) {
	env := opts.Env
	terminal := isTerminal(out)
	flow := opts.Flow
	if flow == "" {
		flow = FlowAuto
	}
	if flow == FlowAuto {
		var why string
		flow, why = ChooseFlow(env, terminal)
		Debugf(ctx, DebugDecisions, "login flow: %s, since %s", flow, why)
	} else {
		Debugf(ctx, DebugDecisions, "login flow: %s, as asked", flow)
	}
	if flow != FlowCode {
		df := &DeviceFlow{Config: cfg, Out: out, screen: newScreen(out, env)}
		if ok, _ := env.DesktopBrowser(); ok && terminal {
			df.Browser = opts.Browser
			if df.Browser == nil {
				df.Browser = func(u string) error { return openBrowser(env, u, nil) }
			}
		}
		tok, err := df.Run(ctx)
		if opts.Flow == FlowDevice || !errors.Is(err, ErrNoDeviceFlow) {
			return tok, err
		}
		Debugf(ctx, DebugDecisions, "login flow: code, since the server has no device flow")
		fmt.Fprintf(out, "%s has no device login; using the browser login instead.\n", terminalSafe(cfg.Name()))
	}
	return (&CodeFlow{Config: cfg, Out: out, Browser: opts.Browser, env: env}).Run(ctx)
}

// save stores a new token with the settings it was obtained with. It is
// not cancelled with ctx: a server that issued the token has already
// rotated the old refresh token. A token that cannot be stored (a full
// disk, a read-only store) is still the caller's to use; out says plainly
// that the login is not saved, and save reports false.
func save(ctx context.Context, store TokenStore, key string, cfg Config, tok *Token, out io.Writer) bool {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.RequestTimeout)
	defer cancel()
	if err := store.Put(ctx, key, &Record{Token: *tok, Server: cfg.Server()}); err != nil {
		fmt.Fprintf(out, "Warning: the new login to %s could not be saved (%s). This command uses it, but the next one will need a new login: `%s`.\n",
			cfg.Name(), oneLine(trimPackage(err.Error())), cfg.LoginCommand())
		return false
	}
	return true
}

// trimPackage drops a leading package prefix from an error message that
// is quoted inside another sentence.
func trimPackage(msg string) string {
	for _, p := range []string{"flows: ", "keyring: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// mayInteract applies an Interaction; when no login may start it says why.
func mayInteract(i Interaction) (string, bool) {
	switch i {
	case InteractAlways:
		return "", true
	case InteractNever:
		return "no interactive login here", false
	}
	if name, ok := JobEnvironment(); ok {
		return name + " is set, and a batch job cannot log in interactively", false
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return "no terminal to log in from", false
	}
	return "", true
}

// jobVariables mark batch and cluster job environments (Slurm, PBS, SGE,
// LSF, OAR, MPI, Kubernetes, freva, JupyterHub), where no interactive login
// may start.
var jobVariables = []string{
	"SLURM_JOB_ID", "SLURM_NODELIST", "PBS_JOBID", "PBS_ENVIRONMENT", "PBS_NODEFILE",
	"JOB_ID", "SGE_TASK_ID", "PE_HOSTFILE", "LSB_JOBID", "LSB_HOSTS", "OAR_JOB_ID",
	"OAR_NODEFILE", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "MPI_LOCALRANKID",
	"KUBERNETES_SERVICE_HOST", "KUBERNETES_PORT", "FREVA_BATCH_JOB", "JUPYTERHUB_USER",
}

// JobEnvironment reports the first batch-job variable that is set to a
// non-empty value, if any.
func JobEnvironment() (string, bool) {
	for _, v := range jobVariables {
		if os.Getenv(v) != "" {
			return v, true
		}
	}
	return "", false
}

// StoredConfig returns the Config a stored token for host was obtained
// with, so that a refresh reaches the same path prefix and routes, and the
// stored record itself (nil when there is none), so that a caller holding
// a valid token needs no second read. Without a record, or with one
// written by another client, the Config is host's with default routes.
func StoredConfig(ctx context.Context, store TokenStore, host string) (Config, *Record) {
	key, err := Key(host)
	if err != nil {
		return Config{Host: host}, nil
	}
	rec, err := store.Get(ctx, key)
	if err != nil {
		return Config{Host: host}, nil
	}
	if rec.Server == nil || rec.Server.Host == "" {
		return Config{Host: host}, rec
	}
	if !SameServer(rec.Server.Host, host) {
		return Config{Host: host}, nil // another path prefix's login
	}
	return ConfigFromServer(rec.Server), rec
}
