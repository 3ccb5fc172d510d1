package keyring

import (
	"context"
	"errors"
	"os"

	"github.com/oidc-auth/oidc-auth/flows"
)

// PythonAppName is the application name of the reference client
// (py-oidc-auth-client): its token file is
// $XDG_CACHE_HOME/py-oidc-auth/token-store.json (see PythonFilePath).
const PythonAppName = "py-oidc-auth"

// BackendPython is Entry.Backend of a login that the default store found
// in the reference client's token file (see AutoStore.Python).
const BackendPython = "py-oidc-auth file"

// PythonFilePath returns the reference client's token file for appName
// (default PythonAppName), where its `oidc-auth` command keeps its logins.
func PythonFilePath(appName string) (string, error) {
	if appName == "" {
		appName = PythonAppName
	}
	return DefaultFilePath(appName)
}

// pythonFor returns the reference client's file when it is to be asked
// about key: when there is such a file and neither of the store's own
// backends holds a login of key. A file that cannot be trusted or read is
// not used, and says so in the debug log only: the store's own answer
// stands.
func (s *AutoStore) pythonFor(ctx context.Context, key string) (*Record, bool) {
	if s.Python == nil || s.Python.Path == s.File.Path {
		return nil, false
	}
	rec, err := s.Python.Get(ctx, key)
	switch {
	case err == nil:
		flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is the one the Python client keeps in %s", key, s.Python.Path)
		return rec, true
	case !errors.Is(err, ErrNotFound):
		flows.Debugf(ctx, flows.DebugDecisions, "store: the Python client's file is not used: %v", err)
	}
	return nil, false
}

// ownGet is Get from the keychain, else from the file, without the
// reference client's file.
func (s *AutoStore) ownGet(ctx context.Context, key string) (*Record, error) {
	if s.keychainDown(ctx) == nil {
		rec, err := s.Keychain.Get(ctx, key)
		switch {
		case err == nil:
			flows.Debugf(ctx, flows.DebugDecisions, "store: the keychain holds the login of %s", key)
			return rec, nil
		case errors.Is(err, ErrNotFound):
			flows.Debugf(ctx, flows.DebugDecisions, "store: the keychain holds no login of %s; looking in the file %s", key, s.File.Path)
		case s.usable(ctx, err):
			return nil, err
		}
	}
	return s.File.Get(ctx, key)
}

// putPython saves rec in the reference client's file when that is where
// the login of key lives (see pythonFor), so that a refresh of a login
// made with the Python client goes back to it and both clients keep
// using one login. ok is false when the login is not the Python client's.
func (s *AutoStore) putPython(ctx context.Context, key string, rec *Record) (ok bool, err error) {
	if _, found := s.pythonFor(ctx, key); !found {
		return false, nil
	}
	if _, err := s.ownGet(ctx, key); !errors.Is(err, ErrNotFound) {
		return false, nil // ours wins, as in Get
	}
	flows.Debugf(ctx, flows.DebugDecisions, "store: saving the login of %s back into the Python client's file %s", key, s.Python.Path)
	return true, s.Python.Put(ctx, key, rec)
}

// removePython removes key's login from the reference client's file too:
// a logout that left it there would be undone by the next Get. found
// reports whether there was one.
func (s *AutoStore) removePython(ctx context.Context, key string) (found bool, err error) {
	if _, ok := s.pythonFor(ctx, key); !ok {
		return false, nil
	}
	if err := s.Python.Remove(ctx, key); err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	return true, nil
}

// listPython adds the logins of the reference client's file that out
// does not have, as BackendPython entries.
func (s *AutoStore) listPython(ctx context.Context, out []Entry, seen map[string]bool) []Entry {
	if s.Python == nil || s.Python.Path == s.File.Path {
		return out
	}
	list, err := s.Python.List(ctx)
	if err != nil {
		flows.Debugf(ctx, flows.DebugDecisions, "store: the Python client's file is not listed: %v", err)
		return out
	}
	for _, e := range list {
		if !seen[e.Key] {
			e.Backend = BackendPython
			out = append(out, e)
		}
	}
	return out
}

// lockPython takes, beside the store's own lock of key, the lock the
// reference client's file has for key when that file exists, so that a
// refresh through this store and one through that file (`oidc-auth HOST`)
// never run at once. A lock that cannot be taken there (a directory not to
// be trusted) is skipped: that file is then not used either.
func (s *AutoStore) lockPython(ctx context.Context, key string, unlock func()) (func(), error) {
	if s.Python == nil || s.Python.Path == s.File.Path {
		return unlock, nil
	}
	if _, err := os.Lstat(s.Python.Path); err != nil {
		return unlock, nil
	}
	pyUnlock, err := s.Python.Lock(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			unlock()
			return nil, err
		}
		flows.Debugf(ctx, flows.DebugDecisions, "store: the Python client's file is not locked: %v", err)
		return unlock, nil
	}
	return func() { pyUnlock(); unlock() }, nil
}
