package oidcauth

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// storeKubeLogin puts a login for host, valid for an hour, into the sandbox's
// default token file.
func storeKubeLogin(t *testing.T, host, access string) int64 {
	t.Helper()
	store := &keyring.FileStore{Path: filepath.Join(os.Getenv("XDG_CACHE_HOME"), "oidc-auth", "token-store.json")}
	key, err := keyring.Key(host)
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	rec := &keyring.Record{Token: keyring.Token{AccessToken: access, TokenType: "Bearer", Expires: exp}, Server: &keyring.Server{Host: host}}
	if err := store.Put(context.Background(), key, rec); err != nil {
		t.Fatal(err)
	}
	return exp
}

func TestKubectlCommand(t *testing.T) {
	sandbox(t)
	// Nothing listens there: the cached path must not need it.
	host := "http://127.0.0.1:9/api/app"
	exp := storeKubeLogin(t, host, "access-kube")

	t.Setenv("KUBERNETES_EXEC_INFO", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`)
	code, stdout, stderr := runCLI("kubectl", host)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	var ec struct {
		APIVersion, Kind string
		Status           struct{ Token, ExpirationTimestamp string }
	}
	if err := json.Unmarshal([]byte(stdout), &ec); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if ec.APIVersion != "client.authentication.k8s.io/v1beta1" || ec.Kind != "ExecCredential" || ec.Status.Token != "access-kube" ||
		ec.Status.ExpirationTimestamp != time.Unix(exp, 0).UTC().Format(time.RFC3339) {
		t.Errorf("ExecCredential %+v", ec)
	}

	// kubectl lets it use no terminal, whatever the test's stdin is.
	t.Setenv("KUBERNETES_EXEC_INFO", `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}`)
	code, _, stderr = runCLI("kubectl", "http://127.0.0.1:9/other")
	if code != 1 || stderr != "oidc-auth: no valid login for http://127.0.0.1:9/other (the stored login of http://127.0.0.1:9 is for http://127.0.0.1:9/api/app; kubectl gave it no terminal, as interactiveMode is Never or stdin is no terminal); run `oidc-auth login http://127.0.0.1:9/other`\n" {
		t.Errorf("another path prefix without a terminal: exit %d, stderr %q", code, stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no host", []string{"kubectl"}, 2, "kubectl needs the server HOST"},
		{"--access-token without --issuer", []string{"kubectl", host, "--access-token"}, 2, "--access-token goes with --issuer"},
		// A secret in kubectl's or a job's arguments is visible to every
		// user; the login keeps it, and so may the config file.
		{"a secret", []string{"kubectl", "--issuer", "https://kc.example.org", "--client-id", "k", "--client-secret", "hunter2"}, 2, "unknown flag --client-secret"},
		{"exec with a secret", []string{"exec", "--issuer", "https://kc.example.org", "--client-id", "k", "--client-secret", "hunter2", "--", "true"}, 2, "unknown flag --client-secret"},
		{"setup with a secret", []string{"setup", "kubectl", "--issuer", "https://kc.example.org", "--client-id", "k", "--client-secret", "hunter2"}, 2, "does not take --client-secret"},
		{"setup --print --unset", []string{"setup", "kubectl", host, "--print", "--unset"}, 2, "either --print or --unset"},
		{"setup with a missing context", []string{"setup", "kubectl", host, "--context", "nope"}, 1, `has no context "nope"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(tc.args...)
			if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and one line with %q", code, stdout, stderr, tc.code, tc.want)
			}
			if strings.Contains(stderr, "hunter2") {
				t.Errorf("the secret is on stderr: %q", stderr)
			}
		})
	}
}

func TestSetupKubectl(t *testing.T) {
	home := sandbox(t)
	path := filepath.Join(home, "kube-a")
	t.Setenv("KUBECONFIG", path+string(os.PathListSeparator)+filepath.Join(home, "kube-b"))
	host := "https://auth.example.org/api/app"

	code, stdout, stderr := runCLI("setup", "kubectl", host)
	if code != 0 || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{"Wrote " + path, "`oidc-auth kubectl " + host + "`", "Next: log in with `oidc-auth login " + host + "`, then try `kubectl --user oidc-auth.example.org get pods`"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "- name: oidc-auth.example.org\n") {
		t.Fatalf("kubeconfig %s: %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(home, "kube-b")); err == nil {
		t.Errorf("the second file of KUBECONFIG was written")
	}

	code, stdout, _ = runCLI("setup", "kubectl", host, "--print", "--user", "mine")
	if code != 0 || !strings.HasPrefix(stdout, "users:\n- name: mine\n") {
		t.Errorf("--print: exit %d, stdout %q", code, stdout)
	}

	code, _, stderr = runCLI("setup", "kubectl", host, "--unset")
	if code != 0 || !strings.Contains(stderr, "Removed the user oidc-auth.example.org from "+path) {
		t.Errorf("--unset: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI("setup", "kubectl", host, "--unset")
	if code != 0 || !strings.HasPrefix(stderr, "Nothing to undo") {
		t.Errorf("a second --unset: exit %d, stderr %q", code, stderr)
	}
}
