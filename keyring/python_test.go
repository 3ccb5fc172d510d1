package keyring_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// pythonFile writes the reference client's token file as its json.dumps
// (indent=2) writes it, in a 0755 directory as it leaves it, holding the
// login of auth.example.org with access token access.
func pythonFile(t *testing.T, access string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "py-oidc-auth", "token-store.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	e := strconv.FormatInt(exp, 10)
	re := strconv.FormatInt(exp+3600, 10)
	content := `{
  "https://auth.example.org": {
    "token": {
      "access_token": "` + access + `",
      "token_type": "Bearer",
      "expires": ` + e + `,
      "refresh_token": "refresh-` + access + `",
      "refresh_expires": ` + re + `,
      "scope": "openid profile",
      "headers": {
        "Authorization": "Bearer ` + access + `"
      }
    },
    "stored_at": 1767225000.5
  }
}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAutoStoreUsesThePythonClientsLogin: a login only the reference
// client's file holds is found, refreshed back into that file in the v1
// format, listed as that file's, and removed from it by a logout.
func TestAutoStoreUsesThePythonClientsLogin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := autoStore(t, newFakeKeychain(), nil)
	pyPath := pythonFile(t, "py-at")
	s.Python = &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: pyPath, Now: s.File.Now}}

	rec, err := s.Get(ctx, "https://auth.example.org/api/app")
	if err != nil || rec.Token.AccessToken != "py-at" || rec.Token.RefreshToken != "refresh-py-at" {
		t.Fatalf("Get = %+v, %v; want the Python client's login", rec, err)
	}
	if _, err := s.Get(ctx, "other.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get of a server no store holds = %v, want ErrNotFound", err)
	}

	// A refresh goes back into the Python client's file, not the keychain.
	unlock, err := s.Lock(ctx, "auth.example.org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(keyring.LockPath(&s.Python.FileStore, "auth.example.org")); err != nil {
		t.Errorf("the Python client's file is not locked: %v", err)
	}
	// `oidc-auth HOST`, on the Python client's file, waits for this refresh.
	wctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	if _, err := (&keyring.FileStore{Path: pyPath}).Lock(wctx, "https://auth.example.org"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the Python client's file could be locked during a refresh: %v", err)
	}
	cancel()
	err = s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("refreshed"), Server: &keyring.Server{Host: "https://auth.example.org/api/app"}})
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Keychain.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the refresh went to the keychain too: %v", err)
	}
	if _, err := s.File.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("the refresh went to our file too: %v", err)
	}
	var v1 map[string]struct {
		Token    map[string]any `json:"token"`
		StoredAt float64        `json:"stored_at"`
	}
	b, err := os.ReadFile(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v1); err != nil {
		t.Fatalf("the Python client's file after the refresh: %v\n%s", err, b)
	}
	tok := v1["https://auth.example.org"].Token
	if tok["access_token"] != "refreshed" || tok["refresh_token"] != "refresh-refreshed" || tok["token_type"] != "Bearer" ||
		tok["expires"] != float64(exp) || tok["scope"] != "openid profile" || v1["https://auth.example.org"].StoredAt == 0 {
		t.Errorf("v1 entry after the refresh: %s", b)
	}
	if fi, err := os.Stat(pyPath); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("the Python client's file after the refresh: %v, %v; want mode 0600", fi.Mode(), err)
	}

	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Backend != keyring.BackendPython || list[0].Token.AccessToken != "refreshed" {
		t.Errorf("List = %+v, %v; want the Python client's login", list, err)
	}

	if err := s.Remove(ctx, "auth.example.org"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get after Remove = %v, want ErrNotFound", err)
	}
}

// TestAutoStoreOwnLoginWins: where both hold a login, ours is used and
// saved, and the Python client's file is left as it was.
func TestAutoStoreOwnLoginWins(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := autoStore(t, newFakeKeychain(), nil)
	pyPath := pythonFile(t, "py-at")
	s.Python = &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: pyPath, Now: s.File.Now}}
	before, err := os.ReadFile(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("ours")}); err != nil {
		t.Fatal(err)
	}
	// That Put found the Python login but no own one: it went there.
	// A second login of ours, stored by the keychain directly, wins.
	if err := s.Keychain.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("keychain")}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pyPath, before, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "auth.example.org")
	if err != nil || rec.Token.AccessToken != "keychain" {
		t.Fatalf("Get = %+v, %v; want ours", rec, err)
	}
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("ours-again")}); err != nil {
		t.Fatal(err)
	}
	if after, err := os.ReadFile(pyPath); err != nil || string(after) != string(before) {
		t.Errorf("the Python client's file changed: %v\n%s", err, after)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Backend != "keychain" {
		t.Errorf("List = %+v, %v; want our login once", list, err)
	}
}

// TestAutoStoreIgnoresAnUnsafePythonFile: a Python client's file that
// others may write is not used, and does not break our own store.
func TestAutoStoreIgnoresAnUnsafePythonFile(t *testing.T) {
	testfs.RequireUnixPermissions(t)
	t.Parallel()
	ctx := context.Background()
	s := autoStore(t, newFakeKeychain(), nil)
	pyPath := pythonFile(t, "py-at")
	if err := os.Chmod(pyPath, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Python = &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: pyPath, Now: s.File.Now}}
	if _, err := s.Get(ctx, "auth.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Get through an unsafe Python file = %v, want ErrNotFound", err)
	}
	if list, err := s.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("List = %+v, %v; want nothing", list, err)
	}
	unlock, err := s.Lock(ctx, "auth.example.org")
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	unlock()
	if err := s.Put(ctx, "auth.example.org", &keyring.Record{Token: sampleToken("ours")}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	if rec, err := s.Get(ctx, "auth.example.org"); err != nil || rec.Token.AccessToken != "ours" {
		t.Errorf("Get = %+v, %v", rec, err)
	}
}

// TestOpenReadsThePythonClientsFile: the default store looks in
// $XDG_CACHE_HOME/py-oidc-auth/token-store.json; a token file chosen by
// path or environment does not.
func TestOpenReadsThePythonClientsFile(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	t.Setenv(keyring.TokenFileEnv, "")
	t.Setenv(keyring.StoreEnv, "")
	s, err := keyring.Open(keyring.Options{Keychain: newFakeKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	as, ok := s.(*keyring.AutoStore)
	if !ok || as.Python == nil || as.Python.Path != filepath.Join(cache, "py-oidc-auth", "token-store.json") {
		t.Fatalf("Open = %T %+v; want an AutoStore reading the Python client's file", s, s)
	}
	// The Python client's own app name is that file already.
	s, err = keyring.Open(keyring.Options{AppName: keyring.PythonAppName, Keychain: newFakeKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if as := s.(*keyring.AutoStore); as.Python != nil {
		t.Errorf("Open(py-oidc-auth) reads %s beside itself", as.Python.Path)
	}
}

// pyEntryText is one server's entry as json.dumps(data, indent=2) writes
// it, at the file's top level.
func pyEntryText(host, access, scope, auth string, storedAt string) string {
	return `  "` + host + `": {
    "token": {
      "access_token": "` + access + `",
      "token_type": "Bearer",
      "expires": ` + strconv.FormatInt(exp, 10) + `,
      "refresh_token": "refresh-` + access + `",
      "refresh_expires": ` + strconv.FormatInt(exp+3600, 10) + `,
      "scope": "` + scope + `",
      "headers": {
        "Authorization": "` + auth + `"
      }
    },
    "stored_at": ` + storedAt + `
  }`
}

// TestPythonFileStoreWritesAsPythonDoes compares the file byte for byte
// with what the reference client's json.dumps(data, indent=2) writes for
// the same content: the servers in the file's order, a new one last,
// non-ASCII characters escaped, "<&>" as they are, stored_at a Python
// float, no newline at the end; and {} after a clear.
func TestPythonFileStoreWritesAsPythonDoes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "py-oidc-auth", "token-store.json")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	s := &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: path, Now: func() time.Time { return storeNow }}}
	b := pyEntryText("https://b.example.org", "at-b", `openid caf\u00e9 \ud83d\ude00`, "Bearer <b&c>", "1767225000.5")
	a := pyEntryText("https://a.example.org", "at-a", "openid profile", "Bearer at-a", "1767225001.123456")
	if err := os.WriteFile(path, []byte("{\n"+b+",\n"+a+"\n}"), 0o600); err != nil {
		t.Fatal(err)
	}
	check := func(what, want string) {
		t.Helper()
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s: the file is\n%s\nwant, as the Python client writes it,\n%s", what, got, want)
		}
	}

	// A refresh of b keeps its place; what it holds is escaped as Python does.
	tok := sampleToken("at-b")
	tok.Scope = "openid café 😀"
	tok.Headers = map[string]string{"Authorization": "Bearer <b&c>"}
	if err := s.Put(ctx, "https://b.example.org", &keyring.Record{Token: tok, StoredAt: time.Unix(1767225002, 0)}); err != nil {
		t.Fatal(err)
	}
	b2 := pyEntryText("https://b.example.org", "at-b", `openid caf\u00e9 \ud83d\ude00`, "Bearer <b&c>", "1767225002.0")
	check("after a refresh", "{\n"+b2+",\n"+a+"\n}")

	// A new server goes last.
	if err := s.Put(ctx, "c.example.org", &keyring.Record{Token: sampleToken("at-c"), StoredAt: time.Unix(1767225003, 250_000_000)}); err != nil {
		t.Fatal(err)
	}
	c := pyEntryText("https://c.example.org", "at-c", "openid profile", "Bearer at-c", "1767225003.25")
	check("after a new login", "{\n"+b2+",\n"+a+",\n"+c+"\n}")

	if err := s.Remove(ctx, "https://b.example.org"); err != nil {
		t.Fatal(err)
	}
	check("after a remove", "{\n"+a+",\n"+c+"\n}")
	if err := s.Remove(ctx, "https://b.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("Remove of nothing = %v, want ErrNotFound", err)
	}
	if rec, err := s.Get(ctx, "a.example.org"); err != nil || rec.Token.AccessToken != "at-a" {
		t.Errorf("Get after the writes = %+v, %v", rec, err)
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("mode %v, %v; want 0600", fi.Mode(), err)
	}

	if err := s.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a clear", "{}")
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("at-a"), StoredAt: time.Unix(1767225001, 123456000)}); err != nil {
		t.Fatal(err)
	}
	check("a login into {}", "{\n"+a+"\n}")
}

// TestPythonFileStoreRefusesWhatFileStoreRefuses: a file that is not JSON
// is reported and left alone, and a file others may read is refused.
func TestPythonFileStoreRefusesWhatFileStoreRefuses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "token-store.json")
	s := &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: path}}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var ce *keyring.CorruptError
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("x")}); !errors.As(err, &ce) {
		t.Errorf("Put into a broken file = %v, want a CorruptError", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Errorf("the broken file was changed: %q", b)
	}
	if runtime.GOOS == "windows" {
		return
	}
	if err := os.WriteFile(path, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	var ue *keyring.UnsafeError
	if err := s.Put(ctx, "a.example.org", &keyring.Record{Token: sampleToken("x")}); !errors.As(err, &ue) {
		t.Errorf("Put into a file others may read = %v, want an UnsafeError", err)
	}
}

// TestAutoStoreReadsAnUnchangedPythonFileOnce: a server that the reference
// client's file holds no login of is not looked up there again while the
// file is unchanged (same size, time and file), and is as soon as it
// changes.
func TestAutoStoreReadsAnUnchangedPythonFileOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := autoStore(t, newFakeKeychain(), nil)
	pyPath := pythonFile(t, "py-at")
	s.Python = &keyring.PythonFileStore{FileStore: keyring.FileStore{Path: pyPath, Now: s.File.Now}}
	if _, err := s.Get(ctx, "othr.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get of a server no store holds = %v, want ErrNotFound", err)
	}
	b, err := os.ReadFile(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(pyPath)
	if err != nil {
		t.Fatal(err)
	}
	// The same bytes under the other server's name, written in place, and
	// the time put back: the file looks unchanged, so it is not read.
	same := []byte(strings.Replace(string(b), "https://auth.example.org", "https://othr.example.org", 1))
	if len(same) != len(b) {
		t.Fatalf("the test's rewrite changed the size: %d, want %d", len(same), len(b))
	}
	f, err := os.OpenFile(pyPath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(same, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(pyPath, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "othr.example.org"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("Get from an unchanged-looking file = %v, want ErrNotFound without a read", err)
	}
	// A new time: the file is read, and the login found.
	if err := os.Chtimes(pyPath, fi.ModTime().Add(time.Second), fi.ModTime().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Get(ctx, "othr.example.org")
	if err != nil || rec.Token.AccessToken != "py-at" {
		t.Fatalf("Get after the file changed = %+v, %v; want its login", rec, err)
	}
}
