package keyring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/oidc-auth/oidc-auth/flows"
)

// PythonAppName is the application name of the reference client
// (py-oidc-auth-client): its token file is
// ~/.cache/py-oidc-auth/token-store.json (see PythonFilePath).
const PythonAppName = "py-oidc-auth"

// BackendPython is Entry.Backend of a login that the default store found
// in the reference client's token file (see AutoStore.Python).
const BackendPython = "py-oidc-auth file"

// PythonFilePath returns the reference client's token file for appName
// (default PythonAppName), where its `oidc-auth` command keeps its logins:
// $XDG_CACHE_HOME/<appName>/token-store.json, or
// ~/.cache/<appName>/token-store.json when XDG_CACHE_HOME is unset, on
// every platform, as that client does (the home directory is
// os.UserHomeDir's: %USERPROFILE% on Windows).
func PythonFilePath(appName string) (string, error) {
	if appName == "" {
		appName = PythonAppName
	}
	if dir := os.Getenv("XDG_CACHE_HOME"); dir != "" {
		return filepath.Join(dir, appName, storeFileName), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("keyring: no home directory for the Python client's token file (%v); set XDG_CACHE_HOME, or %s to the file to use", err, TokenFileEnv)
	}
	return filepath.Join(home, ".cache", appName, storeFileName), nil
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
	fi, err := os.Lstat(s.Python.Path)
	if err != nil {
		return nil, false // no file: nothing to read
	}
	s.mu.Lock()
	miss := s.pyMiss
	s.mu.Unlock()
	if miss.key == key && miss.info != nil && os.SameFile(miss.info, fi) && miss.info.Size() == fi.Size() && miss.info.ModTime().Equal(fi.ModTime()) {
		return nil, false // read already, unchanged since, and it held none
	}
	rec, err := s.Python.Get(ctx, key)
	if errors.Is(err, ErrNotFound) {
		s.mu.Lock()
		s.pyMiss = pyMiss{key: key, info: fi}
		s.mu.Unlock()
	}
	switch {
	case err == nil:
		flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is the one the Python client keeps in %s", key, s.Python.Path)
		return rec, true
	case !errors.Is(err, ErrNotFound):
		flows.Debugf(ctx, flows.DebugDecisions, "store: the Python client's file is not used: %v", err)
	}
	return nil, false
}

// pyMiss remembers that the reference client's file, as it was when
// Lstat returned info, holds no live login of key, so that the next
// question about key in the same process does not read it again while
// its size, modification time and identity are unchanged.
type pyMiss struct {
	key  string
	info fs.FileInfo
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

// PythonFileStore is the reference client's token file: a FileStore (same
// lock, atomic replacement and ownership checks) whose writes are laid out
// as the reference client's json.dumps(data, indent=2) lays them out, so
// that the file looks the same whichever client wrote it last: the servers
// in the order the file has them (a new one last), two-space indentation,
// non-ASCII characters as \uXXXX escapes, "<>&" as they are, stored_at as
// a Python float, and no newline at the end.
//
// An entry this store writes holds, beside "token" and "stored_at", the
// "server" and "claims" keys that FileStore adds; the reference client
// ignores them, and drops them when it rewrites that entry.
type PythonFileStore struct {
	FileStore
}

var _ TokenStore = (*PythonFileStore)(nil)

// pyContent is the file's servers, in the file's order.
type pyContent struct {
	order   []string
	entries map[string]json.RawMessage
}

func (c *pyContent) set(k string, raw json.RawMessage) {
	if _, ok := c.entries[k]; !ok {
		c.order = append(c.order, k)
	}
	c.entries[k] = raw
}

func (c *pyContent) remove(k string) bool {
	if _, ok := c.entries[k]; !ok {
		return false
	}
	delete(c.entries, k)
	c.order = slices.DeleteFunc(c.order, func(o string) bool { return o == k })
	return true
}

// Put stores rec under key, keeping every other entry of the file and the
// file's order.
func (s *PythonFileStore) Put(ctx context.Context, key string, rec *Record) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	noteRecord(ctx, rec)
	raw, err := encodePyRecord(rec, s.now())
	if err != nil {
		return err
	}
	err = s.pyUpdate(ctx, "save the token to", func(c *pyContent) error {
		c.set(k, raw)
		return nil
	}, func() error { return s.FileStore.Put(ctx, key, rec) })
	if err == nil {
		flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is saved in the Python client's file %s", k, s.Path)
	}
	return err
}

// Remove deletes the record stored under key; it returns ErrNotFound when
// there is none.
func (s *PythonFileStore) Remove(ctx context.Context, key string) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	if c, err := s.lookup(k); err != nil {
		return err
	} else if c.bare != nil || c.entries[k] == nil {
		return s.FileStore.Remove(ctx, key) // a bare token, or nothing to remove
	}
	return s.pyUpdate(ctx, "remove the token from", func(c *pyContent) error {
		if !c.remove(k) {
			return ErrNotFound
		}
		return nil
	}, func() error { return s.FileStore.Remove(ctx, key) })
}

// Clear removes every entry, live or not, as the reference client's
// clear() does: the file then holds {}.
func (s *PythonFileStore) Clear(ctx context.Context) error {
	if c, err := s.read(); err != nil || (c.bare == nil && len(c.entries) == 0) {
		return err // nothing to clear: no lock, no write
	}
	return s.pyUpdate(ctx, "clear", func(c *pyContent) error {
		c.order, c.entries = nil, map[string]json.RawMessage{}
		return nil
	}, func() error { return s.FileStore.Remove(ctx, s.BareServer) })
}

// pyUpdate is FileStore.update with the reference client's layout: change
// runs on the file's servers under the store's lock, and the result is
// written atomically. A file that holds one bare token is left to
// FileStore (bare).
func (s *PythonFileStore) pyUpdate(ctx context.Context, action string, change func(*pyContent) error, bare func() error) error {
	ctx, cancel := context.WithTimeout(ctx, fileWriteWait)
	defer cancel()
	if err := s.precheck(); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, filepath.Join(s.lockDir(), "store.lock"))
	if err != nil {
		var le *LockError
		if errors.As(err, &le) && !le.timedOut() {
			return &wrapError{msg: "keyring: cannot " + action + " " + s.Path + ": " + strings.TrimPrefix(err.Error(), "keyring: "), err: err}
		}
		return err
	}
	checked, err := s.read() // the checks of the file, under the lock
	if err != nil {
		unlock()
		return err
	}
	if checked.bare != nil {
		unlock()
		return bare()
	}
	defer unlock()
	s.removeOrphans()
	c, err := s.readOrdered()
	if err != nil {
		return err
	}
	if err := change(c); err != nil {
		return err
	}
	b, err := pyDumps(c)
	if err != nil {
		return err
	}
	return s.write(action, b)
}

// readOrdered reads the file's servers in the file's order. The file has
// just been checked (see FileStore.read); it is opened without following a
// link and checked again on its descriptor.
func (s *PythonFileStore) readOrdered() (*pyContent, error) {
	c := &pyContent{entries: map[string]json.RawMessage{}}
	f, err := openNoFollow(s.Path, os.O_RDONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	if err := checkFile(s.Path, fi, roleStore); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	if len(bytes.TrimSpace(b)) == 0 || string(bytes.TrimSpace(b)) == "null" {
		return c, nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, &CorruptError{Place: s.Path, Err: errors.New("not a JSON object")}
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, &CorruptError{Place: s.Path, Err: err}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, &CorruptError{Place: s.Path, Err: err}
		}
		c.set(t.(string), raw)
	}
	return c, nil
}

// pyRecord is storedRecord with stored_at as the reference client writes
// it: a Python float (1767225000.0, never 1767225000).
type pyRecord struct {
	Token    *Token        `json:"token"`
	StoredAt json.Number   `json:"stored_at"`
	Server   *Server       `json:"server,omitempty"`
	Claims   *flows.Claims `json:"claims,omitempty"`
}

// encodePyRecord is encodeRecord in the reference client's layout.
func encodePyRecord(rec *Record, now time.Time) (json.RawMessage, error) {
	stored := rec.StoredAt
	if stored.IsZero() {
		stored = now
	}
	at := strconv.FormatFloat(float64(stored.UnixMicro())/1e6, 'f', -1, 64)
	if !strings.Contains(at, ".") {
		at += ".0"
	}
	tok := rec.Token
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pyRecord{Token: &tok, StoredAt: json.Number(at), Server: rec.Server, Claims: tok.Claims}); err != nil {
		return nil, fmt.Errorf("keyring: encode token: %w", err)
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// pyDumps lays c out as Python's json.dumps(c, indent=2) does.
func pyDumps(c *pyContent) ([]byte, error) {
	if len(c.order) == 0 {
		return []byte("{}"), nil
	}
	var out bytes.Buffer
	out.WriteString("{")
	for i, k := range c.order {
		if i > 0 {
			out.WriteString(",")
		}
		key, err := json.Marshal(k)
		if err != nil {
			return nil, fmt.Errorf("keyring: encode token store: %w", err)
		}
		out.WriteString("\n  ")
		out.Write(key)
		out.WriteString(": ")
		if err := json.Indent(&out, c.entries[k], "  ", "  "); err != nil {
			return nil, fmt.Errorf("keyring: encode token store: %w", err)
		}
	}
	out.WriteString("\n}")
	return pyASCII(out.Bytes()), nil
}

// pyASCII escapes what Python's json module escapes and Go's does not, and
// unescapes what only Go's escapes: every non-ASCII character and DEL
// become \uXXXX (a surrogate pair above U+FFFF), and Go's \u003c, \u003e and
// \u0026 become <, > and &. Outside strings JSON is ASCII, so only strings
// change.
func pyASCII(b []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(b); {
		switch {
		case b[i] == '\\' && i+1 < len(b) && b[i+1] == '\\':
			out.WriteString(`\\`)
			i += 2
			continue
		case b[i] == '\\' && i+6 <= len(b):
			switch string(b[i : i+6]) {
			case `\u003c`, `\u003e`, `\u0026`:
				n, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 8)
				out.WriteByte(byte(n))
				i += 6
				continue
			}
		}
		if b[i] == 0x7f { // DEL, which Python escapes too
			out.WriteString(`\u007f`)
			i++
			continue
		}
		if b[i] < utf8.RuneSelf {
			out.WriteByte(b[i])
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		} else {
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		i += size
	}
	return out.Bytes()
}
