package keyring_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestProbeStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name        string
		err         error
		block       bool
		wantState   keyring.KeychainState
		wantBackend string
	}{
		{"available", nil, false, keyring.KeychainAvailable, keyring.BackendKeychain},
		{"absent", errors.New("The name org.freedesktop.secrets was not provided by any .service files"), false, keyring.KeychainAbsent, keyring.BackendFile},
		{"locked", errors.New("Cannot get secret of a locked object"), false, keyring.KeychainLocked, keyring.BackendFile},
		{"dismissed", errors.New("prompt dismissed by user"), false, keyring.KeychainLocked, keyring.BackendFile},
		{"silent", nil, true, keyring.KeychainSilent, keyring.BackendFile},
		{"other", errors.New("the sky fell"), false, keyring.KeychainUnusable, keyring.BackendFile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kc := newFakeKeychain()
			kc.err = tt.err
			if tt.block {
				kc.block = make(chan struct{})
				t.Cleanup(func() { close(kc.block) })
			}
			dir := t.TempDir()
			file := &keyring.FileStore{Path: filepath.Join(dir, "token-store.json")}
			ks := newKeychainStore(t, kc)
			ks.Timeout = 50 * time.Millisecond
			store := &keyring.AutoStore{Keychain: ks, File: file}
			p := keyring.ProbeStore(ctx, store)
			if p.Keychain != tt.wantState || p.Backend != tt.wantBackend || p.FilePath != file.Path || p.Err != nil {
				t.Errorf("ProbeStore = %+v; want keychain %q, backend %q, file %s", p, tt.wantState, tt.wantBackend, file.Path)
			}
			if (p.KeychainReason == "") != (tt.wantState == keyring.KeychainAvailable) {
				t.Errorf("keychain %s with reason %q", p.Keychain, p.KeychainReason)
			}
			if tt.block && p.KeychainElapsed < ks.Timeout {
				t.Errorf("a silent keychain answered after %v, before its timeout", p.KeychainElapsed)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("the probe wrote %v", entries)
			}
			if len(kc.users("oidc-auth-test")) != 0 {
				t.Errorf("the probe wrote to the keychain")
			}
		})
	}
}

func TestProbeStoreFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "token-store.json")
	p := keyring.ProbeStore(ctx, &keyring.FileStore{Path: path})
	if p.Backend != keyring.BackendFile || p.FilePath != path || p.Keychain != keyring.KeychainNotUsed || p.Err != nil {
		t.Errorf("ProbeStore of a missing file = %+v", p)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if p := keyring.ProbeStore(ctx, &keyring.FileStore{Path: path}); p.Err == nil {
		t.Errorf("ProbeStore of a corrupt file reports no error: %+v", p)
	}
	if got := keyring.StoreFilePath(&keyring.FileStore{Path: path}); got != path {
		t.Errorf("StoreFilePath = %q", got)
	}
}

func TestProbeStoreOSKeychain(t *testing.T) {
	s := realKeychain(t)
	p := keyring.ProbeStore(context.Background(), s)
	if p.Keychain != keyring.KeychainAvailable || p.Backend != keyring.BackendKeychain || p.Err != nil {
		t.Errorf("ProbeStore of the OS keychain = %+v", p)
	}
	if keyring.StoreFilePath(s) != "" {
		t.Errorf("the keychain store names a file")
	}
}

func TestAutoStoreKeychainError(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	kc := newFakeKeychain()
	store := &keyring.AutoStore{Keychain: newKeychainStore(t, kc), File: &keyring.FileStore{Path: filepath.Join(t.TempDir(), "token-store.json")}}
	if _, err := store.List(ctx); err != nil || store.KeychainError() != nil {
		t.Fatalf("a working keychain: %v, %v", err, store.KeychainError())
	}
	kc.err = errors.New("Cannot get secret of a locked object")
	store = &keyring.AutoStore{Keychain: newKeychainStore(t, kc), File: store.File}
	if _, err := store.List(ctx); err != nil {
		t.Fatal(err)
	}
	var ue *keyring.UnavailableError
	if err := store.KeychainError(); !errors.As(err, &ue) || !strings.Contains(ue.Reason, "locked") {
		t.Errorf("KeychainError after a locked keychain: %v", err)
	}
}
