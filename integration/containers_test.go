package integration

// End-to-end tests of docker-credential-oidc with the tools that are not
// docker: skopeo (containers/image, as podman and buildah), run for real;
// go-containerregistry's crane and oras-go's credential stores (what oras
// and helm use), as libraries.
//
// containers/image ignores docker's credsStore: it asks the helpers of the
// top-level credential-helpers list of registries.conf, then (the
// reserved "containers-auth.json") its auth.json files and docker's
// config.json, where it honours credHelpers. So `setup docker` alone works
// for skopeo through docker's credHelpers, and `setup docker
// --creds-store` writes a registries.conf drop-in for it.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	dockerconfig "github.com/docker/cli/cli/config"
	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/crane"
	"github.com/google/go-containerregistry/pkg/name"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	orascreds "oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/oidc-auth/oidc-auth/integration/gitserver"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/integration/registry"
)

// containersDropIn is where `setup docker --creds-store` makes
// containers/image ask our helper.
func (u *dockerUser) containersDropIn() string {
	return filepath.Join(u.home, ".config", "containers", "registries.conf.d", "99-oidc-auth.conf")
}

// userRegistriesConf is the per-user registries.conf path of
// containers/image (under HOME, not XDG_CONFIG_HOME).
func (u *dockerUser) userRegistriesConf() string {
	return filepath.Join(u.home, ".config", "containers", "registries.conf")
}

// authFiles are the auth.json files containers/image writes and reads in
// the sandbox.
func (u *dockerUser) authFiles() []string {
	return []string{
		filepath.Join(u.runtimeDir, "containers", "auth.json"),
		filepath.Join(u.config, "containers", "auth.json"),
	}
}

// checkNoAuthFile fails the test when a containers/image auth.json holds
// any of secrets, as they are or base64-encoded in an "auth" field: the
// tools kept credentials outside our helper.
func checkNoAuthFile(t *testing.T, u *dockerUser, stage string, secrets ...string) {
	t.Helper()
	for _, path := range u.authFiles() {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		var file struct {
			Auths map[string]struct{ Auth string } `json:"auths"`
		}
		if err := json.Unmarshal(b, &file); err == nil {
			for _, a := range file.Auths {
				if d, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
					text += "\n" + string(d)
				}
			}
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s: %s holds a secret (%.8s…) that belongs to our helper", stage, path, s)
			}
		}
	}
}

// skopeo runs skopeo with args and stdin in the sandbox.
func (u *dockerUser) skopeo(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	bin, err := exec.LookPath("skopeo")
	if err != nil {
		skipWithout(t, "skopeo")
	}
	return u.exec(stdin, bin, nil, args...)
}

// skopeoInspect runs skopeo inspect of ref over plain http and returns the
// manifest digest it printed; ok is false when skopeo failed.
func (u *dockerUser) skopeoInspect(t *testing.T, ref string) (digest string, r result) {
	t.Helper()
	r = u.skopeo(t, "", "inspect", "--tls-verify=false", "--retry-times=0", "docker://"+ref)
	if r.code != 0 {
		return "", r
	}
	var out struct{ Digest string }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("skopeo inspect printed no JSON: %v\n%v", err, r)
	}
	return out.Digest, r
}

// authedRequests returns the requests since mark that carried credentials.
func authedRequests(reg *registry.Server, mark int) []registry.Request {
	var out []registry.Request
	for _, r := range reg.Requests()[mark:] {
		if r.HadAuth {
			out = append(out, r)
		}
	}
	return out
}

// checkTokenReached fails the test unless requests since mark reached reg
// with oauth2 and the token, and all of them succeeded.
func checkTokenReached(t *testing.T, reg *registry.Server, mark int, stage, token string) {
	t.Helper()
	authed := authedRequests(reg, mark)
	if len(authed) == 0 {
		t.Errorf("%s: no request to %s carried credentials", stage, reg.Host())
	}
	for _, r := range authed {
		if r.Username != "oauth2" || r.Password != token || r.Status >= 400 {
			t.Errorf("%s: %s %s with user %q, secret %.8s…, status %d; want oauth2, the stored token, success", stage, r.Method, r.Path, r.Username, r.Password, r.Status)
		}
	}
}

// realisticRegistriesConf is a person's own registries.conf, which hides
// the system's: setup must leave it exactly as it is.
const realisticRegistriesConf = `# Personal registries.conf, see containers-registries.conf(5).
unqualified-search-registries = ["docker.io"]   # short names

[[registry]]
prefix = "example.org/team"
location = "registry.example.org:5000/team"
insecure = true

[aliases]
"app" = "registry.example.org:5000/team/app"
`

// TestSkopeo drives the real skopeo (containers/image, which podman and
// buildah share) against a registry that takes only the auth server's
// valid tokens, and a plain one that takes a password:
//   - after `setup docker REG`, skopeo reads docker's credHelpers and
//     inspects REG with the token; no registries.conf is written;
//   - after `setup docker REG --creds-store`, which docker's credsStore
//     alone does not do for skopeo, it does so through the registries.conf
//     drop-in, with a person's own registries.conf or without one;
//     skopeo login keeps the plain registry's password in our store and
//     no copy of the token anywhere, and skopeo logout of what is not
//     stored exits 0 (skopeo 1.9 crashed when the helper said "not
//     found");
//   - the failure message shows the login command once, not in doubled
//     backticks;
//   - Docker Hub credentials stored as docker stores them are found by
//     skopeo, which asks for docker.io.
func TestSkopeo(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("skopeo"); err != nil {
		skipWithout(t, "skopeo")
	}
	srv := startServer(t, pyauthserver.Options{})
	// registries starts the registries of one subtest, whose request logs
	// are then its own: the token registry, and a plain one that takes a
	// password.
	registries := func(t *testing.T) (reg, plain *registry.Server, want, wantPlain string) {
		reg = registry.New(t, registry.Options{Check: func(username, password string) bool {
			return username == "oauth2" && srv.Valid(password)
		}})
		plain = registry.New(t, registry.Options{Check: func(username, password string) bool {
			return username == "alice" && password == "s3cret"
		}})
		return reg, plain, reg.Push(t, "team/app", "v1").String(), plain.Push(t, "lib/tool", "v2").String()
	}

	t.Run("credHelpers", func(t *testing.T) {
		t.Parallel()
		reg, _, want, _ := registries(t)
		u := newDockerUser(t)
		u.setupDocker(reg.Host(), srv.URL())
		u.login(srv)
		access := u.accessToken(srv)
		mark := len(reg.Requests())
		got, r := u.skopeoInspect(t, reg.Ref("team/app", "v1"))
		if got != want {
			t.Fatalf("skopeo inspect after setup docker: digest %q, want %s\n%v", got, want, r)
		}
		checkTokenReached(t, reg, mark, "skopeo inspect", access)
		if _, err := os.Stat(filepath.Dir(u.containersDropIn())); err == nil {
			t.Errorf("setup docker without --creds-store wrote %s", filepath.Dir(u.containersDropIn()))
		}
		r = u.skopeo(t, "", "logout", reg.Host())
		if r.code != 0 {
			t.Errorf("skopeo logout of a configured registry with nothing stored: want exit 0\n%v", r)
		}
		if _, ok := u.readStore()[storeKey(t, srv)]; !ok {
			t.Errorf("skopeo logout cost the login")
		}
		checkNoAuthFile(t, u, "credHelpers", access)
	})

	for _, own := range []bool{false, true} {
		name := "credsStore"
		if own {
			name += " with a registries.conf of ones own"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			reg, plain, want, wantPlain := registries(t)
			u := newDockerUser(t)
			if own {
				if err := os.MkdirAll(filepath.Dir(u.userRegistriesConf()), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(u.userRegistriesConf(), []byte(realisticRegistriesConf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			u.setupDocker(reg.Host(), srv.URL(), "--creds-store")
			b, err := os.ReadFile(u.containersDropIn())
			if err != nil {
				t.Fatalf("setup docker --creds-store wrote no registries.conf drop-in: %v", err)
			}
			if !strings.Contains(string(b), "credential-helpers = ['oidc', 'containers-auth.json']") {
				t.Errorf("drop-in %s:\n%s\nwant credential-helpers oidc, containers-auth.json", u.containersDropIn(), b)
			}

			// No login yet: skopeo shows our line once, not in doubled
			// backticks.
			_, r := u.skopeoInspect(t, reg.Ref("team/app", "v1"))
			if r.code == 0 {
				t.Fatalf("skopeo inspect without a login succeeded\n%v", r)
			}
			if !strings.Contains(r.stderr, "run: oidc-auth login "+srv.URL()) || strings.Contains(r.stderr, "``") {
				t.Errorf("skopeo inspect without a login: stderr %q, want our line with `run: oidc-auth login %s` and no doubled backticks", r.stderr, srv.URL())
			}

			u.login(srv)
			access := u.accessToken(srv)
			mark := len(reg.Requests())
			got, r := u.skopeoInspect(t, reg.Ref("team/app", "v1"))
			if got != want {
				t.Fatalf("skopeo inspect after setup docker --creds-store: digest %q, want %s\n%v", got, want, r)
			}
			checkTokenReached(t, reg, mark, "skopeo inspect", access)

			// The plain registry: skopeo login stores the password through
			// our helper, which hands it back.
			r = u.skopeo(t, "s3cret\n", "login", "--tls-verify=false", "-u", "alice", "--password-stdin", plain.Host())
			if r.code != 0 {
				t.Fatalf("skopeo login of the plain registry: want exit 0\n%v", r)
			}
			if e, ok := u.readStore()["docker://"+plain.Host()]; !ok || e.Token.AccessToken != "s3cret" {
				t.Errorf("skopeo login did not store the password with our helper: %v", slices.Sorted(maps.Keys(u.readStore())))
			}
			if got, r := u.skopeoInspect(t, plain.Ref("lib/tool", "v2")); got != wantPlain {
				t.Errorf("skopeo inspect of the plain registry: %q, want %s\n%v", got, wantPlain, r)
			}
			for _, r := range authedRequests(plain, 0) {
				if strings.Contains(r.Password, access) {
					t.Errorf("the plain registry got the token: %s %s", r.Method, r.Path)
				}
			}

			// The scripted login to the token registry keeps no copy.
			r = u.skopeo(t, access+"\n", "login", "--tls-verify=false", "-u", "oauth2", "--password-stdin", reg.Host())
			if r.code != 0 {
				t.Fatalf("skopeo login of the token registry: want exit 0\n%v", r)
			}
			if keys := slices.Sorted(maps.Keys(u.readStore())); !slices.Equal(keys, []string{"docker://" + plain.Host(), storeKey(t, srv)}) {
				t.Errorf("store keys after skopeo login %v, want only the plain registry's and the login", keys)
			}
			checkNoAuthFile(t, u, "after skopeo login", access, "s3cret")

			// Logout, and logout of what is not stored, both succeed.
			for i := range 2 {
				r = u.skopeo(t, "", "logout", plain.Host())
				if r.code != 0 {
					t.Errorf("skopeo logout #%d of the plain registry: want exit 0\n%v", i+1, r)
				}
			}
			if _, ok := u.readStore()["docker://"+plain.Host()]; ok {
				t.Errorf("skopeo logout left the plain registry's password in our store")
			}
			r = u.skopeo(t, "", "logout", reg.Host())
			if r.code != 0 {
				t.Errorf("skopeo logout of the token registry: want exit 0\n%v", r)
			}
			if _, ok := u.readStore()[storeKey(t, srv)]; !ok {
				t.Errorf("skopeo logout cost the login")
			}

			// Docker Hub: docker stores under its server URL, skopeo asks
			// for docker.io (no network: --get-login reads the helper).
			mustSucceed(t, u.helper("store", `{"ServerURL":"https://index.docker.io/v1/","Username":"hubuser","Secret":"hub-s3cret"}`))
			u.learn("hub-s3cret")
			r = u.skopeo(t, "", "login", "--get-login", "docker.io")
			if r.code != 0 || strings.TrimSpace(r.stdout) != "hubuser" {
				t.Errorf("skopeo login --get-login docker.io: want hubuser\n%v", r)
			}

			if own {
				if b, err := os.ReadFile(u.userRegistriesConf()); err != nil || string(b) != realisticRegistriesConf {
					t.Errorf("setup changed %s (%v):\n%s", u.userRegistriesConf(), err, b)
				}
			}
			u.setupDocker(reg.Host(), srv.URL(), "--creds-store", "--unset")
			if _, err := os.Stat(u.containersDropIn()); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("setup --creds-store --unset left %s (%v)", u.containersDropIn(), err)
			}
			if _, r := u.skopeoInspect(t, reg.Ref("team/app", "v1")); r.code == 0 {
				t.Errorf("skopeo inspect after --unset still got the token\n%v", r)
			}
			if own {
				if b, err := os.ReadFile(u.userRegistriesConf()); err != nil || string(b) != realisticRegistriesConf {
					t.Errorf("--unset changed %s (%v):\n%s", u.userRegistriesConf(), err, b)
				}
			} else if _, err := os.Stat(u.userRegistriesConf()); err == nil {
				t.Errorf("setup created %s, which hides /etc/containers/registries.conf", u.userRegistriesConf())
			}
		})
	}
}

// fakeSecretService puts a docker-credential-secretservice first on PATH
// that fails as the real one does without a D-Bus session; oras-go (and
// so helm) picks it when a config file names no helper.
func fakeSecretService(t *testing.T, u *dockerUser) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake helper is a shell script")
	}
	dir := filepath.Join(u.dir, "fakebin")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\necho 'Cannot autolaunch D-Bus without X11 $DISPLAY'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "docker-credential-secretservice"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	u.sandbox.env = append(u.sandbox.env, "PATH="+binDir+string(os.PathListSeparator)+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// helmStore builds the credential store helm's registry client builds
// (helm.sh/helm/v3 pkg/registry NewClient): helm's registry config with
// oras-go's detection of the platform's helper, falling back to docker's
// config.
func helmStore(t *testing.T, path string) orascreds.Store {
	t.Helper()
	opts := orascreds.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true}
	store, err := orascreds.NewStore(path, opts)
	if err != nil {
		t.Fatalf("helm's store: %v", err)
	}
	docker, err := orascreds.NewStoreFromDocker(opts)
	if err != nil {
		return store
	}
	return orascreds.NewStoreWithFallbacks(store, docker)
}

// orasResolve resolves ref's tag with oras-go over plain http, with
// credentials from store, and returns the manifest digest.
func orasResolve(t *testing.T, store orascreds.Store, repo, tag string) (string, error) {
	t.Helper()
	r, err := remote.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	r.PlainHTTP = true
	r.Client = &auth.Client{Client: &http.Client{Timeout: runTimeout}, Credential: orascreds.Credential(store)}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	desc, err := r.Resolve(ctx, tag)
	return desc.Digest.String(), err
}

// TestHelmOras checks helm's and oras's credential stores (oras-go) with
// our helper on PATH: helm asks the machine's
// docker-credential-secretservice, which fails without D-Bus, and stops
// there, docker's setup notwithstanding, until `setup helm` gives it a
// credHelpers entry in its own registry config; then helm pulls with the
// token. oras (docker's config, with our helper as credsStore) keeps and
// erases plain credentials, erasing what is not stored succeeds, and
// Docker Hub credentials stored under docker.io are found by the name
// oras asks for.
//
// Not parallel: oras-go reads DOCKER_CONFIG and HOME of the test process,
// and the helpers it runs inherit its environment.
func TestHelmOras(t *testing.T) {
	srv := startServer(t, pyauthserver.Options{})
	reg := registry.New(t, registry.Options{Check: func(username, password string) bool {
		return username == "oauth2" && srv.Valid(password)
	}})
	want := reg.Push(t, "charts/app", "1.0.0")
	u := newDockerUser(t)
	fakeSecretService(t, u)
	u.setupDocker(reg.Host(), srv.URL())
	u.login(srv)
	access := u.accessToken(srv)
	becomeUser(t, u)
	ctx := context.Background()
	helmConfig := filepath.Join(u.config, "helm", "registry", "config.json")

	// Before setup helm: the platform's helper answers, and fails.
	if _, err := helmStore(t, helmConfig).Get(ctx, reg.Host()); err == nil || !strings.Contains(err.Error(), "D-Bus") {
		t.Errorf("helm's store before setup helm: %v, want the fake secretservice's failure (is it on PATH?)", err)
	}

	mustSucceed(t, u.run("setup", "helm", reg.Host(), "--host", srv.URL()))
	cfg := readJSONObject(t, helmConfig)
	if want := map[string]any{"credHelpers": map[string]any{reg.Host(): dockerHelperName}}; !maps.EqualFunc(cfg, want, func(a, b any) bool { return jsonEqual(a, b) }) {
		t.Errorf("helm's registry config %s = %v, want %v", helmConfig, cfg, want)
	}
	store := helmStore(t, helmConfig)
	cred, err := store.Get(ctx, reg.Host())
	if err != nil || cred.Username != "oauth2" || cred.Password != access {
		t.Fatalf("helm's store after setup helm: %q, %.8s…, %v; want oauth2 and the token", cred.Username, cred.Password, err)
	}
	mark := len(reg.Requests())
	got, err := orasResolve(t, store, reg.Host()+"/charts/app", "1.0.0")
	if err != nil || got != want.String() {
		t.Fatalf("helm's pull: %s, %v; want %s", got, err, want)
	}
	checkTokenReached(t, reg, mark, "helm's pull", access)

	// helm registry logout of the token registry: nothing to erase, success,
	// and the login stays.
	if err := orascreds.Logout(ctx, store, reg.Host()); err != nil {
		t.Errorf("helm's logout: %v", err)
	}
	if _, ok := u.readStore()[storeKey(t, srv)]; !ok {
		t.Errorf("helm's logout cost the login")
	}

	// oras with our helper as docker's credsStore.
	u.setupDocker(reg.Host(), srv.URL(), "--creds-store")
	oras, err := orascreds.NewStoreFromDocker(orascreds.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true})
	if err != nil {
		t.Fatal(err)
	}
	const other = "registry.example.org"
	if err := oras.Put(ctx, other, auth.Credential{Username: "alice", Password: "s3cret"}); err != nil {
		t.Fatalf("oras login: %v", err)
	}
	u.learn("s3cret")
	if c, err := oras.Get(ctx, other); err != nil || c.Username != "alice" || c.Password != "s3cret" {
		t.Errorf("oras get after login: %q, %v", c.Username, err)
	}
	for i := range 2 {
		if err := orascreds.Logout(ctx, oras, other); err != nil {
			t.Errorf("oras logout #%d: %v, want nil (erasing nothing succeeds)", i+1, err)
		}
	}
	if c, err := oras.Get(ctx, other); err != nil || c != auth.EmptyCredential {
		t.Errorf("oras get after logout: %q, %v; want nothing", c.Username, err)
	}

	// Docker Hub, stored by skopeo's name, asked for by oras's.
	mustSucceed(t, u.helper("store", `{"ServerURL":"docker.io","Username":"hubuser","Secret":"hub-s3cret"}`))
	u.learn("hub-s3cret")
	if c, err := oras.Get(ctx, orascreds.ServerAddressFromRegistry("docker.io")); err != nil || c.Username != "hubuser" || c.Password != "hub-s3cret" {
		t.Errorf("oras get of Docker Hub: %q, %v; want hubuser", c.Username, err)
	}
	if err := orascreds.Logout(ctx, oras, "docker.io"); err != nil {
		t.Errorf("oras logout of Docker Hub: %v", err)
	}
	checkNotFound(t, u.program(), "docker.io")

	// setup helm --unset takes back its entry; the [[server]] entry stays
	// while docker still asks oidc-auth for the registry.
	r := u.run("setup", "helm", reg.Host(), "--unset")
	mustSucceed(t, r)
	if cfg := readJSONObject(t, helmConfig); len(cfg) != 0 {
		t.Errorf("helm's registry config after --unset = %v, want empty", cfg)
	}
	if got := u.configEntries(); len(got) != 1 {
		t.Errorf("config entries after setup helm --unset: %q, want the one docker still uses", got)
	}
}

// jsonEqual compares decoded JSON values.
func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// TestCrane checks go-containerregistry's crane (the library, with the
// default keychain, as the crane CLI) with our helper on PATH: crane
// digest gets the token, Docker Hub entries answer under the name crane
// asks for, and crane auth logout of what is not stored succeeds.
//
// Not parallel: the default keychain reads HOME, DOCKER_CONFIG and PATH of
// the test process, and the helpers it runs inherit its environment.
func TestCrane(t *testing.T) {
	srv := startServer(t, pyauthserver.Options{})
	reg := registry.New(t, registry.Options{Check: func(username, password string) bool {
		return username == "oauth2" && srv.Valid(password)
	}})
	want := reg.Push(t, "team/app", "v1")
	u := newDockerUser(t)
	u.setupDocker(reg.Host(), srv.URL(), "--creds-store")
	// Docker Hub by containers/image's name; crane asks for index.docker.io.
	mustSucceed(t, u.run("setup", "docker", "docker.io", "--host", srv.URL()))
	u.login(srv)
	access := u.accessToken(srv)
	becomeUser(t, u)

	mark := len(reg.Requests())
	got, err := crane.Digest(reg.Ref("team/app", "v1"), crane.WithAuthFromKeychain(authn.DefaultKeychain), crane.Insecure)
	if err != nil || got != want.String() {
		t.Fatalf("crane digest: %s, %v; want %s", got, err, want)
	}
	checkTokenReached(t, reg, mark, "crane digest", access)

	for _, ref := range []string{"ubuntu", "docker.io/library/ubuntu", "index.docker.io/library/ubuntu"} {
		r, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		a, err := authn.DefaultKeychain.Resolve(r.Context())
		if err != nil {
			t.Fatalf("keychain for %s: %v", ref, err)
		}
		c, err := a.Authorization()
		if err != nil || c.Username != "oauth2" || c.Password != access {
			t.Errorf("keychain for %s: %q, %.8s…, %v; want oauth2 and the token", ref, c.Username, c.Password, err)
		}
	}

	// crane auth logout (cmd/crane/cmd/auth.go) of a registry with nothing
	// stored, and of the configured one.
	for _, server := range []string{"registry.example.org", reg.Host()} {
		if err := craneLogout(server); err != nil {
			t.Errorf("crane auth logout %s: %v, want nil", server, err)
		}
	}
	if _, ok := u.readStore()[storeKey(t, srv)]; !ok {
		t.Errorf("crane auth logout cost the login")
	}
}

// craneLogout does what `crane auth logout SERVER` does.
func craneLogout(server string) error {
	reg, err := name.NewRegistry(server)
	if err != nil {
		return err
	}
	serverAddress := reg.Name()
	cf, err := dockerconfig.Load(os.Getenv("DOCKER_CONFIG"))
	if err != nil {
		return err
	}
	creds := cf.GetCredentialsStore(serverAddress)
	if serverAddress == name.DefaultRegistry {
		serverAddress = authn.DefaultAuthKey
	}
	if err := creds.Erase(serverAddress); err != nil {
		return err
	}
	return cf.Save()
}

// TestDockerListAnswersGet checks, through the docker-credential-helpers
// client (what docker and regctl call), that list names every registry
// get answers, and get answers every registry list names: config entries
// written as https:// URLs, a login to a server on a registry's own host
// (which answers for that host with no config), plain credentials, Docker
// Hub under docker's server URL; never a token.
func TestDockerListAnswersGet(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	// A server with no path prefix: a login to it answers for its host.
	hostSrv := startServer(t, pyauthserver.Options{Prefix: "/"})
	u := newDockerUser(t)
	named, loop := "registry.example.org", loopbackHost(t)
	u.writeServers([]string{"https://" + named + "/", srv.URL()}, []string{"http://" + loop, srv.URL(), "robot"}, []string{"https://git.example.org/team/", srv.URL()})
	u.login(srv)
	u.login(hostSrv)
	access, hostAccess := u.accessToken(srv), u.accessToken(hostSrv)
	prog := u.program()
	for _, c := range []credentials.Credentials{
		{ServerURL: "plain.example.org", Username: "alice", Secret: "pl4in-s3cret"},
		{ServerURL: "docker.io", Username: "hubuser", Secret: "hub-s3cret"},
	} {
		if err := client.Store(prog, &c); err != nil {
			t.Fatalf("store %s: %v", c.ServerURL, err)
		}
	}
	u.learn("pl4in-s3cret", "hub-s3cret")

	list, err := client.List(prog)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	want := map[string]string{
		named:                         "oauth2",
		loop:                          "robot",
		hostSrv.URL():                 "oauth2",
		"plain.example.org":           "alice",
		"https://index.docker.io/v1/": "hubuser",
	}
	if !maps.Equal(list, want) {
		t.Errorf("list = %v, want %v", list, want)
	}
	secrets := map[string]string{named: access, loop: access, hostSrv.URL(): hostAccess, "plain.example.org": "pl4in-s3cret", "https://index.docker.io/v1/": "hub-s3cret"}
	for server, user := range list {
		for _, s := range []string{access, hostAccess, "pl4in-s3cret", "hub-s3cret"} {
			if strings.Contains(server+user, s) {
				t.Errorf("list entry %q: %q holds a secret", server, user)
			}
		}
		checkGet(t, prog, server, user, secrets[server])
	}
	checkNotFound(t, prog, "git.example.org")
}

// TestHelmSetup checks `oidc-auth setup helm`: the registry config where
// helm looks for it ($HELM_REGISTRY_CONFIG, else under $XDG_CONFIG_HOME),
// every other field kept, Docker Hub under each of its keys, and --unset
// taking back only its own entries and keeping the [[server]] entry while
// docker still asks oidc-auth for the registry.
func TestHelmSetup(t *testing.T) {
	t.Parallel()
	host := "https://auth.example.org/api/app"
	const existing = `{"auths": {"ghcr.io": {"auth": "dXNlcjpwdw=="}}, "credHelpers": {"gcr.io": "gcloud"}, "x-future": [1, {"a": null}]}`

	t.Run("default path", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		reg := loopbackHost(t)
		path := filepath.Join(u.config, "helm", "registry", "config.json")
		mustSucceed(t, u.run("setup", "helm", reg, "--host", host))
		got := readJSONObject(t, path)
		if want := map[string]any{"credHelpers": map[string]any{reg: dockerHelperName}}; !jsonEqual(got, want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
		if got, want := u.configEntries(), []string{reg + " → " + host}; !slices.Equal(got, want) {
			t.Errorf("helpers' config: %q, want %q", got, want)
		}
		mustSucceed(t, u.run("setup", "helm", reg, "--unset"))
		if got := readJSONObject(t, path); len(got) != 0 {
			t.Errorf("%s after --unset = %v, want empty", path, got)
		}
		if got := u.configEntries(); len(got) != 0 {
			t.Errorf("helpers' config after --unset: %q, want none", got)
		}
	})

	t.Run("HELM_REGISTRY_CONFIG keeps the rest", func(t *testing.T) {
		t.Parallel()
		u := newDockerUser(t)
		path := filepath.Join(u.dir, "helm-registry.json")
		if err := os.WriteFile(path, []byte(existing), 0o600); err != nil {
			t.Fatal(err)
		}
		env := []string{"HELM_REGISTRY_CONFIG=" + path}
		mustSucceed(t, u.runEnv(env, "setup", "helm", "Docker.IO", "--host", host))
		want := decodeJSON(t, "fixture", []byte(existing)).(map[string]any)
		helpers := want["credHelpers"].(map[string]any)
		for _, k := range []string{"https://index.docker.io/v1/", "docker.io", "index.docker.io", "registry-1.docker.io"} {
			helpers[k] = dockerHelperName
		}
		if got := readJSONObject(t, path); !jsonEqual(got, want) {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
		if _, err := os.Stat(filepath.Join(u.config, "helm")); err == nil {
			t.Errorf("setup helm wrote under $XDG_CONFIG_HOME/helm despite HELM_REGISTRY_CONFIG")
		}
		// docker asks for the registry too: --unset keeps its entry.
		u.setupDocker("docker.io", host)
		r := u.runEnv(env, "setup", "helm", "docker.io", "--unset")
		mustSucceed(t, r)
		if !strings.Contains(r.stderr, "docker still asks oidc-auth") {
			t.Errorf("setup helm --unset while docker asks: stderr %q, want a note that the entry is kept", r.stderr)
		}
		if got := readJSONObject(t, path); !jsonEqual(got, decodeJSON(t, "fixture", []byte(existing))) {
			t.Errorf("%s after --unset = %v, want the file as it was", path, got)
		}
		if got := u.configEntries(); len(got) != 1 {
			t.Errorf("helpers' config after setup helm --unset: %q, want docker's entry kept", got)
		}
		// And the other way round.
		mustSucceed(t, u.runEnv(env, "setup", "helm", "docker.io", "--host", host))
		r = u.runEnv(env, "setup", "docker", "docker.io", "--unset")
		mustSucceed(t, r)
		if !strings.Contains(r.stderr, "helm still asks oidc-auth") || len(u.configEntries()) != 1 {
			t.Errorf("setup docker --unset while helm asks: stderr %q, entries %q; want the entry kept", r.stderr, u.configEntries())
		}
	})
}

// requireToolsEnv, set by scripts/test, makes a missing client program a
// failure instead of a skip: there the program was installed on purpose.
const requireToolsEnv = gitserver.RequireToolsVariable

// skipWithout skips a test that needs the program name, which is not
// installed, or fails it when requireToolsEnv says it must be there.
func skipWithout(t *testing.T, name string) {
	t.Helper()
	if os.Getenv(requireToolsEnv) != "" {
		t.Fatalf("no %s on PATH, but %s is set (apt-get install %s)", name, requireToolsEnv, name)
	}
	t.Skipf("no %s on PATH (apt-get install %s)", name, name)
}

// lookTool returns the path of the program name on PATH. Without one it
// skips t, saying that why needs it, or fails t when requireToolsEnv says
// it must be there.
func lookTool(t *testing.T, name, why string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv(requireToolsEnv) != "" {
		t.Fatalf("no %s on PATH, but %s is set: %s", name, requireToolsEnv, why)
	}
	t.Skipf("no %s on PATH: %s", name, why)
	return ""
}
