//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the Secret Service is the keychain of Linux and the BSDs; Windows has the Credential Manager.

package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	gokeyring "github.com/zalando/go-keyring"
)

// TestKeychainGetAgreesWithGoKeyring checks the direct Secret Service read
// against go-keyring's on a real Secret Service (scripts/with-secret-service):
// the same secret for an item go-keyring wrote, ErrNotFound for none.
func TestKeychainGetAgreesWithGoKeyring(t *testing.T) {
	switch why := secretservice.BusMissing(); {
	case os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1":
		t.Skip("no Secret Service promised here (OIDC_AUTH_TEST_KEYCHAIN unset); scripts/with-secret-service provides one")
	case why != "":
		t.Fatalf("OIDC_AUTH_TEST_KEYCHAIN=1, but %s", why)
	}
	service := "oidc-auth-test-" + t.Name()
	secret := strings.Repeat("s€cret ", 500)
	if err := gokeyring.Set(service, "https://a.example.org", secret); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gokeyring.Delete(service, "https://a.example.org") })
	got, err := keychainGet(service, "https://a.example.org")
	if err != nil || got != secret {
		t.Fatalf("keychainGet = %d bytes, %v; want the %d bytes go-keyring stored", len(got), err, len(secret))
	}
	want, err := gokeyring.Get(service, "https://a.example.org")
	if err != nil || want != got {
		t.Fatalf("go-keyring's Get = %d bytes, %v", len(want), err)
	}
	if _, err := keychainGet(service, "https://b.example.org"); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Fatalf("keychainGet of no item: %v, want go-keyring's ErrNotFound", err)
	}
	if _, err := keychainGet(service+"-other", "https://a.example.org"); !errors.Is(err, gokeyring.ErrNotFound) {
		t.Fatalf("keychainGet of another service's user: %v, want go-keyring's ErrNotFound", err)
	}
}

// TestOSKeychainWritesOneAtATime: Set and Delete wait for the lock the
// user's Secret Service reads go one at a time under (README: Token
// store), as gnome-keyring-daemon aborts under several clients at once;
// held by another for 300 ms, each waits that long, and succeeds.
func TestOSKeychainWritesOneAtATime(t *testing.T) {
	switch why := secretservice.BusMissing(); {
	case os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1":
		t.Skip("no Secret Service promised here (OIDC_AUTH_TEST_KEYCHAIN unset); scripts/with-secret-service provides one")
	case why != "":
		t.Fatalf("OIDC_AUTH_TEST_KEYCHAIN=1, but %s", why)
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o700)
	t.Setenv("XDG_RUNTIME_DIR", dir)
	lock := filepath.Join(dir, "oidc-auth-secret-service.lock")
	service := "oidc-auth-test-" + t.Name()
	for _, op := range []struct {
		name string
		call func() error
	}{
		{"Set", func() error { return OSKeychain{}.Set(service, "u", "x") }},
		{"Delete", func() error { return OSKeychain{}.Delete(service, "u") }},
	} {
		fd, err := syscall.Open(lock, syscall.O_RDWR|syscall.O_CREAT|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(fd, syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		var released atomic.Bool
		time.AfterFunc(300*time.Millisecond, func() { released.Store(true); syscall.Close(fd) })
		if err := op.call(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		if !released.Load() {
			t.Errorf("%s returned while another held the lock: it did not wait for it", op.name)
		}
	}
}
