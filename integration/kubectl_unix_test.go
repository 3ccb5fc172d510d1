//go:build !windows

// Unix only: kubectl hands its terminal over, which the test makes with a pseudo-terminal (creack/pty), which Windows consoles do not offer.

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestKubeLoginOnTheTerminal runs the real kubectl at a terminal without
// a login: kubectl passes its terminal on to the plugin
// (interactiveMode IfAvailable, as setup kubectl writes it), which says
// who asked, logs in there by the device flow, and hands kubectl the
// token, on stdout, which is kubectl's and not the terminal.
func TestKubeLoginOnTheTerminal(t *testing.T) {
	t.Parallel()
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed (it is no Debian package): the login through the real kubectl is not tried")
	}
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	api := startKubeAPI(t, srv.Valid)
	path := filepath.Join(s.home, ".kube", "config")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(kubeconfigFile(api)), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, s.run("setup", "kubectl", srv.URL(), "--context", "test"))

	srv.PlanDevice(pyauthserver.DevicePlan{}) // approved at the first poll
	var out lockedBuffer
	p := startPTY(t, s, 120, 50, s.dir, []string{"PATH=" + binDir + string(os.PathListSeparator) + os.Getenv("PATH")}, nil, &out, nil,
		kubectl, "--kubeconfig", path, "get", "--raw", "/api/v1/namespaces/default/pods")
	p.expect(`kubectl needs a token; logging in to ` + srv.URL())
	if code := p.wait(); code != 0 {
		t.Fatalf("kubectl exit %d; the terminal shows:\n%s\nstdout: %s", code, p.screen(), out.String())
	}
	if !strings.Contains(out.String(), podName) {
		t.Errorf("kubectl printed %q, want the pod list", out.String())
	}
	if strings.Contains(p.output(), `"ExecCredential"`) {
		t.Errorf("the ExecCredential reached the terminal:\n%s", p.screen())
	}
	e, ok := s.readStore()[storeKey(t, srv)]
	if !ok || !srv.Valid(e.Token.AccessToken) {
		t.Fatalf("no valid login stored after the login through kubectl")
	}
	if _, rejected := api.counts(); rejected != 0 {
		t.Errorf("the API server rejected %d requests", rejected)
	}
	t.Logf("the terminal shows:\n%s", p.screen())
}
