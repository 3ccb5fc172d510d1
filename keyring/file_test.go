package keyring_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// storeNow is the fixed clock of the file store tests: 1767222000.5, an hour
// and a half-second before exp.
var storeNow = time.Unix(exp-3600, 500_000_000)

func newFileStore(path string) *keyring.FileStore {
	return &keyring.FileStore{Path: path, Now: func() time.Time { return storeNow }}
}

func sampleToken(access string) keyring.Token {
	return keyring.Token{
		AccessToken:    access,
		TokenType:      "Bearer",
		Expires:        exp,
		RefreshToken:   "refresh-" + access,
		RefreshExpires: exp + 3600,
		Scope:          "openid profile",
		Headers:        map[string]string{"Authorization": "Bearer " + access},
	}
}

// decodeJSON decodes b generically, numbers kept as written.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if d.More() {
		t.Fatalf("trailing data after JSON value in %s", b)
	}
	return v
}

// decodeFile decodes the store file at path as a JSON object.
func decodeFile(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := decodeJSON(t, b).(map[string]any)
	if !ok {
		t.Fatalf("%s is not a JSON object: %s", path, b)
	}
	return m
}

func keysOf(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dirNames lists the names in dir, leaving out the store's lock directory
// (a hidden ".<name>.locks" directory beside the file).
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		if e.IsDir() && strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".locks") {
			continue
		}
		names = append(names, e.Name())
	}
	return names
}

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := newFileStore(path)

	if _, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get on a missing file: err = %v, want ErrNotFound", err)
	}
	if got, err := s.List(ctx); err != nil || len(got) != 0 {
		t.Fatalf("List on a missing file = %v, %v; want nothing", got, err)
	}

	server := &keyring.Server{Host: "https://auth.example.org/api/app", TokenRoute: "/tok", RedirectPorts: []int{53100, 53101}}
	if err := s.Put(ctx, "HTTPS://Auth.Example.org:443/api/app", &keyring.Record{Token: sampleToken("a"), Server: server}); err != nil {
		t.Fatalf("Put a: %v", err)
	}
	explicit := time.Unix(1767000000, 250_000_000)
	if err := s.Put(ctx, "http://localhost:8080", &keyring.Record{Token: sampleToken("b"), StoredAt: explicit}); err != nil {
		t.Fatalf("Put b: %v", err)
	}

	got, err := s.Get(ctx, "https://auth.example.org/other/path")
	if err != nil {
		t.Fatalf("Get a: %v", err)
	}
	want := &keyring.Record{Token: sampleToken("a"), Server: server, StoredAt: storeNow}
	if !reflect.DeepEqual(got.Token, want.Token) || !reflect.DeepEqual(got.Server, want.Server) || !got.StoredAt.Equal(want.StoredAt) {
		t.Errorf("Get a = %+v (server %+v)\nwant %+v (server %+v)", got, got.Server, want, want.Server)
	}

	list, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(list) != 2 {
		t.Fatalf("List returned %d entries, want 2: %+v", len(list), list)
	}
	// Sorted by key: "http://…" < "https://…".
	wantList := []struct {
		key      string
		token    keyring.Token
		server   *keyring.Server
		storedAt time.Time
	}{
		{"http://localhost:8080", sampleToken("b"), nil, explicit},
		{"https://auth.example.org", sampleToken("a"), server, storeNow},
	}
	for i, w := range wantList {
		e := list[i]
		if e.Key != w.key || e.Backend != "file" || !reflect.DeepEqual(e.Token, w.token) ||
			!reflect.DeepEqual(e.Server, w.server) || !e.StoredAt.Equal(w.storedAt) {
			t.Errorf("List[%d] = %+v, want key %q backend file token %+v server %+v stored %v",
				i, e, w.key, w.token, w.server, w.storedAt)
		}
	}

	// Put replaces the record of the same key.
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a2")}); err != nil {
		t.Fatalf("Put a2: %v", err)
	}
	got, err = s.Get(ctx, "auth.example.org")
	if err != nil || got.Token.AccessToken != "a2" || got.Server != nil {
		t.Fatalf("Get after replacing = %+v, %v; want token a2 without server", got, err)
	}

	if err := s.Remove(ctx, "HTTPS://AUTH.EXAMPLE.ORG/x"); err != nil {
		t.Fatalf("Remove a: %v", err)
	}
	if _, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get after Remove: err = %v, want ErrNotFound", err)
	}
	if err := s.Remove(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("second Remove: err = %v, want ErrNotFound", err)
	}
	list, err = s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Key != "http://localhost:8080" {
		t.Errorf("List after Remove = %+v, %v; want only http://localhost:8080", list, err)
	}
	if ks := keysOf(decodeFile(t, path)); !reflect.DeepEqual(ks, []string{"http://localhost:8080"}) {
		t.Errorf("file keys after Remove = %q", ks)
	}
}

func TestFileStoreStoredAtMicroseconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	now := time.Unix(1767222000, 123_456_789)
	s := &keyring.FileStore{Path: path, Now: func() time.Time { return now }}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
		t.Fatal(err)
	}
	entry := decodeFile(t, path)["https://auth.example.org"].(map[string]any)
	if got := entry["stored_at"]; got != json.Number("1767222000.123456") {
		t.Errorf("stored_at = %v, want 1767222000.123456", got)
	}
	rec, err := s.Get(ctx, "auth.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if d := rec.StoredAt.Sub(now.Truncate(time.Microsecond)); d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("StoredAt = %v, want %v within 1µs", rec.StoredAt, now.Truncate(time.Microsecond))
	}
}

func TestFileStoreFormat(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := newFileStore(path)
	if err := s.Put(ctx, "Auth.Example.org/api", &keyring.Record{Token: sampleToken("at-1")}); err != nil {
		t.Fatal(err)
	}
	got := decodeFile(t, path)
	want := map[string]any{
		"https://auth.example.org": map[string]any{
			"token": map[string]any{
				"access_token":    "at-1",
				"token_type":      "Bearer",
				"expires":         json.Number("1767225600"),
				"refresh_token":   "refresh-at-1",
				"refresh_expires": json.Number("1767229200"),
				"scope":           "openid profile",
				"headers":         map[string]any{"Authorization": "Bearer at-1"},
			},
			"stored_at": json.Number("1767222000.5"),
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file content\n got %#v\nwant %#v", got, want)
	}

	// A record with server settings adds this client's "server" field and
	// nothing else.
	server := &keyring.Server{Host: "https://auth.example.org/api", LoginRoute: "/login", RedirectPorts: []int{53100}}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: keyring.Token{AccessToken: "at-2", Expires: exp}, Server: server}); err != nil {
		t.Fatal(err)
	}
	got = decodeFile(t, path)
	want = map[string]any{
		"https://auth.example.org": map[string]any{
			"token":     map[string]any{"access_token": "at-2", "expires": json.Number("1767225600")},
			"stored_at": json.Number("1767222000.5"),
			"server": map[string]any{
				"host":           "https://auth.example.org/api",
				"login_route":    "/login",
				"redirect_ports": []any{json.Number("53100")},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("file content with server\n got %#v\nwant %#v", got, want)
	}
}

// referenceFile is a store as py-oidc-auth-client writes it, plus an entry
// of a newer client with unknown fields, an entry that cannot be decoded and
// an expired one.
const referenceFile = `{"https://auth.example.org": {"token": {"access_token": "at-1", "token_type": "Bearer",
   "expires": 1767225600, "refresh_token": "rt-1", "refresh_expires": 1767229200,
   "scope": "openid profile", "headers": {"Authorization": "Bearer at-1"}}, "stored_at": 1767222000.5},
 "https://other.example.org:8443": {"token": {"access_token": "at-2", "expires": 1767229200.25,
   "id_token": "x.y.z", "future": [1, 2.50, {"deep": null}]}, "stored_at": 1767000000, "client": {"version": 2}},
 "https://broken.example.org": {"token": "not an object", "stored_at": "yesterday"},
 "https://old.example.org": {"token": {"access_token": "at-3", "expires": 1767222000,
   "refresh_token": "rt-3", "refresh_expires": 1767222030}, "stored_at": 1767000000},
 "http://weird.example.org": [1, "two", {"3": true}]
}
`

func TestFileStoreReferenceFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	if err := os.WriteFile(path, []byte(referenceFile), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newFileStore(path)

	got, err := s.Get(ctx, "https://auth.example.org/api/app")
	if err != nil {
		t.Fatalf("Get auth: %v", err)
	}
	wantTok := keyring.Token{
		AccessToken: "at-1", TokenType: "Bearer", Expires: 1767225600, RefreshToken: "rt-1",
		RefreshExpires: 1767229200, Scope: "openid profile", Headers: map[string]string{"Authorization": "Bearer at-1"},
	}
	if !reflect.DeepEqual(got.Token, wantTok) || got.Server != nil || !got.StoredAt.Equal(time.Unix(1767222000, 500_000_000)) {
		t.Errorf("Get auth = %+v, want token %+v, no server, stored 1767222000.5", got, wantTok)
	}

	got, err = s.Get(ctx, "other.example.org:8443")
	if err != nil {
		t.Fatalf("Get other: %v", err)
	}
	if want := (keyring.Token{AccessToken: "at-2", Expires: 1767229200, IDToken: "x.y.z"}); !reflect.DeepEqual(got.Token, want) || !got.StoredAt.Equal(time.Unix(1767000000, 0)) {
		t.Errorf("Get other = %+v, want token %+v stored 1767000000", got, want)
	}

	for _, key := range []string{"broken.example.org", "old.example.org", "http://weird.example.org", "never.example.org"} {
		if rec, err := s.Get(ctx, key); !errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Get %s = %+v, %v; want ErrNotFound", key, rec, err)
		}
	}

	list, err := s.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var keys []string
	for _, e := range list {
		keys = append(keys, e.Key)
	}
	if want := []string{"https://auth.example.org", "https://other.example.org:8443"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("List keys = %q, want %q", keys, want)
	}

	before := decodeFile(t, path)

	// A Put of a new key keeps every other entry as it was.
	if err := s.Put(ctx, "new.example.org", &keyring.Record{Token: sampleToken("at-new")}); err != nil {
		t.Fatalf("Put new: %v", err)
	}
	after := decodeFile(t, path)
	if _, ok := after["https://new.example.org"]; !ok {
		t.Errorf("Put new: no entry in %#v", after)
	}
	delete(after, "https://new.example.org")
	if !reflect.DeepEqual(after, before) {
		t.Errorf("Put new changed other entries\n got %#v\nwant %#v", after, before)
	}

	// So does a Put over an existing key.
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("at-1b")}); err != nil {
		t.Fatalf("Put auth: %v", err)
	}
	after = decodeFile(t, path)
	tok := after["https://auth.example.org"].(map[string]any)["token"].(map[string]any)
	if tok["access_token"] != "at-1b" {
		t.Errorf("Put auth: stored token %#v", tok)
	}
	for _, k := range []string{"https://other.example.org:8443", "https://broken.example.org", "https://old.example.org", "http://weird.example.org"} {
		if !reflect.DeepEqual(after[k], before[k]) {
			t.Errorf("Put auth changed %s\n got %#v\nwant %#v", k, after[k], before[k])
		}
	}

	// And a Remove.
	if err := s.Remove(ctx, "auth.example.org"); err != nil {
		t.Fatalf("Remove auth: %v", err)
	}
	after = decodeFile(t, path)
	delete(before, "https://auth.example.org")
	delete(after, "https://new.example.org")
	if !reflect.DeepEqual(after, before) {
		t.Errorf("Remove changed other entries\n got %#v\nwant %#v", after, before)
	}
}

func TestFileStoreModes(t *testing.T) {
	testfs.RequireUnixPermissions(t)
	t.Parallel()
	ctx := context.Background()
	root := t.TempDir()

	t.Run("new file and directories", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(root, "new", "cache", "oidc-auth", "token-store.json")
		if err := newFileStore(path).Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != 0o600 {
			t.Errorf("file mode = %v, want -rw-------", got)
		}
		for _, dir := range []string{"new", "new/cache", "new/cache/oidc-auth"} {
			fi, err := os.Stat(filepath.Join(root, dir))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode(); got != fs.ModeDir|0o700 {
				t.Errorf("mode of %s = %v, want drwx------", dir, got)
			}
		}
	})

	t.Run("existing world-readable file", func(t *testing.T) {
		t.Parallel()
		dir := filepath.Join(root, "existing")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "token-store.json")
		if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o644); err != nil { // regardless of umask
			t.Fatal(err)
		}
		// A file others can read is refused, not quietly tightened: its
		// token may have been read already.
		err := newFileStore(path).Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")})
		var ue *keyring.UnsafeError
		if !errors.As(err, &ue) || ue.Fix != "chmod 600 "+path {
			t.Fatalf("Put: %v, want an UnsafeError saying chmod 600 %s", err, path)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != 0o644 {
			t.Errorf("file mode = %v, want it left -rw-r--r--", got)
		}
		if got := readBytes(t, path); string(got) != "{}" {
			t.Errorf("the refused file changed to %s", got)
		}
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := newFileStore(path).Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
			t.Fatal(err)
		}
		// An existing directory that only its owner can write to is left
		// as it is.
		fi, err = os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode(); got != fs.ModeDir|0o755 {
			t.Errorf("directory mode = %v, want drwxr-xr-x", got)
		}
	})
}

func TestFileStoreExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// max(expires, refresh_expires) is exp+3600 for "both", exp for "access"
	// and "refresh-earlier".
	content := `{
 "https://both.example.org": {"token": {"access_token": "a", "expires": 1767225600, "refresh_token": "r", "refresh_expires": 1767229200}, "stored_at": 1},
 "https://access.example.org": {"token": {"access_token": "a", "expires": 1767225600}, "stored_at": 1},
 "https://refresh-earlier.example.org": {"token": {"access_token": "a", "expires": 1767225600, "refresh_token": "r", "refresh_expires": 1767222000}, "stored_at": 1}
}`
	tests := []struct {
		name string
		now  time.Time
		want []string
	}{
		{"all live", time.Unix(exp-31, 0), []string{"https://access.example.org", "https://both.example.org", "https://refresh-earlier.example.org"}},
		{"all live, 30.5 s before", time.Unix(exp-31, 500_000_000), []string{"https://access.example.org", "https://both.example.org", "https://refresh-earlier.example.org"}},
		{"access entries at the store margin", time.Unix(exp-30, 0), []string{"https://both.example.org"}},
		{"access expired, refresh live", time.Unix(exp+1800, 0), []string{"https://both.example.org"}},
		{"refresh 31 s left", time.Unix(exp+3600-31, 0), []string{"https://both.example.org"}},
		{"refresh at the store margin", time.Unix(exp+3600-30, 0), nil},
		{"refresh 1 ns inside the store margin", time.Unix(exp+3600-30, 1), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "token-store.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			now := tt.now
			s := &keyring.FileStore{Path: path, Now: func() time.Time { return now }}
			list, err := s.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.Key)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List keys = %q, want %q", got, tt.want)
			}
			for _, key := range []string{"https://both.example.org", "https://access.example.org", "https://refresh-earlier.example.org"} {
				live := false
				for _, w := range tt.want {
					live = live || w == key
				}
				rec, err := s.Get(ctx, key)
				switch {
				case live && err != nil:
					t.Errorf("Get %s: %v, want the record", key, err)
				case !live && !errors.Is(err, keyring.ErrNotFound):
					t.Errorf("Get %s = %+v, %v; want ErrNotFound", key, rec, err)
				}
			}
			// Reading never rewrites the file.
			if got := string(readBytes(t, path)); got != content {
				t.Errorf("file changed by Get/List:\n%s", got)
			}
		})
	}
}

func TestFileStoreRemoveAbsent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "sub", "token-store.json")
		if err := newFileStore(path).Remove(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
			t.Fatalf("Remove: err = %v, want ErrNotFound", err)
		}
		if names := dirNames(t, dir); len(names) != 0 {
			t.Errorf("Remove created %q", names)
		}
	})

	t.Run("other keys only", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "token-store.json")
		if err := os.WriteFile(path, []byte(referenceFile), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"absent.example.org", "http://auth.example.org", "https://auth.example.org:8443"} {
			if err := newFileStore(path).Remove(ctx, key); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("Remove %s: err = %v, want ErrNotFound", key, err)
			}
		}
		if got := string(readBytes(t, path)); got != referenceFile {
			t.Errorf("Remove of absent keys rewrote the file:\n%s", got)
		}
	})
}

func TestFileStoreCorrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	contents := []struct {
		name    string
		content string
	}{
		{"invalid JSON", `{"https://auth.example.org": {"token": `},
		{"JSON array", `[{"https://auth.example.org": {}}]`},
		{"JSON string", `"token"`},
		{"JSON number", `42`},
		{"trailing garbage", `{} x`},
		{"two objects", `{} {}`},
		{"binary", "\x00\x01\x02"},
	}
	ops := []struct {
		name string
		do   func(s *keyring.FileStore) error
	}{
		{"Get", func(s *keyring.FileStore) error { _, err := s.Get(ctx, "auth.example.org"); return err }},
		{"Put", func(s *keyring.FileStore) error {
			return s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")})
		}},
		{"Remove", func(s *keyring.FileStore) error { return s.Remove(ctx, "auth.example.org") }},
		{"List", func(s *keyring.FileStore) error { _, err := s.List(ctx); return err }},
	}
	for _, c := range contents {
		for _, op := range ops {
			t.Run(c.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "token-store.json")
				if err := os.WriteFile(path, []byte(c.content), 0o600); err != nil {
					t.Fatal(err)
				}
				err := op.do(newFileStore(path))
				var ce *keyring.CorruptError
				if !errors.As(err, &ce) {
					t.Fatalf("%s: err = %v (%T), want *CorruptError", op.name, err, err)
				}
				if ce.Place != path {
					t.Errorf("CorruptError.Place = %q, want %q", ce.Place, path)
				}
				if ce.Err == nil || errors.Unwrap(err) != ce.Err {
					t.Errorf("CorruptError does not wrap the decoding error: %#v", ce)
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "keyring: ") || !strings.Contains(msg, path) {
					t.Errorf("error %q does not name the file", msg)
				}
				if errors.Is(err, keyring.ErrNotFound) {
					t.Errorf("corrupt store reported as ErrNotFound")
				}
				if got := string(readBytes(t, path)); got != c.content {
					t.Errorf("%s changed the file to %q", op.name, got)
				}
				if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"token-store.json"}) {
					t.Errorf("directory holds %q", names)
				}
			})
		}
	}
}

func TestFileStoreEmptyFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, content := range []string{"", " ", "\n", " \t\r\n ", "null", " null\n", "{}"} {
		t.Run(strings.ReplaceAll(content, "\n", `\n`), func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "token-store.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			s := newFileStore(path)
			if rec, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("Get = %+v, %v; want ErrNotFound", rec, err)
			}
			if list, err := s.List(ctx); err != nil || len(list) != 0 {
				t.Errorf("List = %+v, %v; want nothing", list, err)
			}
			if err := s.Remove(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
				t.Errorf("Remove: err = %v, want ErrNotFound", err)
			}
			if got := string(readBytes(t, path)); got != content {
				t.Errorf("file changed to %q", got)
			}
			if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("a")}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			if ks := keysOf(decodeFile(t, path)); !reflect.DeepEqual(ks, []string{"https://auth.example.org"}) {
				t.Errorf("file keys after Put = %q", ks)
			}
			if rec, err := s.Get(ctx, "auth.example.org"); err != nil || rec.Token.AccessToken != "a" {
				t.Errorf("Get after Put = %+v, %v", rec, err)
			}
		})
	}
}

func TestFileStoreNoTemporaryFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	path := filepath.Join(dir, "token-store.json")
	s := newFileStore(path)
	for _, key := range []string{"one.example.org", "two.example.org", "one.example.org"} {
		if err := s.Put(ctx, key, &keyring.Record{Token: sampleToken(key)}); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
		if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"token-store.json"}) {
			t.Fatalf("after Put %s the directory holds %q", key, names)
		}
	}
	if err := s.Remove(ctx, "one.example.org"); err != nil {
		t.Fatal(err)
	}
	if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{"token-store.json"}) {
		t.Errorf("after Remove the directory holds %q", names)
	}
	if ks := keysOf(decodeFile(t, path)); !reflect.DeepEqual(ks, []string{"https://two.example.org"}) {
		t.Errorf("file keys = %q", ks)
	}
}

func TestFileStoreWriteFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &keyring.Record{Token: sampleToken("new")}
	old := []byte(`{"https://auth.example.org": {"token": {"access_token": "old", "expires": 1767225600}, "stored_at": 1}}`)

	t.Run("parent is a regular file", func(t *testing.T) {
		t.Parallel()
		parent := filepath.Join(t.TempDir(), "not-a-dir")
		if err := os.WriteFile(parent, old, 0o600); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(parent, "token-store.json")
		s := newFileStore(path)
		err := s.Put(ctx, "auth.example.org", rec)
		if err == nil {
			t.Fatal("Put succeeded")
		}
		var ce *keyring.CorruptError
		if errors.As(err, &ce) || errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Put: err = %v, want an I/O error", err)
		}
		if !strings.HasPrefix(err.Error(), "keyring: ") || !strings.Contains(err.Error(), parent) {
			t.Errorf("error %q does not name %s", err, parent)
		}
		if got := readBytes(t, parent); !bytes.Equal(got, old) {
			t.Errorf("the file in the way changed to %s", got)
		}
		if _, err := s.Get(ctx, "auth.example.org"); err == nil || errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Get: err = %v, want an I/O error", err)
		}
	})

	t.Run("path is a directory", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "token-store.json")
		if err := os.Mkdir(path, 0o700); err != nil {
			t.Fatal(err)
		}
		s := newFileStore(path)
		if err := s.Put(ctx, "auth.example.org", rec); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("Put: err = %v, want one naming %s", err, path)
		}
		if _, err := s.List(ctx); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("List: err = %v, want one naming %s", err, path)
		}
		if names := dirNames(t, path); len(names) != 0 {
			t.Errorf("the directory now holds %q", names)
		}
	})

	// The temporary file's name is longer than the file's; a name at the
	// limit makes only the temporary file fail, even for root.
	t.Run("temporary file cannot be created", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, strings.Repeat("t", 250))
		if err := os.WriteFile(path, old, 0o600); err != nil {
			t.Skipf("file system does not take a 250-byte name: %v", err)
		}
		if f, err := os.Create(filepath.Join(dir, "."+strings.Repeat("t", 250)+".1234567890.tmp")); err == nil {
			f.Close()
			t.Skip("file system takes names longer than 255 bytes")
		}
		fs := newFileStore(path)
		fs.LockDir = t.TempDir() // the default one beside the file has too long a name
		err := fs.Put(ctx, "auth.example.org", rec)
		if err == nil {
			t.Fatal("Put succeeded")
		}
		if !strings.HasPrefix(err.Error(), "keyring: ") || !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
		if got := readBytes(t, path); !bytes.Equal(got, old) {
			t.Errorf("old file changed to %s", got)
		}
		if names := dirNames(t, dir); !reflect.DeepEqual(names, []string{filepath.Base(path)}) {
			t.Errorf("directory holds %q", names)
		}
	})

	t.Run("read-only directory", func(t *testing.T) {
		t.Parallel()
		testfs.RequireUnixPermissions(t)
		dir := filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "token-store.json")
		if err := os.WriteFile(path, old, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o500); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o700) })
		if f, err := os.Create(filepath.Join(dir, "probe")); err == nil {
			f.Close()
			t.Skip("permissions are not enforced (running as root?)")
		}
		err := newFileStore(path).Put(ctx, "auth.example.org", rec)
		if err == nil {
			t.Fatal("Put succeeded")
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("error %q does not name %s", err, path)
		}
		if got := readBytes(t, path); !bytes.Equal(got, old) {
			t.Errorf("old file changed to %s", got)
		}
	})
}

func TestFileStoreBadKey(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	s := newFileStore(filepath.Join(dir, "token-store.json"))
	for _, key := range []string{"", "https://", "https://[::1"} {
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Get(%q): err = %v, want a key error", key, err)
		}
		if err := s.Put(ctx, key, &keyring.Record{Token: sampleToken("a")}); err == nil {
			t.Errorf("Put(%q) succeeded", key)
		}
		if err := s.Remove(ctx, key); err == nil || errors.Is(err, keyring.ErrNotFound) {
			t.Errorf("Remove(%q): err = %v, want a key error", key, err)
		}
	}
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("bad keys created %q", names)
	}
}

func TestFileStoreDefaultClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := &keyring.FileStore{Path: path}
	now := time.Now()
	tok := keyring.Token{AccessToken: "a", Expires: now.Add(time.Hour).Unix()}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: tok}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "auth.example.org")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if d := rec.StoredAt.Sub(now); d < -time.Second || d > time.Minute {
		t.Errorf("StoredAt = %v, want about %v", rec.StoredAt, now)
	}
	// An entry that is live only by the fixed test clock is gone by the real one.
	old := keyring.Token{AccessToken: "b", Expires: now.Add(-time.Hour).Unix()}
	if err := s.Put(ctx, "old.example.org", &keyring.Record{Token: old}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "old.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get of an expired entry: err = %v, want ErrNotFound", err)
	}
}

// FuzzFileStore feeds arbitrary file content to the store: a file is either
// reported corrupt by List and Put and left alone, or a Put keeps all its
// other entries.
func FuzzFileStore(f *testing.F) {
	for _, s := range []string{
		referenceFile, "", " \n", "null", "{}", "[]", `{"a": 1}`, `{"a": 1, "a": 2}`,
		`{"https://fuzz.example.org": {"token": {"access_token": "x", "expires": 1e300}}}`,
		`{"https://fuzz.example.org": null, "k": "<&>\u2028"}`, `{"x": "\xff"}`, "{",
	} {
		f.Add([]byte(s))
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, content []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "token-store.json")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		s := newFileStore(path)
		_, listErr := s.List(ctx)
		_, getErr := s.Get(ctx, "fuzz.example.org")
		rec := &keyring.Record{Token: sampleToken("fuzz")}
		putErr := s.Put(ctx, "fuzz.example.org", rec)

		var ce *keyring.CorruptError
		if listErr != nil {
			if !errors.As(listErr, &ce) {
				t.Fatalf("List: %v, want nil or *CorruptError", listErr)
			}
			if !errors.As(putErr, &ce) {
				t.Fatalf("List says corrupt but Put: %v", putErr)
			}
			// Get scans what it does not decode (see FileStore.Get): it
			// may miss a defect inside another entry's strings or numbers.
			if getErr != nil && !errors.As(getErr, &ce) && !errors.Is(getErr, keyring.ErrNotFound) {
				t.Fatalf("List says corrupt but Get: %v", getErr)
			}
			if got := readBytes(t, path); !bytes.Equal(got, content) {
				t.Fatalf("corrupt file changed from %q to %q", content, got)
			}
			return
		}
		if getErr != nil && !errors.Is(getErr, keyring.ErrNotFound) {
			t.Fatalf("Get: %v", getErr)
		}
		if putErr != nil {
			t.Fatalf("Put into a readable store: %v", putErr)
		}
		got, err := s.Get(ctx, "fuzz.example.org")
		if err != nil || !reflect.DeepEqual(got.Token, rec.Token) {
			t.Fatalf("Get after Put = %+v, %v", got, err)
		}
		after := decodeFile(t, path)
		delete(after, "https://fuzz.example.org")
		before := map[string]any{}
		if len(bytes.TrimSpace(content)) > 0 {
			if m, ok := decodeJSON(t, content).(map[string]any); ok {
				before = m
			}
		}
		delete(before, "https://fuzz.example.org")
		if !reflect.DeepEqual(after, before) {
			t.Fatalf("Put changed other entries\n got %#v\nwant %#v", after, before)
		}
	})
}

// TestWriteFileAtomicThroughSymlink keeps a symlinked file a symlink: its
// target gets the new content, as docker's own config writer does.
func TestWriteFileAtomicThroughSymlink(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles", "token-store.json")
	if err := os.MkdirAll(filepath.Dir(real), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(real, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "token-store.json")
	if err := os.Symlink(real, link); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := keyring.WriteFileAtomic(link, []byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the link was replaced by a file: %v", err)
	}
	if b := readBytes(t, real); string(b) != `{"a":1}` {
		t.Errorf("the link's target holds %q", b)
	}
}

// TestFileStoreLargeFile: in a file of many logins (large enough to be
// mapped, not read, where the system allows it), Get finds the one asked
// for, whether written plainly or with escapes in its key, and reports a
// syntax error anywhere in the file's structure as a *CorruptError.
func TestFileStoreLargeFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := newFileStore(path)
	if err := s.Put(ctx, "seed.example.org", &keyring.Record{Token: sampleToken("seed")}); err != nil {
		t.Fatal(err)
	}
	var seed map[string]json.RawMessage
	if err := json.Unmarshal(readBytes(t, path), &seed); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "  \"https://auth%03d.example.org\": %s,\n", i, seed["https://seed.example.org"])
	}
	fmt.Fprintf(&b, "  \"https:\\/\\/\\u0065scaped.example.org\": %s\n}", strings.Replace(string(seed["https://seed.example.org"]), `"seed"`, `"escaped"`, 1))
	content := b.String()
	if len(content) < 128<<10 {
		t.Fatalf("the test's file has %d bytes; want more than 128 KiB", len(content))
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	for key, access := range map[string]string{"auth250.example.org": "seed", "escaped.example.org": "escaped"} {
		rec, err := s.Get(ctx, key)
		if err != nil || rec.Token.AccessToken != access {
			t.Errorf("Get(%s) = %+v, %v; want access token %q", key, rec, err, access)
		}
	}
	if _, err := s.Get(ctx, "auth999.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get of a server the file does not hold = %v, want ErrNotFound", err)
	}
	broken := strings.Replace(content, "},\n  \"https://auth400", "}\n  \"https://auth400", 1)
	if broken == content {
		t.Fatal("the test did not break the file")
	}
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *keyring.CorruptError
	if _, err := s.Get(ctx, "auth001.example.org"); !errors.As(err, &ce) {
		t.Errorf("Get from a file missing a comma = %v, want *CorruptError", err)
	}
}
