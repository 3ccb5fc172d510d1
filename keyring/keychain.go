package keyring

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/secretservice"
)

// Keychain is the part of an OS keychain the store uses: one secret per
// (service, user) pair. OSKeychain is the real one; tests pass fakes.
type Keychain interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// OSKeychain is the keychain of the operating system through
// github.com/zalando/go-keyring: the Secret Service on Linux and the BSDs,
// the login keychain on macOS, the Credential Manager on Windows.
type OSKeychain struct{}

var _ Keychain = OSKeychain{}

// errNoSessionBus is returned instead of letting go-keyring start a D-Bus
// session of its own (see secretservice.BusMissing).
type errNoSessionBus string

func (e errNoSessionBus) Error() string { return string(e) }

// Get returns the secret stored for service and user. From the Secret
// Service it reads an unlocked item directly, in two round trips.
func (OSKeychain) Get(service, user string) (string, error) {
	if why := secretservice.BusMissing(); why != "" {
		return "", errNoSessionBus(why)
	}
	return keychainGet(service, user)
}

// Set stores secret for service and user. On the Secret Service, the
// user's processes call one at a time (secretservice.Exclusive):
// gnome-keyring-daemon aborts under several clients at once.
func (OSKeychain) Set(service, user, secret string) error {
	if why := secretservice.BusMissing(); why != "" {
		return errNoSessionBus(why)
	}
	return secretservice.Exclusive(func() error { return gokeyring.Set(service, user, secret) })
}

// Delete removes the secret stored for service and user, one call at a
// time as Set.
func (OSKeychain) Delete(service, user string) error {
	if why := secretservice.BusMissing(); why != "" {
		return errNoSessionBus(why)
	}
	return secretservice.Exclusive(func() error { return gokeyring.Delete(service, user) })
}

// UnavailableError says that the OS keychain cannot be used: it is absent
// (no D-Bus session, no Secret Service), locked, or did not answer in time.
type UnavailableError struct {
	// Reason says what happened, for people.
	Reason string
	// Err is the keychain's own error, if any.
	Err error
}

// Error says that the keychain cannot be used, and why.
func (e *UnavailableError) Error() string {
	return "keyring: the OS keychain is not available (" + e.Reason + ")"
}

// Unwrap returns the keychain's own error, if any.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Defaults of KeychainStore.
const (
	// DefaultKeychainTimeout bounds every keychain call: a D-Bus call that
	// hangs must not hang git.
	DefaultKeychainTimeout = 3 * time.Second
	// keychainChunk is the most bytes put in one keychain item. Windows
	// allows 2560 bytes per secret and macOS about 3000 bytes per command
	// (base64 grows the secret by a third), so larger records are split.
	keychainChunk = 2000
	// indexUser is the item listing the stored keys; keys always contain
	// "://", so no key can collide with it.
	indexUser = "index"
)

// KeychainStore keeps records in the OS keychain: one item per server key
// under the service name, whose secret is the record as JSON. Records too
// large for one item are split into numbered items, written before the
// item that names them and checked with a hash when read back. An index
// item lists the keys, since keychains cannot be listed portably.
type KeychainStore struct {
	// Service is the keychain service name; default DefaultAppName.
	Service string
	// Keychain is the keychain used; default OSKeychain.
	Keychain Keychain
	// Timeout bounds each keychain call; default DefaultKeychainTimeout.
	Timeout time.Duration
	// LockDir holds the lock files; default the "locks" directory in the
	// application's cache directory.
	LockDir string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

var _ TokenStore = (*KeychainStore)(nil)

func (s *KeychainStore) service() string {
	if s.Service == "" {
		return DefaultAppName
	}
	return s.Service
}

func (s *KeychainStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *KeychainStore) lockDir() (string, error) {
	if s.LockDir != "" {
		return s.LockDir, nil
	}
	return defaultLockDir(s.service())
}

// call runs one keychain operation, bounded by the store's timeout.
// go-keyring's ErrNotFound becomes ours; every other failure means the
// keychain cannot be used.
func (s *KeychainStore) call(ctx context.Context, op func(Keychain) (string, error)) (string, error) {
	kc := s.Keychain
	if kc == nil {
		kc = OSKeychain{}
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultKeychainTimeout
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() { // left behind if the keychain hangs; it ends with the process
		v, err := op(kc)
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	start := time.Now()
	select {
	case r := <-done:
		flows.Debugf(ctx, flows.DebugDetails, "store: the keychain (service %q) answered in %v", s.service(), time.Since(start).Round(time.Millisecond))
		switch {
		case r.err == nil:
			return r.v, nil
		case errors.Is(r.err, gokeyring.ErrNotFound), errors.Is(r.err, ErrNotFound):
			return "", ErrNotFound
		case errors.Is(r.err, gokeyring.ErrSetDataTooBig):
			return "", fmt.Errorf("keyring: the OS keychain refused an item of this size: %w", r.err)
		}
		return "", &UnavailableError{Reason: oneLineError(r.err), Err: r.err}
	case <-t.C:
		return "", &UnavailableError{Reason: "it did not answer within " + timeout.String()}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (s *KeychainStore) get(ctx context.Context, user string) (string, error) {
	return s.call(ctx, func(kc Keychain) (string, error) { return kc.Get(s.service(), user) })
}

func (s *KeychainStore) set(ctx context.Context, user, secret string) error {
	_, err := s.call(ctx, func(kc Keychain) (string, error) { return "", kc.Set(s.service(), user, secret) })
	return err
}

func (s *KeychainStore) del(ctx context.Context, user string) error {
	_, err := s.call(ctx, func(kc Keychain) (string, error) { return "", kc.Delete(s.service(), user) })
	return err
}

// Probe checks that the keychain answers; it returns nil or an
// *UnavailableError.
func (s *KeychainStore) Probe(ctx context.Context) error {
	_, err := s.get(ctx, indexUser)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// place names a keychain item for messages.
func (s *KeychainStore) place(user string) string {
	return fmt.Sprintf("keychain item %q of service %q", user, s.service())
}

// readValue returns the whole value stored under user, joining chunks.
func (s *KeychainStore) readValue(ctx context.Context, user string) ([]byte, error) {
	v, err := s.get(ctx, user)
	if err != nil {
		return nil, err
	}
	joined, err := secretservice.Join(user, v, ErrNotFound, func(users ...string) ([]string, error) {
		parts := make([]string, 0, len(users))
		for _, u := range users {
			part, err := s.get(ctx, u)
			if err != nil {
				return parts, err
			}
			parts = append(parts, part)
		}
		return parts, nil
	})
	if ce := (*secretservice.CorruptError)(nil); errors.As(err, &ce) {
		return nil, &CorruptError{Place: s.place(user), Err: ce.Err}
	}
	if err != nil {
		return nil, err
	}
	return []byte(joined), nil
}

// writeValue stores value under user, split into chunks when it is large.
// The chunks of the new value get their own names (from its hash), are
// written first, and only then does the item under user point to them, so
// a reader sees the old value or the new one. The chunks of old, the value
// being replaced, are removed last.
func (s *KeychainStore) writeValue(ctx context.Context, user string, value []byte, old string) error {
	if len(value) <= keychainChunk {
		if err := s.set(ctx, user, string(value)); err != nil {
			return err
		}
	} else {
		sum := sha256.Sum256(value)
		hexSum := hex.EncodeToString(sum[:])
		gen := hexSum[:12]
		n := (len(value) + keychainChunk - 1) / keychainChunk
		for i := 1; i <= n; i++ {
			part := value[(i-1)*keychainChunk : min(i*keychainChunk, len(value))]
			if err := s.set(ctx, secretservice.ChunkUser(user, gen, i), string(part)); err != nil {
				return err
			}
		}
		if err := s.set(ctx, user, fmt.Sprintf("%s%s %d %s", secretservice.ChunkHeader, gen, n, hexSum)); err != nil {
			return err
		}
		if strings.HasPrefix(old, secretservice.ChunkHeader) {
			if oldGen, _, _, err := secretservice.ParseChunkHeader(old); err == nil && oldGen == gen {
				return nil
			}
		}
	}
	s.removeChunks(ctx, user, old)
	return nil
}

// removeChunks deletes the chunks an item's old value pointed to, if any.
func (s *KeychainStore) removeChunks(ctx context.Context, user, old string) {
	if !strings.HasPrefix(old, secretservice.ChunkHeader) {
		return
	}
	gen, n, _, err := secretservice.ParseChunkHeader(old)
	if err != nil {
		return
	}
	for i := 1; i <= n; i++ {
		s.del(ctx, secretservice.ChunkUser(user, gen, i))
	}
}

// Lock takes the cross-process lock of key, waiting until ctx ends.
func (s *KeychainStore) Lock(ctx context.Context, key string) (func(), error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	dir, err := s.lockDir()
	if err != nil {
		return nil, err
	}
	return lockFile(ctx, lockPath(dir, k))
}

// LockHolder returns the process that holds the lock of key right now, as
// its lock file names it; ok is false when none does, or it is unknown.
func (s *KeychainStore) LockHolder(key string) (holder LockHolder, ok bool) {
	k, err := Key(key)
	if err != nil {
		return LockHolder{}, false
	}
	dir, err := s.lockDir()
	if err != nil {
		return LockHolder{}, false
	}
	return readHolder(lockPath(dir, k))
}

// Get returns the live record stored under key.
func (s *KeychainStore) Get(ctx context.Context, key string) (*Record, error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	raw, err := s.readValue(ctx, k)
	if err != nil {
		return nil, err
	}
	rec, ok := decodeRecord(raw)
	if !ok {
		return nil, &CorruptError{Place: s.place(k), Err: errors.New("it does not hold an oidc-auth token record")}
	}
	noteRecord(ctx, rec)
	if !rec.Token.Live(s.now()) {
		return nil, ErrNotFound
	}
	rec.Token.Headers = map[string]string{"Authorization": rec.Token.Authorization()}
	return rec, nil
}

// Put stores rec under key. The Authorization header is left out of the
// item, since it repeats the access token; Get puts it back.
func (s *KeychainStore) Put(ctx context.Context, key string, rec *Record) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	old, err := s.get(ctx, k)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if old != "" && !strings.HasPrefix(old, secretservice.ChunkHeader) {
		if _, ok := decodeRecord([]byte(old)); !ok {
			return &CorruptError{Place: s.place(k), Err: errors.New("it does not hold an oidc-auth token record")}
		}
	}
	noteRecord(ctx, rec)
	small := *rec
	small.Token.Headers = nil
	raw, err := encodeRecord(&small, s.now())
	if err != nil {
		return err
	}
	if err := s.writeValue(ctx, k, raw, old); err != nil {
		return err
	}
	return s.updateIndex(ctx, func(keys map[string]bool) { keys[k] = true })
}

// Remove deletes the record stored under key; it returns ErrNotFound when
// there is none.
func (s *KeychainStore) Remove(ctx context.Context, key string) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	old, err := s.get(ctx, k)
	if err != nil {
		return err
	}
	if err := s.del(ctx, k); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.removeChunks(ctx, k, old)
	return s.updateIndex(ctx, func(keys map[string]bool) { delete(keys, k) })
}

// List returns the live records of the keys in the index, sorted by key.
// Records that cannot be read are left out.
func (s *KeychainStore) List(ctx context.Context) ([]Entry, error) {
	keys, err := s.readIndex(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, k := range keys {
		rec, err := s.Get(ctx, k)
		var ue *UnavailableError
		if errors.As(err, &ue) {
			return nil, err
		}
		if err == nil {
			out = append(out, Entry{Key: k, Backend: "keychain", Record: *rec})
		}
	}
	return out, nil
}

// readIndex returns the stored keys, sorted.
func (s *KeychainStore) readIndex(ctx context.Context) ([]string, error) {
	raw, err := s.readValue(ctx, indexUser)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var keys []string
	if err := json.Unmarshal(raw, &keys); err != nil {
		return nil, &CorruptError{Place: s.place(indexUser), Err: err}
	}
	sort.Strings(keys)
	return keys, nil
}

// updateIndex changes the index under its lock.
func (s *KeychainStore) updateIndex(ctx context.Context, change func(map[string]bool)) error {
	dir, err := s.lockDir()
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, fileWriteWait)
	defer cancel()
	unlock, err := lockFile(lctx, lockPath(dir, indexUser))
	if err != nil {
		return err
	}
	defer unlock()
	old, err := s.get(ctx, indexUser)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	keys, err := s.readIndex(ctx)
	var ce *CorruptError
	rebuild := errors.As(err, &ce) // the index only lists keys; rebuilding it loses no token
	if err != nil && !rebuild {
		return err
	}
	set := map[string]bool{}
	for _, k := range keys {
		set[k] = true
	}
	change(set)
	list := make([]string, 0, len(set))
	for k := range set {
		list = append(list, k)
	}
	sort.Strings(list)
	if !rebuild && slices.Equal(list, keys) {
		return nil // a refresh of a listed key: nothing to write
	}
	b, _ := json.Marshal(list)
	return s.writeValue(ctx, indexUser, b, old)
}

// oneLineError shortens a foreign error to one line.
func oneLineError(err error) string {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}
