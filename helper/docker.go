package helper

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// dockerScheme prefixes the store keys of plain registry credentials, so
// that they never share a key with a server's token.
const dockerScheme = "docker://"

// dockerForever is the expiry of plain registry credentials, which do not
// expire: 9999-12-31.
const dockerForever = 253402300799

// IsDockerKey reports whether a store key holds plain registry credentials
// rather than a server's token.
func IsDockerKey(key string) bool { return strings.HasPrefix(key, dockerScheme) }

// Docker adapts a Helper to docker's credential helper protocol
// (github.com/docker/docker-credential-helpers/credentials.Helper).
// Registries a server answers for get its access token, minted by the flow
// core; every other registry is a plain credential store in the token
// store, so that docker login keeps working when oidc-auth is docker's
// credsStore.
type Docker struct {
	*Helper
	// Context is the context of the one action the process runs (docker
	// starts a helper per action): docker's Helper interface has no
	// context parameter to carry it. Nil means context.Background().
	Context context.Context
}

// actionContext returns the action's context.
func (d Docker) actionContext() context.Context {
	if d.Context != nil {
		return d.Context
	}
	return context.Background()
}

var _ credentials.Helper = Docker{}

// dockerKey is the store key of a registry's plain credentials.
func dockerKey(t Target) string { return dockerScheme + t.Host }

// Get returns the username and secret for serverURL. Docker prints the
// not-found error's text, which credentials.NewErrCredentialsNotFound
// makes docker's own.
func (d Docker) Get(serverURL string) (string, string, error) {
	ctx := d.actionContext()
	t, ok := dockerTarget(serverURL)
	if !ok {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	r, err := d.resolve(ctx, t)
	if err != nil {
		return "", "", err
	}
	if r != nil {
		tok, err := d.token(ctx, r)
		if err != nil {
			return "", "", errors.New(Describe(err))
		}
		return r.server.username(), tok.AccessToken, nil
	}
	rec, err := d.Store.Get(ctx, dockerKey(t))
	if errors.Is(err, keyring.ErrNotFound) {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	if err != nil {
		return "", "", err
	}
	username := ""
	if rec.Server != nil {
		username = rec.Server.Username
	}
	return username, rec.Token.AccessToken, nil
}

// Add stores credentials for a registry that no server answers for;
// credentials for a server's registry are not kept, since its token is
// minted on every get.
func (d Docker) Add(c *credentials.Credentials) error {
	ctx := d.actionContext()
	key, plain, err := d.plainKey(ctx, c.ServerURL)
	if err != nil || !plain {
		return err
	}
	return d.Store.Put(ctx, key, &keyring.Record{
		Token:  keyring.Token{AccessToken: c.Secret, TokenType: "docker", Expires: dockerForever},
		Server: &keyring.Server{Host: c.ServerURL, Username: c.Username},
	})
}

// Delete removes a registry's plain credentials. For a server's registry
// it does nothing: docker logout must not cost the person their login.
func (d Docker) Delete(serverURL string) error {
	ctx := d.actionContext()
	if _, ok := dockerTarget(serverURL); !ok {
		return credentials.NewErrCredentialsNotFound() // nothing was ever stored under it
	}
	key, plain, err := d.plainKey(ctx, serverURL)
	if err != nil || !plain {
		return err
	}
	err = d.Store.Remove(ctx, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return credentials.NewErrCredentialsNotFound()
	}
	return err
}

// plainKey returns the store key of serverURL's plain credentials; plain
// is false when a server answers for the registry instead.
func (d Docker) plainKey(ctx context.Context, serverURL string) (key string, plain bool, err error) {
	t, ok := dockerTarget(serverURL)
	if !ok {
		return "", false, fmt.Errorf("helper: %q is not a registry address", serverURL)
	}
	if r, err := d.resolve(ctx, t); err != nil || r != nil {
		return "", false, err
	}
	return dockerKey(t), true, nil
}

// List returns the registries with stored credentials and the registries
// of configured servers, each with its username.
func (d Docker) List() (map[string]string, error) {
	out := map[string]string{}
	for i := range d.Config.Servers {
		s := &d.Config.Servers[i]
		if s.match.scheme == "" {
			out[s.Match] = s.username()
		}
	}
	entries, err := d.Store.List(context.Background())
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if IsDockerKey(e.Key) && e.Server != nil {
			out[e.Server.Host] = e.Server.Username
		}
	}
	return out, nil
}
