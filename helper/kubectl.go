package helper

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// The API versions of client.authentication.k8s.io that kubectl's exec
// credential plugins speak (see
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins).
const (
	ExecAPIv1      = "client.authentication.k8s.io/v1"
	ExecAPIv1beta1 = "client.authentication.k8s.io/v1beta1"
)

// ExecInfoEnv names the variable through which kubectl tells a credential
// plugin what it expects: an ExecCredential whose spec says whether the
// plugin may interact with the person.
const ExecInfoEnv = "KUBERNETES_EXEC_INFO"

// ExecCredential is the object a kubectl credential plugin prints on
// stdout, in either API version: they share this shape.
type ExecCredential struct {
	APIVersion string                `json:"apiVersion"`
	Kind       string                `json:"kind"`
	Spec       ExecCredentialSpec    `json:"spec"`
	Status     *ExecCredentialStatus `json:"status,omitempty"`
}

// ExecCredentialSpec is what kubectl tells the plugin. Cluster, sent
// only with provideClusterInfo, is not read.
type ExecCredentialSpec struct {
	// Interactive says that the plugin's standard input is the person's
	// terminal and that it may prompt there.
	Interactive bool `json:"interactive"`
}

// ExecCredentialStatus is the credential: a bearer token and when it
// expires (RFC 3339), after which kubectl runs the plugin again.
type ExecCredentialStatus struct {
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
	Token               string `json:"token"`
}

// ExecInfo is what $KUBERNETES_EXEC_INFO said: the API version to answer
// in, and whether kubectl lets the plugin interact. Set is false when the
// variable was not set (the command was run by hand).
type ExecInfo struct {
	APIVersion  string
	Interactive bool
	Set         bool
}

// ParseExecInfo reads the value of $KUBERNETES_EXEC_INFO; empty means
// unset, and answers in ExecAPIv1. An API version other than ExecAPIv1 or
// ExecAPIv1beta1 is an error.
func ParseExecInfo(value string) (ExecInfo, error) {
	if strings.TrimSpace(value) == "" {
		return ExecInfo{APIVersion: ExecAPIv1}, nil
	}
	var ec ExecCredential
	if err := json.Unmarshal([]byte(value), &ec); err != nil {
		return ExecInfo{}, fmt.Errorf("helper: $%s is not an ExecCredential (%v); kubectl sets it, unset it when running oidc-auth kubectl by hand", ExecInfoEnv, err)
	}
	switch ec.APIVersion {
	case ExecAPIv1, ExecAPIv1beta1:
	case "":
		return ExecInfo{}, fmt.Errorf("helper: $%s names no apiVersion; set the exec block's apiVersion to %s in the kubeconfig", ExecInfoEnv, ExecAPIv1)
	default:
		return ExecInfo{}, fmt.Errorf("helper: $%s asks for apiVersion %q, which oidc-auth does not speak; set the exec block's apiVersion to %s (or %s) in the kubeconfig", ExecInfoEnv, flows.TerminalSafe(ec.APIVersion), ExecAPIv1, ExecAPIv1beta1)
	}
	return ExecInfo{APIVersion: ec.APIVersion, Interactive: ec.Spec.Interactive, Set: true}, nil
}

// WriteExecCredential writes the ExecCredential of token, valid until
// expires, in apiVersion, as one JSON line.
func WriteExecCredential(w io.Writer, info ExecInfo, token string, expires time.Time) error {
	ec := ExecCredential{
		APIVersion: info.APIVersion,
		Kind:       "ExecCredential",
		Spec:       ExecCredentialSpec{Interactive: info.Interactive},
		Status: &ExecCredentialStatus{
			ExpirationTimestamp: expires.UTC().Format(time.RFC3339),
			Token:               token,
		},
	}
	b, err := json.Marshal(ec)
	if err != nil {
		return fmt.Errorf("helper: encode ExecCredential: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// JWTExpiry returns the exp claim of a JWT (an OpenID Connect ID token),
// read from its payload without checking the signature: the provider
// signed it, the API server checks it, and the client only needs to know
// when to ask for a new one.
func JWTExpiry(raw string) (time.Time, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("helper: the ID token is not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("helper: the ID token's payload is not base64url")
	}
	var claims struct {
		Exp *json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		return time.Time{}, errors.New("helper: the ID token's payload is not a JSON object")
	}
	if claims.Exp == nil {
		return time.Time{}, errors.New("helper: the ID token has no exp claim")
	}
	f, err := claims.Exp.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}, errors.New("helper: the ID token's exp claim is not a time")
	}
	return time.Unix(int64(f), 0), nil
}

// KubectlRequest is what `oidc-auth kubectl` asks for.
type KubectlRequest struct {
	// Config is the server, as the stored login (or the config file)
	// describes it.
	Config flows.Config
	// Record is the stored login of Config, read once by the caller; nil
	// when there is none.
	Record *keyring.Record
	// AccessToken hands out a standard provider's access token instead of
	// its ID token. A py-oidc-auth server's token is always the access
	// token.
	AccessToken bool
	// Options are passed to flows.Authenticate when the stored token
	// cannot be used.
	Options flows.Options
}

// useIDToken reports whether the request hands out the ID token.
func (r *KubectlRequest) useIDToken() bool {
	return r.Config.Issuer != "" && !r.AccessToken
}

// credential returns the token to hand out of tok and its expiry, or false
// when tok has none that is valid at now (with flows.ValidityMargin).
func (r *KubectlRequest) credential(tok *keyring.Token, now time.Time) (string, time.Time, bool) {
	if tok == nil {
		return "", time.Time{}, false
	}
	if !r.useIDToken() {
		return tok.AccessToken, tok.ExpiresAt(), tok.Valid(now)
	}
	if tok.IDToken == "" {
		return "", time.Time{}, false
	}
	exp, err := JWTExpiry(tok.IDToken)
	if err != nil || !now.Add(flows.ValidityMargin).Before(exp) {
		return "", time.Time{}, false
	}
	return tok.IDToken, exp, true
}

// KubectlToken returns the token kubectl hands the API server and when it
// expires: a standard provider's ID token (the claims Kubernetes' OIDC
// authenticator checks), or with AccessToken, and always for a
// py-oidc-auth server, the access token. A stored token that is valid is
// returned without any request or lock (an ID token while its own exp
// allows, whatever is left of the access token). Otherwise flows.Authenticate
// refreshes or logs in. An ID token has its own expiry (its exp claim),
// which a refresh need not renew: when the access token is valid but the
// ID token is not, the stored refresh token is used under the store's
// lock, and when that brings no valid ID token either, a login is needed.
func KubectlToken(ctx context.Context, store keyring.TokenStore, r KubectlRequest) (string, time.Time, error) {
	now := time.Now
	if r.Options.Now != nil {
		now = r.Options.Now
	}
	cfg := r.Config
	stored, ok := flows.Cached(r.Record, cfg.Host, now())
	if r.useIDToken() && r.Record != nil {
		// Only the ID token goes to kubectl: its own exp counts, whatever
		// is left of the access token.
		stored, ok = &r.Record.Token, true
	}
	if ok {
		if t, exp, ok := r.credential(stored, now()); ok {
			flows.Debugf(ctx, flows.DebugDecisions, "stored token of %s valid until %s: using it", cfg.Name(), exp.UTC().Format(time.RFC3339))
			return t, exp, nil // the cached path: no lock, no network
		}
	}
	// A refresh or a login that a signal must not cut short.
	CatchSignalsNow(ctx)
	tok, err := flows.Authenticate(ctx, cfg, store, r.Options)
	if err != nil {
		return "", time.Time{}, err
	}
	if t, exp, ok := r.credential(tok, now()); ok {
		return t, exp, nil
	}
	// A valid access token with an ID token that expired (or none).
	flows.Debugf(ctx, flows.DebugDecisions, "the ID token of %s has expired or is missing: refreshing for a new one", cfg.Name())
	if tok, err = refreshForIDToken(ctx, cfg, store, r); err != nil {
		return "", time.Time{}, err
	}
	if t, exp, ok := r.credential(tok, now()); ok {
		return t, exp, nil
	}
	reason := "the provider's ID token has expired and a refresh brought no new one"
	if r.Options.Interaction != flows.InteractAlways {
		command := r.Options.LoginCommand
		if command == "" {
			command = cfg.LoginCommand() + " --force"
		}
		why := r.Options.NoLoginReason
		if why == "" {
			why = "no interactive login here"
		}
		return "", time.Time{}, &flows.LoginRequiredError{Host: cfg.Name(), Reason: reason + "; " + why, Command: command}
	}
	opts := r.Options
	opts.Force = true
	if tok, err = flows.Authenticate(ctx, cfg, store, opts); err != nil {
		return "", time.Time{}, err
	}
	if t, exp, ok := r.credential(tok, now()); ok {
		return t, exp, nil
	}
	return "", time.Time{}, fmt.Errorf("helper: %s sent no valid ID token at login; use --access-token, or check the provider's clock and the openid scope", cfg.Name())
}

// refreshForIDToken refreshes the stored login of cfg for a new ID token,
// under the store's lock and after reading the store again (another
// process may have refreshed meanwhile), and stores the result. It
// returns the stored token unchanged when there is no refresh token to
// use, so that the caller asks for a login.
func refreshForIDToken(ctx context.Context, cfg flows.Config, store keyring.TokenStore, r KubectlRequest) (*keyring.Token, error) {
	key, err := cfg.Key()
	if err != nil {
		return nil, err
	}
	wait := r.Options.LockTimeout
	if wait <= 0 {
		wait = flows.DefaultLockTimeout
	}
	lctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	unlock, err := store.Lock(lctx, key)
	if err != nil {
		return nil, err
	}
	defer unlock()
	rec, err := store.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if r.Options.Now != nil {
		now = r.Options.Now
	}
	if _, _, ok := r.credential(&rec.Token, now()); ok || !rec.Token.Refreshable(now()) {
		return &rec.Token, nil
	}
	tok, err := flows.Refresh(ctx, cfg, &rec.Token)
	if errors.Is(err, flows.ErrSessionExpired) {
		return &rec.Token, nil
	} else if err != nil {
		return nil, err
	}
	// The server has rotated the refresh token already: the new one is
	// stored even when kubectl gives up on us meanwhile.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := store.Put(sctx, key, &keyring.Record{Token: *tok, Server: cfg.Server()}); err != nil {
		if out := r.Options.Out; out != nil {
			fmt.Fprintf(out, "Warning: the refreshed login to %s could not be saved (%s); the next command will need a new login: `%s`.\n",
				cfg.Name(), Describe(err), cfg.LoginCommand())
		}
	}
	return tok, nil
}
