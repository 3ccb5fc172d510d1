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
// is reported and never overwritten. Writes go to a temporary file in the
// same directory (mode 0600, directory 0700) that is synced and renamed over
// the old one.
type FileStore struct {
	// Path is the file's location (see DefaultFilePath).
	Path string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

var _ TokenStore = (*FileStore)(nil)

// fileEntry is one key's value in the v1 file.
type fileEntry struct {
	Token    *Token  `json:"token"`
	StoredAt float64 `json:"stored_at"`
	// Server is this client's own addition; the reference client ignores it.
	Server *Server `json:"server,omitempty"`
}

// CorruptError reports a store whose content cannot be decoded. The store
// is left as it is.
type CorruptError struct {
	// Place names the file or keychain entry.
	Place string
	// Err is the decoding error.
	Err error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("keyring: %s is not a valid token store (%v); fix or remove it", e.Place, e.Err)
}

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

// Get returns the live record stored under key.
func (s *FileStore) Get(ctx context.Context, key string) (*Record, error) {
	k, err := Key(key)
	if err != nil {
		return nil, err
	}
	all, err := s.read()
	if err != nil {
		return nil, err
	}
	rec, ok := s.decode(all[k])
	if !ok {
		return nil, ErrNotFound
	}
	return rec, nil
}

// Put stores rec under key, keeping every other entry of the file.
func (s *FileStore) Put(ctx context.Context, key string, rec *Record) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	all, err := s.read()
	if err != nil {
		return err
	}
	stored := rec.StoredAt
	if stored.IsZero() {
		stored = s.now()
	}
	tok := rec.Token
	raw, err := json.Marshal(fileEntry{Token: &tok, StoredAt: float64(stored.UnixMicro()) / 1e6, Server: rec.Server})
	if err != nil {
		return fmt.Errorf("keyring: encode token: %w", err)
	}
	all[k] = raw
	return s.write(all)
}

// Remove deletes the record stored under key; it returns ErrNotFound when
// there is none.
func (s *FileStore) Remove(ctx context.Context, key string) error {
	k, err := Key(key)
	if err != nil {
		return err
	}
	all, err := s.read()
	if err != nil {
		return err
	}
	if _, ok := all[k]; !ok {
		return ErrNotFound
	}
	delete(all, k)
	return s.write(all)
}

// List returns the live records, sorted by key.
func (s *FileStore) List(ctx context.Context) ([]Entry, error) {
	all, err := s.read()
	if err != nil {
		return nil, err
	}
	var out []Entry
	for k, raw := range all {
		if rec, ok := s.decode(raw); ok {
			out = append(out, Entry{Key: k, Backend: "file", Record: *rec})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// decode turns one raw entry into a live record; entries that cannot be
// decoded or have expired count as absent.
func (s *FileStore) decode(raw json.RawMessage) (*Record, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var e fileEntry
	if err := json.Unmarshal(raw, &e); err != nil || e.Token == nil || !e.Token.Live(s.now()) {
		return nil, false
	}
	sec := int64(e.StoredAt)
	return &Record{
		Token:    *e.Token,
		Server:   e.Server,
		StoredAt: time.Unix(sec, int64((e.StoredAt-float64(sec))*1e9)),
	}, true
}

// read loads the whole file. A missing or empty file is an empty store.
func (s *FileStore) read() (map[string]json.RawMessage, error) {
	b, err := os.ReadFile(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]json.RawMessage{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("keyring: read token store: %w", err)
	}
	all := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(b)) == 0 {
		return all, nil
	}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, &CorruptError{Place: s.Path, Err: err}
	}
	if all == nil { // the file held JSON null
		all = map[string]json.RawMessage{}
	}
	return all, nil
}

// write replaces the file atomically: a synced temporary file in the same
// directory is renamed over it, so readers see the old or the new content,
// never a mix.
func (s *FileStore) write(all map[string]json.RawMessage) error {
	b, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("keyring: encode token store: %w", err)
	}
	return writeFileAtomic(s.Path, append(b, '\n'))
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory (created 0700 when missing), synced before the rename.
func writeFileAtomic(path string, data []byte) error {
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
