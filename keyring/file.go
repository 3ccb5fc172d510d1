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
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/internal/jsonscan"
	"github.com/oidc-auth/oidc-auth/internal/storekey"
)

// FileStore is the JSON file backend, in the reference client's v1 format:
//
//	{"https://auth.example.org": {"token": {…}, "stored_at": 1767225000.5}}
//
// Entries of other keys, including ones this package cannot decode, are
// kept as they are when the file is rewritten. A file that is not valid JSON
// is reported and never overwritten. Get (and Remove, before it locks)
// decode the one entry asked for, so that their cost does not grow with
// the number of logins: they check the whole file's structure and that
// entry in full, but the escapes and control characters inside other
// entries' strings, and the exact form of their numbers, only as every
// write and List do, by decoding the whole file, which then reports such a
// defect as a *CorruptError. Every change is a read-modify-write
// under a lock file, so concurrent processes never lose each other's
// entries, and the new content goes to a synced temporary file in the same
// directory (mode 0600, directory 0700) that is renamed over the old one.
//
// The file may instead hold one bare token object, as batch tools write for
// a job ({"access_token": …, "refresh_token": …}). Such a file serves only
// BareServer, is refreshed in place, and is never used for another host.
//
// The store trusts only what the user alone controls, as OpenSSH's
// StrictModes does. Get, Put, Remove, List and Lock refuse, with an
// *UnsafeError and without touching it: a store file, lock file, store
// directory or lock directory that is a symbolic link (directories above
// the store's own may be links); and on Unix, a store file that another
// user owns or that has group or other permission bits (chmod 600 fixes
// it), or a store or lock directory that another user owns or that group
// or others may write to. On Windows only the link checks run: there the
// default store lives in the user's profile (%LocalAppData%, see
// DefaultFilePath), whose access control list admits the user, SYSTEM and
// the administrators alone, and a new directory inherits it.
type FileStore struct {
	// Path is the file's location (see DefaultFilePath).
	Path string
	// LockDir holds the lock files; default a hidden directory beside Path
	// (".<name>.locks").
	LockDir string
	// BareServer is the one server a bare-token file is used for; with it
	// unset, a bare token serves no server, and asking for one says so.
	BareServer string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	// writeHook, when set, stands in for the writes of the new content, so
	// that tests can make them fail; nil means (*os.File).Write.
	writeHook func(f *os.File, b []byte) (int, error)
}

var _ TokenStore = (*FileStore)(nil)

// fileWriteWait bounds the wait for another process's read-modify-write,
// and, on Windows, the retries of the store file's replacement while
// another process holds it open: longer than other files' (replaceWait),
// since a rotated login that is not saved is lost.
const fileWriteWait = 10 * time.Second

// storedRecord is one key's value in the v1 file, and the value of a
// keychain item.
type storedRecord struct {
	Token    *Token  `json:"token"`
	StoredAt float64 `json:"stored_at"`
	// Server is this client's own addition; the reference client ignores it.
	Server *Server `json:"server,omitempty"`
	// Claims, who the login names, are this client's own addition too;
	// they are kept beside the token, so that the token object holds the
	// v1 fields alone.
	Claims *flows.Claims `json:"claims,omitempty"`
}

// encodeRecord turns rec into its stored JSON, stamped with now when it
// carries no time.
func encodeRecord(rec *Record, now time.Time) ([]byte, error) {
	stored := rec.StoredAt
	if stored.IsZero() {
		stored = now
	}
	tok := rec.Token
	b, err := json.Marshal(storedRecord{Token: &tok, StoredAt: float64(stored.UnixMicro()) / 1e6, Server: rec.Server, Claims: tok.Claims})
	if err != nil {
		return nil, fmt.Errorf("keyring: encode token: %w", err)
	}
	return b, nil
}

// decodeRecord turns stored JSON into a record; ok is false when it cannot
// be decoded.
func decodeRecord(raw []byte) (*Record, bool) {
	var e storedRecord
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil || e.Token == nil {
		return nil, false
	}
	e.Token.Claims = e.Claims
	if e.Claims == nil && bytes.Contains(raw, []byte(`"claims"`)) { // older files kept them in the token
		var old struct {
			Token struct {
				Claims *flows.Claims `json:"claims"`
			} `json:"token"`
		}
		if json.Unmarshal(raw, &old) == nil {
			e.Token.Claims = old.Token.Claims
		}
	}
	sec := int64(e.StoredAt)
	return &Record{
		Token:    *e.Token,
		Server:   e.Server,
		StoredAt: time.Unix(sec, int64((e.StoredAt-float64(sec))*1e9)),
	}, true
}

// CorruptError reports a store whose content cannot be decoded. The store
// is left as it is.
type CorruptError struct {
	// Place names the file or keychain entry.
	Place string
	// Err is the decoding error.
	Err error
}

// Error names the damaged store and what to do about it.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("keyring: %s is not a valid token store (%v); fix or remove it", e.Place, e.Err)
}

// Unwrap returns the decoding error.
func (e *CorruptError) Unwrap() error { return e.Err }

// DefaultFilePath returns the token file of an application (default
// DefaultAppName): $XDG_CACHE_HOME/<appName>/token-store.json when
// XDG_CACHE_HOME is set, on every platform; else <appName>/token-store.json
// in the platform's cache directory (os.UserCacheDir): ~/.cache on Linux
// and the other Unix systems, ~/Library/Caches on macOS, %LocalAppData% on
// Windows.
//
// Releases before this one used ~/.cache on every platform. So that no
// login is lost by an upgrade, a file there is still used, on macOS and
// Windows, for as long as the platform's own path holds none.
func DefaultFilePath(appName string) (string, error) {
	return defaultFilePath(appName, os.UserCacheDir)
}

// defaultFilePath is DefaultFilePath with the platform's cache directory
// from userCacheDir.
func defaultFilePath(appName string, userCacheDir func() (string, error)) (string, error) {
	if appName == "" {
		appName = DefaultAppName
	}
	return storekey.FilePath(appName, userCacheDir)
}

// storeFileName is the name of a token store file in its directory.
const storeFileName = "token-store.json"

// exists reports whether something, perhaps a link, is at path.
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func (s *FileStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *FileStore) lockDir() string {
	if s.LockDir != "" {
		return s.LockDir
	}
	return filepath.Join(filepath.Dir(s.Path), "."+filepath.Base(s.Path)+".locks")
}

// checkDir refuses the store's directory when it cannot be trusted.
func (s *FileStore) checkDir() error {
	return checkDir(filepath.Dir(s.Path), roleStoreDir)
}

// precheck refuses an untrusted directory or file before a write takes the
// store's lock, so that a refused write creates no lock file either. The
// file is checked again, on its open descriptor, under the lock.
func (s *FileStore) precheck() error {
	if err := s.checkDir(); err != nil {
		return err
	}
	fi, err := os.Lstat(s.Path)
	switch {
	case err != nil:
		return nil // missing, or reported by the read
	case fi.Mode()&fs.ModeSymlink != 0:
		return linkError(s.Path, roleStore)
	}
	return checkFile(s.Path, fi, roleStore)
}

// Lock takes the cross-process lock of key, waiting until ctx ends.
func (s *FileStore) Lock(ctx context.Context, key string) (func(), error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	if err := s.checkDir(); err != nil { // before the lock directory is made in it
		return nil, err
	}
	return lockFile(ctx, lockPath(s.lockDir(), k))
}

// LockHolder returns the process that holds the lock of key right now, as
// its lock file names it; ok is false when none does, or it is unknown.
func (s *FileStore) LockHolder(key string) (holder LockHolder, ok bool) {
	k, err := Key(key)
	if err != nil {
		return LockHolder{}, false
	}
	return readHolder(lockPath(s.lockDir(), k))
}

// fileContent is the decoded file: v1 entries, or one bare token.
type fileContent struct {
	entries map[string]json.RawMessage
	bare    *Token
}

// Get returns the live record stored under key.
func (s *FileStore) Get(ctx context.Context, key string) (*Record, error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	c, err := s.lookup(k)
	if err != nil {
		return nil, err
	}
	if c.bare != nil {
		if err := s.bareFor(k); err != nil {
			return nil, err
		}
		if !c.bare.Live(s.now()) {
			flows.Debugf(ctx, flows.DebugDecisions, "store: the bare token in %s is no longer live", s.Path)
			return nil, ErrNotFound
		}
		rec := &Record{Token: *c.bare, Server: s.bareServer()}
		noteRecord(ctx, rec)
		flows.Debugf(ctx, flows.DebugDecisions, "store: the file %s holds a bare token, used for %s", s.Path, k)
		return rec, nil
	}
	rec, ok := decodeRecord(c.entries[k])
	if !ok || !rec.Token.Live(s.now()) {
		flows.Debugf(ctx, flows.DebugDecisions, "store: the file %s holds no live login of %s", s.Path, k)
		return nil, ErrNotFound
	}
	noteRecord(ctx, rec)
	flows.Debugf(ctx, flows.DebugDecisions, "store: the file %s holds the login of %s", s.Path, k)
	return rec, nil
}

// bareServer is the server a bare token is recorded for: BareServer, path
// prefix included, so that callers hand the token out for that URL only.
func (s *FileStore) bareServer() *Server {
	if s.BareServer == "" {
		return nil
	}
	return &Server{Host: strings.TrimRight(strings.TrimSpace(s.BareServer), "/")}
}

// servesBare reports whether a bare token in the file is for key k.
func (s *FileStore) servesBare(k string) bool {
	return s.bareFor(k) == nil
}

// bareFor says why a bare token in the file is not for key k, or nil when
// it is. A bare token names no server, so it serves only the one named by
// BareServer, and never another host.
func (s *FileStore) bareFor(k string) error {
	if s.BareServer == "" {
		return fmt.Errorf("keyring: %s holds one bare token, which names no server; set %s to the server it belongs to", s.Path, TokenHostEnv)
	}
	if bk, err := Key(s.BareServer); err != nil || bk != k {
		return fmt.Errorf("keyring: %s holds the token of %s only; it is not used for %s", s.Path, s.BareServer, k)
	}
	return nil
}

// Put stores rec under key, keeping every other entry of the file.
func (s *FileStore) Put(ctx context.Context, key string, rec *Record) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	noteRecord(ctx, rec)
	err = s.update(ctx, "save the token to", func(c *fileContent) error {
		if c.bare != nil {
			if err := s.bareFor(k); err != nil {
				return err
			}
			tok := rec.Token
			c.bare = &tok
			return nil
		}
		raw, err := encodeRecord(rec, s.now())
		if err != nil {
			return err
		}
		c.entries[k] = raw
		return nil
	})
	if err == nil {
		flows.Debugf(ctx, flows.DebugDecisions, "store: the login of %s is saved in the file %s", k, s.Path)
	}
	return err
}

// Remove deletes the record stored under key; it returns ErrNotFound when
// there is none. Removing the token of a bare-token file removes the file.
func (s *FileStore) Remove(ctx context.Context, key string) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	if c, err := s.lookup(k); err != nil {
		return err
	} else if (c.bare == nil && c.entries[k] == nil) || (c.bare != nil && !s.servesBare(k)) {
		return ErrNotFound // nothing to remove: no lock, no write
	}
	return s.update(ctx, "remove the token from", func(c *fileContent) error {
		if c.bare != nil {
			if !s.servesBare(k) {
				return ErrNotFound
			}
			c.bare = nil
			return nil
		}
		if _, ok := c.entries[k]; !ok {
			return ErrNotFound
		}
		delete(c.entries, k)
		return nil
	})
}

// List returns the live records, sorted by key. A bare token is listed
// under BareServer's key (empty when BareServer is unset).
func (s *FileStore) List(ctx context.Context) ([]Entry, error) {
	c, err := s.read()
	if err != nil {
		return nil, err
	}
	var out []Entry
	if c.bare != nil {
		if c.bare.Live(s.now()) {
			k, _ := Key(s.BareServer)
			out = append(out, Entry{Key: k, Backend: "file", Record: Record{Token: *c.bare, Server: s.bareServer()}})
		}
		return out, nil
	}
	for k, raw := range c.entries {
		if rec, ok := decodeRecord(raw); ok && rec.Token.Live(s.now()) {
			out = append(out, Entry{Key: k, Backend: "file", Record: *rec})
		}
	}
	sortEntries(out)
	noteEntries(ctx, out)
	flows.Debugf(ctx, flows.DebugDetails, "store: the file %s holds %d live logins", s.Path, len(out))
	return out, nil
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
}

// update runs change on the file's content under the file's lock and
// writes the result. A change that returns an error writes nothing. action
// ("save the token to") words the error of a write that fails.
func (s *FileStore) update(ctx context.Context, action string, change func(*fileContent) error) error {
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
	defer unlock()
	s.removeOrphans()
	c, err := s.read()
	if err != nil {
		return err
	}
	wasBare := c.bare != nil
	if err := change(c); err != nil {
		return err
	}
	var b []byte
	switch {
	case wasBare && c.bare == nil:
		if err := removeFile(s.Path, fileWriteWait); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("keyring: cannot %s %s: %w", action, s.Path, cleanPathError(err))
		}
		return nil
	case wasBare:
		b, err = json.MarshalIndent(c.bare, "", "  ")
		if err != nil {
			return fmt.Errorf("keyring: encode token: %w", err)
		}
	default:
		b, err = json.MarshalIndent(c.entries, "", "  ")
		if err != nil {
			return fmt.Errorf("keyring: encode token store: %w", err)
		}
	}
	return s.write(action, append(b, '\n'))
}

// wrapError is an error with a message of its own that wraps another.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }

func (e *wrapError) Unwrap() error { return e.err }

// removeOrphans deletes temporary files that writers killed mid-write left
// beside the file. Every write holds the store's lock, so under it no
// temporary file of this store belongs to a live writer.
func (s *FileStore) removeOrphans() {
	orphans, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path), "."+filepath.Base(s.Path)+".*.tmp"))
	for _, o := range orphans {
		RemoveFile(o)
	}
}

// read loads and decodes the whole file, checking all of it: the writes
// and List use it. A missing or empty file is an empty store.
func (s *FileStore) read() (*fileContent, error) {
	b, err := s.readBytes()
	if err != nil || b == nil {
		return &fileContent{entries: map[string]json.RawMessage{}}, err
	}
	return s.decodeContent(b)
}

// lookup is read for the one entry of key k: only k's entry is decoded,
// the rest of the file scanned (see jsonscan.FindEntry), and the file is mapped
// into memory, not copied, where the system allows it, so that its cost
// does not grow with the number of logins. The content it returns holds
// k's entry alone, or the file's bare token.
func (s *FileStore) lookup(k string) (*fileContent, error) {
	f, fi, err := s.open()
	if err != nil || f == nil {
		return &fileContent{entries: map[string]json.RawMessage{}}, err
	}
	defer f.Close()
	if m, unmap, ok := mapFile(f, fi.Size()); ok {
		defer unmap()
		return s.lookupIn(m, k)
	}
	b, err := readAll(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	return s.lookupIn(b, k)
}

// lookupIn is lookup in the file's content b, which may be a mapping of
// the file: nothing it returns points into b, and a fault on reading b (the
// file cut short under the mapping by a program that rewrites it in place)
// is an error, not a crash.
func (s *FileStore) lookupIn(b []byte, k string) (c *fileContent, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if _, fault := r.(interface{ Addr() uintptr }); !fault {
				panic(r)
			}
			c, err = nil, fmt.Errorf("keyring: the token store %s changed while it was read; try again", s.Path)
		}
	}()
	c = &fileContent{entries: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
	raw, bare, err := jsonscan.FindEntry(b, k)
	if err != nil {
		return nil, &CorruptError{Place: s.Path, Err: err}
	}
	if len(bare) > 0 && bare[0] == '"' { // a bare token: a small file, decoded whole
		return s.decodeContent(b)
	}
	if raw != nil {
		c.entries[k] = bytes.Clone(raw)
	}
	return c, nil
}

// decodeContent decodes and checks a file's whole, non-blank content.
func (s *FileStore) decodeContent(b []byte) (*fileContent, error) {
	c := &fileContent{}
	if err := json.Unmarshal(b, &c.entries); err != nil {
		return nil, &CorruptError{Place: s.Path, Err: err}
	}
	if c.entries == nil { // the file held JSON null
		c.entries = map[string]json.RawMessage{}
	}
	if raw, ok := c.entries["access_token"]; ok && len(raw) > 0 && raw[0] == '"' {
		var tok Token
		if err := json.Unmarshal(b, &tok); err != nil {
			return nil, &CorruptError{Place: s.Path, Err: err}
		}
		c.bare, c.entries = &tok, nil
	}
	return c, nil
}

// readBytes reads the whole file; it returns nil for a missing file or
// one of whitespace alone.
func (s *FileStore) readBytes() ([]byte, error) {
	f, fi, err := s.open()
	if err != nil || f == nil {
		return nil, err
	}
	defer f.Close()
	b, err := readAll(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// open opens the file for reading, after checking it and its directory
// (see FileStore): one Lstat of the directory and one fstat of the open
// file. A missing file is no file and no error; a file missing because a
// regular file stands where a directory above it should be is an error, as
// on Unix (ENOTDIR), not an empty store: Windows reports such a path as not
// found.
func (s *FileStore) open() (*os.File, fs.FileInfo, error) {
	if err := s.checkDir(); err != nil {
		return nil, nil, err
	}
	f, err := openNoFollow(s.Path, os.O_RDONLY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := notDirAbove(s.Path); err != nil {
			return nil, nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, err)
		}
		return nil, nil, nil
	case errors.Is(err, errLink):
		return nil, nil, linkError(s.Path, roleStore)
	case err != nil:
		return nil, nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("keyring: cannot read the token store %s: %w", s.Path, cleanPathError(err))
	}
	if err := checkFile(s.Path, fi, roleStore); err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// readAll reads f to its end into one buffer of the size its stat gave
// (plus room to see the end), so that a large file is not copied as the
// buffer grows.
func readAll(f io.Reader, size int64) ([]byte, error) {
	if size <= 0 || size > 1<<30 {
		return io.ReadAll(f)
	}
	b := make([]byte, 0, size+512)
	for {
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// write replaces the file with data atomically: a synced temporary file in
// the same directory is renamed over it, so readers see the old or the new
// content, never a mix, and a write that fails (a full disk, a read-only
// directory) leaves the old file as it was and no temporary file. Unlike
// WriteFileAtomic, it refuses a symbolic link at the path instead of
// following it, as rename replaces no link's target, and it retries the
// rename for fileWriteWait.
func (s *FileStore) write(action string, data []byte) error {
	if isLink(s.Path) {
		return linkError(s.Path, roleStore)
	}
	if err := writeAtomic(s.Path, data, 0o600, s.writeHook, fileWriteWait); err != nil {
		return fmt.Errorf("keyring: cannot %s %s: %w", action, s.Path, err)
	}
	return nil
}
