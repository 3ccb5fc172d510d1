package integration

// End-to-end tests of docker-credential-oidc and `oidc-auth setup docker`,
// driven the ways docker drives a credential helper: the
// docker-credential-helpers client package (what the docker CLI itself
// calls), go-containerregistry's default keychain (what crane, ko and many
// CI tools use) pulling from an authenticating registry, and the real
// docker CLI.
//
// The docker CLI needs no engine for this: with the daemon unreachable,
// `docker login REGISTRY -u U --password-stdin` logs in client side (it
// tries https://REGISTRY/v2/ first, and http:// for a loopback registry)
// and then runs the helper's `store`; `docker logout REGISTRY` runs
// `erase` for REGISTRY twice, then http://REGISTRY and https://REGISTRY.
// `docker login REGISTRY` with stored credentials (no -u) asks the daemon
// only and fails without one, and `docker pull` needs the daemon, so those
// are left to go-containerregistry here.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/integration/registry"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// dockerHelperName is what docker config files call our helper: docker
// runs docker-credential-<name>.
const dockerHelperName = "oidc"

// notFoundLine is docker's protocol text for a missing credential
// (credentials.NewErrCredentialsNotFound), which a helper prints on stdout.
const notFoundLine = "credentials not found in native keychain\n"

// dockerUser is a sandbox that also has a docker config directory of its
// own ($DOCKER_CONFIG) and the product binaries first on PATH, so that
// docker and go-containerregistry find docker-credential-oidc.
type dockerUser struct {
	*sandbox
	dockerConfig string
	// runtimeDir is $XDG_RUNTIME_DIR, where skopeo, podman and buildah keep
	// their auth.json (as root without it: /run/containers/0, shared).
	runtimeDir string
}

// newDockerUser makes a fresh sandbox with an empty, not yet existing
// docker config directory. Every run of oidc-auth in it sees
// DOCKER_CONFIG and PATH too.
func newDockerUser(t *testing.T) *dockerUser {
	t.Helper()
	u := &dockerUser{sandbox: newSandbox(t)}
	u.dockerConfig = filepath.Join(u.dir, "docker")
	u.runtimeDir = filepath.Join(u.dir, "run")
	if err := os.Mkdir(u.runtimeDir, 0o700); err != nil {
		t.Fatal(err)
	}
	u.sandbox.env = append(u.sandbox.env, u.dockerVars()...)
	return u
}

// dockerVars point docker, the containers/image tools, helm and the
// helpers at the sandbox: its docker config directory and runtime
// directory, the product binaries first on PATH, and none of the
// machine's registries.conf or helm registry config overrides (set and
// empty counts as unset for all of them).
func (u *dockerUser) dockerVars() []string {
	return []string{
		"DOCKER_CONFIG=" + u.dockerConfig,
		"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"XDG_RUNTIME_DIR=" + u.runtimeDir,
		"CONTAINERS_REGISTRIES_CONF=",
		"HELM_REGISTRY_CONFIG=",
		"HELM_CONFIG_HOME=",
	}
}

// env is the environment of docker and of the helpers: what run gives
// oidc-auth (sandbox HOME and XDG directories, the file store), with no
// DOCKER_ variable of the machine (DOCKER_HOST, DOCKER_CONTEXT, …), plus
// dockerVars and extra.
func (u *dockerUser) env(extra ...string) []string {
	return u.sandbox.environ(extra...)
}

// exec runs bin with args and stdin in the sandbox, without a controlling
// terminal, and records its stderr for the sandbox's secret check.
func (u *dockerUser) exec(stdin, bin string, extra []string, args ...string) result {
	u.t.Helper()
	r, err := u.execute(runTimeout, u.dir, stdin, u.env(extra...), bin, args...)
	if err != nil {
		u.t.Fatal(err)
	}
	return r
}

// helper runs docker-credential-oidc ACTION with stdin, as docker does.
func (u *dockerUser) helper(action, stdin string) result {
	u.t.Helper()
	return u.exec(stdin, dockerCredentialBin, nil, action)
}

// program is a docker-credential-helpers ProgramFunc running our helper in
// the sandbox. client.NewShellProgramFuncWithEnv cannot be used: it only
// adds variables to the test process's environment (it cannot drop the
// machine's OIDC_TOKEN_FILE or DOCKER_CONFIG) and hands the helper the
// test's stderr, out of reach of the secret check.
func (u *dockerUser) program() client.ProgramFunc {
	return func(args ...string) client.Program {
		return &helperProgram{u: u, args: args}
	}
}

// helperProgram is one run of our helper for the client package.
type helperProgram struct {
	u     *dockerUser
	args  []string
	stdin []byte
}

var _ client.Program = (*helperProgram)(nil)

// Input implements client.Program.
func (p *helperProgram) Input(in io.Reader) {
	b := new(bytes.Buffer)
	if _, err := b.ReadFrom(in); err != nil {
		p.u.t.Errorf("reading helper input: %v", err)
	}
	p.stdin = b.Bytes()
}

// Output implements client.Program: stdout, and an error naming the exit
// status when the helper fails (the client classifies a failure by stdout
// alone, as with exec.Cmd.Output's *exec.ExitError).
func (p *helperProgram) Output() ([]byte, error) {
	r := p.u.exec(string(p.stdin), dockerCredentialBin, nil, p.args...)
	if r.code != 0 {
		return []byte(r.stdout), fmt.Errorf("exit status %d (stderr %q)", r.code, r.stderr)
	}
	return []byte(r.stdout), nil
}

// writeServers writes the helpers' config file with one [[server]] table
// per entry of servers: {match, host} or {match, host, username}.
func (u *dockerUser) writeServers(servers ...[]string) {
	u.t.Helper()
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "[[server]]\nmatch = %q\nhost = %q\n", s[0], s[1])
		if len(s) > 2 {
			fmt.Fprintf(&b, "username = %q\n", s[2])
		}
		b.WriteString("\n")
	}
	dir := filepath.Join(u.config, "oidc-auth")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(b.String()), 0o600); err != nil {
		u.t.Fatal(err)
	}
}

// configEntries returns the match → host pairs of the helpers' config file.
func (u *dockerUser) configEntries() []string {
	u.t.Helper()
	c, err := helper.LoadConfig(filepath.Join(u.config, "oidc-auth", "config.toml"))
	if err != nil {
		u.t.Fatalf("helpers' config: %v", err)
	}
	var m []string
	for _, s := range c.Servers {
		m = append(m, s.Match+" → "+s.Host)
	}
	return m
}

// dockerConfigPath is $DOCKER_CONFIG/config.json.
func (u *dockerUser) dockerConfigPath() string {
	return filepath.Join(u.dockerConfig, "config.json")
}

// writeDockerConfig writes $DOCKER_CONFIG/config.json with mode 0600.
func (u *dockerUser) writeDockerConfig(content string) {
	u.t.Helper()
	if err := os.MkdirAll(u.dockerConfig, 0o700); err != nil {
		u.t.Fatal(err)
	}
	if err := os.WriteFile(u.dockerConfigPath(), []byte(content), 0o600); err != nil {
		u.t.Fatal(err)
	}
}

// readDockerConfig decodes $DOCKER_CONFIG/config.json with numbers kept
// exact.
func (u *dockerUser) readDockerConfig() map[string]any {
	u.t.Helper()
	return readJSONObject(u.t, u.dockerConfigPath())
}

// readJSONObject decodes the JSON object in the file at path.
func readJSONObject(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := decodeJSON(t, path, b).(map[string]any)
	if !ok {
		t.Fatalf("%s is not a JSON object:\n%s", path, b)
	}
	return m
}

// setupDocker runs `oidc-auth setup docker REGISTRY --host H` and extra
// flags, and fails the test unless it succeeds.
func (u *dockerUser) setupDocker(registryHost, host string, extra ...string) {
	u.t.Helper()
	mustSucceed(u.t, u.run(append([]string{"setup", "docker", registryHost, "--host", host}, extra...)...))
}

// accessToken returns the stored access token of srv and teaches it to the
// sandbox.
func (u *dockerUser) accessToken(srv *pyauthserver.Server) string {
	u.t.Helper()
	e, ok := u.readStore()[storeKey(u.t, srv)]
	if !ok {
		u.t.Fatalf("no stored login for %s", srv.URL())
	}
	return e.Token.AccessToken
}

// loopbackHost returns 127.0.0.1:PORT for a free port: a registry address
// that nothing listens on, for tests that only ask the helper.
func loopbackHost(t *testing.T) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(freePorts(t, 1)[0])
}

// hostPort returns the host:port of srv.
func hostPort(t *testing.T, srv *pyauthserver.Server) string {
	t.Helper()
	return strings.TrimPrefix(strings.TrimPrefix(keyOf(t, srv.URL()), "http://"), "https://")
}

// checkGet asks our helper, through the client package, for serverURL and
// checks the answer.
func checkGet(t *testing.T, prog client.ProgramFunc, serverURL, wantUser, wantSecret string) {
	t.Helper()
	c, err := client.Get(prog, serverURL)
	if err != nil {
		t.Errorf("get %q: %v, want %s's credentials", serverURL, err, wantUser)
		return
	}
	if c.ServerURL != serverURL || c.Username != wantUser || c.Secret != wantSecret {
		t.Errorf("get %q = {ServerURL %q, Username %q, Secret %.8s…}, want {%q, %q, %.8s…}", serverURL, c.ServerURL, c.Username, c.Secret, serverURL, wantUser, wantSecret)
	}
}

// checkNotFound checks that our helper has nothing for serverURL: the
// client sees docker's not-found error, which makes docker go on
// anonymously.
func checkNotFound(t *testing.T, prog client.ProgramFunc, serverURL string) {
	t.Helper()
	c, err := client.Get(prog, serverURL)
	if !credentials.IsErrCredentialsNotFound(err) {
		if c != nil {
			t.Errorf("get %q = {Username %q, Secret %.8s…}, want not found", serverURL, c.Username, c.Secret)
		} else {
			t.Errorf("get %q: %v, want %q", serverURL, err, strings.TrimSpace(notFoundLine))
		}
	}
}

// TestDockerCredentialClient drives docker-credential-oidc through the
// docker-credential-helpers client, as the docker CLI does: for a registry
// no server answers it is a plain credential store (store, get, list,
// erase); for a configured registry get mints the access token of the
// stored login, keeps no copy of it, and needs no network while it is
// valid.
func TestDockerCredentialClient(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	u := newDockerUser(t)
	configured, robot := loopbackHost(t), loopbackHost(t)
	u.writeServers([]string{configured, srv.URL()}, []string{robot, srv.URL(), "robot"})
	prog := u.program()
	const plain = "registry.example.org"

	r := u.helper("version", "")
	mustSucceed(t, r)
	if strings.TrimSpace(r.stdout) == "" || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("version: want one line on stdout\n%v", r)
	}

	// A registry no server answers: a plain credential store.
	checkNotFound(t, prog, plain)
	r = u.helper("get", "unknown.example.org")
	if r.code != 1 || r.stdout != notFoundLine {
		t.Errorf("get of an unknown registry: want exit 1 and stdout %q\n%v", notFoundLine, r)
	}
	if err := client.Store(prog, &credentials.Credentials{ServerURL: plain, Username: "alice", Secret: "pl4in-s3cret"}); err != nil {
		t.Fatalf("store: %v", err)
	}
	checkGet(t, prog, plain, "alice", "pl4in-s3cret")
	list, err := client.List(prog)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	want := map[string]string{plain: "alice", configured: "oauth2", robot: "robot"}
	if !maps.Equal(list, want) {
		t.Errorf("list = %v, want %v", list, want)
	}
	if err := client.Store(prog, &credentials.Credentials{ServerURL: plain, Username: "bob", Secret: "n3w-s3cret"}); err != nil {
		t.Fatalf("store over existing credentials: %v", err)
	}
	checkGet(t, prog, plain, "bob", "n3w-s3cret")
	if err := client.Erase(prog, plain); err != nil {
		t.Fatalf("erase: %v", err)
	}
	checkNotFound(t, prog, plain)
	list, err = client.List(prog)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	delete(want, plain)
	if !maps.Equal(list, want) {
		t.Errorf("list after erase = %v, want %v", list, want)
	}

	// A configured registry: the stored login's access token, no network.
	u.login(srv)
	access := u.accessToken(srv)
	storeBefore := u.storeBytes()
	counts := requestCounts(srv)
	checkGet(t, prog, configured, "oauth2", access)
	checkGet(t, prog, robot, "robot", access)
	if !srv.Valid(access) {
		t.Errorf("the secret handed out is not a token the server accepts")
	}
	if got := requestCounts(srv); !reflect.DeepEqual(got, counts) {
		t.Errorf("get with a valid stored token made requests: counts %v, then %v", counts, got)
	}
	r = u.helper("get", configured)
	mustSucceed(t, r)
	got := decodeJSON(t, "get stdout", []byte(r.stdout))
	if want := map[string]any{"ServerURL": configured, "Username": "oauth2", "Secret": access}; !reflect.DeepEqual(got, any(want)) {
		t.Errorf("get %s printed %s, want exactly ServerURL, Username oauth2 and the access token", configured, r.stdout)
	}
	if r.stderr != "" {
		t.Errorf("get with a valid token wrote to stderr\n%v", r)
	}
	if !bytes.Equal(u.storeBytes(), storeBefore) {
		t.Errorf("get of a configured registry with a valid token rewrote the token store")
	}
	if keys := slices.Sorted(maps.Keys(u.readStore())); !slices.Equal(keys, []string{storeKey(t, srv)}) {
		t.Errorf("store keys %v, want only the login %s", keys, storeKey(t, srv))
	}
	list, err = client.List(prog)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if !maps.Equal(list, want) {
		t.Errorf("list with a login = %v, want %v", list, want)
	}

	// docker logout erases a configured registry; that must not cost the
	// person the login, and the next get still answers.
	if err := client.Erase(prog, configured); err != nil {
		t.Errorf("erase of a configured registry: %v", err)
	}
	checkGet(t, prog, configured, "oauth2", access)

	// An expired access token is refreshed by get, and the new one stored.
	u.expireStoredAccess(storeKey(t, srv))
	c, err := client.Get(prog, configured)
	if err != nil {
		t.Fatalf("get with an expired access token: %v", err)
	}
	u.learn(c.Secret)
	if c.Secret == access || !srv.Valid(c.Secret) || c.Secret != u.accessToken(srv) {
		t.Errorf("get after expiry did not hand out the refreshed, stored token")
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

// TestDockerServerURLForms checks that the server URL forms docker sends
// for one registry (bare host, with a scheme, with a path) all reach the
// configured entry, and that look-alike registries get nothing, not even
// the plain credentials of the registry they imitate.
func TestDockerServerURLForms(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	u := newDockerUser(t)
	port := freePorts(t, 1)[0]
	for "127.0.0.1:"+strconv.Itoa(port+1) == hostPort(t, srv) {
		port = freePorts(t, 1)[0]
	}
	reg := "127.0.0.1:" + strconv.Itoa(port)
	// A named registry is https only: its http form would send the token
	// in clear text.
	const named = "registry.example.org"
	u.writeServers([]string{reg, srv.URL()}, []string{named, srv.URL()})
	u.login(srv)
	access := u.accessToken(srv)
	prog := u.program()
	// `docker login` of a configured registry stores what was typed through
	// our helper; that must not take the place of the token.
	for _, r := range []string{reg, named} {
		if err := client.Store(prog, &credentials.Credentials{ServerURL: r, Username: "alice", Secret: "pl4in-s3cret"}); err != nil {
			t.Fatalf("store %s: %v", r, err)
		}
	}

	for _, form := range []string{
		reg,
		"https://" + reg,
		"http://" + reg + "/",
		"https://" + reg + "/v2/",
		"HTTPS://" + reg,
		named,
		"https://" + named,
		"https://" + named + "/v1/",
		"https://" + named + ":443",
		"Registry.Example.ORG",
	} {
		checkGet(t, prog, form, "oauth2", access)
	}
	for _, lookalike := range []string{
		"http://" + named,
		"http://" + named + "/",
		named + ":5000",
		"https://" + named + ":5000",
		"evil" + named,
		"evil." + named,
		named + ".evil.com",
		"https://" + named + ".evil.com/",
		"https://" + named + "@evil.com",
		"https://evil.com/" + named,
		"https://evil.com?" + named,
		"127.0.0.1:" + strconv.Itoa(port+1),
		"127.0.0.1",
		"127.0.0.2:" + strconv.Itoa(port),
		"localhost:" + strconv.Itoa(port),
		"127.0.0.1.evil.com:" + strconv.Itoa(port),
		"https://127.0.0.1.evil.com:" + strconv.Itoa(port),
		"evil.com/127.0.0.1:" + strconv.Itoa(port),
		"https://evil.com/" + reg,
		"https://" + reg + ".evil.com",
		"https://" + reg + "@evil.com",
		"ftp://" + reg,
	} {
		checkNotFound(t, prog, lookalike)
	}
}

// TestDockerKeychainPull pulls an image with go-containerregistry's
// default keychain from a registry that accepts only the auth server's
// valid tokens: `oidc-auth setup docker` makes the docker config, the
// keychain runs our helper from PATH, and the token reaches that registry
// and no other, with our helper as a registry's credHelper and as the
// global credsStore.
//
// Not parallel: authn.DefaultKeychain reads HOME, DOCKER_CONFIG and PATH of
// the test process, and the helpers it runs inherit its environment.
func TestDockerKeychainPull(t *testing.T) {
	srv := startServer(t, pyauthserver.Options{})
	acceptsToken := func(username, password string) bool {
		return username == "oauth2" && srv.Valid(password)
	}
	reg := registry.New(t, registry.Options{Check: acceptsToken})
	want := reg.Push(t, "team/app", "v1")
	// The other registry would take our token too, had it been given one.
	other := registry.New(t, registry.Options{Check: acceptsToken})
	other.Push(t, "team/app", "v1")

	u := newDockerUser(t)
	u.setupDocker(reg.Host(), srv.URL())
	cfg := u.readDockerConfig()
	if helpers, _ := cfg["credHelpers"].(map[string]any); helpers[reg.Host()] != dockerHelperName {
		t.Fatalf("config.json after setup = %v, want credHelpers[%q] = %q", cfg, reg.Host(), dockerHelperName)
	}
	u.login(srv)
	access := u.accessToken(srv)

	becomeUser(t, u)

	pullAll := func(stage string) {
		t.Helper()
		mark, otherMark := len(reg.Requests()), len(other.Requests())
		got, err := keychainPull(t, reg.Ref("team/app", "v1"))
		if err != nil {
			t.Fatalf("%s: pull from the configured registry: %v", stage, err)
		}
		if got != want.String() {
			t.Errorf("%s: pulled %s, want %s", stage, got, want)
		}
		authed := 0
		for _, r := range reg.Requests()[mark:] {
			if !r.HadAuth {
				continue
			}
			authed++
			if r.Username != "oauth2" || r.Password != access || r.Status >= 400 {
				t.Errorf("%s: request %s %s with user %q, secret %.8s…, status %d; want oauth2, the stored token, success", stage, r.Method, r.Path, r.Username, r.Password, r.Status)
			}
		}
		if authed == 0 {
			t.Errorf("%s: no request to the configured registry carried credentials", stage)
		}

		_, err = keychainPull(t, other.Ref("team/app", "v1"))
		var te *transport.Error
		if !errors.As(err, &te) || te.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: pull from the unconfigured registry: %v, want 401", stage, err)
		}
		for _, r := range other.Requests()[otherMark:] {
			if r.HadAuth || strings.Contains(r.Username+r.Password, access) {
				t.Errorf("%s: the unconfigured registry got credentials: %s %s user %q", stage, r.Method, r.Path, r.Username)
			}
		}
	}
	pullAll("credHelpers")

	// The global credsStore: the unconfigured registry asks our helper too.
	u.setupDocker(reg.Host(), srv.URL(), "--creds-store")
	if cfg := u.readDockerConfig(); cfg["credsStore"] != dockerHelperName {
		t.Fatalf("config.json after setup --creds-store = %v, want credsStore %q", cfg, dockerHelperName)
	}
	pullAll("credsStore")
	if n := srv.Count(pyauthserver.RouteToken); n != 1 {
		t.Errorf("%d token-route requests, want only the login's (the stored token was valid)", n)
	}
}

// becomeUser makes the test process the sandbox's user, for libraries
// that read the process's environment (go-containerregistry's default
// keychain, oras-go's docker store) and run our helper with it: every
// variable of u.env, and none of the machine's that u.env leaves out.
// The test must not be parallel.
func becomeUser(t *testing.T, u *dockerUser) {
	t.Helper()
	env := map[string]string{}
	for _, kv := range u.env() {
		name, value, _ := strings.Cut(kv, "=")
		env[name] = value
	}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); !hasKey(env, name) {
			t.Setenv(name, "") // restored at the test's end
			os.Unsetenv(name)
		}
	}
	for name, value := range env {
		t.Setenv(name, value)
	}
}

// hasKey reports whether m has key k.
func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

// keychainPull pulls ref (manifest and layers) with authn.DefaultKeychain
// and returns the manifest digest.
func keychainPull(t *testing.T, ref string) (string, error) {
	t.Helper()
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	img, err := remote.Image(r, remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx))
	if err != nil {
		return "", err
	}
	layers, err := img.Layers()
	if err != nil {
		return "", err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return "", err
		}
		rc.Close()
	}
	d, err := img.Digest()
	return d.String(), err
}

// TestDockerCLILoginLogout runs the real docker CLI with our helper as the
// global credsStore and no engine: `docker login` checks the password
// against the registry itself and stores it through our helper, and
// `docker logout` erases it.
func TestDockerCLILoginLogout(t *testing.T) {
	t.Parallel()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI on PATH")
	}
	reg := registry.New(t, registry.Options{Check: func(username, password string) bool {
		return username == "alice" && password == "s3cret"
	}})
	u := newDockerUser(t)
	u.writeDockerConfig(`{"credsStore": "oidc"}`)
	// A daemon address that refuses connections: docker then logs in
	// client side, whatever engine the machine has.
	noEngine := []string{"DOCKER_HOST=tcp://127.0.0.1:" + strconv.Itoa(closedPort(t))}
	prog := u.program()
	host := reg.Host()

	r := u.exec("wrong\n", docker, noEngine, "login", host, "-u", "alice", "--password-stdin")
	if r.code == 0 {
		t.Fatalf("docker login with a wrong password succeeded\n%v", r)
	}
	checkNotFound(t, prog, host)

	r = u.exec("s3cret\n", docker, noEngine, "login", host, "-u", "alice", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("docker login: want exit 0 and Login Succeeded\n%v", r)
	}
	if !slices.ContainsFunc(reg.Requests(), func(r registry.Request) bool {
		return r.Path == "/v2/" && r.Username == "alice" && r.Password == "s3cret" && r.Status == http.StatusOK
	}) {
		t.Errorf("docker login never checked the password with the registry: %+v", reg.Requests())
	}
	checkGet(t, prog, host, "alice", "s3cret")
	if list, err := client.List(prog); err != nil || list[host] != "alice" {
		t.Errorf("list after docker login = %v, %v; want %s: alice", list, err, host)
	}
	b, err := os.ReadFile(u.dockerConfigPath())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte("s3cret")) || bytes.Contains(b, []byte("YWxpY2U6czNjcmV0")) {
		t.Errorf("docker kept the password in config.json instead of the helper:\n%s", b)
	}
	if cfg := u.readDockerConfig(); cfg["credsStore"] != dockerHelperName {
		t.Errorf("config.json after docker login = %v, want credsStore %q kept", cfg, dockerHelperName)
	}

	r = u.exec("", docker, noEngine, "logout", host)
	if r.code != 0 {
		t.Fatalf("docker logout: want exit 0\n%v", r)
	}
	checkNotFound(t, prog, host)
	cfg := u.readDockerConfig()
	if auths, _ := cfg["auths"].(map[string]any); auths != nil {
		if _, ok := auths[host]; ok {
			t.Errorf("config.json after docker logout still lists %s (our erase failed?): %v", host, cfg)
		}
	}
	if list, err := client.List(prog); err != nil || len(list) != 0 {
		t.Errorf("list after docker logout = %v, %v; want empty", list, err)
	}
}

// TestDockerCLIConfiguredRegistry runs the real docker CLI, without an
// engine, against a registry oidc-auth answers for, with our helper as
// the global credsStore: the scripted `oidc-auth token H | docker login
// REGISTRY -u oauth2 --password-stdin` succeeds and leaves no copy of the
// token behind, and `docker logout REGISTRY` does not cost the person
// their login.
func TestDockerCLIConfiguredRegistry(t *testing.T) {
	t.Parallel()
	docker, err := exec.LookPath("docker")
	if err != nil {
		t.Skip("no docker CLI on PATH")
	}
	srv := startServer(t, pyauthserver.Options{})
	reg := registry.New(t, registry.Options{Check: func(username, password string) bool {
		return username == "oauth2" && srv.Valid(password)
	}})
	u := newDockerUser(t)
	u.setupDocker(reg.Host(), srv.URL(), "--creds-store")
	u.login(srv)
	access := u.accessToken(srv)
	noEngine := []string{"DOCKER_HOST=tcp://127.0.0.1:" + strconv.Itoa(closedPort(t))}
	prog := u.program()

	r := u.run("token", srv.URL())
	mustSucceed(t, r)
	r = u.exec(r.stdout, docker, noEngine, "login", reg.Host(), "-u", "oauth2", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "Login Succeeded") {
		t.Fatalf("docker login with the token: want exit 0 and Login Succeeded\n%v", r)
	}
	if !slices.ContainsFunc(reg.Requests(), func(r registry.Request) bool {
		return r.Path == "/v2/" && r.Username == "oauth2" && r.Password == access && r.Status == http.StatusOK
	}) {
		t.Errorf("docker login never checked the token with the registry")
	}
	if keys := slices.Sorted(maps.Keys(u.readStore())); !slices.Equal(keys, []string{storeKey(t, srv)}) {
		t.Errorf("store keys after docker login %v, want only the login %s (no copy of the token)", keys, storeKey(t, srv))
	}
	if b, err := os.ReadFile(u.dockerConfigPath()); err != nil || bytes.Contains(b, []byte(access)) {
		t.Errorf("config.json after docker login holds the token (%v)", err)
	}
	checkGet(t, prog, reg.Host(), "oauth2", access)

	r = u.exec("", docker, noEngine, "logout", reg.Host())
	if r.code != 0 {
		t.Fatalf("docker logout: want exit 0\n%v", r)
	}
	if _, ok := u.readStore()[storeKey(t, srv)]; !ok {
		t.Fatalf("docker logout %s removed the login to %s", reg.Host(), srv.URL())
	}
	checkGet(t, prog, reg.Host(), "oauth2", access)
}

// TestDockerSetup checks that `oidc-auth setup docker` edits only its own
// entries of an existing config.json, keeps everything else as it was
// (unknown fields included), replaces the file atomically without widening
// its mode, refuses a file it cannot parse, and that --unset takes back
// only its own entries.
func TestDockerSetup(t *testing.T) {
	t.Parallel()
	const existing = `{
	"auths": {
		"registry.example.org": {"auth": "YWxpY2U6czNjcmV0"},
		"https://index.docker.io/v1/": {}
	},
	"proxies": {"default": {"httpProxy": "http://proxy.example:3128", "noProxy": "localhost,127.0.0.1"}},
	"credHelpers": {"gcr.io": "gcloud", "123456789.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"},
	"psFormat": "table {{.ID}}\t{{.Image}} <&>",
	"currentContext": "default",
	"plugins": {"debug": {"hooks": "exec"}},
	"aliases": {"builder": "buildx"},
	"x-future-field": [1, 2.5, {"nested": true}, null, "s"],
	"x-big-number": 12345678901234567890
}
`
	host := "https://auth.example.org/api/app"

	// onlyConfigJSON checks that the docker config directory holds
	// config.json and nothing else: no temporary file left behind.
	onlyConfigJSON := func(t *testing.T, u *dockerUser) {
		t.Helper()
		entries, err := os.ReadDir(u.dockerConfig)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !slices.Equal(names, []string{"config.json"}) {
			t.Errorf("docker config directory holds %q, want only config.json", names)
		}
	}
	// with is base with credHelpers replaced and credsStore set or
	// removed.
	with := func(t *testing.T, base string, helpers map[string]any, credsStore string) map[string]any {
		m := decodeJSON(t, "fixture", []byte(base)).(map[string]any)
		if helpers == nil {
			delete(m, "credHelpers")
		} else {
			m["credHelpers"] = helpers
		}
		if credsStore != "" {
			m["credsStore"] = credsStore
		}
		return m
	}
	checkConfig := func(t *testing.T, u *dockerUser, stage string, want map[string]any) {
		t.Helper()
		got := u.readDockerConfig()
		if reflect.DeepEqual(got, want) {
			return
		}
		for _, k := range slices.Sorted(maps.Keys(want)) {
			if !reflect.DeepEqual(got[k], want[k]) {
				t.Errorf("%s: config.json %q = %v, want %v", stage, k, got[k], want[k])
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: config.json gained %q = %v", stage, k, got[k])
			}
		}
	}
	fixtureHelpers := func() map[string]any {
		return map[string]any{"gcr.io": "gcloud", "123456789.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}
	}

	t.Run("credHelpers", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg, reg2 := loopbackHost(t), "registry.example.org:5000"
		u.writeDockerConfig(existing)

		u.setupDocker(reg, host)
		helpers := fixtureHelpers()
		helpers[reg] = dockerHelperName
		checkConfig(t, u, "setup", with(t, existing, helpers, ""))
		onlyConfigJSON(t, u)
		if st, err := os.Stat(u.dockerConfigPath()); err != nil || unixModes(t) && st.Mode().Perm() != 0o600 {
			t.Errorf("config.json after setup: mode %v (%v), want 0600 kept: it holds credentials", st.Mode().Perm(), err)
		}
		if got, want := u.configEntries(), []string{reg + " → " + host}; !slices.Equal(got, want) {
			t.Errorf("helpers' config after setup: %q, want %q", got, want)
		}

		u.setupDocker(reg, host)
		checkConfig(t, u, "setup again", with(t, existing, helpers, ""))
		if got, want := u.configEntries(), []string{reg + " → " + host}; !slices.Equal(got, want) {
			t.Errorf("helpers' config after setup twice: %q, want %q", got, want)
		}
		u.setupDocker(reg2, host)
		helpers[reg2] = dockerHelperName
		checkConfig(t, u, "setup of a second registry", with(t, existing, helpers, ""))

		u.setupDocker(reg, host, "--unset")
		delete(helpers, reg)
		checkConfig(t, u, "--unset", with(t, existing, helpers, ""))
		if got, want := u.configEntries(), []string{reg2 + " → " + host}; !slices.Equal(got, want) {
			t.Errorf("helpers' config after --unset: %q, want %q", got, want)
		}
		u.setupDocker(reg2, host, "--unset")
		checkConfig(t, u, "--unset of both", with(t, existing, fixtureHelpers(), ""))
		onlyConfigJSON(t, u)
		if got := u.configEntries(); len(got) != 0 {
			t.Errorf("helpers' config after --unset of both: %q, want none", got)
		}
	})

	t.Run("credsStore", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg := loopbackHost(t)
		u.writeDockerConfig(existing)
		u.setupDocker(reg, host, "--creds-store")
		checkConfig(t, u, "setup --creds-store", with(t, existing, fixtureHelpers(), dockerHelperName))
		onlyConfigJSON(t, u)
		// skopeo, podman and buildah ignore credsStore: a registries.conf
		// drop-in makes them ask our helper, and no per-user
		// registries.conf, which would hide the system's, appears.
		if b, err := os.ReadFile(u.containersDropIn()); err != nil || !strings.Contains(string(b), "credential-helpers = ['oidc', ") {
			t.Errorf("registries.conf drop-in after setup --creds-store: %q, %v", b, err)
		}
		if _, err := os.Stat(u.userRegistriesConf()); err == nil {
			t.Errorf("setup --creds-store created %s", u.userRegistriesConf())
		}
		u.setupDocker(reg, host, "--creds-store", "--unset")
		checkConfig(t, u, "setup --creds-store --unset", with(t, existing, fixtureHelpers(), ""))
		onlyConfigJSON(t, u)
		if _, err := os.Stat(u.containersDropIn()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("registries.conf drop-in after --unset: %v, want it gone", err)
		}
	})

	t.Run("unset keeps what is not ours", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg := loopbackHost(t)
		content := fmt.Sprintf(`{"credsStore": "desktop", "credHelpers": {%q: "oidc", "gcr.io": "gcloud", "registry.example.org": "oidc"}}`, reg)
		u.writeDockerConfig(content)
		u.setupDocker(reg, host, "--unset")
		want := map[string]any{"credsStore": "desktop", "credHelpers": map[string]any{"gcr.io": "gcloud", "registry.example.org": "oidc"}}
		checkConfig(t, u, "--unset", want)
	})

	t.Run("no config yet", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg := loopbackHost(t)
		u.setupDocker(reg, host)
		checkConfig(t, u, "setup", map[string]any{"credHelpers": map[string]any{reg: dockerHelperName}})
		onlyConfigJSON(t, u)
	})

	t.Run("default directory", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t)
		reg := loopbackHost(t)
		// An empty DOCKER_CONFIG is no DOCKER_CONFIG, as for docker.
		mustSucceed(t, s.runEnv([]string{"DOCKER_CONFIG="}, "setup", "docker", reg, "--host", host))
		got := readJSONObject(t, filepath.Join(s.home, ".docker", "config.json"))
		if want := map[string]any{"credHelpers": map[string]any{reg: dockerHelperName}}; !reflect.DeepEqual(got, want) {
			t.Errorf("~/.docker/config.json = %v, want %v", got, want)
		}
	})

	// Dotfile managers link ~/.docker/config.json into a repository; docker
	// itself writes through such a link (configfile.Save resolves it with
	// filepath.EvalSymlinks before its rename).
	t.Run("symlinked config", func(t *testing.T) {
		t.Parallel()
		testfs.RequireSymlinks(t)
		u := newDockerUser(t)
		reg := loopbackHost(t)
		target := filepath.Join(u.dir, "dotfiles", "docker-config.json")
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, []byte(existing), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(u.dockerConfig, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, u.dockerConfigPath()); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
		u.setupDocker(reg, host)
		if st, err := os.Lstat(u.dockerConfigPath()); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Errorf("setup replaced the symlink %s with a file (mode %v, %v); docker writes through it", u.dockerConfigPath(), st.Mode(), err)
		}
		helpers := fixtureHelpers()
		helpers[reg] = dockerHelperName
		if got, want := readJSONObject(t, target), with(t, existing, helpers, ""); !reflect.DeepEqual(got, want) {
			t.Errorf("link target after setup: credHelpers %v, want %v", got["credHelpers"], want["credHelpers"])
		}
	})

	t.Run("unparsable config", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg := loopbackHost(t)
		const broken = `{"auths": {"registry.example.org": {"auth": "YWxpY2U6czNjcmV0"}},` + "\n"
		u.writeDockerConfig(broken)
		r := u.run("setup", "docker", reg, "--host", host)
		msg := failureLine(t, r, 1)
		if !strings.Contains(msg, "config.json") {
			t.Errorf("error %q does not name the docker config file", msg)
		}
		if b, err := os.ReadFile(u.dockerConfigPath()); err != nil || string(b) != broken {
			t.Errorf("setup changed a config.json it could not parse: %q, %v", b, err)
		}
		onlyConfigJSON(t, u)
	})
}

// TestDockerGetNoLogin checks what docker sees for a configured registry
// when there is no usable login and no terminal (docker captures the
// helper's stdio): get fails at once with one line that says which
// oidc-auth login to run (without backticks, which the tools add around
// it), the same line on stderr, starts no login, and is not docker's
// not-found (which would make docker go on anonymously and hide the
// cause).
func TestDockerGetNoLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare leaves the user without a usable token.
		prepare func(u *dockerUser, srv *pyauthserver.Server)
	}{
		{"never logged in", func(*dockerUser, *pyauthserver.Server) {}},
		{"refresh rejected", func(u *dockerUser, srv *pyauthserver.Server) {
			u.login(srv)
			srv.RevokeRefreshTokens()
			u.expireStoredAccess(storeKey(u.t, srv))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{})
			u := newDockerUser(t)
			reg := loopbackHost(t)
			u.setupDocker(reg, srv.URL())
			tt.prepare(u, srv)
			devices := srv.Count(pyauthserver.RouteDevice)

			r := u.helper("get", reg)
			if r.code != 1 {
				t.Fatalf("get without a usable login: want exit 1\n%v", r)
			}
			line := strings.TrimSuffix(r.stdout, "\n")
			if !strings.HasSuffix(r.stdout, "\n") || strings.Contains(line, "\n") || !strings.Contains(line, "oidc-auth login "+srv.URL()) {
				t.Errorf("get without a usable login: stdout %q, want one line naming `oidc-auth login %s`", r.stdout, srv.URL())
			}
			for _, chain := range []string{"flows: ", "helper: ", "keyring: ", "error: error"} {
				if strings.Contains(line, chain) {
					t.Errorf("stdout line %q is a Go error chain (contains %q)", line, chain)
				}
			}
			// The tools quote the message in backticks themselves; regctl
			// shows only stderr.
			if strings.Contains(line, "`") || !strings.Contains(line, "run: oidc-auth login "+srv.URL()) {
				t.Errorf("stdout line %q, want `run: oidc-auth login %s` without backticks", line, srv.URL())
			}
			if want := "docker-credential-oidc: " + line + "\n"; r.stderr != want {
				t.Errorf("get without a usable login: stderr %q, want the same line %q", r.stderr, want)
			}
			checkDockerQuick(t, u, r, 2*time.Second)
			if n := srv.Count(pyauthserver.RouteDevice); n != devices {
				t.Errorf("the helper started %d logins without a terminal", n-devices)
			}

			_, err := client.Get(u.program(), reg)
			if err == nil || credentials.IsErrCredentialsNotFound(err) || !strings.Contains(err.Error(), "oidc-auth login") {
				t.Errorf("client.Get without a usable login: %v, want an error naming oidc-auth login", err)
			}
		})
	}
}

// checkDockerQuick fails the test when a helper run took longer than
// bound, after subtracting what a trivial run of the helper takes right
// now on a busy machine.
func checkDockerQuick(t *testing.T, u *dockerUser, r result, bound time.Duration) {
	t.Helper()
	if r.elapsed <= bound {
		return
	}
	base := u.helper("version", "").elapsed
	if r.elapsed-base > bound {
		t.Errorf("%s took %v (a trivial run takes %v now), want under %v", strings.Join(r.args, " "), r.elapsed, base, bound)
	}
}
