package kubeconfig_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/helper/kubeconfig"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// kubectlWritten is a kubeconfig as kubectl config set-cluster,
// set-context and use-context leave it, plus a comment.
const kubectlWritten = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkekNDQVIyZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnlkbVZ5TFdOaApMVEUzTURBd01EQXdNREF3SGhjTk1qUXdNVEF4TURBd01EQXdXaGNOTXpRd01UQXhNREF3TURBd1dqQWpNU0V3SHdZRFZRUUQK
    server: https://k8s.example.org:6443
  name: prod
contexts:
- context:
    cluster: prod
    namespace: team # the team's namespace
    user: ""
  name: prod
current-context: prod
kind: Config
preferences: {}
users: null
`

// oidcExec is the exec block of a py-oidc-auth server's user.
var oidcExec = helper.KubectlExecFor(helper.Server{Host: "https://auth.example.org/api/app"}, false)

func writeKubeconfig(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, path string) *kubeconfig.File {
	t.Helper()
	k, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKubeconfigRoundTrip adds a user to a file kubectl wrote and removes
// it again: the file is then byte for byte what it was, and in between it
// kept everything else, its mode included.
func TestKubeconfigRoundTrip(t *testing.T) {
	t.Parallel()
	path := writeKubeconfig(t, kubectlWritten, 0o640)
	k := load(t, path)
	if changed, err := k.SetUser("oidc-auth.example.org", oidcExec); err != nil || !changed {
		t.Fatalf("SetUser: %v, %v", changed, err)
	}
	if changed, err := k.SetContextUser("prod", "oidc-auth.example.org"); err != nil || !changed {
		t.Fatalf("SetContextUser: %v, %v", changed, err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	got := string(readFile(t, path))
	want := strings.Replace(kubectlWritten, `    user: ""`, `    user: oidc-auth.example.org`, 1)
	want = strings.Replace(want, "users: null\n", `users:
- name: oidc-auth.example.org
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: oidc-auth
      args:
      - kubectl
      - https://auth.example.org/api/app
      interactiveMode: IfAvailable
      provideClusterInfo: false
      installHint: |
        This kubeconfig gets its token from oidc-auth, which is not on PATH.
        Install it: go install github.com/oidc-auth/oidc-auth/cmd/...@latest
`, 1)
	if got != want {
		t.Errorf("after setup:\n%s\nwant:\n%s", got, want)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640) {
		t.Errorf("mode %v, want 0640 kept (%v)", fi.Mode().Perm(), err)
	}

	// The same again changes nothing.
	k = load(t, path)
	if changed, err := k.SetUser("oidc-auth.example.org", oidcExec); err != nil || changed {
		t.Errorf("a second SetUser: %v, %v", changed, err)
	}

	k = load(t, path)
	if removed, err := k.RemoveUser("oidc-auth.example.org", helper.KubectlCommand); err != nil || !removed {
		t.Fatalf("RemoveUser: %v, %v", removed, err)
	}
	if got := k.ContextsUsing("oidc-auth.example.org"); len(got) != 1 || got[0] != "prod" {
		t.Errorf("contexts using the user: %v", got)
	}
	if _, err := k.SetContextUser("prod", ""); err != nil {
		t.Fatal(err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, path)); got != kubectlWritten {
		t.Errorf("after undo:\n%s\nwant:\n%s", got, kubectlWritten)
	}
	if removed, err := load(t, path).RemoveUser("oidc-auth.example.org", helper.KubectlCommand); err != nil || removed {
		t.Errorf("a second RemoveUser: %v, %v", removed, err)
	}
}

func TestKubeconfigNewFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "kube", "config")
	k := load(t, path)
	if _, err := k.SetUser("u", oidcExec); err != nil {
		t.Fatal(err)
	}
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	b := readFile(t, path)
	if !strings.HasPrefix(string(b), "apiVersion: v1\nkind: Config\nusers:\n- name: u\n") {
		t.Errorf("new kubeconfig:\n%s", b)
	}
	if fi, err := os.Stat(path); runtime.GOOS != "windows" && (err != nil || fi.Mode().Perm() != 0o600) {
		t.Errorf("a new kubeconfig has mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestKubeconfigSaveWhileKubectlHasItOpen saves the kubeconfig while
// another process (as kubectl does) has it open: on Windows the rename
// over it is refused until that process closes it, so Save retries rather
// than failing.
func TestKubeconfigSaveWhileKubectlHasItOpen(t *testing.T) {
	t.Parallel()
	path := writeKubeconfig(t, kubectlWritten, 0o600)
	k := load(t, path)
	if _, err := k.SetUser("u", oidcExec); err != nil {
		t.Fatal(err)
	}
	wait := testfs.StartFileReader(t, path)
	err := k.Save()
	wait()
	if err != nil {
		t.Fatalf("Save while the file is open elsewhere: %v", err)
	}
	if b := readFile(t, path); !strings.Contains(string(b), "name: u\n") {
		t.Errorf("the saved kubeconfig lacks the user:\n%s", b)
	}
}

func TestKubeconfigRefuses(t *testing.T) {
	t.Parallel()
	t.Run("another program's user of the same name", func(t *testing.T) {
		t.Parallel()
		path := writeKubeconfig(t, "users:\n- name: u\n  user:\n    exec:\n      command: gke-gcloud-auth-plugin\n", 0o600)
		k := load(t, path)
		if _, err := k.SetUser("u", oidcExec); err == nil || !strings.Contains(err.Error(), "--user") {
			t.Errorf("SetUser over another plugin's user: %v", err)
		}
		if _, err := k.RemoveUser("u", helper.KubectlCommand); err == nil || !strings.Contains(err.Error(), "kubectl config delete-user u") {
			t.Errorf("RemoveUser of another plugin's user: %v", err)
		}
	})
	t.Run("a context that is not there", func(t *testing.T) {
		t.Parallel()
		k := load(t, writeKubeconfig(t, kubectlWritten, 0o600))
		if _, err := k.SetContextUser("staging", "u"); err == nil || !strings.Contains(err.Error(), "kubectl config get-contexts") {
			t.Errorf("SetContextUser of a missing context: %v", err)
		}
	})
	t.Run("not YAML", func(t *testing.T) {
		t.Parallel()
		if _, err := kubeconfig.Load(writeKubeconfig(t, "users: [\n", 0o600)); err == nil || !strings.Contains(err.Error(), "not valid YAML") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("users is no list", func(t *testing.T) {
		t.Parallel()
		k := load(t, writeKubeconfig(t, "users: 3\n", 0o600))
		if _, err := k.SetUser("u", oidcExec); err == nil || !strings.Contains(err.Error(), "not a list") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a symbolic link", func(t *testing.T) {
		t.Parallel()
		testfs.RequireSymlinks(t)
		target := writeKubeconfig(t, kubectlWritten, 0o600)
		link := filepath.Join(t.TempDir(), "config")
		if err := os.Symlink(target, link); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
		if _, err := kubeconfig.Load(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("another user's file", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("Windows has no Unix file owner to check; the kubeconfig lives in the user's own profile there")
		}
		if os.Getuid() != 0 {
			t.Skip("only root can give a file to another user")
		}
		path := writeKubeconfig(t, kubectlWritten, 0o644)
		if err := os.Chown(path, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if _, err := kubeconfig.Load(path); err == nil || !strings.Contains(err.Error(), "another user") {
			t.Errorf("got %v", err)
		}
	})
}

func TestKubeconfigPath(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	t.Setenv("KUBECONFIG", string(os.PathListSeparator)+first+string(os.PathListSeparator)+second)
	if got, err := kubeconfig.Path(); err != nil || got != first {
		t.Errorf("got %q, %v; want the first file of the list %q", got, err, first)
	}
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", dir)
	t.Setenv("USERPROFILE", dir)
	if got, err := kubeconfig.Path(); err != nil || got != filepath.Join(dir, ".kube", "config") {
		t.Errorf("got %q, %v; want ~/.kube/config", got, err)
	}
}

// TestUserYAML checks that what --print shows is the users[] entry that
// SetUser writes.
func TestUserYAML(t *testing.T) {
	t.Parallel()
	b, err := kubeconfig.UserYAML(oidcExec, "u")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Users []struct {
			Name string
			User struct {
				Exec struct {
					APIVersion      string `yaml:"apiVersion"`
					Command         string
					Args            []string
					InteractiveMode string `yaml:"interactiveMode"`
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Users) != 1 || doc.Users[0].Name != "u" || doc.Users[0].User.Exec.Command != "oidc-auth" ||
		strings.Join(doc.Users[0].User.Exec.Args, " ") != "kubectl https://auth.example.org/api/app" ||
		doc.Users[0].User.Exec.APIVersion != helper.ExecAPIv1 || doc.Users[0].User.Exec.InteractiveMode != "IfAvailable" {
		t.Errorf("--print shows\n%s", b)
	}
	path := filepath.Join(t.TempDir(), "config")
	k := load(t, path)
	k.SetUser("u", oidcExec)
	if err := k.Save(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readFile(t, path)), string(b)) {
		t.Errorf("the written file does not hold what --print shows")
	}
}

// readFile returns the content of path, nothing when it does not exist.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}
