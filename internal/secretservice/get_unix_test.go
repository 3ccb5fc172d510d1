//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the Secret Service is the keychain of Linux and the BSDs; Windows has the Credential Manager.

package secretservice

import (
	"errors"
	"os"
	"strings"
	"testing"

	gokeyring "github.com/zalando/go-keyring"
)

// TestGetAgreesWithGoKeyring reads items go-keyring wrote to a real Secret
// Service (scripts/with-secret-service): the same secrets, in the order
// asked for, several in one Get; ErrNotFound when any user has no item.
func TestGetAgreesWithGoKeyring(t *testing.T) {
	needSecretService(t)
	service := "oidc-auth-test-" + t.Name()
	want := map[string]string{
		"https://a.example.org":         strings.Repeat("s€cret ", 500),
		"https://b.example.org#g.1":     "part one",
		"https://b.example.org#g.2":     "",
		"oidc+https://idp.example.org?": `{"token": {"access_token": "x"}}`,
	}
	for user, secret := range want {
		if err := gokeyring.Set(service, user, secret); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gokeyring.Delete(service, user) })
	}
	users := []string{"oidc+https://idp.example.org?", "https://a.example.org", "https://b.example.org#g.2", "https://b.example.org#g.1"}
	got, err := Get(service, users...)
	if err != nil {
		t.Fatal(err)
	}
	for i, user := range users {
		if got[i] != want[user] {
			t.Errorf("%s: %d bytes, want the %d bytes go-keyring stored", user, len(got[i]), len(want[user]))
		}
		if g, err := gokeyring.Get(service, user); err != nil || g != got[i] {
			t.Errorf("%s: go-keyring reads %d bytes, %v", user, len(g), err)
		}
	}
	for _, users := range [][]string{
		{"https://c.example.org"},
		{"https://a.example.org", "https://c.example.org"},
	} {
		if _, err := Get(service, users...); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", users, err)
		}
	}
	if _, err := Get(service+"-other", "https://a.example.org"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of another service's user: %v, want ErrNotFound", err)
	}
}

// TestGetLeavesTheDaemonRunning reads one item from a real Secret Service
// 200 times, each Get on a connection of its own as each command's is:
// every read must find the item. gnome-keyring-daemon exited within 34
// to 2,124 such reads while Get hung up just after a Close it did not
// wait for (TestGetWaitsForClose pins that it waits now); D-Bus then
// started another daemon, whose login keyring was locked. Thousands of
// connections in a few seconds can make the daemon exit whatever the
// client (godbus's too), so this reads only a few hundred times: the
// daemon is shared with the other packages' tests.
func TestGetLeavesTheDaemonRunning(t *testing.T) {
	needSecretService(t)
	service := "oidc-auth-test-" + t.Name()
	if err := gokeyring.Set(service, "u", strings.Repeat("x", 1500)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gokeyring.Delete(service, "u") })
	for i := range 200 {
		if v, err := Get(service, "u"); err != nil || len(v) != 1 || len(v[0]) != 1500 {
			t.Fatalf("read %d: %d values, %v", i+1, len(v), err)
		}
	}
}

// needSecretService skips the test where no Secret Service is promised
// (OIDC_AUTH_TEST_KEYCHAIN unset), and fails it where one is promised
// but no session bus is found.
func needSecretService(t *testing.T) {
	t.Helper()
	switch why := BusMissing(); {
	case os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1":
		t.Skip("no Secret Service promised here (OIDC_AUTH_TEST_KEYCHAIN unset); scripts/with-secret-service provides one")
	case why != "":
		t.Fatalf("OIDC_AUTH_TEST_KEYCHAIN=1, but %s", why)
	}
}
