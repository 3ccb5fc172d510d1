package keyring

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// FileStore is the JSON file backend, in the reference client's v1 format:
//
//	{"https://auth.example.org": {"token": {…}, "stored_at": 1767225000.5}}
//
// Entries of other keys, including ones this package cannot decode, are
// kept as they are when the file is rewritten. A file that is not valid JSON
// is reported and never overwritten. Every change is a read-modify-write
// under a lock file, so concurrent processes never lose each other's
// entries, and the new content goes to a synced temporary file in the same
// directory (mode 0600, directory 0700) that is renamed over the old one.
//
// The file may instead hold one bare token object, as batch tools write for
// a job ({"access_token": …, "refresh_token": …}). Such a file serves only
// BareServer, is refreshed in place, and is never used for another host.
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
}

var _ TokenStore = (*FileStore)(nil)

// fileWriteWait bounds the wait for another process's read-modify-write.
const fileWriteWait = 10 * time.Second

// storedRecord is one key's value in the v1 file, and the value of a
// keychain item.
type storedRecord struct {
	Token    *Token  `json:"token"`
	StoredAt float64 `json:"stored_at"`
	// Server is this client's own addition; the reference client ignores it.
	Server *Server `json:"server,omitempty"`
}

// encodeRecord turns rec into its stored JSON, stamped with now when it
// carries no time.
func encodeRecord(rec *Record, now time.Time) ([]byte, error) {
	stored := rec.StoredAt
	if stored.IsZero() {
		stored = now
	}
	tok := rec.Token
	b, err := json.Marshal(storedRecord{Token: &tok, StoredAt: float64(stored.UnixMicro()) / 1e6, Server: rec.Server})
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

// DefaultFilePath returns the token file of an application:
// $XDG_CACHE_HOME/<appName>/token-store.json, or
// ~/.cache/<appName>/token-store.json when XDG_CACHE_HOME is unset, on every
// platform, as the reference client does.
func DefaultFilePath(appName string) (string, error) {
	if appName == "" {
		appName = DefaultAppName
	}
	dir := os.Getenv("XDG_CACHE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("keyring: no cache directory: %w", err)
		}
		dir = filepath.Join(home, ".cache")
	}
	return filepath.Join(dir, appName, "token-store.json"), nil
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

// Lock takes the cross-process lock of key, waiting until ctx ends.
func (s *FileStore) Lock(ctx context.Context, key string) (func(), error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	return lockFile(ctx, lockPath(s.lockDir(), k))
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
	c, err := s.read()
	if err != nil {
		return nil, err
	}
	if c.bare != nil {
		if err := s.bareFor(k); err != nil {
			return nil, err
		}
		if !c.bare.Live(s.now()) {
			return nil, ErrNotFound
		}
		return &Record{Token: *c.bare}, nil
	}
	rec, ok := decodeRecord(c.entries[k])
	if !ok || !rec.Token.Live(s.now()) {
		return nil, ErrNotFound
	}
	return rec, nil
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
	return s.update(ctx, func(c *fileContent) error {
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
}

// Remove deletes the record stored under key; it returns ErrNotFound when
// there is none. Removing the token of a bare-token file removes the file.
func (s *FileStore) Remove(ctx context.Context, key string) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	if c, err := s.read(); err != nil {
		return err
	} else if (c.bare == nil && c.entries[k] == nil) || (c.bare != nil && !s.servesBare(k)) {
		return ErrNotFound // nothing to remove: no lock, no write
	}
	return s.update(ctx, func(c *fileContent) error {
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
			out = append(out, Entry{Key: k, Backend: "file", Record: Record{Token: *c.bare}})
		}
		return out, nil
	}
	for k, raw := range c.entries {
		if rec, ok := decodeRecord(raw); ok && rec.Token.Live(s.now()) {
			out = append(out, Entry{Key: k, Backend: "file", Record: *rec})
		}
	}
	sortEntries(out)
	return out, nil
}

func sortEntries(es []Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Key < es[j].Key })
}

// update runs change on the file's content under the file's lock and
// writes the result. A change that returns an error writes nothing.
func (s *FileStore) update(ctx context.Context, change func(*fileContent) error) error {
	ctx, cancel := context.WithTimeout(ctx, fileWriteWait)
	defer cancel()
	unlock, err := lockFile(ctx, filepath.Join(s.lockDir(), "store.lock"))
	if err != nil {
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
	if wasBare {
		if c.bare == nil {
			if err := os.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("keyring: remove %s: %w", s.Path, err)
			}
			return nil
		}
		b, err := json.MarshalIndent(c.bare, "", "  ")
		if err != nil {
			return fmt.Errorf("keyring: encode token: %w", err)
		}
		return WriteFileAtomic(s.Path, append(b, '\n'))
	}
	return s.write(c.entries)
}

// removeOrphans deletes temporary files that writers killed mid-write left
// beside the file. Every write holds the store's lock, so under it no
// temporary file of this store belongs to a live writer.
func (s *FileStore) removeOrphans() {
	orphans, _ := filepath.Glob(filepath.Join(filepath.Dir(s.Path), "."+filepath.Base(s.Path)+".*.tmp"))
	for _, o := range orphans {
		os.Remove(o)
	}
}

// read loads the whole file. A missing or empty file is an empty store.
func (s *FileStore) read() (*fileContent, error) {
	c := &fileContent{entries: map[string]json.RawMessage{}}
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: read token store: %w", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return c, nil
	}
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

// write replaces the file atomically: a synced temporary file in the same
// directory is renamed over it, so readers see the old or the new content,
// never a mix.
func (s *FileStore) write(all map[string]json.RawMessage) error {
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("keyring: encode token store: %w", err)
	}
	return WriteFileAtomic(s.Path, append(b, '\n'))
}

// WriteFileAtomic replaces path with data, readable by its owner only
// (0600): the data goes to a synced temporary file in the same directory
// (created 0700 when missing), which is renamed over path, so that readers
// see the old content or the new, never a mix.
//
// A path that is a symbolic link (as dotfile managers make) is written
// through: the link's target is replaced and the link stays.
func WriteFileAtomic(path string, data []byte) error {
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keyring: create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("keyring: replace %s: %w", path, err)
	}
	ok = true
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
