//go:build unix

// Unix only: the store's refusals of links and of other users' modes need Unix links and permission bits; TestRefreshWhileStoreHeldOpen and TestDefaultPaths cover the store on Windows.

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// TestStoreRefusesLinks: a token store that is a symbolic link, as a
// hostile process or a mistaken dotfile manager leaves, is never written
// through: login, token and git's helper refuse it with the link and its
// target, and the target stays as it was.
func TestStoreRefusesLinks(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ name, target, content string }{
		{"authorized_keys", ".ssh/authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample user@host\n"},
		{"docker config", ".docker/config.json", `{"auths":{}}` + "\n"},
		{"missing target", ".ssh/authorized_keys2", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, pyauthserver.Options{})
			s := newSandbox(t)
			target := filepath.Join(s.home, tt.target)
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				t.Fatal(err)
			}
			if tt.content != "" {
				if err := os.WriteFile(target, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.MkdirAll(filepath.Dir(s.storePath()), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, s.storePath()); err != nil {
				t.Fatal(err)
			}
			srv.PlanDevice(pyauthserver.DevicePlan{})
			for _, args := range [][]string{{"login", "--flow", "device", "--timeout", "10s", srv.URL()}, {"token", srv.URL()}} {
				msg := onlyLine(t, s.run(args...), 1)
				if !strings.Contains(msg, s.storePath()+" is a symbolic link to "+target) || !strings.Contains(msg, "rm ") {
					t.Errorf("%s: error line %q does not name the link, its target and the fix", args[0], msg)
				}
			}
			g, err := s.execute(runTimeout, s.dir, gitInput(t, srv.URL()), s.environ(), gitCredentialBin, "get")
			if err != nil {
				t.Fatal(err)
			}
			if g.stdout != "" || !strings.Contains(g.stderr, "symbolic link") {
				t.Errorf("git helper: stdout %q, stderr %q", g.stdout, g.stderr)
			}
			got, err := os.ReadFile(target)
			if tt.content == "" {
				if !os.IsNotExist(err) {
					t.Errorf("the link's missing target was created: %q", got)
				}
			} else if string(got) != tt.content {
				t.Errorf("the link's target changed to %q", got)
			}
			if n := srv.Count(pyauthserver.RouteDevice); n != 0 {
				t.Errorf("a login started on a store it cannot write (%d device starts)", n)
			}
		})
	}
}

// TestStoreStrictModes: a store others can read or change, or one in a
// directory others can write, is refused with the exact command that fixes
// it, and the file is left as it is; after the fix it works.
func TestStoreStrictModes(t *testing.T) {
	t.Parallel()
	t.Run("readable store", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		s.login(srv)
		before := s.storeBytes()
		if err := os.Chmod(s.storePath(), 0o644); err != nil {
			t.Fatal(err)
		}
		msg := onlyLine(t, s.run("token", srv.URL()), 1)
		if !strings.Contains(msg, "can be read by other users (mode 0644)") || !strings.Contains(msg, "chmod 600 "+s.storePath()) {
			t.Errorf("error line %q", msg)
		}
		s.unchanged(before)
		if fi, _ := os.Stat(s.storePath()); fi.Mode().Perm() != 0o644 {
			t.Errorf("mode changed to %v", fi.Mode())
		}
		os.Chmod(s.storePath(), 0o600)
		mustSucceed(t, s.run("token", srv.URL()))
	})
	t.Run("writable directory", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		s.login(srv)
		dir := filepath.Dir(s.storePath())
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		msg := onlyLine(t, s.run("token", srv.URL()), 1)
		if !strings.Contains(msg, "chmod go-w "+dir) {
			t.Errorf("error line %q", msg)
		}
	})
	t.Run("token file in a shared directory", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		shared := filepath.Join(t.TempDir(), "shared")
		if err := os.Mkdir(shared, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(shared, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(shared, "token.json")
		srv.PlanDevice(pyauthserver.DevicePlan{})
		r := s.runEnv([]string{"OIDC_TOKEN_FILE=" + file}, "login", "--flow", "device", "--timeout", "10s", srv.URL())
		msg := onlyLine(t, r, 1)
		if !strings.Contains(msg, "writable by other users") || !strings.Contains(msg, "mkdir -m 700") {
			t.Errorf("error line %q", msg)
		}
		if _, err := os.Stat(file); !os.IsNotExist(err) {
			t.Errorf("the token file was created in the shared directory")
		}
	})
	t.Run("store of another user", func(t *testing.T) {
		t.Parallel()
		if os.Geteuid() != 0 {
			t.Skip("giving a file to another user needs root")
		}
		srv := startServer(t, pyauthserver.Options{})
		s := newSandbox(t)
		s.login(srv)
		before := s.storeBytes()
		if err := os.Chown(s.storePath(), 65534, 65534); err != nil {
			t.Fatal(err)
		}
		msg := onlyLine(t, s.run("token", srv.URL()), 1)
		if !strings.Contains(msg, "is owned by") || !strings.Contains(msg, "chown ") {
			t.Errorf("error line %q", msg)
		}
		s.unchanged(before)
	})
}
