package helper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// Helper answers credential requests from git and docker with tokens of
// the servers its Config (or a stored login) names.
type Helper struct {
	// Config lists the servers and what they answer for.
	Config *Config
	// Store holds the tokens.
	Store keyring.TokenStore
	// Terminal opens the person's terminal for a login's prompts, or fails
	// when there is none; nil means there is none. Git and docker capture a
	// helper's stdio, so this is /dev/tty (CONOUT$ on Windows), not stderr.
	Terminal func() (io.WriteCloser, error)
	// Log receives one-line notes for people when no token can be given
	// (stderr); nil discards them.
	Log io.Writer
	// Name leads those notes ("git-credential-oidc").
	Name string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (h *Helper) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Helper) logf(format string, a ...any) {
	if h.Log != nil {
		fmt.Fprintf(h.Log, h.Name+": "+format+"\n", a...)
	}
}

// token returns a valid token of r's server: the stored one when it is
// valid (no network), else a refresh, else an interactive login on the
// terminal when there is one and no batch job runs. reason says who needs
// the token, for the login's first line ("git needs a token for …").
func (h *Helper) token(ctx context.Context, r *resolved, reason string) (*keyring.Token, error) {
	if r.rec == nil { // a config entry: read its login once, here
		if key, err := Flows(r.server).Key(); err == nil {
			if rec, err := h.Store.Get(ctx, key); err == nil {
				r.rec = rec
			}
		}
	}
	if tok, ok := flows.Cached(r.rec, r.server.Host, h.now()); ok {
		return tok, nil // the cached path: no terminal, no lock, no network
	}
	// A refresh or a login that a signal must not cut short.
	CatchSignalsNow(ctx)
	wait, err := flows.LockTimeoutFromEnv()
	if err != nil {
		return nil, err
	}
	if wait == 0 {
		// Also when a login may run on the terminal: git and docker
		// must not stall for a login's whole timeout behind another
		// process.
		wait = flows.DefaultLockTimeout
	}
	opts := flows.Options{
		Interaction:   flows.InteractNever,
		LoginCommand:  Flows(r.server).LoginCommand(),
		NoLoginReason: "no terminal to log in from",
		Now:           h.Now,
		LockTimeout:   wait,
		Reason:        reason,
	}
	if name, batch := flows.JobEnvironment(); batch {
		opts.NoLoginReason = name + " is set, and a batch job cannot log in interactively"
	} else if h.Terminal != nil {
		if tty, err := h.Terminal(); err == nil {
			defer tty.Close()
			opts.Interaction, opts.Out = flows.InteractAlways, tty
		}
	}
	// A config entry's routes are the config's; a login's (see resolve) are
	// the ones it was made with.
	tok, err := flows.Authenticate(ctx, Flows(r.server), h.Store, opts)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// explain leaves the note of Describe on Log.
func (h *Helper) explain(err error) {
	h.logf("%s", Describe(err))
}

// Describe turns an error into the line a person reads: for a missing
// login, the command that makes one; otherwise the message without its
// package prefix.
func Describe(err error) string {
	var lre *flows.LoginRequiredError
	if errors.As(err, &lre) {
		return flows.TerminalSafe(fmt.Sprintf("no valid login for %s (%s); run `%s`", lre.Host, lre.Reason, lre.Command))
	}
	return flows.TerminalSafe(trimPrefix(err.Error()))
}

// trimPrefix drops a leading package prefix from an error message.
func trimPrefix(msg string) string {
	for _, p := range []string{"flows: ", "keyring: ", "helper: "} {
		if len(msg) > len(p) && msg[:len(p)] == p {
			return msg[len(p):]
		}
	}
	return msg
}
