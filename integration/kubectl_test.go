package integration

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/oidc-auth/oidc-auth/integration/oidcop"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// kubeAPI is a Kubernetes API server for tests: it lists one pod in the
// default namespace to a request whose bearer token live accepts, and
// answers 401 to any other. It speaks HTTPS, since clientcmd hands a
// kubeconfig's credentials to TLS servers only.
type kubeAPI struct {
	*httptest.Server
	mu       sync.Mutex
	accepted []string // the tokens it accepted, in order
	rejected int
}

// podName is the one pod kubeAPI lists.
const podName = "analysis-0"

func startKubeAPI(t *testing.T, live func(token string) bool) *kubeAPI {
	t.Helper()
	api := &kubeAPI{}
	api.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || !live(token) {
			api.mu.Lock()
			api.rejected++
			api.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
			return
		}
		api.mu.Lock()
		api.accepted = append(api.accepted, token)
		api.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/namespaces/default/pods" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[{"metadata":{"name":%q,"namespace":"default"}}]}`, podName)
	}))
	t.Cleanup(api.Close)
	return api
}

// caPEM is the PEM of the server's certificate, for a client to trust.
func (api *kubeAPI) caPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: api.Certificate().Raw})
}

// counts returns how many requests it accepted and rejected.
func (api *kubeAPI) counts() (int, int) {
	api.mu.Lock()
	defer api.mu.Unlock()
	return len(api.accepted), api.rejected
}

// lastToken is the token of the last accepted request.
func (api *kubeAPI) lastToken() string {
	api.mu.Lock()
	defer api.mu.Unlock()
	if len(api.accepted) == 0 {
		return ""
	}
	return api.accepted[len(api.accepted)-1]
}

// execConfig is the exec block that runs the built oidc-auth in the
// sandbox. client-go starts the plugin with its own environment plus Env,
// so Env points HOME, the XDG directories and the store at the sandbox.
func (s *sandbox) execConfig(args ...string) *clientcmdapi.ExecConfig {
	return &clientcmdapi.ExecConfig{
		APIVersion: "client.authentication.k8s.io/v1",
		Command:    oidcAuthBin,
		Args:       append([]string{"kubectl"}, args...),
		Env: []clientcmdapi.ExecEnvVar{
			{Name: "HOME", Value: s.home},
			{Name: "XDG_CACHE_HOME", Value: s.cache},
			{Name: "XDG_CONFIG_HOME", Value: s.config},
			{Name: "OIDC_AUTH_STORE", Value: "file"},
			{Name: "OIDC_AUTH_CONFIG", Value: filepath.Join(s.config, "oidc-auth", "config.toml")},
		},
		InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
	}
}

// listPods lists the default namespace's pods through client-go, with
// the credential of exec.
func listPods(t *testing.T, api *kubeAPI, exec *clientcmdapi.ExecConfig) ([]string, error) {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: api.URL, ExecProvider: exec, Timeout: runTimeout, TLSClientConfig: rest.TLSClientConfig{CAData: api.caPEM()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range pods.Items {
		names = append(names, p.Name)
	}
	return names, nil
}

// runKubectlPlugin runs the plugin of exec once, as a test's own process,
// not through client-go, which keeps the credential it gets for the rest
// of the test binary's life.
func (s *sandbox) runKubectlPlugin(exec *clientcmdapi.ExecConfig) result {
	s.t.Helper()
	r, err := s.execute(runTimeout, s.dir, "", s.environ(), exec.Command, exec.Args...)
	if err != nil || r.code != 0 {
		s.t.Fatalf("%v: %v", err, r)
	}
	return r
}

// execCredential is what oidc-auth kubectl prints.
type execCredential struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Status     struct {
		Token               string `json:"token"`
		ExpirationTimestamp string `json:"expirationTimestamp"`
	} `json:"status"`
}

// parseCredential decodes the ExecCredential r printed and teaches the
// sandbox its token.
func (s *sandbox) parseCredential(r result) execCredential {
	s.t.Helper()
	mustSucceed(s.t, r)
	var ec execCredential
	if err := json.Unmarshal([]byte(r.stdout), &ec); err != nil {
		s.t.Fatalf("stdout is not an ExecCredential: %v\n%v", err, r)
	}
	s.learn(ec.Status.Token)
	if ec.Kind != "ExecCredential" || ec.Status.Token == "" {
		s.t.Fatalf("ExecCredential %+v lacks kind or token", ec)
	}
	return ec
}

// TestKubeClientGoPyAuthServer runs the built oidc-auth as client-go's exec
// credential plugin against an API server that accepts only the
// py-oidc-auth server's live access tokens.
func TestKubeClientGoPyAuthServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	api := startKubeAPI(t, srv.Valid)

	before := requestCounts(srv)
	names, err := listPods(t, api, s.execConfig(srv.URL()))
	if err != nil {
		t.Fatalf("client-go: %v", err)
	}
	if len(names) != 1 || names[0] != podName {
		t.Errorf("pods %v, want [%s]", names, podName)
	}
	if got := api.lastToken(); got != e.Token.AccessToken {
		t.Errorf("the API server got another token than the stored access token")
	}
	if after := requestCounts(srv); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the plugin talked to the auth server with a valid stored token: %v, then %v", before, after)
	}

	// kubectl runs the plugin for every command: a second run, as it
	// starts it (KUBERNETES_EXEC_INFO), reads the store and nothing else.
	for _, version := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		info := `{"kind":"ExecCredential","apiVersion":"` + version + `","spec":{"interactive":false}}`
		r := s.runEnv([]string{"KUBERNETES_EXEC_INFO=" + info}, "kubectl", srv.URL())
		ec := s.parseCredential(r)
		if ec.APIVersion != version {
			t.Errorf("apiVersion %q, want %q", ec.APIVersion, version)
		}
		if ec.Status.Token != e.Token.AccessToken {
			t.Errorf("the credential is not the stored access token")
		}
		exp, err := time.Parse(time.RFC3339, ec.Status.ExpirationTimestamp)
		if err != nil || !strings.HasSuffix(ec.Status.ExpirationTimestamp, "Z") {
			t.Errorf("expirationTimestamp %q is not RFC 3339 UTC: %v", ec.Status.ExpirationTimestamp, err)
		}
		if want := unixNumber(t, "expires", e.Token.Expires); exp.Unix() != want {
			t.Errorf("expirationTimestamp %v, want the access token's expiry %v", exp, time.Unix(want, 0))
		}
		checkQuick(t, s, r, time.Second)
	}
	if after := requestCounts(srv); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the cached path made requests: %v, then %v", before, after)
	}

	// An apiVersion oidc-auth does not speak: a clear line, no credential.
	r := s.runEnv([]string{`KUBERNETES_EXEC_INFO={"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v2","spec":{}}`}, "kubectl", srv.URL())
	if msg := onlyLine(t, r, 1); !strings.Contains(msg, `"client.authentication.k8s.io/v2"`) || !strings.Contains(msg, "client.authentication.k8s.io/v1") {
		t.Errorf("the error does not name the asked and the spoken version: %q", msg)
	}

	// The access token has expired: the plugin refreshes it, once.
	srv.ExpireAccessTokens()
	expireStored(t, s, storeKey(t, srv))
	r = s.run("kubectl", srv.URL())
	ec := s.parseCredential(r)
	if !srv.Valid(ec.Status.Token) || ec.Status.Token == e.Token.AccessToken {
		t.Errorf("after expiry the plugin handed out a token the server does not take")
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
}

// expireStored makes the stored access token of key expired an hour ago,
// as if the person came back after lunch.
func expireStored(t *testing.T, s *sandbox, key string) {
	t.Helper()
	var doc map[string]map[string]any
	if err := json.Unmarshal(s.storeBytes(), &doc); err != nil {
		t.Fatal(err)
	}
	doc[key]["token"].(map[string]any)["expires"] = time.Now().Add(-time.Hour).Unix()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.storePath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKubeNoLogin checks what kubectl shows without a login and without a
// terminal: the plugin fails with the one line that names the login to
// run. client-go passes the plugin's stderr to its own (it is not part of
// the error), so this test, which swaps os.Stderr to read it, does not run
// in parallel.
func TestKubeNoLogin(t *testing.T) {
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	api := startKubeAPI(t, srv.Valid)

	rd, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	saved := os.Stderr
	os.Stderr = wr // client-go's exec authenticator takes os.Stderr when it is made
	var captured bytes.Buffer
	done := make(chan struct{})
	go func() { io.Copy(&captured, rd); close(done) }()
	exec := s.execConfig(srv.URL())
	exec.InteractiveMode = clientcmdapi.NeverExecInteractiveMode
	_, lerr := listPods(t, api, exec)
	os.Stderr = saved
	wr.Close()
	<-done
	s.mu.Lock()
	s.stderrs = append(s.stderrs, captured.String())
	s.mu.Unlock()

	if lerr == nil {
		t.Fatal("client-go listed pods without any login")
	}
	if !strings.Contains(lerr.Error(), "exit code 1") {
		t.Errorf("client-go's error %q does not say the plugin exited 1", lerr)
	}
	want := "oidc-auth: no valid login for " + srv.URL() + " (not logged in; kubectl gave it no terminal, as interactiveMode is Never or stdin is no terminal); run `oidc-auth login " + srv.URL() + "`\n"
	if captured.String() != want {
		t.Errorf("the plugin's stderr is\n%q\nwant\n%q", captured.String(), want)
	}
	if n := sum(requestCounts(srv)); n != 0 {
		t.Errorf("the plugin made %d requests to the auth server without a login", n)
	}
	if ok, _ := api.counts(); ok != 0 {
		t.Errorf("the API server accepted %d requests", ok)
	}
}

// issuerKubeAPI starts an API server that accepts only ID tokens that
// verify against op (as Kubernetes' OIDC authenticator does), and returns
// it with its verifier and the ID token of s's login to op.
func issuerKubeAPI(t *testing.T, s *sandbox, op *oidcop.Provider) (*kubeAPI, *oidc.IDTokenVerifier, string) {
	t.Helper()
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, op.Issuer())
	if err != nil {
		t.Fatal(err)
	}
	verifier := provider.Verifier(&oidc.Config{ClientID: oidcop.PublicClientID})
	api := startKubeAPI(t, func(token string) bool {
		_, err := verifier.Verify(ctx, token)
		return err == nil
	})
	idToken := storedIDToken(t, s, issuerKey(op))
	s.learn(idToken)
	return api, verifier, idToken
}

// TestKubeClientGoIssuer runs the plugin for a standard provider: the API
// server accepts only ID tokens that verify against the provider (as
// Kubernetes' OIDC authenticator does), and an ID token whose own exp has
// passed is renewed by a refresh even while the access token is valid.
func TestKubeClientGoIssuer(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	e := s.issuerLogin(op)
	api, verifier, idToken := issuerKubeAPI(t, s, op)
	ctx := context.Background()

	// The API server's own verifier fetches the keys (jwks); the plugin
	// makes no request at all.
	pluginCounts := func() string {
		c := op.Counts()
		delete(c, "jwks")
		return fmt.Sprint(c)
	}
	before := pluginCounts()
	names, err := listPods(t, api, s.execConfig(issuerArgs(op)...))
	if err != nil {
		t.Fatalf("client-go: %v", err)
	}
	if len(names) != 1 || names[0] != podName {
		t.Errorf("pods %v, want [%s]", names, podName)
	}
	if api.lastToken() != idToken {
		t.Errorf("the API server did not get the stored ID token")
	}
	if after := pluginCounts(); after != before {
		t.Errorf("the cached path made requests: %s, then %s", before, after)
	}

	// --access-token hands out the access token, with its expiry.
	ec := s.parseCredential(s.run(append(append([]string{"kubectl"}, issuerArgs(op)...), "--access-token")...))
	if ec.Status.Token != e.Token.AccessToken {
		t.Errorf("--access-token did not hand out the stored access token")
	}

	// The ID token expired, the access token did not: a refresh brings a
	// new ID token, which the API server accepts.
	expired := unsignedJWT(t, time.Now().Add(-time.Minute))
	setStoredIDToken(t, s, issuerKey(op), expired)
	ec = s.parseCredential(s.run(append([]string{"kubectl"}, issuerArgs(op)...)...))
	if n := op.Counts()["token:refresh_token"]; n != 1 {
		t.Errorf("%d refreshes for an expired ID token, want 1 (%v)", n, op.Counts())
	}
	if ec.Status.Token == expired || ec.Status.Token == idToken {
		t.Fatalf("the plugin handed out an old ID token")
	}
	if _, err := verifier.Verify(ctx, ec.Status.Token); err != nil {
		t.Errorf("the refreshed ID token does not verify: %v", err)
	}
	exp, err := time.Parse(time.RFC3339, ec.Status.ExpirationTimestamp)
	if err != nil || exp.Before(time.Now()) {
		t.Errorf("expirationTimestamp %q is not a time to come", ec.Status.ExpirationTimestamp)
	}
	if got := storedIDToken(t, s, issuerKey(op)); got != ec.Status.Token {
		t.Errorf("the refreshed ID token was not stored")
	}
}

// storedIDToken returns the stored ID token of key.
func storedIDToken(t *testing.T, s *sandbox, key string) string {
	t.Helper()
	var doc map[string]struct {
		Token struct {
			IDToken string `json:"id_token"`
		} `json:"token"`
	}
	if err := json.Unmarshal(s.storeBytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc[key].Token.IDToken == "" {
		t.Fatalf("no ID token stored for %s", key)
	}
	return doc[key].Token.IDToken
}

// setStoredIDToken replaces the stored ID token of key.
func setStoredIDToken(t *testing.T, s *sandbox, key, idToken string) {
	t.Helper()
	var doc map[string]map[string]any
	if err := json.Unmarshal(s.storeBytes(), &doc); err != nil {
		t.Fatal(err)
	}
	doc[key]["token"].(map[string]any)["id_token"] = idToken
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.storePath(), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// unsignedJWT is a JWT-shaped string whose exp is exp; no verifier takes
// it, which is the point.
func unsignedJWT(t *testing.T, exp time.Time) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc([]byte(fmt.Sprintf(`{"exp":%d,"sub":"x"}`, exp.Unix()))) + ".x"
}

// kubeconfigFile is a kubeconfig as kubectl writes it, with a cluster
// that is api and a context that names no user yet.
func kubeconfigFile(api *kubeAPI) string {
	return `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ` + base64.StdEncoding.EncodeToString(api.caPEM()) + `
    server: ` + api.URL + `
  name: test
contexts:
- context:
    cluster: test
    namespace: default
    user: ""
  name: test
current-context: test
kind: Config
preferences: {}
users: null
`
}

// TestKubeSetupKubeconfig writes the exec block with setup kubectl,
// loads the file with clientcmd, uses it with client-go and with a real
// kubectl when one is installed, and undoes it byte for byte. client-go
// finds the plugin on the test process's PATH, which the test sets: it
// does not run in parallel.
func TestKubeSetupKubeconfig(t *testing.T) {
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	s.login(srv)
	api := startKubeAPI(t, srv.Valid)
	path := filepath.Join(s.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	orig := kubeconfigFile(api)
	if err := os.WriteFile(path, []byte(orig), 0o640); err != nil {
		t.Fatal(err)
	}
	user := "oidc-" + strings.TrimPrefix(srv.URL(), "http://")
	user = user[:strings.Index(user, "/")]

	// --print writes nothing.
	r := s.run("setup", "kubectl", srv.URL(), "--print")
	mustSucceed(t, r)
	if !strings.Contains(r.stdout, "- name: "+user+"\n") || !strings.Contains(r.stdout, "command: oidc-auth\n") {
		t.Errorf("--print shows\n%s", r.stdout)
	}
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Errorf("--print changed the kubeconfig")
	}

	// Add the user only: --unset gives back the very bytes.
	mustSucceed(t, s.run("setup", "kubectl", srv.URL()))
	mustSucceed(t, s.run("setup", "kubectl", srv.URL(), "--unset"))
	if b, _ := os.ReadFile(path); string(b) != orig {
		t.Errorf("--unset left\n%s\nwant\n%s", b, orig)
	}
	r = s.run("setup", "kubectl", srv.URL(), "--unset")
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "Nothing to undo") {
		t.Errorf("a second --unset does not say there was nothing to undo:\n%v", r)
	}

	// With the context: clientcmd loads it and names our binary.
	r = s.run("setup", "kubectl", srv.URL(), "--context", "test")
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "kubectl --context test get pods") {
		t.Errorf("setup does not say what to run next:\n%v", r)
	}
	fi, err := os.Stat(path)
	if err != nil || unixModes(t) && fi.Mode().Perm() != 0o640 {
		t.Errorf("the kubeconfig's mode is %v, want it kept at 0640 (%v)", fi.Mode().Perm(), err)
	}
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("clientcmd cannot load the kubeconfig: %v", err)
	}
	if got := cfg.Contexts["test"].AuthInfo; got != user {
		t.Errorf("context test uses user %q, want %q", got, user)
	}
	ex := cfg.AuthInfos[user].Exec
	if ex == nil || ex.Command != "oidc-auth" || fmt.Sprint(ex.Args) != fmt.Sprint([]string{"kubectl", srv.URL()}) ||
		ex.APIVersion != "client.authentication.k8s.io/v1" || ex.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode || ex.ProvideClusterInfo {
		t.Fatalf("exec block %+v", ex)
	}
	if cfg.Clusters["test"].Server != api.URL {
		t.Errorf("the cluster was not kept: %+v", cfg.Clusters["test"])
	}

	// client-go with the file as written, the binary found on PATH.
	t.Setenv("PATH", binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	restCfg, err := clientcmd.NewNonInteractiveClientConfig(*cfg, "test", &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	if restCfg.ExecProvider == nil {
		t.Fatalf("no exec provider in %+v", restCfg)
	}
	restCfg.ExecProvider.Env = s.execConfig().Env
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods("default").List(context.Background(), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 1 || pods.Items[0].Name != podName {
		t.Errorf("client-go with the written kubeconfig: %v %v", pods, err)
	}

	t.Run("kubectl", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed (it is no Debian package): the real kubectl is not tried")
		}
		env := append(s.environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		r, err := s.execute(runTimeout, s.dir, "", env, kubectl, "--kubeconfig", path, "get", "--raw", "/api/v1/namespaces/default/pods")
		if err != nil {
			t.Fatal(err)
		}
		if r.code != 0 || !strings.Contains(r.stdout, podName) {
			t.Errorf("kubectl get: %v", r)
		}
		// Without a login kubectl shows the plugin's line.
		mustSucceed(t, s.run("logout", srv.URL()))
		r, err = s.execute(runTimeout, s.dir, "", env, kubectl, "--kubeconfig", path, "get", "--raw", "/api/v1/namespaces/default/pods")
		if err != nil {
			t.Fatal(err)
		}
		if r.code == 0 || !strings.Contains(r.stderr, "oidc-auth: no valid login for "+srv.URL()) || !strings.Contains(r.stderr, "run `oidc-auth login "+srv.URL()+"`") {
			t.Errorf("kubectl without a login: %v", r)
		}
	})

	// Undo: the user goes, the context still names it and is said so.
	r = s.run("setup", "kubectl", srv.URL(), "--unset")
	mustSucceed(t, r)
	if !strings.Contains(r.stderr, "context(s) test still name it") {
		t.Errorf("--unset does not name the context that uses the user:\n%v", r)
	}
	cfg, err = clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.AuthInfos[user]; ok {
		t.Errorf("--unset kept the user")
	}
}

// TestKubeClientGoFromTheCommandAlone: with a valid stored login,
// client-go's exec plugin runner gets its credential from `oidc-auth
// kubectl` alone, with no runnable oidc-auth-core (on Linux, once the core
// answered it first), in both API versions: the command answers it
// itself, from the store, without a request.
func TestKubeClientGoFromTheCommandAlone(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	e := s.login(srv)
	api := startKubeAPI(t, srv.Valid)
	a := newAlone(t, "oidc-auth")
	before := requestCounts(srv)
	for _, version := range []string{"client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"} {
		exec := s.execConfig(srv.URL())
		exec.Command, exec.APIVersion = a.path("oidc-auth"), version
		a.warm(t, func() result { return s.runKubectlPlugin(exec) })
		names, err := listPods(t, api, exec)
		if err != nil {
			t.Fatalf("%s: client-go: %v", version, err)
		}
		if len(names) != 1 || names[0] != podName || api.lastToken() != e.Token.AccessToken {
			t.Errorf("%s: pods %v, and the API server got the stored access token: %v", version, names, api.lastToken() == e.Token.AccessToken)
		}
	}
	if after := requestCounts(srv); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the command talked to the auth server with a valid stored token: %v, then %v", before, after)
	}
}

// TestKubeClientGoIssuerFromTheCommandAlone: the same for an OpenID
// Provider's login, whose ID token an API server checks with the
// provider's keys: `oidc-auth kubectl --issuer … --client-id …`, with no
// runnable oidc-auth-core, hands client-go the stored ID token.
func TestKubeClientGoIssuerFromTheCommandAlone(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, oidcop.Options{})
	s := newSandbox(t)
	s.issuerLogin(op)
	api, _, idToken := issuerKubeAPI(t, s, op)
	a := newAlone(t, "oidc-auth")
	exec := s.execConfig(issuerArgs(op)...)
	exec.Command = a.path("oidc-auth")
	a.warm(t, func() result { return s.runKubectlPlugin(exec) })
	names, err := listPods(t, api, exec)
	if err != nil {
		t.Fatalf("client-go: %v", err)
	}
	if len(names) != 1 || names[0] != podName || api.lastToken() != idToken {
		t.Errorf("pods %v, and the API server got the stored ID token: %v", names, api.lastToken() == idToken)
	}
}
