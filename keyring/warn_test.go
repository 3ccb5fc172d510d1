package keyring_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// nextProcess is a fresh AutoStore over the same keychain and file as s,
// as the next oidc-auth or helper process would open them.
func nextProcess(s *keyring.AutoStore, kc keyring.Keychain, warn *strings.Builder) *keyring.AutoStore {
	ks := *s.Keychain
	ks.Keychain = kc
	return &keyring.AutoStore{Keychain: &ks, File: s.File, Warn: warn}
}

// TestAutoStoreWarnsOncePerMachineAndReason falls back to the file in one
// process after another: the warning shows in the first only, until the
// keychain fails for another reason, which is warned about once too.
func TestAutoStoreWarnsOncePerMachineAndReason(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	noBus := newFakeKeychain()
	noBus.err = errors.New("The name org.freedesktop.secrets was not provided by any .service files")
	var first strings.Builder
	s := autoStore(t, noBus, &first)
	put := func(s *keyring.AutoStore, host string) {
		t.Helper()
		if err := s.Put(ctx, host, &keyring.Record{Token: sampleToken(host)}); err != nil {
			t.Fatal(err)
		}
	}
	put(s, "a.example.org")
	if strings.Count(first.String(), "warning:") != 1 || !strings.Contains(first.String(), "org.freedesktop.secrets") {
		t.Fatalf("first process: want one warning with the reason, got %q", first.String())
	}
	for i := range 3 {
		var again strings.Builder
		put(nextProcess(s, noBus, &again), "a.example.org")
		if again.Len() != 0 {
			t.Errorf("process %d warned again for the same reason: %q", i+2, again.String())
		}
	}
	locked := newFakeKeychain()
	locked.err = errors.New("Cannot get secret of a locked object")
	var other strings.Builder
	put(nextProcess(s, locked, &other), "b.example.org")
	if strings.Count(other.String(), "warning:") != 1 || !strings.Contains(other.String(), "locked object") {
		t.Errorf("a new reason: want one warning, got %q", other.String())
	}
	var lockedAgain strings.Builder
	put(nextProcess(s, locked, &lockedAgain), "b.example.org")
	if lockedAgain.Len() != 0 {
		t.Errorf("warned twice for a locked keychain: %q", lockedAgain.String())
	}
	marker := filepath.Join(filepath.Dir(s.File.Path), ".token-store.json.locks", "keychain-warned")
	b, err := os.ReadFile(marker)
	if err != nil || string(b) != "no Secret Service\nlocked\n" {
		t.Errorf("marker %s: %q, %v", marker, b, err)
	}
	// Windows keeps no Unix permission bits, only the read-only one; the
	// marker is private there by the directory it lives in.
	if fi, err := os.Stat(marker); runtime.GOOS != "windows" && err == nil && fi.Mode().Perm() != 0o600 {
		t.Errorf("marker mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestAutoStoreWarnsAgainWithoutATrustedMarker ignores a warned marker
// that is a symbolic link: the warning shows, and nothing is written
// through the link.
func TestAutoStoreWarnsAgainWithoutATrustedMarker(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	ctx := context.Background()
	kc := newFakeKeychain()
	kc.err = errors.New("dbus: DBUS_SESSION_BUS_ADDRESS not set")
	var warn strings.Builder
	s := autoStore(t, kc, &warn)
	lockDir := filepath.Join(filepath.Dir(s.File.Path), ".token-store.json.locks")
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	class := keyring.ReasonClass(&keyring.UnavailableError{Reason: "x", Err: kc.err})
	if err := os.WriteFile(victim, []byte(class+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(lockDir, "keychain-warned")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		var w strings.Builder
		if err := nextProcess(s, kc, &w).Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(w.String(), "warning:") {
			t.Errorf("process %d: a linked marker silenced the warning", i+1)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != class+"\n" {
		t.Errorf("the link's target was written: %q", b)
	}
}

func TestReasonClassIsStable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b error
		same bool
	}{
		{&keyring.UnavailableError{Reason: "it did not answer within 3s"}, &keyring.UnavailableError{Reason: "it did not answer a moment ago; it is tried again after 12:00:01"}, true},
		{&keyring.UnavailableError{Reason: "r", Err: errors.New("org.freedesktop.DBus.Error.ServiceUnknown")}, &keyring.UnavailableError{Reason: "r", Err: errors.New("The name org.freedesktop.secrets was not provided")}, true},
		{&keyring.UnavailableError{Reason: "r", Err: errors.New("exit status 36 at pid 4242")}, &keyring.UnavailableError{Reason: "r", Err: errors.New("exit status 36 at pid 77")}, true},
		{&keyring.UnavailableError{Reason: "r", Err: errors.New("Cannot get secret of a locked object")}, &keyring.UnavailableError{Reason: "r", Err: errors.New("org.freedesktop.secrets not provided")}, false},
		{&keyring.UnavailableError{Reason: "r", Err: errors.New("access denied")}, &keyring.UnavailableError{Reason: "r", Err: errors.New("no such file")}, false},
	} {
		if got := keyring.ReasonClass(tt.a) == keyring.ReasonClass(tt.b); got != tt.same {
			t.Errorf("ReasonClass(%v) = %q, ReasonClass(%v) = %q; same = %v, want %v", tt.a, keyring.ReasonClass(tt.a), tt.b, keyring.ReasonClass(tt.b), got, tt.same)
		}
	}
}

// TestStoreDebugSaysWhichStoreAnswers writes, at -vv, which store holds a
// login, why the keychain is not used and where the file is, and never a
// token.
func TestStoreDebugSaysWhichStoreAnswers(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	ctx := flows.WithDebug(context.Background(), &out, flows.DebugDetails, "oidc-auth")
	kc := newFakeKeychain()
	kc.block = make(chan struct{})
	defer close(kc.block)
	s := autoStore(t, kc, &strings.Builder{})
	rec := &keyring.Record{Token: sampleToken("access-token-0123456789")}
	rec.Token.RefreshToken = "refresh-token-0123456789"
	rec.Token.RefreshExpires = time.Now().Add(time.Hour).Unix()
	if err := s.Put(ctx, "a.example.org", rec); err != nil {
		t.Fatal(err)
	}
	got, err := nextProcess(s, kc, nil).Get(ctx, "a.example.org")
	if err != nil || got.Token.AccessToken != rec.Token.AccessToken {
		t.Fatalf("Get: %+v, %v", got, err)
	}
	flows.Debugf(ctx, flows.DebugDecisions, "a careless line with %s", got.Token.RefreshToken)
	text := out.String()
	for _, want := range []string{
		"the keychain cannot be used (it did not answer within 150ms); falling back to the file " + s.File.Path,
		"keychain-silent written",
		"the login of https://a.example.org is saved in the file " + s.File.Path,
		"keychain is skipped",
		"the file " + s.File.Path + " holds the login of https://a.example.org",
		"store: lock ",
		"keychain-warned",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("debug output lacks %q:\n%s", want, text)
		}
	}
	for _, leak := range []string{"access-token-0123456789", "refresh-token-0123456789"} {
		if strings.Contains(text, leak) {
			t.Errorf("debug output holds %q:\n%s", leak, text)
		}
	}
}
