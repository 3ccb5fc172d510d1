package helper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/config"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// dockerScheme prefixes the store keys of plain registry credentials, so
// that they never share a key with a server's token.
const dockerScheme = "docker://"

// dockerForever is the expiry of plain registry credentials, which do not
// expire: 9999-12-31.
const dockerForever = 253402300799

// DockerHubServer is the server URL docker and go-containerregistry give
// credential helpers for Docker Hub, and the one List reports it under.
const DockerHubServer = "https://index.docker.io/v1/"

// dockerHubHosts are Docker Hub's names: docker and go-containerregistry
// ask for index.docker.io (as DockerHubServer), containers/image (skopeo,
// podman, buildah) and oras for docker.io, and registry-1.docker.io is the
// host that serves the registry API. The first is the one plain
// credentials are stored under.
var dockerHubHosts = []string{"index.docker.io", "docker.io", "registry-1.docker.io"}

// IsDockerHub reports whether a registry address names Docker Hub (see
// DockerHubServer): docker.io, index.docker.io or registry-1.docker.io,
// with or without https:// and a path.
func IsDockerHub(serverURL string) bool {
	t, ok := config.DockerTarget(serverURL)
	return ok && isDockerHub(t)
}

// DockerHubKeys are the keys under which the tools look Docker Hub up in a
// docker config file's credHelpers: DockerHubServer and each of its names.
func DockerHubKeys() []string {
	return append([]string{DockerHubServer}, dockerHubHosts...)
}

// isDockerHub reports whether t is one of Docker Hub's names over https.
func isDockerHub(t Target) bool {
	return t.Scheme != "http" && slices.Contains(dockerHubHosts, t.Host)
}

// IsDockerKey reports whether a store key holds plain registry credentials
// rather than a server's token.
func IsDockerKey(key string) bool { return strings.HasPrefix(key, dockerScheme) }

// Docker adapts a Helper to docker's credential helper protocol
// (github.com/docker/docker-credential-helpers/credentials.Helper).
// Registries a server answers for get its access token, minted by the flow
// core; every other registry is a plain credential store in the token
// store, so that docker login keeps working when oidc-auth is docker's
// credsStore. Docker Hub's names (see DockerHubServer) are one registry.
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
func dockerKey(t Target) string {
	if isDockerHub(t) {
		return dockerScheme + dockerHubHosts[0]
	}
	return dockerScheme + t.Host
}

// dockerKeys are the store keys a registry's plain credentials may be
// under: dockerKey first, then, for Docker Hub, the keys of its other
// names, which tools that ask by those names stored before they were one
// registry.
func dockerKeys(t Target) []string {
	if !isDockerHub(t) {
		return []string{dockerKey(t)}
	}
	var keys []string
	for _, h := range dockerHubHosts {
		keys = append(keys, dockerScheme+h)
	}
	return keys
}

// lookup finds the server that answers t, as resolve does; for Docker Hub
// it tries each of the hub's names, so that a config entry or a login
// that names any of them answers for all.
func (d Docker) lookup(ctx context.Context, t Target) (*resolved, error) {
	if !isDockerHub(t) {
		return d.resolve(ctx, t)
	}
	for _, h := range dockerHubHosts {
		// The path lets an entry written as DockerHubServer match too.
		alias := Target{Scheme: t.Scheme, Host: h, Hostname: h, Path: "/v1/"}
		if r, err := d.resolve(ctx, alias); err != nil || r != nil {
			return r, err
		}
	}
	return nil, nil
}

// Get returns the username and secret for serverURL. Docker prints the
// not-found error's text, which credentials.NewErrCredentialsNotFound
// makes docker's own. Any other failure is also written to Log: some
// tools (regctl) show only their own "unauthorized" and drop what a
// helper prints on stdout.
func (d Docker) Get(serverURL string) (string, string, error) {
	ctx := d.actionContext()
	t, ok := config.DockerTarget(serverURL)
	if !ok {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	r, err := d.lookup(ctx, t)
	if err != nil {
		d.explain(err)
		return "", "", err
	}
	if r != nil {
		tok, err := d.token(ctx, r, "docker needs a token for "+t.String())
		if err != nil {
			msg := dockerDescribe(err)
			d.logf("%s", msg)
			return "", "", errors.New(msg)
		}
		return username(r.server, tok), tok.AccessToken, nil
	}
	for _, key := range dockerKeys(t) {
		rec, err := d.Store.Get(ctx, key)
		if errors.Is(err, keyring.ErrNotFound) {
			continue
		}
		if err != nil {
			d.explain(err)
			return "", "", err
		}
		username := ""
		if rec.Server != nil {
			username = rec.Server.Username
		}
		return username, rec.Token.AccessToken, nil
	}
	return "", "", credentials.NewErrCredentialsNotFound()
}

// dockerDescribe is Describe for the tools of docker's protocol, which
// quote a helper's message in backticks themselves: the command to run is
// given without them.
func dockerDescribe(err error) string {
	var lre *flows.LoginRequiredError
	if errors.As(err, &lre) {
		return flows.TerminalSafe(fmt.Sprintf("no valid login for %s (%s); run: %s", lre.Host, lre.Reason, lre.Command))
	}
	return Describe(err)
}

// Add stores credentials for a registry that no server answers for;
// credentials for a server's registry are not kept, since its token is
// minted on every get.
func (d Docker) Add(c *credentials.Credentials) error {
	ctx := d.actionContext()
	t, ok := config.DockerTarget(c.ServerURL)
	if !ok {
		return fmt.Errorf("helper: %q is not a registry address", c.ServerURL)
	}
	if r, err := d.lookup(ctx, t); err != nil || r != nil {
		return err
	}
	keys := dockerKeys(t)
	err := d.Store.Put(ctx, keys[0], &keyring.Record{
		Token:  keyring.Token{AccessToken: c.Secret, TokenType: "docker", Expires: dockerForever},
		Server: &keyring.Server{Host: c.ServerURL, Username: c.Username},
	})
	if err != nil {
		return err
	}
	// Older credentials under another of Docker Hub's names would show up
	// in List beside the new ones.
	return d.remove(ctx, keys[1:])
}

// Delete removes a registry's plain credentials. For a server's registry
// it does nothing: docker logout must not cost the person their login.
// Erasing what is not stored succeeds: podman, skopeo, crane, oras and
// helm fail their logout when a helper reports nothing to erase.
func (d Docker) Delete(serverURL string) error {
	ctx := d.actionContext()
	t, ok := config.DockerTarget(serverURL)
	if !ok {
		return nil // nothing was ever stored under it
	}
	if r, err := d.lookup(ctx, t); err != nil || r != nil {
		return err
	}
	return d.remove(ctx, dockerKeys(t))
}

// remove removes the records of keys that exist.
func (d Docker) remove(ctx context.Context, keys []string) error {
	for _, key := range keys {
		if err := d.Store.Remove(ctx, key); err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return err
		}
	}
	return nil
}

// List returns every registry Get answers, each with its username (never
// a secret): the registries of config entries and of stored logins that
// answer a registry (see resolve), and those with plain stored
// credentials. Registries of servers are listed by host; Docker Hub as
// DockerHubServer; plain credentials by the address they were stored with.
func (d Docker) List() (map[string]string, error) {
	ctx := d.actionContext()
	entries, err := d.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	// The patterns that may answer a registry: config entries, then the
	// host URLs of stored logins.
	var patterns []config.Pattern
	for i := range d.Config.Servers {
		patterns = append(patterns, d.Config.Servers[i].Pattern())
	}
	for _, e := range entries {
		if IsDockerKey(e.Key) {
			continue
		}
		host := e.Key
		if e.Server != nil && e.Server.Host != "" {
			host = e.Server.Host
		}
		if p, err := config.ParsePattern(host); err == nil {
			patterns = append(patterns, p)
		}
	}
	out := map[string]string{}
	for _, p := range patterns {
		if t, ok := config.DockerTarget(p.Host); p.Path != "" && !(ok && isDockerHub(t)) {
			continue // docker sends no path: such an entry never answers it
		}
		// The bare host, as docker sends it; an http-only entry answers
		// only its http:// form.
		for _, server := range []string{p.Host, p.Scheme + "://" + p.Host} {
			t, ok := config.DockerTarget(server)
			if !ok {
				continue
			}
			r, err := d.lookup(ctx, t)
			if err != nil {
				return nil, err
			}
			if r == nil {
				continue
			}
			if isDockerHub(t) {
				server = DockerHubServer
			}
			if _, seen := out[server]; !seen {
				out[server] = username(r.server, nil)
			}
			break
		}
	}
	for _, e := range entries {
		if !IsDockerKey(e.Key) || e.Server == nil {
			continue
		}
		t, ok := config.DockerTarget(e.Server.Host)
		if !ok {
			continue
		}
		if r, err := d.lookup(ctx, t); err != nil {
			return nil, err
		} else if r != nil {
			continue // Get answers with the server's token instead
		}
		server := e.Server.Host
		if isDockerHub(t) {
			server = DockerHubServer
		}
		out[server] = e.Server.Username
	}
	return out, nil
}
