package flows

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// Flow names an interactive login flow.
type Flow string

// The interactive flows Authenticate can run.
const (
	// FlowAuto runs the device flow, and the code flow when the server has
	// no device flow.
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
// token is used; else an interactive login runs (device flow first, the
// code flow when the server has none or Flow asks for it), if Interaction
// allows one. Every new token is stored before the lock is released.
func Authenticate(ctx context.Context, cfg Config, store keyring.TokenStore, opts Options) (*Token, error) {
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
	if !opts.Force {
		rec, err := store.Get(ctx, key)
		if err == nil && rec.Token.Valid(now()) {
			return &rec.Token, nil // the cached path: no lock, no network
		} else if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return nil, err
		}
	}

	// One process refreshes or logs in while the others wait for the lock
	// and then find its token.
	lctx, cancel := context.WithTimeout(ctx, cfg.Timeout+cfg.RequestTimeout)
	unlock, err := store.Lock(lctx, key)
	cancel()
	if err != nil {
		return nil, err
	}
	defer unlock()

	reason := "not logged in"
	rec, err := store.Get(ctx, key)
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return nil, err // a store that cannot be read cannot take a new token either
	}
	if !opts.Force {
		switch {
		case err != nil:
		case rec.Token.Valid(now()):
			return &rec.Token, nil
		case rec.Token.Refreshable(now()):
			tok, err := refreshStored(ctx, cfg, store, key, rec, now)
			if err == nil || !errors.Is(err, ErrSessionExpired) {
				return tok, err
			}
			reason = "the server no longer accepts the stored login"
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
			command = "oidc-auth login " + cfg.Host
		}
		return nil, &LoginRequiredError{Host: cfg.Host, Reason: reason + "; " + why, Command: command}
	}
	tok, err := Login(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return tok, save(ctx, store, key, cfg, tok)
}

// refreshStored refreshes rec and stores the result. When the server
// rejects the refresh token, the store is read once more: a client that does
// not take our lock (the reference client sharing the file) may have
// rotated it meanwhile.
func refreshStored(ctx context.Context, cfg Config, store keyring.TokenStore, key string, rec *keyring.Record, now func() time.Time) (*Token, error) {
	tok, err := Refresh(ctx, cfg, &rec.Token)
	if err == nil {
		return tok, save(ctx, store, key, cfg, tok)
	}
	if errors.Is(err, ErrSessionExpired) {
		if again, gerr := store.Get(ctx, key); gerr == nil && again.Token.RefreshToken != rec.Token.RefreshToken {
			if again.Token.Valid(now()) {
				return &again.Token, nil
			}
			if again.Token.Refreshable(now()) {
				if tok, err2 := Refresh(ctx, cfg, &again.Token); err2 == nil {
					return tok, save(ctx, store, key, cfg, tok)
				}
			}
		}
	}
	return nil, err
}

// Login runs an interactive login with the flow opts.Flow names, without
// looking at or writing any store.
func Login(ctx context.Context, cfg Config, opts Options) (*Token, error) {
	out := opts.Out
	if out == nil {
		out = os.Stderr
	}
	flow := opts.Flow
	if flow == "" {
		flow = FlowAuto
	}
	if flow != FlowCode {
		tok, err := (&DeviceFlow{Config: cfg, Out: out}).Run(ctx)
		if flow == FlowDevice || !errors.Is(err, ErrNoDeviceFlow) {
			return tok, err
		}
		fmt.Fprintf(out, "%s has no device login; using the browser login instead.\n", cfg.Host)
	}
	return (&CodeFlow{Config: cfg, Out: out, Browser: opts.Browser}).Run(ctx)
}

// save stores a new token with the settings it was obtained with.
func save(ctx context.Context, store keyring.TokenStore, key string, cfg Config, tok *Token) error {
	if err := store.Put(ctx, key, &keyring.Record{Token: *tok, Server: cfg.Server()}); err != nil {
		return fmt.Errorf("flows: the new token could not be stored: %w", err)
	}
	return nil
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
func StoredConfig(ctx context.Context, store keyring.TokenStore, host string) (Config, *keyring.Record) {
	key, err := keyring.Key(host)
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
	return ConfigFromServer(rec.Server), rec
}
