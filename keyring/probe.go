package keyring

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"
)

// KeychainState says whether the OS keychain can keep tokens.
type KeychainState string

// States of the OS keychain, as ProbeStore finds them.
const (
	// KeychainAvailable: the keychain answered.
	KeychainAvailable KeychainState = "available"
	// KeychainLocked: the keychain answered that it is locked.
	KeychainLocked KeychainState = "locked"
	// KeychainAbsent: there is no keychain to ask (no D-Bus session, no
	// Secret Service).
	KeychainAbsent KeychainState = "absent"
	// KeychainSilent: the keychain did not answer in time.
	KeychainSilent KeychainState = "silent"
	// KeychainUnusable: the keychain failed in another way.
	KeychainUnusable KeychainState = "unusable"
	// KeychainNotUsed: the store never uses the keychain (the file store,
	// or OIDC_TOKEN_FILE).
	KeychainNotUsed KeychainState = "not used"
)

// ProbeKey is the key ProbeStore reads: a server that cannot exist (.invalid,
// RFC 2606), so that the read finds nothing and touches no login.
const ProbeKey = "https://oidc-auth-probe.invalid"

// Probe is what ProbeStore found out about a store.
type Probe struct {
	// Backend is where the store keeps a new login now: BackendKeychain
	// or BackendFile; "" for a store of another kind.
	Backend string
	// FilePath is the token file the store reads and, when Backend is
	// BackendFile, writes; "" for the keychain alone.
	FilePath string
	// Keychain is the keychain's state; KeychainNotUsed when the store
	// never asks it.
	Keychain KeychainState
	// KeychainReason says why the keychain cannot be used, for people;
	// "" when it can or is not used.
	KeychainReason string
	// KeychainElapsed is how long the keychain took to answer (or to give
	// up).
	KeychainElapsed time.Duration
	// SilentUntil, when not zero, is until when an earlier process marked
	// the keychain as silent; until then logins go to the file.
	SilentUntil time.Time
	// Elapsed is how long a read of ProbeKey took through the whole
	// store.
	Elapsed time.Duration
	// Err is why the store could not be read, nil when it answered.
	Err error
}

// ProbeStore reads a key that no store holds (ProbeKey) from store, timed,
// and asks the keychain behind it, if any, whether it answers. It writes
// nothing: no token, no marker. The keychain is asked even when an
// earlier process marked it silent, so that the answer is today's.
func ProbeStore(ctx context.Context, store TokenStore) Probe {
	var p Probe
	var kc *KeychainStore
	switch s := store.(type) {
	case *AutoStore:
		kc, p.FilePath = s.Keychain, s.File.Path
		if fi, err := os.Lstat(s.markerPath()); err == nil && checkFile(s.markerPath(), fi, roleLock) == nil && time.Since(fi.ModTime()) < silentFor {
			p.SilentUntil = fi.ModTime().Add(silentFor)
		}
	case *KeychainStore:
		kc = s
		p.Backend = BackendKeychain
	case *FileStore:
		p.FilePath, p.Backend, p.Keychain = s.Path, BackendFile, KeychainNotUsed
	default:
		p.Keychain = KeychainNotUsed
	}
	if kc != nil {
		start := time.Now()
		err := kc.Probe(ctx)
		p.KeychainElapsed = time.Since(start)
		p.Keychain, p.KeychainReason = keychainState(err)
	}
	if _, ok := store.(*AutoStore); ok {
		p.Backend = BackendFile
		if p.Keychain == KeychainAvailable && p.SilentUntil.IsZero() {
			p.Backend = BackendKeychain
		}
	}
	start := time.Now()
	var err error
	if a, ok := store.(*AutoStore); ok {
		// Through the file only: the keychain was asked above, and a read
		// through the store would mark a silent one for other processes.
		_, err = a.File.Get(ctx, ProbeKey)
		p.Elapsed = time.Since(start) + p.KeychainElapsed
	} else {
		_, err = store.Get(ctx, ProbeKey)
		p.Elapsed = time.Since(start)
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		p.Err = err
	}
	return p
}

// keychainState classifies the answer of KeychainStore.Probe.
func keychainState(err error) (KeychainState, string) {
	if err == nil {
		return KeychainAvailable, ""
	}
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return KeychainUnusable, oneLineError(err)
	}
	var nobus errNoSessionBus
	lower := strings.ToLower(ue.Reason)
	switch {
	case ue.Err == nil:
		return KeychainSilent, ue.Reason
	case errors.As(ue.Err, &nobus),
		strings.Contains(lower, "was not provided"),
		strings.Contains(lower, "serviceunknown"),
		strings.Contains(lower, "no such interface"),
		strings.Contains(lower, "not found in path"):
		return KeychainAbsent, ue.Reason
	case strings.Contains(lower, "locked"), strings.Contains(lower, "dismissed"), strings.Contains(lower, "user canceled"), strings.Contains(lower, "interaction"):
		return KeychainLocked, ue.Reason
	}
	return KeychainUnusable, ue.Reason
}

// StoreFilePath returns the token file store reads, "" when it reads
// none (the keychain alone, or a store of another kind).
func StoreFilePath(store TokenStore) string {
	switch s := store.(type) {
	case *AutoStore:
		return s.File.Path
	case *FileStore:
		return s.Path
	}
	return ""
}

// KeychainError returns why the store does not use the OS keychain at the
// moment, as learnt from its calls so far or from the marker an earlier
// process left when the keychain did not answer; nil when no call failed.
// It makes no keychain call.
func (s *AutoStore) KeychainError() error {
	return s.keychainDown(context.Background())
}
