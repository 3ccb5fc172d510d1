package keyring

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
)

// DefaultAppName is the application name that names the token file's
// directory and the keychain service when the caller gives none.
const DefaultAppName = "oidc-auth"

// Environment variables that choose the store.
const (
	// TokenFileEnv points all token storage at one JSON file, for batch jobs
	// and CI; the keychain is then never used.
	TokenFileEnv = "OIDC_TOKEN_FILE"
	// StoreEnv forces a backend: "keychain" or "file".
	StoreEnv = "OIDC_AUTH_STORE"
	// TokenHostEnv names the server whose token a bare-token
	// OIDC_TOKEN_FILE holds; such a file names none itself.
	TokenHostEnv = "OIDC_AUTH_HOST"
)

// Backend names, as Options.Backend, OIDC_AUTH_STORE and Entry.Backend use
// them.
const (
	BackendAuto     = "auto"
	BackendKeychain = "keychain"
	BackendFile     = "file"
)

// Options chooses a store, like the reference client's
// TokenStore(path=…, app_name=…). The zero value is the default store: the
// OS keychain, falling back to the JSON file.
type Options struct {
	// Path is an explicit token file; it rules out the keychain. When empty,
	// $OIDC_TOKEN_FILE is used the same way.
	Path string
	// AppName names the keychain service and the cache directory; default
	// DefaultAppName.
	AppName string
	// Backend forces "keychain" or "file"; default $OIDC_AUTH_STORE, else
	// "auto": the keychain when it answers, else the file.
	Backend string
	// BareServer is the server that a token file holding one bare token is
	// used for (see FileStore.BareServer); default $OIDC_AUTH_HOST.
	BareServer string
	// Warn receives the warning printed when a token goes to the file
	// because the keychain is unavailable, once per machine and reason
	// (see AutoStore); nil discards it.
	Warn io.Writer
	// Keychain is the keychain to use; default OSKeychain.
	Keychain Keychain
	// KeychainTimeout bounds each keychain call; default
	// DefaultKeychainTimeout.
	KeychainTimeout time.Duration
}

// Open returns the store that opts select. It makes no keychain call: an
// unavailable keychain shows on first use.
func Open(opts Options) (TokenStore, error) {
	backend := strings.ToLower(strings.TrimSpace(opts.Backend))
	from := "the store choice"
	if backend == "" {
		backend = strings.ToLower(strings.TrimSpace(os.Getenv(StoreEnv)))
		from = StoreEnv
	}
	switch backend {
	case "", BackendAuto, BackendKeychain, BackendFile:
	default:
		return nil, fmt.Errorf("keyring: %s %q is not a store; use keychain or file", from, backend)
	}
	path, pathFrom := opts.Path, "a token file path"
	if path == "" {
		path, pathFrom = os.Getenv(TokenFileEnv), TokenFileEnv+" is set"
	}
	if path != "" {
		if backend == BackendKeychain {
			return nil, fmt.Errorf("keyring: the keychain was asked for, but %s; unset it to use the keychain", pathFrom)
		}
		bare := opts.BareServer
		if bare == "" {
			bare = os.Getenv(TokenHostEnv)
		}
		return &FileStore{Path: path, BareServer: bare}, nil
	}
	defPath, err := DefaultFilePath(opts.AppName)
	if err != nil {
		return nil, err
	}
	file := &FileStore{Path: defPath}
	if backend == BackendFile {
		return file, nil
	}
	var python *PythonFileStore
	if pyPath, err := PythonFilePath(""); err == nil && pyPath != defPath {
		python = &PythonFileStore{FileStore: FileStore{Path: pyPath}}
	}
	kc := &KeychainStore{
		Service:  opts.AppName,
		Keychain: opts.Keychain,
		Timeout:  opts.KeychainTimeout,
		LockDir:  file.lockDir(),
	}
	if backend == BackendKeychain {
		return kc, nil
	}
	return &AutoStore{Keychain: kc, File: file, Python: python, Warn: opts.Warn, AppName: opts.AppName}, nil
}

// defaultLockDir is where the default stores of an application keep their
// lock files.
func defaultLockDir(appName string) (string, error) {
	p, err := DefaultFilePath(appName)
	if err != nil {
		return "", err
	}
	return (&FileStore{Path: p}).lockDir(), nil
}

// silentFor is how long a keychain that did not answer is skipped by later
// processes, so that each git or docker call does not wait out the bound.
const silentFor = 5 * time.Minute

// AutoStore uses the OS keychain and falls back to the JSON file when the
// keychain is absent, locked or silent. Records are read from both (the
// file may hold logins from times without a keychain), written to the
// keychain when it answers, else to the file with a warning. The warning
// shows once per machine and reason (see ReasonClass): the file
// "keychain-warned" beside the lock files lists the reasons already
// warned about, so that later processes stay quiet until the keychain
// fails in a new way. ProbeStore says where a save goes, warned or not.
//
// A server that neither backend holds a login of is looked up in the
// reference client's token file (Python), so that a login made with the
// Python client serves git, docker and kubectl too; such a login is
// refreshed and removed there, under that file's locks.
type AutoStore struct {
	// Keychain is the preferred backend.
	Keychain *KeychainStore
	// File is the fallback.
	File *FileStore
	// Python is the reference client's token file (see PythonFilePath),
	// read for the servers that neither backend holds a login of; nil
	// reads none. Open sets it.
	Python *PythonFileStore
	// Warn receives the fallback warning, once per machine and reason;
	// nil discards it.
	Warn io.Writer
	// AppName leads the warning; default DefaultAppName.
	AppName string

	mu     sync.Mutex
	down   error // why the keychain is not used, once known
	warned bool
	pyMiss pyMiss // the last key the reference client's file held none of
}

var _ TokenStore = (*AutoStore)(nil)

// markerPath is the file whose recent modification time says that the
// keychain did not answer.
func (s *AutoStore) markerPath() string {
	return filepath.Join(s.File.lockDir(), "keychain-silent")
}

// keychainDown returns why the keychain is not to be used, or nil. A
// marker that is a link, not a regular file, or not the user's own is
// ignored.
func (s *AutoStore) keychainDown(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down == nil {
		fi, err := os.Lstat(s.markerPath())
		if err == nil && checkFile(s.markerPath(), fi, roleLock) == nil && time.Since(fi.ModTime()) < silentFor {
			s.down = &UnavailableError{Reason: "it did not answer a moment ago; it is tried again after " + fi.ModTime().Add(silentFor).Format("15:04:05")}
			flows.Debugf(ctx, flows.DebugDecisions, "store: the keychain is skipped: %s says it did not answer at %s", s.markerPath(), fi.ModTime().Format("15:04:05"))
		}
	}
	return s.down
}

// usable records a keychain error: it reports whether err leaves the
// keychain usable, and remembers an unavailable keychain (across processes
// when it did not answer).
func (s *AutoStore) usable(ctx context.Context, err error) bool {
	var ue *UnavailableError
	if !errors.As(err, &ue) {
		return true
	}
	s.mu.Lock()
	s.down = err
	s.mu.Unlock()
	flows.Debugf(ctx, flows.DebugDecisions, "store: the keychain cannot be used (%s); falling back to the file %s", ue.Reason, s.File.Path)
	if ue.Err == nil { // a timeout, not an answer
		s.markSilent(ctx)
	}
	return false
}

// markSilent touches the marker that tells later processes that the
// keychain did not answer. It is best effort, and writes nothing through a
// link or into a directory the store does not trust.
func (s *AutoStore) markSilent(ctx context.Context) {
	if s.File.checkDir() != nil || ensureLockDir(s.File.lockDir()) != nil {
		return
	}
	f, err := openNoFollow(s.markerPath(), os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || checkFile(s.markerPath(), fi, roleLock) != nil || f.Truncate(0) != nil {
		return
	}
	now := time.Now()
	fmt.Fprintf(f, "the OS keychain did not answer at %s; it is skipped until %s\n",
		now.Format(time.RFC3339), now.Add(silentFor).Format(time.RFC3339)) // the write sets the time read back
	flows.Debugf(ctx, flows.DebugDetails, "store: %s written: other processes skip the keychain until %s", s.markerPath(), now.Add(silentFor).Format("15:04:05"))
}

// warn prints the fallback warning once per machine and reason class
// (see ReasonClass): the classes already warned about are kept in a marker
// beside the lock files, so that the next login, refresh or helper call
// does not repeat it.
func (s *AutoStore) warn(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.warned || s.Warn == nil {
		return
	}
	s.warned = true
	class := ReasonClass(s.down)
	if s.warnedBefore(class) {
		flows.Debugf(ctx, flows.DebugDetails, "store: the keychain warning for %q was shown before (%s); not again", class, s.warnedPath())
		return
	}
	app := s.AppName
	if app == "" {
		app = DefaultAppName
	}
	reason := "it is not available"
	var ue *UnavailableError
	if errors.As(s.down, &ue) {
		reason = ue.Reason
	}
	fmt.Fprintf(s.Warn, "%s: warning: the OS keychain cannot be used (%s); the token is stored in %s instead (set %s=file to silence this)\n",
		app, reason, s.File.Path, StoreEnv)
	s.rememberWarned(ctx, class)
}

// Lock takes the cross-process lock of key (shared by both backends).
func (s *AutoStore) Lock(ctx context.Context, key string) (func(), error) {
	unlock, err := s.File.Lock(ctx, key)
	if err != nil {
		return nil, err
	}
	return s.lockPython(ctx, key, unlock)
}

// LockHolder returns the process that holds the lock of key right now (see
// FileStore.LockHolder).
func (s *AutoStore) LockHolder(key string) (holder LockHolder, ok bool) {
	return s.File.LockHolder(key)
}

// Get returns the live record of key from the keychain, else from the
// file, else from the reference client's file.
func (s *AutoStore) Get(ctx context.Context, key string) (*Record, error) {
	rec, err := s.ownGet(ctx, key)
	if errors.Is(err, ErrNotFound) {
		if py, ok := s.pythonFor(ctx, key); ok {
			return py, nil
		}
	}
	return rec, err
}

// Put stores rec in the keychain, dropping any copy in the file; when the
// keychain cannot be used, it stores rec in the file and warns, once per
// machine and reason. A login that Get finds in the reference client's
// file only is saved back there.
func (s *AutoStore) Put(ctx context.Context, key string, rec *Record) error {
	if ok, err := s.putPython(ctx, key, rec); ok {
		return err
	}
	if s.keychainDown(ctx) == nil {
		err := s.Keychain.Put(ctx, key, rec)
		if err == nil {
			flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is saved in the keychain", key)
			if _, ferr := s.File.Get(ctx, key); ferr == nil {
				flows.Debugf(ctx, flows.DebugDecisions, "store: removing the older copy in the file %s", s.File.Path)
				s.File.Remove(ctx, key)
			}
			return nil
		}
		if s.usable(ctx, err) {
			return err
		}
	}
	s.warn(ctx)
	return s.File.Put(ctx, key, rec)
}

// Remove deletes key's record from both backends and from the reference
// client's file; it returns ErrNotFound when none had one.
func (s *AutoStore) Remove(ctx context.Context, key string) error {
	found, err := s.removePython(ctx, key)
	if err != nil {
		return err
	}
	if s.keychainDown(ctx) == nil {
		err := s.Keychain.Remove(ctx, key)
		switch {
		case err == nil:
			found = true
			flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is removed from the keychain", key)
		case errors.Is(err, ErrNotFound):
		case s.usable(ctx, err):
			return err
		}
	}
	err = s.File.Remove(ctx, key)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound) && found:
		return nil
	}
	return err
}

// List returns the records of both backends, sorted by key; a key in both
// is listed once, from the keychain. The logins of the reference client's
// file that neither has are listed too, as BackendPython entries.
func (s *AutoStore) List(ctx context.Context) ([]Entry, error) {
	var out []Entry
	seen := map[string]bool{}
	if s.keychainDown(ctx) == nil {
		list, err := s.Keychain.List(ctx)
		if err != nil && s.usable(ctx, err) {
			return nil, err
		}
		for _, e := range list {
			seen[e.Key] = true
			out = append(out, e)
		}
	}
	list, err := s.File.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range list {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e)
		}
	}
	out = s.listPython(ctx, out, seen)
	sortEntries(out)
	return out, nil
}
